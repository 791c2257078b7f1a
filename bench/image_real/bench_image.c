/* prime-bench-image: preprocessing time per image on one core, for
 * bench/image_real/run.py (issue 17). Each file is read, decoded and
 * preprocessed by prime_image_batch_load (one path, one thread) as the CLIP
 * (224) or RAM (384) preset says, `repeat` times; the best CPU time of the
 * thread (CLOCK_THREAD_CPUTIME_ID: one thread does all the work, and a busy
 * machine does not inflate it as it does wall time) is printed:
 *
 *   prime-bench-image clip|ram DRAFT REPEAT FILE...
 *   -> FILE<TAB>MILLISECONDS<TAB>DECODED_WIDTH<TAB>DECODED_HEIGHT per line
 *
 * DRAFT 1 sets prime_image_spec_set_jpeg_draft. The decoder is the build's
 * (libjpeg-turbo, libspng) unless PRIME_IMAGE_DECODER=stb. Not a test: it
 * reports figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prime/prime.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: prime-bench-image clip|ram DRAFT REPEAT FILE...\n");
        return 2;
    }
    int32_t preset = strcmp(argv[1], "clip") == 0  ? PRIME_IMAGE_PRESET_CLIP
                     : strcmp(argv[1], "ram") == 0 ? PRIME_IMAGE_PRESET_RAM
                                                   : -1;
    int draft = atoi(argv[2]), repeat = atoi(argv[3]);
    if (preset < 0 || (draft != 0 && draft != 1) || repeat < 1) {
        fprintf(stderr, "prime-bench-image: bad arguments\n");
        return 2;
    }
    prime_image_spec *spec = NULL;
    if (prime_image_spec_create(preset, &spec) != PRIME_OK ||
        prime_image_spec_set_jpeg_draft(spec, draft) != PRIME_OK) {
        fprintf(stderr, "prime-bench-image: %s\n", prime_last_error());
        return 1;
    }
    int rc = 0;
    for (int a = 4; a < argc; a++) {
        const char *path = argv[a];
        double best = 1e30;
        uint32_t w = 0, h = 0;
        for (int r = 0; r < repeat; r++) {
            prime_image_batch *b = NULL;
            double t0 = now();
            prime_status st = prime_image_batch_load(&path, 1, spec, 1, &b);
            double t = now() - t0;
            if (st != PRIME_OK || prime_image_batch_status(b, 0) != PRIME_OK) {
                fprintf(stderr, "prime-bench-image: %s: %s\n", path,
                        b != NULL ? prime_image_batch_error(b, 0) : prime_last_error());
                prime_image_batch_destroy(b);
                rc = 1;
                break;
            }
            prime_image_batch_source_size(b, 0, &w, &h);
            prime_image_batch_destroy(b);
            if (t < best)
                best = t;
        }
        printf("%s\t%.4f\t%u\t%u\n", path, best * 1e3, w, h);
    }
    prime_image_spec_destroy(spec);
    return rc;
}
