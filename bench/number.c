/* prime-bench-number: the time to write one double as the files carry it,
 * prime__format_double (lib/common/number.c) against the writer it replaced
 * (snprintf "%.15g", "%.16g", "%.17g" until strtod reads the text back as
 * the same double; kept here as it was). CPU time per double, best of 5
 * runs, over a million values of each kind; the two writers' texts are
 * compared on every value (exit status 1 on a difference). Reports figures,
 * not a timed test. Usage: prime-bench-number [--count N] */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "number_reference.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static volatile size_t sink_out;

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    if (argc == 3 && strcmp(argv[1], "--count") == 0)
        n = (size_t)strtoull(argv[2], NULL, 10);
    else if (argc != 1) {
        fprintf(stderr, "usage: prime-bench-number [--count N]\n");
        return 2;
    }
    if (n == 0)
        n = 1;
    double *v = malloc(n * sizeof *v);
    if (v == NULL)
        return 1;
    static const char *const kinds[] = {"accuracy k/n (n <= 10,000)", "drop a - b",
                                        "size (whole number)", "random in [1e-5, 1e5]",
                                        "random bit pattern"};
    int status = 0;
    printf("| values | old writer: ns | prime__format_double: ns | speed-up |\n|---|---|---|---|\n");
    for (int kind = 0; kind < 5; kind++) {
        for (size_t i = 0; i < n; i++) {
            uint64_t n1 = 1 + next() % 10000, n2 = 1 + next() % 10000;
            double a = (double)(next() % (n1 + 1)) / (double)n1;
            double b = (double)(next() % (n2 + 1)) / (double)n2;
            uint64_t bits = next();
            switch (kind) {
            case 0: v[i] = a; break;
            case 1: v[i] = b - a; break;
            case 2: v[i] = (double)(next() % 100000); break;
            case 3: v[i] = exp((double)(next() % 1000000) / 1e6 * 23.0 - 11.5); break;
            default: memcpy(&v[i], &bits, sizeof bits); break;
            }
        }
        char x[PRIME__DOUBLE_CHARS], y[40];
        for (size_t i = 0; i < n; i++) {
            size_t nx = prime__format_double(v[i], x), ny = number_reference(v[i], y);
            if (nx != ny || memcmp(x, y, nx + 1) != 0) {
                fprintf(stderr, "%a: old \"%s\", new \"%s\"\n", v[i], y, x);
                status = 1;
            }
        }
        double best_old = INFINITY, best_new = INFINITY;
        size_t sink = 0;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = cpu_seconds();
            for (size_t i = 0; i < n; i++)
                sink += number_reference(v[i], y);
            double t1 = cpu_seconds();
            for (size_t i = 0; i < n; i++)
                sink += prime__format_double(v[i], x);
            double t2 = cpu_seconds();
            best_old = fmin(best_old, (t1 - t0) / (double)n);
            best_new = fmin(best_new, (t2 - t1) / (double)n);
        }
        sink_out = sink; /* the calls are not optimised away */
        printf("| %s | %.0f | %.1f | %.0fx |\n", kinds[kind], best_old * 1e9, best_new * 1e9,
               best_old / best_new);
    }
    free(v);
    return status;
}
