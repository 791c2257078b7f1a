/* Fuzz the binary outcomes reader (lib/store/outcomes_bin.c) against a
 * small fixed store: any input is refused cleanly or gives one outcome in
 * [0, 1] per image. Seeds: files written for that store (kinds bits, fixed
 * point and f64), so mutations reach past the checksums' checks too when
 * libFuzzer's comparison tracing finds them. */
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prime_tagstore *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL) {
        static const char tags[] = "image,class,tags\na,fox,x|y\nb,fox,y\nc,ape,x\n";
        if (prime_tagstore_load_memory(tags, sizeof tags - 1, "store.csv", &store, NULL) !=
            PRIME_OK)
            __builtin_trap();
    }
    prime_outcomes *o = NULL;
    prime_status st = prime_outcomes_load_memory(data, size, "fuzz.pro", store, &o);
    if (st == PRIME_OK) {
        if (prime_outcomes_count(o) != prime_tagstore_image_count(store))
            __builtin_trap();
        for (uint32_t i = 0; i < prime_outcomes_count(o); i++) {
            double v;
            if (prime_outcomes_get(o, i, &v) != PRIME_OK || !(v >= 0 && v <= 1))
                __builtin_trap();
        }
    } else if (o != NULL) {
        __builtin_trap();
    }
    prime_outcomes_destroy(o);
    return 0;
}
