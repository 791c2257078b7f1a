/* Fuzz the checkpoint state reader of the sharded whole-data-set search
 * (lib/search/sharded.c, prime_search_sharded_resume) on a small fixed
 * store, one process (the sum is the identity): any input is refused
 * cleanly (no result) or resumes into a result that renders; the state it
 * saves after each level, given back, resumes to the same result. Seeds
 * (fuzz/corpus/sharded_state): the states saved after levels 1, 2 and 3
 * of this search, so that mutations reach past the checksum when
 * libFuzzer's comparison tracing finds it. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "prime/sharded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prime_tagstore *store;
static prime_outcomes *outcomes;
static prime_config *config;

static int32_t one_process(void *user, uint64_t *values, uint64_t n)
{
    (void)user;
    (void)values;
    (void)n;
    return 0; /* one process: its values are the sums */
}

typedef struct {
    unsigned char *last;
    size_t size;
} saved;

static int32_t keep(void *user, const void *state, size_t size, uint32_t level)
{
    saved *s = user;
    (void)level;
    free(s->last);
    s->last = malloc(size ? size : 1);
    if (s->last == NULL)
        return 1;
    memcpy(s->last, state, size);
    s->size = size;
    return 0;
}

static char *render(const prime_result *r)
{
    size_t need = 0;
    if (prime_result_render(r, PRIME_FORMAT_JSON, NULL, 0, &need) != PRIME_E_BUFFER_TOO_SMALL)
        __builtin_trap();
    char *buf = malloc(need + 1);
    if (buf == NULL || prime_result_render(r, PRIME_FORMAT_JSON, buf, need + 1, &need) != PRIME_OK)
        __builtin_trap();
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL) {
        static const char tags[] =
            "image,class,tags,correct\na,fox,x|y,0\nb,fox,y,1\nc,ape,x,1\nd,ape,x|y,0\n"
            "e,fox,x|y|z,0\nf,ape,z,1\ng,fox,x|y|z,0\nh,ape,y|z,1\ni,fox,x|z,0\n";
        if (prime_tagstore_load_memory(tags, sizeof tags - 1, "store.csv", &store, &outcomes) !=
                PRIME_OK ||
            prime_config_create(&config) != PRIME_OK ||
            prime_config_set_int(config, PRIME_PARAM_MIN_SIZE, 1) != PRIME_OK ||
            prime_config_set_double(config, PRIME_PARAM_MIN_DROP, 0.05) != PRIME_OK ||
            prime_config_set_int(config, PRIME_PARAM_WHOLE_DATASET, 1) != PRIME_OK ||
            prime_config_set_int(config, PRIME_PARAM_THREADS, 1) != PRIME_OK)
            __builtin_trap();
    }
    prime_shard_part part = {store, outcomes, 0, prime_tagstore_image_count(store)};
    prime_result *r = (prime_result *)&r;
    saved sv = {NULL, 0};
    prime_status st = prime_search_sharded_resume(&part, 1, config, one_process, NULL, data,
                                                  size, keep, &sv, NULL, NULL, &r);
    if (st != PRIME_OK) {
        if (r != NULL)
            __builtin_trap();
        free(sv.last);
        return 0;
    }
    char *a = render(r);
    /* its last state, given back, resumes to the same result */
    if (sv.last != NULL) {
        prime_result *q = NULL;
        saved again = {NULL, 0};
        if (prime_search_sharded_resume(&part, 1, config, one_process, NULL, sv.last, sv.size,
                                        keep, &again, NULL, NULL, &q) != PRIME_OK)
            __builtin_trap();
        char *b = render(q);
        if (strcmp(a, b) != 0)
            __builtin_trap();
        free(b);
        free(again.last);
        prime_result_destroy(q);
    }
    free(a);
    free(sv.last);
    prime_result_destroy(r);
    return 0;
}
