/* Generator of RAM-like synthetic tag stores (see synth.h). */
#include "synth.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG: xoshiro256** seeded with splitmix64 ---------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void synth_rng_seed(synth_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t synth_rng_next(synth_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t synth_rng_below(synth_rng *rng, uint64_t n)
{
    /* rejection sampling: unbiased */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = synth_rng_next(rng);
    } while (x >= limit);
    return x % n;
}

double synth_rng_double(synth_rng *rng)
{
    return (double)(synth_rng_next(rng) >> 11) * 0x1.0p-53;
}

static void shuffle_u32(synth_rng *rng, uint32_t *a, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)synth_rng_below(rng, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

static void set_err(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/* ---- vocabulary ----------------------------------------------------------- */

bool synth_vocab_load(const char *path, synth_vocab *vocab, char *err, size_t err_cap)
{
    memset(vocab, 0, sizeof *vocab);
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, err_cap, "%s: cannot open vocabulary file", path);
        return false;
    }
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap + 1);
    if (!text) {
        fclose(f);
        set_err(err, err_cap, "out of memory");
        return false;
    }
    for (;;) {
        if (len == cap) {
            char *t = realloc(text, cap * 2 + 1);
            if (!t) {
                free(text);
                fclose(f);
                set_err(err, err_cap, "out of memory");
                return false;
            }
            text = t;
            cap *= 2;
        }
        size_t r = fread(text + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        free(text);
        set_err(err, err_cap, "%s: read error", path);
        return false;
    }
    text[len] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    char **names = malloc(lines * sizeof *names);
    if (!names) {
        free(text);
        set_err(err, err_cap, "out of memory");
        return false;
    }
    uint32_t n = 0;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        char *next = nl ? nl + 1 : end;
        while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        *e = '\0';
        size_t l = (size_t)(e - p);
        if (l > 0 && l <= PRIME_MAX_TAG_NAME && !memchr(p, '|', l))
            names[n++] = p;
        p = next;
    }
    if (n == 0) {
        free(names);
        free(text);
        set_err(err, err_cap, "%s: no tag names", path);
        return false;
    }
    vocab->count = n;
    vocab->names = names;
    vocab->text = text;
    return true;
}

void synth_vocab_free(synth_vocab *vocab)
{
    if (!vocab)
        return;
    free(vocab->names);
    free(vocab->text);
    memset(vocab, 0, sizeof *vocab);
}

/* ---- parameters -------------------------------------------------------- */

void synth_params_default(synth_params *p)
{
    memset(p, 0, sizeof *p);
    p->classes = 6;
    p->images_per_class = 400;
    p->seed = 1;
    p->planted = 6;
    p->min_tags = 5;
    p->max_tags = 20;
    p->pool_min = 150;
    p->pool_max = 400;
    p->zipf_s = 1.1;
    p->base_accuracy = 0.85;
    p->planted_acc_min = 0.05;
    p->planted_acc_max = 0.35;
    p->planted_min_images = 45;
    p->class_names = SYNTH_NAMES_AUTO;
}

void synth_image_name(uint32_t i, char *buf)
{
    snprintf(buf, 24, "img%07lu", (unsigned long)i + 1);
}

/* ---- generation -------------------------------------------------------- */

/* Most planted and decoy tags forced onto one image. */
#define SYNTH_MAX_FORCED 8

void synth_data_free(synth_data *d)
{
    if (!d)
        return;
    free(d->class_names);
    free(d->class_text);
    free(d->image_class);
    free(d->tag_off);
    free(d->tags);
    free(d->correct);
    free(d->planted);
    memset(d, 0, sizeof *d);
}

static int cmp_name_ids(const void *a, const void *b, const synth_vocab *v)
{
    return strcmp(v->names[*(const uint32_t *)a], v->names[*(const uint32_t *)b]);
}

static void sort_tags_by_name(uint32_t *t, uint32_t n, const synth_vocab *v)
{
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && cmp_name_ids(&t[j - 1], &t[j], v) > 0; j--) {
            uint32_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
}

/* Images of the class [first, first + n) that carry every tag of mask's
 * subset of planted tags; sizes and correct counts for the 2^k subsets. */
static void measure_planted(synth_data *d, uint32_t first, uint32_t n, synth_planted *pl)
{
    uint32_t k = pl->n_tags;
    uint64_t size[8] = {0}, corr[8] = {0};
    for (uint32_t i = first; i < first + n; i++) {
        unsigned have = 0;
        for (uint64_t j = d->tag_off[i]; j < d->tag_off[i + 1]; j++)
            for (uint32_t t = 0; t < k; t++)
                if (d->tags[j] == pl->tags[t])
                    have |= 1u << t;
        for (unsigned m = 0; m < (1u << k); m++)
            if ((have & m) == m) {
                size[m]++;
                corr[m] += d->correct[i];
            }
    }
    unsigned full = (1u << k) - 1;
    pl->size = size[full];
    pl->correct = corr[full];
    pl->class_accuracy = n ? (double)corr[0] / (double)size[0] : 0.0;
    pl->accuracy = pl->size ? (double)pl->correct / (double)pl->size : 0.0;
    pl->drop = pl->class_accuracy - pl->accuracy;
    /* the default search: min_size 30, min_drop 0.30, min_gain 0,.1,.05,0 */
    static const double gain[4] = {0.0, 0.10, 0.05, 0.0};
    const double eps = 1e-9;
    double min_gain = 2.0;
    for (uint32_t t = 0; t < k; t++) {
        unsigned m = full & ~(1u << t);
        double a = (double)corr[m] / (double)size[m];
        if (a - pl->accuracy < min_gain)
            min_gain = a - pl->accuracy;
    }
    pl->min_parent_gain = min_gain;
    pl->meets_defaults = pl->size >= 30 && pl->drop >= 0.30 - eps &&
                         min_gain >= gain[k - 1] - eps;
}

typedef struct {
    synth_rng rng;
    uint32_t *perm;     /* vocabulary permutation */
    uint32_t avail;     /* pools come from perm[0..avail) */
    uint32_t generic;   /* perm[0..generic) are the shared generic tags */
    uint32_t *stamp;    /* per vocabulary id: last image/pool it was used in */
    uint32_t epoch;
    uint32_t *pool;
    double *cdf;
} gen_state;

static uint32_t next_epoch(gen_state *g, uint32_t n_vocab)
{
    if (++g->epoch == 0) {
        memset(g->stamp, 0, n_vocab * sizeof *g->stamp);
        g->epoch = 1;
    }
    return g->epoch;
}

static uint32_t build_pool(gen_state *g, const synth_params *p, uint32_t n_vocab)
{
    uint32_t lo = p->pool_min, hi = p->pool_max;
    if (hi < lo)
        hi = lo;
    uint32_t size = lo + (uint32_t)synth_rng_below(&g->rng, (uint64_t)hi - lo + 1);
    if (size > g->avail)
        size = g->avail;
    uint32_t e = next_epoch(g, n_vocab);
    uint32_t want_generic = (uint32_t)(size * 0.6);
    if (want_generic > g->generic)
        want_generic = g->generic;
    uint32_t n = 0;
    while (n < want_generic) {
        uint32_t v = g->perm[synth_rng_below(&g->rng, g->generic)];
        if (g->stamp[v] != e) {
            g->stamp[v] = e;
            g->pool[n++] = v;
        }
    }
    while (n < size) {
        uint32_t v = g->perm[synth_rng_below(&g->rng, g->avail)];
        if (g->stamp[v] != e) {
            g->stamp[v] = e;
            g->pool[n++] = v;
        }
    }
    shuffle_u32(&g->rng, g->pool, n);
    double acc = 0.0;
    for (uint32_t r = 0; r < n; r++) {
        acc += pow((double)r + 1.0, -p->zipf_s);
        g->cdf[r] = acc;
    }
    for (uint32_t r = 0; r < n; r++)
        g->cdf[r] /= acc;
    g->cdf[n - 1] = 1.0;
    return n;
}

static uint32_t draw_rank(gen_state *g, uint32_t pool_n)
{
    double u = synth_rng_double(&g->rng);
    uint32_t lo = 0, hi = pool_n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

bool synth_generate(const synth_params *p, const synth_vocab *vocab, synth_data *out,
                    char *err, size_t err_cap)
{
    memset(out, 0, sizeof *out);
    if (p->classes == 0 || p->images_per_class == 0) {
        set_err(err, err_cap, "need at least one class and one image per class");
        return false;
    }
    if (p->min_tags < 3 || p->max_tags < p->min_tags || p->max_tags > 64 ||
        p->pool_min < p->max_tags + SYNTH_MAX_FORCED) {
        set_err(err, err_cap, "bad tag counts (need 3 <= min_tags <= max_tags <= 64, "
                              "pool_min >= max_tags + 8)");
        return false;
    }
    uint64_t n_images64 = (uint64_t)p->classes * p->images_per_class;
    if (n_images64 > UINT32_MAX - 2) {
        set_err(err, err_cap, "too many images");
        return false;
    }
    uint32_t n_vocab = vocab->count;
    int32_t naming = p->class_names;
    if (naming == SYNTH_NAMES_AUTO)
        naming = p->classes <= n_vocab / 4 ? SYNTH_NAMES_RAM : SYNTH_NAMES_NUMBERED;
    uint32_t reserved = naming == SYNTH_NAMES_RAM ? p->classes : 0;
    uint32_t listed = 0;
    if (p->class_list) {
        for (const char *q = p->class_list; *q; q++)
            listed += *q == ',';
        listed++;
        if (listed < p->classes) {
            set_err(err, err_cap, "--class-list holds %lu names, need %lu",
                    (unsigned long)listed, (unsigned long)p->classes);
            return false;
        }
        reserved = 0;
    }
    if (reserved > n_vocab / 2 || n_vocab - reserved < p->pool_min) {
        set_err(err, err_cap, "vocabulary of %lu tags is too small for %lu RAM-named "
                "classes with pools of %lu tags", (unsigned long)n_vocab,
                (unsigned long)p->classes, (unsigned long)p->pool_min);
        return false;
    }

    synth_data *d = out;
    d->vocab = vocab;
    d->params = *p;
    d->n_classes = p->classes;
    d->n_images = (uint32_t)n_images64;
    uint32_t n_img = d->n_images;
    uint32_t npc = p->images_per_class;

    bool ok = false; /* until every step has succeeded: the end frees what it has to */
    gen_state g;
    memset(&g, 0, sizeof g);
    synth_rng_seed(&g.rng, p->seed);
    g.perm = malloc(n_vocab * sizeof *g.perm);
    g.stamp = calloc(n_vocab, sizeof *g.stamp);
    g.pool = malloc((p->pool_max > p->pool_min ? p->pool_max : p->pool_min) * sizeof *g.pool);
    g.cdf = malloc((p->pool_max > p->pool_min ? p->pool_max : p->pool_min) * sizeof *g.cdf);
    uint32_t *class_idx = malloc(npc * sizeof *class_idx);
    int32_t *planted_of = malloc(npc * sizeof *planted_of);
    uint8_t *planted_correct = malloc(npc);
    uint8_t *n_forced = malloc(npc);
    uint32_t(*forced)[SYNTH_MAX_FORCED] = malloc((size_t)npc * sizeof *forced);
    d->class_names = calloc(p->classes, sizeof *d->class_names);
    d->image_class = malloc(n_img * sizeof *d->image_class);
    d->tag_off = malloc(((size_t)n_img + 1) * sizeof *d->tag_off);
    size_t tags_cap = (size_t)n_img * (p->max_tags > SYNTH_MAX_FORCED ? p->max_tags : SYNTH_MAX_FORCED);
    d->tags = malloc(tags_cap * sizeof *d->tags);
    d->correct = malloc(n_img);
    d->n_planted = p->planted;
    d->planted = calloc(p->planted ? p->planted : 1, sizeof *d->planted);
    if (!g.perm || !g.stamp || !g.pool || !g.cdf || !class_idx || !planted_of ||
        !planted_correct || !n_forced || !forced || !d->class_names || !d->image_class || !d->tag_off ||
        !d->tags || !d->correct || !d->planted)
        goto done; /* out of memory */

    for (uint32_t i = 0; i < n_vocab; i++)
        g.perm[i] = i;
    shuffle_u32(&g.rng, g.perm, n_vocab);
    if (p->class_list) {
        /* move the listed names that are vocabulary tags to the end */
        uint32_t end = n_vocab;
        const char *q = p->class_list;
        for (uint32_t c = 0; c < p->classes; c++) {
            const char *comma = strchr(q, ',');
            size_t l = comma ? (size_t)(comma - q) : strlen(q);
            for (uint32_t i = 0; i < end; i++) {
                const char *nm = vocab->names[g.perm[i]];
                if (strlen(nm) == l && !memcmp(nm, q, l)) {
                    uint32_t t = g.perm[i];
                    g.perm[i] = g.perm[end - 1];
                    g.perm[end - 1] = t;
                    end--;
                    break;
                }
            }
            q = comma ? comma + 1 : q + l;
        }
        reserved = n_vocab - end;
    }
    g.avail = n_vocab - reserved;
    g.generic = g.avail / 2 < 600 ? g.avail / 2 : 600;
    if (g.generic == 0)
        g.generic = 1;

    /* class names */
    {
        size_t text_len = p->class_list ? strlen(p->class_list) + 1 : 0;
        for (uint32_t c = 0; c < p->classes && !p->class_list; c++)
            text_len += naming == SYNTH_NAMES_RAM ? strlen(vocab->names[g.perm[g.avail + c]]) + 1
                                                  : 16;
        d->class_text = malloc(text_len);
        if (!d->class_text)
            goto done; /* out of memory */
        char *w = d->class_text;
        if (p->class_list) {
            memcpy(w, p->class_list, text_len);
            for (uint32_t c = 0; c < p->classes; c++) {
                d->class_names[c] = w;
                w += strcspn(w, ",");
                if (*w)
                    *w++ = '\0';
            }
        }
        for (uint32_t c = 0; c < p->classes && !p->class_list; c++) {
            d->class_names[c] = w;
            if (naming == SYNTH_NAMES_RAM) {
                const char *s = vocab->names[g.perm[g.avail + c]];
                size_t l = strlen(s) + 1;
                memcpy(w, s, l);
                w += l;
            } else {
                int l = snprintf(w, 16, "class%04lu", (unsigned long)c + 1);
                w += l + 1;
            }
        }
    }

    size_t nt = 0;
    for (uint32_t c = 0; c < p->classes; c++) {
        uint32_t first = c * npc;
        uint32_t pool_n = build_pool(&g, p, n_vocab);

        /* planted modes of this class */
        uint32_t n_here = 0;
        for (uint32_t j = c; j < p->planted; j += p->classes)
            n_here++;
        for (uint32_t i = 0; i < npc; i++) {
            class_idx[i] = i;
            planted_of[i] = -1;
            n_forced[i] = 0;
        }
        shuffle_u32(&g.rng, class_idx, npc);
        uint32_t used_images = 0;
        uint32_t used_tags[3 * 64];
        uint32_t n_used_tags = 0;
        for (uint32_t j = c; j < p->planted; j += p->classes) {
            synth_planted *pl = &d->planted[j];
            pl->cls = c;
            pl->n_tags = 1 + j % 3;
            for (uint32_t t = 0; t < pl->n_tags; t++) {
                uint32_t lo, hi;
                if (pl->n_tags == 1) {
                    lo = pool_n / 2;
                    hi = pool_n;
                } else {
                    lo = pool_n / 5;
                    hi = pool_n / 2;
                }
                uint32_t v;
                for (;;) {
                    v = g.pool[lo + synth_rng_below(&g.rng, hi - lo)];
                    bool dup = false;
                    for (uint32_t u = 0; u < n_used_tags; u++)
                        dup |= used_tags[u] == v;
                    if (!dup)
                        break;
                }
                if (n_used_tags < sizeof used_tags / sizeof used_tags[0])
                    used_tags[n_used_tags++] = v;
                pl->tags[t] = v;
            }
            /* group size: 4-10 % of the class, at least planted_min_images,
             * at most a share of the class that leaves half of it clean */
            double lo_m = npc * 0.04, hi_m = npc * 0.10;
            if (lo_m < p->planted_min_images)
                lo_m = p->planted_min_images;
            if (hi_m < lo_m + 30)
                hi_m = lo_m + 30;
            uint32_t m = (uint32_t)(lo_m + synth_rng_double(&g.rng) * (hi_m - lo_m));
            uint32_t cap_m = npc / (2 * n_here);
            if (m > cap_m)
                m = cap_m;
            if (m > npc - used_images)
                m = npc - used_images;
            pl->planted_images = m;
            pl->target_accuracy = p->planted_acc_min +
                synth_rng_double(&g.rng) * (p->planted_acc_max - p->planted_acc_min);
            uint32_t n_corr = (uint32_t)floor(pl->target_accuracy * m + 0.5);
            for (uint32_t i = 0; i < m; i++) {
                uint32_t img = class_idx[used_images + i];
                planted_of[img] = (int32_t)j;
                planted_correct[img] = i < n_corr;
                for (uint32_t t = 0; t < pl->n_tags; t++)
                    forced[img][n_forced[img]++] = pl->tags[t];
            }
            used_images += m;
        }
        /* Decoys make every tag of a planted conjunction necessary: for each
         * tag t of a k >= 2 mode, as many images as the planted
         * group, outside every planted group and with ordinary outcomes,
         * carry the other k - 1 tags. */
        for (uint32_t j = c; j < p->planted; j += p->classes) {
            const synth_planted *pl = &d->planted[j];
            if (pl->n_tags < 2)
                continue;
            uint32_t rest = npc - used_images;
            uint32_t n_decoy = pl->planted_images;
            if (n_decoy > rest)
                n_decoy = rest;
            for (uint32_t drop = 0; drop < pl->n_tags; drop++) {
                uint32_t *r = class_idx + used_images;
                for (uint32_t i = 0; i < n_decoy; i++) { /* partial shuffle */
                    uint32_t x = i + (uint32_t)synth_rng_below(&g.rng, rest - i);
                    uint32_t tmp = r[i];
                    r[i] = r[x];
                    r[x] = tmp;
                    uint32_t img = r[i];
                    for (uint32_t t = 0; t < pl->n_tags; t++) {
                        if (t == drop || n_forced[img] >= SYNTH_MAX_FORCED)
                            continue;
                        bool dup = false;
                        for (uint32_t u = 0; u < n_forced[img]; u++)
                            dup |= forced[img][u] == pl->tags[t];
                        if (!dup)
                            forced[img][n_forced[img]++] = pl->tags[t];
                    }
                }
            }
        }

        /* images */
        for (uint32_t i = 0; i < npc; i++) {
            uint32_t img = first + i;
            d->image_class[img] = c;
            d->tag_off[img] = nt;
            uint32_t k = p->min_tags +
                         (uint32_t)synth_rng_below(&g.rng, (uint64_t)p->max_tags - p->min_tags + 1);
            uint32_t e = next_epoch(&g, n_vocab);
            uint32_t have = 0;
            if (k < n_forced[i])
                k = n_forced[i];
            for (uint32_t t = 0; t < n_forced[i]; t++) {
                g.stamp[forced[i][t]] = e;
                d->tags[nt + have++] = forced[i][t];
            }
            uint32_t tries = 0;
            while (have < k) {
                uint32_t v = g.pool[draw_rank(&g, pool_n)];
                if (++tries > 64 * k) /* give up on the Zipf shape; walk the pool */
                    v = g.pool[tries % pool_n];
                if (g.stamp[v] == e)
                    continue;
                g.stamp[v] = e;
                d->tags[nt + have++] = v;
            }
            nt += have;
            if (planted_of[i] >= 0)
                d->correct[img] = planted_correct[i];
            else
                d->correct[img] = synth_rng_double(&g.rng) < p->base_accuracy;
        }
        d->tag_off[first + npc] = nt;
        for (uint32_t j = c; j < p->planted; j += p->classes) {
            sort_tags_by_name(d->planted[j].tags, d->planted[j].n_tags, vocab);
            measure_planted(d, first, npc, &d->planted[j]);
        }
    }
    d->tag_off[n_img] = nt;
    ok = true;
done:
    free(g.perm);
    free(g.stamp);
    free(g.pool);
    free(g.cdf);
    free(class_idx);
    free(planted_of);
    free(planted_correct);
    free(n_forced);
    free(forced);
    if (!ok) {
        synth_data_free(d);
        set_err(err, err_cap, "out of memory");
    }
    return ok;
}

/* ---- writers ------------------------------------------------------------ */

typedef struct {
    FILE *f;
    char *buf;
    size_t len, cap;
    bool bad;
} out_buf;

static void ob_flush(out_buf *o)
{
    if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
        o->bad = true;
    o->len = 0;
}

static void ob_put(out_buf *o, const char *s, size_t n)
{
    if (o->len + n > o->cap)
        ob_flush(o);
    if (n > o->cap) {
        if (fwrite(s, 1, n, o->f) != n)
            o->bad = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void ob_puts(out_buf *o, const char *s)
{
    ob_put(o, s, strlen(s));
}

static void ob_csv(out_buf *o, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        ob_puts(o, s);
        return;
    }
    ob_put(o, "\"", 1);
    for (const char *q = s; *q; q++) {
        if (*q == '"')
            ob_put(o, "\"", 1);
        ob_put(o, q, 1);
    }
    ob_put(o, "\"", 1);
}

static void ob_json(out_buf *o, const char *s)
{
    ob_put(o, "\"", 1);
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        char esc[8];
        if (*q == '"' || *q == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*q;
            ob_put(o, esc, 2);
        } else if (*q < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *q);
            ob_put(o, esc, 6);
        } else {
            ob_put(o, (const char *)q, 1);
        }
    }
    ob_put(o, "\"", 1);
}

static bool ob_open(out_buf *o, FILE *f)
{
    o->f = f;
    o->cap = 1 << 20;
    o->len = 0;
    o->bad = false;
    o->buf = malloc(o->cap);
    return o->buf != NULL;
}

static bool ob_close(out_buf *o)
{
    ob_flush(o);
    free(o->buf);
    o->buf = NULL;
    return !o->bad && !ferror(o->f);
}

static bool tags_need_quotes(const synth_data *d, uint32_t i)
{
    for (uint64_t j = d->tag_off[i]; j < d->tag_off[i + 1]; j++)
        if (strpbrk(d->vocab->names[d->tags[j]], ",\"\r\n"))
            return true;
    return false;
}

bool synth_write_csv(const synth_data *d, FILE *f, bool with_correct)
{
    out_buf o;
    if (!ob_open(&o, f))
        return false;
    ob_puts(&o, with_correct ? "image,class,tags,correct\n" : "image,class,tags\n");
    char name[24];
    for (uint32_t i = 0; i < d->n_images; i++) {
        synth_image_name(i, name);
        ob_puts(&o, name);
        ob_put(&o, ",", 1);
        ob_csv(&o, d->class_names[d->image_class[i]]);
        ob_put(&o, ",", 1);
        bool q = tags_need_quotes(d, i);
        if (q)
            ob_put(&o, "\"", 1);
        for (uint64_t j = d->tag_off[i]; j < d->tag_off[i + 1]; j++) {
            if (j > d->tag_off[i])
                ob_put(&o, "|", 1);
            const char *s = d->vocab->names[d->tags[j]];
            if (!q) {
                ob_puts(&o, s);
                continue;
            }
            for (; *s; s++) {
                if (*s == '"')
                    ob_put(&o, "\"", 1);
                ob_put(&o, s, 1);
            }
        }
        if (q)
            ob_put(&o, "\"", 1);
        if (with_correct)
            ob_puts(&o, d->correct[i] ? ",1\n" : ",0\n");
        else
            ob_put(&o, "\n", 1);
    }
    return ob_close(&o);
}

bool synth_write_jsonl(const synth_data *d, FILE *f, bool with_correct)
{
    out_buf o;
    if (!ob_open(&o, f))
        return false;
    char name[24];
    for (uint32_t i = 0; i < d->n_images; i++) {
        synth_image_name(i, name);
        ob_puts(&o, "{\"image\":");
        ob_json(&o, name);
        ob_puts(&o, ",\"class\":");
        ob_json(&o, d->class_names[d->image_class[i]]);
        ob_puts(&o, ",\"tags\":[");
        for (uint64_t j = d->tag_off[i]; j < d->tag_off[i + 1]; j++) {
            if (j > d->tag_off[i])
                ob_put(&o, ",", 1);
            ob_json(&o, d->vocab->names[d->tags[j]]);
        }
        ob_puts(&o, "]");
        if (with_correct)
            ob_puts(&o, d->correct[i] ? ",\"correct\":1" : ",\"correct\":0");
        ob_puts(&o, "}\n");
    }
    return ob_close(&o);
}

bool synth_write_outcomes(const synth_data *d, FILE *f)
{
    out_buf o;
    if (!ob_open(&o, f))
        return false;
    ob_puts(&o, "image,correct\n");
    char name[24];
    for (uint32_t i = 0; i < d->n_images; i++) {
        synth_image_name(i, name);
        ob_puts(&o, name);
        ob_puts(&o, d->correct[i] ? ",1\n" : ",0\n");
    }
    return ob_close(&o);
}

bool synth_write_truth(const synth_data *d, FILE *f)
{
    out_buf o;
    if (!ob_open(&o, f))
        return false;
    const synth_params *p = &d->params;
    char num[128];
    snprintf(num, sizeof num,
             "{\"generator\": \"prime-gen\", \"seed\": %llu, \"classes\": %lu, "
             "\"images_per_class\": %lu, \"base_accuracy\": %.4f,\n",
             (unsigned long long)p->seed, (unsigned long)p->classes,
             (unsigned long)p->images_per_class, p->base_accuracy);
    ob_puts(&o, num);
    ob_puts(&o, " \"planted\": [");
    for (uint32_t j = 0; j < d->n_planted; j++) {
        const synth_planted *pl = &d->planted[j];
        ob_puts(&o, j ? ",\n  {\"class\": " : "\n  {\"class\": ");
        ob_json(&o, d->class_names[pl->cls]);
        ob_puts(&o, ", \"tags\": [");
        for (uint32_t t = 0; t < pl->n_tags; t++) {
            if (t)
                ob_puts(&o, ", ");
            ob_json(&o, d->vocab->names[pl->tags[t]]);
        }
        char line[512];
        snprintf(line, sizeof line,
                 "], \"planted_images\": %lu, \"target_accuracy\": %.4f, "
                 "\"size\": %llu, \"correct\": %llu, \"accuracy\": %.4f, "
                 "\"class_accuracy\": %.4f, \"drop\": %.4f, \"min_parent_gain\": %.4f, "
                 "\"meets_defaults\": %s}",
                 (unsigned long)pl->planted_images, pl->target_accuracy,
                 (unsigned long long)pl->size, (unsigned long long)pl->correct, pl->accuracy,
                 pl->class_accuracy, pl->drop, pl->min_parent_gain,
                 pl->meets_defaults ? "true" : "false");
        ob_puts(&o, line);
    }
    ob_puts(&o, d->n_planted ? "\n ]}\n" : "]}\n");
    return ob_close(&o);
}

/* ---- libprime ----------------------------------------------------------- */

prime_status synth_build_outcomes(const synth_data *d, prime_outcomes **out)
{
    *out = NULL;
    prime_outcomes *oc = NULL;
    prime_status st = prime_outcomes_create(d->n_images, &oc);
    if (st != PRIME_OK)
        return st;
    double vals[4096];
    for (uint32_t i = 0; i < d->n_images; i += 4096) {
        uint32_t n = d->n_images - i < 4096 ? d->n_images - i : 4096;
        for (uint32_t j = 0; j < n; j++)
            vals[j] = d->correct[i + j];
        st = prime_outcomes_set_array(oc, i, vals, n);
        if (st != PRIME_OK) {
            prime_outcomes_destroy(oc);
            return st;
        }
    }
    *out = oc;
    return PRIME_OK;
}

prime_status synth_build_store(const synth_data *d, prime_tagstore **store_out,
                               prime_outcomes **outcomes_out)
{
    *store_out = NULL;
    if (outcomes_out)
        *outcomes_out = NULL;
    prime_tagstore *st = NULL;
    prime_status s = prime_tagstore_create(&st);
    if (s != PRIME_OK)
        return s;
    const char *names[64];
    char img[24];
    for (uint32_t i = 0; i < d->n_images && s == PRIME_OK; i++) {
        uint32_t k = (uint32_t)(d->tag_off[i + 1] - d->tag_off[i]);
        for (uint32_t t = 0; t < k; t++)
            names[t] = d->vocab->names[d->tags[d->tag_off[i] + t]];
        synth_image_name(i, img);
        s = prime_tagstore_add_image_names(st, img, d->class_names[d->image_class[i]], names, k,
                                           NULL);
    }
    if (s == PRIME_OK)
        s = prime_tagstore_freeze(st);
    prime_outcomes *oc = NULL;
    if (s == PRIME_OK && outcomes_out)
        s = synth_build_outcomes(d, &oc);
    if (s != PRIME_OK) {
        prime_tagstore_destroy(st);
        return s;
    }
    *store_out = st;
    if (outcomes_out)
        *outcomes_out = oc;
    return PRIME_OK;
}
