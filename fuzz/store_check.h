/* The checks shared by the binary store fuzz targets: any bytes must be
 * rejected (leaving the out-handle NULL) or give a store whose every
 * accessor stays in bounds and agrees with the others. */
#ifndef PRIME_FUZZ_STORE_CHECK_H
#define PRIME_FUZZ_STORE_CHECK_H
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Every accessor of a store in bounds and in agreement; destroys it. */
static inline void check_store(prime_tagstore *s)
{
    prime_status st;
    uint32_t n = prime_tagstore_image_count(s), nt = prime_tagstore_tag_count(s);
    uint32_t nc = prime_tagstore_class_count(s);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = prime_tagstore_image_class(s, i);
        if (c >= nc || prime_tagstore_image_name(s, i) == NULL)
            __builtin_trap();
        uint32_t ids[64], m = 0;
        st = prime_tagstore_image_tags(s, i, ids, 64, &m);
        if (st == PRIME_OK)
            for (uint32_t k = 0; k < m; k++)
                if (ids[k] >= nt || (k > 0 && ids[k] <= ids[k - 1]))
                    __builtin_trap();
    }
    for (uint32_t t = 0; t < nt; t++) {
        const char *name = prime_tagstore_tag_name(s, t);
        uint32_t id;
        if (name == NULL || prime_tagstore_find_tag(s, name, &id) != PRIME_OK || id != t)
            __builtin_trap();
    }
    for (uint32_t c = 0; c < nc; c++) {
        uint32_t cnt = 0;
        (void)prime_tagstore_class_image_count(s, c);
        if (nt > 0)
            (void)prime_tagstore_tag_count_in_class(s, c, 0, &cnt);
    }
    prime_tagstore_destroy(s);
}

static inline void check_open_store(const uint8_t *data, size_t size)
{
    prime_tagstore *s = NULL;
    prime_status st = prime_tagstore_open_memory(data, size, &s);
    if (st != PRIME_OK) {
        if (s != NULL)
            __builtin_trap();
        return;
    }
    check_store(s);
}

#endif
