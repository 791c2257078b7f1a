#!/usr/bin/python3
"""Where the C preprocessing spends its time, per category of
bench/image_real/run.py's photo set: perf samples of prime-bench-image
(one core) grouped into decode (the decoders, inflate, unfiltering, the
decode step's own copies), resample (resize passes, premultiplication,
nearest, 16-bit grey), normalise, the kernel (page faults of fresh
buffers) and the rest. Reports figures; not a test.

    /usr/bin/python3 bench/image_real/profile.py [--build build] [--preset clip|ram]
        [--decoder auto|spng|stb] [--draft 0|1] [--set DIR]

Needs perf (Debian: linux-perf) and the photo set that run.py writes
(default BUILD/bench-images; run run.py first, or give --set).
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the photo set and its categories)

GROUPS = [
    ("decode", ["libturbojpeg", "libjpeg", "libdeflate", "libspng", "libz", "libstb",
                "unfilter", "convert_row", "prime__image_decode", "stbi", "paeth", "avg_simd"]),
    ("resample", ["hpass", "vpass", "resize_px", "premultiplied", "nearest_region", "grey16",
                  "precompute"]),
    ("normalise", ["normalise", "preprocess"]),
    ("kernel", ["[kernel"]),
]


def group_of(dso, sym):
    for name, keys in GROUPS:
        if any(k in dso or k in sym for k in keys):
            return name
    return "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--preset", default="clip")
    ap.add_argument("--decoder", default="auto")
    ap.add_argument("--draft", default="0")
    ap.add_argument("--set")
    a = ap.parse_args()
    exe = os.path.join(a.build, "bench", "prime-bench-image")
    files = run.make_set(a.set or os.path.join(a.build, "bench-images"))
    env = dict(os.environ)
    env.pop("PRIME_IMAGE_DECODER", None)
    if a.decoder != "auto":
        env["PRIME_IMAGE_DECODER"] = a.decoder
    cats = []
    for c, _, _ in files:
        if c not in cats:
            cats.append(c)
    print("| category | ms / image | decode | resample | normalise | kernel | other |")
    print("|---|---|---|---|---|---|---|")
    for c in cats:
        fs = [f for cc, f, _ in files if cc == c]
        r = subprocess.run([exe, a.preset, a.draft, "3"] + fs, env=env, capture_output=True,
                           text=True, check=True)
        ms = sum(float(line.split("\t")[1]) for line in r.stdout.splitlines()) / len(fs)
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "perf.data")
            subprocess.run(["perf", "record", "-q", "-o", data, "--", exe, a.preset, a.draft,
                            "3"] + fs, env=env, capture_output=True, check=True)
            rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort",
                                  "dso,sym", "--stdio", "-F", "overhead,dso,sym"],
                                 capture_output=True, text=True, check=True).stdout
        share = {}
        for line in rep.splitlines():
            parts = line.split()
            if not parts or not parts[0].endswith("%"):
                continue
            pct = float(parts[0][:-1])
            dso = parts[1] if len(parts) > 1 else ""
            sym = " ".join(parts[2:])
            g = group_of(dso, sym)
            share[g] = share.get(g, 0.0) + pct
        tot = sum(share.values()) or 1.0
        print("| %s | %.1f | %s |" % (c, ms, " | ".join(
            "%.0f %%" % (100 * share.get(g, 0.0) / tot)
            for g in ["decode", "resample", "normalise", "kernel", "other"])))


if __name__ == "__main__":
    main()
