/* Evaluation of failure modes (include/prime/eval.h): generalization of a
 * result to another tag store and outcomes, matched by name, and the
 * statistical confidence of each mode (Wilson interval, Fisher exact or
 * Mann-Whitney p-value, Benjamini-Hochberg).
 *
 * The statistics are in stats.c; a result file is read by the search
 * layer's result reader (prime_result_load). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"
#include "prime/eval.h"

/* ======================================================================== */
/* The evaluation handle                                                     */
/* ======================================================================== */

/* A mode measured on one split. */
typedef struct {
    uint64_t size;
    double correct, acc, class_acc, drop;
} ev_split;

typedef struct {
    uint64_t class_off, desc_off; /* into strings */
    uint32_t n_tags;
    uint64_t tag_first;           /* into tag_off / parents */
    ev_split tr, te;              /* as the result says (train), re-measured (test) */
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
    m->desc_off = ev_string(ev, desc, desc_len);
    if (ev->strings.failed)
        return false;
    m->tr.size = size;
    m->tr.correct = correct;
    m->tr.acc = acc;
    m->tr.class_acc = class_acc;
    m->tr.drop = drop;
    ev->n_tag_refs += n_tags;
    ev->n_modes++;
    return true;
}

static const char *ev_str(const prime_eval *ev, uint64_t off)
{
    return ev->strings.data + off;
}

/* Mann-Whitney p-value of the images of the scope carrying every tag of
 * ids[0..n) against the other images of the scope. */
static prime_status mw_mode(const prime_tagstore *store, const prime_outcomes *outcomes,
                            uint32_t cls, const uint32_t *ids, uint32_t n, double *p_out)
{
    uint32_t sorted[PRIME_MAX_TAGS_LIMIT];
    memcpy(sorted, ids, (size_t)n * sizeof *ids);
    prime__sort_u32(sorted, n);
    uint64_t a, b;
    prime__store_scope(store, cls, &a, &b);
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
        uint32_t img = prime__store_scope_image(store, cls, j);
        double v = outcomes->v[img];
        if (prime__store_image_has_all(store, img, sorted, n))
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
        m->te.acc = m->te.class_acc = m->te.drop = m->p = m->p_adj = NAN;
        m->te.size = 0;
        m->te_min_size = ev->min_size > 0 ? (uint64_t)ev->min_size : 1;
        m->te.correct = 0.0;
        uint64_t *psize = ev->par_size + m->tag_first;
        double *pcorrect = ev->par_correct + m->tag_first;
        uint32_t cls = PRIME_NONE;
        if (!ev->whole &&
            (cls = prime__store_find_class(store, ev_str(ev, m->class_off))) == PRIME_NONE)
            continue; /* class absent: size 0 everywhere */
        uint64_t csize;
        double csum, cacc;
        st = prime_query(store, outcomes, cls, NULL, 0, &csize, &csum, NULL, &cacc);
        if (st != PRIME_OK)
            return st;
        m->te.class_acc = csize > 0 ? cacc : NAN;
        m->te_min_size = (uint64_t)ev->min_size;
        if (ev->min_size_share > 0.0) { /* as the search does, on the test class */
            double want = ceil(ev->min_size_share * (double)csize - PRIME_EPS);
            m->te_min_size = want < 1.0 ? 1 : (uint64_t)want;
        }
        uint32_t ids[PRIME_MAX_TAGS_LIMIT];
        uint32_t missing = 0, miss_at = 0;
        for (uint32_t j = 0; j < m->n_tags; j++) {
            ids[j] = prime__store_find_tag(store, ev_str(ev, ev->tag_off[m->tag_first + j]));
            if (ids[j] == PRIME_NONE) {
                missing++;
                miss_at = j;
            }
        }
        if (missing == 0) {
            st = prime_query(store, outcomes, cls, ids, m->n_tags, &m->te.size, &m->te.correct,
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
        if (m->te.size == 0)
            continue;
        m->te.acc = m->te.correct / (double)m->te.size;
        m->te.drop = m->te.class_acc - m->te.acc;
        if (ev->kind == PRIME_EVAL_TEST_FISHER) {
            st = prime_stat_hypergeom_lower(csize, (uint64_t)llround(csum), m->te.size,
                                            (uint64_t)llround(m->te.correct), &m->p);
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
/* Loading a result file                                                     */
/* ======================================================================== */

prime_status prime_eval_load_memory(const void *data, size_t size, const char *name,
                                    const prime_tagstore *store, const prime_outcomes *outcomes,
                                    prime_eval **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_load_memory: out is NULL");
    *out = NULL;
    prime_result *r = NULL;
    prime_status st = prime_result_load_memory(data, size, name, &r);
    if (st == PRIME_OK)
        st = prime_eval_create(r, store, outcomes, out);
    prime_result_destroy(r);
    return st;
}

prime_status prime_eval_load(const char *result_path, const prime_tagstore *store,
                             const prime_outcomes *outcomes, prime_eval **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_load: out is NULL");
    *out = NULL;
    prime_result *r = NULL;
    prime_status st = prime_result_load(result_path, &r);
    if (st == PRIME_OK)
        st = prime_eval_create(r, store, outcomes, out);
    prime_result_destroy(r);
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

static prime_status mode_split(const char *fn, const prime_eval *ev, uint64_t i, bool test,
                               uint64_t *size_out, double *correct_out, double *accuracy_out,
                               double *class_accuracy_out, double *drop_out)
{
    prime_status st = check_mode(fn, ev, i);
    if (st != PRIME_OK)
        return st;
    const ev_split *m = test ? &ev->modes[i].te : &ev->modes[i].tr;
    prime__mode_stats_out(m->size, m->correct, m->acc, m->class_acc, m->drop, size_out,
                          correct_out, accuracy_out, class_accuracy_out, drop_out);
    return PRIME_OK;
}

prime_status prime_eval_mode_train(const prime_eval *ev, uint64_t i, uint64_t *size_out,
                                   double *correct_out, double *accuracy_out,
                                   double *class_accuracy_out, double *drop_out)
{
    return mode_split("prime_eval_mode_train", ev, i, false, size_out, correct_out,
                      accuracy_out, class_accuracy_out, drop_out);
}

prime_status prime_eval_mode_test(const prime_eval *ev, uint64_t i, uint64_t *size_out,
                                  double *correct_out, double *accuracy_out,
                                  double *class_accuracy_out, double *drop_out)
{
    return mode_split("prime_eval_mode_test", ev, i, true, size_out, correct_out, accuracy_out,
                      class_accuracy_out, drop_out);
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
    double succ = m->te.correct;
    if (succ > (double)m->te.size) /* rounding of a sum of scores */
        succ = (double)m->te.size;
    st = prime_stat_wilson(succ < 0.0 ? 0.0 : succ, m->te.size, ev->z, &lo, &hi);
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
        if (m->te.size < 1 || isnan(m->te.drop))
            continue;
        x[n] = m->tr.drop;
        y[n] = m->te.drop;
        n++;
        if (m->te.drop >= ev->min_drop - PRIME_EPS && m->te.size >= m->te_min_size)
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

static void put_stats(prime__buf *b, const ev_split *m)
{
    prime__buf_printf(b, "{\"size\": %" PRIu64 ", \"correct\": ", m->size);
    prime__buf_double(b, m->correct);
    prime__buf_puts(b, ", \"accuracy\": ");
    prime__buf_double(b, m->acc);
    prime__buf_puts(b, ", \"class_accuracy\": ");
    prime__buf_double(b, m->class_acc);
    prime__buf_puts(b, ", \"drop\": ");
    prime__buf_double(b, m->drop);
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
        put_stats(b, &m->tr);
        prime__buf_puts(b, "},\n   \"test\": ");
        put_stats(b, &m->te);
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
        prime__buf_printf(b, "%-12s %5" PRIu64 " ", ev_str(ev, m->class_off), m->te.size);
        put_num(b, true, m->tr.drop);
        prime__buf_putc(b, ' ');
        put_num(b, true, m->te.acc);
        prime__buf_putc(b, ' ');
        put_num(b, true, m->te.drop);
        prime__buf_putc(b, ' ');
        put_num(b, true, m->te.class_acc);
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

static prime_status render(const void *h, int32_t format, prime__buf *b)
{
    const prime_eval *ev = h;
    if (ev == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "eval is NULL");
    switch (format) {
    case PRIME_FORMAT_JSON: return render_json(ev, b);
    case PRIME_FORMAT_TEXT: return render_text(ev, b);
    default:
        return prime__error(PRIME_E_INVALID_ARG, "an evaluation is written as JSON or text, "
                            "not format %d", format);
    }
}

prime_status prime_eval_render(const prime_eval *ev, int32_t format, char *buf, size_t cap,
                               size_t *needed_out)
{
    if (needed_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_eval_render: needed_out is NULL");
    return prime__render_deliver(render, ev, format, "evaluation", buf, cap, needed_out);
}

prime_status prime_eval_write(const prime_eval *ev, int32_t format, const char *path)
{
    return prime__render_write(render, ev, format, "evaluation", path);
}
