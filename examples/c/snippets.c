/* The short examples of the API reference, one per module (docs/api.dox
 * shows each between its //! [name] markers with Doxygen's \snippet). They
 * are compiled and run by the examples suite, on the demo data:
 *
 *   build/examples/example-snippets data
 *
 * so an example in the reference cannot drift from the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <prime/backend.h>
#include <prime/prime.h>

#define CHECK(call)                                                                        \
    do {                                                                                   \
        prime_status st_ = (call);                                                         \
        if (st_ != PRIME_OK) {                                                             \
            fprintf(stderr, "%s: %s: %s\n", #call, prime_status_name(st_),                 \
                    prime_last_error());                                                   \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

static void errors_example(void)
{
    //! [errors]
    printf("libprime %s\n", prime_version());
    prime_tagstore *store = NULL;
    prime_status st = prime_tagstore_load("no-such-file.csv", &store, NULL);
    if (st != PRIME_OK) /* store is NULL; the message names the file */
        printf("%s: %s\n", prime_status_name(st), prime_last_error());
    //! [errors]
    if (st != PRIME_E_IO || store != NULL)
        exit(1);
}

static void store_example(void)
{
    //! [store]
    prime_tagstore *store = NULL;
    CHECK(prime_tagstore_create(&store));
    const char *tags[] = {"snow", "night"};
    CHECK(prime_tagstore_add_image_names(store, "fox_001.jpg", "fox", tags, 2, NULL));
    CHECK(prime_tagstore_freeze(store)); /* read-only from now on; shareable between threads */
    printf("%u image(s), %u tag(s)\n", prime_tagstore_image_count(store),
           prime_tagstore_tag_count(store));
    prime_tagstore_destroy(store);
    //! [store]
}

static void search_example(const char *tags_csv, const char *outcomes_csv)
{
    //! [search]
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_config *config = NULL;
    prime_result *result = NULL;
    CHECK(prime_tagstore_load(tags_csv, &store, NULL));
    CHECK(prime_outcomes_load(outcomes_csv, store, &outcomes));
    CHECK(prime_config_create(&config));
    CHECK(prime_config_set_int(config, PRIME_PARAM_MIN_SIZE, 25));
    CHECK(prime_config_set_by_name(config, "min_gain", "0,0.1,0.05"));
    CHECK(prime_search(store, outcomes, config, NULL, NULL, &result));
    printf("%llu failure modes\n", (unsigned long long)prime_result_mode_count(result));
    prime_result_destroy(result);
    prime_config_destroy(config);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    //! [search]
}

static void results_example(const prime_result *result)
{
    //! [results]
    for (uint64_t i = 0; i < prime_result_mode_count(result); i++) {
        uint64_t size;
        double accuracy, drop;
        CHECK(prime_result_mode_info(result, i, NULL, NULL, &size, NULL, &accuracy, NULL, &drop));
        printf("%-45s %4llu images  accuracy %.3f  drop %.3f\n",
               prime_result_mode_description(result, i), (unsigned long long)size, accuracy,
               drop);
    }
    CHECK(prime_result_write(result, PRIME_FORMAT_JSON, "modes.json")); /* as prime search */
    //! [results]
}

static void evaluation_example(const prime_result *result, const prime_tagstore *test_store,
                               const prime_outcomes *test_outcomes)
{
    //! [evaluation]
    prime_eval *ev = NULL;
    CHECK(prime_eval_create(result, test_store, test_outcomes, &ev)); /* another split */
    for (uint64_t i = 0; i < prime_eval_mode_count(ev); i++) {
        uint64_t size;
        double drop, lo, hi, p;
        CHECK(prime_eval_mode_test(ev, i, &size, NULL, NULL, NULL, &drop));
        CHECK(prime_eval_mode_confidence(ev, i, &lo, &hi, &p, NULL, NULL));
        printf("%-45s test drop %.3f, accuracy in [%.3f, %.3f], p %.2g\n",
               prime_eval_mode_description(ev, i), drop, lo, hi, p);
    }
    prime_eval_destroy(ev);
    //! [evaluation]
}

static void images_example(void)
{
    //! [images]
    uint8_t rgb[8 * 8 * 3];
    for (size_t k = 0; k < sizeof rgb; k++)
        rgb[k] = (uint8_t)(k * 7); /* or prime_image_load("photo.jpg", 0, ...) */
    prime_image *img = NULL;
    CHECK(prime_image_create(8, 8, rgb, &img));
    double v[PRIME_IMAGE_PROP_COUNT];
    uint32_t n = 0;
    CHECK(prime_image_measure(img, v, PRIME_IMAGE_PROP_COUNT, &n));
    for (uint32_t k = 0; k < n; k++)
        printf("%s %.3f\n", prime_image_property_name((int32_t)k), v[k]);
    prime_image_destroy(img);
    //! [images]
}

static void text_example(const char *bpe_path)
{
    //! [text]
    prime_tokenizer *tok = NULL;
    CHECK(prime_tokenizer_create(bpe_path, &tok)); /* CLIP's bpe_simple_vocab_16e6.txt.gz */
    int64_t ids[PRIME_TOKENIZER_CONTEXT];
    uint32_t n = 0;
    const char *text = "a photo of fox snow night";
    CHECK(prime_tokenizer_encode_context(tok, text, strlen(text), ids, PRIME_TOKENIZER_CONTEXT,
                                         &n, NULL));
    printf("%u tokens, first %lld, last %lld\n", n, (long long)ids[0], (long long)ids[n - 1]);
    prime_tokenizer_destroy(tok);
    //! [text]
}

static void backends_example(void)
{
    //! [backends]
    prime_tagger *tagger = NULL;
    CHECK(prime_properties_tagger_create(&tagger)); /* a pure-C tagger; no model */
    uint8_t rgb[16 * 16 * 3];
    memset(rgb, 20, sizeof rgb); /* a dark image */
    prime_image *img = NULL;
    CHECK(prime_image_create(16, 16, rgb, &img));
    uint32_t t = prime_tagger_tag_count(tagger);
    float *scores = calloc(t, sizeof *scores);
    const prime_image *batch[] = {img};
    if (scores != NULL && prime_tagger_score(tagger, batch, 1, scores, t) == PRIME_OK)
        for (uint32_t k = 0; k < t; k++)
            if (scores[k] >= 0.5f)
                printf("tag: %s\n", prime_tagger_tag_name(tagger, k));
    free(scores);
    prime_image_destroy(img);
    prime_tagger_destroy(tagger);
    //! [backends]
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "data";
    char tags[4096], outcomes[4096], bpe[4096];
    snprintf(tags, sizeof tags, "%s/demo/tags.csv", data);
    snprintf(outcomes, sizeof outcomes, "%s/demo/outcomes.csv", data);
    snprintf(bpe, sizeof bpe, "%s/clip/bpe_simple_vocab_16e6.txt.gz", data);
    errors_example();
    store_example();
    search_example(tags, outcomes);
    prime_tagstore *store = NULL;
    prime_outcomes *out = NULL;
    prime_result *result = NULL;
    CHECK(prime_tagstore_load(tags, &store, NULL));
    CHECK(prime_outcomes_load(outcomes, store, &out));
    CHECK(prime_search(store, out, NULL, NULL, NULL, &result));
    results_example(result);
    evaluation_example(result, store, out); /* the demo has one split */
    prime_result_destroy(result);
    prime_outcomes_destroy(out);
    prime_tagstore_destroy(store);
    images_example();
    text_example(bpe);
    backends_example();
    remove("modes.json");
    return 0;
}
