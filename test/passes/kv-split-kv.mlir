// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-split-kv{splits=3}))" | FileCheck %s
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-split-kv))" | FileCheck %s --check-prefix=PLAN

// Dense attention on tensors: a split-form partial attention from key 0
// into empty partials, merged into the op's destination; the merged
// log-sum-exp goes to a scratch tensor. Without the option nothing is split.
// CHECK-LABEL: func @dense
// CHECK-DAG:     %[[PO:.*]] = tensor.empty() : tensor<3x2x8x5x48xf32>
// CHECK-DAG:     %[[PL:.*]] = tensor.empty() : tensor<3x2x8x5xf32>
// CHECK:         %[[P:.*]]:2 = kv.partial_attention %arg0, %arg1, %arg2 : {{.*}} kv_lens(%arg3 : tensor<2xi32>) outs(%[[PO]], %[[PL]] : tensor<3x2x8x5x48xf32>, tensor<3x2x8x5xf32>) {causal, causal_offset = 7 : i64, softcap = 3.000000e+01 : f32, window_left = 16 : i64} -> tensor<3x2x8x5x48xf32>, tensor<3x2x8x5xf32>
// CHECK:         %[[L:.*]] = tensor.empty() : tensor<2x8x5xf32>
// CHECK:         %[[M:.*]]:2 = kv.merge %[[P]]#0, %[[P]]#1 : tensor<3x2x8x5x48xf32>, tensor<3x2x8x5xf32> outs(%arg4, %[[L]] : tensor<2x8x5x48xf32>, tensor<2x8x5xf32>)
// CHECK:         return %[[M]]#0
// PLAN-LABEL: func @dense
// PLAN-NOT:      kv.merge
// PLAN:          kv.attention
// PLAN-NOT:      kv.merge
func.func @dense(%q: tensor<2x8x5x64xf32>, %k: tensor<2x2x100x64xf32>, %v: tensor<2x2x100x48xf32>,
                 %lens: tensor<2xi32>, %o: tensor<2x8x5x48xf32>) -> tensor<2x8x5x48xf32> {
  %r = kv.attention %q, %k, %v : tensor<2x8x5x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100x48xf32>
      kv_lens(%lens : tensor<2xi32>) outs(%o : tensor<2x8x5x48xf32>)
      {causal, causal_offset = 7 : i64, window_left = 16 : i64, softcap = 30.0 : f32} -> tensor<2x8x5x48xf32>
  return %r : tensor<2x8x5x48xf32>
}

// -----

// A partial attention keeps its kv_start; the merge writes its own output
// and log-sum-exp.
// CHECK-LABEL: func @partial
// CHECK:         %[[P:.*]]:2 = kv.partial_attention {{.*}} outs({{.*}} : tensor<3x1x4x1x64xf32>, tensor<3x1x4x1xf32>) {kv_start = 512 : i64}
// CHECK:         %[[M:.*]]:2 = kv.merge %[[P]]#0, %[[P]]#1 : {{.*}} outs(%arg3, %arg4 : tensor<1x4x1x64xf32>, tensor<1x4x1xf32>)
// CHECK:         return %[[M]]#0, %[[M]]#1
func.func @partial(%q: tensor<1x4x1x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>,
                   %o: tensor<1x4x1x64xf32>, %l: tensor<1x4x1xf32>) -> (tensor<1x4x1x64xf32>, tensor<1x4x1xf32>) {
  %r, %s = kv.partial_attention %q, %k, %v : tensor<1x4x1x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>
      outs(%o, %l : tensor<1x4x1x64xf32>, tensor<1x4x1xf32>) {kv_start = 512 : i64}
      -> tensor<1x4x1x64xf32>, tensor<1x4x1xf32>
  return %r, %s : tensor<1x4x1x64xf32>, tensor<1x4x1xf32>
}

// -----

!cache = !kv.cache<bf16, heads = 2, head_dim = 128, capacity = 4096, layout = #kv.paged<page_size = 16>>

// Decode from a cache on memrefs: stack partials at the function's entry, a
// split-form cache attention, the merge into the output. With splits = 0
// the recorded plan decides (here 4) and moves to the split op.
// CHECK-LABEL: func @decode
// CHECK-DAG:     %[[L:.*]] = memref.alloca() : memref<1x8x1xf32>
// CHECK-DAG:     %[[PL:.*]] = memref.alloca() : memref<3x1x8x1xf32>
// CHECK-DAG:     %[[PO:.*]] = memref.alloca() : memref<3x1x8x1x128xf32>
// CHECK:         kv.cache_attention %arg0, %arg1, %arg2 : {{.*}} outs(%[[PO]], %[[PL]] : memref<3x1x8x1x128xf32>, memref<3x1x8x1xf32>) {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 1, key_block = 32, splits = 3, score_kernel = "dot">}
// CHECK-NEXT:    kv.merge %[[PO]], %[[PL]] : {{.*}} outs(%arg3, %[[L]] : memref<1x8x1x128xf32>, memref<1x8x1xf32>)
// CHECK-NEXT:    return
// PLAN-LABEL: func @decode
// PLAN:          kv.cache_attention {{.*}} outs({{.*}} : memref<4x1x8x1x128xf32>, memref<4x1x8x1xf32>) {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 1, key_block = 32, splits = 4, score_kernel = "dot">}
// PLAN-NEXT:     kv.merge
func.func @decode(%q: memref<1x8x1x128xf32>, %c: !cache, %lens: memref<1xi32>, %o: memref<1x8x1x128xf32>) {
  kv.cache_attention %q, %c, %lens : memref<1x8x1x128xf32>, !cache, memref<1xi32>
      outs(%o : memref<1x8x1x128xf32>)
      {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 1, key_block = 32, splits = 4, score_kernel = "dot">}
  return
}

// -----

!cache = !kv.cache<f32, heads = 2, head_dim = 64, capacity = 1024>

// The fused append + attention keeps its new rows, lengths and mask.
// CHECK-LABEL: func @fused
// CHECK:         %[[P:.*]]:2 = kv.append_attention %arg0, %arg1, %arg2, %arg3, %arg4 : {{.*}} mask(%arg5 : tensor<1x1x1x1024xi1>) outs(%{{.*}}, %{{.*}} : tensor<3x1x4x1x64xf32>, tensor<3x1x4x1xf32>) {softcap = 2.000000e+01 : f32}
// CHECK:         kv.merge %[[P]]#0, %[[P]]#1
func.func @fused(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>, %c: !cache,
                 %past: tensor<1xi32>, %m: tensor<1x1x1x1024xi1>, %o: tensor<1x4x1x64xf32>) -> tensor<1x4x1x64xf32> {
  %r = kv.append_attention %q, %k, %v, %c, %past : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x1x64xf32>, !cache, tensor<1xi32>
      mask(%m : tensor<1x1x1x1024xi1>) outs(%o : tensor<1x4x1x64xf32>) {softcap = 20.0 : f32} -> tensor<1x4x1x64xf32>
  return %r : tensor<1x4x1x64xf32>
}

// -----

// Left alone: ops already in split form and dynamic shapes.
// CHECK-LABEL: func @left
// CHECK-NOT:     kv.merge
// CHECK:         kv.partial_attention {{.*}} outs({{.*}} : tensor<2x1x4x1x64xf32>, tensor<2x1x4x1xf32>)
// CHECK-NOT:     kv.merge
// CHECK:         kv.attention
// CHECK-NOT:     kv.merge
func.func @left(%q: tensor<1x4x1x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>,
                %o: tensor<2x1x4x1x64xf32>, %l: tensor<2x1x4x1xf32>,
                %qd: tensor<1x4x?x64xf32>, %od: tensor<1x4x?x64xf32>) -> (tensor<2x1x4x1x64xf32>, tensor<1x4x?x64xf32>) {
  %r, %s = kv.partial_attention %q, %k, %v : tensor<1x4x1x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>
      outs(%o, %l : tensor<2x1x4x1x64xf32>, tensor<2x1x4x1xf32>) -> tensor<2x1x4x1x64xf32>, tensor<2x1x4x1xf32>
  %d = kv.attention %qd, %k, %v : tensor<1x4x?x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>
      outs(%od : tensor<1x4x?x64xf32>) -> tensor<1x4x?x64xf32>
  return %r, %d : tensor<2x1x4x1x64xf32>, tensor<1x4x?x64xf32>
}
