#!/usr/bin/python3
"""The photo set of bench/image_real/run.py stage by stage (issue 17): the C
path (prime-bench-stages: read, decode, resize + crop, normalise, and the
batch loader's whole path) against the floor of its decoder (TurboJPEG at
the draft's DCT scale, libdeflate's inflate of the IDAT data alone) and
against PIL + torchvision doing the same (open + draft + load, convert,
resize, crop, to tensor + normalise), at the preset that `prime classify
--size 224 --resize 224 --mean 0,0,0 --std 1,1,1` uses (ImageNet's: shorter
side 224 bilinear, centre crop 224, convert to RGB first, JPEG draft).
One thread, CPU time of the thread, best of --repeat per file and stage.
Reports figures; not a test.

    /usr/bin/python3 bench/image_real/stages.py [--build build] [--repeat 5]
        [--set DIR] [--per-file]
"""
import argparse
import os
import subprocess
import sys
import time

import torch
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the photo set)


def pil_stages(f, repeat):
    """best ms of: decode (open, draft, load), convert, resize, crop, tensor"""
    resize = T.Resize(224, interpolation=T.InterpolationMode.BILINEAR)
    crop = T.CenterCrop(224)
    tens = T.Compose([T.ToTensor(), T.Normalize((0, 0, 0), (1, 1, 1))])
    best = [1e30] * 5
    for _ in range(repeat):
        t = [time.thread_time()]
        im = Image.open(f)
        if im.format == "JPEG":
            im.draft("RGB", run.clip_size(im.width, im.height, 224))
        im.load()
        t.append(time.thread_time())
        im = im.convert("RGB")
        t.append(time.thread_time())
        im = resize(im)
        t.append(time.thread_time())
        im = crop(im)
        t.append(time.thread_time())
        tens(im)
        t.append(time.thread_time())
        best = [min(b, (t[k + 1] - t[k]) * 1e3) for k, b in enumerate(best)]
    return best


def progressive(f):
    """a progressive JPEG (an SOF2 frame header)"""
    d = open(f, "rb").read()
    i = 2
    while i + 4 <= len(d) and d[i] == 0xFF:
        m = d[i + 1]
        if m in (0xC0, 0xC1):
            return False
        if m == 0xC2:
            return True
        i += 2 + (d[i + 2] << 8 | d[i + 3])
    return False


def kind(cat, f, w, h, dw):
    if cat.startswith("GIF"):
        return "GIF"
    big = w * h >= 1_000_000
    if cat.startswith("JPEG") and dw == (w + 7) // 8 and progressive(f):
        return "JPEG progressive, 1/8 (DC only)"
    if cat.startswith("JPEG"):
        return "JPEG >= 1 Mpx" if big else "JPEG < 1 Mpx"
    if cat in ("PNG RGBA",):
        return "PNG alpha >= 1 Mpx" if big else "PNG alpha < 1 Mpx"
    return "PNG >= 1 Mpx" if big else "PNG < 1 Mpx"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--set")
    ap.add_argument("--per-file", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    files = run.make_set(a.set or os.path.join(a.build, "bench-images"))
    exe = os.path.join(a.build, "bench", "prime-bench-stages")
    r = subprocess.run([exe, str(a.repeat)] + [f for _, f, _ in files], capture_output=True,
                       text=True, check=True)
    c = {}
    for line in r.stdout.splitlines():
        p = line.split("\t")
        c[p[0]] = [float(x) for x in p[1:7]] + [p[7], float(p[10]), int(p[8])]
    rows = {}
    for cat, f, _ in files:
        with Image.open(f) as im:
            w, h = im.size
        read, dec, tr, norm, tot, fl, fk, sp, dw = c[f]
        k = kind(cat, f, w, h, dw)
        pil = pil_stages(f, a.repeat)
        if a.per_file:
            print("%-30s %-18s %4dx%-4d C: read %.2f decode %.2f resize %.2f norm %.2f total "
                  "%.2f | floor %s %.2f libspng %.2f | PIL: decode %.2f convert %.2f resize %.2f crop %.2f "
                  "tensor %.2f total %.2f" % (os.path.basename(f), k, w, h, read, dec, tr, norm,
                                              tot, fk, fl, sp, *pil, sum(pil)))
        rows.setdefault(k, []).append((dec + read, fl, tr, max(norm, 0.0), tot, pil, fk, sp))
    print("| photos | n | C decode (read incl.) | floor of the decode | libspng decode | "
          "C resize + crop | "
          "C normalise | C total | PIL decode | PIL convert + resize + crop | PIL to tensor | "
          "PIL total | C total / PIL total |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    order = ["JPEG progressive, 1/8 (DC only)", "JPEG >= 1 Mpx", "JPEG < 1 Mpx", "PNG >= 1 Mpx", "PNG < 1 Mpx", "PNG alpha >= 1 Mpx",
             "PNG alpha < 1 Mpx", "GIF"]
    allr = []
    for k in order + ["all"]:
        rs = allr if k == "all" else rows.get(k, [])
        if k != "all":
            allr += rs
        if not rs:
            continue
        n = len(rs)
        s = lambda i: sum(x[i] for x in rs) / n  # noqa: E731
        fl = [x[1] for x in rs if x[1] >= 0]
        fls = "%.2f (%d of %d)" % (sum(fl) / len(fl), len(fl), n) if fl else "-"
        pil = [sum(x[5][j] for x in rs) / n for j in range(5)]
        sp = [x[7] for x in rs if x[7] >= 0]
        sps = "%.2f (%d of %d)" % (sum(sp) / len(sp), len(sp), n) if sp else "-"
        print("| %s | %d | %.2f | %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
            k, n, s(0), fls, sps, s(2), s(3), s(4), pil[0], pil[1] + pil[2] + pil[3], pil[4],
            sum(pil), s(4) / sum(pil)))


if __name__ == "__main__":
    main()
