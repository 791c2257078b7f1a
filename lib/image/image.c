/* Image pipeline: decoding with stb_image (Debian's libstb), PIL-exact
 * resampling, centre crop, normalisation and parallel batch loading. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <stb_image.h>

#include "common/common.h"
#include "prime/image.h"

/* The colour model of the source, where PIL would resize it differently from
 * its RGB conversion (the order of prime_image_spec_set_convert). */
enum {
    SRC_RGB = 0,   /* RGB or grey: resizing commutes with the conversion */
    SRC_INDEXED,   /* PNG palette or 1-bit grey (PIL "P", "1"): PIL resizes nearest */
    SRC_ALPHA      /* PNG grey+alpha or RGBA (PIL "LA", "RGBA"): premultiplied resize */
};

struct prime_image {
    uint32_t width, height;
    int32_t format;
    uint8_t *px;     /* 3 * width * height bytes */
    bool stb_owned;  /* px comes from stbi_load (free with stbi_image_free) */
    int32_t source;  /* SRC_* */
    uint8_t *alpha;  /* width * height bytes when source is SRC_ALPHA, else NULL */
};

struct prime_image_spec {
    int32_t mode;
    uint32_t shorter, width, height;
    int32_t filter;
    double mean[3], std[3];
    uint64_t max_pixels;
    int32_t convert; /* PRIME_CONVERT_* */
};

struct prime_image_batch {
    uint32_t n, failed;
    uint32_t width, height; /* of each slot */
    float *tensor;          /* n * 3 * height * width */
    prime_status *status;   /* n */
    char **error;           /* n; NULL = "" */
    uint32_t *src_size;     /* 2 * n: width, height as decoded */
};

/* ---- formats --------------------------------------------------------------- */

static const char *format_name(int32_t f)
{
    switch (f) {
    case PRIME_IMAGE_FORMAT_JPEG: return "JPEG";
    case PRIME_IMAGE_FORMAT_PNG: return "PNG";
    case PRIME_IMAGE_FORMAT_BMP: return "BMP";
    case PRIME_IMAGE_FORMAT_TGA: return "TGA";
    case PRIME_IMAGE_FORMAT_GIF: return "GIF";
    default: return "image";
    }
}

static bool starts_with(const unsigned char *d, size_t n, const char *magic, size_t m)
{
    return n >= m && memcmp(d, magic, m) == 0;
}

/* The format announced by the first bytes. stb_image would also decode PSD,
 * HDR, PNM and PIC files (and would try them before TGA, which has no
 * magic): those are refused here, so that only the five formats reach the
 * decoder. Returns PRIME_IMAGE_FORMAT_NONE for a refused format. */
static int32_t sniff_format(const unsigned char *d, size_t n)
{
    if (starts_with(d, n, "\x89PNG\r\n\x1a\n", 8))
        return PRIME_IMAGE_FORMAT_PNG;
    if (starts_with(d, n, "\xff\xd8\xff", 3))
        return PRIME_IMAGE_FORMAT_JPEG;
    if (starts_with(d, n, "GIF87a", 6) || starts_with(d, n, "GIF89a", 6))
        return PRIME_IMAGE_FORMAT_GIF;
    if (starts_with(d, n, "BM", 2))
        return PRIME_IMAGE_FORMAT_BMP;
    if (starts_with(d, n, "8BPS", 4) || starts_with(d, n, "#?", 2) ||
        starts_with(d, n, "\x53\x80\xf6\x34", 4) ||
        (n >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7'))
        return PRIME_IMAGE_FORMAT_NONE;
    /* what is left can only be decoded as TGA: check its header as
       stb_image does (colour-map type 0/1, image type 1-3 or 9-11). */
    if (n >= 18 && d[1] <= 1) {
        unsigned t = d[2];
        if (t == 1 || t == 2 || t == 3 || t == 9 || t == 10 || t == 11)
            return PRIME_IMAGE_FORMAT_TGA;
    }
    return PRIME_IMAGE_FORMAT_NONE;
}

static uint32_t be16(const unsigned char *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t le16(const unsigned char *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The size the header announces, read here because stb_image refuses very
 * large images with a vague "unknown image type": false if the header is
 * too short or (JPEG) no frame header is found. */
static bool header_size(int32_t fmt, const unsigned char *d, size_t n, uint64_t *w, uint64_t *h)
{
    switch (fmt) {
    case PRIME_IMAGE_FORMAT_PNG:
        if (n < 24)
            return false;
        *w = be32(d + 16);
        *h = be32(d + 20);
        return true;
    case PRIME_IMAGE_FORMAT_BMP: {
        if (n < 26)
            return false;
        int32_t bw = (int32_t)le32(d + 18), bh = (int32_t)le32(d + 22);
        *w = bw < 0 ? (uint64_t)-(int64_t)bw : (uint64_t)bw;
        *h = bh < 0 ? (uint64_t)-(int64_t)bh : (uint64_t)bh;
        return true;
    }
    case PRIME_IMAGE_FORMAT_GIF:
        if (n < 10)
            return false;
        *w = le16(d + 6);
        *h = le16(d + 8);
        return true;
    case PRIME_IMAGE_FORMAT_TGA:
        if (n < 16)
            return false;
        *w = le16(d + 12);
        *h = le16(d + 14);
        return true;
    case PRIME_IMAGE_FORMAT_JPEG: {
        size_t i = 2;
        while (i + 4 <= n) {
            if (d[i] != 0xFF)
                return false;
            unsigned m = d[i + 1];
            if (m == 0xFF) { /* fill byte */
                i++;
                continue;
            }
            if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
                i += 2;
                continue;
            }
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                if (i + 9 > n)
                    return false;
                *h = be16(d + i + 5);
                *w = be16(d + i + 7);
                return true;
            }
            i += 2 + be16(d + i + 2);
        }
        return false;
    }
    default:
        return false;
    }
}

/* Two defects of stb_image 2.27 (Debian 12's libstb), both fixed upstream
 * in 2.28, let a corrupt JPEG make the decoder read or write far outside
 * its Huffman tables:
 *  - a DHT segment that declares more than 256 codes overruns the table
 *    when it is built;
 *  - a scan that uses a Huffman table no DHT has defined decodes with the
 *    uninitialised memory of that table (stb allocates its decoder state
 *    with malloc), and the symbol index it computes can point anywhere
 *    (found by fuzz/fuzz_image.c: an index of 80,143 into a table of 256).
 * Walk every marker segment, entropy-coded data included, as stb_image
 * reads them, and refuse both before the decoder sees the file. Returns
 * NULL when the file may go to the decoder, else the reason; anything else
 * (truncation, unknown markers) is left to the decoder's own checks. */
static const char *jpeg_tables_check(const unsigned char *d, size_t n)
{
    bool defined[2][4] = {{false}};
    int progressive = -1; /* no SOF yet */
    size_t i = 2;
    while (i + 4 <= n) {
        if (d[i] != 0xFF) { /* entropy-coded data: find the next marker */
            i++;
            continue;
        }
        unsigned m = d[i + 1];
        if (m == 0xFF) {
            i++;
            continue;
        }
        if (m == 0x00 || m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7)) {
            i += 2; /* stuffed byte, TEM, SOI, RSTn: no length */
            continue;
        }
        if (m == 0xD9)
            return NULL;
        size_t len = be16(d + i + 2);
        if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
            progressive = m == 0xC2;
        } else if (m == 0xC4) {
            /* as stb_image reads it: tables while the length left is > 0,
               even past the segment's end; bytes past the file read 0 */
            long left = (long)len - 2;
            size_t j = i + 4;
            while (left > 0) {
                unsigned q = j < n ? d[j] : 0;
                if ((q >> 4) > 1 || (q & 15) > 3)
                    break; /* stb_image refuses the segment */
                long count = 0;
                for (size_t k = 1; k <= 16; k++)
                    count += j + k < n ? d[j + k] : 0;
                if (count > 256)
                    return "Huffman table of more than 256 codes";
                defined[q >> 4][q & 15] = true;
                left -= 17 + count;
                j += 17 + (size_t)count;
            }
        } else if (m == 0xDA) {
            /* SOS: Ns, then (id, Td<<4 | Ta) per component, then Ss, Se,
               Ah<<4 | Al */
            size_t p = i + 4;
            unsigned ns = p < n ? d[p] : 0;
            if (ns >= 1 && ns <= 4 && p + 1 + 2 * (size_t)ns + 3 <= n) {
                unsigned ss = d[p + 1 + 2 * ns], ah = d[p + 3 + 2 * ns] >> 4;
                for (unsigned c = 0; c < ns; c++) {
                    unsigned q = d[p + 2 + 2 * c], td = q >> 4, ta = q & 15;
                    if (td > 3 || ta > 3)
                        continue; /* stb_image refuses the scan */
                    bool need_dc = progressive != 1 || (ss == 0 && ah == 0);
                    bool need_ac = progressive != 1 || ss > 0;
                    if ((need_dc && !defined[0][td]) || (need_ac && !defined[1][ta]))
                        return "a scan uses a Huffman table that no DHT segment defines";
                }
            }
        }
        i += 2 + len;
    }
    return NULL;
}

/* stb_image grows its buffer for PNG image data to the length an IDAT
 * chunk declares before it checks that the bytes are there: a 200-byte file
 * whose chunk claims 1.7 GB makes it allocate 2 GB (found by
 * fuzz/fuzz_image.c, run out of memory). Walk the chunks up to IEND as
 * stb_image reads them (length, type, data, CRC) and refuse a chunk that
 * runs past the end of the file: stb_image would fail on it anyway, after
 * the allocation. Then the data it gathers never exceeds the file's size.
 * Returns NULL when the file may go to the decoder, else the reason. */
static const char *png_chunks_check(const unsigned char *d, size_t n, char *why, size_t cap)
{
    size_t i = 8;
    while (i + 8 <= n) {
        uint32_t len = be32(d + i);
        const unsigned char *t = d + i + 4;
        if (memcmp(t, "IEND", 4) == 0)
            return NULL; /* stb_image stops here without reading its CRC */
        if ((uint64_t)len + 12 > n - i) {
            char type[5];
            for (int k = 0; k < 4; k++)
                type[k] = t[k] >= 0x20 && t[k] < 0x7F ? (char)t[k] : '?';
            type[4] = '\0';
            snprintf(why, cap,
                     "chunk '%s' at byte %zu declares %" PRIu32
                     " bytes, more than the file holds",
                     type, i, len);
            return why;
        }
        i += 12 + (size_t)len;
    }
    return NULL; /* truncated before IEND: left to the decoder */
}

/* ---- images ---------------------------------------------------------------- */

static prime_status image_alloc(uint32_t w, uint32_t h, prime_image **out)
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
    prime__free(image);
}

/* Decode; `name` is never NULL. */
static prime_status decode(const void *data, size_t size, const char *name,
                           uint64_t max_pixels, prime_image **out)
{
    if (max_pixels == 0)
        max_pixels = PRIME_IMAGE_DEFAULT_MAX_PIXELS;
    if (size == 0)
        return prime__error(PRIME_E_FORMAT, "%s: empty file", name);
    if (size > INT_MAX)
        return prime__error(PRIME_E_LIMIT, "%s: file of %zu bytes is too large to decode (at most %d)",
                            name, size, INT_MAX);
    const unsigned char *d = data;
    int32_t fmt = sniff_format(d, size);
    if (fmt == PRIME_IMAGE_FORMAT_NONE)
        return prime__error(PRIME_E_FORMAT,
                            "%s: not a supported image (JPEG, PNG, BMP, TGA, GIF)", name);
    const char *bad_jpeg = fmt == PRIME_IMAGE_FORMAT_JPEG ? jpeg_tables_check(d, size) : NULL;
    if (bad_jpeg != NULL)
        return prime__error(PRIME_E_FORMAT, "%s: corrupt JPEG: %s", name, bad_jpeg);
    char png_why[128];
    const char *bad_png = fmt == PRIME_IMAGE_FORMAT_PNG
                              ? png_chunks_check(d, size, png_why, sizeof png_why)
                              : NULL;
    if (bad_png != NULL)
        return prime__error(PRIME_E_FORMAT, "%s: corrupt or truncated PNG: %s", name, bad_png);
    uint64_t hw = 0, hh = 0;
    if (header_size(fmt, d, size, &hw, &hh) && hw * hh > max_pixels)
        return prime__error(PRIME_E_LIMIT,
                            "%s: image of %llu x %llu pixels is larger than the limit of %llu pixels",
                            name, (unsigned long long)hw, (unsigned long long)hh,
                            (unsigned long long)max_pixels);
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(d, (int)size, &w, &h, &comp)) {
        const char *why = stbi_failure_reason();
        return prime__error(PRIME_E_FORMAT, "%s: corrupt or truncated %s: %s", name,
                            format_name(fmt), why != NULL ? why : "unreadable header");
    }
    if (w <= 0 || h <= 0)
        return prime__error(PRIME_E_FORMAT, "%s: corrupt or truncated %s: image of %d x %d pixels", name,
                            format_name(fmt), w, h);
    if ((uint64_t)w * (uint64_t)h > max_pixels)
        return prime__error(PRIME_E_LIMIT,
                            "%s: image of %d x %d pixels is larger than the limit of %llu pixels",
                            name, w, h, (unsigned long long)max_pixels);
    prime_image *im = prime__calloc(1, sizeof *im);
    if (im == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
    /* PNG's colour type (IHDR, validated by png_chunks_check): how PIL would
       resize the image before its RGB conversion */
    int32_t source = SRC_RGB;
    if (fmt == PRIME_IMAGE_FORMAT_PNG && size >= 26 && memcmp(d + 12, "IHDR", 4) == 0) {
        unsigned depth = d[24], type = d[25];
        if (type == 3 || (type == 0 && depth == 1))
            source = SRC_INDEXED;
        else if (type == 4 || type == 6)
            source = SRC_ALPHA;
    }
    /* a program may have flipped stb_image's global setting: not here */
    stbi_set_flip_vertically_on_load_thread(0);
    int w2 = 0, h2 = 0;
    unsigned char *px =
        stbi_load_from_memory(d, (int)size, &w2, &h2, &comp, source == SRC_ALPHA ? 4 : 3);
    if (px == NULL) {
        prime__free(im);
        const char *why = stbi_failure_reason();
        if (why != NULL && strcmp(why, "outofmem") == 0)
            return prime__error(PRIME_E_NOMEM, "%s: out of memory decoding a %d x %d %s",
                                name, w, h, format_name(fmt));
        return prime__error(PRIME_E_FORMAT, "%s: corrupt or truncated %s: %s", name,
                            format_name(fmt), why != NULL ? why : "cannot decode");
    }
    if (w2 != w || h2 != h) { /* header and decoder disagree: never trust it */
        stbi_image_free(px);
        prime__free(im);
        return prime__error(PRIME_E_FORMAT, "%s: corrupt %s: size %d x %d, decoded %d x %d",
                            name, format_name(fmt), w, h, w2, h2);
    }
    im->width = (uint32_t)w;
    im->height = (uint32_t)h;
    im->format = fmt;
    im->source = source;
    if (source == SRC_ALPHA) { /* RGBA into RGB and an alpha plane */
        size_t np = (size_t)w * (size_t)h;
        im->px = prime__malloc(np * 3);
        im->alpha = prime__malloc(np);
        if (im->px == NULL || im->alpha == NULL) {
            stbi_image_free(px);
            prime_image_destroy(im);
            return prime__error(PRIME_E_NOMEM, "%s: out of memory decoding a %d x %d %s", name,
                                w, h, format_name(fmt));
        }
        for (size_t i = 0; i < np; i++) {
            memcpy(im->px + 3 * i, px + 4 * i, 3);
            im->alpha[i] = px[4 * i + 3];
        }
        stbi_image_free(px);
    } else {
        im->px = px;
        im->stb_owned = true;
    }
    *out = im;
    return PRIME_OK;
}

prime_status prime_image_load_memory(const void *data, size_t size, const char *name,
                                     uint64_t max_pixels, prime_image **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_load_memory: out is NULL");
    *out = NULL;
    if (name == NULL)
        name = "<memory>";
    if (data == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: data is NULL", name);
    return decode(data, size, name, max_pixels, out);
}

prime_status prime_image_load(const char *path, uint64_t max_pixels, prime_image **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_load: out is NULL");
    *out = NULL;
    if (path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_load: path is NULL");
    char *data = NULL;
    size_t size = 0;
    prime_status st = prime__read_file(path, &data, &size);
    if (st != PRIME_OK)
        return st;
    st = decode(data, size, path, max_pixels, out);
    prime__free(data);
    return st;
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
    prime_status st = image_alloc(width, height, &im);
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

/* ---- resampling: PIL's ImagingResample (libImaging/Resample.c), 8 bits ----- */

#define PRECISION_BITS (32 - 8 - 2)

static double filter_bilinear(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double filter_bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Coefficients of one axis: for output pixel i, source pixels
 * bounds[2i] .. bounds[2i] + bounds[2i+1] - 1 with fixed-point weights
 * kk[i * ksize ...]. */
typedef struct {
    int ksize;
    int *bounds;
    int32_t *kk;
} coeffs;

static void coeffs_free(coeffs *c)
{
    prime__free(c->bounds);
    prime__free(c->kk);
}

static bool precompute_coeffs(uint32_t in_size, uint32_t out_size, int32_t filter, coeffs *c)
{
    double (*fn)(double) = filter == PRIME_FILTER_BICUBIC ? filter_bicubic : filter_bilinear;
    double support0 = filter == PRIME_FILTER_BICUBIC ? 2.0 : 1.0;
    double scale, filterscale;
    scale = filterscale = (double)(float)in_size / out_size;
    if (filterscale < 1.0)
        filterscale = 1.0;
    double support = support0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    c->ksize = ksize;
    c->bounds = prime__malloc((size_t)out_size * 2 * sizeof(int));
    double *pre = prime__malloc((size_t)out_size * (size_t)ksize * sizeof(double));
    c->kk = prime__malloc((size_t)out_size * (size_t)ksize * sizeof(int32_t));
    if (c->bounds == NULL || pre == NULL || c->kk == NULL) {
        prime__free(pre);
        coeffs_free(c);
        c->bounds = NULL;
        c->kk = NULL;
        return false;
    }
    for (uint32_t xx = 0; xx < out_size; xx++) {
        double center = 0.0 + (xx + 0.5) * scale;
        double ww = 0.0;
        double ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > (int)in_size)
            xmax = (int)in_size;
        xmax -= xmin;
        double *k = &pre[(size_t)xx * ksize];
        int x;
        for (x = 0; x < xmax; x++) {
            double w = fn((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0)
                k[x] /= ww;
        for (; x < ksize; x++)
            k[x] = 0;
        c->bounds[xx * 2 + 0] = xmin;
        c->bounds[xx * 2 + 1] = xmax;
    }
    for (size_t i = 0; i < (size_t)out_size * (size_t)ksize; i++)
        c->kk[i] = pre[i] < 0 ? (int32_t)(-0.5 + pre[i] * (1 << PRECISION_BITS))
                              : (int32_t)(0.5 + pre[i] * (1 << PRECISION_BITS));
    prime__free(pre);
    return true;
}

static inline uint8_t clip8(int32_t in)
{
    if (in >= (1 << PRECISION_BITS << 8))
        return 255;
    if (in <= 0)
        return 0;
    return (uint8_t)(in >> PRECISION_BITS);
}

/* Pixels [x0, x0 + cw) x [y0, y0 + ch) of the image `src` resized to
 * out_w x out_h, into `dst` (cw x ch, RGB), identical to resizing the whole
 * image and cropping (every output pixel depends only on its own
 * coefficients). */
static prime_status resize_region(const prime_image *src, uint32_t out_w, uint32_t out_h,
                                  int32_t filter, uint32_t x0, uint32_t y0, uint32_t cw,
                                  uint32_t ch, uint8_t *dst)
{
    const uint32_t in_w = src->width, in_h = src->height;
    bool need_h = out_w != in_w, need_v = out_h != in_h;
    coeffs hc = {0, NULL, NULL}, vc = {0, NULL, NULL};
    uint8_t *tmp = NULL;
    int32_t *acc = NULL;
    prime_status st = PRIME_OK;
    if ((need_h && !precompute_coeffs(in_w, out_w, filter, &hc)) ||
        (need_v && !precompute_coeffs(in_h, out_h, filter, &vc))) {
        st = prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image", in_w, in_h);
        goto done;
    }
    /* source rows the vertical pass reads */
    uint32_t row_first, row_last;
    if (need_v) {
        row_first = (uint32_t)vc.bounds[y0 * 2];
        row_last = (uint32_t)(vc.bounds[(y0 + ch - 1) * 2] + vc.bounds[(y0 + ch - 1) * 2 + 1]);
        for (uint32_t y = y0 + 1; y < y0 + ch; y++) /* bounds are monotone; be safe */
            if ((uint32_t)vc.bounds[y * 2] < row_first)
                row_first = (uint32_t)vc.bounds[y * 2];
    } else {
        row_first = y0;
        row_last = y0 + ch;
    }
    const uint8_t *rows = src->px;   /* row r of the horizontal result is rows + r * stride */
    size_t stride = (size_t)in_w * 3;
    uint32_t rows_base = 0;
    if (need_h) {
        uint32_t nrows = row_last - row_first;
        tmp = prime__malloc((size_t)cw * 3 * (nrows ? nrows : 1));
        if (tmp == NULL) {
            st = prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image", in_w, in_h);
            goto done;
        }
        for (uint32_t r = 0; r < nrows; r++) {
            const uint8_t *in = src->px + (size_t)(r + row_first) * stride;
            uint8_t *o = tmp + (size_t)r * cw * 3;
            for (uint32_t xx = 0; xx < cw; xx++) {
                int xmin = hc.bounds[(xx + x0) * 2], xmax = hc.bounds[(xx + x0) * 2 + 1];
                const int32_t *k = &hc.kk[(size_t)(xx + x0) * hc.ksize];
                int32_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                const uint8_t *p = in + (size_t)xmin * 3;
                for (int x = 0; x < xmax; x++) {
                    s0 += p[3 * x + 0] * k[x];
                    s1 += p[3 * x + 1] * k[x];
                    s2 += p[3 * x + 2] * k[x];
                }
                o[3 * xx + 0] = clip8(s0);
                o[3 * xx + 1] = clip8(s1);
                o[3 * xx + 2] = clip8(s2);
            }
        }
        rows = tmp;
        stride = (size_t)cw * 3;
        rows_base = row_first;
    } else {
        rows = src->px + (size_t)x0 * 3; /* the horizontal crop */
    }
    if (need_v) {
        size_t rowlen = (size_t)cw * 3;
        acc = prime__malloc(rowlen * sizeof *acc);
        if (acc == NULL) {
            st = prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image", in_w, in_h);
            goto done;
        }
        for (uint32_t yy = 0; yy < ch; yy++) {
            int ymin = vc.bounds[(yy + y0) * 2], ymax = vc.bounds[(yy + y0) * 2 + 1];
            const int32_t *k = &vc.kk[(size_t)(yy + y0) * vc.ksize];
            for (size_t i = 0; i < rowlen; i++)
                acc[i] = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < ymax; y++) {
                const uint8_t *r = rows + (size_t)((uint32_t)(ymin + y) - rows_base) * stride;
                int32_t w = k[y];
                for (size_t i = 0; i < rowlen; i++)
                    acc[i] += r[i] * w;
            }
            uint8_t *o = dst + (size_t)yy * rowlen;
            for (size_t i = 0; i < rowlen; i++)
                o[i] = clip8(acc[i]);
        }
    } else {
        for (uint32_t yy = 0; yy < ch; yy++)
            memcpy(dst + (size_t)yy * cw * 3, rows + (size_t)(yy + y0 - rows_base) * stride,
                   (size_t)cw * 3);
    }
done:
    coeffs_free(&hc);
    coeffs_free(&vc);
    prime__free(tmp);
    prime__free(acc);
    return st;
}

static bool valid_filter(int32_t f)
{
    return f == PRIME_FILTER_BILINEAR || f == PRIME_FILTER_BICUBIC;
}

prime_status prime_image_resize(const prime_image *image, uint32_t width, uint32_t height,
                                int32_t filter, prime_image **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (out == NULL || image == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_resize: NULL argument");
    *out = NULL;
    if (!valid_filter(filter))
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_resize: unknown filter %d",
                            (int)filter);
    if (width == 0 || height == 0 || width > PRIME_IMAGE_MAX_SIDE ||
        height > PRIME_IMAGE_MAX_SIDE || (uint64_t)width * height > ((uint64_t)1 << 32))
        return prime__error(PRIME_E_RANGE, "prime_image_resize: size %u x %u out of range",
                            width, height);
    prime_image *im = NULL;
    prime_status st = image_alloc(width, height, &im);
    if (st != PRIME_OK)
        return st;
    st = resize_region(image, width, height, filter, 0, 0, width, height, im->px);
    if (st != PRIME_OK) {
        prime_image_destroy(im);
        return st;
    }
    *out = im;
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
    prime_status st = image_alloc(width, height, &im);
    if (st != PRIME_OK)
        return st;
    for (uint32_t r = 0; r < height; r++)
        memcpy(im->px + (size_t)r * width * 3,
               image->px + ((size_t)(y + r) * image->width + x) * 3, (size_t)width * 3);
    *out = im;
    return PRIME_OK;
}

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

prime_status prime_image_spec_set_filter(prime_image_spec *spec, int32_t filter)
{
    if (spec == NULL || !valid_filter(filter))
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

/* ---- transform and preprocess ------------------------------------------------ */

/* Python's round() of k / 2 for an integer k >= 0: halves go to even. */
static uint32_t half_round_even(uint32_t k)
{
    uint32_t q = k / 2;
    if (k % 2 == 1 && q % 2 == 1)
        q++;
    return q;
}

/* The resize size and crop window the spec gives an image of w x h. */
static void plan(const prime_image_spec *s, uint32_t w, uint32_t h, uint32_t *rw, uint32_t *rh,
                 uint32_t *x0, uint32_t *y0)
{
    if (s->mode == PRIME_RESIZE_EXACT) {
        *rw = s->width;
        *rh = s->height;
        *x0 = *y0 = 0;
        return;
    }
    uint32_t shorter = w <= h ? w : h, longer = w <= h ? h : w;
    double l = (double)((uint64_t)s->shorter * longer) / (double)shorter;
    uint32_t nl = (uint32_t)l; /* int() truncates */
    if (w <= h) {
        *rw = s->shorter;
        *rh = nl;
    } else {
        *rw = nl;
        *rh = s->shorter;
    }
    *x0 = half_round_even(*rw - s->width);
    *y0 = half_round_even(*rh - s->height);
}

/* PIL's resize with NEAREST (what Image.resize uses for "P" and "1" images
 * whatever filter is asked): for an image of another size, output pixel x
 * takes source pixel int(xo), xo starting at scale / 2 and growing by
 * scale = in / out per pixel, accumulated in double (Pillow's
 * ImagingScaleAffine); of the out_w x out_h result, the cw x ch rectangle at
 * (x0, y0) into dst. */
static prime_status nearest_region(const prime_image *src, uint32_t out_w, uint32_t out_h,
                                   uint32_t x0, uint32_t y0, uint32_t cw, uint32_t ch,
                                   uint8_t *dst)
{
    uint32_t *xs = prime__malloc((size_t)cw * sizeof *xs);
    if (xs == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image",
                            src->width, src->height);
    bool same = out_w == src->width && out_h == src->height; /* PIL copies */
    double ax = (double)src->width / out_w, ay = (double)src->height / out_h;
    double xo = ax * 0.5;
    for (uint32_t x = 0; x < x0 + cw; x++, xo += ax) {
        if (x < x0)
            continue;
        uint32_t xi = same ? x : (uint32_t)xo;
        xs[x - x0] = xi < src->width ? xi : src->width - 1;
    }
    double yo = ay * 0.5;
    for (uint32_t y = 0; y < y0 + ch; y++, yo += ay) {
        if (y < y0)
            continue;
        uint32_t yi = same ? y : (uint32_t)yo;
        if (yi >= src->height)
            yi = src->height - 1;
        const uint8_t *row = src->px + (size_t)yi * src->width * 3;
        uint8_t *o = dst + (size_t)(y - y0) * cw * 3;
        for (uint32_t x = 0; x < cw; x++)
            memcpy(o + 3 * x, row + (size_t)xs[x] * 3, 3);
    }
    prime__free(xs);
    return PRIME_OK;
}

/* PIL's RGBA resize: premultiply by alpha ("RGBA" -> "RGBa": c * a / 255
 * rounded as MULDIV255), resize the colour and the alpha with the filter,
 * divide again ("RGBa" -> "RGBA": 255 * c / a, truncated and clipped, where
 * 0 < a < 255), then drop the alpha (convert("RGB")). */
static prime_status premultiplied_region(const prime_image *src, uint32_t out_w,
                                         uint32_t out_h, int32_t filter, uint32_t x0,
                                         uint32_t y0, uint32_t cw, uint32_t ch, uint8_t *dst)
{
    size_t np = (size_t)src->width * src->height, nc = (size_t)cw * ch;
    prime_image pre = *src, al = *src;
    pre.px = prime__malloc(np * 3);
    al.px = prime__malloc(np * 3);
    uint8_t *a_out = prime__malloc(nc * 3);
    prime_status st = PRIME_OK;
    if (pre.px == NULL || al.px == NULL || a_out == NULL) {
        st = prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image", src->width,
                          src->height);
        goto done;
    }
    for (size_t i = 0; i < np; i++) {
        uint32_t a = src->alpha[i];
        for (int c = 0; c < 3; c++) {
            uint32_t t = src->px[3 * i + c] * a + 128;
            pre.px[3 * i + c] = (uint8_t)(((t >> 8) + t) >> 8);
            al.px[3 * i + c] = (uint8_t)a;
        }
    }
    st = resize_region(&pre, out_w, out_h, filter, x0, y0, cw, ch, dst);
    if (st == PRIME_OK)
        st = resize_region(&al, out_w, out_h, filter, x0, y0, cw, ch, a_out);
    if (st != PRIME_OK)
        goto done;
    for (size_t i = 0; i < nc; i++) {
        uint32_t a = a_out[3 * i];
        if (a == 0 || a == 255)
            continue;
        for (int c = 0; c < 3; c++) {
            uint32_t v = 255u * dst[3 * i + c] / a;
            dst[3 * i + c] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
done:
    prime__free(pre.px);
    prime__free(al.px);
    prime__free(a_out);
    return st;
}

/* The spec's 8-bit output (width x height RGB) into dst. */
static prime_status transform_into(const prime_image *image, const prime_image_spec *spec,
                                   uint8_t *dst)
{
    uint32_t rw, rh, x0, y0;
    plan(spec, image->width, image->height, &rw, &rh, &x0, &y0);
    if (spec->convert == PRIME_CONVERT_LAST && image->source == SRC_INDEXED)
        return nearest_region(image, rw, rh, x0, y0, spec->width, spec->height, dst);
    if (spec->convert == PRIME_CONVERT_LAST && image->source == SRC_ALPHA &&
        (rw != image->width || rh != image->height))
        return premultiplied_region(image, rw, rh, spec->filter, x0, y0, spec->width,
                                    spec->height, dst);
    return resize_region(image, rw, rh, spec->filter, x0, y0, spec->width, spec->height, dst);
}

prime_status prime_image_transform(const prime_image *image, const prime_image_spec *spec,
                                   prime_image **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (out == NULL || image == NULL || spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_transform: NULL argument");
    *out = NULL;
    prime_image *im = NULL;
    prime_status st = image_alloc(spec->width, spec->height, &im);
    if (st != PRIME_OK)
        return st;
    st = transform_into(image, spec, im->px);
    if (st != PRIME_OK) {
        prime_image_destroy(im);
        return st;
    }
    *out = im;
    return PRIME_OK;
}

/* 8-bit RGB (w x h) to normalised CHW floats, computed as torchvision does
 * in float32: (v / 255 - mean) / std. */
static void normalise(const uint8_t *px, uint32_t w, uint32_t h, const prime_image_spec *spec,
                      float *out)
{
    float lut[3][256];
    for (int c = 0; c < 3; c++) {
        float m = (float)spec->mean[c], sd = (float)spec->std[c];
        for (int v = 0; v < 256; v++) {
            float x = (float)v / 255.0f;
            lut[c][v] = (x - m) / sd;
        }
    }
    size_t plane = (size_t)w * h;
    for (size_t i = 0; i < plane; i++) {
        out[i] = lut[0][px[3 * i + 0]];
        out[plane + i] = lut[1][px[3 * i + 1]];
        out[2 * plane + i] = lut[2][px[3 * i + 2]];
    }
}

static prime_status preprocess_into(const prime_image *image, const prime_image_spec *spec,
                                    float *out)
{
    uint8_t *px = prime__malloc((size_t)spec->width * spec->height * 3);
    if (px == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory preprocessing an image");
    prime_status st = transform_into(image, spec, px);
    if (st == PRIME_OK)
        normalise(px, spec->width, spec->height, spec, out);
    prime__free(px);
    return st;
}

prime_status prime_image_preprocess(const prime_image *image, const prime_image_spec *spec,
                                    float *buf, size_t cap, size_t *needed_out)
{
    if (image == NULL || spec == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_preprocess: NULL argument");
    size_t n = (size_t)spec->width * spec->height * 3;
    if (needed_out != NULL)
        *needed_out = n;
    if (buf == NULL || cap < n)
        return prime__error(PRIME_E_BUFFER_TOO_SMALL,
                            "prime_image_preprocess: %zu floats needed, %zu given", n, cap);
    return preprocess_into(image, spec, buf);
}

/* ---- batches ----------------------------------------------------------------- */

typedef struct {
    const char *const *paths;
    const prime_image_spec *spec;
    prime_image_batch *b;
    atomic_uint_fast32_t next;
} batch_job;

static void batch_one(batch_job *job, uint32_t i)
{
    prime_image_batch *b = job->b;
    size_t slot = (size_t)3 * b->width * b->height;
    float *out = b->tensor + slot * i;
    prime_image *im = NULL;
    prime_status st;
    if (job->paths[i] == NULL)
        st = prime__error(PRIME_E_INVALID_ARG, "image %u: path is NULL", i);
    else
        st = prime_image_load(job->paths[i], job->spec->max_pixels, &im);
    if (st == PRIME_OK) {
        b->src_size[2 * i] = im->width;
        b->src_size[2 * i + 1] = im->height;
        st = preprocess_into(im, job->spec, out);
        if (st != PRIME_OK)
            b->src_size[2 * i] = b->src_size[2 * i + 1] = 0;
        prime_image_destroy(im);
    }
    b->status[i] = st;
    if (st != PRIME_OK) {
        memset(out, 0, slot * sizeof *out);
        const char *msg = prime_last_error();
        b->error[i] = prime__strndup(msg, strlen(msg)); /* NULL (out of memory): "" */
    }
}

static void *batch_worker(void *arg)
{
    batch_job *job = arg;
    for (;;) {
        uint32_t i = (uint32_t)atomic_fetch_add(&job->next, 1);
        if (i >= job->b->n)
            break;
        batch_one(job, i);
    }
    return NULL;
}

void prime_image_batch_destroy(prime_image_batch *batch)
{
    if (batch == NULL)
        return;
    if (batch->error != NULL)
        for (uint32_t i = 0; i < batch->n; i++)
            prime__free(batch->error[i]);
    prime__free(batch->error);
    prime__free(batch->status);
    prime__free(batch->src_size);
    prime__free(batch->tensor);
    prime__free(batch);
}

prime_status prime_image_batch_load(const char *const *paths, uint32_t n,
                                    const prime_image_spec *spec, uint32_t threads,
                                    prime_image_batch **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (out == NULL || spec == NULL || (paths == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_batch_load: NULL argument");
    *out = NULL;
    size_t slot = (size_t)3 * spec->width * spec->height;
    if (n > 0 && slot > SIZE_MAX / sizeof(float) / n)
        return prime__error(PRIME_E_LIMIT, "a batch of %u images of %u x %u is too large", n,
                            spec->width, spec->height);
    prime_image_batch *b = prime__calloc(1, sizeof *b);
    if (b == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory for an image batch");
    b->width = spec->width;
    b->height = spec->height;
    if (n > 0) {
        b->tensor = prime__malloc(slot * n * sizeof(float));
        b->status = prime__calloc(n, sizeof *b->status);
        b->error = prime__calloc(n, sizeof *b->error);
        b->src_size = prime__calloc((size_t)n * 2, sizeof *b->src_size);
        if (b->tensor == NULL || b->status == NULL || b->error == NULL || b->src_size == NULL) {
            prime_image_batch_destroy(b);
            return prime__error(PRIME_E_NOMEM, "out of memory for a batch of %u images", n);
        }
    }
    b->n = n;
    batch_job job = {paths, spec, b, 0};
    atomic_init(&job.next, 0);
    uint32_t nt = threads > 0 ? threads : prime__cpu_count();
    if (nt > n)
        nt = n;
    if (nt > 1024)
        nt = 1024;
    pthread_t tid[1024];
    uint32_t started = 0;
    /* the calling thread is one of the workers; if a thread cannot start,
       the others do its share */
    for (uint32_t t = 1; t < nt; t++) {
        if (pthread_create(&tid[started], NULL, batch_worker, &job) != 0)
            break;
        started++;
    }
    batch_worker(&job);
    for (uint32_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    for (uint32_t i = 0; i < n; i++)
        if (b->status[i] != PRIME_OK)
            b->failed++;
    *out = b;
    return PRIME_OK;
}

uint32_t prime_image_batch_count(const prime_image_batch *batch)
{
    return batch != NULL ? batch->n : 0;
}

uint32_t prime_image_batch_failed_count(const prime_image_batch *batch)
{
    return batch != NULL ? batch->failed : 0;
}

prime_status prime_image_batch_status(const prime_image_batch *batch, uint32_t i)
{
    if (batch == NULL || i >= batch->n)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_batch_status: no image %u", i);
    return batch->status[i];
}

const char *prime_image_batch_error(const prime_image_batch *batch, uint32_t i)
{
    if (batch == NULL || i >= batch->n)
        return NULL;
    return batch->error[i] != NULL ? batch->error[i] : "";
}

prime_status prime_image_batch_source_size(const prime_image_batch *batch, uint32_t i,
                                           uint32_t *width_out, uint32_t *height_out)
{
    if (batch == NULL || i >= batch->n)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_batch_source_size: no image %u", i);
    if (width_out != NULL)
        *width_out = batch->src_size[2 * i];
    if (height_out != NULL)
        *height_out = batch->src_size[2 * i + 1];
    return PRIME_OK;
}

const float *prime_image_batch_tensor(const prime_image_batch *batch)
{
    return batch != NULL ? batch->tensor : NULL;
}

prime_status prime_image_batch_copy_tensor(const prime_image_batch *batch, float *buf,
                                           size_t cap, size_t *needed_out)
{
    if (batch == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_batch_copy_tensor: batch is NULL");
    size_t n = (size_t)batch->n * 3 * batch->width * batch->height;
    if (needed_out != NULL)
        *needed_out = n;
    if (cap < n || (buf == NULL && n > 0))
        return prime__error(PRIME_E_BUFFER_TOO_SMALL,
                            "prime_image_batch_copy_tensor: %zu floats needed, %zu given", n, cap);
    if (n > 0)
        memcpy(buf, batch->tensor, n * sizeof(float));
    return PRIME_OK;
}

/* ---- measured properties ------------------------------------------------------ */

static const char *const property_names[PRIME_IMAGE_PROP_COUNT] = {
    "brightness", "contrast", "saturation", "colorfulness", "sharpness",
    "noise", "gray_fraction", "aspect", "dominant_color", "dominant_share",
};

static const char *const color_names[PRIME_IMAGE_COLOR_COUNT] = {
    "black", "white", "gray", "red", "orange", "yellow", "green", "cyan", "blue", "purple",
    "pink",
};

const char *prime_image_property_name(int32_t property)
{
    return property >= 0 && property < PRIME_IMAGE_PROP_COUNT ? property_names[property] : NULL;
}

const char *prime_image_color_name(int32_t color)
{
    return color >= 0 && color < PRIME_IMAGE_COLOR_COUNT ? color_names[color] : NULL;
}

static int color_of(int r, int g, int b)
{
    int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
    int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
    double v = mx / 255.0, sat = mx > 0 ? (double)(mx - mn) / mx : 0.0;
    if (v < 0.2)
        return PRIME_IMAGE_COLOR_BLACK;
    if (sat < 0.15)
        return v > 0.85 ? PRIME_IMAGE_COLOR_WHITE : PRIME_IMAGE_COLOR_GRAY;
    double d = mx - mn, h;
    if (mx == r)
        h = 60.0 * fmod((g - b) / d + 6.0, 6.0);
    else if (mx == g)
        h = 60.0 * ((b - r) / d + 2.0);
    else
        h = 60.0 * ((r - g) / d + 4.0);
    if (h < 15 || h >= 345)
        return PRIME_IMAGE_COLOR_RED;
    if (h < 45)
        return PRIME_IMAGE_COLOR_ORANGE;
    if (h < 70)
        return PRIME_IMAGE_COLOR_YELLOW;
    if (h < 165)
        return PRIME_IMAGE_COLOR_GREEN;
    if (h < 195)
        return PRIME_IMAGE_COLOR_CYAN;
    if (h < 255)
        return PRIME_IMAGE_COLOR_BLUE;
    if (h < 290)
        return PRIME_IMAGE_COLOR_PURPLE;
    return PRIME_IMAGE_COLOR_PINK;
}

prime_status prime_image_measure(const prime_image *image, double *values, uint32_t cap,
                                 uint32_t *n_out)
{
    if (image == NULL || (values == NULL && cap > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_measure: NULL argument");
    const uint32_t w = image->width, h = image->height;
    const size_t np = (size_t)w * h;
    double *luma = prime__malloc(np * sizeof *luma);
    if (luma == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory measuring a %u x %u image", w, h);
    double v[PRIME_IMAGE_PROP_COUNT] = {0};
    double sum_y = 0, sum_y2 = 0, sum_s = 0, s_rg = 0, s_rg2 = 0, s_yb = 0, s_yb2 = 0;
    uint64_t gray = 0, colors[PRIME_IMAGE_COLOR_COUNT] = {0};
    for (size_t i = 0; i < np; i++) {
        int r = image->px[3 * i], g = image->px[3 * i + 1], b = image->px[3 * i + 2];
        double y = (0.299 * r + 0.587 * g + 0.114 * b) / 255.0;
        luma[i] = y;
        sum_y += y;
        sum_y2 += y * y;
        int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
        int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
        if (mx > 0)
            sum_s += (double)(mx - mn) / mx;
        if (mx - mn <= 8)
            gray++;
        double rg = (r - g) / 255.0, yb = (0.5 * (r + g) - b) / 255.0;
        s_rg += rg;
        s_rg2 += rg * rg;
        s_yb += yb;
        s_yb2 += yb * yb;
        colors[color_of(r, g, b)]++;
    }
    double n = (double)np;
    double mean_y = sum_y / n;
    v[PRIME_IMAGE_PROP_BRIGHTNESS] = mean_y;
    v[PRIME_IMAGE_PROP_CONTRAST] = sqrt(fmax(0.0, sum_y2 / n - mean_y * mean_y));
    v[PRIME_IMAGE_PROP_SATURATION] = sum_s / n;
    double m_rg = s_rg / n, m_yb = s_yb / n;
    double var_rg = fmax(0.0, s_rg2 / n - m_rg * m_rg), var_yb = fmax(0.0, s_yb2 / n - m_yb * m_yb);
    v[PRIME_IMAGE_PROP_COLORFULNESS] =
        sqrt(var_rg + var_yb) + 0.3 * sqrt(m_rg * m_rg + m_yb * m_yb);
    if (w >= 3 && h >= 3) {
        double s1 = 0, s2 = 0, noise = 0;
        for (uint32_t y = 1; y + 1 < h; y++)
            for (uint32_t x = 1; x + 1 < w; x++) {
                const double *c = luma + (size_t)y * w + x, *up = c - w, *dn = c + w;
                double lap = up[0] + dn[0] + c[-1] + c[1] - 4 * c[0];
                s1 += lap;
                s2 += lap * lap;
                noise += fabs(up[-1] - 2 * up[0] + up[1] - 2 * c[-1] + 4 * c[0] - 2 * c[1] +
                              dn[-1] - 2 * dn[0] + dn[1]);
            }
        double m = (double)(w - 2) * (double)(h - 2);
        v[PRIME_IMAGE_PROP_SHARPNESS] = fmax(0.0, s2 / m - (s1 / m) * (s1 / m));
        v[PRIME_IMAGE_PROP_NOISE] = sqrt(M_PI / 2.0) * noise / (6.0 * m);
    }
    v[PRIME_IMAGE_PROP_GRAY_FRACTION] = (double)gray / n;
    v[PRIME_IMAGE_PROP_ASPECT] = (double)w / h;
    int best = 0;
    for (int c = 1; c < PRIME_IMAGE_COLOR_COUNT; c++)
        if (colors[c] > colors[best])
            best = c;
    v[PRIME_IMAGE_PROP_DOMINANT_COLOR] = best;
    v[PRIME_IMAGE_PROP_DOMINANT_SHARE] = (double)colors[best] / n;
    prime__free(luma);
    for (uint32_t i = 0; i < cap && i < PRIME_IMAGE_PROP_COUNT; i++)
        values[i] = v[i];
    if (n_out != NULL)
        *n_out = PRIME_IMAGE_PROP_COUNT;
    return PRIME_OK;
}
