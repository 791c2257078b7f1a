/*
 * libprime: find and explain where an image classifier fails, in words.
 *
 * This is the umbrella header and the API reference of the core library.
 * The method and its exact contracts are described in docs/method.md
 * (PRIME, ICLR 2024): every image carries a set of human-understandable
 * tags and an outcome (1 = classified correctly, 0 = wrong, or a score in
 * [0, 1]); the search reports, class by class, every small combination of
 * tags under which accuracy drops sharply and every tag is necessary.
 *
 * Conventions (see docs/api.md for the long form):
 *
 *  - Every fallible function returns a prime_status: PRIME_OK (0) or a
 *    negative code whose meaning never changes. Results come back through
 *    out-parameters. On failure a handle out-parameter (prime_X **out) is
 *    set to NULL, whatever failed; every other out-parameter is left as it
 *    was, except the size or count that PRIME_E_BUFFER_TOO_SMALL reports
 *    (needed_out, n_out), as the function says.
 *  - prime_last_error() gives a per-thread message with the details of the
 *    last failure on that thread (file, line, what was wrong). A successful
 *    call leaves it as it was.
 *  - The library never prints, never exits and never aborts on bad input.
 *  - Handles are created by prime_X_create / prime_X_open / prime_X_load and
 *    released by prime_X_destroy, which accepts NULL.
 *  - Strings are UTF-8 and NUL-terminated. A `const char *` returned by the
 *    library is owned by the handle it came from and stays valid until that
 *    handle is destroyed (or, for a mutable tag store, until the next call
 *    that adds to it).
 *  - No variadic functions, no structs by value, fixed-width integers: the
 *    whole API can be called from Python's ctypes as it is.
 *
 * Thread safety: functions may be called from any thread. A handle that is
 * being modified must not be used by another thread at the same time. A
 * frozen tag store, an outcomes vector that is not being modified, a
 * configuration that is not being modified and a result are read-only and
 * may be shared by any number of threads, e.g. for concurrent searches.
 */
#ifndef PRIME_PRIME_H
#define PRIME_PRIME_H

#include <stddef.h>
#include <stdint.h>

#include "prime/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** \addtogroup errors
 *  @{ */

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

/** Major version; it is also the ABI version (the shared library's soname). */
#define PRIME_VERSION_MAJOR 1
/** Minor version: grows when the API grows compatibly. */
#define PRIME_VERSION_MINOR 3
/** Patch version: fixes only. */
#define PRIME_VERSION_PATCH 0
/** The version as one number: major * 10000 + minor * 100 + patch. */
#define PRIME_VERSION_NUMBER \
    (PRIME_VERSION_MAJOR * 10000 + PRIME_VERSION_MINOR * 100 + PRIME_VERSION_PATCH)
/** The version as text, e.g. "1.3.0". */
#define PRIME_VERSION_STRING "1.3.0"

/** Version number of the library actually loaded (compare with
 *  PRIME_VERSION_NUMBER, the one the caller was compiled against). */
PRIME_API uint32_t prime_version_number(void);

/** Version text of the library actually loaded, e.g. "1.0.0"; static. */
PRIME_API const char *prime_version(void);

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

/** Result of every fallible function: PRIME_OK or one of the negative codes
 *  below. The codes are fixed forever; new ones may be added. */
typedef int32_t prime_status;

/** The values of prime_status (functions return them as int32_t). */
enum prime_status_code {
    PRIME_OK = 0,
    /** A NULL pointer, an id out of range, an unknown parameter. */
    PRIME_E_INVALID_ARG = -1,
    /** Memory could not be allocated. */
    PRIME_E_NOMEM = -2,
    /** A file could not be opened, read or written. */
    PRIME_E_IO = -3,
    /** A text input (CSV, JSON Lines) is malformed: bad quoting, a missing
     *  column, invalid UTF-8, a value that is not a number, an empty file. */
    PRIME_E_PARSE = -4,
    /** Binary data is not valid: a binary store (magic, version, size,
     *  checksum or content), an image file (corrupt, truncated, unsupported)
     *  or a compressed file. */
    PRIME_E_FORMAT = -5,
    /** A name that must be unique (an image) was given twice. */
    PRIME_E_DUPLICATE = -6,
    /** A looked-up name or id does not exist. */
    PRIME_E_NOT_FOUND = -7,
    /** The handle is in the wrong state: adding to a frozen tag store,
     *  searching an unfrozen one. */
    PRIME_E_STATE = -8,
    /** Outcomes do not fit the tag store: wrong count, an image without an
     *  outcome. */
    PRIME_E_MISMATCH = -9,
    /** A value is outside its allowed range (an outcome outside [0, 1], a
     *  parameter outside its bounds). */
    PRIME_E_RANGE = -10,
    /** The progress callback asked to stop. */
    PRIME_E_CANCELLED = -11,
    /** A caller-supplied buffer is too small; the size needed was written. */
    PRIME_E_BUFFER_TOO_SMALL = -12,
    /** A hard limit was exceeded (a name longer than 255 bytes for tags,
     *  more than 2^32-2 images, tags or classes). */
    PRIME_E_LIMIT = -13,
    /** A worker thread could not be started. */
    PRIME_E_THREAD = -14
};

/** Static name of a status, e.g. "PRIME_E_PARSE"; "PRIME_E_UNKNOWN" for a
 *  code this version does not know. Never NULL. */
PRIME_API const char *prime_status_name(prime_status status);

/** Static one-line description of a status, e.g. "malformed input". */
PRIME_API const char *prime_status_message(prime_status status);

/** Detail message of the last failure on the calling thread, e.g.
 *  "tags.csv:12: unterminated quoted field". Empty string when there was
 *  none. Owned by the library; valid until the next libprime call on the
 *  same thread. Successful calls do not clear it. */
PRIME_API const char *prime_last_error(void);

/** Copy the calling thread's last error message into buf (NUL-terminated,
 *  truncated to cap - 1 bytes). Returns the length of the full message, so a
 *  caller can size a buffer (call with buf = NULL, cap = 0: buf NULL or cap
 *  0 writes nothing). */
PRIME_API size_t prime_last_error_copy(char *buf, size_t cap);

/** Forget the calling thread's last error message. */
PRIME_API void prime_clear_error(void);

/** @} */

/** \addtogroup store
 *  @{ */

/* ------------------------------------------------------------------------ */
/* Numbers as text (strict: what the file readers and the command line take) */
/* ------------------------------------------------------------------------ */

/** Parse a whole decimal number in 0..2^64-1: the text is decimal digits
 *  only (no blank, no sign, no "0x"); a value that does not fit is an error,
 *  never a wrap (PRIME_E_PARSE). *out is unchanged on failure. */
PRIME_API prime_status prime_parse_u64(const char *text, uint64_t *out);

/** Parse a finite decimal number in the C locale whatever the program's
 *  locale ("0.5", "-1e-3"): no blank, no hexadecimal, no inf or nan
 *  (PRIME_E_PARSE). *out is unchanged on failure. */
PRIME_API prime_status prime_parse_double(const char *text, double *out);

/* ------------------------------------------------------------------------ */
/* Tag store                                                                 */
/* ------------------------------------------------------------------------ */

/** A set of images, each with a class and a set of tags. Built mutably
 *  (intern names, add images), then frozen; a frozen store is read-only,
 *  may be searched from many threads at once, and can be saved to and
 *  opened from a binary file. Ids are dense: tags, classes and images are
 *  numbered 0, 1, 2, ... in the order they were first added. */
typedef struct prime_tagstore prime_tagstore;

/** One outcome per image of a tag store (see "Outcomes" below). */
typedef struct prime_outcomes prime_outcomes;

/** A set of output files written all or none (prime/file.h). */
typedef struct prime_writer prime_writer;

/** Id value meaning "no such entry" and, for queries, "all classes". */
#define PRIME_NONE UINT32_MAX

/** Longest tag name, in bytes. */
#define PRIME_MAX_TAG_NAME 255

/** Create an empty, mutable tag store. */
PRIME_API prime_status prime_tagstore_create(prime_tagstore **out);

/** Destroy a tag store; NULL is fine. */
PRIME_API void prime_tagstore_destroy(prime_tagstore *store);

/** Intern a tag name (valid UTF-8, 1..255 bytes, no '|') and give its id;
 *  interning the same name again gives the same id. Store must be
 *  mutable. */
PRIME_API prime_status prime_tagstore_intern_tag(prime_tagstore *store,
                                                 const char *name,
                                                 uint32_t *id_out);

/** Intern a class name (valid UTF-8, at least one byte) and give its id.
 *  Store must be mutable. */
PRIME_API prime_status prime_tagstore_intern_class(prime_tagstore *store,
                                                   const char *name,
                                                   uint32_t *id_out);

/** Add an image by ids. image_name may be NULL or "" for an unnamed image
 *  (it cannot be joined to an outcomes file); a non-empty name must be
 *  valid UTF-8 and unique in the store. tag_ids may hold duplicates (they
 *  are merged) and may be NULL when n_tags is 0. The new image's index is
 *  written to index_out if it is not NULL. Store must be mutable. */
PRIME_API prime_status prime_tagstore_add_image(prime_tagstore *store,
                                                const char *image_name,
                                                uint32_t class_id,
                                                const uint32_t *tag_ids,
                                                uint32_t n_tags,
                                                uint32_t *index_out);

/** Add an image by names: the class and tags are interned as needed.
 *  Same rules as prime_tagstore_add_image. */
PRIME_API prime_status prime_tagstore_add_image_names(prime_tagstore *store,
                                                      const char *image_name,
                                                      const char *class_name,
                                                      const char *const *tag_names,
                                                      uint32_t n_tags,
                                                      uint32_t *index_out);

/** Freeze the store: no more additions; builds the per-class image lists
 *  the search and queries use. Freezing twice is fine. */
PRIME_API prime_status prime_tagstore_freeze(prime_tagstore *store);

/** 1 if the store is frozen, 0 if not (or store is NULL). */
PRIME_API int32_t prime_tagstore_is_frozen(const prime_tagstore *store);

/** Number of images (0 for NULL). */
PRIME_API uint32_t prime_tagstore_image_count(const prime_tagstore *store);
/** Number of distinct tags (0 for NULL). */
PRIME_API uint32_t prime_tagstore_tag_count(const prime_tagstore *store);
/** Number of distinct classes (0 for NULL). */
PRIME_API uint32_t prime_tagstore_class_count(const prime_tagstore *store);
/** Total number of (image, tag) pairs (0 for NULL). */
PRIME_API uint64_t prime_tagstore_tag_ref_count(const prime_tagstore *store);

/** Name of tag `id`, or NULL if out of range. */
PRIME_API const char *prime_tagstore_tag_name(const prime_tagstore *store, uint32_t id);
/** Name of class `id`, or NULL if out of range. */
PRIME_API const char *prime_tagstore_class_name(const prime_tagstore *store, uint32_t id);
/** Name of image `index` ("" if unnamed), or NULL if out of range. */
PRIME_API const char *prime_tagstore_image_name(const prime_tagstore *store, uint32_t index);

/** Look up a tag by name; PRIME_E_NOT_FOUND if absent. */
PRIME_API prime_status prime_tagstore_find_tag(const prime_tagstore *store,
                                               const char *name, uint32_t *id_out);
/** Look up a class by name; PRIME_E_NOT_FOUND if absent. */
PRIME_API prime_status prime_tagstore_find_class(const prime_tagstore *store,
                                                 const char *name, uint32_t *id_out);
/** Look up an image by name; PRIME_E_NOT_FOUND if absent. */
PRIME_API prime_status prime_tagstore_find_image(const prime_tagstore *store,
                                                 const char *name, uint32_t *index_out);

/** Class id of image `index`, or PRIME_NONE if out of range. */
PRIME_API uint32_t prime_tagstore_image_class(const prime_tagstore *store, uint32_t index);

/** Tags of image `index`, sorted by id, without duplicates. Writes the
 *  number of tags to *n_out; copies them into ids when cap is large
 *  enough, else returns PRIME_E_BUFFER_TOO_SMALL (call with ids = NULL,
 *  cap = 0 to ask for the size). */
PRIME_API prime_status prime_tagstore_image_tags(const prime_tagstore *store,
                                                 uint32_t index, uint32_t *ids,
                                                 uint32_t cap, uint32_t *n_out);

/** Number of images of class `class_id` (0 if out of range). Counts are
 *  available on mutable and frozen stores alike. */
PRIME_API uint32_t prime_tagstore_class_image_count(const prime_tagstore *store,
                                                    uint32_t class_id);

/** Number of images of class class_id that carry tag tag_id; class_id =
 *  PRIME_NONE counts over all images. Mutable and frozen stores alike; a
 *  pass over every image of the store (for many counts, a frozen store's
 *  prime_query or prime_tagstore_select). A NULL store or count_out, a
 *  class or tag id out of range: PRIME_E_INVALID_ARG. */
PRIME_API prime_status prime_tagstore_tag_count_in_class(const prime_tagstore *store,
                                                         uint32_t class_id,
                                                         uint32_t tag_id,
                                                         uint32_t *count_out);

/** Save a frozen store to a binary file (little-endian, versioned, with a
 *  checksum; see docs/binary-format.md). The file is written to a temporary name
 *  and renamed, so a failure leaves no partial file. */
PRIME_API prime_status prime_tagstore_save(const prime_tagstore *store, const char *path);

/** prime_tagstore_save as one output of a writer (prime/file.h): the bytes
 *  go to writer's temporary file now and replace `path` at
 *  prime_writer_commit. writer NULL: the same as prime_tagstore_save. */
PRIME_API prime_status prime_tagstore_save_to(const prime_tagstore *store,
                                              prime_writer *writer, const char *path);

/** The tags CSV of docs/formats.md for a store (frozen or not): the header
 *  `image,class,tags`, then one row per image in store order, its tags
 *  joined by '|' in id order, fields quoted as RFC 4180 requires. Written
 *  as one output of writer (NULL: to path at once, atomically). */
PRIME_API prime_status prime_tagstore_write_csv(const prime_tagstore *store,
                                                prime_writer *writer, const char *path);

/** Open a binary store written by prime_tagstore_save. Everything is
 *  validated (sizes, checksum, ids, names, UTF-8) before the store is
 *  trusted; the store comes back frozen. */
PRIME_API prime_status prime_tagstore_open(const char *path, prime_tagstore **out);

/** Same as prime_tagstore_open from a memory buffer (copied). */
PRIME_API prime_status prime_tagstore_open_memory(const void *data, size_t size,
                                                  prime_tagstore **out);

/** Open one part of a binary store file, for a process that searches
 *  only some of its images (docs/scale.md, "Memory per rank"): the images
 *  first .. end - 1 of the file's n images, prime_shard_range(n, part,
 *  n_parts) (empty when n_parts > n), as a frozen store of end - first
 *  images with the file's whole class and tag tables (the same names with
 *  the same ids), in file order. Memory is about the part's share of the
 *  file; the file is read once from end to end in blocks (its payload
 *  checksum is verified, so a damaged file is refused as by
 *  prime_tagstore_open), then only the part's bytes. The part's content is
 *  validated as prime_tagstore_open validates a file; image names are
 *  checked for duplicates within the part only.
 *
 *  The part is a store of its own (prime_tagstore_checksum is that of its
 *  images), except for one thing: prime_outcomes_load with binary outcomes
 *  written for the whole file's store (prime_outcomes_save) gives the
 *  outcomes of the part's images, reading only those (an outcomes CSV
 *  gives them too: its rows of other images are skipped).
 *  *first_out and *total_out (each may be NULL) get `first` and n.
 *  Errors: a NULL path or out, part >= n_parts (PRIME_E_INVALID_ARG);
 *  those of prime_tagstore_open (PRIME_E_NOT_FOUND, PRIME_E_IO,
 *  PRIME_E_FORMAT, PRIME_E_DUPLICATE, PRIME_E_NOMEM). On failure *out is
 *  NULL.
 *  @since 1.2 */
PRIME_API prime_status prime_tagstore_open_part(const char *path, uint32_t part,
                                                uint32_t n_parts, prime_tagstore **out,
                                                uint64_t *first_out, uint64_t *total_out);

/** A binary store file open for reading the images of some of its classes
 *  at a time (prime_class_reader_open), for a process that searches only
 *  some classes (docs/scale.md, "Memory per rank"). */
typedef struct prime_class_reader prime_class_reader;

/** Open a binary store file to read it class by class. The file is checked
 *  once, as prime_tagstore_open checks it, without holding it: the header,
 *  the payload checksum (the file is read once from end to end in blocks)
 *  and the class id of every image (PRIME_E_FORMAT when one is out of
 *  range). The reader keeps the file open, the class and tag tables
 *  (prime_class_reader_tables) and the class index: the size of each
 *  class, and, when the images are not sorted by class, the list of the
 *  images of each class (4 bytes an image).
 *
 *  outcomes_path (may be NULL): binary outcomes written for the file's
 *  store (prime_outcomes_save), checked once too (header, payload checksum,
 *  the store's checksum and image count: PRIME_E_MISMATCH for outcomes of
 *  another store); prime_class_reader_read then gives the outcomes of the
 *  images it reads. An outcomes CSV is not read here (PRIME_E_FORMAT).
 *  Errors: a NULL path or out (PRIME_E_INVALID_ARG); those of
 *  prime_tagstore_open and prime_outcomes_load (PRIME_E_NOT_FOUND,
 *  PRIME_E_IO, PRIME_E_FORMAT, PRIME_E_MISMATCH, PRIME_E_NOMEM). On failure
 *  *out is NULL. Close it with prime_class_reader_close.
 *  @since 1.3 */
PRIME_API prime_status prime_class_reader_open(const char *path, const char *outcomes_path,
                                               prime_class_reader **out);

/** Close a class reader; NULL is fine. The stores and outcomes it gave
 *  stay valid; the store of prime_class_reader_tables goes with it.
 *  @since 1.3 */
PRIME_API void prime_class_reader_close(prime_class_reader *reader);

/** The file's class and tag tables as a frozen store without images,
 *  owned by the reader (valid until prime_class_reader_close): the store
 *  to read back and merge partial results against (prime/partial.h;
 *  below). NULL for a NULL reader.
 *  @since 1.3 */
PRIME_API const prime_tagstore *prime_class_reader_tables(const prime_class_reader *reader);

/** Number of the file's images of class class_id (0 when it is out of
 *  range, or reader is NULL).
 *  @since 1.3 */
PRIME_API uint32_t prime_class_reader_class_size(const prime_class_reader *reader,
                                                 uint32_t class_id);

/** The images of the classes class_ids[0..n_class_ids) (any order) as a
 *  new frozen store: every image of these classes, in file order, with the
 *  file's whole class and tag tables (the same names with the same ids);
 *  and, when outcomes_out is not NULL, their outcomes (the reader must have
 *  been opened with outcomes). Memory is about these images' share of the
 *  file; only their bytes are read (one read a run of consecutive images;
 *  a file sorted by class has one run a class), and validated as
 *  prime_tagstore_open validates a file (image names are checked for
 *  duplicates within the store only). n_class_ids 0 gives a store without
 *  images.
 *
 *  The store searches like the whole file's store for these classes, and
 *  more: a partial result of it (prime_search_classes) is bound to the
 *  file (its payload checksum and class sizes), so it is byte for byte the
 *  partial result of the whole store opened with prime_tagstore_open; it
 *  loads and merges (prime_partial_load_memory, prime_partial_merge)
 *  against any store of the reader, prime_class_reader_tables included,
 *  and against the whole store. prime_search_classes on it refuses a class
 *  it does not hold (PRIME_E_INVALID_ARG), and prime_partial_merge
 *  against it refuses PRIME_PARAM_FOLD_EQUAL (which needs every image).
 *  Otherwise it is a store of its own (prime_tagstore_checksum is that of
 *  its images).
 *
 *  Errors: a NULL reader or store_out, class_ids NULL with n_class_ids > 0,
 *  a class id out of range or given twice, outcomes_out with a reader
 *  without outcomes (PRIME_E_INVALID_ARG); the file changed since the
 *  reader opened it (its size, time or header; or classes that are not
 *  those indexed: PRIME_E_IO); PRIME_E_FORMAT for bytes that do not
 *  validate; PRIME_E_NOMEM. On failure *store_out and *outcomes_out are
 *  NULL. Several threads may read from one reader at once.
 *  @since 1.3 */
PRIME_API prime_status prime_class_reader_read(const prime_class_reader *reader,
                                               const uint32_t *class_ids, uint32_t n_class_ids,
                                               prime_tagstore **store_out,
                                               prime_outcomes **outcomes_out);

/** Load a tags file of any supported kind, recognised by its content: a
 *  binary store (magic bytes), JSON Lines (first non-blank byte '{'), or
 *  CSV (see docs/formats.md). The store comes back frozen.
 *
 *  If the file carries outcomes (a CSV `correct` or `score` column, a JSON
 *  `correct` or `score` key) and outcomes_out is not NULL, they are
 *  returned in *outcomes_out; otherwise *outcomes_out is set to NULL.
 *  Errors name the file, the line and the problem. */
PRIME_API prime_status prime_tagstore_load(const char *path, prime_tagstore **store_out,
                                           prime_outcomes **outcomes_out);

/** Same as prime_tagstore_load from a memory buffer; `name` is the file
 *  name used in error messages (may be NULL). */
PRIME_API prime_status prime_tagstore_load_memory(const void *data, size_t size,
                                                  const char *name,
                                                  prime_tagstore **store_out,
                                                  prime_outcomes **outcomes_out);

/* ------------------------------------------------------------------------ */
/* Merging stores, shards and sharded-store folders                          */
/* ------------------------------------------------------------------------ */

/** Flags of prime_tagstore_merge and prime_tagstore_merge_files. */
enum prime_merge_flag {
    /** Every part must have the same tag table (the same names in the same
     *  order), as the shards of one tagging run have (a tagger interns its
     *  vocabulary before the first image); a part with another table is
     *  refused with PRIME_E_MISMATCH. Without it the tag tables are joined
     *  (below). */
    PRIME_MERGE_SAME_TAGS = 1
};

/** Merge frozen stores into one new frozen store: the images of parts[0],
 *  then those of parts[1], ... in their order. Tag and class names are
 *  interned in first-seen order over the parts in index order, i.e. in the
 *  first-seen order over all the images; so the merged store is exactly
 *  the store one run over the same images in the same order builds (a
 *  tagger's, whose parts share the vocabulary table, or a text reader's),
 *  and prime_tagstore_save writes the same bytes. An image name found in
 *  two parts is PRIME_E_DUPLICATE (the message names both parts and
 *  indexes); a part that is not frozen is PRIME_E_STATE; with
 *  PRIME_MERGE_SAME_TAGS, tables that differ are PRIME_E_MISMATCH. n may
 *  be 0 (an empty store). The parts are not changed and may be destroyed
 *  afterwards. */
PRIME_API prime_status prime_tagstore_merge(const prime_tagstore *const *parts, uint32_t n,
                                            uint32_t flags, prime_tagstore **out);

/** Load each of paths[0..n-1] with prime_tagstore_load (a tags CSV, JSON
 *  Lines, a binary store or a sharded-store folder) and merge them as
 *  prime_tagstore_merge does; messages name the files. If outcomes_out is
 *  not NULL and the parts carry outcomes, they are concatenated into
 *  *outcomes_out (every part must then carry them: PRIME_E_MISMATCH
 *  otherwise); else *outcomes_out is NULL. All parts are held in memory at
 *  once. */
PRIME_API prime_status prime_tagstore_merge_files(const char *const *paths, uint32_t n,
                                                  uint32_t flags,
                                                  prime_tagstore **store_out,
                                                  prime_outcomes **outcomes_out);

/** Where prime_shard_resolve found the shard. */
enum prime_shard_source {
    PRIME_SHARD_FROM_SPEC = 1,        /**< the spec argument ("I/N") */
    PRIME_SHARD_FROM_PRIME_SHARD = 2, /**< PRIME_SHARD=I/N */
    PRIME_SHARD_FROM_SLURM = 3,       /**< SLURM_ARRAY_TASK_ID, _COUNT (and _MIN) */
    PRIME_SHARD_FROM_JOB_INDEX = 4,   /**< JOB_COMPLETION_INDEX and PRIME_SHARD_COUNT */
    PRIME_SHARD_FROM_MPI = 5          /**< OMPI_COMM_WORLD_RANK/SIZE or PMI_RANK/SIZE */
};

/** The shard of this process: index I (0-based) of N shards. From spec
 *  ("I/N", e.g. "0/4" .. "3/4") when it is not NULL or empty; else from
 *  the environment, the first of: PRIME_SHARD=I/N; SLURM_ARRAY_TASK_ID
 *  with SLURM_ARRAY_TASK_COUNT (a job array --array=M-K with step 1: I is
 *  the task id minus SLURM_ARRAY_TASK_MIN when that is set);
 *  JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) with PRIME_SHARD_COUNT;
 *  OMPI_COMM_WORLD_RANK with OMPI_COMM_WORLD_SIZE; PMI_RANK with PMI_SIZE.
 *  N is 1..1,000,000 and I < N. Nothing found is PRIME_E_NOT_FOUND; a
 *  malformed value, or one variable of a pair without the other, is
 *  PRIME_E_INVALID_ARG or PRIME_E_RANGE naming the variable. source_out
 *  (may be NULL) gets a PRIME_SHARD_FROM_* value. Reads the environment
 *  with getenv: do not call it while another thread changes the
 *  environment. */
PRIME_API prime_status prime_shard_resolve(const char *spec, uint32_t *index_out,
                                           uint32_t *count_out, int32_t *source_out);

/** The deterministic contiguous part of a list of n items (n < 2^32) that
 *  shard `index` of `count` takes: items first .. end - 1 with first =
 *  floor(n * index / count), end = floor(n * (index + 1) / count). The
 *  shards tile the list in order; a shard may be empty (count > n). */
PRIME_API prime_status prime_shard_range(uint64_t n, uint32_t index, uint32_t count,
                                         uint64_t *first_out, uint64_t *end_out);

/** A 64-bit identity of a list of n NUL-terminated strings (e.g. the image
 *  names of the whole list, in order), recorded by
 *  prime_sharded_store_write so that shards cut from different lists are
 *  never merged. The same on every host. */
PRIME_API prime_status prime_shard_list_id(const char *const *items, uint64_t n,
                                           uint64_t *id_out);

/** Write a frozen partial store as shard `index` of `count` into the
 *  sharded-store folder dir (NAME.prmd; created if absent, its parent must
 *  exist): shard-IIIII.prm (a valid store on its own), the shard's entry
 *  shard-IIIII.json and the derived manifest.json (docs/formats.md,
 *  "Sharded stores"). first and end must be the prime_shard_range of
 *  total images, and the store must hold end - first images. The shard is
 *  written under a lock on dir/.lock (fcntl): concurrent writers of other
 *  shards never lose each other's entries. Written atomically (temporary
 *  files and renames): a rerun of a shard replaces its files; a write that
 *  fails after the shard's store was saved (out of memory, a full disk)
 *  removes the shard's store and entry, so that the shard reads as missing,
 *  never as a store without a matching entry. A folder
 *  that holds shards of another run (another count, image list, image
 *  count or tag table) is PRIME_E_MISMATCH and nothing is written. */
PRIME_API prime_status prime_sharded_store_write(const char *dir, const prime_tagstore *part,
                                                 uint32_t index, uint32_t count,
                                                 uint64_t first, uint64_t end, uint64_t total,
                                                 uint64_t list_id);

/** State of a sharded-store folder: its shard count, how many shards are
 *  complete and how many images they hold (any out pointer may be NULL).
 *  PRIME_E_IO when dir has no manifest.json ("is a directory, not a file
 *  (nor a sharded-store folder ...)"), PRIME_E_FORMAT or PRIME_E_PARSE when
 *  it is not a valid one. */
PRIME_API prime_status prime_sharded_store_info(const char *dir, uint32_t *count_out,
                                                uint32_t *complete_out, uint64_t *images_out);

/** Open every shard of a complete sharded-store folder and merge them
 *  (PRIME_MERGE_SAME_TAGS): the store one run over the whole list builds.
 *  Missing or incomplete shards are PRIME_E_NOT_FOUND (the message lists
 *  them); a shard file whose checksum, image count or tag table differs
 *  from its entry, or entries of different runs, are PRIME_E_MISMATCH.
 *  prime_tagstore_load calls this for a folder, so everything that loads
 *  a store accepts a sharded-store folder. */
PRIME_API prime_status prime_sharded_store_open(const char *dir, prime_tagstore **out);

/* ------------------------------------------------------------------------ */
/* Outcomes (the accuracy vector)                                            */
/* ------------------------------------------------------------------------ */

/* prime_outcomes: one outcome per image of a tag store, in [0, 1]: 1 =
 * correct, 0 = wrong, or a score such as the probability of the true
 * class. Declared above with the tag store. */

/** Create outcomes for n images, all unset (an unset outcome makes a search
 *  fail with PRIME_E_MISMATCH). */
PRIME_API prime_status prime_outcomes_create(uint32_t n, prime_outcomes **out);

/** Destroy outcomes; NULL is fine. */
PRIME_API void prime_outcomes_destroy(prime_outcomes *outcomes);

/** Number of images the outcomes are for (0 for NULL). */
PRIME_API uint32_t prime_outcomes_count(const prime_outcomes *outcomes);

/** Set the outcome of image `index`; value must be in [0, 1] (PRIME_E_RANGE;
 *  NaN included). An index out of range, NULL outcomes:
 *  PRIME_E_INVALID_ARG. */
PRIME_API prime_status prime_outcomes_set(prime_outcomes *outcomes, uint32_t index,
                                          double value);

/** Set n outcomes starting at image `first` from values[0..n-1]. Nothing is
 *  changed if any value is out of range (PRIME_E_RANGE, naming the image)
 *  or first + n is past the end (PRIME_E_INVALID_ARG); values may be NULL
 *  when n is 0. */
PRIME_API prime_status prime_outcomes_set_array(prime_outcomes *outcomes, uint32_t first,
                                                const double *values, uint32_t n);

/** Get the outcome of image `index`; PRIME_E_NOT_FOUND if it is unset,
 *  PRIME_E_INVALID_ARG for an index out of range or a NULL argument. */
PRIME_API prime_status prime_outcomes_get(const prime_outcomes *outcomes, uint32_t index,
                                          double *value_out);

/** 1 if every outcome is set and is exactly 0 or 1, else 0 (also for
 *  NULL; 1 for outcomes of no image). */
PRIME_API int32_t prime_outcomes_is_binary(const prime_outcomes *outcomes);

/** The outcomes CSV of docs/formats.md for a store's images, in store
 *  order: `image,correct` (0 or 1) when the outcomes are binary, else
 *  `image,score` (`%.15g`, else `%.16g`, else `%.17g`: the first that
 *  reads back as the same double).
 *  Every outcome must be set (PRIME_E_NOT_FOUND names the first image
 *  without one). Written as one output of writer (NULL: to path at once,
 *  atomically). */
PRIME_API prime_status prime_outcomes_write_csv(const prime_outcomes *outcomes,
                                                const prime_tagstore *store,
                                                prime_writer *writer, const char *path);

/** The outcomes CSV of a classifier run (docs/formats.md): the header
 *  `image,label,prediction,correct`, then row i = images[i], labels[i],
 *  predictions[i] and 1 if the label equals the prediction (byte for byte)
 *  else 0. Any name may hold any character ('|', ',', quotes: fields are
 *  quoted as RFC 4180 requires); every name must be valid UTF-8 and not
 *  NULL. Written as one output of writer (NULL: to path at once,
 *  atomically). */
PRIME_API prime_status prime_outcomes_write_predictions_csv(const char *const *images,
                                                            const char *const *labels,
                                                            const char *const *predictions,
                                                            uint32_t n, prime_writer *writer,
                                                            const char *path);

/* ------------------------------------------------------------------------ */
/* Labels (image -> class label)                                              */
/* ------------------------------------------------------------------------ */

/** The class label of each image, from a CSV with the columns `image` and
 *  `label` (others ignored; RFC 4180 quoting, quoted newlines, a UTF-8 BOM
 *  and CRLF are fine). Read-only once loaded; may be shared by threads. */
typedef struct prime_labels prime_labels;

/** Load a labels CSV. Errors name the file and line: a missing column, a
 *  row with a different number of fields than the header, an empty image
 *  name or label, an image listed twice (PRIME_E_DUPLICATE), and what the
 *  CSV reader refuses (malformed quotes, invalid UTF-8, an empty file). */
PRIME_API prime_status prime_labels_load(const char *path, prime_labels **out);

/** Same from a memory buffer; `name` is used in messages (may be NULL). */
PRIME_API prime_status prime_labels_load_memory(const void *data, size_t size, const char *name,
                                                prime_labels **out);

/** Destroy labels; NULL is fine. */
PRIME_API void prime_labels_destroy(prime_labels *labels);

/** Number of images labelled (0 for NULL). */
PRIME_API uint32_t prime_labels_count(const prime_labels *labels);

/** The label of `image` (exact bytes), or NULL when it has none; valid
 *  while the labels live. */
PRIME_API const char *prime_labels_find(const prime_labels *labels, const char *image);

/** Outcomes from labels and predictions: 1 where labels[i] == predictions[i],
 *  else 0. */
PRIME_API prime_status prime_outcomes_from_labels(const int64_t *labels,
                                                  const int64_t *predictions,
                                                  uint32_t n, prime_outcomes **out);

/** Load an outcomes CSV (columns `image` and one of `correct` (0/1),
 *  `score` (0..1), or `label` and `prediction`; see docs/formats.md) and
 *  join it to a store by image name. Every image of the store must get
 *  exactly one outcome; rows for images the store does not hold are
 *  ignored. */
PRIME_API prime_status prime_outcomes_load(const char *path, const prime_tagstore *store,
                                           prime_outcomes **out);

/** Same as prime_outcomes_load from a memory buffer; `name` is used in
 *  error messages (may be NULL). Binary outcomes (prime_outcomes_save) are
 *  recognised by their magic bytes, here and in prime_outcomes_load, so
 *  every command that reads outcomes reads them. */
PRIME_API prime_status prime_outcomes_load_memory(const void *data, size_t size,
                                                  const char *name,
                                                  const prime_tagstore *store,
                                                  prime_outcomes **out);

/** Kinds of binary outcomes (prime_outcomes_save). */
enum prime_outcomes_kind {
    /** Bits when every outcome is 0 or 1, else f64. */
    PRIME_OUTCOMES_AUTO = 0,
    /** One bit per image (1 = correct): 0/1 outcomes only. */
    PRIME_OUTCOMES_BITS = 1,
    /** Fixed point: round(outcome * 2^32) as u64 (exact for 0/1; a score
     *  moves by at most 2^-33). */
    PRIME_OUTCOMES_FIXED = 2,
    /** IEEE binary64, exactly the values. */
    PRIME_OUTCOMES_F64 = 3
};

/** The payload checksum the store's binary file has (the one
 *  prime_tagstore_save writes at byte 192; docs/binary-format.md): it
 *  identifies the store's content, names and tags. store must be frozen.
 *  Costs one serialisation of the store in memory at the first call on a
 *  store handle (later calls reuse it; a store opened from a file at the
 *  widths prime_tagstore_save chooses has it from the file's header). */
PRIME_API prime_status prime_tagstore_checksum(const prime_tagstore *store,
                                               uint64_t *checksum_out);

/** Save outcomes as a binary file bound to a frozen store
 *  (docs/binary-format.md, "Binary outcomes"): magic, version, kind,
 *  count, the store's checksum (prime_tagstore_checksum), checksums of the
 *  payload and header, then the values as `kind` (a PRIME_OUTCOMES_*).
 *  Every outcome must be set and their count must be the store's image
 *  count (PRIME_E_MISMATCH); PRIME_OUTCOMES_BITS of scores is
 *  PRIME_E_RANGE. prime_outcomes_load reads it back for the same store
 *  only: another store is PRIME_E_MISMATCH, a damaged or truncated file
 *  PRIME_E_FORMAT. Written atomically (0/1 outcomes take n/8 bytes: 125 MB
 *  for 10^9 images). */
PRIME_API prime_status prime_outcomes_save(const prime_outcomes *outcomes,
                                           const prime_tagstore *store, int32_t kind,
                                           const char *path);

/** prime_outcomes_save through a writer (prime/file.h): the file is added
 *  to `writer` (committed with its other outputs, all or none) instead of
 *  written at once; writer NULL is prime_outcomes_save. */
PRIME_API prime_status prime_outcomes_save_to(const prime_outcomes *outcomes,
                                              const prime_tagstore *store, int32_t kind,
                                              prime_writer *writer, const char *path);

/** @} */

/** \addtogroup search
 *  @{ */

/* ------------------------------------------------------------------------ */
/* Search configuration                                                      */
/* ------------------------------------------------------------------------ */

/** The parameters of a search (docs/method.md). Opaque so that parameters
 *  can be added without changing any layout. */
typedef struct prime_config prime_config;

/** Parameter ids. Values are spaced and never reused. */
typedef int32_t prime_param;
/** The values of prime_param (functions take them as int32_t). */
enum prime_param_id {
    /** Most tags in one failure mode (paper's l). int, 1..16, default 4. */
    PRIME_PARAM_MAX_TAGS = 100,
    /** Fewest images in a group (s). int, 1..2^31-1, default 30. */
    PRIME_PARAM_MIN_SIZE = 200,
    /** Least accuracy drop below the class accuracy (a). double, 0..1,
     *  default 0.30. */
    PRIME_PARAM_MIN_DROP = 300,
    /** Least gain for removing one tag (b_k); indexed by k, the mode's size.
     *  double, -1..1; default 0, 0.10, 0.05, 0 for k = 1..4; k beyond the
     *  last value set uses the last value. Set with
     *  prime_config_set_min_gain (or prime_config_set_by_name). */
    PRIME_PARAM_MIN_GAIN = 400,
    /** A tag takes part only if at least this many images of the class
     *  carry it. int, 0..2^31-1; 0 (the default) means "equal to
     *  min_size". */
    PRIME_PARAM_MIN_TAG_COUNT = 500,
    /** Worker threads; 0 (the default) means one per online CPU. int,
     *  0..1024. The result does not depend on it. */
    PRIME_PARAM_THREADS = 600,
    /** 1 to treat the whole data set as a single class named "(all)".
     *  int, 0..1, default 0. */
    PRIME_PARAM_WHOLE_DATASET = 700,
    /** Relative minimum size: a share of the class (of all images in
     *  whole-data-set mode). double, 0..1, default 0 (off). When it is
     *  above 0 the fewest images of a group in a class of n images is
     *  max(1, ceil(share * n - 1e-9)) in place of min_size, and a
     *  min_tag_count of 0 follows that per-class value. Set by name as
     *  "min_size_share", or as min_size "0.5%" (prime_config_set_by_name;
     *  min_size "30" then turns it off). The JSON of a result records it
     *  as "min_size_share" in "params" when it is above 0 (docs/formats.md). */
    PRIME_PARAM_MIN_SIZE_SHARE = 210,
    /** 1 to fold redundant modes: a failure mode whose images are exactly
     *  those of a mode of the same class with fewer tags (its extra tags
     *  add nothing; see prime_result_equal_images) is left out of the
     *  result. int, 0..1, default 0 (every failure mode of docs/method.md
     *  is reported). The result's JSON "params" carry "fold_equal": true
     *  only when it is set. prime_search_stream refuses it
     *  (PRIME_E_INVALID_ARG): it needs every mode at once. */
    PRIME_PARAM_FOLD_EQUAL = 800,
    /** A guard on the number of failure modes: when the search finds more
     *  than this many, it stops and returns PRIME_E_LIMIT with a message
     *  that says so ("more than N failure modes ..."), and no result;
     *  prime_search_stream has then handed over exactly N modes. The count
     *  is of the modes of docs/method.md (before PRIME_PARAM_FOLD_EQUAL
     *  leaves any out), so whether the limit is hit does not depend on the
     *  thread count. int, 0..2^53, default 0 (no limit). A result's JSON
     *  does not record it (a search that succeeds finds the same modes
     *  with or without it). Set by name as "max_modes". Since version
     *  1.1. */
    PRIME_PARAM_MAX_MODES = 900
};

/** Kinds of parameter values. */
enum prime_param_type {
    PRIME_PARAM_TYPE_INT = 1,
    PRIME_PARAM_TYPE_DOUBLE = 2,
    PRIME_PARAM_TYPE_DOUBLE_LIST = 3
};

/** Largest number of min_gain values (and of max_tags). */
#define PRIME_MAX_TAGS_LIMIT 16

/** Create a configuration holding the defaults. */
PRIME_API prime_status prime_config_create(prime_config **out);
/** Destroy a configuration; NULL is fine. */
PRIME_API void prime_config_destroy(prime_config *config);
/** Copy a configuration. */
PRIME_API prime_status prime_config_clone(const prime_config *config, prime_config **out);
/** Put every parameter back to its default. */
PRIME_API prime_status prime_config_reset(prime_config *config);

/** Set an int parameter; PRIME_E_RANGE outside its bounds (the config is
 *  then unchanged), PRIME_E_INVALID_ARG for a NULL config, an unknown id or
 *  a parameter of another type. */
PRIME_API prime_status prime_config_set_int(prime_config *config, prime_param param,
                                            int64_t value);
/** Get an int parameter; PRIME_E_INVALID_ARG as prime_config_set_int (and
 *  for a NULL value_out). */
PRIME_API prime_status prime_config_get_int(const prime_config *config, prime_param param,
                                            int64_t *value_out);
/** Set a double parameter (for PRIME_PARAM_MIN_GAIN: sets one value for
 *  every k). NaN is out of range. */
PRIME_API prime_status prime_config_set_double(prime_config *config, prime_param param,
                                               double value);
/** Get a double parameter (for PRIME_PARAM_MIN_GAIN: the value for k=1);
 *  PRIME_E_INVALID_ARG for a NULL argument, an unknown id or an int
 *  parameter. */
PRIME_API prime_status prime_config_get_double(const prime_config *config, prime_param param,
                                               double *value_out);

/** Set the min_gain values for k = 1..n (1 <= n <= 16); k > n uses
 *  values[n-1]. PRIME_E_RANGE for n outside 1..16 or a value outside
 *  [-1, 1] (NaN included): the config is then unchanged. */
PRIME_API prime_status prime_config_set_min_gain(prime_config *config, const double *values,
                                                 uint32_t n);
/** The min_gain that applies to a mode of k tags (k >= 1). */
PRIME_API prime_status prime_config_get_min_gain(const prime_config *config, uint32_t k,
                                                 double *value_out);
/** Number of min_gain values that were set (4 by default; 0 for NULL). */
PRIME_API uint32_t prime_config_min_gain_count(const prime_config *config);

/** Bounds and type of a parameter (any out pointer may be NULL). */
PRIME_API prime_status prime_config_param_info(prime_param param, int32_t *type_out,
                                               double *min_out, double *max_out,
                                               double *default_out);

/** Id of a parameter from its name: "max_tags", "min_size", "min_drop",
 *  "min_gain", "min_tag_count", "threads", "whole_dataset",
 *  "min_size_share", "fold_equal", "max_modes" ('-' may stand for '_';
 *  exact case). PRIME_E_NOT_FOUND for another name, PRIME_E_INVALID_ARG
 *  for a NULL argument. */
PRIME_API prime_status prime_config_param_by_name(const char *name, prime_param *param_out);

/** Static name of a parameter id, or NULL. */
PRIME_API const char *prime_config_param_name(prime_param param);

/** Set a parameter from text by name, as a command line would: "4",
 *  "0.3", "0,0.1,0.05,0" (min_gain), "true"/"false" or "1"/"0"
 *  (whole_dataset, fold_equal), "0.5%" (min_size as a share of each class:
 *  PRIME_PARAM_MIN_SIZE_SHARE). Numbers are strict: the whole text, no
 *  blank, no '+' before an integer, no hexadecimal, nothing that would wrap
 *  (PRIME_E_INVALID_ARG). An unknown name is PRIME_E_NOT_FOUND (as
 *  prime_config_param_by_name), a value outside the bounds PRIME_E_RANGE;
 *  on any failure the config is unchanged. */
PRIME_API prime_status prime_config_set_by_name(prime_config *config, const char *name,
                                                const char *value);

/* ------------------------------------------------------------------------ */
/* Search and results                                                        */
/* ------------------------------------------------------------------------ */

/** The failure modes found by a search, with the per-class statistics. A
 *  result holds copies of the names it uses: it stays valid after the tag
 *  store is destroyed. */
typedef struct prime_result prime_result;

/** Progress callback: called from the thread that called prime_search with
 *  the work done so far and the total (in arbitrary units, done <= total).
 *  Return 0 to go on, anything else to cancel (the search then returns
 *  PRIME_E_CANCELLED and no result). */
typedef int32_t (*prime_progress_fn)(void *user_data, uint64_t done, uint64_t total);

/** Run the exhaustive PRIME search. store must be frozen; outcomes must hold
 *  one set value per image of the store; config may be NULL for the
 *  defaults; progress may be NULL. The result is exactly the set of failure
 *  modes docs/method.md defines, whatever the thread count. The caller owns
 *  *out (prime_result_destroy). store, outcomes and config are only read:
 *  any number of searches may share them at once.
 *  Errors: a NULL store, outcomes or out (PRIME_E_INVALID_ARG); a store
 *  that is not frozen (PRIME_E_STATE); outcomes for another number of
 *  images, or an image without an outcome (PRIME_E_MISMATCH, naming it);
 *  a progress cancel (PRIME_E_CANCELLED); more modes than
 *  PRIME_PARAM_MAX_MODES (PRIME_E_LIMIT); PRIME_E_NOMEM. On failure *out
 *  is NULL. */
PRIME_API prime_status prime_search(const prime_tagstore *store,
                                    const prime_outcomes *outcomes,
                                    const prime_config *config,
                                    prime_progress_fn progress, void *user_data,
                                    prime_result **out);

/** One failure mode as prime_search_stream reports it. The structure and
 *  its tags are valid during the callback only; the library fills it (it
 *  may gain fields at the end in a later minor version). */
typedef struct prime_mode_event {
    uint32_t class_id;       /**< store class id; PRIME_NONE in whole-data-set mode */
    uint32_t n_tags;         /**< number of tags, 1..max_tags */
    const uint32_t *tags;    /**< n_tags store tag ids, in byte order of their names */
    uint64_t size;           /**< images of the mode */
    double correct;          /**< sum of their outcomes */
    double accuracy;         /**< correct / size */
    double class_accuracy;   /**< accuracy of the class (or of all images) */
    double drop;             /**< class_accuracy - accuracy */
} prime_mode_event;

/** Mode callback of prime_search_stream: return 0 to go on, anything else
 *  to stop the search (it then returns PRIME_E_CANCELLED). */
typedef int32_t (*prime_mode_fn)(void *user_data, const prime_mode_event *mode);

/** The search of prime_search without a result in memory: every failure
 *  mode is handed to on_mode as soon as it is found, so memory does not
 *  grow with the number of modes. The modes are exactly those of
 *  prime_search, with the same numbers (bit for bit), but in no particular
 *  order (it depends on the thread count and on scheduling). on_mode is
 *  called from the search's threads (the calling thread or its workers),
 *  never two calls at once; it may look names up in the store. progress works as for prime_search. *n_modes_out (may be NULL)
 *  receives the number of modes handed over, also when the search stops
 *  early (a progress cancel, or on_mode answering non-zero: then no further
 *  call is made and the status is PRIME_E_CANCELLED). on_mode NULL:
 *  PRIME_E_INVALID_ARG. */
PRIME_API prime_status prime_search_stream(const prime_tagstore *store,
                                           const prime_outcomes *outcomes,
                                           const prime_config *config,
                                           prime_progress_fn progress, void *progress_data,
                                           prime_mode_fn on_mode, void *mode_data,
                                           uint64_t *n_modes_out);

/** One mode of prime_search_stream as one record of the result's
 *  formats (docs/formats.md), so that a stream of them is JSON Lines or
 *  CSV: PRIME_FORMAT_JSON gives the object of the result JSON's
 *  "failure_modes" array (same keys, order and numbers, description
 *  included) on one line ending in "\n"; PRIME_FORMAT_CSV gives the row of
 *  the result's CSV, its line end included, and with mode NULL its header
 *  line (mode NULL with JSON: an empty text). Names are looked up in
 *  `store`, the store searched (class PRIME_NONE is "(all)"). Like
 *  prime_result_render: the text and a NUL go into buf (cap bytes); with a
 *  buffer too small (or NULL) PRIME_E_BUFFER_TOO_SMALL and *needed_out
 *  says the length. A mode with a class or tag not in the store, or
 *  without tags: PRIME_E_INVALID_ARG. Callable from the mode callback.
 *  @since 1.1 */
PRIME_API prime_status prime_mode_event_render(const prime_tagstore *store,
                                               const prime_mode_event *mode, int32_t format,
                                               char *buf, size_t cap, size_t *needed_out);

/** @} */

/** \addtogroup results
 *  @{ */

/** Destroy a result; NULL is fine. */
PRIME_API void prime_result_destroy(prime_result *result);

/** Number of classes searched: the classes with at least one image, sorted
 *  by name; in whole-data-set mode one (or none when the store is empty). */
PRIME_API uint32_t prime_result_class_count(const prime_result *result);

/** Statistics of searched class i (0-based, by name order): its id in the
 *  store (PRIME_NONE in whole-data-set mode), image count, sum of outcomes
 *  and accuracy. Any out pointer may be NULL. */
PRIME_API prime_status prime_result_class_info(const prime_result *result, uint32_t i,
                                               uint32_t *class_id_out, uint64_t *images_out,
                                               double *correct_out, double *accuracy_out);

/** Name of searched class i, or NULL if out of range. */
PRIME_API const char *prime_result_class_name(const prime_result *result, uint32_t i);

/** Number of failure modes (0 for NULL). */
PRIME_API uint64_t prime_result_mode_count(const prime_result *result);

/** Statistics of failure mode i. Modes are ordered by class name, then by
 *  drop (largest first), then by their tag names. class_id is the store's
 *  id (PRIME_NONE in whole-data-set mode); correct is the sum of outcomes
 *  (a count for 0/1 outcomes); drop = class_accuracy - accuracy. Any out
 *  pointer may be NULL. */
PRIME_API prime_status prime_result_mode_info(const prime_result *result, uint64_t i,
                                              uint32_t *class_id_out, uint32_t *n_tags_out,
                                              uint64_t *size_out, double *correct_out,
                                              double *accuracy_out,
                                              double *class_accuracy_out,
                                              double *drop_out);

/** Tag ids of failure mode i, ordered by tag name (byte order). Writes the
 *  count to *n_out; PRIME_E_BUFFER_TOO_SMALL if cap is too small. */
PRIME_API prime_status prime_result_mode_tags(const prime_result *result, uint64_t i,
                                              uint32_t *ids, uint32_t cap, uint32_t *n_out);

/** Name of tag j of failure mode i, or NULL if out of range. */
PRIME_API const char *prime_result_mode_tag_name(const prime_result *result, uint64_t i,
                                                 uint32_t j);

/** Class name of failure mode i, or NULL if out of range. */
PRIME_API const char *prime_result_mode_class_name(const prime_result *result, uint64_t i);

/** Description of failure mode i, "a photo of <class> <tag1> <tag2> ..."
 *  (without the class in whole-data-set mode), or NULL if out of range. */
PRIME_API const char *prime_result_mode_description(const prime_result *result, uint64_t i);

/** Number of candidate tag sets a search evaluated: the sets of at least
 *  min_size images that the exhaustive search visited (the sets its exact
 *  pruning rules skipped, none of which could be a failure mode, are not
 *  counted). It does not depend on the thread count. It is the honest
 *  number of hypotheses for a false-discovery-rate correction over the
 *  modes (prime_eval_set_fdr). For a loaded result, the file's
 *  "candidates" (0 when it has none or null). 0 for NULL. */
PRIME_API uint64_t prime_result_candidate_count(const prime_result *result);

/** Output formats of the writers. */
enum prime_format {
    PRIME_FORMAT_JSON = 1,
    PRIME_FORMAT_CSV = 2,
    PRIME_FORMAT_TEXT = 3
};

/** Render a result as JSON (the schema of docs/formats.md: "params",
 *  "classes", "failure_modes" and "candidates", the count of
 *  prime_result_candidate_count), CSV (one row per mode) or a text table
 *  into buf. *needed_out gets the length without
 *  the terminating NUL; PRIME_E_BUFFER_TOO_SMALL if cap <= that length
 *  (call with buf = NULL, cap = 0 to ask). */
PRIME_API prime_status prime_result_render(const prime_result *result, int32_t format,
                                           char *buf, size_t cap, size_t *needed_out);

/** Write a result to a file in one of the formats. The file is written to
 *  a temporary name and renamed: a failure leaves no partial file. */
PRIME_API prime_status prime_result_write(const prime_result *result, int32_t format,
                                          const char *path);

/** Read a result back from the JSON that prime_result_write writes (the
 *  schema of docs/formats.md): rendering the loaded result in any format
 *  gives, byte for byte, what the original rendered. A UTF-8 BOM is
 *  skipped; a key given twice, a value of the wrong type or out of range,
 *  a mode whose "class_accuracy" differs from its class's accuracy are
 *  PRIME_E_PARSE, the message naming the file and the line. Unknown keys
 *  are skipped. A loaded result knows names, not a store: its class ids
 *  (prime_result_class_info, prime_result_mode_info) and tag ids
 *  (prime_result_mode_tags) are PRIME_NONE; find them in a store by name
 *  (prime_tagstore_find_class, prime_tagstore_find_tag). Modes keep the
 *  file's order. A hand-written file may leave out "classes" (a mode's
 *  class is then listed with 0 images and the mode's class accuracy),
 *  "candidates", a mode's "description" (made as the search makes it) and
 *  every parameter but min_size and min_drop (the defaults). On failure
 *  *out is set to NULL. */
PRIME_API prime_status prime_result_load(const char *path, prime_result **out);

/** prime_result_load from memory: data[0..size) (need not be
 *  NUL-terminated); name (may be NULL) stands for the file in messages. */
PRIME_API prime_status prime_result_load_memory(const void *data, size_t size,
                                                const char *name, prime_result **out);

/** @} */

/** \addtogroup search
 *  @{ */

/* ------------------------------------------------------------------------ */
/* Query API for model debuggers                                             */
/* ------------------------------------------------------------------------ */

/** Statistics of any tag set in any class: the number of images of class
 *  class_id (PRIME_NONE = all images) that carry every tag in tags[0..n-1]
 *  (n = 0: the whole class), the sum of their outcomes, their accuracy
 *  (NaN when size is 0) and the class accuracy. store must be frozen. Any
 *  out pointer may be NULL. */
PRIME_API prime_status prime_query(const prime_tagstore *store,
                                   const prime_outcomes *outcomes, uint32_t class_id,
                                   const uint32_t *tags, uint32_t n_tags,
                                   uint64_t *size_out, double *correct_out,
                                   double *accuracy_out, double *class_accuracy_out);

/** Statistics of each one-tag-smaller parent of a tag set: entry j is the
 *  set without tags[j]. sizes_out and correct_out (either may be NULL)
 *  must hold n_tags entries. */
PRIME_API prime_status prime_query_parents(const prime_tagstore *store,
                                           const prime_outcomes *outcomes, uint32_t class_id,
                                           const uint32_t *tags, uint32_t n_tags,
                                           uint64_t *sizes_out, double *correct_out);

/** @} */

/** \addtogroup results
 *  @{ */

/* ------------------------------------------------------------------------ */
/* Bulk building, columnar export and membership (for bindings)              */
/* ------------------------------------------------------------------------ */

/** Kinds of names for prime_tagstore_intern_names. */
enum prime_names_kind {
    PRIME_NAMES_TAGS = 1,
    PRIME_NAMES_CLASSES = 2
};

/** Intern n names at once: name i is names[offsets[i] .. offsets[i+1])
 *  (not NUL-terminated; offsets holds n + 1 entries, offsets[0] = 0). kind
 *  is PRIME_NAMES_TAGS or PRIME_NAMES_CLASSES; the rules of
 *  prime_tagstore_intern_tag / prime_tagstore_intern_class apply to each
 *  name and ids_out[i] gets its id. Store must be mutable. On failure the
 *  names before the failing one are interned and the message names its
 *  index. */
PRIME_API prime_status prime_tagstore_intern_names(prime_tagstore *store, int32_t kind,
                                                   const char *names, const uint64_t *offsets,
                                                   uint32_t n, uint32_t *ids_out);

/** Add n images at once (the rules of prime_tagstore_add_image per image).
 *  Image i has class class_ids[i], the tags tag_ids[tag_offsets[i] ..
 *  tag_offsets[i+1]) (CSR form: tag_offsets holds n + 1 entries starting
 *  at 0; duplicates are merged) and the name image_names[name_offsets[i]
 *  .. name_offsets[i+1]) (not NUL-terminated; an empty range is an unnamed
 *  image; name_offsets = NULL makes every image unnamed). Ids, offsets and
 *  the image count limit are checked first: such an error leaves the store
 *  unchanged. A later failure (an invalid or duplicate image name, no
 *  memory) leaves the images before the failing one added; the message
 *  names its index. The index of the first new image is written to
 *  *first_index_out if it is not NULL. Store must be mutable. */
PRIME_API prime_status prime_tagstore_add_images(prime_tagstore *store, uint32_t n,
                                                 const char *image_names,
                                                 const uint64_t *name_offsets,
                                                 const uint32_t *class_ids,
                                                 const uint64_t *tag_offsets,
                                                 const uint32_t *tag_ids,
                                                 uint32_t *first_index_out);

/** Add n images at once with their tags as text, interned as needed: the
 *  tags of image i are the non-empty '|'-separated names in
 *  tag_text[tag_offsets[i] .. tag_offsets[i+1]) (as in a tags CSV: "a|b";
 *  the rules of prime_tagstore_intern_tag apply to each). Images, names and
 *  classes otherwise as prime_tagstore_add_images. All or nothing: on any
 *  failure (an invalid or duplicate name, a bad tag name, no memory) the
 *  store is left as it was, tags included, and the message names the
 *  failing image (0-based within the call). */
PRIME_API prime_status prime_tagstore_add_images_text(prime_tagstore *store, uint32_t n,
                                                      const char *image_names,
                                                      const uint64_t *name_offsets,
                                                      const uint32_t *class_ids,
                                                      const char *tag_text,
                                                      const uint64_t *tag_offsets,
                                                      uint32_t *first_index_out);

/** Add n images at once from packed text columns: the fastest way to build
 *  a store from a binding's strings (joining strings with NUL bytes costs a
 *  binding one call per column, where offsets would need every name's
 *  encoded length).
 *
 *  - images: n image names separated by n - 1 NUL bytes (images_size bytes
 *    in all, no terminator); an empty name is an unnamed image; NULL (with
 *    images_size 0) makes every image unnamed. A non-empty name must be
 *    valid UTF-8 and unique in the store.
 *  - classes: n class names separated by NUL bytes likewise; each non-empty,
 *    valid UTF-8, interned as needed (new classes get ids in the order of
 *    their first image).
 *  - tags, tag_counts = NULL: n fields separated by NUL bytes, field i the
 *    tags of image i as '|'-separated names ("a|b", empty names skipped, as
 *    prime_tagstore_add_images_text).
 *  - tags, tag_counts != NULL: the tag_counts[0] + ... + tag_counts[n-1]
 *    tag names of all images, in order, separated by NUL bytes (no bytes at
 *    all when the sum is 0); image i has the next tag_counts[i] of them.
 *    Each name: 1..255 bytes, valid UTF-8, no '|'.
 *
 *  Tags are interned as needed; duplicates within an image are merged. The
 *  number of fields of each column is checked first (PRIME_E_INVALID_ARG: a
 *  name holding a NUL byte shows as one field too many). All or nothing: on
 *  any failure (a bad or duplicate name, an empty class, a tag name too long
 *  (PRIME_E_LIMIT), no memory) the store is left as it was, tags and classes
 *  included, and the message names the failing image (0-based within the
 *  call). The index of the first new image is written to *first_index_out
 *  if it is not NULL. Store must be mutable.
 *  @since 1.1 */
PRIME_API prime_status prime_tagstore_add_packed(prime_tagstore *store, uint32_t n,
                                                 const char *images, size_t images_size,
                                                 const char *classes, size_t classes_size,
                                                 const char *tags, size_t tags_size,
                                                 const uint32_t *tag_counts,
                                                 uint32_t *first_index_out);

/** Add n images at once from dictionary-coded columns: each distinct class
 *  and tag name is passed once and the images refer to them by index, so a
 *  binding whose tag names are shared strings writes (and the library
 *  reads) one 32-bit index per tag reference instead of its text. The
 *  store is the one prime_tagstore_add_packed makes from the same images
 *  with the names written out.
 *
 *  - images: as prime_tagstore_add_packed (n names separated by NUL bytes,
 *    an empty one unnamed; NULL with images_size 0: all unnamed).
 *  - class_names: n_class_names names separated by NUL bytes
 *    (class_names_size bytes in all, no terminator); class_index[i] <
 *    n_class_names is the class of image i. Each name non-empty UTF-8.
 *  - tag_names: n_tag_names names separated by NUL bytes likewise, each
 *    1..255 bytes of UTF-8 without '|'. tag_index holds n_refs indices
 *    below n_tag_names: image i has the next tag_counts[i] of them, so the
 *    counts must sum to n_refs. tag_counts NULL (with n_refs 0): no image
 *    has a tag.
 *
 *  A name may be listed twice (both indices mean it) or not used at all
 *  (it is checked, not added). Classes and tags are interned in the order
 *  of their first use by an image, as the text adders and the CSV reader
 *  do; duplicates within an image are merged. The shape of the columns is
 *  checked first (PRIME_E_INVALID_ARG: a NULL column, a count of fields or
 *  of references that does not match, a name holding a NUL byte);
 *  PRIME_E_LIMIT when the store would exceed 2^32-2 images. All or
 *  nothing: on any failure (an index out of range, a bad or duplicate
 *  name, no memory) the store is left as it was, and the message names the
 *  failing image (0-based within the call) or name. The index of the first
 *  new image is written to *first_index_out if it is not NULL. Store must
 *  be mutable.
 *  @since 1.3 */
PRIME_API prime_status prime_tagstore_add_coded(prime_tagstore *store, uint32_t n,
                                                const char *images, size_t images_size,
                                                const char *class_names,
                                                size_t class_names_size,
                                                uint32_t n_class_names,
                                                const uint32_t *class_index,
                                                const char *tag_names, size_t tag_names_size,
                                                uint32_t n_tag_names, const uint32_t *tag_index,
                                                uint64_t n_refs, const uint32_t *tag_counts,
                                                uint32_t *first_index_out);

/** The images of class class_id (PRIME_NONE = all images) that carry every
 *  tag of tags[0..n_tags) (n_tags = 0: every image of the class), by
 *  ascending index: the set prime_query measures. Writes the count to
 *  *n_out and the indices to images when cap is large enough, else returns
 *  PRIME_E_BUFFER_TOO_SMALL (call with images = NULL, cap = 0 to ask).
 *  store must be frozen. */
PRIME_API prime_status prime_tagstore_select(const prime_tagstore *store, uint32_t class_id,
                                             const uint32_t *tags, uint32_t n_tags,
                                             uint32_t *images, uint64_t cap, uint64_t *n_out);

/** The images of failure mode i of a result in a frozen store: those of the
 *  mode's class (all images in whole-data-set mode) carrying every tag of
 *  the mode, by ascending index. The class and the tags are matched to the
 *  store by name, so the store need not be the very handle the search ran
 *  on; PRIME_E_MISMATCH if it lacks one of them. With the store that was
 *  searched, the count equals the mode's size. Count and buffer as
 *  prime_tagstore_select. */
PRIME_API prime_status prime_result_mode_images(const prime_result *result,
                                                const prime_tagstore *store, uint64_t i,
                                                uint32_t *images, uint64_t cap,
                                                uint64_t *n_out);

/** The images of every failure mode in one call, in CSR form: the images of
 *  mode i are images[mode_offsets[i] .. mode_offsets[i+1]) (mode_offsets
 *  holds mode_count + 1 entries and may be NULL). *total_out gets the total
 *  (the sum of the counts); PRIME_E_BUFFER_TOO_SMALL if cap is smaller
 *  (mode_offsets is filled all the same). Same matching rules as
 *  prime_result_mode_images. */
PRIME_API prime_status prime_result_membership(const prime_result *result,
                                               const prime_tagstore *store,
                                               uint64_t *mode_offsets, uint32_t *images,
                                               uint64_t cap, uint64_t *total_out);

/** For every failure mode i, whether a smaller mode adds the same: writes
 *  to smaller_out[i] (mode_count entries) the index of a mode of the same
 *  class with fewer tags whose images in store are exactly the images of
 *  mode i (the one with the fewest tags; the first in result order among
 *  those), or UINT64_MAX when there is none. Mode i's extra tags then add
 *  nothing: it can be folded under that mode (a report marks it so).
 *  Images are matched as prime_result_membership does. Costs one
 *  membership pass plus, per class, a comparison of the modes with equal
 *  image-list hashes. */
PRIME_API prime_status prime_result_equal_images(const prime_result *result,
                                                 const prime_tagstore *store,
                                                 uint64_t *smaller_out);

/** Total number of tags over all failure modes (the length of the tag_ids
 *  column of prime_result_columns); 0 for NULL. */
PRIME_API uint64_t prime_result_mode_tag_total(const prime_result *result);

/** Every failure mode's fields in columns, in one call: each non-NULL array
 *  gets mode_count entries (tag_offsets mode_count + 1, tag_ids
 *  prime_result_mode_tag_total). class_index is the mode's searched class
 *  (an index for prime_result_class_name / prime_result_class_info);
 *  size, correct, accuracy, class_accuracy and drop are those of
 *  prime_result_mode_info; the tags of mode i are tag_ids[tag_offsets[i] ..
 *  tag_offsets[i+1]), in the order of prime_result_mode_tags. Any array may
 *  be NULL. */
PRIME_API prime_status prime_result_columns(const prime_result *result, uint32_t *class_index,
                                            uint64_t *size, double *correct, double *accuracy,
                                            double *class_accuracy, double *drop,
                                            uint64_t *tag_offsets, uint32_t *tag_ids);

/** @} */

#ifdef __cplusplus
}
#endif

#include "prime/image.h"
#include "prime/tokenizer.h"
#include "prime/eval.h"
#include "prime/quality.h"
#include "prime/file.h"
#include "prime/partial.h"
#include "prime/sharded.h"

#endif /* PRIME_PRIME_H */
