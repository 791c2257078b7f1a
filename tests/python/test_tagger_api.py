"""libprime.Tagger (python/libprime/_tagger.py): the properties tagger against
`prime tag --backend properties`; errors; handle lifetime."""
from __future__ import annotations

import gc
import subprocess

import pytest

import libprime


@pytest.fixture(scope="module")
def tag_dir(source_root):
    return source_root / "tests" / "data" / "tag"


FILES = [("cat/a.png", "cat"), ("cat/b b.png", "cat"), ("dog/c.png", "dog")]


def test_vocabulary():
    with libprime.Tagger.properties() as t:
        assert t.name == "properties"
        assert t.tags[:10] == ["dark", "bright", "low-contrast", "blurry", "noisy", "grayscale",
                               "saturated", "portrait", "landscape", "square"]
        assert len(t.tags) == 21 and t.tags[-1] == "pink"


def test_matches_cli(tag_dir, prime_cli, tmp_path):
    out = tmp_path / "tags.csv"
    subprocess.run([prime_cli, "tag", "--images", str(tag_dir), "--backend", "properties",
                    "--output", str(out)], check=True, capture_output=True)
    with libprime.TagStore.load(out) as want, libprime.Tagger.properties() as t, \
            libprime.TagStore() as store:
        failed = t.tag_files([tag_dir / f for f, _ in FILES], [c for _, c in FILES], store,
                             [f for f, _ in FILES], threads=2, batch=2)
        assert failed == 0
        store.freeze()
        assert len(store) == len(want) == 3
        for i in range(3):
            j = want.find_image(store.image_name(i))
            assert store.image_tag_names(i) == want.image_tag_names(j)
            assert store.class_name(store.image_class(i)) == want.class_name(want.image_class(j))
        assert store.image_tag_names(0) == ["dark", "low-contrast", "grayscale", "landscape",
                                            "black"]


def test_bad_files(tag_dir, source_root):
    bad = source_root / "tests" / "data" / "images" / "bad" / "truncated.png"
    with libprime.Tagger.properties() as t:
        with libprime.TagStore() as store:
            assert t.tag_files([tag_dir / "cat" / "a.png", bad], ["cat", "cat"], store) == 1
            assert len(store) == 1
        with libprime.TagStore() as store, pytest.raises(libprime.PrimeError) as e:
            t.tag_files_strict([bad], ["cat"], store)
        assert "truncated.png" in e.value.detail
        with pytest.raises(ValueError):
            t.tag_files([bad], [], libprime.TagStore())
        with pytest.raises(TypeError):
            t.tag_files([bad], ["x"], None)  # type: ignore[arg-type]
        frozen = libprime.TagStore().freeze()
        with pytest.raises(libprime.StateError):
            t.tag_files([tag_dir / "cat" / "a.png"], ["cat"], frozen)


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_no_leak(tag_dir):
    paths = [tag_dir / f for f, _ in FILES]

    def cycle(k: int) -> None:
        for _ in range(k):
            with libprime.Tagger.properties() as t, libprime.TagStore() as s:
                t.tag_files(paths, ["a", "b", "c"], s, threads=1)
    cycle(100)
    gc.collect()
    before = _rss_kib()
    cycle(1000)
    gc.collect()
    assert _rss_kib() - before < 4096
