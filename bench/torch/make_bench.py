#!/usr/bin/python3
"""Benchmark data for libprime-torch (bench/torch/README.md), and the Python
side of the comparison.

    /usr/bin/python3 bench/torch/make_bench.py make DIR [N]
        writes N (300) 500x375 JPEGs (quality 90, seeded synthetic scenes) to
        DIR/images/, a ResNet-18 (torchvision, random seeded weights, scripted)
        to DIR/resnet18.pt and its 1000 output names to DIR/vocab.txt;
    /usr/bin/python3 bench/torch/make_bench.py python DIR [THREADS] [BATCH]
        times, on DIR/images, PIL + torchvision preprocessing alone
        (Resize(224) + CenterCrop(224) + ToTensor + Normalize), the model's
        forward alone, and both end to end, batch 32: images/s (each the best
        of 3 interleaved rounds);
    /usr/bin/python3 bench/torch/make_bench.py vit DIR
        writes a ViT-B/16 (torchvision's vit_b_16, the size of CLIP ViT-B/16's
        image tower: 86 M parameters, 224 px, random seeded weights, scripted)
        to DIR/vit_b_16.pt and its 1000 output names to DIR/vocab.txt (for
        bench/torch/e2e_real.py).
"""
import os
import sys
import time

import numpy as np
import torch
from PIL import Image, ImageDraw
from torchvision import models
from torchvision import transforms as T


def make(out, n):
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:375, 0:500].astype(np.float32)
    for i in range(n):
        c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        t = (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1)) / 500.0
        t = (t - t.min()) / (np.ptp(t) + 1e-6)
        img = c0 * (1 - t[..., None]) + c1 * t[..., None]
        img += rng.normal(0, 12, img.shape)
        im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
        d = ImageDraw.Draw(im)
        for _ in range(12):
            x0, y0 = rng.integers(0, 450), rng.integers(0, 330)
            box = [x0, y0, x0 + rng.integers(10, 200), y0 + rng.integers(10, 150)]
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            (d.ellipse if rng.random() < 0.5 else d.rectangle)(box, fill=fill)
        im.save(os.path.join(out, "images", "img_%04d.jpg" % i), quality=90)
    torch.manual_seed(0)
    model = models.resnet18(weights=None).eval()
    torch.jit.script(model).save(os.path.join(out, "resnet18.pt"))
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("".join("class%03d\n" % k for k in range(1000)))
    print("wrote %d images, resnet18.pt and vocab.txt to %s" % (n, out))


def vit(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = models.vit_b_16(weights=None).eval()
    torch.jit.script(model).save(os.path.join(out, "vit_b_16.pt"))
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("".join("class%03d\n" % k for k in range(1000)))
    print("wrote vit_b_16.pt and vocab.txt to %s" % out)


def python(out, threads, batch, rounds=3):
    torch.set_num_threads(threads)
    paths = sorted(os.path.join(out, "images", p) for p in os.listdir(os.path.join(out, "images")))
    tf = T.Compose([T.Resize(224), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    model = torch.jit.load(os.path.join(out, "resnet18.pt")).eval()

    def prep(chunk):
        return torch.stack([tf(Image.open(p).convert("RGB")) for p in chunk])

    chunks = [paths[i:i + batch] for i in range(0, len(paths), batch)]
    best = {"prep": 1e30, "fwd": 1e30, "e2e": 1e30}
    with torch.inference_mode():
        x = prep(chunks[0])
        for _ in range(3):  # warm-up: the profiling executor specialises per shape
            model(x)
            model(x[:len(chunks[-1])])
        for r in range(rounds):  # interleaved rounds, the best time of each kept
            t0 = time.perf_counter()
            for c in chunks:
                prep(c)
            best["prep"] = min(best["prep"], time.perf_counter() - t0)
            t0 = time.perf_counter()
            for c in chunks:
                model(x[:len(c)])
            best["fwd"] = min(best["fwd"], time.perf_counter() - t0)
            t0 = time.perf_counter()
            for c in chunks:
                model(prep(c))
            best["e2e"] = min(best["e2e"], time.perf_counter() - t0)
    t_prep, t_fwd, t_e2e = best["prep"], best["fwd"], best["e2e"]
    n = len(paths)
    print("python threads=%d batch=%d images=%d rounds=%d" % (threads, batch, n, rounds))
    print("python_preprocess_img_per_s %.1f" % (n / t_prep))
    print("python_forward_img_per_s %.1f" % (n / t_fwd))
    print("python_end_to_end_img_per_s %.1f" % (n / t_e2e))


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("make", "python", "vit"):
        sys.exit(__doc__)
    if sys.argv[1] == "vit":
        vit(sys.argv[2])
    elif sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 300)
    else:
        python(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 2,
               int(sys.argv[4]) if len(sys.argv) > 4 else 32)
