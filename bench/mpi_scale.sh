#!/usr/bin/env bash
# The scaling benchmark of libprime-mpi (docs/scale.md): a lazily generated
# store (bench/mpi_scale.c: each rank generates only what it holds) searched
# per class and in whole-data-set mode at 1, 2 and 4 ranks; one line per run
# (wall times, peak resident size per rank, modes, candidates, a hash of the
# result's JSON, which must not depend on the rank count).
#   bench/mpi_scale.sh BUILD_DIR [IMAGES] [CLASSES]
set -euo pipefail
build=${1:?usage: mpi_scale.sh BUILD_DIR [IMAGES] [CLASSES]}
images=${2:-10000000}
classes=${3:-1000}
exe=$build/bench/prime-mpi-scale
root=()
[ "$(id -u)" -ne 0 ] || root=(--allow-run-as-root)
# the whole-data-set search with a relative minimum size (SCALE.md: a fixed
# min_size of 30 over millions of images reports noise): 1 image in 10^4
share=0.0001
for mode in classes whole; do
  extra=()
  [ "$mode" = classes ] || extra=(--min-size-share "$share")
  hashes=()
  for np in 1 2 4; do
    ref=()
    [ "$np" -ne 1 ] || ref=(--reference)
    line=$(mpirun "${root[@]}" --oversubscribe -np "$np" "$exe" --images "$images" \
      --classes "$classes" --mode "$mode" --threads 1 "${extra[@]}" "${ref[@]}")
    echo "$line"
    hashes+=("$(echo "$line" | grep -o 'json_fnv=[0-9a-f]*')")
  done
  [ "$(printf '%s\n' "${hashes[@]}" | sort -u | wc -l)" -eq 1 ] ||
    { echo "mode $mode: the result differs between rank counts"; exit 1; }
  echo "mode $mode: identical result at 1, 2 and 4 ranks"
done
