#!/usr/bin/env bash
# Doxygen documents the functions of a header only when the file itself is
# documented (a \file block); without one it skips them silently, warnings
# included. Every public header must have a \file block, in the header or in
# docs/api.dox.
#   check_doxygen_files.sh SOURCE_ROOT
set -u
root=$1
fail=0
for h in "$root"/include/prime/*.h "$root"/include/prime/sys/*.h; do
  name=${h#"$root"/include/}
  if ! grep -q "[\\@]file" "$h" && ! grep -qF "\\file $name" "$root/docs/api.dox"; then
    echo "FAIL: $name has no \\file documentation block (add one to docs/api.dox or the header)"
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "every public header is documented as a file"
exit $fail
