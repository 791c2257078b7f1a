#!/bin/sh
# The scaling benchmark of issue 14: libprime's search against an
# independent frequent-itemset miner (prime-eclat, bench/eclat.c) over the
# regimes of the issue, one thread, measured in the same run.
#
#   bench/scale.sh [BUILD_DIR] [--before LIBDIR] [--quick] [--many] [--imagenet]
#                  [--data DIR]
#
# BUILD_DIR (default ./build) holds prime-gen, prime-scale and prime-eclat.
# --before LIBDIR runs the same prime-scale against another libprime.so
# (LD_LIBRARY_PATH, e.g. a build of main) and checks that both results are
# identical, bit for bit (every mode, its order and its numbers: --dump). --quick: the two 5,200-image rows only. --many adds the
# 40-tags-an-image row (11 M modes: minutes and GBs before issue 14).
# --imagenet adds the whole-data-set search (PRIME_PARAM_WHOLE_DATASET, min_size
# 30) of the ImageNet-like store of prime-bench (1,000 classes x 1,280
# images, 1,000 planted, seed 1000): a minute of CPU or more.
# --data DIR keeps the generated stores there (default: a temporary folder).
#
# Each row: modes; libprime's CPU time of prime_search (user + system) and
# the process's peak resident size (VmHWM, the store included), and the same
# for prime_search_stream (modes counted, not kept); the
# same for prime-eclat counting the tag sets of 1..L tags with support >= s
# per class (support only: no accuracy, drop or necessity). Generated data
# (prime-gen): RAM vocabulary, Zipf tags, 2 classes, seed 1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$root/build
before=
quick=0
many=0
imagenet=0
data=
while [ $# -gt 0 ]; do
    case $1 in
        --before) before=$2; shift ;;
        --quick) quick=1 ;;
        --many) many=1 ;;
        --imagenet) imagenet=1 ;;
        --data) data=$2; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) build=$1 ;;
    esac
    shift
done
gen=$build/bench/prime-gen
scale=$build/bench/prime-scale
eclat=$build/bench/prime-eclat
for p in "$gen" "$scale" "$eclat"; do
    [ -x "$p" ] || { echo "scale.sh: build first (no $p)" >&2; exit 2; }
done
if [ -z "$data" ]; then
    data=$(mktemp -d "${TMPDIR:-/tmp}/prime-scale.XXXXXX")
    trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$data"' EXIT INT TERM
fi
mkdir -p "$data"
vocab=$root/data/ram/ram_tag_list.txt
head -30 "$vocab" > "$data/vocab30.txt"

# store NAME GEN-ARGS...: generate once
store() {
    name=$1; shift
    [ -f "$data/$name.store" ] || "$gen" --classes 2 --planted 4 --seed 1 --format store \
        --output "$data/$name.store" --outcomes "$data/$name.out.csv" "$@" >/dev/null
}
# imagenet_store NAME: the ImageNet-like store of prime-bench
imagenet_store() {
    [ -f "$data/$1.store" ] || "$gen" --classes 1000 --images-per-class 1280 --planted 1000 \
        --seed 1000 --format store --output "$data/$1.store" --outcomes "$data/$1.out.csv" >/dev/null
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

echo "| regime | modes | before: CPU s | before: peak MB | after: CPU s | after: peak MB | after, stream: CPU s | after, stream: peak MB | eclat sets | eclat: CPU s | eclat: peak MB | after / eclat | before / after |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
status=0
# row LABEL STORE SEARCH-ARGS...
row() {
    label=$1; name=$2; shift 2
    s="$data/$name.store"; o="$data/$name.out.csv"
    a=$("$scale" --store "$s" --outcomes "$o" --threads 1 --dump "$data/after.tsv" "$@")
    t=$("$scale" --store "$s" --outcomes "$o" --threads 1 --stream "$@")
    e=$("$eclat" --store "$s" "$@")
    modes=$(echo "$a" | field modes)
    a_cpu=$(echo "$a" | field search_cpu_s); a_mb=$(echo "$a" | field rss_peak_mb)
    e_n=$(echo "$e" | field itemsets); e_cpu=$(echo "$e" | field cpu_s)
    e_mb=$(echo "$e" | field rss_peak_mb)
    t_cpu=$(echo "$t" | field search_cpu_s); t_mb=$(echo "$t" | field rss_peak_mb)
    if [ "$(echo "$t" | field modes)" != "$modes" ]; then
        echo "scale.sh: $label: the stream handed over $(echo "$t" | field modes) modes, the result has $modes" >&2
        status=1
    fi
    b_cpu=-; b_mb=-; speedup=-
    if [ -n "$before" ]; then
        b=$(LD_LIBRARY_PATH=$before "$scale" --store "$s" --outcomes "$o" --threads 1 \
            --dump "$data/before.tsv" "$@")
        b_cpu=$(echo "$b" | field search_cpu_s); b_mb=$(echo "$b" | field rss_peak_mb)
        if ! cmp -s "$data/before.tsv" "$data/after.tsv"; then
            echo "scale.sh: $label: the results differ (before $(echo "$b" | field modes) modes, after $modes)" >&2
            status=1
        fi
        speedup=$(awk -v b="$b_cpu" -v a="$a_cpu" 'BEGIN { printf "%.1fx", (a > 0 ? b / a : 0) }')
    fi
    ratio=$(awk -v a="$a_cpu" -v e="$e_cpu" 'BEGIN { printf "%.2f", (e > 0 ? a / e : 0) }')
    echo "| $label | $modes | $b_cpu | $b_mb | $a_cpu | $a_mb | $t_cpu | $t_mb | $e_n | $e_cpu | $e_mb | $ratio | $speedup |"
}

store c5k --images-per-class 5200
row "5,200 a class, L 4, s 30 (defaults)" c5k
row "5,200 a class, L 6, s 5, min_drop 0.1" c5k --max-tags 6 --min-size 5 --min-drop 0.1
if [ $quick -eq 0 ]; then
    store c50k --images-per-class 50000
    row "50,000 a class, L 4, s 30 (defaults)" c50k
    row "50,000 a class, L 4, s 10, min_drop 0.1" c50k --max-tags 4 --min-size 10 --min-drop 0.1
    store c200k --images-per-class 200000
    row "200,000 a class, L 4, s 30 (defaults)" c200k
    store dense --images-per-class 5200 --vocab "$data/vocab30.txt" --class-names numbered \
        --pool-min 30 --pool-max 30 --min-tags 10 --max-tags 20
    row "30 dense tags, 5,200 a class, L 6, s 10, min_drop 0.1" dense --max-tags 6 --min-size 10 --min-drop 0.1
fi
if [ $many -eq 1 ]; then
    store c5k40 --images-per-class 5200 --min-tags 40 --max-tags 40
    row "5,200 a class, 40 tags an image, L 5, s 10, min_drop 0.1" c5k40 --max-tags 5 --min-size 10 --min-drop 0.1
fi
if [ $imagenet -eq 1 ]; then
    imagenet_store inet
    row "ImageNet-like, whole data set (1.28 M images), L 4, s 30" inet --whole
fi
exit $status
