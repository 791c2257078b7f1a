/* The binary tag store file (lib/store/store_io.c, docs/binary-format.md): round
 * trips of random stores, and every kind of damaged or hostile file. The
 * layout constants below are copied from the document on purpose: a change
 * of the format must show up here. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* ---- the documented layout ----------------------------------------------- */

#define HEADER_SIZE 208
#define H_VERSION 8
#define H_HEADER_SIZE 12
#define H_FILE_SIZE 16
#define H_FLAGS 24
#define H_N_CLASSES 28
#define H_N_TAGS 32
#define H_N_IMAGES 36
#define H_N_REFS 40
#define H_SECTIONS 48
#define H_PAYLOAD_SUM 192
#define H_HEADER_SUM 200
#define FLAG_TAG_IDS16 1u
#define FLAG_TAG_OFF32 2u
#define SEED_HEADER UINT64_C(0x5052494d45484452)
#define SEED_PAYLOAD UINT64_C(0x5052494d45444154)

enum {
    S_CLASS_NAME_OFF,
    S_CLASS_NAME_BYTES,
    S_TAG_NAME_OFF,
    S_TAG_NAME_BYTES,
    S_IMAGE_NAME_OFF,
    S_IMAGE_NAME_BYTES,
    S_IMAGE_CLASS,
    S_IMAGE_TAG_OFF,
    S_IMAGE_TAG_IDS,
    N_SECTIONS
};

static const unsigned char MAGIC[8] = {0x89, 'P', 'R', 'M', '\r', '\n', 0x1a, '\n'};

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void wr16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void wr64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t sec_off(const unsigned char *f, int k)
{
    return rd64(f + H_SECTIONS + 16 * k);
}

static uint64_t sec_size(const unsigned char *f, int k)
{
    return rd64(f + H_SECTIONS + 16 * k + 8);
}

/* The checksum as docs/binary-format.md defines it, step by step, written
 * here from the document and not from the library's code: a change of the
 * library's hash fails every test that fixes checksums with it. */
static uint64_t doc_rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t doc_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t doc_checksum(const unsigned char *p, size_t n, uint64_t seed)
{
    const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;
    uint64_t lane[4] = {seed + P1, seed ^ P2, seed - P1, ~seed};
    size_t i = 0;
    for (; n - i >= 32; i += 32)
        for (int k = 0; k < 4; k++)
            lane[k] = doc_rotl(lane[k] + doc_le64(p + i + 8 * k) * P2, 31) * P1;
    uint64_t h = doc_rotl(lane[0], 1) + doc_rotl(lane[1], 7) + doc_rotl(lane[2], 12) +
                 doc_rotl(lane[3], 18) + (uint64_t)n;
    for (; n - i >= 8; i += 8)
        h = doc_rotl(h ^ (doc_rotl(doc_le64(p + i) * P2, 31) * P1), 27) * P1 + P2;
    for (; i < n; i++)
        h = doc_rotl(h ^ (p[i] * P1), 11) * P2;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

/* Recompute both checksums after tampering, so that the content checks
 * (not the checksums) must catch the damage. */
static void fix_sums(unsigned char *f, size_t n)
{
    wr64(f + H_PAYLOAD_SUM, doc_checksum(f + HEADER_SIZE, n - HEADER_SIZE, SEED_PAYLOAD));
    wr64(f + H_HEADER_SUM, doc_checksum(f, H_HEADER_SUM, SEED_HEADER));
}

/* ---- helpers ---------------------------------------------------------------- */

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/prime_store_io_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void cleanup_tmpdir(void)
{
    remove_tree(tmpdir);
}

static char *tmp_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

/* Number of entries in a folder (without . and ..). */
static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    rewind(f);
    unsigned char *d = malloc((size_t)sz + 1);
    cr_assert_not_null(d);
    cr_assert_eq(fread(d, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return d;
}

static void spit(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    if (n > 0)
        cr_assert_eq(fwrite(d, 1, n, f), n);
    fclose(f);
}

static uint64_t rng = 0x243F6A8885A308D3ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)(((rng * 0x2545F4914F6CDD1Dull) >> 32) % n);
}

/* Pieces of names: ASCII, punctuation CSV and JSON care about, control
 * bytes, 2-, 3- and 4-byte UTF-8. */
static const char *const PIECES[] = {
    "a", "Z", "0", " ", ",", "\"", "'", "\\", "\n", "\r", "\t", "\x01", "\x7f",
    "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\xa6\x8a", "{", "}", "%s", "%n",
};

static void random_name(char *buf, size_t cap, bool allow_bar)
{
    size_t len = 0;
    uint32_t pieces = 1 + rnd(12);
    buf[0] = '\0';
    for (uint32_t i = 0; i < pieces; i++) {
        const char *p = (allow_bar && rnd(10) == 0)
                            ? "|"
                            : PIECES[rnd((uint32_t)(sizeof PIECES / sizeof PIECES[0]))];
        size_t pl = strlen(p);
        if (len + pl + 1 > cap)
            break;
        memcpy(buf + len, p, pl + 1);
        len += pl;
    }
}

/* A random frozen store; odd names, unnamed images, empty tag lists, unused
 * tags and classes, a 255-byte tag. */
static prime_tagstore *random_store(uint32_t n_images, uint32_t n_tags_vocab,
                                    uint32_t n_classes)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    char name[300];
    uint32_t *tag_id = malloc(sizeof(uint32_t) * (n_tags_vocab + 1));
    uint32_t *class_id = malloc(sizeof(uint32_t) * (n_classes + 1));
    for (uint32_t t = 0; t < n_tags_vocab; t++) {
        if (t == 3) {
            memset(name, 'x', 255);
            name[255] = '\0';
        } else {
            random_name(name, 200, false);
        }
        cr_assert_eq(prime_tagstore_intern_tag(s, name, &tag_id[t]), PRIME_OK, "%s",
                     prime_last_error());
    }
    for (uint32_t c = 0; c < n_classes; c++) {
        random_name(name, 200, true);
        cr_assert_eq(prime_tagstore_intern_class(s, name, &class_id[c]), PRIME_OK);
    }
    uint32_t tags[40];
    for (uint32_t i = 0; i < n_images; i++) {
        uint32_t nt = rnd(4) == 0 ? 0 : rnd(40);
        for (uint32_t k = 0; k < nt; k++)
            tags[k] = tag_id[rnd(n_tags_vocab)];
        const char *img = NULL;
        if (rnd(5) != 0) {
            random_name(name, 200, true);
            size_t l = strlen(name);
            snprintf(name + l, sizeof name - l, "#%u", i);
            img = name;
        } else if (rnd(2) == 0) {
            img = "";
        }
        /* the last classes stay without images */
        uint32_t c = class_id[rnd(n_classes > 2 ? n_classes - 2 : n_classes)];
        cr_assert_eq(prime_tagstore_add_image(s, img, c, tags, nt, NULL), PRIME_OK, "%s",
                     prime_last_error());
    }
    free(tag_id);
    free(class_id);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    return s;
}

/* Outcomes "all correct" for n images, saved as bits to opath against another
 * random store (n images, tags, classes): a file that belongs to a different
 * store than the test's. Returned for saving against the test's own store
 * of n images. */
static prime_outcomes *save_foreign_bits(uint32_t n, uint32_t tags, uint32_t classes,
                                         const char *opath)
{
    prime_tagstore *another = random_store(n, tags, classes);
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_outcomes_create(n, &o), PRIME_OK);
    for (uint32_t i = 0; i < n; i++)
        prime_outcomes_set(o, i, 1.0);
    cr_assert_eq(prime_outcomes_save(o, another, PRIME_OUTCOMES_BITS, opath), PRIME_OK);
    prime_tagstore_destroy(another);
    return o;
}

/* Every accessor gives the same answer on both stores. */
static void assert_same(const prime_tagstore *a, const prime_tagstore *b)
{
    cr_assert_eq(prime_tagstore_is_frozen(b), 1);
    uint32_t ni = prime_tagstore_image_count(a), nt = prime_tagstore_tag_count(a),
             nc = prime_tagstore_class_count(a);
    cr_assert_eq(prime_tagstore_image_count(b), ni);
    cr_assert_eq(prime_tagstore_tag_count(b), nt);
    cr_assert_eq(prime_tagstore_class_count(b), nc);
    cr_assert_eq(prime_tagstore_tag_ref_count(b), prime_tagstore_tag_ref_count(a));
    uint32_t id;
    for (uint32_t t = 0; t < nt; t++) {
        const char *na = prime_tagstore_tag_name(a, t), *nb = prime_tagstore_tag_name(b, t);
        cr_assert_str_eq(nb, na);
        cr_assert_eq(prime_tagstore_find_tag(b, na, &id), PRIME_OK);
        cr_assert_eq(id, t);
        uint32_t ca, cb;
        cr_assert_eq(prime_tagstore_tag_count_in_class(a, PRIME_NONE, t, &ca), PRIME_OK);
        cr_assert_eq(prime_tagstore_tag_count_in_class(b, PRIME_NONE, t, &cb), PRIME_OK);
        cr_assert_eq(ca, cb);
    }
    cr_assert_null(prime_tagstore_tag_name(b, nt));
    for (uint32_t c = 0; c < nc; c++) {
        const char *na = prime_tagstore_class_name(a, c), *nb = prime_tagstore_class_name(b, c);
        cr_assert_str_eq(nb, na);
        cr_assert_eq(prime_tagstore_find_class(b, na, &id), PRIME_OK);
        cr_assert_eq(id, c);
        cr_assert_eq(prime_tagstore_class_image_count(b, c),
                     prime_tagstore_class_image_count(a, c));
        if (nt > 0) {
            uint32_t ca, cb, t = c % nt;
            cr_assert_eq(prime_tagstore_tag_count_in_class(a, c, t, &ca), PRIME_OK);
            cr_assert_eq(prime_tagstore_tag_count_in_class(b, c, t, &cb), PRIME_OK);
            cr_assert_eq(ca, cb);
        }
    }
    cr_assert_null(prime_tagstore_class_name(b, nc));
    cr_assert_eq(prime_tagstore_find_tag(b, "no such tag \xe2\x88\x85", &id), PRIME_E_NOT_FOUND);
    uint32_t ta[300], tb[300], na_, nb_;
    for (uint32_t i = 0; i < ni; i++) {
        const char *na = prime_tagstore_image_name(a, i), *nb = prime_tagstore_image_name(b, i);
        cr_assert_str_eq(nb, na);
        if (na[0] != '\0') {
            cr_assert_eq(prime_tagstore_find_image(b, na, &id), PRIME_OK);
            cr_assert_eq(id, i);
        }
        cr_assert_eq(prime_tagstore_image_class(b, i), prime_tagstore_image_class(a, i));
        cr_assert_eq(prime_tagstore_image_tags(a, i, ta, 300, &na_), PRIME_OK);
        cr_assert_eq(prime_tagstore_image_tags(b, i, tb, 300, &nb_), PRIME_OK);
        cr_assert_eq(nb_, na_);
        for (uint32_t k = 0; k < na_; k++)
            cr_assert_eq(tb[k], ta[k]);
    }
    cr_assert_null(prime_tagstore_image_name(b, ni));
    cr_assert_eq(prime_tagstore_image_class(b, ni), PRIME_NONE);
    cr_assert_eq(prime_tagstore_find_image(b, "", &id), PRIME_E_NOT_FOUND);
}

/* A small valid file in memory (caller frees). */
static unsigned char *sample_file(size_t *n)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    const char *t1[] = {"dog", "grass", "white"};
    const char *t2[] = {"snow", "white"};
    const char *t3[] = {"zoo", "\xc3\xa9t\xc3\xa9"};
    cr_assert_eq(prime_tagstore_add_image_names(s, "img1.jpg", "fox", t1, 3, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_image_names(s, "img2.jpg", "fox", t2, 2, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_image_names(s, "", "ape", t3, 2, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_image_names(s, "img4.jpg", "ape", NULL, 0, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_image_names(s, "img5.jpg", "ape", t1, 3, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    cr_assert_eq(prime_tagstore_save(s, tmp_path("sample.prm")), PRIME_OK, "%s",
                 prime_last_error());
    prime_tagstore_destroy(s);
    unsigned char *d = slurp(tmp_path("sample.prm"), n);
    unlink(tmp_path("sample.prm"));
    return d;
}

/* open_memory must fail with PRIME_E_FORMAT and a message "<memory>: ..."
 * that contains `needle`. */
static void expect_format(const unsigned char *d, size_t n, const char *needle)
{
    prime_tagstore *s = (prime_tagstore *)(uintptr_t)1;
    prime_clear_error();
    prime_status st = prime_tagstore_open_memory(d, n, &s);
    cr_assert_eq(st, PRIME_E_FORMAT, "status %d (%s) for a file that should fail with '%s'",
                 st, prime_status_name(st), needle);
    cr_assert_null(s);
    const char *msg = prime_last_error();
    cr_assert_eq(strncmp(msg, "<memory>: ", 10), 0, "message: %s", msg);
    if (needle != NULL)
        cr_assert_not_null(strstr(msg, needle), "message '%s' lacks '%s'", msg, needle);
}

/* Copy, let `edit` change it, fix the checksums, expect failure. */
#define TAMPER(needle, ...)                                                                \
    do {                                                                                   \
        unsigned char *f = malloc(n);                                                      \
        memcpy(f, orig, n);                                                                \
        __VA_ARGS__;                                                                       \
        fix_sums(f, n);                                                                    \
        expect_format(f, n, needle);                                                       \
        free(f);                                                                           \
    } while (0)

TestSuite(store_io, .init = make_tmpdir, .fini = cleanup_tmpdir);

/* ---- round trips ------------------------------------------------------------ */

Test(store_io, round_trip_random_stores)
{
    static const uint32_t shapes[][3] = {
        {0, 0, 0}, {1, 1, 1}, {7, 5, 3}, {60, 30, 6}, {500, 200, 20}, {2000, 700, 50},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        prime_tagstore *a = NULL, *b = NULL, *c = NULL;
        if (shapes[k][0] == 0) {
            cr_assert_eq(prime_tagstore_create(&a), PRIME_OK);
            cr_assert_eq(prime_tagstore_freeze(a), PRIME_OK);
        } else {
            a = random_store(shapes[k][0], shapes[k][1], shapes[k][2]);
        }
        const char *p = tmp_path("rt.prm");
        cr_assert_eq(prime_tagstore_save(a, p), PRIME_OK, "%s", prime_last_error());
        cr_assert_eq(prime_tagstore_open(p, &b), PRIME_OK, "%s", prime_last_error());
        assert_same(a, b);

        /* the bytes: magic, 8-byte size, and open_memory gives the same store */
        size_t n;
        unsigned char *d = slurp(p, &n);
        cr_assert(prime__is_binary_store(d, n));
        cr_assert_eq(memcmp(d, MAGIC, 8), 0);
        cr_assert_eq(n % 8, 0);
        cr_assert_eq(rd64(d + H_FILE_SIZE), n);
        cr_assert_eq(rd32(d + H_N_IMAGES), shapes[k][0]);
        cr_assert_eq(prime_tagstore_open_memory(d, n, &c), PRIME_OK, "%s", prime_last_error());
        assert_same(a, c);

        /* saving an opened store writes the same bytes */
        const char *p2 = tmp_path("rt2.prm");
        cr_assert_eq(prime_tagstore_save(b, p2), PRIME_OK, "%s", prime_last_error());
        size_t n2;
        unsigned char *d2 = slurp(p2, &n2);
        cr_assert_eq(n2, n);
        cr_assert_eq(memcmp(d, d2, n), 0);

        free(d);
        free(d2);
        prime_tagstore_destroy(a);
        prime_tagstore_destroy(b);
        prime_tagstore_destroy(c);
    }
    /* nothing but the two files is left in the folder */
    cr_assert_eq(dir_entries(tmpdir), 2);
}

Test(store_io, opened_store_is_read_only_and_searchable_metadata)
{
    size_t n;
    unsigned char *d = sample_file(&n);
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_open_memory(d, n, &s), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_image_count(s), 5);
    cr_assert_eq(prime_tagstore_class_count(s), 2);
    cr_assert_eq(prime_tagstore_tag_count(s), 6);
    cr_assert_eq(prime_tagstore_tag_ref_count(s), 10);
    cr_assert_str_eq(prime_tagstore_image_name(s, 2), "");
    uint32_t id;
    cr_assert_eq(prime_tagstore_find_tag(s, "\xc3\xa9t\xc3\xa9", &id), PRIME_OK);
    cr_assert_eq(id, 5);
    cr_assert_eq(prime_tagstore_find_class(s, "ape", &id), PRIME_OK);
    cr_assert_eq(id, 1);
    cr_assert_eq(prime_tagstore_class_image_count(s, 1), 3);
    uint32_t cnt;
    cr_assert_eq(prime_tagstore_tag_count_in_class(s, 1, 2, &cnt), PRIME_OK); /* white */
    cr_assert_eq(cnt, 1);
    cr_assert_eq(prime_tagstore_intern_tag(s, "new", &id), PRIME_E_STATE);
    cr_assert_eq(prime_tagstore_add_image(s, "x", 0, NULL, 0, NULL), PRIME_E_STATE);
    /* the caller's buffer may go away: open_memory copies */
    memset(d, 0, n);
    free(d);
    cr_assert_str_eq(prime_tagstore_tag_name(s, 0), "dog");
    prime_tagstore_destroy(s);
}

Test(store_io, open_memory_accepts_unaligned_buffers)
{
    size_t n;
    unsigned char *d = sample_file(&n);
    unsigned char *u = malloc(n + 3);
    memcpy(u + 3, d, n);
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_open_memory(u + 3, n, &s), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_image_count(s), 5);
    prime_tagstore_destroy(s);
    free(u);
    free(d);
}

Test(store_io, is_binary_store)
{
    size_t n;
    unsigned char *d = sample_file(&n);
    cr_assert(prime__is_binary_store(d, n));
    cr_assert(prime__is_binary_store(d, 8));
    cr_assert_not(prime__is_binary_store(d, 7));
    cr_assert_not(prime__is_binary_store(NULL, 0));
    cr_assert_not(prime__is_binary_store("image,class,tags\n", 17));
    cr_assert_not(prime__is_binary_store("{\"image\":1}\n", 12));
    d[1] = 'p';
    cr_assert_not(prime__is_binary_store(d, n));
    free(d);
}

/* ---- errors of the API -------------------------------------------------------- */

Test(store_io, save_unfrozen_is_a_state_error)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    const char *t[] = {"a"};
    cr_assert_eq(prime_tagstore_add_image_names(s, "i", "c", t, 1, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_save(s, tmp_path("x.prm")), PRIME_E_STATE);
    cr_assert_not_null(strstr(prime_last_error(), "frozen"), "%s", prime_last_error());
    cr_assert_eq(dir_entries(tmpdir), 0);
    cr_assert_eq(prime_tagstore_save(NULL, tmp_path("x.prm")), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    cr_assert_eq(prime_tagstore_save(s, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_save(s, ""), PRIME_E_INVALID_ARG);
    prime_tagstore_destroy(s);
}

Test(store_io, save_to_unwritable_path_leaves_nothing)
{
    prime_tagstore *s = random_store(50, 20, 4);
    /* a folder that does not exist */
    cr_assert_eq(prime_tagstore_save(s, tmp_path("missing/x.prm")), PRIME_E_IO);
    cr_assert_not_null(strstr(prime_last_error(), "missing/x.prm"), "%s", prime_last_error());
    /* a path below a regular file */
    spit(tmp_path("file"), "x", 1);
    cr_assert_eq(prime_tagstore_save(s, tmp_path("file/x.prm")), PRIME_E_IO);
    /* an existing folder as the target: the temporary file is written, the
     * rename fails, and the temporary file must be gone */
    cr_assert_eq(mkdir(tmp_path("dir"), 0755), 0);
    spit(tmp_path("dir/keep"), "x", 1);
    cr_assert_eq(prime_tagstore_save(s, tmp_path("dir")), PRIME_E_IO);
    cr_assert_eq(dir_entries(tmpdir), 2, "a temporary file was left behind");
    cr_assert_eq(dir_entries(tmp_path("dir")), 1);
    /* an existing file is replaced whole */
    spit(tmp_path("old.prm"), "old contents", 12);
    cr_assert_eq(prime_tagstore_save(s, tmp_path("old.prm")), PRIME_OK);
    prime_tagstore *b = NULL;
    cr_assert_eq(prime_tagstore_open(tmp_path("old.prm"), &b), PRIME_OK, "%s",
                 prime_last_error());
    assert_same(s, b);
    prime_tagstore_destroy(b);
    prime_tagstore_destroy(s);
}

Test(store_io, open_errors_of_the_file_system)
{
    prime_tagstore *s = (prime_tagstore *)(uintptr_t)1;
    cr_assert_eq(prime_tagstore_open(tmp_path("nope.prm"), &s), PRIME_E_IO);
    cr_assert_null(s);
    cr_assert_not_null(strstr(prime_last_error(), "nope.prm"), "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_open(NULL, &s), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_open(tmp_path("nope.prm"), NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_open_memory(NULL, 10, &s), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_open_memory("x", 1, NULL), PRIME_E_INVALID_ARG);

    /* an empty file */
    spit(tmp_path("empty.prm"), "", 0);
    cr_assert_eq(prime_tagstore_open(tmp_path("empty.prm"), &s), PRIME_E_FORMAT);
    cr_assert_null(s);
    char want[600];
    snprintf(want, sizeof want, "%s: empty file", tmp_path("empty.prm"));
    cr_assert_eq(strncmp(prime_last_error(), want, strlen(want)), 0, "%s", prime_last_error());
    expect_format((const unsigned char *)"", 0, "empty file");
    expect_format(NULL, 0, "empty file");

    /* a text file: wrong magic, with the path in the message */
    spit(tmp_path("tags.csv"), "image,class,tags\na,b,c\n", 23);
    cr_assert_eq(prime_tagstore_open(tmp_path("tags.csv"), &s), PRIME_E_FORMAT);
    cr_assert_not_null(strstr(prime_last_error(), "tags.csv: not a libprime binary tag store"),
                       "%s", prime_last_error());
}

/* ---- damaged files ------------------------------------------------------------ */

Test(store_io, truncated_at_every_length)
{
    size_t n;
    unsigned char *d = sample_file(&n);
    for (size_t len = 0; len < n; len++) {
        const char *needle = len == 0 ? "empty" : "truncated";
        expect_format(d, len, needle);
    }
    /* and through a real file */
    spit(tmp_path("cut.prm"), d, n - 8);
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_open(tmp_path("cut.prm"), &s), PRIME_E_FORMAT);
    cr_assert_not_null(strstr(prime_last_error(), "cut.prm: truncated"), "%s",
                       prime_last_error());
    free(d);
}

Test(store_io, trailing_bytes)
{
    size_t n;
    unsigned char *d = sample_file(&n);
    unsigned char *e = calloc(1, n + 9);
    memcpy(e, d, n);
    expect_format(e, n + 1, "unexpected bytes after the end");
    expect_format(e, n + 8, "unexpected bytes after the end");
    free(e);
    free(d);
}

Test(store_io, every_flipped_bit_is_detected)
{
    size_t n;
    unsigned char *d = sample_file(&n);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            d[i] ^= (unsigned char)(1u << bit);
            expect_format(d, n, NULL);
            d[i] ^= (unsigned char)(1u << bit);
        }
    }
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_open_memory(d, n, &s), PRIME_OK);
    prime_tagstore_destroy(s);
    /* a flip in the payload names the checksum */
    uint64_t ti = sec_off(d, S_IMAGE_TAG_IDS);
    d[ti] ^= 0x40;
    expect_format(d, n, "checksum mismatch");
    d[ti] ^= 0x40;
    d[HEADER_SIZE - 1] ^= 1;
    expect_format(d, n, "header checksum mismatch");
    free(d);
}

Test(store_io, every_header_field_tampered_without_fixing_checksums)
{
    size_t n;
    unsigned char *d = sample_file(&n);
    /* every 4-byte word of the header, two different ways */
    for (size_t off = 0; off < HEADER_SIZE; off += 4) {
        uint32_t v = rd32(d + off);
        wr32(d + off, v + 1);
        expect_format(d, n, NULL);
        wr32(d + off, v ^ 0x80000000u);
        expect_format(d, n, NULL);
        wr32(d + off, v);
    }
    free(d);
}

Test(store_io, magic_and_text_mode_damage)
{
    size_t n;
    unsigned char *d = sample_file(&n);
    unsigned char *f = malloc(n + 1);

    memcpy(f, d, n);
    f[0] = 'P';
    expect_format(f, n, "wrong magic");
    /* CR LF -> LF: the file loses one byte */
    memcpy(f, d, 4);
    memcpy(f + 4, d + 5, n - 5);
    expect_format(f, n - 1, "text-mode");
    /* LF -> CR LF, by a converter that leaves CR LF alone */
    memcpy(f, d, 7);
    f[7] = '\r';
    memcpy(f + 8, d + 7, n - 7);
    expect_format(f, n + 1, "text-mode");
    /* LF -> CR LF, by a converter that does not */
    memcpy(f, d, 5);
    f[5] = '\r';
    memcpy(f + 6, d + 5, n - 5);
    expect_format(f, n + 1, "text-mode");
    /* 7-bit transfer */
    memcpy(f, d, n);
    f[0] = 0x09;
    expect_format(f, n, "7-bit");
    free(f);
    free(d);
}

Test(store_io, versions)
{
    size_t n;
    unsigned char *orig = sample_file(&n);
    cr_assert_eq(rd32(orig + H_VERSION), 1);
    /* newer: a clear message, whether or not the checksums fit */
    unsigned char *g = malloc(n);
    memcpy(g, orig, n);
    wr32(g + H_VERSION, 2);
    expect_format(g, n, "version 2 is newer");
    fix_sums(g, n);
    expect_format(g, n, "version 2 is newer");
    wr32(g + H_VERSION, 0xFFFFFFFFu);
    expect_format(g, n, "is newer");
    free(g);
    TAMPER("version 0", wr32(f + H_VERSION, 0));
    /* a newer file shorter than our header still says "newer" */
    unsigned char small[16];
    memcpy(small, orig, 16);
    wr32(small + H_VERSION, 7);
    expect_format(small, 16, "newer");
    free(orig);
}

Test(store_io, header_fields_with_valid_checksums)
{
    size_t n;
    unsigned char *orig = sample_file(&n);
    TAMPER("header size", wr32(f + H_HEADER_SIZE, 216));
    TAMPER("header size", wr32(f + H_HEADER_SIZE, 0));
    TAMPER("truncated", wr64(f + H_FILE_SIZE, n + 8));
    TAMPER("unexpected bytes", wr64(f + H_FILE_SIZE, n - 8));
    TAMPER("unknown flags 0x00000004", wr32(f + H_FLAGS, rd32(f + H_FLAGS) | 4));
    TAMPER("unknown flags 0x80000000", wr32(f + H_FLAGS, rd32(f + H_FLAGS) | 0x80000000u));
    TAMPER("2^32-1", wr32(f + H_N_IMAGES, 0xFFFFFFFFu));
    TAMPER("2^32-1", wr32(f + H_N_TAGS, 0xFFFFFFFFu));
    TAMPER("2^32-1", wr32(f + H_N_CLASSES, 0xFFFFFFFFu));
    TAMPER("counts say", wr32(f + H_N_IMAGES, 0xFFFFFFFEu));
    TAMPER("inconsistent widths", wr32(f + H_N_TAGS, 1000000));
    TAMPER("counts say", wr32(f + H_N_TAGS, 1000));
    TAMPER("counts say", wr32(f + H_N_CLASSES, 3));
    TAMPER("counts say", wr32(f + H_N_IMAGES, 4));
    TAMPER("impossible tag reference count", wr64(f + H_N_REFS, UINT64_MAX));
    TAMPER("inconsistent widths", wr64(f + H_N_REFS, UINT64_MAX / 8));
    TAMPER("inconsistent widths", wr64(f + H_N_REFS, (uint64_t)1 << 32));
    TAMPER("counts say", wr64(f + H_N_REFS, UINT32_MAX));
    TAMPER("counts say", wr64(f + H_N_REFS, UINT64_MAX / 8);
           wr32(f + H_FLAGS, FLAG_TAG_IDS16));
    TAMPER("counts say", wr64(f + H_N_REFS, 11));
    for (int k = 0; k < N_SECTIONS; k++) {
        TAMPER("starts at byte", wr64(f + H_SECTIONS + 16 * k, sec_off(f, k) + 8));
        TAMPER("starts at byte", wr64(f + H_SECTIONS + 16 * k, UINT64_MAX - 3));
        TAMPER("runs past the end", wr64(f + H_SECTIONS + 16 * k + 8, UINT64_MAX));
        TAMPER("runs past the end", wr64(f + H_SECTIONS + 16 * k + 8, n));
        TAMPER(NULL, wr64(f + H_SECTIONS + 16 * k + 8, sec_size(f, k) + 8));
        TAMPER(NULL, wr64(f + H_SECTIONS + 16 * k + 8, sec_size(f, k) - 1));
    }
    free(orig);
}

Test(store_io, content_with_valid_checksums)
{
    size_t n;
    unsigned char *orig = sample_file(&n);
    /* sample: classes fox, ape; tags dog grass white snow zoo été;
     * images img1.jpg (fox: 0 1 2), img2.jpg (fox: 2 3), "" (ape: 4 5),
     * img4.jpg (ape: none), img5.jpg (ape: 0 1 2) */
    const uint64_t ic = sec_off(orig, S_IMAGE_CLASS);
    const uint64_t to = sec_off(orig, S_IMAGE_TAG_OFF);
    const uint64_t ti = sec_off(orig, S_IMAGE_TAG_IDS);
    const uint64_t cno = sec_off(orig, S_CLASS_NAME_OFF);
    const uint64_t cnb = sec_off(orig, S_CLASS_NAME_BYTES);
    const uint64_t tno = sec_off(orig, S_TAG_NAME_OFF);
    const uint64_t tnb = sec_off(orig, S_TAG_NAME_BYTES);
    const uint64_t ino = sec_off(orig, S_IMAGE_NAME_OFF);
    const uint64_t inb = sec_off(orig, S_IMAGE_NAME_BYTES);
    /* 6 tags, 10 references: u16 ids and u32 offsets */
    cr_assert_eq(rd32(orig + H_FLAGS), FLAG_TAG_IDS16 | FLAG_TAG_OFF32);
    cr_assert_eq(sec_size(orig, S_IMAGE_TAG_IDS), 10 * 2);
    cr_assert_eq(sec_size(orig, S_IMAGE_TAG_OFF), 6 * 4);
    cr_assert_eq(rd16(orig + ti), 0);
    cr_assert_eq(rd16(orig + ti + 2), 1);
    cr_assert_eq(rd16(orig + ti + 2 * 9), 2);
    cr_assert_eq(rd32(orig + to + 4 * 5), 10);
    cr_assert_eq(memcmp(orig + cnb, "fox\0ape\0", 8), 0);
    cr_assert_eq(memcmp(orig + tnb, "dog\0grass\0white\0", 16), 0);
    cr_assert_eq(memcmp(orig + inb, "img1.jpg\0img2.jpg\0\0", 19), 0);

    /* ids */
    TAMPER("tag id 6 is out of range", wr16(f + ti + 4, 6));
    TAMPER("out of range", wr16(f + ti + 4, 0xFFFF));
    TAMPER("not strictly increasing", wr16(f + ti, 1); wr16(f + ti + 2, 0));
    TAMPER("not strictly increasing", wr16(f + ti + 2, 0)); /* duplicate tag */
    TAMPER("image 4: tag ids are not strictly increasing", wr16(f + ti + 2 * 9, 1));
    TAMPER("class id 2 is out of range", wr32(f + ic + 4, 2));
    TAMPER("out of range", wr32(f + ic, 0xFFFFFFFFu));
    /* image tag offsets */
    TAMPER("do not start at 0", wr32(f + to, 1));
    TAMPER("tag offsets end at", wr32(f + to + 4 * 5, 9));
    TAMPER("image 1: tag offsets are out of order", wr32(f + to + 4, 2);
           wr32(f + to + 8, 1)); /* 0, 2, 1, 7, ... */
    TAMPER("out of order", wr32(f + to + 4, 99));
    TAMPER("out of order", wr32(f + to + 4, UINT32_MAX));
    /* name offsets */
    TAMPER("class name offsets do not start at 0", wr64(f + cno, 1));
    TAMPER("not increasing", wr64(f + cno + 8, 8));
    TAMPER("not increasing", wr64(f + tno + 8, 0));
    TAMPER("name offsets end at", wr64(f + tno + 8 * 6, 999));
    TAMPER("name offsets end at", wr64(f + ino + 8 * 5, UINT64_MAX));
    TAMPER("not increasing", wr64(f + ino + 8, UINT64_MAX));
    /* names */
    TAMPER("tag 0: name is not NUL-terminated", f[tnb + 3] = 'x');
    TAMPER("image 0: name holds a NUL byte", f[inb + 3] = '\0');
    TAMPER("class 1: name is not valid UTF-8", f[cnb + 4] = 0xff);
    TAMPER("tag 1: name is not valid UTF-8", f[tnb + 5] = 0xc3);
    TAMPER("image 1: name is not valid UTF-8", f[inb + 9] = 0xed; f[inb + 10] = 0xa0;
           f[inb + 11] = 0x80); /* a surrogate */
    TAMPER("tag 2: name holds '|'", f[tnb + 12] = '|');
    TAMPER("classes 0 and 1 have the same name \"fox\"", memcpy(f + cnb + 4, "fox", 3));
    TAMPER("tags 0 and 4 have the same name \"dog\"", memcpy(f + tnb + 21, "dog", 3));
    TAMPER("images 0 and 1 have the same name \"img1.jpg\"", f[inb + 12] = '1');
    /* an empty class or tag name */
    /* "fox\0ape\0" -> "\0oxXape\0" */
    TAMPER("class 0: empty name", f[cnb] = '\0'; f[cnb + 3] = 'X'; wr64(f + cno + 8, 1));
    TAMPER("tag 0: empty name", f[tnb] = '\0'; f[tnb + 3] = 'X'; wr64(f + tno + 8, 1));
    /* padding after a section must be zero: the class name bytes are 8
     * long, the image name bytes are not a multiple of 8 */
    uint64_t isz = sec_size(orig, S_IMAGE_NAME_BYTES);
    cr_assert_neq(isz % 8, 0);
    TAMPER("non-zero padding", f[inb + isz] = 1);
    free(orig);
}

Test(store_io, long_tag_names)
{
    /* a tag of 255 bytes is fine; stretched to 256 it is rejected */
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    char long_name[256];
    memset(long_name, 'a', 255);
    long_name[255] = '\0';
    const char *t[] = {long_name, "bb"};
    cr_assert_eq(prime_tagstore_add_image_names(s, "i", "c", t, 2, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    cr_assert_eq(prime_tagstore_save(s, tmp_path("long.prm")), PRIME_OK);
    prime_tagstore_destroy(s);
    size_t n;
    unsigned char *orig = slurp(tmp_path("long.prm"), &n);
    prime_tagstore *b = NULL;
    cr_assert_eq(prime_tagstore_open_memory(orig, n, &b), PRIME_OK, "%s", prime_last_error());
    cr_assert_str_eq(prime_tagstore_tag_name(b, 0), long_name);
    prime_tagstore_destroy(b);
    const uint64_t tno = sec_off(orig, S_TAG_NAME_OFF);
    const uint64_t tnb = sec_off(orig, S_TAG_NAME_BYTES);
    /* "a"*255 \0 b b \0  ->  "a"*255 c \0 b \0 */
    TAMPER("tag 0: name is 256 bytes, longer than 255", f[tnb + 255] = 'c';
           f[tnb + 256] = '\0'; wr64(f + tno + 8, 257));
    free(orig);
}

/* Random garbage after a valid header: the payload checksum is fixed up, so
 * the content checks must reject (or accept only a consistent store). */
Test(store_io, random_payload_with_fixed_checksums)
{
    size_t n;
    unsigned char *orig = sample_file(&n);
    unsigned char *f = malloc(n);
    for (int round = 0; round < 3000; round++) {
        memcpy(f, orig, n);
        uint32_t edits = 1 + rnd(4);
        for (uint32_t e = 0; e < edits; e++) {
            size_t pos = HEADER_SIZE + rnd((uint32_t)(n - HEADER_SIZE));
            f[pos] = (unsigned char)rnd(256);
        }
        fix_sums(f, n);
        prime_tagstore *s = NULL;
        prime_status st = prime_tagstore_open_memory(f, n, &s);
        if (st == PRIME_OK) {
            /* accepted: then it must hold together */
            uint32_t ni = prime_tagstore_image_count(s);
            for (uint32_t i = 0; i < ni; i++) {
                uint32_t ids[64], k;
                cr_assert_eq(prime_tagstore_image_tags(s, i, ids, 64, &k), PRIME_OK);
                for (uint32_t j = 0; j < k; j++)
                    cr_assert_lt(ids[j], prime_tagstore_tag_count(s));
                cr_assert_lt(prime_tagstore_image_class(s, i), prime_tagstore_class_count(s));
            }
            prime_tagstore_destroy(s);
        } else {
            cr_assert_eq(st, PRIME_E_FORMAT);
            cr_assert_null(s);
        }
    }
    free(f);
    free(orig);
}

/* ---- widths of the tag arrays ------------------------------------------------- */

/* The same store laid out with other width flags (the wide layouts are what
 * a writer for a huge store would produce); checksums fixed. */
static unsigned char *relayout(const unsigned char *d, size_t n, uint32_t flags, size_t *n_out)
{
    uint32_t old = rd32(d + H_FLAGS);
    uint32_t ni = rd32(d + H_N_IMAGES);
    uint64_t nr = rd64(d + H_N_REFS);
    unsigned oow = (old & FLAG_TAG_OFF32) ? 4 : 8, oiw = (old & FLAG_TAG_IDS16) ? 2 : 4;
    unsigned now = (flags & FLAG_TAG_OFF32) ? 4 : 8, niw = (flags & FLAG_TAG_IDS16) ? 2 : 4;
    uint64_t size[N_SECTIONS], off[N_SECTIONS], pos = HEADER_SIZE;
    for (int k = 0; k < N_SECTIONS; k++) {
        size[k] = sec_size(d, k);
        if (k == S_IMAGE_TAG_OFF)
            size[k] = ((uint64_t)ni + 1) * now;
        if (k == S_IMAGE_TAG_IDS)
            size[k] = nr * niw;
        off[k] = pos;
        pos = (pos + size[k] + 7) & ~(uint64_t)7;
    }
    unsigned char *f = calloc(1, (size_t)pos);
    cr_assert_not_null(f);
    memcpy(f, d, HEADER_SIZE);
    for (int k = 0; k < N_SECTIONS; k++) {
        const unsigned char *src = d + sec_off(d, k);
        unsigned char *dst = f + off[k];
        if (k == S_IMAGE_TAG_OFF) {
            for (uint64_t i = 0; i <= ni; i++) {
                uint64_t v = oow == 4 ? rd32(src + 4 * i) : rd64(src + 8 * i);
                if (now == 4)
                    wr32(dst + 4 * i, (uint32_t)v);
                else
                    wr64(dst + 8 * i, v);
            }
        } else if (k == S_IMAGE_TAG_IDS) {
            for (uint64_t i = 0; i < nr; i++) {
                uint32_t v = oiw == 2 ? rd16(src + 2 * i) : rd32(src + 4 * i);
                if (niw == 2)
                    wr16(dst + 2 * i, (uint16_t)v);
                else
                    wr32(dst + 4 * i, v);
            }
        } else if (size[k] > 0) {
            memcpy(dst, src, (size_t)size[k]);
        }
        wr64(f + H_SECTIONS + 16 * k, off[k]);
        wr64(f + H_SECTIONS + 16 * k + 8, size[k]);
    }
    wr32(f + H_FLAGS, flags);
    wr64(f + H_FILE_SIZE, pos);
    fix_sums(f, (size_t)pos);
    (void)n;
    *n_out = (size_t)pos;
    return f;
}

/* Save a store and read the file back (caller frees). */
static unsigned char *save_bytes(const prime_tagstore *s, const char *file, size_t *n)
{
    cr_assert_eq(prime_tagstore_save(s, tmp_path(file)), PRIME_OK, "%s", prime_last_error());
    unsigned char *d = slurp(tmp_path(file), n);
    unlink(tmp_path(file));
    return d;
}

Test(store_io, every_width_combination_reads_the_same)
{
    prime_tagstore *a = random_store(500, 200, 20);
    size_t n;
    unsigned char *canon = save_bytes(a, "w.prm", &n);
    cr_assert_eq(rd32(canon + H_FLAGS), FLAG_TAG_IDS16 | FLAG_TAG_OFF32);
    uint64_t nr = rd64(canon + H_N_REFS);
    cr_assert_gt(nr, 1000);
    cr_assert_eq(sec_size(canon, S_IMAGE_TAG_IDS), nr * 2);
    cr_assert_eq(sec_size(canon, S_IMAGE_TAG_OFF), 501 * 4);
    for (uint32_t flags = 0; flags < 4; flags++) {
        size_t m;
        unsigned char *f = relayout(canon, n, flags, &m);
        cr_assert_eq(sec_size(f, S_IMAGE_TAG_IDS), nr * ((flags & FLAG_TAG_IDS16) ? 2 : 4));
        prime_tagstore *b = NULL;
        cr_assert_eq(prime_tagstore_open_memory(f, m, &b), PRIME_OK, "flags %u: %s", flags,
                     prime_last_error());
        cr_assert_eq(b->ids16, (flags & FLAG_TAG_IDS16) != 0);
        cr_assert_eq(b->off32, (flags & FLAG_TAG_OFF32) != 0);
        assert_same(a, b);
        /* its checksum is the content's: taken from the header of the
           layout a writer chooses, computed for the others */
        uint64_t sum_a = 0, sum_b = 0, known = b->checksum_cache;
        cr_assert_eq(prime_tagstore_checksum(a, &sum_a), PRIME_OK);
        cr_assert_eq(prime_tagstore_checksum(b, &sum_b), PRIME_OK);
        cr_assert_eq(sum_b, sum_a, "flags %u", flags);
        cr_assert_eq(known, flags == (FLAG_TAG_IDS16 | FLAG_TAG_OFF32) ? sum_a : 0,
                     "flags %u", flags);
        /* saving writes the narrowest layout again, whatever was read */
        size_t m2;
        unsigned char *again = save_bytes(b, "w2.prm", &m2);
        cr_assert_eq(m2, n);
        cr_assert_eq(memcmp(again, canon, n), 0, "flags %u: saved bytes differ", flags);
        /* a width flag that disagrees with the section sizes */
        if (flags != (FLAG_TAG_IDS16 | FLAG_TAG_OFF32)) {
            wr32(f + H_FLAGS, flags ^ ((flags & FLAG_TAG_IDS16) ? FLAG_TAG_OFF32 : FLAG_TAG_IDS16));
            fix_sums(f, m);
            expect_format(f, m, "counts say");
        }
        free(again);
        free(f);
        prime_tagstore_destroy(b);
    }
    free(canon);
    prime_tagstore_destroy(a);
}

Test(store_io, corrupted_width_flags)
{
    size_t n;
    unsigned char *orig = sample_file(&n);
    /* sample: 5 images, 10 tag references */
    TAMPER("section 'image tag ids' is 20 bytes, the counts say 40 of u32",
           wr32(f + H_FLAGS, FLAG_TAG_OFF32));
    TAMPER("section 'image tag offsets' is 24 bytes, the counts say 48 of u64",
           wr32(f + H_FLAGS, FLAG_TAG_IDS16));
    TAMPER("counts say", wr32(f + H_FLAGS, 0));
    /* the same without fixing the checksums */
    unsigned char *g = malloc(n);
    memcpy(g, orig, n);
    wr32(g + H_FLAGS, 0);
    expect_format(g, n, "header checksum mismatch");
    free(g);
    /* wide file, narrow flags */
    size_t m;
    unsigned char *w = relayout(orig, n, 0, &m);
    cr_assert_eq(sec_size(w, S_IMAGE_TAG_IDS), 40);
    wr32(w + H_FLAGS, FLAG_TAG_IDS16);
    fix_sums(w, m);
    expect_format(w, m, "section 'image tag ids' is 40 bytes, the counts say 20 of u16");
    free(w);
    free(orig);
}

/* More tags than u16 ids can hold: u32 ids, u32 offsets. */
Test(store_io, many_tags_use_u32_ids)
{
    const uint32_t nt = 70000;
    prime_tagstore *a = NULL;
    cr_assert_eq(prime_tagstore_create(&a), PRIME_OK);
    char name[32];
    uint32_t id, c0, c1;
    for (uint32_t t = 0; t < nt; t++) {
        snprintf(name, sizeof name, "t%05u", t);
        cr_assert_eq(prime_tagstore_intern_tag(a, name, &id), PRIME_OK);
    }
    cr_assert_eq(prime_tagstore_intern_class(a, "c0", &c0), PRIME_OK);
    cr_assert_eq(prime_tagstore_intern_class(a, "c1", &c1), PRIME_OK);
    uint32_t tags[8];
    for (uint32_t i = 0; i < 200; i++) {
        for (uint32_t k = 0; k < 8; k++)
            tags[k] = (i * 7919u + k * 9973u) % nt; /* ids up to 69999 */
        snprintf(name, sizeof name, "img%u", i);
        cr_assert_eq(prime_tagstore_add_image(a, name, i % 3 == 0 ? c1 : c0, tags, 8, NULL),
                     PRIME_OK);
    }
    cr_assert_eq(prime_tagstore_freeze(a), PRIME_OK);
    size_t n;
    unsigned char *orig = save_bytes(a, "many.prm", &n);
    cr_assert_eq(rd32(orig + H_FLAGS), FLAG_TAG_OFF32);
    cr_assert_eq(rd32(orig + H_N_TAGS), nt);
    cr_assert_eq(sec_size(orig, S_IMAGE_TAG_IDS), 200 * 8 * 4);
    prime_tagstore *b = NULL;
    cr_assert_eq(prime_tagstore_open_memory(orig, n, &b), PRIME_OK, "%s", prime_last_error());
    cr_assert_not(b->ids16);
    uint32_t ids[8], k;
    bool high = false;
    for (uint32_t i = 0; i < 200; i++) {
        cr_assert_eq(prime_tagstore_image_tags(b, i, ids, 8, &k), PRIME_OK);
        for (uint32_t j = 0; j < k; j++)
            high |= ids[j] > 65535;
    }
    cr_assert(high, "no tag id above 65535 was tested");
    /* a sample of the tags in assert_same's per-tag checks is enough:
     * compare the image tag lists directly */
    for (uint32_t i = 0; i < 200; i++) {
        uint32_t ta[8], na_;
        cr_assert_eq(prime_tagstore_image_tags(a, i, ta, 8, &na_), PRIME_OK);
        cr_assert_eq(prime_tagstore_image_tags(b, i, ids, 8, &k), PRIME_OK);
        cr_assert_eq(k, na_);
        for (uint32_t j = 0; j < k; j++)
            cr_assert_eq(ids[j], ta[j]);
    }
    uint32_t ca, cb;
    cr_assert_eq(prime_tagstore_tag_count_in_class(a, c1, 69999 % nt, &ca), PRIME_OK);
    cr_assert_eq(prime_tagstore_tag_count_in_class(b, c1, 69999 % nt, &cb), PRIME_OK);
    cr_assert_eq(ca, cb);
    size_t n2;
    unsigned char *again = save_bytes(b, "many2.prm", &n2);
    cr_assert_eq(n2, n);
    cr_assert_eq(memcmp(again, orig, n), 0);
    /* 16-bit ids cannot name 70,000 tags */
    TAMPER("inconsistent widths: the flags say 16-bit tag ids, but the store has 70000 tags",
           wr32(f + H_FLAGS, FLAG_TAG_IDS16 | FLAG_TAG_OFF32));
    /* and the wide offsets read the same */
    size_t m;
    unsigned char *w = relayout(orig, n, 0, &m);
    prime_tagstore *c = NULL;
    cr_assert_eq(prime_tagstore_open_memory(w, m, &c), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_tag_ref_count(c), 1600);
    free(w);
    free(again);
    free(orig);
    prime_tagstore_destroy(c);
    prime_tagstore_destroy(b);
    prime_tagstore_destroy(a);
}

/* ---- opened stores search and query like the stores they were saved from ---- */

static char *render_json(const prime_result *r)
{
    size_t need = 0;
    prime_status st = prime_result_render(r, PRIME_FORMAT_JSON, NULL, 0, &need);
    cr_assert(st == PRIME_E_BUFFER_TOO_SMALL || st == PRIME_OK);
    char *buf = malloc(need + 1);
    cr_assert_eq(prime_result_render(r, PRIME_FORMAT_JSON, buf, need + 1, &need), PRIME_OK);
    return buf;
}

/* A store with planted groups: classes in order (sorted) or interleaved. */
static prime_tagstore *planted_store(bool sorted, uint32_t n_images, uint32_t n_classes)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    char name[32];
    uint32_t id;
    for (uint32_t c = 0; c < n_classes; c++) {
        snprintf(name, sizeof name, "class%u", c);
        cr_assert_eq(prime_tagstore_intern_class(s, name, &id), PRIME_OK);
    }
    for (uint32_t t = 0; t < 30; t++) {
        snprintf(name, sizeof name, "tag%02u", t);
        cr_assert_eq(prime_tagstore_intern_tag(s, name, &id), PRIME_OK);
    }
    uint32_t tags[12];
    for (uint32_t i = 0; i < n_images; i++) {
        uint32_t c = sorted ? i * n_classes / n_images : i % n_classes;
        uint32_t k = 0;
        uint32_t nt = 1 + rnd(10);
        for (uint32_t j = 0; j < nt; j++)
            tags[k++] = rnd(30);
        snprintf(name, sizeof name, "i%u", i);
        cr_assert_eq(prime_tagstore_add_image(s, name, c, tags, k, NULL), PRIME_OK);
    }
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    return s;
}

static prime_outcomes *planted_outcomes(const prime_tagstore *s, bool binary)
{
    uint32_t n = prime_tagstore_image_count(s), ids[16], k;
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_outcomes_create(n, &o), PRIME_OK);
    for (uint32_t i = 0; i < n; i++) {
        cr_assert_eq(prime_tagstore_image_tags(s, i, ids, 16, &k), PRIME_OK);
        bool t3 = false, t7 = false;
        for (uint32_t j = 0; j < k; j++) {
            t3 |= ids[j] == 3;
            t7 |= ids[j] == 7;
        }
        double v;
        if (binary)
            v = (t3 && t7) ? (rnd(10) < 2) : (rnd(10) < 9);
        else
            v = (t3 && t7) ? rnd(300) / 1000.0 : 0.7 + rnd(300) / 1000.0;
        cr_assert_eq(prime_outcomes_set(o, i, v), PRIME_OK);
    }
    return o;
}

Test(store_io, opened_stores_search_and_query_the_same)
{
    prime_config *cfg = NULL;
    cr_assert_eq(prime_config_create(&cfg), PRIME_OK);
    cr_assert_eq(prime_config_set_int(cfg, PRIME_PARAM_MIN_SIZE, 10), PRIME_OK);
    cr_assert_eq(prime_config_set_double(cfg, PRIME_PARAM_MIN_DROP, 0.2), PRIME_OK);
    cr_assert_eq(prime_config_set_int(cfg, PRIME_PARAM_THREADS, 2), PRIME_OK);
    for (int sorted = 0; sorted < 2; sorted++) {
        prime_tagstore *a = planted_store(sorted, 1500, 3);
        size_t n;
        unsigned char *canon = save_bytes(a, "s.prm", &n);
        for (uint32_t flags = 0; flags < 4; flags++) {
            size_t m;
            unsigned char *f = relayout(canon, n, flags, &m);
            prime_tagstore *b = NULL;
            cr_assert_eq(prime_tagstore_open_memory(f, m, &b), PRIME_OK, "%s",
                         prime_last_error());
            free(f);
            /* images sorted by class need no class image list */
            cr_assert_eq(b->class_images == NULL, sorted == 1);
            for (int binary = 0; binary < 2; binary++) {
                prime_outcomes *o = planted_outcomes(a, binary);
                for (int64_t whole = 0; whole < 2; whole++) {
                    cr_assert_eq(prime_config_set_int(cfg, PRIME_PARAM_WHOLE_DATASET, whole),
                                 PRIME_OK);
                    prime_result *ra = NULL, *rb = NULL;
                    cr_assert_eq(prime_search(a, o, cfg, NULL, NULL, &ra), PRIME_OK, "%s",
                                 prime_last_error());
                    cr_assert_eq(prime_search(b, o, cfg, NULL, NULL, &rb), PRIME_OK, "%s",
                                 prime_last_error());
                    cr_assert_gt(prime_result_mode_count(ra), 0,
                                 "sorted %d binary %d whole %d: nothing found", sorted, binary,
                                 (int)whole);
                    char *ja = render_json(ra), *jb = render_json(rb);
                    cr_assert_str_eq(jb, ja);
                    free(ja);
                    free(jb);
                    prime_result_destroy(ra);
                    prime_result_destroy(rb);
                }
                const uint32_t q[2] = {7, 3};
                for (uint32_t c = 0; c < 3; c++) {
                    uint64_t sa, sb, pa[2], pb[2];
                    double ca, cb, xa, xb, qa[2], qb[2];
                    cr_assert_eq(prime_query(a, o, c, q, 2, &sa, &ca, &xa, NULL), PRIME_OK);
                    cr_assert_eq(prime_query(b, o, c, q, 2, &sb, &cb, &xb, NULL), PRIME_OK);
                    cr_assert_eq(sb, sa);
                    cr_assert_eq(cb, ca);
                    cr_assert_gt(sa, 0);
                    cr_assert_eq(prime_query_parents(a, o, c, q, 2, pa, qa), PRIME_OK);
                    cr_assert_eq(prime_query_parents(b, o, c, q, 2, pb, qb), PRIME_OK);
                    cr_assert_eq(pa[0], pb[0]);
                    cr_assert_eq(pa[1], pb[1]);
                    cr_assert_eq(qa[0], qb[0]);
                    cr_assert_eq(qa[1], qb[1]);
                    uint32_t na_, nb_;
                    cr_assert_eq(prime_tagstore_tag_count_in_class(a, c, 3, &na_), PRIME_OK);
                    cr_assert_eq(prime_tagstore_tag_count_in_class(b, c, 3, &nb_), PRIME_OK);
                    cr_assert_eq(na_, nb_);
                    cr_assert_eq(prime_tagstore_class_image_count(b, c),
                                 prime_tagstore_class_image_count(a, c));
                }
                prime_outcomes_destroy(o);
            }
            prime_tagstore_destroy(b);
        }
        free(canon);
        prime_tagstore_destroy(a);
    }
    prime_config_destroy(cfg);
}

/* ---- the known answer: tests/data/store/known.prime -------------------------
 * A committed file whose every byte docs/binary-format.md writes out: it
 * opens with the content listed there; the store it holds, saved again,
 * gives the same bytes; its checksums are those the document's algorithm
 * gives. A change of the layout or of the hash fails here. */

static const unsigned char known_bytes[376] = {
    0x89, 0x50, 0x52, 0x4d, 0x0d, 0x0a, 0x1a, 0x0a, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x00, 0x00,
    0x78, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xe8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x20, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x40, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x48, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x58, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xbf, 0x81, 0xa0, 0xa5, 0xfc, 0x37, 0xa8, 0x6c, 0x82, 0x6f, 0xd8, 0x78, 0x77, 0x85, 0x1d, 0xf9,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x61, 0x74, 0x00, 0x64, 0x6f, 0x67, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x72, 0x65, 0x64, 0x00, 0x62, 0x69, 0x67, 0x00, 0x77, 0x65, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x61, 0x00, 0x62, 0x00, 0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

Test(store_io, known_answer_file)
{
    const char *root = getenv("PRIME_TEST_DATA");
    cr_assert_not_null(root, "PRIME_TEST_DATA is not set (run through meson test)");
    char path[1024];
    snprintf(path, sizeof path, "%s/store/known.prime", root);
    size_t n = 0;
    unsigned char *file = slurp(path, &n);
    /* the committed file is the one the document writes out */
    cr_assert_eq(n, sizeof known_bytes);
    cr_assert(memcmp(file, known_bytes, n) == 0, "tests/data/store/known.prime differs from the "
              "bytes of docs/binary-format.md");
    /* and the hex dump of the document holds these bytes, in order */
    const char *src = getenv("PRIME_SOURCE_ROOT");
    cr_assert_not_null(src);
    char doc_path[1024];
    snprintf(doc_path, sizeof doc_path, "%s/docs/binary-format.md", src);
    FILE *doc = fopen(doc_path, "r");
    cr_assert_not_null(doc, "cannot open %s", doc_path);
    char line[256];
    size_t at = 0;
    bool in_dump = false;
    while (fgets(line, sizeof line, doc) != NULL) {
        if (strncmp(line, "    offset  bytes", 17) == 0) {
            in_dump = true;
            continue;
        }
        if (!in_dump)
            continue;
        if (strncmp(line, "    0x", 6) != 0)
            break;
        cr_assert_eq(strtoul(line + 6, NULL, 16), at, "dump line at the wrong offset: %s", line);
        for (const char *q = line + 12; q < line + 61 && q[0] != '\0' && q[0] != '\n'; q++) {
            if (q[0] == ' ')
                continue;
            unsigned v;
            cr_assert_eq(sscanf(q, "%2x", &v), 1, "%s", line);
            cr_assert_lt(at, n);
            cr_assert_eq(v, file[at], "byte 0x%zx: the document says %02X, the file %02X", at,
                         v, file[at]);
            at++;
            q++;
        }
    }
    fclose(doc);
    cr_assert_eq(at, n, "the document's dump has %zu bytes, the file %zu", at, n);
    /* its checksums are the document's algorithm's, and these values */
    cr_assert_eq(doc_checksum(file + HEADER_SIZE, n - HEADER_SIZE, SEED_PAYLOAD),
                 rd64(file + H_PAYLOAD_SUM));
    cr_assert_eq(doc_checksum(file, H_HEADER_SUM, SEED_HEADER), rd64(file + H_HEADER_SUM));
    cr_assert_eq(rd64(file + H_PAYLOAD_SUM), 0x6CA837FCA5A081BFull);
    cr_assert_eq(rd64(file + H_HEADER_SUM), 0xF91D857778D86F82ull);

    /* it opens with the content the document lists */
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_open(path, &s), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_class_count(s), 2);
    cr_assert_eq(prime_tagstore_tag_count(s), 3);
    cr_assert_eq(prime_tagstore_image_count(s), 3);
    cr_assert_eq(prime_tagstore_tag_ref_count(s), 5);
    cr_assert_str_eq(prime_tagstore_class_name(s, 0), "cat");
    cr_assert_str_eq(prime_tagstore_class_name(s, 1), "dog");
    cr_assert_str_eq(prime_tagstore_tag_name(s, 0), "red");
    cr_assert_str_eq(prime_tagstore_tag_name(s, 1), "big");
    cr_assert_str_eq(prime_tagstore_tag_name(s, 2), "wet");
    static const char *const images[3] = {"a", "b", "c"};
    static const uint32_t classes[3] = {0, 0, 1};
    static const uint32_t tags[3][2] = {{0, 1}, {1, 0}, {0, 2}};
    static const uint32_t counts[3] = {2, 1, 2};
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert_str_eq(prime_tagstore_image_name(s, i), images[i]);
        cr_assert_eq(prime_tagstore_image_class(s, i), classes[i]);
        uint32_t ids[4], nt = 0;
        cr_assert_eq(prime_tagstore_image_tags(s, i, ids, 4, &nt), PRIME_OK);
        cr_assert_eq(nt, counts[i]);
        for (uint32_t k = 0; k < nt; k++)
            cr_assert_eq(ids[k], tags[i][k], "image %u tag %u", i, k);
    }
    /* the same store, built from text and saved, gives the same bytes */
    const char csv[] = "image,class,tags\na,cat,red|big\nb,cat,big\nc,dog,red|wet\n";
    prime_tagstore *t = NULL;
    cr_assert_eq(prime_tagstore_load_memory(csv, sizeof csv - 1, "known.csv", &t, NULL),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_save(t, tmp_path("known.prime")), PRIME_OK, "%s",
                 prime_last_error());
    size_t m = 0;
    unsigned char *again = slurp(tmp_path("known.prime"), &m);
    cr_assert_eq(m, n);
    cr_assert(memcmp(again, known_bytes, n) == 0, "saving the known store gives other bytes");
    /* and the opened store saved again, too */
    cr_assert_eq(prime_tagstore_save(s, tmp_path("known2.prime")), PRIME_OK);
    free(again);
    again = slurp(tmp_path("known2.prime"), &m);
    cr_assert(m == n && memcmp(again, known_bytes, n) == 0);
    free(again);
    free(file);
    prime_tagstore_destroy(t);
    prime_tagstore_destroy(s);
}

/* ---- parts of a file (prime_tagstore_open_part) ------------------------------- */

Test(store_io, streaming_checksum_equals_one_shot)
{
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)rnd(256);
    for (size_t n = 0; n <= sizeof buf; n += 1 + n / 7) {
        for (int trial = 0; trial < 20; trial++) {
            prime__checksum_stream cs;
            prime__checksum_begin(&cs, SEED_PAYLOAD);
            for (size_t at = 0; at < n;) {
                size_t take = 1 + rnd(70);
                if (take > n - at)
                    take = n - at;
                prime__checksum_add(&cs, buf + at, take);
                at += take;
            }
            cr_assert_eq(prime__checksum_end(&cs), prime__checksum(buf, n, SEED_PAYLOAD),
                         "n %zu", n);
            cr_assert_eq(prime__checksum_end(&cs), doc_checksum(buf, n, SEED_PAYLOAD));
        }
    }
}

/* image i of part equals image first + i of whole */
static void assert_part(const prime_tagstore *whole, const prime_tagstore *part, uint64_t first)
{
    uint32_t nt = prime_tagstore_tag_count(whole), nc = prime_tagstore_class_count(whole);
    cr_assert_eq(prime_tagstore_tag_count(part), nt);
    cr_assert_eq(prime_tagstore_class_count(part), nc);
    cr_assert_eq(prime_tagstore_is_frozen(part), 1);
    for (uint32_t t = 0; t < nt; t++)
        cr_assert_str_eq(prime_tagstore_tag_name(part, t), prime_tagstore_tag_name(whole, t));
    for (uint32_t c = 0; c < nc; c++)
        cr_assert_str_eq(prime_tagstore_class_name(part, c), prime_tagstore_class_name(whole, c));
    uint32_t a[64], b[64], ka, kb;
    for (uint32_t i = 0; i < prime_tagstore_image_count(part); i++) {
        uint32_t w = (uint32_t)first + i;
        cr_assert_str_eq(prime_tagstore_image_name(part, i), prime_tagstore_image_name(whole, w));
        cr_assert_eq(prime_tagstore_image_class(part, i), prime_tagstore_image_class(whole, w));
        cr_assert_eq(prime_tagstore_image_tags(part, i, a, 64, &ka), PRIME_OK);
        cr_assert_eq(prime_tagstore_image_tags(whole, w, b, 64, &kb), PRIME_OK);
        cr_assert_eq(ka, kb);
        cr_assert_arr_eq(a, b, ka * sizeof *a);
    }
}

Test(store_io, open_part_tiles_the_file_with_its_outcomes)
{
    static const uint32_t shapes[][3] = {{0, 5, 3}, {1, 5, 3}, {6, 30, 4}, {333, 200, 9},
                                         {1000, 70000, 5}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        prime_tagstore *whole = random_store(shapes[k][0], shapes[k][1], shapes[k][2]);
        char *path = strdup(tmp_path("whole.prime"));
        cr_assert_eq(prime_tagstore_save(whole, path), PRIME_OK);
        uint32_t n = prime_tagstore_image_count(whole);
        prime_outcomes *o = NULL;
        cr_assert_eq(prime_outcomes_create(n, &o), PRIME_OK);
        for (uint32_t i = 0; i < n; i++)
            cr_assert_eq(prime_outcomes_set(o, i, rnd(3) == 0), PRIME_OK);
        char *opaths[3];
        for (int32_t kind = PRIME_OUTCOMES_BITS; kind <= PRIME_OUTCOMES_F64; kind++) {
            char name[32];
            snprintf(name, sizeof name, "out-%d.bin", kind);
            opaths[kind - 1] = strdup(tmp_path(name));
            cr_assert_eq(prime_outcomes_save(o, whole, kind, opaths[kind - 1]), PRIME_OK, "%s",
                         prime_last_error());
        }
        for (uint32_t P = 1; P <= 7; P++) {
            uint64_t covered = 0;
            for (uint32_t r = 0; r < P; r++) {
                prime_tagstore *part = NULL;
                uint64_t first = 99, total = 99, want_first, want_end;
                cr_assert_eq(prime_tagstore_open_part(path, r, P, &part, &first, &total),
                             PRIME_OK, "%s", prime_last_error());
                cr_assert_eq(prime_shard_range(n, r, P, &want_first, &want_end), PRIME_OK);
                cr_assert_eq(first, want_first);
                cr_assert_eq(total, n);
                cr_assert_eq(prime_tagstore_image_count(part), want_end - want_first);
                cr_assert_eq(first, covered);
                covered += prime_tagstore_image_count(part);
                assert_part(whole, part, first);
                for (int kind = 0; kind < 3; kind++) {
                    prime_outcomes *po = NULL;
                    cr_assert_eq(prime_outcomes_load(opaths[kind], part, &po), PRIME_OK, "%s",
                                 prime_last_error());
                    cr_assert_eq(prime_outcomes_count(po), prime_tagstore_image_count(part));
                    for (uint32_t i = 0; i < prime_outcomes_count(po); i++) {
                        double x = -1, y = -2;
                        cr_assert_eq(prime_outcomes_get(po, i, &x), PRIME_OK);
                        cr_assert_eq(prime_outcomes_get(o, (uint32_t)first + i, &y), PRIME_OK);
                        cr_assert_eq(x, y);
                    }
                    prime_outcomes_destroy(po);
                }
                prime_tagstore_destroy(part);
            }
            cr_assert_eq(covered, n);
        }
        prime_outcomes_destroy(o);
        for (int kind = 0; kind < 3; kind++)
            free(opaths[kind]);
        prime_tagstore_destroy(whole);
        free(path);
    }
}

Test(store_io, open_part_refuses_what_open_refuses)
{
    prime_tagstore *whole = random_store(200, 40, 4), *part = NULL;
    char *path = strdup(tmp_path("p.prime")), *other = strdup(tmp_path("other.prime"));
    char *opath = strdup(tmp_path("o.bin"));
    cr_assert_eq(prime_tagstore_save(whole, path), PRIME_OK);
    cr_assert_eq(prime_tagstore_open_part(path, 2, 2, &part, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_open_part(path, 0, 0, &part, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_open_part(NULL, 0, 1, &part, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_open_part(path, 0, 1, NULL, NULL, NULL), PRIME_E_INVALID_ARG);
    char *missing = strdup(tmp_path("missing.prime"));
    cr_assert_eq(prime_tagstore_open_part(missing, 0, 1, &part, NULL, NULL), PRIME_E_NOT_FOUND);
    free(missing);
    size_t n = 0;
    unsigned char *d = slurp(path, &n);
    /* a flipped bit anywhere (the other parts' bytes included), a cut, a
       byte too many: refused by every part */
    for (size_t at = 0; at < n; at += 1 + n / 53) {
        d[at] ^= 0x10;
        spit(other, d, n);
        d[at] ^= 0x10;
        for (uint32_t r = 0; r < 3; r++) {
            cr_assert_eq(prime_tagstore_open_part(other, r, 3, &part, NULL, NULL),
                         PRIME_E_FORMAT, "byte %zu part %u", at, r);
            cr_assert_null(part);
        }
    }
    for (size_t cut = 0; cut < n; cut += 1 + n / 17) {
        spit(other, d, cut);
        cr_assert_neq(prime_tagstore_open_part(other, 1, 3, &part, NULL, NULL), PRIME_OK);
        cr_assert_null(part);
    }
    unsigned char *longer = calloc(1, n + 8);
    memcpy(longer, d, n);
    spit(other, longer, n + 8);
    cr_assert_eq(prime_tagstore_open_part(other, 0, 2, &part, NULL, NULL), PRIME_E_FORMAT);
    free(longer);
    /* binary outcomes of another store: refused for the part */
    prime_outcomes *o = save_foreign_bits(200, 40, 4, opath);
    cr_assert_eq(prime_tagstore_open_part(path, 1, 2, &part, NULL, NULL), PRIME_OK);
    prime_outcomes *po = NULL;
    cr_assert_eq(prime_outcomes_load(opath, part, &po), PRIME_E_MISMATCH);
    cr_assert_null(po);
    cr_assert(strstr(prime_last_error(), "another tag store") != NULL, "%s",
              prime_last_error());
    /* damaged outcomes: refused */
    cr_assert_eq(prime_outcomes_save(o, whole, PRIME_OUTCOMES_BITS, opath), PRIME_OK);
    size_t on = 0;
    unsigned char *od = slurp(opath, &on);
    od[on - 1] ^= 1;
    spit(opath, od, on);
    cr_assert_eq(prime_outcomes_load(opath, part, &po), PRIME_E_FORMAT);
    free(od);
    prime_tagstore_destroy(part);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(whole);
    free(d);
    free(path);
    free(other);
    free(opath);
}

/* ---- a file read class by class (prime_class_reader) ------------------------ */

/* The same images as s, sorted by class (a file with one run a class). */
static prime_tagstore *sorted_by_class(const prime_tagstore *s)
{
    prime_tagstore *t = NULL;
    cr_assert_eq(prime_tagstore_create(&t), PRIME_OK);
    uint32_t id;
    for (uint32_t k = 0; k < prime_tagstore_tag_count(s); k++)
        cr_assert_eq(prime_tagstore_intern_tag(t, prime_tagstore_tag_name(s, k), &id), PRIME_OK);
    for (uint32_t c = 0; c < prime_tagstore_class_count(s); c++)
        cr_assert_eq(prime_tagstore_intern_class(t, prime_tagstore_class_name(s, c), &id),
                     PRIME_OK);
    uint32_t tags[64], nt;
    for (uint32_t c = 0; c < prime_tagstore_class_count(s); c++)
        for (uint32_t i = 0; i < prime_tagstore_image_count(s); i++) {
            if (prime_tagstore_image_class(s, i) != c)
                continue;
            cr_assert_eq(prime_tagstore_image_tags(s, i, tags, 64, &nt), PRIME_OK);
            cr_assert_eq(prime_tagstore_add_image(t, prime_tagstore_image_name(s, i), c, tags,
                                                  nt, NULL),
                         PRIME_OK, "%s", prime_last_error());
        }
    cr_assert_eq(prime_tagstore_freeze(t), PRIME_OK);
    return t;
}

/* part holds exactly the images of whole whose class is in want[0..n), in
 * order, with outcomes po equal to o's */
static void assert_classes(const prime_tagstore *whole, const prime_outcomes *o,
                           const prime_tagstore *part, const prime_outcomes *po,
                           const uint32_t *want, uint32_t n)
{
    uint32_t nc = prime_tagstore_class_count(whole), nt = prime_tagstore_tag_count(whole);
    cr_assert_eq(prime_tagstore_class_count(part), nc);
    cr_assert_eq(prime_tagstore_tag_count(part), nt);
    cr_assert_eq(prime_tagstore_is_frozen(part), 1);
    for (uint32_t t = 0; t < nt; t++)
        cr_assert_str_eq(prime_tagstore_tag_name(part, t), prime_tagstore_tag_name(whole, t));
    uint32_t a[64], b[64], ka, kb, j = 0;
    for (uint32_t i = 0; i < prime_tagstore_image_count(whole); i++) {
        uint32_t c = prime_tagstore_image_class(whole, i);
        bool in = false;
        for (uint32_t k = 0; k < n; k++)
            in = in || want[k] == c;
        if (!in)
            continue;
        cr_assert_lt(j, prime_tagstore_image_count(part));
        cr_assert_str_eq(prime_tagstore_image_name(part, j), prime_tagstore_image_name(whole, i));
        cr_assert_eq(prime_tagstore_image_class(part, j), c);
        cr_assert_eq(prime_tagstore_image_tags(part, j, a, 64, &ka), PRIME_OK);
        cr_assert_eq(prime_tagstore_image_tags(whole, i, b, 64, &kb), PRIME_OK);
        cr_assert_eq(ka, kb);
        cr_assert_arr_eq(a, b, ka * sizeof *a);
        if (po != NULL) {
            double x = -1, y = -2;
            cr_assert_eq(prime_outcomes_get(po, j, &x), PRIME_OK);
            cr_assert_eq(prime_outcomes_get(o, i, &y), PRIME_OK);
            cr_assert_eq(x, y);
        }
        j++;
    }
    cr_assert_eq(j, prime_tagstore_image_count(part));
    if (po != NULL)
        cr_assert_eq(prime_outcomes_count(po), j);
}

static unsigned char *partial_bytes(const prime_partial *p, size_t *n)
{
    cr_assert_eq(prime_partial_serialize(p, NULL, 0, n), PRIME_E_BUFFER_TOO_SMALL);
    unsigned char *b = malloc(*n);
    cr_assert_eq(prime_partial_serialize(p, b, *n, n), PRIME_OK);
    return b;
}

Test(store_io, class_reader_reads_classes_with_their_outcomes, .timeout = 120)
{
    static const uint32_t shapes[][3] = {{0, 5, 3}, {1, 5, 3}, {40, 30, 6}, {600, 20, 12},
                                         {2000, 20, 5}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        for (int sorted = 0; sorted < 2; sorted++) {
            prime_tagstore *random = random_store(shapes[k][0], shapes[k][1], shapes[k][2]);
            prime_tagstore *whole = sorted ? sorted_by_class(random) : random;
            if (sorted)
                prime_tagstore_destroy(random);
            char *path = strdup(tmp_path("classes.prime"));
            char *opath = strdup(tmp_path("classes.out"));
            cr_assert_eq(prime_tagstore_save(whole, path), PRIME_OK);
            uint32_t n = prime_tagstore_image_count(whole);
            uint32_t nc = prime_tagstore_class_count(whole);
            prime_outcomes *o = NULL;
            cr_assert_eq(prime_outcomes_create(n, &o), PRIME_OK);
            for (uint32_t i = 0; i < n; i++)
                cr_assert_eq(prime_outcomes_set(o, i, rnd(3) == 0), PRIME_OK);
            for (int32_t kind = PRIME_OUTCOMES_BITS; kind <= PRIME_OUTCOMES_F64; kind++) {
                cr_assert_eq(prime_outcomes_save(o, whole, kind, opath), PRIME_OK);
                prime_class_reader *r = NULL;
                cr_assert_eq(prime_class_reader_open(path, opath, &r), PRIME_OK, "%s",
                             prime_last_error());
                const prime_tagstore *tables = prime_class_reader_tables(r);
                cr_assert_eq(prime_tagstore_image_count(tables), 0);
                cr_assert_eq(prime_tagstore_class_count(tables), nc);
                for (uint32_t c = 0; c <= nc; c++)
                    cr_assert_eq(prime_class_reader_class_size(r, c),
                                 prime_tagstore_class_image_count(whole, c));
                /* random sets of classes, in any order */
                for (int trial = 0; trial < 12; trial++) {
                    uint32_t want[16], m = 0;
                    for (uint32_t c = 0; c < nc && m < 16; c++)
                        if (rnd(3) == 0)
                            want[m++] = c;
                    for (uint32_t i = m; i > 1; i--) {
                        uint32_t j = rnd(i), t = want[i - 1];
                        want[i - 1] = want[j];
                        want[j] = t;
                    }
                    prime_tagstore *part = NULL;
                    prime_outcomes *po = NULL;
                    cr_assert_eq(prime_class_reader_read(r, want, m, &part, &po), PRIME_OK,
                                 "%s", prime_last_error());
                    assert_classes(whole, o, part, po, want, m);
                    prime_outcomes_destroy(po);
                    prime_tagstore_destroy(part);
                    /* and without outcomes */
                    cr_assert_eq(prime_class_reader_read(r, want, m, &part, NULL), PRIME_OK);
                    assert_classes(whole, o, part, NULL, want, m);
                    prime_tagstore_destroy(part);
                }
                prime_class_reader_close(r);
            }
            prime_outcomes_destroy(o);
            prime_tagstore_destroy(whole);
            free(path);
            free(opath);
        }
    }
}

Test(store_io, class_reader_partials_are_the_whole_stores, .timeout = 120)
{
    for (int sorted = 0; sorted < 2; sorted++) {
        prime_tagstore *random = random_store(500, 12, 9);
        prime_tagstore *whole = sorted ? sorted_by_class(random) : random;
        if (sorted)
            prime_tagstore_destroy(random);
        char *path = strdup(tmp_path("cp.prime")), *opath = strdup(tmp_path("cp.out"));
        cr_assert_eq(prime_tagstore_save(whole, path), PRIME_OK);
        prime_tagstore *opened = NULL;
        cr_assert_eq(prime_tagstore_open(path, &opened), PRIME_OK);
        uint32_t n = prime_tagstore_image_count(whole), nc = prime_tagstore_class_count(whole);
        prime_outcomes *o = NULL;
        cr_assert_eq(prime_outcomes_create(n, &o), PRIME_OK);
        for (uint32_t i = 0; i < n; i++)
            cr_assert_eq(prime_outcomes_set(o, i, rnd(3) == 0 ? 1.0 : rnd(2) * 0.25), PRIME_OK);
        cr_assert_eq(prime_outcomes_save(o, whole, PRIME_OUTCOMES_F64, opath), PRIME_OK);
        prime_config *cfg = NULL;
        cr_assert_eq(prime_config_create(&cfg), PRIME_OK);
        cr_assert_eq(prime_config_set_int(cfg, PRIME_PARAM_MIN_SIZE, 3), PRIME_OK);
        cr_assert_eq(prime_config_set_int(cfg, PRIME_PARAM_THREADS, 1 + rnd(3)), PRIME_OK);
        prime_class_reader *r = NULL;
        cr_assert_eq(prime_class_reader_open(path, opath, &r), PRIME_OK, "%s", prime_last_error());
        const prime_tagstore *tables = prime_class_reader_tables(r);
        prime_partial **parts = calloc(nc, sizeof *parts);
        uint32_t np = 0;
        for (uint32_t c = 0; c < nc; c++) {
            prime_tagstore *part = NULL;
            prime_outcomes *po = NULL;
            cr_assert_eq(prime_class_reader_read(r, &c, 1, &part, &po), PRIME_OK);
            prime_partial *p = NULL, *q = NULL;
            cr_assert_eq(prime_search_classes(part, po, cfg, &c, 1, NULL, NULL, &p), PRIME_OK,
                         "%s", prime_last_error());
            cr_assert_eq(prime_search_classes(opened, o, cfg, &c, 1, NULL, NULL, &q), PRIME_OK);
            size_t pn = 0, qn = 0;
            unsigned char *pb = partial_bytes(p, &pn), *qb = partial_bytes(q, &qn);
            cr_assert(pn == qn && memcmp(pb, qb, pn) == 0, "class %u: other bytes", c);
            /* loads against the tables and against the whole store */
            prime_partial *back = NULL;
            cr_assert_eq(prime_partial_load_memory(pb, pn, NULL, tables, cfg, &back), PRIME_OK,
                         "%s", prime_last_error());
            prime_partial_destroy(back);
            cr_assert_eq(prime_partial_load_memory(pb, pn, NULL, opened, cfg, &back), PRIME_OK);
            prime_partial_destroy(back);
            /* a class the part does not hold is refused */
            uint32_t other = (c + 1) % nc;
            if (prime_tagstore_class_image_count(whole, other) > 0) {
                cr_assert_eq(prime_search_classes(part, po, cfg, &other, 1, NULL, NULL, &back),
                             PRIME_E_INVALID_ARG);
                cr_assert_null(back);
            }
            free(pb);
            free(qb);
            prime_partial_destroy(q);
            if (prime_partial_class_count(p) > 0)
                parts[np++] = p;
            else
                prime_partial_destroy(p);
            prime_outcomes_destroy(po);
            prime_tagstore_destroy(part);
        }
        prime_result *merged = NULL, *direct = NULL;
        cr_assert_eq(prime_partial_merge(tables, (const prime_partial *const *)parts, np,
                                         &merged),
                     PRIME_OK, "%s", prime_last_error());
        cr_assert_eq(prime_search(whole, o, cfg, NULL, NULL, &direct), PRIME_OK);
        char *a = render_json(merged), *b = render_json(direct);
        cr_assert_str_eq(a, b);
        free(a);
        free(b);
        prime_result_destroy(merged);
        prime_result_destroy(direct);
        /* a class missing from the parts is named */
        if (np > 1) {
            cr_assert_eq(prime_partial_merge(tables, (const prime_partial *const *)parts,
                                             np - 1, &merged),
                         PRIME_E_MISMATCH);
            cr_assert_null(merged);
        }
        /* folding equal modes needs the images */
        prime_config *fold = NULL;
        cr_assert_eq(prime_config_clone(cfg, &fold), PRIME_OK);
        cr_assert_eq(prime_config_set_int(fold, PRIME_PARAM_FOLD_EQUAL, 1), PRIME_OK);
        prime_tagstore *part = NULL;
        prime_outcomes *po = NULL;
        uint32_t c0 = prime_partial_class_id(parts[0], 0);
        cr_assert_eq(prime_class_reader_read(r, &c0, 1, &part, &po), PRIME_OK);
        prime_partial *fp = NULL;
        cr_assert_eq(prime_search_classes(part, po, fold, &c0, 1, NULL, NULL, &fp), PRIME_OK);
        cr_assert_eq(prime_partial_merge(part, (const prime_partial *const *)&fp, 1, &merged),
                     PRIME_E_INVALID_ARG);
        prime_partial_destroy(fp);
        prime_outcomes_destroy(po);
        prime_tagstore_destroy(part);
        prime_config_destroy(fold);
        for (uint32_t k = 0; k < np; k++)
            prime_partial_destroy(parts[k]);
        free(parts);
        prime_class_reader_close(r);
        prime_config_destroy(cfg);
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(opened);
        prime_tagstore_destroy(whole);
        free(path);
        free(opath);
    }
}

Test(store_io, class_reader_refuses_bad_files_and_arguments)
{
    prime_tagstore *whole = random_store(300, 30, 5);
    char *path = strdup(tmp_path("cr.prime")), *other = strdup(tmp_path("cr-other.prime"));
    char *opath = strdup(tmp_path("cr.out"));
    cr_assert_eq(prime_tagstore_save(whole, path), PRIME_OK);
    prime_class_reader *r = NULL;
    cr_assert_eq(prime_class_reader_open(NULL, NULL, &r), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_class_reader_open(path, NULL, NULL), PRIME_E_INVALID_ARG);
    char *missing = strdup(tmp_path("cr-missing.prime"));
    cr_assert_eq(prime_class_reader_open(missing, NULL, &r), PRIME_E_NOT_FOUND);
    cr_assert_null(r);
    free(missing);
    size_t n = 0;
    unsigned char *d = slurp(path, &n);
    /* a flipped bit anywhere, a cut, a byte too many: refused at open */
    for (size_t at = 0; at < n; at += 1 + n / 61) {
        d[at] ^= 0x10;
        spit(other, d, n);
        d[at] ^= 0x10;
        cr_assert_eq(prime_class_reader_open(other, NULL, &r), PRIME_E_FORMAT, "byte %zu", at);
        cr_assert_null(r);
    }
    for (size_t cut = 0; cut < n; cut += 1 + n / 17) {
        spit(other, d, cut);
        cr_assert_neq(prime_class_reader_open(other, NULL, &r), PRIME_OK, "cut %zu", cut);
        cr_assert_null(r);
    }
    unsigned char *longer = calloc(1, n + 8);
    memcpy(longer, d, n);
    spit(other, longer, n + 8);
    cr_assert_eq(prime_class_reader_open(other, NULL, &r), PRIME_E_FORMAT);
    free(longer);

    /* arguments of a read */
    cr_assert_eq(prime_class_reader_open(path, NULL, &r), PRIME_OK, "%s", prime_last_error());
    prime_tagstore *part = NULL;
    prime_outcomes *po = NULL;
    uint32_t ids[3] = {1, 5, 1};
    cr_assert_eq(prime_class_reader_read(NULL, ids, 1, &part, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_class_reader_read(r, ids, 1, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_class_reader_read(r, NULL, 1, &part, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_class_reader_read(r, ids + 1, 1, &part, NULL), PRIME_E_INVALID_ARG);
    cr_assert(strstr(prime_last_error(), "out of range") != NULL, "%s", prime_last_error());
    uint32_t twice[3] = {1, 2, 1};
    cr_assert_eq(prime_class_reader_read(r, twice, 3, &part, NULL), PRIME_E_INVALID_ARG);
    cr_assert(strstr(prime_last_error(), "twice") != NULL, "%s", prime_last_error());
    /* outcomes from a reader opened without them */
    cr_assert_eq(prime_class_reader_read(r, ids, 1, &part, &po), PRIME_E_INVALID_ARG);
    cr_assert_null(part);
    cr_assert_null(po);
    cr_assert_null(prime_class_reader_tables(NULL));
    cr_assert_eq(prime_class_reader_class_size(NULL, 0), 0);
    prime_class_reader_close(NULL);
    /* the file replaced after the open: refused at the next read */
    cr_assert_eq(prime_class_reader_read(r, ids, 1, &part, NULL), PRIME_OK);
    prime_tagstore_destroy(part);
    {
        prime_tagstore *another = random_store(300, 30, 5);
        cr_assert_eq(prime_tagstore_save(another, other), PRIME_OK);
        size_t m = 0;
        unsigned char *e = slurp(other, &m);
        FILE *f = fopen(path, "r+b"); /* the same file, rewritten in place */
        cr_assert_not_null(f);
        fwrite(e, 1, m, f);
        fclose(f);
        if (m != n)
            cr_assert_eq(truncate(path, (off_t)m), 0);
        struct timespec t[2] = {{0, UTIME_NOW}, {1, 0}}; /* another time, for sure */
        cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0);
        cr_assert_eq(prime_class_reader_read(r, ids, 1, &part, NULL), PRIME_E_IO);
        cr_assert_null(part);
        cr_assert(strstr(prime_last_error(), "changed") != NULL, "%s", prime_last_error());
        free(e);
        prime_tagstore_destroy(another);
        spit(path, d, n);
    }
    prime_class_reader_close(r);

    /* outcomes: of another store, damaged, a CSV */
    prime_outcomes *o = save_foreign_bits(300, 30, 5, opath);
    cr_assert_eq(prime_class_reader_open(path, opath, &r), PRIME_E_MISMATCH);
    cr_assert_null(r);
    cr_assert_eq(prime_outcomes_save(o, whole, PRIME_OUTCOMES_FIXED, opath), PRIME_OK);
    size_t on = 0;
    unsigned char *od = slurp(opath, &on);
    od[on - 3] ^= 1;
    spit(opath, od, on);
    cr_assert_eq(prime_class_reader_open(path, opath, &r), PRIME_E_FORMAT);
    spit(opath, od, on - 8);
    cr_assert_eq(prime_class_reader_open(path, opath, &r), PRIME_E_FORMAT);
    spit(opath, "image,correct\n", 14);
    cr_assert_eq(prime_class_reader_open(path, opath, &r), PRIME_E_FORMAT);
    cr_assert_null(r);
    free(od);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(whole);
    free(d);
    free(path);
    free(other);
    free(opath);
}
