"""libprime.Tokenizer (python/libprime/_tokenizer.py) against the CLI
(`prime tokenize`) and hand-checked ids; errors and handle lifetime."""
from __future__ import annotations

import gc
import subprocess

import pytest

import libprime


@pytest.fixture(scope="module")
def bpe(source_root):
    return source_root / "data" / "clip" / "bpe_simple_vocab_16e6.txt.gz"


@pytest.fixture(scope="module")
def tok(bpe):
    with libprime.Tokenizer(bpe) as t:
        yield t


def _cli(prime_cli, bpe, *args):
    out = subprocess.run([prime_cli, "tokenize", "--bpe", str(bpe), "--", *args],
                         check=True, capture_output=True, text=True).stdout
    return [[int(x) for x in line.split()] for line in out.splitlines()]


TEXTS = ["a photo of abacus", "", "--full", "Hello, World! It's 2024 d\u00e9j\u00e0 vu",
         "ΣΑΣ" , "a photo of a dog " * 30]


def test_hand_checked(tok):
    assert tok.vocab_size == libprime.TOKENIZER_VOCAB_SIZE == 49408
    assert len(tok) == 49408
    assert tok.encode("a photo of abacus") == [320, 1125, 539, 596, 33710]
    assert tok.encode("") == []
    ids = tok.encode_context("a photo of abacus", as_list=True)
    assert ids == [49406, 320, 1125, 539, 596, 33710, 49407] + [0] * 70
    ids, n, trunc = tok.encode_context_info("a photo of abacus", as_list=True)
    assert (n, trunc) == (7, False)  # start, 5 ids, end
    assert tok.encode_context("", 2, as_list=True) == [49406, 49407]


def test_matches_cli(tok, prime_cli, bpe):
    want = _cli(prime_cli, bpe, *TEXTS)
    assert len(want) == len(TEXTS)
    for text, w in zip(TEXTS, want):
        got, n, trunc = tok.encode_context_info(text, as_list=True)
        assert got[:n] == w  # the CLI prints the ids before the padding
        assert all(x == 0 for x in got[n:])
        assert len(got) == 77
        full = tok.encode(text)
        assert trunc == (len(full) > 75)
        if not trunc:
            assert w == [49406] + full + [49407]
    # bytes give the same ids as str
    assert tok.encode(TEXTS[3].encode("utf-8")) == tok.encode(TEXTS[3])


def test_truncation(tok):
    ids, n, trunc = tok.encode_context_info("a photo of a dog " * 30, as_list=True)
    assert trunc and n == 77 and ids[0] == 49406 and ids[76] == 49407
    assert ids[1:76] == tok.encode("a photo of a dog " * 30)[:75]
    short = tok.encode_context("a photo of a dog " * 30, 10, as_list=True)
    assert len(short) == 10 and short[9] == 49407


def test_numpy_array_when_present(tok):
    np = pytest.importorskip("numpy")
    arr = tok.encode_context("a photo of abacus")
    assert isinstance(arr, np.ndarray) and arr.dtype == np.int64 and arr.shape == (77,)
    assert arr.tolist() == tok.encode_context("a photo of abacus", as_list=True)


def test_from_bytes(bpe, tok):
    with libprime.Tokenizer.from_bytes(bpe.read_bytes(), "clip.gz") as t:
        assert t.encode("a photo of abacus") == tok.encode("a photo of abacus")


def test_errors(tok, tmp_path):
    with pytest.raises(libprime.ParseError) as e:
        tok.encode(b"abc\xff")
    assert e.value.status_name == "PRIME_E_PARSE" and e.value.detail
    with pytest.raises(libprime.PrimeError):
        tok.encode_context("x", 1)
    with pytest.raises(libprime.PrimeIOError) as e:
        libprime.Tokenizer(tmp_path / "missing.txt.gz")
    assert "missing.txt.gz" in str(e.value)
    with pytest.raises(libprime.PrimeError):
        libprime.Tokenizer.from_bytes(b"\x1f\x8b\x08\x00garbage", "bad.gz")
    with pytest.raises(TypeError):
        tok.encode(12)  # type: ignore[arg-type]


def test_close(bpe):
    t = libprime.Tokenizer(bpe)
    t.close()
    t.close()
    assert t.closed and "closed" in repr(t)
    with pytest.raises(ValueError):
        t.encode("x")


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_no_leak(bpe):
    data = bpe.read_bytes()
    tok = libprime.Tokenizer.from_bytes(data)

    def cycle(k: int) -> None:
        for _ in range(k):
            tok.encode("a photo of a dog on the beach")
            tok.encode_context("a photo of a dog", as_list=True)
            try:
                tok.encode(b"\xff")
            except libprime.ParseError:
                pass
    cycle(500)
    gc.collect()
    before = _rss_kib()
    cycle(3000)
    gc.collect()
    assert _rss_kib() - before < 2048
    # creating and dropping tokenizers (a few MiB each) does not grow either
    for _ in range(5):
        libprime.Tokenizer.from_bytes(data).close()
    gc.collect()
    before = _rss_kib()
    for _ in range(30):
        t = libprime.Tokenizer.from_bytes(data)
        del t
    gc.collect()
    assert _rss_kib() - before < 8192
    tok.close()


def test_clean_is_clips_basic_clean():
    clean = libprime.Tokenizer.clean
    assert clean("caf\u00c3\u00a9 &amp; don\u2019t") == "caf\u00e9 & don't"
    assert clean(b"&lt;b&gt;") == "<b>"
    assert clean("\uff2c\uff2f\uff35\uff24\u3000\ufb01sh  ") == "LOUD fish"
    assert clean("e\u0301") == "\u00e9"
    assert clean("") == ""
    with pytest.raises(libprime.ParseError):
        clean(b"ok\xff")
