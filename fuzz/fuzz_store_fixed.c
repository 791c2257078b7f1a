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

#define HEADER_SIZE 208
#define SEED_PAYLOAD 0x5052494D45444154ull /* "PRIMEDAT" */
#define SEED_HEADER 0x5052494D45484452ull  /* "PRIMEHDR" */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER_SIZE) {
        check_open_store(data, size);
        return 0;
    }
    uint8_t *d = malloc(size);
    if (d == NULL)
        return 0;
    memcpy(d, data, size);
    static const uint8_t magic[8] = {0x89, 'P', 'R', 'M', '\r', '\n', 0x1A, '\n'};
    memcpy(d, magic, 8);
    put32(d + 8, 1);
    put32(d + 12, HEADER_SIZE);
    put64(d + 16, size);
    put64(d + 192, prime__checksum(d + HEADER_SIZE, size - HEADER_SIZE, SEED_PAYLOAD));
    put64(d + 200, prime__checksum(d, 200, SEED_HEADER));
    check_open_store(d, size);
    free(d);
    return 0;
}
