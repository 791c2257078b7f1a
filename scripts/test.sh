#!/usr/bin/env bash
# Set up and run every test suite from a clean tree: installs the Debian
# packages, builds in build/, and runs all suites verbosely (Criterion's
# Synthesis lines are printed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -d build ] || meson setup build
meson compile -C build
meson test -C build -v --print-errorlogs
