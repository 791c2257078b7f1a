/* The one parallel batch loader of the library (prime__image_load_files,
 * also used by the backend layer's tag_files and classify_files), and
 * image batches: files decoded and preprocessed in parallel into one tensor. */
#include <stdatomic.h>
#include <string.h>

#include "image/image_private.h"

/* ---- the batch loader ---------------------------------------------------------- */

typedef struct {
    const char *const *paths;
    uint32_t first, count;
    uint64_t max_pixels;
    const prime_image_spec *draft;
    prime__image_loaded_fn loaded;
    void *ctx;
    atomic_uint_fast32_t next;
} load_job;

static void *load_worker(void *arg)
{
    load_job *job = arg;
    for (;;) {
        uint32_t k = (uint32_t)atomic_fetch_add(&job->next, 1);
        if (k >= job->count)
            break;
        uint32_t i = job->first + k;
        prime_image *im = NULL;
        prime_status st = job->paths[i] == NULL
                              ? prime__error(PRIME_E_INVALID_ARG, "image %u: path is NULL", i)
                              : prime__image_load_file(job->paths[i], job->max_pixels, job->draft, &im);
        job->loaded(job->ctx, k, im, st);
    }
    return NULL;
}

void prime__image_load_files(const char *const *paths, uint32_t first, uint32_t count,
                             uint64_t max_pixels, const prime_image_spec *draft, uint32_t threads,
                             prime__image_loaded_fn loaded, void *ctx)
{
    if (count == 0)
        return;
    load_job job = {paths, first, count, max_pixels, draft, loaded, ctx, 0};
    atomic_init(&job.next, 0);
    uint32_t nt = threads > 0 ? threads : prime__cpu_count();
    prime__run_workers(nt < count ? nt : count, load_worker, &job);
}

/* ---- batches ----------------------------------------------------------------- */

typedef struct {
    const prime_image_spec *spec;
    prime_image_batch *b;
} batch_job;

/* Preprocess image i (or record its failure) into its slot of the batch. */
static void batch_loaded(void *arg, uint32_t i, prime_image *im, prime_status st)
{
    batch_job *job = arg;
    prime_image_batch *b = job->b;
    size_t slot = (size_t)3 * b->width * b->height;
    float *out = b->tensor + slot * i;
    if (st == PRIME_OK) {
        b->src_size[2 * i] = im->file_width; /* not the draft's */
        b->src_size[2 * i + 1] = im->file_height;
        st = prime__image_preprocess_into(im, job->spec, out);
        if (st != PRIME_OK)
            b->src_size[2 * i] = b->src_size[2 * i + 1] = 0;
        prime_image_destroy(im);
    }
    b->status[i] = st;
    if (st != PRIME_OK) {
        memset(out, 0, slot * sizeof *out);
        const char *msg = prime_last_error();
        b->error[i] = prime__strndup(msg, strlen(msg)); /* NULL (out of memory): "" */
    }
}

void prime_image_batch_destroy(prime_image_batch *batch)
{
    if (batch == NULL)
        return;
    if (batch->error != NULL)
        for (uint32_t i = 0; i < batch->n; i++)
            prime__free(batch->error[i]);
    prime__free(batch->error);
    prime__free(batch->status);
    prime__free(batch->src_size);
    prime__image_scratch_free(batch->tensor);
    prime__free(batch);
}

prime_status prime_image_batch_load(const char *const *paths, uint32_t n,
                                    const prime_image_spec *spec, uint32_t threads,
                                    prime_image_batch **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (out == NULL || spec == NULL || (paths == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_batch_load: NULL argument");
    *out = NULL;
    size_t slot = (size_t)3 * spec->width * spec->height;
    if (n > 0 && slot > SIZE_MAX / sizeof(float) / n)
        return prime__error(PRIME_E_LIMIT, "a batch of %u images of %u x %u is too large", n,
                            spec->width, spec->height);
    prime_image_batch *b = prime__calloc(1, sizeof *b);
    if (b == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory for an image batch");
    b->width = spec->width;
    b->height = spec->height;
    if (n > 0) {
        b->tensor = prime__image_scratch_alloc(slot * n * sizeof(float));
        b->status = prime__calloc(n, sizeof *b->status);
        b->error = prime__calloc(n, sizeof *b->error);
        b->src_size = prime__calloc((size_t)n * 2, sizeof *b->src_size);
        if (b->tensor == NULL || b->status == NULL || b->error == NULL || b->src_size == NULL) {
            prime_image_batch_destroy(b);
            return prime__error(PRIME_E_NOMEM, "out of memory for a batch of %u images", n);
        }
    }
    b->n = n;
    batch_job job = {spec, b};
    prime__image_load_files(paths, 0, n, spec->max_pixels, spec, threads, batch_loaded, &job);
    for (uint32_t i = 0; i < n; i++)
        if (b->status[i] != PRIME_OK)
            b->failed++;
    *out = b;
    return PRIME_OK;
}

uint32_t prime_image_batch_count(const prime_image_batch *batch)
{
    return batch != NULL ? batch->n : 0;
}

uint32_t prime_image_batch_failed_count(const prime_image_batch *batch)
{
    return batch != NULL ? batch->failed : 0;
}

prime_status prime_image_batch_status(const prime_image_batch *batch, uint32_t i)
{
    if (batch == NULL || i >= batch->n)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_batch_status: no image %u", i);
    return batch->status[i];
}

const char *prime_image_batch_error(const prime_image_batch *batch, uint32_t i)
{
    if (batch == NULL || i >= batch->n)
        return NULL;
    return batch->error[i] != NULL ? batch->error[i] : "";
}

prime_status prime_image_batch_source_size(const prime_image_batch *batch, uint32_t i,
                                           uint32_t *width_out, uint32_t *height_out)
{
    if (batch == NULL || i >= batch->n)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_batch_source_size: no image %u", i);
    if (width_out != NULL)
        *width_out = batch->src_size[2 * i];
    if (height_out != NULL)
        *height_out = batch->src_size[2 * i + 1];
    return PRIME_OK;
}

const float *prime_image_batch_tensor(const prime_image_batch *batch)
{
    return batch != NULL ? batch->tensor : NULL;
}

prime_status prime_image_batch_copy_tensor(const prime_image_batch *batch, float *buf,
                                           size_t cap, size_t *needed_out)
{
    if (batch == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_image_batch_copy_tensor: batch is NULL");
    size_t n = (size_t)batch->n * 3 * batch->width * batch->height;
    if (needed_out != NULL)
        *needed_out = n;
    if (cap < n || (buf == NULL && n > 0))
        return prime__error(PRIME_E_BUFFER_TOO_SMALL,
                            "prime_image_batch_copy_tensor: %zu floats needed, %zu given", n, cap);
    if (n > 0)
        memcpy(buf, batch->tensor, n * sizeof(float));
    return PRIME_OK;
}
