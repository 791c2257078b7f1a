"""libprime.Embeddings / Quality (python/libprime/_quality.py) against
`prime eval --quality` (tests/data/quality) and hand-worked values."""
from __future__ import annotations

import gc
import math
import subprocess

import pytest

import libprime


@pytest.fixture(scope="module")
def qd(source_root):
    return source_root / "tests" / "data" / "quality"


def test_embeddings(qd):
    with libprime.Embeddings(qd / "img.npy") as e, \
            libprime.Embeddings(qd / "img.f32", e.dim) as raw:
        assert e.rows == raw.rows > 0 and e.dim == raw.dim
        assert e.row(0) == raw.row(e.rows and 0) and e.row(e.rows - 1) == raw.row(raw.rows - 1)
        with libprime.Embeddings.from_bytes((qd / "img.npy").read_bytes(), name="m.npy") as m:
            assert m.row(1) == e.row(1)
    with libprime.Embeddings.from_array([[1.0, 2.0], [3.0, 4.5]]) as a:
        assert (a.rows, a.dim) == (2, 2) and a.row(1) == [3.0, 4.5]
        with pytest.raises(IndexError):
            a.row(2)


def test_numpy_by_pointer():
    np = pytest.importorskip("numpy")
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    with libprime.Embeddings.from_array(x) as e:
        assert (e.rows, e.dim) == (3, 4) and e.row(2) == [8.0, 9.0, 10.0, 11.0]
    with libprime.Embeddings.from_array(x.T) as e:  # non-contiguous: converted once
        assert (e.rows, e.dim) == (4, 3) and e.row(0) == [0.0, 4.0, 8.0]


def test_matches_cli(qd, prime_cli):
    want = subprocess.run([prime_cli, "eval", "--quality", "--result", str(qd / "result.json"),
                           "--tags", str(qd / "tags.csv"), "--image-embeddings",
                           str(qd / "img.npy"), "--text-embeddings", str(qd / "text.npy"),
                           "--format", "json"], check=True, capture_output=True,
                          text=True).stdout
    with libprime.TagStore.load(qd / "tags.csv") as store, \
            libprime.Embeddings(qd / "img.npy") as img, \
            libprime.Embeddings(qd / "text.npy") as txt, \
            libprime.Quality(store, img) as q:
        q.add_result(qd / "result.json", txt)
        assert q.to_json().rstrip("\n") == want.rstrip("\n")
        d = q.to_dict()
        assert len(q) == len(d["groups"] if "groups" in d else q.groups)
        ov = q.overall()
        assert ov.groups == len(q) == 4
        for g in q.groups:
            assert g.class_size >= g.size and g.label.startswith("a photo of")
            if g.size == 0:  # a mode the store does not hold (dog snow): all NaN
                assert math.isnan(g.coherency) and math.isnan(g.similarity)
        assert sum(c.groups for c in q.classes) == 4
        assert "a photo of" in q.to_text()


def test_add_group_hand_worked(qd):
    # G = {x, y} with identical embeddings (1, 0); class c adds z = (0, 1).
    # coh(G) = 1; m_c = (2/3, 1/3), coh(c) = |m_c| = sqrt(5)/3; coherency =
    # 1 - sqrt(5)/3. Text (2, 0): similarity 1; cos to z is 0 < 1: AUROC 1.
    with libprime.TagStore.from_lists(["x", "y", "z"], ["c", "c", "c"],
                                      [["t"], ["t"], []]) as store, \
            libprime.Embeddings.from_array([[1, 0], [1, 0], [0, 1]]) as img, \
            libprime.Quality(store, img) as q:
        i = q.add_group("pair", "c", [0, 1], [2.0, 0.0])
        g = q.group(i)
        assert (g.label, g.class_name, g.size, g.class_size) == ("pair", "c", 2, 3)
        assert g.similarity == pytest.approx(1.0)
        assert g.coherency == pytest.approx(1 - math.sqrt(5) / 3)
        assert g.specificity == pytest.approx(1.0)
        e = q.group(q.add_group(None, None, []))
        assert e.class_name == "(all)" and math.isnan(e.coherency)
        with pytest.raises(libprime.PrimeError):
            q.add_group("bad", "c", [7])


def test_errors(qd, tmp_path):
    with pytest.raises(libprime.FormatError) as e:
        libprime.Embeddings(qd / "bad_nan.npy")
    assert "bad_nan.npy" in e.value.detail and e.value.status_name == "PRIME_E_FORMAT"
    with pytest.raises(libprime.PrimeIOError):
        libprime.Embeddings(tmp_path / "none.npy")
    with pytest.raises(libprime.PrimeError):
        libprime.Embeddings(qd / "img.f32")  # raw data needs a dim
    with pytest.raises(libprime.FormatError):
        libprime.Embeddings.from_array([[1.0, float("nan")]])
    with pytest.raises(ValueError):
        libprime.Embeddings.from_array([[1.0], [1.0, 2.0]])
    with pytest.raises(TypeError):
        libprime.Quality(None, None)  # type: ignore[arg-type]


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_no_leak(qd):
    data = (qd / "img.npy").read_bytes()
    store = libprime.TagStore.load(qd / "tags.csv")
    txt = libprime.Embeddings(qd / "text.npy")

    def cycle(k: int) -> None:
        for _ in range(k):
            with libprime.Embeddings.from_bytes(data) as img, libprime.Quality(store, img) as q:
                q.add_result(qd / "result.json", txt)
                q.groups
                q.to_json()
            try:
                libprime.Embeddings.from_bytes(b"\x93NUMPYbad")
            except libprime.PrimeError:
                pass
    cycle(200)
    gc.collect()
    before = _rss_kib()
    cycle(2000)
    gc.collect()
    assert _rss_kib() - before < 4096
    txt.close()
    store.close()
