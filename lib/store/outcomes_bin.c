/* Binary outcomes bound to a store (docs/binary-format.md, "Binary
 * outcomes"): a 48-byte header (magic, version, kind, count, the store's
 * payload checksum, the payload checksum, the header checksum) and the
 * values as bits, fixed point (units of 2^-32) or IEEE binary64, all
 * little-endian. */
#include <math.h>
#include <string.h>

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

prime_status prime__outcomes_open_memory(const void *data, size_t size, const char *name,
                                         const prime_tagstore *store, prime_outcomes **out)
{
    const unsigned char *d = data;
    if (!prime__is_binary_outcomes(data, size))
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
    if ((uint64_t)size - HEADER < psize)
        return bad(name, "truncated: the file is shorter than its count says");
    if ((uint64_t)size - HEADER > psize)
        return bad(name, "unexpected bytes after the end of the binary outcomes");
    const unsigned char *p = d + HEADER;
    if (prime__get_le64(d + H_PAYLOAD_SUM) != prime__checksum(p, (size_t)psize, SEED_PAYLOAD))
        return bad(name, "the payload checksum does not match: the file is damaged");
    if (n != store->images.count)
        return prime__error(PRIME_E_MISMATCH,
                            "%s: outcomes for %llu images, the tag store has %u (they were "
                            "written for another store)",
                            name, (unsigned long long)n, store->images.count);
    uint64_t store_sum = 0;
    prime_status st = prime_tagstore_checksum(store, &store_sum);
    if (st != PRIME_OK)
        return st;
    if (store_sum != prime__get_le64(d + H_STORE_SUM))
        return prime__error(PRIME_E_MISMATCH,
                            "%s: these outcomes were written for another tag store (its "
                            "checksum %016llx, this store's %016llx)",
                            name, (unsigned long long)prime__get_le64(d + H_STORE_SUM),
                            (unsigned long long)store_sum);
    if (kind == PRIME_OUTCOMES_BITS && n % 8 != 0 && (p[n / 8] >> (n % 8)) != 0)
        return bad(name, "padding bits after the last outcome are not zero");
    prime_outcomes *o = NULL;
    if ((st = prime_outcomes_create((uint32_t)n, &o)) != PRIME_OK)
        return st;
    for (uint64_t i = 0; i < n; i++) {
        double v;
        if (kind == PRIME_OUTCOMES_BITS) {
            v = (p[i / 8] >> (i % 8)) & 1u;
        } else if (kind == PRIME_OUTCOMES_FIXED) {
            uint64_t u = prime__get_le64(p + 8 * i);
            if (u > (uint64_t)1 << 32) {
                prime_outcomes_destroy(o);
                return prime__error(PRIME_E_RANGE, "%s: outcome %llu is above 1 (fixed point "
                                                   "%llu)",
                                    name, (unsigned long long)i, (unsigned long long)u);
            }
            v = (double)u / FIXED_ONE;
        } else {
            uint64_t bits = prime__get_le64(p + 8 * i);
            memcpy(&v, &bits, 8);
            if (!(v >= 0.0 && v <= 1.0)) {
                prime_outcomes_destroy(o);
                return prime__error(PRIME_E_RANGE, "%s: outcome %llu is not in [0, 1]", name,
                                    (unsigned long long)i);
            }
        }
        o->v[i] = v;
    }
    *out = o;
    return PRIME_OK;
}
