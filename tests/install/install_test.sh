#!/usr/bin/env bash
# Installs the built project into a temporary root (meson install --destdir)
# and uses it the way other projects would:
#   - the installed tool: runs without LD_LIBRARY_PATH ($ORIGIN rpath), finds
#     the installed data files (compiled-in <prefix>/share/libprime), man page;
#   - the examples (examples/c/minimal.c, examples/cpp/minimal.cpp) built
#     against the installed prefix through pkg-config and through the CMake
#     package, shared and static, and run; the Python example with the
#     installed Python package;
#   - libprime as a meson subproject (a wrap whose folder is this source tree,
#     no download), shared and static, C and C++;
#   - libprime-torch (when built): prime-torch.pc and prime::prime-torch.
# It ends with the matrix shared/static x pkg-config/CMake/meson wrap x C/C++.
set -euo pipefail
build=${PRIME_BUILD_ROOT:?}
src=${PRIME_SOURCE_ROOT:?}
root=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$root"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
meson install -C "$build" --destdir "$root" --no-rebuild --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["prefix"])')
P=$root$prefix   # the installed prefix, inside the destdir
pc=$(find "$root" -name prime.pc | head -n 1)
[ -n "$pc" ] || fail "prime.pc was not installed"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
[ -f "$P/include/prime/prime.h" ] || fail "headers were not installed in $P/include/prime"
[ -f "$libdir/libprime.so.1" ] && [ -f "$libdir/libprime.a" ] || fail "libprime.so.1 or libprime.a missing in $libdir"
have_torch=0
[ -f "$build/shim/libprime-torch.so" ] && have_torch=1
expected="a photo of fox night snow"
declare -A matrix
sep() { echo "--- $*"; }
# loads EXE LIB DIR [LD_LIBRARY_PATH]: does EXE load DIR/LIB (links resolved)?
loads() {
  local deps got
  deps=$(LD_LIBRARY_PATH=${4:-} ldd "$1")
  got=$(awk -v l="$2" '$1 == l && $2 == "=>" {print $3}' <<<"$deps")
  if [ -z "$got" ] || [ "$(realpath "$got")" != "$(realpath "$3/$2")" ]; then
    echo "$deps"
    return 1
  fi
}

# ---- prime.pc: no Requires.private, stb and zlib in Libs.private, no placeholder URL
sep "prime.pc"
cat "$pc"
! grep -q '^Requires' "$pc" || fail "prime.pc has Requires lines: a shared link must not need stb.pc or zlib.pc"
grep -q '^Libs.private:.*-lstb.*-lz' "$pc" || fail "prime.pc lacks Libs.private: -lstb -lz"
! grep -qi 'example\.\|invalid' "$pc" || fail "prime.pc has a placeholder"

# ---- the installed tool
sep "installed prime"
grep -q 'R.*PATH.*\$ORIGIN/' < <(readelf -d "$P/bin/prime") || fail "prime has no \$ORIGIN rpath"
loads "$P/bin/prime" libprime.so.1 "$libdir" || fail "prime does not load the installed libprime"
env -u LD_LIBRARY_PATH "$P/bin/prime" --version
# the data folder compiled in is where the data was installed: without
# PRIME_DATA_DIR, tokenize's error (when not installed there for real) or
# success names or uses <prefix>/share/libprime
data=$P/share/libprime
for f in clip/bpe_simple_vocab_16e6.txt.gz ram/ram_tag_list.txt ram/ram_tag_list_threshold.txt \
         clip/clip_LICENSE.txt ram/ram_LICENSE.txt; do
  [ -f "$data/$f" ] || fail "data file $f not installed in $data"
done
set +e
out=$(env -u PRIME_DATA_DIR "$P/bin/prime" tokenize "a photo of abacus" 2>&1)
rc=$?
set -e
if [ $rc -ne 0 ]; then
  grep -qF "$prefix/share/libprime/clip/bpe_simple_vocab_16e6.txt.gz" <<<"$out" \
    || fail "prime tokenize without --bpe does not look in $prefix/share/libprime: $out"
fi
out=$(PRIME_DATA_DIR=$data "$P/bin/prime" tokenize "a photo of abacus")
[ "$out" = "49406 320 1125 539 596 33710 49407" ] || fail "tokenize with the installed BPE: $out"
echo "data: $(ls "$data"/*/ | wc -l) files in $prefix/share/libprime; the tool looks there"
man_page=$(find "$P/share/man" -name 'prime.1*' | head -n 1)
[ -n "$man_page" ] || fail "the man page was not installed"
echo "man page: ${man_page#"$root"}"
# `man prime` finds this page before OpenSSL's prime(1ssl) (docs/prime.1,
# FILES): ahead on MANPATH (the trailing colon adds the usual folders), and
# in the same folder (an exact section 1 before 1ssl)
if command -v man >/dev/null 2>&1; then
  got=$(MANPATH="$P/share/man:" man -w prime)
  [ "$(realpath "$got")" = "$(realpath "$man_page")" ] || fail "MANPATH=$P/share/man: man -w prime gives $got"
  ssl=$(find /usr/share/man/man1 -name 'prime.1ssl*' 2>/dev/null | head -n 1)
  if [ -n "$ssl" ]; then
    mkdir -p "$root/man/man1"
    cp "$man_page" "$ssl" "$root/man/man1/"
    got=$(MANPATH="$root/man" man -w prime)
    [ "$got" = "$root/man/man1/$(basename "$man_page")" ] || fail "beside prime.1ssl, man -w prime gives $got"
    echo "man prime: this page before OpenSSL's $(basename "$ssl") (ahead on MANPATH, and in the same folder)"
  fi
fi
# the post-install step (not run with --destdir) says how programs find the library
msg=$(PRIME_LDCONFIG=true MESON_INSTALL_PREFIX=/opt/x bash "$src/scripts/post_install.sh" /opt/x/lib)
grep -q "not searched by the dynamic linker" <<<"$msg" || fail "post_install.sh: $msg"
msg=$(DESTDIR=/x bash "$src/scripts/post_install.sh" /usr/lib)
[ -z "$msg" ] || fail "post_install.sh with DESTDIR: $msg"

# run NAME EXE LINKAGE: runs EXE (no LD_LIBRARY_PATH beyond LIBPATH), checks
# its output and that it uses the installed library (shared) or none (static)
run() {
  local cell=$1 exe=$2 linkage=$3 lp=${4:-$libdir} deps out
  deps=$(LD_LIBRARY_PATH=$lp ldd "$exe")
  if [ "$linkage" = shared ]; then
    loads "$exe" libprime.so.1 "$lp" "$lp" || fail "$cell: not the installed libprime.so.1"
  else
    ! grep -q "libprime.so" <<<"$deps" || { echo "$deps"; fail "$cell: links libprime.so"; }
  fi
  out=$(LD_LIBRARY_PATH=$lp "$exe")
  grep -q "$expected" <<<"$out" || { echo "$out"; fail "$cell: unexpected output"; }
  matrix[$cell]=ok
  echo "$cell: ok"
}

# ---- pkg-config
sep "pkg-config"
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$root
cflags=$(pkg-config --cflags prime)
libs=$(pkg-config --libs prime)
slibs=$(pkg-config --static --libs prime)
echo "pkg-config --cflags --libs prime: $cflags $libs"
echo "pkg-config --static --libs prime: $slibs"
grep -q stb <<<"$cflags" && fail "pkg-config --cflags prime adds stb's include folder"
cc -std=c11 -Wall -Werror $cflags "$src/examples/c/minimal.c" $libs -o "$root/pc-c-shared"
run "shared pkg-config C" "$root/pc-c-shared" shared
c++ -std=c++17 -Wall -Werror $cflags "$src/examples/cpp/minimal.cpp" $libs -o "$root/pc-cpp-shared"
run "shared pkg-config C++" "$root/pc-cpp-shared" shared
# static (docs/install.md): libprime and what it links from their .a, where
# the system has one (Debian ships no libspng.a: such a library stays shared)
slink=() ldirs=()
for w in $slibs; do
  case $w in
    -L*) ldirs+=("${w#-L}"); slink+=("$w") ;;
    -l*) a=$(cc -print-file-name="lib${w#-l}.a")
         for d in "${ldirs[@]}"; do [ -f "$d/lib${w#-l}.a" ] && a=$d/lib${w#-l}.a; done
         if [ -f "$a" ]; then slink+=(-Wl,-Bstatic "$w")
         else slink+=(-Wl,-Bdynamic "$w"); fi ;;
    *) slink+=("$w") ;;
  esac
done
cc -std=c11 -Wall -Werror $cflags "$src/examples/c/minimal.c" "${slink[@]}" -Wl,-Bdynamic -o "$root/pc-c-static"
run "static pkg-config C" "$root/pc-c-static" static
c++ -std=c++17 -Wall -Werror $cflags "$src/examples/cpp/minimal.cpp" "${slink[@]}" -Wl,-Bdynamic -o "$root/pc-cpp-static"
run "static pkg-config C++" "$root/pc-cpp-static" static
# the CMake and meson consumers find their dependencies (stb, zlib) on the system
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# ---- CMake package
if command -v cmake >/dev/null 2>&1; then
  sep "CMake (find_package(prime))"
  [ -f "$libdir/cmake/prime/primeConfig.cmake" ] && [ -f "$libdir/cmake/prime/primeConfigVersion.cmake" ] \
    || fail "primeConfig.cmake or its version file not installed in $libdir/cmake/prime"
  mkdir -p "$root/cm"
  cp "$src/examples/c/minimal.c" "$src/examples/cpp/minimal.cpp" "$root/cm/"
  torch_cmake=""
  if [ $have_torch = 1 ]; then
    torch_cmake='find_package(prime 1.0 REQUIRED COMPONENTS torch)
add_executable(torch_min torch_min.c)
target_link_libraries(torch_min PRIVATE prime::prime-torch)'
  fi
  cat >"$root/cm/CMakeLists.txt" <<CMEOF
cmake_minimum_required(VERSION 3.16)
project(consumer C CXX)
find_package(prime 1.0 REQUIRED)
if(NOT TARGET prime::prime OR NOT TARGET prime::prime_static)
  message(FATAL_ERROR "prime::prime or prime::prime_static missing")
endif()
set(CMAKE_CXX_STANDARD 17)
add_executable(c_shared minimal.c)
target_link_libraries(c_shared PRIVATE prime::prime)
add_executable(cpp_shared minimal.cpp)
target_link_libraries(cpp_shared PRIVATE prime::prime)
add_executable(c_static minimal.c)
target_link_libraries(c_static PRIVATE prime::prime_static)
add_executable(cpp_static minimal.cpp)
target_link_libraries(cpp_static PRIVATE prime::prime_static)
$torch_cmake
CMEOF
  cat >"$root/cm/torch_min.c" <<'CEOF'
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
  cp "$root/cm/torch_min.c" "$root/torch_min.c"
  # a version the package is not compatible with is refused
  cat >"$root/cm-bad.cmake" <<'CMEOF'
find_package(prime 2.0 QUIET)
if(prime_FOUND)
  message(FATAL_ERROR "prime 2.0 accepted")
endif()
CMEOF
  cmake -DCMAKE_PREFIX_PATH="$P" -P "$root/cm-bad.cmake" || fail "CMake accepted libprime for a request of 2.0"
  cmake -S "$root/cm" -B "$root/cm/build" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release >"$root/cm.log" 2>&1 \
    || { cat "$root/cm.log"; fail "cmake configure"; }
  cmake --build "$root/cm/build" -j 2 >>"$root/cm.log" 2>&1 || { cat "$root/cm.log"; fail "cmake build"; }
  run "shared CMake C" "$root/cm/build/c_shared" shared
  run "shared CMake C++" "$root/cm/build/cpp_shared" shared
  run "static CMake C" "$root/cm/build/c_static" static
  run "static CMake C++" "$root/cm/build/cpp_static" static
  if [ $have_torch = 1 ]; then
    out=$(LD_LIBRARY_PATH=$libdir "$root/cm/build/torch_min") || fail "prime::prime-torch program: $out"
    grep -q "missing file: PRIME_E_IO" <<<"$out" || fail "prime::prime-torch program: $out"
    echo "CMake prime::prime-torch: $out"
  fi
else
  echo "cmake not found (scripts/deps.sh installs it): the CMake cells fail"
fi

# ---- meson subproject through a wrap (no download: the wrap's folder is this tree)
sep "meson wrap"
mkdir -p "$root/mw/subprojects"
ln -s "$src" "$root/mw/subprojects/libprime"
cat >"$root/mw/subprojects/libprime.wrap" <<'WEOF'
[wrap-file]
directory = libprime

[provide]
dependency_names = prime
WEOF
cp "$src/examples/c/minimal.c" "$src/examples/cpp/minimal.cpp" "$root/mw/"
cat >"$root/mw/meson.build" <<'MEOF'
project('consumer', 'c', 'cpp', default_options : ['cpp_std=c++17'])
# found through the wrap's [provide] and libprime's meson.override_dependency
prime_shared = dependency('prime')
prime_static = dependency('prime', static : true)
executable('c_shared', 'minimal.c', dependencies : prime_shared)
executable('cpp_shared', 'minimal.cpp', dependencies : prime_shared)
executable('c_static', 'minimal.c', dependencies : prime_static)
executable('cpp_static', 'minimal.cpp', dependencies : prime_static)
MEOF
# forcefallback: use the wrap even where a libprime is installed
(cd "$root/mw" && meson setup build --wrap-mode=forcefallback >"$root/mw.log" 2>&1) \
  || { cat "$root/mw.log"; fail "meson setup of the consumer"; }
# as a subproject, libprime builds no tests, examples, bench nor the shim
targets=$(meson introspect "$root/mw/build" --targets | /usr/bin/python3 -c \
  'import json,sys; print(" ".join(t["name"] for t in json.load(sys.stdin)))')
for t in test_api example-minimal prime-bench prime-torch; do
  grep -qw -- "$t" <<<"$targets" && fail "the subproject builds $t: $targets"
done
echo "subproject targets: $targets"
meson compile -C "$root/mw/build" -j 2 >>"$root/mw.log" 2>&1 || { cat "$root/mw.log"; fail "meson compile of the consumer"; }
sublib=$root/mw/build/subprojects/libprime/lib
run "shared meson wrap C" "$root/mw/build/c_shared" shared "$sublib"
run "shared meson wrap C++" "$root/mw/build/cpp_shared" shared "$sublib"
run "static meson wrap C" "$root/mw/build/c_static" static "$sublib"
run "static meson wrap C++" "$root/mw/build/cpp_static" static "$sublib"

# ---- Python: the installed package and the example
sep "Python"
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$root
site=$(find "$P" -type d -name libprime -path '*-packages/*' | head -n 1)
[ -n "$site" ] || fail "the Python package was not installed"
grep -q "^LIBDIR = \"$prefix/" "$site/_config.py" || fail "_config.py: $(cat "$site/_config.py")"
for f in "$src"/python/libprime/*; do
  case $f in
    *.in) f=${f%.in} ;;  # generated at build time (_config.py)
    *.c)  # the compiled packer: its module, where this build made one
      m=$(basename "${f%.c}")
      if compgen -G "$build/python/$m*.so" >/dev/null || compgen -G "$build/$m*.so" >/dev/null; then
        compgen -G "$site/$m*.so" >/dev/null || fail "libprime.$m (python/libprime/$m.c) was built but not installed"
      fi
      continue ;;
  esac
  [ -f "$site/$(basename "$f")" ] || fail "python/libprime/$(basename "$f") is not installed (python/meson.build lists the files)"
done
out=$(cd "$root" && env -u PRIME_LIBRARY PYTHONPATH="$(dirname "$site")" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 "$src/examples/python/failure_modes.py" --tags "$src/data/demo/tags.csv" \
  --outcomes "$src/data/demo/outcomes.csv" --output "$root/py.json" 2>&1) || { echo "$out"; fail "Python example"; }
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['failure_modes'], 'no modes'" "$root/py.json" \
  || fail "Python example: bad JSON"
lib_used=$(cd "$root" && env -u PRIME_LIBRARY PYTHONPATH="$(dirname "$site")" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -c 'import libprime._lib as l; l.load(); print(l.library_path())')
[ "${lib_used#"$root"}" != "$lib_used" ] || fail "Python loaded $lib_used, not the installed library"
echo "Python example: $(grep -c . <<<"$out") lines, library $lib_used"
# without PRIME_LIBRARY and pkg-config, the package finds the library it was
# installed with (_config.py; here pointed into the destdir)
cp -r "$site" "$root/pyinst"
sed -i "s|^LIBDIR = .*|LIBDIR = \"$libdir\"|" "$root/pyinst/_config.py"
mkdir -p "$root/pyroot" && mv "$root/pyinst" "$root/pyroot/libprime"
lib_used=$(cd "$root" && env -u PRIME_LIBRARY -u PKG_CONFIG_PATH -u PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR="$root/nopc" \
  PYTHONPATH="$root/pyroot" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -c 'import libprime._lib as l; l.load(); print(l.library_path())')
[ "$(realpath "$lib_used")" = "$(realpath "$libdir/libprime.so.1")" ] \
  || fail "the package without pkg-config loaded $lib_used, not its _config.py library"
matrix[python]=ok

# ---- libprime-torch through pkg-config
if [ $have_torch = 1 ]; then
  sep "prime-torch.pc"
  [ -f "$pcdir/prime-torch.pc" ] || fail "prime-torch.pc was not installed"
  [ -f "$P/include/prime/torch.h" ] || fail "prime/torch.h was not installed"
  grep -q '^Requires:.*prime' "$pcdir/prime-torch.pc" || fail "prime-torch.pc does not require prime"
  ! grep -qi 'example\.\|invalid\|torch_cpu' "$pcdir/prime-torch.pc" || fail "prime-torch.pc: placeholder or libtorch listed"
  tcflags=$(pkg-config --cflags prime-torch)
  tlibs=$(pkg-config --libs prime-torch)
  echo "pkg-config --cflags --libs prime-torch: $tcflags $tlibs"
  cc -std=c11 -Wall -Werror $tcflags "$root/torch_min.c" $tlibs -o "$root/torch_min"
  loads "$root/torch_min" libprime-torch.so.1 "$libdir" "$libdir" || fail "not the installed libprime-torch"
  out=$(LD_LIBRARY_PATH=$libdir "$root/torch_min")
  echo "$out"
  grep -q "missing file: PRIME_E_IO" <<<"$out" || fail "unexpected output"
  matrix[torch]=ok
fi

sep "matrix (built against the installed prefix, or the wrap, and run)"
n=0
printf '%-8s %-12s %-4s %-4s\n' "" "" C C++
for linkage in shared static; do
  for how in pkg-config CMake "meson wrap"; do
    printf '%-8s %-12s' "$linkage" "$how"
    for lang in C C++; do
      v=${matrix["$linkage $how $lang"]:-"--"}
      [ "$v" = ok ] && n=$((n + 1))
      printf ' %-4s' "$v"
    done
    echo
  done
done
echo "install: $n of 12 cells passed, python ${matrix[python]:---}, torch ${matrix[torch]:---}"
[ $n = 12 ] || fail "$((12 - n)) cells of the matrix were not checked"
