/*
 * prime-bench: time libprime on RAM-like synthetic data (see synth.h).
 *
 *   prime-bench [--quick] [--vocab FILE] [--reps N] [--tmpdir DIR]
 *               [--only living17,imagenet,csv,memory]
 *
 * Sections (full size; --quick shrinks them to a smoke run):
 *   Living17-like  17 classes x 5,200 images, default search (max_tags 4),
 *                  threads 1 and 2; target <= 25 ms.
 *   ImageNet-like  1,000 classes x 1,280 images saved to a temporary store;
 *                  wall time of prime_tagstore_open + prime_search; target
 *                  <= 1 s.
 *   CSV reading    prime_tagstore_load of a ~100 MB generated CSV; target
 *                  >= 300 MB/s (MB = 10^6 bytes; the file is in the page
 *                  cache).
 *   Peak memory    a child process that only opens the ImageNet-like store,
 *                  reads its outcomes and searches; its peak resident size
 *                  compared with the packed bitsets (sum over classes of
 *                  distinct tags x ceil(n_c / 64) x 8 bytes) plus the names.
 *
 * Every section also checks that the search finds the planted failure modes
 * that meet the default criteria; the exit status is 1 when one is missed or
 * a libprime call fails (targets that are not met are reported, not fatal).
 *
 * Driver mode, used by bench/run.sh to compare with bench/baseline.py:
 *   prime-bench --search TAGS [--outcomes FILE] [--threads N] [--reps N]
 * prints the failure modes as "class<TAB>tag|tag<TAB>size<TAB>correct" lines
 * and the median search time on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"
#include "prime/prime.h"
#include "synth.h"

#ifndef PRIME_SOURCE_ROOT
#define PRIME_SOURCE_ROOT "."
#endif

/* ---- small helpers -------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double min_of(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static int failures = 0;

static void fail_status(const char *what, prime_status st)
{
    fprintf(stderr, "prime-bench: %s: %s: %s\n", what, prime_status_name(st), prime_last_error());
    failures++;
}

/* Result table, printed at the end. */
typedef struct {
    char section[40];
    char metric[48];
    char median[24];
    char min[24];
    char target[20];
    char ok[8];
} row;

static row rows[64];
static int n_rows = 0;

static void add_row(const char *section, const char *metric, const char *median,
                    const char *min, const char *target, const char *ok)
{
    if (n_rows >= 64)
        return;
    row *r = &rows[n_rows++];
    snprintf(r->section, sizeof r->section, "%s", section);
    snprintf(r->metric, sizeof r->metric, "%s", metric);
    snprintf(r->median, sizeof r->median, "%s", median);
    snprintf(r->min, sizeof r->min, "%s", min);
    snprintf(r->target, sizeof r->target, "%s", target);
    snprintf(r->ok, sizeof r->ok, "%s", ok);
}

static void fmt_ms(char *buf, size_t cap, double s)
{
    if (s < 0.01)
        snprintf(buf, cap, "%.2f ms", s * 1e3);
    else
        snprintf(buf, cap, "%.1f ms", s * 1e3);
}

static void print_table(void)
{
    printf("\n%-28s %-38s %12s %12s %12s %5s\n", "section", "metric", "median", "min", "target",
           "met");
    printf("%.*s\n", 112,
           "----------------------------------------------------------------------------------"
           "----------------------------------------------------------------------------------");
    for (int i = 0; i < n_rows; i++)
        printf("%-28s %-38s %12s %12s %12s %5s\n", rows[i].section, rows[i].metric,
               rows[i].median, rows[i].min, rows[i].target, rows[i].ok);
}

/* Are the planted modes that meet the default criteria in the result? */
static void check_planted(const synth_data *d, const prime_result *res, const char *section)
{
    uint64_t n_modes = prime_result_mode_count(res);
    uint32_t expected = 0, found = 0;
    for (uint32_t j = 0; j < d->n_planted; j++) {
        const synth_planted *pl = &d->planted[j];
        if (!pl->meets_defaults)
            continue;
        expected++;
        const char *cls = d->class_names[pl->cls];
        for (uint64_t i = 0; i < n_modes; i++) {
            const char *mc = prime_result_mode_class_name(res, i);
            if (!mc || strcmp(mc, cls) != 0)
                continue;
            uint32_t nt = 0;
            prime_result_mode_info(res, i, NULL, &nt, NULL, NULL, NULL, NULL, NULL);
            if (nt != pl->n_tags)
                continue;
            bool same = true;
            for (uint32_t t = 0; t < nt && same; t++) {
                const char *tn = prime_result_mode_tag_name(res, i, t);
                same = tn && strcmp(tn, d->vocab->names[pl->tags[t]]) == 0;
            }
            if (same) {
                found++;
                break;
            }
        }
    }
    printf("  %s: %llu failure modes; planted modes meeting the defaults found: %u of %u "
           "(%u planted)\n",
           section, (unsigned long long)n_modes, found, expected, d->n_planted);
    if (found != expected) {
        fprintf(stderr, "prime-bench: %s: %u planted failure modes were not found\n", section,
                expected - found);
        failures++;
    }
}

static bool generate(const synth_params *p, const synth_vocab *v, synth_data *d)
{
    char err[256];
    if (!synth_generate(p, v, d, err, sizeof err)) {
        fprintf(stderr, "prime-bench: generator: %s\n", err);
        failures++;
        return false;
    }
    return true;
}

/* Generates the data set of p, announced as `section`, and builds its
 * store and outcomes; false (the failure reported) when either fails.
 * *t_build gets the build's seconds. */
static bool generate_store(const synth_params *p, const synth_vocab *v, const char *section,
                           synth_data *d, prime_tagstore **store, prime_outcomes **oc,
                           double *t_build)
{
    printf("%s: generating ...\n", section);
    fflush(stdout);
    if (!generate(p, v, d))
        return false;
    double t0 = now_s();
    prime_status st = synth_build_store(d, store, oc);
    *t_build = now_s() - t0;
    if (st != PRIME_OK) {
        fail_status("build store", st);
        synth_data_free(d);
        return false;
    }
    return true;
}

/* ---- Living17-like -------------------------------------------------------- */

/* The 17 classes of BREEDS Living-17. */
#define LIVING17_CLASSES                                                              \
    "salamander,turtle,lizard,snake,spider,grouse,parrot,crab,dog,wolf,fox,domestic cat," \
    "bear,beetle,butterfly,ape,monkey"

static void bench_living17(const synth_vocab *v, bool quick, int reps)
{
    synth_params p;
    synth_params_default(&p);
    p.classes = 17;
    p.images_per_class = quick ? 1000 : 5200;
    p.planted = 34;
    p.seed = 17;
    p.class_list = LIVING17_CLASSES;
    char section[40];
    snprintf(section, sizeof section, "Living17-like %ux%u", p.classes, p.images_per_class);
    synth_data d;
    prime_tagstore *store = NULL;
    prime_outcomes *oc = NULL;
    double t_build;
    if (!generate_store(&p, v, section, &d, &store, &oc, &t_build))
        return;
    printf("  %u images, %u tags, %llu tag refs; store built in %.1f ms\n",
           prime_tagstore_image_count(store), prime_tagstore_tag_count(store),
           (unsigned long long)prime_tagstore_tag_ref_count(store), t_build * 1e3);

    for (int threads = 1; threads <= 2; threads++) {
        prime_config *cfg = NULL;
        prime_status st = prime_config_create(&cfg);
        if (st == PRIME_OK)
            st = prime_config_set_int(cfg, PRIME_PARAM_THREADS, threads);
        if (st != PRIME_OK) {
            fail_status("config", st);
            prime_config_destroy(cfg);
            break;
        }
        double *t = calloc((size_t)reps, sizeof *t);
        prime_result *res = NULL;
        for (int r = 0; r < reps && t; r++) {
            prime_result_destroy(res);
            res = NULL;
            double s0 = now_s();
            st = prime_search(store, oc, cfg, NULL, NULL, &res);
            t[r] = now_s() - s0;
            if (st != PRIME_OK) {
                fail_status("search", st);
                break;
            }
        }
        if (st == PRIME_OK && t) {
            char metric[48], med[24], mn[24];
            snprintf(metric, sizeof metric, "search, threads=%d (%d reps)", threads, reps);
            double mi = min_of(t, reps), me = median_of(t, reps);
            fmt_ms(med, sizeof med, me);
            fmt_ms(mn, sizeof mn, mi);
            add_row(section, metric, med, mn, quick ? "(quick)" : "<= 25 ms",
                    quick ? "-" : (me <= 0.025 ? "yes" : "NO"));
            if (threads == 1) {
                char label[64];
                snprintf(label, sizeof label, "Living17-like threads=%d", threads);
                check_planted(&d, res, label);
            }
        }
        free(t);
        prime_result_destroy(res);
        prime_config_destroy(cfg);
    }
    prime_outcomes_destroy(oc);
    prime_tagstore_destroy(store);
    synth_data_free(&d);
}

/* ---- ImageNet-like + peak memory ------------------------------------------ */

static bool write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, n, f) == n;
    return (fclose(f) == 0) && ok;
}

/* Path of this program (readlink of /proc/self/exe at start-up, which
 * valgrind also answers with the client's path). */
static char self_exe[4096] = "/proc/self/exe";

/* Run this program again as a child with args; read its stdout (one line) and
 * its rusage. */
static bool run_child(char *const args[], char *line, size_t cap, struct rusage *ru)
{
    int fd[2];
    if (pipe(fd) != 0)
        return false;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return false;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execv(self_exe, args);
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fd[0], line + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    line[len] = '\0';
    close(fd[0]);
    int status = 0;
    if (wait4(pid, &status, 0, ru) < 0)
        return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Child: open the store, read the outcomes (one byte per image), search with
 * the defaults, print the peak resident size. */
static int child_mem(const char *store_path, const char *outcomes_path)
{
    prime_tagstore *store = NULL;
    prime_status st = prime_tagstore_open(store_path, &store);
    if (st != PRIME_OK) {
        fprintf(stderr, "child: open: %s\n", prime_last_error());
        return 1;
    }
    uint32_t n = prime_tagstore_image_count(store);
    uint8_t *raw = malloc(n ? n : 1);
    double *vals = malloc(4096 * sizeof *vals);
    FILE *f = fopen(outcomes_path, "rb");
    if (!raw || !vals || !f || fread(raw, 1, n, f) != n) {
        fprintf(stderr, "child: cannot read %s\n", outcomes_path);
        return 1;
    }
    fclose(f);
    prime_outcomes *oc = NULL;
    st = prime_outcomes_create(n, &oc);
    for (uint32_t i = 0; i < n && st == PRIME_OK; i += 4096) {
        uint32_t m = n - i < 4096 ? n - i : 4096;
        for (uint32_t j = 0; j < m; j++)
            vals[j] = raw[i + j];
        st = prime_outcomes_set_array(oc, i, vals, m);
    }
    free(raw);
    free(vals);
    prime_result *res = NULL;
    if (st == PRIME_OK)
        st = prime_search(store, oc, NULL, NULL, NULL, &res);
    if (st != PRIME_OK) {
        fprintf(stderr, "child: %s\n", prime_last_error());
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%ld %ld %llu\n", (long)bench_hwm_kb(), (long)ru.ru_maxrss,
           (unsigned long long)prime_result_mode_count(res));
    prime_result_destroy(res);
    prime_outcomes_destroy(oc);
    prime_tagstore_destroy(store);
    return 0;
}

typedef struct {
    double bitset_bytes;
    double name_bytes;
} ideal_size;

static ideal_size packed_size(const synth_data *d)
{
    ideal_size z = {0, 0};
    uint32_t nv = d->vocab->count;
    uint32_t *stamp = calloc(nv, sizeof *stamp);
    uint8_t *used = calloc(nv, 1);
    if (!stamp || !used) {
        free(stamp);
        free(used);
        return z;
    }
    uint32_t npc = d->params.images_per_class;
    for (uint32_t c = 0; c < d->n_classes; c++) {
        uint32_t distinct = 0;
        for (uint32_t i = c * npc; i < (c + 1) * npc; i++)
            for (uint64_t j = d->tag_off[i]; j < d->tag_off[i + 1]; j++) {
                uint32_t t = d->tags[j];
                if (stamp[t] != c + 1) {
                    stamp[t] = c + 1;
                    distinct++;
                }
                used[t] = 1;
            }
        z.bitset_bytes += (double)distinct * (double)((npc + 63) / 64) * 8.0;
        z.name_bytes += (double)strlen(d->class_names[c]) + 1;
    }
    char name[24];
    for (uint32_t i = 0; i < d->n_images; i++) {
        synth_image_name(i, name);
        z.name_bytes += (double)strlen(name) + 1;
    }
    for (uint32_t t = 0; t < nv; t++)
        if (used[t])
            z.name_bytes += (double)strlen(d->vocab->names[t]) + 1;
    free(stamp);
    free(used);
    return z;
}

static void bench_imagenet(const synth_vocab *v, bool quick, int reps, const char *tmpdir,
                           bool do_time, bool do_mem)
{
    synth_params p;
    synth_params_default(&p);
    p.classes = quick ? 100 : 1000;
    p.images_per_class = quick ? 200 : 1280;
    p.planted = p.classes;
    p.seed = 1000;
    p.class_names = SYNTH_NAMES_NUMBERED;
    char section[40];
    snprintf(section, sizeof section, "ImageNet-like %ux%u", p.classes, p.images_per_class);
    synth_data d;
    prime_tagstore *store = NULL;
    prime_outcomes *oc = NULL;
    double t_build;
    if (!generate_store(&p, v, section, &d, &store, &oc, &t_build))
        return;
    char store_path[4096], oc_path[4096];
    snprintf(store_path, sizeof store_path, "%s/prime-bench-%ld.store", tmpdir, (long)getpid());
    snprintf(oc_path, sizeof oc_path, "%s/prime-bench-%ld.outcomes", tmpdir, (long)getpid());
    double t0 = now_s();
    prime_status st = prime_tagstore_save(store, store_path);
    double t_save = now_s() - t0;
    printf("  %u images, %u tags, %llu tag refs; built in %.2f s, saved in %.2f s\n",
           prime_tagstore_image_count(store), prime_tagstore_tag_count(store),
           (unsigned long long)prime_tagstore_tag_ref_count(store), t_build, t_save);
    prime_tagstore_destroy(store);
    store = NULL;
    if (st != PRIME_OK) {
        fail_status("save store", st);
        prime_outcomes_destroy(oc);
        synth_data_free(&d);
        return;
    }
    struct stat sb;
    if (stat(store_path, &sb) == 0)
        printf("  store file: %.1f MB\n", (double)sb.st_size / 1e6);

    if (do_time) {
        double *t_open = calloc((size_t)reps, sizeof(double));
        double *t_search = calloc((size_t)reps, sizeof(double));
        double *t_total = calloc((size_t)reps, sizeof(double));
        prime_result *res = NULL;
        int done = 0;
        for (int r = 0; r < reps && t_open && t_search && t_total; r++) {
            prime_result_destroy(res);
            res = NULL;
            double a = now_s();
            st = prime_tagstore_open(store_path, &store);
            double b = now_s();
            if (st == PRIME_OK)
                st = prime_search(store, oc, NULL, NULL, NULL, &res);
            double c = now_s();
            prime_tagstore_destroy(store);
            store = NULL;
            if (st != PRIME_OK) {
                fail_status("open + search", st);
                break;
            }
            t_open[r] = b - a;
            t_search[r] = c - b;
            t_total[r] = c - a;
            done++;
        }
        if (done == reps) {
            char med[24], mn[24], metric[48];
            snprintf(metric, sizeof metric, "open (%d reps)", reps);
            fmt_ms(mn, sizeof mn, min_of(t_open, reps));
            fmt_ms(med, sizeof med, median_of(t_open, reps));
            add_row(section, metric, med, mn, "", "");
            snprintf(metric, sizeof metric, "search, threads=%ld", sysconf(_SC_NPROCESSORS_ONLN));
            fmt_ms(mn, sizeof mn, min_of(t_search, reps));
            fmt_ms(med, sizeof med, median_of(t_search, reps));
            add_row(section, metric, med, mn, "", "");
            double me = median_of(t_total, reps);
            fmt_ms(mn, sizeof mn, min_of(t_total, reps));
            fmt_ms(med, sizeof med, me);
            add_row(section, "open + search (wall)", med, mn, quick ? "(quick)" : "<= 1 s",
                    quick ? "-" : (me <= 1.0 ? "yes" : "NO"));
            check_planted(&d, res, "ImageNet-like");
        }
        prime_result_destroy(res);
        free(t_open);
        free(t_search);
        free(t_total);
    }
    prime_outcomes_destroy(oc);

    if (do_mem) {
        ideal_size z = packed_size(&d);
        bool ok = write_bytes(oc_path, d.correct, d.n_images);
        /* free the data first so that the forked child starts small */
        synth_data_free(&d);
        char line[256];
        struct rusage ru0, ru1;
        char *noop_args[] = {"prime-bench", "--child-noop", NULL};
        char *mem_args[] = {"prime-bench", "--child-mem", store_path, oc_path, NULL};
        long hwm0 = 0, hwm1 = 0, rss_self = 0;
        unsigned long long modes = 0;
        if (ok && run_child(noop_args, line, sizeof line, &ru0))
            hwm0 = strtol(line, NULL, 10);
        else
            ok = false;
        if (ok && run_child(mem_args, line, sizeof line, &ru1) &&
            sscanf(line, "%ld %ld %llu", &hwm1, &rss_self, &modes) == 3) {
            char a[24], b[24], metric[48];
            double ideal = z.bitset_bytes + z.name_bytes;
            printf("  peak memory: child VmHWM %.1f MB (empty child %.1f MB), child ru_maxrss "
                   "%.1f MB (wait4: %.1f MB), %llu modes\n",
                   hwm1 / 1024.0, hwm0 / 1024.0, rss_self / 1024.0, ru1.ru_maxrss / 1024.0,
                   modes);
            printf("  packed bitsets %.1f MB + names %.1f MB = %.1f MB\n", z.bitset_bytes / 1e6,
                   z.name_bytes / 1e6, ideal / 1e6);
            snprintf(a, sizeof a, "%.1f MB", hwm1 * 1024.0 / 1e6);
            add_row(section, "peak RSS open+search (VmHWM)", a, "", "", "");
            snprintf(a, sizeof a, "%.1f MB", (hwm1 - hwm0) * 1024.0 / 1e6);
            add_row(section, "  net of an empty process", a, "", "", "");
            snprintf(a, sizeof a, "%.1f MB", ideal / 1e6);
            snprintf(b, sizeof b, "%.2fx", (hwm1 - hwm0) * 1024.0 / ideal);
            snprintf(metric, sizeof metric, "packed bitsets + names; net/that");
            add_row(section, metric, a, b, "", "");
        } else {
            fprintf(stderr, "prime-bench: memory child failed\n");
            failures++;
        }
    } else {
        synth_data_free(&d);
    }
    remove(store_path);
    remove(oc_path);
}

/* ---- CSV reading ------------------------------------------------------------ */

static void bench_csv(const synth_vocab *v, bool quick, int reps, const char *tmpdir)
{
    synth_params p;
    synth_params_default(&p);
    p.classes = quick ? 100 : 1000;
    p.images_per_class = quick ? 400 : 690;
    p.planted = p.classes;
    p.seed = 300;
    p.class_names = SYNTH_NAMES_RAM;
    char path[4096];
    snprintf(path, sizeof path, "%s/prime-bench-%ld.csv", tmpdir, (long)getpid());
    synth_data d;
    printf("CSV reading: generating ...\n");
    fflush(stdout);
    if (!generate(&p, v, &d))
        return;
    FILE *f = fopen(path, "wb");
    bool ok = f && synth_write_csv(&d, f, true);
    if (f && fclose(f) != 0)
        ok = false;
    uint32_t n_images = d.n_images;
    synth_data_free(&d);
    struct stat sb;
    if (!ok || stat(path, &sb) != 0) {
        fprintf(stderr, "prime-bench: cannot write %s\n", path);
        failures++;
        remove(path);
        return;
    }
    double mb = (double)sb.st_size / 1e6;
    double *t = calloc((size_t)reps, sizeof *t);
    int done = 0;
    for (int r = 0; r < reps && t; r++) {
        prime_tagstore *store = NULL;
        prime_outcomes *oc = NULL;
        double a = now_s();
        prime_status st = prime_tagstore_load(path, &store, &oc);
        t[r] = now_s() - a;
        if (st == PRIME_OK && (prime_tagstore_image_count(store) != n_images || !oc)) {
            fprintf(stderr, "prime-bench: CSV read back %u images (want %u), outcomes %s\n",
                    prime_tagstore_image_count(store), n_images, oc ? "present" : "missing");
            failures++;
            st = PRIME_E_MISMATCH;
        } else if (st != PRIME_OK) {
            fail_status("load CSV", st);
        }
        prime_outcomes_destroy(oc);
        prime_tagstore_destroy(store);
        if (st != PRIME_OK)
            break;
        done++;
    }
    if (done == reps) {
        char section[40], metric[48], med[24], mn[24];
        snprintf(section, sizeof section, "CSV %.0f MB, %u rows", mb, n_images);
        double me = median_of(t, reps), mi = min_of(t, reps);
        snprintf(metric, sizeof metric, "prime_tagstore_load time (%d reps)", reps);
        fmt_ms(med, sizeof med, me);
        fmt_ms(mn, sizeof mn, mi);
        add_row(section, metric, med, mn, "", "");
        snprintf(med, sizeof med, "%.0f MB/s", mb / me);
        snprintf(mn, sizeof mn, "%.0f MB/s", mb / mi);
        add_row(section, "throughput (median, best)", med, mn, quick ? "(quick)" : ">= 300 MB/s",
                quick ? "-" : (mb / me >= 300.0 ? "yes" : "NO"));
    }
    free(t);
    remove(path);
}

/* ---- driver mode -------------------------------------------------------------- */

static int driver(const char *tags, const char *outcomes, int threads, int reps)
{
    prime_tagstore *store = NULL;
    prime_outcomes *oc = NULL;
    prime_status st = prime_tagstore_load(tags, &store, &oc);
    if (st == PRIME_OK && outcomes) {
        prime_outcomes_destroy(oc);
        oc = NULL;
        st = prime_outcomes_load(outcomes, store, &oc);
    }
    if (st == PRIME_OK && !oc) {
        fprintf(stderr, "prime-bench: %s has no outcomes; give --outcomes\n", tags);
        prime_tagstore_destroy(store);
        return 1;
    }
    prime_config *cfg = NULL;
    if (st == PRIME_OK)
        st = prime_config_create(&cfg);
    if (st == PRIME_OK)
        st = prime_config_set_int(cfg, PRIME_PARAM_THREADS, threads);
    double *t = calloc((size_t)reps, sizeof *t);
    prime_result *res = NULL;
    for (int r = 0; r < reps && st == PRIME_OK && t; r++) {
        prime_result_destroy(res);
        res = NULL;
        double a = now_s();
        st = prime_search(store, oc, cfg, NULL, NULL, &res);
        t[r] = now_s() - a;
    }
    if (st != PRIME_OK) {
        fprintf(stderr, "prime-bench: %s: %s\n", prime_status_name(st), prime_last_error());
        free(t);
        prime_result_destroy(res);
        prime_config_destroy(cfg);
        prime_outcomes_destroy(oc);
        prime_tagstore_destroy(store);
        return 1;
    }
    uint64_t n = prime_result_mode_count(res);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t nt = 0;
        uint64_t size = 0;
        double correct = 0;
        prime_result_mode_info(res, i, NULL, &nt, &size, &correct, NULL, NULL, NULL);
        printf("%s\t", prime_result_mode_class_name(res, i));
        for (uint32_t j = 0; j < nt; j++)
            printf("%s%s", j ? "|" : "", prime_result_mode_tag_name(res, i, j));
        printf("\t%llu\t%.0f\n", (unsigned long long)size, correct);
    }
    double mi = min_of(t, reps), me = median_of(t, reps);
    fprintf(stderr, "C search: %llu modes, median %.3f ms, min %.3f ms over %d reps, threads=%d\n",
            (unsigned long long)n, me * 1e3, mi * 1e3, reps, threads);
    free(t);
    prime_result_destroy(res);
    prime_config_destroy(cfg);
    prime_outcomes_destroy(oc);
    prime_tagstore_destroy(store);
    return 0;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: prime-bench [--quick] [--vocab FILE] [--reps N] [--tmpdir DIR]\n"
          "                   [--only living17,imagenet,csv,memory]\n"
          "       prime-bench --search TAGS [--outcomes FILE] [--threads N] [--reps N]\n",
          f);
}

int main(int argc, char **argv)
{
    bool quick = false;
    int reps = 0, threads = 1;
    const char *vocab_path = PRIME_SOURCE_ROOT "/data/ram/ram_tag_list.txt";
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    const char *only = NULL, *search = NULL, *outcomes = NULL;

    if (argc >= 2 && !strcmp(argv[1], "--child-noop")) {
        printf("%ld 0 0\n", (long)bench_hwm_kb());
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "--child-mem"))
        return child_mem(argv[2], argv[3]);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            quick = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (val && !strcmp(a, "--vocab")) {
            vocab_path = val;
            i++;
        } else if (val && !strcmp(a, "--reps")) {
            reps = atoi(val);
            i++;
        } else if (val && !strcmp(a, "--threads")) {
            threads = atoi(val);
            i++;
        } else if (val && !strcmp(a, "--tmpdir")) {
            tmpdir = val;
            i++;
        } else if (val && !strcmp(a, "--only")) {
            only = val;
            i++;
        } else if (val && !strcmp(a, "--search")) {
            search = val;
            i++;
        } else if (val && !strcmp(a, "--outcomes")) {
            outcomes = val;
            i++;
        } else {
            fprintf(stderr, "prime-bench: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (reps < 0 || threads < 0) {
        fprintf(stderr, "prime-bench: bad --reps or --threads\n");
        return 2;
    }
    if (search)
        return driver(search, outcomes, threads, reps ? reps : 5);

    synth_vocab vocab;
    char err[256];
    if (!synth_vocab_load(vocab_path, &vocab, err, sizeof err)) {
        fprintf(stderr, "prime-bench: %s\n", err);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    {
        ssize_t l = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
        if (l > 0)
            self_exe[l] = '\0';
        else
            snprintf(self_exe, sizeof self_exe, "%s", "/proc/self/exe");
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("prime-bench (%s): libprime %s, %ld online CPUs, vocabulary %u tags\n",
           quick ? "quick" : "full", prime_version(), ncpu, vocab.count);
    bool all = only == NULL;
    if (all || strstr(only, "living17"))
        bench_living17(&vocab, quick, reps ? reps : (quick ? 3 : 15));
    bool t_in = all || strstr(only, "imagenet"), t_mem = all || strstr(only, "memory");
    if (t_in || t_mem)
        bench_imagenet(&vocab, quick, reps ? reps : (quick ? 2 : 5), tmpdir, t_in, t_mem);
    if (all || strstr(only, "csv"))
        bench_csv(&vocab, quick, reps ? reps : (quick ? 2 : 5), tmpdir);
    print_table();
    synth_vocab_free(&vocab);
    if (failures) {
        fprintf(stderr, "prime-bench: %d failure(s)\n", failures);
        return 1;
    }
    return 0;
}
