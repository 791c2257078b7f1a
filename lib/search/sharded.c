/* The whole-data-set search over image shards (prime/sharded.h;
 * docs/method.md, "Sharded search").
 *
 * Every process holds some images (its parts) and the search goes level by
 * level. Level 1: every process counts, per store tag, its images and the
 * fixed-point sum of their outcomes; the caller's sum function adds the
 * arrays of all processes; the candidate tags follow (the test of
 * search.c's prepare_class). Each process then builds bitset columns of
 * the candidates over its own images. Level k >= 2: the children of the
 * level-(k-1) sets the depth-first search descends from (for k = 2 every
 * pair of candidates: the pair table; for k >= 3 the tags their pair-table
 * rows allow) are counted locally, summed, and judged with search.c's
 * tests on the same integers (search/fixed.h), so the sets kept at each
 * level are exactly the ones the depth-first search visits, `candidates`
 * counts them, and the failure modes are the same. The necessity test of
 * a level-k set looks its (k-1)-subsets up among the sets kept at level
 * k-1: the visited sets are closed under subsets (size, wrongness and the
 * pair table are all monotone).
 *
 * Collectives: every step is decided from sums that every process shares,
 * so all make the same calls. Before each round of sums a two-value sum
 * (agree()) tells every process whether one of them failed or was
 * cancelled, so that all stop at the same step. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "prime/sharded.h"
#include "search/bitset.h"
#include "search/fixed.h"
#include "search/kernels.h"
#include "search/search.h"

#define FN "prime_search_sharded"
/* children counted in one round of sums (two values each) */
#define ROUND_SETS (PRIME_SHARDED_SUM_BLOCK / 2u)
/* progress units per level */
#define LEVEL_UNITS 1000u

/* The visited sets of one level: k candidate indices each (ascending), in
 * lexicographic order, with their global size and fixed-point sum. */
typedef struct {
    uint32_t k;
    uint64_t n, cap;
    uint32_t *tags; /* n * k */
    uint64_t *st;   /* n * 2: size, sum */
    uint64_t *front; /* indices of the sets the search descends from */
    uint64_t n_front, cap_front;
} level;

typedef struct sh_ctx sh_ctx;

/* one worker's scratch for counting children */
typedef struct {
    uint64_t *pset, *cset; /* words each */
    uint32_t *ids, *ids2;  /* ids_cap each */
} sh_scratch;

struct sh_ctx {
    const prime_shard_part *parts;
    uint32_t n_parts;
    prime_sum_fn sum;
    void *sum_data;
    prime_progress_fn progress;
    void *progress_data;
    bool cancelled; /* the progress callback answered non-zero */
    const prime__kernels *k;
    uint32_t threads;

    /* parameters */
    uint32_t max_tags;
    uint64_t min_size, cand_min;
    double min_drop;
    double gain[PRIME_MAX_TAGS_LIMIT + 1];

    /* global */
    uint64_t n;     /* images of all shards */
    uint64_t sum_q; /* their fixed-point outcome sum */
    double acc;
    bool binary;
    uint64_t need_wrong;

    /* local */
    uint64_t ln;    /* images of this process */
    uint32_t n_tags;
    uint32_t m;     /* candidates */
    uint32_t *cand; /* m store tag ids, ascending */
    uint32_t *map;  /* n_tags: candidate index or PRIME_NONE */
    size_t words;   /* words of a local column */
    uint64_t *cols; /* m columns */
    uint64_t *col_n; /* m: local size of each column */
    uint32_t **col_ids; /* m: sorted positions of a sparse column, or NULL */
    uint32_t *ids_block;
    /* 0/1 outcomes: the wrong local images take bits 0.. (words 0..ww-1),
       the correct ones start at word ww (search.c's layout): a round counts
       the wrong images of every child first (a few words), sums them, and
       counts the rest only for the children with enough wrong images */
    size_t ww;
    uint64_t *vals;    /* scores: fixed-point outcome of each local image */
    size_t ids_cap;
    size_t row_words;
    uint64_t *rows; /* pair table, m rows */

    /* a round of children: parent (index into the parents' level) and tag */
    uint64_t *child_parent;
    uint32_t *child_tag;
    uint64_t *buf; /* scores: 2 per child; 0/1: wrong, then correct at ROUND_SETS */
    uint64_t *pos; /* 0/1: index of a child among those counted further, or NONE */
    int phase;     /* 0: size and sum; 1: wrong images; 2: correct images */
    uint64_t n_children;
    uint64_t *grp;  /* first child of each parent group, n_grp + 1 */
    uint64_t n_grp;
    const level *parents;
    atomic_uint_fast64_t next_grp;
    atomic_uint next_slot;
    sh_scratch *scratch;

    uint64_t candidates;
    prime__raw_mode *modes;
    size_t n_modes, cap_modes;
};

/* ---- collectives ----------------------------------------------------------- */

static prime_status sum_all(sh_ctx *s, uint64_t *v, uint64_t n)
{
    for (uint64_t off = 0; off < n; off += PRIME_SHARDED_SUM_BLOCK) {
        uint64_t c = n - off < PRIME_SHARDED_SUM_BLOCK ? n - off : PRIME_SHARDED_SUM_BLOCK;
        int32_t rc = s->sum(s->sum_data, v + off, c);
        if (rc != 0)
            return prime__error(PRIME_E_IO, FN ": the sum function failed (it returned %d)",
                                (int)rc);
    }
    return PRIME_OK;
}

/* Report progress, then agree with every process on going on: returns
 * PRIME_OK when no process failed or was cancelled; else this process's
 * own error (local), or PRIME_E_CANCELLED. */
static prime_status agree(sh_ctx *s, prime_status local, uint64_t done, uint64_t total)
{
    if (local == PRIME_OK && s->progress != NULL && !s->cancelled &&
        s->progress(s->progress_data, done, total) != 0)
        s->cancelled = true;
    uint64_t v[2] = {local != PRIME_OK, s->cancelled};
    prime_status st = sum_all(s, v, 2);
    if (st != PRIME_OK)
        return st;
    if (local != PRIME_OK)
        return local; /* its message is set */
    if (v[0] > 0)
        return prime__error(PRIME_E_CANCELLED, FN ": stopped: %llu other shard%s failed",
                            (unsigned long long)v[0], v[0] == 1 ? "" : "s");
    if (v[1] > 0)
        return prime__error(PRIME_E_CANCELLED,
                            FN ": cancelled by the progress callback (on %llu shard%s)",
                            (unsigned long long)v[1], v[1] == 1 ? "" : "s");
    return PRIME_OK;
}

/* ---- checks and identities ------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

static uint64_t tag_table_hash(const prime_tagstore *st)
{
    uint32_t n = prime_tagstore_tag_count(st);
    uint64_t h = fnv(UINT64_C(0xcbf29ce484222325), &n, sizeof n);
    for (uint32_t t = 0; t < n; t++) {
        const char *name = prime_tagstore_tag_name(st, t);
        h = fnv(h, name, strlen(name) + 1);
    }
    return h;
}

static uint64_t config_hash(const prime_config *c)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    h = fnv(h, &c->max_tags, sizeof c->max_tags);
    h = fnv(h, &c->min_size, sizeof c->min_size);
    h = fnv(h, &c->min_drop, sizeof c->min_drop);
    h = fnv(h, &c->n_min_gain, sizeof c->n_min_gain);
    h = fnv(h, c->min_gain, c->n_min_gain * sizeof *c->min_gain);
    h = fnv(h, &c->min_tag_count, sizeof c->min_tag_count);
    h = fnv(h, &c->min_size_share, sizeof c->min_size_share);
    h = fnv(h, &c->fold_equal, sizeof c->fold_equal);
    return h;
}

/* The eight bytes of h and their squares into v[0..16): after the sum, all
 * processes had the same h iff P * sum(x^2) == sum(x)^2 for each byte x
 * (equality in Cauchy-Schwarz); exact in uint64_t below 2^24 processes. */
#define PIECES 16
static void put_pieces(uint64_t *v, uint64_t h)
{
    for (int i = 0; i < 8; i++) {
        uint64_t x = (h >> (8 * i)) & 0xffu;
        v[2 * i] = x;
        v[2 * i + 1] = x * x;
    }
}

static bool pieces_equal(const uint64_t *v, uint64_t p)
{
    for (int i = 0; i < 8; i++)
        if (p * v[2 * i + 1] != v[2 * i] * v[2 * i])
            return false;
    return true;
}

/* The local checks of the parts; the message names the part. */
static prime_status check_parts(sh_ctx *s, uint64_t *ln, uint64_t *nonbinary, uint64_t *sum_q,
                                uint64_t *tag_hash)
{
    const prime_tagstore *st0 = s->parts[0].store;
    *ln = *nonbinary = *sum_q = 0;
    *tag_hash = 0;
    for (uint32_t p = 0; p < s->n_parts; p++) {
        const prime_shard_part *pt = &s->parts[p];
        if (!prime_tagstore_is_frozen(pt->store))
            return prime__error(PRIME_E_STATE, FN ": part %u: the tag store is not frozen",
                                (unsigned)p);
        uint32_t n = prime_tagstore_image_count(pt->store);
        if (prime_outcomes_count(pt->outcomes) != n)
            return prime__error(PRIME_E_MISMATCH,
                                FN ": part %u: %u outcomes for a tag store of %u images",
                                (unsigned)p, (unsigned)prime_outcomes_count(pt->outcomes),
                                (unsigned)n);
        if (pt->first > n || pt->count > n - pt->first)
            return prime__error(PRIME_E_RANGE,
                                FN ": part %u: images %u..%llu of a store of %u images",
                                (unsigned)p, (unsigned)pt->first,
                                (unsigned long long)pt->first + pt->count, (unsigned)n);
        uint64_t h = tag_table_hash(pt->store);
        if (p == 0)
            *tag_hash = h;
        else if (h != *tag_hash ||
                 prime_tagstore_tag_count(pt->store) != prime_tagstore_tag_count(st0))
            return prime__error(PRIME_E_MISMATCH,
                                FN ": part %u has another tag table than part 0", (unsigned)p);
        for (uint32_t i = pt->first; i < pt->first + pt->count; i++) {
            double v = pt->outcomes->v[i];
            if (isnan(v)) {
                const char *name = prime_tagstore_image_name(pt->store, i);
                if (name != NULL && name[0] != '\0')
                    return prime__error(PRIME_E_MISMATCH,
                                        FN ": part %u: image '%s' has no outcome", (unsigned)p,
                                        name);
                return prime__error(PRIME_E_MISMATCH, FN ": part %u: image #%u has no outcome",
                                    (unsigned)p, (unsigned)i);
            }
            *nonbinary += v != 0.0 && v != 1.0;
            *sum_q += prime__fx_from(v);
        }
        *ln += pt->count;
    }
    if (*ln >= ((uint64_t)1 << 32))
        return prime__error(PRIME_E_LIMIT, FN ": %llu images in this shard (at most 2^32 - 1)",
                            (unsigned long long)*ln);
    return PRIME_OK;
}

/* ---- local images ----------------------------------------------------------- */

/* Call BODY(li, img, st, outcome) for every local image. */
#define FOR_LOCAL(s, BODY)                                                    \
    do {                                                                      \
        uint64_t li_ = 0;                                                     \
        for (uint32_t p_ = 0; p_ < (s)->n_parts; p_++) {                      \
            const prime_shard_part *pt_ = &(s)->parts[p_];                    \
            for (uint32_t i_ = pt_->first; i_ < pt_->first + pt_->count; i_++, li_++) { \
                const prime_tagstore *st_ = pt_->store;                       \
                double v_ = pt_->outcomes->v[i_];                             \
                BODY(li_, i_, st_, v_);                                       \
            }                                                                 \
        }                                                                     \
    } while (0)

/* Can the set (size, sum) or a subset of it still reach the drop? (the
 * descent test of search.c's visit) */
static bool descend_ok(const sh_ctx *s, uint64_t size, uint64_t sum)
{
    if (s->binary)
        return size - (sum >> PRIME_FX_SHIFT) >= s->need_wrong;
    return prime__fx_can_reach(s->acc, prime__fx_wrong(size, sum), s->min_size, s->min_drop);
}

/* ---- levels ------------------------------------------------------------------ */

static void level_free(level *l)
{
    prime__free(l->tags);
    prime__free(l->st);
    prime__free(l->front);
    memset(l, 0, sizeof *l);
}

static bool level_push(level *l, const uint32_t *tags, uint64_t size, uint64_t sum)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        uint32_t *t = prime__realloc(l->tags, cap * l->k * sizeof *t);
        if (t == NULL)
            return false;
        l->tags = t;
        uint64_t *v = prime__realloc(l->st, cap * 2 * sizeof *v);
        if (v == NULL)
            return false;
        l->st = v;
        l->cap = cap;
    }
    memcpy(l->tags + l->n * l->k, tags, l->k * sizeof *tags);
    l->st[2 * l->n] = size;
    l->st[2 * l->n + 1] = sum;
    l->n++;
    return true;
}

static bool level_front(level *l, uint64_t i)
{
    size_t cap = l->cap_front;
    if (!prime__grow((void **)&l->front, &cap, l->n_front + 1, sizeof *l->front))
        return false;
    l->cap_front = cap;
    l->front[l->n_front++] = i;
    return true;
}

/* Index of the set `tags` (k ascending candidate indices) in l, or -1. */
static int64_t level_find(const level *l, const uint32_t *tags)
{
    uint64_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = 0;
        const uint32_t *x = l->tags + mid * l->k;
        for (uint32_t i = 0; i < l->k && c == 0; i++)
            c = (x[i] > tags[i]) - (x[i] < tags[i]);
        if (c == 0)
            return (int64_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ---- counting the children of a round (local) --------------------------------- */

static inline bool sparse(size_t size, size_t words)
{
    return size * 8 <= words;
}

#define NO_POS UINT64_MAX

static void *count_worker(void *arg);

/* The local counts of the children of parent group g for the current
 * phase (s->phase). */
static void count_group(sh_ctx *s, sh_scratch *w, uint64_t g)
{
    uint64_t c0 = s->grp[g], c1 = s->grp[g + 1];
    int phase = s->phase;
    if (phase == 2) {
        bool any = false;
        for (uint64_t c = c0; c < c1 && !any; c++)
            any = s->pos[c] != NO_POS;
        if (!any)
            return;
    }
    if (s->words == 0) {
        for (uint64_t c = c0; c < c1; c++) {
            if (phase == 0)
                s->buf[2 * c] = s->buf[2 * c + 1] = 0;
            else if (phase == 1)
                s->buf[c] = 0;
            else if (s->pos[c] != NO_POS)
                s->buf[ROUND_SETS + s->pos[c]] = 0;
        }
        return;
    }
    const level *L = s->parents;
    const uint32_t *pt = L->tags + s->child_parent[c0] * L->k;
    size_t words = s->words, ww = s->ww;
    /* the parent's local images: sorted positions (ids, n_ids) or a bitset */
    const uint32_t *ids = NULL;
    uint32_t n_ids = 0;
    const uint64_t *pset = NULL;
    uint32_t best = pt[0];
    for (uint32_t i = 1; i < L->k; i++)
        if (s->col_n[pt[i]] < s->col_n[best])
            best = pt[i];
    if (s->col_ids[best] != NULL) {
        /* probe the sparsest column's positions in the others */
        const uint32_t *from = s->col_ids[best];
        uint32_t n = (uint32_t)s->col_n[best];
        for (uint32_t i = 0; i < L->k; i++) {
            if (pt[i] == best)
                continue;
            const uint64_t *col = s->cols + (size_t)pt[i] * words;
            uint32_t *to = from == w->ids ? w->ids2 : w->ids, k = 0;
            for (uint32_t x = 0; x < n; x++) {
                to[k] = from[x];
                k += (uint32_t)prime__bits_get(col, from[x]);
            }
            from = to;
            n = k;
        }
        ids = from;
        n_ids = n;
    } else if (L->k == 1) {
        pset = s->cols + (size_t)pt[0] * words;
    } else {
        uint64_t n = s->k->and_count(w->pset, s->cols + (size_t)pt[0] * words,
                                     s->cols + (size_t)pt[1] * words, words);
        for (uint32_t i = 2; i < L->k; i++)
            n = s->k->and_count(w->pset, w->pset, s->cols + (size_t)pt[i] * words, words);
        pset = w->pset;
        if (sparse(n, words)) {
            n_ids = prime__bits_ids(pset, words, w->ids);
            ids = w->ids;
        }
    }
    /* 0/1 outcomes: ids[0..n_wrong) are the wrong images */
    uint32_t n_wrong = 0;
    if (ids != NULL && phase != 0) {
        uint32_t from = (uint32_t)(ww * PRIME_BITS_WORD);
        while (n_wrong < n_ids && ids[n_wrong] < from)
            n_wrong++;
    }
    for (uint64_t c = c0; c < c1; c++) {
        const uint64_t *col = s->cols + (size_t)s->child_tag[c] * words;
        if (phase == 1) {
            uint64_t wrong = 0;
            if (ids != NULL)
                for (uint32_t x = 0; x < n_wrong; x++)
                    wrong += prime__bits_get(col, ids[x]);
            else
                wrong = s->k->and_popcount(pset, col, ww);
            s->buf[c] = wrong;
            continue;
        }
        if (phase == 2) {
            if (s->pos[c] == NO_POS)
                continue;
            uint64_t right = 0;
            if (ids != NULL)
                for (uint32_t x = n_wrong; x < n_ids; x++)
                    right += prime__bits_get(col, ids[x]);
            else
                right = s->k->and_popcount(pset + ww, col + ww, words - ww);
            s->buf[ROUND_SETS + s->pos[c]] = right;
            continue;
        }
        uint64_t size = 0, sum = 0;
        if (ids != NULL) {
            for (uint32_t x = 0; x < n_ids; x++) {
                uint32_t id = ids[x];
                if (!prime__bits_get(col, id))
                    continue;
                size++;
                sum += s->vals[id];
            }
        } else {
            size = s->k->and_count(w->cset, pset, col, words);
            if (size > 0)
                sum = prime__bits_sum(w->cset, words, s->vals);
        }
        s->buf[2 * c] = size;
        s->buf[2 * c + 1] = sum;
    }
}

/* Count the children of the round for phase `phase`, in the threads. */
static void count_round(sh_ctx *s, int phase)
{
    s->phase = phase;
    atomic_store(&s->next_grp, 0);
    atomic_store(&s->next_slot, 0);
    uint64_t n_grp = s->n_grp;
    uint32_t nt = s->threads;
    if (nt > n_grp)
        nt = n_grp ? (uint32_t)n_grp : 1;
    if (nt > 1)
        prime__run_workers(nt, count_worker, s);
    else
        count_worker(s);
}

static void *count_worker(void *arg)
{
    sh_ctx *s = arg;
    unsigned slot = atomic_fetch_add(&s->next_slot, 1);
    sh_scratch *w = &s->scratch[slot];
    for (;;) {
        uint64_t g = atomic_fetch_add(&s->next_grp, 1);
        if (g >= s->n_grp)
            break;
        count_group(s, w, g);
    }
    return NULL;
}

/* ---- the search --------------------------------------------------------------- */

static bool push_mode(sh_ctx *s, const uint32_t *tags, uint32_t k, uint64_t size, uint64_t sum)
{
    if (!prime__grow((void **)&s->modes, &s->cap_modes, s->n_modes + 1, sizeof *s->modes))
        return false;
    prime__raw_mode *r = &s->modes[s->n_modes++];
    memset(r, 0, sizeof *r);
    r->class_index = 0;
    r->n_tags = k;
    for (uint32_t i = 0; i < k; i++)
        r->tags[i] = s->cand[tags[i]];
    r->size = size;
    r->correct = prime__fx_value(sum);
    return true;
}

/* Is the visited k-set `tags` (size, sum) a failure mode? prev is the
 * level k - 1 (NULL for k = 1), cand_st the candidates' stats. */
static bool is_mode(const sh_ctx *s, const level *prev, const uint64_t *cand_st,
                    const uint32_t *tags, uint32_t k, uint64_t size, uint64_t sum)
{
    double acc = prime__fx_mean(sum, size);
    if (!(s->acc - acc >= s->min_drop - PRIME_EPS))
        return false;
    double need = s->gain[k] - PRIME_EPS;
    if (k == 1)
        return prime__fx_mean(s->sum_q, s->n) - acc >= need;
    if (k == 2) {
        return prime__fx_mean(cand_st[2 * tags[0] + 1], cand_st[2 * tags[0]]) - acc >= need &&
               prime__fx_mean(cand_st[2 * tags[1] + 1], cand_st[2 * tags[1]]) - acc >= need;
    }
    uint32_t sub[PRIME_MAX_TAGS_LIMIT];
    for (uint32_t d = 0; d < k; d++) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < k; i++)
            if (i != d)
                sub[n++] = tags[i];
        int64_t at = level_find(prev, sub);
        if (at < 0)
            return false; /* cannot happen: the visited sets are closed under subsets */
        if (prime__fx_mean(prev->st[2 * at + 1], prev->st[2 * at]) - acc < need)
            return false;
    }
    return true;
}

static prime_status alloc_round(sh_ctx *s)
{
    s->child_parent = prime__malloc(ROUND_SETS * sizeof *s->child_parent);
    s->child_tag = prime__malloc(ROUND_SETS * sizeof *s->child_tag);
    s->buf = prime__malloc(2 * (size_t)ROUND_SETS * sizeof *s->buf);
    s->grp = prime__malloc(((size_t)ROUND_SETS + 1) * sizeof *s->grp);
    if (s->binary) {
        s->pos = prime__malloc(ROUND_SETS * sizeof *s->pos);
        if (s->pos == NULL)
            return PRIME_E_NOMEM;
    }
    uint32_t nt = s->threads;
    s->scratch = prime__calloc(nt, sizeof *s->scratch);
    if (s->child_parent == NULL || s->child_tag == NULL || s->buf == NULL || s->grp == NULL ||
        s->scratch == NULL)
        return PRIME_E_NOMEM;
    for (uint32_t t = 0; t < nt; t++) {
        size_t words = s->words ? s->words : 1;
        s->scratch[t].pset = prime__malloc(words * sizeof(uint64_t));
        s->scratch[t].cset = prime__malloc(words * sizeof(uint64_t));
        s->scratch[t].ids = prime__malloc(s->ids_cap * sizeof(uint32_t));
        s->scratch[t].ids2 = prime__malloc(s->ids_cap * sizeof(uint32_t));
        if (s->scratch[t].pset == NULL || s->scratch[t].cset == NULL ||
            s->scratch[t].ids == NULL || s->scratch[t].ids2 == NULL)
            return PRIME_E_NOMEM;
    }
    return PRIME_OK;
}

/* Level k >= 2: the children of prev's front, in rounds of sums; the sets
 * visited go to cur (k tags). For k = 2 the pair table is filled. */
static prime_status run_level(sh_ctx *s, const level *prev, level *cur, const uint64_t *cand_st,
                              uint32_t k, prime_status *local)
{
    uint64_t *allowed = prime__malloc((s->row_words ? s->row_words : 1) * sizeof *allowed);
    if (allowed == NULL && *local == PRIME_OK)
        *local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
    uint64_t pf = 0;     /* next front entry */
    uint32_t pj = 0;     /* next tag to try for it (its allowed bits from pj) */
    bool started = false; /* allowed holds front entry pf's row */
    prime_status st = PRIME_OK;
    s->parents = prev;
    for (;;) {
        /* a round: children of front entries from (pf, pj) on */
        s->n_children = 0;
        s->n_grp = 0;
        while (*local == PRIME_OK && pf < prev->n_front && s->n_children < ROUND_SETS) {
            uint64_t pi = prev->front[pf];
            const uint32_t *pt = prev->tags + pi * prev->k;
            if (!started) {
                if (k == 2) {
                    memset(allowed, 0, s->row_words * sizeof *allowed);
                    for (uint32_t j = pt[0] + 1; j < s->m; j++)
                        prime__bits_set(allowed, j);
                } else {
                    const uint64_t *r0 = s->rows + (size_t)pt[0] * s->row_words;
                    memcpy(allowed, r0, s->row_words * sizeof *allowed);
                    for (uint32_t i = 1; i < prev->k; i++) {
                        const uint64_t *ri = s->rows + (size_t)pt[i] * s->row_words;
                        for (size_t x = 0; x < s->row_words; x++)
                            allowed[x] &= ri[x];
                    }
                }
                started = true;
                pj = 0;
            }
            bool group_open = false;
            uint32_t j = pj;
            for (; j < s->m && s->n_children < ROUND_SETS; j++) {
                if (!prime__bits_get(allowed, j))
                    continue;
                if (!group_open) {
                    s->grp[s->n_grp++] = s->n_children;
                    group_open = true;
                }
                s->child_parent[s->n_children] = pi;
                s->child_tag[s->n_children] = j;
                s->n_children++;
            }
            if (j >= s->m) {
                pf++;
                started = false;
            } else {
                pj = j;
            }
        }
        s->grp[s->n_grp] = s->n_children;
        bool last = *local != PRIME_OK || (pf >= prev->n_front && s->n_children == 0);
        if (!last)
            count_round(s, s->binary ? 1 : 0);
        /* every process: the same number of rounds (the front is the same) */
        uint64_t done = (uint64_t)(k - 1) * LEVEL_UNITS +
                        (prev->n_front ? pf * LEVEL_UNITS / prev->n_front : LEVEL_UNITS);
        st = agree(s, *local, done, (uint64_t)s->max_tags * LEVEL_UNITS);
        if (st != PRIME_OK || last)
            break;
        st = sum_all(s, s->buf, (s->binary ? 1 : 2) * s->n_children);
        if (st != PRIME_OK)
            break;
        if (s->binary) {
            /* the rest of the children with enough wrong images (on the
               summed counts: every process picks the same) */
            uint64_t n_alive = 0;
            for (uint64_t c = 0; c < s->n_children; c++)
                s->pos[c] = s->buf[c] >= s->need_wrong ? n_alive++ : NO_POS;
            if (n_alive > 0)
                count_round(s, 2);
            st = sum_all(s, s->buf + ROUND_SETS, n_alive);
            if (st != PRIME_OK)
                break;
        }
        uint32_t tags[PRIME_MAX_TAGS_LIMIT];
        for (uint64_t c = 0; c < s->n_children && *local == PRIME_OK; c++) {
            uint64_t size, sum;
            if (s->binary) {
                if (s->pos[c] == NO_POS)
                    continue; /* too few wrong images: neither in the pair table nor tried */
                uint64_t right = s->buf[ROUND_SETS + s->pos[c]];
                size = s->buf[c] + right;
                sum = right << PRIME_FX_SHIFT;
            } else {
                size = s->buf[2 * c];
                sum = s->buf[2 * c + 1];
            }
            uint64_t pi = s->child_parent[c];
            uint32_t j = s->child_tag[c];
            bool visited;
            if (k == 2) {
                /* the pair table (search.c's pair_row) */
                visited = size >= s->min_size &&
                          (s->binary ? size - (sum >> PRIME_FX_SHIFT) >= s->need_wrong
                                     : prime__fx_can_reach(s->acc, prime__fx_wrong(size, sum),
                                                           s->min_size, s->min_drop));
                if (visited)
                    prime__bits_set(s->rows + (size_t)prev->tags[pi] * s->row_words, j);
            } else {
                /* a child the depth-first search tries (visit()) */
                visited = size >= s->min_size &&
                          (!s->binary || size - (sum >> PRIME_FX_SHIFT) >= s->need_wrong);
            }
            if (!visited)
                continue;
            s->candidates++;
            memcpy(tags, prev->tags + pi * prev->k, prev->k * sizeof *tags);
            tags[k - 1] = j;
            if (is_mode(s, prev, cand_st, tags, k, size, sum) &&
                !push_mode(s, tags, k, size, sum)) {
                *local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
                break;
            }
            if (!level_push(cur, tags, size, sum)) {
                *local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
                break;
            }
            if (k < s->max_tags && descend_ok(s, size, sum) && !level_front(cur, cur->n - 1))
                *local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
        }
    }
    prime__free(allowed);
    return st;
}

/* ---- PRIME_PARAM_FOLD_EQUAL ------------------------------------------------------ */

typedef struct {
    uint64_t size, i;
} size_index;

static int cmp_size_index(const void *a, const void *b)
{
    const size_index *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Are the tags of mode j (store ids) among those of mode i? */
static bool tags_within(const prime_result *r, uint64_t j, uint64_t i)
{
    const prime__mode *a = &r->modes[j], *b = &r->modes[i];
    for (uint32_t x = 0; x < a->n_tags; x++) {
        bool found = false;
        for (uint32_t y = 0; y < b->n_tags && !found; y++)
            found = r->mode_tags[a->tag_first + x] == r->mode_tags[b->tag_first + y];
        if (!found)
            return false;
    }
    return true;
}

/* fold.c's rule over the shards: leave out of r (the same on every process)
 * every mode whose images are exactly those of a mode with fewer tags.
 * When the smaller mode's tags are among the larger's, equal sizes say so;
 * otherwise the images carrying the tags of both are counted and summed. */
static prime_status fold_equal(sh_ctx *s, prime_result *r)
{
    uint64_t n = r->n_modes;
    prime_status local = PRIME_OK;
    uint8_t *drop = prime__calloc(n ? n : 1, 1);
    size_index *by = prime__malloc((n ? n : 1) * sizeof *by);
    uint64_t *pairs = NULL; /* i, j */
    size_t n_pairs = 0, cap = 0;
    if (drop == NULL || by == NULL) {
        local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
    } else {
        for (uint64_t i = 0; i < n; i++)
            by[i] = (size_index){r->modes[i].size, i};
        qsort(by, n, sizeof *by, cmp_size_index);
        for (uint64_t a = 0; a < n && local == PRIME_OK;) {
            uint64_t b = a;
            while (b < n && by[b].size == by[a].size)
                b++;
            /* modes a..b-1 have one size */
            for (uint64_t x = a; x < b; x++) {
                uint64_t i = by[x].i;
                size_t first_pair = n_pairs;
                for (uint64_t y = a; y < b && !drop[i]; y++) {
                    uint64_t j = by[y].i;
                    if (r->modes[j].n_tags >= r->modes[i].n_tags)
                        continue;
                    if (tags_within(r, j, i)) {
                        drop[i] = 1;
                        n_pairs = first_pair; /* no need to count its pairs */
                    } else if (prime__grow((void **)&pairs, &cap, 2 * (n_pairs + 1),
                                           sizeof *pairs)) {
                        pairs[2 * n_pairs] = i;
                        pairs[2 * n_pairs + 1] = j;
                        n_pairs++;
                    } else {
                        local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
                        break;
                    }
                }
            }
            a = b;
        }
    }
    prime_status st = agree(s, local, (uint64_t)s->max_tags * LEVEL_UNITS,
                            (uint64_t)s->max_tags * LEVEL_UNITS);
    /* rounds of union counts (only modes of two tags or more have pairs,
       so the columns and s->buf exist) */
    for (size_t p0 = 0; st == PRIME_OK && p0 < n_pairs; p0 += ROUND_SETS) {
        size_t p1 = n_pairs - p0 < ROUND_SETS ? n_pairs : p0 + ROUND_SETS;
        for (size_t p = p0; p < p1; p++) {
            uint32_t cols[2 * PRIME_MAX_TAGS_LIMIT], nc = 0;
            for (int side = 0; side < 2; side++) {
                const prime__mode *md = &r->modes[pairs[2 * p + side]];
                for (uint32_t t = 0; t < md->n_tags; t++)
                    cols[nc++] = s->map[r->mode_tags[md->tag_first + t]];
            }
            uint64_t cnt = 0;
            if (s->words > 0) {
                uint64_t *acc = s->scratch[0].pset;
                cnt = s->k->and_count(acc, s->cols + (size_t)cols[0] * s->words,
                                      s->cols + (size_t)cols[1] * s->words, s->words);
                for (uint32_t c = 2; c < nc && cnt > 0; c++)
                    cnt = s->k->and_count(acc, acc, s->cols + (size_t)cols[c] * s->words,
                                          s->words);
            }
            s->buf[p - p0] = cnt;
        }
        st = sum_all(s, s->buf, p1 - p0);
        for (size_t p = p0; st == PRIME_OK && p < p1; p++)
            if (s->buf[p - p0] == r->modes[pairs[2 * p]].size)
                drop[pairs[2 * p]] = 1;
    }
    if (st == PRIME_OK) {
        uint64_t k = 0;
        for (uint64_t i = 0; i < n; i++)
            if (!drop[i])
                r->modes[k++] = r->modes[i];
        r->n_modes = k;
    }
    prime__free(drop);
    prime__free(by);
    prime__free(pairs);
    return st;
}

/* ---- the checkpoint: the state after a level (prime_search_sharded_resume) ---- */

/* The state is a list of u64, little-endian, every value global (the same
 * on every process, whatever the split of the images):
 *   ST_MAGIC, version 1, config hash, tag table hash, n, sum_q, the two
 *   halves of the data fingerprint, the level k completed, candidates, m,
 *   a hash of the candidates and their level-1 sums, mode count, pair
 *   table row words (0 before level 2), the level's set count and front
 *   count; per mode its tag count, its store tag ids, size and the bits of
 *   its correct sum; the pair table (m rows, k >= 2); the level's sets (k
 *   candidate indices each, u32, two a word), their size and sum, its
 *   front; a checksum of all words before it. About the size of the level
 *   in memory (4 k + 16 bytes a set), built in one buffer at each save. */
#define ST_MAGIC UINT64_C(0x4b43485350495250) /* "PRIPSHCK" read little-endian */
#define ST_SEED UINT64_C(0x5052494d53484b43)  /* "PRIMSHKC" */
enum { ST_HEAD = 16 };

/* Order-free fingerprint of the data (the multiset of images: their tags
 * and fixed-point outcomes): two 32-bit halves of a hash per image, summed
 * (below 2^64 for fewer than 2^32 images). */
static void fingerprint(const sh_ctx *s, uint64_t fp[2])
{
    fp[0] = fp[1] = 0;
#define FP(li, img, st, out)                                                  \
    do {                                                                      \
        uint64_t h = fnv(UINT64_C(0xcbf29ce484222325), &(uint64_t){prime__fx_from(out)}, 8); \
        uint64_t a, b;                                                        \
        prime__store_image_tags(st, img, &a, &b);                             \
        for (uint64_t x = a; x < b; x++)                                      \
            h = fnv(h, &(uint32_t){prime__store_tag(st, x)}, 4);              \
        h = fnv(h, &(uint64_t){b - a}, 8);                                    \
        h ^= h >> 29;                                                         \
        h *= UINT64_C(0xbf58476d1ce4e5b9);                                    \
        h ^= h >> 32;                                                         \
        fp[0] += h & 0xffffffffu;                                             \
        fp[1] += h >> 32;                                                     \
        (void)(li);                                                           \
    } while (0)
    FOR_LOCAL(s, FP);
#undef FP
}

static uint64_t cand_hash(const sh_ctx *s, const uint64_t *cand_st)
{
    uint64_t h = fnv(UINT64_C(0xcbf29ce484222325), &s->m, sizeof s->m);
    h = fnv(h, s->cand, (size_t)s->m * sizeof *s->cand);
    return fnv(h, cand_st, 2 * (size_t)s->m * sizeof *cand_st);
}

typedef struct {
    uint64_t cfg_hash, tag_hash, fp[2], cand_hash;
} st_ids;

/* The state after level k (lv: its sets) in *out (prime__malloc). */
static prime_status state_write(const sh_ctx *s, const st_ids *ids, uint32_t k, const level *lv,
                                unsigned char **out, size_t *size_out)
{
    uint64_t rw = k >= 2 ? s->row_words : 0;
    uint64_t words = ST_HEAD + 1;
    for (size_t i = 0; i < s->n_modes; i++)
        words += 3 + s->modes[i].n_tags;
    words += (uint64_t)s->m * rw + (lv->n * k + 1) / 2 + lv->n * 2 + lv->n_front;
    unsigned char *d = prime__malloc((size_t)words * 8);
    if (d == NULL)
        return prime__error(PRIME_E_NOMEM, FN ": out of memory");
    uint64_t w = 0;
#define PUT(v) prime__put_le64(d + 8 * w++, (uint64_t)(v))
    PUT(ST_MAGIC);
    PUT(1);
    PUT(ids->cfg_hash);
    PUT(ids->tag_hash);
    PUT(s->n);
    PUT(s->sum_q);
    PUT(ids->fp[0]);
    PUT(ids->fp[1]);
    PUT(k);
    PUT(s->candidates);
    PUT(s->m);
    PUT(ids->cand_hash);
    PUT(s->n_modes);
    PUT(rw);
    PUT(lv->n);
    PUT(lv->n_front);
    for (size_t i = 0; i < s->n_modes; i++) {
        const prime__raw_mode *r = &s->modes[i];
        uint64_t bits;
        memcpy(&bits, &r->correct, 8);
        PUT(r->n_tags);
        for (uint32_t t = 0; t < r->n_tags; t++)
            PUT(r->tags[t]);
        PUT(r->size);
        PUT(bits);
    }
    for (uint64_t i = 0; i < (uint64_t)s->m * rw; i++)
        PUT(s->rows[i]);
    /* the sets' candidate indices as u32, two a word */
    for (uint64_t i = 0; i < lv->n * k; i += 2)
        PUT((uint64_t)lv->tags[i] | (i + 1 < lv->n * k ? (uint64_t)lv->tags[i + 1] << 32 : 0));
    for (uint64_t i = 0; i < 2 * lv->n; i++)
        PUT(lv->st[i]);
    for (uint64_t i = 0; i < lv->n_front; i++)
        PUT(lv->front[i]);
    uint64_t sum = prime__checksum(d, (size_t)(8 * w), ST_SEED);
    PUT(sum);
#undef PUT
    *out = d;
    *size_out = (size_t)words * 8;
    return PRIME_OK;
}

static prime_status bad_state(const char *what)
{
    return prime__error(PRIME_E_MISMATCH, FN ": the checkpoint state %s", what);
}

/* Read a state (checked against this search: the same data, parameters and
 * level 1) into s (candidates, modes, pair table) and *lv; *k_out gets its
 * level. */
static prime_status state_read(sh_ctx *s, const st_ids *ids, const unsigned char *d, size_t n,
                               level *lv, uint32_t *k_out)
{
    if (n < 8 * (ST_HEAD + 1) || n % 8 != 0 || prime__get_le64(d) != ST_MAGIC)
        return prime__error(PRIME_E_FORMAT, FN ": not a checkpoint state of the sharded search");
    uint64_t words = n / 8;
    if (prime__get_le64(d + 8) != 1)
        return prime__error(PRIME_E_FORMAT, FN ": a checkpoint state of another version");
    if (prime__get_le64(d + 8 * (words - 1)) != prime__checksum(d, n - 8, ST_SEED))
        return prime__error(PRIME_E_FORMAT, FN ": the checkpoint state is damaged (checksum)");
    uint64_t h[ST_HEAD];
    for (int i = 0; i < ST_HEAD; i++)
        h[i] = prime__get_le64(d + 8 * i);
    if (h[2] != ids->cfg_hash)
        return bad_state("was made with other parameters");
    if (h[3] != ids->tag_hash || h[4] != s->n || h[5] != s->sum_q || h[6] != ids->fp[0] ||
        h[7] != ids->fp[1] || h[10] != s->m || h[11] != ids->cand_hash)
        return bad_state("was made for other images or outcomes");
    uint64_t k = h[8], n_modes = h[12], rw = h[13], ln = h[14], nf = h[15];
    if (k < 1 || k > s->max_tags || rw != (k >= 2 ? s->row_words : 0) || nf > ln ||
        n_modes > words || ln > words)
        return prime__error(PRIME_E_FORMAT, FN ": the checkpoint state is inconsistent");
    uint64_t w = ST_HEAD;
    /* the modes */
    for (uint64_t i = 0; i < n_modes; i++) {
        if (w + 1 > words - 1)
            return prime__error(PRIME_E_FORMAT, FN ": the checkpoint state is truncated");
        uint64_t nt = prime__get_le64(d + 8 * w++);
        if (nt < 1 || nt > k || w + nt + 2 > words - 1)
            return prime__error(PRIME_E_FORMAT, FN ": the checkpoint state is inconsistent");
        if (!prime__grow((void **)&s->modes, &s->cap_modes, s->n_modes + 1, sizeof *s->modes))
            return prime__error(PRIME_E_NOMEM, FN ": out of memory");
        prime__raw_mode *r = &s->modes[s->n_modes++];
        memset(r, 0, sizeof *r);
        r->n_tags = (uint32_t)nt;
        for (uint64_t t = 0; t < nt; t++) {
            uint64_t id = prime__get_le64(d + 8 * w++);
            if (id >= s->n_tags || s->map[id] == PRIME_NONE)
                return prime__error(PRIME_E_FORMAT, FN ": the checkpoint state is inconsistent");
            r->tags[t] = (uint32_t)id;
        }
        r->size = prime__get_le64(d + 8 * w++);
        uint64_t bits = prime__get_le64(d + 8 * w++);
        memcpy(&r->correct, &bits, 8);
    }
    if (ln > (words / k + 1) * 2)
        return prime__error(PRIME_E_FORMAT, FN ": the checkpoint state is inconsistent");
    uint64_t need = (uint64_t)s->m * rw + (ln * k + 1) / 2 + ln * 2 + nf;
    if (w + need != words - 1)
        return prime__error(PRIME_E_FORMAT, FN ": the checkpoint state is truncated");
    for (uint64_t i = 0; i < (uint64_t)s->m * rw; i++)
        s->rows[i] = prime__get_le64(d + 8 * w++);
    lv->k = (uint32_t)k;
    uint32_t tags[PRIME_MAX_TAGS_LIMIT];
    const unsigned char *tg = d + 8 * w; /* u32 each, little-endian */
    w += (ln * k + 1) / 2;
    const unsigned char *st = d + 8 * w;
    for (uint64_t i = 0; i < ln; i++) {
        for (uint64_t t = 0; t < k; t++) {
            uint64_t c = prime__get_le32(tg + 4 * (i * k + t));
            if (c >= s->m || (t > 0 && c <= tags[t - 1]))
                return prime__error(PRIME_E_FORMAT, FN ": the checkpoint state is inconsistent");
            tags[t] = (uint32_t)c;
        }
        if (!level_push(lv, tags, prime__get_le64(st + 16 * i), prime__get_le64(st + 16 * i + 8)))
            return prime__error(PRIME_E_NOMEM, FN ": out of memory");
    }
    w += 2 * ln;
    for (uint64_t i = 0; i < nf; i++) {
        uint64_t f = prime__get_le64(d + 8 * w++);
        if (f >= ln || !level_front(lv, f))
            return f >= ln ? prime__error(PRIME_E_FORMAT,
                                          FN ": the checkpoint state is inconsistent")
                           : prime__error(PRIME_E_NOMEM, FN ": out of memory");
    }
    s->candidates = h[9];
    *k_out = (uint32_t)k;
    return PRIME_OK;
}

/* Save the state after level k through the caller's function (a local
 * failure: agreed on at the next step). */
static void state_save(sh_ctx *s, const st_ids *ids, prime_sharded_save_fn save,
                       void *save_data, uint32_t k, const level *lv, prime_status *local)
{
    if (save == NULL || *local != PRIME_OK)
        return;
    unsigned char *d = NULL;
    size_t n = 0;
    *local = state_write(s, ids, k, lv, &d, &n);
    if (*local == PRIME_OK) {
        int32_t rc = save(save_data, d, n, k);
        if (rc != 0)
            *local = prime__error(PRIME_E_IO, FN ": saving the state after level %u failed "
                                              "(the save function returned %d)",
                                  (unsigned)k, (int)rc);
    }
    prime__free(d);
}

static void ctx_free(sh_ctx *s)
{
    prime__free(s->cand);
    prime__free(s->map);
    prime__free(s->cols);
    prime__free(s->col_n);
    prime__free(s->col_ids);
    prime__free(s->ids_block);
    prime__free(s->pos);
    prime__free(s->vals);
    prime__free(s->rows);
    prime__free(s->child_parent);
    prime__free(s->child_tag);
    prime__free(s->buf);
    prime__free(s->grp);
    if (s->scratch != NULL) {
        for (uint32_t t = 0; t < s->threads; t++) {
            prime__free(s->scratch[t].pset);
            prime__free(s->scratch[t].cset);
            prime__free(s->scratch[t].ids);
            prime__free(s->scratch[t].ids2);
        }
        prime__free(s->scratch);
    }
    prime__free(s->modes);
}

/* Level 1 and the local columns; *local gets a local failure. */
static prime_status run_tags(sh_ctx *s, uint64_t **cand_st_out, prime_status *local)
{
    uint32_t nt = s->n_tags;
    uint64_t *v = prime__calloc(2 * (size_t)(nt ? nt : 1), sizeof *v);
    if (v == NULL)
        *local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
    else {
#define COUNT_TAGS(li, img, st, out)                                          \
    do {                                                                      \
        uint64_t q = prime__fx_from(out), a, b;                               \
        prime__store_image_tags(st, img, &a, &b);                             \
        for (uint64_t x = a; x < b; x++) {                                    \
            uint32_t t = prime__store_tag(st, x);                             \
            v[2 * t]++;                                                       \
            v[2 * t + 1] += q;                                                \
        }                                                                     \
        (void)(li);                                                           \
    } while (0)
        FOR_LOCAL(s, COUNT_TAGS);
#undef COUNT_TAGS
    }
    prime_status st = agree(s, *local, 0, (uint64_t)s->max_tags * LEVEL_UNITS);
    if (st == PRIME_OK && nt > 0)
        st = sum_all(s, v, 2 * (uint64_t)nt);
    if (st != PRIME_OK) {
        prime__free(v);
        return st;
    }
    /* the candidates (search.c's prepare_class), ascending tag ids */
    uint32_t m = 0;
    for (uint32_t t = 0; t < nt; t++) {
        uint64_t size = v[2 * t], sum = v[2 * t + 1];
        bool keep = size >= s->cand_min &&
                    (s->binary ? size - (sum >> PRIME_FX_SHIFT) >= s->need_wrong
                               : prime__fx_can_reach(s->acc, prime__fx_wrong(size, sum),
                                                     s->min_size, s->min_drop));
        if (keep) {
            v[2 * m] = size; /* compacted in place: m <= t */
            v[2 * m + 1] = sum;
            s->map[t] = m++;
        } else {
            s->map[t] = PRIME_NONE;
        }
    }
    s->m = m;
    s->cand = prime__malloc((m ? m : 1) * sizeof *s->cand);
    if (s->cand == NULL) {
        *local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
        *cand_st_out = v;
        return PRIME_OK;
    }
    for (uint32_t t = 0; t < nt; t++)
        if (s->map[t] != PRIME_NONE)
            s->cand[s->map[t]] = t;
    *cand_st_out = v;

    /* local columns, only when there is a level 2 */
    if (s->max_tags < 2 || m < 2)
        return PRIME_OK;
    uint64_t lwrong = 0; /* 0/1 outcomes: wrong local images */
    if (s->binary) {
#define COUNT_WRONG(li, img, st, out) ((void)(st), lwrong += (out) == 0.0)
        FOR_LOCAL(s, COUNT_WRONG);
#undef COUNT_WRONG
        s->ww = prime__bits_words(lwrong);
        s->words = s->ww + prime__bits_words(s->ln - lwrong);
    } else {
        s->words = prime__bits_words(s->ln);
    }
    s->row_words = prime__bits_words(m);
    s->cols = prime__calloc((size_t)m * (s->words ? s->words : 1), sizeof *s->cols);
    s->col_n = prime__calloc(m, sizeof *s->col_n);
    s->col_ids = prime__calloc(m, sizeof *s->col_ids);
    s->rows = prime__calloc((size_t)m * s->row_words, sizeof *s->rows);
    if (!s->binary)
        s->vals = prime__malloc((s->ln ? s->ln : 1) * sizeof *s->vals);
    if (s->cols == NULL || s->col_n == NULL || s->col_ids == NULL || s->rows == NULL ||
        (!s->binary && s->vals == NULL)) {
        *local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
        return PRIME_OK;
    }
    size_t words = s->words;
    uint64_t next_wrong = 0, next_right = s->ww * PRIME_BITS_WORD;
#define SET_BITS(li, img, st, out)                                            \
    do {                                                                      \
        uint64_t q = prime__fx_from(out), a, b, bit = li;                     \
        if (s->binary)                                                        \
            bit = q == 0 ? next_wrong++ : next_right++;                       \
        else                                                                  \
            s->vals[li] = q;                                                  \
        prime__store_image_tags(st, img, &a, &b);                             \
        for (uint64_t x = a; x < b; x++) {                                    \
            uint32_t c = s->map[prime__store_tag(st, x)];                     \
            if (c != PRIME_NONE) {                                            \
                prime__bits_set(s->cols + (size_t)c * words, bit);            \
                s->col_n[c]++;                                                \
            }                                                                 \
        }                                                                     \
    } while (0)
    FOR_LOCAL(s, SET_BITS);
#undef SET_BITS
    /* sparse columns also as sorted positions */
    size_t n_ids = 0;
    for (uint32_t c = 0; c < m; c++)
        if (sparse(s->col_n[c], words))
            n_ids += s->col_n[c];
    s->ids_block = prime__malloc((n_ids ? n_ids : 1) * sizeof *s->ids_block);
    s->ids_cap = words / 8 + 1;
    if (s->ids_block == NULL) {
        *local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
        return PRIME_OK;
    }
    uint32_t *pos = s->ids_block;
    for (uint32_t c = 0; c < m; c++) {
        if (!sparse(s->col_n[c], words))
            continue;
        s->col_ids[c] = pos;
        pos += prime__bits_ids(s->cols + (size_t)c * words, words, pos);
    }
    if (alloc_round(s) != PRIME_OK)
        *local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
    return PRIME_OK;
}

/* prime_search_sharded (checkpoint 0) and prime_search_sharded_resume
 * (checkpoint 1: the data fingerprint is summed, state (may be NULL) is
 * resumed, save (may be NULL) called after each level). */
static prime_status sharded_run(const prime_shard_part *parts, uint32_t n_parts,
                                const prime_config *config, prime_sum_fn sum, void *sum_data,
                                bool checkpoint, const void *state, size_t state_size,
                                prime_sharded_save_fn save, void *save_data,
                                prime_progress_fn progress, void *progress_data,
                                prime_result **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, FN ": out is NULL");
    *out = NULL;
    if (parts == NULL || n_parts == 0)
        return prime__error(PRIME_E_INVALID_ARG, FN ": no parts (one part at least, of count 0 "
                                                 "when this process holds no images)");
    if (sum == NULL)
        return prime__error(PRIME_E_INVALID_ARG, FN ": sum is NULL");
    for (uint32_t p = 0; p < n_parts; p++)
        if (parts[p].store == NULL || parts[p].outcomes == NULL)
            return prime__error(PRIME_E_INVALID_ARG, FN ": part %u has a NULL %s", (unsigned)p,
                                parts[p].store == NULL ? "store" : "outcomes");

    prime_config cfg;
    if (config == NULL)
        prime_config_reset(&cfg);
    else
        cfg = *config;
    cfg.whole_dataset = 1;

    sh_ctx ctx;
    sh_ctx *s = &ctx;
    memset(s, 0, sizeof *s);
    s->parts = parts;
    s->n_parts = n_parts;
    s->sum = sum;
    s->sum_data = sum_data;
    s->progress = progress;
    s->progress_data = progress_data;
    s->k = prime__kernels_get();
    s->threads = cfg.threads > 0 ? (uint32_t)cfg.threads : prime__cpu_count();
    if (s->threads > PRIME__MAX_THREADS)
        s->threads = PRIME__MAX_THREADS;
    s->max_tags = (uint32_t)(cfg.max_tags < 1 ? 1
                             : cfg.max_tags > PRIME_MAX_TAGS_LIMIT ? PRIME_MAX_TAGS_LIMIT
                                                                    : cfg.max_tags);
    s->min_drop = cfg.min_drop;
    for (uint32_t k = 1; k <= PRIME_MAX_TAGS_LIMIT; k++)
        s->gain[k] = prime__config_gain(&cfg, k);
    s->n_tags = prime_tagstore_tag_count(parts[0].store);

    level lv[2];
    memset(lv, 0, sizeof lv);
    uint64_t *cand_st = NULL;
    prime_result *r = NULL;

    /* step 0: local checks, then the header sum */
    uint64_t nonbinary, lsum, th;
    prime_status local = check_parts(s, &s->ln, &nonbinary, &lsum, &th);
    if (local == PRIME_OK) {
        s->map = prime__malloc((s->n_tags ? s->n_tags : 1) * sizeof *s->map);
        if (s->map == NULL)
            local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
    }
    /* with a checkpoint: the data's fingerprint, who has a state and its hash */
    enum { H_FP = 5 + 2 * PIECES, H_HAS_STATE = H_FP + 2, H_STATE = H_HAS_STATE + 1 };
    uint64_t hv[H_STATE + PIECES];
    memset(hv, 0, sizeof hv);
    hv[0] = local != PRIME_OK;
    hv[1] = 1;
    hv[2] = s->ln;
    hv[3] = nonbinary;
    hv[4] = lsum;
    put_pieces(hv + 5, th);
    put_pieces(hv + 5 + PIECES, config_hash(&cfg));
    if (checkpoint && local == PRIME_OK)
        fingerprint(s, hv + H_FP);
    hv[H_HAS_STATE] = state != NULL;
    if (state != NULL)
        put_pieces(hv + H_STATE, prime__checksum(state, state_size, ST_SEED));
    prime_status st = sum_all(s, hv, checkpoint ? H_STATE + PIECES : 5 + 2 * PIECES);
    if (st != PRIME_OK)
        goto done;
    if (local != PRIME_OK) {
        st = local;
        goto done;
    }
    if (hv[0] > 0) {
        st = prime__error(PRIME_E_CANCELLED, FN ": stopped: %llu other shard%s failed",
                          (unsigned long long)hv[0], hv[0] == 1 ? "" : "s");
        goto done;
    }
    uint64_t n_proc = hv[1];
    if (!pieces_equal(hv + 5, n_proc)) {
        st = prime__error(PRIME_E_MISMATCH, FN ": the shards have different tag tables");
        goto done;
    }
    if (!pieces_equal(hv + 5 + PIECES, n_proc)) {
        st = prime__error(PRIME_E_MISMATCH, FN ": the shards were given different parameters");
        goto done;
    }
    if (checkpoint && ((hv[H_HAS_STATE] != 0 && hv[H_HAS_STATE] != n_proc) ||
                       !pieces_equal(hv + H_STATE, n_proc))) {
        st = prime__error(PRIME_E_MISMATCH, FN ": the shards were given different checkpoint "
                                               "states (give every shard the same, or none)");
        goto done;
    }
    if (hv[2] >= ((uint64_t)1 << 32)) {
        st = prime__error(PRIME_E_LIMIT, FN ": %llu images in all shards (at most 2^32 - 1)",
                          (unsigned long long)hv[2]);
        goto done;
    }
    s->n = hv[2];
    s->sum_q = hv[4];
    s->binary = hv[3] == 0;
    if (s->n > 0) {
        s->acc = prime__fx_mean(s->sum_q, s->n);
        s->min_size = cfg.min_size < 1 ? 1 : (uint64_t)cfg.min_size;
        if (cfg.min_size_share > 0.0) {
            double want = ceil(cfg.min_size_share * (double)s->n - PRIME_EPS);
            s->min_size = want < 1.0 ? 1 : (uint64_t)want;
        }
        uint64_t ctc = cfg.min_tag_count > 0 ? (uint64_t)cfg.min_tag_count : s->min_size;
        s->cand_min = ctc > s->min_size ? ctc : s->min_size;
        if (s->binary)
            s->need_wrong = prime__fx_need_wrong(s->acc, s->n, s->min_size, s->min_drop);

        /* level 1 (also when resuming: the candidates and local columns) */
        st = run_tags(s, &cand_st, &local);
        if (st != PRIME_OK)
            goto done;
        st_ids ids = {config_hash(&cfg), th, {hv[H_FP], hv[H_FP + 1]}, 0};
        if (checkpoint && local == PRIME_OK)
            ids.cand_hash = cand_hash(s, cand_st);
        uint32_t resumed = 0; /* the level the state completed */
        if (state != NULL && local == PRIME_OK)
            local = state_read(s, &ids, state, state_size, &lv[0], &resumed);
        if (resumed > 0 && resumed % 2 == 1) { /* level k lives in lv[k % 2] */
            lv[1] = lv[0];
            memset(&lv[0], 0, sizeof lv[0]);
        }
        lv[1].k = resumed > 0 ? lv[1].k : 1;
        for (uint32_t c = 0; resumed == 0 && c < s->m && local == PRIME_OK; c++) {
            uint64_t size = cand_st[2 * c], sq = cand_st[2 * c + 1];
            s->candidates++;
            if (is_mode(s, NULL, cand_st, &c, 1, size, sq) && !push_mode(s, &c, 1, size, sq))
                local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
            else if (!level_push(&lv[1], &c, size, sq))
                local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
            else if (s->max_tags >= 2 && descend_ok(s, size, sq) &&
                     !level_front(&lv[1], lv[1].n - 1))
                local = prime__error(PRIME_E_NOMEM, FN ": out of memory");
        }
        if (resumed == 0)
            state_save(s, &ids, save, save_data, 1, &lv[1], &local);
        /* levels 2..max_tags; every process sees the same fronts */
        for (uint32_t k = resumed > 0 ? resumed + 1 : 2; k <= s->max_tags && s->m >= 2; k++) {
            /* level k - 1 in lv[(k - 1) % 2], level k in lv[k % 2] */
            level *prev = &lv[(k - 1) % 2], *cur = &lv[k % 2];
            level_free(cur);
            cur->k = k;
            if (prev->n_front == 0)
                break;
            st = run_level(s, prev, cur, cand_st, k, &local);
            if (st != PRIME_OK)
                goto done;
            state_save(s, &ids, save, save_data, k, cur, &local);
        }
    }

    /* the result (the same on every process), then a last agreement */
    if (local == PRIME_OK) {
        uint32_t class_id = PRIME_NONE;
        uint64_t images = s->n;
        double correct = prime__fx_value(s->sum_q);
        local = prime__result_build(parts[0].store, &cfg, s->n > 0 ? 1 : 0, &class_id, &images,
                                    &correct, s->modes, s->n_modes, &r);
        if (local == PRIME_OK)
            r->n_candidates = s->candidates;
    }
    st = agree(s, local, (uint64_t)s->max_tags * LEVEL_UNITS,
               (uint64_t)s->max_tags * LEVEL_UNITS);
    if (st == PRIME_OK && cfg.fold_equal)
        st = fold_equal(s, r);
    if (st == PRIME_OK) {
        *out = r;
        r = NULL;
    }

done:
    prime_result_destroy(r);
    prime__free(cand_st);
    level_free(&lv[0]);
    level_free(&lv[1]);
    ctx_free(s);
    return st;
}

prime_status prime_search_sharded(const prime_shard_part *parts, uint32_t n_parts,
                                  const prime_config *config, prime_sum_fn sum, void *sum_data,
                                  prime_progress_fn progress, void *progress_data,
                                  prime_result **out)
{
    return sharded_run(parts, n_parts, config, sum, sum_data, false, NULL, 0, NULL, NULL,
                       progress, progress_data, out);
}

prime_status prime_search_sharded_resume(const prime_shard_part *parts, uint32_t n_parts,
                                         const prime_config *config, prime_sum_fn sum,
                                         void *sum_data, const void *state, size_t state_size,
                                         prime_sharded_save_fn save, void *save_data,
                                         prime_progress_fn progress, void *progress_data,
                                         prime_result **out)
{
    if (state == NULL && state_size > 0) {
        if (out != NULL)
            *out = NULL;
        return prime__error(PRIME_E_INVALID_ARG, FN ": state is NULL");
    }
    return sharded_run(parts, n_parts, config, sum, sum_data, true, state, state_size, save,
                       save_data, progress, progress_data, out);
}
