/* Progress lines on stderr, shown only on a terminal and only for work
 * longer than half a second (search) or always (tag, classify). */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

void progress_init(progress_state *p, const char *verb)
{
    *p = (progress_state){.enabled = isatty(STDERR_FILENO), .verb = verb};
    clock_gettime(CLOCK_MONOTONIC, &p->start);
}

int32_t progress_search(void *user, uint64_t done, uint64_t total)
{
    progress_state *p = user;
    if (!p->enabled || total == 0)
        return 0;
    double secs = elapsed(&p->start);
    if (secs < 0.5) /* short work gets no bar */
        return 0;
    int permille = (int)(done * 1000 / total);
    if (p->shown && permille == p->last_permille)
        return 0;
    p->shown = 1;
    p->last_permille = permille;
    int width = 40, fill = permille * width / 1000;
    char bar[64];
    for (int k = 0; k < width; k++)
        bar[k] = k < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\rsearching [%s] %5.1f%%  %.1fs", bar, permille / 10.0, secs);
    fflush(stderr);
    return 0;
}

int32_t progress_files(void *user, uint64_t done, uint64_t total)
{
    progress_state *p = user;
    if (!p->enabled)
        return 0;
    p->shown = 1;
    fprintf(stderr, "\r%s %llu/%llu images  %.1fs", p->verb != NULL ? p->verb : "tagging",
            (unsigned long long)done, (unsigned long long)total, elapsed(&p->start));
    fflush(stderr);
    return 0;
}

void progress_file_error(void *user, uint32_t index, prime_status st, const char *message)
{
    (void)index;
    progress_state *p = user;
    if (p->shown) {
        fprintf(stderr, "\r%*s\r", 70, "");
        p->shown = 0;
    }
    fprintf(stderr, "%s: %s (%s)\n", prog, message, prime_status_name(st));
}

void progress_end(progress_state *p)
{
    if (p->shown) {
        fprintf(stderr, "\r%*s\r", 70, "");
        fflush(stderr);
        p->shown = 0;
    }
}
