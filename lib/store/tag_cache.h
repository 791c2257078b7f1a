/* A reader-local cache of tag ids keyed by the bytes of short tags, the
 * '|' splitter and the branch-free sort of short id lists: the fast paths
 * the tags CSV reader (read_csv.c) and the packed bulk builder (bulk.c)
 * share. Private to lib/store. */
#ifndef PRIME_STORE_TAG_CACHE_H
#define PRIME_STORE_TAG_CACHE_H

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "store/store.h"

static inline uint64_t load64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Bit k set when p[k] == '|', for the 64 bytes at p (fewer when `lim`, the
 * end of the readable bytes, comes first; the missing bytes read as 0).
 * python/libprime/_pack.c holds a copy (the package builds without these
 * headers): mend both together. */
static inline uint64_t pipe_mask(const char *p, const char *lim)
{
    char tail[64];
    if ((size_t)(lim - p) < 64) {
        memset(tail, 0, sizeof tail);
        memcpy(tail, p, (size_t)(lim - p));
        p = tail;
    }
#if defined(__SSE2__)
    const __m128i pipe = _mm_set1_epi8('|');
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pipe)) << (16 * k);
    }
    return m;
#else
    uint64_t m = 0;
    for (int k = 0; k < 64; k++)
        m |= (uint64_t)(p[k] == '|') << k;
    return m;
#endif
}

/* Bit k set when p[k] is '|' or NUL, for the bytes p[0 .. 64) before
 * `lim` (the end of the readable bytes; the bits from lim on are clear). */
static inline uint64_t sep_mask(const char *p, const char *lim)
{
    char tail[64];
    if ((size_t)(lim - p) < 64) {
        memset(tail, 'x', sizeof tail);
        memcpy(tail, p, (size_t)(lim - p));
        p = tail;
    }
#if defined(__SSE2__)
    const __m128i pipe = _mm_set1_epi8('|'), nul = _mm_setzero_si128();
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, pipe), _mm_cmpeq_epi8(v, nul));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(hit) << (16 * k);
    }
    return m;
#else
    uint64_t m = 0;
    for (int k = 0; k < 64; k++)
        m |= (uint64_t)(p[k] == '|' || p[k] == '\0') << k;
    return m;
#endif
}

/* A reader-local index of the tags seen so far, in front of the store's:
 * a tag of at most 16 bytes is identified exactly by its length and two
 * 8-byte words (its first 8 bytes, zero-padded, and for 9..16 bytes its
 * last 8), so a hit costs a multiply and three compares. */
typedef struct {
    uint64_t a, b;
    uint32_t n; /* 0 = empty slot */
    uint32_t id;
} tag_slot;

typedef struct {
    tag_slot *slots;
    size_t mask;    /* slots - 1 */
    unsigned shift; /* 64 - log2(slots) */
    size_t count;
} tag_cache;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LOW_BYTES(n) (~0ull << (64 - 8 * (n))) /* the first n bytes in memory */
#else
#define LOW_BYTES(n) (~0ull >> (64 - 8 * (n)))
#endif

/* Words of a short tag p[0..n), 1 <= n <= 16, reading only p[0..n). */
static inline void tag_words_safe(const char *p, size_t n, uint64_t *a, uint64_t *b)
{
    uint64_t w = 0;
    memcpy(&w, p, n < 8 ? n : 8);
    *a = w;
    *b = n > 8 ? load64(p + n - 8) : 0;
}

/* The same when the 8 bytes before p (within the text) and 16 after it
 * may be read. */
static inline void tag_words_fast(const char *p, size_t n, uint64_t *a, uint64_t *b)
{
    uint64_t w0 = load64(p), w1 = load64(p + n - 8);
    size_t first = n < 8 ? n : 8; /* branch-free: the lengths are random */
    *a = w0 & LOW_BYTES(first);
    *b = w1 & (0 - (uint64_t)(n > 8));
}

/* Slot of a short tag: one multiply, the high bits (Fibonacci hashing). */
static inline size_t tag_hash(uint64_t a, uint64_t b, size_t n, unsigned shift)
{
    uint64_t h = (a + (b << 5) + (b >> 11) + n) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> shift);
}

static inline bool tag_cache_insert(tag_cache *t, uint64_t a, uint64_t b, size_t n, uint32_t id)
{
    if (t->slots == NULL || (t->count + 1) * 2 > t->mask + 1) {
        size_t nslots = t->slots == NULL ? 1024 : (t->mask + 1) * 2;
        unsigned shift = t->slots == NULL ? 54 : t->shift - 1;
        tag_slot *ns = prime__calloc(nslots, sizeof *ns);
        if (ns == NULL)
            return false;
        if (t->slots != NULL) {
            for (size_t i = 0; i <= t->mask; i++) {
                tag_slot *o = &t->slots[i];
                if (o->n == 0)
                    continue;
                size_t j = tag_hash(o->a, o->b, o->n, shift);
                while (ns[j].n != 0)
                    j = (j + 1) & (nslots - 1);
                ns[j] = *o;
            }
            prime__free(t->slots);
        }
        t->slots = ns;
        t->mask = nslots - 1;
        t->shift = shift;
    }
    size_t j = tag_hash(a, b, n, t->shift);
    while (t->slots[j].n != 0)
        j = (j + 1) & t->mask;
    t->slots[j].a = a;
    t->slots[j].b = b;
    t->slots[j].n = (uint32_t)n;
    t->slots[j].id = id;
    t->count++;
    return true;
}

/* A tag of the current row (image) between the two passes over its tags. */
typedef struct {
    uint64_t a, b;
    const char *p;
    uint32_t k;    /* length; 0: take the slow way (then slot is the length) */
    uint32_t slot; /* its first cache slot */
} pending;

/* Cached id of a short tag, probing from slot j0 (its tag_hash under the
 * cache's current shift), or PRIME_NONE. */
static inline uint32_t tag_cache_get_at(const tag_cache *t, uint64_t a, uint64_t b, size_t n,
                                        size_t j0)
{
    if (t->slots == NULL)
        return PRIME_NONE;
    for (size_t j = j0;; j = (j + 1) & t->mask) {
        const tag_slot *e = &t->slots[j];
        if (e->a == a && e->b == b && e->n == n)
            return e->id;
        if (e->n == 0)
            return PRIME_NONE;
    }
}

/* Cached id of a short tag, or PRIME_NONE. */
static inline uint32_t tag_cache_get(const tag_cache *t, uint64_t a, uint64_t b, size_t n)
{
    return t->slots == NULL ? PRIME_NONE : tag_cache_get_at(t, a, b, n, tag_hash(a, b, n, t->shift));
}

/* A short tag missing from the cache: intern it in the store, remember it. */
static inline prime_status tag_miss(tag_cache *t, prime_tagstore *s, const char *p, size_t n,
                             uint64_t a, uint64_t b, uint32_t *id_out)
{
    prime_status st = prime__store_intern_tag(s, p, n, id_out);
    if (st == PRIME_OK && !tag_cache_insert(t, a, b, n, *id_out))
        st = prime__error(PRIME_E_NOMEM, "out of memory");
    return st;
}

#if defined(__SSE2__)
/* Sorted ids of a short list, by ranks: keys id << 5 | position are all
 * distinct, and the rank of a key is the number of smaller ones, counted
 * for 4 keys at once against each key in turn (signed compares of
 * key ^ 2^31). No branch depends on the values: sorting a dozen random
 * values by comparisons costs mostly mispredicted branches. NB (2, 4, 6 or
 * 8) blocks of 4 keys hold the n keys, padded with INT32_MAX. */
static inline __attribute__((always_inline)) void rank_keys(const int32_t *key, uint32_t n,
                                                              uint32_t nb, uint32_t *out)
{
    __m128i kv[8], acc[8];
    for (uint32_t b = 0; b < nb; b++) {
        kv[b] = _mm_load_si128((const __m128i *)(const void *)(key + 4 * b));
        acc[b] = _mm_setzero_si128();
    }
    for (uint32_t i = 0; i < n; i++) {
        __m128i ki = _mm_set1_epi32(key[i]);
        for (uint32_t b = 0; b < nb; b++)
            acc[b] = _mm_sub_epi32(acc[b], _mm_cmpgt_epi32(kv[b], ki));
    }
    int32_t rank[32] __attribute__((aligned(16)));
    for (uint32_t b = 0; b < nb; b++)
        _mm_store_si128((__m128i *)(void *)(rank + 4 * b), acc[b]);
    for (uint32_t j = 0; j < n; j++)
        out[rank[j]] = ((uint32_t)key[j] ^ 0x80000000u) >> 5;
}

/* sort_unique for 2 <= n <= 32 ids below 2^27. (GCC 12 warns, wrongly,
 * that key and out may be read uninitialized in some callers: keys 0 ..
 * 4 * nb - 1 are written and rank_keys reads no more; out[0 .. n) is a
 * permutation of the ranks, each written once.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
static inline uint32_t sort_unique_small(uint32_t *ids, uint32_t n)
{
    int32_t key[32] __attribute__((aligned(16)));
    uint32_t out[32];
    uint32_t nb = (n + 7) / 8 * 2; /* blocks of 4, rounded up to 2, 4, 6 or 8 */
    for (uint32_t i = 0; i < 4 * nb; i++)
        key[i] = i < n ? (int32_t)(((ids[i] << 5) | i) ^ 0x80000000u) : INT32_MAX;
    if (nb <= 2)
        rank_keys(key, n, 2, out);
    else if (nb <= 4)
        rank_keys(key, n, 4, out);
    else if (nb <= 6)
        rank_keys(key, n, 6, out);
    else
        rank_keys(key, n, 8, out);
    uint32_t m = 1;
    ids[0] = out[0];
    for (uint32_t i = 1; i < n; i++) {
        ids[m] = out[i];
        m += out[i] != out[i - 1];
    }
    return m;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#define SMALL_SORT_MAX 32
#else
#define sort_unique_small(ids, n) ((uint32_t)prime__sort_unique_u32(ids, n))
#define SMALL_SORT_MAX 64
#endif

#endif
