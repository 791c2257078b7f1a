/* Merging stores and the shard contract (lib/store/merge.c, shard.c):
 * merged random stores save to the bytes of the store built in one go, for
 * k = 1, 2, 3, 7 parts, with a shared vocabulary and with tables joined;
 * the shard of the environment; sharded-store folders; the errors. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static char tmpdir[256];

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            remove_tree(p);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/prime_scale_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    static const char *const vars[] = {"PRIME_SHARD", "SLURM_ARRAY_TASK_ID",
                                       "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
                                       "JOB_COMPLETION_INDEX", "PRIME_SHARD_COUNT",
                                       "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                                       "PMI_RANK", "PMI_SIZE"};
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++)
        unsetenv(vars[k]);
}

static void teardown(void)
{
    remove_tree(tmpdir);
}

TestSuite(scale, .init = setup, .fini = teardown);

static char *tmp_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    rewind(f);
    unsigned char *d = malloc((size_t)sz + 1);
    cr_assert_eq(fread(d, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return d;
}

/* Save both stores and compare the files byte for byte. */
static void assert_same_bytes(const prime_tagstore *a, const prime_tagstore *b, const char *what)
{
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s", tmp_path("a.prm"));
    snprintf(pb, sizeof pb, "%s", tmp_path("b.prm"));
    cr_assert_eq(prime_tagstore_save(a, pa), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_save(b, pb), PRIME_OK, "%s", prime_last_error());
    size_t na, nb;
    unsigned char *da = slurp(pa, &na), *db = slurp(pb, &nb);
    cr_assert(na == nb && memcmp(da, db, na) == 0, "%s: the merged store differs", what);
    free(da);
    free(db);
}

/* A random data set: image i has class cls[i] and tags tags[i][0..nt[i]). */
#define NI 300
#define NV 40
typedef struct {
    char name[NI][16];
    uint32_t cls[NI];
    uint32_t nt[NI];
    uint32_t tags[NI][8];
} dataset;

static void make_dataset(dataset *d, unsigned seed)
{
    srand(seed);
    for (uint32_t i = 0; i < NI; i++) {
        snprintf(d->name[i], sizeof d->name[i], "im%04u", i);
        /* classes appear progressively: later parts add classes */
        d->cls[i] = (uint32_t)rand() % (1 + i * 9 / NI);
        d->nt[i] = (uint32_t)rand() % 6;
        for (uint32_t k = 0; k < d->nt[i]; k++)
            d->tags[i][k] = (uint32_t)rand() % NV;
    }
}

/* Images [a, b) of d into a frozen store; vocab: intern every tag first
 * (a tagger's store), else names in first-seen order (a text reader's). */
static prime_tagstore *build(const dataset *d, uint32_t a, uint32_t b, bool vocab)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    char tn[NV][8];
    for (uint32_t t = 0; t < NV; t++) {
        snprintf(tn[t], sizeof tn[t], "t%02u", (t * 7) % NV);
        uint32_t id;
        if (vocab)
            cr_assert_eq(prime_tagstore_intern_tag(s, tn[t], &id), PRIME_OK);
    }
    static const char *const cn[] = {"zebra", "ant", "moth", "bee", "yak",
                                     "cow",   "eel", "fox",  "gnu"};
    for (uint32_t i = a; i < b; i++) {
        const char *names[8];
        for (uint32_t k = 0; k < d->nt[i]; k++)
            names[k] = tn[d->tags[i][k]];
        cr_assert_eq(prime_tagstore_add_image_names(s, d->name[i], cn[d->cls[i]], names,
                                                    d->nt[i], NULL),
                     PRIME_OK, "%s", prime_last_error());
    }
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    return s;
}

static void check_merge(uint32_t k, bool vocab, bool random_cuts, unsigned seed)
{
    dataset *d = malloc(sizeof *d);
    make_dataset(d, seed);
    prime_tagstore *whole = build(d, 0, NI, vocab);
    prime_tagstore *parts[8];
    uint32_t cut[9];
    for (uint32_t p = 0; p <= k; p++) {
        uint64_t f = 0, e = 0;
        if (p < k)
            cr_assert_eq(prime_shard_range(NI, p, k, &f, &e), PRIME_OK);
        cut[p] = p < k ? (uint32_t)f : NI;
    }
    if (random_cuts) /* uneven parts, some empty */
        for (uint32_t p = 1; p < k; p++)
            cut[p] = (uint32_t)rand() % 3 == 0 ? cut[p - 1] : cut[p - 1] + (uint32_t)rand() % (NI - cut[p - 1] + 1);
    for (uint32_t p = 0; p < k; p++)
        parts[p] = build(d, cut[p], cut[p + 1], vocab);
    prime_tagstore *m = NULL;
    cr_assert_eq(prime_tagstore_merge((const prime_tagstore *const *)parts, k,
                                      vocab ? PRIME_MERGE_SAME_TAGS : 0, &m),
                 PRIME_OK, "%s", prime_last_error());
    char what[64];
    snprintf(what, sizeof what, "k=%u vocab=%d random=%d", k, vocab, random_cuts);
    assert_same_bytes(m, whole, what);
    prime_tagstore_destroy(m);
    for (uint32_t p = 0; p < k; p++)
        prime_tagstore_destroy(parts[p]);
    prime_tagstore_destroy(whole);
    free(d);
}

Test(scale, merge_equals_one_store)
{
    static const uint32_t ks[] = {1, 2, 3, 7};
    for (size_t j = 0; j < 4; j++)
        for (int vocab = 0; vocab < 2; vocab++)
            for (int rnd = 0; rnd < 2; rnd++)
                for (unsigned seed = 1; seed <= 3; seed++)
                    check_merge(ks[j], vocab, rnd, seed * 31 + ks[j]);
}

Test(scale, merge_errors)
{
    dataset *d = malloc(sizeof *d);
    make_dataset(d, 5);
    prime_tagstore *a = build(d, 0, 100, true), *b = build(d, 50, 150, true);
    prime_tagstore *c = build(d, 150, 200, false), *m = NULL;
    const prime_tagstore *ab[] = {a, b}, *ac[] = {a, c};
    cr_assert_eq(prime_tagstore_merge(ab, 2, PRIME_MERGE_SAME_TAGS, &m), PRIME_E_DUPLICATE);
    cr_assert_null(m);
    cr_assert(strstr(prime_last_error(), "image \"im0050\" is in two parts: part 0 (image 50) "
                                         "and part 1 (image 0)") != NULL,
              "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_merge(ac, 2, PRIME_MERGE_SAME_TAGS, &m), PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "different tag tables") != NULL);
    cr_assert_eq(prime_tagstore_merge(ac, 2, 0, &m), PRIME_OK); /* tables joined */
    cr_assert_eq(prime_tagstore_image_count(m), 150);
    prime_tagstore_destroy(m);
    cr_assert_eq(prime_tagstore_merge(ab, 2, 0x80, &m), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_merge(NULL, 0, 0, &m), PRIME_OK);
    cr_assert_eq(prime_tagstore_image_count(m), 0);
    cr_assert(prime_tagstore_is_frozen(m));
    prime_tagstore_destroy(m);
    prime_tagstore *mut = NULL;
    cr_assert_eq(prime_tagstore_create(&mut), PRIME_OK);
    const prime_tagstore *am[] = {a, mut};
    cr_assert_eq(prime_tagstore_merge(am, 2, 0, &m), PRIME_E_STATE);
    prime_tagstore_destroy(mut);
    prime_tagstore_destroy(a);
    prime_tagstore_destroy(b);
    prime_tagstore_destroy(c);
    free(d);
}

Test(scale, merge_files_with_outcomes)
{
    FILE *f = fopen(tmp_path("p1.csv"), "w");
    fputs("image,class,tags,correct\na,x,t1|t2,1\nb,y,t2,0\n", f);
    fclose(f);
    f = fopen(tmp_path("p2.csv"), "w");
    fputs("image,class,tags,correct\nc,y,t3,1\n", f);
    fclose(f);
    f = fopen(tmp_path("w.csv"), "w");
    fputs("image,class,tags,correct\na,x,t1|t2,1\nb,y,t2,0\nc,y,t3,1\n", f);
    fclose(f);
    f = fopen(tmp_path("p3.csv"), "w");
    fputs("image,class,tags\nd,y,t3\n", f);
    fclose(f);
    char p1[512], p2[512], p3[512];
    snprintf(p1, sizeof p1, "%s", tmp_path("p1.csv"));
    snprintf(p2, sizeof p2, "%s", tmp_path("p2.csv"));
    snprintf(p3, sizeof p3, "%s", tmp_path("p3.csv"));
    const char *paths[] = {p1, p2};
    prime_tagstore *m = NULL, *w = NULL;
    prime_outcomes *o = NULL, *wo = NULL;
    cr_assert_eq(prime_tagstore_merge_files(paths, 2, 0, &m, &o), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_tagstore_load(tmp_path("w.csv"), &w, &wo), PRIME_OK);
    assert_same_bytes(m, w, "CSV parts");
    cr_assert_eq(prime_outcomes_count(o), 3);
    for (uint32_t i = 0; i < 3; i++) {
        double x, y;
        cr_assert_eq(prime_outcomes_get(o, i, &x), PRIME_OK);
        cr_assert_eq(prime_outcomes_get(wo, i, &y), PRIME_OK);
        cr_assert_eq(x, y);
    }
    prime_tagstore_destroy(m);
    prime_outcomes_destroy(o);
    const char *mixed[] = {p1, p3};
    cr_assert_eq(prime_tagstore_merge_files(mixed, 2, 0, &m, &o), PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "carries outcomes") != NULL);
    cr_assert_null(m);
    cr_assert_null(o);
    cr_assert_eq(prime_tagstore_merge_files(paths, 2, PRIME_MERGE_SAME_TAGS, &m, NULL),
                 PRIME_E_MISMATCH);
    prime_tagstore_destroy(w);
    prime_outcomes_destroy(wo);
}

Test(scale, shard_resolve)
{
    uint32_t i = 9, n = 9;
    int32_t src = 0;
    cr_assert_eq(prime_shard_resolve(NULL, &i, &n, &src), PRIME_E_NOT_FOUND);
    cr_assert_eq(prime_shard_resolve("2/5", &i, &n, &src), PRIME_OK);
    cr_assert(i == 2 && n == 5 && src == PRIME_SHARD_FROM_SPEC);
    static const char *const badspec[] = {"5/5", "1/0", "a/2", "1/", "/2", "1", "-1/2",
                                          "1/2x", "1/1000001", ""};
    for (size_t k = 0; k + 1 < sizeof badspec / sizeof badspec[0]; k++)
        cr_assert_neq(prime_shard_resolve(badspec[k], &i, &n, &src), PRIME_OK, "%s",
                      badspec[k]);
    setenv("PMI_RANK", "1", 1);
    setenv("PMI_SIZE", "4", 1);
    cr_assert_eq(prime_shard_resolve(NULL, &i, &n, &src), PRIME_OK);
    cr_assert(i == 1 && n == 4 && src == PRIME_SHARD_FROM_MPI);
    setenv("OMPI_COMM_WORLD_RANK", "2", 1);
    setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
    cr_assert_eq(prime_shard_resolve(NULL, &i, &n, &src), PRIME_OK);
    cr_assert(i == 2 && n == 3 && src == PRIME_SHARD_FROM_MPI);
    setenv("JOB_COMPLETION_INDEX", "6", 1);
    cr_assert_eq(prime_shard_resolve(NULL, &i, &n, &src), PRIME_E_INVALID_ARG);
    cr_assert(strstr(prime_last_error(), "PRIME_SHARD_COUNT") != NULL);
    setenv("PRIME_SHARD_COUNT", "7", 1);
    cr_assert_eq(prime_shard_resolve(NULL, &i, &n, &src), PRIME_OK);
    cr_assert(i == 6 && n == 7 && src == PRIME_SHARD_FROM_JOB_INDEX);
    setenv("SLURM_ARRAY_TASK_ID", "3", 1);
    setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
    cr_assert_eq(prime_shard_resolve(NULL, &i, &n, &src), PRIME_E_RANGE);
    setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
    cr_assert_eq(prime_shard_resolve(NULL, &i, &n, &src), PRIME_OK);
    cr_assert(i == 2 && n == 3 && src == PRIME_SHARD_FROM_SLURM);
    setenv("PRIME_SHARD", "0/1", 1);
    cr_assert_eq(prime_shard_resolve(NULL, &i, &n, &src), PRIME_OK);
    cr_assert(i == 0 && n == 1 && src == PRIME_SHARD_FROM_PRIME_SHARD);
    cr_assert_eq(prime_shard_resolve("1/2", &i, &n, NULL), PRIME_OK);
    cr_assert(i == 1 && n == 2);
    setenv("PRIME_SHARD", "x", 1);
    cr_assert_eq(prime_shard_resolve(NULL, &i, &n, &src), PRIME_E_INVALID_ARG);
    cr_assert(strstr(prime_last_error(), "PRIME_SHARD") != NULL);
}

Test(scale, shard_range_tiles)
{
    for (uint64_t n = 0; n < 40; n++)
        for (uint32_t k = 1; k < 12; k++) {
            uint64_t prev = 0;
            for (uint32_t i = 0; i < k; i++) {
                uint64_t f, e;
                cr_assert_eq(prime_shard_range(n, i, k, &f, &e), PRIME_OK);
                cr_assert(f == prev && e >= f && e - f <= n / k + 1);
                prev = e;
            }
            cr_assert_eq(prev, n);
        }
    uint64_t f, e;
    cr_assert_eq(prime_shard_range(UINT32_MAX, 999999, 1000000, &f, &e), PRIME_OK);
    cr_assert_eq(e, UINT32_MAX);
    cr_assert_eq(prime_shard_range(10, 2, 2, &f, &e), PRIME_E_RANGE);
}

Test(scale, sharded_folder)
{
    dataset *d = malloc(sizeof *d);
    make_dataset(d, 9);
    prime_tagstore *whole = build(d, 0, NI, true);
    const char *names[NI];
    for (uint32_t i = 0; i < NI; i++)
        names[i] = d->name[i];
    uint64_t id = 0;
    cr_assert_eq(prime_shard_list_id(names, NI, &id), PRIME_OK);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tmp_path("s.prmd"));
    for (uint32_t i = 0; i < 7; i++) {
        uint64_t f, e;
        cr_assert_eq(prime_shard_range(NI, i, 7, &f, &e), PRIME_OK);
        prime_tagstore *p = build(d, (uint32_t)f, (uint32_t)e, true);
        if (i == 0) /* a wrong range is refused */
            cr_assert_eq(prime_sharded_store_write(dir, p, i, 7, f, e + 1, NI, id),
                         PRIME_E_RANGE);
        cr_assert_eq(prime_sharded_store_write(dir, p, i, 7, f, e, NI, id), PRIME_OK, "%s",
                     prime_last_error());
        prime_tagstore_destroy(p);
        uint32_t count = 0, complete = 0;
        uint64_t done = 0;
        cr_assert_eq(prime_sharded_store_info(dir, &count, &complete, &done), PRIME_OK);
        cr_assert(count == 7 && complete == i + 1 && done == e);
        prime_tagstore *m = NULL;
        prime_status st = prime_sharded_store_open(dir, &m);
        if (i < 6) {
            cr_assert_eq(st, PRIME_E_NOT_FOUND);
            cr_assert_null(m);
        } else {
            cr_assert_eq(st, PRIME_OK, "%s", prime_last_error());
            assert_same_bytes(m, whole, "sharded folder");
            prime_tagstore_destroy(m);
        }
    }
    /* prime_tagstore_load takes the folder */
    prime_tagstore *l = NULL;
    cr_assert_eq(prime_tagstore_load(dir, &l, NULL), PRIME_OK);
    assert_same_bytes(l, whole, "prime_tagstore_load of a folder");
    prime_tagstore_destroy(l);
    /* a shard file replaced behind the entry's back */
    char prm[600];
    snprintf(prm, sizeof prm, "%s/shard-00002.prm", dir);
    prime_tagstore *other = build(d, 0, 1, true);
    cr_assert_eq(prime_tagstore_save(other, prm), PRIME_OK);
    cr_assert_eq(prime_sharded_store_open(dir, &l), PRIME_E_MISMATCH);
    cr_assert(strstr(prime_last_error(), "checksum") != NULL, "%s", prime_last_error());
    /* another list is refused, and writes nothing */
    cr_assert_eq(prime_sharded_store_write(dir, other, 0, 7, 0, 1, 7, id), PRIME_E_MISMATCH);
    prime_tagstore_destroy(other);
    prime_tagstore_destroy(whole);
    free(d);
}

/* ---- binary outcomes --------------------------------------------------------- */

static prime_outcomes *random_outcomes(uint32_t n, bool binary)
{
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_outcomes_create(n, &o), PRIME_OK);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(prime_outcomes_set(o, i, binary ? (double)(rand() % 2)
                                                     : (double)rand() / RAND_MAX),
                     PRIME_OK);
    return o;
}

Test(scale, binary_outcomes_round_trip)
{
    dataset *d = malloc(sizeof *d);
    make_dataset(d, 11);
    for (uint32_t n = 0; n < 20; n += 3) {
        prime_tagstore *s = build(d, 0, n, false);
        for (int binary = 0; binary < 2; binary++) {
            prime_outcomes *o = random_outcomes(n, binary);
            for (int32_t kind = PRIME_OUTCOMES_AUTO; kind <= PRIME_OUTCOMES_F64; kind++) {
                char path[512];
                snprintf(path, sizeof path, "%s", tmp_path("o.pro"));
                prime_status st = prime_outcomes_save(o, s, kind, path);
                if (kind == PRIME_OUTCOMES_BITS && !binary && n > 0) {
                    cr_assert_eq(st, PRIME_E_RANGE);
                    continue;
                }
                cr_assert_eq(st, PRIME_OK, "%s", prime_last_error());
                prime_outcomes *r = NULL;
                cr_assert_eq(prime_outcomes_load(path, s, &r), PRIME_OK, "%s",
                             prime_last_error());
                cr_assert_eq(prime_outcomes_count(r), n);
                for (uint32_t i = 0; i < n; i++) {
                    double x, y;
                    prime_outcomes_get(o, i, &x);
                    prime_outcomes_get(r, i, &y);
                    if (kind == PRIME_OUTCOMES_FIXED)
                        cr_assert(fabs(x - y) <= 0x1p-33, "fixed %g %g", x, y);
                    else
                        cr_assert_eq(x, y);
                }
                prime_outcomes_destroy(r);
            }
            prime_outcomes_destroy(o);
        }
        prime_tagstore_destroy(s);
    }
    free(d);
}

Test(scale, binary_outcomes_refused)
{
    dataset *d = malloc(sizeof *d);
    make_dataset(d, 12);
    prime_tagstore *s = build(d, 0, 21, false), *s2 = build(d, 1, 22, false);
    prime_tagstore *s3 = build(d, 0, 20, false);
    prime_outcomes *o = random_outcomes(21, true);
    char path[512];
    snprintf(path, sizeof path, "%s", tmp_path("o.pro"));
    cr_assert_eq(prime_outcomes_save(o, s3, PRIME_OUTCOMES_BITS, path), PRIME_E_MISMATCH);
    cr_assert_eq(prime_outcomes_save(o, s, PRIME_OUTCOMES_BITS, path), PRIME_OK);
    prime_outcomes *r = NULL;
    cr_assert_eq(prime_outcomes_load(path, s2, &r), PRIME_E_MISMATCH); /* same count */
    cr_assert(strstr(prime_last_error(), "another tag store") != NULL);
    cr_assert_eq(prime_outcomes_load(path, s3, &r), PRIME_E_MISMATCH);
    cr_assert_null(r);
    size_t n;
    unsigned char *bytes = slurp(path, &n);
    /* every truncation and every single bit flip is refused */
    for (size_t len = 0; len < n; len++) {
        cr_assert_neq(prime_outcomes_load_memory(bytes, len, "t", s, &r), PRIME_OK, "len %zu",
                      len);
        cr_assert_null(r);
    }
    for (size_t bit = 0; bit < n * 8; bit++) {
        bytes[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        prime_status st = prime_outcomes_load_memory(bytes, n, "t", s, &r);
        cr_assert_neq(st, PRIME_OK, "bit %zu", bit);
        cr_assert_null(r);
        bytes[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    cr_assert_eq(prime_outcomes_load_memory(bytes, n, "t", s, &r), PRIME_OK);
    prime_outcomes_destroy(r);
    free(bytes);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    prime_tagstore_destroy(s2);
    prime_tagstore_destroy(s3);
    free(d);
}

/* ---- relative minimum size -------------------------------------------------- */

/* The modes of class `cls` in r, as text lines, sorted as the result is. */
static char *modes_of(const prime_result *r, const char *cls)
{
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(cap, 1);
    for (uint64_t i = 0; i < prime_result_mode_count(r); i++) {
        if (strcmp(prime_result_mode_class_name(r, i), cls) != 0)
            continue;
        uint64_t size;
        double drop;
        prime_result_mode_info(r, i, NULL, NULL, &size, NULL, NULL, NULL, &drop);
        len += (size_t)snprintf(out + len, cap - len, "%s %llu %.17g\n",
                                prime_result_mode_description(r, i), (unsigned long long)size,
                                drop);
        cr_assert_lt(len, cap - 1);
    }
    return out;
}

Test(scale, relative_min_size)
{
    dataset *d = malloc(sizeof *d);
    make_dataset(d, 21);
    prime_tagstore *s = build(d, 0, NI, false);
    prime_outcomes *o = random_outcomes(NI, true);
    static const double shares[] = {0.05, 0.1, 0.2};
    for (size_t k = 0; k < 3; k++) {
        prime_config *cfg = NULL;
        cr_assert_eq(prime_config_create(&cfg), PRIME_OK);
        char text[32];
        snprintf(text, sizeof text, "%g%%", shares[k] * 100);
        cr_assert_eq(prime_config_set_by_name(cfg, "min_size", text), PRIME_OK);
        double got = 0;
        cr_assert_eq(prime_config_get_double(cfg, PRIME_PARAM_MIN_SIZE_SHARE, &got), PRIME_OK);
        cr_assert(fabs(got - shares[k]) < 1e-15);
        prime_config_set_double(cfg, PRIME_PARAM_MIN_DROP, 0.15);
        prime_config_set_int(cfg, PRIME_PARAM_THREADS, 2);
        prime_result *rel = NULL;
        cr_assert_eq(prime_search(s, o, cfg, NULL, NULL, &rel), PRIME_OK);
        cr_assert_gt(prime_result_mode_count(rel), 0, "share %g finds nothing: a vacuous test",
                     shares[k]);
        /* each class: the modes of an absolute search at ceil(share * n) */
        for (uint32_t c = 0; c < prime_tagstore_class_count(s); c++) {
            uint32_t n = prime_tagstore_class_image_count(s, c);
            int64_t want = (int64_t)ceil(shares[k] * n - 1e-9);
            prime_config *abs_cfg = NULL;
            prime_config_clone(cfg, &abs_cfg);
            prime_config_set_double(abs_cfg, PRIME_PARAM_MIN_SIZE_SHARE, 0);
            prime_config_set_int(abs_cfg, PRIME_PARAM_MIN_SIZE, want < 1 ? 1 : want);
            prime_result *ab = NULL;
            cr_assert_eq(prime_search(s, o, abs_cfg, NULL, NULL, &ab), PRIME_OK);
            const char *cn = prime_tagstore_class_name(s, c);
            char *x = modes_of(rel, cn), *y = modes_of(ab, cn);
            cr_assert_str_eq(x, y, "class %s share %g", cn, shares[k]);
            free(x);
            free(y);
            prime_result_destroy(ab);
            prime_config_destroy(abs_cfg);
        }
        /* eval on the same split: every mode still holds at its class's size,
           also from the JSON (which records the share) */
        prime_eval *ev = NULL;
        uint64_t still = 0;
        cr_assert_eq(prime_eval_create(rel, s, o, &ev), PRIME_OK);
        cr_assert_eq(prime_eval_summary(ev, NULL, NULL, NULL, &still), PRIME_OK);
        cr_assert_eq(still, prime_result_mode_count(rel));
        prime_eval_destroy(ev);
        /* the JSON records the share */
        size_t need = 0;
        prime_result_render(rel, PRIME_FORMAT_JSON, NULL, 0, &need);
        char *json = malloc(need + 1);
        cr_assert_eq(prime_result_render(rel, PRIME_FORMAT_JSON, json, need + 1, &need), PRIME_OK);
        cr_assert(strstr(json, "\"min_size_share\": ") != NULL);
        cr_assert_eq(prime_eval_load_memory(json, need, "r.json", s, o, &ev), PRIME_OK, "%s",
                     prime_last_error());
        cr_assert_eq(prime_eval_summary(ev, NULL, NULL, NULL, &still), PRIME_OK);
        cr_assert_eq(still, prime_result_mode_count(rel));
        prime_eval_destroy(ev);
        free(json);
        prime_result_destroy(rel);
        /* "30" turns the share off again */
        cr_assert_eq(prime_config_set_by_name(cfg, "min-size", "30"), PRIME_OK);
        prime_config_get_double(cfg, PRIME_PARAM_MIN_SIZE_SHARE, &got);
        cr_assert_eq(got, 0.0);
        prime_config_destroy(cfg);
    }
    prime_config *cfg = NULL;
    prime_config_create(&cfg);
    static const char *const bad[] = {"0%", "101%", "x%", "%", "-1%"};
    for (size_t k = 0; k < 5; k++)
        cr_assert_eq(prime_config_set_by_name(cfg, "min_size", bad[k]), PRIME_E_INVALID_ARG,
                     "%s", bad[k]);
    cr_assert_eq(prime_config_set_double(cfg, PRIME_PARAM_MIN_SIZE_SHARE, 1.5), PRIME_E_RANGE);
    prime_config_destroy(cfg);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    free(d);
}
