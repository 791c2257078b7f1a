#!/usr/bin/python3
"""Writes the small embedding files of tests/test_quality.c and
tests/cli/cli_test.sh (run from this folder: /usr/bin/python3 make.py), and
expected.txt: the metrics of the modes of result.json computed here
independently (NumPy, brute-force pair count for the AUROC)."""
import numpy as np

rng = np.random.default_rng(7)
images = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "d0", "d1", "d2", "d3"]
classes = ["cat"] * 8 + ["dog"] * 4
tags = [["indoor", "dark"], ["indoor", "dark"], ["indoor", "dark"], ["indoor"], ["outdoor"],
        ["outdoor", "dark"], ["outdoor"], ["indoor"], ["indoor"], ["outdoor"], ["indoor"],
        ["outdoor"]]
correct = [0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1]
with open("tags.csv", "w") as f:
    f.write("image,class,tags,correct\n")
    for i, c, t, k in zip(images, classes, tags, correct):
        f.write(f"{i},{c},{'|'.join(t)},{k}\n")

dim = 4
img = rng.standard_normal((12, dim)).astype("<f4")
# two rows equal in direction, to give the AUROC a tie
img[7] = 2.0 * img[1]
np.save("img.npy", img)                       # format 1.0, <f4
img.astype("<f8").tofile("tmp.bin")
np.save("img_f8.npy", img.astype("<f8"))      # <f8, converted
with open("img_v2.npy", "wb") as f:           # format 2.0
    np.lib.format.write_array(f, img, version=(2, 0))
with open("img_v3.npy", "wb") as f:           # format 3.0
    np.lib.format.write_array(f, img, version=(3, 0))
img.tofile("img.f32")                         # raw float32
# keyed: rows in another order, with one extra image the store lacks
order = [11, 3, 0, 5, 9, 1, 2, 8, 10, 4, 6, 7]
keyed = np.vstack([img[order], rng.standard_normal((1, dim)).astype("<f4")])
np.save("img_keyed.npy", keyed)
with open("img_keyed.ids", "w") as f:
    for k in order:
        f.write(images[k] + "\n")
    f.write("zz_not_in_store\n")

modes = [("cat", ["dark", "indoor"]), ("cat", ["outdoor"]), ("dog", ["indoor"]),
         ("dog", ["snow"])]
text = rng.standard_normal((len(modes), dim)).astype("<f4")
text[0] = img[1]  # mode 0's text points at c1 (and c7: a tie)
np.save("text.npy", text)

with open("result.json", "w") as f:
    f.write('{"params": {"max_tags": 2, "min_size": 2, "min_drop": 0.3, '
            '"whole_dataset": false},\n "failure_modes": [\n')
    rows = []
    for c, t in modes:
        rows.append('  {"class": "%s", "tags": [%s], "size": 2, "correct": 0, "accuracy": 0, '
                    '"class_accuracy": 0.5, "drop": 0.5}' % (c, ", ".join('"%s"' % x for x in t)))
    f.write(",\n".join(rows) + "]}\n")


def unit(v):
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def coh(idx):
    u = np.array([unit(img[i].astype(np.float64)) for i in idx])
    return np.linalg.norm(u.mean(axis=0))


out = []
for m, (c, t) in enumerate(modes):
    cls = [i for i in range(12) if classes[i] == c]
    grp = [i for i in cls if all(x in tags[i] for x in t)]
    if not grp:
        out.append(f"{m} 0 nan nan nan")
        continue
    tt = unit(text[m].astype(np.float64))
    s = {i: float(unit(img[i].astype(np.float64)) @ tt) for i in cls}
    sim = np.mean([s[i] for i in grp])
    rest = [i for i in cls if i not in grp]
    pairs = sum((s[i] > s[j]) + 0.5 * (s[i] == s[j]) for i in grp for j in rest)
    spec = pairs / (len(grp) * len(rest))
    out.append(f"{m} {len(grp)} {sim:.12f} {spec:.12f} {coh(grp) - coh(cls):.12f}")
with open("expected.txt", "w") as f:
    f.write("\n".join(out) + "\n")

# ---- bad files ----
bad = img.copy()
bad[2, 1] = np.nan
np.save("bad_nan.npy", bad)
bad = img.copy()
bad[3, 0] = np.inf
np.save("bad_inf.npy", bad)
np.save("bad_fortran.npy", np.asfortranarray(img))
np.save("bad_i4.npy", np.arange(12, dtype="<i4").reshape(3, 4))
np.save("bad_3d.npy", img.reshape(2, 6, 4))
np.save("bad_be.npy", img.astype(">f4"))
np.save("bad_rows.npy", img[:10])              # 10 rows for 12 images
raw = open("img.npy", "rb").read()
open("bad_trunc_header.npy", "wb").write(raw[:40])
open("bad_trunc_data.npy", "wb").write(raw[:-6])
img[:, :3].copy().tofile("bad_size.f32")       # 36 floats: not a multiple of 4 x 5
with open("bad_dup.ids", "w") as f:
    for k in order:
        f.write(images[k] + "\n")
    f.write("c0\n")
with open("bad_missing.ids", "w") as f:
    for k in order:
        f.write((images[k] if k != 4 else "other") + "\n")
    f.write("zz\n")
