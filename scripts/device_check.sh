#!/usr/bin/env bash
# Device check for a machine with a GPU (issue 15): builds libprime-torch
# against the libtorch found there, runs the torch suites, then times one
# TorchScript tagger through `prime tag --backend torch` and the same model
# from PyTorch (scripts/device_bench.py, /usr/bin/python3: the same images,
# preprocessing, device and dtype) on each CUDA device, float32 against
# float16, batches 32/64/128, and prints one table. On a machine without a
# GPU (no nvidia-smi, or it lists none) it says so and exits 0.
#
#   scripts/device_check.sh [--cpu] [--images N] [--threads T] [--rounds R]
#                           [--model M.pt --vocab V.txt --size S] [BUILD_DIR]
#
# --cpu       time the CPU only, also where there is no GPU (the suites are not
#             run: they are the ordinary CI's); shows the table works anywhere
# --images N  images per row (default 512; the test images repeated): each
#             side runs N and then 2N images
# --threads T decoding and libtorch threads of both sides (default 2)
# --rounds R  each timing is the best of R runs (default 3; the runs of the
#             two sides and sizes interleaved, so that load on a shared
#             machine hits both alike)
# --model ... another tagger (default tests/data/torch/tagger.pt, 12 tags,
#             32 px: tiny, so the figures measure the pipeline, not a network)
# BUILD_DIR   default build-device (set up as a release build when missing)
#
# images/s is the marginal throughput of a whole command: N / (wall time with
# 2N images - wall time with N images), so that what a run pays once (process
# start, `import torch`, loading libtorch and the model, libprime's batch
# guard, warm-up) cancels on both sides; what remains is decoding,
# preprocessing, the copies to the device, the forward passes and the
# scores. libprime: `prime tag --backend torch` (also writes its store);
# PyTorch: scripts/device_bench.py. A row that cannot run (float16
# convolutions on a CPU libtorch) shows the error. The figures mean something
# only on a machine that is otherwise idle (the header shows the load
# average): on a shared one the difference of two wall times is mostly the
# other jobs' noise.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cpu_only=0 nimg=512 threads=2 rounds=3 build=""
model="$src/tests/data/torch/tagger.pt" vocab="$src/tests/data/torch/vocab.txt" size=32
while [ $# -gt 0 ]; do
  case $1 in
    --cpu) cpu_only=1 ;;
    --images) nimg=${2:?--images N}; shift ;;
    --threads) threads=${2:?--threads T}; shift ;;
    --rounds) rounds=${2:?--rounds R}; shift ;;
    --model) model=${2:?--model M.pt}; shift ;;
    --vocab) vocab=${2:?--vocab V.txt}; shift ;;
    --size) size=${2:?--size S}; shift ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    -*) echo "device_check: unknown option $1" >&2; exit 2 ;;
    *) build=$1 ;;
  esac
  shift
done
case $nimg$threads$size$rounds in *[!0-9]*) echo "device_check: --images, --threads, --rounds, --size take integers" >&2; exit 2 ;; esac
build=${build:-$src/build-device}
gpus=""
if command -v nvidia-smi >/dev/null 2>&1 && grep -q '^GPU' < <(nvidia-smi -L 2>/dev/null); then
  gpus=$(nvidia-smi -L | sed -n 's/^GPU \([0-9]*\):.*/cuda:\1/p')
  nvidia-smi -L
fi
if [ -z "$gpus" ] && [ $cpu_only -eq 0 ]; then
  echo "device_check: no GPU on this machine (nvidia-smi finds none); nothing to check (--cpu times the CPU)"
  exit 0
fi
[ -d "$build" ] || meson setup "$build" -Dbuildtype=release >/dev/null || exit 1
meson compile -C "$build" tools/prime shim/prime-torch >/dev/null 2>&1 || meson compile -C "$build" || exit 1
if [ $cpu_only -eq 0 ]; then
  meson test -C "$build" --suite torch --suite cli_torch || echo "device_check: the torch suites failed"
fi
export PRIME_TORCH_LIBRARY
PRIME_TORCH_LIBRARY=$(ls "$build"/shim/libprime-torch.so.[0-9]* 2>/dev/null | head -1)
[ -n "$PRIME_TORCH_LIBRARY" ] || { echo "device_check: $build has no libprime-torch (is libtorch found?)" >&2; exit 1; }
prime="$build/tools/prime"
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
# 2 x NIMG images: the test images repeated, in two class folders; list1
# holds the first NIMG, list2 all
mkdir -p "$tmp/img/a" "$tmp/img/b"
for ((i = 0; i < 2 * nimg; i++)); do
  if ((i % 2)); then cp "$src/tests/data/torch/img_d.png" "$tmp/img/b/$i.png"
  else cp "$src/tests/data/torch/img_a.png" "$tmp/img/a/$i.png"; fi
done
(cd "$tmp/img" && find . -name '*.png' | sed 's|^\./||' | LC_ALL=C sort | sed "s|^|$tmp/img/|") > "$tmp/list2.txt"
head -n "$nimg" "$tmp/list2.txt" > "$tmp/list1.txt"
# wall N: seconds of the command "$@" (empty output and status 1 on failure;
# its stderr in $tmp/err)
wall() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$tmp/stdout" 2>"$tmp/err" || return 1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
# rate T1 T2: NIMG / (T2 - T1), or "-" when it is not positive (noise)
rate() { echo "$1 $2" | awk -v n="$nimg" '{d = $2 - $1; if (d > 0) printf "%.1f", n / d; else print "-"}'; }
min() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc -l)" = 1 ]; then echo "$2"; else echo "$1"; fi; }
# the gist of a failure: libtorch's own error when there is one
first_error() {
  local e
  e=$(grep -o -m1 -e 'RuntimeError: .*' -e 'device [^ ]*: .*' "$1" | head -1)
  [ -n "$e" ] || e=$(grep -m1 -v -e 'tagging stopped' -e '^ *$' "$1")
  echo "$e" | cut -c1-90
}
devices="cpu"
[ $cpu_only -eq 1 ] || devices="$devices $gpus"
echo
echo "device_check: $(basename "$model"), images/s = $nimg / (time of $((2 * nimg)) images - time of $nimg), best of $rounds, ${size}px, $threads threads, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null), libtorch $("$py" -c 'import torch; print(torch.__version__)' 2>/dev/null), $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-8s %-8s %5s | %16s %16s %7s | %s\n' device dtype batch "libprime img/s" "PyTorch img/s" ratio status
for dev in $devices; do
  for dtype in float32 float16; do
    for batch in 32 64 128; do
      status=ok ours="" theirs=""
      prime_run() {
        "$prime" tag --images "$1" --backend torch --model "$model" --vocab "$vocab" \
          --size "$size" --device "$dev" --dtype "$dtype" --batch "$batch" --threads "$threads" \
          --output "$tmp/out.prime"
      }
      torch_run() { "$py" "$src/scripts/device_bench.py" "$model" "$1" "$size" "$dev" "$dtype" "$batch" "$threads"; }
      # best of $rounds for each side and size, interleaved
      pa="" pb="" ta="" tb="" pfail=0 tfail=0
      for ((r = 0; r < rounds; r++)); do
        if [ $pfail -eq 0 ]; then
          if a=$(wall prime_run "$tmp/list1.txt") && b=$(wall prime_run "$tmp/list2.txt"); then
            pa=$(min "$pa" "$a") pb=$(min "$pb" "$b")
          else
            pfail=1 status="libprime: $(first_error "$tmp/err")"
          fi
        fi
        if [ $tfail -eq 0 ]; then
          if a=$(wall torch_run "$tmp/list1.txt") && b=$(wall torch_run "$tmp/list2.txt"); then
            ta=$(min "$ta" "$a") tb=$(min "$tb" "$b")
          else
            tfail=1
            cat "$tmp/stdout" "$tmp/err" | sed 's/^error: //' > "$tmp/perr"
            msg=$(first_error "$tmp/perr")
            [ "$status" = ok ] && status="PyTorch: $msg" || status="$status; PyTorch: $msg"
          fi
        fi
        [ $pfail -eq 1 ] && [ $tfail -eq 1 ] && break
      done
      [ $pfail -eq 0 ] && ours=$(rate "$pa" "$pb")
      [ $tfail -eq 0 ] && theirs=$(rate "$ta" "$tb")
      if [ "$ours" = - ] || [ "$theirs" = - ]; then
        status="timing noise: 2N images not slower than N (a loaded machine? more --images)"
      fi
      ratio=-
      case "$ours$theirs" in *-*|"") ;; *) [ -n "$ours" ] && [ -n "$theirs" ] &&
        ratio=$(printf '%.2f' "$(echo "$ours / $theirs" | bc -l)") ;; esac
      printf '%-8s %-8s %5s | %16s %16s %7s | %s\n' "$dev" "$dtype" "$batch" \
        "${ours:--}" "${theirs:--}" "$ratio" "$status"
    done
  done
done
