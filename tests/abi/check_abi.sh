#!/usr/bin/env bash
# ABI check (suite 'abi'): compares libprime with the baseline committed in
# tests/abi/libprime.abi using abidiff (Debian: abigail-tools) and fails on
# ANY difference, compatible additions included, so that every change of the
# ABI is a deliberate, reviewed change of the baseline.
#
#   check_abi.sh LIB_WITH_DEBUG_INFO [MORE_LIBS...]
#
# Every library given is compared; one built without debug information
# (the release build's libprime.so) can only be compared by its ELF symbols
# (functions added or removed), the first one (tests/libprime.so, the same
# objects compiled with -g) also by its types: parameters, return types,
# enums, the layout of every public struct.
#
# To change the ABI on purpose (docs/abi.md says what a minor version may
# change), regenerate the baseline from a build and commit it with the change:
#
#   ninja -C build && tests/abi/check_abi.sh --update build/tests/libprime.so
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
baseline=$here/libprime.abi
has_debug() { readelf -S "$1" 2>/dev/null | grep "\.debug_info" >/dev/null; }
dump() { # lib -> abidw XML on stdout, public headers only, no paths
  abidw --headers-dir "$src/include/prime" --drop-private-types --no-corpus-path \
    --no-comp-dir-path --no-show-locs "$1"
}
if [ "${1:-}" = "--update" ]; then
  lib=${2:?usage: check_abi.sh --update LIB_WITH_DEBUG_INFO}
  has_debug "$lib" || { echo "$lib has no debug information"; exit 2; }
  dump "$lib" > "$baseline" || exit 2
  echo "wrote $baseline from $lib ($(grep -c '<elf-symbol ' "$baseline") symbols)"
  exit 0
fi
[ $# -ge 1 ] || { echo "usage: check_abi.sh LIB [LIB...] | --update LIB"; exit 2; }
[ -f "$baseline" ] || { echo "no baseline $baseline"; exit 1; }
fail=0
for lib in "$@"; do
  if has_debug "$lib"; then
    kind="types and symbols"
    out=$(abidiff --headers-dir2 "$src/include/prime" --drop-private-types \
      --no-show-locs "$baseline" "$lib" 2>&1)
  else
    kind="ELF symbols only (no debug information)"
    out=$(abidiff --no-show-locs "$baseline" "$lib" 2>&1)
  fi
  rc=$?
  # abidiff exits 0 when it cannot parse the baseline: treat that as failure
  if [ $rc -eq 0 ] && grep -qiE 'parser error|error' <<<"$out"; then rc=1; fi
  # abidiff: bit 0 tool error, bit 1 usage error, bit 2 ABI change, bit 3
  # incompatible ABI change. Any nonzero status fails the test.
  if [ $rc -ne 0 ]; then
    echo "ABI of $lib differs from tests/abi/libprime.abi ($kind; abidiff status $rc):"
    echo "$out"
    fail=1
  else
    echo "ABI of $lib equals the baseline ($kind)"
  fi
done
if [ $fail -ne 0 ]; then
  cat <<'MSG'

The public ABI changed. If this is intended (see docs/abi.md: a minor version
may only add functions and enum values; anything else needs a new soname),
regenerate the baseline and commit it with the change:
    tests/abi/check_abi.sh --update BUILD/tests/libprime.so
MSG
  exit 1
fi
echo "abi baseline: $# passed, 0 failed"
