/* Labels: a CSV mapping image names to class labels (the --labels file of
 * `prime tag` and `prime classify`), read with the CSV tokenizer of the io
 * layer: RFC 4180 quoting (quoted newlines too), any number of columns, a
 * UTF-8 BOM, CRLF; an image listed twice is an error. */
#include <inttypes.h>
#include <string.h>

#include "io/io.h"
#include "store/store.h"

struct prime_labels {
    prime__names images; /* indexed */
    prime__names labels; /* labels.get(id) is the label of images.get(id) */
    uint64_t *line;      /* line of each row, for the duplicate message */
    size_t line_cap;
};

void prime_labels_destroy(prime_labels *l)
{
    if (l == NULL)
        return;
    prime__names_free(&l->images);
    prime__names_free(&l->labels);
    prime__free(l->line);
    prime__free(l);
}

prime_status prime_labels_load_memory(const void *data, size_t size, const char *name,
                                      prime_labels **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_labels_load_memory: out is NULL");
    *out = NULL;
    if (data == NULL && size > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_labels_load_memory: data is NULL");
    if (name == NULL)
        name = PRIME__NONAME;
    prime_labels *l = prime__calloc(1, sizeof *l);
    if (l == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
    static const char *const cols[2] = {"image", "label"};
    int32_t col[2] = {-1, -1};
    prime__csv c;
    prime_status st = prime__csv_open(&c, data != NULL ? data : "", size, name);
    if (st != PRIME_OK) {
        prime_labels_destroy(l);
        return st;
    }
    st = prime__csv_header(&c, cols, 2, col);
    if (st == PRIME_OK && (col[0] < 0 || col[1] < 0))
        st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": missing column \"%s\"", name,
                          c.rec_line, col[0] < 0 ? "image" : "label");
    uint32_t need = (uint32_t)(col[0] > col[1] ? col[0] : col[1]) + 1;
    uint32_t header_fields = c.n_fields;
    bool got = true;
    while (st == PRIME_OK && (st = prime__csv_next(&c, &got)) == PRIME_OK && got) {
        if (c.n_fields != header_fields || c.n_fields < need) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": expected %u fields, found %u",
                              name, c.rec_line, header_fields, c.n_fields);
            break;
        }
        const prime__csv_field *img = &c.fields[col[0]], *lab = &c.fields[col[1]];
        if (img->n == 0) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": empty image name", name,
                              c.rec_line);
            break;
        }
        if (lab->n == 0) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": empty label", name, c.rec_line);
            break;
        }
        if (memchr(img->p, '\0', img->n) != NULL || memchr(lab->p, '\0', lab->n) != NULL) {
            st = prime__error(PRIME_E_PARSE, "%s:%" PRIu64 ": a NUL byte", name, c.rec_line);
            break;
        }
        uint32_t dup = prime__names_find(&l->images, img->p, img->n);
        if (dup != PRIME_NONE) {
            st = prime__error(PRIME_E_DUPLICATE,
                              "%s:%" PRIu64 ": image \"%.*s\" listed twice (first on line %"
                              PRIu64 ")",
                              name, c.rec_line, prime__show_len(img->p, img->n), img->p,
                              l->line[dup]);
            break;
        }
        uint32_t id;
        if (l->images.count == UINT32_MAX - 1) {
            st = prime__error(PRIME_E_LIMIT, "%s:%" PRIu64 ": too many rows", name, c.rec_line);
            break;
        }
        if (!prime__grow((void **)&l->line, &l->line_cap, (size_t)l->images.count + 1,
                         sizeof *l->line)) {
            st = prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
            break;
        }
        l->line[l->images.count] = c.rec_line;
        st = prime__names_push(&l->images, img->p, img->n, true, &id);
        if (st == PRIME_OK)
            st = prime__names_push(&l->labels, lab->p, lab->n, false, &id);
    }
    prime__csv_free(&c);
    if (st != PRIME_OK) {
        prime_labels_destroy(l);
        return st;
    }
    *out = l;
    return PRIME_OK;
}

static prime_status parse(const char *data, size_t size, const char *name, void *out)
{
    return prime_labels_load_memory(data, size, name, out);
}

prime_status prime_labels_load(const char *path, prime_labels **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_labels_load: out is NULL");
    *out = NULL;
    return prime__parse_file(path, parse, out);
}

uint32_t prime_labels_count(const prime_labels *l)
{
    return l != NULL ? l->images.count : 0;
}

const char *prime_labels_find(const prime_labels *l, const char *image)
{
    if (l == NULL || image == NULL)
        return NULL;
    uint32_t id = prime__names_find(&l->images, image, strlen(image));
    return id == PRIME_NONE ? NULL : prime__names_get(&l->labels, id);
}
