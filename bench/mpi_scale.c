/* prime-mpi-scale: the scaling benchmark of libprime-mpi (bench/mpi_scale.sh,
 * docs/scale.md). A store generated lazily, image by image from a hash of
 * (seed, image index), so that any range of it can be made alone:
 *
 *   --mode classes  the per-class search (prime_mpi_search): every rank
 *                   generates the whole store (the per-class search holds it
 *                   on every rank) and rank 0 hands out the classes;
 *   --mode whole    the whole-data-set search (prime_mpi_search_part): each
 *                   rank generates only its range of the images
 *                   (prime_shard_range) and the counts are summed with
 *                   MPI_Allreduce.
 *
 *   --write PATH    one rank: generate the whole store and write it as a
 *                   binary store PATH.prime and binary outcomes PATH.bits
 *                   (0/1), then stop;
 *   --tags FILE --outcomes FILE  (with --mode whole) read each rank's part
 *                   from files (prime_mpi_load_part: from a binary store
 *                   with binary outcomes, only the rank's range) instead of
 *                   generating it.
 *
 * Rank 0 prints one line: images, ranks, the generation and search wall
 * times, the peak resident size and the search's CPU time (user + system,
 * generation excluded) of every rank, the modes, the candidates
 * and a hash of the result's JSON (equal at every rank count when the
 * search is exact). --reference also runs prime_search on rank 0 over the
 * whole store (one rank only) and compares the JSON.
 *
 *   mpirun -np P prime-mpi-scale --images N [--classes C] [--tags-per-image T]
 *          [--vocab V] [--mode classes|whole] [--min-size S]
 *          [--min-size-share X] [--threads K] [--seed S] [--reference]
 *          [--write PATH | --tags FILE --outcomes FILE]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "prime/mpi.h"

typedef struct {
    uint64_t images;
    uint32_t classes, per_image, vocab, pool;
    uint64_t seed;
} model;

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Image i: its class (images in class blocks, like a data set sorted by
 * label), its tags (per_image draws, skewed towards the front of the
 * class's pool, duplicates merged by the store) and its outcome. Two
 * planted pairs per class: images with both tags are mostly wrong. */
static uint32_t gen_image(const model *m, uint64_t i, uint32_t *tags, double *outcome,
                          uint32_t *class_out)
{
    uint32_t c = (uint32_t)(i * m->classes / m->images);
    uint64_t h = mix(m->seed ^ mix(i));
    uint32_t n = 0;
    uint32_t base = (uint32_t)(mix(m->seed ^ (0xc1a55ull + c)) % m->vocab);
    for (uint32_t k = 0; k < m->per_image; k++) {
        h = mix(h);
        double u = (double)(h >> 11) / 9007199254740992.0;
        uint32_t r = (uint32_t)(m->pool * u * u); /* skewed rank in the pool */
        tags[n++] = (base + r * 7u) % m->vocab;
    }
    h = mix(h);
    int planted = 0;
    for (uint32_t p = 0; p < 2; p++) {
        h = mix(h);
        if (h % 100 < 4) { /* 4 % of the class carries planted pair p */
            tags[n++] = (base + (3 + p * 5) * 7u) % m->vocab;
            tags[n++] = (base + (11 + p * 5) * 7u) % m->vocab;
            planted = 1;
        }
    }
    h = mix(h);
    *outcome = (double)(h % 1000 < (planted ? 300u : 850u));
    *class_out = c;
    return n;
}

/* The store of images [first, end) with the model's whole tag and class
 * tables, and their outcomes. */
static prime_status gen_store(const model *m, uint64_t first, uint64_t end,
                              prime_tagstore **store_out, prime_outcomes **outcomes_out)
{
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    prime_status st = prime_tagstore_create(&s);
    char name[32];
    for (uint32_t t = 0; st == PRIME_OK && t < m->vocab; t++) {
        uint32_t id;
        snprintf(name, sizeof name, "tag%05u", t);
        st = prime_tagstore_intern_tag(s, name, &id);
    }
    for (uint32_t c = 0; st == PRIME_OK && c < m->classes; c++) {
        uint32_t id;
        snprintf(name, sizeof name, "class%05u", c);
        st = prime_tagstore_intern_class(s, name, &id);
    }
    if (st == PRIME_OK)
        st = prime_outcomes_create((uint32_t)(end - first), &o);
    enum { BATCH = 1 << 18 };
    uint32_t max_tags = m->per_image + 4;
    uint32_t *cls = malloc(sizeof *cls * BATCH);
    uint64_t *off = malloc(sizeof *off * (BATCH + 1));
    uint32_t *ids = malloc(sizeof *ids * (size_t)BATCH * max_tags);
    double *out = malloc(sizeof *out * BATCH);
    if (st == PRIME_OK && (!cls || !off || !ids || !out))
        st = PRIME_E_NOMEM;
    for (uint64_t b = first; st == PRIME_OK && b < end; b += BATCH) {
        uint32_t n = (uint32_t)(end - b < BATCH ? end - b : BATCH);
        off[0] = 0;
        for (uint32_t k = 0; k < n; k++)
            off[k + 1] = off[k] + gen_image(m, b + k, ids + off[k], &out[k], &cls[k]);
        st = prime_tagstore_add_images(s, n, NULL, NULL, cls, off, ids, NULL);
        if (st == PRIME_OK)
            st = prime_outcomes_set_array(o, (uint32_t)(b - first), out, n);
    }
    free(cls);
    free(off);
    free(ids);
    free(out);
    if (st == PRIME_OK)
        st = prime_tagstore_freeze(s);
    if (st != PRIME_OK) {
        prime_tagstore_destroy(s);
        prime_outcomes_destroy(o);
        return st;
    }
    *store_out = s;
    *outcomes_out = o;
    return PRIME_OK;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* user + system CPU seconds of this process so far */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static char *render(const prime_result *r, size_t *len)
{
    size_t need = 0;
    prime_result_render(r, PRIME_FORMAT_JSON, NULL, 0, &need);
    char *buf = malloc(need + 1);
    if (buf == NULL || prime_result_render(r, PRIME_FORMAT_JSON, buf, need + 1, len) != PRIME_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int die(int rank, const char *what, prime_status st)
{
    if (rank == 0)
        fprintf(stderr, "prime-mpi-scale: %s: %s (%s)\n", what, prime_last_error(),
                prime_status_name(st));
    MPI_Finalize();
    return 1;
}

int main(int argc, char **argv)
{
    int provided = 0, rank = 0, size = 1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    model m = {.images = 1000000, .classes = 1000, .per_image = 15, .vocab = 4585,
               .pool = 300, .seed = 1};
    const char *mode = "classes";
    int64_t min_size = 30, threads = 1;
    double share = 0;
    int reference = 0;
    const char *write_path = NULL, *tags_path = NULL, *outcomes_path = NULL;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
        if (strcmp(a, "--reference") == 0) {
            reference = 1;
            continue;
        }
        if (v == NULL) {
            if (rank == 0)
                fprintf(stderr, "prime-mpi-scale: %s needs a value\n", a);
            MPI_Finalize();
            return 2;
        }
        k++;
        if (strcmp(a, "--images") == 0)
            m.images = strtoull(v, NULL, 10);
        else if (strcmp(a, "--classes") == 0)
            m.classes = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--tags-per-image") == 0)
            m.per_image = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--vocab") == 0)
            m.vocab = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            m.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--mode") == 0)
            mode = v;
        else if (strcmp(a, "--min-size") == 0)
            min_size = strtoll(v, NULL, 10);
        else if (strcmp(a, "--min-size-share") == 0)
            share = strtod(v, NULL);
        else if (strcmp(a, "--threads") == 0)
            threads = strtoll(v, NULL, 10);
        else if (strcmp(a, "--write") == 0)
            write_path = v;
        else if (strcmp(a, "--tags") == 0)
            tags_path = v;
        else if (strcmp(a, "--outcomes") == 0)
            outcomes_path = v;
        else {
            if (rank == 0)
                fprintf(stderr, "prime-mpi-scale: unknown option %s\n", a);
            MPI_Finalize();
            return 2;
        }
    }
    int whole = strcmp(mode, "whole") == 0;
    if (m.images == 0 || m.images > UINT32_MAX || m.classes == 0 || m.vocab == 0 ||
        m.per_image == 0) {
        if (rank == 0)
            fprintf(stderr, "prime-mpi-scale: bad sizes\n");
        MPI_Finalize();
        return 2;
    }

    prime_config *cfg = NULL;
    prime_status st = prime_config_create(&cfg);
    if (st == PRIME_OK)
        st = prime_config_set_int(cfg, PRIME_PARAM_MIN_SIZE, min_size);
    if (st == PRIME_OK && share > 0)
        st = prime_config_set_double(cfg, PRIME_PARAM_MIN_SIZE_SHARE, share);
    if (st == PRIME_OK)
        st = prime_config_set_int(cfg, PRIME_PARAM_THREADS, threads);
    if (st == PRIME_OK && whole)
        st = prime_config_set_int(cfg, PRIME_PARAM_WHOLE_DATASET, 1);
    if (st != PRIME_OK)
        return die(rank, "config", st);

    if (write_path != NULL) { /* the files of the whole store, then stop */
        prime_tagstore *ws = NULL;
        prime_outcomes *wo = NULL;
        char path[4096];
        st = size == 1 ? gen_store(&m, 0, m.images, &ws, &wo) : PRIME_E_INVALID_ARG;
        snprintf(path, sizeof path, "%s.prime", write_path);
        if (st == PRIME_OK)
            st = prime_tagstore_save(ws, path);
        snprintf(path, sizeof path, "%s.bits", write_path);
        if (st == PRIME_OK)
            st = prime_outcomes_save(wo, ws, PRIME_OUTCOMES_BITS, path);
        prime_outcomes_destroy(wo);
        prime_tagstore_destroy(ws);
        prime_config_destroy(cfg);
        if (st != PRIME_OK)
            return die(rank, "--write (one rank)", st);
        MPI_Finalize();
        return 0;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    uint64_t first = 0, end = m.images;
    if (whole)
        prime_shard_range(m.images, (uint32_t)rank, (uint32_t)size, &first, &end);
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    uint32_t part_first = 0, part_count = (uint32_t)(end - first);
    if (tags_path != NULL) {
        uint64_t total = 0;
        st = whole ? prime_mpi_load_part(MPI_COMM_WORLD, tags_path, outcomes_path, &store,
                                         &outcomes, &part_first, &part_count, &total)
                   : PRIME_E_INVALID_ARG;
        m.images = total;
        if (st != PRIME_OK)
            return die(rank, "load (--tags needs --mode whole)", st);
    } else {
        st = gen_store(&m, first, end, &store, &outcomes);
        if (st != PRIME_OK)
            return die(rank, "generate", st);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    double t1 = now();
    double cpu_gen = cpu_seconds();
    prime_result *result = NULL;
    st = whole ? prime_mpi_search_part(MPI_COMM_WORLD, store, outcomes, part_first,
                                       part_count, cfg, NULL, NULL, &result)
               : prime_mpi_search(MPI_COMM_WORLD, store, outcomes, cfg, NULL, NULL, NULL,
                                  &result);
    double t2 = now();
    if (st != PRIME_OK)
        return die(rank, "search", st);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long peak_kb = ru.ru_maxrss;
    double cpu = cpu_seconds() - cpu_gen; /* the search's share */
    long *peaks = rank == 0 ? malloc(sizeof *peaks * (size_t)size) : NULL;
    double *cpus = rank == 0 ? malloc(sizeof *cpus * (size_t)size) : NULL;
    MPI_Gather(&peak_kb, 1, MPI_LONG, peaks, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    MPI_Gather(&cpu, 1, MPI_DOUBLE, cpus, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        size_t len = 0;
        char *json = render(result, &len);
        int same = -1;
        if (reference && size == 1 && json != NULL) {
            prime_result *ref = NULL;
            size_t rlen = 0;
            char *rj = NULL;
            if (prime_search(store, outcomes, cfg, NULL, NULL, &ref) == PRIME_OK)
                rj = render(ref, &rlen);
            same = rj != NULL && rlen == len && memcmp(rj, json, len) == 0;
            free(rj);
            prime_result_destroy(ref);
        }
        printf("mode=%s input=%s images=%llu classes=%u ranks=%d threads=%lld generate_s=%.2f "
               "search_s=%.2f modes=%llu candidates=%llu json_fnv=%016llx",
               mode, tags_path != NULL ? "files" : "generated", (unsigned long long)m.images,
               m.classes, size, (long long)threads, t1 - t0,
               t2 - t1, (unsigned long long)prime_result_mode_count(result),
               (unsigned long long)prime_result_candidate_count(result),
               json != NULL ? (unsigned long long)fnv(json, len) : 0ull);
        if (same >= 0)
            printf(" prime_search_identical=%s", same ? "yes" : "NO");
        printf(" peak_rss_mb=");
        for (int r = 0; r < size; r++)
            printf("%s%.0f", r ? "," : "", peaks[r] / 1024.0);
        printf(" search_cpu_s=");
        for (int r = 0; r < size; r++)
            printf("%s%.1f", r ? "," : "", cpus[r]);
        printf("\n");
        free(json);
        free(peaks);
        free(cpus);
    }
    prime_result_destroy(result);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    prime_config_destroy(cfg);
    MPI_Finalize();
    return 0;
}
