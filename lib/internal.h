/* Internal declarations shared by the modules of libprime. Not installed. */
#ifndef PRIME_INTERNAL_H
#define PRIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prime/prime.h"

#define PRIME_INTERNAL __attribute__((visibility("hidden")))

/* ---- errors (error.c) -------------------------------------------------- */

/* Record a formatted message as the calling thread's last error and return
 * `status`. */
PRIME_INTERNAL prime_status prime__error(prime_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- allocation (alloc.c); every allocation of the library goes here ---- */

PRIME_INTERNAL void *prime__malloc(size_t n);
PRIME_INTERNAL void *prime__calloc(size_t count, size_t size);
PRIME_INTERNAL void *prime__realloc(void *p, size_t n);
PRIME_INTERNAL void prime__free(void *p);
/* Grow *p (holding *cap elements of elem bytes) to hold at least need.
 * Returns false (and leaves *p untouched) when out of memory. */
PRIME_INTERNAL bool prime__grow(void **p, size_t *cap, size_t need, size_t elem);
/* malloc-and-copy of a byte string, NUL-terminated. */
PRIME_INTERNAL char *prime__strndup(const char *s, size_t n);

/* ---- growable byte buffer (buf.c) ---------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
    bool failed; /* an allocation failed; further appends do nothing */
} prime__buf;

PRIME_INTERNAL void prime__buf_append(prime__buf *b, const char *s, size_t n);
PRIME_INTERNAL void prime__buf_puts(prime__buf *b, const char *s);
PRIME_INTERNAL void prime__buf_putc(prime__buf *b, char c);
PRIME_INTERNAL void prime__buf_printf(prime__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Shortest decimal text that reads back as the same double ("0.3", "1",
 * "0.41860465116279072"); NaN and infinities as null. */
PRIME_INTERNAL void prime__buf_double(prime__buf *b, double v);
/* A JSON string literal (quotes included), escaping as RFC 8259 requires. */
PRIME_INTERNAL void prime__buf_json_string(prime__buf *b, const char *s);
/* A CSV field, quoted (RFC 4180) when it holds , " CR or LF. */
PRIME_INTERNAL void prime__buf_csv_field(prime__buf *b, const char *s);
PRIME_INTERNAL void prime__buf_free(prime__buf *b);
/* Hand a rendered text to a caller's buffer (cap bytes, NUL-terminated) or
 * say the size needed (PRIME_E_BUFFER_TOO_SMALL, "the rendered WHAT needs N
 * bytes"); *needed_out gets the length without the NUL. Frees b. */
PRIME_INTERNAL prime_status prime__buf_deliver(prime__buf *b, const char *what, char *buf,
                                               size_t cap, size_t *needed_out);
/* Write a rendered text to path atomically (prime__write_file_atomic). Frees b. */
PRIME_INTERNAL prime_status prime__buf_write_file(prime__buf *b, const char *path);

/* Write `len` bytes to `path` through a temporary file in the same folder
 * and a rename, so that a reader never sees a partial file. */
PRIME_INTERNAL prime_status prime__write_file_atomic(const char *path, const void *data,
                                                     size_t len);
/* Read a whole file into a new buffer (NUL-terminated for convenience). */
PRIME_INTERNAL prime_status prime__read_file(const char *path, char **data_out,
                                             size_t *size_out);

/* ---- UTF-8 and hashing (util.c) ----------------------------------------- */

/* true if s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
PRIME_INTERNAL bool prime__utf8_valid(const char *s, size_t n);
/* Offset of the first byte that starts an invalid sequence in s[0..n), or n. */
PRIME_INTERNAL size_t prime__utf8_prefix(const char *s, size_t n);
/* 64-bit hash of a byte string. */
PRIME_INTERNAL uint64_t prime__hash_bytes(const void *p, size_t n);
/* Checksum of a (large) byte range, as stored in binary store files. */
PRIME_INTERNAL uint64_t prime__checksum(const void *p, size_t n, uint64_t seed);
/* Number of online CPUs (at least 1). */
PRIME_INTERNAL uint32_t prime__cpu_count(void);

/* ---- interned name tables (names.c) --------------------------------------
 * Names are stored NUL-terminated one after another in `bytes`; name i
 * starts at off[i] and ends (NUL excluded) at off[i+1] - 1. A hash index
 * (open addressing over ids) finds a name's id. */
typedef struct {
    uint32_t count;
    uint64_t *off;   /* count + 1 entries */
    char *bytes;
    uint64_t bytes_len;
    /* hash index: slots hold hash << 32 | (id + 1) (0 = empty); mask =
       nslots - 1 */
    uint64_t *slots;
    uint64_t mask;
    bool borrowed;   /* off and bytes point into a loaded blob */
    size_t off_cap, bytes_cap;
} prime__names;

PRIME_INTERNAL void prime__names_free(prime__names *t);
PRIME_INTERNAL const char *prime__names_get(const prime__names *t, uint32_t id);
PRIME_INTERNAL size_t prime__names_len(const prime__names *t, uint32_t id);
/* Find name s[0..n); returns PRIME_NONE if absent (always absent for n=0
 * when skip_empty). */
PRIME_INTERNAL uint32_t prime__names_find(const prime__names *t, const char *s, size_t n);
/* The same with the name's hash (prime__hash_bytes) already known. */
PRIME_INTERNAL uint32_t prime__names_find_hashed(const prime__names *t, const char *s, size_t n,
                                                 uint64_t h);
PRIME_INTERNAL prime_status prime__names_push_hashed(prime__names *t, const char *s, size_t n,
                                                     uint64_t h, bool index_it, uint32_t *id_out);
/* Append a name that is known to be absent; *id_out = its id. */
PRIME_INTERNAL prime_status prime__names_push(prime__names *t, const char *s, size_t n,
                                              bool index_it, uint32_t *id_out);
/* Find-or-append. */
PRIME_INTERNAL prime_status prime__names_intern(prime__names *t, const char *s, size_t n,
                                                uint32_t *id_out);
/* (Re)build the hash index over all non-empty names. Returns PRIME_E_DUPLICATE
 * (with *dup_out = the later id) if two non-empty names are equal. */
PRIME_INTERNAL prime_status prime__names_build_index(prime__names *t, uint32_t *dup_out);

/* ---- tag store (tagstore.c) ---------------------------------------------- */

struct prime_tagstore {
    bool frozen;
    prime__names classes, tags, images;
    /* per image (index = image id) */
    uint32_t *image_class;   /* n_images */
    /* The tags of image i are the ids at positions [off(i), off(i+1)) of
       the id array, sorted ascending, unique within an image. Two widths:
       - wide (a store built in memory; the add path appends to these):
         tag_off holds u64 offsets (n_images + 1), tag_ids u32 ids;
       - narrow (an opened store whose file has them, used in place):
         off32 set: tag_off32 holds u32 offsets and tag_off is NULL;
         ids16 set: tag_ids16 holds u16 ids and tag_ids is NULL.
       Outside the add path, read them only through prime__store_tag_off,
       prime__store_tag and friends (below). */
    uint64_t *tag_off;
    uint32_t *tag_ids;
    const uint32_t *tag_off32;
    const uint16_t *tag_ids16;
    bool off32, ids16;       /* false (the default of a new store) = wide */
    size_t image_cap, tag_off_cap, tagref_cap;
    /* per class: number of images (maintained while adding) */
    uint32_t *class_size;
    size_t class_cap;
    /* built by freeze: images of class c, ascending, are
       class_images[class_off[c] .. class_off[c+1]). class_images may be
       NULL (an opened store whose images are sorted by class): then they
       are the image ids class_off[c] .. class_off[c+1] themselves. Read it
       through prime__store_class_image. */
    uint64_t *class_off;     /* n_classes + 1 */
    uint32_t *class_images;  /* n_images, or NULL */
    /* when opened from a binary file: the blob the borrowed arrays live in */
    void *blob;
    bool borrowed;           /* image_class and the tag arrays live in blob */
};

/* Largest tag count whose ids a store file keeps as u16. */
#define PRIME_TAG_IDS16_MAX 65535u

/* Position of the first tag of image i (i <= n_images) in the id array,
 * for a known offset width (4 or 8 bytes; a constant in a loop specialised
 * for one width). */
static inline uint64_t prime__store_tag_off_w(const prime_tagstore *s, uint32_t i,
                                              unsigned width)
{
    return width == 4 ? (uint64_t)s->tag_off32[i] : s->tag_off[i];
}

/* Position of the first tag of image i (i <= n_images) in the id array. */
static inline uint64_t prime__store_tag_off(const prime_tagstore *s, uint32_t i)
{
    return prime__store_tag_off_w(s, i, s->off32 ? 4u : 8u);
}

/* Bytes per tag id: 2 (tag_ids16) or 4 (tag_ids). */
static inline unsigned prime__store_id_width(const prime_tagstore *s)
{
    return s->ids16 ? 2u : 4u;
}

/* Tag id at position k of the id array, for a known id width (a constant
 * in a loop specialised for one width). */
static inline uint32_t prime__store_tag_w(const prime_tagstore *s, uint64_t k, unsigned width)
{
    return width == 2 ? (uint32_t)s->tag_ids16[k] : s->tag_ids[k];
}

/* Tag id at position k of the id array. */
static inline uint32_t prime__store_tag(const prime_tagstore *s, uint64_t k)
{
    return prime__store_tag_w(s, k, prime__store_id_width(s));
}

/* Number of (image, tag) pairs. */
static inline uint64_t prime__store_ref_count(const prime_tagstore *s)
{
    if (!s->off32 && s->tag_off == NULL)
        return 0;
    return prime__store_tag_off(s, s->images.count);
}

/* Image id at position j of the class lists (class_off[c] <= j <
 * class_off[c + 1] lists the images of class c). */
static inline uint32_t prime__store_class_image(const prime_tagstore *s, uint64_t j)
{
    return s->class_images != NULL ? s->class_images[j] : (uint32_t)j;
}

/* Fast paths for the readers: names as (pointer, length), not NUL-terminated. */
PRIME_INTERNAL prime_status prime__store_intern_tag(prime_tagstore *s, const char *name,
                                                    size_t n, uint32_t *id_out);
PRIME_INTERNAL prime_status prime__store_intern_class(prime_tagstore *s, const char *name,
                                                      size_t n, uint32_t *id_out);
/* tag_ids need not be sorted or unique; they are copied. */
PRIME_INTERNAL prime_status prime__store_add_image(prime_tagstore *s, const char *name,
                                                   size_t name_len, uint32_t class_id,
                                                   const uint32_t *tag_ids, uint32_t n_tags,
                                                   uint32_t *index_out);
/* Bulk loading (the text readers). prime__store_reserve makes room for that
 * many more images, tag references and image name bytes (a hint: adding
 * more still works). prime__store_append_image adds an image whose name is
 * known to be valid UTF-8 without NUL and non-empty, whose class id is in
 * range and whose tag ids are in range, ascending and unique; it does not
 * index the name nor check it for duplicates: the caller builds the image
 * index afterwards with prime__names_build_index (which finds duplicates). */
PRIME_INTERNAL prime_status prime__store_reserve(prime_tagstore *s, size_t images,
                                                 uint64_t refs, size_t name_bytes);
PRIME_INTERNAL prime_status prime__store_append_image(prime_tagstore *s, const char *name,
                                                      size_t name_len, uint32_t class_id,
                                                      const uint32_t *tag_ids, uint32_t n_tags);

/* Builds class_off / class_images / class_size from image_class. */
PRIME_INTERNAL prime_status prime__store_build_class_index(prime_tagstore *s);

/* Binary store (store_io.c): detects the magic bytes. */
PRIME_INTERNAL bool prime__is_binary_store(const void *data, size_t size);
/* Validate a binary store held in `blob` (from prime__malloc, 8-byte
 * aligned) and turn it into a frozen store that uses it in place. Takes
 * ownership of blob whatever happens; `name` is used in messages. */
PRIME_INTERNAL prime_status prime__store_open_blob(unsigned char *blob, size_t n,
                                                   const char *name, prime_tagstore **out);

/* Readers (read_csv.c, read_jsonl.c). `name` is used in messages. */
PRIME_INTERNAL prime_status prime__read_tags_csv(const char *data, size_t size,
                                                 const char *name, prime_tagstore **store_out,
                                                 prime_outcomes **outcomes_out);
PRIME_INTERNAL prime_status prime__read_tags_jsonl(const char *data, size_t size,
                                                   const char *name,
                                                   prime_tagstore **store_out,
                                                   prime_outcomes **outcomes_out);

/* ---- outcomes (outcomes.c) ------------------------------------------------ */

struct prime_outcomes {
    uint32_t n;
    double *v; /* NaN = unset */
};

/* Parse a decimal number (as strtod in the C locale) from s[0..n); false if
 * the whole text is not one finite number. */
PRIME_INTERNAL bool prime__parse_double(const char *s, size_t n, double *out);

/* ---- configuration (config.c) -------------------------------------------- */

struct prime_config {
    int64_t max_tags;
    int64_t min_size;
    double min_drop;
    double min_gain[PRIME_MAX_TAGS_LIMIT];
    uint32_t n_min_gain;
    int64_t min_tag_count; /* 0 = equal to min_size */
    int64_t threads;       /* 0 = all CPUs */
    int64_t whole_dataset;
};

/* min_gain for a k-tag mode (k >= 1). */
PRIME_INTERNAL double prime__config_gain(const prime_config *c, uint32_t k);
/* min_tag_count with 0 resolved to min_size. */
PRIME_INTERNAL int64_t prime__config_tag_count(const prime_config *c);

/* ---- results (result.c) --------------------------------------------------- */

/* Slack of every threshold comparison: x >= y - PRIME_EPS. */
#define PRIME_EPS 1e-9

typedef struct {
    uint32_t class_index; /* index into result->classes */
    uint32_t n_tags;
    uint32_t tag_first;   /* into result->mode_tags / mode_tag_names */
    uint64_t size;
    double correct, accuracy, drop;
    uint64_t description_off; /* into result->strings */
} prime__mode;

typedef struct {
    uint32_t class_id;    /* PRIME_NONE in whole-data-set mode */
    uint64_t images;
    double correct, accuracy;
    uint64_t name_off;    /* into result->strings */
} prime__class_stat;

struct prime_result {
    prime_config config;  /* copy of the parameters used */
    uint32_t n_classes;
    prime__class_stat *classes;
    uint64_t n_modes;
    prime__mode *modes;
    uint32_t *mode_tags;        /* tag ids, per mode in name order */
    uint64_t *mode_tag_name_off; /* into strings, parallel to mode_tags */
    uint64_t n_mode_tags;
    char *strings;               /* NUL-terminated names and descriptions */
    uint64_t strings_len;
    /* tag sets the search evaluated (size >= min_size), summed over the
       workers; set by prime_search after prime__result_build (0 = unknown) */
    uint64_t n_candidates;
};

/* A candidate mode as found by the search, before names are attached. */
typedef struct {
    uint32_t class_index;      /* index into the class list of the search */
    uint32_t n_tags;
    uint32_t tags[PRIME_MAX_TAGS_LIMIT]; /* store tag ids */
    uint64_t size;
    double correct;
} prime__raw_mode;

/* Build a result from the searched classes (in any order) and raw modes (in
 * any order): copies names, computes accuracies, sorts everything.
 * class_ids[i] is the store id of searched class i (PRIME_NONE = all). */
PRIME_INTERNAL prime_status prime__result_build(const prime_tagstore *store,
                                                const prime_config *config,
                                                uint32_t n_classes, const uint32_t *class_ids,
                                                const uint64_t *class_images,
                                                const double *class_correct,
                                                const prime__raw_mode *modes, uint64_t n_modes,
                                                prime_result **out);

/* ---- allocation-failure injection (alloc.c); for tests only ---------------
 * Hidden symbols: reachable from the white-box tests and fuzz targets that
 * link the static library, never exported from libprime.so. */

/* Make allocation number k (counted from 1 from this call on, over all
 * threads) fail; k <= 0 turns injection off. Resets the counters. */
PRIME_INTERNAL void prime__alloc_fail_after(long k);
/* The same, but allocation k and every later one fail. */
PRIME_INTERNAL void prime__alloc_fail_from(long k);
/* Allocations counted since the last prime__alloc_fail_after/_from (only
 * counted while injection is on). */
PRIME_INTERNAL long prime__alloc_count(void);
/* Allocations that were made to fail since then. */
PRIME_INTERNAL long prime__alloc_failed_count(void);

#endif /* PRIME_INTERNAL_H */
