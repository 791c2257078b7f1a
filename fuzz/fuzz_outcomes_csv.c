/* Fuzz the outcomes CSV reader against a small fixed store. */
#include "outcomes_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_outcomes(data, size, "fuzz.csv",
                   "image,class,tags\na,fox,x|y\nb,fox,y\n\"c,1\",ape,x\n\xC3\xA9,ape,\n");
    return 0;
}
