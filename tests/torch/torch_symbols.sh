#!/usr/bin/env bash
# libprime-torch exports exactly the functions declared with PRIME_TORCH_API in
# include/prime/torch.h (no libtorch, libstdc++ or libprime symbol leaks out),
# its soname is libprime-torch.so.1, it links libprime, and libprime itself
# still links neither libstdc++ nor libtorch.
set -euo pipefail
src=${PRIME_SOURCE_ROOT:?}
lib=${PRIME_TORCH_LIBRARY:?}
core=${PRIME_LIBRARY:?}
declared=$(tr '\n' ' ' <"$src/include/prime/torch.h" | grep -oE 'PRIME_TORCH_API [^;(]*\(' \
  | grep -oE 'prime_torch_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sed 's/@.*//' | sort -u)
[ -n "$declared" ] || { echo "no PRIME_TORCH_API declaration found in torch.h"; exit 1; }
if [ "$declared" != "$exported" ]; then
  echo "declared and exported symbols of libprime-torch differ (< declared, > exported):"
  diff <(echo "$declared") <(echo "$exported") || true
  exit 1
fi
echo "libprime-torch exports $(wc -l <<<"$exported") symbols, all declared in torch.h"
dyn=$(readelf -d "$lib")
grep -q 'SONAME.*\[libprime-torch\.so\.1\]' <<<"$dyn" || { echo "bad soname:"; echo "$dyn"; exit 1; }
grep -q 'NEEDED.*\[libprime\.so\.1\]' <<<"$dyn" || { echo "does not link libprime:"; echo "$dyn"; exit 1; }
core_dyn=$(readelf -d "$core")
if grep -E 'NEEDED.*(stdc\+\+|torch|c10)' <<<"$core_dyn"; then
  echo "libprime must not link libstdc++ or libtorch"
  exit 1
fi
echo "torch abi: 3 passed, 0 failed"
