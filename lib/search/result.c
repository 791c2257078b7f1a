/* Results: building (names copied, everything sorted), accessors, writers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"

#define ALL_CLASSES_NAME "(all)"

void prime_result_destroy(prime_result *r)
{
    if (r == NULL)
        return;
    prime__free(r->classes);
    prime__free(r->modes);
    prime__free(r->mode_tags);
    prime__free(r->mode_tag_name_off);
    prime__free(r->strings);
    prime__free(r);
}

/* qsort has no context argument in C11: the comparators of the classes and
 * of the tags read these. They are only set while building, under the
 * build's own stack frame, so a thread-local copy keeps concurrent builds
 * apart. */
static _Thread_local const char *sort_strings;
static _Thread_local const uint64_t *sort_tag_off;   /* store tag id -> name offset + 1 */

static int cmp_class(const void *a, const void *b)
{
    const prime__class_stat *x = a, *y = b;
    return strcmp(sort_strings + x->name_off, sort_strings + y->name_off);
}

static int cmp_tag_name(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return strcmp(sort_strings + sort_tag_off[x] - 1, sort_strings + sort_tag_off[y] - 1);
}

/* The sort key of a mode: its class, its drop as an integer that orders as
 * the double (-0 taken as +0, so equal drops give equal keys), the ranks
 * (+1) of its first tags in fields of as many bits as the largest needs
 * (as many as 64 bits hold: 6 for up to 1,022 distinct tags), first tag
 * highest, 0 for none (so a prefix sorts first), and its index in the
 * input; ties are broken on all the tag-name ranks, which its record
 * holds. */
typedef struct {
    uint64_t drop;
    uint64_t tags;
    uint32_t class_index, index;
} mode_key;

/* The record of input mode i, in a table of `stride` words per mode
 * (RECORD_WORDS + the most tags of a mode): its number of tags, its size,
 * its sum of outcomes and its tags' ranks in byte order of their names,
 * written in one pass over the input, so that the modes are then built in
 * their sorted order from one read each. */
enum { REC_N, REC_SIZE, REC_CORRECT = REC_SIZE + 2, REC_RANKS = REC_CORRECT + 2 };

/* prime__result_set_key_ranks */
static uint32_t key_ranks_max = UINT32_MAX;

void prime__result_set_key_ranks(uint32_t n)
{
    key_ranks_max = n;
}

static uint64_t drop_key(double d)
{
    if (d == 0.0)
        d = 0.0;
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

/* x before y when their class, drop and first ranks tie: the ranks element
 * by element (a prefix first; names are unique, so ranks order as names). */
static __attribute__((noinline)) bool ranks_less(const uint32_t *rx, const uint32_t *ry)
{
    uint32_t nx = rx[REC_N], ny = ry[REC_N], n = nx < ny ? nx : ny;
    for (uint32_t k = 0; k < n; k++)
        if (rx[REC_RANKS + k] != ry[REC_RANKS + k])
            return rx[REC_RANKS + k] < ry[REC_RANKS + k];
    return nx < ny;
}

/* The result's order: class, largest drop first, then the tags' names. */
static inline bool key_less(const mode_key *x, const mode_key *y, const uint32_t *recs,
                            size_t stride)
{
    if (x->class_index != y->class_index)
        return x->class_index < y->class_index;
    if (x->drop != y->drop)
        return x->drop > y->drop;
    if (x->tags != y->tags)
        return x->tags < y->tags;
    return ranks_less(recs + (size_t)x->index * stride, recs + (size_t)y->index * stride);
}

/* prime__malloc for the build's large arrays, each written once in one
 * pass: huge pages where the system gives them (prime__huge_pages; the
 * page faults were a third of the build). */
static void *big_malloc(size_t n)
{
    void *p = prime__malloc(n);
    prime__huge_pages(p, n);
    return p;
}

static uint64_t pool_add(prime__buf *pool, const char *s)
{
    uint64_t off = pool->len;
    prime__buf_append(pool, s, strlen(s) + 1);
    return off;
}

/* Modes between two calls of the tick function (a power of two;
 * prime__result_set_tick_modes). */
#define TICK_MODES 16384u
static uint64_t tick_mask = TICK_MODES - 1;

void prime__result_set_tick_modes(uint32_t n)
{
    tick_mask = n > 0 && (n & (n - 1)) == 0 ? (uint64_t)n - 1 : TICK_MODES - 1;
}
/* Keys sorted by insertion before the merges. */
#define SORT_RUN 16u

/* Sort keys[0..n) by key_less: runs of SORT_RUN keys by insertion, then
 * merged pairwise (bottom up), with a tick every TICK_MODES keys. Returns
 * the sorted array (keys or tmp, the other one is scratch), or NULL when
 * the tick asked to stop. */
static mode_key *sort_keys(mode_key *keys, mode_key *tmp, uint64_t n, const uint32_t *recs,
                           size_t stride, prime__tick_fn tick, void *tick_ctx)
{
    uint64_t since = 0;
    for (uint64_t a = 0; a < n; a += SORT_RUN) {
        uint64_t end = n - a < SORT_RUN ? n : a + SORT_RUN;
        for (uint64_t i = a + 1; i < end; i++) {
            mode_key x = keys[i];
            uint64_t j = i;
            while (j > a && key_less(&x, &keys[j - 1], recs, stride)) {
                keys[j] = keys[j - 1];
                j--;
            }
            keys[j] = x;
        }
        since += end - a;
        if (since > tick_mask) {
            since = 0;
            if (tick != NULL && tick(tick_ctx) != 0)
                return NULL;
        }
    }
    mode_key *src = keys, *dst = tmp;
    for (uint64_t width = SORT_RUN; width < n; width *= 2) {
        for (uint64_t a = 0; a < n; a += 2 * width) {
            uint64_t mid = a + width < n ? a + width : n;
            uint64_t end = a + 2 * width < n ? a + 2 * width : n;
            uint64_t i = a, j = mid, k = a;
            while (i < mid && j < end) {
                /* the left run first on ties: keys are distinct anyway */
                if (key_less(&src[j], &src[i], recs, stride))
                    dst[k++] = src[j++];
                else
                    dst[k++] = src[i++];
                if (++since > tick_mask) {
                    since = 0;
                    if (tick != NULL && tick(tick_ctx) != 0)
                        return NULL;
                }
            }
            while (i < mid)
                dst[k++] = src[i++];
            while (j < end)
                dst[k++] = src[j++];
        }
        mode_key *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

prime_status prime__result_build(const prime_tagstore *store, const prime_config *config,
                                 uint32_t n_classes, const uint32_t *class_ids,
                                 const uint64_t *class_images, const double *class_correct,
                                 const prime__raw_mode *raw, uint64_t n_modes,
                                 prime_result **out)
{
    return prime__result_build_ticking(store, config, n_classes, class_ids, class_images,
                                       class_correct, raw, n_modes, NULL, NULL, NULL, out);
}

/* A tick every TICK_MODES modes of a loop over the modes. */
#define TICK(i)                                                                       \
    do {                                                                              \
        if (tick != NULL && (((i) + 1) & tick_mask) == 0 && tick(tick_ctx) != 0)      \
            goto cancelled;                                                           \
    } while (0)

#define DESC_PREFIX "a photo of"
/* Modes ahead of the one being built whose records are prefetched. */
#define PREFETCH_AHEAD 16u

prime_status prime__result_build_ticking(const prime_tagstore *store,
                                         const prime_config *config, uint32_t n_classes,
                                         const uint32_t *class_ids,
                                         const uint64_t *class_images,
                                         const double *class_correct,
                                         const prime__raw_mode *raw, uint64_t n_modes,
                                         prime__raw_mode **release, prime__tick_fn tick,
                                         void *tick_ctx, prime_result **out)
{
    prime_result *r = prime__calloc(1, sizeof *r);
    prime__buf pool = {0};
    uint64_t *tag_off_of = NULL;  /* store tag id -> offset in pool, +1 (0 = none) */
    uint32_t *class_rank = NULL;  /* input class index -> sorted index */
    uint64_t *class_len = NULL;   /* sorted class -> length of its name */
    uint32_t *used = NULL;        /* the distinct tags of the modes, by name */
    uint32_t *rank_of = NULL;     /* store tag id -> rank in `used` */
    uint64_t *rank_len = NULL;    /* rank -> length of the tag's name */
    uint32_t *recs = NULL;        /* the modes' records, in input order */
    mode_key *keys = NULL, *keys2 = NULL;
    void *spare = NULL;           /* the input's block, once read (release) */
    prime_status status = PRIME_OK;
    if (r == NULL)
        goto nomem;
    r->config = *config;
    uint64_t n_mode_tags = 0;
    uint32_t most_tags = 0;
    for (uint64_t i = 0; i < n_modes; i++) {
        TICK(i); /* 15 M raw modes are 1.3 GB to read */
        n_mode_tags += raw[i].n_tags;
        most_tags = raw[i].n_tags > most_tags ? raw[i].n_tags : most_tags;
    }
    size_t stride = (size_t)REC_RANKS + most_tags;
    r->classes = prime__calloc(n_classes ? n_classes : 1, sizeof *r->classes);
    tag_off_of = prime__calloc((size_t)store->tags.count + 1, sizeof(uint64_t));
    class_rank = prime__malloc(((size_t)n_classes + 1) * sizeof(uint32_t));
    class_len = prime__malloc(((size_t)n_classes + 1) * sizeof(uint64_t));
    used = prime__malloc(((size_t)store->tags.count + 1) * sizeof(uint32_t));
    rank_of = prime__malloc(((size_t)store->tags.count + 1) * sizeof(uint32_t));
    rank_len = prime__malloc(((size_t)store->tags.count + 1) * sizeof(uint64_t));
    recs = big_malloc((n_modes ? (size_t)n_modes : 1) * stride * sizeof(uint32_t));
    keys = big_malloc((size_t)(n_modes ? n_modes : 1) * sizeof *keys);
    if (r->classes == NULL || tag_off_of == NULL || class_rank == NULL ||
        class_len == NULL || used == NULL || rank_of == NULL || rank_len == NULL ||
        recs == NULL || keys == NULL)
        goto nomem;

    /* classes, sorted by name */
    r->n_classes = n_classes;
    for (uint32_t i = 0; i < n_classes; i++) {
        prime__class_stat *c = &r->classes[i];
        c->class_id = class_ids[i];
        c->images = class_images[i];
        c->correct = class_correct[i];
        c->accuracy = c->images ? c->correct / (double)c->images : NAN;
        const char *name = class_ids[i] == PRIME_NONE ? ALL_CLASSES_NAME
                                                      : prime__names_get(&store->classes,
                                                                         class_ids[i]);
        c->name_off = pool_add(&pool, name);
    }
    if (pool.failed)
        goto nomem;
    {
        /* Sort the classes by name; class_rank[i] = where input class i went
         * (names are unique, so a binary search on the sorted names finds it). */
        prime__class_stat *tmp = prime__malloc((n_classes ? n_classes : 1) * sizeof *tmp);
        if (tmp == NULL)
            goto nomem;
        memcpy(tmp, r->classes, n_classes * sizeof *tmp);
        sort_strings = pool.data;
        qsort(r->classes, n_classes, sizeof *r->classes, cmp_class);
        for (uint32_t i = 0; i < n_classes; i++) {
            uint32_t lo = 0, hi = n_classes;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (strcmp(pool.data + r->classes[mid].name_off, pool.data + tmp[i].name_off) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            class_rank[i] = lo;
        }
        prime__free(tmp);
        for (uint32_t i = 0; i < n_classes; i++)
            class_len[i] = strlen(pool.data + r->classes[i].name_off);
    }

    /* the distinct tags of the modes: names copied once, ranked by name
       once, so that modes sort on integers */
    uint32_t n_used = 0;
    for (uint64_t i = 0; i < n_modes; i++) {
        TICK(i);
        for (uint32_t k = 0; k < raw[i].n_tags; k++) {
            uint32_t tag = raw[i].tags[k];
            if (tag_off_of[tag] != 0)
                continue;
            tag_off_of[tag] = pool_add(&pool, prime__names_get(&store->tags, tag)) + 1;
            used[n_used++] = tag;
        }
    }
    if (pool.failed)
        goto nomem;
    sort_strings = pool.data;
    sort_tag_off = tag_off_of;
    qsort(used, n_used, sizeof *used, cmp_tag_name);
    for (uint32_t k = 0; k < n_used; k++) {
        rank_of[used[k]] = k;
        rank_len[k] = strlen(pool.data + tag_off_of[used[k]] - 1);
    }

    /* one pass over the input: each mode's key and record (its tags'
       ranks sorted), and the length of all descriptions */
    uint32_t rank_bits = 1; /* a rank + 1 (0 = no tag) in a field of the key */
    while (rank_bits < 32 && ((uint64_t)1 << rank_bits) <= n_used)
        rank_bits++;
    uint32_t rank_fields = 64 / rank_bits, key_ranks = key_ranks_max;
    uint64_t desc_bytes = 0;
    for (uint64_t i = 0; i < n_modes; i++) {
        TICK(i);
        const prime__raw_mode *m = &raw[i];
        uint32_t *rec = recs + (size_t)i * stride;
        uint32_t *rk = rec + REC_RANKS;
        uint32_t ci = class_rank[m->class_index];
        uint64_t len = sizeof DESC_PREFIX + (r->classes[ci].class_id != PRIME_NONE
                                                 ? 1 + class_len[ci] : 0);
        for (uint32_t k = 0; k < m->n_tags; k++) {
            uint32_t x = rank_of[m->tags[k]], at = k;
            len += 1 + rank_len[x];
            while (at > 0 && rk[at - 1] > x) {
                rk[at] = rk[at - 1];
                at--;
            }
            rk[at] = x;
        }
        desc_bytes += len;
        rec[REC_N] = m->n_tags;
        memcpy(rec + REC_SIZE, &m->size, sizeof m->size);
        memcpy(rec + REC_CORRECT, &m->correct, sizeof m->correct);
        mode_key *key = &keys[i];
        key->class_index = ci;
        key->index = (uint32_t)i;
        key->drop = drop_key(r->classes[ci].accuracy - m->correct / (double)m->size);
        key->tags = 0;
        for (uint32_t k = 0; k < rank_fields && k < key_ranks && k < m->n_tags; k++)
            key->tags |= ((uint64_t)rk[k] + 1) << (64 - rank_bits * (k + 1));
    }
    raw = NULL; /* everything the result needs is in the records now */
    if (release != NULL) {
        /* kept for the result's modes: it is larger, and its pages are
           there already (the page faults of fresh memory were a large
           part of the build) */
        spare = *release;
        *release = NULL;
    }
    keys2 = big_malloc((size_t)(n_modes ? n_modes : 1) * sizeof *keys2);
    if (keys2 == NULL)
        goto nomem;
    {
        mode_key *sorted = sort_keys(keys, keys2, n_modes, recs, stride, tick, tick_ctx);
        if (sorted == NULL)
            goto cancelled;
        if (sorted != keys) {
            keys2 = keys;
            keys = sorted;
        }
        prime__free(keys2);
        keys2 = NULL;
    }

    /* the modes in their order, each from its record: statistics, tags
       (by name) and description, written in sequence */
    _Static_assert(sizeof(prime__raw_mode) >= sizeof(prime__mode), "the modes fit the input");
    if (spare != NULL && n_modes > 0) {
        r->modes = prime__realloc(spare, (size_t)n_modes * sizeof *r->modes); /* shrinks */
        if (r->modes != NULL)
            spare = NULL;
    } else {
        r->modes = big_malloc((n_modes ? (size_t)n_modes : 1) * sizeof *r->modes);
    }
    prime__free(spare);
    spare = NULL;
    r->mode_tags = big_malloc((size_t)(n_mode_tags ? n_mode_tags : 1) * sizeof(uint32_t));
    r->mode_tag_name_off = big_malloc((size_t)(n_mode_tags ? n_mode_tags : 1) * sizeof(uint64_t));
    if (r->modes == NULL || r->mode_tags == NULL || r->mode_tag_name_off == NULL)
        goto nomem;
    if (pool.data == NULL)
        prime__buf_putc(&pool, '\0'); /* no class: the pool holds "" */
    if (pool.failed || !prime__grow((void **)&pool.data, &pool.cap, pool.len + desc_bytes + 1, 1))
        goto nomem;
    prime__huge_pages(pool.data + pool.len, desc_bytes); /* written once, in sequence */
    uint64_t at = 0;
    char *p = pool.data + pool.len;
    for (uint64_t i = 0; i < n_modes; i++) {
        TICK(i);
        if (i + PREFETCH_AHEAD < n_modes) {
            /* the records are read in sorted order, at random: fetch ahead */
            const uint32_t *ahead = recs + (size_t)keys[i + PREFETCH_AHEAD].index * stride;
            __builtin_prefetch(ahead);
            __builtin_prefetch(ahead + stride - 1);
        }
        const uint32_t *rec = recs + (size_t)keys[i].index * stride;
        prime__mode *d = &r->modes[i];
        const prime__class_stat *c = &r->classes[keys[i].class_index];
        memset(d, 0, sizeof *d);
        d->class_index = keys[i].class_index;
        d->n_tags = rec[REC_N];
        d->tag_first = (uint32_t)at;
        memcpy(&d->size, rec + REC_SIZE, sizeof d->size);
        memcpy(&d->correct, rec + REC_CORRECT, sizeof d->correct);
        d->accuracy = d->correct / (double)d->size;
        d->drop = c->accuracy - d->accuracy;
        d->description_off = (uint64_t)(p - pool.data);
        memcpy(p, DESC_PREFIX, sizeof DESC_PREFIX - 1);
        p += sizeof DESC_PREFIX - 1;
        if (c->class_id != PRIME_NONE) {
            *p++ = ' ';
            memcpy(p, pool.data + c->name_off, class_len[d->class_index]);
            p += class_len[d->class_index];
        }
        for (uint32_t k = 0; k < d->n_tags; k++) {
            uint32_t x = rec[REC_RANKS + k], tag = used[x];
            uint64_t off = tag_off_of[tag] - 1;
            r->mode_tags[at + k] = tag;
            r->mode_tag_name_off[at + k] = off;
            *p++ = ' ';
            memcpy(p, pool.data + off, rank_len[x]);
            p += rank_len[x];
        }
        *p++ = '\0';
        at += d->n_tags;
    }
    pool.len = (size_t)(p - pool.data);
    pool.data[pool.len] = '\0';
    r->n_modes = n_modes;
    r->n_mode_tags = n_mode_tags;
    r->strings = pool.data;
    r->strings_len = pool.len;
    sort_strings = NULL;
    sort_tag_off = NULL;
    prime__free(keys);
    prime__free(recs);
    prime__free(tag_off_of);
    prime__free(class_rank);
    prime__free(class_len);
    prime__free(used);
    prime__free(rank_of);
    prime__free(rank_len);
    *out = r;
    return PRIME_OK;

nomem:
    status = prime__error(PRIME_E_NOMEM, "out of memory building the result");
    goto fail;
cancelled:
    status = prime__error(PRIME_E_CANCELLED, "prime_search: cancelled by the progress callback");
fail:
    if (release != NULL) {
        prime__free(*release);
        *release = NULL;
    }
    prime__free(spare);
    prime__free(keys);
    prime__free(keys2);
    prime__free(recs);
    sort_strings = NULL;
    sort_tag_off = NULL;
    prime__buf_free(&pool);
    prime__free(tag_off_of);
    prime__free(class_rank);
    prime__free(class_len);
    prime__free(used);
    prime__free(rank_of);
    prime__free(rank_len);
    prime_result_destroy(r);
    return status;
}

uint32_t prime_result_class_count(const prime_result *r)
{
    return r ? r->n_classes : 0;
}

prime_status prime_result_class_info(const prime_result *r, uint32_t i, uint32_t *class_id_out,
                                     uint64_t *images_out, double *correct_out,
                                     double *accuracy_out)
{
    if (r == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_result_class_info: result is NULL");
    if (i >= r->n_classes)
        return prime__error(PRIME_E_INVALID_ARG, "class %u out of range (%u classes)", i,
                            r->n_classes);
    const prime__class_stat *c = &r->classes[i];
    if (class_id_out)
        *class_id_out = c->class_id;
    if (images_out)
        *images_out = c->images;
    if (correct_out)
        *correct_out = c->correct;
    if (accuracy_out)
        *accuracy_out = c->accuracy;
    return PRIME_OK;
}

const char *prime_result_class_name(const prime_result *r, uint32_t i)
{
    if (r == NULL || i >= r->n_classes)
        return NULL;
    return r->strings + r->classes[i].name_off;
}

uint64_t prime_result_candidate_count(const prime_result *r)
{
    return r != NULL ? r->n_candidates : 0;
}

uint64_t prime_result_mode_count(const prime_result *r)
{
    return r ? r->n_modes : 0;
}

static prime_status check_mode(const prime_result *r, uint64_t i, const char *fn)
{
    if (r == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: result is NULL", fn);
    if (i >= r->n_modes)
        return prime__error(PRIME_E_INVALID_ARG, "%s: mode %llu out of range (%llu modes)", fn,
                            (unsigned long long)i, (unsigned long long)r->n_modes);
    return PRIME_OK;
}

prime_status prime_result_mode_info(const prime_result *r, uint64_t i, uint32_t *class_id_out,
                                    uint32_t *n_tags_out, uint64_t *size_out,
                                    double *correct_out, double *accuracy_out,
                                    double *class_accuracy_out, double *drop_out)
{
    prime_status st = check_mode(r, i, "prime_result_mode_info");
    if (st != PRIME_OK)
        return st;
    const prime__mode *m = &r->modes[i];
    if (class_id_out)
        *class_id_out = r->classes[m->class_index].class_id;
    if (n_tags_out)
        *n_tags_out = m->n_tags;
    prime__mode_stats_out(m->size, m->correct, m->accuracy, r->classes[m->class_index].accuracy,
                          m->drop, size_out, correct_out, accuracy_out, class_accuracy_out,
                          drop_out);
    return PRIME_OK;
}

void prime__mode_stats_out(uint64_t size, double correct, double accuracy,
                           double class_accuracy, double drop, uint64_t *size_out,
                           double *correct_out, double *accuracy_out,
                           double *class_accuracy_out, double *drop_out)
{
    if (size_out)
        *size_out = size;
    if (correct_out)
        *correct_out = correct;
    if (accuracy_out)
        *accuracy_out = accuracy;
    if (class_accuracy_out)
        *class_accuracy_out = class_accuracy;
    if (drop_out)
        *drop_out = drop;
}

prime_status prime_result_mode_tags(const prime_result *r, uint64_t i, uint32_t *ids,
                                    uint32_t cap, uint32_t *n_out)
{
    prime_status st = check_mode(r, i, "prime_result_mode_tags");
    if (st != PRIME_OK)
        return st;
    if (n_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_result_mode_tags: n_out is NULL");
    const prime__mode *m = &r->modes[i];
    *n_out = m->n_tags;
    if (m->n_tags > cap || ids == NULL)
        return prime__error(PRIME_E_BUFFER_TOO_SMALL, "mode %llu has %u tags; the buffer holds %u",
                            (unsigned long long)i, m->n_tags, ids ? cap : 0);
    memcpy(ids, r->mode_tags + m->tag_first, m->n_tags * sizeof(uint32_t));
    return PRIME_OK;
}

const char *prime_result_mode_tag_name(const prime_result *r, uint64_t i, uint32_t j)
{
    if (r == NULL || i >= r->n_modes || j >= r->modes[i].n_tags)
        return NULL;
    return r->strings + r->mode_tag_name_off[r->modes[i].tag_first + j];
}

const char *prime_result_mode_class_name(const prime_result *r, uint64_t i)
{
    if (r == NULL || i >= r->n_modes)
        return NULL;
    return r->strings + r->classes[r->modes[i].class_index].name_off;
}

const char *prime_result_mode_description(const prime_result *r, uint64_t i)
{
    if (r == NULL || i >= r->n_modes)
        return NULL;
    return r->strings + r->modes[i].description_off;
}

/* ---- writers ------------------------------------------------------------ */

/* A name in a record: its text and, where they are known (the names of a
 * frozen store, prime__store_name_forms), its writers' forms, so that it is
 * copied, not escaped anew in every record. */
typedef struct {
    const char *raw;
    const char *json;   /* its JSON literal, quotes included; NULL: unknown */
    const char *csv;    /* the inside of a quoted CSV field holding it */
    uint32_t json_len, csv_len;
    bool csv_quote;     /* a CSV field holding it is quoted (json set) */
} name_ref;

static inline name_ref name_plain(const char *s)
{
    return (name_ref){.raw = s};
}

/* A name that a string literal spells and that needs no escape and no CSV
 * quotes (its forms are the literal itself). */
#define NAME_REF_LIT(lit)                                                                   \
    {.raw = lit, .json = "\"" lit "\"", .json_len = sizeof lit + 1, .csv = lit,             \
     .csv_len = sizeof lit - 1, .csv_quote = false}

static inline name_ref name_formed(const prime__name_forms *f, const char *raw, uint32_t id)
{
    return (name_ref){.raw = raw,
                      .json = f->text + f->json_off[id],
                      .json_len = (uint32_t)(f->json_off[id + 1] - f->json_off[id]),
                      .csv = f->text + f->csv_off[id],
                      .csv_len = (uint32_t)(f->csv_off[id + 1] - f->csv_off[id]),
                      .csv_quote = f->csv_quote[id] != 0};
}

/* One failure mode's record, shared by the result's writers and
 * prime_mode_event_render: its class, tags (in their order), numbers and
 * description. A NULL description is the one prime__result_build writes,
 * "a photo of" then the class (if desc_class) and the tags, each after a
 * space: written from those pieces, never built in memory. */
typedef struct {
    name_ref class_name;
    name_ref tags[PRIME_MAX_TAGS_LIMIT];
    uint32_t n_tags;
    uint64_t size;
    double correct, accuracy, class_accuracy, drop;
    const char *description;
    bool desc_class;
} mode_record;

#define DESC_START "a photo of"
static const name_ref desc_start = NAME_REF_LIT(DESC_START);

/* The numbers of the records: the texts of recent values (per thread, by
 * the value's bits, one entry per hash of them). A mode's class accuracy
 * is that of many modes, and modes found one after another often share
 * their size, count and accuracy (supersets of the same images): on the
 * 40-tag row about 97 % of the accuracies and drops are found here (256
 * entries of 32 bytes: 8 KiB of thread-local storage).
 * prime__format_double writes the others (and the text is the same). */
enum { NUM_MEMO_BITS = 8, NUM_MEMO_TEXT = 23 };
typedef struct {
    uint64_t bits;
    char text[NUM_MEMO_TEXT];
    uint8_t len; /* 0: empty */
} num_memo;
static _Thread_local num_memo num_memos[1u << NUM_MEMO_BITS];

/* The room a record's writer reserves (its bytes are then written without
 * a check each): names at most twice (a field and the description), each
 * at its escaped length or the longest escape could make it (six bytes a
 * byte: \u00XX), numbers at PRIME__DOUBLE_CHARS, the rest in a margin. */
enum { RECORD_MARGIN = 256 };

static inline size_t name_bound(const name_ref *r)
{
    return r->json != NULL ? (size_t)r->json_len + r->csv_len + 2 : 6 * strlen(r->raw) + 2;
}

static size_t record_bound(const mode_record *m)
{
    size_t n = RECORD_MARGIN + 4 * PRIME__DOUBLE_CHARS + 2 * name_bound(&m->class_name);
    for (uint32_t k = 0; k < m->n_tags; k++)
        n += 2 * name_bound(&m->tags[k]) + 4;
    if (m->description != NULL)
        n += 6 * strlen(m->description) + 2;
    return n;
}

/* Append s[0..n) into reserved room (no NUL: the record's end writes it). */
static inline void put_raw(prime__buf *b, const char *s, size_t n)
{
    memcpy(b->data + b->len, s, n);
    b->len += n;
}
#define PUT_LIT(b, lit) put_raw((b), "" lit, sizeof(lit) - 1)

/* (Only the text's own bytes are written: a caller's buffer written
 * directly keeps the rest as it was.) */
static void put_number(prime__buf *b, num_memo *memo, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    num_memo *e = &memo[(bits * 0x9e3779b97f4a7c15ull) >> (64 - NUM_MEMO_BITS)];
    if (e->len != 0 && e->bits == bits) {
        put_raw(b, e->text, e->len);
        return;
    }
    char tmp[PRIME__DOUBLE_CHARS];
    size_t n = prime__format_double(v, tmp);
    if (n <= NUM_MEMO_TEXT) {
        memcpy(e->text, tmp, n);
        e->len = (uint8_t)n;
        e->bits = bits;
    }
    put_raw(b, tmp, n);
}

/* (into the reserved room: RECORD_MARGIN holds its PRIME__U64_CHARS) */
static inline void put_u64(prime__buf *b, uint64_t v)
{
    b->len += prime__format_u64(v, b->data + b->len);
}

static inline void put_json_name(prime__buf *b, const name_ref *r)
{
    if (r->json != NULL)
        put_raw(b, r->json, r->json_len);
    else
        prime__buf_json_string(b, r->raw);
}

/* The name inside a JSON literal (no quotes). */
static inline void put_json_name_chars(prime__buf *b, const name_ref *r)
{
    if (r->json != NULL)
        put_raw(b, r->json + 1, r->json_len - 2);
    else
        prime__buf_json_chars(b, r->raw);
}

static inline bool csv_quoted(const name_ref *r)
{
    return r->json != NULL ? r->csv_quote : prime__csv_needs_quotes(r->raw);
}

/* The name in a CSV field, quoted or not (a name needing no quotes holds
 * no '"': its inside is the name itself). */
static inline void put_csv_name_chars(prime__buf *b, const name_ref *r, bool quoted)
{
    if (r->json != NULL)
        put_raw(b, r->csv, r->csv_len);
    else if (quoted)
        prime__buf_csv_chars(b, r->raw);
    else
        prime__buf_puts(b, r->raw);
}

static void put_description_json(prime__buf *b, const mode_record *m)
{
    if (m->description != NULL) {
        prime__buf_json_string(b, m->description);
        return;
    }
    PUT_LIT(b, "\"" DESC_START);
    if (m->desc_class) {
        PUT_LIT(b, " ");
        put_json_name_chars(b, &m->class_name);
    }
    for (uint32_t k = 0; k < m->n_tags; k++) {
        PUT_LIT(b, " ");
        put_json_name_chars(b, &m->tags[k]);
    }
    PUT_LIT(b, "\"");
}

/* The object of the JSON's "failure_modes" array (no separator around it;
 * nl: a line end after it). */
static void put_mode_json(prime__buf *b, const mode_record *m, bool nl)
{
    if (!prime__buf_reserve(b, record_bound(m)))
        return;
    num_memo *memo = num_memos;
    PUT_LIT(b, "{\"class\": ");
    put_json_name(b, &m->class_name);
    PUT_LIT(b, ", \"tags\": [");
    for (uint32_t k = 0; k < m->n_tags; k++) {
        if (k)
            PUT_LIT(b, ", ");
        put_json_name(b, &m->tags[k]);
    }
    PUT_LIT(b, "], \"size\": ");
    put_u64(b, m->size);
    PUT_LIT(b, ", \"correct\": ");
    put_number(b, memo, m->correct);
    PUT_LIT(b, ", \"accuracy\": ");
    put_number(b, memo, m->accuracy);
    PUT_LIT(b, ", \"class_accuracy\": ");
    put_number(b, memo, m->class_accuracy);
    PUT_LIT(b, ", \"drop\": ");
    put_number(b, memo, m->drop);
    PUT_LIT(b, ", \"description\": ");
    put_description_json(b, m);
    if (nl)
        PUT_LIT(b, "}\n");
    else
        PUT_LIT(b, "}");
    b->data[b->len] = '\0';
}

#define CSV_HEADER "class,tags,size,correct,accuracy,class_accuracy,drop,description\n"

/* A CSV field made of pieces (NULL ones skipped), sep before each piece but
 * the first, quoted (quote: as prime__buf_csv_field quotes the whole, i.e.
 * when a piece needs it, csv_quoted) or not. */
static void put_csv_pieces(prime__buf *b, const name_ref *const *piece, uint32_t n, char sep,
                           bool quote)
{
    if (quote)
        PUT_LIT(b, "\"");
    bool first = true;
    for (uint32_t k = 0; k < n; k++) {
        if (piece[k] == NULL)
            continue;
        if (!first)
            put_raw(b, &sep, 1);
        first = false;
        put_csv_name_chars(b, piece[k], quote);
    }
    if (quote)
        PUT_LIT(b, "\"");
}

/* One CSV row, its line end included. */
static void put_mode_csv(prime__buf *b, const mode_record *m)
{
    if (!prime__buf_reserve(b, record_bound(m)))
        return;
    num_memo *memo = num_memos;
    const name_ref *piece[2 + PRIME_MAX_TAGS_LIMIT];
    bool class_quote = csv_quoted(&m->class_name), tags_quote = false;
    piece[0] = &m->class_name;
    put_csv_pieces(b, piece, 1, ',', class_quote);
    PUT_LIT(b, ",");
    for (uint32_t k = 0; k < m->n_tags; k++) {
        piece[k] = &m->tags[k];
        tags_quote = tags_quote || csv_quoted(&m->tags[k]);
    }
    put_csv_pieces(b, piece, m->n_tags, '|', tags_quote);
    PUT_LIT(b, ",");
    put_u64(b, m->size);
    PUT_LIT(b, ",");
    put_number(b, memo, m->correct);
    PUT_LIT(b, ",");
    put_number(b, memo, m->accuracy);
    PUT_LIT(b, ",");
    put_number(b, memo, m->class_accuracy);
    PUT_LIT(b, ",");
    put_number(b, memo, m->drop);
    PUT_LIT(b, ",");
    if (m->description != NULL) {
        prime__buf_csv_field(b, m->description);
    } else {
        /* "a photo of" needs no quotes: the field's quoting is its names' */
        piece[0] = &desc_start;
        piece[1] = m->desc_class ? &m->class_name : NULL;
        for (uint32_t k = 0; k < m->n_tags; k++)
            piece[2 + k] = &m->tags[k];
        put_csv_pieces(b, piece, 2 + m->n_tags, ' ',
                       tags_quote || (m->desc_class && class_quote));
    }
    PUT_LIT(b, "\n");
    b->data[b->len] = '\0';
}

/* Mode i of r as a record. */
static void mode_of(const prime_result *r, uint64_t i, mode_record *out)
{
    const prime__mode *m = &r->modes[i];
    out->class_name = name_plain(r->strings + r->classes[m->class_index].name_off);
    out->n_tags = m->n_tags;
    for (uint32_t k = 0; k < m->n_tags; k++)
        out->tags[k] = name_plain(r->strings + r->mode_tag_name_off[m->tag_first + k]);
    out->size = m->size;
    out->correct = m->correct;
    out->accuracy = m->accuracy;
    out->class_accuracy = r->classes[m->class_index].accuracy;
    out->drop = m->drop;
    out->description = r->strings + m->description_off;
    out->desc_class = false;
}

static void render_json(const prime_result *r, prime__buf *b)
{
    const prime_config *c = &r->config;
    prime__buf_printf(b, "{\"params\": {\"max_tags\": %lld, \"min_size\": %lld, ",
                      (long long)c->max_tags, (long long)c->min_size);
    if (c->min_size_share > 0.0) { /* only then: results without it keep their bytes */
        prime__buf_puts(b, "\"min_size_share\": ");
        prime__buf_double(b, c->min_size_share);
        prime__buf_puts(b, ", ");
    }
    prime__buf_puts(b, "\"min_drop\": ");
    prime__buf_double(b, c->min_drop);
    prime__buf_puts(b, ", \"min_gain\": [");
    for (uint32_t k = 0; k < c->n_min_gain; k++) {
        if (k)
            prime__buf_puts(b, ", ");
        prime__buf_double(b, c->min_gain[k]);
    }
    /* with a share and min_tag_count 0, the tag count follows each class's
       minimum size: recorded as 0 */
    prime__buf_printf(b, "], \"min_tag_count\": %lld, \"whole_dataset\": %s%s},\n",
                      c->min_size_share > 0.0 ? (long long)c->min_tag_count
                                              : (long long)prime__config_tag_count(c),
                      c->whole_dataset ? "true" : "false",
                      c->fold_equal ? ", \"fold_equal\": true" : "");
    prime__buf_puts(b, " \"classes\": [");
    for (uint32_t i = 0; i < r->n_classes; i++) {
        const prime__class_stat *cs = &r->classes[i];
        prime__buf_puts(b, i ? ",\n  " : "\n  ");
        prime__buf_puts(b, "{\"class\": ");
        prime__buf_json_string(b, r->strings + cs->name_off);
        prime__buf_printf(b, ", \"images\": %llu, \"correct\": ", (unsigned long long)cs->images);
        prime__buf_double(b, cs->correct);
        prime__buf_puts(b, ", \"accuracy\": ");
        prime__buf_double(b, cs->accuracy);
        prime__buf_puts(b, "}");
    }
    prime__buf_puts(b, r->n_classes ? "],\n" : "],\n");
    prime__buf_puts(b, " \"failure_modes\": [");
    mode_record rec;
    for (uint64_t i = 0; i < r->n_modes; i++) {
        prime__buf_puts(b, i ? ",\n  " : "\n  ");
        mode_of(r, i, &rec);
        put_mode_json(b, &rec, false);
    }
    /* the number of candidate tag sets evaluated (prime_result_candidate_count):
       the honest m of a false-discovery-rate correction (prime eval --fdr) */
    prime__buf_printf(b, "],\n \"candidates\": %llu}\n",
                      (unsigned long long)r->n_candidates);
}

static void render_csv(const prime_result *r, prime__buf *b)
{
    prime__buf_puts(b, CSV_HEADER);
    mode_record rec;
    for (uint64_t i = 0; i < r->n_modes; i++) {
        mode_of(r, i, &rec);
        put_mode_csv(b, &rec);
    }
}

static void render_text(const prime_result *r, prime__buf *b)
{
    /* the modes of each class in their order: a search's result has them
       grouped by class already, a loaded one in the file's order */
    uint64_t *first = prime__calloc((size_t)r->n_classes + 1, sizeof *first);
    uint64_t *order = prime__malloc((r->n_modes ? (size_t)r->n_modes : 1) * sizeof *order);
    if (first == NULL || order == NULL) {
        prime__free(first);
        prime__free(order);
        b->failed = true;
        return;
    }
    for (uint64_t i = 0; i < r->n_modes; i++)
        first[r->modes[i].class_index + 1]++;
    for (uint32_t c = 0; c < r->n_classes; c++)
        first[c + 1] += first[c];
    for (uint64_t i = 0, *next = first; i < r->n_modes; i++)
        order[next[r->modes[i].class_index]++] = i;
    /* next[] advanced first[c] to the end of class c: first[c] now is the
       start of class c + 1 */
    uint64_t start = 0;
    for (uint32_t c = 0; c < r->n_classes; c++) {
        const prime__class_stat *cs = &r->classes[c];
        uint64_t end = first[c];
        prime__buf_printf(b, "%s: %llu images, accuracy %.4f, %llu failure mode%s\n",
                          r->strings + cs->name_off, (unsigned long long)cs->images,
                          cs->accuracy, (unsigned long long)(end - start),
                          end - start == 1 ? "" : "s");
        for (uint64_t j = start; j < end; j++) {
            const prime__mode *m = &r->modes[order[j]];
            prime__buf_printf(b, "  drop %.4f  accuracy %.4f  size %6llu  ", m->drop,
                              m->accuracy, (unsigned long long)m->size);
            for (uint32_t k = 0; k < m->n_tags; k++) {
                if (k)
                    prime__buf_puts(b, " + ");
                prime__buf_puts(b, r->strings + r->mode_tag_name_off[m->tag_first + k]);
            }
            prime__buf_putc(b, '\n');
        }
        start = end;
    }
    prime__free(first);
    prime__free(order);
    prime__buf_printf(b, "%llu failure mode%s in %u class%s\n", (unsigned long long)r->n_modes,
                      r->n_modes == 1 ? "" : "s", r->n_classes, r->n_classes == 1 ? "" : "es");
}

static prime_status render(const void *h, int32_t format, prime__buf *b)
{
    const prime_result *r = h;
    if (r == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "result is NULL");
    switch (format) {
    case PRIME_FORMAT_JSON: render_json(r, b); break;
    case PRIME_FORMAT_CSV: render_csv(r, b); break;
    case PRIME_FORMAT_TEXT: render_text(r, b); break;
    default: return prime__error(PRIME_E_INVALID_ARG, "unknown output format %d", format);
    }
    return PRIME_OK;
}

prime_status prime_result_render(const prime_result *r, int32_t format, char *buf, size_t cap,
                                 size_t *needed_out)
{
    if (needed_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_result_render: needed_out is NULL");
    return prime__render_deliver(render, r, format, "result", buf, cap, needed_out);
}

prime_status prime_result_write(const prime_result *r, int32_t format, const char *path)
{
    return prime__render_write(render, r, format, "result", path);
}

prime_status prime_mode_event_render(const prime_tagstore *store, const prime_mode_event *mode,
                                     int32_t format, char *buf, size_t cap, size_t *needed_out)
{
    if (needed_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_mode_event_render: needed_out is NULL");
    *needed_out = 0;
    if (format != PRIME_FORMAT_JSON && format != PRIME_FORMAT_CSV)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_mode_event_render: format %d is not JSON or CSV", format);
    if (mode == NULL) {
        /* the CSV header; nothing for JSON Lines */
        prime__buf h = {0};
        if (format == PRIME_FORMAT_CSV)
            prime__buf_puts(&h, CSV_HEADER);
        else
            prime__buf_puts(&h, "");
        if (h.failed) {
            prime__buf_free(&h);
            return prime__error(PRIME_E_NOMEM, "out of memory");
        }
        return prime__buf_deliver(&h, "record", buf, cap, needed_out);
    }
    if (store == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_mode_event_render: store is NULL");
    uint32_t n_tags = store->tags.count;
    if (mode->n_tags < 1 || mode->n_tags > PRIME_MAX_TAGS_LIMIT || mode->tags == NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_mode_event_render: a mode has 1..%d tags, not %u",
                            PRIME_MAX_TAGS_LIMIT, (unsigned)mode->n_tags);
    /* the names' forms, escaped once per store (NULL: escaped here) */
    const prime__name_forms *class_forms = prime__store_name_forms(store, false);
    const prime__name_forms *tag_forms = prime__store_name_forms(store, true);
    mode_record rec;
    if (mode->class_id == PRIME_NONE) {
        static const name_ref all = NAME_REF_LIT(ALL_CLASSES_NAME);
        rec.class_name = all;
    } else {
        const char *name = prime__names_get(&store->classes, mode->class_id);
        if (name == NULL)
            return prime__error(PRIME_E_INVALID_ARG,
                                "prime_mode_event_render: class %u is not in the store",
                                (unsigned)mode->class_id);
        rec.class_name = class_forms != NULL ? name_formed(class_forms, name, mode->class_id)
                                             : name_plain(name);
    }
    rec.n_tags = mode->n_tags;
    for (uint32_t k = 0; k < mode->n_tags; k++) {
        uint32_t t = mode->tags[k];
        if (t >= n_tags)
            return prime__error(PRIME_E_INVALID_ARG,
                                "prime_mode_event_render: tag %u is not in the store",
                                (unsigned)t);
        const char *name = prime__names_get(&store->tags, t);
        rec.tags[k] = tag_forms != NULL ? name_formed(tag_forms, name, t) : name_plain(name);
    }
    rec.size = mode->size;
    rec.correct = mode->correct;
    rec.accuracy = mode->accuracy;
    rec.class_accuracy = mode->class_accuracy;
    rec.drop = mode->drop;
    /* the description as prime__result_build writes it, from its pieces */
    rec.description = NULL;
    rec.desc_class = mode->class_id != PRIME_NONE;
    /* a caller's buffer with room for the longest text the record could
       be is written directly (it is left as it was only when too small);
       else one record fits on the stack but for very long names */
    char mem[1024];
    prime__buf b;
    bool direct = buf != NULL && cap > record_bound(&rec);
    if (direct)
        prime__buf_borrow(&b, buf, cap);
    else
        prime__buf_borrow(&b, mem, sizeof mem);
    if (format == PRIME_FORMAT_JSON)
        put_mode_json(&b, &rec, true);
    else
        put_mode_csv(&b, &rec);
    if (b.failed) {
        prime__buf_free(&b);
        return prime__error(PRIME_E_NOMEM, "out of memory");
    }
    if (direct && b.data == buf) { /* the room was there: nothing moved to the heap */
        *needed_out = b.len;
        return PRIME_OK;
    }
    return prime__buf_deliver(&b, "record", buf, cap, needed_out);
}
