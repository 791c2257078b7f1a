/*
 * prime-bench-sharded: the whole-data-set search over image shards
 * (prime_search_sharded) against prime_search in whole-data-set mode, on a
 * generated RAM-like store; the shards are threads of this process whose
 * sum function adds their arrays behind a barrier (what MPI_Allreduce does
 * between ranks). Reports wall time, the number of sum calls and values
 * summed, and whether every shard's JSON equals prime_search's (it must).
 *
 *   prime-bench-sharded [--vocab FILE] [--classes C] [--images-per-class N]
 *                       [--min-size S | --min-size-share X] [--max-tags L]
 *                       [--ranks 1,2,4] [--threads T] [--scores]
 *
 * Exit status 1 when a shard's result differs (or a search fails).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prime/prime.h"
#include "synth.h"

#define MAXR 64

typedef struct {
    uint32_t p;
    pthread_barrier_t bar;
    uint64_t *slot[MAXR];
    uint64_t calls, values;
} group;

typedef struct {
    group *g;
    uint32_t rank;
    prime_shard_part part;
    const prime_config *config;
    prime_status status;
    prime_result *result;
} member;

static int32_t group_sum(void *user_data, uint64_t *v, uint64_t n)
{
    member *m = user_data;
    group *g = m->g;
    g->slot[m->rank] = v;
    pthread_barrier_wait(&g->bar);
    if (m->rank == 0) {
        for (uint32_t r = 1; r < g->p; r++)
            for (uint64_t i = 0; i < n; i++)
                v[i] += g->slot[r][i];
        g->calls++;
        g->values += n;
    }
    pthread_barrier_wait(&g->bar);
    if (m->rank != 0)
        memcpy(v, g->slot[0], n * sizeof *v);
    pthread_barrier_wait(&g->bar);
    return 0;
}

static void *member_main(void *arg)
{
    member *m = arg;
    m->status = prime_search_sharded(&m->part, 1, m->config, group_sum, m, NULL, NULL,
                                     &m->result);
    if (m->status != PRIME_OK)
        fprintf(stderr, "shard %u: %s\n", m->rank, prime_last_error());
    return NULL;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *json(const prime_result *r)
{
    size_t need = 0;
    prime_result_render(r, PRIME_FORMAT_JSON, NULL, 0, &need);
    char *b = malloc(need + 1);
    if (b == NULL || prime_result_render(r, PRIME_FORMAT_JSON, b, need + 1, &need) != PRIME_OK) {
        free(b);
        return NULL;
    }
    return b;
}

int main(int argc, char **argv)
{
    const char *vocab_path = PRIME_SOURCE_ROOT "/data/ram/ram_tag_list.txt";
    uint32_t classes = 100, per_class = 1000, max_tags = 4, threads = 1;
    int64_t min_size = 30;
    double share = 0.0;
    bool scores = false;
    char ranks_arg[256] = "1,2,4";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--scores")) {
            scores = true;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "prime-bench-sharded: %s needs a value (see the file comment)\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--vocab"))
            vocab_path = v;
        else if (!strcmp(a, "--classes"))
            classes = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--images-per-class"))
            per_class = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--min-size"))
            min_size = strtoll(v, NULL, 10);
        else if (!strcmp(a, "--min-size-share"))
            share = strtod(v, NULL);
        else if (!strcmp(a, "--max-tags"))
            max_tags = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--threads"))
            threads = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--ranks"))
            snprintf(ranks_arg, sizeof ranks_arg, "%s", v);
        else {
            fprintf(stderr, "prime-bench-sharded: unknown option %s\n", a);
            return 2;
        }
    }
    synth_vocab vocab;
    char err[512];
    if (!synth_vocab_load(vocab_path, &vocab, err, sizeof err)) {
        fprintf(stderr, "prime-bench-sharded: %s\n", err);
        return 1;
    }
    synth_params sp;
    synth_params_default(&sp);
    sp.classes = classes;
    sp.images_per_class = per_class;
    sp.planted = classes;
    synth_data data;
    if (!synth_generate(&sp, &vocab, &data, err, sizeof err)) {
        fprintf(stderr, "prime-bench-sharded: %s\n", err);
        return 1;
    }
    prime_tagstore *store = NULL;
    prime_outcomes *out = NULL;
    if (synth_build_store(&data, &store, &out) != PRIME_OK) {
        fprintf(stderr, "prime-bench-sharded: %s\n", prime_last_error());
        return 1;
    }
    if (scores) {
        /* a score per image: correct images 0.5..1, wrong ones 0..0.5 */
        uint64_t x = 88172645463325252u;
        for (uint32_t i = 0; i < data.n_images; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            double u = (double)(x >> 11) / 9007199254740992.0;
            prime_outcomes_set(out, i, data.correct[i] ? 0.5 + 0.5 * u : 0.5 * u);
        }
    }
    prime_config *config = NULL;
    prime_config_create(&config);
    prime_config_set_int(config, PRIME_PARAM_WHOLE_DATASET, 1);
    prime_config_set_int(config, PRIME_PARAM_MAX_TAGS, max_tags);
    prime_config_set_int(config, PRIME_PARAM_MIN_SIZE, min_size);
    if (share > 0.0)
        prime_config_set_double(config, PRIME_PARAM_MIN_SIZE_SHARE, share);
    prime_config_set_int(config, PRIME_PARAM_THREADS, threads);

    uint32_t n = prime_tagstore_image_count(store);
    printf("whole-data-set search, %u images (%u classes x %u), %s outcomes, max_tags %u, "
           "%s %g, %u thread%s per shard\n",
           n, classes, per_class, scores ? "score" : "0/1", max_tags,
           share > 0.0 ? "min_size_share" : "min_size", share > 0.0 ? share : (double)min_size,
           threads, threads == 1 ? "" : "s");
    double t0 = now(), c0 = cpu();
    prime_result *want = NULL;
    if (prime_search(store, out, config, NULL, NULL, &want) != PRIME_OK) {
        fprintf(stderr, "prime-bench-sharded: %s\n", prime_last_error());
        return 1;
    }
    double t_search = now() - t0, c_search = cpu() - c0;
    char *want_json = json(want);
    printf("%-22s %8.2f s wall %8.2f s CPU   %llu modes, %llu candidates\n", "prime_search",
           t_search, c_search,
           (unsigned long long)prime_result_mode_count(want),
           (unsigned long long)prime_result_candidate_count(want));
    int rc = 0;
    for (char *tok = strtok(ranks_arg, ","); tok != NULL; tok = strtok(NULL, ",")) {
        uint32_t p = (uint32_t)strtoul(tok, NULL, 10);
        if (p < 1 || p > MAXR)
            continue;
        group g;
        memset(&g, 0, sizeof g);
        g.p = p;
        pthread_barrier_init(&g.bar, NULL, p);
        member ms[MAXR];
        pthread_t tid[MAXR];
        t0 = now();
        c0 = cpu();
        for (uint32_t r = 0; r < p; r++) {
            uint64_t first, end;
            prime_shard_range(n, r, p, &first, &end);
            ms[r] = (member){.g = &g, .rank = r, .config = config};
            ms[r].part = (prime_shard_part){store, out, (uint32_t)first, (uint32_t)(end - first)};
            pthread_create(&tid[r], NULL, member_main, &ms[r]);
        }
        for (uint32_t r = 0; r < p; r++)
            pthread_join(tid[r], NULL);
        double t = now() - t0, c = cpu() - c0;
        pthread_barrier_destroy(&g.bar);
        bool same = true;
        for (uint32_t r = 0; r < p; r++) {
            char *j = ms[r].status == PRIME_OK ? json(ms[r].result) : NULL;
            same = same && j != NULL && want_json != NULL && strcmp(j, want_json) == 0 &&
                   prime_result_candidate_count(ms[r].result) ==
                       prime_result_candidate_count(want);
            free(j);
            prime_result_destroy(ms[r].result);
        }
        char label[64];
        snprintf(label, sizeof label, "sharded, %u shard%s", p, p == 1 ? "" : "s");
        printf("%-22s %8.2f s wall %8.2f s CPU   %llu sum calls, %.1f M values summed, "
               "result %s\n",
               label, t, c,
               (unsigned long long)g.calls, (double)g.values / 1e6,
               same ? "identical" : "DIFFERENT");
        if (!same)
            rc = 1;
    }
    free(want_json);
    prime_result_destroy(want);
    prime_config_destroy(config);
    prime_outcomes_destroy(out);
    prime_tagstore_destroy(store);
    synth_data_free(&data);
    synth_vocab_free(&vocab);
    return rc;
}
