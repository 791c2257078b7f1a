/**
 * \file prime/sys/backend.h
 * \brief For backend authors: the versioned tables of functions of tagger,
 *        classifier and embedder backends, their initialisers, and the
 *        calls that wrap a table into a handle.
 *
 * Programs that only run a model include prime/backend.h; this header is
 * for people who *write* a backend (a model runtime, a heuristic), as
 * libgit2's `git2/sys/` headers. It includes prime/backend.h.
 *
 * A backend is a struct of function pointers that begins with the same four
 * fields: `abi_version` (PRIME_BACKEND_ABI_VERSION), `struct_size`
 * (`sizeof` the struct as the backend was compiled), `self` (the backend's
 * state, passed back to every entry) and `name` (for messages). Then come
 * the entries; `destroy` is always mandatory. Start from the initialiser,
 * which fills the first two and leaves every entry NULL:
 *
 * \code
 * prime_tagger_backend b = PRIME_TAGGER_BACKEND_INIT;
 * b.self = state;
 * b.name = "mine";
 * b.destroy = my_destroy;
 * b.tag_count = my_tag_count;
 * b.tag_name = my_tag_name;
 * b.score = my_score;
 * prime_tagger *tagger;
 * prime_status st = prime_tagger_create_from(&b, &tagger);
 * \endcode
 *
 * Entries are only ever appended, never moved or removed: a backend
 * compiled against an older header (a smaller struct_size) keeps working,
 * and the library reads no entry beyond struct_size. The library copies
 * the struct when it wraps it and never writes into the caller's struct.
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
#ifndef PRIME_SYS_BACKEND_H
#define PRIME_SYS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "prime/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/** Initialiser of a prime_tagger_backend: abi_version and struct_size set
 *  for this header, self, name and every entry NULL. */
#define PRIME_TAGGER_BACKEND_INIT \
    { PRIME_BACKEND_ABI_VERSION, (uint32_t)sizeof(prime_tagger_backend), NULL, NULL, NULL, \
      NULL, NULL, NULL }

/** Initialiser of a prime_classifier_backend (as PRIME_TAGGER_BACKEND_INIT). */
#define PRIME_CLASSIFIER_BACKEND_INIT \
    { PRIME_BACKEND_ABI_VERSION, (uint32_t)sizeof(prime_classifier_backend), NULL, NULL, \
      NULL, NULL, NULL, NULL }

/** Initialiser of a prime_embedder_backend (as PRIME_TAGGER_BACKEND_INIT). */
#define PRIME_EMBEDDER_BACKEND_INIT \
    { PRIME_BACKEND_ABI_VERSION, (uint32_t)sizeof(prime_embedder_backend), NULL, NULL, NULL, \
      NULL, NULL, NULL }

/* ------------------------------------------------------------------------ */
/* Wrapping a backend into a handle                                          */
/* ------------------------------------------------------------------------ */

/** Wrap a tagger backend: checks abi_version (PRIME_E_INVALID_ARG when it
 *  is not 1..PRIME_BACKEND_ABI_VERSION), struct_size (PRIME_E_INVALID_ARG
 *  below PRIME_TAGGER_BACKEND_SIZE_V1) and the mandatory entries
 *  (PRIME_E_INVALID_ARG), then copies the vocabulary (PRIME_E_PARSE for a
 *  name that is not valid UTF-8, empty or holds '|', PRIME_E_LIMIT over 255
 *  bytes, PRIME_E_DUPLICATE for a name given twice). On success the handle
 *  owns backend->self; on failure the caller keeps it. The selection rule
 *  starts as: global threshold 0.5, PRIME_TAGGER_RULE_AT_LEAST, no top-k. */
PRIME_API prime_status prime_tagger_create_from(const prime_tagger_backend *backend,
                                                prime_tagger **out);

/** Wrap a classifier backend; the same checks and ownership rule as
 *  prime_tagger_create_from (class names, when given, must be valid UTF-8
 *  and not empty: PRIME_E_PARSE). */
PRIME_API prime_status prime_classifier_create_from(const prime_classifier_backend *backend,
                                                    prime_classifier **out);

/** Wrap an embedder backend; the same checks and ownership rule as
 *  prime_tagger_create_from; PRIME_E_INVALID_ARG when neither embed_images
 *  nor embed_texts is given. */
PRIME_API prime_status prime_embedder_create_from(const prime_embedder_backend *backend,
                                                  prime_embedder **out);

#ifdef __cplusplus
}
#endif

#endif /* PRIME_SYS_BACKEND_H */
