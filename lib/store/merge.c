/* Store merge: the store one process would have built from the images of
 * several parts, in part order.
 *
 * Identity with one run holds by construction: images are appended in part
 * order; tag and class names are interned in first-seen order over the
 * parts in index order, which is the first-seen order over the
 * concatenation of their images (each part's own tables are in first-seen
 * order of its images, or, for a tagger's store, in vocabulary order before
 * the first image, and then every part has the same tag table). The merged
 * store is frozen, so prime_tagstore_save writes the same bytes as for the
 * store of one run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* "part 3" or the caller's name for it. */
static const char *part_name(const char *const *names, uint32_t p, char *buf, size_t cap)
{
    if (names != NULL && names[p] != NULL)
        return names[p];
    snprintf(buf, cap, "part %u", p);
    return buf;
}

/* PRIME_OK when the tag tables of a and b are the same names in the same
 * order; else a PRIME_E_MISMATCH that says where they part. */
static prime_status same_tags(const prime_tagstore *a, const char *an,
                              const prime_tagstore *b, const char *bn)
{
    uint32_t n = a->tags.count < b->tags.count ? a->tags.count : b->tags.count;
    for (uint32_t t = 0; t < n; t++) {
        size_t la = prime__names_len(&a->tags, t), lb = prime__names_len(&b->tags, t);
        const char *x = prime__names_get(&a->tags, t), *y = prime__names_get(&b->tags, t);
        if (la != lb || memcmp(x, y, la) != 0)
            return prime__error(PRIME_E_MISMATCH,
                                "%s and %s have different tag tables: tag %u is \"%s\" in one "
                                "and \"%s\" in the other (were they tagged with the same "
                                "vocabulary?)",
                                an, bn, t, x, y);
    }
    if (a->tags.count != b->tags.count)
        return prime__error(PRIME_E_MISMATCH,
                            "%s and %s have different tag tables: %u tags against %u (were "
                            "they tagged with the same vocabulary?)",
                            an, bn, a->tags.count, b->tags.count);
    return PRIME_OK;
}

/* Name a duplicate image: image `dup` of the merged store (a later copy). */
static prime_status duplicate_error(const prime_tagstore *s, const prime_tagstore *const *parts,
                                    const char *const *names, uint32_t n, uint32_t dup)
{
    const char *nm = prime__names_get(&s->images, dup);
    size_t len = prime__names_len(&s->images, dup);
    uint32_t first = dup;
    for (uint32_t i = 0; i < dup; i++)
        if (prime__names_len(&s->images, i) == len &&
            memcmp(prime__names_get(&s->images, i), nm, len) == 0) {
            first = i;
            break;
        }
    /* map merged indexes back to (part, index in part) */
    uint32_t pa = 0, pb = 0, ia = first, ib = dup;
    for (uint32_t p = 0, base = 0; p < n; p++) {
        uint32_t c = parts[p]->images.count;
        if (first >= base && first < base + c) {
            pa = p;
            ia = first - base;
        }
        if (dup >= base && dup < base + c) {
            pb = p;
            ib = dup - base;
        }
        base += c;
    }
    char ba[32], bb[32];
    const char *na = part_name(names, pa, ba, sizeof ba), *nb = part_name(names, pb, bb, sizeof bb);
    if (pa == pb)
        return prime__error(PRIME_E_DUPLICATE, "%s: image \"%s\" appears twice (images %u and %u)",
                            na, nm, ia, ib);
    return prime__error(PRIME_E_DUPLICATE,
                        "image \"%s\" is in two parts: %s (image %u) and %s (image %u); "
                        "do the shards overlap?",
                        nm, na, ia, nb, ib);
}

prime_status prime__tagstore_merge_named(const prime_tagstore *const *parts,
                                         const char *const *names, uint32_t n, uint32_t flags,
                                         prime_tagstore **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_merge: out is NULL");
    *out = NULL;
    if (parts == NULL && n > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_merge: parts is NULL");
    if ((flags & ~(uint32_t)PRIME_MERGE_SAME_TAGS) != 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_merge: unknown flags 0x%x",
                            flags);
    uint64_t images = 0, refs = 0, name_bytes = 0;
    char ba[32], bb[32];
    for (uint32_t p = 0; p < n; p++) {
        if (parts[p] == NULL)
            return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_merge: part %u is NULL", p);
        if (!parts[p]->frozen)
            return prime__error(PRIME_E_STATE, "prime_tagstore_merge: %s is not frozen",
                                part_name(names, p, ba, sizeof ba));
        images += parts[p]->images.count;
        refs += prime__store_ref_count(parts[p]);
        name_bytes += parts[p]->images.bytes_len;
        if ((flags & PRIME_MERGE_SAME_TAGS) && p > 0) {
            prime_status st = same_tags(parts[0], part_name(names, 0, ba, sizeof ba), parts[p],
                                        part_name(names, p, bb, sizeof bb));
            if (st != PRIME_OK)
                return st;
        }
    }
    if (images > UINT32_MAX - 2)
        return prime__error(PRIME_E_LIMIT, "merged store: %llu images (the limit is 2^32-2)",
                            (unsigned long long)images);

    prime_tagstore *s = NULL;
    uint32_t *map = NULL, *cmap = NULL, *buf = NULL;
    size_t map_cap = 0, cmap_cap = 0, buf_cap = 0;
    prime_status st = prime_tagstore_create(&s);
    if (st == PRIME_OK)
        st = prime__store_reserve(s, (size_t)images, refs, (size_t)name_bytes);
    for (uint32_t p = 0; st == PRIME_OK && p < n; p++) {
        const prime_tagstore *q = parts[p];
        uint32_t nt = q->tags.count, nc = q->classes.count;
        if (!prime__grow((void **)&map, &map_cap, (size_t)nt + 1, sizeof *map) ||
            !prime__grow((void **)&cmap, &cmap_cap, (size_t)nc + 1, sizeof *cmap)) {
            st = prime__error(PRIME_E_NOMEM, "out of memory");
            break;
        }
        /* the part's names in its id order: first-seen order over the parts */
        bool increasing = true;
        for (uint32_t t = 0; st == PRIME_OK && t < nt; t++) {
            st = prime__store_intern_tag(s, prime__names_get(&q->tags, t),
                                         prime__names_len(&q->tags, t), &map[t]);
            if (st == PRIME_OK && t > 0 && map[t] < map[t - 1])
                increasing = false;
        }
        for (uint32_t c = 0; st == PRIME_OK && c < nc; c++)
            st = prime__store_intern_class(s, prime__names_get(&q->classes, c),
                                           prime__names_len(&q->classes, c), &cmap[c]);
        unsigned wo = q->off32 ? 4u : 8u, wi = prime__store_id_width(q);
        for (uint32_t i = 0; st == PRIME_OK && i < q->images.count; i++) {
            uint64_t a = prime__store_tag_off_w(q, i, wo), b = prime__store_tag_off_w(q, i + 1, wo);
            uint32_t m = (uint32_t)(b - a);
            if (!prime__grow((void **)&buf, &buf_cap, (size_t)m + 1, sizeof *buf)) {
                st = prime__error(PRIME_E_NOMEM, "out of memory");
                break;
            }
            for (uint32_t k = 0; k < m; k++)
                buf[k] = map[prime__store_tag_w(q, a + k, wi)];
            if (!increasing && m > 1)
                qsort(buf, m, sizeof *buf, cmp_u32);
            st = prime__store_append_image(s, prime__names_get(&q->images, i),
                                           prime__names_len(&q->images, i),
                                           cmap[q->image_class[i]], buf, m);
        }
    }
    prime__free(map);
    prime__free(cmap);
    prime__free(buf);
    if (st == PRIME_OK) {
        uint32_t dup = PRIME_NONE;
        st = prime__names_build_index(&s->images, &dup);
        if (st == PRIME_E_DUPLICATE && dup != PRIME_NONE)
            st = duplicate_error(s, parts, names, n, dup);
    }
    if (st == PRIME_OK)
        st = prime_tagstore_freeze(s);
    if (st != PRIME_OK) {
        prime_tagstore_destroy(s);
        return st;
    }
    *out = s;
    return PRIME_OK;
}

prime_status prime_tagstore_merge(const prime_tagstore *const *parts, uint32_t n, uint32_t flags,
                                  prime_tagstore **out)
{
    return prime__tagstore_merge_named(parts, NULL, n, flags, out);
}

prime_status prime_tagstore_merge_files(const char *const *paths, uint32_t n, uint32_t flags,
                                        prime_tagstore **store_out,
                                        prime_outcomes **outcomes_out)
{
    if (store_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_merge_files: store_out is NULL");
    *store_out = NULL;
    if (outcomes_out != NULL)
        *outcomes_out = NULL;
    if (paths == NULL && n > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_merge_files: paths is NULL");
    for (uint32_t p = 0; p < n; p++)
        if (paths[p] == NULL)
            return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_merge_files: path %u is NULL",
                                p);
    prime_tagstore **parts = prime__calloc(n ? n : 1, sizeof *parts);
    prime_outcomes **outs = prime__calloc(n ? n : 1, sizeof *outs);
    prime_status st = parts && outs ? PRIME_OK : prime__error(PRIME_E_NOMEM, "out of memory");
    uint32_t with = 0; /* parts that carry outcomes */
    for (uint32_t p = 0; st == PRIME_OK && p < n; p++) {
        st = prime_tagstore_load(paths[p], &parts[p], outcomes_out ? &outs[p] : NULL);
        with += outs != NULL && outs[p] != NULL;
    }
    prime_tagstore *s = NULL;
    if (st == PRIME_OK)
        st = prime__tagstore_merge_named((const prime_tagstore *const *)parts,
                                         (const char *const *)paths, n, flags, &s);
    if (st == PRIME_OK && outcomes_out != NULL && with > 0) {
        if (with < n) {
            uint32_t a = 0, b = 0;
            while (outs[a] == NULL)
                a++;
            while (outs[b] != NULL)
                b++;
            st = prime__error(PRIME_E_MISMATCH,
                              "%s carries outcomes and %s does not: give all parts outcomes "
                              "or none",
                              paths[a], paths[b]);
        }
        prime_outcomes *o = NULL;
        if (st == PRIME_OK)
            st = prime_outcomes_create(s->images.count, &o);
        for (uint32_t p = 0, base = 0; st == PRIME_OK && p < n; p++) {
            if (outs[p]->n > 0)
                memcpy(o->v + base, outs[p]->v, (size_t)outs[p]->n * sizeof *o->v);
            base += outs[p]->n;
        }
        if (st == PRIME_OK)
            *outcomes_out = o;
        else
            prime_outcomes_destroy(o);
    }
    for (uint32_t p = 0; p < n; p++) {
        if (parts != NULL)
            prime_tagstore_destroy(parts[p]);
        if (outs != NULL)
            prime_outcomes_destroy(outs[p]);
    }
    prime__free(parts);
    prime__free(outs);
    if (st != PRIME_OK) {
        prime_tagstore_destroy(s);
        return st;
    }
    *store_out = s;
    return PRIME_OK;
}
