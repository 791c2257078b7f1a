"""Taggers (include/prime/backend.h): the model-free properties tagger, Pythonically."""
from __future__ import annotations

import ctypes
from ctypes import byref, c_char_p, c_double, c_uint32
from typing import Any, List, Optional, Sequence

from . import _lib as L
from ._core import (PathLike, TagStore, _check, _dec, _enc, _Handle, _l, _need, _path,
                    _SigintFlag)

__all__ = ["Tagger"]


class Tagger(_Handle):
    """A tagger (``prime_tagger``). :meth:`properties` gives the model-free
    image-property tagger that ``prime tag --backend properties`` uses::

        with libprime.Tagger.properties() as tagger, libprime.TagStore() as store:
            failed = tagger.tag_files(["a/1.png", "b/2.png"], ["a", "b"], store)
            store.freeze()
    """

    _kind = "Tagger"

    def __init__(self, *, _ptr: object) -> None:
        super().__init__(_ptr, _l().prime_tagger_destroy)

    @classmethod
    def properties(cls) -> "Tagger":
        """The properties tagger (dark, bright, ..., dominant colour names)."""
        ptr = L.TaggerP()
        _check(_l().prime_properties_tagger_create(byref(ptr)))
        return cls(_ptr=ptr)

    @property
    def name(self) -> str:
        """The backend's name, e.g. ``"properties"``."""
        return _dec(_l().prime_tagger_name(self._p()))

    @property
    def tags(self) -> List[str]:
        """The tag vocabulary, in the backend's order."""
        lib = _l()
        p = self._p()
        return [_dec(lib.prime_tagger_tag_name(p, j))
                for j in range(int(lib.prime_tagger_tag_count(p)))]

    def set_threshold(self, threshold: float) -> None:
        """One score threshold for every tag."""
        _check(_l().prime_tagger_set_threshold(self._p(), float(threshold)))

    def threshold(self, tag: int) -> float:
        """The threshold of tag number ``tag``."""
        v = c_double()
        _check(_l().prime_tagger_get_threshold(self._p(), int(tag), byref(v)))
        return v.value

    def set_top_k(self, k: int) -> None:
        """Keep at most k tags per image (0: no limit)."""
        _check(_l().prime_tagger_set_top_k(self._p(), int(k)))

    def tag_files(self, paths: Sequence[PathLike], classes: Sequence[str], store: TagStore,
                  names: Optional[Sequence[Optional[str]]] = None, *, threads: int = 0,
                  batch: int = 0, max_pixels: int = 0) -> int:
        """Decode and tag image files into a mutable store, image i with class
        classes[i] and name names[i] (default: its path). Returns the number
        of files that could not be decoded (they are skipped, not raised;
        see :meth:`tag_files_strict`). Other failures raise.
        """
        return self._tag(paths, classes, store, names, threads, batch, max_pixels, False)

    def tag_files_strict(self, paths: Sequence[PathLike], classes: Sequence[str],
                         store: TagStore, names: Optional[Sequence[Optional[str]]] = None, *,
                         threads: int = 0, batch: int = 0, max_pixels: int = 0) -> None:
        """As :meth:`tag_files`, but a file that cannot be decoded raises the
        :class:`PrimeError` of the first such file (naming it)."""
        self._tag(paths, classes, store, names, threads, batch, max_pixels, True)

    def _tag(self, paths: Sequence[PathLike], classes: Sequence[str], store: TagStore,
             names: Optional[Sequence[Optional[str]]], threads: int, batch: int,
             max_pixels: int, strict: bool) -> int:
        _need(store, TagStore, "store")
        n = len(paths)
        if len(classes) != n or (names is not None and len(names) != n):
            raise ValueError("paths, classes and names must have the same length")
        cp = (c_char_p * max(n, 1))(*[_path(p) for p in paths])
        cc = (c_char_p * max(n, 1))(*[_enc(c, "class") for c in classes])
        cn = None
        if names is not None:
            cn = (c_char_p * max(n, 1))(*[None if x is None else _enc(x, "image name")
                                          for x in names])
        failed = c_uint32(0)
        # Ctrl-C stops after the current batch and raises KeyboardInterrupt
        # (the images tagged so far stay in the store)
        with _SigintFlag() as sig:
            def _cb(_user: Any, done: int, total: int) -> int:
                return 1 if sig.hit else 0
            cb = L.PROGRESS_FN(_cb)
            opts = L.FilesOptions(struct_size=ctypes.sizeof(L.FilesOptions),
                                  threads=int(threads), batch=int(batch),
                                  max_pixels=int(max_pixels), image_names=cn, progress=cb)
            st = _l().prime_tagger_tag_files(self._p(), cp, cc, n, byref(opts), store._p(),
                                             byref(failed))
        if sig.hit:
            raise KeyboardInterrupt
        if st != L.PRIME_OK and (strict or failed.value == 0):
            _check(st)
        return int(failed.value)

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Tagger (closed)>"
        return "<libprime.Tagger %s, %d tags>" % (self.name, len(self.tags))
