/* The tag store: interned names, per-image sorted tag lists (CSR), and the
 * per-class image lists built when the store is frozen. */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

prime_status prime_tagstore_create(prime_tagstore **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_create: out is NULL");
    *out = NULL; /* a handle out-parameter is NULL on any failure */
    prime_tagstore *s = prime__calloc(1, sizeof *s);
    if (s == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    s->tag_off = prime__calloc(1, sizeof(uint64_t));
    if (s->tag_off == NULL) {
        prime__free(s);
        return prime__error(PRIME_E_NOMEM, "out of memory");
    }
    s->tag_off_cap = 1;
    *out = s;
    return PRIME_OK;
}

void prime_tagstore_destroy(prime_tagstore *s)
{
    if (s == NULL)
        return;
    prime__names_free(&s->classes);
    prime__names_free(&s->tags);
    prime__names_free(&s->images);
    if (!s->borrowed) {
        prime__free(s->image_class);
        prime__free(s->tag_off);
        prime__free(s->tag_ids);
    }
    prime__free(s->class_size);
    prime__free(s->class_off);
    prime__free(s->class_images);
    prime__free(s->origin_class_size);
    prime__free(s->blob);
    prime__free(s);
}

prime_status prime__store_check_mutable(const prime_tagstore *s, const char *fn)
{
    if (s == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: store is NULL", fn);
    if (s->frozen)
        return prime__error(PRIME_E_STATE, "%s: the tag store is frozen", fn);
    return PRIME_OK;
}

prime_status prime__store_check_tag_name(const char *name, size_t n)
{
    if (n == 0)
        return prime__error(PRIME_E_INVALID_ARG, "empty tag name");
    if (n > PRIME_MAX_TAG_NAME)
        return prime__error(PRIME_E_LIMIT, "tag name of %zu bytes (the limit is %d): \"%.40s...\"",
                            n, PRIME_MAX_TAG_NAME, name);
    if (memchr(name, '|', n) != NULL)
        return prime__error(PRIME_E_INVALID_ARG, "tag name \"%.*s\" contains '|'",
                            (int)(n > 80 ? 80 : n), name);
    if (memchr(name, '\0', n) != NULL || !prime__utf8_valid(name, n))
        return prime__error(PRIME_E_INVALID_ARG, "tag name is not valid UTF-8");
    return PRIME_OK;
}

prime_status prime__store_intern_tag(prime_tagstore *s, const char *name, size_t n,
                                     uint32_t *id_out)
{
    uint32_t id = prime__names_find(&s->tags, name, n);
    if (id != PRIME_NONE) {
        *id_out = id;
        return PRIME_OK;
    }
    prime_status st = prime__store_check_tag_name(name, n);
    if (st != PRIME_OK)
        return st;
    return prime__names_push(&s->tags, name, n, true, id_out);
}

/* "WHAT name is not valid UTF-8: "PREFIX" then byte 0xHH at offset K": the
 * valid part (at most 200 bytes) and the first bad byte, so that the name
 * can be found among many. */
static prime_status bad_name(const char *what, const char *s, size_t n)
{
    const char *z = memchr(s, '\0', n);
    size_t k = prime__utf8_prefix(s, z != NULL ? (size_t)(z - s) : n);
    return prime__error(PRIME_E_INVALID_ARG,
                        "%s name is not valid UTF-8: \"%.*s\" then byte 0x%02X at offset %zu",
                        what, (int)(k > 200 ? 200 : k), s, (unsigned)(unsigned char)s[k], k);
}

prime_status prime__store_check_class_name(const char *name, size_t n)
{
    if (n == 0)
        return prime__error(PRIME_E_INVALID_ARG, "empty class name");
    if (memchr(name, '\0', n) != NULL || !prime__utf8_valid(name, n))
        return bad_name("class", name, n);
    return PRIME_OK;
}

prime_status prime__store_intern_class(prime_tagstore *s, const char *name, size_t n,
                                       uint32_t *id_out)
{
    uint32_t id = prime__names_find(&s->classes, name, n);
    if (id != PRIME_NONE) {
        *id_out = id;
        return PRIME_OK;
    }
    prime_status st = prime__store_check_class_name(name, n);
    if (st != PRIME_OK)
        return st;
    if (!prime__grow((void **)&s->class_size, &s->class_cap, (size_t)s->classes.count + 1,
                     sizeof(uint32_t)))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    st = prime__names_push(&s->classes, name, n, true, &id);
    if (st != PRIME_OK)
        return st;
    s->class_size[id] = 0;
    *id_out = id;
    return PRIME_OK;
}

prime_status prime_tagstore_intern_tag(prime_tagstore *s, const char *name, uint32_t *id_out)
{
    prime_status st = prime__store_check_mutable(s, "prime_tagstore_intern_tag");
    if (st != PRIME_OK)
        return st;
    if (name == NULL || id_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_intern_tag: NULL argument");
    return prime__store_intern_tag(s, name, strlen(name), id_out);
}

prime_status prime_tagstore_intern_class(prime_tagstore *s, const char *name, uint32_t *id_out)
{
    prime_status st = prime__store_check_mutable(s, "prime_tagstore_intern_class");
    if (st != PRIME_OK)
        return st;
    if (name == NULL || id_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_intern_class: NULL argument");
    return prime__store_intern_class(s, name, strlen(name), id_out);
}

prime_status prime__store_add_image(prime_tagstore *s, const char *name, size_t name_len,
                                    uint32_t class_id, const uint32_t *tag_ids, uint32_t n_tags,
                                    uint32_t *index_out)
{
    if (class_id >= s->classes.count)
        return prime__error(PRIME_E_INVALID_ARG, "class id %u out of range (%u classes)",
                            class_id, s->classes.count);
    for (uint32_t k = 0; k < n_tags; k++)
        if (tag_ids[k] >= s->tags.count)
            return prime__error(PRIME_E_INVALID_ARG, "tag id %u out of range (%u tags)",
                                tag_ids[k], s->tags.count);
    uint64_t h = 0;
    if (name_len > 0) {
        if (memchr(name, '\0', name_len) != NULL || !prime__utf8_valid(name, name_len))
            return bad_name("image", name, name_len);
        h = prime__hash_bytes(name, name_len);
        if (prime__names_find_hashed(&s->images, name, name_len, h) != PRIME_NONE)
            return prime__error(PRIME_E_DUPLICATE, "duplicate image \"%.*s\"",
                                (int)(name_len > 200 ? 200 : name_len), name);
    }
    uint32_t n_images = s->images.count;
    if (n_images >= UINT32_MAX - 1)
        return prime__error(PRIME_E_LIMIT, "too many images (the limit is 2^32-2)");
    uint64_t refs = s->tag_off[n_images];
    if (!prime__grow((void **)&s->image_class, &s->image_cap, (size_t)n_images + 1,
                     sizeof(uint32_t)) ||
        !prime__grow((void **)&s->tag_off, &s->tag_off_cap, (size_t)n_images + 2,
                     sizeof(uint64_t)) ||
        !prime__grow((void **)&s->tag_ids, &s->tagref_cap, (size_t)(refs + n_tags),
                     sizeof(uint32_t)))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    uint32_t index;
    prime_status st =
        prime__names_push_hashed(&s->images, name_len ? name : "", name_len, h, true, &index);
    if (st != PRIME_OK)
        return st;
    /* copy, sort, merge duplicates */
    uint32_t m = 0;
    if (n_tags > 0) {
        uint32_t *dst = s->tag_ids + refs;
        memcpy(dst, tag_ids, (size_t)n_tags * sizeof(uint32_t));
        m = (uint32_t)prime__sort_unique_u32(dst, n_tags);
    }
    s->image_class[index] = class_id;
    s->tag_off[index + 1] = refs + m;
    s->class_size[class_id]++;
    if (index_out != NULL)
        *index_out = index;
    return PRIME_OK;
}

prime_status prime__store_reserve(prime_tagstore *s, size_t images, uint64_t refs,
                                  size_t name_bytes)
{
    size_t ni = s->images.count;
    uint64_t have = s->tag_off[ni];
    if (images > SIZE_MAX / 16 - ni - 2 || refs > (uint64_t)(SIZE_MAX / 8) - have ||
        name_bytes > SIZE_MAX / 2 - s->images.bytes_len)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    if (s->images.off == NULL) {
        if (!prime__grow((void **)&s->images.off, &s->images.off_cap, 1, sizeof(uint64_t)))
            return prime__error(PRIME_E_NOMEM, "out of memory");
        s->images.off[0] = 0;
    }
    if (!prime__grow((void **)&s->image_class, &s->image_cap, ni + images, sizeof(uint32_t)) ||
        !prime__grow((void **)&s->tag_off, &s->tag_off_cap, ni + images + 1, sizeof(uint64_t)) ||
        !prime__grow((void **)&s->tag_ids, &s->tagref_cap, (size_t)(have + refs),
                      sizeof(uint32_t)) ||
        !prime__grow((void **)&s->images.off, &s->images.off_cap, ni + images + 1,
                      sizeof(uint64_t)) ||
        !prime__grow((void **)&s->images.bytes, &s->images.bytes_cap,
                      s->images.bytes_len + name_bytes, 1))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    return PRIME_OK;
}

prime_status prime__store_append_image(prime_tagstore *s, const char *name, size_t name_len,
                                       uint32_t class_id, const uint32_t *tag_ids,
                                       uint32_t n_tags)
{
    uint32_t n_images = s->images.count;
    if (n_images >= UINT32_MAX - 1)
        return prime__error(PRIME_E_LIMIT, "too many images (the limit is 2^32-2)");
    uint64_t refs = s->tag_off[n_images];
    if ((n_images >= s->image_cap &&
         !prime__grow((void **)&s->image_class, &s->image_cap, (size_t)n_images + 1,
                      sizeof(uint32_t))) ||
        (n_images + 2 > s->tag_off_cap &&
         !prime__grow((void **)&s->tag_off, &s->tag_off_cap, (size_t)n_images + 2,
                      sizeof(uint64_t))) ||
        (refs + n_tags > s->tagref_cap &&
         !prime__grow((void **)&s->tag_ids, &s->tagref_cap, (size_t)(refs + n_tags),
                      sizeof(uint32_t))))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    uint32_t index;
    prime_status st = prime__names_push_hashed(&s->images, name, name_len, 0, false, &index);
    if (st != PRIME_OK)
        return st;
    if (n_tags > 0)
        memcpy(s->tag_ids + refs, tag_ids, (size_t)n_tags * sizeof(uint32_t));
    s->image_class[index] = class_id;
    s->tag_off[index + 1] = refs + n_tags;
    s->class_size[class_id]++;
    return PRIME_OK;
}

prime_status prime_tagstore_add_image(prime_tagstore *s, const char *image_name,
                                      uint32_t class_id, const uint32_t *tag_ids,
                                      uint32_t n_tags, uint32_t *index_out)
{
    prime_status st = prime__store_check_mutable(s, "prime_tagstore_add_image");
    if (st != PRIME_OK)
        return st;
    if (tag_ids == NULL && n_tags > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_add_image: tag_ids is NULL");
    return prime__store_add_image(s, image_name, image_name ? strlen(image_name) : 0, class_id,
                                  tag_ids, n_tags, index_out);
}

prime_status prime_tagstore_add_image_names(prime_tagstore *s, const char *image_name,
                                            const char *class_name,
                                            const char *const *tag_names, uint32_t n_tags,
                                            uint32_t *index_out)
{
    prime_status st = prime__store_check_mutable(s, "prime_tagstore_add_image_names");
    if (st != PRIME_OK)
        return st;
    if (class_name == NULL || (tag_names == NULL && n_tags > 0))
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_tagstore_add_image_names: NULL argument");
    for (uint32_t k = 0; k < n_tags; k++)
        if (tag_names[k] == NULL)
            return prime__error(PRIME_E_INVALID_ARG,
                                "prime_tagstore_add_image_names: tag name %u is NULL", k);
    /* Check everything before interning anything, so a failed call leaves
     * the store as it was. */
    size_t name_len = image_name ? strlen(image_name) : 0;
    if (name_len > 0 && prime__names_find(&s->images, image_name, name_len) != PRIME_NONE)
        return prime__error(PRIME_E_DUPLICATE, "duplicate image \"%.*s\"",
                            (int)(name_len > 200 ? 200 : name_len), image_name);
    if (name_len > 0 && !prime__utf8_valid(image_name, name_len))
        return bad_name("image", image_name, name_len);
    size_t cn = strlen(class_name);
    if (cn == 0)
        return prime__error(PRIME_E_INVALID_ARG, "empty class name");
    if (!prime__utf8_valid(class_name, cn))
        return bad_name("class", class_name, cn);
    for (uint32_t k = 0; k < n_tags; k++) {
        size_t tn = strlen(tag_names[k]);
        if (prime__names_find(&s->tags, tag_names[k], tn) == PRIME_NONE) {
            st = prime__store_check_tag_name(tag_names[k], tn);
            if (st != PRIME_OK)
                return st;
        }
    }
    uint32_t stack_ids[64];
    uint32_t *ids = n_tags <= 64 ? stack_ids : prime__malloc((size_t)n_tags * sizeof(uint32_t));
    if (ids == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    uint32_t class_id;
    st = prime__store_intern_class(s, class_name, cn, &class_id);
    for (uint32_t k = 0; st == PRIME_OK && k < n_tags; k++)
        st = prime__store_intern_tag(s, tag_names[k], strlen(tag_names[k]), &ids[k]);
    if (st == PRIME_OK)
        st = prime__store_add_image(s, image_name, name_len, class_id, ids, n_tags, index_out);
    if (ids != stack_ids)
        prime__free(ids);
    return st;
}

prime_status prime__store_build_class_index(prime_tagstore *s)
{
    uint32_t nc = s->classes.count, ni = s->images.count;
    uint64_t *off = prime__calloc((size_t)nc + 1, sizeof(uint64_t));
    uint32_t *imgs = prime__malloc(((size_t)ni + 1) * sizeof(uint32_t));
    uint32_t *sizes = prime__calloc((size_t)nc + 1, sizeof(uint32_t));
    if (off == NULL || imgs == NULL || sizes == NULL) {
        prime__free(off);
        prime__free(imgs);
        prime__free(sizes);
        return prime__error(PRIME_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < ni; i++)
        sizes[s->image_class[i]]++;
    for (uint32_t c = 0; c < nc; c++)
        off[c + 1] = off[c] + sizes[c];
    uint64_t *fill = prime__malloc(((size_t)nc + 1) * sizeof(uint64_t));
    if (fill == NULL) {
        prime__free(off);
        prime__free(imgs);
        prime__free(sizes);
        return prime__error(PRIME_E_NOMEM, "out of memory");
    }
    memcpy(fill, off, ((size_t)nc + 1) * sizeof(uint64_t));
    for (uint32_t i = 0; i < ni; i++)
        imgs[fill[s->image_class[i]]++] = i;
    prime__free(fill);
    prime__free(s->class_off);
    prime__free(s->class_images);
    prime__free(s->class_size);
    s->class_off = off;
    s->class_images = imgs;
    s->class_size = sizes;
    s->class_cap = (size_t)nc + 1;
    return PRIME_OK;
}

prime_status prime_tagstore_freeze(prime_tagstore *s)
{
    if (s == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_freeze: store is NULL");
    if (s->frozen)
        return PRIME_OK;
    prime_status st = prime__store_build_class_index(s);
    if (st != PRIME_OK)
        return st;
    s->frozen = true;
    return PRIME_OK;
}

int32_t prime_tagstore_is_frozen(const prime_tagstore *s)
{
    return s != NULL && s->frozen;
}

uint32_t prime_tagstore_image_count(const prime_tagstore *s)
{
    return s ? s->images.count : 0;
}

uint32_t prime_tagstore_tag_count(const prime_tagstore *s)
{
    return s ? s->tags.count : 0;
}

uint32_t prime_tagstore_class_count(const prime_tagstore *s)
{
    return s ? s->classes.count : 0;
}

uint64_t prime_tagstore_tag_ref_count(const prime_tagstore *s)
{
    return s ? prime__store_ref_count(s) : 0;
}

const char *prime_tagstore_tag_name(const prime_tagstore *s, uint32_t id)
{
    return s ? prime__names_get(&s->tags, id) : NULL;
}

const char *prime_tagstore_class_name(const prime_tagstore *s, uint32_t id)
{
    return s ? prime__names_get(&s->classes, id) : NULL;
}

const char *prime_tagstore_image_name(const prime_tagstore *s, uint32_t index)
{
    return s ? prime__names_get(&s->images, index) : NULL;
}

static prime_status find_in(const prime_tagstore *s, const prime__names *t, const char *what,
                            const char *name, uint32_t *id_out)
{
    if (s == NULL || name == NULL || id_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "find %s: NULL argument", what);
    uint32_t id = prime__names_find(t, name, strlen(name));
    if (id == PRIME_NONE)
        return prime__error(PRIME_E_NOT_FOUND, "no %s named \"%.200s\"", what, name);
    *id_out = id;
    return PRIME_OK;
}

prime_status prime_tagstore_find_tag(const prime_tagstore *s, const char *name, uint32_t *id_out)
{
    return find_in(s, s ? &s->tags : NULL, "tag", name, id_out);
}

prime_status prime_tagstore_find_class(const prime_tagstore *s, const char *name,
                                       uint32_t *id_out)
{
    return find_in(s, s ? &s->classes : NULL, "class", name, id_out);
}

prime_status prime_tagstore_find_image(const prime_tagstore *s, const char *name,
                                       uint32_t *index_out)
{
    return find_in(s, s ? &s->images : NULL, "image", name, index_out);
}

uint32_t prime_tagstore_image_class(const prime_tagstore *s, uint32_t index)
{
    if (s == NULL || index >= s->images.count)
        return PRIME_NONE;
    return s->image_class[index];
}

prime_status prime_tagstore_image_tags(const prime_tagstore *s, uint32_t index, uint32_t *ids,
                                       uint32_t cap, uint32_t *n_out)
{
    if (s == NULL || n_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_image_tags: NULL argument");
    if (index >= s->images.count)
        return prime__error(PRIME_E_INVALID_ARG, "image index %u out of range (%u images)",
                            index, s->images.count);
    uint64_t a = prime__store_tag_off(s, index), b = prime__store_tag_off(s, index + 1);
    uint32_t n = (uint32_t)(b - a);
    *n_out = n;
    if (n > cap || (ids == NULL && n > 0))
        return prime__error(PRIME_E_BUFFER_TOO_SMALL,
                            "image %u has %u tags; the buffer holds %u", index, n, cap);
    if (n > 0 && s->ids16) {
        for (uint32_t k = 0; k < n; k++)
            ids[k] = s->tag_ids16[a + k];
    } else if (n > 0) {
        memcpy(ids, s->tag_ids + a, (size_t)n * sizeof(uint32_t));
    }
    return PRIME_OK;
}

uint32_t prime_tagstore_class_image_count(const prime_tagstore *s, uint32_t class_id)
{
    if (s == NULL || class_id >= s->classes.count)
        return 0;
    return s->class_size[class_id];
}

/* Binary search of the sorted tag list of image i (positions, not
 * pointers: tag_ids may be NULL when the store has no tag reference). */
static bool image_has_tag(const prime_tagstore *s, uint32_t i, uint32_t tag)
{
    uint64_t lo = prime__store_tag_off(s, i), end = prime__store_tag_off(s, i + 1), hi = end;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (prime__store_tag(s, mid) < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < end && prime__store_tag(s, lo) == tag;
}

prime_status prime_tagstore_tag_count_in_class(const prime_tagstore *s, uint32_t class_id,
                                               uint32_t tag_id, uint32_t *count_out)
{
    if (s == NULL || count_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_tagstore_tag_count_in_class: NULL argument");
    if (class_id != PRIME_NONE && class_id >= s->classes.count)
        return prime__error(PRIME_E_INVALID_ARG, "class id %u out of range (%u classes)",
                            class_id, s->classes.count);
    if (tag_id >= s->tags.count)
        return prime__error(PRIME_E_INVALID_ARG, "tag id %u out of range (%u tags)", tag_id,
                            s->tags.count);
    uint32_t count = 0;
    for (uint32_t i = 0; i < s->images.count; i++)
        if ((class_id == PRIME_NONE || s->image_class[i] == class_id) &&
            image_has_tag(s, i, tag_id))
            count++;
    *count_out = count;
    return PRIME_OK;
}
