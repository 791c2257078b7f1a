/* Fuzz tags loading through the public entry point (kind detection: JSON
 * Lines, CSV or binary), then the same bytes through the JSON Lines reader
 * directly. */

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    prime_status st = prime_tagstore_load_memory(data, size, "fuzz.jsonl", &s, &o);
    if (st != PRIME_OK && (s != NULL || o != NULL))
        __builtin_trap();
    if (st == PRIME_OK && o != NULL && prime_outcomes_count(o) != prime_tagstore_image_count(s))
        __builtin_trap();
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    /* the same bytes as JSON Lines directly, outcomes dropped */
    s = NULL;
    st = prime__read_tags_jsonl((const char *)data, size, "fuzz.jsonl", &s, NULL);
    if (st != PRIME_OK && s != NULL)
        __builtin_trap();
    prime_tagstore_destroy(s);
    return 0;
}
