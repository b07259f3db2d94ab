#!/usr/bin/env bash
# Generates the GPU decode kernels used by kvfuse-gpu-bench: gpu-dialect MLIR
# from lowering/nvvm/kernels/gen_flash_decode.py, PTX through MLIR's NVVM
# pipeline (gpu-module-to-binary format=isa), then assembles each PTX with
# ptxas -v and fails on any register spill. Runs where MLIR 22 is installed;
# the output folder is carried to the GPU machine.
# Usage: bench/gpu/gen_kernels.sh OUTDIR [CHIP]
set -euo pipefail
out=${1:?usage: gen_kernels.sh OUTDIR [CHIP]}
chip=${2:-sm_90}
root=$(cd "$(dirname "$0")/../.." && pwd)
mlir_opt=${MLIR_OPT:-/usr/lib/llvm-22/bin/mlir-opt}
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
gen_decode="python3 $root/lowering/nvvm/kernels/gen_flash_decode.py"
gen_append="python3 $root/lowering/nvvm/kernels/gen_kv_append.py"
mkdir -p "$out"
# name | generator options (names starting with a_ are kv.append kernels)
configs=(
  "a_f16_pg_s1   --batch 4 --kv-heads 2 --head-dim 128 --capacity 512 --page-size 16 --step-tokens 1 --dtype f16"
  "a_bf16_pg_s5  --batch 4 --kv-heads 2 --head-dim 80 --capacity 1000 --page-size 8 --step-tokens 5 --dtype bf16"
  "a_f32_s3      --batch 4 --kv-heads 1 --head-dim 256 --capacity 777 --step-tokens 3 --dtype f32"
  "a_f16_d96_s7  --batch 3 --kv-heads 3 --head-dim 96 --capacity 64 --page-size 4 --step-tokens 7 --dtype f16"
  "n1_f32_g1_d64      --batch 4 --q-heads 4 --kv-heads 4 --head-dim 64 --capacity 300 --dtype f32"
  "n2_f16_g4_d80_pg   --batch 4 --q-heads 8 --kv-heads 2 --head-dim 80 --capacity 512 --page-size 16 --dtype f16"
  "n3_bf16_g7_d96_pg  --batch 4 --q-heads 14 --kv-heads 2 --head-dim 96 --capacity 1000 --page-size 8 --dtype bf16"
  "n4_f16_g8_d128     --batch 4 --q-heads 16 --kv-heads 2 --head-dim 128 --capacity 4096 --dtype f16"
  "n5_bf16_g8_d256_pg --batch 2 --q-heads 8 --kv-heads 1 --head-dim 256 --capacity 2048 --page-size 64 --dtype bf16"
  "n6_f32_g8_d256     --batch 2 --q-heads 8 --kv-heads 1 --head-dim 256 --capacity 777 --dtype f32"
  "n7_f16_g1_d128_c1  --batch 1 --q-heads 2 --kv-heads 2 --head-dim 128 --capacity 1 --dtype f16"
  "n8_f32_g4_d128_pg  --batch 4 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 1024 --page-size 16 --dtype f32"
  "n9_bf16_g1_d64     --batch 4 --q-heads 12 --kv-heads 12 --head-dim 64 --capacity 1024 --dtype bf16"
  "n10_f16_g8_d64_pg  --batch 3 --q-heads 8 --kv-heads 1 --head-dim 64 --capacity 4000 --page-size 32 --dtype f16"
  "D1_f16  --batch 8 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 4096 --dtype f16"
  "D1_bf16 --batch 8 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 4096 --dtype bf16"
  "D2_f16  --batch 1 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 32768 --dtype f16"
  "D2_bf16 --batch 1 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 32768 --dtype bf16"
  "D3_f16  --batch 1 --q-heads 12 --kv-heads 12 --head-dim 64 --capacity 1024 --dtype f16"
  "D3_bf16 --batch 1 --q-heads 12 --kv-heads 12 --head-dim 64 --capacity 1024 --dtype bf16"
  "D1_f16_pg16 --batch 8 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 4096 --page-size 16 --dtype f16"
  "T_D1s16_f16  --batch 8 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 4096 --dtype f16 --splits 16"
  "T_D1s32_f16  --batch 8 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 4096 --dtype f16 --splits 32"
  "T_D2s128_f16 --batch 1 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 32768 --dtype f16 --splits 128"
  "T_D1stage_f16 --batch 8 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 4096 --dtype f16 --stage-v 1"
  "T_D2stage_f16 --batch 1 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 32768 --dtype f16 --stage-v 1"
  "n11_stage_f16_g4_d80_pg --batch 4 --q-heads 8 --kv-heads 2 --head-dim 80 --capacity 512 --page-size 16 --dtype f16 --stage-v 1"
  "n12_stage_f32_g1_d64 --batch 4 --q-heads 4 --kv-heads 4 --head-dim 64 --capacity 300 --dtype f32 --stage-v 1"
  "T_D1t256_f16 --batch 8 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 4096 --dtype f16 --threads 256"
  "T_D1t64_f16  --batch 8 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 4096 --dtype f16 --threads 64"
  "T_D1t64s16_f16 --batch 8 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 4096 --dtype f16 --threads 64 --splits 16"
  "T_D2t256_f16 --batch 1 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 32768 --dtype f16 --threads 256"
  "T_D2t64_f16  --batch 1 --q-heads 32 --kv-heads 8 --head-dim 128 --capacity 32768 --dtype f16 --threads 64"
  "T_D3t64_f16  --batch 1 --q-heads 12 --kv-heads 12 --head-dim 64 --capacity 1024 --dtype f16 --threads 64 --splits 16"
)
for c in "${configs[@]}"; do
  read -r name opts <<<"$c"
  # shellcheck disable=SC2086
  gen=$gen_decode
  [[ $name == a_* ]] && gen=$gen_append
  $gen --out "$out" --name "$name" $opts
  "$mlir_opt" "$out/$name.mlir" --gpu-lower-to-nvvm-pipeline="cubin-chip=$chip cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=1" -o "$out/$name.bin.mlir"
  python3 "$root/lowering/nvvm/kernels/extract_ptx.py" "$out/$name.bin.mlir" "$out/$name.ptx"
  rm -f "$out/$name.bin.mlir"
  "$ptxas" -arch="$chip" -v "$out/$name.ptx" -o /dev/null 2>"$out/$name.ptxas.txt"
  if grep -q "[1-9][0-9]* bytes spill" "$out/$name.ptxas.txt"; then
    echo "register spill in $name" >&2; cat "$out/$name.ptxas.txt" >&2; exit 1
  fi
  regs=$(grep -o "Used [0-9]* registers" "$out/$name.ptxas.txt" | tr '\n' ' ')
  echo "$name: $regs"
done
