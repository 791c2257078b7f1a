#!/usr/bin/python3
"""The tolerance of the JPEG draft (issue 17): libprime's tensors with the
draft (prime_image_spec_set_jpeg_draft, what `prime tag` and `prime
classify` use by default) against PIL + torchvision's without it (what CLIP
and RAM use), on the photo set of bench/image_real/run.py, per category and
preset (CLIP 224 bicubic, RAM 384 bilinear), and the effect on a model's
output. Reports figures; not a test (the Pillow reference tests of suite
image check the draft byte for byte against PIL's own draft).

    /usr/bin/python3 bench/image_real/tolerance.py [--build build] [--set DIR]
        [--model M.pt]...

For each photo and preset: the largest and the mean absolute difference of
the normalised tensors, and the same in pixel levels (of 255: the tensor
difference times the channel's std times 255). With --model PRESET=M.pt (a
TorchScript file taking [N, 3, S, S] at the preset's size; once per preset;
PRESET mobilenet adds the preprocessing of examples/real-model, 224 px
shorter side, centre crop, bilinear, [0, 1]): 1 - cosine(output with C
draft, output with PIL) per photo, the largest and the mean. Only the JPEGs that the draft reduces differ (the draft needs the
resize size to be at most half the image on both sides); the other files
are identical (0), as bench/image_real/agree.py reports.
"""
import argparse
import ctypes
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "python"))


SIZE = {"clip": 224, "ram": 384, "mobilenet": 224}


def pil_pipeline(run, preset):
    if preset != "mobilenet":
        return run.pil_pipeline(preset)
    import torchvision.transforms as T
    return T.Compose([lambda im: im.convert("RGB"), T.Resize(224), T.CenterCrop(224),
                      T.ToTensor()])


def c_tensor(L, lib, path, preset, draft):
    """libprime's batch of one file; mobilenet: the IMAGENET preset as
    examples/real-model runs it (--size 224 --resize 224 --mean 0,0,0
    --std 1,1,1)."""
    import numpy as np
    spec = L.ImageSpecP()
    pre = {"clip": 2, "ram": 1, "mobilenet": 3}[preset]
    assert lib.prime_image_spec_create(pre, ctypes.byref(spec)) == 0
    if preset == "mobilenet":
        z, o = (ctypes.c_double * 3)(0, 0, 0), (ctypes.c_double * 3)(1, 1, 1)
        assert lib.prime_image_spec_set_resize(spec, 1, 224, 224, 224) == 0
        assert lib.prime_image_spec_set_normalize(spec, z, o) == 0
    assert lib.prime_image_spec_set_jpeg_draft(spec, draft) == 0
    b = L.ImageBatchP()
    arr = (ctypes.c_char_p * 1)(path.encode())
    st = lib.prime_image_batch_load(arr, 1, spec, 1, ctypes.byref(b))
    assert st == 0 and lib.prime_image_batch_status(b, 0) == 0, path
    s = SIZE[preset]
    n = 3 * s * s
    t = np.ctypeslib.as_array(lib.prime_image_batch_tensor(b), shape=(n,)).copy()
    lib.prime_image_batch_destroy(b)
    lib.prime_image_spec_destroy(spec)
    return t.reshape(1, 3, s, s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--set")
    ap.add_argument("--model", action="append", default=[],
                    help="PRESET=M.pt: a model run on that preset's tensors")
    a = ap.parse_args()
    os.environ["PRIME_LIBRARY"] = os.path.abspath(os.path.join(a.build, "lib", "libprime.so.1"))
    import numpy as np
    import torch
    from PIL import Image as PImage

    import libprime  # noqa: F401 (loads the library)
    from libprime import _lib as L
    from libprime._core import _l
    import run
    torch.set_num_threads(2)
    lib = _l()
    files = run.make_set(a.set or os.path.join(a.build, "bench-images"))
    models = {}
    for m in a.model:
        pre, path = m.split("=", 1)
        models[pre] = (os.path.basename(path), torch.jit.load(path).eval())
    presets = ["clip", "ram"] + (["mobilenet"] if "mobilenet" in models else [])
    stds = {"clip": np.array(run.CLIP_STD), "ram": np.array(run.IMNET_STD),
            "mobilenet": np.ones(3)}
    rows = []
    for cat, f, _ in files:
        for preset in presets:
            c = c_tensor(L, lib, f, preset, 1)
            p = pil_pipeline(run, preset)(PImage.open(f)).numpy()[None]
            d = np.abs(c - p)
            lev = d * stds[preset][None, :, None, None] * 255.0
            cos = None
            if preset in models:
                m = models[preset][1]
                with torch.inference_mode():
                    oc = m(torch.from_numpy(c)).flatten().double()
                    op = m(torch.from_numpy(p)).flatten().double()
                cos = 1.0 - float(torch.nn.functional.cosine_similarity(oc, op, dim=0))
            rows.append((cat, preset, float(d.max()), float(d.mean()), float(lev.max()),
                         float(lev.mean()), cos))
    cats = []
    for c, _, _ in files:
        if c not in cats:
            cats.append(c)
    print("C with the JPEG draft against PIL + torchvision without it (%d photos); models: %s"
          % (len(files), ", ".join("%s on %s" % (v[0], k) for k, v in models.items())))
    hdr = ("| category | preset | n | identical | max abs (tensor) | mean abs (tensor) | "
           "max (levels) | mean (levels) | 1 - cos, max | 1 - cos, mean |")
    print(hdr)
    print("|" + "---|" * (hdr.count("|") - 1))
    for cat in cats + ["all"]:
        for preset in presets:
            r = [x for x in rows if x[1] == preset and cat in ("all", x[0])]
            line = "| %s | %s | %d | %d | %.4g | %.3g | %.3g | %.3g |" % (
                cat, preset, len(r), sum(x[2] == 0 for x in r), max(x[2] for x in r),
                sum(x[3] for x in r) / len(r), max(x[4] for x in r),
                sum(x[5] for x in r) / len(r))
            v = [x[6] for x in r if x[6] is not None]
            line += " %.3g | %.3g |" % (max(v), sum(v) / len(v)) if v else " - | - |"
            print(line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
