#!/usr/bin/env python3
"""From a DataFrame of image paths, labels and predictions to failure modes,
their images and a report, as one would in a notebook (run headless by
tests/python/test_notebook.py).

    PYTHONPATH=python PRIME_LIBRARY=build/lib/libprime.so \\
        /usr/bin/python3 examples/python/notebook.py --workdir /tmp/nb [--prime build/tools/prime]

It makes a small image set (two classes; the classifier is wrong on most
dark images), tags it with the model-free properties tagger, searches,
looks at the worst mode's images, and writes report.html (with `prime
report` when the CLI is given, else the result's own HTML table).
"""
from __future__ import annotations

import argparse
import os
import random
import struct
import subprocess
import sys
from typing import Any, List, Optional

try:
    import libprime
except ImportError:  # run from a source tree without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "..", "python"))
    import libprime

import pandas as pd  # type: ignore[import]


def write_bmp(path: str, w: int, h: int, rgb: bytes) -> None:
    """A 24-bit BMP (no third-party imaging library needed)."""
    row = (3 * w + 3) & ~3
    data = bytearray()
    for y in range(h - 1, -1, -1):  # bottom-up rows, BGR
        line = bytearray()
        for x in range(w):
            r, g, b = rgb[3 * (y * w + x): 3 * (y * w + x) + 3]
            line += bytes((b, g, r))
        data += line + b"\0" * (row - 3 * w)
    header = struct.pack("<2sIHHI", b"BM", 54 + len(data), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(data), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + data)


def make_images(root: str, n: int = 240, seed: int = 5) -> Any:
    """The DataFrame a notebook would start from: path, label, prediction."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "cat" if i % 2 else "dog"
        dark = rng.random() < 0.3
        base = rng.randint(10, 45) if dark else rng.randint(120, 230)
        w, h = (24, 16) if rng.random() < 0.5 else (16, 16)
        tint = (base, base // 2, base // 3) if label == "cat" else (base // 3, base // 2, base)
        px = bytes(max(0, min(255, c + rng.randint(-8, 8))) for _ in range(w * h) for c in tint)
        os.makedirs(os.path.join(root, label), exist_ok=True)
        path = os.path.join(root, label, "img%03d.bmp" % i)
        write_bmp(path, w, h, px)
        wrong = rng.random() < (0.7 if dark else 0.08)
        pred = ("dog" if label == "cat" else "cat") if wrong else label
        rows.append({"path": path, "label": label, "prediction": pred})
    return pd.DataFrame(rows)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--prime", help="the prime program, for `prime report`")
    args = ap.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    images = os.path.join(args.workdir, "images")
    df = make_images(images)

    # 1. tag the images (model-free tagger: brightness, colour, shape, ...)
    store = libprime.TagStore()
    with libprime.Tagger.properties() as tagger:
        names = [os.path.relpath(p, images) for p in df["path"]]
        tagger.tag_files_strict(list(df["path"]), list(df["label"]), store, names)
    store.freeze()
    # 2. outcomes from labels and predictions (strings are fine)
    outcomes = libprime.Outcomes.from_labels(df["label"], df["prediction"])
    # 3. search and look at the modes as a DataFrame
    result = libprime.search(store, outcomes, min_size=10, max_tags=2, min_drop=0.2)
    modes = result.to_dataframe()
    print(modes[["class_name", "tags", "size", "accuracy", "drop"]].to_string())
    # 4. the images of the worst mode
    worst = int(modes["drop"].idxmax())
    files = [os.path.join(images, store.image_name(int(k)))
             for k in result.mode_images(store, worst)]
    print("\nworst mode: %s; %d images, e.g. %s" % (result[worst].description, len(files),
                                                     os.path.basename(files[0])))
    members = result.membership(store, sparse="csr")
    print("images in at least one mode: %d of %d"
          % (sum(1 for k in range(len(store)) if members.modes_of(k)), len(store)))
    # 5. a report
    res_json = os.path.join(args.workdir, "modes.json")
    result.write(res_json)
    report = os.path.join(args.workdir, "report.html")
    if args.prime:
        store_path = os.path.join(args.workdir, "tags.prime")
        store.save(store_path)
        out_csv = os.path.join(args.workdir, "outcomes.csv")
        with open(out_csv, "w", encoding="utf-8") as f:
            f.write("image,correct\n")
            for k in range(len(store)):
                f.write("%s,%d\n" % (store.image_name(k), int(outcomes[k])))
        subprocess.run([args.prime, "report", "--result", res_json, "--tags", store_path,
                        "--outcomes", out_csv, "--images", images, "--output", report],
                       check=True)
    else:
        with open(report, "w", encoding="utf-8") as f:
            f.write("<!doctype html><meta charset=utf-8><title>failure modes</title>"
                    + result._repr_html_())
    print("report: %s" % report)
    result.close()
    outcomes.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
