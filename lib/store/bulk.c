/* Bulk building of a tag store from one call per batch (issue 13): names
 * interned from one buffer with offsets, images added from columns (class
 * ids, tag ids in CSR form). Language bindings use these so building a
 * store from lists, NumPy arrays or a DataFrame costs a handful of calls
 * instead of one per image. */
#include <string.h>

#include "store/store.h"
#include "store/tag_cache.h"

/* Prefix the calling thread's last error with where it happened (the
 * message is copied first: prime__error formats into the same buffer). */
static prime_status rewrap(prime_status st, const char *fn, const char *what, uint32_t i)
{
    char prev[512];
    prime_last_error_copy(prev, sizeof prev);
    return prime__error(st, "%s: %s %u: %s", fn, what, i, prev);
}

/* The checks of the two column-wise adders (prime_tagstore_add_images and
 * prime_tagstore_add_images_text), made before anything is added so that
 * the common mistakes leave the store unchanged. `tags` is their tag ids or
 * tag text (named tags_name in messages); utf8_names: the image names are
 * checked here (the text adder indexes a large batch at its end).
 * *empty = true for n = 0 (nothing to add; *first_index_out is set). */
static prime_status check_batch(const prime_tagstore *s, const char *fn, uint32_t n,
                                const char *image_names, const uint64_t *name_offsets,
                                const uint32_t *class_ids, const void *tags,
                                const char *tags_name, const uint64_t *tag_offsets,
                                bool utf8_names, uint32_t *first_index_out, bool *empty)
{
    *empty = false;
    prime_status st = prime__store_check_mutable(s, fn);
    if (st != PRIME_OK)
        return st;
    if (n == 0) {
        if (first_index_out != NULL)
            *first_index_out = s->images.count;
        *empty = true;
        return PRIME_OK;
    }
    if (class_ids == NULL || tag_offsets == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: NULL argument", fn);
    if (image_names == NULL && name_offsets != NULL && name_offsets[n] > 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: image_names is NULL", fn);
    if (tags == NULL && tag_offsets[n] > 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: %s is NULL", fn, tags_name);
    if (tag_offsets[0] != 0 || (name_offsets != NULL && name_offsets[0] != 0))
        return prime__error(PRIME_E_INVALID_ARG, "%s: offsets must start at 0", fn);
    if ((uint64_t)s->images.count + n >= UINT32_MAX - 1)
        return prime__error(PRIME_E_LIMIT, "%s: too many images (the limit is 2^32-2)", fn);
    for (uint32_t i = 0; i < n; i++) {
        if (class_ids[i] >= s->classes.count)
            return prime__error(PRIME_E_INVALID_ARG, "%s: image %u: class id %u out of range "
                                "(%u classes)", fn, i, class_ids[i], s->classes.count);
        if (tag_offsets[i + 1] < tag_offsets[i] || tag_offsets[i + 1] - tag_offsets[i] > UINT32_MAX)
            return prime__error(PRIME_E_INVALID_ARG, "%s: tag offsets decrease at image %u", fn, i);
        if (name_offsets == NULL)
            continue;
        if (name_offsets[i + 1] < name_offsets[i])
            return prime__error(PRIME_E_INVALID_ARG, "%s: name offsets decrease at image %u",
                                fn, i);
        const char *nm = image_names + name_offsets[i];
        size_t len = (size_t)(name_offsets[i + 1] - name_offsets[i]);
        if (utf8_names && len > 0 && (memchr(nm, '\0', len) != NULL || !prime__utf8_valid(nm, len)))
            return prime__error(PRIME_E_INVALID_ARG, "%s: image %u: the name is not valid UTF-8",
                                fn, i);
    }
    return PRIME_OK;
}

prime_status prime_tagstore_intern_names(prime_tagstore *s, int32_t kind, const char *names,
                                         const uint64_t *offsets, uint32_t n, uint32_t *ids_out)
{
    const char *fn = "prime_tagstore_intern_names";
    prime_status st = prime__store_check_mutable(s, fn);
    if (st != PRIME_OK)
        return st;
    if (kind != PRIME_NAMES_TAGS && kind != PRIME_NAMES_CLASSES)
        return prime__error(PRIME_E_INVALID_ARG, "%s: unknown kind %d", fn, (int)kind);
    if (n == 0)
        return PRIME_OK;
    if (offsets == NULL || ids_out == NULL || (names == NULL && offsets[n] > 0))
        return prime__error(PRIME_E_INVALID_ARG, "%s: NULL argument", fn);
    if (offsets[0] != 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: offsets[0] is %llu, not 0", fn,
                            (unsigned long long)offsets[0]);
    for (uint32_t i = 0; i < n; i++)
        if (offsets[i + 1] < offsets[i])
            return prime__error(PRIME_E_INVALID_ARG, "%s: offsets decrease at name %u", fn, i);
    for (uint32_t i = 0; i < n; i++) {
        const char *p = names + offsets[i];
        size_t len = (size_t)(offsets[i + 1] - offsets[i]);
        st = kind == PRIME_NAMES_TAGS ? prime__store_intern_tag(s, p, len, &ids_out[i])
                                      : prime__store_intern_class(s, p, len, &ids_out[i]);
        if (st != PRIME_OK)
            return rewrap(st, fn, "name", i);
    }
    return PRIME_OK;
}

prime_status prime_tagstore_add_images(prime_tagstore *s, uint32_t n, const char *image_names,
                                       const uint64_t *name_offsets, const uint32_t *class_ids,
                                       const uint64_t *tag_offsets, const uint32_t *tag_ids,
                                       uint32_t *first_index_out)
{
    const char *fn = "prime_tagstore_add_images";
    bool empty;
    prime_status st = check_batch(s, fn, n, image_names, name_offsets, class_ids, tag_ids,
                                  "tag_ids", tag_offsets, false, first_index_out, &empty);
    if (st != PRIME_OK || empty)
        return st;
    for (uint64_t k = 0; k < tag_offsets[n]; k++)
        if (tag_ids[k] >= s->tags.count)
            return prime__error(PRIME_E_INVALID_ARG, "%s: tag id %u out of range (%u tags)", fn,
                                tag_ids[k], s->tags.count);
    uint32_t first = s->images.count;
    for (uint32_t i = 0; i < n; i++) {
        const char *name = NULL;
        size_t len = 0;
        if (name_offsets != NULL) {
            name = image_names + name_offsets[i];
            len = (size_t)(name_offsets[i + 1] - name_offsets[i]);
        }
        st = prime__store_add_image(s, name, len, class_ids[i],
                                    tag_offsets[i + 1] > tag_offsets[i] ? tag_ids + tag_offsets[i]
                                                                        : NULL,
                                    (uint32_t)(tag_offsets[i + 1] - tag_offsets[i]), NULL);
        if (st != PRIME_OK)
            return rewrap(st, fn, "image (the images before it were added)", i);
    }
    if (first_index_out != NULL)
        *first_index_out = first;
    return PRIME_OK;
}

/* Undo a batch: drop the images from `first` on, the tags from `first_tag`
 * on and the classes from `first_class` on, and rebuild the name indexes. */
static void rollback(prime_tagstore *s, uint32_t first, uint32_t first_tag,
                             uint32_t first_class)
{
    for (uint32_t i = first; i < s->images.count; i++)
        s->class_size[s->image_class[i]]--;
    s->images.count = first;
    if (s->images.off != NULL)
        s->images.bytes_len = s->images.off[first];
    s->tags.count = first_tag;
    if (s->tags.off != NULL)
        s->tags.bytes_len = s->tags.off[first_tag];
    (void)prime__names_build_index(&s->images, NULL);
    (void)prime__names_build_index(&s->tags, NULL);
    if (first_class < s->classes.count) {
        s->classes.count = first_class;
        s->classes.bytes_len = s->classes.off[first_class];
        (void)prime__names_build_index(&s->classes, NULL);
    }
}

/* After a bulk append of images first..: the image-name index, built once
 * for the whole batch; a repeated name is an error naming the batch's image. */
static prime_status index_names(prime_tagstore *s, const char *fn, uint32_t first)
{
    uint32_t dup = PRIME_NONE;
    prime_status st = prime__names_build_index(&s->images, &dup);
    if (st == PRIME_E_DUPLICATE) {
        size_t len = prime__names_len(&s->images, dup);
        st = prime__error(PRIME_E_DUPLICATE, "%s: image %u: duplicate image \"%.*s\"", fn,
                          dup >= first ? dup - first : dup, (int)(len > 200 ? 200 : len),
                          prime__names_get(&s->images, dup));
    }
    return st;
}

/* The end of a batch that added images first.. (and tags from
 * first_tag, classes from first_class) with status st: a bulk batch's
 * names indexed (a duplicate fails it), or on failure all of it undone. */
static prime_status end_batch(prime_tagstore *s, const char *fn, prime_status st, bool bulk,
                              uint32_t first, uint32_t first_tag, uint32_t first_class,
                              uint32_t *first_index_out)
{
    if (st == PRIME_OK && bulk)
        st = index_names(s, fn, first);
    if (st != PRIME_OK) {
        rollback(s, first, first_tag, first_class);
        return st;
    }
    if (first_index_out != NULL)
        *first_index_out = first;
    return PRIME_OK;
}

prime_status prime_tagstore_add_images_text(prime_tagstore *s, uint32_t n,
                                            const char *image_names,
                                            const uint64_t *name_offsets,
                                            const uint32_t *class_ids, const char *tag_text,
                                            const uint64_t *tag_offsets,
                                            uint32_t *first_index_out)
{
    const char *fn = "prime_tagstore_add_images_text";
    bool empty;
    prime_status st = check_batch(s, fn, n, image_names, name_offsets, class_ids, tag_text,
                                  "tag_text", tag_offsets, true, first_index_out, &empty);
    if (st != PRIME_OK || empty)
        return st;
    uint32_t first = s->images.count, first_tag = s->tags.count;
    /* the names of a large batch are indexed once at the end (and checked
       for duplicates there); a small one is added image by image */
    bool bulk = n >= 1024 && n >= first / 4;
    uint64_t refs_hint = tag_offsets[n] / 4;
    st = prime__store_reserve(s, n, refs_hint, name_offsets != NULL ? name_offsets[n] : 0);
    if (st != PRIME_OK)
        return st;
    uint32_t *ids = NULL;
    size_t ids_cap = 0;
    for (uint32_t i = 0; i < n && st == PRIME_OK; i++) {
        const char *p = tag_text + tag_offsets[i], *end = tag_text + tag_offsets[i + 1];
        uint32_t m = 0;
        while (p < end) {
            const char *bar = memchr(p, '|', (size_t)(end - p));
            const char *stop = bar != NULL ? bar : end;
            if (stop > p) {
                if (!prime__grow((void **)&ids, &ids_cap, (size_t)m + 1, sizeof *ids)) {
                    st = prime__error(PRIME_E_NOMEM, "%s: out of memory", fn);
                    break;
                }
                st = prime__store_intern_tag(s, p, (size_t)(stop - p), &ids[m]);
                if (st != PRIME_OK) {
                    st = rewrap(st, fn, "image", i);
                    break;
                }
                m++;
            }
            p = stop + 1;
        }
        if (st != PRIME_OK)
            break;
        const char *name = NULL;
        size_t len = 0;
        if (name_offsets != NULL) {
            name = image_names + name_offsets[i];
            len = (size_t)(name_offsets[i + 1] - name_offsets[i]);
        }
        if (bulk) {
            m = (uint32_t)prime__sort_unique_u32(ids, m);
            st = prime__store_append_image(s, len ? name : "", len, class_ids[i], ids, m);
        } else {
            st = prime__store_add_image(s, name, len, class_ids[i], ids, m, NULL);
        }
        if (st != PRIME_OK)
            st = rewrap(st, fn, "image", i);
    }
    prime__free(ids);
    /* (the batch adds no class) */
    return end_batch(s, fn, st, bulk, first, first_tag, s->classes.count, first_index_out);
}

/* ---- packed columns (prime_tagstore_add_packed) ------------------------------ */

/* The separators ('|' and NUL) of a buffer, in order, one 64-byte block at
 * a time. */
typedef struct {
    const char *base, *end;
    size_t size, blk; /* blk: offset of the current block */
    uint64_t m;       /* its separators not yet taken */
} sep_scan;

static void sep_init(sep_scan *sc, const char *base, size_t size)
{
    sc->base = base;
    sc->end = base + size;
    sc->size = size;
    sc->blk = 0;
    sc->m = size > 0 ? sep_mask(base, sc->end) : 0;
}

/* Offset of the next separator, or the size at the end (then again). */
static inline size_t sep_next(sep_scan *sc)
{
    while (sc->m == 0) {
        if (sc->size - sc->blk <= 64)
            return sc->size;
        sc->blk += 64;
        sc->m = sep_mask(sc->base + sc->blk, sc->end);
    }
    size_t q = sc->blk + (size_t)__builtin_ctzll(sc->m);
    sc->m &= sc->m - 1;
    return q;
}

/* Number of NUL bytes of p[0..n): 16 bytes at a time (a column of 2.5 M
 * short tag names holds as many NULs, one memchr call each cost a fifth
 * of the whole packed add). */
static uint64_t count_nul(const char *p, size_t n)
{
    uint64_t k = 0;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    while (n - i >= 16) {
        /* per byte lane the count of NULs (up to 255), then summed */
        __m128i acc = zero;
        for (int r = 0; r < 255 && n - i >= 16; r++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, zero));
        }
        __m128i sum = _mm_sad_epu8(acc, zero);
        k += (uint64_t)_mm_cvtsi128_si64(sum) + (uint64_t)_mm_extract_epi16(sum, 4);
    }
#endif
    for (; i < n; i++)
        k += p[i] == '\0';
    return k;
}

/* Checks that a column of `want` fields separated by NULs is what the
 * buffer holds: want - 1 separators (an empty buffer for no field). */
static prime_status check_fields(const char *fn, const char *what, const char *buf, size_t size,
                                 uint64_t want)
{
    if (buf == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: %s is NULL but its size is %zu", fn, what,
                            size);
    if (want == 0) {
        if (size > 0)
            return prime__error(PRIME_E_INVALID_ARG, "%s: %s: %zu bytes but no field", fn, what,
                                size);
        return PRIME_OK;
    }
    uint64_t seps = buf != NULL ? count_nul(buf, size) : 0;
    if (seps != want - 1)
        return prime__error(PRIME_E_INVALID_ARG,
                            "%s: %s: %llu fields separated by NUL bytes, expected %llu (a name "
                            "holding a NUL byte, or a wrong count)",
                            fn, what, (unsigned long long)seps + 1, (unsigned long long)want);
    return PRIME_OK;
}

/* The image-name column of the packed adders: n names separated by NUL
 * bytes, or NULL (size 0) for unnamed images. */
static prime_status check_images(const char *fn, const char *images, size_t size, uint32_t n)
{
    if (images == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: images is NULL but its size is %zu", fn,
                            size);
    return images != NULL ? check_fields(fn, "images", images, size, n) : PRIME_OK;
}

/* Then, once the other columns are checked too: the names are UTF-8. */
static prime_status check_images_utf8(const char *fn, const char *images, size_t size)
{
    if (images == NULL || size == 0 || prime__utf8_valid(images, size))
        return PRIME_OK;
    return prime__error(PRIME_E_INVALID_ARG, "%s: images: image %llu: the name is not valid UTF-8",
                        fn, (unsigned long long)count_nul(images, prime__utf8_prefix(images, size)));
}

/* The field of a NUL-separated column that starts at *pos (its length in
 * *len); *pos moves past its NUL. */
static inline const char *next_field(const char *buf, size_t size, size_t *pos, size_t *len)
{
    const char *p = buf + *pos, *z = memchr(p, '\0', size - *pos);
    size_t e = z != NULL ? (size_t)(z - buf) : size;
    *len = e - *pos;
    *pos = e + 1;
    return p;
}

/* One image of a packed batch: appended (bulk: its name indexed at the end
 * of the batch; ids sorted and merged here) or added (its name checked
 * now). ids[0..m) are overwritten. */
static prime_status add_one(prime_tagstore *s, bool bulk, const char *name, size_t name_len,
                            uint32_t class_id, uint32_t *ids, uint32_t m)
{
    if (!bulk)
        return prime__store_add_image(s, name_len > 0 ? name : NULL, name_len, class_id, ids, m,
                                      NULL);
    if (m <= SMALL_SORT_MAX && s->tags.count <= (1u << 27)) {
        if (m > 1)
            m = sort_unique_small(ids, m);
    } else {
        m = (uint32_t)prime__sort_unique_u32(ids, m);
    }
    return prime__store_append_image(s, name, name_len, class_id, ids, m);
}

/* Id of tag p[0..k) (k >= 1) of the buffer [buf, end): the cache for a
 * short one, else the store (which checks the name). */
static inline prime_status packed_tag(tag_cache *c, prime_tagstore *s, const char *p, size_t k,
                                      const char *buf, const char *end, uint32_t *id)
{
    if (k > 16)
        return prime__store_intern_tag(s, p, k, id);
    uint64_t a, b;
    if (p - buf >= 8 && end - p >= 16)
        tag_words_fast(p, k, &a, &b);
    else
        tag_words_safe(p, k, &a, &b);
    uint32_t got = tag_cache_get(c, a, b, k);
    if (got != PRIME_NONE) {
        *id = got;
        return PRIME_OK;
    }
    return tag_miss(c, s, p, k, a, b, id);
}

prime_status prime_tagstore_add_packed(prime_tagstore *s, uint32_t n, const char *images,
                                       size_t images_size, const char *classes,
                                       size_t classes_size, const char *tags, size_t tags_size,
                                       const uint32_t *tag_counts, uint32_t *first_index_out)
{
    const char *fn = "prime_tagstore_add_packed";
    prime_status st = prime__store_check_mutable(s, fn);
    if (st != PRIME_OK)
        return st;
    /* the shape of every column first: such an error changes nothing */
    if (n > 0 && classes == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: classes is NULL", fn);
    if ((uint64_t)s->images.count + n >= UINT32_MAX - 1)
        return prime__error(PRIME_E_LIMIT, "%s: too many images (the limit is 2^32-2)", fn);
    if ((st = check_images(fn, images, images_size, n)) != PRIME_OK)
        return st;
    if ((st = check_fields(fn, "classes", classes, classes_size, n)) != PRIME_OK)
        return st;
    uint64_t n_names = n; /* the fields of the tags column */
    if (tag_counts != NULL) {
        n_names = 0;
        for (uint32_t i = 0; i < n; i++)
            n_names += tag_counts[i];
        if (n_names > UINT32_MAX) /* more than the references a store holds in memory */
            return prime__error(PRIME_E_LIMIT, "%s: %llu tag names (the limit is 2^32-1 per "
                                "call)", fn, (unsigned long long)n_names);
    } else if (n == 0) {
        n_names = 0;
    }
    if ((st = check_fields(fn, tag_counts != NULL ? "tags (counted)" : "tags", tags, tags_size,
                           n_names)) != PRIME_OK)
        return st;
    if (n == 0) {
        if (first_index_out != NULL)
            *first_index_out = s->images.count;
        return PRIME_OK;
    }
    if ((st = check_images_utf8(fn, images, images_size)) != PRIME_OK)
        return st;
    uint32_t first = s->images.count, first_tag = s->tags.count,
             first_class = s->classes.count;
    /* the names of a large batch are indexed once at the end (and checked
       for duplicates there); a small one is added image by image */
    bool bulk = n >= 1024 && n >= first / 4;
    st = prime__store_reserve(s, n, tag_counts != NULL ? n_names : tags_size / 8 + 1,
                              images != NULL ? images_size : 0);
    if (st != PRIME_OK)
        return st;
    if (tags == NULL) /* no tag at all (checked above) */
        tags = "";
    tag_cache cache = {NULL, 0, 64, 0};
    uint32_t *ids = NULL;
    size_t ids_cap = 0;
    pending *pend = NULL;
    size_t pend_cap = 0;
    sep_scan sc;
    sep_init(&sc, tags, tags_size);
    const char *tend = tags + tags_size;
    size_t tpos = 0, ipos = 0, cpos = 0;
    const char *last_class = NULL;
    size_t last_class_n = 0;
    uint32_t last_class_id = PRIME_NONE;
    uint32_t i = 0;
    for (; i < n; i++) {
        /* image name and class: up to the next NUL (or the end) */
        const char *name = "";
        size_t name_len = 0;
        if (images != NULL)
            name = next_field(images, images_size, &ipos, &name_len);
        size_t cl;
        const char *cn = next_field(classes, classes_size, &cpos, &cl);
        uint32_t class_id;
        if (last_class != NULL && cl == last_class_n && memcmp(cn, last_class, cl) == 0) {
            class_id = last_class_id;
        } else {
            if ((st = prime__store_intern_class(s, cn, cl, &class_id)) != PRIME_OK)
                break;
            last_class = cn;
            last_class_n = cl;
            last_class_id = class_id;
        }
        /* tags, in two passes (as the CSV reader): split, taking the words
           of the short tags and prefetching their cache slots so that the
           misses overlap; then the ids in order */
        uint32_t want = tag_counts != NULL ? tag_counts[i] : UINT32_MAX;
        uint32_t nq = 0;
        unsigned shift1 = cache.shift; /* a resize in pass 2 moves the slots */
        bool had_slots = cache.slots != NULL;
        for (uint32_t k = 0; k < want; k++) {
            size_t q = sep_next(&sc);
            const char *p = tags + tpos;
            size_t len = q - tpos;
            bool last = q == tags_size || tags[q] == '\0';
            tpos = q + 1;
            if (tag_counts != NULL) {
                if (!last) { /* a '|' inside a name */
                    while (q < tags_size && tags[q] != '\0')
                        q = sep_next(&sc);
                    len = q - (size_t)(p - tags);
                    st = prime__error(PRIME_E_INVALID_ARG, "tag name \"%.*s\" contains '|'",
                                      (int)(len > 80 ? 80 : len), p);
                    break;
                }
                if (len == 0) {
                    st = prime__error(PRIME_E_INVALID_ARG, "empty tag name");
                    break;
                }
            }
            if (len > PRIME_MAX_TAG_NAME) { /* the store's message, with the length */
                uint32_t unused;
                st = prime__store_intern_tag(s, p, len, &unused);
                break;
            }
            if (len > 0) {
                if (nq >= pend_cap &&
                    !prime__grow((void **)&pend, &pend_cap, (size_t)nq + 1, sizeof *pend)) {
                    st = prime__error(PRIME_E_NOMEM, "out of memory");
                    break;
                }
                pending *e = &pend[nq++];
                e->p = p;
                e->k = (uint32_t)len;
                e->slot = 0;
                if (len - 1 < 16 && p - tags >= 8 && tend - p >= 16) {
                    tag_words_fast(p, len, &e->a, &e->b);
                    if (cache.slots != NULL) {
                        e->slot = (uint32_t)tag_hash(e->a, e->b, len, cache.shift);
                        __builtin_prefetch(cache.slots + e->slot);
                    }
                } else {
                    e->a = e->b = 0;
                    e->slot = UINT32_MAX; /* the slow way */
                }
            }
            if (tag_counts == NULL && last)
                break;
        }
        if (st != PRIME_OK)
            break;
        if (nq > ids_cap && !prime__grow((void **)&ids, &ids_cap, nq, sizeof *ids)) {
            st = prime__error(PRIME_E_NOMEM, "out of memory");
            break;
        }
        uint32_t m = 0;
        for (uint32_t x = 0; x < nq; x++) {
            const pending *e = &pend[x];
            uint32_t id = PRIME_NONE;
            if (e->slot != UINT32_MAX) {
                if (cache.slots != NULL)
                    id = tag_cache_get_at(&cache, e->a, e->b, e->k,
                                          had_slots && cache.shift == shift1
                                              ? e->slot
                                              : tag_hash(e->a, e->b, e->k, cache.shift));
                if (id == PRIME_NONE)
                    st = tag_miss(&cache, s, e->p, e->k, e->a, e->b, &id);
            } else {
                st = packed_tag(&cache, s, e->p, e->k, tags, tend, &id);
            }
            if (st != PRIME_OK)
                break;
            ids[m++] = id;
        }
        if (st != PRIME_OK)
            break;
        if ((st = add_one(s, bulk, name, name_len, class_id, ids, m)) != PRIME_OK)
            break;
    }
    if (st != PRIME_OK)
        st = rewrap(st, fn, "image", i);
    prime__free(ids);
    prime__free(pend);
    prime__free(cache.slots);
    return end_batch(s, fn, st, bulk, first, first_tag, first_class, first_index_out);
}

/* ---- dictionary-coded columns (prime_tagstore_add_coded) --------------------- */

/* Where each of the k names of a column checked by check_fields starts:
 * off[j] (and off[k] = size + 1, so name j has off[j + 1] - off[j] - 1
 * bytes). NULL: out of memory (the error is set). */
static size_t *name_starts(const char *fn, const char *buf, size_t size, uint32_t k)
{
    size_t *off = prime__calloc((size_t)k + 1, sizeof *off);
    if (off == NULL) {
        (void)prime__error(PRIME_E_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    size_t pos = 0, len;
    for (uint32_t j = 0; j < k; j++) {
        off[j] = pos;
        (void)next_field(buf, size, &pos, &len);
    }
    off[k] = size + 1;
    return off;
}

/* A map from a column's name index to the store's id, none yet. */
static uint32_t *id_map(const char *fn, uint32_t k)
{
    uint32_t *map = prime__malloc(((size_t)k + 1) * sizeof *map);
    if (map == NULL)
        (void)prime__error(PRIME_E_NOMEM, "%s: out of memory", fn);
    else
        memset(map, 0xff, ((size_t)k + 1) * sizeof *map); /* PRIME_NONE */
    return map;
}

/* The store's id of name j of a coded column, interned at its first use. */
static inline prime_status coded_id(prime_tagstore *s, bool tag, uint32_t *map, const char *buf,
                                    const size_t *off, uint32_t j, uint32_t *id)
{
    if (map[j] != PRIME_NONE) {
        *id = map[j];
        return PRIME_OK;
    }
    const char *p = buf + off[j];
    size_t len = off[j + 1] - off[j] - 1;
    prime_status st = tag ? prime__store_intern_tag(s, p, len, &map[j])
                          : prime__store_intern_class(s, p, len, &map[j]);
    *id = map[j];
    return st;
}

/* The names of a coded column that no image used are checked all the same. */
static prime_status check_unused(const char *fn, bool tag, const uint32_t *map, const char *buf,
                                 const size_t *off, uint32_t k)
{
    for (uint32_t j = 0; j < k; j++) {
        if (map[j] != PRIME_NONE)
            continue;
        const char *p = buf + off[j];
        size_t len = off[j + 1] - off[j] - 1;
        prime_status st = tag ? prime__store_check_tag_name(p, len)
                              : prime__store_check_class_name(p, len);
        if (st != PRIME_OK)
            return rewrap(st, fn, tag ? "tag name (used by no image)"
                                      : "class name (used by no image)", j);
    }
    return PRIME_OK;
}

prime_status prime_tagstore_add_coded(prime_tagstore *s, uint32_t n, const char *images,
                                      size_t images_size, const char *class_names,
                                      size_t class_names_size, uint32_t n_class_names,
                                      const uint32_t *class_index, const char *tag_names,
                                      size_t tag_names_size, uint32_t n_tag_names,
                                      const uint32_t *tag_index, uint64_t n_refs,
                                      const uint32_t *tag_counts, uint32_t *first_index_out)
{
    const char *fn = "prime_tagstore_add_coded";
    prime_status st = prime__store_check_mutable(s, fn);
    if (st != PRIME_OK)
        return st;
    /* the shape of every column first: such an error changes nothing */
    if (n > 0 && class_index == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: class_index is NULL", fn);
    if (n_refs > 0 && (tag_index == NULL || tag_counts == NULL))
        return prime__error(PRIME_E_INVALID_ARG, "%s: %s is NULL but n_refs is %llu", fn,
                            tag_index == NULL ? "tag_index" : "tag_counts",
                            (unsigned long long)n_refs);
    if ((uint64_t)s->images.count + n >= UINT32_MAX - 1)
        return prime__error(PRIME_E_LIMIT, "%s: too many images (the limit is 2^32-2)", fn);
    if ((st = check_images(fn, images, images_size, n)) != PRIME_OK ||
        (st = check_fields(fn, "class_names", class_names, class_names_size, n_class_names)) !=
            PRIME_OK ||
        (st = check_fields(fn, "tag_names", tag_names, tag_names_size, n_tag_names)) != PRIME_OK)
        return st;
    if (tag_counts != NULL) {
        uint64_t sum = 0;
        for (uint32_t i = 0; i < n; i++)
            sum += tag_counts[i];
        if (sum != n_refs)
            return prime__error(PRIME_E_INVALID_ARG,
                                "%s: the tag counts sum to %llu, but n_refs is %llu", fn,
                                (unsigned long long)sum, (unsigned long long)n_refs);
    }
    if ((st = check_images_utf8(fn, images, images_size)) != PRIME_OK)
        return st;
    if (class_names == NULL) /* no name (checked above) */
        class_names = "";
    if (tag_names == NULL)
        tag_names = "";
    uint32_t first = s->images.count, first_tag = s->tags.count,
             first_class = s->classes.count;
    /* as prime_tagstore_add_packed: a large batch's names indexed at its end */
    bool bulk = n >= 1024 && n >= first / 4;
    size_t *coff = name_starts(fn, class_names, class_names_size, n_class_names);
    size_t *toff = coff != NULL ? name_starts(fn, tag_names, tag_names_size, n_tag_names) : NULL;
    uint32_t *cmap = toff != NULL ? id_map(fn, n_class_names) : NULL;
    uint32_t *tmap = cmap != NULL ? id_map(fn, n_tag_names) : NULL;
    st = tmap != NULL ? prime__store_reserve(s, n, n_refs, images != NULL ? images_size : 0)
                      : PRIME_E_NOMEM;
    uint32_t *ids = NULL;
    size_t ids_cap = 0, ipos = 0;
    uint64_t r = 0;
    uint32_t i = 0;
    for (; i < n && st == PRIME_OK; i++) {
        const char *name = "";
        size_t name_len = 0;
        if (images != NULL)
            name = next_field(images, images_size, &ipos, &name_len);
        uint32_t c = class_index[i], class_id;
        if (c >= n_class_names) {
            st = prime__error(PRIME_E_INVALID_ARG, "class index %u out of range (%u class names)",
                              c, n_class_names);
            break;
        }
        if ((st = coded_id(s, false, cmap, class_names, coff, c, &class_id)) != PRIME_OK)
            break;
        uint32_t m = tag_counts != NULL ? tag_counts[i] : 0;
        if (m > ids_cap && !prime__grow((void **)&ids, &ids_cap, m, sizeof *ids)) {
            st = prime__error(PRIME_E_NOMEM, "out of memory");
            break;
        }
        const uint32_t *x = tag_index + r;
        for (uint32_t j = 0; j < m && st == PRIME_OK; j++) {
            if (x[j] >= n_tag_names)
                st = prime__error(PRIME_E_INVALID_ARG, "tag index %u out of range (%u tag names)",
                                  x[j], n_tag_names);
            else
                st = coded_id(s, true, tmap, tag_names, toff, x[j], &ids[j]);
        }
        r += m;
        if (st != PRIME_OK || (st = add_one(s, bulk, name, name_len, class_id, ids, m)) != PRIME_OK)
            break;
    }
    if (st != PRIME_OK && tmap != NULL)
        st = rewrap(st, fn, "image", i);
    if (st == PRIME_OK)
        st = check_unused(fn, false, cmap, class_names, coff, n_class_names);
    if (st == PRIME_OK)
        st = check_unused(fn, true, tmap, tag_names, toff, n_tag_names);
    prime__free(ids);
    prime__free(coff);
    prime__free(toff);
    prime__free(cmap);
    prime__free(tmap);
    return end_batch(s, fn, st, bulk, first, first_tag, first_class, first_index_out);
}
