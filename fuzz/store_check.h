/* The checks shared by the binary store fuzz targets: any bytes must be
 * rejected (leaving the out-handle NULL) or give a store whose every
 * accessor stays in bounds and agrees with the others. */
#ifndef PRIME_FUZZ_STORE_CHECK_H
#define PRIME_FUZZ_STORE_CHECK_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

#define STORE_HEADER_SIZE 208
#define STORE_SEED_PAYLOAD 0x5052494D45444154ull /* "PRIMEDAT" */
#define STORE_SEED_HEADER 0x5052494D45484452ull  /* "PRIMEHDR" */

static inline void store_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void store_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Repair the header of d[0..size) (size >= STORE_HEADER_SIZE): magic,
 * version 1, header size, file size and both checksums, as
 * docs/binary-format.md defines them, so that mutations of the counts, the
 * section table and the sections get past the checksums. */
static inline void repair_store_header(uint8_t *d, size_t size)
{
    static const uint8_t magic[8] = {0x89, 'P', 'R', 'M', '\r', '\n', 0x1A, '\n'};
    memcpy(d, magic, 8);
    store_put32(d + 8, 1);
    store_put32(d + 12, STORE_HEADER_SIZE);
    store_put64(d + 16, size);
    store_put64(d + 192, prime__checksum(d + STORE_HEADER_SIZE, size - STORE_HEADER_SIZE,
                                         STORE_SEED_PAYLOAD));
    store_put64(d + 200, prime__checksum(d, 200, STORE_SEED_HEADER));
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
