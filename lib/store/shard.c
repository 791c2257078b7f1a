/* The shard contract (which part of an image list this process tags) and
 * the sharded-store folder NAME.prmd/ (docs/formats.md, "Sharded stores"):
 *
 *   shard-00003.prm    the partial store of shard 3 (a valid store on its own)
 *   shard-00003.json   its entry: range, counts, checksums, completed
 *   manifest.json      the summary of all entries, derived from them
 *   .lock              the lock the writers take (fcntl) to derive the manifest
 *
 * A shard writer holds the folder's lock while it checks the entries already
 * there, saves its store (a temporary file and a rename), writes its entry
 * (the same way) and derives the manifest from every entry: writers never
 * lose each other's entries, and the entry files stay the ground truth, so
 * a reader that derives from them (as prime_sharded_store_open does) is
 * right even if a manifest were stale. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/json_mini.h"
#include "store/store.h"

#define SEED_TAGS 0x5052494D45544147ull /* "PRIMETAG" */
#define SEED_LIST 0x5052494D454C5354ull /* "PRIMELST" */
#define MAX_SHARDS 1000000u
#define ENTRY_FORMAT "libprime-shard"
#define MANIFEST_FORMAT "libprime-sharded-store"
#define FORMAT_VERSION 1

/* ---- the shard of this process ------------------------------------------ */

/* A whole number 0..max from s (all of it); false if it is not one. */
static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

static prime_status check_pair(uint32_t i, uint32_t n, const char *what)
{
    if (n == 0)
        return prime__error(PRIME_E_RANGE, "%s: the shard count is 0", what);
    if (i >= n)
        return prime__error(PRIME_E_RANGE,
                            "%s: shard %u of %u does not exist (shards are numbered 0 to %u)",
                            what, i, n, n - 1);
    return PRIME_OK;
}

/* "I/N" */
static prime_status parse_spec(const char *spec, const char *what, uint32_t *i, uint32_t *n)
{
    const char *slash = strchr(spec, '/');
    char a[16], b[16];
    size_t la = slash ? (size_t)(slash - spec) : 0, lb = slash ? strlen(slash + 1) : 0;
    if (slash == NULL || la == 0 || la >= sizeof a || lb == 0 || lb >= sizeof b)
        return prime__error(PRIME_E_INVALID_ARG,
                            "%s: \"%.40s\" is not a shard I/N (e.g. 0/4: the first of 4)", what,
                            spec);
    memcpy(a, spec, la);
    a[la] = '\0';
    memcpy(b, slash + 1, lb + 1);
    if (!parse_u32(a, MAX_SHARDS, i) || !parse_u32(b, MAX_SHARDS, n))
        return prime__error(PRIME_E_INVALID_ARG,
                            "%s: \"%.40s\" is not a shard I/N of whole numbers (N at most %u)",
                            what, spec, MAX_SHARDS);
    return check_pair(*i, *n, what);
}

/* Index and count from two environment variables. 1 = found, 0 = neither
 * set, -1 = error (set). */
static int env_pair(const char *vi, const char *vn, const char *hint, uint32_t *i, uint32_t *n,
                    prime_status *st)
{
    const char *si = getenv(vi), *sn = getenv(vn);
    if (si == NULL && sn == NULL)
        return 0;
    if (si == NULL || sn == NULL) {
        *st = prime__error(PRIME_E_INVALID_ARG, "%s is set but %s is not%s",
                           si ? vi : vn, si ? vn : vi, hint);
        return -1;
    }
    if (!parse_u32(si, UINT32_MAX - 1, i) || !parse_u32(sn, MAX_SHARDS, n)) {
        *st = prime__error(PRIME_E_INVALID_ARG, "%s=%.20s, %s=%.20s: not whole numbers (N at "
                                                "most %u)",
                           vi, si, vn, sn, MAX_SHARDS);
        return -1;
    }
    return 1;
}

prime_status prime_shard_resolve(const char *spec, uint32_t *index_out, uint32_t *count_out,
                                 int32_t *source_out)
{
    if (index_out == NULL || count_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_shard_resolve: NULL argument");
    uint32_t i = 0, n = 0;
    int32_t src = 0;
    prime_status st = PRIME_OK;
    const char *env;
    int r;
    if (spec != NULL && spec[0] != '\0') {
        src = PRIME_SHARD_FROM_SPEC;
        st = parse_spec(spec, "shard", &i, &n);
    } else if ((env = getenv("PRIME_SHARD")) != NULL && env[0] != '\0') {
        src = PRIME_SHARD_FROM_PRIME_SHARD;
        st = parse_spec(env, "PRIME_SHARD", &i, &n);
    } else if ((r = env_pair("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "", &i, &n,
                             &st)) != 0) {
        src = PRIME_SHARD_FROM_SLURM;
        /* an array --array=M-K numbers tasks from M */
        const char *m = getenv("SLURM_ARRAY_TASK_MIN");
        uint32_t min = 0;
        if (r > 0 && m != NULL && !parse_u32(m, UINT32_MAX - 1, &min))
            st = prime__error(PRIME_E_INVALID_ARG, "SLURM_ARRAY_TASK_MIN=%.20s: not a whole "
                                                   "number", m);
        else if (r > 0 && i < min)
            st = prime__error(PRIME_E_RANGE, "SLURM_ARRAY_TASK_ID=%u is below "
                                             "SLURM_ARRAY_TASK_MIN=%u", i, min);
        else if (r > 0)
            i -= min;
        if (st == PRIME_OK)
            st = check_pair(i, n, "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN (the array must "
                                  "be a contiguous range with step 1)");
    } else if ((r = env_pair("JOB_COMPLETION_INDEX", "PRIME_SHARD_COUNT",
                             " (a Kubernetes Indexed Job: set PRIME_SHARD_COUNT to the Job's "
                             "completions)",
                             &i, &n, &st)) != 0) {
        src = PRIME_SHARD_FROM_JOB_INDEX;
        if (r > 0)
            st = check_pair(i, n, "JOB_COMPLETION_INDEX");
    } else if ((r = env_pair("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "", &i, &n, &st)) !=
                   0 ||
               (r = env_pair("PMI_RANK", "PMI_SIZE", "", &i, &n, &st)) != 0) {
        src = PRIME_SHARD_FROM_MPI;
        if (r > 0)
            st = check_pair(i, n, "MPI rank");
    } else {
        return prime__error(PRIME_E_NOT_FOUND,
                            "no shard given: no --shard I/N, and none of PRIME_SHARD, "
                            "SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, OMPI_COMM_WORLD_RANK, "
                            "PMI_RANK is set");
    }
    if (st != PRIME_OK)
        return st;
    *index_out = i;
    *count_out = n;
    if (source_out != NULL)
        *source_out = src;
    return PRIME_OK;
}

prime_status prime_shard_range(uint64_t n, uint32_t index, uint32_t count, uint64_t *first_out,
                               uint64_t *end_out)
{
    if (first_out == NULL || end_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_shard_range: NULL argument");
    prime_status st = check_pair(index, count, "prime_shard_range");
    if (st != PRIME_OK)
        return st;
    if (n > UINT32_MAX)
        return prime__error(PRIME_E_LIMIT, "prime_shard_range: more than 2^32 items");
    /* n < 2^32 and index < 2^32: the products fit in 64 bits */
    *first_out = n * index / count;
    *end_out = n * ((uint64_t)index + 1) / count;
    return PRIME_OK;
}

prime_status prime_shard_list_id(const char *const *items, uint64_t n, uint64_t *id_out)
{
    if (id_out == NULL || (items == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_shard_list_id: NULL argument");
    uint64_t h = prime__checksum(&n, 0, SEED_LIST ^ n);
    for (uint64_t k = 0; k < n; k++) {
        if (items[k] == NULL)
            return prime__error(PRIME_E_INVALID_ARG, "prime_shard_list_id: item %llu is NULL",
                                (unsigned long long)k);
        h = prime__checksum(items[k], strlen(items[k]) + 1, h); /* the NUL separates */
    }
    *id_out = h;
    return PRIME_OK;
}

/* ---- entries and the manifest --------------------------------------------- */

typedef struct {
    bool present;   /* the entry file exists and was read */
    uint32_t shard, shards;
    uint64_t first, end, total, images, classes, tags;
    uint64_t list_id, tags_sum, checksum;
    bool completed;
} entry;

static uint64_t tag_table_sum(const prime_tagstore *s)
{
    uint64_t h = prime__checksum(s->tags.bytes, (size_t)s->tags.bytes_len, SEED_TAGS);
    return h ^ ((uint64_t)s->tags.count * 0x9E3779B97F4A7C15ull);
}

static char *path_join(const char *dir, const char *file)
{
    size_t a = strlen(dir), b = strlen(file);
    char *p = prime__malloc(a + b + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a > 0 && dir[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, file, b + 1);
    return p;
}

static char *shard_path(const char *dir, uint32_t i, const char *ext)
{
    char f[48];
    snprintf(f, sizeof f, "shard-%05u.%s", i, ext);
    return path_join(dir, f);
}

static bool get_u64(const prime__jv *o, const char *key, uint64_t *out)
{
    const prime__jv *v = prime__mjson_get(o, key);
    if (v == NULL || v->type != PRIME__J_UINT)
        return false;
    *out = v->u;
    return true;
}

static bool get_hex(const prime__jv *o, const char *key, uint64_t *out)
{
    const prime__jv *v = prime__mjson_get(o, key);
    if (v == NULL || v->type != PRIME__J_STRING || v->n != 16)
        return false;
    uint64_t x = 0;
    for (size_t k = 0; k < 16; k++) {
        char c = v->s[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        x = x << 4 | (uint64_t)d;
    }
    *out = x;
    return true;
}

static bool get_str_is(const prime__jv *o, const char *key, const char *want)
{
    const prime__jv *v = prime__mjson_get(o, key);
    return v != NULL && v->type == PRIME__J_STRING && strcmp(v->s, want) == 0;
}

/* Read DIR/shard-I.json into e (e->present = false when it does not exist). */
static prime_status read_entry(const char *dir, uint32_t i, entry *e)
{
    memset(e, 0, sizeof *e);
    char *path = shard_path(dir, i, "json");
    if (path == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT) {
        prime__free(path);
        return PRIME_OK;
    }
    char *data = NULL;
    size_t size = 0;
    prime_status st = prime__read_file(path, &data, &size);
    prime__jv v;
    memset(&v, 0, sizeof v);
    if (st == PRIME_OK)
        st = prime__mjson_parse(data, size, path, &v);
    prime__free(data);
    if (st == PRIME_OK) {
        uint64_t shard = 0, shards = 0, version = 0;
        const prime__jv *c = prime__mjson_get(&v, "completed");
        bool ok = v.type == PRIME__J_OBJECT && get_str_is(&v, "format", ENTRY_FORMAT) &&
                  get_u64(&v, "version", &version) && get_u64(&v, "shard", &shard) &&
                  get_u64(&v, "shards", &shards) && get_u64(&v, "first", &e->first) &&
                  get_u64(&v, "end", &e->end) && get_u64(&v, "images_total", &e->total) &&
                  get_u64(&v, "images", &e->images) && get_u64(&v, "classes", &e->classes) &&
                  get_u64(&v, "tags", &e->tags) && get_hex(&v, "list_id", &e->list_id) &&
                  get_hex(&v, "tag_table_checksum", &e->tags_sum) &&
                  get_hex(&v, "checksum", &e->checksum) && c != NULL &&
                  (c->type == PRIME__J_TRUE || c->type == PRIME__J_FALSE);
        if (!ok)
            st = prime__error(PRIME_E_FORMAT,
                              "%s: not a shard entry of libprime (a field is missing or has "
                              "the wrong type)",
                              path);
        else if (version != FORMAT_VERSION)
            st = prime__error(PRIME_E_FORMAT, "%s: entry version %llu (this libprime reads %d)",
                              path, (unsigned long long)version, FORMAT_VERSION);
        else if (shard != i || shards == 0 || shards > MAX_SHARDS || e->first > e->end ||
                 e->end > e->total || e->images != e->end - e->first)
            st = prime__error(PRIME_E_FORMAT, "%s: inconsistent shard entry (shard %llu of "
                                              "%llu, images %llu..%llu of %llu)",
                              path, (unsigned long long)shard, (unsigned long long)shards,
                              (unsigned long long)e->first, (unsigned long long)e->end,
                              (unsigned long long)e->total);
        else {
            e->present = true;
            e->shard = (uint32_t)shard;
            e->shards = (uint32_t)shards;
            e->completed = c->type == PRIME__J_TRUE;
        }
    }
    prime__mjson_free(&v);
    prime__free(path);
    return st;
}

static void put_entry_fields(prime__buf *b, const entry *e, const char *indent)
{
    prime__buf_printf(b,
                      "%s\"shard\": %u,\n%s\"file\": \"shard-%05u.prm\",\n"
                      "%s\"first\": %" PRIu64 ",\n%s\"end\": %" PRIu64 ",\n"
                      "%s\"images\": %" PRIu64 ",\n%s\"classes\": %" PRIu64 ",\n"
                      "%s\"checksum\": \"%016" PRIx64 "\",\n%s\"completed\": %s",
                      indent, e->shard, indent, e->shard, indent, e->first, indent, e->end,
                      indent, e->images, indent, e->classes, indent, e->checksum, indent,
                      e->completed ? "true" : "false");
}

/* The JSON text b written to path (a new string; NULL: out of memory)
 * atomically; frees both. */
static prime_status write_json(prime__buf *b, char *path)
{
    prime_status st = path == NULL || b->failed ? prime__error(PRIME_E_NOMEM, "out of memory")
                                                : prime__buf_write_file(b, path);
    prime__buf_free(b);
    prime__free(path);
    return st;
}

static prime_status write_entry(const char *dir, const entry *e)
{
    prime__buf b = {0};
    prime__buf_printf(&b,
                      "{\n  \"format\": \"" ENTRY_FORMAT "\",\n  \"version\": %d,\n"
                      "  \"shards\": %u,\n  \"images_total\": %" PRIu64 ",\n"
                      "  \"tags\": %" PRIu64 ",\n  \"list_id\": \"%016" PRIx64 "\",\n"
                      "  \"tag_table_checksum\": \"%016" PRIx64 "\",\n",
                      FORMAT_VERSION, e->shards, e->total, e->tags, e->list_id, e->tags_sum);
    put_entry_fields(&b, e, "  ");
    prime__buf_puts(&b, "\n}\n");
    return write_json(&b, shard_path(dir, e->shard, "json"));
}

/* The manifest derived from the entries (all `count` of them; missing ones
 * listed as not completed with the range they will have). */
static prime_status write_manifest(const char *dir, const entry *es, uint32_t count,
                                   const entry *ref)
{
    uint32_t complete = 0;
    uint64_t images = 0;
    for (uint32_t i = 0; i < count; i++)
        if (es[i].present && es[i].completed) {
            complete++;
            images += es[i].images;
        }
    prime__buf b = {0};
    prime__buf_printf(&b,
                      "{\n  \"format\": \"" MANIFEST_FORMAT "\",\n  \"version\": %d,\n"
                      "  \"shards\": %u,\n  \"complete\": %u,\n"
                      "  \"images_total\": %" PRIu64 ",\n  \"images_done\": %" PRIu64 ",\n"
                      "  \"tags\": %" PRIu64 ",\n  \"list_id\": \"%016" PRIx64 "\",\n"
                      "  \"tag_table_checksum\": \"%016" PRIx64 "\",\n  \"shard_list\": [",
                      FORMAT_VERSION, count, complete, ref->total, images, ref->tags,
                      ref->list_id, ref->tags_sum);
    for (uint32_t i = 0; i < count; i++) {
        entry e = es[i];
        if (!e.present) {
            memset(&e, 0, sizeof e);
            e.shard = i;
            (void)prime_shard_range(ref->total, i, count, &e.first, &e.end);
        }
        prime__buf_puts(&b, i ? ",\n    {\n" : "\n    {\n");
        put_entry_fields(&b, &e, "      ");
        prime__buf_puts(&b, "\n    }");
    }
    prime__buf_puts(&b, count ? "\n  ]\n}\n" : "]\n}\n");
    return write_json(&b, path_join(dir, "manifest.json"));
}

/* The payload checksum in the header of a store file. */
static prime_status file_payload_sum(const char *path, uint64_t *out)
{
    FILE *f = fopen(path, "rb");
    unsigned char h[200];
    if (f == NULL)
        return prime__error(PRIME_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    if (got != sizeof h || !prime__is_binary_store(h, got))
        return prime__error(PRIME_E_FORMAT, "%s: not a libprime binary tag store", path);
    *out = prime__get_le64(h + 192);
    return PRIME_OK;
}

/* Lock DIR/.lock (fcntl, so it also works over NFS with a lock daemon).
 * Returns the descriptor (close it to unlock) or -1. */
static int lock_dir(const char *dir, prime_status *st)
{
    char *path = path_join(dir, ".lock");
    if (path == NULL) {
        *st = prime__error(PRIME_E_NOMEM, "out of memory");
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        *st = prime__error(PRIME_E_IO, "%s: cannot open: %s", path, strerror(errno));
        prime__free(path);
        return -1;
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    int r;
    while ((r = fcntl(fd, F_SETLKW, &fl)) != 0 && errno == EINTR)
        ;
    if (r != 0) {
        *st = prime__error(PRIME_E_IO, "%s: cannot lock: %s", path, strerror(errno));
        close(fd);
        prime__free(path);
        return -1;
    }
    prime__free(path);
    return fd;
}

/* Entry files in DIR whose index is `count` or more (another shard count). */
static prime_status stray_entries(const char *dir, uint32_t count, const entry *ref)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return prime__error(PRIME_E_IO, "%s: cannot open: %s", dir, strerror(errno));
    struct dirent *de;
    prime_status st = PRIME_OK;
    while (st == PRIME_OK && (de = readdir(d)) != NULL) {
        unsigned i = 0;
        char tail[8] = "";
        if (strncmp(de->d_name, "shard-", 6) != 0 ||
            sscanf(de->d_name, "shard-%u.%7s", &i, tail) != 2 || strcmp(tail, "json") != 0)
            continue;
        if (i >= count)
            st = prime__error(PRIME_E_MISMATCH,
                              "%s: holds %s, but this shard is one of %u (was the folder "
                              "written with another shard count? use a new folder)",
                              dir, de->d_name, ref->shards);
    }
    closedir(d);
    return st;
}

/* Is e (an existing entry) a shard of the same run as ref? */
static prime_status same_run(const char *dir, const entry *e, const entry *ref)
{
    const char *what = e->shards != ref->shards       ? "another shard count"
                       : e->total != ref->total       ? "another image count"
                       : e->list_id != ref->list_id   ? "another image list"
                       : e->tags_sum != ref->tags_sum ? "another tag vocabulary"
                                                      : NULL;
    if (what == NULL)
        return PRIME_OK;
    return prime__error(PRIME_E_MISMATCH,
                        "%s: shard %u was written with %s than shard %u now (%u shards, %llu "
                        "images); finish that run or use a new folder",
                        dir, e->shard, what, ref->shard, ref->shards,
                        (unsigned long long)ref->total);
}

prime_status prime_sharded_store_write(const char *dir, const prime_tagstore *part,
                                       uint32_t index, uint32_t count, uint64_t first,
                                       uint64_t end, uint64_t total, uint64_t list_id)
{
    if (dir == NULL || dir[0] == '\0' || part == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_sharded_store_write: NULL argument");
    if (!part->frozen)
        return prime__error(PRIME_E_STATE, "prime_sharded_store_write: the store is not frozen");
    prime_status st = check_pair(index, count, "prime_sharded_store_write");
    if (st != PRIME_OK)
        return st;
    uint64_t f = 0, e = 0;
    if ((st = prime_shard_range(total, index, count, &f, &e)) != PRIME_OK)
        return st;
    if (first != f || end != e)
        return prime__error(PRIME_E_RANGE,
                            "prime_sharded_store_write: shard %u of %u of %llu images is images "
                            "%llu..%llu, not %llu..%llu",
                            index, count, (unsigned long long)total, (unsigned long long)f,
                            (unsigned long long)e, (unsigned long long)first,
                            (unsigned long long)end);
    if (part->images.count != end - first)
        return prime__error(PRIME_E_MISMATCH,
                            "prime_sharded_store_write: the store holds %u images, the shard "
                            "%llu",
                            part->images.count, (unsigned long long)(end - first));
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return prime__error(PRIME_E_IO, "%s: cannot create the folder: %s", dir,
                            strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return prime__error(PRIME_E_IO, "%s: not a folder", dir);

    entry me;
    memset(&me, 0, sizeof me);
    me.present = true;
    me.shard = index;
    me.shards = count;
    me.first = first;
    me.end = end;
    me.total = total;
    me.images = part->images.count;
    me.classes = part->classes.count;
    me.tags = part->tags.count;
    me.list_id = list_id;
    me.tags_sum = tag_table_sum(part);
    me.completed = true;

    entry *es = prime__calloc(count, sizeof *es);
    if (es == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    int fd = lock_dir(dir, &st);
    if (fd < 0) {
        prime__free(es);
        return st;
    }
    st = stray_entries(dir, count, &me);
    for (uint32_t i = 0; st == PRIME_OK && i < count; i++)
        if ((st = read_entry(dir, i, &es[i])) == PRIME_OK && es[i].present && i != index)
            st = same_run(dir, &es[i], &me);
    char *prm = st == PRIME_OK ? shard_path(dir, index, "prm") : NULL;
    char *json = st == PRIME_OK ? shard_path(dir, index, "json") : NULL;
    if (st == PRIME_OK && (prm == NULL || json == NULL))
        st = prime__error(PRIME_E_NOMEM, "out of memory");
    bool saved = false;
    if (st == PRIME_OK && (st = prime_tagstore_save(part, prm)) == PRIME_OK)
        saved = true;
    if (st == PRIME_OK)
        st = file_payload_sum(prm, &me.checksum);
    if (st == PRIME_OK)
        st = write_entry(dir, &me);
    if (st == PRIME_OK) {
        es[index] = me;
        st = write_manifest(dir, es, count, &me);
    }
    if (st != PRIME_OK && saved) {
        /* A failure after the shard's store was saved (out of memory, a
         * full disk): remove the shard's store and entry, so that the shard
         * reads as missing (a rerun writes it) rather than as a store whose
         * entry is absent or names another checksum. */
        unlink(prm);
        unlink(json);
    }
    close(fd); /* unlocks */
    prime__free(json);
    prime__free(prm);
    prime__free(es);
    return st;
}

/* ---- reading a sharded folder --------------------------------------------- */

bool prime__is_sharded_dir(const char *path)
{
    struct stat sb;
    return path != NULL && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

prime_status prime_sharded_store_info(const char *dir, uint32_t *count_out,
                                      uint32_t *complete_out, uint64_t *images_out)
{
    if (dir == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_sharded_store_info: dir is NULL");
    char *path = path_join(dir, "manifest.json");
    if (path == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        prime_status st = prime__error(PRIME_E_IO,
                                       "%s: is a directory, not a file (nor a sharded-store "
                                       "folder: manifest.json: %s)",
                                       dir, strerror(errno));
        prime__free(path);
        return st;
    }
    char *data = NULL;
    size_t size = 0;
    prime__jv v;
    memset(&v, 0, sizeof v);
    prime_status st = prime__read_file(path, &data, &size);
    if (st == PRIME_OK)
        st = prime__mjson_parse(data, size, path, &v);
    prime__free(data);
    uint64_t version = 0, shards = 0, total = 0;
    if (st == PRIME_OK &&
        (v.type != PRIME__J_OBJECT || !get_str_is(&v, "format", MANIFEST_FORMAT) ||
         !get_u64(&v, "version", &version) || !get_u64(&v, "shards", &shards) ||
         !get_u64(&v, "images_total", &total)))
        st = prime__error(PRIME_E_FORMAT, "%s: not a sharded-store manifest of libprime", path);
    if (st == PRIME_OK && version != FORMAT_VERSION)
        st = prime__error(PRIME_E_FORMAT, "%s: manifest version %llu (this libprime reads %d)",
                          path, (unsigned long long)version, FORMAT_VERSION);
    if (st == PRIME_OK && (shards == 0 || shards > MAX_SHARDS || total > UINT32_MAX))
        st = prime__error(PRIME_E_FORMAT, "%s: %llu shards of %llu images is out of range", path,
                          (unsigned long long)shards, (unsigned long long)total);
    prime__mjson_free(&v);
    prime__free(path);
    /* completion is counted from the entries, the ground truth */
    uint32_t complete = 0;
    uint64_t images = 0;
    for (uint32_t i = 0; st == PRIME_OK && i < shards; i++) {
        entry e;
        if ((st = read_entry(dir, i, &e)) == PRIME_OK && e.present && e.completed) {
            complete++;
            images += e.images;
        }
    }
    if (st != PRIME_OK)
        return st;
    if (count_out != NULL)
        *count_out = (uint32_t)shards;
    if (complete_out != NULL)
        *complete_out = complete;
    if (images_out != NULL)
        *images_out = images;
    return PRIME_OK;
}

prime_status prime_sharded_store_open(const char *dir, prime_tagstore **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_sharded_store_open: out is NULL");
    *out = NULL;
    uint32_t count = 0;
    prime_status st = prime_sharded_store_info(dir, &count, NULL, NULL);
    if (st != PRIME_OK)
        return st;
    entry *es = prime__calloc(count, sizeof *es);
    prime_tagstore **parts = prime__calloc(count, sizeof *parts);
    char **names = prime__calloc(count, sizeof *names);
    if (es == NULL || parts == NULL || names == NULL)
        st = prime__error(PRIME_E_NOMEM, "out of memory");
    prime__buf missing = {0};
    uint32_t n_missing = 0;
    const entry *ref = NULL; /* the first complete entry */
    for (uint32_t i = 0; st == PRIME_OK && i < count; i++) {
        st = read_entry(dir, i, &es[i]);
        if (st != PRIME_OK)
            break;
        if (!es[i].present || !es[i].completed) {
            if (n_missing < 20)
                prime__buf_printf(&missing, "%s%u", n_missing ? ", " : "", i);
            n_missing++;
            continue;
        }
        if (es[i].shards != count)
            st = prime__error(PRIME_E_MISMATCH, "%s: shard %u was written as one of %u "
                                                "shards, the manifest says %u",
                              dir, i, es[i].shards, count);
        else if (ref == NULL)
            ref = &es[i];
        else if ((st = same_run(dir, &es[i], ref)) != PRIME_OK)
            break;
    }
    if (st == PRIME_OK && n_missing > 0)
        st = prime__error(PRIME_E_NOT_FOUND,
                          "%s: %u of %u shards are missing or not complete (%s%s); run them, "
                          "then merge",
                          dir, n_missing, count, missing.data ? missing.data : "",
                          n_missing > 20 ? ", ..." : "");
    prime__buf_free(&missing);
    /* the ranges must tile the list */
    for (uint32_t i = 0; st == PRIME_OK && i < count; i++) {
        uint64_t f = 0, e = 0;
        (void)prime_shard_range(es[i].total, i, count, &f, &e);
        if (es[i].first != f || es[i].end != e)
            st = prime__error(PRIME_E_FORMAT, "%s: shard %u covers images %llu..%llu, not "
                                              "%llu..%llu",
                              dir, i, (unsigned long long)es[i].first,
                              (unsigned long long)es[i].end, (unsigned long long)f,
                              (unsigned long long)e);
    }
    for (uint32_t i = 0; st == PRIME_OK && i < count; i++) {
        names[i] = shard_path(dir, i, "prm");
        if (names[i] == NULL) {
            st = prime__error(PRIME_E_NOMEM, "out of memory");
            break;
        }
        /* read once: the checksum compared is the one of the bytes opened */
        char *data = NULL;
        size_t size = 0;
        st = prime__read_file(names[i], &data, &size);
        if (st != PRIME_OK)
            break;
        if (!prime__is_binary_store(data, size) || size < 200 ||
            prime__get_le64((const unsigned char *)data + 192) != es[i].checksum) {
            prime__free(data);
            st = prime__error(PRIME_E_MISMATCH,
                              "%s: its checksum is not the one its entry records (was the shard "
                              "rerun while this was read, or the file replaced?)",
                              names[i]);
            break;
        }
        st = prime__store_open_blob((unsigned char *)data, size, names[i], &parts[i]);
        if (st == PRIME_OK && (parts[i]->images.count != es[i].images ||
                               tag_table_sum(parts[i]) != es[i].tags_sum))
            st = prime__error(PRIME_E_MISMATCH,
                              "%s: holds %u images and tag table %016" PRIx64
                              ", its entry says %llu and %016" PRIx64,
                              names[i], parts[i]->images.count, tag_table_sum(parts[i]),
                              (unsigned long long)es[i].images, es[i].tags_sum);
    }
    if (st == PRIME_OK)
        st = prime__tagstore_merge_named((const prime_tagstore *const *)parts,
                                         (const char *const *)names, count,
                                         PRIME_MERGE_SAME_TAGS, out);
    for (uint32_t i = 0; i < count; i++) {
        if (parts != NULL)
            prime_tagstore_destroy(parts[i]);
        if (names != NULL)
            prime__free(names[i]);
    }
    prime__free(parts);
    prime__free(names);
    prime__free(es);
    return st;
}
