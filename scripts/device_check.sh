#!/usr/bin/env bash
# Device check for a machine with a GPU (issue 15): builds libprime-torch
# against the libtorch found there, runs the torch suite, then times the
# tiny TorchScript tagger through `prime tag --backend torch` on the CPU and
# on each CUDA device, float32 against float16/bfloat16, and prints one table.
# On a machine without a GPU (no nvidia-smi, or it lists none) it says so and
# exits 0.
#   scripts/device_check.sh [BUILD_DIR]   (default build-device)
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-device}
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  echo "device_check: no GPU on this machine (nvidia-smi finds none); nothing to check"
  exit 0
fi
nvidia-smi -L
[ -d "$build" ] || meson setup "$build" -Dbuildtype=release >/dev/null || exit 1
meson compile -C "$build" || exit 1
meson test -C "$build" --suite torch --suite cli_torch || echo "device_check: the torch suites failed"
export PRIME_TORCH_LIBRARY="$build/shim/libprime-torch.so.0"
prime="$build/tools/prime"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 512 images: the tiny test images repeated, in two class folders
for i in $(seq 0 255); do
  mkdir -p "$tmp/img/a" "$tmp/img/b"
  cp "$src/tests/data/torch/img_a.png" "$tmp/img/a/$i.png"
  cp "$src/tests/data/torch/img_d.png" "$tmp/img/b/$i.png"
done
printf '%-10s %-9s %-6s %12s %s\n' device dtype batch "images/s" status
devices="cpu $(nvidia-smi -L | sed -n 's/^GPU \([0-9]*\):.*/cuda:\1/p')"
for dev in $devices; do
  for dtype in float32 float16 bfloat16; do
    for batch in 32 64 128; do
      t0=$(date +%s.%N)
      if "$prime" tag --images "$tmp/img" --backend torch --model "$src/tests/data/torch/tagger.pt" \
          --vocab "$src/tests/data/torch/vocab.txt" --size 32 --device "$dev" --dtype "$dtype" \
          --batch "$batch" --output "$tmp/out.prime" 2>"$tmp/err"; then
        t1=$(date +%s.%N)
        printf '%-10s %-9s %-6s %12.1f ok\n' "$dev" "$dtype" "$batch" "$(echo "512 / ($t1 - $t0)" | bc -l)"
      else
        printf '%-10s %-9s %-6s %12s %s\n' "$dev" "$dtype" "$batch" - "$(tail -1 "$tmp/err")"
      fi
    done
  done
done
