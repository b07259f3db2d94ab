#!/usr/bin/env bash
# Generates the GPU decode and append kernels used by kvfuse-gpu-bench from kv
# IR through the compiler: each variant is a small memref-form function
# (kv.cache_attention with Sq = 1, or kv.append) lowered by
# kv-nvvm-lower-decode / kv-nvvm-lower-append into the gpu dialect, then to
# PTX by MLIR's NVVM pipeline (gpu-module-to-binary format=isa); each PTX is
# assembled with ptxas -v and any register spill fails the script. Runs where
# the compiler is built; the output folder is carried to the GPU machine.
# Writes per variant: NAME.kv.mlir (input), NAME.ptx, NAME.ptxas.txt and
# NAME.cfg (the kernel description kvfuse-gpu-bench reads: problem fields,
# then the launches in order with their grid, block and argument names, as
# the passes produced them), and prints one line per variant.
# Usage: bench/gpu/gen_kernels.sh OUTDIR [CHIP [NAME...]]  (NAMEs: only those)
set -euo pipefail
out=${1:?usage: gen_kernels.sh OUTDIR [CHIP [NAME...]]}
chip=${2:-sm_90}
only=("${@:3}")
root=$(cd "$(dirname "$0")/../.." && pwd)
kvfuse_opt=${KVFUSE_OPT:-$root/build/bin/kvfuse-opt}
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
mkdir -p "$out"
# name | problem options (names starting with a_ are kv.append kernels);
# --splits, --threads and --stage-v are kv-nvvm-lower-decode options.
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

# Argument names of each kernel's operands, in the order the passes emit them.
arg_names() {
  case $1 in
  decode_partial*) [[ $2 == 7 ]] && echo q,k_pool,v_pool,page_table,kv_lens,o_part,lse_part ||
    echo q,k_pool,v_pool,page_table,kv_lens,out ;;
  decode_merge*) echo o_part,lse_part,out ;;
  kv_append*) echo k_new,v_new,k_pool,v_pool,page_table,past_lens ;;
  esac
}

for c in "${configs[@]}"; do
  read -r name opts <<<"$c"
  if ((${#only[@]})) && [[ " ${only[*]} " != *" $name "* ]]; then continue; fi
  B=1 HQ=0 HKV=0 D=0 C=0 PS=0 ST=1 DT=f16 pass_opts=()
  set -- $opts
  while (($#)); do
    case $1 in
    --batch) B=$2 ;; --q-heads) HQ=$2 ;; --kv-heads) HKV=$2 ;;
    --head-dim) D=$2 ;; --capacity) C=$2 ;; --page-size) PS=$2 ;;
    --step-tokens) ST=$2 ;; --dtype) DT=$2 ;;
    --splits) pass_opts+=("splits=$2") ;; --threads) pass_opts+=("threads=$2") ;;
    --stage-v) pass_opts+=("stage-v=$2") ;;
    *) echo "unknown option $1 in $name" >&2; exit 1 ;;
    esac
    shift 2
  done
  layout=""
  if ((PS)); then layout=", layout = #kv.paged<page_size = $PS>"; else PS=$C; fi
  PPS=$(((C + PS - 1) / PS))
  cache="!kv.cache<$DT, heads = $HKV, head_dim = $D, capacity = $C$layout>"
  if [[ $name == a_* ]]; then
    rows="memref<${B}x${HKV}x${ST}x${D}xf32>"
    cat >"$out/$name.kv.mlir" <<EOF
func.func @$name(%k: $rows, %v: $rows, %cache: $cache, %lens: memref<${B}xi32>) {
  kv.append %k, %v, %cache, %lens : $rows, $rows, $cache, memref<${B}xi32>
  return
}
EOF
    passes="--kv-nvvm-lower-append=target=$chip"
  else
    qt="memref<${B}x${HQ}x1x${D}xf32>"
    cat >"$out/$name.kv.mlir" <<EOF
func.func @$name(%q: $qt, %cache: $cache, %lens: memref<${B}xi32>, %o: $qt) {
  kv.cache_attention %q, %cache, %lens : $qt, $cache, memref<${B}xi32> outs(%o : $qt)
  return
}
EOF
    passes="--kv-nvvm-lower-decode=target=$chip ${pass_opts[*]}"
  fi
  "$kvfuse_opt" "$out/$name.kv.mlir" "$passes" -o "$out/$name.gpu.mlir"
  "$kvfuse_opt" "$out/$name.gpu.mlir" --gpu-lower-to-nvvm-pipeline="cubin-chip=$chip cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=1" -o "$out/$name.bin.mlir"
  python3 "$root/lowering/nvvm/kernels/extract_ptx.py" "$out/$name.bin.mlir" "$out/$name.ptx"
  rm -f "$out/$name.bin.mlir"
  "$ptxas" -arch="$chip" -v "$out/$name.ptx" -o /dev/null 2>"$out/$name.ptxas.txt"
  if grep -q "[1-9][0-9]* bytes spill" "$out/$name.ptxas.txt"; then
    echo "register spill in $name" >&2; cat "$out/$name.ptxas.txt" >&2; exit 1
  fi
  # Launches in program order: symbol, grid, block (index constants print
  # as %c<value>[_<n>]) and the number of operands.
  launches=$(grep -o 'gpu.launch_func *@kvfuse_kernels::@[a-z_0-9]* blocks in ([^)]*) threads in ([^)]*) *args([^)]*)' "$out/$name.gpu.mlir" |
    sed -E 's/gpu.launch_func *@kvfuse_kernels::@([a-z_0-9]*) blocks in \(%c([0-9]+)[_0-9]*, %c([0-9]+)[_0-9]*, %c([0-9]+)[_0-9]*\) threads in \(%c([0-9]+)[_0-9]*, %c([0-9]+)[_0-9]*, %c([0-9]+)[_0-9]*\) *args\((.*)\)/\1 \2x\3x\4 \5x\6x\7 \8/' |
    awk '{ n = gsub(/ : /, "&"); print $1, $2, $3, n }')
  splits=1
  {
    if [[ $name == a_* ]]; then
      echo "kernel append name=$name dtype=$DT batch=$B kv_heads=$HKV head_dim=$D capacity=$C page_size=$PS pages_per_seq=$PPS num_pages=$((B * PPS)) step_tokens=$ST"
    else
      splits=$(echo "$launches" | awk '$1 ~ /^decode_partial/ { split($2, g, "x"); print g[1] }')
      echo "kernel decode name=$name dtype=$DT batch=$B q_heads=$HQ kv_heads=$HKV head_dim=$D capacity=$C page_size=$PS pages_per_seq=$PPS num_pages=$((B * PPS)) splits=$splits"
    fi
    i=0
    while read -r sym grid block nargs; do
      echo "launch $i symbol=$sym grid=$grid block=$block smem=0 args=$(arg_names "$sym" "$nargs")"
      i=$((i + 1))
    done <<<"$launches"
    echo end
  } >"$out/$name.cfg"
  regs=$(grep -o "Used [0-9]* registers" "$out/$name.ptxas.txt" | tr '\n' ' ')
  echo "$name: $(echo "$launches" | awk '{ printf "%s%s grid=%s block=%s", (NR > 1 ? " -> " : ""), $1, $2, $3 }') | $regs"
done
