#!/usr/bin/env bash
# Every constant of the public headers (a #define or an enumerator named
# PRIME_*) is pinned in tests/abi/abi_constants.c, so that no constant can
# change its value unnoticed. Header guards, export macros, initialisers
# (their fields are pinned as offsets) and the version being released are
# left out.
set -euo pipefail
src=${1:?usage: check_pins.sh SOURCE_ROOT}
consts=$(cat "$src"/include/prime/*.h "$src"/include/prime/sys/*.h \
  | grep -oE '^\s*#define PRIME_[A-Z0-9_]+|^\s*PRIME_[A-Z0-9_]+ *=' | grep -oE 'PRIME_[A-Z0-9_]+' \
  | grep -vE '_H$|^PRIME_(TORCH_|MPI_)?API$|_INIT$|^PRIME_VERSION_(NUMBER|STRING|MINOR|PATCH)$' | sort -u)
missing=0
for c in $consts; do
  grep -qE "(PIN\\(|\\b)$c\\b" "$src/tests/abi/abi_constants.c" || { echo "not pinned in tests/abi/abi_constants.c: $c"; missing=$((missing + 1)); }
done
n=$(wc -w <<<"$consts")
if [ $missing -ne 0 ]; then echo "pins: $missing of $n constants not pinned"; exit 1; fi
echo "pins: all $n public constants are pinned"
