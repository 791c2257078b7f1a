#!/usr/bin/env bash
# Bad inputs and file edges of the `prime` command line (issue 11): every
# case asserts the exit status, the message, and that no file changed (a
# checksum of every file of the scratch folder, hidden ones included,
# before and after).
# Usage: edges_test.sh PATH/TO/prime
set -uo pipefail
prime=$(realpath "${1:?usage: edges_test.sh PRIME}")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
# only the script's own shell removes it: a background subshell (the watchers
# below) killed right after its fork still runs this trap, with $BASHPID not
# yet its own; /proc/self read by a builtin is the process that runs the trap
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || { umount "$tmp/small" 2>/dev/null; rm -rf "$tmp"; }' EXIT
# shellcheck source=checks.sh
. "$here/checks.sh"
cd "$here"
args=(--min-size 2 --max-tags 2 --min-gain 0,0.1)
w="$tmp/w" # the folder whose files must not change
mkdir -p "$w"

# snap: the type, size, mode and checksum of every entry under $w
snap() {
  (cd "$w" && find . -mindepth 1 -printf '%y %m %s %p -> %l\n' | sort &&
    find . -type f -exec md5sum {} + | sort) > "$tmp/snap.$1"
}
# case STATUS TEXT DESCRIPTION -- command...: exit status, message, and no
# file of $w created, removed or changed
case_() {
  local want=$1 text=$2 what=$3; shift 4
  snap before
  expect "$want" "$what" -- "$@"
  err_has "$text" "$what"
  snap after
  if cmp -s "$tmp/snap.before" "$tmp/snap.after"; then ok; else
    bad "$what: files changed"; diff "$tmp/snap.before" "$tmp/snap.after" | head -10; fi
}
no_temps() { # no temporary file anywhere under DIR
  local left; left=$(find "$1" -name '.prime-*' -o -name '*.tmp*' | head -5)
  [ -z "$left" ] && ok || bad "$2: temporary files left: $left"
}

cp tags.csv tags_correct.csv outcomes.csv expected.json "$w/"
"$prime" convert --tags tags_correct.csv --output "$w/store.prime" --outcomes-output "$w/o.csv" \
  && ok || bad "setup: convert"
"$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --output "$w/r.json" && ok || bad "setup: search"
mkdir "$w/adir"
mkfifo "$w/fifo"
# a device node of our own, as root (mknod) - else /dev/null stands in
if mknod "$w/nul" c 1 3 2>/dev/null; then dev="$w/nul"; else dev=/dev/null; fi

# ---- 1. inputs that are not regular files: refused, never read or waited on ----
case_ 1 "adir: is a directory, not a file" "search --tags DIR" -- \
  "$prime" search --tags "$w/adir" --outcomes outcomes.csv --output "$w/never.json"
case_ 1 "fifo: is a FIFO (named pipe), not a regular file" "search --tags FIFO" -- \
  timeout 10 "$prime" search --tags "$w/fifo" --outcomes outcomes.csv --output "$w/never.json"
case_ 1 "fifo: is a FIFO (named pipe), not a regular file" "search --outcomes FIFO" -- \
  timeout 10 "$prime" search --tags tags.csv --outcomes "$w/fifo" --output "$w/never.json"
case_ 1 "/dev/zero: is a device, not a regular file" "info /dev/zero (endless)" -- \
  timeout 10 "$prime" info /dev/zero
case_ 1 "/dev/urandom: is a device, not a regular file" "search --tags /dev/urandom" -- \
  timeout 10 "$prime" search --tags /dev/urandom --outcomes outcomes.csv
case_ 1 "is a device, not a regular file" "info DEVICE NODE" -- timeout 10 "$prime" info "$dev"
case_ 1 "adir: is a directory, not a file" "eval --result DIR" -- \
  "$prime" eval --result "$w/adir" --tags tags.csv --outcomes outcomes.csv --output "$w/never.json"
case_ 1 "fifo: is a FIFO (named pipe), not a regular file" "eval --result FIFO" -- \
  timeout 10 "$prime" eval --result "$w/fifo" --tags tags.csv --outcomes outcomes.csv
case_ 1 "fifo: is a FIFO (named pipe), not a regular file" "tag --labels FIFO" -- \
  timeout 10 "$prime" tag --images ../data/tag --backend properties --labels "$w/fifo" --output "$w/never.csv"
case_ 1 "adir: is a directory, not a file" "tag --thresholds DIR" -- \
  "$prime" tag --images ../data/tag --backend properties --thresholds "$w/adir" --output "$w/never.csv"
case_ 1 "fifo: is a FIFO (named pipe), not a regular file" "tag --images LIST that is a FIFO" -- \
  timeout 10 "$prime" tag --images "$w/fifo" --backend properties --output "$w/never.csv"
case_ 1 "adir: is a directory, not a file" "tokenize --bpe DIR" -- "$prime" tokenize --bpe "$w/adir" hello
case_ 1 "fifo: is a FIFO (named pipe), not a regular file" "eval --quality --image-embeddings FIFO" -- \
  timeout 10 "$prime" eval --quality --result expected.json --tags tags.csv --image-embeddings "$w/fifo" \
  --text-embeddings "$w/fifo" --output "$w/never.json"

# ---- 2. inputs larger than the limit (a sparse file of 1.1 TiB) ----
if truncate -s 1100G "$tmp/huge.csv" 2>/dev/null; then
  case_ 1 "huge.csv: 1181116006400 bytes, more than the limit of 1099511627776 bytes" "info HUGE" -- \
    "$prime" info "$tmp/huge.csv"
  case_ 1 "more than the limit of 1099511627776 bytes" "search --outcomes HUGE" -- \
    "$prime" search --tags tags.csv --outcomes "$tmp/huge.csv" --output "$w/never.json"
  case_ 1 "more than the limit" "eval --result HUGE" -- \
    "$prime" eval --result "$tmp/huge.csv" --tags tags.csv --outcomes outcomes.csv --output "$w/never.json"
  rm -f "$tmp/huge.csv"
else
  bad "cannot make a sparse file of 1.1 TiB in $tmp"
fi

# ---- 3. an output that is an input: refused before anything is written ----
case_ 1 "is also the input" "search --output = --tags" -- \
  "$prime" search --tags "$w/tags.csv" --outcomes outcomes.csv "${args[@]}" --output "$w/tags.csv"
case_ 1 "is also the input" "search --output = --outcomes" -- \
  "$prime" search --tags tags.csv --outcomes "$w/outcomes.csv" "${args[@]}" --output "$w/outcomes.csv"
ln -s tags.csv "$w/link.csv"
case_ 1 "is also the input" "search --output = --tags through a symbolic link" -- \
  "$prime" search --tags "$w/tags.csv" --outcomes outcomes.csv "${args[@]}" --output "$w/link.csv"
ln "$w/tags.csv" "$w/hard.csv"
case_ 1 "is also the input" "search --output = --tags through a hard link" -- \
  "$prime" search --tags "$w/tags.csv" --outcomes outcomes.csv "${args[@]}" --output "$w/hard.csv"
case_ 1 "is also the input" "convert --output = --tags" -- \
  "$prime" convert --tags "$w/tags_correct.csv" --output "$w/tags_correct.csv"
case_ 1 "is also the input" "convert --outcomes-output = --tags (hard link)" -- \
  "$prime" convert --tags "$w/tags.csv" --output "$w/new.prime" --outcomes-output "$w/hard.csv"
case_ 1 "is also the output" "convert --output = --outcomes-output (existing)" -- \
  "$prime" convert --tags tags_correct.csv --output "$w/o.csv" --outcomes-output "$w/o.csv"
case_ 1 "is also the output" "convert --output = --outcomes-output (new)" -- \
  "$prime" convert --tags tags_correct.csv --output "$w/n.out" --outcomes-output "$w/./n.out"
case_ 1 "is also the input" "eval --output = --result" -- \
  "$prime" eval --result "$w/r.json" --tags tags.csv --outcomes outcomes.csv --output "$w/r.json"
case_ 1 "is also the input" "tag --output = --labels" -- \
  "$prime" tag --images ../data/tag --backend properties --labels "$w/tags.csv" --output "$w/tags.csv"
printf 'image,class,tags\nm1,c,a|b\n' > "$w/part1.csv"
printf 'image,class,tags\nm2,c,a|b\n' > "$w/part2.csv"
case_ 1 "part1.csv: is also the input" "merge --output = a part" -- \
  "$prime" merge --output "$w/part1.csv" "$w/part1.csv" "$w/part2.csv"
case_ 1 "part2.csv: is also the input" "merge --output = a part after --" -- \
  "$prime" merge --output "$w/part2.csv" "$w/part1.csv" -- "$w/part2.csv"
case_ 1 "is also the input" "report --output = --result" -- \
  "$prime" report --result "$w/r.json" --tags tags.csv --outcomes outcomes.csv --images ../data/report/img --output "$w/r.json"

# ---- 4. several outputs: all or none, never deleting what was there ----
case_ 1 "/dev/full: cannot write: No space left on device" "convert: second output fails (/dev/full)" -- \
  "$prime" convert --tags tags_correct.csv --output "$w/store.prime" --outcomes-output /dev/full
case_ 1 "/dev/full: cannot write" "convert: first output fails (/dev/full), second kept" -- \
  "$prime" convert --tags tags_correct.csv --output /dev/full --outcomes-output "$w/o.csv"
case_ 1 "has no outcomes to write" "convert: no outcomes, older store kept" -- \
  "$prime" convert --tags tags.csv --output "$w/store.prime" --outcomes-output "$w/o.csv"
case_ 1 "adir: is a directory; an output must be a file" "convert: second output a directory" -- \
  "$prime" convert --tags tags_correct.csv --output "$w/store.prime" --outcomes-output "$w/adir"
case_ 1 "cannot write" "convert: second output in a missing folder" -- \
  "$prime" convert --tags tags_correct.csv --output "$w/store.prime" --outcomes-output "$w/nowhere/o.csv"
no_temps "$w" "several outputs"

# ---- 5. fixed temporary names are never used ----
for f in store.prime.tmp o.csv.tmp r.json.tmp t.csv.tmp r.html.tmp; do echo "precious $f" > "$w/$f"; done
mkdir "$w/s2.prime.tmp"
ln -s o.csv "$w/o2.csv.tmp"
snap before
expect 0 "convert beside .tmp files" -- "$prime" convert --tags tags_correct.csv --output "$w/store.prime" --outcomes-output "$w/o.csv"
expect 0 "convert beside a .tmp folder" -- "$prime" convert --tags tags_correct.csv --output "$w/s2.prime" --outcomes-output "$w/o2.csv"
expect 0 "search beside a .tmp file" -- "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --output "$w/r.json"
expect 0 "tag beside a .tmp file" -- "$prime" tag --images ../data/tag --backend properties --output "$w/t.csv"
expect 0 "report beside a .tmp file" -- "$prime" report --result expected.json --tags tags.csv --outcomes outcomes.csv --images ../data/report/img --per-mode 0 --output "$w/r.html"
for f in store.prime.tmp o.csv.tmp r.json.tmp t.csv.tmp r.html.tmp; do
  [ "$(cat "$w/$f")" = "precious $f" ] && ok || bad "$f was touched"
done
[ -d "$w/s2.prime.tmp" ] && [ -L "$w/o2.csv.tmp" ] && ok || bad "a .tmp folder or link was touched"
same "$w/r.json" expected.json "search output beside .tmp files"
no_temps "$w/adir" "fixed names"
[ -z "$(find "$w" -name '.prime-*')" ] && ok || bad "fixed names: temporary files left"
rm -rf "$w/s2.prime" "$w/o2.csv" "$w/t.csv" "$w/r.html" "$w/s2.prime.tmp" "$w/o2.csv.tmp" "$w"/*.tmp

# ---- 6. names of 245 to 255 bytes (no suffix pushes them over NAME_MAX) ----
for len in 245 250 255; do
  n=$(printf 'n%.0s' $(seq "$len"))
  expect 0 "search --output, a name of $len bytes" -- "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --output "$tmp/$n"
  same "$tmp/$n" expected.json "search output named with $len bytes"
  expect 0 "convert, names of $len bytes" -- "$prime" convert --tags tags_correct.csv --output "$tmp/$n" --outcomes-output "$tmp/${n:1}o"
  expect 0 "tag --output, a name of $len bytes" -- "$prime" tag --images ../data/tag --backend properties --output "$tmp/$n"
  head -1 "$tmp/$n" | grep -qx 'image,class,tags' && ok || bad "tag output named with $len bytes"
  rm -f "$tmp/$n" "$tmp/${n:1}o"
done
no_temps "$tmp" "long names"

# ---- 7. SIGINT / SIGTERM during a large write: no temporary file, old files kept ----
big="$tmp/big"
mkdir -p "$big"
awk 'BEGIN { print "image,class,tags,correct"
  for (i = 0; i < 600000; i++) printf "img%07d.jpg,c%d,t%d|u%d|v%d,%d\n", i, i % 10, i % 97, i % 89, i % 83, (i % 3) ? 1 : 0 }' > "$big/big.csv"
echo "old store" > "$big/s.prime"
echo "old outcomes" > "$big/o.csv"
interrupt() { # SIGNAL: interrupt convert while a temporary file exists
  local sig=$1 pid n t
  # a background job of a script starts with SIGINT ignored; env gives it
  # the default back (job control, set -m, is not available without a
  # terminal, as under CI, and changes who else gets the signal)
  env --default-signal=INT "$prime" convert --tags "$big/big.csv" --output "$big/s.prime" --outcomes-output "$big/o.csv" 2>"$tmp/err" &
  pid=$!
  shopt -s nullglob dotglob
  for ((n = 0; n < 5000000; n++)); do t=("$big"/.prime-*); [ ${#t[@]} -gt 0 ] && break; done
  shopt -u nullglob dotglob
  kill "-$sig" "$pid"
  wait "$pid"
  local rc=$?
  [ "$n" -lt 5000000 ] && ok || bad "$sig: the temporary file never showed"
  # death by the signal; or exit 0 when the command had already finished
  # its commit as the signal was sent (a fast machine): then both outputs
  # must be the complete new ones (checked below)
  local late=0
  if [ "$rc" -eq 0 ]; then
    late=1
    ok; echo "note: $sig came after the command had finished"
  else
    [ "$rc" -eq $((128 + $(kill -l "$sig"))) ] && ok || bad "$sig: exit $rc, wanted death by the signal"
  fi
  [ -z "$(find "$big" -name '.prime-*')" ] && ok || bad "$sig: temporary file left: $(ls -A "$big")"
  # all or none: both old files kept, or (when the signal came while the
  # renames were held back) both new files complete
  if [ $late = 0 ] && [ "$(cat "$big/s.prime")" = "old store" ] && [ "$(cat "$big/o.csv")" = "old outcomes" ]; then
    ok
  elif "$prime" info "$big/s.prime" >/dev/null 2>&1 && [ "$(wc -l < "$big/o.csv")" -eq 600001 ]; then
    ok; echo "note: $sig came during the commit; both outputs complete"
    echo "old store" > "$big/s.prime"; echo "old outcomes" > "$big/o.csv"
  else
    bad "$sig: the outputs are neither the old ones nor two complete new ones"
  fi
}
interrupt INT
interrupt TERM
interrupt HUP

# ---- 7b. an output that is a FIFO with no reader: a signal stops the wait ----
# (the commit holds the signals around its renames only, not while an
# output written in place waits for its reader)
ff="$tmp/ff"
mkdir -p "$ff"
mkfifo "$ff/fifo"
fifo_interrupt() { # SIGNAL
  local sig=$1 pid n t rc watch
  env --default-signal=INT "$prime" convert --tags tags_correct.csv --output "$ff/s.prime" --outcomes-output "$ff/fifo" 2>"$tmp/err" &
  pid=$!
  shopt -s nullglob dotglob
  for ((n = 0; n < 2000; n++)); do t=("$ff"/.prime-*); [ ${#t[@]} -gt 0 ] && break; sleep 0.01; done
  shopt -u nullglob dotglob
  [ "$n" -lt 2000 ] && ok || bad "FIFO $sig: the store's temporary file never showed"
  sleep 0.3 # now waiting in the open of the FIFO
  kill "-$sig" "$pid"
  ( sleep 10; kill -KILL "$pid" 2>/dev/null ) & watch=$!
  wait "$pid"; rc=$?
  kill "$watch" 2>/dev/null; wait "$watch" 2>/dev/null
  [ "$rc" -eq $((128 + $(kill -l "$sig"))) ] && ok || bad "FIFO $sig: exit $rc, wanted death by the signal (137: only SIGKILL stopped it)"
  [ -z "$(find "$ff" -name '.prime-*')" ] && ok || bad "FIFO $sig: temporary file left: $(ls -A "$ff")"
  [ ! -e "$ff/s.prime" ] && ok || bad "FIFO $sig: the store was written though the outcomes were not"
  [ -p "$ff/fifo" ] && ok || bad "FIFO $sig: the FIFO was replaced"
}
fifo_interrupt INT
fifo_interrupt TERM
fifo_interrupt HUP
# with a reader: both outputs complete
cat "$ff/fifo" > "$tmp/fifo_o.csv" &
reader=$!
expect 0 "convert --outcomes-output FIFO with a reader" -- timeout 20 "$prime" convert --tags tags_correct.csv --output "$ff/s.prime" --outcomes-output "$ff/fifo"
wait "$reader"
same "$tmp/fifo_o.csv" "$w/o.csv" "outcomes through a FIFO"
expect 0 "the store written beside the FIFO loads" -- "$prime" info "$ff/s.prime"
rm -rf "$ff"

# ---- 8. outputs that are devices: written in place, never replaced ----
expect 0 "search --output a device node" -- "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --output "$dev"
[ -c "$dev" ] && ok || bad "the device node was replaced: $(ls -l "$dev")"
if [ "$dev" != /dev/null ]; then
  expect 0 "convert --output a device node" -- "$prime" convert --tags tags_correct.csv --output "$tmp/s.prime" --outcomes-output "$dev"
  [ -c "$dev" ] && ok || bad "the device node was replaced by convert"
fi
expect 0 "search --output /dev/null" -- "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --output /dev/null
[ -c /dev/null ] && ok || bad "/dev/null was replaced"
"$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --output /dev/stdout | cat > "$tmp/piped.json"
same "$tmp/piped.json" expected.json "--output /dev/stdout to a pipe"
"$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --output /dev/stdout > "$tmp/redirected.json"
same "$tmp/redirected.json" expected.json "--output /dev/stdout to a file"
cat "$w/fifo" > "$tmp/fromfifo.json" &
reader=$!
expect 0 "search --output a FIFO" -- timeout 10 "$prime" search --tags tags.csv --outcomes outcomes.csv "${args[@]}" --output "$w/fifo"
wait "$reader"
same "$tmp/fromfifo.json" expected.json "--output FIFO"
[ -p "$w/fifo" ] && ok || bad "the FIFO was replaced"
no_temps "$w" "device outputs"

# ---- 9. a full device: exit 1 with a message ----
case_ 1 "cannot write the output: No space left on device" "info > /dev/full" -- sh -c '"$0" info "$1" > /dev/full' "$prime" tags.csv
case_ 1 "cannot write the output: No space left on device" "--help > /dev/full" -- sh -c '"$0" --help > /dev/full' "$prime"
case_ 1 "cannot write the output: No space left on device" "--version > /dev/full" -- sh -c '"$0" --version > /dev/full' "$prime"
case_ 1 "cannot write the output: No space left on device" "search to stdout > /dev/full" -- \
  sh -c '"$0" search --tags tags.csv --outcomes outcomes.csv --min-size 2 > /dev/full' "$prime"
case_ 1 "/dev/full: cannot write: No space left on device" "search --output /dev/full" -- \
  "$prime" search --tags tags.csv --outcomes outcomes.csv --output /dev/full
case_ 1 "cannot write the output: No space left on device" "eval > /dev/full" -- \
  sh -c '"$0" eval --result expected.json --tags tags.csv --outcomes outcomes.csv > /dev/full' "$prime"
for fmt in text csv; do # the message once, not twice
  expect 1 "search --format $fmt > /dev/full" -- sh -c '"$0" search --tags tags.csv --outcomes outcomes.csv --min-size 2 --format "$1" > /dev/full' "$prime" "$fmt"
  [ "$(grep -c 'cannot write' "$tmp/err")" = 1 ] && ok || bad "search --format $fmt > /dev/full: $(cat "$tmp/err")"
done

# ---- 10. strict numbers: no blank, no sign, no wrap ----
ev=(eval --result expected.json --tags tags_correct.csv --fdr 0.3)
case_ 2 "--hypotheses must be a positive integer, not ' -1'" "--hypotheses ' -1'" -- "$prime" "${ev[@]}" --hypotheses ' -1'
case_ 2 "--hypotheses must be a positive integer, not '-1'" "--hypotheses -1" -- "$prime" "${ev[@]}" --hypotheses -1
case_ 2 "not ' 4'" "--hypotheses ' 4'" -- "$prime" "${ev[@]}" --hypotheses ' 4'
case_ 2 "not '+4'" "--hypotheses +4" -- "$prime" "${ev[@]}" --hypotheses +4
case_ 2 "not '18446744073709551616'" "--hypotheses 2^64 (no wrap)" -- "$prime" "${ev[@]}" --hypotheses 18446744073709551616
case_ 2 "not '4 '" "--hypotheses '4 '" -- "$prime" "${ev[@]}" --hypotheses '4 '
case_ 2 "--fdr must be a number in (0, 1], not ' 0.5'" "--fdr ' 0.5'" -- "$prime" eval --result expected.json --tags tags_correct.csv --fdr ' 0.5'
case_ 2 "--fdr must be a number in (0, 1], not '0x1p-1'" "--fdr hex" -- "$prime" eval --result expected.json --tags tags_correct.csv --fdr 0x1p-1
case_ 2 "--seed must be a non-negative integer, not ' 5'" "report --seed ' 5'" -- \
  "$prime" report --result expected.json --tags tags.csv --images ../data/report/img --seed ' 5' --output "$w/never.html"
case_ 2 "--per-mode must be an integer in 0..10000, not '+3'" "report --per-mode +3" -- \
  "$prime" report --result expected.json --tags tags.csv --images ../data/report/img --per-mode +3 --output "$w/never.html"
case_ 2 "--threads must be a count, not ' 2'" "tag --threads ' 2'" -- \
  "$prime" tag --images ../data/tag --backend properties --threads ' 2' --output "$w/never.csv"
case_ 2 "--top-k must be a count, not '-1'" "tag --top-k -1" -- \
  "$prime" tag --images ../data/tag --backend properties --top-k -1 --output "$w/never.csv"
case_ 2 "--threshold must be a number, not 'nan'" "tag --threshold nan" -- \
  "$prime" tag --images ../data/tag --backend properties --threshold nan --output "$w/never.csv"
case_ 2 "--dim must be an integer in 1.." "eval --quality --dim ' 4'" -- \
  "$prime" eval --quality --result expected.json --tags tags.csv --image-embeddings x.f32 --text-embeddings t.npy --dim ' 4'
case_ 2 "--size must be an integer in 1..65536, not '1e2'" "tag --size 1e2" -- \
  "$prime" tag --images ../data/tag --backend torch --model m.pt --vocab v.txt --size 1e2 --output "$w/never.csv"
case_ 2 "--mean must be three numbers R,G,B, not ' 0.5,0.5,0.5'" "tag --mean with a blank" -- \
  "$prime" tag --images ../data/tag --backend torch --model m.pt --vocab v.txt --mean ' 0.5,0.5,0.5' --output "$w/never.csv"
case_ 2 "min_drop" "search --min-drop ' 0.3'" -- "$prime" search --tags tags.csv --min-drop ' 0.3'
case_ 2 "max_tags: \"+2\" is not an integer" "search --max-tags +2" -- "$prime" search --tags tags.csv --max-tags +2
case_ 2 "min_size: \"+2\" is not an integer" "search --min-size +2" -- "$prime" search --tags tags.csv --min-size +2
case_ 2 "threads: \"+1\" is not an integer" "search --threads +1" -- "$prime" search --tags tags.csv --threads +1
case_ 2 "min_gain: \" 0.1\" is not a number" "search --min-gain with a blank after the comma" -- "$prime" search --tags tags.csv --min-gain '0, 0.1'

# ---- 11. unknown options, wherever they stand ----
case_ 2 "unknown option '--bogus'" "search: unknown option last" -- "$prime" search --tags tags.csv --bogus
case_ 2 "unknown option '--bogus'" "search: unknown option with =value" -- "$prime" search --bogus=1 --tags tags.csv
case_ 2 "unknown option '--nope'" "convert: unknown option last" -- "$prime" convert --tags tags.csv --output "$w/never" --nope
case_ 2 "unknown option '--top-k' for classify" "classify: a tag option last" -- "$prime" classify --model m.pt --images ../data/tag --top-k
case_ 2 "unknown option '--x' for eval --quality" "eval --quality: unknown option last" -- "$prime" eval --quality --x
case_ 2 "unknown option '--frob'" "tag: unknown option last" -- "$prime" tag --images ../data/tag --frob
case_ 2 "unknown option '--nope'" "tokenize: unknown option last" -- "$prime" tokenize --nope
case_ 2 "unknown option '--x'" "report: unknown option last" -- "$prime" report --x
case_ 2 "unknown option '--bogus' for info" "info: unknown option last" -- "$prime" info tags.csv --bogus
case_ 2 "unknown option '--bogus' for merge" "merge: unknown option last" -- "$prime" merge --output "$w/never.prime" tags.csv --bogus
case_ 2 "--whole-dataset takes no value" "a flag given a value" -- "$prime" search --tags tags.csv --whole-dataset=1
case_ 2 "--outcomes-format needs --outcomes-output FILE" "convert: an option that would be ignored" -- \
  "$prime" convert --tags tags_correct.csv --outcomes-format binary --output "$w/never.prime"
case_ 2 "option --output needs a value" "a known option last, without its value" -- "$prime" search --tags tags.csv --output

# "--" ends the options of info (as of merge and tokenize): a file whose name starts with --
cp tags.csv "$tmp/--odd.csv"
expect 0 "info -- FILE named --odd.csv" -- sh -c 'cd "$1" && "$0" info -- --odd.csv' "$prime" "$tmp"
grep -q "^images: *11$" "$tmp/out" && ok || bad "info -- FILE: $(cat "$tmp/out")"
case_ 2 "info needs exactly one FILE" "info -- with no file" -- "$prime" info --
case_ 2 "info needs exactly one FILE" "info -- with two files" -- "$prime" info -- tags.csv tags.csv

# ---- 12. empty values ----
case_ 2 "option --tags needs a value, not an empty text" "--tags=" -- "$prime" search --tags=
case_ 2 "option --tags needs a value, not an empty text" "--tags ''" -- "$prime" search --tags '' --outcomes outcomes.csv
case_ 2 "option --output needs a value, not an empty text" "--output=" -- "$prime" search --tags tags.csv --outcomes outcomes.csv --output=
case_ 2 "option --labels needs a value, not an empty text" "tag --labels=" -- "$prime" tag --images ../data/tag --backend properties --labels= --output "$w/never.csv"
case_ 2 "option --result needs a value, not an empty text" "eval --result ''" -- "$prime" eval --result '' --tags tags.csv
case_ 2 "option --bpe needs a value, not an empty text" "tokenize --bpe=" -- "$prime" tokenize --bpe= hello
case_ 2 "option --output needs a value, not an empty text" "merge --output=" -- "$prime" merge --output= tags.csv
case_ 2 "a command is needed: search, convert, info, eval, report, tokenize, tag, classify or merge" "bare prime lists every command" -- "$prime"

# ---- 13. tag --labels through the library's CSV reader ----
lab="$tmp/lab"
mkdir -p "$lab"
{ printf 'image'; for k in $(seq 300); do printf ',c%d' "$k"; done; printf ',label\n'
  for img in cat/a.png "cat/b b.png" dog/c.png; do
    printf '"%s"' "$img"; for k in $(seq 300); do printf ',%d' "$k"; done; printf ',"canine\nline two"\n'
  done; } > "$lab/wide.csv"
expect 0 "tag --labels: 302 columns, quoted newlines" -- "$prime" tag --images ../data/tag --backend properties --labels "$lab/wide.csv" --output "$lab/t.csv"
expect 0 "its output loads" -- "$prime" info "$lab/t.csv"
grep -q "classes: *1 " "$tmp/out" && ok || bad "wide labels: one class expected: $(cat "$tmp/out")"
printf '\xEF\xBB\xBFimage,label\r\ncat/a.png,x\r\n"cat/b b.png",x\r\ndog/c.png,y\r\n' > "$lab/bom.csv"
expect 0 "tag --labels with a BOM and CRLF" -- "$prime" tag --images ../data/tag --backend properties --labels "$lab/bom.csv" --output "$lab/t2.csv"
grep -q '^dog/c.png,y,' "$lab/t2.csv" && ok || bad "BOM labels: $(cat "$lab/t2.csv")"
mkdir -p "$lab/cat" && cp ../data/tag/cat/a.png "$lab/cat/" && printf '\xEF\xBB\xBFcat/a.png\r\n' > "$lab/list.txt"
expect 0 "tag --images LIST with a BOM and CRLF" -- "$prime" tag --images "$lab/list.txt" --backend properties --output "$lab/t3.csv"
grep -q '^cat/a.png,cat,dark|' "$lab/t3.csv" && ok || bad "list with a BOM: $(cat "$lab/t3.csv")"
# the list through the library's line reader (prime_lines_load): blank
# lines and # comments skipped anywhere; what no text reader takes refused
cp "../data/tag/cat/b b.png" "$lab/cat/"
printf '# two images\r\n\r\ncat/a.png\r\n  \r\n# the other\r\ncat/b b.png\r\n' > "$lab/list2.txt"
expect 0 "tag --images LIST with comments and blank lines" -- "$prime" tag --images "$lab/list2.txt" --backend properties --output "$lab/t4.csv"
[ "$(wc -l < "$lab/t4.csv")" = 3 ] && grep -q '^cat/b b.png,cat,' "$lab/t4.csv" && ok || bad "list with comments: $(cat "$lab/t4.csv")"
printf 'cat/a.png\n\n# c\n' > "$lab/list3.txt"
expect 0 "tag --images LIST with a blank line and a comment at the end" -- "$prime" tag --images "$lab/list3.txt" --backend properties --output "$lab/t5.csv"
[ "$(wc -l < "$lab/t5.csv")" = 2 ] && ok || bad "list with blank lines: $(cat "$lab/t5.csv")"
printf 'cat/a.png\ncat/b\rb.png\n' > "$w/cr.txt"
case_ 1 "cr.txt:2: a carriage return not followed by a line feed" "tag --images LIST with a lone CR" -- \
  "$prime" tag --images "$w/cr.txt" --backend properties --output "$w/never.csv"
printf 'cat/a.png\ncat/\xC3.png\n' > "$w/utf.txt"
case_ 1 "utf.txt:2: invalid UTF-8" "tag --images LIST with invalid UTF-8" -- \
  "$prime" tag --images "$w/utf.txt" --backend properties --output "$w/never.csv"
printf '\xEF\xBB\xBF\r\n# nothing\r\n' > "$w/nolines.txt"
case_ 1 "nolines.txt: no lines (the file is empty or blank)" "tag --images LIST with no lines" -- \
  "$prime" tag --images "$w/nolines.txt" --backend properties --output "$w/never.csv"
mkdir -p "$lab/bad8/cat" && cp ../data/tag/cat/a.png "$lab/bad8/cat/ok.png" && cp ../data/tag/cat/a.png "$lab/bad8/cat/x$(printf '\xff').png"
case_ 1 "image name is not valid UTF-8: \"cat/x\" then byte 0xFF at offset 5" "tag --images DIR with a file name that is not UTF-8 (named)" -- \
  "$prime" tag --images "$lab/bad8" --backend properties --output "$w/never.csv"
printf '# c\ncat/a.png\n\ncat/b b.png\ncat/a.png\n' > "$lab/twice.txt"
case_ 1 "twice.txt: image \"cat/a.png\" is listed twice (items 1 and 3" "tag --images LIST naming an image twice (before any is tagged)" -- \
  "$prime" tag --images "$lab/twice.txt" --backend properties --output "$w/never.csv"
printf 'image,label\ncat/a.png,x\ndog/c.png,y\n"cat/b b.png",x\ncat/a.png,z\n' > "$w/dup.csv"
case_ 1 "dup.csv:5: image \"cat/a.png\" listed twice (first on line 2)" "tag --labels: an image listed twice" -- \
  "$prime" tag --images ../data/tag --backend properties --labels "$w/dup.csv" --output "$w/never.csv"
printf 'image,label\ncat/a.png,x\ndog/c.png,y\n"cat/b b.png,x\n' > "$w/quote.csv"
case_ 1 "quote.csv:4:" "tag --labels: an unterminated quote" -- \
  "$prime" tag --images ../data/tag --backend properties --labels "$w/quote.csv" --output "$w/never.csv"
printf 'image,label\ncat/a.png,x,extra\n' > "$w/fields.csv"
case_ 1 "fields.csv:2: expected 2 fields, found 3" "tag --labels: a row with a field too many" -- \
  "$prime" tag --images ../data/tag --backend properties --labels "$w/fields.csv" --output "$w/never.csv"
printf 'img,label\n' > "$w/nocol.csv"
case_ 1 "nocol.csv:1: missing column \"image\"" "tag --labels: no image column" -- \
  "$prime" tag --images ../data/tag --backend properties --labels "$w/nocol.csv" --output "$w/never.csv"

# ---- 14. the sharded-store manifest (JSON): a BOM is taken, a key given twice refused ----
sh="$tmp/sh.prmd"
"$prime" tag --images ../data/tag --backend properties --shard 0/2 --output "$sh" 2>/dev/null &&
  "$prime" tag --images ../data/tag --backend properties --shard 1/2 --output "$sh" 2>/dev/null && ok || bad "sharded tagging"
"$prime" merge --output "$tmp/plain.prime" "$sh" && ok || bad "merge of the sharded store"
cp -r "$sh" "$w/bom.prmd"
{ printf '\xEF\xBB\xBF'; cat "$sh/manifest.json"; } > "$w/bom.prmd/manifest.json"
expect 0 "merge: a manifest with a BOM" -- "$prime" merge --output "$tmp/bom.prime" "$w/bom.prmd"
same "$tmp/bom.prime" "$tmp/plain.prime" "a BOM in the manifest changes nothing"
cp -r "$sh" "$w/dup.prmd"
sed -i 's/"shards": 2,/"shards": 2, "shards": 3,/' "$w/dup.prmd/manifest.json"
case_ 1 "manifest.json:4: duplicate key \"shards\"" "merge: a manifest with a key given twice" -- \
  "$prime" merge --output "$w/never.prime" "$w/dup.prmd"
cp -r "$sh" "$w/dup2.prmd"
sed -i '0,/"completed": true/s//"completed": true, "completed": false/' "$w/dup2.prmd/manifest.json"
case_ 1 "duplicate key \"completed\"" "merge: a shard entry with a key given twice" -- \
  "$prime" merge --output "$w/never.prime" "$w/dup2.prmd"

# an output that is a file of a sharded store read whole (--tags DIR.prmd,
# merge's part): refused like the folder itself, a hard link too
cp -r "$sh" "$w/in.prmd"
ln "$w/in.prmd/shard-00001.prm" "$w/shard_hard.json"
case_ 1 "shard-00000.prm: is also the input $w/in.prmd/shard-00000.prm; refusing to overwrite it" \
  "merge --output = a shard of the part" -- "$prime" merge --output "$w/in.prmd/shard-00000.prm" "$w/in.prmd"
case_ 1 "manifest.json: is also the input $w/in.prmd/manifest.json" "convert --output = the manifest of --tags DIR.prmd/" -- \
  "$prime" convert --tags "$w/in.prmd/" --output "$w/in.prmd/manifest.json"
case_ 1 "shard_hard.json: is also the input $w/in.prmd/shard-00001.prm" "search --output = a shard of --tags (hard link)" -- \
  "$prime" search --tags "$w/in.prmd" --outcomes outcomes.csv --output "$w/shard_hard.json"
case_ 1 "is also the input $w/in.prmd/shard-00001.json" "eval --output = a shard's entry" -- \
  "$prime" eval --result expected.json --tags "$w/in.prmd" --outcomes outcomes.csv --output "$w/in.prmd/shard-00001.json"

# ---- 15. an output that is one of the images read (--images): refused ----
# (no option names them, so the writer does not know them: tag and classify
# check the listed images, report each image its page shows)
cp -r ../data/tag "$w/imgs"
cp -r ../data/report/img "$w/rimg"
ln "$w/imgs/cat/a.png" "$w/img_hard.csv"
ln -s imgs/dog/c.png "$w/img_link.csv"
printf 'cat/a.png\ndog/c.png\n' > "$w/imgs/list.txt"
case_ 1 "a.png: is also the input $w/imgs/cat/a.png; refusing to overwrite it" "tag --output = an image of --images DIR" -- \
  "$prime" tag --images "$w/imgs" --backend properties --output "$w/imgs/cat/a.png"
case_ 1 "img_hard.csv: is also the input $w/imgs/cat/a.png" "tag --output = an image of --images DIR (hard link)" -- \
  "$prime" tag --images "$w/imgs" --backend properties --output "$w/img_hard.csv"
case_ 1 "img_link.csv: is also the input $w/imgs/dog/c.png" "tag --output = an image of --images LIST (symbolic link)" -- \
  "$prime" tag --images "$w/imgs/list.txt" --backend properties --output "$w/img_link.csv"
case_ 1 "is also the input $w/imgs/cat/a.png" "classify --output = an image (before the model loads)" -- \
  "$prime" classify --model "$w/none.pt" --images "$w/imgs/list.txt" --output "$w/imgs/cat/a.png"
"$prime" search --tags ../data/report/tags.csv --min-size 2 --max-tags 2 --min-drop 0.2 --output "$tmp/rep_r.json" \
  && ok || bad "setup: search of the report's tags"
case_ 1 "c1.png: is also the input $w/rimg/cat/c1.png; refusing to overwrite it" "report --output = an image it shows" -- \
  "$prime" report --result "$tmp/rep_r.json" --tags ../data/report/tags.csv --images "$w/rimg" --output "$w/rimg/cat/c1.png"
no_temps "$w" "an output that is an image"

# ---- 16. every reader of a command x the classes of bad input ----
# each bad file through every command that reads it: exit 1, FILE:LINE and
# what is wrong, no output and no file changed
mx="$w/mx"
mkdir -p "$mx"
H='image,class,tags,correct\n'
printf '' > "$mx/t_empty.csv"
printf "${H}a1,ape,da\0rk,1\n" > "$mx/t_nul.csv"
printf "${H}a1,ape,caf\xe9,1\n" > "$mx/t_utf8.csv"
printf "\xff\xfei\0m\0a\0g\0e\0\n\0" > "$mx/t_utf16.csv"
printf "${H}a1,ape,dark,1\na1,ape,tree,0\n" > "$mx/t_dup.csv"
printf 'image,tags,correct\na1,dark,1\n' > "$mx/t_nocol.csv"
printf 'image,class,tags,class\na1,ape,dark,ape\n' > "$mx/t_dupcol.csv"
printf "${H}a1,ape,dark,1,extra\n" > "$mx/t_extra.csv"
printf "${H}a1,ape,dark\n" > "$mx/t_short.csv"
printf "${H}a1,ape,%s,1\n" "$(printf 'x%.0s' $(seq 256))" > "$mx/t_longtag.csv"
printf "${H},ape,dark,1\n" > "$mx/t_noimage.csv"
printf "${H}a1,ape,dark||tree,1\n" > "$mx/t_emptytag.csv"
printf "${H}a1,ape,dark,nan\n" > "$mx/t_nan.csv"
printf "${H}a1,ape,dark,2\n" > "$mx/t_two.csv"
printf "${H}a1,ape,dark,99999999999999999999999\n" > "$mx/t_bigint.csv"
printf 'image,class,tags,score\na1,ape,dark,inf\n' > "$mx/t_inf.csv"
printf 'image,class,tags,score\na1,ape,dark,-0.5\n' > "$mx/t_neg.csv"
printf 'image,class,tags,score\na1,ape,dark,1e999\n' > "$mx/t_huge.csv"
printf "${H}a1,ape,dark,1\na2,\"ape,tree,1\n" > "$mx/t_quote.csv"
printf "${H}a1,ape,da\"rk,1\n" > "$mx/t_midquote.csv"
printf 'image,class,tags,correct\ra1,ape,dark,1\r' > "$mx/t_cr.csv"
printf '{"image": "a1", "class": "ape", "tags": ["dark"], "correct": 1}\n{"image": "a2", "class": "ape", "tags": ["dark"], "correct": NaN}\n' > "$mx/t_nan.jsonl"
printf '{"image": "a1", "class": "ape", "tags": "dark", "correct": 1}\n' > "$mx/t_type.jsonl"
tags_cases=(
  "t_empty.csv:1: empty file" "t_nul.csv:2: NUL byte" "t_utf8.csv:2: invalid UTF-8"
  "t_utf16.csv:1: invalid UTF-8" "t_dup.csv:3: duplicate image \"a1\" (first on line 2)"
  "t_nocol.csv:1: missing column \"class\"" "t_dupcol.csv:1: column \"class\" appears twice"
  "t_extra.csv:2: expected 4 fields, found 5" "t_short.csv:2: expected 4 fields, found 3"
  "t_longtag.csv:2: tag name of 256 bytes" "t_noimage.csv:2: empty image name"
  "t_emptytag.csv:2: empty tag name" "t_nan.csv:2: correct is not a number" "t_two.csv:2: correct must be 0 or 1"
  "t_bigint.csv:2: correct must be 0 or 1" "t_inf.csv:2: score is not a number"
  "t_neg.csv:2: score -0.5 is outside [0, 1]" "t_huge.csv:2: score is not a number"
  "t_quote.csv:3:" "t_midquote.csv:2:" "t_cr.csv:1: carriage return" "t_nan.jsonl:2:" "t_type.jsonl:1:")
for c in "${tags_cases[@]}"; do
  f=${c%%:*}
  case_ 1 "$c" "search --tags $f" -- "$prime" search --tags "$mx/$f" --output "$w/never.json"
  case_ 1 "$c" "convert --tags $f" -- "$prime" convert --tags "$mx/$f" --output "$w/never.prime" --outcomes-output "$w/never.csv"
  case_ 1 "$c" "info $f" -- "$prime" info "$mx/$f"
  case_ 1 "$c" "eval --tags $f" -- "$prime" eval --result expected.json --tags "$mx/$f" --output "$w/never.json"
  case_ 1 "$c" "report --tags $f" -- "$prime" report --result expected.json --tags "$mx/$f" --images ../data/report/img --output "$w/never.html"
  case_ 1 "$c" "merge $f" -- "$prime" merge --output "$w/never.prime" "$mx/$f"
done
O='image,correct\n'
printf '' > "$mx/o_empty.csv"
printf "${O}a1,0\0\n" > "$mx/o_nul.csv"
printf "${O}a\xff1,0\n" > "$mx/o_utf8.csv"
printf "${O}a1,0\na1,1\n" > "$mx/o_dup.csv"
printf 'image,verdict\na1,0\n' > "$mx/o_nocol.csv"
printf "${O}a1,0,1\n" > "$mx/o_extra.csv"
printf 'image,score\na1,nan\n' > "$mx/o_nan.csv"
printf 'image,score\na1,-inf\n' > "$mx/o_inf.csv"
printf 'image,score\na1,-0.25\n' > "$mx/o_neg.csv"
printf 'image,score\na1,1e400\n' > "$mx/o_huge.csv"
grep -v ',a7$' outcomes.csv > "$mx/o_missing.csv"
out_cases=(
  "o_empty.csv:1: empty file" "o_nul.csv:2: NUL byte" "o_utf8.csv:2: invalid UTF-8"
  "o_dup.csv:3: duplicate image \"a1\" (first on line 2)" "o_nocol.csv:1:" "o_extra.csv:2: expected 2 fields, found 3"
  "o_nan.csv:2: score is not a number" "o_inf.csv:2: score is not a number" "o_neg.csv:2: score -0.25 is outside [0, 1]"
  "o_huge.csv:2: score is not a number" "o_missing.csv: image \"a7\" of the tag store has no outcome")
for c in "${out_cases[@]}"; do
  f=${c%%:*}
  case_ 1 "$c" "search --outcomes $f" -- "$prime" search --tags tags.csv --outcomes "$mx/$f" --output "$w/never.json"
  case_ 1 "$c" "eval --outcomes $f" -- "$prime" eval --result expected.json --tags tags.csv --outcomes "$mx/$f" --output "$w/never.json"
  case_ 1 "$c" "report --outcomes $f" -- "$prime" report --result expected.json --tags tags.csv --outcomes "$mx/$f" --images ../data/report/img --output "$w/never.html"
  case_ 1 "$c" "convert --outcomes $f" -- "$prime" convert --tags tags.csv --outcomes "$mx/$f" --output "$w/never.prime" --outcomes-output "$w/never.csv"
done
# the same data with a BOM, CRLF line ends and no final line end: the same result
{ printf '\xEF\xBB\xBF'; sed 's/$/\r/' tags.csv | head -c -2; } > "$mx/crlf_tags.csv"
{ printf '\xEF\xBB\xBF'; sed 's/$/\r/' outcomes.csv; } > "$mx/crlf_outcomes.csv"
expect 0 "search: BOM, CRLF, no final line end" -- "$prime" search --tags "$mx/crlf_tags.csv" --outcomes "$mx/crlf_outcomes.csv" "${args[@]}" --output "$tmp/crlf.json"
same "$tmp/crlf.json" expected.json "search: BOM, CRLF, no final line end"

# ---- 17. every command with an output x the classes of bad output ----
# (OUT in a command stands for the output; IN_TAGS for its tags input)
printf 'image,class,tags\nm1,c,a|b\n' > "$w/part3.csv"
out_cmds=(
  "search --tags IN_TAGS --outcomes outcomes.csv --min-size 2 --output OUT"
  "search --stream --tags IN_TAGS --outcomes outcomes.csv --min-size 2 --output OUT"
  "search --format csv --tags IN_TAGS --outcomes outcomes.csv --min-size 2 --output OUT"
  "eval --result expected.json --tags IN_TAGS --outcomes outcomes.csv --output OUT"
  "eval --format text --result expected.json --tags IN_TAGS --outcomes outcomes.csv --output OUT"
  "report --result expected.json --tags IN_TAGS --outcomes outcomes.csv --images ../data/report/img --per-mode 0 --output OUT"
  "convert --tags IN_TAGS --output OUT"
  "convert --tags IN_TAGS --outcomes outcomes.csv --output $tmp/ok.prime --outcomes-output OUT"
  "merge --output OUT IN_TAGS"
  "tag --images ../data/tag --backend properties --labels IN_TAGS --output OUT")
for c in "${out_cmds[@]}"; do
  name=${c%% --*}
  in_tags=tags.csv
  [ "$name" = tag ] && in_tags=../data/tag/labels.csv
  [ "$name" = convert ] || [ "$name" = merge ] && in_tags=tags_correct.csv
  run() { local cmd=${c//IN_TAGS/$2}; cmd=${cmd//OUT/$1}; read -ra a <<<"$cmd"; "$prime" "${a[@]}"; }
  case_ 1 "adir: is a directory; an output must be a file" "$name: output a directory" -- run "$w/adir" "$in_tags"
  case_ 1 "cannot write: No such file or directory (the folder $w/nowhere)" "$name: output in a missing folder" -- run "$w/nowhere/x" "$in_tags"
  case_ 1 "/dev/full: cannot write: No space left on device" "$name: output /dev/full" -- run /dev/full "$in_tags"
  cp "$in_tags" "$w/in_copy"
  case_ 1 "is also the input" "$name: output DIR/./x, input DIR/x" -- run "$w/./in_copy" "$w/in_copy"
  case_ 1 "is also the input" "$name: output DIR/adir/../x, input DIR/x" -- run "$w/adir/../in_copy" "$w/in_copy"
  rm -f "$w/in_copy"
done
# a read-only folder and a full file system: only as root, where tmpfs mounts
if [ "$(id -u)" = 0 ] && mkdir -p "$tmp/small" && mount -t tmpfs -o size=16k tmpfs "$tmp/small" 2>/dev/null; then
  for c in "${out_cmds[@]}"; do
    name=${c%% --*}
    in_tags=tags.csv
    [ "$name" = tag ] && in_tags=../data/tag/labels.csv
    [ "$name" = convert ] || [ "$name" = merge ] && in_tags=tags_correct.csv
    cmd=${c//IN_TAGS/$in_tags}
    cmd=${cmd//OUT/$tmp/small/old.out}
    rm -f "$tmp/small/old2.out"
    echo old > "$tmp/small/old.out"
    if [ "$name" = convert ]; then # a second output on the full file system too
      echo old > "$tmp/small/old2.out"
      if [ "${cmd#*--outcomes-output}" = "$cmd" ]; then cmd="$cmd --outcomes-output $tmp/small/old2.out"
      else cmd=${cmd/--output $tmp\/ok.prime/--output $tmp\/small\/old2.out}; fi
    fi
    cat /dev/zero > "$tmp/small/fill" 2>/dev/null
    read -ra a <<<"$cmd"
    expect 1 "$name: a full file system" -- "$prime" "${a[@]}"
    err_has "No space left on device" "$name: a full file system"
    rm -f "$tmp/small/fill"
    [ "$(cat "$tmp/small/old.out")" = old ] && ok || bad "$name: a full file system: the old output changed"
    [ ! -e "$tmp/small/old2.out" ] || [ "$(cat "$tmp/small/old2.out")" = old ] && ok || bad "$name: the other old output changed"
    no_temps "$tmp/small" "$name: a full file system"
    mount -o remount,ro "$tmp/small"
    expect 1 "$name: a read-only folder" -- "$prime" "${a[@]}"
    err_has "Read-only file system" "$name: a read-only folder"
    mount -o remount,rw "$tmp/small"
  done
  umount "$tmp/small"
else
  echo "note: not root or no tmpfs mount: the full and read-only file systems are not tried"
fi

echo "cli edges: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
