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
