/* The tags reader for JSON Lines: one object per non-blank line with the
 * keys "image", "class", "tags" and optionally "correct" or "score".
 *
 * The tokens come from the JSON lexer of io/json.c, its scratch buffer
 * reused for every line; values of unknown keys are skipped by its
 * validator; a key given twice is refused. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "store/store.h"

enum { K_IMAGE, K_CLASS, K_TAGS, K_CORRECT, K_SCORE, N_KEYS };
static const char *const key_names[N_KEYS] = {"image", "class", "tags", "correct", "score"};

static int key_id(const char *s, size_t n)
{
    for (int k = 0; k < N_KEYS; k++)
        if (strlen(key_names[k]) == n && memcmp(key_names[k], s, n) == 0)
            return k;
    return -1;
}

/* A name value: a string or an integer literal (its text). */
static prime_status jname(prime__json *x, const char *what, prime__json_span *out)
{
    if (x->p < x->end && *x->p == '"')
        return prime__json_string(x, out);
    bool integer;
    size_t n = x->p < x->end ? prime__json_number_len(x->p, x->end, &integer) : 0;
    if (n == 0 || !integer)
        return prime__json_syntax(x, what);
    if (!prime__json_reserve(x, n))
        return prime__json_fail(x, PRIME_E_NOMEM, "out of memory");
    out->off = x->len;
    out->n = n;
    memcpy(x->scratch + x->len, x->p, n);
    x->len += n;
    x->p += n;
    return PRIME_OK;
}

/* An outcome value: a number, or true/false for correct. */
static prime_status joutcome(prime__json *x, int key, double *v)
{
    if (key == K_CORRECT) {
        if (prime__json_literal(x, "true")) {
            *v = 1;
            return PRIME_OK;
        }
        if (prime__json_literal(x, "false")) {
            *v = 0;
            return PRIME_OK;
        }
    }
    bool integer;
    size_t n = x->p < x->end ? prime__json_number_len(x->p, x->end, &integer) : 0;
    if (n == 0)
        return prime__json_syntax(x, key == K_CORRECT ? "\"correct\" must be 0, 1, true or false"
                                           : "\"score\" must be a number in [0, 1]");
    prime_status st =
        prime__parse_outcome(key == K_CORRECT ? PRIME__OUT_CORRECT : PRIME__OUT_SCORE, x->p, n,
                             x->name, x->line, v);
    x->p += n;
    return st;
}

prime_status prime__read_tags_jsonl(const char *data, size_t size, const char *name,
                                    prime_tagstore **store_out, prime_outcomes **outcomes_out)
{
    if (store_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime__read_tags_jsonl: store_out is NULL");
    if (name == NULL)
        name = PRIME__NONAME;
    if (data == NULL) {
        data = "";
        size = 0;
    }
    prime__json x;
    prime__json_init(&x, data, 0, name, true);
    prime_tagstore *s = NULL;
    prime__json_span *tags = NULL, *unknown = NULL;
    size_t tags_cap = 0, unknown_cap = 0;
    uint32_t *tids = NULL;
    size_t tids_cap = 0;
    double *vals = NULL;
    size_t vals_cap = 0;
    uint64_t *lines = NULL; /* line of each image, to name both in a duplicate */
    size_t lines_cap = 0;
    uint32_t n_images = 0;
    int has_outcomes = -1; /* decided by the first record */
    uint64_t first_line = 0;
    prime_status st = prime__text_check(data, size, name);
    if (st != PRIME_OK)
        goto done;
    if ((st = prime_tagstore_create(&s)) != PRIME_OK)
        goto done;
    if (!prime__json_reserve(&x, 256)) { /* never NULL, so scratch + offset is always defined */
        st = prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
        goto done;
    }
    const char *p = data + prime__text_bom(data, size), *end = data + size;
    for (x.line = 1; p < end; x.line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        x.line_start = p;
        x.p = p;
        x.end = le;
        p = nl != NULL ? nl + 1 : end;
        prime__json_ws(&x);
        if (x.p >= x.end)
            continue; /* blank line */
        if (*x.p != '{') {
            st = prime__json_syntax(&x, "expected a JSON object");
            goto done;
        }
        x.p++;
        x.len = 0;
        prime__json_span val[N_KEYS] = {{0, 0, 0}};
        bool seen[N_KEYS] = {false};
        double outcome[N_KEYS] = {0};
        size_t nt = 0, nu = 0;
        prime__json_ws(&x);
        if (x.p < x.end && *x.p == '}') {
            x.p++;
        } else {
            for (;;) {
                prime__json_span key;
                if ((st = prime__json_key(&x, &key)) != PRIME_OK)
                    goto done;
                prime__json_ws(&x);
                int k = key_id(x.scratch + key.off, key.n);
                if (k >= 0) {
                    if (seen[k]) {
                        st = prime__json_fail(&x, PRIME_E_PARSE, "duplicate key \"%s\"", key_names[k]);
                        goto done;
                    }
                    seen[k] = true;
                    x.len = key.off; /* the key text is not needed any more */
                }
                if (k == K_IMAGE || k == K_CLASS) {
                    st = jname(&x,
                               k == K_IMAGE ? "\"image\" must be a string or an integer"
                                            : "\"class\" must be a string or an integer",
                               &val[k]);
                } else if (k == K_TAGS) {
                    if (x.p >= x.end || *x.p != '[') {
                        st = prime__json_syntax(&x, "\"tags\" must be an array of strings");
                        goto done;
                    }
                    x.p++;
                    prime__json_ws(&x);
                    if (x.p < x.end && *x.p == ']') {
                        x.p++;
                    } else {
                        for (;;) {
                            prime__json_ws(&x);
                            if (x.p >= x.end || *x.p != '"') {
                                st = prime__json_syntax(&x, "\"tags\" must be an array of strings");
                                goto done;
                            }
                            if (nt >= tags_cap &&
                                !prime__grow((void **)&tags, &tags_cap, nt + 1, sizeof *tags)) {
                                st = prime__json_fail(&x, PRIME_E_NOMEM, "out of memory");
                                goto done;
                            }
                            if ((st = prime__json_string(&x, &tags[nt])) != PRIME_OK)
                                goto done;
                            nt++;
                            bool more;
                            if ((st = prime__json_next(&x, ']', &more)) != PRIME_OK)
                                goto done;
                            if (!more)
                                break;
                        }
                    }
                    st = PRIME_OK;
                } else if (k == K_CORRECT || k == K_SCORE) {
                    st = joutcome(&x, k, &outcome[k]);
                } else {
                    if (nu >= unknown_cap &&
                        !prime__grow((void **)&unknown, &unknown_cap, nu + 1, sizeof *unknown)) {
                        st = prime__json_fail(&x, PRIME_E_NOMEM, "out of memory");
                        goto done;
                    }
                    unknown[nu++] = key;
                    st = prime__json_skip(&x, 1);
                }
                if (st != PRIME_OK)
                    goto done;
                bool more;
                if ((st = prime__json_next(&x, '}', &more)) != PRIME_OK)
                    goto done;
                if (!more)
                    break;
            }
        }
        prime__json_ws(&x);
        if (x.p < x.end) {
            st = prime__json_syntax(&x, "text after the object (one object per line)");
            goto done;
        }
        /* duplicate unknown keys */
        if ((st = prime__json_check_keys(&x, unknown, nu)) != PRIME_OK)
            goto done;
        /* the record */
        for (int k = K_IMAGE; k <= K_TAGS; k++) {
            if (!seen[k]) {
                st = prime__json_fail(&x, PRIME_E_PARSE, "missing key \"%s\"", key_names[k]);
                goto done;
            }
        }
        const char *img = x.scratch + val[K_IMAGE].off, *cls = x.scratch + val[K_CLASS].off;
        size_t img_n = val[K_IMAGE].n, cls_n = val[K_CLASS].n;
        if (img_n == 0) {
            st = prime__json_fail(&x, PRIME_E_PARSE, "empty image name");
            goto done;
        }
        if (cls_n == 0) {
            st = prime__json_fail(&x, PRIME_E_PARSE, "empty class name");
            goto done;
        }
        if (memchr(img, '\0', img_n) != NULL || memchr(cls, '\0', cls_n) != NULL) {
            st = prime__json_fail(&x, PRIME_E_PARSE, "\\u0000 in an image or class name");
            goto done;
        }
        int here = seen[K_CORRECT] || seen[K_SCORE];
        if (has_outcomes < 0) {
            has_outcomes = here;
            first_line = x.line;
        } else if (here != has_outcomes) {
            st = prime__json_fail(&x, PRIME_E_PARSE,
                      here ? "record has \"correct\" or \"score\" but the first record (line %" PRIu64
                             ") has none"
                           : "missing key \"correct\" or \"score\" (the first record, line %" PRIu64
                             ", has one)",
                      first_line);
            goto done;
        }
        uint32_t class_id;
        if ((st = prime__store_intern_class(s, cls, cls_n, &class_id)) != PRIME_OK) {
            st = prime__error_at(st, name, x.line);
            goto done;
        }
        if (nt > tids_cap && !prime__grow((void **)&tids, &tids_cap, nt, sizeof *tids)) {
            st = prime__json_fail(&x, PRIME_E_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < nt; i++) {
            const char *t = x.scratch + tags[i].off;
            size_t tn = tags[i].n;
            if (tn == 0) {
                st = prime__json_fail(&x, PRIME_E_PARSE, "empty tag name");
                goto done;
            }
            if (tn > PRIME_MAX_TAG_NAME) {
                st = prime__json_fail(&x, PRIME_E_LIMIT, "tag name of %zu bytes (the limit is %d): \"%.*s...\"",
                          tn, PRIME_MAX_TAG_NAME, prime__show_len(t, tn), t);
                goto done;
            }
            if (memchr(t, '|', tn) != NULL) {
                st = prime__json_fail(&x, PRIME_E_PARSE, "tag name \"%.*s\" contains '|'",
                          prime__show_len(t, tn), t);
                goto done;
            }
            if (memchr(t, '\0', tn) != NULL) {
                st = prime__json_fail(&x, PRIME_E_PARSE, "\\u0000 in a tag name");
                goto done;
            }
            if ((st = prime__store_intern_tag(s, t, tn, &tids[i])) != PRIME_OK) {
                st = prime__error_at(st, name, x.line);
                goto done;
            }
        }
        st = prime__store_add_image(s, img, img_n, class_id, tids, (uint32_t)nt, NULL);
        if (st == PRIME_E_DUPLICATE) {
            uint32_t first = prime__names_find(&s->images, img, img_n);
            st = prime__json_fail(&x, PRIME_E_DUPLICATE, "duplicate image \"%.*s\" (first on line %" PRIu64 ")",
                      prime__show_len(img, img_n), img, first < n_images ? lines[first] : 0);
            goto done;
        }
        if (st != PRIME_OK) {
            st = prime__error_at(st, name, x.line);
            goto done;
        }
        if (n_images >= lines_cap &&
            !prime__grow((void **)&lines, &lines_cap, (size_t)n_images + 1, sizeof *lines)) {
            st = prime__json_fail(&x, PRIME_E_NOMEM, "out of memory");
            goto done;
        }
        lines[n_images] = x.line;
        if (has_outcomes && outcomes_out != NULL) {
            if (n_images >= vals_cap &&
                !prime__grow((void **)&vals, &vals_cap, (size_t)n_images + 1, sizeof *vals)) {
                st = prime__json_fail(&x, PRIME_E_NOMEM, "out of memory");
                goto done;
            }
            vals[n_images] = seen[K_CORRECT] ? outcome[K_CORRECT] : outcome[K_SCORE];
        }
        n_images++;
    }
    if (has_outcomes < 0) {
        st = prime__error(PRIME_E_PARSE, "%s:1: empty file (no JSON object)", name);
        goto done;
    }
    if ((st = prime_tagstore_freeze(s)) != PRIME_OK)
        goto done;
    prime_outcomes *o = NULL;
    if (has_outcomes && outcomes_out != NULL) {
        if ((st = prime_outcomes_create(n_images, &o)) != PRIME_OK)
            goto done;
        if (n_images > 0)
            memcpy(o->v, vals, (size_t)n_images * sizeof *vals);
    }
    *store_out = s;
    s = NULL;
    if (outcomes_out != NULL)
        *outcomes_out = o;
done:
    prime_tagstore_destroy(s);
    prime__json_free(&x);
    prime__free(tags);
    prime__free(unknown);
    prime__free(tids);
    prime__free(vals);
    prime__free(lines);
    return st;
}
