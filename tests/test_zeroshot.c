/* Zero-shot tagger suite (prime_zeroshot_tagger_create, lib/backend/zeroshot.c): a
 * fake pure-C embedder (3 dimensions) whose image vector is the mean
 * (R, G, B) / 255 of the pixels and whose text vector is looked up by the
 * word in the prompt, so that every cosine is worked out by hand below.
 * Checked: the scores, the prompts it embeds (template, batches of 64),
 * thresholds, top-k and tag_files through the ordinary tagger, the errors
 * (bad prompt, missing embedder side, bad names, embedder failures), who
 * owns the embedder after success and after every failure, and allocation
 * failure at every allocation point (prime__alloc_fail_after, as
 * test_alloc.c). Leaks: valgrind and ASan run this binary as every suite. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "internal.h"
#include "prime/sys/backend.h"

/* ---- the fake embedder ----------------------------------------------------------- */

#define MAX_SEEN 256

typedef struct {
    int destroyed;
    int text_calls, image_calls;
    uint32_t batch[64];      /* n of each embed_texts call */
    char seen[MAX_SEEN][64]; /* every text received, in order */
    int n_seen;
} fake;

static void fake_destroy(void *self) { ((fake *)self)->destroyed++; }
static uint32_t fake_dim(void *self) { (void)self; return 3; }

/* word in the text -> vector; unknown texts get (1, 1, 1) */
static const struct {
    const char *word;
    float v[3];
} table[] = {
    {"cat", {1, 0, 0}},  {"dog", {0, 2, 0}},  {"bird", {1, 1, 0}},
    {"void", {0, 0, 0}}, {"anti", {-3, 0, 0}},
};

static prime_status fake_texts(void *self, const char *const *texts, uint32_t n, float *out)
{
    fake *f = self;
    if (f->text_calls < 64)
        f->batch[f->text_calls] = n;
    f->text_calls++;
    for (uint32_t i = 0; i < n; i++) {
        if (f->n_seen < MAX_SEEN)
            snprintf(f->seen[f->n_seen++], sizeof f->seen[0], "%s", texts[i]);
        if (strstr(texts[i], "boom") != NULL)
            return prime_backend_error(PRIME_E_IO, "text model exploded");
        float *v = out + (size_t)i * 3;
        v[0] = v[1] = v[2] = 1.0f;
        for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
            if (strstr(texts[i], table[k].word) != NULL)
                memcpy(v, table[k].v, sizeof table[k].v);
    }
    return PRIME_OK;
}

static prime_status fake_images(void *self, const prime_image *const *images, uint32_t n,
                                float *out)
{
    fake *f = self;
    f->image_calls++;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t w = prime_image_width(images[i]), h = prime_image_height(images[i]);
        if (w == 7)
            return prime_backend_error(PRIME_E_MISMATCH, "images 7 wide are not for me");
        size_t sz = (size_t)w * h * 3;
        uint8_t *px = malloc(sz);
        cr_assert_eq(prime_image_copy_pixels(images[i], px, sz, NULL), PRIME_OK);
        double s[3] = {0, 0, 0};
        for (size_t p = 0; p < (size_t)w * h; p++)
            for (int c = 0; c < 3; c++)
                s[c] += px[3 * p + c];
        for (int c = 0; c < 3; c++)
            out[(size_t)i * 3 + c] = (float)(s[c] / (255.0 * w * h));
        free(px);
    }
    return PRIME_OK;
}

/* sides: 1 = images, 2 = texts, 3 = both */
static prime_embedder *make_embedder(fake *f, int sides)
{
    prime_embedder_backend b;
    memset(&b, 0, sizeof b);
    b.abi_version = PRIME_BACKEND_ABI_VERSION;
    b.struct_size = sizeof b;
    b.self = f;
    b.name = "fake";
    b.destroy = fake_destroy;
    b.dimension = fake_dim;
    b.embed_images = (sides & 1) ? fake_images : NULL;
    b.embed_texts = (sides & 2) ? fake_texts : NULL;
    prime_embedder *e = NULL;
    cr_assert_eq(prime_embedder_create_from(&b, &e), PRIME_OK, "%s", prime_last_error());
    return e;
}

static prime_image *solid(uint32_t w, uint32_t h, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    prime_image *img = NULL;
    cr_assert_eq(prime_image_create(w, h, px, &img), PRIME_OK);
    free(px);
    return img;
}

static void expect_err(prime_status got, prime_status want, const char *needle)
{
    cr_assert_eq(got, want, "got %s (%s), want %s", prime_status_name(got), prime_last_error(),
                 prime_status_name(want));
    cr_assert(strstr(prime_last_error(), needle) != NULL, "message '%s' lacks '%s'",
              prime_last_error(), needle);
}

/* The embedder is still usable by its owner: it embeds a text. */
static void embedder_still_works(prime_embedder *e)
{
    const char *t[1] = {"a cat"};
    float v[3];
    cr_assert_eq(prime_embedder_embed_texts(e, t, 1, v, 3), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(v[0], 1.0f);
}

static const char *const five[5] = {"cat", "dog", "bird", "void", "anti"};
#define R2 0.70710678118654752 /* 1 / sqrt 2 */

/* ---- scores ------------------------------------------------------------------------- */

Test(zeroshot, scores_are_hand_computed_cosines)
{
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_zeroshot_tagger_create(e, five, 5, NULL, &t), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_str_eq(prime_tagger_name(t), "zeroshot");
    cr_assert_eq(prime_tagger_tag_count(t), 5);
    for (uint32_t i = 0; i < 5; i++)
        cr_assert_str_eq(prime_tagger_tag_name(t, i), five[i]);
    double th = 0;
    cr_assert_eq(prime_tagger_get_threshold(t, 0, &th), PRIME_OK);
    cr_assert_eq(th, 0.5);
    /* the prompts, embedded once, in one batch */
    cr_assert_eq(f.text_calls, 1);
    cr_assert_eq(f.batch[0], 5);
    cr_assert_eq(f.n_seen, 5);
    cr_assert_str_eq(f.seen[0], "a photo of cat");
    cr_assert_str_eq(f.seen[4], "a photo of anti");

    /* image vectors: red (1,0,0), yellow (1,1,0), magenta (1,0,1), black
       (0,0,0), a 2x1 half-red image (0.5,0,0) */
    prime_image *red = solid(2, 2, 255, 0, 0), *yellow = solid(1, 1, 255, 255, 0),
                *magenta = solid(3, 1, 255, 0, 255), *black = solid(1, 1, 0, 0, 0);
    uint8_t half_px[6] = {255, 0, 0, 0, 0, 0};
    prime_image *half = NULL;
    cr_assert_eq(prime_image_create(2, 1, half_px, &half), PRIME_OK);
    const prime_image *imgs[5] = {red, yellow, magenta, black, half};
    /* text unit vectors: cat (1,0,0), dog (0,1,0), bird (r2,r2,0), void
       (0,0,0), anti (-1,0,0) */
    const double want[5][5] = {
        {1, 0, R2, 0, -1},            /* red */
        {R2, R2, 1, 0, -R2},          /* yellow: (1,1,0)/sqrt2 */
        {R2, 0, 0.5, 0, -R2},         /* magenta: (1,0,1)/sqrt2 */
        {0, 0, 0, 0, 0},              /* black: a zero vector */
        {1, 0, R2, 0, -1},            /* half red: the length does not matter */
    };
    float s[25];
    cr_assert_eq(prime_tagger_score(t, imgs, 5, s, 25), PRIME_OK, "%s", prime_last_error());
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 5; k++)
            cr_assert_float_eq(s[i * 5 + k], want[i][k], 1e-6, "image %d tag %d: %g, want %g",
                               i, k, s[i * 5 + k], want[i][k]);
    cr_assert_eq(f.image_calls, 1);
    cr_assert_eq(prime_tagger_score(t, imgs, 0, NULL, 0), PRIME_OK);
    for (int i = 0; i < 5; i++)
        prime_image_destroy((prime_image *)imgs[i]);
    cr_assert_eq(f.destroyed, 0);
    prime_tagger_destroy(t);
    cr_assert_eq(f.destroyed, 1, "the tagger owns the embedder after success");
}

Test(zeroshot, prompt_template_is_filled_with_each_tag)
{
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    prime_tagger *t = NULL;
    const char *tags[2] = {"bird", "snow leopard"};
    cr_assert_eq(prime_zeroshot_tagger_create(e, tags, 2, "{}, seen in the wild", &t), PRIME_OK);
    cr_assert_eq(f.n_seen, 2);
    cr_assert_str_eq(f.seen[0], "bird, seen in the wild");
    cr_assert_str_eq(f.seen[1], "snow leopard, seen in the wild");
    prime_tagger_destroy(t);
    f = (fake){0};
    e = make_embedder(&f, 3);
    cr_assert_eq(prime_zeroshot_tagger_create(e, tags, 2, "{}", &t), PRIME_OK);
    cr_assert_str_eq(f.seen[1], "snow leopard");
    /* snow leopard has no word of the table: (1,1,1); yellow is (1,1,0):
       cosine 2 / (sqrt 3 sqrt 2) */
    prime_image *y = solid(1, 1, 255, 255, 0);
    const prime_image *imgs[1] = {y};
    float s[2];
    cr_assert_eq(prime_tagger_score(t, imgs, 1, s, 2), PRIME_OK);
    cr_assert_float_eq(s[0], 1.0, 1e-6);
    cr_assert_float_eq(s[1], 2.0 / (sqrt(3.0) * sqrt(2.0)), 1e-6);
    prime_image_destroy(y);
    prime_tagger_destroy(t);
    cr_assert_eq(f.destroyed, 1);
}

Test(zeroshot, prompts_are_embedded_in_batches_of_64)
{
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    enum { N = 130 };
    char names[N][8];
    const char *tags[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        tags[i] = names[i];
    }
    prime_tagger *t = NULL;
    cr_assert_eq(prime_zeroshot_tagger_create(e, tags, N, NULL, &t), PRIME_OK);
    cr_assert_eq(f.text_calls, 3);
    cr_assert_eq(f.batch[0], 64);
    cr_assert_eq(f.batch[1], 64);
    cr_assert_eq(f.batch[2], 2);
    cr_assert_str_eq(f.seen[129], "a photo of t129");
    cr_assert_str_eq(prime_tagger_tag_name(t, 129), "t129");
    prime_tagger_destroy(t);
}

/* ---- thresholds, top-k, the tag store -------------------------------------------------- */

static void tags_of(prime_tagger *t, const float *scores, const char *want)
{
    uint32_t ids[8], n = 0;
    cr_assert_eq(prime_tagger_select(t, scores, ids, 8, &n), PRIME_OK);
    char got[128] = "";
    for (uint32_t k = 0; k < n; k++) {
        if (k)
            strcat(got, "|");
        strcat(got, prime_tagger_tag_name(t, ids[k]));
    }
    cr_assert_str_eq(got, want);
}

Test(zeroshot, thresholds_and_top_k_select_from_the_cosines)
{
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_zeroshot_tagger_create(e, five, 5, NULL, &t), PRIME_OK);
    prime_image *red = solid(1, 1, 255, 0, 0), *yellow = solid(1, 1, 255, 255, 0),
                *magenta = solid(1, 1, 255, 0, 255);
    const prime_image *imgs[3] = {red, yellow, magenta};
    float s[15];
    cr_assert_eq(prime_tagger_score(t, imgs, 3, s, 15), PRIME_OK);
    /* default 0.5: red cat 1, bird .707; yellow cat, dog .707, bird 1;
       magenta cat .707, bird 0.5 (>= passes) */
    tags_of(t, s, "cat|bird");
    tags_of(t, s + 5, "cat|dog|bird");
    tags_of(t, s + 10, "cat|bird");
    cr_assert_eq(prime_tagger_set_threshold(t, 0.75), PRIME_OK);
    tags_of(t, s, "cat");
    tags_of(t, s + 5, "bird");
    tags_of(t, s + 10, "");
    /* -inf and top-2: the two best, ties by index; anti (-1) never first */
    cr_assert_eq(prime_tagger_set_threshold(t, -INFINITY), PRIME_OK);
    cr_assert_eq(prime_tagger_set_top_k(t, 2), PRIME_OK);
    tags_of(t, s, "cat|bird");
    tags_of(t, s + 5, "cat|bird");   /* bird 1, then cat and dog tie at .707: cat */
    tags_of(t, s + 10, "cat|bird");
    /* per-tag thresholds */
    const double per[5] = {2, 0.6, 0.9, -1, -2};
    cr_assert_eq(prime_tagger_set_thresholds(t, per, 5), PRIME_OK);
    cr_assert_eq(prime_tagger_set_top_k(t, 0), PRIME_OK);
    tags_of(t, s, "void|anti");           /* void 0 >= -1, anti -1 >= -2 */
    tags_of(t, s + 5, "dog|bird|void|anti");
    tags_of(t, s + 10, "void|anti");

    /* into a tag store */
    cr_assert_eq(prime_tagger_set_threshold(t, 0.75), PRIME_OK);
    prime_tagstore *store = NULL;
    cr_assert_eq(prime_tagstore_create(&store), PRIME_OK);
    const char *names[3] = {"r.png", "y.png", "m.png"}, *classes[3] = {"a", "a", "b"};
    cr_assert_eq(prime_tagger_tag_images(t, imgs, names, classes, 3, store), PRIME_OK);
    uint32_t ids[5], n = 0;
    cr_assert_eq(prime_tagstore_image_tags(store, 1, ids, 5, &n), PRIME_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(prime_tagstore_tag_name(store, ids[0]), "bird");
    cr_assert_eq(prime_tagstore_image_tags(store, 2, ids, 5, &n), PRIME_OK);
    cr_assert_eq(n, 0);
    prime_tagstore_destroy(store);
    for (int i = 0; i < 3; i++)
        prime_image_destroy((prime_image *)imgs[i]);
    prime_tagger_destroy(t);
}

static void write_png(const char *path, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t px[2 * 2 * 3];
    for (int i = 0; i < 4; i++) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    cr_assert(stbi_write_png(path, 2, 2, 3, px, 6));
}

Test(zeroshot, tag_files_decodes_scores_and_stores)
{
    char dir[] = "/tmp/prime_zeroshot_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char p0[96], p1[96];
    snprintf(p0, sizeof p0, "%s/red.png", dir);
    snprintf(p1, sizeof p1, "%s/yellow.png", dir);
    write_png(p0, 255, 0, 0);
    write_png(p1, 255, 255, 0);
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_zeroshot_tagger_create(e, five, 5, NULL, &t), PRIME_OK);
    cr_assert_eq(prime_tagger_set_top_k(t, 1), PRIME_OK);
    prime_tagstore *store = NULL;
    cr_assert_eq(prime_tagstore_create(&store), PRIME_OK);
    const char *paths[2] = {p0, p1}, *names[2] = {"red.png", "yellow.png"},
               *classes[2] = {"c", "c"};
    uint32_t failed = 9;
    prime_files_options o = PRIME_FILES_OPTIONS_INIT;
    o.threads = 2;
    o.batch = 1;
    o.image_names = names;
    cr_assert_eq(prime_tagger_tag_files(t, paths, classes, 2, &o, store, &failed),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(failed, 0);
    cr_assert_eq(f.image_calls, 2, "batch 1: two calls");
    uint32_t ids[5], n = 0;
    cr_assert_eq(prime_tagstore_image_tags(store, 0, ids, 5, &n), PRIME_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(prime_tagstore_tag_name(store, ids[0]), "cat");
    cr_assert_eq(prime_tagstore_image_tags(store, 1, ids, 5, &n), PRIME_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(prime_tagstore_tag_name(store, ids[0]), "bird");
    prime_tagstore_destroy(store);
    prime_tagger_destroy(t);
    unlink(p0);
    unlink(p1);
    rmdir(dir);
}

/* ---- errors and ownership ---------------------------------------------------------- */

Test(zeroshot, bad_prompts_are_invalid_and_the_caller_keeps_the_embedder)
{
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    prime_tagger *t = (prime_tagger *)1;
    expect_err(prime_zeroshot_tagger_create(e, five, 5, "a photo of", &t), PRIME_E_INVALID_ARG,
               "exactly once, not 0 times");
    cr_assert_null(t);
    expect_err(prime_zeroshot_tagger_create(e, five, 5, "{} and {}", &t), PRIME_E_INVALID_ARG,
               "exactly once, not 2 times");
    expect_err(prime_zeroshot_tagger_create(e, five, 5, "{}{}", &t), PRIME_E_INVALID_ARG,
               "not 2 times");
    expect_err(prime_zeroshot_tagger_create(e, five, 5, "\xff {}", &t), PRIME_E_INVALID_ARG,
               "UTF-8");
    cr_assert_eq(f.text_calls, 0, "nothing embedded for a bad prompt");
    cr_assert_eq(f.destroyed, 0);
    embedder_still_works(e);
    prime_embedder_destroy(e);
    cr_assert_eq(f.destroyed, 1);
}

Test(zeroshot, bad_arguments)
{
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    prime_tagger *t = NULL;
    expect_err(prime_zeroshot_tagger_create(e, five, 5, NULL, NULL), PRIME_E_INVALID_ARG,
               "NULL out");
    expect_err(prime_zeroshot_tagger_create(NULL, five, 5, NULL, &t), PRIME_E_INVALID_ARG,
               "NULL embedder");
    expect_err(prime_zeroshot_tagger_create(e, NULL, 5, NULL, &t), PRIME_E_INVALID_ARG,
               "NULL tags");
    expect_err(prime_zeroshot_tagger_create(e, five, 0, NULL, &t), PRIME_E_INVALID_ARG,
               "0 tags");
    const char *with_null[2] = {"cat", NULL};
    expect_err(prime_zeroshot_tagger_create(e, with_null, 2, NULL, &t), PRIME_E_INVALID_ARG,
               "tag 1 is NULL");
    cr_assert_null(t);
    cr_assert_eq(f.destroyed, 0);
    prime_embedder_destroy(e);
}

Test(zeroshot, an_embedder_without_both_sides_is_refused)
{
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 1); /* images only */
    prime_tagger *t = NULL;
    expect_err(prime_zeroshot_tagger_create(e, five, 5, NULL, &t), PRIME_E_STATE,
               "embedder 'fake' cannot embed texts");
    cr_assert_null(t);
    cr_assert_eq(f.destroyed, 0);
    prime_embedder_destroy(e);
    cr_assert_eq(f.destroyed, 1);
    fake g = {0};
    e = make_embedder(&g, 2); /* texts only */
    expect_err(prime_zeroshot_tagger_create(e, five, 5, NULL, &t), PRIME_E_STATE,
               "embedder 'fake' cannot embed images");
    cr_assert_eq(g.text_calls, 0);
    cr_assert_eq(g.destroyed, 0);
    embedder_still_works(e);
    prime_embedder_destroy(e);
    cr_assert_eq(g.destroyed, 1);
}

Test(zeroshot, bad_names_fail_before_any_prompt_is_embedded)
{
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    prime_tagger *t = NULL;
    const char *dup[3] = {"cat", "dog", "cat"};
    expect_err(prime_zeroshot_tagger_create(e, dup, 3, NULL, &t), PRIME_E_DUPLICATE,
               "tag 2 \"cat\" repeats tag 0");
    const char *pipe[2] = {"cat", "a|b"};
    expect_err(prime_zeroshot_tagger_create(e, pipe, 2, NULL, &t), PRIME_E_PARSE,
               "tag 1 has no valid name");
    const char *empty[1] = {""};
    expect_err(prime_zeroshot_tagger_create(e, empty, 1, NULL, &t), PRIME_E_PARSE,
               "tag 0 has no valid name");
    cr_assert_null(t);
    cr_assert_eq(f.text_calls, 0);
    cr_assert_eq(f.destroyed, 0);
    embedder_still_works(e);
    prime_embedder_destroy(e);
    cr_assert_eq(f.destroyed, 1);
}

Test(zeroshot, embedder_failures_propagate)
{
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    prime_tagger *t = NULL;
    /* in the prompts: the embedder's status and message; the caller keeps e */
    const char *tags[3] = {"cat", "boom", "dog"};
    expect_err(prime_zeroshot_tagger_create(e, tags, 3, NULL, &t), PRIME_E_IO,
               "embedder 'fake': text model exploded");
    cr_assert_null(t);
    cr_assert_eq(f.destroyed, 0);
    /* in the images: the tagger's name in front, the tagger still usable */
    cr_assert_eq(prime_zeroshot_tagger_create(e, five, 5, NULL, &t), PRIME_OK);
    prime_image *bad = solid(7, 1, 0, 0, 0), *red = solid(1, 1, 255, 0, 0);
    const prime_image *imgs[2] = {red, bad};
    float s[10];
    expect_err(prime_tagger_score(t, imgs, 2, s, 10), PRIME_E_MISMATCH,
               "tagger 'zeroshot': embedder 'fake': images 7 wide are not for me");
    cr_assert_eq(prime_tagger_score(t, imgs, 1, s, 10), PRIME_OK);
    cr_assert_float_eq(s[0], 1.0, 1e-6);
    prime_image_destroy(bad);
    prime_image_destroy(red);
    prime_tagger_destroy(t);
    cr_assert_eq(f.destroyed, 1);
}

/* ---- allocation failure --------------------------------------------------------------- */

Test(zeroshot, every_allocation_failure_is_nomem_and_keeps_ownership_straight)
{
    long points = 0;
    for (long k = 1;; k++) {
        cr_assert_lt(k, 10000, "no end");
        fake f = {0};
        prime_embedder *e = make_embedder(&f, 3); /* made before the injection */
        prime_tagger *t = (prime_tagger *)1;
        prime_clear_error();
        prime__alloc_fail_after(k);
        prime_status st = prime_zeroshot_tagger_create(e, five, 5, "{} here", &t);
        long failed = prime__alloc_failed_count();
        prime__alloc_fail_after(0);
        if (failed == 0) {
            cr_assert_eq(st, PRIME_OK, "%s", prime_last_error());
            prime_tagger_destroy(t);
            cr_assert_eq(f.destroyed, 1);
            points = k - 1;
            break;
        }
        cr_assert_eq(st, PRIME_E_NOMEM, "k=%ld: %s (%s)", k, prime_status_name(st),
                     prime_last_error());
        cr_assert_neq(prime_last_error()[0], '\0');
        cr_assert_null(t, "k=%ld: out not NULL", k);
        cr_assert_eq(f.destroyed, 0, "k=%ld: the embedder was destroyed on failure", k);
        embedder_still_works(e);
        prime_embedder_destroy(e);
        cr_assert_eq(f.destroyed, 1);
    }
    cr_assert_geq(points, 4, "state, tagger, names, prompts: at least 4 points, got %ld",
                  points);
    fprintf(stderr, "alloc-fail prime_zeroshot_tagger_create %ld allocation points\n", points);

    /* scoring: the scratch buffer for the image embeddings */
    fake f = {0};
    prime_embedder *e = make_embedder(&f, 3);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_zeroshot_tagger_create(e, five, 5, NULL, &t), PRIME_OK);
    prime_image *red = solid(1, 1, 255, 0, 0);
    const prime_image *imgs[1] = {red};
    float s[5];
    long spoints = 0;
    for (long k = 1;; k++) {
        cr_assert_lt(k, 100, "no end");
        prime_tagger *t2 = NULL;
        fake f2 = {0};
        prime_embedder *e2 = make_embedder(&f2, 3);
        cr_assert_eq(prime_zeroshot_tagger_create(e2, five, 5, NULL, &t2), PRIME_OK);
        prime__alloc_fail_after(k);
        prime_status st = prime_tagger_score(t2, imgs, 1, s, 5);
        long failed = prime__alloc_failed_count();
        prime__alloc_fail_after(0);
        if (failed == 0) {
            cr_assert_eq(st, PRIME_OK);
            prime_tagger_destroy(t2);
            spoints = k - 1;
            break;
        }
        cr_assert_eq(st, PRIME_E_NOMEM, "%s", prime_last_error());
        /* the tagger is still usable */
        cr_assert_eq(prime_tagger_score(t2, imgs, 1, s, 5), PRIME_OK);
        cr_assert_float_eq(s[0], 1.0, 1e-6);
        prime_tagger_destroy(t2);
        cr_assert_eq(f2.destroyed, 1);
    }
    cr_assert_eq(spoints, 1, "one allocation (the scratch buffer), got %ld", spoints);
    /* a second batch of the same size needs none */
    cr_assert_eq(prime_tagger_score(t, imgs, 1, s, 5), PRIME_OK);
    prime__alloc_fail_from(1);
    prime_status st = prime_tagger_score(t, imgs, 1, s, 5);
    prime__alloc_fail_after(0);
    cr_assert_eq(st, PRIME_OK, "the scratch buffer is reused: %s", prime_last_error());
    prime_image_destroy(red);
    prime_tagger_destroy(t);
}
