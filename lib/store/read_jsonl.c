/* The tags reader for JSON Lines: one object per non-blank line with the
 * keys "image", "class", "tags" and optionally "correct" or "score".
 *
 * Strings are unescaped (\uXXXX and surrogate pairs to UTF-8) into one
 * scratch buffer reused for every line; values of unknown keys are skipped
 * by an iterative validator with a fixed 64-level stack, so no input can
 * overflow the C stack. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "store/store.h"

#define MAX_DEPTH 64

typedef struct {
    size_t off, n;
} span;

typedef struct {
    const char *name;
    uint64_t line;
    const char *line_start;
    const char *p, *end; /* the rest of the current line */
    char *scratch;
    size_t len, cap;
} jx;

static prime_status jerr(const jx *x, prime_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static prime_status jerr(const jx *x, prime_status st, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return prime__error(st, "%s:%" PRIu64 ": %s", x->name, x->line, msg);
}

static prime_status jsyntax(const jx *x, const char *what)
{
    if (x->p >= x->end)
        return jerr(x, PRIME_E_PARSE, "%s, found the end of the line (column %zu)", what,
                    (size_t)(x->p - x->line_start) + 1);
    unsigned char c = (unsigned char)*x->p;
    if (c >= 0x20 && c < 0x7F)
        return jerr(x, PRIME_E_PARSE, "%s, found '%c' (column %zu)", what, c,
                    (size_t)(x->p - x->line_start) + 1);
    return jerr(x, PRIME_E_PARSE, "%s, found byte 0x%02X (column %zu)", what, c,
                (size_t)(x->p - x->line_start) + 1);
}

static inline void ws(jx *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\r'))
        x->p++;
}

static bool reserve(jx *x, size_t more)
{
    return prime__grow((void **)&x->scratch, &x->cap, x->len + more, 1);
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

/* A string at x->p (which is '"'), unescaped and appended to scratch. */
static prime_status jstring(jx *x, span *out)
{
    const char *p = x->p + 1, *end = x->end;
    out->off = x->len;
    for (;;) {
        const char *q = p;
        while (q < end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            q++;
        if (q > p) {
            if (!reserve(x, (size_t)(q - p)))
                return jerr(x, PRIME_E_NOMEM, "out of memory");
            memcpy(x->scratch + x->len, p, (size_t)(q - p));
            x->len += (size_t)(q - p);
        }
        if (q >= end) {
            x->p = q;
            return jerr(x, PRIME_E_PARSE, "unterminated string");
        }
        if (*q == '"') {
            x->p = q + 1;
            out->n = x->len - out->off;
            return PRIME_OK;
        }
        if (*q != '\\') {
            x->p = q;
            return jerr(x, PRIME_E_PARSE,
                        "control character 0x%02X in a string (column %zu; escape it)",
                        (unsigned char)*q, (size_t)(q - x->line_start) + 1);
        }
        /* an escape */
        if (!reserve(x, 4))
            return jerr(x, PRIME_E_NOMEM, "out of memory");
        if (end - q < 2) {
            x->p = q;
            return jerr(x, PRIME_E_PARSE, "unterminated string");
        }
        char e = q[1];
        char *dst = x->scratch + x->len;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple != NULL) {
            static const char repl[] = "\"\\/\b\f\n\r\t";
            *dst = repl[simple - "\"\\/bfnrt"];
            x->len++;
            p = q + 2;
            continue;
        }
        if (e != 'u') {
            x->p = q;
            return jerr(x, PRIME_E_PARSE, "invalid escape \"\\%c\" in a string (column %zu)",
                        (unsigned char)e >= 0x20 && (unsigned char)e < 0x7F ? e : '?',
                        (size_t)(q - x->line_start) + 1);
        }
        int cp = end - q >= 6 ? hex4(q + 2) : -1;
        if (cp < 0) {
            x->p = q;
            return jerr(x, PRIME_E_PARSE, "invalid \\u escape in a string (column %zu)",
                        (size_t)(q - x->line_start) + 1);
        }
        p = q + 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            x->p = q;
            return jerr(x, PRIME_E_PARSE, "lone low surrogate \\u%04X in a string (column %zu)",
                        (unsigned)cp, (size_t)(q - x->line_start) + 1);
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            int lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) {
                x->p = q;
                return jerr(x, PRIME_E_PARSE,
                            "lone high surrogate \\u%04X in a string (column %zu)", (unsigned)cp,
                            (size_t)(q - x->line_start) + 1);
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        uint32_t u = (uint32_t)cp;
        if (u < 0x80) {
            dst[0] = (char)u;
            x->len += 1;
        } else if (u < 0x800) {
            dst[0] = (char)(0xC0 | (u >> 6));
            dst[1] = (char)(0x80 | (u & 0x3F));
            x->len += 2;
        } else if (u < 0x10000) {
            dst[0] = (char)(0xE0 | (u >> 12));
            dst[1] = (char)(0x80 | ((u >> 6) & 0x3F));
            dst[2] = (char)(0x80 | (u & 0x3F));
            x->len += 3;
        } else {
            dst[0] = (char)(0xF0 | (u >> 18));
            dst[1] = (char)(0x80 | ((u >> 12) & 0x3F));
            dst[2] = (char)(0x80 | ((u >> 6) & 0x3F));
            dst[3] = (char)(0x80 | (u & 0x3F));
            x->len += 4;
        }
    }
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of a JSON number at p (0 if there is none); *integer = it has no
 * fraction and no exponent. */
static size_t jnumber(const char *p, const char *end, bool *integer)
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

static bool jliteral(jx *x, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(x->end - x->p) >= n && memcmp(x->p, word, n) == 0) {
        const char *after = x->p + n;
        if (after < x->end && ((*after >= 'a' && *after <= 'z') || is_digit(*after)))
            return false;
        x->p = after;
        return true;
    }
    return false;
}

/* A key string and its ':' */
static prime_status jkey(jx *x, span *key)
{
    ws(x);
    if (x->p >= x->end || *x->p != '"')
        return jsyntax(x, "expected a key string");
    prime_status st = jstring(x, key);
    if (st != PRIME_OK)
        return st;
    ws(x);
    if (x->p >= x->end || *x->p != ':')
        return jsyntax(x, "expected ':' after a key");
    x->p++;
    return PRIME_OK;
}

/* Skip (and validate) any JSON value; `depth` is the nesting level of the
 * container holding it. Strings are unescaped into scratch and dropped. */
static prime_status jskip(jx *x, int depth)
{
    char stack[MAX_DEPTH];
    int top = 0;
    size_t saved = x->len;
    prime_status st;
    span sp;
    for (;;) {
        /* a value */
        ws(x);
        if (x->p >= x->end)
            return jsyntax(x, "expected a value");
        char c = *x->p;
        if (c == '{' || c == '[') {
            if (depth + top + 1 > MAX_DEPTH)
                return jerr(x, PRIME_E_PARSE, "nesting deeper than %d levels (column %zu)",
                            MAX_DEPTH, (size_t)(x->p - x->line_start) + 1);
            stack[top++] = c == '{' ? '}' : ']';
            x->p++;
            ws(x);
            if (x->p < x->end && *x->p == stack[top - 1]) {
                x->p++;
                top--;
            } else {
                if (c == '{' && (st = jkey(x, &sp)) != PRIME_OK)
                    return st;
                x->len = saved;
                continue;
            }
        } else if (c == '"') {
            if ((st = jstring(x, &sp)) != PRIME_OK)
                return st;
            x->len = saved;
        } else if (c == '-' || is_digit(c)) {
            bool integer;
            size_t n = jnumber(x->p, x->end, &integer);
            if (n == 0)
                return jsyntax(x, "invalid number");
            x->p += n;
        } else if (!jliteral(x, "true") && !jliteral(x, "false") && !jliteral(x, "null")) {
            return jsyntax(x, "expected a value");
        }
        /* after a value: close containers or go on with the next element */
        for (;;) {
            if (top == 0)
                return PRIME_OK;
            ws(x);
            if (x->p < x->end && *x->p == ',') {
                x->p++;
                if (stack[top - 1] == '}') {
                    if ((st = jkey(x, &sp)) != PRIME_OK)
                        return st;
                    x->len = saved;
                }
                break;
            }
            if (x->p < x->end && *x->p == stack[top - 1]) {
                x->p++;
                top--;
                continue;
            }
            return jsyntax(x, stack[top - 1] == '}' ? "expected ',' or '}' in an object"
                                                    : "expected ',' or ']' in an array");
        }
    }
}

enum { K_IMAGE, K_CLASS, K_TAGS, K_CORRECT, K_SCORE, N_KEYS };
static const char *const key_names[N_KEYS] = {"image", "class", "tags", "correct", "score"};

static int key_id(const char *s, size_t n)
{
    for (int k = 0; k < N_KEYS; k++)
        if (strlen(key_names[k]) == n && memcmp(key_names[k], s, n) == 0)
            return k;
    return -1;
}

typedef struct {
    const char *p;
    size_t n;
} bytes;

static int cmp_bytes(const void *a, const void *b)
{
    const bytes *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return memcmp(x->p, y->p, x->n);
}

/* A name value: a string or an integer literal (its text). */
static prime_status jname(jx *x, const char *what, span *out)
{
    if (x->p < x->end && *x->p == '"')
        return jstring(x, out);
    bool integer;
    size_t n = x->p < x->end ? jnumber(x->p, x->end, &integer) : 0;
    if (n == 0 || !integer)
        return jsyntax(x, what);
    if (!reserve(x, n))
        return jerr(x, PRIME_E_NOMEM, "out of memory");
    out->off = x->len;
    out->n = n;
    memcpy(x->scratch + x->len, x->p, n);
    x->len += n;
    x->p += n;
    return PRIME_OK;
}

/* An outcome value: a number, or true/false for correct. */
static prime_status joutcome(jx *x, int key, double *v)
{
    if (key == K_CORRECT) {
        if (jliteral(x, "true")) {
            *v = 1;
            return PRIME_OK;
        }
        if (jliteral(x, "false")) {
            *v = 0;
            return PRIME_OK;
        }
    }
    bool integer;
    size_t n = x->p < x->end ? jnumber(x->p, x->end, &integer) : 0;
    if (n == 0)
        return jsyntax(x, key == K_CORRECT ? "\"correct\" must be 0, 1, true or false"
                                           : "\"score\" must be a number in [0, 1]");
    prime_status st =
        prime__parse_outcome(key == K_CORRECT ? PRIME__OUT_CORRECT : PRIME__OUT_SCORE, x->p, n,
                             x->name, x->line, v);
    x->p += n;
    return st;
}

prime_status prime__read_tags_jsonl(const char *data, size_t size, const char *name,
                                    prime_tagstore **store_out, prime_outcomes **outcomes_out)
{
    if (store_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime__read_tags_jsonl: store_out is NULL");
    if (name == NULL)
        name = PRIME__NONAME;
    if (data == NULL) {
        data = "";
        size = 0;
    }
    jx x;
    memset(&x, 0, sizeof x);
    x.name = name;
    prime_tagstore *s = NULL;
    span *tags = NULL, *unknown = NULL;
    bytes *sorted = NULL;
    size_t tags_cap = 0, unknown_cap = 0, sorted_cap = 0;
    uint32_t *tids = NULL;
    size_t tids_cap = 0;
    double *vals = NULL;
    size_t vals_cap = 0;
    uint64_t *lines = NULL; /* line of each image, to name both in a duplicate */
    size_t lines_cap = 0;
    uint32_t n_images = 0;
    int has_outcomes = -1; /* decided by the first record */
    uint64_t first_line = 0;
    prime_status st = prime__text_check(data, size, name);
    if (st != PRIME_OK)
        goto done;
    if ((st = prime_tagstore_create(&s)) != PRIME_OK)
        goto done;
    if (!reserve(&x, 256)) { /* never NULL, so scratch + offset is always defined */
        st = prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
        goto done;
    }
    const char *p = data + prime__text_bom(data, size), *end = data + size;
    for (x.line = 1; p < end; x.line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        x.line_start = p;
        x.p = p;
        x.end = le;
        p = nl != NULL ? nl + 1 : end;
        ws(&x);
        if (x.p >= x.end)
            continue; /* blank line */
        if (*x.p != '{') {
            st = jsyntax(&x, "expected a JSON object");
            goto done;
        }
        x.p++;
        x.len = 0;
        span val[N_KEYS] = {{0, 0}};
        bool seen[N_KEYS] = {false};
        double outcome[N_KEYS] = {0};
        size_t nt = 0, nu = 0;
        ws(&x);
        if (x.p < x.end && *x.p == '}') {
            x.p++;
        } else {
            for (;;) {
                span key;
                if ((st = jkey(&x, &key)) != PRIME_OK)
                    goto done;
                ws(&x);
                int k = key_id(x.scratch + key.off, key.n);
                if (k >= 0) {
                    if (seen[k]) {
                        st = jerr(&x, PRIME_E_PARSE, "duplicate key \"%s\"", key_names[k]);
                        goto done;
                    }
                    seen[k] = true;
                    x.len = key.off; /* the key text is not needed any more */
                }
                if (k == K_IMAGE || k == K_CLASS) {
                    st = jname(&x,
                               k == K_IMAGE ? "\"image\" must be a string or an integer"
                                            : "\"class\" must be a string or an integer",
                               &val[k]);
                } else if (k == K_TAGS) {
                    if (x.p >= x.end || *x.p != '[') {
                        st = jsyntax(&x, "\"tags\" must be an array of strings");
                        goto done;
                    }
                    x.p++;
                    ws(&x);
                    if (x.p < x.end && *x.p == ']') {
                        x.p++;
                    } else {
                        for (;;) {
                            ws(&x);
                            if (x.p >= x.end || *x.p != '"') {
                                st = jsyntax(&x, "\"tags\" must be an array of strings");
                                goto done;
                            }
                            if (nt >= tags_cap &&
                                !prime__grow((void **)&tags, &tags_cap, nt + 1, sizeof *tags)) {
                                st = jerr(&x, PRIME_E_NOMEM, "out of memory");
                                goto done;
                            }
                            if ((st = jstring(&x, &tags[nt])) != PRIME_OK)
                                goto done;
                            nt++;
                            ws(&x);
                            if (x.p < x.end && *x.p == ',') {
                                x.p++;
                                continue;
                            }
                            if (x.p < x.end && *x.p == ']') {
                                x.p++;
                                break;
                            }
                            st = jsyntax(&x, "expected ',' or ']' in an array");
                            goto done;
                        }
                    }
                    st = PRIME_OK;
                } else if (k == K_CORRECT || k == K_SCORE) {
                    st = joutcome(&x, k, &outcome[k]);
                } else {
                    if (nu >= unknown_cap &&
                        !prime__grow((void **)&unknown, &unknown_cap, nu + 1, sizeof *unknown)) {
                        st = jerr(&x, PRIME_E_NOMEM, "out of memory");
                        goto done;
                    }
                    unknown[nu++] = key;
                    st = jskip(&x, 1);
                }
                if (st != PRIME_OK)
                    goto done;
                ws(&x);
                if (x.p < x.end && *x.p == ',') {
                    x.p++;
                    continue;
                }
                if (x.p < x.end && *x.p == '}') {
                    x.p++;
                    break;
                }
                st = jsyntax(&x, "expected ',' or '}' in an object");
                goto done;
            }
        }
        ws(&x);
        if (x.p < x.end) {
            st = jsyntax(&x, "text after the object (one object per line)");
            goto done;
        }
        /* duplicate unknown keys */
        if (nu >= 2) {
            if (nu > sorted_cap && !prime__grow((void **)&sorted, &sorted_cap, nu, sizeof *sorted)) {
                st = jerr(&x, PRIME_E_NOMEM, "out of memory");
                goto done;
            }
            for (size_t i = 0; i < nu; i++) {
                sorted[i].p = x.scratch + unknown[i].off;
                sorted[i].n = unknown[i].n;
            }
            qsort(sorted, nu, sizeof *sorted, cmp_bytes);
            for (size_t i = 1; i < nu; i++) {
                if (cmp_bytes(&sorted[i - 1], &sorted[i]) == 0) {
                    st = jerr(&x, PRIME_E_PARSE, "duplicate key \"%.*s\"",
                              prime__show_len(sorted[i].p, sorted[i].n), sorted[i].p);
                    goto done;
                }
            }
        }
        /* the record */
        for (int k = K_IMAGE; k <= K_TAGS; k++) {
            if (!seen[k]) {
                st = jerr(&x, PRIME_E_PARSE, "missing key \"%s\"", key_names[k]);
                goto done;
            }
        }
        const char *img = x.scratch + val[K_IMAGE].off, *cls = x.scratch + val[K_CLASS].off;
        size_t img_n = val[K_IMAGE].n, cls_n = val[K_CLASS].n;
        if (img_n == 0) {
            st = jerr(&x, PRIME_E_PARSE, "empty image name");
            goto done;
        }
        if (cls_n == 0) {
            st = jerr(&x, PRIME_E_PARSE, "empty class name");
            goto done;
        }
        if (memchr(img, '\0', img_n) != NULL || memchr(cls, '\0', cls_n) != NULL) {
            st = jerr(&x, PRIME_E_PARSE, "\\u0000 in an image or class name");
            goto done;
        }
        int here = seen[K_CORRECT] || seen[K_SCORE];
        if (has_outcomes < 0) {
            has_outcomes = here;
            first_line = x.line;
        } else if (here != has_outcomes) {
            st = jerr(&x, PRIME_E_PARSE,
                      here ? "record has \"correct\" or \"score\" but the first record (line %" PRIu64
                             ") has none"
                           : "missing key \"correct\" or \"score\" (the first record, line %" PRIu64
                             ", has one)",
                      first_line);
            goto done;
        }
        uint32_t class_id;
        if ((st = prime__store_intern_class(s, cls, cls_n, &class_id)) != PRIME_OK) {
            st = prime__error_at(st, name, x.line);
            goto done;
        }
        if (nt > tids_cap && !prime__grow((void **)&tids, &tids_cap, nt, sizeof *tids)) {
            st = jerr(&x, PRIME_E_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < nt; i++) {
            const char *t = x.scratch + tags[i].off;
            size_t tn = tags[i].n;
            if (tn == 0) {
                st = jerr(&x, PRIME_E_PARSE, "empty tag name");
                goto done;
            }
            if (tn > PRIME_MAX_TAG_NAME) {
                st = jerr(&x, PRIME_E_LIMIT, "tag name of %zu bytes (the limit is %d): \"%.*s...\"",
                          tn, PRIME_MAX_TAG_NAME, prime__show_len(t, tn), t);
                goto done;
            }
            if (memchr(t, '|', tn) != NULL) {
                st = jerr(&x, PRIME_E_PARSE, "tag name \"%.*s\" contains '|'",
                          prime__show_len(t, tn), t);
                goto done;
            }
            if (memchr(t, '\0', tn) != NULL) {
                st = jerr(&x, PRIME_E_PARSE, "\\u0000 in a tag name");
                goto done;
            }
            if ((st = prime__store_intern_tag(s, t, tn, &tids[i])) != PRIME_OK) {
                st = prime__error_at(st, name, x.line);
                goto done;
            }
        }
        st = prime__store_add_image(s, img, img_n, class_id, tids, (uint32_t)nt, NULL);
        if (st == PRIME_E_DUPLICATE) {
            uint32_t first = prime__names_find(&s->images, img, img_n);
            st = jerr(&x, PRIME_E_DUPLICATE, "duplicate image \"%.*s\" (first on line %" PRIu64 ")",
                      prime__show_len(img, img_n), img, first < n_images ? lines[first] : 0);
            goto done;
        }
        if (st != PRIME_OK) {
            st = prime__error_at(st, name, x.line);
            goto done;
        }
        if (n_images >= lines_cap &&
            !prime__grow((void **)&lines, &lines_cap, (size_t)n_images + 1, sizeof *lines)) {
            st = jerr(&x, PRIME_E_NOMEM, "out of memory");
            goto done;
        }
        lines[n_images] = x.line;
        if (has_outcomes && outcomes_out != NULL) {
            if (n_images >= vals_cap &&
                !prime__grow((void **)&vals, &vals_cap, (size_t)n_images + 1, sizeof *vals)) {
                st = jerr(&x, PRIME_E_NOMEM, "out of memory");
                goto done;
            }
            vals[n_images] = seen[K_CORRECT] ? outcome[K_CORRECT] : outcome[K_SCORE];
        }
        n_images++;
    }
    if (has_outcomes < 0) {
        st = prime__error(PRIME_E_PARSE, "%s:1: empty file (no JSON object)", name);
        goto done;
    }
    if ((st = prime_tagstore_freeze(s)) != PRIME_OK)
        goto done;
    prime_outcomes *o = NULL;
    if (has_outcomes && outcomes_out != NULL) {
        if ((st = prime_outcomes_create(n_images, &o)) != PRIME_OK)
            goto done;
        if (n_images > 0)
            memcpy(o->v, vals, (size_t)n_images * sizeof *vals);
    }
    *store_out = s;
    s = NULL;
    if (outcomes_out != NULL)
        *outcomes_out = o;
done:
    prime_tagstore_destroy(s);
    prime__free(x.scratch);
    prime__free(tags);
    prime__free(unknown);
    prime__free(sorted);
    prime__free(tids);
    prime__free(vals);
    prime__free(lines);
    return st;
}
