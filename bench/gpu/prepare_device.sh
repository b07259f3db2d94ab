#!/usr/bin/env bash
# Everything a GPU machine needs that only this machine (with MLIR) can make,
# written to .device/ (git-ignored; carried to the device with the call):
#   .device/cases/    the attention check cases compiled for the GPU
#   .device/bench/    the design's workloads P1-P3, D1-D4 in f16/bf16
#   .device/examples-*/  the example models (kvfuse-run --compile-only)
# Usage (repository root, after building): bench/gpu/prepare_device.sh [CHIP]
set -euo pipefail
chip=${1:-sm_90}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${KVFUSE_BIN:-$root/build/bin}
out=$root/.device
rm -rf "$out" && mkdir -p "$out"
export KVFUSE_COMPILE=$bin/kvfuse-compile
"$root/test/integration/compile_cases.sh" "$out/cases" "nvvm:$chip" check >/dev/null
"$root/test/integration/compile_cases.sh" "$out/bench" "nvvm:$chip" bench >/dev/null
for layout in contiguous paged; do
  mkdir -p "$out/examples-$layout"
  "$bin/kvfuse-run" --target "nvvm:$chip" --compile-only --layout $layout \
    --work-dir "$out/examples-$layout" >/dev/null
  mkdir -p "$out/examples-bf16-$layout"
  "$bin/kvfuse-run" --target "nvvm:$chip" --compile-only --layout $layout \
    --cache-type bf16 --work-dir "$out/examples-bf16-$layout" >/dev/null
done
echo "$chip" >"$out/chip"
du -sh "$out"
