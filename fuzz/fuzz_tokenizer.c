/* Fuzz the CLIP tokenizer. First byte even: the rest is a text, encoded with
 * CLIP's vocabulary (data/clip/bpe_simple_vocab_16e6.txt.gz under
 * $PRIME_SOURCE_ROOT, else under the current folder) by both entry points,
 * which must agree, and cleaned alone (HTML entities, ftfy's fixes: the
 * output must be valid UTF-8 and the size query must agree). First byte
 * odd: the rest is a BPE merges file (plain or gzip), which must load or
 * fail cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prime_tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *root = getenv("PRIME_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/clip/bpe_simple_vocab_16e6.txt.gz",
             root != NULL ? root : ".");
    if (prime_tokenizer_create(path, &tok) != PRIME_OK) {
        fprintf(stderr, "fuzz_tokenizer: %s\n", prime_last_error());
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        prime_tokenizer *t = NULL;
        prime_status st = prime_tokenizer_create_memory(text, len, "fuzz.txt", &t);
        if ((st == PRIME_OK) != (t != NULL))
            __builtin_trap();
        if (t != NULL && prime_tokenizer_vocab_size(t) != PRIME_TOKENIZER_VOCAB_SIZE)
            __builtin_trap();
        prime_tokenizer_destroy(t);
        return 0;
    }
    size_t n = 0;
    prime_status st = prime_tokenizer_encode(tok, text, len, NULL, 0, &n);
    int64_t ctx[PRIME_TOKENIZER_CONTEXT];
    uint32_t m = 0;
    int32_t trunc = -1;
    prime_status st2 = prime_tokenizer_encode_context(tok, text, len, ctx,
                                                      PRIME_TOKENIZER_CONTEXT, &m, &trunc);
    if (st == PRIME_E_PARSE || st2 == PRIME_E_PARSE) {
        if (st != st2 || prime__utf8_valid(text, len))
            __builtin_trap();
        return 0;
    }
    if ((st != PRIME_OK && st != PRIME_E_BUFFER_TOO_SMALL) || st2 != PRIME_OK)
        __builtin_trap();
    /* the cleaning alone */
    size_t cn = 0, cn2 = 0;
    prime_status cs = prime_tokenizer_clean(text, len, NULL, 0, &cn);
    if (cs != PRIME_OK && cs != PRIME_E_BUFFER_TOO_SMALL)
        __builtin_trap();
    char *clean = malloc(cn + 1);
    if (clean == NULL)
        return 0;
    if (prime_tokenizer_clean(text, len, clean, cn + 1, &cn2) != PRIME_OK || cn2 != cn ||
        !prime__utf8_valid(clean, cn))
        __builtin_trap();
    free(clean);
    if (st == PRIME_OK && n != 0)
        __builtin_trap();
    int64_t *ids = malloc((n + 1) * sizeof *ids);
    if (ids == NULL)
        return 0;
    size_t n2 = 0;
    if (prime_tokenizer_encode(tok, text, len, ids, n + 1, &n2) != PRIME_OK || n2 != n)
        __builtin_trap();
    /* the context form is start + the first ids + end, then zeros */
    if (m < 2 || m > PRIME_TOKENIZER_CONTEXT || ctx[0] != PRIME_TOKENIZER_START ||
        ctx[m - 1] != PRIME_TOKENIZER_END || trunc != (n > PRIME_TOKENIZER_CONTEXT - 2))
        __builtin_trap();
    for (uint32_t k = 1; k + 1 < m; k++)
        if (ctx[k] != ids[k - 1])
            __builtin_trap();
    for (uint32_t k = m; k < PRIME_TOKENIZER_CONTEXT; k++)
        if (ctx[k] != 0)
            __builtin_trap();
    for (size_t k = 0; k < n; k++)
        if (ids[k] < 0 || ids[k] >= PRIME_TOKENIZER_VOCAB_SIZE)
            __builtin_trap();
    free(ids);
    return 0;
}
