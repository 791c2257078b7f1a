/* Image specs: the presets (RAM, CLIP, ImageNet) and their setters and
 * getters. */
#include <math.h>
#include <string.h>

#include "image/image_private.h"

/* ---- specs ------------------------------------------------------------------ */

static const double imagenet_mean[3] = {0.485, 0.456, 0.406};
static const double imagenet_std[3] = {0.229, 0.224, 0.225};
static const double clip_mean[3] = {0.48145466, 0.4578275, 0.40821073};
static const double clip_std[3] = {0.26862954, 0.26130258, 0.27577711};

#define SPEC_MAX_SIZE 65536u

prime_status prime_image_spec_create(int32_t preset, prime_image_spec **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_create: out is NULL");
    *out = NULL;
    if (preset != PRIME_IMAGE_PRESET_RAM && preset != PRIME_IMAGE_PRESET_CLIP &&
        preset != PRIME_IMAGE_PRESET_IMAGENET)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_create: unknown preset %d",
                            (int)preset);
    prime_image_spec *s = prime__calloc(1, sizeof *s);
    if (s == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory for an image spec");
    const double *mean = imagenet_mean, *std = imagenet_std;
    switch (preset) {
    case PRIME_IMAGE_PRESET_RAM:
        s->mode = PRIME_RESIZE_EXACT;
        s->shorter = s->width = s->height = 384;
        s->filter = PRIME_FILTER_BILINEAR;
        break;
    case PRIME_IMAGE_PRESET_CLIP:
        s->mode = PRIME_RESIZE_SHORTER_CROP;
        s->shorter = s->width = s->height = 224;
        s->filter = PRIME_FILTER_BICUBIC;
        s->convert = PRIME_CONVERT_LAST; /* CLIP's _convert_image_to_rgb comes last */
        mean = clip_mean;
        std = clip_std;
        break;
    default:
        s->mode = PRIME_RESIZE_SHORTER_CROP;
        s->shorter = 256;
        s->width = s->height = 224;
        s->filter = PRIME_FILTER_BILINEAR;
        break;
    }
    memcpy(s->mean, mean, sizeof s->mean);
    memcpy(s->std, std, sizeof s->std);
    s->max_pixels = PRIME_IMAGE_DEFAULT_MAX_PIXELS;
    *out = s;
    return PRIME_OK;
}

void prime_image_spec_destroy(prime_image_spec *spec)
{
    prime__free(spec);
}

prime_status prime_image_spec_set_resize(prime_image_spec *spec, int32_t mode,
                                         uint32_t shorter_side, uint32_t width, uint32_t height)
{
    if (spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_set_resize: spec is NULL");
    if (mode != PRIME_RESIZE_SHORTER_CROP && mode != PRIME_RESIZE_EXACT)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_set_resize: unknown mode %d",
                            (int)mode);
    if (width < 1 || width > SPEC_MAX_SIZE || height < 1 || height > SPEC_MAX_SIZE)
        return prime__error(PRIME_E_RANGE, "image size %u x %u is outside 1..%u", width, height,
                            SPEC_MAX_SIZE);
    if (mode == PRIME_RESIZE_SHORTER_CROP) {
        if (shorter_side < 1 || shorter_side > SPEC_MAX_SIZE)
            return prime__error(PRIME_E_RANGE, "shorter side %u is outside 1..%u", shorter_side,
                                SPEC_MAX_SIZE);
        if (width > shorter_side || height > shorter_side)
            return prime__error(PRIME_E_RANGE, "crop %u x %u is larger than the shorter side %u",
                                width, height, shorter_side);
    }
    spec->mode = mode;
    spec->shorter = mode == PRIME_RESIZE_SHORTER_CROP ? shorter_side : 0;
    spec->width = width;
    spec->height = height;
    return PRIME_OK;
}

prime_status prime_image_spec_get_resize(const prime_image_spec *spec, int32_t *mode_out,
                                         uint32_t *shorter_side_out, uint32_t *width_out,
                                         uint32_t *height_out)
{
    if (spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_get_resize: spec is NULL");
    if (mode_out != NULL)
        *mode_out = spec->mode;
    if (shorter_side_out != NULL)
        *shorter_side_out = spec->shorter;
    if (width_out != NULL)
        *width_out = spec->width;
    if (height_out != NULL)
        *height_out = spec->height;
    return PRIME_OK;
}

prime_status prime_image_spec_set_convert(prime_image_spec *spec, int32_t order)
{
    if (spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_set_convert: spec is NULL");
    if (order != PRIME_CONVERT_FIRST && order != PRIME_CONVERT_LAST)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_set_convert: unknown order %d",
                            (int)order);
    spec->convert = order;
    return PRIME_OK;
}

prime_status prime_image_spec_get_convert(const prime_image_spec *spec, int32_t *order_out)
{
    if (spec == NULL || order_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_get_convert: NULL argument");
    *order_out = spec->convert;
    return PRIME_OK;
}

prime_status prime_image_spec_set_jpeg_draft(prime_image_spec *spec, int32_t enabled)
{
    if (spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_set_jpeg_draft: spec is NULL");
    if (enabled != 0 && enabled != 1)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_image_spec_set_jpeg_draft: enabled is %d, not 0 or 1",
                            (int)enabled);
    spec->jpeg_draft = enabled;
    return PRIME_OK;
}

prime_status prime_image_spec_get_jpeg_draft(const prime_image_spec *spec, int32_t *enabled_out)
{
    if (spec == NULL || enabled_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_get_jpeg_draft: NULL argument");
    *enabled_out = spec->jpeg_draft;
    return PRIME_OK;
}

prime_status prime_image_spec_set_filter(prime_image_spec *spec, int32_t filter)
{
    if (spec == NULL || !prime__image_valid_filter(filter))
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_set_filter: %s",
                            spec == NULL ? "spec is NULL" : "unknown filter");
    spec->filter = filter;
    return PRIME_OK;
}

prime_status prime_image_spec_get_filter(const prime_image_spec *spec, int32_t *filter_out)
{
    if (spec == NULL || filter_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_get_filter: NULL argument");
    *filter_out = spec->filter;
    return PRIME_OK;
}

prime_status prime_image_spec_set_normalize(prime_image_spec *spec, const double *mean,
                                            const double *std)
{
    if (spec == NULL || mean == NULL || std == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_set_normalize: NULL argument");
    for (int c = 0; c < 3; c++) {
        if (!isfinite(mean[c]))
            return prime__error(PRIME_E_RANGE, "mean of channel %d is not finite", c);
        if (!isfinite(std[c]) || !(std[c] > 0))
            return prime__error(PRIME_E_RANGE, "std of channel %d is %g; it must be > 0", c,
                                std[c]);
    }
    memcpy(spec->mean, mean, sizeof spec->mean);
    memcpy(spec->std, std, sizeof spec->std);
    return PRIME_OK;
}

prime_status prime_image_spec_get_normalize(const prime_image_spec *spec, double *mean_out,
                                            double *std_out)
{
    if (spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_get_normalize: spec is NULL");
    if (mean_out != NULL)
        memcpy(mean_out, spec->mean, sizeof spec->mean);
    if (std_out != NULL)
        memcpy(std_out, spec->std, sizeof spec->std);
    return PRIME_OK;
}

prime_status prime_image_spec_set_max_pixels(prime_image_spec *spec, uint64_t max_pixels)
{
    if (spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_set_max_pixels: spec is NULL");
    if (max_pixels < 1)
        return prime__error(PRIME_E_RANGE, "the pixel limit must be at least 1");
    spec->max_pixels = max_pixels;
    return PRIME_OK;
}

prime_status prime_image_spec_get_max_pixels(const prime_image_spec *spec,
                                             uint64_t *max_pixels_out)
{
    if (spec == NULL || max_pixels_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_spec_get_max_pixels: NULL argument");
    *max_pixels_out = spec->max_pixels;
    return PRIME_OK;
}
