#!/usr/bin/env python3
"""A random tags CSV and outcomes CSV for the mpi suite (stdlib only).

gen_store.py OUT_DIR SEED CLASSES IMAGES_PER_CLASS VOCAB TAGS_PER_IMAGE [scores]

Class sizes vary (from IMAGES_PER_CLASS / 4 to IMAGES_PER_CLASS) so that the
costs differ; each class has two planted tag pairs whose images are mostly
wrong. Outcomes are 0/1, or scores in [0, 1] with `scores` (a column
`score`, some of them exactly 0 or 1)."""
import os
import random
import sys

out, seed, n_classes, per_class, vocab, per_image = sys.argv[1:7]
scores = len(sys.argv) > 7 and sys.argv[7] == "scores"
seed, n_classes, per_class, vocab, per_image = map(int, (seed, n_classes, per_class, vocab, per_image))
rng = random.Random(seed)
tags = ["t%03d" % t for t in range(vocab)]
os.makedirs(out, exist_ok=True)
rows, outcomes = [], []
k = 0
for c in range(n_classes):
    size = rng.randint(max(1, per_class // 4), per_class)
    # a class's tags: a Zipf-like pool, so that some tags are frequent
    pool = rng.sample(tags, min(vocab, max(per_image * 3, vocab // 2)))
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(pool))]
    planted = [rng.sample(pool[:12], 2) for _ in range(2)]
    for _ in range(size):
        k += 1
        chosen = set()
        while len(chosen) < per_image:
            chosen.add(rng.choices(pool, weights)[0])
        bad = False
        for p in planted:
            if rng.random() < 0.15:
                chosen.update(p)
            if all(t in chosen for t in p):
                bad = bad or rng.random() < 0.8
        p_ok = 0.25 if bad else 0.85
        if scores:
            v = rng.random() * p_ok * 1.15
            v = 1.0 if v > 0.95 else (0.0 if v < 0.05 else round(v, rng.randint(1, 17)))
            outcomes.append("img%06d,%r" % (k, min(1.0, v)))
        else:
            outcomes.append("img%06d,%d" % (k, rng.random() < p_ok))
        # class names out of byte order, one with a comma (quoted)
        name = "class %02d" % ((c * 7) % n_classes) if c != 1 else "\"cl,ass\""
        rows.append("img%06d,%s,%s" % (k, name, "|".join(sorted(chosen, key=lambda _: rng.random()))))
# shuffle the images across classes so that shards hold several classes
rng.shuffle(rows)
with open(os.path.join(out, "tags.csv"), "w") as f:
    f.write("image,class,tags\n" + "\n".join(rows) + "\n")
with open(os.path.join(out, "outcomes.csv"), "w") as f:
    f.write("image,%s\n" % ("score" if scores else "correct") + "\n".join(outcomes) + "\n")
