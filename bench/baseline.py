#!/usr/bin/env python3
"""Plain-Python reference implementation of the PRIME search (PRIME.md section 1).

Standard library only. Bitsets are Python big ints; the pruning is the same as
libprime's: support (a set below min_size has no superset above it) and the
error bound (a set with w wrong images only has supersets of accuracy at
least max(0, 1 - w / min_size)). Binary outcomes only.

    python3 bench/baseline.py --tags TAGS.csv [--outcomes OUT.csv]
        [--max-tags 4] [--min-size 30] [--min-drop 0.30] [--min-gain 0,0.10,0.05,0]
        [--min-tag-count K] [--print] [--check-truth TRUTH.json] [--stats]

--print writes the failure modes to standard output, one per line:
    class<TAB>tag|tag|...<TAB>size<TAB>correct
ordered by class name, then drop (largest first), then tags (byte order);
timings go to standard error. --check-truth reads the JSON that prime-gen
--truth writes and fails (exit 1) if a planted mode that meets the default
criteria ("meets_defaults": true) was not found.
"""

import argparse
import collections
import csv
import json
import sys
import time

EPS = 1e-9

csv.field_size_limit(1 << 30)


def popcount(x):
    return x.bit_count()


if not hasattr(int, "bit_count"):  # Python < 3.10
    def popcount(x):  # noqa: F811
        return bin(x).count("1")


def read_outcomes(path):
    """image -> 0/1 from an outcomes CSV (correct, score in {0,1}, or label+prediction)."""
    out = {}
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.reader(f)
        header = next(rd)
        col = {name: i for i, name in enumerate(header)}
        if "image" not in col:
            raise SystemExit("%s: no image column" % path)
        for row in rd:
            img = row[col["image"]]
            if "correct" in col:
                v = float(row[col["correct"]])
            elif "score" in col:
                v = float(row[col["score"]])
            elif "label" in col and "prediction" in col:
                v = 1.0 if row[col["label"]] == row[col["prediction"]] else 0.0
            else:
                raise SystemExit("%s: no correct, score or label+prediction column" % path)
            if v not in (0.0, 1.0):
                raise SystemExit("%s: baseline.py handles binary outcomes only" % path)
            out[img] = int(v)
    return out


def read_tags(path, outcomes_path=None):
    """Return {class: (images, tag lists, outcomes)}."""
    outcomes = read_outcomes(outcomes_path) if outcomes_path else None
    classes = {}
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.reader(f)
        header = next(rd)
        col = {name: i for i, name in enumerate(header)}
        for need in ("image", "class", "tags"):
            if need not in col:
                raise SystemExit("%s: no %s column" % (path, need))
        ci, ki, ti = col["image"], col["class"], col["tags"]
        oc = col.get("correct", col.get("score"))
        if outcomes is None and oc is None:
            raise SystemExit("%s: no correct column; give --outcomes" % path)
        for row in rd:
            img = row[ci]
            if outcomes is not None:
                o = outcomes[img]
            else:
                v = float(row[oc])
                if v not in (0.0, 1.0):
                    raise SystemExit("%s: baseline.py handles binary outcomes only" % path)
                o = int(v)
            entry = classes.setdefault(row[ki], ([], []))
            entry[0].append(row[ti].split("|") if row[ti] else [])
            entry[1].append(o)
    return classes


def search_class(name, tag_lists, outcomes, p):
    n = len(tag_lists)
    correct = sum(outcomes)
    acc_c = correct / n
    thr = acc_c - p.min_drop + EPS  # a failure mode has accuracy <= thr
    min_size = p.min_size
    min_count = p.min_tag_count if p.min_tag_count > 0 else p.min_size

    # per-tag bitsets (bit i = image i of the class)
    rows = {}
    for i, tags in enumerate(tag_lists):
        for t in set(tags):
            rows.setdefault(t, []).append(i)
    names = sorted((t for t, r in rows.items() if len(r) >= min_count),
                   key=lambda s: s.encode("utf-8"))
    bits = []
    nbytes = (n + 7) // 8
    for t in names:
        ba = bytearray(nbytes)
        for i in rows[t]:
            ba[i >> 3] |= 1 << (i & 7)
        bits.append(int.from_bytes(ba, "little"))
    wrong = 0
    for i, o in enumerate(outcomes):
        if not o:
            wrong |= 1 << i
    full = (1 << n) - 1
    max_tags = p.max_tags

    def gain_for(k):
        g = p.min_gain
        return g[k - 1] if k <= len(g) else g[-1]

    cache = {}

    def stats(idx):  # idx: sorted tuple of tag indices -> (size, correct)
        if not idx:
            return n, correct
        r = cache.get(idx)
        if r is None:
            s = full
            for j in idx:
                s &= bits[j]
            size = popcount(s)
            r = (size, size - popcount(s & wrong))
            cache[idx] = r
        return r

    found = []
    m = len(names)
    counts = p.counts
    counts["tags"] += m

    def dfs(prefix, s, start):
        k = len(prefix) + 1
        counts["nodes"] += m - start
        for j in range(start, m):
            s2 = s & bits[j]
            size = popcount(s2)
            if size < min_size:
                continue
            w = popcount(s2 & wrong)
            if 1.0 - w / min_size > thr:  # error bound: no superset can qualify
                continue
            idx = prefix + (j,)
            counts["expanded%d" % k] += 1
            cache[idx] = (size, size - w)
            acc = (size - w) / size
            if acc <= thr:
                g = gain_for(k) - EPS
                ok = True
                for drop in range(k):
                    ps, pc = stats(idx[:drop] + idx[drop + 1:])
                    if pc / ps - acc < g:
                        ok = False
                        break
                if ok:
                    found.append((name, tuple(names[x] for x in idx), size, size - w,
                                  acc_c - acc))
            if k < max_tags:
                dfs(idx, s2, j + 1)

    # the empty set: S = whole class; apply the same bound before descending
    if n >= min_size and not (1.0 - (n - correct) / min_size > thr):
        dfs((), full, 0)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tags", required=True)
    ap.add_argument("--outcomes")
    ap.add_argument("--max-tags", type=int, default=4)
    ap.add_argument("--min-size", type=int, default=30)
    ap.add_argument("--min-drop", type=float, default=0.30)
    ap.add_argument("--min-gain", default="0,0.10,0.05,0")
    ap.add_argument("--min-tag-count", type=int, default=0)
    ap.add_argument("--print", action="store_true", help="print the modes (TSV)")
    ap.add_argument("--check-truth", help="prime-gen --truth JSON to check against")
    ap.add_argument("--stats", action="store_true",
                    help="print search statistics (tags, sets tested, sets kept by depth)")
    p = ap.parse_args()
    p.counts = collections.Counter()
    p.min_gain = [float(x) for x in p.min_gain.split(",")]

    t0 = time.perf_counter()
    classes = read_tags(p.tags, p.outcomes)
    t1 = time.perf_counter()
    modes = []
    for cname in sorted(classes, key=lambda s: s.encode("utf-8")):
        tag_lists, outs = classes[cname]
        found = search_class(cname, tag_lists, outs, p)
        found.sort(key=lambda m: (-m[4], [t.encode("utf-8") for t in m[1]]))
        modes.extend(found)
    t2 = time.perf_counter()
    print("Python search: %d modes, read %.3f s, search %.3f s" % (len(modes), t1 - t0, t2 - t1),
          file=sys.stderr)
    if p.stats:
        c = p.counts
        print("stats: %d classes, %d frequent tags in all, %d sets tested, kept (size and "
              "error bound pass) by size: %s" % (len(classes), c["tags"], c["nodes"],
              ", ".join("%d: %d" % (k, c["expanded%d" % k]) for k in range(1, p.max_tags + 1))),
              file=sys.stderr)
    if p.print:
        out = sys.stdout
        for cname, tags, size, corr, _ in modes:
            out.write("%s\t%s\t%d\t%d\n" % (cname, "|".join(tags), size, corr))
    if p.check_truth:
        with open(p.check_truth, encoding="utf-8") as f:
            truth = json.load(f)
        have = {(m[0], m[1]) for m in modes}
        planted = {(pl["class"], tuple(pl["tags"])) for pl in truth["planted"]}
        missing = [pl for pl in truth["planted"]
                   if pl["meets_defaults"] and (pl["class"], tuple(pl["tags"])) not in have]
        expect = sum(1 for pl in truth["planted"] if pl["meets_defaults"])
        extra = sum(1 for m in modes if (m[0], m[1]) not in planted)
        print("truth: %d of %d planted modes meeting the defaults found; %d other modes"
              % (expect - len(missing), expect, extra), file=sys.stderr)
        for pl in missing:
            print("  MISSING: %s: %s" % (pl["class"], " + ".join(pl["tags"])), file=sys.stderr)
        if missing:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
