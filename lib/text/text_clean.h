/* CLIP's text cleaning (lib/text/text_clean.c), used by the tokenizer. Private. */
#ifndef PRIME_TEXT_CLEAN_H
#define PRIME_TEXT_CLEAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* CLIP's basic_clean of the code points in[0..n) (no surrogates):
 * ftfy.fix_text with its default settings, html.unescape twice, str.strip
 * (see include/prime/tokenizer.h for what is exact). On success *out gets
 * an array from prime__malloc (never NULL; free with prime__free) of *n_out
 * code points. PRIME_E_NOMEM is the only error (its message is set). */
PRIME_INTERNAL prime_status prime__clip_basic_clean(const uint32_t *in, size_t n,
                                                    uint32_t **out, size_t *n_out);

#endif /* PRIME_TEXT_CLEAN_H */
