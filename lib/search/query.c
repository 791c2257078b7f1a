/* Query API for model debuggers: statistics of any tag set in any class,
 * computed directly from the per-image tag lists of a frozen store. Sums
 * are taken in fixed point (search/fixed.h), exactly as the search takes
 * them, so a query of a failure mode gives back the very same numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/fixed.h"
#include "search/search.h"

/* Small queries are handled without allocating. */
#define QUERY_STACK_TAGS 32

static prime_status check_common(const char *fn, const prime_tagstore *store,
                                 const prime_outcomes *outcomes, uint32_t class_id,
                                 const uint32_t *tags, uint32_t n_tags)
{
    if (store == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: store is NULL", fn);
    if (outcomes == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "%s: outcomes is NULL", fn);
    if (!prime_tagstore_is_frozen(store))
        return prime__error(PRIME_E_STATE, "%s: the tag store is not frozen", fn);
    if (tags == NULL && n_tags > 0)
        return prime__error(PRIME_E_INVALID_ARG, "%s: tags is NULL", fn);
    uint32_t n_images = prime_tagstore_image_count(store);
    if (outcomes->n != n_images)
        return prime__error(PRIME_E_MISMATCH, "%s: %u outcomes for a tag store of %u images",
                            fn, (unsigned)outcomes->n, (unsigned)n_images);
    uint32_t n_classes = prime_tagstore_class_count(store);
    if (class_id != PRIME_NONE && class_id >= n_classes)
        return prime__error(PRIME_E_INVALID_ARG, "%s: class id %u out of range (%u classes)", fn,
                            (unsigned)class_id, (unsigned)n_classes);
    uint32_t n_store_tags = prime_tagstore_tag_count(store);
    for (uint32_t i = 0; i < n_tags; i++)
        if (tags[i] >= n_store_tags)
            return prime__error(PRIME_E_INVALID_ARG, "%s: tag id %u out of range (%u tags)", fn,
                                (unsigned)tags[i], (unsigned)n_store_tags);
    /* every image of the scope needs an outcome */
    uint64_t a, b;
    prime__store_scope(store, class_id, &a, &b);
    for (uint64_t j = a; j < b; j++) {
        uint32_t img = prime__store_scope_image(store, class_id, j);
        if (!isnan(outcomes->v[img]))
            continue;
        const char *name = prime_tagstore_image_name(store, img);
        if (name != NULL && name[0] != '\0')
            return prime__error(PRIME_E_MISMATCH, "%s: image '%s' has no outcome", fn, name);
        return prime__error(PRIME_E_MISMATCH, "%s: image #%u has no outcome", fn,
                            (unsigned)img);
    }
    return PRIME_OK;
}

/* Size and sum of outcomes of the images of the scope carrying every tag of
 * want[0..n) (sorted, unique), plus the same for the whole scope. */
static void scan(const prime_tagstore *store, const prime_outcomes *outcomes, uint32_t class_id,
                 const uint32_t *want, uint32_t n, uint64_t *size, double *sum,
                 uint64_t *all_size, double *all_sum)
{
    uint64_t a, b;
    prime__store_scope(store, class_id, &a, &b);
    uint64_t cnt = 0, s = 0, all = 0;
    for (uint64_t j = a; j < b; j++) {
        uint32_t img = prime__store_scope_image(store, class_id, j);
        uint64_t v = prime__fx_from(outcomes->v[img]);
        all += v;
        if (prime__store_image_has_all(store, img, want, n)) {
            cnt++;
            s += v;
        }
    }
    *size = cnt;
    *sum = prime__fx_value(s);
    if (all_size != NULL)
        *all_size = b - a;
    if (all_sum != NULL)
        *all_sum = prime__fx_value(all);
}

prime_status prime_query(const prime_tagstore *store, const prime_outcomes *outcomes,
                         uint32_t class_id, const uint32_t *tags, uint32_t n_tags,
                         uint64_t *size_out, double *correct_out, double *accuracy_out,
                         double *class_accuracy_out)
{
    prime_status st = check_common("prime_query", store, outcomes, class_id, tags, n_tags);
    if (st != PRIME_OK)
        return st;
    uint32_t local[QUERY_STACK_TAGS];
    uint32_t *want = local;
    if (n_tags > QUERY_STACK_TAGS) {
        want = prime__malloc((size_t)n_tags * sizeof *want);
        if (want == NULL)
            return prime__error(PRIME_E_NOMEM, "prime_query: out of memory");
    }
    if (n_tags > 0)
        memcpy(want, tags, (size_t)n_tags * sizeof *want);
    uint32_t n = (uint32_t)prime__sort_unique_u32(want, n_tags);
    uint64_t size, all_size;
    double sum, all_sum;
    scan(store, outcomes, class_id, want, n, &size, &sum, &all_size, &all_sum);
    if (want != local)
        prime__free(want);
    if (size_out != NULL)
        *size_out = size;
    if (correct_out != NULL)
        *correct_out = sum;
    if (accuracy_out != NULL)
        *accuracy_out = size > 0 ? sum / (double)size : NAN;
    if (class_accuracy_out != NULL)
        *class_accuracy_out = all_size > 0 ? all_sum / (double)all_size : NAN;
    return PRIME_OK;
}

prime_status prime_query_parents(const prime_tagstore *store, const prime_outcomes *outcomes,
                                 uint32_t class_id, const uint32_t *tags, uint32_t n_tags,
                                 uint64_t *sizes_out, double *correct_out)
{
    prime_status st =
        check_common("prime_query_parents", store, outcomes, class_id, tags, n_tags);
    if (st != PRIME_OK)
        return st;
    if (n_tags == 0)
        return PRIME_OK;
    uint32_t local[QUERY_STACK_TAGS];
    uint32_t *want = local;
    if (n_tags > QUERY_STACK_TAGS) {
        want = prime__malloc((size_t)n_tags * sizeof *want);
        if (want == NULL)
            return prime__error(PRIME_E_NOMEM, "prime_query_parents: out of memory");
    }
    for (uint32_t j = 0; j < n_tags; j++) {
        /* the query without entry j (a duplicate of it may remain) */
        uint32_t k = 0;
        for (uint32_t i = 0; i < n_tags; i++)
            if (i != j)
                want[k++] = tags[i];
        k = (uint32_t)prime__sort_unique_u32(want, k);
        uint64_t size;
        double sum;
        scan(store, outcomes, class_id, want, k, &size, &sum, NULL, NULL);
        if (sizes_out != NULL)
            sizes_out[j] = size;
        if (correct_out != NULL)
            correct_out[j] = sum;
    }
    if (want != local)
        prime__free(want);
    return PRIME_OK;
}
