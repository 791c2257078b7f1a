/*
 * synth: a generator of RAM-like synthetic tag stores, shared by prime-gen
 * and prime-bench. Not part of libprime.
 *
 * Model (deterministic for a given seed; own PRNG, xoshiro256** seeded with
 * splitmix64):
 *  - a vocabulary of tag names (the RAM tag list, one per line);
 *  - classes named after RAM tags (taken from the end of a seeded
 *    permutation of the vocabulary, so they are not in any pool) or
 *    "class0001"-style;
 *  - per class a pool of vocabulary tags (pool_min..pool_max tags, about
 *    60 % from a shared set of "generic" tags, the rest from the whole
 *    vocabulary) and a Zipf distribution over the pool (rank r has weight
 *    1 / (r + 1)^zipf_s);
 *  - per image min_tags..max_tags distinct tags drawn from that Zipf
 *    distribution;
 *  - per image an outcome: correct with probability base_accuracy;
 *  - PLANTED failure modes: conjunctions of 1-3 pool tags (one tag from the
 *    rarer half of the pool, or 2-3 tags from ranks pool/5..pool/2) added
 *    to a random group of images of the class (4-10 % of it, at least
 *    planted_min_images) whose accuracy is set to a low value (exactly
 *    round(target * group size) of them are correct). Planted groups of one
 *    class are disjoint. Planted mode j goes to class j % classes and has
 *    1 + j % 3 tags.
 *  - DECOYS make every tag of a conjunction necessary: for each tag t of a
 *    2- or 3-tag mode, as many images as the planted group (outside
 *    all planted groups, ordinary outcomes) carry the other tags.
 */
#ifndef PRIME_BENCH_SYNTH_H
#define PRIME_BENCH_SYNTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "prime/prime.h"

/* ---- PRNG ----------------------------------------------------------------- */

typedef struct {
    uint64_t s[4];
} synth_rng;

void synth_rng_seed(synth_rng *rng, uint64_t seed);
uint64_t synth_rng_next(synth_rng *rng);
/* Uniform in [0, n); n > 0. */
uint64_t synth_rng_below(synth_rng *rng, uint64_t n);
/* Uniform in [0, 1). */
double synth_rng_double(synth_rng *rng);

/* ---- vocabulary ----------------------------------------------------------- */

typedef struct {
    uint32_t count;
    char **names; /* point into text */
    char *text;
} synth_vocab;

/* Load a tag list (one name per line; blank lines, names longer than 255
 * bytes and names holding '|' are skipped). Returns false with a message in
 * err on failure. */
bool synth_vocab_load(const char *path, synth_vocab *vocab, char *err, size_t err_cap);
void synth_vocab_free(synth_vocab *vocab);

/* ---- parameters and data -------------------------------------------------- */

enum { SYNTH_NAMES_AUTO = 0, SYNTH_NAMES_RAM = 1, SYNTH_NAMES_NUMBERED = 2 };

typedef struct {
    uint32_t classes;
    uint32_t images_per_class;
    uint64_t seed;
    uint32_t planted;        /* planted conjunctions in all (1-3 tags each) */
    uint32_t min_tags;       /* tags per image: min_tags..max_tags */
    uint32_t max_tags;
    uint32_t pool_min;       /* pool size per class: pool_min..pool_max */
    uint32_t pool_max;
    double zipf_s;           /* Zipf exponent over the pool ranks */
    double base_accuracy;    /* accuracy outside planted groups */
    double planted_acc_min;  /* accuracy of a planted group: uniform in */
    double planted_acc_max;  /*   [planted_acc_min, planted_acc_max] */
    uint32_t planted_min_images; /* smallest planted group */
    int32_t class_names;     /* SYNTH_NAMES_* */
    /* Optional class names, comma-separated (e.g. "fox,ape,parrot"); when
     * set, `classes` names are taken from it in order (it must hold at
     * least that many) and names that are vocabulary tags are left out of
     * every pool. Borrowed. */
    const char *class_list;
} synth_params;

/* The defaults described above: 5-20 tags, pools of 150-400 tags, Zipf
 * exponent 1.1, base accuracy 0.85, planted accuracy 0.05-0.35, planted
 * groups of at least 45 images (4-10 % of the class when larger). */
void synth_params_default(synth_params *p);

typedef struct {
    uint32_t cls;
    uint32_t n_tags;
    uint32_t tags[3];         /* vocabulary ids, sorted by name (byte order) */
    uint32_t planted_images;  /* images the conjunction was added to */
    double target_accuracy;   /* accuracy drawn for them */
    /* measured on the generated data: */
    uint64_t size;            /* images of the class carrying every tag */
    uint64_t correct;
    double accuracy;
    double class_accuracy;
    double drop;
    double min_parent_gain;   /* min over t of A(T \ t) - A(T) */
    bool meets_defaults;      /* a failure mode under the default search */
} synth_planted;

typedef struct {
    const synth_vocab *vocab;  /* borrowed */
    uint32_t n_classes;
    char **class_names;
    char *class_text;
    uint32_t n_images;
    uint32_t *image_class;     /* n_images */
    uint64_t *tag_off;         /* n_images + 1; tags of image i: tags[off[i]..off[i+1]) */
    uint32_t *tags;            /* vocabulary ids */
    uint8_t *correct;          /* n_images, 0 or 1 */
    uint32_t n_planted;
    synth_planted *planted;
    synth_params params;
} synth_data;

/* Generate a data set. Returns false with a message in err on failure. */
bool synth_generate(const synth_params *p, const synth_vocab *vocab, synth_data *out,
                    char *err, size_t err_cap);
void synth_data_free(synth_data *d);

/* Name of image i ("img0000001" for i = 0) into buf (at least 24 bytes). */
void synth_image_name(uint32_t i, char *buf);

/* ---- writers (return false on a write error) ---------------------------- */

/* Tags CSV: image,class,tags[,correct]. */
bool synth_write_csv(const synth_data *d, FILE *f, bool with_correct);
/* JSON Lines: {"image":..,"class":..,"tags":[..][,"correct":0|1]}. */
bool synth_write_jsonl(const synth_data *d, FILE *f, bool with_correct);
/* Outcomes CSV: image,correct. */
bool synth_write_outcomes(const synth_data *d, FILE *f);
/* Planted conjunctions as JSON. */
bool synth_write_truth(const synth_data *d, FILE *f);

/* ---- libprime ---------------------------------------------------------- */

/* Build a frozen tag store with prime_tagstore_add_image_names (image i of
 * the data is image i of the store) and, if outcomes_out is not NULL, the
 * outcomes. */
prime_status synth_build_store(const synth_data *d, prime_tagstore **store_out,
                               prime_outcomes **outcomes_out);
/* Outcomes of the data for a store holding its images in the same order. */
prime_status synth_build_outcomes(const synth_data *d, prime_outcomes **out);

#endif /* PRIME_BENCH_SYNTH_H */
