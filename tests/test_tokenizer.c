/* Tokenizer suite: CLIP's byte-pair-encoding tokenizer (lib/text/tokenizer.c)
 * against the reference ids.
 *
 *  - tests/data/clip/clip_tokens_ram_prompts.tsv: 4,585 prompts with the
 *    ids of CLIP's reference tokenizer; every one must come out identical.
 *  - tests/data/clip/clip_tokens_unicode.tsv: non-ASCII and corner-case
 *    texts (hex UTF-8) with the ids of CLIP's own tokenizer, with ftfy and
 *    Debian's regex module (scripts/make_clip_clean_reference.py).
 *  - tests/data/clip/clip_tokens_clean.tsv: 11,759 captions, tag names and
 *    texts that CLIP's cleaning changes (HTML entities, mojibake, curly
 *    quotes, full-width forms, ligatures, decomposed accents, control
 *    characters), with the reference's cleaned text and ids.
 *  - truncation at 77, the size query, errors, allocation failures, huge
 *    and hostile input.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "internal.h"
#include "prime/prime.h"

static char *path_of(const char *env, const char *rel)
{
    const char *root = getenv(env);
    cr_assert(root != NULL, "%s is not set (run through meson test)", env);
    size_t n = strlen(root) + strlen(rel) + 2;
    char *p = malloc(n);
    cr_assert(p != NULL);
    snprintf(p, n, "%s/%s", root, rel);
    return p;
}

static char *bpe_path(void)
{
    return path_of("PRIME_SOURCE_ROOT", "data/clip/bpe_simple_vocab_16e6.txt.gz");
}

static prime_tokenizer *load(void)
{
    char *p = bpe_path();
    prime_tokenizer *t = NULL;
    prime_status st = prime_tokenizer_create(p, &t);
    cr_assert_eq(st, PRIME_OK, "%s: %s", p, prime_last_error());
    cr_assert(t != NULL);
    free(p);
    return t;
}

static char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)n + 1);
    cr_assert(d != NULL);
    cr_assert_eq(fread(d, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    d[n] = '\0';
    *len_out = (size_t)n;
    return d;
}

/* The merges file, decompressed by zlib's own gz reader. */
static char *plain_merges(size_t *len_out)
{
    char *p = bpe_path();
    gzFile g = gzopen(p, "rb");
    cr_assert(g != NULL);
    size_t cap = 1 << 22, len = 0;
    char *d = malloc(cap);
    cr_assert(d != NULL);
    int r;
    while ((r = gzread(g, d + len, (unsigned)(cap - len))) > 0) {
        len += (size_t)r;
        if (len == cap) {
            cap *= 2;
            d = realloc(d, cap);
            cr_assert(d != NULL);
        }
    }
    gzclose(g);
    free(p);
    *len_out = len;
    return d;
}

/* Parse "1 2 3" into ids; returns the count. */
static size_t parse_ids(const char *s, int64_t *ids, size_t cap)
{
    size_t n = 0;
    while (*s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        cr_assert(end != s, "bad id list: %s", s);
        cr_assert(n < cap);
        ids[n++] = v;
        s = end;
        while (*s == ' ')
            s++;
    }
    return n;
}

/* text -> the ids with start and end, compared with both entry points. */
static void check_text(const prime_tokenizer *t, const char *text, size_t len,
                       const char *expected, const char *where)
{
    int64_t want[1024];
    size_t nw = parse_ids(expected, want, 1024);
    cr_assert(nw >= 2 && want[0] == PRIME_TOKENIZER_START && want[nw - 1] == PRIME_TOKENIZER_END,
              "%s: expected ids lack start/end", where);
    /* the context form */
    int64_t ctx[PRIME_TOKENIZER_CONTEXT];
    uint32_t n = 0;
    int32_t trunc = -1;
    prime_status st = prime_tokenizer_encode_context(t, text, len, ctx, PRIME_TOKENIZER_CONTEXT,
                                                     &n, &trunc);
    cr_assert_eq(st, PRIME_OK, "%s: %s", where, prime_last_error());
    cr_assert_eq(n, nw, "%s: %u ids, wanted %zu", where, n, nw);
    for (size_t k = 0; k < nw; k++)
        cr_assert_eq(ctx[k], want[k], "%s: id %zu is %lld, wanted %lld", where, k,
                     (long long)ctx[k], (long long)want[k]);
    for (size_t k = nw; k < PRIME_TOKENIZER_CONTEXT; k++)
        cr_assert_eq(ctx[k], 0, "%s: padding %zu is %lld", where, k, (long long)ctx[k]);
    /* the plain form: the same ids without start and end (when the text was
       not truncated) */
    if (!trunc) {
        size_t m = 0;
        int64_t body[1024];
        st = prime_tokenizer_encode(t, text, len, body, 1024, &m);
        cr_assert_eq(st, PRIME_OK, "%s: %s", where, prime_last_error());
        cr_assert_eq(m, nw - 2, "%s", where);
        for (size_t k = 0; k < m; k++)
            cr_assert_eq(body[k], want[k + 1], "%s: id %zu", where, k);
    }
}

Test(tokenizer, every_ram_prompt_is_identical_to_the_reference)
{
    prime_tokenizer *t = load();
    cr_assert_eq(prime_tokenizer_vocab_size(t), PRIME_TOKENIZER_VOCAB_SIZE);
    char *p = path_of("PRIME_TEST_DATA", "clip/clip_tokens_ram_prompts.tsv");
    size_t len;
    char *d = slurp(p, &len);
    size_t lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(d, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        cr_assert(tab != NULL, "no tab in %s", line);
        *tab = '\0';
        check_text(t, line, strlen(line), tab + 1, line);
        lines++;
    }
    cr_assert_eq(lines, 4585);
    free(d);
    free(p);
    prime_tokenizer_destroy(t);
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

Test(tokenizer, non_ascii_text_matches_the_reference)
{
    prime_tokenizer *t = load();
    char *p = path_of("PRIME_TEST_DATA", "clip/clip_tokens_unicode.tsv");
    size_t len;
    char *d = slurp(p, &len);
    size_t rows = 0;
    int saw_nul = 0, saw_cjk = 0;
    char *save = NULL;
    for (char *line = strtok_r(d, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        cr_assert(tab != NULL);
        size_t hl = (size_t)(tab - line);
        char *text = malloc(hl / 2 + 1);
        cr_assert(text != NULL);
        for (size_t k = 0; k < hl / 2; k++)
            text[k] = (char)(hexval(line[2 * k]) << 4 | hexval(line[2 * k + 1]));
        text[hl / 2] = '\0';
        saw_nul |= memchr(text, 0, hl / 2) != NULL;
        saw_cjk |= strstr(text, "\xe6\x9d\xb1\xe4\xba\xac") != NULL; /* 東京 */
        char where[64];
        snprintf(where, sizeof where, "unicode row %zu", rows + 1);
        check_text(t, text, hl / 2, tab + 1, where);
        free(text);
        rows++;
    }
    cr_assert_eq(rows, 37);
    cr_assert(saw_nul && saw_cjk);
    free(d);
    free(p);
    prime_tokenizer_destroy(t);
}

static size_t unhex(const char *h, size_t hl, char *out)
{
    for (size_t k = 0; k < hl / 2; k++)
        out[k] = (char)(hexval(h[2 * k]) << 4 | hexval(h[2 * k + 1]));
    return hl / 2;
}

/* Every text of clip_tokens_clean.tsv: the cleaned text equals CLIP's
 * basic_clean (ftfy.fix_text, html.unescape twice, strip) and the ids equal
 * clip.tokenize's. Mismatches are counted and the first ones shown. */
Test(tokenizer, cleaning_matches_clip_with_ftfy_on_every_reference_text)
{
    prime_tokenizer *t = load();
    char *p = path_of("PRIME_TEST_DATA", "clip/clip_tokens_clean.tsv");
    size_t len;
    char *d = slurp(p, &len);
    size_t rows = 0, same_ids = 0, same_text = 0, changed = 0;
    char *save = NULL;
    char *in = malloc(len), *want = malloc(len), *got = malloc(4 * len + 16);
    cr_assert(in && want && got);
    for (char *line = strtok_r(d, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *f[4] = {line, NULL, NULL, NULL};
        for (int k = 1; k < 4; k++) {
            f[k] = strchr(f[k - 1], '\t');
            cr_assert(f[k] != NULL, "row %zu has fewer than 4 fields", rows + 1);
            *f[k]++ = '\0';
        }
        size_t n = unhex(f[1], strlen(f[1]), in);
        size_t m = unhex(f[2], strlen(f[2]), want);
        changed += m != n || memcmp(in, want, n) != 0;
        size_t g = 0;
        prime_status st = prime_tokenizer_clean(in, n, got, 4 * len + 16, &g);
        cr_assert_eq(st, PRIME_OK, "row %zu: %s", rows + 1, prime_last_error());
        bool text_ok = g == m && memcmp(got, want, m) == 0;
        int64_t ids[PRIME_TOKENIZER_CONTEXT], ref[PRIME_TOKENIZER_CONTEXT];
        size_t nr = parse_ids(f[3], ref, PRIME_TOKENIZER_CONTEXT);
        uint32_t nt = 0;
        st = prime_tokenizer_encode_context(t, in, n, ids, PRIME_TOKENIZER_CONTEXT, &nt, NULL);
        cr_assert_eq(st, PRIME_OK, "row %zu: %s", rows + 1, prime_last_error());
        bool ids_ok = nt == nr && memcmp(ids, ref, nr * sizeof(int64_t)) == 0;
        if ((!text_ok || !ids_ok) && rows - same_ids < 5)
            cr_log_error("row %zu (%s, input %s): cleaned text %s, ids %s", rows + 1, f[0],
                         f[1], text_ok ? "same" : "differs", ids_ok ? "same" : "differ");
        same_text += text_ok;
        same_ids += ids_ok;
        rows++;
    }
    cr_log_info("CLIP cleaning: %zu of %zu texts give identical ids, %zu identical cleaned "
                "text (%zu texts changed by the cleaning)",
                same_ids, rows, same_text, changed);
    cr_assert_eq(rows, 11759);
    cr_assert_gt(changed, 5000, "the reference must exercise the cleaning");
    cr_assert_eq(same_text, rows, "%zu of %zu cleaned texts differ", rows - same_text, rows);
    cr_assert_eq(same_ids, rows, "%zu of %zu id lists differ", rows - same_ids, rows);
    free(in);
    free(want);
    free(got);
    free(d);
    free(p);
    prime_tokenizer_destroy(t);
}

static void expect_clean(const char *text, const char *want)
{
    char out[256];
    size_t n = 0;
    prime_status st = prime_tokenizer_clean(text, strlen(text), out, sizeof out, &n);
    cr_assert_eq(st, PRIME_OK, "%s: %s", text, prime_last_error());
    cr_assert(n == strlen(want) && memcmp(out, want, n) == 0, "clean(\"%s\") = \"%.*s\", "
              "wanted \"%s\"", text, (int)n, out, want);
}

Test(tokenizer, cleaning_by_hand)
{
    expect_clean("&lt;b&gt;", "<b>");
    expect_clean("&amp;amp;lt;", "<");                   /* ftfy rounds, then twice */
    expect_clean("x < y &amp;amp;amp;lt;", "x < y &amp;lt;"); /* '<': only the two */
    expect_clean("P&EACUTE;REZ", "P\xc3\x89REZ");         /* ftfy's all-caps names */
    expect_clean("&notit; &not", "\xc2\xacit; \xc2\xac");  /* longest prefix, no ';' */
    expect_clean("&#x80;&#0;&#1;&#xD800;&#65", "\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd" "A");
    expect_clean("caf\xc3\x83\xc2\xa9", "caf\xc3\xa9");   /* cafÃ© */
    expect_clean("\xc3\x90\xc2\xbc\xc3\x90\xc2\xbe \xe6\x9d\xb1", "\xd0\xbc\xd0\xbe \xe6\x9d\xb1");
    expect_clean("don\xe2\x80\x99t \xe2\x80\x9cx\xe2\x80\x9d", "don't \"x\"");
    expect_clean("\xef\xac\x81sh", "fish");
    expect_clean("\xef\xbc\xac\xef\xbc\xaf\xe3\x80\x80\xef\xbd\x81", "LO a");
    expect_clean("e\xcc\x81", "\xc3\xa9");                /* NFC */
    expect_clean("a\r\nb\x1b[31mc\x01\xef\xbb\xbf", "a\nbc");
    expect_clean("  \t", "");
    /* the example: 3 ids, not 7 */
    prime_tokenizer *t = load();
    size_t n = 0;
    int64_t ids[8];
    cr_assert_eq(prime_tokenizer_encode(t, "&lt;b&gt;", 9, ids, 8, &n), PRIME_OK);
    cr_assert_eq(n, 3);
    cr_assert(ids[0] == 283 && ids[1] == 321 && ids[2] == 285);
    /* size query, short buffer, bad input */
    char out[4];
    cr_assert_eq(prime_tokenizer_clean("&amp;&amp;", 10, NULL, 0, &n), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(n, 2);
    cr_assert_eq(prime_tokenizer_clean("abcdef", 6, out, 4, &n), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(n, 6);
    cr_assert_eq(prime_tokenizer_clean("a\xff", 2, out, 4, &n), PRIME_E_PARSE);
    cr_assert_eq(prime_tokenizer_clean(NULL, 0, NULL, 0, &n), PRIME_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(prime_tokenizer_clean(NULL, 1, out, 4, &n), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tokenizer_clean("a", 1, out, 4, NULL), PRIME_E_INVALID_ARG);
    prime_tokenizer_destroy(t);
}

Test(tokenizer, hostile_text_for_the_cleaning)
{
    /* nested escapes need a round each in ftfy; here at most 100 rounds */
    size_t big = 1u << 18;
    char *s = malloc(big + 8), *out = malloc(4 * big);
    cr_assert(s && out);
    s[0] = '&';
    size_t k = 1;
    while (k + 4 <= big) {
        memcpy(s + k, "amp;", 4);
        k += 4;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t n = 0;
    cr_assert_eq(prime_tokenizer_clean(s, k, out, 4 * big, &n), PRIME_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(secs, 60.0, "256 KiB of nested escapes took %.1f s", secs);
    cr_assert_eq(n, k - 4 * 102, "100 ftfy rounds and two html.unescape: %zu bytes", n);
    /* one long run of combining marks (canonical ordering stays linear) */
    k = 1;
    s[0] = 'a';
    while (k + 4 <= big) {
        memcpy(s + k, "\xcc\x81\xd6\xb0", 4); /* U+0301 (230), U+05B0 (10) */
        k += 4;
    }
    cr_assert_eq(prime_tokenizer_clean(s, k, out, 4 * big, &n), PRIME_OK);
    /* class 10 first, then a + U+0301 compose over them (no longer blocked) */
    cr_assert_eq(n, k - 1);
    cr_assert(memcmp(out, "\xc3\xa1\xd6\xb0\xd6\xb0", 6) == 0);
    free(s);
    free(out);
}

Test(tokenizer, known_ids_by_hand)
{
    prime_tokenizer *t = load();
    /* from the reference: special tokens inside the text keep their ids,
       white space is collapsed, case is folded */
    check_text(t, "a photo of abacus", 17, "49406 320 1125 539 596 33710 49407", "abacus");
    check_text(t, "  A   PHOTO\tof\n ABACUS  ", 24, "49406 320 1125 539 596 33710 49407",
               "abacus upper");
    check_text(t, "a<|endoftext|>b", 15, "49406 320 49407 321 49407", "special");
    check_text(t, "", 0, "49406 49407", "empty");
    check_text(t, " \t\n\x1c", 4, "49406 49407", "blank");
    check_text(t, NULL, 0, "49406 49407", "NULL text");
    prime_tokenizer_destroy(t);
}

Test(tokenizer, truncation_keeps_the_end_token)
{
    prime_tokenizer *t = load();
    char text[1024] = "";
    /* "a" is one token (320): 75 fit exactly, 76 are cut */
    for (int k = 0; k < 76; k++)
        strcat(text, "a ");
    int64_t ctx[PRIME_TOKENIZER_CONTEXT];
    uint32_t n = 0;
    int32_t trunc = -1;
    size_t len75 = 75 * 2 - 1;
    cr_assert_eq(prime_tokenizer_encode_context(t, text, len75, ctx, 77, &n, &trunc), PRIME_OK);
    cr_assert_eq(n, 77);
    cr_assert_eq(trunc, 0);
    cr_assert_eq(ctx[0], PRIME_TOKENIZER_START);
    cr_assert_eq(ctx[75], 320);
    cr_assert_eq(ctx[76], PRIME_TOKENIZER_END);
    cr_assert_eq(prime_tokenizer_encode_context(t, text, strlen(text), ctx, 77, &n, &trunc),
                 PRIME_OK);
    cr_assert_eq(n, 77);
    cr_assert_eq(trunc, 1);
    cr_assert_eq(ctx[75], 320);
    cr_assert_eq(ctx[76], PRIME_TOKENIZER_END);
    /* a long text: the first 76 ids of the full encoding, then the end */
    const char *long_text = "the quick brown fox jumps over the lazy dog again and again, "
                            "while 12345 sheep count themselves to sleep in the meadow; "
                            "then the fox, tired, writes a long letter to the dog about "
                            "tokenizers, byte pairs and the end of text markers! The dog "
                            "answers at length: 'I've read it twice, and I'd say it's fine, "
                            "but you'll want more examples', signed with 3 paw prints.";
    int64_t full[512];
    size_t m = 0;
    cr_assert_eq(prime_tokenizer_encode(t, long_text, strlen(long_text), full, 512, &m),
                 PRIME_OK);
    cr_assert_gt(m, 75);
    cr_assert_eq(prime_tokenizer_encode_context(t, long_text, strlen(long_text), ctx, 77, &n,
                                                &trunc),
                 PRIME_OK);
    cr_assert_eq(trunc, 1);
    cr_assert_eq(n, 77);
    for (int k = 0; k < 75; k++)
        cr_assert_eq(ctx[k + 1], full[k]);
    cr_assert_eq(ctx[76], PRIME_TOKENIZER_END);
    /* other contexts; the smallest is 2 */
    cr_assert_eq(prime_tokenizer_encode_context(t, "a b c", 5, ctx, 3, &n, &trunc), PRIME_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(trunc, 1);
    cr_assert_eq(ctx[1], 320);
    cr_assert_eq(ctx[2], PRIME_TOKENIZER_END);
    cr_assert_eq(prime_tokenizer_encode_context(t, "a", 1, ctx, 2, &n, &trunc), PRIME_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(trunc, 1);
    cr_assert_eq(ctx[1], PRIME_TOKENIZER_END);
    cr_assert_eq(prime_tokenizer_encode_context(t, "", 0, ctx, 2, &n, NULL), PRIME_OK);
    cr_assert_eq(n, 2);
    ctx[0] = 123;
    cr_assert_eq(prime_tokenizer_encode_context(t, "a", 1, ctx, 1, &n, &trunc), PRIME_E_RANGE);
    cr_assert_eq(ctx[0], 123);
    prime_tokenizer_destroy(t);
}

Test(tokenizer, size_query_and_caller_buffer)
{
    prime_tokenizer *t = load();
    const char *text = "a photo of 3D CG rendering";
    size_t n = 0;
    cr_assert_eq(prime_tokenizer_encode(t, text, strlen(text), NULL, 0, &n),
                 PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(n, 7);
    int64_t ids[7] = {0};
    int64_t small[6] = {-1, -1, -1, -1, -1, -1};
    cr_assert_eq(prime_tokenizer_encode(t, text, strlen(text), small, 6, &n),
                 PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(n, 7);
    cr_assert_eq(small[0], -1, "nothing is written to a buffer too small");
    cr_assert_eq(prime_tokenizer_encode(t, text, strlen(text), ids, 7, &n), PRIME_OK);
    const int64_t want[7] = {320, 1125, 539, 274, 323, 14740, 21339};
    for (int k = 0; k < 7; k++)
        cr_assert_eq(ids[k], want[k]);
    cr_assert_eq(prime_tokenizer_encode(t, "", 0, NULL, 0, &n), PRIME_OK);
    cr_assert_eq(n, 0);
    prime_tokenizer_destroy(t);
}

Test(tokenizer, invalid_utf8_is_rejected_with_its_offset)
{
    prime_tokenizer *t = load();
    const char *bad[] = {"ab\xff", "ab\xc3", "ab\xc0\xafx", "ab\xed\xa0\x80", "ab\xf4\x90\x80\x80"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int64_t ctx[PRIME_TOKENIZER_CONTEXT];
        ctx[0] = 7;
        uint32_t n = 99;
        cr_assert_eq(prime_tokenizer_encode_context(t, bad[k], strlen(bad[k]), ctx, 77, &n, NULL),
                     PRIME_E_PARSE);
        cr_assert(strstr(prime_last_error(), "invalid UTF-8 at byte 2") != NULL, "%s",
                  prime_last_error());
        cr_assert_eq(ctx[0], 7);
        cr_assert_eq(n, 99);
        size_t m = 0;
        cr_assert_eq(prime_tokenizer_encode(t, bad[k], strlen(bad[k]), NULL, 0, &m),
                     PRIME_E_PARSE);
    }
    prime_tokenizer_destroy(t);
}

Test(tokenizer, null_arguments)
{
    prime_tokenizer *t = NULL;
    cr_assert_eq(prime_tokenizer_create(NULL, &t), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tokenizer_create("x", NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tokenizer_create_memory(NULL, 5, NULL, &t), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tokenizer_create_memory("x", 1, NULL, NULL), PRIME_E_INVALID_ARG);
    prime_tokenizer_destroy(NULL);
    cr_assert_eq(prime_tokenizer_vocab_size(NULL), 0);
    size_t n;
    int64_t ids[4];
    cr_assert_eq(prime_tokenizer_encode(NULL, "a", 1, ids, 4, &n), PRIME_E_INVALID_ARG);
    t = load();
    cr_assert_eq(prime_tokenizer_encode(t, "a", 1, ids, 4, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tokenizer_encode(t, "a", 1, NULL, 4, &n), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tokenizer_encode(t, NULL, 3, ids, 4, &n), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tokenizer_encode_context(t, "a", 1, NULL, 77, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tokenizer_encode_context(NULL, "a", 1, ids, 4, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    prime_tokenizer_destroy(t);
}

/* ---- the merges file ----------------------------------------------------------- */

static void expect_create_error(const void *data, size_t size, prime_status want,
                                const char *fragment)
{
    prime_tokenizer *t = (prime_tokenizer *)&t; /* must be reset to NULL */
    prime_status st = prime_tokenizer_create_memory(data, size, "m.txt", &t);
    cr_assert_eq(st, want, "status %s, wanted %s (%s)", prime_status_name(st),
                 prime_status_name(want), prime_last_error());
    cr_assert_null(t);
    cr_assert(strstr(prime_last_error(), fragment) != NULL, "message '%s' lacks '%s'",
              prime_last_error(), fragment);
}

Test(tokenizer, missing_file)
{
    prime_tokenizer *t = NULL;
    prime_status st = prime_tokenizer_create("/nonexistent/bpe.txt.gz", &t);
    cr_assert_eq(st, PRIME_E_IO);
    cr_assert_null(t);
    cr_assert(strstr(prime_last_error(), "/nonexistent/bpe.txt.gz") != NULL, "%s",
              prime_last_error());
}

Test(tokenizer, plain_and_gzip_files_give_the_same_tokenizer)
{
    size_t len;
    char *plain = plain_merges(&len);
    cr_assert_gt(len, 1000000);
    prime_tokenizer *a = NULL, *b = load();
    cr_assert_eq(prime_tokenizer_create_memory(plain, len, "plain", &a), PRIME_OK, "%s",
                 prime_last_error());
    const char *text = "Ångström's café: 東京タワー 🐶 x12 ΣΑΣ";
    int64_t x[128], y[128];
    size_t nx, ny;
    cr_assert_eq(prime_tokenizer_encode(a, text, strlen(text), x, 128, &nx), PRIME_OK);
    cr_assert_eq(prime_tokenizer_encode(b, text, strlen(text), y, 128, &ny), PRIME_OK);
    cr_assert_eq(nx, ny);
    cr_assert_eq(memcmp(x, y, nx * sizeof x[0]), 0);
    /* CRLF line ends and only the needed lines also work */
    size_t keep = 0, lines = 0;
    while (lines < 48895 && keep < len)
        lines += plain[keep++] == '\n';
    char *crlf = malloc(keep + lines + 1);
    size_t c = 0;
    for (size_t k = 0; k < keep; k++) {
        if (plain[k] == '\n')
            crlf[c++] = '\r';
        crlf[c++] = plain[k];
    }
    prime_tokenizer *d = NULL;
    cr_assert_eq(prime_tokenizer_create_memory(crlf, c, "crlf", &d), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_tokenizer_encode(d, text, strlen(text), x, 128, &nx), PRIME_OK);
    cr_assert_eq(nx, ny);
    cr_assert_eq(memcmp(x, y, nx * sizeof x[0]), 0);
    free(crlf);
    prime_tokenizer_destroy(d);
    prime_tokenizer_destroy(a);
    prime_tokenizer_destroy(b);
    free(plain);
}

Test(tokenizer, bad_merges_files)
{
    size_t len;
    char *plain = plain_merges(&len);
    /* the first 48894 merges end at the 48895th newline */
    size_t end = 0, lines = 0;
    while (lines < 48895)
        lines += plain[end++] == '\n';
    /* too few merges */
    size_t cut = 0;
    lines = 0;
    while (lines < 1001)
        lines += plain[cut++] == '\n';
    expect_create_error(plain, cut, PRIME_E_PARSE, "m.txt: only 1000 merges");
    expect_create_error("", 0, PRIME_E_PARSE, "m.txt: empty file");
    expect_create_error("#version: 0.2\n", 14, PRIME_E_PARSE, "only 0 merges");
    /* a line with three fields, one with one field, invalid UTF-8 */
    char *copy = malloc(end + 1);
    memcpy(copy, plain, end);
    /* line 3 is "t h": make it "t h x"-like by replacing its newline */
    size_t l3 = 0;
    lines = 0;
    while (lines < 2)
        lines += copy[l3++] == '\n';
    /* copy[l3..] is line 3 */
    char *nl = memchr(copy + l3, '\n', end - l3);
    cr_assert(nl != NULL && nl - (copy + l3) == 3, "line 3 is '%.*s'", 3, copy + l3);
    memcpy(copy + l3, "t h", 3);
    copy[l3 + 1] = 'h';
    copy[l3 + 2] = 'h'; /* "thh": one field */
    expect_create_error(copy, end, PRIME_E_PARSE, "m.txt:3: a merge must be two symbols");
    memcpy(copy + l3, "t h", 3);
    copy[l3 + 1] = 'h';
    copy[l3 + 0] = ' '; /* " hh": still one field */
    expect_create_error(copy, end, PRIME_E_PARSE, "found 1 field");
    memcpy(copy + l3, "a b", 3);
    *nl = ' '; /* joins lines 3 and 4: "a b" + " " + "t h"... more than 2 */
    expect_create_error(copy, end, PRIME_E_PARSE, "m.txt:3: a merge must be two symbols");
    *nl = '\n';
    copy[l3] = (char)0xff;
    expect_create_error(copy, end, PRIME_E_PARSE, "m.txt:3: invalid UTF-8");
    free(copy);
    free(plain);
}

Test(tokenizer, corrupt_and_truncated_gzip)
{
    char *p = bpe_path();
    size_t len;
    char *gz = slurp(p, &len);
    free(p);
    /* truncated in the middle of the needed lines */
    expect_create_error(gz, 30000, PRIME_E_FORMAT, "m.txt: truncated gzip data");
    expect_create_error(gz, 2, PRIME_E_FORMAT, "m.txt: truncated gzip data");
    /* garbage after a valid gzip header */
    char *bad = malloc(len);
    memcpy(bad, gz, len);
    for (size_t k = 20; k < 4000; k++)
        bad[k] = (char)(k * 7);
    expect_create_error(bad, len, PRIME_E_FORMAT, "m.txt: corrupt gzip data");
    /* a bad header */
    memcpy(bad, gz, len);
    bad[2] = 9; /* compression method */
    expect_create_error(bad, len, PRIME_E_FORMAT, "m.txt: corrupt gzip data");
    free(bad);
    free(gz);
}

/* ---- hostile input ---------------------------------------------------------------- */

Test(tokenizer, huge_and_hostile_text)
{
    prime_tokenizer *t = load();
    /* one 1 MB word: BPE is O(n log n), so this is quick (8 MB: 5 s) */
    size_t big = 1u << 20;
    char *s = malloc(big);
    memset(s, 'a', big);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t n = 0;
    cr_assert_eq(prime_tokenizer_encode(t, s, big, NULL, 0, &n), PRIME_E_BUFFER_TOO_SMALL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_gt(n, 0);
    cr_assert_lt(n, big);
    cr_assert_lt(secs, 20.0, "a 1 MB word took %.1f s", secs);
    /* the context form stops early */
    int64_t ctx[PRIME_TOKENIZER_CONTEXT];
    uint32_t m = 0;
    int32_t trunc = 0;
    cr_assert_eq(prime_tokenizer_encode_context(t, s, big, ctx, 77, &m, &trunc), PRIME_OK);
    cr_assert_eq(m, 77);
    cr_assert_eq(trunc, 1);
    /* every byte value that is valid UTF-8 on its own, NULs, and a mix of
       scripts: no crash, ids in range */
    unsigned seed = 12345;
    for (size_t k = 0; k < big; k++) {
        seed = seed * 1103515245u + 12345u;
        s[k] = (char)((seed >> 16) & 0x7F);
    }
    size_t cap = big + 1, got = 0;
    int64_t *ids = malloc(cap * sizeof *ids);
    cr_assert_eq(prime_tokenizer_encode(t, s, big, ids, cap, &got), PRIME_OK, "%s",
                 prime_last_error());
    for (size_t k = 0; k < got; k++)
        cr_assert(ids[k] >= 0 && ids[k] < PRIME_TOKENIZER_VOCAB_SIZE);
    free(ids);
    free(s);
    prime_tokenizer_destroy(t);
}

Test(tokenizer, every_code_point_encodes)
{
    prime_tokenizer *t = load();
    /* all scalar values, in chunks, one text each */
    char buf[4 * 4096];
    int64_t ids[4 * 4096 * 2];
    for (uint32_t base = 0; base < 0x110000; base += 4096) {
        size_t len = 0;
        for (uint32_t c = base; c < base + 4096; c++) {
            if (c >= 0xD800 && c <= 0xDFFF)
                continue;
            if (c < 0x80) {
                buf[len++] = (char)c;
            } else if (c < 0x800) {
                buf[len++] = (char)(0xC0 | (c >> 6));
                buf[len++] = (char)(0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                buf[len++] = (char)(0xE0 | (c >> 12));
                buf[len++] = (char)(0x80 | ((c >> 6) & 0x3F));
                buf[len++] = (char)(0x80 | (c & 0x3F));
            } else {
                buf[len++] = (char)(0xF0 | (c >> 18));
                buf[len++] = (char)(0x80 | ((c >> 12) & 0x3F));
                buf[len++] = (char)(0x80 | ((c >> 6) & 0x3F));
                buf[len++] = (char)(0x80 | (c & 0x3F));
            }
        }
        size_t n = 0;
        cr_assert_eq(prime_tokenizer_encode(t, buf, len, ids, sizeof ids / sizeof ids[0], &n),
                     PRIME_OK, "block %x: %s", base, prime_last_error());
        for (size_t k = 0; k < n; k++)
            cr_assert(ids[k] >= 0 && ids[k] < PRIME_TOKENIZER_VOCAB_SIZE);
    }
    prime_tokenizer_destroy(t);
}

Test(tokenizer, allocation_failures_are_reported)
{
    size_t len;
    char *plain = plain_merges(&len);
    char *p = bpe_path();
    size_t gzlen;
    char *gz = slurp(p, &gzlen);
    free(p);
    const void *inputs[2] = {gz, plain};
    size_t sizes[2] = {gzlen, len};
    for (int which = 0; which < 2; which++) {
        for (long k = 1;; k++) {
            prime__alloc_fail_after(k);
            prime_tokenizer *t = NULL;
            prime_status st = prime_tokenizer_create_memory(inputs[which], sizes[which], "m", &t);
            long failed = prime__alloc_failed_count();
            prime__alloc_fail_after(0);
            if (failed == 0) {
                cr_assert_eq(st, PRIME_OK);
                prime_tokenizer_destroy(t);
                break;
            }
            cr_assert_eq(st, PRIME_E_NOMEM, "allocation %ld: %s", k, prime_last_error());
            cr_assert_null(t);
            cr_assert_lt(k, 1000);
        }
    }
    prime_tokenizer *t = load();
    /* the second text goes through every step of the cleaning */
    static const char *const texts[] = {
        "A photo of İstanbul's ΟΔΥΣΣΕΥΣ, 東京 and 🐶!!",
        "caf\xc3\x83\xc2\xa9 \xc3\x90\xc2\xbc\xc3\x90\xc2\xbe \xe6\x9d\xb1 &amp;amp;lt; "
        "&#x41; &EACUTE; \xef\xac\x81 \xef\xbc\xa1 \xe2\x80\x99 e\xcc\x81\xd6\xb0\xcc\x81"
        "\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81"
        "\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81"
        "\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81\xd6\xb0\xcc\x81"
        "\xd6\xb0\xcc\x81\xc2\x85\x1b[1m \xc3\xa2\xe2\x82\xac\xc5\x93x\xc3\xa2\xe2\x82\xac\xef\xbf\xbd",
    };
    for (size_t w = 0; w < 2; w++)
    for (long k = 1;; k++) {
        const char *text = texts[w];
        prime__alloc_fail_after(k);
        int64_t ctx[PRIME_TOKENIZER_CONTEXT];
        prime_status st = prime_tokenizer_encode_context(t, text, strlen(text), ctx, 77, NULL,
                                                         NULL);
        long failed = prime__alloc_failed_count();
        prime__alloc_fail_after(0);
        if (failed == 0) {
            cr_assert_eq(st, PRIME_OK);
            break;
        }
        cr_assert_eq(st, PRIME_E_NOMEM, "allocation %ld: %s", k, prime_last_error());
        cr_assert_lt(k, 1000);
    }
    prime_tokenizer_destroy(t);
    free(gz);
    free(plain);
}
