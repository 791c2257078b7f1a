/* Number-writing suite: prime__format_double (lib/common/number.c, exact
 * integer arithmetic) against the writer it replaced, kept here verbatim as
 * the reference: snprintf("%.*g", P) for P = 15, 16, 17 until the text reads
 * back (strtod in the C locale) as the same double. Every output byte must
 * be equal, over millions of doubles of every kind: random bit patterns,
 * accuracies k/n and their differences, integers, subnormals, powers of ten
 * and two and their neighbours, decimal ties, -0, inf and NaN. */
#include <criterion/criterion.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "number_reference.h"

/* ---- the comparison -------------------------------------------------------- */

static unsigned long long checked, mismatches;

static void check(double v)
{
    char want[40], got[PRIME__DOUBLE_CHARS + 8];
    memset(got, 'x', sizeof got);
    number_reference(v, want);
    size_t n = prime__format_double(v, got);
    checked++;
    if (n != strlen(want) || memcmp(got, want, n + 1) != 0) {
        if (mismatches++ < 10)
            cr_log_error("%a: want \"%s\", got \"%.*s\" (length %zu)", v, want,
                         PRIME__DOUBLE_CHARS, got, n);
    }
}

static void check_both_signs(double v)
{
    check(v);
    check(-v);
}

static void done(const char *what, unsigned long long min_count)
{
    cr_expect_geq(checked, min_count, "%s: only %llu values", what, checked);
    cr_assert_eq(mismatches, 0, "%s: %llu of %llu values differ", what, mismatches, checked);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static double from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* v and its k nearest doubles on each side */
static void check_around(double v, int k)
{
    double lo = v, hi = v;
    check_both_signs(v);
    for (int i = 0; i < k; i++) {
        lo = nextafter(lo, -INFINITY);
        hi = nextafter(hi, INFINITY);
        check_both_signs(lo);
        check_both_signs(hi);
    }
}

/* ---- the cases -------------------------------------------------------------- */

Test(number, specials)
{
    char got[PRIME__DOUBLE_CHARS];
    cr_assert_eq(prime__format_double(-0.0, got), 1);
    cr_assert_str_eq(got, "0");
    cr_assert_eq(prime__format_double(NAN, got), 4);
    cr_assert_str_eq(got, "null");
    cr_assert_eq(prime__format_double(-INFINITY, got), 4);
    cr_assert_str_eq(got, "null");
    /* a few written out, so that the reference itself is pinned too */
    const struct {
        double v;
        const char *s;
    } known[] = {{0.1, "0.1"},
                 {1.0 / 3, "0.3333333333333333"},
                 {2.0 / 3, "0.6666666666666666"},
                 {0.7 - 0.2, "0.49999999999999994"},
                 {1e15, "1e+15"},
                 {123456789012345.0, "123456789012345"},
                 {9007199254740992.0, "9007199254740992"},
                 {0.0001, "0.0001"},
                 {0.00001, "1e-05"},
                 {1e100, "1e+100"},
                 {-2.5e-300, "-2.5e-300"},
                 {5e-324, "4.94065645841247e-324"},
                 {DBL_MAX, "1.7976931348623157e+308"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        prime__format_double(known[i].v, got);
        cr_expect_str_eq(got, known[i].s, "%a: got %s", known[i].v, got);
        char ref[40];
        number_reference(known[i].v, ref);
        cr_expect_str_eq(ref, known[i].s, "reference, %a", known[i].v);
    }
    checked = mismatches = 0;
    const double more[] = {-0.0, 0.0, NAN, -NAN, INFINITY, -INFINITY, DBL_MIN, DBL_MAX,
                           DBL_TRUE_MIN, DBL_EPSILON, 1.0, 0.5, 2.0};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        check_around(more[i], 50);
    done("specials", 1000);
}

Test(number, random_bit_patterns)
{
    checked = mismatches = 0;
    for (int i = 0; i < 1500000; i++)
        check(from_bits(rnd()));
    done("random bit patterns", 1500000);
}

/* random significands at every exponent where the fast path works and a
 * margin beyond it (about 1e-40 .. 1e60) */
Test(number, random_in_range)
{
    checked = mismatches = 0;
    for (int i = 0; i < 2000000; i++) {
        uint64_t e = 1023 - 135 + rnd() % (135 + 200);
        check(from_bits((rnd() & ((1ull << 52) - 1)) | (e << 52) | ((rnd() & 1) << 63)));
    }
    done("random in range", 2000000);
}

/* accuracies k/n, drops k1/n1 - k2/n2, shares */
Test(number, ratios)
{
    checked = mismatches = 0;
    for (uint32_t n = 1; n <= 1200; n++)
        for (uint32_t k = 0; k <= n; k++)
            check((double)k / n);
    for (int i = 0; i < 1500000; i++) {
        uint64_t n1 = 1 + rnd() % 300000, n2 = 1 + rnd() % 300000;
        double a = (double)(rnd() % (n1 + 1)) / (double)n1;
        double b = (double)(rnd() % (n2 + 1)) / (double)n2;
        check(a - b);
        check(a * b);
    }
    done("ratios", 3000000);
}

Test(number, integers)
{
    checked = mismatches = 0;
    for (int64_t i = 0; i < 300000; i++)
        check_both_signs((double)i);
    for (int i = 0; i < 500000; i++) {
        check((double)(rnd() >> (rnd() % 64)));
        check(ldexp((double)(rnd() >> 11), (int)(rnd() % 80))); /* large, even */
    }
    /* n + 1/2, 1/4, 1/8 at 15-17 digits: decimal ties */
    for (int i = 0; i < 300000; i++) {
        double base = (double)(100000000000000ull + rnd() % 9900000000000000ull);
        check(base + 0.5);
        check(base + 0.25);
        check(base + 0.125);
    }
    done("integers", 2000000);
}

Test(number, subnormals)
{
    checked = mismatches = 0;
    for (int i = 0; i < 200000; i++)
        check_both_signs(from_bits(rnd() >> (12 + rnd() % 52)));
    for (int i = 0; i < 20; i++)
        check_around(DBL_MIN * ldexp(1.0, -i), 5);
    done("subnormals", 400000);
}

Test(number, powers)
{
    checked = mismatches = 0;
    for (int e = -330; e <= 310; e++) {
        char s[32];
        snprintf(s, sizeof s, "1e%d", e);
        check_around(strtod(s, NULL), 20);
        /* the largest P-digit numbers below a power of ten round up to it */
        for (int p = 14; p <= 18; p++) {
            snprintf(s, sizeof s, "%.*se%d", p + 2, "9.99999999999999999999", e);
            check_around(strtod(s, NULL), 3);
        }
    }
    for (int e = -1074; e <= 1023; e++)
        check_around(ldexp(1.0, e), 4); /* the gap below is half as wide */
    done("powers", 100000);
}

/* decimal texts of 15 to 19 digits, many ending in 5 (near ties at 15, 16
 * and 17 digits), read as doubles */
Test(number, decimal_texts)
{
    checked = mismatches = 0;
    for (int i = 0; i < 1000000; i++) {
        int digits = 15 + (int)(rnd() % 5);
        char s[64], *o = s;
        *o++ = (char)('1' + rnd() % 9);
        *o++ = '.';
        for (int d = 1; d < digits; d++)
            *o++ = (char)('0' + rnd() % 10);
        if (rnd() & 1)
            o[-1] = '5';
        snprintf(o, 16, "e%d", (int)(rnd() % 60) - 30);
        check_both_signs(strtod(s, NULL));
    }
    done("decimal texts", 2000000);
}

/* the decimal point stays '.' under a host locale that writes ',' */
Test(number, comma_locale)
{
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8"};
    const char *got_locale = NULL;
    for (size_t i = 0; i < 4 && got_locale == NULL; i++)
        got_locale = setlocale(LC_NUMERIC, names[i]);
    checked = mismatches = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t e = 1023 - 60 + rnd() % 120;
        check(from_bits((rnd() & ((1ull << 52) - 1)) | (e << 52)));
    }
    char got[PRIME__DOUBLE_CHARS];
    prime__format_double(0.25, got);
    setlocale(LC_NUMERIC, "C");
    cr_expect_str_eq(got, "0.25", "under locale %s", got_locale ? got_locale : "C");
    done("comma locale", 20000);
}
