/* libprime's store layer (lib/store): the tag store's layout, its bulk
 * loading paths, the binary store file, the text readers and the outcomes
 * vector. Not installed. */
#ifndef PRIME_STORE_H
#define PRIME_STORE_H

#include <string.h>

#include "common/common.h"

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
    /* prime_tagstore_checksum of the frozen store, once computed (0: not
       yet); written by any thread that computes it (the same value) */
    _Atomic uint64_t checksum_cache;
    /* the writers' forms of the class [0] and tag [1] names of the frozen
       store, built on first use (prime__store_name_forms); read and set
       with __atomic builtins */
    prime__name_forms *name_forms[2];
    /* a part of a binary store file (prime_tagstore_open_part): the file's
       payload checksum (the whole store's prime_tagstore_checksum), the
       file's image count and the file index of this store's image 0;
       binary outcomes of the whole store load for a part through these
       (prime__outcomes_open_part). is_part false: a store of its own. */
    bool is_part;
    uint64_t origin_sum, origin_images, origin_first;
    /* the images of some classes of a binary store file (a class reader,
       prime_class_reader_read): origin_sum is the file's payload checksum
       and origin_class_size (owned, n_classes entries) the file's class
       sizes; partial results bind to these (prime__store_bind_sum), so they
       are those of the whole store. A class c is held (all its images are
       here) when class_size[c] == origin_class_size[c]. */
    bool class_part;
    uint32_t *origin_class_size;
};

/* The checksum a partial result of this store is bound to: the file's for
 * a class part, else prime_tagstore_checksum. */
PRIME_INTERNAL prime_status prime__store_bind_sum(const prime_tagstore *s, uint64_t *sum_out);

/* Images of class c in the store a partial result is bound to: the file's
 * class size for a class part, else the store's. */
static inline uint64_t prime__store_bind_class_size(const prime_tagstore *s, uint32_t c)
{
    return s->class_part ? s->origin_class_size[c] : s->class_size[c];
}

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

/* ---- the store's internal query API ----------------------------------------
 * What the layers above (query, eval, quality) ask a frozen store, without
 * knowing its arrays' widths or whether its class lists are stored. */

/* Class of image img. */
static inline uint32_t prime__store_image_class(const prime_tagstore *s, uint32_t img)
{
    return s->image_class[img];
}

/* The images of a scope (a class id, or PRIME_NONE for every image) are
 * prime__store_scope_image(s, cls, j) for j in [*first, *end), ascending. */
static inline void prime__store_scope(const prime_tagstore *s, uint32_t cls, uint64_t *first,
                                      uint64_t *end)
{
    if (cls == PRIME_NONE) {
        *first = 0;
        *end = s->images.count;
    } else {
        *first = s->class_off[cls];
        *end = s->class_off[cls + 1];
    }
}

static inline uint32_t prime__store_scope_image(const prime_tagstore *s, uint32_t cls,
                                                uint64_t j)
{
    return cls == PRIME_NONE ? (uint32_t)j : prime__store_class_image(s, j);
}

/* The tags of image img are prime__store_tag(s, k) for k in [*first, *end),
 * ascending and unique. */
static inline void prime__store_image_tags(const prime_tagstore *s, uint32_t img,
                                           uint64_t *first, uint64_t *end)
{
    *first = prime__store_tag_off(s, img);
    *end = prime__store_tag_off(s, img + 1);
}

/* Id of the image named s[0..n) (not NUL-terminated), or PRIME_NONE. */
static inline uint32_t prime__store_find_image(const prime_tagstore *s, const char *name,
                                               size_t n)
{
    return prime__names_find(&s->images, name, n);
}

/* Id of the tag / class named name (NUL-terminated), or PRIME_NONE: a
 * lookup that may find nothing, without touching the last error. */
static inline uint32_t prime__store_find_tag(const prime_tagstore *s, const char *name)
{
    return prime__names_find(&s->tags, name, strlen(name));
}

static inline uint32_t prime__store_find_class(const prime_tagstore *s, const char *name)
{
    return prime__names_find(&s->classes, name, strlen(name));
}

/* true if image img carries every tag of want[0..n) (sorted, unique). */
static inline bool prime__store_image_has_all(const prime_tagstore *s, uint32_t img,
                                              const uint32_t *want, uint32_t n)
{
    uint64_t k, end;
    prime__store_image_tags(s, img, &k, &end);
    if (end - k < n)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        while (k < end && prime__store_tag(s, k) < want[i])
            k++;
        if (k == end || prime__store_tag(s, k) != want[i])
            return false;
        k++;
    }
    return true;
}

/* PRIME_E_INVALID_ARG for a NULL store, PRIME_E_STATE for a frozen one
 * ("FN: the tag store is frozen"). */
PRIME_INTERNAL prime_status prime__store_check_mutable(const prime_tagstore *s, const char *fn);

/* The writers' forms of the frozen store's class names (tags false) or
 * tag names (prime__name_forms), built on the first call by any thread and
 * kept until the store is destroyed; NULL for a store not frozen (its
 * names may still grow) or when out of memory: the caller then escapes the
 * names itself. */
PRIME_INTERNAL const prime__name_forms *prime__store_name_forms(const prime_tagstore *s,
                                                                bool tags);

/* Fast paths for the readers: names as (pointer, length), not NUL-terminated. */
PRIME_INTERNAL prime_status prime__store_intern_tag(prime_tagstore *s, const char *name,
                                                    size_t n, uint32_t *id_out);
PRIME_INTERNAL prime_status prime__store_intern_class(prime_tagstore *s, const char *name,
                                                      size_t n, uint32_t *id_out);
/* The checks the two interns make of a new name (PRIME_OK: it may be
 * added): a tag name 1..PRIME_MAX_TAG_NAME bytes of UTF-8 without '|', a
 * class name non-empty UTF-8. */
PRIME_INTERNAL prime_status prime__store_check_tag_name(const char *name, size_t n);
PRIME_INTERNAL prime_status prime__store_check_class_name(const char *name, size_t n);
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

/* ---- merge and shards (merge.c, shard.c) ---------------------------------- */

/* prime_tagstore_merge with names for the parts in messages (names may be
 * NULL: "part K"). */
PRIME_INTERNAL prime_status prime__tagstore_merge_named(const prime_tagstore *const *parts,
                                                        const char *const *names, uint32_t n,
                                                        uint32_t flags, prime_tagstore **out);
/* The bytes of a frozen store's file (store_io.c); *file_out from
 * prime__malloc. */
PRIME_INTERNAL prime_status prime__store_serialize(const prime_tagstore *store, const char *path,
                                                   unsigned char **file_out, size_t *size_out);
/* Binary outcomes (outcomes_bin.c): detects the magic bytes; reads one. */
PRIME_INTERNAL bool prime__is_binary_outcomes(const void *data, size_t size);
/* The outcomes of the images of a part store (store->is_part) from a binary
 * outcomes file of the whole store: the header and one pass over the file
 * for its payload checksum, then only the part's values. */
PRIME_INTERNAL prime_status prime__outcomes_open_part(const char *path,
                                                      const prime_tagstore *store,
                                                      prime_outcomes **out);
/* Binary outcomes open for reading ranges of values: the header and the
 * payload checksum checked once (prime__outcomes_file_open), bound to a
 * store file of n_images images with payload checksum store_sum. */
typedef struct {
    int fd;
    uint32_t kind;
    uint64_t n;
    char *path;
} prime__outcomes_file;
PRIME_INTERNAL prime_status prime__outcomes_file_open(const char *path, uint64_t store_sum,
                                                      uint64_t n_images,
                                                      prime__outcomes_file *f);
/* Values first .. first + count - 1 into dst[0..count). */
PRIME_INTERNAL prime_status prime__outcomes_file_read(const prime__outcomes_file *f,
                                                      uint64_t first, uint64_t count,
                                                      double *dst);
PRIME_INTERNAL void prime__outcomes_file_close(prime__outcomes_file *f);
/* Bytes [at, at + size) of an open file into dst (a loop over pread);
 * PRIME_E_IO naming path, or PRIME_E_FORMAT "truncated" at the end of the
 * file. */
PRIME_INTERNAL prime_status prime__read_at(int fd, void *dst, uint64_t size, uint64_t at,
                                           const char *path);
/* prime__checksum (seed) of bytes [from, to) of an open file, read a block
 * at a time (bounded memory). */
PRIME_INTERNAL prime_status prime__checksum_file_range(int fd, uint64_t from, uint64_t to,
                                                       uint64_t seed, const char *path,
                                                       uint64_t *sum_out);
PRIME_INTERNAL prime_status prime__outcomes_open_memory(const void *data, size_t size,
                                                        const char *name,
                                                        const prime_tagstore *store,
                                                        prime_outcomes **out);
/* true if path names a folder (prime_tagstore_load opens it as a sharded store). */
PRIME_INTERNAL bool prime__is_sharded_dir(const char *path);

/* ---- outcomes (outcomes.c) ------------------------------------------------ */

struct prime_outcomes {
    uint32_t n;
    double *v; /* NaN = unset */
};


/* The tags CSV reader with the whole-text check already done (checked) or
 * still to do (read_csv.c). */
PRIME_INTERNAL prime_status prime__read_tags_csv_checked(const char *data, size_t size,
                                                         const char *name, bool checked,
                                                         prime_tagstore **store_out,
                                                         prime_outcomes **outcomes_out);

#endif /* PRIME_STORE_H */
