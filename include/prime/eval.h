/**
 * \file prime/eval.h
 * \brief Evaluation of failure modes: generalization to another split and
 *        statistical confidence.
 *
 * PRIME finds failure modes on one split of a data set (train). This header
 * re-measures them on another tag store and outcomes (test), the
 * "generalization" evaluation of the paper (docs/method.md, section 2), and
 * adds what the paper does not: how sure one can be that each mode is real.
 *
 * A prime_eval is built from the modes of a result (a prime_result from
 * prime_search, or a result JSON file written by `prime search`) and a
 * frozen tag store with its outcomes (the split it is evaluated on). Classes
 * and tags are matched **by name**: a mode whose class, or one of whose
 * tags, the store does not hold gets test size 0 and accuracy NaN. For
 * every mode the handle holds
 *
 *  - its train statistics (size, correct, accuracy, class accuracy, drop),
 *    as the result gave them;
 *  - its test statistics: size, correct (sum of outcomes), accuracy, class
 *    accuracy and drop = class accuracy - accuracy, measured with
 *    prime_query on the store;
 *  - a Wilson score interval of its test accuracy (prime_stat_wilson) at
 *    the handle's z (1.959963984540054, i.e. 95 %, unless set);
 *  - a one-sided p-value for "the accuracy inside the mode is lower than in
 *    the rest of its class": when every outcome of the store is 0 or 1, the
 *    exact Fisher / hypergeometric lower tail (prime_stat_hypergeom_lower);
 *    otherwise (scores) the one-sided Mann-Whitney U test of the mode's
 *    outcomes against those of the rest of the class, normal approximation
 *    with tie and continuity correction (prime_stat_mann_whitney_lower);
 *  - Benjamini-Hochberg adjusted p-values and decisions at level q over the
 *    modes (prime_eval_set_fdr), with m, the number of hypotheses, given by
 *    the caller: the honest m is the number of candidate tag sets the search
 *    looked at (prime_result_candidate_count), not the number of modes it
 *    kept;
 *  - its one-tag-smaller parents (the mode without tag j; for a one-tag mode
 *    the whole class) with their size and accuracy on the store, so that a
 *    user sees whether a broad group is hard or only the combination is.
 *
 * Over all modes with test size >= 1 the handle gives the Pearson and
 * Spearman (average ranks for ties) correlations of train drop against
 * test drop, and the number of modes that still pass the result's min_drop
 * (with the search's 1e-9 of slack) and min_size on the store.
 *
 * To see the confidence of the modes on the split they were found on,
 * evaluate a result on its own tag store and outcomes.
 *
 * Statuses of the result JSON reader (prime_eval_load, prime_eval_load_memory):
 *  - PRIME_E_IO: the file cannot be opened or read;
 *  - PRIME_E_PARSE: the text is not JSON, is truncated, or does not follow
 *    the result schema of docs/formats.md (a missing key, a value of the
 *    wrong type); the message is "NAME:LINE: problem".
 *
 * The same conventions as prime/prime.h apply (prime_status results,
 * prime_last_error() messages, destroy accepts NULL, no structs by value).
 *
 * Thread safety: an evaluation holds copies of everything it reports (it
 * does not keep the store, outcomes or result). It may be read by any
 * number of threads at once while no thread calls a setter on it.
 */
#ifndef PRIME_EVAL_H
#define PRIME_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "prime/prime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** \addtogroup evaluation
 *  @{ */

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

/** z of a two-sided 95 % normal interval (the default of an evaluation). */
#define PRIME_EVAL_Z95 1.959963984540054

/** Wilson score interval of a proportion: `successes` out of n (successes
 *  may be a sum of scores in [0, n]), at normal quantile z > 0
 *  (PRIME_EVAL_Z95 for 95 %). With p = successes / n:
 *  centre = (p + z^2/(2n)) / (1 + z^2/n), half width =
 *  z / (1 + z^2/n) * sqrt(p (1 - p) / n + z^2 / (4 n^2)). n = 0 gives NaN
 *  for both ends. PRIME_E_RANGE if successes is not in [0, n] or z is not
 *  a finite positive number; lo_out and hi_out may be NULL. */
PRIME_API prime_status prime_stat_wilson(double successes, uint64_t n, double z,
                                         double *lo_out, double *hi_out);

/** Lower tail of the hypergeometric distribution, P(X <= k), where X is the
 *  number of marked items in a sample of n drawn without replacement from N
 *  items of which K are marked: the one-sided Fisher exact p-value for
 *  "the sample holds fewer marked items than chance" (for a mode: N = class
 *  size, K = correct images of the class, n = mode size, k = its correct
 *  images). Computed exactly (no approximation) in log space with lgamma:
 *  one term from lgamma, the others by the ratio of successive terms,
 *  summing whichever tail is the smaller. PRIME_E_RANGE if K > N or n > N;
 *  k outside the support gives 0 or 1. */
PRIME_API prime_status prime_stat_hypergeom_lower(uint64_t N, uint64_t K, uint64_t n,
                                                  uint64_t k, double *p_out);

/** One-sided Mann-Whitney U (Wilcoxon rank-sum) test that the values x[0..nx)
 *  tend to be lower than y[0..ny): U = (rank sum of x) - nx (nx + 1) / 2 with
 *  average ranks for ties, z = (U - nx ny / 2 + 1/2) / sigma with
 *  sigma^2 = nx ny / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1))) (n = nx + ny,
 *  t the size of each group of ties), p = Phi(z): the normal approximation
 *  with tie and continuity correction (as R's wilcox.test(exact = FALSE,
 *  alternative = "less")). p = 1 when nx or ny is 0 or every value is
 *  tied. PRIME_E_INVALID_ARG for a NaN value or a NULL array with a
 *  non-zero count. */
PRIME_API prime_status prime_stat_mann_whitney_lower(const double *x, uint64_t nx,
                                                     const double *y, uint64_t ny,
                                                     double *p_out);

/** Pearson correlation of x[0..n) and y[0..n); NaN when n < 2 or either
 *  has no variance (or holds a NaN). PRIME_E_INVALID_ARG for a NULL r_out,
 *  or a NULL x or y with n > 0. */
PRIME_API prime_status prime_stat_pearson(const double *x, const double *y, uint64_t n,
                                          double *r_out);

/** Spearman rank correlation: the Pearson correlation of the ranks, ties
 *  getting their average rank; NaN when n < 2, either is constant or
 *  either holds a NaN (a NaN has no rank), as prime_stat_pearson.
 *  PRIME_E_INVALID_ARG as prime_stat_pearson; PRIME_E_NOMEM
 *  (it ranks copies of the values). */
PRIME_API prime_status prime_stat_spearman(const double *x, const double *y, uint64_t n,
                                           double *r_out);

/** Benjamini-Hochberg adjusted p-values of p[0..n) out of m hypotheses
 *  (m >= n; the n given are the only ones that can be rejected, the m - n
 *  others count as untested nulls): with p sorted ascending,
 *  adj(i) = min over j >= i of min(1, m p(j) / j), written back in the
 *  input order; rejecting every hypothesis with adj <= q controls the false
 *  discovery rate at q. A NaN p stays NaN and takes no part: n below
 *  counts the p-values that are not NaN. m = 0 means m = n. PRIME_E_RANGE
 *  for m < n or a p outside [0, 1]. */
PRIME_API prime_status prime_stat_bh(const double *p, uint64_t n, uint64_t m,
                                     double *adjusted_out);

/* ------------------------------------------------------------------------ */
/* Evaluation handle                                                         */
/* ------------------------------------------------------------------------ */

/** The modes of one result measured on a tag store and outcomes. */
typedef struct prime_eval prime_eval;

/** Kinds of per-mode test (prime_eval_test_kind). */
enum prime_eval_test {
    /** 0/1 outcomes: Fisher exact / hypergeometric lower tail. */
    PRIME_EVAL_TEST_FISHER = 1,
    /** Scores: one-sided Mann-Whitney U, normal approximation. */
    PRIME_EVAL_TEST_MANN_WHITNEY = 2
};

/** Evaluate the failure modes of `result` on a frozen store and its
 *  outcomes (one set value per image). The result may come from a search
 *  of another store: classes and tags are matched by name. The candidate
 *  count of the result becomes the evaluation's. */
PRIME_API prime_status prime_eval_create(const prime_result *result,
                                         const prime_tagstore *store,
                                         const prime_outcomes *outcomes,
                                         prime_eval **out);

/** The same from a result JSON file written by `prime search --format json`
 *  (docs/formats.md, "Result (output)"); only "params" (min_size,
 *  min_drop, whole_dataset) and "failure_modes" (class, tags, size,
 *  correct, accuracy, class_accuracy, drop) are required; an optional
 *  top-level "candidates" integer gives the candidate count. Errors name
 *  the file and line (PRIME_E_PARSE, PRIME_E_IO). */
PRIME_API prime_status prime_eval_load(const char *result_path,
                                       const prime_tagstore *store,
                                       const prime_outcomes *outcomes,
                                       prime_eval **out);

/** Same as prime_eval_load from a memory buffer; `name` is the file name
 *  used in messages (may be NULL: "<memory>"). */
PRIME_API prime_status prime_eval_load_memory(const void *data, size_t size,
                                              const char *name,
                                              const prime_tagstore *store,
                                              const prime_outcomes *outcomes,
                                              prime_eval **out);

/** Destroy an evaluation; NULL is fine. */
PRIME_API void prime_eval_destroy(prime_eval *eval);

/** Number of modes (those of the result, in its order; 0 for NULL). */
PRIME_API uint64_t prime_eval_mode_count(const prime_eval *eval);

/** The kind of test behind the p-values: PRIME_EVAL_TEST_FISHER when every
 *  outcome of the store is 0 or 1, else PRIME_EVAL_TEST_MANN_WHITNEY (0 for
 *  NULL). */
PRIME_API int32_t prime_eval_test_kind(const prime_eval *eval);

/** Class name of mode i, or NULL if out of range. */
PRIME_API const char *prime_eval_mode_class_name(const prime_eval *eval, uint64_t i);

/** Number of tags of mode i (0 if out of range). */
PRIME_API uint32_t prime_eval_mode_tag_count(const prime_eval *eval, uint64_t i);

/** Name of tag j of mode i (byte order, as in the result), or NULL. */
PRIME_API const char *prime_eval_mode_tag_name(const prime_eval *eval, uint64_t i,
                                               uint32_t j);

/** Description of mode i ("a photo of <class> <tag1> ..."), or NULL. */
PRIME_API const char *prime_eval_mode_description(const prime_eval *eval, uint64_t i);

/** Train statistics of mode i, as the result gave them. Any out pointer may
 *  be NULL. */
PRIME_API prime_status prime_eval_mode_train(const prime_eval *eval, uint64_t i,
                                             uint64_t *size_out, double *correct_out,
                                             double *accuracy_out,
                                             double *class_accuracy_out,
                                             double *drop_out);

/** Statistics of mode i on the evaluated store: size, sum of outcomes,
 *  accuracy (NaN when size is 0), class accuracy (NaN when the class is
 *  absent) and drop (NaN when either is). Any out pointer may be NULL. */
PRIME_API prime_status prime_eval_mode_test(const prime_eval *eval, uint64_t i,
                                            uint64_t *size_out, double *correct_out,
                                            double *accuracy_out,
                                            double *class_accuracy_out,
                                            double *drop_out);

/** Confidence of mode i on the evaluated store: the Wilson interval of its
 *  accuracy at the evaluation's z, the one-sided p-value (see the top of
 *  this header; 1 when the mode is its whole class; NaN when its size is 0),
 *  the Benjamini-Hochberg adjusted p-value and decision (1 = a discovery
 *  at level q) of the evaluation's FDR setting (NaN and 0 while it is
 *  off). Any out pointer may be NULL. */
PRIME_API prime_status prime_eval_mode_confidence(const prime_eval *eval, uint64_t i,
                                                  double *lo_out, double *hi_out,
                                                  double *p_value_out,
                                                  double *p_adjusted_out,
                                                  int32_t *discovery_out);

/** Parent j (0 <= j < tag count) of mode i: the mode without its tag j
 *  (for a one-tag mode, the whole class), measured on the evaluated store:
 *  size, sum of outcomes and accuracy (NaN when size is 0). Any out
 *  pointer may be NULL. */
PRIME_API prime_status prime_eval_mode_parent(const prime_eval *eval, uint64_t i,
                                              uint32_t j, uint64_t *size_out,
                                              double *correct_out,
                                              double *accuracy_out);

/** Generalization summary over the modes with test size >= 1: their number,
 *  the Pearson and Spearman correlations of train drop with test drop (NaN
 *  below two modes or without variance), and how many still pass the
 *  result's min_drop (drop >= min_drop - 1e-9) with test size >= min_size.
 *  Any out pointer may be NULL. */
PRIME_API prime_status prime_eval_summary(const prime_eval *eval, uint64_t *measured_out,
                                          double *pearson_out, double *spearman_out,
                                          uint64_t *still_failing_out);

/** The result's min_size and min_drop, and the candidate count (0 when the
 *  result did not carry one). Any out pointer may be NULL. */
PRIME_API prime_status prime_eval_params(const prime_eval *eval, int64_t *min_size_out,
                                         double *min_drop_out, uint64_t *candidates_out);

/** Set the normal quantile of the Wilson intervals (finite, > 0; default
 *  PRIME_EVAL_Z95): PRIME_E_RANGE for another value (NaN included), the
 *  evaluation then unchanged. Not while another thread reads it. */
PRIME_API prime_status prime_eval_set_z(prime_eval *eval, double z);

/** Turn on Benjamini-Hochberg control of the false discovery rate at level
 *  q (0 < q <= 1; q = 0 turns it off) over the p-values of the modes (those
 *  with test size >= 1), counting m hypotheses. m = 0 means the candidate
 *  count when the result carried one, else the number of p-values (which
 *  overstates the evidence: the search looked at many more sets than it
 *  kept). PRIME_E_RANGE for q outside [0, 1] or m below the number of
 *  p-values; PRIME_E_NOMEM; on failure the evaluation is unchanged. Not
 *  while another thread reads it. */
PRIME_API prime_status prime_eval_set_fdr(prime_eval *eval, double q, uint64_t m);

/** The FDR setting in force: q (0 = off), the m used, and the number of
 *  discoveries. Any out pointer may be NULL. */
PRIME_API prime_status prime_eval_fdr_info(const prime_eval *eval, double *q_out,
                                           uint64_t *m_out, uint64_t *discoveries_out);

/** Render an evaluation as JSON (docs/formats.md, "Evaluation (output)") or
 *  a text table (PRIME_FORMAT_JSON or PRIME_FORMAT_TEXT) into buf.
 *  *needed_out gets the length without the NUL; PRIME_E_BUFFER_TOO_SMALL
 *  if cap <= that length (call with buf = NULL, cap = 0 to ask). */
PRIME_API prime_status prime_eval_render(const prime_eval *eval, int32_t format, char *buf,
                                         size_t cap, size_t *needed_out);

/** Write an evaluation to a file (through a temporary file and a rename: a
 *  failure leaves no partial file). */
PRIME_API prime_status prime_eval_write(const prime_eval *eval, int32_t format,
                                        const char *path);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PRIME_EVAL_H */
