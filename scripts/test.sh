#!/usr/bin/env bash
# Set up and run every test suite from a clean tree: installs the Debian
# packages, builds in build/ and runs all suites verbosely (Criterion's
# Synthesis lines are printed), then runs them again in an AddressSanitizer +
# UndefinedBehaviorSanitizer build (build-asan/), the thread test under
# ThreadSanitizer (build-tsan/) and the core suites under valgrind.
#
#   bash scripts/test.sh           # everything (the README's command, CI)
#   bash scripts/test.sh --quick   # build/ suites only, no ASan/TSan/valgrind
#
# Each step prints how long it took. A step this machine cannot run is
# skipped with one line that says why (e.g. valgrind 3.19 cannot load
# libtorch on CPUs where a libtorch dependency runs RDTSCP at start-up); the
# same code is still tested by the other steps.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
case "${1:-}" in
  "") ;;
  --quick) quick=1 ;;
  -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bash scripts/test.sh [--quick]" >&2; exit 2 ;;
esac

t_all=$SECONDS
# configure DIR OPTION...: set up DIR, or apply the options to an existing
# one (an option whose type changed, e.g. bench from boolean to combo, is
# reset by meson when it regenerates, so the options are applied every time)
configure() {
  local dir=$1
  shift
  if [ -d "$dir" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}
# step TITLE CMD...: run CMD with a header and its duration.
step() {
  local title=$1 t0=$SECONDS
  shift
  echo "=== $title ==="
  "$@"
  echo "--- $title: $((SECONDS - t0)) s"
}

step "packages (scripts/deps.sh)" bash scripts/deps.sh
[ -d build ] || meson setup build
step "build (build/)" meson compile -C build
step "all suites (build/)" meson test -C build -v --print-errorlogs

if [ $quick = 1 ]; then
  echo "=== --quick: ASan + UBSan, TSan and valgrind steps left out; bash scripts/test.sh runs them"
  echo "scripts/test.sh --quick: passed in $((SECONDS - t_all)) s"
  exit 0
fi

asan_suites() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
    meson test -C build-asan -v --print-errorlogs --no-suite install --no-suite fuzz --no-suite python \
    --no-suite docs --timeout-multiplier 3
}
configure build-asan -Dbuildtype=debug -Db_sanitize=address,undefined \
  -Db_lundef=false -Dbench=false
step "build under ASan + UBSan (build-asan/)" meson compile -C build-asan
step "the same suites under ASan + UBSan (the torch suite included)" asan_suites

# Only the thread test is built. (The search picks its bitset kernels at the
# first call, lib/search/kernels.c, not with an ifunc resolver at load time,
# which would run before the TSan runtime is set up.)
tsan_threads() {
  ninja -C build-tsan tests/test_threads
  TSAN_OPTIONS=halt_on_error=1:exitcode=66 build-tsan/tests/test_threads
}
configure build-tsan -Dbuildtype=debugoptimized -Db_sanitize=thread \
  -Db_lundef=false -Dbench=false -Dexamples=false
step "concurrent searches on one frozen store under ThreadSanitizer" tsan_threads

# readers is left out for time (about 3 min alone under valgrind); run it with
#   meson test -C build --setup valgrind --suite readers
step "the core suites under valgrind (tests/valgrind/valgrind.sh)" \
  meson test -C build --setup valgrind --print-errorlogs \
  --suite api --suite store --suite search --suite partial --suite alloc --suite threads

# libprime-torch (when libtorch was found). Its suite also runs in the ASan
# pass above (the torch suite is part of build-asan). Under valgrind every
# test process starts libtorch (~1 min each on 2 cores; the whole suite took
# 24 min), so CI runs the 8 tests that cover the shim's paths: preprocessing
# into the batch buffer, tuple/list outputs, text encoding, tag_files, the
# exceptions of loading and of a forward pass, shape errors, vocabulary
# errors (5 min on the shared 2-core machine). The whole suite:
#   meson test -C build --setup valgrind --suite torch
# First a probe loads libtorch under valgrind: valgrind 3.19 dies with SIGILL
# on CPUs where libhwy (a libtorch dependency) runs RDTSCP in a static
# initialiser; there the step is skipped with one line saying so.
torch_valgrind() {
  local rc=0 why
  why=$(bash tests/valgrind/torch_probe.sh build/tests/torch/torch_probe) || rc=$?
  if [ $rc = 77 ]; then
    echo "SKIPPED libprime-torch under valgrind: $why; its suite ran under ASan + UBSan above"
    return 0
  fi
  [ $rc = 0 ] || { echo "$why"; return $rc; }
  meson test -C build --setup valgrind --print-errorlogs test_torch \
    --test-args='--filter=torch/@(tagger_matches_python|classifier_list_output_without_names|embedder_images_and_texts_match_python|tag_files_end_to_end_into_a_store|forward_failure_is_a_status_with_libtorch_message|files_that_are_not_torchscript_are_parse_errors|tagger_wrong_width_is_a_mismatch_with_both_shapes|vocabulary_lines_are_checked)'
}
if [ -f build/shim/libprime-torch.so ]; then
  step "libprime-torch under valgrind (8 of the torch tests)" torch_valgrind
fi
echo "scripts/test.sh: passed in $((SECONDS - t_all)) s"
