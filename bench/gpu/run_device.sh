#!/usr/bin/env bash
# Everything the GPU machine does in one call: build the CUDA runtime and
# kvfuse-gpu-bench without MLIR, check numerics of every generated kernel
# against the float64 reference, time D1-D3, run the PyTorch peer, and print
# a compact table last. Kernels come pre-generated in .device/kernels
# (bench/gpu/gen_kernels.sh, run where MLIR is installed).
# Usage (repository root): bench/gpu/run_device.sh   (logs under $OUT)
set -uo pipefail
OUT=${OUT:-/tmp/kvfuse-gpu-out}
mkdir -p "$OUT"
K=${KERNELS:-.device/kernels}
B=/tmp/kvfuse-build-gpu
{ date -u; nvidia-smi; nvcc --version | tail -2; } >"$OUT/machine.txt" 2>&1
cmake -G Ninja -S . -B $B -DKVFUSE_BUILD_COMPILER=OFF -DCMAKE_BUILD_TYPE=Release >"$OUT/build.log" 2>&1 &&
  ninja -C $B kvfuse-gpu-bench >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
checks=$(ls $K/*.cfg | xargs -n1 basename | sed 's/\.cfg$//' | sort -V | tr '\n' ' ')
timeout 240 $B/bin/kvfuse-gpu-bench check $K $checks 2>&1 | tee "$OUT/numerics.log"
timeout 120 $B/bin/kvfuse-gpu-bench time $K D1_f16 D1_bf16 D1_f16_pg16 D2_f16 D2_bf16 D3_f16 D3_bf16 T_D1stage_f16 T_D2stage_f16 T_D1s16_f16 T_D1s32_f16 T_D2s128_f16 T_D1t256_f16 T_D1t64_f16 T_D1t64s16_f16 T_D2t256_f16 T_D2t64_f16 T_D3t64_f16 2>&1 | tee "$OUT/timings.log"
PYTHONUNBUFFERED=1 timeout 150 python3 bench/gpu/peer_sdpa.py 2>&1 | tee "$OUT/peer.log"
echo "===== summary ($(date -u +%F), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader))"
grep -c PASS "$OUT/numerics.log" | sed 's/^/numerics PASS: /'
grep -E "FAIL|ERROR" "$OUT/numerics.log" || echo "numerics FAIL/ERROR: none"
grep -E "^TIME|^PEER" "$OUT/timings.log" "$OUT/peer.log" | sed 's/^[^:]*://' |
  awk '{for(i=1;i<=NF;i++) if($i ~ /^(median_us|GB\/s|TFLOP\/s|median_s)/ || i<=3) printf "%s ", $i; print ""}'
