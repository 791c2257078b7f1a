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

static inline uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
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
    return mix(h);
}

/* Four independent lanes over 32-byte blocks, read little-endian, so the
 * value is the same on every host. */
static inline uint64_t load_le64(const unsigned char *s)
{
    return (uint64_t)s[0] | (uint64_t)s[1] << 8 | (uint64_t)s[2] << 16 |
           (uint64_t)s[3] << 24 | (uint64_t)s[4] << 32 | (uint64_t)s[5] << 40 |
           (uint64_t)s[6] << 48 | (uint64_t)s[7] << 56;
}

uint64_t prime__checksum(const void *p, size_t n, uint64_t seed)
{
    const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;
    const unsigned char *s = p;
    uint64_t a = seed + P1, b = seed ^ P2, c = seed - P1, d = ~seed;
    size_t total = n;
    while (n >= 32) {
        a = rotl(a + load_le64(s) * P2, 31) * P1;
        b = rotl(b + load_le64(s + 8) * P2, 31) * P1;
        c = rotl(c + load_le64(s + 16) * P2, 31) * P1;
        d = rotl(d + load_le64(s + 24) * P2, 31) * P1;
        s += 32;
        n -= 32;
    }
    uint64_t h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18) + (uint64_t)total;
    while (n >= 8) {
        h = rotl(h ^ (rotl(load_le64(s) * P2, 31) * P1), 27) * P1 + P2;
        s += 8;
        n -= 8;
    }
    while (n > 0) {
        h = rotl(h ^ (*s * P1), 11) * P2;
        s++;
        n--;
    }
    return mix(h);
}
