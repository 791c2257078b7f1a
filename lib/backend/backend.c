/* Backends (include/prime/backend.h): validation and wrapping of tagger,
 * classifier and embedder backends; scores to tags; tagging into a store. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_private.h"
#include "io/io.h"
#include "store/store.h"
#include "prime/sys/backend.h"

prime_status prime_backend_error(prime_status status, const char *message)
{
    return prime__error(status, "%s", message != NULL ? message : "");
}

/* ---- common checks --------------------------------------------------------- */

/* Checks the header fields common to every backend struct. `what` is
 * "tagger", "classifier" or "embedder". */
static prime_status check_header(const void *b, uint32_t abi_version, uint32_t struct_size,
                                 uint32_t min_size, const char *what, const char *name,
                                 void (*destroy)(void *))
{
    if (b == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s backend: NULL", what);
    const char *nm = name != NULL ? name : "";
    if (abi_version < 1 || abi_version > PRIME_BACKEND_ABI_VERSION)
        return prime__error(PRIME_E_INVALID_ARG,
                            "%s backend '%s': abi_version %u is not supported (this "
                            "library knows 1..%u)",
                            what, nm, abi_version, PRIME_BACKEND_ABI_VERSION);
    if (struct_size < min_size)
        return prime__error(PRIME_E_INVALID_ARG,
                            "%s backend '%s': struct_size %u is smaller than version 1's %u",
                            what, nm, struct_size, min_size);
    if (destroy == NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "%s backend '%s': the mandatory entry destroy is NULL", what, nm);
    return PRIME_OK;
}

/* Copy at most sizeof(*dst) bytes of a backend struct whose size is `size`;
 * entries the caller's struct lacks stay NULL. */
static void copy_struct(void *dst, size_t dst_size, const void *src, uint32_t size)
{
    memset(dst, 0, dst_size);
    memcpy(dst, src, size < dst_size ? size : dst_size);
}

/* After a backend entry failed: the status to return, mapped into the
 * documented codes (anything else is PRIME_E_STATE), with the message
 * prefixed by the role and name. `mark` is prime__error_count() before the
 * call: the backend set a message if the count moved. */
static prime_status backend_failed(prime_status st, uint64_t mark, const char *what,
                                   const char *name, const char *entry)
{
    char msg[768];
    snprintf(msg, sizeof msg, "%s", prime__error_count() != mark ? prime_last_error() : "");
    if (!prime__status_known(st)) {
        if (msg[0] != '\0')
            return prime__error(PRIME_E_STATE,
                                "%s '%s': %s returned %d, which is not a prime_status: %s",
                                what, name, entry, (int)st, msg);
        return prime__error(PRIME_E_STATE,
                            "%s '%s': %s returned %d, which is not a prime_status", what, name,
                            entry, (int)st);
    }
    if (msg[0] == '\0')
        return prime__error(st, "%s '%s': %s failed (%s)", what, name, entry,
                            prime_status_name(st));
    return prime__error(st, "%s '%s': %s", what, name, msg);
}

static prime_status check_finite(const float *v, size_t n, uint32_t per_row, const char *what,
                                 const char *name, const char *entry)
{
    for (size_t k = 0; k < n; k++)
        if (!isfinite(v[k]))
            return prime__error(PRIME_E_RANGE,
                                "%s '%s': %s gave a value that is not finite (image %zu, "
                                "column %zu)",
                                what, name, entry, k / per_row, k % per_row);
    return PRIME_OK;
}

static prime_status check_out(size_t n, uint32_t per_row, size_t cap, const void *buf,
                              size_t *need_out)
{
    size_t need = (size_t)n * per_row;
    if (n > 0 && need / n != per_row)
        return prime__error(PRIME_E_LIMIT, "a batch of %zu x %u values is too large", n,
                            per_row);
    *need_out = need;
    if (need > 0 && (buf == NULL || cap < need))
        return prime__error(PRIME_E_BUFFER_TOO_SMALL,
                            "the output needs %zu floats, the buffer holds %zu", need, cap);
    return PRIME_OK;
}

/* ---- tagger ---------------------------------------------------------------- */

struct prime_tagger {
    prime_tagger_backend b;
    char *name;
    prime__names vocab;
    double *threshold; /* per tag */
    uint32_t top_k;
    int32_t rule; /* PRIME_TAGGER_RULE_* */
};

prime_status prime_tagger_create_from(const prime_tagger_backend *backend, prime_tagger **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_create_from: NULL out");
    *out = NULL;
    prime_status st =
        backend == NULL
            ? prime__error(PRIME_E_INVALID_ARG, "tagger backend: NULL")
            : check_header(backend, backend->abi_version, backend->struct_size,
                           PRIME_TAGGER_BACKEND_SIZE_V1, "tagger", backend->name,
                           backend->destroy);
    if (st != PRIME_OK)
        return st;
    const char *nm = backend->name != NULL ? backend->name : "";
    const char *missing = backend->tag_count == NULL ? "tag_count"
                          : backend->tag_name == NULL ? "tag_name"
                          : backend->score == NULL    ? "score"
                                                      : NULL;
    if (missing != NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "tagger backend '%s': the mandatory entry %s is NULL", nm, missing);
    prime_tagger *t = prime__calloc(1, sizeof *t);
    if (t == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory for a tagger");
    copy_struct(&t->b, sizeof t->b, backend, backend->struct_size);
    t->name = prime__strndup(nm, strlen(nm));
    if (t->name == NULL) {
        st = prime__error(PRIME_E_NOMEM, "out of memory for a tagger");
        goto fail;
    }
    uint32_t n = t->b.tag_count(t->b.self);
    if (n == 0 || n == PRIME_NONE) {
        st = prime__error(PRIME_E_INVALID_ARG, "tagger '%s': tag_count gave %u tags", nm, n);
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        const char *s = t->b.tag_name(t->b.self, i);
        size_t len = s != NULL ? strlen(s) : 0;
        if (len == 0 || memchr(s, '|', len) != NULL || !prime__utf8_valid(s, len)) {
            st = prime__error(PRIME_E_PARSE,
                              "tagger '%s': tag %u has no valid name (it must be UTF-8, not "
                              "empty, without '|')",
                              nm, i);
            goto fail;
        }
        if (len > PRIME_MAX_TAG_NAME) {
            st = prime__error(PRIME_E_LIMIT, "tagger '%s': tag %u: a name of %zu bytes (at most "
                              "255)", nm, i, len);
            goto fail;
        }
        uint32_t id = 0;
        st = prime__names_intern(&t->vocab, s, len, &id);
        if (st != PRIME_OK) {
            st = prime__error(PRIME_E_NOMEM, "out of memory for a tagger's vocabulary");
            goto fail;
        }
        if (id != i) {
            st = prime__error(PRIME_E_DUPLICATE, "tagger '%s': tag %u \"%s\" repeats tag %u",
                              nm, i, s, id);
            goto fail;
        }
    }
    t->threshold = prime__malloc((size_t)n * sizeof *t->threshold);
    if (t->threshold == NULL) {
        st = prime__error(PRIME_E_NOMEM, "out of memory for a tagger");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++)
        t->threshold[i] = 0.5;
    *out = t;
    return PRIME_OK;
fail:
    /* nothing of the backend is taken */
    prime__names_free(&t->vocab);
    prime__free(t->threshold);
    prime__free(t->name);
    prime__free(t);
    return st;
}

void prime_tagger_destroy(prime_tagger *tagger)
{
    if (tagger == NULL)
        return;
    tagger->b.destroy(tagger->b.self);
    prime__names_free(&tagger->vocab);
    prime__free(tagger->threshold);
    prime__free(tagger->name);
    prime__free(tagger);
}

const char *prime_tagger_name(const prime_tagger *tagger)
{
    return tagger != NULL ? tagger->name : NULL;
}

uint32_t prime_tagger_tag_count(const prime_tagger *tagger)
{
    return tagger != NULL ? tagger->vocab.count : 0;
}

const char *prime_tagger_tag_name(const prime_tagger *tagger, uint32_t i)
{
    if (tagger == NULL || i >= tagger->vocab.count)
        return NULL;
    return prime__names_get(&tagger->vocab, i);
}

prime_status prime_tagger_score(prime_tagger *tagger, const prime_image *const *images,
                                uint32_t n, float *scores, size_t cap)
{
    if (tagger == NULL || (images == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_score: NULL argument");
    for (uint32_t i = 0; i < n; i++)
        if (images[i] == NULL)
            return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_score: image %u is NULL", i);
    size_t need = 0;
    prime_status st = check_out(n, tagger->vocab.count, cap, scores, &need);
    if (st != PRIME_OK || n == 0)
        return st;
    uint64_t mark = prime__error_count();
    st = tagger->b.score(tagger->b.self, images, n, scores);
    if (st != PRIME_OK)
        return backend_failed(st, mark, "tagger", tagger->name, "score");
    return check_finite(scores, need, tagger->vocab.count, "tagger", tagger->name, "score");
}

prime_status prime_tagger_set_threshold(prime_tagger *tagger, double threshold)
{
    if (tagger == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_set_threshold: NULL tagger");
    if (isnan(threshold))
        return prime__error(PRIME_E_RANGE, "a threshold must not be NaN");
    for (uint32_t i = 0; i < tagger->vocab.count; i++)
        tagger->threshold[i] = threshold;
    return PRIME_OK;
}

prime_status prime_tagger_set_thresholds(prime_tagger *tagger, const double *thresholds,
                                         uint32_t n)
{
    if (tagger == NULL || (thresholds == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_set_thresholds: NULL argument");
    if (n != tagger->vocab.count)
        return prime__error(PRIME_E_MISMATCH, "%u thresholds for a vocabulary of %u tags", n,
                            tagger->vocab.count);
    for (uint32_t i = 0; i < n; i++)
        if (isnan(thresholds[i]))
            return prime__error(PRIME_E_RANGE, "threshold %u is NaN", i);
    memcpy(tagger->threshold, thresholds, (size_t)n * sizeof *thresholds);
    return PRIME_OK;
}

prime_status prime_tagger_load_thresholds(prime_tagger *tagger, const char *path)
{
    if (tagger == NULL || path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_load_thresholds: NULL argument");
    char *data = NULL;
    size_t size = 0;
    prime_status st = prime__read_file(path, &data, &size);
    if (st != PRIME_OK)
        return st;
    uint32_t n = tagger->vocab.count;
    double *v = prime__malloc((size_t)n * sizeof *v);
    if (v == NULL) {
        prime__free(data);
        return prime__error(PRIME_E_NOMEM, "out of memory for thresholds");
    }
    uint32_t count = 0, line = 0;
    size_t pos = prime__text_bom(data, size), blank_run = 0;
    st = PRIME_OK;
    while (pos < size && st == PRIME_OK) {
        size_t end = pos;
        while (end < size && data[end] != '\n')
            end++;
        line++;
        size_t a = pos, b = end;
        while (a < b && (data[a] == ' ' || data[a] == '\t' || data[a] == '\r'))
            a++;
        while (b > a && (data[b - 1] == ' ' || data[b - 1] == '\t' || data[b - 1] == '\r'))
            b--;
        pos = end + 1;
        if (a == b) {
            blank_run++;
            continue;
        }
        if (blank_run > 0 && count > 0) {
            st = prime__error(PRIME_E_PARSE, "%s:%u: a blank line before it", path,
                              line - (uint32_t)blank_run);
            break;
        }
        if (blank_run > 0) {
            st = prime__error(PRIME_E_PARSE, "%s:1: a blank line", path);
            break;
        }
        double x = 0;
        if (!prime__parse_double(data + a, b - a, &x)) {
            st = prime__error(PRIME_E_PARSE, "%s:%u: not a number", path, line);
            break;
        }
        if (count >= n) {
            st = prime__error(PRIME_E_MISMATCH,
                              "%s:%u: more thresholds than the %u tags of the vocabulary", path,
                              line, n);
            break;
        }
        v[count++] = x;
    }
    if (st == PRIME_OK && count != n)
        st = prime__error(PRIME_E_MISMATCH, "%s: %u thresholds for a vocabulary of %u tags",
                          path, count, n);
    if (st == PRIME_OK)
        memcpy(tagger->threshold, v, (size_t)n * sizeof *v);
    prime__free(v);
    prime__free(data);
    return st;
}

prime_status prime_tagger_get_threshold(const prime_tagger *tagger, uint32_t i,
                                        double *threshold_out)
{
    if (tagger == NULL || threshold_out == NULL || i >= tagger->vocab.count)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_get_threshold: bad argument");
    *threshold_out = tagger->threshold[i];
    return PRIME_OK;
}

prime_status prime_tagger_set_rule(prime_tagger *tagger, int32_t rule)
{
    if (tagger == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_set_rule: NULL tagger");
    if (rule != PRIME_TAGGER_RULE_AT_LEAST && rule != PRIME_TAGGER_RULE_ABOVE)
        return prime__error(PRIME_E_INVALID_ARG,
                            "unknown selection rule %d (PRIME_TAGGER_RULE_AT_LEAST or "
                            "PRIME_TAGGER_RULE_ABOVE)",
                            (int)rule);
    tagger->rule = rule;
    return PRIME_OK;
}

prime_status prime_tagger_get_rule(const prime_tagger *tagger, int32_t *rule_out)
{
    if (tagger == NULL || rule_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_get_rule: NULL argument");
    *rule_out = tagger->rule;
    return PRIME_OK;
}

prime_status prime_tagger_set_top_k(prime_tagger *tagger, uint32_t k)
{
    if (tagger == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_set_top_k: NULL tagger");
    tagger->top_k = k;
    return PRIME_OK;
}

/* Selected tags of one row into sel (room for tag_count ids); returns the
 * count, ascending. */
/* A threshold rounded to float32 as a float32 tensor holds it (round to
 * nearest even; beyond the float range: the largest float or infinity), with
 * no out-of-range conversion. */
static float threshold_f32(double t)
{
    if (isinf(t) || fabs(t) <= (double)FLT_MAX)
        return (float)t;
    /* 0x1.ffffffp127 is FLT_MAX plus half an ulp: from there on (the tie goes
       to the even neighbour, infinity) it rounds to infinity */
    float big = fabs(t) < 0x1.ffffffp127 ? FLT_MAX : INFINITY;
    return t > 0 ? big : -big;
}

static uint32_t select_row(const prime_tagger *t, const float *s, uint32_t *sel)
{
    uint32_t n = t->vocab.count, m = 0;
    if (t->rule == PRIME_TAGGER_RULE_ABOVE) {
        for (uint32_t i = 0; i < n; i++)
            if (s[i] > threshold_f32(t->threshold[i]))
                sel[m++] = i;
    } else {
        for (uint32_t i = 0; i < n; i++)
            if ((double)s[i] >= t->threshold[i])
                sel[m++] = i;
    }
    if (t->top_k == 0 || m <= t->top_k)
        return m;
    /* keep the top_k highest (ties: lower index): partial selection sort on
       the front, then sort those ids ascending */
    for (uint32_t a = 0; a < t->top_k; a++) {
        uint32_t best = a;
        for (uint32_t b = a + 1; b < m; b++) {
            float x = s[sel[b]], y = s[sel[best]];
            if (x > y || (x == y && sel[b] < sel[best]))
                best = b;
        }
        uint32_t tmp = sel[a];
        sel[a] = sel[best];
        sel[best] = tmp;
    }
    m = t->top_k;
    for (uint32_t a = 1; a < m; a++) { /* insertion sort by id */
        uint32_t x = sel[a], b = a;
        while (b > 0 && sel[b - 1] > x) {
            sel[b] = sel[b - 1];
            b--;
        }
        sel[b] = x;
    }
    return m;
}

prime_status prime_tagger_select(const prime_tagger *tagger, const float *scores,
                                 uint32_t *ids, uint32_t cap, uint32_t *n_out)
{
    if (tagger == NULL || scores == NULL || n_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_select: NULL argument");
    uint32_t *sel = prime__malloc((size_t)tagger->vocab.count * sizeof *sel);
    if (sel == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    uint32_t m = select_row(tagger, scores, sel);
    *n_out = m;
    prime_status st = PRIME_OK;
    if (m > cap || (ids == NULL && m > 0))
        st = prime__error(PRIME_E_BUFFER_TOO_SMALL, "%u tags selected, room for %u", m, cap);
    else if (m > 0)
        memcpy(ids, sel, (size_t)m * sizeof *sel);
    prime__free(sel);
    return st;
}

/* Add scored images [0, n) to the store. */
static prime_status add_scored(const prime_tagger *t, const float *scores, uint32_t n,
                               const char *const *image_names, const char *const *class_names,
                               prime_tagstore *store, uint32_t *sel, const char **names)
{
    uint32_t nt = t->vocab.count;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t m = select_row(t, scores + (size_t)i * nt, sel);
        for (uint32_t k = 0; k < m; k++)
            names[k] = prime__names_get(&t->vocab, sel[k]);
        const char *img = image_names != NULL ? image_names[i] : NULL;
        prime_status st = prime_tagstore_add_image_names(store, img, class_names[i], names, m,
                                                         NULL);
        if (st != PRIME_OK)
            return st;
    }
    return PRIME_OK;
}

prime_status prime_tagger_tag_images(prime_tagger *tagger, const prime_image *const *images,
                                     const char *const *image_names,
                                     const char *const *class_names, uint32_t n,
                                     prime_tagstore *store)
{
    if (tagger == NULL || store == NULL || ((images == NULL || class_names == NULL) && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_tag_images: NULL argument");
    if (prime_tagstore_is_frozen(store))
        return prime__error(PRIME_E_STATE, "prime_tagger_tag_images: the tag store is frozen");
    if (n == 0)
        return PRIME_OK;
    uint32_t nt = tagger->vocab.count;
    size_t need = (size_t)n * nt;
    float *scores = prime__malloc(need * sizeof *scores);
    uint32_t *sel = prime__malloc((size_t)nt * sizeof *sel);
    const char **names = prime__malloc((size_t)nt * sizeof *names);
    prime_status st;
    if (scores == NULL || sel == NULL || names == NULL)
        st = prime__error(PRIME_E_NOMEM, "out of memory for the scores of %u images", n);
    else
        st = prime_tagger_score(tagger, images, n, scores, need);
    if (st == PRIME_OK)
        st = add_scored(tagger, scores, n, image_names, class_names, store, sel, names);
    prime__free(names);
    prime__free(sel);
    prime__free(scores);
    return st;
}

/* ---- tagging files: parallel decoding, batched scoring ---------------------- */

typedef struct {
    const char *const *paths;
    uint32_t first, count;
    uint64_t max_pixels;
    const prime_image_spec *draft; /* prime_files_options.jpeg_draft */
    prime_image **img;
    prime_status *status;
    char **error;
} decode_job;

/* The batch loader's callback: keep image k of the chunk, or its error. */
static void decode_loaded(void *arg, uint32_t k, prime_image *image, prime_status st)
{
    decode_job *j = arg;
    j->img[k] = image;
    j->status[k] = st;
    if (st != PRIME_OK) {
        const char *msg = prime_last_error();
        j->error[k] = prime__strndup(msg, strlen(msg)); /* NULL: reported plainly */
    }
}

static void decode_chunk(decode_job *j, uint32_t threads)
{
    prime__image_load_files(j->paths, j->first, j->count, j->max_pixels, j->draft, threads,
                            decode_loaded, j);
}

/* One batch slot: the decoded images of one chunk of files, and the
 * background thread that decodes the next chunk while this one is scored. */
typedef struct {
    decode_job job;
    uint32_t threads;
    pthread_t tid;
    bool running;
} decode_slot;

static void *decode_chunk_thread(void *arg)
{
    decode_slot *s = arg;
    decode_chunk(&s->job, s->threads);
    return NULL;
}

/* Start decoding files [first, first + count) into slot s: on a background
 * thread when one can be started, else right here. */
static void decode_start(decode_slot *s, const char *const *paths, uint32_t first,
                         uint32_t count, uint64_t max_pixels, const prime_image_spec *draft,
                         uint32_t threads, bool background)
{
    s->job.paths = paths;
    s->job.first = first;
    s->job.count = count;
    s->job.max_pixels = max_pixels;
    s->job.draft = draft;
    s->threads = threads;
    s->running = background && pthread_create(&s->tid, NULL, decode_chunk_thread, s) == 0;
    if (!s->running)
        decode_chunk(&s->job, threads);
}

static void decode_wait(decode_slot *s)
{
    if (s->running)
        pthread_join(s->tid, NULL);
    s->running = false;
}

static void decode_release(decode_slot *s)
{
    decode_wait(s);
    for (uint32_t k = 0; k < s->job.count; k++) {
        prime_image_destroy(s->job.img[k]);
        s->job.img[k] = NULL;
        prime__free(s->job.error[k]);
        s->job.error[k] = NULL;
    }
    s->job.count = 0;
}

/* The caller's options, read up to its struct_size, over the defaults. */
static prime_status files_options(const prime_files_options *in, const char *fn,
                                  prime_files_options *out)
{
    const prime_files_options defaults = PRIME_FILES_OPTIONS_INIT;
    *out = defaults;
    if (in == NULL)
        return PRIME_OK;
    if (in->struct_size < PRIME_FILES_OPTIONS_SIZE_V1)
        return prime__error(PRIME_E_INVALID_ARG,
                            "%s: options->struct_size is %u, below the %u of version 1 "
                            "(start from PRIME_FILES_OPTIONS_INIT)",
                            fn, in->struct_size, PRIME_FILES_OPTIONS_SIZE_V1);
    memcpy(out, in, in->struct_size < sizeof *out ? in->struct_size : sizeof *out);
    out->struct_size = (uint32_t)sizeof *out;
    return PRIME_OK;
}

/* The work of tag_files and classify_files: decode files in batches (batch
 * k + 1 in the background while batch k is scored), report the files that
 * cannot be decoded, and hand each batch of decoded images (with their
 * indices) to score_batch on the calling thread. */
typedef prime_status (*batch_fn)(void *ctx, const prime_image **images, const uint32_t *index,
                                 uint32_t m);

static prime_status run_files(const char *const *paths, uint32_t n, uint32_t threads,
                              uint32_t batch, uint64_t max_pixels,
                              const prime_image_spec *draft, prime_file_error_fn on_error,
                              prime_progress_fn progress, void *user_data, uint32_t *failed_out,
                              batch_fn score_batch, void *ctx, const char *verb)
{
    if (batch == 0)
        batch = 32;
    if (batch > 4096)
        batch = 4096;
    if (threads == 0)
        threads = prime__cpu_count();
    /* two slots: batch k is scored on this thread while batch k + 1 is
       decoded in the background, so decoding overlaps the model */
    decode_slot slot[2] = {{.running = false}, {.running = false}};
    for (int b = 0; b < 2; b++) {
        slot[b].job.img = prime__calloc(batch, sizeof(prime_image *));
        slot[b].job.status = prime__calloc(batch, sizeof(prime_status));
        slot[b].job.error = prime__calloc(batch, sizeof(char *));
    }
    const prime_image **ok_img = prime__calloc(batch, sizeof *ok_img);
    uint32_t *ok_index = prime__calloc(batch, sizeof *ok_index);
    prime_status st = PRIME_OK, first_bad = PRIME_OK;
    char first_msg[1024] = "";
    uint32_t failed = 0;
    bool buffers_ok = ok_img != NULL && ok_index != NULL;
    for (int b = 0; b < 2; b++)
        buffers_ok = buffers_ok && slot[b].job.img != NULL && slot[b].job.status != NULL &&
                     slot[b].job.error != NULL;
    if (!buffers_ok) {
        st = prime__error(PRIME_E_NOMEM, "out of memory for a batch of %u images", batch);
        goto done;
    }
    if (n > 0)
        decode_start(&slot[0], paths, 0, n < batch ? n : batch, max_pixels, draft, threads,
                     false);
    for (uint32_t first = 0, cur = 0; first < n && st == PRIME_OK; first += batch, cur ^= 1) {
        decode_slot *s = &slot[cur];
        decode_wait(s);
        uint32_t cnt = s->job.count;
        uint32_t next = first + cnt;
        if (next < n)
            decode_start(&slot[cur ^ 1], paths, next, n - next < batch ? n - next : batch,
                         max_pixels, draft, threads, true);
        uint32_t m = 0;
        for (uint32_t k = 0; k < cnt; k++) {
            uint32_t i = first + k;
            if (s->job.status[k] != PRIME_OK) {
                const char *msg = s->job.error[k] != NULL ? s->job.error[k] : paths[i];
                if (failed++ == 0) {
                    first_bad = s->job.status[k];
                    snprintf(first_msg, sizeof first_msg, "%s", msg);
                }
                if (on_error != NULL)
                    on_error(user_data, i, s->job.status[k], msg);
                continue;
            }
            ok_img[m] = s->job.img[k];
            ok_index[m] = i;
            m++;
        }
        if (st == PRIME_OK)
            st = score_batch(ctx, ok_img, ok_index, m);
        decode_release(s);
        if (st == PRIME_OK && progress != NULL &&
            progress(user_data, (uint64_t)first + cnt, n) != 0)
            st = prime__error(PRIME_E_CANCELLED, "%s cancelled", verb);
    }
    if (st == PRIME_OK && failed > 0)
        st = prime__error(first_bad, "%s", first_msg);
done:
    /* a stop leaves the next batch decoding: wait for it and free it (a
       slot never started has count 0, so its arrays are not touched) */
    for (int b = 0; b < 2; b++)
        decode_release(&slot[b]);
    if (failed_out != NULL)
        *failed_out = failed;
    prime__free(ok_index);
    prime__free(ok_img);
    for (int b = 0; b < 2; b++) {
        prime__free(slot[b].job.error);
        prime__free(slot[b].job.status);
        prime__free(slot[b].job.img);
    }
    return st;
}

typedef struct {
    prime_tagger *tagger;
    const char *const *paths, *const *image_names, *const *class_names;
    prime_tagstore *store;
    const char **ok_name, **ok_class, **names;
    float *scores;
    uint32_t *sel;
} tag_ctx;

static prime_status tag_batch(void *arg, const prime_image **images, const uint32_t *index,
                              uint32_t m)
{
    tag_ctx *c = arg;
    for (uint32_t k = 0; k < m; k++) {
        uint32_t i = index[k];
        if (c->class_names[i] == NULL)
            return prime__error(PRIME_E_INVALID_ARG, "image %u (%s): no class name", i,
                                c->paths[i]);
        c->ok_name[k] = c->image_names != NULL && c->image_names[i] != NULL ? c->image_names[i]
                                                                             : c->paths[i];
        c->ok_class[k] = c->class_names[i];
    }
    if (m == 0)
        return PRIME_OK;
    uint32_t nt = c->tagger->vocab.count;
    prime_status st = prime_tagger_score(c->tagger, images, m, c->scores, (size_t)m * nt);
    if (st == PRIME_OK)
        st = add_scored(c->tagger, c->scores, m, c->ok_name, c->ok_class, c->store, c->sel,
                        c->names);
    return st;
}

prime_status prime_tagger_tag_files(prime_tagger *tagger, const char *const *paths,
                                    const char *const *class_names, uint32_t n,
                                    const prime_files_options *options, prime_tagstore *store,
                                    uint32_t *failed_out)
{
    if (failed_out != NULL)
        *failed_out = 0;
    if (tagger == NULL || store == NULL || ((paths == NULL || class_names == NULL) && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagger_tag_files: NULL argument");
    prime_files_options opt;
    prime_status ost = files_options(options, "prime_tagger_tag_files", &opt);
    if (ost != PRIME_OK)
        return ost;
    if (prime_tagstore_is_frozen(store))
        return prime__error(PRIME_E_STATE, "prime_tagger_tag_files: the tag store is frozen");
    uint32_t batch = opt.batch;
    const char *const *image_names = opt.image_names;
    uint32_t b = batch == 0 ? 32 : batch > 4096 ? 4096 : batch;
    uint32_t nt = tagger->vocab.count;
    tag_ctx c = {.tagger = tagger, .paths = paths, .image_names = image_names,
                 .class_names = class_names, .store = store};
    c.ok_name = prime__calloc(b, sizeof *c.ok_name);
    c.ok_class = prime__calloc(b, sizeof *c.ok_class);
    c.scores = prime__malloc((size_t)b * nt * sizeof *c.scores + 1);
    c.sel = prime__malloc((size_t)nt * sizeof *c.sel + 1);
    c.names = prime__malloc((size_t)nt * sizeof *c.names + 1);
    prime_status st;
    if (c.ok_name == NULL || c.ok_class == NULL || c.scores == NULL || c.sel == NULL ||
        c.names == NULL)
        st = prime__error(PRIME_E_NOMEM, "out of memory for a batch of %u images", b);
    else
        st = run_files(paths, n, opt.threads, b, opt.max_pixels, opt.jpeg_draft, opt.on_error,
                       opt.progress, opt.user_data, failed_out, tag_batch, &c, "tagging");
    prime__free(c.names);
    prime__free(c.sel);
    prime__free(c.scores);
    prime__free(c.ok_class);
    prime__free(c.ok_name);
    return st;
}

typedef struct {
    prime_classifier *classifier;
    float *scores;
    uint32_t *predicted, *pred_batch;
} classify_ctx;

static prime_status classify_batch(void *arg, const prime_image **images,
                                   const uint32_t *index, uint32_t m)
{
    classify_ctx *c = arg;
    if (m == 0)
        return PRIME_OK;
    uint32_t nc = prime_classifier_class_count(c->classifier);
    prime_status st = prime_classifier_classify(c->classifier, images, m, c->scores,
                                                (size_t)m * nc, c->pred_batch);
    for (uint32_t k = 0; st == PRIME_OK && k < m; k++)
        c->predicted[index[k]] = c->pred_batch[k];
    return st;
}

/* ---- classifier ---------------------------------------------------------------- */

struct prime_classifier {
    prime_classifier_backend b;
    char *name;
    prime__names classes; /* as given; "0", "1", ... when unnamed */
};

prime_status prime_classifier_create_from(const prime_classifier_backend *backend,
                                          prime_classifier **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_classifier_create_from: NULL out");
    *out = NULL;
    prime_status st =
        backend == NULL
            ? prime__error(PRIME_E_INVALID_ARG, "classifier backend: NULL")
            : check_header(backend, backend->abi_version, backend->struct_size,
                           PRIME_CLASSIFIER_BACKEND_SIZE_V1, "classifier", backend->name,
                           backend->destroy);
    if (st != PRIME_OK)
        return st;
    const char *nm = backend->name != NULL ? backend->name : "";
    const char *missing = backend->class_count == NULL ? "class_count"
                          : backend->classify == NULL  ? "classify"
                                                       : NULL;
    if (missing != NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "classifier backend '%s': the mandatory entry %s is NULL", nm,
                            missing);
    prime_classifier *c = prime__calloc(1, sizeof *c);
    if (c == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory for a classifier");
    copy_struct(&c->b, sizeof c->b, backend, backend->struct_size);
    c->name = prime__strndup(nm, strlen(nm));
    if (c->name == NULL) {
        st = prime__error(PRIME_E_NOMEM, "out of memory for a classifier");
        goto fail;
    }
    uint32_t n = c->b.class_count(c->b.self);
    if (n == 0 || n == PRIME_NONE) {
        st = prime__error(PRIME_E_INVALID_ARG, "classifier '%s': class_count gave %u", nm, n);
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        char num[16];
        const char *s = c->b.class_name != NULL ? c->b.class_name(c->b.self, i) : NULL;
        if (s == NULL) {
            snprintf(num, sizeof num, "%u", i);
            s = num;
        }
        size_t len = strlen(s);
        if (len == 0 || !prime__utf8_valid(s, len)) {
            st = prime__error(PRIME_E_PARSE, "classifier '%s': class %u has an empty or "
                              "invalid UTF-8 name", nm, i);
            goto fail;
        }
        uint32_t id = 0;
        if (prime__names_push(&c->classes, s, len, false, &id) != PRIME_OK) {
            st = prime__error(PRIME_E_NOMEM, "out of memory for a classifier");
            goto fail;
        }
    }
    *out = c;
    return PRIME_OK;
fail:
    prime__names_free(&c->classes);
    prime__free(c->name);
    prime__free(c);
    return st;
}

void prime_classifier_destroy(prime_classifier *classifier)
{
    if (classifier == NULL)
        return;
    classifier->b.destroy(classifier->b.self);
    prime__names_free(&classifier->classes);
    prime__free(classifier->name);
    prime__free(classifier);
}

const char *prime_classifier_name(const prime_classifier *classifier)
{
    return classifier != NULL ? classifier->name : NULL;
}

uint32_t prime_classifier_class_count(const prime_classifier *classifier)
{
    return classifier != NULL ? classifier->classes.count : 0;
}

const char *prime_classifier_class_name(const prime_classifier *classifier, uint32_t i)
{
    if (classifier == NULL || i >= classifier->classes.count)
        return NULL;
    return prime__names_get(&classifier->classes, i);
}

prime_status prime_classifier_classify(prime_classifier *classifier,
                                       const prime_image *const *images, uint32_t n,
                                       float *scores, size_t cap, uint32_t *predicted)
{
    if (classifier == NULL || (images == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_classifier_classify: NULL argument");
    for (uint32_t i = 0; i < n; i++)
        if (images[i] == NULL)
            return prime__error(PRIME_E_INVALID_ARG, "prime_classifier_classify: image %u is "
                                "NULL", i);
    uint32_t nc = classifier->classes.count;
    size_t need = 0;
    prime_status st = check_out(n, nc, cap, scores, &need);
    if (st != PRIME_OK || n == 0)
        return st;
    uint64_t mark = prime__error_count();
    st = classifier->b.classify(classifier->b.self, images, n, scores);
    if (st != PRIME_OK)
        return backend_failed(st, mark, "classifier", classifier->name, "classify");
    st = check_finite(scores, need, nc, "classifier", classifier->name, "classify");
    if (st == PRIME_OK && predicted != NULL)
        for (uint32_t i = 0; i < n; i++) {
            const float *row = scores + (size_t)i * nc;
            uint32_t best = 0;
            for (uint32_t k = 1; k < nc; k++)
                if (row[k] > row[best])
                    best = k;
            predicted[i] = best;
        }
    return st;
}

prime_status prime_classifier_classify_files(prime_classifier *classifier,
                                             const char *const *paths, uint32_t n,
                                             const prime_files_options *options,
                                             uint32_t *predicted, uint32_t *failed_out)
{
    if (failed_out != NULL)
        *failed_out = 0;
    if (classifier == NULL || ((paths == NULL || predicted == NULL) && n > 0))
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_classifier_classify_files: NULL argument");
    prime_files_options opt;
    prime_status ost = files_options(options, "prime_classifier_classify_files", &opt);
    if (ost != PRIME_OK)
        return ost;
    uint32_t batch = opt.batch;
    for (uint32_t i = 0; i < n; i++)
        predicted[i] = PRIME_NONE;
    uint32_t b = batch == 0 ? 32 : batch > 4096 ? 4096 : batch;
    uint32_t nc = classifier->classes.count;
    classify_ctx c = {.classifier = classifier, .predicted = predicted};
    c.scores = prime__malloc((size_t)b * nc * sizeof *c.scores + 1);
    c.pred_batch = prime__malloc((size_t)b * sizeof *c.pred_batch);
    prime_status st;
    if (c.scores == NULL || c.pred_batch == NULL)
        st = prime__error(PRIME_E_NOMEM, "out of memory for a batch of %u images", b);
    else
        st = run_files(paths, n, opt.threads, b, opt.max_pixels, opt.jpeg_draft, opt.on_error,
                       opt.progress, opt.user_data, failed_out, classify_batch, &c, "classifying");
    prime__free(c.pred_batch);
    prime__free(c.scores);
    return st;
}

/* ---- embedder ------------------------------------------------------------------ */

struct prime_embedder {
    prime_embedder_backend b;
    char *name;
    uint32_t dim;
};

prime_status prime_embedder_create_from(const prime_embedder_backend *backend,
                                        prime_embedder **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_embedder_create_from: NULL out");
    *out = NULL;
    prime_status st =
        backend == NULL
            ? prime__error(PRIME_E_INVALID_ARG, "embedder backend: NULL")
            : check_header(backend, backend->abi_version, backend->struct_size,
                           PRIME_EMBEDDER_BACKEND_SIZE_V1, "embedder", backend->name,
                           backend->destroy);
    if (st != PRIME_OK)
        return st;
    const char *nm = backend->name != NULL ? backend->name : "";
    if (backend->dimension == NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "embedder backend '%s': the mandatory entry dimension is NULL", nm);
    if (backend->embed_images == NULL && backend->embed_texts == NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "embedder backend '%s': neither embed_images nor embed_texts is "
                            "given", nm);
    uint32_t dim = backend->dimension(backend->self);
    if (dim == 0)
        return prime__error(PRIME_E_INVALID_ARG, "embedder '%s': dimension 0", nm);
    prime_embedder *e = prime__calloc(1, sizeof *e);
    char *name = prime__strndup(nm, strlen(nm));
    if (e == NULL || name == NULL) {
        prime__free(e);
        prime__free(name);
        return prime__error(PRIME_E_NOMEM, "out of memory for an embedder");
    }
    copy_struct(&e->b, sizeof e->b, backend, backend->struct_size);
    e->name = name;
    e->dim = dim;
    *out = e;
    return PRIME_OK;
}

void prime_embedder_destroy(prime_embedder *embedder)
{
    if (embedder == NULL)
        return;
    embedder->b.destroy(embedder->b.self);
    prime__free(embedder->name);
    prime__free(embedder);
}

const char *prime_embedder_name(const prime_embedder *embedder)
{
    return embedder != NULL ? embedder->name : NULL;
}

uint32_t prime_embedder_dimension(const prime_embedder *embedder)
{
    return embedder != NULL ? embedder->dim : 0;
}

prime_status prime_embedder_embed_images(prime_embedder *embedder,
                                         const prime_image *const *images, uint32_t n,
                                         float *vectors, size_t cap)
{
    if (embedder == NULL || (images == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_embedder_embed_images: NULL argument");
    if (embedder->b.embed_images == NULL)
        return prime__error(PRIME_E_STATE, "embedder '%s' cannot embed images", embedder->name);
    for (uint32_t i = 0; i < n; i++)
        if (images[i] == NULL)
            return prime__error(PRIME_E_INVALID_ARG, "prime_embedder_embed_images: image %u "
                                "is NULL", i);
    size_t need = 0;
    prime_status st = check_out(n, embedder->dim, cap, vectors, &need);
    if (st != PRIME_OK || n == 0)
        return st;
    uint64_t mark = prime__error_count();
    st = embedder->b.embed_images(embedder->b.self, images, n, vectors);
    if (st != PRIME_OK)
        return backend_failed(st, mark, "embedder", embedder->name, "embed_images");
    return check_finite(vectors, need, embedder->dim, "embedder", embedder->name,
                        "embed_images");
}

prime_status prime_embedder_embed_texts(prime_embedder *embedder, const char *const *texts,
                                        uint32_t n, float *vectors, size_t cap)
{
    if (embedder == NULL || (texts == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_embedder_embed_texts: NULL argument");
    if (embedder->b.embed_texts == NULL)
        return prime__error(PRIME_E_STATE, "embedder '%s' cannot embed texts", embedder->name);
    for (uint32_t i = 0; i < n; i++)
        if (texts[i] == NULL || !prime__utf8_valid(texts[i], strlen(texts[i])))
            return prime__error(PRIME_E_INVALID_ARG, "text %u is NULL or not valid UTF-8", i);
    size_t need = 0;
    prime_status st = check_out(n, embedder->dim, cap, vectors, &need);
    if (st != PRIME_OK || n == 0)
        return st;
    uint64_t mark = prime__error_count();
    st = embedder->b.embed_texts(embedder->b.self, texts, n, vectors);
    if (st != PRIME_OK)
        return backend_failed(st, mark, "embedder", embedder->name, "embed_texts");
    return check_finite(vectors, need, embedder->dim, "embedder", embedder->name,
                        "embed_texts");
}
