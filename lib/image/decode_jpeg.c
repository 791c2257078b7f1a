/* JPEG decoding with libjpeg-turbo's TurboJPEG API (meson option
 * turbojpeg): the IDCT and chroma upsampling of PIL, which decodes with the
 * same library, and PIL's draft (decoding at a reduced DCT scale).
 *
 * With libjpeg-turbo's libjpeg API as well (PRIME_HAVE_LIBJPEG: the same
 * library's jpeglib.h, found with it), a progressive JPEG drafted at 1/8
 * skips the work the result cannot depend on: at that scale libjpeg-turbo
 * reconstructs each 8x8 block of a component whose DCT scaled size is 1
 * (every component of a 4:4:4 or 4:2:2 file, the luma of a 4:2:0 one) from
 * its DC coefficient alone (jpeg_idct_1x1), so the AC scans of those
 * components (most of the file's entropy-coded data, and the slowest part
 * of its decoding) are left out of the stream the library decodes. The
 * pixels are the full decode's, bit for bit: see dc_only_draft. */
#include <string.h>

#include <turbojpeg.h>

#include "image/image_private.h"

#if PRIME_HAVE_LIBJPEG
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE */

#include <jpeglib.h>

/* ---- the DC-only draft of a progressive JPEG ----------------------------------- */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    bool warned;
} dc_err;

static void dc_error_exit(j_common_ptr c)
{
    longjmp(((dc_err *)c->err)->jump, 1);
}

static void dc_emit_message(j_common_ptr c, int level)
{
    if (level < 0) /* a warning: TurboJPEG reports it as a failure */
        ((dc_err *)c->err)->warned = true;
}

static void dc_output_message(j_common_ptr c)
{
    (void)c; /* the library never prints */
}

static uint32_t be16(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

/* The end of the entropy-coded data that starts at i: the first byte of the
 * 0xFF run of the next marker that is neither a stuffed zero nor RSTn (as
 * libjpeg's next_marker reads it), or n. */
static size_t entropy_end(const unsigned char *d, size_t n, size_t i)
{
    for (;;) {
        const unsigned char *p = memchr(d + i, 0xFF, n - i);
        if (p == NULL)
            return n;
        size_t at = (size_t)(p - d), j = at;
        while (j < n && d[j] == 0xFF)
            j++;
        if (j >= n)
            return n;
        if (d[j] != 0x00 && !(d[j] >= 0xD0 && d[j] <= 0xD7))
            return at;
        i = j + 1;
    }
}

/* One segment of a JPEG's marker walk (jpeg_next_segment). */
typedef struct {
    size_t at;              /* the offset of its marker's 0xFF */
    unsigned m;             /* the marker code */
    const unsigned char *p; /* the payload (after the length) */
    size_t len;             /* the payload's length */
    size_t end;             /* SOS: the end of the entropy-coded data after
                               its header (entropy_end); else at + 2 + the
                               length field */
} jpeg_seg;

enum { SEG_OK, SEG_EOI, SEG_END, SEG_BAD };

/* The marker walk of both the scan-script check (dc_only_draft) and the own
 * DC decoder (dc_decode_own), from *i (2: after SOI): 0xFF fill bytes are
 * skipped, RSTn and TEM (no length) stepped over. Returns SEG_OK with the
 * next segment in *s and *i moved past it (past an SOS's entropy-coded data
 * too), SEG_EOI at EOI (*i at it), SEG_END when fewer than 2 bytes are left
 * without an EOI, SEG_BAD where a byte other than 0xFF stands where a
 * marker must, or a length field is missing, below 2, or runs past the end
 * of the data. */
static int jpeg_next_segment(const unsigned char *d, size_t n, size_t *i, jpeg_seg *s)
{
    while (*i + 2 <= n) {
        if (d[*i] != 0xFF)
            return SEG_BAD;
        unsigned m = d[*i + 1];
        if (m == 0xFF) {
            (*i)++;
            continue;
        }
        if (m == 0xD9)
            return SEG_EOI;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
            *i += 2;
            continue;
        }
        if (*i + 4 > n)
            return SEG_BAD;
        size_t len = be16(d + *i + 2);
        if (len < 2 || *i + 2 + len > n)
            return SEG_BAD;
        s->at = *i;
        s->m = m;
        s->p = d + *i + 4;
        s->len = len - 2;
        s->end = m == 0xDA ? entropy_end(d, n, *i + 2 + len) : *i + 2 + len;
        *i = s->end;
        return SEG_OK;
    }
    return SEG_END;
}


/* ---- the DC scans decoded here ------------------------------------------------- */

/* What the own DC decoder needs of the header (copied before
   jpeg_abort_decompress frees libjpeg's copy). */
typedef struct {
    int nc, ids[4], hs[4], vs[4], q0[4];
    int max_h, max_v;
    bool grey; /* else YCbCr */
} dc_frame;

/* A DC Huffman table (class 0), as jdhuff.c's jpeg_make_d_derived_tbl
   builds it: maxcode/valoffset per code length, and a 9-bit lookahead. */
#define DC_LOOK 9
typedef struct {
    bool defined;
    int32_t maxcode[18];
    int32_t valoffset[17];
    uint8_t huffval[256];
    uint8_t look_len[1 << DC_LOOK], look_sym[1 << DC_LOOK];
} dc_table;

/* Build from a DHT table's bits (16 counts) and values; false where libjpeg
   would refuse it (more than 256 codes, a code that overflows its length, a
   DC symbol above 15) or the symbols exceed what 8-bit DC needs (11). */
static bool dc_table_build(dc_table *t, const unsigned char *bits, const unsigned char *vals,
                           int count)
{
    int huffsize[257], huffcode[257], p = 0;
    for (int l = 1; l <= 16; l++)
        for (int i = 0; i < bits[l - 1]; i++)
            huffsize[p++] = l;
    huffsize[p] = 0;
    int code = 0, si = huffsize[0];
    p = 0;
    while (huffsize[p]) {
        while (huffsize[p] == si)
            huffcode[p++] = code++;
        if (code >= (1 << si))
            return false;
        code <<= 1;
        si++;
    }
    p = 0;
    for (int l = 1; l <= 16; l++) {
        if (bits[l - 1]) {
            t->valoffset[l] = p - huffcode[p];
            p += bits[l - 1];
            t->maxcode[l] = huffcode[p - 1];
        } else {
            t->maxcode[l] = -1;
        }
    }
    t->maxcode[17] = 0x7FFFFFFF;
    for (int i = 0; i < count; i++) {
        if (vals[i] > 11)
            return false;
        t->huffval[i] = vals[i];
    }
    memset(t->look_len, 0, sizeof t->look_len);
    p = 0;
    for (int l = 1; l <= DC_LOOK; l++)
        for (int i = 1; i <= bits[l - 1]; i++, p++) {
            int lookbits = huffcode[p] << (DC_LOOK - l);
            for (int ctr = 1 << (DC_LOOK - l); ctr > 0; ctr--) {
                t->look_len[lookbits] = (uint8_t)l;
                t->look_sym[lookbits] = t->huffval[p];
                lookbits++;
            }
        }
    t->defined = true;
    return true;
}

/* The entropy-coded bits of one scan: bytes [pos, end) with 0xFF 0x00
   stuffing; a marker (or end) gives no more bits. */
typedef struct {
    const unsigned char *d;
    size_t pos, end;
    uint64_t buf;
    int bits;
    int zeros; /* zero bits padded past the data (only peeked, never used) */
} dc_bits;

static void dc_fill(dc_bits *b)
{
    while (b->bits <= 56) {
        unsigned c = 0;
        if (b->pos < b->end && b->d[b->pos] != 0xFF) {
            c = b->d[b->pos++];
        } else if (b->pos + 1 < b->end && b->d[b->pos] == 0xFF && b->d[b->pos + 1] == 0x00) {
            c = 0xFF;
            b->pos += 2;
        } else {
            b->zeros += 8; /* at a marker or the end */
        }
        b->buf |= (uint64_t)c << (56 - b->bits);
        b->bits += 8;
    }
}

/* n (1..16) bits; false when they run past the data */
static bool dc_get(dc_bits *b, int n, int *v)
{
    if (b->bits < n)
        dc_fill(b);
    if (n > b->bits - b->zeros)
        return false;
    *v = (int)(b->buf >> (64 - n));
    b->buf <<= n;
    b->bits -= n;
    return true;
}

static bool dc_decode_sym(dc_bits *b, const dc_table *t, int *sym)
{
    if (b->bits < 16)
        dc_fill(b);
    int look = (int)(b->buf >> (64 - DC_LOOK));
    int l = t->look_len[look];
    if (l != 0) {
        if (l > b->bits - b->zeros)
            return false;
        *sym = t->look_sym[look];
        b->buf <<= l;
        b->bits -= l;
        return true;
    }
    int code = (int)(b->buf >> (64 - DC_LOOK));
    l = DC_LOOK;
    while (l <= 16 && code > t->maxcode[l]) {
        code = (int)(b->buf >> (63 - l));
        l++;
    }
    if (l > 16 || l > b->bits - b->zeros)
        return false; /* a bad code, or past the data: libjpeg warns */
    *sym = t->huffval[(t->valoffset[l] + code) & 0xFF];
    b->buf <<= l;
    b->bits -= l;
    return true;
}

/* The bytes left in the scan after the bits decoded: none (the last byte's
   padding aside), as libjpeg needs to see no extraneous data. */
static bool dc_at_end(const dc_bits *b)
{
    int unread = b->bits - b->zeros; /* bits fetched but not used */
    return unread < 8 && b->pos >= b->end;
}

/* The DC scans of a progressive file all of whose components are DC-only
   at 1/8, decoded as jdphuff.c's decode_mcu_DC_first / DC_refine do, then
   jpeg_idct_1x1, replication (int_upsample: no fancy upsampling at 1/8)
   and YCbCr -> RGB (jdcolor.c's tables) into out (ow x oh RGB). false on
   anything this decoder does not take or where libjpeg would warn (the
   caller then lets libjpeg decode the reduced stream). */
static bool dc_decode_own(const unsigned char *d, size_t n, uint32_t w, uint32_t h,
                          const dc_frame *f, uint32_t ow, uint32_t oh, uint8_t *out)
{
    int mcux = (int)((w + 8 * (uint32_t)f->max_h - 1) / (8 * (uint32_t)f->max_h));
    int mcuy = (int)((h + 8 * (uint32_t)f->max_v - 1) / (8 * (uint32_t)f->max_v));
    size_t bw[4], bh[4]; /* the padded block grid of each component */
    int16_t *coef[4] = {NULL, NULL, NULL, NULL};
    dc_table *tabs = prime__calloc(4, sizeof *tabs);
    bool ok = tabs != NULL;
    for (int c = 0; c < f->nc && ok; c++) {
        bw[c] = (size_t)mcux * (size_t)f->hs[c];
        bh[c] = (size_t)mcuy * (size_t)f->vs[c];
        coef[c] = prime__calloc(bw[c] * bh[c], sizeof(int16_t));
        ok = coef[c] != NULL;
    }
    unsigned restart = 0;
    bool seen_sos = false, eoi = false;
    size_t i = 2;
    jpeg_seg seg;
    while (ok) {
        int got = jpeg_next_segment(d, n, &i, &seg);
        if (got != SEG_OK) {
            eoi = got == SEG_EOI;
            ok = got != SEG_BAD;
            break;
        }
        unsigned m = seg.m;
        const unsigned char *sg = seg.p;
        size_t sl = seg.len;
        if (m == 0xDB && seen_sos) {
            ok = false; /* a quantisation table redefined between scans */
        } else if (m == 0xDD) {
            ok = sl == 2;
            if (ok)
                restart = be16(sg);
        } else if (m == 0xC4) {
            size_t j = 0;
            while (ok && j < sl) {
                if (j + 17 > sl) {
                    ok = false;
                    break;
                }
                unsigned tc = sg[j] >> 4, th = sg[j] & 15;
                int count = 0;
                for (int k = 0; k < 16; k++)
                    count += sg[j + 1 + k];
                if (count > 256 || j + 17 + (size_t)count > sl || th > 3 || tc > 1) {
                    ok = false;
                    break;
                }
                if (tc == 0)
                    ok = dc_table_build(&tabs[th], sg + j + 1, sg + j + 17, count);
                j += 17 + (size_t)count;
            }
        } else if (m == 0xDA) {
            seen_sos = true;
            unsigned ns = sg[0];
            unsigned ss = sg[1 + 2 * ns], ah = sg[3 + 2 * ns] >> 4, al = sg[3 + 2 * ns] & 15;
            size_t end = seg.end;
            if (ss != 0) /* an AC scan: not needed */
                continue;
            int comp[4];
            const dc_table *tab[4];
            for (unsigned k = 0; k < ns && ok; k++) {
                comp[k] = -1;
                for (int c = 0; c < f->nc; c++)
                    if (f->ids[c] == sg[1 + 2 * k])
                        comp[k] = c;
                unsigned td = sg[2 + 2 * k] >> 4;
                ok = comp[k] >= 0 && td <= 3 && (ah != 0 || tabs[td].defined);
                tab[k] = ok ? &tabs[td] : NULL;
            }
            if (!ok)
                break;
            dc_bits b = {d, (size_t)(sg - d) + sl, end, 0, 0, 0};
            int last[4] = {0, 0, 0, 0};
            /* the MCUs: interleaved (each component's h x v blocks), or
               one component's blocks in its own (unpadded) grid */
            size_t units;
            int c0 = comp[0];
            size_t cbw = 0;
            if (ns == 1) {
                uint64_t cw = ((uint64_t)w * (uint64_t)f->hs[c0] + (uint64_t)f->max_h - 1) /
                              (uint64_t)f->max_h;
                uint64_t ch = ((uint64_t)h * (uint64_t)f->vs[c0] + (uint64_t)f->max_v - 1) /
                              (uint64_t)f->max_v;
                cbw = (size_t)((cw + 7) / 8);
                units = cbw * (size_t)((ch + 7) / 8);
            } else {
                units = (size_t)mcux * (size_t)mcuy;
            }
            unsigned togo = restart, rst = 0;
            for (size_t u = 0; u < units && ok; u++) {
                if (restart != 0 && u > 0 && togo == 0) {
                    /* the restart marker must follow the padding directly */
                    ok = b.bits - b.zeros < 8 && b.pos + 1 < end && d[b.pos] == 0xFF &&
                         d[b.pos + 1] == 0xD0 + (rst & 7);
                    if (!ok)
                        break;
                    b.pos += 2;
                    b.buf = 0;
                    b.bits = b.zeros = 0;
                    rst++;
                    togo = restart;
                    for (int k = 0; k < 4; k++)
                        last[k] = 0;
                }
                if (restart != 0)
                    togo--;
                for (unsigned k = 0; k < ns && ok; k++) {
                    int c = comp[k];
                    int hb = ns == 1 ? 1 : f->hs[c], vb = ns == 1 ? 1 : f->vs[c];
                    for (int by = 0; by < vb && ok; by++)
                        for (int bx = 0; bx < hb && ok; bx++) {
                            size_t x, y;
                            if (ns == 1) {
                                x = u % cbw;
                                y = u / cbw;
                            } else {
                                x = (u % (size_t)mcux) * (size_t)hb + (size_t)bx;
                                y = (u / (size_t)mcux) * (size_t)vb + (size_t)by;
                            }
                            int16_t *cf = &coef[c][y * bw[c] + x];
                            if (ah == 0) {
                                int sym = 0, r = 0;
                                ok = dc_decode_sym(&b, tab[k], &sym);
                                if (ok && sym != 0) {
                                    ok = dc_get(&b, sym, &r);
                                    if (r < (1 << (sym - 1)))
                                        r += (int)(-1u << sym) + 1; /* HUFF_EXTEND */
                                }
                                if (!ok)
                                    break;
                                last[k] += sym != 0 ? r : 0;
                                ok = last[k] > -(1 << 30) && last[k] < (1 << 30);
                                *cf = (int16_t)(int32_t)((uint32_t)last[k] << al);
                            } else {
                                int bit = 0;
                                ok = dc_get(&b, 1, &bit);
                                if (ok && bit)
                                    *cf = (int16_t)(*cf | (1 << al));
                            }
                        }
                }
            }
            ok = ok && dc_at_end(&b);
        }
    }
    ok = ok && eoi;
    if (ok) {
        /* jpeg_idct_1x1 into samples, replicated to the output grid, and
           the colour conversion of jdcolor.c */
        static const int one_half = 1 << 15;
        int cr_r[256], cb_b[256];
        int32_t cr_g[256], cb_g[256];
        for (int v = 0; v < 256; v++) {
            int32_t x = v - 128;
            cr_r[v] = (int)((91881 * x + one_half) >> 16); /* FIX(1.40200) */
            cb_b[v] = (int)((116130 * x + one_half) >> 16); /* FIX(1.77200) */
            cr_g[v] = -46802 * x;                             /* -FIX(0.71414) */
            cb_g[v] = -22554 * x + one_half;                  /* -FIX(0.34414) */
        }
        uint8_t idct_limit[1024]; /* IDCT_range_limit: (v & 1023) -> sample */
        for (int v = 0; v < 1024; v++)
            idct_limit[v] = v < 128 ? (uint8_t)(v + 128) : v < 512 ? 255 : v < 896 ? 0
                                                                         : (uint8_t)(v - 896);
        uint8_t *row[4] = {NULL, NULL, NULL, NULL};
        for (int c = 0; c < f->nc && ok; c++) {
            row[c] = prime__malloc(ow);
            ok = row[c] != NULL;
        }
        for (uint32_t y = 0; y < oh && ok; y++) {
            for (int c = 0; c < f->nc; c++) {
                int fh = f->max_h / f->hs[c], fv = f->max_v / f->vs[c];
                const int16_t *cr = coef[c] + (size_t)(y / (uint32_t)fv) * bw[c];
                int q = f->q0[c];
                for (uint32_t x = 0; x < ow; x++) {
                    int dcval = cr[x / (uint32_t)fh] * q;
                    dcval = (dcval + 4) >> 3; /* DESCALE(dcval, 3) */
                    row[c][x] = idct_limit[dcval & 1023];
                }
            }
            uint8_t *o = out + (size_t)y * ow * 3;
            for (uint32_t x = 0; x < ow; x++) {
                if (f->grey) {
                    o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = row[0][x];
                } else {
                    int yy = row[0][x], cb = row[1][x], cr = row[2][x];
                    int r = yy + cr_r[cr];
                    int g = yy + (int)((cb_g[cb] + cr_g[cr]) >> 16);
                    int bl = yy + cb_b[cb];
                    o[3 * x] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
                    o[3 * x + 1] = (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : g);
                    o[3 * x + 2] = (uint8_t)(bl < 0 ? 0 : bl > 255 ? 255 : bl);
                }
            }
        }
        for (int c = 0; c < 4; c++)
            prime__free(row[c]);
    }
    for (int c = 0; c < 4; c++)
        prime__free(coef[c]);
    prime__free(tabs);
    return ok;
}

#define DC_MAX_SCANS 256

/* A progressive JPEG (SOF2) drafted at 1/8 (scale s == 8), decoded from a
 * copy of the file without the AC scans of the components whose DCT scaled
 * size at that scale is 1, with libjpeg's do_block_smoothing off. The
 * result is the full decode's (TurboJPEG's, with the same settings: ISLOW
 * IDCT, fancy upsampling, RGB out) because
 *  - jpeg_idct_1x1 reads only coef[0] (the DC) of a block, so the AC
 *    coefficients of such a component cannot change its samples;
 *  - the full decode does not smooth either: block smoothing only runs
 *    when, after the last scan, some component's AC coefficient 1..9 is
 *    not fully known (coef_bits != 0); this is checked on the file's scan
 *    script (emulating jdphuff's progression bookkeeping), and the path is
 *    not taken where the full decode would smooth;
 *  - every scan, kept or left out, passes the checks libjpeg makes of a
 *    scan's parameters and progression (an error or a warning there sends
 *    the file to the full decode, which then decides as before).
 * What a full decode would also see is damage inside the entropy-coded data
 * of a left-out scan (a bad Huffman code): such a file decodes here from
 * its other scans (docs/images.md). A truncated file has no EOI after its
 * last kept scan, which libjpeg reports as a warning: the full decode
 * decides.
 * Returns 1 with *px (scratch) of *ow x *oh, 0 when the path does not apply
 * or fails (the caller decodes as before). */
static int dc_only_draft(const unsigned char *d, size_t n, uint32_t w, uint32_t h, uint8_t **px,
                         uint32_t *ow, uint32_t *oh)
{
    struct jpeg_decompress_struct ci;
    dc_err err;
    memset(&err, 0, sizeof err);
    ci.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = dc_error_exit;
    err.pub.emit_message = dc_emit_message;
    err.pub.output_message = dc_output_message;
    /* volatile: changed between setjmp and a longjmp */
    unsigned char *volatile kept = NULL;
    uint8_t *volatile out = NULL;
    JSAMPROW *volatile rows = NULL;
    volatile int created = 0;
    if (setjmp(err.jump)) {
        if (created)
            jpeg_destroy_decompress(&ci);
        prime__free(kept);
        prime__free(rows);
        prime__image_scratch_free(out);
        return 0;
    }
    jpeg_create_decompress(&ci);
    created = 1;
    /* ---- the header: components, their scaled DCT size at 1/8 */
    jpeg_mem_src(&ci, d, (unsigned long)n);
    if (jpeg_read_header(&ci, TRUE) != JPEG_HEADER_OK || !ci.progressive_mode ||
        ci.arith_code || ci.image_width != w || ci.image_height != h || err.warned ||
        ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK)
        longjmp(err.jump, 1);
    int nc = ci.num_components;
    if (nc < 1 || nc > 4)
        longjmp(err.jump, 1);
    ci.out_color_space = JCS_EXT_RGB;
    ci.scale_num = 1;
    ci.scale_denom = 8;
    jpeg_calc_output_dimensions(&ci);
    int ids[4];
    bool dc_only[4];
    bool any = false;
    for (int c = 0; c < nc; c++) {
        ids[c] = ci.comp_info[c].component_id;
        dc_only[c] = ci.comp_info[c].DCT_scaled_size == 1;
        any = any || dc_only[c];
        for (int e = 0; e < c; e++)
            if (ids[e] == ids[c])
                longjmp(err.jump, 1); /* ambiguous: leave it to the full decode */
    }
    JDIMENSION out_w = ci.output_width, out_h = ci.output_height;
    if (!any || out_w != (w + 7) / 8 || out_h != (h + 7) / 8)
        longjmp(err.jump, 1);
    /* every component DC-only, grey or YCbCr, 8-bit, quantisation values
       that libjpeg-turbo's 16-bit multiplier holds: the DC scans can be
       decoded here (dc_decode_own) */
    dc_frame fr;
    bool own = ci.data_precision == 8 &&
               ((nc == 1 && ci.jpeg_color_space == JCS_GRAYSCALE) ||
                (nc == 3 && ci.jpeg_color_space == JCS_YCbCr));
    fr.nc = nc;
    fr.max_h = ci.max_h_samp_factor;
    fr.max_v = ci.max_v_samp_factor;
    fr.grey = nc == 1;
    for (int c = 0; c < nc && own; c++) {
        const jpeg_component_info *cp = &ci.comp_info[c];
        JQUANT_TBL *qt = cp->quant_tbl_no >= 0 && cp->quant_tbl_no < NUM_QUANT_TBLS
                             ? ci.quant_tbl_ptrs[cp->quant_tbl_no]
                             : NULL;
        fr.ids[c] = cp->component_id;
        fr.hs[c] = cp->h_samp_factor;
        fr.vs[c] = cp->v_samp_factor;
        own = dc_only[c] && qt != NULL && qt->quantval[0] <= 32767 && fr.hs[c] >= 1 &&
              fr.vs[c] >= 1 && fr.max_h % fr.hs[c] == 0 && fr.max_v % fr.vs[c] == 0;
        fr.q0[c] = own ? qt->quantval[0] : 0;
    }
    jpeg_abort_decompress(&ci);
    /* ---- the scan script: which scans to leave out, and whether the full
       decode would smooth (jdphuff.c's start_pass_phuff_decoder) */
    int bits[4][64];
    for (int c = 0; c < 4; c++)
        for (int k = 0; k < 64; k++)
            bits[c][k] = -1;
    size_t drop_at[DC_MAX_SCANS], drop_end[DC_MAX_SCANS];
    int ndrop = 0, nscans = 0;
    size_t i = 2;
    jpeg_seg seg;
    int r;
    while ((r = jpeg_next_segment(d, n, &i, &seg)) == SEG_OK) {
        if (seg.m != 0xDA)
            continue;
        /* SOS: Ns, (Cs, Td|Ta) x Ns, Ss, Se, Ah|Al */
        const unsigned char *s = seg.p;
        unsigned ns = s[0];
        if (ns < 1 || ns > 4 || seg.len != 4 + 2 * (size_t)ns || ++nscans > DC_MAX_SCANS)
            longjmp(err.jump, 1);
        unsigned ss = s[1 + 2 * ns], se = s[2 + 2 * ns], ah = s[3 + 2 * ns] >> 4,
                 al = s[3 + 2 * ns] & 15;
        bool dc_band = ss == 0;
        if ((dc_band && se != 0) || (!dc_band && (ss > se || se >= 64 || ns != 1)) ||
            (ah != 0 && al != ah - 1) || al > 13)
            longjmp(err.jump, 1); /* libjpeg's error: the full decode decides */
        int comp[4];
        for (unsigned k = 0; k < ns; k++) {
            comp[k] = -1;
            for (int c = 0; c < nc; c++)
                if (ids[c] == s[1 + 2 * k])
                    comp[k] = c;
            if (comp[k] < 0)
                longjmp(err.jump, 1);
        }
        for (unsigned k = 0; k < ns; k++) {
            int *cb = bits[comp[k]];
            if (!dc_band && cb[0] < 0)
                longjmp(err.jump, 1); /* a warning: AC before DC */
            for (unsigned q = ss; q <= se; q++) {
                int expected = cb[q] < 0 ? 0 : cb[q];
                if ((int)ah != expected)
                    longjmp(err.jump, 1); /* a warning: bogus progression */
                cb[q] = (int)al;
            }
        }
        if (!dc_band && dc_only[comp[0]]) {
            drop_at[ndrop] = seg.at;
            drop_end[ndrop] = seg.end;
            ndrop++;
        }
    }
    if (r != SEG_EOI || ndrop == 0)
        longjmp(err.jump, 1);
    for (int c = 0; c < nc; c++)
        for (int k = 1; k <= 9; k++)
            if (bits[c][k] != 0)
                longjmp(err.jump, 1); /* the full decode smooths: not the same */
    /* ---- every scan needed is a DC scan: decode them here */
    if (own) {
        out = prime__image_scratch_alloc((size_t)out_w * out_h * 3);
        if (out != NULL && dc_decode_own(d, n, w, h, &fr, out_w, out_h, out)) {
            jpeg_destroy_decompress(&ci);
            *px = out;
            *ow = out_w;
            *oh = out_h;
            return 1;
        }
        prime__image_scratch_free(out);
        out = NULL;
    }
    /* ---- the file without the dropped scans */
    kept = prime__malloc(n);
    if (kept == NULL)
        longjmp(err.jump, 1);
    size_t kn = 0, from = 0;
    for (int k = 0; k < ndrop; k++) {
        memcpy(kept + kn, d + from, drop_at[k] - from);
        kn += drop_at[k] - from;
        from = drop_end[k];
    }
    memcpy(kept + kn, d + from, n - from);
    kn += n - from;
    /* ---- decode it as TurboJPEG would, without block smoothing */
    jpeg_mem_src(&ci, kept, (unsigned long)kn);
    if (jpeg_read_header(&ci, TRUE) != JPEG_HEADER_OK)
        longjmp(err.jump, 1);
    ci.out_color_space = JCS_EXT_RGB;
    ci.scale_num = 1;
    ci.scale_denom = 8;
    ci.dct_method = JDCT_ISLOW;
    ci.do_fancy_upsampling = TRUE;
    ci.do_block_smoothing = FALSE;
    jpeg_start_decompress(&ci);
    if (ci.output_width != out_w || ci.output_height != out_h || ci.output_components != 3)
        longjmp(err.jump, 1);
    out = prime__image_scratch_alloc((size_t)out_w * out_h * 3);
    rows = prime__malloc(sizeof(JSAMPROW) * out_h);
    if (out == NULL || rows == NULL)
        longjmp(err.jump, 1);
    for (JDIMENSION y = 0; y < out_h; y++)
        rows[y] = out + (size_t)y * out_w * 3;
    while (ci.output_scanline < out_h)
        jpeg_read_scanlines(&ci, rows + ci.output_scanline, out_h - ci.output_scanline);
    jpeg_finish_decompress(&ci);
    if (err.warned)
        longjmp(err.jump, 1);
    jpeg_destroy_decompress(&ci);
    prime__free(kept);
    prime__free(rows);
    *px = out;
    *ow = out_w;
    *oh = out_h;
    return 1;
}
#endif /* PRIME_HAVE_LIBJPEG */

bool prime__image_decode_turbojpeg(const unsigned char *d, size_t n, uint32_t w, uint32_t h,
                                   uint32_t draft_w, uint32_t draft_h, uint8_t **px,
                                   uint32_t *ow, uint32_t *oh)
{
    /* PIL's JpegImageFile.draft: scale = min(w // dw, h // dh), then the
       largest of 8, 4, 2, 1 that is at most scale */
    uint32_t s = 1;
    if (draft_w > 0 && draft_h > 0) {
        uint32_t k = w / draft_w < h / draft_h ? w / draft_w : h / draft_h;
        s = k >= 8 ? 8 : k >= 4 ? 4 : k >= 2 ? 2 : 1;
    }
    tjhandle tj = tjInitDecompress();
    if (tj == NULL)
        return false;
    bool ok = false;
    uint8_t *out = NULL;
    int jw = 0, jh = 0, subsamp = 0, cs = 0;
    if (tjDecompressHeader3(tj, d, (unsigned long)n, &jw, &jh, &subsamp, &cs) != 0 ||
        (uint32_t)jw != w || (uint32_t)jh != h)
        goto done; /* disagrees with the header stb_image read: let it decide */
    if (cs == TJCS_CMYK || cs == TJCS_YCCK)
        goto done; /* Adobe CMYK: stb_image's conversion, as without this decoder */
#if PRIME_HAVE_LIBJPEG
    /* (after TurboJPEG's header checks, so that the same files reach it) */
    if (s == 8 && dc_only_draft(d, n, w, h, px, ow, oh)) {
        tjDestroy(tj);
        return true;
    }
#endif
    tjscalingfactor sf = {1, (int)s};
    int sw = TJSCALED(jw, sf), sh = TJSCALED(jh, sf);
    out = prime__image_scratch_alloc((size_t)sw * (size_t)sh * 3);
    if (out == NULL)
        goto done;
    /* any error or warning (corrupt data, a truncated file): -1, and
       stb_image decides as it would without this decoder */
    if (tjDecompress2(tj, d, (unsigned long)n, out, sw, 0, sh, TJPF_RGB, 0) != 0)
        goto done;
    *px = out;
    *ow = (uint32_t)sw;
    *oh = (uint32_t)sh;
    out = NULL;
    ok = true;
done:
    prime__image_scratch_free(out);
    tjDestroy(tj);
    return ok;
}
