#!/usr/bin/env bash
# images/s of `prime classify` and `prime tag --backend torch` with the
# ResNet-18 of make_bench.py (300 500x375 JPEGs, batch 32), under each BLAS
# that provides Debian's libblas.so.3 alternative, in one run (issue 18).
# Not a test. Needs root (update-alternatives --set); leaves OpenBLAS active.
#   bash bench/torch/blas.sh [BUILD_DIR=build] [WORK_DIR=/tmp/prime-torch-bench] [THREADS=2] [ROUNDS=3]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
work=${2:-/tmp/prime-torch-bench}
threads=${3:-2}
rounds=${4:-3}
alt=libblas.so.3-$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
ref=/usr/lib/x86_64-linux-gnu/blas/libblas.so.3
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
[ -f "$ref" ] && [ -f "$openblas" ] || { echo "needs libblas3 and libopenblas0 (scripts/deps.sh)"; exit 1; }
[ -f "$work/resnet18.pt" ] || /usr/bin/python3 "$src/bench/torch/make_bench.py" make "$work" 300
export PRIME_TORCH_LIBRARY=$build/shim/libprime-torch.so.0
prime=$build/tools/prime
n=$(ls "$work/images" | wc -l)
declare -A best
run() { # key, command...: keeps the best images/s of key
  local key=$1 t0 t1; shift
  t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
  best[$key]=$(awk -v n="$n" -v a="$t0" -v b="$t1" -v best="${best[$key]:-0}" \
    'BEGIN { x = n / (b - a); print (x > best ? x : best) }')
}
use() { # reference|openblas
  local target=$ref; [ "$1" = openblas ] && target=$openblas
  update-alternatives --set "$alt" "$target" >/dev/null
}
for blas in reference openblas; do
  use "$blas"
  # which libblas.so.3 a running prime maps (the check docs/backends.md gives)
  "$prime" classify --model "$work/resnet18.pt" --images "$work/images" --threads "$threads" \
    --output /tmp/prime-blas-check.csv >/dev/null & pid=$!
  mapped=""
  for _ in $(seq 300); do
    mapped=$(grep -o '/[^ ]*libblas[^ ]*' "/proc/$pid/maps" 2>/dev/null | sort -u | head -1 || true)
    [ -n "$mapped" ] && break; sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "# $blas: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3) (mapped by prime: ${mapped:-?})"
done
# rounds interleaved, so that the machine's load falls on both alike
for r in $(seq "$rounds"); do
  for blas in reference openblas; do
    use "$blas"
    run "$blas classify" "$prime" classify --model "$work/resnet18.pt" --images "$work/images" \
      --threads "$threads" --batch 32 --output "$work/blas_outcomes.csv"
    run "$blas tag" "$prime" tag --backend torch --model "$work/resnet18.pt" \
      --vocab "$work/vocab.txt" --size 224 --resize 256 --images "$work/images" \
      --threads "$threads" --batch 32 --output "$work/blas_tags.csv"
    echo "round $r $blas: classify ${best[$blas classify]}, tag ${best[$blas tag]} (best so far)"
  done
done
printf '| BLAS | prime classify | prime tag --backend torch |\n|---|---|---|\n'
for blas in reference openblas; do
  printf '| %s | %.1f | %.1f |\n' "$blas" "${best[$blas classify]}" "${best[$blas tag]}"
done
use openblas
update-alternatives --display "$alt" | head -2
