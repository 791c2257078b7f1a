/* Run-time choice of the search's bitset kernels (as CRoaring's
 * isadetection.c): one file holds every instruction-set variant, the CPU
 * check and the choice.
 *
 * The variants are plain functions compiled with a per-function target
 * attribute; none is called unless cpuid (and XGETBV, for the vector
 * registers the OS saves) says the CPU can run it. The choice is made once,
 * with pthread_once, on the first search: no ifunc resolver runs at load
 * time, so ThreadSanitizer and other sanitizers see ordinary code. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "search/kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define PRIME_X86_KERNELS 1
#include <cpuid.h>
#include <immintrin.h>
#endif

/* The children of a local node (kernels.h, mask_children), for a
 * function with target attribute ATTR whose popcount is POPCOUNT: one
 * word per child, so a scalar loop (vectors would not pay). */
#define MASK_CHILDREN(NAME, ATTR, POPCOUNT)                                                  \
    ATTR static uint32_t NAME(uint64_t node, const uint64_t *lcol, const uint64_t *allowed,  \
                              size_t words, uint64_t wrong, uint64_t need_wrong,             \
                              uint64_t min_size, unsigned shift, uint64_t *surv,             \
                              uint32_t *sv_j, uint64_t *sv_size, uint64_t *sv_sum,           \
                              uint64_t *tried)                                               \
    {                                                                                        \
        uint32_t n = 0;                                                                      \
        uint64_t t = 0;                                                                      \
        for (size_t aw = 0; aw < words; aw++) {                                              \
            for (uint64_t bits = allowed[aw]; bits != 0; bits &= bits - 1) {                  \
                uint32_t j = (uint32_t)(aw * 64) + (uint32_t)__builtin_ctzll(bits);          \
                uint64_t m = node & lcol[j];                                                 \
                uint64_t nw = POPCOUNT(m & wrong), size = POPCOUNT(m);                       \
                t++;                                                                         \
                if (nw < need_wrong || size < min_size)                                      \
                    continue;                                                                \
                surv[aw] |= bits & -bits;                                                    \
                sv_j[n] = j;                                                                 \
                sv_size[n] = size;                                                           \
                sv_sum[n] = (size - nw) << shift;                                            \
                n++;                                                                         \
            }                                                                                \
        }                                                                                    \
        *tried = t;                                                                          \
        return n;                                                                            \
    }

/* Append the positions of the bits of x (x != 0, c of them; word w) to
 * out + n: the first two written whatever c (out has room for one more),
 * so that most words (one or two bits in a sparse set) take no branch. */
#define EMIT_IDS(out, n, w, x, c)                                                        \
    do {                                                                                 \
        uint32_t base_ = (uint32_t)(w) * 64u;                                            \
        uint64_t y_ = (x) & ((x) - 1);                                                   \
        (out)[(n)] = base_ + (uint32_t)__builtin_ctzll(x);                               \
        (out)[(n) + 1] = base_ + (uint32_t)__builtin_ctzll(y_ | ((uint64_t)1 << 63));    \
        if ((c) > 2) {                                                                   \
            uint32_t at_ = (n) + 2;                                                      \
            for (y_ &= y_ - 1; y_ != 0; y_ &= y_ - 1)                                    \
                (out)[at_++] = base_ + (uint32_t)__builtin_ctzll(y_);                    \
        }                                                                                \
        (n) += (uint32_t)(c);                                                            \
    } while (0)

/* ---- portable --------------------------------------------------------- */

static uint32_t and_ids_portable(const uint64_t *a, const uint64_t *b, size_t words,
                                 uint32_t *out)
{
    uint32_t n = 0;
    for (size_t w = 0; w < words; w++)
        for (uint64_t x = a[w] & b[w]; x != 0; x &= x - 1)
            out[n++] = (uint32_t)(w * 64) + (uint32_t)__builtin_ctzll(x);
    return n;
}

MASK_CHILDREN(mask_children_portable, , prime__popcount64)

/* gather_mask: one bit probe a position; the bits counted as they come */
static uint64_t gather_mask_portable(const uint32_t *ids, uint32_t from, uint32_t to,
                                     const uint64_t *b, uint32_t *count)
{
    uint64_t m = 0;
    uint32_t n = 0;
    for (uint32_t i = from; i < to; i++) {
        uint64_t bit = (b[ids[i] / 64] >> (ids[i] % 64)) & 1u;
        m |= bit << i;
        n += (uint32_t)bit;
    }
    *count = n;
    return m;
}

static uint64_t and_count_portable(uint64_t *dst, const uint64_t *a, const uint64_t *b,
                                   size_t words)
{
    uint64_t n = 0;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = a[w] & b[w];
        dst[w] = x;
        n += prime__popcount64(x);
    }
    return n;
}

static uint64_t and_popcount_portable(const uint64_t *a, const uint64_t *b, size_t words)
{
    uint64_t n = 0;
    for (size_t w = 0; w < words; w++)
        n += prime__popcount64(a[w] & b[w]);
    return n;
}

/* and_popcount_many of a set: its and_popcount for each b[i] */
#define AND_POPCOUNT_MANY(name, one)                                                         \
    static void name(const uint64_t *a, const uint64_t *const *b, size_t n, size_t words,   \
                     uint64_t *counts)                                                       \
    {                                                                                        \
        for (size_t i = 0; i < n; i++)                                                       \
            counts[i] = one(a, b[i], words);                                                 \
    }

AND_POPCOUNT_MANY(and_popcount_many_portable, and_popcount_portable)

static uint64_t count_portable(const uint64_t *a, size_t words)
{
    uint64_t n = 0;
    for (size_t w = 0; w < words; w++)
        n += prime__popcount64(a[w]);
    return n;
}

#ifdef PRIME_X86_KERNELS

/* ---- popcnt ----------------------------------------------------------- */

#define TARGET_POPCNT __attribute__((target("popcnt")))

#define POPCNT64(x) ((uint64_t)__builtin_popcountll(x))
MASK_CHILDREN(mask_children_popcnt, TARGET_POPCNT, POPCNT64)

TARGET_POPCNT
static uint64_t and_count_popcnt(uint64_t *dst, const uint64_t *a, const uint64_t *b,
                                 size_t words)
{
    uint64_t n = 0;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = a[w] & b[w];
        dst[w] = x;
        n += (uint64_t)__builtin_popcountll(x);
    }
    return n;
}

TARGET_POPCNT
static uint64_t and_popcount_popcnt(const uint64_t *a, const uint64_t *b, size_t words)
{
    uint64_t n = 0;
    for (size_t w = 0; w < words; w++)
        n += (uint64_t)__builtin_popcountll(a[w] & b[w]);
    return n;
}

TARGET_POPCNT
AND_POPCOUNT_MANY(and_popcount_many_popcnt, and_popcount_popcnt)

TARGET_POPCNT
static uint64_t count_popcnt(const uint64_t *a, size_t words)
{
    uint64_t n = 0;
    for (size_t w = 0; w < words; w++)
        n += (uint64_t)__builtin_popcountll(a[w]);
    return n;
}

TARGET_POPCNT
static uint32_t and_ids_popcnt(const uint64_t *a, const uint64_t *b, size_t words, uint32_t *out)
{
    uint32_t n = 0;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = a[w] & b[w];
        if (x != 0)
            EMIT_IDS(out, n, w, x, __builtin_popcountll(x));
    }
    return n;
}

/* ---- AVX2: nibble lookup with vpshufb (Mula, Kurz, Lemire 2018) --------- */

#define TARGET_AVX2 __attribute__((target("avx2,popcnt")))

/* four 64-bit counts of the bytes of v */
TARGET_AVX2
static inline __m256i popcount256(__m256i v)
{
    const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0,
                                            1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i lo = _mm256_and_si256(v, low);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
    __m256i c = _mm256_add_epi8(_mm256_shuffle_epi8(lookup, lo), _mm256_shuffle_epi8(lookup, hi));
    return _mm256_sad_epu8(c, _mm256_setzero_si256());
}

TARGET_AVX2
static inline uint64_t sum256(__m256i v)
{
    return (uint64_t)_mm256_extract_epi64(v, 0) + (uint64_t)_mm256_extract_epi64(v, 1) +
           (uint64_t)_mm256_extract_epi64(v, 2) + (uint64_t)_mm256_extract_epi64(v, 3);
}

TARGET_AVX2
static uint64_t and_count_avx2(uint64_t *dst, const uint64_t *a, const uint64_t *b, size_t words)
{
    __m256i acc = _mm256_setzero_si256();
    size_t w = 0;
    for (; w + 4 <= words; w += 4) {
        __m256i x = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + w)),
                                     _mm256_loadu_si256((const __m256i *)(b + w)));
        _mm256_storeu_si256((__m256i *)(dst + w), x);
        acc = _mm256_add_epi64(acc, popcount256(x));
    }
    uint64_t n = sum256(acc);
    for (; w < words; w++) {
        uint64_t x = a[w] & b[w];
        dst[w] = x;
        n += (uint64_t)__builtin_popcountll(x);
    }
    return n;
}

/* a carry-save adder over 256-bit vectors: h:l = a + b + c, bit by bit */
#define CSA256(h, l, a, b, c)                                                 \
    do {                                                                      \
        __m256i u_ = _mm256_xor_si256(a, b);                                  \
        h = _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(u_, c)); \
        l = _mm256_xor_si256(u_, c);                                          \
    } while (0)

/* the count of a & b by one nibble lookup per vector */
TARGET_AVX2
static inline uint64_t and_popcount_lookup_avx2(const uint64_t *a, const uint64_t *b,
                                                size_t words)
{
    __m256i acc = _mm256_setzero_si256();
    size_t w = 0;
    for (; w + 4 <= words; w += 4) {
        __m256i x = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + w)),
                                     _mm256_loadu_si256((const __m256i *)(b + w)));
        acc = _mm256_add_epi64(acc, popcount256(x));
    }
    uint64_t n = sum256(acc);
    for (; w < words; w++)
        n += (uint64_t)__builtin_popcountll(a[w] & b[w]);
    return n;
}

/* From 128 words on, eight vectors (32 words) a step are summed by
 * carry-save adders (Harley-Seal, as in Mula, Kurz and Lemire 2018): one
 * nibble lookup per step instead of eight, which pays for the long counts
 * of large classes; shorter runs and the rest take the lookup per vector
 * (and_popcount_lookup_avx2, the same code as before for them). */
TARGET_AVX2
static uint64_t and_popcount_avx2(const uint64_t *a, const uint64_t *b, size_t words)
{
    if (words < 128)
        return and_popcount_lookup_avx2(a, b, words);
    __m256i ones = _mm256_setzero_si256(), twos = ones, fours = ones, acc = ones;
    __m256i twos_a, twos_b, fours_a, fours_b, eights;
    size_t w = 0;
#define AND_AT(i)                                                             \
    _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + w + 4 * (i))),  \
                     _mm256_loadu_si256((const __m256i *)(b + w + 4 * (i))))
    for (; w + 32 <= words; w += 32) {
        CSA256(twos_a, ones, ones, AND_AT(0), AND_AT(1));
        CSA256(twos_b, ones, ones, AND_AT(2), AND_AT(3));
        CSA256(fours_a, twos, twos, twos_a, twos_b);
        CSA256(twos_a, ones, ones, AND_AT(4), AND_AT(5));
        CSA256(twos_b, ones, ones, AND_AT(6), AND_AT(7));
        CSA256(fours_b, twos, twos, twos_a, twos_b);
        CSA256(eights, fours, fours, fours_a, fours_b);
        acc = _mm256_add_epi64(acc, popcount256(eights));
    }
#undef AND_AT
    acc = _mm256_slli_epi64(acc, 3);
    acc = _mm256_add_epi64(acc, _mm256_slli_epi64(popcount256(fours), 2));
    acc = _mm256_add_epi64(acc, _mm256_slli_epi64(popcount256(twos), 1));
    acc = _mm256_add_epi64(acc, popcount256(ones));
    return sum256(acc) + and_popcount_lookup_avx2(a + w, b + w, words - w);
}

/* The byte counts of up to 31 vectors add up in one register (8 * 31 <
   256) before they are summed into words: one vpsadbw a child, not one a
   vector. From 128 words on, each child takes the carry-save count of
   and_popcount_avx2 instead (fewer lookups on the long runs of large
   classes; the same counts). */
TARGET_AVX2
static void and_popcount_many_avx2(const uint64_t *a, const uint64_t *const *b, size_t n,
                                   size_t words, uint64_t *counts)
{
    const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0,
                                            1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    size_t vec = words / 4;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *bi = b[i];
        if (words >= 128) {
            counts[i] = and_popcount_avx2(a, bi, words);
            continue;
        }
        __m256i acc = _mm256_setzero_si256();
        size_t w = 0;
        for (size_t done = 0; done < vec;) {
            size_t stop = done + 31 < vec ? done + 31 : vec;
            __m256i bytes = _mm256_setzero_si256();
            for (; done < stop; done++, w += 4) {
                __m256i x = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + w)),
                                             _mm256_loadu_si256((const __m256i *)(bi + w)));
                __m256i lo = _mm256_and_si256(x, low);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
                bytes = _mm256_add_epi8(bytes, _mm256_add_epi8(_mm256_shuffle_epi8(lookup, lo),
                                                               _mm256_shuffle_epi8(lookup, hi)));
            }
            acc = _mm256_add_epi64(acc, _mm256_sad_epu8(bytes, _mm256_setzero_si256()));
        }
        uint64_t c = sum256(acc);
        for (; w < words; w++)
            c += (uint64_t)__builtin_popcountll(a[w] & bi[w]);
        counts[i] = c;
    }
}

TARGET_AVX2
static uint64_t count_avx2(const uint64_t *a, size_t words)
{
    __m256i acc = _mm256_setzero_si256();
    size_t w = 0;
    for (; w + 4 <= words; w += 4)
        acc = _mm256_add_epi64(acc, popcount256(_mm256_loadu_si256((const __m256i *)(a + w))));
    uint64_t n = sum256(acc);
    for (; w < words; w++)
        n += (uint64_t)__builtin_popcountll(a[w]);
    return n;
}

/* four words a step: only the non-zero ones are looked at */
TARGET_AVX2
static uint32_t and_ids_avx2(const uint64_t *a, const uint64_t *b, size_t words, uint32_t *out)
{
    uint32_t n = 0;
    size_t w = 0;
    for (; w + 4 <= words; w += 4) {
        __m256i x = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(a + w)),
                                     _mm256_loadu_si256((const __m256i *)(b + w)));
        unsigned zero = (unsigned)_mm256_movemask_pd(
            _mm256_castsi256_pd(_mm256_cmpeq_epi64(x, _mm256_setzero_si256())));
        for (unsigned nz = ~zero & 0xfu; nz != 0; nz &= nz - 1) {
            size_t at = w + (size_t)__builtin_ctz(nz);
            uint64_t v = a[at] & b[at];
            EMIT_IDS(out, n, at, v, __builtin_popcountll(v));
        }
    }
    for (; w < words; w++) {
        uint64_t x = a[w] & b[w];
        if (x != 0)
            EMIT_IDS(out, n, w, x, __builtin_popcountll(x));
    }
    return n;
}

/* gather_mask: four positions a step, their words gathered and each bit
 * shifted to the sign, whose four signs are the mask's next four bits */
TARGET_AVX2
static uint64_t gather_mask_avx2(const uint32_t *ids, uint32_t from, uint32_t to,
                                 const uint64_t *b, uint32_t *count)
{
    const __m256i low6 = _mm256_set1_epi64x(63);
    uint64_t m = 0;
    uint32_t i = from;
    for (; i + 4 <= to; i += 4) {
        __m256i p = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(ids + i)));
        __m256i x = _mm256_i64gather_epi64((const long long *)b, _mm256_srli_epi64(p, 6), 8);
        /* bit p % 64 to bit 63: a shift left by 63 - p % 64 = ~p & 63 */
        x = _mm256_sllv_epi64(x, _mm256_andnot_si256(p, low6));
        m |= (uint64_t)(unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(x)) << i;
    }
    for (; i < to; i++)
        m |= ((b[ids[i] / 64] >> (ids[i] % 64)) & 1u) << i;
    *count = (uint32_t)__builtin_popcountll(m);
    return m;
}

/* ---- AVX-512 with VPOPCNTDQ: eight words a step, the tail masked -------- */

#define TARGET_AVX512 __attribute__((target("avx512f,avx512vpopcntdq,popcnt")))

TARGET_AVX512
static uint64_t and_count_avx512(uint64_t *dst, const uint64_t *a, const uint64_t *b,
                                 size_t words)
{
    __m512i acc = _mm512_setzero_si512();
    size_t w = 0;
    for (; w + 8 <= words; w += 8) {
        __m512i x = _mm512_and_si512(_mm512_loadu_si512((const void *)(a + w)),
                                     _mm512_loadu_si512((const void *)(b + w)));
        _mm512_storeu_si512((void *)(dst + w), x);
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
    }
    if (w < words) {
        __mmask8 m = (__mmask8)((1u << (words - w)) - 1u);
        __m512i x = _mm512_and_si512(_mm512_maskz_loadu_epi64(m, a + w),
                                     _mm512_maskz_loadu_epi64(m, b + w));
        _mm512_mask_storeu_epi64(dst + w, m, x);
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
    }
    return (uint64_t)_mm512_reduce_add_epi64(acc);
}

TARGET_AVX512
static uint64_t and_popcount_avx512(const uint64_t *a, const uint64_t *b, size_t words)
{
    __m512i acc = _mm512_setzero_si512();
    size_t w = 0;
    for (; w + 8 <= words; w += 8) {
        __m512i x = _mm512_and_si512(_mm512_loadu_si512((const void *)(a + w)),
                                     _mm512_loadu_si512((const void *)(b + w)));
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
    }
    if (w < words) {
        __mmask8 m = (__mmask8)((1u << (words - w)) - 1u);
        __m512i x = _mm512_and_si512(_mm512_maskz_loadu_epi64(m, a + w),
                                     _mm512_maskz_loadu_epi64(m, b + w));
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
    }
    return (uint64_t)_mm512_reduce_add_epi64(acc);
}

TARGET_AVX512
AND_POPCOUNT_MANY(and_popcount_many_avx512, and_popcount_avx512)

TARGET_AVX512
static uint64_t count_avx512(const uint64_t *a, size_t words)
{
    __m512i acc = _mm512_setzero_si512();
    size_t w = 0;
    for (; w + 8 <= words; w += 8)
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_loadu_si512((const void *)(a + w))));
    if (w < words) {
        __mmask8 m = (__mmask8)((1u << (words - w)) - 1u);
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_maskz_loadu_epi64(m, a + w)));
    }
    return (uint64_t)_mm512_reduce_add_epi64(acc);
}

/* ---- what the CPU and the OS support ------------------------------------ */

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static unsigned detect(void)
{
    unsigned mask = 1u << PRIME_KERNEL_PORTABLE;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return mask;
    bool popcnt = (c & bit_POPCNT) != 0;
    bool osxsave = (c & bit_OSXSAVE) != 0;
    bool avx = (c & bit_AVX) != 0;
    if (popcnt)
        mask |= 1u << PRIME_KERNEL_POPCNT;
    if (!popcnt || !osxsave || !avx)
        return mask;
    uint64_t xcr0 = xgetbv0();
    bool ymm = (xcr0 & 0x6) == 0x6;     /* SSE and AVX state saved by the OS */
    bool zmm = (xcr0 & 0xe6) == 0xe6;   /* and opmask, ZMM0-15 high, ZMM16-31 */
    unsigned max = __get_cpuid_max(0, NULL);
    if (max < 7 || !ymm)
        return mask;
    __cpuid_count(7, 0, a, b, c, d);
    if (b & bit_AVX2)
        mask |= 1u << PRIME_KERNEL_AVX2;
    if (zmm && (b & bit_AVX512F) && (c & (1u << 14)) /* AVX512_VPOPCNTDQ */)
        mask |= 1u << PRIME_KERNEL_AVX512;
    return mask;
}

#else /* not x86-64 with GCC or clang: the portable kernels only */

static unsigned detect(void)
{
    return 1u << PRIME_KERNEL_PORTABLE;
}

#endif

/* ---- the table and the choice ---------------------------------------- */

static const prime__kernels kernel_sets[PRIME_KERNEL_COUNT] = {
    {PRIME_KERNEL_PORTABLE, "portable", and_count_portable, and_popcount_portable,
     count_portable, and_popcount_many_portable, mask_children_portable, and_ids_portable,
     gather_mask_portable},
#ifdef PRIME_X86_KERNELS
    /* mask_children: one word a child, the scalar popcnt loop serves the
       vector sets too */
    {PRIME_KERNEL_POPCNT, "popcnt", and_count_popcnt, and_popcount_popcnt, count_popcnt,
     and_popcount_many_popcnt, mask_children_popcnt, and_ids_popcnt, gather_mask_portable},
    {PRIME_KERNEL_AVX2, "avx2", and_count_avx2, and_popcount_avx2, count_avx2,
     and_popcount_many_avx2, mask_children_popcnt, and_ids_avx2, gather_mask_avx2},
    {PRIME_KERNEL_AVX512, "avx512", and_count_avx512, and_popcount_avx512, count_avx512,
     and_popcount_many_avx512, mask_children_popcnt, and_ids_avx2, gather_mask_avx2},
#else
    /* never chosen (not supported); the names stay known */
    {PRIME_KERNEL_POPCNT, "popcnt", and_count_portable, and_popcount_portable, count_portable,
     and_popcount_many_portable, mask_children_portable, and_ids_portable,
     gather_mask_portable},
    {PRIME_KERNEL_AVX2, "avx2", and_count_portable, and_popcount_portable, count_portable,
     and_popcount_many_portable, mask_children_portable, and_ids_portable,
     gather_mask_portable},
    {PRIME_KERNEL_AVX512, "avx512", and_count_portable, and_popcount_portable, count_portable,
     and_popcount_many_portable, mask_children_portable, and_ids_portable,
     gather_mask_portable},
#endif
};

int prime__kernels_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < PRIME_KERNEL_COUNT; i++)
        if (strcmp(name, kernel_sets[i].name) == 0)
            return i;
    return -1;
}

prime__kernel_id prime__kernels_select(const char *request, unsigned supported)
{
    supported |= 1u << PRIME_KERNEL_PORTABLE;
    int top = prime__kernels_parse(request);
    if (top < 0)
        top = PRIME_KERNEL_COUNT - 1; /* no request (or not a name): the best */
    for (int i = top; i > 0; i--)
        if (supported & (1u << i))
            return (prime__kernel_id)i;
    return PRIME_KERNEL_PORTABLE;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned supported_mask;
static const prime__kernels *chosen;

static void choose(void)
{
    supported_mask = detect();
    chosen = &kernel_sets[prime__kernels_select(getenv("PRIME_KERNEL"), supported_mask)];
}

const prime__kernels *prime__kernels_get(void)
{
    pthread_once(&once, choose);
    return chosen;
}

const prime__kernels *prime__kernels_by_id(prime__kernel_id id)
{
    return (unsigned)id < PRIME_KERNEL_COUNT ? &kernel_sets[id] : NULL;
}

unsigned prime__kernels_supported(void)
{
    pthread_once(&once, choose);
    return supported_mask;
}
