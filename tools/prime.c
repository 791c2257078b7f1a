/* prime: the command-line face of libprime.
 *
 *   prime search --tags FILE [--outcomes FILE] [--max-tags L] [--min-size S]
 *                [--min-drop A] [--min-gain B1,B2,...] [--min-tag-count K]
 *                [--threads N] [--whole-dataset] [--format json|csv|text]
 *                [--output FILE]
 *   prime convert --tags FILE --output STORE [--outcomes-output FILE]
 *   prime info FILE
 *   prime eval --result R.json --tags FILE [--outcomes FILE] [--fdr Q] ...
 *
 * Exit status: 0 on success, 2 on bad usage, 1 on bad input or failure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prime/prime.h"

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
    "       prime tokenize --bpe FILE [--full] TEXT...   (CLIP token ids, one line per TEXT)\n"
    "       prime --version | --help\n"
    "\n"
    "search   find the failure modes of a classifier (PRIME): tag combinations under\n"
    "         which accuracy drops by at least A, in groups of at least S images.\n"
    "         FILE may be a tags CSV, JSON Lines, or a binary store.\n"
    "convert  write a binary store from a tags CSV or JSON Lines file.\n"
    "info     summarise a tags file or binary store.\n"
    "eval     measure the failure modes of a search result (R.json) on another split:\n"
    "         test accuracy and drop, Wilson interval, p-value, parents; with --fdr Q\n"
    "         Benjamini-Hochberg discoveries over M hypotheses (default: the result's\n"
    "         candidate count, else its number of modes).";

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

/* ---- progress bar ---------------------------------------------------------- */

typedef struct {
    int enabled;
    struct timespec start;
    int shown;
    int last_permille;
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
    char *text = NULL;
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
    if (output != NULL) {
        st = prime_result_write(result, format, output);
        if (st != PRIME_OK)
            goto fail;
    } else {
        size_t need = 0;
        st = prime_result_render(result, format, NULL, 0, &need);
        if (st != PRIME_E_BUFFER_TOO_SMALL && st != PRIME_OK)
            goto fail;
        text = malloc(need + 1);
        if (text == NULL) {
            fprintf(stderr, "%s: out of memory\n", prog);
            rc = EXIT_FAIL;
            goto done;
        }
        st = prime_result_render(result, format, text, need + 1, &need);
        if (st != PRIME_OK)
            goto fail;
        if (fwrite(text, 1, need, stdout) != need || fflush(stdout) != 0) {
            fprintf(stderr, "%s: cannot write the output: %s\n", prog, strerror(errno));
            rc = EXIT_FAIL;
        }
    }
    goto done;
fail:
    rc = lib_error(st);
done:
    free(text);
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
    const char *tags_path = NULL, *output = NULL, *outcomes_output = NULL;
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
        else
            return usage_error("unknown option '%s'", name);
    }
    if (tags_path == NULL || output == NULL)
        return usage_error("%s", "convert needs --tags FILE and --output STORE");
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_status st = prime_tagstore_load(tags_path, &store, outcomes_output ? &outcomes : NULL);
    if (st != PRIME_OK)
        return lib_error(st);
    int rc = 0;
    if (outcomes_output != NULL && outcomes == NULL) {
        fprintf(stderr, "%s: %s has no outcomes to write\n", prog, tags_path);
        rc = EXIT_FAIL;
    }
    if (rc == 0 && (st = prime_tagstore_save(store, output)) != PRIME_OK)
        rc = lib_error(st);
    if (rc == 0 && outcomes_output != NULL &&
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

/* ---- eval -------------------------------------------------------------------- */

/* prime eval --result R.json --tags TEST [--outcomes TEST_OUT] [--fdr Q]
 *            [--hypotheses M] [--format json|text] [--output FILE] */
static int cmd_eval(int argc, char **argv)
{
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
            errno = 0;
            unsigned long long x = strtoull(v, &end, 10);
            if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || x == 0)
                return usage_error("--hypotheses must be a positive integer, not '%s'", v);
            m = (uint64_t)x;
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
    char *text = NULL;
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
    if (output != NULL) {
        st = prime_eval_write(ev, format, output);
        if (st != PRIME_OK)
            goto fail;
    } else {
        size_t need = 0;
        st = prime_eval_render(ev, format, NULL, 0, &need);
        if (st != PRIME_E_BUFFER_TOO_SMALL && st != PRIME_OK)
            goto fail;
        text = malloc(need + 1);
        if (text == NULL) {
            fprintf(stderr, "%s: out of memory\n", prog);
            rc = EXIT_FAIL;
            goto done;
        }
        st = prime_eval_render(ev, format, text, need + 1, &need);
        if (st != PRIME_OK)
            goto fail;
        if (fwrite(text, 1, need, stdout) != need || fflush(stdout) != 0) {
            fprintf(stderr, "%s: cannot write the output: %s\n", prog, strerror(errno));
            rc = EXIT_FAIL;
        }
    }
    goto done;
fail:
    rc = lib_error(st);
done:
    free(text);
    prime_eval_destroy(ev);
    prime_outcomes_destroy(in_file);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "a command is needed: search, convert or info");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("prime %s (libprime %s)\n", PRIME_VERSION_STRING, prime_version());
        return 0;
    }
    for (int k = 2; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            fputs(usage_text, stdout);
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
    return usage_error("unknown command '%s'", cmd);
}
