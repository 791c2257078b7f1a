#!/usr/bin/python3
"""Converts nsfwjs's MobileNetV2 (a Keras model shipped as a TF.js layers
model) to TorchScript, from the files export_nsfwjs.cjs writes.

    /usr/bin/python3 convert_nsfwjs.py DIR [--check N [IMAGE...]]

Reads DIR/topology.json, DIR/weights.json, DIR/weights.f32; writes
DIR/mobilenet_v2.pt (a traced module: float [N, 3, 224, 224], pixels / 255
in RGB order, NCHW as libprime gives them -> [N, 5] softmax probabilities)
and DIR/classes.txt (nsfwjs's five class names, one a line, in output order).

The network is rebuilt layer by layer from the Keras config, with each
weight moved from TF's layout to torch's: Conv2D [kh, kw, in, out] ->
[out, in, kh, kw]; DepthwiseConv2D [kh, kw, in, mult] -> [in * mult, 1, kh,
kw] (groups = in); Dense [in, out] -> [out, in]; BatchNormalization with its
moving statistics and epsilon; ZeroPadding2D, 'same' padding of a stride-1
odd kernel (symmetric), ReLU with max_value (ReLU6), AveragePooling2D,
Flatten (in channels-last order, as Keras flattens), Dropout (identity at
inference), softmax. An unknown layer or option is an error, not a guess.

--check N [IMAGE...]: writes DIR/check_in.f32, N pseudo-random images in
[0, 1] (NHWC, seed 0) followed by the IMAGEs as nsfwjs feeds them (RGB,
resized to 224 x 224 bilinear, / 255; PIL here, so both models see the very
same floats), for `node export_nsfwjs.cjs DIR --reference DIR/check_in.f32
M` (M = N + the number of images; printed);
when DIR/tfjs_out.f32 exists (run it first, then this again) it compares
TorchScript's probabilities with TF.js's and fails above 1e-4.
Also checks that the traced module gives the same outputs for an image alone
and in a batch (no batch constant frozen by the trace).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

CLASSES = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]  # nsfwjs's NSFW_CLASSES
TOLERANCE = 1e-4
SIZE = 224


def fail(msg):
    print("convert_nsfwjs: " + msg, file=sys.stderr)
    sys.exit(1)


class Net(torch.nn.Module):
    """The Keras functional graph, run in topological (file) order."""

    def __init__(self, layers, weights):
        super().__init__()
        self.steps = []  # (name, kind, inputs, options)
        self.params = torch.nn.ParameterDict()
        for layer in layers:
            kind, cfg, name = layer["class_name"], layer["config"], layer["name"]
            nodes = layer["inbound_nodes"]
            if len(nodes) > 1:
                fail(f"layer {name}: shared layers are not supported")
            inputs = [n[0] for n in nodes[0]] if nodes else []
            opt = {}
            if cfg.get("data_format", "channels_last") != "channels_last":
                fail(f"layer {name}: data_format {cfg['data_format']}")

            def w(suffix):
                key = f"{name}/{suffix}"
                if key not in weights:
                    fail(f"layer {name}: no weight {key}")
                return weights[key]

            def param(suffix, tensor):
                self.params[f"{name}__{suffix}"] = torch.nn.Parameter(tensor, requires_grad=False)

            if kind == "InputLayer":
                pass
            elif kind in ("Conv2D", "DepthwiseConv2D"):
                if cfg.get("dilation_rate", [1, 1]) != [1, 1]:
                    fail(f"layer {name}: dilation {cfg['dilation_rate']}")
                kh, kw = cfg["kernel_size"]
                if kind == "Conv2D":
                    k = w("kernel")  # [kh, kw, in, out]
                    param("w", k.permute(3, 2, 0, 1).contiguous())
                    opt["groups"] = 1
                else:
                    k = w("depthwise_kernel")  # [kh, kw, in, mult]
                    cin, mult = k.shape[2], k.shape[3]
                    param("w", k.permute(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw).contiguous())
                    opt["groups"] = cin
                if cfg["use_bias"]:
                    param("b", w("bias"))
                opt["stride"] = tuple(cfg["strides"])
                if cfg["padding"] == "valid":
                    opt["pad"] = (0, 0)
                elif cfg["padding"] == "same" and opt["stride"] == (1, 1) and kh % 2 and kw % 2:
                    opt["pad"] = (kh // 2, kw // 2)
                else:
                    fail(f"layer {name}: padding {cfg['padding']} with strides {cfg['strides']}")
                opt["activation"] = cfg["activation"]
            elif kind == "BatchNormalization":
                if cfg["axis"] not in (-1, 3):
                    fail(f"layer {name}: axis {cfg['axis']}")
                param("gamma", w("gamma") if cfg["scale"] else torch.ones_like(w("moving_mean")))
                param("beta", w("beta") if cfg["center"] else torch.zeros_like(w("moving_mean")))
                param("mean", w("moving_mean"))
                param("var", w("moving_variance"))
                opt["eps"] = float(cfg["epsilon"])
            elif kind == "ReLU":
                if cfg.get("negative_slope", 0) != 0 or cfg.get("threshold", 0) != 0:
                    fail(f"layer {name}: leaky or thresholded ReLU")
                opt["max"] = cfg.get("max_value")
            elif kind == "ZeroPadding2D":
                (top, bottom), (left, right) = cfg["padding"]
                opt["pad"] = (left, right, top, bottom)
            elif kind == "AveragePooling2D":
                if cfg["padding"] != "valid":
                    fail(f"layer {name}: padding {cfg['padding']}")
                opt["pool"] = tuple(cfg["pool_size"])
                opt["stride"] = tuple(cfg["strides"])
            elif kind == "Dense":
                param("w", w("kernel").t().contiguous())
                if cfg["use_bias"]:
                    param("b", w("bias"))
                opt["activation"] = cfg["activation"]
            elif kind in ("Add", "Flatten", "Dropout"):
                pass
            else:
                fail(f"layer {name}: unsupported layer {kind}")
            if opt.get("activation", "linear") not in ("linear", "relu", "softmax"):
                fail(f"layer {name}: activation {opt['activation']}")
            self.steps.append((name, kind, inputs, opt))

    def p(self, name, suffix):
        return self.params[f"{name}__{suffix}"]

    def has(self, name, suffix):
        return f"{name}__{suffix}" in self.params

    def forward(self, x):
        out = {}
        for name, kind, inputs, o in self.steps:
            a = out[inputs[0]] if inputs else x
            if kind == "InputLayer":
                y = x
            elif kind in ("Conv2D", "DepthwiseConv2D"):
                b = self.p(name, "b") if self.has(name, "b") else None
                y = F.conv2d(a, self.p(name, "w"), b, o["stride"], o["pad"], 1, o["groups"])
            elif kind == "BatchNormalization":
                y = F.batch_norm(a, self.p(name, "mean"), self.p(name, "var"),
                                 self.p(name, "gamma"), self.p(name, "beta"), False, 0.0, o["eps"])
            elif kind == "ReLU":
                y = F.relu(a) if o["max"] is None else torch.clamp(a, 0.0, float(o["max"]))
            elif kind == "ZeroPadding2D":
                y = F.pad(a, o["pad"])
            elif kind == "AveragePooling2D":
                y = F.avg_pool2d(a, o["pool"], o["stride"])
            elif kind == "Flatten":  # Keras flattens channels-last
                y = a.permute(0, 2, 3, 1).flatten(1) if a.dim() == 4 else a.flatten(1)
            elif kind == "Dense":
                y = F.linear(a, self.p(name, "w"), self.p(name, "b") if self.has(name, "b") else None)
            elif kind == "Add":
                y = out[inputs[0]]
                for i in inputs[1:]:
                    y = y + out[i]
            else:  # Dropout: identity at inference
                y = a
            act = o.get("activation", "linear")
            if act == "relu":
                y = F.relu(y)
            elif act == "softmax":
                y = F.softmax(y, dim=-1)
            out[name] = y
        return out[self.output]


def load(d):
    topo = json.load(open(os.path.join(d, "topology.json")))
    index = json.load(open(os.path.join(d, "weights.json")))
    flat = np.fromfile(os.path.join(d, "weights.f32"), dtype="<f4")
    weights = {}
    for e in index:
        n = int(np.prod(e["shape"])) if e["shape"] else 1
        if e["offset"] + n > flat.size:
            fail(f"weights.f32 is too short for {e['name']}")
        weights[e["name"]] = torch.from_numpy(flat[e["offset"]:e["offset"] + n].copy()).reshape(e["shape"])
    cfg = topo["model_config"]["config"]
    if len(cfg["input_layers"]) != 1 or len(cfg["output_layers"]) != 1:
        fail("one input and one output expected")
    net = Net(cfg["layers"], weights)
    net.output = cfg["output_layers"][0][0]
    return net.eval()


def main():
    if len(sys.argv) == 3 or (len(sys.argv) >= 4 and sys.argv[2] != "--check"):
        print("usage: convert_nsfwjs.py DIR [--check N [IMAGE...]]", file=sys.stderr)
        sys.exit(2)
    d = sys.argv[1]
    torch.manual_seed(0)
    net = load(d)
    with torch.no_grad():
        example = torch.rand(2, 3, SIZE, SIZE)
        traced = torch.jit.trace(net, example)
        # no batch constant frozen by the trace: alone and in a batch of 3
        three = torch.rand(3, 3, SIZE, SIZE)
        diff = (traced(three)[1:2] - traced(three[1:2])).abs().max().item()
        if diff > 1e-5:
            fail(f"traced module depends on the batch size ({diff:.3g})")
        traced.save(os.path.join(d, "mobilenet_v2.pt"))
    with open(os.path.join(d, "classes.txt"), "w") as f:
        f.write("".join(c + "\n" for c in CLASSES))
    print(f"convert_nsfwjs: wrote {d}/mobilenet_v2.pt and {d}/classes.txt")
    if len(sys.argv) >= 4:
        from PIL import Image
        rng = np.random.default_rng(0)
        x = [rng.random((int(sys.argv[3]), SIZE, SIZE, 3), dtype=np.float32)]
        for p in sys.argv[4:]:
            im = Image.open(p).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
            x.append((np.asarray(im, dtype=np.float32) / 255.0)[None])
        x = np.concatenate(x)
        n = x.shape[0]
        x.tofile(os.path.join(d, "check_in.f32"))
        ref_path = os.path.join(d, "tfjs_out.f32")
        if not os.path.exists(ref_path):
            print(f"convert_nsfwjs: wrote {d}/check_in.f32 ({n} images); run export_nsfwjs.cjs "
                  f"{d} --reference {d}/check_in.f32 {n}, then this again")
            return
        ref = np.fromfile(ref_path, dtype="<f4")
        if ref.size != n * len(CLASSES):
            fail(f"{ref_path}: {ref.size} values, expected {n * len(CLASSES)}")
        ref = ref.reshape(n, len(CLASSES))
        with torch.no_grad():
            got = torch.jit.load(os.path.join(d, "mobilenet_v2.pt"))(
                torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()).numpy()
        diff = float(np.abs(got - ref).max())
        same = int((got.argmax(1) == ref.argmax(1)).sum())
        k = n - int(sys.argv[3])
        real = float(np.abs(got[n - k:] - ref[n - k:]).max()) if k else 0.0
        print(f"convert_nsfwjs: TorchScript vs TF.js on {n} images ({k} photos): max |difference| "
              f"{diff:.3g} ({real:.3g} on the photos; tolerance {TOLERANCE:g}), same top class {same}/{n}")
        if not diff <= TOLERANCE:
            fail(f"TorchScript differs from TF.js by {diff:.3g} > {TOLERANCE:g}")


if __name__ == "__main__":
    main()
