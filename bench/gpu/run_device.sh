#!/usr/bin/env bash
# Everything the GPU machine does in one call (artifacts from
# bench/gpu/prepare_device.sh in .device/): builds the runtime and its
# drivers without MLIR, checks every attention case against the float64
# reference, runs the example models (prefill + decode, verified), times the
# design's workloads and the PyTorch SDPA peer with the machine's HBM and
# tensor-core ceilings, and prints a compact table last. Logs go to $OUT.
# Usage (repository root): bench/gpu/run_device.sh
set -uo pipefail
OUT=${OUT:-/tmp/kvfuse-gpu-out}
mkdir -p "$OUT"
D=.device
B=/tmp/kvfuse-build-gpu
chip=$(cat $D/chip)
{ date -u; nvidia-smi; } >"$OUT/machine.txt" 2>&1
cmake -G Ninja -S . -B $B -DKVFUSE_BUILD_COMPILER=OFF -DCMAKE_BUILD_TYPE=Release >"$OUT/build.log" 2>&1 &&
  ninja -C $B kvfuse-check-cases kvfuse-run >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
timeout 200 $B/bin/kvfuse-check-cases $D/cases/*.kvf 2>&1 | tee "$OUT/cases.log"
for w in $D/examples-*; do
  layout=${w##*-}
  extra=""
  [[ $w == *bf16* ]] && extra="--cache-type bf16"
  # shellcheck disable=SC2086
  timeout 120 $B/bin/kvfuse-run --prebuilt --work-dir "$w" --layout "$layout" $extra \
    --target "nvvm:$chip" 2>&1 | tee -a "$OUT/examples.log"
done
timeout 200 $B/bin/kvfuse-check-cases --time 50 $D/bench/*.kvf 2>&1 | tee "$OUT/bench.log"
PYTHONUNBUFFERED=1 timeout 150 python3 bench/gpu/peer_sdpa.py 2>&1 | tee "$OUT/peer.log"
echo "===== summary ($(date -u +%F), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader))"
echo "cases PASS: $(grep -c ' PASS' "$OUT/cases.log") FAIL: $(grep -c ' FAIL' "$OUT/cases.log")"
echo "examples PASS: $(grep -c ': PASS' "$OUT/examples.log") FAIL: $(grep -c ': FAIL' "$OUT/examples.log")"
grep -h "^TIME\|^PEER" "$OUT/bench.log" "$OUT/peer.log"
