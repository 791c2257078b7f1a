/* Text helpers shared by every text reader: line numbers, BOM, the whole-text
 * check (no NUL, valid UTF-8), located error messages and outcome values. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "io/io.h"


uint64_t prime__text_line(const char *data, size_t off)
{
    uint64_t line = 1;
    const char *p = data, *end = data + off;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        line++;
        p = nl + 1;
    }
    return line;
}

size_t prime__text_bom(const char *data, size_t size)
{
    if (size >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
        (unsigned char)data[2] == 0xBF)
        return 3;
    return 0;
}

/* true when data[0..size) holds no NUL byte and is valid UTF-8: 64 bytes at
 * a time while the text is ASCII (the usual case), prime__utf8_valid over
 * each stretch that is not (from an ASCII byte to the next ASCII byte: both
 * are sequence boundaries). */
bool prime__text_ok(const char *data, size_t size)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    while (size - i >= 64) {
        const char *p = data + i;
        __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
        __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
        __m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
        __m128i hi = _mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3));
        __m128i lo = _mm_min_epu8(_mm_min_epu8(v0, v1), _mm_min_epu8(v2, v3));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(lo, zero)) != 0)
            return false;
        if (_mm_movemask_epi8(hi) == 0) {
            i += 64;
            continue;
        }
        size_t end = i + 64;
        while (end < size && (unsigned char)data[end] >= 0x80)
            end++;
        if (!prime__utf8_valid(p, end - i))
            return false;
        i = end;
    }
#endif
    return memchr(data + i, '\0', size - i) == NULL && prime__utf8_valid(data + i, size - i);
}

prime_status prime__text_check(const char *data, size_t size, const char *name)
{
    if (name == NULL)
        name = PRIME__NONAME;
    if (prime__text_ok(data, size))
        return PRIME_OK;
    const char *nul = size > 0 ? memchr(data, '\0', size) : NULL;
    /* the first problem in file order wins */
    size_t limit = nul != NULL ? (size_t)(nul - data) : size;
    if (!prime__utf8_valid(data, limit)) {
        size_t off = prime__utf8_prefix(data, limit);
        return prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": invalid UTF-8 (byte 0x%02X at offset %zu)",
                            name, prime__text_line(data, off), (unsigned char)data[off], off);
    }
    if (nul != NULL)
        return prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": NUL byte (offset %zu)", name,
                            prime__text_line(data, limit), limit);
    return PRIME_OK;
}

prime_status prime__error_at(prime_status status, const char *name, uint64_t line)
{
    char msg[512];
    prime_last_error_copy(msg, sizeof msg);
    return prime__error(status, "%s:%" PRIu64 ": %s", name ? name : PRIME__NONAME, line, msg);
}

int prime__show_len(const char *s, size_t n)
{
    if (n <= 60)
        return (int)n;
    size_t k = 60;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return (int)k;
}

/* "0", "1", "0.25", "1.0": digits / 10^k is exact-then-rounded once, so it
 * equals strtod. Returns false when the text is not of that simple form. */
static bool parse_simple_fraction(const char *s, size_t n, double *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    if (n == 0 || n > 17 || (s[0] != '0' && s[0] != '1'))
        return false;
    uint64_t v = (uint64_t)(s[0] - '0');
    if (n == 1) {
        *out = (double)v;
        return true;
    }
    if (s[1] != '.' || n == 2)
        return false;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = (double)v / pow10[n - 2];
    return true;
}

prime_status prime__parse_outcome(int kind, const char *s, size_t n, const char *name,
                                  uint64_t line, double *out)
{
    double v;
    if (kind == PRIME__OUT_CORRECT && n == 1 && (s[0] == '0' || s[0] == '1')) {
        *out = s[0] - '0';
        return PRIME_OK;
    }
    if (name == NULL)
        name = PRIME__NONAME;
    const char *what = kind == PRIME__OUT_CORRECT ? "correct" : "score";
    if (!parse_simple_fraction(s, n, &v) && !prime__parse_double(s, n, &v))
        return prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": %s is not a number: \"%.*s\"", name,
                            line, what, prime__show_len(s, n), s);
    if (kind == PRIME__OUT_CORRECT) {
        if (v != 0.0 && v != 1.0)
            return prime__error(PRIME_E_RANGE, "%s:%" PRIu64 ": correct must be 0 or 1, not %.*s",
                                name, line, prime__show_len(s, n), s);
    } else if (!(v >= 0.0 && v <= 1.0)) {
        return prime__error(PRIME_E_RANGE, "%s:%" PRIu64 ": score %.*s is outside [0, 1]", name,
                            line, prime__show_len(s, n), s);
    }
    *out = v == 0.0 ? 0.0 : v; /* no -0 */
    return PRIME_OK;
}
