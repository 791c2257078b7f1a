/* Measured properties: brightness, contrast, colour and the others of
 * prime_image_measure, and their names. */
#include <math.h>

#include "image/image_private.h"

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
