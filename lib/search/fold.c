/* PRIME_PARAM_FOLD_EQUAL (issue 13): after the search, leave out every
 * failure mode whose images are exactly those of a mode of the same class
 * with fewer tags (prime_result_equal_images). The modes kept keep their
 * order, numbers, tags and descriptions; only the mode list shrinks. */
#include "search/search.h"

prime_status prime__result_fold_equal(prime_result *r, const prime_tagstore *store)
{
    if (r->n_modes == 0)
        return PRIME_OK;
    uint64_t *smaller = prime__malloc((size_t)r->n_modes * sizeof *smaller);
    if (smaller == NULL)
        return prime__error(PRIME_E_NOMEM, "prime_search: out of memory");
    prime_status st = prime_result_equal_images(r, store, smaller);
    if (st == PRIME_OK) {
        uint64_t k = 0;
        for (uint64_t i = 0; i < r->n_modes; i++)
            if (smaller[i] == UINT64_MAX)
                r->modes[k++] = r->modes[i];
        r->n_modes = k;
    }
    prime__free(smaller);
    return st;
}
