/* The `prime` command line: what its files share. The tool is a thin
 * client of libprime: every file it reads goes through the library's
 * reader and every file it writes through the library's writer
 * (prime/file.h); it renders no CSV or JSON itself.
 *
 *   main.c        usage, the command table, signals, the stdout check
 *   opts.c        option parsing and strict numbers
 *   progress.c    progress lines on a terminal
 *   output.c      messages, stdout, outputs through a prime_writer
 *   torch.c       libprime-torch loaded at run time, preprocessing options
 *   images.c      the images of --images and their classes
 *   cmd_<name>.c  one command each
 *
 * Exit status: 0 on success, 2 on bad usage, 1 on bad input or failure. */
#ifndef PRIME_TOOLS_CLI_H
#define PRIME_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "prime/backend.h"
#include "prime/prime.h"
#include "prime/torch.h" /* types only: libprime-torch is dlopen()ed, never linked */

#define EXIT_USAGE 2
#define EXIT_FAIL 1

extern const char *const prog;

/* ---- messages (output.c) ---- */

/* "prime: MESSAGE\nTry 'prime --help'." on stderr; returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2))) int usage_error(const char *fmt, ...);
/* "prime: MESSAGE" on stderr; returns EXIT_FAIL. */
__attribute__((format(printf, 1, 2))) int fail(const char *fmt, ...);
/* The library's last error (or the status's message) and the status name;
 * returns EXIT_FAIL. */
int lib_error(prime_status st);
/* SIGINT, SIGTERM and SIGHUP remove the writer's temp files, then kill the
 * process with the same signal (its exit status says so); a signal the
 * parent ignores (nohup) stays ignored. */
void catch_signals(void);

/* ---- options (opts.c) ---- */

enum { OPT_FLAG = 0, OPT_VALUE = 1, OPT_VALUE_EMPTY_OK = 2 };

typedef struct {
    const char *name; /* "--tags" */
    int kind;         /* OPT_FLAG, OPT_VALUE, OPT_VALUE_EMPTY_OK */
} opt_spec;

typedef struct {
    int argc, i;
    char **argv;
    const opt_spec *specs; /* ends with {NULL, 0} */
    const char *context;   /* " for classify" after "unknown option 'X'", or "" */
    int rc;                /* the exit status of a usage error */
} opts;

enum { OPT_END = -1, OPT_ARG = -2, OPT_ERROR = -3 };

/* The next option: its index in specs (value in *value, NULL for a flag),
 * OPT_ARG for an argument that is not an option (in *value), OPT_END, or
 * OPT_ERROR after printing a usage error (o->rc = EXIT_USAGE): an unknown
 * option (whether or not a value follows), a flag given a value, a missing
 * value, an empty value. */
int opts_next(opts *o, const char **value);
/* opts_next for a command that takes options only: an argument that is not
 * an option is a usage error ("unexpected argument 'X'", OPT_ERROR). */
int opts_option(opts *o, const char **value);

/* Strict numbers: the whole text, no blank, no sign for counts; print the
 * usage error "NAME must be WHAT, not 'TEXT'" and return 0 on failure. */
int opt_uint(const char *name, const char *v, uint64_t lo, uint64_t hi, const char *what,
             uint64_t *out);
int opt_double(const char *name, const char *v, double lo, double hi, int lo_open,
               const char *what, double *out);
/* "a,b,c": three finite numbers. */
int opt_triple(const char *v, double out[3]);
/* json|csv|text (csv only when allow_csv); returns 0 after a usage error. */
int opt_format(const char *v, int allow_csv, int32_t *out);

/* ---- progress (progress.c) ---- */

typedef struct {
    int enabled;
    struct timespec start;
    int shown;
    int last_permille;
    const char *verb; /* "tagging", "classifying" */
} progress_state;

void progress_init(progress_state *p, const char *verb);
int32_t progress_search(void *user, uint64_t done, uint64_t total);
int32_t progress_files(void *user, uint64_t done, uint64_t total);
void progress_file_error(void *user, uint32_t index, prime_status st, const char *message);
void progress_end(progress_state *p);

/* ---- outputs (output.c) ---- */

/* A writer that refuses every one of inputs[0..n) (NULL entries skipped) as
 * an output, and has checked outputs[0..m) (NULL skipped) against them
 * already (before the command's work; two outputs that are one file are
 * refused when the second is added, before anything is written). Prints
 * the problem and returns NULL on failure. */
prime_writer *writer_open(const char *const *inputs, size_t n, const char *const *outputs,
                          size_t m);
/* Commit (the library holds SIGINT, SIGTERM and SIGHUP around the renames
 * only, so the renames of several outputs are not cut in half and a FIFO
 * output with no reader can be interrupted), print any error, destroy.
 * Returns the exit status. */
int writer_close(prime_writer *w);

/* writer_open's checks alone, before a command's work, for commands whose
 * one output the library writes itself: 0 or EXIT_FAIL (after a message). */
int check_outputs(const char *const *inputs, size_t n, const char *const *outputs, size_t m);

/* An output against the files a command reads that no option names (the
 * images of --images): output_id_init takes the output's device and inode
 * once (nothing when it does not exist yet, or is not a regular file: a
 * device or FIFO is written in place, never replaced); output_id_refuse
 * returns 0, or EXIT_FAIL after the writer's message when `input` is that
 * file (same device and inode: a symbolic or hard link counts). */
typedef struct {
    const char *path;
    int exists;
    dev_t dev;
    ino_t ino;
} output_id;
void output_id_init(output_id *o, const char *path);
int output_id_refuse(const output_id *o, const char *input);

/* A handle the library renders (into a caller buffer, with a size query)
 * and writes to a file (through its writer). */
typedef prime_status (*render_fn)(const void *h, int32_t format, char *buf, size_t cap,
                                  size_t *need);
typedef prime_status (*write_fn)(const void *h, int32_t format, const char *path);

/* Write h to `output` (the library's writer: a temporary file and a rename,
 * in place for a device) when it is not NULL, else render it to stdout.
 * Returns the exit status. */
int emit(const void *h, render_fn render, write_fn write, int32_t format, const char *output);

/* Text for a person at a terminal, JSON for files and pipes. */
int32_t default_format(const char *output);

/* The outcomes of a command: from --outcomes when given, else the tags
 * file's own; prints the problem and returns EXIT_FAIL when there are none. */
int load_store(const char *tags, const char *outcomes_path, prime_tagstore **store,
               prime_outcomes **outcomes);

/* ---- libprime-torch (torch.c) ---- */

typedef struct {
    void *dl;
    __typeof__(&prime_torch_version) version;
    __typeof__(&prime_torch_set_threads) set_threads;
    __typeof__(&prime_torch_tagger_create) tagger_create;
    __typeof__(&prime_torch_classifier_create) classifier_create;
    __typeof__(&prime_torch_embedder_create) embedder_create;
    __typeof__(&prime_torch_set_check_batch) set_check_batch;
    /* NULL in a libprime-torch without devices (before issue 15) */
    __typeof__(&prime_torch_tagger_create_with) tagger_create_with;
    __typeof__(&prime_torch_classifier_create_with) classifier_create_with;
    __typeof__(&prime_torch_embedder_create_with) embedder_create_with;
} torch_api;

/* An embedder of libprime-torch on --device/--dtype (NULL both: the plain
 * constructor); prints "this libprime-torch has no --device/--dtype" and
 * returns PRIME_E_STATE (error already reported: *reported = 1) when the
 * shim predates them. */
prime_status torch_embedder(const torch_api *t, const char *image_model, const char *text_model,
                            const char *bpe, const prime_image_spec *spec, const char *device,
                            const char *dtype, prime_embedder **out, int *reported);

/* Loads the shim; on failure prints "WHO needs libprime-torch: why" and
 * returns 0. */
int torch_load(torch_api *t, const char *who);
/* The batch guard of libprime-torch checks the batch size the run will use
 * (--batch, 32 by default), within the guard's range 2..4096. */
prime_status torch_check_batch(const torch_api *t, uint32_t batch);

/* Preprocessing options of the torch roles. */
typedef struct {
    uint32_t size, resize; /* 0: not given */
    int have_mean, have_std;
    double mean[3], std[3];
} spec_opts;

/* --size, --resize, --mean, --std: returns 1 when name is one of them (then
 * *rc = 0 or a usage error's status), else 0. */
int spec_option(spec_opts *o, const char *name, const char *v, int *rc);
/* The spec of a role from its preset and the options; NULL when none given. */
prime_status make_spec(const spec_opts *o, int32_t preset, prime_image_spec **out);

/* ---- images (images.c) ---- */

typedef struct {
    char **v;
    size_t n, cap;
} strvec;

void strvec_free(strvec *s);

/* The image files of --images (a folder walked recursively and sorted, or a
 * list file, one path a line, read by prime_lines_load), their names and classes (from labels_path,
 * else the parent folder's name). An output (NULL: none) that is one of the
 * images is refused (output_id_refuse). Prints the problem and returns 0 on
 * failure. */
int collect_images(const char *images, const char *labels_path, const char *output,
                   strvec *paths, strvec *names, strvec *classes);

/* Data files (opts.c). The data folder: $PRIME_DATA_DIR when set and not
 * empty, else where `meson install` puts data/ (PRIME_DATA_INSTALLED,
 * <prefix>/share/libprime). data_file: the path of a data file option
 * (--bpe, --vocab, --thresholds): GIVEN as is when it names a file or is
 * absolute; a relative GIVEN that names no file here is looked for in the
 * data folder and kept as is when not there either (so that the error names
 * what was given); without GIVEN, DEFAULT_REL in the data folder (NULL
 * without a default). Returns GIVEN or BUF. */
#define PRIME_CLIP_BPE "clip/bpe_simple_vocab_16e6.txt.gz"
const char *data_dir(void);
const char *data_file(const char *given, const char *default_rel, char *buf, size_t cap);

/* ---- prime search's options (cmd_search.c), shared with prime-mpi ---- */

typedef struct {
    const char *tags, *outcomes, *output; /* output NULL: stdout */
    int32_t format;                       /* a PRIME_FORMAT_* (default_format when not given) */
    int format_given;                     /* --format was given */
    int whole;                            /* --whole-dataset */
    int stream;                           /* --stream (prime search only) */
    prime_config *cfg;                    /* owned by the caller after success */
} search_args;

/* More options of a program built on search's: called with the index of
 * the option in `extra` and its value (NULL for a flag); returns 0 or an
 * exit status. */
typedef int (*search_extra_fn)(int k, const char *value, void *user);

/* prime search's options (and those of extra, may be NULL, ending with
 * {NULL, 0}) into *a. Returns 0, or the exit status after a message. */
int search_parse(int argc, char **argv, const opt_spec *extra, search_extra_fn on_extra,
                 void *user, search_args *a);

/* A result to `output` (the library's writer) or stdout; the exit status. */
int search_emit(const prime_result *result, int32_t format, const char *output);

/* ---- commands ---- */

int cmd_search(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_merge(int argc, char **argv); /* scale.c */
int cmd_report(int argc, char **argv);

#endif
