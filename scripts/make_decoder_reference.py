#!/usr/bin/python3
"""JPEG and PNG files and what Pillow decodes from them, for
tests/test_image.c (Tests image.decoders_match_pillow and
image.jpeg_draft_matches_pillow; issue 17).

Run with Debian's /usr/bin/python3 (python3-pil, python3-skimage):
    /usr/bin/python3 scripts/make_decoder_reference.py

The pictures are real photos that Debian ships with scikit-image
(skimage/data: chelsea.png, a cat; camera.png, a grey photo), cut to
64 x 56 pixels and re-encoded here (the repository keeps small files):
JPEGs with 4:2:0, 4:2:2 and 4:4:4 chroma, progressive, greyscale; PNGs
with 16 bits per channel (RGB and grey) and Adam7-interlaced, written by
hand below because Pillow writes neither.

Writes tests/data/images/decoders/* and tests/data/images/decoder_reference.txt.
Each line: NAME FILE CASE W H HEX, where CASE is
  - decode:   Image.open(f).convert("RGB"), the pixels of a full decode;
  - clipS:    Image.open(f); draft("RGB", (rw, rh)) with (rw, rh) the size
              CLIP's Resize(S) gives the full image; then CLIP's
              Resize(S, BICUBIC), CenterCrop(S), convert("RGB") (JPEG only);
  - ramS:     draft("RGB", (S, S)); convert("RGB"); Resize((S, S)) bilinear.
"""
import os
import struct
import zlib

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "data", "images")
DIR = os.path.join(OUT, "decoders")
SK = "/usr/lib/python3/dist-packages/skimage/data"
W, H = 64, 56


def photo(name, box):
    im = Image.open(os.path.join(SK, name))
    return im.crop(box)


def chunk(t, data):
    c = t + data
    return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)


def png(path, w, h, depth, ctype, rows, interlace=0):
    """rows(x0, dx, y0, dy) -> raw scanlines (filter byte 0 each) of a pass."""
    if interlace:
        passes = [(0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4),
                  (1, 2, 0, 2), (0, 1, 1, 2)]
        raw = b"".join(rows(x0, dx, y0, dy) for x0, dx, y0, dy in passes)
    else:
        raw = rows(0, 1, 0, 1)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def samples16(im, channels):
    """16-bit samples from 8-bit ones: v * 257 plus a varying low byte."""
    px = im.load()

    def value(x, y, c):
        v = px[x, y]
        v = v[c] if channels > 1 else v
        return v * 256 + (x * 37 + y * 11 + c * 5) % 256
    return value


def rows16(w, h, channels, value):
    def rows(x0, dx, y0, dy):
        out = bytearray()
        for y in range(y0, h, dy):
            xs = range(x0, w, dx)
            if not xs:
                continue
            out.append(0)
            for x in xs:
                for c in range(channels):
                    out += struct.pack(">H", value(x, y, c))
        return bytes(out)
    return rows


def rows8(im):
    px = im.load()
    w, h = im.size

    def rows(x0, dx, y0, dy):
        out = bytearray()
        for y in range(y0, h, dy):
            xs = range(x0, w, dx)
            if not xs:
                continue
            out.append(0)
            for x in xs:
                out += bytes(px[x, y])
        return bytes(out)
    return rows


def clip_size(w, h, s):
    if w <= h:
        return s, int(s * h / w)
    return int(s * w / h), s


def center_crop(im, s):
    w, h = im.size
    left, top = int(round((w - s) / 2.0)), int(round((h - s) / 2.0))
    return im.crop((left, top, left + s, top + s))


def main():
    os.makedirs(DIR, exist_ok=True)
    cat = photo("chelsea.png", (200, 60, 200 + W, 60 + H)).convert("RGB")
    grey = photo("camera.png", (180, 80, 180 + W, 80 + H)).convert("L")
    files = []
    for name, kw in [("jpeg_420", {"subsampling": 2}), ("jpeg_422", {"subsampling": 1}),
                     ("jpeg_444", {"subsampling": 0}),
                     ("jpeg_progressive", {"subsampling": 2, "progressive": True})]:
        cat.save(os.path.join(DIR, name + ".jpg"), quality=90, **kw)
        files.append((name, name + ".jpg", True))
    grey.save(os.path.join(DIR, "jpeg_grey.jpg"), quality=90)
    files.append(("jpeg_grey", "jpeg_grey.jpg", True))
    png(os.path.join(DIR, "png_rgb16.png"), W, H, 16, 2, rows16(W, H, 3, samples16(cat, 3)))
    png(os.path.join(DIR, "png_interlaced.png"), W, H, 8, 2, rows8(cat), interlace=1)
    png(os.path.join(DIR, "png_rgb16_interlaced.png"), W, H, 16, 2,
        rows16(W, H, 3, samples16(cat, 3)), interlace=1)
    files += [("png_rgb16", "png_rgb16.png", False), ("png_interlaced", "png_interlaced.png", False),
              ("png_rgb16_interlaced", "png_rgb16_interlaced.png", False)]
    lines = ["# NAME FILE CASE W H HEX (scripts/make_decoder_reference.py)"]
    for name, fn, is_jpeg in files:
        path = os.path.join(DIR, fn)
        im = Image.open(path).convert("RGB")
        lines.append("%s decoders/%s decode %d %d %s" % (name, fn, im.width, im.height,
                                                        im.tobytes().hex()))
        if not is_jpeg:
            continue
        for s in (6, 12, 28):
            im = Image.open(path)
            rw, rh = clip_size(im.width, im.height, s)
            im.draft("RGB", (rw, rh))
            r = center_crop(im.resize(clip_size(im.width, im.height, s), Image.BICUBIC), s)
            r = r.convert("RGB")
            lines.append("%s decoders/%s clip%d %d %d %s" % (name, fn, s, s, s, r.tobytes().hex()))
        im = Image.open(path)
        im.draft("RGB", (14, 14))
        r = im.convert("RGB").resize((14, 14), Image.BILINEAR)
        lines.append("%s decoders/%s ram14 14 14 %s" % (name, fn, r.tobytes().hex()))
    with open(os.path.join(OUT, "decoder_reference.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
