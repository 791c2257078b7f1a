"""Columnar export, membership, bulk building and DataFrames (issue 13)."""
from __future__ import annotations

import dataclasses
import math

import pytest

import libprime
from libprime import Outcomes, TagStore

from _synth import synth_csv, synth_lists

PARAMS = dict(max_tags=3, min_size=20, min_drop=0.1, min_gain=0.0)


@pytest.fixture(scope="module")
def synth():
    images, classes, tags, outcomes = synth_lists(3000, n_tags=25, per_image=6)
    store = TagStore.from_lists(images, classes, tags)
    out = Outcomes(outcomes)
    result = libprime.search(store, out, **PARAMS)
    assert len(result) > 20
    yield store, out, result, (images, classes, tags, outcomes)
    result.close()
    out.close()
    store.close()


def test_bulk_build_equals_one_by_one_and_csv(synth, tmp_path):
    store, out, _, (images, classes, tags, outcomes) = synth
    one = TagStore()
    for im, c, t in zip(images, classes, tags):
        one.add_image(im, c, t)
    one.freeze()
    store.save(tmp_path / "bulk.prime")
    one.save(tmp_path / "one.prime")
    assert (tmp_path / "bulk.prime").read_bytes() == (tmp_path / "one.prime").read_bytes()
    csv, _ = TagStore.from_bytes(synth_csv(3000, n_tags=25, per_image=6).encode(), "s.csv")
    csv.save(tmp_path / "csv.prime")
    with csv:
        assert csv.tags == store.tags and csv.classes == store.classes
        assert [csv.image_tags(i) for i in range(len(csv))] == \
            [store.image_tags(i) for i in range(len(store))]
    one.close()


def test_bulk_build_edge_cases(packer):
    with TagStore.from_lists(["a", None, "", "d"], ["x", "y", "x", "y"],
                             ["p|q|p", None, [], ("q", "r", "q")]) as s:
        assert [s.image_name(i) for i in range(4)] == ["a", "", "", "d"]
        assert [s.image_tag_names(i) for i in range(4)] == [["p", "q"], [], [], ["q", "r"]]
    # appending to a store that already has names maps ids correctly
    s = TagStore()
    s.add_image("z", "y", ["r", "zz"])
    first = s.add_images(["a", "b"], ["x", "y"], [["q", "r"], ["zz"]])
    assert first == 1
    s.freeze()
    assert s.image_tag_names(1) == ["r", "q"]  # by id: r (0) before q (2)
    assert s.image_tag_names(2) == ["zz"] and s.class_name(s.image_class(1)) == "x"
    s.close()
    with pytest.raises(libprime.DuplicateError):
        TagStore.from_lists(["a", "a"], ["x", "x"], [[], []])
    with pytest.raises(libprime.InvalidArgumentError):
        TagStore.from_lists(["a"], ["x"], [["bad|name"]])
    with pytest.raises(ValueError):
        TagStore.from_lists(["a"], ["x"], [["a\x00"]])
    with pytest.raises(ValueError):
        TagStore.from_lists(["a"], ["x", "y"], [[], []])
    with pytest.raises(TypeError):
        TagStore.from_lists(None, ["x"], [5])


def test_columns_equal_mode_objects(synth):
    _, _, result, _ = synth
    cols = result.columns()
    assert list(cols) == [f.name for f in dataclasses.fields(libprime.FailureMode)]
    modes = list(result)
    for k, m in enumerate(modes):
        row = {name: cols[name][k] for name in cols}
        for name, v in dataclasses.asdict(m).items():
            got = row[name]
            if isinstance(v, float):
                assert float(got) == v or (math.isnan(v) and math.isnan(got)), name
            else:
                assert (got if not hasattr(got, "item") else got.item()) == v, name
    assert result.to_dicts() == [dataclasses.asdict(m) for m in modes]


def test_to_dataframe(synth):
    pd = pytest.importorskip("pandas")
    _, _, result, _ = synth
    df = result.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == len(result)
    assert list(df.columns) == [f.name for f in dataclasses.fields(libprime.FailureMode)]
    m = result[3]
    assert df.loc[3, "class_name"] == m.class_name and df.loc[3, "tags"] == m.tags
    assert df.loc[3, "size"] == m.size and df.loc[3, "drop"] == m.drop
    assert str(df["size"].dtype) == "int64"


def test_eval_to_dataframe(synth):
    pd = pytest.importorskip("pandas")
    store, out, result, _ = synth
    with libprime.Eval(result, store, out) as ev:
        df = ev.to_dataframe()
        assert len(df) == len(ev)
        m = ev[2]
        assert df.loc[2, "class_name"] == m.class_name and df.loc[2, "tags"] == tuple(m.tags)
        assert df.loc[2, "train_size"] == m.train.size and df.loc[2, "test_drop"] == m.test.drop
        assert df.loc[2, "p_value"] == m.p_value and df.loc[2, "discovery"] == m.discovery
        assert isinstance(pd.DataFrame(ev.columns()), pd.DataFrame)


def test_mode_images_and_membership(synth):
    store, out, result, _ = synth
    memb = result.membership(store, sparse="csr")
    assert memb.shape == (len(store), len(result))
    for i, m in enumerate(result):
        imgs = [int(x) for x in result.mode_images(store, i)]
        assert len(imgs) == m.size
        assert imgs == memb.images_of(i)
        assert imgs == [int(x) for x in store.select(m.tags, m.class_name)]
        assert all(store.image_class(k) == m.class_id for k in imgs)
        assert all(set(m.tags) <= set(store.image_tag_names(k)) for k in imgs)
        q = libprime.query(store, out, m.tags, m.class_name)
        assert q.correct == sum(out[k] for k in imgs)
    # the image-major view agrees with the mode-major one
    for k in (0, 17, len(store) - 1):
        assert memb.modes_of(k) == [i for i in range(len(result)) if k in memb.images_of(i)]
    with pytest.raises(IndexError):
        result.mode_images(store, len(result))


def test_membership_other_store_by_name(synth):
    store, out, result, (images, classes, tags, outcomes) = synth
    # the same data in another order: matched by names, not ids
    with TagStore.from_lists(images[::-1], classes[::-1], tags[::-1]) as rev:
        n = len(rev)
        got = sorted(n - 1 - int(k) for k in result.mode_images(rev, 0))
        assert got == [int(k) for k in result.mode_images(store, 0)]
    with TagStore.from_lists(["a"], ["nope"], [["t00"]]) as other:
        with pytest.raises(libprime.MismatchError):
            result.mode_images(other, 0)


def test_repr_html(synth):
    _, _, result, _ = synth
    html = result._repr_html_()
    assert html.startswith("<table>") and "class_name" in html
    assert result[0].class_name in html and "more modes" in html or len(result) <= 50


def test_from_dataframe_outcomes(packer):
    pd = pytest.importorskip("pandas")
    images, classes, tags, outcomes = synth_lists(500, n_tags=10, per_image=3)
    df = pd.DataFrame({"image": images, "class": classes, "tags": tags, "correct": outcomes})
    store, out = libprime.from_dataframe(df, outcomes="correct")
    with store, out:
        assert len(store) == 500 and out.to_list() == outcomes
    df["label"] = ["cat" if i % 3 else "dog" for i in range(500)]
    df["pred"] = ["cat"] * 500
    store, out = libprime.from_dataframe(df, label="label", prediction="pred")
    with store, out:
        assert out.to_list() == [1.0 if i % 3 else 0.0 for i in range(500)]
    df["pf"] = [0.5] * 500
    with pytest.raises(TypeError):
        libprime.from_dataframe(df, label="label", prediction="pf")


@pytest.mark.parametrize("n", [10, 5000])
def test_bulk_build_is_all_or_nothing(n, packer):
    s = TagStore()
    s.add_image("keep", "k", ["old"])
    images = ["i%d" % i for i in range(n)]
    images[-1] = "i0"  # duplicate, found last (small batch) or by the index (large)
    with pytest.raises(libprime.DuplicateError) as e:
        s.add_images(images, ["c"] * n, [["new%d" % (i % 7)] for i in range(n)])
    assert "i0" in e.value.detail
    assert (len(s), s.tag_count, s.tags) == (1, 1, ["old"])
    bad = [["x"]] * n
    bad[n // 2] = ["y" * 300]
    with pytest.raises(libprime.LimitError):
        s.add_images(None, ["c"] * n, bad)
    assert (len(s), s.tag_count) == (1, 1)
    assert s.add_images(["a", "b"], ["c", "c"], [["old", "z"], None]) == 1
    s.freeze()
    assert s.find_image("b") == 2 and s.image_tag_names(1) == ["old", "z"]
    assert s.class_image_count("k") == 1 and s.class_image_count("c") == 2
    s.close()


def test_add_images_by_ids_c_call():
    import array
    import ctypes
    from libprime import _core
    lib = libprime.lib()
    with TagStore() as s:
        c = s.intern_class("c")
        a, b = s.intern_tag("a"), s.intern_tag("b")
        cls = array.array("I", [c, c, c])
        off = array.array("Q", [0, 2, 2, 5])
        ids = array.array("I", [b, a, a, b, a])
        first = ctypes.c_uint32()
        assert lib.prime_tagstore_add_images(
            s._p(), 3, None, None, _core._ptr_of(cls, ctypes.c_uint32),
            _core._ptr_of(off, ctypes.c_uint64), _core._ptr_of(ids, ctypes.c_uint32),
            ctypes.byref(first)) == 0
        assert [s.image_tags(i) for i in range(3)] == [[a, b], [], [a, b]]
        ids[0] = 7
        assert lib.prime_tagstore_add_images(
            s._p(), 3, None, None, _core._ptr_of(cls, ctypes.c_uint32),
            _core._ptr_of(off, ctypes.c_uint64), _core._ptr_of(ids, ctypes.c_uint32),
            None) == -1
        assert len(s) == 3


def _xy_data():
    """x and y always together: {x, y} adds nothing to {x}."""
    import random
    rng = random.Random(3)
    images, classes, tags, outcomes = [], [], [], []
    for i in range(400):
        t = ["n%d" % rng.randrange(6) for _ in range(2)]
        bad = i % 5 == 0
        if bad:
            t += ["x", "y"]  # x and y always together: {x, y} adds nothing to {x}
        images.append("i%d" % i)
        classes.append("a" if i % 2 else "b")
        tags.append(t)
        outcomes.append(0.0 if bad and rng.random() < 0.8 else 1.0)
    return images, classes, tags, outcomes


def test_equal_images():
    images, classes, tags, outcomes = _xy_data()
    with TagStore.from_lists(images, classes, tags) as store, Outcomes(outcomes) as out, \
            libprime.search(store, out, max_tags=3, min_size=10, min_drop=0.1,
                            min_gain=-1.0) as r:
        eq = r.equal_images(store)
        memb = r.membership(store, sparse="csr")
        sets = [tuple(memb.images_of(i)) for i in range(len(r))]
        modes = list(r)
        found = 0
        for i, m in enumerate(modes):
            smaller = [j for j in range(len(r)) if modes[j].class_name == m.class_name
                       and len(modes[j].tags) < len(m.tags) and sets[j] == sets[i]]
            if not smaller:
                assert eq[i] is None
            else:
                found += 1
                best = min(smaller, key=lambda j: (len(modes[j].tags), j))
                assert eq[i] == best
        assert found > 0
        xy = [i for i, m in enumerate(modes) if m.tags == ("x", "y")]
        assert xy and eq[xy[0]] is not None and len(modes[eq[xy[0]]].tags) == 1
        # the search option leaves exactly those modes out, the rest unchanged
        with libprime.search(store, out, max_tags=3, min_size=10, min_drop=0.1,
                             min_gain=-1.0, fold_equal=True) as folded:
            assert list(folded) == [m for m, e in zip(modes, eq) if e is None]
            assert folded.to_dict()["params"]["fold_equal"] is True
            assert "fold_equal" not in r.to_dict()["params"]
        assert libprime.Config(fold_equal=True)["fold_equal"] is True
        assert libprime.Config()["fold_equal"] is False


def store_csv(images, classes, tags, outcomes):
    rows = ["image,class,tags,correct"]
    for im, c, t, o in zip(images, classes, tags, outcomes):
        rows.append("%s,%s,%s,%d" % (im, c, "|".join(t), int(o)))
    return "\n".join(rows) + "\n"


def test_fold_equal_cli_parity(tmp_path, prime_cli):
    import subprocess
    (tmp_path / "t.csv").write_text(store_csv(*_xy_data()))
    args = ["--min-size", "10", "--max-tags", "3", "--min-drop", "0.1", "--min-gain", "-1"]
    cli = subprocess.run([prime_cli, "search", "--tags", str(tmp_path / "t.csv"), "--format",
                          "json", "--fold-equal"] + args, capture_output=True, text=True,
                         check=True).stdout
    store, out = TagStore.load_with_outcomes(tmp_path / "t.csv")
    with store, out, libprime.search(store, out, max_tags=3, min_size=10, min_drop=0.1,
                                     min_gain=-1.0, fold_equal=True) as r:
        assert r.to_json() == cli
