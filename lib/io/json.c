/* The JSON lexer shared by the JSON Lines tags reader (store/read_jsonl.c)
 * and the result reader (search/result_read.c): strings unescaped into one
 * scratch buffer (\uXXXX and surrogate pairs to UTF-8), numbers, literals,
 * keys, a validator that skips any value with a fixed 64-level stack (no
 * input can overflow the C stack), and the duplicate-key check. Messages
 * name the input and the line ("NAME:LINE: ..."). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

void prime__json_init(prime__json *j, const char *data, size_t size, const char *name,
                      bool lines)
{
    memset(j, 0, sizeof *j);
    j->name = name != NULL ? name : PRIME__NONAME;
    j->p = j->line_start = data;
    j->end = data + size;
    j->line = 1;
    j->lines = lines;
}

void prime__json_free(prime__json *j)
{
    prime__free(j->scratch);
    j->scratch = NULL;
    j->len = j->cap = 0;
}

static prime_status vfail(const prime__json *j, prime_status st, uint64_t line, const char *fmt,
                          va_list ap)
{
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return prime__error(st, "%s:%" PRIu64 ": %s", j->name, line, msg);
}

prime_status prime__json_fail(const prime__json *j, prime_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prime_status r = vfail(j, st, j->line, fmt, ap);
    va_end(ap);
    return r;
}

prime_status prime__json_fail_at(const prime__json *j, prime_status st, uint64_t line,
                                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prime_status r = vfail(j, st, line, fmt, ap);
    va_end(ap);
    return r;
}

/* " (column N)" in JSON Lines, where a line is a record; nothing in a
 * document, whose messages give the line only. */
static void column(const prime__json *j, const char *at, char *buf, size_t cap)
{
    if (j->lines)
        snprintf(buf, cap, " (column %zu)", (size_t)(at - j->line_start) + 1);
    else
        buf[0] = '\0';
}

prime_status prime__json_syntax(const prime__json *j, const char *what)
{
    char col[40];
    column(j, j->p, col, sizeof col);
    if (j->p >= j->end)
        return prime__json_fail(j, PRIME_E_PARSE, "%s, found the end of the %s%s", what,
                                j->lines ? "line" : "file (truncated?)", col);
    unsigned char c = (unsigned char)*j->p;
    if (c >= 0x20 && c < 0x7F)
        return prime__json_fail(j, PRIME_E_PARSE, "%s, found '%c'%s", what, c, col);
    return prime__json_fail(j, PRIME_E_PARSE, "%s, found byte 0x%02X%s", what, c, col);
}

bool prime__json_reserve(prime__json *j, size_t more)
{
    return prime__grow((void **)&j->scratch, &j->cap, j->len + more, 1);
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

prime_status prime__json_string(prime__json *j, prime__json_span *out)
{
    const char *p = j->p + 1, *end = j->end;
    char col[40];
    out->off = j->len;
    out->line = j->line;
    for (;;) {
        const char *q = p;
        while (q < end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            q++;
        if (q > p) {
            if (!prime__json_reserve(j, (size_t)(q - p)))
                return prime__json_fail(j, PRIME_E_NOMEM, "out of memory");
            memcpy(j->scratch + j->len, p, (size_t)(q - p));
            j->len += (size_t)(q - p);
        }
        if (q >= end || (*q == '\\' && end - q < 2)) {
            j->p = q;
            return prime__json_fail(j, PRIME_E_PARSE, "unterminated string%s",
                                    j->lines ? "" : " (truncated?)");
        }
        if (*q == '"') {
            j->p = q + 1;
            out->n = j->len - out->off;
            return PRIME_OK;
        }
        column(j, q, col, sizeof col);
        if (*q != '\\') {
            j->p = q;
            if (j->lines)
                return prime__json_fail(j, PRIME_E_PARSE,
                                        "control character 0x%02X in a string (column %zu; "
                                        "escape it)",
                                        (unsigned char)*q, (size_t)(q - j->line_start) + 1);
            return prime__json_fail(j, PRIME_E_PARSE,
                                    "control character 0x%02X in a string (escape it)",
                                    (unsigned char)*q);
        }
        /* an escape */
        if (!prime__json_reserve(j, 4))
            return prime__json_fail(j, PRIME_E_NOMEM, "out of memory");
        char e = q[1];
        char *dst = j->scratch + j->len;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple != NULL) {
            static const char repl[] = "\"\\/\b\f\n\r\t";
            *dst = repl[simple - "\"\\/bfnrt"];
            j->len++;
            p = q + 2;
            continue;
        }
        if (e != 'u') {
            j->p = q;
            return prime__json_fail(j, PRIME_E_PARSE, "invalid escape \"\\%c\" in a string%s",
                                    (unsigned char)e >= 0x20 && (unsigned char)e < 0x7F ? e
                                                                                         : '?',
                                    col);
        }
        int cp = end - q >= 6 ? hex4(q + 2) : -1;
        if (cp < 0) {
            j->p = q;
            return prime__json_fail(j, PRIME_E_PARSE, "invalid \\u escape in a string%s", col);
        }
        p = q + 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            j->p = q;
            return prime__json_fail(j, PRIME_E_PARSE, "lone low surrogate \\u%04X in a string%s",
                                    (unsigned)cp, col);
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            int lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) {
                j->p = q;
                return prime__json_fail(j, PRIME_E_PARSE,
                                        "lone high surrogate \\u%04X in a string%s",
                                        (unsigned)cp, col);
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        uint32_t u = (uint32_t)cp;
        if (u < 0x80) {
            dst[0] = (char)u;
            j->len += 1;
        } else if (u < 0x800) {
            dst[0] = (char)(0xC0 | (u >> 6));
            dst[1] = (char)(0x80 | (u & 0x3F));
            j->len += 2;
        } else if (u < 0x10000) {
            dst[0] = (char)(0xE0 | (u >> 12));
            dst[1] = (char)(0x80 | ((u >> 6) & 0x3F));
            dst[2] = (char)(0x80 | (u & 0x3F));
            j->len += 3;
        } else {
            dst[0] = (char)(0xF0 | (u >> 18));
            dst[1] = (char)(0x80 | ((u >> 12) & 0x3F));
            dst[2] = (char)(0x80 | ((u >> 6) & 0x3F));
            dst[3] = (char)(0x80 | (u & 0x3F));
            j->len += 4;
        }
    }
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

size_t prime__json_number_len(const char *p, const char *end, bool *integer)
{
    const char *q = p;
    *integer = true;
    if (q < end && *q == '-')
        q++;
    if (q >= end || !is_digit(*q))
        return 0;
    if (*q == '0')
        q++;
    else
        while (q < end && is_digit(*q))
            q++;
    if (q < end && *q == '.') {
        q++;
        *integer = false;
        if (q >= end || !is_digit(*q))
            return 0;
        while (q < end && is_digit(*q))
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        *integer = false;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || !is_digit(*q))
            return 0;
        while (q < end && is_digit(*q))
            q++;
    }
    /* a number must not run into letters or digits ("1x", "01") */
    if (q < end && (is_digit(*q) || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
        return 0;
    return (size_t)(q - p);
}

prime_status prime__json_number(prime__json *j, prime__json_number_t *out)
{
    bool integer;
    size_t n = j->p < j->end ? prime__json_number_len(j->p, j->end, &integer) : 0;
    if (n == 0)
        return prime__json_syntax(j, "invalid number");
    const char *s = j->p;
    out->integer = integer && s[0] != '-';
    out->u = 0;
    if (out->integer) {
        /* exactly, for counts beyond 2^53 */
        for (size_t k = 0; k < n; k++) {
            unsigned d = (unsigned)(s[k] - '0');
            if (out->u > (UINT64_MAX - d) / 10) {
                out->integer = false;
                break;
            }
            out->u = out->u * 10 + d;
        }
    }
    if (!prime__parse_double(s, n, &out->v))
        return prime__json_fail(j, PRIME_E_PARSE, "number '%.*s' out of range",
                                (int)(n > 40 ? 40 : n), s);
    /* "-0" reads as 0: the writers never produce a negative zero, and one
       kept here would render as "-0.0000" in text but "0" in JSON, so a
       result read back from its own JSON would render differently */
    if (out->v == 0.0)
        out->v = 0.0;
    out->line = j->line;
    j->p += n;
    return PRIME_OK;
}

bool prime__json_literal(prime__json *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) >= n && memcmp(j->p, word, n) == 0) {
        const char *after = j->p + n;
        if (after < j->end && ((*after >= 'a' && *after <= 'z') || is_digit(*after)))
            return false;
        j->p = after;
        return true;
    }
    return false;
}

int prime__json_peek(prime__json *j)
{
    prime__json_ws(j);
    if (j->p >= j->end)
        return -1;
    switch (*j->p) {
    case '{': return PRIME__JSON_OBJECT;
    case '[': return PRIME__JSON_ARRAY;
    case '"': return PRIME__JSON_STRING;
    case 't':
    case 'f': return PRIME__JSON_BOOL;
    case 'n': return PRIME__JSON_NULL;
    default: return *j->p == '-' || is_digit(*j->p) ? PRIME__JSON_NUMBER : -1;
    }
}

const char *prime__json_type_name(int type)
{
    static const char *const names[] = {"null", "a boolean", "a number", "a string",
                                        "an array", "an object"};
    return type >= 0 && type <= PRIME__JSON_OBJECT ? names[type] : "nothing";
}

prime_status prime__json_next(prime__json *j, char close, bool *more)
{
    prime__json_ws(j);
    if (j->p < j->end && *j->p == ',') {
        j->p++;
        *more = true;
        return PRIME_OK;
    }
    if (j->p < j->end && *j->p == close) {
        j->p++;
        *more = false;
        return PRIME_OK;
    }
    return prime__json_syntax(j, close == '}' ? "expected ',' or '}' in an object"
                                              : "expected ',' or ']' in an array");
}

prime_status prime__json_key(prime__json *j, prime__json_span *key)
{
    prime__json_ws(j);
    if (j->p >= j->end || *j->p != '"')
        return prime__json_syntax(j, "expected a key string");
    prime_status st = prime__json_string(j, key);
    if (st != PRIME_OK)
        return st;
    prime__json_ws(j);
    if (j->p >= j->end || *j->p != ':')
        return prime__json_syntax(j, "expected ':' after a key");
    j->p++;
    return PRIME_OK;
}

/* Keys of the objects open in prime__json_skip, to refuse one given twice
 * there too. */
typedef struct {
    prime__json_span *v;
    size_t n, cap;
} key_list;

static prime_status push_key(prime__json *j, key_list *k, const prime__json_span *key)
{
    if (!prime__grow((void **)&k->v, &k->cap, k->n + 1, sizeof *k->v))
        return prime__json_fail(j, PRIME_E_NOMEM, "out of memory");
    k->v[k->n++] = *key;
    return PRIME_OK;
}

prime_status prime__json_skip(prime__json *j, int depth)
{
    char stack[PRIME__JSON_MAX_DEPTH];
    size_t first_key[PRIME__JSON_MAX_DEPTH], mark[PRIME__JSON_MAX_DEPTH];
    int top = 0;
    size_t saved = j->len;
    key_list keys = {NULL, 0, 0};
    prime_status st = PRIME_OK;
    prime__json_span sp;
    char col[40];
    for (;;) {
        /* a value */
        prime__json_ws(j);
        if (j->p >= j->end) {
            st = prime__json_syntax(j, "expected a value");
            goto done;
        }
        char c = *j->p;
        if (c == '{' || c == '[') {
            if (depth + top + 1 > PRIME__JSON_MAX_DEPTH) {
                column(j, j->p, col, sizeof col);
                st = prime__json_fail(j, PRIME_E_PARSE, "nesting deeper than %d levels%s",
                                      PRIME__JSON_MAX_DEPTH, col);
                goto done;
            }
            first_key[top] = keys.n;
            mark[top] = j->len;
            stack[top++] = c == '{' ? '}' : ']';
            j->p++;
            prime__json_ws(j);
            if (j->p < j->end && *j->p == stack[top - 1]) {
                j->p++;
                top--;
            } else {
                if (c == '{' && ((st = prime__json_key(j, &sp)) != PRIME_OK ||
                                 (st = push_key(j, &keys, &sp)) != PRIME_OK))
                    goto done;
                continue;
            }
        } else if (c == '"') {
            size_t before = j->len;
            if ((st = prime__json_string(j, &sp)) != PRIME_OK)
                goto done;
            j->len = before;
        } else if (c == '-' || is_digit(c)) {
            bool integer;
            size_t n = prime__json_number_len(j->p, j->end, &integer);
            if (n == 0) {
                st = prime__json_syntax(j, "invalid number");
                goto done;
            }
            j->p += n;
        } else if (!prime__json_literal(j, "true") && !prime__json_literal(j, "false") &&
                   !prime__json_literal(j, "null")) {
            st = prime__json_syntax(j, "expected a value");
            goto done;
        }
        /* after a value: close containers or go on with the next element */
        for (;;) {
            if (top == 0)
                goto done;
            bool more = false;
            if ((st = prime__json_next(j, stack[top - 1], &more)) != PRIME_OK)
                goto done;
            if (more) {
                if (stack[top - 1] == '}' && ((st = prime__json_key(j, &sp)) != PRIME_OK ||
                                              (st = push_key(j, &keys, &sp)) != PRIME_OK))
                    goto done;
                break;
            }
            top--;
            if (stack[top] == '}') {
                /* an object closed: its keys, each once */
                st = prime__json_check_keys(j, keys.v + first_key[top], keys.n - first_key[top]);
                if (st != PRIME_OK)
                    goto done;
                keys.n = first_key[top];
                j->len = mark[top];
            }
        }
    }
done:
    prime__free(keys.v);
    j->len = saved;
    return st;
}

/* ---- duplicate keys -------------------------------------------------------- */

static _Thread_local const char *dup_base;

static int cmp_key(const void *a, const void *b)
{
    const prime__json_span *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(dup_base + x->off, dup_base + y->off, n);
    if (c != 0)
        return c;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

prime_status prime__json_check_keys(const prime__json *j, prime__json_span *keys, size_t n)
{
    if (n < 2)
        return PRIME_OK;
    /* keys that are all "" have put nothing in the scratch: it may be NULL,
       and NULL + 0 is undefined (found by fuzz_result_json: {"": 1, "": 2}) */
    const char *base = j->scratch != NULL ? j->scratch : "";
    dup_base = base;
    qsort(keys, n, sizeof *keys, cmp_key);
    dup_base = NULL;
    for (size_t i = 1; i < n; i++) {
        const prime__json_span *a = &keys[i - 1], *b = &keys[i];
        if (a->n == b->n && memcmp(base + a->off, base + b->off, a->n) == 0) {
            const char *k = base + b->off;
            if (j->lines)
                return prime__json_fail_at(j, PRIME_E_PARSE, b->line, "duplicate key \"%.*s\"",
                                           prime__show_len(k, b->n), k);
            return prime__json_fail_at(j, PRIME_E_PARSE, b->line,
                                       "duplicate key \"%.*s\" (first on line %" PRIu64 ")",
                                       prime__show_len(k, b->n), k, a->line);
        }
    }
    return PRIME_OK;
}
