/* Fuzz prime_tagstore_add_packed (the packed text columns of bindings).
 * Input: byte 0 the image count (mod 32), byte 1 flags (1: tag counts,
 * 2: no image names, 4: a store that already holds an image), bytes 2-5
 * the lengths of the image and class columns (mod what is left), with
 * counts one byte per image (mod 8); the rest is the three columns. Any
 * input must either add exactly n consistent images or change nothing.
 * With tag counts, the same columns dictionary-coded (every field its own
 * name; flag 8: the names listed once and referred to by the first field
 * with the same bytes; flag 16: one index out of range) go through
 * prime_tagstore_add_coded, which must succeed exactly when the packed
 * call does (never with an index out of range) and make the same store. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The NUL-separated fields of buf[0..size): their starts and lengths (at
 * most max; the count, or max + 1 when there are more). */
static uint32_t split_fields(const char *buf, size_t size, uint32_t max, const char **at,
                             size_t *len)
{
    uint32_t k = 0;
    size_t pos = 0;
    for (;;) {
        const char *z = memchr(buf + pos, '\0', size - pos);
        size_t e = z != NULL ? (size_t)(z - buf) : size;
        if (k == max)
            return max + 1;
        at[k] = buf + pos;
        len[k++] = e - pos;
        if (z == NULL)
            return k;
        pos = e + 1;
    }
}

/* The names of fields at/len as a coded column: with `once`, each
 * distinct name listed once (its first field), else every field. */
static uint32_t code_fields(const char **at, const size_t *len, uint32_t k, int once,
                            char *names, size_t *size, uint32_t *index)
{
    uint32_t m = 0;
    size_t n = 0;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t x = m;
        for (uint32_t q = 0; once && q < j; q++)
            if (len[q] == len[j] && memcmp(at[q], at[j], len[j]) == 0) {
                x = index[q];
                break;
            }
        index[j] = x;
        if (x < m)
            continue;
        if (m > 0)
            names[n++] = '\0';
        memcpy(names + n, at[j], len[j]);
        n += len[j];
        m++;
    }
    *size = n;
    return m;
}

/* The packed call's columns through prime_tagstore_add_coded, on a store
 * like the one `packed` was made from (see the file comment). */
static void coded_check(const prime_tagstore *packed, prime_status pst, uint32_t n,
                        uint32_t flags, const char *im, size_t li, const char *cl, size_t lc,
                        const char *tg, size_t lt, const uint32_t *counts)
{
    static const char *at[1u << 16];
    static size_t len[1u << 16];
    static uint32_t cidx[32], tidx[1u << 16];
    static char cnames[1u << 16], tnames[1u << 16];
    uint64_t refs = 0;
    for (uint32_t i = 0; i < n; i++)
        refs += counts[i];
    if (lc >= sizeof cnames || lt >= sizeof tnames || refs >= (1u << 15))
        return;
    if (n == 0 || split_fields(cl, lc, 32, at, len) != n)
        return; /* a shape the coded form has not */
    size_t cs, ts;
    uint32_t kc = code_fields(at, len, n, flags & 8, cnames, &cs, cidx);
    uint32_t kt = 0;
    if (refs > 0) {
        if (split_fields(tg, lt, (uint32_t)refs, at, len) != refs)
            return;
        kt = code_fields(at, len, (uint32_t)refs, flags & 8, tnames, &ts, tidx);
    } else {
        if (lt > 0)
            return;
        ts = 0;
    }
    if ((flags & 16) && refs > 0)
        tidx[refs - 1] = kt;
    prime_tagstore *s = NULL;
    if (prime_tagstore_create(&s) != PRIME_OK)
        return;
    if ((flags & 4) &&
        prime_tagstore_add_packed(s, 1, "img", 3, "cls", 3, "a|b", 3, NULL, NULL) != PRIME_OK)
        __builtin_trap();
    uint32_t ni = prime_tagstore_image_count(s), nt = prime_tagstore_tag_count(s),
             nc = prime_tagstore_class_count(s);
    prime_status st = prime_tagstore_add_coded(s, n, im, li, cnames, cs, kc, cidx, tnames, ts, kt,
                                               tidx, refs, counts, NULL);
    if ((flags & 16) && refs > 0 && st == PRIME_OK)
        __builtin_trap();
    if (!((flags & 16) && refs > 0) && (st == PRIME_OK) != (pst == PRIME_OK))
        __builtin_trap();
    if (st != PRIME_OK) {
        if (prime_tagstore_image_count(s) != ni || prime_tagstore_tag_count(s) != nt ||
            prime_tagstore_class_count(s) != nc)
            __builtin_trap(); /* all or nothing */
    } else {
        /* the same store as the packed call's */
        if (prime_tagstore_freeze(s) != PRIME_OK ||
            prime_tagstore_image_count(s) != prime_tagstore_image_count(packed) ||
            prime_tagstore_tag_count(s) != prime_tagstore_tag_count(packed) ||
            prime_tagstore_class_count(s) != prime_tagstore_class_count(packed))
            __builtin_trap();
        for (uint32_t t = 0; t < prime_tagstore_tag_count(s); t++)
            if (strcmp(prime_tagstore_tag_name(s, t), prime_tagstore_tag_name(packed, t)) != 0)
                __builtin_trap();
        for (uint32_t c = 0; c < prime_tagstore_class_count(s); c++)
            if (strcmp(prime_tagstore_class_name(s, c), prime_tagstore_class_name(packed, c)) != 0)
                __builtin_trap();
        for (uint32_t i = 0; i < prime_tagstore_image_count(s); i++) {
            static uint32_t a[1u << 15], b[1u << 15];
            uint32_t ma = 0, mb = 0;
            if (prime_tagstore_image_tags(s, i, a, 1u << 15, &ma) != PRIME_OK ||
                prime_tagstore_image_tags(packed, i, b, 1u << 15, &mb) != PRIME_OK || ma != mb ||
                memcmp(a, b, ma * sizeof *a) != 0 ||
                prime_tagstore_image_class(s, i) != prime_tagstore_image_class(packed, i) ||
                strcmp(prime_tagstore_image_name(s, i), prime_tagstore_image_name(packed, i)) != 0)
                __builtin_trap();
        }
    }
    prime_tagstore_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    uint32_t n = data[0] % 32, flags = data[1];
    size_t pos = 6;
    uint32_t counts[32];
    const uint32_t *cp = NULL;
    if (flags & 1) {
        if (size - pos < n)
            return 0;
        for (uint32_t i = 0; i < n; i++)
            counts[i] = data[pos + i] % 8;
        pos += n;
        cp = counts;
    }
    size_t rest = size - pos;
    size_t li = rest ? ((size_t)data[2] << 8 | data[3]) % (rest + 1) : 0;
    size_t lc = rest - li ? ((size_t)data[4] << 8 | data[5]) % (rest - li + 1) : 0;
    const char *im = (const char *)data + pos, *cl = im + li, *tg = cl + lc;
    size_t lt = rest - li - lc;
    prime_tagstore *s = NULL;
    if (prime_tagstore_create(&s) != PRIME_OK)
        return 0;
    if ((flags & 4) &&
        prime_tagstore_add_packed(s, 1, "img", 3, "cls", 3, "a|b", 3, NULL, NULL) != PRIME_OK)
        __builtin_trap();
    uint32_t ni = prime_tagstore_image_count(s), nt = prime_tagstore_tag_count(s),
             nc = prime_tagstore_class_count(s), first = PRIME_NONE;
    prime_status st = prime_tagstore_add_packed(s, n, (flags & 2) ? NULL : im,
                                                (flags & 2) ? 0 : li, cl, lc, tg, lt, cp, &first);
    if (st != PRIME_OK) {
        if (prime_tagstore_image_count(s) != ni || prime_tagstore_tag_count(s) != nt ||
            prime_tagstore_class_count(s) != nc)
            __builtin_trap(); /* all or nothing */
    } else {
        if (first != ni || prime_tagstore_image_count(s) != ni + n ||
            prime_tagstore_freeze(s) != PRIME_OK)
            __builtin_trap();
        uint32_t tags = prime_tagstore_tag_count(s);
        for (uint32_t i = 0; i < ni + n; i++) {
            const char *name = prime_tagstore_image_name(s, i);
            static uint32_t ids[1u << 16]; /* more than the tags of any input */
            uint32_t found, m = 0;
            if (name == NULL || prime_tagstore_image_class(s, i) >= prime_tagstore_class_count(s))
                __builtin_trap();
            if (name[0] != '\0' &&
                (prime_tagstore_find_image(s, name, &found) != PRIME_OK || found != i))
                __builtin_trap();
            if (prime_tagstore_image_tags(s, i, ids, 1u << 16, &m) != PRIME_OK)
                __builtin_trap();
            for (uint32_t k = 0; k < m; k++)
                if (ids[k] >= tags || (k > 0 && ids[k] <= ids[k - 1]))
                    __builtin_trap();
        }
        for (uint32_t t = 0; t < tags; t++) {
            const char *tn = prime_tagstore_tag_name(s, t);
            if (tn == NULL || strchr(tn, '|') != NULL || tn[0] == '\0')
                __builtin_trap();
        }
    }
    if (cp != NULL)
        coded_check(s, st, n, flags, (flags & 2) ? NULL : im, (flags & 2) ? 0 : li, cl, lc, tg,
                    lt, cp);
    prime_tagstore_destroy(s);
    return 0;
}
