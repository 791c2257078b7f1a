#!/usr/bin/env bash
# Set up and run every test suite from a clean tree: installs the Debian
# packages, builds in build/ and runs all suites verbosely (Criterion's
# Synthesis lines are printed), then runs them again in an AddressSanitizer +
# UndefinedBehaviorSanitizer build (build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -d build ] || meson setup build
meson compile -C build
meson test -C build -v --print-errorlogs

echo "=== the same suites under ASan + UBSan ==="
[ -d build-asan ] || meson setup build-asan -Dbuildtype=debug -Db_sanitize=address,undefined \
  -Db_lundef=false -Dbench=false
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
  meson test -C build-asan -v --print-errorlogs --no-suite install --timeout-multiplier 3
