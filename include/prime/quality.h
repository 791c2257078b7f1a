/**
 * \file prime/quality.h
 * \brief Description quality of failure modes: embedding matrices and the
 *        similarity, specificity and coherency metrics of the paper.
 *
 * PRIME describes each failure mode by a sentence ("a photo of <class>
 * <tag1> ..."). The paper checks those descriptions with a vision-language
 * model (CLIP; docs/method.md, section 2). This header holds the part that
 * needs no model: the embeddings are given as matrices (from an embedder
 * backend, from a file, or from the caller's memory) and the metrics are
 * computed from them.
 *
 * **Embeddings** (prime_embeddings): a rows x dim matrix of float32 values,
 * all finite. Files are either raw little-endian float32 (dim given by the
 * caller, rows = size / (4 dim)) or NumPy `.npy` (format versions 1, 2 and
 * 3, dtype '<f4' or '<f8' (converted to float), 'fortran_order': False,
 * two dimensions; the header dict is parsed strictly: exactly the keys
 * 'descr', 'fortran_order' and 'shape'). Image embeddings hold one row per
 * image of a tag store, in store order, or in any order keyed by image name
 * with a companion ids file (one image name per line) joined with
 * prime_embeddings_join. Text embeddings hold one row per description, in
 * the order of the modes of the result.
 *
 * **Metrics** of a group G of images of class c, with text embedding t
 * (cos = cosine similarity; a zero vector has cosine 0 with everything):
 *
 *  - similarity = mean over i in G of cos(t, x_i);
 *  - specificity = AUROC of cos(t, x) separating G from R, the images of
 *    c outside G: (the number of pairs (i in G, j in R) with s_i > s_j,
 *    plus 1/2 per tie) / (|G| |R|), computed exactly from average ranks
 *    (the Mann-Whitney U statistic divided by |G| |R|); NaN when R is
 *    empty;
 *  - coherency = coh(G) - coh(c), where coh(S) = mean over i in S of
 *    cos(x_i, m_S) and m_S = mean over i in S of x_i / |x_i| (the centroid
 *    of the unit-normalised embeddings; coh(S) = |m_S| when no vector is
 *    zero). It needs no text: > 0 means the images of G gather more
 *    tightly than those of their class, 0 as tightly, < 0 less.
 *
 * Similarity and specificity are NaN for a group without a text embedding
 * (e.g. a cluster of a baseline). Per class and overall averages are plain
 * means over the groups, leaving out NaN values (NaN when none is left).
 *
 * A prime_quality handle is made for one tag store and its image
 * embeddings; groups are added to it: the failure modes of a result
 * (prime_quality_add_result: S_T = the images of the mode's class that
 * carry all its tags, classes and tags matched **by name** as in
 * prime/eval.h; in whole-data-set mode the class is the whole store) or
 * any list of images (prime_quality_add_group), so that a clustering
 * baseline is scored on equal terms.
 *
 * Statuses: PRIME_E_IO (a file cannot be read), PRIME_E_FORMAT (an
 * embedding file is malformed: size, header, dtype, order, shape, a NaN or
 * infinite value; the message names the file and the problem),
 * PRIME_E_PARSE (an ids file: empty or invalid UTF-8 name, a blank line),
 * PRIME_E_DUPLICATE (a name twice in an ids file), PRIME_E_MISMATCH (a row
 * count or dimension that does not fit: ids lines vs rows, image rows vs
 * store images, text rows vs modes, text dim vs image dim, an image of the
 * store missing from the ids file), PRIME_E_INVALID_ARG (NULL, an index out
 * of range, an image of a group outside its class).
 *
 * The same conventions as prime/prime.h apply. Embeddings and a quality
 * handle that are not being modified may be read by any number of threads.
 */
#ifndef PRIME_QUALITY_H
#define PRIME_QUALITY_H

#include <stddef.h>
#include <stdint.h>

#include "prime/prime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** \addtogroup evaluation
 *  @{ */

/* ------------------------------------------------------------------------ */
/* Embedding matrices                                                        */
/* ------------------------------------------------------------------------ */

/** A rows x dim matrix of finite float32 values, row-major. */
typedef struct prime_embeddings prime_embeddings;

/** Largest embedding dimension accepted. */
#define PRIME_EMBEDDINGS_MAX_DIM 1048576

/** Embeddings from memory: rows x dim floats, row-major (copied). rows may
 *  be 0 (data may then be NULL); dim in 1..PRIME_EMBEDDINGS_MAX_DIM.
 *  PRIME_E_FORMAT for a NaN or infinite value (the message gives row and
 *  column). */
PRIME_API prime_status prime_embeddings_create(const float *data, uint64_t rows,
                                               uint32_t dim, prime_embeddings **out);

/** Load an embedding file: a NumPy `.npy` file (recognised by its magic
 *  bytes "\x93NUMPY"; dim = 0 or the dim of the file) or raw float32
 *  little-endian (dim >= 1 required; the size must be a multiple of
 *  4 dim). Errors name the file and what is wrong. */
PRIME_API prime_status prime_embeddings_load(const char *path, uint32_t dim,
                                             prime_embeddings **out);

/** Same as prime_embeddings_load from a memory buffer; `name` is used in
 *  messages (may be NULL: "<memory>"). */
PRIME_API prime_status prime_embeddings_load_memory(const void *data, size_t size,
                                                    const char *name, uint32_t dim,
                                                    prime_embeddings **out);

/** Destroy embeddings; NULL is fine. */
PRIME_API void prime_embeddings_destroy(prime_embeddings *emb);

/** Number of rows (0 for NULL). */
PRIME_API uint64_t prime_embeddings_rows(const prime_embeddings *emb);

/** Dimension (0 for NULL). */
PRIME_API uint32_t prime_embeddings_dim(const prime_embeddings *emb);

/** Row i (dim floats, owned by the handle), or NULL if out of range. */
PRIME_API const float *prime_embeddings_row(const prime_embeddings *emb, uint64_t row);

/** Reorder keyed embeddings into store order: row k of `emb` belongs to the
 *  image named on line k of the ids text (one name per line, LF or CRLF, a
 *  last line without newline is fine; the number of names must equal the
 *  rows). Names must be non-empty, valid UTF-8 and unique; names the store
 *  does not hold are ignored; every image of the store must be named
 *  (PRIME_E_MISMATCH naming the first one missing). The new matrix has one
 *  row per image of the store. `ids_name` is used in messages (may be NULL:
 *  "<memory>"). */
PRIME_API prime_status prime_embeddings_join_memory(const prime_embeddings *emb,
                                                    const void *ids, size_t ids_size,
                                                    const char *ids_name,
                                                    const prime_tagstore *store,
                                                    prime_embeddings **out);

/** Same as prime_embeddings_join_memory with the ids read from a file. */
PRIME_API prime_status prime_embeddings_join(const prime_embeddings *emb,
                                             const char *ids_path,
                                             const prime_tagstore *store,
                                             prime_embeddings **out);

/* ------------------------------------------------------------------------ */
/* Metrics on plain arrays                                                   */
/* ------------------------------------------------------------------------ */

/** Cosine similarity of a[0..dim) and b[0..dim), computed in double; 0 when
 *  either vector is zero (or dim is 0). PRIME_E_INVALID_ARG for a NULL
 *  cos_out, or a NULL a or b with dim > 0. */
PRIME_API prime_status prime_vec_cosine(const float *a, const float *b, uint32_t dim,
                                        double *cos_out);

/** AUROC of scores: the probability that a value of pos[0..npos) is greater
 *  than one of neg[0..nneg), ties counting 1/2, computed exactly from
 *  average ranks (U / (npos nneg)). NaN when npos or nneg is 0.
 *  PRIME_E_INVALID_ARG for a NaN value or a NULL array with a non-zero
 *  count. */
PRIME_API prime_status prime_stat_auroc(const double *pos, uint64_t npos, const double *neg,
                                        uint64_t nneg, double *auroc_out);

/* ------------------------------------------------------------------------ */
/* Quality handle                                                            */
/* ------------------------------------------------------------------------ */

/** Groups of images of one store with their metrics. */
typedef struct prime_quality prime_quality;

/** Start a quality evaluation of groups of images of a frozen store whose
 *  image embeddings are `images` (one row per image, in store order). The
 *  handle copies what it needs: store and embeddings may be destroyed
 *  afterwards. */
PRIME_API prime_status prime_quality_create(const prime_tagstore *store,
                                            const prime_embeddings *images,
                                            prime_quality **out);

/** Destroy a quality handle; NULL is fine. */
PRIME_API void prime_quality_destroy(prime_quality *q);

/** Add one group: images[0..n) (store indices, duplicates merged) of class
 *  class_id (PRIME_NONE: the reference is the whole store; else every image
 *  must belong to that class), with its text embedding text[0..dim) (NULL
 *  and dim 0: no text, similarity and specificity NaN) and a label (UTF-8,
 *  copied; NULL = ""). The group's index is written to index_out (may be
 *  NULL). n = 0 gives a group whose metrics are all NaN. */
PRIME_API prime_status prime_quality_add_group(prime_quality *q, const char *label,
                                               uint32_t class_id, const uint32_t *images,
                                               uint64_t n, const float *text, uint32_t dim,
                                               uint64_t *index_out);

/** Add the failure modes of a result, one group per mode in its order,
 *  labelled by their descriptions, matched to the store by name. texts
 *  holds one row per mode (rows = prime_result_mode_count, dim = the image
 *  dim); it may be NULL (no text: only coherency). */
PRIME_API prime_status prime_quality_add_result(prime_quality *q, const prime_result *result,
                                                const prime_embeddings *texts);

/** The same from a result JSON file written by `prime search --format json`
 *  (read as prime_eval_load does). */
PRIME_API prime_status prime_quality_add_result_file(prime_quality *q,
                                                     const char *result_path,
                                                     const prime_embeddings *texts);

/** Number of groups (0 for NULL). */
PRIME_API uint64_t prime_quality_group_count(const prime_quality *q);

/** Label of group i (a mode's description), or NULL if out of range. */
PRIME_API const char *prime_quality_group_label(const prime_quality *q, uint64_t i);

/** Class name of group i ("(all)" for PRIME_NONE), or NULL if out of range. */
PRIME_API const char *prime_quality_group_class_name(const prime_quality *q, uint64_t i);

/** Metrics of group i: its size, the size of its class, similarity,
 *  specificity and coherency (see the top of this header). Any out pointer
 *  may be NULL. */
PRIME_API prime_status prime_quality_group_metrics(const prime_quality *q, uint64_t i,
                                                   uint64_t *size_out,
                                                   uint64_t *class_size_out,
                                                   double *similarity_out,
                                                   double *specificity_out,
                                                   double *coherency_out);

/** Number of classes that have groups, sorted by name (0 for NULL). */
PRIME_API uint32_t prime_quality_class_count(const prime_quality *q);

/** Name of averaged class i, or NULL if out of range. */
PRIME_API const char *prime_quality_class_name(const prime_quality *q, uint32_t i);

/** Averages over the groups of class i (NaN values left out): the number
 *  of groups and the mean similarity, specificity and coherency. Any out
 *  pointer may be NULL. */
PRIME_API prime_status prime_quality_class_metrics(const prime_quality *q, uint32_t i,
                                                   uint64_t *groups_out,
                                                   double *similarity_out,
                                                   double *specificity_out,
                                                   double *coherency_out);

/** Averages over all groups (NaN values left out). Any out pointer may be
 *  NULL. */
PRIME_API prime_status prime_quality_overall(const prime_quality *q, uint64_t *groups_out,
                                             double *similarity_out,
                                             double *specificity_out,
                                             double *coherency_out);

/** Render as JSON (docs/formats.md, "Description quality (output)") or a
 *  text table (PRIME_FORMAT_JSON or PRIME_FORMAT_TEXT) into buf;
 *  *needed_out gets the length without the NUL; PRIME_E_BUFFER_TOO_SMALL
 *  if cap <= that length (buf = NULL, cap = 0 to ask). */
PRIME_API prime_status prime_quality_render(const prime_quality *q, int32_t format,
                                            char *buf, size_t cap, size_t *needed_out);

/** Write to a file (temporary file and rename: no partial file). */
PRIME_API prime_status prime_quality_write(const prime_quality *q, int32_t format,
                                           const char *path);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PRIME_QUALITY_H */
