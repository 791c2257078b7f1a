/* Messages, stdout, and the outputs of a command through one prime_writer
 * (prime/file.h): nothing here writes a file by itself. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    return EXIT_USAGE;
}

int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

int lib_error(prime_status st)
{
    const char *msg = prime_last_error();
    fprintf(stderr, "%s: %s (%s)\n", prog, msg[0] ? msg : prime_status_message(st),
            prime_status_name(st));
    return EXIT_FAIL;
}

/* The files of a sharded-store folder (one with a manifest.json, read
 * whole as --tags) are inputs too: the writer would otherwise let an
 * output replace a shard of the store it reads. */
static prime_status add_folder_inputs(prime_writer *w, const char *dir)
{
    struct stat sb;
    size_t len = strlen(dir);
    char *path = malloc(len + 2 + NAME_MAX + 1);
    if (path == NULL)
        return PRIME_E_NOMEM;
    memcpy(path, dir, len);
    if (len == 0 || path[len - 1] != '/')
        path[len++] = '/';
    strcpy(path + len, "manifest.json");
    DIR *d = NULL;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || stat(path, &sb) != 0 ||
        (d = opendir(dir)) == NULL) {
        free(path);
        return PRIME_OK; /* not a sharded store (or its reader says what is wrong) */
    }
    prime_status st = PRIME_OK;
    struct dirent *e;
    while (st == PRIME_OK && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            strlen(e->d_name) <= NAME_MAX) {
            strcpy(path + len, e->d_name);
            st = prime_writer_add_input(w, path);
        }
    closedir(d);
    free(path);
    return st;
}

prime_writer *writer_open(const char *const *inputs, size_t n, const char *const *outputs,
                          size_t m)
{
    prime_writer *w = NULL;
    prime_status st = prime_writer_create(&w);
    for (size_t k = 0; st == PRIME_OK && k < n; k++)
        if (inputs[k] != NULL && (st = prime_writer_add_input(w, inputs[k])) == PRIME_OK)
            st = add_folder_inputs(w, inputs[k]);
    for (size_t k = 0; st == PRIME_OK && k < m; k++)
        if (outputs[k] != NULL)
            st = prime_writer_check(w, outputs[k]);
    if (st != PRIME_OK) {
        lib_error(st);
        prime_writer_destroy(w);
        return NULL;
    }
    return w;
}

/* The commit holds the signals around its renames only (prime/file.h): an
 * output written in place, a FIFO with no reader, can still be interrupted. */
int writer_close(prime_writer *w)
{
    prime_status st = prime_writer_commit(w);
    int rc = st == PRIME_OK ? 0 : lib_error(st);
    prime_writer_destroy(w);
    return rc;
}

int check_outputs(const char *const *inputs, size_t n, const char *const *outputs, size_t m)
{
    prime_writer *w = writer_open(inputs, n, outputs, m);
    prime_writer_destroy(w);
    return w != NULL ? 0 : EXIT_FAIL;
}

void output_id_init(output_id *o, const char *path)
{
    struct stat sb;
    o->path = path;
    o->exists = path != NULL && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
    o->dev = o->exists ? sb.st_dev : 0;
    o->ino = o->exists ? sb.st_ino : 0;
}

int output_id_refuse(const output_id *o, const char *input)
{
    struct stat sb;
    if (!o->exists || stat(input, &sb) != 0 || sb.st_dev != o->dev || sb.st_ino != o->ino)
        return 0;
    return fail("%s: is also the input %s; refusing to overwrite it", o->path, input);
}

int emit(const void *h, render_fn render, write_fn write, int32_t format, const char *output)
{
    prime_status st;
    if (output != NULL) /* the library's own writer: rendered once, atomically */
        return (st = write(h, format, output)) == PRIME_OK ? 0 : lib_error(st);
    size_t need = 0;
    st = render(h, format, NULL, 0, &need);
    if (st != PRIME_E_BUFFER_TOO_SMALL && st != PRIME_OK)
        return lib_error(st);
    prime_clear_error();
    char *text = malloc(need + 1);
    if (text == NULL)
        return fail("out of memory");
    int rc = 0;
    st = render(h, format, text, need + 1, &need);
    if (st != PRIME_OK)
        rc = lib_error(st);
    else if (fwrite(text, 1, need, stdout) != need || fflush(stdout) != 0)
        rc = fail("cannot write the output: %s", strerror(errno));
    free(text);
    return rc;
}

int32_t default_format(const char *output)
{
    return output == NULL && isatty(STDOUT_FILENO) ? PRIME_FORMAT_TEXT : PRIME_FORMAT_JSON;
}

int load_store(const char *tags, const char *outcomes_path, prime_tagstore **store,
               prime_outcomes **outcomes)
{
    prime_outcomes *in_file = NULL;
    *store = NULL;
    *outcomes = NULL;
    prime_status st = prime_tagstore_load(tags, store, outcomes_path ? NULL : &in_file);
    if (st == PRIME_OK && outcomes_path != NULL)
        st = prime_outcomes_load(outcomes_path, *store, outcomes);
    if (st != PRIME_OK) {
        prime_tagstore_destroy(*store);
        *store = NULL;
        return lib_error(st);
    }
    if (outcomes_path == NULL) {
        if (in_file == NULL) {
            prime_tagstore_destroy(*store);
            *store = NULL;
            return fail("%s has no outcomes (no correct or score column): give --outcomes FILE",
                        tags);
        }
        *outcomes = in_file;
    }
    return 0;
}

/* ---- signals ---- */

static void on_signal(int sig)
{
    prime_writer_remove_temps(); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

void catch_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (size_t j = 0; j < sizeof sigs / sizeof sigs[0]; j++)
            sigaddset(&sa.sa_mask, sigs[j]);
        /* a signal ignored by the parent (nohup) stays ignored */
        if (sigaction(sigs[k], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[k], &sa, NULL);
    }
}
