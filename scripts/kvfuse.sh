#!/usr/bin/env bash
# kvfuse build driver: installs what is missing, configures, builds, and then
# runs the main job (`run`), every test (`test`) or the benchmarks (`bench`).
#
#   scripts/kvfuse.sh run [kvfuse-run options]
#   scripts/kvfuse.sh test
#   scripts/kvfuse.sh bench [options]
#   scripts/kvfuse.sh build
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${KVFUSE_BUILD_DIR:-$ROOT/build}"
LLVM=/usr/lib/llvm-22
PACKAGES=(cmake ninja-build g++ llvm-22-dev libmlir-22-dev mlir-22-tools
          clang-22 lld-22 libomp-22-dev libgtest-dev libopenblas-dev
          libonnx-dev libprotobuf-dev protobuf-compiler)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "kvfuse: installing ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

configure_and_build() {
  install_missing
  if [[ ! -f "$BUILD/build.ninja" ]]; then
    cmake -G Ninja -S "$ROOT" -B "$BUILD" \
      -DMLIR_DIR="$LLVM/lib/cmake/mlir" \
      -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_LINK_MLIR_DYLIB=ON
  fi
  ninja -C "$BUILD" -j2 "$@"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  build) configure_and_build ;;
  test)
    configure_and_build
    # lit runs the FileCheck suites, the execution tests and the unit tests.
    ninja -C "$BUILD" -j2 check-kvfuse ;;
  run)
    configure_and_build
    exec "$BUILD/bin/kvfuse-run" "$@" ;;
  bench)
    configure_and_build
    # OpenBLAS picks its kernels when it loads: ask for the AVX-512 ones.
    export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}"
    exec "$BUILD/bin/kvfuse-bench" "$@" ;;
  *)
    echo "usage: $0 {run|test|bench|build} [args]" >&2
    exit 2 ;;
esac
