/* The CSV tokenizer's byte scanner and its fast path for the common record,
 * inline so that the tokenizer (csv.c) and the tags CSV reader
 * (store/read_csv.c) both get them without a call per field. Internal. */
#ifndef PRIME_IO_CSV_SCAN_H
#define PRIME_IO_CSV_SCAN_H

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "io/io.h"

#if defined(__SSE2__)
static inline uint64_t mask64(const char *p)
{
    const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"');
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i r = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, quote)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(r) << (16 * k);
    }
    return m;
}
#else
/* exact per-byte "is zero" flags in the high bit of each byte */
static inline uint64_t zero_bytes(uint64_t x)
{
    const uint64_t lo7 = 0x7F7F7F7F7F7F7F7Full;
    return ~(((x & lo7) + lo7) | x | lo7);
}

static inline uint64_t mask64(const char *p)
{
    const uint64_t ones = 0x0101010101010101ull;
    uint64_t m = 0;
    for (int k = 0; k < 8; k++) {
        uint64_t w = 0;
        for (int b = 0; b < 8; b++) /* little-endian order, whatever the host */
            w |= (uint64_t)(unsigned char)p[8 * k + b] << (8 * b);
        uint64_t z = zero_bytes(w ^ (ones * ',')) | zero_bytes(w ^ (ones * '"')) |
                     zero_bytes(w ^ (ones * '\n')) | zero_bytes(w ^ (ones * '\r'));
        /* gather the 8 high bits into one byte */
        uint64_t bits = ((z >> 7) * 0x0102040810204080ull) >> 56;
        m |= bits << (8 * k);
    }
    return m;
}
#endif

static inline uint64_t chunk_mask(const prime__csv *c, size_t at)
{
    if (c->size - at >= 64)
        return mask64(c->data + at);
    char tail[64] = {0};
    memcpy(tail, c->data + at, c->size - at);
    return mask64(tail);
}

/* Position of the first special byte at or after pos (size if none).
 * Invariant: c->chunk <= pos. */
static inline size_t next_special(prime__csv *c, size_t pos)
{
    for (;;) {
        size_t rel = pos - c->chunk;
        if (rel < 64) {
            uint64_t m = c->mask & (~0ull << rel);
            if (m != 0)
                return c->chunk + (size_t)__builtin_ctzll(m);
            pos = c->chunk + 64;
        }
        c->chunk = pos;
        if (pos >= c->size) {
            c->mask = 0;
            return c->size;
        }
        c->mask = chunk_mask(c, pos);
    }
}

/* prime__csv_next for the common record: at most `max` unquoted fields, no
 * CR, ended by LF, not blank. Returns false, having changed nothing the
 * caller sees, when the record is anything else. */
static inline bool prime__csv_next_simple(prime__csv *c, uint32_t max)
{
    const char *d = c->data;
    size_t pos = c->pos;
    if (pos >= c->size || max > c->fields_cap)
        return false;
    char first = d[pos];
    if (first == '\n' || first == '\r' || first == ' ' || first == '\t' || first == '"')
        return false;
    if (c->chunk > pos)
        return false;
    prime__csv_field *f = c->fields;
    uint32_t nf = 0;
    for (;;) {
        size_t q = next_special(c, pos);
        if (q >= c->size || nf >= max)
            return false;
        char ch = d[q];
        f[nf].p = d + pos;
        f[nf].n = q - pos;
        nf++;
        if (ch == ',') {
            pos = q + 1;
            if (pos < c->size && d[pos] == '"')
                return false;
            continue;
        }
        if (ch != '\n')
            return false;
        pos = q + 1;
        break;
    }
    c->rec_line = c->line;
    c->line++;
    c->pos = pos;
    c->scratch_len = 0;
    c->n_fields = nf;
    return true;
}


#endif /* PRIME_IO_CSV_SCAN_H */
