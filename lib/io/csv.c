/* The RFC 4180 CSV tokenizer (lib/io/io.h).
 *
 * Speed: the whole text is checked once (NUL bytes with memchr, UTF-8 with
 * the 8-bytes-at-a-time validator); the tokenizer then jumps from one
 * special byte (, " CR LF) to the next using a 64-bit mask per 64-byte
 * window (SSE2 compares, or a SWAR fallback), so ordinary bytes cost a few
 * instructions per 64. Fields point into the input; only a quoted field
 * that holds "" is copied (unescaped) into a scratch buffer reused for
 * every record. Nothing is allocated per field or per record. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "io/csv_scan.h"

/* ---- the tokenizer ----------------------------------------------------------- */


prime_status prime__csv_open(prime__csv *c, const char *data, size_t size, const char *name)
{
    return prime__csv_open_checked(c, data, size, name, false);
}

prime_status prime__csv_open_checked(prime__csv *c, const char *data, size_t size,
                                     const char *name, bool checked)
{
    memset(c, 0, sizeof *c);
    c->name = name != NULL ? name : PRIME__NONAME;
    if (data == NULL)
        size = 0;
    c->data = data != NULL ? data : "";
    c->size = size;
    c->line = 1;
    c->pos = prime__text_bom(c->data, size);
    c->chunk = c->pos;
    c->mask = 0;
    c->body_pos = c->pos;
    c->body_line = 1;
    if (size > 0) {
        c->mask = chunk_mask(c, c->pos);
        if (!checked)
            return prime__text_check(c->data, size, c->name);
    }
    return PRIME_OK;
}

void prime__csv_free(prime__csv *c)
{
    prime__free(c->fields);
    prime__free(c->raw);
    prime__free(c->scratch);
    c->fields = NULL;
    c->raw = NULL;
    c->scratch = NULL;
}

void prime__csv_rewind(prime__csv *c)
{
    c->pos = c->body_pos;
    c->line = c->body_line;
    c->chunk = c->pos;
    c->mask = c->pos < c->size ? chunk_mask(c, c->pos) : 0;
}

static prime_status nomem(const prime__csv *c)
{
    return prime__error(PRIME_E_NOMEM, "%s:%" PRIu64 ": out of memory", c->name, c->rec_line);
}

static inline prime_status push_raw(prime__csv *c, uint32_t *nf, size_t off, size_t n,
                                    bool scratch)
{
    if (*nf >= c->raw_cap) {
        if (*nf >= UINT32_MAX - 1)
            return prime__error(PRIME_E_LIMIT, "%s:%" PRIu64 ": too many fields", c->name,
                                c->rec_line);
        if (!prime__grow((void **)&c->raw, &c->raw_cap, (size_t)*nf + 1, sizeof *c->raw))
            return nomem(c);
    }
    prime__csv_raw *r = &c->raw[(*nf)++];
    r->off = off;
    r->n = n;
    r->scratch = scratch;
    return PRIME_OK;
}

/* Copy data[from..to) into scratch, turning "" into ". */
static prime_status unescape(prime__csv *c, size_t from, size_t to, size_t *off_out)
{
    if (!prime__grow((void **)&c->scratch, &c->scratch_cap, c->scratch_len + (to - from),
                     1))
        return nomem(c);
    *off_out = c->scratch_len;
    char *dst = c->scratch + c->scratch_len;
    const char *p = c->data + from, *end = c->data + to;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        size_t k = q != NULL ? (size_t)(q - p) + 1 : (size_t)(end - p);
        memcpy(dst, p, k);
        dst += k;
        p += k;
        if (q != NULL)
            p++; /* the second quote of the pair */
    }
    c->scratch_len = (size_t)(dst - c->scratch);
    return PRIME_OK;
}

static inline bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

prime_status prime__csv_next(prime__csv *c, bool *got)
{
    const char *d = c->data;
    size_t size = c->size;
    size_t pos = c->pos;
    *got = false;
    /* skip blank lines */
    for (;;) {
        if (pos >= size) {
            c->pos = pos;
            return PRIME_OK;
        }
        char ch = d[pos];
        if (ch == '\n') {
            pos++;
            c->line++;
            continue;
        }
        if (ch == '\r' && pos + 1 < size && d[pos + 1] == '\n') {
            pos += 2;
            c->line++;
            continue;
        }
        if (is_blank(ch)) {
            size_t q = pos;
            while (q < size && is_blank(d[q]))
                q++;
            if (q >= size) {
                c->pos = q;
                return PRIME_OK;
            }
            if (d[q] == '\n' || (d[q] == '\r' && q + 1 < size && d[q + 1] == '\n')) {
                pos = q;
                continue;
            }
        }
        break;
    }
    if (c->chunk > pos) { /* only after a rewind-like jump; keep the invariant */
        c->chunk = pos;
        c->mask = chunk_mask(c, pos);
    }
    c->rec_line = c->line;
    c->scratch_len = 0;
    uint32_t nf = 0;
    prime_status st;
    for (;;) { /* one field per iteration */
        if (pos < size && d[pos] == '"') {
            uint64_t open_line = c->line;
            size_t start = pos + 1, q = start;
            bool escaped = false;
            for (;;) {
                q = next_special(c, q);
                if (q >= size)
                    return prime__error(PRIME_E_PARSE,
                                        "%s:%" PRIu64 ": unterminated quoted field", c->name,
                                        open_line);
                char ch = d[q];
                if (ch == '"') {
                    if (q + 1 < size && d[q + 1] == '"') {
                        escaped = true;
                        q += 2;
                        continue;
                    }
                    break;
                }
                if (ch == '\n')
                    c->line++;
                q++;
            }
            /* closing quote at q */
            if (escaped) {
                size_t off = 0;
                if ((st = unescape(c, start, q, &off)) != PRIME_OK)
                    return st;
                st = push_raw(c, &nf, off, c->scratch_len - off, true);
            } else {
                st = push_raw(c, &nf, start, q - start, false);
            }
            if (st != PRIME_OK)
                return st;
            pos = q + 1;
            if (pos >= size)
                break;
            char ch = d[pos];
            if (ch == ',') {
                pos++;
                continue;
            }
            if (ch == '\n') {
                pos++;
                c->line++;
                break;
            }
            if (ch == '\r' && (pos + 1 >= size || d[pos + 1] == '\n')) {
                pos += pos + 1 < size ? 2 : 1;
                c->line++;
                break;
            }
            return prime__error(PRIME_E_PARSE,
                                "%s:%" PRIu64 ": text after the closing quote of a field",
                                c->name, c->line);
        }
        size_t q = next_special(c, pos);
        if ((st = push_raw(c, &nf, pos, q - pos, false)) != PRIME_OK)
            return st;
        if (q >= size) {
            pos = size;
            break;
        }
        char ch = d[q];
        if (ch == ',') {
            pos = q + 1;
            continue;
        }
        if (ch == '\n') {
            pos = q + 1;
            c->line++;
            break;
        }
        if (ch == '\r') {
            if (q + 1 >= size || d[q + 1] == '\n') {
                pos = q + 1 < size ? q + 2 : q + 1;
                c->line++;
                break;
            }
            return prime__error(PRIME_E_PARSE,
                                "%s:%" PRIu64 ": carriage return not followed by a line feed "
                                "(quote the field)",
                                c->name, c->line);
        }
        return prime__error(PRIME_E_PARSE,
                            "%s:%" PRIu64 ": quote inside an unquoted field (quote the whole "
                            "field and double the quote)",
                            c->name, c->line);
    }
    c->pos = pos;
    if (nf > c->fields_cap &&
        !prime__grow((void **)&c->fields, &c->fields_cap, nf, sizeof *c->fields))
        return nomem(c);
    for (uint32_t i = 0; i < nf; i++) {
        const prime__csv_raw *r = &c->raw[i];
        c->fields[i].p = (r->scratch ? c->scratch : d) + r->off;
        c->fields[i].n = r->n;
    }
    c->n_fields = nf;
    *got = true;
    return PRIME_OK;
}

prime_status prime__csv_header(prime__csv *c, const char *const *wanted, uint32_t n,
                               int32_t *col)
{
    bool got;
    prime_status st = prime__csv_next(c, &got);
    if (st != PRIME_OK)
        return st;
    if (!got)
        return prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": empty file (no header line)",
                            c->name, c->line);
    for (uint32_t k = 0; k < n; k++)
        col[k] = -1;
    for (uint32_t i = 0; i < c->n_fields; i++) {
        const prime__csv_field *f = &c->fields[i];
        for (uint32_t k = 0; k < n; k++) {
            if (strlen(wanted[k]) == f->n && memcmp(wanted[k], f->p, f->n) == 0) {
                if (col[k] >= 0)
                    return prime__error(PRIME_E_PARSE,
                                        "%s:%" PRIu64 ": column \"%s\" appears twice in the header",
                                        c->name, c->rec_line, wanted[k]);
                col[k] = (int32_t)i;
            }
        }
    }
    c->body_pos = c->pos;
    c->body_line = c->line;
    return PRIME_OK;
}
