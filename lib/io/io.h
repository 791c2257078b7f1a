/* libprime's io layer (lib/io): the text checks shared by every text
 * reader, the RFC 4180 CSV tokenizer (csv.c) and the JSON lexer (json.c).
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

/* ---- the JSON lexer (json.c) ----------------------------------------------
 * Shared by the JSON Lines tags reader and the result reader. The caller
 * walks its schema over these tokens; prime__json_skip validates and skips
 * a value it does not read. Decoded strings go to one scratch buffer
 * (offsets stay valid while it grows; the caller resets j->len to reuse
 * it). The input must already pass prime__text_check (no NUL, valid UTF-8),
 * so every decoded string is valid UTF-8; it may hold U+0000 (from
 * \u0000), which a caller that needs C strings refuses. */

#define PRIME__JSON_MAX_DEPTH 64

/* Value types, as prime__json_peek reports them. */
enum {
    PRIME__JSON_NULL,
    PRIME__JSON_BOOL,
    PRIME__JSON_NUMBER,
    PRIME__JSON_STRING,
    PRIME__JSON_ARRAY,
    PRIME__JSON_OBJECT
};

typedef struct {
    const char *name;       /* for messages; never NULL */
    const char *p, *end;    /* the rest of the input (of the line, in JSON Lines) */
    const char *line_start; /* for columns in JSON Lines */
    uint64_t line;          /* physical line (1-based) at p */
    char *scratch;          /* decoded strings */
    size_t len, cap;
    bool lines;             /* JSON Lines: messages give columns and say "end of the line" */
} prime__json;

/* A decoded string: scratch[off .. off + n), and the line it started on. */
typedef struct {
    size_t off, n;
    uint64_t line;
} prime__json_span;

/* A number: its value (as strtod would read it), whether its text is a
 * non-negative integer that fits in 64 bits (then u holds it exactly), and
 * its line. */
typedef struct {
    double v;
    uint64_t u;
    bool integer;
    uint64_t line;
} prime__json_number_t;

/* Start lexing data[0..size) (a JSON Lines reader points p/end at each line
 * itself). `name` may be NULL. */
PRIME_INTERNAL void prime__json_init(prime__json *j, const char *data, size_t size,
                                     const char *name, bool lines);
PRIME_INTERNAL void prime__json_free(prime__json *j);

/* Skip blanks (space, tab, CR, and LF counting lines). */
static inline void prime__json_ws(prime__json *j)
{
    while (j->p < j->end) {
        char c = *j->p;
        if (c == '\n') {
            j->line++;
            j->line_start = j->p + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            break;
        }
        j->p++;
    }
}

/* "NAME:LINE: message" (at the current line, or at `line`), returns st. */
PRIME_INTERNAL prime_status prime__json_fail(const prime__json *j, prime_status st,
                                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
PRIME_INTERNAL prime_status prime__json_fail_at(const prime__json *j, prime_status st,
                                                uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "WHAT, found 'c'" (or the byte, or the end of the line/file). */
PRIME_INTERNAL prime_status prime__json_syntax(const prime__json *j, const char *what);
/* Room for `more` bytes of scratch; false when out of memory. */
PRIME_INTERNAL bool prime__json_reserve(prime__json *j, size_t more);
/* The string at p (on its opening quote), decoded and appended to scratch. */
PRIME_INTERNAL prime_status prime__json_string(prime__json *j, prime__json_span *out);
/* Length of the JSON number at p (0 if there is none, or if it runs into a
 * letter or digit, "1x", "01"); *integer = no fraction, no exponent. */
PRIME_INTERNAL size_t prime__json_number_len(const char *p, const char *end, bool *integer);
/* The number at p, read. */
PRIME_INTERNAL prime_status prime__json_number(prime__json *j, prime__json_number_t *out);
/* Consume `word` ("true", "false", "null") if it is at p. */
PRIME_INTERNAL bool prime__json_literal(prime__json *j, const char *word);
/* Skip blanks and say which type of value starts at p (by its first byte),
 * or -1 at the end or at a byte that starts no value. */
PRIME_INTERNAL int prime__json_peek(prime__json *j);
/* "null", "a boolean", "a number", ... for messages. */
PRIME_INTERNAL const char *prime__json_type_name(int type);
/* After a member or an element: *more = true on ',', false on `close`
 * ('}' or ']', consumed); anything else is a syntax error. */
PRIME_INTERNAL prime_status prime__json_next(prime__json *j, char close, bool *more);
/* A key string and its ':'. */
PRIME_INTERNAL prime_status prime__json_key(prime__json *j, prime__json_span *key);
/* Validate and skip any value; `depth` is the nesting level of the container
 * holding it. Its strings are decoded into scratch and dropped; a key given
 * twice in one of its objects is refused. */
PRIME_INTERNAL prime_status prime__json_skip(prime__json *j, int depth);
/* PRIME_E_PARSE naming the key and its line if two of keys[0..n) (spans
 * into scratch) are equal; sorts keys. */
PRIME_INTERNAL prime_status prime__json_check_keys(const prime__json *j, prime__json_span *keys,
                                                   size_t n);

#endif /* PRIME_IO_H */
