#!/usr/bin/env bash
# Install the Debian 12 packages libprime needs to build and test (only those
# that are missing). Run as root (or with sudo available).
set -euo pipefail
pkgs=(meson ninja-build gcc pkg-config libcriterion-dev libstb-dev zlib1g-dev python3 valgrind
      abigail-tools clang libclang-rt-14-dev binutils
      python3-pytest python3-numpy doxygen groff-base)  # python + docs suites (issue 5)
pkgs+=(python3-pil)  # scripts/make_image_reference.py (Pillow reference of tests/test_image.c)
pkgs+=(libturbojpeg0-dev libspng-dev libdeflate-dev)  # issue 17: the optional JPEG (TurboJPEG) and PNG decoders (meson options turbojpeg, spng, libdeflate)
pkgs+=(libjpeg62-turbo-dev)  # issue 17: libjpeg-turbo's libjpeg API, for the DC-only JPEG draft of progressive files (lib/image/decode_jpeg.c; found with turbojpeg)
pkgs+=(python3-skimage lomiri-wallpapers-20.04 mate-backgrounds)  # bench/image_real: real photos (skimage data, wallpapers) for the decoding benchmark
pkgs+=(libtorch-dev python3-torch)  # shim/ (libprime-torch), its tests and the C++ example
pkgs+=(cmake)  # tests/install/install_test.sh builds a consumer with find_package(prime)
pkgs+=(python3-torchvision)  # scripts/make_torch_models.py, bench/torch/make_bench.py (ResNet-18)
# An optimised BLAS for libtorch: Debian's libtorch calls BLAS through the
# libblas.so.3 alternative, the slow reference BLAS (libblas3) unless another
# provides it; libopenblas0 (-> libopenblas0-pthread) registers OpenBLAS there
# at a higher priority. Check: update-alternatives --display
# libblas.so.3-x86_64-linux-gnu (docs/backends.md, section 6).
pkgs+=(libopenblas0)
pkgs+=(chromium)  # tests/report/report_test.sh opens the HTML report in headless Chromium
pkgs+=(python3-regex python3-wcwidth)  # scripts/gen_tokenizer_tables.py; the reference run of scripts/make_clip_clean_reference.py (with ftfy)
pkgs+=(python3-pandas python3-mypy python3-mesonpy python3-pip)  # issue 13: DataFrame tests, mypy --strict test, pip install of python/
pkgs+=(python3-dev)  # issue 13: Python.h for the compiled packer libprime._pack (python/libprime/_pack.c)
pkgs+=(libopenmpi-dev openmpi-bin)  # issue 16: libprime-mpi, prime-mpi and the mpi suite (mpirun)
pkgs+=(libmpich-dev mpich)  # issue 16: the MPICH test build (-Dmpi_pkg=mpich, docs/scale.md); Open MPI stays the default (alternatives priority 50 > 40)
pkgs+=(patchelf)  # pip install . (the repository root): meson-python sets the RPATH of the bundled library
pkgs+=(nodejs python3-skimage)  # examples/real-model (issue 17): TF.js reference on node; the sample photos of skimage/data
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# examples/real-model's npm packages (nsfwjs, @tensorflow/tfjs: exact
# versions in its package.json) from the npm registry into
# examples/real-model/node_modules (git-ignored). Without the registry the
# example's test skips (exit 77) and says why.
here=$(cd "$(dirname "$0")/.." && pwd)
# npm: bundled with some nodejs builds; else Debian's package (not in pkgs:
# it conflicts with a nodejs that bundles it)
if ! command -v npm >/dev/null 2>&1; then
  ${SUDO:-} apt-get install -y -qq --no-install-recommends npm >/dev/null 2>&1 ||
    echo "deps.sh: npm is not available; examples/real-model's test will be skipped" >&2
fi
if command -v npm >/dev/null 2>&1 && [ ! -d "$here/examples/real-model/node_modules/nsfwjs" ]; then
  npm install --prefix "$here/examples/real-model" --no-audit --no-fund --loglevel=error ||
    echo "deps.sh: npm install for examples/real-model failed; its test will be skipped" >&2
fi
