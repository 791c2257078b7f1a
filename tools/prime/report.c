/* HTML report of failure modes (`prime report`, docs/formats.md "Report").
 *
 * One self-contained file: per class its accuracy and its modes sorted by
 * drop (largest first), each with accuracy bars (pure CSS), size, Wilson
 * interval, p-value, one-tag-smaller parents and a seeded random sample of
 * its images as base64 PNG thumbnails, wrong ones marked. The page is
 * complete without JavaScript; a filter box uses a few lines of it.
 *
 * The whole page is built in memory and written through a temporary file
 * and a rename, so an error (a missing image, say) leaves no output file. */
#define _POSIX_C_SOURCE 200809L

#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "prime/eval.h"
#include "prime/image.h"

#include "cli.h"

#define THUMB_SIDE 96u

/* ---- growable text buffer ------------------------------------------------ */

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (q == NULL) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

/* HTML-escaped text (also safe inside a double-quoted attribute). */
static void sb_esc(sbuf *b, const char *s)
{
    for (; s != NULL && *s; s++) {
        switch (*s) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&#39;"); break;
        default: sb_add(b, s, 1);
        }
    }
}

static void sb_base64(sbuf *b, const unsigned char *d, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        out[0] = tab[(v >> 18) & 63];
        out[1] = tab[(v >> 12) & 63];
        out[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[3] = i + 2 < n ? tab[v & 63] : '=';
        sb_add(b, out, 4);
    }
}

/* a percentage with one decimal, or "n/a" for NaN */
static void sb_pct(sbuf *b, double x)
{
    if (isnan(x))
        sb_puts(b, "n/a");
    else
        sb_printf(b, "%.1f%%", 100.0 * x);
}

/* a CSS width in [0, 100] */
static double bar_width(double x)
{
    if (isnan(x) || x < 0.0)
        return 0.0;
    return x > 1.0 ? 100.0 : 100.0 * x;
}

/* ---- seeded sampling -------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* ---- thumbnails ------------------------------------------------------------- */

static void png_sink(void *ctx, void *data, int size)
{
    sb_add((sbuf *)ctx, data, (size_t)size);
}

/* Appends the base64 PNG thumbnail of `path`; 0 or 1 after an error message. */
static int thumbnail(const char *path, sbuf *html)
{
    prime_image *img = NULL, *small = NULL;
    uint8_t *px = NULL;
    sbuf png = {0};
    int rc = 1;
    prime_status st = prime_image_load(path, 0, &img);
    if (st != PRIME_OK) {
        const char *msg = prime_last_error();
        fprintf(stderr, "%s: %s (%s)\n", prog, msg[0] ? msg : prime_status_message(st),
                prime_status_name(st));
        goto done;
    }
    uint32_t w = prime_image_width(img), h = prime_image_height(img);
    const prime_image *use = img;
    if (w > THUMB_SIDE || h > THUMB_SIDE) {
        uint32_t tw = THUMB_SIDE, th = THUMB_SIDE;
        if (w >= h)
            th = (uint32_t)((uint64_t)h * THUMB_SIDE / w);
        else
            tw = (uint32_t)((uint64_t)w * THUMB_SIDE / h);
        if (tw == 0)
            tw = 1;
        if (th == 0)
            th = 1;
        st = prime_image_resize(img, tw, th, PRIME_FILTER_BILINEAR, &small);
        if (st != PRIME_OK) {
            fprintf(stderr, "%s: %s: cannot resize: %s\n", prog, path, prime_last_error());
            goto done;
        }
        use = small;
        w = tw;
        h = th;
    }
    size_t need = 0;
    prime_image_copy_pixels(use, NULL, 0, &need);
    px = malloc(need ? need : 1);
    if (px == NULL || prime_image_copy_pixels(use, px, need, &need) != PRIME_OK) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto done;
    }
    if (!stbi_write_png_to_func(png_sink, &png, (int)w, (int)h, 3, px, (int)(3 * w)) ||
        png.oom) {
        fprintf(stderr, "%s: %s: cannot encode the thumbnail\n", prog, path);
        goto done;
    }
    sb_puts(html, "data:image/png;base64,");
    sb_base64(html, (const unsigned char *)png.p, png.n);
    rc = 0;
done:
    free(png.p);
    free(px);
    prime_image_destroy(small);
    prime_image_destroy(img);
    return rc;
}

/* ---- page --------------------------------------------------------------------- */

static const char css[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1100px}\n"
    "h1{font-size:1.6em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\n"
    ".mode{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:.8em 0}\n"
    ".mode h3{margin:.2em 0 .4em;font-size:1.1em}\n"
    ".bars{width:420px}.bar{background:#eee;height:14px;margin:3px 0;position:relative}\n"
    ".bar span{display:block;height:100%}.bar .c{background:#7a9cc6}.bar .m{background:#d9822b}\n"
    ".barlabel{font-size:.8em;color:#555}\n"
    "table.stats{border-collapse:collapse;font-size:.9em;margin:.4em 0}\n"
    "table.stats td,table.stats th{padding:2px 10px 2px 0;text-align:left}\n"
    ".parents{font-size:.9em;margin:.3em 0}\n"
    ".thumbs{display:flex;flex-wrap:wrap;gap:8px;margin-top:.5em}\n"
    "figure.img{margin:0;border:3px solid #4a4;padding:2px;width:104px;text-align:center}\n"
    "figure.img.wrong{border-color:#d22}\n"
    "figure.img img{max-width:96px;max-height:96px;display:block;margin:auto}\n"
    "figcaption{font-size:.7em;word-break:break-all}\n"
    ".wronglabel{color:#d22;font-weight:bold}.oklabel{color:#282}\n"
    ".none{color:#777;font-style:italic}\n"
    ".same{background:#fff4d6;border-left:4px solid #e0a800;padding:.2em .6em;margin:.3em 0}\n"
    "table.ranking{border-collapse:collapse;font-size:.9em}\n"
    "table.ranking td,table.ranking th{padding:2px 12px 2px 0;text-align:left}\n"
    ".spark{display:inline-block;width:80px;height:10px;background:#eee;vertical-align:middle}\n"
    ".spark span{display:block;height:100%;background:#d9822b}\n"
    ".classbar{font-size:.9em;margin:2px 0}.classbar .cname{display:inline-block;width:160px}\n"
    ".classbar .bar{display:inline-block;width:300px;vertical-align:middle}\n"
    "#filter{font-size:1em;padding:.2em .4em;width:320px}\n";

static const char script[] =
    "<script>\n"
    "document.getElementById('filter').addEventListener('input',function(e){\n"
    "  var q=e.target.value.toLowerCase();\n"
    "  document.querySelectorAll('.mode').forEach(function(m){\n"
    "    m.style.display=m.getAttribute('data-text').indexOf(q)>=0?'':'none';});\n"
    "});\n"
    "</script>\n";

typedef struct {
    const prime_eval *ev;
    uint64_t i;
    double drop;
} mode_ref;

static int cmp_mode(const void *a, const void *b)
{
    const mode_ref *x = a, *y = b;
    int xn = isnan(x->drop), yn = isnan(y->drop);
    if (xn != yn)
        return xn - yn;
    if (!xn && x->drop != y->drop)
        return x->drop < y->drop ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Images of the store in class cid carrying every tag of mode i (none when
 * a tag is not in the store). *out is malloc'ed. -1 on out of memory. */
static int64_t mode_images(const prime_tagstore *store, const prime_eval *ev, uint64_t i,
                           uint32_t cid, uint32_t **out)
{
    *out = NULL;
    uint32_t nt = prime_eval_mode_tag_count(ev, i);
    uint32_t *want = calloc(nt ? nt : 1, sizeof *want);
    uint32_t nimg = prime_tagstore_image_count(store);
    uint32_t *res = malloc((size_t)(nimg ? nimg : 1) * sizeof *res);
    uint32_t cap = 64, *tags = malloc(cap * sizeof *tags);
    int64_t n = 0;
    if (want == NULL || res == NULL || tags == NULL) {
        n = -1;
        goto done;
    }
    for (uint32_t j = 0; j < nt; j++)
        if (prime_tagstore_find_tag(store, prime_eval_mode_tag_name(ev, i, j), &want[j]) !=
            PRIME_OK)
            goto done; /* a tag the store lacks: no images */
    for (uint32_t k = 0; k < nimg; k++) {
        if (prime_tagstore_image_class(store, k) != cid)
            continue;
        uint32_t cnt = 0;
        prime_status st = prime_tagstore_image_tags(store, k, tags, cap, &cnt);
        if (st == PRIME_E_BUFFER_TOO_SMALL) {
            uint32_t *t2 = realloc(tags, (size_t)cnt * sizeof *tags);
            if (t2 == NULL) {
                n = -1;
                goto done;
            }
            tags = t2;
            cap = cnt;
            st = prime_tagstore_image_tags(store, k, tags, cap, &cnt);
        }
        if (st != PRIME_OK)
            continue;
        int all = 1;
        for (uint32_t j = 0; j < nt && all; j++)
            all = bsearch(&want[j], tags, cnt, sizeof *tags, cmp_u32) != NULL;
        if (all)
            res[n++] = k;
    }
done:
    free(want);
    free(tags);
    if (n < 0) {
        free(res);
        return -1;
    }
    *out = res;
    return n;
}

/* A mode of the same class with fewer tags whose images in the store are
 * exactly imgs[0..n) (those of mode i): the one with the fewest tags, then
 * the first, in *out; UINT64_MAX when there is none (the rule of
 * prime_result_equal_images). -1 on out of memory. */
static int same_images(const prime_tagstore *store, const prime_eval *ev, uint64_t i,
                       uint32_t cid, const uint32_t *imgs, int64_t n, uint64_t *out)
{
    *out = UINT64_MAX;
    const char *cname = prime_eval_mode_class_name(ev, i);
    uint32_t nt = prime_eval_mode_tag_count(ev, i), best_nt = nt;
    for (uint64_t j = 0; j < prime_eval_mode_count(ev); j++) {
        uint32_t jt = prime_eval_mode_tag_count(ev, j);
        uint64_t size = 0;
        prime_eval_mode_test(ev, j, &size, NULL, NULL, NULL, NULL);
        if (j == i || jt >= best_nt || size != (uint64_t)n ||
            strcmp(prime_eval_mode_class_name(ev, j), cname) != 0)
            continue;
        uint32_t *other = NULL;
        int64_t m = mode_images(store, ev, j, cid, &other);
        if (m < 0)
            return -1;
        if (m == n && (n == 0 || memcmp(other, imgs, (size_t)n * sizeof *imgs) == 0)) {
            *out = j;
            best_nt = jt;
        }
        free(other);
    }
    return 0;
}

/* The overview at the top of the report (issue 13): every mode ranked by
 * drop with a bar, per-class accuracy bars, and, when the result is
 * measured on other data than it was found on, the train-drop against
 * test-drop scatter plot with the Pearson and Spearman figures of
 * prime_eval_summary. Points carry their figures in data- attributes. */
static void overview(sbuf *h, const prime_tagstore *store, const prime_outcomes *outcomes,
                     const prime_eval *ev, const mode_ref *refs, uint64_t nm)
{
    sb_puts(h, "<section id=\"overview\">\n<h2>All failure modes by drop</h2>\n"
               "<table id=\"ranking\" class=\"ranking\"><tr><th>#</th><th>class</th>"
               "<th>tags</th><th>size</th><th>accuracy</th><th>drop</th></tr>\n");
    int heldout = 0;
    for (uint64_t r = 0; r < nm; r++) {
        uint64_t i = refs[r].i, size = 0, tsize = 0;
        double acc = NAN, drop = NAN, tdrop = NAN, tacc = NAN;
        prime_eval_mode_test(ev, i, &size, NULL, &acc, NULL, &drop);
        prime_eval_mode_train(ev, i, &tsize, NULL, &tacc, NULL, &tdrop);
        if (tsize != size || !(tacc == acc || (isnan(tacc) && isnan(acc))))
            heldout = 1;
        sb_printf(h, "<tr class=\"rank\" data-mode=\"%llu\"><td>%llu</td><td>",
                  (unsigned long long)i, (unsigned long long)r + 1);
        sb_esc(h, prime_eval_mode_class_name(ev, i));
        sb_puts(h, "</td><td>");
        for (uint32_t j = 0; j < prime_eval_mode_tag_count(ev, i); j++) {
            if (j > 0)
                sb_puts(h, " + ");
            sb_esc(h, prime_eval_mode_tag_name(ev, i, j));
        }
        sb_printf(h, "</td><td>%llu</td><td>", (unsigned long long)size);
        sb_pct(h, acc);
        sb_puts(h, "</td><td><span class=\"spark\"><span style=\"width:");
        sb_printf(h, "%.1f%%\"></span></span> ", bar_width(drop));
        sb_pct(h, drop);
        sb_puts(h, "</td></tr>\n");
    }
    sb_puts(h, "</table>\n<h2>Accuracy per class</h2>\n<div id=\"class-bars\">\n");
    for (uint32_t c = 0; c < prime_tagstore_class_count(store); c++) {
        uint64_t n = 0;
        double acc = NAN;
        prime_query(store, outcomes, c, NULL, 0, &n, NULL, &acc, NULL);
        sb_puts(h, "<div class=\"classbar\" data-class=\"");
        sb_esc(h, prime_tagstore_class_name(store, c));
        sb_printf(h, "\" data-accuracy=\"%.6f\"><span class=\"cname\">", acc);
        sb_esc(h, prime_tagstore_class_name(store, c));
        sb_printf(h, "</span><span class=\"bar\"><span class=\"c\" style=\"width:%.1f%%\">"
                     "</span></span> ", bar_width(acc));
        sb_pct(h, acc);
        sb_printf(h, " of %llu</div>\n", (unsigned long long)n);
    }
    sb_puts(h, "</div>\n");
    if (heldout) {
        uint64_t measured = 0, still = 0;
        double pr = NAN, sp = NAN;
        prime_eval_summary(ev, &measured, &pr, &sp, &still);
        sb_printf(h, "<h2>Train drop against test drop</h2>\n<p id=\"correlation\" "
                     "data-pearson=\"%.6f\" data-spearman=\"%.6f\">Pearson %.3f, Spearman "
                     "%.3f over %llu modes measured on the test data; %llu still fail.</p>\n",
                  pr, sp, pr, sp, (unsigned long long)measured, (unsigned long long)still);
        /* drops in [-1, 1] on both axes: 300 x 300 pixels, 0 in the middle */
        sb_puts(h, "<svg id=\"scatter\" width=\"340\" height=\"340\" viewBox=\"-20 -20 340 340\">"
                   "<rect x=\"0\" y=\"0\" width=\"300\" height=\"300\" fill=\"#fafafa\" "
                   "stroke=\"#999\"/><line x1=\"0\" y1=\"300\" x2=\"300\" y2=\"0\" "
                   "stroke=\"#ccc\"/><line x1=\"150\" y1=\"0\" x2=\"150\" y2=\"300\" "
                   "stroke=\"#eee\"/><line x1=\"0\" y1=\"150\" x2=\"300\" y2=\"150\" "
                   "stroke=\"#eee\"/><text x=\"150\" y=\"318\" font-size=\"11\" "
                   "text-anchor=\"middle\">train drop</text><text x=\"-8\" y=\"150\" "
                   "font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 -8 150)\">"
                   "test drop</text>\n");
        for (uint64_t r = 0; r < nm; r++) {
            uint64_t i = refs[r].i, size = 0;
            double tr = NAN, te = NAN;
            prime_eval_mode_train(ev, i, NULL, NULL, NULL, NULL, &tr);
            prime_eval_mode_test(ev, i, &size, NULL, NULL, NULL, &te);
            if (size == 0 || isnan(tr) || isnan(te))
                continue;
            sb_printf(h, "<circle class=\"pt\" data-mode=\"%llu\" data-train=\"%.6f\" "
                         "data-test=\"%.6f\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
                         "fill=\"#d9822b\" fill-opacity=\"0.7\"><title>",
                      (unsigned long long)i, tr, te, 150.0 + 150.0 * tr, 150.0 - 150.0 * te);
            sb_esc(h, prime_eval_mode_description(ev, i));
            sb_puts(h, "</title></circle>\n");
        }
        sb_puts(h, "</svg>\n");
    }
    sb_puts(h, "</section>\n");
}

/* Through the library's writer (prime/file.h): a temporary file beside the
 * page, renamed over it; no partial page is ever left. */
static int write_file(const char *path, const sbuf *b)
{
    prime_status st = prime_file_write(path, b->p != NULL ? b->p : "", b->n);
    if (st != PRIME_OK) {
        fprintf(stderr, "%s: %s (%s)\n", prog, prime_last_error(), prime_status_name(st));
        return 1;
    }
    return 0;
}

int report_write_html(const char *result_path, const char *tags_path,
                      const prime_tagstore *store, const prime_outcomes *outcomes,
                      const char *images_dir, uint32_t per_mode, uint64_t seed,
                      const char *output)
{
    struct stat sd;
    if (stat(images_dir, &sd) != 0 || !S_ISDIR(sd.st_mode)) {
        fprintf(stderr, "%s: %s: images folder not found (or not a folder)\n", prog,
                images_dir);
        return 1;
    }
    /* the output is none of the images the page shows (same device and
       inode, a link counts) */
    output_id oid;
    output_id_init(&oid, output);
    prime_eval *ev = NULL;
    prime_status st = prime_eval_load(result_path, store, outcomes, &ev);
    if (st != PRIME_OK) {
        const char *msg = prime_last_error();
        fprintf(stderr, "%s: %s (%s)\n", prog, msg[0] ? msg : prime_status_message(st),
                prime_status_name(st));
        return 1;
    }
    int rc = 1;
    sbuf h = {0};
    uint64_t nm = prime_eval_mode_count(ev);
    uint32_t ncls = prime_tagstore_class_count(store);
    mode_ref *refs = calloc(nm ? nm : 1, sizeof *refs);
    char *path = NULL;
    uint32_t *imgs = NULL;
    if (refs == NULL)
        goto oom;
    for (uint64_t i = 0; i < nm; i++) {
        refs[i].ev = ev;
        refs[i].i = i;
        prime_eval_mode_test(ev, i, NULL, NULL, NULL, NULL, &refs[i].drop);
    }
    qsort(refs, nm, sizeof *refs, cmp_mode);

    sb_puts(&h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<title>PRIME failure modes</title>\n<style>\n");
    sb_puts(&h, css);
    sb_puts(&h, "</style>\n</head>\n<body>\n<h1>PRIME failure modes</h1>\n<p>Result <code>");
    sb_esc(&h, result_path);
    sb_puts(&h, "</code> on <code>");
    sb_esc(&h, tags_path);
    sb_printf(&h,
              "</code>: <span id=\"mode-count\">%llu</span> failure modes over %u classes, "
              "%u images. Intervals are 95%% Wilson intervals of the accuracy; p is the "
              "one-sided p-value for a lower accuracy than in the rest of the class. Up to "
              "%u sample images per mode (seed %llu); wrong ones have a red border.</p>\n",
              (unsigned long long)nm, ncls, prime_tagstore_image_count(store), per_mode,
              (unsigned long long)seed);
    overview(&h, store, outcomes, ev, refs, nm);
    sb_puts(&h, "<p><label>Filter modes: <input id=\"filter\" type=\"search\" "
                "placeholder=\"class or tag\"></label></p>\n");

    /* classes: the store's in id order, then classes of modes the store lacks */
    for (uint32_t pass = 0; pass < 2; pass++) {
        uint32_t count = pass == 0 ? ncls : (uint32_t)nm;
        for (uint32_t c = 0; c < count; c++) {
            const char *cname;
            uint32_t cid = PRIME_NONE;
            if (pass == 0) {
                cname = prime_tagstore_class_name(store, c);
                cid = c;
            } else {
                cname = prime_eval_mode_class_name(ev, c);
                uint32_t dummy;
                if (prime_tagstore_find_class(store, cname, &dummy) == PRIME_OK)
                    continue;
                int seen = 0; /* first mode of this unknown class only */
                for (uint32_t e = 0; e < c && !seen; e++)
                    seen = strcmp(prime_eval_mode_class_name(ev, e), cname) == 0;
                if (seen)
                    continue;
            }
            uint64_t csize = 0;
            double cacc = NAN;
            if (cid != PRIME_NONE)
                prime_query(store, outcomes, cid, NULL, 0, &csize, NULL, &cacc, NULL);
            uint64_t nmodes = 0;
            for (uint64_t r = 0; r < nm; r++)
                nmodes += strcmp(prime_eval_mode_class_name(ev, refs[r].i), cname) == 0;
            sb_puts(&h, "<section class=\"class\" data-class=\"");
            sb_esc(&h, cname);
            sb_printf(&h, "\" data-modes=\"%llu\">\n<h2>", (unsigned long long)nmodes);
            sb_esc(&h, cname);
            sb_puts(&h, " &mdash; accuracy ");
            sb_pct(&h, cacc);
            sb_printf(&h, " on %llu images, %llu failure mode%s</h2>\n",
                      (unsigned long long)csize, (unsigned long long)nmodes,
                      nmodes == 1 ? "" : "s");
            if (nmodes == 0)
                sb_puts(&h, "<p class=\"none\">No failure mode.</p>\n");
            for (uint64_t r = 0; r < nm; r++) {
                uint64_t i = refs[r].i;
                if (strcmp(prime_eval_mode_class_name(ev, i), cname) != 0)
                    continue;
                uint64_t size = 0;
                double acc = NAN, mcacc = NAN, drop = NAN, lo = NAN, hi = NAN, p = NAN;
                prime_eval_mode_test(ev, i, &size, NULL, &acc, &mcacc, &drop);
                prime_eval_mode_confidence(ev, i, &lo, &hi, &p, NULL, NULL);
                int64_t nimg = 0;
                free(imgs);
                imgs = NULL;
                uint64_t same = UINT64_MAX;
                if (cid != PRIME_NONE) {
                    nimg = mode_images(store, ev, i, cid, &imgs);
                    if (nimg < 0 || same_images(store, ev, i, cid, imgs, nimg, &same) != 0)
                        goto oom;
                }
                /* seeded partial Fisher-Yates, then store order */
                uint64_t s = seed ^ (0x9e3779b97f4a7c15ULL * (i + 1));
                uint32_t take = nimg < (int64_t)per_mode ? (uint32_t)nimg : per_mode;
                for (uint32_t k = 0; k < take; k++) {
                    uint64_t j = k + splitmix64(&s) % (uint64_t)(nimg - k);
                    uint32_t t = imgs[k];
                    imgs[k] = imgs[j];
                    imgs[j] = t;
                }
                qsort(imgs, take, sizeof *imgs, cmp_u32);

                const char *desc = prime_eval_mode_description(ev, i);
                sb_puts(&h, "<div class=\"mode\" data-mode=\"");
                sb_printf(&h, "%llu\" data-size=\"%llu\" data-images=\"%u\" data-text=\"",
                          (unsigned long long)i, (unsigned long long)size, take);
                {
                    sbuf low = {0};
                    sb_puts(&low, cname);
                    for (uint32_t j = 0; j < prime_eval_mode_tag_count(ev, i); j++) {
                        sb_puts(&low, " ");
                        sb_puts(&low, prime_eval_mode_tag_name(ev, i, j));
                    }
                    if (low.oom) {
                        free(low.p);
                        goto oom;
                    }
                    for (char *q = low.p; q && *q; q++)
                        if (*q >= 'A' && *q <= 'Z')
                            *q = (char)(*q - 'A' + 'a');
                    sb_esc(&h, low.p);
                    free(low.p);
                }
                sb_puts(&h, "\">\n<h3>");
                for (uint32_t j = 0; j < prime_eval_mode_tag_count(ev, i); j++) {
                    if (j > 0)
                        sb_puts(&h, " + ");
                    sb_esc(&h, prime_eval_mode_tag_name(ev, i, j));
                }
                sb_puts(&h, "</h3>\n<div class=\"desc\">");
                sb_esc(&h, desc);
                sb_puts(&h, "</div>\n");
                if (same != UINT64_MAX) {
                    /* its extra tags add nothing: the images are a smaller mode's */
                    sb_printf(&h, "<p class=\"same\" data-same=\"%llu\">Same images as the "
                                  "smaller mode <q>", (unsigned long long)same);
                    sb_esc(&h, prime_eval_mode_description(ev, same));
                    sb_puts(&h, "</q>: its extra tags add nothing.</p>\n");
                }
                sb_puts(&h, "<div class=\"bars\">"
                            "<div class=\"barlabel\">class accuracy ");
                sb_pct(&h, mcacc);
                sb_printf(&h, "</div><div class=\"bar\"><span class=\"c\" "
                              "style=\"width:%.1f%%\"></span></div>"
                              "<div class=\"barlabel\">mode accuracy ",
                          bar_width(mcacc));
                sb_pct(&h, acc);
                sb_printf(&h, "</div><div class=\"bar\"><span class=\"m\" "
                              "style=\"width:%.1f%%\"></span></div></div>\n",
                          bar_width(acc));
                sb_printf(&h, "<table class=\"stats\"><tr><th>size</th><th>accuracy</th>"
                              "<th>drop</th><th>95%% interval</th><th>p-value</th></tr>"
                              "<tr><td>%llu</td><td>",
                          (unsigned long long)size);
                sb_pct(&h, acc);
                sb_puts(&h, "</td><td>");
                sb_pct(&h, drop);
                sb_puts(&h, "</td><td>");
                sb_pct(&h, lo);
                sb_puts(&h, " &ndash; ");
                sb_pct(&h, hi);
                if (isnan(p))
                    sb_puts(&h, "</td><td>n/a</td></tr></table>\n");
                else
                    sb_printf(&h, "</td><td>%.3g</td></tr></table>\n", p);
                sb_puts(&h, "<div class=\"parents\">Parents: ");
                uint32_t nt = prime_eval_mode_tag_count(ev, i);
                for (uint32_t j = 0; j < nt; j++) {
                    uint64_t ps = 0;
                    double pa = NAN;
                    prime_eval_mode_parent(ev, i, j, &ps, NULL, &pa);
                    if (j > 0)
                        sb_puts(&h, "; ");
                    sb_puts(&h, "<span class=\"parent\">");
                    if (nt == 1) {
                        sb_puts(&h, "whole class");
                    } else {
                        int first = 1;
                        for (uint32_t k = 0; k < nt; k++) {
                            if (k == j)
                                continue;
                            if (!first)
                                sb_puts(&h, " + ");
                            first = 0;
                            sb_esc(&h, prime_eval_mode_tag_name(ev, i, k));
                        }
                    }
                    sb_puts(&h, ": ");
                    sb_pct(&h, pa);
                    sb_printf(&h, " of %llu</span>", (unsigned long long)ps);
                }
                sb_puts(&h, "</div>\n<div class=\"thumbs\">\n");
                for (uint32_t k = 0; k < take; k++) {
                    const char *iname = prime_tagstore_image_name(store, imgs[k]);
                    double out = NAN;
                    int wrong = prime_outcomes_get(outcomes, imgs[k], &out) == PRIME_OK &&
                                out < 0.5;
                    size_t len = strlen(images_dir) + strlen(iname) + 2;
                    free(path);
                    path = malloc(len);
                    if (path == NULL)
                        goto oom;
                    snprintf(path, len, "%s/%s", images_dir, iname);
                    if (access(path, R_OK) != 0) {
                        fprintf(stderr, "%s: %s: image of %s not found: %s\n", prog, path,
                                tags_path, strerror(errno));
                        goto done;
                    }
                    if (output_id_refuse(&oid, path) != 0)
                        goto done;
                    sb_printf(&h, "<figure class=\"img%s\" data-image=\"%u\" "
                                  "data-wrong=\"%d\"><img alt=\"",
                              wrong ? " wrong" : "", imgs[k], wrong);
                    sb_esc(&h, iname);
                    sb_puts(&h, "\" src=\"");
                    if (thumbnail(path, &h) != 0)
                        goto done;
                    sb_puts(&h, "\"><figcaption>");
                    sb_esc(&h, iname);
                    if (wrong)
                        sb_puts(&h, "<br><span class=\"wronglabel\">wrong</span>");
                    else if (!isnan(out))
                        sb_puts(&h, "<br><span class=\"oklabel\">right</span>");
                    sb_puts(&h, "</figcaption></figure>\n");
                }
                if (take == 0)
                    sb_puts(&h, "<span class=\"none\">No image of this mode in the store."
                                "</span>\n");
                sb_puts(&h, "</div>\n</div>\n");
            }
            sb_puts(&h, "</section>\n");
        }
    }
    sb_puts(&h, script);
    sb_puts(&h, "</body>\n</html>\n");
    if (h.oom)
        goto oom;
    rc = write_file(output, &h);
    goto done;
oom:
    fprintf(stderr, "%s: out of memory\n", prog);
    rc = 1;
done:
    free(imgs);
    free(path);
    free(refs);
    free(h.p);
    prime_eval_destroy(ev);
    return rc;
}
