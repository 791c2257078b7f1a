/* Membership (issue 13): which images of a frozen store carry a tag set in
 * a class, and which images make up each failure mode of a result. Tags and
 * classes of a result are matched to the store by name, so a result read
 * back from JSON, or a store rebuilt from the same data, works too. */
#include <stdlib.h>
#include <string.h>

#include "search/search.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* 1 if image `img` carries every tag of want[0..n) (ascending, unique). */
static bool has_all(const prime_tagstore *s, uint32_t img, const uint32_t *want, uint32_t n)
{
    uint64_t k = prime__store_tag_off(s, img), end = prime__store_tag_off(s, img + 1);
    uint32_t j = 0;
    while (j < n && k < end) {
        uint32_t t = prime__store_tag(s, k);
        if (t == want[j]) {
            j++;
            k++;
        } else if (t < want[j]) {
            k++;
        } else {
            return false;
        }
    }
    return j == n;
}

/* Images of class c (PRIME_NONE = all) carrying want[0..n) (sorted,
 * unique): writes up to cap of them to out (may be NULL) and returns the
 * count. */
static uint64_t select_images(const prime_tagstore *s, uint32_t c, const uint32_t *want,
                              uint32_t n, uint32_t *out, uint64_t cap)
{
    uint64_t count = 0;
    if (c == PRIME_NONE) {
        for (uint32_t img = 0; img < s->images.count; img++)
            if (has_all(s, img, want, n)) {
                if (out != NULL && count < cap)
                    out[count] = img;
                count++;
            }
        return count;
    }
    for (uint64_t j = s->class_off[c]; j < s->class_off[c + 1]; j++) {
        uint32_t img = prime__store_class_image(s, j);
        if (has_all(s, img, want, n)) {
            if (out != NULL && count < cap)
                out[count] = img;
            count++;
        }
    }
    return count;
}

static prime_status check_store(const prime_tagstore *s, const char *fn)
{
    if (s == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: store is NULL", fn);
    if (!s->frozen)
        return prime__error(PRIME_E_STATE, "%s: the tag store is not frozen", fn);
    return PRIME_OK;
}

/* Sorted, unique copy of tags[0..n) into buf (which holds n). */
static uint32_t sort_unique(const uint32_t *tags, uint32_t n, uint32_t *buf)
{
    if (n == 0)
        return 0;
    memcpy(buf, tags, (size_t)n * sizeof(uint32_t));
    qsort(buf, n, sizeof(uint32_t), cmp_u32);
    uint32_t m = 1;
    for (uint32_t k = 1; k < n; k++)
        if (buf[k] != buf[m - 1])
            buf[m++] = buf[k];
    return m;
}

prime_status prime_tagstore_select(const prime_tagstore *s, uint32_t class_id,
                                   const uint32_t *tags, uint32_t n_tags, uint32_t *images,
                                   uint64_t cap, uint64_t *n_out)
{
    const char *fn = "prime_tagstore_select";
    prime_status st = check_store(s, fn);
    if (st != PRIME_OK)
        return st;
    if (n_out == NULL || (tags == NULL && n_tags > 0))
        return prime__error(PRIME_E_INVALID_ARG, "%s: NULL argument", fn);
    if (class_id != PRIME_NONE && class_id >= s->classes.count)
        return prime__error(PRIME_E_INVALID_ARG, "%s: class id %u out of range (%u classes)", fn,
                            class_id, s->classes.count);
    for (uint32_t k = 0; k < n_tags; k++)
        if (tags[k] >= s->tags.count)
            return prime__error(PRIME_E_INVALID_ARG, "%s: tag id %u out of range (%u tags)", fn,
                                tags[k], s->tags.count);
    uint32_t stack[PRIME_MAX_TAGS_LIMIT];
    uint32_t *want = n_tags <= PRIME_MAX_TAGS_LIMIT ? stack
                                                    : prime__malloc((size_t)n_tags * sizeof *want);
    if (want == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", fn);
    uint32_t m = sort_unique(tags, n_tags, want);
    uint64_t count = select_images(s, class_id, want, m, images, images != NULL ? cap : 0);
    if (want != stack)
        prime__free(want);
    *n_out = count;
    if (count > 0 && (images == NULL || count > cap))
        return prime__error(PRIME_E_BUFFER_TOO_SMALL, "%s: %llu images; the buffer holds %llu",
                            fn, (unsigned long long)count,
                            (unsigned long long)(images != NULL ? cap : 0));
    return PRIME_OK;
}

/* The store's class id and sorted tag ids of mode i, matched by name. */
static prime_status resolve_mode(const prime_result *r, const prime_tagstore *s, uint64_t i,
                                 const char *fn, uint32_t *class_out, uint32_t *want,
                                 uint32_t *n_out)
{
    const prime__mode *m = &r->modes[i];
    const prime__class_stat *c = &r->classes[m->class_index];
    *class_out = PRIME_NONE;
    if (c->class_id != PRIME_NONE) {
        const char *cname = r->strings + c->name_off;
        uint32_t id = prime__names_find(&s->classes, cname, strlen(cname));
        if (id == PRIME_NONE)
            return prime__error(PRIME_E_MISMATCH, "%s: the store has no class \"%.200s\" (mode %llu)",
                                fn, cname, (unsigned long long)i);
        *class_out = id;
    }
    for (uint32_t k = 0; k < m->n_tags; k++) {
        const char *tname = r->strings + r->mode_tag_name_off[m->tag_first + k];
        uint32_t id = prime__names_find(&s->tags, tname, strlen(tname));
        if (id == PRIME_NONE)
            return prime__error(PRIME_E_MISMATCH, "%s: the store has no tag \"%.200s\" (mode %llu)",
                                fn, tname, (unsigned long long)i);
        want[k] = id;
    }
    qsort(want, m->n_tags, sizeof(uint32_t), cmp_u32);
    *n_out = m->n_tags;
    return PRIME_OK;
}

prime_status prime_result_mode_images(const prime_result *r, const prime_tagstore *s,
                                      uint64_t i, uint32_t *images, uint64_t cap,
                                      uint64_t *n_out)
{
    const char *fn = "prime_result_mode_images";
    if (r == NULL || n_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: NULL argument", fn);
    prime_status st = check_store(s, fn);
    if (st != PRIME_OK)
        return st;
    if (i >= r->n_modes)
        return prime__error(PRIME_E_INVALID_ARG, "%s: mode %llu out of range (%llu modes)", fn,
                            (unsigned long long)i, (unsigned long long)r->n_modes);
    uint32_t want[PRIME_MAX_TAGS_LIMIT], n, c;
    st = resolve_mode(r, s, i, fn, &c, want, &n);
    if (st != PRIME_OK)
        return st;
    uint64_t count = select_images(s, c, want, n, images, images != NULL ? cap : 0);
    *n_out = count;
    if (count > 0 && (images == NULL || count > cap))
        return prime__error(PRIME_E_BUFFER_TOO_SMALL, "%s: %llu images; the buffer holds %llu",
                            fn, (unsigned long long)count,
                            (unsigned long long)(images != NULL ? cap : 0));
    return PRIME_OK;
}

/* Per-class postings: for each tag, the images of the class carrying it
 * (ascending), so that a mode is found by scanning its rarest tag's list. */
typedef struct {
    uint64_t *off;   /* n_tags + 1 */
    uint32_t *img;
    size_t img_cap;
} postings;

static prime_status build_postings(const prime_tagstore *s, uint32_t c, postings *p)
{
    uint32_t nt = s->tags.count;
    memset(p->off, 0, ((size_t)nt + 1) * sizeof *p->off);
    uint64_t lo = c == PRIME_NONE ? 0 : s->class_off[c];
    uint64_t hi = c == PRIME_NONE ? s->images.count : s->class_off[c + 1];
    uint64_t total = 0;
    for (uint64_t j = lo; j < hi; j++) {
        uint32_t img = c == PRIME_NONE ? (uint32_t)j : prime__store_class_image(s, j);
        for (uint64_t k = prime__store_tag_off(s, img); k < prime__store_tag_off(s, img + 1); k++)
            p->off[prime__store_tag(s, k) + 1]++;
        total += prime__store_tag_off(s, img + 1) - prime__store_tag_off(s, img);
    }
    for (uint32_t t = 0; t < nt; t++)
        p->off[t + 1] += p->off[t];
    if (!prime__grow((void **)&p->img, &p->img_cap, (size_t)(total > 0 ? total : 1),
                     sizeof *p->img))
        return prime__error(PRIME_E_NOMEM, "prime_result_membership: out of memory");
    /* fill, using off[t] as the cursor, then shift back */
    for (uint64_t j = lo; j < hi; j++) {
        uint32_t img = c == PRIME_NONE ? (uint32_t)j : prime__store_class_image(s, j);
        for (uint64_t k = prime__store_tag_off(s, img); k < prime__store_tag_off(s, img + 1); k++)
            p->img[p->off[prime__store_tag(s, k)]++] = img;
    }
    for (uint32_t t = nt; t > 0; t--)
        p->off[t] = p->off[t - 1];
    p->off[0] = 0;
    return PRIME_OK;
}

prime_status prime_result_membership(const prime_result *r, const prime_tagstore *s,
                                     uint64_t *mode_offsets, uint32_t *images, uint64_t cap,
                                     uint64_t *total_out)
{
    const char *fn = "prime_result_membership";
    if (r == NULL || total_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: NULL argument", fn);
    prime_status st = check_store(s, fn);
    if (st != PRIME_OK)
        return st;
    postings p = {NULL, NULL, 0};
    p.off = prime__malloc(((size_t)s->tags.count + 1) * sizeof *p.off);
    if (p.off == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", fn);
    uint32_t built = PRIME_NONE - 1; /* class whose postings p holds; none yet */
    bool have = false;
    uint64_t pos = 0;
    for (uint64_t i = 0; i < r->n_modes && st == PRIME_OK; i++) {
        uint32_t want[PRIME_MAX_TAGS_LIMIT], n, c;
        st = resolve_mode(r, s, i, fn, &c, want, &n);
        if (st != PRIME_OK)
            break;
        if (mode_offsets != NULL)
            mode_offsets[i] = pos;
        uint64_t room = images != NULL && pos < cap ? cap - pos : 0;
        if (n == 0) {
            pos += select_images(s, c, want, n, room ? images + pos : NULL, room);
            continue;
        }
        if (!have || built != c) {
            st = build_postings(s, c, &p);
            if (st != PRIME_OK)
                break;
            built = c;
            have = true;
        }
        /* scan the rarest tag's images (ascending) */
        uint32_t best = want[0];
        for (uint32_t k = 1; k < n; k++)
            if (p.off[want[k] + 1] - p.off[want[k]] < p.off[best + 1] - p.off[best])
                best = want[k];
        for (uint64_t j = p.off[best]; j < p.off[best + 1]; j++) {
            uint32_t img = p.img[j];
            if (has_all(s, img, want, n)) {
                if (images != NULL && pos < cap)
                    images[pos] = img;
                pos++;
            }
        }
    }
    prime__free(p.off);
    prime__free(p.img);
    if (st != PRIME_OK)
        return st;
    if (mode_offsets != NULL)
        mode_offsets[r->n_modes] = pos;
    *total_out = pos;
    if (pos > 0 && (images == NULL || pos > cap))
        return prime__error(PRIME_E_BUFFER_TOO_SMALL, "%s: %llu memberships; the buffer holds %llu",
                            fn, (unsigned long long)pos,
                            (unsigned long long)(images != NULL ? cap : 0));
    return PRIME_OK;
}

static int cmp_pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* 64-bit hash of an image list (order matters; lists are ascending). */
static uint64_t hash_list(const uint32_t *v, uint64_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    for (uint64_t k = 0; k < n; k++) {
        h ^= v[k] + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdULL;
    }
    return h;
}

prime_status prime_result_equal_images(const prime_result *r, const prime_tagstore *s,
                                       uint64_t *smaller_out)
{
    const char *fn = "prime_result_equal_images";
    if (r == NULL || smaller_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: NULL argument", fn);
    prime_status st = check_store(s, fn);
    if (st != PRIME_OK)
        return st;
    uint64_t n = r->n_modes;
    for (uint64_t i = 0; i < n; i++)
        smaller_out[i] = UINT64_MAX;
    if (n == 0)
        return PRIME_OK;
    uint64_t total = 0, cap = 0;
    for (uint64_t i = 0; i < n; i++)
        cap += r->modes[i].size;
    uint64_t *off = prime__malloc((size_t)(n + 1) * sizeof *off);
    uint32_t *imgs = prime__malloc((size_t)(cap > 0 ? cap : 1) * sizeof *imgs);
    uint64_t *h = prime__malloc((size_t)n * 2 * sizeof *h); /* (hash, index) pairs */
    if (off == NULL || imgs == NULL || h == NULL) {
        st = prime__error(PRIME_E_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    st = prime_result_membership(r, s, off, imgs, cap, &total);
    if (st == PRIME_E_BUFFER_TOO_SMALL) { /* another store: sizes differ */
        prime__free(imgs);
        imgs = prime__malloc((size_t)(total > 0 ? total : 1) * sizeof *imgs);
        if (imgs == NULL) {
            st = prime__error(PRIME_E_NOMEM, "%s: out of memory", fn);
            goto done;
        }
        st = prime_result_membership(r, s, off, imgs, total, &total);
    }
    if (st != PRIME_OK)
        goto done;
    for (uint64_t i = 0; i < n; i++) {
        h[2 * i] = hash_list(imgs + off[i], off[i + 1] - off[i]);
        h[2 * i + 1] = i;
    }
    /* modes of a class are contiguous (ordered by class name): sort each
       class's (hash, index) pairs and compare only within equal hashes */
    for (uint64_t a = 0; a < n;) {
        uint64_t b = a;
        while (b < n && r->modes[b].class_index == r->modes[a].class_index)
            b++;
        qsort(h + 2 * a, (size_t)(b - a), 2 * sizeof *h, cmp_pair);
        for (uint64_t g = a; g < b;) {
            uint64_t e = g;
            while (e < b && h[2 * e] == h[2 * g])
                e++;
            for (uint64_t x = g; x < e; x++) {
                uint64_t i = h[2 * x + 1], best = UINT64_MAX;
                for (uint64_t y = g; y < e; y++) {
                    uint64_t j = h[2 * y + 1];
                    if (r->modes[j].n_tags >= r->modes[i].n_tags ||
                        off[j + 1] - off[j] != off[i + 1] - off[i] ||
                        memcmp(imgs + off[j], imgs + off[i],
                               (size_t)(off[i + 1] - off[i]) * sizeof *imgs) != 0)
                        continue;
                    if (best == UINT64_MAX || r->modes[j].n_tags < r->modes[best].n_tags ||
                        (r->modes[j].n_tags == r->modes[best].n_tags && j < best))
                        best = j;
                }
                smaller_out[i] = best;
            }
            g = e;
        }
        a = b;
    }
done:
    prime__free(off);
    prime__free(imgs);
    prime__free(h);
    return st;
}
