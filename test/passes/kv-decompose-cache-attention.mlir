// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-decompose-cache-attention))" | FileCheck %s

// Prefill against a paged cache becomes a dense load plus attention whose
// per-sequence offsets are kv_lens - Sq (bottom-right alignment).
// CHECK-LABEL: func @prefill_with_cache
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x8x5x64xf32>, %[[C:[a-z0-9]+]]: !kv.cache
// CHECK-SAME: %[[LENS:[a-z0-9]+]]: tensor<2xi32>
// CHECK-DAG: %[[SQ:.*]] = arith.constant dense<5> : tensor<2xi32>
// CHECK-DAG: %[[K:.*]]:2 = kv.load %[[C]] {{.*}} outs(%{{.*}}, %{{.*}} : tensor<2x2x48x64xf32>, tensor<2x2x48x64xf32>)
// CHECK: %[[OFF:.*]] = arith.subi %[[LENS]], %[[SQ]] : tensor<2xi32>
// CHECK: kv.attention %[[Q]], %[[K]]#0, %[[K]]#1 : {{.*}} kv_lens(%[[LENS]] : tensor<2xi32>) offsets(%[[OFF]] : tensor<2xi32>)
// CHECK-SAME: {causal, softcap = 2.000000e+01 : f32, window_left = 7 : i64}
// CHECK-NOT: kv.cache_attention
func.func @prefill_with_cache(%q: tensor<2x8x5x64xf32>,
    %c: !kv.cache<bf16, heads = 2, head_dim = 64, capacity = 48, layout = #kv.paged<page_size = 16>>,
    %lens: tensor<2xi32>) -> tensor<2x8x5x64xf32> {
  %i = tensor.empty() : tensor<2x8x5x64xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<2x8x5x64xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 64, capacity = 48, layout = #kv.paged<page_size = 16>>, tensor<2xi32>
      outs(%i : tensor<2x8x5x64xf32>) {causal, softcap = 20.0 : f32, window_left = 7 : i64} -> tensor<2x8x5x64xf32>
  return %o : tensor<2x8x5x64xf32>
}

// -----

// The explicit mask over the capacity carries over unchanged.
// CHECK-LABEL: func @decode_with_mask
// CHECK: kv.attention {{.*}} mask(%{{.*}} : tensor<1x1x1x16xi1>) kv_lens
func.func @decode_with_mask(%q: tensor<1x4x1x32xf32>,
    %c: !kv.cache<f32, heads = 4, head_dim = 32, capacity = 16>,
    %lens: tensor<1xi32>, %m: tensor<1x1x1x16xi1>) -> tensor<1x4x1x32xf32> {
  %i = tensor.empty() : tensor<1x4x1x32xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x32xf32>,
      !kv.cache<f32, heads = 4, head_dim = 32, capacity = 16>, tensor<1xi32>
      mask(%m : tensor<1x1x1x16xi1>) outs(%i : tensor<1x4x1x32xf32>) -> tensor<1x4x1x32xf32>
  return %o : tensor<1x4x1x32xf32>
}

// -----

// Memref-form ops are left alone (the pattern needs tensors).
// CHECK-LABEL: func @memref_form_untouched
// CHECK: kv.cache_attention
func.func @memref_form_untouched(%q: memref<1x4x1x32xf32>,
    %c: !kv.cache<f32, heads = 4, head_dim = 32, capacity = 16>,
    %lens: memref<1xi32>, %o: memref<1x4x1x32xf32>) {
  kv.cache_attention %q, %c, %lens : memref<1x4x1x32xf32>,
      !kv.cache<f32, heads = 4, head_dim = 32, capacity = 16>, memref<1xi32>
      outs(%o : memref<1x4x1x32xf32>)
  return
}
