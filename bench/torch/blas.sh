#!/usr/bin/env bash
# images/s of `prime classify` and `prime tag --backend torch` with the
# ResNet-18 of make_bench.py (and `prime classify` with a MobileNetV2), under
# each BLAS that provides Debian's libblas.so.3 alternative, in one run
# (issue 18). Not a test. Needs root (update-alternatives --set); leaves
# OpenBLAS active (the alternative back in automatic mode).
#   bash bench/torch/blas.sh [BUILD_DIR=build] [WORK_DIR=/tmp/prime-torch-bench]
#                            [THREADS=1] [ROUNDS=2] [IMAGES=96] [BATCH=32]
# Each figure: IMAGES / seconds, both of wall time and of CPU time (user +
# system of the prime process: the figure that a machine shared with other
# jobs does not move much), the best of ROUNDS interleaved rounds; the time
# includes loading the model and the batch guard (1 + 2 + BATCH images).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
work=${2:-/tmp/prime-torch-bench}
threads=${3:-1}
rounds=${4:-2}
nimg=${5:-96}
batch=${6:-32}
alt=libblas.so.3-x86_64-linux-gnu
ref=/usr/lib/x86_64-linux-gnu/blas/libblas.so.3
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
[ -f "$ref" ] && [ -f "$openblas" ] || { echo "needs libblas3 and libopenblas0 (scripts/deps.sh)"; exit 1; }
[ -f "$work/resnet18.pt" ] || /usr/bin/python3 "$src/bench/torch/make_bench.py" make "$work" 300
[ -f "$work/mobilenet_v2.pt" ] || /usr/bin/python3 -c "
import sys, torch, torchvision
torch.manual_seed(0)
torch.jit.script(torchvision.models.mobilenet_v2().eval()).save(sys.argv[1])" "$work/mobilenet_v2.pt"
ls "$work"/images/*.jpg | head -n "$nimg" > "$work/blas_list.txt"
export PRIME_TORCH_LIBRARY=$build/shim/libprime-torch.so.0
prime=$build/tools/prime
declare -A wall cpu
run() { # key, command...: keeps the best wall and CPU images/s of key
  local key=$1 t; shift
  t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
  local tr u s
  read -r tr u s <<<"$t"
  wall[$key]=$(awk -v n="$nimg" -v t="$tr" -v b="${wall[$key]:-0}" 'BEGIN { x = n / t; print (x > b ? x : b) }')
  cpu[$key]=$(awk -v n="$nimg" -v t="$u" -v s="$s" -v b="${cpu[$key]:-0}" 'BEGIN { x = n / (t + s); print (x > b ? x : b) }')
}
use() { # reference|openblas
  local target=$ref; [ "$1" = openblas ] && target=$openblas
  update-alternatives --set "$alt" "$target" >/dev/null
}
for blas in reference openblas; do
  use "$blas"
  # which libblas.so.3 a running prime maps (the check docs/backends.md gives)
  "$prime" classify --model "$work/resnet18.pt" --images "$work/blas_list.txt" \
    --threads "$threads" --output /tmp/prime-blas-check.csv >/dev/null 2>&1 & pid=$!
  mapped=""
  for _ in $(seq 600); do
    mapped=$(grep -o '/[^ ]*libblas[^ ]*' "/proc/$pid/maps" 2>/dev/null | sort -u | head -1 || true)
    [ -n "$mapped" ] && break; sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "# $blas: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3) (mapped by prime: ${mapped:-?})"
done
common=(--images "$work/blas_list.txt" --threads "$threads" --batch "$batch")
# rounds interleaved, so that the machine's load falls on both alike
for r in $(seq "$rounds"); do
  for blas in reference openblas; do
    use "$blas"
    run "$blas resnet18 classify" "$prime" classify --model "$work/resnet18.pt" "${common[@]}" \
      --output "$work/blas_outcomes.csv"
    run "$blas resnet18 tag" "$prime" tag --backend torch --model "$work/resnet18.pt" \
      --vocab "$work/vocab.txt" --size 224 --resize 256 "${common[@]}" \
      --output "$work/blas_tags.csv"
    run "$blas mobilenet_v2 classify" "$prime" classify --model "$work/mobilenet_v2.pt" \
      "${common[@]}" --output "$work/blas_outcomes2.csv"
    echo "round $r $blas done"
  done
done
echo "THREADS=$threads, $nimg images, batch $batch, best of $rounds rounds; images/s of wall time | of CPU time"
printf '| run | reference BLAS | OpenBLAS |\n|---|---|---|\n'
for k in "resnet18 classify" "resnet18 tag" "mobilenet_v2 classify"; do
  printf '| %s | %.2f \\| %.2f | %.2f \\| %.2f |\n' "$k" "${wall[reference $k]}" \
    "${cpu[reference $k]}" "${wall[openblas $k]}" "${cpu[openblas $k]}"
done
# back to automatic mode: OpenBLAS, by its priority (100 against the reference's 10)
update-alternatives --auto "$alt"
update-alternatives --display "$alt" | head -3
