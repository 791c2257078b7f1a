#!/usr/bin/python3
"""Palette, 1-bit, grey+alpha and RGBA PNGs and what Pillow makes of them
under CLIP's and RAM's preprocessing orders (issue 17), for
tests/test_image.c (Test image.convert_order_matches_pillow_per_mode).

Run with Debian's /usr/bin/python3 (python3-pil):
    /usr/bin/python3 scripts/make_mode_reference.py

Writes tests/data/images/modes/*.png and tests/data/images/mode_reference.txt.
Seeded: the same files every time.

The pipelines, as the models' own code applies them to a PIL image
(8-bit results, before ToTensor and Normalize, which are per pixel):
  - clipS: CLIP's preprocess (openai/CLIP clip.py _transform):
           Resize(S, BICUBIC), CenterCrop(S), then convert("RGB") last;
  - ramS:  RAM's transform (recognize-anything ram/transform.py):
           convert("RGB") first, then Resize((S, S)) (bilinear).
torchvision's Resize on a PIL image is Image.resize(size, filter); for a
"P" or "1" image Pillow resizes with NEAREST whatever the filter, and for
"LA" / "RGBA" it premultiplies the alpha ("La" / "RGBa") around the resize.
CenterCrop: left = int(round((w - S) / 2.0)).

Each line: NAME FILE PIPELINE W H HEX (the RGB bytes, row by row), and a
comment per image with the largest difference, in 8-bit levels, between
CLIP's order and converting first (what libprime did before issue 17).
"""
import os
import random

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "data", "images")


def noise_rgb(rng, w, h):
    return bytes(rng.randrange(256) for _ in range(w * h * 3))


def make_images(rng):
    ims = {}
    # palette: 64 random colours, smooth blobs of indices plus noise
    w, h = 37, 23
    pal = [rng.randrange(256) for _ in range(64 * 3)]
    idx = bytes(((x // 5 + y // 4) * 7 + rng.randrange(3)) % 64 for y in range(h) for x in range(w))
    p = Image.frombytes("P", (w, h), idx)
    p.putpalette(pal)
    ims["palette"] = p
    # palette with a transparent entry (tRNS): PIL keeps it "P"
    w, h = 29, 31
    idx = bytes(rng.randrange(16) for _ in range(w * h))
    p = Image.frombytes("P", (w, h), idx)
    p.putpalette([rng.randrange(256) for _ in range(16 * 3)])
    p.info["transparency"] = 3
    ims["palette_trns"] = p
    # 1-bit grey
    w, h = 33, 21
    ims["one_bit"] = Image.frombytes("L", (w, h), bytes(
        255 if (x * x + y * 3 + rng.randrange(4)) % 7 < 3 else 0 for y in range(h)
        for x in range(w))).convert("1", dither=Image.Dither.NONE)
    # RGBA: noise colours, alpha 0, 255 and everything between
    w, h = 37, 23
    rgb = noise_rgb(rng, w, h)
    a = bytes(rng.choice([0, 255, rng.randrange(256), (x * 7) % 256]) for y in range(h)
              for x in range(w))
    im = Image.frombytes("RGB", (w, h), rgb).convert("RGBA")
    im.putalpha(Image.frombytes("L", (w, h), a))
    ims["rgba"] = im
    # RGBA whose shorter side is already S (no resize: Pillow copies)
    w, h = 24, 30
    im = Image.frombytes("RGB", (w, h), noise_rgb(rng, w, h)).convert("RGBA")
    im.putalpha(Image.frombytes("L", (w, h), bytes(rng.randrange(256) for _ in range(w * h))))
    ims["rgba_same_size"] = im
    # grey + alpha
    w, h = 31, 19
    la = Image.frombytes("L", (w, h), bytes((x * 8 + y * 5 + rng.randrange(40)) % 256
                                             for y in range(h) for x in range(w)))
    la = la.convert("LA")
    la.putalpha(Image.frombytes("L", (w, h), bytes(rng.choice([0, 255, rng.randrange(256)])
                                                   for _ in range(w * h))))
    ims["grey_alpha"] = la
    # controls: RGB and grey, the same in both orders
    w, h = 37, 23
    ims["rgb"] = Image.frombytes("RGB", (w, h), noise_rgb(rng, w, h))
    ims["grey"] = Image.frombytes("L", (w, h), bytes(rng.randrange(256) for _ in range(w * h)))
    return ims


def clip_order(im, s, convert_first=False):
    if convert_first:
        im = im.convert("RGB")
    w, h = im.size
    if w <= h:
        size = (s, int(s * h / w))
    else:
        size = (int(s * w / h), s)
    im = im.resize(size, Image.Resampling.BICUBIC)
    left = int(round((size[0] - s) / 2.0))
    top = int(round((size[1] - s) / 2.0))
    im = im.crop((left, top, left + s, top + s))
    return im.convert("RGB")


def ram_order(im, s):
    return im.convert("RGB").resize((s, s), Image.Resampling.BILINEAR)


def main():
    rng = random.Random(17)
    os.makedirs(os.path.join(OUT, "modes"), exist_ok=True)
    ims = make_images(rng)
    lines = ["# made by scripts/make_mode_reference.py; do not edit.",
             "# NAME FILE PIPELINE W H HEX (RGB bytes, row by row)"]
    for name, im in ims.items():
        fname = "modes/%s.png" % name
        path = os.path.join(OUT, fname)
        im.save(path)
        back = Image.open(path)
        assert back.mode == im.mode, (name, back.mode, im.mode)
        for pipe in ("clip24", "clip48", "ram20"):
            s = int(pipe[-2:])
            out = clip_order(back, s) if pipe.startswith("clip") else ram_order(back, s)
            lines.append("%s %s %s %d %d %s" % (name, fname, pipe, out.size[0], out.size[1],
                                                out.tobytes().hex()))
            if pipe.startswith("clip"):
                first = clip_order(back, s, convert_first=True).tobytes()
                d = max(abs(x - y) for x, y in zip(out.tobytes(), first))
                lines.append("# %s (PIL mode %s) %s: CLIP's order vs converting first: max "
                             "difference %d levels" % (name, back.mode, pipe, d))
    with open(os.path.join(OUT, "mode_reference.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for l in lines:
        if l.startswith("# ") and "levels" in l:
            print(l)


if __name__ == "__main__":
    main()
