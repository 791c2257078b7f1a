/* Sorting ids: the one comparator of uint32_t for qsort, and sort-unique
 * (sorted ascending, repeats dropped), used wherever the library turns a
 * list of tag or image ids into a set. */
#include <stdlib.h>

#include "common/common.h"

int prime__cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int prime__cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void prime__sort_u32(uint32_t *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, prime__cmp_u32);
}

size_t prime__sort_unique_u32(uint32_t *v, size_t n)
{
    if (n < 2)
        return n;
    size_t k = 1;
    while (k < n && v[k - 1] < v[k])
        k++;
    if (k == n) /* already a set: one pass */
        return n;
    if (n <= 32) {
        /* short lists (the tags of one image): insertion sort from the
           first element out of order */
        for (; k < n; k++) {
            uint32_t x = v[k];
            size_t j = k;
            while (j > 0 && v[j - 1] > x) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
    } else {
        qsort(v, n, sizeof *v, prime__cmp_u32);
    }
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[m - 1])
            v[m++] = v[i];
    return m;
}
