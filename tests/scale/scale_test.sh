#!/usr/bin/env bash
# Suite 'scale' (issue 15): tagging in shards and merging gives the store one
# process writes, byte for byte (cmp), for k = 1, 2, 3, 7 shards, through
# --shard, PRIME_SHARD, a Slurm array (SLURM_ARRAY_TASK_ID/COUNT/MIN) and a
# Kubernetes Indexed Job (JOB_COMPLETION_INDEX + PRIME_SHARD_COUNT) set by
# hand; empty shards, shards that add classes, concurrent shard writers,
# reruns; and the errors: missing shards, duplicate images, other tag
# tables, a folder of another run.
#   scale_test.sh PRIME_EXE
set -u
prime=${1:?usage: scale_test.sh PRIME_EXE}
here=$(cd "$(dirname "$0")" && pwd)
src=${PRIME_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
tmp=$(mktemp -d)
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# clean environment: no scheduler variables leak in
unset PRIME_SHARD SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN \
      JOB_COMPLETION_INDEX PRIME_SHARD_COUNT OMPI_COMM_WORLD_RANK OMPI_COMM_WORLD_SIZE \
      PMI_RANK PMI_SIZE

python3 "$here/make_images.py" "$tmp/g" 60 || { echo "cannot make the images"; exit 1; }
head -5 "$tmp/g/list.txt" > "$tmp/g/small.txt"   # 5 images: 7 shards leave 2 empty
tag() { "$prime" tag --images "$1" --labels "$tmp/g/labels.csv" --backend properties "${@:2}"; }

for list in list small; do
  tag "$tmp/g/$list.txt" --output "$tmp/one-$list.prime" || bad "one-process tag of $list"
  for k in 1 2 3 7; do
    for how in flag env slurm k8s; do
      dir="$tmp/$list-$k-$how.prmd"
      for ((i = 0; i < k; i++)); do
        case $how in
          flag) tag "$tmp/g/$list.txt" --shard "$i/$k" --output "$dir" ;;
          env) PRIME_SHARD="$i/$k" tag "$tmp/g/$list.txt" --output "$dir" ;;
          slurm) SLURM_ARRAY_TASK_ID=$((i + 1)) SLURM_ARRAY_TASK_MIN=1 \
                 SLURM_ARRAY_TASK_COUNT=$k tag "$tmp/g/$list.txt" --output "$dir" ;;
          k8s) JOB_COMPLETION_INDEX=$i PRIME_SHARD_COUNT=$k tag "$tmp/g/$list.txt" --output "$dir" ;;
        esac || bad "$list k=$k $how: shard $i failed"
      done
      "$prime" merge --output "$tmp/m.prime" "$dir" || bad "$list k=$k $how: merge failed"
      cmp -s "$tmp/m.prime" "$tmp/one-$list.prime" && ok || bad "$list k=$k $how: merged store differs"
      # the shard files given one by one, in order
      "$prime" merge --output "$tmp/f.prime" "$dir"/shard-*.prm &&
        cmp -s "$tmp/f.prime" "$tmp/one-$list.prime" && ok || bad "$list k=$k $how: merge of files"
      rm -f "$tmp/m.prime" "$tmp/f.prime"
    done
  done
done
grep -q '"complete": 7' "$tmp/small-7-flag.prmd/manifest.json" && ok || bad "manifest: 7 complete"
grep -c '"images": 0' "$tmp/small-7-flag.prmd/manifest.json" | grep -q '^2$' && ok ||
  bad "small list in 7 shards: 2 empty shards expected"

# every command that takes a store takes the folder: convert, info, search
d="$tmp/list-3-flag.prmd"
"$prime" convert --tags "$d" --output "$tmp/c.prime" && cmp -s "$tmp/c.prime" "$tmp/one-list.prime" &&
  ok || bad "convert of a sharded folder"
"$prime" info "$d" | grep -q "images: *60" && ok || bad "info of a sharded folder"
awk -F, 'NR > 1 {print $1 "," (NR % 3 ? 1 : 0)}' "$tmp/g/labels.csv" | sed '1i image,correct' > "$tmp/o.csv"
"$prime" search --tags "$d" --outcomes "$tmp/o.csv" --min-size 3 --output "$tmp/r1.json" &&
  "$prime" search --tags "$tmp/one-list.prime" --outcomes "$tmp/o.csv" --min-size 3 --output "$tmp/r2.json" &&
  cmp -s "$tmp/r1.json" "$tmp/r2.json" && ok || bad "search on a sharded folder"

# a relative minimum size: 10% of 60 images in whole-data-set mode is 6
"$prime" search --tags "$tmp/one-list.prime" --outcomes "$tmp/o.csv" --whole-dataset --min-size 10% \
  --min-drop 0.1 --output "$tmp/rel.json" &&
  "$prime" search --tags "$tmp/one-list.prime" --outcomes "$tmp/o.csv" --whole-dataset --min-size 6 \
  --min-drop 0.1 --output "$tmp/abs.json" &&
  grep -q '"min_size_share": 0.1,' "$tmp/rel.json" &&
  cmp -s <(sed 1d "$tmp/rel.json") <(sed 1d "$tmp/abs.json") && ok || bad "--min-size 10%"
"$prime" search --tags "$tmp/one-list.prime" --outcomes "$tmp/o.csv" --min-size 0% > "$tmp/out" 2>&1
[ $? -eq 2 ] && ok || bad "--min-size 0% is bad usage: $(cat "$tmp/out")"

# concurrent shard writers lose no manifest entry; a rerun replaces its file
d="$tmp/conc.prmd"
for ((i = 0; i < 7; i++)); do tag "$tmp/g/list.txt" --shard "$i/7" --output "$d" & done
wait
grep -q '"complete": 7' "$d/manifest.json" && ok || bad "concurrent writers: $(grep complete "$d/manifest.json")"
tag "$tmp/g/list.txt" --shard 3/7 --output "$d" && "$prime" merge --output "$tmp/m.prime" "$d" &&
  cmp -s "$tmp/m.prime" "$tmp/one-list.prime" && ok || bad "rerun of a shard"
[ -z "$(find "$d" -name '*.tmp*')" ] && ok || bad "temporary files left in $d"

# errors: clear message, exit 1, no output
expect_fail() { # what pattern -- command...
  local what=$1 pat=$2; shift 3
  rm -f "$tmp/never.prime"
  "$@" > "$tmp/out" 2>&1; local rc=$?
  if [ $rc -eq 1 ] && grep -q -- "$pat" "$tmp/out" && [ ! -e "$tmp/never.prime" ]; then ok
  else bad "$what: rc=$rc $(cat "$tmp/out")"; fi
}
d="$tmp/miss.prmd"
tag "$tmp/g/list.txt" --shard 0/3 --output "$d"; tag "$tmp/g/list.txt" --shard 2/3 --output "$d"
expect_fail "missing shard" "1 of 3 shards are missing or not complete (1)" -- "$prime" merge --output "$tmp/never.prime" "$d"
expect_fail "missing shard (search)" "missing" -- "$prime" info "$d"
expect_fail "another shard count" "another shard count" -- tag "$tmp/g/list.txt" --shard 1/4 --output "$d"
expect_fail "another list" "another image" -- tag "$tmp/g/small.txt" --shard 1/3 --output "$d"
expect_fail "duplicate images" "is in two parts" -- "$prime" merge --output "$tmp/never.prime" "$tmp/one-list.prime" "$tmp/one-small.prime"
"$prime" tag --images "$tmp/g/list.txt" --labels "$tmp/g/labels.csv" --backend properties --output "$tmp/t.csv"
"$prime" convert --tags "$tmp/t.csv" --output "$tmp/t.prime"
tag "$tmp/g/small.txt" --top-k 1 --output "$tmp/k1.prime"
expect_fail "other tag tables" "different tag tables" -- "$prime" merge --output "$tmp/never.prime" "$tmp/list-2-flag.prmd/shard-00001.prm" "$tmp/t.prime"
tag "$tmp/g/list.txt" --shard 3/3 --output "$tmp/x.prmd" > "$tmp/out" 2>&1 # bad usage: exit 2
[ $? -eq 2 ] && grep -q -- "--shard: shard 3 of 3 does not exist" "$tmp/out" && [ ! -e "$tmp/x.prmd" ] && ok ||
  bad "bad shard: $(cat "$tmp/out")"
for spec in a/b 0/0 -1/2 1/2/3; do
  tag "$tmp/g/list.txt" --shard "$spec" --output "$tmp/x.prmd" > "$tmp/out" 2>&1
  [ $? -eq 2 ] && grep -q -- "--shard: " "$tmp/out" && [ ! -e "$tmp/x.prmd" ] && ok || bad "--shard $spec: $(cat "$tmp/out")"
done
expect_fail "half a Slurm pair" "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not" -- env SLURM_ARRAY_TASK_ID=0 "$prime" tag --images "$tmp/g/list.txt" --labels "$tmp/g/labels.csv" --backend properties --output "$tmp/x.prmd"
expect_fail "no shard" "no shard given" -- tag "$tmp/g/list.txt" --output "$tmp/x.prmd"
"$prime" tag --images "$tmp/g/list.txt" --backend properties --shard 0/2 --output "$tmp/x.csv" > "$tmp/out" 2>&1
[ $? -eq 2 ] && ok || bad "--shard without a .prmd output is a usage error"
mkdir -p "$tmp/broken.prmd"
printf '{"format": "libprime-sharded-store", "version": 1, "shards": 2' > "$tmp/broken.prmd/manifest.json"
expect_fail "broken manifest" "manifest.json:1: expected ',' or '}'" -- "$prime" merge --output "$tmp/never.prime" "$tmp/broken.prmd"
mkdir -p "$tmp/plain"
expect_fail "a plain folder" "nor a sharded-store folder" -- "$prime" merge --output "$tmp/never.prime" "$tmp/plain"

# CSV parts: with --union-tags the merged store is the one of the whole CSV
head -31 "$tmp/t.csv" > "$tmp/p1.csv"; { head -1 "$tmp/t.csv"; tail -n +32 "$tmp/t.csv"; } > "$tmp/p2.csv"
"$prime" merge --union-tags --output "$tmp/u.prime" "$tmp/p1.csv" "$tmp/p2.csv" && cmp -s "$tmp/u.prime" "$tmp/t.prime" &&
  ok || bad "merge --union-tags of CSV parts"

# binary outcomes bound to the store: read by search and eval as the CSV is
"$prime" convert --tags "$tmp/one-list.prime" --output "$tmp/b.prime" --outcomes "$tmp/o.csv" \
  --outcomes-output "$tmp/o.pro" --outcomes-format bits && ok || bad "convert --outcomes-format bits"
[ "$(stat -c %s "$tmp/o.pro")" -eq $((48 + 8)) ] && ok || bad "60 bits outcomes: $(stat -c %s "$tmp/o.pro") bytes"
"$prime" search --tags "$tmp/list-3-flag.prmd" --outcomes "$tmp/o.pro" --min-size 3 --output "$tmp/r3.json" &&
  cmp -s "$tmp/r3.json" "$tmp/r2.json" && ok || bad "search with binary outcomes"
"$prime" eval --result "$tmp/r2.json" --tags "$tmp/one-list.prime" --outcomes "$tmp/o.pro" --output "$tmp/e1.json" &&
  "$prime" eval --result "$tmp/r2.json" --tags "$tmp/one-list.prime" --outcomes "$tmp/o.csv" --output "$tmp/e2.json" &&
  cmp -s "$tmp/e1.json" "$tmp/e2.json" && ok || bad "eval with binary outcomes"
for k in fixed f64 binary; do
  "$prime" convert --tags "$tmp/one-list.prime" --output "$tmp/b.prime" --outcomes "$tmp/o.csv" \
    --outcomes-output "$tmp/o-$k.pro" --outcomes-format $k &&
    "$prime" search --tags "$tmp/b.prime" --outcomes "$tmp/o-$k.pro" --min-size 3 --output "$tmp/r4.json" &&
    cmp -s "$tmp/r4.json" "$tmp/r2.json" && ok || bad "binary outcomes $k"
done
expect_fail "outcomes of another store" "written for another" -- "$prime" search --tags "$tmp/one-small.prime" --outcomes "$tmp/o.pro"
head -c 50 "$tmp/o.pro" > "$tmp/trunc.pro"
expect_fail "truncated binary outcomes" "truncated" -- "$prime" search --tags "$tmp/one-list.prime" --outcomes "$tmp/trunc.pro"

# the examples run with their scheduler's variables set by hand
if [ -x "$src/examples/scale/run_examples.sh" ]; then
  # the Python example also opens the folder with the package when it is found
  # (not a sanitizer build: its library cannot be loaded into python3)
  if [ -n "${PRIME_BUILD_ROOT:-}" ] && [ -e "$PRIME_BUILD_ROOT/lib/libprime.so" ] &&
     ! ldd "$PRIME_BUILD_ROOT/lib/libprime.so" | grep -qE 'lib[at]san'; then
    export PYTHONPATH="$src/python" PRIME_LIBRARY="$PRIME_BUILD_ROOT/lib/libprime.so"
  fi
  "$src/examples/scale/run_examples.sh" "$prime" "$tmp/g/list.txt" "$tmp/g/labels.csv" "$tmp/one-list.prime" "$tmp/ex" > "$tmp/out" 2>&1 &&
    ok || bad "examples/scale: $(cat "$tmp/out")"
  grep -q "60 images, 6 classes" "$tmp/out" || echo "note: the Python example ran without the package"
fi

echo "scale: $passes passed, $fails failed"
[ $fails -eq 0 ]
