// RUN: kvfuse-opt %s | kvfuse-opt | FileCheck %s
// RUN: kvfuse-opt %s --mlir-print-op-generic | kvfuse-opt | FileCheck %s

// CHECK-LABEL: func @cache_types
// CHECK-SAME: !kv.cache<f32, heads = 8, head_dim = 128, capacity = 4096>
// CHECK-SAME: !kv.cache<f16, heads = 2, head_dim = 64, value_dim = 32, capacity = 100, layout = #kv.paged<page_size = 16>>
// CHECK-SAME: !kv.cache<bf16, heads = 1, head_dim = 80, capacity = 7>
// CHECK-SAME: !kv.cache<i8, heads = 8, head_dim = 128, capacity = 4096, scale = f32>
func.func @cache_types(
    %a: !kv.cache<f32, heads = 8, head_dim = 128, capacity = 4096>,
    %b: !kv.cache<f16, heads = 2, head_dim = 64, value_dim = 32, capacity = 100,
                  layout = #kv.paged<page_size = 16>>,
    %c: !kv.cache<bf16, heads = 1, head_dim = 80, capacity = 7, layout = #kv.contiguous>,
    %d: !kv.cache<i8, heads = 8, head_dim = 128, capacity = 4096, scale = f32>) {
  return
}

// CHECK-LABEL: func @prefill_causal_gqa
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x32x16x128xf32>, tensor<1x8x16x128xf32>, tensor<1x8x16x128xf32> outs(%{{.*}} : tensor<1x32x16x128xf32>) {causal, causal_offset = 3 : i64} -> tensor<1x32x16x128xf32>
func.func @prefill_causal_gqa(%q: tensor<1x32x16x128xf32>, %k: tensor<1x8x16x128xf32>,
                              %v: tensor<1x8x16x128xf32>) -> tensor<1x32x16x128xf32> {
  %init = tensor.empty() : tensor<1x32x16x128xf32>
  %o = kv.attention %q, %k, %v : tensor<1x32x16x128xf32>, tensor<1x8x16x128xf32>, tensor<1x8x16x128xf32>
         outs(%init : tensor<1x32x16x128xf32>) {causal, causal_offset = 3 : i64} -> tensor<1x32x16x128xf32>
  return %o : tensor<1x32x16x128xf32>
}
