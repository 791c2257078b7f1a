/* prime info: a summary of a tags file or binary store. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_info(int argc, char **argv)
{
    static const opt_spec none[] = {{NULL, 0}}; /* every option is unknown */
    opts o = {.argc = argc, .argv = argv, .specs = none, .context = " for info"};
    const char *file = NULL, *arg;
    int k, files = 0;
    while ((k = opts_next(&o, &arg)) != OPT_END) {
        if (k == OPT_ERROR)
            return o.rc;
        if (strcmp(arg, "--") == 0) { /* only files after it (as merge, tokenize) */
            for (; o.i < o.argc; o.i++, files++)
                file = argv[o.i];
            break;
        }
        file = arg;
        files++;
    }
    if (files != 1)
        return usage_error("%s", "info needs exactly one FILE");
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_status st = prime_tagstore_load(file, &store, &outcomes);
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
    prime_clear_error();
    uint32_t min_c = UINT32_MAX, max_c = 0;
    for (uint32_t c = 0; c < nc; c++) {
        uint32_t n = prime_tagstore_class_image_count(store, c);
        if (n < min_c)
            min_c = n;
        if (n > max_c)
            max_c = n;
    }
    printf("file:            %s\n", file);
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
               prime_outcomes_is_binary(outcomes) ? "0/1" : "scores", ni ? sum / ni : 0.0);
    } else {
        printf("outcomes:        none in this file\n");
    }
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return 0; /* main checks that stdout took it all */
}
