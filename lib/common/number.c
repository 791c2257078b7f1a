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
