// RUN: kvfuse-opt %s -split-input-file -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s

// Attention writes into the buffer of its init; the append reads its
// tensors' buffers and keeps its cache handle.
// CHECK-LABEL: func @decode_step
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<1x4x1x32xf32>, %[[K:[a-z0-9]+]]: memref<1x2x1x32xf32>
// CHECK-SAME: %[[C:[a-z0-9]+]]: !kv.cache
// CHECK: kv.append %[[K]], %{{.*}}, %[[C]], %{{.*}} : memref<1x2x1x32xf32>, memref<1x2x1x32xf32>, !kv.cache<{{.*}}>, memref<1xi32>
// CHECK: %[[OUT:.*]] = memref.alloc() {{.*}} : memref<1x4x1x32xf32>
// CHECK: kv.cache_attention %[[Q]], %[[C]], %{{.*}} : memref<1x4x1x32xf32>, !kv.cache<{{.*}}>, memref<1xi32> outs(%[[OUT]] : memref<1x4x1x32xf32>)
// CHECK: return %[[OUT]]
func.func @decode_step(%q: tensor<1x4x1x32xf32>, %k: tensor<1x2x1x32xf32>, %v: tensor<1x2x1x32xf32>,
                       %c: !kv.cache<f16, heads = 2, head_dim = 32, capacity = 16>,
                       %past: tensor<1xi32>, %lens: tensor<1xi32>) -> tensor<1x4x1x32xf32> {
  kv.append %k, %v, %c, %past : tensor<1x2x1x32xf32>, tensor<1x2x1x32xf32>,
      !kv.cache<f16, heads = 2, head_dim = 32, capacity = 16>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x32xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x32xf32>,
      !kv.cache<f16, heads = 2, head_dim = 32, capacity = 16>, tensor<1xi32>
      outs(%i : tensor<1x4x1x32xf32>) -> tensor<1x4x1x32xf32>
  return %o : tensor<1x4x1x32xf32>
}

// -----

// Partial attention and merge write their two inits; a dead LSE buffer may be
// shared between them.
// CHECK-LABEL: func @split_and_merge
// CHECK: kv.partial_attention {{.*}} outs(%{{.*}}, %{{.*}} : memref<1x2x1x8xf32>, memref<1x2x1xf32>)
// CHECK: kv.merge {{.*}} : memref<1x1x2x1x8xf32>, memref<1x1x2x1xf32> outs(%{{.*}}, %{{.*}} : memref<1x2x1x8xf32>, memref<1x2x1xf32>)
func.func @split_and_merge(%q: tensor<1x2x1x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>,
                           %parts: tensor<1x1x2x1x8xf32>, %lses: tensor<1x1x2x1xf32>)
    -> (tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>) {
  %oi = tensor.empty() : tensor<1x2x1x8xf32>
  %li = tensor.empty() : tensor<1x2x1xf32>
  %o:2 = kv.partial_attention %q, %k, %v : tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
      outs(%oi, %li : tensor<1x2x1x8xf32>, tensor<1x2x1xf32>) -> tensor<1x2x1x8xf32>, tensor<1x2x1xf32>
  %m:2 = kv.merge %parts, %lses : tensor<1x1x2x1x8xf32>, tensor<1x1x2x1xf32>
      outs(%oi, %li : tensor<1x2x1x8xf32>, tensor<1x2x1xf32>) -> tensor<1x2x1x8xf32>, tensor<1x2x1xf32>
  return %o#0, %m#0 : tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>
}

// -----

// The fused append + attention writes into the buffer of its init, reads
// the buffers of Q, K, V and past_lens, and keeps its cache handle.
// CHECK-LABEL: func @fused_decode_step
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<1x4x1x32xf32>, %[[K:[a-z0-9]+]]: memref<1x2x1x32xf32>, %[[V:[a-z0-9]+]]: memref<1x2x1x32xf32>
// CHECK-SAME: %[[C:[a-z0-9]+]]: !kv.cache
// CHECK-SAME: %[[P:[a-z0-9]+]]: memref<1xi32>
// CHECK: %[[OUT:.*]] = memref.alloc() {{.*}} : memref<1x4x1x32xf32>
// CHECK: kv.append_attention %[[Q]], %[[K]], %[[V]], %[[C]], %[[P]] : memref<1x4x1x32xf32>, memref<1x2x1x32xf32>, memref<1x2x1x32xf32>, !kv.cache<{{.*}}>, memref<1xi32> outs(%[[OUT]] : memref<1x4x1x32xf32>)
// CHECK: return %[[OUT]]
func.func @fused_decode_step(%q: tensor<1x4x1x32xf32>, %k: tensor<1x2x1x32xf32>, %v: tensor<1x2x1x32xf32>,
                             %c: !kv.cache<f16, heads = 2, head_dim = 32, capacity = 16>,
                             %past: tensor<1xi32>) -> tensor<1x4x1x32xf32> {
  %i = tensor.empty() : tensor<1x4x1x32xf32>
  %o = kv.append_attention %q, %k, %v, %c, %past : tensor<1x4x1x32xf32>, tensor<1x2x1x32xf32>,
      tensor<1x2x1x32xf32>, !kv.cache<f16, heads = 2, head_dim = 32, capacity = 16>, tensor<1xi32>
      outs(%i : tensor<1x4x1x32xf32>) -> tensor<1x4x1x32xf32>
  return %o : tensor<1x4x1x32xf32>
}

// -----

// A mask is read like the other inputs. The init is a function argument that
// is still returned unchanged, so the op must not write it in place: the
// result gets its own buffer, initialised by a copy.
// CHECK-LABEL: func @fused_with_mask_init_still_live
// CHECK-SAME: %[[M:[a-z0-9]+]]: memref<1x1x1x16xf32>, %[[I:[a-z0-9]+]]: memref<1x4x1x32xf32>
// CHECK: %[[OUT:.*]] = memref.alloc() {{.*}} : memref<1x4x1x32xf32>
// CHECK: memref.copy %[[I]], %[[OUT]]
// CHECK: kv.append_attention {{.*}} mask(%[[M]] : memref<1x1x1x16xf32>) outs(%[[OUT]] : memref<1x4x1x32xf32>)
// CHECK: return %[[OUT]], %[[I]]
func.func @fused_with_mask_init_still_live(%q: tensor<1x4x1x32xf32>, %k: tensor<1x2x1x32xf32>,
                                           %c: !kv.cache<f16, heads = 2, head_dim = 32, capacity = 16>,
                                           %past: tensor<1xi32>, %m: tensor<1x1x1x16xf32>,
                                           %i: tensor<1x4x1x32xf32>) -> (tensor<1x4x1x32xf32>, tensor<1x4x1x32xf32>) {
  %o = kv.append_attention %q, %k, %k, %c, %past : tensor<1x4x1x32xf32>, tensor<1x2x1x32xf32>,
      tensor<1x2x1x32xf32>, !kv.cache<f16, heads = 2, head_dim = 32, capacity = 16>, tensor<1xi32>
      mask(%m : tensor<1x1x1x16xf32>) outs(%i : tensor<1x4x1x32xf32>) -> tensor<1x4x1x32xf32>
  return %o, %i : tensor<1x4x1x32xf32>, tensor<1x4x1x32xf32>
}

// -----

// Split form: both destinations become buffers, the merge reads them.
// CHECK-LABEL: func @split_cache
// CHECK-DAG: %[[PO:.*]] = memref.alloc() {{.*}} : memref<2x1x4x1x32xf32>
// CHECK-DAG: %[[PL:.*]] = memref.alloc() {{.*}} : memref<2x1x4x1xf32>
// CHECK: kv.cache_attention {{.*}} outs(%[[PO]], %[[PL]] : memref<2x1x4x1x32xf32>, memref<2x1x4x1xf32>)
// CHECK: kv.merge %[[PO]], %[[PL]] : memref<2x1x4x1x32xf32>, memref<2x1x4x1xf32> outs(
func.func @split_cache(%q: tensor<1x4x1x32xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 32, capacity = 64>,
                       %lens: tensor<1xi32>) -> (tensor<1x4x1x32xf32>, tensor<1x4x1xf32>) {
  %po = tensor.empty() : tensor<2x1x4x1x32xf32>
  %pl = tensor.empty() : tensor<2x1x4x1xf32>
  %p:2 = kv.cache_attention %q, %c, %lens : tensor<1x4x1x32xf32>, !kv.cache<f32, heads = 2, head_dim = 32, capacity = 64>, tensor<1xi32>
      outs(%po, %pl : tensor<2x1x4x1x32xf32>, tensor<2x1x4x1xf32>) -> tensor<2x1x4x1x32xf32>, tensor<2x1x4x1xf32>
  %o = tensor.empty() : tensor<1x4x1x32xf32>
  %l = tensor.empty() : tensor<1x4x1xf32>
  %m:2 = kv.merge %p#0, %p#1 : tensor<2x1x4x1x32xf32>, tensor<2x1x4x1xf32>
      outs(%o, %l : tensor<1x4x1x32xf32>, tensor<1x4x1xf32>) -> tensor<1x4x1x32xf32>, tensor<1x4x1xf32>
  return %m#0, %m#1 : tensor<1x4x1x32xf32>, tensor<1x4x1xf32>
}
