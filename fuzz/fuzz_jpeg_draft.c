/* Fuzz the JPEG draft at 1/8 (lib/image/decode_jpeg.c) differentially: the
 * scan walk that leaves out AC scans, and the DC decoder of progressive
 * files whose components are all DC-only. Whenever TurboJPEG decodes the
 * input cleanly at 1/8 (no error, no warning), the draft must give the
 * same pixels, byte for byte; the draft must never crash or leak on any
 * input. (Where TurboJPEG warns, the draft may decode a file whose damage
 * lies only in the AC scans it leaves out: docs/images.md.) The pixel
 * limit keeps each run small. Without libjpeg-turbo it only returns. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if PRIME_HAVE_TURBOJPEG
#include <turbojpeg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > (1u << 20))
        return 0;
    tjhandle tj = tjInitDecompress();
    if (tj == NULL)
        return 0;
    int w = 0, h = 0, ss = 0, cs = 0;
    if (tjDecompressHeader3(tj, data, (unsigned long)size, &w, &h, &ss, &cs) != 0 || w < 8 ||
        h < 8 || (uint64_t)w * (uint64_t)h > (1u << 20)) {
        tjDestroy(tj);
        return 0;
    }
    int sw = (w + 7) / 8, sh = (h + 7) / 8;
    unsigned char *want = malloc((size_t)sw * (size_t)sh * 3);
    if (want == NULL) {
        tjDestroy(tj);
        return 0;
    }
    int full = tjDecompress2(tj, data, (unsigned long)size, want, sw, 0, sh, TJPF_RGB, 0);
    tjDestroy(tj);
    uint8_t *got = NULL;
    uint32_t ow = 0, oh = 0;
    /* a 1 x 1 target: the draft's scale is 1/8 (both sides are >= 8) */
    bool ok = prime__image_decode_turbojpeg(data, size, (uint32_t)w, (uint32_t)h, 1, 1, &got, &ow,
                                            &oh);
    if (ok && (ow != (uint32_t)sw || oh != (uint32_t)sh))
        __builtin_trap();
    if (full == 0 && cs != TJCS_CMYK && cs != TJCS_YCCK) {
        if (!ok || memcmp(got, want, (size_t)sw * (size_t)sh * 3) != 0)
            __builtin_trap(); /* a clean file whose draft is not the full decode's */
    }
    prime__image_scratch_free(got);
    free(want);
    return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data, (void)size;
    return 0;
}
#endif
