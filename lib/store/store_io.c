/* The binary tag store file: save, open, validate. The layout is described
 * byte by byte in docs/binary-format.md; keep the two in step.
 *
 * A file is one fixed little-endian header followed by nine 8-byte aligned
 * sections that hold exactly the arrays of a frozen struct prime_tagstore.
 * The image tag ids are u16 when the store has at most 65,535 tags and the
 * image tag offsets u32 when the reference count fits in 32 bits (two
 * header flags say so), which more than halves an ImageNet-sized file.
 * Opening reads the whole file into one malloc'd blob, validates every byte
 * that is later trusted, and then lets the store use the arrays in place at
 * the file's widths (on a big-endian host they are first byte-swapped
 * inside the blob). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

/* ---- the format ---------------------------------------------------------- */

/* 0x89 catches 7-bit transfers, "\r\n" catches CRLF -> LF conversion, 0x1a
 * stops `type` on DOS, the final "\n" catches LF -> CRLF conversion (as in
 * PNG). "PRM" names the file for people who look at it with `head`. */
static const unsigned char MAGIC[8] = {0x89, 'P', 'R', 'M', '\r', '\n', 0x1a, '\n'};

enum {
    FORMAT_VERSION = 1,
    HEADER_SIZE = 208,
    /* field offsets in the header */
    H_MAGIC = 0,
    H_VERSION = 8,
    H_HEADER_SIZE = 12,
    H_FILE_SIZE = 16,
    H_FLAGS = 24,
    H_N_CLASSES = 28,
    H_N_TAGS = 32,
    H_N_IMAGES = 36,
    H_N_REFS = 40,
    H_SECTIONS = 48, /* N_SECTIONS x {u64 offset, u64 size} */
    H_PAYLOAD_SUM = 192,
    H_HEADER_SUM = 200,
};

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

/* Header flags: the widths of the two largest arrays. A writer sets each
 * one exactly when the narrow width can hold the values; a reader also
 * accepts the wide width (flag clear) whatever the counts. */
#define FLAG_TAG_IDS16 UINT32_C(0x1)  /* image tag ids are u16 (else u32) */
#define FLAG_TAG_OFF32 UINT32_C(0x2)  /* image tag offsets are u32 (else u64) */
#define FLAGS_KNOWN (FLAG_TAG_IDS16 | FLAG_TAG_OFF32)

static const char *const SECTION_NAMES[N_SECTIONS] = {
    "class name offsets", "class name bytes", "tag name offsets",
    "tag name bytes",     "image name offsets", "image name bytes",
    "image classes",      "image tag offsets",  "image tag ids",
};

/* Seeds of prime__checksum ("PRIMEHDR" and "PRIMEDAT" read as big-endian
 * numbers), so that a header is never mistaken for a payload. */
#define SEED_HEADER UINT64_C(0x5052494d45484452)
#define SEED_PAYLOAD UINT64_C(0x5052494d45444154)

/* Largest count of classes, tags or images: PRIME_NONE is reserved. */
#define MAX_COUNT (UINT32_MAX - 1u)

#define MEMORY_NAME "<memory>"

/* ---- little-endian access ------------------------------------------------ */

/* HOST_BIG_ENDIAN selects the byte-order-independent code (byte by byte
 * conversions). It is also correct on a little-endian host, where the
 * conversions change nothing, so a test build can force it with
 * -DPRIME_STORE_IO_PORTABLE to exercise it. */
#if (defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
     __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__) ||                  \
    defined(PRIME_STORE_IO_PORTABLE)
#define HOST_BIG_ENDIAN 1
#else
#define HOST_BIG_ENDIAN 0
#endif

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

/* Arrays: a plain copy on a little-endian host. */
static void put32s(unsigned char *dst, const uint32_t *src, size_t n)
{
#if HOST_BIG_ENDIAN
    for (size_t i = 0; i < n; i++)
        prime__put_le32(dst + 4 * i, src[i]);
#else
    if (n > 0)
        memcpy(dst, src, n * 4);
#endif
}

static void put64s(unsigned char *dst, const uint64_t *src, size_t n)
{
#if HOST_BIG_ENDIAN
    for (size_t i = 0; i < n; i++)
        prime__put_le64(dst + 8 * i, src[i]);
#else
    if (n > 0)
        memcpy(dst, src, n * 8);
#endif
}

#if HOST_BIG_ENDIAN
static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Turn a little-endian array inside the blob into host order, in place. */
static void swap16s_in_place(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t v = get16(p + 2 * i);
        memcpy(p + 2 * i, &v, 2);
    }
}

static void swap32s_in_place(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v = prime__get_le32(p + 4 * i);
        memcpy(p + 4 * i, &v, 4);
    }
}

static void swap64s_in_place(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = prime__get_le64(p + 8 * i);
        memcpy(p + 8 * i, &v, 8);
    }
}
#endif

static uint64_t align8(uint64_t x)
{
    return (x + 7) & ~(uint64_t)7;
}

bool prime__is_binary_store(const void *data, size_t size)
{
    return data != NULL && size >= sizeof MAGIC && memcmp(data, MAGIC, sizeof MAGIC) == 0;
}

/* ---- save ---------------------------------------------------------------- */

/* The flags a writer sets for these counts: every array as narrow as its
 * values allow. */
static uint32_t flags_for(uint32_t n_tags, uint64_t n_refs)
{
    uint32_t flags = 0;
    if (n_tags <= PRIME_TAG_IDS16_MAX)
        flags |= FLAG_TAG_IDS16;
    if (n_refs <= UINT32_MAX)
        flags |= FLAG_TAG_OFF32;
    return flags;
}

static unsigned id_bytes(uint32_t flags)
{
    return (flags & FLAG_TAG_IDS16) ? 2u : 4u;
}

static unsigned off_bytes(uint32_t flags)
{
    return (flags & FLAG_TAG_OFF32) ? 4u : 8u;
}

/* Sizes of the nine sections of a store, in bytes. */
static void section_sizes(const prime_tagstore *s, uint32_t flags, uint64_t size[N_SECTIONS])
{
    const prime__names *t[3] = {&s->classes, &s->tags, &s->images};
    for (int k = 0; k < 3; k++) {
        size[2 * k] = ((uint64_t)t[k]->count + 1) * 8;
        size[2 * k + 1] = t[k]->count > 0 ? t[k]->off[t[k]->count] : 0;
    }
    uint32_t ni = s->images.count;
    size[S_IMAGE_CLASS] = (uint64_t)ni * 4;
    size[S_IMAGE_TAG_OFF] = ((uint64_t)ni + 1) * off_bytes(flags);
    size[S_IMAGE_TAG_IDS] = prime__store_ref_count(s) * id_bytes(flags);
}

/* The image tag offsets of the store at the file's width. */
static void write_tag_off(unsigned char *dst, const prime_tagstore *s, uint32_t flags)
{
    size_t n = (size_t)s->images.count + 1;
    if (!s->off32 && s->tag_off == NULL)
        return; /* no image: the calloc'd single offset 0 */
    if (off_bytes(flags) == 8) {
        if (!s->off32) {
            put64s(dst, s->tag_off, n);
            return;
        }
        for (size_t i = 0; i < n; i++)
            prime__put_le64(dst + 8 * i, s->tag_off32[i]);
    } else if (s->off32) {
        put32s(dst, s->tag_off32, n);
    } else {
        /* every offset is <= the reference count, which fits (flags_for) */
        for (size_t i = 0; i < n; i++)
            prime__put_le32(dst + 4 * i, (uint32_t)s->tag_off[i]);
    }
}

/* The image tag ids of the store at the file's width. */
static void write_tag_ids(unsigned char *dst, const prime_tagstore *s, uint32_t flags)
{
    size_t n = (size_t)prime__store_ref_count(s);
    if (n == 0)
        return;
    if (id_bytes(flags) == 4) {
        if (!s->ids16) {
            put32s(dst, s->tag_ids, n);
            return;
        }
        for (size_t k = 0; k < n; k++)
            prime__put_le32(dst + 4 * k, s->tag_ids16[k]);
        return;
    }
    if (s->ids16) {
#if HOST_BIG_ENDIAN
        for (size_t k = 0; k < n; k++)
            put16(dst + 2 * k, s->tag_ids16[k]);
#else
        memcpy(dst, s->tag_ids16, n * 2);
#endif
        return;
    }
    /* every id is below the tag count, which fits (flags_for) */
    for (size_t k = 0; k < n; k++)
        put16(dst + 2 * k, (uint16_t)s->tag_ids[k]);
}

static void write_names(unsigned char *file, const uint64_t off[N_SECTIONS], int k,
                        const prime__names *t)
{
    unsigned char *o = file + off[2 * k];
    if (t->count == 0) {
        prime__put_le64(o, 0);
        return;
    }
    put64s(o, t->off, (size_t)t->count + 1);
    if (t->off[t->count] > 0)
        memcpy(file + off[2 * k + 1], t->bytes, (size_t)t->off[t->count]);
}

/* The bytes of the file of a frozen store (prime_tagstore_save writes them;
 * prime_tagstore_checksum reads the payload checksum in them); `path` is
 * used in messages. */
prime_status prime__store_serialize(const prime_tagstore *store, const char *path,
                                    unsigned char **file_out, size_t *size_out)
{
    if (!store->frozen)
        return prime__error(PRIME_E_STATE,
                            "%s: cannot save a tag store that is not frozen "
                            "(call prime_tagstore_freeze first)",
                            path);

    uint32_t ni = store->images.count;
    uint64_t n_refs = prime__store_ref_count(store);
    uint32_t flags = flags_for(store->tags.count, n_refs);
    uint64_t size[N_SECTIONS], off[N_SECTIONS];
    section_sizes(store, flags, size);
    uint64_t pos = HEADER_SIZE;
    for (int k = 0; k < N_SECTIONS; k++) {
        off[k] = pos;
        pos = align8(pos + size[k]);
    }
    if (pos > SIZE_MAX)
        return prime__error(PRIME_E_LIMIT, "%s: the store is too large for this host", path);
    size_t file_size = (size_t)pos;

    /* calloc: the padding between sections is zero. */
    unsigned char *file = prime__calloc(1, file_size);
    if (file == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory serialising the store", path);

    write_names(file, off, 0, &store->classes);
    write_names(file, off, 1, &store->tags);
    write_names(file, off, 2, &store->images);
    put32s(file + off[S_IMAGE_CLASS], store->image_class, ni);
    write_tag_off(file + off[S_IMAGE_TAG_OFF], store, flags);
    write_tag_ids(file + off[S_IMAGE_TAG_IDS], store, flags);

    memcpy(file + H_MAGIC, MAGIC, sizeof MAGIC);
    prime__put_le32(file + H_VERSION, FORMAT_VERSION);
    prime__put_le32(file + H_HEADER_SIZE, HEADER_SIZE);
    prime__put_le64(file + H_FILE_SIZE, pos);
    prime__put_le32(file + H_FLAGS, flags);
    prime__put_le32(file + H_N_CLASSES, store->classes.count);
    prime__put_le32(file + H_N_TAGS, store->tags.count);
    prime__put_le32(file + H_N_IMAGES, ni);
    prime__put_le64(file + H_N_REFS, n_refs);
    for (int k = 0; k < N_SECTIONS; k++) {
        prime__put_le64(file + H_SECTIONS + 16 * k, off[k]);
        prime__put_le64(file + H_SECTIONS + 16 * k + 8, size[k]);
    }
    prime__put_le64(file + H_PAYLOAD_SUM,
          prime__checksum(file + HEADER_SIZE, file_size - HEADER_SIZE, SEED_PAYLOAD));
    prime__put_le64(file + H_HEADER_SUM, prime__checksum(file, H_HEADER_SUM, SEED_HEADER));
    *file_out = file;
    *size_out = file_size;
    return PRIME_OK;
}

prime_status prime_tagstore_save(const prime_tagstore *store, const char *path)
{
    return prime_tagstore_save_to(store, NULL, path);
}

prime_status prime_tagstore_save_to(const prime_tagstore *store, prime_writer *writer,
                                    const char *path)
{
    if (store == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_save: store is NULL");
    if (path == NULL || path[0] == '\0')
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_save: no output path given");
    unsigned char *file = NULL;
    size_t file_size = 0;
    prime_status st = prime__store_serialize(store, path, &file, &file_size);
    if (st != PRIME_OK)
        return st;
    st = writer != NULL ? prime_writer_add(writer, path, file, file_size)
                        : prime__write_file_atomic(path, file, file_size);
    prime__free(file);
    return st;
}

prime_status prime_tagstore_checksum(const prime_tagstore *store, uint64_t *checksum_out)
{
    if (store == NULL || checksum_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_checksum: NULL argument");
    /* a frozen store never changes: its checksum is computed once */
    uint64_t known = atomic_load_explicit(&store->checksum_cache, memory_order_relaxed);
    if (known != 0 && store->frozen) {
        *checksum_out = known;
        return PRIME_OK;
    }
    unsigned char *file = NULL;
    size_t file_size = 0;
    prime_status st = prime__store_serialize(store, "<store>", &file, &file_size);
    if (st != PRIME_OK)
        return st;
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | file[H_PAYLOAD_SUM + k];
    prime__free(file);
    atomic_store_explicit(&((prime_tagstore *)store)->checksum_cache, v, memory_order_relaxed);
    *checksum_out = v;
    return PRIME_OK;
}

/* ---- open: validation ---------------------------------------------------- */

/* What the header says, once checked. */
typedef struct {
    uint32_t flags;
    uint32_t n_classes, n_tags, n_images;
    uint64_t n_refs;
    uint64_t off[N_SECTIONS], size[N_SECTIONS];
} layout;

static prime_status bad(const char *name, const char *what)
{
    return prime__error(PRIME_E_FORMAT, "%s: %s", name, what);
}

static prime_status check_magic(const unsigned char *d, size_t n, const char *name)
{
    if (n == 0)
        return bad(name, "empty file, not a libprime binary tag store");
    if (n >= 4 && d[0] == 0x89 && memcmp(d + 1, "PRM", 3) == 0 && n >= sizeof MAGIC &&
        !prime__is_binary_store(d, n))
        /* Our file, its line-ending bytes changed (CR LF -> LF, LF -> CR LF). */
        return bad(name, "the line-ending bytes of the magic number were changed, most "
                         "likely by a text-mode transfer; the file is damaged");
    if (n >= 4 && d[0] == 0x09 && memcmp(d + 1, "PRM", 3) == 0)
        return bad(name, "the high bit of the first byte was cleared (the file was "
                         "transferred as 7-bit text); it is damaged");
    if (n < sizeof MAGIC) {
        if (memcmp(d, MAGIC, n) == 0)
            return prime__error(PRIME_E_FORMAT,
                                "%s: truncated: %zu bytes, shorter than the %zu-byte header",
                                name, n, (size_t)HEADER_SIZE);
        return bad(name, "not a libprime binary tag store (wrong magic bytes)");
    }
    if (!prime__is_binary_store(d, n))
        return bad(name, "not a libprime binary tag store (wrong magic bytes)");
    return PRIME_OK;
}

/* Everything in the header: version, sizes, checksums, section layout.
 * whole: d holds the whole file (n bytes); else only its header, n being
 * the file's size: the padding bytes and the payload checksum are then the
 * caller's to check (prime_tagstore_open_part). */
static prime_status check_header(const unsigned char *d, size_t n, const char *name,
                                 layout *L, bool whole)
{
    prime_status st = check_magic(d, n, name);
    if (st != PRIME_OK)
        return st;
    if (n < H_VERSION + 4)
        return prime__error(PRIME_E_FORMAT,
                            "%s: truncated: %zu bytes, shorter than the %zu-byte header", name,
                            n, (size_t)HEADER_SIZE);
    uint32_t version = prime__get_le32(d + H_VERSION);
    if (version > FORMAT_VERSION)
        return prime__error(PRIME_E_FORMAT,
                            "%s: binary store format version %" PRIu32
                            " is newer than this libprime (%s) can read (version %d); "
                            "upgrade libprime or rebuild the store from its text files",
                            name, version, PRIME_VERSION_STRING, FORMAT_VERSION);
    if (version == 0)
        return bad(name, "invalid binary store format version 0");
    if (n < HEADER_SIZE)
        return prime__error(PRIME_E_FORMAT,
                            "%s: truncated: %zu bytes, shorter than the %zu-byte header", name,
                            n, (size_t)HEADER_SIZE);
    uint32_t hsize = prime__get_le32(d + H_HEADER_SIZE);
    if (hsize != HEADER_SIZE)
        return prime__error(PRIME_E_FORMAT,
                            "%s: header size is %" PRIu32 " bytes, expected %d for version %d",
                            name, hsize, HEADER_SIZE, FORMAT_VERSION);
    uint64_t want = prime__get_le64(d + H_HEADER_SUM);
    uint64_t got = prime__checksum(d, H_HEADER_SUM, SEED_HEADER);
    if (want != got)
        return bad(name, "header checksum mismatch (the header is damaged)");

    uint64_t fsize = prime__get_le64(d + H_FILE_SIZE);
    if (fsize > n)
        return prime__error(PRIME_E_FORMAT,
                            "%s: truncated: the header says %" PRIu64 " bytes, the file has %zu",
                            name, fsize, n);
    if (fsize < n)
        return prime__error(PRIME_E_FORMAT,
                            "%s: %zu unexpected bytes after the end of the store (%" PRIu64
                            " bytes)",
                            name, n - (size_t)fsize, fsize);
    uint32_t flags = prime__get_le32(d + H_FLAGS);
    if ((flags & ~FLAGS_KNOWN) != 0)
        return prime__error(PRIME_E_FORMAT, "%s: unknown flags 0x%08" PRIx32 " in the header",
                            name, flags & ~FLAGS_KNOWN);
    L->flags = flags;

    L->n_classes = prime__get_le32(d + H_N_CLASSES);
    L->n_tags = prime__get_le32(d + H_N_TAGS);
    L->n_images = prime__get_le32(d + H_N_IMAGES);
    L->n_refs = prime__get_le64(d + H_N_REFS);
    if (L->n_classes > MAX_COUNT || L->n_tags > MAX_COUNT || L->n_images > MAX_COUNT)
        return bad(name, "a class, tag or image count is 2^32-1 or more");
    if (L->n_refs > UINT64_MAX / 8)
        return prime__error(PRIME_E_FORMAT, "%s: impossible tag reference count %" PRIu64,
                            name, L->n_refs);
    /* A narrow width must hold every value it is used for. */
    if ((flags & FLAG_TAG_IDS16) && L->n_tags > PRIME_TAG_IDS16_MAX)
        return prime__error(PRIME_E_FORMAT,
                            "%s: inconsistent widths: the flags say 16-bit tag ids, but the "
                            "store has %" PRIu32 " tags (more than %u)",
                            name, L->n_tags, PRIME_TAG_IDS16_MAX);
    if ((flags & FLAG_TAG_OFF32) && L->n_refs > UINT32_MAX)
        return prime__error(PRIME_E_FORMAT,
                            "%s: inconsistent widths: the flags say 32-bit tag offsets, but "
                            "the store has %" PRIu64 " tag references (2^32 or more)",
                            name, L->n_refs);

    /* Sections must lie one after another in order, each at the next 8-byte
     * boundary, with exactly the sizes the counts give, and fill the file.
     * Every sum below is of values <= n (checked first) or of counts below
     * 2^62, so none overflows. */
    uint64_t expect_size[N_SECTIONS];
    expect_size[S_CLASS_NAME_OFF] = ((uint64_t)L->n_classes + 1) * 8;
    expect_size[S_TAG_NAME_OFF] = ((uint64_t)L->n_tags + 1) * 8;
    expect_size[S_IMAGE_NAME_OFF] = ((uint64_t)L->n_images + 1) * 8;
    expect_size[S_IMAGE_CLASS] = (uint64_t)L->n_images * 4;
    expect_size[S_IMAGE_TAG_OFF] = ((uint64_t)L->n_images + 1) * off_bytes(flags);
    expect_size[S_IMAGE_TAG_IDS] = L->n_refs * id_bytes(flags);
    uint64_t pos = HEADER_SIZE;
    for (int k = 0; k < N_SECTIONS; k++) {
        uint64_t o = prime__get_le64(d + H_SECTIONS + 16 * k);
        uint64_t sz = prime__get_le64(d + H_SECTIONS + 16 * k + 8);
        if (o != pos)
            return prime__error(PRIME_E_FORMAT,
                                "%s: section '%s' starts at byte %" PRIu64 ", expected %" PRIu64,
                                name, SECTION_NAMES[k], o, pos);
        if (sz > fsize - o)
            return prime__error(PRIME_E_FORMAT,
                                "%s: section '%s' (%" PRIu64 " bytes at %" PRIu64
                                ") runs past the end of the file (%" PRIu64 " bytes)",
                                name, SECTION_NAMES[k], sz, o, fsize);
        bool is_bytes = k == S_CLASS_NAME_BYTES || k == S_TAG_NAME_BYTES ||
                        k == S_IMAGE_NAME_BYTES;
        if (!is_bytes && sz != expect_size[k]) {
            const char *width = k == S_IMAGE_TAG_OFF   ? (flags & FLAG_TAG_OFF32) ? " of u32"
                                                                                : " of u64"
                                : k == S_IMAGE_TAG_IDS ? (flags & FLAG_TAG_IDS16) ? " of u16"
                                                                                : " of u32"
                                                       : "";
            return prime__error(PRIME_E_FORMAT,
                                "%s: section '%s' is %" PRIu64 " bytes, the counts say %" PRIu64
                                "%s",
                                name, SECTION_NAMES[k], sz, expect_size[k], width);
        }
        L->off[k] = o;
        L->size[k] = sz;
        pos = align8(o + sz);
        if (pos > fsize)
            return prime__error(PRIME_E_FORMAT,
                                "%s: section '%s' runs past the end of the file", name,
                                SECTION_NAMES[k]);
        for (uint64_t i = o + sz; whole && i < pos; i++)
            if (d[i] != 0)
                return prime__error(PRIME_E_FORMAT,
                                    "%s: non-zero padding byte after section '%s'", name,
                                    SECTION_NAMES[k]);
    }
    if (pos != fsize)
        return prime__error(PRIME_E_FORMAT,
                            "%s: the sections end at byte %" PRIu64 ", the file at %" PRIu64,
                            name, pos, fsize);

    if (!whole)
        return PRIME_OK;
    want = prime__get_le64(d + H_PAYLOAD_SUM);
    got = prime__checksum(d + HEADER_SIZE, (size_t)(fsize - HEADER_SIZE), SEED_PAYLOAD);
    if (want != got)
        return bad(name, "checksum mismatch (the file is damaged)");
    return PRIME_OK;
}

enum { KIND_CLASS, KIND_TAG, KIND_IMAGE };
static const char *const KIND_NAMES[3] = {"class", "tag", "image"};
static const char *const KIND_PLURALS[3] = {"classes", "tags", "images"};

/* One name table: offsets strictly increasing from 0 to the byte count,
 * each name NUL-terminated without an interior NUL, valid UTF-8, and the
 * rules of its kind. `off` is in host order. */
static prime_status check_names(const uint64_t *off, uint32_t count, const char *bytes,
                                uint64_t nbytes, int kind, const char *name)
{
    const char *what = KIND_NAMES[kind];
    if (off[0] != 0)
        return prime__error(PRIME_E_FORMAT, "%s: %s name offsets do not start at 0", name,
                            what);
    if (off[count] != nbytes)
        return prime__error(PRIME_E_FORMAT,
                            "%s: %s name offsets end at %" PRIu64 ", the name bytes are %" PRIu64
                            " long",
                            name, what, off[count], nbytes);
    for (uint32_t i = 0; i < count; i++) {
        if (off[i + 1] <= off[i])
            return prime__error(PRIME_E_FORMAT,
                                "%s: %s %" PRIu32 ": name offsets are not increasing", name, what,
                                i);
    }
    /* Offsets are increasing and end at nbytes, so each name lies inside
     * the bytes. */
    for (uint32_t i = 0; i < count; i++) {
        uint64_t len = off[i + 1] - off[i] - 1;
        const char *s = bytes + off[i];
        if (s[len] != '\0')
            return prime__error(PRIME_E_FORMAT, "%s: %s %" PRIu32 ": name is not NUL-terminated",
                                name, what, i);
        if (len > 0 && memchr(s, '\0', (size_t)len) != NULL)
            return prime__error(PRIME_E_FORMAT, "%s: %s %" PRIu32 ": name holds a NUL byte",
                                name, what, i);
        if (kind == KIND_CLASS && len == 0)
            return prime__error(PRIME_E_FORMAT, "%s: class %" PRIu32 ": empty name", name, i);
        if (kind == KIND_TAG) {
            if (len == 0)
                return prime__error(PRIME_E_FORMAT, "%s: tag %" PRIu32 ": empty name", name, i);
            if (len > PRIME_MAX_TAG_NAME)
                return prime__error(PRIME_E_FORMAT,
                                    "%s: tag %" PRIu32 ": name is %" PRIu64
                                    " bytes, longer than %d",
                                    name, i, len, PRIME_MAX_TAG_NAME);
            if (memchr(s, '|', (size_t)len) != NULL)
                return prime__error(PRIME_E_FORMAT, "%s: tag %" PRIu32 ": name holds '|'",
                                    name, i);
        }
    }
    /* NUL is ASCII and never part of a multi-byte sequence, so the whole
     * table is valid UTF-8 exactly when every name is. */
    if (!prime__utf8_valid(bytes, (size_t)nbytes)) {
        for (uint32_t i = 0; i < count; i++)
            if (!prime__utf8_valid(bytes + off[i], (size_t)(off[i + 1] - off[i] - 1)))
                return prime__error(PRIME_E_FORMAT,
                                    "%s: %s %" PRIu32 ": name is not valid UTF-8", name, what, i);
        return prime__error(PRIME_E_FORMAT, "%s: %s names are not valid UTF-8", name, what);
    }
    return PRIME_OK;
}

/* The slow scan that names the first bad image; only run once the fast
 * checks in check_images found a problem. `v` views the arrays (offsets
 * already checked). */
static prime_status explain_images(const prime_tagstore *v, const layout *L, const char *name)
{
    uint32_t ni = L->n_images, nc = L->n_classes, nt = L->n_tags;
    for (uint32_t i = 0; i < ni; i++)
        if (v->image_class[i] >= nc)
            return prime__error(PRIME_E_FORMAT,
                                "%s: image %" PRIu32 ": class id %" PRIu32
                                " is out of range (%" PRIu32 " classes)",
                                name, i, v->image_class[i], nc);
    for (uint32_t i = 0; i < ni; i++) {
        uint64_t a = prime__store_tag_off(v, i), b = prime__store_tag_off(v, i + 1);
        for (uint64_t j = a + 1; j < b; j++)
            if (prime__store_tag(v, j) <= prime__store_tag(v, j - 1))
                return prime__error(PRIME_E_FORMAT,
                                    "%s: image %" PRIu32 ": tag ids are not strictly increasing",
                                    name, i);
        if (b > a && prime__store_tag(v, b - 1) >= nt)
            return prime__error(PRIME_E_FORMAT,
                                "%s: image %" PRIu32 ": tag id %" PRIu32
                                " is out of range (%" PRIu32 " tags)",
                                name, i, prime__store_tag(v, b - 1), nt);
    }
    return bad(name, "invalid image tag lists");
}

/* Image tag offsets: 0 first, never decreasing, n_refs last. Written for
 * one offset width `ow` (a constant once inlined). */
static inline __attribute__((always_inline)) prime_status
check_offsets_w(const prime_tagstore *v, const layout *L, const char *name, unsigned ow)
{
    uint32_t ni = L->n_images;
    uint64_t nr = L->n_refs;
#define OFF(i) (ow == 4 ? (uint64_t)v->tag_off32[i] : v->tag_off[i])
    if (OFF(0) != 0)
        return bad(name, "image tag offsets do not start at 0");
    if (OFF(ni) != nr)
        return prime__error(PRIME_E_FORMAT,
                            "%s: image tag offsets end at %" PRIu64 ", expected %" PRIu64
                            " tag references",
                            name, OFF(ni), nr);
    uint64_t bad_steps = 0;
    for (uint32_t i = 0; i < ni; i++)
        bad_steps += OFF(i + 1) < OFF(i);
    if (bad_steps != 0) {
        for (uint32_t i = 0; i < ni; i++)
            if (OFF(i + 1) < OFF(i))
                return prime__error(PRIME_E_FORMAT,
                                    "%s: image %" PRIu32
                                    ": tag offsets are out of order or bounds",
                                    name, i);
    }
#undef OFF
    /* non-decreasing from 0 to nr: every offset is within bounds */
    return PRIME_OK;
}

/* Fast checks of the ids, written so that the compiler can vectorise them,
 * for one id width `iw` and one offset width `ow`:
 * - the largest tag id is in range (the tag lists cover every reference,
 *   from 0 to n_refs);
 * - the positions j where id[j] <= id[j - 1] are exactly the starts of
 *   (non-empty) images that follow a non-empty list, so every list is
 *   strictly increasing.
 * Returns true when they pass. */
static inline __attribute__((always_inline)) bool check_ids_w(const prime_tagstore *v,
                                                                const layout *L, unsigned iw,
                                                                unsigned ow)
{
    uint32_t ni = L->n_images;
    uint64_t nr = L->n_refs;
#define ID(k) prime__store_tag_w(v, k, iw)
#define OFF(i) (ow == 4 ? (uint64_t)v->tag_off32[i] : v->tag_off[i])
    uint32_t max_tag = nr > 0 ? ID(0) : 0;
    uint64_t falls = 0;
    for (uint64_t j = 1; j < nr; j++) {
        uint32_t a = ID(j - 1), b = ID(j);
        max_tag = b > max_tag ? b : max_tag;
        falls += b <= a;
    }
    uint64_t falls_at_starts = 0;
    for (uint32_t i = 0; i < ni; i++) {
        uint64_t a = OFF(i);
        /* distinct positions: the images are non-empty and in order */
        if (a > 0 && a < OFF(i + 1))
            falls_at_starts += ID(a) <= ID(a - 1);
    }
#undef ID
#undef OFF
    return !(nr > 0 && max_tag >= L->n_tags) && falls == falls_at_starts;
}

static prime_status check_images(const prime_tagstore *v, const layout *L, const char *name)
{
    uint32_t ni = L->n_images;
    prime_status st = v->off32 ? check_offsets_w(v, L, name, 4) : check_offsets_w(v, L, name, 8);
    if (st != PRIME_OK)
        return st;
    uint32_t max_class = 0;
    for (uint32_t i = 0; i < ni; i++)
        max_class = v->image_class[i] > max_class ? v->image_class[i] : max_class;
    bool ok;
    if (v->ids16)
        ok = v->off32 ? check_ids_w(v, L, 2, 4) : check_ids_w(v, L, 2, 8);
    else
        ok = v->off32 ? check_ids_w(v, L, 4, 4) : check_ids_w(v, L, 4, 8);
    if ((ni > 0 && max_class >= L->n_classes) || !ok)
        return explain_images(v, L, name);
    return PRIME_OK;
}

/* The per-class image lists. When the images are sorted by class (the
 * usual case: a data set listed class after class) the lists are the
 * ranges class_off[c] .. class_off[c+1] of image ids themselves and
 * class_images stays NULL, saving 4 bytes per image; otherwise the general
 * index of tagstore.c is built. */
static prime_status build_class_index(prime_tagstore *s)
{
    uint32_t nc = s->classes.count, ni = s->images.count;
    uint32_t falls = 0;
    for (uint32_t i = 1; i < ni; i++)
        falls += s->image_class[i] < s->image_class[i - 1];
    if (falls != 0)
        return prime__store_build_class_index(s);
    uint64_t *off = prime__calloc((size_t)nc + 1, sizeof(uint64_t));
    uint32_t *sizes = prime__calloc((size_t)nc + 1, sizeof(uint32_t));
    if (off == NULL || sizes == NULL) {
        prime__free(off);
        prime__free(sizes);
        return PRIME_E_NOMEM;
    }
    for (uint32_t i = 0; i < ni; i++)
        sizes[s->image_class[i]]++;
    for (uint32_t c = 0; c < nc; c++)
        off[c + 1] = off[c] + sizes[c];
    prime__free(s->class_off);
    prime__free(s->class_images);
    prime__free(s->class_size);
    s->class_off = off;
    s->class_images = NULL;
    s->class_size = sizes;
    s->class_cap = (size_t)nc + 1;
    return PRIME_OK;
}

/* ---- open: adoption ------------------------------------------------------ */

static void adopt_names(prime__names *t, unsigned char *blob, const layout *L, int k,
                        uint32_t count)
{
    t->count = count;
    t->off = (uint64_t *)(void *)(blob + L->off[2 * k]);
    t->bytes = (char *)(blob + L->off[2 * k + 1]);
    t->bytes_len = L->size[2 * k + 1];
    t->borrowed = true;
    t->off_cap = 0;
    t->bytes_cap = 0;
}

/* Build the hash index of a table; two equal names are a format error. */
static prime_status index_names(prime__names *t, int kind, const char *name)
{
    uint32_t dup = PRIME_NONE;
    prime_status st = prime__names_build_index(t, &dup);
    if (st == PRIME_E_DUPLICATE) {
        const char *s = prime__names_get(t, dup);
        size_t len = prime__names_len(t, dup);
        uint32_t first = dup;
        for (uint32_t i = 0; i < dup; i++)
            if (prime__names_len(t, i) == len && memcmp(prime__names_get(t, i), s, len) == 0) {
                first = i;
                break;
            }
        return prime__error(PRIME_E_FORMAT,
                            "%s: %s %" PRIu32 " and %" PRIu32 " have the same name \"%.*s\"",
                            name, KIND_PLURALS[kind], first, dup, len > 200 ? 200 : (int)len, s);
    }
    if (st == PRIME_E_NOMEM)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory indexing %s names", name,
                            KIND_NAMES[kind]);
    return st;
}

/* Validate the blob (size n) and turn it into a store. Takes ownership of
 * blob in every case. */
prime_status prime__store_open_blob(unsigned char *blob, size_t n, const char *name,
                                    prime_tagstore **out)
{
    layout L;
    prime_status st = check_header(blob, n, name, &L, true);
    if (st != PRIME_OK) {
        prime__free(blob);
        return st;
    }
#if HOST_BIG_ENDIAN
    /* The checksums are verified; bring the arrays to host order in place. */
    swap64s_in_place(blob + L.off[S_CLASS_NAME_OFF], (size_t)L.n_classes + 1);
    swap64s_in_place(blob + L.off[S_TAG_NAME_OFF], (size_t)L.n_tags + 1);
    swap64s_in_place(blob + L.off[S_IMAGE_NAME_OFF], (size_t)L.n_images + 1);
    swap32s_in_place(blob + L.off[S_IMAGE_CLASS], (size_t)L.n_images);
    if (L.flags & FLAG_TAG_OFF32)
        swap32s_in_place(blob + L.off[S_IMAGE_TAG_OFF], (size_t)L.n_images + 1);
    else
        swap64s_in_place(blob + L.off[S_IMAGE_TAG_OFF], (size_t)L.n_images + 1);
    if (L.flags & FLAG_TAG_IDS16)
        swap16s_in_place(blob + L.off[S_IMAGE_TAG_IDS], (size_t)L.n_refs);
    else
        swap32s_in_place(blob + L.off[S_IMAGE_TAG_IDS], (size_t)L.n_refs);
#endif
    /* The blob comes from malloc and every section starts at a multiple of
     * 8, so the arrays are aligned. */
    const uint32_t counts[3] = {L.n_classes, L.n_tags, L.n_images};
    for (int k = 0; k < 3; k++) {
        st = check_names((const uint64_t *)(const void *)(blob + L.off[2 * k]), counts[k],
                         (const char *)(blob + L.off[2 * k + 1]), L.size[2 * k + 1], k, name);
        if (st != PRIME_OK) {
            prime__free(blob);
            return st;
        }
    }
    /* The per-image arrays, at the file's widths, in a view that the
     * accessors of internal.h read. */
    prime_tagstore v;
    memset(&v, 0, sizeof v);
    v.image_class = (uint32_t *)(void *)(blob + L.off[S_IMAGE_CLASS]);
    void *tag_off = blob + L.off[S_IMAGE_TAG_OFF];
    void *tag_ids = blob + L.off[S_IMAGE_TAG_IDS];
    v.off32 = (L.flags & FLAG_TAG_OFF32) != 0;
    v.ids16 = (L.flags & FLAG_TAG_IDS16) != 0;
    if (v.off32)
        v.tag_off32 = (const uint32_t *)tag_off;
    else
        v.tag_off = (uint64_t *)tag_off;
    if (v.ids16)
        v.tag_ids16 = (const uint16_t *)tag_ids;
    else
        v.tag_ids = (uint32_t *)tag_ids;
    st = check_images(&v, &L, name);
    if (st != PRIME_OK) {
        prime__free(blob);
        return st;
    }

    prime_tagstore *s = prime__calloc(1, sizeof *s);
    if (s == NULL) {
        prime__free(blob);
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
    }
    s->blob = blob;
    s->borrowed = true;
    adopt_names(&s->classes, blob, &L, 0, L.n_classes);
    adopt_names(&s->tags, blob, &L, 1, L.n_tags);
    adopt_names(&s->images, blob, &L, 2, L.n_images);
    s->image_class = v.image_class;
    s->tag_off = v.tag_off;
    s->tag_ids = v.tag_ids;
    s->tag_off32 = v.tag_off32;
    s->tag_ids16 = v.tag_ids16;
    s->off32 = v.off32;
    s->ids16 = v.ids16;
    s->image_cap = 0;
    s->tagref_cap = 0;

    st = index_names(&s->classes, KIND_CLASS, name);
    if (st == PRIME_OK)
        st = index_names(&s->tags, KIND_TAG, name);
    if (st == PRIME_OK)
        st = index_names(&s->images, KIND_IMAGE, name);
    if (st == PRIME_OK) {
        st = build_class_index(s);
        if (st == PRIME_E_NOMEM)
            st = prime__error(PRIME_E_NOMEM, "%s: out of memory indexing classes", name);
    }
    if (st != PRIME_OK) {
        prime_tagstore_destroy(s); /* frees the blob too */
        return st;
    }
    s->frozen = true;
    /* A file at the widths a writer chooses is what prime_tagstore_save
       writes for this store, byte for byte: its payload checksum (checked
       above) is the store's checksum, known without serialising it. */
    if (L.flags == flags_for(L.n_tags, L.n_refs))
        atomic_store_explicit(&s->checksum_cache, prime__get_le64(blob + H_PAYLOAD_SUM),
                              memory_order_relaxed);
    *out = s;
    return PRIME_OK;
}

prime_status prime_tagstore_open(const char *path, prime_tagstore **out)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_open: %s is NULL",
                            path == NULL ? "path" : "out");
    char *data = NULL;
    size_t size = 0;
    prime_status st = prime__read_file(path, &data, &size);
    if (st != PRIME_OK)
        return st;
    return prime__store_open_blob((unsigned char *)data, size, path, out);
}

prime_status prime_tagstore_open_memory(const void *data, size_t size, prime_tagstore **out)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || (data == NULL && size > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_open_memory: %s is NULL",
                            out == NULL ? "out" : "data");
    /* A copy: the caller's buffer may be unaligned or go away. */
    unsigned char *blob = prime__malloc(size);
    if (blob == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", MEMORY_NAME);
    if (size > 0)
        memcpy(blob, data, size);
    return prime__store_open_blob(blob, size, MEMORY_NAME, out);
}

/* ---- open a part: a range of the images of a file ------------------------ */

prime_status prime__read_at(int fd, void *dst, uint64_t size, uint64_t at, const char *path)
{
    unsigned char *d = dst;
    while (size > 0) {
        size_t want = size > ((size_t)1 << 30) ? ((size_t)1 << 30) : (size_t)size;
        ssize_t got = pread(fd, d, want, (off_t)at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return prime__error(PRIME_E_IO, "%s: cannot read: %s", path, strerror(errno));
        if (got == 0)
            return prime__error(PRIME_E_FORMAT, "%s: truncated (the file changed while it was "
                                                "read?)",
                                path);
        d += got;
        at += (uint64_t)got;
        size -= (uint64_t)got;
    }
    return PRIME_OK;
}

prime_status prime__checksum_file_range(int fd, uint64_t from, uint64_t to, uint64_t seed,
                                        const char *path, uint64_t *sum_out)
{
    enum { BLOCK = 1 << 22 };
    unsigned char *buf = prime__malloc(BLOCK);
    if (buf == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    prime__checksum_stream cs;
    prime__checksum_begin(&cs, seed);
    prime_status st = PRIME_OK;
    for (uint64_t at = from; st == PRIME_OK && at < to;) {
        uint64_t n = to - at < BLOCK ? to - at : BLOCK;
        st = prime__read_at(fd, buf, n, at, path);
        if (st == PRIME_OK)
            prime__checksum_add(&cs, buf, (size_t)n);
        at += n;
    }
    prime__free(buf);
    *sum_out = prime__checksum_end(&cs);
    return st;
}

/* The little-endian offsets at p[0..n) of width w (4 or 8), each less base. */
static void rebase_offsets(unsigned char *p, size_t n, unsigned w, uint64_t base)
{
    for (size_t i = 0; i < n; i++) {
        if (w == 4)
            prime__put_le32(p + 4 * i, (uint32_t)(prime__get_le32(p + 4 * i) - base));
        else
            prime__put_le64(p + 8 * i, prime__get_le64(p + 8 * i) - base);
    }
}

static uint64_t get_width(const unsigned char *p, unsigned w)
{
    return w == 4 ? prime__get_le32(p) : prime__get_le64(p);
}

/* A range of the file's images, [first, end). */
enum { SHORT_RUN = 256 }; /* runs of fewer images: their offsets read whole at once */
typedef struct {
    uint64_t first, end;
} image_run;

/* The part's store file, built in blob: the class and tag tables of the
 * file, then the image sections of the images of runs[0..n_runs) (ascending,
 * disjoint), one run after another. */
static prime_status read_runs(int fd, const char *path, const layout *L, const image_run *runs,
                              size_t n_runs, unsigned char **blob_out, size_t *size_out)
{
    unsigned ob = off_bytes(L->flags), ib = id_bytes(L->flags);
    uint64_t count = 0, name_bytes = 0, refs = 0, nb_last = 0, rf_last = 0;
    prime_status st = PRIME_OK;
    /* The byte and reference ranges of each run come from its offsets: a
       short run's offsets are read whole here (two reads; kept for the
       copy below), a long run's first and last only (four small reads;
       the rest are read into the store's file below). */
    uint64_t short_offsets = 0;
    for (size_t r = 0; r < n_runs; r++) {
        count += runs[r].end - runs[r].first;
        if (runs[r].end - runs[r].first < SHORT_RUN)
            short_offsets += runs[r].end - runs[r].first + 1;
    }
    uint64_t(*ranges)[4] = prime__malloc((n_runs ? n_runs : 1) * sizeof *ranges);
    unsigned char *noff = prime__malloc((size_t)(short_offsets + 1) * 8);
    unsigned char *toff = prime__malloc((size_t)(short_offsets + 1) * ob);
    if (ranges == NULL || noff == NULL || toff == NULL) {
        prime__free(ranges);
        prime__free(noff);
        prime__free(toff);
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    }
    for (size_t r = 0, at = 0; st == PRIME_OK && r < n_runs; r++) {
        uint64_t first = runs[r].first, n = runs[r].end - first;
        unsigned char *np = noff + 8 * at, *tp = toff + (size_t)ob * at;
        unsigned char ends[16];
        if (n < SHORT_RUN) {
            st = prime__read_at(fd, np, (n + 1) * 8, L->off[S_IMAGE_NAME_OFF] + 8 * first,
                                path);
            if (st == PRIME_OK)
                st = prime__read_at(fd, tp, (n + 1) * ob, L->off[S_IMAGE_TAG_OFF] + ob * first,
                                    path);
            at += n + 1;
        } else {
            np = ends;
            tp = ends + 8;
            st = prime__read_at(fd, ends, 8, L->off[S_IMAGE_NAME_OFF] + 8 * first, path);
            if (st == PRIME_OK)
                st = prime__read_at(fd, ends + 8, ob, L->off[S_IMAGE_TAG_OFF] + ob * first, path);
            ranges[r][0] = prime__get_le64(np);
            ranges[r][2] = get_width(tp, ob);
            if (st == PRIME_OK)
                st = prime__read_at(fd, ends, 8, L->off[S_IMAGE_NAME_OFF] + 8 * (first + n), path);
            if (st == PRIME_OK)
                st = prime__read_at(fd, ends + 8, ob, L->off[S_IMAGE_TAG_OFF] + ob * (first + n),
                                    path);
            n = 0; /* the last offsets are now at np and tp */
        }
        if (st != PRIME_OK)
            break;
        if (runs[r].end - first < SHORT_RUN) {
            ranges[r][0] = prime__get_le64(np);
            ranges[r][2] = get_width(tp, ob);
        }
        ranges[r][1] = prime__get_le64(np + 8 * n);
        ranges[r][3] = get_width(tp + (size_t)ob * n, ob);
        /* in order over the runs too: the part's bytes are at most the file's */
        if (ranges[r][0] < nb_last || ranges[r][0] > ranges[r][1] ||
            ranges[r][1] > L->size[S_IMAGE_NAME_BYTES])
            st = bad(path, "image name offsets out of order or past the name bytes");
        else if (ranges[r][2] < rf_last || ranges[r][2] > ranges[r][3] ||
                 ranges[r][3] > L->n_refs)
            st = bad(path, "image tag offsets out of order or past the tag references");
        nb_last = ranges[r][1];
        rf_last = ranges[r][3];
        name_bytes += ranges[r][1] - ranges[r][0];
        refs += ranges[r][3] - ranges[r][2];
    }
    if (st != PRIME_OK) {
        prime__free(ranges);
        prime__free(noff);
        prime__free(toff);
        return st;
    }

    uint64_t size[N_SECTIONS], off[N_SECTIONS];
    for (int k = S_CLASS_NAME_OFF; k <= S_TAG_NAME_BYTES; k++)
        size[k] = L->size[k];
    size[S_IMAGE_NAME_OFF] = (count + 1) * 8;
    size[S_IMAGE_NAME_BYTES] = name_bytes;
    size[S_IMAGE_CLASS] = count * 4;
    size[S_IMAGE_TAG_OFF] = (count + 1) * ob;
    size[S_IMAGE_TAG_IDS] = refs * ib;
    uint64_t pos = HEADER_SIZE;
    for (int k = 0; k < N_SECTIONS; k++) {
        off[k] = pos;
        pos = align8(pos + size[k]);
    }
    unsigned char *blob = pos > SIZE_MAX ? NULL : prime__calloc(1, (size_t)pos); /* zero padding */
    if (blob == NULL) {
        prime__free(ranges);
        prime__free(noff);
        prime__free(toff);
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    }
    for (int k = S_CLASS_NAME_OFF; st == PRIME_OK && k <= S_TAG_NAME_BYTES; k++)
        st = prime__read_at(fd, blob + off[k], size[k], L->off[k], path);
    /* the image sections, run after run; each run's offsets rebased to
       where its bytes land (its first offset overwrites the last one of
       the run before, the same value) */
    uint64_t at = 0, nb_at = 0, rf_at = 0, short_at = 0;
    for (size_t r = 0; st == PRIME_OK && r < n_runs; r++) {
        uint64_t first = runs[r].first, n = runs[r].end - first;
        uint64_t nb = ranges[r][1] - ranges[r][0], rf = ranges[r][3] - ranges[r][2];
        unsigned char *names = blob + off[S_IMAGE_NAME_OFF] + 8 * at;
        unsigned char *tags = blob + off[S_IMAGE_TAG_OFF] + ob * at;
        if (n < SHORT_RUN) { /* the offsets read above */
            memcpy(names, noff + 8 * short_at, (size_t)(n + 1) * 8);
            memcpy(tags, toff + (size_t)ob * short_at, (size_t)(n + 1) * ob);
            short_at += n + 1;
        } else {
            st = prime__read_at(fd, names, (n + 1) * 8, L->off[S_IMAGE_NAME_OFF] + 8 * first,
                                path);
            if (st == PRIME_OK)
                st = prime__read_at(fd, tags, (n + 1) * ob, L->off[S_IMAGE_TAG_OFF] + ob * first,
                                    path);
        }
        if (st == PRIME_OK)
            st = prime__read_at(fd, blob + off[S_IMAGE_NAME_BYTES] + nb_at, nb,
                            L->off[S_IMAGE_NAME_BYTES] + ranges[r][0], path);
        if (st == PRIME_OK)
            st = prime__read_at(fd, blob + off[S_IMAGE_CLASS] + 4 * at, n * 4,
                                L->off[S_IMAGE_CLASS] + 4 * first, path);
        if (st == PRIME_OK)
            st = prime__read_at(fd, blob + off[S_IMAGE_TAG_IDS] + ib * rf_at, rf * ib,
                                L->off[S_IMAGE_TAG_IDS] + ib * ranges[r][2], path);
        if (st != PRIME_OK)
            break;
        /* offsets less the run's first, plus what the runs before hold
           (unsigned arithmetic: a wrap is undone by the addition) */
        rebase_offsets(names, (size_t)n + 1, 8, ranges[r][0] - nb_at);
        rebase_offsets(tags, (size_t)n + 1, ob, ranges[r][2] - rf_at);
        at += n;
        nb_at += nb;
        rf_at += rf;
    }
    prime__free(ranges);
    prime__free(noff);
    prime__free(toff);
    if (st != PRIME_OK) {
        prime__free(blob);
        return st;
    }

    memcpy(blob, MAGIC, sizeof MAGIC);
    prime__put_le32(blob + H_VERSION, FORMAT_VERSION);
    prime__put_le32(blob + H_HEADER_SIZE, HEADER_SIZE);
    prime__put_le64(blob + H_FILE_SIZE, pos);
    prime__put_le32(blob + H_FLAGS, L->flags);
    prime__put_le32(blob + H_N_CLASSES, L->n_classes);
    prime__put_le32(blob + H_N_TAGS, L->n_tags);
    prime__put_le32(blob + H_N_IMAGES, (uint32_t)count);
    prime__put_le64(blob + H_N_REFS, refs);
    for (int k = 0; k < N_SECTIONS; k++) {
        prime__put_le64(blob + H_SECTIONS + 16 * k, off[k]);
        prime__put_le64(blob + H_SECTIONS + 16 * k + 8, size[k]);
    }
    prime__put_le64(blob + H_PAYLOAD_SUM,
          prime__checksum(blob + HEADER_SIZE, (size_t)(pos - HEADER_SIZE), SEED_PAYLOAD));
    prime__put_le64(blob + H_HEADER_SUM, prime__checksum(blob, H_HEADER_SUM, SEED_HEADER));
    *blob_out = blob;
    *size_out = (size_t)pos;
    return PRIME_OK;
}

/* Open path and check it as prime_tagstore_open does without holding it:
 * the header (into head), the padding bytes, and the payload checksum
 * (*sum_out) in one pass of blocks. On success *fd_out is the open file
 * and *sb_out its stat. */
static prime_status open_checked(const char *path, int *fd_out, layout *L,
                                 unsigned char head[HEADER_SIZE], uint64_t *sum_out,
                                 struct stat *sb_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return prime__error(errno == ENOENT ? PRIME_E_NOT_FOUND : PRIME_E_IO,
                            "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return prime__error(PRIME_E_IO, "%s: not a regular file", path);
    }
    uint64_t fsize = (uint64_t)sb.st_size;
    prime_status st = PRIME_OK;
    if (fsize < HEADER_SIZE) {
        /* too short for a header: the whole-file checks say what is wrong */
        close(fd);
        prime_tagstore *s = NULL;
        st = prime_tagstore_open(path, &s);
        prime_tagstore_destroy(s);
        return st != PRIME_OK ? st : bad(path, "truncated");
    }
    st = prime__read_at(fd, head, HEADER_SIZE, 0, path);
    if (st == PRIME_OK)
        st = check_header(head, (size_t)fsize, path, L, false);
    /* what the header check left to us: the padding and the payload */
    for (int k = 0; st == PRIME_OK && k < N_SECTIONS; k++) {
        unsigned char pad[8] = {0};
        uint64_t at = L->off[k] + L->size[k], n = align8(at) - at;
        st = prime__read_at(fd, pad, n, at, path);
        for (uint64_t i = 0; st == PRIME_OK && i < n; i++)
            if (pad[i] != 0)
                st = prime__error(PRIME_E_FORMAT, "%s: non-zero padding byte after section '%s'",
                                  path, SECTION_NAMES[k]);
    }
    uint64_t sum = 0;
    if (st == PRIME_OK)
        st = prime__checksum_file_range(fd, HEADER_SIZE, fsize, SEED_PAYLOAD, path, &sum);
    if (st == PRIME_OK && sum != prime__get_le64(head + H_PAYLOAD_SUM))
        st = bad(path, "checksum mismatch (the file is damaged)");
    if (st != PRIME_OK) {
        close(fd);
        return st;
    }
    *fd_out = fd;
    *sum_out = sum;
    *sb_out = sb;
    return PRIME_OK;
}

prime_status prime_tagstore_open_part(const char *path, uint32_t part, uint32_t n_parts,
                                      prime_tagstore **out, uint64_t *first_out,
                                      uint64_t *total_out)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_open_part: %s is NULL",
                            path == NULL ? "path" : "out");
    if (n_parts == 0 || part >= n_parts)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_tagstore_open_part: part %u of %u does not exist",
                            (unsigned)part, (unsigned)n_parts);
    int fd = -1;
    layout L;
    unsigned char head[HEADER_SIZE];
    uint64_t sum = 0;
    struct stat sb;
    prime_status st = open_checked(path, &fd, &L, head, &sum, &sb);
    if (st != PRIME_OK)
        return st;
    uint64_t first = 0, end = 0;
    st = prime_shard_range(L.n_images, part, n_parts, &first, &end);
    unsigned char *blob = NULL;
    size_t n = 0;
    image_run run = {first, end};
    if (st == PRIME_OK)
        st = read_runs(fd, path, &L, &run, 1, &blob, &n);
    close(fd);
    if (st != PRIME_OK)
        return st;
    st = prime__store_open_blob(blob, n, path, out);
    if (st != PRIME_OK)
        return st;
    (*out)->is_part = true;
    (*out)->origin_sum = sum;
    (*out)->origin_images = L.n_images;
    (*out)->origin_first = first;
    if (first_out != NULL)
        *first_out = first;
    if (total_out != NULL)
        *total_out = L.n_images;
    return PRIME_OK;
}

prime_status prime__store_bind_sum(const prime_tagstore *s, uint64_t *sum_out)
{
    if (s->class_part) {
        *sum_out = s->origin_sum;
        return PRIME_OK;
    }
    return prime_tagstore_checksum(s, sum_out);
}

/* ---- a binary store file read class by class ------------------------------ */

struct prime_class_reader {
    int fd;
    char *path;
    layout L;
    unsigned char head[HEADER_SIZE];
    uint64_t sum;          /* the payload checksum, verified at open */
    struct stat sb;        /* the file as it was opened */
    uint32_t *class_size;  /* n_classes */
    uint64_t *class_pos;   /* n_classes + 1: first file index of class c (sorted
                              file), or its start in class_list */
    uint32_t *class_list;  /* NULL (sorted file), else file indices by class */
    prime_tagstore *tables;
    bool has_outcomes;
    prime__outcomes_file outcomes;
};

void prime_class_reader_close(prime_class_reader *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        close(r->fd);
    if (r->has_outcomes)
        prime__outcomes_file_close(&r->outcomes);
    prime_tagstore_destroy(r->tables);
    prime__free(r->class_size);
    prime__free(r->class_pos);
    prime__free(r->class_list);
    prime__free(r->path);
    prime__free(r);
}

/* One pass over the section of image classes in blocks: the class sizes
 * (checking every id) and whether the images are sorted by class; a
 * second pass lists the images of each class when they are not. */
static prime_status index_classes(prime_class_reader *r)
{
    enum { BLOCK = 1 << 20 }; /* classes per read */
    const layout *L = &r->L;
    uint32_t nc = L->n_classes, ni = L->n_images;
    r->class_size = prime__calloc((size_t)nc + 1, sizeof *r->class_size);
    r->class_pos = prime__calloc((size_t)nc + 1, sizeof *r->class_pos);
    unsigned char *buf = prime__malloc((size_t)BLOCK * 4);
    prime_status st = PRIME_OK;
    if (r->class_size == NULL || r->class_pos == NULL || buf == NULL)
        st = prime__error(PRIME_E_NOMEM, "%s: out of memory indexing classes", r->path);
    bool sorted = true;
    uint32_t prev = 0;
    for (int pass = 0; st == PRIME_OK && pass < (sorted ? 1 : 2); pass++) {
        for (uint64_t i = 0; st == PRIME_OK && i < ni; i += BLOCK) {
            uint64_t n = ni - i < BLOCK ? ni - i : BLOCK;
            st = prime__read_at(r->fd, buf, 4 * n, L->off[S_IMAGE_CLASS] + 4 * i, r->path);
            for (uint64_t j = 0; st == PRIME_OK && j < n; j++) {
                uint32_t c = prime__get_le32(buf + 4 * j);
                if (pass == 1) {
                    r->class_list[r->class_pos[c]++] = (uint32_t)(i + j);
                    continue;
                }
                if (c >= nc)
                    st = prime__error(PRIME_E_FORMAT,
                                      "%s: image %" PRIu64 ": class id %" PRIu32
                                      " is out of range (%" PRIu32 " classes)",
                                      r->path, i + j, c, nc);
                else
                    r->class_size[c]++;
                sorted = sorted && c >= prev;
                prev = c;
            }
        }
        if (st != PRIME_OK)
            break;
        if (pass == 0) {
            for (uint32_t c = 0; c < nc; c++)
                r->class_pos[c + 1] = r->class_pos[c] + r->class_size[c];
            if (!sorted &&
                (r->class_list = prime__malloc((ni ? ni : 1) * sizeof *r->class_list)) == NULL)
                st = prime__error(PRIME_E_NOMEM, "%s: out of memory indexing classes", r->path);
        } else {
            /* the cursors are now the ends: back to the starts */
            for (uint32_t c = nc; c > 0; c--)
                r->class_pos[c] = r->class_pos[c - 1];
            r->class_pos[0] = 0;
        }
    }
    prime__free(buf);
    return st;
}

/* A store of the runs, marked a class part of the reader's file. */
static prime_status open_runs(const prime_class_reader *r, const image_run *runs, size_t n_runs,
                              prime_tagstore **out)
{
    unsigned char *blob = NULL;
    size_t n = 0;
    prime_status st = read_runs(r->fd, r->path, &r->L, runs, n_runs, &blob, &n);
    if (st == PRIME_OK)
        st = prime__store_open_blob(blob, n, r->path, out);
    if (st != PRIME_OK)
        return st;
    prime_tagstore *s = *out;
    size_t nc = r->L.n_classes;
    s->origin_class_size = prime__malloc((nc ? nc : 1) * sizeof *s->origin_class_size);
    if (s->origin_class_size == NULL) {
        prime_tagstore_destroy(s);
        *out = NULL;
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", r->path);
    }
    if (nc > 0)
        memcpy(s->origin_class_size, r->class_size, nc * sizeof *s->origin_class_size);
    s->class_part = true;
    s->origin_sum = r->sum;
    s->origin_images = r->L.n_images;
    return PRIME_OK;
}

prime_status prime_class_reader_open(const char *path, const char *outcomes_path,
                                     prime_class_reader **out)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_class_reader_open: %s is NULL",
                            path == NULL ? "path" : "out");
    prime_class_reader *r = prime__calloc(1, sizeof *r);
    if (r == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    r->fd = -1;
    prime_status st = PRIME_OK;
    if ((r->path = prime__strndup(path, strlen(path))) == NULL)
        st = prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    if (st == PRIME_OK)
        st = open_checked(path, &r->fd, &r->L, r->head, &r->sum, &r->sb);
    if (st == PRIME_OK)
        st = index_classes(r);
    if (st == PRIME_OK)
        st = open_runs(r, NULL, 0, &r->tables);
    if (st == PRIME_OK && outcomes_path != NULL) {
        st = prime__outcomes_file_open(outcomes_path, r->sum, r->L.n_images, &r->outcomes);
        r->has_outcomes = st == PRIME_OK;
    }
    if (st != PRIME_OK) {
        prime_class_reader_close(r);
        return st;
    }
    *out = r;
    return PRIME_OK;
}

const prime_tagstore *prime_class_reader_tables(const prime_class_reader *reader)
{
    return reader != NULL ? reader->tables : NULL;
}

uint32_t prime_class_reader_class_size(const prime_class_reader *reader, uint32_t class_id)
{
    if (reader == NULL || class_id >= reader->L.n_classes)
        return 0;
    return reader->class_size[class_id];
}

/* The file is the one opened: the same size, time and header bytes. */
static prime_status check_unchanged(const prime_class_reader *r)
{
    struct stat sb;
    unsigned char head[HEADER_SIZE];
    if (fstat(r->fd, &sb) != 0 || sb.st_size != r->sb.st_size ||
        sb.st_mtim.tv_sec != r->sb.st_mtim.tv_sec || sb.st_mtim.tv_nsec != r->sb.st_mtim.tv_nsec)
        return prime__error(PRIME_E_IO, "%s: the file changed since it was opened", r->path);
    prime_status st = prime__read_at(r->fd, head, HEADER_SIZE, 0, r->path);
    if (st == PRIME_OK && memcmp(head, r->head, HEADER_SIZE) != 0)
        st = prime__error(PRIME_E_IO, "%s: the file changed since it was opened", r->path);
    return st;
}

prime_status prime_class_reader_read(const prime_class_reader *reader, const uint32_t *class_ids,
                                     uint32_t n_class_ids, prime_tagstore **store_out,
                                     prime_outcomes **outcomes_out)
{
    if (store_out != NULL)
        *store_out = NULL;
    if (outcomes_out != NULL)
        *outcomes_out = NULL;
    if (reader == NULL || store_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_class_reader_read: %s is NULL",
                            reader == NULL ? "reader" : "store_out");
    if (class_ids == NULL && n_class_ids > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_class_reader_read: class_ids is NULL");
    if (outcomes_out != NULL && !reader->has_outcomes)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_class_reader_read: %s was opened without outcomes",
                            reader->path);
    const prime_class_reader *r = reader;
    uint32_t nc = r->L.n_classes;
    uint32_t *ids = prime__malloc((n_class_ids ? n_class_ids : 1) * sizeof *ids);
    if (ids == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", r->path);
    prime_status st = PRIME_OK;
    for (uint32_t i = 0; st == PRIME_OK && i < n_class_ids; i++) {
        ids[i] = class_ids[i];
        if (ids[i] >= nc)
            st = prime__error(PRIME_E_INVALID_ARG,
                              "prime_class_reader_read: class id %" PRIu32
                              " is out of range (%s has %" PRIu32 " classes)",
                              ids[i], r->path, nc);
    }
    if (st == PRIME_OK)
        prime__sort_u32(ids, n_class_ids);
    for (uint32_t i = 1; st == PRIME_OK && i < n_class_ids; i++)
        if (ids[i] == ids[i - 1])
            st = prime__error(PRIME_E_INVALID_ARG,
                              "prime_class_reader_read: class id %" PRIu32 " is given twice",
                              ids[i]);
    /* the images of the classes, as runs of consecutive file indices */
    uint64_t count = 0;
    for (uint32_t i = 0; st == PRIME_OK && i < n_class_ids; i++)
        count += r->class_size[ids[i]];
    uint32_t *list = NULL;
    image_run *runs = NULL;
    size_t n_runs = 0;
    if (st == PRIME_OK && r->class_list != NULL &&
        (list = prime__malloc((count ? count : 1) * sizeof *list)) == NULL)
        st = prime__error(PRIME_E_NOMEM, "%s: out of memory", r->path);
    if (st == PRIME_OK && (runs = prime__malloc((list ? (count ? count : 1)
                                                      : (n_class_ids ? n_class_ids : 1)) *
                                                sizeof *runs)) == NULL)
        st = prime__error(PRIME_E_NOMEM, "%s: out of memory", r->path);
    if (st == PRIME_OK && list != NULL) {
        uint64_t k = 0;
        for (uint32_t i = 0; i < n_class_ids; i++) {
            uint32_t c = ids[i];
            memcpy(list + k, r->class_list + r->class_pos[c], r->class_size[c] * sizeof *list);
            k += r->class_size[c];
        }
        prime__sort_u32(list, k);
        for (uint64_t j = 0; j < k; j++) {
            if (n_runs > 0 && runs[n_runs - 1].end == list[j])
                runs[n_runs - 1].end++;
            else
                runs[n_runs++] = (image_run){list[j], (uint64_t)list[j] + 1};
        }
    } else if (st == PRIME_OK) {
        for (uint32_t i = 0; i < n_class_ids; i++) {
            uint64_t a = r->class_pos[ids[i]], b = a + r->class_size[ids[i]];
            if (a == b)
                continue;
            if (n_runs > 0 && runs[n_runs - 1].end == a)
                runs[n_runs - 1].end = b;
            else
                runs[n_runs++] = (image_run){a, b};
        }
    }
    prime__free(list);
    if (st == PRIME_OK)
        st = check_unchanged(r);
    prime_tagstore *s = NULL;
    if (st == PRIME_OK)
        st = open_runs(r, runs, n_runs, &s);
    /* every image read is of a class asked for: else the file changed */
    bool same = true;
    for (uint32_t i = 0; st == PRIME_OK && i < n_class_ids; i++)
        same = same && s->class_size[ids[i]] == r->class_size[ids[i]];
    if (st == PRIME_OK && (!same || count != s->images.count))
        st = prime__error(PRIME_E_IO, "%s: the file changed since it was opened", r->path);
    prime__free(ids);
    prime_outcomes *o = NULL;
    if (st == PRIME_OK && outcomes_out != NULL)
        st = prime_outcomes_create(s->images.count, &o);
    for (size_t k = 0, at = 0; st == PRIME_OK && o != NULL && k < n_runs; k++) {
        st = prime__outcomes_file_read(&r->outcomes, runs[k].first,
                                       runs[k].end - runs[k].first, o->v + at);
        at += runs[k].end - runs[k].first;
    }
    prime__free(runs);
    if (st != PRIME_OK) {
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(s);
        return st;
    }
    *store_out = s;
    if (outcomes_out != NULL)
        *outcomes_out = o;
    return PRIME_OK;
}
