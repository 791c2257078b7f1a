/* Fuzz the partial-result reader (lib/search/partial.c,
 * prime_partial_load_memory) against a small fixed store and
 * configuration: any input is refused cleanly (no handle) or gives a
 * partial result whose binary form reads back to the same bytes and, when
 * it holds every class, merges into a result that renders. Seeds
 * (fuzz/corpus/partial): the binary forms of prime_search_classes of that
 * store with that configuration (all classes, one, none), so that mutations
 * reach past the checksums when libFuzzer's comparison tracing finds them. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prime_tagstore *store;
static prime_config *config;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL) {
        static const char tags[] = "image,class,tags\na,fox,x|y\nb,fox,y\nc,ape,x\nd,ape,x|y\n"
                                   "e,fox,x|y|z\nf,ape,z\n";
        if (prime_tagstore_load_memory(tags, sizeof tags - 1, "store.csv", &store, NULL) !=
                PRIME_OK ||
            prime_config_create(&config) != PRIME_OK ||
            prime_config_set_int(config, PRIME_PARAM_MIN_SIZE, 1) != PRIME_OK ||
            prime_config_set_double(config, PRIME_PARAM_MIN_DROP, 0.1) != PRIME_OK)
            __builtin_trap();
    }
    prime_partial *p = (prime_partial *)&p;
    prime_status st = prime_partial_load_memory(data, size, "fuzz.prp", store, config, &p);
    if (st != PRIME_OK) {
        if (p != NULL)
            __builtin_trap();
        return 0;
    }
    /* what was accepted reads back to itself */
    size_t n = 0, m = 0;
    if (prime_partial_serialize(p, NULL, 0, &n) != PRIME_E_BUFFER_TOO_SMALL)
        __builtin_trap();
    unsigned char *a = malloc(n), *b = malloc(n);
    prime_partial *q = NULL;
    if (a == NULL || b == NULL || prime_partial_serialize(p, a, n, &n) != PRIME_OK ||
        prime_partial_load_memory(a, n, "again", store, config, &q) != PRIME_OK ||
        prime_partial_serialize(q, b, n, &m) != PRIME_OK || m != n || memcmp(a, b, n) != 0)
        __builtin_trap();
    /* every class in it: it merges alone into a result that renders */
    if (prime_partial_class_count(p) == prime_tagstore_class_count(store)) {
        const prime_partial *parts[] = {p};
        prime_result *r = NULL;
        size_t need = 0;
        if (prime_partial_merge(store, parts, 1, &r) != PRIME_OK ||
            prime_result_render(r, PRIME_FORMAT_JSON, NULL, 0, &need) !=
                PRIME_E_BUFFER_TOO_SMALL ||
            prime_result_mode_count(r) != prime_partial_mode_count(p))
            __builtin_trap();
        prime_result_destroy(r);
    }
    free(a);
    free(b);
    prime_partial_destroy(q);
    prime_partial_destroy(p);
    return 0;
}
