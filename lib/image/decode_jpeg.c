/* JPEG decoding with libjpeg-turbo's TurboJPEG API (meson option
 * turbojpeg): the IDCT and chroma upsampling of PIL, which decodes with the
 * same library, and PIL's draft (decoding at a reduced DCT scale). */
#include <turbojpeg.h>

#include "image/image_private.h"

bool prime__image_decode_turbojpeg(const unsigned char *d, size_t n, uint32_t w, uint32_t h,
                                   uint32_t draft_w, uint32_t draft_h, uint8_t **px,
                                   uint32_t *ow, uint32_t *oh)
{
    tjhandle tj = tjInitDecompress();
    if (tj == NULL)
        return false;
    bool ok = false;
    uint8_t *out = NULL;
    int jw = 0, jh = 0, subsamp = 0, cs = 0;
    if (tjDecompressHeader3(tj, d, (unsigned long)n, &jw, &jh, &subsamp, &cs) != 0 ||
        (uint32_t)jw != w || (uint32_t)jh != h)
        goto done; /* disagrees with the header stb_image read: let it decide */
    if (cs == TJCS_CMYK || cs == TJCS_YCCK)
        goto done; /* Adobe CMYK: stb_image's conversion, as without this decoder */
    /* PIL's JpegImageFile.draft: scale = min(w // dw, h // dh), then the
       largest of 8, 4, 2, 1 that is at most scale */
    uint32_t s = 1;
    if (draft_w > 0 && draft_h > 0) {
        uint32_t k = w / draft_w < h / draft_h ? w / draft_w : h / draft_h;
        s = k >= 8 ? 8 : k >= 4 ? 4 : k >= 2 ? 2 : 1;
    }
    tjscalingfactor sf = {1, (int)s};
    int sw = TJSCALED(jw, sf), sh = TJSCALED(jh, sf);
    out = prime__image_scratch_alloc((size_t)sw * (size_t)sh * 3);
    if (out == NULL)
        goto done;
    /* any error or warning (corrupt data, a truncated file): -1, and
       stb_image decides as it would without this decoder */
    if (tjDecompress2(tj, d, (unsigned long)n, out, sw, 0, sh, TJPF_RGB, 0) != 0)
        goto done;
    *px = out;
    *ow = (uint32_t)sw;
    *oh = (uint32_t)sh;
    out = NULL;
    ok = true;
done:
    prime__image_scratch_free(out);
    tjDestroy(tj);
    return ok;
}
