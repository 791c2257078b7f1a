/* Fuzz the libdeflate PNG path (lib/image/decode_png_deflate.c), a parser
 * of its own, differentially: whatever it decodes must be what stb_image
 * decodes (same size, same bytes, RGB and RGBA, and the samples of a
 * 16-bit grey file); it must never crash or
 * leak, and what it refuses is left to the other decoders. One exception,
 * documented (docs/images.md, decode_png_deflate.c): an IDAT stream that is
 * not valid DEFLATE but that libdeflate decodes by design (it gives a
 * one-symbol code both codewords, lets the last run of code lengths run
 * over, reads length symbols 286-287 and distance symbols 30-31) with its
 * Adler-32 matching; there stb_image refuses, so the case is let through
 * only when zlib refuses the same IDAT stream too (the seed
 * regress_libdeflate_remaps.png, found by CI's fuzz smoke). The seeds are
 * PNGs of several colour types, depths and Adam7 (fuzz/corpus/png_deflate).
 * Built when the build has libdeflate (without it the target only checks
 * prime_image_load_memory). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <stb_image.h>

#include "image/image_private.h"
#include "prime/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if PRIME_HAVE_LIBDEFLATE
/* True when zlib's inflate refuses the file's IDAT data (the chunks after
 * the signature, walked as far as they are whole) as invalid DEFLATE. */
static int zlib_refuses(const uint8_t *d, size_t n)
{
    uint8_t *idat = malloc(n), scratch[4096];
    size_t m = 0;
    for (size_t i = 8; idat != NULL && i + 12 <= n;) {
        size_t len = (size_t)d[i] << 24 | (size_t)d[i + 1] << 16 | (size_t)d[i + 2] << 8 | d[i + 3];
        if (len > n - i - 12)
            break;
        if (memcmp(d + i + 4, "IDAT", 4) == 0) {
            memcpy(idat + m, d + i + 8, len);
            m += len;
        }
        i += 12 + len;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    int refused = 0;
    if (idat != NULL && inflateInit(&z) == Z_OK) {
        z.next_in = idat;
        z.avail_in = (uInt)m;
        int r;
        do {
            z.next_out = scratch;
            z.avail_out = sizeof scratch;
            r = inflate(&z, Z_NO_FLUSH);
        } while (r == Z_OK && z.avail_out == 0);
        refused = r == Z_DATA_ERROR;
        inflateEnd(&z);
    }
    free(idat);
    return refused;
}

/* stb_image refused what the libdeflate path decoded: allowed only for the
 * documented class (invalid DEFLATE that libdeflate decodes by design). */
static int libdeflate_leniency(const uint8_t *d, size_t n)
{
    const char *why = stbi_failure_reason();
    return why != NULL &&
           (strcmp(why, "bad huffman code") == 0 || strcmp(why, "bad codelengths") == 0) &&
           zlib_refuses(d, n);
}
#endif

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
        if (want == NULL && libdeflate_leniency(data, size)) {
            prime__free(px);
            continue;
        }
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
        if (want == NULL && libdeflate_leniency(data, size)) {
            prime__free(g);
            g = NULL;
        } else {
            if (want == NULL || (uint32_t)sw != w || (uint32_t)sh != h ||
                memcmp(g, want, (size_t)w * h * 2) != 0)
                __builtin_trap();
            stbi_image_free(want);
            prime__free(g);
        }
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
