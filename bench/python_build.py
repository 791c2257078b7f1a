#!/usr/bin/env python3
"""Figures for the Python package (issue 13): building a store from Python
data (lists, records, NumPy, a DataFrame) against the C CSV reader on the
same data, with the compiled packer libprime._pack and with the pure-Python
one, and exporting a large result (columns, to_dataframe, to_dicts,
membership). Prints a table; not a test.

    build/bench/prime-gen --classes 40 --images-per-class 5000 --planted 80 \\
        --seed 13 --output /tmp/b200k.csv
    PRIME_LIBRARY=build/lib/libprime.so PYTHONPATH=python \\
        PRIME_PACK_MODULE=$PWD/build/_pack.cpython-311-x86_64-linux-gnu.so \\
        /usr/bin/python3 bench/python_build.py /tmp/b200k.csv [MIN_SIZE MIN_DROP]
"""
from __future__ import annotations

import csv
import ctypes
import sys
import time
from typing import Any, Callable, List, Tuple

import libprime


REPS = 7  # rounds over all building routes

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
    t, s = best(lambda: libprime.TagStore.load(path), 1)
    ref = s
    recs = list(zip(images, classes, tag_lists))
    dicts = [{"image": i, "class": c, "tags": tg} for i, c, tg in recs]
    try:
        import numpy as np
    except ImportError:
        np = None
    try:
        import pandas as pd
    except ImportError:
        pd = None
    from libprime import _core
    compiled = _core._packx
    packers = [("", compiled)]
    if compiled is not None:  # the compiled packer, then the pure-Python one
        packers.append((", pure Python", None))
    routes: List[Tuple[str, Any, Callable[[], Any]]] = [
        ("C CSV reader (TagStore.load)", compiled, lambda: libprime.TagStore.load(path))]

    # the same names as shared str objects (one per distinct name, as a
    # tagger's vocabulary or a categorical column gives them; str.split
    # above makes a new object for every reference)
    vocab: dict = {}
    shared = [[vocab.setdefault(t, t) for t in tl] for tl in tag_lists]
    shared_recs = list(zip(images, classes, shared))

    def packed_only(tags: List[Any]) -> Callable[[], Any]:
        """The C call alone on ready buffers, and freeze: the floor of the
        routes below (the packing is what they add)."""
        cb = _core._pack(classes, _core._class_text, "class", 1)
        ib = _core._pack(images, _core._image_text, "image name", 0)
        tb, cnt = _core._pack_tags(tags)

        def run() -> libprime.TagStore:
            st, first = libprime.TagStore(), ctypes.c_uint32()
            _core._check(_core._l().prime_tagstore_add_packed(
                st._p(), len(classes), ib, len(ib), cb, len(cb), tb, len(tb),
                _core._ptr_of(cnt, ctypes.c_uint32), ctypes.byref(first)))
            return st.freeze()
        return run
    routes.append(("prime_tagstore_add_packed alone (tag lists)", None, packed_only(tag_lists)))
    routes.append(("prime_tagstore_add_packed alone (\"a|b\")", None, packed_only(tag_str)))
    if compiled is not None and hasattr(compiled, "code_tags"):
        def coded_only() -> Callable[[], Any]:
            """prime_tagstore_add_coded alone on ready coded columns."""
            cc = compiled.code_classes(classes)
            ct = compiled.code_tags(tag_lists, 2 ** 32 - 1)
            ib = compiled.pack_column(images, 0)

            def run() -> libprime.TagStore:
                st, first = libprime.TagStore(), ctypes.c_uint32()
                _core._check(_core._l().prime_tagstore_add_coded(
                    st._p(), len(classes), ib, len(ib), cc[0], len(cc[0]), cc[1], cc[2],
                    ct[0], len(ct[0]), ct[1], ct[2], len(ct[2]) // 4, ct[3],
                    ctypes.byref(first)))
                return st.freeze()
            return run
        routes.append(("prime_tagstore_add_coded alone (tag lists)", None, coded_only()))
    for suffix, packer in packers:
        routes += [
            ("from_lists (lists of tag lists)" + suffix, packer,
             lambda: libprime.TagStore.from_lists(images, classes, tag_lists)),
            ("from_lists (\"a|b\" strings)" + suffix, packer,
             lambda: libprime.TagStore.from_lists(images, classes, tag_str)),
            ("from_records (tuples)" + suffix, packer,
             lambda: libprime.TagStore.from_records(recs)),
            ("from_records (dicts)" + suffix, packer,
             lambda: libprime.TagStore.from_records(dicts)),
            ("from_lists (shared name objects)" + suffix, packer,
             lambda: libprime.TagStore.from_lists(images, classes, shared)),
            ("from_records (tuples, shared names)" + suffix, packer,
             lambda: libprime.TagStore.from_records(shared_recs)),
        ]
        if np is not None:
            ai, ac = np.array(images), np.array(classes)
            at = np.empty(len(tag_lists), dtype=object)
            at[:] = tag_lists
            routes.append(("from_lists (NumPy str arrays, tag lists)" + suffix, packer,
                           lambda: libprime.TagStore.from_lists(ai, ac, tag_lists)))
            routes.append(("from_lists (NumPy object array of lists)" + suffix, packer,
                           lambda: libprime.TagStore.from_lists(ai, ac, at)))
        if pd is not None:
            df = pd.DataFrame({"image": images, "class": classes, "tags": tag_str,
                               "correct": outcomes})
            dfl = df.copy()
            dfl["tags"] = tag_lists
            routes.append(("from_dataframe (\"a|b\" tags, with outcomes)" + suffix, packer,
                           lambda: libprime.from_dataframe(df)[0]))
            routes.append(("from_dataframe (tag lists, with outcomes)" + suffix, packer,
                           lambda: libprime.from_dataframe(dfl)[0]))
            dfs = df.copy()
            dfs["tags"] = shared
            routes.append(("from_dataframe (shared names, with outcomes)" + suffix, packer,
                           lambda: libprime.from_dataframe(dfs)[0]))
    # round robin, best of REPS: a change of the machine's load hits all
    # routes alike
    walls = [float("inf")] * len(routes)
    cpus = [float("inf")] * len(routes)
    for _ in range(REPS):
        for k, (name, packer, fn) in enumerate(routes):
            _core._packx = packer
            t, s = best(fn, 1)
            s.close()
            walls[k], cpus[k] = min(walls[k], t), min(cpus[k], CPU[0])
    _core._packx = compiled
    figures = [(name, walls[k], cpus[k]) for k, (name, _, _) in enumerate(routes)]

    def one_by_one() -> libprime.TagStore:
        st = libprime.TagStore()
        for im, c, tg in zip(images, classes, tag_lists):
            st.add_image(im, c, tg)
        return st.freeze()
    t, s = best(one_by_one, 1)
    figures.append(("add_image per image (the old from_lists)", t, CPU[0]))
    s.close()
    print("CPU time of the process (all threads), best of %d; compiled packer: %s"
          % (REPS, "yes" if compiled is not None else "no (PRIME_PACK_MODULE / not built)"))
    print("%-58s %8s %8s %8s" % ("", "wall s", "CPU s", "CPU/CSV"))
    for name, sec, cpu in figures:
        print("%-58s %8.3f %8.3f %8.2f" % (name, sec, cpu, cpu / figures[0][2]))

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
