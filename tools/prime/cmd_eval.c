/* prime eval: the failure modes of a search result measured on another
 * split (generalization, intervals, FDR), or with --quality the quality of
 * their descriptions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scale.h"

static prime_status render_eval(const void *h, int32_t f, char *b, size_t c, size_t *n)
{
    return prime_eval_render(h, f, b, c, n);
}

static prime_status render_quality(const void *h, int32_t f, char *b, size_t c, size_t *n)
{
    return prime_quality_render(h, f, b, c, n);
}

static prime_status write_eval(const void *h, int32_t f, const char *path)
{
    return prime_eval_write(h, f, path);
}

static prime_status write_quality(const void *h, int32_t f, const char *path)
{
    return prime_quality_write(h, f, path);
}

/* The text embeddings of the modes of a result: each mode's description
 * (its group label, read through a quality handle without texts) embedded
 * by the CLIP text model of libprime-torch (on --device, at --dtype), in
 * batches of 64. *reported is set when the problem was already printed. */
static prime_status embed_descriptions(const torch_api *tapi, const prime_tagstore *store,
                                       const prime_embeddings *img, const char *result_path,
                                       const char *text_model, const char *bpe,
                                       const char *device, const char *dtype,
                                       prime_embeddings **out, int *reported)
{
    prime_quality *labels = NULL;
    prime_embedder *emb = NULL;
    float *vec = NULL;
    prime_status st = prime_quality_create(store, img, &labels);
    if (st == PRIME_OK)
        st = prime_quality_add_result_file(labels, result_path, NULL);
    if (st == PRIME_OK)
        st = torch_embedder(tapi, NULL, text_model, bpe, NULL, device, dtype, &emb, reported);
    uint64_t n = prime_quality_group_count(labels);
    uint32_t dim = prime_embedder_dimension(emb);
    if (st == PRIME_OK && (vec = malloc((n ? n : 1) * dim * sizeof *vec)) == NULL) {
        prime_clear_error();
        st = PRIME_E_NOMEM;
    }
    for (uint64_t first = 0; st == PRIME_OK && first < n; first += 64) {
        const char *texts[64];
        uint32_t m = n - first < 64 ? (uint32_t)(n - first) : 64;
        for (uint32_t k = 0; k < m; k++)
            texts[k] = prime_quality_group_label(labels, first + k);
        st = prime_embedder_embed_texts(emb, texts, m, vec + first * dim, (size_t)m * dim);
    }
    if (st == PRIME_OK)
        st = prime_embeddings_create(vec, n, dim, out);
    free(vec);
    prime_embedder_destroy(emb);
    prime_quality_destroy(labels);
    return st;
}

enum { Q_QUALITY, Q_RESULT, Q_TAGS, Q_IMG, Q_IDS, Q_TEXT, Q_OUTPUT, Q_DIM, Q_TEXT_MODEL,
       Q_BPE, Q_DEVICE, Q_DTYPE, Q_FORMAT };
static const opt_spec quality_specs[] = {
    {"--quality", OPT_FLAG},         {"--result", OPT_VALUE},
    {"--tags", OPT_VALUE},           {"--image-embeddings", OPT_VALUE},
    {"--image-ids", OPT_VALUE},      {"--text-embeddings", OPT_VALUE},
    {"--output", OPT_VALUE},         {"--dim", OPT_VALUE},
    {"--text-model", OPT_VALUE},     {"--bpe", OPT_VALUE},
    {"--device", OPT_VALUE},         {"--dtype", OPT_VALUE},
    {"--format", OPT_VALUE},         {NULL, 0}};

/* prime eval --quality --result R.json --tags FILE --image-embeddings E
 *            [--image-ids IDS] [--dim D]
 *            (--text-embeddings T | --text-model clip_text.pt --bpe BPE
 *             [--device cpu|cuda|cuda:N] [--dtype float32|float16|bfloat16])
 *            [--format json|text] [--output FILE] */
static int cmd_eval_quality(int argc, char **argv)
{
    const char *s[Q_FORMAT] = {NULL};
    uint32_t dim = 0;
    int32_t format = 0;
    opts o = {.argc = argc, .argv = argv, .specs = quality_specs,
              .context = " for eval --quality"};
    int k;
    const char *v;
    while ((k = opts_option(&o, &v)) != OPT_END) {
        if (k == OPT_ERROR)
            return o.rc;
        if (k == Q_DIM) {
            uint64_t x;
            char what[64];
            snprintf(what, sizeof what, "an integer in 1..%u", (unsigned)PRIME_EMBEDDINGS_MAX_DIM);
            if (!opt_uint("--dim", v, 1, PRIME_EMBEDDINGS_MAX_DIM, what, &x))
                return EXIT_USAGE;
            dim = (uint32_t)x;
        } else if (k == Q_FORMAT) {
            if (!opt_format(v, 0, &format))
                return EXIT_USAGE;
        } else if (k != Q_QUALITY) {
            s[k] = v;
        }
    }
    const char *result_path = s[Q_RESULT], *tags_path = s[Q_TAGS], *img_path = s[Q_IMG],
               *ids_path = s[Q_IDS], *text_path = s[Q_TEXT], *output = s[Q_OUTPUT],
               *text_model = s[Q_TEXT_MODEL], *bpe = s[Q_BPE], *device = s[Q_DEVICE],
               *dtype = s[Q_DTYPE];
    if (result_path == NULL || tags_path == NULL || img_path == NULL)
        return usage_error("%s", "eval --quality needs --result R.json, --tags FILE and "
                                 "--image-embeddings FILE");
    if ((text_path == NULL) == (text_model == NULL))
        return usage_error("%s", "eval --quality needs --text-embeddings FILE (one row per "
                                 "mode) or --text-model clip_text.pt [--bpe BPE], not both");
    if (bpe != NULL && text_model == NULL)
        return usage_error("%s", "--bpe goes with --text-model");
    if ((device != NULL || dtype != NULL) && text_model == NULL)
        return usage_error("%s", "--device and --dtype go with --text-model");
    if (dtype != NULL && scale_torch_dtype(dtype) < 0)
        return usage_error("--dtype must be float32, float16 or bfloat16, not '%s'", dtype);
    char bpe_buf[4096];
    if (text_model != NULL)
        bpe = data_file(bpe, PRIME_CLIP_BPE, bpe_buf, sizeof bpe_buf);
    if (format == 0)
        format = default_format(output);
    const char *inputs[] = {result_path, tags_path, img_path, ids_path, text_path, text_model,
                            bpe};
    if (check_outputs(inputs, 7, &output, output != NULL) != 0)
        return EXIT_FAIL;
    torch_api tapi;
    if (text_model != NULL && !torch_load(&tapi, "--text-model"))
        return EXIT_FAIL;
    prime_tagstore *store = NULL;
    prime_embeddings *img = NULL, *keyed = NULL, *txt = NULL;
    prime_quality *qh = NULL;
    int rc = 0, reported = 0;
    prime_status st = prime_tagstore_load(tags_path, &store, NULL);
    if (st == PRIME_OK)
        st = prime_embeddings_load(img_path, dim, ids_path != NULL ? &keyed : &img);
    if (st == PRIME_OK && ids_path != NULL)
        st = prime_embeddings_join(keyed, ids_path, store, &img);
    if (st == PRIME_OK && text_path != NULL)
        st = prime_embeddings_load(text_path, prime_embeddings_dim(img), &txt);
    if (st == PRIME_OK && text_model != NULL)
        st = embed_descriptions(&tapi, store, img, result_path, text_model, bpe, device, dtype,
                                &txt, &reported);
    if (st == PRIME_OK)
        st = prime_quality_create(store, img, &qh);
    if (st == PRIME_OK)
        st = prime_quality_add_result_file(qh, result_path, txt);
    rc = st == PRIME_OK ? emit(qh, render_quality, write_quality, format, output)
         : reported     ? EXIT_FAIL
                        : lib_error(st);
    prime_quality_destroy(qh);
    prime_embeddings_destroy(txt);
    prime_embeddings_destroy(keyed);
    prime_embeddings_destroy(img);
    prime_tagstore_destroy(store);
    return rc;
}

enum { E_RESULT, E_TAGS, E_OUTCOMES, E_OUTPUT, E_FDR, E_HYPOTHESES, E_FORMAT };
static const opt_spec eval_specs[] = {
    {"--result", OPT_VALUE}, {"--tags", OPT_VALUE},       {"--outcomes", OPT_VALUE},
    {"--output", OPT_VALUE}, {"--fdr", OPT_VALUE},        {"--hypotheses", OPT_VALUE},
    {"--format", OPT_VALUE}, {NULL, 0}};

/* prime eval --result R.json --tags TEST [--outcomes TEST_OUT] [--fdr Q]
 *            [--hypotheses M] [--format json|text] [--output FILE]
 * (with --quality: cmd_eval_quality) */
int cmd_eval(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--quality") == 0)
            return cmd_eval_quality(argc, argv);
    const char *result_path = NULL, *tags_path = NULL, *outcomes_path = NULL, *output = NULL;
    double q = 0.0;
    uint64_t m = 0;
    int32_t format = 0;
    opts o = {.argc = argc, .argv = argv, .specs = eval_specs};
    int k;
    const char *v;
    while ((k = opts_option(&o, &v)) != OPT_END) {
        if (k == OPT_ERROR)
            return o.rc;
        switch (k) {
        case E_RESULT: result_path = v; break;
        case E_TAGS: tags_path = v; break;
        case E_OUTCOMES: outcomes_path = v; break;
        case E_OUTPUT: output = v; break;
        case E_FDR:
            if (!opt_double("--fdr", v, 0.0, 1.0, 1, "a number in (0, 1]", &q))
                return EXIT_USAGE;
            break;
        case E_HYPOTHESES:
            if (!opt_uint("--hypotheses", v, 1, UINT64_MAX, "a positive integer", &m))
                return EXIT_USAGE;
            break;
        default:
            if (!opt_format(v, 0, &format))
                return EXIT_USAGE;
        }
    }
    if (result_path == NULL || tags_path == NULL)
        return usage_error("%s", "eval needs --result R.json and --tags FILE");
    if (m > 0 && q == 0.0)
        return usage_error("%s", "--hypotheses needs --fdr Q");
    if (format == 0)
        format = default_format(output);
    const char *inputs[] = {result_path, tags_path, outcomes_path};
    if (check_outputs(inputs, 3, &output, output != NULL) != 0)
        return EXIT_FAIL;
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_eval *ev = NULL;
    int rc = load_store(tags_path, outcomes_path, &store, &outcomes);
    prime_status st = PRIME_OK;
    if (rc == 0 && (st = prime_eval_load(result_path, store, outcomes, &ev)) != PRIME_OK)
        rc = lib_error(st);
    if (rc == 0 && q > 0.0 && (st = prime_eval_set_fdr(ev, q, m)) != PRIME_OK)
        rc = lib_error(st);
    if (rc == 0)
        rc = emit(ev, render_eval, write_eval, format, output);
    prime_eval_destroy(ev);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return rc;
}
