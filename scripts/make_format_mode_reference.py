#!/usr/bin/python3
"""Palette GIF, BMP and TGA files (and the grey and RGBA controls of those
formats), GIFs with a transparent index, 16-bit grey PNGs and what Pillow makes of them under CLIP's order (convert("RGB")
last) and RAM's (convert first), for tests/test_image.c
(Test image.convert_order_matches_pillow_per_format; issue 17).

Run with Debian's /usr/bin/python3 (python3-pil, python3-skimage):
    /usr/bin/python3 scripts/make_format_mode_reference.py

The pictures are cut from a real photo that Debian ships with scikit-image
(skimage/data/chelsea.png) and quantised or converted here. Writes
tests/data/images/formats/* and tests/data/images/format_mode_reference.txt,
whose lines read as those of mode_reference.txt (scripts/make_mode_reference.py,
whose pipelines are used): NAME FILE PIPELINE W H HEX.
"""
import os
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_mode_reference import clip_order, ram_order  # noqa: E402

ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "data", "images")
SK = "/usr/lib/python3/dist-packages/skimage/data"


def main():
    os.makedirs(os.path.join(OUT, "formats"), exist_ok=True)
    cat = Image.open(os.path.join(SK, "chelsea.png")).convert("RGB")
    a = cat.crop((150, 40, 187, 63))            # 37 x 23
    b = cat.crop((250, 100, 279, 131))          # 29 x 31
    grey = a.convert("L")
    rgba = b.convert("RGBA")
    rgba.putalpha(grey.resize(b.size).point(lambda v: (v * 7) % 256))
    files = [
        # name, file, image, save options, PIL mode expected on reading
        ("gif_palette", "gif_palette.gif", a.quantize(64), {}, "P"),
        ("gif_palette_b", "gif_palette_b.gif", b.quantize(16), {}, "P"),
        ("bmp_palette", "bmp_palette.bmp", a.quantize(64), {}, "P"),
        ("bmp_one_bit", "bmp_one_bit.bmp",
         grey.point(lambda v: 255 if v > 110 else 0).convert("1", dither=Image.Dither.NONE),
         {}, "1"),
        ("bmp_grey", "bmp_grey.bmp", grey, {}, "L"),
        ("tga_palette", "tga_palette.tga", b.quantize(32), {}, "P"),
        ("tga_palette_rle", "tga_palette_rle.tga", a.quantize(32), {"compression": "tga_rle"},
         "P"),
        ("tga_rgba", "tga_rgba.tga", rgba, {}, "RGBA"),
        ("tga_grey", "tga_grey.tga", grey, {}, "L"),
    ]
    # GIFs with a transparent index: PIL keeps the index where a pixel is
    # transparent, so convert("RGB") gives the palette's colour there, in
    # either order (stb_image decodes those pixels to alpha 0; libprime
    # gives them the palette colour); one "P" (64 colours, the index of a
    # colour common in the picture made transparent) and one grey ramp ("L")
    def with_trns(im, count):
        im = im.quantize(count)
        hist = im.histogram()
        t = max(range(count), key=lambda k: hist[k])  # the most used index
        pal = im.getpalette()[:3 * count]
        pal[3 * t:3 * t + 3] = [250, 20, 140]  # a colour not in the photo
        im.putpalette(pal)
        im.info["transparency"] = t
        return im, t
    gif_trns, t_p = with_trns(a, 64)
    ramp = grey.copy()
    t_l = max(range(256), key=lambda k: ramp.histogram()[k])  # the most used grey
    files += [("gif_trns", "gif_trns.gif", gif_trns, {"transparency": t_p}, "P"),
              ("gif_grey_trns", "gif_grey_trns.gif", ramp, {"transparency": t_l, "optimize": False},
               "L")]
    # 16-bit grey PNGs (PIL mode "I"): PIL's "I" resize and clipping in
    # CLIP's order; converting first, PIL clips each sample to 0..255 before
    # the RGB resize (the decoded pixels keep the high byte; libprime's
    # convert-first order clips the 16-bit samples as PIL does)
    import numpy as np
    g = np.asarray(grey, dtype=np.uint16)
    low = Image.fromarray((g * 2 + (np.arange(g.size).reshape(g.shape) % 7)).astype(np.uint16))
    full = Image.fromarray((g * 257 + (np.arange(g.size).reshape(g.shape) % 251)).astype(np.uint16))
    files += [("png_grey16_low", "png_grey16_low.png", low, {}, "I"),
              ("png_grey16_full", "png_grey16_full.png", full, {}, "I")]
    lines = ["# made by scripts/make_format_mode_reference.py; do not edit.",
             "# NAME FILE PIPELINE W H HEX (RGB bytes, row by row)"]
    for name, fname, im, opts, mode in files:
        path = os.path.join(OUT, "formats", fname)
        im.save(path, **opts)
        back = Image.open(path)
        assert back.mode == mode, (name, back.mode, mode)
        if "transparency" in opts:  # the transparent index is really used
            assert back.info.get("transparency") is not None, name
            assert back.getextrema() is not None and \
                back.histogram()[back.info["transparency"]] > 0, name
        for pipe in ("clip24", "clip16", "ram20") if mode != "I" else ("clip24", "clip16", "clip37",
                                                                       "ram20", "ram37"):
            s = int(pipe[4:] if pipe.startswith("clip") else pipe[3:])
            out = clip_order(back, s) if pipe.startswith("clip") else ram_order(back, s)
            lines.append("%s formats/%s %s %d %d %s" % (name, fname, pipe, out.size[0],
                                                        out.size[1], out.tobytes().hex()))
            if pipe.startswith("clip"):
                first = clip_order(back, s, convert_first=True).tobytes()
                d = max(abs(x - y) for x, y in zip(out.tobytes(), first))
                lines.append("# %s (PIL mode %s) %s: CLIP's order vs converting first: max "
                             "difference %d levels" % (name, back.mode, pipe, d))
    with open(os.path.join(OUT, "format_mode_reference.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for l in lines:
        if l.startswith("# ") and "levels" in l:
            print(l)


if __name__ == "__main__":
    main()
