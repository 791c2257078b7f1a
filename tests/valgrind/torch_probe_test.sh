#!/usr/bin/env bash
# Checks tests/valgrind/torch_probe.sh's three verdicts with stand-ins for
# valgrind: one that runs the program (exit 0), one that prints what
# valgrind 3.19 prints when it meets RDTSCP and dies with SIGILL (exit 77 and
# one line naming the instruction), one that dies otherwise (exit 1).
#   torch_probe_test.sh PROBE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
probe=${1:?usage: torch_probe_test.sh PROBE}
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$tmp/vg-runs" <<'SH'
#!/bin/sh
[ "$1" = --version ] && { echo valgrind-3.19.0; exit 0; }
while [ "${1#-}" != "$1" ]; do shift; done
exec "$@"
SH
cat >"$tmp/vg-sigill" <<'SH'
#!/bin/sh
[ "$1" = --version ] && { echo valgrind-3.19.0; exit 0; }
cat >&2 <<'LOG'
vex amd64->IR: unhandled instruction bytes: 0xF 0x1 0xF9 0x89 0x4C 0x24 0x8 0x48 0x8B 0x44
vex amd64->IR:   REX=0 REX.W=0 REX.R=0 REX.X=0 REX.B=0
valgrind: Unrecognised instruction at address 0x1b5e7a3c.
==4242== Your program just tried to execute an instruction that Valgrind
==4242== did not recognise.
==4242== Process terminating with default action of signal 4 (SIGILL)
==4242==  Illegal opcode at address 0x1B5E7A3C
LOG
kill -ILL $$
SH
cat >"$tmp/vg-error" <<'SH'
#!/bin/sh
[ "$1" = --version ] && { echo valgrind-3.19.0; exit 0; }
echo "==4242== Process terminating with default action of signal 11 (SIGSEGV)" >&2
echo "==4242==  Access not within mapped region at address 0x0" >&2
kill -SEGV $$
SH
chmod +x "$tmp"/vg-*

PRIME_VALGRIND=$tmp/vg-runs bash "$here/torch_probe.sh" "$probe" >"$tmp/out" \
  || fail "a valgrind that runs the probe: exit $?: $(cat "$tmp/out")"
set +e
PRIME_VALGRIND=$tmp/vg-sigill bash "$here/torch_probe.sh" "$probe" >"$tmp/out"
rc=$?
set -e
[ $rc = 77 ] || fail "SIGILL: exit $rc, expected 77: $(cat "$tmp/out")"
[ "$(wc -l <"$tmp/out")" = 1 ] || fail "SIGILL: expected one line: $(cat "$tmp/out")"
grep -q 'valgrind 3.19.0 cannot run libtorch on this CPU: unhandled instruction 0xF 0x1 0xF9 0x89 (RDTSCP)' "$tmp/out" \
  || fail "SIGILL: unexpected line: $(cat "$tmp/out")"
set +e
PRIME_VALGRIND=$tmp/vg-error bash "$here/torch_probe.sh" "$probe" >"$tmp/out"
rc=$?
set -e
[ $rc = 1 ] || fail "SIGSEGV: exit $rc, expected 1: $(cat "$tmp/out")"
grep -q 'signal 11 (SIGSEGV)' "$tmp/out" || fail "SIGSEGV: valgrind's output not shown"
echo "torch_probe: 3 verdicts checked (runs, SIGILL, SIGSEGV)"
