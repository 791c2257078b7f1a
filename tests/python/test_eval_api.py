"""libprime.Eval and the statistics helpers (python/libprime/_eval.py) against
`prime eval` and values worked by hand on the CLI data set (tests/cli/README.md)."""
from __future__ import annotations

import gc
import json
import math
import subprocess

import pytest

import libprime


@pytest.fixture()
def paths(cli_dir):
    return cli_dir / "expected.json", cli_dir / "tags.csv", cli_dir / "outcomes.csv"


def _wilson(k: float, n: int, z: float = libprime.EVAL_Z95):
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return c - h, c + h


def test_hand_worked(small, paths):
    store, outcomes = small
    with libprime.Eval(paths[0], store, outcomes) as ev:
        assert len(ev) == 2 and ev.test_kind == "fisher"
        ape, bee = ev.modes
        assert (ape.class_name, ape.tags) == ("ape", ["dark", "tree"])
        assert ape.description == "a photo of ape dark tree"
        assert ape.test.size == 3 and ape.test.correct == 1
        assert ape.test.accuracy == pytest.approx(1 / 3)
        assert ape.test.class_accuracy == pytest.approx(5 / 7)
        assert ape.test.drop == pytest.approx(5 / 7 - 1 / 3)
        assert ape.train == ape.test
        # Fisher: N = 7, K = 5, n = 3, k = 1: P(X <= 1) = C(5,1) C(2,2) / C(7,3) = 5/35
        assert ape.p_value == pytest.approx(1 / 7)
        assert (ape.ci_low, ape.ci_high) == pytest.approx(_wilson(1, 3))
        assert [(p.tags, p.size, p.correct) for p in ape.parents] == [(["tree"], 4, 2),
                                                                       (["dark"], 4, 2)]
        # bee: N = 4, K = 2, n = 2, k = 0: C(2,2) / C(4,2) = 1/6
        assert bee.tags == ['say "hi"'] and bee.p_value == pytest.approx(1 / 6)
        assert bee.parents[0].tags == [] and bee.parents[0].size == 4
        assert math.isnan(bee.p_adjusted) and not bee.discovery  # FDR off
        s = ev.summary()
        assert (s.measured, s.still_failing) == (2, 2)
        assert s.pearson == pytest.approx(1) and s.spearman == pytest.approx(1)
        assert ev.params()[:2] == (2, pytest.approx(0.3))
        # BH with m = 2: sorted p = 1/7, 1/6: adj = min(2/7, 1/6), 1/6
        ev.set_fdr(0.5, 2)
        assert ev[0].p_adjusted == pytest.approx(1 / 6) and ev[-1].discovery
        assert ev.fdr_info() == (0.5, 2, 2)
        # m = 0: the result's "candidates" (4, tests/cli/cli_test.sh works it
        # out): adj = min(4/7, 4/6 * 1/2) = 1/3 for both
        ev.set_fdr(0.5)
        assert ev.params()[2] == 4
        assert ev[0].p_adjusted == pytest.approx(1 / 3) and ev.fdr_info() == (0.5, 4, 2)
        ev.set_fdr(0.5, 2)
        assert ev.mode(1).p_adjusted == pytest.approx(1 / 6)
        with pytest.raises(IndexError):
            ev.mode(2)


def test_matches_cli(small, paths, prime_cli, tmp_path):
    store, outcomes = small
    res, tags, outs = paths
    for extra, kw in (([], {}), (["--fdr", "0.05", "--hypotheses", "10"],
                                 {"fdr": 0.05, "hypotheses": 10})):
        want = subprocess.run([prime_cli, "eval", "--result", str(res), "--tags", str(tags),
                               "--outcomes", str(outs), "--format", "json", *extra],
                              check=True, capture_output=True, text=True).stdout
        with libprime.Eval(res, store, outcomes, **kw) as ev:
            assert ev.to_json().rstrip("\n") == want.rstrip("\n")
            assert ev.to_dict() == json.loads(want)
            ev.write(tmp_path / "ev.json")
            assert (tmp_path / "ev.json").read_text().rstrip("\n") == want.rstrip("\n")
            assert "ape" in ev.to_text()


def test_from_result_and_memory(small, paths):
    store, outcomes = small
    with libprime.search(store, outcomes, min_size=2, max_tags=2, min_gain=[0, 0.1]) as r, \
            libprime.Eval(r, store, outcomes) as ev, \
            libprime.Eval.from_json(paths[0].read_text(), store, outcomes) as ev2:
        assert [m.tags for m in ev] == [m.tags for m in ev2] == [["dark", "tree"], ['say "hi"']]
        assert ev.params()[2] == r_candidates(r)
        assert [m.p_value for m in ev] == [m.p_value for m in ev2]


def r_candidates(r) -> int:
    return int(libprime.lib().prime_result_candidate_count(r._p()))


def test_stat_helpers():
    assert libprime.wilson(1, 3) == pytest.approx(_wilson(1, 3))
    assert all(math.isnan(x) for x in libprime.wilson(0, 0))
    assert libprime.hypergeom_lower(7, 5, 3, 1) == pytest.approx(1 / 7)
    assert libprime.bh([0.01, 0.04, 0.03], 3) == pytest.approx([0.03, 0.04, 0.04])
    assert libprime.bh([0.01], 10) == pytest.approx([0.1])
    assert libprime.pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(0.9933992677987828)
    assert libprime.spearman([1, 2, 3], [2, 4, 7]) == pytest.approx(1)
    # x all below y: U = 0; nx = ny = 2: sigma^2 = 4/12 * 5, z = (0 - 2 + 0.5) / sigma
    z = -1.5 / math.sqrt(4 / 12 * 5)
    assert libprime.mann_whitney_lower([1, 2], [3, 4]) == pytest.approx(
        0.5 * math.erfc(-z / math.sqrt(2)))
    with pytest.raises(libprime.RangeError) as e:
        libprime.wilson(4, 3)
    assert e.value.status_name == "PRIME_E_RANGE"
    with pytest.raises(libprime.RangeError):
        libprime.bh([0.1, 0.2], 1)
    with pytest.raises(ValueError):
        libprime.pearson([1, 2], [1])


def test_errors(small, tmp_path):
    store, outcomes = small
    with pytest.raises(libprime.PrimeIOError):
        libprime.Eval(tmp_path / "none.json", store, outcomes)
    bad = tmp_path / "bad.json"
    bad.write_text('{"params": {"min_size": 2}\n')
    with pytest.raises(libprime.ParseError) as e:
        libprime.Eval(bad, store, outcomes)
    assert "bad.json" in e.value.detail
    with pytest.raises(libprime.ParseError):
        libprime.Eval.from_json("[1,", store, outcomes, name="mem.json")
    with pytest.raises(TypeError):
        libprime.Eval("x.json", outcomes, store)  # type: ignore[arg-type]
    empty = ('{"params": {"min_size": 2, "min_drop": 0.3, "whole_dataset": false}, '
             '"failure_modes": []}')
    with libprime.Eval.from_json(empty, store, outcomes) as ev:
        assert len(ev) == 0
        with pytest.raises(libprime.RangeError):
            ev.set_z(-1)
        with pytest.raises(ValueError):
            ev.render("csv")
    ev.close()
    with pytest.raises(ValueError):
        len(ev)


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_no_leak(small, paths):
    store, outcomes = small
    text = paths[0].read_text()

    def cycle(k: int) -> None:
        for _ in range(k):
            with libprime.Eval.from_json(text, store, outcomes, name="r.json") as ev:
                ev.set_fdr(0.1)
                ev.modes
                ev.to_json()
            try:
                libprime.Eval.from_json("{", store, outcomes)
            except libprime.ParseError:
                pass
    cycle(300)
    gc.collect()
    before = _rss_kib()
    cycle(3000)
    gc.collect()
    assert _rss_kib() - before < 2048
