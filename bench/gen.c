/*
 * prime-gen: write a RAM-like synthetic data set with planted failure modes
 * (see synth.h for the model). Uses only the public API of libprime.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime/prime.h"
#include "synth.h"

#ifndef PRIME_SOURCE_ROOT
#define PRIME_SOURCE_ROOT "."
#endif

static void usage(FILE *f)
{
    fputs(
        "usage: prime-gen [options]\n"
        "  --classes N            classes (default 6)\n"
        "  --images-per-class N   images per class (default 400)\n"
        "  --seed S               seed of the generator (default 1)\n"
        "  --planted K            planted failure modes in all; mode j goes to class\n"
        "                         j % classes and has 1 + j % 3 tags (default 6)\n"
        "  --format csv|jsonl|store  output kind (default csv)\n"
        "  --output FILE          output file (default: standard output; required for store)\n"
        "  --outcomes FILE        write outcomes to a separate CSV (image,correct) instead\n"
        "                         of a `correct` column; for store the default is\n"
        "                         FILE.outcomes.csv next to --output\n"
        "  --truth FILE           write the planted conjunctions as JSON\n"
        "  --vocab FILE           tag vocabulary, one per line\n"
        "                         (default " PRIME_SOURCE_ROOT "/data/ram/ram_tag_list.txt)\n"
        "  --class-names auto|ram|numbered  class names (default auto: RAM tags when\n"
        "                         classes <= vocabulary / 4, else class0001, ...)\n"
        "  --class-list A,B,...   class names to use, in order (names that are\n"
        "                         vocabulary tags are kept out of the pools)\n"
        "  --min-tags N --max-tags N   tags per image (default 5..20)\n"
        "  --pool-min N --pool-max N   tags in a class's pool (default 150..400)\n"
        "  --zipf S               Zipf exponent over a pool (default 1.1)\n"
        "  --accuracy A           accuracy outside planted groups (default 0.85)\n"
        "  --planted-accuracy LO,HI  accuracy of planted groups (default 0.10,0.40)\n"
        "  --planted-min-images N   smallest planted group (default 45)\n",
        f);
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_prob(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

static FILE *open_out(const char *path)
{
    if (!path)
        return stdout;
    FILE *f = fopen(path, "wb");
    if (!f)
        fprintf(stderr, "prime-gen: %s: cannot open for writing: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path, bool ok)
{
    if (f != stdout) {
        if (fclose(f) != 0)
            ok = false;
    } else if (fflush(f) != 0) {
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "prime-gen: %s: write error\n", path ? path : "(stdout)");
        if (path)
            remove(path);
    }
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    synth_params p;
    synth_params_default(&p);
    const char *format = "csv", *output = NULL, *outcomes = NULL, *truth = NULL;
    const char *vocab_path = PRIME_SOURCE_ROOT "/data/ram/ram_tag_list.txt";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "prime-gen: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (!strcmp(a, "--classes"))
            bad = parse_u32(v, &p.classes);
        else if (!strcmp(a, "--images-per-class"))
            bad = parse_u32(v, &p.images_per_class);
        else if (!strcmp(a, "--seed"))
            bad = parse_u64(v, &p.seed);
        else if (!strcmp(a, "--planted"))
            bad = parse_u32(v, &p.planted);
        else if (!strcmp(a, "--format"))
            format = v;
        else if (!strcmp(a, "--output"))
            output = v;
        else if (!strcmp(a, "--outcomes"))
            outcomes = v;
        else if (!strcmp(a, "--truth"))
            truth = v;
        else if (!strcmp(a, "--class-list"))
            p.class_list = v;
        else if (!strcmp(a, "--vocab"))
            vocab_path = v;
        else if (!strcmp(a, "--min-tags"))
            bad = parse_u32(v, &p.min_tags);
        else if (!strcmp(a, "--max-tags"))
            bad = parse_u32(v, &p.max_tags);
        else if (!strcmp(a, "--pool-min"))
            bad = parse_u32(v, &p.pool_min);
        else if (!strcmp(a, "--pool-max"))
            bad = parse_u32(v, &p.pool_max);
        else if (!strcmp(a, "--planted-min-images"))
            bad = parse_u32(v, &p.planted_min_images);
        else if (!strcmp(a, "--accuracy"))
            bad = parse_prob(v, &p.base_accuracy);
        else if (!strcmp(a, "--zipf")) {
            char *end;
            p.zipf_s = strtod(v, &end);
            bad = end == v || *end || !(p.zipf_s >= 0.0 && p.zipf_s <= 8.0);
        } else if (!strcmp(a, "--planted-accuracy")) {
            char lo[64];
            const char *comma = strchr(v, ',');
            if (!comma || (size_t)(comma - v) >= sizeof lo) {
                bad = 1;
            } else {
                memcpy(lo, v, (size_t)(comma - v));
                lo[comma - v] = '\0';
                bad = parse_prob(lo, &p.planted_acc_min) ||
                      parse_prob(comma + 1, &p.planted_acc_max) ||
                      p.planted_acc_max < p.planted_acc_min;
            }
        } else if (!strcmp(a, "--class-names")) {
            if (!strcmp(v, "auto"))
                p.class_names = SYNTH_NAMES_AUTO;
            else if (!strcmp(v, "ram"))
                p.class_names = SYNTH_NAMES_RAM;
            else if (!strcmp(v, "numbered"))
                p.class_names = SYNTH_NAMES_NUMBERED;
            else
                bad = 1;
        } else {
            fprintf(stderr, "prime-gen: unknown option: %s\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "prime-gen: bad value for %s: %s\n", a, v);
            return 2;
        }
    }
    int kind;
    if (!strcmp(format, "csv"))
        kind = 0;
    else if (!strcmp(format, "jsonl"))
        kind = 1;
    else if (!strcmp(format, "store"))
        kind = 2;
    else {
        fprintf(stderr, "prime-gen: --format must be csv, jsonl or store\n");
        return 2;
    }
    char default_outcomes[4096];
    if (kind == 2) {
        if (!output) {
            fprintf(stderr, "prime-gen: --format store needs --output FILE\n");
            return 2;
        }
        if (!outcomes) {
            snprintf(default_outcomes, sizeof default_outcomes, "%s.outcomes.csv", output);
            outcomes = default_outcomes;
        }
    }

    char err[512];
    synth_vocab vocab;
    if (!synth_vocab_load(vocab_path, &vocab, err, sizeof err)) {
        fprintf(stderr, "prime-gen: %s\n", err);
        return 1;
    }
    synth_data d;
    if (!synth_generate(&p, &vocab, &d, err, sizeof err)) {
        fprintf(stderr, "prime-gen: %s\n", err);
        synth_vocab_free(&vocab);
        return 2;
    }

    int rc = 0;
    if (kind == 2) {
        prime_tagstore *store = NULL;
        prime_status st = synth_build_store(&d, &store, NULL);
        if (st == PRIME_OK)
            st = prime_tagstore_save(store, output);
        if (st != PRIME_OK) {
            fprintf(stderr, "prime-gen: %s: %s: %s\n", output, prime_status_name(st),
                    prime_last_error());
            rc = 1;
        }
        prime_tagstore_destroy(store);
    } else {
        FILE *f = open_out(output);
        if (!f) {
            rc = 1;
        } else {
            bool ok = kind == 0 ? synth_write_csv(&d, f, outcomes == NULL)
                                : synth_write_jsonl(&d, f, outcomes == NULL);
            rc = close_out(f, output, ok);
        }
    }
    if (rc == 0 && outcomes) {
        FILE *f = open_out(outcomes);
        rc = f ? close_out(f, outcomes, synth_write_outcomes(&d, f)) : 1;
    }
    if (rc == 0 && truth) {
        FILE *f = open_out(truth);
        rc = f ? close_out(f, truth, synth_write_truth(&d, f)) : 1;
    }
    synth_data_free(&d);
    synth_vocab_free(&vocab);
    return rc;
}
