/* Loads libprime-torch, and with it libtorch and its dependencies, and prints
 * their versions. scripts/test.sh runs it under valgrind before the torch
 * tests (tests/valgrind/torch_probe.sh): on some CPUs valgrind 3.19 cannot
 * decode an instruction that a static initialiser of a libtorch dependency
 * runs (libhwy's RDTSCP), and the process dies with SIGILL before main. */
#include <stdio.h>

#include <prime/prime.h>
#include <prime/torch.h>

int main(void)
{
    printf("libprime-torch %s, libtorch %s, libprime %s\n", prime_torch_version(),
           prime_torch_libtorch_version(), prime_version());
    return 0;
}
