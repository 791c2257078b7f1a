#!/usr/bin/env python3
"""Figures for the Python package (issue 13): building a store from Python
data (lists, records, NumPy, a DataFrame) against the C CSV reader on the
same data, and exporting a large result (columns, to_dataframe, to_dicts,
membership). Prints a table; not a test.

    build/bench/prime-gen --classes 40 --images-per-class 5000 --planted 80 \\
        --seed 13 --output /tmp/b200k.csv
    PRIME_LIBRARY=build/lib/libprime.so PYTHONPATH=python \\
        /usr/bin/python3 bench/python_build.py /tmp/b200k.csv [MIN_SIZE MIN_DROP]
"""
from __future__ import annotations

import csv
import sys
import time
from typing import Any, Callable, List, Tuple

import libprime


CPU: List[float] = []  # the CPU time (all threads) of the last best() call


def best(fn: Callable[[], Any], reps: int = 5) -> Tuple[float, Any]:
    """Smallest wall time over reps runs (and in CPU[0] the smallest CPU
    time of the process, all threads: steadier on a shared machine)."""
    t_best, c_best, out = float("inf"), float("inf"), None
    for _ in range(reps):
        if hasattr(out, "close"):
            out.close()
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t0)
        c_best = min(c_best, time.process_time() - c0)
    CPU[:] = [c_best]
    return t_best, out


def main(argv: List[str]) -> int:
    path = argv[1]
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            rows.append(row)
    images = [row[0] for row in rows]
    classes = [row[1] for row in rows]
    tag_str = [row[2] for row in rows]
    tag_lists = [t.split("|") if t else [] for t in tag_str]
    outcomes = [float(row[3]) for row in rows]
    n = len(rows)
    print("%d images, %d tag references" % (n, sum(len(t) for t in tag_lists)))
    figures: List[Tuple[str, float, float]] = []
    t, s = best(lambda: libprime.TagStore.load(path))
    figures.append(("C CSV reader (TagStore.load)", t, CPU[0]))
    ref = s
    t, s = best(lambda: libprime.TagStore.from_lists(images, classes, tag_lists))
    figures.append(("from_lists (lists of tag lists)", t, CPU[0]))
    s.close()
    t, s = best(lambda: libprime.TagStore.from_lists(images, classes, tag_str))
    figures.append(("from_lists (\"a|b\" strings)", t, CPU[0]))
    s.close()
    recs = list(zip(images, classes, tag_lists))
    t, s = best(lambda: libprime.TagStore.from_records(recs))
    figures.append(("from_records (tuples)", t, CPU[0]))
    s.close()

    def one_by_one() -> libprime.TagStore:
        st = libprime.TagStore()
        for im, c, tg in zip(images, classes, tag_lists):
            st.add_image(im, c, tg)
        return st.freeze()
    t, s = best(one_by_one, 1)
    figures.append(("add_image per image (the old from_lists)", t, CPU[0]))
    s.close()
    try:
        import numpy as np
        ai, ac = np.array(images), np.array(classes)
        t, s = best(lambda: libprime.TagStore.from_lists(ai, ac, tag_lists))
        figures.append(("from_lists (NumPy str arrays, tag lists)", t, CPU[0]))
        s.close()
    except ImportError:
        pass
    try:
        import pandas as pd
        df = pd.DataFrame({"image": images, "class": classes, "tags": tag_str,
                           "correct": outcomes})
        t, s = best(lambda: libprime.from_dataframe(df)[0])
        figures.append(("from_dataframe (\"a|b\" tags, with outcomes)", t, CPU[0]))
        s.close()
        df["tags"] = tag_lists
        t, s = best(lambda: libprime.from_dataframe(df)[0])
        figures.append(("from_dataframe (tag lists, with outcomes)", t, CPU[0]))
        s.close()
    except ImportError:
        pass
    print("%-44s %8s %8s %8s" % ("", "wall s", "CPU s", "CPU/CSV"))
    for name, sec, cpu in figures:
        print("%-44s %8.3f %8.3f %8.2f" % (name, sec, cpu, cpu / figures[0][2]))

    out = libprime.Outcomes(outcomes)
    min_size = int(argv[2]) if len(argv) > 2 else 14
    min_drop = float(argv[3]) if len(argv) > 3 else 0.06
    t0 = time.perf_counter()
    res = libprime.search(ref, out, min_size=min_size, min_drop=min_drop, max_tags=3)
    t_search = time.perf_counter() - t0
    print("\nsearch (min_size %d, min_drop %g, max_tags 3): %d modes in %.3f s"
          % (min_size, min_drop, len(res), t_search))
    try:  # imports out of the timings
        import numpy  # noqa: F401
        import pandas  # noqa: F401
    except ImportError:
        pass
    res.columns()
    for name, fn in (("Result.columns()", res.columns),
                     ("Result.to_dataframe()", getattr(res, "to_dataframe")),
                     ("Result.to_dicts()", res.to_dicts),
                     ("list(result) (FailureMode objects)", lambda: list(res)),
                     ("Result.membership(store, sparse='csr')",
                      lambda: res.membership(ref, sparse="csr")),
                     ("Result.equal_images(store)", lambda: res.equal_images(ref))):
        try:
            t, _ = best(fn, 2)
        except ImportError:
            continue
        print("%-44s %8.3f s" % (name, t))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
