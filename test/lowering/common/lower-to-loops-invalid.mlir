// RUN: kvfuse-opt %s --pass-pipeline="builtin.module(func.func(kv-lower-to-loops))" -split-input-file -verify-diagnostics

// The fused append + attention on tensors: bufferize first.
func.func @append_attention_on_tensors(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>,
    %i: tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32> {
  // expected-error @+1 {{'kv.append_attention' op expects memref operands to lower to loops (bufferize first), got tensors}}
  %o = kv.append_attention %q, %k, %k, %c, %p : tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>,
      tensor<1x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// A quantised cache has no loop lowering yet.
func.func @append_attention_quantised(%q: memref<1x4x1x16xf32>, %k: memref<1x2x1x16xf32>,
    %c: !kv.cache<i8, heads = 2, head_dim = 16, capacity = 8, scale = f32>, %p: memref<1xi32>,
    %o: memref<1x4x1x16xf32>) {
  // expected-error @+1 {{'kv.append_attention' op expects an unquantised cache (f32, f16, bf16) to lower to loops}}
  kv.append_attention %q, %k, %k, %c, %p : memref<1x4x1x16xf32>, memref<1x2x1x16xf32>,
      memref<1x2x1x16xf32>, !kv.cache<i8, heads = 2, head_dim = 16, capacity = 8, scale = f32>, memref<1xi32>
      outs(%o : memref<1x4x1x16xf32>)
  return
}

// -----

// The loops need the number of new rows.
func.func @append_attention_dynamic_rows(%q: memref<1x4x1x16xf32>, %k: memref<1x2x?x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: memref<1xi32>,
    %o: memref<1x4x1x16xf32>) {
  // expected-error @+1 {{'kv.append_attention' op expects a static number of new rows to lower to loops}}
  kv.append_attention %q, %k, %k, %c, %p : memref<1x4x1x16xf32>, memref<1x2x?x16xf32>,
      memref<1x2x?x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, memref<1xi32>
      outs(%o : memref<1x4x1x16xf32>)
  return
}

// -----

// The same holds for a plain append of a dynamic number of rows.
func.func @append_dynamic_rows(%k: memref<1x2x?x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: memref<1xi32>) {
  // expected-error @+1 {{'kv.append' op expects a static number of new rows to lower to loops}}
  kv.append %k, %k, %c, %p : memref<1x2x?x16xf32>, memref<1x2x?x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, memref<1xi32>
  return
}
