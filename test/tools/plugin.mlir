// The kv dialect and passes inside upstream mlir-opt, through the plugin.
// RUN: mlir-opt %s --load-dialect-plugin=%kvfuse_libs/KvfusePlugin%shlibext --load-pass-plugin=%kvfuse_libs/KvfusePlugin%shlibext --pass-pipeline="builtin.module(func.func(kv-decompose-cache-attention))" | FileCheck %s
// RUN: mlir-opt %s --load-dialect-plugin=%kvfuse_libs/KvfusePlugin%shlibext -canonicalize | FileCheck %s --check-prefix=CANON

// CHECK-LABEL: func @decode
// CHECK: kv.load
// CHECK: kv.attention
// CANON-LABEL: func @decode
// CANON: kv.cache_attention
// CANON-NOT: causal
// CANON-SAME: -> tensor<1x4x1x32xf32>
func.func @decode(%q: tensor<1x4x1x32xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 32, capacity = 16>,
    %lens: tensor<1xi32>) -> tensor<1x4x1x32xf32> {
  %i = tensor.empty() : tensor<1x4x1x32xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x32xf32>,
      !kv.cache<f32, heads = 2, head_dim = 32, capacity = 16>, tensor<1xi32>
      outs(%i : tensor<1x4x1x32xf32>) {causal} -> tensor<1x4x1x32xf32>
  return %o : tensor<1x4x1x32xf32>
}
