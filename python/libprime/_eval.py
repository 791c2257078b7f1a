"""Evaluation of failure modes on another split (include/prime/eval.h), Pythonically."""
from __future__ import annotations

import json

from ctypes import byref, c_double, c_int32, c_int64, c_uint64
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _lib as L
from ._core import (Outcomes, PathLike, Result, TagStore, _check, _check_path, _dec, _Handle,
                    _interruptible, _l, _need, _path, _render_text)

__all__ = ["Eval", "EvalMode", "ModeStats", "ParentMeasure", "EvalSummary", "wilson",
           "hypergeom_lower", "mann_whitney_lower", "pearson", "spearman", "bh",
           "EVAL_Z95"]

#: z of a two-sided 95 % normal interval (the default of an evaluation).
EVAL_Z95 = 1.959963984540054

_FORMATS = {"json": L.PRIME_FORMAT_JSON, "text": L.PRIME_FORMAT_TEXT}


def _doubles(values: Sequence[float]) -> Tuple[Any, int]:
    vals = [float(v) for v in values]
    arr = (c_double * max(len(vals), 1))(*vals)
    return arr, len(vals)


# --------------------------------------------------------------------------
# Statistics helpers
# --------------------------------------------------------------------------

def wilson(successes: float, n: int, z: float = EVAL_Z95) -> Tuple[float, float]:
    """Wilson score interval (lo, hi) of successes out of n at quantile z
    (NaN, NaN for n = 0). :class:`RangeError` if successes is outside [0, n]."""
    lo, hi = c_double(), c_double()
    _check(_l().prime_stat_wilson(float(successes), int(n), float(z), byref(lo), byref(hi)))
    return lo.value, hi.value


def hypergeom_lower(N: int, K: int, n: int, k: int) -> float:
    """P(X <= k) for X hypergeometric (N items, K marked, n drawn): the
    one-sided Fisher exact p-value."""
    p = c_double()
    _check(_l().prime_stat_hypergeom_lower(int(N), int(K), int(n), int(k), byref(p)))
    return p.value


def mann_whitney_lower(x: Sequence[float], y: Sequence[float]) -> float:
    """One-sided Mann-Whitney U p-value that x tends to be lower than y
    (normal approximation with tie and continuity correction)."""
    xa, nx = _doubles(x)
    ya, ny = _doubles(y)
    p = c_double()
    _check(_l().prime_stat_mann_whitney_lower(xa, nx, ya, ny, byref(p)))
    return p.value


def _corr(fn: Any, x: Sequence[float], y: Sequence[float]) -> float:
    if len(x) != len(y):
        raise ValueError("x and y differ in length (%d, %d)" % (len(x), len(y)))
    xa, n = _doubles(x)
    ya, _ = _doubles(y)
    r = c_double()
    _check(fn(xa, ya, n, byref(r)))
    return r.value


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation (NaN below two values or without variance)."""
    return _corr(_l().prime_stat_pearson, x, y)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation, ties at their average rank."""
    return _corr(_l().prime_stat_spearman, x, y)


def bh(p: Sequence[float], m: int = 0) -> List[float]:
    """Benjamini-Hochberg adjusted p-values of p out of m hypotheses (m = 0:
    len(p)), in the input order. :class:`RangeError` for m < len(p) or a p
    outside [0, 1]."""
    pa, n = _doubles(p)
    out = (c_double * max(n, 1))()
    _check(_l().prime_stat_bh(pa, n, int(m), out))
    return list(out[:n])


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ModeStats:
    """Size, sum of outcomes, accuracy, class accuracy and drop of a mode on one split."""

    size: int
    correct: float
    accuracy: float
    class_accuracy: float
    drop: float


@dataclass(frozen=True)
class ParentMeasure:
    """A one-tag-smaller parent of a mode (``tags``; [] = the whole class) on the test split."""

    tags: List[str]
    size: int
    correct: float
    accuracy: float


@dataclass(frozen=True)
class EvalMode:
    """One failure mode with its train and test statistics and its confidence."""

    index: int
    class_name: str
    tags: List[str]
    description: str
    train: ModeStats
    test: ModeStats
    ci_low: float
    ci_high: float
    p_value: float
    p_adjusted: float
    discovery: bool
    parents: List[ParentMeasure]


@dataclass(frozen=True)
class EvalSummary:
    """Over the modes with test size >= 1: their number, the Pearson and Spearman
    correlations of train drop with test drop, and how many still fail."""

    measured: int
    pearson: float
    spearman: float
    still_failing: int


class Eval(_Handle):
    """The failure modes of a result measured on a (test) tag store and outcomes.

    ``result`` is a :class:`Result` (from :func:`search`) or the path of a
    result JSON file written by ``prime search --format json``::

        with libprime.Eval("modes.json", test_store, test_outcomes, fdr=0.05) as ev:
            for mode in ev:
                print(mode.class_name, mode.tags, mode.test.drop, mode.p_value)
            print(ev.summary())

    Raises :class:`ParseError` / :class:`PrimeIOError` for a bad result file,
    :class:`StateError` for an unfrozen store.
    """

    _kind = "Eval"

    def __init__(self, result: Union[Result, PathLike], store: TagStore, outcomes: Outcomes,
                 *, z: Optional[float] = None, fdr: Optional[float] = None,
                 hypotheses: int = 0) -> None:
        _need(store, TagStore, "store")
        _need(outcomes, Outcomes, "outcomes")
        ptr = L.EvalP()
        lib = _l()
        sp, op = store._p(), outcomes._p()

        def cleanup(_st: Any) -> None:
            if ptr:
                lib.prime_eval_destroy.raw(ptr)

        if isinstance(result, Result):
            rp = result._p()
            st = _interruptible(lambda: lib.prime_eval_create(rp, sp, op, byref(ptr)), cleanup)
            _check(st)
        else:
            path = _path(result)
            st = _interruptible(lambda: lib.prime_eval_load(path, sp, op, byref(ptr)), cleanup)
            _check_path(st, path)
        super().__init__(ptr, lib.prime_eval_destroy)
        if z is not None:
            self.set_z(z)
        if fdr is not None:
            self.set_fdr(fdr, hypotheses)

    @classmethod
    def from_json(cls, text: Union[str, bytes], store: TagStore, outcomes: Outcomes,
                  name: Optional[str] = None) -> "Eval":
        """An evaluation from result JSON text held in memory."""
        _need(store, TagStore, "store")
        _need(outcomes, Outcomes, "outcomes")
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        ptr = L.EvalP()
        nm = name.encode("utf-8") if name is not None else None
        lib, sp, op = _l(), store._p(), outcomes._p()

        def cleanup(_st: Any) -> None:
            if ptr:
                lib.prime_eval_destroy.raw(ptr)

        _check(_interruptible(lambda: lib.prime_eval_load_memory(data, len(data), nm, sp, op,
                                                                 byref(ptr)), cleanup))
        self = cls.__new__(cls)
        _Handle.__init__(self, ptr, lib.prime_eval_destroy)
        return self

    def __len__(self) -> int:
        return int(_l().prime_eval_mode_count(self._p()))

    @property
    def test_kind(self) -> str:
        """``"fisher"`` (0/1 outcomes) or ``"mann-whitney"`` (scores)."""
        k = int(_l().prime_eval_test_kind(self._p()))
        return {L.PRIME_EVAL_TEST_FISHER: "fisher",
                L.PRIME_EVAL_TEST_MANN_WHITNEY: "mann-whitney"}.get(k, str(k))

    def set_z(self, z: float) -> None:
        """Normal quantile of the Wilson intervals (finite, > 0)."""
        _check(_l().prime_eval_set_z(self._p(), float(z)))

    def set_fdr(self, q: float, hypotheses: int = 0) -> None:
        """Benjamini-Hochberg control at level q (0 turns it off) over
        ``hypotheses`` tests (0: the result's candidate count, else the modes)."""
        _check(_l().prime_eval_set_fdr(self._p(), float(q), int(hypotheses)))

    def fdr_info(self) -> Tuple[float, int, int]:
        """(q, m, discoveries) of the FDR setting in force (q = 0: off)."""
        q, m, d = c_double(), c_uint64(), c_uint64()
        _check(_l().prime_eval_fdr_info(self._p(), byref(q), byref(m), byref(d)))
        return q.value, int(m.value), int(d.value)

    def params(self) -> Tuple[int, float, int]:
        """(min_size, min_drop, candidates) of the evaluated result."""
        s, d, c = c_int64(), c_double(), c_uint64()
        _check(_l().prime_eval_params(self._p(), byref(s), byref(d), byref(c)))
        return int(s.value), d.value, int(c.value)

    def summary(self) -> EvalSummary:
        """The generalization summary (see :class:`EvalSummary`)."""
        n, pr, sp, still = c_uint64(), c_double(), c_double(), c_uint64()
        _check(_l().prime_eval_summary(self._p(), byref(n), byref(pr), byref(sp), byref(still)))
        return EvalSummary(int(n.value), pr.value, sp.value, int(still.value))

    def _stats(self, fn: Any, i: int) -> ModeStats:
        size, c, a, ca, d = c_uint64(), c_double(), c_double(), c_double(), c_double()
        _check(fn(self._p(), i, byref(size), byref(c), byref(a), byref(ca), byref(d)))
        return ModeStats(int(size.value), c.value, a.value, ca.value, d.value)

    def mode(self, i: int) -> EvalMode:
        """Mode i (IndexError when out of range; negative indexes count from the end)."""
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("mode %d out of range (%d modes)" % (i, n))
        lib = _l()
        p = self._p()
        ntags = int(lib.prime_eval_mode_tag_count(p, i))
        tags = [_dec(lib.prime_eval_mode_tag_name(p, i, j)) for j in range(ntags)]
        lo, hi, pv, pa, disc = c_double(), c_double(), c_double(), c_double(), c_int32()
        _check(lib.prime_eval_mode_confidence(p, i, byref(lo), byref(hi), byref(pv), byref(pa),
                                              byref(disc)))
        parents = []
        for j in range(ntags):
            size, c, a = c_uint64(), c_double(), c_double()
            _check(lib.prime_eval_mode_parent(p, i, j, byref(size), byref(c), byref(a)))
            ptags = tags[:j] + tags[j + 1:]
            parents.append(ParentMeasure(ptags, int(size.value), c.value, a.value))
        return EvalMode(i, _dec(lib.prime_eval_mode_class_name(p, i)), tags,
                        _dec(lib.prime_eval_mode_description(p, i)),
                        self._stats(lib.prime_eval_mode_train, i),
                        self._stats(lib.prime_eval_mode_test, i),
                        lo.value, hi.value, pv.value, pa.value, bool(disc.value), parents)

    def __getitem__(self, i: int) -> EvalMode:
        return self.mode(i)

    def __iter__(self) -> Iterator[EvalMode]:
        for i in range(len(self)):
            yield self.mode(i)

    @property
    def modes(self) -> List[EvalMode]:
        """Every mode, in the result's order."""
        return list(self)

    def render(self, format: str = "json") -> str:
        """The evaluation as ``prime eval --format json|text`` writes it."""
        f = _FORMATS.get(format)
        if f is None:
            raise ValueError("format must be 'json' or 'text', not %r" % (format,))
        return _render_text(_l().prime_eval_render, self._p(), f)

    def to_json(self) -> str:
        """The JSON document ``prime eval --format json`` writes, byte for byte."""
        return self.render("json")

    def to_text(self) -> str:
        """The table ``prime eval --format text`` prints."""
        return self.render("text")

    def to_dict(self) -> Dict[str, Any]:
        """The JSON document as Python objects."""
        return json.loads(self.to_json())  # type: ignore[no-any-return]

    def columns(self) -> Dict[str, List[Any]]:
        """Every mode's fields in columns named after :class:`EvalMode`'s
        attributes: ``index``, ``class_name``, ``tags`` (tuples),
        ``description``, ``train_size`` ... ``train_drop`` and ``test_size``
        ... ``test_drop`` (the :class:`ModeStats` fields of ``train`` and
        ``test``), ``ci_low``, ``ci_high``, ``p_value``, ``p_adjusted``,
        ``discovery``. Parents are left out (see :meth:`mode`)."""
        cols: Dict[str, List[Any]] = {k: [] for k in (
            "index", "class_name", "tags", "description",
            "train_size", "train_correct", "train_accuracy", "train_class_accuracy",
            "train_drop", "test_size", "test_correct", "test_accuracy", "test_class_accuracy",
            "test_drop", "ci_low", "ci_high", "p_value", "p_adjusted", "discovery")}
        lib, p = _l(), self._p()
        lo, hi, pv, pa, disc = c_double(), c_double(), c_double(), c_double(), c_int32()
        for i in range(len(self)):
            nt = int(lib.prime_eval_mode_tag_count(p, i))
            cols["index"].append(i)
            cols["class_name"].append(_dec(lib.prime_eval_mode_class_name(p, i)))
            cols["tags"].append(tuple(_dec(lib.prime_eval_mode_tag_name(p, i, j))
                                      for j in range(nt)))
            cols["description"].append(_dec(lib.prime_eval_mode_description(p, i)))
            for split, fn in (("train", lib.prime_eval_mode_train),
                              ("test", lib.prime_eval_mode_test)):
                st = self._stats(fn, i)
                cols[split + "_size"].append(st.size)
                cols[split + "_correct"].append(st.correct)
                cols[split + "_accuracy"].append(st.accuracy)
                cols[split + "_class_accuracy"].append(st.class_accuracy)
                cols[split + "_drop"].append(st.drop)
            _check(lib.prime_eval_mode_confidence(p, i, byref(lo), byref(hi), byref(pv),
                                                  byref(pa), byref(disc)))
            cols["ci_low"].append(lo.value)
            cols["ci_high"].append(hi.value)
            cols["p_value"].append(pv.value)
            cols["p_adjusted"].append(pa.value)
            cols["discovery"].append(bool(disc.value))
        return cols

    def to_dataframe(self) -> Any:
        """The modes as a pandas DataFrame (needs pandas) with the columns of
        :meth:`columns`."""
        try:
            import pandas as pd  # type: ignore[import]
        except ImportError as e:  # pragma: no cover - depends on the system
            raise ImportError("Eval.to_dataframe needs pandas (apt-get install python3-pandas)"
                              ) from e
        return pd.DataFrame(self.columns())

    def write(self, path: PathLike, format: str = "json") -> None:
        """Write the evaluation to a file (atomically, through a rename)."""
        f = _FORMATS.get(format)
        if f is None:
            raise ValueError("format must be 'json' or 'text', not %r" % (format,))
        _check(_l().prime_eval_write(self._p(), f, _path(path)))

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Eval (closed)>"
        return "<libprime.Eval %d modes, test=%s>" % (len(self), self.test_kind)


