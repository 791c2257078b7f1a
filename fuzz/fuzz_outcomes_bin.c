/* Fuzz the binary outcomes reader (lib/store/outcomes_bin.c) against a
 * small fixed store: any input is refused cleanly or gives one outcome in
 * [0, 1] per image. Seeds: files written for that store (kinds bits, fixed
 * point and f64), so mutations reach past the checksums' checks too when
 * libFuzzer's comparison tracing finds them. */
#include "outcomes_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_outcomes(data, size, "fuzz.pro", "image,class,tags\na,fox,x|y\nb,fox,y\nc,ape,x\n");
    return 0;
}
