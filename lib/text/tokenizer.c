/* CLIP's byte-pair-encoding tokenizer (include/prime/tokenizer.h).
 *
 * A port of openai/CLIP's clip/simple_tokenizer.py (MIT, data/clip/) that
 * gives the same ids:
 *
 *   text = whitespace_clean(basic_clean(text)).lower()
 *   for token in regex.findall(pattern, text):      # case-insensitive
 *       token = bytes_to_unicode(token.encode('utf-8'))
 *       ids += vocab[s] for s in bpe(token).split(' ')
 *
 * basic_clean is ftfy.fix_text + html.unescape twice + str.strip, done by
 * lib/text/text_clean.c (see the header for what is exact). whitespace_clean
 * replaces runs of regex's \s (Unicode White_Space) by one space and strips
 * (str.strip removes str.isspace characters, which add U+001C..U+001F to
 * White_Space).
 *
 * The vocabulary is kept as ids: every symbol a word can hold is a
 * vocabulary string (a byte, a byte with </w>, or the join of a merge), so
 * a merge is a map (id, id) -> (rank, id of the join). Where the reference's
 * dicts keep the last of equal keys (a string twice in the vocabulary, a
 * merge twice), so do these tables.
 *
 * BPE: the reference merges, round after round, every occurrence of the
 * lowest-ranked pair present, left to right without overlap. Here the pairs
 * sit in a heap ordered by (rank, position); a round pops every entry of the
 * lowest rank and applies those still valid in position order, which is the
 * same sequence of merges in O(n log n) instead of O(n^2) for long words.
 */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common/common.h"
#include "prime/tokenizer.h"
#include "text/text_clean.h"
#include "text/tokenizer_tables.h"

#define N_MERGES (49152 - 256 - 2) /* lines 1 .. 48894 of the file */
#define MAX_TEXT_BYTES ((uint64_t)64 << 20)
#define MAX_INPUT_BYTES ((uint64_t)1 << 40)
#define NO_ID UINT32_MAX

static const char START_TEXT[] = "<|startoftext|>";
static const char END_TEXT[] = "<|endoftext|>";

/* ---- tables ----------------------------------------------------------------- */

typedef struct {
    uint64_t key;      /* first id << 32 | second id */
    uint32_t rank;     /* 0 .. N_MERGES-1; UINT32_MAX = empty slot */
    uint32_t result;   /* id of the joined symbol */
} merge_slot;

struct prime_tokenizer {
    uint32_t n_vocab;
    char *strings;          /* vocabulary strings, NUL-separated */
    uint64_t *str_off;      /* n_vocab entries */
    uint32_t *str_len;
    uint32_t *vslots;       /* string -> id hash: id + 1, 0 = empty */
    uint64_t vmask;
    merge_slot *mslots;
    uint64_t mmask;
    uint32_t byte_id[256], byte_eow_id[256];
    uint32_t start_id, end_id;
};

static bool is_letter(uint32_t c)
{
    if (c < 0x80)
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    return PRIME__IN_TABLE(tok_letter, c);
}

static bool is_number(uint32_t c)
{
    if (c < 0x80)
        return c >= '0' && c <= '9';
    return PRIME__IN_TABLE(tok_number, c);
}

/* Skipped by the split pattern: in none of its classes (U+0345). */
static bool is_dropped(uint32_t c)
{
    return c >= 0x80 && PRIME__IN_TABLE(tok_dropped, c);
}

/* regex's \s: the Unicode White_Space property. */
static bool is_white_space(uint32_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* str.isspace(): White_Space plus U+001C..U+001F. */
static bool is_py_space(uint32_t c)
{
    return (c >= 0x1C && c <= 0x1F) || is_white_space(c);
}

/* str.lower() of one code point, except U+0130 and U+03A3 (the caller). */
static uint32_t lower1(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    size_t lo = 0, hi = sizeof tok_lower / sizeof tok_lower[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < tok_lower[mid][0])
            hi = mid;
        else if (c > tok_lower[mid][0])
            lo = mid + 1;
        else
            return tok_lower[mid][1];
    }
    return c;
}

static bool is_case_ignorable(uint32_t c) { return PRIME__IN_TABLE(tok_case_ignorable, c); }
static bool is_cased(uint32_t c) { return PRIME__IN_TABLE(tok_cased, c); }

/* ---- string -> id table ------------------------------------------------------- */

static uint32_t vocab_find(const prime_tokenizer *t, const char *s, size_t n)
{
    uint64_t h = prime__hash_bytes(s, n);
    for (uint64_t i = h & t->vmask;; i = (i + 1) & t->vmask) {
        uint32_t v = t->vslots[i];
        if (v == 0)
            return NO_ID;
        uint32_t id = v - 1;
        if (t->str_len[id] == n && memcmp(t->strings + t->str_off[id], s, n) == 0)
            return id;
    }
}

/* Insert string id (last wins: an equal string gets its slot). */
static void vocab_insert(prime_tokenizer *t, uint32_t id)
{
    const char *s = t->strings + t->str_off[id];
    size_t n = t->str_len[id];
    uint64_t h = prime__hash_bytes(s, n);
    for (uint64_t i = h & t->vmask;; i = (i + 1) & t->vmask) {
        uint32_t v = t->vslots[i];
        if (v == 0 || (t->str_len[v - 1] == n &&
                       memcmp(t->strings + t->str_off[v - 1], s, n) == 0)) {
            t->vslots[i] = id + 1;
            return;
        }
    }
}

static const merge_slot *merge_find(const prime_tokenizer *t, uint32_t a, uint32_t b)
{
    uint64_t key = (uint64_t)a << 32 | b;
    for (uint64_t i = prime__mix64(key) & t->mmask;; i = (i + 1) & t->mmask) {
        const merge_slot *m = &t->mslots[i];
        if (m->rank == UINT32_MAX)
            return NULL;
        if (m->key == key)
            return m;
    }
}

static void merge_insert(prime_tokenizer *t, uint32_t a, uint32_t b, uint32_t rank,
                         uint32_t result)
{
    uint64_t key = (uint64_t)a << 32 | b;
    for (uint64_t i = prime__mix64(key) & t->mmask;; i = (i + 1) & t->mmask) {
        merge_slot *m = &t->mslots[i];
        if (m->rank == UINT32_MAX || m->key == key) {
            m->key = key;
            m->rank = rank;
            m->result = result;
            return;
        }
    }
}

/* ---- loading ------------------------------------------------------------------ */

/* bytes_to_unicode(): bs lists the bytes in vocabulary order, cs their
 * code points. */
static void bytes_to_unicode(uint8_t bs[256], uint32_t cs[256])
{
    int k = 0, n = 0;
    bool printable[256] = {false};
    for (int b = '!'; b <= '~'; b++)
        printable[b] = true;
    for (int b = 0xA1; b <= 0xAC; b++)
        printable[b] = true;
    for (int b = 0xAE; b <= 0xFF; b++)
        printable[b] = true;
    for (int b = 0; b < 256; b++)
        if (printable[b]) {
            bs[k] = (uint8_t)b;
            cs[k++] = (uint32_t)b;
        }
    for (int b = 0; b < 256; b++)
        if (!printable[b]) {
            bs[k] = (uint8_t)b;
            cs[k++] = 256u + (uint32_t)n++;
        }
}

static size_t utf8_put(char *p, uint32_t c)
{
    if (c < 0x80) {
        p[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        p[0] = (char)(0xC0 | (c >> 6));
        p[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        p[0] = (char)(0xE0 | (c >> 12));
        p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        p[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | (c >> 18));
    p[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    p[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    p[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* zlib allocates through the library's allocator too. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return prime__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    prime__free(p);
}

/* Inflate gzip data (one member or several, as gzip.open reads them) until
 * the text holds `lines_needed` newlines or the data ends. */
static prime_status gunzip(const unsigned char *data, size_t size, const char *name,
                           size_t lines_needed, char **text_out, size_t *len_out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = z_alloc;
    z.zfree = z_free;
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory (zlib)", name);
    char *buf = NULL;
    size_t cap = 0, len = 0, lines = 0;
    prime_status st = PRIME_OK;
    const unsigned char *in = data;
    size_t left = size;
    int zr = Z_OK;
    while (lines < lines_needed) {
        if (len > MAX_TEXT_BYTES) {
            st = prime__error(PRIME_E_LIMIT,
                              "%s: more than %llu MiB of text before merge %d", name,
                              (unsigned long long)(MAX_TEXT_BYTES >> 20), N_MERGES);
            break;
        }
        if (len + 65536 + 1 > cap && !prime__grow((void **)&buf, &cap, len + 65536 + 1, 1)) {
            st = prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
            break;
        }
        uInt chunk = left > 1u << 30 ? 1u << 30 : (uInt)left;
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = chunk;
        z.next_out = (Bytef *)buf + len;
        z.avail_out = (uInt)(cap - len - 1);
        zr = inflate(&z, Z_NO_FLUSH);
        size_t used = chunk - z.avail_in, made = (size_t)(z.next_out - (Bytef *)buf) - len;
        for (size_t k = len; k < len + made; k++)
            lines += buf[k] == '\n';
        len += made;
        in += used;
        left -= used;
        if (zr == Z_STREAM_END) {
            if (left == 0)
                break;
            if (inflateReset(&z) != Z_OK) {
                st = prime__error(PRIME_E_FORMAT, "%s: corrupt gzip data", name);
                break;
            }
            continue;
        }
        if (zr == Z_MEM_ERROR) {
            st = prime__error(PRIME_E_NOMEM, "%s: out of memory (zlib)", name);
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            st = prime__error(PRIME_E_FORMAT, "%s: corrupt gzip data (%s)", name,
                              z.msg ? z.msg : "zlib error");
            break;
        }
        if (made == 0 && used == 0) {
            if (left == 0)
                st = prime__error(PRIME_E_FORMAT, "%s: truncated gzip data", name);
            else
                st = prime__error(PRIME_E_FORMAT, "%s: corrupt gzip data", name);
            break;
        }
    }
    inflateEnd(&z);
    if (st != PRIME_OK) {
        prime__free(buf);
        return st;
    }
    if (buf == NULL) {
        buf = prime__malloc(1);
        if (buf == NULL)
            return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
    }
    buf[len] = '\0';
    *text_out = buf;
    *len_out = len;
    return PRIME_OK;
}

/* Python's str.split() of s[0..n) into exactly two fields; false otherwise.
 * *fields gets the number found (up to 3). */
static bool split2(const char *s, size_t n, size_t off[2], size_t len[2], int *fields)
{
    size_t i = 0;
    int f = 0;
    while (i < n) {
        uint32_t c;
        size_t k = prime__utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (k == 0)
            k = 1, c = 0xFFFD;
        if (is_py_space(c)) {
            i += k;
            continue;
        }
        size_t start = i;
        while (i < n) {
            k = prime__utf8_decode((const unsigned char *)s + i, n - i, &c);
            if (k == 0)
                k = 1, c = 0xFFFD;
            if (is_py_space(c))
                break;
            i += k;
        }
        if (f < 2) {
            off[f] = start;
            len[f] = i - start;
        }
        f++;
        if (f > 2)
            break;
    }
    *fields = f;
    return f == 2;
}

static prime_status build(prime_tokenizer *t, const char *text, size_t tlen, const char *name)
{
    /* the merge lines: 1 .. N_MERGES (line 0 is the header) */
    size_t *line_off = NULL, off_cap = 0;
    size_t nl = 0, p = 0;
    if (!prime__grow((void **)&line_off, &off_cap, 64, sizeof(size_t)))
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
    line_off[nl++] = 0;
    while (nl <= N_MERGES + 1 && p < tlen) {
        const char *q = memchr(text + p, '\n', tlen - p);
        if (q == NULL)
            break;
        p = (size_t)(q - text) + 1;
        if (nl == off_cap && !prime__grow((void **)&line_off, &off_cap, nl + 1, sizeof(size_t))) {
            prime__free(line_off);
            return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
        }
        line_off[nl++] = p;
    }
    /* lines present: nl starts, the last running to the end of the text */
    size_t have_lines = nl; /* split('\n') gives nl items */
    /* a short file's final newline does not start one more (empty) merge */
    if (have_lines < N_MERGES + 1 && have_lines > 1 && tlen > 0 && text[tlen - 1] == '\n')
        have_lines--;
    /* every merge line present must be two symbols (checked first, so that
       a short file with a bad line names the line) */
    for (size_t r = 0; r + 1 < have_lines && r < N_MERGES; r++) {
        size_t a = line_off[r + 1];
        size_t b = (r + 2 < nl) ? line_off[r + 2] - 1 : tlen; /* without the \n */
        size_t off[2], len[2];
        int fields;
        if (!prime__utf8_valid(text + a, b - a)) {
            prime__free(line_off);
            return prime__error(PRIME_E_PARSE, "%s:%zu: invalid UTF-8", name, r + 2);
        }
        if (!split2(text + a, b - a, off, len, &fields)) {
            prime__free(line_off);
            return prime__error(PRIME_E_PARSE,
                                "%s:%zu: a merge must be two symbols separated by a space, "
                                "found %s%d field%s",
                                name, r + 2, fields > 2 ? "more than " : "",
                                fields > 2 ? 2 : fields, fields == 1 ? "" : "s");
        }
    }
    if (have_lines < N_MERGES + 1) {
        prime_status st = prime__error(PRIME_E_PARSE,
                                       "%s: only %zu merges after the header; a CLIP vocabulary "
                                       "needs %d",
                                       name, have_lines > 0 ? have_lines - 1 : 0, N_MERGES);
        prime__free(line_off);
        return st;
    }
    /* vocabulary strings: 256 bytes, 256 with </w>, merges, start, end */
    uint8_t bs[256];
    uint32_t cs[256];
    bytes_to_unicode(bs, cs);
    t->n_vocab = 512u + N_MERGES + 2u;
    /* a join is no longer than its line */
    size_t str_cap = 256 * 3 + 256 * 7 + tlen + N_MERGES + sizeof START_TEXT + sizeof END_TEXT;
    t->strings = prime__malloc(str_cap);
    t->str_off = prime__malloc(sizeof(uint64_t) * t->n_vocab);
    t->str_len = prime__malloc(sizeof(uint32_t) * t->n_vocab);
    t->vmask = (1u << 17) - 1;
    t->vslots = prime__calloc(t->vmask + 1, sizeof(uint32_t));
    t->mmask = (1u << 17) - 1;
    t->mslots = prime__malloc(sizeof(merge_slot) * (t->mmask + 1));
    prime_status st = PRIME_OK;
    if (t->strings == NULL || t->str_off == NULL || t->str_len == NULL || t->vslots == NULL ||
        t->mslots == NULL) {
        st = prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
        goto done;
    }
    for (uint64_t i = 0; i <= t->mmask; i++)
        t->mslots[i].rank = UINT32_MAX;
    size_t sl = 0;
    uint32_t id = 0;
    for (int eow = 0; eow < 2; eow++)
        for (int k = 0; k < 256; k++) {
            t->str_off[id] = sl;
            size_t n = utf8_put(t->strings + sl, cs[k]);
            if (eow) {
                memcpy(t->strings + sl + n, "</w>", 4);
                n += 4;
            }
            t->str_len[id++] = (uint32_t)n;
            sl += n + 1;
            t->strings[sl - 1] = '\0';
        }
    /* merges: validate, store the joins */
    for (uint32_t r = 0; r < N_MERGES; r++) {
        size_t a = line_off[r + 1];
        size_t b = (r + 2 < nl) ? line_off[r + 2] - 1 : tlen; /* without the \n */
        const char *ln = text + a;
        size_t n = b - a;
        size_t off[2], len[2];
        int fields;
        split2(ln, n, off, len, &fields); /* checked above */
        t->str_off[id] = sl;
        memcpy(t->strings + sl, ln + off[0], len[0]);
        memcpy(t->strings + sl + len[0], ln + off[1], len[1]);
        t->str_len[id++] = (uint32_t)(len[0] + len[1]);
        sl += len[0] + len[1] + 1;
        t->strings[sl - 1] = '\0';
    }
    t->str_off[id] = sl;
    memcpy(t->strings + sl, START_TEXT, sizeof START_TEXT);
    t->str_len[id++] = (uint32_t)(sizeof START_TEXT - 1);
    sl += sizeof START_TEXT;
    t->str_off[id] = sl;
    memcpy(t->strings + sl, END_TEXT, sizeof END_TEXT);
    t->str_len[id++] = (uint32_t)(sizeof END_TEXT - 1);
    sl += sizeof END_TEXT;
    for (uint32_t k = 0; k < t->n_vocab; k++)
        vocab_insert(t, k);
    /* ranks: (id of part 1, id of part 2) -> rank, join; last wins. A part
       that is no vocabulary string can never be a symbol of a word: that
       merge never applies (as in the reference) and is left out. */
    for (uint32_t r = 0; r < N_MERGES; r++) {
        size_t a = line_off[r + 1];
        size_t b = (r + 2 < nl) ? line_off[r + 2] - 1 : tlen;
        size_t off[2], len[2];
        int fields;
        split2(text + a, b - a, off, len, &fields);
        uint32_t x = vocab_find(t, text + a + off[0], len[0]);
        uint32_t y = vocab_find(t, text + a + off[1], len[1]);
        uint32_t j = 512u + r;
        uint32_t join = vocab_find(t, t->strings + t->str_off[j], t->str_len[j]);
        if (x != NO_ID && y != NO_ID)
            merge_insert(t, x, y, r, join);
    }
    for (int k = 0; k < 256; k++) {
        t->byte_id[bs[k]] = vocab_find(t, t->strings + t->str_off[k], t->str_len[k]);
        t->byte_eow_id[bs[k]] =
            vocab_find(t, t->strings + t->str_off[256 + k], t->str_len[256 + k]);
    }
    t->start_id = vocab_find(t, START_TEXT, sizeof START_TEXT - 1);
    t->end_id = vocab_find(t, END_TEXT, sizeof END_TEXT - 1);
done:
    prime__free(line_off);
    return st;
}

PRIME_API void prime_tokenizer_destroy(prime_tokenizer *t)
{
    if (t == NULL)
        return;
    prime__free(t->strings);
    prime__free(t->str_off);
    prime__free(t->str_len);
    prime__free(t->vslots);
    prime__free(t->mslots);
    prime__free(t);
}

PRIME_API prime_status prime_tokenizer_create_memory(const void *data, size_t size,
                                                     const char *name, prime_tokenizer **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tokenizer_create_memory: out is NULL");
    *out = NULL;
    if (name == NULL)
        name = "<memory>";
    if (data == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: data is NULL", name);
    const unsigned char *d = data;
    char *text = NULL;
    size_t tlen = 0;
    prime_status st;
    if (size >= 2 && d[0] == 0x1F && d[1] == 0x8B) {
        st = gunzip(d, size, name, N_MERGES + 1, &text, &tlen);
        if (st != PRIME_OK)
            return st;
    } else if (size == 0) {
        return prime__error(PRIME_E_PARSE, "%s: empty file, not a BPE merges file", name);
    }
    prime_tokenizer *t = prime__calloc(1, sizeof *t);
    if (t == NULL) {
        prime__free(text);
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
    }
    st = text != NULL ? build(t, text, tlen, name) : build(t, (const char *)d, size, name);
    prime__free(text);
    if (st != PRIME_OK) {
        prime_tokenizer_destroy(t);
        return st;
    }
    *out = t;
    return PRIME_OK;
}

static prime_status parse_bpe(const char *data, size_t size, const char *name, void *out)
{
    return prime_tokenizer_create_memory(data, size, name, out);
}

PRIME_API prime_status prime_tokenizer_create(const char *path, prime_tokenizer **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tokenizer_create: out is NULL");
    *out = NULL;
    if (path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tokenizer_create: path is NULL");
    return prime__parse_file(path, parse_bpe, out);
}

PRIME_API uint32_t prime_tokenizer_vocab_size(const prime_tokenizer *t)
{
    return t == NULL ? 0 : t->n_vocab;
}

/* ---- encoding ------------------------------------------------------------------ */

typedef struct {
    uint32_t rank, left, right, a, b;
} heap_ent;

typedef struct {
    /* code points of the cleaned, lower-cased text */
    uint32_t *cp;
    size_t n_cp, cp_cap;
    /* BPE scratch */
    uint32_t *id, *next, *prev;
    size_t word_cap;
    heap_ent *heap, *round;
    size_t heap_len, heap_cap, round_cap;
    /* output */
    int64_t *out;
    size_t n_out, out_cap;
    size_t limit; /* stop once n_out > limit */
} enc_state;

static void enc_free(enc_state *e)
{
    prime__free(e->cp);
    prime__free(e->id);
    prime__free(e->next);
    prime__free(e->prev);
    prime__free(e->heap);
    prime__free(e->round);
    prime__free(e->out);
}

static bool heap_less(const heap_ent *x, const heap_ent *y)
{
    return x->rank < y->rank || (x->rank == y->rank && x->left < y->left);
}

static bool heap_push(enc_state *e, heap_ent v)
{
    if (e->heap_len == e->heap_cap &&
        !prime__grow((void **)&e->heap, &e->heap_cap, e->heap_len + 1, sizeof(heap_ent)))
        return false;
    size_t i = e->heap_len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&v, &e->heap[p]))
            break;
        e->heap[i] = e->heap[p];
        i = p;
    }
    e->heap[i] = v;
    return true;
}

static heap_ent heap_pop(enc_state *e)
{
    heap_ent top = e->heap[0], v = e->heap[--e->heap_len];
    size_t i = 0, n = e->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_less(&e->heap[c + 1], &e->heap[c]))
            c++;
        if (!heap_less(&e->heap[c], &v))
            break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n > 0)
        e->heap[i] = v;
    return top;
}

static bool out_push(enc_state *e, uint32_t id)
{
    if (e->n_out == e->out_cap &&
        !prime__grow((void **)&e->out, &e->out_cap, e->n_out + 1, sizeof(int64_t)))
        return false;
    e->out[e->n_out++] = id;
    return true;
}

static bool push_pair(const prime_tokenizer *t, enc_state *e, uint32_t left, uint32_t right)
{
    const merge_slot *m = merge_find(t, e->id[left], e->id[right]);
    if (m == NULL)
        return true;
    heap_ent h = {m->rank, left, right, e->id[left], e->id[right]};
    return heap_push(e, h);
}

/* BPE of one token (its UTF-8 bytes); appends the ids. */
static prime_status bpe_token(const prime_tokenizer *t, enc_state *e, const unsigned char *s,
                              size_t n)
{
    if ((n == sizeof START_TEXT - 1 && memcmp(s, START_TEXT, n) == 0))
        return out_push(e, t->start_id) ? PRIME_OK : PRIME_E_NOMEM;
    if ((n == sizeof END_TEXT - 1 && memcmp(s, END_TEXT, n) == 0))
        return out_push(e, t->end_id) ? PRIME_OK : PRIME_E_NOMEM;
    if (n == 1)
        return out_push(e, t->byte_eow_id[s[0]]) ? PRIME_OK : PRIME_E_NOMEM;
    if (n > e->word_cap) {
        size_t c1 = e->word_cap, c2 = e->word_cap, c3 = e->word_cap;
        if (!prime__grow((void **)&e->id, &c1, n, sizeof(uint32_t)) ||
            !prime__grow((void **)&e->next, &c2, n, sizeof(uint32_t)) ||
            !prime__grow((void **)&e->prev, &c3, n, sizeof(uint32_t)))
            return PRIME_E_NOMEM;
        e->word_cap = n;
    }
    for (size_t k = 0; k < n; k++) {
        e->id[k] = k + 1 < n ? t->byte_id[s[k]] : t->byte_eow_id[s[k]];
        e->next[k] = k + 1 < n ? (uint32_t)(k + 1) : NO_ID;
        e->prev[k] = k > 0 ? (uint32_t)(k - 1) : NO_ID;
    }
    e->heap_len = 0;
    for (size_t k = 0; k + 1 < n; k++)
        if (!push_pair(t, e, (uint32_t)k, (uint32_t)(k + 1)))
            return PRIME_E_NOMEM;
    while (e->heap_len > 0) {
        /* every entry of the lowest rank, in position order */
        uint32_t rank = e->heap[0].rank;
        size_t nr = 0;
        while (e->heap_len > 0 && e->heap[0].rank == rank) {
            if (nr == e->round_cap &&
                !prime__grow((void **)&e->round, &e->round_cap, nr + 1, sizeof(heap_ent)))
                return PRIME_E_NOMEM;
            e->round[nr++] = heap_pop(e);
        }
        for (size_t k = 0; k < nr; k++) {
            heap_ent h = e->round[k];
            /* still there? (a dead node is unlinked: its neighbour's link
               no longer points at it, and its id is never looked at) */
            if (e->next[h.left] != h.right || e->id[h.left] != h.a || e->id[h.right] != h.b ||
                e->prev[h.right] != h.left)
                continue;
            const merge_slot *m = merge_find(t, h.a, h.b);
            e->id[h.left] = m->result;
            uint32_t nx = e->next[h.right];
            e->next[h.left] = nx;
            if (nx != NO_ID)
                e->prev[nx] = h.left;
            e->next[h.right] = NO_ID;
            e->prev[h.right] = NO_ID;
            if (e->prev[h.left] != NO_ID && !push_pair(t, e, e->prev[h.left], h.left))
                return PRIME_E_NOMEM;
            if (nx != NO_ID && !push_pair(t, e, h.left, nx))
                return PRIME_E_NOMEM;
        }
    }
    for (uint32_t k = 0; k != NO_ID; k = e->next[k])
        if (!out_push(e, e->id[k]))
            return PRIME_E_NOMEM;
    return PRIME_OK;
}

/* Does the lower-cased text at cp[i..] start with the ASCII literal lit,
 * case-insensitively as the reference's pattern matches ('s' also matches
 * U+017F LATIN SMALL LETTER LONG S; the text holds no upper case ASCII)? */
static size_t match_lit(const enc_state *e, size_t i, const char *lit)
{
    size_t k = 0;
    for (; lit[k] != '\0'; k++) {
        if (i + k >= e->n_cp)
            return 0;
        uint32_t c = e->cp[i + k];
        if (c != (unsigned char)lit[k] && !(lit[k] == 's' && c == 0x17F))
            return 0;
    }
    return k;
}

/* text[0..len) as code points in a new array (*out, *n; room for len + 1),
 * rejecting a text over the input limit and invalid UTF-8 (with the byte
 * where it starts). */
static prime_status decode_text(const char *text, size_t len, uint32_t **out, size_t *n_out)
{
    if ((uint64_t)len > MAX_INPUT_BYTES)
        return prime__error(PRIME_E_LIMIT, "tokenize: text of %zu bytes is over the limit of "
                                           "2^40", len);
    const unsigned char *s = (const unsigned char *)text;
    uint32_t *raw = prime__malloc(sizeof(uint32_t) * (len + 1));
    if (raw == NULL)
        return prime__error(PRIME_E_NOMEM, "tokenize: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t k = prime__utf8_decode(s + i, len - i, &c);
        if (k == 0) {
            prime__free(raw);
            return prime__error(PRIME_E_PARSE, "tokenize: invalid UTF-8 at byte %zu", i);
        }
        raw[n++] = c;
        i += k;
    }
    *out = raw;
    *n_out = n;
    return PRIME_OK;
}

static prime_status encode_all(const prime_tokenizer *t, const char *text, size_t len,
                               enc_state *e)
{
    if (text == NULL && len > 0)
        return prime__error(PRIME_E_INVALID_ARG, "tokenize: text is NULL");
    /* decode (rejecting invalid UTF-8) */
    uint32_t *raw = NULL;
    size_t n = 0;
    prime_status dst = decode_text(text, len, &raw, &n);
    if (dst != PRIME_OK)
        return dst;
    /* basic_clean: ftfy.fix_text, html.unescape twice, str.strip()
       (lib/text/text_clean.c) */
    uint32_t *clean = NULL;
    prime_status cst = prime__clip_basic_clean(raw, n, &clean, &n);
    prime__free(raw);
    if (cst != PRIME_OK)
        return cst;
    raw = clean;
    /* whitespace_clean: runs of White_Space -> ' '; str.strip() */
    size_t a = 0, b = n;
    while (a < b && is_py_space(raw[a]))
        a++;
    while (b > a && is_py_space(raw[b - 1]))
        b--;
    size_t m = 0;
    bool in_run = false;
    for (size_t i = a; i < b; i++) {
        if (is_white_space(raw[i])) {
            if (!in_run)
                raw[m++] = ' ';
            in_run = true;
            continue;
        }
        in_run = false;
        raw[m++] = raw[i];
    }
    a = 0;
    b = m;
    while (a < b && is_py_space(raw[a]))
        a++;
    while (b > a && is_py_space(raw[b - 1]))
        b--;
    /* str.lower() */
    size_t need = 2 * (b - a) + 1;
    if (need > e->cp_cap && !prime__grow((void **)&e->cp, &e->cp_cap, need, sizeof(uint32_t))) {
        prime__free(raw);
        return prime__error(PRIME_E_NOMEM, "tokenize: out of memory");
    }
    e->n_cp = 0;
    for (size_t i = a; i < b; i++) {
        uint32_t c = raw[i];
        if (c == 0x130) {
            e->cp[e->n_cp++] = 'i';
            e->cp[e->n_cp++] = 0x307;
        } else if (c == 0x3A3) {
            /* final sigma: a cased letter before (case-ignorables skipped),
               none after */
            size_t j = i;
            while (j > a && is_case_ignorable(raw[j - 1]))
                j--;
            bool final = j > a && is_cased(raw[j - 1]);
            if (final) {
                size_t q = i + 1;
                while (q < b && is_case_ignorable(raw[q]))
                    q++;
                final = q == b || !is_cased(raw[q]);
            }
            e->cp[e->n_cp++] = final ? 0x3C2 : 0x3C3;
        } else {
            e->cp[e->n_cp++] = lower1(c);
        }
    }
    prime__free(raw);
    /* split and encode */
    static const char *const contractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    unsigned char *tokbuf = NULL;
    size_t tokcap = 0;
    prime_status st = PRIME_OK;
    for (size_t i = 0; i < e->n_cp && e->n_out <= e->limit;) {
        size_t k = match_lit(e, i, START_TEXT);
        if (k == 0)
            k = match_lit(e, i, END_TEXT);
        for (size_t q = 0; k == 0 && q < sizeof contractions / sizeof contractions[0]; q++)
            k = match_lit(e, i, contractions[q]);
        uint32_t c = e->cp[i];
        if (k == 0) {
            if (is_letter(c)) {
                k = 1;
                while (i + k < e->n_cp && is_letter(e->cp[i + k]))
                    k++;
            } else if (is_number(c)) {
                k = 1;
            } else if (!is_white_space(c) && !is_dropped(c)) {
                k = 1;
                while (i + k < e->n_cp) {
                    uint32_t d = e->cp[i + k];
                    if (is_white_space(d) || is_letter(d) || is_number(d) || is_dropped(d))
                        break;
                    k++;
                }
            } else {
                i++;
                continue;
            }
        }
        if (4 * k > tokcap) {
            size_t want = 4 * k;
            if (!prime__grow((void **)&tokbuf, &tokcap, want, 1)) {
                st = PRIME_E_NOMEM;
                break;
            }
        }
        size_t nb = 0;
        for (size_t q = 0; q < k; q++)
            nb += utf8_put((char *)tokbuf + nb, e->cp[i + q]);
        st = bpe_token(t, e, tokbuf, nb);
        if (st != PRIME_OK)
            break;
        i += k;
    }
    prime__free(tokbuf);
    if (st == PRIME_E_NOMEM)
        return prime__error(st, "tokenize: out of memory");
    return st;
}

PRIME_API prime_status prime_tokenizer_encode(const prime_tokenizer *t, const char *text,
                                              size_t len, int64_t *ids, size_t cap,
                                              size_t *n_out)
{
    if (t == NULL || n_out == NULL || (ids == NULL && cap > 0))
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_tokenizer_encode: tokenizer, n_out or ids is NULL");
    enc_state e = {0};
    e.limit = SIZE_MAX - 1;
    prime_status st = encode_all(t, text, len, &e);
    if (st == PRIME_OK) {
        *n_out = e.n_out;
        if (cap < e.n_out)
            st = prime__error(PRIME_E_BUFFER_TOO_SMALL,
                              "prime_tokenizer_encode: %zu ids do not fit in %zu", e.n_out, cap);
        else if (e.n_out > 0)
            memcpy(ids, e.out, e.n_out * sizeof(int64_t));
    }
    enc_free(&e);
    return st;
}

PRIME_API prime_status prime_tokenizer_encode_context(const prime_tokenizer *t,
                                                      const char *text, size_t len,
                                                      int64_t *ids, uint32_t context,
                                                      uint32_t *n_tokens_out,
                                                      int32_t *truncated_out)
{
    if (t == NULL || ids == NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_tokenizer_encode_context: tokenizer or ids is NULL");
    if (context < 2)
        return prime__error(PRIME_E_RANGE,
                            "prime_tokenizer_encode_context: context %u is below 2", context);
    enc_state e = {0};
    e.limit = (size_t)context - 2; /* one more id than fits is enough to know */
    prime_status st = encode_all(t, text, len, &e);
    if (st == PRIME_OK) {
        size_t body = e.n_out;
        bool truncated = body > (size_t)context - 2;
        if (truncated)
            body = (size_t)context - 2;
        ids[0] = t->start_id;
        /* truncation keeps the first context - 1 ids and puts the end token
           last: start + (context - 2) text ids + end */
        for (size_t k = 0; k < body; k++)
            ids[1 + k] = e.out[k];
        ids[1 + body] = t->end_id;
        for (size_t k = body + 2; k < context; k++)
            ids[k] = 0;
        if (n_tokens_out != NULL)
            *n_tokens_out = (uint32_t)(body + 2);
        if (truncated_out != NULL)
            *truncated_out = truncated;
    }
    enc_free(&e);
    return st;
}

PRIME_API prime_status prime_tokenizer_clean(const char *text, size_t len, char *out,
                                             size_t cap, size_t *n_out)
{
    if (n_out == NULL || (out == NULL && cap > 0) || (text == NULL && len > 0))
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_tokenizer_clean: text, out or n_out is NULL");
    uint32_t *raw = NULL;
    size_t n = 0;
    prime_status dst = decode_text(text, len, &raw, &n);
    if (dst != PRIME_OK)
        return dst;
    uint32_t *clean = NULL;
    size_t m = 0;
    prime_status st = prime__clip_basic_clean(raw, n, &clean, &m);
    prime__free(raw);
    if (st != PRIME_OK)
        return st;
    size_t bytes = 0;
    char tmp[4];
    for (size_t i = 0; i < m; i++)
        bytes += utf8_put(tmp, clean[i]);
    *n_out = bytes;
    if (bytes > cap) {
        prime__free(clean);
        return prime__error(PRIME_E_BUFFER_TOO_SMALL,
                            "prime_tokenizer_clean: %zu bytes do not fit in %zu", bytes, cap);
    }
    size_t at = 0;
    for (size_t i = 0; i < m; i++)
        at += utf8_put(out + at, clean[i]);
    prime__free(clean);
    return PRIME_OK;
}
