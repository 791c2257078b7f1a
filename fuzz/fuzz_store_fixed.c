/* Fuzz the binary store validation behind the checksums: the input's
 * header is repaired before it is opened (magic, version 1, header size,
 * file size and both checksums, as docs/binary-format.md defines them), so
 * that mutations of the counts, the section table and the sections reach
 * steps 5 to 9 of "What a reader checks" instead of failing at the
 * checksum. Inputs shorter than a header are opened as they are. */
#include <stdlib.h>
#include <string.h>

#include "store_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < STORE_HEADER_SIZE) {
        check_open_store(data, size);
        return 0;
    }
    uint8_t *d = malloc(size);
    if (d == NULL)
        return 0;
    memcpy(d, data, size);
    repair_store_header(d, size);
    check_open_store(d, size);
    free(d);
    return 0;
}
