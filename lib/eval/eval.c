/* Evaluation of failure modes (include/prime/eval.h): generalization of a
 * result to another tag store and outcomes, matched by name, and the
 * statistical confidence of each mode (Wilson interval, Fisher exact or
 * Mann-Whitney p-value, Benjamini-Hochberg).
 *
 * The result JSON reader is a small DOM parser (nodes in one growable
 * array, decoded strings in one buffer, a depth limit of 64 so that no input
 * can exhaust the C stack) followed by a walk over the schema of
 * docs/formats.md; every message names the file and the line. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"
#include "prime/eval.h"

/* ======================================================================== */
/* Statistics                                                                */
/* ======================================================================== */

prime_status prime_stat_wilson(double successes, uint64_t n, double z, double *lo_out,
                               double *hi_out)
{
    if (!(z > 0.0) || !isfinite(z))
        return prime__error(PRIME_E_RANGE, "prime_stat_wilson: z must be a positive number");
    if (!(successes >= 0.0) || successes > (double)n)
        return prime__error(PRIME_E_RANGE,
                            "prime_stat_wilson: successes %g outside [0, %" PRIu64 "]",
                            successes, n);
    double lo = NAN, hi = NAN;
    if (n > 0) {
        double nn = (double)n, p = successes / nn, z2 = z * z;
        double den = 1.0 + z2 / nn;
        double centre = (p + z2 / (2.0 * nn)) / den;
        double half = z / den * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn));
        lo = centre - half;
        hi = centre + half;
        if (lo < 0.0)
            lo = 0.0;
        if (hi > 1.0)
            hi = 1.0;
    }
    if (lo_out != NULL)
        *lo_out = lo;
    if (hi_out != NULL)
        *hi_out = hi;
    return PRIME_OK;
}

static double log_choose(double n, double k)
{
    return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

/* log P(X = x) of the hypergeometric distribution (x in the support). */
static double hyper_log_pmf(uint64_t N, uint64_t K, uint64_t n, uint64_t x)
{
    return log_choose((double)K, (double)x) + log_choose((double)(N - K), (double)(n - x)) -
           log_choose((double)N, (double)n);
}

prime_status prime_stat_hypergeom_lower(uint64_t N, uint64_t K, uint64_t n, uint64_t k,
                                        double *p_out)
{
    if (p_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_stat_hypergeom_lower: p_out is NULL");
    if (K > N || n > N)
        return prime__error(PRIME_E_RANGE,
                            "prime_stat_hypergeom_lower: need K <= N and n <= N (N=%" PRIu64
                            ", K=%" PRIu64 ", n=%" PRIu64 ")",
                            N, K, n);
    uint64_t lo = n > N - K ? n - (N - K) : 0;
    uint64_t hi = n < K ? n : K;
    if (k < lo) {
        *p_out = 0.0;
        return PRIME_OK;
    }
    if (k >= hi) {
        *p_out = 1.0;
        return PRIME_OK;
    }
    /* The pmf rises up to its mode and falls after it: sum the tail that
       lies away from the mode, starting at its largest term, by the ratio
       of successive terms, until the terms no longer count. */
    double mode = floor(((double)n + 1.0) * ((double)K + 1.0) / ((double)N + 2.0));
    double nk = (double)(N - K);
    if ((double)k < mode) {
        double t = 1.0, total = 1.0;
        for (uint64_t x = k; x > lo; x--) {
            /* pmf(x-1) / pmf(x) */
            double r = (double)x * (nk - (double)(n - x)) /
                       (((double)K - (double)x + 1.0) * ((double)(n - x) + 1.0));
            t *= r;
            total += t;
            if (t < total * 1e-17)
                break;
        }
        double p = exp(hyper_log_pmf(N, K, n, k)) * total;
        *p_out = p > 1.0 ? 1.0 : p;
    } else {
        double t = 1.0, total = 1.0;
        for (uint64_t x = k + 1; x < hi; x++) {
            /* pmf(x+1) / pmf(x) */
            double r = ((double)K - (double)x) * ((double)(n - x)) /
                       (((double)x + 1.0) * (nk - (double)(n - x) + 1.0));
            t *= r;
            total += t;
            if (t < total * 1e-17)
                break;
        }
        double p = 1.0 - exp(hyper_log_pmf(N, K, n, k + 1)) * total;
        *p_out = p < 0.0 ? 0.0 : p;
    }
    return PRIME_OK;
}

typedef struct {
    double v;
    uint64_t i;
} vi;

static int cmp_vi(const void *a, const void *b)
{
    const vi *x = a, *y = b;
    if (x->v < y->v)
        return -1;
    if (x->v > y->v)
        return 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Average ranks (1-based) of v[0..n) into rank[0..n); the tie correction
 * sum(t^3 - t) into *ties (may be NULL). false when out of memory. */
static bool average_ranks(const double *v, uint64_t n, double *rank, double *ties)
{
    vi *s = prime__malloc((n ? (size_t)n : 1) * sizeof *s);
    if (s == NULL)
        return false;
    for (uint64_t i = 0; i < n; i++) {
        s[i].v = v[i];
        s[i].i = i;
    }
    qsort(s, (size_t)n, sizeof *s, cmp_vi);
    double tie = 0.0;
    for (uint64_t a = 0; a < n;) {
        uint64_t b = a + 1;
        while (b < n && s[b].v == s[a].v)
            b++;
        double r = ((double)a + 1.0 + (double)b) / 2.0; /* mean of a+1 .. b */
        for (uint64_t j = a; j < b; j++)
            rank[s[j].i] = r;
        double t = (double)(b - a);
        tie += t * t * t - t;
        a = b;
    }
    prime__free(s);
    if (ties != NULL)
        *ties = tie;
    return true;
}

prime_status prime_stat_mann_whitney_lower(const double *x, uint64_t nx, const double *y,
                                           uint64_t ny, double *p_out)
{
    if (p_out == NULL || (x == NULL && nx > 0) || (y == NULL && ny > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_stat_mann_whitney_lower: NULL argument");
    for (uint64_t i = 0; i < nx; i++)
        if (isnan(x[i]))
            return prime__error(PRIME_E_INVALID_ARG, "prime_stat_mann_whitney_lower: x[%" PRIu64
                                "] is NaN", i);
    for (uint64_t i = 0; i < ny; i++)
        if (isnan(y[i]))
            return prime__error(PRIME_E_INVALID_ARG, "prime_stat_mann_whitney_lower: y[%" PRIu64
                                "] is NaN", i);
    if (nx == 0 || ny == 0) {
        *p_out = 1.0;
        return PRIME_OK;
    }
    uint64_t n = nx + ny;
    double *all = prime__malloc((size_t)n * sizeof *all);
    double *rank = prime__malloc((size_t)n * sizeof *rank);
    double ties = 0.0;
    if (all == NULL || rank == NULL) {
        prime__free(all);
        prime__free(rank);
        return prime__error(PRIME_E_NOMEM, "prime_stat_mann_whitney_lower: out of memory");
    }
    memcpy(all, x, (size_t)nx * sizeof *all);
    memcpy(all + nx, y, (size_t)ny * sizeof *all);
    if (!average_ranks(all, n, rank, &ties)) {
        prime__free(all);
        prime__free(rank);
        return prime__error(PRIME_E_NOMEM, "prime_stat_mann_whitney_lower: out of memory");
    }
    double rx = 0.0;
    for (uint64_t i = 0; i < nx; i++)
        rx += rank[i];
    prime__free(all);
    prime__free(rank);
    double dx = (double)nx, dy = (double)ny, dn = (double)n;
    double u = rx - dx * (dx + 1.0) / 2.0;
    double var = dx * dy / 12.0 * ((dn + 1.0) - ties / (dn * (dn - 1.0)));
    if (!(var > 0.0)) {
        *p_out = 1.0;
        return PRIME_OK;
    }
    double z = (u - dx * dy / 2.0 + 0.5) / sqrt(var);
    *p_out = 0.5 * erfc(-z / sqrt(2.0));
    return PRIME_OK;
}

prime_status prime_stat_pearson(const double *x, const double *y, uint64_t n, double *r_out)
{
    if (r_out == NULL || ((x == NULL || y == NULL) && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_stat_pearson: NULL argument");
    if (n < 2) {
        *r_out = NAN;
        return PRIME_OK;
    }
    double mx = 0.0, my = 0.0;
    for (uint64_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (uint64_t i = 0; i < n; i++) {
        double a = x[i] - mx, b = y[i] - my;
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    if (!(sxx > 0.0) || !(syy > 0.0)) {
        *r_out = NAN;
        return PRIME_OK;
    }
    double r = sxy / sqrt(sxx * syy);
    *r_out = r > 1.0 ? 1.0 : (r < -1.0 ? -1.0 : r);
    return PRIME_OK;
}

prime_status prime_stat_spearman(const double *x, const double *y, uint64_t n, double *r_out)
{
    if (r_out == NULL || ((x == NULL || y == NULL) && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_stat_spearman: NULL argument");
    if (n < 2) {
        *r_out = NAN;
        return PRIME_OK;
    }
    double *rx = prime__malloc((size_t)n * sizeof *rx);
    double *ry = prime__malloc((size_t)n * sizeof *ry);
    if (rx == NULL || ry == NULL || !average_ranks(x, n, rx, NULL) ||
        !average_ranks(y, n, ry, NULL)) {
        prime__free(rx);
        prime__free(ry);
        return prime__error(PRIME_E_NOMEM, "prime_stat_spearman: out of memory");
    }
    prime_status st = prime_stat_pearson(rx, ry, n, r_out);
    prime__free(rx);
    prime__free(ry);
    return st;
}

prime_status prime_stat_bh(const double *p, uint64_t n, uint64_t m, double *adjusted_out)
{
    if (adjusted_out == NULL || (p == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_stat_bh: NULL argument");
    uint64_t cnt = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (isnan(p[i]))
            continue;
        if (p[i] < 0.0 || p[i] > 1.0)
            return prime__error(PRIME_E_RANGE, "prime_stat_bh: p[%" PRIu64 "] = %g is not in [0, 1]",
                                i, p[i]);
        cnt++;
    }
    if (m == 0)
        m = cnt;
    if (m < cnt)
        return prime__error(PRIME_E_RANGE,
                            "prime_stat_bh: %" PRIu64 " hypotheses is fewer than the %" PRIu64
                            " p-values",
                            m, cnt);
    vi *s = prime__malloc((cnt ? (size_t)cnt : 1) * sizeof *s);
    if (s == NULL)
        return prime__error(PRIME_E_NOMEM, "prime_stat_bh: out of memory");
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (isnan(p[i])) {
            adjusted_out[i] = NAN;
            continue;
        }
        s[k].v = p[i];
        s[k].i = i;
        k++;
    }
    qsort(s, (size_t)cnt, sizeof *s, cmp_vi);
    double running = 1.0;
    for (uint64_t j = cnt; j-- > 0;) {
        double v = (double)m * s[j].v / (double)(j + 1);
        if (v < running)
            running = v;
        adjusted_out[s[j].i] = running;
    }
    prime__free(s);
    return PRIME_OK;
}

/* ======================================================================== */
/* The evaluation handle                                                     */
/* ======================================================================== */

typedef struct {
    uint64_t class_off, desc_off; /* into strings */
    uint32_t n_tags;
    uint64_t tag_first;           /* into tag_off / parents */
    uint64_t tr_size;
    double tr_correct, tr_acc, tr_class_acc, tr_drop;
    uint64_t te_size;
    double te_correct, te_acc, te_class_acc, te_drop;
    uint64_t te_min_size;         /* the size a mode needs in its test class */
    double p, p_adj;
    int32_t discovery;
} ev_mode;

struct prime_eval {
    ev_mode *modes;
    uint64_t n_modes;
    size_t cap_modes;
    uint64_t *tag_off;          /* string offsets of the tag names */
    uint64_t n_tag_refs;
    size_t cap_tags;
    uint64_t *par_size;         /* parent j of mode i: [tag_first + j] */
    double *par_correct;
    prime__buf strings;
    int64_t min_size;
    double min_size_share;      /* > 0: min_size is this share of each class */
    double min_drop;
    bool whole;
    uint64_t candidates;
    int32_t kind;
    double z, q;
    uint64_t m, n_disc;
};

uint64_t prime_result_candidate_count(const prime_result *result)
{
    return result != NULL ? result->n_candidates : 0;
}

static prime_eval *ev_new(void)
{
    prime_eval *ev = prime__calloc(1, sizeof *ev);
    if (ev != NULL) {
        ev->z = PRIME_EVAL_Z95;
        prime__buf_putc(&ev->strings, '\0'); /* offset 0: "" */
    }
    return ev;
}

void prime_eval_destroy(prime_eval *ev)
{
    if (ev == NULL)
        return;
    prime__free(ev->modes);
    prime__free(ev->tag_off);
    prime__free(ev->par_size);
    prime__free(ev->par_correct);
    prime__buf_free(&ev->strings);
    prime__free(ev);
}

static uint64_t ev_string(prime_eval *ev, const char *s, size_t n)
{
    uint64_t off = ev->strings.len;
    prime__buf_append(&ev->strings, s, n);
    prime__buf_putc(&ev->strings, '\0');
    return off;
}

/* Add a mode with its train statistics; false when out of memory. */
static bool ev_add(prime_eval *ev, const char *cls, size_t cls_len, uint32_t n_tags,
                   const char *const *tags, const size_t *tag_lens, const char *desc,
                   size_t desc_len, uint64_t size, double correct, double acc,
                   double class_acc, double drop)
{
    if (!prime__grow((void **)&ev->modes, &ev->cap_modes, ev->n_modes + 1, sizeof *ev->modes))
        return false;
    if (!prime__grow((void **)&ev->tag_off, &ev->cap_tags, ev->n_tag_refs + n_tags,
                     sizeof *ev->tag_off))
        return false;
    ev_mode *m = &ev->modes[ev->n_modes];
    memset(m, 0, sizeof *m);
    m->class_off = ev_string(ev, cls, cls_len);
    m->n_tags = n_tags;
    m->tag_first = ev->n_tag_refs;
    for (uint32_t j = 0; j < n_tags; j++)
        ev->tag_off[ev->n_tag_refs + j] = ev_string(ev, tags[j], tag_lens[j]);
    if (desc != NULL) {
        m->desc_off = ev_string(ev, desc, desc_len);
    } else {
        m->desc_off = ev->strings.len;
        prime__buf_puts(&ev->strings, "a photo of");
        if (!ev->whole) {
            prime__buf_putc(&ev->strings, ' ');
            prime__buf_append(&ev->strings, cls, cls_len);
        }
        for (uint32_t j = 0; j < n_tags; j++) {
            prime__buf_putc(&ev->strings, ' ');
            prime__buf_append(&ev->strings, tags[j], tag_lens[j]);
        }
        prime__buf_putc(&ev->strings, '\0');
    }
    if (ev->strings.failed)
        return false;
    m->tr_size = size;
    m->tr_correct = correct;
    m->tr_acc = acc;
    m->tr_class_acc = class_acc;
    m->tr_drop = drop;
    ev->n_tag_refs += n_tags;
    ev->n_modes++;
    return true;
}

static const char *ev_str(const prime_eval *ev, uint64_t off)
{
    return ev->strings.data + off;
}

/* true if image img carries every tag of want[0..n) (sorted, unique). */
static bool image_has_all(const prime_tagstore *store, uint32_t img, const uint32_t *want,
                          uint32_t n)
{
    uint64_t k = prime__store_tag_off(store, img), end = prime__store_tag_off(store, img + 1);
    for (uint32_t i = 0; i < n; i++) {
        while (k < end && prime__store_tag(store, k) < want[i])
            k++;
        if (k == end || prime__store_tag(store, k) != want[i])
            return false;
        k++;
    }
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Mann-Whitney p-value of the images of the scope carrying every tag of
 * ids[0..n) against the other images of the scope. */
static prime_status mw_mode(const prime_tagstore *store, const prime_outcomes *outcomes,
                            uint32_t cls, const uint32_t *ids, uint32_t n, double *p_out)
{
    uint32_t sorted[PRIME_MAX_TAGS_LIMIT];
    memcpy(sorted, ids, (size_t)n * sizeof *ids);
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    uint64_t a = 0, b = prime_tagstore_image_count(store);
    if (cls != PRIME_NONE) {
        a = store->class_off[cls];
        b = store->class_off[cls + 1];
    }
    size_t total = (size_t)(b - a);
    double *in = prime__malloc((total ? total : 1) * sizeof *in);
    double *outv = prime__malloc((total ? total : 1) * sizeof *outv);
    if (in == NULL || outv == NULL) {
        prime__free(in);
        prime__free(outv);
        return prime__error(PRIME_E_NOMEM, "prime_eval: out of memory");
    }
    uint64_t ni = 0, no = 0;
    for (uint64_t j = a; j < b; j++) {
        uint32_t img = cls != PRIME_NONE ? prime__store_class_image(store, j) : (uint32_t)j;
        double v = outcomes->v[img];
        if (image_has_all(store, img, sorted, n))
            in[ni++] = v;
        else
            outv[no++] = v;
    }
    prime_status st = prime_stat_mann_whitney_lower(in, ni, outv, no, p_out);
    prime__free(in);
    prime__free(outv);
    return st;
}

/* Measure every mode on the store (test statistics, p-values, parents). */
static prime_status ev_measure(prime_eval *ev, const prime_tagstore *store,
                               const prime_outcomes *outcomes)
{
    if (store == NULL || outcomes == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval: store or outcomes is NULL");
    /* validates the store (frozen) and the outcomes (count, all set) */
    prime_status st = prime_query(store, outcomes, PRIME_NONE, NULL, 0, NULL, NULL, NULL, NULL);
    if (st != PRIME_OK)
        return st;
    ev->kind = prime_outcomes_is_binary(outcomes) ? PRIME_EVAL_TEST_FISHER
                                                  : PRIME_EVAL_TEST_MANN_WHITNEY;
    size_t np = ev->n_tag_refs ? (size_t)ev->n_tag_refs : 1;
    ev->par_size = prime__calloc(np, sizeof *ev->par_size);
    ev->par_correct = prime__calloc(np, sizeof *ev->par_correct);
    if (ev->par_size == NULL || ev->par_correct == NULL)
        return prime__error(PRIME_E_NOMEM, "prime_eval: out of memory");
    for (uint64_t i = 0; i < ev->n_modes; i++) {
        ev_mode *m = &ev->modes[i];
        m->te_acc = m->te_class_acc = m->te_drop = m->p = m->p_adj = NAN;
        m->te_size = 0;
        m->te_min_size = ev->min_size > 0 ? (uint64_t)ev->min_size : 1;
        m->te_correct = 0.0;
        uint64_t *psize = ev->par_size + m->tag_first;
        double *pcorrect = ev->par_correct + m->tag_first;
        uint32_t cls = PRIME_NONE;
        if (!ev->whole &&
            prime_tagstore_find_class(store, ev_str(ev, m->class_off), &cls) != PRIME_OK)
            continue; /* class absent: size 0 everywhere */
        uint64_t csize;
        double csum, cacc;
        st = prime_query(store, outcomes, cls, NULL, 0, &csize, &csum, NULL, &cacc);
        if (st != PRIME_OK)
            return st;
        m->te_class_acc = csize > 0 ? cacc : NAN;
        m->te_min_size = (uint64_t)ev->min_size;
        if (ev->min_size_share > 0.0) { /* as the search does, on the test class */
            double want = ceil(ev->min_size_share * (double)csize - PRIME_EPS);
            m->te_min_size = want < 1.0 ? 1 : (uint64_t)want;
        }
        uint32_t ids[PRIME_MAX_TAGS_LIMIT];
        uint32_t missing = 0, miss_at = 0;
        for (uint32_t j = 0; j < m->n_tags; j++) {
            if (prime_tagstore_find_tag(store, ev_str(ev, ev->tag_off[m->tag_first + j]),
                                        &ids[j]) != PRIME_OK) {
                missing++;
                miss_at = j;
                ids[j] = PRIME_NONE;
            }
        }
        if (missing == 0) {
            st = prime_query(store, outcomes, cls, ids, m->n_tags, &m->te_size, &m->te_correct,
                             NULL, NULL);
            if (st == PRIME_OK)
                st = prime_query_parents(store, outcomes, cls, ids, m->n_tags, psize, pcorrect);
            if (st != PRIME_OK)
                return st;
        } else if (missing == 1) {
            /* only the parent without the missing tag has images */
            uint32_t rest[PRIME_MAX_TAGS_LIMIT], k = 0;
            for (uint32_t j = 0; j < m->n_tags; j++)
                if (j != miss_at)
                    rest[k++] = ids[j];
            st = prime_query(store, outcomes, cls, rest, k, &psize[miss_at], &pcorrect[miss_at],
                             NULL, NULL);
            if (st != PRIME_OK)
                return st;
        }
        if (m->te_size == 0)
            continue;
        m->te_acc = m->te_correct / (double)m->te_size;
        m->te_drop = m->te_class_acc - m->te_acc;
        if (ev->kind == PRIME_EVAL_TEST_FISHER) {
            st = prime_stat_hypergeom_lower(csize, (uint64_t)llround(csum), m->te_size,
                                            (uint64_t)llround(m->te_correct), &m->p);
        } else {
            st = mw_mode(store, outcomes, cls, ids, m->n_tags, &m->p);
        }
        if (st != PRIME_OK)
            return st;
    }
    return PRIME_OK;
}

/* Recompute the Benjamini-Hochberg columns for the current q and m. */
static prime_status ev_apply_fdr(prime_eval *ev, double q, uint64_t m_in)
{
    uint64_t cnt = 0;
    for (uint64_t i = 0; i < ev->n_modes; i++)
        cnt += !isnan(ev->modes[i].p);
    uint64_t m = m_in;
    if (m == 0)
        m = ev->candidates >= cnt && ev->candidates > 0 ? ev->candidates : cnt;
    if (m < cnt)
        return prime__error(PRIME_E_RANGE,
                            "prime_eval_set_fdr: %" PRIu64 " hypotheses is fewer than the %" PRIu64
                            " modes with a p-value",
                            m, cnt);
    double *p = prime__malloc((ev->n_modes ? (size_t)ev->n_modes : 1) * sizeof *p);
    double *adj = prime__malloc((ev->n_modes ? (size_t)ev->n_modes : 1) * sizeof *adj);
    if (p == NULL || adj == NULL) {
        prime__free(p);
        prime__free(adj);
        return prime__error(PRIME_E_NOMEM, "prime_eval_set_fdr: out of memory");
    }
    for (uint64_t i = 0; i < ev->n_modes; i++)
        p[i] = ev->modes[i].p;
    prime_status st = q > 0.0 ? prime_stat_bh(p, ev->n_modes, m, adj) : PRIME_OK;
    if (st == PRIME_OK) {
        ev->n_disc = 0;
        for (uint64_t i = 0; i < ev->n_modes; i++) {
            ev_mode *md = &ev->modes[i];
            md->p_adj = q > 0.0 ? adj[i] : NAN;
            md->discovery = q > 0.0 && !isnan(adj[i]) && adj[i] <= q;
            ev->n_disc += (uint64_t)md->discovery;
        }
        ev->q = q;
        ev->m = q > 0.0 ? m : 0;
    }
    prime__free(p);
    prime__free(adj);
    return st;
}

prime_status prime_eval_create(const prime_result *result, const prime_tagstore *store,
                               const prime_outcomes *outcomes, prime_eval **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_create: out is NULL");
    *out = NULL;
    if (result == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_create: result is NULL");
    prime_eval *ev = ev_new();
    if (ev == NULL)
        return prime__error(PRIME_E_NOMEM, "prime_eval_create: out of memory");
    ev->min_size = result->config.min_size;
    ev->min_size_share = result->config.min_size_share;
    ev->min_drop = result->config.min_drop;
    ev->whole = result->config.whole_dataset != 0;
    ev->candidates = result->n_candidates;
    for (uint64_t i = 0; i < result->n_modes; i++) {
        const prime__mode *m = &result->modes[i];
        const prime__class_stat *c = &result->classes[m->class_index];
        const char *tags[PRIME_MAX_TAGS_LIMIT];
        size_t lens[PRIME_MAX_TAGS_LIMIT];
        for (uint32_t j = 0; j < m->n_tags; j++) {
            tags[j] = result->strings + result->mode_tag_name_off[m->tag_first + j];
            lens[j] = strlen(tags[j]);
        }
        const char *cls = result->strings + c->name_off;
        const char *desc = result->strings + m->description_off;
        if (!ev_add(ev, cls, strlen(cls), m->n_tags, tags, lens, desc, strlen(desc), m->size,
                    m->correct, m->accuracy, c->accuracy, m->drop)) {
            prime_eval_destroy(ev);
            return prime__error(PRIME_E_NOMEM, "prime_eval_create: out of memory");
        }
    }
    prime_status st = ev_measure(ev, store, outcomes);
    if (st != PRIME_OK) {
        prime_eval_destroy(ev);
        return st;
    }
    *out = ev;
    return PRIME_OK;
}

/* ======================================================================== */
/* Result JSON reader                                                        */
/* ======================================================================== */

#define J_MAX_DEPTH 64

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct {
    uint8_t type;
    bool b;
    uint64_t line;
    double num;
    uint64_t str_off, str_len; /* J_STR: value */
    uint64_t key_off, key_len; /* member of an object: its key */
    int64_t child, next;       /* -1 = none */
    uint64_t count;            /* children */
} jnode;

typedef struct {
    const char *name;
    const char *p, *end;
    uint64_t line;
    jnode *nodes;
    size_t n, cap;
    prime__buf str;
} jparser;

static prime_status jfail(const jparser *j, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static prime_status jfail(const jparser *j, uint64_t line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": %s", j->name, line, msg);
}

static prime_status jsyntax(const jparser *j, const char *what)
{
    if (j->p >= j->end)
        return jfail(j, j->line, "%s, found the end of the file (truncated?)", what);
    unsigned char c = (unsigned char)*j->p;
    if (c >= 0x20 && c < 0x7F)
        return jfail(j, j->line, "%s, found '%c'", what, c);
    return jfail(j, j->line, "%s, found byte 0x%02X", what, c);
}

static void jws(jparser *j)
{
    while (j->p < j->end) {
        char c = *j->p;
        if (c == '\n')
            j->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            break;
        j->p++;
    }
}

static prime_status jnew(jparser *j, uint8_t type, int64_t *idx)
{
    if (!prime__grow((void **)&j->nodes, &j->cap, j->n + 1, sizeof *j->nodes))
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", j->name);
    jnode *nd = &j->nodes[j->n];
    memset(nd, 0, sizeof *nd);
    nd->type = type;
    nd->line = j->line;
    nd->child = nd->next = -1;
    *idx = (int64_t)j->n++;
    return PRIME_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(jparser *j, uint32_t *out)
{
    if (j->end - j->p < 4)
        return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(j->p[k]);
        if (h < 0)
            return false;
        v = v * 16 + (uint32_t)h;
    }
    j->p += 4;
    *out = v;
    return true;
}

/* A string at j->p (on the opening quote), decoded into j->str. */
static prime_status jstring(jparser *j, uint64_t *off, uint64_t *len)
{
    j->p++; /* '"' */
    uint64_t start = j->str.len;
    const char *run = j->p;
    for (;;) {
        if (j->p >= j->end)
            return jfail(j, j->line, "unterminated string (truncated?)");
        unsigned char c = (unsigned char)*j->p;
        if (c == '"' || c == '\\') {
            prime__buf_append(&j->str, run, (size_t)(j->p - run));
            if (c == '"') {
                j->p++;
                break;
            }
            j->p++;
            if (j->p >= j->end)
                return jfail(j, j->line, "unterminated string (truncated?)");
            char e = *j->p++;
            char ch;
            switch (e) {
            case '"': ch = '"'; break;
            case '\\': ch = '\\'; break;
            case '/': ch = '/'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'u': {
                uint32_t cp;
                if (!read_hex4(j, &cp))
                    return jfail(j, j->line, "bad \\u escape in a string");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                        return jfail(j, j->line, "unpaired surrogate in a string");
                    j->p += 2;
                    if (!read_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return jfail(j, j->line, "unpaired surrogate in a string");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return jfail(j, j->line, "unpaired surrogate in a string");
                }
                if (cp == 0)
                    return jfail(j, j->line, "\\u0000 in a string");
                char u[4];
                size_t n;
                if (cp < 0x80) {
                    u[0] = (char)cp;
                    n = 1;
                } else if (cp < 0x800) {
                    u[0] = (char)(0xC0 | (cp >> 6));
                    u[1] = (char)(0x80 | (cp & 0x3F));
                    n = 2;
                } else if (cp < 0x10000) {
                    u[0] = (char)(0xE0 | (cp >> 12));
                    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    u[2] = (char)(0x80 | (cp & 0x3F));
                    n = 3;
                } else {
                    u[0] = (char)(0xF0 | (cp >> 18));
                    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    u[3] = (char)(0x80 | (cp & 0x3F));
                    n = 4;
                }
                prime__buf_append(&j->str, u, n);
                run = j->p;
                continue;
            }
            default: return jfail(j, j->line, "bad escape '\\%c' in a string", e);
            }
            prime__buf_putc(&j->str, ch);
            run = j->p;
            continue;
        }
        if (c < 0x20)
            return jfail(j, j->line, "control character 0x%02X in a string", c);
        j->p++;
    }
    if (j->str.failed)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", j->name);
    uint64_t n = j->str.len - start;
    if (!prime__utf8_valid(j->str.data + start, (size_t)n))
        return jfail(j, j->line, "invalid UTF-8 in a string");
    prime__buf_putc(&j->str, '\0');
    if (j->str.failed)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", j->name);
    *off = start;
    *len = n;
    return PRIME_OK;
}

static prime_status jnumber(jparser *j, double *out)
{
    const char *s = j->p;
    const char *q = s;
    if (q < j->end && *q == '-')
        q++;
    if (q >= j->end || !(*q >= '0' && *q <= '9'))
        return jsyntax(j, "expected a value");
    if (*q == '0')
        q++;
    else
        while (q < j->end && *q >= '0' && *q <= '9')
            q++;
    if (q < j->end && *q == '.') {
        q++;
        if (q >= j->end || !(*q >= '0' && *q <= '9')) {
            j->p = q;
            return jsyntax(j, "expected a digit after '.'");
        }
        while (q < j->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < j->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < j->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= j->end || !(*q >= '0' && *q <= '9')) {
            j->p = q;
            return jsyntax(j, "expected a digit in the exponent");
        }
        while (q < j->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (!prime__parse_double(s, (size_t)(q - s), out))
        return jfail(j, j->line, "number '%.*s' out of range", (int)(q - s > 40 ? 40 : q - s), s);
    j->p = q;
    return PRIME_OK;
}

static prime_status jvalue(jparser *j, int depth, int64_t *idx);

static prime_status jcontainer(jparser *j, int depth, bool object, int64_t *idx)
{
    prime_status st = jnew(j, object ? J_OBJ : J_ARR, idx);
    if (st != PRIME_OK)
        return st;
    char close = object ? '}' : ']';
    j->p++;
    jws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return PRIME_OK;
    }
    int64_t last = -1;
    uint64_t count = 0;
    for (;;) {
        uint64_t koff = 0, klen = 0;
        jws(j);
        if (object) {
            if (j->p >= j->end || *j->p != '"')
                return jsyntax(j, "expected a key (a string)");
            st = jstring(j, &koff, &klen);
            if (st != PRIME_OK)
                return st;
            jws(j);
            if (j->p >= j->end || *j->p != ':')
                return jsyntax(j, "expected ':' after a key");
            j->p++;
        }
        int64_t v;
        st = jvalue(j, depth + 1, &v);
        if (st != PRIME_OK)
            return st;
        j->nodes[v].key_off = koff;
        j->nodes[v].key_len = klen;
        if (last < 0)
            j->nodes[*idx].child = v;
        else
            j->nodes[last].next = v;
        last = v;
        count++;
        jws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            break;
        }
        return jsyntax(j, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    j->nodes[*idx].count = count;
    return PRIME_OK;
}

static prime_status jvalue(jparser *j, int depth, int64_t *idx)
{
    jws(j);
    if (depth > J_MAX_DEPTH)
        return jfail(j, j->line, "nested deeper than %d levels", J_MAX_DEPTH);
    if (j->p >= j->end)
        return jsyntax(j, "expected a value");
    char c = *j->p;
    prime_status st;
    if (c == '{' || c == '[')
        return jcontainer(j, depth, c == '{', idx);
    if (c == '"') {
        st = jnew(j, J_STR, idx);
        if (st != PRIME_OK)
            return st;
        uint64_t off, len;
        st = jstring(j, &off, &len);
        if (st != PRIME_OK)
            return st;
        j->nodes[*idx].str_off = off;
        j->nodes[*idx].str_len = len;
        return PRIME_OK;
    }
    static const struct {
        const char *word;
        uint8_t type;
        bool b;
    } words[] = {{"true", J_BOOL, true}, {"false", J_BOOL, false}, {"null", J_NULL, false}};
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(words[k].word);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[k].word, n) == 0) {
            st = jnew(j, words[k].type, idx);
            if (st != PRIME_OK)
                return st;
            j->nodes[*idx].b = words[k].b;
            j->p += n;
            return PRIME_OK;
        }
    }
    double v;
    uint64_t line = j->line;
    st = jnumber(j, &v);
    if (st != PRIME_OK)
        return st;
    st = jnew(j, J_NUM, idx);
    if (st != PRIME_OK)
        return st;
    j->nodes[*idx].num = v;
    j->nodes[*idx].line = line;
    return PRIME_OK;
}

/* ---- the schema ---------------------------------------------------------- */

static const char *jtype_name(uint8_t t)
{
    static const char *names[] = {"null", "a boolean", "a number", "a string", "an array",
                                  "an object"};
    return names[t];
}

static const jnode *jget(const jparser *j, const jnode *obj, const char *key)
{
    size_t n = strlen(key);
    for (int64_t c = obj->child; c >= 0; c = j->nodes[c].next) {
        const jnode *nd = &j->nodes[c];
        if (nd->key_len == n && memcmp(j->str.data + nd->key_off, key, n) == 0)
            return nd;
    }
    return NULL;
}

/* Member `key` of obj with type `type`; `where` names obj in messages. */
static prime_status jneed(const jparser *j, const jnode *obj, const char *where, const char *key,
                          uint8_t type, const jnode **out)
{
    const jnode *nd = jget(j, obj, key);
    if (nd == NULL)
        return jfail(j, obj->line, "%s: missing key \"%s\"", where, key);
    if (nd->type != type)
        return jfail(j, nd->line, "%s: \"%s\" must be %s, not %s", where, key, jtype_name(type),
                     jtype_name(nd->type));
    *out = nd;
    return PRIME_OK;
}

static prime_status jneed_count(const jparser *j, const jnode *obj, const char *where,
                                const char *key, uint64_t *out)
{
    const jnode *nd;
    prime_status st = jneed(j, obj, where, key, J_NUM, &nd);
    if (st != PRIME_OK)
        return st;
    if (!(nd->num >= 0.0) || nd->num > 9007199254740992.0 || nd->num != floor(nd->num))
        return jfail(j, nd->line, "%s: \"%s\" must be a non-negative integer", where, key);
    *out = (uint64_t)nd->num;
    return PRIME_OK;
}

static prime_status jneed_num(const jparser *j, const jnode *obj, const char *where,
                              const char *key, double lo, double hi, double *out)
{
    const jnode *nd;
    prime_status st = jneed(j, obj, where, key, J_NUM, &nd);
    if (st != PRIME_OK)
        return st;
    if (!(nd->num >= lo - PRIME_EPS && nd->num <= hi + PRIME_EPS))
        return jfail(j, nd->line, "%s: \"%s\" = %g is outside [%g, %g]", where, key, nd->num, lo,
                     hi);
    *out = nd->num;
    return PRIME_OK;
}

static prime_status jschema(jparser *j, const jnode *root, prime_eval *ev)
{
    if (root->type != J_OBJ)
        return jfail(j, root->line, "a result must be a JSON object, not %s",
                     jtype_name(root->type));
    const jnode *params, *modes, *nd;
    prime_status st = jneed(j, root, "result", "params", J_OBJ, &params);
    if (st != PRIME_OK)
        return st;
    uint64_t min_size = 0;
    st = jneed_count(j, params, "params", "min_size", &min_size);
    if (st == PRIME_OK)
        st = jneed_num(j, params, "params", "min_drop", 0.0, 1.0, &ev->min_drop);
    if (st != PRIME_OK)
        return st;
    ev->min_size = (int64_t)min_size;
    if ((nd = jget(j, params, "min_size_share")) != NULL) {
        st = jneed_num(j, params, "params", "min_size_share", 0.0, 1.0, &ev->min_size_share);
        if (st != PRIME_OK)
            return st;
    }
    if ((nd = jget(j, params, "whole_dataset")) != NULL) {
        if (nd->type != J_BOOL)
            return jfail(j, nd->line, "params: \"whole_dataset\" must be a boolean, not %s",
                         jtype_name(nd->type));
        ev->whole = nd->b;
    }
    if ((nd = jget(j, root, "candidates")) != NULL && nd->type != J_NULL) {
        st = jneed_count(j, root, "result", "candidates", &ev->candidates);
        if (st != PRIME_OK)
            return st;
    }
    st = jneed(j, root, "result", "failure_modes", J_ARR, &modes);
    if (st != PRIME_OK)
        return st;
    uint64_t i = 0;
    for (int64_t c = modes->child; c >= 0; c = j->nodes[c].next, i++) {
        const jnode *m = &j->nodes[c];
        char where[48];
        snprintf(where, sizeof where, "failure_modes[%" PRIu64 "]", i);
        if (m->type != J_OBJ)
            return jfail(j, m->line, "%s must be an object, not %s", where, jtype_name(m->type));
        const jnode *cls, *tags, *desc = NULL;
        uint64_t size = 0;
        double correct = 0, acc = 0, cacc = 0, drop = 0;
        if ((st = jneed(j, m, where, "class", J_STR, &cls)) != PRIME_OK ||
            (st = jneed(j, m, where, "tags", J_ARR, &tags)) != PRIME_OK ||
            (st = jneed_count(j, m, where, "size", &size)) != PRIME_OK ||
            (st = jneed_num(j, m, where, "correct", 0.0, (double)size, &correct)) != PRIME_OK ||
            (st = jneed_num(j, m, where, "accuracy", 0.0, 1.0, &acc)) != PRIME_OK ||
            (st = jneed_num(j, m, where, "class_accuracy", 0.0, 1.0, &cacc)) != PRIME_OK ||
            (st = jneed_num(j, m, where, "drop", -1.0, 1.0, &drop)) != PRIME_OK)
            return st;
        if (cls->str_len == 0)
            return jfail(j, cls->line, "%s: empty class name", where);
        if ((desc = jget(j, m, "description")) != NULL && desc->type != J_STR)
            return jfail(j, desc->line, "%s: \"description\" must be a string, not %s", where,
                         jtype_name(desc->type));
        if (tags->count < 1 || tags->count > PRIME_MAX_TAGS_LIMIT)
            return jfail(j, tags->line, "%s: a mode has 1 to %d tags, not %" PRIu64, where,
                         PRIME_MAX_TAGS_LIMIT, tags->count);
        const char *names[PRIME_MAX_TAGS_LIMIT];
        size_t lens[PRIME_MAX_TAGS_LIMIT];
        uint32_t k = 0;
        for (int64_t t = tags->child; t >= 0; t = j->nodes[t].next, k++) {
            const jnode *tn = &j->nodes[t];
            if (tn->type != J_STR)
                return jfail(j, tn->line, "%s: tag %u must be a string, not %s", where, k,
                             jtype_name(tn->type));
            if (tn->str_len == 0 || tn->str_len > PRIME_MAX_TAG_NAME)
                return jfail(j, tn->line, "%s: tag %u: a tag name has 1 to %d bytes", where, k,
                             PRIME_MAX_TAG_NAME);
            names[k] = j->str.data + tn->str_off;
            lens[k] = (size_t)tn->str_len;
            for (uint32_t q = 0; q < k; q++)
                if (lens[q] == lens[k] && memcmp(names[q], names[k], lens[k]) == 0)
                    return jfail(j, tn->line, "%s: tag \"%s\" is given twice", where, names[k]);
        }
        if (!ev_add(ev, j->str.data + cls->str_off, (size_t)cls->str_len, k, names, lens,
                    desc ? j->str.data + desc->str_off : NULL, desc ? (size_t)desc->str_len : 0,
                    size, correct, acc, cacc, drop))
            return prime__error(PRIME_E_NOMEM, "%s: out of memory", j->name);
    }
    return PRIME_OK;
}

prime_status prime_eval_load_memory(const void *data, size_t size, const char *name,
                                    const prime_tagstore *store, const prime_outcomes *outcomes,
                                    prime_eval **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_load_memory: out is NULL");
    *out = NULL;
    if (data == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_load_memory: data is NULL");
    jparser j = {.name = name ? name : "<memory>", .p = data, .end = (const char *)data + size,
                 .line = 1};
    prime_eval *ev = ev_new();
    if (ev == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", j.name);
    prime_status st;
    int64_t root = -1;
    jws(&j);
    if (j.p >= j.end) {
        st = jfail(&j, j.line, "empty file");
        goto done;
    }
    st = jvalue(&j, 0, &root);
    if (st != PRIME_OK)
        goto done;
    jws(&j);
    if (j.p < j.end) {
        st = jsyntax(&j, "expected the end of the file after the result");
        goto done;
    }
    st = jschema(&j, &j.nodes[root], ev);
    if (st == PRIME_OK)
        st = ev_measure(ev, store, outcomes);
done:
    prime__free(j.nodes);
    prime__buf_free(&j.str);
    if (st != PRIME_OK) {
        prime_eval_destroy(ev);
        return st;
    }
    *out = ev;
    return PRIME_OK;
}

prime_status prime_eval_load(const char *result_path, const prime_tagstore *store,
                             const prime_outcomes *outcomes, prime_eval **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_load: out is NULL");
    *out = NULL;
    char *data;
    size_t size;
    prime_status st = prime__read_file(result_path, &data, &size);
    if (st != PRIME_OK)
        return st;
    st = prime_eval_load_memory(data, size, result_path, store, outcomes, out);
    prime__free(data);
    return st;
}

/* ======================================================================== */
/* Accessors                                                                 */
/* ======================================================================== */

uint64_t prime_eval_mode_count(const prime_eval *ev)
{
    return ev != NULL ? ev->n_modes : 0;
}

int32_t prime_eval_test_kind(const prime_eval *ev)
{
    return ev != NULL ? ev->kind : 0;
}

const char *prime_eval_mode_class_name(const prime_eval *ev, uint64_t i)
{
    return ev != NULL && i < ev->n_modes ? ev_str(ev, ev->modes[i].class_off) : NULL;
}

uint32_t prime_eval_mode_tag_count(const prime_eval *ev, uint64_t i)
{
    return ev != NULL && i < ev->n_modes ? ev->modes[i].n_tags : 0;
}

const char *prime_eval_mode_tag_name(const prime_eval *ev, uint64_t i, uint32_t j)
{
    if (ev == NULL || i >= ev->n_modes || j >= ev->modes[i].n_tags)
        return NULL;
    return ev_str(ev, ev->tag_off[ev->modes[i].tag_first + j]);
}

const char *prime_eval_mode_description(const prime_eval *ev, uint64_t i)
{
    return ev != NULL && i < ev->n_modes ? ev_str(ev, ev->modes[i].desc_off) : NULL;
}

static prime_status check_mode(const char *fn, const prime_eval *ev, uint64_t i)
{
    if (ev == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: eval is NULL", fn);
    if (i >= ev->n_modes)
        return prime__error(PRIME_E_INVALID_ARG, "%s: mode %" PRIu64 " out of range (%" PRIu64
                            " modes)", fn, i, ev->n_modes);
    return PRIME_OK;
}

prime_status prime_eval_mode_train(const prime_eval *ev, uint64_t i, uint64_t *size_out,
                                   double *correct_out, double *accuracy_out,
                                   double *class_accuracy_out, double *drop_out)
{
    prime_status st = check_mode("prime_eval_mode_train", ev, i);
    if (st != PRIME_OK)
        return st;
    const ev_mode *m = &ev->modes[i];
    if (size_out)
        *size_out = m->tr_size;
    if (correct_out)
        *correct_out = m->tr_correct;
    if (accuracy_out)
        *accuracy_out = m->tr_acc;
    if (class_accuracy_out)
        *class_accuracy_out = m->tr_class_acc;
    if (drop_out)
        *drop_out = m->tr_drop;
    return PRIME_OK;
}

prime_status prime_eval_mode_test(const prime_eval *ev, uint64_t i, uint64_t *size_out,
                                  double *correct_out, double *accuracy_out,
                                  double *class_accuracy_out, double *drop_out)
{
    prime_status st = check_mode("prime_eval_mode_test", ev, i);
    if (st != PRIME_OK)
        return st;
    const ev_mode *m = &ev->modes[i];
    if (size_out)
        *size_out = m->te_size;
    if (correct_out)
        *correct_out = m->te_correct;
    if (accuracy_out)
        *accuracy_out = m->te_acc;
    if (class_accuracy_out)
        *class_accuracy_out = m->te_class_acc;
    if (drop_out)
        *drop_out = m->te_drop;
    return PRIME_OK;
}

prime_status prime_eval_mode_confidence(const prime_eval *ev, uint64_t i, double *lo_out,
                                        double *hi_out, double *p_value_out,
                                        double *p_adjusted_out, int32_t *discovery_out)
{
    prime_status st = check_mode("prime_eval_mode_confidence", ev, i);
    if (st != PRIME_OK)
        return st;
    const ev_mode *m = &ev->modes[i];
    double lo, hi;
    double succ = m->te_correct;
    if (succ > (double)m->te_size) /* rounding of a sum of scores */
        succ = (double)m->te_size;
    st = prime_stat_wilson(succ < 0.0 ? 0.0 : succ, m->te_size, ev->z, &lo, &hi);
    if (st != PRIME_OK)
        return st;
    if (lo_out)
        *lo_out = lo;
    if (hi_out)
        *hi_out = hi;
    if (p_value_out)
        *p_value_out = m->p;
    if (p_adjusted_out)
        *p_adjusted_out = m->p_adj;
    if (discovery_out)
        *discovery_out = m->discovery;
    return PRIME_OK;
}

prime_status prime_eval_mode_parent(const prime_eval *ev, uint64_t i, uint32_t j,
                                    uint64_t *size_out, double *correct_out,
                                    double *accuracy_out)
{
    prime_status st = check_mode("prime_eval_mode_parent", ev, i);
    if (st != PRIME_OK)
        return st;
    const ev_mode *m = &ev->modes[i];
    if (j >= m->n_tags)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_eval_mode_parent: parent %u out of range (%u tags)",
                            (unsigned)j, (unsigned)m->n_tags);
    uint64_t s = ev->par_size[m->tag_first + j];
    double c = ev->par_correct[m->tag_first + j];
    if (size_out)
        *size_out = s;
    if (correct_out)
        *correct_out = c;
    if (accuracy_out)
        *accuracy_out = s > 0 ? c / (double)s : NAN;
    return PRIME_OK;
}

prime_status prime_eval_summary(const prime_eval *ev, uint64_t *measured_out,
                                double *pearson_out, double *spearman_out,
                                uint64_t *still_failing_out)
{
    if (ev == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_summary: eval is NULL");
    size_t cap = ev->n_modes ? (size_t)ev->n_modes : 1;
    double *x = prime__malloc(cap * sizeof *x), *y = prime__malloc(cap * sizeof *y);
    if (x == NULL || y == NULL) {
        prime__free(x);
        prime__free(y);
        return prime__error(PRIME_E_NOMEM, "prime_eval_summary: out of memory");
    }
    uint64_t n = 0, still = 0;
    for (uint64_t i = 0; i < ev->n_modes; i++) {
        const ev_mode *m = &ev->modes[i];
        if (m->te_size < 1 || isnan(m->te_drop))
            continue;
        x[n] = m->tr_drop;
        y[n] = m->te_drop;
        n++;
        if (m->te_drop >= ev->min_drop - PRIME_EPS && m->te_size >= m->te_min_size)
            still++;
    }
    double r = NAN, rho = NAN;
    prime_status st = prime_stat_pearson(x, y, n, &r);
    if (st == PRIME_OK)
        st = prime_stat_spearman(x, y, n, &rho);
    prime__free(x);
    prime__free(y);
    if (st != PRIME_OK)
        return st;
    if (measured_out)
        *measured_out = n;
    if (pearson_out)
        *pearson_out = r;
    if (spearman_out)
        *spearman_out = rho;
    if (still_failing_out)
        *still_failing_out = still;
    return PRIME_OK;
}

prime_status prime_eval_params(const prime_eval *ev, int64_t *min_size_out,
                               double *min_drop_out, uint64_t *candidates_out)
{
    if (ev == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_params: eval is NULL");
    if (min_size_out)
        *min_size_out = ev->min_size;
    if (min_drop_out)
        *min_drop_out = ev->min_drop;
    if (candidates_out)
        *candidates_out = ev->candidates;
    return PRIME_OK;
}

prime_status prime_eval_set_z(prime_eval *ev, double z)
{
    if (ev == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_set_z: eval is NULL");
    if (!(z > 0.0) || !isfinite(z))
        return prime__error(PRIME_E_RANGE, "prime_eval_set_z: z must be a positive number");
    ev->z = z;
    return PRIME_OK;
}

prime_status prime_eval_set_fdr(prime_eval *ev, double q, uint64_t m)
{
    if (ev == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_set_fdr: eval is NULL");
    if (!(q >= 0.0 && q <= 1.0))
        return prime__error(PRIME_E_RANGE, "prime_eval_set_fdr: q = %g is not in [0, 1]", q);
    return ev_apply_fdr(ev, q, m);
}

prime_status prime_eval_fdr_info(const prime_eval *ev, double *q_out, uint64_t *m_out,
                                 uint64_t *discoveries_out)
{
    if (ev == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_fdr_info: eval is NULL");
    if (q_out)
        *q_out = ev->q;
    if (m_out)
        *m_out = ev->m;
    if (discoveries_out)
        *discoveries_out = ev->n_disc;
    return PRIME_OK;
}

/* ======================================================================== */
/* Writers                                                                   */
/* ======================================================================== */

static void put_stats(prime__buf *b, uint64_t size, double correct, double acc, double cacc,
                      double drop)
{
    prime__buf_printf(b, "{\"size\": %" PRIu64 ", \"correct\": ", size);
    prime__buf_double(b, correct);
    prime__buf_puts(b, ", \"accuracy\": ");
    prime__buf_double(b, acc);
    prime__buf_puts(b, ", \"class_accuracy\": ");
    prime__buf_double(b, cacc);
    prime__buf_puts(b, ", \"drop\": ");
    prime__buf_double(b, drop);
}

static prime_status render_json(const prime_eval *ev, prime__buf *b)
{
    uint64_t measured, still;
    double r, rho;
    prime_status st = prime_eval_summary(ev, &measured, &r, &rho, &still);
    if (st != PRIME_OK)
        return st;
    prime__buf_printf(b, "{\"params\": {\"min_size\": %" PRId64 ", ", ev->min_size);
    if (ev->min_size_share > 0.0) { /* only then, as in the search result */
        prime__buf_puts(b, "\"min_size_share\": ");
        prime__buf_double(b, ev->min_size_share);
        prime__buf_puts(b, ", ");
    }
    prime__buf_puts(b, "\"min_drop\": ");
    prime__buf_double(b, ev->min_drop);
    prime__buf_puts(b, ", \"z\": ");
    prime__buf_double(b, ev->z);
    prime__buf_printf(b, ", \"test\": \"%s\", \"fdr\": ",
                      ev->kind == PRIME_EVAL_TEST_FISHER ? "fisher" : "mann_whitney");
    if (ev->q > 0.0)
        prime__buf_double(b, ev->q);
    else
        prime__buf_puts(b, "null");
    if (ev->q > 0.0)
        prime__buf_printf(b, ", \"hypotheses\": %" PRIu64, ev->m);
    else
        prime__buf_puts(b, ", \"hypotheses\": null");
    if (ev->candidates > 0)
        prime__buf_printf(b, ", \"candidates\": %" PRIu64 "},\n", ev->candidates);
    else
        prime__buf_puts(b, ", \"candidates\": null},\n");
    prime__buf_printf(b, " \"summary\": {\"modes\": %" PRIu64 ", \"measured\": %" PRIu64
                      ", \"pearson\": ", ev->n_modes, measured);
    prime__buf_double(b, r);
    prime__buf_puts(b, ", \"spearman\": ");
    prime__buf_double(b, rho);
    prime__buf_printf(b, ", \"still_failing\": %" PRIu64 ", \"discoveries\": ", still);
    if (ev->q > 0.0)
        prime__buf_printf(b, "%" PRIu64 "},\n", ev->n_disc);
    else
        prime__buf_puts(b, "null},\n");
    prime__buf_puts(b, " \"failure_modes\": [");
    for (uint64_t i = 0; i < ev->n_modes; i++) {
        const ev_mode *m = &ev->modes[i];
        prime__buf_puts(b, i ? ",\n  " : "\n  ");
        prime__buf_puts(b, "{\"class\": ");
        prime__buf_json_string(b, ev_str(ev, m->class_off));
        prime__buf_puts(b, ", \"tags\": [");
        for (uint32_t j = 0; j < m->n_tags; j++) {
            if (j)
                prime__buf_puts(b, ", ");
            prime__buf_json_string(b, ev_str(ev, ev->tag_off[m->tag_first + j]));
        }
        prime__buf_puts(b, "], \"description\": ");
        prime__buf_json_string(b, ev_str(ev, m->desc_off));
        prime__buf_puts(b, ",\n   \"train\": ");
        put_stats(b, m->tr_size, m->tr_correct, m->tr_acc, m->tr_class_acc, m->tr_drop);
        prime__buf_puts(b, "},\n   \"test\": ");
        put_stats(b, m->te_size, m->te_correct, m->te_acc, m->te_class_acc, m->te_drop);
        double lo, hi, p, padj;
        int32_t disc;
        st = prime_eval_mode_confidence(ev, i, &lo, &hi, &p, &padj, &disc);
        if (st != PRIME_OK)
            return st;
        prime__buf_puts(b, ", \"ci_low\": ");
        prime__buf_double(b, lo);
        prime__buf_puts(b, ", \"ci_high\": ");
        prime__buf_double(b, hi);
        prime__buf_puts(b, ", \"p_value\": ");
        prime__buf_double(b, p);
        prime__buf_puts(b, ", \"p_adjusted\": ");
        prime__buf_double(b, padj);
        prime__buf_puts(b, ", \"discovery\": ");
        prime__buf_puts(b, ev->q > 0.0 ? (disc ? "true" : "false") : "null");
        prime__buf_puts(b, "},\n   \"parents\": [");
        for (uint32_t j = 0; j < m->n_tags; j++) {
            uint64_t ps;
            double pc, pa;
            prime_eval_mode_parent(ev, i, j, &ps, &pc, &pa);
            prime__buf_puts(b, j ? ", " : "");
            prime__buf_puts(b, "{\"without\": ");
            prime__buf_json_string(b, ev_str(ev, ev->tag_off[m->tag_first + j]));
            prime__buf_printf(b, ", \"size\": %" PRIu64 ", \"correct\": ", ps);
            prime__buf_double(b, pc);
            prime__buf_puts(b, ", \"accuracy\": ");
            prime__buf_double(b, pa);
            prime__buf_puts(b, "}");
        }
        prime__buf_puts(b, "]}");
    }
    prime__buf_puts(b, "]}\n");
    return PRIME_OK;
}

/* v as %6.3f (wide) or %.3f, NaN as "-". */
static void put_num(prime__buf *b, bool wide, double v)
{
    if (isnan(v))
        prime__buf_puts(b, wide ? "     -" : "-");
    else if (wide)
        prime__buf_printf(b, "%6.3f", v);
    else
        prime__buf_printf(b, "%.3f", v);
}

static prime_status render_text(const prime_eval *ev, prime__buf *b)
{
    uint64_t measured, still;
    double r, rho;
    prime_status st = prime_eval_summary(ev, &measured, &r, &rho, &still);
    if (st != PRIME_OK)
        return st;
    prime__buf_printf(b, "%-12s %5s %6s %6s %6s %6s  %-13s %8s%s  tags\n", "class", "size",
                      "tr.drp", "acc", "drop", "cls.ac", "interval", "p",
                      ev->q > 0.0 ? "    p.adj" : "");
    for (uint64_t i = 0; i < ev->n_modes; i++) {
        const ev_mode *m = &ev->modes[i];
        double lo, hi, p, padj;
        int32_t disc;
        st = prime_eval_mode_confidence(ev, i, &lo, &hi, &p, &padj, &disc);
        if (st != PRIME_OK)
            return st;
        prime__buf_printf(b, "%-12s %5" PRIu64 " ", ev_str(ev, m->class_off), m->te_size);
        put_num(b, true, m->tr_drop);
        prime__buf_putc(b, ' ');
        put_num(b, true, m->te_acc);
        prime__buf_putc(b, ' ');
        put_num(b, true, m->te_drop);
        prime__buf_putc(b, ' ');
        put_num(b, true, m->te_class_acc);
        if (isnan(lo))
            prime__buf_puts(b, "  -            ");
        else
            prime__buf_printf(b, "  [%.3f,%.3f] ", lo, hi);
        if (isnan(p))
            prime__buf_puts(b, "       -");
        else
            prime__buf_printf(b, "%8.2g", p);
        if (ev->q > 0.0) {
            if (isnan(padj))
                prime__buf_puts(b, "        -");
            else
                prime__buf_printf(b, " %8.2g%s", padj, disc ? "*" : " ");
        }
        prime__buf_puts(b, "  ");
        for (uint32_t j = 0; j < m->n_tags; j++) {
            if (j)
                prime__buf_puts(b, " + ");
            prime__buf_puts(b, ev_str(ev, ev->tag_off[m->tag_first + j]));
        }
        prime__buf_putc(b, '\n');
    }
    prime__buf_printf(b, "%" PRIu64 " mode%s, %" PRIu64 " measured; drop correlation train/test: "
                      "Pearson ", ev->n_modes, ev->n_modes == 1 ? "" : "s", measured);
    put_num(b, false, r);
    prime__buf_puts(b, ", Spearman ");
    put_num(b, false, rho);
    prime__buf_printf(b, "; %" PRIu64 " still fail (drop >= ", still);
    prime__buf_double(b, ev->min_drop);
    prime__buf_printf(b, ", size >= %" PRId64 ")\n", ev->min_size);
    if (ev->q > 0.0) {
        prime__buf_printf(b, "%" PRIu64 " discover%s at FDR ", ev->n_disc,
                          ev->n_disc == 1 ? "y" : "ies");
        prime__buf_double(b, ev->q);
        prime__buf_printf(b, " over %" PRIu64 " hypotheses (%s test)\n", ev->m,
                          ev->kind == PRIME_EVAL_TEST_FISHER ? "Fisher exact"
                                                             : "Mann-Whitney");
    }
    return PRIME_OK;
}

static prime_status render(const prime_eval *ev, int32_t format, prime__buf *b)
{
    if (ev == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "eval is NULL");
    prime_status st;
    switch (format) {
    case PRIME_FORMAT_JSON: st = render_json(ev, b); break;
    case PRIME_FORMAT_TEXT: st = render_text(ev, b); break;
    default:
        return prime__error(PRIME_E_INVALID_ARG, "an evaluation is written as JSON or text, "
                            "not format %d", format);
    }
    if (st == PRIME_OK && b->failed)
        st = prime__error(PRIME_E_NOMEM, "out of memory rendering the evaluation");
    if (st != PRIME_OK)
        prime__buf_free(b);
    return st;
}

prime_status prime_eval_render(const prime_eval *ev, int32_t format, char *buf, size_t cap,
                               size_t *needed_out)
{
    if (needed_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_render: needed_out is NULL");
    prime__buf b = {0};
    prime_status st = render(ev, format, &b);
    if (st != PRIME_OK)
        return st;
    return prime__buf_deliver(&b, "evaluation", buf, cap, needed_out);
}

prime_status prime_eval_write(const prime_eval *ev, int32_t format, const char *path)
{
    prime__buf b = {0};
    prime_status st = render(ev, format, &b);
    if (st != PRIME_OK)
        return st;
    return prime__buf_write_file(&b, path);
}
