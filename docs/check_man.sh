#!/usr/bin/env bash
# Checks the man page of prime: it formats without a groff warning, and it
# documents every option and command that `prime --help` lists.
#   check_man.sh docs/prime.1 build/tools/prime
set -u
man_page=$1
prime=$2
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
# the defaults the page states are the library's
for d in "default 4" "default 30" "default 0.3" "default 0,0.1,0.05,0"; do
  grep -q -- "$d" <<<"$text" || { echo "FAIL: '$d' missing"; fail=1; }
done
[ $fail -eq 0 ] && echo "man page OK"
exit $fail
