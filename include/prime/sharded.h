/**
 * \file prime/sharded.h
 * \brief The whole-data-set search over image shards: several processes
 *        (MPI ranks, or threads in one process) each hold a part of the
 *        images and together compute the result one search over all of
 *        them gives.
 *
 * The whole-data-set search (PRIME_PARAM_WHOLE_DATASET) treats every image
 * as one class; at about 10^9 images its bitsets no longer fit one machine
 * (docs/scale.md). prime_search_sharded runs it with the images split into
 * shards, one per process: each process counts, for every candidate tag
 * set, the images of its shard that carry the set (their number and the
 * sum of their outcomes, both exact integers), and a caller-given function
 * sums these arrays over all shards (MPI_Allreduce with MPI_SUM on
 * MPI_UINT64_T in libprime-mpi; a barrier and a shared array for threads).
 * The search goes level by level, breadth-first: sums for the single tags,
 * for the pairs, then for each further level (the count-distribution scheme
 * of parallel Apriori; with 0/1 outcomes the wrong images of a level's sets
 * are summed first and the rest only for the sets with enough of them), in
 * blocks of at most PRIME_SHARDED_SUM_BLOCK values, and it visits exactly the
 * tag sets that the depth-first prime_search visits (docs/method.md,
 * "Sharded search").
 *
 * **Exact by construction.** Sizes are integers; outcomes are summed in
 * fixed point (units of 2^-32, docs/method.md, "Fixed-point outcome
 * sums"), so a sum does not depend on how the images are split or
 * ordered. Every process ends with the identical result: the result
 * prime_search gives in whole-data-set mode on the union of the shards
 * (the store prime_tagstore_merge would build from them, in any order),
 * byte for byte once rendered, `candidates` included.
 *
 * **Shards.** A process describes its shard as one or more parts; a part
 * is a range of images of a frozen store with its outcomes: a whole shard
 * file of a sharded-store folder (NAME.prmd/shard-IIIII.prm, first 0,
 * count = its image count), or a range of one big store that every process
 * opens (prime_shard_range gives contiguous ranges), or several of these.
 * Every part of every process must have the same tag table (the same names
 * with the same ids, as the shards of one sharded store have): it is
 * checked through the sums, and a difference is PRIME_E_MISMATCH on every
 * process. Class ids are ignored (the whole data set is one class).
 *
 * **The sum function** is a collective: every process calls
 * prime_search_sharded with the same config and a sum function that adds
 * the arrays of all processes, and the search makes the same sequence of
 * calls, with the same n, on every process (it decides every step from
 * sums that all processes share). Errors found on one process (an outcome
 * missing, out of memory, a cancel by its progress callback) are told to
 * the others through the sums: every process then stops at the same step,
 * that process with its own error and the others with PRIME_E_CANCELLED
 * ("another shard failed"), and no process is left waiting in a sum.
 * When the sum function itself fails (returns non-zero), this process
 * returns PRIME_E_IO at once; the sum must then fail on every process (as
 * a failed MPI collective does under MPI's default error handler, which
 * aborts the job), or the others would wait forever.
 *
 * Memory per process: the bitsets of the candidate tags over its own
 * images (about candidates x images / 8 bytes / P), the pair table
 * (candidates^2 / 8 bytes, the same on every process), and the tag sets
 * of one level with their counts (16 bytes a set plus its tags). The sums
 * are made in blocks of at most PRIME_SHARDED_SUM_BLOCK values.
 *
 * Thread safety: the function may be called from several threads at once
 * (e.g. one per shard of a test); each call uses only its own arguments.
 */
#ifndef PRIME_SHARDED_H
#define PRIME_SHARDED_H

#include <stddef.h>
#include <stdint.h>

#include "prime/prime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** \addtogroup search
 *  @{ */

/** The most values one call of the sum function gets (2^22, 32 MiB of
 *  uint64_t): a larger round of sums is split into several calls. */
#define PRIME_SHARDED_SUM_BLOCK 4194304u

/** Sum function of prime_search_sharded: replace values[0..n) with their
 *  sums over all processes (value i of the answer = the sum of value i of
 *  every process; no sum overflows, the search sees to it). A collective:
 *  every process calls it at the same step with the same n (1 <= n <=
 *  PRIME_SHARDED_SUM_BLOCK). Return 0 on success, anything else on failure
 *  (the search then returns PRIME_E_IO). Called from the thread that
 *  called prime_search_sharded.
 *  @since 1.1 */
typedef int32_t (*prime_sum_fn)(void *user_data, uint64_t *values, uint64_t n);

/** One part of a process's shard: images first .. first + count - 1 of a
 *  frozen store, with their outcomes (outcomes holds one value per image
 *  of the store, as for prime_search; those of the range must be set).
 *  @since 1.1 */
typedef struct prime_shard_part {
    const prime_tagstore *store;    /**< frozen; the tag table of every part */
    const prime_outcomes *outcomes; /**< one per image of store */
    uint32_t first;                 /**< first image of the part */
    uint32_t count;                 /**< number of images (0 is fine) */
} prime_shard_part;

/** The whole-data-set search over image shards (file comment above): this
 *  process's shard is parts[0..n_parts) (n_parts >= 1; a process with no
 *  images passes one part of count 0, whose store supplies the tag table).
 *  config may be NULL for the defaults; it is used as for prime_search
 *  with PRIME_PARAM_WHOLE_DATASET set (set or not in config: the result's
 *  parameters have it set), and must be the same on every process
 *  (checked: PRIME_E_MISMATCH). PRIME_PARAM_FOLD_EQUAL works as for
 *  prime_search (the sizes it compares are summed too);
 *  PRIME_PARAM_THREADS threads count the images of this process (0: one
 *  per CPU; with one process per core, set it to 1). progress (may be NULL) is called now and then
 *  with this process's view of the work; a non-zero answer cancels the
 *  search on every process (PRIME_E_CANCELLED everywhere) at the next sum.
 *
 *  *out receives the result: on every process the same, equal to
 *  prime_search in whole-data-set mode on the union of all shards. The
 *  union must hold fewer than 2^32 images (PRIME_E_LIMIT on every
 *  process). A NULL parts, part store or outcomes, sum or out is
 *  PRIME_E_INVALID_ARG on this process before any sum is made (a
 *  programming error: the other processes would wait in their first sum);
 *  every other error is agreed on through the sums (file comment).
 *  @since 1.1 */
PRIME_API prime_status prime_search_sharded(const prime_shard_part *parts, uint32_t n_parts,
                                            const prime_config *config, prime_sum_fn sum,
                                            void *sum_data, prime_progress_fn progress,
                                            void *progress_data, prime_result **out);

/** Save function of prime_search_sharded_resume: called on every process
 *  after each level of the search is complete (level 1, 2, ...), with the
 *  search's state: state[0..size) (valid during the call only), the same
 *  bytes on every process whatever the split of the images (every value in
 *  it is a sum over all processes). Keep the last one (one process is
 *  enough, e.g. write it to a file, atomically). Return 0 to go on,
 *  anything else to fail the search (PRIME_E_IO on this process, agreed on
 *  at the next step: every process stops). Called from the thread that
 *  called prime_search_sharded_resume.
 *  @since 1.2 */
typedef int32_t (*prime_sharded_save_fn)(void *user_data, const void *state, size_t size,
                                         uint32_t level);

/** prime_search_sharded with a checkpoint: save (may be NULL) is given the
 *  search's state after each level, and a search given such a state
 *  (state[0..state_size), NULL and 0 for none) resumes after its level:
 *  the levels it holds are not searched again (level 1, one pass over the
 *  images and one round of sums, is), and the result is the one the search
 *  without interruption gives, byte for byte once rendered (`candidates`
 *  included). The state does not depend on how the images are split: a
 *  rerun with another number of processes resumes it.
 *
 *  A state is bound to the search: the parameters, the tag table, the
 *  images and their outcomes (a fingerprint of every image's tags and
 *  outcome, which does not depend on their order or split, and the
 *  level-1 sums). A state of another search is refused with
 *  PRIME_E_MISMATCH, a damaged one with PRIME_E_FORMAT, on every process.
 *  Every process must pass the same state, or all none
 *  (PRIME_E_MISMATCH otherwise). The other arguments, the errors and the
 *  result are those of prime_search_sharded; a non-zero answer of save is
 *  PRIME_E_IO. The fingerprint costs one more pass over the local images.
 *  @since 1.2 */
PRIME_API prime_status prime_search_sharded_resume(const prime_shard_part *parts,
                                                   uint32_t n_parts, const prime_config *config,
                                                   prime_sum_fn sum, void *sum_data,
                                                   const void *state, size_t state_size,
                                                   prime_sharded_save_fn save, void *save_data,
                                                   prime_progress_fn progress,
                                                   void *progress_data, prime_result **out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PRIME_SHARDED_H */
