/* Text files of one item a line (prime/file.h, prime_lines): a vocabulary,
 * a list of images. The one line reader of libprime, with the rules of its
 * other text readers: the whole text checked first (no NUL, valid UTF-8), a
 * UTF-8 BOM skipped, LF or CRLF ending a line, blank lines (empty or only
 * spaces and tabs) skipped; errors name the file and line. */
#include <inttypes.h>
#include <string.h>

#include "io/io.h"
#include "prime/file.h"

struct prime_lines {
    prime__names items; /* indexed when they are names (duplicates found) */
    uint64_t *line;     /* the line of each item */
    size_t line_cap;
};

void prime_lines_destroy(prime_lines *l)
{
    if (l == NULL)
        return;
    prime__names_free(&l->items);
    prime__free(l->line);
    prime__free(l);
}

uint32_t prime_lines_count(const prime_lines *l)
{
    return l != NULL ? l->items.count : 0;
}

const char *prime_lines_get(const prime_lines *l, uint32_t i)
{
    if (l == NULL || i >= l->items.count)
        return NULL;
    return prime__names_get(&l->items, i);
}

static bool blank(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] != ' ' && s[k] != '\t')
            return false;
    return true;
}

/* One item s[0..n) from line `line`: checked as a name when asked, kept. */
static prime_status add_item(prime_lines *l, const char *s, size_t n, uint64_t line,
                             uint32_t flags, const char *name)
{
    bool names = (flags & PRIME_LINES_NAMES) != 0;
    if ((flags & PRIME_LINES_NO_BAR) != 0 && memchr(s, '|', n) != NULL)
        return prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": the name \"%.*s\" holds '|'", name,
                            line, prime__show_len(s, n), s);
    if (names) {
        if (n > 255)
            return prime__error(PRIME_E_LIMIT, "%s:%" PRIu64 ": a name of %zu bytes (at most 255)",
                                name, line, n);
        uint32_t seen = prime__names_find(&l->items, s, n);
        if (seen != PRIME_NONE)
            return prime__error(PRIME_E_DUPLICATE,
                                "%s:%" PRIu64 ": \"%.*s\" is also line %" PRIu64, name, line,
                                prime__show_len(s, n), s, l->line[seen]);
    }
    if (!prime__grow((void **)&l->line, &l->line_cap, (size_t)l->items.count + 1,
                     sizeof *l->line))
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
    uint32_t id;
    prime_status st = prime__names_push(&l->items, s, n, names, &id);
    if (st != PRIME_OK)
        return prime__error_at(st, name, line);
    l->line[id] = line;
    return PRIME_OK;
}

prime_status prime_lines_load_memory(const void *data, size_t size, const char *name,
                                     uint32_t flags, prime_lines **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_lines_load_memory: out is NULL");
    *out = NULL;
    if (data == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_lines_load_memory: data is NULL");
    if ((flags & ~(uint32_t)(PRIME_LINES_COMMENTS | PRIME_LINES_NAMES | PRIME_LINES_NO_BAR)) != 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_lines_load: unknown flags 0x%x",
                            (unsigned)flags);
    if (name == NULL)
        name = PRIME__NONAME;
    const char *d = data != NULL ? data : "";
    prime_status st = prime__text_check(d, size, name);
    if (st != PRIME_OK)
        return st;
    prime_lines *l = prime__calloc(1, sizeof *l);
    if (l == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
    size_t pos = prime__text_bom(d, size);
    uint64_t line = 0, first_blank = 0;
    while (st == PRIME_OK && pos < size) {
        line++;
        const char *s = d + pos, *nl = memchr(s, '\n', size - pos);
        size_t n = nl != NULL ? (size_t)(nl - s) : size - pos;
        pos += n + 1;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (memchr(s, '\r', n) != NULL) {
            st = prime__error(PRIME_E_PARSE,
                              "%s:%" PRIu64 ": a carriage return not followed by a line feed",
                              name, line);
        } else if (blank(s, n)) {
            if (first_blank == 0)
                first_blank = line;
        } else if ((flags & PRIME_LINES_COMMENTS) != 0 && s[0] == '#') {
            continue;
        } else if ((flags & PRIME_LINES_NAMES) != 0 && first_blank != 0) {
            /* names are counted by their place: a blank line would shift them */
            st = prime__error(PRIME_E_PARSE,
                              "%s:%" PRIu64 ": a blank line (names are one a line; blank lines "
                              "only at the end)",
                              name, first_blank);
        } else {
            st = add_item(l, s, n, line, flags, name);
        }
    }
    if (st == PRIME_OK && l->items.count == 0)
        st = prime__error(PRIME_E_PARSE, "%s: no lines (the file is empty or blank)", name);
    if (st != PRIME_OK) {
        prime_lines_destroy(l);
        return st;
    }
    *out = l;
    return PRIME_OK;
}

typedef struct {
    uint32_t flags;
    prime_lines **out;
} load_args;

static prime_status parse(const char *data, size_t size, const char *name, void *ctx)
{
    const load_args *a = ctx;
    return prime_lines_load_memory(data, size, name, a->flags, a->out);
}

prime_status prime_lines_load(const char *path, uint32_t flags, prime_lines **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_lines_load: out is NULL");
    *out = NULL;
    load_args a = {flags, out};
    return prime__parse_file(path, parse, &a);
}
