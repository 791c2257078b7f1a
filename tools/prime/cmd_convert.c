/* prime convert: a binary store (and its outcomes CSV) from a tags file;
 * both outputs are written all or none. */
#include "cli.h"
#include "scale.h"

enum { O_TAGS, O_OUTPUT, O_OUTCOMES_OUTPUT, O_OUTCOMES, O_OUTCOMES_FORMAT };
static const opt_spec specs[] = {
    {"--tags", OPT_VALUE}, {"--output", OPT_VALUE}, {"--outcomes-output", OPT_VALUE},
    {"--outcomes", OPT_VALUE}, {"--outcomes-format", OPT_VALUE}, {NULL, 0}};

int cmd_convert(int argc, char **argv)
{
    const char *tags_path = NULL, *output = NULL, *outcomes_output = NULL, *outcomes_in = NULL;
    int32_t okind = -1; /* --outcomes-format (scale.c): -1 = csv, else PRIME_OUTCOMES_* */
    const char *okind_given = NULL;
    opts o = {.argc = argc, .argv = argv, .specs = specs};
    int k;
    const char *v;
    while ((k = opts_option(&o, &v)) != OPT_END) {
        if (k == OPT_ERROR)
            return o.rc;
        if (k == O_TAGS)
            tags_path = v;
        else if (k == O_OUTPUT)
            output = v;
        else if (k == O_OUTCOMES)
            outcomes_in = v;
        else if (k == O_OUTCOMES_FORMAT) {
            okind_given = v;
            if (!scale_outcomes_kind(v, &okind))
                return usage_error("--outcomes-format must be csv, binary, bits, fixed or f64, "
                                   "not '%s'", v);
        } else
            outcomes_output = v;
    }
    if (tags_path == NULL || output == NULL)
        return usage_error("%s", "convert needs --tags FILE and --output STORE");
    if (outcomes_in != NULL && outcomes_output == NULL)
        return usage_error("%s", "--outcomes needs --outcomes-output FILE");
    if (okind_given != NULL && outcomes_output == NULL) /* else silently ignored */
        return usage_error("%s", "--outcomes-format needs --outcomes-output FILE");
    const char *outputs[] = {output, outcomes_output};
    const char *ins[] = {tags_path, outcomes_in};
    prime_writer *w = writer_open(ins, outcomes_in ? 2 : 1, outputs, 2);
    if (w == NULL)
        return EXIT_FAIL;
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    int rc = 0;
    prime_status st = prime_tagstore_load(tags_path, &store, outcomes_output ? &outcomes : NULL);
    if (st == PRIME_OK && outcomes_in != NULL) { /* outcomes of another file, joined */
        prime_outcomes_destroy(outcomes);
        outcomes = NULL;
        st = prime_outcomes_load(outcomes_in, store, &outcomes);
    }
    if (st != PRIME_OK)
        rc = lib_error(st);
    else if (outcomes_output != NULL && outcomes == NULL)
        rc = fail("%s has no outcomes to write", tags_path);
    if (rc == 0 && (st = prime_tagstore_save_to(store, w, output)) != PRIME_OK)
        rc = lib_error(st);
    if (rc == 0 && outcomes_output != NULL && okind >= 0 &&
        (st = prime_outcomes_save_to(outcomes, store, okind, w, outcomes_output)) != PRIME_OK)
        rc = lib_error(st);
    else if (rc == 0 && outcomes_output != NULL && okind < 0 &&
        (st = prime_outcomes_write_csv(outcomes, store, w, outcomes_output)) != PRIME_OK)
        rc = lib_error(st);
    if (rc == 0)
        rc = writer_close(w);
    else
        prime_writer_destroy(w);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return rc;
}
