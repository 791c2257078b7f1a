/* Packed bitset kernels of the search: fused AND + population counts, so
 * that an intersection and its statistics come out of one pass over the
 * words. Internal; not installed. */
#ifndef PRIME_BITSET_H
#define PRIME_BITSET_H

#include <stddef.h>
#include <stdint.h>

#define PRIME_BITS_WORD 64

/* Number of 64-bit words that hold n bits. */
static inline size_t prime__bits_words(size_t n)
{
    return (n + PRIME_BITS_WORD - 1) / PRIME_BITS_WORD;
}

static inline void prime__bits_set(uint64_t *b, size_t i)
{
    b[i / PRIME_BITS_WORD] |= (uint64_t)1 << (i % PRIME_BITS_WORD);
}

static inline uint64_t prime__bits_count(const uint64_t *a, size_t words)
{
    uint64_t n = 0;
    for (size_t w = 0; w < words; w++)
        n += (uint64_t)__builtin_popcountll(a[w]);
    return n;
}

/* dst = a & b; returns |dst|. */
static inline uint64_t prime__bits_and_count(uint64_t *restrict dst, const uint64_t *a,
                                             const uint64_t *b, size_t words)
{
    uint64_t n = 0;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = a[w] & b[w];
        dst[w] = x;
        n += (uint64_t)__builtin_popcountll(x);
    }
    return n;
}

/* |a & b|. */
static inline uint64_t prime__bits_and_popcount(const uint64_t *a, const uint64_t *b,
                                                size_t words)
{
    uint64_t n = 0;
    for (size_t w = 0; w < words; w++)
        n += (uint64_t)__builtin_popcountll(a[w] & b[w]);
    return n;
}

/* dst = a & b; returns |dst| and writes |dst & mark| to *marked. */
static inline uint64_t prime__bits_and_count2(uint64_t *restrict dst, const uint64_t *a,
                                              const uint64_t *b, const uint64_t *mark,
                                              size_t words, uint64_t *marked)
{
    uint64_t n = 0, m = 0;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = a[w] & b[w];
        dst[w] = x;
        n += (uint64_t)__builtin_popcountll(x);
        m += (uint64_t)__builtin_popcountll(x & mark[w]);
    }
    *marked = m;
    return n;
}

/* Sum of vals[i] over the set bits i of a, in ascending order of i (the
 * order fixes the rounding, so every path to a set gives the same sum). */
static inline double prime__bits_sum(const uint64_t *a, size_t words, const double *vals)
{
    double s = 0.0;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = a[w];
        while (x != 0) {
            s += vals[w * PRIME_BITS_WORD + (size_t)__builtin_ctzll(x)];
            x &= x - 1;
        }
    }
    return s;
}

#endif /* PRIME_BITSET_H */
