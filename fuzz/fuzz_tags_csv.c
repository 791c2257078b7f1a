/* Fuzz the tags CSV reader directly (whatever the first byte is). */
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    prime_status st = prime__read_tags_csv((const char *)data, size, "fuzz.csv", &s, &o);
    if (st == PRIME_OK) {
        /* a store that loaded is consistent */
        uint32_t n = prime_tagstore_image_count(s);
        if (!prime_tagstore_is_frozen(s) || (o != NULL && prime_outcomes_count(o) != n))
            __builtin_trap();
        for (uint32_t i = 0; i < n; i++) {
            uint32_t found;
            if (prime_tagstore_find_image(s, prime_tagstore_image_name(s, i), &found) != PRIME_OK ||
                found != i)
                __builtin_trap();
        }
    } else if (s != NULL || o != NULL) {
        __builtin_trap();
    }
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    return 0;
}
