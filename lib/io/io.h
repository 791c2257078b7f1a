/* The RFC 4180 CSV tokenizer shared by the text readers (read_csv.c,
 * read_outcomes.c) and the text checks shared with read_jsonl.c.
 * Internal; not installed. */
#ifndef PRIME_IO_H
#define PRIME_IO_H

#include "common/common.h"

/* Name used in messages when the caller gave none. */
#define PRIME__NONAME "<memory>"

/* One field of the current record: bytes p[0..n), not NUL-terminated. The
 * pointer is into the input, or (for a quoted field holding "") into the
 * tokenizer's scratch space; valid until the next prime__csv_next. */
typedef struct {
    const char *p;
    size_t n;
} prime__csv_field;

typedef struct {
    size_t off, n;
    bool scratch; /* off is into scratch, not into data */
} prime__csv_raw;

typedef struct {
    const char *data;
    size_t size;
    size_t pos;
    const char *name;  /* for messages; never NULL */
    uint64_t line;     /* physical line (1-based) at pos */
    uint64_t rec_line; /* physical line where the current record starts */
    /* the current record */
    prime__csv_field *fields;
    uint32_t n_fields;
    size_t fields_cap;
    prime__csv_raw *raw;
    size_t raw_cap;
    char *scratch;
    size_t scratch_len, scratch_cap;
    /* scanner: bit k of mask is set when data[chunk + k] is one of , " CR LF */
    size_t chunk;
    uint64_t mask;
    /* where the records after the header start (for prime__csv_rewind) */
    size_t body_pos;
    uint64_t body_line;
} prime__csv;

/* Prepare to read data[0..size) (a UTF-8 BOM is skipped). Checks the whole
 * text first: no NUL byte, valid UTF-8; errors name the line. `name` may be
 * NULL. On error nothing needs freeing. */
PRIME_INTERNAL prime_status prime__csv_open(prime__csv *c, const char *data, size_t size,
                                            const char *name);

/* Read the next record, skipping blank lines (empty or only spaces and
 * tabs). *got = false at the end of the input. Errors (PRIME_E_PARSE) name
 * the line: a quote inside an unquoted field, text after a closing quote,
 * an unterminated quoted field (the line where it opened), a carriage
 * return not followed by a line feed. */
PRIME_INTERNAL prime_status prime__csv_next(prime__csv *c, bool *got);

/* Read the header record and find the columns named wanted[0..n): col[i] =
 * index of the column or -1. An empty file and a named column given twice
 * are errors. */
PRIME_INTERNAL prime_status prime__csv_header(prime__csv *c, const char *const *wanted,
                                              uint32_t n, int32_t *col);

/* Free what the tokenizer holds (not the input). */
PRIME_INTERNAL void prime__csv_free(prime__csv *c);

/* Reset a tokenizer to the first record after the header, to scan again
 * (used on error paths to find the line of an earlier record). */
PRIME_INTERNAL void prime__csv_rewind(prime__csv *c);

/* ---- shared by the text readers ------------------------------------------ */

/* Physical line (1-based) of byte `off` of data. */
PRIME_INTERNAL uint64_t prime__text_line(const char *data, size_t off);

/* Check a whole text: no NUL byte, valid UTF-8. Errors name the line. */
PRIME_INTERNAL prime_status prime__text_check(const char *data, size_t size, const char *name);

/* true if data[0..size) holds no NUL byte and is valid UTF-8 (what
 * prime__text_check accepts), without a message. Pieces that each pass make
 * a whole that passes. */
PRIME_INTERNAL bool prime__text_ok(const char *data, size_t size);

/* prime__csv_open for a text already known to pass prime__text_check. */
PRIME_INTERNAL prime_status prime__csv_open_checked(prime__csv *c, const char *data, size_t size,
                                                    const char *name, bool checked);

/* Length of the UTF-8 BOM at the start of data (0 or 3). */
PRIME_INTERNAL size_t prime__text_bom(const char *data, size_t size);

/* Outcome kinds of a column or key. */
enum { PRIME__OUT_NONE = 0, PRIME__OUT_CORRECT = 1, PRIME__OUT_SCORE = 2 };

/* Parse an outcome value s[0..n) of the given kind: correct must be 0 or 1,
 * score a number in [0, 1]. Not a number: PRIME_E_PARSE; a number out of
 * range: PRIME_E_RANGE; the message is "NAME:LINE: ...". */
PRIME_INTERNAL prime_status prime__parse_outcome(int kind, const char *s, size_t n,
                                                 const char *name, uint64_t line,
                                                 double *out);

/* Re-raise the calling thread's last error with "NAME:LINE: " in front. */
PRIME_INTERNAL prime_status prime__error_at(prime_status status, const char *name,
                                            uint64_t line);

/* Bytes of a value to show in a message: at most 60, not cutting a UTF-8
 * sequence. */
PRIME_INTERNAL int prime__show_len(const char *s, size_t n);

#endif /* PRIME_IO_H */
