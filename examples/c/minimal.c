/* The smallest complete libprime program: build a tag store in memory, give
 * each image an outcome, search, print the failure modes.
 *
 *   cc minimal.c $(pkg-config --cflags --libs prime) -o minimal && ./minimal
 *
 * The data is made up: 200 images of "fox"; the model gets most right,
 * except the foxes in snow at night (tags "snow" and "night" together). */
#include <stdio.h>

#include <prime/prime.h>

static int check(prime_status st, const char *what)
{
    if (st != PRIME_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, prime_status_name(st), prime_last_error());
        return 1;
    }
    return 0;
}

int main(void)
{
    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_config *config = NULL;
    prime_result *result = NULL;
    int rc = 1;
    if (check(prime_tagstore_create(&store), "create"))
        return 1;
    const char *tags[3];
    for (int i = 0; i < 200; i++) {
        uint32_t n = 0;
        if (i % 2 == 0)
            tags[n++] = "snow";
        if (i % 3 == 0)
            tags[n++] = "night";
        if (i % 5 == 0)
            tags[n++] = "grass";
        char name[32];
        snprintf(name, sizeof name, "fox_%03d.jpg", i);
        if (check(prime_tagstore_add_image_names(store, name, "fox", tags, n, NULL), "add"))
            goto out;
    }
    if (check(prime_tagstore_freeze(store), "freeze") ||
        check(prime_outcomes_create(200, &outcomes), "outcomes"))
        goto out;
    for (uint32_t i = 0; i < 200; i++) {
        int snow_at_night = i % 2 == 0 && i % 3 == 0;
        double correct = snow_at_night ? (i % 4 == 0 ? 1.0 : 0.0) : (i % 10 == 7 ? 0.0 : 1.0);
        prime_outcomes_set(outcomes, i, correct);
    }
    if (check(prime_config_create(&config), "config") ||
        check(prime_config_set_int(config, PRIME_PARAM_MIN_SIZE, 20), "min_size") ||
        check(prime_search(store, outcomes, config, NULL, NULL, &result), "search"))
        goto out;
    uint64_t n = prime_result_mode_count(result);
    printf("%llu failure mode(s)\n", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t size;
        double accuracy, class_accuracy;
        prime_result_mode_info(result, i, NULL, NULL, &size, NULL, &accuracy, &class_accuracy,
                               NULL);
        printf("%-40s size %3llu  accuracy %.3f (class %.3f)\n",
               prime_result_mode_description(result, i), (unsigned long long)size, accuracy,
               class_accuracy);
    }
    rc = 0;
out:
    prime_result_destroy(result);
    prime_config_destroy(config);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    return rc;
}
