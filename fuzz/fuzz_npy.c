/* Fuzz the embedding readers of include/prime/quality.h: the first byte picks
 * the reader (bit 7 set: the ids file of prime_embeddings_join_memory against
 * a fixed store and fixed 7-row embeddings; else prime_embeddings_load_memory
 * with dim = byte & 7, 0 meaning ".npy only"); the rest is the file. What is
 * accepted must hold finite values of the announced shape and be scorable. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "prime/quality.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prime_tagstore *store;
static prime_embeddings *seven;

static void setup(void)
{
    static const char tags[] = "image,class,tags\na,fox,x|y\nb,fox,y\nc,fox,x\nd,ape,x\n"
                               "e,ape,\n\xC3\xA9,ape,y\n";
    float v[7 * 3];
    for (int i = 0; i < 21; i++)
        v[i] = (float)(i % 5) - 2.0f;
    if (prime_tagstore_load_memory(tags, sizeof tags - 1, "store.csv", &store, NULL) !=
            PRIME_OK ||
        prime_embeddings_create(v, 7, 3, &seven) != PRIME_OK)
        __builtin_trap();
}

static void score(prime_embeddings *e)
{
    prime_quality *q = NULL;
    if (prime_quality_create(store, e, &q) != PRIME_OK)
        return;
    uint32_t g[] = {0, 2};
    const float *t = prime_embeddings_row(e, 0);
    if (prime_quality_add_group(q, "g", 0, g, 2, t, prime_embeddings_dim(e), NULL) !=
        PRIME_OK)
        __builtin_trap();
    double sim, spec, coh;
    prime_quality_group_metrics(q, 0, NULL, NULL, &sim, &spec, &coh);
    if (!(spec >= 0.0 && spec <= 1.0) || !(sim >= -1.0001 && sim <= 1.0001) || isnan(coh))
        __builtin_trap();
    size_t need = 0;
    if (prime_quality_render(q, PRIME_FORMAT_JSON, NULL, 0, &need) != PRIME_E_BUFFER_TOO_SMALL)
        __builtin_trap();
    prime_quality_destroy(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL)
        setup();
    if (size == 0)
        return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    prime_embeddings *e = (prime_embeddings *)&e;
    prime_status st;
    if (sel & 0x80)
        st = prime_embeddings_join_memory(seven, data, size, "fuzz.ids", store, &e);
    else
        st = prime_embeddings_load_memory(data, size, "fuzz.npy", sel & 7, &e);
    if (st != PRIME_OK) {
        if (e != NULL || strncmp(prime_last_error(), "fuzz.", 5) != 0)
            __builtin_trap();
        return 0;
    }
    uint64_t rows = prime_embeddings_rows(e);
    uint32_t dim = prime_embeddings_dim(e);
    if (dim == 0 || ((sel & 0x80) && (rows != 6 || dim != 3)))
        __builtin_trap();
    for (uint64_t i = 0; i < rows; i++) {
        const float *r = prime_embeddings_row(e, i);
        for (uint32_t k = 0; k < dim; k++)
            if (!isfinite(r[k]))
                __builtin_trap();
    }
    if (prime_embeddings_row(e, rows) != NULL)
        __builtin_trap();
    score(e);
    prime_embeddings_destroy(e);
    return 0;
}
