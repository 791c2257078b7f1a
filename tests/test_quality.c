/* Description quality (include/prime/quality.h): embedding files, cosine,
 * AUROC, coherency and the metrics of failure modes on a tiny store whose
 * expected values tests/data/quality/make.py computed independently. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "prime/prime.h"

static char *qpath(const char *file)
{
    static char buf[8][1024];
    static int k;
    const char *d = getenv("PRIME_TEST_DATA");
    char *b = buf[k++ & 7];
    snprintf(b, sizeof buf[0], "%s/quality/%s", d != NULL ? d : "tests/data", file);
    return b;
}

static prime_tagstore *load_store(void)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_load(qpath("tags.csv"), &s, NULL), PRIME_OK, "%s",
                 prime_last_error());
    return s;
}

static void expect_fail(const char *file, uint32_t dim, prime_status want, const char *needle)
{
    prime_embeddings *e = (prime_embeddings *)0x1;
    prime_status st = prime_embeddings_load(qpath(file), dim, &e);
    cr_assert_eq(st, want, "%s: status %d (%s), want %d", file, st, prime_last_error(), want);
    cr_assert(strstr(prime_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", file,
              prime_last_error(), needle);
    cr_assert(strstr(prime_last_error(), file) != NULL, "%s: message does not name the file",
              file);
}

Test(quality, npy_versions_dtypes_and_raw_agree)
{
    prime_embeddings *a = NULL, *e = NULL;
    cr_assert_eq(prime_embeddings_load(qpath("img.npy"), 0, &a), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_embeddings_rows(a), 12);
    cr_assert_eq(prime_embeddings_dim(a), 4);
    const char *same[] = {"img_f8.npy", "img_v2.npy", "img_v3.npy", "img.f32"};
    for (int k = 0; k < 4; k++) {
        cr_assert_eq(prime_embeddings_load(qpath(same[k]), 4, &e), PRIME_OK, "%s: %s", same[k],
                     prime_last_error());
        cr_assert_eq(prime_embeddings_rows(e), 12, "%s", same[k]);
        cr_assert(memcmp(prime_embeddings_row(e, 0), prime_embeddings_row(a, 0),
                         12 * 4 * sizeof(float)) == 0, "%s differs", same[k]);
        prime_embeddings_destroy(e);
        e = NULL;
    }
    /* c7 was written as 2 x c1 */
    cr_assert_float_eq(prime_embeddings_row(a, 7)[2], 2.0f * prime_embeddings_row(a, 1)[2], 0);
    cr_assert_null(prime_embeddings_row(a, 12));
    /* from memory */
    float v[6] = {1, 2, 3, 4, 5, 6};
    cr_assert_eq(prime_embeddings_create(v, 2, 3, &e), PRIME_OK);
    cr_assert_float_eq(prime_embeddings_row(e, 1)[0], 4.0f, 0);
    prime_embeddings_destroy(e);
    v[4] = NAN;
    cr_assert_eq(prime_embeddings_create(v, 2, 3, &e), PRIME_E_FORMAT);
    cr_assert(strstr(prime_last_error(), "row 1, column 1: value is NaN") != NULL, "%s",
              prime_last_error());
    cr_assert_eq(prime_embeddings_create(v, 2, 0, &e), PRIME_E_RANGE);
    prime_embeddings_destroy(a);
    prime_embeddings_destroy(NULL);
    cr_assert_eq(prime_embeddings_rows(NULL), 0);
}

Test(quality, bad_files_are_rejected_with_clear_errors)
{
    expect_fail("bad_nan.npy", 0, PRIME_E_FORMAT, "row 2, column 1: value is NaN");
    expect_fail("bad_inf.npy", 0, PRIME_E_FORMAT, "row 3, column 0: value is infinite");
    expect_fail("bad_fortran.npy", 0, PRIME_E_FORMAT, "Fortran-order");
    expect_fail("bad_i4.npy", 0, PRIME_E_FORMAT, "unsupported dtype '<i4'");
    expect_fail("bad_be.npy", 0, PRIME_E_FORMAT, "unsupported dtype '>f4'");
    expect_fail("bad_3d.npy", 0, PRIME_E_FORMAT, "3 dimensions, need 2");
    expect_fail("bad_trunc_header.npy", 0, PRIME_E_FORMAT, "truncated .npy header");
    expect_fail("bad_trunc_data.npy", 0, PRIME_E_FORMAT, "the data holds 186 bytes");
    expect_fail("bad_size.f32", 5, PRIME_E_FORMAT, "not a multiple of 4 x 5");
    expect_fail("img.npy", 5, PRIME_E_MISMATCH, "dimension 4, expected 5");
    expect_fail("img.f32", 0, PRIME_E_INVALID_ARG, "need a dimension");
    expect_fail("no_such_file.npy", 0, PRIME_E_IO, "cannot open");

    /* strict header dict, from memory */
    const char *hdrs[][2] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), 'x': 1, }", "unknown key 'x'"},
        {"{'descr': '<f4', 'fortran_order': False, }", "missing key 'shape'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }",
         "given twice"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1, 1), }", "must be True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, -1), }", "non-negative"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 0), }", "dimension 0"},
        {"['descr']", "not a dict"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), } x", "does not end"},
    };
    for (size_t k = 0; k < sizeof hdrs / sizeof hdrs[0]; k++) {
        unsigned char buf[256];
        size_t hl = strlen(hdrs[k][0]);
        memcpy(buf, "\x93NUMPY\x01\x00", 8);
        buf[8] = (unsigned char)(hl + 1);
        buf[9] = 0;
        memcpy(buf + 10, hdrs[k][0], hl);
        buf[10 + hl] = '\n';
        memset(buf + 11 + hl, 0, 4);
        prime_embeddings *e = NULL;
        cr_assert_eq(prime_embeddings_load_memory(buf, 11 + hl + 4, "h.npy", 0, &e),
                     PRIME_E_FORMAT, "header %zu accepted", k);
        cr_assert(strstr(prime_last_error(), hdrs[k][1]) != NULL, "header %zu: '%s'", k,
                  prime_last_error());
        cr_assert(strncmp(prime_last_error(), "h.npy: ", 7) == 0);
        cr_assert_null(e);
    }
    /* a good header built the same way is accepted */
    unsigned char ok[128];
    const char *h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }";
    size_t hl = strlen(h);
    memcpy(ok, "\x93NUMPY\x01\x00", 8);
    ok[8] = (unsigned char)(hl + 1);
    ok[9] = 0;
    memcpy(ok + 10, h, hl);
    ok[10 + hl] = '\n';
    float one = 1.5f;
    memcpy(ok + 11 + hl, &one, 4);
    prime_embeddings *e = NULL;
    cr_assert_eq(prime_embeddings_load_memory(ok, 11 + hl + 4, NULL, 1, &e), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_float_eq(prime_embeddings_row(e, 0)[0], 1.5f, 0);
    prime_embeddings_destroy(e);
}

Test(quality, keyed_embeddings_join_the_store_by_name)
{
    prime_tagstore *s = load_store();
    prime_embeddings *a = NULL, *k = NULL, *j = NULL, *r = NULL;
    cr_assert_eq(prime_embeddings_load(qpath("img.npy"), 0, &a), PRIME_OK);
    cr_assert_eq(prime_embeddings_load(qpath("img_keyed.npy"), 0, &k), PRIME_OK);
    cr_assert_eq(prime_embeddings_rows(k), 13);
    cr_assert_eq(prime_embeddings_join(k, qpath("img_keyed.ids"), s, &j), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_embeddings_rows(j), 12);
    cr_assert(memcmp(prime_embeddings_row(j, 0), prime_embeddings_row(a, 0),
                     48 * sizeof(float)) == 0);
    prime_embeddings_destroy(j);
    cr_assert_eq(prime_embeddings_join(k, qpath("bad_dup.ids"), s, &j), PRIME_E_DUPLICATE);
    cr_assert(strstr(prime_last_error(), "bad_dup.ids:13: image 'c0' named twice") != NULL,
              "%s", prime_last_error());
    cr_assert_eq(prime_embeddings_join(k, qpath("bad_missing.ids"), s, &j), PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "no embedding for image c4") != NULL, "%s",
              prime_last_error());
    cr_assert_eq(prime_embeddings_join(a, qpath("img_keyed.ids"), s, &j), PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "more names than the 12 embedding rows") != NULL,
              "%s", prime_last_error());
    const char blank[] = "c0\n\nc1\n";
    cr_assert_eq(prime_embeddings_join_memory(k, blank, sizeof blank - 1, "x.ids", s, &j),
                 PRIME_E_PARSE);
    cr_assert(strstr(prime_last_error(), "x.ids:2: empty image name") != NULL);
    const char few[] = "c0\r\nc1";
    cr_assert_eq(prime_embeddings_join_memory(k, few, sizeof few - 1, "x.ids", s, &j),
                 PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "2 names for 13 embedding rows") != NULL, "%s",
              prime_last_error());
    /* a UTF-8 BOM is skipped: the ids file with one joins as the file itself */
    {
        FILE *f = fopen(qpath("img_keyed.ids"), "rb");
        cr_assert_not_null(f);
        char ids[4096] = "\xEF\xBB\xBF";
        size_t n = 3 + fread(ids + 3, 1, sizeof ids - 4, f);
        fclose(f);
        cr_assert_eq(prime_embeddings_join_memory(k, ids, n, "bom.ids", s, &j), PRIME_OK, "%s",
                     prime_last_error());
        cr_assert_eq(prime_embeddings_rows(j), 12);
        prime_embeddings_destroy(j);
        j = NULL;
    }
    const char badu[] = "c\xff\n";
    cr_assert_eq(prime_embeddings_join_memory(k, badu, 3, "x.ids", s, &j), PRIME_E_PARSE);
    /* store rows that do not fit */
    prime_embeddings *bad = NULL;
    prime_quality *q = NULL;
    cr_assert_eq(prime_embeddings_load(qpath("bad_rows.npy"), 0, &bad), PRIME_OK);
    cr_assert_eq(prime_quality_create(s, bad, &q), PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "10 rows, the store holds 12 images") != NULL);
    (void)r;
    prime_embeddings_destroy(bad);
    prime_embeddings_destroy(a);
    prime_embeddings_destroy(k);
    prime_tagstore_destroy(s);
}

Test(quality, cosine_hand_worked)
{
    float a[3] = {1, 2, 2}, b[3] = {2, 0, 0}, z[3] = {0, 0, 0}, c[3] = {0, 3, 4};
    double r;
    cr_assert_eq(prime_vec_cosine(a, b, 3, &r), PRIME_OK);
    cr_assert_float_eq(r, 1.0 / 3.0, 1e-15);
    cr_assert_eq(prime_vec_cosine(a, c, 3, &r), PRIME_OK);
    cr_assert_float_eq(r, 14.0 / 15.0, 1e-15); /* (6 + 8) / (3 * 5) */
    cr_assert_eq(prime_vec_cosine(a, z, 3, &r), PRIME_OK);
    cr_assert_eq(r, 0.0);
    cr_assert_eq(prime_vec_cosine(a, a, 3, &r), PRIME_OK);
    cr_assert_float_eq(r, 1.0, 1e-15);
}

static double brute_auroc(const double *p, uint64_t np, const double *n, uint64_t nn)
{
    double s = 0;
    for (uint64_t i = 0; i < np; i++)
        for (uint64_t j = 0; j < nn; j++)
            s += p[i] > n[j] ? 1.0 : p[i] == n[j] ? 0.5 : 0.0;
    return s / ((double)np * (double)nn);
}

Test(quality, auroc_equals_brute_force_pair_count_with_ties)
{
    double r;
    const double p1[] = {3, 2, 2}, n1[] = {2, 1};
    cr_assert_eq(prime_stat_auroc(p1, 3, n1, 2, &r), PRIME_OK);
    cr_assert_float_eq(r, (1 + 1 + 0.5 + 1 + 0.5 + 1) / 6.0, 1e-15); /* 5/6 */
    srand(12345);
    for (int trial = 0; trial < 300; trial++) {
        uint64_t np = 1 + (uint64_t)(rand() % 40), nn = 1 + (uint64_t)(rand() % 40);
        double p[40], n[40];
        int levels = 1 + rand() % 6; /* few distinct values: many ties */
        for (uint64_t i = 0; i < np; i++)
            p[i] = (double)(rand() % levels) / 2.0;
        for (uint64_t i = 0; i < nn; i++)
            n[i] = (double)(rand() % levels) / 2.0 - (trial % 3 == 0 ? 0.25 : 0.0);
        cr_assert_eq(prime_stat_auroc(p, np, n, nn, &r), PRIME_OK);
        double want = brute_auroc(p, np, n, nn);
        cr_assert_float_eq(r, want, 1e-12, "trial %d: %.17g vs %.17g", trial, r, want);
    }
    cr_assert_eq(prime_stat_auroc(p1, 3, NULL, 0, &r), PRIME_OK);
    cr_assert(isnan(r));
    const double bad[] = {NAN};
    cr_assert_eq(prime_stat_auroc(bad, 1, n1, 2, &r), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_stat_auroc(NULL, 2, n1, 2, &r), PRIME_E_INVALID_ARG);
}

/* A store of one class "k" with 4 images in 2-D; hand-worked coherency. */
Test(quality, coherency_and_groups_hand_worked)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    const char *names[] = {"i0", "i1", "i2", "i3"};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(prime_tagstore_add_image_names(s, names[i], "k", NULL, 0, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    /* unit rows: (1,0), (1,0) (scaled by 3), (0,1), (-1,0) */
    float v[8] = {1, 0, 3, 0, 0, 1, -1, 0};
    prime_embeddings *e = NULL;
    prime_quality *q = NULL;
    cr_assert_eq(prime_embeddings_create(v, 4, 2, &e), PRIME_OK);
    cr_assert_eq(prime_quality_create(s, e, &q), PRIME_OK, "%s", prime_last_error());
    prime_embeddings_destroy(e); /* the handle holds copies */
    prime_tagstore_destroy(s);
    /* group {i0, i1}: centroid (1, 0), coh 1; class centroid (1/4, 1/4),
       coh = sqrt(2)/4; coherency = 1 - sqrt(2)/4 */
    uint32_t g1[] = {1, 0, 1};
    float t[2] = {2, 0};
    uint64_t idx = 9, size, csize;
    double sim, spec, coh;
    cr_assert_eq(prime_quality_add_group(q, "left", 0, g1, 3, t, 2, &idx), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(idx, 0);
    cr_assert_eq(prime_quality_group_metrics(q, 0, &size, &csize, &sim, &spec, &coh), PRIME_OK);
    cr_assert_eq(size, 2);
    cr_assert_eq(csize, 4);
    cr_assert_float_eq(sim, 1.0, 1e-12);
    /* text (1,0): sims 1, 1 inside; 0, -1 outside: AUROC 1 */
    cr_assert_float_eq(spec, 1.0, 1e-12);
    cr_assert_float_eq(coh, 1.0 - sqrt(2.0) / 4.0, 1e-7);
    /* group {i2, i3} without text: centroid (-1/2, 1/2), coh sqrt(2)/2 */
    uint32_t g2[] = {2, 3};
    cr_assert_eq(prime_quality_add_group(q, "other", 0, g2, 2, NULL, 0, NULL), PRIME_OK);
    cr_assert_eq(prime_quality_group_metrics(q, 1, NULL, NULL, &sim, &spec, &coh), PRIME_OK);
    cr_assert(isnan(sim) && isnan(spec));
    cr_assert_float_eq(coh, sqrt(2.0) / 2.0 - sqrt(2.0) / 4.0, 1e-7);
    /* the whole class as a group: coherency 0, specificity NaN */
    uint32_t all[] = {0, 1, 2, 3};
    float t2[2] = {0, 1};
    cr_assert_eq(prime_quality_add_group(q, NULL, PRIME_NONE, all, 4, t2, 2, NULL), PRIME_OK);
    cr_assert_eq(prime_quality_group_metrics(q, 2, NULL, &csize, &sim, &spec, &coh), PRIME_OK);
    cr_assert_eq(csize, 4);
    cr_assert_float_eq(sim, 0.25, 1e-12);
    cr_assert(isnan(spec));
    cr_assert_float_eq(coh, 0.0, 1e-12);
    cr_assert_str_eq(prime_quality_group_class_name(q, 2), "(all)");
    cr_assert_str_eq(prime_quality_group_label(q, 0), "left");
    /* averages */
    uint64_t ng;
    cr_assert_eq(prime_quality_class_count(q), 2);
    cr_assert_str_eq(prime_quality_class_name(q, 0), "(all)");
    cr_assert_str_eq(prime_quality_class_name(q, 1), "k");
    cr_assert_eq(prime_quality_class_metrics(q, 1, &ng, &sim, &spec, &coh), PRIME_OK);
    cr_assert_eq(ng, 2);
    cr_assert_float_eq(sim, 1.0, 1e-12); /* NaN left out */
    cr_assert_float_eq(coh, (1.0 + sqrt(2.0) / 2.0 - 2 * sqrt(2.0) / 4.0) / 2.0, 1e-7);
    cr_assert_eq(prime_quality_overall(q, &ng, &sim, &spec, &coh), PRIME_OK);
    cr_assert_eq(ng, 3);
    cr_assert_float_eq(sim, 1.25 / 2.0, 1e-12);
    cr_assert_float_eq(spec, 1.0, 1e-12);
    /* misuse */
    uint32_t out_of_range[] = {4};
    cr_assert_eq(prime_quality_add_group(q, "x", 0, out_of_range, 1, NULL, 0, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_quality_add_group(q, "x", 1, g2, 2, NULL, 0, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_quality_add_group(q, "x", 0, g2, 2, t, 3, NULL), PRIME_E_MISMATCH);
    cr_assert_eq(prime_quality_group_metrics(q, 3, NULL, NULL, NULL, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_quality_group_count(q), 3);
    prime_quality_destroy(q);
    prime_quality_destroy(NULL);
}

static void check_expected(const prime_quality *q)
{
    FILE *f = fopen(qpath("expected.txt"), "r");
    cr_assert_not_null(f);
    int m;
    unsigned long long n;
    char a[64], b[64], c[64];
    int rows = 0;
    while (fscanf(f, "%d %llu %63s %63s %63s", &m, &n, a, b, c) == 5) {
        uint64_t size;
        double sim, spec, coh;
        cr_assert_eq(prime_quality_group_metrics(q, (uint64_t)m, &size, NULL, &sim, &spec, &coh),
                     PRIME_OK);
        cr_assert_eq(size, n, "mode %d size", m);
        double want[3] = {strtod(a, NULL), strtod(b, NULL), strtod(c, NULL)};
        double got[3] = {sim, spec, coh};
        for (int k = 0; k < 3; k++) {
            if (isnan(want[k]))
                cr_assert(isnan(got[k]), "mode %d metric %d: %g, want NaN", m, k, got[k]);
            else
                cr_assert_float_eq(got[k], want[k], 1e-6, "mode %d metric %d: %.9f vs %.9f",
                                   m, k, got[k], want[k]);
        }
        rows++;
    }
    fclose(f);
    cr_assert_eq(rows, 4);
}

Test(quality, end_to_end_on_a_tiny_store)
{
    prime_tagstore *s = load_store();
    prime_embeddings *img = NULL, *txt = NULL;
    prime_quality *q = NULL;
    cr_assert_eq(prime_embeddings_load(qpath("img.npy"), 0, &img), PRIME_OK);
    cr_assert_eq(prime_embeddings_load(qpath("text.npy"), 4, &txt), PRIME_OK);
    cr_assert_eq(prime_quality_create(s, img, &q), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_quality_add_result_file(q, qpath("result.json"), txt), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_quality_group_count(q), 4);
    cr_assert_str_eq(prime_quality_group_label(q, 0), "a photo of cat dark indoor");
    cr_assert_str_eq(prime_quality_group_class_name(q, 2), "dog");
    check_expected(q);
    /* the same modes given as image lists score the same */
    uint32_t m0[] = {0, 1, 2};
    uint64_t at;
    cr_assert_eq(prime_quality_add_group(q, "list", 0, m0, 3, prime_embeddings_row(txt, 0), 4,
                                         &at), PRIME_OK);
    double s1, s2, p1, p2, c1, c2;
    prime_quality_group_metrics(q, 0, NULL, NULL, &s1, &p1, &c1);
    prime_quality_group_metrics(q, at, NULL, NULL, &s2, &p2, &c2);
    cr_assert(s1 == s2 && p1 == p2 && c1 == c2);
    /* render */
    size_t need = 0;
    cr_assert_eq(prime_quality_render(q, PRIME_FORMAT_JSON, NULL, 0, &need),
                 PRIME_E_BUFFER_TOO_SMALL);
    char *buf = malloc(need + 1);
    cr_assert_eq(prime_quality_render(q, PRIME_FORMAT_JSON, buf, need + 1, &need), PRIME_OK);
    cr_assert(strstr(buf, "\"label\": \"a photo of dog snow\", \"class\": \"dog\", \"size\": 0, "
                          "\"class_size\": 4, \"similarity\": null") != NULL, "%s", buf);
    cr_assert(strstr(buf, "\"overall\": {\"groups\": 5") != NULL, "%s", buf);
    free(buf);
    cr_assert_eq(prime_quality_render(q, PRIME_FORMAT_CSV, NULL, 0, &need), PRIME_E_INVALID_ARG);
    /* wrong text rows: nothing is added */
    prime_embeddings *few = NULL;
    cr_assert_eq(prime_embeddings_create(prime_embeddings_row(txt, 0), 2, 4, &few), PRIME_OK);
    cr_assert_eq(prime_quality_add_result_file(q, qpath("result.json"), few), PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "2 rows, the result has 4 modes") != NULL);
    cr_assert_eq(prime_quality_group_count(q), 5);
    prime_embeddings_destroy(few);
    prime_quality_destroy(q);

    /* a searched result in memory gives the modes the search found */
    prime_outcomes *oc = NULL;
    prime_tagstore *st2 = NULL;
    prime_result *res = NULL;
    prime_config *cfg = NULL;
    cr_assert_eq(prime_tagstore_load(qpath("tags.csv"), &st2, &oc), PRIME_OK);
    cr_assert_eq(prime_config_create(&cfg), PRIME_OK);
    prime_config_set_int(cfg, PRIME_PARAM_MIN_SIZE, 2);
    prime_config_set_double(cfg, PRIME_PARAM_MIN_DROP, 0.1);
    cr_assert_eq(prime_search(st2, oc, cfg, NULL, NULL, &res), PRIME_OK, "%s", prime_last_error());
    uint64_t nm = prime_result_mode_count(res);
    cr_assert_eq(prime_quality_create(st2, img, &q), PRIME_OK);
    cr_assert_eq(prime_quality_add_result(q, res, NULL), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_quality_group_count(q), nm);
    for (uint64_t i = 0; i < nm; i++) {
        uint64_t size, rsize;
        double sim, coh;
        prime_result_mode_info(res, i, NULL, NULL, &rsize, NULL, NULL, NULL, NULL);
        prime_quality_group_metrics(q, i, &size, NULL, &sim, NULL, &coh);
        cr_assert_eq(size, rsize, "mode %llu", (unsigned long long)i);
        cr_assert(isnan(sim) && !isnan(coh));
    }
    prime_quality_destroy(q);
    prime_result_destroy(res);
    prime_config_destroy(cfg);
    prime_outcomes_destroy(oc);
    prime_tagstore_destroy(st2);
    prime_embeddings_destroy(img);
    prime_embeddings_destroy(txt);
    prime_tagstore_destroy(s);
}

/* Every allocation of the load / join / score / render path failing in turn:
 * a clean PRIME_E_NOMEM (or success), never a crash; valgrind checks leaks. */
static prime_status quality_run(void)
{
    prime_tagstore *s = NULL;
    prime_embeddings *k = NULL, *img = NULL, *txt = NULL;
    prime_quality *q = NULL;
    size_t need = 0;
    prime_status st = prime_tagstore_load(qpath("tags.csv"), &s, NULL);
    if (st == PRIME_OK)
        st = prime_embeddings_load(qpath("img_keyed.npy"), 0, &k);
    if (st == PRIME_OK)
        st = prime_embeddings_join(k, qpath("img_keyed.ids"), s, &img);
    if (st == PRIME_OK)
        st = prime_embeddings_load(qpath("text.npy"), 4, &txt);
    if (st == PRIME_OK)
        st = prime_quality_create(s, img, &q);
    if (st == PRIME_OK)
        st = prime_quality_add_result_file(q, qpath("result.json"), txt);
    if (st == PRIME_OK) {
        st = prime_quality_render(q, PRIME_FORMAT_TEXT, NULL, 0, &need);
        if (st == PRIME_E_BUFFER_TOO_SMALL)
            st = PRIME_OK;
    }
    prime_quality_destroy(q);
    prime_embeddings_destroy(txt);
    prime_embeddings_destroy(img);
    prime_embeddings_destroy(k);
    prime_tagstore_destroy(s);
    return st;
}

Test(quality, allocation_failures_are_clean)
{
    prime__alloc_fail_after(0);
    cr_assert_eq(quality_run(), PRIME_OK, "%s", prime_last_error());
    int failed_runs = 0;
    for (long n = 1; n < 2000; n++) {
        prime__alloc_fail_after(n);
        prime_status st = quality_run();
        long hit = prime__alloc_failed_count();
        prime__alloc_fail_after(0);
        if (hit == 0) {
            cr_assert_eq(st, PRIME_OK);
            break;
        }
        cr_assert(st == PRIME_E_NOMEM || st == PRIME_OK, "allocation %ld: status %d (%s)", n,
                  st, prime_last_error());
        failed_runs += st == PRIME_E_NOMEM;
    }
    cr_assert_gt(failed_runs, 10);
}

Test(quality, whole_dataset_modes_use_the_whole_store)
{
    prime_tagstore *s = NULL;
    prime_outcomes *oc = NULL;
    prime_config *cfg = NULL;
    prime_result *res = NULL;
    prime_embeddings *img = NULL;
    prime_quality *q = NULL;
    cr_assert_eq(prime_tagstore_load(qpath("tags.csv"), &s, &oc), PRIME_OK);
    cr_assert_eq(prime_config_create(&cfg), PRIME_OK);
    prime_config_set_int(cfg, PRIME_PARAM_MIN_SIZE, 2);
    prime_config_set_double(cfg, PRIME_PARAM_MIN_DROP, 0.05);
    prime_config_set_int(cfg, PRIME_PARAM_WHOLE_DATASET, 1);
    cr_assert_eq(prime_search(s, oc, cfg, NULL, NULL, &res), PRIME_OK, "%s", prime_last_error());
    uint64_t nm = prime_result_mode_count(res);
    cr_assert_gt(nm, 0);
    cr_assert_eq(prime_embeddings_load(qpath("img.npy"), 0, &img), PRIME_OK);
    cr_assert_eq(prime_quality_create(s, img, &q), PRIME_OK);
    cr_assert_eq(prime_quality_add_result(q, res, NULL), PRIME_OK, "%s", prime_last_error());
    for (uint64_t i = 0; i < nm; i++) {
        uint64_t size, rsize, csize;
        prime_result_mode_info(res, i, NULL, NULL, &rsize, NULL, NULL, NULL, NULL);
        prime_quality_group_metrics(q, i, &size, &csize, NULL, NULL, NULL);
        cr_assert_eq(size, rsize);
        cr_assert_eq(csize, 12);
        cr_assert_str_eq(prime_quality_group_class_name(q, i), "(all)");
    }
    prime_quality_destroy(q);
    prime_embeddings_destroy(img);
    prime_result_destroy(res);
    prime_config_destroy(cfg);
    prime_outcomes_destroy(oc);
    prime_tagstore_destroy(s);
}
