"""libprime: find and explain where an image classifier fails, in words.

A pure-Python (ctypes) binding of the libprime C library (PRIME, ICLR 2024)::

    import libprime
    with libprime.TagStore.load("tags.csv") as store, \\
         libprime.Outcomes.load("outcomes.csv", store) as outcomes:
        result = libprime.search(store, outcomes, min_size=30, max_tags=4)
        for mode in result:
            print(mode.class_name, mode.tags, mode.size, round(mode.drop, 3))
        open("modes.json", "w").write(result.to_json())

The shared library is found through the environment variable
``PRIME_LIBRARY``, then pkg-config, then :func:`ctypes.util.find_library`
(see :mod:`libprime._lib`). Every C function is declared in
``libprime._lib.FUNCTIONS``; the raw declared library is :func:`lib`.
"""
from __future__ import annotations

import ctypes

from . import _lib
from ._core import (BufferTooSmallError, CancelledError, ClassStats, Config, DuplicateError,
                    FailureMode, FileNotFoundPrimeError, FormatError, InvalidArgumentError,
                    IsADirectoryPrimeError, LimitError, Membership, MismatchError,
                    NoMemoryError, NotFoundError, Outcomes, ParamInfo, ParentStats, ParseError,
                    PermissionPrimeError, PrimeError, PrimeIOError, QueryStats, RangeError,
                    Result, StateError, TagStore, ThreadError, error_for, from_dataframe,
                    last_error, param_info, param_names, query, query_parents, search, shard_list_id, shard_range, shard_resolve, version,
                    version_number)
from ._lib import BusyError
from ._eval import (EVAL_Z95, Eval, EvalMode, EvalSummary, ModeStats, ParentMeasure, bh,
                    hypergeom_lower, mann_whitney_lower, pearson, spearman, wilson)
from ._image import Image, ImageSpec
from ._lib import PRIME_NONE, find_library, library_path
from ._quality import ClassMetrics, Embeddings, GroupMetrics, Quality
from ._tagger import Tagger
from ._tokenizer import (TOKENIZER_CONTEXT, TOKENIZER_END, TOKENIZER_START,
                         TOKENIZER_VOCAB_SIZE, Tokenizer)

__version__ = "1.3.0"

__all__ = [
    "BufferTooSmallError", "CancelledError", "ClassStats", "Config", "DuplicateError",
    "FailureMode", "FormatError", "InvalidArgumentError", "LimitError", "MismatchError",
    "NoMemoryError", "NotFoundError", "Outcomes", "ParamInfo", "ParentStats", "ParseError",
    "PrimeError", "PrimeIOError", "QueryStats", "RangeError", "Result", "StateError", "TagStore",
    "ThreadError", "error_for", "last_error", "param_info", "param_names", "query",
    "query_parents", "search", "shard_list_id", "shard_range", "shard_resolve", "version",
    "version_number", "PRIME_NONE", "find_library",
    "library_path", "lib", "load_library",
    # issue 13: handle safety, I/O errors, membership, DataFrames
    "BusyError", "FileNotFoundPrimeError", "IsADirectoryPrimeError", "PermissionPrimeError",
    "Membership", "from_dataframe",
    # include/prime/tokenizer.h
    "Tokenizer", "TOKENIZER_CONTEXT", "TOKENIZER_END", "TOKENIZER_START", "TOKENIZER_VOCAB_SIZE",
    # include/prime/eval.h
    "Eval", "EvalMode", "EvalSummary", "ModeStats", "ParentMeasure", "EVAL_Z95", "bh",
    "hypergeom_lower", "mann_whitney_lower", "pearson", "spearman", "wilson",
    # include/prime/image.h, include/prime/backend.h
    "Image", "ImageSpec", "Tagger",
    # include/prime/quality.h
    "ClassMetrics", "Embeddings", "GroupMetrics", "Quality",
]


for _name in __all__:
    _obj = globals().get(_name)
    if isinstance(_obj, type) and _obj.__module__.startswith("libprime."):
        _obj.__module__ = "libprime"
del _name, _obj


def lib() -> _lib.Library:
    """The loaded C library with every function's argtypes/restype declared."""
    return _lib.load()


def load_library(path: str) -> _lib.Library:
    """Load libprime from ``path`` (before any other call; later calls keep
    the library already loaded)."""
    return _lib.load(path)
