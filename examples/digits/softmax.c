/* softmax.c: the pure-C softmax regression of softmax.h. */
#include "softmax.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double softmax_exp(double x)
{
    if (x < -745.0)
        return 0.0;
    if (x > 709.0)
        x = 709.0;
    /* x = k ln2 + r, |r| <= ln2 / 2 (ln2 split in two for exactness) */
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double inv_ln2 = 1.44269504088896338700e+00;
    double kd = floor(x * inv_ln2 + 0.5);
    int k = (int)kd;
    double r = (x - kd * ln2_hi) - kd * ln2_lo;
    /* Taylor series of e^r to degree 13, Horner form */
    double p = 1.0 / 6227020800.0;
    static const double inv_fact[13] = {
        1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
        1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,
        1.0 / 24.0,        1.0 / 6.0,        1.0 / 2.0,       1.0,
        1.0,
    };
    for (int i = 0; i < 13; i++)
        p = p * r + inv_fact[i];
    return ldexp(p, k);
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int softmax_predict(const softmax_model *model, const uint8_t *pixels, double *scores)
{
    int best = 0;
    for (int c = 0; c < SOFTMAX_CLASSES; c++) {
        const double *w = model->w[c];
        double s = w[SOFTMAX_INPUTS];
        for (int i = 0; i < SOFTMAX_INPUTS; i++)
            if (pixels[i])
                s += w[i] * (pixels[i] / 255.0);
        scores[c] = s;
        if (s > scores[best])
            best = c;
    }
    return best;
}

int softmax_train(softmax_model *model, const uint8_t *pixels, const uint8_t *labels,
                  uint32_t n, uint32_t epochs, double lr, uint64_t seed)
{
    if (!model || !pixels || !labels || n == 0)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (labels[i] >= SOFTMAX_CLASSES)
            return -1;
    uint32_t *order = malloc((size_t)n * sizeof *order);
    if (!order)
        return -1;
    memset(model, 0, sizeof *model);
    uint64_t state = seed;
    double x[SOFTMAX_INPUTS], scores[SOFTMAX_CLASSES];
    for (uint32_t e = 0; e < epochs; e++) {
        for (uint32_t i = 0; i < n; i++)
            order[i] = i;
        for (uint32_t i = n - 1; i > 0; i--) {
            uint32_t j = (uint32_t)(splitmix64(&state) % (uint64_t)(i + 1));
            uint32_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        const double rate = lr / (1.0 + e);
        for (uint32_t k = 0; k < n; k++) {
            const uint8_t *px = pixels + (size_t)order[k] * SOFTMAX_INPUTS;
            for (int i = 0; i < SOFTMAX_INPUTS; i++)
                x[i] = px[i] / 255.0;
            softmax_predict(model, px, scores);
            double mx = scores[0];
            for (int c = 1; c < SOFTMAX_CLASSES; c++)
                if (scores[c] > mx)
                    mx = scores[c];
            double sum = 0.0;
            for (int c = 0; c < SOFTMAX_CLASSES; c++) {
                scores[c] = softmax_exp(scores[c] - mx);
                sum += scores[c];
            }
            /* gradient of the cross-entropy: p - onehot */
            for (int c = 0; c < SOFTMAX_CLASSES; c++) {
                double g = scores[c] / sum - (c == labels[order[k]] ? 1.0 : 0.0);
                double step = rate * g;
                double *w = model->w[c];
                for (int i = 0; i < SOFTMAX_INPUTS; i++)
                    if (px[i])
                        w[i] -= step * x[i];
                w[SOFTMAX_INPUTS] -= step;
            }
        }
    }
    free(order);
    return 0;
}

uint64_t softmax_checksum(const softmax_model *model)
{
    const unsigned char *b = (const unsigned char *)model->w;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < sizeof model->w; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
