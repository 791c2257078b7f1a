/* Binary outcomes bound to a store (docs/binary-format.md, "Binary
 * outcomes"): a 48-byte header (magic, version, kind, count, the store's
 * payload checksum, the payload checksum, the header checksum) and the
 * values as bits, fixed point (units of 2^-32) or IEEE binary64, all
 * little-endian. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

static const unsigned char MAGIC[8] = {0x89, 'P', 'R', 'O', '\r', '\n', 0x1a, '\n'};

enum {
    VERSION = 1,
    HEADER = 48,
    H_VERSION = 8,
    H_KIND = 12,
    H_COUNT = 16,
    H_STORE_SUM = 24,
    H_PAYLOAD_SUM = 32,
    H_HEADER_SUM = 40
};

#define SEED_PAYLOAD 0x5052494D454F5554ull /* "PRIMEOUT" */
#define SEED_HEADER 0x5052494D454F4844ull  /* "PRIMEOHD" */
#define FIXED_ONE 4294967296.0              /* 2^32 */

static uint64_t payload_size(int32_t kind, uint64_t n)
{
    return kind == PRIME_OUTCOMES_BITS ? (n + 7) / 8 : n * 8;
}

bool prime__is_binary_outcomes(const void *data, size_t size)
{
    return data != NULL && size >= sizeof MAGIC && memcmp(data, MAGIC, sizeof MAGIC) == 0;
}

prime_status prime_outcomes_save(const prime_outcomes *o, const prime_tagstore *store,
                                 int32_t kind, const char *path)
{
    return prime_outcomes_save_to(o, store, kind, NULL, path);
}

prime_status prime_outcomes_save_to(const prime_outcomes *o, const prime_tagstore *store,
                                    int32_t kind, prime_writer *writer, const char *path)
{
    if (o == NULL || store == NULL || path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_save: NULL argument");
    if (kind < PRIME_OUTCOMES_AUTO || kind > PRIME_OUTCOMES_F64)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_save: unknown kind %d", kind);
    if (o->n != store->images.count)
        return prime__error(PRIME_E_MISMATCH, "%s: %u outcomes for a store of %u images", path,
                            o->n, store->images.count);
    for (uint32_t i = 0; i < o->n; i++)
        if (isnan(o->v[i]))
            return prime__error(PRIME_E_MISMATCH, "%s: image %u has no outcome", path, i);
    bool binary = prime_outcomes_is_binary(o) != 0;
    if (kind == PRIME_OUTCOMES_AUTO)
        kind = binary ? PRIME_OUTCOMES_BITS : PRIME_OUTCOMES_F64;
    if (kind == PRIME_OUTCOMES_BITS && !binary)
        return prime__error(PRIME_E_RANGE, "%s: bits need 0/1 outcomes; these are scores (use "
                                           "fixed point or f64)",
                            path);
    uint64_t store_sum = 0;
    prime_status st = prime_tagstore_checksum(store, &store_sum);
    if (st != PRIME_OK)
        return st;
    uint64_t psize = payload_size(kind, o->n);
    unsigned char *file = prime__calloc(1, (size_t)(HEADER + psize));
    if (file == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    unsigned char *p = file + HEADER;
    for (uint32_t i = 0; i < o->n; i++) {
        double v = o->v[i];
        if (kind == PRIME_OUTCOMES_BITS) {
            if (v == 1.0)
                p[i / 8] |= (unsigned char)(1u << (i % 8));
        } else if (kind == PRIME_OUTCOMES_FIXED) {
            prime__put_le64(p + 8 * (size_t)i, (uint64_t)llround(v * FIXED_ONE));
        } else {
            uint64_t bits;
            memcpy(&bits, &v, 8);
            prime__put_le64(p + 8 * (size_t)i, bits);
        }
    }
    memcpy(file, MAGIC, sizeof MAGIC);
    prime__put_le32(file + H_VERSION, VERSION);
    prime__put_le32(file + H_KIND, (uint32_t)kind);
    prime__put_le64(file + H_COUNT, o->n);
    prime__put_le64(file + H_STORE_SUM, store_sum);
    prime__put_le64(file + H_PAYLOAD_SUM, prime__checksum(p, (size_t)psize, SEED_PAYLOAD));
    prime__put_le64(file + H_HEADER_SUM, prime__checksum(file, H_HEADER_SUM, SEED_HEADER));
    st = writer != NULL ? prime_writer_add(writer, path, file, (size_t)(HEADER + psize))
                        : prime__write_file_atomic(path, file, (size_t)(HEADER + psize));
    prime__free(file);
    return st;
}

static prime_status bad(const char *name, const char *what)
{
    return prime__error(PRIME_E_FORMAT, "%s: %s", name, what);
}

/* The header d[0..HEADER) of binary outcomes whose file (or buffer) has
 * `size` bytes: version, header checksum, kind, count and the size the
 * count gives. The payload checksum is the caller's. */
static prime_status check_head(const unsigned char *d, uint64_t size, const char *name,
                               uint32_t *kind_out, uint64_t *n_out, uint64_t *psize_out)
{
    if (!prime__is_binary_outcomes(d, (size_t)(size < HEADER ? size : HEADER)))
        return bad(name, "not libprime binary outcomes (wrong magic bytes)");
    if (size < HEADER)
        return bad(name, "truncated inside the header of the binary outcomes");
    uint32_t version = prime__get_le32(d + H_VERSION);
    if (version == 0 || version > VERSION)
        return prime__error(PRIME_E_FORMAT,
                            "%s: binary outcomes version %u; this libprime reads version %d "
                            "(a newer libprime may read it)",
                            name, version, VERSION);
    if (prime__get_le64(d + H_HEADER_SUM) != prime__checksum(d, H_HEADER_SUM, SEED_HEADER))
        return bad(name, "the header checksum does not match: the file is damaged");
    uint32_t kind = prime__get_le32(d + H_KIND);
    uint64_t n = prime__get_le64(d + H_COUNT);
    if (kind < PRIME_OUTCOMES_BITS || kind > PRIME_OUTCOMES_F64)
        return bad(name, "unknown kind of binary outcomes");
    if (n > UINT32_MAX - 2)
        return bad(name, "the outcome count is out of range");
    uint64_t psize = payload_size((int32_t)kind, n);
    if (size - HEADER < psize)
        return bad(name, "truncated: the file is shorter than its count says");
    if (size - HEADER > psize)
        return bad(name, "unexpected bytes after the end of the binary outcomes");
    *kind_out = kind;
    *n_out = n;
    *psize_out = psize;
    return PRIME_OK;
}

/* Outcomes first .. first + count - 1 of the file into dst[0..count): p
 * holds the payload from its byte `base` on (bits: base = first / 8; else
 * base = 8 * first). */
static prime_status decode(uint32_t kind, const unsigned char *p, uint64_t first,
                           uint64_t count, const char *name, double *dst)
{
    for (uint64_t j = 0; j < count; j++) {
        uint64_t i = first + j; /* the file's index, for messages */
        double v;
        if (kind == PRIME_OUTCOMES_BITS) {
            uint64_t b = i - first / 8 * 8;
            v = (p[b / 8] >> (b % 8)) & 1u;
        } else if (kind == PRIME_OUTCOMES_FIXED) {
            uint64_t u = prime__get_le64(p + 8 * j);
            if (u > (uint64_t)1 << 32)
                return prime__error(PRIME_E_RANGE, "%s: outcome %llu is above 1 (fixed point "
                                                   "%llu)",
                                    name, (unsigned long long)i, (unsigned long long)u);
            v = (double)u / FIXED_ONE;
        } else {
            uint64_t bits = prime__get_le64(p + 8 * j);
            memcpy(&v, &bits, 8);
            if (!(v >= 0.0 && v <= 1.0))
                return prime__error(PRIME_E_RANGE, "%s: outcome %llu is not in [0, 1]", name,
                                    (unsigned long long)i);
        }
        dst[j] = v;
    }
    return PRIME_OK;
}

static prime_status other_store(const char *name, uint64_t theirs, uint64_t ours)
{
    return prime__error(PRIME_E_MISMATCH,
                        "%s: these outcomes were written for another tag store (its "
                        "checksum %016llx, this store's %016llx)",
                        name, (unsigned long long)theirs, (unsigned long long)ours);
}

prime_status prime__outcomes_open_memory(const void *data, size_t size, const char *name,
                                         const prime_tagstore *store, prime_outcomes **out)
{
    const unsigned char *d = data;
    uint32_t kind = 0;
    uint64_t n = 0, psize = 0;
    prime_status st = check_head(d, size, name, &kind, &n, &psize);
    if (st != PRIME_OK)
        return st;
    const unsigned char *p = d + HEADER;
    if (prime__get_le64(d + H_PAYLOAD_SUM) != prime__checksum(p, (size_t)psize, SEED_PAYLOAD))
        return bad(name, "the payload checksum does not match: the file is damaged");
    if (n != store->images.count)
        return prime__error(PRIME_E_MISMATCH,
                            "%s: outcomes for %llu images, the tag store has %u (they were "
                            "written for another store)",
                            name, (unsigned long long)n, store->images.count);
    uint64_t store_sum = 0;
    st = prime_tagstore_checksum(store, &store_sum);
    if (st != PRIME_OK)
        return st;
    if (store_sum != prime__get_le64(d + H_STORE_SUM))
        return other_store(name, prime__get_le64(d + H_STORE_SUM), store_sum);
    if (kind == PRIME_OUTCOMES_BITS && n % 8 != 0 && (p[n / 8] >> (n % 8)) != 0)
        return bad(name, "padding bits after the last outcome are not zero");
    prime_outcomes *o = NULL;
    if ((st = prime_outcomes_create((uint32_t)n, &o)) != PRIME_OK)
        return st;
    st = decode(kind, p, 0, n, name, o->v);
    if (st != PRIME_OK) {
        prime_outcomes_destroy(o);
        return st;
    }
    *out = o;
    return PRIME_OK;
}

prime_status prime__outcomes_file_open(const char *path, uint64_t store_sum, uint64_t n_images,
                                       prime__outcomes_file *f)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return prime__error(errno == ENOENT ? PRIME_E_NOT_FOUND : PRIME_E_IO,
                            "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    unsigned char d[HEADER] = {0};
    uint32_t kind = 0;
    uint64_t n = 0, psize = 0, sum = 0;
    prime_status st = PRIME_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        st = prime__error(PRIME_E_IO, "%s: not a regular file", path);
    uint64_t fsize = st == PRIME_OK ? (uint64_t)sb.st_size : 0;
    if (st == PRIME_OK)
        st = prime__read_at(fd, d, fsize < HEADER ? fsize : HEADER, 0, path);
    if (st == PRIME_OK)
        st = check_head(d, fsize, path, &kind, &n, &psize);
    if (st == PRIME_OK)
        st = prime__checksum_file_range(fd, HEADER, HEADER + psize, SEED_PAYLOAD, path, &sum);
    if (st == PRIME_OK && sum != prime__get_le64(d + H_PAYLOAD_SUM))
        st = bad(path, "the payload checksum does not match: the file is damaged");
    if (st == PRIME_OK && n != n_images)
        st = prime__error(PRIME_E_MISMATCH,
                          "%s: outcomes for %llu images, the tag store has %llu (they were "
                          "written for another store)",
                          path, (unsigned long long)n, (unsigned long long)n_images);
    if (st == PRIME_OK && store_sum != prime__get_le64(d + H_STORE_SUM))
        st = other_store(path, prime__get_le64(d + H_STORE_SUM), store_sum);
    if (st == PRIME_OK && kind == PRIME_OUTCOMES_BITS && n % 8 != 0) {
        unsigned char last = 0;
        st = prime__read_at(fd, &last, 1, HEADER + n / 8, path);
        if (st == PRIME_OK && (last >> (n % 8)) != 0)
            st = bad(path, "padding bits after the last outcome are not zero");
    }
    if (st == PRIME_OK && (f->path = prime__strndup(path, strlen(path))) == NULL)
        st = prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    if (st != PRIME_OK) {
        close(fd);
        return st;
    }
    f->fd = fd;
    f->kind = kind;
    f->n = n;
    return PRIME_OK;
}

prime_status prime__outcomes_file_read(const prime__outcomes_file *f, uint64_t first,
                                       uint64_t count, double *dst)
{
    if (count == 0)
        return PRIME_OK;
    uint32_t kind = f->kind;
    uint64_t base = kind == PRIME_OUTCOMES_BITS ? first / 8 : 8 * first;
    uint64_t bytes = kind == PRIME_OUTCOMES_BITS ? (first + count + 7) / 8 - base : 8 * count;
    unsigned char *p = prime__malloc((size_t)bytes);
    if (p == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", f->path);
    prime_status st = prime__read_at(f->fd, p, bytes, HEADER + base, f->path);
    if (st == PRIME_OK)
        st = decode(kind, p, first, count, f->path, dst);
    prime__free(p);
    return st;
}

void prime__outcomes_file_close(prime__outcomes_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    prime__free(f->path);
    f->path = NULL;
}

prime_status prime__outcomes_open_part(const char *path, const prime_tagstore *store,
                                       prime_outcomes **out)
{
    prime__outcomes_file f;
    prime_status st = prime__outcomes_file_open(path, store->origin_sum, store->origin_images, &f);
    if (st != PRIME_OK)
        return st;
    prime_outcomes *o = NULL;
    st = prime_outcomes_create(store->images.count, &o);
    if (st == PRIME_OK)
        st = prime__outcomes_file_read(&f, store->origin_first, store->images.count, o->v);
    prime__outcomes_file_close(&f);
    if (st != PRIME_OK) {
        prime_outcomes_destroy(o);
        return st;
    }
    *out = o;
    return PRIME_OK;
}
