/* The search configuration: typed parameters keyed by stable ids. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"

typedef struct {
    prime_param id;
    const char *name;
    int32_t type;
    double min, max, def;
} param_info;

static const param_info params[] = {
    {PRIME_PARAM_MAX_TAGS, "max_tags", PRIME_PARAM_TYPE_INT, 1, PRIME_MAX_TAGS_LIMIT, 4},
    {PRIME_PARAM_MIN_SIZE, "min_size", PRIME_PARAM_TYPE_INT, 1, 2147483647.0, 30},
    {PRIME_PARAM_MIN_DROP, "min_drop", PRIME_PARAM_TYPE_DOUBLE, 0, 1, 0.30},
    {PRIME_PARAM_MIN_GAIN, "min_gain", PRIME_PARAM_TYPE_DOUBLE_LIST, -1, 1, 0},
    {PRIME_PARAM_MIN_TAG_COUNT, "min_tag_count", PRIME_PARAM_TYPE_INT, 0, 2147483647.0, 0},
    {PRIME_PARAM_THREADS, "threads", PRIME_PARAM_TYPE_INT, 0, 1024, 0},
    {PRIME_PARAM_WHOLE_DATASET, "whole_dataset", PRIME_PARAM_TYPE_INT, 0, 1, 0},
    {PRIME_PARAM_MIN_SIZE_SHARE, "min_size_share", PRIME_PARAM_TYPE_DOUBLE, 0, 1, 0},
    {PRIME_PARAM_FOLD_EQUAL, "fold_equal", PRIME_PARAM_TYPE_INT, 0, 1, 0},
};

static const double default_gain[4] = {0.0, 0.10, 0.05, 0.0};

static const param_info *find_param(prime_param id)
{
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (params[i].id == id)
            return &params[i];
    return NULL;
}

void prime__config_defaults(prime_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_tags = 4;
    c->min_size = 30;
    c->min_drop = 0.30;
    memcpy(c->min_gain, default_gain, sizeof default_gain);
    c->n_min_gain = 4;
    c->min_tag_count = 0;
    c->threads = 0;
    c->whole_dataset = 0;
    c->fold_equal = 0;
}

prime_status prime_config_create(prime_config **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_create: out is NULL");
    *out = NULL; /* a handle out-parameter is NULL on any failure */
    prime_config *c = prime__malloc(sizeof *c);
    if (c == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    prime__config_defaults(c);
    *out = c;
    return PRIME_OK;
}

void prime_config_destroy(prime_config *c)
{
    prime__free(c);
}

prime_status prime_config_clone(const prime_config *c, prime_config **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (c == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_clone: NULL argument");
    prime_config *d = prime__malloc(sizeof *d);
    if (d == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    memcpy(d, c, sizeof *d);
    *out = d;
    return PRIME_OK;
}

prime_status prime_config_reset(prime_config *c)
{
    if (c == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_reset: config is NULL");
    prime__config_defaults(c);
    return PRIME_OK;
}

static int64_t *int_field(prime_config *c, prime_param id)
{
    switch (id) {
    case PRIME_PARAM_MAX_TAGS: return &c->max_tags;
    case PRIME_PARAM_MIN_SIZE: return &c->min_size;
    case PRIME_PARAM_MIN_TAG_COUNT: return &c->min_tag_count;
    case PRIME_PARAM_THREADS: return &c->threads;
    case PRIME_PARAM_WHOLE_DATASET: return &c->whole_dataset;
    case PRIME_PARAM_FOLD_EQUAL: return &c->fold_equal;
    default: return NULL;
    }
}

static prime_status lookup(prime_param id, int32_t want_type, const param_info **out)
{
    const param_info *p = find_param(id);
    if (p == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "unknown parameter id %d", id);
    bool ok = p->type == want_type ||
              (want_type == PRIME_PARAM_TYPE_DOUBLE && p->type == PRIME_PARAM_TYPE_DOUBLE_LIST);
    if (!ok)
        return prime__error(PRIME_E_INVALID_ARG, "parameter %s is not of type %s", p->name,
                            want_type == PRIME_PARAM_TYPE_INT ? "int" : "double");
    *out = p;
    return PRIME_OK;
}

prime_status prime_config_set_int(prime_config *c, prime_param id, int64_t value)
{
    if (c == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_set_int: config is NULL");
    const param_info *p = NULL;
    prime_status st = lookup(id, PRIME_PARAM_TYPE_INT, &p);
    if (st != PRIME_OK)
        return st;
    if ((double)value < p->min || (double)value > p->max)
        return prime__error(PRIME_E_RANGE, "%s = %lld is outside [%.0f, %.0f]", p->name,
                            (long long)value, p->min, p->max);
    *int_field(c, id) = value;
    return PRIME_OK;
}

prime_status prime_config_get_int(const prime_config *c, prime_param id, int64_t *value_out)
{
    if (c == NULL || value_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_get_int: NULL argument");
    const param_info *p = NULL;
    prime_status st = lookup(id, PRIME_PARAM_TYPE_INT, &p);
    if (st != PRIME_OK)
        return st;
    *value_out = *int_field((prime_config *)c, id);
    return PRIME_OK;
}

prime_status prime_config_set_double(prime_config *c, prime_param id, double value)
{
    if (c == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_set_double: config is NULL");
    const param_info *p = NULL;
    prime_status st = lookup(id, PRIME_PARAM_TYPE_DOUBLE, &p);
    if (st != PRIME_OK)
        return st;
    if (!(value >= p->min && value <= p->max))
        return prime__error(PRIME_E_RANGE, "%s = %g is outside [%g, %g]", p->name, value,
                            p->min, p->max);
    if (id == PRIME_PARAM_MIN_DROP) {
        c->min_drop = value;
    } else if (id == PRIME_PARAM_MIN_SIZE_SHARE) {
        c->min_size_share = value;
    } else {
        c->min_gain[0] = value;
        c->n_min_gain = 1;
    }
    return PRIME_OK;
}

prime_status prime_config_get_double(const prime_config *c, prime_param id, double *value_out)
{
    if (c == NULL || value_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_get_double: NULL argument");
    const param_info *p = NULL;
    prime_status st = lookup(id, PRIME_PARAM_TYPE_DOUBLE, &p);
    if (st != PRIME_OK)
        return st;
    *value_out = id == PRIME_PARAM_MIN_DROP         ? c->min_drop
                 : id == PRIME_PARAM_MIN_SIZE_SHARE ? c->min_size_share
                                                    : c->min_gain[0];
    return PRIME_OK;
}

prime_status prime_config_set_min_gain(prime_config *c, const double *values, uint32_t n)
{
    if (c == NULL || values == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_set_min_gain: NULL argument");
    if (n < 1 || n > PRIME_MAX_TAGS_LIMIT)
        return prime__error(PRIME_E_RANGE, "min_gain needs 1 to %d values, not %u",
                            PRIME_MAX_TAGS_LIMIT, n);
    for (uint32_t k = 0; k < n; k++)
        if (!(values[k] >= -1.0 && values[k] <= 1.0))
            return prime__error(PRIME_E_RANGE, "min_gain value %u = %g is outside [-1, 1]",
                                k + 1, values[k]);
    memcpy(c->min_gain, values, (size_t)n * sizeof(double));
    c->n_min_gain = n;
    return PRIME_OK;
}

prime_status prime_config_get_min_gain(const prime_config *c, uint32_t k, double *value_out)
{
    if (c == NULL || value_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_get_min_gain: NULL argument");
    if (k < 1)
        return prime__error(PRIME_E_INVALID_ARG, "min_gain is indexed from k = 1");
    *value_out = prime__config_gain(c, k);
    return PRIME_OK;
}

uint32_t prime_config_min_gain_count(const prime_config *c)
{
    return c ? c->n_min_gain : 0;
}

double prime__config_gain(const prime_config *c, uint32_t k)
{
    uint32_t i = k > c->n_min_gain ? c->n_min_gain : k;
    return c->min_gain[i - 1];
}

int64_t prime__config_tag_count(const prime_config *c)
{
    return c->min_tag_count == 0 ? c->min_size : c->min_tag_count;
}

prime_status prime_config_param_info(prime_param id, int32_t *type_out, double *min_out,
                                     double *max_out, double *default_out)
{
    const param_info *p = find_param(id);
    if (p == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "unknown parameter id %d", id);
    if (type_out)
        *type_out = p->type;
    if (min_out)
        *min_out = p->min;
    if (max_out)
        *max_out = p->max;
    if (default_out)
        *default_out = p->def;
    return PRIME_OK;
}

static bool name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

prime_status prime_config_param_by_name(const char *name, prime_param *param_out)
{
    if (name == NULL || param_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_param_by_name: NULL argument");
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (name_eq(name, params[i].name)) {
            *param_out = params[i].id;
            return PRIME_OK;
        }
    return prime__error(PRIME_E_NOT_FOUND, "unknown parameter \"%.100s\"", name);
}

const char *prime_config_param_name(prime_param id)
{
    const param_info *p = find_param(id);
    return p ? p->name : NULL;
}

static bool parse_int(const char *s, int64_t *out)
{
    /* strict: no blank, no '+' (as every count of the command line), no
       wrap (common/number.c); a '-' is read, so that the range check says
       what is wrong */
    return s[0] != '+' && prime__parse_i64(s, strlen(s), out);
}

prime_status prime_config_set_by_name(prime_config *c, const char *name, const char *value)
{
    if (c == NULL || name == NULL || value == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_config_set_by_name: NULL argument");
    prime_param id;
    prime_status st = prime_config_param_by_name(name, &id);
    if (st != PRIME_OK)
        return st;
    const param_info *p = find_param(id);
    if (id == PRIME_PARAM_WHOLE_DATASET || id == PRIME_PARAM_FOLD_EQUAL) {
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
            return prime_config_set_int(c, id, 1);
        if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
            return prime_config_set_int(c, id, 0);
        return prime__error(PRIME_E_INVALID_ARG, "%s: \"%.40s\" is not true or false", p->name,
                            value);
    }
    size_t vl = strlen(value);
    if (id == PRIME_PARAM_MIN_SIZE && vl > 1 && value[vl - 1] == '%') {
        /* "0.5%": a share of each class (PRIME_PARAM_MIN_SIZE_SHARE) */
        double v;
        if (!prime__parse_double(value, vl - 1, &v) || !(v > 0.0 && v <= 100.0))
            return prime__error(PRIME_E_INVALID_ARG,
                                "%s: \"%.40s\" is not a share above 0%% and at most 100%%",
                                p->name, value);
        return prime_config_set_double(c, PRIME_PARAM_MIN_SIZE_SHARE, v / 100.0);
    }
    if (p->type == PRIME_PARAM_TYPE_INT) {
        int64_t v;
        if (id == PRIME_PARAM_MIN_SIZE && parse_int(value, &v)) {
            st = prime_config_set_int(c, id, v);
            if (st == PRIME_OK)
                c->min_size_share = 0.0; /* an absolute size given as text: no share */
            return st;
        }
        if (!parse_int(value, &v))
            return prime__error(PRIME_E_INVALID_ARG, "%s: \"%.40s\" is not an integer", p->name,
                                value);
        return prime_config_set_int(c, id, v);
    }
    if (p->type == PRIME_PARAM_TYPE_DOUBLE) {
        double v;
        if (!prime__parse_double(value, strlen(value), &v))
            return prime__error(PRIME_E_INVALID_ARG, "%s: \"%.40s\" is not a number", p->name,
                                value);
        return prime_config_set_double(c, id, v);
    }
    /* a comma-separated list */
    double vals[PRIME_MAX_TAGS_LIMIT];
    uint32_t n = 0;
    const char *s = value;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (n == PRIME_MAX_TAGS_LIMIT)
            return prime__error(PRIME_E_RANGE, "%s: more than %d values", p->name,
                                PRIME_MAX_TAGS_LIMIT);
        if (!prime__parse_double(s, len, &vals[n]))
            return prime__error(PRIME_E_INVALID_ARG, "%s: \"%.*s\" is not a number", p->name,
                                (int)(len > 40 ? 40 : len), s);
        n++;
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    return prime_config_set_min_gain(c, vals, n);
}
