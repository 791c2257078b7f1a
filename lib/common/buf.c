/* A growable byte buffer used by the writers (files: file.c). */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

void prime__buf_borrow(prime__buf *b, char *mem, size_t cap)
{
    b->data = mem;
    b->cap = cap;
    b->len = 0;
    b->failed = false;
    b->borrowed = true;
    mem[0] = '\0';
}

/* Out of borrowed memory: move the text to the heap (the borrowed memory
 * stays as it is, so that s may still point into it). */
static bool unborrow(prime__buf *b, size_t need)
{
    char *heap = NULL;
    size_t cap = b->cap;
    if (!prime__grow((void **)&heap, &cap, need, 1))
        return false;
    memcpy(heap, b->data, b->len + 1);
    b->data = heap;
    b->cap = cap;
    b->borrowed = false;
    return true;
}

bool prime__buf_reserve(prime__buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->len + n + 1 < b->len) { /* overflow */
        b->failed = true;
        return false;
    }
    if (b->data != NULL && b->len + n + 1 <= b->cap)
        return true;
    bool ok = b->borrowed ? unborrow(b, b->len + n + 1)
                          : prime__grow((void **)&b->data, &b->cap, b->len + n + 1, 1);
    if (!ok) {
        b->failed = true;
        return false;
    }
    b->data[b->len] = '\0';
    return true;
}

void prime__buf_append_grow(prime__buf *b, const char *s, size_t n)
{
    /* s may point into the buffer itself (copying one of its own strings):
       its offset, for after the buffer moves (borrowed memory stays where
       it is when the text moves to the heap) */
    uintptr_t us = (uintptr_t)s, ud = (uintptr_t)b->data;
    bool inside = !b->borrowed && b->data != NULL && us >= ud && us < ud + b->cap;
    size_t off = inside ? (size_t)(us - ud) : 0;
    if (!prime__buf_reserve(b, n))
        return;
    if (inside)
        s = b->data + off;
    memmove(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void prime__buf_puts(prime__buf *b, const char *s)
{
    prime__buf_append(b, s, strlen(s));
}

void prime__buf_putc(prime__buf *b, char c)
{
    if (!b->failed && b->len + 2 <= b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return;
    }
    prime__buf_append(b, &c, 1);
}

void prime__buf_printf(prime__buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        prime__buf_append(b, small, (size_t)n);
        return;
    }
    char *big = prime__malloc((size_t)n + 1);
    if (big == NULL) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    prime__buf_append(b, big, (size_t)n);
    prime__free(big);
}

void prime__buf_double(prime__buf *b, double v)
{
    if (!b->failed && b->len + PRIME__DOUBLE_CHARS <= b->cap) { /* in place */
        b->len += prime__format_double(v, b->data + b->len);
        return;
    }
    char tmp[PRIME__DOUBLE_CHARS];
    size_t n = prime__format_double(v, tmp);
    prime__buf_append(b, tmp, n);
}

void prime__buf_u64(prime__buf *b, uint64_t v)
{
    char tmp[PRIME__U64_CHARS];
    prime__buf_append(b, tmp, prime__format_u64(v, tmp));
}

void prime__buf_json_string(prime__buf *b, const char *s)
{
    prime__buf_putc(b, '"');
    prime__buf_json_chars(b, s);
    prime__buf_putc(b, '"');
}

/* 1 for the bytes a JSON string escapes (and the NUL that ends s) */
static const unsigned char json_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
};

void prime__buf_json_chars(prime__buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    for (;;) {
        const unsigned char *run = p;
        while (!json_special[*p])
            p++;
        prime__buf_append(b, (const char *)run, (size_t)(p - run));
        unsigned char c = *p++;
        switch (c) {
        case 0: return;
        case '"': prime__buf_append(b, "\\\"", 2); break;
        case '\\': prime__buf_append(b, "\\\\", 2); break;
        case '\n': prime__buf_append(b, "\\n", 2); break;
        case '\r': prime__buf_append(b, "\\r", 2); break;
        case '\t': prime__buf_append(b, "\\t", 2); break;
        case '\b': prime__buf_append(b, "\\b", 2); break;
        case '\f': prime__buf_append(b, "\\f", 2); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            prime__buf_append(b, e, 6);
        }
        }
    }
}

bool prime__csv_needs_quotes(const char *s)
{
    /* a byte loop: strpbrk's setup costs more than a short name */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p == ',' || *p == '"' || *p == '\r' || *p == '\n')
            return true;
    return false;
}

void prime__buf_csv_chars(prime__buf *b, const char *s)
{
    for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
        prime__buf_append(b, s, (size_t)(q - s) + 1); /* up to the quote, */
        prime__buf_putc(b, '"');                      /* then the quote again */
    }
    prime__buf_puts(b, s);
}

void prime__buf_csv_field(prime__buf *b, const char *s)
{
    if (!prime__csv_needs_quotes(s)) {
        prime__buf_puts(b, s);
        return;
    }
    prime__buf_putc(b, '"');
    prime__buf_csv_chars(b, s);
    prime__buf_putc(b, '"');
}

void prime__buf_free(prime__buf *b)
{
    if (!b->borrowed)
        prime__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    b->borrowed = false;
}

prime_status prime__buf_deliver(prime__buf *b, const char *what, char *buf, size_t cap,
                                size_t *needed_out)
{
    prime_status st = PRIME_OK;
    if (needed_out != NULL)
        *needed_out = b->len;
    if (buf == NULL || cap <= b->len) {
        st = prime__error(PRIME_E_BUFFER_TOO_SMALL, "the rendered %s needs %zu bytes", what,
                          b->len + 1);
    } else {
        if (b->len > 0)
            memcpy(buf, b->data, b->len);
        buf[b->len] = '\0';
    }
    prime__buf_free(b);
    return st;
}

prime_status prime__buf_write_file(prime__buf *b, const char *path)
{
    prime_status st = prime__write_file_atomic(path, b->data != NULL ? b->data : "", b->len);
    prime__buf_free(b);
    return st;
}

static prime_status render_buf(prime__render_fn render, const void *h, int32_t format,
                               const char *what, prime__buf *b)
{
    prime_status st = render(h, format, b);
    if (st == PRIME_OK && b->failed)
        st = prime__error(PRIME_E_NOMEM, "out of memory rendering the %s", what);
    if (st != PRIME_OK)
        prime__buf_free(b);
    return st;
}

prime_status prime__render_deliver(prime__render_fn render, const void *h, int32_t format,
                                   const char *what, char *buf, size_t cap, size_t *needed_out)
{
    prime__buf b = {0};
    prime_status st = render_buf(render, h, format, what, &b);
    return st != PRIME_OK ? st : prime__buf_deliver(&b, what, buf, cap, needed_out);
}

prime_status prime__render_write(prime__render_fn render, const void *h, int32_t format,
                                 const char *what, const char *path)
{
    prime__buf b = {0};
    prime_status st = render_buf(render, h, format, what, &b);
    return st != PRIME_OK ? st : prime__buf_write_file(&b, path);
}

prime__name_forms *prime__name_forms_build(const prime__names *t)
{
    prime__name_forms *f = prime__calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    size_t n = t->count;
    f->count = t->count;
    f->json_off = prime__malloc((n + 1) * sizeof *f->json_off);
    f->csv_off = prime__malloc((n + 1) * sizeof *f->csv_off);
    f->csv_quote = prime__malloc(n ? n : 1);
    prime__buf b = {0};
    if (f->json_off == NULL || f->csv_off == NULL || f->csv_quote == NULL) {
        prime__name_forms_free(f);
        return NULL;
    }
    /* the JSON literals of all names, then the CSV insides: each kind is
       read in sequence (the ends of name i are the starts of name i + 1) */
    for (uint32_t i = 0; i < t->count; i++) {
        f->json_off[i] = b.len;
        prime__buf_json_string(&b, prime__names_get(t, i));
    }
    f->json_off[n] = b.len;
    for (uint32_t i = 0; i < t->count; i++) {
        const char *s = prime__names_get(t, i);
        f->csv_off[i] = b.len;
        f->csv_quote[i] = prime__csv_needs_quotes(s);
        prime__buf_csv_chars(&b, s);
    }
    f->csv_off[n] = b.len;
    if (b.failed) {
        prime__buf_free(&b);
        prime__name_forms_free(f);
        return NULL;
    }
    f->text = b.data; /* NULL when every text is empty (no names) */
    return f;
}

void prime__name_forms_free(prime__name_forms *f)
{
    if (f == NULL)
        return;
    prime__free(f->json_off);
    prime__free(f->csv_off);
    prime__free(f->csv_quote);
    prime__free(f->text);
    prime__free(f);
}
