/* Fuzz the binary store loader: any bytes must be rejected or give a store
 * whose every accessor stays in bounds. Most mutations are stopped by the
 * checksums; fuzz_store_fixed.c reaches the validation behind them. */
#include "store_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_open_store(data, size);
    return 0;
}
