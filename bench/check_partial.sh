#!/bin/sh
# Smoke check of prime-partial (meson test 'prime-partial-check', suite
# 'bench'): on a generated store of 12 classes, the classes split into 1, 2,
# 3 and 7 parts by estimated cost, searched, moved through their binary form
# and merged render exactly as one prime_search (prime-partial exits 1 and
# prints identical=0 otherwise).
#
#   check_partial.sh PRIME_GEN PRIME_PARTIAL VOCAB
set -eu
gen=$1
partial=$2
vocab=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/prime-partial-check.XXXXXX")
trap 'read -r me _ </proc/self/stat; [ "$me" != $$ ] || rm -rf "$tmp"' EXIT INT TERM
"$gen" --classes 12 --images-per-class 400 --planted 12 --seed 16 --vocab "$vocab" \
    --format store --output "$tmp/s.store" --outcomes "$tmp/o.csv" >/dev/null
for parts in 1 2 3 7; do
    for threads in 1 3; do
        line=$("$partial" --store "$tmp/s.store" --outcomes "$tmp/o.csv" --parts $parts \
            --threads $threads --min-size 10 --min-drop 0.2)
        echo "$line"
        case "$line" in
        *identical=1*) ;;
        *) echo "FAIL: $parts parts, $threads threads: not identical" >&2; exit 1 ;;
        esac
        case "$line" in
        *" modes=0 "*) echo "FAIL: the store must give failure modes" >&2; exit 1 ;;
        esac
    done
done
