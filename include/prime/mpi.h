/**
 * \file prime/mpi.h
 * \brief libprime-mpi: the PRIME search over the ranks of an MPI
 *        communicator, exactly as one process searches.
 *
 * A separate library (`libprime-mpi.so.1`, pkg-config `prime-mpi`), built
 * only when meson finds MPI (`-Dmpi=auto|enabled|disabled`; Debian:
 * `libopenmpi-dev`). It links libprime and MPI; libprime itself never links
 * MPI. It is a client of libprime's public API (docs/scale.md):
 *
 * - per class (the default): every rank holds the whole store
 *   (prime_mpi_search), or, from a binary store file with binary outcomes,
 *   only the class it searches (prime_mpi_search_file, since 1.3); rank 0
 *   hands out the classes, largest estimated cost first, one at a time to
 *   whichever rank asks (rank 0 searches too when MPI was initialised with
 *   at least MPI_THREAD_FUNNELED); each class is searched whole by one rank
 *   with the single-process code, and rank 0 merges the partial results
 *   into the result prime_search returns (the same JSON, byte for byte,
 *   `candidates` included);
 * - whole data set (PRIME_PARAM_WHOLE_DATASET = 1): every rank searches
 *   its own contiguous range of the images (prime_mpi_search_part on the
 *   part prime_mpi_load_part gives it, or prime_mpi_search on the whole
 *   store), and the integer counts of every candidate tag set are summed
 *   over the ranks with MPI_Allreduce, level by level; the result is again
 *   prime_search's.
 *
 * Every function here is collective: every rank of the communicator calls
 * it, with the same arguments except where said. Errors are agreed on: when
 * any rank fails, every rank returns a failure (the failing rank's status;
 * the other ranks' message names it), so no rank is left waiting. A rank
 * that dies (a signal, a lost node) is MPI's business: with the default
 * error handler the job is aborted; the checkpoint folder lets a rerun
 * resume.
 *
 * The library never prints, never exits and never calls MPI_Abort. It
 * neither initialises nor finalises MPI: the caller does.
 */
#ifndef PRIME_MPI_H
#define PRIME_MPI_H

#include <mpi.h>
#include <stdint.h>

#include "prime/partial.h"
#include "prime/prime.h"
#include "prime/sharded.h"

#if defined(PRIME_STATIC)
#define PRIME_MPI_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define PRIME_MPI_API __attribute__((visibility("default")))
#else
#define PRIME_MPI_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** \addtogroup mpi
 *  @{ */

/** The version of libprime-mpi: that of the libprime it was built with
 *  (PRIME_VERSION_STRING of its build, e.g. "1.1.0").
 *  @since 1.1 */
PRIME_MPI_API const char *prime_mpi_version(void);

/** Load the whole store and its outcomes on every rank (collective): the
 *  input of the per-class search.
 *
 *  tags is anything prime_tagstore_load reads (a tags CSV, JSON Lines, a
 *  binary store, a sharded-store folder NAME.prmd); outcomes_path is an
 *  outcomes file (CSV or binary outcomes), or NULL for the outcomes the
 *  tags file carries (a `correct` or `score` column; PRIME_E_NOT_FOUND when
 *  it has none).
 *  @since 1.1 */
PRIME_MPI_API prime_status prime_mpi_load(MPI_Comm comm, const char *tags,
                                          const char *outcomes_path,
                                          prime_tagstore **store_out,
                                          prime_outcomes **outcomes_out);

/** Load this rank's part of the images and their outcomes (collective):
 *  the input of prime_mpi_search_part. Rank r of P gets the images
 *  prime_shard_range(n, r, P) gives it (a contiguous range of the n images
 *  of the whole store, in store order; empty when P > n): they are images
 *  *first_out .. *first_out + *count_out - 1 of *store_out, a frozen store
 *  with the whole store's tag table (the same names with the same ids),
 *  and *outcomes_out holds their outcomes.
 *
 *  Arguments as prime_mpi_load. Memory per rank is about the store's size
 *  / P in two cases: from a binary store file with an outcomes file (binary
 *  outcomes bound to it, or a CSV), a rank reads only its range of the
 *  file (prime_tagstore_open_part, since 1.2: the file is read once in
 *  blocks for its checksum, then only the range's bytes) and of binary
 *  outcomes; from a sharded-store folder with an outcomes CSV, a rank
 *  reads only the shards that overlap its range (one shard for a rank
 *  without images, for the tag table) and the CSV's rows of their images.
 *  From a tags text file, a sharded-store folder with binary outcomes
 *  (bound to the whole store's checksum), or outcomes in the tags file,
 *  *store_out is the whole store on every rank. *total_out (may be NULL)
 *  gets n.
 *  @since 1.1 */
PRIME_MPI_API prime_status prime_mpi_load_part(MPI_Comm comm, const char *tags,
                                               const char *outcomes_path,
                                               prime_tagstore **store_out,
                                               prime_outcomes **outcomes_out,
                                               uint32_t *first_out, uint32_t *count_out,
                                               uint64_t *total_out);

/** The PRIME search over the ranks of comm (collective); every rank holds
 *  the whole store and its outcomes (prime_mpi_load). config must be the
 *  same on every rank (it is checked); PRIME_PARAM_THREADS is the thread
 *  count of each rank.
 *
 *  Per class: rank 0 hands out the classes (prime_search_classes of
 *  prime/partial.h), largest prime_search_class_costs first, to whichever
 *  rank asks (rank 0 searches too, in a thread of its own, when MPI was
 *  initialised with at least MPI_THREAD_FUNNELED), and merges their
 *  partial results (prime_partial_merge). With PRIME_PARAM_WHOLE_DATASET
 *  set: rank r searches its range of the images (prime_shard_range) with
 *  prime_search_sharded, the sums made by MPI_Allreduce (as
 *  prime_mpi_search_part).
 *
 *  checkpoint_dir (may be NULL; used on rank 0 only, per-class search
 *  only): a folder (created if absent, its parent must exist) where rank 0
 *  saves each class's partial result as it arrives (written atomically),
 *  with a key of the run (the store's checksum and a hash of the
 *  outcomes; the partial results are bound to the store and to the
 *  parameters). A rerun with the same folder after a failure (a killed
 *  rank) searches only the classes not saved there, and returns the result
 *  an uninterrupted run returns. A folder of another run is refused
 *  (PRIME_E_MISMATCH). In whole-data-set mode it is not used here: the
 *  search restarts (prime_mpi_search_part_resume keeps a checkpoint of
 *  that search).
 *
 *  progress (may be NULL; called on rank 0 only, from the calling thread):
 *  classes done out of all classes (per class), or rank 0's view of the
 *  work (whole data set). A non-zero answer stops every rank with
 *  PRIME_E_CANCELLED.
 *
 *  *out: the result on rank 0 (prime_result_destroy it), NULL on the other
 *  ranks: the result prime_search gives for the same store, outcomes and
 *  configuration, rendered byte for byte the same, `candidates` included.
 *  @since 1.1 */
PRIME_MPI_API prime_status prime_mpi_search(MPI_Comm comm, const prime_tagstore *store,
                                            const prime_outcomes *outcomes,
                                            const prime_config *config,
                                            const char *checkpoint_dir,
                                            prime_progress_fn progress, void *user_data,
                                            prime_result **out);

/** The whole-data-set search over the ranks of comm (collective), each
 *  rank holding only its part: images first .. first + count - 1 of store
 *  with their outcomes (prime_mpi_load_part; every rank's store must have
 *  the same tag table, and the parts of the ranks, in rank order, make up
 *  the data set). prime_search_sharded (prime/sharded.h) with
 *  MPI_Allreduce (MPI_SUM of MPI_UINT64_T) as its sum. config and progress
 *  as prime_mpi_search (PRIME_PARAM_WHOLE_DATASET is implied). *out: the
 *  result on rank 0,
 *  NULL on the other ranks.
 *  @since 1.1 */
PRIME_MPI_API prime_status prime_mpi_search_part(MPI_Comm comm, const prime_tagstore *store,
                                                 const prime_outcomes *outcomes,
                                                 uint32_t first, uint32_t count,
                                                 const prime_config *config,
                                                 prime_progress_fn progress, void *user_data,
                                                 prime_result **out);

/** prime_mpi_search_part with a checkpoint (collective): rank 0 keeps the
 *  search's state after each level in checkpoint_dir/whole.state (the
 *  folder is created if absent, its parent must exist; the file is
 *  replaced atomically), and a rerun with the same folder after a failure
 *  (a killed rank, a time limit) resumes after the last level saved
 *  (prime_search_sharded_resume): rank 0 reads the state and sends it to
 *  every rank. The result is the one an uninterrupted run returns, also
 *  with another number of ranks. A state of another run (other images,
 *  outcomes or parameters) is refused on every rank (PRIME_E_MISMATCH):
 *  give an empty or new folder. checkpoint_dir NULL is
 *  prime_mpi_search_part. Other arguments and *out as prime_mpi_search_part.
 *  @since 1.2 */
PRIME_MPI_API prime_status prime_mpi_search_part_resume(MPI_Comm comm,
                                                        const prime_tagstore *store,
                                                        const prime_outcomes *outcomes,
                                                        uint32_t first, uint32_t count,
                                                        const prime_config *config,
                                                        const char *checkpoint_dir,
                                                        prime_progress_fn progress,
                                                        void *user_data, prime_result **out);

/** The per-class search of a tags file over the ranks of comm
 *  (collective), each rank holding only the class it searches when it
 *  can: with a binary store file and binary outcomes bound to it (`prime
 *  convert`), every rank opens the file with prime_class_reader_open
 *  (checked once: its checksum read in blocks; the class index kept) and,
 *  for each class rank 0 hands it, reads only that class's images and
 *  outcomes (prime_class_reader_read), searches them and frees them; rank
 *  0 merges the partial results against the file's tables
 *  (prime_class_reader_tables). Before the search, the ranks share the
 *  work of the cost estimate (each class read once, in batches of about
 *  2^18 images), so the classes go out largest prime_search_class_costs
 *  first, as prime_mpi_search hands them out. Memory per rank is then
 *  about the class index (the class sizes; 4 bytes an image when the file
 *  is not sorted by class) plus the largest class it searches, not the
 *  store.
 *
 *  Any other input (a tags text file, a sharded-store folder, an outcomes
 *  CSV or outcomes in the tags file), or PRIME_PARAM_FOLD_EQUAL (which
 *  needs every image where the results are merged): every rank loads the
 *  whole store (prime_mpi_load) and this is prime_mpi_search.
 *  tags and outcomes_path as prime_mpi_load; config, checkpoint_dir,
 *  progress, user_data and *out as prime_mpi_search (a checkpoint folder
 *  of a run read by classes is keyed by the tables and the outcomes of
 *  each class: it serves a rerun of this function on the same files, not
 *  prime_mpi_search). The result is the one prime_search gives, byte for
 *  byte. PRIME_PARAM_WHOLE_DATASET is refused (PRIME_E_INVALID_ARG): use
 *  prime_mpi_load_part and prime_mpi_search_part_resume.
 *  @since 1.3 */
PRIME_MPI_API prime_status prime_mpi_search_file(MPI_Comm comm, const char *tags,
                                                 const char *outcomes_path,
                                                 const prime_config *config,
                                                 const char *checkpoint_dir,
                                                 prime_progress_fn progress, void *user_data,
                                                 prime_result **out);

/** How many classes a rerun found in checkpoint_dir, after the last
 *  prime_mpi_search of this thread with a checkpoint (0 otherwise): for a
 *  progress line ("resumed 12 of 40 classes"). Rank 0 only.
 *  @since 1.1 */
PRIME_MPI_API uint32_t prime_mpi_resumed_classes(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PRIME_MPI_H */
