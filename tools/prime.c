/* prime: the command-line face of libprime.
 *
 *   prime search --tags FILE [--outcomes FILE] [--max-tags L] [--min-size S]
 *                [--min-drop A] [--min-gain B1,B2,...] [--min-tag-count K]
 *                [--threads N] [--whole-dataset] [--format json|csv|text]
 *                [--output FILE]
 *   prime convert --tags FILE --output STORE [--outcomes-output FILE]
 *   prime info FILE
 *   prime eval --result R.json --tags FILE [--outcomes FILE] [--fdr Q] ...
 *   prime tag --images DIR|LIST --backend properties|torch|zeroshot [--labels L.csv] ...
 *             --output tags.csv
 *   prime classify --model M.pt --images DIR|LIST [--labels L.csv] ... --output outcomes.csv
 *   prime eval --quality --result R.json --tags FILE --image-embeddings E ...
 *   prime report --result R.json --tags FILE [--outcomes FILE] --images DIR ... --output F
 *
 * Exit status: 0 on success, 2 on bad usage, 1 on bad input or failure.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "prime/sys/backend.h"
#include "prime/prime.h"
#include "prime/torch.h" /* types only: libprime-torch is dlopen()ed, never linked */
#include "prime_scale.h"
#include "report.h"

/* Where `make install` puts libprime-torch (tools/meson.build sets it). */
#ifndef PRIME_TORCH_INSTALLED
#define PRIME_TORCH_INSTALLED "/usr/local/lib/libprime-torch.so.0"
#endif

#define EXIT_USAGE 2
#define EXIT_FAIL 1

static const char *prog = "prime";

static const char usage_text[] =
    "usage: prime search --tags FILE [--outcomes FILE] [--max-tags L] [--min-size S]\n"
    "                    [--min-drop A] [--min-gain B1,B2,...] [--min-tag-count K]\n"
    "                    [--threads N] [--whole-dataset] [--format json|csv|text]\n"
    "                    [--output FILE]\n"
    "       prime convert --tags FILE --output STORE [--outcomes-output FILE]\n"
    "       prime info FILE\n"
    "       prime eval --result R.json --tags FILE [--outcomes FILE] [--fdr Q]\n"
    "                  [--hypotheses M] [--format json|text] [--output FILE]\n"
    "       prime eval --quality --result R.json --tags FILE --image-embeddings E\n"
    "                  [--image-ids IDS] [--dim D]\n"
    "                  (--text-embeddings T | --text-model clip_text.pt --bpe BPE)\n"
    "                  [--format json|text] [--output FILE]\n"
    "       prime report --result R.json --tags FILE [--outcomes FILE] --images DIR\n"
    "                    [--per-mode N] [--seed S] --output report.html\n"
    "       prime tokenize --bpe FILE [--full] TEXT...   (CLIP token ids, one line per TEXT)\n"
    "       prime tag --images DIR|LIST --backend properties|torch|zeroshot\n"
    "                 [--labels L.csv] [--thresholds T | --threshold X] [--top-k K]\n"
    "                 [--rule above|at-least] [--threads N] [--batch B] --output tags.csv\n"
    "                 torch:    --model M.pt --vocab V.txt [--scores logits|probabilities]\n"
    "                 zeroshot: --image-model img.pt --text-model txt.pt --bpe BPE\n"
    "                           --vocab V.txt [--prompt 'a photo of {}']\n"
    "                 torch, zeroshot: [--size N] [--resize S] [--mean R,G,B] [--std R,G,B]\n"
    "       prime classify --model M.pt --images DIR|LIST [--labels L.csv]\n"
    "                 [--classes C.txt] [--size N] [--resize S] [--mean R,G,B]\n"
    "                 [--std R,G,B] [--threads N] [--batch B] --output outcomes.csv\n"
    "       prime --version | --help\n"
    "\n"
    "search   find the failure modes of a classifier (PRIME): tag combinations under\n"
    "         which accuracy drops by at least A, in groups of at least S images.\n"
    "         FILE may be a tags CSV, JSON Lines, or a binary store.\n"
    "convert  write a binary store from a tags CSV or JSON Lines file.\n"
    "info     summarise a tags file or binary store.\n"
    "tag      tag every image of DIR (recursively) or LIST (one path a line) with a\n"
    "         backend (properties: dark, bright, blurry, noisy, colours, ...; no model;\n"
    "         torch: a TorchScript tagger such as RAM; zeroshot: cosine similarity of\n"
    "         CLIP image and prompt embeddings) and write the tags CSV; the class is\n"
    "         the label of --labels (image,label) or the image's parent folder name.\n"

    "         torch and zeroshot load libprime-torch at run time ($PRIME_TORCH_LIBRARY,\n"
    "         else the installed one). A tag is selected when its score is above its\n"
    "         threshold (--rule above; RAM's rule and the default of torch) or at least\n"
    "         it (--rule at-least; the default of properties and zeroshot).\n"
    "classify run a TorchScript classifier on the images and write the outcomes CSV\n"
    "         (image,label,prediction,correct) for prime search; labels as for tag,\n"
    "         class names from --classes (one a line; default 0, 1, ...).\n"
    "eval     measure the failure modes of a search result (R.json) on another split:\n"
    "         test accuracy and drop, Wilson interval, p-value, parents; with --fdr Q\n"
    "         Benjamini-Hochberg discoveries over M hypotheses (default: the result's\n"
         "         candidate count, else its number of modes).\n"
    "         With --quality: description quality of the modes (similarity, specificity,\n"
    "         coherency) from image embeddings (.npy or raw float32 with --dim, one row\n"
    "         per image in store order, or keyed by the names of --image-ids) and one\n"
    "         text embedding per mode (in the result's order), or the modes'\n"
    "         descriptions embedded by a CLIP text model (libprime-torch).\n"
    "report   write one self-contained HTML page of the failure modes of R.json measured\n"
    "         on FILE: per class its modes by drop, accuracy bars, size, interval,\n"
    "         parents and N (default 8) sample images per mode from DIR/<image name>,\n"
    "         chosen at random with seed S (default 0), wrong ones marked.";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'prime --help'.\n");
    return EXIT_USAGE;
}

static int lib_error(prime_status st)
{
    const char *msg = prime_last_error();
    fprintf(stderr, "%s: %s (%s)\n", prog, msg[0] ? msg : prime_status_message(st),
            prime_status_name(st));
    return EXIT_FAIL;
}

/* ---- argument parsing ----------------------------------------------------- */

typedef struct {
    int argc, i;
    char **argv;
    const char *name;  /* current option name (without value) */
    const char *value; /* value of --name=value or the next argument */
    char namebuf[64];
} args;

/* Reads the next option. Returns 1 for an option, 0 at the end, -1 for a
 * positional argument (in a->value). */
static int next_opt(args *a)
{
    if (a->i >= a->argc)
        return 0;
    char *s = a->argv[a->i++];
    a->value = NULL;
    if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
        a->value = s;
        return -1;
    }
    const char *eq = strchr(s, '=');
    if (eq != NULL) {
        size_t n = (size_t)(eq - s);
        if (n >= sizeof a->namebuf)
            n = sizeof a->namebuf - 1;
        memcpy(a->namebuf, s, n);
        a->namebuf[n] = '\0';
        a->name = a->namebuf;
        a->value = eq + 1;
    } else {
        a->name = s;
    }
    return 1;
}

/* Value of the current option: from --name=value or the next argument. */
static const char *opt_value(args *a)
{
    if (a->value != NULL)
        return a->value;
    if (a->i >= a->argc)
        return NULL;
    return a->argv[a->i++];
}

/* Parse a whole decimal unsigned integer in [lo, hi] (no sign, no trailing
 * text). */
static int parse_uint(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || x < lo || x > hi)
        return 0;
    *out = (uint64_t)x;
    return 1;
}

/* ---- progress bar ---------------------------------------------------------- */

typedef struct {
    int enabled;
    struct timespec start;
    int shown;
    int last_permille;
    const char *verb; /* "tagging", "classifying": the progress line's first word */
} progress_state;

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int32_t on_progress(void *user, uint64_t done, uint64_t total)
{
    progress_state *p = user;
    if (!p->enabled || total == 0)
        return 0;
    double secs = elapsed(&p->start);
    if (secs < 0.5) /* short work gets no bar */
        return 0;
    int permille = (int)(done * 1000 / total);
    if (p->shown && permille == p->last_permille)
        return 0;
    p->shown = 1;
    p->last_permille = permille;
    int width = 40, fill = permille * width / 1000;
    char bar[64];
    for (int k = 0; k < width; k++)
        bar[k] = k < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\rsearching [%s] %5.1f%%  %.1fs", bar, permille / 10.0, secs);
    fflush(stderr);
    return 0;
}

static void progress_end(progress_state *p)
{
    if (p->shown) {
        fprintf(stderr, "\r%*s\r", 70, "");
        fflush(stderr);
    }
}

/* ---- output of search and eval -------------------------------------------- */

/* A handle the library can render (into a caller buffer, with a size query)
 * or write to a file (atomically); the adapters below give the three kinds
 * one signature. */
typedef struct {
    const void *handle;
    prime_status (*render)(const void *h, int32_t format, char *buf, size_t cap, size_t *need);
    prime_status (*write)(const void *h, int32_t format, const char *path);
} output_source;

static prime_status render_result(const void *h, int32_t f, char *b, size_t c, size_t *n)
{
    return prime_result_render(h, f, b, c, n);
}
static prime_status write_result(const void *h, int32_t f, const char *path)
{
    return prime_result_write(h, f, path);
}
static prime_status render_eval(const void *h, int32_t f, char *b, size_t c, size_t *n)
{
    return prime_eval_render(h, f, b, c, n);
}
static prime_status write_eval(const void *h, int32_t f, const char *path)
{
    return prime_eval_write(h, f, path);
}
static prime_status render_quality(const void *h, int32_t f, char *b, size_t c, size_t *n)
{
    return prime_quality_render(h, f, b, c, n);
}
static prime_status write_quality(const void *h, int32_t f, const char *path)
{
    return prime_quality_write(h, f, path);
}

/* Write the rendered handle to `output`, or print it on stdout when output
 * is NULL. Returns the exit status. */
static int emit(output_source src, int32_t format, const char *output)
{
    prime_status st;
    if (output != NULL) {
        st = src.write(src.handle, format, output);
        return st == PRIME_OK ? 0 : lib_error(st);
    }
    size_t need = 0;
    st = src.render(src.handle, format, NULL, 0, &need);
    if (st != PRIME_E_BUFFER_TOO_SMALL && st != PRIME_OK)
        return lib_error(st);
    char *text = malloc(need + 1);
    if (text == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return EXIT_FAIL;
    }
    int rc = 0;
    st = src.render(src.handle, format, text, need + 1, &need);
    if (st != PRIME_OK)
        rc = lib_error(st);
    else if (fwrite(text, 1, need, stdout) != need || fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write the output: %s\n", prog, strerror(errno));
        rc = EXIT_FAIL;
    }
    free(text);
    return rc;
}

/* ---- search ----------------------------------------------------------------- */

static int parse_format(const char *s, int32_t *out)
{
    if (strcmp(s, "json") == 0)
        *out = PRIME_FORMAT_JSON;
    else if (strcmp(s, "csv") == 0)
        *out = PRIME_FORMAT_CSV;
    else if (strcmp(s, "text") == 0)
        *out = PRIME_FORMAT_TEXT;
    else
        return 0;
    return 1;
}

/* Options that map one to one onto a configuration parameter. */
static const struct {
    const char *option, *param;
} param_options[] = {
    {"--max-tags", "max_tags"},       {"--min-size", "min_size"},
    {"--min-drop", "min_drop"},       {"--min-gain", "min_gain"},
    {"--min-tag-count", "min_tag_count"}, {"--threads", "threads"},
};

static int cmd_search(int argc, char **argv)
{
    const char *tags_path = NULL, *outcomes_path = NULL, *output = NULL;
    int32_t format = 0;
    prime_config *cfg = NULL;
    prime_status st = prime_config_create(&cfg);
    if (st != PRIME_OK)
        return lib_error(st);
    args a = {.argc = argc, .argv = argv, .i = 0};
    int r, rc = 0;
    while (rc == 0 && (r = next_opt(&a)) != 0) {
        if (r < 0) {
            rc = usage_error("unexpected argument '%s'", a.value);
            break;
        }
        const char *name = a.name;
        if (strcmp(name, "--whole-dataset") == 0) {
            if (a.value != NULL) {
                rc = usage_error("%s takes no value", name);
                break;
            }
            prime_config_set_int(cfg, PRIME_PARAM_WHOLE_DATASET, 1);
            continue;
        }
        const char *v = opt_value(&a);
        if (v == NULL) {
            rc = usage_error("option %s needs a value", name);
            break;
        }
        if (strcmp(name, "--tags") == 0) {
            tags_path = v;
        } else if (strcmp(name, "--outcomes") == 0) {
            outcomes_path = v;
        } else if (strcmp(name, "--output") == 0) {
            output = v;
        } else if (strcmp(name, "--format") == 0) {
            if (!parse_format(v, &format))
                rc = usage_error("--format must be json, csv or text, not '%s'", v);
        } else {
            size_t k;
            for (k = 0; k < sizeof param_options / sizeof param_options[0]; k++)
                if (strcmp(name, param_options[k].option) == 0)
                    break;
            if (k == sizeof param_options / sizeof param_options[0]) {
                rc = usage_error("unknown option '%s'", name);
            } else if ((st = prime_config_set_by_name(cfg, param_options[k].param, v)) !=
                       PRIME_OK) {
                fprintf(stderr, "%s: %s: %s\n", prog, name, prime_last_error());
                rc = EXIT_USAGE;
            }
        }
    }
    if (rc == 0 && tags_path == NULL)
        rc = usage_error("%s", "search needs --tags FILE");
    if (rc != 0) {
        prime_config_destroy(cfg);
        return rc;
    }
    if (format == 0) /* text for a person at a terminal, JSON for files and pipes */
        format = (output == NULL && isatty(STDOUT_FILENO)) ? PRIME_FORMAT_TEXT
                                                           : PRIME_FORMAT_JSON;

    prime_tagstore *store = NULL;
    prime_outcomes *in_file = NULL, *outcomes = NULL;
    prime_result *result = NULL;
    st = prime_tagstore_load(tags_path, &store, outcomes_path ? NULL : &in_file);
    if (st != PRIME_OK)
        goto fail;
    if (outcomes_path != NULL) {
        st = prime_outcomes_load(outcomes_path, store, &outcomes);
        if (st != PRIME_OK)
            goto fail;
    } else if (in_file != NULL) {
        outcomes = in_file;
        in_file = NULL;
    } else {
        fprintf(stderr,
                "%s: %s has no outcomes (no correct or score column): give --outcomes FILE\n",
                prog, tags_path);
        rc = EXIT_FAIL;
        goto done;
    }
    progress_state prog_state = {.enabled = isatty(STDERR_FILENO)};
    clock_gettime(CLOCK_MONOTONIC, &prog_state.start);
    st = prime_search(store, outcomes, cfg, on_progress, &prog_state, &result);
    progress_end(&prog_state);
    if (st != PRIME_OK)
        goto fail;
    rc = emit((output_source){result, render_result, write_result}, format, output);
    goto done;
fail:
    rc = lib_error(st);
done:
    prime_result_destroy(result);
    prime_outcomes_destroy(in_file);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    prime_config_destroy(cfg);
    return rc;
}

/* ---- convert ---------------------------------------------------------------- */

static int write_outcomes_csv(const char *path, const prime_tagstore *store,
                              const prime_outcomes *o)
{
    /* Written to a temporary name and renamed: no partial file on failure. */
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 8);
    if (tmp == NULL)
        return 0;
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        free(tmp);
        return 0;
    }
    int binary = prime_outcomes_is_binary(o);
    fputs(binary ? "image,correct\n" : "image,score\n", f);
    uint32_t n = prime_tagstore_image_count(store);
    for (uint32_t i = 0; i < n; i++) {
        const char *name = prime_tagstore_image_name(store, i);
        double v = 0;
        prime_outcomes_get(o, i, &v);
        int quote = strpbrk(name, ",\"\r\n") != NULL;
        if (quote) {
            fputc('"', f);
            for (const char *p = name; *p; p++) {
                if (*p == '"')
                    fputc('"', f);
                fputc(*p, f);
            }
            fputc('"', f);
        } else {
            fputs(name, f);
        }
        if (binary)
            fprintf(f, ",%d\n", v == 1.0);
        else
            fprintf(f, ",%.17g\n", v);
    }
    int ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        remove(tmp);
    free(tmp);
    return ok;
}

static int cmd_convert(int argc, char **argv)
{
    const char *tags_path = NULL, *output = NULL, *outcomes_output = NULL, *outcomes_in = NULL;
    int32_t okind = -1; /* --outcomes-format: -1 = csv, else PRIME_OUTCOMES_* */
    args a = {.argc = argc, .argv = argv, .i = 0};
    int r;
    while ((r = next_opt(&a)) != 0) {
        if (r < 0)
            return usage_error("unexpected argument '%s'", a.value);
        const char *name = a.name, *v = opt_value(&a);
        if (v == NULL)
            return usage_error("option %s needs a value", name);
        if (strcmp(name, "--tags") == 0)
            tags_path = v;
        else if (strcmp(name, "--output") == 0)
            output = v;
        else if (strcmp(name, "--outcomes-output") == 0)
            outcomes_output = v;
        else if (strcmp(name, "--outcomes") == 0)
            outcomes_in = v;
        else if (strcmp(name, "--outcomes-format") == 0) {
            if (!scale_outcomes_kind(v, &okind))
                return usage_error("--outcomes-format must be csv, binary, bits, fixed or f64, "
                                   "not '%s'", v);
        } else
            return usage_error("unknown option '%s'", name);
    }
    if (tags_path == NULL || output == NULL)
        return usage_error("%s", "convert needs --tags FILE and --output STORE");
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    if (outcomes_in != NULL && outcomes_output == NULL)
        return usage_error("%s", "--outcomes needs --outcomes-output FILE");
    prime_status st = prime_tagstore_load(tags_path, &store, outcomes_output ? &outcomes : NULL);
    if (st == PRIME_OK && outcomes_in != NULL) { /* outcomes of another file, joined */
        prime_outcomes_destroy(outcomes);
        outcomes = NULL;
        st = prime_outcomes_load(outcomes_in, store, &outcomes);
    }
    if (st != PRIME_OK) {
        prime_tagstore_destroy(store);
        return lib_error(st);
    }
    int rc = 0;
    if (outcomes_output != NULL && outcomes == NULL) {
        fprintf(stderr, "%s: %s has no outcomes to write\n", prog, tags_path);
        rc = EXIT_FAIL;
    }
    if (rc == 0 && (st = prime_tagstore_save(store, output)) != PRIME_OK)
        rc = lib_error(st);
    if (rc == 0 && outcomes_output != NULL && okind >= 0 &&
        !scale_save_outcomes(prog, outcomes, store, okind, outcomes_output)) {
        remove(output);
        rc = EXIT_FAIL;
    } else if (rc == 0 && outcomes_output != NULL && okind < 0 &&
               !write_outcomes_csv(outcomes_output, store, outcomes)) {
        fprintf(stderr, "%s: %s: cannot write: %s\n", prog, outcomes_output, strerror(errno));
        remove(output);
        rc = EXIT_FAIL;
    }
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return rc;
}

/* ---- info ------------------------------------------------------------------- */

static int cmd_info(int argc, char **argv)
{
    if (argc != 1 || strncmp(argv[0], "--", 2) == 0)
        return usage_error("%s", "info needs exactly one FILE");
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_status st = prime_tagstore_load(argv[0], &store, &outcomes);
    if (st != PRIME_OK)
        return lib_error(st);
    uint32_t ni = prime_tagstore_image_count(store), nc = prime_tagstore_class_count(store),
             nt = prime_tagstore_tag_count(store);
    uint64_t refs = prime_tagstore_tag_ref_count(store);
    uint32_t min_t = UINT32_MAX, max_t = 0, untagged = 0;
    for (uint32_t i = 0; i < ni; i++) {
        uint32_t n = 0;
        prime_tagstore_image_tags(store, i, NULL, 0, &n);
        if (n < min_t)
            min_t = n;
        if (n > max_t)
            max_t = n;
        untagged += n == 0;
    }
    uint32_t min_c = UINT32_MAX, max_c = 0;
    for (uint32_t c = 0; c < nc; c++) {
        uint32_t n = prime_tagstore_class_image_count(store, c);
        if (n < min_c)
            min_c = n;
        if (n > max_c)
            max_c = n;
    }
    printf("file:            %s\n", argv[0]);
    printf("images:          %u\n", ni);
    printf("classes:         %u", nc);
    if (nc > 0)
        printf(" (%u to %u images each)", min_c, max_c);
    printf("\ntags:            %u distinct, %llu in all\n", nt, (unsigned long long)refs);
    if (ni > 0)
        printf("tags per image:  mean %.2f, min %u, max %u, %u images untagged\n",
               (double)refs / ni, min_t, max_t, untagged);
    if (outcomes != NULL) {
        double sum = 0;
        for (uint32_t i = 0; i < ni; i++) {
            double v = 0;
            prime_outcomes_get(outcomes, i, &v);
            sum += v;
        }
        printf("outcomes:        %s, accuracy %.4f\n",
               prime_outcomes_is_binary(outcomes) ? "0/1" : "scores",
               ni ? sum / ni : 0.0);
    } else {
        printf("outcomes:        none in this file\n");
    }
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return 0;
}

/* ---- tokenize ---------------------------------------------------------------- */

/* prime tokenize --bpe FILE [--full] [--] TEXT...: one line of CLIP token ids
 * per TEXT, start and end tokens included, no padding; cut to the context
 * of 77 as clip.tokenize(truncate=True) does unless --full. */
static int cmd_tokenize(int argc, char **argv)
{
    const char *bpe = NULL;
    int full = 0, first_text = -1;
    for (int k = 0; k < argc; k++) {
        const char *s = argv[k];
        if (strcmp(s, "--") == 0) {
            first_text = k + 1;
            break;
        }
        if (strncmp(s, "--bpe=", 6) == 0) {
            bpe = s + 6;
        } else if (strcmp(s, "--bpe") == 0) {
            if (k + 1 >= argc)
                return usage_error("%s", "option --bpe needs a value");
            bpe = argv[++k];
        } else if (strcmp(s, "--full") == 0) {
            full = 1;
        } else if (strncmp(s, "--", 2) == 0) {
            return usage_error("unknown option '%s'", s);
        } else {
            first_text = k;
            break;
        }
    }
    if (bpe == NULL)
        return usage_error("%s", "tokenize needs --bpe FILE (e.g. data/clip/bpe_simple_vocab_16e6.txt.gz)");
    if (first_text < 0 || first_text >= argc)
        return usage_error("%s", "tokenize needs at least one TEXT");
    prime_tokenizer *tok = NULL;
    prime_status st = prime_tokenizer_create(bpe, &tok);
    if (st != PRIME_OK)
        return lib_error(st);
    int rc = 0;
    int64_t ctx[PRIME_TOKENIZER_CONTEXT];
    int64_t *ids = NULL;
    size_t cap = 0;
    for (int k = first_text; k < argc && rc == 0; k++) {
        const char *text = argv[k];
        size_t n = 0;
        const int64_t *out = ctx;
        if (full) {
            st = prime_tokenizer_encode(tok, text, strlen(text), ids, cap, &n);
            if (st == PRIME_E_BUFFER_TOO_SMALL) {
                free(ids);
                cap = n + 2;
                ids = malloc(cap * sizeof *ids);
                if (ids == NULL) {
                    fprintf(stderr, "%s: out of memory\n", prog);
                    rc = EXIT_FAIL;
                    break;
                }
                st = prime_tokenizer_encode(tok, text, strlen(text), ids, cap, &n);
            }
            out = ids;
        } else {
            uint32_t m = 0;
            st = prime_tokenizer_encode_context(tok, text, strlen(text), ctx,
                                                PRIME_TOKENIZER_CONTEXT, &m, NULL);
            n = m;
        }
        if (st != PRIME_OK) {
            fprintf(stderr, "%s: TEXT %d: %s (%s)\n", prog, k - first_text + 1,
                    prime_last_error(), prime_status_name(st));
            rc = EXIT_FAIL;
            break;
        }
        if (full)
            printf("%d", PRIME_TOKENIZER_START);
        for (size_t j = 0; j < n; j++)
            printf(j == 0 && !full ? "%lld" : " %lld", (long long)out[j]);
        if (full)
            printf(" %d", PRIME_TOKENIZER_END);
        putchar('\n');
    }
    free(ids);
    prime_tokenizer_destroy(tok);
    if (rc == 0 && fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write the output: %s\n", prog, strerror(errno));
        rc = EXIT_FAIL;
    }
    return rc;
}

/* ---- libprime-torch, loaded at run time -------------------------------------- */

/* prime never links libtorch: the torch and zeroshot backends, classify and
 * eval --text-model dlopen() libprime-torch and look up the functions of
 * prime/torch.h. Tried in order: $PRIME_TORCH_LIBRARY when it is set (then
 * nothing else), the installed library (PRIME_TORCH_INSTALLED), the soname
 * through the loader's search path. The shim links the same libprime as
 * this program (one soname), so the handles it makes are ours to use. */
typedef struct {
    void *dl;
    __typeof__(&prime_torch_version) version;
    __typeof__(&prime_torch_set_threads) set_threads;
    __typeof__(&prime_torch_tagger_create) tagger_create;
    __typeof__(&prime_torch_classifier_create) classifier_create;
    __typeof__(&prime_torch_embedder_create) embedder_create;
    /* NULL in a libprime-torch without devices (before issue 15) */
    __typeof__(&prime_torch_tagger_create_with) tagger_create_with;
    __typeof__(&prime_torch_classifier_create_with) classifier_create_with;
    __typeof__(&prime_torch_set_check_batch) set_check_batch;
} torch_api;

/* Loads the shim into *t; on failure prints "WHO needs libprime-torch: why"
 * and returns 0. */
static int torch_load(torch_api *t, const char *who)
{
    memset(t, 0, sizeof *t);
    const char *env = getenv("PRIME_TORCH_LIBRARY");
    char why[1024] = "";
    if (env != NULL && env[0] != '\0') {
        t->dl = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (t->dl == NULL)
            snprintf(why, sizeof why, "%s", dlerror());
    } else {
        static const char *const tries[] = {PRIME_TORCH_INSTALLED, "libprime-torch.so.0"};
        for (size_t k = 0; k < sizeof tries / sizeof tries[0] && t->dl == NULL; k++) {
            t->dl = dlopen(tries[k], RTLD_NOW | RTLD_LOCAL);
            if (t->dl == NULL) {
                size_t l = strlen(why);
                snprintf(why + l, sizeof why - l, "%s%s", l ? "; " : "", dlerror());
            }
        }
    }
    if (t->dl == NULL) {
        fprintf(stderr, "%s: %s needs libprime-torch: %s\n", prog, who, why);
        return 0;
    }
    static const char *const names[] = {
        "prime_torch_version", "prime_torch_set_threads", "prime_torch_tagger_create",
        "prime_torch_classifier_create", "prime_torch_embedder_create",
        "prime_torch_set_check_batch"};
    void *syms[6];
    for (size_t k = 0; k < 6; k++) {
        dlerror();
        syms[k] = dlsym(t->dl, names[k]);
        if (syms[k] == NULL) {
            const char *e = dlerror();
            fprintf(stderr, "%s: %s needs libprime-torch: %s\n", prog, who,
                    e != NULL ? e : names[k]);
            dlclose(t->dl);
            t->dl = NULL;
            return 0;
        }
    }
    /* object pointers to function pointers: POSIX guarantees this works */
    memcpy(&t->version, &syms[0], sizeof syms[0]);
    memcpy(&t->set_threads, &syms[1], sizeof syms[1]);
    memcpy(&t->tagger_create, &syms[2], sizeof syms[2]);
    memcpy(&t->classifier_create, &syms[3], sizeof syms[3]);
    memcpy(&t->embedder_create, &syms[4], sizeof syms[4]);
    memcpy(&t->set_check_batch, &syms[5], sizeof syms[5]);
    void *with = dlsym(t->dl, "prime_torch_tagger_create_with");
    memcpy(&t->tagger_create_with, &with, sizeof with);
    with = dlsym(t->dl, "prime_torch_classifier_create_with");
    memcpy(&t->classifier_create_with, &with, sizeof with);
    return 1;
}

/* The batch guard of libprime-torch checks the batch size the run will use
 * (--batch, 32 by default), within the guard's range 2..4096. */
static prime_status torch_check_batch(const torch_api *t, uint32_t batch)
{
    uint32_t b = batch == 0 ? 32 : batch;
    return t->set_check_batch(b < 2 ? 2 : b > 4096 ? 4096 : b);
}

/* The shim stays loaded until exit: libtorch registers exit-time handlers
 * and thread pools that must not outlive their code. */

/* --dtype: a PRIME_TORCH_* precision, or -1. */
static int32_t torch_dtype(const char *s)
{
    return strcmp(s, "float32") == 0    ? PRIME_TORCH_FLOAT32
           : strcmp(s, "float16") == 0  ? PRIME_TORCH_FLOAT16
           : strcmp(s, "bfloat16") == 0 ? PRIME_TORCH_BFLOAT16
                                        : -1;
}

/* Parse "a,b,c" into three finite numbers. */
static int parse_triple(const char *v, double out[3])
{
    const char *p = v;
    for (int k = 0; k < 3; k++) {
        char *end = NULL;
        errno = 0;
        out[k] = strtod(p, &end);
        if (errno != 0 || end == p || !isfinite(out[k]))
            return 0;
        if (k < 2 && *end != ',')
            return 0;
        p = end + (k < 2);
        if (k == 2 && *end != '\0')
            return 0;
    }
    return 1;
}

/* Preprocessing options of the torch roles. */
typedef struct {
    uint32_t size, resize; /* 0: not given */
    int have_mean, have_std;
    double mean[3], std[3];
} spec_opts;

/* Handles --size, --resize, --mean, --std. Returns 1 when the option was
 * one of them (and *rc = 0, or the usage error's exit status), else 0. */
static int spec_option(spec_opts *o, const char *name, const char *v, int *rc)
{
    *rc = 0;
    if (strcmp(name, "--size") == 0 || strcmp(name, "--resize") == 0) {
        uint64_t x;
        if (!parse_uint(v, 1, 65536, &x))
            *rc = usage_error("%s must be an integer in 1..65536, not '%s'", name, v);
        else if (name[2] == 's')
            o->size = (uint32_t)x;
        else
            o->resize = (uint32_t)x;
        return 1;
    }
    if (strcmp(name, "--mean") == 0 || strcmp(name, "--std") == 0) {
        double *dst = name[2] == 'm' ? o->mean : o->std;
        if (!parse_triple(v, dst) || (name[2] == 's' && !(dst[0] > 0 && dst[1] > 0 && dst[2] > 0)))
            *rc = usage_error("%s must be three numbers R,G,B%s, not '%s'", name,
                              name[2] == 's' ? " (each > 0)" : "", v);
        else if (name[2] == 'm')
            o->have_mean = 1;
        else
            o->have_std = 1;
        return 1;
    }
    return 0;
}

/* The spec of a role: its preset changed by the options; NULL (the shim's
 * default preset) when no option was given. --size N is the model's input
 * side: for the tagger preset (RAM) an exact N x N resize, for the others
 * the centre crop N x N of an image whose shorter side is resized to S =
 * --resize, else N (CLIP) or floor(N * 256 / 224) (ImageNet, as 256 is to
 * 224). --resize alone keeps the preset's crop size. */
static prime_status make_spec(const spec_opts *o, int32_t preset, prime_image_spec **out)
{
    *out = NULL;
    if (o->size == 0 && o->resize == 0 && !o->have_mean && !o->have_std)
        return PRIME_OK;
    prime_image_spec *spec = NULL;
    prime_status st = prime_image_spec_create(preset, &spec);
    int32_t mode = 0;
    uint32_t s0 = 0, w = 0, h = 0;
    if (st == PRIME_OK)
        st = prime_image_spec_get_resize(spec, &mode, &s0, &w, &h);
    if (st == PRIME_OK && (o->size != 0 || o->resize != 0)) {
        uint32_t n = o->size != 0 ? o->size : w;
        if (o->size != 0)
            w = h = n;
        if (o->resize != 0)
            st = prime_image_spec_set_resize(spec, PRIME_RESIZE_SHORTER_CROP, o->resize, w, h);
        else if (mode == PRIME_RESIZE_EXACT)
            st = prime_image_spec_set_resize(spec, PRIME_RESIZE_EXACT, 0, w, h);
        else
            st = prime_image_spec_set_resize(
                spec, PRIME_RESIZE_SHORTER_CROP,
                preset == PRIME_IMAGE_PRESET_IMAGENET ? (uint32_t)((uint64_t)n * 256 / 224) : n,
                w, h);
    }
    if (st == PRIME_OK && (o->have_mean || o->have_std)) {
        double mean[3], std[3];
        st = prime_image_spec_get_normalize(spec, mean, std);
        if (st == PRIME_OK)
            st = prime_image_spec_set_normalize(spec, o->have_mean ? o->mean : mean,
                                                o->have_std ? o->std : std);
    }
    if (st != PRIME_OK) {
        prime_image_spec_destroy(spec);
        return st;
    }
    *out = spec;
    return PRIME_OK;
}

/* Read a vocabulary: one tag a line (LF or CRLF); blank lines are skipped.
 * The names are checked by the tagger. */
static int read_lines(const char *path, char ***out, uint32_t *n_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, path, strerror(errno));
        return 0;
    }
    char **v = NULL, *line = NULL;
    size_t cap = 0, n = 0, vcap = 0;
    ssize_t len;
    int ok = 1;
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (n == vcap) {
            size_t nc = vcap ? 2 * vcap : 64;
            char **nv = realloc(v, nc * sizeof *nv);
            if (nv == NULL) {
                ok = 0;
                break;
            }
            v = nv;
            vcap = nc;
        }
        if ((v[n] = strdup(line)) == NULL)
            ok = 0;
        else
            n++;
    }
    free(line);
    fclose(f);
    if (ok && n == 0) {
        fprintf(stderr, "%s: %s: no names in the file\n", prog, path);
        ok = 0;
    } else if (ok && n >= UINT32_MAX) {
        fprintf(stderr, "%s: %s: too many lines\n", prog, path);
        ok = 0;
    } else if (!ok) {
        fprintf(stderr, "%s: %s: out of memory\n", prog, path);
    }
    if (!ok) {
        for (size_t k = 0; k < n; k++)
            free(v[k]);
        free(v);
        return 0;
    }
    *out = v;
    *n_out = (uint32_t)n;
    return 1;
}

static void free_lines(char **v, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++)
        free(v[k]);
    free(v);
}

/* ---- eval -------------------------------------------------------------------- */

/* The text embeddings of the modes of a result: each mode's description
 * (its group label, read through a quality handle without texts) embedded
 * by the CLIP text model of libprime-torch, in batches of 64. */
static prime_status embed_descriptions(const torch_api *tapi, const prime_tagstore *store,
                                       const prime_embeddings *img, const char *result_path,
                                       const char *text_model, const char *bpe,
                                       prime_embeddings **out)
{
    prime_quality *labels = NULL;
    prime_embedder *emb = NULL;
    float *vec = NULL;
    prime_status st = prime_quality_create(store, img, &labels);
    if (st == PRIME_OK)
        st = prime_quality_add_result_file(labels, result_path, NULL);
    if (st == PRIME_OK)
        st = tapi->embedder_create(NULL, text_model, bpe, NULL, &emb);
    uint64_t n = prime_quality_group_count(labels);
    uint32_t dim = prime_embedder_dimension(emb);
    if (st == PRIME_OK && (vec = malloc((n ? n : 1) * dim * sizeof *vec)) == NULL) {
        prime_clear_error();
        st = PRIME_E_NOMEM;
    }
    for (uint64_t first = 0; st == PRIME_OK && first < n; first += 64) {
        const char *texts[64];
        uint32_t m = n - first < 64 ? (uint32_t)(n - first) : 64;
        for (uint32_t k = 0; k < m; k++)
            texts[k] = prime_quality_group_label(labels, first + k);
        st = prime_embedder_embed_texts(emb, texts, m, vec + first * dim, (size_t)m * dim);
    }
    if (st == PRIME_OK)
        st = prime_embeddings_create(vec, n, dim, out);
    free(vec);
    prime_embedder_destroy(emb);
    prime_quality_destroy(labels);
    return st;
}

/* prime eval --quality --result R.json --tags FILE --image-embeddings E
 *            [--image-ids IDS] [--dim D]
 *            (--text-embeddings T | --text-model clip_text.pt --bpe BPE)
 *            [--format json|text] [--output FILE] */
static int cmd_eval_quality(int argc, char **argv)
{
    const char *result_path = NULL, *tags_path = NULL, *img_path = NULL, *ids_path = NULL,
               *text_path = NULL, *output = NULL, *text_model = NULL, *bpe = NULL;
    uint32_t dim = 0;
    int32_t format = 0;
    args a = {.argc = argc, .argv = argv, .i = 0};
    int r;
    while ((r = next_opt(&a)) != 0) {
        if (r < 0)
            return usage_error("unexpected argument '%s'", a.value);
        if (strcmp(a.name, "--quality") == 0 && a.value == NULL)
            continue;
        const char *name = a.name, *v = opt_value(&a);
        if (v == NULL)
            return usage_error("option %s needs a value", name);
        if (strcmp(name, "--result") == 0) {
            result_path = v;
        } else if (strcmp(name, "--tags") == 0) {
            tags_path = v;
        } else if (strcmp(name, "--image-embeddings") == 0) {
            img_path = v;
        } else if (strcmp(name, "--image-ids") == 0) {
            ids_path = v;
        } else if (strcmp(name, "--text-embeddings") == 0) {
            text_path = v;
        } else if (strcmp(name, "--output") == 0) {
            output = v;
        } else if (strcmp(name, "--dim") == 0) {
            uint64_t x;
            if (!parse_uint(v, 1, PRIME_EMBEDDINGS_MAX_DIM, &x))
                return usage_error("--dim must be an integer in 1..%u, not '%s'",
                                   (unsigned)PRIME_EMBEDDINGS_MAX_DIM, v);
            dim = (uint32_t)x;
        } else if (strcmp(name, "--text-model") == 0) {
            text_model = v;
        } else if (strcmp(name, "--bpe") == 0) {
            bpe = v;
        } else if (strcmp(name, "--format") == 0) {
            if (strcmp(v, "json") == 0)
                format = PRIME_FORMAT_JSON;
            else if (strcmp(v, "text") == 0)
                format = PRIME_FORMAT_TEXT;
            else
                return usage_error("--format must be json or text, not '%s'", v);
        } else {
            return usage_error("unknown option '%s' for eval --quality", name);
        }
    }
    if (result_path == NULL || tags_path == NULL || img_path == NULL)
        return usage_error("%s", "eval --quality needs --result R.json, --tags FILE and "
                                 "--image-embeddings FILE");
    if ((text_path == NULL) == (text_model == NULL))
        return usage_error("%s", "eval --quality needs --text-embeddings FILE (one row per "
                                 "mode) or --text-model clip_text.pt --bpe BPE, not both");
    if ((text_model != NULL) != (bpe != NULL))
        return usage_error("%s", text_model != NULL ? "--text-model needs --bpe BPE (CLIP's "
                                                      "bpe_simple_vocab_16e6.txt.gz)"
                                                    : "--bpe goes with --text-model");
    if (format == 0)
        format = (output == NULL && isatty(STDOUT_FILENO)) ? PRIME_FORMAT_TEXT
                                                           : PRIME_FORMAT_JSON;
    torch_api tapi;
    if (text_model != NULL && !torch_load(&tapi, "--text-model"))
        return EXIT_FAIL;
    prime_tagstore *store = NULL;
    prime_embeddings *img = NULL, *keyed = NULL, *txt = NULL;
    prime_quality *qh = NULL;
    int rc = 0;
    prime_status st = prime_tagstore_load(tags_path, &store, NULL);
    if (st == PRIME_OK)
        st = prime_embeddings_load(img_path, dim, ids_path != NULL ? &keyed : &img);
    if (st == PRIME_OK && ids_path != NULL)
        st = prime_embeddings_join(keyed, ids_path, store, &img);
    if (st == PRIME_OK && text_path != NULL)
        st = prime_embeddings_load(text_path, prime_embeddings_dim(img), &txt);
    if (st == PRIME_OK && text_model != NULL)
        st = embed_descriptions(&tapi, store, img, result_path, text_model, bpe, &txt);
    if (st == PRIME_OK)
        st = prime_quality_create(store, img, &qh);
    if (st == PRIME_OK)
        st = prime_quality_add_result_file(qh, result_path, txt);
    if (st == PRIME_OK)
        rc = emit((output_source){qh, render_quality, write_quality}, format, output);
    else
        rc = lib_error(st);
    prime_quality_destroy(qh);
    prime_embeddings_destroy(txt);
    prime_embeddings_destroy(keyed);
    prime_embeddings_destroy(img);
    prime_tagstore_destroy(store);
    return rc;
}

/* prime eval --result R.json --tags TEST [--outcomes TEST_OUT] [--fdr Q]
 *            [--hypotheses M] [--format json|text] [--output FILE]
 * (with --quality: cmd_eval_quality) */
static int cmd_eval(int argc, char **argv)
{
    for (int k = 0; k < argc; k++)
        if (strcmp(argv[k], "--quality") == 0)
            return cmd_eval_quality(argc, argv);
    const char *result_path = NULL, *tags_path = NULL, *outcomes_path = NULL, *output = NULL;
    double q = 0.0;
    uint64_t m = 0;
    int32_t format = 0;
    args a = {.argc = argc, .argv = argv, .i = 0};
    int r;
    while ((r = next_opt(&a)) != 0) {
        if (r < 0)
            return usage_error("unexpected argument '%s'", a.value);
        const char *name = a.name, *v = opt_value(&a);
        if (v == NULL)
            return usage_error("option %s needs a value", name);
        char *end = NULL;
        if (strcmp(name, "--result") == 0) {
            result_path = v;
        } else if (strcmp(name, "--tags") == 0) {
            tags_path = v;
        } else if (strcmp(name, "--outcomes") == 0) {
            outcomes_path = v;
        } else if (strcmp(name, "--output") == 0) {
            output = v;
        } else if (strcmp(name, "--fdr") == 0) {
            errno = 0;
            q = strtod(v, &end);
            if (errno != 0 || end == v || *end != '\0' || !(q > 0.0 && q <= 1.0))
                return usage_error("--fdr must be a number in (0, 1], not '%s'", v);
        } else if (strcmp(name, "--hypotheses") == 0) {
            if (!parse_uint(v, 1, UINT64_MAX, &m))
                return usage_error("--hypotheses must be a positive integer, not '%s'", v);
        } else if (strcmp(name, "--format") == 0) {
            if (strcmp(v, "json") == 0)
                format = PRIME_FORMAT_JSON;
            else if (strcmp(v, "text") == 0)
                format = PRIME_FORMAT_TEXT;
            else
                return usage_error("--format must be json or text, not '%s'", v);
        } else {
            return usage_error("unknown option '%s'", name);
        }
    }
    if (result_path == NULL || tags_path == NULL)
        return usage_error("%s", "eval needs --result R.json and --tags FILE");
    if (m > 0 && q == 0.0)
        return usage_error("%s", "--hypotheses needs --fdr Q");
    if (format == 0)
        format = (output == NULL && isatty(STDOUT_FILENO)) ? PRIME_FORMAT_TEXT
                                                           : PRIME_FORMAT_JSON;
    prime_tagstore *store = NULL;
    prime_outcomes *in_file = NULL, *outcomes = NULL;
    prime_eval *ev = NULL;
    int rc = 0;
    prime_status st = prime_tagstore_load(tags_path, &store, outcomes_path ? NULL : &in_file);
    if (st != PRIME_OK)
        goto fail;
    if (outcomes_path != NULL) {
        st = prime_outcomes_load(outcomes_path, store, &outcomes);
        if (st != PRIME_OK)
            goto fail;
    } else if (in_file != NULL) {
        outcomes = in_file;
        in_file = NULL;
    } else {
        fprintf(stderr,
                "%s: %s has no outcomes (no correct or score column): give --outcomes FILE\n",
                prog, tags_path);
        rc = EXIT_FAIL;
        goto done;
    }
    st = prime_eval_load(result_path, store, outcomes, &ev);
    if (st != PRIME_OK)
        goto fail;
    if (q > 0.0 && (st = prime_eval_set_fdr(ev, q, m)) != PRIME_OK)
        goto fail;
    rc = emit((output_source){ev, render_eval, write_eval}, format, output);
    goto done;
fail:
    rc = lib_error(st);
done:
    prime_eval_destroy(ev);
    prime_outcomes_destroy(in_file);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return rc;
}

/* ---- report ------------------------------------------------------------------ */

/* prime report --result R.json --tags FILE [--outcomes FILE] --images DIR
 *              [--per-mode N] [--seed S] --output report.html */
static int cmd_report(int argc, char **argv)
{
    const char *result_path = NULL, *tags_path = NULL, *outcomes_path = NULL;
    const char *images = NULL, *output = NULL;
    uint32_t per_mode = REPORT_DEFAULT_PER_MODE;
    uint64_t seed = 0;
    args a = {.argc = argc, .argv = argv, .i = 0};
    int r;
    while ((r = next_opt(&a)) != 0) {
        if (r < 0)
            return usage_error("unexpected argument '%s'", a.value);
        const char *name = a.name, *v = opt_value(&a);
        if (v == NULL)
            return usage_error("option %s needs a value", name);
        if (strcmp(name, "--result") == 0) {
            result_path = v;
        } else if (strcmp(name, "--tags") == 0) {
            tags_path = v;
        } else if (strcmp(name, "--outcomes") == 0) {
            outcomes_path = v;
        } else if (strcmp(name, "--images") == 0) {
            images = v;
        } else if (strcmp(name, "--output") == 0) {
            output = v;
        } else if (strcmp(name, "--per-mode") == 0) {
            uint64_t x;
            if (!parse_uint(v, 0, 10000, &x))
                return usage_error("--per-mode must be an integer in 0..10000, not '%s'", v);
            per_mode = (uint32_t)x;
        } else if (strcmp(name, "--seed") == 0) {
            if (!parse_uint(v, 0, UINT64_MAX, &seed))
                return usage_error("--seed must be a non-negative integer, not '%s'", v);
        } else {
            return usage_error("unknown option '%s'", name);
        }
    }
    if (result_path == NULL || tags_path == NULL || images == NULL || output == NULL)
        return usage_error("%s", "report needs --result R.json, --tags FILE, --images DIR "
                                 "and --output report.html");
    prime_tagstore *store = NULL;
    prime_outcomes *in_file = NULL, *outcomes = NULL;
    int rc = 0;
    prime_status st = prime_tagstore_load(tags_path, &store, outcomes_path ? NULL : &in_file);
    if (st != PRIME_OK)
        goto fail;
    if (outcomes_path != NULL) {
        st = prime_outcomes_load(outcomes_path, store, &outcomes);
        if (st != PRIME_OK)
            goto fail;
    } else if (in_file != NULL) {
        outcomes = in_file;
        in_file = NULL;
    } else {
        fprintf(stderr,
                "%s: %s has no outcomes (no correct or score column): give --outcomes FILE\n",
                prog, tags_path);
        rc = EXIT_FAIL;
        goto done;
    }
    rc = report_write_html(prog, result_path, tags_path, store, outcomes, images, per_mode,
                           seed, output) == 0 ? 0 : EXIT_FAIL;
    goto done;
fail:
    rc = lib_error(st);
done:
    prime_outcomes_destroy(in_file);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return rc;
}

/* ---- tag --------------------------------------------------------------------- */

/* Helpers of tag and classify: the image files, their labels, the CSVs. */

typedef struct {
    char **v;
    size_t n, cap;
} strvec;

static int strvec_push(strvec *s, char *x)
{
    if (x == NULL)
        return 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 64;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (nv == NULL) {
            free(x);
            return 0;
        }
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = x;
    return 1;
}

static void strvec_free(strvec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static char *join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, a, la);
    size_t k = la;
    if (la > 0 && a[la - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, b, lb + 1);
    return p;
}

static int has_image_ext(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp", ".tga", ".gif"};
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return 0;
    for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++)
        if (strcasecmp(dot, exts[k]) == 0)
            return 1;
    return 0;
}

/* Collect image files under root/rel (rel = "" at the top), names relative
 * to root. Hidden entries are skipped. */
static int walk_images(const char *root, const char *rel, strvec *out)
{
    char *dir = rel[0] ? join_path(root, rel) : strdup(root);
    if (dir == NULL)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, dir, strerror(errno));
        free(dir);
        return 0;
    }
    int ok = 1;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *r = rel[0] ? join_path(rel, e->d_name) : strdup(e->d_name);
        char *full = r ? join_path(root, r) : NULL;
        struct stat st;
        if (r == NULL || full == NULL) {
            ok = 0;
        } else if (stat(full, &st) != 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, full, strerror(errno));
            ok = 0;
        } else if (S_ISDIR(st.st_mode)) {
            ok = walk_images(root, r, out);
        } else if (S_ISREG(st.st_mode) && has_image_ext(e->d_name)) {
            ok = strvec_push(out, r);
            r = NULL;
        }
        free(r);
        free(full);
    }
    closedir(d);
    free(dir);
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split one CSV line (no embedded newlines) into fields, RFC 4180 quoting;
 * fields point into line, which is rewritten. Returns the count or -1. */
static int csv_split(char *line, char **fields, int cap)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == cap)
            return -1;
        if (*p == '"') {
            char *w = ++p;
            fields[n++] = w;
            for (;;) {
                if (*p == '\0')
                    return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            *w = '\0';
            if (*p != ',' && *p != '\0')
                return -1;
        } else {
            fields[n++] = p;
            while (*p != ',' && *p != '\0')
                p++;
        }
        if (*p == '\0')
            return n;
        *p++ = '\0';
    }
}

/* Load labels (image -> label) from a CSV with columns image and label. */
static int load_labels(const char *path, strvec *images, strvec *labels)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, path, strerror(errno));
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int ci = -1, cl = -1, ncol = 0, ok = 1;
    char *fields[256];
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        int n = csv_split(line, fields, 256);
        if (n < 0) {
            fprintf(stderr, "%s: %s:%ld: malformed CSV line\n", prog, path, lineno);
            ok = 0;
        } else if (ci < 0) {
            ncol = n;
            for (int k = 0; k < n; k++) {
                const char *h = fields[k];
                if (lineno == 1 && strncmp(h, "\xEF\xBB\xBF", 3) == 0)
                    h += 3;
                if (strcmp(h, "image") == 0)
                    ci = k;
                else if (strcmp(h, "label") == 0)
                    cl = k;
            }
            if (ci < 0 || cl < 0) {
                fprintf(stderr, "%s: %s:%ld: missing column \"%s\"\n", prog, path, lineno,
                        ci < 0 ? "image" : "label");
                ok = 0;
            }
        } else if (n != ncol) {
            fprintf(stderr, "%s: %s:%ld: expected %d fields, found %d\n", prog, path, lineno,
                    ncol, n);
            ok = 0;
        } else if (fields[cl][0] == '\0') {
            fprintf(stderr, "%s: %s:%ld: empty label\n", prog, path, lineno);
            ok = 0;
        } else {
            ok = strvec_push(images, strdup(fields[ci])) && strvec_push(labels, strdup(fields[cl]));
        }
    }
    if (ok && ci < 0) {
        fprintf(stderr, "%s: %s:1: empty file\n", prog, path);
        ok = 0;
    }
    free(line);
    fclose(f);
    return ok;
}

static void on_tag_file_error(void *user, uint32_t index, prime_status st, const char *message)
{
    (void)index;
    progress_state *p = user;
    if (p->shown) {
        fprintf(stderr, "\r%*s\r", 70, "");
        p->shown = 0;
    }
    fprintf(stderr, "%s: %s (%s)\n", prog, message, prime_status_name(st));
}

static int32_t on_tag_progress(void *user, uint64_t done, uint64_t total)
{
    progress_state *p = user;
    if (!p->enabled)
        return 0;
    p->shown = 1;
    fprintf(stderr, "\r%s %llu/%llu images  %.1fs", p->verb != NULL ? p->verb : "tagging",
            (unsigned long long)done,
            (unsigned long long)total, elapsed(&p->start));
    fflush(stderr);
    return 0;
}

/* The image files of --images (a folder, walked recursively and sorted, or
 * a list), their names (relative to the folder, or as the list gives them)
 * and classes (--labels, else the parent folder's name). Prints the
 * problem and returns 0 on failure. */
static int collect_images(const char *images, const char *labels_path, strvec *paths,
                          strvec *names, strvec *classes)
{
    strvec lab_img = {0}, lab_val = {0};
    int ok = 1;
    struct stat st_in;
    if (stat(images, &st_in) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, images, strerror(errno));
        return 0;
    }
    if (S_ISDIR(st_in.st_mode)) {
        ok = walk_images(images, "", names);
        if (ok && names->n > 1)
            qsort(names->v, names->n, sizeof *names->v, cmp_str);
        for (size_t i = 0; ok && i < names->n; i++)
            ok = strvec_push(paths, join_path(images, names->v[i]));
    } else {
        /* a list: one path per line; relative paths are relative to the
           list's folder; blank lines and lines starting with # are skipped */
        FILE *f = fopen(images, "rb");
        if (f == NULL) {
            fprintf(stderr, "%s: %s: cannot open: %s\n", prog, images, strerror(errno));
            return 0;
        }
        char *base = strdup(images), *slash = base ? strrchr(base, '/') : NULL;
        if (base == NULL) {
            fclose(f);
            return 0;
        }
        if (slash != NULL)
            slash[1] = '\0';
        else
            base[0] = '\0';
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while (ok && (len = getline(&line, &cap, f)) >= 0) {
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
            if (len == 0 || line[0] == '#')
                continue;
            ok = strvec_push(names, strdup(line)) &&
                 strvec_push(paths, line[0] == '/' || base[0] == '\0'
                                        ? strdup(line) : join_path(base, line));
        }
        free(line);
        free(base);
        fclose(f);
    }
    if (!ok)
        return 0;
    if (names->n == 0) {
        fprintf(stderr, "%s: %s: no images (JPEG, PNG, BMP, TGA, GIF) found\n", prog, images);
        return 0;
    }
    if (names->n > UINT32_MAX - 1) {
        fprintf(stderr, "%s: too many images\n", prog);
        return 0;
    }
    if (labels_path != NULL && !load_labels(labels_path, &lab_img, &lab_val))
        ok = 0;
    for (size_t i = 0; ok && i < names->n; i++) {
        const char *cls = NULL;
        if (labels_path != NULL) {
            for (size_t k = 0; k < lab_img.n && cls == NULL; k++) /* small files: linear */
                if (strcmp(lab_img.v[k], names->v[i]) == 0)
                    cls = lab_val.v[k];
            if (cls == NULL) {
                fprintf(stderr, "%s: %s: image %s has no label\n", prog, labels_path,
                        names->v[i]);
                ok = 0;
            } else {
                ok = strvec_push(classes, strdup(cls));
            }
            continue;
        }
        /* the parent folder's name */
        char *p = strdup(paths->v[i]);
        if (p == NULL) {
            ok = 0;
            break;
        }
        char *s = strrchr(p, '/');
        if (s != NULL)
            *s = '\0';
        while ((s = strrchr(p, '/')) != NULL && s[1] == '\0')
            *s = '\0';
        const char *folder = s != NULL ? s + 1 : (strrchr(paths->v[i], '/') ? p : ".");
        char cwd[4096];
        if (folder[0] == '\0' || strcmp(folder, ".") == 0 || strcmp(folder, "..") == 0) {
            folder = getcwd(cwd, sizeof cwd) && strrchr(cwd, '/') ? strrchr(cwd, '/') + 1 : "";
            if (folder[0] == '\0') {
                fprintf(stderr, "%s: %s: no parent folder to take a class from; give "
                                "--labels\n", prog, paths->v[i]);
                free(p);
                ok = 0;
                break;
            }
        }
        ok = strvec_push(classes, strdup(folder));
        free(p);
    }
    strvec_free(&lab_img);
    strvec_free(&lab_val);
    return ok;
}

/* Write `text` (len bytes) to path through a temporary file and a rename. */
static int write_atomic(const char *path, const char *text, size_t len)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 8);
    if (tmp == NULL)
        return 0;
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    int ok = f != NULL;
    if (ok) {
        ok = fwrite(text, 1, len, f) == len;
        ok = (fclose(f) == 0) && ok;
        ok = ok && rename(tmp, path) == 0;
        if (!ok)
            remove(tmp);
    }
    if (!ok)
        fprintf(stderr, "%s: %s: cannot write: %s\n", prog, path, strerror(errno));
    free(tmp);
    return ok;
}

/* A growable text for the CSV outputs. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} text_buf;

static void tb_put(text_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *ns = realloc(b->s, nc);
        if (ns == NULL) {
            b->failed = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void tb_puts(text_buf *b, const char *s)
{
    tb_put(b, s, strlen(s));
}

static void tb_csv(text_buf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        tb_puts(b, s);
        return;
    }
    tb_put(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            tb_put(b, "\"", 1);
        tb_put(b, s, 1);
    }
    tb_put(b, "\"", 1);
}

/* Decode, score and add every image to a new store with the tagger;
 * prints what goes wrong. Returns the store or NULL. */
static prime_tagstore *tag_all(prime_tagger *tagger, const strvec *paths, const strvec *names,
                               const strvec *classes, uint32_t threads, uint32_t batch,
                               const char *verb)
{
    prime_tagstore *store = NULL;
    prime_status st = prime_tagstore_create(&store);
    /* tag ids in vocabulary order, so that each row lists its tags in it */
    for (uint32_t k = 0; st == PRIME_OK && k < prime_tagger_tag_count(tagger); k++) {
        uint32_t id = 0;
        st = prime_tagstore_intern_tag(store, prime_tagger_tag_name(tagger, k), &id);
    }
    if (st != PRIME_OK) {
        lib_error(st);
        prime_tagstore_destroy(store);
        return NULL;
    }
    progress_state ps = {.enabled = isatty(STDERR_FILENO), .verb = verb};
    clock_gettime(CLOCK_MONOTONIC, &ps.start);
    uint32_t failed = 0;
    prime_files_options fo = PRIME_FILES_OPTIONS_INIT;
    fo.threads = threads;
    fo.batch = batch;
    fo.image_names = (const char *const *)names->v;
    fo.on_error = on_tag_file_error;
    fo.progress = on_tag_progress;
    fo.user_data = &ps;
    st = prime_tagger_tag_files(tagger, (const char *const *)paths->v,
                                (const char *const *)classes->v, (uint32_t)names->n, &fo, store,
                                &failed);
    if (ps.shown)
        fprintf(stderr, "\n");
    if (failed > 0) {
        fprintf(stderr, "%s: %u of %zu images could not be read; nothing written\n", prog,
                failed, names->n);
    } else if (st != PRIME_OK) {
        lib_error(st);
        fprintf(stderr, "%s: %s stopped; nothing written\n", prog, verb);
    } else {
        return store;
    }
    prime_tagstore_destroy(store);
    return NULL;
}

/* The tags CSV of docs/formats.md (image,class,tags), atomically. */
static int write_tags_csv(const prime_tagstore *store, const char *output)
{
    text_buf b = {0};
    tb_puts(&b, "image,class,tags\n");
    uint32_t ni = prime_tagstore_image_count(store), nt = prime_tagstore_tag_count(store);
    uint32_t *ids = malloc(((size_t)nt + 1) * sizeof *ids);
    text_buf field = {0};
    if (ids == NULL)
        b.failed = 1;
    for (uint32_t i = 0; i < ni && !b.failed; i++) {
        uint32_t n = 0;
        tb_csv(&b, prime_tagstore_image_name(store, i));
        tb_puts(&b, ",");
        tb_csv(&b, prime_tagstore_class_name(store, prime_tagstore_image_class(store, i)));
        tb_puts(&b, ",");
        if (prime_tagstore_image_tags(store, i, ids, nt + 1, &n) != PRIME_OK)
            n = 0;
        /* tags joined by '|': build the field, then quote it as a whole */
        field.len = 0;
        tb_puts(&field, "");
        for (uint32_t k = 0; k < n; k++) {
            if (k > 0)
                tb_puts(&field, "|");
            tb_puts(&field, prime_tagstore_tag_name(store, ids[k]));
        }
        b.failed |= field.failed;
        if (!b.failed)
            tb_csv(&b, field.s);
        tb_puts(&b, "\n");
    }
    free(ids);
    free(field.s);
    int ok = !b.failed;
    if (!ok)
        fprintf(stderr, "%s: out of memory\n", prog);
    else
        ok = write_atomic(output, b.s, b.len);
    free(b.s);
    return ok;
}

/* Options of tag and classify. */
typedef struct {
    const char *images, *backend, *labels, *output, *thresholds, *model, *vocab, *scores,
        *image_model, *text_model, *bpe, *prompt, *classes, *shard, *tags, *outcomes_format,
        *device, *dtype, *rule;
    double threshold;
    uint32_t threads, batch, top_k;
    int have_threads;
    spec_opts spec;
} tag_opts;

/* Parse the options of tag (classify = 0) or classify (1). Returns 0 or
 * the exit status of a usage error. */
static int parse_tag_opts(int argc, char **argv, int classify, tag_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threshold = NAN;
    args a = {.argc = argc, .argv = argv, .i = 0};
    int r, rc;
    while ((r = next_opt(&a)) != 0) {
        if (r < 0)
            return usage_error("unexpected argument '%s'", a.value);
        const char *name = a.name, *v = opt_value(&a);
        if (v == NULL)
            return usage_error("option %s needs a value", name);
        char *end = NULL;
        /* options of both commands */
        const char **str = strcmp(name, "--images") == 0   ? &o->images
                           : strcmp(name, "--labels") == 0 ? &o->labels
                           : strcmp(name, "--output") == 0 ? &o->output
                           : strcmp(name, "--model") == 0  ? &o->model
                           : strcmp(name, "--device") == 0 ? &o->device
                           : strcmp(name, "--dtype") == 0  ? &o->dtype
                                                           : NULL;
        /* options of one of them */
        if (str == NULL && !classify)
            str = strcmp(name, "--backend") == 0       ? &o->backend
                  : strcmp(name, "--thresholds") == 0  ? &o->thresholds
                  : strcmp(name, "--vocab") == 0       ? &o->vocab
                  : strcmp(name, "--scores") == 0      ? &o->scores
                  : strcmp(name, "--image-model") == 0 ? &o->image_model
                  : strcmp(name, "--text-model") == 0  ? &o->text_model
                  : strcmp(name, "--bpe") == 0         ? &o->bpe
                  : strcmp(name, "--prompt") == 0      ? &o->prompt
                  : strcmp(name, "--shard") == 0       ? &o->shard
                  : strcmp(name, "--rule") == 0        ? &o->rule
                                                       : NULL;
        if (str == NULL && classify && strcmp(name, "--classes") == 0)
            str = &o->classes;
        if (str == NULL && classify && strcmp(name, "--tags") == 0)
            str = &o->tags;
        if (str == NULL && classify && strcmp(name, "--outcomes-format") == 0)
            str = &o->outcomes_format;
        if (str != NULL) {
            *str = v;
        } else if (spec_option(&o->spec, name, v, &rc)) {
            if (rc != 0)
                return rc;
        } else if (!classify && strcmp(name, "--threshold") == 0) {
            errno = 0;
            o->threshold = strtod(v, &end);
            if (errno != 0 || end == v || *end != '\0' || isnan(o->threshold))
                return usage_error("--threshold must be a number, not '%s'", v);
        } else if (strcmp(name, "--threads") == 0 || strcmp(name, "--batch") == 0 ||
                   (!classify && strcmp(name, "--top-k") == 0)) {
            uint64_t x;
            if (!parse_uint(v, 0, strcmp(name, "--threads") == 0 ? 1024 : 1000000, &x))
                return usage_error("%s must be a count, not '%s'", name, v);
            if (strcmp(name, "--threads") == 0) {
                o->threads = (uint32_t)x;
                o->have_threads = 1;
            } else if (strcmp(name, "--batch") == 0) {
                o->batch = (uint32_t)x;
            } else {
                o->top_k = (uint32_t)x;
            }
        } else {
            return usage_error("unknown option '%s'%s", name, classify ? " for classify" : "");
        }
    }
    return 0;
}

/* The options a backend takes beyond the common ones; a given option that
 * the backend does not take is a usage error. */
static int check_backend_opts(const tag_opts *o)
{
    const struct {
        const char *name;
        int given;
        const char *backends; /* those that take it */
    } opts[] = {
        {"--model", o->model != NULL, "torch"},
        {"--vocab", o->vocab != NULL, "torch zeroshot"},
        {"--scores", o->scores != NULL, "torch"},
        {"--image-model", o->image_model != NULL, "zeroshot"},
        {"--text-model", o->text_model != NULL, "zeroshot"},
        {"--bpe", o->bpe != NULL, "zeroshot"},
        {"--prompt", o->prompt != NULL, "zeroshot"},
        {"--device", o->device != NULL, "torch"},
        {"--dtype", o->dtype != NULL, "torch"},
        {"--size", o->spec.size != 0, "torch zeroshot"},
        {"--resize", o->spec.resize != 0, "torch zeroshot"},
        {"--mean", o->spec.have_mean, "torch zeroshot"},
        {"--std", o->spec.have_std, "torch zeroshot"},
    };
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        if (!opts[k].given)
            continue;
        const char *p = strstr(opts[k].backends, o->backend);
        size_t l = strlen(o->backend);
        if (p == NULL || (p[l] != '\0' && p[l] != ' '))
            return usage_error("%s does not apply to backend '%s'", opts[k].name, o->backend);
    }
    const char *need = NULL;
    if (strcmp(o->backend, "torch") == 0 && (o->model == NULL || o->vocab == NULL))
        need = "backend 'torch' needs --model M.pt and --vocab V.txt";
    if (strcmp(o->backend, "zeroshot") == 0 &&
        (o->image_model == NULL || o->text_model == NULL || o->bpe == NULL || o->vocab == NULL))
        need = "backend 'zeroshot' needs --image-model, --text-model, --bpe and --vocab";
    if (need != NULL)
        return usage_error("%s", need);
    if (o->dtype != NULL && strcmp(o->dtype, "float32") != 0 && strcmp(o->dtype, "float16") != 0 &&
        strcmp(o->dtype, "bfloat16") != 0)
        return usage_error("--dtype must be float32, float16 or bfloat16, not '%s'", o->dtype);
    if (o->scores != NULL && strcmp(o->scores, "logits") != 0 &&
        strcmp(o->scores, "probabilities") != 0)
        return usage_error("--scores must be logits or probabilities, not '%s'", o->scores);
    if (o->rule != NULL && strcmp(o->rule, "above") != 0 && strcmp(o->rule, "at-least") != 0)
        return usage_error("--rule must be above or at-least, not '%s'", o->rule);
    return 0;
}

/* The tagger of --backend; prints the problem and returns NULL on failure. */
static prime_tagger *make_tagger(const tag_opts *o)
{
    prime_tagger *tagger = NULL;
    prime_status st = PRIME_OK;
    if (strcmp(o->backend, "properties") == 0) {
        st = prime_properties_tagger_create(&tagger);
    } else {
        char who[64];
        snprintf(who, sizeof who, "backend '%s'", o->backend);
        torch_api tapi;
        if (!torch_load(&tapi, who))
            return NULL;
        if ((o->have_threads && (st = tapi.set_threads(o->threads)) != PRIME_OK) ||
            (st = torch_check_batch(&tapi, o->batch)) != PRIME_OK) {
            lib_error(st);
            return NULL;
        }
        prime_image_spec *spec = NULL;
        int torch = strcmp(o->backend, "torch") == 0;
        st = make_spec(&o->spec, torch ? PRIME_IMAGE_PRESET_RAM : PRIME_IMAGE_PRESET_CLIP, &spec);
        if (st == PRIME_OK && torch) {
            int32_t scores = o->scores != NULL && strcmp(o->scores, "probabilities") == 0
                                 ? PRIME_TORCH_SCORES_PROBABILITIES
                                 : PRIME_TORCH_SCORES_LOGITS;
            if (o->device == NULL && o->dtype == NULL) {
                st = tapi.tagger_create(o->model, o->vocab, scores, spec, &tagger);
            } else if (tapi.tagger_create_with == NULL) {
                fprintf(stderr, "%s: this libprime-torch has no --device/--dtype (too old)\n",
                        prog);
                prime_image_spec_destroy(spec);
                return NULL;
            } else {
                prime_torch_options topt;
                memset(&topt, 0, sizeof topt);
                topt.struct_size = sizeof topt;
                topt.device = o->device;
                topt.dtype = o->dtype != NULL ? torch_dtype(o->dtype) : PRIME_TORCH_FLOAT32;
                st = tapi.tagger_create_with(o->model, o->vocab, scores, spec, &topt, &tagger);
            }
        } else if (st == PRIME_OK) {
            char **tags = NULL;
            uint32_t n = 0;
            if (!read_lines(o->vocab, &tags, &n)) {
                prime_image_spec_destroy(spec);
                return NULL;
            }
            prime_embedder *emb = NULL;
            st = tapi.embedder_create(o->image_model, o->text_model, o->bpe, spec, &emb);
            if (st == PRIME_OK) {
                st = prime_zeroshot_tagger_create(emb, (const char *const *)tags, n, o->prompt,
                                                  &tagger);
                if (st != PRIME_OK) /* not taken on failure */
                    prime_embedder_destroy(emb);
            }
            free_lines(tags, n);
        }
        prime_image_spec_destroy(spec);
    }
    if (st == PRIME_OK && o->thresholds != NULL)
        st = prime_tagger_load_thresholds(tagger, o->thresholds);
    if (st == PRIME_OK && !isnan(o->threshold))
        st = prime_tagger_set_threshold(tagger, o->threshold);
    if (st == PRIME_OK && o->top_k > 0)
        st = prime_tagger_set_top_k(tagger, o->top_k);
    if (st == PRIME_OK && o->rule != NULL)
        st = prime_tagger_set_rule(tagger, strcmp(o->rule, "above") == 0
                                               ? PRIME_TAGGER_RULE_ABOVE
                                               : PRIME_TAGGER_RULE_AT_LEAST);
    if (st != PRIME_OK) {
        lib_error(st);
        prime_tagger_destroy(tagger);
        return NULL;
    }
    return tagger;
}

/* prime tag --images DIR|LIST --backend properties|torch|zeroshot [--labels L.csv]
 *           [--thresholds T | --threshold X] [--top-k K] [--threads N]
 *           [--batch B] --output tags.csv, and the backend's options
 * Tags every image with a backend and writes the tags CSV of docs/formats.md
 * (image,class,tags). Classes come from --labels (columns image,label) or
 * from the image's parent folder name. A bad image file is reported by
 * name; then the exit status is 1 and no output is written. */
static int cmd_tag(int argc, char **argv)
{
    tag_opts o;
    int rc = parse_tag_opts(argc, argv, 0, &o);
    if (rc != 0)
        return rc;
    if (o.images == NULL || o.output == NULL || o.backend == NULL)
        return usage_error("%s", "tag needs --images DIR|LIST, --backend "
                                 "properties|torch|zeroshot and --output FILE");
    if (o.thresholds != NULL && !isnan(o.threshold))
        return usage_error("%s", "give --thresholds or --threshold, not both");
    if (strcmp(o.backend, "properties") != 0 && strcmp(o.backend, "torch") != 0 &&
        strcmp(o.backend, "zeroshot") != 0)
        return usage_error("unknown backend '%s' (properties, torch or zeroshot)", o.backend);
    if ((rc = check_backend_opts(&o)) != 0)
        return rc;

    /* a sharded-store folder (NAME.prmd) takes one shard: --shard I/N or
       the scheduler's environment (tools/prime_scale.c) */
    int sharded = scale_is_sharded_output(o.output);
    if (o.shard != NULL && !sharded)
        return usage_error("%s", "--shard needs --output NAME.prmd (a sharded-store folder)");

    strvec paths = {0}, names = {0}, classes = {0};
    prime_tagger *tagger = NULL;
    prime_tagstore *store = NULL;
    scale_shard shard;
    rc = EXIT_FAIL;
    if (collect_images(o.images, o.labels, &paths, &names, &classes) &&
        (!sharded || scale_resolve_shard(prog, o.shard, (const char *const *)names.v, names.n,
                                         &shard)) &&
        (tagger = make_tagger(&o)) != NULL) {
        /* the shard's contiguous part of the list, or all of it */
        size_t first = sharded ? (size_t)shard.first : 0;
        size_t count = sharded ? (size_t)(shard.end - shard.first) : names.n;
        strvec p = {paths.v + first, count, count}, n = {names.v + first, count, count},
               c = {classes.v + first, count, count};
        store = tag_all(tagger, &p, &n, &c, o.threads, o.batch, "tagging");
        if (store != NULL &&
            (sharded || scale_is_store_output(o.output)
                 ? scale_write_store(prog, store, o.output, sharded ? &shard : NULL)
                 : write_tags_csv(store, o.output)))
            rc = 0;
    }
    prime_tagstore_destroy(store);
    prime_tagger_destroy(tagger);
    strvec_free(&paths);
    strvec_free(&names);
    strvec_free(&classes);
    return rc;
}

/* ---- classify ------------------------------------------------------------------ */

/* A classifier seen as a tagger whose vocabulary is its classes: with
 * threshold -inf and top-k 1 every image gets exactly one tag, the
 * predicted class (the highest score, ties to the lower index, as
 * prime_classifier_classify). So classify gets tag_files' parallel
 * decoding, batches, progress and per-file errors. */
static void ca_destroy(void *self)
{
    prime_classifier_destroy(self);
}

static uint32_t ca_count(void *self)
{
    return prime_classifier_class_count(self);
}

static const char *ca_name(void *self, uint32_t i)
{
    return prime_classifier_class_name(self, i);
}

static prime_status ca_score(void *self, const prime_image *const *images, uint32_t n,
                             float *scores)
{
    return prime_classifier_classify(self, images, n, scores,
                                     (size_t)n * prime_classifier_class_count(self), NULL);
}

/* The outcomes CSV: image,label,prediction,correct (docs/formats.md). */
static int write_outcomes(const prime_tagstore *store, const char *output)
{
    text_buf b = {0};
    tb_puts(&b, "image,label,prediction,correct\n");
    uint32_t ni = prime_tagstore_image_count(store);
    for (uint32_t i = 0; i < ni && !b.failed; i++) {
        uint32_t id = 0, n = 0;
        if (prime_tagstore_image_tags(store, i, &id, 1, &n) != PRIME_OK || n != 1) {
            fprintf(stderr, "%s: image %u has no prediction\n", prog, i);
            free(b.s);
            return 0;
        }
        const char *label = prime_tagstore_class_name(store, prime_tagstore_image_class(store, i));
        const char *pred = prime_tagstore_tag_name(store, id);
        tb_csv(&b, prime_tagstore_image_name(store, i));
        tb_puts(&b, ",");
        tb_csv(&b, label);
        tb_puts(&b, ",");
        tb_csv(&b, pred);
        tb_puts(&b, strcmp(label, pred) == 0 ? ",1\n" : ",0\n");
    }
    int ok = !b.failed;
    if (!ok)
        fprintf(stderr, "%s: out of memory\n", prog);
    else
        ok = write_atomic(output, b.s, b.len);
    free(b.s);
    return ok;
}

/* prime classify --model M.pt --images DIR|LIST [--labels L.csv] [--classes C.txt]
 *                [--size N] [--resize S] [--mean R,G,B] [--std R,G,B]
 *                [--threads N] [--batch B] --output outcomes.csv */
static int cmd_classify(int argc, char **argv)
{
    tag_opts o;
    int rc = parse_tag_opts(argc, argv, 1, &o);
    if (rc != 0)
        return rc;
    if (o.model == NULL || o.images == NULL || o.output == NULL)
        return usage_error("%s", "classify needs --model M.pt, --images DIR|LIST and "
                                 "--output FILE");
    int32_t okind = -1;
    if (o.outcomes_format != NULL && !scale_outcomes_kind(o.outcomes_format, &okind))
        return usage_error("--outcomes-format must be csv, binary, bits, fixed or f64, not '%s'",
                           o.outcomes_format);
    if (o.dtype != NULL && torch_dtype(o.dtype) < 0)
        return usage_error("--dtype must be float32, float16 or bfloat16, not '%s'", o.dtype);
    if ((okind >= 0) != (o.tags != NULL))
        return usage_error("%s", "binary outcomes are bound to a store: give --tags STORE "
                                 "with --outcomes-format binary|bits|fixed|f64");
    torch_api tapi;
    if (!torch_load(&tapi, "classify"))
        return EXIT_FAIL;
    strvec paths = {0}, names = {0}, classes = {0};
    prime_classifier *cls = NULL;
    prime_tagger *tagger = NULL;
    prime_tagstore *store = NULL;
    prime_image_spec *spec = NULL;
    rc = EXIT_FAIL;
    if (!collect_images(o.images, o.labels, &paths, &names, &classes))
        goto done;
    prime_status st = PRIME_OK;
    if (o.have_threads)
        st = tapi.set_threads(o.threads);
    if (st == PRIME_OK)
        st = torch_check_batch(&tapi, o.batch);
    if (st == PRIME_OK)
        st = make_spec(&o.spec, PRIME_IMAGE_PRESET_IMAGENET, &spec);
    if (st == PRIME_OK && o.device == NULL && o.dtype == NULL) {
        st = tapi.classifier_create(o.model, o.classes, spec, &cls);
    } else if (st == PRIME_OK && tapi.classifier_create_with == NULL) {
        fprintf(stderr, "%s: this libprime-torch has no --device/--dtype (too old)\n", prog);
        goto done;
    } else if (st == PRIME_OK) {
        prime_torch_options topt;
        memset(&topt, 0, sizeof topt);
        topt.struct_size = sizeof topt;
        topt.device = o.device;
        topt.dtype = o.dtype != NULL ? torch_dtype(o.dtype) : PRIME_TORCH_FLOAT32;
        st = tapi.classifier_create_with(o.model, o.classes, spec, &topt, &cls);
    }
    if (st == PRIME_OK) {
        prime_tagger_backend b;
        memset(&b, 0, sizeof b);
        b.abi_version = PRIME_BACKEND_ABI_VERSION;
        b.struct_size = sizeof b;
        b.self = cls;
        b.name = "classifier";
        b.destroy = ca_destroy;
        b.tag_count = ca_count;
        b.tag_name = ca_name;
        b.score = ca_score;
        st = prime_tagger_create_from(&b, &tagger);
        if (st == PRIME_OK)
            cls = NULL; /* the tagger owns it */
    }
    if (st == PRIME_OK)
        st = prime_tagger_set_threshold(tagger, -INFINITY);
    if (st == PRIME_OK)
        st = prime_tagger_set_top_k(tagger, 1);
    if (st != PRIME_OK) {
        lib_error(st);
        goto done;
    }
    store = tag_all(tagger, &paths, &names, &classes, o.threads, o.batch, "classifying");
    if (store != NULL && (okind >= 0 ? scale_classify_outcomes(prog, store, o.tags, okind,
                                                                o.output)
                                      : write_outcomes(store, o.output)))
        rc = 0;
done:
    prime_image_spec_destroy(spec);
    prime_tagstore_destroy(store);
    prime_tagger_destroy(tagger);
    prime_classifier_destroy(cls);
    strvec_free(&paths);
    strvec_free(&names);
    strvec_free(&classes);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "a command is needed: search, convert or info");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        fputs(scale_usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("prime %s (libprime %s)\n", PRIME_VERSION_STRING, prime_version());
        return 0;
    }
    for (int k = 2; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            fputs(usage_text, stdout);
        fputs(scale_usage_text, stdout);
            return 0;
        }
    if (strcmp(cmd, "search") == 0)
        return cmd_search(argc - 2, argv + 2);
    if (strcmp(cmd, "convert") == 0)
        return cmd_convert(argc - 2, argv + 2);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc - 2, argv + 2);
    if (strcmp(cmd, "eval") == 0)
        return cmd_eval(argc - 2, argv + 2);
    if (strcmp(cmd, "tokenize") == 0)
        return cmd_tokenize(argc - 2, argv + 2);
    if (strcmp(cmd, "tag") == 0)
        return cmd_tag(argc - 2, argv + 2);
    if (strcmp(cmd, "classify") == 0)
        return cmd_classify(argc - 2, argv + 2);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 2, argv + 2);
    if (strcmp(cmd, "merge") == 0)
        return scale_cmd_merge(prog, argc - 2, argv + 2);
    return usage_error("unknown command '%s'", cmd);
}
