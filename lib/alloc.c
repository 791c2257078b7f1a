/* Every allocation of the library passes through these functions, so that
 * tests can make any one of them fail. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void *prime__malloc(size_t n)
{
    return malloc(n ? n : 1);
}

void *prime__calloc(size_t count, size_t size)
{
    if (count == 0 || size == 0)
        count = size = 1;
    return calloc(count, size);
}

void *prime__realloc(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

void prime__free(void *p)
{
    free(p);
}

bool prime__grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return false;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return false;
    void *q = prime__realloc(*p, ncap * elem);
    if (q == NULL)
        return false;
    *p = q;
    *cap = ncap;
    return true;
}

char *prime__strndup(const char *s, size_t n)
{
    char *d = prime__malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
