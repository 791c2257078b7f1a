/* The search's bitset kernels, one implementation per instruction set,
 * chosen at run time (kernels.c). Internal; not installed.
 *
 * Every kernel of every set returns the same numbers (population counts are
 * exact), so the choice changes speed only, never a result. */
#ifndef PRIME_KERNELS_H
#define PRIME_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* The kernel sets, in increasing order of what they need from the CPU. */
typedef enum {
    PRIME_KERNEL_PORTABLE = 0, /* plain C, any CPU */
    PRIME_KERNEL_POPCNT = 1,   /* x86-64 with POPCNT */
    PRIME_KERNEL_AVX2 = 2,     /* x86-64 with AVX2 and POPCNT */
    PRIME_KERNEL_AVX512 = 3,   /* x86-64 with AVX-512F and AVX512_VPOPCNTDQ */
    PRIME_KERNEL_COUNT = 4
} prime__kernel_id;

typedef struct {
    prime__kernel_id id;
    const char *name; /* "portable", "popcnt", "avx2", "avx512" */
    /* dst = a & b over `words` words; returns the number of bits of dst.
       dst may be a or b, else it must not overlap them. */
    uint64_t (*and_count)(uint64_t *dst, const uint64_t *a, const uint64_t *b, size_t words);
    /* the number of bits of a & b (nothing written) */
    uint64_t (*and_popcount)(const uint64_t *a, const uint64_t *b, size_t words);
    /* the number of bits of a */
    uint64_t (*count)(const uint64_t *a, size_t words);
    /* counts[i] = the number of bits of a & b[i] over `words` words, for
       each i < n (one call for the children of a node: a read once per
       word of a child, no call per child) */
    void (*and_popcount_many)(const uint64_t *a, const uint64_t *const *b, size_t n,
                              size_t words, uint64_t *counts);
    /* The children of a node whose images are the mask `node` over a
     * pivot's images (search.c, visit(); 0/1 outcomes, the wrong images
     * the bits of `wrong`): for every tag j whose bit is set in
     * allowed[0..words), m = node & lcol[j]; when m has at least
     * need_wrong bits of `wrong` and min_size bits in all, j survives:
     * j, the bits of m and its correct ones shifted left by `shift` go to
     * sv_j, sv_size and sv_sum (in increasing j), and bit j is set in
     * surv (the caller clears it). Returns the survivors; *tried: the
     * tags tried. */
    uint32_t (*mask_children)(uint64_t node, const uint64_t *lcol, const uint64_t *allowed,
                              size_t words, uint64_t wrong, uint64_t need_wrong,
                              uint64_t min_size, unsigned shift, uint64_t *surv,
                              uint32_t *sv_j, uint64_t *sv_size, uint64_t *sv_sum,
                              uint64_t *tried);
    /* The positions of the bits of a & b, ascending, to out; returns
     * their number. out has room for one more than that (written). */
    uint32_t (*and_ids)(const uint64_t *a, const uint64_t *b, size_t words, uint32_t *out);
    /* The bits of b at the positions ids[from..to) (to <= 64) as a mask:
     * bit i (from <= i < to) set when bit ids[i] of b is (search.c: the
     * images of a pivot in a child's column); *count gets the bits of the
     * mask. */
    uint64_t (*gather_mask)(const uint32_t *ids, uint32_t from, uint32_t to, const uint64_t *b,
                            uint32_t *count);
} prime__kernels;

/* The bits of x set, counted without a popcnt instruction (SWAR): for
 * code compiled for any x86-64 (a __builtin_popcountll there is a call). */
static inline uint64_t prime__popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (x * 0x0101010101010101ULL) >> 56;
}

/* The kernels the search uses: chosen once, at the first call (thread-safe),
 * from the CPU (cpuid, and the OS's saved vector state) and the environment
 * variable PRIME_KERNEL (docs/method.md, "Kernels"). */
PRIME_INTERNAL const prime__kernels *prime__kernels_get(void);

/* The kernel set with id `id` (id < PRIME_KERNEL_COUNT), whether or not the
 * CPU can run it; for tests and benchmarks that compare them. */
PRIME_INTERNAL const prime__kernels *prime__kernels_by_id(prime__kernel_id id);

/* Bit i set: the CPU (and OS) can run kernel set i. */
PRIME_INTERNAL unsigned prime__kernels_supported(void);

/* The id named `name` ("portable", "popcnt", "avx2", "avx512"; exact,
 * lower case), or -1. */
PRIME_INTERNAL int prime__kernels_parse(const char *name);

/* The selection rule, apart from the CPU: `request` is the value of
 * PRIME_KERNEL (NULL or "" or "auto" = none), `supported` the mask of
 * prime__kernels_supported. No request, or a name that is not a kernel set:
 * the best supported set. A supported request: that set. A request the CPU
 * cannot run: the best supported set below it (portable always is). */
PRIME_INTERNAL prime__kernel_id prime__kernels_select(const char *request, unsigned supported);

#endif /* PRIME_KERNELS_H */
