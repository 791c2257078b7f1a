/* The zero-shot tagger (include/prime/backend.h, docs/backends.md): a pure-C
 * tagger backend on any embedder that embeds images and texts. The prompts
 * "a photo of <tag>" are embedded once and L2-normalised; an image's score
 * for a tag is the cosine similarity of its embedding with the tag's
 * prompt embedding. Wrapped through prime_tagger_create_from like any other
 * backend, so thresholds, top-k and prime_tagger_tag_files all apply. */
#include <math.h>
#include <string.h>

#include "store/store.h"
#include "prime/sys/backend.h"

/* Prompts per call of embed_texts while the vocabulary is embedded. */
#define ZS_TEXT_BATCH 64u
/* Longest prompt accepted (bytes, after the tag is put in). */
#define ZS_MAX_PROMPT 65536u

typedef struct {
    prime_embedder *embedder;
    int owns_embedder;           /* set once creation succeeded */
    const char *const *tags_in;  /* the caller's names, during creation only */
    uint32_t n, dim;
    float *text;                 /* n x dim, unit rows (or zero rows) */
    float *img;                  /* scratch: a batch of image embeddings */
    size_t img_cap;              /* floats */
} zs_state;

static void zs_destroy(void *self)
{
    zs_state *s = self;
    if (s == NULL)
        return;
    if (s->owns_embedder)
        prime_embedder_destroy(s->embedder);
    prime__free(s->text);
    prime__free(s->img);
    prime__free(s);
}

static uint32_t zs_tag_count(void *self)
{
    return ((zs_state *)self)->n;
}

static const char *zs_tag_name(void *self, uint32_t i)
{
    zs_state *s = self;
    return s->tags_in != NULL && i < s->n ? s->tags_in[i] : NULL;
}

/* Euclidean length of v[0..dim), summed in double. */
static double length(const float *v, uint32_t dim)
{
    double ss = 0.0;
    for (uint32_t k = 0; k < dim; k++)
        ss += (double)v[k] * (double)v[k];
    return sqrt(ss);
}

/* Scale v[0..dim) to unit length; a zero vector stays zero. Returns the
 * original length. */
static double normalise(float *v, uint32_t dim)
{
    double len = length(v, dim);
    if (len > 0.0)
        for (uint32_t k = 0; k < dim; k++)
            v[k] = (float)((double)v[k] / len);
    return len;
}

static prime_status zs_score(void *self, const prime_image *const *images, uint32_t n,
                             float *scores)
{
    zs_state *s = self;
    size_t need = (size_t)n * s->dim;
    if (s->dim != 0 && need / s->dim != n)
        return prime_backend_error(PRIME_E_LIMIT, "a batch of image embeddings is too large");
    if (need > s->img_cap) {
        float *p = prime__realloc(s->img, need * sizeof *p);
        if (p == NULL)
            return prime_backend_error(PRIME_E_NOMEM,
                                       "out of memory for a batch of image embeddings");
        s->img = p;
        s->img_cap = need;
    }
    prime_status st = prime_embedder_embed_images(s->embedder, images, n, s->img, s->img_cap);
    if (st != PRIME_OK)
        return st; /* its message names the embedder */
    for (uint32_t i = 0; i < n; i++) {
        const float *v = s->img + (size_t)i * s->dim;
        double len = length(v, s->dim);
        float *row = scores + (size_t)i * s->n;
        for (uint32_t t = 0; t < s->n; t++) {
            const float *u = s->text + (size_t)t * s->dim;
            double dot = 0.0;
            for (uint32_t k = 0; k < s->dim; k++)
                dot += (double)v[k] * (double)u[k];
            double c = len > 0.0 ? dot / len : 0.0;
            /* rounding may step just outside [-1, 1] */
            row[t] = (float)(c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c);
        }
    }
    return PRIME_OK;
}

/* Count the occurrences of "{}" in p. */
static int count_slots(const char *p)
{
    int n = 0;
    for (const char *q = strstr(p, "{}"); q != NULL; q = strstr(q + 2, "{}"))
        n++;
    return n;
}

/* Embed the prompts of the tagger's (validated, copied) vocabulary into
 * s->text, ZS_TEXT_BATCH at a time, and normalise them. */
static prime_status embed_prompts(zs_state *s, const prime_tagger *t, const char *prompt)
{
    const char *slot = strstr(prompt, "{}");
    size_t pre = (size_t)(slot - prompt), post = strlen(slot + 2);
    char *texts[ZS_TEXT_BATCH];
    prime_status st = PRIME_OK;
    for (uint32_t first = 0; first < s->n && st == PRIME_OK; first += ZS_TEXT_BATCH) {
        uint32_t m = s->n - first < ZS_TEXT_BATCH ? s->n - first : ZS_TEXT_BATCH;
        uint32_t made = 0;
        for (; made < m; made++) {
            const char *tag = prime_tagger_tag_name(t, first + made);
            size_t tl = strlen(tag), len = pre + tl + post;
            if (len > ZS_MAX_PROMPT) {
                st = prime__error(PRIME_E_LIMIT, "zero-shot tagger: the prompt of tag %u is "
                                  "%zu bytes (at most %u)", first + made, len, ZS_MAX_PROMPT);
                break;
            }
            char *p = prime__malloc(len + 1);
            if (p == NULL) {
                st = prime__error(PRIME_E_NOMEM, "zero-shot tagger: out of memory for the "
                                  "prompts");
                break;
            }
            memcpy(p, prompt, pre);
            memcpy(p + pre, tag, tl);
            memcpy(p + pre + tl, slot + 2, post + 1);
            texts[made] = p;
        }
        if (st == PRIME_OK)
            st = prime_embedder_embed_texts(s->embedder, (const char *const *)texts, m,
                                            s->text + (size_t)first * s->dim,
                                            (size_t)m * s->dim);
        for (uint32_t k = 0; k < made; k++)
            prime__free(texts[k]);
    }
    if (st == PRIME_OK)
        for (uint32_t i = 0; i < s->n; i++)
            normalise(s->text + (size_t)i * s->dim, s->dim);
    return st;
}

prime_status prime_zeroshot_tagger_create(prime_embedder *embedder, const char *const *tags,
                                          uint32_t n, const char *prompt, prime_tagger **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_zeroshot_tagger_create: NULL out");
    *out = NULL;
    if (embedder == NULL || tags == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_zeroshot_tagger_create: NULL %s",
                            embedder == NULL ? "embedder" : "tags");
    if (n == 0 || n == PRIME_NONE)
        return prime__error(PRIME_E_INVALID_ARG, "zero-shot tagger: %u tags (at least 1)", n);
    for (uint32_t i = 0; i < n; i++)
        if (tags[i] == NULL)
            return prime__error(PRIME_E_INVALID_ARG, "zero-shot tagger: tag %u is NULL", i);
    if (prompt == NULL)
        prompt = PRIME_ZEROSHOT_DEFAULT_PROMPT;
    if (!prime__utf8_valid(prompt, strlen(prompt)))
        return prime__error(PRIME_E_INVALID_ARG, "zero-shot tagger: the prompt is not valid "
                            "UTF-8");
    int slots = count_slots(prompt);
    if (slots != 1)
        return prime__error(PRIME_E_INVALID_ARG,
                            "zero-shot tagger: the prompt \"%.200s\" must hold \"{}\" (where "
                            "the tag goes) exactly once, not %d times", prompt, slots);
    /* Both sides are needed. With n = 0 the embed calls only check that
       the backend has the entry (PRIME_E_STATE when it has not). */
    const char *ename = prime_embedder_name(embedder);
    if (prime_embedder_embed_texts(embedder, NULL, 0, NULL, 0) == PRIME_E_STATE)
        return prime__error(PRIME_E_STATE, "zero-shot tagger: embedder '%s' cannot embed "
                            "texts (the prompts)", ename);
    if (prime_embedder_embed_images(embedder, NULL, 0, NULL, 0) == PRIME_E_STATE)
        return prime__error(PRIME_E_STATE, "zero-shot tagger: embedder '%s' cannot embed "
                            "images", ename);
    uint32_t dim = prime_embedder_dimension(embedder);
    if ((uint64_t)n * dim > SIZE_MAX / sizeof(float))
        return prime__error(PRIME_E_LIMIT, "zero-shot tagger: %u tags x %u dimensions do not "
                            "fit in memory", n, dim);

    zs_state *s = prime__calloc(1, sizeof *s);
    if (s == NULL)
        return prime__error(PRIME_E_NOMEM, "zero-shot tagger: out of memory");
    s->embedder = embedder;
    s->tags_in = tags;
    s->n = n;
    s->dim = dim;
    prime_tagger_backend b = PRIME_TAGGER_BACKEND_INIT;
    b.self = s;
    b.name = "zeroshot";
    b.destroy = zs_destroy;
    b.tag_count = zs_tag_count;
    b.tag_name = zs_tag_name;
    b.score = zs_score;
    /* The wrapper validates and copies the names first (cheap), so a bad
       vocabulary fails before any prompt is embedded. */
    prime_tagger *t = NULL;
    prime_status st = prime_tagger_create_from(&b, &t);
    if (st != PRIME_OK) {
        zs_destroy(s); /* not taken by the wrapper; owns_embedder is 0 */
        return st;
    }
    s->tags_in = NULL; /* the names are the tagger's now */
    s->text = prime__malloc((size_t)n * dim * sizeof *s->text);
    if (s->text == NULL)
        st = prime__error(PRIME_E_NOMEM, "zero-shot tagger: out of memory for %u prompt "
                          "embeddings", n);
    else
        st = embed_prompts(s, t, prompt);
    if (st != PRIME_OK) {
        prime_tagger_destroy(t); /* frees s; the embedder stays the caller's */
        return st;
    }
    s->owns_embedder = 1;
    *out = t;
    return PRIME_OK;
}
