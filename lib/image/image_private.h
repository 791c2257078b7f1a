/* libprime's image layer (lib/image), private (named image_private.h, not
 * image.h: abidw --drop-private-types tells headers by their file name, and
 * prime/image.h is public): the layouts of the image,
 * spec and batch handles and what its files share. Built on common; the
 * backend layer uses its batch loader (prime__image_load_files). Not
 * installed.
 *
 *   image.c      the image handle: allocation, creation, accessors, crop
 *   decode.c     formats, header checks, the choice of decoder, stb_image
 *   decode_jpeg.c  libjpeg-turbo (TurboJPEG API; meson option turbojpeg)
 *   decode_png.c   libspng (meson option spng)
 *   decode_png_deflate.c  PNG chunks and unfiltering here, inflate by libdeflate
 *                  (meson option libdeflate; tried before libspng)
 *   decode_gif.c   GIF: the first frame as Pillow decodes it (its own LZW)
 *   resample.c   PIL's resampling (bilinear, bicubic, nearest, premultiplied)
 *   spec.c       presets and the spec's setters and getters
 *   transform.c  resize/crop plan, colour-conversion order, normalisation
 *   batch.c      the one parallel batch loader, and image batches
 *   measure.c    measured properties */
#ifndef PRIME_IMAGE_LAYER_H
#define PRIME_IMAGE_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "prime/image.h"

/* The colour model of the source, where PIL would resize it differently from
 * its RGB conversion (the order of prime_image_spec_set_convert). */
enum {
    SRC_RGB = 0,   /* RGB or grey: resizing commutes with the conversion */
    SRC_INDEXED,   /* PNG palette or 1-bit grey (PIL "P", "1"): PIL resizes nearest */
    SRC_ALPHA,     /* PNG grey+alpha or RGBA (PIL "LA", "RGBA"): premultiplied resize */
    SRC_GREY16     /* 16-bit grey PNG (PIL "I"): 32-bit resize, clipped to 0..255 */
};

struct prime_image {
    uint32_t width, height;
    int32_t format;
    uint8_t *px;     /* 3 * width * height bytes */
    bool stb_owned;  /* px comes from stbi_load (free with stbi_image_free) */
    int32_t source;  /* SRC_* */
    uint8_t *alpha;  /* width * height bytes when source is SRC_ALPHA, else NULL */
    uint16_t *grey16; /* width * height samples when source is SRC_GREY16, else NULL */
    uint32_t file_width, file_height; /* decoded: the file's size (a JPEG
                                         draft is smaller); else 0 */
};

struct prime_image_spec {
    int32_t mode;
    uint32_t shorter, width, height;
    int32_t filter;
    double mean[3], std[3];
    uint64_t max_pixels;
    int32_t convert; /* PRIME_CONVERT_* */
    int32_t jpeg_draft; /* 1: batches decode JPEGs at a reduced DCT scale */
};

struct prime_image_batch {
    uint32_t n, failed;
    uint32_t width, height; /* of each slot */
    float *tensor;          /* n * 3 * height * width */
    prime_status *status;   /* n */
    char **error;           /* n; NULL = "" */
    uint32_t *src_size;     /* 2 * n: width, height as decoded */
};

/* ---- image.c ------------------------------------------------------------- */

/* A w x h image with uninitialised RGB pixels (PRIME_E_NOMEM, message set). */
PRIME_INTERNAL prime_status prime__image_alloc(uint32_t w, uint32_t h, prime_image **out);

/* A buffer of n bytes (malloc'ed, contents undefined): a block of the
 * calling thread's reuse cache when one is large enough (n of 64 KiB or
 * more), else prime__malloc(n). NULL when out of memory. */
PRIME_INTERNAL void *prime__image_scratch_alloc(size_t n);
/* Free a malloc'ed block (NULL is fine), keeping a large one in the calling
 * thread's reuse cache (image.c; freed when the thread ends). */
PRIME_INTERNAL void prime__image_scratch_free(void *p);

/* ---- decode.c ------------------------------------------------------------ */

/* Decode size bytes at data (a JPEG, PNG, BMP, TGA or GIF file); `name`
 * (never NULL) names it in messages; max_pixels 0 is the default limit.
 * With `draft` (a spec whose jpeg_draft is set; NULL: none) a JPEG is
 * decoded at the smallest DCT scale 1/2, 1/4 or 1/8 that still covers the
 * spec's resize size, as PIL's Image.draft("RGB", size) (libjpeg-turbo
 * only; otherwise at full size). */
PRIME_INTERNAL prime_status prime__image_decode(const void *data, size_t size, const char *name,
                                                uint64_t max_pixels,
                                                const prime_image_spec *draft,
                                                prime_image **out);
/* prime_image_load with prime__image_decode's draft. */
PRIME_INTERNAL prime_status prime__image_load_file(const char *path, uint64_t max_pixels,
                                                   const prime_image_spec *draft,
                                                   prime_image **out);
/* The decoder that decodes `format` (PRIME_IMAGE_FORMAT_*) in this build and
 * environment: "libjpeg-turbo", "libdeflate", "libspng", "stb_image", or
 * "libprime" for GIF (decode_gif.c, every build) (static text).
 * PRIME_IMAGE_DECODER=stb forces stb_image for every format but GIF,
 * PRIME_IMAGE_DECODER=spng libspng for PNG (the libdeflate path off). */
PRIME_INTERNAL const char *prime__image_decoder_name(int32_t format);

/* ---- decode_gif.c ---------------------------------------------------------- */

/* The first frame of the GIF of n bytes at d, as Pillow 9.4 decodes it
 * (Image.open(f).convert("RGB")): the canvas grown to hold the frame,
 * filled with index 0 or the transparent index, the frame's indices through
 * its local or the global colour table (a grey ramp or none: the index as a
 * grey level), SRC_INDEXED where PIL opens it "P"; every file Pillow refuses
 * is refused (PRIME_E_FORMAT, "NAME: corrupt or truncated GIF: WHY"),
 * PRIME_E_LIMIT beyond max_pixels (not 0), PRIME_E_NOMEM. */
PRIME_INTERNAL prime_status prime__image_decode_gif(const unsigned char *d, size_t n,
                                                    const char *name, uint64_t max_pixels,
                                                    prime_image **out);

/* ---- decode_jpeg.c, decode_png.c (when the build found the library) ------ */

/* Decode a w x h file (as its header says) to RGB, or RGBA when rgba:
 * true with *px (from prime__malloc) of *ow x *oh pixels; false when the
 * library cannot decode it cleanly (any error or warning; the caller then
 * uses stb_image). The JPEG decoder decodes at the DCT scale PIL's draft
 * would choose for a draft_w x draft_h target (0 x 0: full size). */
#if PRIME_HAVE_TURBOJPEG
PRIME_INTERNAL bool prime__image_decode_turbojpeg(const unsigned char *d, size_t n, uint32_t w,
                                                  uint32_t h, uint32_t draft_w,
                                                  uint32_t draft_h, uint8_t **px, uint32_t *ow,
                                                  uint32_t *oh);
#endif
#if PRIME_HAVE_LIBDEFLATE
PRIME_INTERNAL bool prime__image_decode_libdeflate(const unsigned char *d, size_t n, uint32_t w,
                                                   uint32_t h, bool rgba, uint8_t **px);
/* The w x h samples of a 16-bit grey PNG (what stbi_load_16_from_memory
 * gives with one channel), *px from prime__malloc; false as above (and for
 * any other colour type or depth). */
PRIME_INTERNAL bool prime__image_decode_libdeflate_grey16(const unsigned char *d, size_t n,
                                                          uint32_t w, uint32_t h,
                                                          uint16_t **px);
#endif
#if PRIME_HAVE_SPNG
PRIME_INTERNAL bool prime__image_decode_spng(const unsigned char *d, size_t n, uint32_t w,
                                             uint32_t h, bool rgba, uint8_t **px);
#endif

/* ---- resample.c ---------------------------------------------------------- */

PRIME_INTERNAL bool prime__image_valid_filter(int32_t f);

/* The name of the resampling kernels this process uses ("avx2" or
 * "baseline"), chosen once from the CPU and the environment variable
 * PRIME_RESAMPLE_KERNEL ("baseline" forces the baseline; docs/images.md). */
PRIME_INTERNAL const char *prime__image_resample_kernel(void);

/* Pixels [x0, x0 + cw) x [y0, y0 + ch) of `src` resized to out_w x out_h
 * with `filter` (PIL's resample), into dst (cw x ch, RGB). */
PRIME_INTERNAL prime_status prime__image_resize_region(const prime_image *src, uint32_t out_w,
                                                       uint32_t out_h, int32_t filter,
                                                       uint32_t x0, uint32_t y0, uint32_t cw,
                                                       uint32_t ch, uint8_t *dst);
/* The same window of PIL's NEAREST resize (palette and 1-bit sources). */
PRIME_INTERNAL prime_status prime__image_nearest_region(const prime_image *src, uint32_t out_w,
                                                        uint32_t out_h, uint32_t x0,
                                                        uint32_t y0, uint32_t cw, uint32_t ch,
                                                        uint8_t *dst);
/* The same window of PIL's RGBA resize (premultiplied by src->alpha), the
 * alpha then dropped. */
PRIME_INTERNAL prime_status prime__image_premultiplied_region(const prime_image *src,
                                                              uint32_t out_w, uint32_t out_h,
                                                              int32_t filter, uint32_t x0,
                                                              uint32_t y0, uint32_t cw,
                                                              uint32_t ch, uint8_t *dst);

/* The same window of PIL's resize of a 16-bit grey image (mode "I", from
 * src->grey16), clipped to 0..255 as its RGB conversion does. */
PRIME_INTERNAL prime_status prime__image_grey16_region(const prime_image *src, uint32_t out_w,
                                                       uint32_t out_h, int32_t filter,
                                                       uint32_t x0, uint32_t y0, uint32_t cw,
                                                       uint32_t ch, uint8_t *dst);

/* ---- transform.c --------------------------------------------------------- */

/* The resize size (rw x rh) and crop corner (x0, y0) the spec gives an image
 * of w x h. */
PRIME_INTERNAL void prime__image_plan(const prime_image_spec *s, uint32_t w, uint32_t h,
                                      uint32_t *rw, uint32_t *rh, uint32_t *x0, uint32_t *y0);
/* The spec's normalised CHW floats (3 * width * height) of image into out. */
PRIME_INTERNAL prime_status prime__image_preprocess_into(const prime_image *image,
                                                         const prime_image_spec *spec,
                                                         float *out);

/* ---- batch.c ------------------------------------------------------------- */

/* Called once for each file of prime__image_load_files, on the worker
 * thread that decoded it: k counts from 0 within the call; on success
 * `image` is the decoded image, which the callback owns; on failure it is
 * NULL and `status` is the error, whose message is that thread's
 * prime_last_error(). */
typedef void (*prime__image_loaded_fn)(void *ctx, uint32_t k, prime_image *image,
                                       prime_status status);

/* The one parallel batch loader of the library: decode the files
 * paths[first .. first + count) (a NULL path is PRIME_E_INVALID_ARG) with
 * the pixel limit max_pixels (and prime__image_decode's draft) on up to `threads` threads (0: one per CPU;
 * never more than count), the calling thread being one of them, and hand
 * each to loaded(ctx, ...). Returns when every file has been handed over. */
PRIME_INTERNAL void prime__image_load_files(const char *const *paths, uint32_t first,
                                            uint32_t count, uint64_t max_pixels,
                                            const prime_image_spec *draft, uint32_t threads, prime__image_loaded_fn loaded,
                                            void *ctx);

#endif /* PRIME_IMAGE_LAYER_H */
