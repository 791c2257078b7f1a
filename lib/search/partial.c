/* Class-parallel search (include/prime/partial.h): a search of some classes
 * (prime__search_raw in search.c does the searching), the exact merge of
 * such parts into the result prime_search gives, their binary form
 * (docs/binary-format.md, "Partial results") and a per-class cost
 * estimate.
 *
 * Exactness: a class is always searched whole by the code of prime_search,
 * so its statistics, its modes (numbers bit for bit) and its candidate
 * count do not depend on the other classes searched with it; the merge
 * hands the union to prime__result_build, which sorts as prime_search
 * does, and sums the candidate counts.
 *
 * The binary form, all little-endian:
 *   header (72 bytes): magic (8), version u32, flags u32 (0), the store's
 *     payload checksum u64, class count u64, mode count u64, candidates
 *     u64, payload size u64, payload checksum u64, header checksum u64
 *     (of bytes 0..64);
 *   payload: the configuration (CONFIG_BYTES: max_tags i64, min_size i64,
 *     min_drop f64, n_min_gain u64, min_gain f64 x PRIME_MAX_TAGS_LIMIT
 *     (0 after the first n_min_gain), min_tag_count i64, 0 i64 (the
 *     thread count is not recorded: it changes no result),
 *     whole_dataset i64, min_size_share f64, fold_equal i64); per class
 *     (ascending ids) id u32, 0 u32, images u64, correct f64; per mode
 *     (ascending by class, tag count, tags) class index u32, tag count
 *     u32, size u64, correct f64, then its tag ids u32 (ascending). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"

struct prime_partial {
    prime_config config;
    uint64_t store_sum;      /* prime_tagstore_checksum of the store */
    uint32_t n_classes;
    uint32_t *class_ids;     /* ascending */
    uint64_t *class_images;
    double *class_correct;
    uint64_t n_modes;
    prime__raw_mode *modes;  /* class_index into the arrays above; sorted (cmp_raw) */
    uint64_t candidates;
};

static const unsigned char MAGIC[8] = {0x89, 'P', 'R', 'P', '\r', '\n', 0x1a, '\n'};

enum {
    VERSION = 1,
    HEADER = 72,
    H_VERSION = 8,
    H_FLAGS = 12,
    H_STORE_SUM = 16,
    H_CLASSES = 24,
    H_MODES = 32,
    H_CANDIDATES = 40,
    H_PAYLOAD_SIZE = 48,
    H_PAYLOAD_SUM = 56,
    H_HEADER_SUM = 64,
    CONFIG_BYTES = 8 * (4 + PRIME_MAX_TAGS_LIMIT + 5),
    CLASS_BYTES = 24,
    MODE_BYTES = 24
};

#define SEED_PAYLOAD 0x5052494D50415254ull /* "PRIMPART" */
#define SEED_HEADER 0x5052494D50484452ull  /* "PRIMPHDR" */

/* ---- doubles as their bits (the integers: prime__put_le64 and friends) ---- */

static void putf(unsigned char *p, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    prime__put_le64(p, bits);
}

static double getf(const unsigned char *p)
{
    uint64_t bits = prime__get_le64(p);
    double v;
    memcpy(&v, &bits, 8);
    return v;
}

/* ---- the handle ----------------------------------------------------------- */

static int cmp_raw(const void *a, const void *b)
{
    const prime__raw_mode *x = a, *y = b;
    if (x->class_index != y->class_index)
        return x->class_index < y->class_index ? -1 : 1;
    if (x->n_tags != y->n_tags)
        return x->n_tags < y->n_tags ? -1 : 1;
    for (uint32_t i = 0; i < x->n_tags; i++)
        if (x->tags[i] != y->tags[i])
            return x->tags[i] < y->tags[i] ? -1 : 1;
    return 0;
}

void prime_partial_destroy(prime_partial *p)
{
    if (p == NULL)
        return;
    prime__free(p->class_ids);
    prime__free(p->class_images);
    prime__free(p->class_correct);
    prime__free(p->modes);
    prime__free(p);
}

uint32_t prime_partial_class_count(const prime_partial *p)
{
    return p != NULL ? p->n_classes : 0;
}

uint32_t prime_partial_class_id(const prime_partial *p, uint32_t i)
{
    return p != NULL && i < p->n_classes ? p->class_ids[i] : PRIME_NONE;
}

uint64_t prime_partial_mode_count(const prime_partial *p)
{
    return p != NULL ? p->n_modes : 0;
}

uint64_t prime_partial_candidate_count(const prime_partial *p)
{
    return p != NULL ? p->candidates : 0;
}

/* An empty handle with room for n classes and m modes. */
static prime_partial *partial_new(uint32_t n, uint64_t m)
{
    prime_partial *p = prime__calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->class_ids = prime__malloc((n ? n : 1) * sizeof *p->class_ids);
    p->class_images = prime__malloc((n ? n : 1) * sizeof *p->class_images);
    p->class_correct = prime__malloc((n ? n : 1) * sizeof *p->class_correct);
    p->modes = prime__calloc(m ? (size_t)m : 1, sizeof *p->modes);
    if (p->class_ids == NULL || p->class_images == NULL || p->class_correct == NULL ||
        p->modes == NULL) {
        prime_partial_destroy(p);
        return NULL;
    }
    return p;
}

/* config, or the defaults (in *storage) for NULL. */
static const prime_config *config_or_defaults(const prime_config *config, prime_config *storage)
{
    if (config != NULL)
        return config;
    prime__config_defaults(storage);
    return storage;
}

/* ---- searching ------------------------------------------------------------ */

prime_status prime_search_classes(const prime_tagstore *store, const prime_outcomes *outcomes,
                                  const prime_config *config, const uint32_t *class_ids,
                                  uint32_t n_class_ids, prime_progress_fn progress,
                                  void *user_data, prime_partial **out)
{
    if (out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_search_classes: out is NULL");
    *out = NULL;
    if (store == NULL || outcomes == NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_search_classes: store or outcomes is NULL");
    if (class_ids == NULL && n_class_ids > 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_search_classes: class_ids is NULL");
    prime_config defaults;
    config = config_or_defaults(config, &defaults);
    if (config->whole_dataset)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_search_classes: whole-data-set mode does not split by "
                            "class");
    if (!store->frozen)
        return prime__error(PRIME_E_STATE, "prime_search_classes: the tag store is not frozen");
    uint32_t n_store = prime_tagstore_class_count(store);
    uint32_t *ids = prime__malloc((n_class_ids ? n_class_ids : 1) * sizeof *ids);
    if (ids == NULL)
        return prime__error(PRIME_E_NOMEM, "prime_search_classes: out of memory");
    for (uint32_t i = 0; i < n_class_ids; i++) {
        if (class_ids[i] >= n_store) {
            prime__free(ids);
            return prime__error(PRIME_E_INVALID_ARG,
                                "prime_search_classes: class id %u is out of range (the store "
                                "has %u classes)",
                                (unsigned)class_ids[i], (unsigned)n_store);
        }
        ids[i] = class_ids[i];
    }
    prime__sort_u32(ids, n_class_ids);
    for (uint32_t i = 1; i < n_class_ids; i++) {
        if (ids[i] == ids[i - 1]) {
            uint32_t dup = ids[i];
            prime__free(ids);
            return prime__error(PRIME_E_INVALID_ARG,
                                "prime_search_classes: class '%s' (id %u) is given twice",
                                prime_tagstore_class_name(store, dup), (unsigned)dup);
        }
    }

    for (uint32_t i = 0; store->class_part && i < n_class_ids; i++) {
        uint32_t c = ids[i];
        if (store->class_size[c] != store->origin_class_size[c]) {
            prime__free(ids);
            return prime__error(PRIME_E_INVALID_ARG,
                                "prime_search_classes: class '%s' (id %u) is not in this part "
                                "of the store (read it with prime_class_reader_read)",
                                prime_tagstore_class_name(store, c), (unsigned)c);
        }
    }

    uint64_t store_sum = 0;
    prime__search_raw raw;
    memset(&raw, 0, sizeof raw);
    prime_status st = prime__store_bind_sum(store, &store_sum);
    if (st == PRIME_OK)
        st = prime__search_raw_run(store, outcomes, config, ids, n_class_ids, progress,
                                   user_data, &raw);
    prime__free(ids);
    if (st != PRIME_OK)
        return st;
    prime_partial *p = prime__calloc(1, sizeof *p);
    if (p == NULL) {
        prime__search_raw_free(&raw);
        return prime__error(PRIME_E_NOMEM, "prime_search_classes: out of memory");
    }
    p->config = *config;
    p->store_sum = store_sum;
    p->n_classes = raw.n_classes;
    p->class_ids = raw.class_ids;
    p->class_images = raw.class_images;
    p->class_correct = raw.class_correct;
    p->n_modes = raw.n_modes;
    p->modes = raw.modes;
    p->candidates = raw.candidates;
    /* a canonical order: the bytes do not depend on the thread count */
    if (p->n_modes > 1)
        qsort(p->modes, (size_t)p->n_modes, sizeof *p->modes, cmp_raw);
    *out = p;
    return PRIME_OK;
}

/* ---- configuration -------------------------------------------------------- */

/* true when a and b give the same result (everything but the thread count,
 * compared bit for bit). */
static bool config_same(const prime_config *a, const prime_config *b)
{
    if (a->max_tags != b->max_tags || a->min_size != b->min_size ||
        a->n_min_gain != b->n_min_gain || a->min_tag_count != b->min_tag_count ||
        a->whole_dataset != b->whole_dataset || a->fold_equal != b->fold_equal ||
        memcmp(&a->min_drop, &b->min_drop, sizeof(double)) != 0 ||
        memcmp(&a->min_size_share, &b->min_size_share, sizeof(double)) != 0)
        return false;
    for (uint32_t k = 0; k < a->n_min_gain && k < PRIME_MAX_TAGS_LIMIT; k++)
        if (memcmp(&a->min_gain[k], &b->min_gain[k], sizeof(double)) != 0)
            return false;
    return true;
}

static void put_config(unsigned char *p, const prime_config *c)
{
    prime__put_le64(p, (uint64_t)c->max_tags);
    prime__put_le64(p + 8, (uint64_t)c->min_size);
    putf(p + 16, c->min_drop);
    prime__put_le64(p + 24, c->n_min_gain);
    p += 32;
    for (uint32_t k = 0; k < PRIME_MAX_TAGS_LIMIT; k++, p += 8)
        putf(p, k < c->n_min_gain ? c->min_gain[k] : 0.0);
    prime__put_le64(p, (uint64_t)c->min_tag_count);
    prime__put_le64(p + 8, 0); /* the thread count: not recorded (it changes no result) */
    prime__put_le64(p + 16, (uint64_t)c->whole_dataset);
    putf(p + 24, c->min_size_share);
    prime__put_le64(p + 32, (uint64_t)c->fold_equal);
}

/* Read a configuration; false when a value is outside the parameter's
 * bounds (prime_config_param_info) or a padding slot is not zero. */
static bool get_config(const unsigned char *p, prime_config *c)
{
    prime__config_defaults(c);
    c->max_tags = (int64_t)prime__get_le64(p);
    c->min_size = (int64_t)prime__get_le64(p + 8);
    c->min_drop = getf(p + 16);
    uint64_t n_gain = prime__get_le64(p + 24);
    if (c->max_tags < 1 || c->max_tags > PRIME_MAX_TAGS_LIMIT || c->min_size < 1 ||
        c->min_size > 2147483647 || !(c->min_drop >= 0.0 && c->min_drop <= 1.0) ||
        n_gain < 1 || n_gain > PRIME_MAX_TAGS_LIMIT)
        return false;
    c->n_min_gain = (uint32_t)n_gain;
    p += 32;
    for (uint32_t k = 0; k < PRIME_MAX_TAGS_LIMIT; k++, p += 8) {
        double g = getf(p);
        if (k < c->n_min_gain) {
            if (!(g >= -1.0 && g <= 1.0))
                return false;
            c->min_gain[k] = g;
        } else if (prime__get_le64(p) != 0) {
            return false;
        }
    }
    c->min_tag_count = (int64_t)prime__get_le64(p);
    c->threads = (int64_t)prime__get_le64(p + 8); /* written as 0 */
    c->whole_dataset = (int64_t)prime__get_le64(p + 16);
    c->min_size_share = getf(p + 24);
    c->fold_equal = (int64_t)prime__get_le64(p + 32);
    return c->min_tag_count >= 0 && c->min_tag_count <= 2147483647 && c->threads == 0 &&
           c->whole_dataset == 0 &&
           c->min_size_share >= 0.0 && c->min_size_share <= 1.0 &&
           (c->fold_equal == 0 || c->fold_equal == 1);
}

/* ---- the binary form ------------------------------------------------------ */

static uint64_t payload_size(const prime_partial *p)
{
    uint64_t n = CONFIG_BYTES + (uint64_t)p->n_classes * CLASS_BYTES;
    for (uint64_t i = 0; i < p->n_modes; i++)
        n += MODE_BYTES + 4u * (uint64_t)p->modes[i].n_tags;
    return n;
}

static void serialize(const prime_partial *p, unsigned char *file, uint64_t psize)
{
    memset(file, 0, HEADER);
    unsigned char *d = file + HEADER, *q = d;
    put_config(q, &p->config);
    q += CONFIG_BYTES;
    for (uint32_t i = 0; i < p->n_classes; i++, q += CLASS_BYTES) {
        prime__put_le32(q, p->class_ids[i]);
        prime__put_le32(q + 4, 0);
        prime__put_le64(q + 8, p->class_images[i]);
        putf(q + 16, p->class_correct[i]);
    }
    for (uint64_t i = 0; i < p->n_modes; i++) {
        const prime__raw_mode *m = &p->modes[i];
        prime__put_le32(q, m->class_index);
        prime__put_le32(q + 4, m->n_tags);
        prime__put_le64(q + 8, m->size);
        putf(q + 16, m->correct);
        q += MODE_BYTES;
        for (uint32_t k = 0; k < m->n_tags; k++, q += 4)
            prime__put_le32(q, m->tags[k]);
    }
    memcpy(file, MAGIC, sizeof MAGIC);
    prime__put_le32(file + H_VERSION, VERSION);
    prime__put_le32(file + H_FLAGS, 0);
    prime__put_le64(file + H_STORE_SUM, p->store_sum);
    prime__put_le64(file + H_CLASSES, p->n_classes);
    prime__put_le64(file + H_MODES, p->n_modes);
    prime__put_le64(file + H_CANDIDATES, p->candidates);
    prime__put_le64(file + H_PAYLOAD_SIZE, psize);
    prime__put_le64(file + H_PAYLOAD_SUM, prime__checksum(d, (size_t)psize, SEED_PAYLOAD));
    prime__put_le64(file + H_HEADER_SUM, prime__checksum(file, H_HEADER_SUM, SEED_HEADER));
}

prime_status prime_partial_serialize(const prime_partial *p, void *buf, size_t cap,
                                     size_t *size_out)
{
    if (p == NULL || size_out == NULL || (buf == NULL && cap > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_partial_serialize: NULL argument");
    uint64_t psize = payload_size(p);
    if (psize > SIZE_MAX - HEADER)
        return prime__error(PRIME_E_LIMIT, "prime_partial_serialize: too large for this host");
    size_t size = (size_t)(HEADER + psize);
    *size_out = size;
    if (cap < size)
        return prime__error(PRIME_E_BUFFER_TOO_SMALL,
                            "the partial result needs %llu bytes", (unsigned long long)size);
    serialize(p, buf, psize);
    return PRIME_OK;
}

prime_status prime_partial_save(const prime_partial *p, const char *path)
{
    return prime_partial_save_to(p, NULL, path);
}

prime_status prime_partial_save_to(const prime_partial *p, prime_writer *writer,
                                   const char *path)
{
    if (p == NULL || path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_partial_save: NULL argument");
    uint64_t psize = payload_size(p);
    if (psize > SIZE_MAX - HEADER)
        return prime__error(PRIME_E_LIMIT, "%s: the partial result is too large for this host",
                            path);
    size_t size = (size_t)(HEADER + psize);
    unsigned char *file = prime__malloc(size);
    if (file == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", path);
    serialize(p, file, psize);
    prime_status st = writer != NULL ? prime_writer_add(writer, path, file, size)
                                     : prime__write_file_atomic(path, file, size);
    prime__free(file);
    return st;
}

static prime_status bad(const char *name, const char *what)
{
    return prime__error(PRIME_E_FORMAT, "%s: %s", name, what);
}

/* The minimum size of a group in a class of n images (as search.c). */
static uint64_t class_min_size(const prime_config *c, uint64_t n)
{
    uint64_t s = c->min_size < 1 ? 1 : (uint64_t)c->min_size;
    if (c->min_size_share > 0.0) {
        double want = ceil(c->min_size_share * (double)n - PRIME_EPS);
        s = want < 1.0 ? 1 : (uint64_t)want;
    }
    return s;
}

prime_status prime_partial_load_memory(const void *data, size_t size, const char *name,
                                       const prime_tagstore *store, const prime_config *config,
                                       prime_partial **out)
{
    if (out != NULL)
        *out = NULL;
    if (name == NULL)
        name = "<partial result>";
    if ((data == NULL && size > 0) || store == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_partial_load: NULL argument");
    if (!store->frozen)
        return prime__error(PRIME_E_STATE, "prime_partial_load: the tag store is not frozen");
    prime_config defaults;
    config = config_or_defaults(config, &defaults);
    if (config->whole_dataset)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_partial_load: whole-data-set mode does not split by class");
    const unsigned char *d = data;
    if (size < sizeof MAGIC || memcmp(d, MAGIC, sizeof MAGIC) != 0)
        return bad(name, "not a libprime partial result (wrong magic bytes)");
    if (size < HEADER)
        return bad(name, "truncated inside the header of the partial result");
    uint32_t version = prime__get_le32(d + H_VERSION);
    if (version == 0 || version > VERSION)
        return prime__error(PRIME_E_FORMAT,
                            "%s: partial result version %u; this libprime reads version %d "
                            "(a newer libprime may read it)",
                            name, (unsigned)version, VERSION);
    if (prime__get_le64(d + H_HEADER_SUM) != prime__checksum(d, H_HEADER_SUM, SEED_HEADER))
        return bad(name, "the header checksum does not match: the data is damaged");
    if (prime__get_le32(d + H_FLAGS) != 0)
        return bad(name, "unknown flags in the header of the partial result");
    uint64_t psize = prime__get_le64(d + H_PAYLOAD_SIZE);
    if ((uint64_t)size - HEADER < psize)
        return bad(name, "truncated: shorter than its header says");
    if ((uint64_t)size - HEADER > psize)
        return bad(name, "unexpected bytes after the end of the partial result");
    const unsigned char *p = d + HEADER;
    if (prime__get_le64(d + H_PAYLOAD_SUM) != prime__checksum(p, (size_t)psize, SEED_PAYLOAD))
        return bad(name, "the payload checksum does not match: the data is damaged");

    uint64_t store_sum = 0;
    prime_status st = prime__store_bind_sum(store, &store_sum);
    if (st != PRIME_OK)
        return st;
    if (store_sum != prime__get_le64(d + H_STORE_SUM))
        return prime__error(PRIME_E_MISMATCH,
                            "%s: this partial result was made for another tag store (its "
                            "checksum %016llx, this store's %016llx)",
                            name, (unsigned long long)prime__get_le64(d + H_STORE_SUM),
                            (unsigned long long)store_sum);
    prime_config fc;
    if (psize < CONFIG_BYTES || !get_config(p, &fc))
        return bad(name, "a search parameter is out of its bounds");
    if (!config_same(&fc, config))
        return prime__error(PRIME_E_MISMATCH,
                            "%s: this partial result was made with other search parameters",
                            name);
    uint64_t n_classes = prime__get_le64(d + H_CLASSES), n_modes = prime__get_le64(d + H_MODES);
    uint32_t n_store = prime_tagstore_class_count(store), n_tags = prime_tagstore_tag_count(store);
    uint64_t rest = psize - CONFIG_BYTES;
    if (n_classes > n_store || n_classes * CLASS_BYTES > rest)
        return bad(name, "the class count is out of range");
    rest -= n_classes * CLASS_BYTES;
    if (n_modes > rest / MODE_BYTES)
        return bad(name, "the mode count is out of range");
    prime_partial *r = partial_new((uint32_t)n_classes, n_modes);
    if (r == NULL)
        return prime__error(PRIME_E_NOMEM, "%s: out of memory", name);
    r->config = *config; /* equal but for the thread count: the caller's */
    r->store_sum = store_sum;
    r->candidates = prime__get_le64(d + H_CANDIDATES);
    const unsigned char *q = p + CONFIG_BYTES, *end = p + psize;
    const char *why = NULL;
    for (uint32_t i = 0; i < (uint32_t)n_classes && why == NULL; i++, q += CLASS_BYTES) {
        uint32_t id = prime__get_le32(q);
        uint64_t images = prime__get_le64(q + 8);
        double correct = getf(q + 16);
        if (id >= n_store || (i > 0 && id <= r->class_ids[i - 1]))
            why = "a class id is out of range or out of order";
        else if (prime__get_le32(q + 4) != 0)
            why = "a padding field of a class is not zero";
        else if (images == 0 || images != prime__store_bind_class_size(store, id))
            why = "a class's image count is not the store's";
        else if (!(correct >= 0.0 && correct <= (double)images))
            why = "a class's sum of outcomes is out of range";
        r->class_ids[i] = id;
        r->class_images[i] = images;
        r->class_correct[i] = correct;
    }
    r->n_classes = (uint32_t)n_classes;
    for (uint64_t i = 0; i < n_modes && why == NULL; i++) {
        prime__raw_mode *m = &r->modes[i];
        if ((uint64_t)(end - q) < MODE_BYTES) {
            why = "truncated inside the modes";
            break;
        }
        m->class_index = prime__get_le32(q);
        m->n_tags = prime__get_le32(q + 4);
        m->size = prime__get_le64(q + 8);
        m->correct = getf(q + 16);
        q += MODE_BYTES;
        if (m->class_index >= n_classes) {
            why = "a mode's class is not in the partial result";
            break;
        }
        if (m->n_tags < 1 || m->n_tags > (uint32_t)config->max_tags) {
            why = "a mode's tag count is out of range";
            break;
        }
        if ((uint64_t)(end - q) < 4u * (uint64_t)m->n_tags) {
            why = "truncated inside the modes";
            break;
        }
        for (uint32_t k = 0; k < m->n_tags; k++, q += 4) {
            m->tags[k] = prime__get_le32(q);
            if (m->tags[k] >= n_tags || (k > 0 && m->tags[k] <= m->tags[k - 1]))
                why = "a mode's tag ids are out of range or out of order";
        }
        uint64_t images = r->class_images[m->class_index];
        if (why == NULL &&
            (m->size > images || m->size < class_min_size(config, images)))
            why = "a mode's size is out of range";
        else if (why == NULL && !(m->correct >= 0.0 && m->correct <= (double)m->size))
            why = "a mode's sum of outcomes is out of range";
        else if (why == NULL && i > 0 && cmp_raw(&r->modes[i - 1], m) >= 0)
            why = "the modes are out of order or repeated";
    }
    if (why == NULL && q != end)
        why = "the payload size does not match its counts";
    if (why != NULL) {
        prime_partial_destroy(r);
        return bad(name, why);
    }
    r->n_modes = n_modes;
    *out = r;
    return PRIME_OK;
}

prime_status prime_partial_load(const char *path, const prime_tagstore *store,
                                const prime_config *config, prime_partial **out)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_partial_load: path is NULL");
    char *data = NULL;
    size_t size = 0;
    prime_status st = prime__read_file(path, &data, &size);
    if (st != PRIME_OK)
        return st;
    st = prime_partial_load_memory(data, size, path, store, config, out);
    prime__free(data);
    return st;
}

/* ---- the merge ------------------------------------------------------------ */

prime_status prime_partial_merge(const prime_tagstore *store, const prime_partial *const *parts,
                                 uint32_t n_parts, prime_result **out)
{
    if (out != NULL)
        *out = NULL;
    if (store == NULL || parts == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_partial_merge: NULL argument");
    if (n_parts == 0)
        return prime__error(PRIME_E_INVALID_ARG, "prime_partial_merge: no partial result");
    for (uint32_t i = 0; i < n_parts; i++)
        if (parts[i] == NULL)
            return prime__error(PRIME_E_INVALID_ARG, "prime_partial_merge: part %u is NULL",
                                (unsigned)i);
    if (!store->frozen)
        return prime__error(PRIME_E_STATE, "prime_partial_merge: the tag store is not frozen");
    uint64_t store_sum = 0;
    prime_status st = prime__store_bind_sum(store, &store_sum);
    if (st != PRIME_OK)
        return st;
    if (store->class_part && parts[0]->config.fold_equal)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_partial_merge: folding equal modes needs every image: merge "
                            "against the whole store, not a part read by classes");
    uint64_t n_modes = 0, n_classes = 0, candidates = 0;
    for (uint32_t i = 0; i < n_parts; i++) {
        if (parts[i]->store_sum != store_sum)
            return prime__error(PRIME_E_MISMATCH,
                                "prime_partial_merge: part %u was made for another tag store",
                                (unsigned)i);
        if (!config_same(&parts[i]->config, &parts[0]->config))
            return prime__error(PRIME_E_MISMATCH,
                                "prime_partial_merge: part %u was made with other search "
                                "parameters than part 0",
                                (unsigned)i);
        n_modes += parts[i]->n_modes;
        n_classes += parts[i]->n_classes;
        candidates += parts[i]->candidates;
    }
    uint32_t n_store = prime_tagstore_class_count(store);
    uint32_t *owner = prime__malloc(((size_t)n_store + 1) * sizeof *owner);
    uint32_t *class_ids = prime__malloc((size_t)(n_classes ? n_classes : 1) * sizeof *class_ids);
    uint64_t *class_images =
        prime__malloc((size_t)(n_classes ? n_classes : 1) * sizeof *class_images);
    double *class_correct =
        prime__malloc((size_t)(n_classes ? n_classes : 1) * sizeof *class_correct);
    prime__raw_mode *modes = prime__malloc((size_t)(n_modes ? n_modes : 1) * sizeof *modes);
    if (owner == NULL || class_ids == NULL || class_images == NULL || class_correct == NULL ||
        modes == NULL) {
        st = prime__error(PRIME_E_NOMEM, "prime_partial_merge: out of memory");
        goto done;
    }
    for (uint32_t c = 0; c < n_store; c++)
        owner[c] = PRIME_NONE;
    uint32_t nc = 0;
    uint64_t nm = 0;
    for (uint32_t i = 0; i < n_parts; i++) {
        const prime_partial *p = parts[i];
        for (uint32_t k = 0; k < p->n_classes; k++) {
            uint32_t id = p->class_ids[k];
            if (id >= n_store) {
                st = prime__error(PRIME_E_MISMATCH,
                                  "prime_partial_merge: part %u holds class id %u, which the "
                                  "store does not have",
                                  (unsigned)i, (unsigned)id);
                goto done;
            }
            if (owner[id] != PRIME_NONE) {
                st = prime__error(PRIME_E_MISMATCH,
                                  "prime_partial_merge: class '%s' (id %u) is in parts %u and %u",
                                  prime_tagstore_class_name(store, id), (unsigned)id,
                                  (unsigned)owner[id], (unsigned)i);
                goto done;
            }
            owner[id] = i;
            class_ids[nc + k] = id;
            class_images[nc + k] = p->class_images[k];
            class_correct[nc + k] = p->class_correct[k];
        }
        for (uint64_t k = 0; k < p->n_modes; k++) {
            modes[nm + k] = p->modes[k];
            modes[nm + k].class_index += nc;
        }
        nc += p->n_classes;
        nm += p->n_modes;
    }
    for (uint32_t c = 0; c < n_store; c++) {
        if (owner[c] == PRIME_NONE && prime__store_bind_class_size(store, c) > 0) {
            st = prime__error(PRIME_E_MISMATCH,
                              "prime_partial_merge: class '%s' (id %u) is in no part",
                              prime_tagstore_class_name(store, c), (unsigned)c);
            goto done;
        }
    }
    st = prime__result_build(store, &parts[0]->config, nc, class_ids, class_images,
                             class_correct, modes, nm, out);
    if (st != PRIME_OK) {
        *out = NULL;
        goto done;
    }
    (*out)->n_candidates = candidates;
    if (parts[0]->config.fold_equal) {
        st = prime__result_fold_equal(*out, store);
        if (st != PRIME_OK) {
            prime_result_destroy(*out);
            *out = NULL;
        }
    }
done:
    prime__free(owner);
    prime__free(class_ids);
    prime__free(class_images);
    prime__free(class_correct);
    prime__free(modes);
    return st;
}

/* ---- the cost estimate ---------------------------------------------------- */

typedef struct {
    const prime_tagstore *store;
    const prime_config *config;
    uint64_t *costs;
    uint32_t n_classes;
    atomic_uint next;        /* the next class to estimate */
    atomic_int nomem;        /* a worker could not get its scratch */
} cost_job;

/* One worker of prime_search_class_costs: classes from the shared counter. */
static void *cost_worker(void *arg)
{
    cost_job *job = arg;
    const prime_tagstore *store = job->store;
    const prime_config *config = job->config;
    uint32_t n_tags = prime_tagstore_tag_count(store);
    uint32_t *count = prime__calloc((size_t)n_tags + 1, sizeof *count);
    uint32_t *touched = prime__malloc(((size_t)n_tags + 1) * sizeof *touched);
    if (count == NULL || touched == NULL) {
        atomic_store(&job->nomem, 1);
        prime__free(count);
        prime__free(touched);
        return NULL;
    }
    for (;;) {
        uint32_t c = atomic_fetch_add(&job->next, 1);
        if (c >= job->n_classes || atomic_load(&job->nomem))
            break;
        uint64_t first, end;
        prime__store_scope(store, c, &first, &end);
        uint64_t n = end - first;
        if (n == 0) {
            job->costs[c] = 0;
            continue;
        }
        uint64_t min_size = class_min_size(config, n);
        uint64_t tc = config->min_tag_count > 0 ? (uint64_t)config->min_tag_count : min_size;
        uint64_t cand_min = tc > min_size ? tc : min_size;
        uint32_t n_touched = 0;
        for (uint64_t j = first; j < end; j++) {
            uint64_t a, b;
            prime__store_image_tags(store, prime__store_scope_image(store, c, j), &a, &b);
            for (uint64_t k = a; k < b; k++) {
                uint32_t t = prime__store_tag(store, k);
                if (count[t]++ == 0)
                    touched[n_touched++] = t;
            }
        }
        uint64_t m = 0;
        for (uint32_t k = 0; k < n_touched; k++) {
            m += count[touched[k]] >= cand_min;
            count[touched[k]] = 0;
        }
        uint64_t words = (n + 63) / 64;
        job->costs[c] = n + m * m * (words + 1);
    }
    prime__free(count);
    prime__free(touched);
    return NULL;
}

prime_status prime_search_class_costs(const prime_tagstore *store, const prime_config *config,
                                      uint64_t *costs, uint32_t n_costs)
{
    if (store == NULL || (costs == NULL && n_costs > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_search_class_costs: NULL argument");
    if (!store->frozen)
        return prime__error(PRIME_E_STATE,
                            "prime_search_class_costs: the tag store is not frozen");
    uint32_t n_store = prime_tagstore_class_count(store);
    if (n_costs != n_store)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_search_class_costs: %u costs for a store of %u classes",
                            (unsigned)n_costs, (unsigned)n_store);
    prime_config defaults;
    config = config_or_defaults(config, &defaults);
    cost_job job = {.store = store, .config = config, .costs = costs, .n_classes = n_store};
    atomic_init(&job.next, 0);
    atomic_init(&job.nomem, 0);
    uint32_t threads = config->threads > 0 ? (uint32_t)config->threads : prime__cpu_count();
    if (threads > n_store)
        threads = n_store > 0 ? n_store : 1;
    prime__run_workers(threads, cost_worker, &job);
    if (atomic_load(&job.nomem))
        return prime__error(PRIME_E_NOMEM, "prime_search_class_costs: out of memory");
    return PRIME_OK;
}
