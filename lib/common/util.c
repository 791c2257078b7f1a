/* UTF-8 validation, hashing, checksums, CPU count. */
#include <string.h>

#include "common/common.h"

size_t prime__utf8_prefix(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* fast path: 8 ASCII bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        uint32_t cp;
        size_t len = prime__utf8_decode(s + i, n - i, &cp);
        if (len == 0)
            return i;
        i += len;
    }
    return n;
}

bool prime__utf8_valid(const char *str, size_t n)
{
    return prime__utf8_prefix(str, n) == n;
}

static inline uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

uint64_t prime__hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0x100000001b3ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = rotl(h ^ (w * 0x87c37b91114253d5ull), 31) * 0x4cf5ad432745937full;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)s[i] << (8 * i);
    h = rotl(h ^ (w * 0x87c37b91114253d5ull), 31) * 0x4cf5ad432745937full;
    return prime__mix64(h);
}

/* Four independent lanes over 32-byte blocks, read little-endian
 * (prime__get_le64), so the value is the same on every host. */
static const uint64_t CK_P1 = 0x9E3779B185EBCA87ull, CK_P2 = 0xC2B2AE3D27D4EB4Full;

static inline uint64_t ck_round(uint64_t v, const unsigned char *s)
{
    return rotl(v + prime__get_le64(s) * CK_P2, 31) * CK_P1;
}

/* Steps 3 to 6 of docs/binary-format.md: the lanes, the total length and
 * the bytes after the last whole 32-byte block. */
static uint64_t ck_finish(const uint64_t v[4], uint64_t total, const unsigned char *s, size_t n)
{
    uint64_t h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18) + total;
    while (n >= 8) {
        h = rotl(h ^ (rotl(prime__get_le64(s) * CK_P2, 31) * CK_P1), 27) * CK_P1 + CK_P2;
        s += 8;
        n -= 8;
    }
    while (n > 0) {
        h = rotl(h ^ (*s * CK_P1), 11) * CK_P2;
        s++;
        n--;
    }
    return prime__mix64(h);
}

uint64_t prime__checksum(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t v[4] = {seed + CK_P1, seed ^ CK_P2, seed - CK_P1, ~seed};
    size_t total = n;
    while (n >= 32) {
        v[0] = ck_round(v[0], s);
        v[1] = ck_round(v[1], s + 8);
        v[2] = ck_round(v[2], s + 16);
        v[3] = ck_round(v[3], s + 24);
        s += 32;
        n -= 32;
    }
    return ck_finish(v, (uint64_t)total, s, n);
}

void prime__checksum_begin(prime__checksum_stream *st, uint64_t seed)
{
    st->lane[0] = seed + CK_P1;
    st->lane[1] = seed ^ CK_P2;
    st->lane[2] = seed - CK_P1;
    st->lane[3] = ~seed;
    st->total = 0;
    st->n_tail = 0;
}

void prime__checksum_add(prime__checksum_stream *st, const void *p, size_t n)
{
    const unsigned char *s = p;
    st->total += n;
    if (st->n_tail > 0) { /* complete the pending block first */
        size_t take = 32 - st->n_tail < n ? 32 - st->n_tail : n;
        memcpy(st->tail + st->n_tail, s, take);
        st->n_tail += take;
        s += take;
        n -= take;
        if (st->n_tail < 32)
            return;
        for (int k = 0; k < 4; k++)
            st->lane[k] = ck_round(st->lane[k], st->tail + 8 * k);
        st->n_tail = 0;
    }
    while (n >= 32) {
        for (int k = 0; k < 4; k++)
            st->lane[k] = ck_round(st->lane[k], s + 8 * k);
        s += 32;
        n -= 32;
    }
    memcpy(st->tail, s, n);
    st->n_tail = n;
}

uint64_t prime__checksum_end(const prime__checksum_stream *st)
{
    return ck_finish(st->lane, st->total, st->tail, st->n_tail);
}
