/* The result reader (prime_result_load): the JSON that prime_result_write
 * writes (docs/formats.md), read back into a result, over the JSON lexer of
 * io/json.c. It walks the schema as it reads (no document tree): the
 * strings it keeps go to the result's string pool at once, the lexer's
 * scratch holds only the keys of the objects being read. A key given twice
 * is refused (with its line); unknown keys are skipped; every message names
 * the file and the line.
 *
 * A result read back renders byte for byte as the one written. Hand-written
 * files (for prime eval) may leave out "classes", "candidates", a mode's
 * "description" and the parameters other than min_size and min_drop. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "search/search.h"

/* A class as read (or made up for a mode whose class "classes" lacks). */
typedef struct {
    uint64_t name_off; /* into pool */
    uint64_t images;
    double correct, accuracy;
    bool listed;       /* given in "classes" */
    uint64_t line;
} rd_class;

typedef struct {
    uint64_t class_off; /* into pool */
    size_t class_len;
    uint32_t n_tags;
    uint64_t tag_first; /* into tag_off */
    uint64_t size;
    double correct, accuracy, class_accuracy, drop;
    bool has_desc;
    uint64_t desc_off;  /* into pool */
    uint64_t line;
} rd_mode;

typedef struct {
    prime__json j;
    prime__buf pool;
    prime_config config;
    uint64_t candidates;
    rd_class *classes;
    size_t n_classes, cap_classes;
    rd_mode *modes;
    size_t n_modes, cap_modes;
    uint64_t *tag_off;
    size_t n_tags, cap_tags;
    bool has_classes;
} reader;

static prime_status nomem(const reader *r)
{
    return prime__error(PRIME_E_NOMEM, "%s: out of memory", r->j.name);
}

/* ---- objects and arrays ------------------------------------------------------ */

/* Reads one member value of an object; `k` is the index of its key in the
 * object's key list. */
typedef prime_status (*member_fn)(reader *r, void *ctx, const char *where, int k, int depth);

/* The object at p, depth = its nesting level. Known keys (keys[0..nk)) go
 * to fn; others are skipped. A key given twice is refused; a key of
 * required (a bit mask over keys) that is missing is named. */
static prime_status object(reader *r, const char *where, int depth, const char *const *keys,
                           int nk, uint32_t required, member_fn fn, void *ctx)
{
    prime__json *j = &r->j;
    uint64_t line = j->line;
    j->p++; /* '{' */
    size_t mark = j->len;
    prime__json_span *unknown = NULL;
    size_t nu = 0, cap = 0;
    uint64_t seen_line[32] = {0};
    uint32_t seen = 0;
    prime_status st = PRIME_OK;
    prime__json_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
    } else {
        for (;;) {
            prime__json_span key;
            if ((st = prime__json_key(j, &key)) != PRIME_OK)
                goto done;
            int k = -1;
            for (int i = 0; i < nk; i++)
                if (strlen(keys[i]) == key.n && memcmp(keys[i], j->scratch + key.off, key.n) == 0)
                    k = i;
            if (k >= 0) {
                if (seen & (1u << k)) {
                    st = prime__json_fail_at(j, PRIME_E_PARSE, key.line,
                                             "%s: duplicate key \"%s\" (first on line %" PRIu64
                                             ")",
                                             where, keys[k], seen_line[k]);
                    goto done;
                }
                seen |= 1u << k;
                seen_line[k] = key.line;
                j->len = key.off;
                if ((st = fn(r, ctx, where, k, depth)) != PRIME_OK)
                    goto done;
                j->len = key.off;
            } else {
                if (nu >= cap && !prime__grow((void **)&unknown, &cap, nu + 1, sizeof *unknown)) {
                    st = nomem(r);
                    goto done;
                }
                unknown[nu++] = key;
                if ((st = prime__json_skip(j, depth)) != PRIME_OK)
                    goto done;
            }
            bool more;
            if ((st = prime__json_next(j, '}', &more)) != PRIME_OK)
                goto done;
            if (!more)
                break;
        }
    }
    if ((st = prime__json_check_keys(j, unknown, nu)) != PRIME_OK)
        goto done;
    for (int i = 0; i < nk; i++) {
        if ((required & (1u << i)) && !(seen & (1u << i))) {
            st = prime__json_fail_at(j, PRIME_E_PARSE, line, "%s: missing key \"%s\"", where,
                                     keys[i]);
            goto done;
        }
    }
done:
    prime__free(unknown);
    j->len = mark;
    return st;
}

/* Reads element i of an array. */
typedef prime_status (*element_fn)(reader *r, void *ctx, uint64_t i, int depth);

static prime_status array(reader *r, int depth, element_fn fn, void *ctx)
{
    prime__json *j = &r->j;
    j->p++; /* '[' */
    prime__json_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return PRIME_OK;
    }
    for (uint64_t i = 0;; i++) {
        prime_status st = fn(r, ctx, i, depth);
        bool more = false;
        if (st == PRIME_OK)
            st = prime__json_next(j, ']', &more);
        if (st != PRIME_OK || !more)
            return st;
    }
}

/* ---- values --------------------------------------------------------------- */

/* The value at p must be of `type`; `key` names it in the message. */
static prime_status expect(reader *r, const char *where, const char *key, int type)
{
    prime__json *j = &r->j;
    int t = prime__json_peek(j);
    if (t < 0)
        return prime__json_syntax(j, "expected a value");
    if (t == type)
        return PRIME_OK;
    return prime__json_fail(j, PRIME_E_PARSE, "%s: \"%s\" must be %s, not %s", where, key,
                            prime__json_type_name(type), prime__json_type_name(t));
}

static prime_status read_number(reader *r, const char *where, const char *key,
                                prime__json_number_t *n)
{
    prime_status st = expect(r, where, key, PRIME__JSON_NUMBER);
    return st != PRIME_OK ? st : prime__json_number(&r->j, n);
}

/* A count: a non-negative integer (a whole number like 3.0 too, up to 2^53). */
static prime_status read_count(reader *r, const char *where, const char *key, uint64_t *out)
{
    prime__json_number_t n;
    prime_status st = read_number(r, where, key, &n);
    if (st != PRIME_OK)
        return st;
    if (n.integer) {
        *out = n.u;
        return PRIME_OK;
    }
    if (!(n.v >= 0.0) || n.v > 9007199254740992.0 || n.v != floor(n.v))
        return prime__json_fail_at(&r->j, PRIME_E_PARSE, n.line,
                                   "%s: \"%s\" must be a non-negative integer", where, key);
    *out = (uint64_t)n.v;
    return PRIME_OK;
}

/* A number in [lo, hi] (with the search's slack); null as NaN if allowed. */
static prime_status read_real(reader *r, const char *where, const char *key, double lo,
                              double hi, bool null_ok, double *out)
{
    if (null_ok && prime__json_peek(&r->j) == PRIME__JSON_NULL &&
        prime__json_literal(&r->j, "null")) {
        *out = NAN;
        return PRIME_OK;
    }
    prime__json_number_t n;
    prime_status st = read_number(r, where, key, &n);
    if (st != PRIME_OK)
        return st;
    if (!(n.v >= lo - PRIME_EPS && n.v <= hi + PRIME_EPS))
        return prime__json_fail_at(&r->j, PRIME_E_PARSE, n.line,
                                   "%s: \"%s\" = %g is outside [%g, %g]", where, key, n.v, lo,
                                   hi);
    *out = n.v;
    return PRIME_OK;
}

/* A string, copied to the pool NUL-terminated; *len_out its length. */
static prime_status read_string(reader *r, const char *where, const char *key,
                                uint64_t *off_out, size_t *len_out, uint64_t *line_out)
{
    prime__json *j = &r->j;
    prime_status st = expect(r, where, key, PRIME__JSON_STRING);
    if (st != PRIME_OK)
        return st;
    prime__json_span s;
    size_t mark = j->len;
    if ((st = prime__json_string(j, &s)) != PRIME_OK)
        return st;
    const char *p = j->scratch + s.off;
    if (memchr(p, '\0', s.n) != NULL)
        return prime__json_fail_at(j, PRIME_E_PARSE, s.line, "%s: \"%s\" holds \\u0000", where,
                                   key);
    *off_out = r->pool.len;
    prime__buf_append(&r->pool, p, s.n);
    prime__buf_putc(&r->pool, '\0');
    j->len = mark;
    if (r->pool.failed)
        return nomem(r);
    if (len_out != NULL)
        *len_out = s.n;
    if (line_out != NULL)
        *line_out = s.line;
    return PRIME_OK;
}

static prime_status read_bool(reader *r, const char *where, const char *key, bool *out)
{
    prime_status st = expect(r, where, key, PRIME__JSON_BOOL);
    if (st != PRIME_OK)
        return st;
    if (prime__json_literal(&r->j, "true"))
        *out = true;
    else if (prime__json_literal(&r->j, "false"))
        *out = false;
    else
        return prime__json_syntax(&r->j, "expected a value");
    return PRIME_OK;
}

/* A parameter checked by the configuration's own setter: its message, with
 * the file and line in front. */
static prime_status param_status(reader *r, prime_status st, uint64_t line)
{
    return st == PRIME_OK ? st : prime__error_at(st, r->j.name, line);
}

/* An element of an array that must be an object; `where` names it. */
static prime_status expect_object(reader *r, const char *where)
{
    int t = prime__json_peek(&r->j);
    if (t == PRIME__JSON_OBJECT)
        return PRIME_OK;
    return t < 0 ? prime__json_syntax(&r->j, "expected a value")
                 : prime__json_fail(&r->j, PRIME_E_PARSE, "%s must be an object, not %s", where,
                                    prime__json_type_name(t));
}

/* ---- params ------------------------------------------------------------------ */

enum { P_MAX_TAGS, P_MIN_SIZE, P_MIN_DROP, P_MIN_GAIN, P_MIN_TAG_COUNT, P_WHOLE,
       P_MIN_SIZE_SHARE, N_PARAMS };
static const char *const param_keys[N_PARAMS] = {"max_tags", "min_size", "min_drop",
                                                 "min_gain", "min_tag_count", "whole_dataset",
                                                 "min_size_share"};

typedef struct {
    double v[PRIME_MAX_TAGS_LIMIT];
    uint32_t n;
    uint64_t line;
} gains;

static prime_status gain_element(reader *r, void *ctx, uint64_t i, int depth)
{
    (void)depth;
    (void)i;
    gains *g = ctx;
    double v = 0.0;
    prime_status st = read_real(r, "params", "min_gain", -1.0, 1.0, false, &v);
    if (st != PRIME_OK)
        return st;
    if (g->n >= PRIME_MAX_TAGS_LIMIT)
        return prime__json_fail(&r->j, PRIME_E_PARSE, "params: \"min_gain\" has more than %d "
                                "values", PRIME_MAX_TAGS_LIMIT);
    g->v[g->n++] = v;
    return PRIME_OK;
}

static prime_status param_member(reader *r, void *ctx, const char *where, int k, int depth)
{
    (void)ctx;
    prime__json *j = &r->j;
    prime_config *c = &r->config;
    uint64_t line = j->line, u;
    prime_status st;
    switch (k) {
    case P_MAX_TAGS:
    case P_MIN_SIZE:
    case P_MIN_TAG_COUNT: {
        static const prime_param ids[] = {PRIME_PARAM_MAX_TAGS, PRIME_PARAM_MIN_SIZE, 0, 0,
                                          PRIME_PARAM_MIN_TAG_COUNT};
        if ((st = read_count(r, where, param_keys[k], &u)) != PRIME_OK)
            return st;
        return param_status(r, prime_config_set_int(c, ids[k], u > INT64_MAX ? INT64_MAX
                                                                             : (int64_t)u),
                            line);
    }
    case P_MIN_DROP: {
        double v = 0.0;
        if ((st = read_real(r, where, param_keys[k], 0.0, 1.0, false, &v)) != PRIME_OK)
            return st;
        c->min_drop = v; /* as written, within the slack */
        return PRIME_OK;
    }
    case P_MIN_SIZE_SHARE: { /* a relative minimum size (issue 15), when written */
        double v = 0.0;
        if ((st = read_real(r, where, param_keys[k], 0.0, 1.0, false, &v)) != PRIME_OK)
            return st;
        c->min_size_share = v;
        return PRIME_OK;
    }
    case P_MIN_GAIN: {
        gains g = {.n = 0, .line = line};
        if ((st = expect(r, where, param_keys[k], PRIME__JSON_ARRAY)) != PRIME_OK ||
            (st = array(r, depth + 1, gain_element, &g)) != PRIME_OK)
            return st;
        return param_status(r, prime_config_set_min_gain(c, g.v, g.n), line);
    }
    default: {
        bool b = false;
        if ((st = read_bool(r, where, param_keys[k], &b)) != PRIME_OK)
            return st;
        c->whole_dataset = b;
        return PRIME_OK;
    }
    }
}

/* ---- classes ------------------------------------------------------------------ */

enum { C_CLASS, C_IMAGES, C_CORRECT, C_ACCURACY, N_CKEYS };
static const char *const class_keys[N_CKEYS] = {"class", "images", "correct", "accuracy"};

static prime_status class_member(reader *r, void *ctx, const char *where, int k, int depth)
{
    (void)depth;
    rd_class *c = ctx;
    size_t len;
    prime_status st;
    switch (k) {
    case C_CLASS:
        if ((st = read_string(r, where, class_keys[k], &c->name_off, &len, NULL)) != PRIME_OK)
            return st;
        if (len == 0)
            return prime__json_fail(&r->j, PRIME_E_PARSE, "%s: empty class name", where);
        return PRIME_OK;
    case C_IMAGES: return read_count(r, where, class_keys[k], &c->images);
    case C_CORRECT: return read_real(r, where, class_keys[k], 0.0, INFINITY, false, &c->correct);
    default: return read_real(r, where, class_keys[k], 0.0, 1.0, true, &c->accuracy);
    }
}

static prime_status class_element(reader *r, void *ctx, uint64_t i, int depth)
{
    (void)ctx;
    char where[48];
    snprintf(where, sizeof where, "classes[%" PRIu64 "]", i);
    prime__json *j = &r->j;
    prime_status st0 = expect_object(r, where);
    if (st0 != PRIME_OK)
        return st0;
    rd_class c = {.line = j->line, .listed = true};
    prime_status st = object(r, where, depth + 1, class_keys, N_CKEYS, (1u << N_CKEYS) - 1,
                             class_member, &c);
    if (st != PRIME_OK)
        return st;
    if (c.correct > (double)c.images + PRIME_EPS)
        return prime__json_fail_at(j, PRIME_E_PARSE, c.line,
                                   "%s: \"correct\" = %g is more than its %" PRIu64 " images",
                                   where, c.correct, c.images);
    if (!prime__grow((void **)&r->classes, &r->cap_classes, r->n_classes + 1,
                     sizeof *r->classes))
        return nomem(r);
    r->classes[r->n_classes++] = c;
    return PRIME_OK;
}

/* ---- failure modes ------------------------------------------------------------ */

enum { M_CLASS, M_TAGS, M_SIZE, M_CORRECT, M_ACCURACY, M_CLASS_ACCURACY, M_DROP, M_DESC,
       N_MKEYS };
static const char *const mode_keys[N_MKEYS] = {"class",    "tags",           "size",
                                               "correct",  "accuracy",       "class_accuracy",
                                               "drop",     "description"};

typedef struct {
    rd_mode *m;
    const char *where;
} mode_ctx;

static prime_status tag_element(reader *r, void *ctx, uint64_t i, int depth)
{
    (void)depth;
    mode_ctx *mc = ctx;
    rd_mode *m = mc->m;
    prime__json *j = &r->j;
    int t = prime__json_peek(j);
    if (t != PRIME__JSON_STRING)
        return t < 0 ? prime__json_syntax(j, "expected a value")
                     : prime__json_fail(j, PRIME_E_PARSE, "%s: tag %" PRIu64
                                        " must be a string, not %s",
                                        mc->where, i, prime__json_type_name(t));
    if (m->n_tags >= PRIME_MAX_TAGS_LIMIT)
        return prime__json_fail(j, PRIME_E_PARSE, "%s: a mode has 1 to %d tags, not more",
                                mc->where, PRIME_MAX_TAGS_LIMIT);
    uint64_t off, line;
    size_t len;
    prime_status st = read_string(r, mc->where, "tags", &off, &len, &line);
    if (st != PRIME_OK)
        return st;
    if (len == 0 || len > PRIME_MAX_TAG_NAME)
        return prime__json_fail_at(j, PRIME_E_PARSE, line,
                                   "%s: tag %" PRIu64 ": a tag name has 1 to %d bytes",
                                   mc->where, i, PRIME_MAX_TAG_NAME);
    const char *name = r->pool.data + off;
    for (uint32_t q = 0; q < m->n_tags; q++)
        if (strcmp(r->pool.data + r->tag_off[m->tag_first + q], name) == 0)
            return prime__json_fail_at(j, PRIME_E_PARSE, line, "%s: tag \"%s\" is given twice",
                                       mc->where, name);
    if (!prime__grow((void **)&r->tag_off, &r->cap_tags, r->n_tags + 1, sizeof *r->tag_off))
        return nomem(r);
    r->tag_off[r->n_tags++] = off;
    m->n_tags++;
    return PRIME_OK;
}

static prime_status mode_member(reader *r, void *ctx, const char *where, int k, int depth)
{
    mode_ctx *mc = ctx;
    rd_mode *m = mc->m;
    prime_status st;
    switch (k) {
    case M_CLASS:
        if ((st = read_string(r, where, mode_keys[k], &m->class_off, &m->class_len, NULL)) !=
            PRIME_OK)
            return st;
        if (m->class_len == 0)
            return prime__json_fail(&r->j, PRIME_E_PARSE, "%s: empty class name", where);
        return PRIME_OK;
    case M_TAGS: {
        uint64_t line = r->j.line;
        if ((st = expect(r, where, mode_keys[k], PRIME__JSON_ARRAY)) != PRIME_OK)
            return st;
        /* the tags of one mode are consecutive in tag_off: a mode's "tags"
           is read once (a second one is a duplicate key) */
        m->tag_first = r->n_tags;
        m->n_tags = 0;
        if ((st = array(r, depth + 1, tag_element, mc)) != PRIME_OK)
            return st;
        if (m->n_tags < 1)
            return prime__json_fail_at(&r->j, PRIME_E_PARSE, line,
                                       "%s: a mode has 1 to %d tags, not 0", where,
                                       PRIME_MAX_TAGS_LIMIT);
        return PRIME_OK;
    }
    case M_SIZE: return read_count(r, where, mode_keys[k], &m->size);
    case M_CORRECT: return read_real(r, where, mode_keys[k], 0.0, INFINITY, false, &m->correct);
    case M_ACCURACY: return read_real(r, where, mode_keys[k], 0.0, 1.0, false, &m->accuracy);
    case M_CLASS_ACCURACY:
        return read_real(r, where, mode_keys[k], 0.0, 1.0, false, &m->class_accuracy);
    case M_DROP: return read_real(r, where, mode_keys[k], -1.0, 1.0, false, &m->drop);
    default:
        m->has_desc = true;
        return read_string(r, where, mode_keys[k], &m->desc_off, NULL, NULL);
    }
}

static prime_status mode_element(reader *r, void *ctx, uint64_t i, int depth)
{
    (void)ctx;
    char where[48];
    snprintf(where, sizeof where, "failure_modes[%" PRIu64 "]", i);
    prime__json *j = &r->j;
    prime_status st0 = expect_object(r, where);
    if (st0 != PRIME_OK)
        return st0;
    rd_mode m = {.line = j->line};
    mode_ctx mc = {&m, where};
    prime_status st = object(r, where, depth + 1, mode_keys, N_MKEYS,
                             ((1u << N_MKEYS) - 1) & ~(1u << M_DESC), mode_member, &mc);
    if (st != PRIME_OK)
        return st;
    if (m.correct > (double)m.size + PRIME_EPS)
        return prime__json_fail_at(j, PRIME_E_PARSE, m.line,
                                   "%s: \"correct\" = %g is outside [0, %" PRIu64 "]", where,
                                   m.correct, m.size);
    if (!prime__grow((void **)&r->modes, &r->cap_modes, r->n_modes + 1, sizeof *r->modes))
        return nomem(r);
    r->modes[r->n_modes++] = m;
    return PRIME_OK;
}

/* ---- the document ---------------------------------------------------------------- */

enum { R_PARAMS, R_CLASSES, R_MODES, R_CANDIDATES, N_RKEYS };
static const char *const root_keys[N_RKEYS] = {"params", "classes", "failure_modes",
                                               "candidates"};

static prime_status root_member(reader *r, void *ctx, const char *where, int k, int depth)
{
    (void)ctx;
    prime_status st;
    switch (k) {
    case R_PARAMS:
        if ((st = expect(r, where, root_keys[k], PRIME__JSON_OBJECT)) != PRIME_OK)
            return st;
        return object(r, "params", depth + 1, param_keys, N_PARAMS,
                      1u << P_MIN_SIZE | 1u << P_MIN_DROP, param_member, NULL);
    case R_CLASSES:
        if ((st = expect(r, where, root_keys[k], PRIME__JSON_ARRAY)) != PRIME_OK)
            return st;
        r->has_classes = true;
        return array(r, depth + 1, class_element, NULL);
    case R_MODES:
        if ((st = expect(r, where, root_keys[k], PRIME__JSON_ARRAY)) != PRIME_OK)
            return st;
        return array(r, depth + 1, mode_element, NULL);
    default:
        if (prime__json_peek(&r->j) == PRIME__JSON_NULL && prime__json_literal(&r->j, "null")) {
            r->candidates = 0;
            return PRIME_OK;
        }
        return read_count(r, where, root_keys[k], &r->candidates);
    }
}

/* ---- the result ------------------------------------------------------------------ */

static _Thread_local const char *sort_pool;

static int cmp_class_name(const void *a, const void *b)
{
    const rd_class *x = a, *y = b;
    return strcmp(sort_pool + x->name_off, sort_pool + y->name_off);
}

static bool same(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* A mode given twice (its class and the same set of tags, in any order) is
 * refused: prime eval would measure and count it twice. The modes sorted
 * by class, tag count and sorted tags (ties by position), the equal
 * neighbours found; the first repeat in the file is named. */
static _Thread_local const struct twice_ctx {
    const uint32_t *class_of;
    const rd_mode *modes;
    const char *const *tags; /* per mode, its tag names sorted */
} *twice;

static int cmp_mode_key(const size_t *a, const size_t *b)
{
    const rd_mode *x = &twice->modes[*a], *y = &twice->modes[*b];
    if (twice->class_of[*a] != twice->class_of[*b])
        return twice->class_of[*a] < twice->class_of[*b] ? -1 : 1;
    if (x->n_tags != y->n_tags)
        return x->n_tags < y->n_tags ? -1 : 1;
    for (uint32_t q = 0; q < x->n_tags; q++) {
        int c = strcmp(twice->tags[x->tag_first + q], twice->tags[y->tag_first + q]);
        if (c != 0)
            return c;
    }
    return 0;
}

static int cmp_mode_pos(const void *a, const void *b)
{
    int c = cmp_mode_key(a, b);
    return c != 0 ? c : *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static prime_status refuse_twice(reader *r, const uint32_t *class_of)
{
    if (r->n_modes < 2)
        return PRIME_OK;
    const char **tags = prime__malloc((r->n_tags ? r->n_tags : 1) * sizeof *tags);
    size_t *order = prime__malloc(r->n_modes * sizeof *order);
    if (tags == NULL || order == NULL) {
        prime__free(tags);
        prime__free(order);
        return nomem(r);
    }
    for (size_t i = 0; i < r->n_modes; i++) {
        const rd_mode *m = &r->modes[i];
        const char **t = tags + m->tag_first;
        for (uint32_t q = 0; q < m->n_tags; q++) { /* at most 16: insertion sort */
            const char *x = r->pool.data + r->tag_off[m->tag_first + q];
            uint32_t k = q;
            for (; k > 0 && strcmp(t[k - 1], x) > 0; k--)
                t[k] = t[k - 1];
            t[k] = x;
        }
        order[i] = i;
    }
    struct twice_ctx ctx = {class_of, r->modes, tags};
    twice = &ctx;
    qsort(order, r->n_modes, sizeof *order, cmp_mode_pos);
    size_t repeat = SIZE_MAX, first = 0;
    for (size_t k = 1; k < r->n_modes; k++)
        if (order[k] < repeat && cmp_mode_key(&order[k - 1], &order[k]) == 0) {
            size_t f = k - 1; /* the first of its run */
            while (f > 0 && cmp_mode_key(&order[f - 1], &order[k]) == 0)
                f--;
            repeat = order[k];
            first = order[f];
        }
    twice = NULL;
    prime__free(tags);
    prime__free(order);
    if (repeat == SIZE_MAX)
        return PRIME_OK;
    const rd_mode *m = &r->modes[repeat];
    return prime__json_fail_at(&r->j, PRIME_E_DUPLICATE, m->line,
                               "failure_modes[%zu]: the mode of class \"%.*s\" with the same "
                               "tags as failure_modes[%zu] (line %" PRIu64 ") is given twice",
                               repeat, (int)m->class_len, r->pool.data + m->class_off, first,
                               r->modes[first].line);
}

/* Classes sorted by name, each mode tied to its class (a class that
 * "classes" lacks is added with 0 images and the mode's class accuracy),
 * descriptions made for modes without one; then the result. */
static prime_status build(reader *r, prime_result **out)
{
    prime__json *j = &r->j;
    prime__names index;
    memset(&index, 0, sizeof index);
    uint32_t *class_of = NULL, *rank = NULL;
    prime_result *res = NULL;
    prime_status st = PRIME_OK;
    /* the listed classes, then the made-up ones, by name */
    for (size_t i = 0; i < r->n_classes; i++) {
        const char *name = r->pool.data + r->classes[i].name_off;
        if (prime__names_find(&index, name, strlen(name)) != PRIME_NONE) {
            st = prime__json_fail_at(j, PRIME_E_PARSE, r->classes[i].line,
                                     "classes[%zu]: class \"%s\" is listed twice", i, name);
            goto done;
        }
        uint32_t id;
        if ((st = prime__names_push(&index, name, strlen(name), true, &id)) != PRIME_OK)
            goto done;
    }
    class_of = prime__malloc((r->n_modes ? r->n_modes : 1) * sizeof *class_of);
    if (class_of == NULL)
        goto nomem;
    for (size_t i = 0; i < r->n_modes; i++) {
        const rd_mode *m = &r->modes[i];
        const char *name = r->pool.data + m->class_off;
        uint32_t id = prime__names_find(&index, name, m->class_len);
        if (id == PRIME_NONE) {
            if ((st = prime__names_push(&index, name, m->class_len, true, &id)) != PRIME_OK)
                goto done;
            if (!prime__grow((void **)&r->classes, &r->cap_classes, r->n_classes + 1,
                             sizeof *r->classes))
                goto nomem;
            r->classes[r->n_classes++] = (rd_class){.name_off = m->class_off,
                                                    .images = 0,
                                                    .correct = 0.0,
                                                    .accuracy = m->class_accuracy,
                                                    .line = m->line};
        }
        const rd_class *c = &r->classes[id];
        if (!same(c->accuracy, m->class_accuracy)) {
            st = prime__json_fail_at(
                j, PRIME_E_PARSE, m->line,
                "failure_modes[%zu]: \"class_accuracy\" = %.17g, but class \"%s\" has accuracy "
                "%.17g (%s line %" PRIu64 ")",
                i, m->class_accuracy, name, c->accuracy,
                c->listed ? "\"classes\"," : "the first mode of the class,", c->line);
            goto done;
        }
        class_of[i] = id;
    }
    if ((st = refuse_twice(r, class_of)) != PRIME_OK)
        goto done;
    if (r->n_classes >= PRIME_NONE) {
        st = prime__json_fail(j, PRIME_E_LIMIT, "more than %u classes", PRIME_NONE - 1);
        goto done;
    }
    uint32_t nc = (uint32_t)r->n_classes;
    /* rank[id] = position of class id by name */
    rd_class *sorted = prime__malloc((nc ? nc : 1) * sizeof *sorted);
    rank = prime__malloc((nc ? nc : 1) * sizeof *rank);
    if (sorted == NULL || rank == NULL) {
        prime__free(sorted);
        goto nomem;
    }
    for (uint32_t i = 0; i < nc; i++) {
        sorted[i] = r->classes[i];
        sorted[i].line = i; /* the id, carried through the sort */
    }
    sort_pool = r->pool.data;
    qsort(sorted, nc, sizeof *sorted, cmp_class_name);
    sort_pool = NULL;
    for (uint32_t i = 0; i < nc; i++)
        rank[sorted[i].line] = i;

    /* descriptions of the modes that have none, as the search words them */
    for (size_t i = 0; i < r->n_modes; i++) {
        rd_mode *m = &r->modes[i];
        if (m->has_desc)
            continue;
        m->desc_off = r->pool.len;
        prime__buf_puts(&r->pool, "a photo of");
        if (!r->config.whole_dataset) {
            prime__buf_putc(&r->pool, ' ');
            prime__buf_append(&r->pool, r->pool.data + m->class_off, m->class_len);
        }
        for (uint32_t k = 0; k < m->n_tags; k++) {
            prime__buf_putc(&r->pool, ' ');
            prime__buf_puts(&r->pool, r->pool.data + r->tag_off[m->tag_first + k]);
        }
        prime__buf_putc(&r->pool, '\0');
        if (r->pool.failed) {
            prime__free(sorted);
            goto nomem;
        }
    }
    if (r->pool.data == NULL)
        prime__buf_putc(&r->pool, '\0');
    if (r->pool.failed) {
        prime__free(sorted);
        goto nomem;
    }

    res = prime__calloc(1, sizeof *res);
    size_t nt = r->n_tags ? r->n_tags : 1;
    if (res != NULL) {
        res->classes = prime__calloc(nc ? nc : 1, sizeof *res->classes);
        res->modes = prime__calloc(r->n_modes ? r->n_modes : 1, sizeof *res->modes);
        res->mode_tags = prime__malloc(nt * sizeof *res->mode_tags);
        res->mode_tag_name_off = prime__malloc(nt * sizeof *res->mode_tag_name_off);
    }
    if (res == NULL || res->classes == NULL || res->modes == NULL || res->mode_tags == NULL ||
        res->mode_tag_name_off == NULL) {
        prime__free(sorted);
        goto nomem;
    }
    res->config = r->config;
    res->n_classes = nc;
    for (uint32_t i = 0; i < nc; i++) {
        prime__class_stat *c = &res->classes[i];
        c->class_id = PRIME_NONE;
        c->images = sorted[i].images;
        c->correct = sorted[i].correct;
        c->accuracy = sorted[i].accuracy;
        c->name_off = sorted[i].name_off;
    }
    prime__free(sorted);
    res->n_modes = r->n_modes;
    for (size_t i = 0; i < r->n_modes; i++) {
        const rd_mode *m = &r->modes[i];
        prime__mode *d = &res->modes[i];
        d->class_index = rank[class_of[i]];
        d->n_tags = m->n_tags;
        d->tag_first = (uint32_t)m->tag_first;
        d->size = m->size;
        d->correct = m->correct;
        d->accuracy = m->accuracy;
        d->drop = m->drop;
        d->description_off = m->desc_off;
    }
    for (size_t k = 0; k < r->n_tags; k++) {
        res->mode_tags[k] = PRIME_NONE;
        res->mode_tag_name_off[k] = r->tag_off[k];
    }
    res->n_mode_tags = r->n_tags;
    res->strings = r->pool.data;
    res->strings_len = r->pool.len;
    r->pool.data = NULL;
    r->pool.len = r->pool.cap = 0;
    res->n_candidates = r->candidates;
    *out = res;
    res = NULL;
    goto done;
nomem:
    st = nomem(r);
done:
    prime_result_destroy(res);
    prime__names_free(&index);
    prime__free(class_of);
    prime__free(rank);
    return st;
}

prime_status prime_result_load_memory(const void *data, size_t size, const char *name,
                                      prime_result **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_result_load_memory: out is NULL");
    *out = NULL;
    if (data == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_result_load_memory: data is NULL");
    if (data == NULL)
        data = "";
    if (name == NULL)
        name = PRIME__NONAME;
    prime_status st = prime__text_check(data, size, name);
    if (st != PRIME_OK)
        return st;
    reader r;
    memset(&r, 0, sizeof r);
    size_t bom = prime__text_bom(data, size);
    prime__json_init(&r.j, (const char *)data + bom, size - bom, name, false);
    prime__config_defaults(&r.config);
    prime__json *j = &r.j;
    int t = prime__json_peek(j);
    if (j->p >= j->end) {
        st = prime__json_fail(j, PRIME_E_PARSE, "empty file");
    } else if (t != PRIME__JSON_OBJECT) {
        st = t < 0 ? prime__json_syntax(j, "expected a value")
                   : prime__json_fail(j, PRIME_E_PARSE, "a result must be a JSON object, not %s",
                                      prime__json_type_name(t));
    } else {
        st = object(&r, "result", 1, root_keys, N_RKEYS, 1u << R_PARAMS | 1u << R_MODES,
                    root_member, NULL);
        if (st == PRIME_OK) {
            prime__json_ws(j);
            if (j->p < j->end)
                st = prime__json_syntax(j, "expected the end of the file after the result");
        }
    }
    if (st == PRIME_OK)
        st = build(&r, out);
    prime__json_free(&r.j);
    prime__buf_free(&r.pool);
    prime__free(r.classes);
    prime__free(r.modes);
    prime__free(r.tag_off);
    return st;
}

static prime_status parse_result(const char *data, size_t size, const char *name, void *out)
{
    return prime_result_load_memory(data, size, name, out);
}

prime_status prime_result_load(const char *path, prime_result **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_result_load: out is NULL");
    *out = NULL;
    if (path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_result_load: path is NULL");
    return prime__parse_file(path, parse_result, out);
}
