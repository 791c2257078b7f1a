#!/usr/bin/python3
"""Expected bytes of the resize / centre-crop cases of tests/test_image.c,
computed independently with Pillow (Debian's python3-pil), the library that
torchvision's Resize uses on PIL images.

Writes tests/data/images/resize_reference.txt and the bad inputs of
tests/data/images/bad/. Run with Debian's python3:
    /usr/bin/python3 scripts/make_image_reference.py

The source images are synthetic and defined identically in the C test
(`synth` there, `synth` here): kind 0 is LCG noise, kind 1 a pattern of
ramps and stripes. Each case is resized as PIL's
Image.resize(size, filter, reducing_gap=None) does, after computing the
size exactly as torchvision's Resize(int) does (shorter side to S, longer
side int(S * long / short)) and cropping as torchvision's CenterCrop does
(left = int(round((w - W) / 2.0)), Python rounds halves to even).

Each line: name kind w h seed mode shorter out_w out_h filter fnv1a64 step
samples, where samples are the hex bytes at offsets 0, step, 2*step, ...
of the output (RGB, row by row); the test compares the FNV-1a hash of every
byte (exact match) and reports the largest difference over the samples.
"""
import os
import sys

from PIL import Image

# mode: 1 = shorter side + centre crop, 2 = exact size; filter: 1 bilinear, 2 bicubic
CASES = [
    ("shrink_both", 0, 37, 23, 1, 2, 0, 16, 11, 1),
    ("enlarge_both", 0, 37, 23, 2, 2, 0, 80, 50, 1),
    ("vertical_only", 0, 37, 23, 3, 2, 0, 37, 9, 1),
    ("horizontal_only_bicubic", 0, 37, 23, 4, 2, 0, 13, 23, 2),
    ("pattern_bicubic", 1, 101, 61, 0, 2, 0, 30, 20, 2),
    ("clip_preset", 0, 500, 375, 5, 1, 224, 224, 224, 2),
    ("ram_preset", 1, 500, 375, 0, 2, 0, 384, 384, 1),
    ("imagenet_preset_portrait", 0, 375, 500, 6, 1, 256, 224, 224, 1),
    ("odd_crop_half_even", 1, 333, 200, 0, 1, 100, 99, 77, 1),
    ("one_pixel_enlarged", 0, 1, 1, 7, 2, 0, 5, 3, 1),
    ("no_resize_needed", 0, 7, 5, 8, 1, 5, 5, 5, 1),
    ("enlarge_bicubic_overshoot", 1, 9, 7, 0, 2, 0, 40, 31, 2),
]


def synth(kind, w, h, seed):
    out = bytearray(w * h * 3)
    state = seed
    i = 0
    for y in range(h):
        for x in range(w):
            for c in range(3):
                if kind == 0:
                    state = (state * 1103515245 + 12345) & 0xFFFFFFFF
                    v = (state >> 16) & 0xFF
                elif c == 0:
                    v = x * 255 // max(w - 1, 1)
                elif c == 1:
                    v = y * 255 // max(h - 1, 1)
                else:
                    v = ((x // 3 + y // 2) % 2) * 255
                out[i] = v
                i += 1
    return bytes(out)


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def run(case):
    name, kind, w, h, seed, mode, shorter, ow, oh, filt = case
    im = Image.frombytes("RGB", (w, h), synth(kind, w, h, seed))
    resample = Image.BILINEAR if filt == 1 else Image.BICUBIC
    if mode == 2:
        out = im.resize((ow, oh), resample, reducing_gap=None)
    else:
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = shorter, int(shorter * long / short)
        nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
        if (nw, nh) != (w, h):
            im = im.resize((nw, nh), resample, reducing_gap=None)
        left = int(round((nw - ow) / 2.0))
        top = int(round((nh - oh) / 2.0))
        out = im.crop((left, top, left + ow, top + oh))
    data = out.tobytes()
    assert len(data) == ow * oh * 3
    step = max(1, -(-len(data) // 2048))
    samples = data[::step].hex()
    return "%s %d %d %d %d %d %d %d %d %d %016x %d %s" % (
        name, kind, w, h, seed, mode, shorter, ow, oh, filt, fnv1a64(data), step, samples)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "data", "images", "resize_reference.txt")
    import PIL
    lines = ["# made by scripts/make_image_reference.py with Pillow %s; do not edit"
             % PIL.__version__]
    lines += [run(c) for c in CASES]
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s (%d cases)" % (path, len(CASES)), file=sys.stderr)




def write_bad_files(root):
    """The committed bad inputs of tests/data/images/bad/ (tests/data/images/README.md)."""
    import io
    import struct
    import zlib
    bad = os.path.join(root, "tests", "data", "images", "bad")
    os.makedirs(bad, exist_ok=True)
    im = Image.frombytes("RGB", (64, 48), synth(0, 64, 48, 11))
    png = io.BytesIO()
    im.save(png, "PNG")
    jpg = io.BytesIO()
    im.save(jpg, "JPEG", quality=90)
    png, jpg = png.getvalue(), jpg.getvalue()
    sos = jpg.index(b"\xff\xda")

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    huge_png = (b"\x89PNG\r\n\x1a\n"
                + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    # BMP header: 30000 x 30000 pixels, 24 bits, no pixel data
    huge_bmp = (b"BM" + struct.pack("<IHHI", 54, 0, 0, 54)
                + struct.pack("<IiiHHIIiiII", 40, 30000, 30000, 1, 24, 0, 0, 2835, 2835, 0, 0))
    files = {
        "truncated.png": png[: len(png) // 2],
        "truncated.jpg": jpg[: sos + 4],
        "empty.png": b"",
        "wrong_magic.jpg": b"this is not an image, only text pretending to be one\n",
        "huge.png": huge_png,
        "huge.bmp": huge_bmp,
        "unsupported.ppm": b"P6\n4 4\n255\n" + bytes(48),
        "truncated.gif": b"GIF89a\x05\x00",
    }
    for name, data in files.items():
        with open(os.path.join(bad, name), "wb") as f:
            f.write(data)
    # a good two-frame GIF (4 x 3): frame 1 red, frame 2 blue
    frames = [Image.new("RGB", (4, 3), (255, 0, 0)), Image.new("RGB", (4, 3), (0, 0, 255))]
    frames[0].save(os.path.join(root, "tests", "data", "images", "two_frames.gif"),
                   save_all=True, append_images=frames[1:], duration=100, loop=0)


if __name__ == "__main__":
    main()
    write_bad_files(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
