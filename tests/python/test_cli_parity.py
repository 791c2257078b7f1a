"""The package gives exactly what the `prime` program gives on the same files."""
from __future__ import annotations

import json
import subprocess

import pytest

import libprime
from libprime import Outcomes, TagStore

SMALL_ARGS = {"min_size": 2, "max_tags": 2, "min_gain": [0, 0.1]}
SMALL_CLI = ["--min-size", "2", "--max-tags", "2", "--min-gain", "0,0.1"]


def run_cli(prime_cli, tags, outcomes, args, fmt):
    cmd = [prime_cli, "search", "--tags", str(tags)]
    if outcomes is not None:
        cmd += ["--outcomes", str(outcomes)]
    cmd += list(args) + ["--format", fmt]
    out = subprocess.run(cmd, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


@pytest.mark.parametrize("fmt", ["json", "csv", "text"])
def test_small_identical(prime_cli, cli_dir, fmt):
    cli = run_cli(prime_cli, cli_dir / "tags.csv", cli_dir / "outcomes.csv", SMALL_CLI, fmt)
    with TagStore.load(cli_dir / "tags.csv") as s, \
            Outcomes.load(cli_dir / "outcomes.csv", s) as o, \
            libprime.search(s, o, **SMALL_ARGS) as r:
        assert r.render(fmt) == cli
    if fmt == "json":
        assert cli == (cli_dir / "expected.json").read_text(encoding="utf-8")


def test_small_dicts_identical(prime_cli, cli_dir):
    cli = json.loads(run_cli(prime_cli, cli_dir / "tags.csv", cli_dir / "outcomes.csv",
                             SMALL_CLI, "json"))
    images = []
    # the same data built from Python lists gives the same modes
    with TagStore.load(cli_dir / "tags.csv") as s:
        for i in range(len(s)):
            images.append((s.image_name(i), s.class_name(s.image_class(i)),
                           s.image_tag_names(i)))
    with TagStore.from_records(images) as s2, Outcomes.load(cli_dir / "outcomes.csv", s2) as o2, \
            libprime.search(s2, o2, **SMALL_ARGS) as r:
        assert r.to_dict()["failure_modes"] == cli["failure_modes"]
        assert r.to_dict() == cli
        for mode, d in zip(r, cli["failure_modes"]):
            assert (mode.class_name, list(mode.tags), mode.size) == (d["class"], d["tags"],
                                                                     d["size"])
            assert (mode.accuracy, mode.drop, mode.description) == (d["accuracy"], d["drop"],
                                                                    d["description"])


def test_outcomes_in_tags_file(prime_cli, cli_dir):
    cli = run_cli(prime_cli, cli_dir / "tags_correct.csv", None, SMALL_CLI, "json")
    store, outcomes = TagStore.load_with_outcomes(cli_dir / "tags_correct.csv")
    assert outcomes is not None
    with store, outcomes, libprime.search(store, outcomes, **SMALL_ARGS) as r:
        assert r.to_json() == cli


@pytest.mark.parametrize("extra", [{}, {"max_tags": 2, "min_drop": 0.2}, {"whole_dataset": True}])
def test_demo_identical(prime_cli, demo_dir, extra, tmp_path):
    cli_args = []
    for k, v in extra.items():
        opt = "--" + k.replace("_", "-")
        cli_args += [opt] if v is True else [opt, str(v)]
    cli = run_cli(prime_cli, demo_dir / "tags.csv", demo_dir / "outcomes.csv", cli_args, "json")
    with TagStore.load(demo_dir / "tags.csv") as s, \
            Outcomes.load(demo_dir / "outcomes.csv", s) as o, \
            libprime.search(s, o, **extra) as r:
        assert r.to_json() == cli
        if not extra:
            assert len(r) == 10  # data/demo/README.md: the 8 planted modes + 2
        out = tmp_path / "r.json"
        r.write(out)
        assert out.read_text(encoding="utf-8") == cli


def test_demo_from_numpy_outcomes(prime_cli, demo_dir):
    np = pytest.importorskip("numpy")
    cli = run_cli(prime_cli, demo_dir / "tags.csv", demo_dir / "outcomes.csv", [], "json")
    with TagStore.load(demo_dir / "tags.csv") as s:
        with Outcomes.load(demo_dir / "outcomes.csv", s) as o:
            arr = np.array(o.to_list())
        with Outcomes(arr) as o2, libprime.search(s, o2) as r:
            assert r.to_json() == cli
