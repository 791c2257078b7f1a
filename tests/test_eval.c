/* Evaluation (include/prime/eval.h): statistics against hand-worked and
 * independently computed values, the result JSON reader, generalization on
 * a hand-built store and on a train/test split of the demo data. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "prime/eval.h"

#define NEAR(a, b, tol) cr_assert(fabs((a) - (b)) <= (tol), "%s = %.17g, expected %.17g", #a, \
                                  (double)(a), (double)(b))

/* ---- Wilson ------------------------------------------------------------------ */

Test(eval, wilson_hand_computed)
{
    double lo, hi;
    /* 0 of 10: lo = 0, hi = z^2 / (n + z^2) */
    cr_assert_eq(prime_stat_wilson(0, 10, PRIME_EVAL_Z95, &lo, &hi), PRIME_OK);
    NEAR(lo, 0.0, 1e-15);
    double z2 = PRIME_EVAL_Z95 * PRIME_EVAL_Z95;
    NEAR(hi, z2 / (10.0 + z2), 1e-15);
    NEAR(hi, 0.2775327998628892, 1e-12);
    /* 5 of 10: symmetric about 1/2 */
    cr_assert_eq(prime_stat_wilson(5, 10, PRIME_EVAL_Z95, &lo, &hi), PRIME_OK);
    NEAR(lo, 0.236593090512564, 1e-12);
    NEAR(hi, 0.7634069094874361, 1e-12);
    NEAR(lo + hi, 1.0, 1e-15);
    cr_assert_eq(prime_stat_wilson(9, 12, PRIME_EVAL_Z95, &lo, &hi), PRIME_OK);
    NEAR(lo, 0.4676946650664343, 1e-12);
    NEAR(hi, 0.9110583316059452, 1e-12);
    /* n = 0: NaN; bad arguments */
    cr_assert_eq(prime_stat_wilson(0, 0, 1.0, &lo, &hi), PRIME_OK);
    cr_assert(isnan(lo) && isnan(hi));
    cr_assert_eq(prime_stat_wilson(11, 10, 1.0, &lo, &hi), PRIME_E_RANGE);
    cr_assert_eq(prime_stat_wilson(1, 10, 0.0, &lo, &hi), PRIME_E_RANGE);
    cr_assert_eq(prime_stat_wilson(1, 10, NAN, &lo, &hi), PRIME_E_RANGE);
}

/* ---- hypergeometric ---------------------------------------------------------- */

/* Exact binomial coefficients up to 60 (C(60, 30) < 2^63). */
static uint64_t binom[61][61];

static void fill_binom(void)
{
    for (int n = 0; n <= 60; n++) {
        binom[n][0] = binom[n][n] = 1;
        for (int k = 1; k < n; k++)
            binom[n][k] = binom[n - 1][k - 1] + binom[n - 1][k];
    }
}

Test(eval, hypergeom_against_brute_force)
{
    fill_binom();
    unsigned checked = 0;
    for (int N = 1; N <= 60; N += (N < 20 ? 1 : 7)) {
        for (int K = 0; K <= N; K += (N < 20 ? 1 : 3)) {
            for (int n = 0; n <= N; n += (N < 20 ? 1 : 5)) {
                for (int k = 0; k <= n; k++) {
                    long double num = 0.0L;
                    for (int x = 0; x <= k; x++)
                        if (x <= K && n - x <= N - K)
                            num += (long double)binom[K][x] * (long double)binom[N - K][n - x];
                    double want = (double)(num / (long double)binom[N][n]);
                    double got;
                    cr_assert_eq(prime_stat_hypergeom_lower((uint64_t)N, (uint64_t)K,
                                                            (uint64_t)n, (uint64_t)k, &got),
                                 PRIME_OK);
                    cr_assert(fabs(got - want) <= 1e-12 * (want > 1e-300 ? 1.0 : 0.0) +
                                                      1e-11 * want + 1e-300,
                              "N=%d K=%d n=%d k=%d: %.17g, brute force %.17g", N, K, n, k, got,
                              want);
                    checked++;
                }
            }
        }
    }
    cr_assert_gt(checked, 10000);
}

Test(eval, hypergeom_known_values)
{
    double p;
    /* the lady tasting tea: 4 of 8 cups, none right: 1 / C(8, 4) */
    cr_assert_eq(prime_stat_hypergeom_lower(8, 4, 4, 0, &p), PRIME_OK);
    NEAR(p, 1.0 / 70.0, 1e-15);
    /* exact sums of Python's math.comb (fractions) */
    cr_assert_eq(prime_stat_hypergeom_lower(2000, 1500, 100, 60, &p), PRIME_OK);
    NEAR(p / 0.0004993429755849475, 1.0, 1e-9);
    cr_assert_eq(prime_stat_hypergeom_lower(100000, 80000, 1000, 700, &p), PRIME_OK);
    NEAR(p / 2.7736931363291964e-14, 1.0, 1e-8);
    cr_assert_eq(prime_stat_hypergeom_lower(10, 6, 6, 2, &p), PRIME_OK);
    NEAR(p, 0.07142857142857142, 1e-14);
    /* outside the support, whole population, degenerate */
    cr_assert_eq(prime_stat_hypergeom_lower(10, 6, 6, 1, &p), PRIME_OK); /* k < n-(N-K) = 2 */
    NEAR(p, 0.0, 0.0);
    cr_assert_eq(prime_stat_hypergeom_lower(10, 6, 10, 6, &p), PRIME_OK);
    NEAR(p, 1.0, 0.0);
    cr_assert_eq(prime_stat_hypergeom_lower(10, 10, 4, 4, &p), PRIME_OK);
    NEAR(p, 1.0, 0.0);
    /* a huge population stays finite and in [0, 1] */
    cr_assert_eq(prime_stat_hypergeom_lower(4000000000ull, 3000000000ull, 1000000, 749000, &p),
                 PRIME_OK);
    cr_assert(p >= 0.0 && p <= 1.0 && p < 0.05, "p = %g", p);
    cr_assert_eq(prime_stat_hypergeom_lower(10, 11, 4, 1, &p), PRIME_E_RANGE);
    cr_assert_eq(prime_stat_hypergeom_lower(10, 5, 11, 1, &p), PRIME_E_RANGE);
    cr_assert_eq(prime_stat_hypergeom_lower(10, 5, 4, 1, NULL), PRIME_E_INVALID_ARG);
}

/* ---- Mann-Whitney ------------------------------------------------------------ */

Test(eval, mann_whitney_hand_worked)
{
    double p;
    /* x = {1, 2}, y = {3, 4, 5}: U = 0, mean 3, var 3, z = -2.5 / sqrt(3) */
    double x1[] = {1, 2}, y1[] = {3, 4, 5};
    cr_assert_eq(prime_stat_mann_whitney_lower(x1, 2, y1, 3, &p), PRIME_OK);
    NEAR(p, 0.07445733658938283, 1e-12);
    /* ties: ranks 1.5 1.5 3.5 | 3.5 5.5 5.5, U = 0.5, var = 9/12 (7 - 18/30) = 4.8 */
    double x2[] = {1, 1, 2}, y2[] = {2, 3, 3};
    cr_assert_eq(prime_stat_mann_whitney_lower(x2, 3, y2, 3, &p), PRIME_OK);
    NEAR(p, 0.05507446209297349, 1e-12);
    /* the other direction is not significant */
    cr_assert_eq(prime_stat_mann_whitney_lower(y1, 3, x1, 2, &p), PRIME_OK);
    cr_assert_gt(p, 0.9);
    /* all tied, or an empty side: 1 */
    double t[] = {0.5, 0.5, 0.5};
    cr_assert_eq(prime_stat_mann_whitney_lower(t, 2, t, 1, &p), PRIME_OK);
    NEAR(p, 1.0, 0.0);
    cr_assert_eq(prime_stat_mann_whitney_lower(t, 3, NULL, 0, &p), PRIME_OK);
    NEAR(p, 1.0, 0.0);
    double bad[] = {NAN};
    cr_assert_eq(prime_stat_mann_whitney_lower(bad, 1, t, 1, &p), PRIME_E_INVALID_ARG);
}

/* ---- correlations ------------------------------------------------------------ */

Test(eval, pearson_spearman_hand_worked)
{
    /* x = 1..5, y = 2 4 5 4 5: sxy = 6, sxx = 10, syy = 6 -> 6 / sqrt(60);
       ranks of y: 1 2.5 4.5 2.5 4.5 -> 7 / sqrt(90) */
    double x[] = {1, 2, 3, 4, 5}, y[] = {2, 4, 5, 4, 5};
    double r;
    cr_assert_eq(prime_stat_pearson(x, y, 5, &r), PRIME_OK);
    NEAR(r, 6.0 / sqrt(60.0), 1e-15);
    cr_assert_eq(prime_stat_spearman(x, y, 5, &r), PRIME_OK);
    NEAR(r, 7.0 / sqrt(90.0), 1e-15);
    /* monotone but not linear: Spearman 1 */
    double sq[] = {1, 4, 9, 16, 25};
    cr_assert_eq(prime_stat_spearman(x, sq, 5, &r), PRIME_OK);
    NEAR(r, 1.0, 1e-15);
    double neg[] = {5, 4, 3, 2, 1};
    cr_assert_eq(prime_stat_pearson(x, neg, 5, &r), PRIME_OK);
    NEAR(r, -1.0, 1e-15);
    /* undefined cases */
    double c[] = {3, 3, 3, 3, 3};
    cr_assert_eq(prime_stat_pearson(x, c, 5, &r), PRIME_OK);
    cr_assert(isnan(r));
    cr_assert_eq(prime_stat_spearman(x, y, 1, &r), PRIME_OK);
    cr_assert(isnan(r));
    /* a NaN anywhere, in either array, has no rank: NaN as Pearson gives */
    for (int at = 0; at < 5; at++)
        for (int side = 0; side < 2; side++) {
            double a[] = {1, 2, 3, 4, 5}, b[] = {2, 4, 5, 4, 5};
            (side ? b : a)[at] = NAN;
            cr_assert_eq(prime_stat_pearson(a, b, 5, &r), PRIME_OK);
            cr_assert(isnan(r), "pearson, NaN at %d of %s", at, side ? "y" : "x");
            r = 0.0;
            cr_assert_eq(prime_stat_spearman(a, b, 5, &r), PRIME_OK);
            cr_assert(isnan(r), "spearman, NaN at %d of %s", at, side ? "y" : "x");
        }
}

/* ---- Benjamini-Hochberg ------------------------------------------------------ */

Test(eval, bh_hand_worked)
{
    /* sorted 0.005 0.01 0.03 0.04; m p / j with m = 4: 0.02 0.02 0.04 0.04 */
    double p[] = {0.01, 0.04, 0.03, 0.005}, adj[4];
    cr_assert_eq(prime_stat_bh(p, 4, 0, adj), PRIME_OK);
    NEAR(adj[0], 0.02, 1e-15);
    NEAR(adj[1], 0.04, 1e-15);
    NEAR(adj[2], 0.04, 1e-15);
    NEAR(adj[3], 0.02, 1e-15);
    /* m = 10: 0.05 0.05 0.1 0.1 */
    cr_assert_eq(prime_stat_bh(p, 4, 10, adj), PRIME_OK);
    NEAR(adj[0], 0.05, 1e-15);
    NEAR(adj[1], 0.1, 1e-15);
    NEAR(adj[2], 0.1, 1e-15);
    NEAR(adj[3], 0.05, 1e-15);
    /* the running minimum from the top: 0.01 0.02 0.9 (m = 3): 0.03 0.03 0.9 */
    double q[] = {0.9, 0.02, 0.01, NAN}, qa[4];
    cr_assert_eq(prime_stat_bh(q, 4, 0, qa), PRIME_OK);
    NEAR(qa[0], 0.9, 1e-15);
    NEAR(qa[1], 0.03, 1e-15);
    NEAR(qa[2], 0.03, 1e-15);
    cr_assert(isnan(qa[3]));
    /* capped at 1; m below the count; p out of range */
    double big[] = {0.6, 0.7};
    cr_assert_eq(prime_stat_bh(big, 2, 5, adj), PRIME_OK);
    NEAR(adj[0], 1.0, 0.0);
    cr_assert_eq(prime_stat_bh(p, 4, 3, adj), PRIME_E_RANGE);
    double out[] = {1.5};
    cr_assert_eq(prime_stat_bh(out, 1, 0, adj), PRIME_E_RANGE);
}

/* ---- a hand-built test split -------------------------------------------------- */

/* Class a, 10 images: 0-3 {x, y} outcomes 0 0 0 1; 4-5 {x} 0 1; 6-7 {w} 1 1;
 * 8-9 {} 1 1. Class accuracy 0.6. Tag z and class b do not exist. */
static void hand_store(prime_tagstore **s, prime_outcomes **o)
{
    cr_assert_eq(prime_tagstore_create(s), PRIME_OK);
    const char *xy[] = {"x", "y"}, *x[] = {"x"}, *w[] = {"w"};
    const double v[] = {0, 0, 0, 1, 0, 1, 1, 1, 1, 1};
    for (int i = 0; i < 10; i++) {
        char name[8];
        snprintf(name, sizeof name, "i%d", i);
        const char *const *t = i < 4 ? xy : i < 6 ? x : w;
        uint32_t n = i < 4 ? 2 : i < 8 ? 1 : 0;
        cr_assert_eq(prime_tagstore_add_image_names(*s, name, "a", t, n, NULL), PRIME_OK);
    }
    cr_assert_eq(prime_tagstore_freeze(*s), PRIME_OK);
    cr_assert_eq(prime_outcomes_create(10, o), PRIME_OK);
    cr_assert_eq(prime_outcomes_set_array(*o, 0, v, 10), PRIME_OK);
}

static const char hand_json[] =
    "{\"params\": {\"max_tags\": 4, \"min_size\": 3, \"min_drop\": 0.3,\n"
    "  \"min_gain\": [0], \"min_tag_count\": 3, \"whole_dataset\": false},\n"
    " \"candidates\": 40,\n"
    " \"classes\": [],\n"
    " \"failure_modes\": [\n"
    "  {\"class\": \"a\", \"tags\": [\"x\"], \"size\": 10, \"correct\": 2, \"accuracy\": 0.2,\n"
    "   \"class_accuracy\": 0.7, \"drop\": 0.5, \"description\": \"a photo of a x\"},\n"
    "  {\"class\": \"a\", \"tags\": [\"x\", \"y\"], \"size\": 10, \"correct\": 1,\n"
    "   \"accuracy\": 0.1, \"class_accuracy\": 0.7, \"drop\": 0.6},\n"
    "  {\"class\": \"a\", \"tags\": [\"z\"], \"size\": 5, \"correct\": 1, \"accuracy\": 0.2,\n"
    "   \"class_accuracy\": 0.7, \"drop\": 0.5},\n"
    "  {\"class\": \"b\", \"tags\": [\"x\"], \"size\": 5, \"correct\": 1, \"accuracy\": 0.2,\n"
    "   \"class_accuracy\": 0.7, \"drop\": 0.5},\n"
    "  {\"class\": \"a\", \"tags\": [\"w\"], \"size\": 10, \"correct\": 4, \"accuracy\": 0.4,\n"
    "   \"class_accuracy\": 0.7, \"drop\": 0.3}]}\n";

Test(eval, generalization_hand_built)
{
    prime_tagstore *s;
    prime_outcomes *o;
    hand_store(&s, &o);
    prime_eval *ev = NULL;
    cr_assert_eq(prime_eval_load_memory(hand_json, strlen(hand_json), "h.json", s, o, &ev),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_eval_mode_count(ev), 5);
    cr_assert_eq(prime_eval_test_kind(ev), PRIME_EVAL_TEST_FISHER);
    cr_assert_str_eq(prime_eval_mode_description(ev, 0), "a photo of a x");
    cr_assert_str_eq(prime_eval_mode_description(ev, 1), "a photo of a x y"); /* rebuilt */
    cr_assert_str_eq(prime_eval_mode_tag_name(ev, 1, 1), "y");
    cr_assert_null(prime_eval_mode_tag_name(ev, 1, 2));
    uint64_t size;
    double correct, acc, cacc, drop;
    /* x: images 0-5, 2 correct */
    cr_assert_eq(prime_eval_mode_test(ev, 0, &size, &correct, &acc, &cacc, &drop), PRIME_OK);
    cr_assert_eq(size, 6);
    NEAR(correct, 2.0, 0.0);
    NEAR(acc, 1.0 / 3.0, 1e-15);
    NEAR(cacc, 0.6, 1e-15);
    NEAR(drop, 0.6 - 1.0 / 3.0, 1e-15);
    double lo, hi, p, padj;
    int32_t disc;
    cr_assert_eq(prime_eval_mode_confidence(ev, 0, &lo, &hi, &p, &padj, &disc), PRIME_OK);
    NEAR(p, 0.07142857142857142, 1e-14); /* N 10, K 6, n 6, k 2 */
    double wl, wh;
    prime_stat_wilson(2, 6, PRIME_EVAL_Z95, &wl, &wh);
    NEAR(lo, wl, 0.0);
    NEAR(hi, wh, 0.0);
    cr_assert(isnan(padj) && disc == 0); /* FDR off */
    /* x + y: images 0-3, 1 correct; parents: without x = {y} (0-3), without y = {x} */
    cr_assert_eq(prime_eval_mode_test(ev, 1, &size, &correct, &acc, NULL, &drop), PRIME_OK);
    cr_assert_eq(size, 4);
    NEAR(drop, 0.35, 1e-15);
    cr_assert_eq(prime_eval_mode_parent(ev, 1, 0, &size, &correct, &acc), PRIME_OK);
    cr_assert_eq(size, 4);
    NEAR(acc, 0.25, 0.0);
    cr_assert_eq(prime_eval_mode_parent(ev, 1, 1, &size, &correct, &acc), PRIME_OK);
    cr_assert_eq(size, 6);
    NEAR(correct, 2.0, 0.0);
    cr_assert_eq(prime_eval_mode_parent(ev, 1, 2, &size, NULL, NULL), PRIME_E_INVALID_ARG);
    /* z is absent: size 0, NaN, but the class and the parent (the class) are known */
    cr_assert_eq(prime_eval_mode_test(ev, 2, &size, &correct, &acc, &cacc, &drop), PRIME_OK);
    cr_assert_eq(size, 0);
    cr_assert(isnan(acc) && isnan(drop));
    NEAR(cacc, 0.6, 1e-15);
    cr_assert_eq(prime_eval_mode_confidence(ev, 2, &lo, &hi, &p, NULL, NULL), PRIME_OK);
    cr_assert(isnan(lo) && isnan(hi) && isnan(p));
    cr_assert_eq(prime_eval_mode_parent(ev, 2, 0, &size, &correct, &acc), PRIME_OK);
    cr_assert_eq(size, 10);
    NEAR(acc, 0.6, 1e-15);
    /* class b is absent: everything NaN */
    cr_assert_eq(prime_eval_mode_test(ev, 3, &size, NULL, &acc, &cacc, &drop), PRIME_OK);
    cr_assert_eq(size, 0);
    cr_assert(isnan(acc) && isnan(cacc) && isnan(drop));
    /* w: 2 of 2 correct, drop -0.4; the one-sided p is large */
    cr_assert_eq(prime_eval_mode_test(ev, 4, &size, NULL, &acc, NULL, &drop), PRIME_OK);
    NEAR(drop, -0.4, 1e-15);
    cr_assert_eq(prime_eval_mode_confidence(ev, 4, NULL, NULL, &p, NULL, NULL), PRIME_OK);
    NEAR(p, 1.0, 0.0); /* X <= 2 of n = 2 always */
    /* summary over x, x+y, w: train (0.5 0.6 0.3), test (0.2667 0.35 -0.4) */
    uint64_t measured, still;
    double r, rho;
    cr_assert_eq(prime_eval_summary(ev, &measured, &r, &rho, &still), PRIME_OK);
    cr_assert_eq(measured, 3);
    NEAR(r, 0.9732227014483794, 1e-12);
    NEAR(rho, 1.0, 1e-15);
    cr_assert_eq(still, 1); /* x + y: drop 0.35 >= 0.3, size 4 >= 3 */
    int64_t min_size;
    double min_drop;
    uint64_t cand;
    cr_assert_eq(prime_eval_params(ev, &min_size, &min_drop, &cand), PRIME_OK);
    cr_assert_eq(min_size, 3);
    NEAR(min_drop, 0.3, 0.0);
    cr_assert_eq(cand, 40);
    /* FDR: m defaults to the candidates (40); p-values of x, x+y, w */
    cr_assert_eq(prime_eval_set_fdr(ev, 0.5, 0), PRIME_OK);
    double q;
    uint64_t m, nd;
    cr_assert_eq(prime_eval_fdr_info(ev, &q, &m, &nd), PRIME_OK);
    cr_assert_eq(m, 40);
    double px, pxy, pw;
    prime_eval_mode_confidence(ev, 0, NULL, NULL, &px, NULL, NULL);
    prime_eval_mode_confidence(ev, 1, NULL, NULL, &pxy, NULL, NULL);
    prime_eval_mode_confidence(ev, 4, NULL, NULL, &pw, NULL, NULL);
    double in[3] = {px, pxy, pw}, want[3];
    prime_stat_bh(in, 3, 40, want);
    prime_eval_mode_confidence(ev, 1, NULL, NULL, NULL, &padj, &disc);
    NEAR(padj, want[1], 0.0);
    cr_assert_eq(disc, want[1] <= 0.5);
    cr_assert_eq(prime_eval_set_fdr(ev, 0.5, 2), PRIME_E_RANGE); /* 3 p-values */
    cr_assert_eq(prime_eval_set_fdr(ev, 1.0, 3), PRIME_OK);
    prime_eval_fdr_info(ev, NULL, NULL, &nd);
    cr_assert_eq(nd, 3); /* everything is a discovery at q = 1 */
    cr_assert_eq(prime_eval_set_fdr(ev, 0.0, 0), PRIME_OK);
    prime_eval_mode_confidence(ev, 1, NULL, NULL, NULL, &padj, &disc);
    cr_assert(isnan(padj) && disc == 0);
    cr_assert_eq(prime_eval_set_z(ev, -1), PRIME_E_RANGE);
    /* rendering */
    size_t need = 0;
    cr_assert_eq(prime_eval_render(ev, PRIME_FORMAT_JSON, NULL, 0, &need),
                 PRIME_E_BUFFER_TOO_SMALL);
    char *buf = malloc(need + 1);
    cr_assert_eq(prime_eval_render(ev, PRIME_FORMAT_JSON, buf, need + 1, &need), PRIME_OK);
    cr_assert(strstr(buf, "\"still_failing\": 1") != NULL, "%s", buf);
    cr_assert(strstr(buf, "\"candidates\": 40") != NULL);
    cr_assert(strstr(buf, "{\"without\": \"x\", \"size\": 4, \"correct\": 1, \"accuracy\": 0.25}") !=
              NULL, "%s", buf);
    free(buf);
    cr_assert_eq(prime_eval_render(ev, PRIME_FORMAT_CSV, NULL, 0, &need), PRIME_E_INVALID_ARG);
    prime_eval_destroy(ev);
    prime_eval_destroy(NULL);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(eval, scores_use_mann_whitney)
{
    prime_tagstore *s;
    prime_outcomes *o;
    hand_store(&s, &o);
    cr_assert_eq(prime_outcomes_set(o, 9, 0.9), PRIME_OK); /* not 0/1 any more */
    prime_eval *ev = NULL;
    cr_assert_eq(prime_eval_load_memory(hand_json, strlen(hand_json), "h.json", s, o, &ev),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_eval_test_kind(ev), PRIME_EVAL_TEST_MANN_WHITNEY);
    /* mode x: inside 0 0 0 1 0 1, outside 1 1 1 0.9 */
    double in[] = {0, 0, 0, 1, 0, 1}, out[] = {1, 1, 1, 0.9}, want, p;
    prime_stat_mann_whitney_lower(in, 6, out, 4, &want);
    cr_assert_eq(prime_eval_mode_confidence(ev, 0, NULL, NULL, &p, NULL, NULL), PRIME_OK);
    NEAR(p, want, 0.0);
    cr_assert_lt(p, 0.1);
    prime_eval_destroy(ev);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

/* ---- the result JSON reader: errors ------------------------------------------ */

static void expect_bad(const char *json, prime_status want, const char *fragment)
{
    prime_tagstore *s;
    prime_outcomes *o;
    hand_store(&s, &o);
    prime_eval *ev = (prime_eval *)&ev;
    prime_status st = prime_eval_load_memory(json, strlen(json), "bad.json", s, o, &ev);
    cr_assert_eq(st, want, "%s: status %d, message %s", json, st, prime_last_error());
    cr_assert_null(ev);
    cr_assert(strstr(prime_last_error(), fragment) != NULL, "message '%s' lacks '%s'",
              prime_last_error(), fragment);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(eval, reader_errors)
{
    expect_bad("", PRIME_E_PARSE, "bad.json:1: empty file");
    expect_bad("\n\n[1, 2]", PRIME_E_PARSE, "bad.json:3: a result must be a JSON object");
    expect_bad("{\"failure_modes\": []}", PRIME_E_PARSE, "bad.json:1: result: missing key \"params\"");
    expect_bad("{\"params\": {\"min_size\": 3}, \"failure_modes\": []}", PRIME_E_PARSE,
               "bad.json:1: params: missing key \"min_drop\"");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3}}", PRIME_E_PARSE,
               "missing key \"failure_modes\"");
    expect_bad("{\"params\": {\"min_size\": -3, \"min_drop\": 0.3}, \"failure_modes\": []}",
               PRIME_E_PARSE, "\"min_size\" must be a non-negative integer");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": \"0.3\"}, \"failure_modes\": []}",
               PRIME_E_PARSE, "params: \"min_drop\" must be a number, not a string");
    /* a failure mode without "drop", on the line of its object */
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3},\n \"failure_modes\": [\n"
               "  {\"class\": \"a\", \"tags\": [\"x\"], \"size\": 6, \"correct\": 2,\n"
               "   \"accuracy\": 0.3, \"class_accuracy\": 0.6}]}",
               PRIME_E_PARSE, "bad.json:3: failure_modes[0]: missing key \"drop\"");
    /* wrong types */
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3},\n \"failure_modes\": [\n"
               "  {\"class\": \"a\", \"tags\": \"x\", \"size\": 6, \"correct\": 2,\n"
               "   \"accuracy\": 0.3, \"class_accuracy\": 0.6, \"drop\": 0.3}]}",
               PRIME_E_PARSE, "bad.json:3: failure_modes[0]: \"tags\" must be an array, not a string");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3},\n \"failure_modes\": [\n"
               "  {\"class\": \"a\", \"tags\": [\"x\"], \"size\": \"6\", \"correct\": 2,\n"
               "   \"accuracy\": 0.3, \"class_accuracy\": 0.6, \"drop\": 0.3}]}",
               PRIME_E_PARSE, "bad.json:3: failure_modes[0]: \"size\" must be a number");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3},\n \"failure_modes\": [\n"
               "  {\"class\": \"a\", \"tags\": [\"x\", 7], \"size\": 6, \"correct\": 2,\n"
               "   \"accuracy\": 0.3, \"class_accuracy\": 0.6, \"drop\": 0.3}]}",
               PRIME_E_PARSE, "bad.json:3: failure_modes[0]: tag 1 must be a string");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3},\n \"failure_modes\": [\n"
               "  {\"class\": \"a\", \"tags\": [], \"size\": 6, \"correct\": 2,\n"
               "   \"accuracy\": 0.3, \"class_accuracy\": 0.6, \"drop\": 0.3}]}",
               PRIME_E_PARSE, "a mode has 1 to 16 tags");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3},\n \"failure_modes\": [\n"
               "  {\"class\": \"a\", \"tags\": [\"x\", \"x\"], \"size\": 6, \"correct\": 2,\n"
               "   \"accuracy\": 0.3, \"class_accuracy\": 0.6, \"drop\": 0.3}]}",
               PRIME_E_PARSE, "tag \"x\" is given twice");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3},\n \"failure_modes\": [\n"
               "  {\"class\": \"a\", \"tags\": [\"x\"], \"size\": 6, \"correct\": 9,\n"
               "   \"accuracy\": 0.3, \"class_accuracy\": 0.6, \"drop\": 0.3}]}",
               PRIME_E_PARSE, "\"correct\" = 9 is outside [0, 6]");
    /* truncated, and syntax errors */
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3},\n \"failure_modes\": [\n  {\"cla",
               PRIME_E_PARSE, "bad.json:3: unterminated string (truncated?)");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3},\n \"failure_modes\": [\n",
               PRIME_E_PARSE, "bad.json:3: expected a value, found the end of the file");
    expect_bad("{\"params\": {\"min_size\": 3 \"min_drop\": 0.3}}", PRIME_E_PARSE,
               "bad.json:1: expected ',' or '}' in an object, found '\"'");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 0.3}, \"failure_modes\": []} x",
               PRIME_E_PARSE, "expected the end of the file");
    expect_bad("{\"a\": 1.}", PRIME_E_PARSE, "bad.json:1: invalid number, found '1'");
    expect_bad("{\"a\": \"\\ud800\"}", PRIME_E_PARSE, "lone high surrogate");
    expect_bad("{\"a\": \"\xff\"}", PRIME_E_PARSE, "invalid UTF-8");
    expect_bad("{\"params\": {\"min_size\": 3, \"min_drop\": 1e999}, \"failure_modes\": []}",
               PRIME_E_PARSE, "bad.json:1: number '1e999' out of range");
    /* deep nesting is refused, not a stack overflow */
    char deep[400] = "{\"a\": ";
    memset(deep + 6, '[', sizeof deep - 7);
    deep[sizeof deep - 1] = '\0';
    expect_bad(deep, PRIME_E_PARSE, "nesting deeper than 64 levels");
    expect_bad(deep + 6, PRIME_E_PARSE, "a result must be a JSON object, not an array");
}

Test(eval, load_errors_of_arguments_and_files)
{
    prime_tagstore *s;
    prime_outcomes *o;
    hand_store(&s, &o);
    prime_eval *ev = NULL;
    cr_assert_eq(prime_eval_load("/nonexistent/r.json", s, o, &ev), PRIME_E_IO);
    cr_assert(strstr(prime_last_error(), "/nonexistent/r.json") != NULL);
    cr_assert_eq(prime_eval_load_memory(hand_json, strlen(hand_json), NULL, s, NULL, &ev),
                 PRIME_E_INVALID_ARG);
    cr_assert_null(ev);
    prime_outcomes *few;
    cr_assert_eq(prime_outcomes_create(3, &few), PRIME_OK);
    cr_assert_eq(prime_eval_load_memory(hand_json, strlen(hand_json), NULL, s, few, &ev),
                 PRIME_E_MISMATCH);
    prime_outcomes_destroy(few);
    cr_assert_eq(prime_eval_create(NULL, s, o, &ev), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_eval_mode_count(NULL), 0);
    cr_assert_null(prime_eval_mode_class_name(NULL, 0));
    cr_assert_eq(prime_eval_mode_train(NULL, 0, NULL, NULL, NULL, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

/* ---- the demo data: a search result on its own split and on another --------- */

static void load_demo(prime_tagstore **s, prime_outcomes **o)
{
    const char *root = getenv("PRIME_SOURCE_ROOT");
    char tags[1024], outc[1024];
    snprintf(tags, sizeof tags, "%s/data/demo/tags.csv", root ? root : "..");
    snprintf(outc, sizeof outc, "%s/data/demo/outcomes.csv", root ? root : "..");
    cr_assert_eq(prime_tagstore_load(tags, s, NULL), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_outcomes_load(outc, *s, o), PRIME_OK, "%s", prime_last_error());
}

/* Split a store into even and odd images (by index). */
static void split(const prime_tagstore *s, const prime_outcomes *o, int parity,
                  prime_tagstore **out_s, prime_outcomes **out_o)
{
    cr_assert_eq(prime_tagstore_create(out_s), PRIME_OK);
    uint32_t n = prime_tagstore_image_count(s), k = 0;
    double *v = malloc(n * sizeof *v);
    for (uint32_t i = (uint32_t)parity; i < n; i += 2) {
        uint32_t ids[64], nt;
        cr_assert_eq(prime_tagstore_image_tags(s, i, ids, 64, &nt), PRIME_OK);
        const char *names[64];
        for (uint32_t j = 0; j < nt; j++)
            names[j] = prime_tagstore_tag_name(s, ids[j]);
        cr_assert_eq(prime_tagstore_add_image_names(
                         *out_s, prime_tagstore_image_name(s, i),
                         prime_tagstore_class_name(s, prime_tagstore_image_class(s, i)), names, nt,
                         NULL),
                     PRIME_OK);
        prime_outcomes_get(o, i, &v[k++]);
    }
    cr_assert_eq(prime_tagstore_freeze(*out_s), PRIME_OK);
    cr_assert_eq(prime_outcomes_create(k, out_o), PRIME_OK);
    cr_assert_eq(prime_outcomes_set_array(*out_o, 0, v, k), PRIME_OK);
    free(v);
}

Test(eval, own_split_reproduces_the_search, .timeout = 60)
{
    prime_tagstore *s;
    prime_outcomes *o;
    load_demo(&s, &o);
    prime_config *cfg;
    prime_config_create(&cfg);
    prime_config_set_int(cfg, PRIME_PARAM_THREADS, 1);
    prime_result *r1, *r4;
    cr_assert_eq(prime_search(s, o, cfg, NULL, NULL, &r1), PRIME_OK);
    prime_config_set_int(cfg, PRIME_PARAM_THREADS, 4);
    cr_assert_eq(prime_search(s, o, cfg, NULL, NULL, &r4), PRIME_OK);
    /* the candidate count: more than the modes, the same for any thread count */
    uint64_t cand = prime_result_candidate_count(r1);
    cr_assert_eq(cand, prime_result_candidate_count(r4));
    cr_assert_gt(cand, prime_result_mode_count(r1));
    cr_assert_eq(prime_result_candidate_count(NULL), 0);
    cr_assert_eq(prime_result_mode_count(r1), 10); /* data/demo/README.md */

    prime_eval *ev;
    cr_assert_eq(prime_eval_create(r1, s, o, &ev), PRIME_OK, "%s", prime_last_error());
    uint64_t n = prime_eval_mode_count(ev);
    cr_assert_eq(n, 10);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t ts, es;
        double tc, ta, tca, td, ec, ea, eca, ed;
        prime_eval_mode_train(ev, i, &ts, &tc, &ta, &tca, &td);
        prime_eval_mode_test(ev, i, &es, &ec, &ea, &eca, &ed);
        cr_assert_eq(ts, es);
        NEAR(tc, ec, 0.0);
        NEAR(td, ed, 0.0);
        cr_assert_str_eq(prime_eval_mode_description(ev, i), prime_result_mode_description(r1, i));
        double p;
        prime_eval_mode_confidence(ev, i, NULL, NULL, &p, NULL, NULL);
        cr_assert_lt(p, 0.01, "mode %llu: p = %g", (unsigned long long)i, p);
        /* the parents are one tag smaller and (necessity) more accurate */
        for (uint32_t j = 0; j < prime_eval_mode_tag_count(ev, i); j++) {
            double pa;
            uint64_t ps;
            prime_eval_mode_parent(ev, i, j, &ps, NULL, &pa);
            cr_assert_geq(ps, es);
            cr_assert_geq(pa, ea - 1e-9);
        }
    }
    uint64_t measured, still, m, nd;
    double r, rho;
    prime_eval_summary(ev, &measured, &r, &rho, &still);
    cr_assert_eq(measured, 10);
    NEAR(r, 1.0, 1e-12);
    NEAR(rho, 1.0, 1e-12);
    cr_assert_eq(still, 10);
    /* the honest m: the candidate count */
    cr_assert_eq(prime_eval_set_fdr(ev, 0.05, 0), PRIME_OK);
    prime_eval_fdr_info(ev, NULL, &m, &nd);
    cr_assert_eq(m, cand);
    cr_assert_gt(nd, 5);

    /* the JSON of the result reads back into the same evaluation */
    size_t need;
    prime_result_render(r1, PRIME_FORMAT_JSON, NULL, 0, &need);
    char *json = malloc(need + 1);
    cr_assert_eq(prime_result_render(r1, PRIME_FORMAT_JSON, json, need + 1, &need), PRIME_OK);
    prime_eval *ev2;
    cr_assert_eq(prime_eval_load_memory(json, need, "r.json", s, o, &ev2), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_eval_mode_count(ev2), 10);
    for (uint64_t i = 0; i < n; i++) {
        cr_assert_str_eq(prime_eval_mode_class_name(ev2, i), prime_eval_mode_class_name(ev, i));
        cr_assert_str_eq(prime_eval_mode_description(ev2, i), prime_eval_mode_description(ev, i));
        double d1, d2, p1, p2;
        prime_eval_mode_train(ev, i, NULL, NULL, NULL, NULL, &d1);
        prime_eval_mode_train(ev2, i, NULL, NULL, NULL, NULL, &d2);
        NEAR(d1, d2, 0.0); /* shortest round-trip text */
        prime_eval_mode_confidence(ev, i, NULL, NULL, &p1, NULL, NULL);
        prime_eval_mode_confidence(ev2, i, NULL, NULL, &p2, NULL, NULL);
        NEAR(p1, p2, 0.0);
    }
    free(json);
    prime_eval_destroy(ev2);
    prime_eval_destroy(ev);
    prime_result_destroy(r1);
    prime_result_destroy(r4);
    prime_config_destroy(cfg);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(eval, train_test_split_of_the_demo, .timeout = 60)
{
    prime_tagstore *s, *tr, *te;
    prime_outcomes *o, *tro, *teo;
    load_demo(&s, &o);
    split(s, o, 0, &tr, &tro);
    split(s, o, 1, &te, &teo);
    prime_config *cfg;
    prime_config_create(&cfg);
    prime_config_set_int(cfg, PRIME_PARAM_MIN_SIZE, 15);
    prime_result *r;
    cr_assert_eq(prime_search(tr, tro, cfg, NULL, NULL, &r), PRIME_OK);
    prime_eval *ev;
    cr_assert_eq(prime_eval_create(r, te, teo, &ev), PRIME_OK, "%s", prime_last_error());
    uint64_t n = prime_eval_mode_count(ev), measured, still;
    double pr, sp;
    cr_assert_eq(prime_eval_summary(ev, &measured, &pr, &sp, &still), PRIME_OK);
    cr_assert_gt(n, 10);
    cr_assert_eq(measured, n); /* every class and tag exists on the other half */
    /* the planted modes generalize, the chance ones do not: a positive
       correlation; each planted single-tag mode is still a failure mode */
    cr_assert_gt(pr, 0.2, "pearson %g", pr);
    cr_assert_gt(sp, 0.2, "spearman %g", sp);
    cr_assert_geq(still, 3);
    bool seen_crab = false;
    for (uint64_t i = 0; i < n; i++) {
        if (strcmp(prime_eval_mode_class_name(ev, i), "crab") == 0 &&
            prime_eval_mode_tag_count(ev, i) == 1 &&
            strcmp(prime_eval_mode_tag_name(ev, i, 0), "glass house") == 0) {
            /* check the test numbers against a query of the test half */
            uint32_t cls, tag;
            cr_assert_eq(prime_tagstore_find_class(te, "crab", &cls), PRIME_OK);
            cr_assert_eq(prime_tagstore_find_tag(te, "glass house", &tag), PRIME_OK);
            uint64_t qs;
            double qc, qa, qca, drop;
            prime_query(te, teo, cls, &tag, 1, &qs, &qc, &qa, &qca);
            uint64_t es;
            double ec;
            prime_eval_mode_test(ev, i, &es, &ec, NULL, NULL, &drop);
            cr_assert_eq(es, qs);
            NEAR(ec, qc, 0.0);
            NEAR(drop, qca - qa, 1e-15);
            cr_assert_gt(drop, 0.3);
            seen_crab = true;
        }
    }
    cr_assert(seen_crab);
    prime_eval_destroy(ev);
    prime_result_destroy(r);
    prime_config_destroy(cfg);
    prime_outcomes_destroy(o);
    prime_outcomes_destroy(tro);
    prime_outcomes_destroy(teo);
    prime_tagstore_destroy(s);
    prime_tagstore_destroy(tr);
    prime_tagstore_destroy(te);
}

Test(eval, whole_dataset_result)
{
    prime_tagstore *s;
    prime_outcomes *o;
    hand_store(&s, &o);
    prime_config *cfg;
    prime_config_create(&cfg);
    prime_config_set_int(cfg, PRIME_PARAM_WHOLE_DATASET, 1);
    prime_config_set_int(cfg, PRIME_PARAM_MIN_SIZE, 3);
    prime_config_set_double(cfg, PRIME_PARAM_MIN_DROP, 0.2);
    prime_result *r;
    cr_assert_eq(prime_search(s, o, cfg, NULL, NULL, &r), PRIME_OK);
    cr_assert_gt(prime_result_mode_count(r), 0);
    prime_eval *ev;
    cr_assert_eq(prime_eval_create(r, s, o, &ev), PRIME_OK, "%s", prime_last_error());
    for (uint64_t i = 0; i < prime_eval_mode_count(ev); i++) {
        uint64_t ts, es;
        prime_eval_mode_train(ev, i, &ts, NULL, NULL, NULL, NULL);
        prime_eval_mode_test(ev, i, &es, NULL, NULL, NULL, NULL);
        cr_assert_eq(ts, es);
    }
    prime_eval_destroy(ev);
    prime_result_destroy(r);
    prime_config_destroy(cfg);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

/* Every allocation of the reader and the evaluation may fail: a clean
 * PRIME_E_NOMEM, no handle, no leak (valgrind), then success. */
Test(eval, allocation_failures)
{
    prime_tagstore *s;
    prime_outcomes *o;
    hand_store(&s, &o);
    long k;
    for (k = 1; k < 10000; k++) {
        prime__alloc_fail_after(k);
        prime_eval *ev = (prime_eval *)&ev;
        prime_status st = prime_eval_load_memory(hand_json, strlen(hand_json), "h.json", s, o,
                                                 &ev);
        size_t need = 0;
        prime_status st2 = st == PRIME_OK ? prime_eval_set_fdr(ev, 0.1, 0) : st;
        prime_status st3 = st2 == PRIME_OK ? prime_eval_render(ev, PRIME_FORMAT_JSON, NULL, 0,
                                                               &need)
                                           : st2;
        long failed = prime__alloc_failed_count();
        prime__alloc_fail_after(0);
        if (st != PRIME_OK) {
            cr_assert_eq(st, PRIME_E_NOMEM, "k=%ld: %d %s", k, st, prime_last_error());
            cr_assert_null(ev);
            continue;
        }
        cr_assert(st2 == PRIME_OK || st2 == PRIME_E_NOMEM);
        cr_assert(st3 == PRIME_E_BUFFER_TOO_SMALL || st3 == PRIME_E_NOMEM);
        prime_eval_destroy(ev);
        if (failed == 0)
            break;
    }
    cr_assert_lt(k, 10000);
    cr_assert_gt(k, 5);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}
