#!/usr/bin/env bash
# Installs the built project into a temporary root, then builds and runs a
# small external program against it through `pkg-config --cflags --libs prime`,
# the way another project would.
set -euo pipefail
build=${PRIME_BUILD_ROOT:?}
src=${PRIME_SOURCE_ROOT:?}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --no-rebuild --quiet >/dev/null
pc=$(find "$root" -name prime.pc | head -n 1)
[ -n "$pc" ] || { echo "prime.pc was not installed"; exit 1; }
[ -f "$(dirname "$pc")/../../../include/prime/prime.h" ] || [ -n "$(find "$root" -path '*include/prime/prime.h')" ] \
  || { echo "headers were not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$root
cflags=$(pkg-config --cflags prime)
libs=$(pkg-config --libs prime)
echo "pkg-config --cflags --libs prime: $cflags $libs"
cc -std=c11 -Wall -Werror $cflags "$src/examples/c/minimal.c" $libs -o "$root/minimal"
libdir=$(dirname "$(find "$root" -name 'libprime.so.0' | head -n 1)")
# the program must run against the installed library, not the build tree
# (ldd's output is kept first: with pipefail, `ldd | grep -q` fails at random
# when grep exits before ldd has written everything and ldd gets SIGPIPE)
deps=$(LD_LIBRARY_PATH=$libdir ldd "$root/minimal")
grep -q "$libdir/libprime.so.0" <<<"$deps" \
  || { echo "the program does not use the installed library:"; echo "$deps"; exit 1; }
out=$(LD_LIBRARY_PATH=$libdir "$root/minimal")
echo "$out"
grep -q "a photo of fox night snow" <<<"$out" || { echo "unexpected output"; exit 1; }
passed=1
# libprime-torch (when libtorch was found): prime-torch.pc (Requires: prime),
# prime/torch.h, and a C program linked with `pkg-config --libs prime-torch`
# that runs against the installed libprime-torch.so.0 and libprime.so.0.
if [ -f "$build/shim/libprime-torch.so" ]; then
  [ -f "$(dirname "$pc")/prime-torch.pc" ] || { echo "prime-torch.pc was not installed"; exit 1; }
  [ -n "$(find "$root" -path '*include/prime/torch.h')" ] || { echo "prime/torch.h was not installed"; exit 1; }
  grep -q '^Requires:.*prime' "$(dirname "$pc")/prime-torch.pc" || { echo "prime-torch.pc does not require prime"; exit 1; }
  tcflags=$(pkg-config --cflags prime-torch)
  tlibs=$(pkg-config --libs prime-torch)
  echo "pkg-config --cflags --libs prime-torch: $tcflags $tlibs"
  cat >"$root/torch_min.c" <<'CEOF'
#include <stdio.h>
#include <string.h>
#include <prime/torch.h>
int main(void)
{
    prime_tagger *t = NULL;
    prime_status st = prime_torch_tagger_create("/nonexistent.pt", "/nonexistent.txt",
                                                PRIME_TORCH_SCORES_LOGITS, NULL, &t);
    printf("libprime-torch %s (libtorch %s), libprime %s, missing file: %s\n",
           prime_torch_version(), prime_torch_libtorch_version(), prime_version(),
           prime_status_name(st));
    return strcmp(prime_torch_version(), prime_version()) != 0 || st != PRIME_E_IO;
}
CEOF
  cc -std=c11 -Wall -Werror $tcflags "$root/torch_min.c" $tlibs -o "$root/torch_min"
  deps=$(LD_LIBRARY_PATH=$libdir ldd "$root/torch_min")
  grep -q "$libdir/libprime-torch.so.0" <<<"$deps" \
    || { echo "the program does not use the installed libprime-torch:"; echo "$deps"; exit 1; }
  out=$(LD_LIBRARY_PATH=$libdir "$root/torch_min")
  echo "$out"
  grep -q "missing file: PRIME_E_IO" <<<"$out" || { echo "unexpected output"; exit 1; }
  passed=2
fi
echo "install: $passed passed, 0 failed"
