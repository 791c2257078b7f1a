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

void prime__buf_append(prime__buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 < b->len) { /* overflow */
        b->failed = true;
        return;
    }
    /* s may point into the buffer itself (copying one of its own strings) */
    uintptr_t us = (uintptr_t)s, ud = (uintptr_t)b->data;
    bool inside = b->data != NULL && us >= ud && us < ud + b->cap;
    size_t off = inside ? (size_t)(us - ud) : 0;
    if (!prime__grow((void **)&b->data, &b->cap, b->len + n + 1, 1)) {
        b->failed = true;
        return;
    }
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

/* snprintf's %g follows LC_NUMERIC; the files we write always use '.'. */
static void fix_decimal_point(char *s)
{
    const char *dp = localeconv()->decimal_point;
    if (dp == NULL || (dp[0] == '.' && dp[1] == '\0'))
        return;
    size_t dl = strlen(dp);
    char *p = strstr(s, dp);
    if (p != NULL) {
        *p = '.';
        memmove(p + 1, p + dl, strlen(p + dl) + 1);
    }
}

void prime__buf_double(prime__buf *b, double v)
{
    if (!isfinite(v)) {
        prime__buf_puts(b, "null");
        return;
    }
    if (v == 0.0) { /* also -0.0 */
        prime__buf_puts(b, "0");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        fix_decimal_point(tmp);
        double back;
        if (prime__parse_double(tmp, strlen(tmp), &back) && back == v)
            break;
    }
    prime__buf_puts(b, tmp);
}

void prime__buf_json_string(prime__buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    prime__buf_putc(b, '"');
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == 0 || c == '"' || c == '\\' || c < 0x20) {
            prime__buf_append(b, run, (size_t)(p - run));
            if (c == 0)
                break;
            switch (c) {
            case '"': prime__buf_puts(b, "\\\""); break;
            case '\\': prime__buf_puts(b, "\\\\"); break;
            case '\n': prime__buf_puts(b, "\\n"); break;
            case '\r': prime__buf_puts(b, "\\r"); break;
            case '\t': prime__buf_puts(b, "\\t"); break;
            case '\b': prime__buf_puts(b, "\\b"); break;
            case '\f': prime__buf_puts(b, "\\f"); break;
            default: {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                prime__buf_append(b, e, 6);
            }
            }
            run = p + 1;
        }
    }
    prime__buf_putc(b, '"');
}

void prime__buf_csv_field(prime__buf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        prime__buf_puts(b, s);
        return;
    }
    prime__buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            prime__buf_putc(b, '"');
        prime__buf_putc(b, *p);
    }
    prime__buf_putc(b, '"');
}

void prime__buf_free(prime__buf *b)
{
    prime__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
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
