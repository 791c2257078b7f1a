/* The search (lib/search/search.c) and the query API (lib/search/query.c), checked
 * against a slow, literal brute force of docs/method.md section 1: every
 * subset of T_c up to max_tags, S_T by scanning the images, the three
 * conditions applied exactly as written, no pruning of any kind. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "search/kernels.h"
#include "search_gen.h"

#define EPS 1e-9
/* ---- modes as plain records ------------------------------------------------ */

typedef struct {
    uint32_t cls;
    uint32_t n;
    uint32_t tags[8];
    uint64_t size;
    double correct;
} mode;

typedef struct {
    mode *v;
    size_t n, cap;
} modes;

static void modes_push(modes *m, const mode *x)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
        cr_assert_not_null(m->v);
    }
    m->v[m->n++] = *x;
}

static int cmp_mode(const void *a, const void *b)
{
    const mode *x = a, *y = b;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    for (uint32_t i = 0; i < x->n; i++)
        if (x->tags[i] != y->tags[i])
            return x->tags[i] < y->tags[i] ? -1 : 1;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void result_modes(const prime_result *r, modes *m)
{
    uint64_t n = prime_result_mode_count(r);
    for (uint64_t i = 0; i < n; i++) {
        mode x;
        memset(&x, 0, sizeof x);
        uint32_t nt = 0;
        cr_assert_eq(prime_result_mode_info(r, i, &x.cls, &nt, &x.size, &x.correct, NULL, NULL,
                                            NULL),
                     PRIME_OK);
        cr_assert(nt >= 1 && nt <= 8);
        x.n = nt;
        cr_assert_eq(prime_result_mode_tags(r, i, x.tags, 8, &nt), PRIME_OK);
        cr_assert_eq(nt, x.n);
        qsort(x.tags, x.n, sizeof *x.tags, cmp_u32);
        modes_push(m, &x);
    }
    if (m->n > 0)
        qsort(m->v, m->n, sizeof *m->v, cmp_mode);
}

/* ---- the brute force ---------------------------------------------------------- */

static double gain_of(const params *p, uint32_t k)
{
    return p->gains[(k < p->n_gains ? k : p->n_gains) - 1];
}

/* Size and sum of the images of class cls (PRIME_NONE = all) that carry every
 * tag of tm, scanning every image in index order. The sum is the one of
 * docs/method.md: each outcome rounded to a multiple of 2^-32, summed
 * exactly (as integers), the total rounded to a double once. */
static void scan_set(const dataset *d, uint32_t cls, uint64_t tm, uint64_t *size, double *sum)
{
    uint64_t n = 0, s = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        if (cls != PRIME_NONE && d->cls[i] != cls)
            continue;
        if ((d->mask[i] & tm) != tm)
            continue;
        n++;
        s += (uint64_t)llround(d->out[i] * 4294967296.0);
    }
    *size = n;
    *sum = (double)s / 4294967296.0;
}

typedef struct {
    const dataset *d;
    const params *p;
    uint32_t cls;
    double class_acc;
    uint32_t tc[MAXV], n_tc;
    modes *out;
} brute_ctx;

/* decisions the brute force took within 1e-9 of a threshold, and modes by size */
static size_t borderline, by_size[8];

static void brute_check(brute_ctx *b, const uint32_t *set, uint32_t k)
{
    uint64_t tm = 0;
    for (uint32_t i = 0; i < k; i++)
        tm |= UINT64_C(1) << set[i];
    uint64_t size;
    double sum;
    scan_set(b->d, b->cls, tm, &size, &sum);
    if (size < (uint64_t)b->p->min_size)
        return;
    double acc = sum / (double)size;
    if (fabs(b->class_acc - acc - b->p->min_drop) <= EPS)
        borderline++;
    if (!(b->class_acc - acc >= b->p->min_drop - EPS))
        return;
    for (uint32_t i = 0; i < k; i++) {
        uint64_t ps;
        double psum;
        scan_set(b->d, b->cls, tm & ~(UINT64_C(1) << set[i]), &ps, &psum);
        if (fabs(psum / (double)ps - acc - gain_of(b->p, k)) <= EPS)
            borderline++;
        if (!(psum / (double)ps - acc >= gain_of(b->p, k) - EPS))
            return;
    }
    mode x;
    memset(&x, 0, sizeof x);
    x.cls = b->cls;
    x.n = k;
    memcpy(x.tags, set, k * sizeof *set);
    x.size = size;
    x.correct = sum;
    by_size[k]++;
    modes_push(b->out, &x);
}

/* every subset of tc[from..] added to set[0..k) */
static void brute_subsets(brute_ctx *b, uint32_t *set, uint32_t k, uint32_t from)
{
    if (k > 0)
        brute_check(b, set, k);
    if (k == b->p->max_tags)
        return;
    for (uint32_t i = from; i < b->n_tc; i++) {
        set[k] = b->tc[i];
        brute_subsets(b, set, k + 1, i + 1);
    }
}

static void brute_force(const dataset *d, const params *p, modes *out)
{
    int64_t mtc = p->min_tag_count == 0 ? p->min_size : p->min_tag_count;
    uint32_t n_cls = p->whole ? 1 : d->n_classes;
    for (uint32_t c = 0; c < n_cls; c++) {
        brute_ctx b = {.d = d, .p = p, .cls = p->whole ? PRIME_NONE : c, .out = out};
        uint64_t n;
        double sum;
        scan_set(d, b.cls, 0, &n, &sum);
        if (n == 0)
            continue;
        b.class_acc = sum / (double)n;
        for (uint32_t t = 0; t < d->n_tags; t++) {
            uint64_t cnt;
            double s2;
            scan_set(d, b.cls, UINT64_C(1) << t, &cnt, &s2);
            if ((int64_t)cnt >= mtc)
                b.tc[b.n_tc++] = t;
        }
        uint32_t set[8];
        brute_subsets(&b, set, 0, 0);
    }
    if (out->n > 0)
        qsort(out->v, out->n, sizeof *out->v, cmp_mode);
}

static void assert_same_modes(const modes *a, const modes *b, const char *what)
{
    size_t i = 0;
    for (; i < a->n && i < b->n; i++) {
        const mode *x = &a->v[i], *y = &b->v[i];
        if (cmp_mode(x, y) != 0 || x->size != y->size || x->correct != y->correct) {
            char bufx[128] = "", bufy[128] = "";
            for (uint32_t k = 0; k < x->n; k++)
                snprintf(bufx + strlen(bufx), sizeof bufx - strlen(bufx), " %u", x->tags[k]);
            for (uint32_t k = 0; k < y->n; k++)
                snprintf(bufy + strlen(bufy), sizeof bufy - strlen(bufy), " %u", y->tags[k]);
            cr_assert_fail("%s: mode %zu differs: class %u tags%s size %llu correct %.17g vs "
                           "class %u tags%s size %llu correct %.17g",
                           what, i, x->cls, bufx, (unsigned long long)x->size, x->correct,
                           y->cls, bufy, (unsigned long long)y->size, y->correct);
        }
    }
    if (a->n != b->n) {
        const mode *x = i < a->n ? &a->v[i] : &b->v[i];
        cr_assert_fail("%s: %zu modes vs %zu; first extra: class %u, %u tags (first %u), "
                       "size %llu",
                       what, a->n, b->n, x->cls, x->n, x->tags[0], (unsigned long long)x->size);
    }
}

static void check_classes(const dataset *d, const params *p, const prime_result *r)
{
    uint32_t expect = 0;
    for (uint32_t c = 0; c < (p->whole ? 1 : d->n_classes); c++) {
        uint64_t n;
        double sum;
        scan_set(d, p->whole ? PRIME_NONE : c, 0, &n, &sum);
        if (n > 0)
            expect++;
    }
    cr_assert_eq(prime_result_class_count(r), expect);
    for (uint32_t i = 0; i < expect; i++) {
        uint32_t id;
        uint64_t images, n;
        double correct, acc, sum;
        cr_assert_eq(prime_result_class_info(r, i, &id, &images, &correct, &acc), PRIME_OK);
        if (p->whole)
            cr_assert_eq(id, PRIME_NONE);
        else
            cr_assert_lt(id, d->n_classes);
        scan_set(d, id, 0, &n, &sum);
        cr_assert_eq(images, n);
        cr_assert_eq(correct, sum);
    }
}

/* The result's order is the documented one: class name, drop (largest
 * first), then the tag names element by element (byte order, a prefix
 * first), each mode's tags in name order. */
static void assert_result_order(const prime_tagstore *s, const prime_result *r, const char *what)
{
    uint64_t n = prime_result_mode_count(r);
    const char *prev_cls = NULL;
    const char *prev_tags[8];
    uint32_t prev_nt = 0;
    double prev_drop = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t cls, tags[8], nt;
        double drop;
        cr_assert_eq(prime_result_mode_info(r, i, &cls, NULL, NULL, NULL, NULL, NULL, &drop),
                     PRIME_OK);
        cr_assert_eq(prime_result_mode_tags(r, i, tags, 8, &nt), PRIME_OK);
        const char *cname = cls == PRIME_NONE ? "(all)" : prime_tagstore_class_name(s, cls);
        const char *names[8];
        for (uint32_t k = 0; k < nt; k++) {
            names[k] = prime_tagstore_tag_name(s, tags[k]);
            if (k > 0)
                cr_assert_lt(strcmp(names[k - 1], names[k]), 0, "%s: mode %llu tags", what,
                             (unsigned long long)i);
        }
        if (prev_cls != NULL) {
            int c = strcmp(prev_cls, cname);
            cr_assert_leq(c, 0, "%s: mode %llu class order", what, (unsigned long long)i);
            if (c == 0) {
                cr_assert_geq(prev_drop, drop, "%s: mode %llu drop order", what,
                              (unsigned long long)i);
                if (prev_drop == drop) {
                    int t = 0;
                    uint32_t m = prev_nt < nt ? prev_nt : nt;
                    for (uint32_t k = 0; k < m && t == 0; k++)
                        t = strcmp(prev_tags[k], names[k]);
                    if (t == 0)
                        t = (prev_nt > nt) - (prev_nt < nt);
                    cr_assert_lt(t, 0, "%s: mode %llu tag order", what, (unsigned long long)i);
                }
            }
        }
        prev_cls = cname;
        prev_drop = drop;
        prev_nt = nt;
        memcpy(prev_tags, names, nt * sizeof *names);
    }
}

/* render(load(render(r))) == render(r), byte for byte, in every format
 * (prime_result_load reads back what prime_result_write writes), and the
 * loaded result's accessors agree with the original's (ids aside). */
static void round_trip(const prime_result *r, const char *what)
{
    char *json = render_all(r, PRIME_FORMAT_JSON);
    prime_result *back = (prime_result *)&back;
    cr_assert_eq(prime_result_load_memory(json, strlen(json), "r.json", &back), PRIME_OK,
                 "%s: %s", what, prime_last_error());
    assert_same_render(r, back, what);
    cr_assert_eq(prime_result_class_count(back), prime_result_class_count(r), "%s", what);
    cr_assert_eq(prime_result_mode_count(back), prime_result_mode_count(r), "%s", what);
    for (uint32_t c = 0; c < prime_result_class_count(r); c++) {
        uint64_t ia, ib;
        double ca, cb, aa, ab;
        uint32_t id;
        cr_assert_eq(prime_result_class_info(r, c, NULL, &ia, &ca, &aa), PRIME_OK);
        cr_assert_eq(prime_result_class_info(back, c, &id, &ib, &cb, &ab), PRIME_OK);
        cr_assert_eq(id, PRIME_NONE);
        cr_assert(ia == ib && ca == cb && (aa == ab || (isnan(aa) && isnan(ab))), "%s", what);
        cr_assert_str_eq(prime_result_class_name(back, c), prime_result_class_name(r, c));
    }
    for (uint64_t i = 0; i < prime_result_mode_count(r); i++) {
        uint32_t na, nb, ids[8];
        uint64_t sa, sb;
        double v[8];
        cr_assert_eq(prime_result_mode_info(r, i, NULL, &na, &sa, &v[0], &v[1], &v[2], &v[3]),
                     PRIME_OK);
        cr_assert_eq(prime_result_mode_info(back, i, NULL, &nb, &sb, &v[4], &v[5], &v[6], &v[7]),
                     PRIME_OK);
        cr_assert(na == nb && sa == sb && v[0] == v[4] && v[1] == v[5] && v[2] == v[6] &&
                  v[3] == v[7], "%s: mode %llu", what, (unsigned long long)i);
        cr_assert_eq(prime_result_mode_tags(back, i, ids, 8, &nb), PRIME_OK);
        for (uint32_t k = 0; k < nb; k++) {
            cr_assert_eq(ids[k], PRIME_NONE);
            cr_assert_str_eq(prime_result_mode_tag_name(back, i, k),
                             prime_result_mode_tag_name(r, i, k));
        }
        cr_assert_str_eq(prime_result_mode_class_name(back, i),
                         prime_result_mode_class_name(r, i));
        cr_assert_str_eq(prime_result_mode_description(back, i),
                         prime_result_mode_description(r, i));
    }
    prime_result_destroy(back);
    free(json);
}

/* Search d with p and compare with the brute force; returns the mode count. */
static size_t differential(const dataset *d, const params *p, const char *what)
{
    prime_tagstore *s = dataset_store(d, true);
    prime_outcomes *o = dataset_outcomes(d);
    prime_config *c = params_config(p);
    prime_result *r = NULL;
    prime_status st = prime_search(s, o, c, NULL, NULL, &r);
    cr_assert_eq(st, PRIME_OK, "%s: %s", what, prime_last_error());
    cr_assert_not_null(r);
    modes got = {0}, want = {0};
    result_modes(r, &got);
    assert_result_order(s, r, what);
    brute_force(d, p, &want);
    assert_same_modes(&got, &want, what);
    check_classes(d, p, r);
    round_trip(r, what);
    /* every mode reads back the same through the query API */
    for (uint64_t i = 0; i < prime_result_mode_count(r) && i < 50; i++) {
        uint32_t cls, tags[8], nt;
        uint64_t size, qsize;
        double correct, qcorrect, acc, qacc;
        cr_assert_eq(prime_result_mode_info(r, i, &cls, NULL, &size, &correct, &acc, NULL, NULL),
                     PRIME_OK);
        cr_assert_eq(prime_result_mode_tags(r, i, tags, 8, &nt), PRIME_OK);
        cr_assert_eq(prime_query(s, o, cls, tags, nt, &qsize, &qcorrect, &qacc, NULL), PRIME_OK);
        cr_assert_eq(qsize, size);
        cr_assert_eq(qcorrect, correct);
    }
    size_t n = got.n;
    free(got.v);
    free(want.v);
    prime_result_destroy(r);
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    return n;
}

/* The search's test hooks back at their defaults (lib/search/search.h). */
static void search_hooks_default(void)
{
    prime__search_set_array_limit(1, 8);
    prime__search_set_gallop_ratio(16);
    prime__search_set_projection(1);
    prime__search_set_leaf_chunk(0);
    prime__search_set_pair_rows(1);
    prime__search_set_necessity(1);
    prime__search_set_local(64);
    prime__search_set_siblings(1);
    prime__search_set_order(1);
}

/* ---- tests ------------------------------------------------------------------- */

Test(search, differential_random, .timeout = 500)
{
    rng_state = 12345;
    const uint32_t runs = 600;
    size_t total_modes = 0, with_modes = 0;
    for (uint32_t run = 0; run < runs; run++) {
        dataset d;
        uint32_t n_classes = 1 + below(4);
        uint32_t vocab = 3 + below(10);
        uint32_t per_class = below(4) == 0 ? 24 : 300;
        uint32_t per_image = below(16) == 0 ? 0 : 1 + below(8);
        int kind = (int)below(3);
        dataset_random(&d, n_classes, vocab, per_class, per_image, kind);
        params p;
        random_params(&p, per_class);
        char what[320];
        snprintf(what, sizeof what,
                 "run %u (classes %u, vocab %u, images %u, max_tags %u, min_size %lld, "
                 "min_drop %g, gains %g %g %g %g/%u, mtc %lld, whole %d, threads %u)",
                 run, n_classes, vocab, d.n, p.max_tags, (long long)p.min_size, p.min_drop,
                 p.gains[0], p.gains[1], p.gains[2], p.gains[3], p.n_gains,
                 (long long)p.min_tag_count, p.whole, p.threads);
        size_t n = differential(&d, &p, what);
        total_modes += n;
        with_modes += n > 0;
        dataset_free(&d);
    }
    fprintf(stderr,
            "differential: %u random stores, %zu modes compared (by size 1-5: %zu %zu %zu %zu "
            "%zu), %zu stores with modes, %zu threshold ties\n",
            runs, total_modes, by_size[1], by_size[2], by_size[3], by_size[4], by_size[5],
            with_modes, borderline);
    cr_assert_gt(with_modes, runs / 3, "the generator must produce failure modes");
}

/* The same comparison with every set kept as sorted positions (probes,
 * position-array necessity checks) and with none, and on classes large
 * enough for the default limit to switch between the two in one search;
 * the fifth and sixth settings gallop every sparse column that is shorter
 * than a sparse node (the default only one 16 times shorter); the last two
 * search every first tag's subtree in the class itself, not in its
 * projection on the tag's images (fourth number 0; 2: always projected,
 * 1: by estimated cost, the default); the pair table is counted per pair, over the images' rows, or
 * either by estimated cost (fifth number 0, 2, 1). The classes here are
 * small: with the pair table counted per pair, the rows that a projection
 * reads are built from the columns once the pair table is known
 * (rows_from_columns()), with the rows counted over, while the class is
 * prepared. */
Test(search, differential_containers, .timeout = 500)
{
    static const uint32_t limits[][5] = {{64, 1, 16, 2, 2}, {0, 1, 16, 2, 0}, {1, 8, 16, 1, 1},
                                         {1, 1, 16, 2, 2},  {64, 1, 1, 2, 0},  {1, 2, 1, 1, 1},
                                         {64, 1, 16, 0, 1}, {1, 8, 16, 0, 2}};
    size_t total_modes = 0;
    for (size_t li = 0; li < sizeof limits / sizeof *limits; li++) {
        prime__search_set_array_limit(limits[li][0], limits[li][1]);
        prime__search_set_gallop_ratio(limits[li][2]);
        prime__search_set_projection(limits[li][3]);
        prime__search_set_pair_rows(limits[li][4]);
        rng_state = 777 + li;
        bool small = li < 2 || li == 4 || li == 6;
        const uint32_t runs = small ? 200 : 40;
        for (uint32_t run = 0; run < runs; run++) {
            dataset d;
            uint32_t n_classes = 1 + below(3);
            uint32_t vocab = 3 + below(10);
            uint32_t per_class = small ? (below(4) == 0 ? 24 : 300) : 1500 + below(1500);
            uint32_t per_image = below(16) == 0 ? 0 : 1 + below(8);
            int kind = (int)below(3);
            dataset_random(&d, n_classes, vocab, per_class, per_image, kind);
            params p;
            random_params(&p, per_class);
            char what[320];
            snprintf(what, sizeof what,
                     "limit %u/%u, gallop %u, projection %u, pair rows %u, run %u (classes %u, "
                     "vocab %u, images %u, max_tags %u, min_size %lld, min_drop %g, whole %d, "
                     "threads %u)",
                     limits[li][0], limits[li][1], limits[li][2], limits[li][3], limits[li][4], run, n_classes, vocab, d.n, p.max_tags,
                     (long long)p.min_size, p.min_drop, p.whole, p.threads);
            total_modes += differential(&d, &p, what);
            dataset_free(&d);
        }
    }
    search_hooks_default();
    fprintf(stderr, "containers: %zu modes compared\n", total_modes);
    cr_assert_gt(total_modes, 1000);
}

/* The candidate count (tag sets visited) does not depend on the containers:
 * with the sets of the last level's parents as bitsets (the default: they
 * are counted by leaf_pass(), the leaves that are no failure mode without
 * a visit) and with every set as sorted positions (the general loop), the
 * same result and the same candidates; 0/1 outcomes and others. */
Test(search, candidates_same_in_every_container, .timeout = 300)
{
    rng_state = 4242;
    uint64_t total = 0;
    for (uint32_t run = 0; run < 24; run++) {
        dataset d;
        dataset_random(&d, 1 + below(2), 6 + below(8), 1200 + below(1200), 3 + below(5),
                       run % 4 == 3 ? 2 : 0);
        params p;
        random_params(&p, d.n);
        p.max_tags = 3 + below(3);
        p.min_size = 5 + below(20);
        p.min_drop = run % 2 ? 0.1 : 0.0;
        prime_tagstore *s = dataset_store(&d, true);
        prime_outcomes *o = dataset_outcomes(&d);
        prime_config *c = params_config(&p);
        prime_result *dense = NULL, *ids = NULL;
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &dense), PRIME_OK);
        prime__search_set_array_limit(64, 1); /* every set as positions */
        prime__search_set_projection(0);
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &ids), PRIME_OK);
        prime__search_set_array_limit(1, 8);
        prime__search_set_projection(1);
        char what[96];
        snprintf(what, sizeof what, "run %u (max_tags %u, min_size %lld)", run, p.max_tags,
                 (long long)p.min_size);
        total += prime_result_candidate_count(dense);
        assert_same_render(ids, dense, what);
        prime_result_destroy(dense);
        prime_result_destroy(ids);
        prime_config_destroy(c);
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(s);
        dataset_free(&d);
    }
    cr_assert_gt(total, 1000);
}

/* Pairs of neighbouring modes of r with the same class and drop: the ties
 * that the sort breaks on the tags. */
static size_t drop_ties(const prime_result *r)
{
    size_t ties = 0;
    for (uint64_t i = 1; i < prime_result_mode_count(r); i++) {
        uint32_t c0, c1;
        double d0, d1;
        cr_assert_eq(prime_result_mode_info(r, i - 1, &c0, NULL, NULL, NULL, NULL, NULL, &d0),
                     PRIME_OK);
        cr_assert_eq(prime_result_mode_info(r, i, &c1, NULL, NULL, NULL, NULL, NULL, &d1),
                     PRIME_OK);
        ties += c0 == c1 && d0 == d1;
    }
    return ties;
}

/* The result's order when the sort key of a mode holds at most n tag ranks
 * (prime__result_set_key_ranks; 0: none): ties on class and drop are then
 * broken on the ranks of all the tags, as with more tags than the key
 * holds (over 6, or over 4 with more than 1,022 distinct tags). */
Test(search, result_order_few_key_ranks, .timeout = 300)
{
    size_t total_modes = 0, ties = 0;
    for (uint32_t n = 0; n < 3; n++) {
        prime__result_set_key_ranks(n);
        rng_state = 4242 + n;
        for (uint32_t run = 0; run < 200; run++) {
            dataset d;
            dataset_random(&d, 1 + below(3), 3 + below(10), below(4) == 0 ? 24 : 300,
                           1 + below(8), (int)below(3));
            params p;
            random_params(&p, 300);
            char what[160];
            snprintf(what, sizeof what, "key ranks %u, run %u (max_tags %u, min_size %lld)", n,
                     run, p.max_tags, (long long)p.min_size);
            total_modes += differential(&d, &p, what);
            /* the same search again, for its ties */
            prime_tagstore *s = dataset_store(&d, true);
            prime_outcomes *o = dataset_outcomes(&d);
            prime_config *c = params_config(&p);
            prime_result *r = NULL;
            cr_assert_eq(prime_search(s, o, c, NULL, NULL, &r), PRIME_OK);
            ties += drop_ties(r);
            prime_result_destroy(r);
            prime_config_destroy(c);
            prime_outcomes_destroy(o);
            prime_tagstore_destroy(s);
            dataset_free(&d);
        }
    }
    prime__result_set_key_ranks(UINT32_MAX);
    fprintf(stderr, "few key ranks: %zu modes compared, %zu ties on class and drop\n",
            total_modes, ties);
    cr_assert_gt(total_modes, 1000);
    cr_assert_gt(ties, 300, "the stores must give modes with equal drops");
}

/* Values land exactly on the thresholds: the slack decides inclusion. */
Test(search, exact_thresholds)
{
    /* class of 8: 8 correct in the rest, tag 0 on 4 images with 3 correct:
       class accuracy 7/8... built so that drops are exact multiples of 1/4 */
    dataset d;
    dataset_alloc(&d, 1, 3, 8);
    d.named = true;
    /* images 0-3 carry tag 0 (2 correct); images 0-1 carry tag 1 too (0 correct);
       images 4-7 are correct; tag 2 on images 4-7 */
    double o[8] = {0, 0, 1, 1, 1, 1, 1, 1};
    uint64_t m[8] = {3, 3, 1, 1, 4, 4, 4, 4};
    memcpy(d.out, o, sizeof o);
    memcpy(d.mask, m, sizeof m);
    /* class acc 0.75; {t0}: acc 0.5, drop 0.25; {t0,t1}: acc 0, drop 0.75,
       gain over {t0} 0.5, over {t1} 0 */
    params p = {.max_tags = 2, .min_size = 2, .min_drop = 0.25, .gains = {0.25, 0.0},
                .n_gains = 2, .min_tag_count = 0, .whole = false, .threads = 1};
    cr_assert_eq(differential(&d, &p, "exact 1"), 3); /* {t0}, {t1}, {t0,t1} */
    p.gains[0] = 0.5;   /* {t1}: gain 0.75, {t0}: 0.25 < 0.5 */
    p.gains[1] = 0.0;
    cr_assert_eq(differential(&d, &p, "exact 2"), 2);
    p.min_drop = 0.75; /* only {t1} (acc 0) and {t0,t1} */
    cr_assert_eq(differential(&d, &p, "exact 3"), 2);
    p.gains[1] = 1e-12; /* {t0,t1} vs {t1}: gain exactly 0, within slack */
    cr_assert_eq(differential(&d, &p, "exact 4"), 2);
    p.gains[1] = 2e-9; /* just outside the slack: it must fail */
    cr_assert_eq(differential(&d, &p, "exact 5"), 1);
    p.gains[1] = 0.0;
    p.min_drop = 0.75 + 0.5e-9; /* drops of exactly 0.75: inside the slack */
    cr_assert_eq(differential(&d, &p, "exact 6"), 2);
    p.min_drop = 0.75 + 2e-9; /* outside */
    cr_assert_eq(differential(&d, &p, "exact 7"), 0);
    p.min_drop = 0.25;
    p.gains[0] = 0.25 + 2e-9; /* {t0} gains exactly 0.25 over the class */
    cr_assert_eq(differential(&d, &p, "exact 8"), 2);
    p.gains[0] = 0.25 + 0.5e-9;
    cr_assert_eq(differential(&d, &p, "exact 9"), 3);
    dataset_free(&d);
}

static void results_equal(const prime_result *a, const prime_result *b)
{
    modes x = {0}, y = {0};
    result_modes(a, &x);
    result_modes(b, &y);
    assert_same_modes(&x, &y, "thread counts");
    /* the ordered results agree too, mode by mode */
    cr_assert_eq(prime_result_mode_count(a), prime_result_mode_count(b));
    for (uint64_t i = 0; i < prime_result_mode_count(a); i++) {
        uint64_t s1, s2;
        double c1, c2;
        cr_assert_eq(prime_result_mode_info(a, i, NULL, NULL, &s1, &c1, NULL, NULL, NULL), 0);
        cr_assert_eq(prime_result_mode_info(b, i, NULL, NULL, &s2, &c2, NULL, NULL, NULL), 0);
        cr_assert_eq(s1, s2);
        cr_assert_eq(c1, c2);
        cr_assert_str_eq(prime_result_mode_description(a, i), prime_result_mode_description(b, i));
    }
    free(x.v);
    free(y.v);
}

static void big_dataset(dataset *d, int kind)
{
    rng_state = 777 + (uint64_t)kind;
    dataset_random(d, 3, 40, 2500, 10, kind);
}

Test(search, thread_independence, .timeout = 300)
{
    for (int kind = 0; kind < 3; kind += 2) {
        dataset d;
        big_dataset(&d, kind);
        prime_tagstore *s = dataset_store(&d, true);
        prime_outcomes *o = dataset_outcomes(&d);
        params p = {.max_tags = 3, .min_size = 15, .min_drop = 0.2, .gains = {0, 0.05, 0.02},
                    .n_gains = 3, .min_tag_count = 0, .whole = false, .threads = 1};
        prime_config *c = params_config(&p);
        prime_result *r1 = NULL;
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &r1), PRIME_OK);
        cr_assert_gt(prime_result_mode_count(r1), 0);
        static const int64_t threads[] = {2, 3, 4, 7, 0};
        for (size_t i = 0; i < sizeof threads / sizeof *threads; i++) {
            cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_THREADS, threads[i]), PRIME_OK);
            prime_result *r2 = NULL;
            cr_assert_eq(prime_search(s, o, c, NULL, NULL, &r2), PRIME_OK);
            results_equal(r1, r2);
            prime_result_destroy(r2);
        }
        /* and the brute force agrees on this bigger store */
        modes got = {0}, want = {0};
        result_modes(r1, &got);
        brute_force(&d, &p, &want);
        assert_same_modes(&got, &want, "big store");
        fprintf(stderr, "big store (kind %d): %zu modes\n", kind, got.n);
        free(got.v);
        free(want.v);
        prime_result_destroy(r1);
        prime_config_destroy(c);
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(s);
        dataset_free(&d);
    }
}

typedef struct {
    uint32_t calls, cancel_at;
    uint64_t last_done, total;
    bool bad;
} progress_log;

static int32_t on_progress(void *user_data, uint64_t done, uint64_t total)
{
    progress_log *l = user_data;
    if (l->calls > 0 && (done < l->last_done || total != l->total))
        l->bad = true;
    if (done > total)
        l->bad = true;
    l->last_done = done;
    l->total = total;
    l->calls++;
    return l->cancel_at != 0 && l->calls >= l->cancel_at;
}

Test(search, progress_and_cancel, .timeout = 300)
{
    dataset d;
    big_dataset(&d, 0);
    prime_tagstore *s = dataset_store(&d, true);
    prime_outcomes *o = dataset_outcomes(&d);
    params p = {.max_tags = 4, .min_size = 5, .min_drop = 0.0, .gains = {-1},
                .n_gains = 1, .min_tag_count = 0, .whole = false, .threads = 1};
    prime_config *c = params_config(&p);
    for (int64_t threads = 1; threads <= 4; threads += 3) {
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_THREADS, threads), PRIME_OK);
        progress_log l = {0};
        prime_result *r = NULL;
        cr_assert_eq(prime_search(s, o, c, on_progress, &l, &r), PRIME_OK);
        cr_assert_not_null(r);
        cr_assert(!l.bad, "progress must be monotone with a fixed total");
        cr_assert_geq(l.calls, 2);
        cr_assert_gt(l.total, 0);
        cr_assert_eq(l.last_done, l.total, "progress must reach the total");
        uint32_t calls = l.calls;
        prime_result_destroy(r);

        /* cancelling at the first call (before any work) and at the second
           (during the work or, for a quick search, at the final report:
           every search reports at least at its start and at its end) */
        (void)calls;
        uint32_t at[2] = {1, 2};
        for (int k = 0; k < 2; k++) {
            progress_log l2 = {.cancel_at = at[k]};
            r = (prime_result *)&l2; /* must be overwritten with NULL */
            cr_assert_eq(prime_search(s, o, c, on_progress, &l2, &r), PRIME_E_CANCELLED);
            cr_assert_null(r);
            cr_assert_eq(l2.calls, at[k], "no call after cancelling");
            cr_assert_neq(strlen(prime_last_error()), 0);
        }
    }
    /* an empty store: still reports and finishes */
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

/* Calls of the progress callback at done == total (the end of the search,
 * then the join of the workers' lists and the result build), and a cancel
 * at the cancel_final-th of them. */
typedef struct {
    uint64_t final_calls, cancel_final;
    uint32_t calls_after_cancel;
    bool cancelled;
} final_log;

static int32_t on_final(void *user_data, uint64_t done, uint64_t total)
{
    final_log *l = user_data;
    if (l->cancelled)
        l->calls_after_cancel++;
    if (done == total && ++l->final_calls == l->cancel_final)
        l->cancelled = true;
    return l->cancelled;
}

/* A search that the callback fn (user data ud, its calls after the cancel
 * counted in *calls_after_cancel) cancels: PRIME_E_CANCELLED, no result,
 * nothing left allocated, no call after the cancel, a message. */
static void cancels_cleanly(const prime_tagstore *s, const prime_outcomes *o,
                            const prime_config *c, prime_progress_fn fn, void *ud,
                            const uint32_t *calls_after_cancel, const char *what)
{
    prime_result *r = (prime_result *)ud; /* must be overwritten with NULL */
    prime__alloc_live_count(true);
    prime_status st = prime_search(s, o, c, fn, ud, &r);
    long left = prime__alloc_live();
    prime__alloc_live_count(false);
    cr_assert_eq(st, PRIME_E_CANCELLED, "%s", what);
    cr_assert_eq(left, 0, "%s: %ld blocks left", what, left);
    cr_assert_null(r, "%s", what);
    cr_assert_eq(*calls_after_cancel, 0, "%s: no call after cancelling", what);
    cr_assert_neq(strlen(prime_last_error()), 0);
}

/* prime_search's calls at done == total, and prime__search_raw_run's
 * (the search and the join, no build), with a report at every look at the
 * clock and a tick every mode (prime__search_set_report). */
static void final_calls(const prime_tagstore *s, const prime_outcomes *o, const prime_config *c,
                        uint64_t *n_modes, uint64_t *search_calls, uint64_t *raw_calls)
{
    final_log l = {0};
    prime_result *r = NULL;
    cr_assert_eq(prime_search(s, o, c, on_final, &l, &r), PRIME_OK);
    *n_modes = prime_result_mode_count(r);
    *search_calls = l.final_calls;
    prime_result_destroy(r);
    uint32_t n_classes = prime_tagstore_class_count(s);
    uint32_t *ids = malloc(n_classes * sizeof *ids);
    cr_assert_not_null(ids);
    for (uint32_t i = 0; i < n_classes; i++)
        ids[i] = i;
    final_log lr = {0};
    prime__search_raw raw;
    cr_assert_eq(prime__search_raw_run(s, o, c, ids, n_classes, on_final, &lr, &raw), PRIME_OK);
    cr_assert_eq(raw.n_modes, *n_modes);
    *raw_calls = lr.final_calls;
    prime__search_raw_free(&raw);
    free(ids);
}

/* Progress and cancel after the search's last item (issue 14, "responsive
 * in every phase"): the workers' lists are joined, and the result built,
 * with a progress call every report interval, and a cancel in any of them
 * returns PRIME_E_CANCELLED, no result and nothing left allocated. */
Test(search, progress_and_cancel_after_the_search, .timeout = 300)
{
    dataset d;
    big_dataset(&d, 0);
    prime_tagstore *s = dataset_store(&d, true);
    prime_outcomes *o = dataset_outcomes(&d);
    params p = {.max_tags = 3, .min_size = 15, .min_drop = 0.2, .gains = {0, 0.05, 0.02},
                .n_gains = 3, .min_tag_count = 0, .whole = false, .threads = 1};
    prime_config *c = params_config(&p);
    prime__search_set_report(0, 1);

    /* a few modes (at most 16: the build's sort ticks once), one thread:
       every call is known. The join ticks once a mode; the build once a
       mode in each of its four passes over them, and once in the sort */
    uint64_t n = 0, f_search = 0, f_raw = 0;
    double drop = 0.2;
    for (; drop < 1.0; drop += 0.02) {
        cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_DROP, drop), PRIME_OK);
        final_calls(s, o, c, &n, &f_search, &f_raw);
        if (n <= 16)
            break;
    }
    cr_assert(n >= 4 && n <= 16, "no min_drop with 4 to 16 modes (%llu)", (unsigned long long)n);
    cr_assert_geq(f_raw, 1 + n, "a progress call for every slice of the join");
    cr_assert_eq(f_search - f_raw, 4 * n + 1, "a progress call for every slice of the build");

    /* more modes, one and two threads: cancel at the end of the search, in
       the join, in the build's first pass and in its last one (one thread:
       the calls are known; two: the calling thread reports while it waits
       for the other one, a number of calls that varies, so the cancels are
       at calls that every run makes, somewhere after the search) */
    cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_DROP, 0.05), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MIN_SIZE, 5), PRIME_OK);
    for (int64_t threads = 1; threads <= 2; threads++) {
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_THREADS, threads), PRIME_OK);
        final_calls(s, o, c, &n, &f_search, &f_raw);
        cr_assert_gt(n, 100, "%llu modes", (unsigned long long)n);
        cr_assert_geq(f_raw, 1 + n);
        cr_assert_geq(f_search - f_raw, 4 * n);
        uint64_t at[] = {1, n / 2, f_raw + n / 2, f_search - n / 2};
        if (threads > 1) {
            at[2] = 2 * n;
            at[3] = 4 * n;
        }
        for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
            final_log l = {.cancel_final = at[k]};
            char what[96];
            snprintf(what, sizeof what, "threads %lld, cancel at call %llu of %llu",
                     (long long)threads, (unsigned long long)at[k],
                     (unsigned long long)f_search);
            cancels_cleanly(s, o, c, on_final, &l, &l.calls_after_cancel, what);
            cr_assert(l.cancelled);
        }
        /* the raw search (prime_search_classes' part), cancelled in the join */
        uint32_t ids[3] = {0, 1, 2};
        final_log l = {.cancel_final = n / 2};
        prime__search_raw raw;
        prime__alloc_live_count(true);
        cr_assert_eq(prime__search_raw_run(s, o, c, ids, prime_tagstore_class_count(s), on_final,
                                           &l, &raw),
                     PRIME_E_CANCELLED);
        cr_assert_eq(prime__alloc_live(), 0, "blocks left after a cancelled join");
        prime__alloc_live_count(false);
        cr_assert_null(raw.modes);
        cr_assert_eq(l.calls_after_cancel, 0);
    }
    prime__search_set_report(-1, 0);
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

/* Calls of the progress callback while nothing is done yet (done == 0:
 * before the first class is prepared), and a cancel at the cancel_early-th. */
typedef struct {
    uint32_t early, cancel_early, calls_after_cancel;
    bool cancelled;
} early_log;

static int32_t on_early(void *user_data, uint64_t done, uint64_t total)
{
    early_log *l = user_data;
    (void)total;
    if (l->cancelled)
        l->calls_after_cancel++;
    if (done == 0 && ++l->early == l->cancel_early)
        l->cancelled = true;
    return l->cancelled;
}

/* Progress and cancel while a large class is prepared (issue 14,
 * "responsive in every phase"): the whole-data-set mode's one class of
 * 1.28 M images took 0.7 s to prepare with neither a progress call nor a
 * look at a cancel. A class of 100,000 images, a report at every look at
 * the clock: its preparation makes progress calls, and a cancel in it
 * returns PRIME_E_CANCELLED, no result, nothing left allocated. */
Test(search, progress_and_cancel_while_a_class_is_prepared, .timeout = 300)
{
    dataset d;
    dataset_alloc(&d, 1, 24, 100000);
    cr_assert(d.cls != NULL && d.mask != NULL && d.out != NULL);
    rng_state = 4242;
    for (uint32_t i = 0; i < d.n; i++) {
        for (uint32_t t = 0; t < d.n_tags; t++)
            if (unit() < 0.3)
                d.mask[i] |= (uint64_t)1 << t;
        d.out[i] = unit() < 0.8 ? 1.0 : 0.0;
    }
    prime_tagstore *s = dataset_store(&d, true);
    prime_outcomes *o = dataset_outcomes(&d);
    params p = {.max_tags = 2, .min_size = 50, .min_drop = 0.3, .gains = {0, 0.05, 0.02},
                .n_gains = 3, .min_tag_count = 0, .whole = false, .threads = 1};
    prime_config *c = params_config(&p);
    prime__search_set_report(0, 0);
    for (int64_t threads = 1; threads <= 2; threads++) {
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_THREADS, threads), PRIME_OK);
        early_log all = {0};
        prime_result *r = NULL;
        cr_assert_eq(prime_search(s, o, c, on_early, &all, &r), PRIME_OK);
        prime_result_destroy(r);
        /* the first call, then ticks in both passes over the images */
        cr_assert_geq(all.early, 5, "threads %lld: %u progress calls before the class was prepared",
                      (long long)threads, all.early);
        uint32_t at[] = {2, all.early / 2 + 1, all.early};
        for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
            early_log l = {.cancel_early = at[k]};
            char what[96];
            snprintf(what, sizeof what, "threads %lld, cancel at call %u of %u",
                     (long long)threads, at[k], all.early);
            cancels_cleanly(s, o, c, on_early, &l, &l.calls_after_cancel, what);
        }
    }
    prime__search_set_report(-1, 0);
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

Test(search, bad_inputs)
{
    rng_state = 99;
    dataset d;
    dataset_random(&d, 2, 5, 50, 4, 0);
    while (d.n < 3) {
        dataset_free(&d);
        dataset_random(&d, 2, 5, 50, 4, 0);
    }
    d.named = true;
    prime_tagstore *s = dataset_store(&d, true);
    prime_tagstore *mut = dataset_store(&d, false);
    prime_outcomes *o = dataset_outcomes(&d);
    prime_result *r = NULL;

    cr_assert_eq(prime_search(NULL, o, NULL, NULL, NULL, &r), PRIME_E_INVALID_ARG);
    cr_assert_null(r);
    cr_assert_eq(prime_search(s, NULL, NULL, NULL, NULL, &r), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_search(s, o, NULL, NULL, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_search(mut, o, NULL, NULL, NULL, &r), PRIME_E_STATE);
    cr_assert_null(r);

    /* wrong count */
    prime_outcomes *o2 = NULL;
    cr_assert_eq(prime_outcomes_create(d.n + 1, &o2), PRIME_OK);
    cr_assert_eq(prime_search(s, o2, NULL, NULL, NULL, &r), PRIME_E_MISMATCH);
    cr_assert_null(r);
    prime_outcomes_destroy(o2);

    /* an unset outcome, named in the message */
    cr_assert_eq(prime_outcomes_create(d.n, &o2), PRIME_OK);
    cr_assert_eq(prime_outcomes_set_array(o2, 0, d.out, d.n - 1), PRIME_OK);
    cr_assert_eq(prime_search(s, o2, NULL, NULL, NULL, &r), PRIME_E_MISMATCH);
    cr_assert_null(r);
    char name[32];
    snprintf(name, sizeof name, "img%u", d.n - 1);
    cr_assert_not_null(strstr(prime_last_error(), name), "message: %s", prime_last_error());
    cr_assert_eq(prime_query(s, o2, d.cls[d.n - 1], NULL, 0, NULL, NULL, NULL, NULL),
                 PRIME_E_MISMATCH);
    prime_outcomes_destroy(o2);

    /* unnamed image: named by its index */
    d.named = false;
    prime_tagstore *s2 = dataset_store(&d, true);
    cr_assert_eq(prime_outcomes_create(d.n, &o2), PRIME_OK);
    cr_assert_eq(prime_outcomes_set_array(o2, 1, d.out + 1, d.n - 1), PRIME_OK);
    cr_assert_eq(prime_search(s2, o2, NULL, NULL, NULL, &r), PRIME_E_MISMATCH);
    cr_assert_not_null(strstr(prime_last_error(), "#0"), "message: %s", prime_last_error());
    prime_outcomes_destroy(o2);
    prime_tagstore_destroy(s2);

    /* defaults (config NULL) run */
    cr_assert_eq(prime_search(s, o, NULL, NULL, NULL, &r), PRIME_OK);
    cr_assert_not_null(r);
    prime_result_destroy(r);

    /* query errors */
    uint32_t bad_tag = d.n_tags, tag0 = 0;
    cr_assert_eq(prime_query(NULL, o, 0, NULL, 0, NULL, NULL, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_query(mut, o, 0, NULL, 0, NULL, NULL, NULL, NULL), PRIME_E_STATE);
    cr_assert_eq(prime_query(s, o, 0, &bad_tag, 1, NULL, NULL, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_query(s, o, 2, &tag0, 1, NULL, NULL, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_query(s, o, 0, NULL, 1, NULL, NULL, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_query_parents(s, o, 0, &bad_tag, 1, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_query_parents(mut, o, 0, &tag0, 1, NULL, NULL), PRIME_E_STATE);

    prime_outcomes_destroy(o);
    prime_tagstore_destroy(mut);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

Test(search, empty_stores)
{
    /* no images at all, and classes without images */
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    uint32_t id;
    cr_assert_eq(prime_tagstore_intern_class(s, "nothing", &id), PRIME_OK);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_outcomes_create(0, &o), PRIME_OK);
    for (int whole = 0; whole < 2; whole++) {
        prime_config *c = NULL;
        cr_assert_eq(prime_config_create(&c), PRIME_OK);
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_WHOLE_DATASET, whole), PRIME_OK);
        prime_result *r = NULL;
        progress_log l = {0};
        cr_assert_eq(prime_search(s, o, c, on_progress, &l, &r), PRIME_OK);
        cr_assert_eq(prime_result_class_count(r), 0);
        cr_assert_eq(prime_result_mode_count(r), 0);
        cr_assert(!l.bad);
        cr_assert_eq(l.last_done, l.total);
        prime_result_destroy(r);
        prime_config_destroy(c);
    }
    uint64_t size = 7;
    double acc = 0, cacc = 0;
    cr_assert_eq(prime_query(s, o, PRIME_NONE, NULL, 0, &size, NULL, &acc, &cacc), PRIME_OK);
    cr_assert_eq(size, 0);
    cr_assert(isnan(acc) && isnan(cacc));
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(search, query_vs_brute_force)
{
    rng_state = 4242;
    for (int run = 0; run < 60; run++) {
        dataset d;
        dataset_random(&d, 1 + below(4), 3 + below(12), 200, below(9), (int)below(3));
        prime_tagstore *s = dataset_store(&d, true);
        prime_outcomes *o = dataset_outcomes(&d);
        for (int q = 0; q < 30; q++) {
            uint32_t cls = below(d.n_classes + 1);
            if (cls == d.n_classes)
                cls = PRIME_NONE;
            uint32_t tags[12], n = below(6);
            uint64_t tm = 0;
            for (uint32_t i = 0; i < n; i++) {
                tags[i] = below(d.n_tags);
                tm |= UINT64_C(1) << tags[i];
            }
            if (n > 1 && below(3) == 0)
                tags[n++] = tags[0]; /* a duplicate */
            uint64_t size, want_size, all;
            double correct, acc, cacc, want_sum, all_sum;
            cr_assert_eq(prime_query(s, o, cls, tags, n, &size, &correct, &acc, &cacc), PRIME_OK,
                         "%s", prime_last_error());
            scan_set(&d, cls, tm, &want_size, &want_sum);
            scan_set(&d, cls, 0, &all, &all_sum);
            cr_assert_eq(size, want_size);
            cr_assert_eq(correct, want_sum);
            if (want_size == 0)
                cr_assert(isnan(acc));
            else
                cr_assert_eq(acc, want_sum / (double)want_size);
            if (all == 0)
                cr_assert(isnan(cacc));
            else
                cr_assert_eq(cacc, all_sum / (double)all);

            uint64_t psizes[12];
            double pcorrect[12];
            cr_assert_eq(prime_query_parents(s, o, cls, tags, n, psizes, pcorrect), PRIME_OK);
            for (uint32_t j = 0; j < n; j++) {
                uint64_t pm = 0, ps;
                double psum;
                for (uint32_t i = 0; i < n; i++)
                    if (i != j)
                        pm |= UINT64_C(1) << tags[i];
                scan_set(&d, cls, pm, &ps, &psum);
                cr_assert_eq(psizes[j], ps);
                cr_assert_eq(pcorrect[j], psum);
            }
            /* either output may be NULL */
            cr_assert_eq(prime_query_parents(s, o, cls, tags, n, NULL, pcorrect), PRIME_OK);
            cr_assert_eq(prime_query_parents(s, o, cls, tags, n, psizes, NULL), PRIME_OK);
            cr_assert_eq(prime_query(s, o, cls, tags, n, NULL, NULL, NULL, NULL), PRIME_OK);
        }
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(s);
        dataset_free(&d);
    }
}

Test(search, query_many_tags)
{
    /* more query tags than the on-stack buffer holds */
    rng_state = 5;
    dataset d;
    dataset_random(&d, 2, 50, 100, 50, 0);
    prime_tagstore *s = dataset_store(&d, true);
    prime_outcomes *o = dataset_outcomes(&d);
    uint32_t tags[100];
    for (uint32_t i = 0; i < 100; i++)
        tags[i] = i % 40;
    uint64_t tm = (UINT64_C(1) << 40) - 1, size, want;
    double sum, wsum;
    cr_assert_eq(prime_query(s, o, PRIME_NONE, tags, 100, &size, &sum, NULL, NULL), PRIME_OK);
    scan_set(&d, PRIME_NONE, tm, &want, &wsum);
    cr_assert_eq(size, want);
    uint64_t ps[100];
    cr_assert_eq(prime_query_parents(s, o, 0, tags, 100, ps, NULL), PRIME_OK);
    scan_set(&d, 0, tm, &want, &wsum); /* every tag appears twice or more */
    for (int j = 0; j < 100; j++)
        cr_assert_eq(ps[j], want);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

/* Random parameters for run `run` of a test over the hooks' settings `way`
 * on a store of per_class images a class: sets of max_lo to 6 tags,
 * min_size 1 to min_size_max; in what[0..WAYS_WHAT) the settings, the run
 * and the parameters, for failure messages. */
#define WAYS_WHAT 200
static void ways_params(params *p, uint32_t per_class, uint32_t max_lo, uint32_t min_size_max,
                        const char *way, uint32_t run, char what[WAYS_WHAT])
{
    random_params(p, per_class);
    p->max_tags = max_lo + below(7 - max_lo);
    p->min_size = 1 + below(min_size_max);
    snprintf(what, WAYS_WHAT, "%s, run %u (max_tags %u, min_size %lld, min_drop %g, whole %d)", way,
             run, p->max_tags, (long long)p->min_size, p->min_drop, p->whole);
}

/* The end of a run that searched d (with p: s, o, c) under two settings of
 * the hooks, results a and b: the same candidate count and rendering; the
 * brute force's check of d with the hooks as they are (differential()).
 * Frees all of them and d; returns the modes checked. */
static size_t same_two_ways(dataset *d, const params *p, prime_tagstore *s, prime_outcomes *o,
                            prime_config *c, prime_result *a, prime_result *b, const char *what)
{
    cr_assert_eq(prime_result_candidate_count(b), prime_result_candidate_count(a), "%s", what);
    assert_same_render(a, b, what);
    prime_result_destroy(a);
    prime_result_destroy(b);
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    size_t n = differential(d, p, what);
    dataset_free(d);
    return n;
}

/* The order of the candidates (prime__search_set_order: 1, the default,
 * ascending size for 0/1 outcomes; 0 store ids): the same rendering and
 * candidate count in both orders, and the brute force's modes, with the
 * projections and the pair table counted over the images' rows (whose
 * entries must be ascending in the search order) or not, local sets and
 * siblings' rows on or off; 0/1 outcomes mostly, others too (which keep
 * the order of the ids). */
Test(search, candidate_order, .timeout = 500)
{
    /* projection, pair rows, local limit, siblings */
    static const uint32_t ways[][4] = {{2, 2, 64, 1}, {0, 0, 64, 1}, {1, 1, 0, 0}, {2, 2, 8, 0}};
    size_t total_modes = 0;
    uint64_t total_candidates = 0;
    for (size_t wi = 0; wi < sizeof ways / sizeof *ways; wi++) {
        rng_state = 5100 + wi;
        for (uint32_t run = 0; run < 40; run++) {
            dataset d;
            uint32_t per_class = below(3) == 0 ? 300 : 1500 + below(1500);
            dataset_random(&d, 1 + below(3), 5 + below(10), per_class, 2 + below(7),
                           below(4) == 0 ? (int)below(3) : 0);
            params p;
            random_params(&p, per_class);
            p.max_tags = 2 + below(5);
            p.min_size = 1 + below(12);
            char what[200];
            snprintf(what, sizeof what,
                     "projection %u, pair rows %u, local %u, siblings %u, run %u (max_tags %u, "
                     "min_size %lld, min_drop %g, whole %d)",
                     ways[wi][0], ways[wi][1], ways[wi][2], ways[wi][3], run, p.max_tags,
                     (long long)p.min_size, p.min_drop, p.whole);
            prime__search_set_projection(ways[wi][0]);
            prime__search_set_pair_rows(ways[wi][1]);
            prime__search_set_local(ways[wi][2]);
            prime__search_set_siblings(ways[wi][3]);
            prime_tagstore *s = dataset_store(&d, true);
            prime_outcomes *o = dataset_outcomes(&d);
            prime_config *c = params_config(&p);
            prime_result *by_id = NULL, *by_sz = NULL;
            prime__search_set_order(0);
            cr_assert_eq(prime_search(s, o, c, NULL, NULL, &by_id), PRIME_OK, "%s", what);
            prime__search_set_order(1);
            cr_assert_eq(prime_search(s, o, c, NULL, NULL, &by_sz), PRIME_OK, "%s", what);
            total_candidates += prime_result_candidate_count(by_sz);
            total_modes += same_two_ways(&d, &p, s, o, c, by_id, by_sz, what);
        }
    }
    search_hooks_default();
    fprintf(stderr, "candidate order: %zu modes, %llu candidates compared\n", total_modes,
            (unsigned long long)total_candidates);
    cr_assert_gt(total_modes, 1000);
}

/* The early stop of the leaf children's counts (prime__search_set_leaf_chunk:
 * their correct images counted one or two words at a time, stopped once a
 * child shows min_size images and no failure mode; the default chunk is
 * longer than these classes) over classes projected on their first tags
 * (built 64 images a word) or not, with nodes kept as positions or
 * bitsets, against the brute force; and the same candidate count and
 * rendering as with whole counts (the candidates are not checked by the
 * brute force). */
Test(search, differential_leaf_chunk, .timeout = 500)
{
    /* projection, array limit num/den, leaf chunk */
    static const uint32_t ways[][4] = {{2, 1, 8, 1}, {2, 64, 1, 2}, {1, 0, 1, 1}, {0, 0, 1, 1}};
    size_t total_modes = 0;
    for (size_t wi = 0; wi < sizeof ways / sizeof *ways; wi++) {
        rng_state = 4200 + wi;
        char way[100];
        snprintf(way, sizeof way, "projection %u, limit %u/%u, leaf chunk %u", ways[wi][0],
                 ways[wi][1], ways[wi][2], ways[wi][3]);
        for (uint32_t run = 0; run < 40; run++) {
            dataset d;
            uint32_t per_class = below(3) == 0 ? 300 : 1500 + below(1500);
            dataset_random(&d, 1 + below(3), 5 + below(8), per_class, 2 + below(7),
                           below(4) == 0 ? (int)below(3) : 0);
            params p;
            char what[WAYS_WHAT];
            ways_params(&p, per_class, 3, 12, way, run, what);
            prime__search_set_projection(ways[wi][0]);
            prime__search_set_array_limit(ways[wi][1], ways[wi][2]);
            prime__search_set_leaf_chunk(1000000);
            prime_tagstore *s = dataset_store(&d, true);
            prime_outcomes *o = dataset_outcomes(&d);
            prime_config *c = params_config(&p);
            prime_result *whole = NULL, *chunked = NULL;
            cr_assert_eq(prime_search(s, o, c, NULL, NULL, &whole), PRIME_OK, "%s", what);
            prime__search_set_leaf_chunk(ways[wi][3]);
            cr_assert_eq(prime_search(s, o, c, NULL, NULL, &chunked), PRIME_OK, "%s", what);
            total_modes += same_two_ways(&d, &p, s, o, c, whole, chunked, what);
        }
    }
    search_hooks_default();
    fprintf(stderr, "leaf chunk: %zu modes compared (by size 3-6: %zu %zu %zu %zu)\n",
            total_modes, by_size[3], by_size[4], by_size[5], by_size[6]);
    cr_assert_gt(by_size[3] + by_size[4] + by_size[5] + by_size[6], 1600);
}

/* ---- bitset kernels (lib/search/kernels.c) ------------------------------------ */

static bool bit_set(const uint64_t *b, uint32_t i)
{
    return (b[i / 64] >> (i % 64)) & 1u;
}

/* Every kernel set the CPU can run gives the portable set's counts and
 * words, at every length (the vector loops and their tails), with the
 * destination separate or equal to the first operand. */
Test(search, kernels_agree_with_portable)
{
    rng_state = 777;
    const prime__kernels *ref = prime__kernels_by_id(PRIME_KERNEL_PORTABLE);
    unsigned supported = prime__kernels_supported();
    cr_assert(supported & (1u << PRIME_KERNEL_PORTABLE));
    enum { MAXW = 300 }; /* the AVX2 count sums 32 words a step from 128 on */
    uint64_t a[MAXW + 1], b[MAXW + 1], d1[MAXW + 1], d2[MAXW + 1];
    size_t tested = 0;
    for (int id = 0; id < PRIME_KERNEL_COUNT; id++) {
        if (!(supported & (1u << id)))
            continue;
        const prime__kernels *k = prime__kernels_by_id((prime__kernel_id)id);
        cr_assert_eq((int)k->id, id);
        for (size_t words = 0; words <= MAXW; words++) {
            for (int rep = 0; rep < 4; rep++) {
                for (size_t w = 0; w <= MAXW; w++) {
                    /* dense, sparse, all ones */
                    a[w] = rep == 3 ? ~UINT64_C(0) : rep == 2 ? rnd() & rnd() & rnd() : rnd();
                    b[w] = rep == 3 ? ~UINT64_C(0) : rnd();
                }
                d1[words] = d2[words] = 0x5a5a5a5a5a5a5a5aULL; /* guard word */
                uint64_t n1 = ref->and_count(d1, a, b, words);
                uint64_t n2 = k->and_count(d2, a, b, words);
                cr_assert_eq(n2, n1, "%s and_count, %zu words", k->name, words);
                cr_assert_eq(memcmp(d1, d2, (words + 1) * sizeof *d1), 0,
                             "%s and_count words, %zu words", k->name, words);
                cr_assert_eq(k->and_popcount(a, b, words), n1, "%s and_popcount %zu", k->name,
                             words);
                cr_assert_eq(k->count(d1, words), n1, "%s count %zu", k->name, words);
                cr_assert_eq(k->count(a, words), ref->count(a, words));
                /* in place: a &= b */
                memcpy(d2, a, sizeof a);
                cr_assert_eq(k->and_count(d2, d2, b, words), n1, "%s in place", k->name);
                cr_assert_eq(memcmp(d1, d2, words * sizeof *d1), 0);
                /* many columns at once: a against b, d1 (a & b), a itself
                   and b again, each count that of its own and_popcount
                   (all ones past 124 words: the byte counts' flush) */
                const uint64_t *cols[4] = {b, d1, a, b};
                uint64_t counts[5] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
                size_t n_cols = words % 5; /* 0..4 columns */
                k->and_popcount_many(a, cols, n_cols, words, counts);
                for (size_t i = 0; i < n_cols; i++)
                    cr_assert_eq(counts[i], ref->and_popcount(a, cols[i], words),
                                 "%s and_popcount_many %zu of %zu, %zu words", k->name, i,
                                 n_cols, words);
                cr_assert_eq(counts[n_cols], UINT64_MAX, "%s and_popcount_many wrote past n",
                             k->name);
                /* the positions of a & b: those of the bits of d1, ascending */
                if (n1 < MAXW * 4) {
                    uint32_t ids[MAXW * 4 + 1], want = 0;
                    cr_assert_eq(k->and_ids(a, b, words, ids), n1, "%s and_ids %zu", k->name,
                                 words);
                    for (size_t w = 0; w < words; w++)
                        for (uint64_t x = d1[w]; x != 0; x &= x - 1, want++)
                            cr_assert_eq(ids[want], (uint32_t)(w * 64) + (uint32_t)__builtin_ctzll(x),
                                         "%s and_ids %zu: position %u", k->name, words, want);
                }
                /* a pivot's images in a column: up to 64 positions (of
                   the bits of d1, else random ones below words * 64), from
                   any first to any last */
                if (words > 0) {
                    uint32_t pos[64], n_pos = 0;
                    for (size_t w = 0; w < words && n_pos < 64; w++)
                        for (uint64_t x = d1[w]; x != 0 && n_pos < 64; x &= x - 1)
                            pos[n_pos++] = (uint32_t)(w * 64) + (uint32_t)__builtin_ctzll(x);
                    while (n_pos < 64)
                        pos[n_pos++] = (uint32_t)(rnd() % (words * 64));
                    uint32_t from = (uint32_t)(rnd() % 65), to = (uint32_t)(rnd() % 65);
                    if (from > to) {
                        uint32_t t = from;
                        from = to;
                        to = t;
                    }
                    uint64_t want = 0;
                    for (uint32_t i = from; i < to; i++)
                        want |= (uint64_t)bit_set(b, pos[i]) << i;
                    uint32_t cnt = UINT32_MAX;
                    cr_assert_eq(k->gather_mask(pos, from, to, b, &cnt), want,
                                 "%s gather_mask %u..%u, %zu words", k->name, from, to, words);
                    cr_assert_eq(cnt, (uint32_t)__builtin_popcountll(want), "%s gather_mask count",
                                 k->name);
                }
                /* the children of a local node: a[0] the node, b[] the tags'
                   masks, the allowed tags those of the bits of a[1..] */
                if (words > 1 && words <= 9) {
                    size_t aw = words - 1;
                    uint32_t j1[MAXW * 8], j2[MAXW * 8];
                    uint64_t s1[MAXW * 8], s2[MAXW * 8], q1[MAXW * 8], q2[MAXW * 8];
                    uint64_t m1[8] = {0}, m2[8] = {0}, t1, t2;
                    uint64_t wrong = b[0] >> (rnd() % 64), need = rnd() % 4, min = rnd() % 40;
                    uint64_t lcol[9 * 64];
                    for (size_t x = 0; x < aw * 64; x++)
                        lcol[x] = rnd() | rnd();
                    uint32_t n_a = ref->mask_children(a[0], lcol, a + 1, aw, wrong, need, min, 32,
                                                      m1, j1, s1, q1, &t1);
                    uint32_t n_b = k->mask_children(a[0], lcol, a + 1, aw, wrong, need, min, 32,
                                                    m2, j2, s2, q2, &t2);
                    cr_assert_eq(n_b, n_a, "%s mask_children %zu", k->name, aw);
                    cr_assert_eq(t2, t1);
                    cr_assert_eq(t1, ref->count(a + 1, aw));
                    cr_assert_eq(memcmp(m1, m2, sizeof m1), 0);
                    cr_assert_eq(memcmp(j1, j2, n_a * sizeof *j1), 0);
                    cr_assert_eq(memcmp(s1, s2, n_a * sizeof *s1), 0);
                    cr_assert_eq(memcmp(q1, q2, n_a * sizeof *q1), 0);
                    uint32_t expect = 0;
                    for (uint32_t j = 0; j < aw * 64; j++) {
                        uint64_t m = a[0] & lcol[j];
                        expect += bit_set(a + 1, j) &&
                                  (uint64_t)__builtin_popcountll(m & wrong) >= need &&
                                  (uint64_t)__builtin_popcountll(m) >= min;
                    }
                    cr_assert_eq(n_a, expect, "mask_children survivors");
                    for (uint32_t v = 0; v < n_a; v++) {
                        uint64_t m = a[0] & lcol[j1[v]];
                        uint64_t size = (uint64_t)__builtin_popcountll(m);
                        uint64_t nw = (uint64_t)__builtin_popcountll(m & wrong);
                        cr_assert(nw >= need && size >= min && bit_set(a + 1, j1[v]));
                        cr_assert_eq(s1[v], size);
                        cr_assert_eq(q1[v], (size - nw) << 32);
                        cr_assert(v == 0 || j1[v] > j1[v - 1]);
                    }
                }
                tested++;
            }
        }
    }
    cr_assert_gt(tested, 0);
}

/* The documented choice (docs/method.md, "Kernels"). */
Test(search, kernel_selection_rule)
{
    const unsigned all = 0xf, avx2 = 0x7, popcnt = 0x3, none = 0x1;
    cr_assert_eq(prime__kernels_select(NULL, all), PRIME_KERNEL_AVX512);
    cr_assert_eq(prime__kernels_select("", avx2), PRIME_KERNEL_AVX2);
    cr_assert_eq(prime__kernels_select("auto", popcnt), PRIME_KERNEL_POPCNT);
    cr_assert_eq(prime__kernels_select(NULL, none), PRIME_KERNEL_PORTABLE);
    cr_assert_eq(prime__kernels_select(NULL, 0), PRIME_KERNEL_PORTABLE);
    cr_assert_eq(prime__kernels_select("AVX2", avx2), PRIME_KERNEL_AVX2); /* not a name */
    cr_assert_eq(prime__kernels_select("sse9", none), PRIME_KERNEL_PORTABLE);
    cr_assert_eq(prime__kernels_select("portable", all), PRIME_KERNEL_PORTABLE);
    cr_assert_eq(prime__kernels_select("popcnt", all), PRIME_KERNEL_POPCNT);
    cr_assert_eq(prime__kernels_select("avx2", all), PRIME_KERNEL_AVX2);
    cr_assert_eq(prime__kernels_select("avx512", all), PRIME_KERNEL_AVX512);
    /* forced beyond the CPU: the best supported set below the request */
    cr_assert_eq(prime__kernels_select("avx512", avx2), PRIME_KERNEL_AVX2);
    cr_assert_eq(prime__kernels_select("avx512", popcnt), PRIME_KERNEL_POPCNT);
    cr_assert_eq(prime__kernels_select("avx2", popcnt), PRIME_KERNEL_POPCNT);
    cr_assert_eq(prime__kernels_select("avx2", none), PRIME_KERNEL_PORTABLE);
    cr_assert_eq(prime__kernels_select("popcnt", none), PRIME_KERNEL_PORTABLE);
    cr_assert_eq(prime__kernels_parse("avx512"), PRIME_KERNEL_AVX512);
    cr_assert_eq(prime__kernels_parse("neon"), -1);
    cr_assert_eq(prime__kernels_parse(NULL), -1);
}

/* The set in use is the one the environment asked for (the kernels test
 * entries of tests/meson.build force each), or the best one without it. */
Test(search, kernel_in_use)
{
    const char *env = getenv("PRIME_KERNEL");
    const prime__kernels *k = prime__kernels_get();
    cr_assert_not_null(k);
    cr_assert(prime__kernels_supported() & (1u << k->id), "%s is not supported", k->name);
    cr_assert_eq(k->id, prime__kernels_select(env, prime__kernels_supported()));
    if (env != NULL && prime__kernels_parse(env) >= 0 &&
        (prime__kernels_supported() & (1u << prime__kernels_parse(env))))
        cr_assert_str_eq(k->name, env);
    fprintf(stderr, "kernel in use: %s (PRIME_KERNEL=%s)\n", k->name, env ? env : "(unset)");
}

/* ---- streaming (prime_search_stream) ------------------------------------------ */

typedef struct {
    modes got;
    uint64_t calls, stop_after;
    const prime_tagstore *store;
    bool names_ordered;
    double max_drop_err; /* drop vs class_accuracy - accuracy */
} stream_sink;

static int32_t on_mode(void *user, const prime_mode_event *e)
{
    stream_sink *k = user;
    k->calls++;
    if (k->got.n == k->got.cap) {
        k->got.cap = k->got.cap ? 2 * k->got.cap : 64;
        k->got.v = realloc(k->got.v, k->got.cap * sizeof *k->got.v);
        cr_assert_not_null(k->got.v);
    }
    mode *m = &k->got.v[k->got.n++];
    memset(m, 0, sizeof *m);
    m->cls = e->class_id;
    m->n = e->n_tags;
    for (uint32_t i = 0; i < e->n_tags; i++) {
        m->tags[i] = e->tags[i];
        if (i > 0 && strcmp(prime_tagstore_tag_name(k->store, e->tags[i - 1]),
                            prime_tagstore_tag_name(k->store, e->tags[i])) >= 0)
            k->names_ordered = false;
    }
    qsort(m->tags, m->n, sizeof *m->tags, cmp_u32);
    m->size = e->size;
    m->correct = e->correct;
    if (e->accuracy != e->correct / (double)e->size ||
        e->drop != e->class_accuracy - e->accuracy)
        k->max_drop_err = 1;
    return k->stop_after != 0 && k->calls >= k->stop_after;
}

/* The streamed modes are the result's, with the same numbers, at every
 * thread count; tags come in name order. */
Test(search, stream_equals_search, .timeout = 300)
{
    rng_state = 4242;
    size_t compared = 0;
    for (uint32_t run = 0; run < 150; run++) {
        dataset d;
        dataset_random(&d, 1 + below(4), 3 + below(10), below(4) == 0 ? 24 : 300,
                       below(16) == 0 ? 0 : 1 + below(8), (int)below(3));
        params p;
        random_params(&p, 300);
        prime_tagstore *s = dataset_store(&d, true);
        prime_outcomes *o = dataset_outcomes(&d);
        prime_config *c = params_config(&p);
        prime_result *r = NULL;
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &r), PRIME_OK);
        modes want = {0};
        result_modes(r, &want);
        stream_sink k = {.store = s, .names_ordered = true};
        uint64_t n = 99;
        cr_assert_eq(prime_search_stream(s, o, c, NULL, NULL, on_mode, &k, &n), PRIME_OK,
                     "%s", prime_last_error());
        cr_assert_eq(n, prime_result_mode_count(r));
        cr_assert_eq(k.calls, n);
        cr_assert(k.names_ordered);
        cr_assert_eq(k.max_drop_err, 0);
        if (k.got.n > 0)
            qsort(k.got.v, k.got.n, sizeof *k.got.v, cmp_mode);
        char what[64];
        snprintf(what, sizeof what, "stream run %u", run);
        assert_same_modes(&k.got, &want, what);
        compared += n;
        free(k.got.v);
        free(want.v);
        prime_result_destroy(r);
        prime_config_destroy(c);
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(s);
        dataset_free(&d);
    }
    cr_assert_gt(compared, 500);
}

/* A callback that answers non-zero stops the search: no call after it,
 * PRIME_E_CANCELLED, the count says how many were handed over. */
Test(search, stream_stops_when_asked)
{
    rng_state = 99;
    dataset d;
    dataset_random(&d, 3, 12, 300, 8, 0);
    params p = {.max_tags = 4, .min_size = 2, .min_drop = 0.0, .n_gains = 1, .gains = {-1},
                .min_tag_count = 0, .whole = false, .threads = 1};
    prime_tagstore *s = dataset_store(&d, true);
    prime_outcomes *o = dataset_outcomes(&d);
    for (int64_t threads = 1; threads <= 4; threads += 3) {
        p.threads = (uint32_t)threads;
        prime_config *c = params_config(&p);
        stream_sink all = {.store = s, .names_ordered = true};
        uint64_t n_all = 0;
        cr_assert_eq(prime_search_stream(s, o, c, NULL, NULL, on_mode, &all, &n_all), PRIME_OK);
        cr_assert_gt(n_all, 20);
        stream_sink k = {.store = s, .names_ordered = true, .stop_after = 7};
        uint64_t n = 0;
        cr_assert_eq(prime_search_stream(s, o, c, NULL, NULL, on_mode, &k, &n),
                     PRIME_E_CANCELLED);
        cr_assert_eq(k.calls, 7);
        cr_assert_eq(n, 7);
        cr_assert_not_null(strstr(prime_last_error(), "mode callback"));
        free(all.got.v);
        free(k.got.v);
        prime_config_destroy(c);
    }
    uint64_t n = 5;
    cr_assert_eq(prime_search_stream(s, o, NULL, NULL, NULL, NULL, NULL, &n),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(n, 0);
    cr_assert_eq(prime_search_stream(NULL, o, NULL, NULL, NULL, on_mode, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

/* PRIME_PARAM_MAX_MODES: a search that finds more modes than the limit
 * stops with PRIME_E_LIMIT and no result at every thread count (the stream
 * has handed over exactly the limit); at the limit it is the plain result. */
Test(search, max_modes_limit)
{
    rng_state = 314;
    dataset d;
    dataset_random(&d, 3, 12, 300, 8, 0);
    params p = {.max_tags = 4, .min_size = 2, .min_drop = 0.0, .n_gains = 1, .gains = {-1},
                .min_tag_count = 0, .whole = false, .threads = 1};
    prime_tagstore *s = dataset_store(&d, true);
    prime_outcomes *o = dataset_outcomes(&d);
    for (uint32_t threads = 1; threads <= 4; threads += 3) {
        p.threads = threads;
        prime_config *c = params_config(&p);
        prime_result *r = NULL;
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &r), PRIME_OK);
        uint64_t n = prime_result_mode_count(r);
        cr_assert_gt(n, 20);
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MAX_MODES, (int64_t)n), PRIME_OK);
        prime_result *r2 = NULL;
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &r2), PRIME_OK);
        cr_assert_eq(prime_result_mode_count(r2), n);
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MAX_MODES, (int64_t)n - 1), PRIME_OK);
        prime_result *r3 = (prime_result *)1;
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &r3), PRIME_E_LIMIT);
        cr_assert_null(r3);
        char want[96];
        snprintf(want, sizeof want, "more than %llu failure modes (max_modes)",
                 (unsigned long long)(n - 1));
        cr_assert_not_null(strstr(prime_last_error(), want), "%s", prime_last_error());
        stream_sink k = {.store = s, .names_ordered = true};
        uint64_t got = 0;
        cr_assert_eq(prime_search_stream(s, o, c, NULL, NULL, on_mode, &k, &got), PRIME_E_LIMIT);
        cr_assert_eq(got, n - 1);
        cr_assert_eq(k.calls, n - 1);
        cr_assert_not_null(strstr(prime_last_error(), "prime_search_stream: more than"));
        free(k.got.v);
        /* by name, and its bounds */
        cr_assert_eq(prime_config_set_by_name(c, "max_modes", "0"), PRIME_OK);
        int64_t v = -1;
        cr_assert_eq(prime_config_get_int(c, PRIME_PARAM_MAX_MODES, &v), PRIME_OK);
        cr_assert_eq(v, 0);
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MAX_MODES, -1), PRIME_E_RANGE);
        prime_result_destroy(r);
        prime_result_destroy(r2);
        prime_config_destroy(c);
    }
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

/* prime_mode_event_render: the records of --stream. Every streamed mode
 * rendered as JSON is a line of the result's JSON, and as CSV a row of its
 * CSV; the CSV header; refusals. */
typedef struct {
    const prime_tagstore *store;
    char *json, *csv; /* all records, one after the other */
    size_t json_len, csv_len;
} render_sink;

static void append_record(const prime_tagstore *s, const prime_mode_event *e, int32_t format,
                          char **all, size_t *len)
{
    size_t need = 0;
    cr_assert_eq(prime_mode_event_render(s, e, format, NULL, 0, &need), PRIME_E_BUFFER_TOO_SMALL);
    char *buf = malloc(need + 1);
    cr_assert_not_null(buf);
    size_t again = 0;
    cr_assert_eq(prime_mode_event_render(s, e, format, buf, need + 1, &again), PRIME_OK);
    cr_assert_eq(again, need);
    cr_assert_eq(strlen(buf), need);
    *all = realloc(*all, *len + need + 1);
    cr_assert_not_null(*all);
    memcpy(*all + *len, buf, need + 1);
    *len += need;
    free(buf);
}

static int32_t on_render(void *user, const prime_mode_event *e)
{
    render_sink *k = user;
    append_record(k->store, e, PRIME_FORMAT_JSON, &k->json, &k->json_len);
    append_record(k->store, e, PRIME_FORMAT_CSV, &k->csv, &k->csv_len);
    return 0;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text (NUL-terminated, modified) that start with `prefix`,
 * less a trailing "," or "]," and sorted. */
static size_t sorted_lines(char *text, const char *prefix, char ***out)
{
    size_t n = 0, cap = 0;
    char **v = NULL;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        while (*line == ' ')
            line++;
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            continue;
        size_t l = strlen(line);
        if (l > 0 && line[l - 1] == ',')
            line[--l] = '\0';
        if (l > 0 && line[l - 1] == ']' && strstr(line, "\"description\"") != NULL &&
            line[l - 2] == '}')
            line[--l] = '\0';
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            v = realloc(v, cap * sizeof *v);
            cr_assert_not_null(v);
        }
        v[n++] = line;
    }
    qsort(v, n, sizeof *v, cmp_line);
    *out = v;
    return n;
}

Test(search, stream_records_are_result_records)
{
    rng_state = 2718;
    dataset d;
    dataset_random(&d, 3, 10, 300, 6, 0);
    params p = {.max_tags = 3, .min_size = 3, .min_drop = 0.05, .n_gains = 1, .gains = {0},
                .min_tag_count = 0, .whole = false, .threads = 2};
    prime_tagstore *s = dataset_store(&d, true);
    prime_outcomes *o = dataset_outcomes(&d);
    for (int whole = 0; whole <= 1; whole++) {
        p.whole = whole;
        prime_config *c = params_config(&p);
        prime_result *r = NULL;
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &r), PRIME_OK);
        cr_assert_gt(prime_result_mode_count(r), 5);
        render_sink k = {.store = s};
        cr_assert_eq(prime_search_stream(s, o, c, NULL, NULL, on_render, &k, NULL), PRIME_OK);
        size_t need = 0;
        prime_result_render(r, PRIME_FORMAT_JSON, NULL, 0, &need);
        char *json = malloc(need + 1);
        cr_assert_eq(prime_result_render(r, PRIME_FORMAT_JSON, json, need + 1, &need), PRIME_OK);
        prime_result_render(r, PRIME_FORMAT_CSV, NULL, 0, &need);
        char *csv = malloc(need + 1);
        cr_assert_eq(prime_result_render(r, PRIME_FORMAT_CSV, csv, need + 1, &need), PRIME_OK);
        char **a = NULL, **b = NULL;
        size_t na = sorted_lines(json, "{\"class\": ", &a);
        size_t nb = sorted_lines(k.json, "{\"class\": ", &b);
        /* the result's lines include its classes ({"class": .., "images": ..}) */
        size_t modes_a = 0;
        for (size_t i = 0; i < na; i++)
            if (strstr(a[i], "\"tags\": ") != NULL)
                a[modes_a++] = a[i];
        cr_assert_eq(modes_a, nb);
        cr_assert_eq(nb, prime_result_mode_count(r));
        for (size_t i = 0; i < nb; i++)
            cr_assert_str_eq(b[i], a[i]);
        free(a);
        free(b);
        /* CSV: the rows (the header is not streamed) */
        char *csv_body = strchr(csv, '\n') + 1;
        size_t nra = sorted_lines(csv_body, "", &a);
        size_t nrb = sorted_lines(k.csv, "", &b);
        cr_assert_eq(nra, nrb);
        for (size_t i = 0; i < nra; i++)
            cr_assert_str_eq(b[i], a[i]);
        free(a);
        free(b);
        free(json);
        free(csv);
        free(k.json);
        free(k.csv);
        prime_result_destroy(r);
        prime_config_destroy(c);
    }
    /* the CSV header; nothing for JSON; refusals */
    char buf[128];
    size_t n = 0;
    cr_assert_eq(prime_mode_event_render(s, NULL, PRIME_FORMAT_CSV, buf, sizeof buf, &n), PRIME_OK);
    cr_assert_str_eq(buf, "class,tags,size,correct,accuracy,class_accuracy,drop,description\n");
    cr_assert_eq(prime_mode_event_render(s, NULL, PRIME_FORMAT_JSON, buf, sizeof buf, &n), PRIME_OK);
    cr_assert_eq(n, 0);
    uint32_t bad_tag = 9999;
    prime_mode_event e = {.class_id = 0, .n_tags = 1, .tags = &bad_tag, .size = 1};
    cr_assert_eq(prime_mode_event_render(s, &e, PRIME_FORMAT_JSON, buf, sizeof buf, &n),
                 PRIME_E_INVALID_ARG);
    uint32_t tag0 = 0;
    e.tags = &tag0;
    e.class_id = 9999;
    cr_assert_eq(prime_mode_event_render(s, &e, PRIME_FORMAT_JSON, buf, sizeof buf, &n),
                 PRIME_E_INVALID_ARG);
    e.class_id = 0;
    e.n_tags = 0;
    cr_assert_eq(prime_mode_event_render(s, &e, PRIME_FORMAT_CSV, buf, sizeof buf, &n),
                 PRIME_E_INVALID_ARG);
    e.n_tags = 1;
    cr_assert_eq(prime_mode_event_render(s, &e, PRIME_FORMAT_TEXT, buf, sizeof buf, &n),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_mode_event_render(s, &e, PRIME_FORMAT_JSON, buf, sizeof buf, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_mode_event_render(NULL, &e, PRIME_FORMAT_JSON, buf, sizeof buf, &n),
                 PRIME_E_INVALID_ARG);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

/* Names that need escaping or are not ASCII survive the round trip; a BOM
 * in front reads the same; the file reader and the memory reader agree. */
Test(search, result_round_trip_names)
{
    static const char *const tags[] = {"q\"uote", "back\\slash", "tab\there", "\xC3\xA9t\xC3\xA9",
                                       "\xE2\x80\xA8line sep", "ctl\x01", "\xF0\x9F\x98\x80",
                                       "slash/", "comma,x", "nl\nx"};
    static const char *const classes[] = {"c \"one\"", "\xE6\x97\xA5\xE6\x9C\xAC", "z\\"};
    rng_state = 99;
    for (int whole = 0; whole < 2; whole++) {
        prime_tagstore *s = NULL;
        cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
        prime_outcomes *o = NULL;
        cr_assert_eq(prime_outcomes_create(600, &o), PRIME_OK);
        for (uint32_t i = 0; i < 600; i++) {
            const char *t[10];
            uint32_t n = 0;
            for (uint32_t k = 0; k < 10; k++)
                if (below(3) == 0)
                    t[n++] = tags[k];
            char name[16];
            snprintf(name, sizeof name, "i%u", i);
            cr_assert_eq(prime_tagstore_add_image_names(s, name, classes[i % 3], t, n, NULL),
                         PRIME_OK, "%s", prime_last_error());
            cr_assert_eq(prime_outcomes_set(o, i, n > 3 ? 0.0 : (below(4) ? 1.0 : 0.0)),
                         PRIME_OK);
        }
        cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
        prime_config *c = NULL;
        cr_assert_eq(prime_config_create(&c), PRIME_OK);
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MIN_SIZE, 5), PRIME_OK);
        cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_DROP, 0.05), PRIME_OK);
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_WHOLE_DATASET, whole), PRIME_OK);
        prime_result *r = NULL;
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &r), PRIME_OK);
        cr_assert_gt(prime_result_mode_count(r), 5, "the store must give modes");
        round_trip(r, whole ? "names, whole data set" : "names");

        /* a BOM in front, and the file reader */
        char *json = render_all(r, PRIME_FORMAT_JSON);
        size_t n = strlen(json);
        char *bom = malloc(n + 4);
        memcpy(bom, "\xEF\xBB\xBF", 3);
        memcpy(bom + 3, json, n + 1);
        prime_result *back = NULL;
        cr_assert_eq(prime_result_load_memory(bom, n + 3, "bom.json", &back), PRIME_OK, "%s",
                     prime_last_error());
        char *again = render_all(back, PRIME_FORMAT_JSON);
        cr_assert_str_eq(again, json);
        free(again);
        prime_result_destroy(back);
        char path[] = "/tmp/prime_rt_XXXXXX";
        int fd = mkstemp(path);
        cr_assert_geq(fd, 0);
        close(fd);
        cr_assert_eq(prime_result_write(r, PRIME_FORMAT_JSON, path), PRIME_OK);
        back = NULL;
        cr_assert_eq(prime_result_load(path, &back), PRIME_OK, "%s", prime_last_error());
        again = render_all(back, PRIME_FORMAT_JSON);
        cr_assert_str_eq(again, json);
        free(again);
        prime_result_destroy(back);
        unlink(path);
        free(bom);
        free(json);
        prime_result_destroy(r);
        prime_config_destroy(c);
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(s);
    }
}

static void result_bad(const char *json, prime_status want, const char *fragment)
{
    prime_result *r = (prime_result *)&r;
    prime_status st = prime_result_load_memory(json, strlen(json), "bad.json", &r);
    cr_assert_eq(st, want, "%s: status %d, message %s", json, st, prime_last_error());
    cr_assert_null(r);
    cr_assert(strstr(prime_last_error(), fragment) != NULL, "message '%s' lacks '%s'",
              prime_last_error(), fragment);
}

#define P "\"params\": {\"min_size\": 3, \"min_drop\": 0.3}"
#define MODE(cls, acc) \
    "{\"class\": \"" cls "\", \"tags\": [\"x\"], \"size\": 4, \"correct\": 1, " \
    "\"accuracy\": 0.25, \"class_accuracy\": " acc ", \"drop\": 0.25}"

Test(search, result_reader_errors)
{
    /* a key given twice, anywhere: named with both lines */
    result_bad("{" P ",\n \"failure_modes\": [],\n \"failure_modes\": []}", PRIME_E_PARSE,
               "bad.json:3: result: duplicate key \"failure_modes\" (first on line 2)");
    result_bad("{\"params\": {\"min_size\": 3,\n \"min_drop\": 0.3, \"min_size\": 4}, "
               "\"failure_modes\": []}",
               PRIME_E_PARSE, "bad.json:2: params: duplicate key \"min_size\" (first on line 1)");
    result_bad("{" P ", \"failure_modes\": [\n{\"class\": \"a\", \"class\": \"b\"}]}",
               PRIME_E_PARSE, "bad.json:2: failure_modes[0]: duplicate key \"class\"");
    result_bad("{" P ", \"failure_modes\": [], \"extra\": 1,\n \"extra\": 2}", PRIME_E_PARSE,
               "bad.json:2: duplicate key \"extra\" (first on line 1)");
    result_bad("{" P ", \"failure_modes\": [], \"extra\": {\"a\": [1, {\"a\": 2}],\n \"a\": 3}}",
               PRIME_E_PARSE, "bad.json:2: duplicate key \"a\" (first on line 1)");
    result_bad("{" P ", \"classes\": [{\"class\": \"a\", \"images\": 4, \"correct\": 2,\n"
               " \"accuracy\": 0.5, \"images\": 4}], \"failure_modes\": []}",
               PRIME_E_PARSE, "bad.json:2: classes[0]: duplicate key \"images\"");
    /* classes: listed twice, a mode's class accuracy that differs */
    result_bad("{" P ", \"classes\": [{\"class\": \"a\", \"images\": 4, \"correct\": 2, "
               "\"accuracy\": 0.5},\n {\"class\": \"a\", \"images\": 4, \"correct\": 2, "
               "\"accuracy\": 0.5}], \"failure_modes\": []}",
               PRIME_E_PARSE, "bad.json:2: classes[1]: class \"a\" is listed twice");
    result_bad("{" P ", \"classes\": [{\"class\": \"a\", \"images\": 4, \"correct\": 2, "
               "\"accuracy\": 0.5}],\n \"failure_modes\": [\n" MODE("a", "0.75") "]}",
               PRIME_E_PARSE, "bad.json:3: failure_modes[0]: \"class_accuracy\" = 0.75");
    result_bad("{" P ", \"failure_modes\": [\n" MODE("a", "0.5") ",\n" MODE("a", "0.75") "]}",
               PRIME_E_PARSE, "bad.json:3: failure_modes[1]: \"class_accuracy\" = 0.75");
    /* keys that are all "": nothing in the lexer's scratch (NULL + 0 was
       undefined behaviour; fuzz_result_json under UBSan) */
    result_bad("{\"\": 1, \"\": 2}", PRIME_E_PARSE, "bad.json:1: duplicate key \"\" (first on line 1)");
    /* a mode given twice (its tags in any order): eval would count it twice */
    result_bad("{" P ", \"failure_modes\": [\n" MODE("a", "0.5") ",\n" MODE("b", "0.5") ",\n"
               MODE("a", "0.5") "]}", PRIME_E_DUPLICATE,
               "bad.json:4: failure_modes[2]: the mode of class \"a\" with the same tags as "
               "failure_modes[0] (line 2) is given twice");
    result_bad("{" P ", \"failure_modes\": [\n"
               "{\"class\": \"a\", \"tags\": [\"x\", \"y\"], \"size\": 4, \"correct\": 1, "
               "\"accuracy\": 0.25, \"class_accuracy\": 0.5, \"drop\": 0.25},\n"
               "{\"class\": \"a\", \"tags\": [\"y\", \"x\"], \"size\": 4, \"correct\": 1, "
               "\"accuracy\": 0.25, \"class_accuracy\": 0.5, \"drop\": 0.25}]}",
               PRIME_E_DUPLICATE, "bad.json:3: failure_modes[1]: the mode of class \"a\"");
    /* types, ranges and parameters */
    result_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3, \"max_tags\": 17}, "
               "\"failure_modes\": []}", PRIME_E_RANGE, "bad.json:1: max_tags = 17");
    result_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3, \"min_gain\": [0, 2]}, "
               "\"failure_modes\": []}", PRIME_E_PARSE, "\"min_gain\" = 2 is outside [-1, 1]");
    result_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3, \"whole_dataset\": 1}, "
               "\"failure_modes\": []}", PRIME_E_PARSE,
               "params: \"whole_dataset\" must be a boolean, not a number");
    result_bad("{" P ", \"failure_modes\": [], \"candidates\": -1}", PRIME_E_PARSE,
               "\"candidates\" must be a non-negative integer");
    result_bad("{" P ", \"failure_modes\": [{\"class\": \"a\\u0000b\"}]}", PRIME_E_PARSE,
               "failure_modes[0]: \"class\" holds \\u0000");
    result_bad("{" P ", \"failure_modes\": {}}", PRIME_E_PARSE,
               "result: \"failure_modes\" must be an array, not an object");
    result_bad("{" P ", \"failure_modes\": [}", PRIME_E_PARSE, "expected a value, found '}'");
    result_bad("\xEF\xBB\xBF", PRIME_E_PARSE, "bad.json:1: empty file");
    result_bad("{" P ", \"failure_modes\": [\"\xC3\"]}", PRIME_E_PARSE, "invalid UTF-8");
    /* arguments */
    prime_result *r = (prime_result *)&r;
    cr_assert_eq(prime_result_load_memory(NULL, 3, "x", &r), PRIME_E_INVALID_ARG);
    cr_assert_null(r);
    cr_assert_eq(prime_result_load_memory("{}", 2, "x", NULL), PRIME_E_INVALID_ARG);
    r = (prime_result *)&r;
    cr_assert_eq(prime_result_load("/nonexistent/r.json", &r), PRIME_E_IO);
    cr_assert_null(r);
    cr_assert(strstr(prime_last_error(), "/nonexistent/r.json") != NULL);
    /* a hand-written file: no classes, no description, defaults */
    const char *hand = "{" P ", \"failure_modes\": [" MODE("b", "0.5") ", " MODE("a", "0.5") "]}";
    r = NULL;
    cr_assert_eq(prime_result_load_memory(hand, strlen(hand), NULL, &r), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_result_class_count(r), 2);
    cr_assert_str_eq(prime_result_class_name(r, 0), "a");
    cr_assert_str_eq(prime_result_mode_class_name(r, 0), "b"); /* the file's order */
    cr_assert_str_eq(prime_result_mode_description(r, 0), "a photo of b x");
    cr_assert_eq(prime_result_candidate_count(r), 0);
    char *text = render_all(r, PRIME_FORMAT_TEXT);
    cr_assert_str_eq(text, "a: 0 images, accuracy 0.5000, 1 failure mode\n"
                           "  drop 0.2500  accuracy 0.2500  size      4  x\n"
                           "b: 0 images, accuracy 0.5000, 1 failure mode\n"
                           "  drop 0.2500  accuracy 0.2500  size      4  x\n"
                           "2 failure modes in 2 classes\n");
    free(text);
    prime_result_destroy(r);
}

/* The necessity check of sets of 4 tags and more, every way
 * (prime__search_set_necessity: 1, the default, from the parent's set
 * without one tag, kept on the DFS path and built from the grandparent's,
 * correct images counted only when the wrong ones do not decide; 2, kept
 * but built from the columns, everything counted; 0, intersected anew at
 * each check), with those sets kept as sorted positions (always, never,
 * by the default limit) and searched projected or not, against the brute
 * force. */
Test(search, necessity_ways, .timeout = 500)
{
    static const uint32_t ways[][4] = {{1, 1, 8, 1}, {1, 64, 1, 2}, {1, 0, 1, 0},
                                       {1, 1, 1, 2}, {0, 1, 8, 1}, {0, 64, 1, 0},
                                       {2, 1, 8, 1}, {2, 0, 1, 0}};
    size_t total_modes = 0;
    for (size_t wi = 0; wi < sizeof ways / sizeof *ways; wi++) {
        prime__search_set_necessity(ways[wi][0]);
        prime__search_set_array_limit(ways[wi][1], ways[wi][2]);
        prime__search_set_projection(ways[wi][3]);
        rng_state = 9000 + wi;
        char way[100];
        snprintf(way, sizeof way, "necessity %u, limit %u/%u, projection %u", ways[wi][0],
                 ways[wi][1], ways[wi][2], ways[wi][3]);
        for (uint32_t run = 0; run < 60; run++) {
            dataset d;
            uint32_t per_class = below(3) == 0 ? 1500 + below(1500) : 300;
            dataset_random(&d, 1 + below(3), 5 + below(8), per_class, 2 + below(7),
                           (int)below(3));
            params p;
            char what[WAYS_WHAT];
            ways_params(&p, per_class, 4, 8, way, run, what); /* many sets of 4 tags and more */
            total_modes += differential(&d, &p, what);
            dataset_free(&d);
        }
    }
    search_hooks_default();
    fprintf(stderr, "necessity ways: %zu modes compared (by size 4-6: %zu %zu %zu)\n",
            total_modes, by_size[4], by_size[5], by_size[6]);
    cr_assert_gt(by_size[4] + by_size[5] + by_size[6], 3000);
}

/* Local sets (prime__search_set_local: a node of at most that many images
 * numbers them, and the sets below it are 64-bit masks, necessity checks
 * included) at 64 (the default), a few images (pivots deep down) and
 * never, with the siblings' rows limiting a child's tags or not
 * (prime__search_set_siblings), projected or not and with every set as
 * sorted positions or none, against the brute force, with sets of up to
 * 6 tags. */
Test(search, local_sets, .timeout = 500)
{
    /* local max, siblings, projection, array limit num/den */
    static const uint32_t ways[][5] = {{64, 1, 1, 1, 8}, {64, 0, 2, 64, 1}, {8, 1, 0, 0, 1},
                                       {20, 1, 2, 1, 8}, {0, 1, 1, 1, 8},  {0, 0, 0, 64, 1}};
    size_t total_modes = 0;
    for (size_t wi = 0; wi < sizeof ways / sizeof *ways; wi++) {
        prime__search_set_local(ways[wi][0]);
        prime__search_set_siblings(ways[wi][1]);
        prime__search_set_projection(ways[wi][2]);
        prime__search_set_array_limit(ways[wi][3], ways[wi][4]);
        rng_state = 4200 + wi;
        char way[100];
        snprintf(way, sizeof way, "local %u, siblings %u, projection %u, limit %u/%u",
                 ways[wi][0], ways[wi][1], ways[wi][2], ways[wi][3], ways[wi][4]);
        for (uint32_t run = 0; run < 80; run++) {
            dataset d;
            uint32_t per_class = below(3) == 0 ? 1000 + below(1500) : 200 + below(200);
            dataset_random(&d, 1 + below(3), 5 + below(8), per_class, 2 + below(7),
                           (int)below(3));
            params p;
            char what[WAYS_WHAT];
            ways_params(&p, per_class, 3, 8, way, run, what);
            total_modes += differential(&d, &p, what);
            dataset_free(&d);
        }
    }
    search_hooks_default();
    fprintf(stderr, "local sets: %zu modes compared (by size 4-6: %zu %zu %zu)\n", total_modes,
            by_size[4], by_size[5], by_size[6]);
    cr_assert_gt(by_size[4] + by_size[5] + by_size[6], 2000);
}
