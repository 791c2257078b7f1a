#!/usr/bin/python3
"""GIFs written byte by byte (frames that do not cover the canvas, transparent
and out-of-table indices, local colour tables, interlacing, grey ramps, odd
but valid LZW streams, extensions) and what Pillow makes of them, for
tests/test_image.c (Test image.gif_first_frame_matches_pillow; lib/image/decode_gif.c).

Run with Debian's /usr/bin/python3 (python3-pil):
    /usr/bin/python3 scripts/make_gif_reference.py

Writes tests/data/images/gif/*.gif, tests/data/images/gif_reference.txt
(NAME FILE PIPELINE W H HEX, as mode_reference.txt: PIPELINE "full" is
Image.open(f).convert("RGB") at full size, clip24 / ram20 the pipelines of
scripts/make_mode_reference.py) and tests/data/images/gif_refused.txt (FILE
and Pillow's exception for the files Pillow refuses: libprime must refuse
them too). Seeded: the same files every time.

The LZW encoder and the block writer here are written for these tests (so
that a stream can leave out its clear or end code, run past a full table or
use a 12-bit code size); `gif_cases(rng)` is also used by
scripts/check_gif_pillow.py, which compares many random variants.
"""
import io
import os
import random
import re
import struct
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_mode_reference import clip_order, ram_order  # noqa: E402

ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "data", "images")


def lzw(indices, mcs, clear_first=True, end=True, clear_when_full=True, literal=False,
        end_at=None):
    """LZW codes of the indices, packed LSB first. literal: every index its
    own code (no string codes; a 12-bit code size needs it in Pillow);
    end_at: an end code also after that many codes (the stream goes on)."""
    clear, eoi = 1 << mcs, (1 << mcs) + 1
    codesize, nxt = mcs + 1, clear + 2
    table = {(i,): i for i in range(clear)}
    codes = []
    if clear_first:
        codes.append((clear, codesize))
    if literal:
        codes += [(k, codesize) for k in indices]
    else:
        w = ()
        for k in indices:
            wk = w + (k,)
            if wk in table:
                w = wk
                continue
            codes.append((table[w], codesize))
            if nxt < 4096:
                table[wk] = nxt
                nxt += 1
                if nxt > (1 << codesize) and codesize < 12:
                    codesize += 1
            elif clear_when_full:
                codes.append((clear, codesize))
                table = {(i,): i for i in range(clear)}
                codesize, nxt = mcs + 1, clear + 2
            w = (k,)
        if w:
            codes.append((table[w], codesize))
    if end:
        codes.append((eoi, codesize))
    if end_at is not None:
        codes.insert(end_at, (eoi, codes[end_at][1]))
    acc = n = 0
    out = bytearray()
    for c, s in codes:
        acc |= c << n
        n += s
        while n >= 8:
            out.append(acc & 255)
            acc >>= 8
            n -= 8
    if n:
        out.append(acc & 255)
    return bytes(out)


def blocks(data, size=255, terminator=True):
    out = bytearray()
    for i in range(0, len(data), size):
        ch = data[i:i + size]
        out.append(len(ch))
        out += ch
    if terminator:
        out.append(0)
    return bytes(out)


def table_flags(pal):
    n = len(pal) // 3
    b = n.bit_length() - 1
    assert n >= 2 and 1 << b == n and len(pal) == 3 * n
    return 0x80 | (b - 1)


def gif(w, h, gpal=None, parts=(), bg=0, version=b"GIF89a", trailer=True):
    out = bytearray(version + struct.pack("<HH", w, h))
    if gpal is not None:
        out += bytes([table_flags(gpal), bg, 0]) + bytes(gpal)
    else:
        out += bytes([0, bg, 0])
    for p in parts:
        out += p
    if trailer:
        out += b";"
    return bytes(out)


def gce(trns=None, disposal=0, size=4):
    body = bytes([(disposal << 2) | (1 if trns is not None else 0), 5, 0,
                  trns or 0]) + bytes(size - 4)
    return bytes([0x21, 0xF9, size]) + body + b"\0"


def frame(x, y, w, h, idx, mcs=8, lpal=None, interlace=False, trns=None, disposal=0,
          data=None, **kw):
    out = bytearray()
    if trns is not None or disposal:
        out += gce(trns, disposal)
    flags = (table_flags(lpal) if lpal is not None else 0) | (0x40 if interlace else 0)
    out += b"," + struct.pack("<HHHH", x, y, w, h) + bytes([flags])
    if lpal is not None:
        out += bytes(lpal)
    if interlace:
        rows = [idx[r * w:(r + 1) * w] for r in range(h)]
        order = (list(range(0, h, 8)) + list(range(4, h, 8)) + list(range(2, h, 4))
                 + list(range(1, h, 2)))
        idx = [p for r in order for p in rows[r]]
    out.append(mcs)
    out += blocks(lzw(idx, mcs, **kw)) if data is None else data
    return bytes(out)


def ramp(n):
    return [v for i in range(n) for v in (i, i, i)]


def gif_cases(rng):
    """(name, bytes) of every case; random colours and indices from rng."""
    def pal(n):
        return [rng.randrange(256) for _ in range(3 * n)]

    def idx(n, k):
        return [rng.randrange(k) for _ in range(n)]

    p16, p4, p64 = pal(16), pal(4), pal(64)
    c = []
    c.append(("full_frame", gif(7, 5, p16, [frame(0, 0, 7, 5, idx(35, 16), mcs=4)])))
    # the first frame inside the canvas: the rest is index 0 (the
    # background index is not used), or the transparent index
    c.append(("partial_frame", gif(9, 7, p16, [frame(2, 1, 4, 3, idx(12, 16), mcs=4)], bg=5)))
    c.append(("partial_trns", gif(9, 7, p16, [frame(3, 2, 5, 4, idx(20, 16), mcs=4, trns=7)],
                                  bg=5)))
    c.append(("partial_trns_disposal", gif(9, 7, p16, [
        frame(0, 3, 6, 4, idx(24, 16), mcs=4, trns=2, disposal=2)], bg=9)))
    # transparent pixels inside the frame keep their index's colour
    c.append(("trns_inside", gif(8, 6, p16, [frame(0, 0, 8, 6, [3, 4, 3] * 16, mcs=4, trns=3)])))
    # colour tables
    c.append(("local_only", gif(7, 5, None, [frame(0, 0, 7, 5, idx(35, 16), mcs=4, lpal=p16)])))
    c.append(("local_over_global", gif(7, 5, p4, [frame(1, 1, 6, 4, idx(24, 64), mcs=6,
                                                        lpal=p64)])))
    c.append(("no_table", gif(7, 5, None, [frame(0, 0, 7, 5, idx(35, 256), mcs=8)])))
    c.append(("no_table_partial_trns", gif(7, 5, None, [
        frame(1, 1, 3, 3, idx(9, 256), mcs=8, trns=77)])))
    c.append(("grey_ramp_global", gif(7, 5, ramp(16), [
        frame(2, 0, 5, 5, idx(25, 16), mcs=4, trns=9)])))
    c.append(("grey_ramp_local_over_global", gif(7, 5, p16, [
        frame(0, 0, 7, 5, idx(35, 16) + [], mcs=4, lpal=ramp(16))])))
    # indices past the table: Pillow's palette continues as the grey ramp
    c.append(("index_past_table", gif(8, 4, p4, [frame(0, 0, 8, 4, idx(32, 256), mcs=8)])))
    c.append(("trns_past_table", gif(8, 4, p4, [frame(2, 1, 3, 2, idx(6, 4), mcs=8, trns=200)])))
    # interlaced, at heights that leave passes empty
    for h in (1, 2, 3, 5, 11):
        c.append(("interlaced_h%d" % h, gif(5, h, p16, [
            frame(0, 0, 5, h, idx(5 * h, 16), mcs=4, interlace=True)])))
    c.append(("interlaced_partial", gif(9, 12, p16, [
        frame(1, 2, 6, 9, idx(54, 16), mcs=4, interlace=True, trns=4)])))
    # the frame reaches past the logical screen: Pillow grows the canvas
    c.append(("frame_past_screen", gif(6, 4, p16, [frame(3, 2, 5, 4, idx(20, 16), mcs=4)])))
    c.append(("screen_zero", gif(0, 0, p16, [frame(0, 0, 4, 3, idx(12, 16), mcs=4)])))
    # LZW streams: no clear code first, no end code, a full table kept
    # without a clear code (deferred clear), 12-bit codes (literal)
    c.append(("no_clear_code", gif(7, 5, p16, [frame(0, 0, 7, 5, idx(35, 16), mcs=4,
                                                     clear_first=False)])))
    c.append(("no_end_code", gif(7, 5, p16, [frame(0, 0, 7, 5, idx(35, 16), mcs=4,
                                                   end=False)])))
    big, p256 = idx(90 * 60, 256), pal(256)  # about 4,900 codes: the table fills
    c.append(("full_table_kept", gif(90, 60, p256, [
        frame(0, 0, 90, 60, big, mcs=8, clear_when_full=False)])))
    c.append(("full_table_cleared", gif(90, 60, p256, [frame(0, 0, 90, 60, big, mcs=8)])))
    c.append(("code_size_2", gif(6, 3, p4, [frame(0, 0, 6, 3, idx(18, 4), mcs=2)])))
    c.append(("code_size_12_literal", gif(6, 3, p16, [
        frame(0, 0, 6, 3, [rng.randrange(4096) for _ in range(18)], mcs=12, literal=True)])))
    # more codes than pixels: the image is complete at its last pixel
    c.append(("data_after_image", gif(4, 3, p16, [frame(0, 0, 4, 3, idx(12, 16) + idx(30, 16),
                                                        mcs=4)])))
    # extensions and the bytes between blocks
    comment = b"\x21\xfe" + blocks(b"made for libprime's tests")
    app = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    plain = b"\x21\x01" + blocks(bytes(13))
    junk = b"\x00\x07"
    c.append(("extensions", gif(7, 5, p16, [comment, app, plain, junk, gce(trns=1, size=6),
                                            frame(0, 0, 7, 5, idx(35, 16), mcs=4)])))
    c.append(("two_gce_last_without_flag", gif(7, 5, p16, [
        gce(trns=3), gce(None, disposal=1), frame(1, 0, 5, 5, idx(25, 16), mcs=4)])))
    c.append(("gif87a", gif(7, 5, p16, [frame(0, 0, 7, 5, idx(35, 16), mcs=4)],
                            version=b"GIF87a")))
    c.append(("small_blocks", gif(9, 6, p16, [frame(0, 0, 9, 6, idx(54, 16), mcs=4,
                                                    data=blocks(lzw(idx(54, 16), 4), size=3))])))
    # later frames: frame 0 only, whatever they do
    f0 = idx(35, 16)
    c.append(("animated", gif(7, 5, p16, [
        frame(0, 0, 7, 5, f0, mcs=4, trns=0, disposal=2),
        frame(2, 2, 3, 3, idx(9, 16), mcs=4, lpal=p4 * 4, trns=1, disposal=3),
        frame(0, 0, 7, 5, idx(35, 16), mcs=4)])))
    # Pillow refuses these (and so must libprime)
    whole = frame(0, 0, 7, 5, idx(35, 16), mcs=4)
    c.append(("bad_truncated_data", gif(7, 5, p16, [whole[:-6]], trailer=False)))
    c.append(("bad_early_end_code", gif(7, 5, p16, [frame(0, 0, 7, 5, idx(20, 16), mcs=4)])))
    c.append(("bad_code_past_table", gif(7, 5, p16, [
        frame(0, 0, 7, 5, None, mcs=4, data=blocks(bytes([0x10, 0xff, 0xff])))])))
    c.append(("bad_empty_frame", gif(7, 5, p16, [frame(0, 0, 0, 5, [], mcs=4)])))
    c.append(("bad_code_size_13", gif(7, 5, p16, [
        frame(0, 0, 7, 5, None, mcs=13, data=blocks(lzw(idx(35, 16), 4)))])))
    c.append(("bad_short_gce", gif(7, 5, p16, [b"\x21\xf9\x02\x01\x00\x00",
                                               frame(0, 0, 7, 5, idx(35, 16), mcs=4)])))
    c.append(("bad_no_image", gif(7, 5, p16, [comment])))
    c.append(("bad_empty_app_extension", gif(7, 5, p16, [b"\x21\xff\x00",
                                                         frame(0, 0, 7, 5, idx(35, 16), mcs=4)])))
    return c


def pillow(data):
    """(mode, RGB image) of Image.open(...).convert("RGB"), or the exception"""
    try:
        im = Image.open(io.BytesIO(data))
        mode = im.mode
        return mode, im.convert("RGB"), im
    except Exception as e:  # noqa: BLE001 - any refusal counts
        return None, e, None


def main():
    rng = random.Random(1717)
    os.makedirs(os.path.join(OUT, "gif"), exist_ok=True)
    lines = ["# made by scripts/make_gif_reference.py; do not edit.",
             "# NAME FILE PIPELINE W H HEX (RGB bytes, row by row; full: convert(\"RGB\"))"]
    refused = ["# made by scripts/make_gif_reference.py; do not edit.",
               "# FILE PILLOW'S EXCEPTION (Pillow refuses the file; libprime must too)"]
    for name, data in gif_cases(rng):
        fname = "gif/%s.gif" % name
        with open(os.path.join(OUT, fname), "wb") as f:
            f.write(data)
        mode, rgb, _ = pillow(data)
        if mode is None:
            assert name.startswith("bad_"), (name, rgb)
            why = re.sub(r" <_io.BytesIO object at 0x[0-9a-f]+>", "", str(rgb))
            refused.append("%s %s: %s" % (fname, type(rgb).__name__, why))
            continue
        assert not name.startswith("bad_"), name
        lines.append("# %s: PIL mode %s, %d x %d" % (name, mode, rgb.size[0], rgb.size[1]))
        lines.append("%s %s full %d %d %s" % (name, fname, rgb.size[0], rgb.size[1],
                                              rgb.tobytes().hex()))
        for pipe in ("clip24", "ram20"):
            s = int(pipe[-2:])
            try:
                back = Image.open(os.path.join(OUT, fname))
                out = clip_order(back, s) if pipe.startswith("clip") else ram_order(back, s)
            except Exception as e:  # noqa: BLE001
                lines.append("# %s %s: Pillow fails (%s: %s)" % (name, pipe, type(e).__name__, e))
                continue
            lines.append("%s %s %s %d %d %s" % (name, fname, pipe, out.size[0], out.size[1],
                                                out.tobytes().hex()))
    with open(os.path.join(OUT, "gif_reference.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(OUT, "gif_refused.txt"), "w") as f:
        f.write("\n".join(refused) + "\n")
    print("%d decoded lines, %d refused" % (sum(1 for l in lines if not l.startswith("#")),
                                              len(refused) - 2))
    for l in lines + refused:
        if l.startswith("#") or "gif/bad_" in l:
            print(l[:160])


if __name__ == "__main__":
    main()
