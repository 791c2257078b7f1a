/* Fuzz the result reader (prime_result_load_memory, over the JSON lexer of
 * lib/io/json.c): on whatever it accepts, the round trip
 * render(load(render(r))) == render(r) byte for byte in every format, every
 * accessor, and the evaluation on a small fixed store (prime_eval_create,
 * and prime_eval_load_memory on the same bytes, which must agree). */
#include <math.h>
#include <stdlib.h>
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

/* The rendering of r in a format, malloc'd (NULL on failure: out of memory). */
static char *render(const prime_result *r, int32_t format)
{
    size_t need = 0;
    if (prime_result_render(r, format, NULL, 0, &need) != PRIME_E_BUFFER_TOO_SMALL)
        __builtin_trap();
    char *buf = malloc(need + 1);
    if (buf == NULL || prime_result_render(r, format, buf, need + 1, &need) != PRIME_OK)
        __builtin_trap();
    return buf;
}

static void round_trip(const prime_result *r)
{
    char *json = render(r, PRIME_FORMAT_JSON);
    prime_result *back = NULL;
    if (prime_result_load_memory(json, strlen(json), "again.json", &back) != PRIME_OK)
        __builtin_trap();
    static const int32_t formats[] = {PRIME_FORMAT_JSON, PRIME_FORMAT_CSV, PRIME_FORMAT_TEXT};
    for (int f = 0; f < 3; f++) {
        char *a = render(r, formats[f]), *b = render(back, formats[f]);
        if (strcmp(a, b) != 0)
            __builtin_trap();
        free(a);
        free(b);
    }
    prime_result_destroy(back);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL)
        make_store();
    prime_result *r = (prime_result *)&r;
    prime_status st = prime_result_load_memory(data, size, "fuzz.json", &r);
    prime_eval *ev = (prime_eval *)&ev;
    prime_status st_eval = prime_eval_load_memory(data, size, "fuzz.json", store, outcomes, &ev);
    if (st != PRIME_OK) {
        if (r != NULL || strncmp(prime_last_error(), "fuzz.json", 9) != 0)
            __builtin_trap();
        if (st_eval != st || ev != NULL) /* the evaluation reads through the same reader */
            __builtin_trap();
        return 0;
    }
    round_trip(r);
    for (uint32_t c = 0; c < prime_result_class_count(r); c++)
        if (prime_result_class_name(r, c) == NULL ||
            prime_result_class_info(r, c, NULL, NULL, NULL, NULL) != PRIME_OK)
            __builtin_trap();
    uint64_t nm = prime_result_mode_count(r);
    for (uint64_t i = 0; i < nm; i++) {
        uint32_t nt = 0, ids[PRIME_MAX_TAGS_LIMIT];
        if (prime_result_mode_info(r, i, NULL, &nt, NULL, NULL, NULL, NULL, NULL) != PRIME_OK ||
            prime_result_mode_tags(r, i, ids, PRIME_MAX_TAGS_LIMIT, &nt) != PRIME_OK ||
            prime_result_mode_class_name(r, i) == NULL ||
            prime_result_mode_description(r, i) == NULL)
            __builtin_trap();
        for (uint32_t j = 0; j < nt; j++)
            if (prime_result_mode_tag_name(r, i, j) == NULL)
                __builtin_trap();
    }
    if (st_eval != PRIME_OK) {
        if (ev != NULL)
            __builtin_trap();
        prime_result_destroy(r);
        return 0;
    }
    if (prime_eval_mode_count(ev) != nm)
        __builtin_trap();
    for (uint64_t i = 0; i < nm; i++) {
        uint64_t s;
        double lo, hi, p, acc;
        if (prime_eval_mode_test(ev, i, &s, NULL, &acc, NULL, NULL) != PRIME_OK ||
            prime_eval_mode_confidence(ev, i, &lo, &hi, &p, NULL, NULL) != PRIME_OK)
            __builtin_trap();
        if (s > 0 && !(lo >= 0 && lo <= acc + 1e-12 && hi <= 1 && hi >= acc - 1e-12 &&
                       p >= 0 && p <= 1))
            __builtin_trap();
        if (strcmp(prime_eval_mode_class_name(ev, i), prime_result_mode_class_name(r, i)) != 0 ||
            strcmp(prime_eval_mode_description(ev, i), prime_result_mode_description(r, i)) != 0)
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
    prime_result_destroy(r);
    return 0;
}
