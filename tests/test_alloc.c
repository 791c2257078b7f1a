/* Allocation-failure suite: every public entry point that allocates is run
 * with allocation k made to fail, for k = 1, 2, ... until the call succeeds
 * without reaching allocation k. Each failing call must return
 * PRIME_E_NOMEM, set its out-handles to NULL (docs/api.md), leave the
 * handles it was given valid, and leak nothing; leaks are caught by running
 * this binary under valgrind (meson test --setup valgrind) and under ASan
 * (build-asan), as every other suite.
 *
 * The hook is prime__alloc_fail_after() in lib/common/alloc.c (internal.h). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "prime/prime.h"

/* ---- the sweep ------------------------------------------------------------ */

typedef prime_status (*call_fn)(void *ctx);

/* Runs call(ctx) with allocation k failing for k = 1, 2, ...; after a
 * failing call, check(ctx) (may be NULL) verifies out-handles and handles;
 * after the successful call, done(ctx) (may be NULL) releases what it made.
 * Returns the number of allocation points tried (the number of allocations
 * of the successful run). Prints one line per entry point on stderr. */
static long sweep(const char *what_or_null, call_fn call, void (*check)(void *),
                  void (*done)(void *), void *ctx)
{
    const char *what = what_or_null ? what_or_null : "(quiet)";
    for (long k = 1;; k++) {
        cr_assert_lt(k, 1000000, "%s: no end", what);
        prime_clear_error();
        prime__alloc_fail_after(k);
        prime_status st = call(ctx);
        long failed = prime__alloc_failed_count();
        long made = prime__alloc_count();
        prime__alloc_fail_after(0);
        if (failed == 0) {
            cr_assert_eq(st, PRIME_OK, "%s: no failure injected (k=%ld, %ld allocations) "
                         "but got %s: %s", what, k, made, prime_status_name(st),
                         prime_last_error());
            if (done != NULL)
                done(ctx);
            if (what_or_null != NULL)
                fprintf(stderr, "alloc-fail %-44s %3ld allocation points, all PRIME_E_NOMEM\n",
                        what, k - 1);
            return k - 1;
        }
        cr_assert_eq(st, PRIME_E_NOMEM, "%s: allocation %ld of %ld failed but got %s: %s",
                     what, k, made, prime_status_name(st), prime_last_error());
        cr_assert_neq(prime_last_error()[0], '\0', "%s: k=%ld: no error message", what, k);
        if (check != NULL)
            check(ctx);
    }
}

/* ---- fixtures -------------------------------------------------------------- */

/* A small data set in which the search finds modes: 2 classes x 40 images,
 * tags t0..t5; images carrying both t1 and t2 are wrong. */
static char *make_csv(int with_correct)
{
    prime__buf b = {0};
    prime__buf_puts(&b, with_correct ? "image,class,tags,correct\n" : "image,class,tags\n");
    for (int i = 0; i < 80; i++) {
        int t[6], n = 0;
        for (int j = 0; j < 6; j++)
            if (((i * (j + 3)) / (j + 1)) % 3 != 0)
                t[n++] = j;
        int has1 = 0, has2 = 0;
        prime__buf_printf(&b, "img%02d,%s,", i, i % 2 ? "fox" : "ape");
        for (int j = 0; j < n; j++) {
            prime__buf_printf(&b, "%st%d", j ? "|" : "", t[j]);
            has1 |= t[j] == 1;
            has2 |= t[j] == 2;
        }
        if (with_correct)
            prime__buf_printf(&b, ",%d", !(has1 && has2));
        prime__buf_putc(&b, '\n');
    }
    cr_assert(!b.failed);
    return b.data;
}

static char *make_jsonl(void)
{
    prime__buf b = {0};
    for (int i = 0; i < 30; i++)
        prime__buf_printf(&b,
                          "{\"image\":\"j%d\",\"class\":\"c%d\",\"tags\":[\"a%d\",\"b%d\",\"\\u00e9\"],"
                          "\"score\":%g}\n",
                          i, i % 3, i % 4, i % 5, (i % 7) / 7.0);
    cr_assert(!b.failed);
    return b.data;
}

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/prime-alloc-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (d != NULL) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
}

static int tmpdir_entries(void)
{
    DIR *d = opendir(tmpdir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static prime_tagstore *load_store(const char *csv, prime_outcomes **o)
{
    prime_tagstore *s = NULL;
    prime_status st = prime_tagstore_load_memory(csv, strlen(csv), "fix.csv", &s, o);
    cr_assert_eq(st, PRIME_OK, "%s", prime_last_error());
    return s;
}

/* The sentinel an out-handle holds before a call: a failing call must leave
 * it untouched or set it to NULL. */
static char sentinel_byte;
#define SENTINEL ((void *)&sentinel_byte)

/* A failed call sets its out-handles to NULL (docs/api.md); they were
 * SENTINEL before the call. */
static void assert_untouched(const void *p, const char *what)
{
    cr_assert(p == NULL, "%s: out-handle %s on failure", what,
              p == SENTINEL ? "left as it was, not NULL," : "set");
}

/* ---- tag store -------------------------------------------------------------- */

typedef struct {
    prime_tagstore *store;
    prime_outcomes *outcomes;
    const char *data;
    size_t size;
    const char *path;
    uint32_t images_before, tags_before, classes_before;
} store_ctx;

static prime_status call_create(void *p)
{
    store_ctx *c = p;
    c->store = SENTINEL;
    return prime_tagstore_create(&c->store);
}
static void check_store_out(void *p)
{
    store_ctx *c = p;
    assert_untouched(c->store, "store");
}
static void done_store(void *p)
{
    store_ctx *c = p;
    cr_assert(c->store != NULL && c->store != SENTINEL);
    prime_tagstore_destroy(c->store);
    c->store = NULL;
}

Test(alloc, tagstore_create)
{
    store_ctx c = {0};
    cr_assert_gt(sweep("prime_tagstore_create", call_create, check_store_out, done_store, &c),
                 0);
}

/* Adding to a mutable store that already holds images: a failed add must
 * leave the store valid, with the same image count. */
static prime_tagstore *mutable_store(void)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    for (int i = 0; i < 20; i++) {
        char name[16], tag[16], tag2[16];
        snprintf(name, sizeof name, "m%d", i);
        snprintf(tag, sizeof tag, "t%d", i % 4);
        snprintf(tag2, sizeof tag2, "u%d", i % 3);
        const char *tags[] = {tag, tag2};
        cr_assert_eq(prime_tagstore_add_image_names(s, name, i % 2 ? "x" : "y", tags, 2, NULL),
                     PRIME_OK);
    }
    return s;
}

static int add_counter;

static prime_status call_add_names(void *p)
{
    store_ctx *c = p;
    char name[32], cls[32], t1[32], t2[32];
    /* new names every time, so that every interning path allocates */
    add_counter++;
    snprintf(name, sizeof name, "new%d", add_counter);
    snprintf(cls, sizeof cls, "cls%d", add_counter);
    snprintf(t1, sizeof t1, "nt%d", add_counter);
    snprintf(t2, sizeof t2, "t1");
    const char *tags[] = {t1, t2, t1};
    uint32_t idx = 777;
    prime_status st = prime_tagstore_add_image_names(c->store, name, cls, tags, 3, &idx);
    if (st == PRIME_OK)
        cr_assert_eq(idx, c->images_before);
    return st;
}
static void check_add(void *p)
{
    store_ctx *c = p;
    cr_assert_eq(prime_tagstore_image_count(c->store), c->images_before,
                 "a failed add changed the image count");
    cr_assert_eq(prime_tagstore_is_frozen(c->store), 0);
    /* the store is still usable */
    uint32_t id;
    cr_assert_eq(prime_tagstore_find_tag(c->store, "t1", &id), PRIME_OK);
}

static void check_add_first(void *p)
{
    store_ctx *c = p;
    cr_assert_eq(prime_tagstore_image_count(c->store), 0, "a failed add changed the image count");
    cr_assert_eq(prime_tagstore_is_frozen(c->store), 0);
}

Test(alloc, tagstore_add_image_names)
{
    /* the first add into an empty store allocates every array */
    store_ctx c = {0};
    cr_assert_eq(prime_tagstore_create(&c.store), PRIME_OK);
    cr_assert_gt(sweep("prime_tagstore_add_image_names (first)", call_add_names,
                       check_add_first, NULL, &c),
                 0);
    cr_assert_eq(prime_tagstore_image_count(c.store), 1);
    prime_tagstore_destroy(c.store);
    /* adds into a store that holds images, up to and past a growth step */
    c.store = mutable_store();
    for (int i = 0; i < 20; i++) {
        c.images_before = prime_tagstore_image_count(c.store);
        sweep(i == 0 ? "prime_tagstore_add_image_names (more)" : NULL, call_add_names,
              check_add, NULL, &c);
        cr_assert_eq(prime_tagstore_image_count(c.store), c.images_before + 1);
    }
    cr_assert_eq(prime_tagstore_freeze(c.store), PRIME_OK);
    prime_tagstore_destroy(c.store);
}

static prime_status call_add_ids(void *p)
{
    store_ctx *c = p;
    add_counter++;
    char name[32];
    snprintf(name, sizeof name, "byid%d", add_counter);
    uint32_t tags[] = {3, 0, 1, 0, 2};
    return prime_tagstore_add_image(c->store, name, 0, tags, 5, NULL);
}

Test(alloc, tagstore_add_image)
{
    store_ctx c = {0};
    c.store = mutable_store();
    c.images_before = prime_tagstore_image_count(c.store);
    /* grow the arrays to a power of two so that the next add must realloc */
    for (uint32_t i = c.images_before; i < 32; i++) {
        char name[16];
        snprintf(name, sizeof name, "fill%u", i);
        cr_assert_eq(prime_tagstore_add_image(c.store, name, 0, NULL, 0, NULL), PRIME_OK);
    }
    c.images_before = prime_tagstore_image_count(c.store);
    cr_assert_gt(sweep("prime_tagstore_add_image", call_add_ids, check_add, NULL, &c), 0);
    cr_assert_eq(prime_tagstore_image_count(c.store), c.images_before + 1);
    prime_tagstore_destroy(c.store);
}

static prime_status call_intern(void *p)
{
    store_ctx *c = p;
    add_counter++;
    char name[32];
    snprintf(name, sizeof name, "interned%d", add_counter);
    uint32_t id = 777, id2 = 777;
    prime_status st = prime_tagstore_intern_tag(c->store, name, &id);
    if (st != PRIME_OK) {
        cr_assert_eq(id, 777);
        return st;
    }
    st = prime_tagstore_intern_class(c->store, name, &id2);
    if (st != PRIME_OK)
        cr_assert_eq(id2, 777);
    return st;
}
static void check_intern(void *p)
{
    store_ctx *c = p;
    cr_assert_eq(prime_tagstore_image_count(c->store), c->images_before);
}

Test(alloc, tagstore_intern)
{
    store_ctx c = {0};
    cr_assert_eq(prime_tagstore_create(&c.store), PRIME_OK);
    c.images_before = 0;
    cr_assert_gt(sweep("prime_tagstore_intern_tag/class", call_intern, check_intern, NULL, &c),
                 0);
    prime_tagstore_destroy(c.store);
}

static prime_status call_freeze(void *p)
{
    store_ctx *c = p;
    return prime_tagstore_freeze(c->store);
}
static void check_freeze(void *p)
{
    store_ctx *c = p;
    /* a failed freeze leaves the store mutable, usable, destroyable */
    cr_assert_eq(prime_tagstore_is_frozen(c->store), 0, "failed freeze left it frozen");
    cr_assert_eq(prime_tagstore_image_count(c->store), c->images_before);
}

Test(alloc, tagstore_freeze)
{
    store_ctx c = {0};
    c.store = mutable_store();
    c.images_before = prime_tagstore_image_count(c.store);
    cr_assert_gt(sweep("prime_tagstore_freeze", call_freeze, check_freeze, NULL, &c), 0);
    cr_assert_eq(prime_tagstore_is_frozen(c.store), 1);
    /* the frozen store answers queries */
    uint32_t cnt = 0, x;
    cr_assert_eq(prime_tagstore_find_class(c.store, "x", &x), PRIME_OK);
    cr_assert_eq(prime_tagstore_tag_count_in_class(c.store, x, 0, &cnt), PRIME_OK);
    prime_tagstore_destroy(c.store);
}

static prime_status call_save(void *p)
{
    store_ctx *c = p;
    return prime_tagstore_save(c->store, c->path);
}
static void check_save(void *p)
{
    (void)p;
    cr_assert_eq(tmpdir_entries(), 0, "a failed save left a file behind");
}

Test(alloc, tagstore_save, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char *csv = make_csv(1);
    store_ctx c = {0};
    c.store = load_store(csv, NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/s.bin", tmpdir);
    c.path = path;
    cr_assert_gt(sweep("prime_tagstore_save", call_save, check_save, NULL, &c), 0);
    cr_assert_eq(tmpdir_entries(), 1);
    prime_tagstore *back = NULL;
    cr_assert_eq(prime_tagstore_open(path, &back), PRIME_OK);
    cr_assert_eq(prime_tagstore_image_count(back), 80);
    prime_tagstore_destroy(back);
    prime_tagstore_destroy(c.store);
    prime__free(csv);
}

/* open / open_memory / load / load_memory */
static prime_status call_open(void *p)
{
    store_ctx *c = p;
    c->store = SENTINEL;
    return prime_tagstore_open(c->path, &c->store);
}
static prime_status call_open_memory(void *p)
{
    store_ctx *c = p;
    c->store = SENTINEL;
    return prime_tagstore_open_memory(c->data, c->size, &c->store);
}
static prime_status call_load(void *p)
{
    store_ctx *c = p;
    c->store = SENTINEL;
    c->outcomes = SENTINEL;
    return prime_tagstore_load(c->path, &c->store, &c->outcomes);
}
static prime_status call_load_memory(void *p)
{
    store_ctx *c = p;
    c->store = SENTINEL;
    c->outcomes = SENTINEL;
    return prime_tagstore_load_memory(c->data, c->size, "mem", &c->store, &c->outcomes);
}
static void check_load_out(void *p)
{
    store_ctx *c = p;
    assert_untouched(c->store, "store");
    assert_untouched(c->outcomes, "outcomes");
}
static void done_load(void *p)
{
    store_ctx *c = p;
    cr_assert(c->store != NULL && c->store != SENTINEL);
    cr_assert_eq(prime_tagstore_is_frozen(c->store), 1);
    cr_assert_eq(prime_tagstore_image_count(c->store), c->images_before);
    if (c->outcomes != SENTINEL && c->outcomes != NULL) {
        cr_assert_eq(prime_outcomes_count(c->outcomes), c->images_before);
        prime_outcomes_destroy(c->outcomes);
    }
    c->outcomes = NULL;
    prime_tagstore_destroy(c->store);
    c->store = NULL;
}

static void sweep_loads(const char *kind, const char *data, size_t size, uint32_t images)
{
    char path[512], what[96];
    snprintf(path, sizeof path, "%s/input.%s", tmpdir, kind);
    write_file(path, data, size);
    store_ctx c = {.data = data, .size = size, .path = path, .images_before = images};
    snprintf(what, sizeof what, "prime_tagstore_load (%s)", kind);
    cr_assert_gt(sweep(what, call_load, check_load_out, done_load, &c), 0);
    snprintf(what, sizeof what, "prime_tagstore_load_memory (%s)", kind);
    cr_assert_gt(sweep(what, call_load_memory, check_load_out, done_load, &c), 0);
    if (strcmp(kind, "bin") == 0) {
        cr_assert_gt(sweep("prime_tagstore_open", call_open, check_load_out, done_load, &c), 0);
        cr_assert_gt(sweep("prime_tagstore_open_memory", call_open_memory, check_load_out,
                           done_load, &c),
                     0);
    }
}

Test(alloc, tagstore_load_csv, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char *csv = make_csv(1);
    sweep_loads("csv", csv, strlen(csv), 80);
    prime__free(csv);
    csv = make_csv(0);
    sweep_loads("csv-no-outcomes", csv, strlen(csv), 80);
    prime__free(csv);
}

Test(alloc, tagstore_load_jsonl, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char *js = make_jsonl();
    sweep_loads("jsonl", js, strlen(js), 30);
    prime__free(js);
}

Test(alloc, tagstore_load_binary, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char *csv = make_csv(0);
    prime_tagstore *s = load_store(csv, NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/store.bin", tmpdir);
    cr_assert_eq(prime_tagstore_save(s, path), PRIME_OK);
    prime_tagstore_destroy(s);
    prime__free(csv);
    char *bin = NULL;
    size_t n = 0;
    cr_assert_eq(prime__read_file(path, &bin, &n), PRIME_OK);
    unlink(path);
    sweep_loads("bin", bin, n, 80);
    prime__free(bin);
}

/* ---- outcomes -------------------------------------------------------------------- */

typedef struct {
    prime_tagstore *store;
    prime_outcomes *out;
    const char *data;
    size_t size;
    const char *path;
    uint32_t n;
} out_ctx;

static prime_status call_outcomes_create(void *p)
{
    out_ctx *c = p;
    c->out = SENTINEL;
    return prime_outcomes_create(c->n, &c->out);
}
static prime_status call_from_labels(void *p)
{
    out_ctx *c = p;
    int64_t labels[5] = {1, 2, 3, 4, 5}, preds[5] = {1, 0, 3, 0, 5};
    c->out = SENTINEL;
    return prime_outcomes_from_labels(labels, preds, 5, &c->out);
}
static prime_status call_outcomes_load(void *p)
{
    out_ctx *c = p;
    c->out = SENTINEL;
    return prime_outcomes_load(c->path, c->store, &c->out);
}
static prime_status call_outcomes_load_memory(void *p)
{
    out_ctx *c = p;
    c->out = SENTINEL;
    return prime_outcomes_load_memory(c->data, c->size, "o.csv", c->store, &c->out);
}
static void check_outcomes_out(void *p)
{
    out_ctx *c = p;
    assert_untouched(c->out, "outcomes");
}
static void done_outcomes(void *p)
{
    out_ctx *c = p;
    cr_assert(c->out != NULL && c->out != SENTINEL);
    cr_assert_eq(prime_outcomes_count(c->out), c->n);
    prime_outcomes_destroy(c->out);
    c->out = NULL;
}

Test(alloc, outcomes_create_and_from_labels)
{
    out_ctx c = {.n = 1000};
    cr_assert_gt(sweep("prime_outcomes_create", call_outcomes_create, check_outcomes_out,
                       done_outcomes, &c),
                 0);
    c.n = 5;
    cr_assert_gt(sweep("prime_outcomes_from_labels", call_from_labels, check_outcomes_out,
                       done_outcomes, &c),
                 0);
}

Test(alloc, outcomes_load, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char *csv = make_csv(0);
    out_ctx c = {.n = 80};
    c.store = load_store(csv, NULL);
    prime__free(csv);
    static const char *const inputs[] = {"correct", "score", "labels"};
    for (int f = 0; f < 3; f++) {
        prime__buf b = {0};
        if (f == 2)
            prime__buf_puts(&b, "image,label,prediction\n");
        else
            prime__buf_printf(&b, "image,%s\n", inputs[f]);
        for (int i = 79; i >= 0; i--) {
            if (f == 2)
                prime__buf_printf(&b, "img%02d,%d,%d\n", i, i % 3, i % 2);
            else
                prime__buf_printf(&b, "img%02d,%s\n", i, i % 3 ? "1" : "0");
        }
        prime__buf_puts(&b, f == 2 ? "not-in-store,1,1\n" : "not-in-store,1\n");
        cr_assert(!b.failed);
        char path[512], what[96];
        snprintf(path, sizeof path, "%s/o%d.csv", tmpdir, f);
        write_file(path, b.data, b.len);
        c.data = b.data;
        c.size = b.len;
        c.path = path;
        snprintf(what, sizeof what, "prime_outcomes_load (%s)", inputs[f]);
        cr_assert_gt(sweep(what, call_outcomes_load, check_outcomes_out, done_outcomes, &c), 0);
        snprintf(what, sizeof what, "prime_outcomes_load_memory (%s)", inputs[f]);
        cr_assert_gt(sweep(what, call_outcomes_load_memory, check_outcomes_out, done_outcomes,
                           &c),
                     0);
        prime__buf_free(&b);
    }
    prime_tagstore_destroy(c.store);
}

/* ---- configuration ----------------------------------------------------------------- */

typedef struct {
    prime_config *src, *out;
} cfg_ctx;

static prime_status call_config_create(void *p)
{
    cfg_ctx *c = p;
    c->out = SENTINEL;
    return prime_config_create(&c->out);
}
static prime_status call_config_clone(void *p)
{
    cfg_ctx *c = p;
    c->out = SENTINEL;
    return prime_config_clone(c->src, &c->out);
}
static prime_status call_config_set_by_name(void *p)
{
    cfg_ctx *c = p;
    prime_status st = prime_config_set_by_name(c->src, "min_gain", "0,0.1,0.05,0.01");
    if (st == PRIME_OK)
        st = prime_config_set_by_name(c->src, "whole-dataset", "false");
    return st;
}
static void check_config_out(void *p)
{
    cfg_ctx *c = p;
    assert_untouched(c->out, "config");
}
static void done_config(void *p)
{
    cfg_ctx *c = p;
    cr_assert(c->out != NULL && c->out != SENTINEL);
    int64_t v;
    cr_assert_eq(prime_config_get_int(c->out, PRIME_PARAM_MAX_TAGS, &v), PRIME_OK);
    cr_assert_eq(v, c->src ? 3 : 4);
    prime_config_destroy(c->out);
    c->out = NULL;
}

Test(alloc, config)
{
    cfg_ctx c = {0};
    /* zero allocation points is fine for a function that allocates
       nothing; create and clone allocate one handle each */
    cr_assert_gt(sweep("prime_config_create", call_config_create, check_config_out,
                       done_config, &c),
                 0);
    cr_assert_eq(prime_config_create(&c.src), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c.src, PRIME_PARAM_MAX_TAGS, 3), PRIME_OK);
    cr_assert_gt(sweep("prime_config_clone", call_config_clone, check_config_out, done_config,
                       &c),
                 0);
    sweep("prime_config_set_by_name", call_config_set_by_name, NULL, NULL, &c);
    prime_config_destroy(c.src);
}

/* ---- search, results, query ---------------------------------------------------------- */

typedef struct {
    prime_tagstore *store;
    prime_outcomes *outcomes;
    prime_config *config;
    prime_result *result, *reference;
    int32_t format;
    char *buf;
    size_t cap;
    const char *path;
} search_ctx;

static void search_fixture(search_ctx *c, int threads, int whole)
{
    char *csv = make_csv(1);
    c->store = load_store(csv, &c->outcomes);
    prime__free(csv);
    cr_assert_not_null(c->outcomes);
    cr_assert_eq(prime_config_create(&c->config), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c->config, PRIME_PARAM_MIN_SIZE, 3), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c->config, PRIME_PARAM_MAX_TAGS, 3), PRIME_OK);
    cr_assert_eq(prime_config_set_double(c->config, PRIME_PARAM_MIN_DROP, 0.2), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c->config, PRIME_PARAM_THREADS, threads), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c->config, PRIME_PARAM_WHOLE_DATASET, whole), PRIME_OK);
    cr_assert_eq(prime_search(c->store, c->outcomes, c->config, NULL, NULL, &c->reference),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_gt(prime_result_mode_count(c->reference), 0, "the fixture must find modes");
}

static void search_fixture_free(search_ctx *c)
{
    prime_result_destroy(c->reference);
    prime_config_destroy(c->config);
    prime_outcomes_destroy(c->outcomes);
    prime_tagstore_destroy(c->store);
}

static char *render(const prime_result *r, int32_t format)
{
    size_t need = 0;
    cr_assert_eq(prime_result_render(r, format, NULL, 0, &need), PRIME_E_BUFFER_TOO_SMALL);
    char *buf = malloc(need + 1);
    cr_assert_eq(prime_result_render(r, format, buf, need + 1, &need), PRIME_OK);
    return buf;
}

static prime_status call_search(void *p)
{
    search_ctx *c = p;
    c->result = SENTINEL;
    return prime_search(c->store, c->outcomes, c->config, NULL, NULL, &c->result);
}
static void check_search(void *p)
{
    search_ctx *c = p;
    assert_untouched(c->result, "result");
    cr_assert_eq(prime_tagstore_is_frozen(c->store), 1);
}
static void done_search(void *p)
{
    search_ctx *c = p;
    cr_assert(c->result != NULL && c->result != SENTINEL);
    char *a = render(c->result, PRIME_FORMAT_JSON), *b = render(c->reference, PRIME_FORMAT_JSON);
    cr_assert_str_eq(a, b, "the search after the failures differs from the reference");
    free(a);
    free(b);
    prime_result_destroy(c->result);
    c->result = NULL;
}

static void sweep_search(int threads, int whole)
{
    search_ctx c = {0};
    search_fixture(&c, threads, whole);
    char what[64];
    snprintf(what, sizeof what, "prime_search (threads=%d%s)", threads,
             whole ? ", whole" : "");
    cr_assert_gt(sweep(what, call_search, check_search, done_search, &c), 0);
    search_fixture_free(&c);
}

Test(alloc, search_threads_1) { sweep_search(1, 0); }
Test(alloc, search_threads_2) { sweep_search(2, 0); }
Test(alloc, search_whole_dataset) { sweep_search(2, 1); }

/* The class-parallel search (include/prime/partial.h): a search of some
 * classes, in one batch and in batches of one class; the binary form and
 * its reader; the merge, whose result must render as the reference. */
static void check_write(void *p);

typedef struct {
    search_ctx s; /* first: the search_ctx calls take a partial_ctx too */
    prime_partial *part, *parts[2];
    unsigned char *bytes;
    size_t n_bytes;
    uint64_t costs[4];
} partial_ctx;

static prime_status call_search_classes(void *p)
{
    partial_ctx *c = p;
    uint32_t ids[] = {1, 0};
    c->part = SENTINEL;
    return prime_search_classes(c->s.store, c->s.outcomes, c->s.config, ids, 2, NULL, NULL,
                                &c->part);
}
static void check_partial_out(void *p)
{
    partial_ctx *c = p;
    assert_untouched(c->part, "partial");
}
static void done_partial(void *p)
{
    partial_ctx *c = p;
    cr_assert(c->part != NULL && c->part != SENTINEL);
    cr_assert_gt(prime_partial_mode_count(c->part), 0);
    prime_partial_destroy(c->part);
    c->part = NULL;
}
static prime_status call_partial_load(void *p)
{
    partial_ctx *c = p;
    c->part = SENTINEL;
    return prime_partial_load_memory(c->bytes, c->n_bytes, "part", c->s.store, c->s.config,
                                     &c->part);
}
static prime_status call_partial_save(void *p)
{
    partial_ctx *c = p;
    return prime_partial_save(c->parts[0], c->s.path);
}
static prime_status call_partial_merge(void *p)
{
    partial_ctx *c = p;
    c->s.result = SENTINEL;
    return prime_partial_merge(c->s.store, (const prime_partial *const *)c->parts, 2,
                               &c->s.result);
}
static prime_status call_class_costs(void *p)
{
    partial_ctx *c = p;
    return prime_search_class_costs(c->s.store, c->s.config, c->costs, 2);
}

Test(alloc, partial, .init = make_tmpdir, .fini = remove_tmpdir)
{
    partial_ctx c = {0};
    search_fixture(&c.s, 2, 0);
    cr_assert_eq(prime_tagstore_class_count(c.s.store), 2);
    cr_assert_gt(sweep("prime_search_classes", call_search_classes, check_partial_out,
                       done_partial, &c),
                 0);
    prime__search_set_batch_images(1); /* every class a batch of its own */
    cr_assert_eq(prime_config_set_int(c.s.config, PRIME_PARAM_THREADS, 1), PRIME_OK);
    cr_assert_gt(sweep("prime_search_classes (batches of 1 class)", call_search_classes,
                       check_partial_out, done_partial, &c),
                 0);
    cr_assert_gt(sweep("prime_search (batches of 1 class)", call_search, check_search,
                       done_search, &c.s),
                 0);
    prime__search_set_batch_images(0);
    uint32_t a[] = {0}, b[] = {1};
    cr_assert_eq(prime_search_classes(c.s.store, c.s.outcomes, c.s.config, a, 1, NULL, NULL,
                                      &c.parts[0]),
                 PRIME_OK);
    cr_assert_eq(prime_search_classes(c.s.store, c.s.outcomes, c.s.config, b, 1, NULL, NULL,
                                      &c.parts[1]),
                 PRIME_OK);
    cr_assert_eq(prime_partial_serialize(c.parts[0], NULL, 0, &c.n_bytes),
                 PRIME_E_BUFFER_TOO_SMALL);
    c.bytes = malloc(c.n_bytes);
    cr_assert_eq(prime_partial_serialize(c.parts[0], c.bytes, c.n_bytes, &c.n_bytes), PRIME_OK);
    sweep("prime_partial_load_memory", call_partial_load, check_partial_out, done_partial, &c);
    char path[512];
    snprintf(path, sizeof path, "%s/part.prp", tmpdir);
    c.s.path = path;
    sweep("prime_partial_save", call_partial_save, check_write, NULL, &c);
    unlink(path);
    cr_assert_gt(sweep("prime_partial_merge", call_partial_merge, check_search, done_search,
                       &c),
                 0);
    sweep("prime_search_class_costs", call_class_costs, NULL, NULL, &c);
    free(c.bytes);
    prime_partial_destroy(c.parts[0]);
    prime_partial_destroy(c.parts[1]);
    search_fixture_free(&c.s);
}

/* prime_search_sharded as the one process of its group (the sum of one
 * process is its own array), its images in two parts. */
static int32_t sum_alone(void *u, uint64_t *v, uint64_t n)
{
    (void)u;
    (void)v;
    (void)n;
    return 0;
}
static prime_status call_sharded(void *p)
{
    search_ctx *c = p;
    uint32_t n = prime_tagstore_image_count(c->store);
    prime_shard_part parts[2] = {{c->store, c->outcomes, 0, n / 3},
                                 {c->store, c->outcomes, n / 3, n - n / 3}};
    c->result = SENTINEL;
    return prime_search_sharded(parts, 2, c->config, sum_alone, NULL, NULL, NULL, &c->result);
}

static void sweep_sharded(int threads, int fold)
{
    search_ctx c = {0};
    search_fixture(&c, threads, 1);
    if (fold) {
        cr_assert_eq(prime_config_set_int(c.config, PRIME_PARAM_FOLD_EQUAL, 1), PRIME_OK);
        prime_result_destroy(c.reference);
        cr_assert_eq(prime_search(c.store, c.outcomes, c.config, NULL, NULL, &c.reference),
                     PRIME_OK);
    }
    char what[64];
    snprintf(what, sizeof what, "prime_search_sharded (threads=%d%s)", threads,
             fold ? ", fold" : "");
    cr_assert_gt(sweep(what, call_sharded, check_search, done_search, &c), 0);
    search_fixture_free(&c);
}

Test(alloc, search_sharded) { sweep_sharded(1, 0); }
Test(alloc, search_sharded_threads_fold) { sweep_sharded(2, 1); }

static prime_status call_render(void *p)
{
    search_ctx *c = p;
    size_t need = 12345;
    prime_status st = prime_result_render(c->reference, c->format, c->buf, c->cap, &need);
    return st;
}
static prime_status call_write(void *p)
{
    search_ctx *c = p;
    return prime_result_write(c->reference, c->format, c->path);
}
static void check_write(void *p)
{
    (void)p;
    cr_assert_eq(tmpdir_entries(), 0, "a failed write left a file behind");
}

Test(alloc, result_render_and_write, .init = make_tmpdir, .fini = remove_tmpdir)
{
    search_ctx c = {0};
    search_fixture(&c, 1, 0);
    static const int32_t formats[] = {PRIME_FORMAT_JSON, PRIME_FORMAT_CSV, PRIME_FORMAT_TEXT};
    static const char *const names[] = {"json", "csv", "text"};
    char path[512], what[96];
    for (int f = 0; f < 3; f++) {
        c.format = formats[f];
        char *ref = render(c.reference, c.format);
        c.cap = strlen(ref) + 1;
        c.buf = malloc(c.cap);
        snprintf(what, sizeof what, "prime_result_render (%s)", names[f]);
        sweep(what, call_render, NULL, NULL, &c);
        cr_assert_str_eq(c.buf, ref);
        free(c.buf);
        snprintf(path, sizeof path, "%s/out.%s", tmpdir, names[f]);
        c.path = path;
        snprintf(what, sizeof what, "prime_result_write (%s)", names[f]);
        cr_assert_gt(sweep(what, call_write, check_write, NULL, &c), 0);
        char *back = NULL;
        size_t n = 0;
        cr_assert_eq(prime__read_file(path, &back, &n), PRIME_OK);
        cr_assert_str_eq(back, ref);
        prime__free(back);
        unlink(path);
        free(ref);
    }
    search_fixture_free(&c);
}

/* prime_result_load_memory: every allocation failure is PRIME_E_NOMEM with
 * the out-handle untouched or NULL; the success reads back the same. */
typedef struct {
    const char *json;
    char *ref_text;
    prime_result *r;
} load_result_ctx;

static prime_status call_load_result(void *p)
{
    load_result_ctx *c = p;
    c->r = SENTINEL;
    return prime_result_load_memory(c->json, strlen(c->json), "r.json", &c->r);
}
static void check_load_result(void *p)
{
    load_result_ctx *c = p;
    assert_untouched(c->r, "result");
}
static void done_load_result(void *p)
{
    load_result_ctx *c = p;
    char *json = render(c->r, PRIME_FORMAT_JSON), *text = render(c->r, PRIME_FORMAT_TEXT);
    cr_assert_str_eq(json, c->json);
    cr_assert_str_eq(text, c->ref_text);
    free(json);
    free(text);
    prime_result_destroy(c->r);
    c->r = NULL;
}

Test(alloc, result_load)
{
    search_ctx s = {0};
    search_fixture(&s, 1, 0);
    load_result_ctx c = {0};
    char *json = render(s.reference, PRIME_FORMAT_JSON);
    c.json = json;
    c.ref_text = render(s.reference, PRIME_FORMAT_TEXT);
    cr_assert_gt(sweep("prime_result_load_memory", call_load_result, check_load_result,
                       done_load_result, &c), 0);
    free(json);
    free(c.ref_text);
    search_fixture_free(&s);
}

typedef struct {
    search_ctx *s;
    uint32_t tags[3];
    uint64_t size;
    double correct;
} query_ctx;

static prime_status call_query(void *p)
{
    query_ctx *q = p;
    double acc, cacc;
    prime_status st = prime_query(q->s->store, q->s->outcomes, 0, q->tags, 3, &q->size,
                                  &q->correct, &acc, &cacc);
    if (st != PRIME_OK)
        return st;
    uint64_t sizes[3];
    double corr[3];
    st = prime_query_parents(q->s->store, q->s->outcomes, 0, q->tags, 3, sizes, corr);
    if (st != PRIME_OK)
        return st;
    return prime_query(q->s->store, q->s->outcomes, PRIME_NONE, q->tags, 1, NULL, NULL, NULL,
                       NULL);
}

Test(alloc, query)
{
    search_ctx c = {0};
    search_fixture(&c, 1, 0);
    query_ctx q = {.s = &c, .tags = {0, 1, 2}};
    /* query may allocate nothing; the sweep then checks one plain success */
    sweep("prime_query/prime_query_parents", call_query, NULL, NULL, &q);
    uint64_t size = 0;
    double correct = -1;
    cr_assert_eq(prime_query(c.store, c.outcomes, 0, q.tags, 3, &size, &correct, NULL, NULL),
                 PRIME_OK);
    cr_assert_eq(size, q.size);
    cr_assert_eq(correct, q.correct);
    search_fixture_free(&c);
}

/* ---- files: the writer, the CSV writers, the labels and line readers (issue 11) ---- */

typedef struct {
    const prime_tagstore *store;
    const prime_outcomes *outcomes;
    char a[512], b[512];
    prime_labels *labels;
    prime_lines *lines;
} files_ctx;

static prime_status call_writer(void *p)
{
    files_ctx *c = p;
    prime_writer *w = NULL;
    prime_status st = prime_writer_create(&w);
    if (st == PRIME_OK)
        st = prime_writer_add_input(w, c->b); /* b does not exist: ignored */
    if (st == PRIME_OK)
        st = prime_tagstore_write_csv(c->store, w, c->a);
    if (st == PRIME_OK)
        st = prime_outcomes_write_csv(c->outcomes, c->store, w, c->b);
    if (st == PRIME_OK)
        st = prime_writer_commit(w);
    prime_writer_destroy(w);
    return st;
}

static void check_nothing_written(void *p)
{
    (void)p;
    cr_assert_eq(tmpdir_entries(), 0, "a failed write left a file behind");
}

Test(alloc, writer_and_csv_writers, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char *csv = make_csv(1);
    files_ctx c = {0};
    prime_outcomes *o = NULL;
    prime_tagstore *s = load_store(csv, &o);
    c.store = s;
    c.outcomes = o;
    snprintf(c.a, sizeof c.a, "%s/tags.csv", tmpdir);
    snprintf(c.b, sizeof c.b, "%s/outcomes.csv", tmpdir);
    cr_assert_gt(sweep("prime_writer + CSV writers", call_writer, check_nothing_written, NULL,
                       &c), 0);
    cr_assert_eq(tmpdir_entries(), 2);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    prime__free(csv);
}

static prime_status call_labels(void *p)
{
    files_ctx *c = p;
    static const char text[] = "x,image,label\n1,a.png,\"cat\ndog\"\n2,b.png,ape\n3,c.png,ape\n";
    c->labels = SENTINEL;
    return prime_labels_load_memory(text, sizeof text - 1, "l.csv", &c->labels);
}
static void check_labels_out(void *p)
{
    files_ctx *c = p;
    assert_untouched(c->labels, "labels");
}
static void done_labels(void *p)
{
    files_ctx *c = p;
    cr_assert_str_eq(prime_labels_find(c->labels, "a.png"), "cat\ndog");
    prime_labels_destroy(c->labels);
    c->labels = NULL;
}

Test(alloc, labels_load)
{
    files_ctx c = {0};
    cr_assert_gt(sweep("prime_labels_load_memory", call_labels, check_labels_out, done_labels,
                       &c), 0);
}

static prime_status call_lines(void *p)
{
    files_ctx *c = p;
    static const char text[] = "\xEF\xBB\xBF" "cat\r\ndog\r\nape\n\n";
    c->lines = SENTINEL;
    return prime_lines_load_memory(text, sizeof text - 1, "v.txt",
                                   PRIME_LINES_NAMES | PRIME_LINES_NO_BAR, &c->lines);
}
static void check_lines_out(void *p)
{
    files_ctx *c = p;
    assert_untouched(c->lines, "lines");
}
static void done_lines(void *p)
{
    files_ctx *c = p;
    cr_assert_eq(prime_lines_count(c->lines), 3);
    cr_assert_str_eq(prime_lines_get(c->lines, 2), "ape");
    prime_lines_destroy(c->lines);
    c->lines = NULL;
}

Test(alloc, lines_load)
{
    files_ctx c = {0};
    cr_assert_gt(sweep("prime_lines_load_memory", call_lines, check_lines_out, done_lines, &c),
                 0);
}

/* ---- scale (issue 15): merge, shards, binary outcomes ------------------------------ */

/* The rows first..end-1 of make_csv(1) as a tags CSV of its own (a shard). */
static char *csv_rows(int first, int end)
{
    char *all = make_csv(1);
    prime__buf b = {0};
    const char *line = all;
    for (int row = -1; *line != '\0'; row++) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (row < 0 || (row >= first && row < end))
            prime__buf_append(&b, line, len);
        line += len;
    }
    cr_assert(!b.failed);
    prime__free(all);
    return b.data;
}

typedef struct {
    const prime_tagstore *parts[3];
    const char *paths[3];
    uint32_t flags;
    prime_tagstore *store;
    prime_outcomes *outcomes;
    const char *dir;
    uint32_t index, count;
    uint64_t first, end, total, list_id;
    const prime_outcomes *src;
    int32_t kind;
    const char *path;
    uint64_t checksum;
} scale_ctx;

static prime_status call_merge(void *p)
{
    scale_ctx *c = p;
    c->store = SENTINEL;
    return prime_tagstore_merge(c->parts, 3, c->flags, &c->store);
}
static prime_status call_merge_files(void *p)
{
    scale_ctx *c = p;
    c->store = SENTINEL;
    c->outcomes = SENTINEL;
    return prime_tagstore_merge_files(c->paths, 3, c->flags, &c->store, &c->outcomes);
}
static prime_status call_sharded_open(void *p)
{
    scale_ctx *c = p;
    c->store = SENTINEL;
    return prime_sharded_store_open(c->dir, &c->store);
}
static prime_status call_sharded_load(void *p)
{
    scale_ctx *c = p;
    c->store = SENTINEL;
    c->outcomes = SENTINEL;
    return prime_tagstore_load(c->dir, &c->store, &c->outcomes);
}
static void check_scale_out(void *p)
{
    scale_ctx *c = p;
    assert_untouched(c->store, "store");
    if (c->outcomes != NULL)
        assert_untouched(c->outcomes, "outcomes");
}
/* The merged store is the one-process store: the same bytes when saved. */
static const prime_tagstore *g_whole;
static void assert_same_store(const prime_tagstore *a, const prime_tagstore *b)
{
    uint64_t ca = 0, cb = 0;
    cr_assert_eq(prime_tagstore_checksum(a, &ca), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_checksum(b, &cb), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_image_count(a), prime_tagstore_image_count(b));
    cr_assert_eq(ca, cb, "merged store differs from the whole one (payload checksum)");
}
static void done_merged(void *p)
{
    scale_ctx *c = p;
    cr_assert(c->store != NULL && c->store != SENTINEL);
    assert_same_store(c->store, g_whole);
    prime_tagstore_destroy(c->store);
    c->store = NULL;
    if (c->outcomes != NULL && c->outcomes != SENTINEL) {
        cr_assert_eq(prime_outcomes_count(c->outcomes), 80);
        prime_outcomes_destroy(c->outcomes);
    }
    c->outcomes = NULL;
}

Test(alloc, tagstore_merge_and_merge_files, .init = make_tmpdir, .fini = remove_tmpdir)
{
    static const int cut[4] = {0, 17, 17, 80}; /* an empty part in the middle */
    char *whole_csv = make_csv(1);
    prime_tagstore *whole = load_store(whole_csv, NULL), *parts[3];
    g_whole = whole;
    scale_ctx c = {0};
    char paths[3][512];
    for (int k = 0; k < 3; k++) {
        char *csv = csv_rows(cut[k], cut[k + 1]);
        parts[k] = load_store(csv, NULL);
        c.parts[k] = parts[k];
        snprintf(paths[k], sizeof paths[k], "%s/part%d.csv", tmpdir, k);
        write_file(paths[k], csv, strlen(csv));
        c.paths[k] = paths[k];
        prime__free(csv);
    }
    cr_assert_gt(sweep("prime_tagstore_merge", call_merge, check_scale_out, done_merged, &c), 0);
    cr_assert_gt(sweep("prime_tagstore_merge_files (outcomes)", call_merge_files,
                       check_scale_out, done_merged, &c),
                 0);
    cr_assert_eq(tmpdir_entries(), 3);
    for (int k = 0; k < 3; k++)
        prime_tagstore_destroy(parts[k]);
    prime_tagstore_destroy(whole);
    prime__free(whole_csv);
}

static prime_status call_shard_write(void *p)
{
    scale_ctx *c = p;
    return prime_sharded_store_write(c->dir, c->store, c->index, c->count, c->first, c->end,
                                     c->total, c->list_id);
}
/* A failed shard write leaves the folder as it was (the shards written
 * before, no temporary file), but for the folder itself and its .lock, the
 * file the writers lock. */
static int g_dir_entries;
static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.'; /* not ".", "..", nor the writers' .lock */
    closedir(d);
    return n;
}
static void check_shard_write(void *p)
{
    scale_ctx *c = p;
    if (dir_entries(c->dir) != g_dir_entries) {
        DIR *d = opendir(c->dir);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL)
            fprintf(stderr, "  %s\n", e->d_name);
        if (d != NULL)
            closedir(d);
    }
    cr_assert_eq(dir_entries(c->dir), g_dir_entries, "shard %u: a failed write left files (%s)",
                 c->index, prime_last_error());
}

Test(alloc, sharded_store_write_open_load, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char *whole_csv = make_csv(1);
    prime_tagstore *whole = load_store(whole_csv, NULL);
    g_whole = whole;
    /* the shards must share the tag table: intern every tag first, as a
     * tagger interns its vocabulary */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/s.prmd", tmpdir);
    const char *names[80];
    char namebuf[80][8];
    for (int i = 0; i < 80; i++) {
        snprintf(namebuf[i], sizeof namebuf[i], "img%02d", i);
        names[i] = namebuf[i];
    }
    uint64_t list_id = 0;
    cr_assert_eq(prime_shard_list_id(names, 80, &list_id), PRIME_OK);
    scale_ctx c = {.dir = dir, .count = 3, .total = 80, .list_id = list_id};
    for (uint32_t k = 0; k < 3; k++) {
        uint64_t first, end;
        cr_assert_eq(prime_shard_range(80, k, 3, &first, &end), PRIME_OK);
        prime_tagstore *part = NULL;
        cr_assert_eq(prime_tagstore_create(&part), PRIME_OK);
        uint32_t id;
        for (int t = 0; t < 6; t++) {
            char tag[8];
            snprintf(tag, sizeof tag, "t%d", t);
            cr_assert_eq(prime_tagstore_intern_tag(part, tag, &id), PRIME_OK);
        }
        for (uint64_t i = first; i < end; i++) {
            uint32_t cls, tags[6], n = 0;
            cr_assert_eq(prime_tagstore_intern_class(part, i % 2 ? "fox" : "ape", &cls),
                         PRIME_OK);
            for (int j = 0; j < 6; j++)
                if ((((int)i * (j + 3)) / (j + 1)) % 3 != 0)
                    tags[n++] = (uint32_t)j;
            cr_assert_eq(prime_tagstore_add_image(part, names[i], cls, tags, n, NULL), PRIME_OK,
                         "%s", prime_last_error());
        }
        cr_assert_eq(prime_tagstore_freeze(part), PRIME_OK);
        c.store = part;
        c.index = k;
        c.first = first;
        c.end = end;
        g_dir_entries = dir_entries(dir);
        char what[64];
        snprintf(what, sizeof what, "prime_sharded_store_write (shard %u/3)", k);
        cr_assert_gt(sweep(what, call_shard_write, check_shard_write, NULL, &c), 0);
        prime_tagstore_destroy(part);
    }
    uint32_t count = 0, complete = 0;
    uint64_t images = 0;
    cr_assert_eq(prime_sharded_store_info(dir, &count, &complete, &images), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert(count == 3 && complete == 3 && images == 80);
    /* the one-process store of the same images, built the same way */
    prime_tagstore *one = NULL;
    cr_assert_eq(prime_sharded_store_open(dir, &one), PRIME_OK, "%s", prime_last_error());
    g_whole = one;
    c.store = NULL;
    c.outcomes = NULL;
    cr_assert_gt(sweep("prime_sharded_store_open", call_sharded_open, check_scale_out,
                       done_merged, &c),
                 0);
    cr_assert_gt(sweep("prime_tagstore_load (sharded folder)", call_sharded_load,
                       check_scale_out, done_merged, &c),
                 0);
    prime_tagstore_destroy(one);
    prime_tagstore_destroy(whole);
    prime__free(whole_csv);
}

static prime_status call_checksum(void *p)
{
    scale_ctx *c = p;
    return prime_tagstore_checksum(c->store, &c->checksum);
}
static prime_status call_outcomes_save(void *p)
{
    scale_ctx *c = p;
    return prime_outcomes_save(c->src, c->store, c->kind, c->path);
}
static void check_outcomes_save(void *p)
{
    scale_ctx *c = p;
    cr_assert_eq(access(c->path, F_OK), -1, "a failed save left %s", c->path);
    cr_assert_eq(tmpdir_entries(), 0, "a failed save left a file");
}
static prime_status call_binary_load(void *p)
{
    scale_ctx *c = p;
    c->outcomes = SENTINEL;
    return prime_outcomes_load(c->path, c->store, &c->outcomes);
}
static void check_binary_load(void *p)
{
    scale_ctx *c = p;
    assert_untouched(c->outcomes, "outcomes");
}
static void done_binary_load(void *p)
{
    scale_ctx *c = p;
    cr_assert(c->outcomes != NULL && c->outcomes != SENTINEL);
    cr_assert_eq(prime_outcomes_count(c->outcomes), 80);
    for (uint32_t i = 0; i < 80; i++) {
        double a, b;
        cr_assert_eq(prime_outcomes_get(c->outcomes, i, &a), PRIME_OK);
        cr_assert_eq(prime_outcomes_get(c->src, i, &b), PRIME_OK);
        cr_assert(fabs(a - b) <= (c->kind == PRIME_OUTCOMES_FIXED ? 0x1p-32 : 0.0));
    }
    prime_outcomes_destroy(c->outcomes);
    c->outcomes = NULL;
}

Test(alloc, binary_outcomes_save_and_load, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char *csv = make_csv(1);
    prime_outcomes *bin = NULL;
    prime_tagstore *store = load_store(csv, &bin);
    prime__free(csv);
    prime_outcomes *scores = NULL;
    cr_assert_eq(prime_outcomes_create(80, &scores), PRIME_OK);
    for (uint32_t i = 0; i < 80; i++)
        cr_assert_eq(prime_outcomes_set(scores, i, (i % 7) / 7.0), PRIME_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/o.pro", tmpdir);
    scale_ctx c = {.store = store, .path = path};
    cr_assert_gt(sweep("prime_tagstore_checksum", call_checksum, NULL, NULL, &c), 0);
    static const char *const kinds[] = {"auto", "bits", "fixed", "f64"};
    for (int32_t kind = PRIME_OUTCOMES_AUTO; kind <= PRIME_OUTCOMES_F64; kind++) {
        for (int s = 0; s < 2; s++) {
            if (s == 1 && kind == PRIME_OUTCOMES_BITS)
                continue; /* bits of scores: PRIME_E_RANGE */
            c.src = s ? scores : bin;
            c.kind = kind;
            char what[96];
            snprintf(what, sizeof what, "prime_outcomes_save (%s, %s)", kinds[kind],
                     s ? "scores" : "0/1");
            cr_assert_gt(sweep(what, call_outcomes_save, check_outcomes_save, NULL, &c), 0);
            snprintf(what, sizeof what, "prime_outcomes_load (binary %s, %s)", kinds[kind],
                     s ? "scores" : "0/1");
            cr_assert_gt(sweep(what, call_binary_load, check_binary_load, done_binary_load, &c),
                         0);
            cr_assert_eq(unlink(path), 0);
        }
    }
    prime_outcomes_destroy(scores);
    prime_outcomes_destroy(bin);
    prime_tagstore_destroy(store);
}
