#!/usr/bin/env bash
# prime search --stream and --max-modes (issue 14; docs/formats.md):
# the streamed records are the normal output's modes, bit for bit (unsorted);
# --output appears only on success; --max-modes stops with a clear message;
# peak memory with --stream does not grow with the number of modes.
# Usage: stream_test.sh PATH/TO/prime
set -uo pipefail
prime=$(realpath "${1:?usage: stream_test.sh PRIME}")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
# shellcheck source=checks.sh
. "$here/checks.sh"
cd "$here"

args=(--tags tags.csv --outcomes outcomes.csv --min-size 2 --max-tags 2 --min-gain 0,0.1)
# the mode objects of a result JSON, one a line, sorted
modes_of() { sed -n 's/^  \({"class": [^{]*"tags": .*}\)\]\{0,1\},\{0,1\}$/\1/p' "$1" | LC_ALL=C sort; }
modes_of expected.json > "$tmp/want.jsonl"
[ "$(wc -l < "$tmp/want.jsonl")" -eq 2 ] && ok || bad "expected.json: not 2 modes"

# JSON Lines: the objects of failure_modes, in any order
expect 0 "stream json" -- "$prime" search "${args[@]}" --stream
LC_ALL=C sort "$tmp/out" > "$tmp/got.jsonl"
same "$tmp/got.jsonl" "$tmp/want.jsonl" "--stream: the modes of expected.json"
expect 0 "stream json, 3 threads" -- "$prime" search "${args[@]}" --stream --threads 3 --format json
LC_ALL=C sort "$tmp/out" > "$tmp/got.jsonl"
same "$tmp/got.jsonl" "$tmp/want.jsonl" "--stream --threads 3"
# CSV: the header, then the rows of expected.csv in any order
expect 0 "stream csv" -- "$prime" search "${args[@]}" --stream --format csv
[ "$(head -1 "$tmp/out")" = "$(head -1 expected.csv)" ] && ok || bad "--stream csv header: $(head -1 "$tmp/out")"
same <(tail -n +2 "$tmp/out" | LC_ALL=C sort) <(tail -n +2 expected.csv | LC_ALL=C sort) "--stream csv rows"
# to a file
expect 0 "stream to a file" -- "$prime" search "${args[@]}" --stream --output "$tmp/s.jsonl"
[ ! -s "$tmp/out" ] && ok || bad "--stream --output wrote to stdout"
same <(LC_ALL=C sort "$tmp/s.jsonl") "$tmp/want.jsonl" "--stream --output"
# the normal outputs are unchanged by the new options
expect 0 "max-modes not reached" -- "$prime" search "${args[@]}" --max-modes 2 --format json
same "$tmp/out" expected.json "--max-modes 2: the golden JSON"

# --max-modes: exit 1, a message, no output file; with --stream N records first
rm -f "$tmp/never.json"
expect 1 "max-modes exceeded" -- "$prime" search "${args[@]}" --max-modes 1 --output "$tmp/never.json"
err_has "more than 1 failure modes (max_modes)" "--max-modes 1"
[ ! -e "$tmp/never.json" ] && ok || bad "--max-modes 1: an output file was written"
expect 1 "max-modes exceeded, stream" -- "$prime" search "${args[@]}" --max-modes 1 --stream
err_has "more than 1 failure modes" "--max-modes 1 --stream"
[ "$(wc -l < "$tmp/out")" -eq 1 ] && grep -qxF -f "$tmp/out" "$tmp/want.jsonl" && ok || bad "--max-modes 1 --stream: $(cat "$tmp/out")"
expect 1 "max-modes exceeded, stream to a file" -- "$prime" search "${args[@]}" --max-modes 1 --stream --output "$tmp/never.json"
[ ! -e "$tmp/never.json" ] && [ -z "$(ls -A "$tmp" | grep '^\.prime-')" ] && ok || bad "--stream --output after a failure: a file was left"
expect 0 "max-modes 0 is no limit" -- "$prime" search "${args[@]}" --max-modes 0 --stream
[ "$(wc -l < "$tmp/out")" -eq 2 ] && ok || bad "--max-modes 0"

# bad usage
expect 2 "stream text" -- "$prime" search "${args[@]}" --stream --format text
err_has "--stream writes json (JSON Lines) or csv" "--stream --format text"
expect 2 "stream fold-equal" -- "$prime" search "${args[@]}" --stream --fold-equal
err_has "--fold-equal" "--stream --fold-equal"
expect 2 "max-modes negative" -- "$prime" search "${args[@]}" --max-modes -1
err_has "max_modes" "--max-modes -1"
expect 2 "max-modes not a number" -- "$prime" search "${args[@]}" --max-modes many
expect 2 "stream given a value" -- "$prime" search "${args[@]}" --stream=1

# a write error on stdout: exit 1 with the reason
if [ -w /dev/full ]; then
  "$prime" search "${args[@]}" --stream >/dev/full 2>"$tmp/err"
  [ $? -eq 1 ] && grep -q "cannot write" "$tmp/err" && ok || bad "--stream to /dev/full: $(cat "$tmp/err")"
fi

# Peak memory: one class of 4,000 images, 50 tags, 12 an image (fixed
# pseudo-random numbers), searched twice: with min_drop 0.02 (many modes)
# and 0.3 (few). Without --stream the peak grows with the modes; with
# --stream it must not (less than 2 MB apart), whatever their number.
awk 'BEGIN {
  x = 12345; print "image,class,tags,correct"
  for (i = 0; i < 4000; i++) {
    tags = ""; n = 0
    for (t = 0; t < 50; t++) {
      x = (x * 1103515245 + 12345) % 2147483648
      if (x % 50 < 12) { tags = tags (n++ ? "|" : "") "t" t }
    }
    x = (x * 1103515245 + 12345) % 2147483648
    print "i" i ",c," tags "," ((x % 100) < 65 ? 1 : 0)
  }
}' > "$tmp/big.csv"
"$prime" convert --tags "$tmp/big.csv" --output "$tmp/big.prime" --outcomes-output "$tmp/big.out.csv" >/dev/null 2>&1 \
  && ok || bad "convert the generated store"
big=(--tags "$tmp/big.prime" --outcomes "$tmp/big.out.csv" --max-tags 4 --min-size 5 --threads 1)
peak_kb() { # peak_kb OUTFILE command...: runs it, prints its peak resident size in kB
  local f=$1; shift
  /usr/bin/time -f %M -o "$tmp/peak" "$@" > "$f" 2>/dev/null || { echo 0; return; }
  tail -1 "$tmp/peak"
}
many_plain=$(peak_kb "$tmp/many.json" "$prime" search "${big[@]}" --min-drop 0.02 --format csv)
few_plain=$(peak_kb "$tmp/few.json" "$prime" search "${big[@]}" --min-drop 0.3 --format csv)
many_stream=$(peak_kb "$tmp/many.csv" "$prime" search "${big[@]}" --min-drop 0.02 --stream --format csv)
few_stream=$(peak_kb "$tmp/few.csv" "$prime" search "${big[@]}" --min-drop 0.3 --stream --format csv)
n_many=$(($(wc -l < "$tmp/many.csv") - 1))
n_few=$(($(wc -l < "$tmp/few.csv") - 1))
echo "peak memory (kB): $n_many modes: $many_plain, --stream $many_stream; $n_few modes: $few_plain, --stream $few_stream"
[ "$n_many" -ge 50000 ] && [ "$n_many" -ge $((n_few * 10)) ] && ok || bad "the generated store: $n_many and $n_few modes"
same <(tail -n +2 "$tmp/many.json" | LC_ALL=C sort) <(tail -n +2 "$tmp/many.csv" | LC_ALL=C sort) "--stream on $n_many modes"
if grep -qE 'lib[at]san' < <(ldd "$prime") || grep -q __asan_init < <(nm -D "$prime" 2>/dev/null) ||
   grep -q __asan_init < <(nm "$prime" 2>/dev/null); then
  echo "note: a sanitizer build: peak memory not compared"
else
  # the test can fail: the plain search does grow
  [ "$many_plain" -gt $((few_plain + 8192)) ] && ok || bad "plain search: the peak does not grow ($few_plain -> $many_plain kB)"
  d=$((many_stream - few_stream))
  [ "${d#-}" -lt 2048 ] && ok || bad "--stream: peak memory grows with the modes ($few_stream -> $many_stream kB)"
fi

echo "stream_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
