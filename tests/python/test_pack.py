"""The compiled packer libprime._pack (python/libprime/_pack.c, issue 13):
it gives the very buffers of the pure-Python packer or hands the input back
to it (None), so stores and errors are the same with and without it; it
leaks no reference and no memory."""
from __future__ import annotations

import gc
import hashlib
import os
import random
import sys
import tracemalloc
from typing import Any, Callable, List, Tuple

import pytest

import libprime
from libprime import TagStore, _core

from conftest import built_packer

needs_ext = pytest.mark.skipif(_core._packx is None,
                               reason="libprime._pack is not built (python3-dev)")

NONE = libprime._lib.PRIME_NONE  # the tag-name limit given to pack_tags


def test_extension_is_used_where_built():
    # the build tree's module is loaded by the suite (tests/meson.build,
    # conftest.py); it must not fall back to pure Python unnoticed
    if built_packer() is None:
        pytest.skip("no libprime._pack in the build tree for this Python")
    if os.environ.get("PRIME_PACK_MODULE", "").lower() == "none":
        pytest.skip("PRIME_PACK_MODULE=none: the pure-Python packer was asked for")
    assert _core._packx is not None
    assert _core._packx.__name__ == "libprime._pack"


WORDS = ["cat", "dog", "é", "naïve", "日本", "x" * 40, "a b", "😀", "Ω-7", "tag_%d"]


def _word(rng: random.Random) -> str:
    w = rng.choice(WORDS)
    return w % rng.randrange(50) if "%" in w else w


def _random_columns(rng: random.Random, n: int) -> Tuple[List[Any], List[Any], List[Any]]:
    images: List[Any] = []
    classes: List[Any] = []
    tags: List[Any] = []
    for i in range(n):
        images.append(None if rng.random() < 0.1 else "im%d-%s" % (i, _word(rng)))
        classes.append(rng.randrange(5) if rng.random() < 0.2 else "cls-" + _word(rng))
        k = rng.randrange(6)
        names = [_word(rng) for _ in range(k)]
        form = rng.random()
        if form < 0.5:
            tags.append(names)
        elif form < 0.7:
            tags.append(tuple(names))
        elif form < 0.85:
            tags.append("|".join(names) + ("||" if k and rng.random() < 0.3 else ""))
        else:
            tags.append(None)
    return images, classes, tags


def _digest(store: TagStore, tmp_path: Any, name: str) -> str:
    path = tmp_path / name
    store.save(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _both(monkeypatch: Any, fn: Callable[[], Any]) -> Tuple[Any, Any]:
    compiled = fn()
    with monkeypatch.context() as m:
        m.setattr(_core, "_packx", None)
        python = fn()
    return compiled, python


@needs_ext
@pytest.mark.parametrize("seed", range(6))
def test_same_buffers_and_stores_as_pure_python(seed, monkeypatch, tmp_path):
    rng = random.Random(seed)
    images, classes, tags = _random_columns(rng, rng.choice([0, 1, 7, 300, 3000]))
    if seed % 2:  # "a|b" strings and None only: the uncounted form
        tags = [t if isinstance(t, str) or t is None else "|".join(t) for t in tags]
    if seed == 4:
        classes = [str(c) for c in classes]
    a, b = _both(monkeypatch, lambda: (
        _core._pack(classes, _core._class_text, "class", 1),
        _core._pack(images, _core._image_text, "image name", 0),
        _core._pack_tags(tags)))
    assert a[0] == b[0] and a[1] == b[1]
    assert a[2][0] == b[2][0]
    assert (a[2][1] is None) == (b[2][1] is None)
    assert a[2][1] is None or a[2][1].tobytes() == b[2][1].tobytes()
    if not images:
        return
    # the stores, from columns and from records (tuples, lists, dicts)
    recs: List[Any] = list(zip(images, classes, tags))
    if seed == 2:
        recs = [list(r) for r in recs]
    if seed == 3:
        recs = [{"image": i, "class": c, "tags": t} if k % 3 else {"class": c, "tags": t}
                for k, (i, c, t) in enumerate(recs)]
        images = [None if k % 3 == 0 else i for k, i in enumerate(images)]
    for build in (lambda: TagStore.from_lists(images, classes, tags),
                  lambda: TagStore.from_records(recs)):
        s1, s2 = _both(monkeypatch, build)
        with s1, s2:
            assert _digest(s1, tmp_path, "c.prime") == _digest(s2, tmp_path, "p.prime")
            assert len(s1) == len(images)


@needs_ext
def test_plain_cases_are_packed_in_c():
    x = _core._packx
    assert x.pack_column(["a", None, "é", ""], 0) == b"a\0\0\xc3\xa9\0"
    assert x.pack_column(("a", 12, -3, 2**62), 1) == b"a\x0012\x00-3\x00%d" % 2**62
    assert x.pack_column([], 0) == b""
    assert x.pack_tags(["a|b", None, ""], NONE) == (b"a|b\0\0", None)
    buf, counts = x.pack_tags([["a", "b"], None, "x||y|", (), ("é",)], NONE)
    assert buf == b"a\0b\0x\0y\0\xc3\xa9"
    assert list(memoryview(counts).cast("I")) == [2, 0, 2, 0, 1]
    assert x.pack_tags([], NONE) == (b"", None)
    assert x.split_records([("a", "c", ["t"]), ["b", "d", None]]) == (
        ["a", "b"], ["c", "d"], [["t"], None])
    assert x.split_records([{"class": "c"}, {"image": "i", "class": 1, "tags": "t"}]) == (
        [None, "i"], ["c", 1], [None, "t"])


class Str(str):
    pass


@needs_ext
@pytest.mark.parametrize("call", [
    lambda x: x.pack_column(["a", 1], 0),            # an int image name
    lambda x: x.pack_column(["a", None], 1),         # a None class
    lambda x: x.pack_column([True], 1),              # a bool class
    lambda x: x.pack_column([1.5], 1),               # a float class
    lambda x: x.pack_column([2**70], 1),             # an int beyond 64 bits
    lambda x: x.pack_column(["\ud800"], 0),          # a lone surrogate
    lambda x: x.pack_column([Str("a")], 0),          # a str subclass (str() may differ)
    lambda x: x.pack_column(iter(["a"]), 0),         # not a list or tuple
    lambda x: x.pack_tags([["a", 1]], NONE),         # a non-str tag
    lambda x: x.pack_tags([["a"], 5], NONE),         # a non-sequence entry
    lambda x: x.pack_tags([["a"], {"b"}], NONE),     # a set: order not defined
    lambda x: x.pack_tags([["\udfff"]], NONE),       # a lone surrogate in a list
    lambda x: x.pack_tags(["ok", "\udfff"], NONE),   # and in "a|b" text
    lambda x: x.pack_tags([["a", "b"], ["c"]], 3),   # the limit of names
    lambda x: x.split_records([("a", "c")]),         # a record of 2
    lambda x: x.split_records([{"image": "a"}]),     # no class
    lambda x: x.split_records([("a", "c", []), {"class": "c"}]),  # mixed
])
def test_other_cases_are_left_to_python(call):
    assert call(_core._packx) is None


BAD = [
    (lambda: TagStore.from_lists(["a", 3], ["c", "c"], [[], []]), TypeError),
    (lambda: TagStore.from_lists(None, ["c", 2.5], [[], []]), TypeError),
    (lambda: TagStore.from_lists(None, ["c", True], [[], []]), TypeError),
    (lambda: TagStore.from_lists(None, ["c", None], [[], []]), TypeError),
    (lambda: TagStore.from_lists(None, ["c", "c"], [["a"], ["b", 7]]), TypeError),
    (lambda: TagStore.from_lists(None, ["c", "c"], [["a"], 7]), TypeError),
    (lambda: TagStore.from_lists(None, ["c", "c"], [["a"], b"x"]), TypeError),
    (lambda: TagStore.from_lists(["a", "b\0c"], ["c", "c"], [[], []]), ValueError),
    (lambda: TagStore.from_lists(None, ["c", "d\0"], [[], []]), ValueError),
    (lambda: TagStore.from_lists(None, ["c", "c"], [["a"], ["b\0"]]), ValueError),
    (lambda: TagStore.from_lists(None, ["c", "c"], ["a", "b\0x"]), ValueError),
    (lambda: TagStore.from_lists(["\ud800"], ["c"], [[]]), ValueError),
    (lambda: TagStore.from_lists(None, ["\ud800"], [[]]), ValueError),
    (lambda: TagStore.from_lists(None, ["c"], [["\ud800"]]), ValueError),
    (lambda: TagStore.from_lists(None, ["c"], ["a|\ud800"]), ValueError),
    (lambda: TagStore.from_lists(None, ["c"], [["a|b"]]), ValueError),
    (lambda: TagStore.from_lists(None, [""], [[]]), ValueError),
    (lambda: TagStore.from_lists(["a", "a"], ["c", "c"], [[], []]), ValueError),
    (lambda: TagStore.from_records([("a", "c")]), ValueError),
    (lambda: TagStore.from_records([{"image": "a", "tags": []}]), KeyError),
    (lambda: TagStore.from_records([("a", "c", [1])]), TypeError),
]


@pytest.mark.parametrize("k", range(len(BAD)))
def test_errors_same_with_and_without(k, monkeypatch):
    build, kind = BAD[k]
    got = []
    for mode in ("compiled", "python"):
        if mode == "compiled" and _core._packx is None:
            continue
        with monkeypatch.context() as m:
            if mode == "python":
                m.setattr(_core, "_packx", None)
            with pytest.raises(kind) as e:
                build()
            got.append((type(e.value), str(e.value)))
    assert len(set(got)) == 1, got


@needs_ext
def test_numpy_object_arrays_and_dataframes(monkeypatch, tmp_path):
    np = pytest.importorskip("numpy")
    x = _core._packx
    rng = random.Random(7)
    images, classes, tags = _random_columns(rng, 2000)
    ai = np.empty(len(images), dtype=object)
    ai[:] = images
    at = np.empty(len(tags), dtype=object)
    at[:] = tags
    assert x.pack_column(ai, 0) == x.pack_column(images, 0)
    assert x.pack_tags(at, NONE) == x.pack_tags(tags, NONE)
    assert x.pack_column(ai[::2], 0) is None          # not contiguous: tolist()
    assert x.pack_column(np.array(["a", "b"]), 2) is None  # str array: names only
    assert x.pack_tags(np.array(["a", "b"]), NONE) is None
    assert x.pack_column(np.array([1, 2]), 1) is None        # not objects, not str
    assert x.pack_column(ai.reshape(2, -1), 0) is None
    assert x.pack_column(b"ab", 0) is None
    # NaN as a missing value only when asked (a DataFrame's columns)
    nan = float("nan")
    assert x.pack_column(["a", nan], 0) is None
    assert x.pack_column(["a", nan, np.float64("nan"), None], 0, True) == b"a\0\0\0"
    assert x.pack_column(["a", nan], 1, True) is None  # a class is never missing
    assert x.pack_tags(["a|b", nan], NONE, True) == (b"a|b\0", None)
    assert x.pack_tags([["a"], nan], NONE, True)[0] == b"a"
    # the array's buffer is given back: it can be resized afterwards
    x.pack_tags(at, NONE)
    at.resize(10, refcheck=False)
    s1, s2 = _both(monkeypatch, lambda: TagStore.from_lists(ai, classes, tags))
    with s1, s2:
        assert _digest(s1, tmp_path, "c.prime") == _digest(s2, tmp_path, "p.prime")
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"image": images, "class": classes, "tags": tags})
    df.loc[3, "tags"] = nan
    df.loc[5, "image"] = nan
    s1, s2 = _both(monkeypatch, lambda: TagStore.from_dataframe(df))
    with s1, s2:
        assert _digest(s1, tmp_path, "c.prime") == _digest(s2, tmp_path, "p.prime")
        assert s1.image_tag_names(3) == [] and s1.image_name(5) == ""
    df.loc[7, "tags"] = 5  # an error with its position, the same both ways
    errors = []
    for packer in (x, None):
        monkeypatch.setattr(_core, "_packx", packer)
        with pytest.raises(TypeError) as e:
            TagStore.from_dataframe(df)
        errors.append(str(e.value))
    assert errors[0] == errors[1] and "image 7" in errors[0]


@needs_ext
def test_no_reference_or_memory_leak():
    x = _core._packx
    names = ["tag%d" % i for i in range(50)] + ["é", "日本"]
    tag_lists = [names[i % 40:i % 40 + 5] for i in range(400)]
    texts = ["|".join(t) for t in tag_lists]
    images = ["im%d" % i for i in range(400)]
    classes = [i % 3 for i in range(400)] + ["c"]
    recs = list(zip(images, classes, tag_lists))
    dicts = [{"image": i, "class": c, "tags": t} for i, c, t in recs]
    bad = tag_lists + [["ok", 5]]
    watched = names + [tag_lists[7], texts[3], images[9], recs[4], dicts[5], bad[-1]]
    try:
        import numpy as np
        arr = np.empty(len(tag_lists), dtype=object)
        arr[:] = tag_lists
    except ImportError:
        arr = tag_lists

    def once() -> None:
        assert x.pack_column(images, 0) is not None
        assert x.pack_column(classes, 1) is not None
        assert x.pack_tags(tag_lists, NONE) is not None
        assert x.pack_tags(texts, NONE) is not None
        assert x.pack_tags(bad, NONE) is None          # gives up half-way
        assert x.pack_tags(tag_lists, 100) is None     # over the limit
        assert x.pack_column(images + [1], 0) is None
        assert x.split_records(recs) is not None
        assert x.split_records(dicts) is not None
        assert x.split_records(dicts + [{"image": "no class"}]) is None
        assert x.pack_tags(arr, NONE) is not None
        assert x.pack_column(arr, 0) is None             # lists are no names
        assert x.code_tags(tag_lists, NONE) is not None  # the coded columns
        assert x.code_tags(bad, NONE) is None
        assert x.code_tags(tag_lists, 100) is None
        assert x.code_classes(classes) is not None
        assert x.code_classes(classes + [None]) is None
        TagStore.from_records(recs).close()

    once()
    gc.collect()
    before = [sys.getrefcount(o) for o in watched]
    tracemalloc.start()
    try:
        for _ in range(20):
            once()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(300):
            once()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert [sys.getrefcount(o) for o in watched] == before
    assert grown < 64 * 1024, grown  # 300 rounds of ~100 kB of buffers each


@needs_ext
def test_records_changed_by_a_key_eq_are_refused_safely():
    # a dict lookup may run a key's __eq__; if that shortens the records,
    # the packer gives up (pure Python then runs) instead of reading freed
    # or missing entries
    recs: List[Any] = []

    class Key(str):
        def __hash__(self) -> int:
            return hash("class")

        def __eq__(self, other: object) -> bool:
            del recs[1:]
            return False

    recs.extend([{Key("zz"): 1, "class": "c"}, {"class": "d"}, {"class": "e"}])
    assert _core._packx.split_records(recs) is None
    assert len(recs) == 1


@pytest.mark.parametrize("where", [0, 4079, 4080, 9998, 9999])
def test_nul_found_anywhere_in_a_large_column(where, packer):
    # the library counts a column's NUL separators 16 bytes at a time, in
    # rounds of 255 blocks (4080 bytes; this column is ~35 kB): a name
    # holding a NUL is one field too many wherever it lies (the first
    # round, later ones, the bytes after the last whole block)
    n = 10000
    tags = [["t%d" % (i % 13)] for i in range(n)]
    tags[where] = ["bad\0name"]
    with pytest.raises(ValueError) as e:
        TagStore.from_lists(None, ["c"] * n, tags)
    assert "image %d" % where in str(e.value)
    texts = ["t%d|u" % (i % 13) for i in range(n)]
    texts[where] = "x|y\0z"
    with pytest.raises(ValueError) as e:
        TagStore.from_lists(None, ["c"] * n, texts)
    assert "image %d" % where in str(e.value)
