#!/bin/sh
# Compare libprime with the plain-Python reference search (bench/baseline.py)
# on the Living17-like data set of prime-bench (17 classes x 5,200 images,
# seed 17, default search): same failure modes? how much faster?
#
#   bench/run.sh [BUILD_DIR] [--quick]
#
# BUILD_DIR defaults to ./build. --quick uses 17 x 1,000 images. Needs
# python3 (standard library only). The C side is timed with
# `prime-bench --search` (median of 5 searches, one thread, CSV reading
# excluded); the Python side reports its own search time (CSV reading
# excluded). When BUILD_DIR/tools/prime exists, the CLI's mode count is
# checked too.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$root/build
ipc=5200
for a in "$@"; do
    case $a in
        --quick) ipc=1000 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) build=$a ;;
    esac
done
gen=$build/bench/prime-gen
bench=$build/bench/prime-bench
[ -x "$gen" ] && [ -x "$bench" ] || { echo "run.sh: build first (no $gen)" >&2; exit 2; }
py=$(command -v python3 || true)
[ -n "$py" ] || { echo "run.sh: python3 not found" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/prime-run.XXXXXX")
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT INT TERM

classes=salamander,turtle,lizard,snake,spider,grouse,parrot,crab,dog,wolf,fox,domestic\ cat,bear,beetle,butterfly,ape,monkey
"$gen" --classes 17 --images-per-class "$ipc" --planted 34 --seed 17 --class-list "$classes" \
    --vocab "$root/data/ram/ram_tag_list.txt" \
    --output "$tmp/living17.csv" --truth "$tmp/truth.json"
echo "data: 17 x $ipc images, $(wc -c < "$tmp/living17.csv") bytes of CSV"

"$bench" --search "$tmp/living17.csv" --threads 1 --reps 5 > "$tmp/c.tsv" 2> "$tmp/c.log"
cat "$tmp/c.log"
"$py" "$here/baseline.py" --tags "$tmp/living17.csv" --print --check-truth "$tmp/truth.json" \
    > "$tmp/py.tsv" 2> "$tmp/py.log" || { cat "$tmp/py.log"; exit 1; }
cat "$tmp/py.log"

status=0
if cmp -s "$tmp/c.tsv" "$tmp/py.tsv"; then
    echo "outputs: identical ($(wc -l < "$tmp/c.tsv") failure modes, same order)"
elif [ "$(sort "$tmp/c.tsv")" = "$(sort "$tmp/py.tsv")" ]; then
    echo "outputs: same failure modes, different order"
    status=1
else
    echo "outputs: DIFFER"
    diff "$tmp/c.tsv" "$tmp/py.tsv" | head -20
    status=1
fi

c_ms=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$tmp/c.log")
py_s=$(sed -n 's/.* search \([0-9.]*\) s$/\1/p' "$tmp/py.log")
"$py" -c "import sys; c=float(sys.argv[1]); p=float(sys.argv[2])*1e3; \
print('search time: C %.2f ms (1 thread), Python %.1f ms: Python/C = %.0fx' % (c, p, p / c))" \
    "$c_ms" "$py_s"

if [ -x "$build/tools/prime" ]; then
    if "$build/tools/prime" search --tags "$tmp/living17.csv" --format json \
        --output "$tmp/cli.json" 2> "$tmp/cli.log"; then
        n=$("$py" -c "import json,sys; print(len(json.load(open(sys.argv[1]))['failure_modes']))" \
            "$tmp/cli.json")
        if [ "$n" -eq "$(wc -l < "$tmp/c.tsv")" ]; then
            echo "prime search (CLI): $n failure modes, as above"
        else
            echo "prime search (CLI): $n failure modes, DIFFERENT count"
            status=1
        fi
    else
        echo "prime search (CLI) failed:"; cat "$tmp/cli.log"
        status=1
    fi
fi
exit $status
