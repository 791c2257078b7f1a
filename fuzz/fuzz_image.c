/* Fuzz the image decoder (stb_image behind prime_image_load_memory) and the
 * resize / crop / normalise path on whatever decodes. The pixel limit is
 * small so that a header announcing a large image is refused quickly. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "prime/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prime_image_spec *spec;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (spec == NULL) {
        if (prime_image_spec_create(PRIME_IMAGE_PRESET_CLIP, &spec) != PRIME_OK ||
            prime_image_spec_set_resize(spec, PRIME_RESIZE_SHORTER_CROP, 9, 7, 5) != PRIME_OK)
            __builtin_trap();
    }
    prime_image *im = NULL;
    prime_status st = prime_image_load_memory(data, size, "fuzz.img", 1u << 16, &im);
    if (st != PRIME_OK) {
        if (im != NULL || prime_last_error()[0] == '\0' ||
            (st != PRIME_E_FORMAT && st != PRIME_E_LIMIT && st != PRIME_E_NOMEM))
            __builtin_trap();
        return 0;
    }
    uint32_t w = prime_image_width(im), h = prime_image_height(im);
    if (w == 0 || h == 0 || (uint64_t)w * h > (1u << 16))
        __builtin_trap();
    float out[3 * 7 * 5];
    if (prime_image_preprocess(im, spec, out, sizeof out / sizeof out[0], NULL) != PRIME_OK)
        __builtin_trap();
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++)
        if (!isfinite(out[i]))
            __builtin_trap();
    prime_image *r = NULL;
    if (prime_image_resize(im, w % 13 + 1, h % 11 + 1, PRIME_FILTER_BILINEAR, &r) != PRIME_OK)
        __builtin_trap();
    prime_image_destroy(r);
    double v[PRIME_IMAGE_PROP_COUNT];
    uint32_t nv = 0;
    if (prime_image_measure(im, v, PRIME_IMAGE_PROP_COUNT, &nv) != PRIME_OK ||
        nv != PRIME_IMAGE_PROP_COUNT)
        __builtin_trap();
    for (uint32_t i = 0; i < nv; i++)
        if (!isfinite(v[i]) || v[i] < 0)
            __builtin_trap();
    prime_image_destroy(im);
    return 0;
}
