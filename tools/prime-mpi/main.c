/* prime-mpi: `prime search` over the ranks of an MPI job (libprime-mpi,
 * include/prime/mpi.h; docs/scale.md).
 *
 *   mpirun -np K prime-mpi search [prime search's options] [--checkpoint DIR]
 *                                 [--progress]
 *
 * A thin client of the public API that reuses prime's option parsing and
 * output code (tools/prime/cli.h): the same options and outputs as `prime
 * search`, byte for byte. Per class, rank 0 hands out the classes
 * (prime_mpi_search_file: from a binary store with binary outcomes each
 * rank reads only the classes it searches, else it loads the whole
 * store); with --whole-dataset
 * each rank loads only its range of the images (from a sharded-store
 * folder, only its shards) and the counts are summed with MPI_Allreduce.
 * Only rank 0 prints messages and progress and writes the output, through
 * the library's writer, after the whole search: a failure on any rank
 * leaves no output file. Exit status as prime's: 0, 2 on bad usage, 1 on
 * bad input or failure (on every rank, so mpirun's status says it). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prime/mpi.h"
#include "../prime/cli.h"

const char *const prog = "prime-mpi";

static const char usage_text[] =
    "usage: mpirun -np K prime-mpi search --tags FILE|DIR.prmd [--outcomes FILE]\n"
    "                    [--max-tags L] [--min-size S] [--min-drop A] [--min-gain B1,B2,...]\n"
    "                    [--min-tag-count K] [--threads N] [--whole-dataset] [--fold-equal]\n"
    "                    [--format json|csv|text] [--output FILE]\n"
    "                    [--checkpoint DIR] [--progress]\n"
    "       prime-mpi --version | --help\n"
    "\n"
    "search   prime search over the ranks of an MPI job, with the same options and the\n"
    "         same output (docs/scale.md). Per class, rank 0 hands out the classes,\n"
    "         largest estimated cost first; each rank reads only the classes it\n"
    "         searches from a binary store with binary outcomes, else it loads the\n"
    "         whole store; with\n"
    "         --whole-dataset each rank loads only its range of the images (of a\n"
    "         binary store with an outcomes file, or of the shards of DIR.prmd with an\n"
    "         outcomes CSV) and the counts are summed over the ranks. --threads is per\n"
    "         rank.\n"
    "         --checkpoint DIR: rank 0 keeps each finished class there (with\n"
    "         --whole-dataset: the state after each level), so that a rerun after a\n"
    "         failure (a killed rank) searches only what is left and writes the\n"
    "         result an uninterrupted run writes.\n"
    "         --progress: progress lines from rank 0 on stderr even when it is not a\n"
    "         terminal (a batch job's log).\n"
    "         Only rank 0 writes the output, after the whole search; without --format\n"
    "         it is JSON, also on a terminal (rank 0's stdout is mpirun's terminal).\n";

/* ---- progress on rank 0 ---- */

typedef struct {
    int tty, lines; /* a terminal: one rewritten line; --progress: a line each */
    int whole;
    struct timespec start;
    double last;
    uint64_t last_done; /* + 1: 0 = nothing shown yet */
    int shown;
} mpi_progress;

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int32_t on_progress(void *user, uint64_t done, uint64_t total)
{
    mpi_progress *p = user;
    if (!p->tty && !p->lines)
        return 0;
    double t = seconds_since(&p->start);
    if ((done < total && t - p->last < (p->tty ? 0.2 : 1.0)) || done + 1 == p->last_done)
        return 0;
    p->last = t;
    p->last_done = done + 1;
    char what[64];
    if (p->whole) /* the sharded search's units: levels, in parts */
        snprintf(what, sizeof what, "%.0f%% of the levels", total ? 100.0 * done / total : 0.0);
    else
        snprintf(what, sizeof what, "%llu/%llu classes", (unsigned long long)done,
                 (unsigned long long)total);
    if (p->tty)
        fprintf(stderr, "\r%s: searched %s  %.1fs", prog, what, t);
    else
        fprintf(stderr, "%s: searched %s  %.1fs\n", prog, what, t);
    p->shown = p->tty;
    fflush(stderr);
    return 0;
}

/* ---- search ---- */

typedef struct {
    const char *checkpoint;
    int progress;
} mpi_opts;

enum { X_CHECKPOINT, X_PROGRESS };
static const opt_spec extra_specs[] = {
    {"--checkpoint", OPT_VALUE}, {"--progress", OPT_FLAG}, {NULL, 0}};

static int on_extra(int k, const char *v, void *user)
{
    mpi_opts *m = user;
    if (k == X_CHECKPOINT)
        m->checkpoint = v;
    else
        m->progress = 1;
    return 0;
}

/* rank 0's message of a failure every rank has agreed on */
static int mpi_error(int rank, prime_status st)
{
    return rank == 0 ? lib_error(st) : EXIT_FAIL;
}

static int run_search(int rank, int argc, char **argv)
{
    search_args a;
    mpi_opts m = {0};
    /* every rank parses the same arguments: they agree; only rank 0 says */
    int saved = -1;
    if (rank != 0) {
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDERR_FILENO);
            close(null);
        }
    }
    int rc = search_parse(argc, argv, extra_specs, on_extra, &m, &a);
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (rc != 0)
        return rc;
    if (a.stream) { /* the modes of all ranks are merged before output */
        if (rank == 0)
            usage_error("%s", "prime-mpi search writes the merged result; it cannot --stream");
        prime_config_destroy(a.cfg);
        return EXIT_USAGE;
    }
    /* mpirun gives rank 0 a terminal of its own for stdout, whatever the
       job's stdout is: JSON unless --format says otherwise */
    if (!a.format_given)
        a.format = PRIME_FORMAT_JSON;

    /* the output is checked before the work, on rank 0 */
    const char *inputs[] = {a.tags, a.outcomes};
    int bad = 0;
    if (rank == 0)
        bad = check_outputs(inputs, 2, &a.output, a.output != NULL) != 0;
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (bad) {
        prime_config_destroy(a.cfg);
        return EXIT_FAIL;
    }

    prime_tagstore *store = NULL;
    prime_outcomes *outcomes = NULL;
    prime_result *result = NULL;
    uint32_t first = 0, count = 0;
    /* per class, prime_mpi_search_file loads what each rank needs */
    prime_status st = a.whole ? prime_mpi_load_part(MPI_COMM_WORLD, a.tags, a.outcomes, &store,
                                                    &outcomes, &first, &count, NULL)
                              : PRIME_OK;
    if (st != PRIME_OK)
        rc = mpi_error(rank, st);
    if (rc == 0) {
        mpi_progress p = {.tty = rank == 0 && isatty(STDERR_FILENO),
                          .lines = rank == 0 && m.progress,
                          .whole = a.whole};
        clock_gettime(CLOCK_MONOTONIC, &p.start);
        /* whole data set: a state left by an earlier run is resumed */
        char state_path[4096];
        int had_state = 0;
        if (a.whole && m.checkpoint != NULL && rank == 0) {
            snprintf(state_path, sizeof state_path, "%s/whole.state", m.checkpoint);
            had_state = access(state_path, F_OK) == 0;
        }
        st = a.whole ? prime_mpi_search_part_resume(MPI_COMM_WORLD, store, outcomes, first,
                                                    count, a.cfg, m.checkpoint, on_progress,
                                                    &p, &result)
                     : prime_mpi_search_file(MPI_COMM_WORLD, a.tags, a.outcomes, a.cfg,
                                             m.checkpoint, on_progress, &p, &result);
        if (rank == 0 && st == PRIME_OK && had_state && (p.tty || p.lines))
            fprintf(stderr, "%s: resumed from %s\n", prog, state_path);
        if (p.shown)
            fprintf(stderr, "\r%*s\r", 70, "");
        uint32_t resumed = prime_mpi_resumed_classes();
        if (rank == 0 && st == PRIME_OK && resumed > 0 && (p.tty || p.lines))
            fprintf(stderr, "%s: %u classes resumed from %s\n", prog, resumed, m.checkpoint);
        if (st != PRIME_OK)
            rc = mpi_error(rank, st);
        else if (rank == 0)
            rc = search_emit(result, a.format, a.output);
    }
    prime_result_destroy(result);
    prime_outcomes_destroy(outcomes);
    prime_tagstore_destroy(store);
    prime_config_destroy(a.cfg);
    return rc;
}

static int run(int rank, int argc, char **argv)
{
    if (argc < 2) {
        if (rank == 0)
            usage_error("a command is needed: search");
        return EXIT_USAGE;
    }
    for (int k = 1; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0 ||
            (k == 1 && strcmp(argv[k], "help") == 0)) {
            if (rank == 0)
                fputs(usage_text, stdout);
            return 0;
        }
    if (strcmp(argv[1], "--version") == 0) {
        if (rank == 0)
            printf("prime-mpi %s (libprime %s, libprime-mpi %s)\n", PRIME_VERSION_STRING,
                   prime_version(), prime_mpi_version());
        return 0;
    }
    if (strcmp(argv[1], "search") != 0) {
        if (rank == 0)
            usage_error("unknown command '%s'", argv[1]);
        return EXIT_USAGE;
    }
    return run_search(rank, argc - 2, argv + 2);
}

int main(int argc, char **argv)
{
    int provided = 0, rank = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init_thread failed\n", prog);
        return EXIT_FAIL;
    }
    catch_signals();
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int rc = run(rank, argc, argv);
    if (rank == 0 && fflush(stdout) != 0)
        rc = rc != 0 ? rc : fail("cannot write the output");
    MPI_Finalize();
    return rc;
}
