/* prime-bench-stages: where the preprocessing of one photo goes, stage by
 * stage, against the floor of each stage (issue 17). One thread, CPU time
 * of the thread (CLOCK_THREAD_CPUTIME_ID), best of REPEAT per file and
 * stage, for the ImageNet preset that `prime classify --size 224 --resize
 * 224` uses (shorter side 224, centre crop 224, bilinear, JPEG draft on):
 *
 *   prime-bench-stages REPEAT FILE...
 *   -> FILE read decode transform normalise total floor floor_kind dw dh spng
 *
 * read: the file into memory; decode: prime__image_decode with the draft
 * (file in memory); transform: resize + crop (+ the colour conversion the
 * source needs) to 8-bit RGB; normalise: the float CHW tensor from those
 * bytes (prime__image_preprocess_into minus transform); total: the batch
 * loader's whole path for the file (prime_image_batch_load, one thread).
 * floor: the decoding library's own work for the same file and the same
 * output size, without any of libprime's checks or copies: JPEG,
 * tjDecompress2 at the DCT scale of the draft (handle made once); PNG,
 * libdeflate_zlib_decompress of the IDAT data alone (gathered before the
 * clock starts) into a buffer made once. GIF and others: none ("-").
 * spng: a whole PNG decoder for comparison (libspng's decode of the file to
 * RGB, or RGBA with alpha, as the image layer calls it), -1 if none.
 * Links the static library (it calls the image layer's private functions).
 * Not a test: it reports figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/image_private.h"

#if PRIME_HAVE_TURBOJPEG
#include <turbojpeg.h>
#endif
#if PRIME_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* the floor of the file's decode in ms (best of repeat), or -1 */
static double floor_ms(const unsigned char *d, size_t n, const prime_image *im, int repeat,
                       const char **kind)
{
    double best = 1e30;
    *kind = "-";
#if PRIME_HAVE_TURBOJPEG
    if (im->format == PRIME_IMAGE_FORMAT_JPEG) {
        tjhandle tj = tjInitDecompress();
        int jw, jh, ss, cs;
        if (tj == NULL || tjDecompressHeader3(tj, d, (unsigned long)n, &jw, &jh, &ss, &cs) != 0)
            return -1;
        uint8_t *out = malloc((size_t)im->width * im->height * 3);
        for (int r = 0; r < repeat; r++) {
            double t0 = now();
            tjDecompress2(tj, d, (unsigned long)n, out, (int)im->width, 0, (int)im->height,
                          TJPF_RGB, 0);
            double t = now() - t0;
            best = t < best ? t : best;
        }
        free(out);
        tjDestroy(tj);
        *kind = "tjDecompress2";
        return best * 1e3;
    }
#endif
#if PRIME_HAVE_LIBDEFLATE
    if (im->format == PRIME_IMAGE_FORMAT_PNG) {
        size_t total = 0;
        for (size_t i = 8; i + 12 <= n;) {
            uint32_t len = be32(d + i);
            if (memcmp(d + i + 4, "IDAT", 4) == 0)
                total += len;
            i += 12 + (size_t)len;
        }
        unsigned char *idat = malloc(total ? total : 1);
        size_t at = 0;
        for (size_t i = 8; i + 12 <= n;) {
            uint32_t len = be32(d + i);
            if (memcmp(d + i + 4, "IDAT", 4) == 0) {
                memcpy(idat + at, d + i + 8, len);
                at += len;
            }
            i += 12 + (size_t)len;
        }
        size_t cap = (size_t)im->width * im->height * 8 + im->height + 64, got = 0;
        unsigned char *raw = malloc(cap);
        struct libdeflate_decompressor *z = libdeflate_alloc_decompressor();
        for (int r = 0; r < repeat; r++) {
            double t0 = now();
            libdeflate_zlib_decompress(z, idat, total, raw, cap, &got);
            double t = now() - t0;
            best = t < best ? t : best;
        }
        libdeflate_free_decompressor(z);
        free(raw);
        free(idat);
        *kind = "libdeflate";
        return best * 1e3;
    }
#endif
    (void)d, (void)n, (void)im, (void)repeat;
    return -1;
}

/* a whole PNG decoder's time for the file (inflate, unfiltering, the
   conversion to RGB, or RGBA where the image has alpha): libspng, by the
   image layer's own call of it; -1 where there is none */
static double spng_ms(const unsigned char *d, size_t n, const prime_image *im, int repeat)
{
#if PRIME_HAVE_SPNG
    if (im->format != PRIME_IMAGE_FORMAT_PNG)
        return -1;
    double best = 1e30;
    for (int r = 0; r < repeat; r++) {
        uint8_t *px = NULL;
        double t0 = now();
        bool ok = prime__image_decode_spng(d, n, im->width, im->height, im->source == SRC_ALPHA,
                                           &px);
        double t = now() - t0;
        prime__free(px);
        if (!ok)
            return -1;
        best = t < best ? t : best;
    }
    return best * 1e3;
#else
    (void)d, (void)n, (void)im, (void)repeat;
    return -1;
#endif
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: prime-bench-stages REPEAT FILE...\n");
        return 2;
    }
    int repeat = atoi(argv[1]);
    prime_image_spec *spec = NULL;
    if (repeat < 1 || prime_image_spec_create(PRIME_IMAGE_PRESET_IMAGENET, &spec) != PRIME_OK ||
        prime_image_spec_set_resize(spec, PRIME_RESIZE_SHORTER_CROP, 224, 224, 224) != PRIME_OK ||
        prime_image_spec_set_jpeg_draft(spec, 1) != PRIME_OK) {
        fprintf(stderr, "prime-bench-stages: bad arguments or spec: %s\n", prime_last_error());
        return 2;
    }
    float *tensor = malloc(sizeof(float) * 3 * 224 * 224);
    int rc = 0;
    for (int a = 2; a < argc; a++) {
        const char *path = argv[a];
        double b_read = 1e30, b_dec = 1e30, b_tr = 1e30, b_pre = 1e30, b_tot = 1e30;
        prime_image *keep = NULL;
        char *data = NULL;
        size_t size = 0;
        for (int r = 0; r < repeat && rc == 0; r++) {
            char *dd = NULL;
            double t0 = now();
            if (prime__read_file(path, &dd, &size) != PRIME_OK) {
                rc = 1;
                break;
            }
            double t1 = now();
            prime_image *im = NULL;
            prime_status st = prime__image_decode(dd, size, path, 0, spec, &im);
            double t2 = now();
            prime_image *tr = NULL;
            if (st == PRIME_OK)
                st = prime_image_transform(im, spec, &tr);
            double t3 = now();
            if (st == PRIME_OK)
                st = prime__image_preprocess_into(im, spec, tensor);
            double t4 = now();
            prime_image_destroy(tr);
            if (st != PRIME_OK) {
                fprintf(stderr, "prime-bench-stages: %s: %s\n", path, prime_last_error());
                prime_image_destroy(im);
                prime__free(dd);
                rc = 1;
                break;
            }
            prime_image_batch *b = NULL;
            double t5 = now();
            st = prime_image_batch_load(&path, 1, spec, 1, &b);
            double t6 = now();
            prime_image_batch_destroy(b);
            b_read = t1 - t0 < b_read ? t1 - t0 : b_read;
            b_dec = t2 - t1 < b_dec ? t2 - t1 : b_dec;
            b_tr = t3 - t2 < b_tr ? t3 - t2 : b_tr;
            b_pre = (t4 - t3) < b_pre ? (t4 - t3) : b_pre;
            b_tot = t6 - t5 < b_tot ? t6 - t5 : b_tot;
            if (keep == NULL) {
                keep = im;
                data = dd;
            } else {
                prime_image_destroy(im);
                prime__free(dd);
            }
        }
        if (rc != 0)
            break;
        const char *kind = "-";
        double fl = floor_ms((const unsigned char *)data, size, keep, repeat, &kind);
        double sp = spng_ms((const unsigned char *)data, size, keep, repeat);
        printf("%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%u\t%u\t%.3f\n", path,
               b_read * 1e3, b_dec * 1e3, b_tr * 1e3, (b_pre - b_tr) * 1e3, b_tot * 1e3, fl,
               kind, keep->width, keep->height, sp);
        fflush(stdout);
        prime_image_destroy(keep);
        prime__free(data);
    }
    free(tensor);
    prime_image_spec_destroy(spec);
    return rc;
}
