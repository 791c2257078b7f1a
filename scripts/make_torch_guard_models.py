#!/usr/bin/python3
"""TorchScript models for the batch guard and RAM's selection rule
(issues 17 and 18), for tests/torch/test_torch.c.

Run with Debian's /usr/bin/python3 (python3-torch):

    /usr/bin/python3 scripts/make_torch_guard_models.py [OUT_DIR]

OUT_DIR defaults to tests/data/torch. Seeded; it writes only the files
below (scripts/make_torch_models.py writes the others):

  - trap_traced.pt    [N,3,32,32] -> [N,12]: a conv, then the windows of its
                      feature map taken apart and put back as Swin does
                      (recognize-anything's window_partition /
                      window_reverse, written here from scratch), where
                      window_reverse computes the batch with int(...);
                      torch.jit.trace with an example batch of 2 freezes
                      that int to 2, so for any other batch the windows of N
                      images are reshaped as if they were 2: no error,
                      wrong outputs (the trap);
  - trap_traced1.pt   the same traced with an example batch of 1;
  - trap_scripted.pt  the same module through torch.jit.script, which keeps
                      the batch symbolic (the fix): consistent for every N;
  - ram_logits.pt     [N,3,H,W] -> [N,4585]: fixed logits (RAM's vocabulary
                      data/ram/ram_tag_list.txt), the same for every image,
                      chosen around the points where torch's float32 sigmoid
                      ties a tag's threshold, and around 16.636, where it
                      reaches 1.0;
  - ram_rule.txt      for a batch of 1 and of 2 of that model: torch's
                      float32 sigmoid of every logit (as RAM's generate_tag
                      computes it, on the [N, 4585] tensor) and RAM's
                      selection, sigmoid > class_threshold (a float32 tensor
                      of data/ram/ram_tag_list_threshold.txt).
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WS = 4  # window size


def window_partition(x, window_size: int):
    """[B, H, W, C] -> [B * nW, ws, ws, C]."""
    B, H, W, C = x.shape
    x = x.view(B, H // window_size, window_size, W // window_size, window_size, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, window_size, window_size, C)


def window_reverse(windows, window_size: int, H: int, W: int):
    """[B * nW, ws, ws, C] -> [B, H, W, C]; B computed with int(...), as Swin does."""
    B = int(windows.shape[0] / (H * W / window_size / window_size))
    x = windows.view(B, H // window_size, W // window_size, window_size, window_size, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, -1)


class Trap(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 4, stride=4)   # 32 x 32 -> 8 x 8, 8 channels
        self.mix = nn.Linear(8, 8)                  # applied per window position
        self.fc = nn.Linear(8 * 8 * 8, 12)
        self.ws = WS

    def forward(self, x):
        y = self.conv(x).permute(0, 2, 3, 1)        # [N, 8, 8, 8]
        N, H, W, C = y.shape
        w = self.mix(window_partition(y, self.ws))  # [N * 4, 4, 4, 8]
        y = window_reverse(w, self.ws, H, W)        # [B, 8, 8, -1]
        y = y.reshape(N, H * W * C)                 # the true N again, as Swin's blocks
        return self.fc(F.relu(y))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "data", "torch")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    torch.set_num_threads(1)

    trap = Trap().eval()
    with torch.no_grad():
        ex2 = torch.randn(2, 3, 32, 32)
        traced = torch.jit.trace(trap, ex2, check_trace=False)
        traced1 = torch.jit.trace(trap, ex2[:1], check_trace=False)
    traced.save(os.path.join(out, "trap_traced.pt"))
    traced1.save(os.path.join(out, "trap_traced1.pt"))
    torch.jit.script(trap).save(os.path.join(out, "trap_scripted.pt"))

    # the trap, as the test will see it: batch 3 of the traced model differs
    g = torch.Generator().manual_seed(3)
    x3 = torch.randn(3, 3, 32, 32, generator=g)
    with torch.no_grad():
        eager = trap(x3)
        diff = (traced(x3) - eager).abs().max().item()
        sdiff = (torch.jit.script(trap)(x3) - eager).abs().max().item()
    assert diff > 0.05, "the traced trap must be wrong at batch 3 (%g)" % diff
    assert sdiff < 1e-5, "the scripted model must be right (%g)" % sdiff

    # ---- RAM's rule around the float32 rounding points ----
    names = open(os.path.join(ROOT, "data", "ram", "ram_tag_list.txt"), encoding="utf-8").read()
    names = names.rstrip("\n").split("\n")
    th = [float(s) for s in
          open(os.path.join(ROOT, "data", "ram", "ram_tag_list_threshold.txt")).read().split()]
    assert len(names) == len(th) == 4585
    class_threshold = torch.ones(len(th)) * 0.68   # RAM: torch.ones(num_class) * threshold
    for k, v in enumerate(th):
        class_threshold[k] = v
    rng = np.random.default_rng(18)
    logits = np.zeros(len(th), dtype=np.float32)
    # around 1.0: every threshold-1 tag, and a spread of others, get logits
    # from 16.0 to 40 (torch's sigmoid reaches 1.0f at 16.636)
    near_one = np.float32([16.0, 16.5, 16.6, 16.63, 16.635, 16.636, 16.6361, 16.64, 16.7,
                           17.0, 17.33, 17.4, 20.0, 40.0])
    k = 0
    for i in range(len(th)):
        t = th[i]
        if t == 1.0:
            logits[i] = near_one[k % len(near_one)]
            k += 1
            continue
        r = i % 4
        if r == 0:   # a sigmoid within a few float32 ulps of the threshold
            lt = np.float32(math.log(t / (1 - t)))
            logits[i] = np.nextafter(lt, np.float32(np.inf if rng.random() < 0.5 else -np.inf),
                                     dtype=np.float32) if rng.random() < 0.6 else lt
            for _ in range(int(rng.integers(0, 4))):
                logits[i] = np.nextafter(logits[i], np.float32(rng.choice([-1, 1]) * np.inf),
                                         dtype=np.float32)
        elif r == 1:  # near the rounding point to 1.0
            logits[i] = near_one[int(rng.integers(0, len(near_one)))]
        else:         # anywhere
            logits[i] = np.float32(rng.uniform(-8, 8))

    class Fixed(nn.Module):
        def __init__(self, v):
            super().__init__()
            self.register_buffer("v", torch.from_numpy(v))

        def forward(self, x):
            return self.v.unsqueeze(0).expand(x.shape[0], -1) + 0.0 * x.sum((1, 2, 3)).unsqueeze(1)

    fixed = Fixed(logits).eval()
    torch.jit.script(fixed).save(os.path.join(out, "ram_logits.pt"))
    lines = ["# made by scripts/make_torch_guard_models.py; do not edit.",
             "# per batch size N (1, 2): 'sigmoid N I' the 4585 float32 values of row I of",
             "# torch.sigmoid(logits [N, 4585]) as %.9g, then 'select N I COUNT ids...' of",
             "# RAM's rule torch.sigmoid(logits) > class_threshold (float32)."]
    stats = []
    for n in (1, 2):
        with torch.no_grad():
            lg = fixed(torch.zeros(n, 3, 8, 8))
            s = torch.sigmoid(lg)
            sel = s > class_threshold
        for i in range(n):
            lines.append("sigmoid %d %d %s" % (n, i, " ".join("%.9g" % v for v in s[i].tolist())))
            ids = sel[i].nonzero().flatten().tolist()
            lines.append("select %d %d %d %s" % (n, i, len(ids), " ".join(map(str, ids))))
            ge = (s[i].double() >= torch.tensor(th, dtype=torch.float64)).sum().item()
            ones = int((s[i] == 1.0).sum().item())
            stats.append("# N=%d row %d: RAM selects %d, >= in double would select %d; "
                         "%d sigmoids are exactly 1.0" % (n, i, len(ids), ge, ones))
    lines[4:4] = stats
    with open(os.path.join(out, "ram_rule.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(stats))
    print("wrote %s (trap: traced at batch 3 off by %.3g)" % (out, diff))


if __name__ == "__main__":
    main()
