/* Fuzz prime_tagstore_add_packed (the packed text columns of bindings).
 * Input: byte 0 the image count (mod 32), byte 1 flags (1: tag counts,
 * 2: no image names, 4: a store that already holds an image), bytes 2-5
 * the lengths of the image and class columns (mod what is left), with
 * counts one byte per image (mod 8); the rest is the three columns. Any
 * input must either add exactly n consistent images or change nothing. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    prime_tagstore_destroy(s);
    return 0;
}
