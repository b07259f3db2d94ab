// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa))" | FileCheck %s
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa{heads=2}))" | FileCheck %s --check-prefix=TWO

// Decode on memrefs: the 8 query heads of 2 KV heads become 2 heads of 4
// rows each, as views of the query and the output; the op writes through
// the output's view.
// CHECK-LABEL: func @decode
// CHECK:         %[[QE:.*]] = memref.expand_shape %arg0 {{\[}}[0], [1, 2], [3], [4]] output_shape [2, 2, 4, 1, 64] : memref<2x8x1x64xf32> into memref<2x2x4x1x64xf32>
// CHECK:         %[[Q:.*]] = memref.collapse_shape %[[QE]] {{\[}}[0], [1], [2, 3], [4]] : memref<2x2x4x1x64xf32> into memref<2x2x4x64xf32>
// CHECK:         %[[OE:.*]] = memref.expand_shape %arg3 {{\[}}[0], [1, 2], [3], [4]]
// CHECK:         %[[O:.*]] = memref.collapse_shape %[[OE]] {{\[}}[0], [1], [2, 3], [4]] : memref<2x2x4x1x64xf32> into memref<2x2x4x64xf32>
// CHECK:         kv.cache_attention %[[Q]], %arg1, %arg2 : memref<2x2x4x64xf32>, {{.*}} outs(%[[O]] : memref<2x2x4x64xf32>) {packed_heads = 4 : i64}
// CHECK-NEXT:    return
// Packing two heads per head of a group of four gives four heads of 2 rows.
// TWO-LABEL: func @decode
// TWO:           kv.cache_attention {{.*}} : memref<2x4x2x64xf32>, {{.*}} outs({{.*}} : memref<2x4x2x64xf32>) {packed_heads = 2 : i64}
func.func @decode(%q: memref<2x8x1x64xf32>,
                  %c: !kv.cache<f32, heads = 2, head_dim = 64, capacity = 256>,
                  %lens: memref<2xi32>, %o: memref<2x8x1x64xf32>) {
  kv.cache_attention %q, %c, %lens : memref<2x8x1x64xf32>, !kv.cache<f32, heads = 2, head_dim = 64, capacity = 256>, memref<2xi32>
      outs(%o : memref<2x8x1x64xf32>)
  return
}

// -----

// Prefill on tensors: rows of head g at g * Sq; the explicit mask keeps its
// [B, Hq, Sq, Skv] shape; the result is viewed back to [B, Hq, Sq, Dv].
// CHECK-LABEL: func @dense
// CHECK:         %[[Q:.*]] = tensor.collapse_shape {{.*}} : tensor<1x2x2x5x16xf32> into tensor<1x2x10x16xf32>
// CHECK:         %[[O:.*]] = tensor.collapse_shape {{.*}} : tensor<1x2x2x5x8xf32> into tensor<1x2x10x8xf32>
// CHECK:         %[[R:.*]] = kv.attention %[[Q]], %arg1, %arg2 : tensor<1x2x10x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x8xf32> mask(%arg3 : tensor<1x4x5x7xi1>) outs(%[[O]] : tensor<1x2x10x8xf32>) {causal, causal_offset = 2 : i64, packed_heads = 2 : i64} -> tensor<1x2x10x8xf32>
// CHECK:         %[[RE:.*]] = tensor.expand_shape %[[R]] {{\[}}[0], [1], [2, 3], [4]] output_shape [1, 2, 2, 5, 8] : tensor<1x2x10x8xf32> into tensor<1x2x2x5x8xf32>
// CHECK:         %[[U:.*]] = tensor.collapse_shape %[[RE]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x2x5x8xf32> into tensor<1x4x5x8xf32>
// CHECK:         return %[[U]]
func.func @dense(%q: tensor<1x4x5x16xf32>, %k: tensor<1x2x7x16xf32>, %v: tensor<1x2x7x8xf32>,
                 %m: tensor<1x4x5x7xi1>, %o: tensor<1x4x5x8xf32>) -> tensor<1x4x5x8xf32> {
  %r = kv.attention %q, %k, %v : tensor<1x4x5x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x8xf32>
      mask(%m : tensor<1x4x5x7xi1>) outs(%o : tensor<1x4x5x8xf32>)
      {causal, causal_offset = 2 : i64} -> tensor<1x4x5x8xf32>
  return %r : tensor<1x4x5x8xf32>
}

// -----

// The log-sum-exp is packed like the output, in split form behind the split
// dim; kv_start and the CPU plan stay on the op.
// CHECK-LABEL: func @split_partial
// CHECK-DAG:     memref.collapse_shape {{.*}} : memref<3x1x1x4x1x32xf32> into memref<3x1x1x4x32xf32>
// CHECK-DAG:     memref.collapse_shape {{.*}} : memref<3x1x1x4x1xf32> into memref<3x1x1x4xf32>
// CHECK:         kv.partial_attention {{.*}} outs({{.*}} : memref<3x1x1x4x32xf32>, memref<3x1x1x4xf32>) {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 1, key_block = 64, splits = 3, score_kernel = "dot">, kv_start = 128 : i64, packed_heads = 4 : i64}
func.func @split_partial(%q: memref<1x4x1x32xf32>, %k: memref<1x1x256x32xf32>, %v: memref<1x1x256x32xf32>,
                         %o: memref<3x1x4x1x32xf32>, %l: memref<3x1x4x1xf32>) {
  kv.partial_attention %q, %k, %v : memref<1x4x1x32xf32>, memref<1x1x256x32xf32>, memref<1x1x256x32xf32>
      outs(%o, %l : memref<3x1x4x1x32xf32>, memref<3x1x4x1xf32>)
      {kv_start = 128 : i64,
       kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 1, key_block = 64, splits = 3, score_kernel = "dot">}
  return
}

// -----

// Left alone: multi-head attention (group 1), an op already packed, then a
// group of 3 that 2 heads do not divide (with heads=2), a dynamic batch and
// a strided output view.
// CHECK-LABEL: func @untouched
// CHECK-NOT:     expand_shape
// CHECK:         kv.attention %arg0, %arg1, %arg1 : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>
// CHECK:         kv.attention %arg2, %{{.*}}, %{{.*}} {packed_heads = 4 : i64}
// CHECK-NEXT:    return
// TWO-LABEL: func @untouched
// TWO-NOT:       expand_shape
func.func @untouched(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>,
                     %packed: tensor<1x1x32x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x1x32x16xf32>) {
  %r = kv.attention %q, %k, %k : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>
      outs(%q : tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  %k1 = tensor.extract_slice %k[0, 0, 0, 0] [1, 1, 8, 16] [1, 1, 1, 1] : tensor<1x4x8x16xf32> to tensor<1x1x8x16xf32>
  %p = kv.attention %packed, %k1, %k1 : tensor<1x1x32x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>
      outs(%packed : tensor<1x1x32x16xf32>) {packed_heads = 4 : i64} -> tensor<1x1x32x16xf32>
  return %r, %p : tensor<1x4x8x16xf32>, tensor<1x1x32x16xf32>
}

// -----

// The whole group of 3 is packed by default.
// CHECK-LABEL: func @group_of_three
// CHECK:         kv.cache_attention {{.*}} : memref<1x1x3x64xf32>, {{.*}} {packed_heads = 3 : i64}
// TWO-LABEL: func @group_of_three
// TWO-NOT:       expand_shape
// TWO:           kv.cache_attention %arg0
func.func @group_of_three(%q: memref<1x3x1x64xf32>,
                          %c: !kv.cache<f32, heads = 1, head_dim = 64, capacity = 64>,
                          %lens: memref<1xi32>, %o: memref<1x3x1x64xf32>) {
  kv.cache_attention %q, %c, %lens : memref<1x3x1x64xf32>, !kv.cache<f32, heads = 1, head_dim = 64, capacity = 64>, memref<1xi32>
      outs(%o : memref<1x3x1x64xf32>)
  return
}

// -----

// CHECK-LABEL: func @dynamic_and_strided
// CHECK-NOT:     expand_shape
// CHECK:         kv.attention %arg0
// CHECK:         kv.attention %arg3
func.func @dynamic_and_strided(%q: memref<?x4x2x16xf32>, %k: memref<?x1x8x16xf32>, %o: memref<?x4x2x16xf32>,
                               %q2: memref<1x4x2x16xf32>, %k2: memref<1x1x8x16xf32>,
                               %big: memref<1x4x4x16xf32>) {
  kv.attention %q, %k, %k : memref<?x4x2x16xf32>, memref<?x1x8x16xf32>, memref<?x1x8x16xf32>
      outs(%o : memref<?x4x2x16xf32>)
  %view = memref.subview %big[0, 0, 0, 0] [1, 4, 2, 16] [1, 1, 1, 1]
      : memref<1x4x4x16xf32> to memref<1x4x2x16xf32, strided<[256, 64, 16, 1]>>
  kv.attention %q2, %k2, %k2 : memref<1x4x2x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>
      outs(%view : memref<1x4x2x16xf32, strided<[256, 64, 16, 1]>>)
  return
}
