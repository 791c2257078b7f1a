/* API suite: status model, tag store, outcomes, configuration, results and
 * their writers, through the public functions (and the internal result
 * builder, to test the writers on known modes). */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "prime/prime.h"
#include "prime/backend.h"
#include "prime/sys/backend.h"

/* ---- version and status ------------------------------------------------------ */

Test(status, version_matches_header)
{
    cr_assert_eq(prime_version_number(), PRIME_VERSION_NUMBER);
    cr_assert_str_eq(prime_version(), PRIME_VERSION_STRING);
}

Test(status, names_and_messages_are_static_and_distinct)
{
    const prime_status all[] = {PRIME_OK, PRIME_E_INVALID_ARG, PRIME_E_NOMEM, PRIME_E_IO,
                                PRIME_E_PARSE, PRIME_E_FORMAT, PRIME_E_DUPLICATE,
                                PRIME_E_NOT_FOUND, PRIME_E_STATE, PRIME_E_MISMATCH,
                                PRIME_E_RANGE, PRIME_E_CANCELLED, PRIME_E_BUFFER_TOO_SMALL,
                                PRIME_E_LIMIT, PRIME_E_THREAD};
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        cr_assert_neq(strcmp(prime_status_name(all[i]), "PRIME_E_UNKNOWN"), 0);
        cr_assert_neq(strcmp(prime_status_message(all[i]), "unknown status"), 0);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(prime_status_name(all[i]), prime_status_name(all[j]));
    }
    cr_assert_str_eq(prime_status_name(PRIME_E_PARSE), "PRIME_E_PARSE");
    cr_assert_str_eq(prime_status_name(-999), "PRIME_E_UNKNOWN");
    cr_assert_str_eq(prime_status_name(5), "PRIME_E_UNKNOWN");
}

Test(status, last_error_is_set_copied_and_cleared)
{
    prime_clear_error();
    cr_assert_str_eq(prime_last_error(), "");
    cr_assert_eq(prime_tagstore_create(NULL), PRIME_E_INVALID_ARG);
    const char *msg = prime_last_error();
    cr_assert(strstr(msg, "prime_tagstore_create") != NULL, "message: %s", msg);
    size_t n = prime_last_error_copy(NULL, 0);
    cr_assert_eq(n, strlen(msg));
    char small[8];
    cr_assert_eq(prime_last_error_copy(small, sizeof small), n);
    cr_assert_eq(strlen(small), 7);
    cr_assert(strncmp(small, msg, 7) == 0);
    prime_clear_error();
    cr_assert_str_eq(prime_last_error(), "");
}

static void *other_thread(void *arg)
{
    (void)arg;
    prime_clear_error();
    prime_config_set_int(NULL, PRIME_PARAM_MAX_TAGS, 3);
    return NULL;
}

Test(status, last_error_is_per_thread)
{
    prime_tagstore_find_tag(NULL, "x", NULL);
    char mine[256];
    prime_last_error_copy(mine, sizeof mine);
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    cr_assert_str_eq(prime_last_error(), mine);
}

/* ---- tag store ---------------------------------------------------------------- */

static prime_tagstore *small_store(void)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    const char *t1[] = {"white", "snow"};
    const char *t2[] = {"snow"};
    const char *t3[] = {"grass", "white", "white"};
    cr_assert_eq(prime_tagstore_add_image_names(s, "a.jpg", "fox", t1, 2, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_image_names(s, "b.jpg", "fox", t2, 1, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_image_names(s, "c.jpg", "ape", t3, 3, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_image_names(s, "d.jpg", "ape", NULL, 0, NULL), PRIME_OK);
    return s;
}

Test(tagstore, builds_counts_names_and_lookups)
{
    prime_tagstore *s = small_store();
    cr_assert_eq(prime_tagstore_image_count(s), 4);
    cr_assert_eq(prime_tagstore_class_count(s), 2);
    cr_assert_eq(prime_tagstore_tag_count(s), 3);
    cr_assert_eq(prime_tagstore_tag_ref_count(s), 5);
    cr_assert_str_eq(prime_tagstore_tag_name(s, 0), "white");
    cr_assert_str_eq(prime_tagstore_tag_name(s, 1), "snow");
    cr_assert_str_eq(prime_tagstore_tag_name(s, 2), "grass");
    cr_assert_null(prime_tagstore_tag_name(s, 3));
    cr_assert_str_eq(prime_tagstore_class_name(s, 1), "ape");
    cr_assert_str_eq(prime_tagstore_image_name(s, 3), "d.jpg");
    uint32_t id;
    cr_assert_eq(prime_tagstore_find_tag(s, "grass", &id), PRIME_OK);
    cr_assert_eq(id, 2);
    cr_assert_eq(prime_tagstore_find_tag(s, "Grass", &id), PRIME_E_NOT_FOUND);
    cr_assert(strstr(prime_last_error(), "Grass") != NULL);
    cr_assert_eq(prime_tagstore_find_class(s, "ape", &id), PRIME_OK);
    cr_assert_eq(id, 1);
    cr_assert_eq(prime_tagstore_find_image(s, "c.jpg", &id), PRIME_OK);
    cr_assert_eq(id, 2);
    cr_assert_eq(prime_tagstore_image_class(s, 2), 1);
    cr_assert_eq(prime_tagstore_image_class(s, 9), PRIME_NONE);
    cr_assert_eq(prime_tagstore_class_image_count(s, 0), 2);
    cr_assert_eq(prime_tagstore_class_image_count(s, 1), 2);
    /* tags come back sorted by id, duplicates merged */
    uint32_t n = 0, ids[4];
    cr_assert_eq(prime_tagstore_image_tags(s, 2, NULL, 0, &n), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(n, 2);
    cr_assert_eq(prime_tagstore_image_tags(s, 2, ids, 4, &n), PRIME_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(ids[0], 0);
    cr_assert_eq(ids[1], 2);
    cr_assert_eq(prime_tagstore_image_tags(s, 3, NULL, 0, &n), PRIME_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(prime_tagstore_image_tags(s, 4, ids, 4, &n), PRIME_E_INVALID_ARG);
    uint32_t count;
    cr_assert_eq(prime_tagstore_tag_count_in_class(s, 0, 1, &count), PRIME_OK);
    cr_assert_eq(count, 2);
    cr_assert_eq(prime_tagstore_tag_count_in_class(s, PRIME_NONE, 0, &count), PRIME_OK);
    cr_assert_eq(count, 2);
    cr_assert_eq(prime_tagstore_tag_count_in_class(s, 7, 0, &count), PRIME_E_INVALID_ARG);
    prime_tagstore_destroy(s);
}

Test(tagstore, add_by_ids_and_unnamed_images)
{
    prime_tagstore *s;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    uint32_t c, t0, t1, idx;
    cr_assert_eq(prime_tagstore_intern_class(s, "cat", &c), PRIME_OK);
    cr_assert_eq(prime_tagstore_intern_tag(s, "x", &t0), PRIME_OK);
    cr_assert_eq(prime_tagstore_intern_tag(s, "y", &t1), PRIME_OK);
    cr_assert_eq(prime_tagstore_intern_tag(s, "x", &idx), PRIME_OK);
    cr_assert_eq(idx, t0);
    uint32_t tags[] = {t1, t0, t1};
    cr_assert_eq(prime_tagstore_add_image(s, NULL, c, tags, 3, &idx), PRIME_OK);
    cr_assert_eq(idx, 0);
    cr_assert_eq(prime_tagstore_add_image(s, "", c, tags, 1, &idx), PRIME_OK);
    cr_assert_eq(idx, 1);
    cr_assert_str_eq(prime_tagstore_image_name(s, 0), "");
    cr_assert_eq(prime_tagstore_find_image(s, "", &idx), PRIME_E_NOT_FOUND);
    uint32_t bad[] = {t0, 99};
    cr_assert_eq(prime_tagstore_add_image(s, "z", c, bad, 2, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_add_image(s, "z", 5, tags, 1, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_add_image(s, "z", c, NULL, 2, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_image_count(s), 2);
    uint32_t n, got[3];
    cr_assert_eq(prime_tagstore_image_tags(s, 0, got, 3, &n), PRIME_OK);
    cr_assert_eq(n, 2);
    prime_tagstore_destroy(s);
}

Test(tagstore, rejects_bad_names_and_leaves_store_unchanged)
{
    prime_tagstore *s = small_store();
    const char *dup[] = {"snow"};
    cr_assert_eq(prime_tagstore_add_image_names(s, "a.jpg", "fox", dup, 1, NULL),
                 PRIME_E_DUPLICATE);
    cr_assert(strstr(prime_last_error(), "a.jpg") != NULL);
    char long_tag[300];
    memset(long_tag, 'x', sizeof long_tag - 1);
    long_tag[sizeof long_tag - 1] = '\0';
    const char *bad1[] = {"ok-new", long_tag};
    cr_assert_eq(prime_tagstore_add_image_names(s, "e.jpg", "newclass", bad1, 2, NULL),
                 PRIME_E_LIMIT);
    /* nothing was interned by the failed call */
    uint32_t id;
    cr_assert_eq(prime_tagstore_find_tag(s, "ok-new", &id), PRIME_E_NOT_FOUND);
    cr_assert_eq(prime_tagstore_find_class(s, "newclass", &id), PRIME_E_NOT_FOUND);
    const char *bad2[] = {"a|b"};
    cr_assert_eq(prime_tagstore_add_image_names(s, "e.jpg", "fox", bad2, 1, NULL),
                 PRIME_E_INVALID_ARG);
    const char *bad3[] = {"caf\xc3"};
    cr_assert_eq(prime_tagstore_add_image_names(s, "e.jpg", "fox", bad3, 1, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_add_image_names(s, "e\xff.jpg", "fox", NULL, 0, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_add_image_names(s, "e.jpg", "", NULL, 0, NULL),
                 PRIME_E_INVALID_ARG);
    const char *empty[] = {""};
    cr_assert_eq(prime_tagstore_add_image_names(s, "e.jpg", "fox", empty, 1, NULL),
                 PRIME_E_INVALID_ARG);
    /* 255 bytes is the longest allowed tag */
    long_tag[255] = '\0';
    const char *edge[] = {long_tag};
    cr_assert_eq(prime_tagstore_add_image_names(s, "e.jpg", "fox", edge, 1, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_image_count(s), 5);
    prime_tagstore_destroy(s);
}

Test(tagstore, frozen_store_is_read_only)
{
    prime_tagstore *s = small_store();
    cr_assert_eq(prime_tagstore_is_frozen(s), 0);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    cr_assert_eq(prime_tagstore_is_frozen(s), 1);
    uint32_t id;
    cr_assert_eq(prime_tagstore_intern_tag(s, "new", &id), PRIME_E_STATE);
    cr_assert_eq(prime_tagstore_intern_class(s, "new", &id), PRIME_E_STATE);
    cr_assert_eq(prime_tagstore_add_image_names(s, "x", "fox", NULL, 0, NULL), PRIME_E_STATE);
    cr_assert_eq(prime_tagstore_add_image(s, "x", 0, NULL, 0, NULL), PRIME_E_STATE);
    cr_assert_eq(prime_tagstore_class_image_count(s, 0), 2);
    cr_assert_eq(prime_tagstore_find_image(s, "d.jpg", &id), PRIME_OK);
    prime_tagstore_destroy(s);
}

Test(tagstore, null_handles_are_safe)
{
    prime_tagstore_destroy(NULL);
    cr_assert_eq(prime_tagstore_image_count(NULL), 0);
    cr_assert_eq(prime_tagstore_tag_count(NULL), 0);
    cr_assert_eq(prime_tagstore_class_count(NULL), 0);
    cr_assert_null(prime_tagstore_tag_name(NULL, 0));
    cr_assert_eq(prime_tagstore_freeze(NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_intern_tag(NULL, "x", NULL), PRIME_E_INVALID_ARG);
    prime_tagstore *s = small_store();
    cr_assert_eq(prime_tagstore_intern_tag(s, NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_add_image_names(s, "q", NULL, NULL, 0, NULL),
                 PRIME_E_INVALID_ARG);
    const char *tags[] = {"a", NULL};
    cr_assert_eq(prime_tagstore_add_image_names(s, "q", "fox", tags, 2, NULL),
                 PRIME_E_INVALID_ARG);
    prime_tagstore_destroy(s);
}

Test(tagstore, many_images_and_tags_grow_correctly)
{
    prime_tagstore *s;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    char name[32], tag[32], cls[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof name, "img%d", i);
        snprintf(cls, sizeof cls, "c%d", i % 37);
        char tags_buf[5][32];
        const char *tags[5];
        for (int k = 0; k < 5; k++) {
            snprintf(tags_buf[k], sizeof tags_buf[k], "t%d", (i * 7 + k * 13) % 1001);
            tags[k] = tags_buf[k];
        }
        cr_assert_eq(prime_tagstore_add_image_names(s, name, cls, tags, (uint32_t)(i % 6), NULL),
                     PRIME_OK);
    }
    cr_assert_eq(prime_tagstore_freeze(s), PRIME_OK);
    cr_assert_eq(prime_tagstore_image_count(s), 20000);
    cr_assert_eq(prime_tagstore_class_count(s), 37);
    for (int i = 0; i < 20000; i += 997) {
        snprintf(name, sizeof name, "img%d", i);
        uint32_t idx;
        cr_assert_eq(prime_tagstore_find_image(s, name, &idx), PRIME_OK);
        cr_assert_eq(idx, (uint32_t)i);
        uint32_t n, ids[8];
        cr_assert_eq(prime_tagstore_image_tags(s, idx, ids, 8, &n), PRIME_OK);
        cr_assert_eq(n, (uint32_t)(i % 6));
        for (uint32_t k = 0; k < n; k++) {
            snprintf(tag, sizeof tag, "t%d", (i * 7 + (int)k * 13) % 1001);
            uint32_t tid;
            cr_assert_eq(prime_tagstore_find_tag(s, tag, &tid), PRIME_OK);
            int found = 0;
            for (uint32_t j = 0; j < n; j++)
                found |= ids[j] == tid;
            cr_assert(found);
        }
    }
    prime_tagstore_destroy(s);
}

/* ---- outcomes ----------------------------------------------------------------- */

Test(outcomes, set_get_ranges_and_binary)
{
    prime_outcomes *o;
    cr_assert_eq(prime_outcomes_create(3, &o), PRIME_OK);
    cr_assert_eq(prime_outcomes_count(o), 3);
    double v;
    cr_assert_eq(prime_outcomes_get(o, 0, &v), PRIME_E_NOT_FOUND);
    cr_assert_eq(prime_outcomes_set(o, 0, 1.0), PRIME_OK);
    cr_assert_eq(prime_outcomes_set(o, 1, 0.0), PRIME_OK);
    cr_assert_eq(prime_outcomes_set(o, 2, 1.5), PRIME_E_RANGE);
    cr_assert_eq(prime_outcomes_set(o, 2, -0.1), PRIME_E_RANGE);
    cr_assert_eq(prime_outcomes_set(o, 2, NAN), PRIME_E_RANGE);
    cr_assert_eq(prime_outcomes_set(o, 3, 0.5), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_outcomes_is_binary(o), 0); /* one is unset */
    cr_assert_eq(prime_outcomes_set(o, 2, 1.0), PRIME_OK);
    cr_assert_eq(prime_outcomes_is_binary(o), 1);
    double arr[] = {0.25, 0.75};
    cr_assert_eq(prime_outcomes_set_array(o, 1, arr, 2), PRIME_OK);
    cr_assert_eq(prime_outcomes_is_binary(o), 0);
    cr_assert_eq(prime_outcomes_get(o, 2, &v), PRIME_OK);
    cr_assert_float_eq(v, 0.75, 0);
    double bad[] = {0.5, 2.0};
    cr_assert_eq(prime_outcomes_set_array(o, 0, bad, 2), PRIME_E_RANGE);
    cr_assert_eq(prime_outcomes_get(o, 0, &v), PRIME_OK);
    cr_assert_float_eq(v, 1.0, 0, "a failed set_array changed nothing");
    cr_assert_eq(prime_outcomes_set_array(o, 2, arr, 2), PRIME_E_INVALID_ARG);
    prime_outcomes_destroy(o);
    prime_outcomes_destroy(NULL);
}

Test(outcomes, from_labels)
{
    int64_t labels[] = {1, 2, 3, 4}, preds[] = {1, 0, 3, 5};
    prime_outcomes *o;
    cr_assert_eq(prime_outcomes_from_labels(labels, preds, 4, &o), PRIME_OK);
    double v;
    double want[] = {1, 0, 1, 0};
    for (uint32_t i = 0; i < 4; i++) {
        cr_assert_eq(prime_outcomes_get(o, i, &v), PRIME_OK);
        cr_assert_float_eq(v, want[i], 0);
    }
    cr_assert_eq(prime_outcomes_is_binary(o), 1);
    prime_outcomes_destroy(o);
    cr_assert_eq(prime_outcomes_from_labels(NULL, preds, 4, &o), PRIME_E_INVALID_ARG);
}

/* ---- configuration ------------------------------------------------------------- */

Test(config, defaults_follow_the_method)
{
    prime_config *c;
    cr_assert_eq(prime_config_create(&c), PRIME_OK);
    int64_t i;
    double d;
    cr_assert_eq(prime_config_get_int(c, PRIME_PARAM_MAX_TAGS, &i), PRIME_OK);
    cr_assert_eq(i, 4);
    cr_assert_eq(prime_config_get_int(c, PRIME_PARAM_MIN_SIZE, &i), PRIME_OK);
    cr_assert_eq(i, 30);
    cr_assert_eq(prime_config_get_double(c, PRIME_PARAM_MIN_DROP, &d), PRIME_OK);
    cr_assert_float_eq(d, 0.30, 0);
    const double want[] = {0, 0.10, 0.05, 0, 0, 0};
    for (uint32_t k = 1; k <= 6; k++) {
        cr_assert_eq(prime_config_get_min_gain(c, k, &d), PRIME_OK);
        cr_assert_float_eq(d, want[k - 1], 0);
    }
    cr_assert_eq(prime_config_min_gain_count(c), 4);
    cr_assert_eq(prime_config_get_int(c, PRIME_PARAM_MIN_TAG_COUNT, &i), PRIME_OK);
    cr_assert_eq(i, 0, "0 means equal to min_size");
    cr_assert_eq(prime__config_tag_count(c), 30);
    cr_assert_eq(prime_config_get_int(c, PRIME_PARAM_THREADS, &i), PRIME_OK);
    cr_assert_eq(i, 0);
    cr_assert_eq(prime_config_get_int(c, PRIME_PARAM_WHOLE_DATASET, &i), PRIME_OK);
    cr_assert_eq(i, 0);
    prime_config_destroy(c);
}

Test(config, bounds_types_and_reset)
{
    prime_config *c;
    cr_assert_eq(prime_config_create(&c), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MAX_TAGS, 0), PRIME_E_RANGE);
    cr_assert(strstr(prime_last_error(), "max_tags") != NULL);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MAX_TAGS, 17), PRIME_E_RANGE);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MAX_TAGS, 16), PRIME_OK);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MIN_SIZE, 0), PRIME_E_RANGE);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MIN_SIZE, 5), PRIME_OK);
    cr_assert_eq(prime__config_tag_count(c), 5);
    cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_DROP, 1.01), PRIME_E_RANGE);
    cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_DROP, NAN), PRIME_E_RANGE);
    cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MIN_DROP, 0.5), PRIME_OK);
    cr_assert_eq(prime_config_set_double(c, PRIME_PARAM_MAX_TAGS, 1.0), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_MIN_DROP, 1), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_int(c, 12345, 1), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_int(c, PRIME_PARAM_WHOLE_DATASET, 2), PRIME_E_RANGE);
    double g[] = {0.2, -0.5};
    cr_assert_eq(prime_config_set_min_gain(c, g, 2), PRIME_OK);
    double d;
    cr_assert_eq(prime_config_get_min_gain(c, 1, &d), PRIME_OK);
    cr_assert_float_eq(d, 0.2, 0);
    cr_assert_eq(prime_config_get_min_gain(c, 9, &d), PRIME_OK);
    cr_assert_float_eq(d, -0.5, 0);
    cr_assert_eq(prime_config_get_min_gain(c, 0, &d), PRIME_E_INVALID_ARG);
    double bad[] = {1.5};
    cr_assert_eq(prime_config_set_min_gain(c, bad, 1), PRIME_E_RANGE);
    cr_assert_eq(prime_config_set_min_gain(c, g, 0), PRIME_E_RANGE);
    prime_config *copy;
    cr_assert_eq(prime_config_clone(c, &copy), PRIME_OK);
    cr_assert_eq(prime_config_reset(c), PRIME_OK);
    int64_t i;
    prime_config_get_int(c, PRIME_PARAM_MIN_SIZE, &i);
    cr_assert_eq(i, 30);
    prime_config_get_int(copy, PRIME_PARAM_MIN_SIZE, &i);
    cr_assert_eq(i, 5);
    prime_config_destroy(copy);
    prime_config_destroy(c);
    prime_config_destroy(NULL);
}

Test(config, names_info_and_text_values)
{
    prime_param p;
    cr_assert_eq(prime_config_param_by_name("min-tag-count", &p), PRIME_OK);
    cr_assert_eq(p, PRIME_PARAM_MIN_TAG_COUNT);
    cr_assert_eq(prime_config_param_by_name("nope", &p), PRIME_E_NOT_FOUND);
    cr_assert_str_eq(prime_config_param_name(PRIME_PARAM_MIN_DROP), "min_drop");
    cr_assert_null(prime_config_param_name(1));
    int32_t type;
    double lo, hi, def;
    cr_assert_eq(prime_config_param_info(PRIME_PARAM_MAX_TAGS, &type, &lo, &hi, &def), PRIME_OK);
    cr_assert_eq(type, PRIME_PARAM_TYPE_INT);
    cr_assert_float_eq(lo, 1, 0);
    cr_assert_float_eq(hi, 16, 0);
    cr_assert_float_eq(def, 4, 0);
    cr_assert_eq(prime_config_param_info(PRIME_PARAM_MIN_GAIN, &type, NULL, NULL, NULL),
                 PRIME_OK);
    cr_assert_eq(type, PRIME_PARAM_TYPE_DOUBLE_LIST);
    prime_config *c;
    prime_config_create(&c);
    cr_assert_eq(prime_config_set_by_name(c, "max_tags", "3"), PRIME_OK);
    cr_assert_eq(prime_config_set_by_name(c, "max_tags", "3x"), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_by_name(c, "max_tags", ""), PRIME_E_INVALID_ARG);
    /* strict integers: no sign '+', no blank (issue 11) */
    cr_assert_eq(prime_config_set_by_name(c, "max_tags", "+2"), PRIME_E_INVALID_ARG);
    cr_assert_str_eq(prime_last_error(), "max_tags: \"+2\" is not an integer");
    cr_assert_eq(prime_config_set_by_name(c, "min_size", "+5"), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_by_name(c, "threads", " 2"), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_by_name(c, "min_tag_count", "2 "), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_by_name(c, "max_tags", "99999999999999999999999"),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_by_name(c, "min_drop", "0.25"), PRIME_OK);
    cr_assert_eq(prime_config_set_by_name(c, "min_drop", "abc"), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_by_name(c, "min_drop", "nan"), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_set_by_name(c, "min_gain", "0,0.2,0.1"), PRIME_OK);
    cr_assert_eq(prime_config_min_gain_count(c), 3);
    double d;
    prime_config_get_min_gain(c, 2, &d);
    cr_assert_float_eq(d, 0.2, 0);
    cr_assert_eq(prime_config_set_by_name(c, "min_gain", "0,,1"), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_config_min_gain_count(c), 3, "a failed set changes nothing");
    cr_assert_eq(prime_config_set_by_name(c, "whole-dataset", "true"), PRIME_OK);
    int64_t i;
    prime_config_get_int(c, PRIME_PARAM_WHOLE_DATASET, &i);
    cr_assert_eq(i, 1);
    cr_assert_eq(prime_config_set_by_name(c, "whole_dataset", "maybe"), PRIME_E_INVALID_ARG);
    prime_config_destroy(c);
}

/* ---- results and writers ---------------------------------------------------------- */

/* Builds a result with known modes through the internal builder, so the
 * ordering and the writers can be tested apart from the search. */
static prime_result *known_result(prime_tagstore **store_out)
{
    prime_tagstore *s;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    uint32_t fox, ape, black, branch, hang, quote;
    prime_tagstore_intern_class(s, "fox", &fox);
    prime_tagstore_intern_class(s, "ape", &ape);
    prime_tagstore_intern_tag(s, "hang", &hang);
    prime_tagstore_intern_tag(s, "black", &black);
    prime_tagstore_intern_tag(s, "branch", &branch);
    prime_tagstore_intern_tag(s, "say \"hi\", ok", &quote);
    prime_tagstore_freeze(s);
    prime_config *cfg;
    prime_config_create(&cfg);
    uint32_t class_ids[] = {fox, ape};
    uint64_t images[] = {1300, 100};
    double correct[] = {1065.5, 80};
    prime__raw_mode raw[4] = {
        {.class_index = 0, .n_tags = 3, .tags = {hang, black, branch}, .size = 43, .correct = 18},
        {.class_index = 1, .n_tags = 1, .tags = {black}, .size = 40, .correct = 10},
        {.class_index = 1, .n_tags = 2, .tags = {quote, branch}, .size = 40, .correct = 10},
        {.class_index = 1, .n_tags = 1, .tags = {hang}, .size = 50, .correct = 5},
    };
    prime_result *r;
    cr_assert_eq(prime__result_build(s, cfg, 2, class_ids, images, correct, raw, 4, &r),
                 PRIME_OK);
    prime_config_destroy(cfg);
    *store_out = s;
    return r;
}

Test(result, order_statistics_and_names)
{
    prime_tagstore *s;
    prime_result *r = known_result(&s);
    prime_tagstore_destroy(s); /* the result holds its own names */
    cr_assert_eq(prime_result_class_count(r), 2);
    cr_assert_str_eq(prime_result_class_name(r, 0), "ape");
    cr_assert_str_eq(prime_result_class_name(r, 1), "fox");
    uint64_t images;
    double acc;
    uint32_t cid;
    cr_assert_eq(prime_result_class_info(r, 1, &cid, &images, NULL, &acc), PRIME_OK);
    cr_assert_eq(cid, 0);
    cr_assert_eq(images, 1300);
    cr_assert_float_eq(acc, 1065.5 / 1300, 1e-15);
    cr_assert_eq(prime_result_mode_count(r), 4);
    /* ape: hang (drop 0.7) first, then black and branch+quote tie at 0.55:
       ordered by tag names */
    cr_assert_str_eq(prime_result_mode_tag_name(r, 0, 0), "hang");
    cr_assert_str_eq(prime_result_mode_tag_name(r, 1, 0), "black");
    cr_assert_str_eq(prime_result_mode_tag_name(r, 2, 0), "branch");
    cr_assert_str_eq(prime_result_mode_tag_name(r, 2, 1), "say \"hi\", ok");
    cr_assert_str_eq(prime_result_mode_class_name(r, 3), "fox");
    cr_assert_str_eq(prime_result_mode_description(r, 3), "a photo of fox black branch hang");
    uint32_t n_tags;
    uint64_t size;
    double correct, accuracy, class_acc, drop;
    cr_assert_eq(prime_result_mode_info(r, 3, &cid, &n_tags, &size, &correct, &accuracy,
                                        &class_acc, &drop),
                 PRIME_OK);
    cr_assert_eq(n_tags, 3);
    cr_assert_eq(size, 43);
    cr_assert_float_eq(correct, 18, 0);
    cr_assert_float_eq(accuracy, 18.0 / 43, 1e-15);
    cr_assert_float_eq(drop, 1065.5 / 1300 - 18.0 / 43, 1e-15);
    uint32_t ids[3], n;
    cr_assert_eq(prime_result_mode_tags(r, 3, ids, 2, &n), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(n, 3);
    cr_assert_eq(prime_result_mode_tags(r, 3, ids, 3, &n), PRIME_OK);
    cr_assert_eq(ids[0], 1); /* black */
    cr_assert_eq(ids[1], 2); /* branch */
    cr_assert_eq(ids[2], 0); /* hang */
    cr_assert_eq(prime_result_mode_info(r, 4, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_null(prime_result_mode_description(r, 4));
    cr_assert_null(prime_result_mode_tag_name(r, 0, 1));
    prime_result_destroy(r);
    prime_result_destroy(NULL);
}

static char *render(const prime_result *r, int32_t format)
{
    size_t need = 0;
    cr_assert_eq(prime_result_render(r, format, NULL, 0, &need), PRIME_E_BUFFER_TOO_SMALL);
    char *buf = malloc(need + 1);
    size_t got = 0;
    cr_assert_eq(prime_result_render(r, format, buf, need, &got), PRIME_E_BUFFER_TOO_SMALL);
    cr_assert_eq(prime_result_render(r, format, buf, need + 1, &got), PRIME_OK);
    cr_assert_eq(got, need);
    cr_assert_eq(strlen(buf), need);
    return buf;
}

Test(result, json_follows_the_schema)
{
    prime_tagstore *s;
    prime_result *r = known_result(&s);
    char *json = render(r, PRIME_FORMAT_JSON);
    cr_assert(strstr(json, "{\"params\": {\"max_tags\": 4, \"min_size\": 30, \"min_drop\": 0.3, "
                           "\"min_gain\": [0, 0.1, 0.05, 0], \"min_tag_count\": 30, "
                           "\"whole_dataset\": false}") == json,
              "%s", json);
    cr_assert(strstr(json, "{\"class\": \"ape\", \"images\": 100, \"correct\": 80, "
                           "\"accuracy\": 0.8}") != NULL,
              "%s", json);
    cr_assert(strstr(json, "{\"class\": \"fox\", \"tags\": [\"black\", \"branch\", \"hang\"], "
                           "\"size\": 43, \"correct\": 18, \"accuracy\": 0.4186046511627907, "
                           "\"class_accuracy\": 0.8196153846153846, \"drop\": ") != NULL,
              "%s", json);
    /* the last key: candidates (0: this result was not made by a search) */
    cr_assert(strstr(json, "\"description\": \"a photo of fox black branch hang\"}],\n"
                           " \"candidates\": 0}\n") != NULL,
              "%s", json);
    cr_assert(strstr(json, "\"say \\\"hi\\\", ok\"") != NULL, "%s", json);
    free(json);
    prime_result_destroy(r);
    prime_tagstore_destroy(s);
}

Test(result, csv_and_text)
{
    prime_tagstore *s;
    prime_result *r = known_result(&s);
    char *csv = render(r, PRIME_FORMAT_CSV);
    cr_assert(strncmp(csv, "class,tags,size,correct,accuracy,class_accuracy,drop,description\n"
                           "ape,hang,50,5,0.1,0.8,0.7000000000000001,a photo of ape hang\n",
                      strlen("class,tags,size,correct,accuracy,class_accuracy,drop,description\n"
                             "ape,hang,50,5,0.1,0.8,0.7000000000000001,a photo of ape hang\n")) ==
                  0,
              "%s", csv);
    cr_assert(strstr(csv, "ape,\"branch|say \"\"hi\"\", ok\",40,10,0.25,0.8,") != NULL, "%s",
              csv);
    free(csv);
    char *text = render(r, PRIME_FORMAT_TEXT);
    cr_assert(strstr(text, "ape: 100 images, accuracy 0.8000, 3 failure modes\n") != NULL,
              "%s", text);
    cr_assert(strstr(text, "black + branch + hang") != NULL, "%s", text);
    cr_assert(strstr(text, "4 failure modes in 2 classes\n") != NULL, "%s", text);
    free(text);
    size_t need;
    cr_assert_eq(prime_result_render(r, 99, NULL, 0, &need), PRIME_E_INVALID_ARG);
    prime_result_destroy(r);
    prime_tagstore_destroy(s);
}

Test(result, write_is_atomic_and_reports_errors)
{
    prime_tagstore *s;
    prime_result *r = known_result(&s);
    char dir[] = "/tmp/prime-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.json", dir);
    cr_assert_eq(prime_result_write(r, PRIME_FORMAT_JSON, path), PRIME_OK);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char head[12] = {0};
    cr_assert_eq(fread(head, 1, 11, f), 11);
    fclose(f);
    cr_assert_str_eq(head, "{\"params\": ");
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing-dir/out.json", dir);
    cr_assert_eq(prime_result_write(r, PRIME_FORMAT_JSON, bad), PRIME_E_IO);
    cr_assert(strstr(prime_last_error(), "missing-dir/out.json") != NULL, "%s",
              prime_last_error());
    unlink(path);
    cr_assert_eq(rmdir(dir), 0, "no temporary file was left behind");
    prime_result_destroy(r);
    prime_tagstore_destroy(s);
}

Test(result, numbers_are_written_in_the_c_locale_shortest_form)
{
    prime__buf b = {0};
    const double vals[] = {0.3, 1, 0, 0.1 + 0.2, 1e-300, 123456789.125, -0.5};
    const char *want[] = {"0.3", "1", "0", "0.30000000000000004", "1e-300",
                          "123456789.125", "-0.5"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        b.len = 0;
        prime__buf_double(&b, vals[i]);
        cr_assert_str_eq(b.data, want[i]);
    }
    b.len = 0;
    prime__buf_double(&b, NAN);
    cr_assert_str_eq(b.data, "null");
    prime__buf_free(&b);
}

/* ---- contracts across the API --------------------------------------------------
 * prime.h: "Successful calls do not clear it" (prime_last_error): after a
 * failure, a long run of successful calls, including ones that look names up
 * and find nothing on the way (eval of a mode whose tag or class the store
 * lacks), leaves the message as the failure wrote it. */

static char saved_error[1024];

#define OK(call)                                                                          \
    do {                                                                                  \
        prime_status st_ = (call);                                                        \
        cr_assert_eq(st_, PRIME_OK, "%s: %s", #call, prime_last_error());                 \
        cr_assert_str_eq(prime_last_error(), saved_error, "%s changed the last error", #call); \
    } while (0)

#define SAME(expr)                                                                        \
    do {                                                                                  \
        (void)(expr);                                                                     \
        cr_assert_str_eq(prime_last_error(), saved_error, "%s changed the last error", #expr); \
    } while (0)

Test(contracts, successful_calls_leave_the_last_error)
{
    prime_tagstore *bad = (prime_tagstore *)&bad;
    cr_assert_eq(prime_tagstore_open("/nonexistent/store.prime", &bad), PRIME_E_IO);
    snprintf(saved_error, sizeof saved_error, "%s", prime_last_error());
    cr_assert(saved_error[0] != '\0');

    /* a store, by hand and from text */
    prime_tagstore *s = NULL;
    OK(prime_tagstore_create(&s));
    uint32_t id, cls, tx, ty;
    OK(prime_tagstore_intern_class(s, "fox", &cls));
    OK(prime_tagstore_intern_tag(s, "x", &tx));
    OK(prime_tagstore_intern_tag(s, "y", &ty));
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "i%d", i);
        const char *t[] = {"x", "y"};
        OK(prime_tagstore_add_image_names(s, name, i % 2 ? "fox" : "ape", t,
                                          (uint32_t)(i % 3 == 0 ? 2 : i % 3 == 1), &id));
    }
    OK(prime_tagstore_freeze(s));
    SAME(prime_tagstore_is_frozen(s));
    SAME(prime_tagstore_image_count(s));
    SAME(prime_tagstore_tag_name(s, 0));
    SAME(prime_tagstore_class_name(s, 99)); /* out of range: NULL, not an error */
    SAME(prime_tagstore_image_name(s, 1000));
    OK(prime_tagstore_find_tag(s, "x", &id));
    OK(prime_tagstore_find_class(s, "fox", &id));
    OK(prime_tagstore_find_image(s, "i3", &id));
    const char csv[] = "\xEF\xBB\xBFimage,class,tags,correct\na,fox,x|y,0\nb,fox,y,1\n";
    prime_tagstore *s2 = NULL;
    prime_outcomes *o2 = NULL;
    OK(prime_tagstore_load_memory(csv, sizeof csv - 1, "t.csv", &s2, &o2));
    prime_tagstore_destroy(s2);
    prime_outcomes_destroy(o2);
    const char jl[] = "{\"image\": \"a\", \"class\": \"c\", \"tags\": [\"x\"], \"k\": [1, {}]}\n";
    OK(prime_tagstore_load_memory(jl, sizeof jl - 1, "t.jsonl", &s2, NULL));
    prime_tagstore_destroy(s2);
    char path[] = "/tmp/prime_contract_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    OK(prime_tagstore_save(s, path));
    OK(prime_tagstore_open(path, &s2));
    prime_tagstore_destroy(s2);

    /* outcomes, configuration */
    prime_outcomes *o = NULL;
    OK(prime_outcomes_create(40, &o));
    for (uint32_t i = 0; i < 40; i++)
        OK(prime_outcomes_set(o, i, i % 3 == 0 ? 0.0 : 1.0));
    double v;
    OK(prime_outcomes_get(o, 2, &v));
    prime_config *c = NULL;
    OK(prime_config_create(&c));
    OK(prime_config_set_int(c, PRIME_PARAM_MIN_SIZE, 2));
    OK(prime_config_set_by_name(c, "min-drop", "0.1"));
    OK(prime_config_set_by_name(c, "min_gain", "0,0.1"));
    prime_param param;
    OK(prime_config_param_by_name("max_tags", &param));
    OK(prime_config_param_info(param, NULL, NULL, NULL, &v));

    /* search, result, query */
    prime_result *r = NULL;
    OK(prime_search(s, o, c, NULL, NULL, &r));
    cr_assert_gt(prime_result_mode_count(r), 0);
    OK(prime_result_mode_info(r, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
    OK(prime_result_class_info(r, 0, NULL, NULL, NULL, NULL));
    size_t need = 0;
    cr_assert_eq(prime_result_render(r, PRIME_FORMAT_JSON, NULL, 0, &need),
                 PRIME_E_BUFFER_TOO_SMALL);
    snprintf(saved_error, sizeof saved_error, "%s", prime_last_error()); /* a failure: new */
    char *json = malloc(need + 1);
    OK(prime_result_render(r, PRIME_FORMAT_JSON, json, need + 1, &need));
    OK(prime_result_write(r, PRIME_FORMAT_CSV, path));
    prime_result *back = NULL;
    OK(prime_result_load_memory(json, need, "r.json", &back));
    prime_result_destroy(back);
    uint32_t tags[2] = {tx, ty};
    uint64_t size, sizes[2];
    OK(prime_query(s, o, cls, tags, 2, &size, NULL, NULL, NULL));
    OK(prime_query_parents(s, o, PRIME_NONE, tags, 2, sizes, NULL));

    /* evaluation, with a mode whose tag and one whose class the store lacks */
    prime_eval *ev = NULL;
    OK(prime_eval_create(r, s, o, &ev));
    prime_eval_destroy(ev);
    const char hand[] =
        "{\"params\": {\"min_size\": 2, \"min_drop\": 0.1}, \"failure_modes\": [\n"
        " {\"class\": \"fox\", \"tags\": [\"x\", \"nosuch\"], \"size\": 4, \"correct\": 1,\n"
        "  \"accuracy\": 0.25, \"class_accuracy\": 0.5, \"drop\": 0.25},\n"
        " {\"class\": \"nosuch\", \"tags\": [\"x\"], \"size\": 4, \"correct\": 1,\n"
        "  \"accuracy\": 0.25, \"class_accuracy\": 0.5, \"drop\": 0.25}]}\n";
    OK(prime_eval_load_memory(hand, sizeof hand - 1, "h.json", s, o, &ev));
    OK(prime_eval_set_fdr(ev, 0.1, 0));
    OK(prime_eval_summary(ev, NULL, NULL, NULL, NULL));
    OK(prime_eval_mode_confidence(ev, 0, NULL, NULL, NULL, NULL, NULL));
    cr_assert_eq(prime_eval_render(ev, PRIME_FORMAT_TEXT, NULL, 0, &need),
                 PRIME_E_BUFFER_TOO_SMALL);
    snprintf(saved_error, sizeof saved_error, "%s", prime_last_error());
    OK(prime_eval_write(ev, PRIME_FORMAT_JSON, path));
    prime_eval_destroy(ev);
    double lo, hi, p;
    OK(prime_stat_wilson(3, 10, 1.96, &lo, &hi));
    OK(prime_stat_hypergeom_lower(20, 10, 5, 1, &p));
    const double xs[] = {1, 2, 3}, ys[] = {1, 3, 2};
    OK(prime_stat_mann_whitney_lower(xs, 3, ys, 3, &p));
    OK(prime_stat_spearman(xs, ys, 3, &p));

    /* description quality, over embeddings of the store's images */
    float *vecs = malloc(40 * 4 * sizeof *vecs);
    for (int i = 0; i < 160; i++)
        vecs[i] = (float)((i * 7) % 11) - 5.0f;
    prime_embeddings *emb = NULL;
    OK(prime_embeddings_create(vecs, 40, 4, &emb));
    prime_quality *q = NULL;
    OK(prime_quality_create(s, emb, &q));
    OK(prime_quality_add_result(q, r, NULL));
    OK(prime_result_write(r, PRIME_FORMAT_JSON, path));
    OK(prime_quality_add_result_file(q, path, NULL));
    prime_quality_destroy(q);
    prime_embeddings_destroy(emb);
    free(vecs);

    /* images */
    uint8_t rgb[2 * 2 * 3] = {0};
    prime_image *img = NULL, *small = NULL;
    OK(prime_image_create(2, 2, rgb, &img));
    OK(prime_image_resize(img, 1, 1, PRIME_FILTER_BILINEAR, &small));
    prime_image_destroy(small);
    prime_image_destroy(img);

    unlink(path);
    free(json);
    prime_result_destroy(r);
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

/* prime.h and docs/api.md: on failure a handle out-parameter is set to NULL
 * (whatever failed: an argument, the input, the state); other out-parameters
 * are left as they were. Every function that makes a handle, made to fail
 * by a NULL argument and by bad input. */
static char sentinel;
#define FRESH ((void *)&sentinel)

#define FAILS_NULL(T, call)                                                   \
    do {                                                                      \
        T *out = FRESH;                                                       \
        prime_status st_ = (call);                                            \
        cr_expect_neq(st_, PRIME_OK, "%s succeeded", #call);                  \
        cr_expect_null(out, "%s: the out-handle is not NULL on failure", #call); \
    } while (0)

Test(contracts, failed_calls_set_handles_to_null)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_create(&s), PRIME_OK);
    cr_assert_eq(prime_tagstore_add_image_names(s, "a", "c", NULL, 0, NULL), PRIME_OK);
    prime_tagstore *open_store = s; /* not frozen */
    const char bad[] = "not, a, store\n\"";
    const float one[4] = {1, 0, 0, 0};
    prime_embeddings *emb = NULL;
    cr_assert_eq(prime_embeddings_create(one, 1, 4, &emb), PRIME_OK);
    prime_result *r = NULL;
    prime_image *img = NULL;
    uint8_t rgb[3] = {0};
    cr_assert_eq(prime_image_create(1, 1, rgb, &img), PRIME_OK);
    const char *paths[1] = {"/nonexistent.png"};

    FAILS_NULL(prime_tagstore, prime_tagstore_open(NULL, &out));
    FAILS_NULL(prime_tagstore, prime_tagstore_open("/nonexistent", &out));
    FAILS_NULL(prime_tagstore, prime_tagstore_open_memory(NULL, 3, &out));
    FAILS_NULL(prime_tagstore, prime_tagstore_open_memory(bad, sizeof bad - 1, &out));
    FAILS_NULL(prime_tagstore, prime_tagstore_load(NULL, &out, NULL));
    FAILS_NULL(prime_tagstore, prime_tagstore_load_memory(bad, sizeof bad - 1, NULL, &out, NULL));
    FAILS_NULL(prime_tagstore, prime_tagstore_load_memory(NULL, 3, NULL, &out, NULL));
    FAILS_NULL(prime_outcomes, prime_outcomes_from_labels(NULL, NULL, 3, &out));
    FAILS_NULL(prime_outcomes, prime_outcomes_load(NULL, s, &out));
    FAILS_NULL(prime_outcomes, prime_outcomes_load_memory(bad, sizeof bad - 1, NULL, s, &out));
    FAILS_NULL(prime_outcomes, prime_outcomes_load_memory(NULL, 3, NULL, NULL, &out));
    FAILS_NULL(prime_config, prime_config_clone(NULL, &out));
    FAILS_NULL(prime_result, prime_search(NULL, NULL, NULL, NULL, NULL, &out));
    FAILS_NULL(prime_result, prime_search(open_store, NULL, NULL, NULL, NULL, &out));
    FAILS_NULL(prime_result, prime_result_load(NULL, &out));
    FAILS_NULL(prime_result, prime_result_load_memory(bad, sizeof bad - 1, NULL, &out));
    FAILS_NULL(prime_eval, prime_eval_create(NULL, s, NULL, &out));
    FAILS_NULL(prime_eval, prime_eval_load(NULL, s, NULL, &out));
    FAILS_NULL(prime_eval, prime_eval_load_memory(bad, sizeof bad - 1, NULL, s, NULL, &out));
    FAILS_NULL(prime_embeddings, prime_embeddings_create(NULL, 1, 4, &out));
    FAILS_NULL(prime_embeddings, prime_embeddings_load(NULL, 4, &out));
    FAILS_NULL(prime_embeddings, prime_embeddings_load_memory(bad, sizeof bad - 1, NULL, 4, &out));
    FAILS_NULL(prime_embeddings, prime_embeddings_join_memory(NULL, "a\n", 2, NULL, s, &out));
    FAILS_NULL(prime_embeddings, prime_embeddings_join(emb, NULL, s, &out));
    FAILS_NULL(prime_quality, prime_quality_create(NULL, emb, &out));
    FAILS_NULL(prime_quality, prime_quality_create(open_store, emb, &out));
    FAILS_NULL(prime_tokenizer, prime_tokenizer_create(NULL, &out));
    FAILS_NULL(prime_tokenizer, prime_tokenizer_create_memory(NULL, 3, NULL, &out));
    FAILS_NULL(prime_tokenizer, prime_tokenizer_create_memory(bad, sizeof bad - 1, NULL, &out));
    FAILS_NULL(prime_image, prime_image_load(NULL, 0, &out));
    FAILS_NULL(prime_image, prime_image_load("/nonexistent.png", 0, &out));
    FAILS_NULL(prime_image, prime_image_load_memory(bad, sizeof bad - 1, NULL, 0, &out));
    FAILS_NULL(prime_image, prime_image_create(0, 1, rgb, &out));
    FAILS_NULL(prime_image, prime_image_resize(NULL, 1, 1, PRIME_FILTER_BILINEAR, &out));
    FAILS_NULL(prime_image, prime_image_crop(img, 5, 5, 1, 1, &out));
    FAILS_NULL(prime_image, prime_image_transform(NULL, NULL, &out));
    FAILS_NULL(prime_image_spec, prime_image_spec_create(-7, &out));
    FAILS_NULL(prime_image_batch, prime_image_batch_load(NULL, 1, NULL, 1, &out));
    FAILS_NULL(prime_tagger, prime_tagger_create_from(NULL, &out));
    FAILS_NULL(prime_classifier, prime_classifier_create_from(NULL, &out));
    FAILS_NULL(prime_embedder, prime_embedder_create_from(NULL, &out));
    FAILS_NULL(prime_tagger, prime_zeroshot_tagger_create(NULL, NULL, 0, NULL, &out));
    /* other out-parameters are left as they were */
    double d = 42.0, d2 = 43.0;
    uint64_t u = 44;
    int64_t i64 = 45;
    uint32_t u32 = 46;
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_outcomes_create(1, &o), PRIME_OK);
    cr_expect_neq(prime_outcomes_get(o, 5, &d), PRIME_OK);
    prime_config *c = NULL;
    cr_assert_eq(prime_config_create(&c), PRIME_OK);
    cr_expect_neq(prime_config_get_int(c, 12345, &i64), PRIME_OK);
    cr_expect_neq(prime_config_get_min_gain(c, 0, &d), PRIME_OK);
    cr_expect_neq(prime_tagstore_find_tag(s, "nosuch", &u32), PRIME_OK);
    cr_expect_neq(prime_query(open_store, o, PRIME_NONE, NULL, 0, &u, &d, &d2, NULL), PRIME_OK);
    cr_expect_neq(prime_stat_wilson(3, 2, 1.96, &d, &d2), PRIME_OK);
    cr_expect_neq(prime_stat_hypergeom_lower(1, 2, 1, 1, &d), PRIME_OK);
    cr_expect_neq(prime_eval_summary(NULL, &u, &d, &d2, NULL), PRIME_OK);
    cr_expect_neq(prime_result_mode_info(NULL, 0, &u32, NULL, &u, &d, NULL, NULL, NULL),
                  PRIME_OK);
    cr_expect(d == 42.0 && d2 == 43.0 && u == 44 && i64 == 45 && u32 == 46,
              "an out-parameter changed on failure: %g %g %llu %lld %u", d, d2,
              (unsigned long long)u, (long long)i64, u32);
    prime_config_destroy(c);
    prime_outcomes_destroy(o);
    (void)paths;
    (void)r;
    prime_image_destroy(img);
    prime_embeddings_destroy(emb);
    prime_tagstore_destroy(s);
}

/* A negative zero in a result file ("-0", "-0.0", "-0e5") reads as 0: the
   result read back from its own JSON renders the same in every format, and
   the text shows no "-0.0000" (fuzz_result_json found the round trip broken). */
Test(api, result_negative_zero_reads_as_zero)
{
    static const char *zeros[] = {"-0", "-0.0", "-0e5", "-0.000E-3"};
    for (size_t z = 0; z < sizeof zeros / sizeof *zeros; z++) {
        char json[1024];
        int n = snprintf(json, sizeof json,
            "{\"params\": {\"max_tags\": 2, \"min_size\": 2, \"min_drop\": 0.3, "
            "\"min_gain\": [0, 0.1], \"min_tag_count\": 2, \"whole_dataset\": false},\n"
            " \"classes\": [{\"class\": \"bee\", \"images\": 4, \"correct\": 2, \"accuracy\": 0.5}],\n"
            " \"failure_modes\": [{\"class\": \"bee\", \"tags\": [\"x\"], \"size\": 2, "
            "\"correct\": 0, \"accuracy\": %s, \"class_accuracy\": 0.5, \"drop\": 0.5, "
            "\"description\": \"a photo of bee x\"}],\n \"candidates\": 4}\n", zeros[z]);
        cr_assert(n > 0 && (size_t)n < sizeof json);
        prime_result *r = NULL, *back = NULL;
        cr_assert_eq(prime_result_load_memory(json, (size_t)n, "z.json", &r), PRIME_OK, "%s: %s",
                     zeros[z], prime_last_error());
        double acc = 1.0;
        cr_assert_eq(prime_result_mode_info(r, 0, NULL, NULL, NULL, NULL, &acc, NULL, NULL),
                     PRIME_OK);
        cr_expect(acc == 0.0 && !signbit(acc), "%s read as %g", zeros[z], acc);
        char *again = render(r, PRIME_FORMAT_JSON);
        cr_assert_eq(prime_result_load_memory(again, strlen(again), "again.json", &back),
                     PRIME_OK);
        static const int32_t formats[] = {PRIME_FORMAT_JSON, PRIME_FORMAT_CSV, PRIME_FORMAT_TEXT};
        for (int f = 0; f < 3; f++) {
            char *a = render(r, formats[f]), *b = render(back, formats[f]);
            cr_expect_str_eq(a, b, "%s, format %d", zeros[z], f);
            cr_expect_null(strstr(a, "-0"), "%s, format %d: %s", zeros[z], f, a);
            free(a);
            free(b);
        }
        free(again);
        prime_result_destroy(back);
        prime_result_destroy(r);
    }
}
