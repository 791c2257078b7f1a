#!/usr/bin/python3
"""Differential check of libprime's GIF decoder (lib/image/decode_gif.c)
against Pillow: the cases of scripts/make_gif_reference.py under many seeds,
and random damage to them (bytes changed, cut short, extended), each decoded
by Pillow (Image.open(f).convert("RGB")) and by libprime
(prime_image_load_memory through ctypes). Counts the files where both decode
and agree byte for byte, where both refuse, and every disagreement.

    /usr/bin/python3 scripts/check_gif_pillow.py --build build [--seeds 40] [--damaged 20]

Not a test (the test suite reads the committed references); a way to find
what those miss. Exits 1 on any disagreement.
"""
import argparse
import ctypes
import io
import os
import random
import sys
import warnings

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_gif_reference import frame, gif, gif_cases  # noqa: E402


def big_cases(rng):
    """Files past Pillow's first 64 KiB read: an end code before the last
    pixel, at several places around the 64 KiB mark of the LZW data, then
    more file (Pillow reads on and decodes the bytes that follow as LZW data,
    or fails at the end of the file; libprime must do the same)"""
    pal = [rng.randrange(256) for _ in range(3 * 256)]
    out = []
    rest = frame(0, 0, 300, 300, [rng.randrange(256) for _ in range(90000)], mcs=8)
    for n in (30000, 40000, 44000, 46000, 48000, 52000, 60000):
        early = frame(0, 0, 300, 300, [rng.randrange(256) for _ in range(n)], mcs=8)
        out.append(("big_early_end_%d" % n, gif(300, 300, pal, [early, rest])))
        out.append(("big_early_end_alone_%d" % n, gif(300, 300, pal, [early])))
    # an end code inside the stream, the stream going on after it: refused
    # when Pillow has read the whole file by then, decoded when a 64 KiB
    # comment follows the frame
    comment = b"\x21\xfe" + (bytes([255]) + bytes(255)) * 260 + b"\x00"
    for k in (5, 500, 3000):
        px = [rng.randrange(16) for _ in range(100 * 80)]
        mid = frame(0, 0, 100, 80, px, mcs=4, end_at=k)
        out.append(("end_code_inside_%d" % k, gif(100, 80, pal[:48], [mid])))
        out.append(("end_code_inside_then_comment_%d" % k, gif(100, 80, pal[:48],
                                                               [mid, comment])))
    return out


def pillow(data):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data)).convert("RGB")
        return im.size, im.tobytes()
    except Exception as e:  # noqa: BLE001 - any refusal counts
        return None, type(e).__name__


def damage(rng, data):
    b = bytearray(data)
    kind = rng.randrange(4)
    if kind == 0:  # a few bytes changed
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 1:  # cut short
        b = b[:rng.randrange(6, len(b))]
    elif kind == 2:  # one byte changed past the header
        b[rng.randrange(13, len(b))] ^= 1 << rng.randrange(8)
    else:  # bytes inserted
        i = rng.randrange(13, len(b))
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--damaged", type=int, default=20, help="damaged variants per file")
    a = ap.parse_args()
    lib = ctypes.CDLL(os.path.join(a.build, "lib", "libprime.so.1"))
    lib.prime_image_load_memory.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                            ctypes.c_uint64, ctypes.POINTER(ctypes.c_void_p)]
    lib.prime_image_width.argtypes = lib.prime_image_height.argtypes = [ctypes.c_void_p]
    lib.prime_image_width.restype = lib.prime_image_height.restype = ctypes.c_uint32
    lib.prime_image_copy_pixels.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.c_void_p]
    lib.prime_image_destroy.argtypes = [ctypes.c_void_p]
    lib.prime_last_error.restype = ctypes.c_char_p

    def prime(data):
        im = ctypes.c_void_p()
        # Pillow's limit: DecompressionBombError beyond 2 x MAX_IMAGE_PIXELS
        st = lib.prime_image_load_memory(data, len(data), b"x.gif", 2 * Image.MAX_IMAGE_PIXELS,
                                         ctypes.byref(im))
        if st != 0:
            return None, lib.prime_last_error().decode()
        w, h = lib.prime_image_width(im), lib.prime_image_height(im)
        buf = ctypes.create_string_buffer(3 * w * h)
        lib.prime_image_copy_pixels(im, buf, 3 * w * h, None)
        lib.prime_image_destroy(im)
        return (w, h), buf.raw

    counts = {"both decode, same bytes": 0, "both refuse": 0}
    bad = []
    for seed in range(a.seeds):
        rng = random.Random(seed)
        for name, data in gif_cases(rng) + (big_cases(rng) if seed < 4 else []):
            variants = [data] + [damage(rng, data) for _ in range(a.damaged)]
            for k, v in enumerate(variants):
                ps, pp = pillow(v)
                cs, cp = prime(v)
                if ps is None and cs is None:
                    counts["both refuse"] += 1
                elif ps is not None and cs == ps and cp == pp:
                    counts["both decode, same bytes"] += 1
                else:
                    what = ("Pillow %s, libprime %s" %
                            ("refuses (%s)" % pp if ps is None else "decodes %dx%d" % ps,
                             "refuses (%s)" % cp if cs is None else "decodes %dx%d" % cs))
                    if ps is not None and cs == ps:
                        what = "different pixels"
                    bad.append((seed, name, k, what, v))
    for k, v in counts.items():
        print("%-24s %d" % (k, v))
    print("%-24s %d" % ("disagree", len(bad)))
    for seed, name, k, what, v in bad[:30]:
        print("  seed %d %s variant %d: %s" % (seed, name, k, what))
    if bad:
        with open("/tmp/gif_disagree.gif", "wb") as f:
            f.write(bad[0][4])
        print("first disagreement written to /tmp/gif_disagree.gif")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
