"""Decoded images and model preprocessing (include/prime/image.h), Pythonically."""
from __future__ import annotations

import array
import ctypes
import sys
from ctypes import POINTER, byref, c_float, c_size_t, c_uint8
from typing import Any, Optional, Union

from . import _lib as L
from ._core import PathLike, _check, _dec, _Handle, _l, _path

__all__ = ["Image", "ImageSpec"]

_PRESETS = {"ram": L.PRIME_IMAGE_PRESET_RAM, "clip": L.PRIME_IMAGE_PRESET_CLIP,
            "imagenet": L.PRIME_IMAGE_PRESET_IMAGENET}
_FORMATS = {L.PRIME_IMAGE_FORMAT_NONE: "none", L.PRIME_IMAGE_FORMAT_JPEG: "jpeg",
            L.PRIME_IMAGE_FORMAT_PNG: "png", L.PRIME_IMAGE_FORMAT_BMP: "bmp",
            L.PRIME_IMAGE_FORMAT_TGA: "tga", L.PRIME_IMAGE_FORMAT_GIF: "gif"}


def _numpy() -> Any:
    np = sys.modules.get("numpy")
    if np is None:
        try:
            import numpy as np
        except ImportError:
            return None
    return np


class ImageSpec(_Handle):
    """A preprocessing spec (``prime_image_spec``) holding a preset:
    ``"clip"``, ``"ram"`` or ``"imagenet"``."""

    _kind = "ImageSpec"

    def __init__(self, preset: Union[str, int] = "clip") -> None:
        p = _PRESETS.get(preset, preset) if isinstance(preset, str) else int(preset)
        if isinstance(p, str):
            raise ValueError("preset must be one of %s, not %r" % (sorted(_PRESETS), preset))
        ptr = L.ImageSpecP()
        _check(_l().prime_image_spec_create(p, byref(ptr)))
        super().__init__(ptr, _l().prime_image_spec_destroy)


def _jpeg_draft_spec(value: "Union[ImageSpec, str, None]") -> Optional[ImageSpec]:
    """The spec to pass as ``prime_files_options.jpeg_draft`` for the
    ``jpeg_draft`` argument of the files calls: None for None; else a new
    spec (the caller closes it) with the resize setting of ``value`` (an
    ImageSpec or a preset name) and the draft on, so that the caller's spec
    is not changed. TypeError for another type (a bool included: the draft
    needs the model's input size), ValueError for an unknown preset name;
    RuntimeError when the loaded library is older than 1.3 (it would ignore
    the option)."""
    if value is None:
        return None
    if not isinstance(value, (ImageSpec, str)):
        raise TypeError("jpeg_draft must be None (full-size decoding), a libprime.ImageSpec or a "
                        "preset name (%s) whose resize size the JPEGs may be decoded down to, "
                        "not %s" % (", ".join(sorted(_PRESETS)), type(value).__name__))
    lib = _l()
    have = int(lib.prime_version_number())
    if have < L.FILES_OPTIONS_V2_SINCE:
        raise RuntimeError("jpeg_draft needs libprime 1.3 or later; the loaded %s is %s"
                           % (L.library_path(), _dec(lib.prime_version())))
    if isinstance(value, str):
        if value not in _PRESETS:
            raise ValueError("jpeg_draft: preset must be one of %s, not %r"
                             % (sorted(_PRESETS), value))
        spec = ImageSpec(value)
    else:
        mode, side, w, h = ctypes.c_int32(), ctypes.c_uint32(), ctypes.c_uint32(), \
            ctypes.c_uint32()
        _check(lib.prime_image_spec_get_resize(value._p(), byref(mode), byref(side), byref(w),
                                               byref(h)))
        spec = ImageSpec("clip")
        try:
            _check(lib.prime_image_spec_set_resize(spec._p(), mode.value, side.value, w.value,
                                                   h.value))
        except BaseException:
            spec.close()
            raise
    try:
        _check(lib.prime_image_spec_set_jpeg_draft(spec._p(), 1))
    except BaseException:
        spec.close()
        raise
    return spec


class Image(_Handle):
    """An 8-bit RGB image (``prime_image``)::

        with libprime.Image.load("cat.jpg") as im:
            x = im.preprocess("clip")   # float32 (1, 3, 224, 224) NumPy array

    Raises :class:`PrimeIOError` for an unreadable file, :class:`FormatError`
    for a corrupt one, :class:`LimitError` for one over ``max_pixels``.
    """

    _kind = "Image"

    def __init__(self, *, _ptr: Any) -> None:
        super().__init__(_ptr, _l().prime_image_destroy)

    @classmethod
    def load(cls, path: PathLike, max_pixels: int = 0) -> "Image":
        """Decode a JPEG, PNG, BMP, TGA or GIF (first frame) file."""
        ptr = L.ImageP()
        _check(_l().prime_image_load(_path(path), int(max_pixels), byref(ptr)))
        return cls(_ptr=ptr)

    @classmethod
    def from_bytes(cls, data: bytes, name: Optional[str] = None, max_pixels: int = 0) -> "Image":
        """Decode an image file held in memory (name is used in messages)."""
        data = bytes(data)
        ptr = L.ImageP()
        nm = name.encode("utf-8") if name is not None else None
        _check(_l().prime_image_load_memory(data, len(data), nm, int(max_pixels), byref(ptr)))
        return cls(_ptr=ptr)

    @classmethod
    def from_rgb(cls, width: int, height: int, rgb: Optional[bytes] = None) -> "Image":
        """An image from width x height RGB triples, row by row (None: black)."""
        width, height = int(width), int(height)
        buf = None
        if rgb is not None:
            rgb = bytes(rgb)
            if len(rgb) != 3 * width * height:
                raise ValueError("rgb holds %d bytes, not 3 x %d x %d" % (len(rgb), width,
                                                                         height))
            buf = (c_uint8 * len(rgb)).from_buffer_copy(rgb)
        ptr = L.ImageP()
        _check(_l().prime_image_create(width, height, buf, byref(ptr)))
        return cls(_ptr=ptr)

    @classmethod
    def from_array(cls, pixels: Any) -> "Image":
        """An image from a NumPy uint8 array of shape (height, width, 3); the
        pixels are passed by pointer (the library copies them once)."""
        np = _numpy()
        if np is None:
            raise RuntimeError("Image.from_array needs NumPy")
        src = np.asarray(pixels)
        if src.dtype != np.uint8:
            if src.dtype.kind not in "iu":
                raise TypeError("pixels must be an integer array (uint8, 0..255), not %s: convert "
                                "floats explicitly, e.g. (a * 255).round().astype(numpy.uint8)"
                                % src.dtype)
            if src.size and (int(src.min()) < 0 or int(src.max()) > 255):
                raise ValueError("pixel values must be in 0..255, not %d..%d"
                                 % (int(src.min()), int(src.max())))
        arr = np.ascontiguousarray(src, dtype=np.uint8)
        if arr.ndim != 3 or arr.shape[2] != 3:
            raise ValueError("pixels must have shape (height, width, 3), not %s" % (arr.shape,))
        ptr = L.ImageP()
        _check(_l().prime_image_create(int(arr.shape[1]), int(arr.shape[0]),
                                       arr.ctypes.data_as(POINTER(c_uint8)), byref(ptr)))
        return cls(_ptr=ptr)

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(_l().prime_image_width(self._p()))

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(_l().prime_image_height(self._p()))

    @property
    def size(self) -> "tuple[int, int]":
        """(width, height)."""
        return self.width, self.height

    @property
    def format(self) -> str:
        """The file format it was decoded from ("jpeg", "png", ...; "none" when made)."""
        f = int(_l().prime_image_format(self._p()))
        return _FORMATS.get(f, str(f))

    def tobytes(self) -> bytes:
        """The pixels: 3 x width x height bytes, RGB, row by row."""
        n = 3 * self.width * self.height
        buf = (c_uint8 * n)()
        need = c_size_t()
        _check(_l().prime_image_copy_pixels(self._p(), buf, n, byref(need)))
        return bytes(buf)

    def to_array(self) -> Any:
        """The pixels as a NumPy uint8 array of shape (height, width, 3)."""
        np = _numpy()
        if np is None:
            raise RuntimeError("Image.to_array needs NumPy")
        arr = np.empty((self.height, self.width, 3), dtype=np.uint8)
        _check(_l().prime_image_copy_pixels(self._p(), arr.ctypes.data_as(POINTER(c_uint8)),
                                            arr.size, None))
        return arr

    def preprocess(self, spec: Union[ImageSpec, str] = "clip", *, as_array: bool = True) -> Any:
        """Resize, crop and normalise as the spec (or preset name) says: a
        float32 NumPy array of shape (1, 3, H, W) (NCHW) when NumPy is
        installed and ``as_array``; else ``(array.array('f'), (3, H, W))``."""
        own = not isinstance(spec, ImageSpec)
        sp: ImageSpec = spec if isinstance(spec, ImageSpec) else ImageSpec(spec)
        try:
            lib = _l()
            need = c_size_t(0)
            st = lib.prime_image_preprocess(self._p(), sp._p(), None, 0, byref(need))
            if st not in (L.PRIME_OK, L.PRIME_E_BUFFER_TOO_SMALL):
                _check(st)
            n = need.value
            w = c_size_t()
            # W and H of the output: from the spec's resize settings
            mode, s, ow, oh = ctypes.c_int32(), ctypes.c_uint32(), ctypes.c_uint32(), \
                ctypes.c_uint32()
            _check(lib.prime_image_spec_get_resize(sp._p(), byref(mode), byref(s), byref(ow),
                                                   byref(oh)))
            shape = (3, int(oh.value), int(ow.value))
            if 3 * shape[1] * shape[2] != n:  # pragma: no cover - defensive
                raise RuntimeError("unexpected preprocess size %d for %s" % (n, shape))
            np = _numpy() if as_array else None
            if np is not None:
                arr = np.empty((1,) + shape, dtype=np.float32)
                _check(lib.prime_image_preprocess(self._p(), sp._p(),
                                                  arr.ctypes.data_as(POINTER(c_float)), n,
                                                  byref(w)))
                return arr
            out = array.array("f", bytes(4 * n))
            addr, _ = out.buffer_info()
            _check(lib.prime_image_preprocess(self._p(), sp._p(),
                                              ctypes.cast(addr, POINTER(c_float)), n, byref(w)))
            return out, shape
        finally:
            if own:
                sp.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Image (closed)>"
        return "<libprime.Image %dx%d %s>" % (self.width, self.height, self.format)
