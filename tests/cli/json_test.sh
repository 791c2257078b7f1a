#!/usr/bin/env bash
# The result JSON as `prime eval` reads it (issue 11): a UTF-8 BOM is taken
# as every other text reader takes it, a key given twice is refused (never
# "first wins"). Each case checks the exit status, the message and that no
# output was written. (The reader itself is lib/io/json.c and
# lib/search/result_read.c.)
# Usage: json_test.sh PATH/TO/prime
set -uo pipefail
prime=$(realpath "${1:?usage: json_test.sh PRIME}")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
# shellcheck source=checks.sh
. "$here/checks.sh"
cd "$here"
ev=(eval --tags tags.csv --outcomes outcomes.csv --format json)

"$prime" "${ev[@]}" --result expected.json > "$tmp/plain.json" && ok || bad "eval of the golden result"
{ printf '\xEF\xBB\xBF'; cat expected.json; } > "$tmp/bom.json"
expect 0 "result with a BOM" -- "$prime" "${ev[@]}" --result "$tmp/bom.json"
same "$tmp/out" "$tmp/plain.json" "a BOM changes nothing"
{ printf '\xEF\xBB\xBF'; cat expected.json; } | sed '1 s/^\xEF\xBB\xBF/\xEF\xBB\xBF /' > "$tmp/bom_space.json"
expect 0 "result with a BOM then a blank" -- "$prime" "${ev[@]}" --result "$tmp/bom_space.json"
same "$tmp/out" "$tmp/plain.json" "a BOM and a blank change nothing"

dup() { # NAME SED-EXPRESSION TEXT: a result with a key given twice is refused
  # the same value twice is refused too: no "first wins", no "last wins"
  sed "$2" expected.json > "$tmp/$1.json"
  cmp -s "$tmp/$1.json" expected.json && bad "$1: the edit did nothing"
  rm -f "$tmp/never.json"
  expect 1 "$1" -- "$prime" "${ev[@]}" --result "$tmp/$1.json" --output "$tmp/never.json"
  err_has "$3" "$1"
  err_has "$tmp/$1.json:" "$1 names the file"
  [ ! -e "$tmp/never.json" ] && ok || bad "$1: an output was written"
}
dup drop_twice '0,/"drop": / s/"drop": /"drop": 0.9, "drop": /' 'duplicate key "drop"'
dup class_twice '0,/"class": "ape", "tags"/ s/"class": "ape", "tags"/"class": "bee", "class": "ape", "tags"/' 'duplicate key "class"'
dup max_tags_twice '1 s/"max_tags": 2,/"max_tags": 2, "max_tags": 2,/' 'duplicate key "max_tags"'
dup tags_twice '0,/"failure_modes"/b; 0,/"tags": \[/ s/"tags": \(\[[^]]*\]\)/"tags": \1, "tags": \1/' 'duplicate key "tags"'

echo "cli json: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
