/* Packed bitsets of the search: layout helpers and the sum of fixed-point
 * outcomes (search/fixed.h). The population-count kernels (fused AND + count, one
 * variant per instruction set) are in kernels.c. Internal; not installed. */
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

/* Bit i of b: 0 or 1. */
static inline uint64_t prime__bits_get(const uint64_t *b, size_t i)
{
    return (b[i / PRIME_BITS_WORD] >> (i % PRIME_BITS_WORD)) & 1u;
}

/* The positions of the set bits of a[0..words), ascending, into out;
 * returns their number. */
static inline uint32_t prime__bits_ids(const uint64_t *a, size_t words, uint32_t *out)
{
    uint32_t n = 0;
    for (size_t w = 0; w < words; w++)
        for (uint64_t x = a[w]; x != 0; x &= x - 1)
            out[n++] = (uint32_t)(w * PRIME_BITS_WORD) + (uint32_t)__builtin_ctzll(x);
    return n;
}

/* Sum of vals[i] (fixed-point outcomes) over the set bits i of a. */
static inline uint64_t prime__bits_sum(const uint64_t *a, size_t words, const uint64_t *vals)
{
    uint64_t s = 0;
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
