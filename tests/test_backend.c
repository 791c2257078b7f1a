/* Backend suite (include/prime/backend.h): the layout of the backend structs
 * is pinned (static_assert on every offset, LP64), fake C backends prove the
 * interface is pluggable (validation errors, error propagation, ownership),
 * scores become tags by thresholds and top-k, tags feed a tag store, and the
 * model-free image-property tagger gives its documented tags. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "internal.h"
#include "prime/sys/backend.h"

/* ---- the ABI: every field offset pinned (64-bit pointers) ------------------- */

#if UINTPTR_MAX == UINT64_MAX
#define PIN(T, f, off) _Static_assert(offsetof(T, f) == (off), #T "." #f " moved")
PIN(prime_tagger_backend, abi_version, 0);
PIN(prime_tagger_backend, struct_size, 4);
PIN(prime_tagger_backend, self, 8);
PIN(prime_tagger_backend, name, 16);
PIN(prime_tagger_backend, destroy, 24);
PIN(prime_tagger_backend, tag_count, 32);
PIN(prime_tagger_backend, tag_name, 40);
PIN(prime_tagger_backend, score, 48);
_Static_assert(sizeof(prime_tagger_backend) == 56, "tagger backend size");
_Static_assert(PRIME_TAGGER_BACKEND_SIZE_V1 == 56, "tagger v1 size");
PIN(prime_classifier_backend, abi_version, 0);
PIN(prime_classifier_backend, struct_size, 4);
PIN(prime_classifier_backend, self, 8);
PIN(prime_classifier_backend, name, 16);
PIN(prime_classifier_backend, destroy, 24);
PIN(prime_classifier_backend, class_count, 32);
PIN(prime_classifier_backend, class_name, 40);
PIN(prime_classifier_backend, classify, 48);
_Static_assert(sizeof(prime_classifier_backend) == 56, "classifier backend size");
_Static_assert(PRIME_CLASSIFIER_BACKEND_SIZE_V1 == 56, "classifier v1 size");
PIN(prime_embedder_backend, abi_version, 0);
PIN(prime_embedder_backend, struct_size, 4);
PIN(prime_embedder_backend, self, 8);
PIN(prime_embedder_backend, name, 16);
PIN(prime_embedder_backend, destroy, 24);
PIN(prime_embedder_backend, dimension, 32);
PIN(prime_embedder_backend, embed_images, 40);
PIN(prime_embedder_backend, embed_texts, 48);
_Static_assert(sizeof(prime_embedder_backend) == 56, "embedder backend size");
_Static_assert(PRIME_EMBEDDER_BACKEND_SIZE_V1 == 56, "embedder v1 size");
#endif
_Static_assert(PRIME_BACKEND_ABI_VERSION == 1, "backend ABI version");

/* ---- a fake tagger: 4 tags, scores set by the test ------------------------------ */

typedef struct {
    int destroyed;
    int calls;
    const char *names[4];
    float fixed[4];        /* scores of every image, unless per_pixel */
    int per_pixel;         /* score tag t = (first red byte == t * 10) */
    prime_status fail;     /* returned by score when not OK */
    const char *fail_msg;  /* set with prime_backend_error when not NULL */
    int give_nan;
    int alloc_in_score;    /* the backend allocates and frees per call */
    uint32_t last_w, last_h; /* the size of the last image scored */
} fake;

static void fake_destroy(void *self) { ((fake *)self)->destroyed++; }
static uint32_t fake_count(void *self) { (void)self; return 4; }
static const char *fake_name(void *self, uint32_t i) { return ((fake *)self)->names[i]; }

static prime_status fake_score(void *self, const prime_image *const *images, uint32_t n,
                               float *scores)
{
    fake *f = self;
    f->calls++;
    if (f->alloc_in_score) {
        void *p = malloc(100);
        free(p);
    }
    if (f->fail != PRIME_OK)
        return f->fail_msg != NULL ? prime_backend_error(f->fail, f->fail_msg) : f->fail;
    if (n > 0) {
        f->last_w = prime_image_width(images[n - 1]);
        f->last_h = prime_image_height(images[n - 1]);
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t t = 0; t < 4; t++) {
            float v = f->fixed[t];
            if (f->per_pixel) {
                uint8_t px[3];
                /* a 1x1 image: its red byte says which tag is on */
                cr_assert_eq(prime_image_copy_pixels(images[i], px, 3, NULL), PRIME_OK);
                v = px[0] == t * 10 ? 0.9f : 0.1f;
            }
            scores[i * 4 + t] = f->give_nan && t == 2 ? NAN : v;
        }
    return PRIME_OK;
}

static prime_tagger_backend fake_backend(fake *f)
{
    prime_tagger_backend b = PRIME_TAGGER_BACKEND_INIT;
    b.self = f;
    b.name = "fake";
    b.destroy = fake_destroy;
    b.tag_count = fake_count;
    b.tag_name = fake_name;
    b.score = fake_score;
    return b;
}

static fake fake_init(void)
{
    fake f;
    memset(&f, 0, sizeof f);
    f.names[0] = "cat";
    f.names[1] = "dog";
    f.names[2] = "snow";
    f.names[3] = "zoo";
    f.fixed[0] = 0.9f;
    f.fixed[1] = 0.2f;
    f.fixed[2] = 0.6f;
    f.fixed[3] = 0.5f;
    return f;
}

static prime_image *solid(uint32_t w, uint32_t h, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    cr_assert_not_null(px);
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

static void expect_err(prime_status got, prime_status want, const char *fragment)
{
    cr_expect_eq(got, want, "status %s, wanted %s (%s)", prime_status_name(got),
                 prime_status_name(want), prime_last_error());
    cr_expect(strstr(prime_last_error(), fragment) != NULL, "message '%s' lacks '%s'",
              prime_last_error(), fragment);
}

/* ---- validation ----------------------------------------------------------------- */

/* The initialisers set the version and the size and leave every other
 * field NULL, whatever the struct (so a later version's entries stay NULL). */
Test(backend, initialisers_set_version_and_size_and_nothing_else)
{
    prime_tagger_backend t = PRIME_TAGGER_BACKEND_INIT;
    prime_classifier_backend c = PRIME_CLASSIFIER_BACKEND_INIT;
    prime_embedder_backend e = PRIME_EMBEDDER_BACKEND_INIT;
    cr_assert_eq(t.abi_version, PRIME_BACKEND_ABI_VERSION);
    cr_assert_eq(c.abi_version, PRIME_BACKEND_ABI_VERSION);
    cr_assert_eq(e.abi_version, PRIME_BACKEND_ABI_VERSION);
    cr_assert_eq(t.struct_size, sizeof t);
    cr_assert_eq(c.struct_size, sizeof c);
    cr_assert_eq(e.struct_size, sizeof e);
    cr_assert(t.self == NULL && t.name == NULL && t.destroy == NULL && t.tag_count == NULL &&
              t.tag_name == NULL && t.score == NULL);
    cr_assert(c.self == NULL && c.name == NULL && c.destroy == NULL && c.class_count == NULL &&
              c.class_name == NULL && c.classify == NULL);
    cr_assert(e.self == NULL && e.name == NULL && e.destroy == NULL && e.dimension == NULL &&
              e.embed_images == NULL && e.embed_texts == NULL);
    prime_files_options o = PRIME_FILES_OPTIONS_INIT;
    cr_assert_eq(o.struct_size, sizeof o);
    cr_assert(o.threads == 0 && o.batch == 0 && o.max_pixels == 0 && o.image_names == NULL &&
              o.on_error == NULL && o.progress == NULL && o.user_data == NULL &&
              o.jpeg_draft == NULL);
    cr_assert_eq(PRIME_FILES_OPTIONS_SIZE_V2, sizeof o);
    cr_assert_eq(PRIME_FILES_OPTIONS_SIZE_V1, offsetof(prime_files_options, jpeg_draft));
}

Test(backend, create_copies_vocabulary_and_destroy_calls_backend_once)
{
    fake f = fake_init();
    prime_tagger_backend b = fake_backend(&f);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_tagger_create_from(&b, &t), PRIME_OK);
    cr_assert_eq(prime_tagger_tag_count(t), 4);
    cr_assert_str_eq(prime_tagger_tag_name(t, 2), "snow");
    cr_assert_null(prime_tagger_tag_name(t, 4));
    cr_assert_str_eq(prime_tagger_name(t), "fake");
    f.names[2] = "changed"; /* the vocabulary was copied */
    cr_assert_str_eq(prime_tagger_tag_name(t, 2), "snow");
    double th = 0;
    cr_assert_eq(prime_tagger_get_threshold(t, 3, &th), PRIME_OK);
    cr_assert_eq(th, 0.5);
    cr_assert_eq(f.destroyed, 0);
    prime_tagger_destroy(t);
    cr_assert_eq(f.destroyed, 1);
    prime_tagger_destroy(NULL);
}

Test(backend, bad_backends_are_refused_and_the_struct_is_untouched)
{
    fake f = fake_init();
    prime_tagger_backend good = fake_backend(&f), b, copy;
    prime_tagger *t = (prime_tagger *)&f; /* must be set to NULL */

    b = good;
    b.abi_version = 2;
    copy = b;
    expect_err(prime_tagger_create_from(&b, &t), PRIME_E_INVALID_ARG,
               "tagger backend 'fake': abi_version 2 is not supported");
    cr_assert_null(t);
    cr_assert(memcmp(&b, &copy, sizeof b) == 0);
    b.abi_version = 0;
    expect_err(prime_tagger_create_from(&b, &t), PRIME_E_INVALID_ARG, "abi_version 0");

    b = good;
    b.struct_size = PRIME_TAGGER_BACKEND_SIZE_V1 - 8;
    expect_err(prime_tagger_create_from(&b, &t), PRIME_E_INVALID_ARG,
               "struct_size 48 is smaller than version 1's 56");

    b = good;
    b.destroy = NULL;
    expect_err(prime_tagger_create_from(&b, &t), PRIME_E_INVALID_ARG,
               "the mandatory entry destroy is NULL");
    b = good;
    b.score = NULL;
    expect_err(prime_tagger_create_from(&b, &t), PRIME_E_INVALID_ARG,
               "the mandatory entry score is NULL");
    b = good;
    b.tag_name = NULL;
    expect_err(prime_tagger_create_from(&b, &t), PRIME_E_INVALID_ARG,
               "the mandatory entry tag_name is NULL");
    expect_err(prime_tagger_create_from(NULL, &t), PRIME_E_INVALID_ARG, "NULL");

    /* bad vocabularies: nothing is taken, destroy is not called */
    f.names[1] = "cat";
    expect_err(prime_tagger_create_from(&good, &t), PRIME_E_DUPLICATE,
               "tagger 'fake': tag 1 \"cat\" repeats tag 0");
    f.names[1] = "a|b";
    expect_err(prime_tagger_create_from(&good, &t), PRIME_E_PARSE, "tag 1 has no valid name");
    f.names[1] = "";
    expect_err(prime_tagger_create_from(&good, &t), PRIME_E_PARSE, "tag 1");
    f.names[1] = "caf\xe9";
    expect_err(prime_tagger_create_from(&good, &t), PRIME_E_PARSE, "tag 1");
    char longname[300];
    memset(longname, 'x', 256);
    longname[256] = '\0';
    f.names[1] = longname;
    expect_err(prime_tagger_create_from(&good, &t), PRIME_E_LIMIT, "256 bytes");
    cr_assert_null(t);
    cr_assert_eq(f.destroyed, 0);
}

Test(backend, a_newer_larger_struct_is_accepted)
{
    /* a backend compiled against a later header: more entries after score */
    struct {
        prime_tagger_backend v1;
        void (*later_entry)(void);
    } big;
    fake f = fake_init();
    big.v1 = fake_backend(&f);
    big.v1.struct_size = sizeof big;
    big.later_entry = NULL;
    prime_tagger *t = NULL;
    cr_assert_eq(prime_tagger_create_from(&big.v1, &t), PRIME_OK);
    prime_tagger_destroy(t);
    cr_assert_eq(f.destroyed, 1);
}

/* ---- running: errors propagate, nothing leaks ------------------------------------ */

Test(backend, backend_errors_propagate_with_the_backend_name)
{
    fake f = fake_init();
    prime_tagger_backend b = fake_backend(&f);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_tagger_create_from(&b, &t), PRIME_OK);
    prime_image *img = solid(2, 2, 0, 0, 0);
    const prime_image *imgs[2] = {img, img};
    float s[8];

    f.fail = PRIME_E_IO;
    f.fail_msg = "model.pt: cannot open";
    expect_err(prime_tagger_score(t, imgs, 2, s, 8), PRIME_E_IO,
               "tagger 'fake': model.pt: cannot open");
    f.fail_msg = NULL;
    f.fail = PRIME_E_NOMEM;
    expect_err(prime_tagger_score(t, imgs, 2, s, 8), PRIME_E_NOMEM,
               "tagger 'fake': score failed (PRIME_E_NOMEM)");
    f.fail = 7;
    expect_err(prime_tagger_score(t, imgs, 2, s, 8), PRIME_E_STATE,
               "score returned 7, which is not a prime_status");
    /* every status is mapped into the documented codes: an undocumented
       negative one as well as a positive one */
    f.fail = -500;
    expect_err(prime_tagger_score(t, imgs, 2, s, 8), PRIME_E_STATE,
               "score returned -500, which is not a prime_status");
    f.fail = -15;
    f.fail_msg = "own code";
    expect_err(prime_tagger_score(t, imgs, 2, s, 8), PRIME_E_STATE,
               "score returned -15, which is not a prime_status: own code");
    /* a backend that sets no message after an earlier failure: the generic
       message, not the stale one */
    f.fail_msg = NULL;
    f.fail = PRIME_E_IO;
    expect_err(prime_tagger_score(t, imgs, 2, s, 8), PRIME_E_IO,
               "tagger 'fake': score failed (PRIME_E_IO)");
    /* prime_backend_error with the last error itself keeps it */
    cr_assert_eq(prime_backend_error(PRIME_E_PARSE, prime_last_error()), PRIME_E_PARSE);
    cr_assert_str_eq(prime_last_error(), "tagger 'fake': score failed (PRIME_E_IO)");
    /* a successful call after a failure leaves its message (prime.h) */
    f.fail = PRIME_OK;
    cr_assert_eq(prime_tagger_score(t, imgs, 2, s, 8), PRIME_OK);
    cr_assert_str_eq(prime_last_error(), "tagger 'fake': score failed (PRIME_E_IO)");
    f.give_nan = 1;
    expect_err(prime_tagger_score(t, imgs, 2, s, 8), PRIME_E_RANGE,
               "not finite (image 0, column 2)");
    f.give_nan = 0;
    int calls = f.calls;
    expect_err(prime_tagger_score(t, imgs, 2, s, 7), PRIME_E_BUFFER_TOO_SMALL, "needs 8");
    cr_assert_eq(f.calls, calls, "the backend is not called with a short buffer");
    cr_assert_eq(prime_tagger_score(t, imgs, 2, s, 8), PRIME_OK);
    cr_assert_float_eq(s[4], 0.9f, 0);
    cr_assert_eq(prime_tagger_score(t, NULL, 0, NULL, 0), PRIME_OK);

    /* a failing backend in tag_images leaves the store usable */
    prime_tagstore *store = NULL;
    cr_assert_eq(prime_tagstore_create(&store), PRIME_OK);
    const char *names[2] = {"a", "b"}, *classes[2] = {"c", "c"};
    f.fail = PRIME_E_FORMAT;
    f.fail_msg = "bad tensor";
    expect_err(prime_tagger_tag_images(t, imgs, names, classes, 2, store), PRIME_E_FORMAT,
               "bad tensor");
    cr_assert_eq(prime_tagstore_image_count(store), 0);
    prime_tagstore_destroy(store);
    prime_image_destroy(img);
    prime_tagger_destroy(t);
    cr_assert_eq(f.destroyed, 1);
}

/* ---- scores to tags -------------------------------------------------------------- */

Test(backend, thresholds_and_top_k)
{
    fake f = fake_init();
    prime_tagger_backend b = fake_backend(&f);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_tagger_create_from(&b, &t), PRIME_OK);
    const float s[4] = {0.9f, 0.2f, 0.6f, 0.5f};
    uint32_t ids[4], n = 0;
    cr_assert_eq(prime_tagger_select(t, s, ids, 4, &n), PRIME_OK);
    cr_assert_eq(n, 3); /* 0.9, 0.6 and 0.5 >= 0.5 */
    cr_assert(ids[0] == 0 && ids[1] == 2 && ids[2] == 3);
    cr_assert_eq(prime_tagger_select(t, s, NULL, 0, &n), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(n, 3);

    cr_assert_eq(prime_tagger_set_top_k(t, 2), PRIME_OK);
    cr_assert_eq(prime_tagger_select(t, s, ids, 4, &n), PRIME_OK);
    cr_assert(n == 2 && ids[0] == 0 && ids[1] == 2);
    cr_assert_eq(prime_tagger_set_threshold(t, -INFINITY), PRIME_OK); /* pure top-k */
    cr_assert_eq(prime_tagger_set_top_k(t, 3), PRIME_OK);
    cr_assert_eq(prime_tagger_select(t, s, ids, 4, &n), PRIME_OK);
    cr_assert(n == 3 && ids[0] == 0 && ids[1] == 2 && ids[2] == 3);
    cr_assert_eq(prime_tagger_set_top_k(t, 0), PRIME_OK);
    cr_assert_eq(prime_tagger_select(t, s, ids, 4, &n), PRIME_OK);
    cr_assert_eq(n, 4);
    expect_err(prime_tagger_set_threshold(t, NAN), PRIME_E_RANGE, "NaN");

    const double per[4] = {0.95, 0.1, 0.7, 0.5};
    cr_assert_eq(prime_tagger_set_thresholds(t, per, 4), PRIME_OK);
    cr_assert_eq(prime_tagger_select(t, s, ids, 4, &n), PRIME_OK);
    cr_assert(n == 2 && ids[0] == 1 && ids[1] == 3);
    expect_err(prime_tagger_set_thresholds(t, per, 3), PRIME_E_MISMATCH, "3 thresholds");

    /* from a file, as RAM's ram_tag_list_threshold.txt */
    char path[] = "/tmp/prime_thresholdsXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("0.8\n0.25\r\n 0.55 \n0.4\n\n", fp);
    fclose(fp);
    cr_assert_eq(prime_tagger_load_thresholds(t, path), PRIME_OK, "%s", prime_last_error());
    double th = 0;
    cr_assert_eq(prime_tagger_get_threshold(t, 2, &th), PRIME_OK);
    cr_assert_eq(th, 0.55);
    cr_assert_eq(prime_tagger_select(t, s, ids, 4, &n), PRIME_OK);
    cr_assert(n == 3 && ids[0] == 0 && ids[1] == 2 && ids[2] == 3);
    fp = fopen(path, "w");
    fputs("\xEF\xBB\xBF" "0.5\n0.25\n0.55\n0.4\n", fp); /* a UTF-8 BOM is skipped */
    fclose(fp);
    cr_assert_eq(prime_tagger_load_thresholds(t, path), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagger_get_threshold(t, 0, &th), PRIME_OK);
    cr_assert_eq(th, 0.5);
    cr_assert_eq(prime_tagger_set_thresholds(t, (const double[]){0.8, 0.25, 0.55, 0.4}, 4),
                 PRIME_OK);
    fp = fopen(path, "w");
    fputs("0.8\n0.25\nhigh\n0.4\n", fp);
    fclose(fp);
    expect_err(prime_tagger_load_thresholds(t, path), PRIME_E_PARSE, ":3: not a number");
    cr_assert_eq(prime_tagger_get_threshold(t, 2, &th), PRIME_OK);
    cr_assert_eq(th, 0.55, "a failed load changes nothing");
    fp = fopen(path, "w");
    fputs("0.8\n0.25\n", fp);
    fclose(fp);
    expect_err(prime_tagger_load_thresholds(t, path), PRIME_E_MISMATCH,
               "2 thresholds for a vocabulary of 4 tags");
    fp = fopen(path, "w");
    fputs("0.8\n0.25\n0.3\n0.3\n0.3\n", fp);
    fclose(fp);
    expect_err(prime_tagger_load_thresholds(t, path), PRIME_E_MISMATCH, ":5: more thresholds");
    unlink(path);
    expect_err(prime_tagger_load_thresholds(t, path), PRIME_E_IO, "prime_thresholds");
    prime_tagger_destroy(t);
}

Test(backend, ram_threshold_file_has_one_line_per_ram_tag)
{
    const char *root = getenv("PRIME_SOURCE_ROOT");
    cr_assert_not_null(root);
    char p1[4096], p2[4096];
    snprintf(p1, sizeof p1, "%s/data/ram/ram_tag_list.txt", root);
    snprintf(p2, sizeof p2, "%s/data/ram/ram_tag_list_threshold.txt", root);
    FILE *a = fopen(p1, "r"), *b = fopen(p2, "r");
    cr_assert(a != NULL && b != NULL);
    int na = 0, nb = 0, c;
    while ((c = fgetc(a)) != EOF)
        na += c == '\n';
    while ((c = fgetc(b)) != EOF)
        nb += c == '\n';
    fclose(a);
    fclose(b);
    cr_assert_eq(na, 4584); /* the last line has no newline */
    cr_assert_eq(nb, 4585);
}

/* ---- RAM's selection rule (issue 18) ---------------------------------------------- */

/* A tagger of RAM's 4,585 tags (data/ram/ram_tag_list.txt) whose scores are
 * set by the test; only select is used. */
typedef struct {
    char **names;
    uint32_t n;
} ram_vocab;

static void ramv_destroy(void *self)
{
    ram_vocab *v = self;
    for (uint32_t i = 0; i < v->n; i++)
        free(v->names[i]);
    free(v->names);
    free(v);
}
static uint32_t ramv_count(void *self) { return ((ram_vocab *)self)->n; }
static const char *ramv_name(void *self, uint32_t i) { return ((ram_vocab *)self)->names[i]; }
static prime_status ramv_score(void *self, const prime_image *const *images, uint32_t n,
                               float *scores)
{
    (void)self, (void)images, (void)n, (void)scores;
    return prime_backend_error(PRIME_E_STATE, "not used");
}

static prime_tagger *ram_tagger(void)
{
    const char *root = getenv("PRIME_SOURCE_ROOT");
    cr_assert_not_null(root);
    char p[4096];
    snprintf(p, sizeof p, "%s/data/ram/ram_tag_list.txt", root);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    ram_vocab *v = calloc(1, sizeof *v);
    v->names = calloc(5000, sizeof *v->names);
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        cr_assert(v->n < 5000);
        v->names[v->n++] = strdup(line);
    }
    fclose(f);
    cr_assert_eq(v->n, 4585);
    prime_tagger_backend b;
    memset(&b, 0, sizeof b);
    b.abi_version = PRIME_BACKEND_ABI_VERSION;
    b.struct_size = sizeof b;
    b.self = v;
    b.name = "ram";
    b.destroy = ramv_destroy;
    b.tag_count = ramv_count;
    b.tag_name = ramv_name;
    b.score = ramv_score;
    prime_tagger *t = NULL;
    cr_assert_eq(prime_tagger_create_from(&b, &t), PRIME_OK, "%s", prime_last_error());
    snprintf(p, sizeof p, "%s/data/ram/ram_tag_list_threshold.txt", root);
    cr_assert_eq(prime_tagger_load_thresholds(t, p), PRIME_OK, "%s", prime_last_error());
    return t;
}

static int selected(const uint32_t *ids, uint32_t n, uint32_t id)
{
    for (uint32_t k = 0; k < n; k++)
        if (ids[k] == id)
            return 1;
    return 0;
}

Test(backend, ram_rule_never_emits_the_ten_tags_of_threshold_one)
{
    static const char *const ten[] = {"body", "cocktail table", "French", "group", "lie",
                                      "show", "see",            "set",    "stop",  "use"};
    prime_tagger *t = ram_tagger();
    uint32_t n = prime_tagger_tag_count(t);
    int32_t rule = -1;
    cr_assert_eq(prime_tagger_get_rule(t, &rule), PRIME_OK);
    cr_assert_eq(rule, PRIME_TAGGER_RULE_AT_LEAST, "the default of a generic tagger");
    uint32_t ten_ids[10];
    for (int k = 0; k < 10; k++) {
        ten_ids[k] = PRIME_NONE;
        for (uint32_t i = 0; i < n; i++)
            if (strcmp(prime_tagger_tag_name(t, i), ten[k]) == 0)
                ten_ids[k] = i;
        cr_assert_neq(ten_ids[k], PRIME_NONE, "%s is a RAM tag", ten[k]);
        double th = 0;
        cr_assert_eq(prime_tagger_get_threshold(t, ten_ids[k], &th), PRIME_OK);
        cr_assert_eq(th, 1.0, "%s has threshold 1", ten[k]);
    }
    float *s = malloc(n * sizeof *s);
    uint32_t *ids = malloc(n * sizeof *ids), m = 0;
    /* every sigmoid at 1.0f: what torch.sigmoid gives for logits >= 16.636 */
    for (uint32_t i = 0; i < n; i++)
        s[i] = 1.0f;
    cr_assert_eq(prime_tagger_select(t, s, ids, n, &m), PRIME_OK);
    cr_assert_eq(m, n, ">=: every tag, the ten included");
    cr_assert_eq(prime_tagger_set_rule(t, PRIME_TAGGER_RULE_ABOVE), PRIME_OK);
    cr_assert_eq(prime_tagger_select(t, s, ids, n, &m), PRIME_OK);
    cr_assert_eq(m, n - 10, "RAM's >: all but the ten");
    for (int k = 0; k < 10; k++)
        cr_assert(!selected(ids, m, ten_ids[k]), "%s is never emitted", ten[k]);

    /* a score equal to the threshold rounded to float32 is not selected, one
       float above it is; 0.8f > 0.8 in double, so a double comparison would
       select 0.8f (735 RAM tags have threshold 0.8) */
    uint32_t up = 0;
    for (uint32_t i = 0; i < n; i++) {
        double th = 0;
        cr_assert_eq(prime_tagger_get_threshold(t, i, &th), PRIME_OK);
        s[i] = (float)th;
        up += (double)s[i] >= th;
    }
    cr_assert(up >= 735, "0.8f rounds up (%u tags round up or are exact)", up);
    cr_assert_eq(prime_tagger_select(t, s, ids, n, &m), PRIME_OK);
    cr_assert_eq(m, 0, "a tie is never selected");
    for (uint32_t i = 0; i < n; i++)
        s[i] = nextafterf(s[i], 2.0f);
    cr_assert_eq(prime_tagger_select(t, s, ids, n, &m), PRIME_OK);
    cr_assert_eq(m, n);
    cr_assert_eq(prime_tagger_set_rule(t, PRIME_TAGGER_RULE_AT_LEAST), PRIME_OK);
    for (uint32_t i = 0; i < n; i++)
        s[i] = nextafterf(s[i], -2.0f);
    cr_assert_eq(prime_tagger_select(t, s, ids, n, &m), PRIME_OK);
    cr_assert_eq(m, up, ">= in double: the ties whose float rounds up or is exact");

    /* thresholds beyond the float range; -inf still selects everything */
    cr_assert_eq(prime_tagger_set_rule(t, PRIME_TAGGER_RULE_ABOVE), PRIME_OK);
    cr_assert_eq(prime_tagger_set_threshold(t, -INFINITY), PRIME_OK);
    cr_assert_eq(prime_tagger_select(t, s, ids, n, &m), PRIME_OK);
    cr_assert_eq(m, n);
    s[0] = FLT_MAX;
    s[1] = INFINITY;
    cr_assert_eq(prime_tagger_set_threshold(t, (double)FLT_MAX * (1 + 0x1p-26)), PRIME_OK);
    cr_assert_eq(prime_tagger_select(t, s, ids, n, &m), PRIME_OK);
    cr_assert(m == 1 && ids[0] == 1, "just above FLT_MAX rounds to FLT_MAX: +inf is above it");
    cr_assert_eq(prime_tagger_set_threshold(t, 1e300), PRIME_OK);
    cr_assert_eq(prime_tagger_select(t, s, ids, n, &m), PRIME_OK);
    cr_assert_eq(m, 0, "1e300 rounds to +inf in float32: nothing is above it");
    cr_assert_eq(prime_tagger_set_threshold(t, -1e300), PRIME_OK);
    s[2] = -INFINITY;
    cr_assert_eq(prime_tagger_select(t, s, ids, n, &m), PRIME_OK);
    cr_assert_eq(m, n - 1);
    expect_err(prime_tagger_set_rule(t, 7), PRIME_E_INVALID_ARG, "unknown selection rule 7");
    expect_err(prime_tagger_set_rule(NULL, 0), PRIME_E_INVALID_ARG, "NULL");
    expect_err(prime_tagger_get_rule(t, NULL), PRIME_E_INVALID_ARG, "NULL");
    cr_assert_eq(prime_tagger_get_rule(t, &rule), PRIME_OK);
    cr_assert_eq(rule, PRIME_TAGGER_RULE_ABOVE);
    free(s);
    free(ids);
    prime_tagger_destroy(t);
}

Test(backend, tag_images_feeds_a_tag_store)
{
    fake f = fake_init();
    f.per_pixel = 1;
    prime_tagger_backend b = fake_backend(&f);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_tagger_create_from(&b, &t), PRIME_OK);
    prime_image *i0 = solid(1, 1, 0, 0, 0), *i1 = solid(1, 1, 20, 0, 0),
                *i2 = solid(1, 1, 99, 0, 0);
    const prime_image *imgs[3] = {i0, i1, i2};
    const char *names[3] = {"x/0.png", "x/1.png", "y/2.png"};
    const char *classes[3] = {"x", "x", "y"};
    prime_tagstore *store = NULL;
    cr_assert_eq(prime_tagstore_create(&store), PRIME_OK);
    cr_assert_eq(prime_tagger_tag_images(t, imgs, names, classes, 3, store), PRIME_OK);
    cr_assert_eq(prime_tagstore_image_count(store), 3);
    uint32_t ids[4], n = 0;
    cr_assert_eq(prime_tagstore_image_tags(store, 0, ids, 4, &n), PRIME_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(prime_tagstore_tag_name(store, ids[0]), "cat");
    cr_assert_eq(prime_tagstore_image_tags(store, 1, ids, 4, &n), PRIME_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(prime_tagstore_tag_name(store, ids[0]), "snow");
    cr_assert_eq(prime_tagstore_image_tags(store, 2, ids, 4, &n), PRIME_OK);
    cr_assert_eq(n, 0);
    cr_assert_str_eq(prime_tagstore_class_name(store, prime_tagstore_image_class(store, 2)),
                     "y");
    /* a duplicate image name is the store's error */
    expect_err(prime_tagger_tag_images(t, imgs, names, classes, 1, store), PRIME_E_DUPLICATE,
               "x/0.png");
    cr_assert_eq(prime_tagstore_freeze(store), PRIME_OK);
    expect_err(prime_tagger_tag_images(t, imgs, names, classes, 1, store), PRIME_E_STATE,
               "frozen");
    prime_tagstore_destroy(store);
    prime_image_destroy(i0);
    prime_image_destroy(i1);
    prime_image_destroy(i2);
    prime_tagger_destroy(t);
}

/* ---- tagging files ----------------------------------------------------------------- */

static void write_png(const char *path, uint32_t w, uint32_t h, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    cr_assert(stbi_write_png(path, (int)w, (int)h, 3, px, (int)w * 3));
    free(px);
}

typedef struct {
    int errors;
    uint32_t index;
    char msg[512];
    uint64_t last_done;
} file_log;

static void on_file_error(void *user, uint32_t index, prime_status st, const char *message)
{
    file_log *l = user;
    cr_assert_eq(st, PRIME_E_FORMAT);
    l->errors++;
    l->index = index;
    snprintf(l->msg, sizeof l->msg, "%s", message);
}

static int32_t on_prog(void *user, uint64_t done, uint64_t total)
{
    file_log *l = user;
    cr_assert(done <= total && done > l->last_done);
    l->last_done = done;
    return 0;
}

static int32_t cancel_prog(void *user, uint64_t done, uint64_t total)
{
    (void)user;
    (void)done;
    (void)total;
    return 1;
}

Test(backend, tag_files_decodes_in_parallel_and_reports_bad_files)
{
    char dir[] = "/tmp/prime_tagfilesXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    enum { N = 11 };
    char paths[N][256];
    const char *pp[N], *classes[N];
    for (int i = 0; i < N; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/img%02d.png", dir, i);
        pp[i] = paths[i];
        classes[i] = i % 2 ? "odd" : "even";
        if (i == 5) {
            FILE *fp = fopen(paths[i], "wb");
            fputs("not an image", fp);
            fclose(fp);
        } else {
            write_png(paths[i], 1, 1, (uint8_t)((i % 4) * 10), 0, 0);
        }
    }
    fake f = fake_init();
    f.per_pixel = 1;
    prime_tagger_backend b = fake_backend(&f);
    prime_tagger *t = NULL;
    cr_assert_eq(prime_tagger_create_from(&b, &t), PRIME_OK);
    prime_tagstore *s1 = NULL, *s2 = NULL;
    cr_assert_eq(prime_tagstore_create(&s1), PRIME_OK);
    cr_assert_eq(prime_tagstore_create(&s2), PRIME_OK);
    file_log log1 = {0}, log2 = {0};
    uint32_t failed = 99;
    prime_files_options o1 = PRIME_FILES_OPTIONS_INIT;
    o1.threads = 1;
    o1.batch = 3;
    o1.on_error = on_file_error;
    o1.progress = on_prog;
    o1.user_data = &log1;
    expect_err(prime_tagger_tag_files(t, pp, classes, N, &o1, s1, &failed),
               PRIME_E_FORMAT, "img05.png");
    cr_assert_eq(failed, 1);
    cr_assert_eq(log1.errors, 1);
    cr_assert_eq(log1.index, 5);
    cr_assert(strstr(log1.msg, "img05.png") != NULL, "%s", log1.msg);
    cr_assert_eq(log1.last_done, N);
    cr_assert_eq(prime_tagstore_image_count(s1), N - 1);
    prime_files_options o2 = PRIME_FILES_OPTIONS_INIT;
    o2.threads = 4;
    o2.on_error = on_file_error;
    o2.user_data = &log2;
    cr_assert_eq(prime_tagger_tag_files(t, pp, classes, N, &o2, s2, &failed),
                 PRIME_E_FORMAT);
    /* the same store whatever the threads and batch */
    cr_assert_eq(prime_tagstore_image_count(s2), N - 1);
    for (uint32_t i = 0; i < N - 1; i++) {
        cr_assert_str_eq(prime_tagstore_image_name(s1, i), prime_tagstore_image_name(s2, i));
        uint32_t a[4], c[4], na = 0, nc = 0;
        cr_assert_eq(prime_tagstore_image_tags(s1, i, a, 4, &na), PRIME_OK);
        cr_assert_eq(prime_tagstore_image_tags(s2, i, c, 4, &nc), PRIME_OK);
        cr_assert_eq(na, nc);
        for (uint32_t k = 0; k < na; k++)
            cr_assert_str_eq(prime_tagstore_tag_name(s1, a[k]), prime_tagstore_tag_name(s2, c[k]));
    }
    uint32_t idx = 0;
    cr_assert_eq(prime_tagstore_find_image(s1, paths[6], &idx), PRIME_OK);
    uint32_t ids[4], n = 0;
    cr_assert_eq(prime_tagstore_image_tags(s1, idx, ids, 4, &n), PRIME_OK);
    cr_assert(n == 1);
    cr_assert_str_eq(prime_tagstore_tag_name(s1, ids[0]), "snow"); /* red 20 -> tag 2 */
    prime_tagstore *s3 = NULL;
    cr_assert_eq(prime_tagstore_create(&s3), PRIME_OK);
    prime_files_options o3 = PRIME_FILES_OPTIONS_INIT;
    o3.threads = 2;
    o3.batch = 4;
    o3.progress = cancel_prog;
    expect_err(prime_tagger_tag_files(t, pp, classes, N, &o3, s3, NULL),
               PRIME_E_CANCELLED, "cancelled");
    /* options: NULL is every default; a caller compiled against version 1
       (struct_size = SIZE_V1) is read up to there; a smaller or zeroed
       struct is refused before anything is decoded or added */
    prime_tagstore *s4 = NULL, *s5 = NULL, *s6 = NULL;
    cr_assert_eq(prime_tagstore_create(&s4), PRIME_OK);
    cr_assert_eq(prime_tagstore_create(&s5), PRIME_OK);
    cr_assert_eq(prime_tagstore_create(&s6), PRIME_OK);
    cr_assert_eq(prime_tagger_tag_files(t, pp, classes, N, NULL, s4, &failed), PRIME_E_FORMAT);
    cr_assert_eq(failed, 1);
    cr_assert_eq(prime_tagstore_image_count(s4), N - 1);
    prime_files_options o5 = PRIME_FILES_OPTIONS_INIT;
    cr_assert_eq(o5.struct_size, sizeof o5);
    o5.struct_size = PRIME_FILES_OPTIONS_SIZE_V1;
    o5.batch = 2;
    cr_assert_eq(prime_tagger_tag_files(t, pp, classes, N, &o5, s5, &failed), PRIME_E_FORMAT);
    cr_assert_eq(prime_tagstore_image_count(s5), N - 1);
    prime_files_options o6 = {0};
    expect_err(prime_tagger_tag_files(t, pp, classes, N, &o6, s6, &failed),
               PRIME_E_INVALID_ARG, "PRIME_FILES_OPTIONS_INIT");
    o6.struct_size = PRIME_FILES_OPTIONS_SIZE_V1 - 1;
    expect_err(prime_tagger_tag_files(t, pp, classes, N, &o6, s6, &failed),
               PRIME_E_INVALID_ARG, "struct_size");
    cr_assert_eq(prime_tagstore_image_count(s6), 0);
    prime_tagstore_destroy(s4);
    prime_tagstore_destroy(s5);
    prime_tagstore_destroy(s6);
    prime_tagstore_destroy(s1);
    prime_tagstore_destroy(s2);
    prime_tagstore_destroy(s3);
    prime_tagger_destroy(t);
    for (int i = 0; i < N; i++)
        unlink(paths[i]);
    rmdir(dir);
}

/* ---- the image-property tagger ------------------------------------------------------- */

/* Tags of one image, joined by '|' in vocabulary order. */
static void property_tags(prime_tagger *t, const prime_image *img, char *out, size_t cap)
{
    float s[64];
    uint32_t ids[64], n = 0;
    cr_assert_eq(prime_tagger_score(t, &img, 1, s, 64), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagger_select(t, s, ids, 64, &n), PRIME_OK);
    out[0] = '\0';
    for (uint32_t k = 0; k < n; k++) {
        if (k > 0)
            strncat(out, "|", cap - strlen(out) - 1);
        strncat(out, prime_tagger_tag_name(t, ids[k]), cap - strlen(out) - 1);
    }
}

static prime_image *from_fn(uint32_t w, uint32_t h, void (*fn)(uint32_t, uint32_t, uint8_t *))
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            fn(x, y, px + 3 * ((size_t)y * w + x));
    prime_image *img = NULL;
    cr_assert_eq(prime_image_create(w, h, px, &img), PRIME_OK);
    free(px);
    return img;
}

static void checker(uint32_t x, uint32_t y, uint8_t *p)
{
    uint8_t v = ((x / 4 + y / 4) % 2) ? 230 : 30;
    p[0] = p[1] = p[2] = v;
}

static void gradient(uint32_t x, uint32_t y, uint8_t *p)
{
    (void)y;
    p[0] = (uint8_t)(40 + x * 160 / 200);
    p[1] = (uint8_t)(60 + x * 100 / 200);
    p[2] = 90;
}

static uint32_t lcg = 12345;
static void noise(uint32_t x, uint32_t y, uint8_t *p)
{
    (void)x;
    (void)y;
    lcg = lcg * 1103515245u + 12345u;
    int v = 128 + (int)((lcg >> 16) % 61) - 30;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v / 2 + 40);
    p[2] = 100;
}

Test(backend, property_tagger_gives_the_documented_tags)
{
    prime_tagger *t = NULL;
    cr_assert_eq(prime_properties_tagger_create(&t), PRIME_OK);
    cr_assert_str_eq(prime_tagger_name(t), "properties");
    cr_assert_eq(prime_tagger_tag_count(t), 21);
    cr_assert_str_eq(prime_tagger_tag_name(t, 0), "dark");
    cr_assert_str_eq(prime_tagger_tag_name(t, 9), "square");
    cr_assert_str_eq(prime_tagger_tag_name(t, 10), "black");
    cr_assert_str_eq(prime_tagger_tag_name(t, 20), "pink");
    char tags[512];
    struct {
        prime_image *img;
        const char *want;
    } cases[] = {
        {solid(20, 20, 0, 0, 0), "dark|low-contrast|grayscale|square|black"},
        {solid(40, 20, 250, 250, 250), "bright|low-contrast|grayscale|landscape|white"},
        {solid(20, 40, 220, 20, 20), "low-contrast|saturated|portrait|red"},
        {solid(30, 30, 20, 40, 200), "dark|low-contrast|saturated|square|blue"},
        /* the sharp edges of a 4-pixel checkerboard read as noise (Immerkaer) */
        {from_fn(64, 64, checker), "noisy|grayscale|square|black"},
        {from_fn(200, 150, gradient), "blurry|landscape|orange"},
        {from_fn(100, 100, noise), "low-contrast|noisy|square|red"},
        /* a large image is measured on a copy of 512 pixels at most */
        {solid(1200, 700, 120, 200, 60), "low-contrast|saturated|landscape|green"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        property_tags(t, cases[k].img, tags, sizeof tags);
        cr_expect_str_eq(tags, cases[k].want, "case %zu: %s", k, tags);
        prime_image_destroy(cases[k].img);
    }
    prime_tagger_destroy(t);
}

/* ---- classifier and embedder ------------------------------------------------------------ */

static int cls_destroyed;
static void cls_destroy(void *self) { (void)self; cls_destroyed++; }
static uint32_t cls_count(void *self) { (void)self; return 3; }
static const char *cls_name(void *self, uint32_t i)
{
    (void)self;
    static const char *const n[3] = {"cat", "dog", "fox"};
    return n[i];
}
static prime_status cls_classify(void *self, const prime_image *const *images, uint32_t n,
                                 float *scores)
{
    (void)self;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t w = prime_image_width(images[i]);
        for (uint32_t c = 0; c < 3; c++)
            scores[i * 3 + c] = c == w % 3 ? 2.0f : -1.0f;
    }
    return PRIME_OK;
}

Test(backend, classifier_backend)
{
    prime_classifier_backend b;
    memset(&b, 0, sizeof b);
    b.abi_version = 1;
    b.struct_size = sizeof b;
    b.name = "cls";
    b.destroy = cls_destroy;
    b.class_count = cls_count;
    b.class_name = cls_name;
    b.classify = cls_classify;
    prime_classifier *c = NULL;
    prime_classifier_backend bad = b;
    bad.classify = NULL;
    expect_err(prime_classifier_create_from(&bad, &c), PRIME_E_INVALID_ARG,
               "classifier backend 'cls': the mandatory entry classify is NULL");
    bad = b;
    bad.abi_version = 9;
    expect_err(prime_classifier_create_from(&bad, &c), PRIME_E_INVALID_ARG, "abi_version 9");
    cr_assert_eq(prime_classifier_create_from(&b, &c), PRIME_OK);
    cr_assert_eq(prime_classifier_class_count(c), 3);
    cr_assert_str_eq(prime_classifier_class_name(c, 2), "fox");
    prime_image *a = solid(4, 1, 0, 0, 0), *d = solid(5, 1, 0, 0, 0);
    const prime_image *imgs[2] = {a, d};
    float s[6];
    uint32_t pred[2];
    cr_assert_eq(prime_classifier_classify(c, imgs, 2, s, 6, pred), PRIME_OK);
    cr_assert(pred[0] == 1 && pred[1] == 2);
    prime_classifier_destroy(c);
    cr_assert_eq(cls_destroyed, 1);
    /* without class names: "0", "1", "2" */
    b.class_name = NULL;
    cr_assert_eq(prime_classifier_create_from(&b, &c), PRIME_OK);
    cr_assert_str_eq(prime_classifier_class_name(c, 1), "1");
    prime_classifier_destroy(c);
    prime_image_destroy(a);
    prime_image_destroy(d);
}

static void emb_destroy(void *self) { free(self); }
static uint32_t emb_dim(void *self) { (void)self; return 2; }
static prime_status emb_images(void *self, const prime_image *const *images, uint32_t n,
                               float *v)
{
    (void)self;
    for (uint32_t i = 0; i < n; i++) {
        v[2 * i] = (float)prime_image_width(images[i]);
        v[2 * i + 1] = (float)prime_image_height(images[i]);
    }
    return PRIME_OK;
}

Test(backend, embedder_backend_with_images_only)
{
    prime_embedder_backend b;
    memset(&b, 0, sizeof b);
    b.abi_version = 1;
    b.struct_size = sizeof b;
    b.self = malloc(32); /* owned by the embedder once created */
    b.name = "emb";
    b.destroy = emb_destroy;
    b.dimension = emb_dim;
    prime_embedder *e = NULL;
    expect_err(prime_embedder_create_from(&b, &e), PRIME_E_INVALID_ARG,
               "neither embed_images nor embed_texts");
    b.embed_images = emb_images;
    cr_assert_eq(prime_embedder_create_from(&b, &e), PRIME_OK);
    cr_assert_eq(prime_embedder_dimension(e), 2);
    prime_image *img = solid(3, 7, 1, 2, 3);
    const prime_image *imgs[1] = {img};
    float v[2];
    cr_assert_eq(prime_embedder_embed_images(e, imgs, 1, v, 2), PRIME_OK);
    cr_assert(v[0] == 3.0f && v[1] == 7.0f);
    const char *texts[1] = {"a photo of a fox"};
    expect_err(prime_embedder_embed_texts(e, texts, 1, v, 2), PRIME_E_STATE,
               "embedder 'emb' cannot embed texts");
    prime_image_destroy(img);
    prime_embedder_destroy(e); /* frees self: valgrind sees no leak */
}

/* ---- allocation failures: every one gives PRIME_E_NOMEM and leaks nothing
 * (the valgrind setup checks the leaks) -------------------------------------------------- */

Test(backend, allocation_failures_are_clean)
{
    prime_image *img = solid(600, 300, 10, 200, 30); /* measured on a resized copy */
    const prime_image *imgs[2] = {img, img};
    const char *names[2] = {"a", "b"}, *classes[2] = {"c", "d"};
    int saw_ok = 0;
    for (long k = 1; k < 400 && !saw_ok; k++) {
        prime__alloc_fail_after(k);
        prime_tagger *t = NULL;
        prime_tagstore *store = NULL;
        prime_status st = prime_properties_tagger_create(&t);
        if (st == PRIME_OK)
            st = prime_tagstore_create(&store);
        if (st == PRIME_OK)
            st = prime_tagger_tag_images(t, imgs, names, classes, 2, store);
        long failed = prime__alloc_failed_count();
        prime__alloc_fail_after(0);
        if (failed == 0) {
            cr_assert_eq(st, PRIME_OK, "%s", prime_last_error());
            cr_assert_eq(prime_tagstore_image_count(store), 2);
            saw_ok = 1;
        } else {
            cr_assert_eq(st, PRIME_E_NOMEM, "allocation %ld: %s (%s)", k,
                         prime_status_name(st), prime_last_error());
        }
        prime_tagstore_destroy(store);
        prime_tagger_destroy(t);
    }
    cr_assert(saw_ok);
    prime_image_destroy(img);
}

/* prime_files_options.jpeg_draft (version 2): a JPEG reaches the backend at
 * the reduced DCT scale that the spec's resize size allows (with
 * libjpeg-turbo; stb_image decodes at full size), a PNG and a spec without
 * the draft at full size, and a version 1 caller (struct_size V1) never
 * reads the field. */
Test(backend, files_jpeg_draft_decodes_at_the_reduced_scale)
{
    const char *d = getenv("PRIME_TEST_DATA");
    cr_assert_not_null(d, "PRIME_TEST_DATA is not set");
    char jpg[1024];
    snprintf(jpg, sizeof jpg, "%s/images/decoders/jpeg_420.jpg", d); /* 64 x 56 */
    const char *paths[] = {jpg};
    const char *classes[] = {"c"};
    bool turbo = strcmp(prime__image_decoder_name(PRIME_IMAGE_FORMAT_JPEG), "libjpeg-turbo") == 0;
    prime_image_spec *spec = NULL;
    cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_RAM, &spec), PRIME_OK);
    /* 16 x 16: min(64 / 16, 56 / 16) = 3, so 1/2: 32 x 28 */
    cr_assert_eq(prime_image_spec_set_resize(spec, PRIME_RESIZE_EXACT, 0, 16, 16), PRIME_OK);
    struct {
        int32_t draft;
        uint32_t size; /* struct_size */
        uint32_t w, h;
    } cases[] = {{1, PRIME_FILES_OPTIONS_SIZE_V2, turbo ? 32 : 64, turbo ? 28 : 56},
                 {0, PRIME_FILES_OPTIONS_SIZE_V2, 64, 56},
                 {1, PRIME_FILES_OPTIONS_SIZE_V1, 64, 56}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cr_assert_eq(prime_image_spec_set_jpeg_draft(spec, cases[k].draft), PRIME_OK);
        fake f = fake_init();
        prime_tagger_backend b = fake_backend(&f);
        prime_tagger *t = NULL;
        cr_assert_eq(prime_tagger_create_from(&b, &t), PRIME_OK);
        prime_tagstore *s = NULL;
        cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
        prime_files_options o = PRIME_FILES_OPTIONS_INIT;
        o.struct_size = cases[k].size;
        o.jpeg_draft = spec;
        o.threads = 1;
        cr_assert_eq(prime_tagger_tag_files(t, paths, classes, 1, &o, s, NULL), PRIME_OK, "%s",
                     prime_last_error());
        cr_assert(f.last_w == cases[k].w && f.last_h == cases[k].h,
                  "case %zu: the backend got %u x %u, not %u x %u", k, f.last_w, f.last_h,
                  cases[k].w, cases[k].h);
        prime_tagstore_destroy(s);
        prime_tagger_destroy(t);
    }
    prime_image_spec_destroy(spec);
}
