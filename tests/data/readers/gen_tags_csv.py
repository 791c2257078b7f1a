#!/usr/bin/env python3
"""Write a synthetic tags CSV for timing the reader (not committed output).

usage: gen_tags_csv.py OUT.csv [MEGABYTES]   (default 100)
Rows look like RAM output: image,class,tags,correct with ~12 tags per image
from a 4585-tag vocabulary and 1000 classes; a few names are quoted."""
import random
import sys

out = sys.argv[1]
target = int(sys.argv[2] if len(sys.argv) > 2 else 100) * 1000 * 1000
rnd = random.Random(1)
vocab = ["tag%04d_%s" % (i, "x" * (i % 9)) for i in range(4585)]
vocab[7] = '"quoted, tag"'
classes = ["n%08d" % (1440000 + i) for i in range(1000)]
size = 0
i = 0
with open(out, "w", newline="") as f:
    f.write("image,class,tags,correct\n")
    while size < target:
        c = classes[(i // 1300) % 1000]
        tags = "|".join(rnd.sample(vocab, rnd.randint(4, 20)))
        if '"' in tags:
            tags = '"' + tags.replace('"', '""') + '"'
        row = "train/%s/%s_%d.JPEG,%s,%s,%d\n" % (c, c, i, c, tags, rnd.random() < 0.8)
        f.write(row)
        size += len(row)
        i += 1
print("%d rows, %d bytes" % (i, size))
