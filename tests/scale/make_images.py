#!/usr/bin/env python3
"""Write N small PNG images (standard library only) for the shard tests:
colours, brightness, noise and shapes vary, so the properties tagger gives
them different tags. Also writes list.txt (a shuffled order) and labels.csv
whose classes first appear at different points of the list, so that shards
add new classes.

    make_images.py OUT_DIR N
"""
import os
import random
import struct
import sys
import zlib


def png(path, w, h, pixel):
    raw = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(w)) for y in range(h))
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(15)
    os.makedirs(os.path.join(out, "img"), exist_ok=True)
    names = []
    for i in range(n):
        w, h = rng.choice([(24, 24), (32, 20), (20, 32)])
        base = [rng.randrange(256) for _ in range(3)]
        noise = rng.choice([0, 0, 60])
        scale = rng.choice([0.2, 1.0, 1.0, 1.6])
        seed = rng.randrange(1 << 30)
        prng = random.Random(seed)
        def pixel(x, y, base=base, noise=noise, scale=scale, prng=prng):
            return [max(0, min(255, int(c * scale) + (prng.randrange(-noise, noise + 1) if noise else 0)
                               + (20 if (x // 4 + y // 4) % 2 else 0))) for c in base]
        name = "img/im%03d.png" % i
        png(os.path.join(out, name), w, h, pixel)
        names.append(name)
    order = names[:]
    rng.shuffle(order)
    with open(os.path.join(out, "list.txt"), "w") as f:
        f.write("".join(s + "\n" for s in order))
    # class k first appears around position k * n / 6 of the list
    classes = ["zebra", "ant", "moth", "bee", "yak", "cow"]
    with open(os.path.join(out, "labels.csv"), "w") as f:
        f.write("image,label\n")
        for pos, s in enumerate(order):
            k = rng.randrange(min(len(classes), 1 + pos * len(classes) // n))
            f.write("%s,%s\n" % (s, classes[k]))


main()
