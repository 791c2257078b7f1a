/* The calls made for language bindings (issue 13): bulk building
 * (prime_tagstore_intern_names, prime_tagstore_add_images,
 * prime_tagstore_add_images_text), the columnar export
 * (prime_result_columns) and membership (prime_tagstore_select,
 * prime_result_mode_images, prime_result_membership), checked against the
 * one-at-a-time calls and a brute-force scan. Public API only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime/prime.h"

static uint64_t rng = 99;

static uint32_t below(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng >> 33) % n);
}

enum { N = 3000, TAGS = 12, CLASSES = 3 };

/* A random data set as text: per image a name, a class, "t3|t7|..." */
typedef struct {
    char names[N][16];
    uint32_t cls[N];
    char tags[N][64];
    double out[N];
} data;

static void make(data *d)
{
    for (uint32_t i = 0; i < N; i++) {
        snprintf(d->names[i], sizeof d->names[i], "img%u", i);
        d->cls[i] = below(CLASSES);
        d->tags[i][0] = '\0';
        uint32_t k = below(5);
        for (uint32_t j = 0; j < k; j++) {
            char t[8];
            snprintf(t, sizeof t, "%st%u", j ? "|" : "", below(TAGS));
            strcat(d->tags[i], t);
        }
        int bad = strstr(d->tags[i], "t1|") != NULL || strstr(d->tags[i], "t2") != NULL;
        d->out[i] = below(100) < (bad ? 70u : 10u) ? 0.0 : 1.0;
    }
}

static const char *class_names[CLASSES] = {"ape", "bee", "cat"};

/* the store image by image, through prime_tagstore_add_image_names */
static prime_tagstore *one_by_one(const data *d)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    for (uint32_t c = 0; c < CLASSES; c++) {
        uint32_t id;
        cr_assert_eq(prime_tagstore_intern_class(s, class_names[c], &id), PRIME_OK);
    }
    for (uint32_t i = 0; i < N; i++) {
        char buf[64];
        const char *tn[8];
        uint32_t k = 0;
        strcpy(buf, d->tags[i]);
        for (char *tok = strtok(buf, "|"); tok != NULL; tok = strtok(NULL, "|"))
            tn[k++] = tok;
        cr_assert_eq(prime_tagstore_add_image_names(s, d->names[i], class_names[d->cls[i]], tn,
                                                    k, NULL), PRIME_OK);
    }
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    return s;
}

/* the store in one call, through prime_tagstore_add_images_text */
static prime_tagstore *bulk(const data *d, prime_status *st_out, const char *dup)
{
    static char names[N * 16], tags[N * 64];
    static uint64_t noff[N + 1], toff[N + 1];
    size_t nl = 0, tl = 0;
    noff[0] = toff[0] = 0;
    for (uint32_t i = 0; i < N; i++) {
        const char *nm = (dup != NULL && i == N - 1) ? dup : d->names[i];
        memcpy(names + nl, nm, strlen(nm));
        nl += strlen(nm);
        noff[i + 1] = nl;
        memcpy(tags + tl, d->tags[i], strlen(d->tags[i]));
        tl += strlen(d->tags[i]);
        toff[i + 1] = tl;
    }
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    static const char cbuf[] = "apebeecat";
    const uint64_t coff[] = {0, 3, 6, 9};
    uint32_t cids[CLASSES];
    cr_assert_eq(prime_tagstore_intern_names(s, PRIME_NAMES_CLASSES, cbuf, coff, CLASSES, cids),
                 PRIME_OK);
    cr_assert_eq(cids[2], 2);
    uint32_t first = 77;
    *st_out = prime_tagstore_add_images_text(s, N, names, noff, d->cls, tags, toff, &first);
    if (*st_out == PRIME_OK) {
        cr_assert_eq(first, 0);
        cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    }
    return s;
}

Test(bindings, bulk_text_equals_one_by_one)
{
    static data d;
    make(&d);
    prime_tagstore *a = one_by_one(&d);
    prime_status st;
    prime_tagstore *b = bulk(&d, &st, NULL);
    cr_assert_eq(st, PRIME_OK);
    cr_assert_eq(prime_tagstore_image_count(a), prime_tagstore_image_count(b));
    cr_assert_eq(prime_tagstore_tag_count(a), prime_tagstore_tag_count(b));
    for (uint32_t t = 0; t < prime_tagstore_tag_count(a); t++)
        cr_assert_str_eq(prime_tagstore_tag_name(a, t), prime_tagstore_tag_name(b, t));
    for (uint32_t i = 0; i < N; i++) {
        uint32_t x[16], y[16], nx, ny;
        cr_assert_eq(prime_tagstore_image_tags(a, i, x, 16, &nx), PRIME_OK);
        cr_assert_eq(prime_tagstore_image_tags(b, i, y, 16, &ny), PRIME_OK);
        cr_assert_eq(nx, ny);
        cr_assert_eq(memcmp(x, y, nx * sizeof *x), 0);
        cr_assert_str_eq(prime_tagstore_image_name(a, i), prime_tagstore_image_name(b, i));
        cr_assert_eq(prime_tagstore_image_class(a, i), prime_tagstore_image_class(b, i));
        uint32_t j;
        cr_assert_eq(prime_tagstore_find_image(b, d.names[i], &j), PRIME_OK);
        cr_assert_eq(j, i);
    }
    prime_tagstore_destroy(a);
    prime_tagstore_destroy(b);
}

Test(bindings, bulk_text_failure_leaves_store_unchanged)
{
    static data d;
    make(&d);
    prime_status st;
    prime_tagstore *s = bulk(&d, &st, "img5");
    cr_assert_eq(st, PRIME_E_DUPLICATE);
    cr_assert(strstr(prime_last_error(), "img5") != NULL, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_image_count(s), 0);
    cr_assert_eq(prime_tagstore_tag_count(s), 0);
    for (uint32_t c = 0; c < CLASSES; c++)
        cr_assert_eq(prime_tagstore_class_image_count(s, c), 0);
    /* still usable */
    const char txt[] = "x|y||x";
    const uint64_t toff[] = {0, 6};
    const uint32_t cls[] = {1};
    cr_assert_eq(prime_tagstore_add_images_text(s, 1, "solo", (const uint64_t[]){0, 4}, cls, txt,
                                                toff, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_tag_count(s), 2);
    uint32_t j;
    cr_assert_eq(prime_tagstore_find_image(s, "solo", &j), PRIME_OK);
    /* a bad tag name: nothing added */
    char longname[300];
    memset(longname, 'z', sizeof longname);
    const uint64_t loff[] = {0, 1, 301};
    char lbuf[302];
    lbuf[0] = 'q';
    memcpy(lbuf + 1, longname, 300);
    const uint32_t cls2[] = {0, 0};
    cr_assert_eq(prime_tagstore_add_images_text(s, 2, NULL, NULL, cls2, lbuf, loff, NULL),
                 PRIME_E_LIMIT);
    cr_assert_eq(prime_tagstore_image_count(s), 1);
    cr_assert_eq(prime_tagstore_tag_count(s), 2);
    /* ids and offsets checked first */
    const uint32_t badc[] = {9};
    cr_assert_eq(prime_tagstore_add_images_text(s, 1, NULL, NULL, badc, "a", toff, NULL),
                 PRIME_E_INVALID_ARG);
    prime_tagstore_destroy(s);
}

Test(bindings, add_images_by_ids)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    uint32_t ids[3];
    cr_assert_eq(prime_tagstore_intern_names(s, PRIME_NAMES_TAGS, "abc",
                                             (const uint64_t[]){0, 1, 2, 3}, 3, ids), PRIME_OK);
    cr_assert_eq(prime_tagstore_intern_names(s, PRIME_NAMES_TAGS, "a|",
                                             (const uint64_t[]){0, 2}, 1, ids),
                 PRIME_E_INVALID_ARG);
    uint32_t c;
    cr_assert_eq(prime_tagstore_intern_class(s, "k", &c), PRIME_OK);
    const uint32_t cls[] = {c, c};
    const uint64_t off[] = {0, 3, 3};
    const uint32_t tid[] = {2, 0, 2};
    uint32_t first;
    cr_assert_eq(prime_tagstore_add_images(s, 2, "pq", (const uint64_t[]){0, 1, 2}, cls, off,
                                           tid, &first), PRIME_OK);
    uint32_t got[4], n;
    cr_assert_eq(prime_tagstore_image_tags(s, 0, got, 4, &n), PRIME_OK);
    cr_assert_eq(n, 2);
    cr_assert(got[0] == 0 && got[1] == 2);
    const uint32_t bad[] = {5};
    cr_assert_eq(prime_tagstore_add_images(s, 1, NULL, NULL, cls, (const uint64_t[]){0, 1}, bad,
                                           NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_image_count(s), 2);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_images(s, 0, NULL, NULL, cls, off, tid, NULL),
                 PRIME_E_STATE);
    prime_tagstore_destroy(s);
}

static int has(const prime_tagstore *s, uint32_t img, const uint32_t *t, uint32_t n)
{
    uint32_t got[16], k;
    prime_tagstore_image_tags(s, img, got, 16, &k);
    for (uint32_t j = 0; j < n; j++) {
        int found = 0;
        for (uint32_t q = 0; q < k; q++)
            found |= got[q] == t[j];
        if (!found)
            return 0;
    }
    return 1;
}

Test(bindings, columns_membership_select)
{
    static data d;
    make(&d);
    prime_tagstore *s = one_by_one(&d);
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_outcomes_create(N, &o), PRIME_OK);
    cr_assert_eq(prime_outcomes_set_array(o, 0, d.out, N), PRIME_OK);
    prime_config *cfg = NULL;
    cr_assert_eq(prime_config_create(&cfg), PRIME_OK);
    prime_config_set_int(cfg, PRIME_PARAM_MIN_SIZE, 15);
    prime_config_set_double(cfg, PRIME_PARAM_MIN_DROP, 0.1);
    prime_config_set_double(cfg, PRIME_PARAM_MIN_GAIN, -1.0);
    prime_result *r = NULL;
    cr_assert_eq(prime_search(s, o, cfg, NULL, NULL, &r), PRIME_OK);
    uint64_t nm = prime_result_mode_count(r);
    cr_assert_gt(nm, 3);
    uint64_t nt = prime_result_mode_tag_total(r);
    uint32_t *ci = malloc(nm * 4), *tids = malloc((nt + 1) * 4);
    uint64_t *size = malloc(nm * 8), *toff = malloc((nm + 1) * 8), *moff = malloc((nm + 1) * 8);
    double *cor = malloc(nm * 8), *acc = malloc(nm * 8), *cacc = malloc(nm * 8),
           *drop = malloc(nm * 8);
    cr_assert_eq(prime_result_columns(r, ci, size, cor, acc, cacc, drop, toff, tids), PRIME_OK);
    uint64_t total = 0;
    cr_assert_eq(prime_result_membership(r, s, moff, NULL, 0, &total), PRIME_E_BUFFER_TOO_SMALL);
    uint32_t *imgs = malloc((total + 1) * 4);
    cr_assert_eq(prime_result_membership(r, s, moff, imgs, total, &total), PRIME_OK);
    for (uint64_t i = 0; i < nm; i++) {
        uint32_t cid, ntg, ids[16], k;
        uint64_t sz;
        double c, a, ca, dr;
        cr_assert_eq(prime_result_mode_info(r, i, &cid, &ntg, &sz, &c, &a, &ca, &dr), PRIME_OK);
        cr_assert_eq(prime_result_mode_tags(r, i, ids, 16, &k), PRIME_OK);
        uint32_t ccid;
        prime_result_class_info(r, ci[i], &ccid, NULL, NULL, NULL);
        cr_assert_eq(ccid, cid);
        cr_assert(size[i] == sz && cor[i] == c && acc[i] == a && cacc[i] == ca && drop[i] == dr);
        cr_assert_eq(toff[i + 1] - toff[i], ntg);
        cr_assert_eq(memcmp(tids + toff[i], ids, ntg * 4), 0);
        /* brute force: the images of the class with every tag */
        uint64_t want = 0;
        for (uint32_t img = 0; img < N; img++)
            if (prime_tagstore_image_class(s, img) == cid && has(s, img, ids, ntg)) {
                cr_assert_lt(moff[i] + want, moff[i + 1]);
                cr_assert_eq(imgs[moff[i] + want], img);
                want++;
            }
        cr_assert_eq(moff[i + 1] - moff[i], want);
        cr_assert_eq(want, sz);
        uint32_t one[N];
        uint64_t cnt;
        cr_assert_eq(prime_result_mode_images(r, s, i, one, N, &cnt), PRIME_OK);
        cr_assert_eq(cnt, sz);
        cr_assert_eq(memcmp(one, imgs + moff[i], cnt * 4), 0);
        cr_assert_eq(prime_tagstore_select(s, cid, ids, ntg, one, N, &cnt), PRIME_OK);
        cr_assert_eq(cnt, sz);
        cr_assert_eq(memcmp(one, imgs + moff[i], cnt * 4), 0);
    }
    /* equal images: brute force over the membership lists */
    uint64_t *eq = malloc(nm * 8);
    cr_assert_eq(prime_result_equal_images(r, s, eq), PRIME_OK);
    for (uint64_t i = 0; i < nm; i++) {
        uint64_t best = UINT64_MAX;
        uint32_t ni, cls_i;
        prime_result_mode_info(r, i, &cls_i, &ni, NULL, NULL, NULL, NULL, NULL);
        for (uint64_t j = 0; j < nm; j++) {
            uint32_t nj, cls_j;
            prime_result_mode_info(r, j, &cls_j, &nj, NULL, NULL, NULL, NULL, NULL);
            uint64_t li = moff[i + 1] - moff[i], lj = moff[j + 1] - moff[j];
            if (cls_j != cls_i || nj >= ni || li != lj ||
                memcmp(imgs + moff[i], imgs + moff[j], li * 4) != 0)
                continue;
            uint32_t nb = 0;
            if (best != UINT64_MAX)
                prime_result_mode_info(r, best, NULL, &nb, NULL, NULL, NULL, NULL, NULL);
            if (best == UINT64_MAX || nj < nb)
                best = j;
        }
        cr_assert_eq(eq[i], best, "mode %llu", (unsigned long long)i);
    }
    free(eq);
    uint64_t cnt;
    cr_assert_eq(prime_tagstore_select(s, PRIME_NONE, NULL, 0, NULL, 0, &cnt),
                 PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(cnt, N);
    cr_assert_eq(prime_result_mode_images(r, s, nm, NULL, 0, &cnt), PRIME_E_INVALID_ARG);
    /* a store without the mode's tags */
    prime_tagstore *other = NULL;
    prime_tagstore_create(&other);
    prime_tagstore_freeze(other);
    cr_assert_eq(prime_result_mode_images(r, other, 0, NULL, 0, &cnt), PRIME_E_MISMATCH);
    prime_tagstore_destroy(other);
    free(ci), free(tids), free(size), free(toff), free(moff), free(cor), free(acc), free(cacc);
    free(drop), free(imgs);
    prime_result_destroy(r);
    prime_config_destroy(cfg);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(bindings, directory_is_an_io_error)
{
    /* a directory opens on Linux; its "size" once made the reader ask for
       2^63 bytes (reported as out of memory) */
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_load(".", &s, NULL), PRIME_E_IO);
    cr_assert(strstr(prime_last_error(), "directory") != NULL, "%s", prime_last_error());
    cr_assert_null(s);
}

/* ---- prime_tagstore_add_packed (1.1): NUL-separated text columns ---------- */

/* The data set as the three packed columns; counted: the tags as names
 * separated by NULs with per-image counts (else "a|b" fields). */
typedef struct {
    char *images, *classes, *tags;
    size_t ni, nc, nt;
    uint32_t counts[N];
} packed;

static void pack(const data *d, int counted, packed *pk)
{
    pk->images = malloc(N * 16);
    pk->classes = malloc(N * 8);
    pk->tags = malloc(N * 64);
    pk->ni = pk->nc = pk->nt = 0;
    size_t names_so_far = 0;
    for (uint32_t i = 0; i < N; i++) {
        if (i > 0) {
            pk->images[pk->ni++] = '\0';
            pk->classes[pk->nc++] = '\0';
        }
        memcpy(pk->images + pk->ni, d->names[i], strlen(d->names[i]));
        pk->ni += strlen(d->names[i]);
        const char *cn = class_names[d->cls[i]];
        memcpy(pk->classes + pk->nc, cn, strlen(cn));
        pk->nc += strlen(cn);
        if (!counted) {
            if (i > 0)
                pk->tags[pk->nt++] = '\0';
            memcpy(pk->tags + pk->nt, d->tags[i], strlen(d->tags[i]));
            pk->nt += strlen(d->tags[i]);
            continue;
        }
        pk->counts[i] = 0;
        for (const char *p = d->tags[i]; *p != '\0';) {
            const char *bar = strchr(p, '|');
            size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
            if (names_so_far++ > 0)
                pk->tags[pk->nt++] = '\0';
            memcpy(pk->tags + pk->nt, p, len);
            pk->nt += len;
            pk->counts[i]++;
            p += len + (bar != NULL);
        }
    }
}

static void unpack(packed *pk)
{
    free(pk->images);
    free(pk->classes);
    free(pk->tags);
}

static void assert_same_store(const prime_tagstore *a, const prime_tagstore *b)
{
    cr_assert_eq(prime_tagstore_image_count(a), prime_tagstore_image_count(b));
    cr_assert_eq(prime_tagstore_tag_count(a), prime_tagstore_tag_count(b));
    cr_assert_eq(prime_tagstore_class_count(a), prime_tagstore_class_count(b));
    for (uint32_t t = 0; t < prime_tagstore_tag_count(a); t++)
        cr_assert_str_eq(prime_tagstore_tag_name(a, t), prime_tagstore_tag_name(b, t));
    for (uint32_t c = 0; c < prime_tagstore_class_count(a); c++)
        cr_assert_str_eq(prime_tagstore_class_name(a, c), prime_tagstore_class_name(b, c));
    for (uint32_t i = 0; i < prime_tagstore_image_count(a); i++) {
        uint32_t x[16], y[16], nx, ny;
        cr_assert_eq(prime_tagstore_image_tags(a, i, x, 16, &nx), PRIME_OK);
        cr_assert_eq(prime_tagstore_image_tags(b, i, y, 16, &ny), PRIME_OK);
        cr_assert_eq(nx, ny);
        cr_assert_eq(memcmp(x, y, nx * sizeof *x), 0);
        cr_assert_str_eq(prime_tagstore_image_name(a, i), prime_tagstore_image_name(b, i));
        cr_assert_eq(prime_tagstore_image_class(a, i), prime_tagstore_image_class(b, i));
    }
}

Test(bindings, packed_equals_one_by_one_and_csv)
{
    static data d;
    make(&d);
    prime_tagstore *a = one_by_one(&d);
    /* the CSV reader on the same rows */
    size_t cap = (size_t)N * 96 + 64, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv, cap, "image,class,tags\n");
    for (uint32_t i = 0; i < N; i++)
        len += (size_t)snprintf(csv + len, cap - len, "%s,%s,%s\n", d.names[i],
                                class_names[d.cls[i]], d.tags[i]);
    prime_tagstore *c = NULL;
    cr_assert_eq(prime_tagstore_load_memory(csv, len, "t.csv", &c, NULL), PRIME_OK);
    free(csv);
    for (int counted = 0; counted < 2; counted++) {
        packed pk;
        pack(&d, counted, &pk);
        prime_tagstore *b = NULL;
        cr_assert_eq(prime_tagstore_create(&b), PRIME_OK);
        uint32_t first = 77;
        cr_assert_eq(prime_tagstore_add_packed(b, N, pk.images, pk.ni, pk.classes, pk.nc,
                                               pk.tags, pk.nt, counted ? pk.counts : NULL, &first),
                     PRIME_OK, "%s", prime_last_error());
        cr_assert_eq(first, 0);
        cr_assert_eq(prime_tagstore_freeze(b), PRIME_OK);
        /* class ids in order of first appearance, as the CSV reader gives */
        assert_same_store(c, b);
        /* one_by_one interned the classes in name order first */
        cr_assert_eq(prime_tagstore_image_count(a), prime_tagstore_image_count(b));
        for (uint32_t i = 0; i < N; i++)
            cr_assert_str_eq(prime_tagstore_class_name(a, prime_tagstore_image_class(a, i)),
                             prime_tagstore_class_name(b, prime_tagstore_image_class(b, i)));
        prime_tagstore_destroy(b);
        unpack(&pk);
    }
    prime_tagstore_destroy(a);
    prime_tagstore_destroy(c);
}

/* Images, tags and classes of a store, to check a failed call changed nothing. */
static void counts_are(const prime_tagstore *s, uint32_t ni, uint32_t nt, uint32_t nc)
{
    cr_assert_eq(prime_tagstore_image_count(s), ni);
    cr_assert_eq(prime_tagstore_tag_count(s), nt);
    cr_assert_eq(prime_tagstore_class_count(s), nc);
}

/* A call on the one-image store of the bad-input tests returned st: it must be
 * want, with msg in the error, and the store must still hold only that image. */
static void refused(const prime_tagstore *s, prime_status st, prime_status want,
                    const char *msg)
{
    cr_assert_eq(st, want, "status %d, want %d: %s", st, want, prime_last_error());
    cr_assert(strstr(prime_last_error(), msg) != NULL, "\"%s\" not in: %s", msg,
              prime_last_error());
    counts_are(s, 1, 1, 1);
}

static void fails(prime_tagstore *s, prime_status want, const char *msg, uint32_t n,
                  const char *im, size_t ni, const char *cl, size_t nc, const char *tg,
                  size_t nt, const uint32_t *counts)
{
    refused(s, prime_tagstore_add_packed(s, n, im, ni, cl, nc, tg, nt, counts, NULL), want, msg);
}

Test(bindings, packed_bad_input_changes_nothing)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    /* one image already there: tag "old", class "k" */
    cr_assert_eq(prime_tagstore_add_packed(s, 1, "keep", 4, "k", 1, "old", 3, NULL, NULL),
                 PRIME_OK);
    counts_are(s, 1, 1, 1);
    /* shapes: field counts (a name holding a NUL is one field too many) */
    fails(s, PRIME_E_INVALID_ARG, "images: 3 fields", 2, "a\0b\0c", 5, "x\0y", 3, "t\0u", 3,
          NULL);
    fails(s, PRIME_E_INVALID_ARG, "classes: 1 fields", 2, "a\0b", 3, "x", 1, "t\0u", 3, NULL);
    fails(s, PRIME_E_INVALID_ARG, "tags: 3 fields", 2, "a\0b", 3, "x\0y", 3, "t\0u\0v", 5,
          NULL);
    const uint32_t c21[] = {2, 1};
    fails(s, PRIME_E_INVALID_ARG, "tags (counted): 2 fields", 2, "a\0b", 3, "x\0y", 3, "t\0u",
          3, c21);
    const uint32_t c00[] = {0, 0};
    fails(s, PRIME_E_INVALID_ARG, "no field", 2, "a\0b", 3, "x\0y", 3, "t", 1, c00);
    fails(s, PRIME_E_INVALID_ARG, "no field", 0, NULL, 0, NULL, 0, "t", 1, NULL);
    /* NULL with a size; NULL classes */
    fails(s, PRIME_E_INVALID_ARG, "images is NULL", 1, NULL, 3, "x", 1, "t", 1, NULL);
    fails(s, PRIME_E_INVALID_ARG, "classes is NULL", 1, "a", 1, NULL, 0, "t", 1, NULL);
    fails(s, PRIME_E_INVALID_ARG, "tags is NULL", 1, "a", 1, "x", 1, NULL, 4, NULL);
    /* counts that overflow 32 bits; too many images */
    const uint32_t huge[] = {UINT32_MAX, 7};
    fails(s, PRIME_E_LIMIT, "tag names", 2, "a\0b", 3, "x\0y", 3, "t", 1, huge);
    fails(s, PRIME_E_LIMIT, "too many images", UINT32_MAX - 1, NULL, 0, "x", 1, "t", 1, NULL);
    /* names: a new class and new tags before the bad image are undone too */
    fails(s, PRIME_E_INVALID_ARG, "image 1: empty class name", 2, "a\0b", 3, "new\0", 4,
          "t\0u", 3, NULL);
    fails(s, PRIME_E_INVALID_ARG, "image 1: class name is not valid UTF-8", 2, "a\0b", 3,
          "new\0\xff", 5, "t\0u", 3, NULL);
    fails(s, PRIME_E_INVALID_ARG, "image 1: the name is not valid UTF-8", 2, "a\0\xc3", 3,
          "x\0y", 3, "t\0u", 3, NULL);
    fails(s, PRIME_E_INVALID_ARG, "image 1: tag name \"u|v\" contains '|'", 2, "a\0b", 3,
          "new\0y", 5, "t\0u|v", 5, (const uint32_t[]){1, 1});
    fails(s, PRIME_E_INVALID_ARG, "image 1: empty tag name", 2, "a\0b", 3, "new\0y", 5, "t\0",
          2, (const uint32_t[]){1, 1});
    fails(s, PRIME_E_INVALID_ARG, "image 0: tag name is not valid UTF-8", 1, "a", 1, "x", 1,
          "t|\xff\xfe", 4, NULL);
    char longtag[300];
    memset(longtag, 'z', sizeof longtag);
    longtag[0] = 'q';
    longtag[1] = '\0'; /* "q" then a 298-byte name */
    fails(s, PRIME_E_LIMIT, "image 1: tag name of 298 bytes", 2, "a\0b", 3, "new\0y", 5,
          longtag, sizeof longtag, NULL);
    fails(s, PRIME_E_DUPLICATE, "image 1: duplicate image \"keep\"", 2, "a\0keep", 6, "x\0y", 3,
          "t\0u", 3, NULL);
    fails(s, PRIME_E_DUPLICATE, "duplicate image \"a\"", 2, "a\0a", 3, "x\0y", 3, "t\0u", 3,
          NULL);
    /* the store still works: empty names are unnamed images, empty tag
       fields no tags, "a||b" two tags, duplicates merged */
    uint32_t first = 0;
    cr_assert_eq(prime_tagstore_add_packed(s, 3, "\0\0z", 3, "k\0k\0m", 5, "\0old||b|old\0", 12,
                                           NULL, &first), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(first, 1);
    counts_are(s, 4, 2, 2);
    cr_assert_eq(prime_tagstore_add_packed(s, 2, NULL, 0, "m\0k", 3, "b\0b\0old", 7,
                                           (const uint32_t[]){2, 1}, &first), PRIME_OK);
    cr_assert_eq(first, 4);
    cr_assert_eq(prime_tagstore_add_packed(s, 0, NULL, 0, NULL, 0, NULL, 0, NULL, &first),
                 PRIME_OK);
    cr_assert_eq(first, 6);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    uint32_t got[4], k;
    cr_assert_eq(prime_tagstore_image_tags(s, 2, got, 4, &k), PRIME_OK);
    cr_assert(k == 2 && got[0] == 0 && got[1] == 1);
    cr_assert_eq(prime_tagstore_image_tags(s, 4, got, 4, &k), PRIME_OK);
    cr_assert(k == 1 && got[0] == 1); /* b, b merged */
    cr_assert_eq(prime_tagstore_image_tags(s, 5, got, 4, &k), PRIME_OK);
    cr_assert(k == 1 && got[0] == 0);
    cr_assert_str_eq(prime_tagstore_image_name(s, 1), "");
    uint32_t j;
    cr_assert_eq(prime_tagstore_find_image(s, "z", &j), PRIME_OK);
    cr_assert_eq(j, 3);
    cr_assert_eq(prime_tagstore_add_packed(s, 1, NULL, 0, "k", 1, "", 0, NULL, NULL),
                 PRIME_E_STATE);
    cr_assert_eq(prime_tagstore_add_packed(NULL, 1, NULL, 0, "k", 1, "", 0, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    prime_tagstore_destroy(s);
}

/* A batch that is indexed at its end (>= 1024 images): a duplicate there
 * rolls everything back too. */
Test(bindings, packed_large_batch_duplicate_rolls_back)
{
    static data d;
    make(&d);
    packed pk;
    pack(&d, 1, &pk);
    /* the last image's name becomes "img5": N fields still */
    char *last = pk.images + pk.ni - strlen(d.names[N - 1]);
    memcpy(last, "img5", 4);
    size_t ni = (size_t)(last - pk.images) + 4;
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_packed(s, N, pk.images, ni, pk.classes, pk.nc, pk.tags,
                                           pk.nt, pk.counts, NULL),
                 PRIME_E_DUPLICATE);
    cr_assert(strstr(prime_last_error(), "img5") != NULL, "%s", prime_last_error());
    counts_are(s, 0, 0, 0);
    prime_tagstore_destroy(s);
    unpack(&pk);
}

/* ---- prime_tagstore_add_coded (1.3): dictionary-coded columns -------------- */

/* The data set coded: tag names listed in reverse ("t11" first, so not in
 * the order of first use), "t5" twice (indices 6 and 12 both mean it) and
 * an unused "zz"; class names "cat", "bee", "ape" likewise reversed. */
typedef struct {
    char tag_names[128];
    size_t nt;
    uint32_t index[N * 5], counts[N], cls[N];
    uint64_t refs;
} coded;

static void code(const data *d, coded *cd)
{
    cd->nt = 0;
    for (int t = TAGS - 1; t >= 0; t--)
        cd->nt += (size_t)snprintf(cd->tag_names + cd->nt, sizeof cd->tag_names - cd->nt,
                                   "t%d%c", t, '\0');
    cd->nt += (size_t)snprintf(cd->tag_names + cd->nt, sizeof cd->tag_names - cd->nt, "t5%czz",
                               '\0'); /* names 12 and 13, no terminator */
    cd->refs = 0;
    for (uint32_t i = 0; i < N; i++) {
        cd->cls[i] = CLASSES - 1 - d->cls[i];
        cd->counts[i] = 0;
        for (const char *p = d->tags[i]; *p != '\0';) {
            char *end;
            uint32_t t = (uint32_t)strtoul(p + 1, &end, 10);
            cd->index[cd->refs++] = t == 5 && (i & 1) ? 12 : TAGS - 1 - t;
            cd->counts[i]++;
            p = *end == '|' ? end + 1 : end;
        }
    }
}

static prime_status add_coded(prime_tagstore *s, const packed *pk, const coded *cd,
                              uint32_t *first)
{
    return prime_tagstore_add_coded(s, N, pk->images, pk->ni, "cat\0bee\0ape", 11, 3, cd->cls,
                                    cd->tag_names, cd->nt, TAGS + 2, cd->index, cd->refs,
                                    cd->counts, first);
}

Test(bindings, coded_equals_packed_and_csv)
{
    static data d;
    make(&d);
    static coded cd;
    code(&d, &cd);
    packed pk, pt;
    pack(&d, 1, &pk);
    pack(&d, 0, &pt);
    prime_tagstore *a = NULL, *b = NULL, *c = NULL;
    cr_assert_eq(prime_tagstore_create(&a), PRIME_OK);
    cr_assert_eq(prime_tagstore_create(&b), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_packed(a, N, pk.images, pk.ni, pk.classes, pk.nc, pk.tags,
                                           pk.nt, pk.counts, NULL), PRIME_OK);
    uint32_t first = 77;
    cr_assert_eq(add_coded(b, &pk, &cd, &first), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(first, 0);
    /* and the CSV reader on the same rows */
    size_t cap = (size_t)N * 96 + 64, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv, cap, "image,class,tags\n");
    for (uint32_t i = 0; i < N; i++)
        len += (size_t)snprintf(csv + len, cap - len, "%s,%s,%s\n", d.names[i],
                                class_names[d.cls[i]], d.tags[i]);
    cr_assert_eq(prime_tagstore_load_memory(csv, len, "t.csv", &c, NULL), PRIME_OK);
    free(csv);
    cr_assert_eq(prime_tagstore_freeze(a), PRIME_OK);
    cr_assert_eq(prime_tagstore_freeze(b), PRIME_OK);
    assert_same_store(a, b); /* tags and classes in the order of first use */
    assert_same_store(c, b);
    cr_assert_eq(prime_tagstore_tag_count(b), TAGS); /* "zz", unused, is not added */
    prime_tagstore_destroy(a);
    prime_tagstore_destroy(b);
    /* small batches (image by image) after a first one give the same store */
    cr_assert_eq(prime_tagstore_create(&b), PRIME_OK);
    uint32_t done = 0;
    for (uint32_t n = 1; done < N; n = n * 3 + 1) {
        if (n > N - done)
            n = N - done;
        uint64_t r0 = 0, nr = 0;
        for (uint32_t i = 0; i < done; i++)
            r0 += cd.counts[i];
        for (uint32_t i = done; i < done + n; i++)
            nr += cd.counts[i];
        size_t ipos = 0;
        for (uint32_t i = 0; i < done; i++)
            ipos += strlen(d.names[i]) + 1;
        size_t ilen = 0;
        for (uint32_t i = done; i < done + n; i++)
            ilen += strlen(d.names[i]) + (i + 1 < done + n);
        cr_assert_eq(prime_tagstore_add_coded(b, n, pk.images + ipos, ilen, "cat\0bee\0ape", 11,
                                              3, cd.cls + done, cd.tag_names, cd.nt, TAGS + 2,
                                              cd.index + r0, nr, cd.counts + done, &first),
                     PRIME_OK, "%s", prime_last_error());
        cr_assert_eq(first, done);
        done += n;
    }
    cr_assert_eq(prime_tagstore_freeze(b), PRIME_OK);
    assert_same_store(c, b);
    prime_tagstore_destroy(b);
    prime_tagstore_destroy(c);
    unpack(&pk);
    unpack(&pt);
}

static void coded_fails(prime_tagstore *s, prime_status want, const char *msg, uint32_t n,
                        const char *im, size_t ni, const char *cn, size_t ncn, uint32_t kc,
                        const uint32_t *ci, const char *tn, size_t ntn, uint32_t kt,
                        const uint32_t *ti, uint64_t refs, const uint32_t *counts)
{
    refused(s, prime_tagstore_add_coded(s, n, im, ni, cn, ncn, kc, ci, tn, ntn, kt, ti, refs,
                                        counts, NULL),
            want, msg);
}

Test(bindings, coded_bad_input_changes_nothing)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    const uint32_t z[] = {0, 0}, i01[] = {0, 1}, c11[] = {1, 1}, c20[] = {2, 0};
    cr_assert_eq(prime_tagstore_add_coded(s, 1, "keep", 4, "k", 1, 1, z, "old", 3, 1, z, 1,
                                          (const uint32_t[]){1}, NULL), PRIME_OK);
    counts_are(s, 1, 1, 1);
    /* NULL columns */
    coded_fails(s, PRIME_E_INVALID_ARG, "class_index is NULL", 2, NULL, 0, "x", 1, 1, NULL, "t",
                1, 1, z, 2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "tag_index is NULL", 2, NULL, 0, "x", 1, 1, z, "t", 1, 1,
                NULL, 2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "tag_counts is NULL", 2, NULL, 0, "x", 1, 1, z, "t", 1,
                1, z, 2, NULL);
    coded_fails(s, PRIME_E_INVALID_ARG, "images is NULL", 2, NULL, 3, "x", 1, 1, z, "t", 1, 1, z,
                2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "class_names is NULL", 2, NULL, 0, NULL, 3, 1, z, "t", 1,
                1, z, 2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "tag_names is NULL", 2, NULL, 0, "x", 1, 1, z, NULL, 1,
                1, z, 2, c11);
    /* field counts (a name holding a NUL is one field too many) */
    coded_fails(s, PRIME_E_INVALID_ARG, "class_names: 2 fields", 2, NULL, 0, "x\0y", 3, 1, z,
                "t", 1, 1, z, 2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "tag_names: 1 fields", 2, NULL, 0, "x", 1, 1, z, "t", 1,
                2, z, 2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "images: 1 fields", 2, "a", 1, "x", 1, 1, z, "t", 1, 1,
                z, 2, c11);
    /* counts that do not sum to n_refs, or overflow 32 bits */
    coded_fails(s, PRIME_E_INVALID_ARG, "sum to 2, but n_refs is 3", 2, NULL, 0, "x", 1, 1, z,
                "t", 1, 1, z, 3, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "sum to 4294967302", 2, NULL, 0, "x", 1, 1, z, "t", 1, 1,
                z, 6, (const uint32_t[]){UINT32_MAX, 7});
    coded_fails(s, PRIME_E_LIMIT, "too many images", UINT32_MAX - 1, NULL, 0, "x", 1, 1, z, "t",
                1, 1, z, 0, NULL);
    /* indices out of range: the new class and tag of image 0 are undone */
    coded_fails(s, PRIME_E_INVALID_ARG, "image 1: class index 2 out of range (2 class names)", 2,
                NULL, 0, "new\0y", 5, 2, (const uint32_t[]){0, 2}, "t", 1, 1, z, 2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "image 1: tag index 1 out of range (1 tag names)", 2,
                NULL, 0, "new", 3, 1, z, "t", 1, 1, (const uint32_t[]){0, 1}, 2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "image 0: tag index 4294967295 out of range", 1, NULL,
                0, "x", 1, 1, z, "t", 1, 1, (const uint32_t[]){UINT32_MAX}, 1,
                (const uint32_t[]){1});
    /* bad names: used (the image is named) or unused */
    coded_fails(s, PRIME_E_INVALID_ARG, "image 1: empty class name", 2, NULL, 0, "new\0", 4, 2,
                (const uint32_t[]){0, 1}, "t", 1, 1, z, 2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "image 1: tag name \"u|v\" contains '|'", 2, NULL, 0,
                "new", 3, 1, z, "t\0u|v", 5, 2, i01,
                2, c11);
    coded_fails(s, PRIME_E_INVALID_ARG, "image 0: empty tag name", 1, NULL, 0, "x", 1, 1, z, "",
                0, 1, z, 1, (const uint32_t[]){1});
    coded_fails(s, PRIME_E_INVALID_ARG, "tag name (used by no image) 1: tag name is not valid "
                "UTF-8", 1, NULL, 0, "new", 3, 1, z, "t\0\xff", 3, 2, z, 1,
                (const uint32_t[]){1});
    coded_fails(s, PRIME_E_INVALID_ARG, "class name (used by no image) 1: empty class name", 1,
                NULL, 0, "new\0", 4, 2, z, "t", 1, 1, z, 1, (const uint32_t[]){1});
    coded_fails(s, PRIME_E_INVALID_ARG, "image 1: the name is not valid UTF-8", 2, "a\0\xc3", 3,
                "x", 1, 1, z, "t", 1, 1, z, 2, c11);
    coded_fails(s, PRIME_E_DUPLICATE, "image 1: duplicate image \"keep\"", 2, "a\0keep", 6,
                "new", 3, 1, z, "t", 1, 1, z, 2, c20);
    /* the store still works: a name listed twice, no tags at all, n = 0 */
    uint32_t first = 0;
    cr_assert_eq(prime_tagstore_add_coded(s, 3, "\0\0z", 3, "m\0k", 3, 2,
                                          (const uint32_t[]){1, 1, 0}, "old\0b\0old", 9, 3,
                                          (const uint32_t[]){2, 0, 1, 1}, 4,
                                          (const uint32_t[]){0, 3, 1}, &first),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(first, 1);
    counts_are(s, 4, 2, 2);
    cr_assert_eq(prime_tagstore_add_coded(s, 2, NULL, 0, "k", 1, 1, z, NULL, 0, 0, NULL, 0, NULL,
                                          &first), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(first, 4);
    cr_assert_eq(prime_tagstore_add_coded(s, 0, NULL, 0, NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0,
                                          NULL, &first), PRIME_OK);
    cr_assert_eq(first, 6);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    uint32_t got[4], k;
    cr_assert_eq(prime_tagstore_image_tags(s, 2, got, 4, &k), PRIME_OK);
    cr_assert(k == 2 && got[0] == 0 && got[1] == 1, "%u", k); /* old, b, old, b merged */
    cr_assert_eq(prime_tagstore_image_tags(s, 4, got, 4, &k), PRIME_OK);
    cr_assert_eq(k, 0);
    cr_assert_str_eq(prime_tagstore_class_name(s, prime_tagstore_image_class(s, 3)), "m");
    cr_assert_eq(prime_tagstore_add_coded(s, 1, NULL, 0, "k", 1, 1, z, NULL, 0, 0, NULL, 0, NULL,
                                          NULL), PRIME_E_STATE);
    cr_assert_eq(prime_tagstore_add_coded(NULL, 1, NULL, 0, "k", 1, 1, z, NULL, 0, 0, NULL, 0,
                                          NULL, NULL), PRIME_E_INVALID_ARG);
    prime_tagstore_destroy(s);
}

/* A batch indexed at its end (>= 1024 images): a duplicate there rolls
 * everything back too. */
Test(bindings, coded_large_batch_duplicate_rolls_back)
{
    static data d;
    make(&d);
    static coded cd;
    code(&d, &cd);
    packed pk;
    pack(&d, 1, &pk);
    char *last = pk.images + pk.ni - strlen(d.names[N - 1]);
    memcpy(last, "img5", 4);
    pk.ni = (size_t)(last - pk.images) + 4;
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    cr_assert_eq(add_coded(s, &pk, &cd, NULL), PRIME_E_DUPLICATE);
    cr_assert(strstr(prime_last_error(), "img5") != NULL, "%s", prime_last_error());
    counts_are(s, 0, 0, 0);
    prime_tagstore_destroy(s);
    unpack(&pk);
}
