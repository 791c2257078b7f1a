/* Fuzz the class reader (prime_class_reader_open / _read): the input, its
 * header repaired as in fuzz_store_fixed.c (so that mutations get past the
 * checksums to the class index and the validation of what is read), is
 * written to a memory file and opened by path; every class is then read
 * alone, and all of them at once. Each read must fail (leaving the handle
 * NULL) or give a store whose every accessor stays in bounds, holding only
 * images of the classes asked for, as many as the reader's class sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_read(const prime_class_reader *r, const uint32_t *ids, uint32_t n)
{
    prime_tagstore *s = NULL;
    if (prime_class_reader_read(r, ids, n, &s, NULL) != PRIME_OK) {
        if (s != NULL)
            __builtin_trap();
        return;
    }
    uint64_t want = 0;
    for (uint32_t k = 0; k < n; k++)
        want += prime_class_reader_class_size(r, ids[k]);
    if (prime_tagstore_image_count(s) != want)
        __builtin_trap();
    for (uint32_t i = 0; i < prime_tagstore_image_count(s); i++) {
        uint32_t c = prime_tagstore_image_class(s, i), k = 0;
        while (k < n && ids[k] != c)
            k++;
        if (k == n)
            __builtin_trap();
    }
    check_store(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *d = malloc(size ? size : 1);
    if (d == NULL)
        return 0;
    memcpy(d, data, size);
    if (size >= STORE_HEADER_SIZE)
        repair_store_header(d, size);
    int fd = memfd_create("fuzz_class_reader", 0);
    if (fd < 0 || write(fd, d, size) != (ssize_t)size) {
        if (fd >= 0)
            close(fd);
        free(d);
        return 0;
    }
    free(d);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    prime_class_reader *r = NULL;
    if (prime_class_reader_open(path, NULL, &r) != PRIME_OK) {
        if (r != NULL)
            __builtin_trap();
        close(fd);
        return 0;
    }
    const prime_tagstore *tables = prime_class_reader_tables(r);
    if (tables == NULL || prime_tagstore_image_count(tables) != 0)
        __builtin_trap();
    uint32_t nc = prime_tagstore_class_count(tables);
    uint32_t m = nc < 64 ? nc : 64;
    uint32_t all[64];
    for (uint32_t c = 0; c < m; c++) {
        all[c] = m - 1 - c; /* any order */
        check_read(r, &c, 1);
    }
    check_read(r, all, m);
    prime_class_reader_close(r);
    close(fd);
    return 0;
}
