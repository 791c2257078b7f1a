/* The random data sets and parameters of the search tests: generated
 * stores with planted failure modes (tests/test_search.c compares the search
 * with a brute force on them; tests/test_sharded.c the sharded search with
 * prime_search). Included by one test file each (static functions). */
#ifndef PRIME_TEST_SEARCH_GEN_H
#define PRIME_TEST_SEARCH_GEN_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAXV 64 /* largest vocabulary of the generated stores (tag masks) */

/* ---- random numbers -------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
    return n == 0 ? 0 : (uint32_t)(rnd() % n);
}

static double unit(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* ---- a generated data set -------------------------------------------------- */

typedef struct {
    uint32_t n_classes, n_tags, n;
    uint32_t *cls;   /* class of each image */
    uint64_t *mask;  /* tags of each image */
    double *out;     /* outcome of each image */
    bool named;      /* images have names */
} dataset;

typedef struct {
    uint32_t max_tags;
    int64_t min_size;
    double min_drop;
    double gains[4];
    uint32_t n_gains;
    int64_t min_tag_count; /* as set: 0 = min_size */
    bool whole;
    uint32_t threads;
} params;

static void dataset_free(dataset *d)
{
    free(d->cls);
    free(d->mask);
    free(d->out);
}

/* A data set of n images, each of class 0 with no tag and outcome 0 (room
 * for one image more), not named: the caller fills it. */
static void dataset_alloc(dataset *d, uint32_t n_classes, uint32_t n_tags, uint32_t n)
{
    memset(d, 0, sizeof *d);
    d->n_classes = n_classes;
    d->n_tags = n_tags;
    d->n = n;
    d->cls = calloc((size_t)n + 1, sizeof *d->cls);
    d->mask = calloc((size_t)n + 1, sizeof *d->mask);
    d->out = calloc((size_t)n + 1, sizeof *d->out);
}

/* kind: 0 = binary, 1 = quarters, 2 = any double */
static void dataset_random(dataset *d, uint32_t n_classes, uint32_t n_tags, uint32_t max_per_class,
                           uint32_t max_tags_per_image, int kind)
{
    bool named = below(4) != 0;
    uint32_t counts[16] = {0}, n = 0;
    for (uint32_t c = 0; c < n_classes; c++) {
        uint32_t r = below(10);
        counts[c] = r < 2 ? below(8) : r < 3 ? 0 : below(max_per_class + 1);
        n += counts[c];
    }
    dataset_alloc(d, n_classes, n_tags, n);
    d->named = named;
    /* classes interleaved in random order */
    uint32_t left[16];
    memcpy(left, counts, sizeof left);
    uint32_t remaining = d->n;
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t pick = below(remaining), c = 0;
        while (pick >= left[c]) {
            pick -= left[c];
            c++;
        }
        left[c]--;
        remaining--;
        d->cls[i] = c;
    }
    /* per class: how likely each tag is, a few tags that hurt, and one pair
       that hurts only together (so that 2-tag modes pass the gain test) */
    double p[16][MAXV], hurt[16][MAXV];
    double base[16], pair_hurt[16];
    uint32_t pa[16], pb[16];
    double target = 0.6 * (max_tags_per_image < n_tags ? max_tags_per_image : n_tags) + 0.5;
    for (uint32_t c = 0; c < n_classes; c++) {
        base[c] = 0.75 + 0.25 * unit();
        double total = 0;
        for (uint32_t t = 0; t < n_tags; t++) {
            p[c][t] = 0.05 + unit();
            total += p[c][t];
            hurt[c][t] = 0.0;
        }
        for (uint32_t t = 0; t < n_tags; t++) {
            p[c][t] *= target / total;
            if (p[c][t] > 0.9)
                p[c][t] = 0.9;
        }
        for (uint32_t k = 1 + below(2); k > 0; k--)
            hurt[c][below(n_tags)] = 0.2 + 0.5 * unit();
        pa[c] = below(n_tags);
        pb[c] = below(n_tags);
        pair_hurt[c] = 0.3 + 0.5 * unit();
    }
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t c = d->cls[i];
        uint64_t m = 0;
        if (below(10) != 0) {
            uint32_t k = 0;
            for (uint32_t t = 0; t < n_tags; t++)
                if (unit() < p[c][t]) {
                    m |= UINT64_C(1) << t;
                    k++;
                }
            while (k > max_tags_per_image) {
                uint32_t t = below(n_tags);
                if (m & (UINT64_C(1) << t)) {
                    m &= ~(UINT64_C(1) << t);
                    k--;
                }
            }
        }
        d->mask[i] = m;
        double pc = base[c];
        for (uint32_t t = 0; t < n_tags; t++)
            if (m & (UINT64_C(1) << t))
                pc -= hurt[c][t];
        if ((m >> pa[c] & 1) && (m >> pb[c] & 1))
            pc -= pair_hurt[c];
        if (pc < 0)
            pc = 0;
        double x;
        if (kind == 0)
            x = unit() < pc ? 1.0 : 0.0;
        else if (kind == 1)
            x = (double)below(5) / 4.0 * 0.5 + (unit() < pc ? 0.5 : 0.0);
        else
            x = unit() < 0.1 ? (double)below(2) : pc + 0.4 * (unit() - 0.5);
        if (x < 0)
            x = 0;
        if (x > 1)
            x = 1;
        d->out[i] = x;
    }
}

static prime_tagstore *dataset_store(const dataset *d, bool freeze)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    char name[64];
    /* intern tags and classes in a shuffled order: ids differ from indices */
    for (uint32_t t = 0; t < d->n_tags; t++) {
        uint32_t id;
        snprintf(name, sizeof name, "t%u", (unsigned)t);
        cr_assert_eq(prime_tagstore_intern_tag(s, name, &id), PRIME_OK);
        cr_assert_eq(id, t);
    }
    for (uint32_t c = 0; c < d->n_classes; c++) {
        uint32_t id;
        snprintf(name, sizeof name, "class %u", (unsigned)(d->n_classes - 1 - c));
        cr_assert_eq(prime_tagstore_intern_class(s, name, &id), PRIME_OK);
        cr_assert_eq(id, c);
    }
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t tags[2 * MAXV], k = 0;
        for (uint32_t t = 0; t < d->n_tags; t++)
            if (d->mask[i] & (UINT64_C(1) << t)) {
                tags[k++] = t;
                if (below(8) == 0)
                    tags[k++] = t; /* duplicates are merged */
            }
        for (uint32_t a = 0; a + 1 < k; a++) { /* any order */
            uint32_t b = a + below(k - a), x = tags[a];
            tags[a] = tags[b];
            tags[b] = x;
        }
        snprintf(name, sizeof name, "img%u", (unsigned)i);
        uint32_t idx;
        cr_assert_eq(prime_tagstore_add_image(s, d->named ? name : NULL, d->cls[i], tags, k,
                                              &idx),
                     PRIME_OK);
        cr_assert_eq(idx, i);
    }
    if (freeze)
        cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    return s;
}

static prime_outcomes *dataset_outcomes(const dataset *d)
{
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_outcomes_create(d->n, &o), PRIME_OK);
    if (d->n > 0)
        cr_assert_eq(prime_outcomes_set_array(o, 0, d->out, d->n), PRIME_OK);
    return o;
}

static prime_config *params_config(const params *p)
{
    prime_config *c = NULL;
    cr_assert_eq(prime_config_create(&c), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MAX_TAGS, p->max_tags), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MIN_SIZE, p->min_size), PRIME_OK);
    cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_DROP, p->min_drop), PRIME_OK);
    cr_assert_eq(prime_config_set_min_gain(c, p->gains, p->n_gains), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MIN_TAG_COUNT, p->min_tag_count), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_WHOLE_DATASET, p->whole ? 1 : 0), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_THREADS, p->threads), PRIME_OK);
    return c;
}

static void random_params(params *p, uint32_t max_per_class)
{
    static const double drops[] = {0.0, 0.1, 0.1, 0.2, 0.25, 0.25, 0.3, 0.5};
    static const double gains[] = {-0.1, 0.0, 0.0, 0.0, 0.05, 0.1, 0.125, 0.25};
    memset(p, 0, sizeof *p);
    p->max_tags = 1 + below(5);
    p->min_size = 1 + below(20);
    if (below(4) == 0)
        p->min_size = 4 * (1 + below(5)); /* sizes that hit 0.25 steps exactly */
    p->min_drop = drops[below(8)];
    p->n_gains = 1 + below(4);
    for (uint32_t k = 0; k < p->n_gains; k++)
        p->gains[k] = gains[below(8)];
    uint32_t r = below(3);
    p->min_tag_count = r == 0 ? 0 : r == 1 ? (int64_t)below((uint32_t)p->min_size + 1)
                                           : p->min_size + below(8);
    p->whole = below(5) == 0;
    p->threads = 1 + below(4);
    (void)max_per_class;
}

/* The bytes of r rendered in format (a new NUL-terminated buffer). */
static inline char *render_all(const prime_result *r, int32_t format)
{
    size_t need = 0;
    cr_assert_eq(prime_result_render(r, format, NULL, 0, &need), PRIME_E_BUFFER_TOO_SMALL);
    char *buf = malloc(need + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(prime_result_render(r, format, buf, need + 1, &need), PRIME_OK);
    return buf;
}

/* got renders the same bytes as want in every format, and counts the same
 * candidates. */
static inline void assert_same_render(const prime_result *want, const prime_result *got,
                                      const char *what)
{
    static const int32_t formats[] = {PRIME_FORMAT_JSON, PRIME_FORMAT_CSV, PRIME_FORMAT_TEXT};
    for (int f = 0; f < 3; f++) {
        char *a = render_all(want, formats[f]), *b = render_all(got, formats[f]);
        cr_assert_str_eq(b, a, "%s: format %d differs", what, formats[f]);
        free(a);
        free(b);
    }
    cr_assert_eq(prime_result_candidate_count(got), prime_result_candidate_count(want),
                 "%s: %llu candidates, against %llu", what,
                 (unsigned long long)prime_result_candidate_count(got),
                 (unsigned long long)prime_result_candidate_count(want));
}

#endif /* PRIME_TEST_SEARCH_GEN_H */
