#!/usr/bin/env bash
# exe_wrapper of the 'valgrind' test setup (tests/meson.build):
#   meson test -C build --setup valgrind --suite unit ...
# Criterion runs every test in a child process, and a child's valgrind exit
# code does not reach the runner, so each process (--trace-children=yes)
# writes its own log and this script fails when any log reports an error or
# a definite/indirect leak.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# libjpeg-turbo's SIMD code (its Huffman encoder, its upsampling and IDCT)
# computes on uninitialised padding that it then masks out, which memcheck
# reports in every program that encodes or decodes with it (main's build
# too, on progressive JPEGs at a reduced scale); its C code, which gives the
# same bytes, is checked instead (libjpeg-turbo's documented switch)
export JSIMD_FORCENONE=1
logs=$(mktemp -d "${TMPDIR:-/tmp}/prime-vg.XXXXXX")
valgrind --trace-children=yes --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=9 --track-fds=no \
  --suppressions="$here/../valgrind.supp" --log-file="$logs/vg.%p.log" "$@"
rc=$?
bad=0
for f in "$logs"/vg.*.log; do
  [ -e "$f" ] || continue
  if grep -qE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]' "$f"; then
    echo "=== valgrind found errors: $f" >&2
    cat "$f" >&2
    bad=1
  fi
done
n=$(ls "$logs" | wc -l)
echo "valgrind: $n processes checked, $([ $bad = 0 ] && echo clean || echo ERRORS)" >&2
rm -rf "$logs"
[ $bad = 0 ] || exit 9
exit $rc
