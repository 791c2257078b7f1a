/* libprime._pack: the optional compiled packer of the Python package
 * (issue 13). It turns Python columns (lists, tuples and 1-D NumPy object
 * arrays, a pandas column's included, of str, None and int, of tag lists;
 * 1-D NumPy str arrays of names; lists of records) into the NUL-separated
 * buffers that prime_tagstore_add_packed reads, or dictionary-codes them
 * for prime_tagstore_add_coded, with the C API and no intermediate Python
 * objects, so that building a store from Python costs the C call plus one
 * pass over the objects.
 *
 * It is a packer only: the library parses and validates the buffers. Each
 * function either returns exactly the bytes that the pure-Python packer
 * (libprime/_core.py: _pack, _pack_tags) makes from the same input, or None
 * when the input is anything but the plain case (another type, a lone
 * surrogate, an int out of range, too many tag names): the package then
 * runs the pure-Python packer, which gives the precise TypeError /
 * ValueError / LimitError with the position. Only MemoryError is raised
 * here. The package works without this module (ctypes only), just slower.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
/* (_PyBytes_Resize: CPython's API, not the limited one; in every 3.x) */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The output: a bytes object written in place and grown (and finally
 * shrunk) with _PyBytes_Resize, which for a large buffer moves pages
 * rather than bytes: the text is written once, into memory touched once
 * (on a loaded machine the page faults of a second copy cost as much as
 * the rest of the packing). */
typedef struct {
    PyObject *obj;
    char *p;
    size_t n, cap;
} obuf;

static int ob_init(obuf *b, size_t cap)
{
    if (cap < 64)
        cap = 64;
    if (cap > (size_t)PY_SSIZE_T_MAX / 2)
        cap = (size_t)PY_SSIZE_T_MAX / 2;
    b->obj = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    if (b->obj == NULL)
        return -1;
    b->p = PyBytes_AS_STRING(b->obj);
    b->n = 0;
    b->cap = cap;
    return 0;
}

/* Room for k more bytes: the one place the output grows (by half, or to
 * what is needed). */
static inline int ob_room(obuf *b, size_t k)
{
    if (b->cap - b->n >= k)
        return 0;
    size_t cap = b->cap + b->cap / 2;
    if (cap < b->n + k)
        cap = b->n + k;
    if (cap > (size_t)PY_SSIZE_T_MAX - 64) {
        PyErr_NoMemory();
        return -1;
    }
    if (_PyBytes_Resize(&b->obj, (Py_ssize_t)cap) < 0) /* frees it on failure */
        return -1;
    b->p = PyBytes_AS_STRING(b->obj);
    b->cap = cap;
    return 0;
}

static inline int ob_put(obuf *b, const char *s, size_t k)
{
    if (ob_room(b, k + 1) < 0)
        return -1;
    memcpy(b->p + b->n, s, k);
    b->n += k;
    return 0;
}

/* A NUL before every field but the first. */
static inline int ob_sep(obuf *b, Py_ssize_t i)
{
    if (i == 0)
        return 0;
    if (ob_room(b, 1) < 0)
        return -1;
    b->p[b->n++] = '\0';
    return 0;
}

/* The bytes written (the reference passes to the caller). */
static PyObject *ob_bytes(obuf *b)
{
    PyObject *r = b->obj;
    b->obj = NULL;
    if (_PyBytes_Resize(&r, (Py_ssize_t)b->n) < 0)
        return NULL;
    return r;
}

static void ob_drop(obuf *b)
{
    Py_CLEAR(b->obj);
}

/* The packers read the objects in order but they lie anywhere in memory:
 * each is fetched a few entries ahead so that the cache misses overlap
 * (half of the time of packing 2.5 M tag names without it). */
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* The header of object items[i] and the start of its text (i < n). */
static inline void prefetch_item(PyObject *const *items, Py_ssize_t i, Py_ssize_t n)
{
    if (i < n) {
        const char *o = (const char *)items[i];
        PREFETCH(o);
        PREFETCH(o + 56);
    }
}

/* For the tags column: the list or tuple values[i] (i + 8), its item
 * array (i + 4), its items (i + 2). */
static inline void prefetch_tags(PyObject *const *values, Py_ssize_t i, Py_ssize_t n)
{
    if (i + 8 < n)
        PREFETCH(values[i + 8]);
    if (i + 4 < n) {
        PyObject *o = values[i + 4];
        if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
            PyObject **it = PySequence_Fast_ITEMS(o);
            PREFETCH(it);
            PREFETCH((const char *)it + 64);
        }
    }
    if (i + 2 < n) {
        PyObject *o = values[i + 2];
        if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
            Py_ssize_t m = PySequence_Fast_GET_SIZE(o);
            for (Py_ssize_t j = 0; j < m; j++)
                prefetch_item(PySequence_Fast_ITEMS(o), j, m);
        } else {
            prefetch_item(values, i + 2, n);
        }
    }
}

/* Length of a str in bytes of UTF-8 if known without encoding it (ASCII),
 * else its length in code points (an estimate). */
static inline size_t est_len(PyObject *o)
{
    return PyUnicode_CheckExact(o) ? (size_t)PyUnicode_GET_LENGTH(o) : 0;
}

/* The size of n fields estimated from the first few (each + 1 for its
 * NUL), with a margin: the buffer rarely grows. */
static size_t estimate(PyObject *const *items, Py_ssize_t n)
{
    Py_ssize_t m = n < 256 ? n : 256;
    size_t sum = 0;
    for (Py_ssize_t i = 0; i < m; i++)
        sum += est_len(items[i]) + 1;
    if (m == 0)
        return 0;
    return (size_t)((double)sum / (double)m * (double)n * 1.1) + 64;
}

/* Bytes for the tag references of n images (4 each) estimated from the
 * first few (lists: their length; "a|b" text: its bars + 1), with a
 * margin: the buffer rarely grows. */
static size_t estimate_refs(PyObject *const *values, Py_ssize_t n)
{
    size_t refs = 0;
    Py_ssize_t few = n < 256 ? n : 256;
    for (Py_ssize_t i = 0; i < few; i++) {
        PyObject *o = values[i];
        if (PyList_CheckExact(o) || PyTuple_CheckExact(o))
            refs += (size_t)PySequence_Fast_GET_SIZE(o);
        else if (PyUnicode_CheckExact(o))
            refs += (size_t)PyUnicode_GET_LENGTH(o) / 8 + 1;
    }
    return few > 0 ? (size_t)((double)refs / (double)few * (double)n * 1.1) * 4 + 64 : 64;
}

/* The UTF-8 text of a str: 1 and *s, *k on success; 0 when it cannot be
 * encoded (a lone surrogate: the error is cleared, the caller gives up). */
static inline int utf8_of(PyObject *o, const char **s, Py_ssize_t *k)
{
    if (PyUnicode_IS_COMPACT_ASCII(o)) {
        *s = (const char *)PyUnicode_DATA(o);
        *k = PyUnicode_GET_LENGTH(o);
        return 1;
    }
    *s = PyUnicode_AsUTF8AndSize(o, k);
    if (*s == NULL) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* A column's items: a list's or tuple's, or those of a 1-D C-contiguous
 * buffer of object pointers (a NumPy object array; a pandas column's
 * to_numpy()), held while in use. No Python code runs while the packers
 * read them, so they cannot change. Where the caller allows it (text_ok),
 * also a 1-D C-contiguous buffer of fixed-width UCS4 text (a NumPy str
 * array, dtype <U): then ucs4 is its text, `width` code points an item,
 * and items is NULL (no str object is made: tolist() of 200 k names costs
 * a quarter of the CSV reader's time). */
typedef struct {
    PyObject **items;
    Py_ssize_t n;
    const uint32_t *ucs4;
    Py_ssize_t width;
    Py_buffer view;
    int held;
} column;

/* A buffer format of native UCS4 text: "w", "Nw", "<Nw", "=Nw" or "@Nw"
 * (NumPy's <U arrays; little-endian "<" only where that is native). */
static int ucs4_format(const char *f)
{
    if (*f == '@' || *f == '=')
        f++;
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    else if (*f == '<')
        return 0;
#else
    else if (*f == '<')
        f++;
#endif
    while (*f >= '0' && *f <= '9')
        f++;
    return f[0] == 'w' && f[1] == '\0';
}

/* 1: c is open; 0: not a column the packers read (nothing held); -1: error. */
static int column_open(PyObject *o, column *c, int text_ok)
{
    c->held = 0;
    c->ucs4 = NULL;
    c->width = 0;
    if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
        c->items = PySequence_Fast_ITEMS(o);
        c->n = PySequence_Fast_GET_SIZE(o);
        return 1;
    }
    if (!PyObject_CheckBuffer(o))
        return 0;
    if (PyObject_GetBuffer(o, &c->view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Clear();
        return 0;
    }
    c->held = 1;
    if (text_ok && c->view.ndim == 1 && c->view.format != NULL && ucs4_format(c->view.format) &&
        c->view.itemsize > 0 && c->view.itemsize % 4 == 0 &&
        (uintptr_t)c->view.buf % sizeof(uint32_t) == 0) {
        c->items = NULL;
        c->ucs4 = (const uint32_t *)c->view.buf;
        c->width = c->view.itemsize / 4;
        c->n = c->view.len / c->view.itemsize;
        return 1;
    }
    if (c->view.ndim != 1 || c->view.format == NULL || strcmp(c->view.format, "O") != 0 ||
        c->view.itemsize != (Py_ssize_t)sizeof(PyObject *)) {
        PyBuffer_Release(&c->view);
        c->held = 0;
        return 0;
    }
    c->items = (PyObject **)c->view.buf;
    c->n = c->view.len / (Py_ssize_t)sizeof(PyObject *);
    for (Py_ssize_t i = 0; i < c->n; i++)
        if (c->items[i] == NULL) { /* not filled in: leave it to Python */
            PyBuffer_Release(&c->view);
            c->held = 0;
            return 0;
        }
    return 1;
}

static void column_close(column *c)
{
    if (c->held)
        PyBuffer_Release(&c->view);
    c->held = 0;
}

/* column_open for the module's functions (text_ok: as there): 1 when c is
 * open; else 0 and
 * *answer is what the caller returns (None: not a column the packers read;
 * NULL: an exception is set). */
static int open_column(PyObject *values, column *c, PyObject **answer, int text_ok)
{
    int st = column_open(values, c, text_ok);
    *answer = NULL;
    if (st > 0)
        return 1;
    if (st == 0) {
        Py_INCREF(Py_None);
        *answer = Py_None;
    }
    return 0;
}

/* A missing value of a DataFrame column (missing = 1): None or a float NaN
 * (NumPy's float64 included), as the pure path's _isna. */
static inline int is_missing(PyObject *o, int missing)
{
    return o == Py_None || (missing && PyFloat_Check(o) && isnan(PyFloat_AS_DOUBLE(o)));
}

enum { KIND_IMAGE = 0, KIND_CLASS = 1, KIND_TEXT = 2 };

/* The fields of items[0..n) joined with NUL bytes (see pack_column), or
 * None (Py_None, a new reference) to leave them to Python. */
static PyObject *join_fields(PyObject *const *items, Py_ssize_t n, int kind, int missing)
{
    obuf b;
    if (ob_init(&b, estimate(items, n)) < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = items[i];
        prefetch_item(items, i + 16, n);
        if (ob_sep(&b, i) < 0)
            goto fail;
        if (PyUnicode_CheckExact(o)) {
            const char *s;
            Py_ssize_t k;
            if (!utf8_of(o, &s, &k))
                goto fallback;
            if (ob_put(&b, s, (size_t)k) < 0)
                goto fail;
        } else if (kind != KIND_CLASS && is_missing(o, missing)) {
            /* an empty field */
        } else if (kind == KIND_CLASS && PyLong_CheckExact(o)) {
            int overflow = 0;
            long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
            if (overflow != 0 || (v == -1 && PyErr_Occurred())) {
                PyErr_Clear();
                goto fallback;
            }
            char num[32];
            int k = snprintf(num, sizeof num, "%lld", v);
            if (ob_put(&b, num, (size_t)k) < 0)
                goto fail;
        } else {
            goto fallback;
        }
    }
    return ob_bytes(&b);
fallback:
    ob_drop(&b);
    Py_RETURN_NONE;
fail:
    ob_drop(&b);
    return NULL;
}

/* The UTF-8 text of UCS4 text u[0..w) less its trailing NULs (the str
 * that NumPy makes of an item of a <U array) written to out (room for
 * 4 * w bytes): its length in bytes, or -1 for text that the str packers
 * would not take as it is (a NUL inside, a surrogate, beyond U+10FFFF: the
 * pure path then reports it as before). */
static Py_ssize_t ucs4_utf8(const uint32_t *u, Py_ssize_t w, char *out)
{
    while (w > 0 && u[w - 1] == 0)
        w--;
    unsigned char *p = (unsigned char *)out;
    for (Py_ssize_t i = 0; i < w; i++) {
        uint32_t ch = u[i];
        if (ch - 1 < 0x7f) {
            *p++ = (unsigned char)ch;
        } else if (ch == 0) {
            return -1;
        } else if (ch < 0x800) {
            *p++ = (unsigned char)(0xC0 | ch >> 6);
            *p++ = (unsigned char)(0x80 | (ch & 0x3F));
        } else if (ch < 0x10000) {
            if (ch >= 0xD800 && ch < 0xE000)
                return -1;
            *p++ = (unsigned char)(0xE0 | ch >> 12);
            *p++ = (unsigned char)(0x80 | ((ch >> 6) & 0x3F));
            *p++ = (unsigned char)(0x80 | (ch & 0x3F));
        } else if (ch < 0x110000) {
            *p++ = (unsigned char)(0xF0 | ch >> 18);
            *p++ = (unsigned char)(0x80 | ((ch >> 12) & 0x3F));
            *p++ = (unsigned char)(0x80 | ((ch >> 6) & 0x3F));
            *p++ = (unsigned char)(0x80 | (ch & 0x3F));
        } else {
            return -1;
        }
    }
    return (Py_ssize_t)(p - (unsigned char *)out);
}

/* join_fields of a UCS4 text column (as its items' str would give). */
static PyObject *join_ucs4(const column *c)
{
    obuf b;
    if (ob_init(&b, (size_t)c->n * (size_t)(c->width < 63 ? c->width + 1 : 64) + 64) < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < c->n; i++) {
        if (ob_sep(&b, i) < 0 || ob_room(&b, (size_t)c->width * 4 + 1) < 0)
            goto fail;
        Py_ssize_t k = ucs4_utf8(c->ucs4 + i * c->width, c->width, b.p + b.n);
        if (k < 0) {
            ob_drop(&b);
            Py_RETURN_NONE;
        }
        b.n += (size_t)k;
    }
    return ob_bytes(&b);
fail:
    ob_drop(&b);
    return NULL;
}

/* pack_column(values, kind, missing=False) -> bytes | None
 * values: a list, a tuple or a 1-D NumPy object array; for kinds 0 and 1
 * also a 1-D NumPy str array (<U). kind 0 (image
 * names): str, or None for an unnamed image; 1 (class names): str, or an
 * int (not a bool) written in decimal; 2 ("a|b" tag text): str, or None
 * for no tag. missing: a float NaN counts as None too (kinds 0 and 2; a
 * DataFrame's missing value). The fields joined with NUL bytes, as UTF-8. */
static PyObject *pack_column(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *values;
    int kind, missing = 0;
    if (!PyArg_ParseTuple(args, "Oi|p:pack_column", &values, &kind, &missing))
        return NULL;
    column c;
    PyObject *r;
    if (!open_column(values, &c, &r, kind != KIND_TEXT))
        return r;
    r = c.ucs4 != NULL ? join_ucs4(&c) : join_fields(c.items, c.n, kind, missing);
    column_close(&c);
    return r;
}

/* The tags column as names and counts (see pack_tags), or None. */
static PyObject *join_tag_lists(PyObject *const *values, Py_ssize_t n,
                                unsigned long long limit, int missing)
{
    /* the size from the first few images: their names (in lists) or text */
    size_t est = 0;
    Py_ssize_t few = n < 256 ? n : 256;
    for (Py_ssize_t i = 0; i < few; i++) {
        PyObject *o = values[i];
        if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
            Py_ssize_t k = PySequence_Fast_GET_SIZE(o);
            for (Py_ssize_t j = 0; j < k; j++)
                est += est_len(PySequence_Fast_GET_ITEM(o, j)) + 1;
        } else if (PyUnicode_CheckExact(o)) {
            est += est_len(o) + 1;
        }
    }
    if (few > 0)
        est = (size_t)((double)est / (double)few * (double)n * 1.1);
    obuf b;
    if (ob_init(&b, est) < 0)
        return NULL;
    PyObject *counts = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(uint32_t));
    if (counts == NULL) {
        ob_drop(&b);
        return NULL;
    }
    uint32_t *cnt = (uint32_t *)PyBytes_AS_STRING(counts);
    unsigned long long total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = values[i];
        unsigned long long c = 0;
        prefetch_tags(values, i, n);
        if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
            Py_ssize_t m = PySequence_Fast_GET_SIZE(o);
            PyObject **it = PySequence_Fast_ITEMS(o);
            for (Py_ssize_t j = 0; j < m; j++) {
                PyObject *t = it[j];
                const char *s;
                Py_ssize_t k;
                if (!PyUnicode_CheckExact(t) || !utf8_of(t, &s, &k))
                    goto fallback;
                if (ob_sep(&b, (Py_ssize_t)(total + c)) < 0 || ob_put(&b, s, (size_t)k) < 0)
                    goto fail;
                c++;
            }
        } else if (PyUnicode_CheckExact(o)) {
            const char *s;
            Py_ssize_t k;
            if (!utf8_of(o, &s, &k))
                goto fallback;
            const char *end = s + k;
            while (s < end) {
                const char *bar = memchr(s, '|', (size_t)(end - s));
                const char *e = bar != NULL ? bar : end;
                if (e > s) {
                    if (ob_sep(&b, (Py_ssize_t)(total + c)) < 0 ||
                        ob_put(&b, s, (size_t)(e - s)) < 0)
                        goto fail;
                    c++;
                }
                s = e + 1;
            }
        } else if (!is_missing(o, missing)) {
            goto fallback;
        }
        total += c;
        if (c > UINT32_MAX || total >= limit)
            goto fallback;
        cnt[i] = (uint32_t)c;
    }
    {
        PyObject *buf = ob_bytes(&b);
        if (buf == NULL) {
            Py_DECREF(counts);
            return NULL;
        }
        return Py_BuildValue("(NN)", buf, counts);
    }
fallback:
    ob_drop(&b);
    Py_DECREF(counts);
    Py_RETURN_NONE;
fail:
    ob_drop(&b);
    Py_DECREF(counts);
    return NULL;
}

/* Every entry of the tags column c a str ("a|b") or missing. */
static int text_column(const column *c, int missing)
{
    for (Py_ssize_t i = 0; i < c->n; i++)
        if (!PyUnicode_CheckExact(c->items[i]) && !is_missing(c->items[i], missing))
            return 0;
    return 1;
}

/* pack_tags(values, limit, missing=False) -> (bytes, counts | None) | None
 * The tags column (a list, a tuple or a 1-D NumPy object array). Every
 * entry a str ("a|b") or None: the entries joined with NUL bytes ("" for
 * None), counts None. Otherwise every entry a list or tuple of str, a str
 * (split at '|', empty names skipped) or None (no tag): all the names
 * joined with NUL bytes, counts the per-image number of names as native
 * uint32 (array('I') bytes). missing: a float NaN counts as None too. None
 * for anything else, or for limit or more names in all. */
static PyObject *pack_tags_of(const column *c, unsigned long long limit, int missing)
{
    if (!text_column(c, missing))
        return join_tag_lists(c->items, c->n, limit, missing);
    PyObject *buf = join_fields(c->items, c->n, KIND_TEXT, missing);
    return buf == NULL || buf == Py_None ? buf : Py_BuildValue("(NO)", buf, Py_None);
}

/* The functions of a tags column, f(values, limit, missing=False), with
 * their argument format: the column opened and handed to of (None for a
 * column the packers do not read). */
static PyObject *tags_entry(PyObject *args, const char *format,
                            PyObject *(*of)(const column *, unsigned long long, int))
{
    PyObject *values;
    unsigned long long limit;
    int missing = 0;
    if (!PyArg_ParseTuple(args, format, &values, &limit, &missing))
        return NULL;
    column c;
    PyObject *r;
    if (!open_column(values, &c, &r, 0))
        return r;
    r = of(&c, limit, missing);
    column_close(&c);
    return r;
}

static PyObject *pack_tags(PyObject *self, PyObject *args)
{
    (void)self;
    return tags_entry(args, "OK|p:pack_tags", pack_tags_of);
}

/* split_records(records) -> (images, classes, tags) | None
 * The three columns of a list or tuple of records, as new lists: every
 * record a tuple or list of 3 (image, class, tags), or every record a dict
 * with the key "class" (images: .get("image"), tags: .get("tags")). None
 * for anything else. */
static PyObject *split_records(PyObject *self, PyObject *recs)
{
    (void)self;
    static PyObject *k_image, *k_class, *k_tags;
    if (k_image == NULL) {
        k_image = PyUnicode_InternFromString("image");
        k_class = PyUnicode_InternFromString("class");
        k_tags = PyUnicode_InternFromString("tags");
        if (k_image == NULL || k_class == NULL || k_tags == NULL)
            return NULL;
    }
    if (!PyList_CheckExact(recs) && !PyTuple_CheckExact(recs))
        Py_RETURN_NONE;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(recs);
    int dicts = n > 0 && PyDict_CheckExact(PySequence_Fast_GET_ITEM(recs, 0));
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *r = PySequence_Fast_GET_ITEM(recs, i);
        if (dicts ? !PyDict_CheckExact(r)
                  : !((PyTuple_CheckExact(r) || PyList_CheckExact(r)) &&
                      PySequence_Fast_GET_SIZE(r) == 3))
            Py_RETURN_NONE;
    }
    PyObject *cols[3] = {PyList_New(n), PyList_New(n), PyList_New(n)};
    if (cols[0] == NULL || cols[1] == NULL || cols[2] == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        /* a dict lookup may run a key's __eq__, which may change the
           records: the record is held, each value is stored (and held by
           its column) as soon as it is found, and the length is checked */
        if (PySequence_Fast_GET_SIZE(recs) != n)
            goto changed;
        PyObject *r = PySequence_Fast_GET_ITEM(recs, i);
        if (!dicts) {
            for (int c = 0; c < 3; c++) {
                PyObject *x = PySequence_Fast_GET_ITEM(r, c);
                Py_INCREF(x);
                PyList_SET_ITEM(cols[c], i, x);
            }
            continue;
        }
        if (!PyDict_CheckExact(r))
            goto changed;
        Py_INCREF(r);
        static const int order[3] = {1, 0, 2}; /* "class" first: it must be there */
        for (int q = 0; q < 3; q++) {
            int c = order[q];
            PyObject *x = PyDict_GetItemWithError(r, c == 0 ? k_image : c == 1 ? k_class : k_tags);
            if (x == NULL) {
                if (PyErr_Occurred()) {
                    Py_DECREF(r);
                    goto fail;
                }
                if (c == 1) { /* the pure path raises its KeyError */
                    Py_DECREF(r);
                    goto changed;
                }
                x = Py_None;
            }
            Py_INCREF(x);
            PyList_SET_ITEM(cols[c], i, x);
        }
        Py_DECREF(r);
    }
    return Py_BuildValue("(NNN)", cols[0], cols[1], cols[2]);
changed:
    Py_DECREF(cols[0]);
    Py_DECREF(cols[1]);
    Py_DECREF(cols[2]);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(cols[0]);
    Py_XDECREF(cols[1]);
    Py_XDECREF(cols[2]);
    return NULL;
}

/* ---- dictionary-coded columns (prime_tagstore_add_coded) ------------------ */

/* The distinct names of a column in the order of their first use, joined
 * with NUL bytes, and an open-addressing index from their text to their
 * number. A name of up to 16 bytes is its slot's key as it is (length and
 * two words: compared without reading the names); a longer one is found
 * by a hash and its offset in the text (the buffer moves as it grows).
 * In front of the index, while it finds most, a direct-mapped cache keyed
 * by the object: the tag names of real data are often the same str
 * objects again and again, found there without reading them (no Python
 * code runs while the packer reads the column, so no object it holds is
 * freed or changed). */
typedef struct {
    uint64_t a, b; /* short: the words; long: the hash and the offset */
    uint32_t len;  /* 0: an empty slot */
    uint32_t num;
} dslot;

typedef struct {
    PyObject *o;
    uint32_t num;
} pslot;

#define PCACHE_BITS 12
#define PCACHE_TRIAL 65536 /* objects looked up before the cache must earn its keep */

typedef struct {
    obuf names;
    uint32_t count;
    dslot *slots;
    size_t mask;
    unsigned shift; /* 64 - log2(slots) */
    pslot *ptr;     /* 1 << PCACHE_BITS, or NULL: not worth it */
    size_t looked, hits;
} dict_t;

/* 0, or -1 (an exception); either way dict_free may be called. */
static int dict_init(dict_t *d, size_t est_bytes)
{
    d->count = 0;
    d->mask = 1023;
    d->shift = 54;
    d->looked = d->hits = 0;
    d->names.obj = NULL;
    d->slots = PyMem_Calloc(d->mask + 1, sizeof *d->slots);
    d->ptr = PyMem_Calloc((size_t)1 << PCACHE_BITS, sizeof *d->ptr);
    if (d->slots == NULL || d->ptr == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return ob_init(&d->names, est_bytes);
}

static void dict_free(dict_t *d)
{
    PyMem_Free(d->slots);
    PyMem_Free(d->ptr);
    d->slots = NULL;
    d->ptr = NULL;
    ob_drop(&d->names);
}

/* The key words of name s[0..k): the bytes themselves for k <= 16 (the
 * first 8 and the next 8, zero-padded), else a hash (8 bytes at a time)
 * and 0 (the offset goes there). The names are short (their lengths
 * vary: a branch on them mispredicts), so a short one is one 16-byte load
 * and a mask when the load stays within s's page (then every byte it
 * reads is mapped; those after s[k - 1] are masked off). */
#if defined(__GNUC__)
__attribute__((no_sanitize_address))
#endif
static inline void text_key(const char *s, size_t k, uint64_t *a, uint64_t *b)
{
    if (k <= 16) {
#if defined(__SSE2__)
        if (((uintptr_t)s & 4095) <= 4096 - 16) {
            const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                               14, 15);
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
            v = _mm_and_si128(v, _mm_cmpgt_epi8(_mm_set1_epi8((char)k), iota));
            *a = (uint64_t)_mm_cvtsi128_si64(v);
            *b = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v));
            return;
        }
#endif
        unsigned char w[16] = {0};
        memcpy(w, s, k);
        memcpy(a, w, 8);
        memcpy(b, w + 8, 8);
        return;
    }
    uint64_t h = (uint64_t)k * 0x9E3779B97F4A7C15ull;
    for (; k >= 8; s += 8, k -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    if (k > 0) {
        uint64_t w = 0;
        memcpy(&w, s, k);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    }
    *a = h;
    *b = 0;
}

/* Slot of a key: one multiply, the high bits. */
static inline size_t key_slot(uint64_t a, uint64_t b, size_t k, unsigned shift)
{
    return (size_t)(((a + (b << 5) + (b >> 11) + k) * 0x9E3779B97F4A7C15ull) >> shift);
}

/* Name s[0..k) with key a, b added at the empty slot j: its number in
 * *num; 1, or 0 (too many names: give up), or -1 (an exception). */
static int dict_add(dict_t *d, const char *s, size_t k, uint64_t a, uint64_t b, size_t j,
                    uint32_t *num)
{
    if (d->count >= UINT32_MAX - 1)
        return 0;
    if (ob_sep(&d->names, d->count) < 0)
        return -1;
    size_t off = d->names.n;
    if (ob_put(&d->names, s, k) < 0)
        return -1;
    /* an empty name (k = 0) is not indexed: it is an error for the
       library, and it stays the only one of its kind (a new number each
       time does no harm) */
    if (k > 0)
        d->slots[j] = (dslot){a, k <= 16 ? b : (uint64_t)off, (uint32_t)k, d->count};
    *num = d->count++;
    if ((size_t)d->count * 4 > d->mask) { /* a quarter full: twice the slots */
        size_t mask = d->mask * 2 + 1;
        unsigned shift = d->shift - 1;
        dslot *ns = PyMem_Calloc(mask + 1, sizeof *ns);
        if (ns == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (size_t q = 0; q <= d->mask; q++) {
            const dslot *e = &d->slots[q];
            if (e->len == 0)
                continue;
            size_t t = key_slot(e->a, e->len <= 16 ? e->b : 0, e->len, shift);
            while (ns[t].len != 0)
                t = (t + 1) & mask;
            ns[t] = *e;
        }
        PyMem_Free(d->slots);
        d->slots = ns;
        d->mask = mask;
        d->shift = shift;
    }
    return 1;
}

/* Number of name s[0..k) (k > 0; key a, b, probed from slot j), added if
 * new (as dict_add). */
static inline int dict_key(dict_t *d, const char *s, size_t k, uint64_t a, uint64_t b,
                           size_t j, uint32_t *num)
{
    const dslot *slots = d->slots;
    const size_t mask = d->mask;
    for (;; j = (j + 1) & mask) {
        const dslot *e = &slots[j];
        if (e->a == a && e->len == k &&
            (k <= 16 ? e->b == b : memcmp(d->names.p + e->b, s, k) == 0)) {
            *num = e->num;
            return 1;
        }
        if (e->len == 0)
            return dict_add(d, s, k, a, b, j, num);
    }
}

/* dict_key from the key of s[0..k). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int dict_text(dict_t *d, const char *s, size_t k, uint32_t *num)
{
    if (k - 1 >= UINT32_MAX - 1) /* an empty name is not indexed (see dict_add) */
        return k == 0 ? dict_add(d, s, 0, 0, 0, 0, num) : 0;
    uint64_t a, b;
    text_key(s, k, &a, &b);
    return dict_key(d, s, k, a, b, key_slot(a, b, k, d->shift), num);
}

/* The object cache's slot of o, or NULL once the cache is off: after
 * PCACHE_TRIAL look-ups it stays on only if it found at least half. */
static inline pslot *dict_ptr_slot(dict_t *d, PyObject *o)
{
    if (d->ptr == NULL)
        return NULL;
    if (++d->looked == PCACHE_TRIAL && d->hits < PCACHE_TRIAL / 2) {
        PyMem_Free(d->ptr);
        d->ptr = NULL;
        return NULL;
    }
    uint64_t h = (uint64_t)(uintptr_t)o * 0x9E3779B97F4A7C15ull;
    return &d->ptr[h >> (64 - PCACHE_BITS)];
}

/* Number of the name of str o (as dict_text; 0 also for a str that is not
 * UTF-8 encodable). */
static inline int dict_str(dict_t *d, PyObject *o, uint32_t *num)
{
    pslot *c = dict_ptr_slot(d, o);
    if (c != NULL && c->o == o) {
        d->hits++;
        *num = c->num;
        return 1;
    }
    const char *s;
    Py_ssize_t k;
    if (!utf8_of(o, &s, &k))
        return 0;
    int r = dict_text(d, s, (size_t)k, num);
    if (r == 1 && c != NULL) {
        c->o = o;
        c->num = *num;
    }
    return r;
}

/* Bit k set when p[k] == '|', for the 64 bytes at p (fewer when `lim`, the
 * end of the readable bytes, comes first; the missing bytes read as 0).
 * The same as pipe_mask in lib/store/tag_cache.h, which the tags CSV
 * reader uses: a copy, because the package also builds alone, for a
 * libprime installed on the system (python/meson.build, `pip install
 * ./python`), where the library's private headers are not there; mend
 * both together. */
static inline uint64_t pipe_mask(const char *p, const char *lim)
{
    char tail[64];
    if ((size_t)(lim - p) < 64) {
        memset(tail, 0, sizeof tail);
        memcpy(tail, p, (size_t)(lim - p));
        p = tail;
    }
#if defined(__SSE2__)
    const __m128i pipe = _mm_set1_epi8('|');
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pipe)) << (16 * k);
    }
    return m;
#else
    uint64_t m = 0;
    for (int k = 0; k < 64; k++)
        m |= (uint64_t)(p[k] == '|') << k;
    return m;
#endif
}

/* Numbers of the names of "a|b" text t[0..k) (empty names skipped) in
 * out[0..), their count in *m; as dict_text. The bars are found 64 bytes
 * at a time (a memchr call per name cost as much as its look-up). */
static int dict_bars(dict_t *d, const char *t, size_t k, uint32_t *out, size_t *m)
{
    size_t start = 0, got = 0;
    for (size_t base = 0; base < k; base += 64) {
        for (uint64_t bars = pipe_mask(t + base, t + k); bars != 0; bars &= bars - 1) {
            size_t q = base + (size_t)__builtin_ctzll(bars);
            if (q > start) {
                int r = dict_text(d, t + start, q - start, &out[got++]);
                if (r != 1)
                    return r;
            }
            start = q + 1;
        }
    }
    if (k > start) {
        int r = dict_text(d, t + start, k - start, &out[got++]);
        if (r != 1)
            return r;
    }
    *m = got;
    return 1;
}

/* Numbers of the m names it[0..m) (a list's or a tuple's items), as
 * dict_str (the index of a few thousand names stays in the cache: no
 * batching of the look-ups pays), 0 also for an item that is not a str. */
static int dict_strs(dict_t *d, PyObject *const *it, size_t m, uint32_t *out)
{
    for (size_t j = 0; j < m; j++) {
        PyObject *o = it[j];
        if (!PyUnicode_CheckExact(o))
            return 0;
        int r = dict_str(d, o, &out[j]);
        if (r != 1)
            return r;
    }
    return 1;
}

/* code_classes(values) -> (names, n_names, index) | None
 * The class column (a list, a tuple or a 1-D NumPy object array of str,
 * and int that are not bool, written in decimal; or a 1-D NumPy str array)
 * dictionary-coded: its
 * distinct names joined with NUL bytes in the order of first use, their
 * number, and per image the number of its name (native uint32 bytes).
 * None for anything else. */
static PyObject *code_classes_of(const column *cp)
{
    const column c = *cp;
    PyObject *r = NULL;
    dict_t d;
    PyObject *index = NULL;
    char *text = NULL;
    if (dict_init(&d, 256) < 0)
        goto done;
    index = PyBytes_FromStringAndSize(NULL, c.n * (Py_ssize_t)sizeof(uint32_t));
    if (index == NULL)
        goto done;
    uint32_t *out = (uint32_t *)PyBytes_AS_STRING(index);
    if (c.ucs4 != NULL) { /* a str array: each item's UTF-8 text in turn */
        text = PyMem_Malloc((size_t)c.width * 4 + 16);
        if (text == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    int ok = 1;
    for (Py_ssize_t i = 0; i < c.n && ok == 1; i++) {
        if (text != NULL) {
            Py_ssize_t k = ucs4_utf8(c.ucs4 + i * c.width, c.width, text);
            ok = k < 0 ? 0 : dict_text(&d, text, (size_t)k, &out[i]);
            continue;
        }
        PyObject *o = c.items[i];
        prefetch_item(c.items, i + 16, c.n);
        if (PyUnicode_CheckExact(o)) {
            ok = dict_str(&d, o, &out[i]);
        } else if (PyLong_CheckExact(o)) {
            pslot *p = dict_ptr_slot(&d, o);
            if (p != NULL && p->o == o) {
                d.hits++;
                out[i] = p->num;
                continue;
            }
            int overflow = 0;
            long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
            if (overflow != 0 || (v == -1 && PyErr_Occurred())) {
                PyErr_Clear();
                ok = 0;
                break;
            }
            char num[32];
            int k = snprintf(num, sizeof num, "%lld", v);
            ok = dict_text(&d, num, (size_t)k, &out[i]);
            if (ok == 1 && p != NULL) {
                p->o = o;
                p->num = out[i];
            }
        } else {
            ok = 0;
        }
    }
    if (ok == 1) {
        PyObject *names = ob_bytes(&d.names);
        r = names == NULL ? NULL
                          : Py_BuildValue("(NIO)", names, (unsigned int)d.count, index);
    } else if (ok == 0) {
        Py_INCREF(Py_None);
        r = Py_None;
    }
done:
    PyMem_Free(text);
    Py_XDECREF(index);
    dict_free(&d);
    return r;
}

static PyObject *code_classes(PyObject *self, PyObject *values)
{
    (void)self;
    column c;
    PyObject *r;
    if (!open_column(values, &c, &r, 1))
        return r;
    r = code_classes_of(&c);
    column_close(&c);
    return r;
}

/* code_tags(values, limit, missing=False) -> (names, n_names, index, counts) | None
 * The tags column (a list, a tuple or a 1-D NumPy object array; entries as
 * pack_tags reads them: lists or tuples of str, "a|b" str, None, and NaN
 * when missing) dictionary-coded: the distinct tag names joined with NUL
 * bytes in the order of first use, their number, the number of each tag
 * reference in order and per image its count of references (both native
 * uint32 bytes). None for anything else and for limit or more
 * references. (A column of "a|b" text is coded too: split here and looked
 * up with the short names' keys it costs less than packing it as text for
 * prime_tagstore_add_packed to split.) */
static PyObject *code_tags_of(const column *cp, unsigned long long limit, int missing)
{
    const column c = *cp;
    PyObject *r = NULL;
    dict_t d;
    obuf idx = {NULL, NULL, 0, 0};
    PyObject *counts = NULL;
    int ok = -1;
    if (dict_init(&d, 4096) < 0 || ob_init(&idx, estimate_refs(c.items, c.n)) < 0)
        goto done;
    counts = PyBytes_FromStringAndSize(NULL, c.n * (Py_ssize_t)sizeof(uint32_t));
    if (counts == NULL)
        goto done;
    uint32_t *cnt = (uint32_t *)PyBytes_AS_STRING(counts);
    unsigned long long total = 0;
    ok = 1;
    for (Py_ssize_t i = 0; i < c.n && ok == 1; i++) {
        PyObject *o = c.items[i];
        size_t m = 0;
        prefetch_tags(c.items, i, c.n);
        if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
            m = (size_t)PySequence_Fast_GET_SIZE(o);
            PyObject **it = PySequence_Fast_ITEMS(o);
            if (m > UINT32_MAX) {
                ok = 0;
                break;
            }
            if (ob_room(&idx, m * sizeof(uint32_t)) < 0) {
                ok = -1;
                break;
            }
            uint32_t *out = (uint32_t *)(void *)(idx.p + idx.n);
            ok = dict_strs(&d, it, m, out);
        } else if (PyUnicode_CheckExact(o)) {
            const char *t;
            Py_ssize_t k;
            if (!utf8_of(o, &t, &k)) {
                ok = 0;
                break;
            }
            /* room for every name it may hold (one byte and a bar each) */
            if (ob_room(&idx, ((size_t)k / 2 + 1) * sizeof(uint32_t)) < 0) {
                ok = -1;
                break;
            }
            ok = dict_bars(&d, t, (size_t)k, (uint32_t *)(void *)(idx.p + idx.n), &m);
        } else if (!is_missing(o, missing)) {
            ok = 0;
        }
        total += m;
        if (ok == 1 && (m > UINT32_MAX || total >= limit))
            ok = 0;
        idx.n += m * sizeof(uint32_t);
        cnt[i] = (uint32_t)m;
    }
    if (ok == 1) {
        PyObject *names = ob_bytes(&d.names), *index = names != NULL ? ob_bytes(&idx) : NULL;
        r = index == NULL ? NULL
                          : Py_BuildValue("(NINO)", names, (unsigned int)d.count, index, counts);
        if (r == NULL && index == NULL)
            Py_XDECREF(names);
    } else if (ok == 0) {
        Py_INCREF(Py_None);
        r = Py_None;
    }
done:
    Py_XDECREF(counts);
    ob_drop(&idx);
    dict_free(&d);
    return r;
}

static PyObject *code_tags(PyObject *self, PyObject *args)
{
    (void)self;
    return tags_entry(args, "OK|p:code_tags", code_tags_of);
}

/* code_records(records, limit) -> (images, classes, tags) | None
 * A list or tuple of records coded in one go, without the three columns
 * as lists (split_records): every record a tuple or list of 3 (image,
 * class, tags), or every record a dict whose keys are all str with the key
 * "class" (images: "image", tags: "tags", None where absent). images: the
 * image column as pack_column(kind 0) packs it; classes: as code_classes
 * codes them; tags: as code_tags. None for anything else (then
 * split_records, or the pure path, with their errors). A dict is read by
 * walking its entries (PyDict_Next, its keys compared as str), not looked
 * up: no Python code runs (no key's __eq__ or __hash__), so the borrowed
 * items cannot change while they are coded. */
static PyObject *code_records(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *recs;
    unsigned long long limit;
    if (!PyArg_ParseTuple(args, "OK:code_records", &recs, &limit))
        return NULL;
    static const char *const key_text[3] = {"image", "class", "tags"};
    static PyObject *k_field[3];
    for (int q = 0; q < 3; q++)
        if (k_field[q] == NULL && (k_field[q] = PyUnicode_InternFromString(key_text[q])) == NULL)
            return NULL;
    if (!PyList_CheckExact(recs) && !PyTuple_CheckExact(recs))
        Py_RETURN_NONE;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(recs);
    if (n == 0)
        Py_RETURN_NONE;
    PyObject *const *rs = PySequence_Fast_ITEMS(recs);
    int dicts = PyDict_CheckExact(rs[0]);
    PyObject **cols = PyMem_Malloc(3 * (size_t)n * sizeof *cols);
    if (cols == NULL)
        return PyErr_NoMemory();
    PyObject **ims = cols, **cls = cols + n, **tgs = cols + 2 * n;
    int ok = 1;
    for (Py_ssize_t i = 0; i < n && ok; i++) {
        PyObject *r = rs[i];
        if (i + 16 < n)
            PREFETCH(rs[i + 16]);
        if (dicts && i + 8 < n && PyDict_CheckExact(rs[i + 8])) { /* its entries */
            const char *keys = (const char *)((PyDictObject *)rs[i + 8])->ma_keys;
            PREFETCH(keys);
            PREFETCH(keys + 64);
        }
        if (!dicts) {
            if (!(PyTuple_CheckExact(r) || PyList_CheckExact(r)) ||
                PySequence_Fast_GET_SIZE(r) != 3) {
                ok = 0;
                break;
            }
            PyObject *const *it = PySequence_Fast_ITEMS(r);
            ims[i] = it[0];
            cls[i] = it[1];
            tgs[i] = it[2];
            continue;
        }
        if (!PyDict_CheckExact(r)) {
            ok = 0;
            break;
        }
        PyObject *val[3] = {Py_None, NULL, Py_None}, *key, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(r, &pos, &key, &v)) {
            if (!PyUnicode_CheckExact(key)) {
                ok = 0;
                break;
            }
            /* the keys of dict displays are the interned names: the same
               objects; any other str is compared by its text */
            int q = key == k_field[0] ? 0 : key == k_field[1] ? 1 : key == k_field[2] ? 2 : -1;
            for (int t = 0; q < 0 && t < 3; t++)
                if (PyUnicode_GET_LENGTH(key) == (Py_ssize_t)strlen(key_text[t]) &&
                    PyUnicode_CompareWithASCIIString(key, key_text[t]) == 0)
                    q = t;
            if (q >= 0)
                val[q] = v;
        }
        if (val[1] == NULL) /* no "class": the pure path's KeyError */
            ok = 0;
        ims[i] = val[0];
        cls[i] = val[1];
        tgs[i] = val[2];
    }
    PyObject *out = NULL;
    int gc_was = 0;
    if (!ok) {
        Py_INCREF(Py_None);
        out = Py_None;
        goto done;
    }
    /* the coders make tuples, which may start the garbage collector, which
       may run finalizers (Python code) while the borrowed items are read:
       it waits */
    gc_was = PyGC_Disable();
    column cc = {cls, n, NULL, 0, {0}, 0}, ct = {tgs, n, NULL, 0, {0}, 0};
    PyObject *t = code_tags_of(&ct, limit, 0), *c, *im;
    if (t == NULL || t == Py_None) {
        out = t;
        goto done;
    }
    c = code_classes_of(&cc);
    if (c == NULL || c == Py_None) {
        Py_DECREF(t);
        out = c;
        goto done;
    }
    im = join_fields(ims, n, KIND_IMAGE, 0);
    if (im != NULL && im != Py_None) {
        out = PyTuple_Pack(3, im, c, t);
        Py_DECREF(im);
    } else {
        out = im;
    }
    Py_DECREF(c);
    Py_DECREF(t);
done:
    if (gc_was)
        PyGC_Enable();
    PyMem_Free(cols);
    return out;
}

static PyMethodDef methods[] = {
    {"pack_column", pack_column, METH_VARARGS,
     "pack_column(values, kind, missing=False) -> bytes | None: a column joined with NUL "
     "bytes (kind 0: image names, 1: class names, 2: \"a|b\" tag text; missing: NaN is "
     "None); None: use the pure-Python packer."},
    {"pack_tags", pack_tags, METH_VARARGS,
     "pack_tags(values, limit, missing=False) -> (bytes, counts | None) | None: the tags "
     "column for prime_tagstore_add_packed; None: use the pure-Python packer."},
    {"code_classes", code_classes, METH_O,
     "code_classes(values) -> (names, n_names, index) | None: the class column "
     "dictionary-coded for prime_tagstore_add_coded; None: use another packer."},
    {"code_tags", code_tags, METH_VARARGS,
     "code_tags(values, limit, missing=False) -> (names, n_names, index, counts) | None: "
     "the tags column dictionary-coded for prime_tagstore_add_coded; None: use another "
     "packer."},
    {"code_records", code_records, METH_VARARGS,
     "code_records(records, limit) -> (images, classes, tags) | None: (image, class, tags) "
     "records or dicts as pack_column, code_classes and code_tags make their columns; "
     "None: use another packer."},
    {"split_records", split_records, METH_O,
     "split_records(records) -> (images, classes, tags) | None: the columns of "
     "(image, class, tags) records or dicts; None: use the pure-Python path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "libprime._pack",
    "The compiled packer of libprime (optional): Python columns to the buffers of "
    "prime_tagstore_add_packed.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__pack(void);
PyMODINIT_FUNC PyInit__pack(void)
{
    return PyModule_Create(&module);
}
