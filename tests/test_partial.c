/* The class-parallel search (include/prime/partial.h, lib/search/partial.c)
 * and the search in batches of classes (lib/search/search.c):
 *
 *  - partial searches over random partitions of the classes of random
 *    stores, at random thread counts, merged (directly or after a trip
 *    through bytes), render byte for byte what prime_search renders, in
 *    every format, candidates included;
 *  - the search in batches of any size finds what the brute force finds;
 *  - the binary form round-trips, is the same at every thread count, and
 *    every truncation and every bit flip of it is refused;
 *  - merge, load and search refuse what they must.
 *
 * The random stores, parameters and the brute force are those of
 * tests/test_search.c, included here with its tests turned into unused
 * functions (so this suite does not run them a second time). */
#include <criterion/criterion.h>

#pragma push_macro("Test")
#undef Test
#define Test(...) UNUSED_TEST_(__VA_ARGS__, 0)
#define UNUSED_TEST_(suite, name, ...) static void __attribute__((unused)) search_test_##name(void)
#include "test_search.c"
#pragma pop_macro("Test")
#undef UNUSED_TEST_

#include <stdarg.h>

/* The bytes of p (a new buffer, *size its length). */
static unsigned char *bytes_of(const prime_partial *p, size_t *size)
{
    size_t need = 0;
    cr_assert_eq(prime_partial_serialize(p, NULL, 0, &need), PRIME_E_BUFFER_TOO_SMALL);
    unsigned char *buf = malloc(need ? need : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(prime_partial_serialize(p, buf, need - 1, size), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(*size, need);
    cr_assert_eq(prime_partial_serialize(p, buf, need, size), PRIME_OK);
    cr_assert_eq(*size, need);
    return buf;
}

/* p through its binary form and back; the bytes of the copy are the same. */
static prime_partial *through_bytes(const prime_partial *p, const prime_tagstore *s,
                                    const prime_config *c, const char *what)
{
    size_t n = 0, m = 0;
    unsigned char *a = bytes_of(p, &n);
    prime_partial *q = NULL;
    cr_assert_eq(prime_partial_load_memory(a, n, "part", s, c, &q), PRIME_OK, "%s: %s", what,
                 prime_last_error());
    unsigned char *b = bytes_of(q, &m);
    cr_assert(n == m && memcmp(a, b, n) == 0, "%s: the bytes differ after a round trip", what);
    free(a);
    free(b);
    return q;
}

/* Search d with p once whole and once as a random partition of its classes
 * (random thread counts, random batch sizes), merge, compare. */
static size_t partition_run(const dataset *d, const params *p, bool fold, double share,
                            const char *what)
{
    prime_tagstore *s = dataset_store(d, true);
    prime_outcomes *o = dataset_outcomes(d);
    prime_config *c = params_config(p);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_FOLD_EQUAL, fold), PRIME_OK);
    cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_SIZE_SHARE, share), PRIME_OK);
    prime_result *whole = NULL;
    cr_assert_eq(prime_search(s, o, c, NULL, NULL, &whole), PRIME_OK, "%s: %s", what,
                 prime_last_error());

    /* a random partition into 1..n_classes+1 parts (some may be empty) */
    uint32_t n_classes = prime_tagstore_class_count(s);
    uint32_t n_parts = 1 + below(n_classes + 1);
    uint32_t *part_of = calloc(n_classes + 1, sizeof *part_of);
    for (uint32_t k = 0; k < n_classes; k++)
        part_of[k] = below(n_parts);
    prime_partial **parts = calloc(n_parts, sizeof *parts);
    uint32_t *ids = calloc(n_classes + 1, sizeof *ids);
    for (uint32_t i = 0; i < n_parts; i++) {
        uint32_t n = 0;
        for (uint32_t k = 0; k < n_classes; k++)
            if (part_of[k] == i)
                ids[n++] = k;
        for (uint32_t a = 0; a + 1 < n; a++) { /* any order */
            uint32_t b = a + below(n - a), x = ids[a];
            ids[a] = ids[b];
            ids[b] = x;
        }
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_THREADS, 1 + below(4)), PRIME_OK);
        prime__search_set_batch_images(below(3) == 0 ? 0 : 1 + below(400));
        prime_partial *part = NULL;
        cr_assert_eq(prime_search_classes(s, o, c, ids, n, NULL, NULL, &part), PRIME_OK,
                     "%s: part %u: %s", what, i, prime_last_error());
        if (below(2) == 0) {
            prime_partial *copy = through_bytes(part, s, c, what);
            prime_partial_destroy(part);
            part = copy;
        }
        parts[i] = part;
    }
    prime__search_set_batch_images(0);
    /* merged in a random order */
    for (uint32_t a = 0; a + 1 < n_parts; a++) {
        uint32_t b = a + below(n_parts - a);
        prime_partial *x = parts[a];
        parts[a] = parts[b];
        parts[b] = x;
    }
    prime_result *merged = NULL;
    cr_assert_eq(prime_partial_merge(s, (const prime_partial *const *)parts, n_parts, &merged),
                 PRIME_OK, "%s: %s", what, prime_last_error());
    assert_same_render(whole, merged, what);
    uint64_t cand = 0, n_modes = 0;
    for (uint32_t i = 0; i < n_parts; i++) {
        cand += prime_partial_candidate_count(parts[i]);
        n_modes += prime_partial_mode_count(parts[i]);
        prime_partial_destroy(parts[i]);
    }
    cr_assert_eq(cand, prime_result_candidate_count(whole));
    size_t found = (size_t)prime_result_mode_count(whole);
    if (!fold)
        cr_assert_eq(n_modes, prime_result_mode_count(whole));
    free(parts);
    free(ids);
    free(part_of);
    prime_result_destroy(merged);
    prime_result_destroy(whole);
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    return found;
}

Test(partial, merge_equals_search, .timeout = 600)
{
    rng_state = 16016;
    const uint32_t runs = 300;
    size_t total_modes = 0, with_modes = 0;
    for (uint32_t run = 0; run < runs; run++) {
        dataset d;
        uint32_t n_classes = 1 + below(16);
        uint32_t vocab = 3 + below(10);
        uint32_t per_class = below(4) == 0 ? 24 : 200;
        uint32_t per_image = below(16) == 0 ? 0 : 1 + below(8);
        int kind = (int)below(3);
        dataset_random(&d, n_classes, vocab, per_class, per_image, kind);
        params p;
        random_params(&p, per_class);
        p.whole = false;
        bool fold = below(4) == 0;
        double share = below(5) == 0 ? 0.05 * (1 + below(4)) : 0.0;
        char what[320];
        snprintf(what, sizeof what,
                 "run %u (classes %u, vocab %u, images %u, max_tags %u, min_size %lld, "
                 "min_drop %g, fold %d, share %g)",
                 run, n_classes, vocab, d.n, p.max_tags, (long long)p.min_size, p.min_drop,
                 fold, share);
        size_t n = partition_run(&d, &p, fold, share, what);
        total_modes += n;
        with_modes += n > 0;
        dataset_free(&d);
    }
    fprintf(stderr, "partial: %u random stores split and merged, %zu modes, %zu stores with "
                    "modes\n",
            runs, total_modes, with_modes);
    cr_assert_gt(with_modes, runs / 3, "the generator must produce failure modes");
}

/* The search in batches of any size (one class a batch, a few, all) equals
 * the brute force, whole-data-set mode included. */
Test(partial, batches_equal_brute_force, .timeout = 600)
{
    rng_state = 4242;
    size_t total = 0;
    for (uint32_t run = 0; run < 200; run++) {
        dataset d;
        dataset_random(&d, 1 + below(16), 3 + below(10), below(4) == 0 ? 24 : 200,
                       below(16) == 0 ? 0 : 1 + below(8), (int)below(3));
        params p;
        random_params(&p, 200);
        prime__search_set_batch_images(1 + below(600));
        char what[128];
        snprintf(what, sizeof what, "batches run %u", run);
        total += differential(&d, &p, what);
        dataset_free(&d);
    }
    prime__search_set_batch_images(0);
    cr_assert_gt(total, 500);
}

/* ---- the binary form ------------------------------------------------------ */

typedef struct {
    dataset d;
    prime_tagstore *store;
    prime_outcomes *outcomes;
    prime_config *config;
} fixture;

static void fixture_make(fixture *f, uint64_t seed)
{
    /* a store whose 4 classes all have 40 images or more */
    for (rng_state = seed;;) {
        dataset_random(&f->d, 4, 8, 120, 5, 0);
        uint32_t count[4] = {0}, k = 0;
        for (uint32_t i = 0; i < f->d.n; i++)
            count[f->d.cls[i]]++;
        while (k < 4 && count[k] >= 40)
            k++;
        if (k == 4)
            break;
        dataset_free(&f->d);
    }
    f->store = dataset_store(&f->d, true);
    f->outcomes = dataset_outcomes(&f->d);
    params p = {.max_tags = 3, .min_size = 5, .min_drop = 0.1, .gains = {0, 0.05, 0},
                .n_gains = 3, .threads = 2};
    f->config = params_config(&p);
}

static void fixture_free(fixture *f)
{
    prime_config_destroy(f->config);
    prime_outcomes_destroy(f->outcomes);
    prime_tagstore_destroy(f->store);
    dataset_free(&f->d);
}

static prime_partial *search_some(const fixture *f, const uint32_t *ids, uint32_t n)
{
    prime_partial *p = NULL;
    cr_assert_eq(prime_search_classes(f->store, f->outcomes, f->config, ids, n, NULL, NULL, &p),
                 PRIME_OK, "%s", prime_last_error());
    return p;
}

Test(partial, bytes_do_not_depend_on_threads)
{
    fixture f;
    fixture_make(&f, 99);
    uint32_t ids[] = {2, 0, 3, 1};
    unsigned char *first = NULL;
    size_t first_n = 0;
    for (int64_t t = 1; t <= 4; t++) {
        cr_assert_eq(prime_config_set_int(f.config, PRIME_PARAM_THREADS, t), PRIME_OK);
        prime_partial *p = search_some(&f, ids, 4);
        cr_assert_gt(prime_partial_mode_count(p), 10, "the fixture must find modes");
        cr_assert_eq(prime_partial_class_count(p), 4);
        for (uint32_t i = 0; i < 4; i++)
            cr_assert_eq(prime_partial_class_id(p, i), i);
        cr_assert_eq(prime_partial_class_id(p, 4), PRIME_NONE);
        size_t n = 0;
        unsigned char *b = bytes_of(p, &n);
        if (first == NULL) {
            first = b;
            first_n = n;
        } else {
            cr_assert(n == first_n && memcmp(b, first, n) == 0, "threads %lld", (long long)t);
            free(b);
        }
        prime_partial_destroy(p);
    }
    free(first);
    fixture_free(&f);
}

/* Every truncation and every single bit flip is refused, with no handle. */
Test(partial, damage_is_refused, .timeout = 300)
{
    fixture f;
    fixture_make(&f, 7);
    uint32_t ids[] = {1, 3};
    prime_partial *p = search_some(&f, ids, 2);
    cr_assert_gt(prime_partial_mode_count(p), 0);
    size_t n = 0;
    unsigned char *b = bytes_of(p, &n);
    prime_partial *q = (prime_partial *)&q;
    for (size_t len = 0; len < n; len++) {
        cr_assert_eq(prime_partial_load_memory(b, len, "cut", f.store, f.config, &q),
                     PRIME_E_FORMAT, "cut at %zu: %s", len, prime_last_error());
        cr_assert_null(q);
    }
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, b, n);
    longer[n] = 0;
    cr_assert_eq(prime_partial_load_memory(longer, n + 1, "long", f.store, f.config, &q),
                 PRIME_E_FORMAT);
    free(longer);
    size_t flips = 0;
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1u << bit);
            prime_status st = prime_partial_load_memory(b, n, "flip", f.store, f.config, &q);
            cr_assert(st == PRIME_E_FORMAT, "byte %zu bit %d: %s (%s)", i, bit,
                      prime_status_name(st), prime_last_error());
            cr_assert_null(q);
            b[i] ^= (unsigned char)(1u << bit);
            flips++;
        }
    }
    cr_assert_eq(prime_partial_load_memory(b, n, "intact", f.store, f.config, &q), PRIME_OK);
    prime_partial_destroy(q);
    fprintf(stderr, "partial: %zu bytes, %zu truncations and %zu bit flips refused\n", n, n,
            flips);
    free(b);
    prime_partial_destroy(p);
    fixture_free(&f);
}

/* Put a checksum right after an edit of the payload (as a forger would),
 * so that the reader's checks past the checksums are reached. */
static void reseal(unsigned char *b, size_t n)
{
    uint64_t psize = n - 72;
    uint64_t sum = prime__checksum(b + 72, (size_t)psize, 0x5052494D50415254ull);
    for (int k = 0; k < 8; k++)
        b[56 + k] = (unsigned char)(sum >> (8 * k));
    sum = prime__checksum(b, 64, 0x5052494D50484452ull);
    for (int k = 0; k < 8; k++)
        b[64 + k] = (unsigned char)(sum >> (8 * k));
}

static void put_le(unsigned char *p, uint64_t v, int width)
{
    for (int k = 0; k < width; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

/* Sealed edits of the content: each one is refused by the check for it. */
Test(partial, content_checks)
{
    fixture f;
    fixture_make(&f, 7);
    uint32_t ids[] = {1, 3};
    prime_partial *p = search_some(&f, ids, 2);
    cr_assert_eq(prime_partial_class_count(p), 2);
    cr_assert_gt(prime_partial_mode_count(p), 0);
    size_t n = 0;
    unsigned char *b = bytes_of(p, &n);
    const size_t cfg = 72, classes = cfg + 8 * (4 + PRIME_MAX_TAGS_LIMIT + 5),
                 modes_at = classes + 2 * 24;
    struct {
        size_t at;
        uint64_t value;
        int width;
        prime_status want;
        const char *fragment;
    } edits[] = {
        {8, 2, 4, PRIME_E_FORMAT, "version 2"},
        {12, 1, 4, PRIME_E_FORMAT, "flags"},
        {16, 12345, 8, PRIME_E_MISMATCH, "another tag store"},
        {cfg + 8, 6, 8, PRIME_E_MISMATCH, "other search parameters"},
        {cfg, 17, 8, PRIME_E_FORMAT, "out of its bounds"},
        {24, 9, 8, PRIME_E_FORMAT, "class count"},
        {32, 1u << 30, 8, PRIME_E_FORMAT, "mode count"},
        {classes + 24, 0, 4, PRIME_E_FORMAT, "out of order"},
        {classes, 7, 4, PRIME_E_FORMAT, "out of range"},
        {classes + 4, 1, 4, PRIME_E_FORMAT, "padding"},
        {classes + 8, 1, 8, PRIME_E_FORMAT, "image count"},
        {modes_at, 2, 4, PRIME_E_FORMAT, "not in the partial result"},
        {modes_at + 4, 0, 4, PRIME_E_FORMAT, "tag count"},
        {modes_at + 8, 100000, 8, PRIME_E_FORMAT, "size"},
        {modes_at + 8, 1, 8, PRIME_E_FORMAT, "size"},
        {modes_at + 24, 99, 4, PRIME_E_FORMAT, "tag ids"},
    };
    for (size_t e = 0; e < sizeof edits / sizeof *edits; e++) {
        unsigned char *c = malloc(n);
        memcpy(c, b, n);
        put_le(c + edits[e].at, edits[e].value, edits[e].width);
        reseal(c, n);
        prime_partial *q = (prime_partial *)&q;
        prime_status st = prime_partial_load_memory(c, n, "edited", f.store, f.config, &q);
        cr_assert_eq(st, edits[e].want, "edit %zu: %s (%s)", e, prime_status_name(st),
                     prime_last_error());
        cr_assert(strstr(prime_last_error(), edits[e].fragment) != NULL, "edit %zu: %s", e,
                  prime_last_error());
        cr_assert_null(q);
        free(c);
    }
    /* a mode's sum of outcomes above its size */
    unsigned char *c = malloc(n);
    memcpy(c, b, n);
    double big = 1e9;
    uint64_t bits;
    memcpy(&bits, &big, 8);
    put_le(c + modes_at + 16, bits, 8);
    reseal(c, n);
    prime_partial *q = NULL;
    cr_assert_eq(prime_partial_load_memory(c, n, "edited", f.store, f.config, &q),
                 PRIME_E_FORMAT);
    cr_assert(strstr(prime_last_error(), "sum of outcomes") != NULL, "%s", prime_last_error());
    free(c);
    free(b);
    prime_partial_destroy(p);
    fixture_free(&f);
}

Test(partial, bound_to_store_and_config)
{
    fixture f, g;
    fixture_make(&f, 7);
    fixture_make(&g, 8);
    uint32_t ids[] = {0, 1, 2, 3};
    prime_partial *p = search_some(&f, ids, 4);
    size_t n = 0;
    unsigned char *b = bytes_of(p, &n);
    prime_partial *q = (prime_partial *)&q;
    /* another store */
    cr_assert_eq(prime_partial_load_memory(b, n, "x", g.store, f.config, &q), PRIME_E_MISMATCH);
    cr_assert_null(q);
    /* other parameters; the thread count does not matter */
    prime_config *c = NULL;
    cr_assert_eq(prime_config_clone(f.config, &c), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_THREADS, 3), PRIME_OK);
    cr_assert_eq(prime_partial_load_memory(b, n, "x", f.store, c, &q), PRIME_OK);
    prime_partial_destroy(q);
    double gains[] = {0, 0.05, 0, 0};
    cr_assert_eq(prime_config_set_min_gain(c, gains, 4), PRIME_OK);
    cr_assert_eq(prime_partial_load_memory(b, n, "x", f.store, c, &q), PRIME_E_MISMATCH);
    cr_assert_null(q);
    cr_assert_eq(prime_partial_load_memory(b, n, "x", f.store, NULL, &q), PRIME_E_MISMATCH);
    /* merge refuses mixed parameters and another store */
    uint32_t one[] = {0, 1}, two[] = {2, 3};
    prime_partial *a = search_some(&f, one, 2), *x = NULL;
    cr_assert_eq(prime_search_classes(f.store, f.outcomes, c, two, 2, NULL, NULL, &x), PRIME_OK);
    const prime_partial *mixed[] = {a, x};
    prime_result *r = (prime_result *)&r;
    cr_assert_eq(prime_partial_merge(f.store, mixed, 2, &r), PRIME_E_MISMATCH);
    cr_assert_null(r);
    cr_assert_eq(prime_partial_merge(g.store, mixed, 1, &r), PRIME_E_MISMATCH);
    cr_assert_null(r);
    prime_partial_destroy(x);
    prime_partial_destroy(a);
    prime_config_destroy(c);
    free(b);
    prime_partial_destroy(p);
    fixture_free(&g);
    fixture_free(&f);
}

Test(partial, merge_needs_every_class_once)
{
    fixture f;
    fixture_make(&f, 7);
    uint32_t a[] = {0, 1}, b[] = {1, 2, 3}, c[] = {2, 3};
    prime_partial *pa = search_some(&f, a, 2), *pb = search_some(&f, b, 3),
                  *pc = search_some(&f, c, 2);
    prime_result *r = (prime_result *)&r;
    const prime_partial *twice[] = {pa, pb};
    cr_assert_eq(prime_partial_merge(f.store, twice, 2, &r), PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "is in parts 0 and 1") != NULL, "%s",
              prime_last_error());
    cr_assert_null(r);
    const prime_partial *missing[] = {pc};
    cr_assert_eq(prime_partial_merge(f.store, missing, 1, &r), PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "is in no part") != NULL, "%s", prime_last_error());
    const prime_partial *ok[] = {pc, pa};
    cr_assert_eq(prime_partial_merge(f.store, ok, 2, &r), PRIME_OK);
    prime_result *whole = NULL;
    cr_assert_eq(prime_search(f.store, f.outcomes, f.config, NULL, NULL, &whole), PRIME_OK);
    assert_same_render(whole, r, "two parts");
    prime_result_destroy(whole);
    prime_result_destroy(r);
    const prime_partial *with_null[] = {pc, NULL};
    cr_assert_eq(prime_partial_merge(f.store, with_null, 2, &r), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_partial_merge(f.store, ok, 0, &r), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_partial_merge(NULL, ok, 2, &r), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_partial_merge(f.store, ok, 2, NULL), PRIME_E_INVALID_ARG);
    prime_partial_destroy(pa);
    prime_partial_destroy(pb);
    prime_partial_destroy(pc);
    fixture_free(&f);
}

Test(partial, search_classes_refuses)
{
    fixture f;
    fixture_make(&f, 7);
    prime_partial *p = (prime_partial *)&p;
    uint32_t bad[] = {0, 4}, dup[] = {1, 2, 1};
    cr_assert_eq(prime_search_classes(f.store, f.outcomes, f.config, bad, 2, NULL, NULL, &p),
                 PRIME_E_INVALID_ARG);
    cr_assert_null(p);
    cr_assert(strstr(prime_last_error(), "out of range") != NULL);
    cr_assert_eq(prime_search_classes(f.store, f.outcomes, f.config, dup, 3, NULL, NULL, &p),
                 PRIME_E_INVALID_ARG);
    cr_assert(strstr(prime_last_error(), "given twice") != NULL);
    cr_assert_eq(prime_search_classes(f.store, f.outcomes, f.config, NULL, 1, NULL, NULL, &p),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_search_classes(NULL, f.outcomes, f.config, bad, 1, NULL, NULL, &p),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_search_classes(f.store, f.outcomes, f.config, bad, 1, NULL, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_int(f.config, PRIME_PARAM_WHOLE_DATASET, 1), PRIME_OK);
    cr_assert_eq(prime_search_classes(f.store, f.outcomes, f.config, bad, 1, NULL, NULL, &p),
                 PRIME_E_INVALID_ARG);
    cr_assert_null(p);
    cr_assert_eq(prime_config_set_int(f.config, PRIME_PARAM_WHOLE_DATASET, 0), PRIME_OK);
    /* no class: an empty part, and the only part of an empty merge */
    cr_assert_eq(prime_search_classes(f.store, f.outcomes, f.config, NULL, 0, NULL, NULL, &p),
                 PRIME_OK);
    cr_assert_eq(prime_partial_class_count(p), 0);
    cr_assert_eq(prime_partial_mode_count(p), 0);
    prime_partial *q = through_bytes(p, f.store, f.config, "empty");
    prime_partial_destroy(q);
    prime_partial_destroy(p);
    /* an unfrozen store */
    prime_tagstore *open = dataset_store(&f.d, false);
    cr_assert_eq(prime_search_classes(open, f.outcomes, f.config, bad, 1, NULL, NULL, &p),
                 PRIME_E_STATE);
    prime_tagstore_destroy(open);
    cr_assert_eq(prime_partial_class_count(NULL), 0);
    cr_assert_eq(prime_partial_mode_count(NULL), 0);
    cr_assert_eq(prime_partial_candidate_count(NULL), 0);
    cr_assert_eq(prime_partial_class_id(NULL, 0), PRIME_NONE);
    prime_partial_destroy(NULL);
    fixture_free(&f);
}

/* Only the outcomes of the searched classes are needed. */
Test(partial, outcomes_of_the_searched_classes)
{
    fixture f;
    fixture_make(&f, 7);
    uint32_t in0 = PRIME_NONE;
    for (uint32_t i = 0; i < f.d.n && in0 == PRIME_NONE; i++)
        if (f.d.cls[i] == 0)
            in0 = i;
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_outcomes_create(f.d.n, &o), PRIME_OK);
    for (uint32_t i = 0; i < f.d.n; i++)
        if (i != in0)
            cr_assert_eq(prime_outcomes_set(o, i, f.d.out[i]), PRIME_OK);
    uint32_t with[] = {2, 0}, without[] = {1, 2, 3};
    prime_partial *p = (prime_partial *)&p;
    cr_assert_eq(prime_search_classes(f.store, o, f.config, with, 2, NULL, NULL, &p),
                 PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "has no outcome") != NULL, "%s", prime_last_error());
    cr_assert_null(p);
    cr_assert_eq(prime_search_classes(f.store, o, f.config, without, 3, NULL, NULL, &p),
                 PRIME_OK, "%s", prime_last_error());
    prime_partial *q = search_some(&f, without, 3);
    size_t n = 0, m = 0;
    unsigned char *a = bytes_of(p, &n), *b = bytes_of(q, &m);
    cr_assert(n == m && memcmp(a, b, n) == 0);
    free(a);
    free(b);
    prime_partial_destroy(q);
    prime_partial_destroy(p);
    prime_outcomes_destroy(o);
    fixture_free(&f);
}

static int32_t cancel_now(void *user_data, uint64_t done, uint64_t total)
{
    (void)user_data;
    (void)done;
    (void)total;
    return 1;
}

Test(partial, cancel)
{
    fixture f;
    fixture_make(&f, 7);
    uint32_t ids[] = {0, 1, 2, 3};
    prime_partial *p = (prime_partial *)&p;
    cr_assert_eq(prime_search_classes(f.store, f.outcomes, f.config, ids, 4, cancel_now, NULL,
                                      &p),
                 PRIME_E_CANCELLED);
    cr_assert_null(p);
    fixture_free(&f);
}

Test(partial, save_and_load_files)
{
    char dir[] = "/tmp/prime-partial-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256], path2[256];
    snprintf(path, sizeof path, "%s/a.prp", dir);
    snprintf(path2, sizeof path2, "%s/b.prp", dir);
    fixture f;
    fixture_make(&f, 7);
    uint32_t a[] = {0, 2}, b[] = {1, 3};
    prime_partial *pa = search_some(&f, a, 2), *pb = search_some(&f, b, 2);
    cr_assert_eq(prime_partial_save(pa, path), PRIME_OK, "%s", prime_last_error());
    prime_writer *w = NULL;
    cr_assert_eq(prime_writer_create(&w), PRIME_OK);
    cr_assert_eq(prime_partial_save_to(pb, w, path2), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_writer_commit(w), PRIME_OK);
    prime_writer_destroy(w);
    prime_partial *la = NULL, *lb = NULL;
    cr_assert_eq(prime_partial_load(path, f.store, f.config, &la), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_partial_load(path2, f.store, f.config, &lb), PRIME_OK);
    const prime_partial *parts[] = {lb, la};
    prime_result *r = NULL, *whole = NULL;
    cr_assert_eq(prime_partial_merge(f.store, parts, 2, &r), PRIME_OK);
    cr_assert_eq(prime_search(f.store, f.outcomes, f.config, NULL, NULL, &whole), PRIME_OK);
    assert_same_render(whole, r, "from files");
    prime_partial *none = (prime_partial *)&none;
    cr_assert_eq(prime_partial_load(dir, f.store, f.config, &none), PRIME_E_IO);
    cr_assert_null(none);
    cr_assert_eq(prime_partial_load("/nonexistent/x.prp", f.store, f.config, &none), PRIME_E_IO);
    unlink(path);
    unlink(path2);
    rmdir(dir);
    prime_result_destroy(r);
    prime_result_destroy(whole);
    prime_partial_destroy(la);
    prime_partial_destroy(lb);
    prime_partial_destroy(pa);
    prime_partial_destroy(pb);
    fixture_free(&f);
}

Test(partial, class_costs)
{
    /* class 0: 200 images with 3 frequent tags; class 1: 40 images with 1;
       class 2: none */
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    uint32_t id;
    cr_assert_eq(prime_tagstore_intern_class(s, "big", &id), PRIME_OK);
    cr_assert_eq(prime_tagstore_intern_class(s, "small", &id), PRIME_OK);
    cr_assert_eq(prime_tagstore_intern_class(s, "empty", &id), PRIME_OK);
    uint32_t tags[] = {0, 1, 2};
    for (uint32_t t = 0; t < 3; t++) {
        char name[8];
        snprintf(name, sizeof name, "t%u", t);
        cr_assert_eq(prime_tagstore_intern_tag(s, name, &id), PRIME_OK);
    }
    for (uint32_t i = 0; i < 240; i++)
        cr_assert_eq(prime_tagstore_add_image(s, NULL, i < 200 ? 0 : 1, tags, i < 200 ? 3 : 1,
                                              &id),
                     PRIME_OK);
    uint64_t costs[3];
    cr_assert_eq(prime_search_class_costs(s, NULL, costs, 3), PRIME_E_STATE);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    cr_assert_eq(prime_search_class_costs(s, NULL, costs, 2), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_search_class_costs(s, NULL, costs, 3), PRIME_OK);
    /* defaults: min_size 30; big: m = 3, 4 words; small: m = 1, 1 word */
    cr_assert_eq(costs[0], 200 + 3 * 3 * (4 + 1));
    cr_assert_eq(costs[1], 40 + 1 * 1 * (1 + 1));
    cr_assert_eq(costs[2], 0);
    prime_config *c = NULL;
    cr_assert_eq(prime_config_create(&c), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MIN_SIZE, 50), PRIME_OK);
    cr_assert_eq(prime_search_class_costs(s, c, costs, 3), PRIME_OK);
    cr_assert_eq(costs[1], 40); /* no tag reaches 50 images */
    cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_SIZE_SHARE, 0.5), PRIME_OK);
    cr_assert_eq(prime_search_class_costs(s, c, costs, 3), PRIME_OK);
    cr_assert_eq(costs[1], 40 + 1 * 1 * (1 + 1)); /* 20 images suffice */
    prime_config_destroy(c);
    cr_assert_eq(prime_search_class_costs(NULL, NULL, costs, 3), PRIME_E_INVALID_ARG);
    prime_tagstore_destroy(s);
}
