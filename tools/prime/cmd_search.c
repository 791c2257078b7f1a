/* prime search: the failure modes of a classifier (PRIME.md section 4). */
#include <stdio.h>
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

enum { O_WHOLE = N_PARAM, O_TAGS, O_OUTCOMES, O_OUTPUT, O_FORMAT, O_FOLD };
static const opt_spec specs[] = {
    {"--max-tags", OPT_VALUE}, {"--min-size", OPT_VALUE}, {"--min-drop", OPT_VALUE},
    {"--min-gain", OPT_VALUE}, {"--min-tag-count", OPT_VALUE}, {"--threads", OPT_VALUE},
    {"--whole-dataset", OPT_FLAG}, {"--tags", OPT_VALUE}, {"--outcomes", OPT_VALUE},
    {"--output", OPT_VALUE}, {"--format", OPT_VALUE}, {"--fold-equal", OPT_FLAG}, {NULL, 0}};

int cmd_search(int argc, char **argv)
{
    const char *tags_path = NULL, *outcomes_path = NULL, *output = NULL;
    int32_t format = 0;
    prime_config *cfg = NULL;
    prime_status st = prime_config_create(&cfg);
    if (st != PRIME_OK)
        return lib_error(st);
    opts o = {.argc = argc, .argv = argv, .specs = specs};
    int k, rc = 0;
    const char *v;
    while (rc == 0 && (k = opts_option(&o, &v)) != OPT_END) {
        if (k == OPT_ERROR)
            rc = o.rc;
        else if (k == O_WHOLE)
            prime_config_set_int(cfg, PRIME_PARAM_WHOLE_DATASET, 1);
        else if (k == O_FOLD)
            prime_config_set_int(cfg, PRIME_PARAM_FOLD_EQUAL, 1);
        else if (k == O_TAGS)
            tags_path = v;
        else if (k == O_OUTCOMES)
            outcomes_path = v;
        else if (k == O_OUTPUT)
            output = v;
        else if (k == O_FORMAT)
            rc = opt_format(v, 1, &format) ? 0 : EXIT_USAGE;
        else if (prime_config_set_by_name(cfg, param_options[k].param, v) != PRIME_OK) {
            fprintf(stderr, "%s: %s: %s\n", prog, specs[k].name, prime_last_error());
            rc = EXIT_USAGE;
        }
    }
    if (rc == 0 && tags_path == NULL)
        rc = usage_error("%s", "search needs --tags FILE");
    if (rc != 0) {
        prime_config_destroy(cfg);
        return rc;
    }
    if (format == 0)
        format = default_format(output);

    const char *inputs[] = {tags_path, outcomes_path};
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_result *result = NULL;
    rc = check_outputs(inputs, 2, &output, output != NULL);
    if (rc == 0)
        rc = load_store(tags_path, outcomes_path, &store, &outcomes);
    if (rc == 0) {
        progress_state ps;
        progress_init(&ps, "searching");
        st = prime_search(store, outcomes, cfg, progress_search, &ps, &result);
        progress_end(&ps);
        rc = st != PRIME_OK ? lib_error(st)
                            : emit(result, render_result, write_result, format, output);
    }
    prime_result_destroy(result);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    prime_config_destroy(cfg);
    return rc;
}
