/* The small strict JSON reader of json_mini.h. */
#include <string.h>

#include "io/io.h"
#include "store/json_mini.h"

#define MAX_DEPTH 8

typedef struct {
    const char *p, *end, *start, *name;
} jp;

static uint64_t line_of(const jp *j)
{
    uint64_t line = 1;
    for (const char *q = j->start; q < j->p && q < j->end; q++)
        line += *q == '\n';
    return line;
}

static prime_status fail(const jp *j, const char *what)
{
    return prime__error(PRIME_E_PARSE, "%s:%llu: %s", j->name ? j->name : "<memory>",
                        (unsigned long long)line_of(j), what);
}

static void ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
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

static prime_status jstring(jp *j, char **out, size_t *len_out)
{
    j->p++; /* the opening quote */
    prime__buf b = {0};
    for (;;) {
        if (j->p >= j->end) {
            prime__buf_free(&b);
            return fail(j, "unterminated string");
        }
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20) {
            prime__buf_free(&b);
            return fail(j, "control character in a string");
        }
        if (c != '\\') {
            prime__buf_putc(&b, (char)c);
            j->p++;
            continue;
        }
        if (j->end - j->p < 2) {
            prime__buf_free(&b);
            return fail(j, "unterminated string");
        }
        char e = j->p[1];
        j->p += 2;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple != NULL) {
            static const char rep[] = "\"\\/\b\f\n\r\t";
            prime__buf_putc(&b, rep[simple - "\"\\/bfnrt"]);
            continue;
        }
        if (e != 'u' || j->end - j->p < 4) {
            prime__buf_free(&b);
            return fail(j, "bad escape in a string");
        }
        uint32_t cp = 0;
        for (int k = 0; k < 4; k++) {
            int h = hexval(j->p[k]);
            if (h < 0) {
                prime__buf_free(&b);
                return fail(j, "bad \\u escape in a string");
            }
            cp = cp << 4 | (uint32_t)h;
        }
        j->p += 4;
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
            prime__buf_free(&b);
            return fail(j, "\\u0000 or a surrogate in a string");
        }
        char u[3];
        if (cp < 0x80) {
            prime__buf_putc(&b, (char)cp);
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | cp >> 6);
            u[1] = (char)(0x80 | (cp & 0x3F));
            prime__buf_append(&b, u, 2);
        } else {
            u[0] = (char)(0xE0 | cp >> 12);
            u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            prime__buf_append(&b, u, 3);
        }
    }
    prime__buf_append(&b, "", 0);
    if (b.failed) {
        prime__buf_free(&b);
        return prime__error(PRIME_E_NOMEM, "out of memory");
    }
    if (b.data == NULL) {
        b.data = prime__strndup("", 0);
        if (b.data == NULL)
            return prime__error(PRIME_E_NOMEM, "out of memory");
    }
    if (!prime__utf8_valid(b.data, b.len) || memchr(b.data, '\0', b.len) != NULL) {
        prime__buf_free(&b);
        return fail(j, "a string is not valid UTF-8");
    }
    *out = b.data;
    *len_out = b.len;
    return PRIME_OK;
}

static prime_status jvalue(jp *j, int depth, prime__jv *v);

static prime_status jcontainer(jp *j, int depth, bool object, prime__jv *v)
{
    v->type = object ? PRIME__J_OBJECT : PRIME__J_ARRAY;
    size_t cap = 0, kcap = 0;
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == (object ? '}' : ']')) {
        j->p++;
        return PRIME_OK;
    }
    for (;;) {
        ws(j);
        char *key = NULL;
        size_t kl = 0;
        if (object) {
            if (j->p >= j->end || *j->p != '"')
                return fail(j, "expected a member name");
            const char *at = j->p;
            prime_status st = jstring(j, &key, &kl);
            if (st != PRIME_OK)
                return st;
            for (size_t i = 0; i < v->n; i++) /* as every JSON reader of libprime */
                if (strcmp(v->keys[i], key) == 0) {
                    j->p = at;
                    st = prime__error(PRIME_E_PARSE, "%s:%llu: duplicate key \"%.60s\"",
                                      j->name ? j->name : "<memory>",
                                      (unsigned long long)line_of(j), key);
                    prime__free(key);
                    return st;
                }
            ws(j);
            if (j->p >= j->end || *j->p != ':') {
                prime__free(key);
                return fail(j, "expected ':'");
            }
            j->p++;
        }
        if (!prime__grow((void **)&v->items, &cap, v->n + 1, sizeof *v->items) ||
            (object && !prime__grow((void **)&v->keys, &kcap, v->n + 1, sizeof *v->keys))) {
            prime__free(key);
            return prime__error(PRIME_E_NOMEM, "out of memory");
        }
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        if (object)
            v->keys[v->n] = key;
        v->n++;
        prime_status st = jvalue(j, depth + 1, &v->items[v->n - 1]);
        if (st != PRIME_OK)
            return st;
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == (object ? '}' : ']')) {
            j->p++;
            return PRIME_OK;
        }
        return fail(j, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static prime_status jvalue(jp *j, int depth, prime__jv *v)
{
    if (depth > MAX_DEPTH)
        return fail(j, "nested too deeply");
    ws(j);
    if (j->p >= j->end)
        return fail(j, "unexpected end of the file");
    char c = *j->p;
    if (c == '{' || c == '[')
        return jcontainer(j, depth, c == '{', v);
    if (c == '"') {
        v->type = PRIME__J_STRING;
        return jstring(j, &v->s, &v->n);
    }
    static const char *const words[] = {"null", "false", "true"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(words[k]);
        if ((size_t)(j->end - j->p) >= l && memcmp(j->p, words[k], l) == 0) {
            j->p += l;
            v->type = PRIME__J_NULL + k;
            return PRIME_OK;
        }
    }
    if (c >= '0' && c <= '9') {
        if (c == '0' && j->end - j->p > 1 && j->p[1] >= '0' && j->p[1] <= '9')
            return fail(j, "a number with a leading zero");
        uint64_t u = 0;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
            unsigned d = (unsigned)(*j->p - '0');
            if (u > (UINT64_MAX - d) / 10)
                return fail(j, "a number too large");
            u = u * 10 + d;
            j->p++;
        }
        if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
            return fail(j, "expected a whole number");
        v->type = PRIME__J_UINT;
        v->u = u;
        return PRIME_OK;
    }
    return fail(j, "expected a value");
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
    jp j = {data, data + size, data, name};
    prime__jv v;
    memset(&v, 0, sizeof v);
    if (size > 0 && data == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime__mjson_parse: data is NULL");
    j.p += prime__text_bom(data, size); /* a UTF-8 BOM, as every text reader skips it */
    prime_status st = jvalue(&j, 0, &v);
    if (st == PRIME_OK) {
        ws(&j);
        if (j.p != j.end)
            st = fail(&j, "unexpected text after the value");
    }
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
