/* softmax.h: the digits case study's classifier, a softmax regression
 * (multinomial logistic regression) on the 784 pixels, trained in pure C.
 *
 * Deliberately small (7,850 weights: 10 x (784 + 1)), so that it makes a
 * few hundred mistakes on 4,000 digits it has not seen (about 800 with the
 * case study's 2 epochs at learning rate 0.002 on 1,115 digits: 81 %). Training is plain
 * stochastic gradient descent, one digit at a time, in an order shuffled
 * each epoch by a Fisher-Yates shuffle driven by splitmix64 from an
 * integer seed; the learning rate is lr / (1 + epoch); weights start at 0.
 * All arithmetic is in double, in a fixed order, with its own exp()
 * (softmax_exp), so the same data and seed give the same weights bit for
 * bit (build without -ffast-math and with -ffp-contract=off; checked by
 * softmax_checksum in the tests).
 *
 * The libtorch shim cannot train a model (it only runs TorchScript
 * models), hence this pure-C trainer. */
#ifndef PRIME_EXAMPLES_SOFTMAX_H
#define PRIME_EXAMPLES_SOFTMAX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Inputs of the model: 28 x 28 grey pixels. */
#define SOFTMAX_INPUTS 784
/** Classes: the digits 0 .. 9. */
#define SOFTMAX_CLASSES 10

/** A trained model: w[c][0..783] weights of class c on pixel / 255,
 *  w[c][784] its bias. */
typedef struct softmax_model {
    double w[SOFTMAX_CLASSES][SOFTMAX_INPUTS + 1];
} softmax_model;

/** Train on n digits (pixels: n * 784 bytes, labels: n values 0..9) for
 *  `epochs` passes with base learning rate lr and shuffling seed `seed`.
 *  Returns 0, or -1 for bad arguments (a label over 9, n = 0). */
int softmax_train(softmax_model *model, const uint8_t *pixels, const uint8_t *labels,
                  uint32_t n, uint32_t epochs, double lr, uint64_t seed);

/** Scores (logits) of one digit into scores[0..9]; returns the predicted
 *  class (the highest score, ties to the lower class). */
int softmax_predict(const softmax_model *model, const uint8_t *pixels, double *scores);

/** FNV-1a 64 of the weights' bytes: equal checksums, equal models. */
uint64_t softmax_checksum(const softmax_model *model);

/** exp(x) in plain double arithmetic (range reduction by ln 2, a degree-13
 *  Taylor polynomial, ldexp), the same on every IEEE 754 machine; relative
 *  error below 1e-15 on [-700, 700]. */
double softmax_exp(double x);

#ifdef __cplusplus
}
#endif

#endif /* PRIME_EXAMPLES_SOFTMAX_H */
