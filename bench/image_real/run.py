#!/usr/bin/python3
"""The real-photo preprocessing benchmark of issue 17: libprime's C
preprocessing (bench/image_real/bench_image.c, per decoder: "C auto" the
build's decoders, "C spng" the same without the libdeflate PNG path
(PRIME_IMAGE_DECODER=spng), "C stb" stb_image alone) against PIL +
torchvision, one core each, at CLIP's 224 px and RAM's 384 px. Reports
figures; not a test.

    /usr/bin/python3 bench/image_real/run.py [--build build] [--repeat 3] [--out DIR]

Needs python3-pil, python3-torchvision, python3-skimage, and the Debian
wallpaper packages lomiri-wallpapers-20.04 and mate-backgrounds
(scripts/deps.sh). The photo set (written to DIR, default
BUILD/bench-images) is made of real photos as Debian ships them, plus a
few re-encoded files where no shipped file has the mode or size (marked
"re-encoded" in the list it prints): a grey JPEG, small JPEGs of 100-150
px, palette PNGs (a photo quantised to 256 colours) and a 3840 px PNG
(a shipped JPEG photo saved as PNG).

Each figure is the best of --repeat rounds per image (a round runs each
configuration once over the whole set, so that all of them meet the
machine's quiet and busy moments alike) (file read, decode,
resize, crop, normalise to a float tensor) in CPU time of the one thread
that does the work (C: CLOCK_THREAD_CPUTIME_ID; Python: time.thread_time,
torch limited to one thread), so that a busy machine does not inflate it
as it does wall time; summed over a category's images. "PIL / C" is PIL's
time divided by C's (above 1: C is faster).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

import torch
import torchvision.transforms as T
from PIL import Image

SK = "/usr/lib/python3/dist-packages/skimage/data"
BG = "/usr/share/backgrounds"
IMAGEIO = "/usr/lib/python3/dist-packages/imageio/resources/images"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMNET_MEAN = (0.485, 0.456, 0.406)
IMNET_STD = (0.229, 0.224, 0.225)

# (category, source, how): how = "as shipped" or a re-encoding
SHIPPED = [
    ("JPEG colour", SK + "/rocket.jpg"), ("JPEG colour", SK + "/hubble_deep_field.jpg"),
    ("JPEG colour", SK + "/retina.jpg"),
    ("JPEG colour", BG + "/Fossa_by_Jasper_Roks.jpg"),
    ("JPEG colour", BG + "/Infinite-Sea_by_Aury88.jpg"),
    ("JPEG colour", BG + "/mate/abstract/Elephants.jpg"),
    ("JPEG colour", BG + "/mate/abstract/Elephants_3840x2160.jpg"),
    ("JPEG colour", BG + "/mate/desktop/GreenTraditional.jpg"),
] + [("JPEG colour", BG + "/mate/nature/" + n + ".jpg") for n in
     ["Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird",
      "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower"]] + [
    ("PNG RGB", SK + "/" + n + ".png") for n in
    ["astronaut", "chelsea", "coffee", "motorcycle_left", "ihc", "color"]] + [
    ("PNG RGB", BG + "/mate/desktop/Ubuntu-Mate-Cold-no-logo.png"),
    ("PNG RGB", BG + "/mate/desktop/Ubuntu-Mate-Warm-no-logo.png"),
] + [("PNG grey", SK + "/" + n + ".png") for n in
     ["camera", "moon", "coins", "brick", "grass", "gravel", "cell", "microaneurysms",
      "page", "text"]] + [
    ("PNG palette", SK + "/green_palette.png"),
    ("PNG RGBA", SK + "/horse.png"), ("PNG RGBA", SK + "/logo.png"),
] + [("PNG RGBA", BG + "/mate/abstract/" + n + ".png") for n in
     ["Flow", "Gulp", "Silk", "Spring", "Waves"]] + [
    ("PNG RGBA", BG + "/mate/desktop/Stripes.png"),  # grey + alpha (LA)
    ("GIF palette", IMAGEIO + "/newtonscradle.gif"),
]


def make_set(out):
    os.makedirs(out, exist_ok=True)
    files = []
    for cat, src in SHIPPED:
        dst = os.path.join(out, os.path.basename(src))
        if not os.path.exists(dst):
            shutil.copyfile(src, dst)
        files.append((cat, dst, "as shipped"))

    def derived(cat, name, make):
        dst = os.path.join(out, name)
        if not os.path.exists(dst):
            make(dst)
        files.append((cat, dst, "re-encoded"))
    derived("JPEG grey", "camera_grey.jpg",
            lambda d: Image.open(SK + "/camera.png").convert("L").save(d, quality=90))
    derived("JPEG grey", "garden_grey.jpg",
            lambda d: Image.open(BG + "/mate/nature/Garden.jpg").convert("L").save(d, quality=90))
    derived("JPEG colour", "chelsea_150.jpg",
            lambda d: Image.open(SK + "/chelsea.png").resize((150, 100), Image.LANCZOS)
            .save(d, quality=90))
    derived("JPEG colour", "coffee_120.jpg",
            lambda d: Image.open(SK + "/coffee.png").resize((120, 80), Image.LANCZOS)
            .save(d, quality=90))
    derived("PNG palette", "chelsea_palette.png",
            lambda d: Image.open(SK + "/chelsea.png").convert("RGB").quantize(256).save(d))
    derived("PNG palette", "wood_palette.png",
            lambda d: Image.open(BG + "/mate/nature/Wood.jpg").quantize(256).save(d))
    derived("PNG RGB", "elephants_3840.png",
            lambda d: Image.open(BG + "/mate/abstract/Elephants_3840x2160.jpg").save(d))
    return files


def clip_size(w, h, s):
    return (s, int(s * h / w)) if w <= h else (int(s * w / h), s)


def pil_pipeline(preset):
    if preset == "clip":
        return T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BICUBIC),
                          T.CenterCrop(224), lambda im: im.convert("RGB"), T.ToTensor(),
                          T.Normalize(CLIP_MEAN, CLIP_STD)])
    return T.Compose([lambda im: im.convert("RGB"), T.Resize((384, 384)), T.ToTensor(),
                      T.Normalize(IMNET_MEAN, IMNET_STD)])


def time_pil(files, preset, draft, repeat):
    tf = pil_pipeline(preset)
    out = {}
    for _, f, _ in files:
        best = 1e30
        for _ in range(repeat):
            t0 = time.thread_time()
            im = Image.open(f)
            if draft and im.format == "JPEG":
                size = clip_size(im.width, im.height, 224) if preset == "clip" else (384, 384)
                im.draft("RGB", size)
            tf(im)
            best = min(best, time.thread_time() - t0)
        out[f] = best * 1e3
    return out


def time_c(exe, files, preset, draft, repeat, decoder):
    env = dict(os.environ)
    env.pop("PRIME_IMAGE_DECODER", None)
    if decoder in ("stb", "spng"):
        env["PRIME_IMAGE_DECODER"] = decoder
    r = subprocess.run([exe, preset, str(draft), str(repeat)] + [f for _, f, _ in files],
                       env=env, capture_output=True, text=True, check=True)
    out = {}
    for line in r.stdout.splitlines():
        f, ms, _, _ = line.split("\t")
        out[f] = float(ms)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(1)
    exe = os.path.join(a.build, "bench", "prime-bench-image")
    files = make_set(a.out or os.path.join(a.build, "bench-images"))
    cats = []
    for c, _, _ in files:
        if c not in cats:
            cats.append(c)
    print("photo set (%d files):" % len(files))
    for c, f, how in files:
        with Image.open(f) as im:
            print("  %-12s %-40s %-9s %4d x %-4d %s" % (c, os.path.basename(f), im.mode,
                                                       im.width, im.height, how))
    for preset in ("clip", "ram"):
        # rounds interleave the six configurations, so that each meets the
        # machine's quiet and busy moments alike; the best of the rounds
        # counts for each image
        runs = [lambda: time_c(exe, files, preset, 0, 1, "auto"),
                lambda: time_c(exe, files, preset, 0, 1, "spng"),
                lambda: time_c(exe, files, preset, 0, 1, "stb"),
                lambda: time_c(exe, files, preset, 1, 1, "auto"),
                lambda: time_pil(files, preset, False, 1),
                lambda: time_pil(files, preset, True, 1)]
        best = [None] * len(runs)
        for _ in range(a.repeat):
            for k, run in enumerate(runs):
                r = run()
                best[k] = r if best[k] is None else {f: min(best[k][f], r[f]) for f in r}
        cols = list(zip(["C auto", "C spng", "C stb", "C auto+draft", "PIL", "PIL+draft"], best))
        print("\n%s (%d px), ms per image (sum over the category / count), one core:" %
              (preset.upper(), 224 if preset == "clip" else 384))
        hdr = "| category | n | " + " | ".join(n for n, _ in cols) + \
              " | PIL / C auto | PIL / C stb | PIL+draft / C auto+draft | PIL / C auto+draft |"
        print(hdr)
        print("|" + "---|" * (hdr.count("|") - 1))
        for c in cats + ["all"]:
            fs = [f for cc, f, _ in files if c in ("all", cc)]
            s = [sum(col[f] for f in fs) for _, col in cols]
            print("| %s | %d | %s | %.2fx | %.2fx | %.2fx | %.2fx |" % (
                c, len(fs), " | ".join("%.1f" % (x / len(fs)) for x in s),
                s[4] / s[0], s[4] / s[2], s[5] / s[3], s[4] / s[3]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
