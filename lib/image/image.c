/* The image handle: allocation, creation from pixels, the accessors and
 * cropping. */
#include <string.h>

#include <stb_image.h>

#include "image/image_private.h"

prime_status prime__image_alloc(uint32_t w, uint32_t h, prime_image **out)
{
    prime_image *im = prime__calloc(1, sizeof *im);
    if (im == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory for a %u x %u image", w, h);
    im->px = prime__malloc((size_t)w * h * 3);
    if (im->px == NULL) {
        prime__free(im);
        return prime__error(PRIME_E_NOMEM, "out of memory for a %u x %u image", w, h);
    }
    im->width = w;
    im->height = h;
    *out = im;
    return PRIME_OK;
}

void prime_image_destroy(prime_image *image)
{
    if (image == NULL)
        return;
    if (image->stb_owned)
        stbi_image_free(image->px);
    else
        prime__free(image->px);
    prime__free(image->alpha);
    prime__free(image->grey16);
    prime__free(image);
}

prime_status prime_image_create(uint32_t width, uint32_t height, const uint8_t *rgb,
                                prime_image **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_create: out is NULL");
    *out = NULL;
    if (width == 0 || height == 0 || width > PRIME_IMAGE_MAX_SIDE ||
        height > PRIME_IMAGE_MAX_SIDE || (uint64_t)width * height > ((uint64_t)1 << 32))
        return prime__error(PRIME_E_RANGE, "image size %u x %u is outside 1..%u per side "
                            "and 2^32 pixels", width, height, PRIME_IMAGE_MAX_SIDE);
    prime_image *im = NULL;
    prime_status st = prime__image_alloc(width, height, &im);
    if (st != PRIME_OK)
        return st;
    if (rgb != NULL)
        memcpy(im->px, rgb, (size_t)width * height * 3);
    else
        memset(im->px, 0, (size_t)width * height * 3);
    *out = im;
    return PRIME_OK;
}

uint32_t prime_image_width(const prime_image *image)
{
    return image != NULL ? image->width : 0;
}

uint32_t prime_image_height(const prime_image *image)
{
    return image != NULL ? image->height : 0;
}

int32_t prime_image_format(const prime_image *image)
{
    return image != NULL ? image->format : PRIME_IMAGE_FORMAT_NONE;
}

prime_status prime_image_copy_pixels(const prime_image *image, uint8_t *buf, size_t cap,
                                     size_t *needed_out)
{
    if (image == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_copy_pixels: image is NULL");
    size_t n = (size_t)image->width * image->height * 3;
    if (needed_out != NULL)
        *needed_out = n;
    if (cap < n || buf == NULL)
        return prime__error(PRIME_E_BUFFER_TOO_SMALL,
                            "prime_image_copy_pixels: %zu bytes needed, %zu given", n, cap);
    memcpy(buf, image->px, n);
    return PRIME_OK;
}
prime_status prime_image_crop(const prime_image *image, uint32_t x, uint32_t y, uint32_t width,
                              uint32_t height, prime_image **out)
{
    if (out == NULL || image == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_crop: NULL argument");
    *out = NULL;
    if (width == 0 || height == 0 || (uint64_t)x + width > image->width ||
        (uint64_t)y + height > image->height)
        return prime__error(PRIME_E_RANGE,
                            "prime_image_crop: %u x %u at (%u, %u) is not inside the %u x %u image",
                            width, height, x, y, image->width, image->height);
    prime_image *im = NULL;
    prime_status st = prime__image_alloc(width, height, &im);
    if (st != PRIME_OK)
        return st;
    for (uint32_t r = 0; r < height; r++)
        memcpy(im->px + (size_t)r * width * 3,
               image->px + ((size_t)(y + r) * image->width + x) * 3, (size_t)width * 3);
    *out = im;
    return PRIME_OK;
}
