/* prime-scale: one search on a saved store, with CPU time and peak memory.
 *
 *   prime-scale --store FILE --outcomes FILE [--max-tags L] [--min-size S]
 *               [--min-drop D] [--threads N] [--whole] [--dump FILE] [--stream]
 *
 * Prints one line of key=value pairs: modes, CPU time
 * (search_cpu_s: user + system CPU time of the prime_search call alone;
 * wall_s; rss_open_mb: peak resident size after opening the store and the
 * outcomes; rss_peak_mb: peak resident size at the end, VmHWM). --dump
 * writes every mode in result order (class, description, size, and the
 * doubles in hexadecimal), so that two libraries' results can be compared
 * bit for bit with cmp. --stream runs prime_search_stream instead (modes
 * counted, not kept; looked up with dlsym, so that the program still runs
 * against a libprime without it). Uses the public API only, so the same
 * program runs against any libprime. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "measure.h"
#include "prime/prime.h"

static int32_t count_mode(void *user, const prime_mode_event *mode)
{
    (void)mode;
    ++*(uint64_t *)user;
    return 0;
}

typedef prime_status (*stream_fn)(const prime_tagstore *, const prime_outcomes *,
                                  const prime_config *, prime_progress_fn, void *, prime_mode_fn,
                                  void *, uint64_t *);

static int fail(const char *what)
{
    fprintf(stderr, "prime-scale: %s: %s\n", what, prime_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *store_path = NULL, *out_path = NULL, *dump = NULL;
    long long max_tags = 4, min_size = 30, threads = 1;
    double min_drop = 0.3;
    int whole = 0, stream = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--whole")) {
            whole = 1;
            continue;
        }
        if (!strcmp(a, "--stream")) {
            stream = 1;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "prime-scale: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--store"))
            store_path = v;
        else if (!strcmp(a, "--outcomes"))
            out_path = v;
        else if (!strcmp(a, "--max-tags"))
            max_tags = atoll(v);
        else if (!strcmp(a, "--min-size"))
            min_size = atoll(v);
        else if (!strcmp(a, "--min-drop"))
            min_drop = atof(v);
        else if (!strcmp(a, "--dump"))
            dump = v;
        else if (!strcmp(a, "--threads"))
            threads = atoll(v);
        else {
            fprintf(stderr, "prime-scale: unknown option %s\n", a);
            return 2;
        }
    }
    if (!store_path || !out_path) {
        fprintf(stderr, "usage: prime-scale --store FILE --outcomes FILE [options]\n");
        return 2;
    }
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_config *config = NULL;
    prime_result *result = NULL;
    if (prime_tagstore_open(store_path, &store) != PRIME_OK)
        return fail(store_path);
    if (prime_outcomes_load(out_path, store, &outcomes) != PRIME_OK)
        return fail(out_path);
    if (prime_config_create(&config) != PRIME_OK ||
        prime_config_set_int(config, PRIME_PARAM_MAX_TAGS, max_tags) != PRIME_OK ||
        prime_config_set_int(config, PRIME_PARAM_MIN_SIZE, min_size) != PRIME_OK ||
        prime_config_set_double(config, PRIME_PARAM_MIN_DROP, min_drop) != PRIME_OK ||
        prime_config_set_int(config, PRIME_PARAM_THREADS, threads) != PRIME_OK ||
        prime_config_set_int(config, PRIME_PARAM_WHOLE_DATASET, whole) != PRIME_OK)
        return fail("config");
    double rss_open = bench_hwm_mb();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double c0 = bench_cpu_s();
    uint64_t n_modes = 0;
    if (stream) {
        stream_fn fn = (stream_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "prime_search_stream");
        if (fn == NULL) {
            fprintf(stderr, "prime-scale: this libprime has no prime_search_stream\n");
            return 1;
        }
        if (fn(store, outcomes, config, NULL, NULL, count_mode, &n_modes, NULL) != PRIME_OK)
            return fail("search");
    } else {
        if (prime_search(store, outcomes, config, NULL, NULL, &result) != PRIME_OK)
            return fail("search");
        n_modes = prime_result_mode_count(result);
    }
    double c1 = bench_cpu_s();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("modes=%llu search_cpu_s=%.4f wall_s=%.4f rss_open_mb=%.1f rss_peak_mb=%.1f\n",
           (unsigned long long)n_modes, c1 - c0,
           (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, rss_open, bench_hwm_mb());
    if (dump != NULL && result != NULL) {
        FILE *f = fopen(dump, "w");
        if (f == NULL) {
            perror(dump);
            return 1;
        }
        for (uint64_t i = 0; i < prime_result_mode_count(result); i++) {
            uint32_t cls, nt;
            uint64_t size;
            double correct, acc, cacc, drop;
            if (prime_result_mode_info(result, i, &cls, &nt, &size, &correct, &acc, &cacc,
                                       &drop) != PRIME_OK)
                return fail("mode");
            fprintf(f, "%u\t%s\t%llu\t%a\t%a\t%a\t%a\n", (unsigned)cls,
                    prime_result_mode_description(result, i), (unsigned long long)size, correct,
                    acc, cacc, drop);
        }
        if (fclose(f) != 0) {
            perror(dump);
            return 1;
        }
    }
    prime_result_destroy(result);
    prime_config_destroy(config);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return 0;
}
