/* The small strict JSON reader of json_mini.h: a tree built on the JSON
 * lexer of the io layer (io/json.c), so that the manifest is read with the
 * rules of every JSON reader of libprime (strings, escapes, numbers, a key
 * given twice, a BOM, messages "NAME:LINE: ..."). */
#include <string.h>

#include "io/io.h"
#include "store/json_mini.h"

#define MAX_DEPTH 8

/* The string just lexed (sp, in the lexer's scratch) as a new C string. */
static prime_status take_string(prime__json *j, const prime__json_span *sp, char **out)
{
    const char *s = sp->n > 0 ? j->scratch + sp->off : "";
    if (sp->n > 0 && memchr(s, '\0', sp->n) != NULL)
        return prime__json_fail_at(j, PRIME_E_PARSE, sp->line, "\\u0000 in a string");
    *out = prime__strndup(s, sp->n);
    j->len = 0; /* the scratch is free again */
    if (*out == NULL)
        return prime__json_fail(j, PRIME_E_NOMEM, "out of memory");
    return PRIME_OK;
}

static prime_status jvalue(prime__json *j, int depth, prime__jv *v);

static prime_status jcontainer(prime__json *j, int depth, bool object, prime__jv *v)
{
    v->type = object ? PRIME__J_OBJECT : PRIME__J_ARRAY;
    char close = object ? '}' : ']';
    size_t cap = 0, kcap = 0;
    j->p++;
    prime__json_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return PRIME_OK;
    }
    for (bool more = true; more;) {
        char *key = NULL;
        prime_status st;
        if (object) {
            prime__json_span sp;
            if ((st = prime__json_key(j, &sp)) != PRIME_OK ||
                (st = take_string(j, &sp, &key)) != PRIME_OK)
                return st;
            for (size_t i = 0; i < v->n; i++) /* as every JSON reader of libprime */
                if (strcmp(v->keys[i], key) == 0) {
                    st = prime__json_fail_at(j, PRIME_E_PARSE, sp.line,
                                             "duplicate key \"%.60s\"", key);
                    prime__free(key);
                    return st;
                }
        }
        if (!prime__grow((void **)&v->items, &cap, v->n + 1, sizeof *v->items) ||
            (object && !prime__grow((void **)&v->keys, &kcap, v->n + 1, sizeof *v->keys))) {
            prime__free(key);
            return prime__json_fail(j, PRIME_E_NOMEM, "out of memory");
        }
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        if (object)
            v->keys[v->n] = key;
        v->n++;
        if ((st = jvalue(j, depth + 1, &v->items[v->n - 1])) != PRIME_OK ||
            (st = prime__json_next(j, close, &more)) != PRIME_OK)
            return st;
    }
    return PRIME_OK;
}

static prime_status jvalue(prime__json *j, int depth, prime__jv *v)
{
    if (depth > MAX_DEPTH)
        return prime__json_fail(j, PRIME_E_PARSE, "nested too deeply");
    int type = prime__json_peek(j);
    if (type == PRIME__JSON_OBJECT || type == PRIME__JSON_ARRAY)
        return jcontainer(j, depth, type == PRIME__JSON_OBJECT, v);
    if (type == PRIME__JSON_STRING) {
        prime__json_span sp;
        prime_status st = prime__json_string(j, &sp);
        if (st != PRIME_OK)
            return st;
        v->type = PRIME__J_STRING;
        v->n = sp.n;
        return take_string(j, &sp, &v->s);
    }
    if (type == PRIME__JSON_NUMBER) {
        prime__json_number_t num;
        prime_status st = prime__json_number(j, &num);
        if (st != PRIME_OK)
            return st;
        if (!num.integer) /* the manifest holds counts only */
            return prime__json_fail_at(j, PRIME_E_PARSE, num.line,
                                       "expected a whole number (no sign, fraction or "
                                       "exponent, at most 2^64-1)");
        v->type = PRIME__J_UINT;
        v->u = num.u;
        return PRIME_OK;
    }
    static const char *const words[] = {"null", "false", "true"};
    for (int k = 0; k < 3; k++)
        if (prime__json_literal(j, words[k])) {
            v->type = PRIME__J_NULL + k;
            return PRIME_OK;
        }
    return prime__json_syntax(j, "expected a value");
}

void prime__mjson_free(prime__jv *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; (v->type == PRIME__J_ARRAY || v->type == PRIME__J_OBJECT) && i < v->n;
         i++) {
        if (v->items != NULL)
            prime__mjson_free(&v->items[i]);
        if (v->keys != NULL)
            prime__free(v->keys[i]);
    }
    prime__free(v->items);
    prime__free(v->keys);
    prime__free(v->s);
    memset(v, 0, sizeof *v);
}

prime_status prime__mjson_parse(const char *data, size_t size, const char *name, prime__jv *out)
{
    if (size > 0 && data == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime__mjson_parse: data is NULL");
    if (data == NULL)
        data = "";
    prime_status st = prime__text_check(data, size, name); /* what the lexer needs */
    if (st != PRIME_OK)
        return st;
    prime__json j;
    prime__json_init(&j, data, size, name, false);
    j.p += prime__text_bom(data, size); /* a UTF-8 BOM, as every text reader skips it */
    prime__jv v;
    memset(&v, 0, sizeof v);
    st = jvalue(&j, 0, &v);
    if (st == PRIME_OK) {
        prime__json_ws(&j);
        if (j.p != j.end)
            st = prime__json_syntax(&j, "unexpected text after the value");
    }
    prime__json_free(&j);
    if (st != PRIME_OK) {
        prime__mjson_free(&v);
        return st;
    }
    *out = v;
    return PRIME_OK;
}

const prime__jv *prime__mjson_get(const prime__jv *obj, const char *key)
{
    if (obj == NULL || obj->type != PRIME__J_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}
