/* A growable byte buffer used by the writers, and whole-file I/O. */
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

prime_status prime__write_file_atomic(const char *path, const void *data, size_t len)
{
    if (path == NULL || path[0] == '\0')
        return prime__error(PRIME_E_INVALID_ARG, "no output path given");
    size_t pl = strlen(path);
    char *tmp = prime__malloc(pl + 16);
    if (tmp == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        prime_status st = prime__error(PRIME_E_IO, "%s: cannot create file: %s", path,
                                       strerror(errno));
        prime__free(tmp);
        return st;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            prime__free(tmp);
            return prime__error(PRIME_E_IO, "%s: cannot write: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    /* mkstemp creates 0600; give the file the usual permissions. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        prime__free(tmp);
        return prime__error(PRIME_E_IO, "%s: cannot write: %s", path, strerror(e));
    }
    prime__free(tmp);
    return PRIME_OK;
}

prime_status prime__read_file(const char *path, char **data_out, size_t *size_out)
{
    if (path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "no input path given");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return prime__error(PRIME_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 65536, len = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        if (sz > 0) /* + 2: room for the NUL, and one byte to see the end */
            cap = (size_t)sz + 2;
        rewind(f);
    }
    char *data = prime__malloc(cap);
    for (;;) {
        if (data == NULL) {
            fclose(f);
            return prime__error(PRIME_E_NOMEM, "%s: out of memory reading the file", path);
        }
        size_t r = fread(data + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) {
                int e = errno;
                fclose(f);
                prime__free(data);
                return prime__error(PRIME_E_IO, "%s: cannot read: %s", path, strerror(e));
            }
            break;
        }
        if (len + 1 == cap) { /* full: the file grew, or its size was unknown */
            char *bigger = cap <= SIZE_MAX / 2 ? prime__realloc(data, cap * 2) : NULL;
            if (bigger == NULL)
                prime__free(data);
            data = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    data[len] = '\0';
    *data_out = data;
    *size_out = len;
    return PRIME_OK;
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
