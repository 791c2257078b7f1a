/* Resampling: PIL's ImagingResample (bilinear, bicubic; 8 bits, fixed
 * point), its NEAREST resize of palette images and its premultiplied resize
 * of images with alpha, each for a window of the result; prime_image_resize.
 * The bytes are PIL's; for speed the weights are PIL's precomputed 22-bit
 * fixed-point ones, wide horizontal kernels run as dot products over 16-bit
 * planes (16-bit multiply-adds, each weight split in two 16-bit halves), the passes are built for AVX2 beside the baseline, and a grey
 * image held as RGB is resized as one channel (as PIL resizes "L"). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_private.h"

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
    double *kd; /* the normalised weights themselves (Pillow's 32-bit modes), when asked */
} coeffs;

static void coeffs_free(coeffs *c)
{
    prime__free(c->bounds);
    prime__free(c->kk);
    prime__free(c->kd);
}

static bool precompute_coeffs_kd(uint32_t in_size, uint32_t out_size, int32_t filter, coeffs *c,
                                 bool keep_double)
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
    double *pre = prime__image_scratch_alloc((size_t)out_size * (size_t)ksize * sizeof(double));
    c->kk = prime__malloc((size_t)out_size * (size_t)ksize * sizeof(int32_t));
    if (c->bounds == NULL || pre == NULL || c->kk == NULL) {
        prime__image_scratch_free(pre);
        prime__free(c->bounds);
        prime__free(c->kk);
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
    if (keep_double)
        c->kd = pre;
    else
        prime__image_scratch_free(pre);
    return true;
}

static bool precompute_coeffs(uint32_t in_size, uint32_t out_size, int32_t filter, coeffs *c)
{
    return precompute_coeffs_kd(in_size, out_size, filter, c, false);
}

static inline uint8_t clip8(int32_t in)
{
    if (in >= (1 << PRECISION_BITS << 8))
        return 255;
    if (in <= 0)
        return 0;
    return (uint8_t)(in >> PRECISION_BITS);
}

/* One row of the horizontal pass for NCH interleaved channels (a constant
 * in each caller, so that the compiler unrolls the channel loop). */
static inline void hpass_row(const uint8_t *in, uint8_t *o, const coeffs *hc, uint32_t x0,
                             uint32_t cw, int nch, int step)
{
    for (uint32_t xx = 0; xx < cw; xx++) {
        int xmin = hc->bounds[(xx + x0) * 2], xmax = hc->bounds[(xx + x0) * 2 + 1];
        const int32_t *k = &hc->kk[(size_t)(xx + x0) * hc->ksize];
        int32_t s[4];
        for (int c = 0; c < nch; c++)
            s[c] = 1 << (PRECISION_BITS - 1);
        const uint8_t *p = in + (size_t)xmin * step;
        for (int x = 0; x < xmax; x++)
            for (int c = 0; c < nch; c++)
                s[c] += p[step * x + c] * k[x];
        for (int c = 0; c < nch; c++)
            o[nch * xx + c] = clip8(s[c]);
    }
}

/* x86-64 with GCC or Clang: the passes below and the premultiplication are
 * built twice, for the baseline and for AVX2 (8 32-bit products an
 * instruction), from one always-inlined body each; one set is chosen once per
 * process (resample_kernels_get): AVX2 where the CPU has it, unless the
 * environment variable PRIME_RESAMPLE_KERNEL=baseline asks for the baseline
 * (the tests run the image suite both ways). The sums are integers, so the
 * order of the additions does not change them: both give PIL's bytes. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(PRIME_NO_TARGET_CLONES)
#define PRIME_RESAMPLE_AVX2 1
#else
#define PRIME_RESAMPLE_AVX2 0
#endif
#define BODY static inline __attribute__((always_inline))

/* The horizontal pass of nrows rows for wide kernels (a large reduction):
 * each source row is split into nch planes of 16-bit samples, and each
 * output sample is then a dot product of one plane with the kernel, which
 * the compiler vectorises with 16-bit multiply-adds (pmaddwd): the 22-bit
 * weight k is split as k = 2048 kh + kl (kh = floor(k / 2048), kl in
 * 0..2047, both 16-bit; `khl` holds kh then kl, kpad of each per output
 * pixel, zero past the kernel), and the sum is 2048 sum(p kh) + sum(p kl):
 * the same integer as sum(p k), so PIL's bytes. kpad is a multiple of 16,
 * so the loops have no remainder; `planes` holds nch * (span + kpad)
 * samples (the tail zero). */
BODY void hpass_planar_k(const uint8_t *px, size_t stride, uint32_t nrows, uint8_t *tmp,
                         const coeffs *hc, uint32_t x0, uint32_t cw, int nch, int step,
                         uint32_t lo, uint32_t span, const int16_t *khl, int kpad,
                         int16_t *planes)
{
    size_t pstride = (size_t)span + (size_t)kpad;
    for (int c = 0; c < nch; c++)
        for (size_t x = span; x < pstride; x++)
            planes[(size_t)c * pstride + x] = 0;
    for (uint32_t r = 0; r < nrows; r++) {
        const uint8_t *in = px + (size_t)r * stride + (size_t)lo * step;
        for (uint32_t x = 0; x < span; x++)
            for (int c = 0; c < nch; c++)
                planes[(size_t)c * pstride + x] = in[(size_t)x * step + c];
        uint8_t *o = tmp + (size_t)r * cw * nch;
        for (uint32_t xx = 0; xx < cw; xx++) {
            int xmin = hc->bounds[(xx + x0) * 2];
            const int16_t *kh = khl + (size_t)xx * 2 * (size_t)kpad, *kl = kh + kpad;
            for (int c = 0; c < nch; c++) {
                const int16_t *p = planes + (size_t)c * pstride + (xmin - (int)lo);
                int32_t sh = 0, sl = 0;
                for (int x = 0; x < kpad; x++) {
                    sh += (int32_t)p[x] * kh[x];
                    sl += (int32_t)p[x] * kl[x];
                }
                o[nch * xx + c] = clip8((1 << (PRECISION_BITS - 1)) + sh * 2048 + sl);
            }
        }
    }
}

/* hpass_planar_k, with a kpad of 32 or 48 as a constant (a reduction of
 * about 8 to 23 times: a 1080 to 2160 row photo to 224): the dot products
 * unroll whole, without the vector loop's checks and remainder (a fifth
 * fewer instructions in the pass); other lengths as before. */
BODY void hpass_planar(const uint8_t *px, size_t stride, uint32_t nrows, uint8_t *tmp,
                       const coeffs *hc, uint32_t x0, uint32_t cw, int nch, int step,
                       uint32_t lo, uint32_t span, const int16_t *khl, int kpad,
                       int16_t *planes)
{
    if (kpad == 32)
        hpass_planar_k(px, stride, nrows, tmp, hc, x0, cw, nch, step, lo, span, khl, 32, planes);
    else if (kpad == 48)
        hpass_planar_k(px, stride, nrows, tmp, hc, x0, cw, nch, step, lo, span, khl, 48, planes);
    else
        hpass_planar_k(px, stride, nrows, tmp, hc, x0, cw, nch, step, lo, span, khl, kpad,
                       planes);
}

/* The vertical pass: output rows y0 .. y0 + ch - 1 (rowlen bytes each) of
 * the rows at `rows` (row r at rows + (r - rows_base) * stride), with the
 * accumulator row acc. */
BODY void vpass(const uint8_t *rows, size_t stride, uint32_t rows_base, const coeffs *vc,
                  uint32_t y0, uint32_t ch, size_t rowlen, int32_t *acc, uint8_t *dst)
{
    for (uint32_t yy = 0; yy < ch; yy++) {
        int ymin = vc->bounds[(yy + y0) * 2], ymax = vc->bounds[(yy + y0) * 2 + 1];
        const int32_t *k = &vc->kk[(size_t)(yy + y0) * vc->ksize];
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
}

/* RGB and alpha into premultiplied RGBa (PIL's MULDIV255, rounded) */
BODY void premultiply(const uint8_t *rgb, const uint8_t *alpha, size_t np, uint8_t *pre)
{
    for (size_t i = 0; i < np; i++) {
        uint32_t a = alpha[i];
        uint32_t r = rgb[3 * i] * a + 128, g = rgb[3 * i + 1] * a + 128,
                 b = rgb[3 * i + 2] * a + 128;
        pre[4 * i] = (uint8_t)(((r >> 8) + r) >> 8);
        pre[4 * i + 1] = (uint8_t)(((g >> 8) + g) >> 8);
        pre[4 * i + 2] = (uint8_t)(((b >> 8) + b) >> 8);
        pre[4 * i + 3] = (uint8_t)a;
    }
}

/* The per-instruction-set copies of the bodies above, and their table. */
#define HPASS_PLANAR(SUFFIX, ATTR, NCH, STEP)                                                    \
    ATTR static void hpass_planar##NCH##_##SUFFIX(                                               \
        const uint8_t *px, size_t stride, uint32_t nrows, uint8_t *tmp, const coeffs *hc,        \
        uint32_t x0, uint32_t cw, uint32_t lo, uint32_t span, const int16_t *khl, int kpad,      \
        int16_t *planes)                                                                         \
    {                                                                                            \
        hpass_planar(px, stride, nrows, tmp, hc, x0, cw, NCH, STEP, lo, span, khl, kpad,         \
                     planes);                                                                    \
    }
#define RESAMPLE_KERNELS(SUFFIX, ATTR)                                                          \
    ATTR static void vpass_##SUFFIX(const uint8_t *rows, size_t stride, uint32_t rows_base,     \
                                    const coeffs *vc, uint32_t y0, uint32_t ch, size_t rowlen,  \
                                    int32_t *acc, uint8_t *dst)                                 \
    {                                                                                           \
        vpass(rows, stride, rows_base, vc, y0, ch, rowlen, acc, dst);                           \
    }                                                                                           \
    /* hpass_planar for the first channel of 3 (a grey image held as RGB),    \
       3 and 4 channels, the counts constant so that the loops unroll */        \
    HPASS_PLANAR(SUFFIX, ATTR, 1, 3)                                                            \
    HPASS_PLANAR(SUFFIX, ATTR, 3, 3)                                                            \
    HPASS_PLANAR(SUFFIX, ATTR, 4, 4)                                                            \
    ATTR static void premultiply_##SUFFIX(const uint8_t *rgb, const uint8_t *alpha, size_t np,  \
                                          uint8_t *pre)                                         \
    {                                                                                           \
        premultiply(rgb, alpha, np, pre);                                                       \
    }                                                                                           \
    static const resample_kernels kernels_##SUFFIX = {                                          \
        #SUFFIX, vpass_##SUFFIX, {hpass_planar1_##SUFFIX, hpass_planar3_##SUFFIX,                \
                                  hpass_planar4_##SUFFIX},                                      \
        premultiply_##SUFFIX};

typedef void (*hpass_planar_fn)(const uint8_t *px, size_t stride, uint32_t nrows, uint8_t *tmp,
                                const coeffs *hc, uint32_t x0, uint32_t cw, uint32_t lo,
                                uint32_t span, const int16_t *khl, int kpad, int16_t *planes);
typedef struct {
    const char *name; /* "baseline", "avx2" */
    void (*vpass)(const uint8_t *rows, size_t stride, uint32_t rows_base, const coeffs *vc,
                  uint32_t y0, uint32_t ch, size_t rowlen, int32_t *acc, uint8_t *dst);
    hpass_planar_fn hpass_planar[3]; /* 1 channel of 3, 3 channels, 4 channels */
    void (*premultiply)(const uint8_t *rgb, const uint8_t *alpha, size_t np, uint8_t *pre);
} resample_kernels;

RESAMPLE_KERNELS(baseline, )
#if PRIME_RESAMPLE_AVX2
RESAMPLE_KERNELS(avx2, __attribute__((target("avx2"))))
#endif

static const resample_kernels *kernels_chosen = &kernels_baseline;
static pthread_once_t kernels_once = PTHREAD_ONCE_INIT;

static void kernels_choose(void)
{
#if PRIME_RESAMPLE_AVX2
    const char *e = getenv("PRIME_RESAMPLE_KERNEL");
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && (e == NULL || strcmp(e, "baseline") != 0))
        kernels_chosen = &kernels_avx2;
#endif
}

static const resample_kernels *resample_kernels_get(void)
{
    pthread_once(&kernels_once, kernels_choose);
    return kernels_chosen;
}

const char *prime__image_resample_kernel(void)
{
    return resample_kernels_get()->name;
}

/* true when rows [first, last) of the RGB image px (w wide) are grey
 * (R = G = B everywhere): a colour image is told at its first colour row */
static bool rows_grey(const uint8_t *px, uint32_t w, uint32_t first, uint32_t last)
{
    for (uint32_t y = first; y < last; y++) {
        const uint8_t *r = px + (size_t)y * w * 3;
        unsigned diff = 0;
        for (uint32_t x = 0; x < w; x++)
            diff |= (unsigned)(r[3 * x] ^ r[3 * x + 1]) | (unsigned)(r[3 * x] ^ r[3 * x + 2]);
        if (diff != 0)
            return false;
    }
    return true;
}

/* Pixels [x0, x0 + cw) x [y0, y0 + ch) of the in_w x in_h image px (nch
 * interleaved 8-bit channels, 3 or 4) resized to out_w x out_h, into `dst`
 * (cw x ch, nch channels), identical to resizing the whole image and
 * cropping (every output pixel depends only on its own coefficients). */
static prime_status resize_px(const uint8_t *px, uint32_t in_w, uint32_t in_h, int nch,
                              uint32_t out_w, uint32_t out_h, int32_t filter, uint32_t x0,
                              uint32_t y0, uint32_t cw, uint32_t ch, uint8_t *dst)
{
    bool need_h = out_w != in_w, need_v = out_h != in_h;
    coeffs hc = {0, NULL, NULL, NULL}, vc = {0, NULL, NULL, NULL};
    uint8_t *tmp = NULL;
    int32_t *acc = NULL;
    int16_t *planes = NULL, *khl = NULL;
    uint8_t *grey = NULL;
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
    const uint8_t *rows = px;   /* row r of the horizontal result is rows + r * stride */
    size_t stride = (size_t)in_w * nch;
    uint32_t rows_base = 0;
    /* a grey image held as RGB (a grey JPEG or PNG, PIL's "L") is resized
       as one channel, as PIL resizes "L", and copied to three: the same
       bytes (the channels are independent), a third of the work */
    int oc = nch; /* channels resized */
    if (need_h && nch == 3 && rows_grey(px, in_w, row_first, row_last)) {
        oc = 1;
        grey = prime__image_scratch_alloc((size_t)cw * ch);
        if (grey == NULL)
            oc = nch;
    }
    if (need_h) {
        uint32_t nrows = row_last - row_first;
        tmp = prime__image_scratch_alloc((size_t)cw * oc * (nrows ? nrows : 1));
        if (tmp == NULL) {
            st = prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image", in_w, in_h);
            goto done;
        }
        /* the source columns the window reads */
        uint32_t lo = (uint32_t)hc.bounds[x0 * 2], hi = lo;
        for (uint32_t x = x0; x < x0 + cw; x++) {
            uint32_t a = (uint32_t)hc.bounds[x * 2], b = a + (uint32_t)hc.bounds[x * 2 + 1];
            lo = a < lo ? a : lo;
            hi = b > hi ? b : hi;
        }
        int kpad = (hc.ksize + 15) / 16 * 16;
        if (hc.ksize >= 8 &&
            (planes = prime__image_scratch_alloc(((size_t)(hi - lo) + (size_t)kpad) * oc *
                                                 sizeof *planes)) != NULL &&
            (khl = prime__image_scratch_alloc((size_t)cw * 2 * (size_t)kpad * sizeof *khl)) !=
                NULL) {
            for (uint32_t xx = 0; xx < cw; xx++) {
                const int32_t *k = &hc.kk[(size_t)(xx + x0) * hc.ksize];
                int16_t *kh = khl + (size_t)xx * 2 * (size_t)kpad, *kl = kh + kpad;
                int n = hc.bounds[(xx + x0) * 2 + 1]; /* the weights past it are 0 */
                for (int x = 0; x < kpad; x++) {
                    int32_t v = x < n ? k[x] : 0, l = (int32_t)((uint32_t)v & 2047u);
                    kh[x] = (int16_t)((v - l) / 2048);
                    kl[x] = (int16_t)l;
                }
            }
            hpass_planar_fn pass =
                resample_kernels_get()->hpass_planar[oc == 1 ? 0 : oc == 4 ? 2 : 1];
            pass(px + (size_t)row_first * stride, stride, nrows, tmp, &hc, x0, cw, lo, hi - lo,
                 khl, kpad, planes);
        } else {
            for (uint32_t r = 0; r < nrows; r++) {
                const uint8_t *in = px + (size_t)(r + row_first) * stride;
                uint8_t *o = tmp + (size_t)r * cw * oc;
                if (oc == 1)
                    hpass_row(in, o, &hc, x0, cw, 1, 3);
                else if (nch == 4)
                    hpass_row(in, o, &hc, x0, cw, 4, 4);
                else
                    hpass_row(in, o, &hc, x0, cw, 3, 3);
            }
        }
        rows = tmp;
        stride = (size_t)cw * oc;
        rows_base = row_first;
    } else {
        rows = px + (size_t)x0 * nch; /* the horizontal crop */
    }
    size_t rowlen = (size_t)cw * oc;
    uint8_t *out = oc == nch ? dst : grey;
    if (need_v) {
        acc = prime__image_scratch_alloc(rowlen * sizeof *acc);
        if (acc == NULL) {
            st = prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image", in_w, in_h);
            goto done;
        }
        resample_kernels_get()->vpass(rows, stride, rows_base, &vc, y0, ch, rowlen, acc, out);
    } else {
        for (uint32_t yy = 0; yy < ch; yy++)
            memcpy(out + (size_t)yy * rowlen, rows + (size_t)(yy + y0 - rows_base) * stride,
                   rowlen);
    }
    if (oc != nch)
        for (size_t i = 0; i < (size_t)cw * ch; i++)
            dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = grey[i];
done:
    coeffs_free(&hc);
    coeffs_free(&vc);
    prime__image_scratch_free(tmp);
    prime__image_scratch_free(acc);
    prime__image_scratch_free(planes);
    prime__image_scratch_free(khl);
    prime__image_scratch_free(grey);
    return st;
}

prime_status prime__image_resize_region(const prime_image *src, uint32_t out_w, uint32_t out_h,
                                        int32_t filter, uint32_t x0, uint32_t y0, uint32_t cw,
                                        uint32_t ch, uint8_t *dst)
{
    return resize_px(src->px, src->width, src->height, 3, out_w, out_h, filter, x0, y0, cw, ch,
                     dst);
}

bool prime__image_valid_filter(int32_t f)
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
    if (!prime__image_valid_filter(filter))
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_resize: unknown filter %d",
                            (int)filter);
    if (width == 0 || height == 0 || width > PRIME_IMAGE_MAX_SIDE ||
        height > PRIME_IMAGE_MAX_SIDE || (uint64_t)width * height > ((uint64_t)1 << 32))
        return prime__error(PRIME_E_RANGE, "prime_image_resize: size %u x %u out of range",
                            width, height);
    prime_image *im = NULL;
    prime_status st = prime__image_alloc(width, height, &im);
    if (st != PRIME_OK)
        return st;
    st = prime__image_resize_region(image, width, height, filter, 0, 0, width, height, im->px);
    if (st != PRIME_OK) {
        prime_image_destroy(im);
        return st;
    }
    *out = im;
    return PRIME_OK;
}


/* PIL's resize with NEAREST (what Image.resize uses for "P" and "1" images
 * whatever filter is asked): for an image of another size, output pixel x
 * takes source pixel int(xo), xo starting at scale / 2 and growing by
 * scale = in / out per pixel, accumulated in double (Pillow's
 * ImagingScaleAffine); of the out_w x out_h result, the cw x ch rectangle at
 * (x0, y0) into dst. */
prime_status prime__image_nearest_region(const prime_image *src, uint32_t out_w, uint32_t out_h,
                                   uint32_t x0, uint32_t y0, uint32_t cw, uint32_t ch,
                                   uint8_t *dst)
{
    uint32_t *xs = prime__image_scratch_alloc((size_t)cw * sizeof *xs);
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
    prime__image_scratch_free(xs);
    return PRIME_OK;
}

/* PIL's RGBA resize: premultiply by alpha ("RGBA" -> "RGBa": c * a / 255
 * rounded as MULDIV255), resize the four channels with the filter,
 * divide again ("RGBa" -> "RGBA": 255 * c / a, truncated and clipped, where
 * 0 < a < 255), then drop the alpha (convert("RGB")). */
prime_status prime__image_premultiplied_region(const prime_image *src, uint32_t out_w,
                                               uint32_t out_h, int32_t filter, uint32_t x0,
                                               uint32_t y0, uint32_t cw, uint32_t ch, uint8_t *dst)
{
    size_t np = (size_t)src->width * src->height, nc = (size_t)cw * ch;
    uint8_t *pre = prime__image_scratch_alloc(np * 4);
    uint8_t *out = prime__image_scratch_alloc(nc * 4);
    prime_status st = PRIME_OK;
    if (pre == NULL || out == NULL) {
        st = prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image", src->width,
                          src->height);
        goto done;
    }
    resample_kernels_get()->premultiply(src->px, src->alpha, np, pre);
    st = resize_px(pre, src->width, src->height, 4, out_w, out_h, filter, x0, y0, cw, ch, out);
    if (st != PRIME_OK)
        goto done;
    for (size_t i = 0; i < nc; i++) {
        uint32_t a = out[4 * i + 3];
        for (int c = 0; c < 3; c++) {
            uint32_t v = out[4 * i + c];
            if (a != 0 && a != 255) {
                v = 255u * v / a;
                v = v > 255 ? 255 : v;
            }
            dst[3 * i + c] = (uint8_t)v;
        }
    }
done:
    prime__image_scratch_free(pre);
    prime__image_scratch_free(out);
    return st;
}

/* The spec's 8-bit output (width x height RGB) into dst. */

/* Pillow's ROUND_UP of its 32-bit resampling (libImaging/Resample.c). */
static inline int32_t round_up(double f)
{
    return (int32_t)(f >= 0.0 ? f + 0.5F : f - 0.5F);
}

/* PIL's resize of a 16-bit grey PNG (mode "I"): 32-bit integer samples,
 * weights in double, each pass rounded with ROUND_UP; then, after the crop,
 * its RGB conversion, which clips each sample to 0..255 (i2rgb). */
prime_status prime__image_grey16_region(const prime_image *src, uint32_t out_w, uint32_t out_h,
                                        int32_t filter, uint32_t x0, uint32_t y0, uint32_t cw,
                                        uint32_t ch, uint8_t *dst)
{
    const uint32_t in_w = src->width, in_h = src->height;
    bool need_h = out_w != in_w, need_v = out_h != in_h;
    coeffs hc = {0, NULL, NULL, NULL}, vc = {0, NULL, NULL, NULL};
    int32_t *tmp = NULL;
    prime_status st = PRIME_OK;
    if ((need_h && !precompute_coeffs_kd(in_w, out_w, filter, &hc, true)) ||
        (need_v && !precompute_coeffs_kd(in_h, out_h, filter, &vc, true))) {
        st = prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image", in_w, in_h);
        goto done;
    }
    uint32_t row_first = y0, row_last = y0 + ch;
    if (need_v) {
        row_first = (uint32_t)vc.bounds[y0 * 2];
        row_last = (uint32_t)(vc.bounds[(y0 + ch - 1) * 2] + vc.bounds[(y0 + ch - 1) * 2 + 1]);
        for (uint32_t y = y0 + 1; y < y0 + ch; y++)
            if ((uint32_t)vc.bounds[y * 2] < row_first)
                row_first = (uint32_t)vc.bounds[y * 2];
    }
    uint32_t nrows = row_last - row_first;
    /* the horizontal pass (or the horizontal crop) of the rows needed */
    tmp = prime__image_scratch_alloc((size_t)cw * (nrows ? nrows : 1) * sizeof *tmp);
    if (tmp == NULL) {
        st = prime__error(PRIME_E_NOMEM, "out of memory resizing a %u x %u image", in_w, in_h);
        goto done;
    }
    for (uint32_t r = 0; r < nrows; r++) {
        const uint16_t *in = src->grey16 + (size_t)(r + row_first) * in_w;
        int32_t *o = tmp + (size_t)r * cw;
        for (uint32_t xx = 0; xx < cw; xx++) {
            if (!need_h) {
                o[xx] = in[xx + x0];
                continue;
            }
            int xmin = hc.bounds[(xx + x0) * 2], xmax = hc.bounds[(xx + x0) * 2 + 1];
            const double *k = &hc.kd[(size_t)(xx + x0) * hc.ksize];
            double ss = 0.0;
            for (int x = 0; x < xmax; x++)
                ss += in[x + xmin] * k[x];
            o[xx] = round_up(ss);
        }
    }
    for (uint32_t yy = 0; yy < ch; yy++) {
        uint8_t *o = dst + (size_t)yy * cw * 3;
        for (uint32_t xx = 0; xx < cw; xx++) {
            int32_t v;
            if (need_v) {
                int ymin = vc.bounds[(yy + y0) * 2], ymax = vc.bounds[(yy + y0) * 2 + 1];
                const double *k = &vc.kd[(size_t)(yy + y0) * vc.ksize];
                double ss = 0.0;
                for (int y = 0; y < ymax; y++)
                    ss += tmp[(size_t)((uint32_t)(ymin + y) - row_first) * cw + xx] * k[y];
                v = round_up(ss);
            } else {
                v = tmp[(size_t)(yy + y0 - row_first) * cw + xx];
            }
            uint8_t c = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : v);
            o[3 * xx] = o[3 * xx + 1] = o[3 * xx + 2] = c;
        }
    }
done:
    coeffs_free(&hc);
    coeffs_free(&vc);
    prime__image_scratch_free(tmp);
    return st;
}
