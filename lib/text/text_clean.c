/* CLIP's text cleaning: what clip/simple_tokenizer.py's basic_clean does
 * before tokenizing,
 *
 *     text = ftfy.fix_text(text)
 *     text = html.unescape(html.unescape(text))
 *     return text.strip()
 *
 * in C, on code points. ftfy.fix_text (ftfy 6.3.1, default settings) splits
 * the text after each '\n' (and every 10^6 code points) and fixes each
 * segment, repeating these steps until the segment no longer changes:
 *
 *   unescape_html       HTML character references that end in ';' (ftfy's
 *                       rule, not html.unescape's); off for the segment
 *                       that holds a '<' and every segment after it
 *   fix_encoding        mojibake: re-decode as UTF-8 text that was decoded
 *                       with a single-byte encoding, when ftfy's badness
 *                       heuristic says it looks like mojibake
 *   fix_c1_controls     U+0080..U+009F as their Windows-1252 characters
 *   fix_latin_ligatures, fix_character_width, uncurl_quotes,
 *   fix_line_breaks, remove_terminal_escapes, remove_control_chars
 *   NFC normalisation
 *
 * (fix_surrogates has nothing to do: UTF-8 input holds no surrogates, and
 * neither html.unescape nor the decoders below make any.) Every step is
 * meant to be exact; include/prime/tokenizer.h says where a difference
 * remains.
 *
 * The tables (lib/text/text_clean_tables.h) are generated from Debian's Python
 * by scripts/gen_text_clean_tables.py.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "text/text_clean.h"
#include "text/text_clean_tables.h"

#define MAX_SEGMENT 1000000 /* ftfy's max_decode_length */
#define BIG_NUM 0x110000u   /* any character reference beyond U+10FFFF */
#define MAX_ROUNDS 100      /* rounds of fix_segment and of fix_encoding (ftfy: no limit) */

/* ---- growable code point vector ------------------------------------------- */

typedef struct {
    uint32_t *v;
    size_t n, cap;
    bool failed; /* an allocation failed; pushes do nothing */
} cpv;

static void push(cpv *o, uint32_t c)
{
    if (o->failed)
        return;
    if (o->n == o->cap && !prime__grow((void **)&o->v, &o->cap, o->n + 1, sizeof(uint32_t))) {
        o->failed = true;
        return;
    }
    o->v[o->n++] = c;
}

static void push_n(cpv *o, const uint32_t *c, size_t n)
{
    if (o->failed || n == 0)
        return;
    if (o->n + n > o->cap &&
        !prime__grow((void **)&o->v, &o->cap, o->n + n, sizeof(uint32_t))) {
        o->failed = true;
        return;
    }
    memcpy(o->v + o->n, c, n * sizeof(uint32_t));
    o->n += n;
}

static void cpv_free(cpv *o)
{
    prime__free(o->v);
    o->v = NULL;
    o->n = o->cap = 0;
}

/* Replace *a by *b (b is emptied); a failure of either stays with a. */
static void cpv_move(cpv *a, cpv *b)
{
    bool failed = a->failed || b->failed;
    cpv_free(a);
    *a = *b;
    a->failed = failed;
    memset(b, 0, sizeof *b);
}

static bool cpv_eq(const cpv *a, const cpv *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof(uint32_t)) == 0);
}

/* ---- table look-ups --------------------------------------------------------- */

/* Python's str.isspace() (regex \s in a str pattern). */
static bool is_py_space(uint32_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool is_digit(uint32_t c) { return PRIME__IN_TABLE(tc_digit, c); }
static bool is_word(uint32_t c) { return PRIME__IN_TABLE(tc_word, c); }

static bool is_ascii_alpha(uint32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static bool is_ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static bool is_ascii_alnum(uint32_t c) { return is_ascii_alpha(c) || is_ascii_digit(c); }

static int hex_value(uint32_t c)
{
    if (is_ascii_digit(c))
        return (int)(c - '0');
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (int)((c | 0x20) - 'a' + 10);
    return -1;
}

/* Compare the NUL-terminated ASCII name with the code points s[0..n). */
static int name_cmp(const char *name, const uint32_t *s, size_t n)
{
    for (size_t k = 0;; k++) {
        unsigned char a = (unsigned char)name[k];
        if (k == n)
            return a != 0;
        if (a == 0)
            return -1;
        if (a != s[k])
            return a < s[k] ? -1 : 1;
    }
}

/* The entity of s[0..n) in table t (sorted by name), or NULL. */
static const tc_entity *entity_find(const tc_entity *t, size_t nt, const uint32_t *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] >= 0x80)
            return NULL;
    size_t lo = 0, hi = nt;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(t[mid].name, s, n);
        if (c == 0)
            return &t[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void push_entity(cpv *o, const tc_entity *e)
{
    for (size_t k = 0; k < 3 && e->value[k] != 0; k++)
        push(o, e->value[k]);
}

#define HTML5_FIND(s, n) entity_find(tc_html5, sizeof tc_html5 / sizeof tc_html5[0], (s), (n))

/* ---- html.unescape ------------------------------------------------------------- */

/* html's _replace_charref for a numeric reference of value num (BIG_NUM for
 * anything past U+10FFFF). */
static void push_charref(cpv *o, uint32_t num)
{
    size_t lo = 0, hi = sizeof tc_invalid_charrefs / sizeof tc_invalid_charrefs[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (num < tc_invalid_charrefs[mid][0])
            hi = mid;
        else if (num > tc_invalid_charrefs[mid][0])
            lo = mid + 1;
        else {
            push(o, tc_invalid_charrefs[mid][1]);
            return;
        }
    }
    if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
        push(o, 0xFFFD);
        return;
    }
    lo = 0;
    hi = sizeof tc_invalid_codepoints / sizeof tc_invalid_codepoints[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (num < tc_invalid_codepoints[mid])
            hi = mid;
        else if (num > tc_invalid_codepoints[mid])
            lo = mid + 1;
        else
            return; /* decodes to nothing */
    }
    push(o, num);
}

static bool charref_excluded(uint32_t c)
{
    return c == '\t' || c == '\n' || c == '\f' || c == ' ' || c == '<' || c == '&' ||
           c == '#' || c == ';';
}

/* Python's html.unescape: every match of
 *   &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)
 * replaced, left to right. A decimal reference of over 4,300 digits, which
 * makes Python's int() raise, is taken as a number past U+10FFFF. */
static void html_unescape(const uint32_t *s, size_t n, cpv *o)
{
    for (size_t i = 0; i < n;) {
        if (s[i] != '&') {
            push(o, s[i++]);
            continue;
        }
        size_t j = i + 1;
        if (j < n && s[j] == '#') {
            size_t k = j + 1;
            uint32_t num = 0;
            if (k < n && is_ascii_digit(s[k])) {
                for (; k < n && is_ascii_digit(s[k]); k++)
                    num = num >= BIG_NUM ? BIG_NUM : num * 10 + (s[k] - '0');
            } else if (k + 1 < n && (s[k] == 'x' || s[k] == 'X') && hex_value(s[k + 1]) >= 0) {
                for (k++; k < n && hex_value(s[k]) >= 0; k++)
                    num = num >= BIG_NUM ? BIG_NUM : num * 16 + (uint32_t)hex_value(s[k]);
            } else {
                push(o, s[i++]);
                continue;
            }
            if (num > BIG_NUM)
                num = BIG_NUM;
            if (k < n && s[k] == ';')
                k++;
            push_charref(o, num);
            i = k;
            continue;
        }
        size_t k = j;
        while (k < n && k - j < 32 && !charref_excluded(s[k]))
            k++;
        if (k == j) {
            push(o, s[i++]);
            continue;
        }
        if (k < n && s[k] == ';')
            k++;
        const tc_entity *e = HTML5_FIND(s + j, k - j);
        if (e != NULL) {
            push_entity(o, e);
        } else {
            /* the longest prefix of at least 2 that is a name */
            size_t x = k - j;
            for (x = x - 1; x >= 2; x--)
                if ((e = HTML5_FIND(s + j, x)) != NULL)
                    break;
            if (e != NULL) {
                push_entity(o, e);
                push_n(o, s + j + x, k - j - x);
            } else {
                push_n(o, s + i, k - i);
            }
        }
        i = k;
    }
}

/* ftfy's unescape_html: every match of &#?[0-9A-Za-z]{1,24}; that is an
 * html5 name (ending in ';'), one of ftfy's all-caps names, or a numeric
 * reference that html.unescape decodes whole. */
static void ftfy_unescape(const uint32_t *s, size_t n, cpv *o)
{
    cpv tmp = {0};
    for (size_t i = 0; i < n;) {
        if (s[i] != '&') {
            push(o, s[i++]);
            continue;
        }
        size_t j = i + 1;
        bool hash = j < n && s[j] == '#';
        if (hash)
            j++;
        size_t k = j;
        while (k < n && k - j <= 24 && is_ascii_alnum(s[k]))
            k++;
        if (k == j || k - j > 24 || k >= n || s[k] != ';') {
            push(o, s[i++]);
            continue;
        }
        size_t end = k + 1; /* the match is s[i..end) */
        if (!hash) {
            const tc_entity *e = HTML5_FIND(s + j, end - j);
            if (e == NULL)
                e = entity_find(tc_html_upper, sizeof tc_html_upper / sizeof tc_html_upper[0],
                                s + j, end - j);
            if (e != NULL)
                push_entity(o, e);
            else
                push_n(o, s + i, end - i);
        } else {
            tmp.n = 0;
            html_unescape(s + i, end - i, &tmp);
            bool semi = false;
            for (size_t q = 0; q < tmp.n; q++)
                semi |= tmp.v[q] == ';';
            if (tmp.failed)
                o->failed = true;
            else if (semi)
                push_n(o, s + i, end - i);
            else
                push_n(o, tmp.v, tmp.n);
        }
        i = end;
    }
    cpv_free(&tmp);
}

/* ---- ftfy's badness heuristic --------------------------------------------------- */

static uint32_t moji(uint32_t c)
{
    size_t lo = 0, hi = sizeof tc_moji / sizeof tc_moji[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < tc_moji[mid][0])
            hi = mid;
        else if (c > tc_moji[mid][0])
            lo = mid + 1;
        else
            return tc_moji[mid][1];
    }
    return 0;
}

static bool one_of(uint32_t c, const uint32_t *set)
{
    for (; *set != 0; set++)
        if (c == *set)
            return true;
    return false;
}

/* Does ftfy's BADNESS_RE match somewhere in s[0..n)? Each case below is one
 * alternative of the expression, in its order. */
static bool is_bad(const uint32_t *s, size_t n)
{
    enum {
        COMMON = TC_COMMON, C1 = TC_C1, BAD = TC_BAD, LAW = TC_LAW, CUR = TC_CURRENCY,
        START = TC_START, END = TC_END, NUM = TC_NUMERIC, KAO = TC_KAOMOJI, UP = TC_UPPER,
        LOW = TC_LOWER, UPC = TC_UPPER_COMMON, LOWC = TC_LOWER_COMMON, BOX = TC_BOX
    };
    static const uint32_t a_hat_etc[] = {0xC2, 0xC3, 0xCE, 0xD0, 0};
    static const uint32_t after_a_hat[] = {0x20AC, 0x153, 0x160, 0x161, 0xA2, 0xA3, 0x178,
                                           0x17E, 0xA0, 0xAD, 0xAE, 0xA9, 0xB0, 0xB7, 0xBB,
                                           0x2013, 0x2014, 0xB4, 0};
    static const uint32_t sup23[] = {0xB2, 0xB3, 0};
    static const uint32_t arabic_extra[] = {0x178, 0x160, 0xAE, 0xB0, 0xB5, 0xBB, 0};
    static const uint32_t a_grave_next[] = {0xB2, 0xB5, 0xB9, 0xBC, 0xBD, 0xBE, 0};
    static const uint32_t sqrt_next[] = {0xB1, 0x2202, 0x2020, 0x2260, 0xAE, 0x2122,
                                         0xB4, 0x2264, 0x2265, 0xA5, 0xB5, 0xF8, 0};
    static const uint32_t approx_next[] = {0xB0, 0xA2, 0};
    static const uint32_t comma_a_next[] = {0xEC, 0xEE, 0xEF, 0xF2, 0xF4, 0xFA, 0xF9, 0xFB,
                                            0x2020, 0xB0, 0xA2, 0x3C0, 0};
    static const uint32_t comma_2[] = {0xE2, 0xF3, 0};
    static const uint32_t comma_3[] = {0xE0, 0xE4, 0xB0, 0xEA, 0};
    static const uint32_t cyr4[] = {0x412, 0x413, 0x420, 0x421, 0};
    static const uint32_t beta_euro_next[] = {0x2122, 0xA0, 0x386, 0xAD, 0xAE, 0xB0, 0};
    static const uint32_t greek4[] = {0x392, 0x393, 0x39E, 0x39F, 0};
    static const uint32_t a_hat_a_tilde[] = {0xC3, 0xC2, 0};
    static const uint32_t deg_micro[] = {0xB0, 0xB5, 0};
    static const uint32_t deg[] = {0xB0, 0};
    for (size_t i = 0; i < n; i++) {
        uint32_t c0 = s[i], m0 = moji(c0);
        bool h1 = i + 1 < n, h2 = i + 2 < n;
        uint32_t c1 = h1 ? s[i + 1] : 0, m1 = h1 ? moji(c1) : 0;
        uint32_t c2 = h2 ? s[i + 2] : 0, m2 = h2 ? moji(c2) : 0;
        if (m0 & C1)
            return true;
        if (h1) {
            if ((m0 & (BAD | LOW | UP | BOX | START | END | CUR | NUM | LAW)) && (m1 & BAD))
                return true;
            if ((m0 & BAD) && (m1 & (LOW | UP | BOX | START | END | CUR | NUM | LAW)))
                return true;
            if ((m0 & (LOW | LOWC | BOX | END | CUR | NUM)) && (m1 & UP))
                return true;
            if ((m0 & (BOX | END | CUR | NUM)) && (m1 & LOW))
                return true;
            if ((m0 & (LOW | BOX | END)) && (m1 & CUR))
                return true;
            if ((m0 & (UP | BOX)) && (m1 & (NUM | LAW)))
                return true;
            if ((m0 & (CUR | NUM | BOX)) && (m1 & START))
                return true;
            if ((m0 & BOX) && (m1 & KAO))
                return true;
            if ((m0 & (LOW | UP | CUR | NUM | START | END | LAW)) && (m1 & BOX))
                return true;
            if ((m0 & BOX) && (m1 & END))
                return true;
            if ((c0 == 0x152 || c0 == 0x153) && !is_ascii_alpha(c1))
                return true;
            if ((m0 & UP) && c1 == 0xB0)
                return true;
            if (one_of(c0, a_hat_etc) && (one_of(c1, after_a_hat) || (m1 & (START | END))))
                return true;
            if (c0 == 0xD7 && one_of(c1, sup23))
                return true;
            if (c0 == 0xE0 && one_of(c1, a_grave_next))
                return true;
            if (c0 == 0x221A && one_of(c1, sqrt_next))
                return true;
            if (c0 == 0x2248 && one_of(c1, approx_next))
                return true;
            if (c0 == 0x201A && one_of(c1, comma_2) && h2 && one_of(c2, comma_3))
                return true;
            if (c0 == 0x432 && c1 == 0x402)
                return true;
            if (c0 == 0xC3 && (c1 == 0xA0 || c1 == 0xA1))
                return true;
            if (i == 0 && one_of(c0, a_hat_a_tilde) && c1 == ' ')
                return true;
            if (c0 == 0x101 && c1 == 0x20AC)
                return true;
        }
        if (h2) {
            if (is_ascii_alpha(c0) && (m1 & (LOWC | UPC)) && (m2 & BAD))
                return true;
            if (is_py_space(c0) && (m1 & UP) && (m2 & CUR))
                return true;
            if ((m0 & (LOW | UP | BOX | CUR | END)) && (m1 & START) && (m2 & NUM))
                return true;
            if ((m0 & (LOW | UP | CUR | NUM | BOX | LAW)) && (m1 & END) && (m2 & START))
                return true;
            if (c0 >= 'a' && c0 <= 'z' && (m1 & UP) && (m2 & (START | CUR)))
                return true;
            if ((m0 & (LOW | UP)) && (m1 & (START | END)) && is_word(c2))
                return true;
            if (c0 == 0x201A && c1 == 0xC4 && one_of(c2, comma_a_next))
                return true;
            if (one_of(c0, cyr4) && ((m1 & (C1 | BAD | START | END | CUR)) || one_of(c1, deg_micro)) &&
                one_of(c2, cyr4))
                return true;
            if (c0 >= 'a' && c0 <= 'z' && one_of(c1, a_hat_a_tilde) && c2 == ' ')
                return true;
            if (((c0 >= 'a' && c0 <= 'z') || c0 == '.' || c0 == ',' || c0 == '?' || c0 == '!' ||
                 (m0 & END)) &&
                c1 == 0xC2 && (c2 == ' ' || (m2 & (START | END))))
                return true;
            if (c0 == 0x3B2 && c1 == 0x20AC && one_of(c2, beta_euro_next))
                return true;
            if (one_of(c0, greek4) && ((m1 & (C1 | BAD | START | END | CUR)) || one_of(c1, deg)) &&
                one_of(c2, greek4))
                return true;
        }
        if (i + 3 < n) {
            uint32_t c3 = s[i + 3], m3 = moji(c3);
            uint32_t arab = COMMON | CUR | BAD | NUM | START;
            if ((c0 == 0xD8 || c0 == 0xD9) && ((m1 & arab) || one_of(c1, arabic_extra)) &&
                (c2 == 0xD8 || c2 == 0xD9) && ((m3 & arab) || one_of(c3, arabic_extra)))
                return true;
            if (c0 >= 'a' && c0 <= 'z' && is_py_space(c1) && one_of(c2, a_hat_a_tilde) &&
                c3 == ' ')
                return true;
        }
        /* ГўВЂВ.[A-Za-z ] */
        if (i + 5 < n && c0 == 0x413 && c1 == 0x45E && c2 == 0x412 && s[i + 3] == 0x402 &&
            s[i + 4] == 0x412 && s[i + 5] != '\n' && i + 6 < n &&
            (is_ascii_alpha(s[i + 6]) || s[i + 6] == ' '))
            return true;
    }
    return false;
}

/* ---- single-byte encodings and UTF-8 ------------------------------------------ */

/* The byte of code point c >= 0x80 (or 0x1A) in charmap e, -1 if none. */
static int charmap_byte(uint32_t c, int e)
{
    size_t lo = 0, hi = 129;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < tc_charmap_rev[e][mid][0])
            hi = mid;
        else if (c > tc_charmap_rev[e][mid][0])
            lo = mid + 1;
        else
            return (int)tc_charmap_rev[e][mid][1];
    }
    return -1;
}

/* Can every code point of s be encoded in charmap e (ftfy's
 * possible_encoding)? */
static bool possible(const uint32_t *s, size_t n, int e)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if ((c < 0x80 && c != 0x1A) || charmap_byte(c, e) >= 0)
            continue;
        return false;
    }
    return true;
}

static unsigned char encode_byte(uint32_t c, int e)
{
    if (c < 0x80 && !(c == 0x1A && tc_charmap_sloppy[e]))
        return (unsigned char)c;
    return (unsigned char)charmap_byte(c, e); /* possible() was checked */
}

/* Byte-class sequences: each class is a string of inclusive byte ranges
 * (pairs), so "\xc2\xc3" is [\xc2-\xc3] and "  " is [ ]. */
typedef struct {
    int len;
    const char *cls[6];
} byte_seq;

static bool in_cls(const char *cls, unsigned char b)
{
    for (size_t k = 0; cls[k] != 0 && cls[k + 1] != 0; k += 2)
        if (b >= (unsigned char)cls[k] && b <= (unsigned char)cls[k + 1])
            return true;
    return false;
}

static size_t seq_match(const byte_seq *alts, size_t n_alts, const unsigned char *b, size_t n)
{
    for (size_t a = 0; a < n_alts; a++) {
        const byte_seq *q = &alts[a];
        if ((size_t)q->len > n)
            continue;
        int k = 0;
        while (k < q->len && in_cls(q->cls[k], b[k]))
            k++;
        if (k == q->len)
            return (size_t)q->len;
    }
    return 0;
}

#define CONT_NOT_A0_85 "\x80\x84\x86\x9f\xa1\xbf"
static const byte_seq altered_utf8[] = {
    {2, {"\xc2\xc3\xc5\xc5\xce\xce\xd0\xd0\xd9\xd9", "  "}},
    {3, {"\xe2\xe3", "  ", CONT_NOT_A0_85}},
    {3, {"\xe0\xe3", CONT_NOT_A0_85, "  "}},
    {4, {"\xf0\xf0", "  ", "\x80\xbf", "\x80\xbf"}},
    {4, {"\xf0\xf0", "\x80\xbf", "  ", "\x80\xbf"}},
    {4, {"\xf0\xf0", "\x80\xbf", "\x80\xbf", "  "}},
};
#define N_ALTERED (sizeof altered_utf8 / sizeof altered_utf8[0])

#define SUB_Q "\x1a\x1a??"
#define SUB_CONT "\x1a\x1a\x80\xbf"
#define SUB_Q_CONT "\x1a\x1a??\x80\xbf"
static const byte_seq lossy_utf8[] = {
    {2, {"\xc2\xdf", "\x1a\x1a"}},
    {2, {"\xc2\xc3", "??"}},
    {6, {"\xed\xed", "\xa0\xaf", SUB_Q, "\xed\xed", "\xb0\xbf", SUB_Q_CONT}},
    {6, {"\xed\xed", "\xa0\xaf", SUB_Q_CONT, "\xed\xed", "\xb0\xbf", SUB_Q}},
    {3, {"\xe0\xef", SUB_Q, SUB_CONT}},
    {3, {"\xe0\xef", SUB_CONT, SUB_Q}},
    {4, {"\xf0\xf4", SUB_Q, SUB_CONT, SUB_CONT}},
    {4, {"\xf0\xf4", SUB_CONT, SUB_Q, SUB_CONT}},
    {4, {"\xf0\xf4", SUB_CONT, SUB_CONT, SUB_Q}},
    {1, {"\x1a\x1a"}},
};
#define N_LOSSY (sizeof lossy_utf8 / sizeof lossy_utf8[0])

typedef struct {
    unsigned char *b;
    size_t n, cap;
    bool failed;
} bytev;

static void bpush(bytev *o, unsigned char c)
{
    if (o->failed)
        return;
    if (o->n == o->cap && !prime__grow((void **)&o->b, &o->cap, o->n + 1, 1)) {
        o->failed = true;
        return;
    }
    o->b[o->n++] = c;
}

/* ftfy's restore_byte_a0: "\xc3 " not followed by " ", "quele", "quela",
 * "quilo" or "s " becomes "\xc3\xa0 "; then in every match of
 * ALTERED_UTF8_RE the spaces become 0xA0. */
static void restore_byte_a0(const bytev *in, bytev *out)
{
    bytev t = {0};
    const unsigned char *b = in->b;
    size_t n = in->n;
    for (size_t i = 0; i < n; i++) {
        bpush(&t, b[i]);
        if (b[i] == 0xC3 && i + 1 < n && b[i + 1] == ' ') {
            const unsigned char *r = b + i + 2;
            size_t left = n - i - 2;
#define AHEAD(lit) (left >= sizeof(lit) - 1 && memcmp(r, lit, sizeof(lit) - 1) == 0)
            if (!(AHEAD(" ") || AHEAD("quele") || AHEAD("quela") || AHEAD("quilo") ||
                  AHEAD("s ")))
                bpush(&t, 0xA0);
#undef AHEAD
        }
    }
    for (size_t i = 0; i < t.n;) {
        size_t k = t.failed ? 0 : seq_match(altered_utf8, N_ALTERED, t.b + i, t.n - i);
        if (k == 0) {
            bpush(out, t.failed ? 0 : t.b[i]);
            i++;
            continue;
        }
        for (size_t q = 0; q < k; q++)
            bpush(out, t.b[i + q] == ' ' ? 0xA0 : t.b[i + q]);
        i += k;
    }
    if (t.failed)
        out->failed = true;
    prime__free(t.b);
}

static bool altered_search(const bytev *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (seq_match(altered_utf8, N_ALTERED, v->b + i, v->n - i) != 0)
            return true;
    return false;
}

static void replace_lossy(const bytev *in, bytev *out)
{
    for (size_t i = 0; i < in->n;) {
        size_t k = seq_match(lossy_utf8, N_LOSSY, in->b + i, in->n - i);
        if (k == 0) {
            bpush(out, in->b[i++]);
            continue;
        }
        bpush(out, 0xEF);
        bpush(out, 0xBF);
        bpush(out, 0xBD);
        i += k;
    }
}

/* Decode b as ftfy does after re-encoding: strict UTF-8, or, when the bytes
 * hold 0xED or 0xC0, ftfy's 'utf-8-variants' (UTF-8 plus CESU-8 surrogate
 * pairs and Java's C0 80 for U+0000). False if it does not decode. */
static bool decode_utf8(const bytev *v, cpv *o)
{
    bool variants = memchr(v->b, 0xED, v->n) != NULL || memchr(v->b, 0xC0, v->n) != NULL;
    const unsigned char *b = v->b;
    size_t n = v->n;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        if (variants && b[i] == 0xC0 && i + 1 < n && b[i + 1] == 0x80) {
            push(o, 0);
            i += 2;
            continue;
        }
        if (variants && b[i] == 0xED && i + 6 <= n && b[i + 1] >= 0xA0 && b[i + 1] <= 0xAF &&
            (b[i + 2] & 0xC0) == 0x80 && b[i + 3] == 0xED && b[i + 4] >= 0xB0 &&
            b[i + 4] <= 0xBF && (b[i + 5] & 0xC0) == 0x80) {
            push(o, ((uint32_t)(b[i + 1] & 0x0F) << 16) + ((uint32_t)(b[i + 2] & 0x3F) << 10) +
                        ((uint32_t)(b[i + 4] & 0x0F) << 6) + (b[i + 5] & 0x3F) + 0x10000);
            i += 6;
            continue;
        }
        size_t k = prime__utf8_decode(b + i, n - i, &c);
        if (k == 0)
            return false;
        push(o, c);
        i += k;
    }
    return true;
}

/* ---- fix_encoding ------------------------------------------------------------------ */

static void fix_encoding(cpv *t);

static uint32_t clue(uint32_t c)
{
    if (c < 0x20)
        return 0;
    size_t lo = 0, hi = sizeof tc_clue / sizeof tc_clue[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < tc_clue[mid][0])
            hi = mid;
        else if (c > tc_clue[mid][0])
            lo = mid + 1;
        else
            return tc_clue[mid][1];
    }
    return 0;
}

/* The length of ftfy's UTF8_DETECTOR_RE match at s[i..n), 0 if none:
 *   (?<![strict continuation])([first of 2][cont]|[first of 3][cont]{2}|
 *                              [first of 4][cont]{3})+ */
static size_t utf8_clue_match(const uint32_t *s, size_t n, size_t i)
{
    static const uint32_t firsts[3] = {TC_CLUE_F2, TC_CLUE_F3, TC_CLUE_F4};
    if (i > 0 && (clue(s[i - 1]) & TC_CLUE_STRICT))
        return 0;
    size_t k = i;
    for (;;) {
        uint32_t m = k < n ? clue(s[k]) : 0;
        size_t got = 0;
        /* the first alternative that matches, as the regex tries them */
        for (size_t a = 0; a < 3 && got == 0; a++) {
            if (!(m & firsts[a]))
                continue;
            size_t q = 1;
            while (q <= a + 1 && k + q < n && (clue(s[k + q]) & TC_CLUE_CONT))
                q++;
            if (q > a + 1)
                got = a + 2;
        }
        if (got == 0)
            return k - i;
        k += got;
    }
}

/* ftfy's decode_inconsistent_utf8: every match of UTF8_DETECTOR_RE that is
 * shorter than the text and looks bad is replaced by its fix_encoding. */
static void decode_inconsistent_utf8(const uint32_t *s, size_t n, cpv *o)
{
    cpv sub = {0};
    for (size_t i = 0; i < n && !o->failed;) {
        size_t k = utf8_clue_match(s, n, i);
        if (k == 0) {
            push(o, s[i++]);
            continue;
        }
        if (k < n && is_bad(s + i, k)) {
            sub.n = 0;
            push_n(&sub, s + i, k);
            fix_encoding(&sub);
            if (sub.failed)
                o->failed = true;
            push_n(o, sub.v, sub.n);
        } else {
            push_n(o, s + i, k);
        }
        i += k;
    }
    cpv_free(&sub);
}

/* One step of ftfy's fix_encoding: *out gets the fixed text, or nothing
 * (out->n == 0 and false returned) when the step leaves s unchanged. */
static bool fix_encoding_step(const uint32_t *s, size_t n, cpv *out)
{
    if (n == 0)
        return false;
    bool ascii = true;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = s[i] < 0x80;
    if (ascii || !is_bad(s, n))
        return false;
    for (int e = 0; e < TC_N_CHARMAPS; e++) {
        if (!possible(s, n, e))
            continue;
        bytev bytes = {0}, t = {0};
        for (size_t i = 0; i < n; i++)
            bpush(&bytes, encode_byte(s[i], e));
        if (strcmp(tc_charmap_names[e], "macroman") != 0 && altered_search(&bytes)) {
            restore_byte_a0(&bytes, &t);
            t.failed |= bytes.failed;
            prime__free(bytes.b);
            bytes = t;
            memset(&t, 0, sizeof t);
        }
        if (tc_charmap_sloppy[e]) {
            replace_lossy(&bytes, &t);
            t.failed |= bytes.failed;
            prime__free(bytes.b);
            bytes = t;
            memset(&t, 0, sizeof t);
        }
        if (bytes.failed) {
            out->failed = true;
            prime__free(bytes.b);
            return true;
        }
        out->n = 0;
        bool ok = decode_utf8(&bytes, out);
        prime__free(bytes.b);
        if (ok)
            return true;
        out->n = 0;
    }
    /* mojibake inside text that cannot be re-encoded as a whole */
    bool clues = false;
    for (size_t i = 0; i < n && !clues; i++)
        clues = utf8_clue_match(s, n, i) != 0;
    if (clues) {
        out->n = 0;
        decode_inconsistent_utf8(s, n, out);
        if (out->failed)
            return true;
        if (out->n != n || memcmp(out->v, s, n * sizeof(uint32_t)) != 0)
            return true;
        out->n = 0;
    }
    /* Latin-1 text decoded as Windows-1252 (strict: a byte it leaves
       undefined makes this fail). ftfy's test for "windows-1252" among the
       possible encodings, which would keep the text here, never holds: its
       list names "sloppy-windows-1252". The repair maps U+0080..U+009F as
       fix_c1_controls below does, so both give the same text. */
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0x80 && s[i] <= 0x9F) {
            out->n = 0;
            for (size_t k = 0; k < n; k++)
                push(out, s[k] >= 0x80 && s[k] <= 0x9F ? tc_charmaps[1][s[k] - 0x80] : s[k]);
            return true;
        }
    }
    return false;
}

static void fix_encoding(cpv *t)
{
    cpv next = {0};
    for (int round = 0; round < MAX_ROUNDS; round++) {
        next.n = 0;
        bool changed = fix_encoding_step(t->v, t->n, &next);
        if (next.failed) {
            t->failed = true;
            break;
        }
        if (!changed || cpv_eq(&next, t))
            break;
        cpv tmp = *t;
        *t = next;
        next = tmp;
    }
    cpv_free(&next);
}

/* ---- the character fixers ---------------------------------------------------------- */

static void fix_c1_controls(const cpv *in, cpv *o)
{
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        push(o, c >= 0x80 && c <= 0x9F ? tc_charmaps[1][c - 0x80] : c);
    }
}

static void fix_latin_ligatures(const cpv *in, cpv *o)
{
    static const struct {
        uint32_t c;
        uint32_t r[3];
    } lig[] = {
        {0x132, {'I', 'J'}},    {0x133, {'i', 'j'}},     {0x149, {0x2BC, 'n'}},
        {0x1C4, {'D', 0x17D}},  {0x1C5, {'D', 0x17E}},   {0x1C6, {'d', 0x17E}},
        {0x1C7, {'L', 'J'}},    {0x1C8, {'L', 'j'}},     {0x1C9, {'l', 'j'}},
        {0x1CA, {'N', 'J'}},    {0x1CB, {'N', 'j'}},     {0x1CC, {'n', 'j'}},
        {0x1F1, {'D', 'Z'}},    {0x1F2, {'D', 'z'}},     {0x1F3, {'d', 'z'}},
        {0xFB00, {'f', 'f'}},   {0xFB01, {'f', 'i'}},    {0xFB02, {'f', 'l'}},
        {0xFB03, {'f', 'f', 'i'}}, {0xFB04, {'f', 'f', 'l'}}, {0xFB05, {0x17F, 't'}},
        {0xFB06, {'s', 't'}},
    };
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        size_t k = sizeof lig / sizeof lig[0];
        if ((c >= 0x132 && c <= 0x1F3) || (c >= 0xFB00 && c <= 0xFB06))
            for (k = 0; k < sizeof lig / sizeof lig[0] && lig[k].c != c; k++)
                ;
        if (k < sizeof lig / sizeof lig[0]) {
            for (size_t q = 0; q < 3 && lig[k].r[q] != 0; q++)
                push(o, lig[k].r[q]);
        } else {
            push(o, c);
        }
    }
}

static void fix_character_width(const cpv *in, cpv *o)
{
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        if (c == 0x3000 || (c >= 0xFF01 && c <= 0xFFEF)) {
            size_t lo = 0, hi = sizeof tc_width / sizeof tc_width[0];
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (c < tc_width[mid][0])
                    hi = mid;
                else if (c > tc_width[mid][0])
                    lo = mid + 1;
                else {
                    push_n(o, &tc_width[mid][2], tc_width[mid][1]);
                    goto next;
                }
            }
        }
        push(o, c);
    next:;
    }
}

/* uncurl_quotes, fix_line_breaks, remove_terminal_escapes and
 * remove_control_chars, in that order, each over the whole text. */
static void fix_quotes_breaks(const cpv *in, cpv *o)
{
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B))
            c = '\'';
        else if (c >= 0x201C && c <= 0x201F)
            c = '"';
        if (c == '\r') {
            push(o, '\n');
            if (i + 1 < in->n && in->v[i + 1] == '\n')
                i++;
            continue;
        }
        if (c == 0x2028 || c == 0x2029 || c == 0x85)
            c = '\n';
        push(o, c);
    }
}

static bool is_control(uint32_t c)
{
    return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
           (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
}

static void fix_escapes_controls(const cpv *in, cpv *o)
{
    /* \033\[((?:\d|;)*)([a-zA-Z]) removed */
    cpv t = {0};
    const uint32_t *s = in->v;
    size_t n = in->n;
    for (size_t i = 0; i < n;) {
        if (s[i] == 0x1B && i + 1 < n && s[i + 1] == '[') {
            size_t k = i + 2;
            while (k < n && (s[k] == ';' || is_digit(s[k])))
                k++;
            if (k < n && is_ascii_alpha(s[k])) {
                i = k + 1;
                continue;
            }
        }
        push(&t, s[i++]);
    }
    for (size_t i = 0; i < t.n; i++)
        if (!is_control(t.v[i]))
            push(o, t.v[i]);
    if (t.failed)
        o->failed = true;
    cpv_free(&t);
}

/* ---- NFC ------------------------------------------------------------------------------ */

#define S_BASE 0xAC00u
#define L_BASE 0x1100u
#define V_BASE 0x1161u
#define T_BASE 0x11A7u
#define L_COUNT 19u
#define V_COUNT 21u
#define T_COUNT 28u
#define N_COUNT (V_COUNT * T_COUNT)
#define S_COUNT (L_COUNT * N_COUNT)

static uint32_t ccc(uint32_t c)
{
    if (c < 0x300)
        return 0;
    size_t lo = 0, hi = sizeof tc_ccc / sizeof tc_ccc[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < tc_ccc[mid][0])
            hi = mid;
        else if (c > tc_ccc[mid][1])
            lo = mid + 1;
        else
            return tc_ccc[mid][2];
    }
    return 0;
}

static const tc_decomp *decomp_find(uint32_t c)
{
    if (c < 0xC0)
        return NULL;
    size_t lo = 0, hi = sizeof tc_decomps / sizeof tc_decomps[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < tc_decomps[mid].cp)
            hi = mid;
        else if (c > tc_decomps[mid].cp)
            lo = mid + 1;
        else
            return &tc_decomps[mid];
    }
    return NULL;
}

static uint32_t compose(uint32_t a, uint32_t b)
{
    if (b < 0x300) /* no composition has a second code point below U+0300 */
        return 0;
    if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 && b > T_BASE &&
        b < T_BASE + T_COUNT)
        return a + (b - T_BASE);
    size_t lo = 0, hi = sizeof tc_compose / sizeof tc_compose[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uint32_t *p = tc_compose[mid];
        if (a < p[0] || (a == p[0] && b < p[1]))
            hi = mid;
        else if (a > p[0] || b > p[1])
            lo = mid + 1;
        else
            return p[2];
    }
    return 0;
}

/* Stable sort of every run of non-starters by combining class: insertion
 * for short runs, counting by class for long ones (linear in hostile
 * text). False when out of memory. */
static bool canonical_order(cpv *d)
{
    for (size_t a = 0; a < d->n;) {
        if (ccc(d->v[a]) == 0) {
            a++;
            continue;
        }
        size_t b = a;
        while (b < d->n && ccc(d->v[b]) != 0)
            b++;
        if (b - a <= 32) {
            for (size_t i = a + 1; i < b; i++) {
                uint32_t c = d->v[i], cc = ccc(c);
                size_t j = i;
                for (; j > a && ccc(d->v[j - 1]) > cc; j--)
                    d->v[j] = d->v[j - 1];
                d->v[j] = c;
            }
        } else {
            size_t count[257] = {0};
            uint32_t *tmp = prime__malloc((b - a) * sizeof(uint32_t));
            if (tmp == NULL)
                return false;
            for (size_t i = a; i < b; i++)
                count[ccc(d->v[i]) + 1]++;
            for (size_t k = 1; k < 257; k++)
                count[k] += count[k - 1];
            for (size_t i = a; i < b; i++)
                tmp[count[ccc(d->v[i])]++] = d->v[i];
            memcpy(d->v + a, tmp, (b - a) * sizeof(uint32_t));
            prime__free(tmp);
        }
        a = b;
    }
    return true;
}

static void nfc(const cpv *in, cpv *o)
{
    /* canonical decomposition, then canonical order */
    cpv d = {0};
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        const tc_decomp *dc;
        if (c >= S_BASE && c < S_BASE + S_COUNT) {
            uint32_t si = c - S_BASE;
            push(&d, L_BASE + si / N_COUNT);
            push(&d, V_BASE + (si % N_COUNT) / T_COUNT);
            if (si % T_COUNT != 0)
                push(&d, T_BASE + si % T_COUNT);
        } else if ((dc = decomp_find(c)) != NULL) {
            push_n(&d, dc->d, dc->n);
        } else {
            push(&d, c);
        }
    }
    if (d.failed) {
        o->failed = true;
        cpv_free(&d);
        return;
    }
    if (!canonical_order(&d)) {
        o->failed = true;
        cpv_free(&d);
        return;
    }
    /* canonical composition */
    size_t start = 0;
    bool have_start = false;
    uint32_t last = 0;
    for (size_t i = 0; i < d.n; i++) {
        uint32_t c = d.v[i], cc = ccc(c);
        if (have_start) {
            uint32_t comp = compose(o->v[start], c);
            bool adjacent = o->n == start + 1;
            if (comp != 0 && (adjacent || (last != 0 && last < cc))) {
                o->v[start] = comp;
                continue;
            }
        }
        if (cc == 0) {
            start = o->n;
            have_start = true;
        }
        last = cc;
        push(o, c);
        if (o->failed)
            break;
    }
    cpv_free(&d);
}

/* ---- fix_text -------------------------------------------------------------------------- */

/* ftfy's fix_and_explain on one segment (in place). ftfy repeats its steps
 * until the text no longer changes; each round undoes one level of nested
 * HTML escapes ("&amp;amp;amp;..."), so hostile text could take a round per
 * 4 bytes. Here the rounds stop after MAX_ROUNDS. */
static void fix_segment(cpv *t, bool unescape)
{
    /* ASCII without '&', '\r' or control characters: no step changes it */
    bool plain = true;
    for (size_t i = 0; i < t->n && plain; i++) {
        uint32_t c = t->v[i];
        plain = c < 0x80 && c != '&' && c != '\r' && !is_control(c);
    }
    if (plain)
        return;
    cpv orig = {0}, w = {0};
    for (int round = 0; round < MAX_ROUNDS && !t->failed; round++) {
        orig.n = 0;
        push_n(&orig, t->v, t->n);
        if (unescape) {
            w.n = 0;
            ftfy_unescape(t->v, t->n, &w);
            cpv_move(t, &w);
        }
        fix_encoding(t);
        static const struct {
            void (*fix)(const cpv *, cpv *);
            bool ascii_too; /* false: leaves ASCII text as it is */
        } steps[] = {
            {fix_c1_controls, false}, {fix_latin_ligatures, false},
            {fix_character_width, false}, {fix_quotes_breaks, true},
            {fix_escapes_controls, true}, {nfc, false},
        };
        bool ascii = true;
        for (size_t i = 0; i < t->n && ascii; i++)
            ascii = t->v[i] < 0x80;
        for (size_t k = 0; k < sizeof steps / sizeof steps[0] && !t->failed; k++) {
            if (ascii && !steps[k].ascii_too)
                continue;
            w.n = 0;
            w.failed = false;
            steps[k].fix(t, &w);
            if (w.failed)
                t->failed = true;
            else
                cpv_move(t, &w);
        }
        if (t->failed || orig.failed || cpv_eq(&orig, t))
            break;
    }
    if (orig.failed)
        t->failed = true;
    cpv_free(&orig);
    cpv_free(&w);
}

PRIME_INTERNAL prime_status prime__clip_basic_clean(const uint32_t *in, size_t n,
                                                    uint32_t **out, size_t *n_out)
{
    cpv fixed = {0}, seg = {0}, a = {0}, b = {0};
    /* ASCII without '&', '\r' or control characters: only the strip */
    bool plain = true;
    for (size_t i = 0; i < n && plain; i++)
        plain = in[i] < 0x80 && in[i] != '&' && in[i] != '\r' && !is_control(in[i]);
    if (plain) {
        size_t s = 0, e = n;
        while (s < e && is_py_space(in[s]))
            s++;
        while (e > s && is_py_space(in[e - 1]))
            e--;
        uint32_t *v = prime__malloc((e - s + 1) * sizeof(uint32_t));
        if (v == NULL)
            return prime__error(PRIME_E_NOMEM, "tokenize: out of memory");
        if (e > s)
            memcpy(v, in + s, (e - s) * sizeof(uint32_t));
        *out = v;
        *n_out = e - s;
        return PRIME_OK;
    }
    bool unescape = true;
    for (size_t pos = 0; pos < n && !fixed.failed;) {
        size_t end = pos;
        while (end < n && end - pos < MAX_SEGMENT && in[end] != '\n')
            end++;
        if (end < n && end - pos < MAX_SEGMENT)
            end++; /* the '\n' ends its segment */
        seg.n = 0;
        push_n(&seg, in + pos, end - pos);
        for (size_t k = pos; k < end && unescape; k++)
            unescape = in[k] != '<';
        fix_segment(&seg, unescape);
        if (seg.failed)
            fixed.failed = true;
        push_n(&fixed, seg.v, seg.n);
        pos = end;
    }
    html_unescape(fixed.v, fixed.n, &a);
    html_unescape(a.v, a.n, &b);
    bool failed = fixed.failed || seg.failed || a.failed || b.failed;
    cpv_free(&fixed);
    cpv_free(&seg);
    cpv_free(&a);
    if (failed) {
        cpv_free(&b);
        return prime__error(PRIME_E_NOMEM, "tokenize: out of memory");
    }
    size_t s = 0, e = b.n;
    while (s < e && is_py_space(b.v[s]))
        s++;
    while (e > s && is_py_space(b.v[e - 1]))
        e--;
    if (b.v == NULL) {
        b.v = prime__malloc(sizeof(uint32_t));
        if (b.v == NULL)
            return prime__error(PRIME_E_NOMEM, "tokenize: out of memory");
    }
    memmove(b.v, b.v + s, (e - s) * sizeof(uint32_t));
    *out = b.v;
    *n_out = e - s;
    return PRIME_OK;
}
