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
    jpeg_abort_decompress(&ci);
    /* ---- the scan script: which scans to leave out, and whether the full
       decode would smooth (jdphuff.c's start_pass_phuff_decoder) */
    int bits[4][64];
    for (int c = 0; c < 4; c++)
        for (int k = 0; k < 64; k++)
            bits[c][k] = -1;
    size_t drop_at[DC_MAX_SCANS], drop_end[DC_MAX_SCANS];
    int ndrop = 0, nscans = 0;
    bool eoi = false;
    size_t i = 2;
    while (i + 2 <= n) {
        if (d[i] != 0xFF)
            longjmp(err.jump, 1);
        unsigned m = d[i + 1];
        if (m == 0xFF) {
            i++;
            continue;
        }
        if (m == 0xD9) {
            eoi = true;
            break;
        }
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
            i += 2;
            continue;
        }
        if (i + 4 > n)
            longjmp(err.jump, 1);
        size_t len = be16(d + i + 2);
        if (len < 2 || i + 2 + len > n)
            longjmp(err.jump, 1);
        if (m != 0xDA) {
            i += 2 + len;
            continue;
        }
        /* SOS: Ns, (Cs, Td|Ta) x Ns, Ss, Se, Ah|Al */
        const unsigned char *s = d + i + 4;
        unsigned ns = s[0];
        if (ns < 1 || ns > 4 || len != 6 + 2 * (size_t)ns || ++nscans > DC_MAX_SCANS)
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
        size_t end = entropy_end(d, n, i + 2 + len);
        if (!dc_band && dc_only[comp[0]]) {
            drop_at[ndrop] = i;
            drop_end[ndrop] = end;
            ndrop++;
        }
        i = end;
    }
    if (!eoi || ndrop == 0)
        longjmp(err.jump, 1);
    for (int c = 0; c < nc; c++)
        for (int k = 1; k <= 9; k++)
            if (bits[c][k] != 0)
                longjmp(err.jump, 1); /* the full decode smooths: not the same */
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
