/**
 * \file prime/tokenizer.h
 * \brief CLIP's byte-pair-encoding tokenizer, in C.
 *
 * Turns UTF-8 text into the int64 token ids a CLIP text encoder takes,
 * exactly as CLIP's reference tokenizer (openai/CLIP, simple_tokenizer.py
 * and clip.tokenize) does: white space collapsed to single spaces and
 * stripped, lower-casing (Python's str.lower, final sigma included), the
 * reference split pattern
 * `<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
 * (case-insensitive, as the reference compiles it), the byte-to-unicode
 * mapping, byte-pair merges by rank with the `</w>` end-of-word marker, and
 * the 49,408-token vocabulary with start 49406 and end 49407.
 *
 * Before all that, the text is cleaned as the reference's basic_clean
 * does: ftfy.fix_text with its default settings (ftfy 6.3.1), then
 * html.unescape twice, then str.strip (lib/text/text_clean.c):
 *  - html.unescape: the 2,231 HTML5 names, with and without ';' as the
 *    standard lists them, the longest-prefix rule for names without ';',
 *    numeric references with Python's tables of replaced and dropped code
 *    points.
 *  - ftfy's own unescape_html (names ending in ';', its all-caps names such
 *    as "&EACUTE;"; off from the first line holding a '<').
 *  - ftfy's uncurl_quotes, fix_latin_ligatures, fix_character_width,
 *    fix_line_breaks, remove_terminal_escapes, remove_control_chars,
 *    fix_c1_controls and NFC normalisation (Unicode 14.0).
 *  - ftfy's fix_encoding (mojibake): its badness heuristic, the ten
 *    single-byte encodings it tries (Latin-1, sloppy Windows-1252, -1251,
 *    -1250, -1253, -1254, -1257, ISO-8859-2, MacRoman, CP437) with the
 *    restoration of 0xA0 bytes, the lossy-sequence replacement and its
 *    'utf-8-variants' decoding, decode_inconsistent_utf8 (mojibake inside
 *    text that cannot be re-encoded whole), the Latin-1 to Windows-1252
 *    and C1-control repairs.
 * All of these are meant to be exact; tests/data/clip/clip_tokens_clean.tsv
 * holds the reference's cleaned text and ids for 11,759 captions, tag names
 * and texts the cleaning changes (scripts/make_clip_clean_reference.py),
 * and every one is identical here. Known differences, all on hostile text:
 * ftfy repeats its steps until the text stops changing, here at most 100
 * rounds (more only for HTML escapes nested over 100 deep, such as
 * "&amp;amp;amp;..."); a decimal character reference of over 4,300 digits,
 * on which Python raises ValueError, decodes to U+FFFD.
 *
 * The split pattern's letter and number classes are those of the `regex`
 * module the reference uses (Debian's python3-regex: Unicode 15.0), where
 * U+0345 is in no class and is skipped; lower-casing is Python 3.11's
 * str.lower (Unicode 14.0); see lib/text/tokenizer_tables.h.
 *
 * Input text must be valid UTF-8 (PRIME_E_PARSE otherwise, with the byte
 * offset in the message); it is given with its length, so it may hold NUL
 * bytes (U+0000 is removed by the cleaning, as ftfy's remove_control_chars
 * does).
 *
 * A tokenizer is read-only once created: it may be shared by any number of
 * threads at once.
 */
#ifndef PRIME_TOKENIZER_H
#define PRIME_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "prime/prime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Tokens in CLIP's vocabulary: 256 bytes, the same 256 with `</w>`,
 *  48,894 merges, start and end. */
#define PRIME_TOKENIZER_VOCAB_SIZE 49408
/** Id of `<|startoftext|>`, the first id of every CLIP input. */
#define PRIME_TOKENIZER_START 49406
/** Id of `<|endoftext|>`, the last id before the padding. */
#define PRIME_TOKENIZER_END 49407
/** Context length of CLIP's text encoders. */
#define PRIME_TOKENIZER_CONTEXT 77

/** A CLIP byte-pair-encoding tokenizer (opaque; read-only once created). */
typedef struct prime_tokenizer prime_tokenizer;

/** Create a tokenizer from a BPE merges file in the format of CLIP's
 *  bpe_simple_vocab_16e6.txt.gz: gzip-compressed or plain UTF-8 text, one
 *  header line, then one merge per line (two symbols separated by a
 *  space). As the reference does, the first 48,894 merges after the header
 *  are used and later lines are ignored. PRIME_E_IO if the file cannot be
 *  read, PRIME_E_FORMAT for corrupt or truncated gzip data, PRIME_E_PARSE
 *  for a merges file that is not one ("NAME:LINE: ..."), PRIME_E_LIMIT for
 *  more than 64 MiB of text before the last merge needed. *out is set to
 *  NULL on failure. */
PRIME_API prime_status prime_tokenizer_create(const char *bpe_path, prime_tokenizer **out);

/** The same from a merges file held in memory (gzip-compressed, detected by
 *  its magic bytes, or plain text); data is only read during the call.
 *  name is used in messages ("<memory>" when NULL). */
PRIME_API prime_status prime_tokenizer_create_memory(const void *data, size_t size,
                                                     const char *name,
                                                     prime_tokenizer **out);

/** Destroy a tokenizer; NULL is fine. */
PRIME_API void prime_tokenizer_destroy(prime_tokenizer *tok);

/** Number of tokens in the vocabulary: PRIME_TOKENIZER_VOCAB_SIZE for a
 *  CLIP merges file; 0 for NULL. */
PRIME_API uint32_t prime_tokenizer_vocab_size(const prime_tokenizer *tok);

/** Encode text[0..len) (UTF-8; NULL is fine when len is 0) into token ids,
 *  as the reference's SimpleTokenizer.encode: without the start and end
 *  tokens, without padding or truncation. The number of ids is written to
 *  *n_out; the ids go to ids[0..n) when cap >= n, else nothing is written
 *  there and PRIME_E_BUFFER_TOO_SMALL is returned (call with ids = NULL,
 *  cap = 0 to ask for the size). PRIME_E_PARSE for invalid UTF-8,
 *  PRIME_E_LIMIT for a text over 2^40 bytes. */
PRIME_API prime_status prime_tokenizer_encode(const prime_tokenizer *tok, const char *text,
                                              size_t len, int64_t *ids, size_t cap,
                                              size_t *n_out);

/** Encode text[0..len) into exactly `context` ids, as
 *  clip.tokenize(text, context_length=context, truncate=True)[0] does: the
 *  start token, the text's ids, the end token, then zeros. When the text
 *  has more than context - 2 ids, the first context - 1 ids are kept and
 *  the last place holds the end token. context must be at least 2 (CLIP's
 *  encoders take PRIME_TOKENIZER_CONTEXT). *n_tokens_out (may be NULL)
 *  gets the number of ids before the padding, end token included;
 *  *truncated_out (may be NULL) gets 1 when the text was truncated, else
 *  0. Errors as prime_tokenizer_encode; ids is left untouched on error. */
PRIME_API prime_status prime_tokenizer_encode_context(const prime_tokenizer *tok,
                                                      const char *text, size_t len,
                                                      int64_t *ids, uint32_t context,
                                                      uint32_t *n_tokens_out,
                                                      int32_t *truncated_out);

/** CLIP's text cleaning alone: text[0..len) (UTF-8) after ftfy.fix_text,
 *  html.unescape twice and str.strip, as the reference's basic_clean (see
 *  above for what is exact), as UTF-8 in out[0..n). Needs no tokenizer.
 *  The byte count is written to *n_out; the bytes go to out when cap >= n
 *  (no NUL is added), else nothing is written there and
 *  PRIME_E_BUFFER_TOO_SMALL is returned (out = NULL, cap = 0 asks for the
 *  size). PRIME_E_PARSE for invalid UTF-8, PRIME_E_LIMIT for a text over
 *  2^40 bytes. */
PRIME_API prime_status prime_tokenizer_clean(const char *text, size_t len, char *out,
                                             size_t cap, size_t *n_out);

#ifdef __cplusplus
}
#endif

#endif /* PRIME_TOKENIZER_H */
