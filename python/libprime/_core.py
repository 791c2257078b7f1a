"""The Pythonic layer over the C API: handles, errors, search and queries."""
from __future__ import annotations

import array
import bisect
import ctypes
import errno as _errno
import itertools
import json
import math
import operator
import os
import signal
import stat as _stat
import sys
import threading
from ctypes import POINTER, byref, c_char_p, c_double, c_int32, c_int64, c_size_t, c_uint32, c_uint64
from dataclasses import dataclass
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Type, TypeVar, Union, overload)

from . import _lib as L

PathLike = Union[str, bytes, "os.PathLike[str]"]
TagRef = Union[str, int]
ClassRef = Union[str, int, None]

_lib_cache: Optional[L.Library] = None
_H = TypeVar("_H", bound="_Handle")


def _l() -> L.Library:
    global _lib_cache
    if _lib_cache is None:
        _lib_cache = L.load()
    return _lib_cache


def _load_packer() -> Any:
    """The compiled packer ``libprime._pack`` (python/libprime/_pack.c), or
    None: the package then packs columns in Python (ctypes-only installs).
    ``PRIME_PACK_MODULE`` overrides: the path of a built module (the in-tree
    tests load the build tree's), or ``none`` for the pure-Python packer."""
    where = os.environ.get("PRIME_PACK_MODULE", "")
    if where.lower() == "none":
        return None
    if where:
        import importlib.util
        spec = importlib.util.spec_from_file_location("libprime._pack", where)
        if spec is None or spec.loader is None:
            raise ImportError("PRIME_PACK_MODULE=%s is not a Python extension module" % where)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    try:
        from . import _pack
    except ImportError:
        return None
    return _pack


#: The compiled packer module, or None (see _load_packer).
_packx: Any = _load_packer()


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

    def __reduce__(self) -> Tuple[Any, ...]:
        # picklable (e.g. raised in a multiprocessing worker): rebuilt from
        # the status, the detail and the name, without the library
        return (type(self), (self.status, self.detail, self.status_name))

    def __str__(self) -> str:
        return "%s (%s)" % (self.detail, self.status_name)


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


class _PrimeOSError(PrimeIOError):
    """Base of the I/O errors that carry errno and filename."""

    _code = 0

    def __init__(self, status: int, detail: str = "", status_name: str = "",
                 filename: Optional[str] = None) -> None:
        self.status = status
        self.status_name = status_name or _STATUS_NAMES.get(status, "PRIME_E_IO")
        self.detail = detail
        OSError.__init__(self, self._code, detail, filename)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.status, self.detail, self.status_name, self.filename))

    def __str__(self) -> str:
        return "[Errno %d] %s: %r (%s)" % (self._code, self.detail, self.filename, self.status_name)


class FileNotFoundPrimeError(_PrimeOSError, FileNotFoundError):
    """A file to read does not exist (or the folder of a file to write)."""
    _code = _errno.ENOENT


class PermissionPrimeError(_PrimeOSError, PermissionError):
    """A file could not be read or written for lack of permission."""
    _code = _errno.EACCES


class IsADirectoryPrimeError(_PrimeOSError, IsADirectoryError):
    """A directory was given where a file was expected."""
    _code = _errno.EISDIR


_STATUS_NAMES = {L.PRIME_E_IO: "PRIME_E_IO"}


def _os_error(status: int, path: Any, writing: bool = False) -> Optional[PrimeError]:
    """For a failed call on a path: the FileNotFoundError /
    PermissionError / IsADirectoryError the path explains, else None."""
    try:
        name = os.fsdecode(path)
    except (TypeError, ValueError):
        return None
    if isinstance(status, _Status):
        _tls.detail = status.detail
    detail = last_error() or _status_message(status)
    status = int(status)
    try:
        st = os.stat(name)
    except FileNotFoundError:
        target = os.path.dirname(os.path.abspath(name)) if writing else name
        if writing and os.path.isdir(target):
            return None
        return FileNotFoundPrimeError(status, detail, _status_name(status), name)
    except PermissionError:
        return PermissionPrimeError(status, detail, _status_name(status), name)
    except OSError:
        return None
    if _stat.S_ISDIR(st.st_mode):
        return IsADirectoryPrimeError(status, detail or "is a directory", _status_name(status),
                                      name)
    if not os.access(name, os.W_OK if writing else os.R_OK):
        return PermissionPrimeError(status, detail, _status_name(status), name)
    return None


def _check_path(status: int, path: Any, writing: bool = False) -> None:
    """_check for a call that read (or wrote) ``path``: I/O failures become
    FileNotFoundError, PermissionError or IsADirectoryError."""
    if status == L.PRIME_OK:
        return
    if status in (L.PRIME_E_IO, L.PRIME_E_NOMEM, L.PRIME_E_FORMAT, L.PRIME_E_PARSE):
        e = _os_error(status, path, writing)
        if e is not None:
            raise e
    raise error_for(status)


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


_tls = threading.local()


def last_error() -> str:
    """The detail message of the last failure on this thread: that of the
    last error this package raised for a call it ran on a helper thread
    (long calls, see :func:`_interruptible`), else the library's
    ``prime_last_error()``."""
    d = getattr(_tls, "detail", None)
    return str(d) if d is not None else _dec(_l().prime_last_error())


class _Status(int):
    """A status returned by a call made on a helper thread, with that
    thread's ``prime_last_error()`` (the message is per thread)."""

    detail: str = ""


def error_for(status: int) -> PrimeError:
    """The exception for a failed status, carrying ``prime_last_error()``."""
    if isinstance(status, _Status):
        detail = _tls.detail = status.detail
    else:
        _tls.detail = None
        detail = last_error()
    cls = _ERRORS.get(status, PrimeError)
    return cls(int(status), detail)


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
    if isinstance(v, float):
        raise TypeError("%s must be an integer, not float %r" % (what, v))
    k: int = operator.index(v)
    if not 0 <= k < L.PRIME_NONE:
        raise IndexError("%s %d out of range" % (what, k))
    return k


def _u32_array(values: Any, what: str) -> Tuple[Any, int]:
    """A ctypes uint32 array of ``values`` (each checked: no silent wrap)."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(values, np.ndarray):
        if values.dtype.kind not in "iu":
            raise TypeError("%s must be integers, not %s" % (what, values.dtype))
        if values.size and (int(values.min()) < 0 or int(values.max()) >= L.PRIME_NONE):
            raise IndexError("%s out of range: %d..%d" % (what, int(values.min()),
                                                          int(values.max())))
        values = values.tolist()
    ids = [_u32(v, what) for v in values]
    return ((c_uint32 * len(ids))(*ids) if ids else None), len(ids)


def version() -> str:
    """Version text of the loaded library, e.g. ``"1.0.0"``."""
    return _dec(_l().prime_version())


def version_number() -> int:
    """Version of the loaded library as major * 10000 + minor * 100 + patch."""
    return int(_l().prime_version_number())


# --------------------------------------------------------------------------
# Handles
# --------------------------------------------------------------------------

class _Handle:
    """Owns one C handle; freed by close(), by ``with``, or on garbage collection.

    Thread safety (see python/README.md): every C call borrows the handles
    it is passed for its duration (shared for reads, exclusive for the calls
    that modify a handle), so calls from several threads are serialised
    where they must be and a handle is never freed while a call uses it:
    :meth:`close` waits for other threads' calls to end and raises
    :class:`BusyError` when the calling thread itself is using the handle
    (e.g. from a progress callback).
    """

    _kind = "handle"

    def __init__(self, ptr: Any, free: Callable[[Any], None]) -> None:
        self._state = L.HandleState()
        self._ptr = ptr
        # kept on the instance: usable even at interpreter exit; the raw
        # function (the guarded one refuses a pointer being closed)
        self._free = getattr(free, "raw", free)
        if ptr:
            L.register(ptr, self)

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

    def close(self, wait: bool = True) -> None:
        """Release the C handle now (idempotent).

        While another thread's call uses the handle, waits for it to end
        (``wait=False``: raises :class:`BusyError` instead); from a callback
        of a call that uses it, raises :class:`BusyError`.
        """
        if self._ptr is None:
            return
        p = L.unregister_when_idle(self, wait)
        if p:
            self._free(p)

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close(wait=False)
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def _long_call(call: Callable[[], Any], *outs: Any) -> int:
    """Run a long C call interruptibly (see :func:`_interruptible`); after a
    Ctrl-C the handles it creates into ``outs`` are destroyed once it ends."""
    def cleanup(st: int) -> None:
        lib = _l()
        for o in outs:
            if o:
                free = {L.TagStoreP: lib.prime_tagstore_destroy,
                        L.OutcomesP: lib.prime_outcomes_destroy,
                        L.ResultP: lib.prime_result_destroy}.get(type(o))
                if free is not None:
                    getattr(free, "raw", free)(o)
    st: int = _interruptible(call, cleanup)
    return st


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


def _check_labels(values: List[Any], what: str) -> None:
    """Refuse floats (scores passed as labels) and unhashable labels."""
    for i, v in enumerate(values):
        if isinstance(v, float) or (type(v).__module__ == "numpy" and
                                    type(v).__name__.startswith("float")):
            raise TypeError("%s[%d] is a float (%r): pass class labels (ints, strings, any "
                            "hashable), or scores in [0, 1] to Outcomes(values)" % (what, i, v))
        try:
            hash(v)
        except TypeError:
            raise TypeError("%s[%d] is not hashable: %r" % (what, i, v)) from None


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
        """1 where ``labels[i] == predictions[i]``, else 0.

        Labels may be any hashable values (ints, strings, enum members, ...)
        compared with ``==``; lists, tuples, NumPy arrays and pandas Series
        are accepted. Floats are refused (:class:`TypeError`): they are
        usually scores or probabilities, which :class:`Outcomes` takes
        directly, and comparing them with labels would be silently wrong.
        """
        np = sys.modules.get("numpy")
        if np is not None and (isinstance(labels, np.ndarray) or hasattr(labels, "to_numpy")
                               or isinstance(predictions, np.ndarray)
                               or hasattr(predictions, "to_numpy")):
            la = np.asarray(labels.to_numpy() if hasattr(labels, "to_numpy") else labels)
            pa = np.asarray(predictions.to_numpy() if hasattr(predictions, "to_numpy")
                            else predictions)
            for what, a in (("labels", la), ("predictions", pa)):
                if a.ndim != 1:
                    raise ValueError("%s must be one-dimensional, not of shape %s"
                                     % (what, a.shape))
                if a.dtype.kind in "fc":
                    raise TypeError("%s are floats (%s): pass class labels (ints, strings, any "
                                    "hashable), or scores in [0, 1] to Outcomes(values)"
                                    % (what, a.dtype))
                if a.dtype.kind == "O":
                    _check_labels(a.tolist(), what)
            if la.shape[0] != pa.shape[0]:
                raise ValueError("%d labels but %d predictions" % (la.shape[0], pa.shape[0]))
            eq = np.asarray(la == pa, dtype=np.float64)
            if eq.shape != la.shape:  # pragma: no cover - numpy oddities
                raise TypeError("labels and predictions cannot be compared")
            return cls(eq)
        ll, pl = list(labels), list(predictions)
        if len(ll) != len(pl):
            raise ValueError("%d labels but %d predictions" % (len(ll), len(pl)))
        _check_labels(ll, "labels")
        _check_labels(pl, "predictions")
        return cls(array.array("d", [1.0 if a == b else 0.0 for a, b in zip(ll, pl)]))

    @classmethod
    def load(cls, path: PathLike, store: "TagStore") -> "Outcomes":
        """Load an outcomes CSV and join it to ``store`` by image name."""
        _need(store, TagStore, "store")
        out = _new(L.OutcomesP)
        p, sp = _path(path), store._p()
        _check_path(_long_call(lambda: _l().prime_outcomes_load(p, sp, byref(out)), out), p)
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
        out, data = _new(L.OutcomesP), bytes(data)
        nm, sp = _enc(name) if name else None, store._p()
        _check(_long_call(lambda: _l().prime_outcomes_load_memory(data, len(data), nm, sp,
                                                                   byref(out)), out))
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
        lib, v = _l(), c_double()
        res: List[Optional[float]] = []
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
        store, p = _new(L.TagStoreP), _path(path)
        _check_path(_long_call(lambda: _l().prime_tagstore_load(p, byref(store), None),
                               store), p)
        return cls._wrap(store)

    @classmethod
    def load_with_outcomes(cls, path: PathLike) -> Tuple["TagStore", Optional[Outcomes]]:
        """Load a tags file and the outcomes it carries (a ``correct`` or
        ``score`` column/key), or None when it has none."""
        store, out, p = _new(L.TagStoreP), _new(L.OutcomesP), _path(path)
        _check_path(_long_call(lambda: _l().prime_tagstore_load(p, byref(store), byref(out)),
                               store, out), p)
        s = cls._wrap(store)
        return s, (Outcomes._wrap(out) if out else None)

    @classmethod
    def from_bytes(cls, data: bytes, name: Optional[str] = None
                   ) -> Tuple["TagStore", Optional[Outcomes]]:
        """Same as :meth:`load_with_outcomes` from the bytes of a file;
        ``name`` is the file name used in error messages."""
        store, out, data = _new(L.TagStoreP), _new(L.OutcomesP), bytes(data)
        nm = _enc(name) if name else None
        _check(_long_call(lambda: _l().prime_tagstore_load_memory(data, len(data), nm,
                                                                  byref(store), byref(out)),
                          store, out))
        s = cls._wrap(store)
        return s, (Outcomes._wrap(out) if out else None)

    @classmethod
    def open(cls, path: PathLike) -> "TagStore":
        """Open a binary store written by :meth:`save` (fully validated)."""
        store, p = _new(L.TagStoreP), _path(path)
        _check_path(_long_call(lambda: _l().prime_tagstore_open(p, byref(store)), store), p)
        return cls._wrap(store)

    @classmethod
    def open_bytes(cls, data: bytes) -> "TagStore":
        """Open a binary store from its bytes."""
        store, data = _new(L.TagStoreP), bytes(data)
        _check(_long_call(lambda: _l().prime_tagstore_open_memory(data, len(data), byref(store)),
                          store))
        return cls._wrap(store)

    @classmethod
    def from_lists(cls, images: Optional[Sequence[Optional[str]]], classes: Sequence[Any],
                   tags: Sequence[Union[str, Iterable[str], None]], *,
                   freeze: bool = True) -> "TagStore":
        """Build a store from parallel sequences (lists, tuples, NumPy arrays,
        pandas Series): image names (or None for unnamed images), class
        names, and per image an iterable of tag names (or one ``"a|b|c"``
        string, or None). Built with a few bulk calls
        (:meth:`add_images`), as fast as the CSV reader."""
        store = cls()
        try:
            store.add_images(images, classes, tags)
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
        recs = records if type(records) is list else list(records)
        coded = (_packx.code_records(recs, L.PRIME_NONE)
                 if _packx is not None and hasattr(_packx, "code_records") else None)
        if coded is not None:  # the plain cases, coded in one C pass (no column lists)
            store = cls()
            try:
                if _call_coded(store._p(), len(recs), *coded) is not None:
                    if freeze:
                        store.freeze()
                    return store
            except BaseException:
                store.close()
                raise
            store.close()  # refused: the paths below give the error
        cols = _packx.split_records(recs) if _packx is not None else None
        if cols is not None:  # the plain cases, in one C pass
            return cls.from_lists(cols[0], cols[1], cols[2], freeze=freeze)
        kinds = set(map(type, recs))
        if kinds <= {tuple, list} and set(map(len, recs)) <= {3}:  # columns at C speed
            return cls.from_lists(list(map(operator.itemgetter(0), recs)),
                                  list(map(operator.itemgetter(1), recs)),
                                  list(map(operator.itemgetter(2), recs)), freeze=freeze)
        if kinds <= {dict}:
            try:
                klasses = list(map(operator.itemgetter("class"), recs))
            except KeyError:
                pass
            else:
                return cls.from_lists(list(map(operator.methodcaller("get", "image"), recs)),
                                      klasses,
                                      list(map(operator.methodcaller("get", "tags"), recs)),
                                      freeze=freeze)
        images: List[Optional[str]] = []
        classes: List[Any] = []
        tags: List[Any] = []
        for r in recs:
            if isinstance(r, Mapping):
                images.append(r.get("image"))
                classes.append(r["class"])
                tags.append(r.get("tags"))
            else:
                image, klass, t = r
                images.append(image)
                classes.append(klass)
                tags.append(t)
        return cls.from_lists(images, classes, tags, freeze=freeze)

    @classmethod
    def from_dataframe(cls, df: Any, *, image: Optional[str] = "image", klass: str = "class",
                       tags: str = "tags", freeze: bool = True) -> "TagStore":
        """Build a store from a pandas DataFrame.

        ``tags`` names a column holding lists of tag names or ``"a|b"``
        strings; ``image=None`` makes unnamed images. See also the module
        function :func:`libprime.from_dataframe`, which also reads outcomes.
        """
        if _packx is not None:  # the columns' arrays, read by the compiled packer
            store = cls()
            try:
                store._add_columns(None if image is None else df[image], df[klass], df[tags],
                                   missing=True)
                if freeze:
                    store.freeze()
            except BaseException:
                store.close()
                raise
            return store

        def column(name: str) -> List[Any]:
            col = df[name]
            values: List[Any] = col.tolist()
            if col.isna().any():  # None / NaN (a missing value) becomes None
                values = [None if _isna(v) else v for v in values]
            return values
        imgs = None if image is None else column(image)
        return cls.from_lists(imgs, df[klass].tolist(), column(tags), freeze=freeze)

    def add_images(self, images: Optional[Sequence[Optional[str]]], classes: Sequence[Any],
                   tags: Sequence[Union[str, Iterable[str], None]]) -> int:
        """Add many images in one C call (``prime_tagstore_add_coded``: each
        distinct name once, the images referring to them by number, when the
        compiled packer codes the columns; else ``prime_tagstore_add_packed``:
        each column joined into one buffer of NUL-separated names); returns
        the index of the first. Arguments as :meth:`from_lists`; class names may
        be strings or integers (written in decimal); floats and other types
        are refused. All or nothing: on any error nothing is added."""
        return self._add_columns(images, classes, tags)

    def _add_columns(self, images: Any, classes: Any, tags: Any, missing: bool = False) -> int:
        """add_images; missing: None and float NaN (a DataFrame's missing
        values) are no image name / no tag, as from_dataframe reads them."""
        classes = _as_column(classes, True)
        if images is not None:
            images = _as_column(images, True)
        tags = _as_column(tags)
        n = len(classes)
        if len(tags) != n or (images is not None and len(images) != n):
            raise ValueError("images, classes and tags must have the same length (%d, %d, %d)"
                             % (len(images) if images is not None else n, n, len(tags)))
        if n >= L.PRIME_NONE - 1:
            raise LimitError(L.PRIME_E_LIMIT, "too many images (the limit is 2^32-2)",
                             "PRIME_E_LIMIT")
        sp, first = self._p(), c_uint32()
        coded = _add_coded(sp, n, images, classes, tags, missing)
        if coded is not None:
            return coded
        cbuf = _pack(classes, _class_text, "class", 1)
        ibuf = None if images is None else _pack(images, _image_text, "image name", 0, missing)
        tbuf, counts = _pack_tags(tags, missing)
        try:
            _check(_long_call(lambda: _l().prime_tagstore_add_packed(
                sp, n, ibuf, len(ibuf) if ibuf is not None else 0, cbuf, len(cbuf), tbuf,
                len(tbuf), _ptr_of(counts, c_uint32), byref(first))))
        except InvalidArgumentError as e:
            nul = _nul_error([("name", images), ("class", classes), ("tag name", tags)])
            if nul is not None:
                raise nul from e
            raise
        return first.value

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
        ids, n = _u32_array(tag_ids, "tag id")
        out = c_uint32()
        _check(_l().prime_tagstore_add_image(self._p(), _enc(image, "image name") if image else None,
                                             _u32(class_id, "class id"), ids, n, byref(out)))
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
        p, sp = _path(path), self._p()
        _check_path(_long_call(lambda: _l().prime_tagstore_save(sp, p)), p, writing=True)

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

    def select(self, tags: Union[TagRef, Iterable[TagRef]] = (), klass: ClassRef = None) -> Any:
        """Indices of the images of ``klass`` (name, id, or None for all)
        carrying every tag of ``tags`` (``prime_tagstore_select``; the set
        :func:`query` measures), ascending: a NumPy uint32 array when NumPy
        is installed, else a list. The store must be frozen."""
        arr, n, _ = _tag_array(self, tags)
        lib, p, cid = _l(), self._p(), self._class_id(klass)
        return _image_indices(lambda out, cap, cnt:
                              lib.prime_tagstore_select(p, cid, arr, n, out, cap, cnt))

    def _tag_id(self, tag: TagRef) -> int:
        if isinstance(tag, str):
            return self.find_tag(tag)
        if isinstance(tag, bytes):
            return self.find_tag(tag.decode("utf-8"))
        return _u32(tag, "tag id")

    def _class_id(self, klass: ClassRef) -> int:
        if klass is None:
            return L.PRIME_NONE
        if isinstance(klass, str):
            return self.find_class(klass)
        if isinstance(klass, bytes):
            return self.find_class(klass.decode("utf-8"))
        return _u32(klass, "class id")

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.TagStore (closed)>"
        return "<libprime.TagStore images=%d classes=%d tags=%d%s>" % (
            len(self), self.class_count, self.tag_count, " frozen" if self.frozen else "")


def _class_text(i: int, c: Any) -> str:
    """A class name: a str, or an int written in decimal (not a bool)."""
    if isinstance(c, str):
        return str(c)
    if isinstance(c, bool) or not (isinstance(c, int) or (
            type(c).__module__ == "numpy" and type(c).__name__.startswith(("int", "uint")))):
        raise TypeError("class of image %d must be a str or an int, not %s (%r)"
                        % (i, type(c).__name__, c))
    return str(int(c))


def _image_text(i: int, im: Any) -> str:
    """An image name: a str, or None / "" for an unnamed image."""
    if im is None:
        return ""
    if isinstance(im, str):
        return str(im)
    raise TypeError("image name %d must be a str or None, not %s" % (i, type(im).__name__))


def _joined(values: List[str], what: str) -> bytes:
    """values (str) joined with NUL bytes, as UTF-8; a lone surrogate is
    refused here, with its index. (A name holding a NUL reads as two names:
    C finds the count wrong, then :func:`_nul_error` names it.)"""
    text = "\0".join(values)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        for k, v in enumerate(values):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ValueError("%s %d is not valid Unicode (%s): %r" % (what, k, e.reason, v)
                                 ) from None
        raise  # pragma: no cover - a join of encodable strings encodes


def _nul_error(columns: List[Tuple[str, Any]]) -> Optional[ValueError]:
    """After C found a column's count of NUL-separated names wrong: the
    error naming the first name that holds a NUL (None if none does)."""
    for what, values in columns:
        if values is None:
            continue
        for i, v in enumerate(values):
            names = [v] if isinstance(v, str) else (v if isinstance(v, (list, tuple)) else [])
            for x in names:
                if isinstance(x, str) and "\0" in x:
                    return ValueError("%s of image %d contains a NUL character: %r"
                                      % (what, i, x))
    return None


def _as_column(values: Any, text: bool = False) -> Any:
    """A column as the packers read it: a list, a tuple, or for the
    compiled packer a 1-D NumPy object array as it is (a pandas column's
    too: no list of it is made), and with ``text`` (image and class names)
    a 1-D NumPy str array (``<U``) as it is (the packer reads its UCS4
    text); other arrays and Series through tolist()."""
    if _packx is not None and hasattr(values, "dtype"):
        arr = values.to_numpy() if hasattr(values, "to_numpy") else values
        kind = getattr(arr.dtype, "kind", "")
        if (kind == "O" or (text and kind == "U")) and getattr(arr, "ndim", 0) == 1:
            return arr
    if hasattr(values, "tolist"):
        return values.tolist()
    return values


def _add_coded(sp: Any, n: int, images: Any, classes: Any, tags: Any,
               missing: bool) -> Optional[int]:
    """add_images through prime_tagstore_add_coded when the compiled packer
    codes the columns (each distinct class and tag name once, the images
    referring to them by number: no tag name is copied or hashed twice);
    the index of the first image added, or None: the caller packs the
    columns as text (prime_tagstore_add_packed). A failed call changes
    nothing and answers None too, so that the errors and their messages
    are those of the packed path in every case."""
    if _packx is None or not hasattr(_packx, "code_tags"):
        return None
    ct = _packx.code_tags(tags, L.PRIME_NONE, missing)
    if ct is None:
        return None
    cc = _packx.code_classes(classes)
    if cc is None:
        return None
    ibuf = None if images is None else _packx.pack_column(images, 0, missing)
    if images is not None and ibuf is None:
        return None
    return _call_coded(sp, n, ibuf, cc, ct)


def _call_coded(sp: Any, n: int, ibuf: Optional[bytes], cc: Any, ct: Any) -> Optional[int]:
    """prime_tagstore_add_coded on the compiled packer's columns (the image
    names packed, the classes and tags coded): the index of the first image
    added, or None when the library refuses them (nothing added)."""
    first = c_uint32()
    st = _long_call(lambda: _l().prime_tagstore_add_coded(
        sp, n, ibuf, len(ibuf) if ibuf is not None else 0, cc[0], len(cc[0]), cc[1], cc[2],
        ct[0], len(ct[0]), ct[1], ct[2], len(ct[2]) // 4, ct[3], byref(first)))
    return first.value if st == 0 else None


def _pack(values: Sequence[Any], convert: Callable[[int, Any], str], what: str,
          kind: int, missing: bool = False) -> bytes:
    """A column of names as one buffer, the names separated by NUL bytes
    (prime_tagstore_add_packed). The compiled packer when there is one
    (``kind``: 0 image names, 1 class names), else strings go through one
    C-level join and other values through ``convert`` (which refuses the
    wrong types); the compiled packer leaves all but the plain cases here."""
    if _packx is not None:
        got: Optional[bytes] = _packx.pack_column(values, kind, missing)
        if got is not None:
            return got
    if getattr(getattr(values, "dtype", None), "kind", "") == "U":
        values = getattr(values, "tolist")()  # a str array (the compiled packer gave up)
    text_values = values if type(values) is list else list(values)
    if missing:
        text_values = [None if _isna(v) else v for v in text_values]
    try:
        return _joined(text_values, what)
    except TypeError:  # not all str: convert one by one
        pass
    fixed = [convert(i, v) for i, v in enumerate(values)]
    return _joined(fixed, what)


def _pack_tags(tags: Sequence[Any], missing: bool = False
               ) -> Tuple[bytes, "Optional[array.array[int]]"]:
    """The tags column for prime_tagstore_add_packed: ``"a|b"`` strings (and
    None) as one NUL-separated buffer without counts; lists/tuples of names
    (and anything else iterable) as all their names separated by NULs, with
    the per-image counts."""
    if _packx is not None:  # the compiled packer: the same bytes, or None
        got = _packx.pack_tags(tags, L.PRIME_NONE, missing)
        if got is not None:
            if got[1] is None:
                return got[0], None
            cnt = array.array("I")
            cnt.frombytes(got[1])
            return got[0], cnt
    if type(tags) is not list:
        tags = list(tags)
    if missing:
        tags = [None if _isna(t) else t for t in tags]
    if tags and type(tags[0]) is str:  # "a|b" strings: one join, if they all are
        try:
            return _joined(tags, "tags of image"), None
        except TypeError:
            pass
    kinds = set(map(type, tags))
    if kinds <= {str}:
        return _joined(tags, "tags of image"), None
    if kinds <= {str, type(None)}:
        return _joined(["" if t is None else t for t in tags], "tags of image"), None
    if not kinds <= {list, tuple}:
        tags = _tag_lists_slow(tags)
    counts = array.array("I", map(len, tags))
    total = sum(counts)
    if total >= L.PRIME_NONE:
        raise LimitError(L.PRIME_E_LIMIT, "%d tag names (the limit is 2^32-1)" % total,
                         "PRIME_E_LIMIT")
    flat = list(itertools.chain.from_iterable(tags))
    try:
        buf = _joined(flat, "tag name")
    except TypeError:
        _tag_lists_slow(tags)  # raises the precise error
        raise  # pragma: no cover
    return buf, counts


def _tag_lists_slow(tags: List[Any]) -> List[List[str]]:
    """Per image its tag names as a list, with a precise error for a bad
    entry: None is no tag, a str is ``"a|b"`` (empty names skipped), other
    iterables hold names (str)."""
    out: List[List[str]] = []
    add = out.append
    for i, t in enumerate(tags):
        if t is None:
            add([])
        elif isinstance(t, str):
            add([x for x in t.split("|") if x])
        elif isinstance(t, (bytes, bytearray)) or not hasattr(t, "__iter__"):
            raise TypeError("tags of image %d must be an iterable of str, a \"a|b\" string or "
                            "None, not %r" % (i, t))
        else:
            tt = list(t)
            for x in tt:
                if not isinstance(x, str):
                    raise TypeError("tag names must be str, not %s (%r) (image %d)"
                                    % (type(x).__name__, x, i))
            add(tt)
    return out


def _ptr_of(arr: Any, ctype: Any) -> Any:
    """A ctypes pointer to the data of an array.array (None if empty/None)."""
    if arr is None or len(arr) == 0:
        return None
    return ctypes.cast(arr.buffer_info()[0], POINTER(ctype))


def _render_text(fn: Any, handle: Any, fmt: int) -> str:
    """The text a ``prime_*_render(handle, format, buf, cap, &need)`` call
    writes: its size asked first, then written into a buffer of that size."""
    need = c_size_t()
    st = fn(handle, fmt, None, 0, byref(need))
    if st not in (L.PRIME_OK, L.PRIME_E_BUFFER_TOO_SMALL):
        _check(st)
    buf = ctypes.create_string_buffer(need.value + 1)
    _check(fn(handle, fmt, buf, need.value + 1, byref(need)))
    return buf.raw[: need.value].decode("utf-8")


def _image_indices(call: Callable[[Any, int, Any], Any]) -> Any:
    """The image indices a two-call C function returns through its last three
    arguments (``out, cap, &count``; ``call`` passes them on): the count asked
    first, then the indices; a NumPy uint32 array when NumPy is installed,
    else a list."""
    cnt = c_uint64()
    st = call(None, 0, byref(cnt))
    if st not in (L.PRIME_OK, L.PRIME_E_BUFFER_TOO_SMALL):
        _check(st)
    buf = array.array("I", bytes(4 * cnt.value))
    if cnt.value:
        _check(call(_ptr_of(buf, c_uint32), cnt.value, byref(cnt)))
    np = _numpy_for(None)
    return np.frombuffer(buf, dtype=np.uint32).copy() if np is not None else buf.tolist()


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
_BOOL_PARAMS = {"whole_dataset", "fold_equal"}


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
                seq: Any = value
                vals = [float(v) for v in seq]
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
        # one columnar call instead of several calls per mode
        cols = self.columns(numpy=False)
        for row in zip(*cols.values()):
            yield FailureMode(*row)

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
        return _render_text(_l().prime_result_render, self._p(), _format_id(fmt))

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
        """The whole JSON document as Python objects (params, classes,
        failure_modes), with the JSON's key names (``"class"``)."""
        return json.loads(self.to_json())  # type: ignore[no-any-return]

    def to_dicts(self) -> List[Dict[str, Any]]:
        """The failure modes as dicts keyed by the :class:`FailureMode` field
        names (``class_name``, ``tags``, ``size``, ...; the columns of
        :meth:`to_dataframe`). ``to_dict()["failure_modes"]`` has the JSON
        names instead."""
        cols = self.columns(numpy=False)
        keys = list(cols)
        return [dict(zip(keys, row)) for row in zip(*cols.values())]

    def columns(self, numpy: Optional[bool] = None) -> Dict[str, Any]:
        """Every field of every mode in columns, from one C call
        (``prime_result_columns``): ``class_name``, ``tags`` (tuples of
        names), ``size``, ``correct``, ``accuracy``, ``class_accuracy``,
        ``drop``, ``description``, ``class_id`` (None in whole-data-set
        mode) and ``tag_ids`` (tuples), the :class:`FailureMode` fields in
        their order. Numeric columns are NumPy arrays when NumPy is
        installed (``numpy=False``: lists)."""
        lib, rp = _l(), self._p()
        n = int(lib.prime_result_mode_count(rp))
        nt = int(lib.prime_result_mode_tag_total(rp))
        ci = array.array("I", bytes(4 * n))
        size = array.array("Q", bytes(8 * n))
        cor, acc, cacc, drop = (array.array("d", bytes(8 * n)) for _ in range(4))
        toff = array.array("Q", bytes(8 * (n + 1)))
        tids = array.array("I", bytes(4 * nt))
        _check(lib.prime_result_columns(rp, _ptr_of(ci, c_uint32), _ptr_of(size, c_uint64),
                                        _ptr_of(cor, c_double), _ptr_of(acc, c_double),
                                        _ptr_of(cacc, c_double), _ptr_of(drop, c_double),
                                        _ptr_of(toff, c_uint64), _ptr_of(tids, c_uint32)))
        # class names and ids per searched class, tag names per distinct id
        cnames, cids = [], []
        cid = c_uint32()
        for k in range(int(lib.prime_result_class_count(rp))):
            _check(lib.prime_result_class_info(rp, k, byref(cid), None, None, None))
            cnames.append(_dec(lib.prime_result_class_name(rp, k)))
            cids.append(None if cid.value == L.PRIME_NONE else int(cid.value))
        offs = toff.tolist()
        ids = tids.tolist()
        # a name per distinct tag id, from its first position (few calls)
        first = dict(zip(reversed(ids), range(len(ids) - 1, -1, -1)))
        tname: Dict[int, str] = {}
        for t, j in first.items():
            i = bisect.bisect_right(offs, j) - 1
            tname[t] = _dec(lib.prime_result_mode_tag_name(rp, i, j - offs[i]))
        names = list(map(tname.__getitem__, ids))
        bounds = list(zip(offs, offs[1:]))
        tag_ids = [tuple(ids[a:b]) for a, b in bounds]
        tags = [tuple(names[a:b]) for a, b in bounds]
        cil = ci.tolist()
        class_name = [cnames[c] for c in cil]
        class_id = [cids[c] for c in cil]
        heads = ["a photo of" if cids[c] is None else "a photo of " + cnames[c]
                 for c in range(len(cnames))]
        join = " ".join
        desc = [join((heads[c],) + tg) for c, tg in zip(cil, tags)]
        np = _numpy_for(numpy)
        num: Callable[[Any], Any] = (lambda a: np.frombuffer(a, dtype=a.typecode if a.typecode
                                                             != "Q" else np.uint64).copy()
                                     ) if np is not None else (lambda a: a.tolist())
        return {"class_name": class_name, "tags": tags, "size": num(size), "correct": num(cor),
                "accuracy": num(acc), "class_accuracy": num(cacc), "drop": num(drop),
                "description": desc, "class_id": class_id, "tag_ids": tag_ids}

    def to_dataframe(self) -> Any:
        """The modes as a pandas DataFrame (needs pandas), one row per mode,
        with the :class:`FailureMode` field names as columns (see
        :meth:`columns`); ``size`` is int64."""
        pd = _pandas("Result.to_dataframe")
        cols = self.columns(numpy=True)
        cols["size"] = cols["size"].astype("int64")
        cols["class_id"] = pd.array(cols["class_id"], dtype="Int64")
        return pd.DataFrame(cols)

    def mode_images(self, store: "TagStore", i: int) -> Any:
        """Indices of the images of mode ``i`` in ``store`` (matched by tag
        and class names; ``prime_result_mode_images``), ascending: a NumPy
        uint32 array when NumPy is installed, else a list."""
        _need(store, TagStore, "store")
        n = len(self)
        i = operator.index(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("failure mode index out of range")
        lib, p, sp = _l(), self._p(), store._p()
        return _image_indices(lambda out, cap, cnt:
                              lib.prime_result_mode_images(p, sp, i, out, cap, cnt))

    def membership(self, store: "TagStore", *, sparse: Optional[str] = None) -> Any:
        """Which images belong to which mode, from one C call
        (``prime_result_membership``), as an images x modes sparse 0/1
        matrix: a ``scipy.sparse.csr_array`` when SciPy is installed (or
        ``sparse="scipy"``), else (``sparse="csr"``) a :class:`Membership`
        holding the CSR arrays ``indptr`` (per image), ``indices`` (mode
        indices) and ``shape``, plus the per-mode view ``mode_indptr`` /
        ``mode_images``."""
        _need(store, TagStore, "store")
        lib, total = _l(), c_uint64()
        n = len(self)
        moff = array.array("Q", bytes(8 * (n + 1)))
        # one pass when the store is the searched one (the counts are the
        # modes' sizes); a second only if the guess is too small
        sizes = array.array("Q", bytes(8 * n))
        _check(lib.prime_result_columns(self._p(), None, _ptr_of(sizes, c_uint64), None, None,
                                        None, None, None, None))
        cap = sum(sizes)
        imgs = array.array("I", bytes(4 * max(cap, 1)))
        st = lib.prime_result_membership(self._p(), store._p(), _ptr_of(moff, c_uint64),
                                         _ptr_of(imgs, c_uint32), cap, byref(total))
        if st == L.PRIME_E_BUFFER_TOO_SMALL:
            imgs = array.array("I", bytes(4 * total.value))
            st = lib.prime_result_membership(self._p(), store._p(), _ptr_of(moff, c_uint64),
                                             _ptr_of(imgs, c_uint32), total.value, byref(total))
        _check(st)
        del imgs[total.value:]
        m = Membership(moff, imgs, len(store), n)
        if sparse == "csr":
            return m
        if sparse not in (None, "scipy"):
            raise ValueError("sparse must be None, \"scipy\" or \"csr\", not %r" % (sparse,))
        try:
            import scipy.sparse as sp  # type: ignore[import]
        except ImportError:
            if sparse == "scipy":
                raise
            return m
        return m.to_scipy(sp)

    def equal_images(self, store: "TagStore") -> List[Optional[int]]:
        """Per mode, the index of a mode of the same class with fewer tags
        and exactly the same images in ``store`` (its extra tags add
        nothing; ``prime_result_equal_images``), or None."""
        _need(store, TagStore, "store")
        n = len(self)
        out = array.array("Q", bytes(8 * n))
        if n:
            _check(_l().prime_result_equal_images(self._p(), store._p(),
                                                  _ptr_of(out, c_uint64)))
        return [None if v == 0xFFFFFFFFFFFFFFFF else int(v) for v in out]

    def _repr_html_(self) -> str:
        """An HTML table of the modes for notebooks (the first 50)."""
        import html
        if self.closed:
            return "<p>libprime.Result (closed)</p>"
        rows = []
        for k, m in enumerate(self[:50]):
            rows.append("<tr><td>%d</td><td>%s</td><td>%s</td><td>%d</td><td>%.3f</td>"
                        "<td>%.3f</td><td>%.3f</td></tr>"
                        % (k, html.escape(m.class_name), html.escape(", ".join(m.tags)), m.size,
                           m.accuracy, m.class_accuracy, m.drop))
        more = len(self) - 50
        return ("<table><thead><tr><th></th><th>class_name</th><th>tags</th><th>size</th>"
                "<th>accuracy</th><th>class_accuracy</th><th>drop</th></tr></thead><tbody>%s"
                "</tbody></table>%s" % ("".join(rows),
                                        "<p>... %d more modes</p>" % more if more > 0 else ""))

    def write(self, path: PathLike, fmt: Union[str, int] = "json") -> None:
        """Write the result to a file (atomically: temporary file and rename)."""
        p, rp, f = _path(path), self._p(), _format_id(fmt)
        _check_path(_long_call(lambda: _l().prime_result_write(rp, f, p)), p, writing=True)

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Result (closed)>"
        return "<libprime.Result modes=%d classes=%d>" % (
            len(self), int(_l().prime_result_class_count(self._p())))


class Membership:
    """Images x modes membership in CSR form (no SciPy needed).

    ``indptr`` / ``indices``: for image ``k``, the modes it belongs to are
    ``indices[indptr[k]:indptr[k+1]]`` (ascending); ``mode_indptr`` /
    ``mode_images``: for mode ``i``, its images are
    ``mode_images[mode_indptr[i]:mode_indptr[i+1]]``. ``shape`` is
    ``(images, modes)``. NumPy arrays when NumPy is installed, else lists.
    """

    indptr: Any
    indices: Any
    mode_indptr: Any
    mode_images: Any

    def __init__(self, mode_offsets: "array.array[int]", images: "array.array[int]",
                 n_images: int, n_modes: int) -> None:
        self.shape = (n_images, n_modes)
        np = _numpy_for(None)
        if np is not None:
            mo_a = np.frombuffer(mode_offsets, dtype=np.uint64).astype(np.int64)
            im_a = np.frombuffer(images, dtype=np.uint32).astype(np.int64)
            owner = np.repeat(np.arange(n_modes, dtype=np.int64), np.diff(mo_a))
            order = np.argsort(im_a, kind="stable")  # modes ascending within an image
            self.indices = owner[order]
            self.indptr = np.zeros(n_images + 1, dtype=np.int64)
            np.cumsum(np.bincount(im_a, minlength=n_images), out=self.indptr[1:])
            self.mode_indptr = mo_a
            self.mode_images = im_a
            return
        mo, im = mode_offsets.tolist(), images.tolist()
        counts = [0] * (n_images + 1)
        for img in im:
            counts[img + 1] += 1
        for k in range(n_images):
            counts[k + 1] += counts[k]
        fill = counts[:-1]
        idx = [0] * len(im)
        for mode in range(n_modes):
            for j in range(mo[mode], mo[mode + 1]):
                img = im[j]
                idx[fill[img]] = mode
                fill[img] += 1
        self.indptr, self.indices, self.mode_indptr, self.mode_images = counts, idx, mo, im

    def modes_of(self, image: int) -> List[int]:
        """Indices of the modes image ``image`` belongs to."""
        return [int(v) for v in self.indices[self.indptr[image]:self.indptr[image + 1]]]

    def images_of(self, mode: int) -> List[int]:
        """Indices of the images of mode ``mode``."""
        return [int(v) for v in self.mode_images[self.mode_indptr[mode]:
                                                 self.mode_indptr[mode + 1]]]

    def to_scipy(self, sp: Any = None) -> Any:
        """The matrix as a ``scipy.sparse.csr_array`` of int8 ones."""
        if sp is None:
            import scipy.sparse
            sp = scipy.sparse
        import numpy as np
        data = np.ones(len(self.indices), dtype=np.int8)
        return sp.csr_array((data, np.asarray(self.indices), np.asarray(self.indptr)),
                            shape=self.shape)

    def __repr__(self) -> str:
        return "<libprime.Membership images=%d modes=%d entries=%d>" % (
            self.shape[0], self.shape[1], len(self.indices))


def _numpy_for(want: Optional[bool]) -> Any:
    """NumPy if wanted (None: if installed); ImportError if True and missing."""
    if want is False:
        return None
    try:
        import numpy
    except ImportError:
        if want:
            raise
        return None
    return numpy


def _pandas(what: str) -> Any:
    try:
        import pandas  # type: ignore[import]
    except ImportError as e:  # pragma: no cover - depends on the system
        raise ImportError("%s needs pandas (apt-get install python3-pandas)" % what) from e
    return pandas


ProgressFn = Callable[[int, int], Optional[bool]]



class _SigintFlag:
    """While active in the main thread, SIGINT only sets a flag (no
    exception is raised inside a ctypes callback); the caller checks
    :attr:`hit` and raises KeyboardInterrupt itself once the C call is
    over. Elsewhere (another thread, or a SIGINT handler that is not
    Python's default) it does nothing."""

    def __init__(self) -> None:
        self.hit = False
        self._old: Any = None
        self._active = False

    def __enter__(self) -> "_SigintFlag":
        if threading.current_thread() is threading.main_thread():
            try:
                old = signal.getsignal(signal.SIGINT)
                if old is signal.default_int_handler:
                    signal.signal(signal.SIGINT, self._handler)
                    self._old, self._active = old, True
            except (ValueError, OSError):  # pragma: no cover - embedded interpreters
                pass
        return self

    def _handler(self, signum: int, frame: Any) -> None:
        self.hit = True

    def __exit__(self, *exc: Any) -> None:
        if self._active:
            signal.signal(signal.SIGINT, self._old)
            self._active = False


def _interruptible(call: Callable[[], Any], cleanup: Optional[Callable[[Any], None]] = None
                   ) -> Any:
    """Run a long C call so that Ctrl-C interrupts the caller within a few
    hundredths of a second: in the main thread, the call runs in a helper
    thread while the main thread waits (interruptibly). On KeyboardInterrupt
    the C call finishes in the background (its handles stay borrowed until
    then, so nothing is freed under it), ``cleanup`` releases what it
    returns, and KeyboardInterrupt propagates. Elsewhere the call runs
    directly."""
    if threading.current_thread() is not threading.main_thread():
        return call()
    box: List[Any] = []
    done = threading.Event()
    abandoned = [False]
    lock = threading.Lock()

    def run() -> None:
        try:
            r = call()
            if isinstance(r, int) and r < 0:
                # the message is per thread: carry it to the caller
                st = _Status(r)
                st.detail = last_error()
                r = st
            box.append((True, r))
        except BaseException as e:  # noqa: B902 - handed to the caller
            box.append((False, e))
        with lock:
            done.set()
            late = abandoned[0]
        if late and box[0][0] and cleanup is not None:
            try:
                cleanup(box[0][1])
            except Exception:  # pragma: no cover
                pass

    t = threading.Thread(target=run, name="libprime-call", daemon=True)
    t.start()
    try:
        while not done.wait(0.05):
            pass
    except BaseException:
        with lock:
            if not done.is_set():
                abandoned[0] = True
        if abandoned[0]:
            raise
        # finished meanwhile: release its result and propagate the interrupt
        if box and box[0][0] and cleanup is not None:
            cleanup(box[0][1])
        raise
    ok, value = box[0]
    if not ok:
        raise value
    return value


def search(store: TagStore, outcomes: Outcomes, config: Optional[Config] = None, *,
           progress: Optional[ProgressFn] = None, **params: Any) -> Result:
    """Run the exhaustive PRIME search and return a :class:`Result`.

    ``store`` must be frozen and ``outcomes`` hold one value per image.
    Parameters come from ``config`` and/or keyword arguments
    (``search(store, outcomes, min_size=20, max_tags=3)``); keywords override
    ``config`` without changing it. ``progress(done, total)`` is called from
    this thread about every 20 ms; returning True cancels
    (:class:`CancelledError`), and an exception raised in it cancels the
    search and is re-raised. The GIL is released while the C search runs.
    Ctrl-C (in the main thread) stops the search within about 20 ms and
    raises KeyboardInterrupt, with or without ``progress``; the handles stay
    usable. While the search runs, ``store``, ``outcomes`` and ``config``
    are borrowed: closing them from another thread waits for the search,
    closing them from ``progress`` raises :class:`BusyError`, and modifying
    them waits (another thread) or raises (``progress``).
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
    out = _new(L.ResultP)
    try:
        with _SigintFlag() as sig:
            def _cb(_user: Any, done: int, total: int) -> int:
                # never lets an exception escape into ctypes: the return
                # value is the only way to stop
                try:
                    if sig.hit or raised:
                        return 1
                    if progress is not None and progress(int(done), int(total)):
                        return 1
                    return 0
                except BaseException as e:  # noqa: B902 - re-raised below
                    raised.append(e)
                    return 1
            cb = L.PROGRESS_FN(_cb)
            st = _l().prime_search(store._p(), outcomes._p(),
                                   cfg._p() if cfg is not None else None, cb, None, byref(out))
    finally:
        if own and cfg is not None:
            cfg.close()
    if raised or sig.hit:
        if out:
            _l().prime_result_destroy(out)
        if raised:
            raise raised[0]
        raise KeyboardInterrupt
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


def _tag_array(store: TagStore, tags: Union[TagRef, Iterable[TagRef]]
               ) -> Tuple[Any, int, List[int]]:
    _need(store, TagStore, "store")
    if isinstance(tags, (str, bytes)):
        # one tag name or "a|b" (as add_image takes them), never its letters
        text = tags.decode("utf-8") if isinstance(tags, bytes) else tags
        tags = [t for t in text.split("|") if t]
    elif isinstance(tags, int):
        tags = [tags]
    ids = [store._tag_id(t) for t in tags]
    return ((c_uint32 * len(ids))(*ids) if ids else None), len(ids), ids


def query(store: TagStore, outcomes: Outcomes, tags: Union[TagRef, Iterable[TagRef]] = (),
          klass: ClassRef = None) -> QueryStats:
    """Statistics of any tag set (names or ids; one name or ``"a|b"`` as a
    string) in a class (name, id, or None for all images): size, sum of
    outcomes, accuracy, class accuracy."""
    _need(outcomes, Outcomes, "outcomes")
    arr, n, _ = _tag_array(store, tags)
    size, cor, acc, cacc = c_uint64(), c_double(), c_double(), c_double()
    _check(_l().prime_query(store._p(), outcomes._p(), store._class_id(klass), arr, n, byref(size),
                            byref(cor), byref(acc), byref(cacc)))
    return QueryStats(int(size.value), cor.value, acc.value, cacc.value)


def query_parents(store: TagStore, outcomes: Outcomes, tags: Union[TagRef, Sequence[TagRef]],
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


def from_dataframe(df: Any, *, image: Optional[str] = "image", klass: str = "class",
                   tags: str = "tags", outcomes: Optional[str] = "correct",
                   label: Optional[str] = None, prediction: Optional[str] = None
                   ) -> Tuple[TagStore, Outcomes]:
    """A frozen :class:`TagStore` and its :class:`Outcomes` from one pandas
    DataFrame: the image, class and tags columns as
    :meth:`TagStore.from_dataframe`, and the outcomes either from the
    column ``outcomes`` (0/1 or scores in [0, 1]) or, when ``label`` and
    ``prediction`` name columns, from :meth:`Outcomes.from_labels` (any
    hashable labels)."""
    store = TagStore.from_dataframe(df, image=image, klass=klass, tags=tags)
    try:
        if label is not None or prediction is not None:
            if label is None or prediction is None:
                raise ValueError("label and prediction name two columns; give both")
            out = Outcomes.from_labels(df[label], df[prediction])
        elif outcomes is not None:
            col = df[outcomes].to_numpy()
            if col.dtype.kind not in "biuf":
                raise TypeError("outcomes column %r must be numeric, not %s"
                                % (outcomes, col.dtype))
            out = Outcomes(col.astype("float64"))
        else:
            raise ValueError("give the outcomes column, or label and prediction columns")
    except BaseException:
        store.close()
        raise
    return store, out


def _set_module(ns: Dict[str, Any]) -> None:
    """Public classes report ``libprime`` as their module (pickling, repr)."""
    for v in list(ns.values()):
        if isinstance(v, type) and v.__module__ == __name__ and not v.__name__.startswith("_"):
            v.__module__ = "libprime"


_set_module(globals())
