/* Statistics of the evaluation (include/prime/eval.h): the Wilson score
 * interval, the hypergeometric lower tail (Fisher's exact test), the
 * Mann-Whitney U test with average ranks, Pearson and Spearman correlation,
 * and the Benjamini-Hochberg adjustment. Pure functions of their arguments. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "prime/eval.h"
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
    bool has_nan = false;
    for (uint64_t i = 0; i < n && !has_nan; i++)
        has_nan = isnan(x[i]) || isnan(y[i]);
    if (n < 2 || has_nan) {
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
