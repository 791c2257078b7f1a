/* Every allocation of the library passes through these functions, so that
 * tests can make any one of them fail (prime__alloc_fail_after, declared in
 * internal.h; hidden, never exported). */
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "common/common.h"

/* Allocation-failure injection, for tests only. fail_at = 0: off. Otherwise
 * the allocation whose number (counted from 1 since the last call of
 * prime__alloc_fail_after) equals fail_at fails, and so does every later
 * one when fail_rest is set. Counting costs one relaxed atomic load per
 * allocation while injection is off. */
static long fail_at;
static int fail_rest;
static long alloc_count;
static long fail_count;

void prime__alloc_fail_after(long k)
{
    __atomic_store_n(&alloc_count, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fail_count, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fail_rest, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fail_at, k > 0 ? k : 0, __ATOMIC_SEQ_CST);
}

void prime__alloc_fail_from(long k)
{
    prime__alloc_fail_after(0);
    __atomic_store_n(&fail_rest, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fail_at, k > 0 ? k : 0, __ATOMIC_SEQ_CST);
}

long prime__alloc_count(void)
{
    return __atomic_load_n(&alloc_count, __ATOMIC_SEQ_CST);
}

long prime__alloc_failed_count(void)
{
    return __atomic_load_n(&fail_count, __ATOMIC_SEQ_CST);
}

static int live_on;
static long live_blocks;

void prime__alloc_live_count(bool on)
{
    __atomic_store_n(&live_blocks, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&live_on, on ? 1 : 0, __ATOMIC_SEQ_CST);
}

long prime__alloc_live(void)
{
    return __atomic_load_n(&live_blocks, __ATOMIC_SEQ_CST);
}

/* p, just allocated (d = 1) or about to be freed (d = -1), in the count. */
static void *live(void *p, long d)
{
    if (p != NULL && __atomic_load_n(&live_on, __ATOMIC_RELAXED))
        __atomic_add_fetch(&live_blocks, d, __ATOMIC_RELAXED);
    return p;
}

static bool inject_failure(void)
{
    long at = __atomic_load_n(&fail_at, __ATOMIC_RELAXED);
    if (at == 0)
        return false;
    long n = __atomic_add_fetch(&alloc_count, 1, __ATOMIC_SEQ_CST);
    if (n == at || (n > at && __atomic_load_n(&fail_rest, __ATOMIC_RELAXED))) {
        __atomic_add_fetch(&fail_count, 1, __ATOMIC_SEQ_CST);
        return true;
    }
    return false;
}

void *prime__malloc(size_t n)
{
    if (inject_failure())
        return NULL;
    return live(malloc(n ? n : 1), 1);
}

void *prime__calloc(size_t count, size_t size)
{
    if (inject_failure())
        return NULL;
    if (count == 0 || size == 0)
        count = size = 1;
    return live(calloc(count, size), 1);
}

void *prime__realloc(void *p, size_t n)
{
    if (inject_failure())
        return NULL;
    void *q = realloc(p, n ? n : 1);
    return p == NULL ? live(q, 1) : q;
}

void prime__free(void *p)
{
    free(live(p, -1));
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

void prime__huge_pages(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)1 << 21;
    if (p == NULL || n < 2 * huge)
        return;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(huge - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE); /* a hint only */
#else
    (void)p;
    (void)n;
#endif
}
