"""Low-level binding: finds libprime and declares every public C function.

Everything here mirrors the headers ``include/prime/*.h`` one to one. The Pythonic
layer lives in :mod:`libprime._core`; use this module only when you need a
function that layer does not wrap.

The library is searched for, in this order:

1. the environment variable ``PRIME_LIBRARY`` (a path to ``libprime.so``);
2. the directory ``meson install`` recorded in the generated ``_config.py``;
3. a wheel's ``.libprime.mesonpy.libs`` folder;
4. ``pkg-config --variable=libdir prime`` (``libprime.so.<ABI>`` there);
5. :func:`ctypes.util.find_library` (``"prime"``), then the soname itself.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import subprocess
import threading
import weakref
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_float, c_int32, c_int64,
                    c_size_t, c_uint8, c_uint32, c_uint64, c_void_p)
from typing import Any, Dict, List, Optional, Tuple

#: ABI major version (the soname) this package was written for.
ABI_MAJOR = 1

# Status codes (fixed forever; see prime.h).
PRIME_OK = 0
PRIME_E_INVALID_ARG = -1
PRIME_E_NOMEM = -2
PRIME_E_IO = -3
PRIME_E_PARSE = -4
PRIME_E_FORMAT = -5
PRIME_E_DUPLICATE = -6
PRIME_E_NOT_FOUND = -7
PRIME_E_STATE = -8
PRIME_E_MISMATCH = -9
PRIME_E_RANGE = -10
PRIME_E_CANCELLED = -11
PRIME_E_BUFFER_TOO_SMALL = -12
PRIME_E_LIMIT = -13
PRIME_E_THREAD = -14

PRIME_NONE = 0xFFFFFFFF
PRIME_MAX_TAG_NAME = 255
PRIME_MAX_TAGS_LIMIT = 16

PRIME_PARAM_MAX_TAGS = 100
PRIME_PARAM_MIN_SIZE = 200
PRIME_PARAM_MIN_DROP = 300
PRIME_PARAM_MIN_GAIN = 400
PRIME_PARAM_MIN_TAG_COUNT = 500
PRIME_PARAM_THREADS = 600
PRIME_PARAM_WHOLE_DATASET = 700
PRIME_PARAM_FOLD_EQUAL = 800
PRIME_PARAM_MAX_MODES = 900

PRIME_PARAM_TYPE_INT = 1
PRIME_PARAM_TYPE_DOUBLE = 2
PRIME_PARAM_TYPE_DOUBLE_LIST = 3

PRIME_FORMAT_JSON = 1
PRIME_FORMAT_CSV = 2
PRIME_FORMAT_TEXT = 3

# CLIP tokenizer (include/prime/tokenizer.h)
PRIME_TOKENIZER_VOCAB_SIZE = 49408
PRIME_TOKENIZER_START = 49406
PRIME_TOKENIZER_END = 49407
PRIME_TOKENIZER_CONTEXT = 77

# Evaluation (include/prime/eval.h)
PRIME_EVAL_Z95 = 1.959963984540054
PRIME_EVAL_TEST_FISHER = 1
PRIME_EVAL_TEST_MANN_WHITNEY = 2

# Description quality (include/prime/quality.h)
PRIME_EMBEDDINGS_MAX_DIM = 1048576

# Images (include/prime/image.h)
PRIME_IMAGE_DEFAULT_MAX_PIXELS = 268435456
PRIME_IMAGE_MAX_SIDE = 16777216
PRIME_IMAGE_FORMAT_NONE = 0
PRIME_IMAGE_FORMAT_JPEG = 1
PRIME_IMAGE_FORMAT_PNG = 2
PRIME_IMAGE_FORMAT_BMP = 3
PRIME_IMAGE_FORMAT_TGA = 4
PRIME_IMAGE_FORMAT_GIF = 5
PRIME_FILTER_BILINEAR = 1
PRIME_FILTER_BICUBIC = 2
PRIME_IMAGE_PRESET_RAM = 1
PRIME_IMAGE_PRESET_CLIP = 2
PRIME_IMAGE_PRESET_IMAGENET = 3
PRIME_RESIZE_SHORTER_CROP = 1
PRIME_RESIZE_EXACT = 2
PRIME_IMAGE_PROP_BRIGHTNESS = 0
PRIME_IMAGE_PROP_CONTRAST = 1
PRIME_IMAGE_PROP_SATURATION = 2
PRIME_IMAGE_PROP_COLORFULNESS = 3
PRIME_IMAGE_PROP_SHARPNESS = 4
PRIME_IMAGE_PROP_NOISE = 5
PRIME_IMAGE_PROP_GRAY_FRACTION = 6
PRIME_IMAGE_PROP_ASPECT = 7
PRIME_IMAGE_PROP_DOMINANT_COLOR = 8
PRIME_IMAGE_PROP_DOMINANT_SHARE = 9
PRIME_IMAGE_PROP_COUNT = 10
PRIME_IMAGE_COLOR_COUNT = 11

# Backends (include/prime/backend.h). The backend structs themselves are
# passed as c_void_p (build them with ctypes.Structure when needed).
PRIME_BACKEND_ABI_VERSION = 1
PRIME_TAGGER_BACKEND_SIZE_V1 = 56
PRIME_CLASSIFIER_BACKEND_SIZE_V1 = 56
PRIME_EMBEDDER_BACKEND_SIZE_V1 = 56


# Opaque handle types: distinct pointer types, so ctypes refuses a store
# where outcomes are expected.
class TagStoreStruct(ctypes.Structure):
    """``struct prime_tagstore`` (opaque)."""


class OutcomesStruct(ctypes.Structure):
    """``struct prime_outcomes`` (opaque)."""


class ConfigStruct(ctypes.Structure):
    """``struct prime_config`` (opaque)."""


class ResultStruct(ctypes.Structure):
    """``struct prime_result`` (opaque)."""


class ImageStruct(ctypes.Structure):
    """``struct prime_image`` (opaque; include/prime/image.h)."""


class ImageSpecStruct(ctypes.Structure):
    """``struct prime_image_spec`` (opaque)."""


class ImageBatchStruct(ctypes.Structure):
    """``struct prime_image_batch`` (opaque)."""


class TokenizerStruct(ctypes.Structure):
    """``struct prime_tokenizer`` (opaque; include/prime/tokenizer.h)."""


class EvalStruct(ctypes.Structure):
    """``struct prime_eval`` (opaque; include/prime/eval.h)."""


class TaggerStruct(ctypes.Structure):
    """``struct prime_tagger`` (opaque; include/prime/backend.h)."""


class ClassifierStruct(ctypes.Structure):
    """``struct prime_classifier`` (opaque; include/prime/backend.h)."""


class EmbedderStruct(ctypes.Structure):
    """``struct prime_embedder`` (opaque; include/prime/backend.h)."""


class EmbeddingsStruct(ctypes.Structure):
    """``struct prime_embeddings`` (opaque; include/prime/quality.h)."""


class QualityStruct(ctypes.Structure):
    """``struct prime_quality`` (opaque; include/prime/quality.h)."""


TagStoreP = POINTER(TagStoreStruct)
EmbeddingsP = POINTER(EmbeddingsStruct)
QualityP = POINTER(QualityStruct)
OutcomesP = POINTER(OutcomesStruct)
ConfigP = POINTER(ConfigStruct)
ResultP = POINTER(ResultStruct)
ImageP = POINTER(ImageStruct)
ImageSpecP = POINTER(ImageSpecStruct)
ImageBatchP = POINTER(ImageBatchStruct)
TokenizerP = POINTER(TokenizerStruct)
EvalP = POINTER(EvalStruct)
TaggerP = POINTER(TaggerStruct)
ClassifierP = POINTER(ClassifierStruct)
EmbedderP = POINTER(EmbedderStruct)


class WriterStruct(ctypes.Structure):
    """``struct prime_writer`` (opaque; include/prime/file.h)."""


class LabelsStruct(ctypes.Structure):
    """``struct prime_labels`` (opaque)."""


class PartialStruct(ctypes.Structure):
    """``struct prime_partial`` (opaque; include/prime/partial.h)."""


class LinesStruct(ctypes.Structure):
    """``struct prime_lines`` (opaque; include/prime/file.h)."""


class ClassReaderStruct(ctypes.Structure):
    """``struct prime_class_reader`` (opaque; include/prime/prime.h)."""


WriterP = POINTER(WriterStruct)
LabelsP = POINTER(LabelsStruct)
PartialP = POINTER(PartialStruct)
LinesP = POINTER(LinesStruct)
ClassReaderP = POINTER(ClassReaderStruct)

status_t = c_int32  # prime_status
param_t = c_int32   # prime_param

#: ``typedef int32_t (*prime_progress_fn)(void *, uint64_t, uint64_t)``
PROGRESS_FN = CFUNCTYPE(c_int32, c_void_p, c_uint64, c_uint64)


class ModeEvent(ctypes.Structure):
    """``prime_mode_event``: one mode of prime_search_stream."""
    _fields_ = [("class_id", c_uint32), ("n_tags", c_uint32), ("tags", POINTER(c_uint32)),
                ("size", c_uint64), ("correct", c_double), ("accuracy", c_double),
                ("class_accuracy", c_double), ("drop", c_double)]


#: ``typedef int32_t (*prime_mode_fn)(void *, const prime_mode_event *)``
MODE_FN = CFUNCTYPE(c_int32, c_void_p, POINTER(ModeEvent))


class ShardPart(ctypes.Structure):
    """``prime_shard_part`` (include/prime/sharded.h): images first .. first + count - 1
    of a store, with their outcomes."""
    _fields_ = [("store", c_void_p), ("outcomes", c_void_p), ("first", c_uint32),
                ("count", c_uint32)]


#: ``typedef int32_t (*prime_sum_fn)(void *, uint64_t *, uint64_t)``
SUM_FN = CFUNCTYPE(c_int32, c_void_p, POINTER(c_uint64), c_uint64)
SHARDED_SAVE_FN = CFUNCTYPE(c_int32, c_void_p, c_void_p, c_size_t, c_uint32)


#: ``typedef void (*prime_file_error_fn)(void *, uint32_t, prime_status, const char *)``
FILE_ERROR_FN = CFUNCTYPE(None, c_void_p, c_uint32, c_int32, c_char_p)


class FilesOptions(ctypes.Structure):
    """``prime_files_options`` (include/prime/backend.h), version 2 (libprime
    1.3: ``jpeg_draft``). Set ``struct_size`` to PRIME_FILES_OPTIONS_SIZE_V1
    unless ``jpeg_draft`` is used: a library before 1.3 reads only version 1
    (and would ignore the draft without a word, so the callers check the
    library's version before they set it)."""
    _fields_ = [("struct_size", c_uint32), ("threads", c_uint32), ("batch", c_uint32),
                ("max_pixels", c_uint64), ("image_names", POINTER(c_char_p)),
                ("on_error", FILE_ERROR_FN), ("progress", PROGRESS_FN),
                ("user_data", c_void_p), ("jpeg_draft", ImageSpecP)]


#: PRIME_FILES_OPTIONS_SIZE_V1 and _V2 (include/prime/backend.h): the size up
#: to and including ``user_data``, and ``jpeg_draft`` (libprime 1.3).
PRIME_FILES_OPTIONS_SIZE_V1 = FilesOptions.user_data.offset + ctypes.sizeof(c_void_p)
PRIME_FILES_OPTIONS_SIZE_V2 = FilesOptions.jpeg_draft.offset + ctypes.sizeof(c_void_p)
#: The first library version (prime_version_number) that reads version 2.
FILES_OPTIONS_V2_SINCE = 10300


_u32p = POINTER(c_uint32)
_u64p = POINTER(c_uint64)
_f64p = POINTER(c_double)
_i64p = POINTER(c_int64)
_i32p = POINTER(c_int32)
_u8p = POINTER(c_uint8)
_f32p = POINTER(c_float)

#: name -> (restype, argtypes) for every PRIME_API function of include/prime/*.h.
#: tests/python/test_declarations.py checks this table against the header.
FUNCTIONS: Dict[str, Tuple[object, List[object]]] = {
    # Version
    "prime_version_number": (c_uint32, []),
    "prime_version": (c_char_p, []),
    # Status and errors
    "prime_status_name": (c_char_p, [status_t]),
    "prime_status_message": (c_char_p, [status_t]),
    "prime_last_error": (c_char_p, []),
    "prime_last_error_copy": (c_size_t, [c_char_p, c_size_t]),
    "prime_clear_error": (None, []),
    # Tag store
    "prime_tagstore_create": (status_t, [POINTER(TagStoreP)]),
    "prime_tagstore_destroy": (None, [TagStoreP]),
    "prime_tagstore_intern_tag": (status_t, [TagStoreP, c_char_p, _u32p]),
    "prime_tagstore_intern_class": (status_t, [TagStoreP, c_char_p, _u32p]),
    "prime_tagstore_add_image": (status_t, [TagStoreP, c_char_p, c_uint32, _u32p,
                                            c_uint32, _u32p]),
    "prime_tagstore_add_image_names": (status_t, [TagStoreP, c_char_p, c_char_p,
                                                  POINTER(c_char_p), c_uint32, _u32p]),
    "prime_tagstore_freeze": (status_t, [TagStoreP]),
    "prime_tagstore_is_frozen": (c_int32, [TagStoreP]),
    "prime_tagstore_image_count": (c_uint32, [TagStoreP]),
    "prime_tagstore_tag_count": (c_uint32, [TagStoreP]),
    "prime_tagstore_class_count": (c_uint32, [TagStoreP]),
    "prime_tagstore_tag_ref_count": (c_uint64, [TagStoreP]),
    "prime_tagstore_tag_name": (c_char_p, [TagStoreP, c_uint32]),
    "prime_tagstore_class_name": (c_char_p, [TagStoreP, c_uint32]),
    "prime_tagstore_image_name": (c_char_p, [TagStoreP, c_uint32]),
    "prime_tagstore_find_tag": (status_t, [TagStoreP, c_char_p, _u32p]),
    "prime_tagstore_find_class": (status_t, [TagStoreP, c_char_p, _u32p]),
    "prime_tagstore_find_image": (status_t, [TagStoreP, c_char_p, _u32p]),
    "prime_tagstore_image_class": (c_uint32, [TagStoreP, c_uint32]),
    "prime_tagstore_image_tags": (status_t, [TagStoreP, c_uint32, _u32p, c_uint32, _u32p]),
    "prime_tagstore_class_image_count": (c_uint32, [TagStoreP, c_uint32]),
    "prime_tagstore_tag_count_in_class": (status_t, [TagStoreP, c_uint32, c_uint32, _u32p]),
    # One reader, one writer (include/prime/file.h) and the CSV writers.
    "prime_file_read": (status_t, [c_char_p, c_uint64, POINTER(c_void_p), _u64p]),
    "prime_file_free": (None, [c_void_p]),
    "prime_file_write": (status_t, [c_char_p, c_void_p, c_size_t]),
    "prime_lines_load": (status_t, [c_char_p, c_uint32, POINTER(LinesP)]),
    "prime_lines_load_memory": (status_t, [c_void_p, c_size_t, c_char_p, c_uint32,
                                           POINTER(LinesP)]),
    "prime_lines_destroy": (None, [LinesP]),
    "prime_lines_count": (c_uint32, [LinesP]),
    "prime_lines_get": (c_char_p, [LinesP, c_uint32]),
    "prime_writer_create": (status_t, [POINTER(WriterP)]),
    "prime_writer_destroy": (None, [WriterP]),
    "prime_writer_add_input": (status_t, [WriterP, c_char_p]),
    "prime_writer_add": (status_t, [WriterP, c_char_p, c_void_p, c_size_t]),
    "prime_writer_check": (status_t, [WriterP, c_char_p]),
    "prime_writer_commit": (status_t, [WriterP]),
    "prime_writer_add_stream": (status_t, [WriterP, c_char_p, POINTER(c_uint32)]),
    "prime_writer_append": (status_t, [WriterP, c_uint32, c_void_p, c_size_t]),
    "prime_writer_remove_temps": (c_uint32, []),
    "prime_tagstore_save_to": (status_t, [TagStoreP, WriterP, c_char_p]),
    "prime_tagstore_write_csv": (status_t, [TagStoreP, WriterP, c_char_p]),
    "prime_outcomes_write_csv": (status_t, [OutcomesP, TagStoreP, WriterP, c_char_p]),
    "prime_outcomes_write_predictions_csv": (status_t, [POINTER(c_char_p), POINTER(c_char_p),
                                                        POINTER(c_char_p), c_uint32, WriterP,
                                                        c_char_p]),
    "prime_labels_load": (status_t, [c_char_p, POINTER(LabelsP)]),
    "prime_labels_load_memory": (status_t, [c_void_p, c_size_t, c_char_p, POINTER(LabelsP)]),
    "prime_labels_destroy": (None, [LabelsP]),
    "prime_labels_count": (c_uint32, [LabelsP]),
    "prime_labels_find": (c_char_p, [LabelsP, c_char_p]),
    "prime_parse_u64": (status_t, [c_char_p, _u64p]),
    "prime_parse_double": (status_t, [c_char_p, _f64p]),
    "prime_classifier_classify_files": (status_t, [ClassifierP, POINTER(c_char_p), c_uint32,
                                                   POINTER(FilesOptions), _u32p, _u32p]),
    "prime_tagstore_save": (status_t, [TagStoreP, c_char_p]),
    "prime_tagstore_open": (status_t, [c_char_p, POINTER(TagStoreP)]),
    "prime_tagstore_open_memory": (status_t, [c_void_p, c_size_t, POINTER(TagStoreP)]),
    "prime_tagstore_open_part": (status_t, [c_char_p, c_uint32, c_uint32, POINTER(TagStoreP),
                                            _u64p, _u64p]),
    "prime_class_reader_open": (status_t, [c_char_p, c_char_p, POINTER(ClassReaderP)]),
    "prime_class_reader_close": (None, [ClassReaderP]),
    "prime_class_reader_tables": (TagStoreP, [ClassReaderP]),
    "prime_class_reader_class_size": (c_uint32, [ClassReaderP, c_uint32]),
    "prime_class_reader_read": (status_t, [ClassReaderP, _u32p, c_uint32, POINTER(TagStoreP),
                                           POINTER(OutcomesP)]),
    "prime_tagstore_load": (status_t, [c_char_p, POINTER(TagStoreP), POINTER(OutcomesP)]),
    "prime_tagstore_load_memory": (status_t, [c_void_p, c_size_t, c_char_p,
                                              POINTER(TagStoreP), POINTER(OutcomesP)]),
    # Merging, shards, sharded-store folders
    "prime_tagstore_merge": (status_t, [POINTER(TagStoreP), c_uint32, c_uint32,
                                        POINTER(TagStoreP)]),
    "prime_tagstore_merge_files": (status_t, [POINTER(c_char_p), c_uint32, c_uint32,
                                              POINTER(TagStoreP), POINTER(OutcomesP)]),
    "prime_shard_resolve": (status_t, [c_char_p, _u32p, _u32p, _i32p]),
    "prime_shard_range": (status_t, [c_uint64, c_uint32, c_uint32, _u64p, _u64p]),
    "prime_shard_list_id": (status_t, [POINTER(c_char_p), c_uint64, _u64p]),
    "prime_sharded_store_write": (status_t, [c_char_p, TagStoreP, c_uint32, c_uint32, c_uint64,
                                             c_uint64, c_uint64, c_uint64]),
    "prime_sharded_store_info": (status_t, [c_char_p, _u32p, _u32p, _u64p]),
    "prime_sharded_store_open": (status_t, [c_char_p, POINTER(TagStoreP)]),
    "prime_tagstore_checksum": (status_t, [TagStoreP, _u64p]),
    "prime_outcomes_save": (status_t, [OutcomesP, TagStoreP, c_int32, c_char_p]),
    "prime_outcomes_save_to": (status_t, [OutcomesP, TagStoreP, c_int32, WriterP, c_char_p]),
    # Outcomes
    "prime_outcomes_create": (status_t, [c_uint32, POINTER(OutcomesP)]),
    "prime_outcomes_destroy": (None, [OutcomesP]),
    "prime_outcomes_count": (c_uint32, [OutcomesP]),
    "prime_outcomes_set": (status_t, [OutcomesP, c_uint32, c_double]),
    "prime_outcomes_set_array": (status_t, [OutcomesP, c_uint32, _f64p, c_uint32]),
    "prime_outcomes_get": (status_t, [OutcomesP, c_uint32, _f64p]),
    "prime_outcomes_is_binary": (c_int32, [OutcomesP]),
    "prime_outcomes_from_labels": (status_t, [_i64p, _i64p, c_uint32, POINTER(OutcomesP)]),
    "prime_outcomes_load": (status_t, [c_char_p, TagStoreP, POINTER(OutcomesP)]),
    "prime_outcomes_load_memory": (status_t, [c_void_p, c_size_t, c_char_p, TagStoreP,
                                              POINTER(OutcomesP)]),
    # Configuration
    "prime_config_create": (status_t, [POINTER(ConfigP)]),
    "prime_config_destroy": (None, [ConfigP]),
    "prime_config_clone": (status_t, [ConfigP, POINTER(ConfigP)]),
    "prime_config_reset": (status_t, [ConfigP]),
    "prime_config_set_int": (status_t, [ConfigP, param_t, c_int64]),
    "prime_config_get_int": (status_t, [ConfigP, param_t, _i64p]),
    "prime_config_set_double": (status_t, [ConfigP, param_t, c_double]),
    "prime_config_get_double": (status_t, [ConfigP, param_t, _f64p]),
    "prime_config_set_min_gain": (status_t, [ConfigP, _f64p, c_uint32]),
    "prime_config_get_min_gain": (status_t, [ConfigP, c_uint32, _f64p]),
    "prime_config_min_gain_count": (c_uint32, [ConfigP]),
    "prime_config_param_info": (status_t, [param_t, _i32p, _f64p, _f64p, _f64p]),
    "prime_config_param_by_name": (status_t, [c_char_p, POINTER(param_t)]),
    "prime_config_param_name": (c_char_p, [param_t]),
    "prime_config_set_by_name": (status_t, [ConfigP, c_char_p, c_char_p]),
    # Search and results
    "prime_search": (status_t, [TagStoreP, OutcomesP, ConfigP, PROGRESS_FN, c_void_p,
                                POINTER(ResultP)]),
    "prime_search_stream": (status_t, [TagStoreP, OutcomesP, ConfigP, PROGRESS_FN, c_void_p,
                                       MODE_FN, c_void_p, _u64p]),
    "prime_mode_event_render": (status_t, [TagStoreP, POINTER(ModeEvent), c_int32, c_char_p,
                                           c_size_t, POINTER(c_size_t)]),
    # Class-parallel search (include/prime/partial.h)
    "prime_search_classes": (status_t, [TagStoreP, OutcomesP, ConfigP, _u32p, c_uint32,
                                        PROGRESS_FN, c_void_p, POINTER(PartialP)]),
    "prime_partial_destroy": (None, [PartialP]),
    "prime_partial_class_count": (c_uint32, [PartialP]),
    "prime_partial_class_id": (c_uint32, [PartialP, c_uint32]),
    "prime_partial_mode_count": (c_uint64, [PartialP]),
    "prime_partial_candidate_count": (c_uint64, [PartialP]),
    "prime_partial_merge": (status_t, [TagStoreP, POINTER(PartialP), c_uint32,
                                       POINTER(ResultP)]),
    "prime_partial_serialize": (status_t, [PartialP, c_void_p, c_size_t, POINTER(c_size_t)]),
    "prime_partial_save": (status_t, [PartialP, c_char_p]),
    "prime_partial_save_to": (status_t, [PartialP, WriterP, c_char_p]),
    "prime_partial_load_memory": (status_t, [c_void_p, c_size_t, c_char_p, TagStoreP, ConfigP,
                                             POINTER(PartialP)]),
    "prime_partial_load": (status_t, [c_char_p, TagStoreP, ConfigP, POINTER(PartialP)]),
    "prime_search_class_costs": (status_t, [TagStoreP, ConfigP, _u64p, c_uint32]),
    "prime_search_sharded": (status_t, [POINTER(ShardPart), c_uint32, ConfigP, SUM_FN, c_void_p,
                                        PROGRESS_FN, c_void_p, POINTER(ResultP)]),
    "prime_search_sharded_resume": (status_t, [POINTER(ShardPart), c_uint32, ConfigP, SUM_FN,
                                               c_void_p, c_void_p, c_size_t, SHARDED_SAVE_FN,
                                               c_void_p, PROGRESS_FN, c_void_p,
                                               POINTER(ResultP)]),
    "prime_result_destroy": (None, [ResultP]),
    "prime_result_class_count": (c_uint32, [ResultP]),
    "prime_result_class_info": (status_t, [ResultP, c_uint32, _u32p, _u64p, _f64p, _f64p]),
    "prime_result_class_name": (c_char_p, [ResultP, c_uint32]),
    "prime_result_mode_count": (c_uint64, [ResultP]),
    "prime_result_mode_info": (status_t, [ResultP, c_uint64, _u32p, _u32p, _u64p, _f64p,
                                          _f64p, _f64p, _f64p]),
    "prime_result_mode_tags": (status_t, [ResultP, c_uint64, _u32p, c_uint32, _u32p]),
    "prime_result_mode_tag_name": (c_char_p, [ResultP, c_uint64, c_uint32]),
    "prime_result_mode_class_name": (c_char_p, [ResultP, c_uint64]),
    "prime_result_mode_description": (c_char_p, [ResultP, c_uint64]),
    "prime_result_render": (status_t, [ResultP, c_int32, c_char_p, c_size_t,
                                       POINTER(c_size_t)]),
    "prime_result_write": (status_t, [ResultP, c_int32, c_char_p]),
    "prime_result_load": (status_t, [c_char_p, POINTER(ResultP)]),
    "prime_result_load_memory": (status_t, [c_void_p, c_size_t, c_char_p, POINTER(ResultP)]),
    # Queries
    "prime_query": (status_t, [TagStoreP, OutcomesP, c_uint32, _u32p, c_uint32, _u64p,
                               _f64p, _f64p, _f64p]),
    "prime_query_parents": (status_t, [TagStoreP, OutcomesP, c_uint32, _u32p, c_uint32,
                                       _u64p, _f64p]),
    # Images (include/prime/image.h)
    "prime_image_load": (status_t, [c_char_p, c_uint64, POINTER(ImageP)]),
    "prime_image_load_memory": (status_t, [c_void_p, c_size_t, c_char_p, c_uint64,
                                           POINTER(ImageP)]),
    "prime_image_create": (status_t, [c_uint32, c_uint32, _u8p, POINTER(ImageP)]),
    "prime_image_destroy": (None, [ImageP]),
    "prime_image_width": (c_uint32, [ImageP]),
    "prime_image_height": (c_uint32, [ImageP]),
    "prime_image_format": (c_int32, [ImageP]),
    "prime_image_copy_pixels": (status_t, [ImageP, _u8p, c_size_t, POINTER(c_size_t)]),
    "prime_image_resize": (status_t, [ImageP, c_uint32, c_uint32, c_int32, POINTER(ImageP)]),
    "prime_image_crop": (status_t, [ImageP, c_uint32, c_uint32, c_uint32, c_uint32,
                                    POINTER(ImageP)]),
    "prime_image_spec_create": (status_t, [c_int32, POINTER(ImageSpecP)]),
    "prime_image_spec_destroy": (None, [ImageSpecP]),
    "prime_image_spec_set_resize": (status_t, [ImageSpecP, c_int32, c_uint32, c_uint32,
                                               c_uint32]),
    "prime_image_spec_get_resize": (status_t, [ImageSpecP, _i32p, _u32p, _u32p, _u32p]),
    "prime_image_spec_set_filter": (status_t, [ImageSpecP, c_int32]),
    "prime_image_spec_set_convert": (status_t, [ImageSpecP, c_int32]),
    "prime_image_spec_get_convert": (status_t, [ImageSpecP, POINTER(c_int32)]),
    "prime_image_spec_set_jpeg_draft": (status_t, [ImageSpecP, c_int32]),
    "prime_image_spec_get_jpeg_draft": (status_t, [ImageSpecP, POINTER(c_int32)]),
    "prime_image_spec_get_filter": (status_t, [ImageSpecP, _i32p]),
    "prime_image_spec_set_normalize": (status_t, [ImageSpecP, _f64p, _f64p]),
    "prime_image_spec_get_normalize": (status_t, [ImageSpecP, _f64p, _f64p]),
    "prime_image_spec_set_max_pixels": (status_t, [ImageSpecP, c_uint64]),
    "prime_image_spec_get_max_pixels": (status_t, [ImageSpecP, _u64p]),
    "prime_image_transform": (status_t, [ImageP, ImageSpecP, POINTER(ImageP)]),
    "prime_image_preprocess": (status_t, [ImageP, ImageSpecP, _f32p, c_size_t,
                                          POINTER(c_size_t)]),
    "prime_image_batch_load": (status_t, [POINTER(c_char_p), c_uint32, ImageSpecP, c_uint32,
                                          POINTER(ImageBatchP)]),
    "prime_image_batch_destroy": (None, [ImageBatchP]),
    "prime_image_batch_count": (c_uint32, [ImageBatchP]),
    "prime_image_batch_failed_count": (c_uint32, [ImageBatchP]),
    "prime_image_batch_status": (status_t, [ImageBatchP, c_uint32]),
    "prime_image_batch_error": (c_char_p, [ImageBatchP, c_uint32]),
    "prime_image_batch_source_size": (status_t, [ImageBatchP, c_uint32, _u32p, _u32p]),
    "prime_image_batch_tensor": (_f32p, [ImageBatchP]),
    "prime_image_batch_copy_tensor": (status_t, [ImageBatchP, _f32p, c_size_t,
                                                 POINTER(c_size_t)]),
    "prime_image_measure": (status_t, [ImageP, _f64p, c_uint32, _u32p]),
    "prime_image_property_name": (c_char_p, [c_int32]),
    "prime_image_color_name": (c_char_p, [c_int32]),
    # CLIP tokenizer (include/prime/tokenizer.h)
    "prime_tokenizer_create": (status_t, [c_char_p, POINTER(TokenizerP)]),
    "prime_tokenizer_create_memory": (status_t, [c_void_p, c_size_t, c_char_p,
                                                 POINTER(TokenizerP)]),
    "prime_tokenizer_destroy": (None, [TokenizerP]),
    "prime_tokenizer_vocab_size": (c_uint32, [TokenizerP]),
    "prime_tokenizer_encode": (status_t, [TokenizerP, c_char_p, c_size_t, _i64p, c_size_t,
                                          POINTER(c_size_t)]),
    "prime_tokenizer_encode_context": (status_t, [TokenizerP, c_char_p, c_size_t, _i64p,
                                                  c_uint32, _u32p, _i32p]),
    "prime_tokenizer_clean": (status_t, [c_char_p, c_size_t, c_void_p, c_size_t,
                                         POINTER(c_size_t)]),
    # Evaluation (include/prime/eval.h)
    "prime_stat_wilson": (status_t, [c_double, c_uint64, c_double, _f64p, _f64p]),
    "prime_stat_hypergeom_lower": (status_t, [c_uint64, c_uint64, c_uint64, c_uint64,
                                              _f64p]),
    "prime_stat_mann_whitney_lower": (status_t, [_f64p, c_uint64, _f64p, c_uint64, _f64p]),
    "prime_stat_pearson": (status_t, [_f64p, _f64p, c_uint64, _f64p]),
    "prime_stat_spearman": (status_t, [_f64p, _f64p, c_uint64, _f64p]),
    "prime_stat_bh": (status_t, [_f64p, c_uint64, c_uint64, _f64p]),
    "prime_result_candidate_count": (c_uint64, [ResultP]),
    "prime_eval_create": (status_t, [ResultP, TagStoreP, OutcomesP, POINTER(EvalP)]),
    "prime_eval_load": (status_t, [c_char_p, TagStoreP, OutcomesP, POINTER(EvalP)]),
    "prime_eval_load_memory": (status_t, [c_void_p, c_size_t, c_char_p, TagStoreP,
                                          OutcomesP, POINTER(EvalP)]),
    "prime_eval_destroy": (None, [EvalP]),
    "prime_eval_mode_count": (c_uint64, [EvalP]),
    "prime_eval_test_kind": (c_int32, [EvalP]),
    "prime_eval_mode_class_name": (c_char_p, [EvalP, c_uint64]),
    "prime_eval_mode_tag_count": (c_uint32, [EvalP, c_uint64]),
    "prime_eval_mode_tag_name": (c_char_p, [EvalP, c_uint64, c_uint32]),
    "prime_eval_mode_description": (c_char_p, [EvalP, c_uint64]),
    "prime_eval_mode_train": (status_t, [EvalP, c_uint64, _u64p, _f64p, _f64p, _f64p,
                                         _f64p]),
    "prime_eval_mode_test": (status_t, [EvalP, c_uint64, _u64p, _f64p, _f64p, _f64p,
                                        _f64p]),
    "prime_eval_mode_confidence": (status_t, [EvalP, c_uint64, _f64p, _f64p, _f64p, _f64p,
                                              _i32p]),
    "prime_eval_mode_parent": (status_t, [EvalP, c_uint64, c_uint32, _u64p, _f64p, _f64p]),
    "prime_eval_summary": (status_t, [EvalP, _u64p, _f64p, _f64p, _u64p]),
    "prime_eval_params": (status_t, [EvalP, _i64p, _f64p, _u64p]),
    "prime_eval_set_z": (status_t, [EvalP, c_double]),
    "prime_eval_set_fdr": (status_t, [EvalP, c_double, c_uint64]),
    "prime_eval_fdr_info": (status_t, [EvalP, _f64p, _u64p, _u64p]),
    "prime_eval_render": (status_t, [EvalP, c_int32, c_char_p, c_size_t, POINTER(c_size_t)]),
    "prime_eval_write": (status_t, [EvalP, c_int32, c_char_p]),
    # Backends (include/prime/backend.h)
    "prime_backend_error": (status_t, [status_t, c_char_p]),
    "prime_tagger_create_from": (status_t, [c_void_p, POINTER(TaggerP)]),
    "prime_tagger_destroy": (None, [TaggerP]),
    "prime_tagger_name": (c_char_p, [TaggerP]),
    "prime_tagger_tag_count": (c_uint32, [TaggerP]),
    "prime_tagger_tag_name": (c_char_p, [TaggerP, c_uint32]),
    "prime_tagger_score": (status_t, [TaggerP, POINTER(ImageP), c_uint32, _f32p, c_size_t]),
    "prime_tagger_set_threshold": (status_t, [TaggerP, c_double]),
    "prime_tagger_set_thresholds": (status_t, [TaggerP, _f64p, c_uint32]),
    "prime_tagger_load_thresholds": (status_t, [TaggerP, c_char_p]),
    "prime_tagger_get_threshold": (status_t, [TaggerP, c_uint32, _f64p]),
    "prime_tagger_set_top_k": (status_t, [TaggerP, c_uint32]),
    "prime_tagger_set_rule": (status_t, [TaggerP, c_int32]),
    "prime_tagger_get_rule": (status_t, [TaggerP, POINTER(c_int32)]),
    "prime_tagger_select": (status_t, [TaggerP, _f32p, _u32p, c_uint32, _u32p]),
    "prime_tagger_tag_images": (status_t, [TaggerP, POINTER(ImageP), POINTER(c_char_p),
                                           POINTER(c_char_p), c_uint32, TagStoreP]),
    "prime_tagger_tag_files": (status_t, [TaggerP, POINTER(c_char_p), POINTER(c_char_p),
                                          c_uint32, POINTER(FilesOptions), TagStoreP, _u32p]),
    "prime_properties_tagger_create": (status_t, [POINTER(TaggerP)]),
    "prime_classifier_create_from": (status_t, [c_void_p, POINTER(ClassifierP)]),
    "prime_classifier_destroy": (None, [ClassifierP]),
    "prime_classifier_name": (c_char_p, [ClassifierP]),
    "prime_classifier_class_count": (c_uint32, [ClassifierP]),
    "prime_classifier_class_name": (c_char_p, [ClassifierP, c_uint32]),
    "prime_classifier_classify": (status_t, [ClassifierP, POINTER(ImageP), c_uint32, _f32p,
                                             c_size_t, _u32p]),
    "prime_embedder_create_from": (status_t, [c_void_p, POINTER(EmbedderP)]),
    "prime_embedder_destroy": (None, [EmbedderP]),
    "prime_embedder_name": (c_char_p, [EmbedderP]),
    "prime_embedder_dimension": (c_uint32, [EmbedderP]),
    "prime_embedder_embed_images": (status_t, [EmbedderP, POINTER(ImageP), c_uint32, _f32p,
                                               c_size_t]),
    "prime_embedder_embed_texts": (status_t, [EmbedderP, POINTER(c_char_p), c_uint32, _f32p,
                                              c_size_t]),
    "prime_zeroshot_tagger_create": (status_t, [EmbedderP, POINTER(c_char_p), c_uint32,
                                                c_char_p, POINTER(TaggerP)]),
    # Description quality (include/prime/quality.h)
    "prime_embeddings_create": (status_t, [_f32p, c_uint64, c_uint32, POINTER(EmbeddingsP)]),
    "prime_embeddings_load": (status_t, [c_char_p, c_uint32, POINTER(EmbeddingsP)]),
    "prime_embeddings_load_memory": (status_t, [c_void_p, c_size_t, c_char_p, c_uint32,
                                                POINTER(EmbeddingsP)]),
    "prime_embeddings_destroy": (None, [EmbeddingsP]),
    "prime_embeddings_rows": (c_uint64, [EmbeddingsP]),
    "prime_embeddings_dim": (c_uint32, [EmbeddingsP]),
    "prime_embeddings_row": (_f32p, [EmbeddingsP, c_uint64]),
    "prime_embeddings_join_memory": (status_t, [EmbeddingsP, c_void_p, c_size_t, c_char_p,
                                                TagStoreP, POINTER(EmbeddingsP)]),
    "prime_embeddings_join": (status_t, [EmbeddingsP, c_char_p, TagStoreP,
                                         POINTER(EmbeddingsP)]),
    "prime_vec_cosine": (status_t, [_f32p, _f32p, c_uint32, _f64p]),
    "prime_stat_auroc": (status_t, [_f64p, c_uint64, _f64p, c_uint64, _f64p]),
    "prime_quality_create": (status_t, [TagStoreP, EmbeddingsP, POINTER(QualityP)]),
    "prime_quality_destroy": (None, [QualityP]),
    "prime_quality_add_group": (status_t, [QualityP, c_char_p, c_uint32, _u32p, c_uint64,
                                           _f32p, c_uint32, _u64p]),
    "prime_quality_add_result": (status_t, [QualityP, ResultP, EmbeddingsP]),
    "prime_quality_add_result_file": (status_t, [QualityP, c_char_p, EmbeddingsP]),
    "prime_quality_group_count": (c_uint64, [QualityP]),
    "prime_quality_group_label": (c_char_p, [QualityP, c_uint64]),
    "prime_quality_group_class_name": (c_char_p, [QualityP, c_uint64]),
    "prime_quality_group_metrics": (status_t, [QualityP, c_uint64, _u64p, _u64p, _f64p, _f64p,
                                               _f64p]),
    "prime_quality_class_count": (c_uint32, [QualityP]),
    "prime_quality_class_name": (c_char_p, [QualityP, c_uint32]),
    "prime_quality_class_metrics": (status_t, [QualityP, c_uint32, _u64p, _f64p, _f64p,
                                               _f64p]),
    "prime_quality_overall": (status_t, [QualityP, _u64p, _f64p, _f64p, _f64p]),
    "prime_quality_render": (status_t, [QualityP, c_int32, c_char_p, c_size_t,
                                        POINTER(c_size_t)]),
    "prime_quality_write": (status_t, [QualityP, c_int32, c_char_p]),
    # Bulk building, columnar export, membership (issue 13)
    "prime_tagstore_intern_names": (status_t, [TagStoreP, c_int32, c_void_p, _u64p, c_uint32,
                                               _u32p]),
    "prime_tagstore_add_images": (status_t, [TagStoreP, c_uint32, c_void_p, _u64p, _u32p, _u64p,
                                             _u32p, _u32p]),
    "prime_tagstore_add_images_text": (status_t, [TagStoreP, c_uint32, c_void_p, _u64p, _u32p,
                                                  c_void_p, _u64p, _u32p]),
    # packed text columns (1.1)
    "prime_tagstore_add_packed": (status_t, [TagStoreP, c_uint32, c_void_p, c_size_t, c_void_p,
                                             c_size_t, c_void_p, c_size_t, _u32p, _u32p]),
    # dictionary-coded columns (1.3)
    "prime_tagstore_add_coded": (status_t, [TagStoreP, c_uint32, c_void_p, c_size_t, c_void_p,
                                            c_size_t, c_uint32, c_void_p, c_void_p, c_size_t,
                                            c_uint32, c_void_p, c_uint64, c_void_p, _u32p]),
    "prime_tagstore_select": (status_t, [TagStoreP, c_uint32, _u32p, c_uint32, _u32p, c_uint64,
                                         _u64p]),
    "prime_result_mode_images": (status_t, [ResultP, TagStoreP, c_uint64, _u32p, c_uint64,
                                            _u64p]),
    "prime_result_membership": (status_t, [ResultP, TagStoreP, _u64p, _u32p, c_uint64, _u64p]),
    "prime_result_mode_tag_total": (c_uint64, [ResultP]),
    "prime_result_equal_images": (status_t, [ResultP, TagStoreP, _u64p]),
    "prime_result_columns": (status_t, [ResultP, _u32p, _u64p, _f64p, _f64p, _f64p, _f64p, _u64p,
                                        _u32p]),
}

PRIME_NAMES_TAGS = 1
PRIME_NAMES_CLASSES = 2

#: Functions that modify a handle: name -> positions of the modified handle
#: arguments. Such a call holds those handles exclusively (no other thread
#: may use them meanwhile); every other call holds its handles shared.
MUTATORS: Dict[str, Tuple[int, ...]] = {
    "prime_tagstore_intern_tag": (0,), "prime_tagstore_intern_class": (0,),
    "prime_tagstore_add_image": (0,), "prime_tagstore_add_image_names": (0,),
    "prime_tagstore_freeze": (0,), "prime_tagstore_intern_names": (0,),
    "prime_tagstore_add_images": (0,), "prime_tagstore_add_images_text": (0,),
    "prime_tagstore_add_packed": (0,), "prime_tagstore_add_coded": (0,),
    "prime_outcomes_set": (0,), "prime_outcomes_set_array": (0,),
    "prime_config_reset": (0,), "prime_config_set_int": (0,), "prime_config_set_double": (0,),
    "prime_config_set_min_gain": (0,), "prime_config_set_by_name": (0,),
    "prime_image_spec_set_resize": (0,), "prime_image_spec_set_filter": (0,),
    "prime_image_spec_set_normalize": (0,), "prime_image_spec_set_max_pixels": (0,),
    "prime_eval_set_z": (0,), "prime_eval_set_fdr": (0,),
    "prime_tagger_set_threshold": (0,), "prime_tagger_set_thresholds": (0,),
    "prime_tagger_set_top_k": (0,),
    "prime_tagger_tag_images": (0, 5), "prime_tagger_tag_files": (0, 5),
    "prime_writer_add": (0,), "prime_writer_add_input": (0,), "prime_writer_commit": (0,),
    "prime_writer_add_stream": (0,), "prime_writer_append": (0,),
    "prime_partial_save_to": (1,),
    "prime_tagstore_save_to": (1,), "prime_tagstore_write_csv": (1,),
    "prime_outcomes_write_csv": (2,), "prime_outcomes_write_predictions_csv": (4,),
    "prime_classifier_classify_files": (0,),
    "prime_quality_add_group": (0,), "prime_quality_add_result": (0,),
    "prime_quality_add_result_file": (0,),
}


# --------------------------------------------------------------------------
# Handle safety: borrow counts and a reader/writer lock per handle
# --------------------------------------------------------------------------

class BusyError(RuntimeError):
    """A handle cannot be closed (or modified) now: this thread is using it,
    e.g. ``store.close()`` from inside a search's progress callback."""


BusyError.__module__ = "libprime"

#: One condition guards the borrow state of every handle.
_cond = threading.Condition(threading.Lock())
#: id(ctypes pointer object) -> weak reference to its owning handle.
_registry: "Dict[int, weakref.ReferenceType[Any]]" = {}

#: The pointer types of the library's handles (borrowed by every call).
HANDLE_POINTER_TYPES: Tuple[Any, ...] = (
    TagStoreP, OutcomesP, ConfigP, ResultP, ImageP, ImageSpecP, ImageBatchP, TokenizerP, EvalP,
    TaggerP, ClassifierP, EmbedderP, EmbeddingsP, QualityP, LabelsP, WriterP)


class HandleState:
    """Borrow state of one handle (kept by libprime._core._Handle)."""

    __slots__ = ("readers", "writer", "depth", "__weakref__")

    def __init__(self) -> None:
        self.readers: Dict[int, int] = {}  # thread id -> shared borrows
        self.writer: Optional[int] = None  # thread id holding it exclusively
        self.depth = 0                     # nested exclusive borrows of that thread

    def busy(self) -> bool:
        return bool(self.readers) or self.writer is not None

    def held_by(self, tid: int) -> bool:
        return tid in self.readers or self.writer == tid


def register(ptr: Any, handle: Any) -> None:
    """Make ``handle`` the owner of the C pointer object ``ptr``."""
    with _cond:
        _registry[id(ptr)] = weakref.ref(handle)


def unregister_when_idle(handle: Any, wait: bool) -> Any:
    """Detach and return the handle's pointer once nothing uses it (None if
    already closed). Raises BusyError when this thread uses it, or when
    another thread does and ``wait`` is false."""
    tid = threading.get_ident()
    with _cond:
        st: HandleState = handle._state
        while handle._ptr is not None and st.busy():
            if st.held_by(tid):
                raise BusyError("cannot close a %s while this thread is using it (in a callback "
                                "of a call on it?); close it after that call returns"
                                % handle._kind)
            if not wait:
                raise BusyError("the %s is in use by another thread" % handle._kind)
            _cond.wait()
        p = handle._ptr
        if p is None:
            return None
        handle._ptr = None
        _registry.pop(id(p), None)
        try:
            p._prime_closed = True
        except AttributeError:  # pragma: no cover
            pass
        return p


def _acquire(ptr: Any, exclusive: bool) -> Any:
    """Borrow the handle owning ``ptr`` (called with _cond held). Returns
    the HandleState to release, or None for a pointer no handle owns."""
    ref = _registry.get(id(ptr))
    h = ref() if ref is not None else None
    if h is None or h._ptr is not ptr:
        if getattr(ptr, "_prime_closed", False):
            raise ValueError("operation on a closed handle")
        return None
    st: HandleState = h._state
    tid = threading.get_ident()
    if exclusive:
        if st.writer == tid:
            st.depth += 1
            return st
        if tid in st.readers:
            raise BusyError("cannot modify a %s while this thread is using it (in a callback "
                            "of a call on it?)" % h._kind)
        while st.busy():
            _cond.wait()
            if h._ptr is not ptr:
                raise ValueError("operation on a closed %s" % h._kind)
        st.writer, st.depth = tid, 1
        return st
    while st.writer is not None and st.writer != tid:
        _cond.wait()
        if h._ptr is not ptr:
            raise ValueError("operation on a closed %s" % h._kind)
    st.readers[tid] = st.readers.get(tid, 0) + 1
    return st


def _release(held: List[Tuple[HandleState, bool]]) -> None:
    with _cond:
        _release_locked(held)


def _guard(name: str, fn: Any, argtypes: List[object]) -> Any:
    """Wrap a declared C function so that every handle it is passed is
    borrowed for the duration of the call (exclusively where MUTATORS says
    so). Functions without handle arguments are returned as they are."""
    positions = [i for i, t in enumerate(argtypes) if t in HANDLE_POINTER_TYPES]
    if not positions:
        return fn
    excl = set(MUTATORS.get(name, ()))

    def call(*args: Any) -> Any:
        held: List[Tuple[HandleState, bool]] = []
        with _cond:
            try:
                for i in positions:
                    a = args[i] if i < len(args) else None
                    if a:
                        st = _acquire(a, i in excl)
                        if st is not None:
                            held.append((st, i in excl))
            except BaseException:
                _release_locked(held)
                raise
        try:
            return fn(*args)
        finally:
            if held:
                _release(held)

    call.__name__ = name
    call.raw = fn  # type: ignore[attr-defined]
    call.restype = fn.restype  # type: ignore[attr-defined]
    call.argtypes = fn.argtypes  # type: ignore[attr-defined]
    return call


def _release_locked(held: List[Tuple[HandleState, bool]]) -> None:
    tid = threading.get_ident()
    for st, exclusive in held:
        if exclusive:
            st.depth -= 1
            if st.depth == 0:
                st.writer = None
        else:
            k = st.readers[tid] - 1
            if k:
                st.readers[tid] = k
            else:
                del st.readers[tid]
    _cond.notify_all()


class Library:
    """The declared C library: each function is an attribute (guarded, see
    :func:`_guard`); ``raw`` is the plain :class:`ctypes.CDLL`."""

    def __init__(self, cdll: ctypes.CDLL) -> None:
        self.raw = cdll
        self._name = cdll._name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def _pkg_config_candidates() -> List[str]:
    try:
        out = subprocess.run(["pkg-config", "--variable=libdir", "prime"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    libdir = out.stdout.strip()
    if out.returncode != 0 or not libdir:
        return []
    return [os.path.join(libdir, "libprime.so.%d" % ABI_MAJOR),
            os.path.join(libdir, "libprime.so")]


def _installed_candidates() -> List[str]:
    """Where an installation put the library: first the wheel's own library
    folder (``pip install .`` of the repository root: meson-python puts
    libdir into ``.libprime.mesonpy.libs`` next to the package, as the real
    file ``libprime.so.1.X.Y`` without the soname link), then the directory
    `meson install` wrote into the generated _config.py."""
    soname = "libprime.so.%d" % ABI_MAJOR
    libdir = ""
    try:
        from . import _config  # type: ignore[attr-defined]
        libdir = getattr(_config, "LIBDIR", "")
        soname = getattr(_config, "SONAME", soname) or soname
    except ImportError:  # a source tree: no generated _config.py
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    bundled = os.path.join(os.path.dirname(here), ".libprime.mesonpy.libs")
    out = [os.path.join(bundled, soname)]
    out.extend(sorted(glob.glob(os.path.join(glob.escape(bundled), soname + ".*")), reverse=True))
    if libdir:
        out.append(os.path.join(libdir, soname))
    return out


def find_library() -> str:
    """Path (or soname) of the libprime shared library to load, in this order:
    ``PRIME_LIBRARY``; the directory recorded at installation
    (``libprime/_config.py``, written by ``meson install``); a wheel's
    ``.libprime.mesonpy.libs``; ``pkg-config --variable=libdir prime``;
    :func:`ctypes.util.find_library`; the soname itself (``libprime.so.1``,
    resolved by the dynamic linker).

    Raises :class:`OSError` when none is found.
    """
    env = os.environ.get("PRIME_LIBRARY")
    if env:
        if not os.path.exists(env):
            raise OSError("PRIME_LIBRARY=%s: no such file" % env)
        return env
    for cand in _installed_candidates() + _pkg_config_candidates():
        if os.path.exists(cand):
            return cand
    found = ctypes.util.find_library("prime")
    if found:
        return found
    soname = "libprime.so.%d" % ABI_MAJOR
    try:
        ctypes.CDLL(soname)
        return soname
    except OSError:
        pass
    raise OSError("libprime not found: install it (meson install), or set PRIME_LIBRARY to "
                  "the path of libprime.so")


def _declare(cdll: ctypes.CDLL) -> Library:
    missing = []
    lib = Library(cdll)
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
        setattr(lib, name, _guard(name, fn, argtypes))
    if missing:
        raise OSError("%s lacks %s: too old a libprime" % (cdll._name, ", ".join(missing)))
    return lib


_lib: Optional[Library] = None
_lib_path: Optional[str] = None


def load(path: Optional[str] = None) -> Library:
    """Load (once) and return the declared library.

    ``path`` overrides the search; it is only honoured by the first call.
    """
    global _lib, _lib_path
    if _lib is None:
        p = path or find_library()
        cdll = _declare(ctypes.CDLL(p))
        major = cdll.prime_version_number() // 10000
        if major != ABI_MAJOR:
            raise OSError("%s is libprime %s; this package needs ABI %d"
                          % (p, cdll.prime_version().decode(), ABI_MAJOR))
        _lib, _lib_path = cdll, p
    return _lib


def library_path() -> Optional[str]:
    """The path the library was loaded from (None before the first load)."""
    return _lib_path
