/* Torch suite: libprime-torch (shim/prime_torch.cpp) against the outputs
 * Python computed for the same TorchScript models and images
 * (scripts/make_torch_models.py -> tests/data/torch/expected.txt).
 *
 * Tolerance: 1e-4 absolute on every score and vector component. The
 * preprocessing is byte-identical to PIL/torchvision before normalisation
 * (tests/test_image.c checks that), so the differences left are float32
 * rounding in the normalisation and the model's kernels (a few 1e-7 here).
 *
 * Specs (the same transforms as the script's):
 *  - tagger:     PRIME_IMAGE_PRESET_RAM, exact resize to 32 x 32;
 *  - classifier: PRIME_IMAGE_PRESET_IMAGENET, shorter side 36, crop 32;
 *  - encoder:    PRIME_IMAGE_PRESET_CLIP, shorter side 32, crop 32.
 *
 * Each test is a fresh process (Criterion); libtorch's start costs about
 * half a second per process, which is why these live in their own binary.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prime/sys/backend.h"
#include "prime/image.h"
#include "prime/prime.h"
#include "prime/tokenizer.h"
#include "prime/torch.h"

#define TOL 1e-4
#define MAXV 96

static const char *const IMAGES[] = {"img_a.png", "img_b.png",    "img_c.png",
                                     "img_d.png", "img_wide.png", "img_gray.png"};
#define NIMG 6

/* ---- paths and the expected file ---------------------------------------------- */

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

/* A file of tests/data/torch (static storage: a few at a time). */
static const char *data(const char *name)
{
    static char buf[8][4096];
    static int k;
    const char *root = getenv("PRIME_TEST_DATA");
    cr_assert(root != NULL, "PRIME_TEST_DATA is not set (run through meson test)");
    char *b = buf[k++ % 8];
    snprintf(b, 4096, "%s/torch/%s", root, name);
    return b;
}

typedef struct {
    char key[32];
    char name[64];
    int n;
    double v[MAXV];
} row;

static row *rows;
static int nrows;

static void load_expected(void)
{
    FILE *f = fopen(data("expected.txt"), "r");
    cr_assert(f != NULL, "cannot open expected.txt");
    char line[8192];
    rows = calloc(256, sizeof *rows);
    cr_assert(rows != NULL);
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        cr_assert(nrows < 256);
        row *r = &rows[nrows++];
        int off = 0;
        cr_assert_eq(sscanf(line, "%31s %63s %d%n", r->key, r->name, &r->n, &off), 3, "%s", line);
        cr_assert(r->n >= 0 && r->n <= MAXV);
        char *p = line + off;
        for (int i = 0; i < r->n; i++) {
            char *end;
            r->v[i] = strtod(p, &end);
            cr_assert(end != p, "short line: %s", line);
            p = end;
        }
    }
    fclose(f);
}

static const row *expect(const char *key, const char *name)
{
    if (rows == NULL)
        load_expected();
    for (int i = 0; i < nrows; i++)
        if (strcmp(rows[i].key, key) == 0 && strcmp(rows[i].name, name) == 0)
            return &rows[i];
    cr_assert_fail("no '%s %s' in expected.txt", key, name);
    return NULL;
}

static void check_close(const float *got, const row *want, int n, const char *what)
{
    cr_assert_eq(want->n, n, "%s: %d values expected, %d given", what, want->n, n);
    for (int i = 0; i < n; i++)
        cr_assert(fabs((double)got[i] - want->v[i]) <= TOL, "%s %s [%d]: C %.9g, Python %.9g",
                  what, want->name, i, (double)got[i], want->v[i]);
}

/* ---- fixtures ------------------------------------------------------------------ */

static prime_image **load_images(void)
{
    prime_image **img = calloc(NIMG, sizeof *img);
    cr_assert(img != NULL);
    for (int i = 0; i < NIMG; i++)
        cr_assert_eq(prime_image_load(data(IMAGES[i]), 0, &img[i]), PRIME_OK, "%s",
                     prime_last_error());
    return img;
}

static void free_images(prime_image **img)
{
    for (int i = 0; i < NIMG; i++)
        prime_image_destroy(img[i]);
    free(img);
}

static prime_image_spec *spec(int32_t preset, int32_t mode, uint32_t side)
{
    prime_image_spec *s = NULL;
    cr_assert_eq(prime_image_spec_create(preset, &s), PRIME_OK);
    cr_assert_eq(prime_image_spec_set_resize(s, mode, side, 32, 32), PRIME_OK, "%s",
                 prime_last_error());
    return s;
}

static prime_tagger *tagger_of(const char *model, int32_t scores)
{
    prime_image_spec *s = spec(PRIME_IMAGE_PRESET_RAM, PRIME_RESIZE_EXACT, 32);
    prime_tagger *t = NULL;
    prime_status st = prime_torch_tagger_create(data(model), data("vocab.txt"), scores, s, &t);
    prime_image_spec_destroy(s); /* the shim keeps its own copy */
    cr_assert_eq(st, PRIME_OK, "%s", prime_last_error());
    cr_assert(t != NULL);
    return t;
}

static prime_classifier *classifier_of(const char *model, const char *names)
{
    prime_image_spec *s = spec(PRIME_IMAGE_PRESET_IMAGENET, PRIME_RESIZE_SHORTER_CROP, 36);
    prime_classifier *c = NULL;
    prime_status st =
        prime_torch_classifier_create(data(model), names ? data(names) : NULL, s, &c);
    prime_image_spec_destroy(s);
    cr_assert_eq(st, PRIME_OK, "%s", prime_last_error());
    return c;
}

static prime_status embedder_of(const char *image_model, const char *text_model,
                                prime_embedder **out)
{
    prime_image_spec *s = spec(PRIME_IMAGE_PRESET_CLIP, PRIME_RESIZE_SHORTER_CROP, 32);
    char *bpe = path_of("PRIME_SOURCE_ROOT", "data/clip/bpe_simple_vocab_16e6.txt.gz");
    prime_status st = prime_torch_embedder_create(image_model ? data(image_model) : NULL,
                                                  text_model ? data(text_model) : NULL, bpe, s,
                                                  out);
    free(bpe);
    prime_image_spec_destroy(s);
    return st;
}

static void check_tagger_scores(prime_tagger *t, const char *what)
{
    prime_image **img = load_images();
    float scores[NIMG * 12];
    cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)img, NIMG, scores,
                                    NIMG * 12),
                 PRIME_OK, "%s", prime_last_error());
    for (int i = 0; i < NIMG; i++)
        check_close(scores + i * 12, expect("tagger", IMAGES[i]), 12, what);
    free_images(img);
}

static int contains(const char *s, const char *needle)
{
    return s != NULL && strstr(s, needle) != NULL;
}

/* ---- versions and threads ------------------------------------------------------ */

Test(torch, versions)
{
    cr_assert_str_eq(prime_torch_version(), prime_version());
    cr_assert(strncmp(prime_torch_libtorch_version(), "1.", 2) == 0 ||
                  strncmp(prime_torch_libtorch_version(), "2.", 2) == 0,
              "%s", prime_torch_libtorch_version());
}

Test(torch, threads_setter_and_results_independent_of_threads)
{
    cr_assert_eq(prime_torch_set_threads(1025), PRIME_E_INVALID_ARG);
    cr_assert(contains(prime_last_error(), "1025"), "%s", prime_last_error());
    cr_assert_eq(prime_torch_set_threads(0), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_torch_set_threads(3), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_torch_set_threads(1), PRIME_OK, "%s", prime_last_error());
    prime_tagger *t = tagger_of("tagger.pt", PRIME_TORCH_SCORES_LOGITS);
    check_tagger_scores(t, "1 thread");
    cr_assert_eq(prime_torch_set_threads(2), PRIME_OK);
    check_tagger_scores(t, "2 threads");
    prime_tagger_destroy(t);
}

/* ---- tagger ---------------------------------------------------------------------- */

Test(torch, tagger_matches_python)
{
    prime_tagger *t = tagger_of("tagger.pt", PRIME_TORCH_SCORES_LOGITS);
    cr_assert_str_eq(prime_tagger_name(t), "torch");
    cr_assert_eq(prime_tagger_tag_count(t), 12);
    cr_assert_str_eq(prime_tagger_tag_name(t, 0), "sky");
    cr_assert_str_eq(prime_tagger_tag_name(t, 11), "road");
    check_tagger_scores(t, "tagger.pt");

    /* batches of one and of two give the same scores as one of six */
    prime_image **img = load_images();
    for (int i = 0; i < NIMG; i++) {
        float s[12];
        cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)&img[i], 1, s, 12),
                     PRIME_OK, "%s", prime_last_error());
        check_close(s, expect("tagger", IMAGES[i]), 12, "batch of 1");
    }
    for (int i = 0; i < NIMG; i += 2) {
        float s[24];
        cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)&img[i], 2, s, 24),
                     PRIME_OK, "%s", prime_last_error());
        check_close(s, expect("tagger", IMAGES[i]), 12, "batch of 2");
        check_close(s + 12, expect("tagger", IMAGES[i + 1]), 12, "batch of 2");
    }
    /* n = 0 is fine and touches nothing */
    cr_assert_eq(prime_tagger_score(t, NULL, 0, NULL, 0), PRIME_OK, "%s", prime_last_error());
    free_images(img);
    prime_tagger_destroy(t);
}

Test(torch, tagger_thresholds_and_top_k)
{
    prime_tagger *t = tagger_of("tagger.pt", PRIME_TORCH_SCORES_LOGITS);
    prime_image **img = load_images();
    float scores[NIMG * 12];
    cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)img, NIMG, scores,
                                    NIMG * 12),
                 PRIME_OK, "%s", prime_last_error());
    for (int pass = 0; pass < 2; pass++) {
        const char *key = pass == 0 ? "select" : "top3";
        cr_assert_eq(prime_tagger_set_top_k(t, pass == 0 ? 0 : 3), PRIME_OK);
        for (int i = 0; i < NIMG; i++) {
            uint32_t ids[12], n = 0;
            cr_assert_eq(prime_tagger_select(t, scores + i * 12, ids, 12, &n), PRIME_OK);
            const row *w = expect(key, IMAGES[i]);
            cr_assert_eq((int)n, w->n, "%s %s: %u tags, Python %d", key, IMAGES[i], n, w->n);
            for (uint32_t k = 0; k < n; k++)
                cr_assert_eq(ids[k], (uint32_t)w->v[k], "%s %s", key, IMAGES[i]);
        }
    }
    /* per-tag thresholds: 1.1 everywhere but tag 11 (0.0): only tag 11 */
    double th[12];
    for (int k = 0; k < 12; k++)
        th[k] = k == 11 ? 0.0 : 1.1;
    cr_assert_eq(prime_tagger_set_top_k(t, 0), PRIME_OK);
    cr_assert_eq(prime_tagger_set_thresholds(t, th, 12), PRIME_OK);
    uint32_t ids[12], n = 0;
    cr_assert_eq(prime_tagger_select(t, scores, ids, 12, &n), PRIME_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(ids[0], 11);
    free_images(img);
    prime_tagger_destroy(t);
}

Test(torch, tagger_tuple_output_as_probabilities)
{
    prime_tagger *t = tagger_of("tagger_tuple.pt", PRIME_TORCH_SCORES_PROBABILITIES);
    check_tagger_scores(t, "tagger_tuple.pt");
    prime_tagger_destroy(t);
}

Test(torch, tagger_tuple_read_as_logits_gets_a_sigmoid)
{
    /* the same model read as logits: sigmoid(probability) */
    prime_tagger *t = tagger_of("tagger_tuple.pt", PRIME_TORCH_SCORES_LOGITS);
    prime_image **img = load_images();
    float s[12];
    cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)img, 1, s, 12), PRIME_OK,
                 "%s", prime_last_error());
    const row *w = expect("tagger", IMAGES[0]);
    for (int k = 0; k < 12; k++)
        cr_assert(fabs(s[k] - 1.0 / (1.0 + exp(-w->v[k]))) <= TOL, "[%d] %g", k, (double)s[k]);
    free_images(img);
    prime_tagger_destroy(t);
}

Test(torch, tag_files_end_to_end_into_a_store)
{
    prime_tagger *t = tagger_of("tagger.pt", PRIME_TORCH_SCORES_LOGITS);
    char *bad = path_of("PRIME_TEST_DATA", "images/bad/truncated.png");
    const char *paths[NIMG + 1], *classes[NIMG + 1], *names[NIMG + 1];
    for (int i = 0, k = 0; i < NIMG + 1; i++) {
        if (i == 3) {
            paths[i] = bad;
            names[i] = "broken";
        } else {
            paths[i] = data(IMAGES[k]);
            names[i] = IMAGES[k++];
        }
        paths[i] = strdup(paths[i]);
        classes[i] = i % 2 ? "odd" : "even";
    }
    prime_tagstore *store = NULL;
    cr_assert_eq(prime_tagstore_create(&store), PRIME_OK);
    uint32_t failed = 0;
    prime_files_options o = PRIME_FILES_OPTIONS_INIT;
    o.threads = 2;
    o.batch = 4;
    o.image_names = names;
    prime_status st = prime_tagger_tag_files(t, paths, classes, NIMG + 1, &o, store, &failed);
    cr_assert_eq(st, PRIME_E_FORMAT, "%s", prime_last_error());
    cr_assert(contains(prime_last_error(), "truncated.png"), "%s", prime_last_error());
    cr_assert_eq(failed, 1);
    cr_assert_eq(prime_tagstore_image_count(store), NIMG);
    for (uint32_t i = 0; i < NIMG; i++) {
        uint32_t idx = 0;
        cr_assert_eq(prime_tagstore_find_image(store, IMAGES[i], &idx), PRIME_OK, "%s",
                     IMAGES[i]);
        uint32_t ids[12], n = 0;
        cr_assert_eq(prime_tagstore_image_tags(store, idx, ids, 12, &n), PRIME_OK);
        const row *w = expect("select", IMAGES[i]);
        cr_assert_eq((int)n, w->n, "%s: %u tags, Python %d", IMAGES[i], n, w->n);
        /* the store's ids are its own: compare the names, as sets */
        for (int k = 0; k < w->n; k++) {
            const char *want = prime_tagger_tag_name(t, (uint32_t)w->v[k]);
            int found = 0;
            for (uint32_t j = 0; j < n; j++)
                found |= strcmp(prime_tagstore_tag_name(store, ids[j]), want) == 0;
            cr_assert(found, "%s: tag %s missing", IMAGES[i], want);
        }
        const char *cls = prime_tagstore_class_name(store, prime_tagstore_image_class(store, idx));
        cr_assert_str_eq(cls, i < 3 ? (i % 2 ? "odd" : "even") : (i % 2 ? "even" : "odd"));
    }
    prime_tagstore_destroy(store);
    for (int i = 0; i < NIMG + 1; i++)
        free((char *)paths[i]);
    free(bad);
    prime_tagger_destroy(t);
}

/* ---- classifier ------------------------------------------------------------------ */

static void check_classifier(prime_classifier *c, const char *what)
{
    cr_assert_eq(prime_classifier_class_count(c), 4);
    prime_image **img = load_images();
    float s[NIMG * 4];
    uint32_t pred[NIMG];
    cr_assert_eq(prime_classifier_classify(c, (const prime_image *const *)img, NIMG, s,
                                           NIMG * 4, pred),
                 PRIME_OK, "%s", prime_last_error());
    for (int i = 0; i < NIMG; i++) {
        check_close(s + i * 4, expect("classifier", IMAGES[i]), 4, what);
        cr_assert_eq(pred[i], (uint32_t)expect("predicted", IMAGES[i])->v[0], "%s", IMAGES[i]);
    }
    free_images(img);
}

Test(torch, classifier_matches_python)
{
    prime_classifier *c = classifier_of("classifier.pt", "classes.txt");
    check_classifier(c, "classifier.pt");
    cr_assert_str_eq(prime_classifier_class_name(c, 0), "indoor");
    cr_assert_str_eq(prime_classifier_class_name(c, 3), "vehicle");
    cr_assert_null(prime_classifier_class_name(c, 4));
    prime_classifier_destroy(c);
}

Test(torch, classifier_list_output_without_names)
{
    prime_classifier *c = classifier_of("classifier_list.pt", NULL);
    check_classifier(c, "classifier_list.pt");
    cr_assert_str_eq(prime_classifier_class_name(c, 0), "0");
    cr_assert_str_eq(prime_classifier_class_name(c, 3), "3");
    prime_classifier_destroy(c);
}

Test(torch, classifier_names_must_match_the_outputs)
{
    prime_classifier *c = NULL;
    prime_status st =
        prime_torch_classifier_create(data("classifier.pt"), data("vocab.txt"), NULL, &c);
    cr_assert_eq(st, PRIME_E_MISMATCH, "%s", prime_last_error());
    cr_assert_null(c);
    cr_assert(contains(prime_last_error(), "12 class names") &&
                  contains(prime_last_error(), "4 scores"),
              "%s", prime_last_error());
}

Test(torch, classifier_default_spec_is_imagenet)
{
    /* the model is size-agnostic (adaptive pooling): 224 x 224 runs */
    prime_classifier *c = NULL;
    cr_assert_eq(prime_torch_classifier_create(data("classifier.pt"), NULL, NULL, &c), PRIME_OK,
                 "%s", prime_last_error());
    prime_image **img = load_images();
    float s[4];
    cr_assert_eq(prime_classifier_classify(c, (const prime_image *const *)&img[4], 1, s, 4, NULL),
                 PRIME_OK, "%s", prime_last_error());
    free_images(img);
    prime_classifier_destroy(c);
}

/* ---- embedder -------------------------------------------------------------------- */

static char **read_prompts(int *n_out)
{
    FILE *f = fopen(data("prompts.txt"), "r");
    cr_assert(f != NULL);
    char **p = calloc(16, sizeof *p);
    char line[512];
    int n = 0;
    while (n < 16 && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        p[n++] = strdup(line);
    }
    fclose(f);
    *n_out = n;
    return p;
}

Test(torch, embedder_images_and_texts_match_python)
{
    prime_embedder *e = NULL;
    cr_assert_eq(embedder_of("image_encoder.pt", "text_encoder.pt", &e), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_embedder_dimension(e), 16);
    prime_image **img = load_images();
    float v[NIMG * 16];
    cr_assert_eq(prime_embedder_embed_images(e, (const prime_image *const *)img, NIMG, v,
                                             NIMG * 16),
                 PRIME_OK, "%s", prime_last_error());
    for (int i = 0; i < NIMG; i++)
        check_close(v + i * 16, expect("image_embed", IMAGES[i]), 16, "image_encoder.pt");
    free_images(img);

    int n = 0;
    char **prompts = read_prompts(&n);
    cr_assert_eq(n, 6);
    /* the token ids Python fed the model are the C tokenizer's */
    char *bpe = path_of("PRIME_SOURCE_ROOT", "data/clip/bpe_simple_vocab_16e6.txt.gz");
    prime_tokenizer *tok = NULL;
    cr_assert_eq(prime_tokenizer_create(bpe, &tok), PRIME_OK);
    float tv[6 * 16];
    cr_assert_eq(prime_embedder_embed_texts(e, (const char *const *)prompts, (uint32_t)n, tv,
                                            6 * 16),
                 PRIME_OK, "%s", prime_last_error());
    for (int i = 0; i < n; i++) {
        char key[8];
        snprintf(key, sizeof key, "%d", i);
        int64_t ids[77];
        uint32_t len = 0;
        cr_assert_eq(prime_tokenizer_encode_context(tok, prompts[i], strlen(prompts[i]), ids, 77,
                                                    &len, NULL),
                     PRIME_OK);
        const row *w = expect("tokens", key);
        cr_assert_eq((int)len, w->n, "prompt %d", i);
        for (uint32_t k = 0; k < len; k++)
            cr_assert_eq(ids[k], (int64_t)w->v[k], "prompt %d token %u", i, k);
        check_close(tv + i * 16, expect("text_embed", key), 16, "text_encoder.pt");
    }
    prime_tokenizer_destroy(tok);
    free(bpe);
    for (int i = 0; i < n; i++)
        free(prompts[i]);
    free(prompts);
    prime_embedder_destroy(e);
}

Test(torch, embedder_one_side_only)
{
    prime_embedder *e = NULL;
    cr_assert_eq(embedder_of(NULL, "text_encoder.pt", &e), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_embedder_dimension(e), 16);
    prime_image *img = NULL;
    cr_assert_eq(prime_image_create(8, 8, NULL, &img), PRIME_OK);
    float v[16];
    cr_assert_eq(prime_embedder_embed_images(e, (const prime_image *const *)&img, 1, v, 16),
                 PRIME_E_STATE);
    const char *text = "a photo of a dog";
    cr_assert_eq(prime_embedder_embed_texts(e, &text, 1, v, 16), PRIME_OK, "%s",
                 prime_last_error());
    check_close(v, expect("text_embed", "0"), 16, "text only");
    prime_embedder_destroy(e);

    cr_assert_eq(embedder_of("image_encoder.pt", NULL, &e), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_embedder_embed_texts(e, &text, 1, v, 16), PRIME_E_STATE);
    cr_assert_eq(prime_embedder_embed_images(e, (const prime_image *const *)&img, 1, v, 16),
                 PRIME_OK, "%s", prime_last_error());
    prime_embedder_destroy(e);
    prime_image_destroy(img);
}

Test(torch, embedder_dimensions_must_agree)
{
    prime_embedder *e = NULL;
    cr_assert_eq(embedder_of("image_encoder.pt", "text_encoder_d8.pt", &e), PRIME_E_MISMATCH);
    cr_assert_null(e);
    cr_assert(contains(prime_last_error(), "16") && contains(prime_last_error(), " 8"), "%s",
              prime_last_error());
}

Test(torch, embedder_arguments)
{
    prime_embedder *e = NULL;
    cr_assert_eq(prime_torch_embedder_create(NULL, NULL, NULL, NULL, &e), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_torch_embedder_create(NULL, data("text_encoder.pt"), NULL, NULL, &e),
                 PRIME_E_INVALID_ARG);
    cr_assert(contains(prime_last_error(), "BPE"), "%s", prime_last_error());
    cr_assert_eq(prime_torch_embedder_create(data("image_encoder.pt"), NULL, NULL, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    /* a missing BPE file */
    cr_assert_eq(prime_torch_embedder_create(NULL, data("text_encoder.pt"), "/nonexistent.gz",
                                             NULL, &e),
                 PRIME_E_IO, "%s", prime_last_error());
    cr_assert_null(e);
}

/* ---- wrong shapes and bad models --------------------------------------------------- */

static prime_status score_one(prime_tagger *t)
{
    prime_image *img = NULL;
    cr_assert_eq(prime_image_create(32, 32, NULL, &img), PRIME_OK);
    const prime_image *const imgs[2] = {img, img};
    float s[24];
    prime_status st = prime_tagger_score(t, imgs, 2, s, 24);
    prime_image_destroy(img);
    return st;
}

Test(torch, tagger_wrong_width_is_a_mismatch_with_both_shapes)
{
    prime_tagger *t = tagger_of("wrong_width.pt", PRIME_TORCH_SCORES_LOGITS);
    cr_assert_eq(score_one(t), PRIME_E_MISMATCH, "%s", prime_last_error());
    cr_assert(contains(prime_last_error(), "[2, 5]") && contains(prime_last_error(), "[2, 12]"),
              "%s", prime_last_error());
    prime_tagger_destroy(t);
}

Test(torch, tagger_wrong_rank_is_a_mismatch)
{
    prime_tagger *t = tagger_of("rank3.pt", PRIME_TORCH_SCORES_LOGITS);
    cr_assert_eq(score_one(t), PRIME_E_MISMATCH, "%s", prime_last_error());
    cr_assert(contains(prime_last_error(), "[2, 2, 6]"), "%s", prime_last_error());
    prime_tagger_destroy(t);
    /* for a classifier, at creation (the class count is read then) */
    prime_classifier *c = NULL;
    cr_assert_eq(prime_torch_classifier_create(data("rank3.pt"), NULL, NULL, &c),
                 PRIME_E_MISMATCH);
    cr_assert(contains(prime_last_error(), "[1, 2, 6]"), "%s", prime_last_error());
    cr_assert_null(c);
    prime_embedder *e = NULL;
    cr_assert_eq(embedder_of("rank3.pt", NULL, &e), PRIME_E_MISMATCH);
    cr_assert_null(e);
}

Test(torch, ram_vocabulary_against_a_12_tag_model)
{
    char *vocab = path_of("PRIME_SOURCE_ROOT", "data/ram/ram_tag_list.txt");
    prime_image_spec *s = spec(PRIME_IMAGE_PRESET_RAM, PRIME_RESIZE_EXACT, 32);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_torch_tagger_create(data("tagger.pt"), vocab, PRIME_TORCH_SCORES_LOGITS, s,
                                           &t),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagger_tag_count(t), 4585);
    prime_image *img = NULL;
    cr_assert_eq(prime_image_create(32, 32, NULL, &img), PRIME_OK);
    float *out = malloc(4585 * sizeof *out);
    cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)&img, 1, out, 4585),
                 PRIME_E_MISMATCH);
    cr_assert(contains(prime_last_error(), "[1, 12]") &&
                  contains(prime_last_error(), "[1, 4585]"),
              "%s", prime_last_error());
    free(out);
    prime_image_destroy(img);
    prime_tagger_destroy(t);
    prime_image_spec_destroy(s);
    free(vocab);
}

Test(torch, output_that_is_not_a_tensor)
{
    prime_tagger *t = tagger_of("not_tensor.pt", PRIME_TORCH_SCORES_LOGITS);
    cr_assert_eq(score_one(t), PRIME_E_MISMATCH, "%s", prime_last_error());
    cr_assert(contains(prime_last_error(), "Int"), "%s", prime_last_error());
    prime_tagger_destroy(t);
}

Test(torch, forward_failure_is_a_status_with_libtorch_message)
{
    prime_tagger *t = tagger_of("one_channel.pt", PRIME_TORCH_SCORES_LOGITS);
    cr_assert_eq(score_one(t), PRIME_E_STATE, "%s", prime_last_error());
    cr_assert(contains(prime_last_error(), "forward pass failed") &&
                  contains(prime_last_error(), "channels"),
              "%s", prime_last_error());
    /* the handle still works after a failure (and fails the same way) */
    cr_assert_eq(score_one(t), PRIME_E_STATE);
    prime_tagger_destroy(t);
}

Test(torch, missing_files_are_io_errors)
{
    prime_tagger *t = NULL;
    cr_assert_eq(prime_torch_tagger_create("/nonexistent/model.pt", data("vocab.txt"),
                                           PRIME_TORCH_SCORES_LOGITS, NULL, &t),
                 PRIME_E_IO);
    cr_assert(contains(prime_last_error(), "/nonexistent/model.pt"), "%s", prime_last_error());
    cr_assert_eq(prime_torch_tagger_create(data("tagger.pt"), "/nonexistent/vocab.txt",
                                           PRIME_TORCH_SCORES_LOGITS, NULL, &t),
                 PRIME_E_IO);
    cr_assert(contains(prime_last_error(), "/nonexistent/vocab.txt"), "%s", prime_last_error());
    cr_assert_eq(prime_torch_tagger_create(data(""), data("vocab.txt"),
                                           PRIME_TORCH_SCORES_LOGITS, NULL, &t),
                 PRIME_E_IO, "a directory: %s", prime_last_error());
    prime_classifier *c = NULL;
    cr_assert_eq(prime_torch_classifier_create("/nonexistent/c.pt", NULL, NULL, &c), PRIME_E_IO);
    cr_assert_eq(prime_torch_classifier_create(data("classifier.pt"), "/nonexistent/n.txt", NULL,
                                               &c),
                 PRIME_E_IO);
    prime_embedder *e = NULL;
    cr_assert_eq(embedder_of("nonexistent.pt", NULL, &e), PRIME_E_IO);
    cr_assert_eq(embedder_of(NULL, "nonexistent.pt", &e), PRIME_E_IO);
    cr_assert(t == NULL && c == NULL && e == NULL);
}

Test(torch, files_that_are_not_torchscript_are_parse_errors)
{
    const char *bad[] = {"img_a.png", "state_dict.pt", "vocab.txt"};
    for (int i = 0; i < 3; i++) {
        prime_tagger *t = NULL;
        prime_status st = prime_torch_tagger_create(data(bad[i]), data("vocab.txt"),
                                                    PRIME_TORCH_SCORES_LOGITS, NULL, &t);
        cr_assert_eq(st, PRIME_E_PARSE, "%s: %s", bad[i], prime_last_error());
        cr_assert_null(t);
        const char *msg = prime_last_error();
        cr_assert(contains(msg, bad[i]) && contains(msg, "not a TorchScript file"), "%s", msg);
        cr_assert(strchr(msg, '\n') == NULL, "one line: %s", msg);
    }
    /* a truncated copy of a real model */
    char tmp[] = "/tmp/prime-torch-XXXXXX";
    int fd = mkstemp(tmp);
    cr_assert(fd >= 0);
    FILE *in = fopen(data("tagger.pt"), "rb");
    char buf[2000];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    close(fd);
    prime_classifier *c = NULL;
    cr_assert_eq(prime_torch_classifier_create(tmp, NULL, NULL, &c), PRIME_E_PARSE, "%s",
                 prime_last_error());
    unlink(tmp);
}

static prime_status vocab_file(const char *text, size_t len)
{
    char tmp[] = "/tmp/prime-torch-vocab-XXXXXX";
    int fd = mkstemp(tmp);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    prime_tagger *t = NULL;
    prime_status st = prime_torch_tagger_create(data("tagger.pt"), tmp, PRIME_TORCH_SCORES_LOGITS,
                                                NULL, &t);
    unlink(tmp);
    if (st == PRIME_OK) {
        cr_assert_eq(prime_tagger_tag_count(t), 2);
        prime_tagger_destroy(t);
    } else {
        cr_assert(contains(prime_last_error(), "prime-torch-vocab-"), "%s", prime_last_error());
    }
    return st;
}

Test(torch, vocabulary_lines_are_checked)
{
    cr_assert_eq(vocab_file("dog\r\ncat\r\n\n\n", 12), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(vocab_file("dog\n\ncat\n", 9), PRIME_E_PARSE);
    cr_assert(contains(prime_last_error(), ":2: a blank line"), "%s", prime_last_error());
    cr_assert_eq(vocab_file("dog\ncat|x\n", 10), PRIME_E_PARSE);
    cr_assert(contains(prime_last_error(), ":2:"), "%s", prime_last_error());
    cr_assert_eq(vocab_file("dog\n\xff\xfe\n", 7), PRIME_E_PARSE);
    cr_assert(contains(prime_last_error(), "UTF-8"), "%s", prime_last_error());
    cr_assert_eq(vocab_file("dog\ncat\ndog\n", 12), PRIME_E_DUPLICATE);
    cr_assert(contains(prime_last_error(), ":3:") && contains(prime_last_error(), "line 1"),
              "%s", prime_last_error());
    /* a UTF-8 BOM is skipped: the first name is "dog", the same as the second */
    cr_assert_eq(vocab_file("\xEF\xBB\xBF" "dog\ncat\n", 11), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(vocab_file("\xEF\xBB\xBF" "dog\ndog\n", 11), PRIME_E_DUPLICATE);
    cr_assert_eq(vocab_file("", 0), PRIME_E_PARSE);
    char longname[300];
    memset(longname, 'a', 256);
    memcpy(longname + 256, "\n", 2);
    cr_assert_eq(vocab_file(longname, 257), PRIME_E_LIMIT);
}

Test(torch, null_arguments)
{
    prime_tagger *t = (prime_tagger *)1;
    cr_assert_eq(prime_torch_tagger_create(NULL, data("vocab.txt"), 0, NULL, &t),
                 PRIME_E_INVALID_ARG);
    cr_assert_null(t);
    cr_assert_eq(prime_torch_tagger_create(data("tagger.pt"), NULL, 0, NULL, &t),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_torch_tagger_create(data("tagger.pt"), data("vocab.txt"), 0, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_torch_tagger_create(data("tagger.pt"), data("vocab.txt"), 7, NULL, &t),
                 PRIME_E_INVALID_ARG);
    cr_assert(contains(prime_last_error(), "7"), "%s", prime_last_error());
    prime_classifier *c = NULL;
    cr_assert_eq(prime_torch_classifier_create(NULL, NULL, NULL, &c), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_torch_classifier_create(data("classifier.pt"), NULL, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    /* a NULL image in a batch */
    t = tagger_of("tagger.pt", PRIME_TORCH_SCORES_LOGITS);
    prime_image *img = NULL;
    cr_assert_eq(prime_image_create(4, 4, NULL, &img), PRIME_OK);
    const prime_image *imgs[2] = {img, NULL};
    float s[24];
    prime_status st = prime_tagger_score(t, imgs, 2, s, 24);
    cr_assert_eq(st, PRIME_E_INVALID_ARG, "%s", prime_last_error());
    prime_image_destroy(img);
    prime_tagger_destroy(t);
}

/* ---- devices and precision (issue 15) ------------------------------------------ */

static prime_status tagger_with(const char *device, int32_t dtype, uint32_t size,
                                prime_tagger **out)
{
    prime_image_spec *s = spec(PRIME_IMAGE_PRESET_RAM, PRIME_RESIZE_EXACT, 32);
    prime_torch_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = size;
    o.device = device;
    o.dtype = dtype;
    prime_status st = prime_torch_tagger_create_with(data("tagger.pt"), data("vocab.txt"),
                                                     PRIME_TORCH_SCORES_LOGITS, s, &o, out);
    prime_image_spec_destroy(s);
    return st;
}

Test(torch, device_and_dtype_errors)
{
    prime_tagger *t = NULL;
    static const char *const bad[] = {"gpu", "cuda:", "cuda:x", "cuda:-1", "CPU", "cuda:123456"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cr_assert_eq(tagger_with(bad[k], PRIME_TORCH_FLOAT32, sizeof(prime_torch_options), &t),
                     PRIME_E_INVALID_ARG, "%s: %s", bad[k], prime_last_error());
        cr_assert_null(t);
    }
    cr_assert_eq(tagger_with("cpu", 7, sizeof(prime_torch_options), &t), PRIME_E_INVALID_ARG);
    cr_assert_eq(tagger_with("cpu", 0, 4, &t), PRIME_E_INVALID_ARG);
    /* cuda where this libtorch or machine has none: a clear status, no abort */
    prime_status st = tagger_with("cuda", PRIME_TORCH_FLOAT32, sizeof(prime_torch_options), &t);
    if (st != PRIME_OK) {
        cr_assert_eq(st, PRIME_E_NOT_FOUND, "%s", prime_last_error());
        cr_assert(contains(prime_last_error(), "CUDA"), "%s", prime_last_error());
        cr_assert_null(t);
    }
    prime_tagger_destroy(t);
    t = NULL;
    /* cpu and the defaults (NULL device) give the float32 scores */
    cr_assert_eq(tagger_with(NULL, PRIME_TORCH_FLOAT32, sizeof(prime_torch_options), &t),
                 PRIME_OK, "%s", prime_last_error());
    check_tagger_scores(t, "tagger.pt");
    prime_tagger_destroy(t);
}

/* float16 and bfloat16 on the CPU: within 2e-2 of float32 (a sigmoid of
 * logits computed with 8- and 11-bit mantissas) where libtorch has the
 * kernels; where it lacks them, a clear PRIME_E_STATE on the forward pass,
 * and the handle stays usable. */
Test(torch, reduced_precision_on_the_cpu)
{
    prime_image **img = load_images();
    float ref[NIMG * 12], got[NIMG * 12];
    prime_tagger *t = NULL;
    cr_assert_eq(tagger_with("cpu", PRIME_TORCH_FLOAT32, sizeof(prime_torch_options), &t),
                 PRIME_OK);
    cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)img, NIMG, ref, NIMG * 12),
                 PRIME_OK, "%s", prime_last_error());
    prime_tagger_destroy(t);
    for (int32_t dt = PRIME_TORCH_FLOAT16; dt <= PRIME_TORCH_BFLOAT16; dt++) {
        cr_assert_eq(tagger_with("cpu", dt, sizeof(prime_torch_options), &t), PRIME_OK, "%s",
                     prime_last_error());
        prime_status st =
            prime_tagger_score(t, (const prime_image *const *)img, NIMG, got, NIMG * 12);
        if (st == PRIME_OK) {
            for (int k = 0; k < NIMG * 12; k++)
                cr_assert(fabsf(got[k] - ref[k]) <= 2e-2f, "dtype %d score %d: %g vs %g", dt, k,
                          got[k], ref[k]);
        } else {
            cr_assert_eq(st, PRIME_E_STATE, "%s", prime_last_error());
            cr_log_info("dtype %d not supported on this CPU libtorch: %s", dt, prime_last_error());
            /* still usable: the same clean failure again */
            cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)img, 1, got, 12),
                         PRIME_E_STATE);
        }
        prime_tagger_destroy(t);
    }
    free_images(img);
}

Test(torch, classifier_and_embedder_options)
{
    prime_torch_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.device = "cuda:0";
    prime_image_spec *s = spec(PRIME_IMAGE_PRESET_IMAGENET, PRIME_RESIZE_SHORTER_CROP, 36);
    prime_classifier *c = NULL;
    prime_status st = prime_torch_classifier_create_with(data("classifier.pt"), NULL, s, &o, &c);
    cr_assert(st == PRIME_OK || st == PRIME_E_NOT_FOUND, "%s", prime_last_error());
    prime_classifier_destroy(c);
    c = NULL;
    o.device = "cpu";
    o.dtype = PRIME_TORCH_BFLOAT16;
    cr_assert_eq(prime_torch_classifier_create_with(data("classifier.pt"), NULL, s, &o, &c),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_classifier_class_count(c), 4);
    prime_classifier_destroy(c);
    o.dtype = 9;
    cr_assert_eq(prime_torch_classifier_create_with(data("classifier.pt"), NULL, s, &o, &c),
                 PRIME_E_INVALID_ARG);
    cr_assert_null(c);
    prime_image_spec_destroy(s);
    /* the text encoder keeps int64 token ids at bfloat16 */
    s = spec(PRIME_IMAGE_PRESET_CLIP, PRIME_RESIZE_SHORTER_CROP, 32);
    char *bpe = path_of("PRIME_SOURCE_ROOT", "data/clip/bpe_simple_vocab_16e6.txt.gz");
    o.dtype = PRIME_TORCH_BFLOAT16;
    prime_embedder *e = NULL;
    st = prime_torch_embedder_create_with(data("image_encoder.pt"), data("text_encoder.pt"), bpe,
                                          s, &o, &e);
    cr_assert(st == PRIME_OK || st == PRIME_E_STATE, "%s", prime_last_error());
    if (st == PRIME_OK) {
        const char *texts[] = {"a photo of a dog"};
        float v[64];
        uint32_t d = prime_embedder_dimension(e);
        cr_assert_leq(d, 64);
        cr_assert_eq(prime_embedder_embed_texts(e, texts, 1, v, 64), PRIME_OK, "%s",
                     prime_last_error());
    }
    prime_embedder_destroy(e);
    free(bpe);
    prime_image_spec_destroy(s);
}

static prime_status embedder_with(const char *device, int32_t dtype, const char *image_model,
                                  const char *text_model, prime_embedder **out)
{
    prime_image_spec *s = spec(PRIME_IMAGE_PRESET_CLIP, PRIME_RESIZE_SHORTER_CROP, 32);
    char *bpe = path_of("PRIME_SOURCE_ROOT", "data/clip/bpe_simple_vocab_16e6.txt.gz");
    prime_torch_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.device = device;
    o.dtype = dtype;
    prime_status st = prime_torch_embedder_create_with(
        image_model ? data(image_model) : NULL, text_model ? data(text_model) : NULL, bpe, s, &o,
        out);
    free(bpe);
    prime_image_spec_destroy(s);
    return st;
}

/* The zero-shot path (CLIP image and text vectors, issue 15): the options
 * reach both encoders. cuda on a CPU-only libtorch (or a machine without the
 * GPU) is PRIME_E_NOT_FOUND with a message naming CUDA, for either encoder
 * alone and for both; a handle made before stays usable, and so does the
 * process (a cpu embedder made afterwards gives the Python vectors); where
 * CUDA is there, the GPU's vectors are within 1e-3 of the CPU's. On the
 * CPU, float32 equals the plain constructor exactly, through a zero-shot
 * tagger too; bfloat16 stays within 5e-2 of float32 where libtorch has the
 * kernels, else it fails at creation with PRIME_E_STATE. */
Test(torch, embedder_devices_and_zeroshot)
{
    prime_embedder *before = NULL, *e = NULL;
    cr_assert_eq(embedder_of("image_encoder.pt", "text_encoder.pt", &before), PRIME_OK, "%s",
                 prime_last_error());
    prime_image **img = load_images();
    float ref[NIMG * 16], got[NIMG * 16], tref[2 * 16], tgot[2 * 16];
    const char *texts[2] = {"a photo of a dog", "a photo of a cat"};
    cr_assert_eq(prime_embedder_embed_images(before, (const prime_image *const *)img, NIMG, ref,
                                             NIMG * 16),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_embedder_embed_texts(before, texts, 2, tref, 2 * 16), PRIME_OK);
    const char *sides[3][2] = {{"image_encoder.pt", "text_encoder.pt"},
                               {"image_encoder.pt", NULL},
                               {NULL, "text_encoder.pt"}};
    for (int k = 0; k < 3; k++) {
        prime_status st = embedder_with("cuda", PRIME_TORCH_FLOAT32, sides[k][0], sides[k][1], &e);
        if (st == PRIME_OK) { /* a machine with CUDA (scripts/device_check.sh): as on the CPU */
            cr_log_info("CUDA available: side %d checked on the GPU", k);
            if (sides[k][0] != NULL) {
                cr_assert_eq(prime_embedder_embed_images(e, (const prime_image *const *)img,
                                                         NIMG, got, NIMG * 16),
                             PRIME_OK, "%s", prime_last_error());
                for (int j = 0; j < NIMG * 16; j++)
                    cr_assert(fabsf(got[j] - ref[j]) <= 1e-3f * fmaxf(1.0f, fabsf(ref[j])),
                              "cuda image value %d: %g vs %g", j, got[j], ref[j]);
            }
            if (sides[k][1] != NULL) {
                cr_assert_eq(prime_embedder_embed_texts(e, texts, 2, tgot, 2 * 16), PRIME_OK,
                             "%s", prime_last_error());
                for (int j = 0; j < 2 * 16; j++)
                    cr_assert(fabsf(tgot[j] - tref[j]) <= 1e-3f * fmaxf(1.0f, fabsf(tref[j])),
                              "cuda text value %d: %g vs %g", j, tgot[j], tref[j]);
            }
            prime_embedder_destroy(e);
            e = NULL;
            continue;
        }
        cr_assert_eq(st, PRIME_E_NOT_FOUND, "side %d: %s", k, prime_last_error());
        cr_assert(contains(prime_last_error(), "device cuda") &&
                      contains(prime_last_error(), "CUDA"),
                  "%s", prime_last_error());
        cr_assert_null(e);
    }
    cr_assert_eq(embedder_with("cuda:x", PRIME_TORCH_FLOAT32, "image_encoder.pt", NULL, &e),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(embedder_with("cpu", 5, NULL, "text_encoder.pt", &e), PRIME_E_INVALID_ARG);
    cr_assert_null(e);

    /* the handle made before the refusals still embeds as Python does */
    cr_assert_eq(prime_embedder_embed_images(before, (const prime_image *const *)img, NIMG, got,
                                             NIMG * 16),
                 PRIME_OK, "%s", prime_last_error());
    for (int i = 0; i < NIMG; i++)
        check_close(got + i * 16, expect("image_embed", IMAGES[i]), 16, "after cuda refusals");
    cr_assert_eq(memcmp(got, ref, sizeof ref), 0, "the vectors changed after the refusals");

    /* cpu, float32: the very same vectors as the plain constructor */
    cr_assert_eq(embedder_with("cpu", PRIME_TORCH_FLOAT32, "image_encoder.pt", "text_encoder.pt",
                               &e),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_embedder_embed_images(e, (const prime_image *const *)img, NIMG, got,
                                             NIMG * 16),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(memcmp(got, ref, sizeof ref), 0, "cpu float32 image vectors differ");
    cr_assert_eq(prime_embedder_embed_texts(e, texts, 2, tgot, 2 * 16), PRIME_OK);
    cr_assert_eq(memcmp(tgot, tref, sizeof tref), 0, "cpu float32 text vectors differ");

    /* through the zero-shot tagger: the same scores from both embedders */
    const char *tags[3] = {"dog", "cat", "red"};
    prime_tagger *z1 = NULL, *z2 = NULL;
    cr_assert_eq(prime_zeroshot_tagger_create(before, tags, 3, NULL, &z1), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_zeroshot_tagger_create(e, tags, 3, NULL, &z2), PRIME_OK, "%s",
                 prime_last_error());
    float s1[NIMG * 3], s2[NIMG * 3];
    cr_assert_eq(prime_tagger_score(z1, (const prime_image *const *)img, NIMG, s1, NIMG * 3),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagger_score(z2, (const prime_image *const *)img, NIMG, s2, NIMG * 3),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(memcmp(s1, s2, sizeof s1), 0, "zero-shot scores differ");
    prime_tagger_destroy(z1); /* owns `before` */
    prime_tagger_destroy(z2); /* owns `e` */
    e = NULL;

    /* bfloat16 on the CPU: close to float32, or a clear failure at creation */
    for (int32_t dt = PRIME_TORCH_FLOAT16; dt <= PRIME_TORCH_BFLOAT16; dt++) {
        prime_status st = embedder_with("cpu", dt, "image_encoder.pt", "text_encoder.pt", &e);
        if (st != PRIME_OK) {
            cr_assert_eq(st, PRIME_E_STATE, "dtype %d: %s", dt, prime_last_error());
            cr_assert_null(e);
            cr_log_info("dtype %d on this CPU libtorch: %s", dt, prime_last_error());
            continue;
        }
        cr_assert_eq(prime_embedder_embed_images(e, (const prime_image *const *)img, NIMG, got,
                                                 NIMG * 16),
                     PRIME_OK, "%s", prime_last_error());
        cr_assert_eq(prime_embedder_embed_texts(e, texts, 2, tgot, 2 * 16), PRIME_OK, "%s",
                     prime_last_error());
        for (int k = 0; k < NIMG * 16; k++)
            cr_assert(fabsf(got[k] - ref[k]) <= 5e-2f * fmaxf(1.0f, fabsf(ref[k])),
                      "dtype %d image value %d: %g vs %g", dt, k, got[k], ref[k]);
        for (int k = 0; k < 2 * 16; k++)
            cr_assert(fabsf(tgot[k] - tref[k]) <= 5e-2f * fmaxf(1.0f, fabsf(tref[k])),
                      "dtype %d text value %d: %g vs %g", dt, k, tgot[k], tref[k]);
        prime_embedder_destroy(e);
        e = NULL;
    }
    free_images(img);
}

/* ---- the batch guard (issue 17) ---------------------------------------------------- */

/* trap_*.pt (scripts/make_torch_guard_models.py): Swin's window_reverse with
 * its int(...) batch; traced with a batch of 2 (trap_traced.pt) or 1
 * (trap_traced1.pt) the batch is a constant, scripted (trap_scripted.pt) it is
 * not. [N, 3, 32, 32] -> [N, 12], like tagger.pt. */

static void expect_err_msg(prime_status got, prime_status want, const char *fragment)
{
    cr_assert_eq(got, want, "status %d, expected %d: %s", got, want, prime_last_error());
    cr_assert(contains(prime_last_error(), fragment), "'%s' not in: %s", fragment,
              prime_last_error());
}

static void expect_batch_refusal(prime_status st, const char *model)
{
    cr_assert_eq(st, PRIME_E_MISMATCH, "%s: %s", model, prime_last_error());
    cr_assert(contains(prime_last_error(), "output depends on the batch size: traced with a "
                                           "fixed batch?") &&
                  contains(prime_last_error(), model),
              "%s", prime_last_error());
}

Test(torch, guard_refuses_a_model_traced_with_a_fixed_batch)
{
    const char *traps[] = {"trap_traced.pt", "trap_traced1.pt"};
    cr_assert_eq(prime_torch_check_batch(), 2, "the default");
    for (int k = 0; k < 2; k++) {
        prime_image_spec *s = spec(PRIME_IMAGE_PRESET_RAM, PRIME_RESIZE_EXACT, 32);
        prime_tagger *t = NULL;
        expect_batch_refusal(prime_torch_tagger_create(data(traps[k]), data("vocab.txt"),
                                                       PRIME_TORCH_SCORES_LOGITS, s, &t),
                             traps[k]);
        cr_assert_null(t);
        prime_image_spec_destroy(s);
        prime_classifier *c = NULL;
        s = spec(PRIME_IMAGE_PRESET_IMAGENET, PRIME_RESIZE_SHORTER_CROP, 36);
        expect_batch_refusal(prime_torch_classifier_create(data(traps[k]), NULL, s, &c),
                             traps[k]);
        cr_assert_null(c);
        prime_image_spec_destroy(s);
        prime_embedder *e = NULL;
        expect_batch_refusal(embedder_of(traps[k], NULL, &e), traps[k]);
        cr_assert_null(e);
    }
}

/* Scores of images[0..n) in one batch, and of each image alone. */
static double batch_vs_alone(prime_tagger *t, prime_image **img, uint32_t n)
{
    float together[8 * 12], alone[12];
    cr_assert(n <= 8);
    cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)img, n, together, n * 12),
                 PRIME_OK, "%s", prime_last_error());
    double worst = 0;
    for (uint32_t i = 0; i < n; i++) {
        cr_assert_eq(prime_tagger_score(t, (const prime_image *const *)&img[i], 1, alone, 12),
                     PRIME_OK);
        for (int j = 0; j < 12; j++)
            worst = fmax(worst, fabs((double)together[i * 12 + j] - alone[j]));
    }
    return worst;
}

Test(torch, guard_accepts_the_scripted_model_and_every_good_one)
{
    cr_assert_eq(prime_torch_set_check_batch(32), PRIME_OK);
    cr_assert_eq(prime_torch_check_batch(), 32);
    prime_tagger *t = tagger_of("trap_scripted.pt", PRIME_TORCH_SCORES_PROBABILITIES);
    prime_image **img = load_images();
    double d = batch_vs_alone(t, img, 3);
    cr_assert(d <= 1e-6, "scripted: batch of 3 vs alone %g", d);
    prime_tagger_destroy(t);
    /* the models of the other tests, every role, with batches of 1, 2 and 32 */
    t = tagger_of("tagger.pt", PRIME_TORCH_SCORES_LOGITS);
    prime_tagger_destroy(t);
    t = tagger_of("tagger_tuple.pt", PRIME_TORCH_SCORES_PROBABILITIES);
    prime_tagger_destroy(t);
    prime_classifier_destroy(classifier_of("classifier.pt", "classes.txt"));
    prime_classifier_destroy(classifier_of("classifier_list.pt", NULL));
    prime_embedder *e = NULL;
    cr_assert_eq(embedder_of("image_encoder.pt", "text_encoder.pt", &e), PRIME_OK, "%s",
                 prime_last_error());
    prime_embedder_destroy(e);
    free_images(img);
}

Test(torch, guard_off_shows_the_trap)
{
    expect_err_msg(prime_torch_set_check_batch(1), PRIME_E_INVALID_ARG, "(0, or 2 to 4096)");
    expect_err_msg(prime_torch_set_check_batch(4097), PRIME_E_INVALID_ARG, "4097");
    cr_assert_eq(prime_torch_check_batch(), 2, "unchanged by a refused value");
    cr_assert_eq(prime_torch_set_check_batch(0), PRIME_OK);
    prime_tagger *t = tagger_of("trap_traced.pt", PRIME_TORCH_SCORES_PROBABILITIES);
    prime_image **img = load_images();
    double d = batch_vs_alone(t, img, 3);
    cr_assert(d > 1e-2, "without the guard the traced model is silently wrong (%g)", d);
    prime_tagger_destroy(t);
    free_images(img);
}

/* ---- RAM's selection rule (issue 18) ------------------------------------------------ */

/* ram_logits.pt gives fixed logits for RAM's 4,585 tags, around the points
 * where torch's float32 sigmoid ties a tag's threshold and around 16.636
 * where it reaches 1.0; ram_rule.txt holds torch.sigmoid of them and RAM's
 * selection (sigmoid > float32 threshold), for batches of 1 and 2. */
Test(torch, ram_rule_selects_exactly_as_ram)
{
    char *vocab = path_of("PRIME_SOURCE_ROOT", "data/ram/ram_tag_list.txt");
    char *thr = path_of("PRIME_SOURCE_ROOT", "data/ram/ram_tag_list_threshold.txt");
    prime_image_spec *s = spec(PRIME_IMAGE_PRESET_RAM, PRIME_RESIZE_EXACT, 8);
    cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_EXACT, 8, 8, 8), PRIME_OK);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_torch_tagger_create(data("ram_logits.pt"), vocab,
                                           PRIME_TORCH_SCORES_LOGITS, s, &t),
                 PRIME_OK, "%s", prime_last_error());
    int32_t rule = -1;
    cr_assert_eq(prime_tagger_get_rule(t, &rule), PRIME_OK);
    cr_assert_eq(rule, PRIME_TAGGER_RULE_ABOVE, "the torch tagger's default is RAM's rule");
    cr_assert_eq(prime_tagger_load_thresholds(t, thr), PRIME_OK, "%s", prime_last_error());
    const uint32_t T = 4585;
    float *sc = malloc(2 * T * sizeof *sc);
    uint32_t *ids = malloc(T * sizeof *ids), *want = malloc(T * sizeof *want);
    prime_image *img = NULL;
    cr_assert_eq(prime_image_create(8, 8, NULL, &img), PRIME_OK);
    const prime_image *imgs[2] = {img, img};
    FILE *f = fopen(data("ram_rule.txt"), "r");
    cr_assert_not_null(f);
    size_t cap = 1 << 20;
    char *line = malloc(cap);
    int rows_checked = 0, ones_checked = 0;
    while (fgets(line, (int)cap, f) != NULL) {
        if (line[0] == '#')
            continue;
        char key[16];
        int n = 0, i = 0, off = 0;
        cr_assert_eq(sscanf(line, "%15s %d %d%n", key, &n, &i, &off), 3);
        char *p = line + off, *end;
        if (strcmp(key, "sigmoid") == 0) {
            if (i == 0)
                cr_assert_eq(prime_tagger_score(t, imgs, (uint32_t)n, sc, 2 * T), PRIME_OK, "%s",
                             prime_last_error());
            for (uint32_t j = 0; j < T; j++) {
                float v = strtof(p, &end);
                cr_assert(end != p);
                p = end;
                cr_assert(sc[i * T + j] == v, "N=%d row %d tag %u: C %.9g, torch %.9g", n, i,
                          j, (double)sc[i * T + j], (double)v);
                ones_checked += v == 1.0f;
            }
        } else {
            uint32_t m = (uint32_t)strtoul(p, &end, 10), got = 0;
            p = end;
            for (uint32_t k = 0; k < m; k++) {
                want[k] = (uint32_t)strtoul(p, &end, 10);
                p = end;
            }
            cr_assert_eq(prime_tagger_select(t, sc + i * T, ids, T, &got), PRIME_OK);
            cr_assert_eq(got, m, "N=%d row %d: C selects %u tags, RAM %u", n, i, got, m);
            for (uint32_t k = 0; k < m; k++)
                cr_assert_eq(ids[k], want[k]);
            for (uint32_t k = 0; k < m; k++) {
                double th = 0;
                cr_assert_eq(prime_tagger_get_threshold(t, ids[k], &th), PRIME_OK);
                cr_assert(th < 1.0, "a tag of threshold 1 is never selected");
            }
            rows_checked++;
        }
    }
    fclose(f);
    cr_assert_eq(rows_checked, 3);
    cr_assert(ones_checked > 100, "sigmoids of exactly 1.0 were checked (%d)", ones_checked);
    /* the same scores under >= select more: the rule matters */
    uint32_t ge = 0, above = 0;
    cr_assert_eq(prime_tagger_select(t, sc, ids, T, &above), PRIME_OK);
    cr_assert_eq(prime_tagger_set_rule(t, PRIME_TAGGER_RULE_AT_LEAST), PRIME_OK);
    cr_assert_eq(prime_tagger_select(t, sc, ids, T, &ge), PRIME_OK);
    cr_assert(ge > above, ">= %u, > %u", ge, above);
    free(line);
    free(sc);
    free(ids);
    free(want);
    prime_image_destroy(img);
    prime_tagger_destroy(t);
    prime_image_spec_destroy(s);
    free(vocab);
    free(thr);
}
