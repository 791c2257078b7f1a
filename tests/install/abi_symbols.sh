#!/usr/bin/env bash
# The shared library exports exactly the functions declared with PRIME_API in
# the public headers, all prefixed prime_, and does not link libstdc++ or
# libtorch.
set -euo pipefail
build=${PRIME_BUILD_ROOT:?}
src=${PRIME_SOURCE_ROOT:?}
lib=$build/lib/libprime.so
declared=$(cat "$src"/include/prime/*.h "$src"/include/prime/sys/*.h | tr '\n' ' ' | grep -oE 'PRIME_API [^;(]*\(' \
  | grep -oE 'prime_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | sort -u)
if [ "$declared" != "$exported" ]; then
  echo "declared and exported symbols differ:"
  diff <(echo "$declared") <(echo "$exported") || true
  exit 1
fi
echo "exported symbols: $(echo "$exported" | wc -l), all declared"
if readelf -d "$lib" | grep NEEDED | grep -E 'stdc\+\+|torch|c10'; then
  echo "the core library must not link libstdc++ or libtorch"
  exit 1
fi
echo "abi: 2 passed, 0 failed"
