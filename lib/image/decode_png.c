/* PNG decoding with libspng (meson option spng): 8 bits per channel, the
 * high byte of 16-bit samples, palettes expanded, transparency (tRNS) and
 * gamma ignored, as stb_image decodes them. */
#include <spng.h>

#include "image/image_private.h"

bool prime__image_decode_spng(const unsigned char *d, size_t n, uint32_t w, uint32_t h,
                              bool rgba, uint8_t **px)
{
    spng_ctx *ctx = spng_ctx_new(0);
    if (ctx == NULL)
        return false;
    bool ok = false;
    uint8_t *out = NULL;
    struct spng_ihdr ihdr;
    int fmt = rgba ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
    size_t len = 0;
    if (spng_set_png_buffer(ctx, d, n) != 0 || spng_get_ihdr(ctx, &ihdr) != 0 ||
        ihdr.width != w || ihdr.height != h)
        goto done; /* disagrees with the header stb_image read: let it decide */
    if (spng_decoded_image_size(ctx, fmt, &len) != 0 ||
        len != (size_t)w * h * (rgba ? 4 : 3))
        goto done;
    out = prime__malloc(len);
    /* any error (a bad CRC, truncated data, a bad filter): stb_image decides
       as it would without this decoder */
    if (out == NULL || spng_decode_image(ctx, out, len, fmt, 0) != 0)
        goto done;
    *px = out;
    out = NULL;
    ok = true;
done:
    prime__free(out);
    spng_ctx_free(ctx);
    return ok;
}
