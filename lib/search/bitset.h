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
