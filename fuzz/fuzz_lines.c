/* Fuzz the line reader (lib/io/lines.c) under every flag: any bytes are
 * refused cleanly (the out-handle left NULL) or give items that are valid
 * UTF-8 without a line end, never blank, under PRIME_LINES_NAMES at most
 * 255 bytes and distinct, under PRIME_LINES_NO_BAR without '|'. */
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (uint32_t flags = 0; flags < 8; flags++) {
        prime_lines *l = NULL;
        prime_status st = prime_lines_load_memory(data, size, "fuzz.txt", flags, &l);
        if (st != PRIME_OK) {
            if (l != NULL)
                __builtin_trap();
            continue;
        }
        uint32_t n = prime_lines_count(l);
        if (n == 0 || prime_lines_get(l, n) != NULL)
            __builtin_trap();
        for (uint32_t i = 0; i < n; i++) {
            const char *s = prime_lines_get(l, i);
            size_t len = strlen(s);
            if (len == 0 || len > size || strpbrk(s, "\r\n") != NULL ||
                strspn(s, " \t") == len || !prime__utf8_valid(s, len))
                __builtin_trap();
            if ((flags & PRIME_LINES_COMMENTS) && s[0] == '#')
                __builtin_trap();
            if ((flags & PRIME_LINES_NO_BAR) && strchr(s, '|') != NULL)
                __builtin_trap();
            if (flags & PRIME_LINES_NAMES) {
                if (len > 255)
                    __builtin_trap();
                for (uint32_t k = 0; k < i; k++)
                    if (strcmp(prime_lines_get(l, k), s) == 0)
                        __builtin_trap();
            }
        }
        prime_lines_destroy(l);
    }
    return 0;
}
