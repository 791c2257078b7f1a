/**
 * \file prime/image.h
 * \brief Images: decoding, resizing, normalisation and NCHW batches.
 *
 * The first step of PRIME tags every image with a model. This header is the
 * image pipeline in front of such a model, the same for every backend:
 *
 *  1. decode a JPEG, PNG, BMP, TGA or GIF (first frame) file into 8-bit RGB
 *     (prime_image_load); grey images are replicated to three channels, an
 *     alpha channel is dropped (as PIL's `convert("RGB")` does). Other
 *     formats (PSD, HDR, PNM, PIC) are refused. The size is read from the
 *     header and checked against a pixel limit *before* anything is
 *     decoded, so a small file that claims a huge image costs nothing.
 *     JPEGs are decoded with libjpeg-turbo and PNGs with libspng when the
 *     build found them (meson options turbojpeg and spng), everything else
 *     (and any file they cannot decode cleanly) with stb_image; the
 *     decoders give the same pixels except for JPEG, where stb_image's
 *     IDCT and chroma upsampling differ from libjpeg-turbo's (and PIL's,
 *     which is libjpeg-turbo) by a few levels (docs/images.md states the
 *     tolerance that the tests check);
 *  2. resize and crop as a preprocessing spec says (prime_image_spec): the
 *     torchvision `Resize(S)` + `CenterCrop(W, H)` pipeline, or a resize to
 *     exactly W x H as RAM does (`Resize((S, S))`), with PIL's resampling
 *     (antialiased when shrinking, see prime_image_resize);
 *  3. scale to [0, 1] (divide by 255), subtract the per-channel mean and
 *     divide by the per-channel standard deviation (torchvision `ToTensor`
 *     + `Normalize`), and pack channel-major (C, H, W) float32
 *     (prime_image_preprocess), or a whole batch (N, C, H, W) decoded by
 *     several threads at once (prime_image_batch_load).
 *
 * The same conventions as prime/prime.h apply: prime_status results,
 * prime_last_error() messages that name the file and the problem
 * ("photo.jpg: corrupt or truncated JPEG: bad huffman code"), create /
 * destroy pairs (destroy accepts NULL), caller buffers with a size query,
 * no structs by value.
 *
 * Statuses of image decoding:
 *  - PRIME_E_IO: the file cannot be opened or read;
 *  - PRIME_E_FORMAT: an empty file, a file that is not an image of a
 *    supported format, or one that is corrupt or truncated;
 *  - PRIME_E_LIMIT: the header announces more pixels than the limit
 *    (PRIME_IMAGE_DEFAULT_MAX_PIXELS unless another one is given).
 *
 * Thread safety: images, specs and batches are read-only once built and may
 * be shared by any number of threads; a spec must not be modified while
 * another thread uses it.
 */
#ifndef PRIME_IMAGE_H
#define PRIME_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "prime/prime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** \addtogroup images
 *  @{ */

/* ------------------------------------------------------------------------ */
/* Decoded images                                                            */
/* ------------------------------------------------------------------------ */

/** A decoded image: width x height pixels of 8-bit RGB, rows top to bottom,
 *  pixels left to right, channels R, G, B interleaved. Read-only once
 *  created. */
typedef struct prime_image prime_image;

/** Default largest number of pixels (width x height) a decoder accepts:
 *  2^28 (e.g. 16384 x 16384), 768 MiB of RGB. */
#define PRIME_IMAGE_DEFAULT_MAX_PIXELS 268435456u

/** Largest width or height of any image. */
#define PRIME_IMAGE_MAX_SIDE 16777216u

/** Image file formats (prime_image_format). */
enum prime_image_format_id {
    PRIME_IMAGE_FORMAT_NONE = 0, /**< made in memory (prime_image_create, resize, crop) */
    PRIME_IMAGE_FORMAT_JPEG = 1, /**< JPEG (baseline and progressive) */
    PRIME_IMAGE_FORMAT_PNG = 2,  /**< PNG (8 and 16 bits, palette, grey, alpha) */
    PRIME_IMAGE_FORMAT_BMP = 3,  /**< Windows BMP */
    PRIME_IMAGE_FORMAT_TGA = 4,  /**< Truevision TGA */
    PRIME_IMAGE_FORMAT_GIF = 5   /**< GIF (first frame only) */
};

/** Decode an image file (JPEG, PNG, BMP, TGA, GIF first frame) into RGB.
 *  max_pixels is the largest width x height accepted (0 means
 *  PRIME_IMAGE_DEFAULT_MAX_PIXELS); a larger image is refused with
 *  PRIME_E_LIMIT before it is decoded. Errors name the file:
 *  "x.png: corrupt or truncated PNG: ...", "x.png: not a supported image
 *  (JPEG, PNG, BMP, TGA, GIF)", "x.png: empty file",
 *  "x.png: image of 100000 x 100000 pixels is larger than the limit of
 *  268435456 pixels". */
PRIME_API prime_status prime_image_load(const char *path, uint64_t max_pixels,
                                        prime_image **out);

/** Same as prime_image_load from memory (not kept after the call); `name`
 *  is used in error messages ("<memory>" when NULL). */
PRIME_API prime_status prime_image_load_memory(const void *data, size_t size,
                                               const char *name, uint64_t max_pixels,
                                               prime_image **out);

/** Make an image from pixels: width x height RGB triples, row by row
 *  (3 * width * height bytes, copied); rgb = NULL gives a black image.
 *  Width and height must be 1..PRIME_IMAGE_MAX_SIDE and width x height at
 *  most 2^32. */
PRIME_API prime_status prime_image_create(uint32_t width, uint32_t height, const uint8_t *rgb,
                                          prime_image **out);

/** Destroy an image; NULL is fine. */
PRIME_API void prime_image_destroy(prime_image *image);

/** Width in pixels (0 for NULL). */
PRIME_API uint32_t prime_image_width(const prime_image *image);

/** Height in pixels (0 for NULL). */
PRIME_API uint32_t prime_image_height(const prime_image *image);

/** Format the image was decoded from (a PRIME_IMAGE_FORMAT_* value;
 *  PRIME_IMAGE_FORMAT_NONE for NULL). */
PRIME_API int32_t prime_image_format(const prime_image *image);

/** Copy the pixels (3 * width * height bytes, RGB, row by row) into buf.
 *  *needed_out (may be NULL) gets the size; PRIME_E_BUFFER_TOO_SMALL if
 *  cap is smaller (call with buf = NULL, cap = 0 to ask). */
PRIME_API prime_status prime_image_copy_pixels(const prime_image *image, uint8_t *buf,
                                               size_t cap, size_t *needed_out);

/** Resampling filters. */
enum prime_filter {
    /** Triangle filter (PIL `BILINEAR`, torchvision's default). */
    PRIME_FILTER_BILINEAR = 1,
    /** Cubic convolution with a = -0.5 (PIL `BICUBIC`, CLIP's choice). */
    PRIME_FILTER_BICUBIC = 2
};

/** Resize to width x height, exactly as PIL's `Image.resize(size, filter,
 *  reducing_gap=None)` does on an RGB image (the same bytes), which is what
 *  torchvision's Resize does on a PIL image:
 *
 *  Each axis is resampled separately (horizontal pass first, 8-bit result
 *  between the passes). For an axis of `in` source pixels and `out` output
 *  pixels, scale = in / out and fs = max(scale, 1) (so the filter is
 *  widened by the scale factor when shrinking: this is the antialiasing);
 *  the filter's support r (1 for bilinear, 2 for bicubic) becomes
 *  r * fs. Output pixel x has centre c = (x + 0.5) * scale and takes source
 *  pixels i from floor(c - r*fs + 0.5) to floor(c + r*fs + 0.5) - 1
 *  (clamped to the image) with weights K((i - c + 0.5) / fs), where
 *  K(t) = max(0, 1 - |t|) for bilinear, normalised to sum 1. The weights
 *  are rounded to fixed point with 22 fractional bits and each sum is
 *  rounded half up and clamped to 0..255. */
PRIME_API prime_status prime_image_resize(const prime_image *image, uint32_t width,
                                          uint32_t height, int32_t filter,
                                          prime_image **out);

/** Copy the width x height rectangle whose top-left pixel is (x, y); it
 *  must lie inside the image (PRIME_E_RANGE otherwise). */
PRIME_API prime_status prime_image_crop(const prime_image *image, uint32_t x, uint32_t y,
                                        uint32_t width, uint32_t height, prime_image **out);

/* ------------------------------------------------------------------------ */
/* Preprocessing specs                                                       */
/* ------------------------------------------------------------------------ */

/** How an image becomes a model input: resize mode and sizes, filter,
 *  per-channel mean and standard deviation, pixel limit. Opaque so that
 *  settings can be added without changing any layout. */
typedef struct prime_image_spec prime_image_spec;

/** Named presets of prime_image_spec_create. */
enum prime_image_preset {
    /** RAM (Recognize Anything): convert to RGB first (PRIME_CONVERT_FIRST,
     *  RAM's `convert_to_rgb` comes first), resize to exactly 384 x 384,
     *  bilinear, ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224,
     *  0.225). */
    PRIME_IMAGE_PRESET_RAM = 1,
    /** CLIP: shorter side to 224, bicubic, centre crop 224 x 224, then the
     *  conversion to RGB (PRIME_CONVERT_LAST, as CLIP's preprocess puts
     *  `_convert_image_to_rgb` after Resize and CenterCrop), CLIP mean
     *  (0.48145466, 0.4578275, 0.40821073) and std (0.26862954,
     *  0.26130258, 0.27577711). */
    PRIME_IMAGE_PRESET_CLIP = 2,
    /** ImageNet classifiers: convert first (torchvision's image loader
     *  converts to RGB), shorter side to 256, bilinear, centre crop
     *  224 x 224, ImageNet mean and std. */
    PRIME_IMAGE_PRESET_IMAGENET = 3
};

/** Resize modes (prime_image_spec_set_resize). */
enum prime_resize_mode {
    /** torchvision `Resize(S)` then `CenterCrop((H, W))`: the shorter side
     *  becomes S and the longer one floor(S * long / short) (computed in
     *  double precision, as torchvision does); then the centre
     *  W x H rectangle is kept, its left edge at round((w' - W) / 2) and
     *  its top at round((h' - H) / 2), rounding halves to even as Python
     *  does. W and H must not exceed S. */
    PRIME_RESIZE_SHORTER_CROP = 1,
    /** Resize to exactly W x H, ignoring the aspect ratio (torchvision
     *  `Resize((H, W))`, RAM's transform); S is not used. */
    PRIME_RESIZE_EXACT = 2
};

/** Create a spec holding a preset (a PRIME_IMAGE_PRESET_* value); every
 *  spec starts with the pixel limit PRIME_IMAGE_DEFAULT_MAX_PIXELS. An
 *  unknown preset or a NULL out: PRIME_E_INVALID_ARG. */
PRIME_API prime_status prime_image_spec_create(int32_t preset, prime_image_spec **out);

/** Destroy a spec; NULL is fine. */
PRIME_API void prime_image_spec_destroy(prime_image_spec *spec);

/** Set the resize mode (PRIME_RESIZE_*), the shorter-side size S (for
 *  PRIME_RESIZE_SHORTER_CROP) and the output width and height. Sizes are
 *  1..65536 (PRIME_E_RANGE); PRIME_E_RANGE when the crop is larger than S;
 *  an unknown mode is PRIME_E_INVALID_ARG. The setters of a spec leave it
 *  unchanged when they refuse a value. */
PRIME_API prime_status prime_image_spec_set_resize(prime_image_spec *spec, int32_t mode,
                                                   uint32_t shorter_side, uint32_t width,
                                                   uint32_t height);

/** Get the resize mode, shorter-side size and output size (any out pointer
 *  may be NULL). */
PRIME_API prime_status prime_image_spec_get_resize(const prime_image_spec *spec,
                                                   int32_t *mode_out,
                                                   uint32_t *shorter_side_out,
                                                   uint32_t *width_out, uint32_t *height_out);

/** Orders of the colour conversion (prime_image_spec_set_convert). */
enum prime_convert_order {
    /** Convert to RGB, then resize (PIL `img.convert("RGB")` before the
     *  transforms: RAM, torchvision's ImageFolder loader). The decoded RGB
     *  pixels are resized. */
    PRIME_CONVERT_FIRST = 0,
    /** Resize and crop the image in its own colour model, convert to RGB
     *  last (CLIP). It differs from PRIME_CONVERT_FIRST only for files whose
     *  PIL mode is not RGB or grey, where PIL's `resize` works differently:
     *  a palette PNG, GIF, BMP or TGA, or a 1-bit PNG or BMP (PIL "P",
     *  "1"; not a GIF or BMP whose palette is the grey ramp, which PIL opens
     *  as "L"), is resized with nearest neighbour whatever the filter
     *  (Pillow's affine scaling: source pixel int((x + 0.5) * in / out),
     *  accumulated in double); a grey+alpha or RGBA PNG, or a 32-bit TGA
     *  ("LA", "RGBA"), is premultiplied by its alpha (c * a / 255,
     *  rounded), resized with the filter together with its alpha, divided
     *  again (255 * c / a, truncated, where 0 < a < 255) and its alpha
     *  dropped; a 16-bit grey PNG (PIL "I") is resized in 32-bit integers
     *  (weights in double, each pass rounded) and each sample then clipped
     *  to 0..255, as PIL's RGB conversion of "I" does. Tested byte for byte
     *  against Pillow (tests/test_image.c, scripts/make_mode_reference.py,
     *  scripts/make_format_mode_reference.py). In both orders the
     *  transparent pixels of a GIF have their palette index's colour, as in
     *  PIL (which keeps the index); in the order PRIME_CONVERT_FIRST a
     *  16-bit grey PNG is converted as PIL's `convert("RGB")` does, each
     *  sample clipped to 0..255, before the resize (prime_image_pixels of
     *  the decoded image keeps the high byte of each sample). */
    PRIME_CONVERT_LAST = 1
};

/** Set when the image is converted to RGB (PRIME_CONVERT_*): before the
 *  resize (the default of every preset but CLIP) or after the crop.
 *  Another value: PRIME_E_INVALID_ARG. */
PRIME_API prime_status prime_image_spec_set_convert(prime_image_spec *spec, int32_t order);

/** Get the conversion order (a PRIME_CONVERT_* value). */
PRIME_API prime_status prime_image_spec_get_convert(const prime_image_spec *spec,
                                                    int32_t *order_out);

/** Decode the JPEGs of a batch (prime_image_batch_load) at a reduced DCT
 *  scale when the spec's resize size is at most half the image's:
 *  `enabled` 1 decodes at the smallest of 1/2, 1/4, 1/8 whose size
 *  (ceil(side / s)) still covers the resize size, as PIL's
 *  `img.draft("RGB", size)` does (s = the largest of 8, 4, 2 that is at
 *  most min(width / resize_width, height / resize_height), integer
 *  division), then resizes and crops the reduced image as the spec says;
 *  0 (the default of every preset) decodes at full size. Much faster for
 *  large photos, but the pixels are those of `draft` + resize, not of a
 *  full decode + resize (PIL's default, which CLIP and torchvision use):
 *  on photos the two differ by a few levels of 255. Takes effect only in a
 *  build with libjpeg-turbo (meson option turbojpeg; see docs/images.md);
 *  elsewhere JPEGs are decoded at full size. Images decoded one by one
 *  (prime_image_load) are always at full size. The files calls of the
 *  backends (prime_tagger_tag_files, prime_classifier_classify_files) use
 *  it through prime_files_options.jpeg_draft (libprime 1.3), and the
 *  `prime tag` and `prime classify` commands turn it on by default
 *  (`--jpeg-draft off`: full size); the measured difference from a full
 *  decode is in docs/images.md.
 *  @since 1.1 */
PRIME_API prime_status prime_image_spec_set_jpeg_draft(prime_image_spec *spec, int32_t enabled);

/** Get the JPEG draft setting (0 or 1; prime_image_spec_set_jpeg_draft).
 *  @since 1.1 */
PRIME_API prime_status prime_image_spec_get_jpeg_draft(const prime_image_spec *spec,
                                                       int32_t *enabled_out);

/** Set the resampling filter (PRIME_FILTER_*; another value:
 *  PRIME_E_INVALID_ARG). */
PRIME_API prime_status prime_image_spec_set_filter(prime_image_spec *spec, int32_t filter);

/** Get the resampling filter. */
PRIME_API prime_status prime_image_spec_get_filter(const prime_image_spec *spec,
                                                   int32_t *filter_out);

/** Set the per-channel mean and standard deviation (3 values each, R, G, B;
 *  finite, std > 0, else PRIME_E_RANGE): output = (pixel / 255 - mean) /
 *  std. mean 0 and std 1 give the plain [0, 1] scaling. */
PRIME_API prime_status prime_image_spec_set_normalize(prime_image_spec *spec,
                                                      const double *mean, const double *std);

/** Get the per-channel mean and standard deviation (3 values each; either
 *  pointer may be NULL). */
PRIME_API prime_status prime_image_spec_get_normalize(const prime_image_spec *spec,
                                                      double *mean_out, double *std_out);

/** Set the largest number of pixels a decoded image may have (>= 1; 0 is
 *  PRIME_E_RANGE). */
PRIME_API prime_status prime_image_spec_set_max_pixels(prime_image_spec *spec,
                                                       uint64_t max_pixels);

/** Get the pixel limit. */
PRIME_API prime_status prime_image_spec_get_max_pixels(const prime_image_spec *spec,
                                                       uint64_t *max_pixels_out);

/** Resize and crop an image as the spec says, before normalisation: the
 *  8-bit image the model will see. */
PRIME_API prime_status prime_image_transform(const prime_image *image,
                                             const prime_image_spec *spec,
                                             prime_image **out);

/** Resize, crop and normalise an image as the spec says, into buf as
 *  float32 in channel-major order (C = 3, H, W): buf[(c * H + y) * W + x].
 *  cap and *needed_out (may be NULL) count floats (3 * W * H);
 *  PRIME_E_BUFFER_TOO_SMALL if cap is smaller (call with buf = NULL,
 *  cap = 0 to ask). */
PRIME_API prime_status prime_image_preprocess(const prime_image *image,
                                              const prime_image_spec *spec, float *buf,
                                              size_t cap, size_t *needed_out);

/* ------------------------------------------------------------------------ */
/* Batches                                                                   */
/* ------------------------------------------------------------------------ */

/** A batch of preprocessed images: an (N, 3, H, W) float32 tensor and, per
 *  image, the status of its decoding and the error message. Read-only. */
typedef struct prime_image_batch prime_image_batch;

/** Decode and preprocess n image files with `threads` threads (0 = one per
 *  online CPU; never more than n). The result does not depend on the
 *  thread count. A file that cannot be decoded does not stop the batch: its
 *  slot of the tensor is all zeros and its status and message are kept
 *  (prime_image_batch_status, prime_image_batch_error). The call fails only
 *  for invalid arguments or lack of memory for the batch itself; when a
 *  thread cannot start, the others do its share. The calling thread is one
 *  of the workers. n may be 0. */
PRIME_API prime_status prime_image_batch_load(const char *const *paths, uint32_t n,
                                              const prime_image_spec *spec, uint32_t threads,
                                              prime_image_batch **out);

/** Destroy a batch; NULL is fine. */
PRIME_API void prime_image_batch_destroy(prime_image_batch *batch);

/** Number of images in the batch (N; 0 for NULL). */
PRIME_API uint32_t prime_image_batch_count(const prime_image_batch *batch);

/** Number of images that could not be decoded (0 for NULL). */
PRIME_API uint32_t prime_image_batch_failed_count(const prime_image_batch *batch);

/** Status of image i: PRIME_OK, the decoding error, or PRIME_E_INVALID_ARG
 *  when i is out of range. */
PRIME_API prime_status prime_image_batch_status(const prime_image_batch *batch, uint32_t i);

/** Error message of image i ("" when it was decoded), naming its file; NULL
 *  when i is out of range. Owned by the batch. */
PRIME_API const char *prime_image_batch_error(const prime_image_batch *batch, uint32_t i);

/** Width and height of image i as its file gives them, before any resizing
 *  (and before a JPEG draft's DCT scaling; 0 x 0 for a failed image). Either out pointer may be NULL. */
PRIME_API prime_status prime_image_batch_source_size(const prime_image_batch *batch,
                                                     uint32_t i, uint32_t *width_out,
                                                     uint32_t *height_out);

/** The tensor, N x 3 x H x W floats, owned by the batch (valid until it is
 *  destroyed); NULL for an empty batch. */
PRIME_API const float *prime_image_batch_tensor(const prime_image_batch *batch);

/** Copy the tensor into buf; cap and *needed_out (may be NULL) count floats
 *  (N * 3 * H * W). PRIME_E_BUFFER_TOO_SMALL if cap is smaller. */
PRIME_API prime_status prime_image_batch_copy_tensor(const prime_image_batch *batch,
                                                     float *buf, size_t cap,
                                                     size_t *needed_out);

/* ------------------------------------------------------------------------ */
/* Measured properties (for a model-free image-property tagger)              */
/* ------------------------------------------------------------------------ */

/** Properties measured by prime_image_measure: index into its values.
 *  Luma is Y = (0.299 R + 0.587 G + 0.114 B) / 255 (ITU-R BT.601), in
 *  [0, 1]. Every value is deterministic (the same bytes give the same
 *  doubles on every machine and thread count). */
enum prime_image_prop {
    /** Mean luma, 0 (black) .. 1 (white): "dark" / "bright". */
    PRIME_IMAGE_PROP_BRIGHTNESS = 0,
    /** RMS contrast: standard deviation of luma, 0 .. 0.5: "low-contrast". */
    PRIME_IMAGE_PROP_CONTRAST = 1,
    /** Mean HSV saturation (max - min) / max of R, G, B (0 where max is 0),
     *  0 .. 1: "saturated" / "washed out". */
    PRIME_IMAGE_PROP_SATURATION = 2,
    /** Colourfulness of Hasler and Suesstrunk (2003) on 0..1 channels:
     *  with rg = R - G and yb = (R + G) / 2 - B,
     *  sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2). */
    PRIME_IMAGE_PROP_COLORFULNESS = 3,
    /** Sharpness: variance of the 4-neighbour Laplacian of luma over the
     *  interior pixels (0 for images under 3 x 3): "blurry" when small. */
    PRIME_IMAGE_PROP_SHARPNESS = 4,
    /** Noise: standard deviation of Gaussian noise estimated by Immerkaer's
     *  method (1996) on luma: sqrt(pi / 2) / (6 (W - 2) (H - 2)) times the
     *  sum of |luma convolved with [1 -2 1; -2 4 -2; 1 -2 1]| (0 under
     *  3 x 3): "noisy". */
    PRIME_IMAGE_PROP_NOISE = 5,
    /** Fraction of pixels whose channels differ by at most 8 / 255:
     *  1 for a grayscale image. */
    PRIME_IMAGE_PROP_GRAY_FRACTION = 6,
    /** Width / height: > 1 landscape, < 1 portrait. */
    PRIME_IMAGE_PROP_ASPECT = 7,
    /** The colour name (a PRIME_IMAGE_COLOR_* value, as a double) that
     *  covers most pixels; ties go to the lower value. */
    PRIME_IMAGE_PROP_DOMINANT_COLOR = 8,
    /** Fraction of the pixels that have the dominant colour. */
    PRIME_IMAGE_PROP_DOMINANT_SHARE = 9,
    /** Number of properties of this version (new ones are appended). */
    PRIME_IMAGE_PROP_COUNT = 10
};

/** Colour names of PRIME_IMAGE_PROP_DOMINANT_COLOR. A pixel, in HSV with
 *  s and v in [0, 1] and the hue h in degrees, is black when v < 0.2, else
 *  white when s < 0.15 and v > 0.85, else gray when s < 0.15, else by hue:
 *  red h < 15 or h >= 345, orange < 45, yellow < 70, green < 165,
 *  cyan < 195, blue < 255, purple < 290, pink < 345. */
enum prime_image_color {
    PRIME_IMAGE_COLOR_BLACK = 0,  /**< "black" */
    PRIME_IMAGE_COLOR_WHITE = 1,  /**< "white" */
    PRIME_IMAGE_COLOR_GRAY = 2,   /**< "gray" */
    PRIME_IMAGE_COLOR_RED = 3,    /**< "red" */
    PRIME_IMAGE_COLOR_ORANGE = 4, /**< "orange" */
    PRIME_IMAGE_COLOR_YELLOW = 5, /**< "yellow" */
    PRIME_IMAGE_COLOR_GREEN = 6,  /**< "green" */
    PRIME_IMAGE_COLOR_CYAN = 7,   /**< "cyan" */
    PRIME_IMAGE_COLOR_BLUE = 8,   /**< "blue" */
    PRIME_IMAGE_COLOR_PURPLE = 9, /**< "purple" */
    PRIME_IMAGE_COLOR_PINK = 10,  /**< "pink" */
    PRIME_IMAGE_COLOR_COUNT = 11  /**< number of colour names */
};

/** Measure the properties of an image (see PRIME_IMAGE_PROP_*): writes
 *  min(cap, PRIME_IMAGE_PROP_COUNT) values to values[0..] and the number of
 *  properties this version measures to *n_out (may be NULL). values may be
 *  NULL when cap is 0. Measure the decoded image, or a downscaled copy
 *  (prime_image_resize) for speed: sharpness and noise depend on scale. */
PRIME_API prime_status prime_image_measure(const prime_image *image, double *values,
                                           uint32_t cap, uint32_t *n_out);

/** Static name of a property ("brightness", "contrast", "saturation",
 *  "colorfulness", "sharpness", "noise", "gray_fraction", "aspect",
 *  "dominant_color", "dominant_share"), or NULL for an unknown index. */
PRIME_API const char *prime_image_property_name(int32_t property);

/** Static name of a colour (PRIME_IMAGE_COLOR_*: "black", "white",
 *  "gray", "red", ...), or NULL for an unknown index. */
PRIME_API const char *prime_image_color_name(int32_t color);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PRIME_IMAGE_H */
