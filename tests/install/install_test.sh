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
echo "install: 1 passed, 0 failed"
