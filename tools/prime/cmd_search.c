/* prime search: the failure modes of a classifier (PRIME.md section 4). */
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
};
enum { N_PARAM = sizeof param_options / sizeof param_options[0] };

enum { O_WHOLE = N_PARAM, O_TAGS, O_OUTCOMES, O_OUTPUT, O_FORMAT, O_FOLD, N_SEARCH };
static const opt_spec specs[] = {
    {"--max-tags", OPT_VALUE}, {"--min-size", OPT_VALUE}, {"--min-drop", OPT_VALUE},
    {"--min-gain", OPT_VALUE}, {"--min-tag-count", OPT_VALUE}, {"--threads", OPT_VALUE},
    {"--whole-dataset", OPT_FLAG}, {"--tags", OPT_VALUE}, {"--outcomes", OPT_VALUE},
    {"--output", OPT_VALUE}, {"--format", OPT_VALUE}, {"--fold-equal", OPT_FLAG}, {NULL, 0}};

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
    if (rc != 0) {
        prime_config_destroy(a->cfg);
        a->cfg = NULL;
        return rc;
    }
    a->format_given = a->format != 0;
    if (a->format == 0)
        a->format = default_format(a->output);
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
    if (rc == 0) {
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
