/* libprime-mpi (include/prime/mpi.h): loading a rank's store or part, and
 * the search over the ranks of a communicator, on libprime's public API.
 *
 * Errors are agreed on (agree()): after each step that can fail on some
 * ranks only, the ranks learn the lowest failing rank and its status and
 * message, so that every rank returns a failure and none waits forever.
 * Messages are set with prime_backend_error (prime/sys/backend.h), so the
 * caller reads them with prime_last_error() as for libprime's own. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "prime/mpi.h"
#include "prime/prime.h"
#include "prime/sys/backend.h"

#ifndef PRIME_MPI_VERSION_STRING
#define PRIME_MPI_VERSION_STRING "unknown"
#endif

enum { MSG_CAP = 2048 };

const char *prime_mpi_version(void)
{
    return PRIME_MPI_VERSION_STRING;
}

static prime_status fail(prime_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static prime_status fail(prime_status st, const char *fmt, ...)
{
    char msg[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return prime_backend_error(st, msg);
}

static prime_status mpi_fail(int err, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", err);
    return fail(PRIME_E_IO, "MPI: %s failed: %s", what, text);
}

/* Every rank passes its status; every rank returns the status of the
 * lowest failing rank (PRIME_OK when none failed; a failure other than
 * PRIME_E_CANCELLED first), with that rank's message (prefixed "rank R: "
 * on the other ranks). Collective. */
static prime_status agree(MPI_Comm comm, prime_status st)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* a rank that failed by itself comes before one that was cancelled
       because another failed */
    int mine = st == PRIME_OK ? INT_MAX : st == PRIME_E_CANCELLED ? size + rank : rank;
    int first = INT_MAX;
    int err = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Allreduce");
    if (first == INT_MAX)
        return PRIME_OK;
    if (first >= size)
        first -= size;
    struct {
        int32_t status;
        char msg[MSG_CAP];
    } m;
    memset(&m, 0, sizeof m);
    if (rank == first) {
        m.status = st;
        prime_last_error_copy(m.msg, sizeof m.msg);
        if (m.msg[0] == '\0')
            snprintf(m.msg, sizeof m.msg, "%s", prime_status_message(st));
    }
    err = MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, comm);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Bcast");
    if (rank == first)
        return st;
    m.msg[sizeof m.msg - 1] = '\0';
    return fail(m.status, "rank %d: %s", first, m.msg);
}

/* ---- loading --------------------------------------------------------- */

/* The store and outcomes of `tags` (with outcomes_path, else the tags
 * file's own), as the prime tool loads them. */
static prime_status load_all(const char *tags, const char *outcomes_path,
                             prime_tagstore **store, prime_outcomes **outcomes)
{
    prime_outcomes *in_file = NULL;
    *store = NULL;
    *outcomes = NULL;
    if (tags == NULL)
        return fail(PRIME_E_INVALID_ARG, "no tags file given");
    prime_status st = prime_tagstore_load(tags, store, outcomes_path ? NULL : &in_file);
    if (st == PRIME_OK && outcomes_path != NULL)
        st = prime_outcomes_load(outcomes_path, *store, outcomes);
    else if (st == PRIME_OK && in_file == NULL)
        st = fail(PRIME_E_NOT_FOUND,
                  "%s has no outcomes (no correct or score column): give an outcomes file",
                  tags);
    else
        *outcomes = in_file;
    if (st != PRIME_OK) {
        prime_tagstore_destroy(*store);
        *store = NULL;
    }
    return st;
}

prime_status prime_mpi_load(MPI_Comm comm, const char *tags, const char *outcomes_path,
                            prime_tagstore **store_out, prime_outcomes **outcomes_out)
{
    if (store_out == NULL || outcomes_out == NULL)
        return fail(PRIME_E_INVALID_ARG, "prime_mpi_load: NULL output");
    prime_status st = load_all(tags, outcomes_path, store_out, outcomes_out);
    st = agree(comm, st);
    if (st != PRIME_OK) {
        prime_outcomes_destroy(*outcomes_out);
        prime_tagstore_destroy(*store_out);
        *outcomes_out = NULL;
        *store_out = NULL;
    }
    return st;
}

/* 1 when path names a sharded-store folder (it holds a manifest). */
static int is_sharded(const char *path, uint32_t *count, uint64_t *images)
{
    uint32_t complete = 0;
    prime_status st = prime_sharded_store_info(path, count, &complete, images);
    prime_clear_error();
    return st == PRIME_OK && complete == *count;
}

/* 1 when the file at path starts with these 8 bytes */
static int has_magic(const char *path, const unsigned char magic[8])
{
    unsigned char head[8] = {0};
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == sizeof head && memcmp(head, magic, sizeof head) == 0;
}

/* 1 when the outcomes file is binary outcomes (docs/binary-format.md,
 * "Binary outcomes": the magic 89 50 52 4F 0D 0A 1A 0A), bound to the
 * whole store's checksum; else a CSV (or unreadable: its loader says why). */
static int outcomes_is_binary(const char *path)
{
    static const unsigned char magic[8] = {0x89, 'P', 'R', 'O', '\r', '\n', 0x1a, '\n'};
    return has_magic(path, magic);
}

/* 1 when path is a binary store file (its magic: 89 50 52 4D 0D 0A 1A 0A) */
static int is_binary_store(const char *path)
{
    static const unsigned char magic[8] = {0x89, 'P', 'R', 'M', '\r', '\n', 0x1a, '\n'};
    return has_magic(path, magic);
}

/* The shards of a sharded-store folder dir (count shards, total images)
 * that overlap images [first, end), merged (for an empty range: the one
 * holding image `first`, or the last, for its tag table); *lo_out gets the
 * index of the merged store's first image in the whole store. */
static prime_status load_shards(const char *dir, uint32_t count, uint64_t total, uint64_t first,
                                uint64_t end, prime_tagstore **out, uint64_t *lo_out)
{
    char **paths = calloc(count, sizeof *paths);
    uint32_t n = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    prime_status st = paths == NULL ? PRIME_E_NOMEM : PRIME_OK;
    for (uint32_t s = 0; st == PRIME_OK && s < count; s++) {
        uint64_t a = 0, b = 0;
        st = prime_shard_range(total, s, count, &a, &b);
        if (st != PRIME_OK)
            break;
        int take = first < end ? (a < end && b > first)
                               : (n == 0 && ((first >= a && first < b) || s + 1 == count));
        if (!take)
            continue;
        size_t len = strlen(dir) + 32;
        paths[n] = malloc(len);
        if (paths[n] == NULL) {
            st = PRIME_E_NOMEM;
            break;
        }
        snprintf(paths[n], len, "%s/shard-%05u.prm", dir, s);
        n++;
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    if (st == PRIME_OK)
        st = prime_tagstore_merge_files((const char *const *)paths, n, PRIME_MERGE_SAME_TAGS,
                                        out, NULL);
    if (st == PRIME_OK && prime_tagstore_image_count(*out) != hi - lo) {
        st = fail(PRIME_E_MISMATCH, "%s: shards of %llu images where the manifest says %llu",
                  dir, (unsigned long long)prime_tagstore_image_count(*out),
                  (unsigned long long)(hi - lo));
        prime_tagstore_destroy(*out);
        *out = NULL;
    }
    for (uint32_t k = 0; paths != NULL && k < n; k++)
        free(paths[k]);
    free(paths);
    *lo_out = lo;
    return st;
}

static prime_status load_part(MPI_Comm comm, const char *tags, const char *outcomes_path,
                              prime_tagstore **store_out, prime_outcomes **outcomes_out,
                              uint32_t *first_out, uint32_t *count_out, uint64_t *total_out)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    uint32_t count = 0;
    uint64_t total = 0, first = 0, end = 0, lo = 0;
    prime_status st = PRIME_OK;
    if (tags == NULL)
        return fail(PRIME_E_INVALID_ARG, "no tags file given");
    if (outcomes_path != NULL && is_binary_store(tags)) {
        /* only this rank's range of the file, and of binary outcomes */
        st = prime_tagstore_open_part(tags, (uint32_t)rank, (uint32_t)size, store_out, &first,
                                      &total);
        if (st == PRIME_OK)
            st = prime_outcomes_load(outcomes_path, *store_out, outcomes_out);
        lo = first;
        end = first + (st == PRIME_OK ? prime_tagstore_image_count(*store_out) : 0);
    } else if (outcomes_path != NULL && is_sharded(tags, &count, &total) &&
               !outcomes_is_binary(outcomes_path)) {
        /* only the shards of this rank's range */
        st = prime_shard_range(total, (uint32_t)rank, (uint32_t)size, &first, &end);
        if (st == PRIME_OK)
            st = load_shards(tags, count, total, first, end, store_out, &lo);
        if (st == PRIME_OK)
            st = prime_outcomes_load(outcomes_path, *store_out, outcomes_out);
    } else {
        st = load_all(tags, outcomes_path, store_out, outcomes_out);
        if (st == PRIME_OK) {
            total = prime_tagstore_image_count(*store_out);
            st = prime_shard_range(total, (uint32_t)rank, (uint32_t)size, &first, &end);
        }
    }
    if (st != PRIME_OK) {
        prime_outcomes_destroy(*outcomes_out);
        prime_tagstore_destroy(*store_out);
        *outcomes_out = NULL;
        *store_out = NULL;
        return st;
    }
    *first_out = (uint32_t)(first < end ? first - lo : 0);
    *count_out = (uint32_t)(end - first);
    *total_out = total;
    return PRIME_OK;
}

prime_status prime_mpi_load_part(MPI_Comm comm, const char *tags, const char *outcomes_path,
                                 prime_tagstore **store_out, prime_outcomes **outcomes_out,
                                 uint32_t *first_out, uint32_t *count_out, uint64_t *total_out)
{
    if (store_out == NULL || outcomes_out == NULL || first_out == NULL || count_out == NULL)
        return fail(PRIME_E_INVALID_ARG, "prime_mpi_load_part: NULL output");
    *store_out = NULL;
    *outcomes_out = NULL;
    uint64_t total = 0;
    prime_status st = load_part(comm, tags, outcomes_path, store_out, outcomes_out, first_out,
                                count_out, &total);
    st = agree(comm, st);
    if (st != PRIME_OK) {
        prime_outcomes_destroy(*outcomes_out);
        prime_tagstore_destroy(*store_out);
        *outcomes_out = NULL;
        *store_out = NULL;
        return st;
    }
    if (total_out != NULL)
        *total_out = total;
    return PRIME_OK;
}

/* ---- the whole-data-set search: prime_search_sharded over the ranks ---- */

static int32_t allreduce_sum(void *user, uint64_t *values, uint64_t n)
{
    MPI_Comm comm = *(const MPI_Comm *)user;
    return MPI_Allreduce(MPI_IN_PLACE, values, (int)n, MPI_UINT64_T, MPI_SUM, comm) ==
                   MPI_SUCCESS
               ? 0
               : 1;
}

/* A state to resume (data NULL: none) and where saves go. */
typedef struct {
    const void *data;
    size_t size;
    void *save_data;
} prime_shard_state;

static prime_status search_part(MPI_Comm comm, const prime_tagstore *store,
                                const prime_outcomes *outcomes, uint32_t first, uint32_t count,
                                const prime_config *config, prime_progress_fn progress,
                                void *user_data, prime_result **out,
                                const prime_shard_state *state, prime_sharded_save_fn save)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    prime_status st = PRIME_OK;
    /* the arguments prime_search_sharded refuses before its first sum: agreed
       on first, so that no rank waits in a sum the others never make */
    if (store == NULL || outcomes == NULL)
        st = fail(PRIME_E_INVALID_ARG, "prime_mpi_search_part: NULL store or outcomes");
    else if ((uint64_t)first + count > prime_tagstore_image_count(store))
        st = fail(PRIME_E_INVALID_ARG,
                  "prime_mpi_search_part: images %u..%llu outside the store's %u", first,
                  (unsigned long long)first + count, prime_tagstore_image_count(store));
    st = agree(comm, st);
    if (st != PRIME_OK)
        return st;
    prime_shard_part part = {store, outcomes, first, count};
    prime_result *result = NULL;
    st = state == NULL ? prime_search_sharded(&part, 1, config, allreduce_sum, &comm,
                                              rank == 0 ? progress : NULL, user_data, &result)
                       : prime_search_sharded_resume(&part, 1, config, allreduce_sum, &comm,
                                                     state->data, state->size, save,
                                                     state->save_data,
                                                     rank == 0 ? progress : NULL, user_data,
                                                     &result);
    /* every rank stopped at the same step; the message of a rank that
       failed by itself is preferred to "another shard failed" */
    st = agree(comm, st);
    if (st != PRIME_OK || rank != 0) {
        prime_result_destroy(result);
        result = NULL;
    }
    *out = result;
    return st;
}

/* ---- the whole-data-set checkpoint: DIR/whole.state, written by rank 0 ---- */

typedef struct {
    int rank;
    char path[4096];
} state_file;

/* prime_sharded_save_fn: rank 0 replaces the file (atomically); the other
 * ranks have the same bytes and write nothing. */
static int32_t save_state(void *user, const void *state, size_t size, uint32_t level)
{
    const state_file *f = user;
    (void)level;
    if (f->rank != 0)
        return 0;
    return prime_file_write(f->path, state, size) == PRIME_OK ? 0 : 1;
}

/* Rank 0 reads DIR/whole.state (when it exists; the folder is created if
 * absent) and every rank gets its bytes (*data NULL: none). Collective. */
static prime_status state_bcast(MPI_Comm comm, state_file *f, const char *dir, void **data,
                                uint64_t *size)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    f->rank = rank;
    snprintf(f->path, sizeof f->path, "%s/whole.state", dir);
    *data = NULL;
    *size = 0;
    prime_status st = PRIME_OK;
    if (rank == 0) {
        struct stat sb;
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            st = fail(PRIME_E_IO, "%s: cannot create the checkpoint folder: %s", dir,
                      strerror(errno));
        else if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = fail(PRIME_E_IO, "%s: not a folder (the checkpoint is a folder)", dir);
        else if (access(f->path, F_OK) == 0)
            st = prime_file_read(f->path, 0, data, size);
    }
    st = agree(comm, st);
    if (st != PRIME_OK) {
        prime_file_free(*data);
        *data = NULL;
        return st;
    }
    uint64_t n = *size;
    int err = MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
    if (err == MPI_SUCCESS && rank != 0 && n > 0) {
        *data = malloc((size_t)n);
        if (*data == NULL)
            st = fail(PRIME_E_NOMEM, "out of memory for the checkpoint state");
    }
    st = agree(comm, st);
    for (uint64_t at = 0; st == PRIME_OK && err == MPI_SUCCESS && at < n; at += INT_MAX / 2) {
        uint64_t c = n - at < INT_MAX / 2 ? n - at : INT_MAX / 2;
        err = MPI_Bcast((char *)*data + at, (int)c, MPI_BYTE, 0, comm);
    }
    if (err != MPI_SUCCESS)
        st = mpi_fail(err, "MPI_Bcast");
    if (st != PRIME_OK) {
        if (rank == 0)
            prime_file_free(*data);
        else
            free(*data);
        *data = NULL;
        return st;
    }
    *size = n;
    return PRIME_OK;
}

prime_status prime_mpi_search_part_resume(MPI_Comm comm, const prime_tagstore *store,
                                          const prime_outcomes *outcomes, uint32_t first,
                                          uint32_t count, const prime_config *config,
                                          const char *checkpoint_dir,
                                          prime_progress_fn progress, void *user_data,
                                          prime_result **out)
{
    if (out == NULL)
        return fail(PRIME_E_INVALID_ARG, "prime_mpi_search_part_resume: NULL out");
    *out = NULL;
    if (checkpoint_dir == NULL)
        return search_part(comm, store, outcomes, first, count, config, progress, user_data,
                           out, NULL, NULL);
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    state_file f;
    void *data = NULL;
    uint64_t size = 0;
    prime_status st = state_bcast(comm, &f, checkpoint_dir, &data, &size);
    if (st != PRIME_OK)
        return st;
    prime_shard_state given = {data, (size_t)size, &f};
    st = search_part(comm, store, outcomes, first, count, config, progress, user_data, out,
                     &given, save_state);
    if (rank == 0)
        prime_file_free(data);
    else
        free(data);
    return st;
}

prime_status prime_mpi_search_part(MPI_Comm comm, const prime_tagstore *store,
                                   const prime_outcomes *outcomes, uint32_t first,
                                   uint32_t count, const prime_config *config,
                                   prime_progress_fn progress, void *user_data,
                                   prime_result **out)
{
    if (out == NULL)
        return fail(PRIME_E_INVALID_ARG, "prime_mpi_search_part: NULL out");
    *out = NULL;
    return search_part(comm, store, outcomes, first, count, config, progress, user_data, out,
                       NULL, NULL);
}

/* ---- the per-class search: classes handed out by rank 0 ---------------- */

enum { TAG_RESULT = 7101, TAG_ERROR = 7102, TAG_TASK = 7103 };

static _Thread_local uint32_t resumed_classes;

uint32_t prime_mpi_resumed_classes(void)
{
    return resumed_classes;
}

/* Rank 0's state: the classes in dispatch order, the partial result of each
 * class id, the first error. The local worker thread and the main thread
 * (MPI) share it under mu. */
/* Where a rank's classes come from: the whole store and its outcomes, or a
 * binary store file read class by class (reader; store and outcomes NULL). */
typedef struct {
    const prime_tagstore *store;
    const prime_outcomes *outcomes;
    const prime_class_reader *reader;
} source;

/* The partial result of class c from a source: with a reader, only the
 * class's images are read, searched and freed. */
static prime_status search_one(const source *src, const prime_config *config, uint32_t c,
                               prime_partial **p)
{
    if (src->reader == NULL)
        return prime_search_classes(src->store, src->outcomes, config, &c, 1, NULL, NULL, p);
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_status st = prime_class_reader_read(src->reader, &c, 1, &store, &outcomes);
    if (st == PRIME_OK)
        st = prime_search_classes(store, outcomes, config, &c, 1, NULL, NULL, p);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return st;
}

typedef struct {
    pthread_mutex_t mu;
    const source *src;
    const prime_tagstore *store; /* to load and merge against: the whole store or the
                                    reader's tables */
    const uint64_t *costs;       /* the class costs given (reader), or NULL */
    uint64_t outcomes_key;       /* with costs: the outcomes' part of the key */
    const prime_config *config;
    const char *checkpoint;
    uint32_t *order, n_order, next; /* classes to search, largest cost first */
    prime_partial **parts;          /* by class id */
    uint32_t n_classes, done, total;
    int stop;
    prime_status error;
    char message[MSG_CAP];
    int local_finished;
} sched;

/* the first error wins; later ones are dropped */
static void sched_error(sched *s, prime_status st, const char *msg)
{
    pthread_mutex_lock(&s->mu);
    if (s->error == PRIME_OK) {
        s->error = st;
        snprintf(s->message, sizeof s->message, "%s",
                 msg != NULL && msg[0] ? msg : prime_status_message(st));
    }
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
}

/* the next class to search, or -1 */
static int64_t sched_next(sched *s)
{
    pthread_mutex_lock(&s->mu);
    int64_t c = !s->stop && s->next < s->n_order ? (int64_t)s->order[s->next++] : -1;
    pthread_mutex_unlock(&s->mu);
    return c;
}

static void checkpoint_path(const sched *s, uint32_t c, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/class-%u.part", s->checkpoint, c);
}

/* keep the partial result of class c (saved to the checkpoint first) */
static prime_status sched_done(sched *s, uint32_t c, prime_partial *p)
{
    if (s->checkpoint != NULL) {
        char path[4096];
        checkpoint_path(s, c, path, sizeof path);
        prime_status st = prime_partial_save(p, path);
        if (st != PRIME_OK) {
            prime_partial_destroy(p);
            return st;
        }
    }
    pthread_mutex_lock(&s->mu);
    s->parts[c] = p;
    s->done++;
    pthread_mutex_unlock(&s->mu);
    return PRIME_OK;
}

/* Search classes from the queue until it is empty (rank 0's own share). */
static void *local_worker(void *arg)
{
    sched *s = arg;
    int64_t c;
    while ((c = sched_next(s)) >= 0) {
        uint32_t id = (uint32_t)c;
        prime_partial *p = NULL;
        prime_status st = search_one(s->src, s->config, id, &p);
        if (st == PRIME_OK)
            st = sched_done(s, id, p);
        if (st != PRIME_OK) {
            sched_error(s, st, prime_last_error());
            break;
        }
    }
    pthread_mutex_lock(&s->mu);
    s->local_finished = 1;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

#define FNV_BASIS 0xcbf29ce484222325ull

/* FNV-1a of the 8 bytes of v (little-endian order) into h */
static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    for (int k = 0; k < 8; k++) {
        h ^= (v >> (8 * k)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* FNV-1a of an outcome's bits into h */
static uint64_t fnv_outcome(uint64_t h, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return fnv_u64(h, bits);
}

/* FNV-1a over the outcomes' bits: the checkpoint key's outcomes part. */
static prime_status outcomes_hash(const prime_outcomes *o, uint64_t *out)
{
    uint64_t h = FNV_BASIS;
    uint32_t n = prime_outcomes_count(o);
    for (uint32_t i = 0; i < n; i++) {
        double v = 0;
        prime_status st = prime_outcomes_get(o, i, &v);
        if (st != PRIME_OK)
            return st;
        h = fnv_outcome(h, v);
    }
    *out = h ^ n;
    return PRIME_OK;
}

/* Rank 0: open (or start) the checkpoint folder and take the classes it
 * holds. */
static prime_status checkpoint_open(sched *s)
{
    const char *dir = s->checkpoint;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return fail(PRIME_E_IO, "%s: cannot create the checkpoint folder: %s", dir,
                    strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return fail(PRIME_E_IO, "%s: not a folder (the checkpoint is a folder)", dir);
    uint64_t store_sum = 0, outcomes_sum = s->outcomes_key;
    prime_status st = prime_tagstore_checksum(s->store, &store_sum);
    if (st == PRIME_OK && s->costs == NULL)
        st = outcomes_hash(s->src->outcomes, &outcomes_sum);
    if (st != PRIME_OK)
        return st;
    /* read by classes: the tables' checksum (each partial result is bound to
       the file's) and a hash of the outcomes class by class */
    char key[256], path[4096];
    int klen = snprintf(key, sizeof key,
                        s->costs == NULL
                            ? "libprime-mpi checkpoint 1\nstore %016llx\noutcomes %016llx\n"
                            : "libprime-mpi checkpoint 1\nstore tables %016llx\noutcomes by "
                              "class %016llx\n",
                        (unsigned long long)store_sum, (unsigned long long)outcomes_sum);
    snprintf(path, sizeof path, "%s/run.key", dir);
    if (access(path, F_OK) == 0) {
        void *data = NULL;
        uint64_t size = 0;
        st = prime_file_read(path, 4096, &data, &size);
        if (st != PRIME_OK)
            return st;
        int same = size == (uint64_t)klen && memcmp(data, key, (size_t)klen) == 0;
        prime_file_free(data);
        if (!same)
            return fail(PRIME_E_MISMATCH,
                        "%s: a checkpoint of another run (another store or other outcomes); "
                        "give an empty or new folder",
                        dir);
    } else {
        st = prime_file_write(path, key, (size_t)klen);
        if (st != PRIME_OK)
            return st;
    }
    /* the classes already searched: taken out of the queue */
    uint32_t keep = 0;
    for (uint32_t k = 0; k < s->n_order; k++) {
        uint32_t c = s->order[k];
        checkpoint_path(s, c, path, sizeof path);
        if (access(path, F_OK) != 0) {
            s->order[keep++] = c;
            continue;
        }
        prime_partial *p = NULL;
        st = prime_partial_load(path, s->store, s->config, &p);
        if (st == PRIME_OK && (prime_partial_class_count(p) != 1 ||
                               prime_partial_class_id(p, 0) != c)) {
            prime_partial_destroy(p);
            st = fail(PRIME_E_MISMATCH, "%s: not the partial result of class %u", path, c);
        }
        if (st != PRIME_OK)
            return st;
        s->parts[c] = p;
        s->done++;
        resumed_classes++;
    }
    s->n_order = keep;
    return PRIME_OK;
}

struct cost_id {
    uint64_t cost;
    uint32_t id;
};

/* largest cost first, then the smaller id */
static int cmp_cost_id(const void *a, const void *b)
{
    const struct cost_id *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Rank 0's setup: the classes with images, largest cost first (ties: the
 * smaller id), less those the checkpoint holds. */
static prime_status sched_init(sched *s)
{
    uint32_t n = prime_tagstore_class_count(s->store);
    s->n_classes = n;
    s->parts = calloc(n > 0 ? n : 1, sizeof *s->parts);
    s->order = malloc(sizeof *s->order * (n > 0 ? n : 1));
    uint64_t *costs = malloc(sizeof *costs * (n > 0 ? n : 1));
    prime_status st = s->parts && s->order && costs ? PRIME_OK : PRIME_E_NOMEM;
    if (st == PRIME_OK && n > 0 && s->costs != NULL)
        memcpy(costs, s->costs, sizeof *costs * n);
    else if (st == PRIME_OK && n > 0)
        st = prime_search_class_costs(s->store, s->config, costs, n);
    if (st == PRIME_OK) {
        for (uint32_t c = 0; c < n; c++)
            if ((s->src->reader != NULL ? prime_class_reader_class_size(s->src->reader, c)
                                        : prime_tagstore_class_image_count(s->store, c)) > 0)
                s->order[s->n_order++] = c;
        struct cost_id *ci = malloc(sizeof *ci * (s->n_order > 0 ? s->n_order : 1));
        if (ci == NULL)
            st = PRIME_E_NOMEM;
        for (uint32_t k = 0; ci != NULL && k < s->n_order; k++)
            ci[k] = (struct cost_id){costs[s->order[k]], s->order[k]};
        if (ci != NULL)
            qsort(ci, s->n_order, sizeof *ci, cmp_cost_id);
        for (uint32_t k = 0; ci != NULL && k < s->n_order; k++)
            s->order[k] = ci[k].id;
        free(ci);
        s->total = s->n_order;
    }
    free(costs);
    if (st == PRIME_OK && s->checkpoint != NULL)
        st = checkpoint_open(s);
    return st;
}

/* A worker rank: ask rank 0 for a class, search it, send its partial
 * result back (the next request), until rank 0 says stop (-1). A failure
 * is sent to rank 0 (status and message) and ends the loop. */
static prime_status worker_loop(MPI_Comm comm, const source *src, const prime_config *config)
{
    char *buf = NULL;
    size_t size = 0;
    int err = MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_RESULT, comm);
    prime_status st = err == MPI_SUCCESS ? PRIME_OK : mpi_fail(err, "MPI_Send");
    while (st == PRIME_OK) {
        int32_t c = -1;
        err = MPI_Recv(&c, 1, MPI_INT32_T, 0, TAG_TASK, comm, MPI_STATUS_IGNORE);
        if (err != MPI_SUCCESS) {
            st = mpi_fail(err, "MPI_Recv");
            break;
        }
        if (c < 0)
            break;
        uint32_t id = (uint32_t)c;
        prime_partial *p = NULL;
        st = search_one(src, config, id, &p);
        size_t need = 0;
        if (st == PRIME_OK) {
            st = prime_partial_serialize(p, NULL, 0, &need);
            if (st == PRIME_E_BUFFER_TOO_SMALL || st == PRIME_OK) {
                prime_clear_error();
                st = PRIME_OK;
            }
        }
        if (st == PRIME_OK && need > (size_t)INT_MAX)
            st = fail(PRIME_E_LIMIT, "class %u: a partial result of %zu bytes, more than one "
                      "MPI message takes", id, need);
        if (st == PRIME_OK && need > size) {
            free(buf);
            buf = malloc(need);
            size = buf != NULL ? need : 0;
            if (buf == NULL)
                st = PRIME_E_NOMEM;
        }
        if (st == PRIME_OK)
            st = prime_partial_serialize(p, buf, size, &need);
        prime_partial_destroy(p);
        if (st != PRIME_OK)
            break;
        err = MPI_Send(buf, (int)need, MPI_BYTE, 0, TAG_RESULT, comm);
        if (err != MPI_SUCCESS)
            st = mpi_fail(err, "MPI_Send");
    }
    free(buf);
    if (st != PRIME_OK) {
        /* tell rank 0 (it stops handing out classes), unless MPI itself broke */
        struct {
            int32_t status;
            char msg[MSG_CAP];
        } m;
        memset(&m, 0, sizeof m);
        m.status = st;
        prime_last_error_copy(m.msg, sizeof m.msg);
        MPI_Send(&m, (int)sizeof m, MPI_BYTE, 0, TAG_ERROR, comm);
    }
    return st;
}

static void sleep_ms(long ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

/* Rank 0: answer the workers and watch the local thread until every class
 * is searched (or the first error). */
static void dispatch_loop(MPI_Comm comm, int size, sched *s, int local,
                          prime_progress_fn progress, void *user_data)
{
    int active = size - 1; /* workers not yet told to stop */
    int32_t *assigned = malloc(sizeof *assigned * (size_t)size);
    char *buf = NULL;
    int cap = 0;
    uint32_t shown = UINT32_MAX;
    if (assigned == NULL) {
        sched_error(s, PRIME_E_NOMEM, NULL);
        /* the workers still need their stop */
    }
    for (int r = 0; assigned != NULL && r < size; r++)
        assigned[r] = -1;
    for (;;) {
        int busy = 0;
        if (active > 0) {
            int flag = 0;
            MPI_Status ms;
            int err = MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &flag, &ms);
            if (err != MPI_SUCCESS) {
                sched_error(s, mpi_fail(err, "MPI_Iprobe"), prime_last_error());
                break; /* MPI is broken: its error handler decides */
            }
            if (flag && (ms.MPI_TAG == TAG_RESULT || ms.MPI_TAG == TAG_ERROR)) {
                busy = 1;
                int n = 0, src = ms.MPI_SOURCE;
                MPI_Get_count(&ms, MPI_BYTE, &n);
                if (n > cap) {
                    free(buf);
                    buf = malloc((size_t)n);
                    cap = buf != NULL ? n : 0;
                }
                if (buf == NULL && n > 0) {
                    /* cannot receive: drop the message into a small buffer
                       of nothing would truncate; stop the search instead */
                    sched_error(s, PRIME_E_NOMEM, "out of memory for a partial result");
                    MPI_Recv(NULL, 0, MPI_BYTE, src, ms.MPI_TAG, comm, MPI_STATUS_IGNORE);
                } else {
                    MPI_Recv(buf, n, MPI_BYTE, src, ms.MPI_TAG, comm, MPI_STATUS_IGNORE);
                }
                if (ms.MPI_TAG == TAG_ERROR) {
                    int32_t st = PRIME_E_IO;
                    char msg[MSG_CAP + 32] = "";
                    if (buf != NULL && n >= (int)sizeof st) {
                        memcpy(&st, buf, sizeof st);
                        buf[n - 1] = '\0';
                        snprintf(msg, sizeof msg, "rank %d: %s", src, buf + sizeof st);
                    }
                    sched_error(s, st != PRIME_OK ? st : PRIME_E_IO, msg);
                    active--; /* it asks no more */
                    continue;
                }
                if (n > 0 && buf != NULL && assigned != NULL) {
                    prime_partial *p = NULL;
                    char name[64];
                    snprintf(name, sizeof name, "the partial result of rank %d", src);
                    prime_status st =
                        prime_partial_load_memory(buf, (size_t)n, name, s->store, s->config, &p);
                    if (st == PRIME_OK && (assigned[src] < 0 ||
                                           prime_partial_class_count(p) != 1 ||
                                           prime_partial_class_id(p, 0) !=
                                               (uint32_t)assigned[src])) {
                        prime_partial_destroy(p);
                        st = fail(PRIME_E_MISMATCH, "%s: not the class it was given", name);
                    }
                    if (st == PRIME_OK)
                        st = sched_done(s, (uint32_t)assigned[src], p);
                    if (st != PRIME_OK)
                        sched_error(s, st, prime_last_error());
                }
                int32_t next = assigned != NULL ? (int32_t)sched_next(s) : -1;
                if (assigned != NULL)
                    assigned[src] = next;
                MPI_Send(&next, 1, MPI_INT32_T, src, TAG_TASK, comm);
                if (next < 0)
                    active--;
            }
        }
        pthread_mutex_lock(&s->mu);
        int local_done = !local || s->local_finished;
        uint32_t done = s->done;
        pthread_mutex_unlock(&s->mu);
        if (progress != NULL && done != shown) {
            shown = done;
            if (progress(user_data, done, s->total) != 0)
                sched_error(s, PRIME_E_CANCELLED, "cancelled by the progress callback");
        }
        if (active == 0 && local_done)
            break;
        if (!busy)
            sleep_ms(1);
    }
    free(buf);
    free(assigned);
}

/* The per-class search of a source; store: the one partial results are
 * loaded and merged against (the whole store, or the reader's tables);
 * costs (reader only): every class's cost, and outcomes_key the outcomes'
 * hash for the checkpoint key. */
static prime_status search_classes(MPI_Comm comm, const source *src, const prime_tagstore *store,
                                   const uint64_t *costs, uint64_t outcomes_key,
                                   const prime_config *config, const char *checkpoint_dir,
                                   prime_progress_fn progress, void *user_data,
                                   prime_result **out)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (rank != 0) {
        prime_status st = agree(comm, PRIME_OK); /* rank 0's setup */
        if (st != PRIME_OK)
            return st;
        st = worker_loop(comm, src, config);
        return agree(comm, st);
    }

    sched s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    s.src = src;
    s.store = store;
    s.costs = costs;
    s.outcomes_key = outcomes_key;
    s.config = config;
    s.checkpoint = checkpoint_dir;
    prime_status st = sched_init(&s);
    st = agree(comm, st); /* the workers learn whether to start */
    if (st != PRIME_OK) {
        for (uint32_t c = 0; s.parts != NULL && c < s.n_classes; c++)
            prime_partial_destroy(s.parts[c]);
        free(s.parts);
        free(s.order);
        pthread_mutex_destroy(&s.mu);
        return st;
    }
    {
        /* rank 0 searches too, in a thread of its own, when MPI allows a
           thread beside the one that calls it; alone, it has to */
        int level = MPI_THREAD_SINGLE;
        MPI_Query_thread(&level);
        int local = size == 1 || level >= MPI_THREAD_FUNNELED;
        pthread_t th;
        if (local && pthread_create(&th, NULL, local_worker, &s) != 0) {
            sched_error(&s, PRIME_E_NOMEM, "cannot start a thread");
            local = 0;
        }
        dispatch_loop(comm, size, &s, local, progress, user_data);
        if (local)
            pthread_join(th, NULL);
        st = s.error;
        if (st != PRIME_OK)
            fail(st, "%s", s.message);
    }
    prime_result *result = NULL;
    if (st == PRIME_OK) {
        /* every class with images once, in class-id order */
        prime_partial **parts = malloc(sizeof *parts * (s.n_classes > 0 ? s.n_classes : 1));
        prime_partial *empty = NULL;
        uint32_t n = 0;
        st = parts != NULL ? PRIME_OK : PRIME_E_NOMEM;
        for (uint32_t c = 0; st == PRIME_OK && c < s.n_classes; c++)
            if (s.parts[c] != NULL)
                parts[n++] = s.parts[c];
        if (st == PRIME_OK && n == 0) { /* no class with images */
            prime_outcomes *none = NULL; /* the tables have no image */
            if (src->reader != NULL)
                st = prime_outcomes_create(0, &none);
            if (st == PRIME_OK)
                st = prime_search_classes(store, src->reader != NULL ? none : src->outcomes,
                                          config, NULL, 0, NULL, NULL, &empty);
            prime_outcomes_destroy(none);
            parts[n++] = empty;
        }
        if (st == PRIME_OK)
            st = prime_partial_merge(store, (const prime_partial *const *)parts, n, &result);
        prime_partial_destroy(empty);
        free(parts);
    }
    for (uint32_t c = 0; s.parts != NULL && c < s.n_classes; c++)
        prime_partial_destroy(s.parts[c]);
    free(s.parts);
    free(s.order);
    pthread_mutex_destroy(&s.mu);
    st = agree(comm, st);
    if (st != PRIME_OK) {
        prime_result_destroy(result);
        result = NULL;
    }
    *out = result;
    return st;
}

prime_status prime_mpi_search(MPI_Comm comm, const prime_tagstore *store,
                              const prime_outcomes *outcomes, const prime_config *config,
                              const char *checkpoint_dir, prime_progress_fn progress,
                              void *user_data, prime_result **out)
{
    if (out == NULL)
        return fail(PRIME_E_INVALID_ARG, "prime_mpi_search: NULL out");
    *out = NULL;
    resumed_classes = 0;
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int64_t whole = 0;
    prime_status st = PRIME_OK;
    if (store == NULL || outcomes == NULL)
        st = fail(PRIME_E_INVALID_ARG, "prime_mpi_search: NULL store or outcomes");
    else if (config != NULL)
        st = prime_config_get_int(config, PRIME_PARAM_WHOLE_DATASET, &whole);
    st = agree(comm, st);
    if (st != PRIME_OK)
        return st;
    /* a communicator of its own: no message of the caller's is taken */
    MPI_Comm own;
    int err = MPI_Comm_dup(comm, &own);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Comm_dup");
    if (whole) {
        uint64_t first = 0, end = 0;
        st = prime_shard_range(prime_tagstore_image_count(store), (uint32_t)rank,
                               (uint32_t)size, &first, &end);
        st = agree(own, st);
        if (st == PRIME_OK)
            st = search_part(own, store, outcomes, (uint32_t)first, (uint32_t)(end - first),
                             config, progress, user_data, out, NULL, NULL);
    } else {
        source src = {store, outcomes, NULL};
        st = search_classes(own, &src, store, NULL, 0, config, checkpoint_dir, progress,
                            user_data, out);
    }
    MPI_Comm_free(&own);
    return st;
}

/* ---- the per-class search read class by class from a binary store file ---- */

enum { COST_BATCH_IMAGES = 1 << 18 };

/* The costs and outcome hashes of the classes of a batch: their images
 * read, estimated, hashed class by class (in file order) and freed. */
static prime_status cost_batch(const prime_class_reader *r, const prime_config *config,
                               const uint32_t *ids, uint32_t n_ids, uint64_t *tmp,
                               uint64_t *costs, uint64_t *hashes)
{
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_status st = prime_class_reader_read(r, ids, n_ids, &store, &outcomes);
    uint32_t nc = prime_tagstore_class_count(prime_class_reader_tables(r));
    if (st == PRIME_OK)
        st = prime_search_class_costs(store, config, tmp, nc);
    for (uint32_t k = 0; st == PRIME_OK && k < n_ids; k++) {
        costs[ids[k]] = tmp[ids[k]];
        hashes[ids[k]] = FNV_BASIS;
    }
    uint32_t n = st == PRIME_OK ? prime_tagstore_image_count(store) : 0;
    for (uint32_t i = 0; st == PRIME_OK && i < n; i++) {
        double v = 0;
        uint32_t c = prime_tagstore_image_class(store, i);
        st = prime_outcomes_get(outcomes, i, &v);
        hashes[c] = fnv_outcome(hashes[c], v);
    }
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return st;
}

/* Collective: every class's cost (prime_search_class_costs on its images)
 * into costs[0..nc), and the hash of every class's outcomes combined into
 * *key. Rank r takes the classes c with c mod P = r, in batches of about
 * COST_BATCH_IMAGES images (a larger class alone), so that no rank holds
 * more than a batch; the arrays are summed over the ranks. */
static prime_status reader_costs(MPI_Comm comm, const prime_class_reader *r,
                                 const prime_config *config, uint64_t *costs, uint64_t *key)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    uint32_t nc = prime_tagstore_class_count(prime_class_reader_tables(r));
    /* costs, then hashes, in one array for one sum */
    uint64_t *both = calloc(2 * (size_t)nc + 1, sizeof *both);
    uint64_t *tmp = malloc(sizeof *tmp * (nc > 0 ? nc : 1));
    uint32_t *batch = malloc(sizeof *batch * (nc > 0 ? nc : 1));
    prime_status st = both && tmp && batch ? PRIME_OK : fail(PRIME_E_NOMEM, "out of memory");
    uint32_t n_batch = 0;
    uint64_t images = 0;
    for (uint32_t c = (uint32_t)rank; st == PRIME_OK && c < nc; c += (uint32_t)size) {
        uint32_t k = prime_class_reader_class_size(r, c);
        if (n_batch > 0 && images + k > COST_BATCH_IMAGES) {
            st = cost_batch(r, config, batch, n_batch, tmp, both, both + nc);
            n_batch = 0;
            images = 0;
        }
        batch[n_batch++] = c;
        images += k;
    }
    if (st == PRIME_OK && n_batch > 0)
        st = cost_batch(r, config, batch, n_batch, tmp, both, both + nc);
    free(tmp);
    free(batch);
    st = agree(comm, st);
    for (uint64_t at = 0; st == PRIME_OK && at < 2 * (uint64_t)nc; at += INT_MAX / 2) {
        uint64_t n = 2 * (uint64_t)nc - at < INT_MAX / 2 ? 2 * (uint64_t)nc - at : INT_MAX / 2;
        int err = MPI_Allreduce(MPI_IN_PLACE, both + at, (int)n, MPI_UINT64_T, MPI_SUM, comm);
        if (err != MPI_SUCCESS)
            st = mpi_fail(err, "MPI_Allreduce");
    }
    if (st == PRIME_OK) {
        uint64_t h = FNV_BASIS;
        for (uint32_t c = 0; c < nc; c++) {
            costs[c] = both[c];
            h = fnv_u64(h, both[nc + c]);
        }
        *key = h ^ nc;
    }
    free(both);
    return st;
}

/* 1 when the search of these inputs reads them class by class: a binary
 * store file with binary outcomes, without folding equal modes (which
 * needs every image at the merge). */
static int by_classes(const char *tags, const char *outcomes_path, const prime_config *config)
{
    int64_t fold = 0;
    if (config != NULL && prime_config_get_int(config, PRIME_PARAM_FOLD_EQUAL, &fold) != PRIME_OK)
        return 0;
    return tags != NULL && outcomes_path != NULL && fold == 0 && is_binary_store(tags) &&
           outcomes_is_binary(outcomes_path);
}

prime_status prime_mpi_search_file(MPI_Comm comm, const char *tags, const char *outcomes_path,
                                   const prime_config *config, const char *checkpoint_dir,
                                   prime_progress_fn progress, void *user_data,
                                   prime_result **out)
{
    if (out == NULL)
        return fail(PRIME_E_INVALID_ARG, "prime_mpi_search_file: NULL out");
    *out = NULL;
    resumed_classes = 0;
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    int64_t whole = 0;
    prime_status st = PRIME_OK;
    if (config != NULL)
        st = prime_config_get_int(config, PRIME_PARAM_WHOLE_DATASET, &whole);
    if (st == PRIME_OK && whole)
        st = fail(PRIME_E_INVALID_ARG,
                  "prime_mpi_search_file: the per-class search only (the whole data set: "
                  "prime_mpi_load_part and prime_mpi_search_part)");
    /* rank 0's view of the inputs decides for every rank */
    int mode = st == PRIME_OK && rank == 0 ? by_classes(tags, outcomes_path, config) : 0;
    st = agree(comm, st);
    if (st != PRIME_OK)
        return st;
    int err = MPI_Bcast(&mode, 1, MPI_INT, 0, comm);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Bcast");
    if (!mode) {
        prime_tagstore *store = NULL;
        prime_outcomes *outcomes = NULL;
        st = prime_mpi_load(comm, tags, outcomes_path, &store, &outcomes);
        if (st == PRIME_OK)
            st = prime_mpi_search(comm, store, outcomes, config, checkpoint_dir, progress,
                                  user_data, out);
        prime_outcomes_destroy(outcomes);
        prime_tagstore_destroy(store);
        return st;
    }
    prime_class_reader *reader = NULL;
    st = agree(comm, prime_class_reader_open(tags, outcomes_path, &reader));
    if (st != PRIME_OK) {
        prime_class_reader_close(reader);
        return st;
    }
    MPI_Comm own;
    err = MPI_Comm_dup(comm, &own);
    if (err != MPI_SUCCESS) {
        prime_class_reader_close(reader);
        return mpi_fail(err, "MPI_Comm_dup");
    }
    const prime_tagstore *tables = prime_class_reader_tables(reader);
    uint32_t nc = prime_tagstore_class_count(tables);
    uint64_t *costs = malloc(sizeof *costs * (nc > 0 ? nc : 1)), key = 0;
    st = agree(own, costs != NULL ? PRIME_OK : fail(PRIME_E_NOMEM, "out of memory"));
    if (st == PRIME_OK)
        st = reader_costs(own, reader, config, costs, &key);
    if (st == PRIME_OK) {
        source src = {NULL, NULL, reader};
        st = search_classes(own, &src, tables, costs, key, config, checkpoint_dir, progress,
                            user_data, out);
    }
    free(costs);
    MPI_Comm_free(&own);
    prime_class_reader_close(reader);
    return st;
}
