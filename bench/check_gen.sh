#!/bin/sh
# Smoke checks of prime-gen (meson test 'prime-gen-check', suite 'bench'):
# determinism, every output format, the truth file, the bundled demo data set
# (regenerated with the command in data/demo/README.md and compared byte for
# byte), and, when python3 is there, that bench/baseline.py finds the planted
# failure modes.
#
#   check_gen.sh PRIME_GEN VOCAB SOURCE_ROOT
set -eu
gen=$1
vocab=$2
root=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/prime-gen-check.XXXXXX")
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

small="--classes 4 --images-per-class 300 --planted 4 --vocab $vocab"

# deterministic for a seed, different for another seed
"$gen" $small --seed 7 --output "$tmp/a.csv" --truth "$tmp/a.json"
"$gen" $small --seed 7 --output "$tmp/b.csv" --truth "$tmp/b.json"
"$gen" $small --seed 8 --output "$tmp/c.csv"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || fail "same seed, different CSV"
cmp -s "$tmp/a.json" "$tmp/b.json" || fail "same seed, different truth"
cmp -s "$tmp/a.csv" "$tmp/c.csv" && fail "different seeds, same CSV"

# CSV with a correct column: header and row count
[ "$(head -n 1 "$tmp/a.csv")" = "image,class,tags,correct" ] || fail "CSV header"
[ "$(wc -l < "$tmp/a.csv")" -eq 1201 ] || fail "CSV rows"
grep -q '"planted"' "$tmp/a.json" || fail "truth JSON"

# separate outcomes
"$gen" $small --seed 7 --output "$tmp/t.csv" --outcomes "$tmp/o.csv"
[ "$(head -n 1 "$tmp/t.csv")" = "image,class,tags" ] || fail "tags CSV header"
[ "$(head -n 1 "$tmp/o.csv")" = "image,correct" ] || fail "outcomes CSV header"
[ "$(wc -l < "$tmp/o.csv")" -eq 1201 ] || fail "outcomes rows"

# JSON Lines
"$gen" $small --seed 7 --format jsonl --output "$tmp/a.jsonl"
[ "$(wc -l < "$tmp/a.jsonl")" -eq 1200 ] || fail "JSONL rows"
head -c 10 "$tmp/a.jsonl" | grep -q '^{"image":' || fail "JSONL object"

# binary store + outcomes
"$gen" $small --seed 7 --format store --output "$tmp/a.store" --outcomes "$tmp/so.csv"
[ -s "$tmp/a.store" ] || fail "store file"
cmp -s "$tmp/o.csv" "$tmp/so.csv" || fail "store outcomes differ from CSV outcomes"

# bad usage exits 2
if "$gen" --format nope --vocab "$vocab" > /dev/null 2>&1; then fail "bad format accepted"; fi
set +e
"$gen" --classes x --vocab "$vocab" > /dev/null 2>&1
[ $? -eq 2 ] || fail "bad number: exit status is not 2"
set -e

# the bundled demo data set is reproducible (command of data/demo/README.md)
demo="$root/data/demo"
if [ -f "$demo/tags.csv" ]; then
    "$gen" --classes 6 --images-per-class 400 --planted 8 --seed 38 \
        --class-list fox,ape,parrot,crab,butterfly,wolf --vocab "$vocab" \
        --output "$tmp/tags.csv" --outcomes "$tmp/outcomes.csv" --truth "$tmp/truth.json"
    cmp -s "$tmp/tags.csv" "$demo/tags.csv" || fail "data/demo/tags.csv is not reproduced"
    cmp -s "$tmp/outcomes.csv" "$demo/outcomes.csv" || fail "data/demo/outcomes.csv is not reproduced"
    cmp -s "$tmp/truth.json" "$demo/truth.json" || fail "data/demo/truth.json is not reproduced"
fi

# the planted modes are found by the reference implementation
py=$(command -v python3 || true)
if [ -n "$py" ]; then
    "$py" "$root/bench/baseline.py" --tags "$tmp/a.csv" --check-truth "$tmp/a.json" > /dev/null
    if [ -f "$demo/tags.csv" ]; then
        "$py" "$root/bench/baseline.py" --tags "$demo/tags.csv" --outcomes "$demo/outcomes.csv" \
            --check-truth "$demo/truth.json" > /dev/null
    fi
else
    echo "python3 not found: baseline checks skipped"
fi
echo "prime-gen checks passed"
