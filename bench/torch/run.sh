#!/usr/bin/env bash
# libprime-torch benchmark (not a test): C pipeline vs PIL + torchvision on
# the same ResNet-18 and 300 500x375 JPEGs, batch 32. See README.md.
#   bash bench/torch/run.sh [BUILD_DIR=build] [WORK_DIR=/tmp/prime-torch-bench] [THREADS=2]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
work=${2:-/tmp/prime-torch-bench}
threads=${3:-2}
[ -f "$build/shim/libprime-torch.so" ] || { echo "no $build/shim/libprime-torch.so (libtorch not found?)"; exit 1; }
[ -f "$work/resnet18.pt" ] || /usr/bin/python3 "$src/bench/torch/make_bench.py" make "$work" 300
c++ -std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=1 -I"$src/include" \
  -isystem /usr/include/torch/csrc/api/include "$src/bench/torch/bench_torch.cpp" \
  -o "$work/bench_torch" -L"$build/shim" -L"$build/lib" -lprime-torch -lprime \
  -ltorch -ltorch_cpu -lc10 -pthread
export LD_LIBRARY_PATH=$build/shim:$build/lib
"$work/bench_torch" "$work" "$threads" 32
/usr/bin/python3 "$src/bench/torch/make_bench.py" python "$work" "$threads" 32
