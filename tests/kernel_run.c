/* Runs a test program with PRIME_KERNEL forced to one kernel set:
 *
 *   kernel_run KERNEL PROGRAM [ARGS...]
 *
 * When this CPU cannot run KERNEL the test is reported as skipped (exit 77,
 * meson's skip status) rather than run under the fallback kernel, which
 * another entry already covers. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "search/kernels.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: kernel_run KERNEL PROGRAM [ARGS...]\n");
        return 2;
    }
    int id = prime__kernels_parse(argv[1]);
    if (id < 0) {
        fprintf(stderr, "kernel_run: '%s' is not a kernel set\n", argv[1]);
        return 2;
    }
    if (!(prime__kernels_supported() & (1u << id))) {
        printf("kernel '%s' is not supported by this CPU: skipped\n", argv[1]);
        return 77;
    }
    if (setenv("PRIME_KERNEL", argv[1], 1) != 0) {
        perror("kernel_run: setenv");
        return 2;
    }
    execv(argv[2], argv + 2);
    perror("kernel_run: execv");
    return 2;
}
