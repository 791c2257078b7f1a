"""Taggers (include/prime/backend.h): the model-free properties tagger, Pythonically."""
from __future__ import annotations

from ctypes import byref, c_char_p, c_double, c_uint32
from typing import Any, List, Optional, Sequence, Union

from . import _lib as L
from ._core import (PathLike, TagStore, _check, _dec, _enc, _Handle, _l, _need, _path,
                    _SigintFlag)
from ._image import ImageSpec, _jpeg_draft_spec

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
                  batch: int = 0, max_pixels: int = 0,
                  jpeg_draft: Union[ImageSpec, str, None] = None) -> int:
        """Decode and tag image files into a mutable store, image i with class
        classes[i] and name names[i] (default: its path). Returns the number
        of files that could not be decoded (they are skipped, not raised;
        see :meth:`tag_files_strict`). Other failures raise.

        ``jpeg_draft`` (libprime 1.3; ``prime tag --jpeg-draft on|off``):
        None, the default, decodes every file at full size (PIL's pixels
        without ``draft``). An :class:`ImageSpec` or a preset name
        (``"clip"``, ``"ram"``, ``"imagenet"``) decodes each JPEG at the
        reduced DCT scale (1/2, 1/4 or 1/8) that the spec's resize size
        allows, as PIL's ``img.draft("RGB", size)`` does, and hands the
        backend the reduced image (docs/images.md, "The JPEG draft"): much
        faster for large photos. Only the spec's resize setting is read; it
        is not changed. ``prime tag`` turns the draft on by default for its
        model backends (torch, zeroshot); the properties tagger's sharpness
        and noise depend on scale, and the command measures the full image
        (as the default here). TypeError for another type (``True``
        included), ValueError for an unknown preset name, RuntimeError
        when the loaded library is older than 1.3 (which would ignore it).
        """
        return self._tag(paths, classes, store, names, threads, batch, max_pixels, jpeg_draft,
                         False)

    def tag_files_strict(self, paths: Sequence[PathLike], classes: Sequence[str],
                         store: TagStore, names: Optional[Sequence[Optional[str]]] = None, *,
                         threads: int = 0, batch: int = 0, max_pixels: int = 0,
                         jpeg_draft: Union[ImageSpec, str, None] = None) -> None:
        """As :meth:`tag_files`, but a file that cannot be decoded raises the
        :class:`PrimeError` of the first such file (naming it)."""
        self._tag(paths, classes, store, names, threads, batch, max_pixels, jpeg_draft, True)

    def _tag(self, paths: Sequence[PathLike], classes: Sequence[str], store: TagStore,
             names: Optional[Sequence[Optional[str]]], threads: int, batch: int,
             max_pixels: int, jpeg_draft: Union[ImageSpec, str, None], strict: bool) -> int:
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
        draft = _jpeg_draft_spec(jpeg_draft)
        # Ctrl-C stops after the current batch and raises KeyboardInterrupt
        # (the images tagged so far stay in the store)
        try:
            with _SigintFlag() as sig:
                def _cb(_user: Any, done: int, total: int) -> int:
                    return 1 if sig.hit else 0
                cb = L.PROGRESS_FN(_cb)
                # version 1 unless the draft is asked for (libprime 1.3)
                opts = L.FilesOptions(struct_size=L.PRIME_FILES_OPTIONS_SIZE_V1,
                                      threads=int(threads), batch=int(batch),
                                      max_pixels=int(max_pixels), image_names=cn, progress=cb)
                if draft is not None:
                    opts.struct_size = L.PRIME_FILES_OPTIONS_SIZE_V2
                    opts.jpeg_draft = draft._p()
                st = _l().prime_tagger_tag_files(self._p(), cp, cc, n, byref(opts), store._p(),
                                                 byref(failed))
        finally:
            if draft is not None:
                draft.close()
        if sig.hit:
            raise KeyboardInterrupt
        if st != L.PRIME_OK and (strict or failed.value == 0):
            _check(st)
        return int(failed.value)

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Tagger (closed)>"
        return "<libprime.Tagger %s, %d tags>" % (self.name, len(self.tags))
