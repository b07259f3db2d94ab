// Prefill attention on tensors through kv-nvvm-pipeline: one prefill
// kernel launched on the entry's arguments (grid ceil(G * Sq / 64) x Hkv x
// B, 128 threads), tensor-core PTX for f16.
// REQUIRES: nvptx
// RUN: rm -rf %t.kvf
// RUN: kvfuse-compile %s --target=nvvm:sm_90 --ptxas=none -o %t.kvf
// RUN: FileCheck %s --input-file=%t.kvf/manifest.txt
// RUN: FileCheck %s --input-file=%t.kvf/model.ptx --check-prefix=PTX

// CHECK:      entry attend args=5 step_tokens=0
// CHECK-NEXT: arg 0 name=q kind=tensor dtype=f16 shape=2x8x100x128 role=input
// CHECK-NEXT: arg 1 name=k kind=tensor dtype=f16 shape=2x2x100x128 role=input
// CHECK-NEXT: arg 2 name=v kind=tensor dtype=f16 shape=2x2x100x128 role=input
// CHECK-NEXT: arg 3 name=kv_lens kind=tensor dtype=i32 shape=2 role=input
// CHECK-NEXT: arg 4 name=out0 kind=tensor dtype=f32 shape=2x8x100x128 role=output
// CHECK-NEXT: launch kernel=prefill_attention grid=7x2x2 block=128x1x1 smem=0 args=a0,a1,a2,a3,a4
// CHECK-NEXT: end

// PTX: .visible .entry prefill_attention(
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
func.func @attend(%q: tensor<2x8x100x128xf16> {kv.name = "q"}, %k: tensor<2x2x100x128xf16> {kv.name = "k"},
                  %v: tensor<2x2x100x128xf16> {kv.name = "v"}, %lens: tensor<2xi32> {kv.name = "kv_lens"}) -> tensor<2x8x100x128xf32> {
  %init = tensor.empty() : tensor<2x8x100x128xf32>
  %o = kv.attention %q, %k, %v : tensor<2x8x100x128xf16>, tensor<2x2x100x128xf16>, tensor<2x2x100x128xf16>
         kv_lens(%lens : tensor<2xi32>) outs(%init : tensor<2x8x100x128xf32>) {causal} -> tensor<2x8x100x128xf32>
  return %o : tensor<2x8x100x128xf32>
}
