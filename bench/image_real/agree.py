#!/usr/bin/python3
"""libprime's preprocessed tensors against PIL + torchvision's on the photo
set of bench/image_real/run.py, per category and preset (CLIP 224, RAM
384): the largest absolute difference and how many images are identical.
Reports figures; not a test (the Pillow reference tests of suite image
are).

    /usr/bin/python3 bench/image_real/agree.py [--build build] [--set DIR]

Uses the Python package in python/ with the build's libprime
(PRIME_LIBRARY) and the photo set run.py writes (default BUILD/bench-images).
"""
import argparse
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "python"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--set")
    a = ap.parse_args()
    os.environ["PRIME_LIBRARY"] = os.path.abspath(os.path.join(a.build, "lib", "libprime.so.1"))
    import numpy as np
    from PIL import Image as PImage

    import libprime
    import run
    files = run.make_set(a.set or os.path.join(a.build, "bench-images"))
    rows = []
    for cat, f, _ in files:
        for preset in ("clip", "ram"):
            c = np.asarray(libprime.Image.load(f).preprocess(preset))
            p = run.pil_pipeline(preset)(PImage.open(f)).numpy()
            rows.append((cat, preset, float(np.abs(c - p).max())))
    print("| category | preset | n | max abs difference | identical |")
    print("|---|---|---|---|---|")
    cats = []
    for c, _, _ in files:
        if c not in cats:
            cats.append(c)
    for cat in cats:
        for preset in ("clip", "ram"):
            d = [r[2] for r in rows if r[0] == cat and r[1] == preset]
            print("| %s | %s | %d | %.3g | %d |" % (cat, preset, len(d), max(d),
                                                  sum(x == 0 for x in d)))


if __name__ == "__main__":
    main()
