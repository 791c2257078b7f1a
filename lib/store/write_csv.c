/* The CSV writers of the store layer: the tags CSV of a store, the
 * outcomes CSV of its outcomes, and the outcomes CSV of a classifier run
 * (docs/formats.md). Each renders into a buffer and hands it to the one
 * writer (common/file.c). */
#include <math.h>
#include <string.h>

#include "store/store.h"

static prime_status deliver(prime__buf *b, prime_writer *writer, const char *path)
{
    if (b->failed) {
        prime__buf_free(b);
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    }
    const char *data = b->data != NULL ? b->data : "";
    prime_status st = writer != NULL ? prime_writer_add(writer, path, data, b->len)
                                     : prime__write_file_atomic(path, data, b->len);
    prime__buf_free(b);
    return st;
}

prime_status prime_tagstore_write_csv(const prime_tagstore *store, prime_writer *writer,
                                      const char *path)
{
    if (store == NULL || path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_tagstore_write_csv: %s is NULL",
                            store == NULL ? "store" : "path");
    uint32_t ni = prime_tagstore_image_count(store), nt = prime_tagstore_tag_count(store);
    uint32_t *ids = prime__malloc(((size_t)nt + 1) * sizeof *ids);
    prime__buf b = {0}, field = {0};
    if (ids == NULL)
        b.failed = true;
    prime__buf_puts(&b, "image,class,tags\n");
    for (uint32_t i = 0; i < ni && !b.failed; i++) {
        uint32_t n = 0;
        prime__buf_csv_field(&b, prime_tagstore_image_name(store, i));
        prime__buf_putc(&b, ',');
        prime__buf_csv_field(&b, prime_tagstore_class_name(store,
                                                           prime_tagstore_image_class(store, i)));
        prime__buf_putc(&b, ',');
        if (prime_tagstore_image_tags(store, i, ids, nt + 1, &n) != PRIME_OK)
            n = 0;
        /* the tags joined by '|', quoted as one field */
        field.len = 0;
        prime__buf_puts(&field, "");
        for (uint32_t k = 0; k < n; k++) {
            if (k > 0)
                prime__buf_putc(&field, '|');
            prime__buf_puts(&field, prime_tagstore_tag_name(store, ids[k]));
        }
        b.failed |= field.failed;
        if (!b.failed)
            prime__buf_csv_field(&b, field.data);
        prime__buf_putc(&b, '\n');
    }
    prime__free(ids);
    prime__buf_free(&field);
    return deliver(&b, writer, path);
}

prime_status prime_outcomes_write_csv(const prime_outcomes *outcomes, const prime_tagstore *store,
                                      prime_writer *writer, const char *path)
{
    if (outcomes == NULL || store == NULL || path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_write_csv: %s is NULL",
                            outcomes == NULL ? "outcomes" : store == NULL ? "store" : "path");
    uint32_t ni = prime_tagstore_image_count(store);
    if (prime_outcomes_count(outcomes) != ni)
        return prime__error(PRIME_E_MISMATCH, "%s: %u outcomes for a store of %u images", path,
                            prime_outcomes_count(outcomes), ni);
    bool binary = prime_outcomes_is_binary(outcomes) != 0;
    prime__buf b = {0};
    prime__buf_puts(&b, binary ? "image,correct\n" : "image,score\n");
    for (uint32_t i = 0; i < ni && !b.failed; i++) {
        double v = NAN;
        if (prime_outcomes_get(outcomes, i, &v) != PRIME_OK) {
            prime__buf_free(&b);
            return prime__error(PRIME_E_NOT_FOUND, "%s: image \"%s\" has no outcome", path,
                                prime_tagstore_image_name(store, i));
        }
        prime__buf_csv_field(&b, prime_tagstore_image_name(store, i));
        prime__buf_putc(&b, ',');
        if (binary)
            prime__buf_putc(&b, v == 1.0 ? '1' : '0');
        else
            prime__buf_double(&b, v);
        prime__buf_putc(&b, '\n');
    }
    return deliver(&b, writer, path);
}

prime_status prime_outcomes_write_predictions_csv(const char *const *images,
                                                  const char *const *labels,
                                                  const char *const *predictions, uint32_t n,
                                                  prime_writer *writer, const char *path)
{
    if (path == NULL || ((images == NULL || labels == NULL || predictions == NULL) && n > 0))
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_outcomes_write_predictions_csv: NULL argument");
    for (uint32_t i = 0; i < n; i++) {
        const char *f[3] = {images[i], labels[i], predictions[i]};
        static const char *const what[3] = {"image", "label", "prediction"};
        for (int k = 0; k < 3; k++) {
            if (f[k] == NULL)
                return prime__error(PRIME_E_INVALID_ARG, "%s: row %u: the %s is NULL", path,
                                    i + 1, what[k]);
            if (!prime__utf8_valid(f[k], strlen(f[k])))
                return prime__error(PRIME_E_PARSE, "%s: row %u: the %s is not valid UTF-8",
                                    path, i + 1, what[k]);
        }
    }
    prime__buf b = {0};
    prime__buf_puts(&b, "image,label,prediction,correct\n");
    for (uint32_t i = 0; i < n && !b.failed; i++) {
        prime__buf_csv_field(&b, images[i]);
        prime__buf_putc(&b, ',');
        prime__buf_csv_field(&b, labels[i]);
        prime__buf_putc(&b, ',');
        prime__buf_csv_field(&b, predictions[i]);
        prime__buf_puts(&b, strcmp(labels[i], predictions[i]) == 0 ? ",1\n" : ",0\n");
    }
    return deliver(&b, writer, path);
}
