/**
 * \file prime/backend.h
 * \brief Taggers, classifiers and embedders: the handles that run a
 *        backend, the selection rule that turns scores into tags, and
 *        tagging image files into a tag store.
 *
 * This header is for programs that *run* a model. The tables of functions
 * that a backend *implements* (a model runtime, a heuristic) are in
 * prime/sys/backend.h, with prime_tagger_create_from and friends that wrap
 * one into a handle (as libgit2's `git2/sys/` headers). Ready-made
 * handles: prime_properties_tagger_create, prime_zeroshot_tagger_create
 * (here) and libprime-torch (prime/torch.h). docs/backends.md is the guide.
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

/* ------------------------------------------------------------------------ */
/* Taggers                                                                   */
/* ------------------------------------------------------------------------ */

/** A validated tagger backend with its copied vocabulary and the rule that
 *  turns scores into tags. Not thread-safe: use a handle from one thread
 *  at a time. */
typedef struct prime_tagger prime_tagger;

/** Destroy a tagger and its backend (calls destroy(self)); NULL is fine. */
PRIME_API void prime_tagger_destroy(prime_tagger *tagger);

/** The backend's name ("" when it gave none), owned by the handle (valid
 *  until it is destroyed); NULL for NULL. */
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
 *  selected when its score passes the threshold by the tagger's rule
 *  (prime_tagger_set_rule: score >= threshold unless the rule says
 *  otherwise). NaN is PRIME_E_RANGE; -INFINITY selects every tag (with
 *  top-k: pure top-k). */
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

/** Selection rules of a tagger (prime_tagger_set_rule). */
enum prime_tagger_rule {
    /** A tag is selected when its score >= its threshold, compared in
     *  double (the float score widened exactly). The default of
     *  prime_tagger_create_from. */
    PRIME_TAGGER_RULE_AT_LEAST = 0,
    /** recognize-anything's rule (`torch.sigmoid(logits) > class_threshold`,
     *  RAM's thresholds held in a float32 tensor): a tag is selected when
     *  its float32 score is strictly greater than its threshold rounded to
     *  float32 (round to nearest; beyond the float range: +-FLT_MAX or
     *  +-infinity). Given the same float32 scores it takes exactly RAM's
     *  decisions: a tag of threshold 1 is never selected (a sigmoid is at
     *  most 1.0), and a score equal to the rounded threshold is not.
     *  The default of the libtorch shim's tagger (prime_torch_tagger_create,
     *  RAM-style); -INFINITY still selects every tag. */
    PRIME_TAGGER_RULE_ABOVE = 1
};

/** Set how a score is compared with its threshold: a PRIME_TAGGER_RULE_*
 *  value (PRIME_E_INVALID_ARG for another one). */
PRIME_API prime_status prime_tagger_set_rule(prime_tagger *tagger, int32_t rule);

/** The tagger's rule (a PRIME_TAGGER_RULE_* value) into *rule_out
 *  (PRIME_E_INVALID_ARG for a NULL argument). */
PRIME_API prime_status prime_tagger_get_rule(const prime_tagger *tagger, int32_t *rule_out);

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

/** Options of the calls that decode image files in batches
 *  (prime_tagger_tag_files). Start from PRIME_FILES_OPTIONS_INIT and set
 *  what differs from the defaults; the struct only ever grows at its end,
 *  and the library reads no field beyond struct_size, so a program compiled
 *  against an older header keeps working. */
typedef struct prime_files_options {
    /** sizeof(prime_files_options) as the caller was compiled (set by
     *  PRIME_FILES_OPTIONS_INIT); at least PRIME_FILES_OPTIONS_SIZE_V1. */
    uint32_t struct_size;
    /** Decoding threads; 0 (the default) = one per online CPU. The results
     *  do not depend on it. */
    uint32_t threads;
    /** Images scored per call of the backend; 0 (the default) = 32; more
     *  than 4,096 is taken as 4,096. */
    uint32_t batch;
    /** Largest decoded image in pixels; 0 (the default) = the library's
     *  default (prime/image.h). */
    uint64_t max_pixels;
    /** The name of image i in the store, or NULL (the default, and for any
     *  NULL entry): the path. */
    const char *const *image_names;
    /** Called for a file that cannot be decoded (may be NULL). */
    prime_file_error_fn on_error;
    /** Called after each batch with the files done and n; non-zero cancels
     *  (PRIME_E_CANCELLED). May be NULL. */
    prime_progress_fn progress;
    /** Passed to on_error and progress. */
    void *user_data;
    /** (Version 2, libprime 1.3.) A spec whose JPEG draft is set
     *  (prime_image_spec_set_jpeg_draft): each JPEG file is decoded at the
     *  reduced DCT scale that the spec's resize size allows, as
     *  prime_image_batch_load does with that spec, and handed to the backend
     *  at that size (the backend then resizes it as its own spec says; give
     *  the spec the backend preprocesses with). Only its resize setting and
     *  its draft setting are read; the caller keeps it alive during the
     *  call. NULL (the default), or a spec whose draft is 0: every file at
     *  full size, the pixels of PIL without `draft`. */
    const prime_image_spec *jpeg_draft;
} prime_files_options;

/** Size of a version 1 prime_files_options (up to and including
 *  `user_data`). */
#define PRIME_FILES_OPTIONS_SIZE_V1 \
    ((uint32_t)(offsetof(prime_files_options, user_data) + sizeof(void *)))

/** Size of a version 2 prime_files_options (up to and including
 *  `jpeg_draft`; libprime 1.3). */
#define PRIME_FILES_OPTIONS_SIZE_V2 \
    ((uint32_t)(offsetof(prime_files_options, jpeg_draft) + sizeof(void *)))

/** Initialiser of prime_files_options: every option at its default. */
#define PRIME_FILES_OPTIONS_INIT \
    { (uint32_t)sizeof(prime_files_options), 0, 0, 0, NULL, NULL, NULL, NULL, NULL }

/** Decode n image files (paths) on options->threads decoding threads, score
 *  them in batches of options->batch images on the calling thread, and add
 *  each to a mutable store as prime_tagger_tag_images does, with its name
 *  (options->image_names, else the path) and class_names[i]. options may be
 *  NULL: every option at its default (PRIME_FILES_OPTIONS_INIT). While
 *  batch k is scored, batch k + 1 is decoded in the background, so decoding
 *  overlaps the model (two batches of decoded images are held at once); the
 *  backend itself is only ever called from the calling thread.
 *
 *  A file that cannot be decoded is not added; options->on_error is called
 *  for it, in index order, and the work goes on. At the end the number of
 *  such files goes to *failed_out (may be NULL) and, when it is not 0, the
 *  call returns the status of the first one (its message is the last
 *  error). A backend failure stops at once. options->progress is called
 *  after each batch with the number of files done and n; non-zero cancels
 *  (PRIME_E_CANCELLED). PRIME_E_INVALID_ARG for a NULL tagger, store,
 *  paths or class_names (n > 0), or an options->struct_size below
 *  PRIME_FILES_OPTIONS_SIZE_V1; PRIME_E_STATE for a frozen store. */
PRIME_API prime_status prime_tagger_tag_files(prime_tagger *tagger, const char *const *paths,
                                              const char *const *class_names, uint32_t n,
                                              const prime_files_options *options,
                                              prime_tagstore *store, uint32_t *failed_out);

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

/** Destroy a classifier and its backend; NULL is fine. */
PRIME_API void prime_classifier_destroy(prime_classifier *classifier);

/** The backend's name ("" when it gave none), owned by the handle (valid
 *  until it is destroyed); NULL for NULL. */
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

/** Classify n image files as prime_tagger_tag_files tags them (the same
 *  options: decoding threads, batches scored on the calling thread,
 *  overlap, max_pixels, on_error, progress and failure rules;
 *  options->image_names is not used; options may be NULL): predicted[i] (n
 *  entries) gets the index of the class with the highest score for file i
 *  (ties to the lower index, as prime_classifier_classify), or PRIME_NONE
 *  for a file that could not be decoded or was not reached. Class names are
 *  whatever the backend gives (prime_classifier_class_name); nothing is
 *  stored as a tag, so any character, '|' included, is fine. The result
 *  does not depend on the thread count. */
PRIME_API prime_status prime_classifier_classify_files(prime_classifier *classifier,
                                                       const char *const *paths, uint32_t n,
                                                       const prime_files_options *options,
                                                       uint32_t *predicted,
                                                       uint32_t *failed_out);

/* ------------------------------------------------------------------------ */
/* Embedders                                                                 */
/* ------------------------------------------------------------------------ */

/** A validated embedder backend. Not thread-safe. */
typedef struct prime_embedder prime_embedder;

/** Destroy an embedder and its backend; NULL is fine. */
PRIME_API void prime_embedder_destroy(prime_embedder *embedder);

/** The backend's name ("" when it gave none), owned by the handle (valid
 *  until it is destroyed); NULL for NULL. */
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
