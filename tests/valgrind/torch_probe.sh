#!/usr/bin/env bash
# Can valgrind run libtorch on this machine?
#   torch_probe.sh PROBE
# runs PROBE (tests/valgrind/torch_probe.c: loads libprime-torch and libtorch,
# prints versions) under valgrind. Exit 0: it can. Exit 77: valgrind cannot
# decode an instruction that libtorch's dependencies run at load time on this
# CPU (valgrind 3.19 and libhwy's RDTSCP on some x86-64 CPUs); one line says
# so. Any other failure: exit 1 with valgrind's output. $PRIME_VALGRIND
# replaces `valgrind` (tests/valgrind/torch_probe_test.sh uses it to check
# both verdicts).
set -uo pipefail
probe=${1:?usage: torch_probe.sh PROBE}
valgrind=${PRIME_VALGRIND:-valgrind}
# --tool=none: the instruction decoder is the same for every tool, and the
# probe then takes ~15 s instead of ~1 min (memcheck) on a 2-core machine.
out=$("$valgrind" --tool=none "$probe" 2>&1)
rc=$?
if grep -qE 'unhandled instruction|Unrecognised instruction|signal 4 \(SIGILL\)' <<<"$out"; then
  bytes=$(grep -m1 -oE 'unhandled instruction bytes: (0x[0-9A-Fa-f]+ ?){1,4}' <<<"$out" \
          | sed 's/unhandled instruction bytes: //; s/ $//')
  insn=""
  # 0F 01 F9 is RDTSCP
  case "$bytes" in "0xF 0x1 0xF9"*) insn=" (RDTSCP)" ;; esac
  echo "valgrind $("$valgrind" --version 2>/dev/null | sed 's/^valgrind-//') cannot run libtorch on this CPU: unhandled instruction${bytes:+ $bytes}$insn at load time (SIGILL)"
  exit 77
fi
if [ $rc -ne 0 ] || ! grep -q '^libprime-torch ' <<<"$out"; then
  echo "torch_probe under valgrind failed (exit $rc):"
  echo "$out"
  exit 1
fi
exit 0
