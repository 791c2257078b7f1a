/* Fuzz the libdeflate PNG path (lib/image/decode_png_deflate.c), a parser
 * of its own, differentially: whatever it decodes must be what stb_image
 * decodes (same size, same bytes, RGB and RGBA, and the samples of a
 * 16-bit grey file); it must never crash or
 * leak, and what it refuses is left to the other decoders. The seeds are
 * PNGs of several colour types, depths and Adam7 (fuzz/corpus/png_deflate).
 * Built when the build has libdeflate (without it the target only checks
 * prime_image_load_memory). */
#include <stdint.h>
#include <string.h>

#include <stb_image.h>

#include "image/image_private.h"
#include "prime/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if PRIME_HAVE_LIBDEFLATE
    if (size < 24 || size > (1u << 20))
        return 0;
    uint32_t w = (uint32_t)data[16] << 24 | (uint32_t)data[17] << 16 |
                 (uint32_t)data[18] << 8 | data[19];
    uint32_t h = (uint32_t)data[20] << 24 | (uint32_t)data[21] << 16 |
                 (uint32_t)data[22] << 8 | data[23];
    if ((uint64_t)w * h > (1u << 16)) /* the library checks its pixel limit first */
        return 0;
    for (int rgba = 0; rgba < 2; rgba++) {
        uint8_t *px = NULL;
        if (!prime__image_decode_libdeflate(data, size, w, h, rgba, &px)) {
            if (px != NULL)
                __builtin_trap();
            continue;
        }
        int sw = 0, sh = 0, sc = 0;
        stbi_set_flip_vertically_on_load_thread(0);
        uint8_t *want = stbi_load_from_memory(data, (int)size, &sw, &sh, &sc, rgba ? 4 : 3);
        if (want == NULL || (uint32_t)sw != w || (uint32_t)sh != h ||
            memcmp(px, want, (size_t)w * h * (rgba ? 4 : 3)) != 0)
            __builtin_trap(); /* decoded what stb_image refuses, or other pixels */
        stbi_image_free(want);
        prime__free(px);
    }
    uint16_t *g = NULL;
    if (prime__image_decode_libdeflate_grey16(data, size, w, h, &g)) {
        int sw = 0, sh = 0, sc = 0;
        stbi_us *want = stbi_load_16_from_memory(data, (int)size, &sw, &sh, &sc, 1);
        if (want == NULL || (uint32_t)sw != w || (uint32_t)sh != h ||
            memcmp(g, want, (size_t)w * h * 2) != 0)
            __builtin_trap();
        stbi_image_free(want);
        prime__free(g);
    } else if (g != NULL) {
        __builtin_trap();
    }
#endif
    prime_image *im = NULL;
    if (prime_image_load_memory(data, size, "fuzz.png", 1u << 16, &im) == PRIME_OK)
        prime_image_destroy(im);
    else if (im != NULL)
        __builtin_trap();
    return 0;
}
