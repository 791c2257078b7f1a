/* Threads: the CPU count and the one way the library runs a parallel loop
 * (the calling thread works too; a thread that cannot start leaves its
 * share to the others). */
#include <pthread.h>
#include <unistd.h>

#include "common/common.h"

uint32_t prime__cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (uint32_t)(n > PRIME__MAX_THREADS ? PRIME__MAX_THREADS : n);
}

uint32_t prime__run_workers(uint32_t n, void *(*worker)(void *), void *arg)
{
    if (n == 0)
        n = prime__cpu_count();
    if (n > PRIME__MAX_THREADS)
        n = PRIME__MAX_THREADS;
    pthread_t tid[PRIME__MAX_THREADS];
    uint32_t started = 0;
    for (uint32_t t = 1; t < n; t++) {
        if (pthread_create(&tid[started], NULL, worker, arg) != 0)
            break; /* the others do its share */
        started++;
    }
    worker(arg);
    for (uint32_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    return started + 1;
}
