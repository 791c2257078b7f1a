/* Image suite: decoding (JPEG, PNG, BMP, TGA, GIF), bad files, resizing and
 * centre cropping against Pillow (tests/data/images/resize_reference.txt,
 * made by scripts/make_image_reference.py; the 8-bit results must be the
 * same bytes: tolerance 0), normalisation (within 1e-6 of the formula in
 * double precision), and parallel batches (the same bytes as serial). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "internal.h"
#include "prime/prime.h"

/* ---- helpers ----------------------------------------------------------------- */

/* The synthetic images of scripts/make_image_reference.py (keep identical):
 * kind 0 = LCG noise, kind 1 = ramps and stripes. */
static uint8_t *synth(int kind, uint32_t w, uint32_t h, uint32_t seed)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    cr_assert_not_null(p);
    uint32_t state = seed;
    size_t i = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < 3; c++) {
                uint32_t v;
                if (kind == 0) {
                    state = state * 1103515245u + 12345u;
                    v = (state >> 16) & 0xFF;
                } else if (c == 0) {
                    v = x * 255 / (w > 1 ? w - 1 : 1);
                } else if (c == 1) {
                    v = y * 255 / (h > 1 ? h - 1 : 1);
                } else {
                    v = ((x / 3 + y / 2) % 2) * 255;
                }
                p[i++] = (uint8_t)v;
            }
    return p;
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

static prime_image *make_image(int kind, uint32_t w, uint32_t h, uint32_t seed)
{
    uint8_t *px = synth(kind, w, h, seed);
    prime_image *im = NULL;
    cr_assert_eq(prime_image_create(w, h, px, &im), PRIME_OK, "%s", prime_last_error());
    free(px);
    return im;
}

static uint8_t *pixels_of(const prime_image *im, size_t *n_out)
{
    size_t n = 0;
    cr_assert_eq(prime_image_copy_pixels(im, NULL, 0, &n), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(n, (size_t)prime_image_width(im) * prime_image_height(im) * 3);
    uint8_t *p = malloc(n);
    cr_assert_eq(prime_image_copy_pixels(im, p, n, NULL), PRIME_OK);
    *n_out = n;
    return p;
}

typedef struct {
    unsigned char *data;
    size_t len, cap;
} membuf;

static void mem_write(void *ctx, void *data, int size)
{
    membuf *m = ctx;
    if (m->len + (size_t)size > m->cap) {
        m->cap = (m->len + (size_t)size) * 2;
        m->data = realloc(m->data, m->cap);
        cr_assert_not_null(m->data);
    }
    memcpy(m->data + m->len, data, (size_t)size);
    m->len += (size_t)size;
}

enum { ENC_PNG, ENC_BMP, ENC_TGA, ENC_JPG };

/* Encode w x h pixels of `comp` channels with stb_image_write. */
static membuf encode(int enc, uint32_t w, uint32_t h, int comp, const uint8_t *px)
{
    membuf m = {NULL, 0, 0};
    int ok = 0;
    switch (enc) {
    case ENC_PNG: ok = stbi_write_png_to_func(mem_write, &m, (int)w, (int)h, comp, px, (int)w * comp); break;
    case ENC_BMP: ok = stbi_write_bmp_to_func(mem_write, &m, (int)w, (int)h, comp, px); break;
    case ENC_TGA: ok = stbi_write_tga_to_func(mem_write, &m, (int)w, (int)h, comp, px); break;
    default: ok = stbi_write_jpg_to_func(mem_write, &m, (int)w, (int)h, comp, px, 95); break;
    }
    cr_assert(ok && m.len > 0, "stb_image_write failed");
    return m;
}

static char *data_path(const char *rel)
{
    const char *d = getenv("PRIME_TEST_DATA");
    cr_assert_not_null(d, "PRIME_TEST_DATA is not set");
    size_t n = strlen(d) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", d, rel);
    return p;
}

/* The test data file rel (under PRIME_TEST_DATA), opened for reading. */
static FILE *open_data(const char *rel)
{
    char *p = data_path(rel);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s: %s", p, strerror(errno));
    free(p);
    return f;
}

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/prime_test_image.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static char *write_tmp(const char *name, const void *data, size_t n)
{
    size_t len = strlen(tmpdir) + strlen(name) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    return p;
}

/* ---- decoding --------------------------------------------------------------- */

Test(image, lossless_formats_round_trip)
{
    const int encs[] = {ENC_PNG, ENC_BMP, ENC_TGA};
    const int32_t fmts[] = {PRIME_IMAGE_FORMAT_PNG, PRIME_IMAGE_FORMAT_BMP,
                            PRIME_IMAGE_FORMAT_TGA};
    const uint32_t sizes[][2] = {{1, 1}, {37, 23}, {64, 3}, {3, 65}};
    for (int e = 0; e < 3; e++)
        for (int s = 0; s < 4; s++) {
            uint32_t w = sizes[s][0], h = sizes[s][1];
            uint8_t *px = synth(0, w, h, (uint32_t)(e * 10 + s));
            membuf m = encode(encs[e], w, h, 3, px);
            prime_image *im = NULL;
            cr_assert_eq(prime_image_load_memory(m.data, m.len, "x", 0, &im), PRIME_OK,
                         "%s", prime_last_error());
            cr_assert_eq(prime_image_width(im), w);
            cr_assert_eq(prime_image_height(im), h);
            cr_assert_eq(prime_image_format(im), fmts[e]);
            size_t n;
            uint8_t *got = pixels_of(im, &n);
            cr_assert_eq(memcmp(got, px, n), 0, "format %d size %ux%u: pixels differ", e, w, h);
            free(got);
            prime_image_destroy(im);
            free(m.data);
            free(px);
        }
}

Test(image, jpeg_decodes_close_to_the_original)
{
    uint32_t w = 48, h = 40;
    uint8_t *px = synth(1, w, h, 0);
    for (uint32_t i = 0; i < w * h; i++)
        px[3 * i + 2] = px[3 * i]; /* smooth content: JPEG keeps it well */
    membuf m = encode(ENC_JPG, w, h, 3, px);
    cr_assert_eq(m.data[0], 0xFF);
    prime_image *im = NULL;
    cr_assert_eq(prime_image_load_memory(m.data, m.len, "x.jpg", 0, &im), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_image_format(im), PRIME_IMAGE_FORMAT_JPEG);
    cr_assert_eq(prime_image_width(im), w);
    cr_assert_eq(prime_image_height(im), h);
    size_t n;
    uint8_t *got = pixels_of(im, &n);
    double err = 0;
    for (size_t i = 0; i < n; i++)
        err += fabs((double)got[i] - px[i]);
    err /= (double)n;
    cr_assert_lt(err, 4.0, "mean absolute error %.2f", err);
    free(got);
    prime_image_destroy(im);
    free(m.data);
    free(px);
}

Test(image, grey_and_alpha_become_rgb)
{
    uint8_t grey[6] = {0, 50, 100, 150, 200, 250};
    membuf m = encode(ENC_PNG, 3, 2, 1, grey);
    prime_image *im = NULL;
    cr_assert_eq(prime_image_load_memory(m.data, m.len, NULL, 0, &im), PRIME_OK);
    uint8_t px[18];
    cr_assert_eq(prime_image_copy_pixels(im, px, sizeof px, NULL), PRIME_OK);
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 3; c++)
            cr_assert_eq(px[3 * i + c], grey[i]);
    prime_image_destroy(im);
    free(m.data);

    uint8_t rgba[8] = {10, 20, 30, 0, 40, 50, 60, 255};
    m = encode(ENC_PNG, 2, 1, 4, rgba);
    cr_assert_eq(prime_image_load_memory(m.data, m.len, NULL, 0, &im), PRIME_OK);
    uint8_t want[6] = {10, 20, 30, 40, 50, 60}; /* alpha dropped, as PIL convert("RGB") */
    cr_assert_eq(prime_image_copy_pixels(im, px, 6, NULL), PRIME_OK);
    cr_assert_eq(memcmp(px, want, 6), 0);
    prime_image_destroy(im);
    free(m.data);
}

Test(image, gif_gives_its_first_frame)
{
    char *p = data_path("images/two_frames.gif");
    prime_image *im = NULL;
    cr_assert_eq(prime_image_load(p, 0, &im), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_image_format(im), PRIME_IMAGE_FORMAT_GIF);
    cr_assert_eq(prime_image_width(im), 4);
    cr_assert_eq(prime_image_height(im), 3);
    size_t n;
    uint8_t *px = pixels_of(im, &n);
    for (size_t i = 0; i < n; i += 3) {
        cr_assert_eq(px[i], 255);
        cr_assert_eq(px[i + 1], 0);
        cr_assert_eq(px[i + 2], 0);
    }
    free(px);
    prime_image_destroy(im);
    free(p);
}

/* Each committed bad file: its status and a message naming the file. */
static const struct {
    const char *file;
    prime_status status;
    const char *fragment;
} bad_files[] = {
    {"truncated.png", PRIME_E_FORMAT, "corrupt or truncated PNG"},
    {"truncated.jpg", PRIME_E_FORMAT, "corrupt or truncated JPEG"},
    {"truncated.gif", PRIME_E_FORMAT, "corrupt or truncated GIF"},
    /* found by fuzz/fuzz_image: stb_image 2.27 overflows its tables on it */
    {"huffman_overflow.jpg", PRIME_E_FORMAT, "corrupt JPEG: Huffman table of more than 256 codes"},
    /* found by fuzz/fuzz_image: a scan that uses a Huffman table no DHT
       defined makes stb_image 2.27 index far outside the table */
    {"huffman_undefined.jpg", PRIME_E_FORMAT,
     "corrupt JPEG: a scan uses a Huffman table that no DHT segment defines"},
    /* found by fuzz/fuzz_image: stb_image would allocate the 1.7 GB this
       200-byte file's second IDAT chunk declares before noticing it is
       not there */
    {"huge_idat.png", PRIME_E_FORMAT,
     "corrupt or truncated PNG: chunk 'IDAT' at byte 80 declares 1718445421 bytes, more than "
     "the file holds"},
    {"empty.png", PRIME_E_FORMAT, "empty file"},
    {"wrong_magic.jpg", PRIME_E_FORMAT, "not a supported image (JPEG, PNG, BMP, TGA, GIF)"},
    {"unsupported.ppm", PRIME_E_FORMAT, "not a supported image"},
    {"huge.png", PRIME_E_LIMIT,
     "image of 100000 x 100000 pixels is larger than the limit of 268435456 pixels"},
    {"huge.bmp", PRIME_E_LIMIT, "image of 30000 x 30000 pixels is larger than the limit"},
};
#define N_BAD (sizeof bad_files / sizeof bad_files[0])

Test(image, bad_files_give_clear_errors)
{
    for (size_t i = 0; i < N_BAD; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "images/bad/%s", bad_files[i].file);
        char *p = data_path(rel);
        prime_image *im = (prime_image *)1;
        prime_status st = prime_image_load(p, 0, &im);
        cr_assert_eq(st, bad_files[i].status, "%s: %s (%s)", bad_files[i].file,
                     prime_status_name(st), prime_last_error());
        cr_assert_null(im);
        const char *msg = prime_last_error();
        cr_assert(strncmp(msg, p, strlen(p)) == 0 && msg[strlen(p)] == ':',
                  "%s: message does not start with the path: %s", bad_files[i].file, msg);
        cr_assert_not_null(strstr(msg, bad_files[i].fragment), "%s: %s", bad_files[i].file,
                           msg);
        free(p);
    }
}

Test(image, missing_file_and_bad_arguments)
{
    prime_image *im = NULL;
    cr_assert_eq(prime_image_load("/nonexistent/x.png", 0, &im), PRIME_E_IO);
    cr_assert_not_null(strstr(prime_last_error(), "/nonexistent/x.png: cannot open"));
    cr_assert_eq(prime_image_load(NULL, 0, &im), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_load("x", 0, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_load_memory(NULL, 4, "m", 0, &im), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_load_memory("", 0, NULL, 0, &im), PRIME_E_FORMAT);
    cr_assert_str_eq(prime_last_error(), "<memory>: empty file");
    cr_assert_eq(prime_image_create(0, 5, NULL, &im), PRIME_E_RANGE);
    cr_assert_eq(prime_image_create(PRIME_IMAGE_MAX_SIDE + 1, 1, NULL, &im), PRIME_E_RANGE);
    cr_assert_null(im);
    prime_image_destroy(NULL);
    cr_assert_eq(prime_image_width(NULL), 0);
    cr_assert_eq(prime_image_height(NULL), 0);
    cr_assert_eq(prime_image_format(NULL), PRIME_IMAGE_FORMAT_NONE);
}

Test(image, pixel_limit_is_checked_before_decoding)
{
    uint8_t *px = synth(0, 64, 48, 1);
    membuf m = encode(ENC_PNG, 64, 48, 3, px);
    prime_image *im = NULL;
    cr_assert_eq(prime_image_load_memory(m.data, m.len, "s.png", 64 * 48 - 1, &im),
                 PRIME_E_LIMIT);
    cr_assert_str_eq(prime_last_error(),
                     "s.png: image of 64 x 48 pixels is larger than the limit of 3071 pixels");
    cr_assert_eq(prime_image_load_memory(m.data, m.len, "s.png", 64 * 48, &im), PRIME_OK);
    prime_image_destroy(im);
    free(m.data);
    free(px);
}

Test(image, every_truncation_of_a_png_fails_cleanly)
{
    uint8_t *px = synth(0, 20, 10, 3);
    membuf m = encode(ENC_PNG, 20, 10, 3, px);
    for (size_t n = 0; n < m.len; n++) {
        prime_image *im = NULL;
        prime_status st = prime_image_load_memory(m.data, n, "t.png", 0, &im);
        if (st == PRIME_OK) { /* only the IEND chunk (12 bytes) may be missing */
            cr_assert_geq(n, m.len - 12, "a PNG cut to %zu of %zu bytes decoded", n, m.len);
            size_t k;
            uint8_t *got = pixels_of(im, &k);
            cr_assert_eq(memcmp(got, px, k), 0);
            free(got);
            prime_image_destroy(im);
            continue;
        }
        cr_assert(st == PRIME_E_FORMAT, "%zu: %s", n, prime_status_name(st));
        cr_assert_null(im);
    }
    free(m.data);
    free(px);
}

Test(image, every_truncation_of_other_formats_is_safe)
{
    /* no crash, no leak; a result, if any, has the announced size */
    const int encs[] = {ENC_JPG, ENC_BMP, ENC_TGA};
    uint8_t *px = synth(1, 21, 13, 0);
    for (int e = 0; e < 3; e++) {
        membuf m = encode(encs[e], 21, 13, 3, px);
        for (size_t n = 0; n < m.len; n++) {
            prime_image *im = NULL;
            prime_status st = prime_image_load_memory(m.data, n, "t", 0, &im);
            if (st == PRIME_OK) {
                cr_assert(prime_image_width(im) == 21 && prime_image_height(im) == 13);
                prime_image_destroy(im);
            } else {
                cr_assert(st == PRIME_E_FORMAT, "%d %zu: %s", e, n, prime_last_error());
                cr_assert_null(im);
            }
        }
        free(m.data);
    }
    free(px);
}

/* ---- resizing and cropping against Pillow ------------------------------------ */

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

Test(image, resize_and_crop_match_pillow)
{
    FILE *f = open_data("images/resize_reference.txt");
    static char line[20000];
    int cases = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#')
            continue;
        char name[64], hashhex[32], samples[16000];
        int kind;
        unsigned w, h, seed, shorter, ow, oh, step;
        int mode, filter;
        int k = sscanf(line, "%63s %d %u %u %u %d %u %u %u %d %31s %u %15999s", name, &kind, &w,
                       &h, &seed, &mode, &shorter, &ow, &oh, &filter, hashhex, &step, samples);
        cr_assert_eq(k, 13, "bad reference line: %s", line);
        prime_image *src = make_image(kind, w, h, seed);
        prime_image *out = NULL;
        prime_image_spec *spec = NULL;
        if (strcmp(name, "clip_preset") == 0)
            cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_CLIP, &spec), PRIME_OK);
        else if (strcmp(name, "ram_preset") == 0)
            cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_RAM, &spec), PRIME_OK);
        else if (strcmp(name, "imagenet_preset_portrait") == 0)
            cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_IMAGENET, &spec), PRIME_OK);
        if (spec == NULL && mode == PRIME_RESIZE_EXACT) {
            cr_assert_eq(prime_image_resize(src, ow, oh, filter, &out), PRIME_OK, "%s: %s",
                         name, prime_last_error());
        } else {
            if (spec == NULL) {
                cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_IMAGENET, &spec),
                             PRIME_OK);
                cr_assert_eq(prime_image_spec_set_resize(spec, mode, shorter, ow, oh), PRIME_OK,
                             "%s: %s", name, prime_last_error());
                cr_assert_eq(prime_image_spec_set_filter(spec, filter), PRIME_OK);
            }
            int32_t m2, f2;
            uint32_t s2, w2, h2;
            cr_assert_eq(prime_image_spec_get_resize(spec, &m2, &s2, &w2, &h2), PRIME_OK);
            cr_assert_eq(prime_image_spec_get_filter(spec, &f2), PRIME_OK);
            cr_assert(m2 == mode && w2 == ow && h2 == oh && f2 == filter, "%s: spec", name);
            if (mode == PRIME_RESIZE_SHORTER_CROP)
                cr_assert_eq(s2, shorter, "%s", name);
            cr_assert_eq(prime_image_transform(src, spec, &out), PRIME_OK, "%s: %s", name,
                         prime_last_error());
        }
        cr_assert_eq(prime_image_width(out), ow, "%s", name);
        cr_assert_eq(prime_image_height(out), oh, "%s", name);
        size_t n;
        uint8_t *got = pixels_of(out, &n);
        int maxdiff = 0;
        size_t ns = strlen(samples) / 2;
        for (size_t i = 0; i < ns; i++) {
            int want = hexval(samples[2 * i]) * 16 + hexval(samples[2 * i + 1]);
            int d = abs((int)got[i * step] - want);
            if (d > maxdiff)
                maxdiff = d;
        }
        cr_assert_eq(ns, (n + step - 1) / step, "%s: sample count", name);
        char mine[32];
        snprintf(mine, sizeof mine, "%016llx", (unsigned long long)fnv1a64(got, n));
        cr_assert_eq(maxdiff, 0, "%s: differs from Pillow by up to %d/255", name, maxdiff);
        cr_assert_str_eq(mine, hashhex, "%s: bytes differ from Pillow's", name);
        free(got);
        prime_image_destroy(out);
        prime_image_destroy(src);
        prime_image_spec_destroy(spec);
        cases++;
    }
    fclose(f);
    cr_assert_eq(cases, 12);
}

/* PIL's 8-bit resample of one axis (libImaging/Resample.c: precompute_coeffs,
 * normalize_coeffs_8bpc, ImagingResampleHorizontal/Vertical_8bpc), written
 * out plainly here as the reference for the wide kernels, which no case of
 * resize_reference.txt reaches: n_in samples at in[i * st] to n_out at
 * out[i * ost]. */
static void pil_axis(const uint8_t *in, size_t st, uint32_t n_in, uint8_t *out, size_t ost,
                     uint32_t n_out, int bicubic)
{
    double support0 = bicubic ? 2.0 : 1.0;
    double scale = (double)(float)n_in / n_out, fs = scale < 1.0 ? 1.0 : scale;
    double support = support0 * fs;
    for (uint32_t xx = 0; xx < n_out; xx++) {
        double center = (xx + 0.5) * scale, ww = 0.0, k[512];
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        xmin = xmin < 0 ? 0 : xmin;
        xmax = (xmax > (int)n_in ? (int)n_in : xmax) - xmin;
        cr_assert(xmax <= 512);
        for (int x = 0; x < xmax; x++) {
            double t = fabs((x + xmin - center + 0.5) * (1.0 / fs)), w;
            if (bicubic)
                w = t < 1.0 ? (1.5 * t - 2.5) * t * t + 1 : t < 2.0 ? ((-0.5 * t + 2.5) * t - 4) * t + 2 : 0;
            else
                w = t < 1.0 ? 1.0 - t : 0.0;
            k[x] = w;
            ww += w;
        }
        int32_t acc = 1 << 21;
        for (int x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? k[x] / ww : k[x];
            int32_t kk = v < 0 ? (int32_t)(-0.5 + v * (1 << 22)) : (int32_t)(0.5 + v * (1 << 22));
            acc += (int32_t)in[(size_t)(x + xmin) * st] * kk;
        }
        out[xx * ost] = acc <= 0 ? 0 : acc >= (255 << 22) ? 255 : (uint8_t)(acc >> 22);
    }
}

/* Large reductions (a photo of 1000 to 4000 px to 224), whose kernels are
 * wide enough (16, 32, 48 weights and more) to take the resampling's
 * planar dot-product pass and its copies for the common lengths: the same
 * bytes as PIL's two passes (pil_axis), colour and grey, both filters. */
Test(image, wide_kernel_reductions_match_pil)
{
    static const uint32_t sizes[][4] = {
        {1300, 40, 150, 20}, {2300, 30, 224, 12}, {3600, 20, 224, 10}, {4000, 900, 160, 36},
        {900, 2300, 30, 224}};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int kind = 0; kind < 2; kind++)
            for (int bicubic = 0; bicubic < 2; bicubic++) {
                uint32_t w = sizes[si][0], h = sizes[si][1], ow = sizes[si][2],
                         oh = sizes[si][3];
                prime_image *src = make_image(kind, w, h, (uint32_t)(si * 4 + 1));
                size_t n;
                uint8_t *px = pixels_of(src, &n);
                if (kind == 1) /* a grey image held as RGB: the one-channel path */
                    for (size_t i = 0; i < n; i += 3)
                        px[i + 1] = px[i + 2] = px[i];
                prime_image *grey = NULL, *out = NULL;
                cr_assert_eq(prime_image_create(w, h, px, &grey), PRIME_OK);
                cr_assert_eq(prime_image_resize(grey, ow, oh,
                                                bicubic ? PRIME_FILTER_BICUBIC
                                                        : PRIME_FILTER_BILINEAR,
                                                &out),
                             PRIME_OK);
                size_t on;
                uint8_t *got = pixels_of(out, &on);
                uint8_t *tmp = malloc((size_t)ow * h * 3), *want = malloc(on);
                cr_assert(tmp != NULL && want != NULL);
                for (uint32_t y = 0; y < h; y++)
                    for (int c = 0; c < 3; c++)
                        pil_axis(px + (size_t)y * w * 3 + c, 3, w, tmp + (size_t)y * ow * 3 + c,
                                 3, ow, bicubic);
                for (uint32_t x = 0; x < ow; x++)
                    for (int c = 0; c < 3; c++)
                        pil_axis(tmp + (size_t)x * 3 + c, (size_t)ow * 3, h,
                                 want + (size_t)x * 3 + c, (size_t)ow * 3, oh, bicubic);
                cr_assert(memcmp(got, want, on) == 0,
                          "%ux%u -> %ux%u kind %d bicubic %d: differs from PIL's passes", w, h,
                          ow, oh, kind, bicubic);
                free(tmp);
                free(want);
                free(got);
                free(px);
                prime_image_destroy(out);
                prime_image_destroy(grey);
                prime_image_destroy(src);
            }
}

Test(image, resize_to_the_same_size_and_crop)
{
    prime_image *src = make_image(0, 9, 7, 5);
    prime_image *same = NULL, *crop = NULL;
    cr_assert_eq(prime_image_resize(src, 9, 7, PRIME_FILTER_BICUBIC, &same), PRIME_OK);
    size_t n1, n2;
    uint8_t *a = pixels_of(src, &n1), *b = pixels_of(same, &n2);
    cr_assert_eq(memcmp(a, b, n1), 0);
    cr_assert_eq(prime_image_crop(src, 2, 3, 4, 4, &crop), PRIME_OK);
    uint8_t *c = pixels_of(crop, &n2);
    for (uint32_t y = 0; y < 4; y++)
        cr_assert_eq(memcmp(c + y * 12, a + ((y + 3) * 9 + 2) * 3, 12), 0);
    prime_image_destroy(crop);
    cr_assert_eq(prime_image_crop(src, 6, 0, 4, 1, &crop), PRIME_E_RANGE);
    cr_assert_null(crop);
    cr_assert_eq(prime_image_crop(src, 0, 0, 0, 1, &crop), PRIME_E_RANGE);
    cr_assert_eq(prime_image_resize(src, 0, 1, PRIME_FILTER_BILINEAR, &crop), PRIME_E_RANGE);
    cr_assert_eq(prime_image_resize(src, 1, 1, 99, &crop), PRIME_E_INVALID_ARG);
    free(a);
    free(b);
    free(c);
    prime_image_destroy(src);
    prime_image_destroy(same);
}

/* ---- specs and normalisation ---------------------------------------------------- */

Test(image, presets_and_spec_setters)
{
    prime_image_spec *s = NULL;
    double mean[3], std[3];
    int32_t mode, filter;
    uint32_t sh, w, h;
    uint64_t mp;
    cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_RAM, &s), PRIME_OK);
    cr_assert_eq(prime_image_spec_get_resize(s, &mode, &sh, &w, &h), PRIME_OK);
    cr_assert(mode == PRIME_RESIZE_EXACT && w == 384 && h == 384);
    cr_assert_eq(prime_image_spec_get_normalize(s, mean, std), PRIME_OK);
    cr_assert(mean[0] == 0.485 && mean[1] == 0.456 && mean[2] == 0.406);
    cr_assert(std[0] == 0.229 && std[1] == 0.224 && std[2] == 0.225);
    cr_assert_eq(prime_image_spec_get_filter(s, &filter), PRIME_OK);
    cr_assert_eq(filter, PRIME_FILTER_BILINEAR);
    cr_assert_eq(prime_image_spec_get_max_pixels(s, &mp), PRIME_OK);
    cr_assert_eq(mp, PRIME_IMAGE_DEFAULT_MAX_PIXELS);
    prime_image_spec_destroy(s);

    cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_CLIP, &s), PRIME_OK);
    cr_assert_eq(prime_image_spec_get_resize(s, &mode, &sh, &w, &h), PRIME_OK);
    cr_assert(mode == PRIME_RESIZE_SHORTER_CROP && sh == 224 && w == 224 && h == 224);
    cr_assert_eq(prime_image_spec_get_normalize(s, mean, NULL), PRIME_OK);
    cr_assert(mean[0] == 0.48145466 && mean[1] == 0.4578275 && mean[2] == 0.40821073);
    cr_assert_eq(prime_image_spec_get_normalize(s, NULL, std), PRIME_OK);
    cr_assert(std[0] == 0.26862954 && std[1] == 0.26130258 && std[2] == 0.27577711);
    cr_assert_eq(prime_image_spec_get_filter(s, &filter), PRIME_OK);
    cr_assert_eq(filter, PRIME_FILTER_BICUBIC);

    cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_SHORTER_CROP, 100, 101, 50),
                 PRIME_E_RANGE);
    cr_assert_not_null(strstr(prime_last_error(), "larger than the shorter side"));
    cr_assert_eq(prime_image_spec_set_resize(s, 7, 100, 10, 10), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_EXACT, 0, 0, 10), PRIME_E_RANGE);
    cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_EXACT, 0, 65537, 10),
                 PRIME_E_RANGE);
    cr_assert_eq(prime_image_spec_set_filter(s, 0), PRIME_E_INVALID_ARG);
    double bad_std[3] = {1, 0, 1}, nan_mean[3] = {0, NAN, 0}, ok3[3] = {0.5, 0.5, 0.5};
    cr_assert_eq(prime_image_spec_set_normalize(s, ok3, bad_std), PRIME_E_RANGE);
    cr_assert_eq(prime_image_spec_set_normalize(s, nan_mean, ok3), PRIME_E_RANGE);
    cr_assert_eq(prime_image_spec_set_normalize(s, NULL, ok3), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_spec_set_max_pixels(s, 0), PRIME_E_RANGE);
    /* nothing was changed by the refused calls */
    cr_assert_eq(prime_image_spec_get_resize(s, &mode, &sh, &w, &h), PRIME_OK);
    cr_assert(mode == PRIME_RESIZE_SHORTER_CROP && sh == 224 && w == 224 && h == 224);
    prime_image_spec_destroy(s);
    prime_image_spec_destroy(NULL);

    cr_assert_eq(prime_image_spec_create(0, &s), PRIME_E_INVALID_ARG);
    cr_assert_null(s);
    cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_IMAGENET, NULL), PRIME_E_INVALID_ARG);
}

Test(image, preprocess_normalises_channel_major)
{
    prime_image *src = make_image(0, 50, 30, 9);
    prime_image_spec *s = NULL;
    cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_CLIP, &s), PRIME_OK);
    cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_SHORTER_CROP, 20, 16, 12), PRIME_OK);
    size_t need = 0;
    cr_assert_eq(prime_image_preprocess(src, s, NULL, 0, &need), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(need, 3 * 16 * 12);
    float *buf = malloc(need * sizeof *buf);
    cr_assert_eq(prime_image_preprocess(src, s, buf, need - 1, NULL), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(prime_image_preprocess(src, s, buf, need, &need), PRIME_OK);
    prime_image *t = NULL;
    cr_assert_eq(prime_image_transform(src, s, &t), PRIME_OK);
    size_t n;
    uint8_t *px = pixels_of(t, &n);
    double mean[3], std[3];
    prime_image_spec_get_normalize(s, mean, std);
    double worst = 0;
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 12; y++)
            for (uint32_t x = 0; x < 16; x++) {
                double want = (px[(y * 16 + x) * 3 + c] / 255.0 - mean[c]) / std[c];
                double d = fabs(buf[(c * 12 + y) * 16 + x] - want);
                if (d > worst)
                    worst = d;
            }
    cr_assert_lt(worst, 1e-6, "normalised values differ by %g", worst);
    /* mean 0, std 1: plain v / 255 */
    double zero[3] = {0, 0, 0}, one[3] = {1, 1, 1};
    cr_assert_eq(prime_image_spec_set_normalize(s, zero, one), PRIME_OK);
    cr_assert_eq(prime_image_preprocess(src, s, buf, need, NULL), PRIME_OK);
    cr_assert_float_eq(buf[0], px[0] / 255.0, 1e-7);
    cr_assert_float_eq(buf[12 * 16], px[1] / 255.0, 1e-7);
    cr_assert_float_eq(buf[2 * 12 * 16 + 1], px[3 + 2] / 255.0, 1e-7);
    free(px);
    free(buf);
    prime_image_destroy(t);
    prime_image_destroy(src);
    prime_image_spec_destroy(s);
}

/* ---- batches ------------------------------------------------------------------ */

#define N_GOOD 24

Test(image, batch_is_the_same_with_any_thread_count, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
    const char *paths[N_GOOD + N_BAD + 1];
    char *owned[N_GOOD + N_BAD + 1];
    uint32_t n = 0;
    for (uint32_t i = 0; i < N_GOOD; i++) {
        uint32_t w = 30 + 7 * i, h = 20 + 5 * (i % 7);
        uint8_t *px = synth((int)(i % 2), w, h, i);
        int enc = (int)(i % 4);
        membuf m = encode(enc, w, h, 3, px);
        char name[32];
        snprintf(name, sizeof name, "img%02u.%s", i,
                 enc == ENC_PNG ? "png" : enc == ENC_BMP ? "bmp" : enc == ENC_TGA ? "tga" : "jpg");
        owned[n] = write_tmp(name, m.data, m.len);
        paths[n] = owned[n];
        n++;
        free(m.data);
        free(px);
        if (i == 10) { /* bad files in between */
            for (size_t b = 0; b < N_BAD; b++) {
                char rel[128];
                snprintf(rel, sizeof rel, "images/bad/%s", bad_files[b].file);
                owned[n] = data_path(rel);
                paths[n] = owned[n];
                n++;
            }
        }
    }
    owned[n] = strdup("/nonexistent/missing.png");
    paths[n] = owned[n];
    n++;
    prime_image_spec *s = NULL;
    cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_IMAGENET, &s), PRIME_OK);
    cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_SHORTER_CROP, 24, 24, 20), PRIME_OK);
    prime_image_batch *serial = NULL;
    cr_assert_eq(prime_image_batch_load(paths, n, s, 1, &serial), PRIME_OK);
    cr_assert_eq(prime_image_batch_count(serial), n);
    cr_assert_eq(prime_image_batch_failed_count(serial), N_BAD + 1);
    size_t slot = 3 * 24 * 20, need = 0;
    cr_assert_eq(prime_image_batch_copy_tensor(serial, NULL, 0, &need), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(need, slot * n);
    const float *ts = prime_image_batch_tensor(serial);
    for (uint32_t t = 0; t <= 8; t += 4) { /* 0 = one per CPU */
        prime_image_batch *par = NULL;
        cr_assert_eq(prime_image_batch_load(paths, n, s, t == 0 ? 0 : t + 3, &par), PRIME_OK);
        float *copy = malloc(need * sizeof *copy);
        cr_assert_eq(prime_image_batch_copy_tensor(par, copy, need, NULL), PRIME_OK);
        cr_assert_eq(memcmp(copy, ts, need * sizeof *copy), 0, "threads %u: tensors differ", t);
        for (uint32_t i = 0; i < n; i++) {
            cr_assert_eq(prime_image_batch_status(par, i), prime_image_batch_status(serial, i));
            cr_assert_str_eq(prime_image_batch_error(par, i), prime_image_batch_error(serial, i));
        }
        free(copy);
        prime_image_batch_destroy(par);
    }
    /* each slot: the single-image path, or zeros and a message naming the file */
    float *one = malloc(slot * sizeof *one);
    for (uint32_t i = 0; i < n; i++) {
        prime_status st = prime_image_batch_status(serial, i);
        const char *err = prime_image_batch_error(serial, i);
        uint32_t w, h;
        cr_assert_eq(prime_image_batch_source_size(serial, i, &w, &h), PRIME_OK);
        if (st == PRIME_OK) {
            cr_assert_str_eq(err, "");
            prime_image *im = NULL;
            cr_assert_eq(prime_image_load(paths[i], 0, &im), PRIME_OK);
            cr_assert(w == prime_image_width(im) && h == prime_image_height(im));
            cr_assert_eq(prime_image_preprocess(im, s, one, slot, NULL), PRIME_OK);
            cr_assert_eq(memcmp(one, ts + slot * i, slot * sizeof *one), 0, "slot %u", i);
            prime_image_destroy(im);
        } else {
            cr_assert(strncmp(err, paths[i], strlen(paths[i])) == 0, "%u: %s", i, err);
            cr_assert(w == 0 && h == 0);
            for (size_t k = 0; k < slot; k++)
                cr_assert_eq(ts[slot * i + k], 0.0f);
        }
    }
    cr_assert_eq(prime_image_batch_status(serial, n), PRIME_E_INVALID_ARG);
    cr_assert_null(prime_image_batch_error(serial, n));
    cr_assert_eq(prime_image_batch_source_size(serial, n, NULL, NULL), PRIME_E_INVALID_ARG);
    free(one);
    prime_image_batch_destroy(serial);

    /* the spec's pixel limit applies to batches */
    cr_assert_eq(prime_image_spec_set_max_pixels(s, 100), PRIME_OK);
    prime_image_batch *lim = NULL;
    cr_assert_eq(prime_image_batch_load(paths, 2, s, 2, &lim), PRIME_OK);
    cr_assert_eq(prime_image_batch_failed_count(lim), 2);
    cr_assert_eq(prime_image_batch_status(lim, 0), PRIME_E_LIMIT);
    cr_assert_not_null(strstr(prime_image_batch_error(lim, 1), "larger than the limit of 100"));
    prime_image_batch_destroy(lim);

    /* an empty batch */
    prime_image_batch *empty = NULL;
    cr_assert_eq(prime_image_batch_load(NULL, 0, s, 0, &empty), PRIME_OK);
    cr_assert_eq(prime_image_batch_count(empty), 0);
    cr_assert_null(prime_image_batch_tensor(empty));
    cr_assert_eq(prime_image_batch_copy_tensor(empty, NULL, 0, &need), PRIME_OK);
    cr_assert_eq(need, 0);
    prime_image_batch_destroy(empty);
    prime_image_batch_destroy(NULL);
    cr_assert_eq(prime_image_batch_load(NULL, 1, s, 0, &empty), PRIME_E_INVALID_ARG);
    prime_image_spec_destroy(s);
    for (uint32_t i = 0; i < n; i++)
        free(owned[i]);
}

/* ---- measured properties -------------------------------------------------------- */

static prime_image *uniform(uint32_t w, uint32_t h, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    prime_image *im = NULL;
    cr_assert_eq(prime_image_create(w, h, px, &im), PRIME_OK);
    free(px);
    return im;
}

static void measure(const prime_image *im, double *v)
{
    uint32_t n = 0;
    cr_assert_eq(prime_image_measure(im, v, PRIME_IMAGE_PROP_COUNT, &n), PRIME_OK);
    cr_assert_eq(n, PRIME_IMAGE_PROP_COUNT);
}

Test(image, measures_of_a_uniform_image)
{
    prime_image *im = uniform(8, 6, 200, 40, 40);
    double v[PRIME_IMAGE_PROP_COUNT];
    measure(im, v);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_BRIGHTNESS], (0.299 * 200 + 0.587 * 40 + 0.114 * 40) / 255,
                       1e-12);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_CONTRAST], 0, 1e-7);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_SATURATION], 0.8, 1e-12);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_COLORFULNESS],
                       0.3 * sqrt(pow(160 / 255.0, 2) + pow(80 / 255.0, 2)), 1e-7);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_SHARPNESS], 0, 1e-12);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_NOISE], 0, 1e-12);
    cr_assert_eq(v[PRIME_IMAGE_PROP_GRAY_FRACTION], 0);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_ASPECT], 8.0 / 6.0, 1e-12);
    cr_assert_eq(v[PRIME_IMAGE_PROP_DOMINANT_COLOR], PRIME_IMAGE_COLOR_RED);
    cr_assert_eq(v[PRIME_IMAGE_PROP_DOMINANT_SHARE], 1);
    prime_image_destroy(im);
}

Test(image, measures_of_a_checkerboard_and_of_blur_and_noise)
{
    uint8_t px[16 * 16 * 3];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            memset(px + (y * 16 + x) * 3, (x + y) % 2 ? 255 : 0, 3);
    prime_image *im = NULL;
    cr_assert_eq(prime_image_create(16, 16, px, &im), PRIME_OK);
    double v[PRIME_IMAGE_PROP_COUNT];
    measure(im, v);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_BRIGHTNESS], 0.5, 1e-9);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_CONTRAST], 0.5, 1e-9);
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_SHARPNESS], 16, 1e-6); /* Laplacian is +-4 */
    cr_assert_float_eq(v[PRIME_IMAGE_PROP_NOISE], sqrt(M_PI / 2) * 8 / 6, 1e-6);
    cr_assert_eq(v[PRIME_IMAGE_PROP_GRAY_FRACTION], 1);
    cr_assert_eq(v[PRIME_IMAGE_PROP_SATURATION], 0);
    cr_assert_eq(v[PRIME_IMAGE_PROP_DOMINANT_COLOR], PRIME_IMAGE_COLOR_BLACK); /* tie: lower */
    cr_assert_eq(v[PRIME_IMAGE_PROP_DOMINANT_SHARE], 0.5);
    prime_image_destroy(im);

    /* a noisy image; blurred (down and up again) it is less sharp and less noisy */
    prime_image *noisy = make_image(0, 64, 48, 4), *small = NULL, *blurred = NULL;
    cr_assert_eq(prime_image_resize(noisy, 16, 12, PRIME_FILTER_BILINEAR, &small), PRIME_OK);
    cr_assert_eq(prime_image_resize(small, 64, 48, PRIME_FILTER_BILINEAR, &blurred), PRIME_OK);
    double a[PRIME_IMAGE_PROP_COUNT], b[PRIME_IMAGE_PROP_COUNT];
    measure(noisy, a);
    measure(blurred, b);
    cr_assert_gt(a[PRIME_IMAGE_PROP_SHARPNESS], 20 * b[PRIME_IMAGE_PROP_SHARPNESS]);
    cr_assert_gt(a[PRIME_IMAGE_PROP_NOISE], 4 * b[PRIME_IMAGE_PROP_NOISE]);
    cr_assert_gt(a[PRIME_IMAGE_PROP_NOISE], 0.1);
    prime_image *portrait = uniform(3, 7, 0, 0, 0);
    measure(portrait, a);
    cr_assert_float_eq(a[PRIME_IMAGE_PROP_ASPECT], 3.0 / 7.0, 1e-12);
    prime_image_destroy(portrait);
    prime_image_destroy(noisy);
    prime_image_destroy(small);
    prime_image_destroy(blurred);
}

Test(image, dominant_colour_names)
{
    static const struct {
        uint8_t r, g, b;
        int32_t color;
    } cases[] = {
        {0, 0, 255, PRIME_IMAGE_COLOR_BLUE},     {255, 255, 255, PRIME_IMAGE_COLOR_WHITE},
        {10, 10, 10, PRIME_IMAGE_COLOR_BLACK},   {128, 128, 128, PRIME_IMAGE_COLOR_GRAY},
        {255, 165, 0, PRIME_IMAGE_COLOR_ORANGE}, {255, 255, 0, PRIME_IMAGE_COLOR_YELLOW},
        {0, 255, 0, PRIME_IMAGE_COLOR_GREEN},    {0, 255, 255, PRIME_IMAGE_COLOR_CYAN},
        {128, 0, 255, PRIME_IMAGE_COLOR_PURPLE}, {255, 0, 200, PRIME_IMAGE_COLOR_PINK},
        {255, 0, 30, PRIME_IMAGE_COLOR_RED},     {200, 30, 0, PRIME_IMAGE_COLOR_RED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prime_image *im = uniform(2, 2, cases[i].r, cases[i].g, cases[i].b);
        double v[PRIME_IMAGE_PROP_COUNT];
        measure(im, v);
        cr_assert_eq((int32_t)v[PRIME_IMAGE_PROP_DOMINANT_COLOR], cases[i].color,
                     "(%d,%d,%d): %s", cases[i].r, cases[i].g, cases[i].b,
                     prime_image_color_name((int32_t)v[PRIME_IMAGE_PROP_DOMINANT_COLOR]));
        prime_image_destroy(im);
    }
    cr_assert_str_eq(prime_image_color_name(PRIME_IMAGE_COLOR_PINK), "pink");
    cr_assert_null(prime_image_color_name(PRIME_IMAGE_COLOR_COUNT));
    cr_assert_str_eq(prime_image_property_name(PRIME_IMAGE_PROP_NOISE), "noise");
    cr_assert_str_eq(prime_image_property_name(PRIME_IMAGE_PROP_DOMINANT_SHARE), "dominant_share");
    cr_assert_null(prime_image_property_name(-1));
    /* cap smaller than the count; NULL arguments */
    prime_image *im = uniform(2, 2, 0, 0, 0);
    double two[2] = {-1, -1};
    uint32_t n = 0;
    cr_assert_eq(prime_image_measure(im, two, 2, &n), PRIME_OK);
    cr_assert_eq(n, PRIME_IMAGE_PROP_COUNT);
    cr_assert(two[0] == 0 && two[1] == 0);
    cr_assert_eq(prime_image_measure(im, NULL, 0, &n), PRIME_OK);
    cr_assert_eq(prime_image_measure(im, NULL, 3, &n), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_measure(NULL, two, 2, &n), PRIME_E_INVALID_ARG);
    prime_image_destroy(im);
}

/* ---- allocation failures ---------------------------------------------------------- */

/* Every allocation of the pipeline made to fail in turn: each call returns
 * PRIME_E_NOMEM (a batch records it per file) or succeeds, and nothing
 * leaks (the valgrind setup checks that). */
Test(image, every_allocation_failure_is_reported, .init = make_tmpdir, .fini = remove_tmpdir)
{
    uint8_t *px = synth(0, 40, 30, 2);
    membuf m = encode(ENC_PNG, 40, 30, 3, px);
    char *paths[2] = {write_tmp("a.png", m.data, m.len), write_tmp("b.png", m.data, m.len)};
    bool finished = false;
    for (long k = 1; k < 500 && !finished; k++) {
        prime__alloc_fail_after(k);
        prime_image *im = NULL, *t = NULL;
        prime_image_spec *s = NULL;
        prime_image_batch *b = NULL;
        float buf[3 * 10 * 10];
        double v[PRIME_IMAGE_PROP_COUNT];
        prime_status st = prime_image_load_memory(m.data, m.len, "a.png", 0, &im);
        if (st == PRIME_OK)
            st = prime_image_spec_create(PRIME_IMAGE_PRESET_CLIP, &s);
        if (st == PRIME_OK)
            st = prime_image_spec_set_resize(s, PRIME_RESIZE_SHORTER_CROP, 12, 10, 10);
        if (st == PRIME_OK)
            st = prime_image_transform(im, s, &t);
        if (st == PRIME_OK)
            st = prime_image_preprocess(im, s, buf, sizeof buf / sizeof buf[0], NULL);
        if (st == PRIME_OK)
            st = prime_image_measure(im, v, PRIME_IMAGE_PROP_COUNT, NULL);
        if (st == PRIME_OK)
            st = prime_image_batch_load((const char *const *)paths, 2, s, 2, &b);
        if (st == PRIME_OK)
            for (uint32_t i = 0; i < 2; i++) {
                prime_status bs = prime_image_batch_status(b, i);
                cr_assert(bs == PRIME_OK || bs == PRIME_E_NOMEM, "k=%ld: %s", k,
                          prime_status_name(bs));
                cr_assert_not_null(prime_image_batch_error(b, i));
            }
        long failed = prime__alloc_failed_count();
        prime__alloc_fail_after(0);
        cr_assert(st == PRIME_OK || st == PRIME_E_NOMEM, "k=%ld: %s (%s)", k,
                  prime_status_name(st), prime_last_error());
        if (failed == 0) {
            cr_assert_eq(st, PRIME_OK);
            cr_assert_eq(prime_image_batch_failed_count(b), 0);
            finished = true;
        }
        prime_image_batch_destroy(b);
        prime_image_destroy(t);
        prime_image_destroy(im);
        prime_image_spec_destroy(s);
    }
    cr_assert(finished);
    free(paths[0]);
    free(paths[1]);
    free(m.data);
    free(px);
}

/* ---- colour conversion order (issue 17) ------------------------------------------- */

/* tests/data/images/mode_reference.txt (scripts/make_mode_reference.py):
 * palette, 1-bit, grey+alpha, RGBA, RGB and grey PNGs through CLIP's order
 * (Resize(S, bicubic), CenterCrop(S), convert("RGB") last) and RAM's
 * (convert("RGB") first, Resize((S, S)) bilinear), computed by Pillow. The
 * presets must give the same bytes (tolerance 0); converting first under
 * CLIP's spec must not (for the modes where the order matters). */
static prime_image_spec *pipeline_spec(const char *pipe)
{
    prime_image_spec *s = NULL;
    uint32_t side = (uint32_t)atoi(pipe + strlen(pipe) - 2);
    if (strncmp(pipe, "clip", 4) == 0) {
        cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_CLIP, &s), PRIME_OK);
        cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_SHORTER_CROP, side, side, side),
                     PRIME_OK);
    } else {
        cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_RAM, &s), PRIME_OK);
        cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_EXACT, 0, side, side), PRIME_OK);
    }
    return s;
}

Test(image, convert_order_matches_pillow_per_mode)
{
    int32_t order = -1;
    prime_image_spec *s = NULL;
    static const int32_t presets[3] = {PRIME_IMAGE_PRESET_RAM, PRIME_IMAGE_PRESET_CLIP,
                                       PRIME_IMAGE_PRESET_IMAGENET};
    static const int32_t orders[3] = {PRIME_CONVERT_FIRST, PRIME_CONVERT_LAST,
                                      PRIME_CONVERT_FIRST};
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(prime_image_spec_create(presets[k], &s), PRIME_OK);
        cr_assert_eq(prime_image_spec_get_convert(s, &order), PRIME_OK);
        cr_assert_eq(order, orders[k], "preset %d", presets[k]);
        prime_image_spec_destroy(s);
    }
    cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_RAM, &s), PRIME_OK);
    cr_assert_eq(prime_image_spec_set_convert(s, 2), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_spec_set_convert(NULL, 0), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_spec_get_convert(s, NULL), PRIME_E_INVALID_ARG);
    prime_image_spec_destroy(s);

    FILE *f = open_data("images/mode_reference.txt");
    static char line[65536];
    int cases = 0, order_matters = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#')
            continue;
        char name[64], file[128], pipe[16];
        unsigned w = 0, h = 0;
        int off = 0;
        cr_assert_eq(sscanf(line, "%63s %127s %15s %u %u %n", name, file, pipe, &w, &h, &off), 5);
        const char *hex = line + off;
        size_t n = (size_t)w * h * 3;
        char rel[256];
        snprintf(rel, sizeof rel, "images/%s", file);
        char *path = data_path(rel);
        prime_image *img = NULL, *out = NULL;
        cr_assert_eq(prime_image_load(path, 0, &img), PRIME_OK, "%s", prime_last_error());
        free(path);
        prime_image_spec *spec = pipeline_spec(pipe);
        cr_assert_eq(prime_image_transform(img, spec, &out), PRIME_OK, "%s", prime_last_error());
        cr_assert(prime_image_width(out) == w && prime_image_height(out) == h);
        uint8_t *got = malloc(n);
        cr_assert_eq(prime_image_copy_pixels(out, got, n, NULL), PRIME_OK);
        int maxd = 0;
        size_t ndiff = 0;
        uint8_t *want = malloc(n);
        for (size_t i = 0; i < n; i++) {
            int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
            cr_assert(hi >= 0 && lo >= 0, "%s %s: short reference", name, pipe);
            want[i] = (uint8_t)(hi * 16 + lo);
            int d = abs((int)got[i] - (int)want[i]);
            maxd = d > maxd ? d : maxd;
            ndiff += d != 0;
        }
        fprintf(stderr, "convert order: %-15s %-6s C vs Pillow: max difference %d levels\n",
                name, pipe, maxd);
        cr_assert_eq(maxd, 0, "%s %s: %zu bytes differ from Pillow, by up to %d", name, pipe,
                     ndiff, maxd);
        /* CLIP's spec made to convert first: the old behaviour */
        if (strncmp(pipe, "clip", 4) == 0) {
            prime_image *first = NULL;
            cr_assert_eq(prime_image_spec_set_convert(spec, PRIME_CONVERT_FIRST), PRIME_OK);
            cr_assert_eq(prime_image_transform(img, spec, &first), PRIME_OK);
            cr_assert_eq(prime_image_copy_pixels(first, got, n, NULL), PRIME_OK);
            int same = memcmp(got, want, n) == 0;
            int plain = strcmp(name, "rgb") == 0 || strcmp(name, "grey") == 0 ||
                        (strcmp(name, "rgba_same_size") == 0 && strcmp(pipe, "clip24") == 0);
            cr_assert_eq(same, plain, "%s %s: converting first %s", name, pipe,
                         plain ? "must not matter" : "must differ");
            order_matters += !same;
            prime_image_destroy(first);
        }
        free(want);
        free(got);
        prime_image_destroy(out);
        prime_image_destroy(img);
        prime_image_spec_destroy(spec);
        cases++;
    }
    fclose(f);
    cr_assert_eq(cases, 24);
    cr_assert_eq(order_matters, 11);
}

/* ---- decoders (issue 17) ----------------------------------------------------------- */

/* tests/data/images/decoder_reference.txt (scripts/make_decoder_reference.py):
 * JPEGs (4:2:0, 4:2:2, 4:4:4, progressive, grey) and PNGs (16-bit RGB,
 * Adam7-interlaced) cut from real photos, with Pillow's full decode and,
 * for the JPEGs, Pillow's draft + CLIP / RAM preprocessing. The suite runs
 * once with the decoders of the build and once with PRIME_IMAGE_DECODER=stb
 * (tests/meson.build), so every decoder is held to its line:
 *  - libspng and stb_image PNGs, libjpeg-turbo JPEGs: Pillow's bytes exactly
 *    (Pillow decodes with libpng and libjpeg-turbo);
 *  - stb_image JPEGs: its own IDCT and chroma upsampling, within
 *    JPEG_STB_MAX_LEVELS of Pillow per byte and JPEG_STB_MEAN_LEVELS on
 *    average (docs/images.md);
 *  - the draft (prime_image_spec_set_jpeg_draft) with libjpeg-turbo:
 *    Pillow's draft + resize exactly; with stb_image the draft is ignored
 *    (the batch equals the one without it). */
#define JPEG_STB_MAX_LEVELS 8
#define JPEG_STB_MEAN_LEVELS 0.75

typedef struct {
    char name[64], file[128], kase[16];
    unsigned w, h;
    uint8_t *want;
} decoder_case;

static bool next_decoder_case(FILE *f, decoder_case *c)
{
    static char *line = NULL;
    static size_t cap = 0;
    for (;;) {
        if (getline(&line, &cap, f) < 0) {
            free(line);
            line = NULL;
            cap = 0;
            return false;
        }
        if (line[0] != '#')
            break;
    }
    int off = 0;
    cr_assert_eq(sscanf(line, "%63s %127s %15s %u %u %n", c->name, c->file, c->kase, &c->w, &c->h,
                        &off), 5);
    size_t n = (size_t)c->w * c->h * 3;
    c->want = malloc(n);
    cr_assert_not_null(c->want);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(line[off + 2 * i]), lo = hexval(line[off + 2 * i + 1]);
        cr_assert(hi >= 0 && lo >= 0, "%s %s: short reference", c->name, c->kase);
        c->want[i] = (uint8_t)(hi * 16 + lo);
    }
    return true;
}

/* The batch of one file under the preset of a case (clipS, ramS), with mean
 * 0 and std 1 (so each float is byte / 255), back to bytes. */
static uint8_t *draft_batch(const char *path, const char *kase, int32_t draft, unsigned w,
                            unsigned h)
{
    prime_image_spec *s = NULL;
    uint32_t side = (uint32_t)atoi(kase + strcspn(kase, "0123456789"));
    if (strncmp(kase, "clip", 4) == 0) {
        cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_CLIP, &s), PRIME_OK);
        cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_SHORTER_CROP, side, side, side),
                     PRIME_OK);
    } else {
        cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_RAM, &s), PRIME_OK);
        cr_assert_eq(prime_image_spec_set_resize(s, PRIME_RESIZE_EXACT, 0, side, side), PRIME_OK);
    }
    static const double zero[3] = {0, 0, 0}, one[3] = {1, 1, 1};
    cr_assert_eq(prime_image_spec_set_normalize(s, zero, one), PRIME_OK);
    cr_assert_eq(prime_image_spec_set_jpeg_draft(s, draft), PRIME_OK);
    prime_image_batch *b = NULL;
    cr_assert_eq(prime_image_batch_load(&path, 1, s, 1, &b), PRIME_OK);
    cr_assert_eq(prime_image_batch_status(b, 0), PRIME_OK, "%s", prime_image_batch_error(b, 0));
    uint32_t sw = 0, sh = 0; /* the file's size, draft or not */
    cr_assert_eq(prime_image_batch_source_size(b, 0, &sw, &sh), PRIME_OK);
    cr_assert(sw == 64 && sh == 56, "%s: source size %u x %u", path, sw, sh);
    const float *t = prime_image_batch_tensor(b);
    size_t plane = (size_t)w * h;
    uint8_t *px = malloc(plane * 3);
    cr_assert_not_null(px);
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            float v = t[c * plane + i] * 255.0f;
            int k = (int)lrintf(v);
            cr_assert(k >= 0 && k <= 255 && (float)k / 255.0f == t[c * plane + i]);
            px[3 * i + c] = (uint8_t)k;
        }
    prime_image_batch_destroy(b);
    prime_image_spec_destroy(s);
    return px;
}

Test(image, decoders_match_pillow)
{
    const char *jpeg = prime__image_decoder_name(PRIME_IMAGE_FORMAT_JPEG);
    const char *png = prime__image_decoder_name(PRIME_IMAGE_FORMAT_PNG);
    const char *forced = getenv("PRIME_IMAGE_DECODER");
    if (forced != NULL && strcmp(forced, "stb") == 0)
        cr_assert(strcmp(jpeg, "stb_image") == 0 && strcmp(png, "stb_image") == 0);
    else if (forced != NULL && strcmp(forced, "spng") == 0)
        cr_assert_str_eq(png, PRIME_HAVE_SPNG ? "libspng" : "stb_image");
    else {
        cr_assert_str_eq(jpeg, PRIME_HAVE_TURBOJPEG ? "libjpeg-turbo" : "stb_image");
        cr_assert_str_eq(png, PRIME_HAVE_LIBDEFLATE ? "libdeflate"
                              : PRIME_HAVE_SPNG    ? "libspng"
                                                   : "stb_image");
    }
    cr_assert_str_eq(prime__image_decoder_name(PRIME_IMAGE_FORMAT_GIF), "libprime");
    bool exact_jpeg = strcmp(jpeg, "libjpeg-turbo") == 0;
    FILE *f = open_data("images/decoder_reference.txt");
    decoder_case c;
    int decodes = 0, drafts = 0;
    while (next_decoder_case(f, &c)) {
        char rel[256];
        snprintf(rel, sizeof rel, "images/%s", c.file);
        char *path = data_path(rel);
        bool is_jpeg = strstr(c.file, ".jpg") != NULL;
        size_t n = (size_t)c.w * c.h * 3;
        uint8_t *got;
        if (strcmp(c.kase, "decode") == 0) {
            prime_image *img = NULL;
            cr_assert_eq(prime_image_load(path, 0, &img), PRIME_OK, "%s", prime_last_error());
            cr_assert(prime_image_width(img) == c.w && prime_image_height(img) == c.h);
            got = malloc(n);
            cr_assert_eq(prime_image_copy_pixels(img, got, n, NULL), PRIME_OK);
            prime_image_destroy(img);
            decodes++;
        } else {
            got = draft_batch(path, c.kase, 1, c.w, c.h);
            if (!exact_jpeg) { /* no draft: the full decode's batch */
                uint8_t *full = draft_batch(path, c.kase, 0, c.w, c.h);
                cr_assert(memcmp(got, full, n) == 0, "%s %s: draft without libjpeg-turbo",
                          c.name, c.kase);
                free(full);
                free(got);
                free(c.want);
                free(path);
                drafts++;
                continue;
            }
            drafts++;
        }
        int maxd = 0;
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            int d = abs((int)got[i] - (int)c.want[i]);
            maxd = d > maxd ? d : maxd;
            sum += d;
        }
        const char *dec = is_jpeg ? jpeg : png;
        fprintf(stderr, "decoder: %-22s %-7s %-14s vs Pillow: max %d levels, mean %.4f\n",
                c.name, c.kase, dec, maxd, sum / (double)n);
        if (is_jpeg && !exact_jpeg) {
            cr_assert(maxd <= JPEG_STB_MAX_LEVELS && sum / (double)n <= JPEG_STB_MEAN_LEVELS,
                      "%s: stb_image differs from Pillow by up to %d levels (mean %.3f)",
                      c.name, maxd, sum / (double)n);
        } else {
            cr_assert_eq(maxd, 0, "%s %s (%s): differs from Pillow by up to %d levels", c.name,
                         c.kase, dec, maxd);
        }
        free(got);
        free(c.want);
        free(path);
    }
    fclose(f);
    cr_assert_eq(decodes, 8);
    cr_assert_eq(drafts, 20);
}

#if PRIME_HAVE_TURBOJPEG && PRIME_HAVE_LIBJPEG
#include <jpeglib.h>
#include <turbojpeg.h>

/* A progressive (or baseline) JPEG of w x h pixels with the luma sampling
 * factors hs x vs (chroma 1 x 1; grey: one component), a restart marker
 * every `restart` MCU rows, from a smooth picture with noise, written by
 * libjpeg into a malloc'ed buffer. */
static unsigned char *make_jpeg(int w, int h, int hs, int vs, int restart, bool grey,
                                bool progressive, unsigned long *size)
{
    unsigned char *px = malloc((size_t)w * h * 3);
    cr_assert_not_null(px);
    uint32_t seed = (uint32_t)(w * 131 + h * 17 + hs * 5 + vs);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            seed = seed * 1664525u + 1013904223u;
            int noise = (int)(seed >> 27) - 16;
            for (int c = 0; c < 3; c++) {
                int v = (x * (3 + c) * 255 / (w + 1) + y * (5 - c) * 255 / (h + 1)) / 4 + noise +
                        (((x / 5 + y / 7) & 1) ? 60 : 0);
                px[((size_t)y * w + x) * 3 + c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    jpeg_mem_dest(&c, &out, size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    if (grey)
        jpeg_set_colorspace(&c, JCS_GRAYSCALE);
    jpeg_set_quality(&c, 85, TRUE);
    c.comp_info[0].h_samp_factor = hs;
    c.comp_info[0].v_samp_factor = vs;
    c.restart_in_rows = restart;
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = px + (size_t)c.next_scanline * w * 3;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(px);
    return out;
}

/* TurboJPEG's full decode at 1/8 of the JPEG jpg[0..n) of w x h pixels,
 * the reference of the drafts: ((w + 7) / 8) x ((h + 7) / 8) RGB pixels
 * (free()), or NULL with TurboJPEG's message in err where it fails. */
#define TJ_ERR_MAX 200
static unsigned char *tj_eighth(const unsigned char *jpg, unsigned long n, int w, int h,
                                char err[TJ_ERR_MAX])
{
    int sw = (w + 7) / 8, sh = (h + 7) / 8;
    unsigned char *px = malloc((size_t)sw * sh * 3);
    tjhandle tj = tjInitDecompress();
    cr_assert(tj != NULL && px != NULL);
    if (tjDecompress2(tj, jpg, n, px, sw, 0, sh, TJPF_RGB, 0) != 0) {
        snprintf(err, TJ_ERR_MAX, "%s", tjGetErrorStr2(tj));
        free(px);
        px = NULL;
    }
    tjDestroy(tj);
    return px;
}

/* The draft of a progressive JPEG at 1/8 skips its AC scans where the 1x1
 * IDCT does not read them, and decodes the DC scans itself where every
 * component is DC-only (lib/image/decode_jpeg.c): the pixels must be
 * TurboJPEG's full decode at 1/8, byte for byte, for every chroma sampling
 * (4:4:4, 4:2:2, 4:4:0 and grey: all DC-only; 4:2:0: the luma's AC left
 * out, the chroma's kept), with and without restart markers, at sizes that
 * are not multiples of the MCU, and for baseline files (not taken). */
Test(image, jpeg_draft_dc_only_matches_full_decode)
{
    static const int sizes[][2] = {{64, 56}, {83, 67}, {130, 97}, {9, 250}, {401, 17}};
    static const int samp[][2] = {{1, 1}, {2, 1}, {1, 2}, {2, 2}};
    int compared = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t k = 0; k < sizeof samp / sizeof samp[0] + 1; k++)
            for (int restart = 0; restart <= 2; restart++)
                for (int progressive = 0; progressive <= 1; progressive++) {
                    int w = sizes[si][0], h = sizes[si][1];
                    bool grey = k == sizeof samp / sizeof samp[0];
                    int hs = grey ? 1 : samp[k][0], vs = grey ? 1 : samp[k][1];
                    unsigned long n = 0;
                    unsigned char *jpg = make_jpeg(w, h, hs, vs, restart, grey, progressive, &n);
                    int sw = (w + 7) / 8, sh = (h + 7) / 8;
                    char err[TJ_ERR_MAX];
                    unsigned char *want = tj_eighth(jpg, n, w, h, err);
                    cr_assert_not_null(want, "%s", err);
                    uint8_t *got = NULL;
                    uint32_t ow = 0, oh = 0;
                    cr_assert(prime__image_decode_turbojpeg(jpg, n, (uint32_t)w, (uint32_t)h,
                                                            1, 1, &got, &ow, &oh)); /* 1/8 */
                    cr_assert(ow == (uint32_t)sw && oh == (uint32_t)sh);
                    cr_assert(memcmp(got, want, (size_t)sw * sh * 3) == 0,
                              "%dx%d sampling %dx%d%s restart %d progressive %d: the 1/8 draft "
                              "differs from the full decode",
                              w, h, hs, vs, grey ? " grey" : "", restart, progressive);
                    prime__image_scratch_free(got);
                    free(want);
                    free(jpg);
                    compared++;
                }
    cr_assert_eq(compared, 5 * 5 * 3 * 2);
}

/* A copy of a JPEG written by libjpeg (no fill bytes, every segment in
 * order) with `fill` 0xFF fill bytes and (tem) a TEM marker (0xFF 0x01,
 * no length) before every marker after SOI, the entropy-coded data of each
 * AC scan (Ss > 0) of the component `damage_id` replaced by stuffed 0xFF
 * bytes (all one bits: never a Huffman code, so a full decode fails there;
 * 0: none), and the EOI left off where drop_eoi. */
static unsigned char *rewrite_jpeg(const unsigned char *d, unsigned long n, int fill, bool tem,
                                   int damage_id, bool drop_eoi, unsigned long *out_n)
{
    unsigned char *o = malloc(2 * n + 64 * 16);
    cr_assert_not_null(o);
    size_t k = 0, i = 2;
    o[k++] = d[0];
    o[k++] = d[1];
    while (i + 2 <= n) {
        cr_assert(d[i] == 0xFF, "rewrite_jpeg: no marker at %zu", i);
        unsigned m = d[i + 1];
        for (int f = 0; f < fill; f++)
            o[k++] = 0xFF;
        if (tem) {
            o[k++] = 0xFF;
            o[k++] = 0x01;
        }
        if (m == 0xD9) {
            if (!drop_eoi) {
                o[k++] = 0xFF;
                o[k++] = 0xD9;
            }
            break;
        }
        size_t len = (size_t)d[i + 2] << 8 | d[i + 3];
        memcpy(o + k, d + i, 2 + len);
        k += 2 + len;
        size_t j = i + 2 + len;
        if (m != 0xDA) {
            i = j;
            continue;
        }
        unsigned ns = d[i + 4], ss = d[i + 5 + 2 * ns];
        bool damage = ss != 0 && ns == 1 && d[i + 5] == damage_id;
        size_t end = j;
        while (end + 1 < n && !(d[end] == 0xFF && d[end + 1] != 0x00 &&
                                !(d[end + 1] >= 0xD0 && d[end + 1] <= 0xD7)))
            end++;
        for (size_t e = j; e < end; e++) {
            if (damage) {
                o[k++] = 0xFF;
                o[k++] = 0x00;
                e++;
            } else {
                o[k++] = d[e];
            }
        }
        i = end;
    }
    *out_n = k;
    return o;
}

/* The marker walk the 1/8 draft shares between its scan-script check and
 * its DC decoder (jpeg_next_segment): fill bytes and TEM markers between
 * segments are stepped over as libjpeg does, so that the draft still
 * leaves the AC scans of DC-only components out. That it does is seen on a
 * file whose left-out scans are damaged: the full decode fails, the draft
 * gives the undamaged file's pixels (docs/images.md). A file without its
 * EOI is not taken by the draft (libjpeg warns there): it fails as the full
 * decode does. */
Test(image, jpeg_draft_marker_walk)
{
    static const int sizes[][2] = {{64, 56}, {83, 67}, {130, 97}};
    static const int samp[][2] = {{1, 1}, {2, 1}, {1, 2}, {2, 2}};
    int compared = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t k = 0; k < sizeof samp / sizeof samp[0] + 1; k++)
            for (int restart = 0; restart <= 1; restart++)
                for (int variant = 0; variant < 3; variant++) {
                    int w = sizes[si][0], h = sizes[si][1];
                    bool grey = k == sizeof samp / sizeof samp[0];
                    int hs = grey ? 1 : samp[k][0], vs = grey ? 1 : samp[k][1];
                    unsigned long n = 0, n2 = 0;
                    unsigned char *jpg = make_jpeg(w, h, hs, vs, restart, grey, true, &n);
                    int sw = (w + 7) / 8, sh = (h + 7) / 8;
                    char err[TJ_ERR_MAX];
                    unsigned char *want = tj_eighth(jpg, n, w, h, err);
                    cr_assert_not_null(want, "%s", err);
                    /* 0: fill bytes, damaged luma AC scans; 1: the same with
                       TEM markers too; 2: no EOI */
                    unsigned char *bad = rewrite_jpeg(jpg, n, variant == 2 ? 0 : 1 + variant,
                                                      variant == 1, variant == 2 ? 0 : 1,
                                                      variant == 2, &n2);
                    cr_assert_null(tj_eighth(bad, n2, w, h, err),
                                   "the rewritten file decodes cleanly: the test proves nothing");
                    uint8_t *got = NULL;
                    uint32_t ow = 0, oh = 0;
                    bool ok = prime__image_decode_turbojpeg(bad, n2, (uint32_t)w, (uint32_t)h, 1,
                                                            1, &got, &ow, &oh);
                    if (variant == 2) {
                        cr_assert(!ok, "%dx%d sampling %dx%d%s restart %d: a file without EOI "
                                       "drafted", w, h, hs, vs, grey ? " grey" : "", restart);
                    } else {
                        cr_assert(ok && ow == (uint32_t)sw && oh == (uint32_t)sh,
                                  "%dx%d sampling %dx%d%s restart %d variant %d: the draft did "
                                  "not leave the damaged AC scans out",
                                  w, h, hs, vs, grey ? " grey" : "", restart, variant);
                        cr_assert(memcmp(got, want, (size_t)sw * sh * 3) == 0,
                                  "%dx%d sampling %dx%d%s restart %d variant %d: the draft "
                                  "differs from the undamaged file's full decode",
                                  w, h, hs, vs, grey ? " grey" : "", restart, variant);
                    }
                    prime__image_scratch_free(got);
                    free(bad);
                    free(want);
                    free(jpg);
                    compared++;
                }
    cr_assert_eq(compared, 3 * 5 * 2 * 3);
}
#endif

Test(image, jpeg_draft_setting)
{
    prime_image_spec *s = NULL;
    int32_t v = -1;
    cr_assert_eq(prime_image_spec_create(PRIME_IMAGE_PRESET_CLIP, &s), PRIME_OK);
    cr_assert_eq(prime_image_spec_get_jpeg_draft(s, &v), PRIME_OK);
    cr_assert_eq(v, 0);
    cr_assert_eq(prime_image_spec_set_jpeg_draft(s, 1), PRIME_OK);
    cr_assert_eq(prime_image_spec_get_jpeg_draft(s, &v), PRIME_OK);
    cr_assert_eq(v, 1);
    cr_assert_eq(prime_image_spec_set_jpeg_draft(s, 2), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_spec_set_jpeg_draft(NULL, 0), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_image_spec_get_jpeg_draft(s, NULL), PRIME_E_INVALID_ARG);
    prime_image_spec_destroy(s);
}

/* tests/data/images/format_mode_reference.txt
 * (scripts/make_format_mode_reference.py): palette GIF, BMP (8-bit palette,
 * 1-bit, and an 8-bit grey ramp PIL opens as "L") and TGA files
 * (colour-mapped, RLE, 32-bit RGBA, grey) through CLIP's and RAM's orders,
 * computed by Pillow: the same bytes (tolerance 0). Pillow resizes a "P" or
 * "1" image with NEAREST and an "RGBA" one premultiplied, whatever the
 * format. GIFs with a transparent index ("P" and a grey ramp "L"): Pillow's
 * RGB pixels there are the index's palette colour, in both orders. 16-bit
 * grey PNGs ("I"): resized in 32 bits and clipped last (CLIP's order), or
 * clipped to 0..255 first and resized as RGB (RAM's order). */
/* One line of a Pillow reference (format_mode_reference.txt,
 * gif_reference.txt): the file as decoded (pipeline "full") or through the
 * line's pipeline, byte for byte (tolerance 0); frees c->want. */
static void check_pillow_line(decoder_case *c, const char *label)
{
    char rel[256];
    snprintf(rel, sizeof rel, "images/%s", c->file);
    char *path = data_path(rel);
    prime_image *img = NULL, *out = NULL;
    cr_assert_eq(prime_image_load(path, 0, &img), PRIME_OK, "%s", prime_last_error());
    if (strcmp(c->kase, "full") == 0) {
        out = img;
        img = NULL;
    } else {
        prime_image_spec *spec = pipeline_spec(c->kase);
        cr_assert_eq(prime_image_transform(img, spec, &out), PRIME_OK, "%s", prime_last_error());
        prime_image_spec_destroy(spec);
    }
    cr_assert(prime_image_width(out) == c->w && prime_image_height(out) == c->h,
              "%s %s: %u x %u, Pillow %u x %u", c->name, c->kase, prime_image_width(out),
              prime_image_height(out), c->w, c->h);
    size_t n = (size_t)c->w * c->h * 3;
    uint8_t *got = malloc(n);
    cr_assert_eq(prime_image_copy_pixels(out, got, n, NULL), PRIME_OK);
    int maxd = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)got[i] - (int)c->want[i]);
        maxd = d > maxd ? d : maxd;
    }
    fprintf(stderr, "%s: %-15s %-6s C vs Pillow: max difference %d levels\n", label, c->name,
            c->kase, maxd);
    cr_assert_eq(maxd, 0, "%s %s: differs from Pillow by up to %d levels", c->name, c->kase,
                 maxd);
    free(got);
    free(c->want);
    free(path);
    prime_image_destroy(out);
    prime_image_destroy(img);
}

Test(image, convert_order_matches_pillow_per_format)
{
    FILE *f = open_data("images/format_mode_reference.txt");
    decoder_case c;
    int cases = 0;
    while (next_decoder_case(f, &c)) {
        check_pillow_line(&c, "convert order");
        cases++;
    }
    fclose(f);
    cr_assert_eq(cases, 43);
}

/* The resampling kernels (lib/image/resample.c): AVX2 where the CPU has it,
 * the baseline copies when PRIME_RESAMPLE_KERNEL=baseline; the image suite
 * runs once more that way (test_image_baseline in tests/meson.build), so
 * that every byte-exactness test against Pillow above runs the baseline
 * copies on an AVX2 machine too. */
Test(image, resample_kernel_follows_the_environment)
{
    const char *k = prime__image_resample_kernel();
    const char *e = getenv("PRIME_RESAMPLE_KERNEL");
    fprintf(stderr, "resampling kernels: %s\n", k);
    if (e != NULL && strcmp(e, "baseline") == 0) {
        cr_assert_str_eq(k, "baseline");
        return;
    }
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    cr_assert_str_eq(k, __builtin_cpu_supports("avx2") ? "avx2" : "baseline");
#else
    cr_assert_str_eq(k, "baseline");
#endif
}

/* tests/data/images/gif_reference.txt (scripts/make_gif_reference.py): GIFs
 * written byte by byte - a first frame inside the canvas (the rest index 0,
 * or the transparent index), transparent indices inside the frame and past
 * the colour table, indices past the table, local tables, grey ramps and
 * no table (PIL "L"), interlacing at heights that leave passes empty, a
 * frame past the logical screen, LZW streams without a clear or an end
 * code, a full table kept, 12-bit codes, more codes than pixels,
 * extensions, later frames - decoded as Pillow's
 * Image.open(f).convert("RGB") (line "full") and through CLIP's and RAM's
 * orders: the same bytes (tolerance 0). gif_refused.txt: the files Pillow
 * refuses, refused. */
Test(image, gif_first_frame_matches_pillow)
{
    FILE *f = open_data("images/gif_reference.txt");
    decoder_case c;
    int cases = 0, full = 0;
    while (next_decoder_case(f, &c)) {
        full += strcmp(c.kase, "full") == 0;
        check_pillow_line(&c, "gif");
        cases++;
    }
    fclose(f);
    cr_assert_eq(full, 33);
    cr_assert_eq(cases, 98);

    f = open_data("images/gif_refused.txt");
    char line[512];
    int refused = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#')
            continue;
        char file[128], rel[160];
        cr_assert_eq(sscanf(line, "%127s", file), 1);
        snprintf(rel, sizeof rel, "images/%s", file);
        char *path = data_path(rel);
        prime_image *img = NULL;
        cr_assert_eq(prime_image_load(path, 0, &img), PRIME_E_FORMAT, "%s: accepted", file);
        cr_assert_null(img);
        cr_assert(strstr(prime_last_error(), "GIF") != NULL, "%s", prime_last_error());
        fprintf(stderr, "gif refused as by Pillow: %s\n", prime_last_error());
        free(path);
        refused++;
    }
    fclose(f);
    cr_assert_eq(refused, 8);
}

/* Every prefix of every GIF of gif_reference.txt: refused (PRIME_E_FORMAT),
 * or, once the first frame is whole, the whole file's pixels (as Pillow:
 * later frames and the trailer are never read); no crash, no leak. */
Test(image, every_truncation_of_a_gif_is_refused_or_whole)
{
    FILE *f = open_data("images/gif_reference.txt");
    decoder_case c;
    int files = 0;
    while (next_decoder_case(f, &c)) {
        if (strcmp(c.kase, "full") != 0) {
            free(c.want);
            continue;
        }
        char rel[256];
        snprintf(rel, sizeof rel, "images/%s", c.file);
        char *path = data_path(rel);
        FILE *g = fopen(path, "rb");
        cr_assert_not_null(g, "%s", path);
        static unsigned char data[1 << 16];
        size_t len = fread(data, 1, sizeof data, g);
        cr_assert(len > 0 && len < sizeof data && feof(g), "%s", path);
        fclose(g);
        size_t whole = 0; /* the shortest prefix that decodes */
        for (size_t n = 0; n <= len; n++) {
            prime_image *im = NULL;
            prime_status st = prime_image_load_memory(data, n, "t.gif", 0, &im);
            if (st != PRIME_OK) {
                cr_assert(st == PRIME_E_FORMAT, "%s %zu: %s", c.file, n, prime_last_error());
                cr_assert(whole == 0, "%s: %zu bytes decode, %zu do not", c.file, whole, n);
                cr_assert_null(im);
                continue;
            }
            whole = whole ? whole : n;
            size_t np = (size_t)c.w * c.h * 3;
            cr_assert(prime_image_width(im) == c.w && prime_image_height(im) == c.h);
            uint8_t *px = malloc(np);
            cr_assert_eq(prime_image_copy_pixels(im, px, np, NULL), PRIME_OK);
            cr_assert(memcmp(px, c.want, np) == 0, "%s: %zu bytes give other pixels", c.file, n);
            free(px);
            prime_image_destroy(im);
        }
        cr_assert(whole > 0 && whole < len, "%s", c.file);
        free(c.want);
        free(path);
        files++;
    }
    fclose(f);
    cr_assert_eq(files, 33);
}
