#!/usr/bin/env python3
"""Tag a data set in N shards at once with concurrent.futures, merge them,
and open the result with the Python package.

    tag_parallel.py LIST LABELS OUT N [PRIME]

Each shard is one `prime tag --shard I/N` process (the same contract a Slurm
array or a Kubernetes Indexed Job uses; with Spark, Ray or Dask submit the
same command per shard id). The shards write OUT.prmd; `prime merge` writes
OUT.prime, byte for byte what one process writes. libprime.TagStore.load
also opens the folder itself.
"""
import concurrent.futures
import os
import subprocess
import sys


def main() -> int:
    lst, labels, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    prime = sys.argv[5] if len(sys.argv) > 5 else "prime"

    def shard(i: int) -> int:
        cmd = [prime, "tag", "--images", lst, "--labels", labels, "--backend", "properties",
               "--threads", "1", "--shard", "%d/%d" % (i, n), "--output", out + ".prmd"]
        return subprocess.run(cmd, check=False).returncode

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        codes = list(pool.map(shard, range(n)))
    failed = [i for i, c in enumerate(codes) if c != 0]
    if failed:
        print("shards failed: %s (rerun them; the others are kept)" % failed, file=sys.stderr)
        return 1
    rc = subprocess.run([prime, "merge", "--output", out + ".prime", out + ".prmd"]).returncode
    if rc != 0:
        return rc
    try:
        import libprime  # the package in python/ (PYTHONPATH), if present
    except ImportError:
        return 0
    store = libprime.TagStore.load(out + ".prmd")
    print("%s.prmd: %d images, %d classes, %d tags" %
          (out, store.image_count, store.class_count, store.tag_count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
