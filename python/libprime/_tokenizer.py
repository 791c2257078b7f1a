"""CLIP's byte-pair-encoding tokenizer (include/prime/tokenizer.h), Pythonically."""
from __future__ import annotations

import array
import ctypes
import sys
from ctypes import POINTER, byref, c_int32, c_int64, c_size_t, c_uint32
from typing import Any, List, Optional, Union

from . import _lib as L
from ._core import PathLike, _check, _Handle, _l, _path

__all__ = ["Tokenizer", "TOKENIZER_START", "TOKENIZER_END", "TOKENIZER_CONTEXT",
           "TOKENIZER_VOCAB_SIZE"]

#: Id of ``<|startoftext|>``.
TOKENIZER_START = L.PRIME_TOKENIZER_START
#: Id of ``<|endoftext|>``.
TOKENIZER_END = L.PRIME_TOKENIZER_END
#: Context length of CLIP's text encoders (77).
TOKENIZER_CONTEXT = L.PRIME_TOKENIZER_CONTEXT
#: Tokens in CLIP's vocabulary (49,408).
TOKENIZER_VOCAB_SIZE = L.PRIME_TOKENIZER_VOCAB_SIZE


def _text(text: Union[str, bytes]) -> bytes:
    """UTF-8 bytes of text; NULs are allowed (the length is passed)."""
    if isinstance(text, str):
        return text.encode("utf-8", "surrogatepass")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("text must be str or bytes, not %s" % type(text).__name__)


class Tokenizer(_Handle):
    """A CLIP byte-pair-encoding tokenizer (``prime_tokenizer``).

    Read-only once created; one tokenizer may be used by many threads::

        with libprime.Tokenizer("data/clip/bpe_simple_vocab_16e6.txt.gz") as tok:
            tok.encode("a photo of a dog")          # [320, 1125, 539, 320, 1929]
            tok.encode_context("a photo of a dog")  # 77 ids: start, ..., end, zeros

    Raises :class:`PrimeIOError` for an unreadable file, :class:`FormatError`
    for corrupt gzip data, :class:`ParseError` for a file that is not a
    merges file.
    """

    _kind = "tokenizer"

    def __init__(self, bpe_path: PathLike) -> None:
        ptr = L.TokenizerP()
        _check(_l().prime_tokenizer_create(_path(bpe_path), byref(ptr)))
        super().__init__(ptr, _l().prime_tokenizer_destroy)

    @classmethod
    def from_bytes(cls, data: bytes, name: Optional[str] = None) -> "Tokenizer":
        """A tokenizer from a merges file held in memory (gzip or plain text);
        name is used in error messages (``"<memory>"`` when None)."""
        data = bytes(data)
        ptr = L.TokenizerP()
        nm = name.encode("utf-8") if name is not None else None
        _check(_l().prime_tokenizer_create_memory(data, len(data), nm, byref(ptr)))
        self = cls.__new__(cls)
        _Handle.__init__(self, ptr, _l().prime_tokenizer_destroy)
        return self

    @property
    def vocab_size(self) -> int:
        """Number of tokens in the vocabulary (49,408 for CLIP's merges file)."""
        return int(_l().prime_tokenizer_vocab_size(self._p()))

    def __len__(self) -> int:
        return self.vocab_size

    @staticmethod
    def clean(text: Union[str, bytes]) -> str:
        """CLIP's text cleaning alone (``prime_tokenizer_clean``): the text
        after ``ftfy.fix_text``, ``html.unescape`` twice and ``str.strip``, as
        CLIP's ``basic_clean`` gives it; every encode does this first::

            Tokenizer.clean("caf\u00c3\u00a9 &amp; don\u2019t")  # "caf\u00e9 & don't"

        Raises :class:`ParseError` for bytes that are not valid UTF-8.
        """
        b = _text(text)
        lib = _l()
        n = c_size_t(0)
        cap = 4 * len(b) + 16
        buf = ctypes.create_string_buffer(cap)
        st = lib.prime_tokenizer_clean(b, len(b), buf, cap, byref(n))
        if st == L.PRIME_E_BUFFER_TOO_SMALL:
            cap = n.value
            buf = ctypes.create_string_buffer(cap)
            st = lib.prime_tokenizer_clean(b, len(b), buf, cap, byref(n))
        _check(st)
        return buf.raw[:n.value].decode("utf-8")

    def encode(self, text: Union[str, bytes]) -> List[int]:
        """The token ids of text, without start/end tokens, padding or
        truncation (as CLIP's ``SimpleTokenizer.encode``).

        Raises :class:`ParseError` for bytes that are not valid UTF-8.
        """
        b = _text(text)
        lib = _l()
        p = self._p()
        n = c_size_t(0)
        cap = len(b) + 1  # never more ids than bytes
        buf = (c_int64 * cap)()
        st = lib.prime_tokenizer_encode(p, b, len(b), buf, cap, byref(n))
        if st == L.PRIME_E_BUFFER_TOO_SMALL:  # pragma: no cover - defensive
            cap = n.value
            buf = (c_int64 * cap)()
            st = lib.prime_tokenizer_encode(p, b, len(b), buf, cap, byref(n))
        _check(st)
        return buf[:n.value]

    def encode_context(self, text: Union[str, bytes], context: int = TOKENIZER_CONTEXT,
                       *, as_list: bool = False) -> Any:
        """Exactly ``context`` ids as ``clip.tokenize(text, context, truncate=True)[0]``:
        start, the text's ids, end, then zeros (truncated to keep the end token).

        Returns a NumPy int64 array of shape ``(context,)`` when NumPy is
        installed (and ``as_list`` is false), else a list of ints. Raises
        :class:`RangeError`/:class:`InvalidArgumentError` for a context under
        2 and :class:`ParseError` for invalid UTF-8.
        """
        ids, _, _ = self.encode_context_info(text, context, as_list=as_list)
        return ids

    def encode_context_info(self, text: Union[str, bytes],
                            context: int = TOKENIZER_CONTEXT, *,
                            as_list: bool = False) -> "tuple[Any, int, bool]":
        """As :meth:`encode_context`, with the number of ids before the padding
        (end token included) and whether the text was truncated."""
        context = int(context)
        if not 0 <= context <= 0xFFFFFFFF:
            raise ValueError("context %d out of range" % context)
        b = _text(text)
        np = None if as_list else sys.modules.get("numpy")
        if np is None and not as_list:
            try:
                import numpy as np
            except ImportError:
                np = None
        n_tok = c_uint32(0)
        trunc = c_int32(0)
        if np is not None:
            arr = np.zeros(max(context, 1), dtype=np.int64)
            ptr = arr.ctypes.data_as(POINTER(c_int64))
            _check(_l().prime_tokenizer_encode_context(self._p(), b, len(b), ptr, context,
                                                       byref(n_tok), byref(trunc)))
            return arr[:context], int(n_tok.value), bool(trunc.value)
        buf = array.array("q", bytes(8 * max(context, 1)))
        addr, _ = buf.buffer_info()
        _check(_l().prime_tokenizer_encode_context(
            self._p(), b, len(b), ctypes.cast(addr, POINTER(c_int64)), context,
            byref(n_tok), byref(trunc)))
        return buf.tolist()[:context], int(n_tok.value), bool(trunc.value)

    def __call__(self, text: Union[str, bytes], context: int = TOKENIZER_CONTEXT) -> Any:
        """Same as :meth:`encode_context`."""
        return self.encode_context(text, context)

    def __repr__(self) -> str:
        if self.closed:
            return "<libprime.Tokenizer (closed)>"
        return "<libprime.Tokenizer vocab_size=%d>" % self.vocab_size


