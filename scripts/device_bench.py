#!/usr/bin/python3
"""The PyTorch side of scripts/device_check.sh's throughput table: the same
TorchScript tagger, the same images and the same preprocessing as
`prime tag --backend torch --size SIZE` (PIL: convert("RGB"), resize to
SIZE x SIZE bilinear, ImageNet mean and std; RAM's preset), run from Python
in batches on DEVICE at DTYPE, scores = sigmoid of the logits in float32.

    /usr/bin/python3 scripts/device_bench.py MODEL IMAGE_LIST SIZE DEVICE DTYPE BATCH THREADS

Prints one line: "images/s N" (timed in the process, from torch.jit.load to
the last batch's scores on the CPU), or "error: MESSAGE" with exit status 1
when the device or dtype cannot run (float16 convolutions on a CPU libtorch,
no CUDA). device_check.sh does not use that figure: it times whole runs of N
and 2N images of both sides from outside and takes the difference.
"""
import sys
import time

import numpy as np
import torch
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def main():
    if len(sys.argv) != 8:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    model, listing, size, device, dtype, batch, threads = sys.argv[1:]
    size, batch, threads = int(size), int(batch), int(threads)
    torch.set_num_threads(threads)
    dt = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]
    paths = [p for p in open(listing).read().splitlines() if p]
    try:
        t0 = time.perf_counter()
        m = torch.jit.load(model, map_location=device).eval().to(dt)
        with torch.inference_mode():
            for first in range(0, len(paths), batch):
                arr = []
                for p in paths[first:first + batch]:
                    im = Image.open(p).convert("RGB").resize((size, size), Image.BILINEAR)
                    a = (np.asarray(im, dtype=np.float32) / 255.0 - MEAN) / STD
                    arr.append(a.transpose(2, 0, 1))
                x = torch.from_numpy(np.stack(arr))
                if device != "cpu":
                    x = x.pin_memory().to(device, non_blocking=True)
                out = m(x.to(dt))
                if isinstance(out, (tuple, list)):
                    out = out[0]
                torch.sigmoid(out.float()).cpu()
        t1 = time.perf_counter()
    except Exception as e:  # the table shows the reason
        # TorchScript puts the interpreter's trace first and the error last
        lines = [l.strip() for l in str(e).splitlines() if l.strip()]
        print("error: " + (lines[-1] if lines else type(e).__name__)[:120])
        sys.exit(1)
    print("images/s %.1f" % (len(paths) / (t1 - t0)))


if __name__ == "__main__":
    main()
