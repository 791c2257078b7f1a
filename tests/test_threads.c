/* Thread suite: one frozen tag store and one outcomes vector shared by 8
 * threads that run prime_search (with 1 and 2 worker threads each), the
 * same search as two merged parts (prime_search_classes, prime_partial_merge),
 * prime_query and prime_query_parents over and over; every answer must
 * equal the one computed on a single thread first. Built and run under
 * ThreadSanitizer by scripts/test.sh (build-rel-tsan, -Db_sanitize=thread);
 * in the other builds it is an ordinary concurrency test.
 *
 * Not a Criterion suite: Criterion cannot start under ThreadSanitizer (its
 * inheritable arena is mapped at a fixed address that TSan's shadow memory
 * holds: "Could not initialize inheritable arena"), so this is a plain
 * program with the same kind of checks; it exits 1 on the first failure. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "prime/prime.h"

/* Checks made, over all threads: main requires the ones it expects. */
static atomic_ulong checks_made;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        atomic_fetch_add(&checks_made, 1);                                           \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__,   \
                    __LINE__, #cond, prime_last_error());                            \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

#define N_THREADS 8
#define N_IMAGES 1500
#define N_TAGS 24
#define N_QUERIES 64

static prime_tagstore *store;
static prime_outcomes *outcomes;
static prime_config *configs[2];
static char *reference[2];

static uint32_t query_tags[N_QUERIES][3];
static uint32_t query_class[N_QUERIES];
static uint64_t ref_size[N_QUERIES], ref_parent_size[N_QUERIES][3];
static double ref_correct[N_QUERIES], ref_acc[N_QUERIES], ref_class_acc[N_QUERIES];
static double ref_parent_correct[N_QUERIES][3];

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static char *render_json(const prime_result *r)
{
    size_t need = 0;
    CHECK(prime_result_render(r, PRIME_FORMAT_JSON, NULL, 0, &need) ==
          PRIME_E_BUFFER_TOO_SMALL);
    char *buf = malloc(need + 1);
    CHECK(buf != NULL);
    CHECK((prime_result_render(r, PRIME_FORMAT_JSON, buf, need + 1, &need)) == PRIME_OK);
    return buf;
}

static void setup(void)
{
    CHECK((prime_tagstore_create(&store)) == PRIME_OK);
    static const char *const classes[] = {"cat", "dog", "owl", "yak"};
    char tag_names[N_TAGS][8];
    const char *tags[N_TAGS];
    double *v = malloc(N_IMAGES * sizeof *v);
    for (int i = 0; i < N_IMAGES; i++) {
        uint32_t n = 0;
        int bad = 0;
        for (int t = 0; t < N_TAGS; t++) {
            if (next_rand() % 100 < (uint32_t)(40 - t)) {
                snprintf(tag_names[n], sizeof tag_names[n], "t%02d", t);
                tags[n] = tag_names[n];
                n++;
                bad += t == 3 || t == 5 || t == 7;
            }
        }
        char name[16];
        snprintf(name, sizeof name, "i%04d", i);
        CHECK(prime_tagstore_add_image_names(store, name, classes[i % 4], tags, n, NULL) ==
              PRIME_OK);
        v[i] = bad >= 2 ? (next_rand() % 4 == 0) : (next_rand() % 10 != 0);
    }
    CHECK((prime_tagstore_freeze(store)) == PRIME_OK);
    CHECK((prime_outcomes_create(N_IMAGES, &outcomes)) == PRIME_OK);
    CHECK((prime_outcomes_set_array(outcomes, 0, v, N_IMAGES)) == PRIME_OK);
    free(v);

    for (int c = 0; c < 2; c++) {
        CHECK((prime_config_create(&configs[c])) == PRIME_OK);
        CHECK((prime_config_set_int(configs[c], PRIME_PARAM_MIN_SIZE, 15)) == PRIME_OK);
        CHECK((prime_config_set_int(configs[c], PRIME_PARAM_MAX_TAGS, 3)) == PRIME_OK);
        CHECK((prime_config_set_double(configs[c], PRIME_PARAM_MIN_DROP, 0.25)) == PRIME_OK);
        CHECK((prime_config_set_int(configs[c], PRIME_PARAM_THREADS, 1)) == PRIME_OK);
        prime_result *r = NULL;
        CHECK(prime_search(store, outcomes, configs[c], NULL, NULL, &r) == PRIME_OK);
        CHECK(prime_result_mode_count(r) > 0);
        reference[c] = render_json(r);
        prime_result_destroy(r);
        /* in the threads: config 0 searches with 1 worker, config 1 with 2 */
        CHECK((prime_config_set_int(configs[c], PRIME_PARAM_THREADS, c + 1)) == PRIME_OK);
    }
    CHECK(strcmp(reference[0], reference[1]) == 0);

    uint32_t nc = prime_tagstore_class_count(store), nt = prime_tagstore_tag_count(store);
    for (int q = 0; q < N_QUERIES; q++) {
        query_class[q] = q % 5 == 4 ? PRIME_NONE : next_rand() % nc;
        for (int j = 0; j < 3; j++)
            query_tags[q][j] = next_rand() % nt;
        CHECK(prime_query(store, outcomes, query_class[q], query_tags[q], 3, &ref_size[q],
                          &ref_correct[q], &ref_acc[q], &ref_class_acc[q]) == PRIME_OK);
        CHECK(prime_query_parents(store, outcomes, query_class[q], query_tags[q], 3,
                                  ref_parent_size[q], ref_parent_correct[q]) == PRIME_OK);
    }
}

static void teardown(void)
{
    for (int c = 0; c < 2; c++) {
        free(reference[c]);
        prime_config_destroy(configs[c]);
    }
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
}

typedef struct {
    int id, rounds;
    int mismatches;
    char msg[256];
} worker;

static int same(double a, double b)
{
    return a == b || (a != a && b != b);
}

static void *work(void *arg)
{
    worker *w = arg;
    for (int round = 0; round < w->rounds; round++) {
        int c = (w->id + round) % 2;
        prime_result *r = NULL;
        prime_status st = prime_search(store, outcomes, configs[c], NULL, NULL, &r);
        if (st != PRIME_OK) {
            snprintf(w->msg, sizeof w->msg, "search: %s", prime_last_error());
            w->mismatches++;
            continue;
        }
        char *json = render_json(r);
        if (strcmp(json, reference[c]) != 0) {
            snprintf(w->msg, sizeof w->msg, "thread %d round %d: result differs", w->id, round);
            w->mismatches++;
        }
        free(json);
        prime_result_destroy(r);
        /* the same search as two parts of the classes, merged (prime/partial.h; the
           store's checksum is computed by whichever thread comes first) */
        uint32_t part_a[] = {(uint32_t)(w->id + round) % 4, (uint32_t)(w->id + round + 1) % 4},
                 part_b[] = {(uint32_t)(w->id + round + 2) % 4,
                             (uint32_t)(w->id + round + 3) % 4};
        prime_partial *parts[2] = {NULL, NULL};
        if (prime_search_classes(store, outcomes, configs[c], part_a, 2, NULL, NULL,
                                 &parts[0]) != PRIME_OK ||
            prime_search_classes(store, outcomes, configs[c], part_b, 2, NULL, NULL,
                                 &parts[1]) != PRIME_OK ||
            prime_partial_merge(store, (const prime_partial *const *)parts, 2, &r) !=
                PRIME_OK) {
            snprintf(w->msg, sizeof w->msg, "partial: %s", prime_last_error());
            w->mismatches++;
        } else {
            json = render_json(r);
            if (strcmp(json, reference[c]) != 0) {
                snprintf(w->msg, sizeof w->msg, "thread %d round %d: merged parts differ",
                         w->id, round);
                w->mismatches++;
            }
            free(json);
            prime_result_destroy(r);
        }
        prime_partial_destroy(parts[0]);
        prime_partial_destroy(parts[1]);
        for (int q = (w->id * 7 + round) % N_QUERIES, k = 0; k < N_QUERIES; k++,
                 q = (q + 1) % N_QUERIES) {
            uint64_t size, psize[3];
            double correct, acc, cacc, pcorrect[3];
            if (prime_query(store, outcomes, query_class[q], query_tags[q], 3, &size, &correct,
                            &acc, &cacc) != PRIME_OK ||
                prime_query_parents(store, outcomes, query_class[q], query_tags[q], 3, psize,
                                    pcorrect) != PRIME_OK) {
                w->mismatches++;
                continue;
            }
            int ok = size == ref_size[q] && same(correct, ref_correct[q]) &&
                     same(acc, ref_acc[q]) && same(cacc, ref_class_acc[q]);
            for (int j = 0; j < 3; j++)
                ok = ok && psize[j] == ref_parent_size[q][j] &&
                     same(pcorrect[j], ref_parent_correct[q][j]);
            if (!ok) {
                snprintf(w->msg, sizeof w->msg, "thread %d: query %d differs", w->id, q);
                w->mismatches++;
            }
        }
    }
    return NULL;
}

static void shared_frozen_store(void)
{
    const char *env = getenv("PRIME_THREAD_ROUNDS");
    int rounds = env ? atoi(env) : 6;
    pthread_t th[N_THREADS];
    worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){.id = i, .rounds = rounds};
        CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
    }
    int total = 0;
    for (int i = 0; i < N_THREADS; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        if (w[i].mismatches)
            fprintf(stderr, "thread %d: %d mismatches, last: %s\n", i, w[i].mismatches,
                    w[i].msg);
        total += w[i].mismatches;
    }
    CHECK(total == 0);
    fprintf(stderr, "threads: %d threads x %d rounds (search, merged parts + %d queries each): "
                    "all equal\n",
            N_THREADS, rounds, N_QUERIES);
}

/* Errors are per thread: a failure on one thread does not change another
 * thread's message. */
static void *fail_one(void *arg)
{
    (void)arg;
    prime_clear_error();
    (void)prime_tagstore_create(NULL);
    return strstr(prime_last_error(), "prime_tagstore_create") ? (void *)1 : NULL;
}

static void last_error_is_per_thread(void)
{
    prime_clear_error();
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, fail_one, NULL) == 0);
    for (int i = 0; i < N_THREADS; i++) {
        void *ok = NULL;
        CHECK(pthread_join(th[i], &ok) == 0);
        CHECK(ok != NULL);
    }
    CHECK(strcmp(prime_last_error(), "") == 0);
    fprintf(stderr, "threads: last error is per thread\n");
}

int main(void)
{
    setup();
    shared_frozen_store();
    teardown();
    unsigned long after_store = atomic_load(&checks_made);
    last_error_is_per_thread();
    unsigned long total = atomic_load(&checks_made);
    /* every thread checked every query: a worker that returned early would
       have made fewer checks (a failed check exits at once) */
    if (after_store < (unsigned long)N_THREADS * N_QUERIES ||
        total - after_store < 2u * N_THREADS) {
        fprintf(stderr, "threads: only %lu checks on the shared store and %lu on the last "
                "error were made\n", after_store, total - after_store);
        return 1;
    }
    fprintf(stderr, "threads: %lu checks made, none failed\n", total);
    return 0;
}
