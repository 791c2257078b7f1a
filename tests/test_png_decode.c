/* The libdeflate PNG path (lib/image/decode_png_deflate.c) against the
 * other PNG decoders, on PNGs generated here with zlib: every colour type
 * and bit depth, palettes, tRNS, 16 bits, Adam7, split IDAT chunks and
 * ancillary chunks, with random filter types and data; then the files it
 * must leave to the other decoders (which then decide as before), and
 * broken files (truncated, bad CRC, bad Adler-32, zlib errors, huge
 * dimensions). Suite image. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <zlib.h>

#include "image/image_private.h"
#include "prime/prime.h"

#if PRIME_HAVE_LIBDEFLATE

typedef struct {
    uint8_t *d;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
        cr_assert_not_null(b->d);
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put32(buf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, t, 4);
}

static void chunk(buf *b, const char *type, const uint8_t *data, uint32_t len, bool good_crc)
{
    put32(b, len);
    size_t at = b->n;
    put(b, type, 4);
    if (len > 0)
        put(b, data, len);
    uint32_t crc = (uint32_t)crc32(0L, b->d + at, (uInt)(len + 4));
    put32(b, good_crc ? crc : crc ^ 1u);
}

static uint32_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* What a generated file has. */
typedef struct {
    uint32_t w, h;
    unsigned depth, ctype, interlace;
    int plte_n;     /* palette entries; 0: no PLTE */
    int trns;       /* 0 none, 1 before IDAT, 2 after IDAT */
    int splits;     /* IDAT chunks */
    bool ancillary; /* a tEXt chunk after IHDR */
    bool between;   /* a private chunk between the IDATs */
    bool bad_crc;   /* the IHDR's CRC wrong */
    int filter_max; /* filter types 0 .. filter_max (5 or more: a bad one) */
    int critical;   /* an unknown critical chunk before IDAT */
    long raw_delta; /* image data of this many bytes more (or fewer) */
    bool bad_adler;
} png_case;

static unsigned channels_of(unsigned ctype)
{
    return ctype == 2 ? 3 : ctype == 4 ? 2 : ctype == 6 ? 4 : 1;
}

static size_t raw_bytes(const png_case *c, uint32_t w, uint32_t h)
{
    return (size_t)h * (((size_t)w * channels_of(c->ctype) * c->depth + 7) / 8 + 1);
}

static buf make_png(const png_case *c, uint32_t seed)
{
    rng_state = seed;
    buf b = {NULL, 0, 0};
    put(&b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13];
    ihdr[0] = (uint8_t)(c->w >> 24), ihdr[1] = (uint8_t)(c->w >> 16);
    ihdr[2] = (uint8_t)(c->w >> 8), ihdr[3] = (uint8_t)c->w;
    ihdr[4] = (uint8_t)(c->h >> 24), ihdr[5] = (uint8_t)(c->h >> 16);
    ihdr[6] = (uint8_t)(c->h >> 8), ihdr[7] = (uint8_t)c->h;
    ihdr[8] = (uint8_t)c->depth, ihdr[9] = (uint8_t)c->ctype;
    ihdr[10] = 0, ihdr[11] = 0, ihdr[12] = (uint8_t)c->interlace;
    chunk(&b, "IHDR", ihdr, 13, !c->bad_crc);
    if (c->ancillary)
        chunk(&b, "tEXt", (const uint8_t *)"Comment\0generated", 17, true);
    if (c->plte_n > 0) {
        uint8_t pal[768];
        for (int i = 0; i < 3 * c->plte_n; i++)
            pal[i] = (uint8_t)rnd();
        chunk(&b, "PLTE", pal, (uint32_t)(3 * c->plte_n), true);
    }
    uint8_t trns[256];
    uint32_t trns_len = c->ctype == 3 ? (uint32_t)(c->plte_n > 0 ? c->plte_n : 1)
                                      : 2 * channels_of(c->ctype);
    for (uint32_t i = 0; i < trns_len; i++)
        trns[i] = (uint8_t)rnd();
    if (c->trns == 1)
        chunk(&b, "tRNS", trns, trns_len, true);
    if (c->critical)
        chunk(&b, "ABCD", (const uint8_t *)"x", 1, true);
    /* the filtered scanlines: a random filter type, then random bytes */
    size_t raw_n = 0;
    uint32_t pw[7], ph[7];
    int passes = c->interlace ? 7 : 1;
    for (int k = 0; k < passes; k++) {
        static const unsigned x0[7] = {0, 4, 0, 2, 0, 1, 0}, dx[7] = {8, 8, 4, 4, 2, 2, 1};
        static const unsigned y0[7] = {0, 0, 4, 0, 2, 0, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
        pw[k] = !c->interlace ? c->w : c->w > x0[k] ? (c->w - x0[k] + dx[k] - 1) / dx[k] : 0;
        ph[k] = !c->interlace ? c->h : c->h > y0[k] ? (c->h - y0[k] + dy[k] - 1) / dy[k] : 0;
        if (pw[k] > 0 && ph[k] > 0)
            raw_n += raw_bytes(c, pw[k], ph[k]);
    }
    size_t total = (size_t)((long)raw_n + c->raw_delta);
    uint8_t *raw = malloc(total + 1);
    cr_assert_not_null(raw);
    for (size_t i = 0; i < total; i++)
        raw[i] = (uint8_t)rnd();
    size_t at = 0;
    for (int k = 0; k < passes; k++) {
        if (pw[k] == 0 || ph[k] == 0)
            continue;
        size_t stride = ((size_t)pw[k] * channels_of(c->ctype) * c->depth + 7) / 8 + 1;
        for (uint32_t y = 0; y < ph[k] && at < total; y++, at += stride)
            raw[at] = (uint8_t)(rnd() % (unsigned)(c->filter_max + 1));
    }
    uLongf zn = compressBound((uLong)total);
    uint8_t *z = malloc(zn);
    cr_assert_not_null(z);
    cr_assert_eq(compress2(z, &zn, raw, (uLong)total, 6), Z_OK);
    if (c->bad_adler)
        z[zn - 1] ^= 0x55;
    int splits = c->splits > 0 ? c->splits : 1;
    at = 0;
    for (int s = 0; s < splits; s++) {
        size_t len = s == splits - 1 ? zn - at : zn / (size_t)splits;
        chunk(&b, "IDAT", z + at, (uint32_t)len, true);
        at += len;
        if (c->between && s == 0 && splits > 1)
            chunk(&b, "prIv", (const uint8_t *)"x", 1, true); /* ends the IDAT run */
    }
    if (c->trns == 2)
        chunk(&b, "tRNS", trns, trns_len, true);
    chunk(&b, "IEND", NULL, 0, true);
    free(raw);
    free(z);
    return b;
}

/* The libdeflate path's pixels of the file, or NULL when it leaves it. */
static uint8_t *fast_decode(const buf *b, uint32_t w, uint32_t h, bool rgba)
{
    uint8_t *px = NULL;
    if (!prime__image_decode_libdeflate(b->d, b->n, w, h, rgba, &px))
        return NULL;
    cr_assert_not_null(px);
    return px;
}

static const unsigned depths[][6] = {
    [0] = {1, 2, 4, 8, 16, 0}, [2] = {8, 16, 0}, [3] = {1, 2, 4, 8, 0}, [4] = {8, 16, 0},
    [6] = {8, 16, 0}};
static const uint32_t sizes[][2] = {{1, 1}, {1, 9}, {9, 1}, {7, 5}, {33, 17}, {64, 3}, {5, 40}};

Test(image, png_libdeflate_matches_stb_image_and_libspng)
{
    int cases = 0;
    for (unsigned ctype = 0; ctype <= 6; ctype++) {
        if (ctype == 1 || ctype == 5)
            continue;
        for (int di = 0; depths[ctype][di] != 0; di++)
            for (unsigned il = 0; il < 2; il++)
                for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
                    for (int variant = 0; variant < 3; variant++) {
                        png_case c = {0};
                        c.w = sizes[si][0];
                        c.h = sizes[si][1];
                        c.depth = depths[ctype][di];
                        c.ctype = ctype;
                        c.interlace = il;
                        c.filter_max = 4;
                        c.plte_n = ctype == 3 ? 1 << (c.depth < 8 ? c.depth : 8)
                                   : variant == 2 && ctype != 0 && ctype != 4 ? 7
                                                                             : 0;
                        /* tRNS where a valid file may have it */
                        c.trns = variant == 1 && (ctype == 0 || ctype == 2 || ctype == 3);
                        c.splits = 1 + variant * 2;
                        c.ancillary = variant == 2;
                        c.bad_crc = variant == 1; /* unchecked, as by stb_image */
                        buf b = make_png(&c, (uint32_t)(cases * 7919 + 1));
                        for (int rgba = 0; rgba < 2; rgba++) {
                            if (rgba && ctype != 4 && ctype != 6)
                                continue;
                            unsigned oc = rgba ? 4 : 3;
                            size_t n = (size_t)c.w * c.h * oc;
                            uint8_t *got = fast_decode(&b, c.w, c.h, rgba);
                            cr_assert_not_null(got,
                                               "type %u depth %u interlace %u %ux%u variant %d: "
                                               "left to the other decoders",
                                               ctype, c.depth, il, c.w, c.h, variant);
                            int sw = 0, sh = 0, sc = 0;
                            uint8_t *want = stbi_load_from_memory(b.d, (int)b.n, &sw, &sh, &sc,
                                                                  (int)oc);
                            cr_assert_not_null(want, "stb_image: %s", stbi_failure_reason());
                            cr_assert((uint32_t)sw == c.w && (uint32_t)sh == c.h);
                            cr_assert(memcmp(got, want, n) == 0,
                                      "type %u depth %u interlace %u %ux%u variant %d rgba %d: "
                                      "differs from stb_image",
                                      ctype, c.depth, il, c.w, c.h, variant, rgba);
                            stbi_image_free(want);
#if PRIME_HAVE_SPNG
                            uint8_t *sp = NULL;
                            if (!c.bad_crc) { /* libspng refuses a bad CRC */
                                cr_assert(prime__image_decode_spng(b.d, b.n, c.w, c.h, rgba, &sp),
                                          "libspng refuses type %u depth %u", ctype, c.depth);
                                cr_assert(memcmp(got, sp, n) == 0,
                                          "type %u depth %u interlace %u: differs from libspng",
                                          ctype, c.depth, il);
                                prime__free(sp);
                            }
#endif
                            prime__free(got);
                            cases++;
                        }
                        free(b.d);
                    }
    }
    cr_assert_geq(cases, 15 * 2 * 7 * 3);
}

Test(image, png_libdeflate_grey16_matches_stb_image)
{
    int cases = 0;
    for (unsigned il = 0; il < 2; il++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            png_case c = {.w = sizes[si][0], .h = sizes[si][1], .depth = 16, .ctype = 0,
                          .interlace = il, .filter_max = 4, .splits = 2};
            buf b = make_png(&c, (uint32_t)(si * 31 + il + 5));
            uint16_t *got = NULL;
            cr_assert(prime__image_decode_libdeflate_grey16(b.d, b.n, c.w, c.h, &got),
                      "%ux%u interlace %u", c.w, c.h, il);
            int sw, sh, sc;
            stbi_us *want = stbi_load_16_from_memory(b.d, (int)b.n, &sw, &sh, &sc, 1);
            cr_assert_not_null(want);
            cr_assert(memcmp(got, want, (size_t)c.w * c.h * 2) == 0, "%ux%u interlace %u", c.w,
                      c.h, il);
            stbi_image_free(want);
            prime__free(got);
            free(b.d);
            cases++;
        }
    /* any other colour type or depth: left */
    png_case c = {.w = 5, .h = 4, .depth = 8, .ctype = 0, .filter_max = 4};
    buf b = make_png(&c, 3);
    uint16_t *got = NULL;
    cr_assert(!prime__image_decode_libdeflate_grey16(b.d, b.n, c.w, c.h, &got));
    cr_assert_null(got);
    free(b.d);
    c.ctype = 2;
    c.depth = 16;
    b = make_png(&c, 4);
    cr_assert(!prime__image_decode_libdeflate_grey16(b.d, b.n, c.w, c.h, &got));
    free(b.d);
    cr_assert_eq(cases, 14);
}

/* A file the path must leave (false, nothing allocated) to the decoders
 * after it; the whole load then gives what libspng / stb_image give. */
static void assert_left(const png_case *c, bool rgba, const char *what)
{
    buf b = make_png(c, 4242);
    uint8_t *got = fast_decode(&b, c->w, c->h, rgba);
    cr_assert_null(got, "%s: not left to the other decoders", what);
    /* the full load: no crash, an image or a clear error */
    prime_image *im = NULL;
    prime_status st = prime_image_load_memory(b.d, b.n, "gen.png", 0, &im);
    cr_assert(st == PRIME_OK || (st == PRIME_E_FORMAT && strstr(prime_last_error(), "gen.png")),
              "%s: %s", what, prime_last_error());
    prime_image_destroy(im);
    free(b.d);
}

Test(image, png_libdeflate_leaves_what_it_does_not_take)
{
    png_case base = {.w = 13, .h = 7, .depth = 8, .ctype = 2, .filter_max = 4};
    png_case c = base;
    assert_left(&c, true, "RGBA asked of an RGB file");
    c = base;
    c.critical = 1;
    assert_left(&c, false, "unknown critical chunk");
    c = base;
    c.trns = 2;
    assert_left(&c, false, "tRNS after IDAT");
    c = base;
    c.splits = 3;
    c.between = true;
    assert_left(&c, false, "IDAT chunks not in one run");
    c = base;
    c.ctype = 6;
    c.trns = 1;
    assert_left(&c, false, "tRNS in an RGBA file");
    c = base;
    c.ctype = 3;
    c.plte_n = 3; /* indices up to 255 */
    assert_left(&c, false, "palette index past the palette");
    c = base;
    c.ctype = 3;
    assert_left(&c, false, "palette image without PLTE");
    c = base;
    c.raw_delta = 5;
    assert_left(&c, false, "more image data than the image needs");
    c = base;
    c.raw_delta = -5;
    assert_left(&c, false, "less image data than the image needs");
    c = base;
    c.interlace = 1;
    c.raw_delta = 5;
    assert_left(&c, false, "more image data than an interlaced image needs");
}

Test(image, png_libdeflate_broken_files)
{
    png_case base = {.w = 31, .h = 9, .depth = 8, .ctype = 2, .filter_max = 4};
    /* a bad filter type: left, and the load fails with a clear error */
    png_case c = base;
    c.filter_max = 200;
    buf b = make_png(&c, 7);
    cr_assert_null(fast_decode(&b, c.w, c.h, false));
    prime_image *im = NULL;
    cr_assert_eq(prime_image_load_memory(b.d, b.n, "filter.png", 0, &im), PRIME_E_FORMAT);
    cr_assert_null(im);
    cr_assert(strstr(prime_last_error(), "filter.png") != NULL, "%s", prime_last_error());
    free(b.d);
    /* every truncation: left (no IEND), and the load fails cleanly */
    b = make_png(&base, 8);
    for (size_t n = 0; n < b.n; n++) {
        uint8_t *px = NULL;
        cr_assert(!prime__image_decode_libdeflate(b.d, n, base.w, base.h, false, &px),
                  "truncated at %zu", n);
        cr_assert_null(px);
    }
    /* the zlib stream broken in each byte after its header: never a crash;
       what the path decodes is what stb_image decodes */
    size_t idat = 0;
    for (size_t i = 8; i + 8 <= b.n; i += 12 + ((size_t)b.d[i] << 24 | (size_t)b.d[i + 1] << 16 |
                                                (size_t)b.d[i + 2] << 8 | b.d[i + 3]))
        if (memcmp(b.d + i + 4, "IDAT", 4) == 0)
            idat = i + 8;
    cr_assert_gt(idat, 0);
    int taken = 0, left = 0;
    for (size_t k = idat + 2; k < b.n - 12; k++) {
        uint8_t keep = b.d[k];
        b.d[k] ^= 0xA5;
        uint8_t *got = fast_decode(&b, base.w, base.h, false);
        if (got != NULL) {
            int sw, sh, sc;
            uint8_t *want = stbi_load_from_memory(b.d, (int)b.n, &sw, &sh, &sc, 3);
            cr_assert_not_null(want, "byte %zu: decoded where stb_image refuses", k);
            cr_assert(memcmp(got, want, (size_t)base.w * base.h * 3) == 0, "byte %zu", k);
            stbi_image_free(want);
            prime__free(got);
            taken++;
        } else {
            left++;
        }
        b.d[k] = keep;
    }
    cr_assert_gt(left, 0);
    free(b.d);
    /* a bad Adler-32: left (libdeflate checks it), and the load gives
       stb_image's pixels as before */
    c = base;
    c.bad_adler = true;
    b = make_png(&c, 9);
    cr_assert_null(fast_decode(&b, c.w, c.h, false));
    cr_assert_eq(prime_image_load_memory(b.d, b.n, "adler.png", 0, &im), PRIME_OK, "%s",
                 prime_last_error());
    int sw, sh, sc;
    uint8_t *want = stbi_load_from_memory(b.d, (int)b.n, &sw, &sh, &sc, 3);
    cr_assert_not_null(want);
    uint8_t *px = malloc((size_t)c.w * c.h * 3);
    cr_assert_eq(prime_image_copy_pixels(im, px, (size_t)c.w * c.h * 3, NULL), PRIME_OK);
    cr_assert(memcmp(px, want, (size_t)c.w * c.h * 3) == 0);
    free(px);
    stbi_image_free(want);
    prime_image_destroy(im);
    free(b.d);
    /* huge dimensions: beyond 2^24 a side, or more than the data can
       inflate to: left at once, nothing allocated */
    const uint32_t huge[][2] = {{(1u << 24) + 1, 1}, {1, (1u << 24) + 1}, {40000, 40000},
                                {0, 5}, {5, 0}};
    for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++) {
        c = base;
        c.w = 2;
        c.h = 1;
        b = make_png(&c, 10);
        for (int j = 0; j < 4; j++) { /* the IHDR's width and height */
            b.d[16 + j] = (uint8_t)(huge[k][0] >> (24 - 8 * j));
            b.d[20 + j] = (uint8_t)(huge[k][1] >> (24 - 8 * j));
        }
        cr_assert_null(fast_decode(&b, huge[k][0], huge[k][1], false), "%ux%u", huge[k][0],
                       huge[k][1]);
        free(b.d);
    }
}

#else

Test(image, png_libdeflate_not_built)
{
    /* a build without libdeflate: PNGs go to libspng or stb_image */
    cr_assert_str_neq(prime__image_decoder_name(PRIME_IMAGE_FORMAT_PNG), "libdeflate");
}

#endif
