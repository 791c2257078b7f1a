/* Fuzz the GIF decoder (lib/image/decode_gif.c), a parser and LZW decoder
 * of its own: whatever the bytes, it must decode (a canvas of at most the
 * pixel limit, the format GIF) or refuse with a message (PRIME_E_FORMAT,
 * PRIME_E_LIMIT, PRIME_E_NOMEM), never crash, read out of bounds or leak,
 * and decode the same bytes to the same pixels twice. The seeds are the
 * GIFs of tests/data/images/gif (scripts/make_gif_reference.py): frames
 * inside and past the canvas, local tables, interlacing, a full LZW table. */
#include <stdint.h>
#include <string.h>

#include "image/image_private.h"
#include "prime/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prime_image *a = NULL, *b = NULL;
    prime_status st = prime__image_decode_gif(data, size, "fuzz.gif", 1u << 16, &a);
    if (st != PRIME_OK) {
        if (a != NULL || prime_last_error()[0] == '\0' ||
            (st != PRIME_E_FORMAT && st != PRIME_E_LIMIT && st != PRIME_E_NOMEM))
            __builtin_trap();
        return 0;
    }
    uint32_t w = prime_image_width(a), h = prime_image_height(a);
    if (w == 0 || h == 0 || (uint64_t)w * h > (1u << 16) ||
        prime_image_format(a) != PRIME_IMAGE_FORMAT_GIF)
        __builtin_trap();
    if (prime__image_decode_gif(data, size, "fuzz.gif", 1u << 16, &b) != PRIME_OK ||
        prime_image_width(b) != w || prime_image_height(b) != h ||
        memcmp(a->px, b->px, (size_t)w * h * 3) != 0)
        __builtin_trap();
    prime_image_destroy(a);
    prime_image_destroy(b);
    return 0;
}
