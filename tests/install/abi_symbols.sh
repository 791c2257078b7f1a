#!/usr/bin/env bash
# The shared library exports exactly the functions declared with PRIME_API in
# the public headers, all prefixed prime_ and versioned LIBPRIME_1 (or
# LIBPRIME_1.N for a function documented `@since 1.N`); its
# version script (lib/libprime.map) and libprime-torch's list exactly what the
# headers declare (scripts/gen_symbol_maps.sh); its soname is libprime.so.1;
# it does not link libstdc++ or libtorch.
set -euo pipefail
build=${PRIME_BUILD_ROOT:?}
src=${PRIME_SOURCE_ROOT:?}
lib=$build/lib/libprime.so
declared=$(cat "$src"/include/prime/*.h "$src"/include/prime/sys/*.h | tr '\n' ' ' | grep -oE 'PRIME_API [^;(]*\(' \
  | grep -oE 'prime_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | sort -u)
if [ "$declared" != "$exported" ]; then
  echo "declared and exported symbols differ:"
  diff <(echo "$declared") <(echo "$exported") || true
  exit 1
fi
echo "exported symbols: $(echo "$exported" | wc -l), all declared"
unversioned=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -vE '@@LIBPRIME_1(\.[0-9]+)?$' || true)
if [ -n "$unversioned" ]; then
  echo "exported without a version LIBPRIME_1 or LIBPRIME_1.N:"
  echo "$unversioned"
  exit 1
fi
grep -q 'SONAME.*\[libprime\.so\.1\]' < <(readelf -d "$lib") || { echo "the soname is not libprime.so.1"; exit 1; }
maps=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$maps"' EXIT
mkdir -p "$maps/lib" "$maps/shim" "$maps/mpi" "$maps/include"
cp -r "$src/include/prime" "$maps/include/"
bash "$src/scripts/gen_symbol_maps.sh" "$maps"
for m in lib/libprime.map shim/libprime-torch.map mpi/libprime-mpi.map; do
  if ! cmp -s "$maps/$m" "$src/$m"; then
    echo "$m does not list exactly the functions of the headers (run scripts/gen_symbol_maps.sh):"
    diff "$maps/$m" "$src/$m" || true
    exit 1
  fi
done
echo "version scripts list exactly the declared functions (LIBPRIME_1, LIBPRIME_TORCH_1, LIBPRIME_MPI_1)"
# the generator binds `@since` only to the doc comment right above a function:
# one in an enum's or a file's comment must not move the next function
fake=$maps/fake
mkdir -p "$fake/lib" "$fake/shim" "$fake/mpi" "$fake/include/prime/sys"
cat > "$fake/include/prime/fake.h" <<'H'
/* File prose that mentions @since 1.7 and ends. */
typedef enum {
    FAKE_A = 1 /**< a value added later; @since 1.9 */
} fake_enum;
/** Old function, documented without a version. */
PRIME_API int prime_fake_old(void);
/** New function.
 *  @since 1.2 */
PRIME_API
int prime_fake_new(int x);
/* prose @since 1.3 */ enum { FAKE_B = 2 };
PRIME_API int prime_fake_plain(void);
H
: > "$fake/include/prime/sys/none.h"
echo 'PRIME_TORCH_API int prime_fake_torch(void);' > "$fake/include/prime/torch.h"
printf '%s\n' '/** first release @since 1.1 */' 'PRIME_MPI_API int prime_fake_mpi(void);' \
  '/** later @since 1.2 */' 'PRIME_MPI_API int prime_fake_mpi_new(void);' > "$fake/include/prime/mpi.h"
bash "$src/scripts/gen_symbol_maps.sh" "$fake"
got=$(awk '/^LIBPRIME_1/ { node = $1 } /prime_fake_(old|new|plain)/ { gsub(/[ ;]/, ""); print node, $0 }' "$fake/lib/libprime.map")
want=$(printf '%s\n' "LIBPRIME_1 prime_fake_old" "LIBPRIME_1 prime_fake_plain" "LIBPRIME_1.2 prime_fake_new" | sort)
if [ "$(echo "$got" | sort)" != "$want" ]; then
  echo "scripts/gen_symbol_maps.sh binds @since to the wrong functions:"
  echo "$got"
  exit 1
fi
got=$(awk '/^LIBPRIME_MPI_1/ { node = $1 } /prime_fake/ { gsub(/[ ;]/, ""); print node, $0 }' "$fake/mpi/libprime-mpi.map")
if [ "$got" != "$(printf '%s\n' "LIBPRIME_MPI_1 prime_fake_mpi" "LIBPRIME_MPI_1.2 prime_fake_mpi_new")" ]; then
  echo "scripts/gen_symbol_maps.sh: libprime-mpi's 1.1 functions belong in LIBPRIME_MPI_1, later ones in LIBPRIME_MPI_1.N:"
  echo "$got"
  exit 1
fi
echo "@since binds only to the doc comment right above a function"
if readelf -d "$lib" | grep NEEDED | grep -iE 'libmpi|openmpi|mpich'; then
  echo "the core library must not link MPI"
  exit 1
fi
# libprime-mpi (when MPI was found): exactly prime_mpi_*, versioned
# LIBPRIME_MPI_1, soname libprime-mpi.so.1, linking libprime
mlib=$build/mpi/libprime-mpi.so
if [ -e "$mlib" ]; then
  mdeclared=$(tr '\n' ' ' < "$src/include/prime/mpi.h" | grep -oE 'PRIME_MPI_API [^;(]*\(' \
    | grep -oE 'prime_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
  mexported=$(nm -D --defined-only "$mlib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u)
  # each declared function with the node its map gives it (LIBPRIME_MPI_1, or
  # LIBPRIME_MPI_1.N for one added after libprime-mpi's first release, 1.1)
  mwant=$(awk '/^LIBPRIME_MPI_1[.0-9]* \{/ { node = $1; next }
               /^ +prime_[a-z0-9_]+;/ { gsub(/[ ;]/, ""); print $0 "@@" node }' \
            "$src/mpi/libprime-mpi.map" | sort -u)
  if [ "$(echo "$mdeclared" | sed 's/$/@@/')" != "$(echo "$mwant" | sed 's/@@.*/@@/')" ] ||
     [ "$mwant" != "$mexported" ]; then
    echo "libprime-mpi: declared and exported symbols differ:"
    diff <(echo "$mwant") <(echo "$mexported") || true
    exit 1
  fi
  grep -q 'SONAME.*\[libprime-mpi\.so\.1\]' < <(readelf -d "$mlib") ||
    { echo "the soname of libprime-mpi is not libprime-mpi.so.1"; exit 1; }
  grep -q 'NEEDED.*libprime\.so\.1' < <(readelf -d "$mlib") ||
    { echo "libprime-mpi does not link libprime.so.1"; exit 1; }
  echo "libprime-mpi: $(echo "$mexported" | wc -l) symbols, LIBPRIME_MPI_1(.N), soname libprime-mpi.so.1"
fi
if readelf -d "$lib" | grep NEEDED | grep -E 'stdc\+\+|torch|c10'; then
  echo "the core library must not link libstdc++ or libtorch"
  exit 1
fi
echo "abi: 5 passed, 0 failed"
