/* The image handle: allocation, creation from pixels, the accessors and
 * cropping. */
#include <pthread.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <stb_image.h>

#include "image/image_private.h"

/* ---- large buffers reused per thread ------------------------------------
 * Each image's buffers (decoded pixels, the resampling's intermediates, a
 * batch's tensor) are megabytes of fresh memory, which the kernel maps and
 * zeroes page by page on first touch: on a stream of photos that was
 * 13-61 % of the preprocessing time (docs/images.md). A thread keeps up to
 * SCRATCH_SLOTS freed buffers of SCRATCH_MIN bytes or more (SCRATCH_MAX in
 * all) and hands them out again; they are freed when the thread ends.
 * Buffers are ordinary malloc blocks, so either function may free any
 * block; the capacity of a block is malloc_usable_size (glibc; elsewhere
 * nothing is kept). */
#define SCRATCH_SLOTS 6
#define SCRATCH_MIN ((size_t)64 << 10)
#define SCRATCH_MAX ((size_t)128 << 20)

typedef struct {
    void *p[SCRATCH_SLOTS];
    size_t cap[SCRATCH_SLOTS];
} scratch_pool;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_ok;

static void scratch_destroy(void *arg)
{
    scratch_pool *s = arg;
    for (int k = 0; k < SCRATCH_SLOTS; k++)
        free(s->p[k]);
    free(s);
}

static void scratch_init(void)
{
    scratch_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

static scratch_pool *scratch_get(bool create)
{
#ifdef __GLIBC__
    if (pthread_once(&scratch_once, scratch_init) != 0 || !scratch_ok)
        return NULL;
    scratch_pool *s = pthread_getspecific(scratch_key);
    if (s == NULL && create) {
        s = calloc(1, sizeof *s);
        if (s != NULL && pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            s = NULL;
        }
    }
    return s;
#else
    (void)create;
    return NULL;
#endif
}

void *prime__image_scratch_alloc(size_t n)
{
    scratch_pool *s = n >= SCRATCH_MIN ? scratch_get(false) : NULL;
    if (s != NULL) {
        int best = -1;
        for (int k = 0; k < SCRATCH_SLOTS; k++)
            if (s->p[k] != NULL && s->cap[k] >= n && (best < 0 || s->cap[k] < s->cap[best]))
                best = k;
        if (best >= 0) {
            void *p = s->p[best];
            s->p[best] = NULL;
            s->cap[best] = 0;
            return p;
        }
    }
    return prime__malloc(n);
}

void prime__image_scratch_free(void *p)
{
    if (p == NULL)
        return;
#ifdef __GLIBC__
    size_t cap = malloc_usable_size(p);
    scratch_pool *s = cap >= SCRATCH_MIN && cap <= SCRATCH_MAX ? scratch_get(true) : NULL;
    if (s != NULL) {
        /* make room: drop the smallest blocks kept while the slots are
           full or the total would pass SCRATCH_MAX, never one larger */
        for (;;) {
            size_t total = cap;
            int empty = -1, small = -1;
            for (int k = 0; k < SCRATCH_SLOTS; k++) {
                total += s->cap[k];
                if (s->p[k] == NULL)
                    empty = k;
                else if (small < 0 || s->cap[k] < s->cap[small])
                    small = k;
            }
            if (empty >= 0 && total <= SCRATCH_MAX) {
                s->p[empty] = p;
                s->cap[empty] = cap;
                return;
            }
            if (small < 0 || s->cap[small] > cap)
                break;
            free(s->p[small]);
            s->p[small] = NULL;
            s->cap[small] = 0;
        }
    }
#endif
    prime__free(p);
}

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
        prime__image_scratch_free(image->px);
    prime__image_scratch_free(image->alpha);
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
