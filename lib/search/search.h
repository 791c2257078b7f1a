/* libprime's search layer (lib/search): the configuration's layout, the
 * result's layout and the builder the search fills it with. Not installed. */
#ifndef PRIME_SEARCH_H
#define PRIME_SEARCH_H

#include "store/store.h"

/* ---- configuration (config.c) -------------------------------------------- */

struct prime_config {
    int64_t max_tags;
    int64_t min_size;
    double min_drop;
    double min_gain[PRIME_MAX_TAGS_LIMIT];
    uint32_t n_min_gain;
    int64_t min_tag_count; /* 0 = equal to min_size */
    int64_t threads;       /* 0 = all CPUs */
    int64_t whole_dataset;
    double min_size_share; /* 0 = off; else min_size is this share of each class */
    int64_t fold_equal;    /* 1: leave out modes with a smaller equal (fold.c) */
    int64_t max_modes;     /* 0 = no limit; else more modes is PRIME_E_LIMIT */
};

/* The default parameters (what prime_config_create gives). */
PRIME_INTERNAL void prime__config_defaults(prime_config *c);
/* min_gain for a k-tag mode (k >= 1). */
PRIME_INTERNAL double prime__config_gain(const prime_config *c, uint32_t k);
/* min_tag_count with 0 resolved to min_size. */
PRIME_INTERNAL int64_t prime__config_tag_count(const prime_config *c);

/* ---- results (result.c) --------------------------------------------------- */

/* Slack of every threshold comparison: x >= y - PRIME_EPS. */
#define PRIME_EPS 1e-9

typedef struct {
    uint32_t class_index; /* index into result->classes */
    uint32_t n_tags;
    uint32_t tag_first;   /* into result->mode_tags / mode_tag_names */
    uint64_t size;
    double correct, accuracy, drop;
    uint64_t description_off; /* into result->strings */
} prime__mode;

typedef struct {
    uint32_t class_id;    /* PRIME_NONE in whole-data-set mode */
    uint64_t images;
    double correct, accuracy;
    uint64_t name_off;    /* into result->strings */
} prime__class_stat;

struct prime_result {
    prime_config config;  /* copy of the parameters used */
    uint32_t n_classes;
    prime__class_stat *classes;
    uint64_t n_modes;
    prime__mode *modes;
    uint32_t *mode_tags;        /* tag ids, per mode in name order */
    uint64_t *mode_tag_name_off; /* into strings, parallel to mode_tags */
    uint64_t n_mode_tags;
    char *strings;               /* NUL-terminated names and descriptions */
    uint64_t strings_len;
    /* tag sets the search evaluated (size >= min_size), summed over the
       workers; set by prime_search after prime__result_build (0 = unknown) */
    uint64_t n_candidates;
};

/* A candidate mode as found by the search, before names are attached. */
typedef struct {
    uint32_t class_index;      /* index into the class list of the search */
    uint32_t n_tags;
    uint32_t tags[PRIME_MAX_TAGS_LIMIT]; /* store tag ids */
    uint64_t size;
    double correct;
} prime__raw_mode;

/* Build a result from the searched classes (in any order) and raw modes (in
 * any order): copies names, computes accuracies, sorts everything.
 * class_ids[i] is the store id of searched class i (PRIME_NONE = all). */
PRIME_INTERNAL prime_status prime__result_build(const prime_tagstore *store,
                                                const prime_config *config,
                                                uint32_t n_classes, const uint32_t *class_ids,
                                                const uint64_t *class_images,
                                                const double *class_correct,
                                                const prime__raw_mode *modes, uint64_t n_modes,
                                                prime_result **out);

/* ---- the search (search.c) ------------------------------------------------- */

/* The five numbers of a mode (of prime_result_mode_info and
 * prime_eval_mode_train/test) into those out-parameters that are not NULL. */
PRIME_INTERNAL void prime__mode_stats_out(uint64_t size, double correct, double accuracy,
                                          double class_accuracy, double drop,
                                          uint64_t *size_out, double *correct_out,
                                          double *accuracy_out, double *class_accuracy_out,
                                          double *drop_out);

/* Test hook: a set of `size` images in a class of `words` bitset words is
 * searched as sorted positions instead of a bitset when
 * size * den <= words * num (default 1/8; 0/1 = never, 64/1 = always).
 * Read at the start of each prime_search; not for concurrent use. */
PRIME_INTERNAL void prime__search_set_array_limit(uint32_t num, uint32_t den);

/* Test hook: a sparse column is galloped through a sparse node's positions
 * when column size * ratio < node size (default 16; 0 = never, 1 = whenever
 * the column is the shorter). Read at the start of each prime_search; not
 * for concurrent use. */
PRIME_INTERNAL void prime__search_set_gallop_ratio(uint32_t ratio);
/* Test hook: when the subtree of a first tag f runs on the projection of
 * its class on f's images (search.c, project()): 0 never; 1 (the default)
 * where it is estimated to save more than it costs (projects()); 2 always
 * (where f has tags to add). Read at the start of each prime_search; not
 * for concurrent use. */
PRIME_INTERNAL void prime__search_set_projection(uint32_t mode);
/* Test hook: the correct images of a child that is a leaf (0/1 outcomes)
 * are counted this many words at a time, stopping once the child is known
 * to be a candidate and no failure mode (search.c, leaf_right()); 0
 * restores the default (128). Read at the start of each prime_search; not
 * for concurrent use. */
PRIME_INTERNAL void prime__search_set_leaf_chunk(uint32_t words);
/* Test hook: how a row of the pair table is counted (search.c): 0 one
 * intersection per pair; 1 (the default) over the rows of the column's
 * images where that is estimated to cost less; 2 over the rows always.
 * Read at the start of each prime_search; not for concurrent use. */
PRIME_INTERNAL void prime__search_set_pair_rows(uint32_t mode);
/* Test hook: how the necessity check finds the statistics of a k-tag
 * set without one of its first k - 2 tags (k >= 4): 0 by intersecting the
 * ancestor's set with the other columns at each check; 1 (the default)
 * from the parent's set without that tag, kept while the parent is on
 * the DFS path (built from the grandparent's as one AND where that is a
 * bitset), intersected with the node's last column, whose correct images
 * are not counted when the wrong ones decide the check (0/1 outcomes);
 * 2 as 1 but each kept set built from the columns and every count made
 * (the way before both). Read at the start of each prime_search; not for
 * concurrent use. */
PRIME_INTERNAL void prime__search_set_necessity(uint32_t mode);
/* Test hook: a search node of at most `max` images (<= 64; default 64;
 * 0 = never) numbers its images 0..size-1, and every set below it is a
 * 64-bit mask over them (search.c, visit()). Read at the start of each
 * prime_search; not for concurrent use. */
PRIME_INTERNAL void prime__search_set_local(uint32_t max);
/* Test hook: 1 (the default) limits the tags that a child P+j of a node
 * P = Q+i may add to those that the children of P's later sibling Q+j
 * kept, and takes a necessity subset without path[k-3] from those
 * children's numbers (search.c, visit(), sibling_stats(); where their rows
 * fit 8 MiB a worker); 0 only to those of P, and no such numbers. Read at
 * the start of each prime_search; not for concurrent use. */
PRIME_INTERNAL void prime__search_set_siblings(uint32_t mode);
/* Test hook: the order of the candidate tags of a class with 0/1 outcomes
 * in the search (search.c, order_candidates()): 1 (the default) by
 * ascending size, ties by store id; 0 by store id (as other outcomes).
 * The same sets, modes and candidate count either way. Read at the start
 * of each prime_search; not for concurrent use. */
PRIME_INTERNAL void prime__search_set_order(uint32_t mode);
/* Test hook: the search prepares its classes in batches of consecutive
 * classes holding together at most this many images (a larger class is a
 * batch of its own), and frees a batch's columns before the next one, so
 * that memory does not grow with the number of classes. 0 restores the
 * default (PRIME__SEARCH_BATCH_IMAGES). Read at the start of each search;
 * not for concurrent use. */
#define PRIME__SEARCH_BATCH_IMAGES ((uint64_t)1 << 18)
PRIME_INTERNAL void prime__search_set_batch_images(uint64_t n);

/* What a search of some classes found, before names are attached
 * (prime__search_raw_run; partial.c keeps it in a prime_partial). */
typedef struct {
    uint32_t n_classes;      /* the searched classes that have images */
    uint32_t *class_ids;     /* ascending store ids */
    uint64_t *class_images;
    double *class_correct;
    prime__raw_mode *modes;  /* class_index into the three arrays; any order */
    uint64_t n_modes;
    uint64_t candidates;     /* tag sets visited, summed over the workers */
} prime__search_raw;

/* The search of prime_search over the classes class_ids[0..n) only
 * (ascending, unique, in range; whole-data-set mode is the caller's to
 * refuse): *out gets its arrays (free them with prime__search_raw_free),
 * all-zero on failure. */
PRIME_INTERNAL prime_status prime__search_raw_run(const prime_tagstore *store,
                                                  const prime_outcomes *outcomes,
                                                  const prime_config *config,
                                                  const uint32_t *class_ids, uint32_t n,
                                                  prime_progress_fn progress, void *user_data,
                                                  prime__search_raw *out);
PRIME_INTERNAL void prime__search_raw_free(prime__search_raw *r);

/* Called now and then by long internal loops; a non-zero answer stops them. */
typedef int (*prime__tick_fn)(void *ctx);

/* prime__result_build that calls tick(tick_ctx) every 16,384 modes of each
 * of its passes (the sort included) and returns PRIME_E_CANCELLED, and no
 * result, when it answers non-zero. release: NULL, or where the caller
 * keeps `modes` (prime__malloc'ed): the build frees it, and sets *release
 * to NULL, once it has read the modes (before it lays out the result, so
 * that both do not take memory together), or before it returns. */
PRIME_INTERNAL prime_status prime__result_build_ticking(
    const prime_tagstore *store, const prime_config *config, uint32_t n_classes,
    const uint32_t *class_ids, const uint64_t *class_images, const double *class_correct,
    const prime__raw_mode *modes, uint64_t n_modes, prime__raw_mode **release,
    prime__tick_fn tick, void *tick_ctx, prime_result **out);
/* Test hook: at most n tag ranks in the sort key of a mode (as many as fit
 * in 64 bits when n is UINT32_MAX, the default); ties are then broken on all
 * the ranks. Read at the start of each build; not for concurrent use. */
PRIME_INTERNAL void prime__result_set_key_ranks(uint32_t n);

/* Test hook: the build calls its tick every n modes (a power of two; 0 or
 * another number restores the default, 16,384). Not to be called while a
 * build runs. */
PRIME_INTERNAL void prime__result_set_tick_modes(uint32_t n);
/* Test hook: the calling thread of a search reports progress every ns
 * nanoseconds (0: at every look at the clock; negative restores the
 * default, 20 ms), the workers' lists are joined `slice` modes between two
 * ticks (even a list that the search would take as it is) and the result
 * is built with a tick every `slice` modes (prime__result_set_tick_modes;
 * 0 restores the defaults), so that a test can count the calls of every
 * phase of a small search and cancel in each. Read at the start of each
 * search; not for concurrent use. */
PRIME_INTERNAL void prime__search_set_report(int64_t ns, uint32_t slice);

/* Leave out of r the modes whose images in store are exactly those of a
 * smaller mode of the same class (PRIME_PARAM_FOLD_EQUAL; fold.c). */
PRIME_INTERNAL prime_status prime__result_fold_equal(prime_result *r,
                                                     const prime_tagstore *store);

#endif /* PRIME_SEARCH_H */
