/* Bulk building of a tag store from one call per batch (issue 13): names
 * interned from one buffer with offsets, images added from columns (class
 * ids, tag ids in CSR form). Language bindings use these so building a
 * store from lists, NumPy arrays or a DataFrame costs a handful of calls
 * instead of one per image. */
#include <string.h>

#include "store/store.h"

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

/* Undo a batch: drop the images from `first` on and the tags from
 * `first_tag` on, and rebuild the name indexes. */
static void rollback(prime_tagstore *s, uint32_t first, uint32_t first_tag)
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
    if (st == PRIME_OK && bulk) {
        uint32_t dup = PRIME_NONE;
        st = prime__names_build_index(&s->images, &dup);
        if (st == PRIME_E_DUPLICATE) {
            uint32_t k = dup;
            size_t len = prime__names_len(&s->images, k);
            st = prime__error(PRIME_E_DUPLICATE, "%s: image %u: duplicate image \"%.*s\"", fn,
                              k >= first ? k - first : k, (int)(len > 200 ? 200 : len),
                              prime__names_get(&s->images, k));
        }
    }
    if (st != PRIME_OK) {
        rollback(s, first, first_tag);
        return st;
    }
    if (first_index_out != NULL)
        *first_index_out = first;
    return PRIME_OK;
}
