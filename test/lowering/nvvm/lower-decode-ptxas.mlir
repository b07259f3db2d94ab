// Decode and append kernels through MLIR's NVVM pipeline to PTX, assembled
// by ptxas for sm_90 and sm_80: no register spills, no stack, the intended
// instructions (16-byte global loads, butterfly shuffles, ex2/lg2.approx),
// no libdevice calls. Variants: f32 D 256 group 8 (two column slots per
// thread), bf16 paged group 7 D 96, f16 group 1 D 64 (key groups reduced
// through shared memory), f16 paged D 80, bf16 group 8 with two query rows
// (16 rows: 4-lane dot accumulators), soft-cap and window, the fused append
// (f16, Dv 64), a bare kv.append, an f16 cache under a bool mask.
// REQUIRES: ptxas, nvptx
// RUN: rm -rf %t && mkdir -p %t
// RUN: kvfuse-opt %s --kv-nvvm-lower-decode --kv-nvvm-lower-append --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90 cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=1" -o %t/sm90.mlir
// RUN: python3 %kvfuse_src/lowering/nvvm/kernels/extract_ptx.py %t/sm90.mlir %t/sm90.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t/sm90.ptx
// RUN: FileCheck %s --check-prefix=NOLIB < %t/sm90.ptx
// RUN: %ptxas -arch=sm_90 -v %t/sm90.ptx -o %t/sm90.cubin 2>&1 | FileCheck %s --check-prefixes=PTXAS,NOSPILL
// RUN: kvfuse-opt %s --kv-nvvm-lower-decode="target=sm_80,sms=108 stage-v=1" --kv-nvvm-lower-append --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_80 cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=1" -o %t/sm80.mlir
// RUN: python3 %kvfuse_src/lowering/nvvm/kernels/extract_ptx.py %t/sm80.mlir %t/sm80.ptx
// RUN: FileCheck %s --check-prefix=NOLIB < %t/sm80.ptx
// RUN: %ptxas -arch=sm_80 -v %t/sm80.ptx -o %t/sm80.cubin 2>&1 | FileCheck %s --check-prefixes=PTXAS80,NOSPILL

// PTX: .target sm_90
// PTX-DAG: .visible .entry decode_partial(
// PTX-DAG: .visible .entry decode_merge(
// PTX-DAG: .visible .entry kv_append(
// PTX-DAG: .shared .align 16
// PTX-DAG: ld.global.v4.{{[bfu]}}32
// PTX-DAG: shfl.sync.bfly.b32
// PTX-DAG: bar.sync
// PTX-DAG: ex2.approx.ftz.f32
// PTX-DAG: lg2.approx.ftz.f32
// PTX-DAG: cvt.rn.f16.f32
// NOLIB-NOT: __nv_

// 16 kernels: 7 partial + merge pairs, the fused op's append and one more
// append; nothing spills or needs a stack frame.
// NOSPILL-NOT: {{[1-9][0-9]*}} bytes {{stack frame|spill}}
// PTXAS-COUNT-16: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS80-COUNT-16: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

func.func @f32_g8_d256(%q: memref<2x8x1x256xf32>,
    %cache: !kv.cache<f32, heads = 1, head_dim = 256, capacity = 777>,
    %lens: memref<2xi32>, %o: memref<2x8x1x256xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<2x8x1x256xf32>,
      !kv.cache<f32, heads = 1, head_dim = 256, capacity = 777>,
      memref<2xi32> outs(%o : memref<2x8x1x256xf32>)
  return
}

func.func @bf16_g7_d96_paged(%q: memref<4x14x1x96xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 96, capacity = 1000, layout = #kv.paged<page_size = 8>>,
    %lens: memref<4xi32>, %o: memref<4x14x1x96xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<4x14x1x96xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 96, capacity = 1000, layout = #kv.paged<page_size = 8>>,
      memref<4xi32> outs(%o : memref<4x14x1x96xf32>)
  return
}

func.func @f16_g1_d64(%q: memref<1x12x1x64xf32>,
    %cache: !kv.cache<f16, heads = 12, head_dim = 64, capacity = 1024>,
    %lens: memref<1xi32>, %o: memref<1x12x1x64xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<1x12x1x64xf32>,
      !kv.cache<f16, heads = 12, head_dim = 64, capacity = 1024>,
      memref<1xi32> outs(%o : memref<1x12x1x64xf32>)
  return
}

func.func @f16_g4_d80_paged(%q: memref<4x8x1x80xf32>,
    %cache: !kv.cache<f16, heads = 2, head_dim = 80, capacity = 512, layout = #kv.paged<page_size = 16>>,
    %lens: memref<4xi32>, %o: memref<4x8x1x80xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<4x8x1x80xf32>,
      !kv.cache<f16, heads = 2, head_dim = 80, capacity = 512, layout = #kv.paged<page_size = 16>>,
      memref<4xi32> outs(%o : memref<4x8x1x80xf32>)
  return
}

func.func @bf16_sq2_softcap_window(%q: memref<2x16x2x128xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 128, capacity = 2048, layout = #kv.paged<page_size = 64>>,
    %lens: memref<2xi32>, %o: memref<2x16x2x128xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<2x16x2x128xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 128, capacity = 2048, layout = #kv.paged<page_size = 64>>,
      memref<2xi32> outs(%o : memref<2x16x2x128xf32>)
      {softcap = 50.0 : f32, causal, window_left = 255 : i64}
  return
}

func.func @append_attention_f16(%q: memref<2x16x1x128xf32>, %k: memref<2x4x1x128xf32>,
    %v: memref<2x4x1x64xf32>,
    %cache: !kv.cache<f16, heads = 4, head_dim = 128, value_dim = 64, capacity = 4096>,
    %past: memref<2xi32>, %o: memref<2x16x1x64xf32>) {
  kv.append_attention %q, %k, %v, %cache, %past : memref<2x16x1x128xf32>,
      memref<2x4x1x128xf32>, memref<2x4x1x64xf32>,
      !kv.cache<f16, heads = 4, head_dim = 128, value_dim = 64, capacity = 4096>,
      memref<2xi32> outs(%o : memref<2x16x1x64xf32>) {causal}
  return
}

func.func @append_bf16(%k: memref<4x2x5x80xf32>, %v: memref<4x2x5x80xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 80, capacity = 1000, layout = #kv.paged<page_size = 8>>,
    %lens: memref<4xi32>) {
  kv.append %k, %v, %cache, %lens : memref<4x2x5x80xf32>, memref<4x2x5x80xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 80, capacity = 1000, layout = #kv.paged<page_size = 8>>, memref<4xi32>
  return
}

func.func @f16_g4_bool_mask(%q: memref<2x8x1x128xf32>,
    %cache: !kv.cache<f16, heads = 2, head_dim = 128, capacity = 512>,
    %lens: memref<2xi32>, %m: memref<2x1x1x512xi1>, %o: memref<2x8x1x128xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<2x8x1x128xf32>,
      !kv.cache<f16, heads = 2, head_dim = 128, capacity = 512>,
      memref<2xi32> mask(%m : memref<2x1x1x512xi1>) outs(%o : memref<2x8x1x128xf32>)
  return
}
