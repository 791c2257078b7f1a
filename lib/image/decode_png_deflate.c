/* PNG decoding with libdeflate (meson option libdeflate): the chunks are
 * read here, the image data (all IDAT chunks, concatenated) is inflated by
 * libdeflate in one call into a buffer of the size the header gives, and
 * the scanlines are unfiltered and converted here. The pixels are those of
 * stb_image and libspng: 8 bits per channel, the high byte of 16-bit
 * samples, grey of 1, 2 or 4 bits scaled to 0..255 (x 255, x 85, x 17),
 * palettes expanded, transparency (tRNS) and gamma ignored.
 *
 * It decodes the common case and nothing else: any file it does not take
 * exactly as the other decoders would (an unknown critical chunk, a chunk
 * out of order, a palette index past the palette, a zlib stream that gives
 * more or fewer bytes than the image needs or fails its Adler-32 check, a
 * bad filter type, RGBA asked of a file without an alpha channel) makes it
 * return false, and the next decoder (libspng, then stb_image) decides as
 * without it. Chunk CRCs are not checked, as stb_image does not check them
 * (a file with a bad CRC decodes to stb_image's pixels either way).
 *
 * One known exception, by libdeflate's design: it decodes some streams that
 * are not valid DEFLATE, which zlib and stb_image refuse (it gives a
 * one-symbol code both codewords, lets the last run of code lengths run
 * over, reads length symbols 286-287 as 258 and distance symbols 30-31).
 * Such a stream must still inflate to exactly the image's size and match
 * its Adler-32, so only a crafted file gets here; it decodes in a build
 * with libdeflate and is refused without (docs/images.md). Telling them
 * apart would take a second inflate. */
#include <libdeflate.h>
#include <string.h>

#include "image/image_private.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The IHDR fields and what follows from them. */
typedef struct {
    uint32_t w, h;
    unsigned depth, ctype, interlace;
    unsigned channels; /* samples per pixel in the file */
    unsigned bpp;      /* bytes per complete pixel, at least 1 (the filters' step) */
    const unsigned char *plte;
    unsigned plte_n;
} png_info;

/* Bytes of one scanline of `width` pixels, without the filter byte. */
static uint64_t row_bytes(const png_info *p, uint64_t width)
{
    return (width * p->channels * p->depth + 7) / 8;
}

/* Adam7: pass k's first column and row, and their steps. */
static const uint8_t A7_X0[7] = {0, 4, 0, 2, 0, 1, 0}, A7_DX[7] = {8, 8, 4, 4, 2, 2, 1};
static const uint8_t A7_Y0[7] = {0, 0, 4, 0, 2, 0, 1}, A7_DY[7] = {8, 8, 8, 4, 4, 2, 2};

static uint32_t pass_extent(uint32_t size, unsigned first, unsigned step)
{
    return size > first ? (size - first + step - 1) / step : 0;
}

static inline uint8_t paeth(int a, int b, int c)
{
    int p = a + b - c;
    int pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p, pc = p > c ? p - c : c - p;
    if (pa <= pb && pa <= pc)
        return (uint8_t)a;
    return (uint8_t)(pb <= pc ? b : c);
}

#if defined(__SSE2__)
/* Paeth for pixels of 1 to 4 bytes and Average for 3 or 4 with SSE2, a
 * pixel at a time in 16-bit lanes (the way of libpng's
 * filter_sse2_intrinsics.c; libpng leaves 1 and 2 bytes to its scalar
 * loop, whose branches cost more here: a grey + alpha photo's Paeth rows
 * took 1.6x as long): the same bytes as the scalar loops. */
#include <emmintrin.h>

/* 4 bytes at p (of which the pixel's bpp count) when `four` (the bytes are
 * in the row), else bpp: a 4-byte load avoids a store-forwarding stall */
static inline __m128i load_px(const uint8_t *p, unsigned bpp, bool four)
{
    uint32_t t = 0;
    if (four)
        memcpy(&t, p, 4);
    else
        memcpy(&t, p, bpp);
    return _mm_unpacklo_epi8(_mm_cvtsi32_si128((int)t), _mm_setzero_si128());
}

static inline void store_px(uint8_t *p, __m128i v, unsigned bpp)
{
    uint32_t t = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(v, v));
    memcpy(p, &t, bpp);
}

static inline __m128i abs16(__m128i x)
{
    __m128i neg = _mm_cmplt_epi16(x, _mm_setzero_si128());
    return _mm_sub_epi16(_mm_xor_si128(x, neg), neg);
}

static inline __m128i select16(__m128i c, __m128i t, __m128i e)
{
    return _mm_or_si128(_mm_and_si128(c, t), _mm_andnot_si128(c, e));
}

static inline void paeth_simd(uint8_t *r, const uint8_t *prior, size_t n, unsigned bpp)
{
    __m128i a = _mm_setzero_si128(), c = _mm_setzero_si128();
    for (size_t i = 0; i < n; i += bpp) {
        bool four = i + 4 <= n;
        __m128i b = load_px(prior + i, bpp, four), x = load_px(r + i, bpp, four);
        __m128i pa = _mm_sub_epi16(b, c), pb = _mm_sub_epi16(a, c);
        __m128i pc = abs16(_mm_add_epi16(pa, pb));
        pa = abs16(pa);
        pb = abs16(pb);
        __m128i m = _mm_min_epi16(pc, _mm_min_epi16(pa, pb));
        __m128i best = select16(_mm_cmpeq_epi16(m, pa), a,
                                select16(_mm_cmpeq_epi16(m, pb), b, c));
        a = _mm_add_epi8(x, best); /* (x + best) mod 256 in each low byte, 0 above */
        store_px(r + i, a, bpp);
        c = b;
    }
}

static inline void avg_simd(uint8_t *r, const uint8_t *prior, size_t n, unsigned bpp)
{
    __m128i a = _mm_setzero_si128();
    for (size_t i = 0; i < n; i += bpp) {
        bool four = i + 4 <= n;
        __m128i b = load_px(prior + i, bpp, four), x = load_px(r + i, bpp, four);
        __m128i avg = _mm_srli_epi16(_mm_add_epi16(a, b), 1);
        a = _mm_add_epi8(x, avg);
        store_px(r + i, a, bpp);
    }
}

#if defined(__GNUC__) && !defined(PRIME_NO_TARGET_CLONES)
/* Paeth with SSSE3's pabsw and SSE4.1's pblendvb, where the CPU has them
 * (chosen once per process): the same choice with a shorter chain of
 * dependent instructions from one pixel to the next (each pixel needs the
 * previous one): pa = |b - c| does not depend on a and is computed off
 * the chain, then pb = |a - c|, pc = |(a - c) + (b - c)|, and the
 * predictor is a where pa <= pb and pa <= pc, else b where pb <= pc, else
 * c, as paeth() above. */
#include <pthread.h>
#include <smmintrin.h>
#include <stdlib.h>
#define PNG_SSE41 1
#define SSE41 __attribute__((target("ssse3,sse4.1")))

SSE41 static inline __attribute__((always_inline)) void
paeth_sse41(uint8_t *r, const uint8_t *prior, size_t n, unsigned bpp)
{
    __m128i a = _mm_setzero_si128(), c = _mm_setzero_si128();
    for (size_t i = 0; i < n; i += bpp) {
        bool four = i + 4 <= n;
        __m128i b = load_px(prior + i, bpp, four), x = load_px(r + i, bpp, four);
        __m128i d = _mm_sub_epi16(b, c), pa = _mm_abs_epi16(d);
        __m128i e = _mm_sub_epi16(a, c);
        __m128i pb = _mm_abs_epi16(e), pc = _mm_abs_epi16(_mm_add_epi16(d, e));
        __m128i not_a = _mm_or_si128(_mm_cmpgt_epi16(pa, pb), _mm_cmpgt_epi16(pa, pc));
        __m128i bc = _mm_blendv_epi8(b, c, _mm_cmpgt_epi16(pb, pc));
        a = _mm_add_epi8(x, _mm_blendv_epi8(a, bc, not_a));
        store_px(r + i, a, bpp);
        c = b;
    }
}

SSE41 static void paeth_sse41_3(uint8_t *r, const uint8_t *prior, size_t n)
{
    paeth_sse41(r, prior, n, 3);
}

SSE41 static void paeth_sse41_4(uint8_t *r, const uint8_t *prior, size_t n)
{
    paeth_sse41(r, prior, n, 4);
}

SSE41 static void paeth_sse41_2(uint8_t *r, const uint8_t *prior, size_t n)
{
    paeth_sse41(r, prior, n, 2);
}

SSE41 static void paeth_sse41_1(uint8_t *r, const uint8_t *prior, size_t n)
{
    paeth_sse41(r, prior, n, 1);
}

static bool have_sse41;
static pthread_once_t sse41_once = PTHREAD_ONCE_INIT;

/* PRIME_RESAMPLE_KERNEL=baseline forces the SSE2 copy, as it forces the
   resampling's baseline kernels (the tests run both) */
static void sse41_check(void)
{
    const char *e = getenv("PRIME_RESAMPLE_KERNEL");
    __builtin_cpu_init();
    have_sse41 = __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("sse4.1") &&
                 (e == NULL || strcmp(e, "baseline") != 0);
}
#else
#define PNG_SSE41 0
#endif

/* with bpp a constant, so that the loads and stores are single moves */
static void paeth_simd_bpp(uint8_t *r, const uint8_t *prior, size_t n, unsigned bpp)
{
#if PNG_SSE41
    pthread_once(&sse41_once, sse41_check);
    if (have_sse41) {
        if (bpp == 1)
            paeth_sse41_1(r, prior, n);
        else if (bpp == 2)
            paeth_sse41_2(r, prior, n);
        else if (bpp == 3)
            paeth_sse41_3(r, prior, n);
        else
            paeth_sse41_4(r, prior, n);
        return;
    }
#endif
    if (bpp == 1)
        paeth_simd(r, prior, n, 1);
    else if (bpp == 2)
        paeth_simd(r, prior, n, 2);
    else if (bpp == 3)
        paeth_simd(r, prior, n, 3);
    else
        paeth_simd(r, prior, n, 4);
}

static void avg_simd_bpp(uint8_t *r, const uint8_t *prior, size_t n, unsigned bpp)
{
    if (bpp == 3)
        avg_simd(r, prior, n, 3);
    else
        avg_simd(r, prior, n, 4);
}
#define PNG_SIMD 1
#else
#define PNG_SIMD 0
#endif

/* Unfilter `rows` scanlines of n bytes each (each preceded by its filter
 * byte) in place at raw; false on a filter type above 4. The first row's
 * prior row is zero. */
static bool unfilter(uint8_t *raw, uint32_t rows, size_t n, unsigned bpp)
{
    const uint8_t *prior = NULL;
    for (uint32_t y = 0; y < rows; y++) {
        uint8_t *row = raw + (size_t)y * (n + 1);
        unsigned ft = row[0];
        uint8_t *r = row + 1;
        switch (ft) {
        case 0:
            break;
        case 1:
            for (size_t i = bpp; i < n; i++)
                r[i] = (uint8_t)(r[i] + r[i - bpp]);
            break;
        case 2:
            if (prior != NULL)
                for (size_t i = 0; i < n; i++)
                    r[i] = (uint8_t)(r[i] + prior[i]);
            break;
        case 3:
            if (prior == NULL) {
                for (size_t i = bpp; i < n; i++)
                    r[i] = (uint8_t)(r[i] + (r[i - bpp] >> 1));
            } else if (PNG_SIMD && (bpp == 3 || bpp == 4)) {
#if PNG_SIMD
                avg_simd_bpp(r, prior, n, bpp);
#endif
            } else {
                for (size_t i = 0; i < bpp && i < n; i++)
                    r[i] = (uint8_t)(r[i] + (prior[i] >> 1));
                for (size_t i = bpp; i < n; i++)
                    r[i] = (uint8_t)(r[i] + ((r[i - bpp] + prior[i]) >> 1));
            }
            break;
        case 4:
            if (prior == NULL) { /* Paeth of (a, 0, 0) is a: Sub */
                for (size_t i = bpp; i < n; i++)
                    r[i] = (uint8_t)(r[i] + r[i - bpp]);
            } else if (PNG_SIMD && bpp <= 4) {
#if PNG_SIMD
                paeth_simd_bpp(r, prior, n, bpp);
#endif
            } else {
                for (size_t i = 0; i < bpp && i < n; i++)
                    r[i] = (uint8_t)(r[i] + prior[i]); /* Paeth of (0, b, 0) is b */
                for (size_t i = bpp; i < n; i++)
                    r[i] = (uint8_t)(r[i] + paeth(r[i - bpp], prior[i], prior[i - bpp]));
            }
            break;
        default:
            return false;
        }
        prior = r;
    }
    return true;
}

/* Sample i of an unfiltered row of sub-byte samples (depth 1, 2 or 4). */
static inline unsigned sub_sample(const uint8_t *r, size_t i, unsigned depth)
{
    size_t bit = i * depth;
    return (r[bit >> 3] >> (8 - depth - (bit & 7))) & ((1u << depth) - 1);
}

/* Convert one unfiltered row of n pixels to 8-bit samples, `oc` (3 or 4)
 * to a pixel, pixel x going to out + x * step * oc. false on a palette index
 * past the palette. */
static bool convert_row(const png_info *p, const uint8_t *r, uint32_t n, uint8_t *out,
                        unsigned oc, size_t step)
{
    size_t os = step * oc;
    unsigned d = p->depth;
    switch (p->ctype) {
    case 0: { /* grey */
        if (oc == 2) { /* the 16-bit samples themselves (d is 16) */
            for (uint32_t x = 0; x < n; x++, out += os) {
                uint16_t v = (uint16_t)(r[2 * x] << 8 | r[2 * x + 1]);
                memcpy(out, &v, 2);
            }
        } else if (d == 8) {
            for (uint32_t x = 0; x < n; x++, out += os)
                out[0] = out[1] = out[2] = r[x];
        } else if (d == 16) {
            for (uint32_t x = 0; x < n; x++, out += os)
                out[0] = out[1] = out[2] = r[2 * x];
        } else {
            unsigned scale = d == 1 ? 255 : d == 2 ? 85 : 17;
            for (uint32_t x = 0; x < n; x++, out += os)
                out[0] = out[1] = out[2] = (uint8_t)(sub_sample(r, x, d) * scale);
        }
        break;
    }
    case 2: /* RGB */
        if (d == 8 && os == 3) {
            memcpy(out, r, (size_t)n * 3);
        } else {
            size_t b = d / 8;
            for (uint32_t x = 0; x < n; x++, out += os, r += 3 * b) {
                out[0] = r[0];
                out[1] = r[b];
                out[2] = r[2 * b];
            }
        }
        break;
    case 3: { /* palette */
        const unsigned char *pal = p->plte;
        unsigned pn = p->plte_n;
        for (uint32_t x = 0; x < n; x++, out += os) {
            unsigned i = d == 8 ? r[x] : sub_sample(r, x, d);
            if (i >= pn)
                return false;
            memcpy(out, pal + 3 * i, 3);
        }
        break;
    }
    case 4: { /* grey + alpha */
        size_t b = d / 8;
        for (uint32_t x = 0; x < n; x++, out += os, r += 2 * b) {
            out[0] = out[1] = out[2] = r[0];
            if (oc == 4)
                out[3] = r[b];
        }
        break;
    }
    default: { /* 6: RGBA */
        size_t b = d / 8;
        if (b == 1 && oc == 4 && step == 1) {
            memcpy(out, r, (size_t)n * 4);
            break;
        }
        for (uint32_t x = 0; x < n; x++, out += os, r += 4 * b) {
            out[0] = r[0];
            out[1] = r[b];
            out[2] = r[2 * b];
            if (oc == 4)
                out[3] = r[3 * b];
        }
        break;
    }
    }
    return true;
}

/* The IHDR of the file, checked: false if it is not one this decoder takes
 * exactly as the other decoders do. */
static bool read_ihdr(const unsigned char *d, size_t n, png_info *p)
{
    if (n < 8 + 25 || memcmp(d, "\x89PNG\r\n\x1a\n", 8) != 0 || be32(d + 8) != 13 ||
        memcmp(d + 12, "IHDR", 4) != 0)
        return false;
    const unsigned char *h = d + 16;
    p->w = be32(h);
    p->h = be32(h + 4);
    p->depth = h[8];
    p->ctype = h[9];
    p->interlace = h[12];
    if (p->w == 0 || p->h == 0 || p->w > PRIME_IMAGE_MAX_SIDE || p->h > PRIME_IMAGE_MAX_SIDE ||
        h[10] != 0 || h[11] != 0 || p->interlace > 1)
        return false;
    unsigned dp = p->depth;
    switch (p->ctype) {
    case 0: p->channels = 1; break;
    case 2: p->channels = 3; break;
    case 3: p->channels = 1; break;
    case 4: p->channels = 2; break;
    case 6: p->channels = 4; break;
    default: return false;
    }
    bool ok = p->ctype == 0   ? (dp == 1 || dp == 2 || dp == 4 || dp == 8 || dp == 16)
              : p->ctype == 3 ? (dp == 1 || dp == 2 || dp == 4 || dp == 8)
                              : (dp == 8 || dp == 16);
    if (!ok)
        return false;
    p->bpp = p->channels * dp / 8;
    if (p->bpp == 0)
        p->bpp = 1;
    p->plte = NULL;
    p->plte_n = 0;
    return true;
}

/* Decode to `oc` bytes a pixel: 3 (RGB), 4 (RGBA) or 2 (the samples of a
 * 16-bit grey file, native uint16). */
static bool decode(const unsigned char *d, size_t n, uint32_t w, uint32_t h, unsigned oc,
                   uint8_t **px)
{
    png_info p;
    if (!read_ihdr(d, n, &p) || p.w != w || p.h != h)
        return false; /* disagrees with the header stb_image read: let it decide */
    if (oc == 4 && p.ctype != 4 && p.ctype != 6)
        return false; /* alpha from tRNS: the other decoders' conversions */
    if (oc == 2 && (p.ctype != 0 || p.depth != 16))
        return false;
    /* the chunks: PLTE, IDAT (one run of them), IEND; ancillary ones skipped */
    size_t idat_total = 0;
    bool seen_idat = false, idat_done = false, seen_iend = false;
    size_t i = 8 + 25;
    while (i + 12 <= n) {
        uint32_t len = be32(d + i);
        const unsigned char *t = d + i + 4;
        if (len > n - i - 12)
            return false; /* runs past the end of the file */
        if (memcmp(t, "IEND", 4) == 0) {
            seen_iend = true;
            break;
        }
        if (memcmp(t, "IDAT", 4) == 0) {
            if (idat_done || (p.ctype == 3 && p.plte == NULL))
                return false;
            seen_idat = true;
            idat_total += len;
        } else {
            if (seen_idat)
                idat_done = true;
            if (memcmp(t, "PLTE", 4) == 0) {
                if (p.plte != NULL || seen_idat || len % 3 != 0 || len == 0 || len > 768)
                    return false;
                p.plte = t + 4;
                p.plte_n = len / 3;
            } else if (memcmp(t, "tRNS", 4) == 0) {
                /* ignored, but refused where stb_image refuses it */
                if (seen_idat || p.ctype == 4 || p.ctype == 6 ||
                    (p.ctype == 3 ? p.plte == NULL || len > p.plte_n : len != p.channels * 2))
                    return false;
            } else if (memcmp(t, "IHDR", 4) == 0 || !(t[0] & 0x20)) {
                return false; /* a second IHDR, or an unknown critical chunk */
            }
        }
        i += 12 + (size_t)len;
    }
    if (!seen_iend || !seen_idat)
        return false;
    /* the size of the inflated data */
    uint64_t raw_len = 0;
    if (p.interlace) {
        for (int k = 0; k < 7; k++) {
            uint32_t pw = pass_extent(w, A7_X0[k], A7_DX[k]);
            uint32_t ph = pass_extent(h, A7_Y0[k], A7_DY[k]);
            if (pw > 0 && ph > 0)
                raw_len += (uint64_t)ph * (row_bytes(&p, pw) + 1);
        }
    } else {
        raw_len = (uint64_t)h * (row_bytes(&p, w) + 1);
    }
    uint64_t out_len = (uint64_t)w * h * oc;
    /* deflate expands at most 1032:1; a header announcing more than the
       data can give is not worth the allocation */
    if (raw_len > SIZE_MAX / 2 || out_len > SIZE_MAX / 2 ||
        raw_len > (uint64_t)idat_total * 1032 + 64)
        return false;
    bool ok = false;
    uint8_t *idat = NULL, *raw = NULL, *out = NULL;
    struct libdeflate_decompressor *z = NULL;
    idat = prime__image_scratch_alloc(idat_total ? idat_total : 1);
    /* 8-bit RGB to RGB, RGBA to RGBA, not interlaced: the unfiltered rows
       are the pixels, moved in place over the filter bytes (no second
       buffer of the image's size to fill) */
    bool in_place = !p.interlace && p.depth == 8 &&
                    ((p.ctype == 2 && oc == 3) || (p.ctype == 6 && oc == 4));
    raw = prime__image_scratch_alloc((size_t)raw_len);
    out = in_place ? NULL : prime__image_scratch_alloc((size_t)out_len);
    z = libdeflate_alloc_decompressor();
    if (idat == NULL || raw == NULL || (out == NULL && !in_place) || z == NULL)
        goto done;
    size_t at = 0;
    for (i = 8 + 25; at < idat_total;) {
        uint32_t len = be32(d + i);
        if (memcmp(d + i + 4, "IDAT", 4) == 0) {
            memcpy(idat + at, d + i + 8, len);
            at += len;
        }
        i += 12 + (size_t)len;
    }
    size_t got = 0;
    if (libdeflate_zlib_decompress(z, idat, idat_total, raw, (size_t)raw_len, &got) !=
            LIBDEFLATE_SUCCESS ||
        got != raw_len)
        goto done;
    if (!p.interlace) {
        size_t rb = (size_t)row_bytes(&p, w);
        if (!unfilter(raw, h, rb, p.bpp))
            goto done;
        if (in_place) {
            for (uint32_t y = 0; y < h; y++) /* each row's bytes move left */
                memmove(raw + (size_t)y * rb, raw + (size_t)y * (rb + 1) + 1, rb);
            out = raw;
            raw = NULL;
        }
        for (uint32_t y = 0; y < h && !in_place; y++)
            if (!convert_row(&p, raw + (size_t)y * (rb + 1) + 1, w, out + (size_t)y * w * oc, oc,
                             1))
                goto done;
    } else {
        uint8_t *pass = raw;
        for (int k = 0; k < 7; k++) {
            uint32_t pw = pass_extent(w, A7_X0[k], A7_DX[k]);
            uint32_t ph = pass_extent(h, A7_Y0[k], A7_DY[k]);
            if (pw == 0 || ph == 0)
                continue;
            size_t rb = (size_t)row_bytes(&p, pw);
            if (!unfilter(pass, ph, rb, p.bpp))
                goto done;
            for (uint32_t y = 0; y < ph; y++) {
                size_t oy = (size_t)A7_Y0[k] + (size_t)y * A7_DY[k];
                uint8_t *o = out + (oy * w + A7_X0[k]) * oc;
                if (!convert_row(&p, pass + (size_t)y * (rb + 1) + 1, pw, o, oc, A7_DX[k]))
                    goto done;
            }
            pass += (size_t)ph * (rb + 1);
        }
    }
    *px = out;
    out = NULL;
    ok = true;
done:
    if (z != NULL)
        libdeflate_free_decompressor(z);
    prime__image_scratch_free(idat);
    prime__image_scratch_free(raw);
    prime__image_scratch_free(out);
    return ok;
}

bool prime__image_decode_libdeflate(const unsigned char *d, size_t n, uint32_t w, uint32_t h,
                                    bool rgba, uint8_t **px)
{
    return decode(d, n, w, h, rgba ? 4 : 3, px);
}

bool prime__image_decode_libdeflate_grey16(const unsigned char *d, size_t n, uint32_t w,
                                           uint32_t h, uint16_t **px)
{
    uint8_t *b = NULL;
    if (!decode(d, n, w, h, 2, &b))
        return false;
    *px = (uint16_t *)(void *)b; /* from prime__malloc: aligned for any type */
    return true;
}
