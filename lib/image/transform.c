/* Transform and preprocess: the resize size and crop window a spec gives an
 * image, the order of colour conversion, normalisation to CHW floats. */
#include <string.h>

#include "image/image_private.h"

/* ---- transform and preprocess ------------------------------------------------ */

/* Python's round() of k / 2 for an integer k >= 0: halves go to even. */
static uint32_t half_round_even(uint32_t k)
{
    uint32_t q = k / 2;
    if (k % 2 == 1 && q % 2 == 1)
        q++;
    return q;
}

/* The resize size and crop window the spec gives an image of w x h. */
void prime__image_plan(const prime_image_spec *s, uint32_t w, uint32_t h, uint32_t *rw, uint32_t *rh,
                 uint32_t *x0, uint32_t *y0)
{
    if (s->mode == PRIME_RESIZE_EXACT) {
        *rw = s->width;
        *rh = s->height;
        *x0 = *y0 = 0;
        return;
    }
    uint32_t shorter = w <= h ? w : h, longer = w <= h ? h : w;
    double l = (double)((uint64_t)s->shorter * longer) / (double)shorter;
    uint32_t nl = (uint32_t)l; /* int() truncates */
    if (w <= h) {
        *rw = s->shorter;
        *rh = nl;
    } else {
        *rw = nl;
        *rh = s->shorter;
    }
    *x0 = half_round_even(*rw - s->width);
    *y0 = half_round_even(*rh - s->height);
}
/* PIL's convert("RGB") of a 16-bit grey image (mode "I") before the resize
 * (PRIME_CONVERT_FIRST): each sample clipped to 0..255 (the decoded pixels
 * keep its high byte instead), then the RGB resize. */
static prime_status grey16_clipped_region(const prime_image *image, uint32_t rw, uint32_t rh,
                                          const prime_image_spec *spec, uint32_t x0, uint32_t y0,
                                          uint8_t *dst)
{
    size_t np = (size_t)image->width * image->height;
    prime_image rgb = *image;
    rgb.px = prime__image_scratch_alloc(np * 3);
    if (rgb.px == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory converting a %u x %u 16-bit grey image",
                            image->width, image->height);
    rgb.stb_owned = false;
    rgb.source = SRC_RGB;
    rgb.alpha = NULL;
    rgb.grey16 = NULL;
    for (size_t i = 0; i < np; i++) {
        uint16_t v = image->grey16[i];
        uint8_t c = v > 255 ? 255 : (uint8_t)v;
        rgb.px[3 * i] = rgb.px[3 * i + 1] = rgb.px[3 * i + 2] = c;
    }
    prime_status st = prime__image_resize_region(&rgb, rw, rh, spec->filter, x0, y0, spec->width,
                                                 spec->height, dst);
    prime__image_scratch_free(rgb.px);
    return st;
}

static prime_status transform_into(const prime_image *image, const prime_image_spec *spec,
                                   uint8_t *dst)
{
    uint32_t rw, rh, x0, y0;
    prime__image_plan(spec, image->width, image->height, &rw, &rh, &x0, &y0);
    if (spec->convert == PRIME_CONVERT_FIRST && image->source == SRC_GREY16 &&
        image->grey16 != NULL)
        return grey16_clipped_region(image, rw, rh, spec, x0, y0, dst);
    if (spec->convert == PRIME_CONVERT_LAST && image->source == SRC_GREY16 &&
        image->grey16 != NULL)
        return prime__image_grey16_region(image, rw, rh, spec->filter, x0, y0, spec->width,
                                          spec->height, dst);
    if (spec->convert == PRIME_CONVERT_LAST && image->source == SRC_INDEXED)
        return prime__image_nearest_region(image, rw, rh, x0, y0, spec->width, spec->height, dst);
    if (spec->convert == PRIME_CONVERT_LAST && image->source == SRC_ALPHA &&
        (rw != image->width || rh != image->height))
        return prime__image_premultiplied_region(image, rw, rh, spec->filter, x0, y0, spec->width,
                                    spec->height, dst);
    return prime__image_resize_region(image, rw, rh, spec->filter, x0, y0, spec->width, spec->height, dst);
}

prime_status prime_image_transform(const prime_image *image, const prime_image_spec *spec,
                                   prime_image **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (out == NULL || image == NULL || spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_transform: NULL argument");
    *out = NULL;
    prime_image *im = NULL;
    prime_status st = prime__image_alloc(spec->width, spec->height, &im);
    if (st != PRIME_OK)
        return st;
    st = transform_into(image, spec, im->px);
    if (st != PRIME_OK) {
        prime_image_destroy(im);
        return st;
    }
    *out = im;
    return PRIME_OK;
}

/* 8-bit RGB (w x h) to normalised CHW floats, computed as torchvision does
 * in float32: (v / 255 - mean) / std. */
static void normalise(const uint8_t *px, uint32_t w, uint32_t h, const prime_image_spec *spec,
                      float *out)
{
    float lut[3][256];
    for (int c = 0; c < 3; c++) {
        float m = (float)spec->mean[c], sd = (float)spec->std[c];
        for (int v = 0; v < 256; v++) {
            float x = (float)v / 255.0f;
            lut[c][v] = (x - m) / sd;
        }
    }
    size_t plane = (size_t)w * h;
    for (size_t i = 0; i < plane; i++) {
        out[i] = lut[0][px[3 * i + 0]];
        out[plane + i] = lut[1][px[3 * i + 1]];
        out[2 * plane + i] = lut[2][px[3 * i + 2]];
    }
}

prime_status prime__image_preprocess_into(const prime_image *image, const prime_image_spec *spec,
                                    float *out)
{
    uint8_t *px = prime__image_scratch_alloc((size_t)spec->width * spec->height * 3);
    if (px == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory preprocessing an image");
    prime_status st = transform_into(image, spec, px);
    if (st == PRIME_OK)
        normalise(px, spec->width, spec->height, spec, out);
    prime__image_scratch_free(px);
    return st;
}

prime_status prime_image_preprocess(const prime_image *image, const prime_image_spec *spec,
                                    float *buf, size_t cap, size_t *needed_out)
{
    if (image == NULL || spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_preprocess: NULL argument");
    size_t n = (size_t)spec->width * spec->height * 3;
    if (needed_out != NULL)
        *needed_out = n;
    if (buf == NULL || cap < n)
        return prime__error(PRIME_E_BUFFER_TOO_SMALL,
                            "prime_image_preprocess: %zu floats needed, %zu given", n, cap);
    return prime__image_preprocess_into(image, spec, buf);
}
