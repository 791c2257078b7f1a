#!/usr/bin/python3
"""Checks docs/backends.md's RAM export recipe against recognize-anything's own
Swin Transformer code, with random weights (issue 17). Not part of the test
suite: recognize-anything is not vendored (run it where a checkout exists).

    /usr/bin/python3 scripts/check_ram_export.py RAM_SRC [OUT_DIR] [--large]

RAM_SRC is a checkout of https://github.com/xinyu1205/recognize-anything (the
directory holding ram/models/swin_transformer.py). Only that file is loaded,
by path: ram/__init__ imports `transformers` (BERT), which Debian does not
package, so the tagging head of the recipe is not run here; the batch trap
lives in the Swin image encoder (window_reverse). When `timm` or `scipy` are
missing (Debian packages neither), tiny stand-ins are put in sys.modules for
the few names that file imports (DropPath, to_2tuple, trunc_normal_;
scipy.interpolate is only used to resize pretrained position tables).

The encoder: by default a small Swin (96 x 96 input, window 6, depths 2-2,
shifted windows and patch merging: the same code paths as RAM's), with
--large RAM's own Swin-L 384 configuration (slow on a CPU). Its output is
reduced to [N, D] (the average-pooled token RAM puts first) so that
`prime classify` can load it.

It checks:
 1. the old recipe, torch.jit.trace with an example batch of 2: the trace's
    outputs against the eager model at batches of 1 and 3 (wrong), and the
    TracerWarning it raises (which RAM's `warnings.filterwarnings("ignore")`
    hides);
 2. torch.jit.trace(..., check_inputs=[batch 1, batch 3]) on the old recipe:
    the trace checker must refuse it;
 3. the fixed recipe (window_reverse replaced by one whose batch is -1, before
    tracing): equal to the eager model at batches of 1, 2, 3 and 5, and
    accepted by the trace checker.
Writes OUT_DIR/swin_traced_old.pt and OUT_DIR/swin_traced_fixed.pt (OUT_DIR
defaults to /tmp/ram-export-check) for the batch guard of libprime-torch:
    prime classify --model OUT_DIR/swin_traced_old.pt --size 96 --resize 96 ...
must refuse the first and load the second.
"""
import importlib.util
import math
import os
import sys
import types
import warnings

import torch
import torch.nn as nn


def stand_ins():
    try:
        import timm.models.layers  # noqa: F401
    except ImportError:
        class DropPath(nn.Module):
            def __init__(self, p=0.0):
                super().__init__()
                self.p = p

            def forward(self, x):
                if self.p == 0.0 or not self.training:
                    return x
                keep = 1 - self.p
                mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
                return x * mask / keep

        layers = types.ModuleType("timm.models.layers")
        layers.DropPath = DropPath
        layers.to_2tuple = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)
        layers.trunc_normal_ = lambda t, mean=0.0, std=1.0, a=-2.0, b=2.0: \
            nn.init.trunc_normal_(t, mean, std, a, b)
        timm = types.ModuleType("timm")
        models = types.ModuleType("timm.models")
        timm.models, models.layers = models, layers
        sys.modules.update({"timm": timm, "timm.models": models, "timm.models.layers": layers})
    try:
        import scipy.interpolate  # noqa: F401
    except ImportError:
        scipy = types.ModuleType("scipy")
        scipy.interpolate = types.ModuleType("scipy.interpolate")
        sys.modules.update({"scipy": scipy, "scipy.interpolate": scipy.interpolate})


def window_reverse_symbolic(windows, window_size: int, H: int, W: int):
    """window_reverse with the batch left to view (-1): nothing to freeze."""
    C = windows.shape[-1]
    x = windows.view(-1, H // window_size, W // window_size, window_size, window_size, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, H, W, C)


class Pooled(nn.Module):
    """RAM's visual encoder output [N, 1 + L, D] -> its first token [N, D]."""

    def __init__(self, enc):
        super().__init__()
        self.enc = enc

    def forward(self, x):
        return self.enc(x)[:, 0, :]


def max_diff(module, eager, sizes, side):
    g = torch.Generator().manual_seed(5)
    out = {}
    with torch.no_grad():
        for n in sizes:
            x = torch.randn(n, 3, side, side, generator=g)
            out[n] = (module(x) - eager(x)).abs().max().item()
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        raise SystemExit(__doc__)
    src = os.path.join(args[0], "ram", "models", "swin_transformer.py")
    out_dir = args[1] if len(args) > 1 else "/tmp/ram-export-check"
    os.makedirs(out_dir, exist_ok=True)
    stand_ins()
    spec = importlib.util.spec_from_file_location("ram_swin", src)
    swin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(swin)
    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    if "--large" in sys.argv:   # RAM's configs/swin/config_swinL_384.json
        side, cfg = 384, dict(embed_dim=192, depths=[2, 2, 18, 2], num_heads=[6, 12, 24, 48],
                              window_size=12)
    else:
        side, cfg = 96, dict(embed_dim=32, depths=[2, 2], num_heads=[2, 4], window_size=6)
    enc = swin.SwinTransformer(img_size=side, patch_size=4, in_chans=3, mlp_ratio=4.,
                               qkv_bias=True, drop_rate=0.0, drop_path_rate=0.1, ape=False,
                               patch_norm=True, use_checkpoint=False, **cfg)
    model = Pooled(enc).eval()
    example = torch.randn(2, 3, side, side)
    ok = True

    # 1. the old recipe
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.no_grad():
            old = torch.jit.trace(model, example, check_trace=False)
    tw = [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
    d_old = max_diff(old, model, (1, 2, 3), side)
    print("old recipe (trace at batch 2): max |traced - eager| by batch: %s" %
          ", ".join("%d: %.3g" % kv for kv in d_old.items()))
    print("  TracerWarnings raised: %d, e.g. %s" % (len(tw), str(tw[0].message)[:90] if tw else "-"))
    ok &= d_old[2] < 1e-4 and d_old[1] > 1e-3 and d_old[3] > 1e-3 and len(tw) > 0
    old.save(os.path.join(out_dir, "swin_traced_old.pt"))

    # 2. the trace checker on the old recipe
    checks = [(torch.randn(1, 3, side, side),), (torch.randn(3, 3, side, side),)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.no_grad():
                torch.jit.trace(model, example, check_inputs=checks)
        print("  check_inputs: NOT refused")
        ok = False
    except Exception as e:  # torch.jit.TracingCheckError
        print("  check_inputs with batches 1 and 3 refuses it: %s" % type(e).__name__)

    # 3. the fixed recipe
    saved = swin.window_reverse
    swin.window_reverse = window_reverse_symbolic
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with torch.no_grad():
                fixed = torch.jit.trace(model, example, check_inputs=checks)
        tw = [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
    finally:
        swin.window_reverse = saved
    d_fix = max_diff(fixed, model, (1, 2, 3, 5), side)
    print("fixed recipe (symbolic window_reverse): max |traced - eager| by batch: %s; "
          "TracerWarnings: %d" % (", ".join("%d: %.3g" % kv for kv in d_fix.items()), len(tw)))
    ok &= all(v < 1e-4 for v in d_fix.values())
    fixed.save(os.path.join(out_dir, "swin_traced_fixed.pt"))
    print("wrote %s/swin_traced_old.pt and swin_traced_fixed.pt (input %d x %d)" %
          (out_dir, side, side))
    print("RESULT: %s" % ("as documented" if ok else "NOT as documented"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
