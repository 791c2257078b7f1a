/**
 * \file prime/backend.h
 * \brief Backends: versioned tables of functions for taggers, classifiers
 *        and embedders, the handles that wrap them, and tagging into a tag
 *        store.
 *
 * This header is for people who *write* a backend (a model runtime, a
 * heuristic) and for programs that run one. It includes prime/prime.h; the
 * umbrella header does not include it (as libgit2's `git2/sys/` headers).
 * docs/backends.md is the guide.
 *
 * A backend is a struct of function pointers that begins with the same four
 * fields: `abi_version` (PRIME_BACKEND_ABI_VERSION), `struct_size`
 * (`sizeof` the struct as the backend was compiled), `self` (the backend's
 * state, passed back to every entry) and `name` (for messages). Then come
 * the entries; `destroy` is always mandatory. Entries are only ever
 * appended, never moved or removed: a backend compiled against an older
 * header (a smaller struct_size) keeps working, and the library reads no
 * entry beyond struct_size. The library copies the struct when it wraps it
 * (prime_tagger_create_from and friends) and never writes into the
 * caller's struct.
 *
 * Ownership: when prime_X_create_from succeeds, the handle owns `self` and
 * calls `destroy(self)` exactly once, from prime_X_destroy. When it fails,
 * nothing is taken: the caller still owns `self`.
 *
 * Errors: an entry returns PRIME_OK or a negative prime_status. It may set
 * a message with prime_backend_error(); the wrapper prefixes the backend's
 * name ("tagger 'fake': model file is corrupt"), or writes a generic
 * message if the backend set none. Any other non-zero value is turned into
 * PRIME_E_STATE. Entries are called from the thread that called the
 * wrapper, one call at a time per handle; a backend need not be
 * thread-safe. A backend written in C++ must catch every exception in its
 * entries: none may cross into the library.
 */
#ifndef PRIME_BACKEND_H
#define PRIME_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "prime/prime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** \addtogroup backends
 *  @{ */

/** The backend ABI version of this header: the value of `abi_version` in
 *  every backend struct. It changes only if a struct has to change in a way
 *  other than growing at its end (never so far). */
#define PRIME_BACKEND_ABI_VERSION 1u

/* ------------------------------------------------------------------------ */
/* Tagger backends                                                           */
/* ------------------------------------------------------------------------ */

/** A tagger: scores a batch of images against a vocabulary of tags (one
 *  score per image and tag; higher means more likely). Version 1 entries
 *  are all mandatory. */
typedef struct prime_tagger_backend {
    /** PRIME_BACKEND_ABI_VERSION. */
    uint32_t abi_version;
    /** sizeof(prime_tagger_backend) as the backend was compiled; at least
     *  PRIME_TAGGER_BACKEND_SIZE_V1. */
    uint32_t struct_size;
    /** The backend's state, passed to every entry. */
    void *self;
    /** Name used in messages, e.g. "properties" (may be NULL); copied. */
    const char *name;
    /** Release self. Mandatory. */
    void (*destroy)(void *self);
    /** Number of tags in the vocabulary (at least 1). Mandatory. */
    uint32_t (*tag_count)(void *self);
    /** Name of tag i (0 <= i < tag_count): valid UTF-8, 1..255 bytes, no
     *  '|', all distinct. Read once, by prime_tagger_create_from (copied).
     *  Mandatory. */
    const char *(*tag_name)(void *self, uint32_t i);
    /** Score n images: write n * tag_count finite floats, row-major
     *  (scores[i * tag_count + t] is image i and tag t). Mandatory. */
    prime_status (*score)(void *self, const prime_image *const *images, uint32_t n,
                          float *scores);
} prime_tagger_backend;

/** Size of a version 1 tagger backend (up to and including `score`). */
#define PRIME_TAGGER_BACKEND_SIZE_V1 \
    ((uint32_t)(offsetof(prime_tagger_backend, score) + sizeof(void (*)(void))))

/* ------------------------------------------------------------------------ */
/* Classifier backends                                                       */
/* ------------------------------------------------------------------------ */

/** A classifier: one score per image and class (logits or probabilities;
 *  the predicted class is the highest). */
typedef struct prime_classifier_backend {
    /** PRIME_BACKEND_ABI_VERSION. */
    uint32_t abi_version;
    /** sizeof(prime_classifier_backend) as the backend was compiled; at
     *  least PRIME_CLASSIFIER_BACKEND_SIZE_V1. */
    uint32_t struct_size;
    /** The backend's state, passed to every entry. */
    void *self;
    /** Name used in messages (may be NULL); copied. */
    const char *name;
    /** Release self. Mandatory. */
    void (*destroy)(void *self);
    /** Number of classes (at least 1). Mandatory. */
    uint32_t (*class_count)(void *self);
    /** Name of class i, valid UTF-8 and not empty, or NULL when the classes
     *  have no names. Optional (NULL: the classes are "0", "1", ...). */
    const char *(*class_name)(void *self, uint32_t i);
    /** Score n images: n * class_count finite floats, row-major.
     *  Mandatory. */
    prime_status (*classify)(void *self, const prime_image *const *images, uint32_t n,
                             float *scores);
} prime_classifier_backend;

/** Size of a version 1 classifier backend (up to and including
 *  `classify`). */
#define PRIME_CLASSIFIER_BACKEND_SIZE_V1 \
    ((uint32_t)(offsetof(prime_classifier_backend, classify) + sizeof(void (*)(void))))

/* ------------------------------------------------------------------------ */
/* Embedder backends                                                         */
/* ------------------------------------------------------------------------ */

/** An embedder (e.g. CLIP): images and texts to vectors of one dimension.
 *  At least one of embed_images and embed_texts must be given. */
typedef struct prime_embedder_backend {
    /** PRIME_BACKEND_ABI_VERSION. */
    uint32_t abi_version;
    /** sizeof(prime_embedder_backend) as the backend was compiled; at least
     *  PRIME_EMBEDDER_BACKEND_SIZE_V1. */
    uint32_t struct_size;
    /** The backend's state, passed to every entry. */
    void *self;
    /** Name used in messages (may be NULL); copied. */
    const char *name;
    /** Release self. Mandatory. */
    void (*destroy)(void *self);
    /** Length of every vector (at least 1). Mandatory. */
    uint32_t (*dimension)(void *self);
    /** Embed n images: n * dimension finite floats, row-major. Optional. */
    prime_status (*embed_images)(void *self, const prime_image *const *images, uint32_t n,
                                 float *vectors);
    /** Embed n UTF-8 texts: n * dimension finite floats, row-major.
     *  Optional. */
    prime_status (*embed_texts)(void *self, const char *const *texts, uint32_t n,
                                float *vectors);
} prime_embedder_backend;

/** Size of a version 1 embedder backend (up to and including
 *  `embed_texts`). */
#define PRIME_EMBEDDER_BACKEND_SIZE_V1 \
    ((uint32_t)(offsetof(prime_embedder_backend, embed_texts) + sizeof(void (*)(void))))

/* ------------------------------------------------------------------------ */
/* For backend entries                                                       */
/* ------------------------------------------------------------------------ */

/** For a backend entry: record `message` (may be NULL) as the calling
 *  thread's error detail and return `status`, so that an entry can end with
 *  `return prime_backend_error(PRIME_E_IO, "model.pt: cannot open");`. */
PRIME_API prime_status prime_backend_error(prime_status status, const char *message);

/* ------------------------------------------------------------------------ */
/* Taggers                                                                   */
/* ------------------------------------------------------------------------ */

/** A validated tagger backend with its copied vocabulary and the rule that
 *  turns scores into tags. Not thread-safe: use a handle from one thread
 *  at a time. */
typedef struct prime_tagger prime_tagger;

/** Wrap a tagger backend: checks abi_version (PRIME_E_INVALID_ARG when it
 *  is not 1..PRIME_BACKEND_ABI_VERSION), struct_size (PRIME_E_INVALID_ARG
 *  below PRIME_TAGGER_BACKEND_SIZE_V1) and the mandatory entries
 *  (PRIME_E_INVALID_ARG), then copies the vocabulary (PRIME_E_PARSE for a
 *  name that is not valid UTF-8, empty or holds '|', PRIME_E_LIMIT over 255
 *  bytes, PRIME_E_DUPLICATE for a name given twice). On success the handle
 *  owns backend->self; on failure the caller keeps it. The selection rule
 *  starts as: global threshold 0.5, no top-k. */
PRIME_API prime_status prime_tagger_create_from(const prime_tagger_backend *backend,
                                                prime_tagger **out);

/** Destroy a tagger and its backend (calls destroy(self)); NULL is fine. */
PRIME_API void prime_tagger_destroy(prime_tagger *tagger);

/** The backend's name ("" when it gave none). */
PRIME_API const char *prime_tagger_name(const prime_tagger *tagger);

/** Number of tags of the vocabulary (0 for NULL). */
PRIME_API uint32_t prime_tagger_tag_count(const prime_tagger *tagger);

/** Name of tag i of the vocabulary, or NULL if out of range; owned by the
 *  tagger. */
PRIME_API const char *prime_tagger_tag_name(const prime_tagger *tagger, uint32_t i);

/** Score n images (n may be 0): n * tag_count floats into scores, row-major.
 *  cap counts floats; PRIME_E_BUFFER_TOO_SMALL when it is too small. The
 *  backend's failure is returned with its message prefixed by the tagger's
 *  name; a score that is NaN or infinite gives PRIME_E_RANGE. */
PRIME_API prime_status prime_tagger_score(prime_tagger *tagger,
                                          const prime_image *const *images, uint32_t n,
                                          float *scores, size_t cap);

/** Give every tag the same threshold (the default is 0.5): a tag is
 *  selected when its score >= the threshold. NaN is PRIME_E_RANGE;
 *  -INFINITY selects every tag (with top-k: pure top-k). */
PRIME_API prime_status prime_tagger_set_threshold(prime_tagger *tagger, double threshold);

/** Set one threshold per tag (n must equal the tag count, else
 *  PRIME_E_MISMATCH; NaN is PRIME_E_RANGE). */
PRIME_API prime_status prime_tagger_set_thresholds(prime_tagger *tagger,
                                                   const double *thresholds, uint32_t n);

/** Load per-tag thresholds from a text file: one number per line, line i
 *  for tag i of the vocabulary (as RAM's ram_tag_list_threshold.txt);
 *  blank lines at the end are ignored. PRIME_E_PARSE for a line that is not
 *  a number ("t.txt:7: not a number"), PRIME_E_MISMATCH when the number of
 *  lines differs from the tag count, PRIME_E_IO when it cannot be read. */
PRIME_API prime_status prime_tagger_load_thresholds(prime_tagger *tagger, const char *path);

/** Current threshold of tag i (PRIME_E_INVALID_ARG if out of range). */
PRIME_API prime_status prime_tagger_get_threshold(const prime_tagger *tagger, uint32_t i,
                                                  double *threshold_out);

/** Keep at most k tags per image: those of highest score among the tags
 *  that pass their threshold (ties: the lower tag index first). 0 (the
 *  default) keeps every tag that passes. */
PRIME_API prime_status prime_tagger_set_top_k(prime_tagger *tagger, uint32_t k);

/** Apply the selection rule to the scores of one image (tag_count floats):
 *  the selected tag indices, ascending, into ids. *n_out gets the count;
 *  PRIME_E_BUFFER_TOO_SMALL when cap is smaller (ids = NULL, cap = 0 to
 *  ask). */
PRIME_API prime_status prime_tagger_select(const prime_tagger *tagger, const float *scores,
                                           uint32_t *ids, uint32_t cap, uint32_t *n_out);

/** Score n decoded images and add each to a mutable tag store with its
 *  name (may be NULL or "" for unnamed images), its class and the selected
 *  tags (interned by name). Images are added in order; on failure the ones
 *  before the failing image stay added (discard the store). */
PRIME_API prime_status prime_tagger_tag_images(prime_tagger *tagger,
                                               const prime_image *const *images,
                                               const char *const *image_names,
                                               const char *const *class_names, uint32_t n,
                                               prime_tagstore *store);

/** Called by prime_tagger_tag_files for an image file that cannot be
 *  decoded: its index, the status and the message (naming the file). */
typedef void (*prime_file_error_fn)(void *user_data, uint32_t index, prime_status status,
                                    const char *message);

/** Decode n image files (paths) with `threads` decoding threads (0 = one
 *  per online CPU), score them in batches of `batch` images (0 = 32) on
 *  the calling thread, and add each to a mutable store as
 *  prime_tagger_tag_images does, with image_names[i] (NULL: the path) and
 *  class_names[i]. max_pixels limits a decoded image (0 = the default).
 *  While batch k is scored, batch k + 1 is decoded in the background, so
 *  decoding overlaps the model (two batches of decoded images are held at
 *  once); the backend itself is only ever called from the calling thread.
 *
 *  A file that cannot be decoded is not added; on_error (may be NULL) is
 *  called for it, in index order, and the work goes on. At the end the
 *  number of such files goes to *failed_out (may be NULL) and, when it is
 *  not 0, the call returns the status of the first one (its message is the
 *  last error). A backend failure stops at once. progress (may be NULL) is
 *  called after each batch with the number of files done and n; non-zero
 *  cancels (PRIME_E_CANCELLED). The result does not depend on the thread
 *  count. */
PRIME_API prime_status prime_tagger_tag_files(prime_tagger *tagger, const char *const *paths,
                                              const char *const *image_names,
                                              const char *const *class_names, uint32_t n,
                                              uint32_t threads, uint32_t batch,
                                              uint64_t max_pixels, prime_tagstore *store,
                                              prime_file_error_fn on_error,
                                              prime_progress_fn progress, void *user_data,
                                              uint32_t *failed_out);

/** The model-free image-property tagger of docs/backends.md: a tagger
 *  built through prime_tagger_create_from on a pure-C backend whose scores
 *  are 1 (the property holds) or 0, from prime_image_measure. Vocabulary,
 *  in this order: dark, bright, low-contrast, blurry, noisy, grayscale,
 *  saturated, portrait, landscape, square, then the colour names of
 *  PRIME_IMAGE_COLOR_* (black, white, gray, red, orange, yellow, green,
 *  cyan, blue, purple, pink) for the dominant colour. Deterministic: the
 *  same pixels give the same tags on every machine. */
PRIME_API prime_status prime_properties_tagger_create(prime_tagger **out);

/* ------------------------------------------------------------------------ */
/* Classifiers                                                               */
/* ------------------------------------------------------------------------ */

/** A validated classifier backend. Not thread-safe. */
typedef struct prime_classifier prime_classifier;

/** Wrap a classifier backend; the same checks and ownership rule as
 *  prime_tagger_create_from (class names, when given, must be valid UTF-8
 *  and not empty: PRIME_E_PARSE). */
PRIME_API prime_status prime_classifier_create_from(const prime_classifier_backend *backend,
                                                    prime_classifier **out);

/** Destroy a classifier and its backend; NULL is fine. */
PRIME_API void prime_classifier_destroy(prime_classifier *classifier);

/** The backend's name ("" when it gave none). */
PRIME_API const char *prime_classifier_name(const prime_classifier *classifier);

/** Number of classes (0 for NULL). */
PRIME_API uint32_t prime_classifier_class_count(const prime_classifier *classifier);

/** Name of class i ("0", "1", ... when the backend has none), or NULL if
 *  out of range; owned by the classifier. */
PRIME_API const char *prime_classifier_class_name(const prime_classifier *classifier,
                                                  uint32_t i);

/** Score n images: n * class_count floats, row-major (cap counts floats).
 *  predicted (may be NULL) gets the index of the highest score of each
 *  image (ties: the lower index). Errors as prime_tagger_score. */
PRIME_API prime_status prime_classifier_classify(prime_classifier *classifier,
                                                 const prime_image *const *images, uint32_t n,
                                                 float *scores, size_t cap,
                                                 uint32_t *predicted);

/* ------------------------------------------------------------------------ */
/* Embedders                                                                 */
/* ------------------------------------------------------------------------ */

/** A validated embedder backend. Not thread-safe. */
typedef struct prime_embedder prime_embedder;

/** Wrap an embedder backend; the same checks and ownership rule as
 *  prime_tagger_create_from; PRIME_E_INVALID_ARG when neither embed_images
 *  nor embed_texts is given. */
PRIME_API prime_status prime_embedder_create_from(const prime_embedder_backend *backend,
                                                  prime_embedder **out);

/** Destroy an embedder and its backend; NULL is fine. */
PRIME_API void prime_embedder_destroy(prime_embedder *embedder);

/** The backend's name ("" when it gave none). */
PRIME_API const char *prime_embedder_name(const prime_embedder *embedder);

/** Length of the vectors (0 for NULL). */
PRIME_API uint32_t prime_embedder_dimension(const prime_embedder *embedder);

/** Embed n images: n * dimension floats (cap counts floats).
 *  PRIME_E_STATE when the backend cannot embed images. */
PRIME_API prime_status prime_embedder_embed_images(prime_embedder *embedder,
                                                   const prime_image *const *images,
                                                   uint32_t n, float *vectors, size_t cap);

/** Embed n UTF-8 texts: n * dimension floats (cap counts floats).
 *  PRIME_E_STATE when the backend cannot embed texts. */
PRIME_API prime_status prime_embedder_embed_texts(prime_embedder *embedder,
                                                  const char *const *texts, uint32_t n,
                                                  float *vectors, size_t cap);

/* ------------------------------------------------------------------------ */
/* Zero-shot tagger                                                          */
/* ------------------------------------------------------------------------ */

/** The prompt of prime_zeroshot_tagger_create when none is given. */
#define PRIME_ZEROSHOT_DEFAULT_PROMPT "a photo of {}"

/** A zero-shot tagger on any embedder that embeds both images and texts
 *  (e.g. CLIP): a tagger built through prime_tagger_create_from (named
 *  "zeroshot") whose vocabulary is tags[0..n) and whose score for an image
 *  and tag t is the cosine similarity, in [-1, 1], of the image's
 *  embedding with the embedding of the prompt of t. The prompt of t is
 *  `prompt` with its one "{}" replaced by the tag name (`prompt` NULL:
 *  PRIME_ZEROSHOT_DEFAULT_PROMPT, "a photo of {}"). The n prompts are
 *  embedded once, here, in batches of 64 texts, and L2-normalised; each
 *  scored batch of images is embedded with prime_embedder_embed_images. A
 *  zero vector (prompt or image) has similarity 0 with everything.
 *
 *  The selection rule starts as for every tagger (global threshold 0.5, no
 *  top-k); CLIP's similarities of a matching image and text are typically
 *  0.2 to 0.35, so set a threshold (prime_tagger_set_threshold, or
 *  per-tag ones) or a top-k.
 *
 *  Ownership: on success the tagger owns `embedder` and destroys it in
 *  prime_tagger_destroy(); the caller must not use or destroy it again. On
 *  any failure nothing is taken: the caller still owns `embedder` (its
 *  state unchanged apart from the prompts it embedded) and must destroy
 *  it; *out is NULL.
 *
 *  Errors: PRIME_E_INVALID_ARG (NULL out, embedder or tags, a NULL tag,
 *  n = 0, a prompt that is not valid UTF-8 or does not hold "{}" exactly
 *  once); PRIME_E_STATE (the embedder cannot embed texts, or cannot embed
 *  images); the errors of prime_tagger_create_from for the tag names
 *  (PRIME_E_PARSE, PRIME_E_LIMIT, PRIME_E_DUPLICATE); PRIME_E_LIMIT when
 *  a prompt would be over 65,536 bytes or n x dimension floats do not fit
 *  in memory; the embedder's own failure while embedding the prompts
 *  (its status, its message); PRIME_E_NOMEM. */
PRIME_API prime_status prime_zeroshot_tagger_create(prime_embedder *embedder,
                                                    const char *const *tags, uint32_t n,
                                                    const char *prompt, prime_tagger **out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PRIME_BACKEND_H */
