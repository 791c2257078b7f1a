/* prime-partial: the class-parallel search (prime/partial.h) on a saved
 * store, against one prime_search.
 *
 *   prime-partial --store FILE --outcomes FILE [--parts P] [--min-size S]
 *                 [--min-drop D] [--max-tags L] [--threads N]
 *
 * Splits the classes into P parts, largest estimated cost first, each part
 * taking the next class while it has the least estimated cost so far (the
 * way a scheduler would hand them out), searches every part
 * (prime_search_classes), moves each through its binary form
 * (prime_partial_serialize, prime_partial_load_memory) and merges them
 * (prime_partial_merge). Prints one line of key=value pairs: modes,
 * candidates, the CPU seconds of the single search, of the cost estimate,
 * of all part searches, of serialising and of reading the parts, and of the
 * merge; the bytes of all parts; and identical=1 when the merged result
 * renders as JSON, CSV and text exactly as the single search's (exit
 * status 1 otherwise). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "prime/prime.h"

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int fail(const char *what)
{
    fprintf(stderr, "prime-partial: %s: %s\n", what, prime_last_error());
    return 2;
}

static char *render(const prime_result *r, int32_t format)
{
    size_t need = 0;
    if (prime_result_render(r, format, NULL, 0, &need) != PRIME_E_BUFFER_TOO_SMALL)
        return NULL;
    char *buf = malloc(need + 1);
    if (buf != NULL && prime_result_render(r, format, buf, need + 1, &need) != PRIME_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

typedef struct {
    uint64_t cost;
    uint32_t id;
} class_cost;

static int by_cost(const void *a, const void *b)
{
    const class_cost *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

int main(int argc, char **argv)
{
    const char *store_path = NULL, *out_path = NULL;
    uint32_t n_parts = 4;
    prime_config *config = NULL;
    if (prime_config_create(&config) != PRIME_OK)
        return fail("config");
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        prime_status st = PRIME_OK;
        if (strcmp(k, "--store") == 0)
            store_path = v;
        else if (strcmp(k, "--outcomes") == 0)
            out_path = v;
        else if (strcmp(k, "--parts") == 0)
            n_parts = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(k, "--min-size") == 0)
            st = prime_config_set_int(config, PRIME_PARAM_MIN_SIZE, atoll(v));
        else if (strcmp(k, "--min-drop") == 0)
            st = prime_config_set_double(config, PRIME_PARAM_MIN_DROP, atof(v));
        else if (strcmp(k, "--max-tags") == 0)
            st = prime_config_set_int(config, PRIME_PARAM_MAX_TAGS, atoll(v));
        else if (strcmp(k, "--threads") == 0)
            st = prime_config_set_int(config, PRIME_PARAM_THREADS, atoll(v));
        else
            st = PRIME_E_INVALID_ARG;
        if (st != PRIME_OK) {
            fprintf(stderr, "prime-partial: bad option %s %s\n", k, v);
            return 2;
        }
    }
    if (store_path == NULL || out_path == NULL || n_parts < 1) {
        fprintf(stderr, "usage: prime-partial --store FILE --outcomes FILE [--parts P] "
                        "[--min-size S] [--min-drop D] [--max-tags L] [--threads N]\n");
        return 2;
    }
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    if (prime_tagstore_open(store_path, &store) != PRIME_OK)
        return fail(store_path);
    if (prime_outcomes_load(out_path, store, &outcomes) != PRIME_OK)
        return fail(out_path);
    uint64_t sum = 0;
    if (prime_tagstore_checksum(store, &sum) != PRIME_OK) /* once, as a rank would */
        return fail("checksum");

    double t0 = cpu_s();
    prime_result *single = NULL;
    if (prime_search(store, outcomes, config, NULL, NULL, &single) != PRIME_OK)
        return fail("prime_search");
    double t1 = cpu_s();

    /* largest estimated cost first, to the part with the least so far */
    uint32_t n_classes = prime_tagstore_class_count(store);
    uint64_t *costs = calloc(n_classes + 1, sizeof *costs);
    class_cost *order = calloc(n_classes + 1, sizeof *order);
    uint32_t *ids = calloc((size_t)n_parts * (n_classes + 1), sizeof *ids);
    uint32_t *n_ids = calloc(n_parts, sizeof *n_ids);
    uint64_t *load = calloc(n_parts, sizeof *load);
    prime_partial **parts = calloc(n_parts, sizeof *parts);
    if (costs == NULL || order == NULL || ids == NULL || n_ids == NULL || load == NULL ||
        parts == NULL)
        return 2;
    if (prime_search_class_costs(store, config, costs, n_classes) != PRIME_OK)
        return fail("prime_search_class_costs");
    double t2 = cpu_s();
    for (uint32_t c = 0; c < n_classes; c++) {
        order[c].cost = costs[c];
        order[c].id = c;
    }
    qsort(order, n_classes, sizeof *order, by_cost);
    for (uint32_t k = 0; k < n_classes; k++) {
        uint32_t best = 0;
        for (uint32_t p = 1; p < n_parts; p++)
            if (load[p] < load[best])
                best = p;
        ids[(size_t)best * (n_classes + 1) + n_ids[best]++] = order[k].id;
        load[best] += order[k].cost + 1;
    }

    double t3 = cpu_s();
    for (uint32_t p = 0; p < n_parts; p++)
        if (prime_search_classes(store, outcomes, config, ids + (size_t)p * (n_classes + 1),
                                 n_ids[p], NULL, NULL, &parts[p]) != PRIME_OK)
            return fail("prime_search_classes");
    double t4 = cpu_s();
    unsigned char **bytes = calloc(n_parts, sizeof *bytes);
    size_t *n_bytes = calloc(n_parts, sizeof *n_bytes);
    uint64_t total_bytes = 0;
    for (uint32_t p = 0; p < n_parts; p++) {
        if (prime_partial_serialize(parts[p], NULL, 0, &n_bytes[p]) != PRIME_E_BUFFER_TOO_SMALL)
            return fail("prime_partial_serialize");
        bytes[p] = malloc(n_bytes[p]);
        if (bytes[p] == NULL ||
            prime_partial_serialize(parts[p], bytes[p], n_bytes[p], &n_bytes[p]) != PRIME_OK)
            return fail("prime_partial_serialize");
        total_bytes += n_bytes[p];
        prime_partial_destroy(parts[p]);
        parts[p] = NULL;
    }
    double t5 = cpu_s();
    for (uint32_t p = 0; p < n_parts; p++) {
        if (prime_partial_load_memory(bytes[p], n_bytes[p], "part", store, config, &parts[p]) !=
            PRIME_OK)
            return fail("prime_partial_load_memory");
        free(bytes[p]);
    }
    double t6 = cpu_s();
    prime_result *merged = NULL;
    if (prime_partial_merge(store, (const prime_partial *const *)parts, n_parts, &merged) !=
        PRIME_OK)
        return fail("prime_partial_merge");
    double t7 = cpu_s();

    int identical = prime_result_candidate_count(single) == prime_result_candidate_count(merged);
    static const int32_t formats[] = {PRIME_FORMAT_JSON, PRIME_FORMAT_CSV, PRIME_FORMAT_TEXT};
    for (int f = 0; f < 3; f++) {
        char *a = render(single, formats[f]), *b = render(merged, formats[f]);
        identical = identical && a != NULL && b != NULL && strcmp(a, b) == 0;
        free(a);
        free(b);
    }
    uint64_t biggest = 0, all = 0;
    for (uint32_t p = 0; p < n_parts; p++) {
        biggest = load[p] > biggest ? load[p] : biggest;
        all += load[p];
    }
    printf("parts=%u modes=%llu candidates=%llu search_cpu_s=%.4f costs_cpu_s=%.4f "
           "parts_cpu_s=%.4f serialize_cpu_s=%.4f read_cpu_s=%.4f merge_cpu_s=%.4f "
           "bytes=%llu largest_part_cost_share=%.3f identical=%d\n",
           n_parts, (unsigned long long)prime_result_mode_count(single),
           (unsigned long long)prime_result_candidate_count(single), t1 - t0, t2 - t1, t4 - t3,
           t5 - t4, t6 - t5, t7 - t6, (unsigned long long)total_bytes,
           all ? (double)biggest / (double)all : 0.0, identical);
    for (uint32_t p = 0; p < n_parts; p++)
        prime_partial_destroy(parts[p]);
    free(bytes);
    free(n_bytes);
    free(parts);
    free(load);
    free(n_ids);
    free(ids);
    free(order);
    free(costs);
    prime_result_destroy(merged);
    prime_result_destroy(single);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    prime_config_destroy(config);
    return identical ? 0 : 1;
}
