/* Decimal numbers in the C locale, whatever the host program's locale is. */
#include <locale.h>
#include <math.h>
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
