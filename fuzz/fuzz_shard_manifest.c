/* Fuzz the sharded-store manifest and shard entry readers (lib/store/shard.c,
 * lib/store/json_mini.c): the input, cut at its first NUL byte, becomes
 * manifest.json and shard-00000.json of a folder that prime_tagstore_load
 * then opens; the first part is also parsed from memory. Nothing may crash
 * or leak, and a failure must leave no store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "store/json_mini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void put(const char *name, const uint8_t *d, size_t n)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f == NULL)
        __builtin_trap();
    if (n > 0 && fwrite(d, 1, n, f) != n)
        __builtin_trap();
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/fuzz_shard_XXXXXX");
        if (mkdtemp(dir) == NULL)
            __builtin_trap();
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t a = nul ? (size_t)(nul - data) : size;
    prime__jv v;
    memset(&v, 0, sizeof v);
    if (prime__mjson_parse((const char *)data, a, "fuzz.json", &v) == PRIME_OK)
        prime__mjson_free(&v);
    put("manifest.json", data, a);
    put("shard-00000.json", nul ? nul + 1 : data, nul ? size - a - 1 : 0);
    prime_tagstore *s = NULL;
    prime_status st = prime_tagstore_load(dir, &s, NULL);
    if ((st == PRIME_OK) != (s != NULL))
        __builtin_trap();
    uint32_t count = 0, complete = 0;
    if (prime_sharded_store_info(dir, &count, &complete, NULL) == PRIME_OK && complete > count)
        __builtin_trap();
    prime_tagstore_destroy(s);
    return 0;
}
