/* Description quality (include/prime/quality.h): embedding matrices (raw
 * float32 and NumPy .npy readers, the join to a store by image name) and the
 * similarity / specificity / coherency metrics of groups of images. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "search/search.h"
#include "prime/quality.h"

#define MEM_NAME "<memory>"

struct prime_embeddings {
    uint64_t rows;
    uint32_t dim;
    float *v; /* rows * dim */
};

/* ---- embeddings ------------------------------------------------------------ */

static prime_status emb_alloc(uint64_t rows, uint32_t dim, const char *name,
                              prime_embeddings **out)
{
    if (dim > 0 && rows > (uint64_t)SIZE_MAX / sizeof(float) / dim)
        return prime__error(PRIME_E_LIMIT, "%s: %llu x %u embeddings do not fit in memory",
                            name, (unsigned long long)rows, dim);
    prime_embeddings *e = prime__calloc(1, sizeof *e);
    if (e == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    size_t n = (size_t)rows * dim;
    e->v = prime__malloc(n > 0 ? n * sizeof(float) : 1);
    if (e->v == NULL) {
        prime__free(e);
        return prime__error(PRIME_E_NOMEM, "out of memory");
    }
    e->rows = rows;
    e->dim = dim;
    *out = e;
    return PRIME_OK;
}

void prime_embeddings_destroy(prime_embeddings *e)
{
    if (e == NULL)
        return;
    prime__free(e->v);
    prime__free(e);
}

static prime_status check_finite(const prime_embeddings *e, const char *name)
{
    size_t n = (size_t)e->rows * e->dim;
    for (size_t k = 0; k < n; k++)
        if (!isfinite(e->v[k]))
            return prime__error(PRIME_E_FORMAT, "%s: row %llu, column %u: value is %s", name,
                                (unsigned long long)(k / e->dim), (unsigned)(k % e->dim),
                                isnan(e->v[k]) ? "NaN" : "infinite");
    return PRIME_OK;
}

prime_status prime_embeddings_create(const float *data, uint64_t rows, uint32_t dim,
                                     prime_embeddings **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (out == NULL || (data == NULL && rows > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_embeddings_create: NULL argument");
    *out = NULL;
    if (dim == 0 || dim > PRIME_EMBEDDINGS_MAX_DIM)
        return prime__error(PRIME_E_RANGE, "prime_embeddings_create: dim %u outside 1..%u", dim,
                            (unsigned)PRIME_EMBEDDINGS_MAX_DIM);
    prime_embeddings *e = NULL;
    prime_status st = emb_alloc(rows, dim, MEM_NAME, &e);
    if (st != PRIME_OK)
        return st;
    if (rows > 0)
        memcpy(e->v, data, (size_t)rows * dim * sizeof(float));
    if ((st = check_finite(e, MEM_NAME)) != PRIME_OK) {
        prime_embeddings_destroy(e);
        return st;
    }
    *out = e;
    return PRIME_OK;
}

static float rd_f32(const unsigned char *p)
{
    uint32_t u = prime__get_le32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double rd_f64(const unsigned char *p)
{
    uint64_t u = prime__get_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Fill e from little-endian values of itemsize 4 or 8 (no finite check). */
static prime_status emb_fill(prime_embeddings *e, const unsigned char *p, unsigned itemsize,
                             const char *name)
{
    size_t n = (size_t)e->rows * e->dim;
    for (size_t k = 0; k < n; k++) {
        double v = itemsize == 4 ? (double)rd_f32(p + 4 * k) : rd_f64(p + 8 * k);
        if (itemsize == 8 && isfinite(v) && fabs(v) > 3.4028234663852886e38)
            return prime__error(PRIME_E_FORMAT,
                                "%s: row %llu, column %u: value %g does not fit in float32",
                                name, (unsigned long long)(k / e->dim), (unsigned)(k % e->dim),
                                v);
        e->v[k] = (float)v;
    }
    return check_finite(e, name);
}

/* ---- .npy header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (r, c), } */

typedef struct {
    const char *s, *end;
    const char *name;
} npyp;

static void npy_ws(npyp *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t'))
        p->s++;
}

static prime_status npy_bad(const npyp *p, const char *what)
{
    return prime__error(PRIME_E_FORMAT, "%s: .npy header: %s", p->name, what);
}

/* A quoted Python string literal (no escapes); *s, *n its content. */
static bool npy_str(npyp *p, const char **s, size_t *n)
{
    if (p->s >= p->end || (*p->s != '\'' && *p->s != '"'))
        return false;
    char q = *p->s++;
    const char *b = p->s;
    while (p->s < p->end && *p->s != q) {
        if (*p->s == '\\' || *p->s == '\n')
            return false;
        p->s++;
    }
    if (p->s >= p->end)
        return false;
    *s = b;
    *n = (size_t)(p->s - b);
    p->s++;
    return true;
}

static bool npy_uint(npyp *p, uint64_t *v)
{
    if (p->s >= p->end || *p->s < '0' || *p->s > '9')
        return false;
    uint64_t x = 0;
    while (p->s < p->end && *p->s >= '0' && *p->s <= '9') {
        if (x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(*p->s - '0');
        p->s++;
    }
    if (p->s < p->end && (*p->s == 'L' || *p->s == 'l')) /* Python 2 long */
        p->s++;
    *v = x;
    return true;
}

static bool npy_lit(npyp *p, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, lit, n) != 0)
        return false;
    p->s += n;
    return true;
}

static prime_status npy_header(npyp *p, unsigned *itemsize, uint64_t *rows, uint64_t *cols)
{
    bool have_descr = false, have_fortran = false, have_shape = false;
    npy_ws(p);
    if (!npy_lit(p, "{"))
        return npy_bad(p, "the header is not a dict (no '{')");
    for (;;) {
        npy_ws(p);
        if (npy_lit(p, "}"))
            break;
        const char *k;
        size_t kn;
        if (!npy_str(p, &k, &kn))
            return npy_bad(p, "expected a quoted key");
        npy_ws(p);
        if (!npy_lit(p, ":"))
            return npy_bad(p, "expected ':' after a key");
        npy_ws(p);
        if (kn == 5 && memcmp(k, "descr", 5) == 0) {
            if (have_descr)
                return npy_bad(p, "key 'descr' given twice");
            have_descr = true;
            const char *d;
            size_t dn;
            if (!npy_str(p, &d, &dn))
                return npy_bad(p, "'descr' must be a string (structured dtypes are not supported)");
            if (dn == 3 && memcmp(d, "<f4", 3) == 0)
                *itemsize = 4;
            else if (dn == 3 && memcmp(d, "<f8", 3) == 0)
                *itemsize = 8;
            else
                return prime__error(PRIME_E_FORMAT,
                                    "%s: unsupported dtype '%.*s' (need '<f4' or '<f8')",
                                    p->name, (int)(dn > 32 ? 32 : dn), d);
        } else if (kn == 13 && memcmp(k, "fortran_order", 13) == 0) {
            if (have_fortran)
                return npy_bad(p, "key 'fortran_order' given twice");
            have_fortran = true;
            if (npy_lit(p, "True"))
                return prime__error(PRIME_E_FORMAT,
                                    "%s: Fortran-order arrays are not supported (save a "
                                    "C-order array, e.g. numpy.ascontiguousarray)",
                                    p->name);
            if (!npy_lit(p, "False"))
                return npy_bad(p, "'fortran_order' must be True or False");
        } else if (kn == 5 && memcmp(k, "shape", 5) == 0) {
            if (have_shape)
                return npy_bad(p, "key 'shape' given twice");
            have_shape = true;
            if (!npy_lit(p, "("))
                return npy_bad(p, "'shape' must be a tuple");
            uint64_t dims[3];
            int nd = 0;
            for (;;) {
                npy_ws(p);
                if (npy_lit(p, ")"))
                    break;
                uint64_t v;
                if (!npy_uint(p, &v))
                    return npy_bad(p, "'shape' must hold non-negative integers");
                if (nd < 3)
                    dims[nd] = v;
                nd++;
                npy_ws(p);
                if (npy_lit(p, ","))
                    continue;
                if (npy_lit(p, ")"))
                    break;
                return npy_bad(p, "expected ',' or ')' in 'shape'");
            }
            if (nd != 2)
                return prime__error(PRIME_E_FORMAT,
                                    "%s: the array has %d dimensions, need 2 (rows x dim)",
                                    p->name, nd);
            *rows = dims[0];
            *cols = dims[1];
        } else {
            return prime__error(PRIME_E_FORMAT, "%s: .npy header: unknown key '%.*s'", p->name,
                                (int)(kn > 32 ? 32 : kn), k);
        }
        npy_ws(p);
        if (npy_lit(p, ","))
            continue;
        if (npy_lit(p, "}"))
            break;
        return npy_bad(p, "expected ',' or '}' in the dict");
    }
    if (!have_descr || !have_fortran || !have_shape)
        return npy_bad(p, !have_descr     ? "missing key 'descr'"
                          : !have_fortran ? "missing key 'fortran_order'"
                                          : "missing key 'shape'");
    while (p->s < p->end && *p->s == ' ')
        p->s++;
    if (p->s + 1 != p->end || *p->s != '\n')
        return npy_bad(p, "the header does not end with spaces and a newline");
    return PRIME_OK;
}

static prime_status load_npy(const unsigned char *d, size_t size, const char *name,
                             uint32_t want_dim, prime_embeddings **out)
{
    if (size < 10)
        return prime__error(PRIME_E_FORMAT, "%s: truncated .npy header (%zu bytes)", name,
                            size);
    unsigned major = d[6], minor = d[7];
    if (major < 1 || major > 3 || minor != 0)
        return prime__error(PRIME_E_FORMAT, "%s: unsupported .npy format version %u.%u", name,
                            major, minor);
    size_t hstart = major == 1 ? 10 : 12;
    if (size < hstart)
        return prime__error(PRIME_E_FORMAT, "%s: truncated .npy header (%zu bytes)", name,
                            size);
    uint64_t hlen = major == 1 ? (uint64_t)(d[8] | d[9] << 8) : prime__get_le32(d + 8);
    if (hlen > size - hstart)
        return prime__error(PRIME_E_FORMAT,
                            "%s: truncated .npy header (%llu header bytes announced, %zu "
                            "present)",
                            name, (unsigned long long)hlen, size - hstart);
    const char *h = (const char *)d + hstart;
    for (uint64_t k = 0; k < hlen; k++)
        if ((unsigned char)h[k] >= 0x80 || (h[k] < 0x20 && h[k] != '\n' && h[k] != '\t'))
            return prime__error(PRIME_E_FORMAT, "%s: .npy header: byte %llu is not printable "
                                "ASCII", name, (unsigned long long)k);
    npyp p = {h, h + hlen, name};
    unsigned itemsize = 0;
    uint64_t rows = 0, cols = 0;
    prime_status st = npy_header(&p, &itemsize, &rows, &cols);
    if (st != PRIME_OK)
        return st;
    if (cols == 0 || cols > PRIME_EMBEDDINGS_MAX_DIM)
        return prime__error(PRIME_E_FORMAT, "%s: dimension %llu outside 1..%u", name,
                            (unsigned long long)cols, (unsigned)PRIME_EMBEDDINGS_MAX_DIM);
    if (want_dim != 0 && cols != want_dim)
        return prime__error(PRIME_E_MISMATCH, "%s: dimension %llu, expected %u", name,
                            (unsigned long long)cols, want_dim);
    size_t body = size - hstart - (size_t)hlen;
    if (rows > UINT64_MAX / cols / itemsize || rows * cols * itemsize != body)
        return prime__error(PRIME_E_FORMAT,
                            "%s: the data holds %zu bytes, the shape (%llu, %llu) of %u-byte "
                            "values needs %s",
                            name, body, (unsigned long long)rows, (unsigned long long)cols,
                            itemsize,
                            rows > UINT64_MAX / cols / itemsize ? "more than fits in memory"
                                                                : "another size");
    prime_embeddings *e = NULL;
    if ((st = emb_alloc(rows, (uint32_t)cols, name, &e)) != PRIME_OK)
        return st;
    if ((st = emb_fill(e, d + hstart + hlen, itemsize, name)) != PRIME_OK) {
        prime_embeddings_destroy(e);
        return st;
    }
    *out = e;
    return PRIME_OK;
}

prime_status prime_embeddings_load_memory(const void *data, size_t size, const char *name,
                                          uint32_t dim, prime_embeddings **out)
{
    if (name == NULL)
        name = MEM_NAME;
    if (out == NULL || (data == NULL && size > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_embeddings_load: NULL argument");
    *out = NULL;
    if (dim > PRIME_EMBEDDINGS_MAX_DIM)
        return prime__error(PRIME_E_RANGE, "%s: dim %u outside 1..%u", name, dim,
                            (unsigned)PRIME_EMBEDDINGS_MAX_DIM);
    const unsigned char *d = data;
    if (size >= 6 && memcmp(d, "\x93NUMPY", 6) == 0)
        return load_npy(d, size, name, dim, out);
    if (dim == 0)
        return prime__error(PRIME_E_INVALID_ARG,
                            "%s: not a .npy file; raw float32 embeddings need a dimension",
                            name);
    if (size == 0)
        return prime__error(PRIME_E_FORMAT, "%s: empty embedding file", name);
    if (size % ((size_t)4 * dim) != 0)
        return prime__error(PRIME_E_FORMAT,
                            "%s: size %zu bytes is not a multiple of 4 x %u (raw float32 rows "
                            "of dimension %u)",
                            name, size, dim, dim);
    prime_embeddings *e = NULL;
    prime_status st = emb_alloc(size / ((size_t)4 * dim), dim, name, &e);
    if (st != PRIME_OK)
        return st;
    if ((st = emb_fill(e, d, 4, name)) != PRIME_OK) {
        prime_embeddings_destroy(e);
        return st;
    }
    *out = e;
    return PRIME_OK;
}

typedef struct {
    uint32_t dim;
    prime_embeddings **out;
} load_args;

static prime_status parse_embeddings(const char *data, size_t size, const char *name, void *ctx)
{
    const load_args *a = ctx;
    return prime_embeddings_load_memory(data, size, name, a->dim, a->out);
}

prime_status prime_embeddings_load(const char *path, uint32_t dim, prime_embeddings **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (path == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_embeddings_load: NULL argument");
    *out = NULL;
    load_args a = {dim, out};
    return prime__parse_file(path, parse_embeddings, &a);
}

uint64_t prime_embeddings_rows(const prime_embeddings *e)
{
    return e != NULL ? e->rows : 0;
}

uint32_t prime_embeddings_dim(const prime_embeddings *e)
{
    return e != NULL ? e->dim : 0;
}

const float *prime_embeddings_row(const prime_embeddings *e, uint64_t row)
{
    if (e == NULL || row >= e->rows)
        return NULL;
    return e->v + (size_t)row * e->dim;
}

prime_status prime_embeddings_join_memory(const prime_embeddings *emb, const void *ids,
                                          size_t ids_size, const char *name,
                                          const prime_tagstore *store, prime_embeddings **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (name == NULL)
        name = MEM_NAME;
    if (emb == NULL || store == NULL || out == NULL || (ids == NULL && ids_size > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_embeddings_join: NULL argument");
    const char *s = ids, *end = s + ids_size;
    s += prime__text_bom(s, ids_size);
    uint32_t n_img = prime_tagstore_image_count(store);
    uint64_t *row_of = prime__malloc(((size_t)n_img + 1) * sizeof *row_of);
    prime__names seen;
    memset(&seen, 0, sizeof seen);
    prime_embeddings *e = NULL;
    prime_status st = PRIME_OK;
    if (row_of == NULL) {
        st = prime__error(PRIME_E_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < n_img; i++)
        row_of[i] = UINT64_MAX;
    uint64_t line = 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl != NULL ? nl : end;
        size_t n = (size_t)(le - s);
        if (n > 0 && s[n - 1] == '\r')
            n--;
        line++;
        if (n == 0) {
            st = prime__error(PRIME_E_PARSE, "%s:%llu: empty image name", name,
                              (unsigned long long)line);
            goto done;
        }
        if (!prime__utf8_valid(s, n)) {
            st = prime__error(PRIME_E_PARSE, "%s:%llu: image name is not valid UTF-8", name,
                              (unsigned long long)line);
            goto done;
        }
        if (line > emb->rows) {
            st = prime__error(PRIME_E_MISMATCH, "%s: more names than the %llu embedding rows",
                              name, (unsigned long long)emb->rows);
            goto done;
        }
        if (prime__names_find(&seen, s, n) != PRIME_NONE) {
            st = prime__error(PRIME_E_DUPLICATE, "%s:%llu: image '%.*s' named twice", name,
                              (unsigned long long)line, (int)(n > 200 ? 200 : n), s);
            goto done;
        }
        uint32_t id;
        if ((st = prime__names_push(&seen, s, n, true, &id)) != PRIME_OK)
            goto done;
        uint32_t img = prime__store_find_image(store, s, n);
        if (img != PRIME_NONE)
            row_of[img] = line - 1;
        s = nl != NULL ? nl + 1 : end;
    }
    if (line != emb->rows) {
        st = prime__error(PRIME_E_MISMATCH, "%s: %llu names for %llu embedding rows", name,
                          (unsigned long long)line, (unsigned long long)emb->rows);
        goto done;
    }
    for (uint32_t i = 0; i < n_img; i++)
        if (row_of[i] == UINT64_MAX) {
            const char *iname = prime_tagstore_image_name(store, i);
            st = prime__error(PRIME_E_MISMATCH, "%s: no embedding for image %s%s", name,
                              iname != NULL && iname[0] ? iname : "#",
                              iname != NULL && iname[0] ? "" : "(unnamed)");
            goto done;
        }
    if ((st = emb_alloc(n_img, emb->dim, name, &e)) != PRIME_OK)
        goto done;
    for (uint32_t i = 0; i < n_img; i++)
        memcpy(e->v + (size_t)i * emb->dim, emb->v + (size_t)row_of[i] * emb->dim,
               emb->dim * sizeof(float));
    *out = e;
done:
    prime__names_free(&seen);
    prime__free(row_of);
    return st;
}

prime_status prime_embeddings_join(const prime_embeddings *emb, const char *ids_path,
                                   const prime_tagstore *store, prime_embeddings **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (ids_path == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_embeddings_join: NULL argument");
    char *data = NULL;
    size_t size = 0;
    prime_status st = prime__read_file(ids_path, &data, &size);
    if (st != PRIME_OK)
        return st;
    st = prime_embeddings_join_memory(emb, data, size, ids_path, store, out);
    prime__free(data);
    return st;
}

/* ---- plain metrics --------------------------------------------------------- */

prime_status prime_vec_cosine(const float *a, const float *b, uint32_t dim, double *cos_out)
{
    if ((dim > 0 && (a == NULL || b == NULL)) || cos_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_vec_cosine: NULL argument");
    double ab = 0, aa = 0, bb = 0;
    for (uint32_t k = 0; k < dim; k++) {
        ab += (double)a[k] * b[k];
        aa += (double)a[k] * a[k];
        bb += (double)b[k] * b[k];
    }
    *cos_out = (aa > 0 && bb > 0) ? ab / (sqrt(aa) * sqrt(bb)) : 0.0;
    return PRIME_OK;
}

typedef struct {
    double v;
    int pos;
} scored;

static int cmp_scored(const void *x, const void *y)
{
    double a = ((const scored *)x)->v, b = ((const scored *)y)->v;
    return (a > b) - (a < b);
}

prime_status prime_stat_auroc(const double *pos, uint64_t npos, const double *neg,
                              uint64_t nneg, double *auroc_out)
{
    if ((npos > 0 && pos == NULL) || (nneg > 0 && neg == NULL) || auroc_out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_stat_auroc: NULL argument");
    for (uint64_t i = 0; i < npos; i++)
        if (isnan(pos[i]))
            return prime__error(PRIME_E_INVALID_ARG, "prime_stat_auroc: pos[%llu] is NaN",
                                (unsigned long long)i);
    for (uint64_t i = 0; i < nneg; i++)
        if (isnan(neg[i]))
            return prime__error(PRIME_E_INVALID_ARG, "prime_stat_auroc: neg[%llu] is NaN",
                                (unsigned long long)i);
    if (npos == 0 || nneg == 0) {
        *auroc_out = NAN;
        return PRIME_OK;
    }
    uint64_t n = npos + nneg;
    if (n > SIZE_MAX / sizeof(scored))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    scored *a = prime__malloc((size_t)n * sizeof *a);
    if (a == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < npos; i++)
        a[i] = (scored){pos[i], 1};
    for (uint64_t i = 0; i < nneg; i++)
        a[npos + i] = (scored){neg[i], 0};
    qsort(a, (size_t)n, sizeof *a, cmp_scored);
    /* rank sum of the positives, ties sharing their average rank (ranks
       from 1; a sum of half-integers, exact in double) */
    double rsum = 0;
    for (uint64_t i = 0; i < n;) {
        uint64_t j = i;
        uint64_t np = 0;
        while (j < n && a[j].v == a[i].v) {
            np += (uint64_t)a[j].pos;
            j++;
        }
        double avg = ((double)(i + 1) + (double)j) / 2.0;
        rsum += avg * (double)np;
        i = j;
    }
    prime__free(a);
    double u = rsum - (double)npos * ((double)npos + 1.0) / 2.0;
    *auroc_out = u / ((double)npos * (double)nneg);
    return PRIME_OK;
}

/* ---- quality handle -------------------------------------------------------- */

typedef struct {
    uint64_t label_off, class_off;
    uint32_t class_id;
    uint64_t size, class_size;
    double sim, spec, coh;
} qgroup;

typedef struct {
    uint64_t name_off;
    uint64_t groups;
    double sim, spec, coh;
} qclass;

struct prime_quality {
    uint32_t n_images, dim, n_classes;
    float *unit;           /* n_images x dim, rows scaled to length 1 (zero rows stay) */
    uint32_t *image_class; /* n_images */
    uint64_t *class_off;   /* n_classes + 1 */
    uint32_t *class_images;
    double *class_coh;     /* n_classes + 1; the last: whole store */
    prime__names class_names, tag_names;
    uint64_t *tag_off;     /* n_images + 1: tags of image i at tag_ids[tag_off[i]..] */
    uint32_t *tag_ids;     /* sorted ascending per image */
    qgroup *groups;
    uint64_t n_groups;
    size_t cap_groups;
    qclass *avg;           /* per class with groups, sorted by name */
    uint32_t n_avg;
    qclass overall;
    prime__buf strings;
};

static const char *q_str(const prime_quality *q, uint64_t off)
{
    return q->strings.data + off;
}

void prime_quality_destroy(prime_quality *q)
{
    if (q == NULL)
        return;
    prime__free(q->unit);
    prime__free(q->image_class);
    prime__free(q->class_off);
    prime__free(q->class_images);
    prime__free(q->class_coh);
    prime__names_free(&q->class_names);
    prime__names_free(&q->tag_names);
    prime__free(q->tag_off);
    prime__free(q->tag_ids);
    prime__free(q->groups);
    prime__free(q->avg);
    prime__buf_free(&q->strings);
    prime__free(q);
}

/* coh(S) = |mean of the unit rows of S|; NaN for an empty set. */
static prime_status coherence(const prime_quality *q, const uint32_t *img, uint64_t n,
                              double *out)
{
    if (n == 0) {
        *out = NAN;
        return PRIME_OK;
    }
    double *m = prime__calloc(q->dim, sizeof *m);
    if (m == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        const float *u = q->unit + (size_t)img[i] * q->dim;
        for (uint32_t k = 0; k < q->dim; k++)
            m[k] += u[k];
    }
    double ss = 0;
    for (uint32_t k = 0; k < q->dim; k++) {
        double v = m[k] / (double)n;
        ss += v * v;
    }
    prime__free(m);
    *out = sqrt(ss);
    return PRIME_OK;
}

prime_status prime_quality_create(const prime_tagstore *store, const prime_embeddings *images,
                                  prime_quality **out)
{
    if (out != NULL) /* a handle out-parameter is NULL on any failure */
        *out = NULL;
    if (store == NULL || images == NULL || out == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_quality_create: NULL argument");
    *out = NULL;
    if (!prime_tagstore_is_frozen(store))
        return prime__error(PRIME_E_STATE, "prime_quality_create: the store is not frozen");
    uint32_t n = prime_tagstore_image_count(store);
    if (images->rows != n)
        return prime__error(PRIME_E_MISMATCH,
                            "image embeddings have %llu rows, the store holds %u images",
                            (unsigned long long)images->rows, n);
    prime_quality *q = prime__calloc(1, sizeof *q);
    if (q == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    q->n_images = n;
    q->dim = images->dim;
    q->n_classes = prime_tagstore_class_count(store);
    q->unit = prime__malloc(((size_t)n * q->dim + 1) * sizeof(float));
    q->image_class = prime__malloc(((size_t)n + 1) * sizeof(uint32_t));
    q->class_off = prime__malloc(((size_t)q->n_classes + 1) * sizeof(uint64_t));
    q->class_images = prime__malloc(((size_t)n + 1) * sizeof(uint32_t));
    q->class_coh = prime__malloc(((size_t)q->n_classes + 1) * sizeof(double));
    prime_status st = PRIME_OK;
    if (q->unit == NULL || q->image_class == NULL || q->class_off == NULL ||
        q->class_images == NULL || q->class_coh == NULL) {
        st = prime__error(PRIME_E_NOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        const float *x = images->v + (size_t)i * q->dim;
        float *u = q->unit + (size_t)i * q->dim;
        double ss = 0;
        for (uint32_t k = 0; k < q->dim; k++)
            ss += (double)x[k] * x[k];
        double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        for (uint32_t k = 0; k < q->dim; k++)
            u[k] = (float)(x[k] * inv);
        q->image_class[i] = prime__store_image_class(store, i);
    }
    q->class_off[0] = 0;
    for (uint32_t c = 0; c < q->n_classes; c++) {
        uint64_t first, end;
        prime__store_scope(store, c, &first, &end);
        q->class_off[c + 1] = end;
        for (uint64_t j = first; j < end; j++)
            q->class_images[j] = prime__store_scope_image(store, c, j);
    }
    for (uint32_t c = 0; c < q->n_classes; c++) {
        if ((st = coherence(q, q->class_images + q->class_off[c],
                            q->class_off[c + 1] - q->class_off[c], &q->class_coh[c])) !=
            PRIME_OK)
            goto fail;
        const char *nm = prime_tagstore_class_name(store, c);
        uint32_t id;
        if ((st = prime__names_push(&q->class_names, nm, strlen(nm), false, &id)) != PRIME_OK)
            goto fail;
    }
    if ((st = prime__names_build_index(&q->class_names, NULL)) != PRIME_OK)
        goto fail;
    for (uint32_t t = 0; t < prime_tagstore_tag_count(store); t++) {
        const char *nm = prime_tagstore_tag_name(store, t);
        uint32_t id;
        if ((st = prime__names_push(&q->tag_names, nm, strlen(nm), false, &id)) != PRIME_OK)
            goto fail;
    }
    if ((st = prime__names_build_index(&q->tag_names, NULL)) != PRIME_OK)
        goto fail;
    {
        uint64_t refs = prime__store_ref_count(store);
        q->tag_off = prime__malloc(((size_t)n + 1) * sizeof *q->tag_off);
        q->tag_ids = prime__malloc(((size_t)refs + 1) * sizeof *q->tag_ids);
        if (q->tag_off == NULL || q->tag_ids == NULL) {
            st = prime__error(PRIME_E_NOMEM, "out of memory");
            goto fail;
        }
        q->tag_off[0] = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t first, end;
            prime__store_image_tags(store, i, &first, &end);
            q->tag_off[i + 1] = end;
            for (uint64_t k = first; k < end; k++)
                q->tag_ids[k] = prime__store_tag(store, k);
        }
    }
    {
        uint32_t *all = prime__malloc(((size_t)n + 1) * sizeof *all);
        if (all == NULL) {
            st = prime__error(PRIME_E_NOMEM, "out of memory");
            goto fail;
        }
        for (uint32_t i = 0; i < n; i++)
            all[i] = i;
        st = coherence(q, all, n, &q->class_coh[q->n_classes]);
        prime__free(all);
        if (st != PRIME_OK)
            goto fail;
    }
    q->overall = (qclass){0, 0, NAN, NAN, NAN};
    *out = q;
    return PRIME_OK;
fail:
    prime_quality_destroy(q);
    return st;
}

static void mean_add(double v, double *sum, uint64_t *n)
{
    if (!isnan(v)) {
        *sum += v;
        (*n)++;
    }
}

/* Recompute the per-class and overall averages. */
static prime_status q_rebuild_avg(prime_quality *q)
{
    qclass *avg = prime__malloc(((size_t)q->n_groups + 1) * sizeof *avg);
    if (avg == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    uint32_t na = 0;
    double s[3] = {0, 0, 0};
    uint64_t c[3] = {0, 0, 0};
    for (uint64_t g = 0; g < q->n_groups; g++) {
        const qgroup *G = &q->groups[g];
        mean_add(G->sim, &s[0], &c[0]);
        mean_add(G->spec, &s[1], &c[1]);
        mean_add(G->coh, &s[2], &c[2]);
        const char *nm = q_str(q, G->class_off);
        uint32_t k = 0;
        while (k < na && strcmp(q_str(q, avg[k].name_off), nm) != 0)
            k++;
        if (k == na)
            avg[na++] = (qclass){G->class_off, 0, 0, 0, 0};
    }
    q->overall.groups = q->n_groups;
    q->overall.sim = c[0] ? s[0] / (double)c[0] : NAN;
    q->overall.spec = c[1] ? s[1] / (double)c[1] : NAN;
    q->overall.coh = c[2] ? s[2] / (double)c[2] : NAN;
    for (uint32_t k = 0; k < na; k++) {
        double t[3] = {0, 0, 0};
        uint64_t m[3] = {0, 0, 0}, ng = 0;
        const char *nm = q_str(q, avg[k].name_off);
        for (uint64_t g = 0; g < q->n_groups; g++) {
            const qgroup *G = &q->groups[g];
            if (strcmp(q_str(q, G->class_off), nm) != 0)
                continue;
            ng++;
            mean_add(G->sim, &t[0], &m[0]);
            mean_add(G->spec, &t[1], &m[1]);
            mean_add(G->coh, &t[2], &m[2]);
        }
        avg[k].groups = ng;
        avg[k].sim = m[0] ? t[0] / (double)m[0] : NAN;
        avg[k].spec = m[1] ? t[1] / (double)m[1] : NAN;
        avg[k].coh = m[2] ? t[2] / (double)m[2] : NAN;
    }
    /* sort by name (insertion sort: few classes) */
    for (uint32_t i = 1; i < na; i++) {
        qclass x = avg[i];
        uint32_t j = i;
        while (j > 0 && strcmp(q_str(q, avg[j - 1].name_off), q_str(q, x.name_off)) > 0) {
            avg[j] = avg[j - 1];
            j--;
        }
        avg[j] = x;
    }
    prime__free(q->avg);
    q->avg = avg;
    q->n_avg = na;
    return PRIME_OK;
}

/* Add a group with its image list already checked, sorted and unique. */
static prime_status q_add(prime_quality *q, const char *label, const char *class_name,
                          uint32_t class_id, const uint32_t *img, uint64_t n, const float *text,
                          uint64_t *index_out)
{
    if (!prime__grow((void **)&q->groups, &q->cap_groups, q->n_groups + 1, sizeof *q->groups))
        return prime__error(PRIME_E_NOMEM, "out of memory");
    qgroup G;
    memset(&G, 0, sizeof G);
    G.class_id = class_id;
    G.size = n;
    G.sim = G.spec = G.coh = NAN;
    uint64_t cfirst = 0, clast = q->n_images;
    bool in_store = class_id != PRIME_NONE || class_name == NULL;
    if (class_id != PRIME_NONE) {
        cfirst = q->class_off[class_id];
        clast = q->class_off[class_id + 1];
    }
    G.class_size = in_store ? clast - cfirst : 0;
    uint64_t lo = q->strings.len;
    prime__buf_puts(&q->strings, label != NULL ? label : "");
    prime__buf_putc(&q->strings, '\0');
    G.label_off = lo;
    G.class_off = q->strings.len;
    prime__buf_puts(&q->strings, class_name != NULL ? class_name
                                 : class_id == PRIME_NONE
                                     ? "(all)"
                                     : prime__names_get(&q->class_names, class_id));
    prime__buf_putc(&q->strings, '\0');
    if (q->strings.failed)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    prime_status st = PRIME_OK;
    if (n > 0 && in_store) {
        double ref = q->class_coh[class_id == PRIME_NONE ? q->n_classes : class_id];
        double coh;
        if ((st = coherence(q, img, n, &coh)) != PRIME_OK)
            return st;
        G.coh = coh - ref;
        if (text != NULL) {
            double *t = prime__malloc((size_t)q->dim * sizeof *t);
            uint64_t ncls = clast - cfirst;
            double *pos = prime__malloc(((size_t)n + 1) * sizeof *pos);
            double *neg = prime__malloc(((size_t)(ncls - n) + 1) * sizeof *neg);
            if (t == NULL || pos == NULL || neg == NULL) {
                prime__free(t);
                prime__free(pos);
                prime__free(neg);
                return prime__error(PRIME_E_NOMEM, "out of memory");
            }
            double tt = 0;
            for (uint32_t k = 0; k < q->dim; k++)
                tt += (double)text[k] * text[k];
            double inv = tt > 0 ? 1.0 / sqrt(tt) : 0.0;
            for (uint32_t k = 0; k < q->dim; k++)
                t[k] = text[k] * inv;
            /* walk the class (ascending ids) and the sorted group together */
            uint64_t np = 0, nn = 0, gi = 0;
            double sum = 0;
            for (uint64_t j = cfirst; j < clast; j++) {
                uint32_t im = class_id == PRIME_NONE ? (uint32_t)j : q->class_images[j];
                const float *u = q->unit + (size_t)im * q->dim;
                double s = 0;
                for (uint32_t k = 0; k < q->dim; k++)
                    s += t[k] * u[k];
                while (gi < n && img[gi] < im)
                    gi++;
                if (gi < n && img[gi] == im) {
                    pos[np++] = s;
                    sum += s;
                } else {
                    neg[nn++] = s;
                }
            }
            G.sim = sum / (double)np;
            st = prime_stat_auroc(pos, np, neg, nn, &G.spec);
            prime__free(t);
            prime__free(pos);
            prime__free(neg);
            if (st != PRIME_OK)
                return st;
        }
    }
    q->groups[q->n_groups++] = G;
    if ((st = q_rebuild_avg(q)) != PRIME_OK) {
        q->n_groups--;
        return st;
    }
    if (index_out != NULL)
        *index_out = q->n_groups - 1;
    return PRIME_OK;
}

prime_status prime_quality_add_group(prime_quality *q, const char *label, uint32_t class_id,
                                     const uint32_t *images, uint64_t n, const float *text,
                                     uint32_t dim, uint64_t *index_out)
{
    if (q == NULL || (images == NULL && n > 0))
        return prime__error(PRIME_E_INVALID_ARG, "prime_quality_add_group: NULL argument");
    if (class_id != PRIME_NONE && class_id >= q->n_classes)
        return prime__error(PRIME_E_INVALID_ARG, "prime_quality_add_group: class id %u out of "
                            "range (%u classes)", class_id, q->n_classes);
    if (text != NULL && dim != q->dim)
        return prime__error(PRIME_E_MISMATCH, "prime_quality_add_group: text dimension %u, "
                            "image embeddings have %u", dim, q->dim);
    if (text != NULL)
        for (uint32_t k = 0; k < dim; k++)
            if (!isfinite(text[k]))
                return prime__error(PRIME_E_RANGE, "prime_quality_add_group: text[%u] is not "
                                    "finite", k);
    if (label != NULL && !prime__utf8_valid(label, strlen(label)))
        return prime__error(PRIME_E_INVALID_ARG, "prime_quality_add_group: label is not "
                            "valid UTF-8");
    uint32_t *img = prime__malloc(((size_t)(n < UINT32_MAX ? n : 1) + 1) * sizeof *img);
    if (img == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    uint64_t m = 0;
    for (uint64_t i = 0; i < n && n < UINT32_MAX; i++) {
        if (images[i] >= q->n_images) {
            prime__free(img);
            return prime__error(PRIME_E_INVALID_ARG, "prime_quality_add_group: image %u out "
                                "of range (%u images)", images[i], q->n_images);
        }
        if (class_id != PRIME_NONE && q->image_class[images[i]] != class_id) {
            prime__free(img);
            return prime__error(PRIME_E_INVALID_ARG, "prime_quality_add_group: image %u is "
                                "not of class %u", images[i], class_id);
        }
        img[m++] = images[i];
    }
    if (n >= UINT32_MAX) {
        prime__free(img);
        return prime__error(PRIME_E_INVALID_ARG, "prime_quality_add_group: too many images");
    }
    uint64_t u = prime__sort_unique_u32(img, (size_t)m);
    prime_status st = q_add(q, label, NULL, class_id, img, u, text, index_out);
    prime__free(img);
    return st;
}

/* Images of class `cls` (PRIME_NONE = all) carrying every tag of
 * want[0..nw) (sorted ascending), ascending, written to img (capacity
 * n_images). */
static uint64_t collect(const prime_quality *q, uint32_t cls, const uint32_t *want, uint32_t nw,
                        uint32_t *img)
{
    uint64_t first = 0, last = q->n_images, m = 0;
    if (cls != PRIME_NONE) {
        first = q->class_off[cls];
        last = q->class_off[cls + 1];
    }
    for (uint64_t j = first; j < last; j++) {
        uint32_t im = cls == PRIME_NONE ? (uint32_t)j : q->class_images[j];
        uint32_t w = 0;
        for (uint64_t k = q->tag_off[im]; k < q->tag_off[im + 1] && w < nw; k++) {
            uint32_t t = q->tag_ids[k];
            if (t == want[w])
                w++;
            else if (t > want[w])
                break;
        }
        if (w == nw)
            img[m++] = im;
    }
    prime__sort_u32(img, (size_t)m);
    return m;
}

/* One mode given by names, matched to the store by name. */
static prime_status add_named_mode(prime_quality *q, uint32_t *img, const char *label,
                                   const char *cls, uint32_t n_tags, const char *const *tags,
                                   const float *text)
{
    uint32_t want[PRIME_MAX_TAGS_LIMIT];
    uint32_t cid = prime__names_find(&q->class_names, cls, strlen(cls));
    bool whole = cid == PRIME_NONE && strcmp(cls, "(all)") == 0;
    if (cid == PRIME_NONE && !whole) /* class absent: an empty group */
        return q_add(q, label, cls, PRIME_NONE, NULL, 0, NULL, NULL);
    if (n_tags > PRIME_MAX_TAGS_LIMIT)
        return prime__error(PRIME_E_INVALID_ARG, "a mode of %u tags (at most %d)", n_tags,
                            PRIME_MAX_TAGS_LIMIT);
    for (uint32_t j = 0; j < n_tags; j++) {
        uint32_t t = prime__names_find(&q->tag_names, tags[j], strlen(tags[j]));
        if (t == PRIME_NONE) /* a tag the store does not know: an empty group */
            return q_add(q, label, NULL, cid, NULL, 0, NULL, NULL);
        want[j] = t;
    }
    prime__sort_u32(want, n_tags);
    uint64_t m = collect(q, cid, want, n_tags, img);
    return q_add(q, label, NULL, cid, img, m, text, NULL);
}

static prime_status check_texts(const prime_quality *q, const prime_embeddings *texts,
                                uint64_t modes)
{
    if (texts == NULL)
        return PRIME_OK;
    if (texts->rows != modes)
        return prime__error(PRIME_E_MISMATCH,
                            "text embeddings have %llu rows, the result has %llu modes",
                            (unsigned long long)texts->rows, (unsigned long long)modes);
    if (texts->dim != q->dim)
        return prime__error(PRIME_E_MISMATCH,
                            "text embeddings have dimension %u, image embeddings %u",
                            texts->dim, q->dim);
    return PRIME_OK;
}

/* Adds every mode, or none (the groups added are taken back on failure). */
static prime_status add_modes(prime_quality *q, const prime_embeddings *texts,
                              const prime_result *result)
{
    uint64_t nm = prime_result_mode_count(result);
    prime_status st = check_texts(q, texts, nm);
    if (st != PRIME_OK)
        return st;
    uint32_t *img = prime__malloc(((size_t)q->n_images + 1) * sizeof *img);
    if (img == NULL)
        return prime__error(PRIME_E_NOMEM, "out of memory");
    uint64_t before = q->n_groups;
    for (uint64_t i = 0; i < nm && st == PRIME_OK; i++) {
        const char *tags[PRIME_MAX_TAGS_LIMIT];
        uint32_t nt = 0;
        prime_result_mode_info(result, i, NULL, &nt, NULL, NULL, NULL, NULL, NULL);
        const char *cls = prime_result_mode_class_name(result, i);
        const char *desc = prime_result_mode_description(result, i);
        if (nt > PRIME_MAX_TAGS_LIMIT) {
            st = prime__error(PRIME_E_INVALID_ARG, "mode %llu has %u tags (at most %d)",
                              (unsigned long long)i, nt, PRIME_MAX_TAGS_LIMIT);
            break;
        }
        for (uint32_t j = 0; j < nt; j++)
            tags[j] = prime_result_mode_tag_name(result, i, j);
        st = add_named_mode(q, img, desc, cls, nt, tags,
                            texts != NULL ? texts->v + (size_t)i * texts->dim : NULL);
    }
    prime__free(img);
    if (st != PRIME_OK) {
        q->n_groups = before;
        q_rebuild_avg(q);
    }
    return st;
}

prime_status prime_quality_add_result(prime_quality *q, const prime_result *result,
                                      const prime_embeddings *texts)
{
    if (q == NULL || result == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_quality_add_result: NULL argument");
    return add_modes(q, texts, result);
}

prime_status prime_quality_add_result_file(prime_quality *q, const char *result_path,
                                           const prime_embeddings *texts)
{
    if (q == NULL || result_path == NULL)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_quality_add_result_file: NULL argument");
    prime_result *r = NULL;
    prime_status st = prime_result_load(result_path, &r);
    if (st == PRIME_OK)
        st = add_modes(q, texts, r);
    prime_result_destroy(r);
    return st;
}

/* ---- accessors ------------------------------------------------------------- */

uint64_t prime_quality_group_count(const prime_quality *q)
{
    return q != NULL ? q->n_groups : 0;
}

const char *prime_quality_group_label(const prime_quality *q, uint64_t i)
{
    return q != NULL && i < q->n_groups ? q_str(q, q->groups[i].label_off) : NULL;
}

const char *prime_quality_group_class_name(const prime_quality *q, uint64_t i)
{
    return q != NULL && i < q->n_groups ? q_str(q, q->groups[i].class_off) : NULL;
}

prime_status prime_quality_group_metrics(const prime_quality *q, uint64_t i, uint64_t *size_out,
                                         uint64_t *class_size_out, double *similarity_out,
                                         double *specificity_out, double *coherency_out)
{
    if (q == NULL || i >= q->n_groups)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_quality_group_metrics: group %llu out of range",
                            (unsigned long long)i);
    const qgroup *G = &q->groups[i];
    if (size_out)
        *size_out = G->size;
    if (class_size_out)
        *class_size_out = G->class_size;
    if (similarity_out)
        *similarity_out = G->sim;
    if (specificity_out)
        *specificity_out = G->spec;
    if (coherency_out)
        *coherency_out = G->coh;
    return PRIME_OK;
}

uint32_t prime_quality_class_count(const prime_quality *q)
{
    return q != NULL ? q->n_avg : 0;
}

const char *prime_quality_class_name(const prime_quality *q, uint32_t i)
{
    return q != NULL && i < q->n_avg ? q_str(q, q->avg[i].name_off) : NULL;
}

static void put_avg(const qclass *c, uint64_t *g, double *a, double *b, double *d)
{
    if (g)
        *g = c->groups;
    if (a)
        *a = c->sim;
    if (b)
        *b = c->spec;
    if (d)
        *d = c->coh;
}

prime_status prime_quality_class_metrics(const prime_quality *q, uint32_t i, uint64_t *groups_out,
                                         double *similarity_out, double *specificity_out,
                                         double *coherency_out)
{
    if (q == NULL || i >= q->n_avg)
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_quality_class_metrics: class %u out of range", i);
    put_avg(&q->avg[i], groups_out, similarity_out, specificity_out, coherency_out);
    return PRIME_OK;
}

prime_status prime_quality_overall(const prime_quality *q, uint64_t *groups_out,
                                   double *similarity_out, double *specificity_out,
                                   double *coherency_out)
{
    if (q == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_quality_overall: NULL argument");
    put_avg(&q->overall, groups_out, similarity_out, specificity_out, coherency_out);
    return PRIME_OK;
}

/* ---- rendering ------------------------------------------------------------- */

static void jnum(prime__buf *b, double v)
{
    if (isnan(v))
        prime__buf_puts(b, "null");
    else
        prime__buf_double(b, v);
}

static void jmetrics(prime__buf *b, double s, double p, double c)
{
    prime__buf_puts(b, ", \"similarity\": ");
    jnum(b, s);
    prime__buf_puts(b, ", \"specificity\": ");
    jnum(b, p);
    prime__buf_puts(b, ", \"coherency\": ");
    jnum(b, c);
    prime__buf_putc(b, '}');
}

static void render_json(const prime_quality *q, prime__buf *b)
{
    prime__buf_printf(b, "{\"images\": %u, \"dim\": %u,\n", q->n_images, q->dim);
    prime__buf_puts(b, "\"coherency_definition\": \"coh(group) - coh(class), coh(S) = "
                       "|mean of the unit-normalised image embeddings of S|\",\n");
    prime__buf_puts(b, "\"groups\": [");
    for (uint64_t i = 0; i < q->n_groups; i++) {
        const qgroup *G = &q->groups[i];
        prime__buf_puts(b, i ? ",\n  {\"label\": " : "\n  {\"label\": ");
        prime__buf_json_string(b, q_str(q, G->label_off));
        prime__buf_puts(b, ", \"class\": ");
        prime__buf_json_string(b, q_str(q, G->class_off));
        prime__buf_printf(b, ", \"size\": %llu, \"class_size\": %llu",
                          (unsigned long long)G->size, (unsigned long long)G->class_size);
        jmetrics(b, G->sim, G->spec, G->coh);
    }
    prime__buf_puts(b, q->n_groups ? "\n],\n\"classes\": [" : "],\n\"classes\": [");
    for (uint32_t i = 0; i < q->n_avg; i++) {
        prime__buf_puts(b, i ? ",\n  {\"class\": " : "\n  {\"class\": ");
        prime__buf_json_string(b, q_str(q, q->avg[i].name_off));
        prime__buf_printf(b, ", \"groups\": %llu", (unsigned long long)q->avg[i].groups);
        jmetrics(b, q->avg[i].sim, q->avg[i].spec, q->avg[i].coh);
    }
    prime__buf_puts(b, q->n_avg ? "\n],\n" : "],\n");
    prime__buf_printf(b, "\"overall\": {\"groups\": %llu",
                      (unsigned long long)q->overall.groups);
    jmetrics(b, q->overall.sim, q->overall.spec, q->overall.coh);
    prime__buf_puts(b, "}\n");
}

static void tnum(prime__buf *b, double v)
{
    if (isnan(v))
        prime__buf_printf(b, " %11s", "-");
    else
        prime__buf_printf(b, " %11.4f", v);
}

static void render_text(const prime_quality *q, prime__buf *b)
{
    prime__buf_printf(b, "description quality: %llu groups, %u images, dim %u\n",
                      (unsigned long long)q->n_groups, q->n_images, q->dim);
    prime__buf_printf(b, "%-8s %-8s %11s %11s %11s  %s\n", "size", "class_n", "similarity",
                      "specificity", "coherency", "class: description");
    for (uint64_t i = 0; i < q->n_groups; i++) {
        const qgroup *G = &q->groups[i];
        prime__buf_printf(b, "%-8llu %-8llu", (unsigned long long)G->size,
                          (unsigned long long)G->class_size);
        tnum(b, G->sim);
        tnum(b, G->spec);
        tnum(b, G->coh);
        prime__buf_printf(b, "  %s: %s\n", q_str(q, G->class_off), q_str(q, G->label_off));
    }
    prime__buf_puts(b, "averages:\n");
    for (uint32_t i = 0; i <= q->n_avg; i++) {
        const qclass *c = i < q->n_avg ? &q->avg[i] : &q->overall;
        prime__buf_printf(b, "%-8llu %-8s", (unsigned long long)c->groups, "groups");
        tnum(b, c->sim);
        tnum(b, c->spec);
        tnum(b, c->coh);
        prime__buf_printf(b, "  %s\n", i < q->n_avg ? q_str(q, c->name_off) : "(overall)");
    }
}

static prime_status render(const void *h, int32_t format, prime__buf *b)
{
    const prime_quality *q = h;
    if (q == NULL)
        return prime__error(PRIME_E_INVALID_ARG, "prime_quality_render: NULL argument");
    if (format == PRIME_FORMAT_JSON)
        render_json(q, b);
    else if (format == PRIME_FORMAT_TEXT)
        render_text(q, b);
    else
        return prime__error(PRIME_E_INVALID_ARG,
                            "prime_quality_render: format %d (need JSON or text)", format);
    return PRIME_OK;
}

prime_status prime_quality_render(const prime_quality *q, int32_t format, char *buf, size_t cap,
                                  size_t *needed_out)
{
    return prime__render_deliver(render, q, format, "quality evaluation", buf, cap, needed_out);
}

prime_status prime_quality_write(const prime_quality *q, int32_t format, const char *path)
{
    return prime__render_write(render, q, format, "quality evaluation", path);
}
