/* Records suite: prime_mode_event_render (the records of --stream, written
 * on a stack buffer with the description and the CSV tags put from their
 * pieces) against the renderer it replaced, kept here as the reference: the
 * description built in memory, the tags joined, then escaped or quoted as a
 * whole, numbers by the snprintf/strtod loop. Names that need JSON escapes
 * or CSV quotes, and names long enough that a record outgrows the stack
 * buffer; every record byte for byte, in both formats, per class and over
 * the whole data set. */
#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "prime/prime.h"

/* ---- the reference --------------------------------------------------------- */

static void ref_puts(char **s, size_t *len, const char *t)
{
    size_t n = strlen(t);
    *s = realloc(*s, *len + n + 1);
    cr_assert_not_null(*s);
    memcpy(*s + *len, t, n + 1);
    *len += n;
}

static void ref_putc(char **s, size_t *len, char c)
{
    char t[2] = {c, 0};
    ref_puts(s, len, t);
}

static void ref_double(char **s, size_t *len, double v)
{
    if (!isfinite(v)) {
        ref_puts(s, len, "null");
        return;
    }
    if (v == 0.0) {
        ref_puts(s, len, "0");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        double back;
        if (prime__parse_double(tmp, strlen(tmp), &back) && back == v)
            break;
    }
    ref_puts(s, len, tmp);
}

static void ref_json_string(char **s, size_t *len, const char *t)
{
    static const char hex[] = "0123456789abcdef";
    ref_putc(s, len, '"');
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        unsigned char c = *p;
        switch (c) {
        case '"': ref_puts(s, len, "\\\""); break;
        case '\\': ref_puts(s, len, "\\\\"); break;
        case '\n': ref_puts(s, len, "\\n"); break;
        case '\r': ref_puts(s, len, "\\r"); break;
        case '\t': ref_puts(s, len, "\\t"); break;
        case '\b': ref_puts(s, len, "\\b"); break;
        case '\f': ref_puts(s, len, "\\f"); break;
        default:
            if (c < 0x20) {
                char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
                ref_puts(s, len, e);
            } else {
                ref_putc(s, len, (char)c);
            }
        }
    }
    ref_putc(s, len, '"');
}

static void ref_csv_field(char **s, size_t *len, const char *t)
{
    if (strpbrk(t, ",\"\r\n") == NULL) {
        ref_puts(s, len, t);
        return;
    }
    ref_putc(s, len, '"');
    for (const char *p = t; *p; p++) {
        if (*p == '"')
            ref_putc(s, len, '"');
        ref_putc(s, len, *p);
    }
    ref_putc(s, len, '"');
}

static char *reference(const prime_tagstore *st, const prime_mode_event *e, int32_t format)
{
    const char *cls = e->class_id == PRIME_NONE ? "(all)" : prime_tagstore_class_name(st, e->class_id);
    char *desc = NULL, *tags = NULL, *out = NULL;
    size_t dl = 0, tl = 0, ol = 0;
    ref_puts(&desc, &dl, "a photo of");
    if (e->class_id != PRIME_NONE) {
        ref_putc(&desc, &dl, ' ');
        ref_puts(&desc, &dl, cls);
    }
    ref_puts(&tags, &tl, "");
    for (uint32_t k = 0; k < e->n_tags; k++) {
        const char *t = prime_tagstore_tag_name(st, e->tags[k]);
        ref_putc(&desc, &dl, ' ');
        ref_puts(&desc, &dl, t);
        if (k)
            ref_putc(&tags, &tl, '|');
        ref_puts(&tags, &tl, t);
    }
    char size[32];
    snprintf(size, sizeof size, "%llu", (unsigned long long)e->size);
    const double num[4] = {e->correct, e->accuracy, e->class_accuracy, e->drop};
    if (format == PRIME_FORMAT_JSON) {
        static const char *const keys[4] = {", \"correct\": ", ", \"accuracy\": ",
                                            ", \"class_accuracy\": ", ", \"drop\": "};
        ref_puts(&out, &ol, "{\"class\": ");
        ref_json_string(&out, &ol, cls);
        ref_puts(&out, &ol, ", \"tags\": [");
        for (uint32_t k = 0; k < e->n_tags; k++) {
            if (k)
                ref_puts(&out, &ol, ", ");
            ref_json_string(&out, &ol, prime_tagstore_tag_name(st, e->tags[k]));
        }
        ref_puts(&out, &ol, "], \"size\": ");
        ref_puts(&out, &ol, size);
        for (int i = 0; i < 4; i++) {
            ref_puts(&out, &ol, keys[i]);
            ref_double(&out, &ol, num[i]);
        }
        ref_puts(&out, &ol, ", \"description\": ");
        ref_json_string(&out, &ol, desc);
        ref_puts(&out, &ol, "}\n");
    } else {
        ref_csv_field(&out, &ol, cls);
        ref_putc(&out, &ol, ',');
        ref_csv_field(&out, &ol, tags);
        ref_putc(&out, &ol, ',');
        ref_puts(&out, &ol, size);
        for (int i = 0; i < 4; i++) {
            ref_putc(&out, &ol, ',');
            ref_double(&out, &ol, num[i]);
        }
        ref_putc(&out, &ol, ',');
        ref_csv_field(&out, &ol, desc);
        ref_putc(&out, &ol, '\n');
    }
    free(desc);
    free(tags);
    return out;
}

/* ---- the comparison -------------------------------------------------------- */

typedef struct {
    const prime_tagstore *store;
    uint64_t records, long_records;
} sink;

static int32_t on_mode(void *user, const prime_mode_event *e)
{
    sink *k = user;
    const int32_t formats[2] = {PRIME_FORMAT_JSON, PRIME_FORMAT_CSV};
    for (int f = 0; f < 2; f++) {
        char *want = reference(k->store, e, formats[f]);
        size_t need = 0;
        char small[8] = "unused";
        /* too small: the size needed, and the caller's buffer unchanged */
        cr_assert_eq(prime_mode_event_render(k->store, e, formats[f], small, sizeof small, &need),
                     PRIME_E_BUFFER_TOO_SMALL);
        cr_assert_str_eq(small, "unused");
        cr_assert_eq(need, strlen(want));
        char *got = malloc(need + 1);
        cr_assert_not_null(got);
        size_t again = 0;
        cr_assert_eq(prime_mode_event_render(k->store, e, formats[f], got, need + 1, &again),
                     PRIME_OK);
        cr_assert_eq(again, need);
        cr_assert_str_eq(got, want);
        if (need > 1024)
            k->long_records++;
        free(got);
        free(want);
    }
    k->records++;
    return 0;
}

Test(records, tricky_and_long_names)
{
    /* names of 250 bytes (the limit is 255), one with a comma and a quote:
       a mode of two of them in the long class outgrows the stack buffer */
    char long_tag[3][251], long_class[251];
    for (int t = 0; t < 3; t++) {
        for (size_t i = 0; i < 250; i++)
            long_tag[t][i] = (char)('a' + (i + (size_t)t) % 26);
        long_tag[t][250] = '\0';
    }
    memcpy(long_tag[1] + 100, ",\"", 2);
    for (size_t i = 0; i < 250; i++)
        long_class[i] = (char)('A' + i % 26);
    long_class[250] = '\0';
    const char *const tags[] = {"q\"uote", "back\\slash", "tab\there", "\xC3\xA9t\xC3\xA9",
                                "ctl\x01", "comma,x", "nl\nx", "cr\rx", "plain", long_tag[0],
                                long_tag[1], long_tag[2]};
    const uint32_t n_tag_names = sizeof tags / sizeof tags[0];
    const char *const classes[] = {"c \"one\"", "two,2", long_class};
    uint32_t seed = 12345;
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_outcomes_create(900, &o), PRIME_OK);
    for (uint32_t i = 0; i < 900; i++) {
        const char *t[16];
        uint32_t n = 0;
        for (uint32_t k = 0; k < n_tag_names; k++) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 3 == 0)
                t[n++] = tags[k];
        }
        seed = seed * 1103515245u + 12345u;
        char name[16];
        snprintf(name, sizeof name, "i%u", i);
        cr_assert_eq(prime_tagstore_add_image_names(s, name, classes[i % 3], t, n, NULL),
                     PRIME_OK, "%s", prime_last_error());
        cr_assert_eq(prime_outcomes_set(o, i, n > 3 ? 0.0 : ((seed >> 16) % 4 ? 1.0 : 0.0)),
                     PRIME_OK);
    }
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    for (int whole = 0; whole < 2; whole++) {
        prime_config *c = NULL;
        cr_assert_eq(prime_config_create(&c), PRIME_OK);
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MIN_SIZE, 5), PRIME_OK);
        cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_DROP, 0.02), PRIME_OK);
        cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_WHOLE_DATASET, whole), PRIME_OK);
        sink k = {.store = s};
        uint64_t n = 0;
        cr_assert_eq(prime_search_stream(s, o, c, NULL, NULL, on_mode, &k, &n), PRIME_OK, "%s",
                     prime_last_error());
        cr_assert_eq(k.records, n);
        cr_assert_gt(k.records, 20, "the store must give modes");
        cr_assert_gt(k.long_records, 0, "some records must outgrow the stack buffer");
        prime_config_destroy(c);
    }
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

/* One event rendered as the reference renders it, into a buffer just large
 * enough and into a large one (written directly: the rest of it untouched). */
static void check_event(const prime_tagstore *s, const prime_mode_event *e, const char *what)
{
    const int32_t formats[2] = {PRIME_FORMAT_JSON, PRIME_FORMAT_CSV};
    static char big[1 << 16];
    for (int f = 0; f < 2; f++) {
        char *want = reference(s, e, formats[f]);
        size_t need = 0, want_len = strlen(want);
        memset(big, '#', sizeof big);
        cr_assert_eq(prime_mode_event_render(s, e, formats[f], big, sizeof big, &need), PRIME_OK,
                     "%s", prime_last_error());
        cr_assert_eq(need, want_len, "%s", what);
        cr_assert_str_eq(big, want, "%s (format %d)", what, (int)formats[f]);
        for (size_t i = need + 1; i < need + 1024; i++)
            cr_assert_eq(big[i], '#', "%s: byte %zu past the record's NUL written", what, i);
        char *exact = malloc(need + 1);
        cr_assert_not_null(exact);
        cr_assert_eq(prime_mode_event_render(s, e, formats[f], exact, need + 1, &need), PRIME_OK);
        cr_assert_str_eq(exact, want, "%s", what);
        free(exact);
        free(want);
    }
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ull;
}

/* The numbers of the records go through a per-thread memo of recent
 * values and the names through forms escaped once per frozen store: hand
 * made events with every tricky name, before the store is frozen (names
 * escaped in the record) and after (their forms), and numbers that collide
 * in the memo, repeat, differ in the last bit only, sit at rounding edges
 * (ties of the 15- and 16-digit texts), are zero of either sign, NaN,
 * infinite, subnormal or huge: every record byte for byte against the
 * reference (snprintf and strtod). */
Test(records, memo_and_name_forms)
{
    const char *const tags[] = {"q\"uote",  "back\\slash", "tab\there", "\xC3\xA9t\xC3\xA9",
                                "ctl\x01\x1f", "comma,x",  "nl\nx",     "cr\rx",
                                "plain",   "\xE6\x97\xA5\xE6\x9C\xAC", "sp ace", "\"\"",
                                "\\u0041", "emoji \xF0\x9F\x98\x80"};
    const uint32_t n_tags = sizeof tags / sizeof tags[0];
    const char *const classes[] = {"c \"one\"", "two,2", "plain", "\xC3\xBC\tber"};
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    for (uint32_t i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof name, "i%u", i);
        cr_assert_eq(prime_tagstore_add_image_names(s, name, classes[i % 4], tags, n_tags, NULL),
                     PRIME_OK, "%s", prime_last_error());
    }
    /* values: ratios k/n, drops between them, neighbours one ulp apart,
       decimal ties, specials, random bit patterns */
    enum { N_VALUES = 4096 };
    static double values[N_VALUES];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t nv = 0;
    const double special[] = {0.0,      -0.0,        NAN,          INFINITY, -INFINITY,
                              5e-324,   -2.2250738585072014e-308, 1e300, -1e-300,
                              0.5,      0.125,       1.0 / 3.0,    2.0 / 3.0, 1e15, 1e16,
                              123456789012345.5,     0.1,          0.7,      1e-5, 9.5e-5};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        values[nv++] = special[i];
    while (nv < N_VALUES) {
        uint64_t r = xorshift(&x);
        double v;
        switch (r % 5) {
        case 0: { /* a ratio k/n */
            uint64_t n = 1 + (r >> 8) % 5000, k = (r >> 24) % (n + 1);
            v = (double)k / (double)n;
            break;
        }
        case 1: { /* a drop a - b of two ratios */
            uint64_t n1 = 1 + (r >> 8) % 3000, n2 = 1 + (r >> 20) % 3000;
            v = (double)((r >> 32) % (n1 + 1)) / (double)n1 -
                (double)((r >> 44) % (n2 + 1)) / (double)n2;
            break;
        }
        case 2: { /* the previous value but for its last bits (1 to 300 ulps
                     away): rendered right after it below */
            uint64_t bits;
            memcpy(&bits, &values[nv - 1], sizeof bits);
            bits += 1 + (r >> 8) % 300;
            memcpy(&v, &bits, sizeof v);
            break;
        }
        case 3: { /* a 16- or 17-digit decimal tie: d.ddd...5 */
            char t[40];
            snprintf(t, sizeof t, "0.%015llu5", (unsigned long long)((r >> 8) % 1000000000000000ull));
            v = strtod(t, NULL);
            break;
        }
        default: { /* any bit pattern */
            uint64_t bits = xorshift(&x);
            memcpy(&v, &bits, sizeof v);
        }
        }
        values[nv++] = v;
    }
    for (int frozen = 0; frozen < 2; frozen++) {
        if (frozen)
            cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
        uint64_t y = 42;
        for (uint32_t i = 0; i < 40000; i++) {
            uint32_t ids[PRIME_MAX_TAGS_LIMIT];
            uint32_t n = 1 + (uint32_t)(xorshift(&y) % 6);
            for (uint32_t k = 0; k < n; k++)
                ids[k] = (uint32_t)(xorshift(&y) % n_tags);
            uint64_t r = xorshift(&y);
            /* a value again soon (a memo hit) or any of them (a collision) */
            size_t base = (size_t)(r % N_VALUES);
            prime_mode_event e = {
                .class_id = (r >> 20) % 5 == 4 ? PRIME_NONE : (uint32_t)((r >> 20) % 4),
                .n_tags = n,
                .tags = ids,
                .size = (r >> 30) % 7 == 0 ? UINT64_MAX : (r >> 30) % 100000,
                .correct = values[base],
                .accuracy = values[(r >> 42) % 8 == 0 ? (base * 7) % N_VALUES
                                                      : (base + 1) % N_VALUES],
                .class_accuracy = values[(size_t)((r >> 45) % 32)],
                .drop = values[(size_t)(xorshift(&y) % N_VALUES)]};
            char what[64];
            snprintf(what, sizeof what, "event %u, %s store", i, frozen ? "frozen" : "open");
            check_event(s, &e, what);
        }
    }
    prime_tagstore_destroy(s);
}
