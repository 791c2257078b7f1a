/* The whole-data-set search over image shards (prime_search_sharded,
 * lib/search/sharded.c) with an in-process sum: P threads, one per shard,
 * whose sum function adds their arrays behind a barrier. On the random
 * stores of tests/test_search.c, for P = 1..7, contiguous and interleaved
 * splits, 0/1 outcomes and scores, every shard's result renders byte for
 * byte as prime_search's in whole-data-set mode on the whole store,
 * `candidates` included; and every failure (a failing sum, a shard's bad
 * input, a cancel, different tag tables or parameters) stops every shard
 * cleanly. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "search_gen.h"

#define MAXP 8

/* ---- an in-process group of shards ------------------------------------------- */

typedef struct {
    uint32_t p;
    pthread_barrier_t bar;
    uint64_t *slot[MAXP];
    uint64_t n[MAXP];
    uint64_t *acc;
    bool n_differs;     /* a call where the shards passed different n */
    bool bad_progress;  /* a progress call with done > total */
    int64_t fail_at;    /* every shard's sum fails at this call (-1: never) */
    uint64_t calls;     /* sum calls made (rank 0's count) */
    uint64_t values;    /* values summed (rank 0's count) */
} group;

typedef struct {
    group *g;
    uint32_t rank;
    uint64_t calls;
    const prime_shard_part *parts;
    uint32_t n_parts;
    const prime_config *config;
    int64_t cancel_at;  /* progress answers 1 at this call (-1: never) */
    uint64_t progress_calls;
    prime_status status;
    char message[512];
    prime_result *result;
    /* prime_search_sharded_resume: the state given, the states saved (by level) */
    bool resume;
    const void *state;
    size_t state_size;
    unsigned char *saved[PRIME_MAX_TAGS_LIMIT + 1];
    size_t saved_size[PRIME_MAX_TAGS_LIMIT + 1];
    int32_t save_fails_at; /* the save of this level answers 1 (0: never) */
} member;

static int32_t group_sum(void *user_data, uint64_t *values, uint64_t n)
{
    member *m = user_data;
    group *g = m->g;
    uint64_t call = m->calls++;
    if (g->fail_at >= 0 && call == (uint64_t)g->fail_at)
        return 7; /* the collective fails everywhere at once, as MPI's does */
    g->slot[m->rank] = values;
    g->n[m->rank] = n;
    pthread_barrier_wait(&g->bar);
    if (m->rank == 0) {
        for (uint32_t r = 1; r < g->p; r++)
            if (g->n[r] != n)
                g->n_differs = true;
        g->acc = calloc(n, sizeof *g->acc);
        for (uint32_t r = 0; r < g->p; r++)
            for (uint64_t i = 0; i < n && i < g->n[r]; i++)
                g->acc[i] += g->slot[r][i];
        g->calls++;
        g->values += n;
    }
    pthread_barrier_wait(&g->bar);
    memcpy(values, g->acc, n * sizeof *values);
    pthread_barrier_wait(&g->bar);
    if (m->rank == 0) {
        free(g->acc);
        g->acc = NULL;
    }
    return 0;
}

static int32_t member_progress(void *user_data, uint64_t done, uint64_t total)
{
    member *m = user_data;
    if (done > total)
        m->g->bad_progress = true; /* no assertion outside the test's thread */
    return m->cancel_at >= 0 && m->progress_calls++ == (uint64_t)m->cancel_at;
}

static int32_t member_save(void *user_data, const void *state, size_t size, uint32_t level)
{
    member *m = user_data;
    if (level < 1 || level > PRIME_MAX_TAGS_LIMIT || m->saved[level] != NULL)
        return 9; /* a level saved twice, or out of range: fails the test below */
    if (m->save_fails_at == (int32_t)level)
        return 1;
    m->saved[level] = malloc(size);
    memcpy(m->saved[level], state, size);
    m->saved_size[level] = size;
    return 0;
}

static void *member_main(void *arg)
{
    member *m = arg;
    if (m->resume)
        m->status = prime_search_sharded_resume(m->parts, m->n_parts, m->config, group_sum, m,
                                                m->state, m->state_size, member_save, m,
                                                member_progress, m, &m->result);
    else
        m->status = prime_search_sharded(m->parts, m->n_parts, m->config, group_sum, m,
                                         member_progress, m, &m->result);
    if (m->status != PRIME_OK)
        snprintf(m->message, sizeof m->message, "%s", prime_last_error());
    return NULL;
}

/* Run the P shards (parts[r][0..n_parts[r])) at once. */
static void run_group(group *g, member *ms, uint32_t p, prime_shard_part *const *parts,
                      const uint32_t *n_parts, const prime_config *config)
{
    g->p = p;
    g->calls = g->values = 0;
    g->n_differs = false;
    cr_assert_eq(pthread_barrier_init(&g->bar, NULL, p), 0);
    pthread_t tid[MAXP];
    for (uint32_t r = 0; r < p; r++) {
        member *m = &ms[r];
        m->g = g;
        m->rank = r;
        m->calls = 0;
        m->parts = parts[r];
        m->n_parts = n_parts[r];
        m->config = config;
        m->progress_calls = 0;
        m->result = NULL;
        m->message[0] = '\0';
        cr_assert_eq(pthread_create(&tid[r], NULL, member_main, m), 0);
    }
    for (uint32_t r = 0; r < p; r++)
        pthread_join(tid[r], NULL);
    pthread_barrier_destroy(&g->bar);
    cr_assert(!g->n_differs, "the shards made sum calls of different lengths");
    cr_assert(!g->bad_progress, "progress reported done > total");
}

/* ---- shards of a data set ---------------------------------------------------- */

/* The images of d whose index i has pick(i) into a new data set (same tag
 * table and classes). */
static void dataset_subset(const dataset *d, uint32_t p, uint32_t r, dataset *out)
{
    dataset_alloc(out, d->n_classes, d->n_tags, d->n);
    out->n = 0;
    out->named = d->named;
    for (uint32_t i = r; i < d->n; i += p) {
        out->cls[out->n] = d->cls[i];
        out->mask[out->n] = d->mask[i];
        out->out[out->n] = d->out[i];
        out->n++;
    }
}

/* split: 0 = contiguous ranges of the whole store (one part each);
 * 1 = interleaved, each shard its own store; 2 = interleaved as one-image
 * parts of the whole store. */
static void check_split(const dataset *d, const prime_tagstore *store,
                        const prime_outcomes *outcomes, const prime_config *config,
                        const prime_result *want, uint32_t p, int split, const char *what)
{
    group g = {.fail_at = -1};
    member ms[MAXP];
    memset(ms, 0, sizeof ms);
    prime_shard_part *parts[MAXP];
    uint32_t n_parts[MAXP];
    dataset sub[MAXP];
    prime_tagstore *stores[MAXP] = {0};
    prime_outcomes *outs[MAXP] = {0};
    for (uint32_t r = 0; r < p; r++) {
        ms[r].cancel_at = -1;
        if (split == 0) {
            uint64_t first, end;
            cr_assert_eq(prime_shard_range(d->n, r, p, &first, &end), PRIME_OK);
            parts[r] = calloc(1, sizeof **parts);
            parts[r][0] = (prime_shard_part){store, outcomes, (uint32_t)first,
                                             (uint32_t)(end - first)};
            n_parts[r] = 1;
        } else if (split == 1) {
            dataset_subset(d, p, r, &sub[r]);
            stores[r] = dataset_store(&sub[r], true);
            outs[r] = dataset_outcomes(&sub[r]);
            parts[r] = calloc(1, sizeof **parts);
            parts[r][0] = (prime_shard_part){stores[r], outs[r], 0, sub[r].n};
            n_parts[r] = 1;
        } else {
            parts[r] = calloc(d->n / p + 2, sizeof **parts);
            n_parts[r] = 0;
            for (uint32_t i = r; i < d->n; i += p)
                parts[r][n_parts[r]++] = (prime_shard_part){store, outcomes, i, 1};
            if (n_parts[r] == 0) /* no image: one empty part for the tag table */
                parts[r][n_parts[r]++] = (prime_shard_part){store, outcomes, 0, 0};
        }
    }
    run_group(&g, ms, p, parts, n_parts, config);
    for (uint32_t r = 0; r < p; r++) {
        char w[512];
        snprintf(w, sizeof w, "%s, P %u, split %d, shard %u", what, p, split, r);
        cr_assert_eq(ms[r].status, PRIME_OK, "%s: %s", w, ms[r].message);
        assert_same_render(want, ms[r].result, w);
        prime_result_destroy(ms[r].result);
        free(parts[r]);
        if (split == 1) {
            prime_outcomes_destroy(outs[r]);
            prime_tagstore_destroy(stores[r]);
            dataset_free(&sub[r]);
        }
    }
}

static bool fold; /* PRIME_PARAM_FOLD_EQUAL in sharded_differential */

static size_t sharded_differential(const dataset *d, params *p, uint32_t P, const char *what)
{
    p->whole = true;
    prime_tagstore *s = dataset_store(d, true);
    prime_outcomes *o = dataset_outcomes(d);
    prime_config *c = params_config(p);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_FOLD_EQUAL, fold), PRIME_OK);
    prime_result *want = NULL;
    cr_assert_eq(prime_search(s, o, c, NULL, NULL, &want), PRIME_OK, "%s: %s", what,
                 prime_last_error());
    for (int split = 0; split < 3; split++)
        check_split(d, s, o, c, want, P, split, what);
    size_t n = prime_result_mode_count(want);
    prime_result_destroy(want);
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    return n;
}

/* ---- tests ----------------------------------------------------------------------- */

Test(sharded, equals_search, .timeout = 600)
{
    rng_state = 16016;
    size_t total = 0, with_modes = 0, by_kind[3] = {0};
    const uint32_t runs = 150;
    for (uint32_t run = 0; run < runs; run++) {
        dataset d;
        uint32_t vocab = 3 + below(10);
        uint32_t per_class = below(4) == 0 ? 24 : 300;
        uint32_t per_image = below(16) == 0 ? 0 : 1 + below(8);
        int kind = (int)(run % 3);
        dataset_random(&d, 1 + below(4), vocab, per_class, per_image, kind);
        params p;
        random_params(&p, per_class);
        uint32_t P = 1 + run % 7;
        fold = run % 4 == 3;
        char what[320];
        snprintf(what, sizeof what,
                 "run %u (kind %d, vocab %u, images %u, max_tags %u, min_size %lld, "
                 "min_drop %g, mtc %lld, threads %u)",
                 run, kind, vocab, d.n, p.max_tags, (long long)p.min_size, p.min_drop,
                 (long long)p.min_tag_count, p.threads);
        size_t n = sharded_differential(&d, &p, P, what);
        fold = false;
        total += n;
        with_modes += n > 0;
        by_kind[kind] += n;
        dataset_free(&d);
    }
    fprintf(stderr, "sharded: %u stores x 3 splits, %zu modes (0/1 %zu, quarters %zu, "
                    "scores %zu), %zu stores with modes\n",
            runs, total, by_kind[0], by_kind[1], by_kind[2], with_modes);
    cr_assert_gt(with_modes, runs / 3, "the generator must produce failure modes");
    cr_assert_gt(by_kind[2], 0);
}

/* Larger stores: the pair table, several levels, the sparse and dense
 * counting paths, and threads; every P from 1 to 7. */
Test(sharded, larger_stores, .timeout = 600)
{
    rng_state = 4242;
    size_t total = 0;
    for (uint32_t P = 1; P <= 7; P++) {
        for (int kind = 0; kind < 3; kind++) {
            dataset d;
            dataset_random(&d, 3, 30, 1500 + below(1500), 10, kind);
            params p = {.max_tags = 4, .min_size = 10 + below(20), .min_drop = 0.2,
                        .gains = {0.0, 0.05, 0.02, 0.0}, .n_gains = 4,
                        .threads = 1 + below(4)};
            char what[128];
            snprintf(what, sizeof what, "large P %u kind %d (%u images)", P, kind, d.n);
            total += sharded_differential(&d, &p, P, what);
            /* the same with the modes of equal images folded */
            fold = true;
            total += sharded_differential(&d, &p, P, what);
            fold = false;
            dataset_free(&d);
        }
    }
    fprintf(stderr, "sharded, larger stores: %zu modes\n", total);
    cr_assert_gt(total, 50);
}

/* Sums of scores whose double sums depend on the order: 0.1 + 0.2 + 0.3
 * and the like; the fixed-point sums do not. */
Test(sharded, order_free_scores)
{
    dataset d;
    dataset_alloc(&d, 1, 3, 60);
    static const double vals[] = {0.1, 0.2, 0.3, 0.7, 1e-17, 0.9999999999, 1.0 / 3.0, 0.6};
    for (uint32_t i = 0; i < d.n; i++) {
        d.mask[i] = (i % 2 ? 1u : 0u) | (i % 3 ? 2u : 0u) | (i % 5 ? 4u : 0u);
        d.out[i] = vals[(i * 7) % 8] * (i % 2 ? 0.5 : 1.0);
    }
    params p = {.max_tags = 3, .min_size = 5, .min_drop = 0.0, .gains = {-1.0}, .n_gains = 1,
                .threads = 1};
    for (uint32_t P = 1; P <= 7; P++)
        cr_assert_gt(sharded_differential(&d, &p, P, "order-free scores"), 0);
    dataset_free(&d);
}

/* Fold a mode whose images equal those of a smaller mode that shares none
 * of its tags: t0 is on exactly the images carrying both t1 and t2, so
 * {t1, t2} (and {t0, t1}, ...) fold under {t0}; the union sizes must be
 * summed over the shards. */
Test(sharded, fold_union)
{
    dataset d;
    dataset_alloc(&d, 2, 5, 200);
    d.named = true;
    for (uint32_t i = 0; i < d.n; i++) {
        d.cls[i] = i % 2;
        if (i < 40)
            d.mask[i] = 7; /* t0 t1 t2 */
        else if (i < 100)
            d.mask[i] = 2 | (i % 3 == 0 ? 8 : 0); /* t1 (t3) */
        else if (i < 160)
            d.mask[i] = 4 | (i % 4 == 0 ? 16 : 0); /* t2 (t4) */
        else
            d.mask[i] = i % 2 ? 8 : 16;
        d.out[i] = i < 40 ? (i % 5 == 0 ? 0.5 : 0.0) : (i % 7 == 0 ? 0.25 : 1.0);
    }
    params p = {.max_tags = 3, .min_size = 10, .min_drop = 0.1, .gains = {-1.0}, .n_gains = 1,
                .threads = 2};
    for (uint32_t P = 1; P <= 7; P++) {
        fold = false;
        size_t all = sharded_differential(&d, &p, P, "fold_union, no fold");
        fold = true;
        size_t kept = sharded_differential(&d, &p, P, "fold_union, fold");
        fold = false;
        cr_assert_eq(kept, all - 4, "{t1,t2}, {t0,t1}, {t0,t2}, {t0,t1,t2} fold under {t0}: "
                                    "%zu of %zu modes kept", kept, all);
    }
    dataset_free(&d);
}

static void one_store(dataset *d, prime_tagstore **s, prime_outcomes **o)
{
    rng_state = 99;
    dataset_random(d, 2, 12, 300, 6, 0);
    cr_assert_geq(d->n, 60);
    *s = dataset_store(d, true);
    *o = dataset_outcomes(d);
}

/* A sum that fails at call k on every shard: PRIME_E_IO everywhere, no
 * result, nothing leaked (the valgrind and ASan setups run this suite). */
Test(sharded, failing_sum)
{
    dataset d;
    prime_tagstore *s;
    prime_outcomes *o;
    one_store(&d, &s, &o);
    params p = {.max_tags = 4, .min_size = 5, .min_drop = 0.1, .gains = {0.0}, .n_gains = 1,
                .threads = 2};
    prime_config *c = params_config(&p);
    /* how many calls a full run makes */
    group g = {.fail_at = -1};
    member ms[MAXP];
    memset(ms, 0, sizeof ms);
    prime_shard_part parts[3][1];
    prime_shard_part *pp[3];
    uint32_t np[3] = {1, 1, 1};
    for (uint32_t r = 0; r < 3; r++) {
        uint64_t first, end;
        prime_shard_range(d.n, r, 3, &first, &end);
        parts[r][0] = (prime_shard_part){s, o, (uint32_t)first, (uint32_t)(end - first)};
        pp[r] = parts[r];
        ms[r].cancel_at = -1;
    }
    run_group(&g, ms, 3, pp, np, c);
    uint64_t calls = g.calls;
    for (uint32_t r = 0; r < 3; r++) {
        cr_assert_eq(ms[r].status, PRIME_OK, "%s", ms[r].message);
        prime_result_destroy(ms[r].result);
    }
    cr_assert_gt(calls, 4);
    for (uint64_t k = 0; k < calls; k++) {
        g.fail_at = (int64_t)k;
        run_group(&g, ms, 3, pp, np, c);
        for (uint32_t r = 0; r < 3; r++) {
            cr_assert_eq(ms[r].status, PRIME_E_IO, "call %llu, shard %u: %s",
                         (unsigned long long)k, r, ms[r].message);
            cr_assert_null(ms[r].result);
            cr_assert(strstr(ms[r].message, "the sum function failed (it returned 7)") != NULL,
                      "%s", ms[r].message);
        }
    }
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

/* One shard's own failure or cancel stops every shard at the same step. */
Test(sharded, one_shard_fails)
{
    dataset d;
    prime_tagstore *s;
    prime_outcomes *o;
    one_store(&d, &s, &o);
    params p = {.max_tags = 3, .min_size = 5, .min_drop = 0.1, .gains = {0.0}, .n_gains = 1,
                .threads = 1};
    prime_config *c = params_config(&p);
    /* an image of shard 2 without an outcome */
    prime_outcomes *holes = NULL;
    cr_assert_eq(prime_outcomes_create(d.n, &holes), PRIME_OK);
    cr_assert_eq(prime_outcomes_set_array(holes, 0, d.out, d.n - 1), PRIME_OK);
    group g = {.fail_at = -1};
    member ms[MAXP];
    memset(ms, 0, sizeof ms);
    prime_shard_part parts[3][1];
    prime_shard_part *pp[3];
    uint32_t np[3] = {1, 1, 1};
    for (uint32_t r = 0; r < 3; r++) {
        uint64_t first, end;
        prime_shard_range(d.n, r, 3, &first, &end);
        parts[r][0] = (prime_shard_part){s, r == 2 ? holes : o, (uint32_t)first,
                                         (uint32_t)(end - first)};
        pp[r] = parts[r];
        ms[r].cancel_at = -1;
    }
    run_group(&g, ms, 3, pp, np, c);
    cr_assert_eq(ms[2].status, PRIME_E_MISMATCH, "%s", ms[2].message);
    cr_assert(strstr(ms[2].message, "has no outcome") != NULL, "%s", ms[2].message);
    for (uint32_t r = 0; r < 2; r++) {
        cr_assert_eq(ms[r].status, PRIME_E_CANCELLED, "%s", ms[r].message);
        cr_assert(strstr(ms[r].message, "1 other shard failed") != NULL, "%s", ms[r].message);
        cr_assert_null(ms[r].result);
    }
    /* a range outside its store */
    parts[2][0].outcomes = o;
    parts[2][0].count = d.n;
    run_group(&g, ms, 3, pp, np, c);
    cr_assert_eq(ms[2].status, PRIME_E_RANGE, "%s", ms[2].message);
    cr_assert_eq(ms[0].status, PRIME_E_CANCELLED);
    parts[2][0].count = 0;
    /* a cancel by one shard's progress callback, at each of its calls */
    uint64_t k = 0;
    for (;; k++) {
        ms[1].cancel_at = (int64_t)k;
        run_group(&g, ms, 3, pp, np, c);
        if (ms[1].status == PRIME_OK) {
            for (uint32_t r = 0; r < 3; r++)
                prime_result_destroy(ms[r].result);
            break; /* past its last call */
        }
        for (uint32_t r = 0; r < 3; r++) {
            cr_assert_eq(ms[r].status, PRIME_E_CANCELLED, "%s", ms[r].message);
            cr_assert(strstr(ms[r].message, "progress callback (on 1 shard)") != NULL, "%s",
                      ms[r].message);
            cr_assert_null(ms[r].result);
        }
    }
    cr_assert_gt(k, 2);
    ms[1].cancel_at = -1;
    /* different parameters */
    prime_config *c2 = NULL;
    cr_assert_eq(prime_config_clone(c, &c2), PRIME_OK);
    cr_assert_eq(prime_config_set_double(c2, PRIME_PARAM_MIN_DROP, 0.2), PRIME_OK);
    {
        /* run by hand: shard 1 gets c2 */
        g.p = 3;
        cr_assert_eq(pthread_barrier_init(&g.bar, NULL, 3), 0);
        pthread_t tid[3];
        for (uint32_t r = 0; r < 3; r++) {
            ms[r].g = &g;
            ms[r].rank = r;
            ms[r].calls = 0;
            ms[r].parts = pp[r];
            ms[r].n_parts = 1;
            ms[r].config = r == 1 ? c2 : c;
            ms[r].result = NULL;
            cr_assert_eq(pthread_create(&tid[r], NULL, member_main, &ms[r]), 0);
        }
        for (uint32_t r = 0; r < 3; r++)
            pthread_join(tid[r], NULL);
        pthread_barrier_destroy(&g.bar);
        for (uint32_t r = 0; r < 3; r++) {
            cr_assert_eq(ms[r].status, PRIME_E_MISMATCH, "%s", ms[r].message);
            cr_assert(strstr(ms[r].message, "different parameters") != NULL, "%s",
                      ms[r].message);
        }
    }
    prime_config_destroy(c2);
    prime_outcomes_destroy(holes);
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

/* Shards with different tag tables: PRIME_E_MISMATCH on every shard. */
Test(sharded, different_tag_tables)
{
    dataset d;
    prime_tagstore *s;
    prime_outcomes *o;
    one_store(&d, &s, &o);
    dataset d2 = d;
    d2.n_tags = d.n_tags + 1; /* one more tag in the table */
    prime_tagstore *s2 = dataset_store(&d2, true);
    prime_config *c = NULL;
    cr_assert_eq(prime_config_create(&c), PRIME_OK);
    group g = {.fail_at = -1};
    member ms[MAXP];
    memset(ms, 0, sizeof ms);
    prime_shard_part parts[2][1] = {{{s, o, 0, 10}}, {{s2, o, 10, 20}}};
    prime_shard_part *pp[2] = {parts[0], parts[1]};
    uint32_t np[2] = {1, 1};
    ms[0].cancel_at = ms[1].cancel_at = -1;
    run_group(&g, ms, 2, pp, np, c);
    for (uint32_t r = 0; r < 2; r++) {
        cr_assert_eq(ms[r].status, PRIME_E_MISMATCH, "%s", ms[r].message);
        cr_assert(strstr(ms[r].message, "different tag tables") != NULL, "%s", ms[r].message);
    }
    /* within one process: part 1 against part 0 */
    prime_shard_part two[2] = {{s, o, 0, 10}, {s2, o, 10, 20}};
    pp[0] = two;
    np[0] = 2;
    run_group(&g, ms, 1, pp, np, c);
    cr_assert_eq(ms[0].status, PRIME_E_MISMATCH);
    cr_assert(strstr(ms[0].message, "part 1 has another tag table") != NULL, "%s",
              ms[0].message);
    prime_config_destroy(c);
    prime_tagstore_destroy(s2);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

static int32_t never_sum(void *u, uint64_t *v, uint64_t n)
{
    (void)u;
    (void)v;
    (void)n;
    cr_assert_fail("no sum before the arguments are checked");
    return 1;
}

Test(sharded, bad_arguments)
{
    dataset d;
    prime_tagstore *s;
    prime_outcomes *o;
    one_store(&d, &s, &o);
    prime_result *r = (prime_result *)&r;
    prime_shard_part part = {s, o, 0, d.n};
    cr_assert_eq(prime_search_sharded(&part, 1, NULL, never_sum, NULL, NULL, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_search_sharded(NULL, 1, NULL, never_sum, NULL, NULL, NULL, &r),
                 PRIME_E_INVALID_ARG);
    cr_assert_null(r);
    cr_assert_eq(prime_search_sharded(&part, 0, NULL, never_sum, NULL, NULL, NULL, &r),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_search_sharded(&part, 1, NULL, NULL, NULL, NULL, NULL, &r),
                 PRIME_E_INVALID_ARG);
    prime_shard_part bad = {s, NULL, 0, 0};
    cr_assert_eq(prime_search_sharded(&bad, 1, NULL, never_sum, NULL, NULL, NULL, &r),
                 PRIME_E_INVALID_ARG);
    cr_assert(strstr(prime_last_error(), "part 0 has a NULL outcomes") != NULL);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    dataset_free(&d);
}

/* No image anywhere: no class, no mode, as prime_search on an empty store. */
Test(sharded, empty)
{
    dataset d;
    dataset_alloc(&d, 1, 2, 0);
    params p = {.max_tags = 2, .min_size = 1, .min_drop = 0.0, .gains = {0.0}, .n_gains = 1,
                .threads = 1};
    for (uint32_t P = 1; P <= 3; P++)
        cr_assert_eq(sharded_differential(&d, &p, P, "empty"), 0);
    dataset_free(&d);
}

/* ---- the checkpoint (prime_search_sharded_resume) ---------------------------------- */

/* P contiguous shards of (s, o), resumed from state (NULL: none); the
 * members' saved states stay in ms (freed by free_saved). */
static void run_resume(member *ms, uint32_t P, const prime_tagstore *s, const prime_outcomes *o,
                       const prime_config *c, const void *state, size_t size)
{
    group g = {.fail_at = -1};
    prime_shard_part *parts[MAXP] = {0};
    uint32_t n_parts[MAXP] = {0};
    memset(ms, 0, sizeof *ms * MAXP);
    uint32_t n = prime_tagstore_image_count(s);
    for (uint32_t r = 0; r < P; r++) {
        uint64_t first, end;
        cr_assert_eq(prime_shard_range(n, r, P, &first, &end), PRIME_OK);
        parts[r] = calloc(1, sizeof **parts);
        parts[r][0] = (prime_shard_part){s, o, (uint32_t)first, (uint32_t)(end - first)};
        n_parts[r] = 1;
        ms[r].cancel_at = -1;
        ms[r].resume = true;
        ms[r].state = state;
        ms[r].state_size = size;
    }
    run_group(&g, ms, P, parts, n_parts, c);
    for (uint32_t r = 0; r < P; r++)
        free(parts[r]);
}

static void free_saved(member *ms, uint32_t P)
{
    for (uint32_t r = 0; r < P; r++) {
        prime_result_destroy(ms[r].result);
        ms[r].result = NULL;
        for (int k = 0; k <= PRIME_MAX_TAGS_LIMIT; k++)
            free(ms[r].saved[k]);
    }
}

/* The state after every level, resumed at other shard counts, gives the
 * uninterrupted result; a damaged state, one of other parameters or other
 * outcomes, different states on different shards and a failing save stop
 * every shard. */
Test(sharded, checkpoint_resumes, .timeout = 600)
{
    rng_state = 1616;
    uint32_t resumed_levels = 0;
    for (int kind = 0; kind < 3; kind++) {
        dataset d;
        dataset_random(&d, 3, 24, 800 + below(400), 9, kind);
        params p = {.max_tags = 4, .min_size = 8, .min_drop = 0.1,
                    .gains = {0.0, 0.02, 0.01, 0.0}, .n_gains = 4, .threads = 2,
                    .whole = true};
        prime_tagstore *s = dataset_store(&d, true);
        prime_outcomes *o = dataset_outcomes(&d);
        prime_config *c = params_config(&p);
        prime_result *want = NULL;
        cr_assert_eq(prime_search(s, o, c, NULL, NULL, &want), PRIME_OK, "%s",
                     prime_last_error());
        member first[MAXP];
        run_resume(first, 3, s, o, c, NULL, 0);
        uint32_t levels = 0;
        for (uint32_t r = 0; r < 3; r++) {
            cr_assert_eq(first[r].status, PRIME_OK, "kind %d shard %u: %s", kind, r,
                         first[r].message);
            assert_same_render(want, first[r].result, "checkpointed run");
            for (int k = 1; k <= PRIME_MAX_TAGS_LIMIT; k++) {
                /* every shard saved the same bytes */
                cr_assert_eq(first[r].saved_size[k], first[0].saved_size[k]);
                if (first[r].saved[k] != NULL)
                    cr_assert_arr_eq(first[r].saved[k], first[0].saved[k],
                                     first[0].saved_size[k]);
            }
        }
        for (int k = 1; k <= PRIME_MAX_TAGS_LIMIT; k++) {
            if (first[0].saved[k] == NULL)
                continue;
            levels++;
            /* resumed after level k at 1, 2, 5 shards */
            static const uint32_t Ps[] = {1, 2, 5};
            for (int q = 0; q < 3; q++) {
                member ms[MAXP];
                run_resume(ms, Ps[q], s, o, c, first[0].saved[k], first[0].saved_size[k]);
                for (uint32_t r = 0; r < Ps[q]; r++) {
                    char what[128];
                    snprintf(what, sizeof what, "kind %d, resumed after level %d, P %u", kind,
                             k, Ps[q]);
                    cr_assert_eq(ms[r].status, PRIME_OK, "%s: %s", what, ms[r].message);
                    assert_same_render(want, ms[r].result, what);
                    /* the levels after k are saved again, the same */
                    for (int j = k + 1; j <= PRIME_MAX_TAGS_LIMIT; j++)
                        if (first[0].saved[j] != NULL)
                            cr_assert_arr_eq(ms[r].saved[j], first[0].saved[j],
                                             first[0].saved_size[j], "%s: level %d", what, j);
                }
                free_saved(ms, Ps[q]);
            }
        }
        cr_assert_geq(levels, 2, "kind %d: the search saved %u levels", kind, levels);
        resumed_levels += levels;
        const unsigned char *st1 = first[0].saved[1];
        size_t n1 = first[0].saved_size[1];
        member ms[MAXP];
        /* a damaged state: every byte flipped in turn (a sample) */
        unsigned char *bad = malloc(n1);
        for (size_t at = 0; at < n1; at += 1 + n1 / 23) {
            memcpy(bad, st1, n1);
            bad[at] ^= 0x04;
            run_resume(ms, 2, s, o, c, bad, n1);
            for (uint32_t r = 0; r < 2; r++) {
                cr_assert_neq(ms[r].status, PRIME_OK, "byte %zu", at);
                cr_assert_null(ms[r].result);
            }
            cr_assert_eq(ms[0].status, PRIME_E_FORMAT, "byte %zu: %s", at, ms[0].message);
            free_saved(ms, 2);
        }
        run_resume(ms, 2, s, o, c, st1, n1 - 8); /* truncated */
        cr_assert_eq(ms[0].status, PRIME_E_FORMAT);
        free_saved(ms, 2);
        free(bad);
        /* other parameters */
        prime_config *c2 = params_config(&p);
        cr_assert_eq(prime_config_set_int(c2, PRIME_PARAM_MIN_SIZE, 9), PRIME_OK);
        run_resume(ms, 2, s, o, c2, st1, n1);
        cr_assert_eq(ms[0].status, PRIME_E_MISMATCH, "%s", ms[0].message);
        cr_assert(strstr(ms[0].message, "other parameters") != NULL, "%s", ms[0].message);
        cr_assert_eq(ms[1].status, PRIME_E_MISMATCH);
        free_saved(ms, 2);
        prime_config_destroy(c2);
        /* other outcomes: one image's outcome changed */
        prime_outcomes *o2 = dataset_outcomes(&d);
        double v0 = 0;
        cr_assert_eq(prime_outcomes_get(o2, 0, &v0), PRIME_OK);
        cr_assert_eq(prime_outcomes_set(o2, 0, v0 == 1.0 ? 0.0 : 1.0), PRIME_OK);
        run_resume(ms, 3, s, o2, c, st1, n1);
        cr_assert_eq(ms[0].status, PRIME_E_MISMATCH, "%s", ms[0].message);
        cr_assert(strstr(ms[0].message, "other images or outcomes") != NULL, "%s",
                  ms[0].message);
        free_saved(ms, 3);
        prime_outcomes_destroy(o2);
        /* a failing save: every shard stops, PRIME_E_IO where it failed */
        {
            group g = {.fail_at = -1};
            uint64_t f0, e0, f1, e1;
            uint32_t n = prime_tagstore_image_count(s);
            prime_shard_range(n, 0, 2, &f0, &e0);
            prime_shard_range(n, 1, 2, &f1, &e1);
            prime_shard_part a = {s, o, (uint32_t)f0, (uint32_t)(e0 - f0)};
            prime_shard_part b = {s, o, (uint32_t)f1, (uint32_t)(e1 - f1)};
            prime_shard_part *parts[2] = {&a, &b};
            uint32_t n_parts[2] = {1, 1};
            memset(ms, 0, sizeof ms);
            for (uint32_t r = 0; r < 2; r++) {
                ms[r].cancel_at = -1;
                ms[r].resume = true;
            }
            ms[1].save_fails_at = 2;
            run_group(&g, ms, 2, parts, n_parts, c);
            cr_assert_eq(ms[1].status, PRIME_E_IO, "%s", ms[1].message);
            cr_assert_eq(ms[0].status, PRIME_E_CANCELLED, "%s", ms[0].message);
            cr_assert_null(ms[0].result);
            free_saved(ms, 2);
        }
        /* different states on different shards */
        {
            group g = {.fail_at = -1};
            prime_shard_part a = {s, o, 0, 10};
            prime_shard_part b = {s, o, 10, prime_tagstore_image_count(s) - 10};
            prime_shard_part *parts[2] = {&a, &b};
            uint32_t n_parts[2] = {1, 1};
            memset(ms, 0, sizeof ms);
            for (uint32_t r = 0; r < 2; r++) {
                ms[r].cancel_at = -1;
                ms[r].resume = true;
            }
            ms[0].state = st1;
            ms[0].state_size = n1;
            run_group(&g, ms, 2, parts, n_parts, c);
            for (uint32_t r = 0; r < 2; r++)
                cr_assert_eq(ms[r].status, PRIME_E_MISMATCH, "%s", ms[r].message);
            free_saved(ms, 2);
        }
        free_saved(first, 3);
        prime_result_destroy(want);
        prime_config_destroy(c);
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(s);
        dataset_free(&d);
    }
    fprintf(stderr, "sharded checkpoint: %u saved levels resumed\n", resumed_levels);
}
