/* Columnar export of a result (issue 13): every failure mode's numbers in
 * caller-supplied arrays and their tags in CSR form, in one call, so that
 * bindings build data frames without one call per mode and field. */
#include <string.h>

#include "search/search.h"

uint64_t prime_result_mode_tag_total(const prime_result *r)
{
    return r != NULL ? r->n_mode_tags : 0;
}

prime_status prime_result_columns(const prime_result *r, uint32_t *class_index,
                                  uint64_t *size, double *correct, double *accuracy,
                                  double *class_accuracy, double *drop, uint64_t *tag_offsets,
                                  uint32_t *tag_ids)
{
    if (r == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_result_columns: result is NULL");
    uint64_t pos = 0;
    for (uint64_t i = 0; i < r->n_modes; i++) {
        const prime__mode *m = &r->modes[i];
        if (class_index != NULL)
            class_index[i] = m->class_index;
        if (size != NULL)
            size[i] = m->size;
        if (correct != NULL)
            correct[i] = m->correct;
        if (accuracy != NULL)
            accuracy[i] = m->accuracy;
        if (class_accuracy != NULL)
            class_accuracy[i] = r->classes[m->class_index].accuracy;
        if (drop != NULL)
            drop[i] = m->drop;
        if (tag_offsets != NULL)
            tag_offsets[i] = pos;
        if (tag_ids != NULL && m->n_tags > 0)
            memcpy(tag_ids + pos, r->mode_tags + m->tag_first, m->n_tags * sizeof(uint32_t));
        pos += m->n_tags;
    }
    if (tag_offsets != NULL)
        tag_offsets[r->n_modes] = pos;
    return PRIME_OK;
}
