#!/usr/bin/python3
"""Tiny deterministic TorchScript models, test images and expected outputs
for libprime-torch's test suite (tests/torch/test_torch.c).

Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision,
python3-pil):

    /usr/bin/python3 scripts/make_torch_models.py [OUT_DIR]

OUT_DIR defaults to tests/data/torch. Everything is seeded: running it twice
gives the same weights, images and expected values (the .pt archives embed
no time stamps that the tests depend on).

What it writes:
  - tagger.pt          [N,3,32,32] -> [N,12] logits (conv + pool + linear);
    vocab.txt          its 12 tag names, one a line;
  - tagger_tuple.pt    the same network returning (sigmoid(logits), logits.sum(1)):
                       probabilities in the first element of a tuple;
  - classifier.pt      [N,3,32,32] -> [N,4]; classes.txt its 4 class names;
  - classifier_list.pt the same classifier returning [scores] (a list);
  - image_encoder.pt   [N,3,32,32] -> [N,16];
  - text_encoder.pt    int64 [N,77] -> [N,16] (an embedding of id % 509,
                       averaged over the non-zero ids, then a linear layer);
  - text_encoder_d8.pt the same with D = 8 (dimension mismatch);
  - wrong_width.pt     [N,3,32,32] -> [N,5] (vocabulary of 12: mismatch);
  - rank3.pt           [N,3,32,32] -> [N,2,6] (12 values, wrong rank);
  - not_tensor.pt      returns an int (x.size(0));
  - one_channel.pt     a conv that wants 1 input channel (forward fails);
  - state_dict.pt      torch.save of a dict of tensors: a zip archive that is
                       not TorchScript;
  - images: img_a.png .. img_d.png (32x32 RGB), img_wide.png (80x60 RGB, to
    exercise resizing), img_gray.png (40x32 grey, PIL "L");
  - prompts.txt        texts for the text encoder, one a line;
  - expected.txt       the outputs Python computes (see its header).

Preprocessing in Python is torchvision's (PIL image.convert("RGB"),
Resize, CenterCrop, ToTensor, Normalize), i.e. the reference that
prime_image_preprocess reproduces byte for byte before normalisation:
  - tagger:     Resize((32, 32)) bilinear, ImageNet mean/std
                (C: PRIME_IMAGE_PRESET_RAM with an exact 32 x 32 resize);
  - classifier: Resize(36) bilinear + CenterCrop(32), ImageNet mean/std
                (C: PRIME_IMAGE_PRESET_IMAGENET, shorter side 36, crop 32);
  - encoder:    Resize(32) bicubic + CenterCrop(32), CLIP mean/std
                (C: PRIME_IMAGE_PRESET_CLIP, shorter side 32, crop 32).
"""
import gzip  # noqa: F401  (the tokenizer port needs it)
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "data", "clip"))
import clip_tokenizer_port  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

VOCAB = ["sky", "tree", "dog", "cat", "car", "person", "water", "grass", "building",
         "snow", "night", "road"]
CLASSES = ["indoor", "outdoor", "animal", "vehicle"]
PROMPTS = ["a photo of a dog", "a photo of a cat", "snow at night", "",
           "café crème brûlée", "A PHOTO OF A DOG"]
THRESHOLD = 0.5
TOP_K = 3


class Backbone(nn.Module):
    def __init__(self, out, scale=1.0):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(32, out)
        with torch.no_grad():
            self.fc.weight.mul_(scale)
            self.fc.bias.mul_(scale)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(F.relu(self.conv(x))), 1))


class TupleTagger(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        logits = self.net(x)
        return torch.sigmoid(logits), logits.sum(1)


class ListClassifier(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return [self.net(x)]


class Rank3(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x).reshape(x.size(0), 2, 6)


class NotTensor(nn.Module):
    def forward(self, x):
        return x.size(0)


class OneChannel(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return torch.flatten(self.conv(x), 1)


class TextEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.emb = nn.Embedding(509, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, ids):
        e = self.emb(ids.remainder(509))
        mask = (ids != 0).to(e.dtype).unsqueeze(-1)
        pooled = (e * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.proj(pooled)


def save(module, path):
    torch.jit.script(module.eval()).save(path)


def make_images(out):
    rng = np.random.default_rng(20240611)
    names = []
    yy, xx = np.mgrid[0:32, 0:32]
    patterns = [
        np.stack([xx * 8, yy * 8, (xx + yy) * 4], -1),                       # gradients
        np.stack([(xx // 4 + yy // 4) % 2 * 255] * 3, -1) * [1.0, 0.6, 0.2],  # checker
        rng.integers(0, 256, (32, 32, 3)),                                   # noise
        np.stack([np.full((32, 32), 30), 200 - yy * 5, 120 + xx * 4], -1),  # mixed
    ]
    for k, p in enumerate(patterns):
        name = "img_%s.png" % "abcd"[k]
        Image.fromarray(np.clip(p, 0, 255).astype(np.uint8), "RGB").save(os.path.join(out, name))
        names.append(name)
    yy, xx = np.mgrid[0:60, 0:80]
    wide = np.stack([(xx * 3) % 256, (yy * 4) % 256, ((xx * yy) // 7) % 256], -1)
    wide = wide + rng.integers(0, 20, wide.shape)
    Image.fromarray(np.clip(wide, 0, 255).astype(np.uint8), "RGB").save(
        os.path.join(out, "img_wide.png"))
    names.append("img_wide.png")
    yy, xx = np.mgrid[0:32, 0:40]
    gray = (xx * 6 + yy * 2) % 256
    Image.fromarray(gray.astype(np.uint8), "L").save(os.path.join(out, "img_gray.png"))
    names.append("img_gray.png")
    return names


def batch(out, names, tf):
    return torch.stack([tf(Image.open(os.path.join(out, n)).convert("RGB")) for n in names])


def fmt(values):
    return " ".join("%.9g" % v for v in values)


def selection(probs, threshold, k):
    sel = [t for t in range(len(probs)) if probs[t] >= threshold]
    for t in range(len(probs)):
        if abs(probs[t] - threshold) < 1e-3:
            raise SystemExit("a probability is within 1e-3 of the threshold: change the seed")
    if k > 0:
        sel = sorted(sorted(sel, key=lambda t: (-probs[t], t))[:k])
    return sel


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "data", "torch")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1)
    torch.set_num_threads(1)

    tagger = Backbone(len(VOCAB), scale=4.0)
    classifier = Backbone(len(CLASSES), scale=3.0)
    image_enc = Backbone(16)
    text_enc = TextEncoder(16)
    text_enc8 = TextEncoder(8)
    wrong = Backbone(5)

    save(tagger, os.path.join(out, "tagger.pt"))
    save(TupleTagger(tagger), os.path.join(out, "tagger_tuple.pt"))
    save(classifier, os.path.join(out, "classifier.pt"))
    save(ListClassifier(classifier), os.path.join(out, "classifier_list.pt"))
    save(image_enc, os.path.join(out, "image_encoder.pt"))
    save(text_enc, os.path.join(out, "text_encoder.pt"))
    save(text_enc8, os.path.join(out, "text_encoder_d8.pt"))
    save(wrong, os.path.join(out, "wrong_width.pt"))
    save(Rank3(Backbone(12)), os.path.join(out, "rank3.pt"))
    save(NotTensor(), os.path.join(out, "not_tensor.pt"))
    save(OneChannel(), os.path.join(out, "one_channel.pt"))
    torch.save({"w": torch.zeros(4)}, os.path.join(out, "state_dict.pt"))

    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(out, "classes.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    with open(os.path.join(out, "prompts.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(PROMPTS) + "\n")

    names = make_images(out)
    tf_tag = T.Compose([T.Resize((32, 32)), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    tf_cls = T.Compose([T.Resize(36), T.CenterCrop(32), T.ToTensor(),
                        T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    tf_enc = T.Compose([T.Resize(32, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(32),
                        T.ToTensor(), T.Normalize(CLIP_MEAN, CLIP_STD)])

    tok = clip_tokenizer_port.SimpleTokenizer(
        os.path.join(ROOT, "data", "clip", "bpe_simple_vocab_16e6.txt.gz"))
    ids = torch.zeros(len(PROMPTS), 77, dtype=torch.int64)
    token_lists = []
    for i, p in enumerate(PROMPTS):
        t = clip_tokenizer_port.tokenize(tok, p)
        token_lists.append(t)
        ids[i, :len(t)] = torch.tensor(t)

    lines = [
        "# libprime-torch expected outputs: made by scripts/make_torch_models.py; do not edit.",
        "# Each line: KEY NAME COUNT VALUE... (NAME: an image file or a prompt index of",
        "# prompts.txt). tagger: sigmoid of tagger.pt's logits; select: the tags with",
        "# probability >= %g; top%d: the %d best of those; classifier: classifier.pt's"
        % (THRESHOLD, TOP_K, TOP_K),
        "# scores; predicted: their argmax; image_embed: image_encoder.pt; tokens: CLIP",
        "# token ids of the prompt (start and end included, no padding); text_embed:",
        "# text_encoder.pt on the ids padded to 77.",
    ]
    with torch.no_grad():
        probs = torch.sigmoid(tagger(batch(out, names, tf_tag)))
        scores = classifier(batch(out, names, tf_cls))
        emb = image_enc(batch(out, names, tf_enc))
        temb = text_enc(ids)
    for i, n in enumerate(names):
        p = probs[i].tolist()
        lines.append("tagger %s %d %s" % (n, len(p), fmt(p)))
        s = selection(p, THRESHOLD, 0)
        lines.append("select %s %d %s" % (n, len(s), " ".join(map(str, s))))
        s = selection(p, THRESHOLD, TOP_K)
        lines.append("top%d %s %d %s" % (TOP_K, n, len(s), " ".join(map(str, s))))
        c = scores[i].tolist()
        lines.append("classifier %s %d %s" % (n, len(c), fmt(c)))
        lines.append("predicted %s 1 %d" % (n, int(torch.argmax(scores[i]))))
        e = emb[i].tolist()
        lines.append("image_embed %s %d %s" % (n, len(e), fmt(e)))
    for i, t in enumerate(token_lists):
        lines.append("tokens %d %d %s" % (i, len(t), " ".join(map(str, t))))
        e = temb[i].tolist()
        lines.append("text_embed %d %d %s" % (i, len(e), fmt(e)))
    with open(os.path.join(out, "expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
