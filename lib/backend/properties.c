/* The model-free image-property tagger (docs/backends.md): a pure-C tagger
 * backend on prime_image_measure, wrapped through the public backend
 * interface like any other. Every rule and threshold is documented in
 * docs/backends.md; keep the two in step. */
#include <string.h>

#include "store/store.h"
#include "prime/sys/backend.h"

/* Images are measured on a copy whose longer side is at most this many
 * pixels (bilinear, antialiased), so that sharpness and noise mean the same
 * at every resolution (and large images cost little). */
#define PROP_MEASURE_SIDE 512u

/* Thresholds (docs/backends.md, "The image-property tagger"). */
#define PROP_DARK 0.25          /* brightness (mean luma) below */
#define PROP_BRIGHT 0.75        /* brightness above */
#define PROP_LOW_CONTRAST 0.08  /* contrast (sd of luma) below */
#define PROP_BLURRY 0.0015      /* sharpness (Laplacian variance) below ... */
#define PROP_BLURRY_MIN_CONTRAST 0.02 /* ... in an image that is not flat */
#define PROP_NOISY 0.03         /* noise sigma above */
#define PROP_GRAYSCALE 0.99     /* gray_fraction at least */
#define PROP_SATURATED 0.6      /* mean saturation above */
#define PROP_PORTRAIT 0.9       /* width / height below */
#define PROP_LANDSCAPE 1.1      /* width / height above */
#define PROP_DOMINANT 0.4       /* dominant colour share at least */

enum {
    T_DARK, T_BRIGHT, T_LOW_CONTRAST, T_BLURRY, T_NOISY, T_GRAYSCALE, T_SATURATED,
    T_PORTRAIT, T_LANDSCAPE, T_SQUARE, T_COLOR0, T_COUNT = T_COLOR0 + PRIME_IMAGE_COLOR_COUNT
};

static const char *const prop_names[T_COLOR0] = {
    "dark", "bright", "low-contrast", "blurry", "noisy", "grayscale", "saturated",
    "portrait", "landscape", "square",
};

static void prop_destroy(void *self)
{
    (void)self;
}

static uint32_t prop_tag_count(void *self)
{
    (void)self;
    return T_COUNT;
}

static const char *prop_tag_name(void *self, uint32_t i)
{
    (void)self;
    if (i < T_COLOR0)
        return prop_names[i];
    if (i < T_COUNT)
        return prime_image_color_name((int32_t)(i - T_COLOR0));
    return NULL;
}

static prime_status prop_score_one(const prime_image *img, float *s)
{
    uint32_t w = prime_image_width(img), h = prime_image_height(img);
    prime_image *small = NULL;
    const prime_image *m = img;
    uint32_t side = w > h ? w : h;
    if (side > PROP_MEASURE_SIDE) {
        uint32_t nw = (uint32_t)(((uint64_t)w * PROP_MEASURE_SIDE + side / 2) / side);
        uint32_t nh = (uint32_t)(((uint64_t)h * PROP_MEASURE_SIDE + side / 2) / side);
        nw = nw < 1 ? 1 : nw;
        nh = nh < 1 ? 1 : nh;
        prime_status st = prime_image_resize(img, nw, nh, PRIME_FILTER_BILINEAR, &small);
        if (st != PRIME_OK)
            return st;
        m = small;
    }
    double v[PRIME_IMAGE_PROP_COUNT];
    prime_status st = prime_image_measure(m, v, PRIME_IMAGE_PROP_COUNT, NULL);
    prime_image_destroy(small);
    if (st != PRIME_OK)
        return st;
    double aspect = (double)w / (double)h;
    for (uint32_t k = 0; k < T_COUNT; k++)
        s[k] = 0.0f;
    s[T_DARK] = v[PRIME_IMAGE_PROP_BRIGHTNESS] < PROP_DARK;
    s[T_BRIGHT] = v[PRIME_IMAGE_PROP_BRIGHTNESS] > PROP_BRIGHT;
    s[T_LOW_CONTRAST] = v[PRIME_IMAGE_PROP_CONTRAST] < PROP_LOW_CONTRAST;
    s[T_BLURRY] = v[PRIME_IMAGE_PROP_SHARPNESS] < PROP_BLURRY &&
                  v[PRIME_IMAGE_PROP_CONTRAST] >= PROP_BLURRY_MIN_CONTRAST;
    s[T_NOISY] = v[PRIME_IMAGE_PROP_NOISE] > PROP_NOISY;
    s[T_GRAYSCALE] = v[PRIME_IMAGE_PROP_GRAY_FRACTION] >= PROP_GRAYSCALE;
    s[T_SATURATED] = v[PRIME_IMAGE_PROP_SATURATION] > PROP_SATURATED;
    s[T_PORTRAIT] = aspect < PROP_PORTRAIT;
    s[T_LANDSCAPE] = aspect > PROP_LANDSCAPE;
    s[T_SQUARE] = aspect >= PROP_PORTRAIT && aspect <= PROP_LANDSCAPE;
    int32_t color = (int32_t)v[PRIME_IMAGE_PROP_DOMINANT_COLOR];
    if (color >= 0 && color < PRIME_IMAGE_COLOR_COUNT &&
        v[PRIME_IMAGE_PROP_DOMINANT_SHARE] >= PROP_DOMINANT)
        s[T_COLOR0 + color] = 1.0f;
    return PRIME_OK;
}

static prime_status prop_score(void *self, const prime_image *const *images, uint32_t n,
                               float *scores)
{
    (void)self;
    for (uint32_t i = 0; i < n; i++) {
        prime_status st = prop_score_one(images[i], scores + (size_t)i * T_COUNT);
        if (st != PRIME_OK)
            return st;
    }
    return PRIME_OK;
}

prime_status prime_properties_tagger_create(prime_tagger **out)
{
    prime_tagger_backend b = PRIME_TAGGER_BACKEND_INIT;
    b.self = NULL;
    b.name = "properties";
    b.destroy = prop_destroy;
    b.tag_count = prop_tag_count;
    b.tag_name = prop_tag_name;
    b.score = prop_score;
    return prime_tagger_create_from(&b, out);
}
