/* Decimal numbers in the C locale, whatever the host program's locale is. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

/* Numbers in files are read in the C locale whatever the host program's
 * locale is. */
static locale_t c_locale(void)
{
    static locale_t loc = (locale_t)0;
    static int tried = 0;
    if (!__atomic_load_n(&tried, __ATOMIC_ACQUIRE)) {
        locale_t l = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        locale_t expected = (locale_t)0;
        if (l != (locale_t)0 &&
            !__atomic_compare_exchange_n(&loc, &expected, l, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            freelocale(l);
        __atomic_store_n(&tried, 1, __ATOMIC_RELEASE);
    }
    return __atomic_load_n(&loc, __ATOMIC_ACQUIRE);
}

bool prime__parse_double(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return false;
    /* strtod accepts leading space, hex, inf and nan: the files do not. */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' ||
              c == 'E'))
            return false;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    locale_t loc = c_locale();
    double v = loc != (locale_t)0 ? strtod_l(tmp, &end, loc) : strtod(tmp, &end);
    if (end != tmp + n || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool prime__parse_u64(const char *s, size_t n, uint64_t *out)
{
    /* digits only: no blank, no sign, no base prefix; an overflow is an
       error, never a wrap */
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool prime__parse_i64(const char *s, size_t n, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    size_t skip = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    uint64_t v;
    if (!prime__parse_u64(s + skip, n - skip, &v))
        return false;
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

prime_status prime_parse_u64(const char *text, uint64_t *out)
{
    if (text == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_parse_u64: %s is NULL",
                            text == NULL ? "text" : "out");
    if (!prime__parse_u64(text, strlen(text), out))
        return prime__error(PRIME_E_PARSE, "'%s' is not a whole number in 0..%llu (decimal "
                            "digits only)", text, (unsigned long long)UINT64_MAX);
    return PRIME_OK;
}

prime_status prime_parse_double(const char *text, double *out)
{
    if (text == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_parse_double: %s is NULL",
                            text == NULL ? "text" : "out");
    if (!prime__parse_double(text, strlen(text), out))
        return prime__error(PRIME_E_PARSE, "'%s' is not a finite decimal number", text);
    return PRIME_OK;
}

/* ---- writing doubles -------------------------------------------------------
 * The files carry a finite double v != 0 as snprintf("%.*g", P, v) in the C
 * locale for the smallest P in 15, 16, 17 whose text reads back (strtod) as
 * v. format_slow does exactly that. format_fast computes the same bytes with
 * exact 128-bit integer arithmetic where the operands fit (every double in
 * about [1e-15, 1e37], which covers accuracies, drops, shares and counts)
 * and says no otherwise; the caller then takes format_slow.
 *
 * For a precision P let E = floor(log10 |v|) and s = P - 1 - E. Then
 * |v| * 10^s = B / Den exactly, with the gap to the next double above, also
 * scaled, U / Den. With F = floor(B / Den) and r = B mod Den, the P-digit
 * rounding N is F or F + 1 (ties to even, as glibc's printf rounds an exact
 * tie). N * 10^-s reads back as v exactly when it lies inside v's rounding
 * interval: its distance to v (r or Den - r, over Den) is below half the gap
 * on its side (U / 2 above; U / 2 below too except at a power of two, where
 * the gap below is half as wide), or equal to it when v's significand is even
 * (strtod rounds a tie to even). */

__extension__ typedef unsigned __int128 u128;

static size_t format_slow(double v, char *out)
{
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        /* snprintf's %g follows LC_NUMERIC; the files always use '.' */
        const char *dp = localeconv()->decimal_point;
        if (dp != NULL && !(dp[0] == '.' && dp[1] == '\0')) {
            size_t dl = strlen(dp);
            char *p = strstr(tmp, dp);
            if (p != NULL) {
                *p = '.';
                memmove(p + 1, p + dl, strlen(p + dl) + 1);
            }
        }
        double back;
        if (prime__parse_double(tmp, strlen(tmp), &back) && back == v)
            break;
    }
    size_t n = strlen(tmp);
    memcpy(out, tmp, n + 1);
    return n;
}

static const uint64_t pow10_u64[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
    100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
    10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
    100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull};

static u128 pow5(int k) /* 0 <= k <= 54 */
{
    u128 p = 1;
    for (; k >= 27; k -= 27)
        p *= 7450580596923828125ull; /* 5^27 */
    static const uint64_t small[27] = {
        1ull, 5ull, 25ull, 125ull, 625ull, 3125ull, 15625ull, 78125ull, 390625ull,
        1953125ull, 9765625ull, 48828125ull, 244140625ull, 1220703125ull, 6103515625ull,
        30517578125ull, 152587890625ull, 762939453125ull, 3814697265625ull,
        19073486328125ull, 95367431640625ull, 476837158203125ull, 2384185791015625ull,
        11920928955078125ull, 59604644775390625ull, 298023223876953125ull,
        1490116119384765625ull};
    return p * small[k];
}

static int bits128(u128 x) /* number of significant bits */
{
    uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;
    if (hi != 0)
        return 128 - __builtin_clzll(hi);
    return lo != 0 ? 64 - __builtin_clzll(lo) : 0;
}

/* |v| * 10^s = B / Den, gap above = U / Den (*sh: Den = 2^*sh, or -1 when
 * Den is not a power of two); false if it does not fit with room for the
 * 4 * distance comparison (Den < 2^125, B < 2^127). */
static bool scaled(uint64_t m, int q, int s, u128 *B, u128 *Den, u128 *U, int *sh)
{
    *sh = -1;
    if (s >= 0) {
        if (s > 54)
            return false;
        u128 p5 = pow5(s);
        if (bits128(p5) + 53 > 127)
            return false;
        u128 a = (u128)m * p5;
        int t = -(q + s); /* |v| * 10^s = a / 2^t */
        if (t > 0) {
            if (t > 124)
                return false;
            *B = a;
            *Den = (u128)1 << t;
            *U = p5;
            *sh = t;
        } else {
            if (bits128(a) + (-t) > 126)
                return false;
            *B = a << -t;
            *Den = 1;
            *U = p5 << -t;
            *sh = 0;
        }
    } else {
        int u = -s; /* |v| / 10^u */
        if (u > 37)
            return false;
        u128 p10 = pow5(u) << u;
        if (q >= 0) {
            if (q > 70 || bits128(p10) > 124)
                return false;
            *B = (u128)m << q;
            *Den = p10;
            *U = (u128)1 << q;
        } else {
            if (bits128(p10) + (-q) > 124)
                return false;
            *B = m;
            *Den = p10 << -q;
            *U = 1;
        }
    }
    return true;
}

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* the n digits of x < 10^n (n <= 9), two at a time */
static inline void u32_digits(uint32_t x, int n, char *d)
{
    while (n >= 2) {
        unsigned k = (x % 100) * 2;
        x /= 100;
        d[--n] = digit_pairs[k + 1];
        d[--n] = digit_pairs[k];
    }
    if (n == 1)
        d[0] = (char)('0' + x);
}

/* the P digits of x (10^(P-1) <= x < 10^P, 9 <= P <= 17): two independent
 * halves of 32 bits */
static void u64_digits(uint64_t x, int P, char *d)
{
    u32_digits((uint32_t)(x / 100000000u), P - 8, d);
    u32_digits((uint32_t)(x % 100000000u), 8, d + P - 8);
}

/* The rounding N of F17 + r17 / Den to 17 - log10(div) digits (ties to
 * even); whether it reads back as v (see above). */
static inline bool round_p(uint64_t F17, uint64_t div, u128 Den, u128 r17, u128 U, bool even,
                           bool narrow_below, uint64_t *N)
{
    uint64_t Fp = F17 / div;
    u128 denp = Den * div;
    u128 r = (u128)(F17 - Fp * div) * Den + r17;
    u128 twice = r << 1;
    bool up = twice > denp || (twice == denp && (Fp & 1) != 0);
    *N = Fp + (up ? 1 : 0);
    u128 d2 = up ? (denp - r) << 1 : r << (narrow_below && r != 0 ? 2 : 1);
    return d2 < U || (d2 == U && even);
}

static bool format_fast(double v, char *out, size_t *len)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bool neg = (bits >> 63) != 0;
    int be = (int)((bits >> 52) & 0x7ff);
    uint64_t frac = bits & ((1ull << 52) - 1);
    if (be == 0 || be == 0x7ff) /* subnormal, zero, inf, nan */
        return false;
    uint64_t m = frac | (1ull << 52);
    int q = be - 1075; /* |v| = m * 2^q */
    bool even = (m & 1) == 0;
    bool narrow_below = frac == 0 && be > 1; /* the gap below is half as wide */
    /* E estimate: floor(log10(2^(q+52))) is E or E - 1 */
    int E = (int)(((int64_t)(q + 52) * 78913) >> 18);

    /* the exact scaling at 17 digits, once: |v| * 10^(16 - E) = B / Den */
    u128 B, Den, U, F;
    for (int tries = 0;; tries++) {
        int sh;
        if (tries > 2 || !scaled(m, q, 16 - E, &B, &Den, &U, &sh))
            return false;
        F = sh >= 0 ? B >> sh : B / Den;
        if (F < pow10_u64[16])
            E--;
        else if (F >= pow10_u64[17])
            E++;
        else
            break;
    }
    if (bits128(Den) > 118) /* room for Den * 100 * 4 */
        return false;
    uint64_t F17 = (uint64_t)F;
    u128 r17 = B - F * Den;
    /* P digits: |v| * 10^(P - 1 - E) = B / (Den * 10^(17 - P)), whose floor
       is F17 / 10^(17 - P), its remainder (F17 mod 10^(17 - P)) * Den + r17;
       the gap above scales to U over the same denominator */
    uint64_t N;
    int P;
    if (round_p(F17, 100, Den, r17, U, even, narrow_below, &N))
        P = 15;
    else if (round_p(F17, 10, Den, r17, U, even, narrow_below, &N))
        P = 16;
    else
        (void)round_p(F17, 1, Den, r17, U, even, narrow_below, &N), P = 17;
    int X = E;
    if (N == pow10_u64[P]) { /* rounded up to one more digit */
        N = pow10_u64[P - 1];
        X++;
    }
    /* the P digits of N less trailing zeros, then %g's layout; digits are
       copied 20 bytes at a time (PRIME__DOUBLE_CHARS leaves room), only
       those up to the end count */
    char d[20];
    u64_digits(N, P, d);
    size_t nd = (size_t)P;
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    char *o = out;
    if (neg)
        *o++ = '-';
    if (X >= -4 && X < P) {
        if (X >= 0) {
            size_t ip = (size_t)X + 1; /* integer digits */
            memcpy(o, d, sizeof d);
            for (size_t i = nd; i < ip; i++)
                o[i] = '0';
            o += ip;
            if (nd > ip) {
                *o++ = '.';
                memcpy(o, d + ip, sizeof d - ip);
                o += nd - ip;
            }
        } else {
            memcpy(o, "0.0000", 6);
            o += 2 + (-X - 1);
            memcpy(o, d, sizeof d);
            o += nd;
        }
    } else {
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, d + 1, sizeof d - 1);
            o += nd - 1;
        }
        *o++ = 'e';
        *o++ = X < 0 ? '-' : '+';
        int ax = X < 0 ? -X : X;
        if (ax >= 100)
            *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    }
    *o = '\0';
    *len = (size_t)(o - out);
    return true;
}

size_t prime__format_double(double v, char out[PRIME__DOUBLE_CHARS])
{
    if (!isfinite(v)) {
        memcpy(out, "null", 5);
        return 4;
    }
    if (v == 0.0) { /* also -0.0 */
        memcpy(out, "0", 2);
        return 1;
    }
    /* a whole number of at most 15 digits (counts, sizes): %.15g writes
       its digits, which read back exactly */
    if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v) {
        int64_t i = (int64_t)v;
        uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
        size_t n = 0;
        if (i < 0)
            out[n++] = '-';
        n += prime__format_u64(u, out + n);
        out[n] = '\0';
        return n;
    }
    size_t n;
    if (format_fast(v, out, &n))
        return n;
    return format_slow(v, out);
}
