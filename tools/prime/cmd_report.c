/* prime report --result R.json --tags FILE [--outcomes FILE] --images DIR
 *              [--per-mode N] [--seed S] --output report.html
 * (the page itself: report.c) */
#include "cli.h"
#include "report.h"

enum { O_RESULT, O_TAGS, O_OUTCOMES, O_IMAGES, O_OUTPUT, O_PER_MODE, O_SEED };
static const opt_spec specs[] = {
    {"--result", OPT_VALUE}, {"--tags", OPT_VALUE},     {"--outcomes", OPT_VALUE},
    {"--images", OPT_VALUE}, {"--output", OPT_VALUE},   {"--per-mode", OPT_VALUE},
    {"--seed", OPT_VALUE},   {NULL, 0}};

int cmd_report(int argc, char **argv)
{
    const char *s[O_PER_MODE] = {NULL};
    uint64_t per_mode = REPORT_DEFAULT_PER_MODE, seed = 0;
    opts o = {.argc = argc, .argv = argv, .specs = specs};
    int k;
    const char *v;
    while ((k = opts_option(&o, &v)) != OPT_END) {
        if (k == OPT_ERROR)
            return o.rc;
        if (k == O_PER_MODE) {
            if (!opt_uint("--per-mode", v, 0, 10000, "an integer in 0..10000", &per_mode))
                return EXIT_USAGE;
        } else if (k == O_SEED) {
            if (!opt_uint("--seed", v, 0, UINT64_MAX, "a non-negative integer", &seed))
                return EXIT_USAGE;
        } else {
            s[k] = v;
        }
    }
    const char *result_path = s[O_RESULT], *tags_path = s[O_TAGS],
               *outcomes_path = s[O_OUTCOMES], *images = s[O_IMAGES], *output = s[O_OUTPUT];
    if (result_path == NULL || tags_path == NULL || images == NULL || output == NULL)
        return usage_error("%s", "report needs --result R.json, --tags FILE, --images DIR "
                                 "and --output report.html");
    /* the page is written by report.c through prime_file_write; the inputs
       are refused as its output here, before any work */
    const char *inputs[] = {result_path, tags_path, outcomes_path};
    if (check_outputs(inputs, 3, &output, 1) != 0)
        return EXIT_FAIL;
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    int rc = load_store(tags_path, outcomes_path, &store, &outcomes);
    if (rc == 0)
        rc = report_write_html(result_path, tags_path, store, outcomes, images,
                               (uint32_t)per_mode, seed, output) == 0 ? 0 : EXIT_FAIL;
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return rc;
}
