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

static prime_status check_mutable(const prime_tagstore *s, const char *fn)
{
    if (s == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: store is NULL", fn);
    if (s->frozen)
        return prime__error(PRIME_E_STATE, "%s: the tag store is frozen", fn);
    return PRIME_OK;
}

prime_status prime_tagstore_intern_names(prime_tagstore *s, int32_t kind, const char *names,
                                         const uint64_t *offsets, uint32_t n, uint32_t *ids_out)
{
    const char *fn = "prime_tagstore_intern_names";
    prime_status st = check_mutable(s, fn);
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
    prime_status st = check_mutable(s, fn);
    if (st != PRIME_OK)
        return st;
    if (n == 0) {
        if (first_index_out != NULL)
            *first_index_out = s->images.count;
        return PRIME_OK;
    }
    if (class_ids == NULL || tag_offsets == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: NULL argument", fn);
    if (image_names == NULL && name_offsets != NULL && name_offsets[n] > 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: image_names is NULL", fn);
    if (tag_offsets[0] != 0 || (name_offsets != NULL && name_offsets[0] != 0))
        return prime__error(PRIME_E_INVALID_ARG, "%s: offsets must start at 0", fn);
    if (tag_ids == NULL && tag_offsets[n] > 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: tag_ids is NULL", fn);
    if ((uint64_t)s->images.count + n >= UINT32_MAX - 1)
        return prime__error(PRIME_E_LIMIT, "%s: too many images (the limit is 2^32-2)", fn);
    /* Validate everything that can be checked without adding, so that the
       common mistakes leave the store unchanged. */
    for (uint32_t i = 0; i < n; i++) {
        if (class_ids[i] >= s->classes.count)
            return prime__error(PRIME_E_INVALID_ARG, "%s: image %u: class id %u out of range "
                                "(%u classes)", fn, i, class_ids[i], s->classes.count);
        if (tag_offsets[i + 1] < tag_offsets[i] || tag_offsets[i + 1] - tag_offsets[i] > UINT32_MAX)
            return prime__error(PRIME_E_INVALID_ARG, "%s: tag offsets decrease at image %u", fn, i);
        if (name_offsets != NULL && name_offsets[i + 1] < name_offsets[i])
            return prime__error(PRIME_E_INVALID_ARG, "%s: name offsets decrease at image %u",
                                fn, i);
    }
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
