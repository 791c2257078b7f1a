#!/usr/bin/python3
"""The predictions of `prime classify` in examples/real-model/run.sh, made
again in Python: PIL decodes each image, convert("RGB"), torchvision's
Resize(224) (shorter side, bilinear, antialiased) and CenterCrop(224), pixels
/ 255 (the spec --size 224 --resize 224 --mean 0,0,0 --std 1,1,1), the same
TorchScript file, argmax (ties: the first, as prime classify).

    /usr/bin/python3 predict.py MODEL.pt CLASSES.txt PHOTOS_DIR OUTCOMES.csv

Prints how many predictions agree with OUTCOMES.csv (prime classify's
image,label,prediction,correct; it holds no scores) and lists each
disagreement with Python's two best probabilities. Exit status 1 when an image of the CSV is
missing or any prediction differs where Python's top two are more than 0.01
apart (closer ties may flip on decoder rounding: stb_image vs libjpeg).
"""
import csv
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    model_path, classes_path, photos, outcomes = sys.argv[1:]
    classes = open(classes_path).read().split("\n")[:-1]
    model = torch.jit.load(model_path).eval()
    tf = transforms.Compose([transforms.Resize(224), transforms.CenterCrop(224),
                             transforms.ToTensor()])
    rows = list(csv.DictReader(open(outcomes, newline="")))
    same, bad = 0, 0
    for r in rows:
        path = os.path.join(photos, r["image"])
        x = tf(Image.open(path).convert("RGB"))[None]
        with torch.no_grad():
            p = model(x)[0].numpy()
        top = int(np.argmax(p))
        if classes[top] == r["prediction"]:
            same += 1
            continue
        two = np.sort(p)[-2:]
        close = two[1] - two[0] <= 0.01
        bad += not close
        print(f"predict: {r['image']}: prime {r['prediction']}, Python {classes[top]} "
              f"(p = {two[1]:.4f} vs {two[0]:.4f}{', a near tie' if close else ''})")
    print(f"predict: prime classify and Python agree on {same}/{len(rows)} images")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
