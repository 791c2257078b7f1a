/* The check shared by the outcomes fuzz targets (CSV and binary): any bytes
 * are refused cleanly (the out-handle left NULL) or give one outcome in
 * [0, 1] per image of a small fixed store, built once from `tags` (a tags
 * CSV). */
#ifndef PRIME_FUZZ_OUTCOMES_CHECK_H
#define PRIME_FUZZ_OUTCOMES_CHECK_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

static inline void check_outcomes(const uint8_t *data, size_t size, const char *name,
                                  const char *tags)
{
    static prime_tagstore *store;
    if (store == NULL &&
        prime_tagstore_load_memory(tags, strlen(tags), "store.csv", &store, NULL) != PRIME_OK)
        __builtin_trap();
    prime_outcomes *o = NULL;
    prime_status st = prime_outcomes_load_memory(data, size, name, store, &o);
    if (st == PRIME_OK) {
        if (prime_outcomes_count(o) != prime_tagstore_image_count(store))
            __builtin_trap();
        for (uint32_t i = 0; i < prime_outcomes_count(o); i++) {
            double v;
            if (prime_outcomes_get(o, i, &v) != PRIME_OK || !(v >= 0 && v <= 1))
                __builtin_trap();
        }
    } else if (o != NULL) {
        __builtin_trap();
    }
    prime_outcomes_destroy(o);
}

#endif /* PRIME_FUZZ_OUTCOMES_CHECK_H */
