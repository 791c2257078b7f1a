"""No leak over 10,000 create/destroy cycles (resident set size growth)."""
from __future__ import annotations

import gc
import os

import libprime
from libprime import Config, Outcomes, TagStore

CYCLES = 10_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def cycle(data: bytes, i: int) -> None:
    with TagStore() as s:
        s.add_image("a%d" % i, "ape", ["dark", "tree"])
        s.add_image("b", "ape", ["dark"])
        s.add_image("c", "bee", ["tree", "wet"])
        s.freeze()
        with Outcomes([0.0, 1.0, 1.0]) as o, Config(min_size=1, threads=1) as c:
            with libprime.search(s, o, c) as r:
                r.to_json()
                list(r)
            libprime.query(s, o, ["dark"], "ape")
    # handles freed by the garbage collector (no close)
    st, oc = TagStore.from_bytes(data, name="mem.csv")
    libprime.search(st, oc, min_size=1, threads=1)
    del st, oc
    # error paths
    try:
        TagStore.from_bytes(b'image,class,tags\n"a,b,c\n', name="bad.csv")
    except libprime.ParseError:
        pass
    try:
        Config(max_tags=99)
    except libprime.RangeError:
        pass


def test_no_leak_over_10000_cycles():
    data = b"image,class,tags,correct\nx1,c,a|b,1\nx2,c,a,0\nx3,d,b,1\n"
    for i in range(500):  # warm up allocator pools and ctypes caches
        cycle(data, i)
    gc.collect()
    before = rss_bytes()
    for i in range(CYCLES):
        cycle(data, i)
    gc.collect()
    grown = rss_bytes() - before
    # Each cycle allocates several KiB in C; a leak of even 100 bytes per
    # cycle would show as ~1 MiB. Allow allocator noise below that.
    assert grown < 1 << 20, "RSS grew by %d KiB over %d cycles" % (grown >> 10, CYCLES)
