"""Building from Python through the dictionary-coded bulk call
(prime_tagstore_add_coded, issue 13): every entry point (from_lists with
tag lists or "a|b" strings, from_records of tuples or dicts, NumPy arrays,
DataFrames) gives the very store of the C CSV reader on the same data,
byte for byte, with the compiled packer (which codes the columns) and with
the pure-Python one (which packs them as text). (The coded columns leak
nothing: test_pack.py's leak test makes them too.)"""
from __future__ import annotations

import ctypes
import hashlib
import random
from typing import Any, Callable, List, Tuple

import pytest

import libprime
from libprime import TagStore, _core

NONE = libprime._lib.PRIME_NONE


def _data(n: int, seed: int, shared: bool) -> Tuple[List[str], List[Any], List[List[str]]]:
    """n images; Zipf-like tags over a vocabulary (some non-ASCII, some
    longer than 16 bytes); shared: the tag names are the same str objects
    throughout (as a tagger's vocabulary gives them), else each a new
    object (as str.split makes them)."""
    rng = random.Random(seed)
    vocab = ["tag%d" % i for i in range(300)] + ["naïve", "日本", "x" * 40, "a b", "😀",
                                                "ice cream cone", "a fairly long tag name"]
    weights = [1.0 / (k + 1) for k in range(len(vocab))]
    images = ["img%06d" % i for i in range(n)]
    classes: List[Any] = ["class %d" % rng.randrange(7) for _ in range(n)]
    tags = []
    for _ in range(n):
        names = rng.choices(vocab, weights, k=rng.randrange(9))
        tags.append(names if shared else "|".join(names).split("|") if names else [])
    return images, classes, tags


def _digest(store: TagStore, tmp_path: Any, name: str) -> str:
    path = tmp_path / name
    with store:
        store.save(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv_digest(images: List[str], classes: List[Any], tags: List[List[str]],
                tmp_path: Any) -> str:
    path = tmp_path / "data.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("image,class,tags\n")
        for i, c, t in zip(images, classes, tags):
            f.write('%s,"%s","%s"\n' % (i, c, "|".join(t)))
    return _digest(TagStore.load(path), tmp_path, "csv.prime")


def _entry_points(images: List[str], classes: List[Any], tags: List[List[str]]
                  ) -> List[Tuple[str, Callable[[], TagStore]]]:
    text = ["|".join(t) for t in tags]
    recs = list(zip(images, classes, tags))
    routes: List[Tuple[str, Callable[[], TagStore]]] = [
        ("lists", lambda: TagStore.from_lists(images, classes, tags)),
        ("tuples of names", lambda: TagStore.from_lists(images, classes, [tuple(t) for t in tags])),
        ("a|b strings", lambda: TagStore.from_lists(images, classes, text)),
        ("records", lambda: TagStore.from_records(recs)),
        ("dicts", lambda: TagStore.from_records(
            [{"image": i, "class": c, "tags": t} for i, c, t in recs])),
        ("add_images in batches", lambda: _batches(images, classes, tags)),
    ]
    try:
        import numpy as np
    except ImportError:
        return routes
    at = np.empty(len(tags), dtype=object)
    at[:] = tags
    routes += [
        ("NumPy str arrays", lambda: TagStore.from_lists(np.array(images), np.array(classes),
                                                          tags)),
        ("NumPy object array of lists", lambda: TagStore.from_lists(images, classes, at)),
    ]
    try:
        import pandas as pd
    except ImportError:
        return routes
    df = pd.DataFrame({"image": images, "class": classes, "tags": text, "correct": 1})
    dfl = df.copy()
    dfl["tags"] = tags
    routes += [
        ("DataFrame a|b", lambda: libprime.from_dataframe(df)[0]),
        ("DataFrame lists", lambda: TagStore.from_dataframe(dfl)),
    ]
    return routes


def _batches(images: List[str], classes: List[Any], tags: List[List[str]]) -> TagStore:
    store = TagStore()
    k = 0
    for size in (1, 10, 100, 2000, 10 ** 9):
        store.add_images(images[k:k + size], classes[k:k + size], tags[k:k + size])
        k += size
    return store.freeze()


@pytest.mark.parametrize("shared", [True, False])
def test_every_entry_point_equals_the_csv_reader(shared, packer, tmp_path):
    images, classes, tags = _data(3000, 5, shared)
    want = _csv_digest(images, classes, tags, tmp_path)
    for name, build in _entry_points(images, classes, tags):
        assert _digest(build(), tmp_path, "b.prime") == want, name


def test_coded_call_is_used_by_the_compiled_packer(monkeypatch):
    if _core._packx is None:
        pytest.skip("libprime._pack is not built (python3-dev)")
    lib = _core._l()
    calls: List[str] = []
    for fn in ("prime_tagstore_add_coded", "prime_tagstore_add_packed"):
        real = getattr(lib, fn)

        def spy(*args: Any, _real: Any = real, _fn: str = fn) -> Any:
            calls.append(_fn)
            return _real(*args)
        monkeypatch.setattr(lib, fn, spy)
    TagStore.from_lists(["a", "b"], ["c", 1], [["x", "y"], ("y",)]).close()
    assert calls == ["prime_tagstore_add_coded"]
    calls.clear()
    TagStore.from_lists(["a", "b"], ["c", "c"], ["x|y", None]).close()  # text: coded too
    assert calls == ["prime_tagstore_add_coded"]
    calls.clear()
    with pytest.raises(ValueError):  # the library refuses: the packed path's own error
        TagStore.from_lists(["a", "b"], ["c", "c"], [["x|y"], []]).close()
    assert calls == ["prime_tagstore_add_coded", "prime_tagstore_add_packed"]


def test_coded_columns():
    if _core._packx is None:
        pytest.skip("libprime._pack is not built (python3-dev)")
    x = _core._packx
    names, k, index = x.code_classes(["b", "a", "b", 7, 7, "7", -2])
    assert (names, k) == (b"b\0a\x007\0-2", 4)
    assert list(memoryview(index).cast("I")) == [0, 1, 0, 2, 2, 2, 3]
    names, k, index, counts = x.code_tags([["é", "t"], "t||u|", None, ("é",), []], NONE)
    assert (names, k) == ("é\0t\0u".encode(), 3)
    assert list(memoryview(index).cast("I")) == [0, 1, 1, 2, 0]
    assert list(memoryview(counts).cast("I")) == [2, 2, 0, 1, 0]
    assert x.code_tags([["a"], float("nan")], NONE, True)[3] == b"\1\0\0\0\0\0\0\0"
    names, k, index, counts = x.code_tags(["a|b", None, "|b||c|", "", "c" * 70 + "|a"], NONE)
    assert (names, k) == (b"a\0b\0c\0" + b"c" * 70, 4)  # text too, split at its bars
    assert list(memoryview(index).cast("I")) == [0, 1, 1, 2, 3, 0]
    assert list(memoryview(counts).cast("I")) == [2, 0, 2, 0, 2]
    assert x.code_tags([["a"], 5], NONE) is None            # not names
    assert x.code_tags([["a", b"b"]], NONE) is None
    assert x.code_tags([["\ud800"]], NONE) is None          # not UTF-8
    assert x.code_tags([["a", "b"], ["c"]], 3) is None      # the limit of references
    assert x.code_classes(["a", None]) is None
    assert x.code_classes([True]) is None
    assert x.code_classes([2 ** 70]) is None
    assert x.code_classes(iter(["a"])) is None
    # an empty name is coded too: the library refuses it
    assert x.code_tags([["a", ""]], NONE)[:2] == (b"a\0", 2)


@pytest.mark.parametrize("tags", [[["a"], [""]], [["a"], ["b|c"]], [["a"], ["b\0"]],
                                  [["a"], ["é" * 200]]])
def test_refused_names_same_error_both_ways(tags, monkeypatch):
    errors = []
    for packer in ([_core._packx] if _core._packx is not None else []) + [None]:
        monkeypatch.setattr(_core, "_packx", packer)
        with pytest.raises(libprime.PrimeError if tags[1][0] == "é" * 200 else ValueError) as e:
            TagStore.from_lists(["i", "j"], ["c", "c"], tags)
        errors.append((type(e.value), str(e.value)))
    assert len(errors) in (1, 2) and len(set(errors)) == 1, errors
    assert "image 1" in errors[0][1]


def test_coded_names_decode_to_the_tags():
    # many distinct objects (the object cache gives up after its trial),
    # then shared ones; names of every length around the 8- and 16-byte
    # keys; the numbers decode to the very names
    if _core._packx is None:
        pytest.skip("libprime._pack is not built (python3-dev)")
    rng = random.Random(3)
    vocab = ["w" * k + str(k) for k in range(1, 40)] + ["ü" * k for k in range(1, 12)]
    distinct = [[(v + "|").split("|")[0] for v in rng.choices(vocab, k=5)] for _ in range(20000)]
    shared = [rng.choices(vocab, k=5) for _ in range(20000)]
    for tags in (distinct + shared, shared + distinct):
        names, k, index, counts = _core._packx.code_tags(tags, NONE)
        table = names.decode().split("\0")
        assert len(table) == k == len(set(table)) == len(vocab)
        idx = iter(memoryview(index).cast("I"))
        got = [[table[next(idx)] for _ in range(c)] for c in memoryview(counts).cast("I")]
        assert got == tags
        # the same as "a|b" text (bars in every place of the 64-byte blocks)
        text = ["|".join(t) + "|" * (i % 3) for i, t in enumerate(tags)]
        assert _core._packx.code_tags(text, NONE) == (names, k, index, counts)


def test_declared_with_its_argument_types():
    fn = _core._l().prime_tagstore_add_coded
    assert fn.restype is not None
    assert len(fn.argtypes) == 15
    assert fn.argtypes[12] is ctypes.c_uint64


def test_numpy_str_arrays_read_as_their_str():
    # a <U array's UCS4 text is packed and coded as its items' str would
    # be (trailing NULs dropped, as NumPy does); what a str would not pack
    # as it is goes back to tolist() (None here)
    np = pytest.importorskip("numpy")
    if _core._packx is None:
        pytest.skip("libprime._pack is not built (python3-dev)")
    x = _core._packx
    names = ["ab", "é", "日本", "😀x", "", "a b", "x" * 40, "ice cream cone", "ab"]
    for arr in (np.array(names), np.array(names, dtype="<U60"), np.array(names + ["y\0\0"])):
        as_str = arr.tolist()
        for kind in (0, 1):
            assert x.pack_column(arr, kind) == x.pack_column(as_str, kind)
        assert x.code_classes(arr) == x.code_classes(as_str)
    for bad in (np.array(["a\0b"]), np.array(["\ud800"]), np.array(["a"], dtype=">U3"),
                np.array(names)[::2], np.array([names, names])):
        assert x.pack_column(bad, 0) is None and x.code_classes(bad) is None
    assert x.pack_column(np.array(["a|b"]), 2) is None  # tag text: not read from <U


@pytest.mark.parametrize("bad", ["a\0b", "\ud800"])
def test_numpy_str_arrays_refused_as_the_lists(bad, monkeypatch):
    # a NUL inside a name or a lone surrogate: the very error of the lists
    np = pytest.importorskip("numpy")
    errors = []
    for packer in ([_core._packx] if _core._packx is not None else []) + [None]:
        monkeypatch.setattr(_core, "_packx", packer)
        for images, classes in ((["i", bad], ["c", "c"]), (["i", "j"], ["c", bad])):
            for conv in (list, np.array):
                with pytest.raises(ValueError) as e:
                    TagStore.from_lists(conv(images), conv(classes), [["t"], ["u"]])
                errors.append((images[1], str(e.value)))
    assert len(set(errors)) == 2, errors


def test_coded_records_equal_the_split_columns():
    if _core._packx is None or not hasattr(_core._packx, "code_records"):
        pytest.skip("libprime._pack is not built (python3-dev)")
    x = _core._packx
    images, classes, tags = _data(3000, 9, False)
    classes[5] = 7  # an int class, written in decimal
    images[8] = None  # an unnamed image
    tags[3] = "a|b||c"  # "a|b" text among the lists
    tags[4] = None
    want = (x.pack_column(images, 0), x.code_classes(classes), x.code_tags(tags, NONE))
    recs = list(zip(images, classes, tags))
    assert x.code_records(recs, NONE) == want
    assert x.code_records(tuple(map(list, recs)), NONE) == want
    dicts = [{"tags": t, "class": c, "image": i, "other": 1} for i, c, t in recs]
    assert x.code_records(dicts, NONE) == want
    keys = ["".join(k) for k in (("ima", "ge"), ("cla", "ss"), ("ta", "gs"))]  # not interned
    assert x.code_records([dict(zip(keys, r)) for r in recs], NONE) == want
    for d in dicts:  # absent image or tags: None
        if d["image"] is None:
            del d["image"]
        if d["tags"] is None:
            del d["tags"]
    assert x.code_records(dicts, NONE) == want
    dicts[7]["class"] = None
    assert x.code_records(dicts, NONE) is None  # a class that is not a name
    for bad in ([("a", "c", ["t"]), ("b", "c")],            # not 3 fields
                [("a", "c", ["t"]), {"class": "c"}],         # mixed
                [{"class": "c"}, {"image": "b"}],            # no class: the KeyError
                [{"class": "c"}, {"class": "c", 1: 2}],      # a key that is not a str
                [{"class": "c", "tags": [5]}],               # not a name
                [{"class": "c", "tags": ["t"], "image": b"i"}],
                [], iter([("a", "c", ["t"])])):
        assert x.code_records(bad, NONE) is None, bad
    assert x.code_records([("a", "c", ["t", "u"])], 2) is None  # the limit of references


def test_records_refused_as_the_lists(monkeypatch):
    # what the records path refuses raises the error of the other paths
    recs: List[Any] = [("i", "c", ["t"]), ("j", "c", ["t", ""])]
    dicts: List[Any] = [{"image": i, "class": c, "tags": t} for i, c, t in recs]
    for rows, kind in ((recs, ValueError), (dicts, ValueError),
                       (dicts[:1] + [{"image": "j"}], KeyError),
                       ([("i", "c", ["t"]), ("i", "c", ["u"])], libprime.PrimeError)):
        errors = []
        for packer in ([_core._packx] if _core._packx is not None else []) + [None]:
            monkeypatch.setattr(_core, "_packx", packer)
            with pytest.raises(kind) as e:
                TagStore.from_records(rows)
            errors.append((type(e.value), str(e.value)))
        assert len(set(errors)) == 1, errors
