"""Embeddings and description quality (include/prime/quality.h), Pythonically."""
from __future__ import annotations

import array
import ctypes
import json
import sys
from ctypes import POINTER, byref, c_double, c_float, c_uint32, c_uint64
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _lib as L
from ._core import (PathLike, Result, TagStore, _check, _dec, _enc, _Handle, _interruptible, _l,
                    _need, _path, _render_text)

__all__ = ["Embeddings", "Quality", "GroupMetrics", "ClassMetrics"]

_FORMATS = {"json": L.PRIME_FORMAT_JSON, "text": L.PRIME_FORMAT_TEXT}


def _float_buffer(values: Any, dim: Optional[int] = None) -> "tuple[Any, int, int, Any]":
    """(pointer, rows, dim, keep-alive) of a float32 matrix: a NumPy array by
    pointer (converted once, vectorised, only when not contiguous float32),
    else a sequence of rows through one array('f')."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(values, np.ndarray):
        arr = np.ascontiguousarray(values, dtype=np.float32)
        if arr.ndim == 1 and dim is not None and dim > 0:
            arr = arr.reshape(-1, dim)
        if arr.ndim != 2:
            raise ValueError("embeddings must be two-dimensional, not of shape %s"
                             % (arr.shape,))
        return arr.ctypes.data_as(POINTER(c_float)), int(arr.shape[0]), int(arr.shape[1]), arr
    rows = [list(r) for r in values]
    d = len(rows[0]) if rows else int(dim or 0)
    if any(len(r) != d for r in rows):
        raise ValueError("rows of different lengths")
    buf = array.array("f", [float(x) for r in rows for x in r])
    if len(buf) == 0:
        return None, 0, d, buf
    addr, _ = buf.buffer_info()
    return ctypes.cast(addr, POINTER(c_float)), len(rows), d, buf


def _embeddings_cleanup(ptr: Any) -> Any:
    """After a Ctrl-C: frees the embeddings an abandoned load made."""
    def cleanup(_st: Any) -> None:
        if ptr:
            _l().prime_embeddings_destroy.raw(ptr)
    return cleanup


class Embeddings(_Handle):
    """A rows x dim float32 matrix (``prime_embeddings``): image or text embeddings.

    ``Embeddings(path, dim=0)`` loads a ``.npy`` file or raw little-endian
    float32 (dim required); :meth:`from_array` takes a NumPy array by pointer
    (the library copies it once). Raises :class:`FormatError` for NaN/inf
    values or a bad file, :class:`PrimeIOError` for an unreadable one.
    """

    _kind = "Embeddings"

    def __init__(self, path: PathLike, dim: int = 0) -> None:
        ptr, p, d = L.EmbeddingsP(), _path(path), int(dim)
        _check(_interruptible(lambda: _l().prime_embeddings_load(p, d, byref(ptr)),
                              _embeddings_cleanup(ptr)))
        super().__init__(ptr, _l().prime_embeddings_destroy)

    @classmethod
    def _wrap(cls, ptr: Any) -> "Embeddings":
        self = cls.__new__(cls)
        _Handle.__init__(self, ptr, _l().prime_embeddings_destroy)
        return self

    @classmethod
    def from_bytes(cls, data: bytes, dim: int = 0, name: Optional[str] = None) -> "Embeddings":
        """From a .npy or raw float32 file held in memory."""
        data = bytes(data)
        ptr, d = L.EmbeddingsP(), int(dim)
        nm = name.encode("utf-8") if name is not None else None
        _check(_interruptible(lambda: _l().prime_embeddings_load_memory(data, len(data), nm, d,
                                                                        byref(ptr)),
                              _embeddings_cleanup(ptr)))
        return cls._wrap(ptr)

    @classmethod
    def from_array(cls, values: Any, dim: Optional[int] = None) -> "Embeddings":
        """From a 2-D NumPy array (by pointer) or a sequence of equal-length rows."""
        p, rows, d, keep = _float_buffer(values, dim)
        ptr = L.EmbeddingsP()
        _check(_l().prime_embeddings_create(p, rows, d, byref(ptr)))
        del keep
        return cls._wrap(ptr)

    @property
    def rows(self) -> int:
        """Number of rows."""
        return int(_l().prime_embeddings_rows(self._p()))

    @property
    def dim(self) -> int:
        """Number of columns."""
        return int(_l().prime_embeddings_dim(self._p()))

    def __len__(self) -> int:
        return self.rows

    def row(self, i: int) -> List[float]:
        """Row i as a list of floats (IndexError when out of range)."""
        i = int(i)
        if not 0 <= i < self.rows:
            raise IndexError("row %d out of range (%d rows)" % (i, self.rows))
        p = _l().prime_embeddings_row(self._p(), i)
        return [float(x) for x in p[:self.dim]]

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Embeddings (closed)>"
        return "<libprime.Embeddings %d x %d>" % (self.rows, self.dim)


@dataclass(frozen=True)
class GroupMetrics:
    """One group (a failure mode): size, class size, similarity, specificity, coherency."""

    index: int
    label: str
    class_name: str
    size: int
    class_size: int
    similarity: float
    specificity: float
    coherency: float


@dataclass(frozen=True)
class ClassMetrics:
    """Means over the groups of one class (or overall; NaN values left out)."""

    name: str
    groups: int
    similarity: float
    specificity: float
    coherency: float


class Quality(_Handle):
    """Description quality of groups of images of a frozen store (``prime_quality``)::

        with libprime.Quality(store, libprime.Embeddings("img.npy")) as q:
            q.add_result("modes.json", libprime.Embeddings("text.npy"))
            print(q.overall(), q.to_json())
    """

    _kind = "Quality"

    def __init__(self, store: TagStore, images: Embeddings) -> None:
        _need(store, TagStore, "store")
        _need(images, Embeddings, "images")
        ptr, sp, ip = L.QualityP(), store._p(), images._p()

        def cleanup(_st: Any) -> None:
            if ptr:
                _l().prime_quality_destroy.raw(ptr)

        _check(_interruptible(lambda: _l().prime_quality_create(sp, ip, byref(ptr)), cleanup))
        super().__init__(ptr, _l().prime_quality_destroy)
        self._store = store

    def add_group(self, label: Optional[str], klass: Union[str, int, None],
                  images: Sequence[int], text: Optional[Sequence[float]] = None) -> int:
        """Add a group of store image indices of class ``klass`` (name, id, or
        None for the whole store) with an optional text embedding; returns
        its index."""
        if klass is None:
            cid = L.PRIME_NONE
        elif isinstance(klass, str):
            cid = self._store.find_class(klass)
        else:
            cid = int(klass)
        idx = array.array("I", [int(i) for i in images])
        ip = ctypes.cast(idx.buffer_info()[0], POINTER(c_uint32)) if len(idx) else None
        tp, tn = None, 0
        if text is not None:
            tb = array.array("f", [float(x) for x in text])
            tp, tn = ctypes.cast(tb.buffer_info()[0], POINTER(c_float)), len(tb)
        out = c_uint64()
        _check(_l().prime_quality_add_group(self._p(), _enc(label or "", "label"), cid, ip,
                                            len(idx), tp, tn, byref(out)))
        return int(out.value)

    def add_result(self, result: Union[Result, PathLike],
                   texts: Optional[Embeddings] = None) -> None:
        """Add the failure modes of a result (or result JSON file), one group
        each, with one text-embedding row per mode (None: coherency only)."""
        tp = texts._p() if texts is not None else None
        if texts is not None:
            _need(texts, Embeddings, "texts")
        qp = self._p()
        if isinstance(result, Result):
            rp = result._p()
            _check(_interruptible(lambda: _l().prime_quality_add_result(qp, rp, tp)))
        else:
            path = _path(result)
            _check(_interruptible(lambda: _l().prime_quality_add_result_file(qp, path, tp)))

    def __len__(self) -> int:
        return int(_l().prime_quality_group_count(self._p()))

    def group(self, i: int) -> GroupMetrics:
        """Metrics of group i."""
        i = int(i)
        if not 0 <= i < len(self):
            raise IndexError("group %d out of range" % i)
        lib = _l()
        p = self._p()
        s, cs, a, b, c = c_uint64(), c_uint64(), c_double(), c_double(), c_double()
        _check(lib.prime_quality_group_metrics(p, i, byref(s), byref(cs), byref(a), byref(b),
                                               byref(c)))
        return GroupMetrics(i, _dec(lib.prime_quality_group_label(p, i)),
                            _dec(lib.prime_quality_group_class_name(p, i)), int(s.value),
                            int(cs.value), a.value, b.value, c.value)

    @property
    def groups(self) -> List[GroupMetrics]:
        """Every group, in order."""
        return [self.group(i) for i in range(len(self))]

    @property
    def classes(self) -> List[ClassMetrics]:
        """Per-class means, classes sorted by name."""
        lib = _l()
        p = self._p()
        out = []
        for i in range(int(lib.prime_quality_class_count(p))):
            g, a, b, c = c_uint64(), c_double(), c_double(), c_double()
            _check(lib.prime_quality_class_metrics(p, i, byref(g), byref(a), byref(b),
                                                   byref(c)))
            out.append(ClassMetrics(_dec(lib.prime_quality_class_name(p, i)), int(g.value),
                                    a.value, b.value, c.value))
        return out

    def overall(self) -> ClassMetrics:
        """Means over all groups (name ``"(overall)"``)."""
        g, a, b, c = c_uint64(), c_double(), c_double(), c_double()
        _check(_l().prime_quality_overall(self._p(), byref(g), byref(a), byref(b), byref(c)))
        return ClassMetrics("(overall)", int(g.value), a.value, b.value, c.value)

    def render(self, format: str = "json") -> str:
        """As ``prime eval --quality --format json|text`` writes it."""
        f = _FORMATS.get(format)
        if f is None:
            raise ValueError("format must be 'json' or 'text', not %r" % (format,))
        return _render_text(_l().prime_quality_render, self._p(), f)

    def to_json(self) -> str:
        """The JSON document of docs/formats.md, "Description quality (output)"."""
        return self.render("json")

    def to_text(self) -> str:
        """The text table."""
        return self.render("text")

    def to_dict(self) -> Dict[str, Any]:
        """The JSON document as Python objects."""
        doc: Dict[str, Any] = json.loads(self.to_json())
        return doc

    def write(self, path: PathLike, format: str = "json") -> None:
        """Write to a file (temporary file and rename)."""
        f = _FORMATS.get(format)
        if f is None:
            raise ValueError("format must be 'json' or 'text', not %r" % (format,))
        _check(_l().prime_quality_write(self._p(), f, _path(path)))

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Quality (closed)>"
        return "<libprime.Quality %d groups>" % len(self)
