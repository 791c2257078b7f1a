/* The number writer that lib/common/number.c's prime__format_double replaced,
 * kept byte for byte as the reference: snprintf "%.15g", "%.16g", "%.17g"
 * until prime__parse_double reads the text back as the same double, with the
 * locale's decimal point turned into '.'; "null" for inf and NaN, "0" for
 * zeros. Shared by the number suite (tests/test_number.c), which compares the
 * two writers, and the bench (bench/number.c), which times them.
 * Include after "internal.h". */
#ifndef PRIME_TESTS_NUMBER_REFERENCE_H
#define PRIME_TESTS_NUMBER_REFERENCE_H

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Writes v into out (NUL-terminated); returns its length. */
static inline size_t number_reference(double v, char out[40])
{
    if (!isfinite(v)) {
        strcpy(out, "null");
        return 4;
    }
    if (v == 0.0) {
        strcpy(out, "0");
        return 1;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
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
    strcpy(out, tmp);
    return strlen(tmp);
}

#endif
