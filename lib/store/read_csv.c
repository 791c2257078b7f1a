/* The tags CSV reader: rows of image, class, tags (and an optional outcome)
 * into a tag store, on the tokenizer of lib/io/csv.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv_scan.h"
#include "store/store.h"
#include "store/tag_cache.h"

/* ---- the tags CSV reader ------------------------------------------------------ *
 *
 * Speed: the tags of a row are split with one '|' mask per 64 bytes; a tag
 * of at most 16 bytes is looked up in a reader-local cache keyed by its
 * bytes (no hashing of the text, no visit to the store's name bytes); the
 * short id list of a row is sorted with a branch-free rank sort; images are
 * appended without indexing, and the image index is built once at the end
 * (prefetching), which is also where duplicate images are found. Memory is
 * reserved from an estimate taken on the first bytes of the body. */

enum { COL_IMAGE, COL_CLASS, COL_TAGS, COL_CORRECT, COL_SCORE, N_COLS };

/* Line of data record k (0-based) of a tags CSV; 0 if it cannot be found. */
static uint64_t record_line(const char *data, size_t size, const char *name, uint32_t k)
{
    prime__csv c;
    static const char *const none[1] = {""};
    int32_t col[1];
    uint64_t line = 0;
    if (prime__csv_open(&c, data, size, name) == PRIME_OK &&
        prime__csv_header(&c, none, 0, col) == PRIME_OK) {
        bool got = true;
        for (uint32_t i = 0; got; i++) {
            if (prime__csv_next(&c, &got) != PRIME_OK || !got)
                break;
            if (i == k) {
                line = c.rec_line;
                break;
            }
        }
    }
    prime__csv_free(&c);
    return line;
}

/* Estimate of the records and tag references of a body data[from..size)
 * from its first bytes, to reserve memory once. */
static void estimate(const char *data, size_t size, size_t from, size_t *rows, size_t *refs)
{
    size_t body = size - from, sample = body < (1u << 18) ? body : (1u << 18);
    size_t lines = 0, pipes = 0;
    const char *p = data + from;
    for (size_t i = 0; i < sample; i++) {
        lines += p[i] == '\n';
        pipes += p[i] == '|';
    }
    if (lines == 0) {
        *rows = *refs = 0;
        return;
    }
    double scale = (double)body / (double)sample;
    double r = (double)lines * scale, t = (double)(pipes + lines) * scale;
    /* a record takes at least 6 bytes ("i,c,t\n"), a reference 2 */
    double max_r = (double)body / 6 + 1, max_t = (double)body / 2 + 1;
    *rows = (size_t)(r < max_r ? r : max_r) + 1;
    *refs = (size_t)(t < max_t ? t : max_t) + 1;
}

/* After an error at a later record (or at the end), the first duplicate
 * image among those added, if any, is the first problem in file order:
 * build the image index; on a duplicate, set its message and return
 * PRIME_E_DUPLICATE. */
static prime_status check_images(prime_tagstore *s, const char *data, size_t size,
                                 const char *name)
{
    uint32_t dup = PRIME_NONE;
    prime_status st = prime__names_build_index(&s->images, &dup);
    if (st != PRIME_E_DUPLICATE)
        return st;
    const char *img = prime__names_get(&s->images, dup);
    size_t n = prime__names_len(&s->images, dup);
    uint32_t first = prime__names_find(&s->images, img, n);
    uint64_t line = record_line(data, size, name, dup);
    uint64_t first_line = first != PRIME_NONE ? record_line(data, size, name, first) : 0;
    return prime__error(PRIME_E_DUPLICATE,
                        "%s:%" PRIu64 ": duplicate image \"%.*s\" (first on line %" PRIu64 ")",
                        name, line, prime__show_len(img, n), img, first_line);
}

static prime_status empty_tag(const char *name, uint64_t line, const prime__csv_field *ft)
{
    return prime__error(PRIME_E_PARSE,
                        "%s:%" PRIu64 ": empty tag name in \"%.*s\" (tags are "
                        "separated by a single '|')",
                        name, line, prime__show_len(ft->p, ft->n), ft->p);
}

/* Id of tag p[0..k) of field ft (k != 1..16 or near the end of the text):
 * the checks, then the cache or the store. */
static prime_status __attribute__((noinline))
tag_slow(tag_cache *cache, prime_tagstore *s, const char *p, size_t k, const char *name,
         uint64_t line, const prime__csv_field *ft, uint32_t *id_out)
{
    if (k == 0)
        return empty_tag(name, line, ft);
    if (k > PRIME_MAX_TAG_NAME)
        return prime__error(PRIME_E_LIMIT,
                            "%s:%" PRIu64 ": tag name of %zu bytes (the limit is %d): "
                            "\"%.*s...\"",
                            name, line, k, PRIME_MAX_TAG_NAME, prime__show_len(p, k), p);
    prime_status st;
    if (k > 16) {
        st = prime__store_intern_tag(s, p, k, id_out);
    } else {
        uint64_t a, b;
        tag_words_safe(p, k, &a, &b);
        uint32_t id = tag_cache_get(cache, a, b, k);
        if (id != PRIME_NONE) {
            *id_out = id;
            return PRIME_OK;
        }
        st = tag_miss(cache, s, p, k, a, b, id_out);
    }
    if (st != PRIME_OK)
        st = prime__error_at(st, name, line);
    return st;
}

prime_status prime__read_tags_csv(const char *data, size_t size, const char *name,
                                  prime_tagstore **store_out, prime_outcomes **outcomes_out)
{
    return prime__read_tags_csv_checked(data, size, name, false, store_out, outcomes_out);
}

prime_status prime__read_tags_csv_checked(const char *data, size_t size, const char *name,
                                          bool checked, prime_tagstore **store_out,
                                          prime_outcomes **outcomes_out)
{
    if (store_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime__read_tags_csv: store_out is NULL");
    if (name == NULL)
        name = PRIME__NONAME;
    static const char *const cols[N_COLS] = {"image", "class", "tags", "correct", "score"};
    int32_t col[N_COLS] = {-1, -1, -1, -1, -1};
    prime__csv c;
    prime_tagstore *s = NULL;
    double *vals = NULL;
    size_t vals_cap = 0;
    uint32_t *tids = NULL;
    size_t tids_cap = 0;
    pending *pend = NULL;
    size_t pend_cap = 0;
    tag_cache cache = {NULL, 0, 64, 0};
    uint32_t n_images = 0;
    bool indexed = false; /* the image index is built */
    prime_status st = prime__csv_open_checked(&c, data, size, name, checked);
    if (st != PRIME_OK)
        goto done;
    if ((st = prime__csv_header(&c, cols, N_COLS, col)) != PRIME_OK)
        goto done;
    for (int k = COL_IMAGE; k <= COL_TAGS; k++) {
        if (col[k] < 0) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": missing column \"%s\"", name,
                              c.rec_line, cols[k]);
            goto done;
        }
    }
    uint32_t n_cols = c.n_fields;
    int out_kind = PRIME__OUT_NONE;
    int32_t out_col = -1;
    if (col[COL_CORRECT] >= 0) {
        out_kind = PRIME__OUT_CORRECT;
        out_col = col[COL_CORRECT];
    } else if (col[COL_SCORE] >= 0) {
        out_kind = PRIME__OUT_SCORE;
        out_col = col[COL_SCORE];
    }
    bool keep = out_kind != PRIME__OUT_NONE && outcomes_out != NULL;
    if ((st = prime_tagstore_create(&s)) != PRIME_OK)
        goto done;
    {
        size_t est_rows, est_refs;
        estimate(c.data, c.size, c.pos, &est_rows, &est_refs);
        if (est_rows > 0) {
            if ((st = prime__store_reserve(s, est_rows, est_refs, 0)) != PRIME_OK) {
                st = prime__error_at(st, name, c.line);
                goto done;
            }
            if (keep && !prime__grow((void **)&vals, &vals_cap, est_rows, sizeof *vals)) {
                st = prime__error(PRIME_E_NOMEM, "%s:%" PRIu64 ": out of memory", name, c.line);
                goto done;
            }
        }
    }
    uint32_t ci = (uint32_t)col[COL_IMAGE], cc = (uint32_t)col[COL_CLASS],
             ct = (uint32_t)col[COL_TAGS];
    const char *text = c.data, *text_end = c.data + c.size;
    /* cache of the last class: rows of one class usually come together */
    const char *last_class = NULL;
    size_t last_class_n = 0;
    uint32_t last_class_id = PRIME_NONE;
    for (;;) {
        bool got = true;
        if (!prime__csv_next_simple(&c, n_cols) && (st = prime__csv_next(&c, &got)) != PRIME_OK)
            goto done;
        if (!got)
            break;
        uint64_t line = c.rec_line;
        if (c.n_fields != n_cols) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": expected %u fields, found %u", name,
                              line, n_cols, c.n_fields);
            goto done;
        }
        const prime__csv_field *fi = &c.fields[ci], *fc = &c.fields[cc], *ft = &c.fields[ct];
        if (fi->n == 0) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": empty image name", name, line);
            goto done;
        }
        if (fc->n == 0) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": empty class name", name, line);
            goto done;
        }
        /* outcome */
        double v = 0;
        if (out_kind != PRIME__OUT_NONE) {
            const prime__csv_field *fo = &c.fields[out_col];
            if (out_kind == PRIME__OUT_CORRECT && fo->n == 1 &&
                (fo->p[0] == '0' || fo->p[0] == '1'))
                v = fo->p[0] - '0';
            else if ((st = prime__parse_outcome(out_kind, fo->p, fo->n, name, line, &v)) !=
                     PRIME_OK)
                goto done;
        }
        /* class */
        uint32_t class_id;
        if (last_class != NULL && last_class_n == fc->n &&
            memcmp(last_class, fc->p, fc->n) == 0) {
            class_id = last_class_id;
        } else {
            if ((st = prime__store_intern_class(s, fc->p, fc->n, &class_id)) != PRIME_OK) {
                st = prime__error_at(st, name, line);
                goto done;
            }
            bool stable = fc->p >= text && fc->p < text_end; /* not scratch */
            last_class = stable ? fc->p : NULL;
            last_class_n = fc->n;
            last_class_id = class_id;
        }
        /* tags */
        uint32_t nt = 0;
        const char *tp = ft->p;
        size_t tn = ft->n;
        if (tn > 0) {
            bool in_text = tp >= text && tp < text_end; /* not scratch */
            /* the readable bytes: to the end of the text, or of the field */
            const char *lim = in_text ? text_end : tp + tn;
            /* a field of tn bytes splits into at most tn + 1 pieces (all
               empty when it is only '|'; that is an error, but found later) */
            size_t most = tn + 1;
            if (most > tids_cap &&
                (most >= UINT32_MAX ||
                 !prime__grow((void **)&tids, &tids_cap, most, sizeof *tids) ||
                 !prime__grow((void **)&pend, &pend_cap, most, sizeof *pend))) {
                st = prime__error(PRIME_E_NOMEM, "%s:%" PRIu64 ": out of memory", name, line);
                goto done;
            }
            /* pass 1: split, take the words of the short tags and prefetch
               their cache slots, so that the misses overlap */
            size_t start = 0, nq = 0;
            unsigned shift1 = cache.shift; /* a resize in pass 2 moves the slots */
            bool had_slots = cache.slots != NULL;
            for (size_t base = 0; base <= tn; base += 64) {
                uint64_t m = pipe_mask(tp + base, lim);
                size_t rem = tn - base;
                if (rem < 64) /* the end of the field ends the last tag */
                    m = (m & ((1ull << rem) - 1)) | (1ull << rem);
                while (m != 0) {
                    size_t q = base + (size_t)__builtin_ctzll(m);
                    m &= m - 1;
                    const char *p = tp + start;
                    size_t k = q - start;
                    start = q + 1;
                    pending *e = &pend[nq++];
                    e->p = p;
                    e->k = (uint32_t)k;
                    /* fast: 1..16 bytes, with 8 readable bytes before the
                       tag (in the text, after the header) and 16 after */
                    if (k - 1 < 16 && in_text && p - text >= 8 && text_end - p >= 16) {
                        tag_words_fast(p, k, &e->a, &e->b);
                        e->slot = cache.slots != NULL
                                      ? (uint32_t)tag_hash(e->a, e->b, k, cache.shift)
                                      : 0;
                        if (cache.slots != NULL)
                            __builtin_prefetch(cache.slots + e->slot);
                    } else {
                        e->k = 0; /* the slow way */
                        e->slot = (uint32_t)k;
                    }
                }
            }
            /* pass 2: the ids, in order (errors in order too) */
            for (size_t x = 0; x < nq; x++) {
                const pending *e = &pend[x];
                uint32_t id = PRIME_NONE;
                if (e->k != 0) {
                    if (cache.slots != NULL)
                        id = tag_cache_get_at(&cache, e->a, e->b, e->k,
                                              had_slots && cache.shift == shift1
                                                  ? e->slot
                                                  : tag_hash(e->a, e->b, e->k, cache.shift));
                    if (id == PRIME_NONE &&
                        (st = tag_miss(&cache, s, e->p, e->k, e->a, e->b, &id)) != PRIME_OK) {
                        st = prime__error_at(st, name, line);
                        goto done;
                    }
                } else if ((st = tag_slow(&cache, s, e->p, e->slot, name, line, ft, &id)) !=
                           PRIME_OK) {
                    goto done;
                }
                tids[nt++] = id;
            }
            if (nt <= SMALL_SORT_MAX && s->tags.count <= (1u << 27)) {
                if (nt > 1)
                    nt = sort_unique_small(tids, nt);
            } else {
                nt = (uint32_t)prime__sort_unique_u32(tids, nt);
            }
        }
        if ((st = prime__store_append_image(s, fi->p, fi->n, class_id, tids, nt)) != PRIME_OK) {
            st = prime__error_at(st, name, line);
            goto done;
        }
        if (keep) {
            if (n_images >= vals_cap &&
                !prime__grow((void **)&vals, &vals_cap, (size_t)n_images + 1, sizeof *vals)) {
                st = prime__error(PRIME_E_NOMEM, "%s:%" PRIu64 ": out of memory", name, line);
                goto done;
            }
            vals[n_images] = v;
        }
        n_images++;
    }
    indexed = true;
    if ((st = check_images(s, data, size, name)) != PRIME_OK)
        goto done;
    if ((st = prime_tagstore_freeze(s)) != PRIME_OK) {
        st = prime__error_at(st, name, c.line);
        goto done;
    }
    prime_outcomes *o = NULL;
    if (keep) {
        /* the values move into the outcomes (which hold n + 1 doubles) */
        if ((vals_cap < (size_t)n_images + 1 &&
             !prime__grow((void **)&vals, &vals_cap, (size_t)n_images + 1, sizeof *vals))) {
            st = prime__error(PRIME_E_NOMEM, "%s:%" PRIu64 ": out of memory", name, c.line);
            goto done;
        }
        if ((st = prime_outcomes_create(0, &o)) != PRIME_OK)
            goto done;
        prime__free(o->v);
        if (vals_cap > (size_t)n_images + 4096) { /* an estimate too high: give back */
            double *fit = prime__realloc(vals, ((size_t)n_images + 1) * sizeof *vals);
            if (fit != NULL)
                vals = fit;
        }
        o->v = vals;
        o->n = n_images;
        vals = NULL;
    }
    *store_out = s;
    s = NULL;
    if (outcomes_out != NULL)
        *outcomes_out = o;
done:
    /* an error at a later record: a duplicate image before it comes first */
    if (st != PRIME_OK && !indexed && s != NULL && s->images.count > 1) {
        char msg[1024];
        prime_last_error_copy(msg, sizeof msg);
        if (check_images(s, data, size, name) == PRIME_E_DUPLICATE)
            st = PRIME_E_DUPLICATE;
        else
            prime__error(st, "%s", msg);
    }
    prime_tagstore_destroy(s);
    prime__free(vals);
    prime__free(tids);
    prime__free(pend);
    prime__free(cache.slots);
    prime__csv_free(&c);
    return st;
}
