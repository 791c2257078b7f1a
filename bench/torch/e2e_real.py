#!/usr/bin/python3
"""End to end against the forward pass alone, real models on real photos
(issue 17: "end to end within 10 % of the forward pass"). Reports figures;
not a test.

    /usr/bin/python3 bench/torch/e2e_real.py [--build build] [--work DIR]
        [--rounds 3] [--threads 2] [--batches 8,32] [--models mobilenet,vit]
        [--limit N] [--omp-wait passive,libgomp] [--jpeg-draft on,off] [--decode-alone]

Models (made once in --work, default /tmp/prime-e2e-real):
  mobilenet  nsfwjs's pretrained MobileNetV2 (npm, examples/real-model:
             export_nsfwjs.cjs + convert_nsfwjs.py), through
             `prime classify --size 224 --resize 224 --mean 0,0,0 --std 1,1,1`
             as examples/real-model/run.sh runs it;
  vit        a ViT-B/16 (torchvision's vit_b_16, CLIP ViT-B/16's image tower
             size, random seeded weights; make_bench.py vit), through
             `prime tag --backend torch --size 224` (1000 tags).
Photos: the real-photo set of bench/image_real/run.py (Debian's shipped
photos and wallpapers, 100 px to 3840 px, JPEG/PNG/GIF, grey, palette,
RGBA), written to --work/photos.

For each model, batch size and round (rounds interleave the two sides, so
that both meet the shared machine's quiet and busy moments alike):
  forward    forward_only.cpp: a process that loads the model, runs the
             batch guard's passes (batches of 1, 2 and B, as libprime-torch
             does when it loads a model) and the forward passes of the same
             number of images in the same batches, on input tensors made
             before it starts; nothing decoded;
  end to end the prime command over the photo folder (decode, preprocess,
             forward, output file).
Both with the same --threads (libtorch's intra-op threads; prime decodes
on that many threads too) and the same OpenMP wait setting (--omp-wait:
passive, what prime sets by default, or libgomp's own spinning default).
Each side is timed from outside (wall clock from start to exit; CPU = user
+ system of the process, from wait4). The first --limit photos only, when
given.

--decode-alone also runs, in each round, the same command with the model
replaced by tests/data/torch/channel_mean.pt (the mean of each channel: a
forward pass that costs nothing), over the photos and over one tiny PNG:
their CPU difference is what decoding and preprocessing the photos cost
inside the pipeline, to set against end to end minus forward alone.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def sh(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def timed(cmd, env):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out = p.stdout.read().decode()
    err = p.stderr.read().decode()
    p.stdout.close()
    p.stderr.close()
    if status != 0:
        raise SystemExit("e2e_real: %s failed (%d):\n%s%s" % (" ".join(cmd), status, out, err))
    return wall, ru.ru_utime + ru.ru_stime, out


def make_models(work, which):
    models = {}
    if "mobilenet" in which:
        d = os.path.join(work, "mobilenet")
        pt = os.path.join(d, "mobilenet_v2.pt")
        if not os.path.exists(pt):
            rm = os.path.join(SRC, "examples", "real-model")
            if not os.path.isdir(os.path.join(rm, "node_modules", "nsfwjs")):
                raise SystemExit("e2e_real: npm install --prefix examples/real-model first")
            sh(["node", os.path.join(rm, "export_nsfwjs.cjs"), d], stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL)
            sh(["/usr/bin/python3", os.path.join(rm, "convert_nsfwjs.py"), d])
        models["mobilenet"] = (pt, ["classify", "--model", pt, "--classes",
                                    os.path.join(d, "classes.txt"), "--size", "224", "--resize",
                                    "224", "--mean", "0,0,0", "--std", "1,1,1"])
    if "vit" in which:
        d = os.path.join(work, "vit")
        pt = os.path.join(d, "vit_b_16.pt")
        if not os.path.exists(pt):
            sh(["/usr/bin/python3", os.path.join(HERE, "make_bench.py"), "vit", d])
        models["vit"] = (pt, ["tag", "--backend", "torch", "--model", pt, "--vocab",
                              os.path.join(d, "vocab.txt"), "--size", "224"])
    return models


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--work", default="/tmp/prime-e2e-real")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="8,32")
    ap.add_argument("--models", default="mobilenet,vit")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--omp-wait", default="passive",
                    help="comma-separated OpenMP wait settings to compare, each for both "
                         "sides: passive (OMP_WAIT_POLICY=PASSIVE: waiting threads sleep; "
                         "what prime sets when the user sets neither variable), libgomp "
                         "(GOMP_SPINCOUNT=300000: libgomp's own default, waiting threads "
                         "spin first; prime before it set PASSIVE), active "
                         "(OMP_WAIT_POLICY=ACTIVE)")
    ap.add_argument("--decode-alone", action="store_true",
                    help="also time the command with a model that costs nothing "
                         "(tests/data/torch/channel_mean.pt), over the photos and over one "
                         "tiny PNG (the start-up), to measure decoding inside the pipeline")
    ap.add_argument("--jpeg-draft", default="on",
                    help="comma-separated --jpeg-draft settings of the prime command to "
                         "compare (on: the default, JPEGs decoded at a reduced DCT scale "
                         "where the input size allows; off: full size, PIL's pixels)")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    shim = [f for f in os.listdir(os.path.join(build, "shim")) if f.startswith("libprime-torch.so.")]
    if not shim:
        raise SystemExit("e2e_real: %s has no libprime-torch" % build)
    env = dict(os.environ, PRIME_TORCH_LIBRARY=os.path.join(build, "shim", sorted(shim)[0]))
    env.pop("OMP_WAIT_POLICY", None)
    waits = a.omp_wait.split(",")
    drafts = a.jpeg_draft.split(",")
    # the settings compared: OpenMP wait x JPEG draft
    combos = [(w, d) for w in waits for d in drafts]
    prime = os.path.join(build, "tools", "prime")
    # the forward-only program
    fwd = os.path.join(work, "forward_only")
    src_cpp = os.path.join(HERE, "forward_only.cpp")
    if not os.path.exists(fwd) or os.path.getmtime(fwd) < os.path.getmtime(src_cpp):
        sh(["c++", "-std=c++17", "-O2", "-D_GLIBCXX_USE_CXX11_ABI=1", "-isystem",
            "/usr/include/torch/csrc/api/include", src_cpp, "-o", fwd,
            "-ltorch", "-ltorch_cpu", "-lc10", "-pthread"])
    # the photos
    sys.path.insert(0, os.path.join(SRC, "bench", "image_real"))
    import run as image_real  # noqa: E402  (bench/image_real/run.py)
    files = image_real.make_set(os.path.join(work, "photos-all"))
    if a.limit > 0:
        files = files[:a.limit]
    photos = os.path.join(work, "photos", "all")
    os.makedirs(photos, exist_ok=True)
    for f in os.listdir(photos):
        os.unlink(os.path.join(photos, f))
    for _, f, _ in files:
        shutil.copyfile(f, os.path.join(photos, os.path.basename(f)))
    n = len(files)
    # --decode-alone: a free model, its 3 tag names, and a folder of one tiny PNG
    free = os.path.join(SRC, "tests", "data", "torch", "channel_mean.pt")
    free_vocab = os.path.join(work, "rgb.txt")
    with open(free_vocab, "w") as f:
        f.write("r\ng\nb\n")
    tiny = os.path.join(work, "tiny", "x")
    os.makedirs(tiny, exist_ok=True)
    shutil.copyfile(os.path.join(SRC, "tests", "data", "torch", "img_a.png"),
                    os.path.join(tiny, "a.png"))
    models = make_models(work, a.models.split(","))
    batches = [int(b) for b in a.batches.split(",")]
    print("e2e_real: %d photos, threads %d, OpenMP wait %s, JPEG draft %s, rounds %d, %s" % (
        n, a.threads, "/".join(waits), "/".join(drafts),
        a.rounds, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    print("load average at start: %s" % open("/proc/loadavg").read().split()[:3])
    rows = []
    for name, (pt, args) in models.items():
        for b in batches:
            res = {c: ([], [], [], [], []) for c in combos}
            alone = {c: ([], []) for c in combos}  # --decode-alone: photos, start-up CPU
            # the command with the free model: the same options, its own vocabulary
            free_args = [x for x in args]
            free_args[free_args.index("--model") + 1] = free
            if "--classes" in free_args:
                k = free_args.index("--classes")
                del free_args[k:k + 2]
            if "--vocab" in free_args:
                free_args[free_args.index("--vocab") + 1] = free_vocab
            for r in range(a.rounds):
                for wait, draft in combos:  # interleaved within each round
                    e = dict(env)
                    e.pop("GOMP_SPINCOUNT", None)
                    if wait == "libgomp":
                        e["GOMP_SPINCOUNT"] = "300000"
                    else:
                        e["OMP_WAIT_POLICY"] = wait.upper()
                    f_wall, f_cpu, e_wall, e_cpu, ratio = res[(wait, draft)]
                    w, c, _ = timed([fwd, pt, "224", str(n), str(b), str(a.threads)], e)
                    f_wall.append(w)
                    f_cpu.append(c)
                    out = os.path.join(work, "out_%s_%d.csv" % (name, b))
                    w, c, _ = timed([prime] + args + ["--images", os.path.dirname(photos),
                                                      "--batch", str(b), "--threads",
                                                      str(a.threads), "--jpeg-draft", draft,
                                                      "--output", out], e)
                    e_wall.append(w)
                    e_cpu.append(c)
                    ratio.append(e_wall[-1] / f_wall[-1])
                    if a.decode_alone:
                        for folder, cpus in ((os.path.dirname(photos), alone[(wait, draft)][0]),
                                             (os.path.dirname(tiny), alone[(wait, draft)][1])):
                            _, c, _ = timed([prime] + free_args + [
                                "--images", folder, "--batch", str(b), "--threads",
                                str(a.threads), "--jpeg-draft", draft, "--output",
                                os.path.join(work, "out_free.csv")], e)
                            cpus.append(c)
                        print("  %s batch %d: free model CPU %.2f s over the photos, %.2f s "
                              "over one tiny PNG" % (name, b, alone[(wait, draft)][0][-1],
                                                     alone[(wait, draft)][1][-1]), flush=True)
                    print("  %s batch %d wait %s draft %s round %d: forward %.2f s (CPU %.2f), "
                          "end to end %.2f s (CPU %.2f), ratio %.3f, load %s" % (
                              name, b, wait, draft, r, f_wall[-1], f_cpu[-1], e_wall[-1], e_cpu[-1],
                              ratio[-1], open("/proc/loadavg").read().split()[0]), flush=True)
            for wait, draft in combos:
                tag = ([wait] if len(waits) > 1 else []) + \
                    (["draft " + draft] if len(drafts) > 1 else [])
                rows.append((name + (" (" + ", ".join(tag) + ")" if tag else ""), b)
                            + res[(wait, draft)] + alone[(wait, draft)])
    print("\n| model | batch | forward alone: wall s (min-max) | CPU s | end to end: wall s "
          "(min-max) | CPU s | wall ratio, best of each | wall ratio per round (median, "
          "min-max) | CPU ratio (min / min) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, b, fw, fc, ew, ec, ra, dp, dt in rows:
        print("| %s | %d | %.2f (%.2f-%.2f) | %.2f | %.2f (%.2f-%.2f) | %.2f | %.3f | %.3f "
              "(%.3f-%.3f) | %.3f |" % (
                  name, b, min(fw), min(fw), max(fw), min(fc), min(ew), min(ew), max(ew),
                  min(ec), min(ew) / min(fw), statistics.median(ra), min(ra), max(ra),
                  min(ec) / min(fc)))
    if a.decode_alone:
        print("\n| model | batch | end to end - forward alone: CPU s (median) | decoding in the "
              "pipeline: free model over the photos - over one PNG, CPU s (median) |")
        print("|---|---|---|---|")
        for name, b, fw, fc, ew, ec, ra, dp, dt in rows:
            print("| %s | %d | %.2f | %.2f |" % (
                name, b, statistics.median(ec) - statistics.median(fc),
                statistics.median(dp) - statistics.median(dt)))


if __name__ == "__main__":
    main()
