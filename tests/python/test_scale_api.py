"""Tagging at scale from Python: merge, shards, sharded-store folders,
binary outcomes, the relative minimum size (issue 15)."""
from __future__ import annotations

import pytest

import libprime
from libprime import Config, Outcomes, TagStore


def lists(n=40):
    images = ["im%03d" % i for i in range(n)]
    classes = ["c%d" % (i * 3 // n) for i in range(n)]
    tags = [["t%d" % ((i * k) % 7) for k in range(1, 1 + i % 4)] for i in range(n)]
    return images, classes, tags


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_merge_equals_one_store(tmp_path, k):
    images, classes, tags = lists()
    whole = TagStore.from_lists(images, classes, tags)
    whole.save(tmp_path / "whole.prime")
    parts = []
    for i in range(k):
        a, b = libprime.shard_range(len(images), i, k)
        parts.append(TagStore.from_lists(images[a:b], classes[a:b], tags[a:b]))
    merged = TagStore.merge(parts, same_tags=False)
    merged.save(tmp_path / "merged.prime")
    assert (tmp_path / "merged.prime").read_bytes() == (tmp_path / "whole.prime").read_bytes()


def vocab_store(images, classes, tags, vocab):
    """A tagger's store: the vocabulary interned before the first image."""
    s = TagStore()
    for t in vocab:
        s.intern_tag(t)
    for im, c, ts in zip(images, classes, tags):
        s.add_image(im, c, ts)
    return s.freeze()


def test_sharded_folder_and_errors(tmp_path):
    images, classes, tags = lists()
    vocab = ["t%d" % k for k in range(7)]
    lid = libprime.shard_list_id(images)
    folder = tmp_path / "t.prmd"
    whole = vocab_store(images, classes, tags, vocab)
    whole.save(tmp_path / "whole.prime")
    for i in (0, 2, 1):
        a, b = libprime.shard_range(len(images), i, 3)
        vocab_store(images[a:b], classes[a:b], tags[a:b], vocab).write_shard(
            folder, i, 3, len(images), lid)
        if i == 2:
            with pytest.raises(libprime.NotFoundError, match="missing"):
                TagStore.load(folder)
    TagStore.load(folder).save(tmp_path / "merged.prime")
    assert (tmp_path / "merged.prime").read_bytes() == (tmp_path / "whole.prime").read_bytes()
    with pytest.raises(libprime.MismatchError):
        vocab_store(images[:1], classes[:1], tags[:1], vocab).write_shard(folder, 0, 2, 2, lid)


def test_shard_resolve(monkeypatch):
    for v in ("PRIME_SHARD", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT",
              "SLURM_ARRAY_TASK_MIN", "JOB_COMPLETION_INDEX", "PRIME_SHARD_COUNT",
              "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "PMI_RANK", "PMI_SIZE"):
        monkeypatch.delenv(v, raising=False)
    with pytest.raises(libprime.NotFoundError):
        libprime.shard_resolve()
    assert libprime.shard_resolve("2/5") == (2, 5)
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "3")
    monkeypatch.setenv("PRIME_SHARD_COUNT", "4")
    assert libprime.shard_resolve() == (3, 4)
    with pytest.raises(libprime.RangeError):
        libprime.shard_resolve("4/4")


def test_binary_outcomes_and_relative_min_size(tmp_path):
    images, classes, tags = lists()
    store = TagStore.from_lists(images, classes, tags)
    o = Outcomes.from_labels([i % 3 for i in range(40)], [0] * 40)
    o.save(store, tmp_path / "o.pro", "bits")
    back = Outcomes.load(tmp_path / "o.pro", store)
    assert back.to_list() == o.to_list()
    other = TagStore.from_lists(images[::-1], classes, tags)
    with pytest.raises(libprime.MismatchError):
        Outcomes.load(tmp_path / "o.pro", other)
    cfg = Config(min_size="10%", min_drop=0.1)
    assert cfg["min_size_share"] == pytest.approx(0.1)
    r = libprime.search(store, o, cfg)
    assert r.to_dict()["params"]["min_size_share"] == pytest.approx(0.1)
