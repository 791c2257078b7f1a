"""libprime.Tagger (python/libprime/_tagger.py): the properties tagger against
`prime tag --backend properties`; errors; handle lifetime."""
from __future__ import annotations

import ctypes
import gc
import os
import subprocess

import pytest

import libprime
from libprime import _lib


@pytest.fixture(scope="module")
def tag_dir(source_root):
    return source_root / "tests" / "data" / "tag"


FILES = [("cat/a.png", "cat"), ("cat/b b.png", "cat"), ("dog/c.png", "dog")]


def test_vocabulary():
    with libprime.Tagger.properties() as t:
        assert t.name == "properties"
        assert t.tags[:10] == ["dark", "bright", "low-contrast", "blurry", "noisy", "grayscale",
                               "saturated", "portrait", "landscape", "square"]
        assert len(t.tags) == 21 and t.tags[-1] == "pink"


def test_matches_cli(tag_dir, prime_cli, tmp_path):
    out = tmp_path / "tags.csv"
    subprocess.run([prime_cli, "tag", "--images", str(tag_dir), "--backend", "properties",
                    "--output", str(out)], check=True, capture_output=True)
    with libprime.TagStore.load(out) as want, libprime.Tagger.properties() as t, \
            libprime.TagStore() as store:
        failed = t.tag_files([tag_dir / f for f, _ in FILES], [c for _, c in FILES], store,
                             [f for f, _ in FILES], threads=2, batch=2)
        assert failed == 0
        store.freeze()
        assert len(store) == len(want) == 3
        for i in range(3):
            j = want.find_image(store.image_name(i))
            assert store.image_tag_names(i) == want.image_tag_names(j)
            assert store.class_name(store.image_class(i)) == want.class_name(want.image_class(j))
        assert store.image_tag_names(0) == ["dark", "low-contrast", "grayscale", "landscape",
                                            "black"]


def test_bad_files(tag_dir, source_root):
    bad = source_root / "tests" / "data" / "images" / "bad" / "truncated.png"
    with libprime.Tagger.properties() as t:
        with libprime.TagStore() as store:
            assert t.tag_files([tag_dir / "cat" / "a.png", bad], ["cat", "cat"], store) == 1
            assert len(store) == 1
        with libprime.TagStore() as store, pytest.raises(libprime.PrimeError) as e:
            t.tag_files_strict([bad], ["cat"], store)
        assert "truncated.png" in e.value.detail
        with pytest.raises(ValueError):
            t.tag_files([bad], [], libprime.TagStore())
        with pytest.raises(TypeError):
            t.tag_files([bad], ["x"], None)  # type: ignore[arg-type]
        frozen = libprime.TagStore().freeze()
        with pytest.raises(libprime.StateError):
            t.tag_files([tag_dir / "cat" / "a.png"], ["cat"], frozen)


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_no_leak(tag_dir):
    paths = [tag_dir / f for f, _ in FILES]

    def cycle(k: int) -> None:
        for _ in range(k):
            with libprime.Tagger.properties() as t, libprime.TagStore() as s:
                t.tag_files(paths, ["a", "b", "c"], s, threads=1)
    cycle(100)
    gc.collect()
    before = _rss_kib()
    cycle(1000)
    gc.collect()
    assert _rss_kib() - before < 4096


# ---- jpeg_draft (prime_files_options version 2, `prime tag --jpeg-draft`) ----

class _TaggerBackend(ctypes.Structure):
    """prime_tagger_backend (include/prime/sys/backend.h), version 1."""
    _fields_ = [("abi_version", ctypes.c_uint32), ("struct_size", ctypes.c_uint32),
                ("self", ctypes.c_void_p), ("name", ctypes.c_char_p),
                ("destroy", ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
                ("tag_count", ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p)),
                ("tag_name", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32)),
                ("score", ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p,
                                           ctypes.POINTER(_lib.ImageP), ctypes.c_uint32,
                                           ctypes.POINTER(ctypes.c_float)))]


_TAG = ctypes.create_string_buffer(b"t")
#: the draft takes effect with libjpeg-turbo (tests/meson.build sets it);
#: with stb_image alone every JPEG is decoded at full size
TURBO = os.environ.get("PRIME_TURBOJPEG", "1") == "1"


class Recorder:
    """A tagger whose backend (written here over prime_tagger_create_from)
    keeps the size and pixels of every image it is handed."""

    def __init__(self):
        self.seen = []
        lib = libprime._lib.load()

        def score(_self, images, n, scores):
            for i in range(n):
                im = images[i]
                w, h = lib.prime_image_width(im), lib.prime_image_height(im)
                buf = (ctypes.c_uint8 * (3 * w * h))()
                assert lib.prime_image_copy_pixels(im, buf, 3 * w * h, None) == _lib.PRIME_OK
                self.seen.append((w, h, bytes(buf)))
                scores[i] = 0.0
            return _lib.PRIME_OK

        t = _TaggerBackend._fields_
        self._cbs = (t[4][1](lambda _s: None), t[5][1](lambda _s: 1),
                     t[6][1](lambda _s, _i: ctypes.addressof(_TAG)), t[7][1](score))
        b = _TaggerBackend(_lib.PRIME_BACKEND_ABI_VERSION, ctypes.sizeof(_TaggerBackend), None,
                           b"recorder", *self._cbs)
        ptr = _lib.TaggerP()
        assert lib.prime_tagger_create_from(ctypes.byref(b), ctypes.byref(ptr)) == _lib.PRIME_OK
        self.tagger = libprime.Tagger(_ptr=ptr)

    def __del__(self):
        # the tagger calls destroy() when closed: before the callbacks go
        self.tagger.close()

    def run(self, paths, **kw):
        self.seen = []
        with libprime.TagStore() as store:
            assert self.tagger.tag_files(paths, ["c"] * len(paths), store, threads=2,
                                         **kw) == 0
        return self.seen


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory):
    """A 1600 x 1200 photo-like JPEG (smooth gradients, edges and noise):
    RAM's 384 x 384 allows the draft at 1/2, CLIP's 224 at 1/4."""
    np = pytest.importorskip("numpy")
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(17)
    y, x = np.mgrid[0:1200, 0:1600].astype(np.float64)
    rgb = np.stack([128 + 100 * np.sin(x / 97.0) * np.cos(y / 61.0),
                    (x + y) * 255.0 / 2800.0,
                    np.where((x // 40 + y // 40) % 2 == 0, 200.0, 40.0)], axis=2)
    rgb += rng.normal(0.0, 12.0, rgb.shape)
    path = tmp_path_factory.mktemp("draft") / "big.jpg"
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path, quality=90)
    return path


def _batch_tensor(path, spec):
    """The C path: prime_image_batch_load of one file with a spec."""
    lib = libprime._lib.load()
    paths = (ctypes.c_char_p * 1)(str(path).encode())
    batch = _lib.ImageBatchP()
    assert lib.prime_image_batch_load(paths, 1, spec._p(), 1, ctypes.byref(batch)) == _lib.PRIME_OK
    try:
        assert lib.prime_image_batch_status(batch, 0) == _lib.PRIME_OK
        need = ctypes.c_size_t()
        lib.prime_image_batch_copy_tensor(batch, None, 0, ctypes.byref(need))
        buf = (ctypes.c_float * need.value)()
        assert lib.prime_image_batch_copy_tensor(batch, buf, need.value, None) == _lib.PRIME_OK
        return bytes(buf)
    finally:
        lib.prime_image_batch_destroy(batch)


def _spec_with_draft(preset, on):
    spec = libprime.ImageSpec(preset)
    assert libprime._lib.load().prime_image_spec_set_jpeg_draft(spec._p(), on) == _lib.PRIME_OK
    return spec


def _preprocess_bytes(w, h, rgb, preset):
    with libprime.Image.from_rgb(w, h, rgb) as im:
        arr, _shape = im.preprocess(preset, as_array=False)
        return arr.tobytes()


@pytest.mark.parametrize("preset,scale", [("ram", 2), ("clip", 4)])
def test_jpeg_draft_reaches_the_backend_as_the_c_path_decodes(big_jpeg, preset, scale):
    if not TURBO:
        scale = 1
    rec = Recorder()
    with libprime.Image.load(big_jpeg) as full:
        full_px = full.tobytes()
    # off (the default, and None): the old bytes, the full decode
    assert rec.run([big_jpeg]) == [(1600, 1200, full_px)]
    assert rec.run([big_jpeg], jpeg_draft=None) == [(1600, 1200, full_px)]
    # on, by preset name or spec (whose own draft setting stays 0)
    spec = libprime.ImageSpec(preset)
    for value in (preset, spec):
        [(w, h, px)] = rec.run([big_jpeg], jpeg_draft=value)
        assert (w, h) == (1600 // scale, 1200 // scale)
        assert (px != full_px) == TURBO
        # the C path with the same spec and the draft: the same reduced image,
        # resized as the spec says, gives the batch's tensor byte for byte
        with _spec_with_draft(preset, 1) as on, _spec_with_draft(preset, 0) as off:
            drafted, plain = _batch_tensor(big_jpeg, on), _batch_tensor(big_jpeg, off)
        assert _preprocess_bytes(w, h, px, preset) == drafted
        assert _preprocess_bytes(1600, 1200, full_px, preset) == plain
        assert (drafted != plain) == TURBO  # the draft does change the model's input
    got = ctypes.c_int32(-1)
    assert libprime._lib.load().prime_image_spec_get_jpeg_draft(spec._p(), ctypes.byref(got)) == 0
    assert got.value == 0
    spec.close()


@pytest.mark.skipif(not TURBO, reason="stb_image build: no JPEG draft")
def test_jpeg_draft_equals_pil_draft(big_jpeg):
    np = pytest.importorskip("numpy")
    Image = pytest.importorskip("PIL.Image")
    with Image.open(big_jpeg) as im:
        im.draft("RGB", (384, 384))
        want = np.asarray(im.convert("RGB"))
    [(w, h, px)] = Recorder().run([big_jpeg], jpeg_draft="ram")
    assert (h, w, 3) == want.shape and px == want.tobytes()


def test_jpeg_draft_leaves_pngs_and_small_jpegs_alone(tag_dir, source_root):
    small = source_root / "tests" / "data" / "images" / "decoders" / "jpeg_420.jpg"  # 64 x 56
    paths = [tag_dir / "cat" / "a.png", small]
    rec = Recorder()
    assert rec.run(paths, jpeg_draft="clip") == rec.run(paths)


def test_jpeg_draft_changes_the_properties_tags(big_jpeg):
    def tags(**kw):
        with libprime.Tagger.properties() as t, libprime.TagStore() as s:
            assert t.tag_files([big_jpeg], ["c"], s, **kw) == 0
            return s.image_tag_names(0)
    assert tags() == tags(jpeg_draft=None)
    assert (tags(jpeg_draft="clip") != tags()) == TURBO


def test_jpeg_draft_options_versions(big_jpeg, monkeypatch):
    """Version 1 of prime_files_options unless the draft is asked for, and a
    library before 1.3 (which would ignore the field) refuses the option."""
    assert _lib.PRIME_FILES_OPTIONS_SIZE_V1 == 56 and _lib.PRIME_FILES_OPTIONS_SIZE_V2 == 64
    assert ctypes.sizeof(_lib.FilesOptions) == _lib.PRIME_FILES_OPTIONS_SIZE_V2
    lib = libprime._lib.load()
    sizes = []
    real = lib.prime_tagger_tag_files

    def spy(t, paths, classes, n, opts, store, failed):
        o = ctypes.cast(opts, ctypes.POINTER(_lib.FilesOptions)).contents
        sizes.append((o.struct_size, bool(o.jpeg_draft)))
        return real(t, paths, classes, n, opts, store, failed)
    monkeypatch.setattr(lib, "prime_tagger_tag_files", spy)
    rec = Recorder()
    rec.run([big_jpeg])
    rec.run([big_jpeg], jpeg_draft="ram")
    assert sizes == [(56, False), (64, True)]
    monkeypatch.setattr(lib, "prime_version_number", lambda: 10203)
    with pytest.raises(RuntimeError, match="jpeg_draft needs libprime 1.3 or later"):
        rec.run([big_jpeg], jpeg_draft="ram")
    assert rec.run([big_jpeg])[0][:2] == (1600, 1200)  # without it, a 1.2 library works


@pytest.mark.parametrize("bad,exc", [(True, TypeError), (False, TypeError), (1, TypeError),
                                     (2.0, TypeError), (b"clip", TypeError),
                                     ("on", ValueError), ("", ValueError)])
def test_jpeg_draft_bad_values(big_jpeg, bad, exc):
    with libprime.Tagger.properties() as t, libprime.TagStore() as s:
        with pytest.raises(exc, match="jpeg_draft"):
            t.tag_files([big_jpeg], ["c"], s, jpeg_draft=bad)
        with pytest.raises(exc, match="jpeg_draft"):
            t.tag_files_strict([big_jpeg], ["c"], s, jpeg_draft=bad)
        assert len(s) == 0
        closed = libprime.ImageSpec("clip")
        closed.close()
        with pytest.raises(ValueError, match="closed"):
            t.tag_files([big_jpeg], ["c"], s, jpeg_draft=closed)
