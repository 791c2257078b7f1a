/* prime tokenize --bpe FILE [--full] [--] TEXT...: one line of CLIP token
 * ids per TEXT, start and end tokens included, no padding; cut to the
 * context of 77 as clip.tokenize(truncate=True) does unless --full. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { O_BPE, O_FULL };
static const opt_spec specs[] = {{"--bpe", OPT_VALUE}, {"--full", OPT_FLAG}, {NULL, 0}};

int cmd_tokenize(int argc, char **argv)
{
    const char *bpe = NULL;
    int full = 0, first_text = -1;
    opts o = {.argc = argc, .argv = argv, .specs = specs};
    int k;
    const char *v;
    while (first_text < 0 && (k = opts_next(&o, &v)) != OPT_END) {
        if (k == OPT_ERROR)
            return o.rc;
        if (k == OPT_ARG) /* the texts start here, or after "--" */
            first_text = strcmp(v, "--") == 0 ? o.i : o.i - 1;
        else if (k == O_BPE)
            bpe = v;
        else
            full = 1;
    }
    if (bpe == NULL)
        return usage_error("%s", "tokenize needs --bpe FILE (e.g. "
                                 "data/clip/bpe_simple_vocab_16e6.txt.gz)");
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
    for (int t = first_text; t < argc && rc == 0; t++) {
        const char *text = argv[t];
        size_t n = 0;
        const int64_t *out = ctx;
        if (full) {
            st = prime_tokenizer_encode(tok, text, strlen(text), ids, cap, &n);
            if (st == PRIME_E_BUFFER_TOO_SMALL) {
                free(ids);
                cap = n + 2;
                ids = malloc(cap * sizeof *ids);
                if (ids == NULL) {
                    rc = fail("out of memory");
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
            rc = fail("TEXT %d: %s (%s)", t - first_text + 1, prime_last_error(),
                      prime_status_name(st));
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
    return rc; /* main checks that stdout took it all */
}
