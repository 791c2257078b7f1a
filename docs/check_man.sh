#!/usr/bin/env bash
# Checks the man page of prime: it formats without a groff warning, and it
# documents every option and command that `prime --help` lists.
# The defaults the page states are asked of the library (LIBPRIME, the
# shared library the tool links), not written here.
#   check_man.sh docs/prime.1 build/tools/prime build/lib/libprime.so
set -u
man_page=$1
prime=$2
libprime=${3:-}
fail=0
if command -v groff >/dev/null 2>&1; then
  warnings=$(groff -man -ww -z "$man_page" 2>&1)
  if [ -n "$warnings" ]; then
    echo "FAIL: groff warnings:"; echo "$warnings"; fail=1
  fi
  # one long line per paragraph, no hyphenation, no overstriking
  text=$(groff -man -Tutf8 -P-cbou -rLL=2000n -rHY=0 "$man_page" 2>/dev/null | tr -s ' ')
else
  echo "note: groff not found; checking the source only"
  text=$(sed 's/\\-/-/g' "$man_page")
fi
# every --option and command of the usage text must appear in the page
help=$("$prime" --help) || { echo "FAIL: $prime --help failed"; exit 1; }
for opt in $(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  if ! grep -q -- "$opt" <<<"$text"; then
    echo "FAIL: option $opt of prime --help is not in $man_page"; fail=1
  fi
done
for cmd in search convert info; do
  grep -q "prime $cmd" <<<"$text" || { echo "FAIL: command $cmd missing"; fail=1; }
done
# the defaults the page states are the library's: prime_config_param_info
# and a new configuration's min_gain values, through ctypes
if [ -z "$libprime" ]; then
  libprime=$(ldd "$prime" | awk '$1 ~ /^libprime\.so/ {print $3; exit}')
fi
defaults=$(python3 - "$libprime" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.prime_config_param_info.argtypes = [ctypes.c_int32] + [ctypes.c_void_p] * 4
def default(param):
    d = ctypes.c_double()
    assert lib.prime_config_param_info(param, None, None, None, ctypes.byref(d)) == 0
    return d.value
# max_tags, min_size, min_drop (ids fixed forever in prime.h)
for param in (100, 200, 300):
    print("default %g" % default(param))
cfg = ctypes.c_void_p()
assert lib.prime_config_create(ctypes.byref(cfg)) == 0
lib.prime_config_min_gain_count.restype = ctypes.c_uint32
lib.prime_config_min_gain_count.argtypes = [ctypes.c_void_p]
lib.prime_config_get_min_gain.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p]
gains = []
for k in range(1, lib.prime_config_min_gain_count(cfg) + 1):
    g = ctypes.c_double()
    assert lib.prime_config_get_min_gain(cfg, k, ctypes.byref(g)) == 0
    gains.append("%g" % g.value)
print("default " + ",".join(gains))
PY
) || { echo "FAIL: cannot ask $libprime for the defaults"; exit 1; }
[ "$(printf '%s\n' "$defaults" | wc -l)" -eq 4 ] || { echo "FAIL: defaults: $defaults"; exit 1; }
while IFS= read -r d; do
  grep -q -- "$d" <<<"$text" || { echo "FAIL: the library's '$d' is not in $man_page"; fail=1; }
done <<<"$defaults"
[ $fail -eq 0 ] && echo "man page OK"
exit $fail
