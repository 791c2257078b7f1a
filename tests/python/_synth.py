"""A synthetic data set big enough for a search to run a while (seeded)."""
from __future__ import annotations

import random
from typing import List, Tuple


def synth_lists(n_images: int = 20000, n_tags: int = 60, per_image: int = 10,
                n_classes: int = 4, seed: int = 7
                ) -> Tuple[List[str], List[str], List[List[str]], List[float]]:
    rng = random.Random(seed)
    tags = ["t%02d" % k for k in range(n_tags)]
    images, classes, tag_lists, outcomes = [], [], [], []
    for i in range(n_images):
        images.append("img%06d" % i)
        classes.append("c%d" % (i % n_classes))
        mine = rng.sample(tags, per_image)
        tag_lists.append(mine)
        bad = "t00" in mine and "t01" in mine
        outcomes.append(0.0 if (bad and rng.random() < 0.8) or rng.random() < 0.2 else 1.0)
    return images, classes, tag_lists, outcomes


def synth_csv(n_images: int, **kw: int) -> str:
    images, classes, tags, outcomes = synth_lists(n_images, **kw)
    rows = ["image,class,tags,correct"]
    for im, c, t, o in zip(images, classes, tags, outcomes):
        rows.append("%s,%s,%s,%d" % (im, c, "|".join(t), int(o)))
    return "\n".join(rows) + "\n"
