#!/usr/bin/env bash
# Run by `meson install` (meson.add_install_script, top meson.build; not with
# --destdir/DESTDIR, where packaging tools run ldconfig themselves):
#   post_install.sh LIBDIR
# As root, into a folder the dynamic linker searches (/usr/lib/<multiarch>,
# /usr/local/lib/<multiarch>, ...): runs ldconfig, so that programs find
# libprime.so.1 at once (Debian's meson does not run it). Otherwise it says in
# one line how programs find the library: `prime` has an $ORIGIN rpath and
# needs nothing. $PRIME_LDCONFIG replaces the ldconfig that is run (tests).
set -uo pipefail
libdir=${1:?usage: post_install.sh LIBDIR}
ldconfig=$(command -v ldconfig || true)
[ -n "$ldconfig" ] || ldconfig=/sbin/ldconfig
run_ldconfig=${PRIME_LDCONFIG:-$ldconfig}
[ -n "${DESTDIR:-}" ] && exit 0
searched=0
# the folders ld.so.cache is built from (ldconfig -N -v lists them, with
# their libraries; -N: no cache written)
# (compared after resolving links: /lib is /usr/lib on a merged-/usr system)
real=$(realpath -m "$libdir")
while read -r d; do
  [ "$(realpath -m "$d")" = "$real" ] && searched=1
done < <("$ldconfig" -N -v 2>/dev/null | grep -E '^/[^:]*:' | cut -d: -f1)
case "$libdir" in /lib|/usr/lib|/lib64|/usr/lib64) searched=1 ;; esac
if [ $searched = 1 ] && [ "$(id -u)" = 0 ]; then
  if "$run_ldconfig"; then
    echo "libprime: ran ldconfig ($libdir)"
  else
    echo "libprime: ldconfig failed; run it as root so that programs find libprime.so.1 in $libdir"
  fi
elif [ $searched = 1 ]; then
  echo "libprime: run ldconfig as root so that programs find libprime.so.1 in $libdir"
else
  echo "libprime: $libdir is not searched by the dynamic linker: prime finds it (rpath); link your programs with -Wl,-rpath,$libdir (or set LD_LIBRARY_PATH), and set PKG_CONFIG_PATH=$libdir/pkgconfig and CMAKE_PREFIX_PATH=${MESON_INSTALL_PREFIX:-<prefix>}"
fi
exit 0
