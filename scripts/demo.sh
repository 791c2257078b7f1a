#!/usr/bin/env bash
# Set up and run the main job: PRIME's search on the bundled default data set
# (data/demo/, with a planted, documented ground truth; see data/demo/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -d build ] || meson setup build
meson compile -C build
mkdir -p out
build/tools/prime search --tags data/demo/tags.csv --outcomes data/demo/outcomes.csv \
  --output out/demo-failure-modes.json
build/tools/prime search --tags data/demo/tags.csv --outcomes data/demo/outcomes.csv --format text
echo "JSON written to out/demo-failure-modes.json"
