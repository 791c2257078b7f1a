/** \file prime/partial.h
 * \brief Class-parallel search: search some classes, merge the parts
 *        exactly, move parts between processes as bytes.
 *
 * The per-class search (docs/method.md) treats every class on its own, so
 * it splits into independent units of work: prime_search_classes searches
 * a subset of the classes of a store and gives a partial result
 * (prime_partial). Each class is searched whole, by the code of
 * prime_search, on the machine that searches it. prime_partial_merge turns
 * partial results that together cover every class with images once into a
 * prime_result that is the one prime_search gives for the same store,
 * outcomes and configuration: every writer (prime_result_render,
 * prime_result_write; JSON, CSV and text) renders it byte for byte the
 * same, its candidate count (prime_result_candidate_count) included,
 * whatever the partition of the classes and the thread counts used
 * (docs/scale.md; ../shared/design/SCALE.md, "Exactness" 1).
 *
 * A partial result goes between processes (MPI ranks, a checkpoint folder)
 * as bytes: prime_partial_serialize (to memory) and prime_partial_save /
 * prime_partial_save_to (to a file, through the library's one writer,
 * prime/file.h), read back by prime_partial_load_memory and
 * prime_partial_load. The binary form (docs/binary-format.md, "Partial
 * results") is versioned and bound to the tag store (its payload checksum,
 * prime_tagstore_checksum) and to the configuration; the reader checks
 * everything (magic, version, checksums, every count and id against the
 * store) and refuses, without a partial handle, damaged, truncated or
 * foreign data.
 *
 * prime_search_class_costs estimates the relative cost of each class, so
 * that a scheduler hands out the most expensive classes first.
 *
 * Only the per-class search splits this way: a configuration with
 * PRIME_PARAM_WHOLE_DATASET set is refused (PRIME_E_INVALID_ARG) by
 * prime_search_classes.
 *
 * The same conventions as prime/prime.h apply (prime_status results,
 * prime_last_error() messages, destroy accepts NULL, no structs by value).
 *
 * Thread safety: a partial result is immutable once made; any number of
 * threads may read, serialize or merge it at once. The store and outcomes
 * given to prime_search_classes may be searched by several threads at once
 * (several calls in parallel on one frozen store are fine). */
#ifndef PRIME_PARTIAL_H
#define PRIME_PARTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "prime/prime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** \addtogroup search
 *  @{ */

/** The result of searching some classes of a store (prime_search_classes),
 *  or one read back from bytes (prime_partial_load_memory). It holds the
 *  searched classes' ids and statistics, their failure modes as store ids
 *  (no names), the candidate count, the configuration and the store's
 *  checksum. */
typedef struct prime_partial prime_partial;

/** Search the classes class_ids[0..n_class_ids) of a frozen store (ids in
 *  any order; a class with no image is skipped, as prime_search skips it):
 *  the failure modes of those classes with exactly the numbers prime_search
 *  finds for them, and the number of candidate sets visited in them.
 *  outcomes, config (NULL: the defaults), progress (may be NULL) and
 *  user_data as for prime_search; the progress total covers these classes.
 *  n_class_ids 0 gives an empty partial result.
 *  Errors: a NULL store, outcomes or out, class_ids NULL with n_class_ids >
 *  0, a class id out of range or given twice, whole-data-set mode
 *  (PRIME_E_INVALID_ARG); those of prime_search (PRIME_E_STATE,
 *  PRIME_E_MISMATCH, PRIME_E_NOMEM, PRIME_E_CANCELLED). On failure *out is
 *  NULL.
 *  Needs the store's checksum (prime_tagstore_checksum): known at once for
 *  a store opened from a file that prime_tagstore_save wrote, otherwise
 *  computed at the first call on the store handle (one serialisation of
 *  the store in memory) and kept for later calls.
 *  @since 1.1 */
PRIME_API prime_status prime_search_classes(const prime_tagstore *store,
                                            const prime_outcomes *outcomes,
                                            const prime_config *config,
                                            const uint32_t *class_ids, uint32_t n_class_ids,
                                            prime_progress_fn progress, void *user_data,
                                            prime_partial **out);

/** Destroy a partial result; NULL is fine.
 *  @since 1.1 */
PRIME_API void prime_partial_destroy(prime_partial *partial);

/** Number of classes a partial result holds (the requested classes that
 *  have images); 0 for NULL.
 *  @since 1.1 */
PRIME_API uint32_t prime_partial_class_count(const prime_partial *partial);

/** Store id of class i of a partial result (ascending ids), or PRIME_NONE
 *  when i is out of range or partial is NULL.
 *  @since 1.1 */
PRIME_API uint32_t prime_partial_class_id(const prime_partial *partial, uint32_t i);

/** Number of failure modes a partial result holds; 0 for NULL.
 *  @since 1.1 */
PRIME_API uint64_t prime_partial_mode_count(const prime_partial *partial);

/** Number of candidate sets the search of its classes visited (their share
 *  of prime_result_candidate_count); 0 for NULL.
 *  @since 1.1 */
PRIME_API uint64_t prime_partial_candidate_count(const prime_partial *partial);

/** Merge partial results parts[0..n_parts) of one store into the result of
 *  prime_search: the classes and modes of all parts, sorted as
 *  prime_search sorts them, the candidate counts summed, the
 *  configuration of the parts (their thread counts aside, which do not
 *  change a result) and, with PRIME_PARAM_FOLD_EQUAL, the same folding.
 *  Every class of the store that has images must be in exactly one part.
 *  The parts are not changed and may be merged again.
 *  Errors: NULL store, parts or out, a NULL part (PRIME_E_INVALID_ARG);
 *  n_parts 0 (PRIME_E_INVALID_ARG); a part made for another store or
 *  with another configuration, a class missing or in two parts
 *  (PRIME_E_MISMATCH, naming the class); PRIME_E_NOMEM. On failure *out is
 *  NULL.
 *  @since 1.1 */
PRIME_API prime_status prime_partial_merge(const prime_tagstore *store,
                                           const prime_partial *const *parts, uint32_t n_parts,
                                           prime_result **out);

/** The binary form of a partial result (docs/binary-format.md, "Partial
 *  results") into buf[0..cap): *size_out (may not be NULL) gets its size
 *  in bytes; PRIME_E_BUFFER_TOO_SMALL (nothing written) when cap is less
 *  (call with buf NULL and cap 0 to ask). The bytes depend only on the
 *  partial result's content (the same on every machine: little-endian).
 *  @since 1.1 */
PRIME_API prime_status prime_partial_serialize(const prime_partial *partial, void *buf,
                                               size_t cap, size_t *size_out);

/** Write the binary form of a partial result to `path` as one output of
 *  its own (atomically, prime/file.h).
 *  @since 1.1 */
PRIME_API prime_status prime_partial_save(const prime_partial *partial, const char *path);

/** prime_partial_save through a writer (prime/file.h): the file is added to
 *  `writer` (committed with its other outputs, all or none); writer NULL is
 *  prime_partial_save.
 *  @since 1.1 */
PRIME_API prime_status prime_partial_save_to(const prime_partial *partial,
                                             prime_writer *writer, const char *path);

/** Read a partial result from data[0..size) (its binary form), for a
 *  frozen store and a configuration (NULL: the defaults); name (may be
 *  NULL) stands for the data in messages. Refused, with no partial result:
 *  - PRIME_E_FORMAT: not a partial result (magic), a version this library
 *    does not read, a checksum that does not match, a truncated form or
 *    bytes after its end, a count, id, size or sum out of its bounds or out
 *    of order (a class id outside the store, a class whose image count is
 *    not the store's, a mode of a class the part does not hold, tag ids
 *    outside the store or not ascending, more tags than max_tags, a size
 *    below the class's minimum size or above its image count, a sum of
 *    outcomes outside [0, size]);
 *  - PRIME_E_MISMATCH: the data was made for another store (checksum) or
 *    with another configuration (any parameter that changes a result:
 *    all but PRIME_PARAM_THREADS);
 *  - PRIME_E_INVALID_ARG (NULL data with size > 0, NULL store or out),
 *    PRIME_E_STATE (store not frozen), PRIME_E_NOMEM.
 *  Never reads outside data[0..size).
 *  @since 1.1 */
PRIME_API prime_status prime_partial_load_memory(const void *data, size_t size,
                                                 const char *name,
                                                 const prime_tagstore *store,
                                                 const prime_config *config,
                                                 prime_partial **out);

/** prime_partial_load_memory of a file, read through the library's reader
 *  (prime/file.h; PRIME_E_IO when it cannot be read).
 *  @since 1.1 */
PRIME_API prime_status prime_partial_load(const char *path, const prime_tagstore *store,
                                          const prime_config *config, prime_partial **out);

/** Estimated relative cost of searching each class of a frozen store with
 *  a configuration (NULL: the defaults), for scheduling the most expensive
 *  classes first: costs[c] for every class id c (n_costs must be the
 *  store's class count, else PRIME_E_INVALID_ARG). Units are arbitrary;
 *  only comparisons between the classes of one store and configuration
 *  mean something. 0 for a class with no images. It reads the store only
 *  (no outcomes), in time linear in its tag references, on
 *  PRIME_PARAM_THREADS threads (0: one per CPU). The estimate is
 *  the class's image count plus, with m its tags that reach the minimum
 *  tag count and w = ceil(images / 64), m * m * (w + 1): the pair table and
 *  the first two levels of the search.
 *  @since 1.1 */
PRIME_API prime_status prime_search_class_costs(const prime_tagstore *store,
                                                const prime_config *config, uint64_t *costs,
                                                uint32_t n_costs);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PRIME_PARTIAL_H */
