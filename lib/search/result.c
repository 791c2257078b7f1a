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

/* qsort has no context argument in C11: the comparators read these. They
 * are only set while building, under the build's own stack frame, so a
 * thread-local copy keeps concurrent builds apart. */
static _Thread_local const char *sort_strings;
static _Thread_local const uint64_t *sort_tag_off;   /* store tag id -> name offset + 1 */
static _Thread_local const uint32_t *sort_mode_rank; /* parallel to mode_tags */

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
 * (+1) of its first four tags in 16-bit fields, first tag highest, 0 for
 * none (so a prefix sorts first), when fewer than 65,535 tags are ranked
 * (else 0), and its index; ties are broken on all the tag-name ranks. */
typedef struct {
    uint32_t class_index, index;
    uint64_t drop;
    uint64_t tags;
} mode_key;

static _Thread_local const prime__mode *sort_modes;

static uint64_t drop_key(double d)
{
    if (d == 0.0)
        d = 0.0;
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

static int cmp_mode(const void *a, const void *b)
{
    const mode_key *kx = a, *ky = b;
    if (kx->class_index != ky->class_index)
        return kx->class_index < ky->class_index ? -1 : 1;
    if (kx->drop != ky->drop)
        return kx->drop > ky->drop ? -1 : 1; /* largest drop first */
    if (kx->tags != ky->tags)
        return kx->tags < ky->tags ? -1 : 1;
    /* tag names element by element (a prefix first): their ranks in byte
       order of the names (names are unique, so ranks order as names) */
    const prime__mode *x = &sort_modes[kx->index], *y = &sort_modes[ky->index];
    uint32_t n = x->n_tags < y->n_tags ? x->n_tags : y->n_tags;
    const uint32_t *rx = sort_mode_rank + x->tag_first, *ry = sort_mode_rank + y->tag_first;
    for (uint32_t k = 0; k < n; k++)
        if (rx[k] != ry[k])
            return rx[k] < ry[k] ? -1 : 1;
    return (x->n_tags > y->n_tags) - (x->n_tags < y->n_tags);
}

static uint64_t pool_add(prime__buf *pool, const char *s)
{
    uint64_t off = pool->len;
    prime__buf_append(pool, s, strlen(s) + 1);
    return off;
}

/* Modes between two calls of the tick function. */
#define TICK_MODES 16384u

/* Sort keys[0..n) with cmp_mode: runs of TICK_MODES sorted with qsort,
 * then merged pairwise, with a tick after every run and every TICK_MODES
 * merged keys. Returns the sorted array (keys or *tmp, the other one is
 * scratch), or NULL when the tick asked to stop. */
static mode_key *sort_keys(mode_key *keys, mode_key *tmp, uint64_t n, prime__tick_fn tick,
                           void *tick_ctx)
{
    for (uint64_t a = 0; a < n; a += TICK_MODES) {
        uint64_t len = n - a < TICK_MODES ? n - a : TICK_MODES;
        qsort(keys + a, (size_t)len, sizeof *keys, cmp_mode);
        if (tick != NULL && tick(tick_ctx) != 0)
            return NULL;
    }
    mode_key *src = keys, *dst = tmp;
    for (uint64_t width = TICK_MODES; width < n; width *= 2) {
        uint64_t since = 0;
        for (uint64_t a = 0; a < n; a += 2 * width) {
            uint64_t mid = a + width < n ? a + width : n;
            uint64_t end = a + 2 * width < n ? a + 2 * width : n;
            uint64_t i = a, j = mid, k = a;
            while (i < mid && j < end) {
                /* the left run first on ties: keys are distinct anyway */
                if (cmp_mode(&src[j], &src[i]) < 0)
                    dst[k++] = src[j++];
                else
                    dst[k++] = src[i++];
                if (++since == TICK_MODES) {
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
                                       class_correct, raw, n_modes, NULL, NULL, out);
}

/* A tick every TICK_MODES modes of a loop over the modes. */
#define TICK(i)                                                                       \
    do {                                                                              \
        if (tick != NULL && ((i) + 1) % TICK_MODES == 0 && tick(tick_ctx) != 0)       \
            goto cancelled;                                                           \
    } while (0)

prime_status prime__result_build_ticking(const prime_tagstore *store,
                                         const prime_config *config, uint32_t n_classes,
                                         const uint32_t *class_ids,
                                         const uint64_t *class_images,
                                         const double *class_correct,
                                         const prime__raw_mode *raw, uint64_t n_modes,
                                         prime__tick_fn tick, void *tick_ctx,
                                         prime_result **out)
{
    prime_result *r = prime__calloc(1, sizeof *r);
    prime__buf pool = {0};
    uint64_t *tag_off_of = NULL;  /* store tag id -> offset in pool, +1 (0 = none) */
    uint32_t *class_rank = NULL;  /* input class index -> sorted index */
    uint32_t *used = NULL;        /* the distinct tags of the modes, by name */
    uint32_t *rank_of = NULL;     /* store tag id -> rank in `used` */
    uint32_t *mode_rank = NULL;   /* parallel to mode_tags */
    mode_key *keys = NULL, *keys2 = NULL;
    prime_status status = PRIME_OK;
    if (r == NULL)
        goto nomem;
    r->config = *config;
    uint64_t n_mode_tags = 0;
    for (uint64_t i = 0; i < n_modes; i++)
        n_mode_tags += raw[i].n_tags;
    r->classes = prime__calloc(n_classes ? n_classes : 1, sizeof *r->classes);
    r->modes = prime__calloc(n_modes ? (size_t)n_modes : 1, sizeof *r->modes);
    r->mode_tags = prime__malloc((size_t)(n_mode_tags ? n_mode_tags : 1) * sizeof(uint32_t));
    r->mode_tag_name_off =
        prime__malloc((size_t)(n_mode_tags ? n_mode_tags : 1) * sizeof(uint64_t));
    tag_off_of = prime__calloc((size_t)store->tags.count + 1, sizeof(uint64_t));
    class_rank = prime__malloc(((size_t)n_classes + 1) * sizeof(uint32_t));
    used = prime__malloc(((size_t)store->tags.count + 1) * sizeof(uint32_t));
    rank_of = prime__malloc(((size_t)store->tags.count + 1) * sizeof(uint32_t));
    mode_rank = prime__malloc((size_t)(n_mode_tags ? n_mode_tags : 1) * sizeof(uint32_t));
    if (r->classes == NULL || r->modes == NULL || r->mode_tags == NULL ||
        r->mode_tag_name_off == NULL || tag_off_of == NULL || class_rank == NULL ||
        used == NULL || rank_of == NULL || mode_rank == NULL)
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
    for (uint32_t k = 0; k < n_used; k++)
        rank_of[used[k]] = k;

    /* modes: tags sorted by name, statistics */
    uint64_t t = 0;
    for (uint64_t i = 0; i < n_modes; i++) {
        TICK(i);
        const prime__raw_mode *m = &raw[i];
        prime__mode *d = &r->modes[i];
        d->class_index = class_rank[m->class_index];
        d->n_tags = m->n_tags;
        d->tag_first = (uint32_t)t;
        /* insertion sort by rank (at most PRIME_MAX_TAGS_LIMIT tags) */
        uint32_t *rk = mode_rank + t, *tg = r->mode_tags + t;
        for (uint32_t k = 0; k < m->n_tags; k++) {
            uint32_t tag = m->tags[k], x = rank_of[tag], at = k;
            while (at > 0 && rk[at - 1] > x) {
                rk[at] = rk[at - 1];
                tg[at] = tg[at - 1];
                at--;
            }
            rk[at] = x;
            tg[at] = tag;
        }
        for (uint32_t k = 0; k < m->n_tags; k++)
            r->mode_tag_name_off[t + k] = tag_off_of[tg[k]] - 1;
        t += m->n_tags;
        d->size = m->size;
        d->correct = m->correct;
        d->accuracy = m->correct / (double)m->size;
        d->drop = r->classes[d->class_index].accuracy - d->accuracy;
    }
    r->n_modes = n_modes;
    r->n_mode_tags = n_mode_tags;
    sort_mode_rank = mode_rank;
    sort_modes = r->modes;
    keys = prime__malloc((size_t)(n_modes ? n_modes : 1) * sizeof *keys);
    keys2 = prime__malloc((size_t)(n_modes > TICK_MODES ? n_modes : 1) * sizeof *keys2);
    if (keys == NULL || keys2 == NULL)
        goto nomem;
    for (uint64_t i = 0; i < n_modes; i++) {
        TICK(i);
        keys[i].class_index = r->modes[i].class_index;
        keys[i].index = (uint32_t)i;
        keys[i].drop = drop_key(r->modes[i].drop);
        keys[i].tags = 0;
        if (n_used < 65535u) {
            const prime__mode *d = &r->modes[i];
            for (uint32_t k = 0; k < 4; k++) {
                uint64_t f = k < d->n_tags ? (uint64_t)mode_rank[d->tag_first + k] + 1 : 0;
                keys[i].tags |= f << (48 - 16 * k);
            }
        }
    }
    {
        mode_key *sorted = sort_keys(keys, keys2, n_modes, tick, tick_ctx);
        if (sorted == NULL)
            goto cancelled;
        if (sorted != keys) {
            keys2 = keys;
            keys = sorted;
        }
        prime__free(keys2);
        keys2 = NULL;
    }
    /* modes[i] = old modes[keys[i].index], in place, cycle by cycle (a
       placed position gets index = itself) */
    for (uint64_t i = 0; i < n_modes; i++) {
        TICK(i);
        if (keys[i].index == i)
            continue;
        prime__mode tmp = r->modes[i];
        uint64_t j = i;
        while (keys[j].index != i) {
            uint64_t from = keys[j].index;
            r->modes[j] = r->modes[from];
            keys[j].index = (uint32_t)j;
            j = from;
        }
        r->modes[j] = tmp;
        keys[j].index = (uint32_t)j;
    }
    prime__free(keys);
    keys = NULL;
    sort_modes = NULL;
    sort_mode_rank = NULL;
    prime__free(mode_rank);
    mode_rank = NULL;
    {
        /* the modes' tags laid out in the modes' new order, so that the
           descriptions below, the writers and the accessors read them in
           sequence, not scattered over the arrays */
        uint32_t *tags2 = prime__malloc((size_t)(n_mode_tags ? n_mode_tags : 1) * sizeof *tags2);
        uint64_t *off2 = prime__malloc((size_t)(n_mode_tags ? n_mode_tags : 1) * sizeof *off2);
        if (tags2 == NULL || off2 == NULL) {
            prime__free(tags2);
            prime__free(off2);
            goto nomem;
        }
        uint64_t at = 0;
        for (uint64_t i = 0; i < n_modes; i++) {
            if (tick != NULL && (i + 1) % TICK_MODES == 0 && tick(tick_ctx) != 0) {
                prime__free(tags2);
                prime__free(off2);
                goto cancelled;
            }
            prime__mode *d = &r->modes[i];
            for (uint32_t k = 0; k < d->n_tags; k++) {
                tags2[at + k] = r->mode_tags[d->tag_first + k];
                off2[at + k] = r->mode_tag_name_off[d->tag_first + k];
            }
            d->tag_first = (uint32_t)at;
            at += d->n_tags;
        }
        prime__free(r->mode_tags);
        prime__free(r->mode_tag_name_off);
        r->mode_tags = tags2;
        r->mode_tag_name_off = off2;
    }
    for (uint64_t i = 0; i < n_modes; i++) {
        TICK(i);
        prime__mode *d = &r->modes[i];
        d->description_off = pool.len;
        prime__buf_puts(&pool, "a photo of");
        if (r->classes[d->class_index].class_id != PRIME_NONE) {
            prime__buf_putc(&pool, ' ');
            prime__buf_puts(&pool, pool.data + r->classes[d->class_index].name_off);
        }
        for (uint32_t k = 0; k < d->n_tags; k++) {
            prime__buf_putc(&pool, ' ');
            prime__buf_puts(&pool, pool.data + r->mode_tag_name_off[d->tag_first + k]);
        }
        prime__buf_putc(&pool, '\0');
        if (pool.failed)
            goto nomem;
    }
    if (pool.data == NULL)
        prime__buf_putc(&pool, '\0');
    if (pool.failed)
        goto nomem;
    r->strings = pool.data;
    r->strings_len = pool.len;
    sort_strings = NULL;
    sort_tag_off = NULL;
    sort_mode_rank = NULL;
    prime__free(tag_off_of);
    prime__free(class_rank);
    prime__free(used);
    prime__free(rank_of);
    prime__free(mode_rank);
    *out = r;
    return PRIME_OK;

nomem:
    status = prime__error(PRIME_E_NOMEM, "out of memory building the result");
    goto fail;
cancelled:
    status = prime__error(PRIME_E_CANCELLED, "prime_search: cancelled by the progress callback");
fail:
    prime__free(keys);
    prime__free(keys2);
    sort_modes = NULL;
    sort_strings = NULL;
    sort_tag_off = NULL;
    sort_mode_rank = NULL;
    prime__buf_free(&pool);
    prime__free(tag_off_of);
    prime__free(class_rank);
    prime__free(used);
    prime__free(rank_of);
    prime__free(mode_rank);
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

/* One failure mode's record, shared by the result's writers and
 * prime_mode_event_render: its class, tags (in their order), numbers and
 * description. A NULL description is the one prime__result_build writes,
 * "a photo of" then desc_class (if not NULL) and the tags, each after a
 * space: written from those pieces, never built in memory. */
typedef struct {
    const char *class_name;
    const char *tags[PRIME_MAX_TAGS_LIMIT];
    uint32_t n_tags;
    uint64_t size;
    double correct, accuracy, class_accuracy, drop;
    const char *description;
    const char *desc_class;
} mode_record;

#define DESC_START "a photo of"

/* A mode's class accuracy: the same for every mode of a class, and the
 * modes of a class come one after another, so the text of the last one
 * written (per thread, by the value's bits) is used again. */
static _Thread_local uint64_t last_class_acc_bits;
static _Thread_local size_t last_class_acc_len; /* 0: none yet */
static _Thread_local char last_class_acc[PRIME__DOUBLE_CHARS];

static void put_class_accuracy(prime__buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    if (last_class_acc_len == 0 || bits != last_class_acc_bits) {
        last_class_acc_len = prime__format_double(v, last_class_acc);
        last_class_acc_bits = bits;
    }
    prime__buf_append(b, last_class_acc, last_class_acc_len);
}

static void put_description_json(prime__buf *b, const mode_record *m)
{
    if (m->description != NULL) {
        prime__buf_json_string(b, m->description);
        return;
    }
    PRIME__BUF_LIT(b, "\"" DESC_START);
    if (m->desc_class != NULL) {
        prime__buf_putc(b, ' ');
        prime__buf_json_chars(b, m->desc_class);
    }
    for (uint32_t k = 0; k < m->n_tags; k++) {
        prime__buf_putc(b, ' ');
        prime__buf_json_chars(b, m->tags[k]);
    }
    prime__buf_putc(b, '"');
}

/* The object of the JSON's "failure_modes" array (no separator around it). */
static void put_mode_json(prime__buf *b, const mode_record *m)
{
    PRIME__BUF_LIT(b, "{\"class\": ");
    prime__buf_json_string(b, m->class_name);
    PRIME__BUF_LIT(b, ", \"tags\": [");
    for (uint32_t k = 0; k < m->n_tags; k++) {
        if (k)
            PRIME__BUF_LIT(b, ", ");
        prime__buf_json_string(b, m->tags[k]);
    }
    PRIME__BUF_LIT(b, "], \"size\": ");
    prime__buf_u64(b, m->size);
    PRIME__BUF_LIT(b, ", \"correct\": ");
    prime__buf_double(b, m->correct);
    PRIME__BUF_LIT(b, ", \"accuracy\": ");
    prime__buf_double(b, m->accuracy);
    PRIME__BUF_LIT(b, ", \"class_accuracy\": ");
    put_class_accuracy(b, m->class_accuracy);
    PRIME__BUF_LIT(b, ", \"drop\": ");
    prime__buf_double(b, m->drop);
    PRIME__BUF_LIT(b, ", \"description\": ");
    put_description_json(b, m);
    PRIME__BUF_LIT(b, "}");
}

#define CSV_HEADER "class,tags,size,correct,accuracy,class_accuracy,drop,description\n"

/* A CSV field made of pieces (NULL ones skipped), sep before each piece but
 * the first: quoted as prime__buf_csv_field quotes the whole. */
static void put_csv_pieces(prime__buf *b, const char *const *piece, uint32_t n, char sep)
{
    bool quote = false;
    for (uint32_t k = 0; k < n && !quote; k++)
        quote = piece[k] != NULL && prime__csv_needs_quotes(piece[k]);
    if (quote)
        prime__buf_putc(b, '"');
    bool first = true;
    for (uint32_t k = 0; k < n; k++) {
        if (piece[k] == NULL)
            continue;
        if (!first)
            prime__buf_putc(b, sep);
        first = false;
        if (quote)
            prime__buf_csv_chars(b, piece[k]);
        else
            prime__buf_puts(b, piece[k]);
    }
    if (quote)
        prime__buf_putc(b, '"');
}

/* One CSV row, its line end included. */
static void put_mode_csv(prime__buf *b, const mode_record *m)
{
    prime__buf_csv_field(b, m->class_name);
    prime__buf_putc(b, ',');
    put_csv_pieces(b, m->tags, m->n_tags, '|');
    prime__buf_putc(b, ',');
    prime__buf_u64(b, m->size);
    prime__buf_putc(b, ',');
    prime__buf_double(b, m->correct);
    prime__buf_putc(b, ',');
    prime__buf_double(b, m->accuracy);
    prime__buf_putc(b, ',');
    put_class_accuracy(b, m->class_accuracy);
    prime__buf_putc(b, ',');
    prime__buf_double(b, m->drop);
    prime__buf_putc(b, ',');
    if (m->description != NULL) {
        prime__buf_csv_field(b, m->description);
    } else {
        const char *piece[2 + PRIME_MAX_TAGS_LIMIT] = {DESC_START, m->desc_class};
        for (uint32_t k = 0; k < m->n_tags; k++)
            piece[2 + k] = m->tags[k];
        put_csv_pieces(b, piece, 2 + m->n_tags, ' ');
    }
    prime__buf_putc(b, '\n');
}

/* Mode i of r as a record. */
static void mode_of(const prime_result *r, uint64_t i, mode_record *out)
{
    const prime__mode *m = &r->modes[i];
    out->class_name = r->strings + r->classes[m->class_index].name_off;
    out->n_tags = m->n_tags;
    for (uint32_t k = 0; k < m->n_tags; k++)
        out->tags[k] = r->strings + r->mode_tag_name_off[m->tag_first + k];
    out->size = m->size;
    out->correct = m->correct;
    out->accuracy = m->accuracy;
    out->class_accuracy = r->classes[m->class_index].accuracy;
    out->drop = m->drop;
    out->description = r->strings + m->description_off;
    out->desc_class = NULL;
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
        put_mode_json(b, &rec);
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
    uint32_t n_tags = prime_tagstore_tag_count(store);
    if (mode->n_tags < 1 || mode->n_tags > PRIME_MAX_TAGS_LIMIT || mode->tags == NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_mode_event_render: a mode has 1..%d tags, not %u",
                            PRIME_MAX_TAGS_LIMIT, (unsigned)mode->n_tags);
    mode_record rec;
    if (mode->class_id == PRIME_NONE) {
        rec.class_name = ALL_CLASSES_NAME;
    } else {
        rec.class_name = prime_tagstore_class_name(store, mode->class_id);
        if (rec.class_name == NULL)
            return prime__error(PRIME_E_INVALID_ARG,
                                "prime_mode_event_render: class %u is not in the store",
                                (unsigned)mode->class_id);
    }
    rec.n_tags = mode->n_tags;
    for (uint32_t k = 0; k < mode->n_tags; k++) {
        if (mode->tags[k] >= n_tags)
            return prime__error(PRIME_E_INVALID_ARG,
                                "prime_mode_event_render: tag %u is not in the store",
                                (unsigned)mode->tags[k]);
        rec.tags[k] = prime_tagstore_tag_name(store, mode->tags[k]);
    }
    rec.size = mode->size;
    rec.correct = mode->correct;
    rec.accuracy = mode->accuracy;
    rec.class_accuracy = mode->class_accuracy;
    rec.drop = mode->drop;
    /* the description as prime__result_build writes it, from its pieces */
    rec.description = NULL;
    rec.desc_class = mode->class_id != PRIME_NONE ? rec.class_name : NULL;
    /* one record fits on the stack but for very long names */
    char mem[1024];
    prime__buf b;
    prime__buf_borrow(&b, mem, sizeof mem);
    if (format == PRIME_FORMAT_JSON) {
        put_mode_json(&b, &rec);
        prime__buf_putc(&b, '\n');
    } else {
        put_mode_csv(&b, &rec);
    }
    if (b.failed) {
        prime__buf_free(&b);
        return prime__error(PRIME_E_NOMEM, "out of memory");
    }
    return prime__buf_deliver(&b, "record", buf, cap, needed_out);
}
