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
