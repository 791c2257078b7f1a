"""libprime.Image / ImageSpec (python/libprime/_image.py): hand-worked pixels
and normalisation, errors, handle lifetime."""
from __future__ import annotations

import gc

import pytest

import libprime

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def test_load_gif(source_root):
    path = source_root / "tests" / "data" / "images" / "two_frames.gif"
    with libprime.Image.load(path) as im:
        assert im.size == (4, 3) and im.format == "gif"
        px = im.tobytes()
        assert len(px) == 36 and px[:3] == b"\xff\x00\x00"  # first frame: red
    with libprime.Image.from_bytes(path.read_bytes(), "g.gif") as im2:
        assert im2.tobytes() == px


def test_from_rgb_and_preprocess():
    rgb = bytes([255, 0, 128]) * (300 * 200)
    with libprime.Image.from_rgb(300, 200, rgb) as im:
        assert im.size == (300, 200) and im.format == "none" and im.tobytes() == rgb
        out = im.preprocess("clip", as_array=False)
        buf, shape = out
        assert shape == (3, 224, 224) and len(buf) == 3 * 224 * 224
        # a uniform image stays uniform through resize and crop
        for c, v in enumerate((255, 0, 128)):
            want = (v / 255 - CLIP_MEAN[c]) / CLIP_STD[c]
            plane = buf[c * 224 * 224:(c + 1) * 224 * 224]
            assert min(plane) == pytest.approx(want, abs=1e-5)
            assert max(plane) == pytest.approx(want, abs=1e-5)
    with libprime.Image.from_rgb(2, 2) as black:
        assert black.tobytes() == bytes(12)


def test_numpy(source_root):
    np = pytest.importorskip("numpy")
    a = np.zeros((5, 7, 3), dtype=np.uint8)
    a[..., 0] = 200
    with libprime.Image.from_array(a) as im:
        assert im.size == (7, 5)
        assert (im.to_array() == a).all()
        x = im.preprocess("clip")
        assert x.dtype == np.float32 and x.shape == (1, 3, 224, 224)


def test_errors(source_root, tmp_path):
    bad = source_root / "tests" / "data" / "images" / "bad"
    with pytest.raises(libprime.PrimeIOError):
        libprime.Image.load(tmp_path / "none.png")
    with pytest.raises(libprime.PrimeError) as e:
        libprime.Image.load(bad / "truncated.png")
    assert "truncated.png" in e.value.detail and e.value.status_name.startswith("PRIME_E_")
    with pytest.raises(libprime.LimitError):
        libprime.Image.load(source_root / "tests" / "data" / "images" / "two_frames.gif", 11)
    with pytest.raises(ValueError):
        libprime.Image.from_rgb(2, 2, b"\x00")
    with pytest.raises(libprime.PrimeError):
        libprime.Image.from_rgb(0, 2)
    with pytest.raises(ValueError):
        libprime.ImageSpec("nope")
    im = libprime.Image.from_rgb(1, 1)
    im.close()
    assert "closed" in repr(im)
    with pytest.raises(ValueError):
        im.width


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_no_leak(source_root):
    data = (source_root / "tests" / "data" / "images" / "two_frames.gif").read_bytes()
    spec = libprime.ImageSpec("clip")

    def cycle(k: int) -> None:
        for _ in range(k):
            with libprime.Image.from_bytes(data) as im:
                im.preprocess(spec, as_array=False)
                im.tobytes()
            try:
                libprime.Image.from_bytes(b"not an image")
            except libprime.PrimeError:
                pass
    cycle(200)
    gc.collect()
    before = _rss_kib()
    cycle(2000)
    gc.collect()
    assert _rss_kib() - before < 4096
    spec.close()
