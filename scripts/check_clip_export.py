#!/usr/bin/python3
"""Checks docs/backends.md's CLIP export recipe against OpenAI's own
clip/model.py, with random weights (issue 17). Not part of the test suite:
CLIP is not vendored (run it where a checkout exists).

    /usr/bin/python3 scripts/check_clip_export.py CLIP_SRC [OUT_DIR]

CLIP_SRC is a checkout of https://github.com/openai/CLIP (the directory
holding clip/model.py; only that file is loaded, by path: it needs torch and
numpy alone). Two small CLIPs, one with a vision transformer and one with
CLIP's modified ResNet, both with CLIP's text transformer (context 77,
vocabulary 49,408), are traced as the recipe says (ImageSide / TextSide,
example batch 2, check_inputs of batches 1 and 3) and compared with the
eager model at batches of 1, 2, 3 and 5. Writes OUT_DIR/clip_{vit,rn}_image.pt
and _text.pt (OUT_DIR defaults to /tmp/clip-export-check), 32 x 32 images,
for libprime-torch's batch guard, e.g.
    prime tag --backend zeroshot --image-model OUT_DIR/clip_vit_image.pt
      --text-model OUT_DIR/clip_vit_text.pt --bpe data/clip/bpe_simple_vocab_16e6.txt.gz
      --vocab V.txt --size 32 --images DIR --output tags.csv
which must load them (no false refusal).
"""
import importlib.util
import os
import sys

import torch


class ImageSide(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m.encode_image(x)


class TextSide(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, ids):
        return self.m.encode_text(ids)


def tokens(n, g):
    ids = torch.zeros(n, 77, dtype=torch.long)
    for i in range(n):
        k = 3 + i % 5
        ids[i, 0] = 49406
        ids[i, 1:1 + k] = torch.randint(256, 49000, (k,), generator=g)
        ids[i, 1 + k] = 49407
    return ids


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    spec = importlib.util.spec_from_file_location("clip_model",
                                                  os.path.join(sys.argv[1], "clip", "model.py"))
    clip = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clip)
    out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/clip-export-check"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    ok = True
    for name, layers, width in (("vit", 2, 64), ("rn", (1, 1, 1, 1), 16)):
        model = clip.CLIP(embed_dim=32, image_resolution=32, vision_layers=layers,
                          vision_width=width, vision_patch_size=8, context_length=77,
                          vocab_size=49408, transformer_width=64, transformer_heads=2,
                          transformer_layers=2).float().eval()
        g = torch.Generator().manual_seed(1)
        img = lambda n: torch.randn(n, 3, 32, 32, generator=g)
        with torch.no_grad():
            ti = torch.jit.trace(ImageSide(model), img(2), check_inputs=[(img(1),), (img(3),)])
            tt = torch.jit.trace(TextSide(model), tokens(2, g),
                                 check_inputs=[(tokens(1, g),), (tokens(3, g),)])
            for n in (1, 2, 3, 5):
                x, t = img(n), tokens(n, g)
                di = (ti(x) - model.encode_image(x)).abs().max().item()
                dt = (tt(t) - model.encode_text(t)).abs().max().item()
                print("%s: batch %d: image side off by %.3g, text side by %.3g" % (name, n, di, dt))
                ok &= di < 1e-4 and dt < 1e-4
        ti.save(os.path.join(out, "clip_%s_image.pt" % name))
        tt.save(os.path.join(out, "clip_%s_text.pt" % name))
    print("wrote %s; RESULT: %s" % (out, "as documented" if ok else "NOT as documented"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
