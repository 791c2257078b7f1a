/* libprime's common layer (lib/common): errors, allocation, the growable
 * buffer, whole-file I/O, UTF-8 and hashing, interned name tables. Every
 * other layer builds on it; it depends on nothing but libc. Not installed. */
#ifndef PRIME_COMMON_H
#define PRIME_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "prime/prime.h"

#define PRIME_INTERNAL __attribute__((visibility("hidden")))

/* ---- errors (error.c) -------------------------------------------------- */

/* Record a formatted message as the calling thread's last error and return
 * `status`. */
PRIME_INTERNAL prime_status prime__error(prime_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Messages recorded on the calling thread so far (prime__error calls): a
 * caller compares two counts to learn whether a call it made set one,
 * without clearing the message (successful calls leave it as it was). */
PRIME_INTERNAL uint64_t prime__error_count(void);
/* true if status is PRIME_OK or one of the documented PRIME_E_* codes. */
PRIME_INTERNAL bool prime__status_known(prime_status status);

/* ---- allocation (alloc.c); every allocation of the library goes here ---- */

PRIME_INTERNAL void *prime__malloc(size_t n);
PRIME_INTERNAL void *prime__calloc(size_t count, size_t size);
PRIME_INTERNAL void *prime__realloc(void *p, size_t n);
PRIME_INTERNAL void prime__free(void *p);
/* Grow *p (holding *cap elements of elem bytes) to hold at least need.
 * Returns false (and leaves *p untouched) when out of memory. */
PRIME_INTERNAL bool prime__grow(void **p, size_t *cap, size_t need, size_t elem);
/* malloc-and-copy of a byte string, NUL-terminated. */
PRIME_INTERNAL char *prime__strndup(const char *s, size_t n);
/* A hint that the n bytes at p (a large array about to be filled) may be
 * backed by huge pages: on Linux the whole 2 MiB pages inside are given
 * MADV_HUGEPAGE (the default setting "madvise" gives them only on request),
 * so that filling them takes one page fault per 2 MiB, not per 4 KiB;
 * nothing elsewhere, or for less than 4 MiB. */
PRIME_INTERNAL void prime__huge_pages(void *p, size_t n);

/* ---- growable byte buffer (buf.c) ---------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
    bool failed;   /* an allocation failed; further appends do nothing */
    bool borrowed; /* data is memory given to prime__buf_borrow: never freed
                      or reallocated (outgrowing it moves to the heap) */
} prime__buf;

/* Start b empty on the caller's memory mem[0..cap) (cap >= 1), e.g. a stack
 * array, so that a short text needs no allocation; a longer one moves to the
 * heap. prime__buf_free then frees only what was allocated. */
PRIME_INTERNAL void prime__buf_borrow(prime__buf *b, char *mem, size_t cap);

/* Append s[0..n) (it may point into the buffer itself). The common case,
 * room in the buffer, inline; the rest in prime__buf_append_grow. */
PRIME_INTERNAL void prime__buf_append_grow(prime__buf *b, const char *s, size_t n);
static inline void prime__buf_append(prime__buf *b, const char *s, size_t n)
{
    /* b->cap > b->len whenever data is set; s cannot overlap the
       destination: a text already in the buffer lies before b->len */
    if (!b->failed && b->data != NULL && n < b->cap - b->len) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    prime__buf_append_grow(b, s, n);
}
/* Append a string literal (its length known at compile time). */
#define PRIME__BUF_LIT(b, lit) prime__buf_append((b), "" lit, sizeof(lit) - 1)
/* Room for n more bytes (and the NUL) without a further allocation, so
 * that a writer can fill b->data + b->len itself; false (b failed) when
 * out of memory. */
PRIME_INTERNAL bool prime__buf_reserve(prime__buf *b, size_t n);
PRIME_INTERNAL void prime__buf_puts(prime__buf *b, const char *s);
PRIME_INTERNAL void prime__buf_putc(prime__buf *b, char c);
PRIME_INTERNAL void prime__buf_printf(prime__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* v as prime__format_double writes it ("0.3", "1", "0.41860465116279072";
 * NaN and infinities as null). */
PRIME_INTERNAL void prime__buf_double(prime__buf *b, double v);
/* Append v in decimal (as printf's %llu). */
PRIME_INTERNAL void prime__buf_u64(prime__buf *b, uint64_t v);
/* A JSON string literal (quotes included), escaping as RFC 8259 requires. */
PRIME_INTERNAL void prime__buf_json_string(prime__buf *b, const char *s);
/* The inside of that literal: s escaped, no quotes (a literal can be written
 * in pieces: escaping goes character by character). */
PRIME_INTERNAL void prime__buf_json_chars(prime__buf *b, const char *s);
/* A CSV field, quoted (RFC 4180) when it holds , " CR or LF. */
PRIME_INTERNAL void prime__buf_csv_field(prime__buf *b, const char *s);
/* Whether a CSV field holding s (or a piece of it) must be quoted; the inside
 * of a quoted field: s with each " doubled, no quotes around. */
PRIME_INTERNAL bool prime__csv_needs_quotes(const char *s);
PRIME_INTERNAL void prime__buf_csv_chars(prime__buf *b, const char *s);
PRIME_INTERNAL void prime__buf_free(prime__buf *b);
/* Hand a rendered text to a caller's buffer (cap bytes, NUL-terminated) or
 * say the size needed (PRIME_E_BUFFER_TOO_SMALL, "the rendered WHAT needs N
 * bytes"); *needed_out gets the length without the NUL. Frees b. */
PRIME_INTERNAL prime_status prime__buf_deliver(prime__buf *b, const char *what, char *buf,
                                               size_t cap, size_t *needed_out);
/* Write a rendered text to path atomically (prime__write_file_atomic). Frees b. */
PRIME_INTERNAL prime_status prime__buf_write_file(prime__buf *b, const char *path);

/* Renders handle h (a result, an evaluation, ...) in `format` into an empty
 * b; checks h and format itself. */
typedef prime_status (*prime__render_fn)(const void *h, int32_t format, prime__buf *b);
/* The X_render / X_write of a renderable handle: render into a new buffer
 * (a failed append: PRIME_E_NOMEM, "out of memory rendering the WHAT"),
 * then prime__buf_deliver or prime__buf_write_file. */
PRIME_INTERNAL prime_status prime__render_deliver(prime__render_fn render, const void *h,
                                                  int32_t format, const char *what, char *buf,
                                                  size_t cap, size_t *needed_out);
PRIME_INTERNAL prime_status prime__render_write(prime__render_fn render, const void *h,
                                                int32_t format, const char *what,
                                                const char *path);

/* ---- files (file.c; the public face is include/prime/file.h) ------------ */

/* Write `len` bytes to `path` as one output of its own (prime_file_write):
 * a temporary file beside it and a rename, in place for a device. */
PRIME_INTERNAL prime_status prime__write_file_atomic(const char *path, const void *data,
                                                     size_t len);
/* Open an input for reading: a regular file of at most max_bytes (0:
 * PRIME_FILE_MAX_INPUT); anything else is refused with a message saying
 * what it is. *fd_out (blocking, close-on-exec) and its size on success. */
PRIME_INTERNAL prime_status prime__open_input(const char *path, uint64_t max_bytes, int *fd_out,
                                              uint64_t *size_out);
/* Read a whole input file (prime__open_input's checks) into a new buffer,
 * NUL-terminated for convenience. */
PRIME_INTERNAL prime_status prime__read_file_max(const char *path, uint64_t max_bytes,
                                                 char **data_out, size_t *size_out);
/* prime__read_file_max with the default limit. */
PRIME_INTERNAL prime_status prime__read_file(const char *path, char **data_out,
                                             size_t *size_out);
/* The X_load of an X_load_memory: read path (prime__read_file), hand its
 * bytes to parse(data, size, path, ctx), free them. */
typedef prime_status (*prime__parse_fn)(const char *data, size_t size, const char *name,
                                        void *ctx);
PRIME_INTERNAL prime_status prime__parse_file(const char *path, prime__parse_fn parse,
                                              void *ctx);

/* ---- UTF-8 and hashing (util.c) ----------------------------------------- */

/* The one UTF-8 decoder: one code point of strict UTF-8 at s[0..n) (n >= 1)
 * into *c; returns its length, 0 if it is invalid (a stray or overlong
 * sequence, a surrogate, above U+10FFFF, cut short). Inline: the tokenizer
 * decodes every character of its input with it. */
static inline size_t prime__utf8_decode(const unsigned char *s, size_t n, uint32_t *c)
{
    unsigned char b = s[0];
    if (b < 0x80) {
        *c = b;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2, v = b & 0x1Fu, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3, v = b & 0x0Fu, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4, v = b & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[k] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *c = v;
    return len;
}

/* Whether code point c lies in one of the sorted, disjoint ranges
 * r[0..n) ({first, last}, both included): the Unicode class tables of the
 * tokenizer and the text cleaner. */
static inline bool prime__in_ranges(const uint32_t (*r)[2], size_t n, uint32_t c)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < r[mid][0])
            hi = mid;
        else if (c > r[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}
#define PRIME__IN_TABLE(t, c) prime__in_ranges((t), sizeof(t) / sizeof((t)[0]), (c))

/* true if s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
PRIME_INTERNAL bool prime__utf8_valid(const char *s, size_t n);
/* Offset of the first byte that starts an invalid sequence in s[0..n), or n. */
PRIME_INTERNAL size_t prime__utf8_prefix(const char *s, size_t n);
/* 64-bit hash of a byte string. */
PRIME_INTERNAL uint64_t prime__hash_bytes(const void *p, size_t n);
/* The 64-bit finaliser of MurmurHash3 (fmix64): every input bit moves
 * every output bit. The last step of prime__hash_bytes and prime__checksum
 * (docs/binary-format.md: its numbers are fixed) and a hash of a 64-bit
 * key by itself. */
static inline uint64_t prime__mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}
/* Checksum of a (large) byte range, as stored in binary store files. */
PRIME_INTERNAL uint64_t prime__checksum(const void *p, size_t n, uint64_t seed);
/* The same checksum over bytes given in pieces (a file read a block at a
 * time): begin, add the pieces in order, end gives prime__checksum of
 * their concatenation. */
typedef struct {
    uint64_t lane[4], total;
    unsigned char tail[32];
    size_t n_tail;
} prime__checksum_stream;
PRIME_INTERNAL void prime__checksum_begin(prime__checksum_stream *s, uint64_t seed);
PRIME_INTERNAL void prime__checksum_add(prime__checksum_stream *s, const void *p, size_t n);
PRIME_INTERNAL uint64_t prime__checksum_end(const prime__checksum_stream *s);

/* ---- little-endian fields of the binary formats --------------------------- */

static inline void prime__put_le32(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static inline void prime__put_le64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static inline uint32_t prime__get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* (written out, not as a loop: GCC 12 -O3 makes this one load, the loop
   eight) */
static inline uint64_t prime__get_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* ---- threads (threads.c) ------------------------------------------------- */

/* Most threads one parallel loop of the library uses. */
#define PRIME__MAX_THREADS 1024

/* Number of online CPUs (1 to PRIME__MAX_THREADS). */
PRIME_INTERNAL uint32_t prime__cpu_count(void);

/* Run worker(arg) on n threads at once (n = 0: one per CPU; at most
 * PRIME__MAX_THREADS), the calling thread being one of them, and wait for
 * all. A thread that cannot start is not an error: the workers must share
 * the work through arg (e.g. take items from an atomic counter until none
 * is left), so that any number of them, one included, does all of it.
 * Returns the number of threads that ran worker (1 to n). */
PRIME_INTERNAL uint32_t prime__run_workers(uint32_t n, void *(*worker)(void *), void *arg);

/* ---- sorting ids (sort.c) ----------------------------------------------- */

/* qsort comparator of uint32_t, ascending. */
PRIME_INTERNAL int prime__cmp_u32(const void *a, const void *b);
/* qsort comparator of uint64_t, ascending. */
PRIME_INTERNAL int prime__cmp_u64(const void *a, const void *b);
/* Sort v[0..n) ascending. */
PRIME_INTERNAL void prime__sort_u32(uint32_t *v, size_t n);
/* Sort v[0..n) ascending and drop repeats in place; returns the new count.
 * A list already sorted and unique costs one pass. */
PRIME_INTERNAL size_t prime__sort_unique_u32(uint32_t *v, size_t n);

/* ---- decimal numbers (number.c) ------------------------------------------ */

/* Parse a decimal number (as strtod in the C locale) from s[0..n); false if
 * the whole text is not one finite number. */
PRIME_INTERNAL bool prime__parse_double(const char *s, size_t n, double *out);
/* The room prime__format_double needs: its longest text is 25 bytes with
 * the NUL; it may scribble past the NUL up to here. */
#define PRIME__DOUBLE_CHARS 48
/* Write v as the files carry a number: "null" if v is not finite, "0" for
 * +-0, else snprintf("%.*g", P, v) in the C locale for the smallest P in
 * 15, 16, 17 that reads back (strtod) as v. Returns the length (the NUL is
 * written after it). Exact integer arithmetic, no snprintf/strtod, for
 * |v| in about [1e-15, 1e37]; the snprintf/strtod loop elsewhere. */
PRIME_INTERNAL size_t prime__format_double(double v, char out[PRIME__DOUBLE_CHARS]);
/* The room prime__format_u64 needs: 2^64 - 1 has 20 digits. */
#define PRIME__U64_CHARS 20
/* Write v in decimal (as printf's %llu) at out, no NUL; returns the
 * length. Inline: the records' writers call it once a record. */
static inline size_t prime__format_u64(uint64_t v, char out[PRIME__U64_CHARS])
{
    char tmp[PRIME__U64_CHARS];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    memcpy(out, tmp + i, sizeof tmp - i);
    return sizeof tmp - i;
}
/* Parse s[0..n) as a decimal whole number: digits only for u64 (no blank,
 * no sign), an optional '-' or '+' then digits for i64; false if anything
 * else is there or the value does not fit (never a wrap). */
PRIME_INTERNAL bool prime__parse_u64(const char *s, size_t n, uint64_t *out);
PRIME_INTERNAL bool prime__parse_i64(const char *s, size_t n, int64_t *out);

/* ---- interned name tables (names.c) --------------------------------------
 * Names are stored NUL-terminated one after another in `bytes`; name i
 * starts at off[i] and ends (NUL excluded) at off[i+1] - 1. A hash index
 * (open addressing over ids) finds a name's id. */
typedef struct {
    uint32_t count;
    uint64_t *off;   /* count + 1 entries */
    char *bytes;
    uint64_t bytes_len;
    /* hash index: slots hold hash << 32 | (id + 1) (0 = empty); mask =
       nslots - 1 */
    uint64_t *slots;
    uint64_t mask;
    bool borrowed;   /* off and bytes point into a loaded blob */
    size_t off_cap, bytes_cap;
} prime__names;

PRIME_INTERNAL void prime__names_free(prime__names *t);
PRIME_INTERNAL const char *prime__names_get(const prime__names *t, uint32_t id);
PRIME_INTERNAL size_t prime__names_len(const prime__names *t, uint32_t id);
/* Find name s[0..n); returns PRIME_NONE if absent (always absent for n=0
 * when skip_empty). */
PRIME_INTERNAL uint32_t prime__names_find(const prime__names *t, const char *s, size_t n);
/* The same with the name's hash (prime__hash_bytes) already known. */
PRIME_INTERNAL uint32_t prime__names_find_hashed(const prime__names *t, const char *s, size_t n,
                                                 uint64_t h);
PRIME_INTERNAL prime_status prime__names_push_hashed(prime__names *t, const char *s, size_t n,
                                                     uint64_t h, bool index_it, uint32_t *id_out);
/* Append a name that is known to be absent; *id_out = its id. */
PRIME_INTERNAL prime_status prime__names_push(prime__names *t, const char *s, size_t n,
                                              bool index_it, uint32_t *id_out);
/* Find-or-append. */
PRIME_INTERNAL prime_status prime__names_intern(prime__names *t, const char *s, size_t n,
                                                uint32_t *id_out);
/* (Re)build the hash index over all non-empty names. Returns PRIME_E_DUPLICATE
 * (with *dup_out = the later id) if two non-empty names are equal. */
PRIME_INTERNAL prime_status prime__names_build_index(prime__names *t, uint32_t *dup_out);

/* A name table's names as the writers put them (buf.c): for name i its
 * JSON string literal (quotes included, escaped as prime__buf_json_string
 * escapes) at text[json_off[i] .. json_off[i+1]), the inside of a quoted
 * CSV field holding it (prime__buf_csv_chars) at text[csv_off[i] ..
 * csv_off[i+1]) and whether such a field must be quoted
 * (prime__csv_needs_quotes). Built once from a table that no longer
 * changes (a frozen store's), so that a writer of many records escapes
 * each name once, not once a record. */
typedef struct {
    uint32_t count;
    uint64_t *json_off, *csv_off; /* count + 1 entries each */
    uint8_t *csv_quote;           /* count */
    char *text;
} prime__name_forms;

/* The forms of every name of t; NULL when out of memory. */
PRIME_INTERNAL prime__name_forms *prime__name_forms_build(const prime__names *t);
PRIME_INTERNAL void prime__name_forms_free(prime__name_forms *f);

/* ---- allocation-failure injection (alloc.c); for tests only ---------------
 * Hidden symbols: reachable from the white-box tests and fuzz targets that
 * link the static library, never exported from libprime.so. */

/* Make allocation number k (counted from 1 from this call on, over all
 * threads) fail; k <= 0 turns injection off. Resets the counters. */
PRIME_INTERNAL void prime__alloc_fail_after(long k);
/* The same, but allocation k and every later one fail. */
PRIME_INTERNAL void prime__alloc_fail_from(long k);
/* Allocations counted since the last prime__alloc_fail_after/_from (only
 * counted while injection is on). */
PRIME_INTERNAL long prime__alloc_count(void);
/* Allocations that were made to fail since then. */
PRIME_INTERNAL long prime__alloc_failed_count(void);
/* Count the blocks allocated less those freed (on: from 0; off: stop
 * counting), so that a test sees that a call leaves nothing behind where
 * the leak checker cannot look (Criterion's test processes). */
PRIME_INTERNAL void prime__alloc_live_count(bool on);
/* Blocks allocated and not freed since prime__alloc_live_count(true). */
PRIME_INTERNAL long prime__alloc_live(void);

#endif /* PRIME_COMMON_H */
