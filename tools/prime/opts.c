/* Option parsing of the `prime` commands: --name VALUE and --name=VALUE,
 * checked against each command's table, and strict numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int opts_next(opts *o, const char **value)
{
    *value = NULL;
    if (o->i >= o->argc)
        return OPT_END;
    const char *s = o->argv[o->i++];
    if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
        *value = s;
        return OPT_ARG;
    }
    const char *eq = strchr(s, '=');
    size_t len = eq != NULL ? (size_t)(eq - s) : strlen(s);
    int k;
    for (k = 0; o->specs[k].name != NULL; k++)
        if (strlen(o->specs[k].name) == len && strncmp(o->specs[k].name, s, len) == 0)
            break;
    const char *ctx = o->context != NULL ? o->context : "";
    o->rc = EXIT_USAGE;
    if (o->specs[k].name == NULL) { /* unknown: say so, whatever follows */
        usage_error("unknown option '%.*s'%s", (int)len, s, ctx);
        return OPT_ERROR;
    }
    const char *name = o->specs[k].name;
    if (o->specs[k].kind == OPT_FLAG) {
        if (eq != NULL) {
            usage_error("%s takes no value", name);
            return OPT_ERROR;
        }
        o->rc = 0;
        return k;
    }
    const char *v = eq != NULL ? eq + 1 : o->i < o->argc ? o->argv[o->i++] : NULL;
    if (v == NULL) {
        usage_error("option %s needs a value", name);
        return OPT_ERROR;
    }
    if (v[0] == '\0' && o->specs[k].kind != OPT_VALUE_EMPTY_OK) {
        usage_error("option %s needs a value, not an empty text", name);
        return OPT_ERROR;
    }
    o->rc = 0;
    *value = v;
    return k;
}

int opts_option(opts *o, const char **value)
{
    int k = opts_next(o, value);
    if (k != OPT_ARG)
        return k;
    o->rc = usage_error("unexpected argument '%s'", *value);
    return OPT_ERROR;
}

int opt_uint(const char *name, const char *v, uint64_t lo, uint64_t hi, const char *what,
             uint64_t *out)
{
    uint64_t x;
    if (prime_parse_u64(v, &x) != PRIME_OK || x < lo || x > hi) {
        prime_clear_error();
        usage_error("%s must be %s, not '%s'", name, what, v);
        return 0;
    }
    *out = x;
    return 1;
}

int opt_double(const char *name, const char *v, double lo, double hi, int lo_open,
               const char *what, double *out)
{
    double x;
    if (prime_parse_double(v, &x) != PRIME_OK || x > hi || (lo_open ? !(x > lo) : x < lo)) {
        prime_clear_error();
        usage_error("%s must be %s, not '%s'", name, what, v);
        return 0;
    }
    *out = x;
    return 1;
}

int opt_triple(const char *v, double out[3])
{
    const char *p = v;
    for (int k = 0; k < 3; k++) {
        const char *end = k < 2 ? strchr(p, ',') : p + strlen(p);
        if (end == NULL || (size_t)(end - p) >= 64)
            return 0;
        char tmp[64];
        memcpy(tmp, p, (size_t)(end - p));
        tmp[end - p] = '\0';
        if (prime_parse_double(tmp, &out[k]) != PRIME_OK) {
            prime_clear_error();
            return 0;
        }
        p = end + 1;
    }
    return 1;
}

int opt_format(const char *v, int allow_csv, int32_t *out)
{
    if (strcmp(v, "json") == 0)
        *out = PRIME_FORMAT_JSON;
    else if (strcmp(v, "text") == 0)
        *out = PRIME_FORMAT_TEXT;
    else if (allow_csv && strcmp(v, "csv") == 0)
        *out = PRIME_FORMAT_CSV;
    else {
        usage_error("--format must be %s, not '%s'", allow_csv ? "json, csv or text"
                                                                : "json or text", v);
        return 0;
    }
    return 1;
}

#ifndef PRIME_DATA_INSTALLED
#define PRIME_DATA_INSTALLED "/usr/local/share/libprime"
#endif

const char *data_dir(void)
{
    const char *env = getenv("PRIME_DATA_DIR");
    return (env != NULL && env[0] != '\0') ? env : PRIME_DATA_INSTALLED;
}

const char *data_file(const char *given, const char *default_rel, char *buf, size_t cap)
{
    const char *rel = given != NULL ? given : default_rel;
    if (rel == NULL)
        return NULL;
    if (given != NULL && (given[0] == '/' || access(given, F_OK) == 0))
        return given;
    int n = snprintf(buf, cap, "%s/%s", data_dir(), rel);
    if (n < 0 || (size_t)n >= cap)
        return given != NULL ? given : rel;
    if (given != NULL && access(buf, F_OK) != 0)
        return given;
    return buf;
}
