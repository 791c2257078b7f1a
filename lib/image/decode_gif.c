/* GIF: the first frame as Pillow gives it (Image.open(f).convert("RGB"),
 * Pillow 9.4, Debian 12's python3-pil): its GifImagePlugin reads the blocks
 * up to the first image descriptor, and its C decoder (libImaging/GifDecode.c)
 * fills the frame's rectangle of the canvas with LZW-decoded palette indices.
 * This file follows both step by step, so that the pixels are Pillow's and a
 * file is refused exactly where Pillow refuses it:
 *
 *   - the canvas is the logical screen, grown to hold the first frame where
 *     it reaches past it; pixels outside the frame are index 0, or the
 *     frame's transparent index where it has one; transparent pixels inside
 *     the frame keep their index;
 *   - the colours are those of the frame's local colour table, else of the
 *     global one; a table that is the grey ramp (i, i, i) counts as none, and
 *     without a table the index is the grey level (PIL mode "L"); an index
 *     past the table is the grey (i, i, i) (Pillow's palette starts as the
 *     ramp);
 *   - the LZW stream: no clear code needed first, a full table (4096 codes)
 *     kept until the next clear code, the sub-block terminator read as an
 *     empty sub-block (the stream goes on in the bytes that follow), the
 *     image complete at its last pixel whatever follows; an end code before
 *     it is an error where Pillow has read the whole file by then (its
 *     ImageFile.load reads 64 KiB at a time; with more to read it goes on
 *     decoding after the end code, and so does this file).
 *
 * Later frames are not read (Pillow's convert is of frame 0). */
#include <string.h>

#include "image/image_private.h"

#define GIF_BITS 12                 /* Pillow's GIFBITS */
#define GIF_TABLE (1 << GIF_BITS)   /* GIFTABLE and GIFBUFFER */
#define GIF_CHUNK ((size_t)1 << 16) /* ImageFile.MAXBLOCK, Pillow's read size */

static uint32_t le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

/* GifImageFile._is_palette_needed: false for the grey ramp (i, i, i) */
static bool palette_needed(const unsigned char *p, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (p[3 * i] != i || p[3 * i + 1] != i || p[3 * i + 2] != i)
            return true;
    return false;
}

/* What GifImageFile._open and _seek(0) read. */
typedef struct {
    uint32_t w, h;               /* the canvas, grown to hold the frame */
    uint32_t x0, y0, fw, fh;     /* the frame */
    bool interlace;
    int trns;                    /* the frame's transparent index, or -1 */
    const unsigned char *colours; /* the table the RGB conversion uses, or NULL (grey) */
    size_t ncolours;
    bool indexed;                /* PIL mode "P" (resized with NEAREST), else "L" */
    unsigned bits;               /* the LZW minimum code size */
    size_t data;                 /* the offset of the first LZW sub-block */
} gif_frame;

/* Skip sub-blocks from d[*i] up to and including the empty one; false when
 * the file ends first (Pillow then finds no image: an error). */
static bool skip_blocks(const unsigned char *d, size_t n, size_t *i)
{
    for (;;) {
        if (*i >= n)
            return false;
        size_t len = d[(*i)++];
        if (len == 0)
            return true;
        if (len > n - *i)
            return false;
        *i += len;
    }
}

/* NULL, or why the file is refused. */
static const char *read_frame(const unsigned char *d, size_t n, gif_frame *g)
{
    memset(g, 0, sizeof *g);
    g->trns = -1;
    if (n < 13)
        return "truncated header";
    g->w = le16(d + 6);
    g->h = le16(d + 8);
    size_t i = 13;
    const unsigned char *global = NULL;
    size_t nglobal = 0;
    if (d[10] & 0x80) {
        nglobal = (size_t)2 << (d[10] & 7);
        if (3 * nglobal > n - i)
            return "truncated global colour table";
        if (palette_needed(d + i, nglobal))
            global = d + i;
        i += 3 * nglobal;
    }
    for (;;) {
        if (i >= n)
            return "no image before the end of the file";
        unsigned char c = d[i++];
        if (c == ';')
            return "no image before the trailer";
        if (c == '!') { /* an extension: its label, then sub-blocks */
            if (i + 1 >= n)
                return "truncated extension";
            unsigned label = d[i++];
            size_t len = d[i++];
            if (len > n - i)
                return "truncated extension";
            const unsigned char *blk = d + i;
            i += len;
            if (label == 0xF9) { /* graphic control: flags, delay (2), index */
                if (len < 3 || ((blk[0] & 1) && len < 4))
                    return "corrupt graphic control extension";
                if (blk[0] & 1) /* a later one without the flag keeps it */
                    g->trns = blk[3];
            } else if (label == 0xFF) { /* application: Pillow reads the first
                                           sub-block, and NETSCAPE2.0's second */
                if (len == 0)
                    return "corrupt application extension";
                if (len >= 11 && memcmp(blk, "NETSCAPE2.0", 11) == 0) {
                    if (i >= n || d[i] == 0)
                        return "corrupt NETSCAPE2.0 extension";
                    size_t len2 = d[i++];
                    if (len2 > n - i)
                        return "truncated extension";
                    i += len2;
                }
            } else if (label == 0xFE && len == 0) { /* a comment ends at its
                                                       first empty sub-block */
                continue;
            }
            /* the rest up to an empty sub-block (one more run of them after
               an empty first sub-block, as Pillow reads it) */
            if (!skip_blocks(d, n, &i))
                return "truncated extension";
        } else if (c == ',') { /* the image descriptor */
            if (9 > n - i)
                return "truncated image descriptor";
            g->x0 = le16(d + i);
            g->y0 = le16(d + i + 2);
            g->fw = le16(d + i + 4);
            g->fh = le16(d + i + 6);
            unsigned flags = d[i + 8];
            i += 9;
            g->interlace = (flags & 0x40) != 0;
            if (g->x0 + g->fw > g->w)
                g->w = g->x0 + g->fw;
            if (g->y0 + g->fh > g->h)
                g->h = g->y0 + g->fh;
            bool local_needed = false;
            if (flags & 0x80) {
                size_t count = (size_t)2 << (flags & 7);
                if (3 * count > n - i)
                    return "truncated local colour table";
                local_needed = palette_needed(d + i, count);
                if (local_needed) {
                    g->colours = d + i;
                    g->ncolours = count;
                }
                i += 3 * count;
            }
            if (!local_needed && global != NULL) {
                /* a local grey ramp makes the frame "L", but Pillow keeps
                   the global table as the image's palette, and its RGB
                   conversion uses it */
                g->colours = global;
                g->ncolours = nglobal;
            }
            g->indexed = g->colours != NULL;
            if (i >= n)
                return "truncated image data";
            g->bits = d[i++];
            g->data = i;
            return NULL;
        }
        /* any other byte: skipped, as Pillow does */
    }
}

/* The LZW decoder: libImaging/GifDecode.c's states and tables, reading the
 * file as Pillow's ImageFile.load hands it over. */
typedef struct {
    const unsigned char *d;
    size_t n, pos;
    size_t read_end;  /* how far Pillow has read the file (64 KiB steps) */
    size_t blockleft; /* bytes left in the current sub-block */
    uint32_t bitbuffer;
    int bitcount;
} lzw_input;

enum { LZW_OK, LZW_TRUNCATED, LZW_BROKEN };

/* Make bytes [in->pos, end) readable as Pillow does: another 64 KiB read
 * while they are not, an error at the end of the file. */
static bool lzw_have(lzw_input *in, size_t end)
{
    while (end > in->read_end) {
        if (in->read_end >= in->n)
            return false;
        in->read_end = in->n - in->read_end > GIF_CHUNK ? in->read_end + GIF_CHUNK : in->n;
    }
    return true;
}

static int lzw_code(lzw_input *in, int codesize, int codemask, int *code)
{
    while (in->bitcount < codesize) {
        if (in->blockleft > 0) {
            in->bitbuffer |= (uint32_t)in->d[in->pos++] << in->bitcount;
            in->bitcount += 8;
            in->blockleft--;
        } else { /* a new sub-block, whole, or none (an empty one is skipped) */
            if (!lzw_have(in, in->pos + 1) || !lzw_have(in, in->pos + 1 + in->d[in->pos]))
                return LZW_TRUNCATED;
            in->blockleft = in->d[in->pos++];
        }
    }
    *code = (int)(in->bitbuffer & (uint32_t)codemask);
    in->bitbuffer >>= codesize;
    in->bitcount -= codesize;
    return LZW_OK;
}

/* The frame's rows as Pillow writes them (GifDecode.c's NEWLINE). */
typedef struct {
    uint32_t x, y, step;
    int pass; /* 0: not interlaced or the last pass; 1, 2, 3 */
} gif_rows;

/* The next row after a full one; false when the frame is complete. */
static bool next_row(gif_rows *r, uint32_t fh)
{
    r->x = 0;
    r->y += r->step;
    while (r->y >= fh) {
        switch (r->pass) {
        case 1:
            r->y = 4;
            r->pass = 2;
            break;
        case 2:
            r->step = 4;
            r->y = 2;
            r->pass = 3;
            break;
        case 3:
            r->step = 2;
            r->y = 1;
            r->pass = 0;
            break;
        default:
            return false;
        }
    }
    return true;
}

/* Decode the frame's indices into the RGB canvas px (w wide) through the
 * colour table lut; LZW_OK once the frame is complete. */
static int lzw_decode(const unsigned char *d, size_t n, const gif_frame *g,
                      const uint8_t lut[256][3], uint8_t *px)
{
    if (g->bits > GIF_BITS)
        return LZW_BROKEN; /* Pillow: IMAGING_CODEC_CONFIG */
    int clear = 1 << g->bits, end = clear + 1;
    lzw_input in = {d, n, g->data, g->data, 0, 0, 0};
    /* Pillow's first read */
    in.read_end = n - g->data > GIF_CHUNK ? g->data + GIF_CHUNK : n;
    gif_rows rows = {0, 0, g->interlace ? 8 : 1, g->interlace ? 1 : 0};
    static const uint8_t none[1] = {0};
    uint8_t *data = prime__calloc(GIF_TABLE, 1);
    uint16_t *link = prime__calloc(GIF_TABLE, sizeof *link);
    uint8_t *buffer = prime__calloc(GIF_TABLE, 1);
    if (data == NULL || link == NULL || buffer == NULL) {
        prime__free(data);
        prime__free(link);
        prime__free(buffer);
        return -1;
    }
    int state = 1, next = 0, codesize = 0, codemask = 0, bufferindex = GIF_TABLE, lastcode = 0;
    uint8_t lastdata = 0;
    int status = LZW_OK;
    uint8_t *row = px + ((size_t)g->y0 * g->w + g->x0) * 3;
    for (;;) {
        if (state == 1) {
            next = clear + 2;
            codesize = (int)g->bits + 1;
            codemask = (1 << codesize) - 1;
            bufferindex = GIF_TABLE;
            state = 2;
        }
        const uint8_t *p = none;
        int len;
        if (bufferindex < GIF_TABLE) { /* the rest of the last string */
            len = GIF_TABLE - bufferindex;
            p = buffer + bufferindex;
            bufferindex = GIF_TABLE;
        } else {
            int c;
            status = lzw_code(&in, codesize, codemask, &c);
            if (status != LZW_OK)
                break;
            if (c == clear) {
                if (state != 2)
                    state = 1;
                continue;
            }
            if (c == end) {
                /* Pillow returns to ImageFile.load, which reads on: an
                   error at the end of the file, else decoding goes on */
                if (in.read_end >= in.n) {
                    status = LZW_TRUNCATED;
                    break;
                }
                continue;
            }
            len = 1;
            p = &lastdata;
            if (state == 2) { /* the first code after a clear: as is */
                if (c > clear) {
                    status = LZW_BROKEN;
                    break;
                }
                lastdata = (uint8_t)c;
                lastcode = c;
                state = 3;
            } else {
                int thiscode = c;
                if (c > next) {
                    status = LZW_BROKEN;
                    break;
                }
                if (c == next) { /* the code being defined: last string + its first */
                    if (bufferindex <= 0) {
                        status = LZW_BROKEN;
                        break;
                    }
                    buffer[--bufferindex] = lastdata;
                    c = lastcode;
                }
                while (c >= clear) { /* the string, from its end */
                    if (bufferindex <= 0 || c >= GIF_TABLE) {
                        status = LZW_BROKEN;
                        break;
                    }
                    buffer[--bufferindex] = data[c];
                    c = link[c];
                }
                if (status != LZW_OK)
                    break;
                lastdata = (uint8_t)c;
                if (next < GIF_TABLE) { /* a full table stays until a clear */
                    data[next] = (uint8_t)c;
                    link[next] = (uint16_t)lastcode;
                    if (next == codemask && codesize < GIF_BITS) {
                        codesize++;
                        codemask = (1 << codesize) - 1;
                    }
                    next++;
                }
                lastcode = thiscode;
            }
        }
        bool complete = false;
        for (int k = 0; k < len; k++) {
            memcpy(row + (size_t)rows.x * 3, lut[p[k]], 3);
            if (++rows.x >= g->fw) {
                if (!next_row(&rows, g->fh)) {
                    complete = true;
                    break;
                }
                row = px + ((size_t)(g->y0 + rows.y) * g->w + g->x0) * 3;
            }
        }
        if (complete)
            break;
    }
    prime__free(data);
    prime__free(link);
    prime__free(buffer);
    return status;
}

prime_status prime__image_decode_gif(const unsigned char *d, size_t n, const char *name,
                                     uint64_t max_pixels, prime_image **out)
{
    *out = NULL;
    gif_frame g;
    const char *why = read_frame(d, n, &g);
    if (why != NULL)
        return prime__error(PRIME_E_FORMAT, "%s: corrupt or truncated GIF: %s", name, why);
    if ((uint64_t)g.w * g.h > max_pixels)
        return prime__error(PRIME_E_LIMIT,
                            "%s: image of %u x %u pixels is larger than the limit of %llu pixels",
                            name, g.w, g.h, (unsigned long long)max_pixels);
    if (g.w == 0 || g.h == 0)
        return prime__error(PRIME_E_FORMAT, "%s: corrupt GIF: image of %u x %u pixels", name,
                            g.w, g.h);
    if (g.fw == 0 || g.fh == 0)
        return prime__error(PRIME_E_FORMAT, "%s: corrupt GIF: first frame of %u x %u pixels",
                            name, g.fw, g.fh);
    if (g.bits > GIF_BITS)
        return prime__error(PRIME_E_FORMAT, "%s: corrupt GIF: LZW code size %u (at most %d)",
                            name, g.bits, GIF_BITS);
    /* index -> RGB: the table, then the grey ramp past it (or throughout) */
    uint8_t lut[256][3];
    for (size_t v = 0; v < 256; v++) {
        if (v < g.ncolours)
            memcpy(lut[v], g.colours + 3 * v, 3);
        else
            lut[v][0] = lut[v][1] = lut[v][2] = (uint8_t)v;
    }
    prime_image *im = NULL;
    prime_status st = prime__image_alloc(g.w, g.h, &im);
    if (st != PRIME_OK)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory decoding a %u x %u GIF", name,
                            g.w, g.h);
    /* the canvas: index 0, or the transparent index */
    const uint8_t *fill = lut[g.trns >= 0 ? g.trns : 0];
    size_t np = (size_t)g.w * g.h;
    if (fill[0] == fill[1] && fill[1] == fill[2])
        memset(im->px, fill[0], np * 3);
    else
        for (size_t i = 0; i < np; i++)
            memcpy(im->px + 3 * i, fill, 3);
    int r = lzw_decode(d, n, &g, (const uint8_t(*)[3])lut, im->px);
    if (r != LZW_OK) {
        prime_image_destroy(im);
        if (r < 0)
            return prime__error(PRIME_E_NOMEM, "%s: out of memory decoding a %u x %u GIF", name,
                                g.w, g.h);
        return prime__error(PRIME_E_FORMAT, "%s: corrupt or truncated GIF: %s", name,
                            r == LZW_TRUNCATED ? "image data ends before the image is complete"
                                               : "broken LZW data");
    }
    im->format = PRIME_IMAGE_FORMAT_GIF;
    im->source = g.indexed ? SRC_INDEXED : SRC_RGB;
    im->file_width = g.w;
    im->file_height = g.h;
    *out = im;
    return PRIME_OK;
}
