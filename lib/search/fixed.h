/* Fixed-point outcome sums (docs/method.md, "Fixed-point outcome sums";
 * SCALE.md, Exactness 3), shared by the depth-first search (search.c) and
 * the sharded search (sharded.c) so that both derive every number and every
 * decision from the same integers with the same operations.
 *
 * An outcome v in [0, 1] is rounded once to q = round(v * 2^32) (an integer
 * 0..2^32; halves away from zero), and the outcomes of a set are summed as
 * the integers q in uint64_t: exact and independent of the order and of how
 * the images are split (a set of fewer than 2^32 images sums to less than
 * 2^64). A 0/1 outcome is 0 or 2^32 exactly, so with 0/1 outcomes every
 * number is what the sums of doubles gave before (whole numbers below
 * 2^53 are exact doubles). Internal; not installed. */
#ifndef PRIME_FIXED_H
#define PRIME_FIXED_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

/* The fixed-point unit: an outcome of 1 is PRIME_FX_ONE. */
#define PRIME_FX_SHIFT 32
#define PRIME_FX_ONE ((uint64_t)1 << PRIME_FX_SHIFT)

/* Slack of the error-bound pruning: far wider than any rounding of the
 * doubles derived from the sums, so that pruning never removes a set that
 * the literal test (with PRIME_EPS of slack) would accept. */
#define PRIME_PRUNE_SLACK 1e-6

/* The fixed-point value of an outcome v in [0, 1] (v * 2^32 is exact). */
static inline uint64_t prime__fx_from(double v)
{
    return (uint64_t)llround(v * 4294967296.0);
}

/* A fixed-point sum as a double (the sum of the rounded outcomes, rounded
 * to a double once). */
static inline double prime__fx_value(uint64_t q)
{
    return (double)q * 0x1p-32;
}

/* Mean outcome of a set of n >= 1 images whose fixed-point sum is q: the
 * accuracy A of docs/method.md, computed the way prime__result_build
 * computes a mode's accuracy from its `correct`. */
static inline double prime__fx_mean(uint64_t q, uint64_t n)
{
    return prime__fx_value(q) / (double)n;
}

/* The wrongness W = |S| - sum(S) of a set of n images (n < 2^32) with
 * fixed-point sum q, in fixed point (exact). */
static inline uint64_t prime__fx_wrong(uint64_t n, uint64_t q)
{
    return (n << PRIME_FX_SHIFT) - q;
}

/* The error bound: true when a set of wrongness wrong_q (fixed point) has
 * a subset of at least min_size images that could still reach min_drop
 * below the class accuracy acc (every such subset has accuracy at least
 * max(0, 1 - W / min_size)). Monotone in wrong_q. */
static inline bool prime__fx_can_reach(double acc, uint64_t wrong_q, uint64_t min_size,
                                       double min_drop)
{
    double bound = 1.0 - prime__fx_value(wrong_q) / (double)min_size;
    if (bound < 0.0)
        bound = 0.0;
    return acc - bound >= min_drop - PRIME_PRUNE_SLACK;
}

/* The fewest wrong images W (0/1 outcomes: W = size - sum) that a set of a
 * class of n images needs so that it or one of its subsets of at least
 * min_size images can still reach min_drop below the class accuracy acc
 * (prime__fx_can_reach, monotone in W); n + 1 where none can. Shared by
 * search.c and sharded.c, which must decide on the same numbers. */
static inline uint64_t prime__fx_need_wrong(double acc, uint64_t n, uint64_t min_size,
                                            double min_drop)
{
    uint64_t lo = 0, hi = n + 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (prime__fx_can_reach(acc, mid << PRIME_FX_SHIFT, min_size, min_drop))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

#endif /* PRIME_FIXED_H */
