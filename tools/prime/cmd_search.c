/* prime search: the failure modes of a classifier (PRIME.md section 4).
 * --stream writes each mode as the search finds it (JSON Lines or CSV
 * records that the library renders, prime_mode_event_render), so that
 * memory does not grow with the number of modes. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static prime_status render_result(const void *h, int32_t f, char *b, size_t c, size_t *n)
{
    return prime_result_render(h, f, b, c, n);
}

static prime_status write_result(const void *h, int32_t f, const char *path)
{
    return prime_result_write(h, f, path);
}

/* Options that map one to one onto a configuration parameter. */
static const struct {
    const char *option, *param;
} param_options[] = {
    {"--max-tags", "max_tags"},       {"--min-size", "min_size"},
    {"--min-drop", "min_drop"},       {"--min-gain", "min_gain"},
    {"--min-tag-count", "min_tag_count"}, {"--threads", "threads"},
    {"--max-modes", "max_modes"},
};
enum { N_PARAM = sizeof param_options / sizeof param_options[0] };

enum { O_WHOLE = N_PARAM, O_TAGS, O_OUTCOMES, O_OUTPUT, O_FORMAT, O_FOLD, O_STREAM, N_SEARCH };
static const opt_spec specs[] = {
    {"--max-tags", OPT_VALUE}, {"--min-size", OPT_VALUE}, {"--min-drop", OPT_VALUE},
    {"--min-gain", OPT_VALUE}, {"--min-tag-count", OPT_VALUE}, {"--threads", OPT_VALUE},
    {"--max-modes", OPT_VALUE},
    {"--whole-dataset", OPT_FLAG}, {"--tags", OPT_VALUE}, {"--outcomes", OPT_VALUE},
    {"--output", OPT_VALUE}, {"--format", OPT_VALUE}, {"--fold-equal", OPT_FLAG},
    {"--stream", OPT_FLAG}, {NULL, 0}};

/* --stream: records gathered in `buf` and written in pieces of about
 * CHUNK bytes, to stdout or to the writer's stream output. */
enum { CHUNK = 1 << 20 };
typedef struct {
    const prime_tagstore *store;
    int32_t format;
    prime_writer *w; /* NULL: stdout */
    uint32_t index;
    char *buf;
    size_t len;
    char *rec;       /* one rendered record */
    size_t rec_cap;
    int rc;          /* the exit status of a failure (after its message) */
} stream_out;

static int stream_flush(stream_out *o)
{
    if (o->len == 0 || o->rc != 0)
        return o->rc;
    if (o->w != NULL) {
        prime_status st = prime_writer_append(o->w, o->index, o->buf, o->len);
        if (st != PRIME_OK)
            o->rc = lib_error(st);
    } else if (fwrite(o->buf, 1, o->len, stdout) != o->len || fflush(stdout) != 0) {
        o->rc = fail("cannot write the output: %s", strerror(errno));
    }
    o->len = 0;
    return o->rc;
}

/* Add the record of mode (NULL: the CSV header) to the buffer: rendered in
 * place at its end (a render that does not fit leaves the buffer as it
 * was), else after a flush, else (a record larger than a chunk: long
 * names) on its own. */
static int stream_put(stream_out *o, const prime_mode_event *mode)
{
    size_t need = 0;
    prime_status st = prime_mode_event_render(o->store, mode, o->format, o->buf + o->len,
                                              CHUNK - o->len, &need);
    if (st == PRIME_E_BUFFER_TOO_SMALL && o->len > 0) {
        if (stream_flush(o) != 0)
            return o->rc;
        st = prime_mode_event_render(o->store, mode, o->format, o->buf, CHUNK, &need);
    }
    if (st == PRIME_OK) {
        o->len += need;
        return 0;
    }
    if (st != PRIME_E_BUFFER_TOO_SMALL)
        return o->rc = lib_error(st);
    if (need + 1 > o->rec_cap) {
        char *bigger = realloc(o->rec, need + 1);
        if (bigger == NULL)
            return o->rc = fail("out of memory");
        o->rec = bigger;
        o->rec_cap = need + 1;
    }
    st = prime_mode_event_render(o->store, mode, o->format, o->rec, o->rec_cap, &need);
    if (st != PRIME_OK)
        return o->rc = lib_error(st);
    /* the buffer is empty (flushed above) */
    char *keep = o->buf;
    o->buf = o->rec;
    o->len = need;
    stream_flush(o);
    o->buf = keep;
    o->len = 0;
    return o->rc;
}

static int32_t on_mode(void *data, const prime_mode_event *mode)
{
    return stream_put(data, mode) != 0;
}

/* The search with --stream: the records as they are found; the output
 * (a file) appears only when the search succeeds. */
static int search_stream(const prime_tagstore *store, const prime_outcomes *outcomes,
                         const prime_config *cfg, int32_t format, const char *output,
                         const char *const *inputs)
{
    stream_out o = {.store = store, .format = format};
    o.buf = malloc(CHUNK);
    if (o.buf == NULL)
        return fail("out of memory");
    if (output != NULL) {
        o.w = writer_open(inputs, 2, NULL, 0);
        if (o.w == NULL) {
            free(o.buf);
            return EXIT_FAIL;
        }
        prime_status st = prime_writer_add_stream(o.w, output, &o.index);
        if (st != PRIME_OK) {
            prime_writer_destroy(o.w);
            free(o.buf);
            return lib_error(st);
        }
    }
    if (format == PRIME_FORMAT_CSV)
        stream_put(&o, NULL);
    progress_state ps;
    progress_init(&ps, "searching");
    uint64_t n = 0;
    prime_status st = o.rc == 0 ? prime_search_stream(store, outcomes, cfg, progress_search, &ps,
                                                      on_mode, &o, &n)
                                : PRIME_OK;
    progress_end(&ps);
    int rc = o.rc; /* a write failure stopped the search: its message is out */
    if (rc == 0 && st != PRIME_OK)
        rc = lib_error(st);
    if (rc == 0 || (o.w == NULL && o.rc == 0)) {
        /* on stdout the records found before a failure are written too */
        int frc = stream_flush(&o);
        if (rc == 0)
            rc = frc;
    }
    if (o.w != NULL) {
        if (rc == 0)
            rc = writer_close(o.w); /* the temporary file renamed over the output */
        else
            prime_writer_destroy(o.w); /* the temporary file removed */
    }
    free(o.buf);
    free(o.rec);
    return rc;
}

int search_parse(int argc, char **argv, const opt_spec *extra, search_extra_fn on_extra,
                 void *user, search_args *a)
{
    memset(a, 0, sizeof *a);
    prime_status st = prime_config_create(&a->cfg);
    if (st != PRIME_OK)
        return lib_error(st);
    size_t n_extra = 0;
    while (extra != NULL && extra[n_extra].name != NULL)
        n_extra++;
    opt_spec *all = malloc(sizeof *all * (N_SEARCH + n_extra + 1));
    if (all == NULL) {
        prime_config_destroy(a->cfg);
        a->cfg = NULL;
        return fail("out of memory");
    }
    memcpy(all, specs, sizeof *all * N_SEARCH);
    if (n_extra > 0)
        memcpy(all + N_SEARCH, extra, sizeof *all * n_extra);
    all[N_SEARCH + n_extra] = (opt_spec){NULL, 0};
    opts o = {.argc = argc, .argv = argv, .specs = all};
    int k, rc = 0;
    const char *v;
    while (rc == 0 && (k = opts_option(&o, &v)) != OPT_END) {
        if (k == OPT_ERROR)
            rc = o.rc;
        else if (k >= N_SEARCH)
            rc = on_extra(k - N_SEARCH, v, user);
        else if (k == O_WHOLE) {
            prime_config_set_int(a->cfg, PRIME_PARAM_WHOLE_DATASET, 1);
            a->whole = 1;
        } else if (k == O_FOLD)
            prime_config_set_int(a->cfg, PRIME_PARAM_FOLD_EQUAL, 1);
        else if (k == O_STREAM)
            a->stream = 1;
        else if (k == O_TAGS)
            a->tags = v;
        else if (k == O_OUTCOMES)
            a->outcomes = v;
        else if (k == O_OUTPUT)
            a->output = v;
        else if (k == O_FORMAT)
            rc = opt_format(v, 1, &a->format) ? 0 : EXIT_USAGE;
        else if (prime_config_set_by_name(a->cfg, param_options[k].param, v) != PRIME_OK) {
            fprintf(stderr, "%s: %s: %s\n", prog, specs[k].name, prime_last_error());
            rc = EXIT_USAGE;
        }
    }
    free(all);
    if (rc == 0 && a->tags == NULL)
        rc = usage_error("%s", "search needs --tags FILE");
    int64_t fold = 0;
    prime_config_get_int(a->cfg, PRIME_PARAM_FOLD_EQUAL, &fold);
    if (rc == 0 && a->stream && a->format == PRIME_FORMAT_TEXT)
        rc = usage_error("%s", "--stream writes json (JSON Lines) or csv, not text");
    if (rc == 0 && a->stream && fold)
        rc = usage_error("%s", "--fold-equal needs every mode at once; it cannot --stream");
    if (rc != 0) {
        prime_config_destroy(a->cfg);
        a->cfg = NULL;
        return rc;
    }
    a->format_given = a->format != 0;
    if (a->format == 0)
        a->format = a->stream ? PRIME_FORMAT_JSON : default_format(a->output);
    return 0;
}

int search_emit(const prime_result *result, int32_t format, const char *output)
{
    return emit(result, render_result, write_result, format, output);
}

int cmd_search(int argc, char **argv)
{
    search_args a;
    int rc = search_parse(argc, argv, NULL, NULL, NULL, &a);
    if (rc != 0)
        return rc;
    const char *inputs[] = {a.tags, a.outcomes};
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_result *result = NULL;
    rc = check_outputs(inputs, 2, &a.output, a.output != NULL);
    if (rc == 0)
        rc = load_store(a.tags, a.outcomes, &store, &outcomes);
    if (rc == 0 && a.stream) {
        rc = search_stream(store, outcomes, a.cfg, a.format, a.output, inputs);
    } else if (rc == 0) {
        progress_state ps;
        progress_init(&ps, "searching");
        prime_status st = prime_search(store, outcomes, a.cfg, progress_search, &ps, &result);
        progress_end(&ps);
        rc = st != PRIME_OK ? lib_error(st) : search_emit(result, a.format, a.output);
    }
    prime_result_destroy(result);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    prime_config_destroy(a.cfg);
    return rc;
}
