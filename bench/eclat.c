/* prime-eclat: an independent frequent-itemset miner for the scaling
 * benchmark (bench/scale.sh), a plain Eclat (Zaki 2000) with tid-lists.
 *
 *   prime-eclat --store FILE [--max-tags L] [--min-size S] [--whole]
 *
 * For every class (or, with --whole, for all images as one class) it counts
 * the tag sets of 1..L tags carried by at least S images of the class: the
 * same classes, support and length as the PRIME search, but support only
 * (no accuracy, no drop, no necessity). No packaged miner (Borgelt's eclat,
 * arules) is in Debian, hence this one.
 *
 * The algorithm as usually implemented: per class the frequent single tags,
 * ordered by increasing support, each with its sorted list of image ids
 * (tid-list); a depth-first walk over prefix equivalence classes where the
 * tid-list of a set is the merge intersection of its prefix's and its last
 * tag's lists, and a set below the support has no frequent extension. The
 * store is read through libprime's public accessors only (not its search).
 *
 * Prints: itemsets=N cpu_s=T (user + system CPU time of the mining, the
 * store reading excluded) rss_peak_mb=M. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "measure.h"
#include "prime/prime.h"

typedef struct {
    uint32_t *tids;
    uint32_t n;
} tidlist;

static uint32_t max_len;
static uint32_t min_sup;
static uint64_t n_sets;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "prime-eclat: out of memory\n");
        exit(1);
    }
    return p;
}

static uint32_t intersect(const tidlist *a, const tidlist *b, uint32_t *out)
{
    uint32_t i = 0, j = 0, n = 0;
    while (i < a->n && j < b->n) {
        uint32_t x = a->tids[i], y = b->tids[j];
        if (x < y)
            i++;
        else if (y < x)
            j++;
        else {
            out[n++] = x;
            i++;
            j++;
        }
    }
    return n;
}

/* items[0..m) are the frequent extensions of one prefix of `depth` tags
 * (each item's list is the prefix+item's tid-list); count them and recurse. */
static void eclat(tidlist *items, uint32_t m, uint32_t depth)
{
    n_sets += m;
    if (depth + 1 >= max_len)
        return;
    tidlist *next = xmalloc((size_t)m * sizeof *next);
    for (uint32_t i = 0; i + 1 < m; i++) {
        uint32_t k = 0;
        for (uint32_t j = i + 1; j < m; j++) {
            uint32_t cap = items[i].n < items[j].n ? items[i].n : items[j].n;
            if (cap < min_sup)
                continue;
            uint32_t *buf = xmalloc((size_t)cap * sizeof *buf);
            uint32_t n = intersect(&items[i], &items[j], buf);
            if (n >= min_sup) {
                next[k].tids = buf;
                next[k].n = n;
                k++;
            } else {
                free(buf);
            }
        }
        if (k > 0)
            eclat(next, k, depth + 1);
        for (uint32_t j = 0; j < k; j++)
            free(next[j].tids);
    }
    free(next);
}

static int cmp_support(const void *a, const void *b)
{
    const tidlist *x = a, *y = b;
    return (x->n > y->n) - (x->n < y->n);
}

static const char usage[] =
    "usage: prime-eclat --store FILE [--max-tags L] [--min-size S] [--whole]\n";

int main(int argc, char **argv)
{
    const char *path = NULL;
    long long l = 4, s = 30;
    int whole = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--whole"))
            whole = 1;
        else if (i + 1 < argc && !strcmp(argv[i], "--store"))
            path = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--max-tags"))
            l = atoll(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--min-size"))
            s = atoll(argv[++i]);
        else if (i + 1 < argc &&
                 (!strcmp(argv[i], "--min-drop") || !strcmp(argv[i], "--threads")))
            i++; /* accepted for a common command line; not used */
        else {
            fprintf(stderr, "%s", usage);
            return 2;
        }
    }
    if (path == NULL || l < 1 || s < 1) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    max_len = (uint32_t)l;
    min_sup = (uint32_t)s;
    prime_tagstore *store = NULL;
    if (prime_tagstore_open(path, &store) != PRIME_OK) {
        fprintf(stderr, "prime-eclat: %s: %s\n", path, prime_last_error());
        return 1;
    }
    uint32_t n_img = prime_tagstore_image_count(store);
    uint32_t n_tags = prime_tagstore_tag_count(store);
    uint32_t n_cls = whole ? 1 : prime_tagstore_class_count(store);
    /* the transactions, grouped by class: image ids in ascending order */
    uint32_t *cls_of = xmalloc((size_t)n_img * sizeof *cls_of);
    uint64_t *tag_off = xmalloc(((size_t)n_img + 1) * sizeof *tag_off);
    uint64_t refs = prime_tagstore_tag_ref_count(store);
    uint32_t *tags = xmalloc((size_t)refs * sizeof *tags);
    tag_off[0] = 0;
    for (uint32_t i = 0; i < n_img; i++) {
        uint32_t n = 0;
        if (prime_tagstore_image_tags(store, i, tags + tag_off[i], (uint32_t)(refs - tag_off[i]),
                                      &n) != PRIME_OK) {
            fprintf(stderr, "prime-eclat: %s: %s\n", path, prime_last_error());
            return 1;
        }
        tag_off[i + 1] = tag_off[i] + n;
        cls_of[i] = whole ? 0 : prime_tagstore_image_class(store, i);
    }
    prime_tagstore_destroy(store);

    double c0 = bench_cpu_s();
    uint32_t *count = calloc(n_tags ? n_tags : 1, sizeof *count);
    tidlist *items = xmalloc((size_t)(n_tags ? n_tags : 1) * sizeof *items);
    int32_t *slot = xmalloc((size_t)(n_tags ? n_tags : 1) * sizeof *slot);
    if (count == NULL)
        return 1;
    /* the images of each class, ascending (a counting sort) */
    uint64_t *cls_off = calloc((size_t)n_cls + 1, sizeof *cls_off);
    uint32_t *cls_img = xmalloc((size_t)n_img * sizeof *cls_img);
    if (cls_off == NULL)
        return 1;
    for (uint32_t i = 0; i < n_img; i++)
        cls_off[cls_of[i] + 1]++;
    for (uint32_t c = 0; c < n_cls; c++)
        cls_off[c + 1] += cls_off[c];
    for (uint32_t i = 0; i < n_img; i++)
        cls_img[cls_off[cls_of[i]]++] = i;
    for (uint32_t c = n_cls; c > 0; c--)
        cls_off[c] = cls_off[c - 1];
    cls_off[0] = 0;
    for (uint32_t c = 0; c < n_cls; c++) {
        uint64_t a = cls_off[c], b = cls_off[c + 1];
        for (uint64_t j = a; j < b; j++) {
            uint32_t i = cls_img[j];
            for (uint64_t k = tag_off[i]; k < tag_off[i + 1]; k++)
                count[tags[k]]++;
        }
        uint32_t m = 0;
        for (uint32_t t = 0; t < n_tags; t++) {
            slot[t] = -1;
            if (count[t] >= min_sup) {
                slot[t] = (int32_t)m;
                items[m].tids = xmalloc((size_t)count[t] * sizeof(uint32_t));
                items[m].n = 0;
                m++;
            }
            count[t] = 0;
        }
        for (uint64_t j = a; j < b; j++) {
            uint32_t i = cls_img[j], local = (uint32_t)(j - a);
            for (uint64_t k = tag_off[i]; k < tag_off[i + 1]; k++)
                if (slot[tags[k]] >= 0) {
                    tidlist *it = &items[slot[tags[k]]];
                    it->tids[it->n++] = local;
                }
        }
        qsort(items, m, sizeof *items, cmp_support);
        if (m > 0)
            eclat(items, m, 0);
        for (uint32_t k = 0; k < m; k++)
            free(items[k].tids);
    }
    double c1 = bench_cpu_s();
    printf("itemsets=%llu cpu_s=%.4f rss_peak_mb=%.1f\n", (unsigned long long)n_sets, c1 - c0,
           bench_hwm_mb());
    free(count);
    free(items);
    free(slot);
    free(cls_of);
    free(cls_off);
    free(cls_img);
    free(tag_off);
    free(tags);
    return 0;
}
