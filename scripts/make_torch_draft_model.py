#!/usr/bin/python3
"""The model and the photo of the JPEG-draft test of the command line (issue
17: `prime tag --backend torch` and `prime classify` decode JPEGs at a
reduced DCT scale by default), for tests/cli_torch/cli_torch_test.sh.

Run with Debian's /usr/bin/python3 (python3-torch, python3-pil):

    /usr/bin/python3 scripts/make_torch_draft_model.py [OUT_DIR]

OUT_DIR defaults to tests/data/torch. Seeded; it writes only:

  - channel_mean.pt  [N,3,H,W] -> [N,3]: the mean of each channel of the
                     input (scripted: any batch, any size), so that the
                     scores are the preprocessed input itself, summed;
  - draft.jpg        256 x 192, quality 90: coloured noise over smooth
                     gradients and hard edges, so that the draft (1/4 for a
                     32 x 32 input) moves the channel means by a few
                     ten-thousandths, differently per channel; the test takes
                     the exact figures from the library's own batch path.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class ChannelMean(nn.Module):
    def forward(self, x):
        return x.mean(dim=[2, 3])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "data", "torch")
    torch.jit.script(ChannelMean().eval()).save(os.path.join(out, "channel_mean.pt"))
    rng = np.random.default_rng(1717)
    y, x = np.mgrid[0:192, 0:256].astype(np.float64)
    rgb = np.stack([120 + 110 * np.sin(x / 13.0) * np.cos(y / 7.0),
                    255.0 * ((x // 8 + y // 8) % 2),
                    (x * 255.0 / 256.0)], axis=2)
    rgb += rng.normal(0.0, 40.0, rgb.shape)
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(
        os.path.join(out, "draft.jpg"), quality=90)


if __name__ == "__main__":
    main()
