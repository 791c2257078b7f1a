/* Fuzz the result JSON reader of the evaluation (prime_eval_load_memory)
 * against a small fixed store, then every accessor and both writers on
 * whatever it accepts. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "prime/eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prime_tagstore *store;
static prime_outcomes *outcomes;

static void make_store(void)
{
    static const char tags[] = "image,class,tags,correct\na,fox,x|y,0\nb,fox,y,1\nc,fox,x,0\n"
                               "d,ape,x,1\ne,ape,,0\n\xC3\xA9,ape,y,1\n";
    if (prime_tagstore_load_memory(tags, sizeof tags - 1, "store.csv", &store, &outcomes) !=
        PRIME_OK)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL)
        make_store();
    prime_eval *ev = (prime_eval *)&ev;
    prime_status st = prime_eval_load_memory(data, size, "fuzz.json", store, outcomes, &ev);
    if (st != PRIME_OK) {
        if (ev != NULL || strncmp(prime_last_error(), "fuzz.json", 9) != 0)
            __builtin_trap();
        return 0;
    }
    uint64_t n = prime_eval_mode_count(ev);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t s;
        double lo, hi, p, acc;
        if (prime_eval_mode_test(ev, i, &s, NULL, &acc, NULL, NULL) != PRIME_OK ||
            prime_eval_mode_confidence(ev, i, &lo, &hi, &p, NULL, NULL) != PRIME_OK)
            __builtin_trap();
        if (s > 0 && !(lo >= 0 && lo <= acc + 1e-12 && hi <= 1 && hi >= acc - 1e-12 &&
                       p >= 0 && p <= 1))
            __builtin_trap();
        if (prime_eval_mode_class_name(ev, i) == NULL ||
            prime_eval_mode_description(ev, i) == NULL)
            __builtin_trap();
        for (uint32_t j = 0; j < prime_eval_mode_tag_count(ev, i); j++)
            if (prime_eval_mode_tag_name(ev, i, j) == NULL ||
                prime_eval_mode_parent(ev, i, j, NULL, NULL, NULL) != PRIME_OK)
                __builtin_trap();
    }
    prime_eval_set_fdr(ev, 0.1, 0);
    size_t need;
    prime_eval_render(ev, PRIME_FORMAT_JSON, NULL, 0, &need);
    prime_eval_render(ev, PRIME_FORMAT_TEXT, NULL, 0, &need);
    prime_eval_destroy(ev);
    return 0;
}
