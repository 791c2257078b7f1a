"""The Pythonic layer: stores, outcomes, configuration, search, queries."""
from __future__ import annotations

import array
import dataclasses
import gc
import json
import math

import pytest

import libprime
from libprime import Config, Outcomes, TagStore


def small_lists():
    images = ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "b,1", "b2", "b3", "b4"]
    classes = ["ape"] * 7 + ["bee"] * 4
    tags = [["dark", "tree"], "tree|dark", ["dark"], ["tree"], [], [], ["dark", "tree"],
            ['say "hi"', "wet"], ['say "hi"'], ["wet"], ["wet"]]
    return images, classes, tags


def test_store_from_lists_matches_file(small):
    store, outcomes = small
    images, classes, tags = small_lists()
    with TagStore.from_lists(images, classes, tags) as mine:
        assert mine.frozen
        assert len(mine) == len(store) == 11
        assert mine.class_count == 2
        assert sorted(mine.tags) == sorted(store.tags)
        for i in range(len(mine)):
            j = store.find_image(mine.image_name(i))
            assert store.class_name(store.image_class(j)) == mine.class_name(mine.image_class(i))
            assert sorted(store.image_tag_names(j)) == sorted(mine.image_tag_names(i))


def test_store_counts_and_lookups(small):
    store, _ = small
    assert store.tag_ref_count == sum(len(store.image_tags(i)) for i in range(len(store)))
    ape = store.find_class("ape")
    assert store.class_image_count("ape") == 7 == store.class_image_count(ape)
    assert store.tag_count_in_class("dark", "ape") == 4
    assert store.tag_count_in_class("wet") == 3
    with pytest.raises(libprime.NotFoundError) as e:
        store.find_tag("no such tag")
    assert e.value.status_name == "PRIME_E_NOT_FOUND"
    with pytest.raises(IndexError):
        store.tag_name(10_000)
    with pytest.raises(IndexError):
        store.image_name(len(store))


def test_mutable_store_rules():
    with TagStore() as s:
        assert not s.frozen
        c = s.intern_class("cat")
        t1, t2 = s.intern_tag("red"), s.intern_tag("blue")
        assert s.intern_tag("red") == t1
        i = s.add_image_ids("x", c, [t2, t1, t2])
        assert s.image_tags(i) == sorted({t1, t2})
        s.add_image(None, "cat", "red")  # unnamed image
        with pytest.raises(libprime.DuplicateError):
            s.add_image("x", "cat", [])
        with pytest.raises(libprime.InvalidArgumentError) as e:
            s.add_image("y", "cat", ["a|b"])  # '|' is not allowed in a tag
        assert "a|b" in e.value.detail and e.value.status_name == "PRIME_E_INVALID_ARG"
        with pytest.raises(libprime.LimitError) as e:
            s.add_image("z", "cat", ["x" * 256])
        assert "256" in e.value.detail
        with pytest.raises(libprime.InvalidArgumentError):
            s.add_image("z", "cat", [""])
        assert len(s) == 2  # nothing was added by the failed calls
        with pytest.raises(ValueError):
            s.add_image("nul\0name", "cat", [])
        with Outcomes([1, 1]) as o:
            with pytest.raises(libprime.StateError):
                libprime.search(s, o)
        s.freeze()
        with pytest.raises(libprime.StateError):
            s.add_image("w", "cat", [])


def test_outcomes_from_sequences():
    with Outcomes([1, 0, 0.25, True]) as o:
        assert len(o) == 4
        assert o.to_list() == [1.0, 0.0, 0.25, 1.0]
        assert not o.is_binary
        o[2] = 1
        assert o.is_binary
        assert o[-1] == 1.0
        o.set_array(1, (1.0, 1.0))
        assert o.to_list() == [1.0, 1.0, 1.0, 1.0]
        with pytest.raises(libprime.RangeError):
            o.set_array(0, [0.5, 2.0])
        assert o.to_list() == [1.0, 1.0, 1.0, 1.0]  # all or nothing
        with pytest.raises(IndexError):
            o[4]
    with Outcomes(array.array("d", [0.5] * 3)) as o:
        assert o.to_list() == [0.5] * 3
    with Outcomes.unset(2) as o:
        assert o.to_list() == [None, None]
        with pytest.raises(libprime.NotFoundError):
            o[0]
    with pytest.raises(libprime.RangeError) as e:
        Outcomes([0, 1.5])
    assert e.value.status == -10
    with pytest.raises(libprime.RangeError):
        Outcomes([float("nan")])
    with Outcomes.from_labels([1, 2, 3], [1, 0, 3]) as o:
        assert o.to_list() == [1.0, 0.0, 1.0]


def test_outcomes_from_numpy():
    np = pytest.importorskip("numpy")
    vals = np.array([1, 0, 1, 1], dtype=np.float64)
    with Outcomes(vals) as o:
        assert o.to_list() == [1.0, 0.0, 1.0, 1.0]
    with Outcomes(np.array([True, False])) as o:
        assert o.to_list() == [1.0, 0.0]
    with Outcomes(np.linspace(0, 1, 11)[::2]) as o:  # strided: made contiguous
        assert o.to_list() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    with Outcomes.from_labels(np.arange(5), np.array([0, 1, 0, 3, 0])) as o:
        assert o.to_list() == [1.0, 1.0, 0.0, 1.0, 0.0]
    with pytest.raises(ValueError):
        Outcomes(np.zeros((2, 2)))
    big = np.random.default_rng(1).random(1_000_000)
    with Outcomes(big) as o:
        assert len(o) == 1_000_000 and o[123_456] == big[123_456]


def test_config_keywords_and_bounds():
    with Config(max_tags=3, min_size=10, min_drop=0.25, min_gain=[0, 0.2], whole_dataset=True,
                **{"min-tag-count": 5}) as c:
        d = c.to_dict()
        assert d["max_tags"] == 3 and d["min_size"] == 10 and d["min_drop"] == 0.25
        assert d["min_gain"] == [0.0, 0.2] and d["whole_dataset"] is True
        assert d["min_tag_count"] == 5
        assert c.min_gain(7) == 0.2
        c["min_size"] = 20
        assert c["min_size"] == 20
        clone = c.clone()
        c.reset()
        assert c["max_tags"] == 4 and clone["max_tags"] == 3
        clone.close()
    info = libprime.param_info("max_tags")
    assert (info.type, info.min, info.max, info.default) == ("int", 1, 16, 4)
    assert "min_drop" in libprime.param_names()
    with pytest.raises(libprime.RangeError) as e:
        Config(max_tags=17)
    assert "max_tags" in e.value.detail and e.value.status_name == "PRIME_E_RANGE"
    with pytest.raises(libprime.RangeError):
        Config(min_drop=1.5)
    with pytest.raises(libprime.RangeError):
        Config(min_drop=float("nan"))
    with pytest.raises(libprime.NotFoundError) as e:
        Config(no_such_parameter=1)
    assert "no_such_parameter" in e.value.detail
    with pytest.raises(TypeError):
        Config(min_size=2.5)
    with pytest.raises(libprime.PrimeError):
        Config(min_gain=[0.0] * 17)


def test_search_result(small):
    store, outcomes = small
    with libprime.search(store, outcomes, min_size=2, max_tags=2, min_gain=[0, 0.1]) as r:
        assert len(r) == 2
        modes = list(r)
        assert [(m.class_name, m.tags) for m in modes] == [("ape", ("dark", "tree")),
                                                           ("bee", ('say "hi"',))]
        ape = modes[0]
        assert (ape.size, ape.correct) == (3, 1.0)
        assert ape.accuracy == pytest.approx(1 / 3)
        assert ape.drop == pytest.approx(5 / 7 - 1 / 3)
        assert ape.description == "a photo of ape dark tree"
        assert r[-1] == modes[1] and r[0:1] == modes[:1]
        assert [c.name for c in r.classes] == ["ape", "bee"]
        assert r.classes[0].images == 7 and r.classes[0].correct == 5
        dicts = r.to_dicts()
        # the FailureMode field names, the same values as the objects
        assert dicts[0]["tags"] == ("dark", "tree") and dicts[0]["size"] == 3
        assert dicts == [dataclasses.asdict(m) for m in modes]
        assert r.to_dict()["failure_modes"][0]["class"] == "ape"
        doc = json.loads(r.to_json())
        assert doc["params"]["min_size"] == 2
        assert r.to_csv().splitlines()[0].startswith("class,tags,size")
        assert "dark + tree" in r.to_text() or "dark" in r.to_text()
    # keywords override a config without changing it
    with Config(min_size=2) as c:
        with libprime.search(store, outcomes, c, max_tags=1) as r:
            assert len(r) == 1
        assert c["max_tags"] == 4


def test_result_outlives_store(cli_dir):
    store = TagStore.load(cli_dir / "tags.csv")
    outcomes = Outcomes.load(cli_dir / "outcomes.csv", store)
    r = libprime.search(store, outcomes, min_size=2, max_tags=2, min_gain=[0, 0.1])
    store.close()
    outcomes.close()
    del store, outcomes
    gc.collect()
    assert r[0].tags == ("dark", "tree")
    r.close()
    r.close()  # idempotent
    with pytest.raises(ValueError):
        len(r)


def test_progress_and_cancel(demo_dir):
    store, outcomes = TagStore.load_with_outcomes(demo_dir / "tags.csv")
    assert outcomes is None
    outcomes = Outcomes.load(demo_dir / "outcomes.csv", store)
    calls = []

    def progress(done, total):
        calls.append((done, total))
        return False

    with libprime.search(store, outcomes, progress=progress, threads=1) as r:
        assert len(r) == 10
    assert calls and all(d <= t for d, t in calls)
    with pytest.raises(libprime.CancelledError):
        libprime.search(store, outcomes, progress=lambda d, t: True)

    class Boom(Exception):
        pass

    def boom(done, total):
        raise Boom()
    with pytest.raises(Boom):
        libprime.search(store, outcomes, progress=boom)


def test_query_matches_modes(small):
    store, outcomes = small
    q = libprime.query(store, outcomes, ["dark", "tree"], "ape")
    assert (q.size, q.correct) == (3, 1.0)
    assert q.accuracy == pytest.approx(1 / 3) and q.class_accuracy == pytest.approx(5 / 7)
    assert q.drop == pytest.approx(5 / 7 - 1 / 3)
    whole = libprime.query(store, outcomes, [], "ape")
    assert whole.size == 7
    ids = [store.find_tag("dark"), store.find_tag("tree")]
    assert libprime.query(store, outcomes, ids, store.find_class("ape")) == q
    everywhere = libprime.query(store, outcomes, ["wet"])
    assert everywhere.size == 3
    assert math.isnan(libprime.query(store, outcomes, ["wet"], "ape").accuracy)
    parents = libprime.query_parents(store, outcomes, ["dark", "tree"], "ape")
    assert [(p.removed, p.size, p.correct) for p in parents] == [("dark", 4, 2.0),
                                                                 ("tree", 4, 2.0)]
    assert parents[0].accuracy == 0.5
    with pytest.raises(libprime.NotFoundError):
        libprime.query(store, outcomes, ["nope"], "ape")
    with pytest.raises(libprime.MismatchError):
        with Outcomes([1.0]) as short:
            libprime.query(store, outcomes=short)


def test_save_open_roundtrip(small, tmp_path):
    store, outcomes = small
    p = tmp_path / "s.prime"
    store.save(p)
    with TagStore.open(p) as s2, TagStore.open_bytes(p.read_bytes()) as s3:
        assert s2.tags == store.tags == s3.tags and len(s2) == len(store)
    with pytest.raises(libprime.FormatError):
        TagStore.open_bytes(b"PRIME\0\0\0 not a store at all")


def test_from_bytes_with_outcomes():
    data = b"image,class,tags,correct\nx1,c,a|b,1\nx2,c,a,0\n"
    store, outcomes = TagStore.from_bytes(data, name="mem.csv")
    with store, outcomes:
        assert outcomes.to_list() == [1.0, 0.0]
        with Outcomes.from_bytes(b"image,score\nx2,0.5\nx1,0.25\n", store) as o2:
            assert o2.to_list() == [0.25, 0.5]
    with pytest.raises(libprime.ParseError) as e:
        TagStore.from_bytes(b'image,class,tags\n"x,c,a\n', name="mem.csv")
    assert "mem.csv" in e.value.detail


def test_from_records_and_dataframe(packer):
    recs = [("i1", "c", ["t"]), {"image": "i2", "class": "c", "tags": "t|u"}]
    with TagStore.from_records(recs) as s:
        assert len(s) == 2 and s.tag_count_in_class("t", "c") == 2
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"image": ["i1", "i2"], "class": ["c", "d"], "tags": [["t"], "t|u"]})
    with TagStore.from_dataframe(df) as s:
        assert s.classes == ["c", "d"] and s.image_tag_names(1) == ["t", "u"]


def test_handles_freed_on_gc():
    # __del__ frees the C handle; a store dropped without close() is fine
    s = TagStore.from_lists(None, ["c"], [["t"]])
    assert repr(s).startswith("<libprime.TagStore")
    del s
    gc.collect()
