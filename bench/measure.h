/* What the benchmark programs measure of themselves: CPU time (user +
 * system, getrusage) and the peak resident size (VmHWM of
 * /proc/self/status; -1 where it cannot be read). */
#ifndef PRIME_BENCH_MEASURE_H
#define PRIME_BENCH_MEASURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static inline double bench_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static inline double bench_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtod(line + 6, NULL);
    if (f)
        fclose(f);
    return kb;
}

static inline double bench_hwm_mb(void)
{
    return bench_hwm_kb() / 1024.0;
}

#endif /* PRIME_BENCH_MEASURE_H */
