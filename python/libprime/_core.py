"""The Pythonic layer over the C API: handles, errors, search and queries."""
from __future__ import annotations

import array
import ctypes
import json
import math
import operator
import os
import sys
from ctypes import POINTER, byref, c_char_p, c_double, c_int32, c_int64, c_size_t, c_uint32, c_uint64
from dataclasses import dataclass
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Type, Union, overload)

from . import _lib as L

PathLike = Union[str, bytes, "os.PathLike[str]"]
TagRef = Union[str, int]
ClassRef = Union[str, int, None]

_lib_cache: Optional[ctypes.CDLL] = None


def _l() -> ctypes.CDLL:
    global _lib_cache
    if _lib_cache is None:
        _lib_cache = L.load()
    return _lib_cache


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

class PrimeError(Exception):
    """A libprime call failed.

    Attributes:
        status: the numeric status code (negative), e.g. -4.
        status_name: its static name, e.g. ``"PRIME_E_PARSE"``.
        detail: the library's message (``prime_last_error()``), e.g.
            ``"tags.csv:12: unterminated quoted field"``.
    """

    status: int = 0

    def __init__(self, status: int, detail: str = "", status_name: str = "") -> None:
        self.status = status
        self.status_name = status_name or _status_name(status)
        self.detail = detail or _status_message(status)
        super().__init__("%s (%s)" % (self.detail, self.status_name))


class InvalidArgumentError(PrimeError, ValueError):
    """PRIME_E_INVALID_ARG: a NULL pointer, an id out of range, an unknown parameter."""


class NoMemoryError(PrimeError, MemoryError):
    """PRIME_E_NOMEM: memory could not be allocated."""


class PrimeIOError(PrimeError, OSError):
    """PRIME_E_IO: a file could not be opened, read or written."""


class ParseError(PrimeError, ValueError):
    """PRIME_E_PARSE: a CSV or JSON Lines input is malformed."""


class FormatError(PrimeError, ValueError):
    """PRIME_E_FORMAT: a binary store is not valid."""


class DuplicateError(PrimeError, ValueError):
    """PRIME_E_DUPLICATE: an image name was given twice."""


class NotFoundError(PrimeError, LookupError):
    """PRIME_E_NOT_FOUND: a looked-up name or id does not exist (or an outcome is unset)."""


class StateError(PrimeError, RuntimeError):
    """PRIME_E_STATE: adding to a frozen store, searching an unfrozen one."""


class MismatchError(PrimeError, ValueError):
    """PRIME_E_MISMATCH: outcomes do not fit the tag store."""


class RangeError(PrimeError, ValueError):
    """PRIME_E_RANGE: a value outside its allowed range."""


class CancelledError(PrimeError):
    """PRIME_E_CANCELLED: the progress callback asked to stop."""


class BufferTooSmallError(PrimeError):
    """PRIME_E_BUFFER_TOO_SMALL (handled inside this package; never expected)."""


class LimitError(PrimeError, ValueError):
    """PRIME_E_LIMIT: a hard limit was exceeded (e.g. a tag name over 255 bytes)."""


class ThreadError(PrimeError, RuntimeError):
    """PRIME_E_THREAD: a worker thread could not be started."""


_ERRORS: Dict[int, Type[PrimeError]] = {
    L.PRIME_E_INVALID_ARG: InvalidArgumentError,
    L.PRIME_E_NOMEM: NoMemoryError,
    L.PRIME_E_IO: PrimeIOError,
    L.PRIME_E_PARSE: ParseError,
    L.PRIME_E_FORMAT: FormatError,
    L.PRIME_E_DUPLICATE: DuplicateError,
    L.PRIME_E_NOT_FOUND: NotFoundError,
    L.PRIME_E_STATE: StateError,
    L.PRIME_E_MISMATCH: MismatchError,
    L.PRIME_E_RANGE: RangeError,
    L.PRIME_E_CANCELLED: CancelledError,
    L.PRIME_E_BUFFER_TOO_SMALL: BufferTooSmallError,
    L.PRIME_E_LIMIT: LimitError,
    L.PRIME_E_THREAD: ThreadError,
}


def _dec(b: Optional[bytes]) -> str:
    return b.decode("utf-8", "replace") if b is not None else ""


def _status_name(status: int) -> str:
    return _dec(_l().prime_status_name(status))


def _status_message(status: int) -> str:
    return _dec(_l().prime_status_message(status))


def last_error() -> str:
    """The library's detail message of the last failure on this thread."""
    return _dec(_l().prime_last_error())


def error_for(status: int) -> PrimeError:
    """The exception for a failed status, carrying ``prime_last_error()``."""
    detail = last_error()
    cls = _ERRORS.get(status, PrimeError)
    return cls(status, detail)


def _check(status: int) -> None:
    if status != L.PRIME_OK:
        raise error_for(status)


def _enc(s: Union[str, bytes], what: str = "name") -> bytes:
    """UTF-8 bytes for the C API; refuses embedded NULs (C would truncate)."""
    if isinstance(s, bytes):
        b = s
    elif isinstance(s, str):
        b = s.encode("utf-8")
    else:
        raise TypeError("%s must be str, not %s" % (what, type(s).__name__))
    if b"\0" in b:
        raise ValueError("%s contains a NUL character: %r" % (what, s))
    return b


def _path(p: Any) -> bytes:
    return _enc(os.fsencode(p), "path")


def _u32(v: Any, what: str) -> int:
    v = operator.index(v)
    if not 0 <= v < L.PRIME_NONE:
        raise IndexError("%s %d out of range" % (what, v))
    return v


def version() -> str:
    """Version text of the loaded library, e.g. ``"0.1.0"``."""
    return _dec(_l().prime_version())


def version_number() -> int:
    """Version of the loaded library as major * 10000 + minor * 100 + patch."""
    return int(_l().prime_version_number())


# --------------------------------------------------------------------------
# Handles
# --------------------------------------------------------------------------

class _Handle:
    """Owns one C handle; freed by close(), by ``with``, or on garbage collection."""

    _kind = "handle"

    def __init__(self, ptr: Any, free: Callable[[Any], None]) -> None:
        self._ptr = ptr
        self._free = free  # kept on the instance: usable even at interpreter exit

    def _p(self) -> Any:
        """The C pointer; ValueError once closed."""
        p = self._ptr
        if not p:
            raise ValueError("operation on a closed %s" % self._kind)
        return p

    @property
    def closed(self) -> bool:
        """True once the handle has been released."""
        return not self._ptr

    def close(self) -> None:
        """Release the C handle now (idempotent)."""
        p, self._ptr = self._ptr, None
        if p:
            self._free(p)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def _need(obj: Any, cls: type, what: str) -> None:
    if not isinstance(obj, cls):
        raise TypeError("%s must be a libprime.%s, not %s" % (what, cls.__name__,
                                                             type(obj).__name__))


def _new(ptr_type: Any) -> Any:
    return ptr_type()


# --------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------

def _double_buffer(values: Any) -> Tuple[Any, int, Any]:
    """A (pointer, length, keep-alive) view of values as contiguous doubles.

    NumPy arrays are passed by pointer (converted to float64 in one
    vectorised step only when they are not already contiguous float64);
    other sequences go through array.array('d') (one C-level conversion).
    """
    np = sys.modules.get("numpy")
    if np is not None and isinstance(values, np.ndarray):
        arr = np.ascontiguousarray(values, dtype=np.float64)
        if arr.ndim != 1:
            raise ValueError("outcomes must be one-dimensional, not of shape %s" % (arr.shape,))
        return arr.ctypes.data_as(POINTER(c_double)), int(arr.shape[0]), arr
    if isinstance(values, array.array) and values.typecode == "d":
        arr = values
    else:
        try:
            arr = array.array("d", values)
        except TypeError:
            arr = array.array("d", (float(v) for v in values))
    n = len(arr)
    if n == 0:
        return None, 0, arr
    addr, _ = arr.buffer_info()
    return ctypes.cast(addr, POINTER(c_double)), n, arr


def _int64_buffer(values: Any) -> Tuple[Any, int, Any]:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(values, np.ndarray):
        arr = np.ascontiguousarray(values, dtype=np.int64)
        if arr.ndim != 1:
            raise ValueError("labels must be one-dimensional")
        return arr.ctypes.data_as(POINTER(c_int64)), int(arr.shape[0]), arr
    arr = array.array("q", [operator.index(v) for v in values])
    if len(arr) == 0:
        return None, 0, arr
    addr, _ = arr.buffer_info()
    return ctypes.cast(addr, POINTER(c_int64)), len(arr), arr


class Outcomes(_Handle):
    """One outcome per image of a tag store, in [0, 1] (1 = correct, 0 = wrong,
    or a score such as the probability of the true class).

    ``Outcomes(values)`` copies a list, tuple, ``array.array`` or NumPy array
    (passed to ``prime_outcomes_set_array`` by pointer: no per-element copy
    in Python). Values outside [0, 1] raise :class:`RangeError`.
    """

    _kind = "Outcomes"

    def __init__(self, values: Any = None, *, _ptr: Any = None) -> None:
        if _ptr is None:
            ptr, n, keep = _double_buffer(values if values is not None else ())
            out = _new(L.OutcomesP)
            _check(_l().prime_outcomes_create(_u32(n, "count"), byref(out)))
            super().__init__(out, _l().prime_outcomes_destroy)
            if n:
                _check(_l().prime_outcomes_set_array(self._p(), 0, ptr, n))
            del keep
        else:
            super().__init__(_ptr, _l().prime_outcomes_destroy)

    @classmethod
    def _wrap(cls, ptr: Any) -> "Outcomes":
        return cls(_ptr=ptr)

    @classmethod
    def unset(cls, n: int) -> "Outcomes":
        """Outcomes for n images, all unset (set them before searching)."""
        out = _new(L.OutcomesP)
        _check(_l().prime_outcomes_create(_u32(n, "count"), byref(out)))
        return cls._wrap(out)

    @classmethod
    def from_labels(cls, labels: Any, predictions: Any) -> "Outcomes":
        """1 where ``labels[i] == predictions[i]``, else 0 (integer class ids)."""
        lp, n, keep1 = _int64_buffer(labels)
        pp, m, keep2 = _int64_buffer(predictions)
        if n != m:
            raise ValueError("%d labels but %d predictions" % (n, m))
        out = _new(L.OutcomesP)
        _check(_l().prime_outcomes_from_labels(lp, pp, n, byref(out)))
        del keep1, keep2
        return cls._wrap(out)

    @classmethod
    def load(cls, path: PathLike, store: "TagStore") -> "Outcomes":
        """Load an outcomes CSV and join it to ``store`` by image name."""
        _need(store, TagStore, "store")
        out = _new(L.OutcomesP)
        _check(_l().prime_outcomes_load(_path(path), store._p(), byref(out)))
        return cls._wrap(out)

    def save(self, store: "TagStore", path: PathLike, kind: str = "binary") -> None:
        """Save as binary outcomes bound to ``store`` (``prime_outcomes_save``):
        kind ``"binary"`` (bits for 0/1 outcomes, else f64), ``"bits"``,
        ``"fixed"`` or ``"f64"``. :meth:`load` reads them back for that store."""
        kinds = {"binary": 0, "bits": 1, "fixed": 2, "f64": 3}
        if kind not in kinds:
            raise ValueError("kind must be one of %s, not %r" % (sorted(kinds), kind))
        _need(store, TagStore, "store")
        _check(_l().prime_outcomes_save(self._p(), store._p(), kinds[kind], _path(path)))

    @classmethod
    def from_bytes(cls, data: bytes, store: "TagStore", name: Optional[str] = None) -> "Outcomes":
        """Same as :meth:`load` from the bytes of a CSV file."""
        out = _new(L.OutcomesP)
        _check(_l().prime_outcomes_load_memory(data, len(data),
                                               _enc(name) if name else None, store._p(), byref(out)))
        return cls._wrap(out)

    def __len__(self) -> int:
        return int(_l().prime_outcomes_count(self._p()))

    def _index(self, i: int) -> int:
        n = len(self)
        i = operator.index(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("outcome index out of range")
        return i

    def __getitem__(self, i: int) -> float:
        v = c_double()
        _check(_l().prime_outcomes_get(self._p(), self._index(i), byref(v)))
        return v.value

    def __setitem__(self, i: int, value: float) -> None:
        _check(_l().prime_outcomes_set(self._p(), self._index(i), float(value)))

    def set_array(self, first: int, values: Any) -> None:
        """Set ``len(values)`` outcomes from image ``first`` on (all or nothing)."""
        ptr, n, keep = _double_buffer(values)
        _check(_l().prime_outcomes_set_array(self._p(), _u32(first, "index"), ptr, n))
        del keep

    @property
    def is_binary(self) -> bool:
        """True when every outcome is set and is exactly 0 or 1."""
        return bool(_l().prime_outcomes_is_binary(self._p()))

    def to_list(self) -> List[Optional[float]]:
        """The outcomes as floats (None for an unset one)."""
        lib, v, res = _l(), c_double(), []
        for i in range(len(self)):
            st = lib.prime_outcomes_get(self._p(), i, byref(v))
            if st == L.PRIME_E_NOT_FOUND:
                res.append(None)
            else:
                _check(st)
                res.append(v.value)
        return res

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Outcomes (closed)>"
        return "<libprime.Outcomes n=%d%s>" % (len(self), " binary" if self.is_binary else "")


# --------------------------------------------------------------------------
# Tag store
# --------------------------------------------------------------------------

def _split_tags(tags: Union[str, Iterable[str], None]) -> List[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        return [t for t in tags.split("|") if t] if tags else []
    return list(tags)


class TagStore(_Handle):
    """A set of images, each with a class and a set of tags.

    ``TagStore()`` is empty and mutable: add images with :meth:`add_image`,
    then :meth:`freeze` it (a search needs a frozen store). The class methods
    :meth:`load`, :meth:`from_lists`, :meth:`from_records` and
    :meth:`from_dataframe` return frozen stores.
    """

    _kind = "TagStore"

    def __init__(self, *, _ptr: Any = None) -> None:
        if _ptr is None:
            _ptr = _new(L.TagStoreP)
            _check(_l().prime_tagstore_create(byref(_ptr)))
        super().__init__(_ptr, _l().prime_tagstore_destroy)

    @classmethod
    def _wrap(cls, ptr: Any) -> "TagStore":
        return cls(_ptr=ptr)

    # ---- constructors ---------------------------------------------------
    @classmethod
    def load(cls, path: PathLike) -> "TagStore":
        """Load a tags CSV, JSON Lines file or binary store (recognised by content).

        Outcomes the file may carry are ignored; see :meth:`load_with_outcomes`.
        """
        store = _new(L.TagStoreP)
        _check(_l().prime_tagstore_load(_path(path), byref(store), None))
        return cls._wrap(store)

    @classmethod
    def load_with_outcomes(cls, path: PathLike) -> Tuple["TagStore", Optional[Outcomes]]:
        """Load a tags file and the outcomes it carries (a ``correct`` or
        ``score`` column/key), or None when it has none."""
        store, out = _new(L.TagStoreP), _new(L.OutcomesP)
        _check(_l().prime_tagstore_load(_path(path), byref(store), byref(out)))
        s = cls._wrap(store)
        return s, (Outcomes._wrap(out) if out else None)

    @classmethod
    def from_bytes(cls, data: bytes, name: Optional[str] = None
                   ) -> Tuple["TagStore", Optional[Outcomes]]:
        """Same as :meth:`load_with_outcomes` from the bytes of a file;
        ``name`` is the file name used in error messages."""
        store, out = _new(L.TagStoreP), _new(L.OutcomesP)
        _check(_l().prime_tagstore_load_memory(bytes(data), len(data),
                                               _enc(name) if name else None,
                                               byref(store), byref(out)))
        s = cls._wrap(store)
        return s, (Outcomes._wrap(out) if out else None)

    @classmethod
    def open(cls, path: PathLike) -> "TagStore":
        """Open a binary store written by :meth:`save` (fully validated)."""
        store = _new(L.TagStoreP)
        _check(_l().prime_tagstore_open(_path(path), byref(store)))
        return cls._wrap(store)

    @classmethod
    def open_bytes(cls, data: bytes) -> "TagStore":
        """Open a binary store from its bytes."""
        store = _new(L.TagStoreP)
        _check(_l().prime_tagstore_open_memory(bytes(data), len(data), byref(store)))
        return cls._wrap(store)

    @classmethod
    def from_lists(cls, images: Optional[Sequence[Optional[str]]], classes: Sequence[str],
                   tags: Sequence[Union[str, Iterable[str], None]], *,
                   freeze: bool = True) -> "TagStore":
        """Build a store from parallel lists: image names (or None for
        unnamed images), class names, and per image an iterable of tag names
        (or one ``"a|b|c"`` string)."""
        n = len(classes)
        if len(tags) != n or (images is not None and len(images) != n):
            raise ValueError("images, classes and tags must have the same length")
        store = cls()
        try:
            for i in range(n):
                store.add_image(images[i] if images is not None else None, classes[i], tags[i])
            if freeze:
                store.freeze()
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def from_records(cls, records: Iterable[Any], *, freeze: bool = True) -> "TagStore":
        """Build a store from ``(image, class, tags)`` tuples or mappings with
        the keys ``image``, ``class`` and ``tags``."""
        store = cls()
        try:
            for r in records:
                if isinstance(r, Mapping):
                    store.add_image(r.get("image"), r["class"], r.get("tags"))
                else:
                    image, klass, tags = r
                    store.add_image(image, klass, tags)
            if freeze:
                store.freeze()
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def from_dataframe(cls, df: Any, *, image: Optional[str] = "image", klass: str = "class",
                       tags: str = "tags", freeze: bool = True) -> "TagStore":
        """Build a store from a pandas DataFrame (needs pandas).

        ``tags`` names a column holding lists of tag names or ``"a|b"``
        strings; ``image=None`` makes unnamed images.
        """
        try:
            import pandas  # noqa: F401
        except ImportError as e:  # pragma: no cover - depends on the system
            raise ImportError("TagStore.from_dataframe needs pandas") from e
        imgs = None if image is None else [None if _isna(v) else str(v) for v in df[image]]
        tag_col = [None if _isna(v) else v for v in df[tags]]
        return cls.from_lists(imgs, [str(v) for v in df[klass]], tag_col, freeze=freeze)

    # ---- building ----------------------------------------------------------
    def intern_tag(self, name: str) -> int:
        """Id of a tag name, interned if new (mutable stores only)."""
        out = c_uint32()
        _check(_l().prime_tagstore_intern_tag(self._p(), _enc(name, "tag name"), byref(out)))
        return out.value

    def intern_class(self, name: str) -> int:
        """Id of a class name, interned if new (mutable stores only)."""
        out = c_uint32()
        _check(_l().prime_tagstore_intern_class(self._p(), _enc(name, "class name"), byref(out)))
        return out.value

    def add_image(self, image: Optional[str], klass: str,
                  tags: Union[str, Iterable[str], None] = ()) -> int:
        """Add an image by names; returns its index. ``image`` may be None
        for an unnamed image; ``tags`` an iterable of names or ``"a|b"``."""
        names = [_enc(t, "tag name") for t in _split_tags(tags)]
        arr = (c_char_p * len(names))(*names) if names else None
        out = c_uint32()
        _check(_l().prime_tagstore_add_image_names(
            self._p(), _enc(image, "image name") if image else None, _enc(klass, "class name"),
            arr, len(names), byref(out)))
        return out.value

    def add_image_ids(self, image: Optional[str], class_id: int, tag_ids: Sequence[int]) -> int:
        """Add an image by ids (from :meth:`intern_class` / :meth:`intern_tag`)."""
        ids = (c_uint32 * len(tag_ids))(*tag_ids) if len(tag_ids) else None
        out = c_uint32()
        _check(_l().prime_tagstore_add_image(self._p(), _enc(image, "image name") if image else None,
                                             _u32(class_id, "class id"), ids, len(tag_ids),
                                             byref(out)))
        return out.value

    def freeze(self) -> "TagStore":
        """Freeze the store (no more additions); returns self."""
        _check(_l().prime_tagstore_freeze(self._p()))
        return self

    @property
    def frozen(self) -> bool:
        """True once the store is frozen."""
        return bool(_l().prime_tagstore_is_frozen(self._p()))

    def save(self, path: PathLike) -> None:
        """Save a frozen store as a binary file (atomically)."""
        _check(_l().prime_tagstore_save(self._p(), _path(path)))

    @classmethod
    def merge(cls, parts: "List[TagStore]", same_tags: bool = True) -> "TagStore":
        """Merge frozen stores in order (``prime_tagstore_merge``): the store one
        run over all their images builds. ``same_tags``: the tag tables must be
        equal (the shards of one tagging run); else they are joined."""
        for p in parts:
            _need(p, TagStore, "part")
        arr = (L.TagStoreP * max(1, len(parts)))(*[p._p() for p in parts])
        out = _new(L.TagStoreP)
        _check(_l().prime_tagstore_merge(arr, len(parts), 1 if same_tags else 0, byref(out)))
        return cls._wrap(out)

    def write_shard(self, folder: PathLike, index: int, count: int, total: int,
                    list_id: int) -> None:
        """Write this frozen store as shard ``index`` of ``count`` of a list of
        ``total`` images into the sharded-store folder (``prime_sharded_store_write``;
        ``list_id`` from :func:`shard_list_id`). Safe from concurrent processes."""
        first, end = shard_range(total, index, count)
        _check(_l().prime_sharded_store_write(_path(folder), self._p(), _u32(index, "index"),
                                              _u32(count, "count"), first, end, total, list_id))

    # ---- reading -------------------------------------------------------------
    def __len__(self) -> int:
        return int(_l().prime_tagstore_image_count(self._p()))

    @property
    def image_count(self) -> int:
        """Number of images."""
        return len(self)

    @property
    def tag_count(self) -> int:
        """Number of distinct tags."""
        return int(_l().prime_tagstore_tag_count(self._p()))

    @property
    def class_count(self) -> int:
        """Number of distinct classes."""
        return int(_l().prime_tagstore_class_count(self._p()))

    @property
    def tag_ref_count(self) -> int:
        """Number of (image, tag) pairs."""
        return int(_l().prime_tagstore_tag_ref_count(self._p()))

    def tag_name(self, tag_id: int) -> str:
        """Name of a tag id."""
        s = _l().prime_tagstore_tag_name(self._p(), _u32(tag_id, "tag id"))
        if s is None:
            raise IndexError("tag id %d out of range" % tag_id)
        return _dec(s)

    def class_name(self, class_id: int) -> str:
        """Name of a class id."""
        s = _l().prime_tagstore_class_name(self._p(), _u32(class_id, "class id"))
        if s is None:
            raise IndexError("class id %d out of range" % class_id)
        return _dec(s)

    def image_name(self, index: int) -> str:
        """Name of image ``index`` (``""`` when unnamed)."""
        s = _l().prime_tagstore_image_name(self._p(), _u32(index, "image index"))
        if s is None:
            raise IndexError("image index %d out of range" % index)
        return _dec(s)

    @property
    def tags(self) -> List[str]:
        """All tag names, by id."""
        return [self.tag_name(i) for i in range(self.tag_count)]

    @property
    def classes(self) -> List[str]:
        """All class names, by id."""
        return [self.class_name(i) for i in range(self.class_count)]

    def _find(self, fn: Any, name: str, what: str) -> int:
        out = c_uint32()
        _check(fn(self._p(), _enc(name, what), byref(out)))
        return out.value

    def find_tag(self, name: str) -> int:
        """Id of a tag name; :class:`NotFoundError` if absent."""
        return self._find(_l().prime_tagstore_find_tag, name, "tag name")

    def find_class(self, name: str) -> int:
        """Id of a class name; :class:`NotFoundError` if absent."""
        return self._find(_l().prime_tagstore_find_class, name, "class name")

    def find_image(self, name: str) -> int:
        """Index of an image name; :class:`NotFoundError` if absent."""
        return self._find(_l().prime_tagstore_find_image, name, "image name")

    def image_class(self, index: int) -> int:
        """Class id of image ``index``."""
        c = _l().prime_tagstore_image_class(self._p(), _u32(index, "image index"))
        if c == L.PRIME_NONE:
            raise IndexError("image index %d out of range" % index)
        return int(c)

    def image_tags(self, index: int) -> List[int]:
        """Tag ids of image ``index``, sorted, without duplicates."""
        lib, n = _l(), c_uint32()
        st = lib.prime_tagstore_image_tags(self._p(), _u32(index, "image index"), None, 0, byref(n))
        if st == L.PRIME_OK:
            return []
        if st != L.PRIME_E_BUFFER_TOO_SMALL:
            _check(st)
        buf = (c_uint32 * n.value)()
        _check(lib.prime_tagstore_image_tags(self._p(), index, buf, n.value, byref(n)))
        return list(buf[: n.value])

    def image_tag_names(self, index: int) -> List[str]:
        """Tag names of image ``index`` (by id order)."""
        return [self.tag_name(t) for t in self.image_tags(index)]

    def class_image_count(self, klass: Union[str, int]) -> int:
        """Number of images of a class (name or id)."""
        return int(_l().prime_tagstore_class_image_count(self._p(), self._class_id(klass)))

    def tag_count_in_class(self, tag: TagRef, klass: ClassRef = None) -> int:
        """Number of images of ``klass`` (None: all images) carrying ``tag``."""
        out = c_uint32()
        _check(_l().prime_tagstore_tag_count_in_class(self._p(), self._class_id(klass),
                                                      self._tag_id(tag), byref(out)))
        return out.value

    def _tag_id(self, tag: TagRef) -> int:
        if isinstance(tag, (str, bytes)):
            return self.find_tag(tag)  # type: ignore[arg-type]
        return _u32(tag, "tag id")

    def _class_id(self, klass: ClassRef) -> int:
        if klass is None:
            return L.PRIME_NONE
        if isinstance(klass, (str, bytes)):
            return self.find_class(klass)  # type: ignore[arg-type]
        return _u32(klass, "class id")

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.TagStore (closed)>"
        return "<libprime.TagStore images=%d classes=%d tags=%d%s>" % (
            len(self), self.class_count, self.tag_count, " frozen" if self.frozen else "")


def _isna(v: Any) -> bool:
    if v is None:
        return True
    try:
        return isinstance(v, float) and math.isnan(v)
    except TypeError:  # pragma: no cover
        return False


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ParamInfo:
    """Type, bounds and default of a search parameter."""
    name: str
    id: int
    type: str  # "int", "double" or "double_list"
    min: float
    max: float
    default: float


_TYPE_NAMES = {L.PRIME_PARAM_TYPE_INT: "int", L.PRIME_PARAM_TYPE_DOUBLE: "double",
               L.PRIME_PARAM_TYPE_DOUBLE_LIST: "double_list"}
_BOOL_PARAMS = {"whole_dataset"}


def _param_id(name: Union[str, int]) -> int:
    if isinstance(name, int):
        return name
    out = c_int32()
    _check(_l().prime_config_param_by_name(_enc(name, "parameter name"), byref(out)))
    return out.value


def param_info(name: Union[str, int]) -> ParamInfo:
    """Type, bounds and default of a parameter, as the library defines them."""
    pid = _param_id(name)
    t, lo, hi, d = c_int32(), c_double(), c_double(), c_double()
    _check(_l().prime_config_param_info(pid, byref(t), byref(lo), byref(hi), byref(d)))
    return ParamInfo(_dec(_l().prime_config_param_name(pid)), pid,
                     _TYPE_NAMES.get(t.value, str(t.value)), lo.value, hi.value, d.value)


def param_names() -> List[str]:
    """Names of every search parameter the loaded library knows, by id."""
    lib, names = _l(), []
    for pid in range(100, 100 * 100, 100):  # ids are spaced by 100
        s = lib.prime_config_param_name(pid)
        if s is not None:
            names.append(_dec(s))
    return names


class Config(_Handle):
    """Search parameters: ``Config(max_tags=3, min_size=20, min_drop=0.25,
    min_gain=[0, 0.1], whole_dataset=False)``.

    Names are those of ``prime_config_param_by_name`` (``-`` may stand for
    ``_``); values are checked by the library (:class:`RangeError` outside
    the bounds, :class:`InvalidArgumentError` for an unknown name). Also
    usable as a mapping: ``cfg["min_size"] = 10``.
    """

    _kind = "Config"

    def __init__(self, _ptr: Any = None, **params: Any) -> None:
        if _ptr is None:
            _ptr = _new(L.ConfigP)
            _check(_l().prime_config_create(byref(_ptr)))
        super().__init__(_ptr, _l().prime_config_destroy)
        for k, v in params.items():
            self.set(k, v)

    def set(self, name: Union[str, int], value: Any) -> "Config":
        """Set one parameter; returns self. A text value is read as the
        command line reads it (``min_size="0.5%"``: a share of each class,
        the parameter ``min_size_share``)."""
        if isinstance(value, str) and isinstance(name, str):
            return self.set_text(name, value)
        pid = _param_id(name)
        info = param_info(pid)
        lib = _l()
        if info.type == "int":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            try:
                iv = operator.index(value)
            except TypeError:
                raise TypeError("%s takes an integer, not %r" % (info.name, value)) from None
            _check(lib.prime_config_set_int(self._p(), pid, iv))
        elif info.type == "double":
            _check(lib.prime_config_set_double(self._p(), pid, float(value)))
        else:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                _check(lib.prime_config_set_double(self._p(), pid, float(value)))
            else:
                vals = [float(v) for v in value]
                arr = (c_double * len(vals))(*vals) if vals else None
                _check(lib.prime_config_set_min_gain(self._p(), arr, len(vals)))
        return self

    def get(self, name: Union[str, int]) -> Any:
        """Value of one parameter (an int, float, bool or list of floats)."""
        pid = _param_id(name)
        info = param_info(pid)
        lib = _l()
        if info.type == "int":
            v = c_int64()
            _check(lib.prime_config_get_int(self._p(), pid, byref(v)))
            return bool(v.value) if info.name in _BOOL_PARAMS else int(v.value)
        if info.type == "double":
            d = c_double()
            _check(lib.prime_config_get_double(self._p(), pid, byref(d)))
            return d.value
        return self.min_gain_values()

    def min_gain_values(self) -> List[float]:
        """The min_gain values that were set (for k = 1, 2, ...)."""
        lib, d, out = _l(), c_double(), []
        for k in range(1, int(lib.prime_config_min_gain_count(self._p())) + 1):
            _check(lib.prime_config_get_min_gain(self._p(), k, byref(d)))
            out.append(d.value)
        return out

    def min_gain(self, k: int) -> float:
        """The min_gain that applies to a mode of k tags."""
        d = c_double()
        _check(_l().prime_config_get_min_gain(self._p(), _u32(k, "k"), byref(d)))
        return d.value

    def set_text(self, name: str, value: str) -> "Config":
        """Set a parameter from text as the command line does (``"0,0.1"``)."""
        _check(_l().prime_config_set_by_name(self._p(), _enc(name, "parameter name"),
                                             _enc(value, "value")))
        return self

    __getitem__ = get

    def __setitem__(self, name: Union[str, int], value: Any) -> None:
        self.set(name, value)

    def to_dict(self) -> Dict[str, Any]:
        """Every parameter by name."""
        return {n: self.get(n) for n in param_names()}

    def clone(self) -> "Config":
        """An independent copy."""
        out = _new(L.ConfigP)
        _check(_l().prime_config_clone(self._p(), byref(out)))
        return Config(_ptr=out)

    __copy__ = clone

    def reset(self) -> "Config":
        """Put every parameter back to its default; returns self."""
        _check(_l().prime_config_reset(self._p()))
        return self

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Config (closed)>"
        return "libprime.Config(%s)" % ", ".join("%s=%r" % kv for kv in self.to_dict().items())


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassStats:
    """Statistics of one searched class."""
    name: str
    class_id: Optional[int]  # None in whole-data-set mode
    images: int
    correct: float
    accuracy: float


@dataclass(frozen=True)
class FailureMode:
    """One failure mode: a tag set under which the class's accuracy drops."""
    class_name: str
    tags: Tuple[str, ...]
    size: int
    correct: float
    accuracy: float
    class_accuracy: float
    drop: float
    description: str
    class_id: Optional[int]
    tag_ids: Tuple[int, ...]

    def __str__(self) -> str:
        return self.description


_FORMATS = {"json": L.PRIME_FORMAT_JSON, "csv": L.PRIME_FORMAT_CSV, "text": L.PRIME_FORMAT_TEXT}


def _format_id(fmt: Union[str, int]) -> int:
    if isinstance(fmt, int):
        return fmt
    try:
        return _FORMATS[fmt]
    except KeyError:
        raise ValueError("format must be json, csv or text, not %r" % (fmt,)) from None


class Result(_Handle):
    """The failure modes a search found: a sequence of :class:`FailureMode`
    (by class name, then drop, largest first, then tags) plus per-class
    statistics in :attr:`classes`. Independent of the store it came from."""

    _kind = "Result"

    def __init__(self, _ptr: Any) -> None:
        super().__init__(_ptr, _l().prime_result_destroy)

    def __len__(self) -> int:
        return int(_l().prime_result_mode_count(self._p()))

    @overload
    def __getitem__(self, i: int) -> FailureMode: ...
    @overload
    def __getitem__(self, i: slice) -> List[FailureMode]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[FailureMode, List[FailureMode]]:
        n = len(self)
        if isinstance(i, slice):
            return [self._mode(k) for k in range(*i.indices(n))]
        i = operator.index(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("failure mode index out of range")
        return self._mode(i)

    def __iter__(self) -> Iterator[FailureMode]:
        for k in range(len(self)):
            yield self._mode(k)

    def _mode(self, i: int) -> FailureMode:
        lib = _l()
        cid, nt, size = c_uint32(), c_uint32(), c_uint64()
        cor, acc, cacc, drop = c_double(), c_double(), c_double(), c_double()
        _check(lib.prime_result_mode_info(self._p(), i, byref(cid), byref(nt), byref(size),
                                          byref(cor), byref(acc), byref(cacc), byref(drop)))
        ids = (c_uint32 * max(nt.value, 1))()
        n = c_uint32()
        _check(lib.prime_result_mode_tags(self._p(), i, ids, nt.value, byref(n)))
        names = tuple(_dec(lib.prime_result_mode_tag_name(self._p(), i, j)) for j in range(nt.value))
        return FailureMode(
            class_name=_dec(lib.prime_result_mode_class_name(self._p(), i)), tags=names,
            size=int(size.value), correct=cor.value, accuracy=acc.value,
            class_accuracy=cacc.value, drop=drop.value,
            description=_dec(lib.prime_result_mode_description(self._p(), i)),
            class_id=None if cid.value == L.PRIME_NONE else int(cid.value),
            tag_ids=tuple(ids[: nt.value]))

    @property
    def modes(self) -> List[FailureMode]:
        """All failure modes as a list."""
        return list(self)

    @property
    def classes(self) -> List[ClassStats]:
        """Statistics of every searched class, by name."""
        lib, out = _l(), []
        cid, imgs, cor, acc = c_uint32(), c_uint64(), c_double(), c_double()
        for i in range(int(lib.prime_result_class_count(self._p()))):
            _check(lib.prime_result_class_info(self._p(), i, byref(cid), byref(imgs), byref(cor),
                                               byref(acc)))
            out.append(ClassStats(_dec(lib.prime_result_class_name(self._p(), i)),
                                  None if cid.value == L.PRIME_NONE else int(cid.value),
                                  int(imgs.value), cor.value, acc.value))
        return out

    def render(self, fmt: Union[str, int] = "json") -> str:
        """The result as text: ``"json"`` (the CLI's schema), ``"csv"`` or ``"text"``."""
        lib, need = _l(), c_size_t()
        f = _format_id(fmt)
        st = lib.prime_result_render(self._p(), f, None, 0, byref(need))
        if st not in (L.PRIME_OK, L.PRIME_E_BUFFER_TOO_SMALL):
            _check(st)
        buf = ctypes.create_string_buffer(need.value + 1)
        _check(lib.prime_result_render(self._p(), f, buf, need.value + 1, byref(need)))
        return buf.raw[: need.value].decode("utf-8")

    def to_json(self) -> str:
        """The JSON document ``prime search --format json`` writes, byte for byte."""
        return self.render("json")

    def to_csv(self) -> str:
        """One CSV row per mode, as ``prime search --format csv`` writes."""
        return self.render("csv")

    def to_text(self) -> str:
        """The table ``prime search --format text`` prints."""
        return self.render("text")

    def to_dict(self) -> Dict[str, Any]:
        """The whole JSON document as Python objects (params, classes, failure_modes)."""
        return json.loads(self.to_json())

    def to_dicts(self) -> List[Dict[str, Any]]:
        """The failure modes as dicts, exactly as in the JSON ``failure_modes`` array."""
        return self.to_dict()["failure_modes"]

    def write(self, path: PathLike, fmt: Union[str, int] = "json") -> None:
        """Write the result to a file (atomically: temporary file and rename)."""
        _check(_l().prime_result_write(self._p(), _format_id(fmt), _path(path)))

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Result (closed)>"
        return "<libprime.Result modes=%d classes=%d>" % (
            len(self), int(_l().prime_result_class_count(self._p())))


ProgressFn = Callable[[int, int], Optional[bool]]


def search(store: TagStore, outcomes: Outcomes, config: Optional[Config] = None, *,
           progress: Optional[ProgressFn] = None, **params: Any) -> Result:
    """Run the exhaustive PRIME search and return a :class:`Result`.

    ``store`` must be frozen and ``outcomes`` hold one value per image.
    Parameters come from ``config`` and/or keyword arguments
    (``search(store, outcomes, min_size=20, max_tags=3)``); keywords override
    ``config`` without changing it. ``progress(done, total)`` is called from
    this thread; returning True cancels (:class:`CancelledError`), and an
    exception raised in it cancels the search and is re-raised. The GIL is
    released while the C search runs.
    """
    _need(store, TagStore, "store")
    _need(outcomes, Outcomes, "outcomes")
    if config is not None:
        _need(config, Config, "config")
    cfg, own = config, False
    if params:
        cfg = config.clone() if config is not None else Config()
        own = True
        try:
            for k, v in params.items():
                cfg.set(k, v)
        except BaseException:
            cfg.close()
            raise
    raised: List[BaseException] = []
    cb = L.PROGRESS_FN()  # NULL function pointer
    if progress is not None:
        def _cb(_user: Any, done: int, total: int) -> int:
            try:
                return 1 if progress(int(done), int(total)) else 0
            except BaseException as e:  # noqa: B902 - re-raised below
                raised.append(e)
                return 1
        cb = L.PROGRESS_FN(_cb)
    out = _new(L.ResultP)
    try:
        st = _l().prime_search(store._p(), outcomes._p(), cfg._p() if cfg is not None else None,
                               cb, None, byref(out))
    finally:
        if own and cfg is not None:
            cfg.close()
    if raised:
        if out:
            _l().prime_result_destroy(out)
        raise raised[0]
    _check(st)
    return Result(out)


# --------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class QueryStats:
    """Statistics of a tag set in a class (or in all images)."""
    size: int
    correct: float
    accuracy: float  # NaN when size is 0
    class_accuracy: float

    @property
    def drop(self) -> float:
        """class_accuracy - accuracy."""
        return self.class_accuracy - self.accuracy


@dataclass(frozen=True)
class ParentStats:
    """Statistics of a tag set with one tag removed."""
    removed: str
    size: int
    correct: float

    @property
    def accuracy(self) -> float:
        """correct / size (NaN when size is 0)."""
        return self.correct / self.size if self.size else math.nan


def _tag_array(store: TagStore, tags: Iterable[TagRef]) -> Tuple[Any, int, List[int]]:
    _need(store, TagStore, "store")
    ids = [store._tag_id(t) for t in tags]
    return ((c_uint32 * len(ids))(*ids) if ids else None), len(ids), ids


def query(store: TagStore, outcomes: Outcomes, tags: Iterable[TagRef] = (),
          klass: ClassRef = None) -> QueryStats:
    """Statistics of any tag set (names or ids) in a class (name, id, or
    None for all images): size, sum of outcomes, accuracy, class accuracy."""
    _need(outcomes, Outcomes, "outcomes")
    arr, n, _ = _tag_array(store, tags)
    size, cor, acc, cacc = c_uint64(), c_double(), c_double(), c_double()
    _check(_l().prime_query(store._p(), outcomes._p(), store._class_id(klass), arr, n, byref(size),
                            byref(cor), byref(acc), byref(cacc)))
    return QueryStats(int(size.value), cor.value, acc.value, cacc.value)


def query_parents(store: TagStore, outcomes: Outcomes, tags: Sequence[TagRef],
                  klass: ClassRef = None) -> List[ParentStats]:
    """For each tag of ``tags``, the statistics of the set without it (the
    minimality test of the method)."""
    _need(outcomes, Outcomes, "outcomes")
    arr, n, ids = _tag_array(store, tags)
    sizes, cors = (c_uint64 * max(n, 1))(), (c_double * max(n, 1))()
    _check(_l().prime_query_parents(store._p(), outcomes._p(), store._class_id(klass), arr, n, sizes,
                                    cors))
    return [ParentStats(store.tag_name(ids[j]), int(sizes[j]), cors[j]) for j in range(n)]


# ---- shards (include/prime/prime.h, "Merging stores, shards ...") -------------

def shard_resolve(spec: Optional[str] = None) -> Tuple[int, int]:
    """The shard (index, count) of this process: ``spec`` ("I/N") or the
    environment (PRIME_SHARD, Slurm arrays, Kubernetes Indexed Jobs, MPI);
    :class:`NotFoundError` when none is given."""
    i, n, src = c_uint32(), c_uint32(), c_int32()
    _check(_l().prime_shard_resolve(_enc(spec, "spec") if spec else None, byref(i), byref(n),
                                    byref(src)))
    return int(i.value), int(n.value)


def shard_range(n: int, index: int, count: int) -> Tuple[int, int]:
    """Images [first, end) of a list of ``n`` that shard ``index`` of ``count`` takes."""
    f, e = c_uint64(), c_uint64()
    _check(_l().prime_shard_range(n, _u32(index, "index"), _u32(count, "count"), byref(f),
                                  byref(e)))
    return int(f.value), int(e.value)


def shard_list_id(names: "List[str]") -> int:
    """The identity of a whole image list that every shard records."""
    arr = (c_char_p * max(1, len(names)))(*[_enc(x, "name") for x in names])
    out = c_uint64()
    _check(_l().prime_shard_list_id(arr, len(names), byref(out)))
    return int(out.value)
