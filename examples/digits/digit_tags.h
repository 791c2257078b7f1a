/* digit_tags.h: human-understandable measurements of a 28 x 28 handwritten
 * digit, and a libprime tagger backend built on them.
 *
 * Every measurement is made in integer arithmetic on the ink mask (pixels
 * whose grey value is >= 128 of 255), so the same pixels give the same
 * measurements and tags on every machine. docs/digits.md defines each tag
 * and says how its thresholds were chosen; in short:
 *
 *   thin, thick                 stroke width (digit_measures.thickness)
 *   slant-left, upright,        slant (shear) of the ink
 *   slant-right
 *   short                       size: the ink's bounding box is at most
 *                               18 px tall (MNIST scales every digit so
 *                               that its longer side spans 20 px)
 *   narrow, wide                width / height of the bounding box
 *   shifted-left, shifted-right, bounding-box centre 1.5 px or more away
 *   shifted-up, shifted-down    from the image centre
 *   no-loop, one-loop,          closed loops (holes in the ink); two-loops
 *   two-loops                   is two or more
 *   broken                      the ink is in more than one piece
 *
 * Usable from C++ (extern "C"). digit_measure is pure and thread-safe; a
 * tagger handle follows libprime's rules (one thread at a time). */
#ifndef PRIME_EXAMPLES_DIGIT_TAGS_H
#define PRIME_EXAMPLES_DIGIT_TAGS_H

#include <stdint.h>

#include <prime/sys/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Grey value from which a pixel counts as ink. */
#define DIGIT_INK_LEVEL 128

/** Measurements of one digit (all integers; see docs/digits.md). */
typedef struct digit_measures {
    int32_t ink;         /**< ink pixels (grey >= DIGIT_INK_LEVEL) */
    int32_t thickness;   /**< mean stroke width in 1/100 pixel (see docs) */
    int32_t slant;       /**< shear of the ink in 1/1000: x shift per row
                              going up; > 0 leans right */
    int32_t width;       /**< bounding box of the ink, pixels (0 if none) */
    int32_t height;      /**< bounding box height, pixels */
    int32_t aspect;      /**< 100 * width / height (0 if no ink) */
    int32_t dx2;         /**< 2 * (bounding-box centre x - image centre x) */
    int32_t dy2;         /**< 2 * (bounding-box centre y - image centre y);
                              > 0 is lower */
    int32_t loops;       /**< holes: 4-connected background regions not
                              joined to the border, of >= 2 pixels */
    int32_t pieces;      /**< 8-connected ink components of >= 2 pixels */
} digit_measures;

/** Measure a 28 x 28 grey digit (784 bytes, row-major, 0 = background,
 *  255 = ink). Deterministic. */
void digit_measure(const uint8_t *grey, digit_measures *m);

/** Number of tags of the vocabulary. */
#define DIGIT_TAG_COUNT 16

/** Name of tag i of the vocabulary (0 <= i < DIGIT_TAG_COUNT), in the order
 *  of the tagger; NULL otherwise. */
const char *digit_tag_name(uint32_t i);

/** The tags of a measured digit: writes flags[i] = 1 when tag i holds,
 *  else 0, for the DIGIT_TAG_COUNT tags. */
void digit_tags_of(const digit_measures *m, uint8_t flags[DIGIT_TAG_COUNT]);

/** Create the digit tagger: a prime_tagger made with
 *  prime_tagger_create_from on a pure-C backend ("digits") whose score for
 *  image and tag is 1 when the tag holds and 0 otherwise (the tagger's
 *  default threshold 0.5 selects exactly the tags that hold). Images must
 *  be 28 x 28 (RGB; the grey value is the BT.601 luma, rounded);
 *  another size is PRIME_E_RANGE. Destroy with prime_tagger_destroy. */
prime_status digit_tagger_create(prime_tagger **out);

#ifdef __cplusplus
}
#endif

#endif /* PRIME_EXAMPLES_DIGIT_TAGS_H */
