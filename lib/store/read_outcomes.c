/* Loading files: outcomes CSV joined to a tag store by image name, and
 * tags files of any kind (binary store, JSON Lines, CSV) recognised by
 * their content. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"
#include "store/store.h"

enum { O_IMAGE, O_CORRECT, O_SCORE, O_LABEL, O_PREDICTION, O_N };

/* Line of the first record whose image column is img[0..n) (error path
 * only: the loader keeps no per-image line numbers, to save memory). */
static uint64_t first_line_of(const void *data, size_t size, const char *name, int32_t image_col,
                              const char *img, size_t n)
{
    prime__csv c;
    uint64_t found = 0;
    char saved[1024];
    prime_last_error_copy(saved, sizeof saved); /* the scan must not touch it */
    if (prime__csv_open(&c, data, size, name) == PRIME_OK) {
        bool got;
        if (prime__csv_next(&c, &got) == PRIME_OK && got) /* the header */
            while (found == 0 && prime__csv_next(&c, &got) == PRIME_OK && got)
                if ((uint32_t)image_col < c.n_fields && c.fields[image_col].n == n &&
                    memcmp(c.fields[image_col].p, img, n) == 0)
                    found = c.rec_line;
        prime__csv_free(&c);
    }
    prime__error(PRIME_OK, "%s", saved);
    return found;
}

prime_status prime_outcomes_load_memory(const void *data, size_t size, const char *name,
                                        const prime_tagstore *store, prime_outcomes **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_load_memory: out is NULL");
    *out = NULL;
    if (store == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_load_memory: store is NULL");
    if (data == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_load_memory: data is NULL");
    if (name == NULL)
        name = PRIME__NONAME;
    if (prime__is_binary_outcomes(data, size)) /* outcomes_bin.c */
        return prime__outcomes_open_memory(data, size, name, store, out);
    static const char *const cols[O_N] = {"image", "correct", "score", "label", "prediction"};
    int32_t col[O_N] = {-1, -1, -1, -1, -1};
    prime__csv c;
    prime_outcomes *o = NULL;
    uint32_t n = store->images.count;
    prime_status st = prime__csv_open(&c, data, size, name);
    if (st != PRIME_OK)
        goto done;
    if ((st = prime__csv_header(&c, cols, O_N, col)) != PRIME_OK)
        goto done;
    int kind;
    if (col[O_IMAGE] < 0) {
        st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": missing column \"image\"", name,
                          c.rec_line);
        goto done;
    }
    if (col[O_CORRECT] >= 0) {
        kind = O_CORRECT;
    } else if (col[O_SCORE] >= 0) {
        kind = O_SCORE;
    } else if (col[O_LABEL] >= 0 && col[O_PREDICTION] >= 0) {
        kind = O_LABEL;
    } else {
        const char *what = col[O_LABEL] >= 0        ? "missing column \"prediction\" (for \"label\")"
                           : col[O_PREDICTION] >= 0 ? "missing column \"label\" (for \"prediction\")"
                                                    : "missing column \"correct\", \"score\" or "
                                                      "\"label\" and \"prediction\"";
        st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": %s", name, c.rec_line, what);
        goto done;
    }
    uint32_t n_cols = c.n_fields;
    if ((st = prime_outcomes_create(n, &o)) != PRIME_OK)
        goto done;
    for (;;) {
        bool got;
        if ((st = prime__csv_next(&c, &got)) != PRIME_OK)
            goto done;
        if (!got)
            break;
        uint64_t line = c.rec_line;
        if (c.n_fields != n_cols) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": expected %u fields, found %u", name,
                              line, n_cols, c.n_fields);
            goto done;
        }
        const prime__csv_field *fi = &c.fields[col[O_IMAGE]];
        if (fi->n == 0) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": empty image name", name, line);
            goto done;
        }
        double v;
        if (kind == O_LABEL) {
            const prime__csv_field *fl = &c.fields[col[O_LABEL]], *fp = &c.fields[col[O_PREDICTION]];
            if (fl->n == 0 || fp->n == 0) {
                st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": empty %s", name, line,
                                  fl->n == 0 ? "label" : "prediction");
                goto done;
            }
            v = fl->n == fp->n && memcmp(fl->p, fp->p, fl->n) == 0 ? 1.0 : 0.0;
        } else {
            const prime__csv_field *fv = &c.fields[col[kind]];
            st = prime__parse_outcome(kind == O_CORRECT ? PRIME__OUT_CORRECT : PRIME__OUT_SCORE,
                                      fv->p, fv->n, name, line, &v);
            if (st != PRIME_OK)
                goto done;
        }
        uint32_t idx = prime__names_find(&store->images, fi->p, fi->n);
        if (idx == PRIME_NONE || idx >= n)
            continue; /* an image the store does not hold */
        if (!isnan(o->v[idx])) { /* NaN: no outcome yet */
            st = prime__error(PRIME_E_DUPLICATE,
                              "%s:%" PRIu64 ": duplicate image \"%.*s\" (first on line %" PRIu64
                              ")",
                              name, line, prime__show_len(fi->p, fi->n), fi->p,
                              first_line_of(data, size, name, col[O_IMAGE], fi->p, fi->n));
            goto done;
        }
        o->v[idx] = v;
    }
    uint32_t missing = 0, first = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (isnan(o->v[i])) {
            if (missing == 0)
                first = i;
            missing++;
        }
    }
    if (missing > 0) {
        const char *img = prime__names_get(&store->images, first);
        size_t img_n = prime__names_len(&store->images, first);
        if (img_n == 0)
            st = prime__error(PRIME_E_MISMATCH,
                              "%s: image #%u of the tag store has no name, so it has no outcome "
                              "(%u of %u images have none)",
                              name, first, missing, n);
        else
            st = prime__error(PRIME_E_MISMATCH,
                              "%s: image \"%.*s\" of the tag store has no outcome (%u of %u "
                              "images have none)",
                              name, prime__show_len(img, img_n), img, missing, n);
        goto done;
    }
    *out = o;
    o = NULL;
done:
    prime_outcomes_destroy(o);
    prime__csv_free(&c);
    return st;
}

typedef struct {
    const prime_tagstore *store;
    prime_outcomes **out;
} load_args;

static prime_status parse_outcomes(const char *data, size_t size, const char *name, void *ctx)
{
    const load_args *a = ctx;
    return prime_outcomes_load_memory(data, size, name, a->store, a->out);
}

/* true when the file at path starts with the magic of binary outcomes */
static bool part_has_binary(const char *path)
{
    unsigned char head[8] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false; /* the reader below says why */
    ssize_t n = pread(fd, head, sizeof head, 0);
    close(fd);
    return n == (ssize_t)sizeof head && prime__is_binary_outcomes(head, sizeof head);
}

prime_status prime_outcomes_load(const char *path, const prime_tagstore *store,
                                 prime_outcomes **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_load: out is NULL");
    *out = NULL;
    if (path == NULL || store == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_load: %s is NULL",
                            path == NULL ? "path" : "store");
    if (store->is_part && part_has_binary(path)) /* only the part's values */
        return prime__outcomes_open_part(path, store, out);
    load_args a = {store, out};
    return prime__parse_file(path, parse_outcomes, &a);
}

/* Tags text (CSV or JSON Lines) in d[0..size); checked: it is known to pass
 * prime__text_check. */
static prime_status load_text(const char *d, size_t size, const char *name, bool checked,
                              prime_tagstore **store_out, prime_outcomes **outcomes_out)
{
    size_t i = prime__text_bom(d, size);
    while (i < size && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
        i++;
    if (i < size && d[i] == '{')
        return prime__read_tags_jsonl(d, size, name, store_out, outcomes_out);
    return prime__read_tags_csv_checked(d, size, name, checked, store_out, outcomes_out);
}

prime_status prime_tagstore_load_memory(const void *data, size_t size, const char *name,
                                        prime_tagstore **store_out,
                                        prime_outcomes **outcomes_out)
{
    if (store_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_load_memory: store_out is NULL");
    *store_out = NULL;
    if (outcomes_out != NULL)
        *outcomes_out = NULL;
    if (data == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_load_memory: data is NULL");
    if (name == NULL)
        name = PRIME__NONAME;
    const char *d = data != NULL ? data : "";
    if (prime__is_binary_store(d, size)) {
        /* a copy: the caller's buffer may be unaligned or go away */
        unsigned char *blob = prime__malloc(size);
        if (blob == NULL)
            return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
        memcpy(blob, d, size);
        return prime__store_open_blob(blob, size, name, store_out);
    }
    return load_text(d, size, name, false, store_out, outcomes_out);
}

/* ---- reading a large file with two threads ----------------------------------
 *
 * Reading a file of 100 MB costs about as much as parsing a third of it
 * (the copy and the page faults of the new buffer), and the text check
 * (no NUL, valid UTF-8) reads it all once more. For large regular files the
 * two halves are read at once, each by its own thread, and each piece is
 * checked right after it is read, while it is in the cache. Anything out of
 * the ordinary (an error, a short read, a file that changed size) falls back
 * to prime__read_file, which reports it as before. */

enum { PIECE = 1 << 20, PARALLEL_MIN = 8 << 20 };

typedef struct {
    int fd;
    char *buf;
    size_t from, to;
    bool io_ok;   /* every byte of [from, to) was read */
    bool text_ok; /* and it passes prime__text_ok, piece by piece */
} read_part;

static void read_part_run(read_part *r)
{
    r->io_ok = true;
    r->text_ok = true;
    size_t at = r->from;
    while (at < r->to) {
        size_t want = r->to - at < PIECE ? r->to - at : PIECE;
        size_t got = 0;
        while (got < want) {
            ssize_t k = pread(r->fd, r->buf + at + got, want - got, (off_t)(at + got));
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                r->io_ok = false;
                return;
            }
            got += (size_t)k;
        }
        if (r->text_ok)
            r->text_ok = prime__text_ok(r->buf + at, want);
        at += want;
    }
}

typedef struct {
    read_part parts[2];
    atomic_uint next; /* the next part to read */
} read_job;

static void *read_worker(void *arg)
{
    read_job *j = arg;
    for (unsigned i; (i = atomic_fetch_add(&j->next, 1u)) < 2;)
        read_part_run(&j->parts[i]);
    return NULL;
}

/* Read a large regular file with two threads. Returns false (nothing to
 * free) when the caller should use prime__read_file instead. */
static bool read_large(const char *path, char **data_out, size_t *size_out, bool *checked)
{
    int fd;
    uint64_t fsize;
    /* the one input check (a regular file within the limit; a FIFO is never
       waited on): prime__read_file repeats it and says what is wrong */
    if (prime__open_input(path, 0, &fd, &fsize) != PRIME_OK) {
        prime_clear_error();
        return false;
    }
    if (fsize < PARALLEL_MIN) {
        close(fd);
        return false;
    }
    size_t size = (size_t)fsize;
    char *data = prime__malloc(size + 1);
    if (data == NULL) {
        close(fd);
        return false;
    }
    size_t half = size / 2 / PIECE * PIECE;
    read_job job;
    job.parts[0] = (read_part){fd, data, 0, half, false, false};
    job.parts[1] = (read_part){fd, data, half, size, false, false};
    atomic_init(&job.next, 0u);
    prime__run_workers(2, read_worker, &job);
    const read_part *parts = job.parts;
    char extra;
    bool ok = parts[0].io_ok && parts[1].io_ok && pread(fd, &extra, 1, (off_t)size) == 0;
    close(fd);
    if (!ok) {
        prime__free(data);
        return false;
    }
    data[size] = '\0';
    *data_out = data;
    *size_out = size;
    *checked = parts[0].text_ok && parts[1].text_ok;
    return true;
}

prime_status prime_tagstore_load(const char *path, prime_tagstore **store_out,
                                 prime_outcomes **outcomes_out)
{
    if (store_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_load: store_out is NULL");
    *store_out = NULL;
    if (outcomes_out != NULL)
        *outcomes_out = NULL;
    if (path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_load: path is NULL");
    if (prime__is_sharded_dir(path)) /* a sharded-store folder (shard.c) */
        return prime_sharded_store_open(path, store_out);
    char *data;
    size_t size;
    bool checked = false;
    prime_status st = PRIME_OK;
    if (!read_large(path, &data, &size, &checked))
        st = prime__read_file(path, &data, &size);
    if (st != PRIME_OK)
        return st;
    if (prime__is_binary_store(data, size)) /* used in place: no second copy */
        return prime__store_open_blob((unsigned char *)data, size, path, store_out);
    st = load_text(data, size, path, checked, store_out, outcomes_out);
    prime__free(data);
    return st;
}
