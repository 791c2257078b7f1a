"""The CLIP tokenizer through ctypes as it is (include/prime/tokenizer.h):
the declarations of python/libprime/_lib.py, the reference ids of the RAM
prompt table, the size query and the errors."""
from __future__ import annotations

import ctypes

import pytest

import libprime
from libprime import _lib


@pytest.fixture(scope="module")
def tok(source_root):
    lib = libprime.lib()
    t = _lib.TokenizerP()
    path = str(source_root / "data" / "clip" / "bpe_simple_vocab_16e6.txt.gz").encode()
    assert lib.prime_tokenizer_create(path, ctypes.byref(t)) == _lib.PRIME_OK
    yield t
    lib.prime_tokenizer_destroy(t)


def encode(t, text: bytes):
    lib = libprime.lib()
    n = ctypes.c_size_t()
    st = lib.prime_tokenizer_encode(t, text, len(text), None, 0, ctypes.byref(n))
    assert st in (_lib.PRIME_OK, _lib.PRIME_E_BUFFER_TOO_SMALL)
    buf = (ctypes.c_int64 * max(n.value, 1))()
    assert lib.prime_tokenizer_encode(t, text, len(text), buf, n.value,
                                      ctypes.byref(n)) == _lib.PRIME_OK
    return list(buf[:n.value])


def test_ram_prompts(tok, source_root):
    path = source_root / "tests" / "data" / "clip" / "clip_tokens_ram_prompts.tsv"
    lines = [l for l in path.read_text(encoding="utf-8").splitlines() if not l.startswith("#")]
    assert len(lines) == 4585
    for line in lines:
        text, ids = line.split("\t")
        got = [_lib.PRIME_TOKENIZER_START] + encode(tok, text.encode()) + [_lib.PRIME_TOKENIZER_END]
        assert " ".join(map(str, got)) == ids, text


def test_context_form(tok):
    lib = libprime.lib()
    ctx = (ctypes.c_int64 * _lib.PRIME_TOKENIZER_CONTEXT)()
    n = ctypes.c_uint32()
    trunc = ctypes.c_int32()
    text = "a photo of abacus".encode()
    assert lib.prime_tokenizer_encode_context(tok, text, len(text), ctx, 77, ctypes.byref(n),
                                              ctypes.byref(trunc)) == _lib.PRIME_OK
    assert list(ctx[:7]) == [49406, 320, 1125, 539, 596, 33710, 49407]
    assert list(ctx[7:]) == [0] * 70 and n.value == 7 and trunc.value == 0
    text = b"a " * 100
    assert lib.prime_tokenizer_encode_context(tok, text, len(text), ctx, 77, ctypes.byref(n),
                                              ctypes.byref(trunc)) == _lib.PRIME_OK
    assert n.value == 77 and trunc.value == 1 and ctx[76] == 49407 and ctx[75] == 320


def test_nul_inside_and_errors(tok):
    # NUL is a control character that CLIP's cleaning (ftfy) removes
    assert encode(tok, b"a\0b") == encode(tok, b"ab")
    lib = libprime.lib()
    n = ctypes.c_size_t()
    out = ctypes.create_string_buffer(16)
    assert lib.prime_tokenizer_clean(b"&lt;b&gt;\0", 10, out, 16,
                                     ctypes.byref(n)) == _lib.PRIME_OK
    assert out.raw[:n.value] == b"<b>"
    lib = libprime.lib()
    n = ctypes.c_size_t()
    assert lib.prime_tokenizer_encode(tok, b"ok\xff", 3, None, 0,
                                      ctypes.byref(n)) == _lib.PRIME_E_PARSE
    assert b"invalid UTF-8 at byte 2" in lib.prime_last_error()
    t = _lib.TokenizerP()
    assert lib.prime_tokenizer_create(b"/nonexistent.gz", ctypes.byref(t)) == _lib.PRIME_E_IO
    assert not t
    data = b"#version: 0.2\ni n\n"
    assert lib.prime_tokenizer_create_memory(data, len(data), b"m.txt",
                                             ctypes.byref(t)) == _lib.PRIME_E_PARSE
    assert b"m.txt: only 1 merges" in lib.prime_last_error()
