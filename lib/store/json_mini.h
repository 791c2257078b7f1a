/* A small strict JSON reader for the sharded-store manifest and its shard
 * entries (lib/store/shard.c): objects, arrays, strings, non-negative
 * integers, true, false, null. Numbers with a sign, a fraction or an
 * exponent are refused (the manifest holds counts only), and so is a key
 * given twice in one object; a UTF-8 BOM is skipped. Not installed. */
#ifndef PRIME_JSON_MINI_H
#define PRIME_JSON_MINI_H

#include "common/common.h"

enum {
    PRIME__J_NULL,
    PRIME__J_FALSE,
    PRIME__J_TRUE,
    PRIME__J_UINT,
    PRIME__J_STRING,
    PRIME__J_ARRAY,
    PRIME__J_OBJECT
};

typedef struct prime__jv {
    int type;
    uint64_t u;             /* PRIME__J_UINT */
    char *s;                /* PRIME__J_STRING: NUL-terminated, valid UTF-8, no NUL inside */
    size_t n;               /* string length, or the number of items / members */
    struct prime__jv *items; /* array items, object values */
    char **keys;            /* object keys (n of them) */
} prime__jv;

/* Parse data[0..size) as one JSON value (surrounding white space allowed).
 * On failure: PRIME_E_PARSE with "NAME:LINE: what" and *out untouched. */
PRIME_INTERNAL prime_status prime__mjson_parse(const char *data, size_t size, const char *name,
                                              prime__jv *out);
/* Free what prime__mjson_parse allocated (not v itself). */
PRIME_INTERNAL void prime__mjson_free(prime__jv *v);
/* Member `key` of an object, or NULL. */
PRIME_INTERNAL const prime__jv *prime__mjson_get(const prime__jv *obj, const char *key);

#endif /* PRIME_JSON_MINI_H */
