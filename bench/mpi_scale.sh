#!/usr/bin/env bash
# The scaling benchmark of libprime-mpi (docs/scale.md): a lazily generated
# store (bench/mpi_scale.c: each rank generates only what it holds) searched
# per class and in whole-data-set mode at 1, 2 and 4 ranks; then (mode
# files) the same store written once as a binary store with binary outcomes
# and searched over the whole data set from these files, each rank reading
# only its range (prime_tagstore_open_part). One line per run (wall times,
# peak resident size per rank, modes, candidates, a hash of the result's
# JSON, which must not depend on the rank count).
#   bench/mpi_scale.sh BUILD_DIR [IMAGES] [CLASSES] [MODES]
# MODES: any of classes, whole, files (default: all three), e.g. "files".
set -euo pipefail
build=${1:?usage: mpi_scale.sh BUILD_DIR [IMAGES] [CLASSES] [MODES]}
images=${2:-10000000}
classes=${3:-1000}
modes=${4:-classes whole files}
exe=$build/bench/prime-mpi-scale
root=()
[ "$(id -u)" -ne 0 ] || root=(--allow-run-as-root)
# the whole-data-set search with a relative minimum size (SCALE.md: a fixed
# min_size of 30 over millions of images reports noise): 1 image in 10^4
share=0.0001
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
for mode in $modes; do
  extra=()
  case $mode in
    classes) ;;
    whole) extra=(--mode whole --min-size-share "$share") ;;
    files)
      mpirun "${root[@]}" -np 1 "$exe" --images "$images" --classes "$classes" \
        --write "$tmp/store"
      extra=(--mode whole --min-size-share "$share" --tags "$tmp/store.prime"
             --outcomes "$tmp/store.bits") ;;
    *) echo "unknown mode $mode"; exit 2 ;;
  esac
  hashes=()
  for np in 1 2 4; do
    ref=()
    [ "$np" -ne 1 ] || ref=(--reference)
    line=$(mpirun "${root[@]}" --oversubscribe -np "$np" "$exe" --images "$images" \
      --classes "$classes" --threads 1 "${extra[@]}" "${ref[@]}")
    echo "$line"
    hashes+=("$(echo "$line" | grep -o 'json_fnv=[0-9a-f]*')")
  done
  [ "$(printf '%s\n' "${hashes[@]}" | sort -u | wc -l)" -eq 1 ] ||
    { echo "mode $mode: the result differs between rank counts"; exit 1; }
  echo "mode $mode: identical result at 1, 2 and 4 ranks"
done
