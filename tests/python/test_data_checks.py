"""No silent wrong data (issue 13): lossy casts are refused, labels may be
any hashable, exceptions pickle, I/O errors are the builtin OSError kinds."""
from __future__ import annotations

import errno
import os
import pickle
import stat
from concurrent.futures import ProcessPoolExecutor

import pytest

import libprime
from libprime import Outcomes, TagStore

np = pytest.importorskip("numpy")


def test_from_labels_refuses_float_predictions():
    with pytest.raises(TypeError, match="float"):
        Outcomes.from_labels([0, 1, 1], [0.2, 0.9, 1.7])
    with pytest.raises(TypeError, match="float"):
        Outcomes.from_labels(np.array([0, 1, 1]), np.array([0.2, 0.9, 1.7]))
    with pytest.raises(TypeError, match="float"):
        Outcomes.from_labels([0.0, 1.0], [0, 1])
    with pytest.raises(TypeError, match="hashable"):
        Outcomes.from_labels([[0], [1]], [0, 1])
    with pytest.raises(ValueError):
        Outcomes.from_labels([0, 1], [0])


def test_from_labels_any_hashable():
    with Outcomes.from_labels(["cat", "dog", "dog"], ["cat", "cat", "dog"]) as o:
        assert o.to_list() == [1.0, 0.0, 1.0]
    with Outcomes.from_labels(np.array(["a", "b"]), np.array(["a", "a"])) as o:
        assert o.to_list() == [1.0, 0.0]
    with Outcomes.from_labels([(1, "x"), None, 3], [(1, "x"), None, 4]) as o:
        assert o.to_list() == [1.0, 1.0, 0.0]
    big = 2 ** 40
    with Outcomes.from_labels(np.array([big, 1], dtype=np.uint64),
                              np.array([big, 2], dtype=np.uint64)) as o:
        assert o.to_list() == [1.0, 0.0]
    with Outcomes.from_labels([0, 1, 1], [0, 1, 0]) as o:
        assert o.to_list() == [1.0, 1.0, 0.0]


def test_image_from_array_refuses_lossy_values():
    with pytest.raises(TypeError, match="float"):
        libprime.Image.from_array(np.full((2, 2, 3), 0.7))
    with pytest.raises(ValueError, match="0..255"):
        libprime.Image.from_array(np.full((2, 2, 3), 300, dtype=np.int32))
    with pytest.raises(ValueError, match="0..255"):
        libprime.Image.from_array(np.full((2, 2, 3), -1, dtype=np.int16))
    with libprime.Image.from_array(np.full((2, 2, 3), 200, dtype=np.int64)) as im:
        assert im.tobytes() == bytes([200]) * 12


def test_add_image_ids_refuses_out_of_range():
    with TagStore() as s:
        c = s.intern_class("c")
        s.intern_tag("a")
        s.intern_tag("b")
        with pytest.raises(IndexError):
            s.add_image_ids("x", c, [2 ** 32 + 1])
        with pytest.raises(IndexError):
            s.add_image_ids("x", c, [-1])
        with pytest.raises(TypeError):
            s.add_image_ids("x", c, [1.0])
        with pytest.raises(IndexError):
            s.add_image_ids("x", c, np.array([2 ** 32 + 1], dtype=np.int64))
        assert len(s) == 0
        s.add_image_ids("x", c, np.array([1, 0], dtype=np.uint8))
        assert s.image_tag_names(0) == ["a", "b"]


def test_query_string_is_one_tag_not_letters(small):
    store, outcomes = small
    whole = libprime.query(store, outcomes, ["dark"], "ape")
    assert libprime.query(store, outcomes, "dark", "ape") == whole
    two = libprime.query(store, outcomes, ["dark", "tree"], "ape")
    assert libprime.query(store, outcomes, "dark|tree", "ape") == two
    with pytest.raises(libprime.NotFoundError):
        libprime.query(store, outcomes, "tofu")


def test_store_classes_may_be_ints_not_floats(packer):
    with TagStore.from_lists(None, [3, 4, 3], [["a"], "b", None]) as s:
        assert s.classes == ["3", "4"]
    with pytest.raises(TypeError):
        TagStore.from_lists(None, [3.5], [["a"]])
    with pytest.raises(TypeError):
        TagStore.from_lists(None, ["c"], [[1]])


def _fail_in_worker(path):
    return TagStore.load(path)


def test_exceptions_pickle_and_cross_processes(tmp_path):
    for exc in (libprime.ParseError(-4, "tags.csv:3: bad"), libprime.RangeError(-10, "x"),
                libprime.PrimeError(-1, "y"), libprime.BusyError("busy"),
                libprime.FileNotFoundPrimeError(-3, "cannot open", "PRIME_E_IO", "a.csv")):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == str(exc)
        assert type(exc).__module__ == "libprime"
    e = pickle.loads(pickle.dumps(libprime.FileNotFoundPrimeError(-3, "m", "PRIME_E_IO", "a")))
    assert (e.errno, e.filename, e.status) == (errno.ENOENT, "a", -3)
    with ProcessPoolExecutor(1) as ex:
        fut = ex.submit(_fail_in_worker, str(tmp_path / "missing.csv"))
        with pytest.raises(FileNotFoundError) as ei:
            fut.result(timeout=60)
    assert isinstance(ei.value, libprime.PrimeIOError)


def test_io_errors_are_builtin_kinds(tmp_path, small):
    missing = tmp_path / "none.csv"
    with pytest.raises(FileNotFoundError) as e:
        TagStore.load(missing)
    assert e.value.errno == errno.ENOENT and e.value.filename == str(missing)
    assert isinstance(e.value, libprime.PrimeIOError) and e.value.status == -3
    with pytest.raises(IsADirectoryError) as e:
        TagStore.load(tmp_path)
    assert e.value.errno == errno.EISDIR and e.value.filename == str(tmp_path)
    store, outcomes = small
    with pytest.raises(IsADirectoryError):
        Outcomes.load(tmp_path, store)
    with pytest.raises(FileNotFoundError):
        store.save(tmp_path / "no" / "such" / "dir.prime")
    with libprime.search(store, outcomes, min_size=2) as r:
        with pytest.raises(IsADirectoryError):
            r.write(tmp_path)
    if os.geteuid() != 0:
        locked = tmp_path / "locked.csv"
        locked.write_text("image,class,tags\na,b,c\n")
        locked.chmod(0)
        with pytest.raises(PermissionError) as e:
            TagStore.load(locked)
        assert e.value.errno == errno.EACCES
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
