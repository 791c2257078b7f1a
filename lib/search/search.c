/* The exhaustive PRIME search (docs/method.md, section 1).
 *
 * Per searched class the images are renumbered 0..n-1 (ascending image
 * index) and every candidate tag gets a packed bitset column over them. A
 * depth-first search over candidate tags in increasing order intersects
 * columns (fused AND + popcount) and prunes with two exact rules:
 *
 *  - size is anti-monotone: a set below min_size has no superset above it;
 *  - error bound: with W = |S| - sum(S) (the "wrongness" of S, valid for
 *    float outcomes in [0, 1] too), every subset S' of S with
 *    |S'| >= min_size has A(S') >= max(0, 1 - W / min_size). When even that
 *    cannot reach min_drop, no subset of S (hence no superset of its tag
 *    set) is a failure mode. Applied to single tags this removes, up front,
 *    every tag that can appear in no failure mode at all; applied to pairs
 *    it gives a pair table (phase 2) that limits the tags a node may add to
 *    those that pair well with every tag of the node; applied at a node it
 *    stops the descent.
 *
 * With 0/1 outcomes the wrong images of a class take the first words of
 * every bitset, so that a child whose wrong images are too few is rejected
 * after a popcount over those few words only.
 *
 * Sets much smaller than their class (sparse()) are also kept as sorted bit
 * positions: their children are found by probing the child tag's column
 * at each position (the wrong images, a prefix of the list, first), so a
 * candidate costs the size of its parent's set, not the words of its class.
 * The leaf children of a dense node are counted together (leaf_pass()),
 * and one
 * stops counting its correct images once it is known to be no failure
 * mode.
 * The necessity check of a node starts from its DFS ancestors' sets, still
 * on the search stack. The population counts run in the kernels of
 * kernels.c, chosen at the first search for the CPU.
 *
 * Work is split into items (class, first tag) that worker threads
 * (prime__run_workers, the calling thread among them) pull with an atomic
 * counter; every worker keeps its own list of raw modes and
 * prime__result_build sorts the union, so the result does not depend on
 * the thread count. Outcomes are summed in fixed point (search/fixed.h):
 * integers, so every way of reaching a set gives the same sum, and the
 * sharded search (sharded.c) the same numbers as this one.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "search/bitset.h"
#include "search/fixed.h"
#include "search/kernels.h"
#include "search/search.h"

/* Progress units of one searched class (1 for preparing it, the rest
 * spread over its work items), so the total is known before the search. */
#define UNITS_PER_CLASS 1000u
/* How often the calling thread reports progress, in nanoseconds (the
 * default of report_ns, prime__search_set_report). */
#define REPORT_NS 20000000L
/* A worker's modes are kept in segments of this many (1 << MODE_SEG_SHIFT),
 * 23 MB each, that never move: a segment is asked for huge pages once
 * and written in sequence, so that the list neither moves a GB when it
 * grows nor costs a tenth of a second to unmap on a cancel (4 kB pages: a
 * quarter second for 1.3 GB here, huge pages: 16 ms). */
#define MODE_SEG_SHIFT 18u
#define MODE_SEG ((size_t)1 << MODE_SEG_SHIFT)
/* Search nodes between two looks at the stop flag. */
#define CHECK_NODES 4096u

/* One searched class and, once prepared, its bitset columns. */
typedef struct {
    uint32_t class_id;       /* store id, PRIME_NONE in whole-data-set mode */
    const uint32_t *images;  /* ascending; NULL means first..first+n-1 */
    uint32_t first;
    uint32_t n;
    uint64_t sum;            /* fixed-point sum of the outcomes of the class */
    double acc;              /* their mean */
    /* filled by prepare_class */
    uint32_t m;              /* candidate tags */
    uint32_t m_pending;      /* prepare_class: m before it is set */
    size_t words;            /* words per column */
    uint32_t *cand;          /* m store tag ids in search order
                                (order_candidates()) */
    uint64_t *cols;          /* m columns of `words` words */
    /* a projected class (project()): column j at colp[j] (only those of
       the tags the search may add); NULL: column j at cols + j * words */
    uint64_t *const *colp;
    uint64_t *col_size;      /* m */
    uint64_t *col_sum;       /* m, fixed point */
    /* 0/1 outcomes: the wrong images take bits 0..n_wrong-1 (words
       0..wrong_words-1), the correct ones start at word wrong_words, each
       group in ascending image order; so the wrongness of a set is a
       popcount over its first few words and its sum one over the rest. */
    bool binary;
    size_t wrong_words;
    uint64_t need_wrong;     /* fewest wrong images a set needs to matter */
    uint64_t min_size;       /* fewest images of a group in this class */
    uint64_t cand_min;       /* fewest images of a candidate tag in this class */
    /* other outcomes: image j of the class is bit j, vals[j] its outcome
       in fixed point */
    uint64_t *vals;
    /* pair table: row i has bit l (l > i) when the pair {i, l} passes the
       size test and the error bound, i.e. some failure mode could hold both
       tags; a search node only tries the tags allowed by every row of it */
    size_t row_words;
    uint64_t *rows;          /* m rows of row_words words */
    /* pair_stat[i]: the size and outcome sum (fixed point) of every pair
       {i, l} of row i, in the order of l (2 numbers each); NULL rows when
       the table was not built */
    uint64_t **pair_stat;
    void *block;             /* the one allocation behind all the arrays */
    /* sparse columns (sparse(): size small against words) also as sorted
       bit positions: col_ids[k] (NULL for a dense column) */
    uint32_t **col_ids;
    void *ids_block;         /* col_ids and the positions */
    /* the images as rows (project(), pair_row_rows()): the candidates of
       the image at bit position p, ascending, are
       img_tags[img_beg[p]..img_end[p]) (rows in image order; 0..0 for a
       position without an image), as 16-bit candidate indices (half the
       memory of 32). img_beg NULL: not built (more than 2^32 - 2 entries,
       or more than 65,535 candidates: rows_fit()) */
    uint32_t *img_beg, *img_end; /* words * 64 each */
    uint16_t *img_tags;
    uint64_t img_entries;    /* entries of all rows */
    void *img_block;
    /* prime_search_stream: the rank of candidate k's name among the
       candidates' names (name_ranks()) */
    uint32_t *name_rank;
} search_class;

typedef struct {
    uint32_t cls, first;     /* class index, candidate index of the first tag */
    uint64_t pair_units;     /* progress units credited for its pair row */
    uint64_t units;          /* progress units credited for its search */
    uint64_t cost;           /* estimate, to start the big items first */
} search_item;

typedef struct search_ctx search_ctx;

/* Necessity (necessary()): the set of the node of depth p on the DFS path
 * without its tag path[d] (d <= p - 2), computed at the first check of
 * one of its children that needs it and kept while that node is on the
 * path, so that the check of each further child costs one intersection
 * with the child's column, not one per tag. */
typedef struct {
    uint64_t node;           /* lvl_node of the node it was computed for; 0 none */
    uint64_t *set;           /* the bitset, when not as_ids */
    uint32_t *ids;           /* sorted positions, when as_ids */
    uint32_t n, n_wrong;     /* images; wrong ones among them (0/1 outcomes, as_ids) */
    bool as_ids;
    bool has_set;            /* `set` holds it (built by ANDs, nec_build()) */
} nec_set;

typedef struct {
    search_ctx *s;
    bool reporter;           /* the calling thread: it reports progress */
    prime_status status;
    /* phase 1 scratch: per store tag (count and sum are kept at 0 between
       classes; map is written for the tags of a class before it is read) */
    uint32_t *count, *map, *touched;
    uint64_t *sum;
    uint32_t *rank;          /* per image of the largest class: its bit */
    /* phase 2 and 3 scratch */
    uint64_t *stack;         /* max_tags + 1 bitsets of max_words words */
    uint32_t *ids;           /* max_tags + 1 arrays of ids_cap positions */
    uint64_t *allowed;       /* max_tags rows of max_row_words words */
    /* per depth: the children of the node that survive (visit, pass 1) */
    /* the children of a node of depth k that survive its pass 1 (visit()),
       as a row of max_row_words words: with s->sib one row per depth and
       last tag (the node of depth k and last tag j at
       surv_mask[(k * max_m + j) * max_row_words]), so that the rows of
       a node's later siblings stay; else one per depth */
    uint64_t *surv_mask;
    uint32_t *sv_idx;        /* max_tags + 1 lists of max_m: sv_j index of a tag */
    /* with s->sib: the sizes and sums of the survivors of the children of
       the node of depth k - 1 on the path, appended as they are visited
       (pool_n[k] used of pool_cap entries at pool_size/pool_sum + k *
       pool_cap); the node of depth k and last tag t has its survivors
       from pool_at[k * max_m + t] (POOL_NONE: not kept) */
    uint64_t *pool_size, *pool_sum;
    uint32_t *pool_at;
    uint32_t pool_n[PRIME_MAX_TAGS_LIMIT + 1];
    uint32_t *sv_j;          /* max_tags + 1 lists of max_m */
    uint64_t *sv_size;
    uint64_t *sv_sum;
    uint32_t *pos;           /* max_words * 64: the images of a first tag */
    const uint64_t **leaf_cols; /* leaf_pass: max_m column pointers */
    /* pair_row_rows: counters per candidate, kept at 0 between rows */
    uint32_t *pc_wrong, *pc_size; /* max_m */
    uint64_t *pc_sum;        /* max_m */
    uint32_t path[PRIME_MAX_TAGS_LIMIT];
    /* the class of the running item and, when it runs projected on its
       first tag's images (project()), that projection */
    const search_class *full;
    search_class proj;
    uint64_t **pcolp;        /* max_m column pointers of proj */
    uint32_t **pnull;        /* max_m NULLs: proj's col_ids */
    uint64_t *pblock;        /* proj's columns, its first set, its vals */
    size_t pcap;             /* words of pblock */
    uint64_t *pacc;          /* max_m: project()'s word of each column */
    uint32_t *plist;         /* max_m: project()'s allowed tags */
    /* the sets of the DFS path: the node of depth d (1..k) is
       lvl_ids[d] (sorted positions) when not NULL, else lvl_set[d] */
    const uint64_t *lvl_set[PRIME_MAX_TAGS_LIMIT + 1];
    const uint32_t *lvl_ids[PRIME_MAX_TAGS_LIMIT + 1];
    /* local sets (visit()): the node of depth piv on the DFS path (the
       pivot) has at most local_max <= 64 images, numbered 0..size-1 in the order of its
       positions; lcol[j] holds, for each tag j that survived as its child,
       the images of the pivot that j has, as a mask. Every descendant of
       the pivot (lvl_local) is then a mask too: the AND of its tags'
       masks, one word whatever the class. */
    bool lvl_local[PRIME_MAX_TAGS_LIMIT + 1];
    uint32_t piv;
    uint64_t piv_wrong;      /* 0/1 outcomes: the wrong images among them */
    uint64_t *lcol;          /* max_m masks */
    uint64_t lvals[64];      /* other outcomes: the outcome of local image i */
    uint64_t lvl_size[PRIME_MAX_TAGS_LIMIT + 1];
    /* the survivors of the node of depth d: sv_* level d, lvl_nsv[d] */
    uint32_t lvl_nsv[PRIME_MAX_TAGS_LIMIT + 1];
    /* the node of depth d: a number no other node of this worker gets */
    uint64_t lvl_node[PRIME_MAX_TAGS_LIMIT + 1];
    uint64_t node_count;
    /* necessity: nec[p][d] (nec_set), buffers in nec_block */
    nec_set nec[PRIME_MAX_TAGS_LIMIT][PRIME_MAX_TAGS_LIMIT];
    void *nec_block;
    uint32_t nodes;
    prime__raw_mode **segs;  /* the modes found, MODE_SEG a segment */
    size_t n_segs, cap_segs;
    size_t seg0_cap;         /* modes the first segment holds (<= MODE_SEG) */
    size_t n_modes;
    uint64_t candidates;     /* tag sets visited (size >= min_size) */
} search_worker;

struct search_ctx {
    const prime_tagstore *store;
    int64_t report_ns;       /* prime__search_set_report */
    size_t join_slice;       /* modes joined between two ticks */
    const prime__kernels *k; /* bitset kernels (kernels.c) */
    const double *out;       /* outcomes, one per store image */
    uint32_t max_tags;
    uint64_t min_size, cand_min;
    double min_drop;
    double gain[PRIME_MAX_TAGS_LIMIT + 1];

    uint32_t n_classes;
    search_class *classes;
    /* the batch of classes being searched: classes[batch_first..batch_end) */
    uint32_t batch_first, batch_end;
    uint64_t batch_images;   /* most images of a batch (batch_images) */
    size_t max_words, max_row_words;
    uint32_t max_m;          /* most candidate tags of a class */
    size_t ids_cap;          /* longest sorted-position array (sparse()) */
    uint32_t array_num, array_den; /* the sparse() limit */
    uint32_t gallop_ratio;   /* gallops() */
    uint32_t proj_mode;      /* prime__search_set_projection */
    uint32_t leaf_chunk;     /* prime__search_set_leaf_chunk */
    uint32_t pair_rows;      /* prime__search_set_pair_rows */
    uint32_t nec_mode;       /* prime__search_set_necessity */
    uint32_t local_max;      /* prime__search_set_local */
    uint32_t order_mode;     /* prime__search_set_order */
    uint32_t sib_mode;       /* prime__search_set_siblings */
    bool sib;                /* this batch keeps the rows of siblings (surv_row) */
    uint32_t pool_cap;       /* entries of a depth's survivors pool */
    search_item *items;
    size_t n_items;

    /* the running phase */
    int phase;               /* 1 = prepare classes, 2 = pair rows, 4 = rows
                                from columns, 3 = search */
    size_t phase_items;
    atomic_size_t next;
    atomic_uint_fast64_t done;
    uint64_t total;
    atomic_int stop;
    /* run_phase: the workers of the phase claim workers[] slots in turn;
       the calling thread (caller) is one of them and reports progress */
    search_worker *workers;
    atomic_uint next_worker;
    pthread_t caller;

    /* prime_search_stream: modes go to on_mode (under mode_mu), not to the
       workers' lists */
    prime_mode_fn on_mode;
    void *mode_data;
    pthread_mutex_t mode_mu;
    uint64_t n_streamed;     /* under mode_mu */
    bool stream_stopped;     /* under mode_mu: on_mode answered non-zero */

    /* PRIME_PARAM_MAX_MODES: 0 = no limit; n_found counts the modes of
       prime_search (the stream counts n_streamed) */
    uint64_t max_modes;
    atomic_uint_fast64_t n_found;
    atomic_int over_limit;

    prime_progress_fn progress;
    void *user_data;
    bool cancelled;
    struct timespec last_report;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t busy;           /* under mu: workers in their item loop */
};

/* ------------------------------------------------------------------------ */
/* Phase 1: candidate tags and bitset columns of one class                    */
/* ------------------------------------------------------------------------ */

static inline uint32_t class_image(const search_class *c, uint32_t j)
{
    return c->images != NULL ? c->images[j] : c->first + j;
}

/* Column j of class c. */
static inline const uint64_t *col_at(const search_class *c, uint32_t j)
{
    return c->colp != NULL ? c->colp[j] : c->cols + (size_t)j * c->words;
}

/* ---- sparse sets: sorted bit positions ------------------------------------ */

/* A set of `size` images is kept as an array of its sorted bit positions
 * instead of a bitset when size * den <= words * num: a child of such a set
 * then costs one bit probe per member instead of one AND per word of the
 * class. 1/8 measured best on the generated 5k-200k-image stores (a probe
 * costs several words of vector AND + count, and most children are
 * rejected after the wrong images, a short prefix of either form). */
static uint32_t array_num = 1, array_den = 8;

void prime__search_set_array_limit(uint32_t num, uint32_t den)
{
    array_num = num;
    array_den = den == 0 ? 1 : den;
}

/* How often progress is reported, and the modes joined between two ticks
 * (prime__search_set_report; by default a quarter of a segment, 5.8 MB to
 * copy, a few ms). */
static int64_t report_ns = REPORT_NS;
static size_t join_slice = MODE_SEG / 4;
static bool join_always; /* even a list of one segment (a test's slice) */

void prime__search_set_report(int64_t ns, uint32_t slice)
{
    report_ns = ns >= 0 && ns < 1000000000L ? ns : REPORT_NS;
    join_slice = slice > 0 && slice < MODE_SEG ? slice : MODE_SEG / 4;
    join_always = slice > 0;
    prime__result_set_tick_modes(slice);
}

/* Images of one batch of classes (prime__search_set_batch_images). */
static uint64_t batch_images = PRIME__SEARCH_BATCH_IMAGES;

void prime__search_set_batch_images(uint64_t n)
{
    batch_images = n == 0 ? PRIME__SEARCH_BATCH_IMAGES : n;
}

static inline bool sparse(const search_ctx *s, uint64_t size, size_t words)
{
    return size * s->array_den <= (uint64_t)words * s->array_num;
}

/* out = the ids[0..n) whose bit is set in b (out has room for n); returns
 * their number. */
static inline uint32_t probe(const uint32_t *ids, uint32_t n, const uint64_t *b, uint32_t *out)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = ids[i];
        out[k] = id;
        k += (uint32_t)prime__bits_get(b, id);
    }
    return k;
}

/* The number of ids[0..n) whose bit is set in b. */
static inline uint32_t probe_count(const uint32_t *ids, uint32_t n, const uint64_t *b)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        k += (uint32_t)prime__bits_get(b, ids[i]);
    return k;
}

/* Sum of vals (fixed point) over sorted positions. */
static inline uint64_t ids_sum(const uint32_t *ids, uint32_t n, const uint64_t *vals)
{
    uint64_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += vals[ids[i]];
    return s;
}

/* The first index in (lo, n] whose entry of the ascending list a is >= x,
 * given a[lo] < x: an exponential search from lo, then a binary search in
 * the last step's range (n when none). */
static inline uint32_t gallop_from(const uint32_t *a, uint32_t lo, uint32_t n, uint32_t x)
{
    /* a[lo + b/2] < x: the first entry >= x is in (lo + b/2, lo + b] */
    uint32_t b = 1;
    while (lo + b < n && a[lo + b] < x)
        b <<= 1;
    uint32_t l = lo + (b >> 1) + 1, r = lo + b < n ? lo + b : n;
    while (l < r) {
        uint32_t mid = l + (r - l) / 2;
        if (a[mid] < x)
            l = mid + 1;
        else
            r = mid;
    }
    return l;
}

/* Galloping intersection of two ascending id lists, for a short `small`
 * against a long `big`: each id of small is looked for by an exponential
 * then a binary search from the last match. Returns the number of ids in
 * both, writes them (ascending) to out when it is not NULL, and counts in
 * *below those under `split` (the wrong images with 0/1 outcomes). */
static uint32_t gallop(const uint32_t *small, uint32_t ns, const uint32_t *big, uint32_t nb,
                       uint32_t split, uint32_t *below, uint32_t *out)
{
    uint32_t lo = 0, k = 0, kb = 0;
    for (uint32_t i = 0; i < ns && lo < nb; i++) {
        uint32_t x = small[i];
        if (big[lo] < x) {
            lo = gallop_from(big, lo, nb, x);
            if (lo >= nb)
                break;
        }
        if (big[lo] == x) {
            if (out != NULL)
                out[k] = x;
            k++;
            kb += x < split;
            lo++;
        }
    }
    *below = kb;
    return k;
}

/* How the images of a node and of a column j meet (meet_way): the node's
 * positions probed in the column's bitset; the column's positions probed
 * in the node's bitset (a sparse column under a dense node); the column's
 * positions galloped through the node's (both sparse, the column far
 * shorter); the bitsets ANDed word by word. */
enum { MEET_NODE_IDS, MEET_COL_IDS, MEET_GALLOP, MEET_WORDS };

/* A column this many times shorter than a sparse node is galloped
 * (prime__search_set_gallop_ratio; 0 = never). */
static uint32_t gallop_ratio = 16;

void prime__search_set_gallop_ratio(uint32_t ratio)
{
    gallop_ratio = ratio;
}

static inline bool gallops(const search_ctx *s, uint64_t column, uint64_t node)
{
    return s->gallop_ratio != 0 && column * s->gallop_ratio < node;
}

/* true when a set with `size` images and outcome sum `sum` (fixed point)
 * has a subset (of at least min_size images) that could still reach the
 * drop. */
static inline bool can_reach_drop(const search_ctx *s, const search_class *c, uint64_t size,
                                  uint64_t sum)
{
    return prime__fx_can_reach(c->acc, prime__fx_wrong(size, sum), c->min_size, s->min_drop);
}

static bool check_point(search_worker *w);

/* The scratch counts of the first n tags of w->touched back to 0, as every
 * exit of prepare_class() leaves them. */
static void clear_counts(search_worker *w, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        w->count[w->touched[k]] = 0;
        w->sum[w->touched[k]] = 0;
    }
}

/* Images (or columns' words) of a class between two check points while
 * it is prepared: a class of 1.28 M images (the whole-data-set mode) took
 * 0.7 s to prepare, with neither a progress call nor a look at a cancel. */
#define PREP_TICK 32768u

/* Pass 1 over the images of a class, for one id width `iw` and offset
 * width `ow` (constants once inlined): count the images of every tag
 * (w->count) and
 * - with 0/1 outcomes, its wrong images (w->sum, a whole number);
 * - otherwise the fixed-point sum of its outcomes (w->sum).
 * Returns the number of distinct tags, listed in w->touched; *stopped
 * set where a check point said to stop (the counts so far are kept). */
static inline __attribute__((always_inline)) uint32_t count_tags_w(search_worker *w,
                                                                     const search_class *c,
                                                                     unsigned iw, unsigned ow,
                                                                     bool *stopped)
{
    const prime_tagstore *st = w->s->store;
    const double *out = w->s->out;
    uint32_t *count = w->count, *touched = w->touched;
    uint64_t *sum = w->sum;
    uint32_t n_touched = 0;
    for (uint32_t j = 0; j < c->n; j++) {
        if (j % PREP_TICK == PREP_TICK - 1 && !check_point(w)) {
            *stopped = true;
            return n_touched;
        }
        uint32_t img = class_image(c, j);
        double v = out[img];
        uint64_t a = prime__store_tag_off_w(st, img, ow);
        uint64_t b = prime__store_tag_off_w(st, img + 1, ow);
        if (c->binary && v != 0.0) {
            /* a correct image: most of them; only counts */
            for (uint64_t k = a; k < b; k++) {
                uint32_t t = prime__store_tag_w(st, k, iw);
                if (count[t]++ == 0)
                    touched[n_touched++] = t;
            }
            continue;
        }
        uint64_t add = c->binary ? 1 : prime__fx_from(v);
        for (uint64_t k = a; k < b; k++) {
            uint32_t t = prime__store_tag_w(st, k, iw);
            if (count[t]++ == 0)
                touched[n_touched++] = t;
            sum[t] += add;
        }
    }
    return n_touched;
}

/* Pass 2: set the bits of the candidate columns. w->map takes every tag of
 * the class to its column, the tags that are not candidates to the spare
 * column m: no test in the loop (a branch on "is a candidate" would be
 * mispredicted for a large share of the references). When c->img_beg is
 * not NULL, the same pass writes the rows (the candidates of each image,
 * ascending as the store's ids are and w->map keeps their order; one
 * spare entry at the end takes the last non-candidate). false where a
 * check point said to stop. */
static inline __attribute__((always_inline)) bool set_bits_w(search_worker *w, search_class *c,
                                                               const uint32_t *rank, unsigned iw,
                                                               unsigned ow)
{
    const prime_tagstore *st = w->s->store;
    const uint32_t *map = w->map;
    size_t words = c->words;
    uint32_t m = c->m_pending;
    uint16_t *tags = c->img_tags;
    uint32_t at = 0;
    for (uint32_t j = 0; j < c->n; j++) {
        if (j % PREP_TICK == PREP_TICK - 1 && !check_point(w))
            return false;
        uint32_t img = class_image(c, j);
        size_t bit = c->binary ? rank[j] : j;
        uint64_t a = prime__store_tag_off_w(st, img, ow);
        uint64_t b = prime__store_tag_off_w(st, img + 1, ow);
        if (c->img_beg == NULL) {
            for (uint64_t k = a; k < b; k++) {
                uint32_t ci = map[prime__store_tag_w(st, k, iw)];
                prime__bits_set(c->cols + (size_t)ci * words, bit);
            }
            continue;
        }
        c->img_beg[bit] = at;
        if (tags == NULL) {
            /* the rows' bounds only: their entries come from the columns
               (rows_fill()) */
            for (uint64_t k = a; k < b; k++) {
                uint32_t ci = map[prime__store_tag_w(st, k, iw)];
                prime__bits_set(c->cols + (size_t)ci * words, bit);
                at += ci < m;
            }
        } else {
            for (uint64_t k = a; k < b; k++) {
                uint32_t ci = map[prime__store_tag_w(st, k, iw)];
                prime__bits_set(c->cols + (size_t)ci * words, bit);
                tags[at] = (uint16_t)ci; /* ci <= m <= UINT16_MAX (rows_fit()) */
                at += ci < m;
            }
        }
        c->img_end[bit] = at;
    }
    return true;
}

/* Call F(id width, offset width) specialised for the widths of store st. */
#define WITH_WIDTHS(st, F)                                                    \
    do {                                                                      \
        if ((st)->ids16) {                                                    \
            if ((st)->off32)                                                  \
                F(2u, 4u);                                                    \
            else                                                              \
                F(2u, 8u);                                                    \
        } else if ((st)->off32) {                                             \
            F(4u, 4u);                                                        \
        } else {                                                              \
            F(4u, 8u);                                                        \
        }                                                                     \
    } while (0)

/* Whether the rows of class c (its m candidates and img_entries set) fit
 * their types: 32-bit offsets, 16-bit candidate indices (m itself marks a
 * tag that is not a candidate while they are written). */
static inline bool rows_fit(const search_class *c)
{
    return c->img_entries < UINT32_MAX - 1 && c->m <= UINT16_MAX;
}

/* The steps that counting row i of the pair table over the rows of its
 * column's images (pair_row_rows(): one per entry of those rows) saves
 * against one intersection per later tag (the positions of a sparse
 * column, `ids`, probed; else a quarter step per word), when positive;
 * else 0. */
static double pair_rows_saving(const search_ctx *s, const search_class *c, uint32_t i, bool ids)
{
    (void)s;
    if (c->n == 0)
        return 0;
    uint64_t n = c->col_size[i];
    uint64_t nw = c->binary ? n - (c->col_sum[i] >> PRIME_FX_SHIFT) : 0; /* wrong */
    double per_image = (double)c->img_entries / (double)c->n;
    double by_rows = (double)n * per_image;
    double by_pairs = (double)(c->m - i - 1) *
                      (ids ? (double)(c->binary ? nw : n)
                           : (double)(c->binary ? c->wrong_words : c->words) * 0.25);
    return by_rows < by_pairs ? by_pairs - by_rows : 0;
}

static prime_status rows_build(search_worker *w, search_class *c);
static bool rows_fill(search_worker *w, search_class *c);

/* The order of the candidates (prime__search_set_order). */
static uint32_t order_mode = 1;

void prime__search_set_order(uint32_t mode)
{
    order_mode = mode > 1 ? 1 : mode;
}

/* The search order of the m candidates of a class with 0/1 outcomes,
 * w->touched[0..m) (sorted by store id; their sizes in w->count): by
 * ascending size, ties by id, as frequent-itemset miners order their items
 * (Eclat, FP-growth): a node only adds tags that come after its last one,
 * so the large tags come last, where the sets they join are already small,
 * and the first tag of a subtree, whose projection (project()) every set
 * of it is intersected in, is a small one. Sets of tags, so the same sets
 * are visited in any order (each test is on the set: size, wrong images,
 * pairs; all monotone), and the modes are the same. Other outcomes keep the
 * order of the ids: there a node descends on can_reach_drop() of the set
 * itself, which its children are visited without, so which sets are
 * candidates depends on which tag comes last (the sharded search orders by
 * id too). false: out of memory. */
static bool order_candidates(search_worker *w, uint32_t m)
{
    if (w->s->order_mode == 0 || m < 2)
        return true;
    uint64_t *key = prime__malloc((size_t)m * sizeof *key);
    if (key == NULL)
        return false;
    for (uint32_t k = 0; k < m; k++) {
        uint32_t t = w->touched[k];
        key[k] = (uint64_t)w->count[t] << 32 | t;
    }
    qsort(key, m, sizeof *key, prime__cmp_u64);
    for (uint32_t k = 0; k < m; k++)
        w->touched[k] = (uint32_t)key[k];
    prime__free(key);
    return true;
}

/* Classes of at least this many words (16,384 images) project every
 * first tag that has tags to add: measured on the generated stores of
 * bench/scale.sh, where the deeper levels gain most of it. */
#define PROJECT_WORDS 256

static prime_status prepare_class(search_worker *w, search_class *c)
{
    search_ctx *s = w->s;
    const prime_tagstore *st = s->store;

    /* the outcomes of the class: 0/1 or not */
    uint32_t n_wrong = 0;
    c->binary = true;
    for (uint32_t j = 0; j < c->n && c->binary; j++) {
        double v = s->out[class_image(c, j)];
        c->binary = v == 0.0 || v == 1.0;
        n_wrong += v == 0.0;
    }
    if (c->binary) {
        c->wrong_words = prime__bits_words(n_wrong);
        c->words = c->wrong_words + prime__bits_words(c->n - n_wrong);
        c->need_wrong = prime__fx_need_wrong(c->acc, c->n, c->min_size, s->min_drop);
    } else {
        c->words = prime__bits_words(c->n);
    }
    c->m = 0;

    /* size and outcome sum of every tag of the class */
    uint32_t n_touched = 0;
    bool stopped = false;
#define COUNT(iw, ow) (n_touched = count_tags_w(w, c, iw, ow, &stopped))
    WITH_WIDTHS(st, COUNT);
#undef COUNT
    if (stopped) {
        clear_counts(w, n_touched);
        return PRIME_E_CANCELLED; /* not an error of its own: see run_item() */
    }

    /* the candidates: tags that can be in a mode on their own. A column's
     * size is its count and its sum the outcome sum (with 0/1 outcomes,
     * the number of correct images), so a tag is judged before it gets a
     * column and only candidates take memory. */
    uint32_t m = 0;
    for (uint32_t k = 0; k < n_touched; k++) {
        uint32_t t = w->touched[k];
        uint64_t size = w->count[t];
        uint64_t sum = w->sum[t]; /* 0/1 outcomes: the wrong images */
        bool keep = size >= c->cand_min &&
                    (c->binary ? sum >= c->need_wrong
                               : can_reach_drop(s, c, size, sum));
        if (keep) {
            /* the candidates first, the others after them */
            w->touched[k] = w->touched[m];
            w->touched[m++] = t;
        } else {
            w->count[t] = 0;
            w->sum[t] = 0;
        }
    }
    if (m == 0)
        return PRIME_OK;
    prime__sort_u32(w->touched, m);
    if (c->binary && !order_candidates(w, m)) {
        clear_counts(w, m);
        return PRIME_E_NOMEM;
    }

    /* one block that lives until the end of the search: cols (and the
       spare column m), rows, col_size, col_sum, [vals], cand */
    size_t words = c->words;
    size_t row_words = prime__bits_words(m);
    size_t n64 = ((size_t)m + 1) * words + (size_t)m * row_words + m;
    size_t nd = (size_t)m + (c->binary ? 0 : c->n);
    size_t n32 = (size_t)m;
    size_t bytes = n64 * sizeof(uint64_t) + nd * sizeof(uint64_t) + n32 * sizeof(uint32_t);
    uint64_t *block = prime__calloc(bytes, 1);
    if (block == NULL) {
        clear_counts(w, m);
        return PRIME_E_NOMEM;
    }
    c->block = block;
    c->cols = block;
    c->rows = c->cols + ((size_t)m + 1) * words;
    c->row_words = row_words;
    c->col_size = c->rows + (size_t)m * row_words;
    c->col_sum = c->col_size + m;
    c->vals = c->binary ? NULL : c->col_sum + m;
    c->cand = (uint32_t *)(c->col_sum + m + (c->binary ? 0 : c->n));
    uint32_t *rank = w->rank; /* binary only: bit position of image j */
    for (uint32_t k = 0; k < m; k++) {
        uint32_t t = w->touched[k];
        c->cand[k] = t;
        c->col_size[k] = w->count[t];
        /* 0/1 outcomes: the correct images, size - wrong */
        c->col_sum[k] = c->binary ? (uint64_t)(w->count[t] - (uint32_t)w->sum[t]) << PRIME_FX_SHIFT
                                  : w->sum[t];
        w->count[t] = 0;
        w->sum[t] = 0;
        w->map[t] = k;
    }
    for (uint32_t k = m; k < n_touched; k++)
        w->map[w->touched[k]] = m;

    if (c->binary) {
        uint32_t nw = 0, nc = 0;
        for (uint32_t j = 0; j < c->n; j++) {
            if (s->out[class_image(c, j)] == 0.0)
                rank[j] = nw++;
            else
                rank[j] = (uint32_t)(c->wrong_words * PRIME_BITS_WORD) + nc++;
        }
    } else {
        for (uint32_t j = 0; j < c->n; j++)
            c->vals[j] = prime__fx_from(s->out[class_image(c, j)]);
    }
    /* the rows (project(), pair_row_rows()), where they fit their types
       (rows_fit()) and are estimated to pay: in a class projected
       whatever its tags, or where counting the pair table over them saves
       more than they cost; a smaller class may get them from its columns
       once its pair table says that projections pay (rows_from_columns()) */
    uint64_t entries = 0;
    for (uint32_t k = 0; k < m; k++)
        entries += c->col_size[k];
    size_t n_pos = words * PRIME_BITS_WORD;
    c->img_beg = c->img_end = NULL;
    c->img_tags = NULL;
    c->img_entries = entries;
    c->m = m; /* for pair_rows_saving() */
    bool rows = s->pair_rows == 2 || (s->proj_mode != 0 && words >= PROJECT_WORDS);
    if (!rows && s->pair_rows != 0) {
        double saved = 0;
        for (uint32_t k = 0; k < m; k++)
            saved += pair_rows_saving(s, c, k, sparse(s, c->col_size[k], words));
        rows = saved > (double)entries;
    }
    rows = rows && rows_fit(c);
    /* candidates in the order of the store's ids: the rows are written
       with the columns, ascending as the store lists an image's tags;
       else only their bounds, the entries from the columns once they are
       set (rows_fill()) */
    bool rows_now = rows && (!c->binary || s->order_mode == 0);
    c->m = 0;
    if (rows) {
        c->img_block = prime__malloc(2 * n_pos * sizeof(uint32_t) +
                                     ((size_t)entries + 1) * sizeof(uint16_t));
        if (c->img_block == NULL)
            return PRIME_E_NOMEM; /* c->block is freed with the classes */
        c->img_beg = c->img_block;
        c->img_end = c->img_beg + n_pos;
        c->img_tags = rows_now ? (uint16_t *)(c->img_end + n_pos) : NULL;
        /* the positions without an image (the gap after the wrong ones) */
        memset(c->img_beg, 0, 2 * n_pos * sizeof(uint32_t));
    }
    c->m_pending = m;
    bool set = true;
#define SET(iw, ow) (set = set_bits_w(w, c, rank, iw, ow))
    WITH_WIDTHS(st, SET);
#undef SET
    c->m = m;
    if (!set)
        return PRIME_E_CANCELLED; /* c->block, c->img_block go with the classes */
    if (rows && !rows_now) {
        c->img_tags = (uint16_t *)(c->img_end + n_pos);
        if (!rows_fill(w, c))
            return PRIME_E_CANCELLED;
    }

    /* the sparse columns as sorted positions too */
    size_t n_ids = 0;
    for (uint32_t k = 0; k < m; k++)
        if (sparse(s, c->col_size[k], words))
            n_ids += c->col_size[k];
    c->pair_stat = prime__calloc(m, sizeof *c->pair_stat);
    if (c->pair_stat == NULL)
        return PRIME_E_NOMEM; /* c->block is freed with the classes */
    c->ids_block = prime__malloc((size_t)m * sizeof(uint32_t *) + n_ids * sizeof(uint32_t));
    if (c->ids_block == NULL)
        return PRIME_E_NOMEM; /* c->block is freed with the classes */
    c->col_ids = c->ids_block;
    uint32_t *pos = (uint32_t *)(c->col_ids + m);
    for (uint32_t k = 0; k < m; k++) {
        c->col_ids[k] = NULL;
        if (k % 64 == 63 && !check_point(w))
            return PRIME_E_CANCELLED;
        if (!sparse(s, c->col_size[k], words))
            continue;
        c->col_ids[k] = pos;
        pos += prime__bits_ids(c->cols + (size_t)k * words, words, pos);
    }

    return PRIME_OK;
}

/* How pair_row counts (prime__search_set_pair_rows). */
static uint32_t pair_rows = 1;

void prime__search_set_pair_rows(uint32_t mode)
{
    pair_rows = mode > 2 ? 1 : mode;
}

/* Keep the pair stats st_size/st_sum[0..n_st) as c->pair_stat[i]. */
static bool keep_pair_stats(search_class *c, uint32_t i, const uint64_t *st_size,
                            const uint64_t *st_sum, uint32_t n_st)
{
    uint64_t *stat = prime__malloc((n_st ? 2 * (size_t)n_st : 1) * sizeof *stat);
    if (stat == NULL)
        return false;
    for (uint32_t x = 0; x < n_st; x++) {
        stat[2 * x] = st_size[x];
        stat[2 * x + 1] = st_sum[x];
    }
    c->pair_stat[i] = stat;
    return true;
}

/* Row i of the pair table (as pair_row) counted in one pass over the rows
 * of the images of column i: every entry l > i adds to the counters of
 * the pair {i, l} (occurrence delivery, as in Uno et al.'s LCM); exact
 * counts and fixed-point sums, so the same row and stats. */
static bool pair_row_rows(search_worker *w, search_class *c, uint32_t i)
{
    const search_ctx *s = w->s;
    uint64_t *st_size = w->sv_size, *st_sum = w->sv_sum; /* level 0: free */
    uint32_t n_st = 0;
    size_t words = c->words;
    uint64_t *row = c->rows + (size_t)i * c->row_words;
    uint32_t n = (uint32_t)c->col_size[i];
    uint32_t nw = c->binary ? n - (uint32_t)(c->col_sum[i] >> PRIME_FX_SHIFT) : 0;
    const uint32_t *pos = c->col_ids[i];
    if (pos == NULL) {
        prime__bits_ids(c->cols + (size_t)i * words, words, w->pos);
        pos = w->pos;
    }
    const uint32_t *end = c->img_end;
    const uint16_t *tags = c->img_tags;
    uint32_t *cw = w->pc_wrong, *cs = w->pc_size;
    uint64_t *sum = w->pc_sum;
    for (uint32_t x = 0; x < n; x++) {
        uint32_t p = pos[x];
        /* p is an image of i: its row holds i, which ends the walk down
           from the row's end (no test of the row's start) */
        const uint16_t *q = tags + end[p];
        if (c->binary) {
            uint32_t wrong = x < nw;
            while (q[-1] > i) {
                uint32_t t = *--q;
                cs[t]++;
                cw[t] += wrong;
            }
        } else {
            uint64_t v = c->vals[p];
            while (q[-1] > i) {
                uint32_t t = *--q;
                cs[t]++;
                sum[t] += v;
            }
        }
    }
    for (uint32_t l = i + 1; l < c->m; l++) {
        uint64_t size = cs[l], wrong = cw[l], q = sum[l];
        cs[l] = 0;
        cw[l] = 0;
        sum[l] = 0;
        if (c->binary) {
            if (wrong < c->need_wrong || size < c->min_size)
                continue;
            q = (size - wrong) << PRIME_FX_SHIFT;
        } else if (size < c->min_size || !can_reach_drop(s, c, size, q)) {
            continue;
        }
        st_size[n_st] = size;
        st_sum[n_st] = q;
        prime__bits_set(row, l);
        n_st++;
    }
    return keep_pair_stats(c, i, st_size, st_sum, n_st);
}

/* Phase 2: row i of the pair table, and the size and sum of its pairs
 * (pair_stat[i]). false: out of memory. */
static bool pair_row(search_worker *w, search_class *c, uint32_t i)
{
    uint64_t *st_size = w->sv_size, *st_sum = w->sv_sum; /* level 0: free */
    uint32_t n_st = 0;
    const search_ctx *s = w->s;
    size_t words = c->words, ww = c->wrong_words;
    const uint64_t *a = c->cols + (size_t)i * words;
    uint64_t *row = c->rows + (size_t)i * c->row_words;
    const uint32_t *ids = c->col_ids[i];
    uint32_t n = (uint32_t)c->col_size[i];
    uint32_t nw = c->binary ? n - (uint32_t)(c->col_sum[i] >> PRIME_FX_SHIFT) : 0; /* wrong */
    /* by the rows of the column's images when that reads fewer entries
       than one intersection per later tag would cost */
    if (c->img_beg != NULL && c->n > 0 && s->pair_rows != 0) {
        if (s->pair_rows == 2 || pair_rows_saving(s, c, i, ids != NULL) > 0)
            return pair_row_rows(w, c, i);
    }
    for (uint32_t l = i + 1; l < c->m; l++) {
        const uint64_t *b = c->cols + (size_t)l * words;
        if (ids != NULL) {
            /* a sparse column: probe its positions */
            if (c->binary) {
                uint32_t wrong = probe_count(ids, nw, b);
                if (wrong < c->need_wrong)
                    continue;
                uint32_t right = probe_count(ids + nw, n - nw, b);
                if (wrong + right < c->min_size)
                    continue;
                st_size[n_st] = (uint64_t)wrong + right;
                st_sum[n_st] = (uint64_t)right << PRIME_FX_SHIFT;
            } else {
                uint32_t size = probe(ids, n, b, w->ids);
                if (size < c->min_size)
                    continue;
                uint64_t sum = ids_sum(w->ids, size, c->vals);
                if (!can_reach_drop(s, c, size, sum))
                    continue;
                st_size[n_st] = size;
                st_sum[n_st] = sum;
            }
        } else if (c->binary) {
            uint64_t wrong = s->k->and_popcount(a, b, ww);
            if (wrong < c->need_wrong)
                continue;
            uint64_t right = s->k->and_popcount(a + ww, b + ww, words - ww);
            if (wrong + right < c->min_size)
                continue;
            st_size[n_st] = wrong + right;
            st_sum[n_st] = right << PRIME_FX_SHIFT;
        } else {
            uint64_t size = s->k->and_count(w->stack, a, b, words);
            if (size < c->min_size)
                continue;
            uint64_t sum = prime__bits_sum(w->stack, words, c->vals);
            if (!can_reach_drop(s, c, size, sum))
                continue;
            st_size[n_st] = size;
            st_sum[n_st] = sum;
        }
        prime__bits_set(row, l);
        n_st++;
    }
    return keep_pair_stats(c, i, st_size, st_sum, n_st);
}

/* The size and sum of the pair {i, l} (i < l) from the pair table; false
 * when the pair is not in it. */
static bool pair_stats(const search_class *c, uint32_t i, uint32_t l, uint64_t *size,
                       uint64_t *sum)
{
    const uint64_t *row = c->rows + (size_t)i * c->row_words;
    if (c->pair_stat == NULL || c->pair_stat[i] == NULL || !prime__bits_get(row, l))
        return false;
    size_t at = 0, lw = l / PRIME_BITS_WORD;
    for (size_t x = 0; x < lw; x++)
        at += (size_t)__builtin_popcountll(row[x]);
    at += (size_t)__builtin_popcountll(row[lw] & (((uint64_t)1 << (l % PRIME_BITS_WORD)) - 1));
    *size = c->pair_stat[i][2 * at];
    *sum = c->pair_stat[i][2 * at + 1];
    return true;
}

/* ------------------------------------------------------------------------ */
/* Phase 2: depth-first search from one first tag                             */
/* ------------------------------------------------------------------------ */

/* Size and outcome sum of the images of the positions ids[0..n) whose bit
 * is set in every bitset of ops[0..n_ops); in ascending order, so the sum
 * is the one of the bitset. */
static void probe_stats(const search_class *c, const uint32_t *ids, uint32_t n,
                        const uint64_t *const *ops, uint32_t n_ops, uint64_t *size_out,
                        uint64_t *sum_out)
{
    uint64_t size = 0, right = 0, sum = 0;
    uint32_t correct_from = (uint32_t)(c->wrong_words * PRIME_BITS_WORD);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = ids[i];
        uint64_t in = 1;
        for (uint32_t o = 0; o < n_ops && in; o++)
            in = prime__bits_get(ops[o], id);
        if (!in)
            continue;
        size++;
        if (c->binary)
            right += id >= correct_from;
        else
            sum += c->vals[id];
    }
    *size_out = size;
    *sum_out = c->binary ? right << PRIME_FX_SHIFT : sum;
}

/* Size and outcome sum of S_{path[0..k) without path[drop]} for a node of
 * depth k >= 3 (drop < k - 1). It is the set of the DFS ancestor of depth
 * `drop` (none for drop 0) intersected with the columns path[drop+1..k):
 * - from sorted positions when the ancestor or one of the columns has
 *   them (the smallest such), probing the others' bitsets;
 * - else by fused AND + count over the words, in `scratch`.
 * The sum is in fixed point, so it does not depend on the way. Without the
 * first tag (drop 0) in the class itself (w->full), else in c (which may
 * be the first tag's projection, project()). */
static void subset_stats(const search_worker *w, const search_class *c, uint32_t k,
                         uint32_t drop, uint64_t *scratch, uint64_t *size_out,
                         uint64_t *sum_out)
{
    const search_ctx *s = w->s;
    if (drop == 0)
        c = w->full; /* the set lies outside the first tag's images */
    size_t words = c->words, ww = c->wrong_words;
    const uint64_t *ops[PRIME_MAX_TAGS_LIMIT + 1] = {0};
    uint32_t n_ops = 0;
    const uint32_t *start = NULL;
    uint64_t start_n = 0;
    int start_op = -1;
    if (drop > 0) {
        if (w->lvl_ids[drop] != NULL) {
            start = w->lvl_ids[drop];
            /* the ancestor's size: its column's for depth 1, else kept below */
        }
        ops[n_ops++] = w->lvl_set[drop];
    }
    for (uint32_t i = drop + 1; i < k; i++)
        ops[n_ops++] = col_at(c, w->path[i]);
    if (start != NULL) {
        start_op = 0;
        start_n = w->lvl_size[drop];
    } else {
        for (uint32_t i = drop + 1; i < k; i++) {
            uint32_t col = w->path[i];
            if (c->col_ids[col] != NULL && (start == NULL || c->col_size[col] < start_n)) {
                start = c->col_ids[col];
                start_n = c->col_size[col];
                start_op = (int)(n_ops - (k - i));
            }
        }
    }
    if (start != NULL) {
        /* probe every operand but the start (an array node has no bitset) */
        const uint64_t *rest[PRIME_MAX_TAGS_LIMIT + 1];
        uint32_t n_rest = 0;
        for (uint32_t o = 0; o < n_ops; o++)
            if ((int)o != start_op)
                rest[n_rest++] = ops[o];
        probe_stats(c, start, (uint32_t)start_n, rest, n_rest, size_out, sum_out);
        return;
    }
    uint64_t n = s->k->and_count(scratch, ops[0], ops[1], words);
    for (uint32_t o = 2; o < n_ops && n != 0; o++)
        n = s->k->and_count(scratch, scratch, ops[o], words);
    *size_out = n;
    if (c->binary)
        *sum_out = n == 0 ? 0 : s->k->count(scratch + ww, words - ww) << PRIME_FX_SHIFT;
    else
        *sum_out = n == 0 ? 0 : prime__bits_sum(scratch, words, c->vals);
}

/* The size and sum of the child j of the node of depth d = k - 2 on the
 * DFS path, from that node's survivors (their index by tag, sv_idx), for
 * the check of a node of depth k whose last tag is j; false if j is not
 * one. */
static bool survivor_stats(search_worker *w, uint32_t k, uint32_t j, uint64_t *size,
                           uint64_t *sum)
{
    size_t base = (size_t)(k - 2) * w->s->max_m;
    uint32_t v = w->sv_idx[base + j];
    if (v >= w->lvl_nsv[k - 2] || w->sv_j[base + v] != j)
        return false;
    *size = w->sv_size[base + v];
    *sum = w->sv_sum[base + v];
    return true;
}

/* How necessary() finds the sets without one tag (prime__search_set_necessity). */
static uint32_t nec_mode = 1;

void prime__search_set_necessity(uint32_t mode)
{
    nec_mode = mode > 2 ? 1 : mode;
}

/* The number of nec_set slots: one per parent depth p (3 <= p < max_tags)
 * and tag d <= p - 2 of it (the checks of a node of depth k = p + 1
 * without path[d], d <= k - 3). */
static inline size_t nec_slots(uint32_t max_tags)
{
    size_t n = 0;
    for (uint32_t p = 3; p < max_tags; p++)
        n += p - 1;
    return n;
}

/* e = the set of the node of depth p without path[d] (d <= p - 2): the
 * ancestor of depth d (none for d 0) intersected with the columns
 * path[d+1..p), in the class itself for d 0 (w->full), else in c. From
 * sorted positions when the ancestor or one of the columns has them (the
 * smallest such), probing the others; else by fused AND + count, from the
 * same set of the node of depth p - 1 (nec[p-1][d], built first when it is
 * not kept for that node), so that the siblings of depth p under one
 * parent each cost one AND (the necessity of tags dropped before a pivot,
 * whose sets are not local). */
static void nec_build(search_worker *w, const search_class *c, uint32_t p, uint32_t d,
                      nec_set *e)
{
    const search_ctx *s = w->s;
    if (d == 0)
        c = w->full;
    size_t words = c->words, ww = c->wrong_words;
    uint32_t correct_from = (uint32_t)(ww * PRIME_BITS_WORD);
    bool chain = s->nec_mode == 1 && p >= 4 && d + 3 <= p;
    uint64_t n;
    if (chain && w->nec[p - 1][d].node == w->lvl_node[p - 1] && w->nec[p - 1][d].has_set &&
        c->col_ids[w->path[p - 1]] == NULL) {
        /* the parent's is kept as a bitset (no positions on the way) and
           the last column has none either */
        n = s->k->and_count(e->set, w->nec[p - 1][d].set, col_at(c, w->path[p - 1]), words);
        goto counted;
    }
    const uint64_t *ops[PRIME_MAX_TAGS_LIMIT + 1] = {0};
    uint32_t n_ops = 0;
    const uint32_t *start = NULL;
    uint64_t start_n = 0;
    int start_op = -1;
    bool from_ancestor = d > 0 && w->lvl_ids[d] != NULL;
    if (d > 0) {
        if (from_ancestor) {
            start = w->lvl_ids[d];
            start_n = w->lvl_size[d];
            start_op = 0;
        }
        ops[n_ops++] = w->lvl_set[d];
    }
    for (uint32_t i = d + 1; i < p; i++) {
        uint32_t col = w->path[i];
        if (!from_ancestor && c->col_ids[col] != NULL &&
            (start == NULL || c->col_size[col] < start_n)) {
            start = c->col_ids[col];
            start_n = c->col_size[col];
            start_op = (int)n_ops;
        }
        ops[n_ops++] = col_at(c, col);
    }
    if (start != NULL) {
        const uint64_t *rest[PRIME_MAX_TAGS_LIMIT + 1];
        uint32_t n_rest = 0;
        for (uint32_t o = 0; o < n_ops; o++)
            if ((int)o != start_op)
                rest[n_rest++] = ops[o];
        e->has_set = false;
        uint32_t in_e = 0, nw = 0;
        for (uint64_t i = 0; i < start_n; i++) {
            uint32_t id = start[i];
            uint64_t in = 1;
            for (uint32_t o = 0; o < n_rest && in; o++)
                in = prime__bits_get(rest[o], id);
            e->ids[in_e] = id;
            in_e += (uint32_t)in;
            nw += (uint32_t)in & (uint32_t)(id < correct_from);
        }
        e->n = in_e;
        e->n_wrong = c->binary ? nw : 0;
        e->as_ids = true;
        return;
    }
    if (chain) {
        /* one tag more than the same set of the parent (depth p - 1): its
           sets come the same way (no positions: neither the ancestor nor
           a column has them) */
        nec_set *up = &w->nec[p - 1][d];
        if (up->node != w->lvl_node[p - 1] || !up->has_set) {
            nec_build(w, c, p - 1, d, up);
            up->node = w->lvl_node[p - 1];
        }
        n = s->k->and_count(e->set, up->set, ops[n_ops - 1], words);
    } else {
        n = s->k->and_count(e->set, ops[0], ops[1], words);
        for (uint32_t o = 2; o < n_ops; o++)
            n = s->k->and_count(e->set, e->set, ops[o], words);
    }
counted:
    e->has_set = true;
    e->n = (uint32_t)n;
    e->as_ids = sparse(s, n, words);
    /* the wrong ones are counted for the positions' probes (nec_stats()
       counts a bitset's wrong images with the column's) */
    e->n_wrong = c->binary && e->as_ids ? (uint32_t)s->k->count(e->set, ww) : 0;
    if (e->as_ids)
        prime__bits_ids(e->set, words, e->ids);
}

/* With 0/1 outcomes, once the wrong images `wrong` of a superset Q of the
 * checked set S are counted: whether Q passes the check whatever its
 * correct images, which are at least S's `right`. The accuracy
 * right / (wrong + right), rounded once, does not fall as `right` grows,
 * so when it passes with S's it passes with Q's; necessary() then tests
 * these stats again and gets the same answer. */
static inline bool passes_anyway(uint64_t wrong, uint64_t right, double acc, double need)
{
    return prime__fx_mean(right << PRIME_FX_SHIFT, wrong + right) - acc >= need;
}

/* Size and outcome sum of e (nec_build(.., d, e)) intersected with column
 * j; scratch: max_words words. With 0/1 outcomes and s->nec_mode 1, stats
 * that pass the check as the true ones would (passes_anyway(): S's
 * `right` correct images, acc and need of the check) when the wrong
 * images alone decide it, without counting the correct ones. */
static void nec_stats(const search_worker *w, const search_class *c, uint32_t d,
                      const nec_set *e, uint32_t j, uint64_t *scratch, uint64_t right_s,
                      double acc, double need, uint64_t *size_out, uint64_t *sum_out)
{
    bool early = w->s->nec_mode == 1;
    const search_ctx *s = w->s;
    if (d == 0)
        c = w->full;
    size_t words = c->words, ww = c->wrong_words;
    const uint64_t *col = col_at(c, j);
    const uint32_t *cj = c->col_ids[j];
    if (e->as_ids || cj != NULL) {
        /* probe the positions of the set, or of the (sparse) column */
        const uint32_t *ids = e->as_ids ? e->ids : cj;
        const uint64_t *bits = e->as_ids ? col : e->set;
        uint32_t n = e->as_ids ? e->n : (uint32_t)c->col_size[j];
        if (c->binary) {
            uint32_t nw = e->as_ids ? e->n_wrong
                                    : n - (uint32_t)(c->col_sum[j] >> PRIME_FX_SHIFT);
            uint32_t wrong = probe_count(ids, nw, bits);
            if (early && passes_anyway(wrong, right_s, acc, need)) {
                *size_out = wrong + right_s;
                *sum_out = right_s << PRIME_FX_SHIFT;
                return;
            }
            uint32_t right = probe_count(ids + nw, n - nw, bits);
            *size_out = (uint64_t)wrong + right;
            *sum_out = (uint64_t)right << PRIME_FX_SHIFT;
        } else {
            uint64_t size = 0, sum = 0;
            for (uint32_t i = 0; i < n; i++) {
                uint64_t in = prime__bits_get(bits, ids[i]);
                size += in;
                sum += c->vals[ids[i]] & ((uint64_t)0 - in);
            }
            *size_out = size;
            *sum_out = sum;
        }
        return;
    }
    if (c->binary) {
        uint64_t wrong = s->k->and_popcount(e->set, col, ww);
        if (early && passes_anyway(wrong, right_s, acc, need)) {
            *size_out = wrong + right_s;
            *sum_out = right_s << PRIME_FX_SHIFT;
            return;
        }
        uint64_t right = s->k->and_popcount(e->set + ww, col + ww, words - ww);
        *size_out = wrong + right;
        *sum_out = right << PRIME_FX_SHIFT;
        return;
    }
    uint64_t n = s->k->and_count(scratch, e->set, col, words);
    *size_out = n;
    *sum_out = n == 0 ? 0 : prime__bits_sum(scratch, words, c->vals);
}

/* Size and outcome sum (fixed point) of the local set `m` (a mask over
 * the pivot's images, visit()). */
static inline void local_stats(const search_worker *w, const search_class *c, uint64_t m,
                               uint64_t *size_out, uint64_t *sum_out)
{
    if (c->binary) {
        uint64_t size = prime__popcount64(m);
        *size_out = size;
        *sum_out = (size - prime__popcount64(m & w->piv_wrong)) << PRIME_FX_SHIFT;
        return;
    }
    uint64_t size = 0, sum = 0;
    for (; m != 0; m &= m - 1, size++)
        sum += w->lvals[__builtin_ctzll(m)];
    *size_out = size;
    *sum_out = sum;
}

/* Size and sum of S_{path[0..k) without path[drop]} for a local node of
 * depth k (drop >= w->piv): the pivot's images that all the other tags
 * added since the pivot have. Always true (a `known` for necessary()). */
static bool local_without(const search_worker *w, const search_class *c, uint32_t k,
                          uint32_t drop, uint64_t *size_out, uint64_t *sum_out)
{
    uint64_t m = ~(uint64_t)0;
    for (uint32_t i = w->piv; i < k; i++)
        if (i != drop)
            m &= w->lcol[w->path[i]];
    local_stats(w, c, m, size_out, sum_out);
    return true;
}

/* The survivors row of the node of depth k whose last tag is t
 * (w->surv_mask). */
static inline uint64_t *surv_row(const search_worker *w, uint32_t k, uint32_t t)
{
    const search_ctx *s = w->s;
    size_t row = s->sib ? (size_t)k * s->max_m + t : (size_t)k;
    return w->surv_mask + row * s->max_row_words;
}

#define POOL_NONE UINT32_MAX

/* The size and sum of S_{path[0..k) without path[k-3]} (k >= 4): the child
 * path[k-1] of the node path[0..k-3) + path[k-2], a later sibling of the
 * ancestor of depth k - 2, visited before it, from the survivors it kept
 * (w->pool_*); false when they were not kept. */
static bool sibling_stats(const search_worker *w, uint32_t k, uint64_t *size, uint64_t *sum)
{
    const search_ctx *s = w->s;
    uint32_t d = k - 2, y = w->path[k - 2], l = w->path[k - 1];
    uint32_t off = w->pool_at[(size_t)d * s->max_m + y];
    const uint64_t *row = surv_row(w, d, y);
    if (off == POOL_NONE || !prime__bits_get(row, l))
        return false;
    size_t lw = l / PRIME_BITS_WORD;
    for (size_t x = 0; x < lw; x++)
        off += (uint32_t)prime__popcount64(row[x]);
    off += (uint32_t)prime__popcount64(row[lw] & (((uint64_t)1 << (l % PRIME_BITS_WORD)) - 1));
    *size = w->pool_size[(size_t)d * s->pool_cap + off];
    *sum = w->pool_sum[(size_t)d * s->pool_cap + off];
    return true;
}

/* Necessity: removing any one tag of the k-tag set path[0..k) (with size
 * and sum) must raise accuracy by min_gain(k). psize/psum are the stats of
 * path[0..k-1), the search parent; for k = 2 the other subset is a single
 * column, whose statistics are at hand. */
static bool necessary(search_worker *w, const search_class *c, uint32_t k, uint64_t size,
                      uint64_t sum, uint64_t psize, uint64_t psum)
{
    const search_ctx *s = w->s;
    double acc = prime__fx_mean(sum, size);
    double need = s->gain[k] - PRIME_EPS;
    if (prime__fx_mean(psum, psize) - acc < need)
        return false;
    if (k == 1)
        return true;
    if (k == 2) {
        uint32_t o = w->path[1];
        return prime__fx_mean(c->col_sum[o], c->col_size[o]) - acc >= need;
    }
    /* the subsets from the cheapest: without path[k-2], a child of the
       node of depth k-2, counted there (a survivor: it holds this set, so
       its size and wrong images are no fewer); then within the first
       tag's images (projected); without the first tag last */
    for (uint32_t drop = k - 1; drop-- > 0;) {
        uint64_t qs;
        uint64_t qsum;
        bool known = drop + 2 == k ? survivor_stats(w, k, w->path[k - 1], &qs, &qsum)
                     : drop + 3 == k && k >= 4 && s->sib && sibling_stats(w, k, &qs, &qsum)
                         ? true
                     : w->lvl_local[k] && drop >= w->piv
                         ? local_without(w, c, k, drop, &qs, &qsum)
                     : drop == 0 && k == 3 ? pair_stats(w->full, w->path[1], w->path[2], &qs, &qsum)
                                           : false;
        if (!known && k >= 4 && s->nec_mode != 0) {
            nec_set *e = &w->nec[k - 1][drop];
            if (e->node != w->lvl_node[k - 1]) {
                nec_build(w, c, k - 1, drop, e);
                e->node = w->lvl_node[k - 1];
            }
            nec_stats(w, c, drop, e, w->path[k - 1], w->stack + (size_t)k * s->max_words,
                      c->binary ? sum >> PRIME_FX_SHIFT : 0, acc, need, &qs, &qsum);
            known = true;
        }
        if (!known)
            subset_stats(w, c, k, drop, w->stack + (size_t)k * s->max_words, &qs, &qsum);
        if (prime__fx_mean(qsum, qs) - acc < need)
            return false;
    }
    return true;
}

static void report(search_ctx *s);
static void report_if_due(search_ctx *s);

/* Every CHECK_NODES nodes: the stop flag and, when the items run in the
 * calling thread, a progress report once report_ns have passed (so that a
 * long item neither delays progress nor a cancel). false to stop. */
static bool check_point(search_worker *w)
{
    if (w->reporter)
        report_if_due(w->s);
    return !atomic_load_explicit(&w->s->stop, memory_order_relaxed);
}

/* A candidate's name and index, to rank the names (name_ranks). */
typedef struct {
    const char *name;
    uint32_t k;
} named_cand;

static int cmp_named_cand(const void *a, const void *b)
{
    return strcmp(((const named_cand *)a)->name, ((const named_cand *)b)->name);
}

/* c->name_rank: the rank of every candidate's name in byte order (names
 * are unique), so that the tags of a streamed mode are put in name order
 * by comparing integers. */
static prime_status name_ranks(const search_ctx *s, search_class *c)
{
    if (c->m == 0)
        return PRIME_OK;
    named_cand *order = prime__malloc((size_t)c->m * sizeof *order);
    c->name_rank = prime__malloc((size_t)c->m * sizeof *c->name_rank);
    if (order == NULL || c->name_rank == NULL) {
        prime__free(order);
        return PRIME_E_NOMEM; /* c->name_rank is freed with the class */
    }
    for (uint32_t k = 0; k < c->m; k++) {
        order[k].name = prime__names_get(&s->store->tags, c->cand[k]);
        order[k].k = k;
    }
    qsort(order, c->m, sizeof *order, cmp_named_cand);
    for (uint32_t r = 0; r < c->m; r++)
        c->name_rank[order[r].k] = r;
    prime__free(order);
    return PRIME_OK;
}

/* Hand one mode to the stream callback (any worker; one call at a time).
 * Its tags in byte order of their names (c->name_rank); its numbers
 * computed as prime__result_build computes them. false when the callback
 * stopped the search (now or before). */
static bool stream_mode(search_worker *w, const search_class *c, uint32_t k, uint64_t size,
                        uint64_t sum)
{
    search_ctx *s = w->s;
    uint32_t tags[PRIME_MAX_TAGS_LIMIT];
    uint32_t ranks[PRIME_MAX_TAGS_LIMIT];
    for (uint32_t i = 0; i < k; i++) {
        uint32_t x = w->path[i], r = c->name_rank[x];
        uint32_t at = i;
        while (at > 0 && ranks[at - 1] > r) {
            ranks[at] = ranks[at - 1];
            tags[at] = tags[at - 1];
            at--;
        }
        ranks[at] = r;
        tags[at] = c->cand[x];
    }
    prime_mode_event e;
    e.class_id = c->class_id;
    e.n_tags = k;
    e.tags = tags;
    e.size = size;
    e.correct = prime__fx_value(sum);
    e.accuracy = prime__fx_mean(sum, size);
    e.class_accuracy = prime__fx_mean(c->sum, c->n);
    e.drop = e.class_accuracy - e.accuracy;
    pthread_mutex_lock(&s->mode_mu);
    bool go = !s->stream_stopped;
    if (go && s->max_modes != 0 && s->n_streamed >= s->max_modes) {
        atomic_store(&s->over_limit, 1);
        go = false;
    }
    if (go) {
        s->n_streamed++;
        if (s->on_mode(s->mode_data, &e) != 0) {
            s->stream_stopped = true;
            go = false;
        }
    }
    pthread_mutex_unlock(&s->mode_mu);
    if (!go)
        atomic_store(&s->stop, 1);
    return go;
}

/* Append the mode path[0..k) to the worker's list: segments of MODE_SEG
 * modes, each asked for huge pages. (A list in one block that grows by
 * doubling under MADV_HUGEPAGE stalled the search for 0.85 s without a
 * progress call, 15.4 M modes, one thread: moving its huge pages; in 4 kB
 * pages 1.3 GB took 0.1-0.25 s to unmap on a cancel.) */
static bool push_mode(search_worker *w, uint32_t cls, const search_class *c, uint32_t k,
                      uint64_t size, uint64_t sum)
{
    if (w->n_modes < MODE_SEG && w->n_modes == w->seg0_cap) {
        /* the first segment grows by doubling up to MODE_SEG (at most 23 MB
           moved), so that a search with few modes holds (and, under
           MALLOC_PERTURB_, touches) only what it found */
        size_t cap = w->seg0_cap ? 2 * w->seg0_cap : 1024;
        cap = cap < MODE_SEG ? cap : MODE_SEG;
        if (w->n_segs == 0 && !prime__grow((void **)&w->segs, &w->cap_segs, 1, sizeof *w->segs))
            return false;
        prime__raw_mode *seg = prime__realloc(w->n_segs ? w->segs[0] : NULL, cap * sizeof *seg);
        if (seg == NULL)
            return false;
        prime__huge_pages(seg, cap * sizeof *seg);
        w->segs[0] = seg;
        w->n_segs = 1;
        w->seg0_cap = cap;
    } else if ((w->n_modes >> MODE_SEG_SHIFT) == w->n_segs) { /* every segment full */
        if (!prime__grow((void **)&w->segs, &w->cap_segs, w->n_segs + 1, sizeof *w->segs))
            return false;
        prime__raw_mode *seg = prime__malloc(MODE_SEG * sizeof *seg);
        if (seg == NULL)
            return false;
        prime__huge_pages(seg, MODE_SEG * sizeof *seg);
        w->segs[w->n_segs++] = seg;
    }
    size_t n = w->n_modes++;
    prime__raw_mode *r = &w->segs[n >> MODE_SEG_SHIFT][n & (MODE_SEG - 1)];
    memset(r, 0, sizeof *r);
    r->class_index = cls;
    r->n_tags = k;
    /* ascending store ids (the raw modes' order, prime/partial.h's binary
       form), whatever the order of the candidates (order_candidates()) */
    for (uint32_t i = 0; i < k; i++) {
        uint32_t t = c->cand[w->path[i]], at = i;
        while (at > 0 && r->tags[at - 1] > t) {
            r->tags[at] = r->tags[at - 1];
            at--;
        }
        r->tags[at] = t;
    }
    r->size = size;
    r->correct = prime__fx_value(sum);
    return true;
}

/* Whether a set of `size` images with outcome sum `sum` (fixed point)
 * drops enough below its class to be a failure mode (the other test is
 * necessary()). With size - sum fixed, false stays false as sum grows (the
 * mean, a correctly rounded quotient, does not fall). */
static inline bool drops(const search_ctx *s, const search_class *c, uint64_t size, uint64_t sum)
{
    return c->acc - prime__fx_mean(sum, size) >= s->min_drop - PRIME_EPS;
}

/* Words of the correct group that leaf_pass() counts at a time
 * (prime__search_set_leaf_chunk). */
#define LEAF_CHUNK 128
static uint32_t leaf_chunk = LEAF_CHUNK;

void prime__search_set_leaf_chunk(uint32_t words)
{
    leaf_chunk = words == 0 ? LEAF_CHUNK : words;
}

/* visit, pass 1, for a dense node of depth k = max_tags - 1 with 0/1
 * outcomes (its children are leaves): the wrong images of all its allowed
 * children at once (and_popcount_many, the node's wrong words against each
 * child's column), then the correct ones of those with enough wrong
 * images, at once too; the children that are failure-mode candidates
 * (size, drops()) become the
 * survivors of level k, the others are only counted (visit() would count
 * them and return). The same numbers as the general loop of visit() (the
 * bitset column of a sparse tag holds the same images as its positions).
 * A correct group longer than leaf_chunk words is counted a chunk at a
 * time, and a child whose count so far shows min_size images and no
 * failure mode (drops() stays false as its correct images grow, with its
 * wrong ones fixed) is counted then and leaves the later chunks: a leaf
 * has no children, and the numbers of the last level serve no necessity
 * check (survivor_stats() and sibling_stats() read levels above it), so
 * its exact size matters nowhere.
 * The tags and counts are listed in level k + 1 of sv_j / sv_size /
 * sv_sum (no node of depth max_tags has children); the survivors' bits go
 * to surv, this node's survivors row (cleared by visit()). false: stopped. */
static bool leaf_pass(search_worker *w, const search_class *c, uint32_t k, const uint64_t *set,
                      const uint64_t *allowed, uint64_t *surv, uint32_t *n_out)
{
    const search_ctx *s = w->s;
    size_t words = c->words, ww = c->wrong_words, cw = c->row_words;
    uint32_t *lj = w->sv_j + (size_t)(k + 1) * s->max_m;
    uint64_t *lwrong = w->sv_size + (size_t)(k + 1) * s->max_m;
    uint64_t *lright = w->sv_sum + (size_t)(k + 1) * s->max_m;
    const uint64_t **lcol = w->leaf_cols;
    uint32_t n = 0;
    for (size_t aw = 0; aw < cw; aw++) {
        for (uint64_t bits = allowed[aw]; bits != 0; bits &= bits - 1) {
            uint32_t j = (uint32_t)(aw * PRIME_BITS_WORD) + (uint32_t)__builtin_ctzll(bits);
            if (++w->nodes >= CHECK_NODES) {
                w->nodes = 0;
                if (!check_point(w))
                    return false;
            }
            lj[n] = j;
            lcol[n] = col_at(c, j);
            n++;
        }
    }
    s->k->and_popcount_many(set, lcol, n, ww, lwrong);
    /* those with enough wrong images, in order: their correct images */
    uint32_t n_right = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (lwrong[i] < c->need_wrong)
            continue;
        lj[n_right] = lj[i];
        lwrong[n_right] = lwrong[i];
        lcol[n_right] = col_at(c, lj[i]) + ww;
        n_right++;
    }
    size_t rw = words - ww, chunk = s->leaf_chunk;
    if (rw <= chunk) {
        s->k->and_popcount_many(set + ww, lcol, n_right, rw, lright);
    } else {
        /* level k's sizes are free until its survivors are listed below */
        uint64_t *part = w->sv_size + (size_t)k * s->max_m;
        memset(lright, 0, n_right * sizeof *lright);
        for (size_t x = 0; x < rw && n_right > 0;) {
            size_t len = rw - x < chunk ? rw - x : chunk;
            s->k->and_popcount_many(set + ww + x, lcol, n_right, len, part);
            x += len;
            uint32_t open = 0;
            for (uint32_t i = 0; i < n_right; i++) {
                uint64_t right = lright[i] + part[i];
                if (x < rw && lwrong[i] + right >= c->min_size &&
                    !drops(s, c, lwrong[i] + right, right << PRIME_FX_SHIFT)) {
                    w->candidates++; /* a candidate, no failure mode */
                    continue;
                }
                lj[open] = lj[i];
                lwrong[open] = lwrong[i];
                lright[open] = right;
                lcol[open] = lcol[i] + len;
                open++;
            }
            n_right = open;
        }
    }
    uint32_t *sv_j = w->sv_j + (size_t)k * s->max_m;
    uint64_t *sv_size = w->sv_size + (size_t)k * s->max_m;
    uint64_t *sv_sum = w->sv_sum + (size_t)k * s->max_m;
    uint32_t n_sv = 0;
    for (uint32_t i = 0; i < n_right; i++) {
        uint64_t wrong = lwrong[i], right = lright[i];
        uint64_t csize = wrong + right;
        uint64_t csum = right << PRIME_FX_SHIFT;
        if (csize < c->min_size)
            continue;
        if (!drops(s, c, csize, csum)) {
            w->candidates++;
            continue;
        }
        uint32_t j = lj[i];
        surv[j / PRIME_BITS_WORD] |= (uint64_t)1 << (j % PRIME_BITS_WORD);
        sv_j[n_sv] = j;
        sv_size[n_sv] = csize;
        sv_sum[n_sv] = csum;
        n_sv++;
    }
    *n_out = n_sv;
    return true;
}

/* A node of at most this many images, not below a pivot, becomes the
 * pivot of its subtree (visit(); prime__search_set_local). */
static uint32_t local_max = 64;

void prime__search_set_local(uint32_t max)
{
    local_max = max > 64 ? 64 : max;
}

/* Whether a child's tags are limited by its parent's later siblings
 * (visit(), pass 2; prime__search_set_siblings): where their rows take at
 * most SIB_BYTES a worker. */
#define SIB_BYTES ((size_t)8 << 20)
static uint32_t sib_mode = 1;

void prime__search_set_siblings(uint32_t mode)
{
    sib_mode = mode > 1 ? 1 : mode;
}

/* Visit the k-tag set path[0..k) (size >= min_size): its images are the
 * mask `lmask` over the pivot's images when `local` (a descendant of the
 * pivot), else the sorted positions `ids` when not NULL, else the bitset
 * `set`; `allowed` holds the tags its children may add. Returns false to
 * stop (cancelled or out of memory). */
static bool visit(search_worker *w, uint32_t cls, const search_class *c, uint32_t k,
                  const uint64_t *set, const uint32_t *ids, bool local, uint64_t lmask,
                  uint64_t size, uint64_t sum, uint64_t psize, uint64_t psum,
                  const uint64_t *allowed)
{
    const search_ctx *s = w->s;
    size_t words = c->words, ww = c->wrong_words, cw = c->row_words;
    w->candidates++;
    /* this node's survivors row, cleared first: a node that tries no
       child has none (its earlier siblings read it, pass 2) */
    uint64_t *surv = surv_row(w, k, w->path[k - 1]);
    if (k < s->max_tags)
        memset(surv, 0, cw * sizeof *surv);
    if (s->sib)
        w->pool_at[(size_t)k * s->max_m + w->path[k - 1]] = POOL_NONE;
    w->lvl_set[k] = set;
    w->lvl_ids[k] = ids;
    w->lvl_local[k] = local;
    w->lvl_size[k] = size;
    w->lvl_node[k] = ++w->node_count;
    if (drops(s, c, size, sum) && necessary(w, c, k, size, sum, psize, psum)) {
        if (w->s->on_mode != NULL) {
            if (!stream_mode(w, c, k, size, sum))
                return false;
        } else {
            if (s->max_modes != 0 &&
                atomic_fetch_add_explicit(&w->s->n_found, 1, memory_order_relaxed) >=
                    s->max_modes) {
                atomic_store(&w->s->over_limit, 1);
                atomic_store(&w->s->stop, 1);
                return false;
            }
            if (!push_mode(w, cls, c, k, size, sum)) {
                w->status = PRIME_E_NOMEM;
                return false;
            }
        }
    }
    if (k >= s->max_tags || allowed == NULL)
        return true; /* a leaf, or a node whose caller knows it has no child */
    if (c->binary ? size - (sum >> PRIME_FX_SHIFT) < c->need_wrong
                  : !can_reach_drop(s, c, size, sum))
        return true;
    bool leaf = k + 1 >= s->max_tags;
    /* a pivot: its children get masks over its images, and so on down */
    bool pivot = !local && !leaf && size <= s->local_max;
    if (!local && ids == NULL && (pivot || sparse(s, size, words))) {
        /* sparse from here down: its children are probed, not ANDed (a
           sparse column has its positions already; otherwise the parent was
           a bitset, so level k-1 of the arrays is free) */
        uint32_t *own = w->ids + (size_t)(k - 1) * s->ids_cap;
        s->k->and_ids(set, set, words, own);
        ids = own;
        w->lvl_ids[k] = ids;
    }
    uint64_t *child = w->stack + (size_t)k * s->max_words;
    uint32_t *child_ids = w->ids + (size_t)k * s->ids_cap;
    uint64_t *next = w->allowed + (size_t)k * s->max_row_words;
    /* binary outcomes: ids[0..n_wrong) are the wrong images */
    uint32_t n_wrong = c->binary ? (uint32_t)(size - (sum >> PRIME_FX_SHIFT)) : 0;
    uint32_t correct_from = c->binary ? (uint32_t)(ww * PRIME_BITS_WORD) : 0;
    if (pivot) {
        w->piv = k;
        w->piv_wrong = n_wrong >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n_wrong) - 1;
        if (!c->binary)
            for (uint32_t i = 0; i < (uint32_t)size; i++)
                w->lvals[i] = c->vals[ids[i]];
    }

    /* Pass 1: the size and sum of every child allowed, counted only (no
     * set written with 0/1 outcomes). The children that survive (size and
     * error bound; size alone with float outcomes, so that the candidates
     * counted stay those of a plain walk) are the only tags their
     * siblings' subtrees may add: a set outside S_{P+l} is outside every
     * superset of P+l, as in Eclat's prefix classes. */
    uint32_t *sv_j = w->sv_j + (size_t)k * s->max_m;
    uint64_t *sv_size = w->sv_size + (size_t)k * s->max_m;
    uint64_t *sv_sum = w->sv_sum + (size_t)k * s->max_m;
    uint32_t n_sv = 0;
    if (local && c->binary) {
        /* one word a child (the kernel counts with popcnt where the CPU
           has it) */
        uint64_t tried;
        n_sv = s->k->mask_children(lmask, w->lcol, allowed, cw, w->piv_wrong, c->need_wrong,
                                   c->min_size, PRIME_FX_SHIFT, surv, sv_j, sv_size, sv_sum,
                                   &tried);
        w->nodes += (uint32_t)(tried < CHECK_NODES ? tried : CHECK_NODES);
        if (w->nodes >= CHECK_NODES) {
            w->nodes = 0;
            if (!check_point(w))
                return false;
        }
        allowed = NULL; /* pass 1 is done */
    } else if (leaf && ids == NULL && c->binary) {
        /* children that are leaves, of a dense node: all counted at once */
        if (!leaf_pass(w, c, k, set, allowed, surv, &n_sv))
            return false;
        allowed = NULL; /* pass 1 is done */
    }
    for (size_t aw = 0; allowed != NULL && aw < cw; aw++) {
        for (uint64_t bits = allowed[aw]; bits != 0; bits &= bits - 1) {
            uint32_t j = (uint32_t)(aw * PRIME_BITS_WORD) + (uint32_t)__builtin_ctzll(bits);
            if (++w->nodes >= CHECK_NODES) {
                w->nodes = 0;
                if (!check_point(w))
                    return false;
            }
            uint64_t csize;
            uint64_t csum;
            if (local || pivot) {
                uint64_t m;
                if (local) {
                    m = lmask & w->lcol[j]; /* other outcomes (0/1: mask_children) */
                    local_stats(w, c, m, &csize, &csum);
                } else {
                    /* the pivot: its images in j's column, wrong ones first */
                    const uint64_t *col = col_at(c, j);
                    uint32_t wrong, right;
                    m = s->k->gather_mask(ids, 0, n_wrong, col, &wrong);
                    if (c->binary && wrong < c->need_wrong)
                        continue;
                    m |= s->k->gather_mask(ids, n_wrong, (uint32_t)size, col, &right);
                    w->lcol[j] = m;
                    csize = (uint64_t)wrong + right;
                    csum = c->binary ? (uint64_t)right << PRIME_FX_SHIFT : 0;
                    if (!c->binary && csize >= c->min_size)
                        local_stats(w, c, m, &csize, &csum);
                }
                if (csize < c->min_size)
                    continue;
                surv[aw] |= (uint64_t)1 << (j % PRIME_BITS_WORD);
                sv_j[n_sv] = j;
                sv_size[n_sv] = csize;
                sv_sum[n_sv] = csum;
                n_sv++;
                continue;
            }
            const uint64_t *col = col_at(c, j);
            const uint32_t *cj = c->col_ids[j];
            uint64_t cn = c->col_size[j];
            int way = ids != NULL ? (cj != NULL && gallops(s, cn, size) ? MEET_GALLOP
                                                                         : MEET_NODE_IDS)
                                  : (cj != NULL ? MEET_COL_IDS : MEET_WORDS);
            if (way == MEET_GALLOP) {
                uint32_t wrong = 0;
                csize = gallop(cj, (uint32_t)cn, ids, (uint32_t)size, correct_from, &wrong,
                               c->binary ? NULL : child_ids);
                if (c->binary) {
                    if (wrong < c->need_wrong)
                        continue;
                    csum = (uint64_t)(csize - wrong) << PRIME_FX_SHIFT;
                } else {
                    if (csize < c->min_size)
                        continue;
                    csum = ids_sum(child_ids, (uint32_t)csize, c->vals);
                }
            } else if (way == MEET_COL_IDS) {
                if (c->binary) {
                    uint32_t cnw = (uint32_t)(cn - (c->col_sum[j] >> PRIME_FX_SHIFT));
                    uint32_t wrong = probe_count(cj, cnw, set);
                    if (wrong < c->need_wrong)
                        continue;
                    uint32_t right = probe_count(cj + cnw, (uint32_t)cn - cnw, set);
                    csize = (uint64_t)wrong + right;
                    csum = (uint64_t)right << PRIME_FX_SHIFT;
                } else {
                    csize = probe(cj, (uint32_t)cn, set, child_ids);
                    if (csize < c->min_size)
                        continue;
                    csum = ids_sum(child_ids, (uint32_t)csize, c->vals);
                }
            } else if (ids != NULL) {
                if (c->binary) {
                    uint32_t wrong = probe_count(ids, n_wrong, col);
                    if (wrong < c->need_wrong)
                        continue;
                    uint32_t right = probe_count(ids + n_wrong, (uint32_t)size - n_wrong, col);
                    csize = (uint64_t)wrong + right;
                    csum = (uint64_t)right << PRIME_FX_SHIFT;
                } else {
                    csize = probe(ids, (uint32_t)size, col, child_ids);
                    if (csize < c->min_size)
                        continue;
                    csum = ids_sum(child_ids, (uint32_t)csize, c->vals);
                }
            } else if (c->binary) {
                /* the wrong images first: too few, and neither the child
                   nor anything below it can be a failure mode */
                uint64_t wrong = s->k->and_popcount(set, col, ww);
                if (wrong < c->need_wrong)
                    continue;
                /* not a leaf: the children of a dense node are leaves in
                   leaf_pass(), which stops their counts early */
                uint64_t right = s->k->and_popcount(set + ww, col + ww, words - ww);
                csize = wrong + right;
                csum = right << PRIME_FX_SHIFT;
            } else {
                csize = s->k->and_count(child, set, col, words);
                if (csize < c->min_size)
                    continue;
                csum = prime__bits_sum(child, words, c->vals);
            }
            if (csize < c->min_size)
                continue;
            if (leaf && !drops(s, c, csize, csum)) {
                /* a leaf that is no failure mode: visit() would count it
                   and return (nothing below it, and no sibling's subtree
                   reads the survivors of the last level) */
                w->candidates++;
                continue;
            }
            surv[aw] |= (uint64_t)1 << (j % PRIME_BITS_WORD);
            sv_j[n_sv] = j;
            sv_size[n_sv] = csize;
            sv_sum[n_sv] = csum;
            n_sv++;
        }
    }

    w->lvl_nsv[k] = n_sv;
    uint32_t *sv_idx = w->sv_idx + (size_t)k * s->max_m;
    for (uint32_t v = 0; v < n_sv; v++)
        sv_idx[sv_j[v]] = v;
    if (s->sib && k >= 2 && k + 2 <= s->max_tags) {
        /* kept for the necessity of the sets of depth k + 2 below this
           node's earlier siblings (sibling_stats()) */
        uint32_t at = w->pool_n[k];
        if (s->pool_cap - at >= n_sv) {
            memcpy(w->pool_size + (size_t)k * s->pool_cap + at, sv_size, n_sv * sizeof *sv_size);
            memcpy(w->pool_sum + (size_t)k * s->pool_cap + at, sv_sum, n_sv * sizeof *sv_sum);
            w->pool_at[(size_t)k * s->max_m + w->path[k - 1]] = at;
            w->pool_n[k] = at + n_sv;
        }
    }
    w->pool_n[k + 1] = 0; /* this node's children append from here (k < max_tags) */
    /* Pass 2: visit the survivors, the last tag first; a child that may
     * have children gets its set (computed again: most children are
     * leaves or stop). With this node P = Q+i, its child P+j may add only
     * the tags l that survived both here and as children of Q+j, a later
     * sibling of P, visited before it (s->sib): Q+j+l is a subset of
     * P+j+l, and every test is monotone, so a set that the row rules out
     * would have been rejected anyway (the same sets are visited). */
    for (uint32_t v = n_sv; v-- > 0;) {
        uint32_t j = sv_j[v];
        uint64_t csize = sv_size[v];
        uint64_t csum = sv_sum[v];
        bool descend = !leaf && (c->binary ? csize - (csum >> PRIME_FX_SHIFT) >= c->need_wrong
                                           : can_reach_drop(s, c, csize, csum));
        const uint64_t *cset = NULL, *next_allowed = NULL;
        const uint32_t *cids = NULL;
        if (descend) {
            const uint64_t *row = c->rows + (size_t)j * cw;
            uint64_t any = 0;
            if (s->sib && k >= 2) {
                const uint64_t *sib = surv_row(w, k, j);
                for (size_t x = 0; x < cw; x++)
                    any |= next[x] = surv[x] & row[x] & sib[x];
            } else {
                for (size_t x = 0; x < cw; x++)
                    any |= next[x] = surv[x] & row[x];
            }
            next_allowed = next;
            const uint64_t *col = col_at(c, j);
            const uint32_t *cj = c->col_ids[j];
            uint64_t cn = c->col_size[j];
            if (any == 0) {
                descend = false; /* no tag to add: the set is not needed */
            } else if (local || pivot) {
                /* a mask: nothing to compute */
            } else if (ids != NULL && cj != NULL && gallops(s, cn, size)) {
                uint32_t below;
                gallop(cj, (uint32_t)cn, ids, (uint32_t)size, correct_from, &below, child_ids);
                cids = child_ids;
            } else if (ids == NULL && cj != NULL) {
                /* the child of a dense node and a sparse column is sparse */
                probe(cj, (uint32_t)cn, set, child_ids);
                cids = child_ids;
            } else if (ids != NULL) {
                if (c->binary) {
                    uint32_t wrong = probe(ids, n_wrong, col, child_ids);
                    probe(ids + n_wrong, (uint32_t)size - n_wrong, col, child_ids + wrong);
                } else {
                    probe(ids, (uint32_t)size, col, child_ids);
                }
                cids = child_ids;
            } else if (csize <= s->local_max && k + 2 < s->max_tags) {
                /* a pivot (visit()): its positions, not its bitset */
                s->k->and_ids(set, col, words, child_ids);
                cids = child_ids;
            } else {
                s->k->and_count(child, set, col, words);
                cset = child;
            }
        }
        w->path[k] = j;
        if (!visit(w, cls, c, k + 1, cset, cids, local || pivot,
                   local ? lmask & w->lcol[j] : pivot ? w->lcol[j] : 0, csize, csum, size, sum,
                   descend ? next_allowed : NULL))
            return false;
    }
    return true;
}

/* When a first tag's subtree runs projected (prime__search_set_projection,
 * projects()). */
static uint32_t proj_mode = 1;

void prime__search_set_projection(uint32_t mode)
{
    proj_mode = mode > 2 ? 1 : mode;
}

/* Images ahead whose row project() fetches early. */
#define PROJECT_AHEAD 8

/* project(): the images i0..i1-1 of S_f (positions pos[]) to the words
 * from x0 on of the projection, 64 images a word. The bits of a word are
 * gathered per tag in acc[] (the tags of each image's row after f; those
 * not allowed gather bits that are never read), then the word of each
 * allowed column (list[0..n_list)) is written once, so that the columns
 * need no clearing and each of their words is stored once, not once per
 * bit. The rows of S_f lie far apart in a large class: each is fetched
 * PROJECT_AHEAD images ahead. */
static void project_run(search_worker *w, const search_class *c, uint32_t f, const uint32_t *pos,
                        uint32_t i0, uint32_t i1, size_t x0, const uint32_t *list,
                        uint32_t n_list, uint64_t *first, uint64_t *vals)
{
    const uint32_t *beg = c->img_beg, *end = c->img_end;
    const uint16_t *tags = c->img_tags;
    uint64_t *const *colp = w->pcolp;
    uint64_t *acc = w->pacc;
    uint32_t n_f = (uint32_t)c->col_size[f];
    size_t x = x0;
    for (uint32_t i = i0; i < i1; x++) {
        uint32_t stop = i1 - i > PRIME_BITS_WORD ? i + PRIME_BITS_WORD : i1;
        first[x] = stop - i == PRIME_BITS_WORD ? ~(uint64_t)0
                                               : ((uint64_t)1 << (stop - i)) - 1;
        for (uint32_t b = 0; i < stop; i++, b++) {
            uint32_t p = pos[i];
            if (i + 2 * PROJECT_AHEAD < n_f) {
                /* the row's bounds two steps ahead, so that they are at
                   hand when its entries are fetched */
                __builtin_prefetch(beg + pos[i + 2 * PROJECT_AHEAD]);
                __builtin_prefetch(end + pos[i + 2 * PROJECT_AHEAD]);
            }
            if (i + PROJECT_AHEAD < n_f)
                __builtin_prefetch(tags + end[pos[i + PROJECT_AHEAD]] - 1);
            if (!c->binary)
                vals[i] = c->vals[p];
            /* p is an image of f: its row holds f, which ends the walk
               down from the row's end (no test of the row's start) */
            const uint16_t *q = tags + end[p];
            uint64_t bit = (uint64_t)1 << b;
            while (q[-1] > f)
                acc[*--q] |= bit;
        }
        for (uint32_t l = 0; l < n_list; l++) {
            uint32_t t = list[l];
            colp[t][x] = acc[t];
            acc[t] = 0;
        }
    }
}

/* The projection of class c on the images S_f of its candidate f (as the
 * conditional databases of FP-growth and LCM): the same class (numbers,
 * candidates, pair table, thresholds) whose images are S_f alone,
 * renumbered in the same order (with 0/1 outcomes, wrong ones first), with
 * the columns of the tags that f's subtree may add (`allowed`), built in
 * one pass over the rows of S_f. Every set of the subtree lies in S_f, so
 * its intersections cost words of S_f, not of the class. In w->proj; its
 * first set (S_f whole) in *first_out. false: out of memory. */
static bool project(search_worker *w, const search_class *c, uint32_t f,
                    const uint64_t *allowed, const uint64_t **first_out)
{
    const search_ctx *s = w->s;
    uint32_t n_f = (uint32_t)c->col_size[f];
    uint32_t nw = c->binary ? n_f - (uint32_t)(c->col_sum[f] >> PRIME_FX_SHIFT) : 0;
    size_t ww = c->binary ? prime__bits_words(nw) : 0;
    size_t words = ww + prime__bits_words(n_f - nw);
    uint32_t n_allowed = 0;
    for (size_t x = 0; x < c->row_words; x++)
        n_allowed += (uint32_t)s->k->count(&allowed[x], 1);
    /* allowed columns, a sink for the others, the first set, the vals */
    size_t need = ((size_t)n_allowed + 2) * words + (c->binary ? 0 : n_f);
    if (need > w->pcap) {
        uint64_t *nb = prime__malloc(need * sizeof *nb);
        if (nb == NULL)
            return false;
        prime__free(w->pblock);
        w->pblock = nb;
        w->pcap = need;
    }
    uint64_t *sink = w->pblock, *first = sink + words, *next = first + words;
    uint32_t *list = w->plist, n_list = 0;
    uint64_t *acc = w->pacc;
    for (uint32_t j = f + 1; j < c->m; j++) {
        if (prime__bits_get(allowed, j)) {
            w->pcolp[j] = next;
            next += words;
            list[n_list++] = j;
            acc[j] = 0;
        } else {
            w->pcolp[j] = sink; /* never read */
        }
    }
    uint64_t *vals = next;
    const uint32_t *pos = c->col_ids[f];
    if (pos == NULL) {
        prime__bits_ids(c->cols + (size_t)f * c->words, c->words, w->pos);
        pos = w->pos;
    }
    /* the wrong images (0/1 outcomes) to words 0..ww-1, the others from
       word ww */
    project_run(w, c, f, pos, 0, nw, 0, list, n_list, first, vals);
    project_run(w, c, f, pos, nw, n_f, ww, list, n_list, first, vals);
    search_class *pc = &w->proj;
    *pc = *c;
    pc->words = words;
    pc->wrong_words = ww;
    pc->colp = w->pcolp;
    pc->cols = NULL;
    pc->col_ids = w->pnull;
    pc->vals = c->binary ? NULL : vals;
    pc->img_beg = pc->img_end = NULL;
    pc->img_tags = NULL;
    *first_out = first;
    return true;
}

/* Whether the subtree of first tag f runs projected (project()): when the
 * projection has no more words than the class and f has tags to add, in a
 * class of PROJECT_WORDS words or more; in a smaller class only when
 * building it (about one step per row entry of S_f) reads fewer entries
 * than the words that the first level's intersections would read in the
 * class (a small class with few tags to add paid more for the projections
 * than it saved). */
static bool projects_rows(const search_ctx *s, const search_class *c, uint32_t f,
                          const uint64_t *allowed, size_t words_f)
{
    if (s->proj_mode == 0 || words_f > c->words)
        return false;
    uint64_t n_allowed = s->k->count(allowed, c->row_words);
    if (n_allowed == 0)
        return false;
    if (s->proj_mode == 2)
        return true;
    if (c->words >= PROJECT_WORDS)
        return true;
    double per_image = (double)c->img_entries / (double)c->n;
    return (double)c->col_size[f] * per_image < (double)n_allowed * (double)c->words;
}

/* projects_rows(), where the class has its rows */
static bool projects(const search_ctx *s, const search_class *c, uint32_t f,
                     const uint64_t *allowed, size_t words_f)
{
    return c->img_beg != NULL && projects_rows(s, c, f, allowed, words_f);
}

/* The rows of a class that prepare_class() left without them, from its
 * columns (column k, in order, appends k to the row of each of its
 * images), where some first tag will project (projects_rows(), with the
 * pair table known). PRIME_E_CANCELLED where a check point said to stop. */
static prime_status rows_from_columns(search_worker *w, search_class *c)
{
    const search_ctx *s = w->s;
    if (c->m == 0 || c->img_beg != NULL || !rows_fit(c))
        return PRIME_OK;
    bool want = false;
    for (uint32_t f = 0; f < c->m && !want; f++) {
        size_t words_f = prime__bits_words(c->col_size[f]) + (c->binary ? 1 : 0);
        want = projects_rows(s, c, f, c->rows + (size_t)f * c->row_words, words_f);
    }
    if (!want)
        return PRIME_OK;
    return rows_build(w, c);
}

/* The rows of class c (img_entries entries) from its columns: their
 * lengths, then their entries (rows_fill()). PRIME_E_NOMEM, or
 * PRIME_E_CANCELLED where a check point said to stop. */
static prime_status rows_build(search_worker *w, search_class *c)
{
    size_t words = c->words, n_pos = words * PRIME_BITS_WORD;
    c->img_block = prime__malloc(2 * n_pos * sizeof(uint32_t) +
                                 ((size_t)c->img_entries + 1) * sizeof(uint16_t));
    if (c->img_block == NULL)
        return PRIME_E_NOMEM;
    uint32_t *beg = c->img_block, *end = beg + n_pos;
    uint16_t *tags = (uint16_t *)(end + n_pos);
    memset(beg, 0, n_pos * sizeof *beg);
    for (uint32_t k = 0; k < c->m; k++) {
        if (k % 16 == 15 && !check_point(w))
            return PRIME_E_CANCELLED; /* c->img_block goes with the class */
        const uint64_t *col = c->cols + (size_t)k * words;
        for (size_t x = 0; x < words; x++)
            for (uint64_t b = col[x]; b != 0; b &= b - 1)
                beg[x * PRIME_BITS_WORD + (size_t)__builtin_ctzll(b)]++;
    }
    uint32_t at = 0;
    for (size_t p = 0; p < n_pos; p++) {
        uint32_t len = beg[p];
        beg[p] = end[p] = at;
        at += len;
    }
    c->img_tags = tags;
    c->img_end = end;
    c->img_beg = beg;
    return rows_fill(w, c) ? PRIME_OK : PRIME_E_CANCELLED;
}

/* The entries of the rows of class c, whose bounds are set (img_beg[p],
 * img_end[p]: from img_beg[p] on, as long as p has candidates), from its
 * columns: column k, in order, appends k to the row of each of its images,
 * so that every row is ascending whatever the order of the candidates.
 * false where a check point said to stop. */
static bool rows_fill(search_worker *w, search_class *c)
{
    size_t words = c->words, n_pos = words * PRIME_BITS_WORD;
    uint32_t *end = c->img_end;
    uint16_t *tags = c->img_tags;
    memcpy(end, c->img_beg, n_pos * sizeof *end);
    for (uint32_t k = 0; k < c->m; k++) {
        if (k % 16 == 15 && !check_point(w))
            return false;
        const uint64_t *col = c->cols + (size_t)k * words;
        for (size_t x = 0; x < words; x++)
            for (uint64_t b = col[x]; b != 0; b &= b - 1)
                tags[end[x * PRIME_BITS_WORD + (size_t)__builtin_ctzll(b)]++] = (uint16_t)k;
    }
    return true;
}

static bool search_item_run(search_worker *w, const search_item *it)
{
    const search_ctx *s = w->s;
    const search_class *c = &s->classes[it->cls];
    uint32_t f = it->first;
    const uint64_t *allowed = c->rows + (size_t)f * c->row_words;
    w->path[0] = f;
    w->full = c;
    uint64_t n_f = c->col_size[f];
    size_t words_f = prime__bits_words(n_f) + (c->binary ? 1 : 0);
    if (projects(s, c, f, allowed, words_f)) {
        const uint64_t *first;
        if (!project(w, c, f, allowed, &first)) {
            w->status = PRIME_E_NOMEM;
            return false;
        }
        return visit(w, it->cls, &w->proj, 1, first, NULL, false, 0, n_f, c->col_sum[f], c->n,
                     c->sum, allowed);
    }
    return visit(w, it->cls, c, 1, c->cols + (size_t)f * c->words, c->col_ids[f], false, 0,
                 n_f, c->col_sum[f], c->n, c->sum, allowed);
}

/* ------------------------------------------------------------------------ */
/* Running a phase on the workers                                             */
/* ------------------------------------------------------------------------ */

/* Whether a step of a work item went through; else the worker's error is
 * st, unless it stopped at a check point (PRIME_E_CANCELLED: the stop
 * flag's cause says why, not the worker). */
static bool step_ok(search_worker *w, prime_status st)
{
    if (st != PRIME_OK && st != PRIME_E_CANCELLED)
        w->status = st;
    return st == PRIME_OK;
}

/* Run one work item of the current phase; false to stop. */
static bool run_item(search_worker *w, size_t i)
{
    search_ctx *s = w->s;
    uint64_t units;
    if (s->phase == 1) {
        search_class *c = &s->classes[s->batch_first + i];
        prime_status st = prepare_class(w, c);
        if (st == PRIME_OK && s->on_mode != NULL)
            st = name_ranks(s, c);
        if (!step_ok(w, st))
            return false;
        units = c->m == 0 ? UNITS_PER_CLASS : 1;
    } else if (s->phase == 4) {
        if (!step_ok(w, rows_from_columns(w, &s->classes[s->batch_first + i])))
            return false;
        units = 0;
    } else if (s->phase == 2) {
        const search_item *it = &s->items[i];
        if (!pair_row(w, &s->classes[it->cls], it->first)) {
            w->status = PRIME_E_NOMEM;
            return false;
        }
        units = it->pair_units;
    } else {
        const search_item *it = &s->items[i];
        if (!search_item_run(w, it))
            return false; /* cancelled, or w->status says why */
        units = it->units;
    }
    atomic_fetch_add_explicit(&s->done, units, memory_order_relaxed);
    return true;
}

/* One thread of a phase (prime__run_workers): it claims a worker slot and
 * runs items until none is left. The calling thread reports progress
 * between items (and every CHECK_NODES nodes, check_point), and once out
 * of items, until the other threads are done. */
static void *phase_worker(void *arg)
{
    search_ctx *s = arg;
    search_worker *w = &s->workers[atomic_fetch_add(&s->next_worker, 1)];
    w->reporter = pthread_equal(pthread_self(), s->caller) != 0;
    pthread_mutex_lock(&s->mu);
    s->busy++;
    pthread_mutex_unlock(&s->mu);
    for (;;) {
        if (atomic_load_explicit(&s->stop, memory_order_relaxed))
            break;
        size_t i = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
        if (i >= s->phase_items)
            break;
        if (!run_item(w, i)) {
            atomic_store(&s->stop, 1);
            break;
        }
        if (w->reporter)
            report_if_due(s);
    }
    pthread_mutex_lock(&s->mu);
    s->busy--;
    pthread_cond_broadcast(&s->cv);
    /* every item is taken: a thread that starts from now on finds none,
       so the caller waits for those at work, reporting */
    while (w->reporter && s->busy > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += s->report_ns;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT && s->busy > 0) {
            pthread_mutex_unlock(&s->mu);
            report(s);
            pthread_mutex_lock(&s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    w->reporter = false;
    return NULL;
}

static int64_t elapsed_ns(const struct timespec *a, const struct timespec *b)
{
    return (int64_t)(b->tv_sec - a->tv_sec) * 1000000000L + (b->tv_nsec - a->tv_nsec);
}

/* Call the progress callback (calling thread only); a non-zero answer
 * raises the stop flag. */
static void report(search_ctx *s)
{
    clock_gettime(CLOCK_MONOTONIC, &s->last_report);
    if (s->progress == NULL || s->cancelled)
        return;
    uint64_t done = atomic_load(&s->done);
    if (done > s->total)
        done = s->total;
    if (s->progress(s->user_data, done, s->total) != 0) {
        s->cancelled = true;
        atomic_store(&s->stop, 1);
    }
}

/* report(s) once report_ns have passed since the last report (calling
 * thread only). */
static void report_if_due(search_ctx *s)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (elapsed_ns(&s->last_report, &now) >= s->report_ns)
        report(s);
}

/* Run every item of the current phase with up to n_workers threads
 * (common/threads.c; the calling thread is one of them). */
static void run_phase(search_ctx *s, search_worker *workers, uint32_t n_workers)
{
    atomic_store(&s->next, 0);
    uint32_t n = n_workers;
    if ((size_t)n > s->phase_items)
        n = (uint32_t)(s->phase_items > 0 ? s->phase_items : 1);
    s->workers = workers;
    atomic_store(&s->next_worker, 0);
    s->caller = pthread_self();
    s->busy = 0;
    prime__run_workers(n, phase_worker, s);
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                                */
/* ------------------------------------------------------------------------ */

/* While the workers' lists are joined and the result is built (calling
 * thread): progress every report_ns, and the callback's cancel. */
static int build_tick(void *ctx)
{
    search_ctx *s = ctx;
    report_if_due(s);
    return s->cancelled;
}

static int cmp_item(const void *a, const void *b)
{
    const search_item *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? 1 : -1;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

static prime_status build_items(search_ctx *s)
{
    size_t n = 0;
    for (uint32_t c = s->batch_first; c < s->batch_end; c++)
        n += s->classes[c].m;
    s->items = prime__calloc(n ? n : 1, sizeof *s->items);
    if (s->items == NULL)
        return PRIME_E_NOMEM;
    size_t k = 0;
    for (uint32_t ci = s->batch_first; ci < s->batch_end; ci++) {
        const search_class *c = &s->classes[ci];
        /* 1 unit went to preparing the class; the rest is split in two */
        uint64_t pairs = (UNITS_PER_CLASS - 1) / 2, search = UNITS_PER_CLASS - 1 - pairs;
        for (uint32_t i = 0; i < c->m; i++) {
            search_item *it = &s->items[k++];
            it->cls = ci;
            it->first = i;
            it->pair_units = (uint64_t)(i + 1) * pairs / c->m - (uint64_t)i * pairs / c->m;
            it->units = (uint64_t)(i + 1) * search / c->m - (uint64_t)i * search / c->m;
            /* later tags to combine with, times the words of the class */
            it->cost = (uint64_t)(c->m - i) * (c->words + 1);
        }
    }
    qsort(s->items, n, sizeof *s->items, cmp_item);
    s->n_items = n;
    return PRIME_OK;
}

/* Once the pair table is known: the searches with the most pairs first. */
static void sort_items_for_search(search_ctx *s)
{
    for (size_t k = 0; k < s->n_items; k++) {
        search_item *it = &s->items[k];
        const search_class *c = &s->classes[it->cls];
        uint64_t pairs = s->k->count(c->rows + (size_t)it->first * c->row_words,
                                           c->row_words);
        it->cost = (pairs * pairs + 1) * (c->words + 1);
    }
    qsort(s->items, s->n_items, sizeof *s->items, cmp_item);
}

/* prime__free(p), then p = NULL: the scratch freed after a batch or once
 * prepared is freed again by free_workers(). */
#define FREE_NULL(p) (prime__free(p), (p) = NULL)

/* The phase 1 scratch of a worker (per store tag and per image), freed
 * once the last batch is prepared and at the end. */
static void free_prepare_scratch(search_worker *w)
{
    FREE_NULL(w->count);
    FREE_NULL(w->sum);
    FREE_NULL(w->map);
    FREE_NULL(w->touched);
    FREE_NULL(w->rank);
}

/* The phase 2 and 3 scratch of a worker, sized per batch. */
static void free_search_scratch(search_worker *w)
{
    FREE_NULL(w->stack);
    FREE_NULL(w->ids);
    FREE_NULL(w->allowed);
    FREE_NULL(w->surv_mask);
    FREE_NULL(w->sv_idx);
    FREE_NULL(w->pool_size);
    FREE_NULL(w->pool_sum);
    FREE_NULL(w->pool_at);
    FREE_NULL(w->sv_j);
    FREE_NULL(w->sv_size);
    FREE_NULL(w->sv_sum);
    FREE_NULL(w->pos);
    FREE_NULL(w->leaf_cols);
    FREE_NULL(w->pc_wrong);
    FREE_NULL(w->pc_size);
    FREE_NULL(w->pc_sum);
    FREE_NULL(w->pcolp);
    FREE_NULL(w->pnull);
    FREE_NULL(w->pacc);
    FREE_NULL(w->plist);
    FREE_NULL(w->lcol);
    FREE_NULL(w->pblock);
    FREE_NULL(w->nec_block);
    w->pcap = 0;
}

static void free_mode_segs(search_worker *w)
{
    for (size_t i = 0; i < w->n_segs; i++)
        prime__free(w->segs[i]);
    prime__free(w->segs);
    w->segs = NULL;
    w->n_segs = w->cap_segs = w->seg0_cap = 0;
}

static void free_workers(search_worker *workers, uint32_t n)
{
    if (workers == NULL)
        return;
    for (uint32_t t = 0; t < n; t++) {
        free_prepare_scratch(&workers[t]);
        free_search_scratch(&workers[t]);
        free_mode_segs(&workers[t]);
    }
    prime__free(workers);
}

/* The error of an image without an outcome. */
static prime_status missing_outcome(const prime_tagstore *store, uint32_t i)
{
    const char *name = prime_tagstore_image_name(store, i);
    if (name != NULL && name[0] != '\0')
        return prime__error(PRIME_E_MISMATCH, "prime_search: image '%s' has no outcome", name);
    return prime__error(PRIME_E_MISMATCH, "prime_search: image #%u has no outcome",
                        (unsigned)i);
}

/* The inputs of a search; with a subset of classes (subset non-NULL), only
 * the outcomes of their images are looked at, so that a search of a few
 * classes does not cost a pass over every image of the store. */
static prime_status check_inputs(const prime_tagstore *store, const prime_outcomes *outcomes,
                                 const uint32_t *subset, uint32_t n_subset)
{
    if (store == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_search: store is NULL");
    if (outcomes == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_search: outcomes is NULL");
    if (!store->frozen)
        return prime__error(PRIME_E_STATE, "prime_search: the tag store is not frozen");
    uint32_t n = prime_tagstore_image_count(store);
    if (outcomes->n != n)
        return prime__error(PRIME_E_MISMATCH,
                            "prime_search: %u outcomes for a tag store of %u images",
                            (unsigned)outcomes->n, (unsigned)n);
    if (subset == NULL) {
        for (uint32_t i = 0; i < n; i++)
            if (isnan(outcomes->v[i]))
                return missing_outcome(store, i);
        return PRIME_OK;
    }
    for (uint32_t k = 0; k < n_subset; k++) {
        uint64_t j, end;
        prime__store_scope(store, subset[k], &j, &end);
        for (; j < end; j++) {
            uint32_t i = prime__store_scope_image(store, subset[k], j);
            if (isnan(outcomes->v[i]))
                return missing_outcome(store, i);
        }
    }
    return PRIME_OK;
}

/* What prepare_class and pair_row allocated for class c. */
static void free_class_arrays(search_class *c)
{
    if (c->pair_stat != NULL)
        for (uint32_t i = 0; i < c->m; i++)
            prime__free(c->pair_stat[i]);
    prime__free(c->pair_stat);
    prime__free(c->block);
    prime__free(c->ids_block);
    prime__free(c->img_block);
    prime__free(c->name_rank);
    c->name_rank = NULL;
    c->pair_stat = NULL;
    c->block = c->ids_block = c->img_block = NULL;
}

/* Phases 1-3 over the batch classes[batch_first..batch_end), then free
 * its columns and work items (the workers keep their modes). */
static prime_status run_batch(search_ctx *s, search_worker *workers, uint32_t n_workers,
                              uint32_t n_alloc, uint32_t max_n)
{
    prime_status st = PRIME_OK;
    s->phase = 1;
    s->phase_items = s->batch_end - s->batch_first;
    run_phase(s, workers, n_workers);
    for (uint32_t t = 0; t < n_alloc && st == PRIME_OK; t++)
        st = workers[t].status;
    if (st != PRIME_OK || s->cancelled)
        goto out;
    if (s->batch_end == s->n_classes) {
        /* the last batch is prepared: the phase 1 scratch (rank holds one
           u32 per image of the largest class) goes before the search */
        for (uint32_t t = 0; t < n_alloc; t++)
            free_prepare_scratch(&workers[t]);
    }

    s->max_words = s->max_row_words = 0;
    s->max_m = 0;
    for (uint32_t k = s->batch_first; k < s->batch_end; k++) {
        if (s->classes[k].words > s->max_words)
            s->max_words = s->classes[k].words;
        if (s->classes[k].row_words > s->max_row_words)
            s->max_row_words = s->classes[k].row_words;
        if (s->classes[k].m > s->max_m)
            s->max_m = s->classes[k].m;
    }
    /* no sparse set is longer than this (sparse(), and <= its class) */
    s->ids_cap = (size_t)((uint64_t)s->max_words * s->array_num / s->array_den) + 1;
    if (s->ids_cap < (size_t)s->local_max + 1)
        s->ids_cap = (size_t)s->local_max + 1; /* a pivot's positions */
    if (s->ids_cap > (size_t)max_n + 1)
        s->ids_cap = (size_t)max_n + 1;
    st = build_items(s);
    if (st != PRIME_OK)
        goto out;
    s->sib = s->sib_mode != 0 && s->max_m > 0 &&
             ((size_t)s->max_tags + 1) * s->max_m * s->max_row_words * sizeof(uint64_t) <=
                 SIB_BYTES;
    /* the survivors' pool of a depth: 4 entries a candidate (at least 4,096) */
    s->pool_cap = s->max_m < 1024 ? 4096 : 4 * s->max_m;
    for (uint32_t t = 0; t < n_alloc; t++) {
        free_search_scratch(&workers[t]);
        if (t > 0 && (size_t)t >= s->n_items)
            continue;
        workers[t].stack =
            prime__malloc(((size_t)s->max_tags + 1) * (s->max_words ? s->max_words : 1) *
                          sizeof(uint64_t));
        workers[t].ids =
            prime__malloc(((size_t)s->max_tags + 1) * s->ids_cap * sizeof(uint32_t));
        workers[t].allowed =
            prime__malloc(((size_t)s->max_tags + 1) * (s->max_row_words ? s->max_row_words : 1) *
                          sizeof(uint64_t));
        size_t levels = (size_t)s->max_tags + 1, mm = s->max_m ? s->max_m : 1;
        workers[t].surv_mask = prime__malloc(levels * (s->sib ? mm : 1) *
                                             (s->max_row_words ? s->max_row_words : 1) *
                                             sizeof(uint64_t));
        workers[t].sv_idx = prime__calloc(levels * mm, sizeof *workers[t].sv_idx);
        if (s->sib) {
            workers[t].pool_size = prime__malloc(levels * s->pool_cap * sizeof(uint64_t));
            workers[t].pool_sum = prime__malloc(levels * s->pool_cap * sizeof(uint64_t));
            workers[t].pool_at = prime__malloc(levels * mm * sizeof(uint32_t));
            if (workers[t].pool_size == NULL || workers[t].pool_sum == NULL ||
                workers[t].pool_at == NULL) {
                st = PRIME_E_NOMEM;
                goto out;
            }
            for (size_t x = 0; x < levels * mm; x++)
                workers[t].pool_at[x] = POOL_NONE;
        }
        workers[t].sv_j = prime__malloc(levels * mm * sizeof(uint32_t));
        workers[t].sv_size = prime__malloc(levels * mm * sizeof(uint64_t));
        workers[t].sv_sum = prime__malloc(levels * mm * sizeof *workers[t].sv_sum);
        workers[t].pos = prime__malloc((s->max_words ? s->max_words : 1) * PRIME_BITS_WORD *
                                       sizeof *workers[t].pos);
        workers[t].leaf_cols = prime__malloc(mm * sizeof *workers[t].leaf_cols);
        workers[t].pc_wrong = prime__calloc(mm, sizeof *workers[t].pc_wrong);
        workers[t].pc_size = prime__calloc(mm, sizeof *workers[t].pc_size);
        workers[t].pc_sum = prime__calloc(mm, sizeof *workers[t].pc_sum);
        workers[t].pcolp = prime__malloc(mm * sizeof *workers[t].pcolp);
        workers[t].pnull = prime__calloc(mm, sizeof *workers[t].pnull);
        workers[t].pacc = prime__malloc(mm * sizeof *workers[t].pacc);
        workers[t].plist = prime__malloc(mm * sizeof *workers[t].plist);
        workers[t].lcol = prime__malloc(mm * sizeof *workers[t].lcol);
        size_t n_nec = nec_slots(s->max_tags), nec_words = s->max_words ? s->max_words : 1;
        if (n_nec > 0) {
            workers[t].nec_block = prime__malloc(
                n_nec * (nec_words * sizeof(uint64_t) + s->ids_cap * sizeof(uint32_t)));
            if (workers[t].nec_block == NULL) {
                st = PRIME_E_NOMEM;
                goto out;
            }
            uint64_t *sets = workers[t].nec_block;
            uint32_t *ids = (uint32_t *)(sets + n_nec * nec_words);
            for (uint32_t p = 3; p < s->max_tags; p++)
                for (uint32_t d = 0; d + 2 <= p; d++) {
                    nec_set *e = &workers[t].nec[p][d];
                    e->node = 0;
                    e->set = sets;
                    e->ids = ids;
                    sets += nec_words;
                    ids += s->ids_cap;
                }
        }
        if (workers[t].pcolp == NULL || workers[t].pnull == NULL || workers[t].pacc == NULL ||
            workers[t].plist == NULL || workers[t].lcol == NULL || workers[t].pc_wrong == NULL ||
            workers[t].pc_size == NULL || workers[t].pc_sum == NULL) {
            st = PRIME_E_NOMEM;
            goto out;
        }
        if (workers[t].stack == NULL || workers[t].ids == NULL || workers[t].allowed == NULL ||
            workers[t].surv_mask == NULL || workers[t].sv_idx == NULL || workers[t].sv_j == NULL ||
            workers[t].sv_size == NULL || workers[t].sv_sum == NULL || workers[t].pos == NULL ||
            workers[t].leaf_cols == NULL) {
            st = PRIME_E_NOMEM;
            goto out;
        }
    }

    /* phase 2: the pair table; phase 4: the rows that it says will pay
       (rows_from_columns()); phase 3: the depth-first searches */
    static const int phases[] = {2, 4, 3};
    for (int ph = 0; ph < 3; ph++) {
        int phase = phases[ph];
        if (phase == 3)
            sort_items_for_search(s);
        s->phase = phase;
        s->phase_items = phase == 4 ? s->batch_end - s->batch_first : s->n_items;
        run_phase(s, workers, n_workers);
        for (uint32_t t = 0; t < n_alloc && st == PRIME_OK; t++)
            st = workers[t].status;
        if (st != PRIME_OK || s->cancelled || atomic_load(&s->over_limit))
            goto out;
    }
out:
    for (uint32_t c = s->batch_first; c < s->batch_end; c++)
        free_class_arrays(&s->classes[c]);
    prime__free(s->items);
    s->items = NULL;
    s->n_items = 0;
    return st;
}

/* prime_search (on_mode NULL: a result in *out), prime_search_stream
 * (modes to on_mode, their number in *n_streamed) and prime__search_raw_run
 * (raw non-NULL: the classes subset[0..n_subset) only, unless subset is
 * NULL, and the raw modes in *raw). */
static prime_status search_run(const prime_tagstore *store, const prime_outcomes *outcomes,
                               const prime_config *config, prime_progress_fn progress,
                               void *user_data, prime_mode_fn on_mode, void *mode_data,
                               prime_result **out, uint64_t *n_streamed,
                               const uint32_t *subset, uint32_t n_subset,
                               prime__search_raw *raw)
{
    prime_status st = check_inputs(store, outcomes, subset, n_subset);
    if (st != PRIME_OK)
        return st;

    prime_config defaults;
    if (config == NULL) {
        prime_config_reset(&defaults);
        config = &defaults;
    }

    search_ctx *s = prime__calloc(1, sizeof *s);
    if (s == NULL)
        return prime__error(PRIME_E_NOMEM, "prime_search: out of memory");
    s->store = store;
    s->k = prime__kernels_get();
    s->array_num = array_num;
    s->array_den = array_den;
    s->gallop_ratio = gallop_ratio;
    s->proj_mode = proj_mode;
    s->leaf_chunk = leaf_chunk;
    s->pair_rows = pair_rows;
    s->nec_mode = nec_mode;
    s->local_max = local_max;
    s->order_mode = order_mode;
    s->sib_mode = sib_mode;
    s->batch_images = batch_images;
    s->report_ns = report_ns;
    s->join_slice = join_slice;
    s->out = outcomes->v;
    s->max_tags = (uint32_t)(config->max_tags < 1 ? 1
                             : config->max_tags > PRIME_MAX_TAGS_LIMIT ? PRIME_MAX_TAGS_LIMIT
                                                                       : config->max_tags);
    s->min_size = config->min_size < 1 ? 1 : (uint64_t)config->min_size;
    int64_t tc = prime__config_tag_count(config);
    s->cand_min = tc > (int64_t)s->min_size ? (uint64_t)tc : s->min_size;
    s->min_drop = config->min_drop;
    for (uint32_t k = 1; k <= PRIME_MAX_TAGS_LIMIT; k++)
        s->gain[k] = prime__config_gain(config, k);
    s->progress = progress;
    s->user_data = user_data;
    atomic_init(&s->next, 0);
    atomic_init(&s->done, 0);
    atomic_init(&s->stop, 0);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->on_mode = on_mode;
    s->mode_data = mode_data;
    s->max_modes = config->max_modes > 0 ? (uint64_t)config->max_modes : 0;
    atomic_init(&s->n_found, 0);
    atomic_init(&s->over_limit, 0);
    pthread_mutex_init(&s->mode_mu, NULL);

    uint32_t n_alloc = 0; /* workers allocated (cleanup frees them) */
    uint32_t n_workers = config->threads > 0 ? (uint32_t)config->threads : prime__cpu_count();
    if (n_workers < 1)
        n_workers = 1;
    search_worker *workers = NULL;
    prime__raw_mode *modes = NULL; /* the workers' lists joined */
    uint32_t *class_ids = NULL;
    uint64_t *class_images = NULL;
    double *class_correct = NULL;
    uint32_t n_tags = prime_tagstore_tag_count(store);

    /* the searched classes */
    uint32_t n_store_classes = prime_tagstore_class_count(store);
    uint32_t n_images = prime_tagstore_image_count(store);
    s->classes = prime__calloc(config->whole_dataset ? 1 : (n_store_classes ? n_store_classes : 1),
                               sizeof *s->classes);
    if (s->classes == NULL) {
        st = PRIME_E_NOMEM;
        goto done;
    }
    if (config->whole_dataset) {
        if (n_images > 0) {
            search_class *c = &s->classes[s->n_classes++];
            c->class_id = PRIME_NONE;
            c->images = NULL;
            c->n = n_images;
        }
    } else {
        for (uint32_t i = 0; i < (subset != NULL ? n_subset : n_store_classes); i++) {
            uint32_t k = subset != NULL ? subset[i] : i;
            uint64_t a = store->class_off[k], b = store->class_off[k + 1];
            if (a == b)
                continue;
            search_class *c = &s->classes[s->n_classes++];
            c->class_id = k;
            /* NULL: the images of the class are a..b-1 themselves */
            c->images = store->class_images != NULL ? store->class_images + a : NULL;
            c->first = (uint32_t)a;
            c->n = (uint32_t)(b - a);
        }
    }
    uint32_t max_n = 0;
    for (uint32_t k = 0; k < s->n_classes; k++) {
        search_class *c = &s->classes[k];
        max_n = c->n > max_n ? c->n : max_n;
        uint64_t sum = 0;
        for (uint32_t j = 0; j < c->n; j++)
            sum += prime__fx_from(s->out[class_image(c, j)]);
        c->sum = sum;
        c->acc = prime__fx_mean(sum, c->n);
        /* min_size, absolute or a share of the class (PRIME_PARAM_MIN_SIZE_SHARE) */
        c->min_size = s->min_size;
        if (config->min_size_share > 0.0) {
            double want = ceil(config->min_size_share * (double)c->n - PRIME_EPS);
            c->min_size = want < 1.0 ? 1 : (uint64_t)want;
        }
        uint64_t ctc = config->min_tag_count > 0 ? (uint64_t)config->min_tag_count : c->min_size;
        c->cand_min = ctc > c->min_size ? ctc : c->min_size;
    }
    s->total = (uint64_t)s->n_classes * UNITS_PER_CLASS;

    /* workers and their phase 1 scratch (run_phase uses workers
       0..min(threads, items)-1, and worker 0 when it runs items itself) */
    n_alloc = n_workers;
    workers = prime__calloc(n_alloc, sizeof *workers);
    if (workers == NULL) {
        st = PRIME_E_NOMEM;
        goto done;
    }
    for (uint32_t t = 0; t < n_alloc; t++) {
        search_worker *w = &workers[t];
        w->s = s;
        if (t > 0 && t >= s->n_classes)
            continue; /* never runs phase 1 */
        w->count = prime__calloc(n_tags ? n_tags : 1, sizeof *w->count);
        w->sum = prime__calloc(n_tags ? n_tags : 1, sizeof *w->sum);
        w->map = prime__malloc((n_tags ? n_tags : 1) * sizeof *w->map);
        w->touched = prime__malloc((n_tags ? n_tags : 1) * sizeof *w->touched);
        w->rank = prime__malloc(((size_t)max_n + 1) * sizeof *w->rank);
        if (w->count == NULL || w->sum == NULL || w->map == NULL || w->touched == NULL ||
            w->rank == NULL) {
            st = PRIME_E_NOMEM;
            goto done;
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &s->last_report);
    report(s);

    /* the classes in batches of consecutive classes (run_batch): the
       columns of one batch are freed before the next is prepared */
    for (uint32_t b = 0; b < s->n_classes && st == PRIME_OK && !s->cancelled &&
                         !atomic_load(&s->stop);) {
        uint64_t images = s->classes[b].n;
        uint32_t e = b + 1;
        while (e < s->n_classes && images + s->classes[e].n <= s->batch_images)
            images += s->classes[e++].n;
        s->batch_first = b;
        s->batch_end = e;
        st = run_batch(s, workers, n_workers, n_alloc, max_n);
        b = e;
    }
    if (st != PRIME_OK || s->cancelled || atomic_load(&s->over_limit))
        goto done;
    atomic_store(&s->done, s->total);
    report(s);
    if (s->cancelled)
        goto done;
    if (on_mode != NULL)
        goto done;

    /* the result */
    size_t n_modes = 0;
    uint32_t with_modes = 0;
    for (uint32_t t = 0; t < n_alloc; t++) {
        n_modes += workers[t].n_modes;
        with_modes += workers[t].n_modes > 0;
    }
    if (with_modes == 0) {
        modes = prime__malloc(sizeof *modes);
    } else if (with_modes == 1 && !join_always) {
        /* one list in one segment (a small result, one thread most often):
           taken as it is, not copied */
        for (uint32_t t = 0; t < n_alloc && modes == NULL; t++)
            if (workers[t].n_modes > 0 && workers[t].n_segs == 1) {
                /* its capacity (up to 23 MB) cut to the modes */
                modes = prime__realloc(workers[t].segs[0], n_modes * sizeof *modes);
                if (modes == NULL) {
                    st = PRIME_E_NOMEM; /* the segment is the worker's to free */
                    goto done;
                }
                workers[t].segs[0] = NULL;
                workers[t].n_segs = 0;
            }
    }
    if (modes == NULL) {
        /* written once in sequence, like the build's arrays: huge pages, so
           that a cancel from now on does not wait for 4 kB pages to unmap */
        modes = prime__malloc(n_modes * sizeof *modes);
        prime__huge_pages(modes, n_modes * sizeof *modes);
    } else {
        with_modes = 0; /* nothing left to join */
    }
    class_ids = prime__malloc((s->n_classes ? s->n_classes : 1) * sizeof *class_ids);
    class_images = prime__malloc((s->n_classes ? s->n_classes : 1) * sizeof *class_images);
    class_correct = prime__malloc((s->n_classes ? s->n_classes : 1) * sizeof *class_correct);
    if (modes == NULL || class_ids == NULL || class_images == NULL || class_correct == NULL) {
        st = PRIME_E_NOMEM;
        goto done;
    }
    /* The workers' lists joined in slices, with a tick after each: 15 M
       modes are 1.3 GB to copy and fault in, a second or more without a
       progress call or a cancel otherwise. Each segment is freed once
       copied (huge pages: a few ms). */
    size_t k = 0;
    for (uint32_t t = 0; t < n_alloc && with_modes > 0; t++) {
        search_worker *w = &workers[t];
        for (size_t at = 0; at < w->n_modes;) {
            size_t in_seg = at & (MODE_SEG - 1);
            size_t m = w->n_modes - at;
            m = m < MODE_SEG - in_seg ? m : MODE_SEG - in_seg;
            m = m < s->join_slice ? m : s->join_slice;
            memcpy(modes + k, w->segs[at >> MODE_SEG_SHIFT] + in_seg, m * sizeof *modes);
            k += m;
            at += m;
            if ((at & (MODE_SEG - 1)) == 0 || at == w->n_modes) {
                prime__free(w->segs[(at - 1) >> MODE_SEG_SHIFT]);
                w->segs[(at - 1) >> MODE_SEG_SHIFT] = NULL;
            }
            if (build_tick(s))
                goto done;
        }
        free_mode_segs(w);
    }
    for (uint32_t c = 0; c < s->n_classes; c++) {
        class_ids[c] = s->classes[c].class_id;
        class_images[c] = s->classes[c].n;
        class_correct[c] = prime__fx_value(s->classes[c].sum);
    }
    if (raw != NULL) {
        /* prime__search_raw_run: the parts, no result */
        raw->n_classes = s->n_classes;
        raw->class_ids = class_ids;
        raw->class_images = class_images;
        raw->class_correct = class_correct;
        raw->modes = modes;
        raw->n_modes = n_modes;
        for (uint32_t t = 0; t < n_alloc; t++)
            raw->candidates += workers[t].candidates;
        class_ids = NULL;
        class_images = NULL;
        class_correct = NULL;
        modes = NULL;
        goto done;
    }
    /* the raw modes are freed by the build once read */
    st = prime__result_build_ticking(store, config, s->n_classes, class_ids, class_images,
                                     class_correct, modes, n_modes, &modes, build_tick, s,
                                     out);
    modes = NULL;
    if (st != PRIME_OK) {
        *out = NULL;
        goto cleanup; /* prime__result_build set the message */
    }
    for (uint32_t t = 0; t < n_alloc; t++)
        (*out)->n_candidates += workers[t].candidates;
    if (config->fold_equal && !s->cancelled) {
        st = prime__result_fold_equal(*out, store); /* lib/search/fold.c */
        if (st != PRIME_OK) {
            prime_result_destroy(*out);
            *out = NULL;
            goto cleanup;
        }
    }

done:
    if (n_streamed != NULL)
        *n_streamed = s->n_streamed; /* the workers are joined */
    if (st == PRIME_E_NOMEM)
        prime__error(st, "prime_search: out of memory");
    else if (st == PRIME_OK && atomic_load(&s->over_limit))
        st = prime__error(PRIME_E_LIMIT,
                          "%s: more than %llu failure modes (max_modes); raise min_size or "
                          "min_drop, lower max_tags, or raise max_modes (0: no limit)",
                          on_mode != NULL ? "prime_search_stream" : "prime_search",
                          (unsigned long long)s->max_modes);
    else if (st == PRIME_OK && s->stream_stopped)
        st = prime__error(PRIME_E_CANCELLED,
                          "prime_search_stream: stopped by the mode callback after %llu modes",
                          (unsigned long long)s->n_streamed);
    else if (st == PRIME_OK && s->cancelled)
        st = prime__error(PRIME_E_CANCELLED, "prime_search: cancelled by the progress callback");
cleanup:
    prime__free(modes);
    prime__free(class_ids);
    prime__free(class_images);
    prime__free(class_correct);
    free_workers(workers, n_alloc);
    for (uint32_t c = 0; s->classes != NULL && c < s->n_classes; c++)
        free_class_arrays(&s->classes[c]);
    prime__free(s->classes);
    prime__free(s->items);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mode_mu);
    prime__free(s);
    return st;
}

prime_status prime_search(const prime_tagstore *store, const prime_outcomes *outcomes,
                          const prime_config *config, prime_progress_fn progress,
                          void *user_data, prime_result **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_search: out is NULL");
    *out = NULL;
    return search_run(store, outcomes, config, progress, user_data, NULL, NULL, out, NULL, NULL,
                      0, NULL);
}

prime_status prime_search_stream(const prime_tagstore *store, const prime_outcomes *outcomes,
                                 const prime_config *config, prime_progress_fn progress,
                                 void *progress_data, prime_mode_fn on_mode, void *mode_data,
                                 uint64_t *n_modes_out)
{
    if (n_modes_out != NULL)
        *n_modes_out = 0;
    if (on_mode == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_search_stream: on_mode is NULL");
    if (config != NULL && config->fold_equal)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_search_stream: fold_equal needs every mode at once; "
                            "use prime_search");
    uint64_t n = 0;
    prime_status st = search_run(store, outcomes, config, progress, progress_data, on_mode,
                                 mode_data, NULL, &n, NULL, 0, NULL);
    if (n_modes_out != NULL)
        *n_modes_out = n;
    return st;
}

prime_status prime__search_raw_run(const prime_tagstore *store, const prime_outcomes *outcomes,
                                   const prime_config *config, const uint32_t *class_ids,
                                   uint32_t n, prime_progress_fn progress, void *user_data,
                                   prime__search_raw *out)
{
    memset(out, 0, sizeof *out);
    static const uint32_t none = 0;
    return search_run(store, outcomes, config, progress, user_data, NULL, NULL, NULL, NULL,
                      class_ids != NULL ? class_ids : &none, n, out);
}

void prime__search_raw_free(prime__search_raw *r)
{
    prime__free(r->class_ids);
    prime__free(r->class_images);
    prime__free(r->class_correct);
    prime__free(r->modes);
    memset(r, 0, sizeof *r);
}
