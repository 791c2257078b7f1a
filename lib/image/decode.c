/* Decoding: the five formats told by their first bytes, the header checks
 * made before a decoder sees a file, and decoding with stb_image
 * into an image handle: libjpeg-turbo and libspng where the build found
 * them (decode_jpeg.c, decode_png.c), stb_image (Debian's libstb) for the
 * other formats and for any file they cannot decode. */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <stb_image.h>

#include "image/image_private.h"

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
            const unsigned char *ff = memchr(d + i, 0xFF, n - i);
            if (ff == NULL)
                return NULL;
            i = (size_t)(ff - d);
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

/* Decode; `name` is never NULL. */
/* ---- PIL's mode of a file ----------------------------------------------------- */

/* true when the n entries of the palette at p (stride bytes each, R G B or,
 * with bgr, B G R first) are the grey ramp (i, i, i): PIL then opens the
 * file as "L", not "P" (GifImagePlugin._is_palette_needed,
 * BmpImagePlugin's greyscale check). */
static bool grey_ramp(const unsigned char *p, size_t n, size_t stride)
{
    for (size_t i = 0; i < n; i++)
        if (p[i * stride] != i || p[i * stride + 1] != i || p[i * stride + 2] != i)
            return false;
    return true;
}

/* The colour model PIL would give the file (SRC_*), where it matters for
 * its resize: "P" and "1" (palette PNG, BMP and TGA files; 1-bit PNG and
 * BMP; GIF: decode_gif.c) are resized with NEAREST, "LA" and "RGBA"
 * premultiplied. */
static int32_t pil_source(int32_t fmt, const unsigned char *d, size_t n)
{
    switch (fmt) {
    case PRIME_IMAGE_FORMAT_PNG: /* IHDR, validated by png_chunks_check */
        if (n >= 26 && memcmp(d + 12, "IHDR", 4) == 0) {
            unsigned depth = d[24], type = d[25];
            if (type == 3 || (type == 0 && depth == 1))
                return SRC_INDEXED;
            if (type == 4 || type == 6)
                return SRC_ALPHA;
            if (type == 0 && depth == 16)
                return SRC_GREY16;
        }
        return SRC_RGB;
    case PRIME_IMAGE_FORMAT_BMP: {
        /* 1, 4 or 8 bits: "P" ("1" for 2 colours), or "L" for a grey ramp */
        if (n < 18 + 4)
            return SRC_RGB;
        uint32_t hsize = le32(d + 14);
        bool core = hsize == 12;
        if (!core && hsize < 40)
            return SRC_RGB;
        if (n < 14 + (size_t)hsize)
            return SRC_RGB;
        unsigned bits = core ? le16(d + 24) : le16(d + 28);
        if (bits != 1 && bits != 4 && bits != 8)
            return SRC_RGB;
        size_t colors = core ? 0 : le32(d + 46);
        if (colors == 0 || colors > ((size_t)1 << bits))
            colors = (size_t)1 << bits;
        size_t stride = core ? 3 : 4;
        const unsigned char *pal = d + 14 + hsize;
        if (bits == 1 || colors == 2 || (size_t)(pal - d) + stride * colors > n)
            return SRC_INDEXED;
        return grey_ramp(pal, colors, stride) ? SRC_RGB : SRC_INDEXED;
    }
    case PRIME_IMAGE_FORMAT_TGA: /* colour-mapped: "P"; 32 bits: "RGBA" */
        if (n >= 18 && (d[2] == 1 || d[2] == 9))
            return SRC_INDEXED;
        if (n >= 18 && (d[2] == 2 || d[2] == 10) && d[16] == 32)
            return SRC_ALPHA;
        return SRC_RGB;
    default:
        return SRC_RGB;
    }
}

/* ---- decoder choice ------------------------------------------------------------ */

/* PRIME_IMAGE_DECODER=stb forces stb_image for every format but GIF
 * (decode_gif.c is the only GIF decoder) (read once): the
 * test suites run once with the optional decoders and once without;
 * PRIME_IMAGE_DECODER=spng leaves the libdeflate PNG path out (libspng, then
 * stb_image), for the benchmark and the tests that compare the two. */
static bool stb_forced, spng_forced;
static pthread_once_t decoder_once = PTHREAD_ONCE_INIT;

static void read_decoder_env(void)
{
    const char *e = getenv("PRIME_IMAGE_DECODER");
    stb_forced = e != NULL && strcmp(e, "stb") == 0;
    spng_forced = e != NULL && strcmp(e, "spng") == 0;
}

const char *prime__image_decoder_name(int32_t format)
{
    pthread_once(&decoder_once, read_decoder_env);
#if PRIME_HAVE_TURBOJPEG
    if (format == PRIME_IMAGE_FORMAT_JPEG && !stb_forced)
        return "libjpeg-turbo";
#endif
#if PRIME_HAVE_LIBDEFLATE
    if (format == PRIME_IMAGE_FORMAT_PNG && !stb_forced && !spng_forced)
        return "libdeflate";
#endif
#if PRIME_HAVE_SPNG
    if (format == PRIME_IMAGE_FORMAT_PNG && !stb_forced)
        return "libspng";
#endif
    if (format == PRIME_IMAGE_FORMAT_GIF)
        return "libprime";
    return "stb_image";
}

/* An optional decoder's pixels (3 channels, or 4 when rgba) of the w x h
 * image of format fmt, at the DCT scale that the draft size asks for
 * (JPEG; 0 x 0: full size): true with *px (prime__malloc) of *ow x *oh;
 * false when there is none for the format or it cannot decode the file
 * (stb_image then decides, as in a build without it). */
static bool decode_optional(int32_t fmt, const unsigned char *d, size_t size, uint32_t w,
                            uint32_t h, bool rgba, uint32_t draft_w, uint32_t draft_h,
                            uint8_t **px, uint32_t *ow, uint32_t *oh)
{
    pthread_once(&decoder_once, read_decoder_env);
    if (stb_forced)
        return false;
#if PRIME_HAVE_TURBOJPEG
    if (fmt == PRIME_IMAGE_FORMAT_JPEG && !rgba)
        return prime__image_decode_turbojpeg(d, size, w, h, draft_w, draft_h, px, ow, oh);
#endif
#if PRIME_HAVE_LIBDEFLATE
    if (fmt == PRIME_IMAGE_FORMAT_PNG && !spng_forced &&
        prime__image_decode_libdeflate(d, size, w, h, rgba, px)) {
        *ow = w;
        *oh = h;
        return true;
    }
#endif
#if PRIME_HAVE_SPNG
    if (fmt == PRIME_IMAGE_FORMAT_PNG && prime__image_decode_spng(d, size, w, h, rgba, px)) {
        *ow = w;
        *oh = h;
        return true;
    }
#endif
    (void)fmt, (void)d, (void)size, (void)w, (void)h, (void)rgba, (void)draft_w,
        (void)draft_h, (void)px, (void)ow, (void)oh;
    return false;
}

/* ---- decoding ------------------------------------------------------------------ */

prime_status prime__image_decode(const void *data, size_t size, const char *name,
                                 uint64_t max_pixels, const prime_image_spec *draft,
                                 prime_image **out)
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
    if (fmt == PRIME_IMAGE_FORMAT_GIF) /* Pillow's first frame (decode_gif.c) */
        return prime__image_decode_gif(d, size, name, max_pixels, out);
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
    /* the mode PIL opens the file in: how it would resize the image before
       its RGB conversion (PRIME_CONVERT_LAST) */
    int32_t source = pil_source(fmt, d, size);
    /* the size the spec resizes this image to, for a JPEG decoded at a
       reduced DCT scale (prime_image_spec_set_jpeg_draft) */
    uint32_t draft_w = 0, draft_h = 0;
    if (draft != NULL && draft->jpeg_draft && fmt == PRIME_IMAGE_FORMAT_JPEG) {
        uint32_t x0, y0;
        prime__image_plan(draft, (uint32_t)w, (uint32_t)h, &draft_w, &draft_h, &x0, &y0);
    }
    uint8_t *fast = NULL;
    uint32_t fw = 0, fh = 0;
    bool stb = !decode_optional(fmt, d, size, (uint32_t)w, (uint32_t)h, source == SRC_ALPHA,
                                draft_w, draft_h, &fast, &fw, &fh);
    int w2 = 0, h2 = 0;
    uint32_t file_w = (uint32_t)w, file_h = (uint32_t)h;
    unsigned char *px = fast;
    if (stb) {
        /* a program may have flipped stb_image's global setting: not here */
        stbi_set_flip_vertically_on_load_thread(0);
        px = stbi_load_from_memory(d, (int)size, &w2, &h2, &comp,
                                   source == SRC_ALPHA ? 4 : 3);
    } else {
        file_w = (uint32_t)w;
        file_h = (uint32_t)h;
        w = (int)fw; /* the DCT-scaled size */
        h = (int)fh;
        w2 = w;
        h2 = h;
    }
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
        stbi_image_free(px); /* (only stb_image's can) */
        prime__free(im);
        return prime__error(PRIME_E_FORMAT, "%s: corrupt %s: size %d x %d, decoded %d x %d",
                            name, format_name(fmt), w, h, w2, h2);
    }
    im->width = (uint32_t)w;
    im->height = (uint32_t)h;
    im->format = fmt;
    im->source = source;
    im->file_width = file_w;
    im->file_height = file_h;
    if (source == SRC_ALPHA && !stb) {
        /* RGBA into an alpha plane and RGB, in place (no second buffer of
           the image's size to fill): pixel i moves from 4i to 3i, after
           its alpha is read; the 4-byte store's last byte lands on 3i + 3,
           before pixel i + 1 at 4i + 4 */
        size_t np = (size_t)w * (size_t)h;
        im->alpha = prime__image_scratch_alloc(np);
        if (im->alpha == NULL) {
            prime__image_scratch_free(px);
            prime_image_destroy(im);
            return prime__error(PRIME_E_NOMEM, "%s: out of memory decoding a %d x %d %s", name,
                                w, h, format_name(fmt));
        }
        uint8_t *alpha = im->alpha;
        for (size_t i = 0; i + 1 < np; i++) {
            uint32_t v;
            memcpy(&v, px + 4 * i, 4);
            alpha[i] = px[4 * i + 3];
            memcpy(px + 3 * i, &v, 4);
        }
        alpha[np - 1] = px[4 * np - 1];
        memmove(px + 3 * (np - 1), px + 4 * (np - 1), 3);
        uint8_t *shrunk = prime__realloc(px, np * 3);
        im->px = shrunk != NULL ? shrunk : px; /* a failed shrink keeps the block */
    } else if (source == SRC_ALPHA) { /* RGBA into RGB and an alpha plane */
        size_t np = (size_t)w * (size_t)h;
        im->px = prime__malloc(np * 3);
        im->alpha = prime__malloc(np);
        if (im->px == NULL || im->alpha == NULL) {
            if (stb)
                stbi_image_free(px);
            else
                prime__free(px);
            prime_image_destroy(im);
            return prime__error(PRIME_E_NOMEM, "%s: out of memory decoding a %d x %d %s", name,
                                w, h, format_name(fmt));
        }
        for (size_t i = 0; i < np; i++) {
            memcpy(im->px + 3 * i, px + 4 * i, 3);
            im->alpha[i] = px[4 * i + 3];
        }
        if (stb)
            stbi_image_free(px);
        else
            prime__free(px);
    } else {
        im->px = px;
        im->stb_owned = stb;
    }
    if (source == SRC_GREY16) {
        /* the 16-bit samples too, for PIL's "I" resize of the CLIP order;
           if stb_image cannot give them, the image is resized as RGB */
        int w3 = 0, h3 = 0, c3 = 0;
        size_t np = (size_t)w * (size_t)h;
#if PRIME_HAVE_LIBDEFLATE
        /* the libdeflate path's samples, the same as stb_image's */
        if (!stb_forced && !spng_forced &&
            prime__image_decode_libdeflate_grey16(d, size, (uint32_t)w, (uint32_t)h,
                                                  &im->grey16)) {
            *out = im;
            return PRIME_OK;
        }
#endif
        stbi_us *g = stbi_load_16_from_memory(d, (int)size, &w3, &h3, &c3, 1);
        if (g != NULL && w3 == w && h3 == h)
            im->grey16 = prime__malloc(np * sizeof *im->grey16);
        if (im->grey16 != NULL)
            memcpy(im->grey16, g, np * sizeof *im->grey16);
        stbi_image_free(g);
        if (im->grey16 == NULL) {
            if (g != NULL && w3 == w && h3 == h) { /* only prime__malloc failed */
                prime_image_destroy(im);
                return prime__error(PRIME_E_NOMEM, "%s: out of memory decoding a %d x %d %s",
                                    name, w, h, format_name(fmt));
            }
            im->source = SRC_RGB;
        }
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
    return prime__image_decode(data, size, name, max_pixels, NULL, out);
}

prime_status prime_image_load(const char *path, uint64_t max_pixels, prime_image **out)
{
    return prime__image_load_file(path, max_pixels, NULL, out);
}

prime_status prime__image_load_file(const char *path, uint64_t max_pixels,
                                    const prime_image_spec *draft, prime_image **out)
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
    st = prime__image_decode(data, size, path, max_pixels, draft, out);
    prime__free(data);
    return st;
}
