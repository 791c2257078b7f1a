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
  meson test -C build-asan -v --print-errorlogs --no-suite install --no-suite fuzz --no-suite python --no-suite docs \
  --timeout-multiplier 3

echo "=== concurrent searches on one frozen store under ThreadSanitizer ==="
# Only the thread test is built. (The search picks its bitset kernels at the
# first call, lib/search/kernels.c, not with an ifunc resolver at load time,
# which would run before the TSan runtime is set up.)
[ -d build-tsan ] || meson setup build-tsan -Dbuildtype=debugoptimized -Db_sanitize=thread \
  -Db_lundef=false -Dbench=false -Dexamples=false
ninja -C build-tsan tests/test_threads
TSAN_OPTIONS=halt_on_error=1:exitcode=66 build-tsan/tests/test_threads

echo "=== the core suites under valgrind (tests/valgrind/valgrind.sh) ==="
# readers is left out for time (about 3 min alone under valgrind); run it with
#   meson test -C build --setup valgrind --suite readers
meson test -C build --setup valgrind --print-errorlogs \
  --suite api --suite store --suite search --suite alloc --suite threads

# libprime-torch (when libtorch was found). Its suite also runs in the ASan
# pass above (the torch suite is part of build-asan). Under valgrind every
# test process starts libtorch (~1 min each on 2 cores; the whole suite took
# 24 min), so CI runs the 8 tests that cover the shim's paths: preprocessing
# into the batch buffer, tuple/list outputs, text encoding, tag_files, the
# exceptions of loading and of a forward pass, shape errors, vocabulary
# errors (5 min on the shared 2-core machine). The whole suite:
#   meson test -C build --setup valgrind --suite torch
if [ -f build/shim/libprime-torch.so ]; then
  echo "=== libprime-torch under valgrind (8 of the torch tests) ==="
  meson test -C build --setup valgrind --print-errorlogs test_torch \
    --test-args='--filter=torch/@(tagger_matches_python|classifier_list_output_without_names|embedder_images_and_texts_match_python|tag_files_end_to_end_into_a_store|forward_failure_is_a_status_with_libtorch_message|files_that_are_not_torchscript_are_parse_errors|tagger_wrong_width_is_a_mismatch_with_both_shapes|vocabulary_lines_are_checked)'
fi
