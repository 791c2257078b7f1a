/* The outcomes vector: one value in [0, 1] per image, NaN while unset. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

prime_status prime_outcomes_create(uint32_t n, prime_outcomes **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_create: out is NULL");
    prime_outcomes *o = prime__calloc(1, sizeof *o);
    double *v = prime__malloc(((size_t)n + 1) * sizeof(double));
    if (o == NULL || v == NULL) {
        prime__free(o);
        prime__free(v);
        return prime__error(PRIME_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++)
        v[i] = NAN;
    o->n = n;
    o->v = v;
    *out = o;
    return PRIME_OK;
}

void prime_outcomes_destroy(prime_outcomes *o)
{
    if (o == NULL)
        return;
    prime__free(o->v);
    prime__free(o);
}

uint32_t prime_outcomes_count(const prime_outcomes *o)
{
    return o ? o->n : 0;
}

static prime_status check_value(double v, uint32_t index)
{
    if (!(v >= 0.0 && v <= 1.0))
        return prime__error(PRIME_E_RANGE, "outcome %g of image %u is outside [0, 1]", v, index);
    return PRIME_OK;
}

prime_status prime_outcomes_set(prime_outcomes *o, uint32_t index, double value)
{
    if (o == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_set: outcomes is NULL");
    if (index >= o->n)
        return prime__error(PRIME_E_INVALID_ARG, "image index %u out of range (%u outcomes)",
                            index, o->n);
    prime_status st = check_value(value, index);
    if (st != PRIME_OK)
        return st;
    o->v[index] = value;
    return PRIME_OK;
}

prime_status prime_outcomes_set_array(prime_outcomes *o, uint32_t first, const double *values,
                                      uint32_t n)
{
    if (o == NULL || (values == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_set_array: NULL argument");
    if (first > o->n || n > o->n - first)
        return prime__error(PRIME_E_INVALID_ARG,
                            "outcomes %u..%u out of range (%u outcomes)", first,
                            first + n, o->n);
    for (uint32_t i = 0; i < n; i++) {
        prime_status st = check_value(values[i], first + i);
        if (st != PRIME_OK)
            return st;
    }
    if (n > 0)
        memcpy(o->v + first, values, (size_t)n * sizeof(double));
    return PRIME_OK;
}

prime_status prime_outcomes_get(const prime_outcomes *o, uint32_t index, double *value_out)
{
    if (o == NULL || value_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_get: NULL argument");
    if (index >= o->n)
        return prime__error(PRIME_E_INVALID_ARG, "image index %u out of range (%u outcomes)",
                            index, o->n);
    if (isnan(o->v[index]))
        return prime__error(PRIME_E_NOT_FOUND, "image %u has no outcome", index);
    *value_out = o->v[index];
    return PRIME_OK;
}

int32_t prime_outcomes_is_binary(const prime_outcomes *o)
{
    if (o == NULL)
        return 0;
    for (uint32_t i = 0; i < o->n; i++)
        if (o->v[i] != 0.0 && o->v[i] != 1.0)
            return 0;
    return 1;
}

prime_status prime_outcomes_from_labels(const int64_t *labels, const int64_t *predictions,
                                        uint32_t n, prime_outcomes **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (out == NULL || ((labels == NULL || predictions == NULL) && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_outcomes_from_labels: NULL argument");
    prime_outcomes *o;
    prime_status st = prime_outcomes_create(n, &o);
    if (st != PRIME_OK)
        return st;
    for (uint32_t i = 0; i < n; i++)
        o->v[i] = labels[i] == predictions[i] ? 1.0 : 0.0;
    *out = o;
    return PRIME_OK;
}
