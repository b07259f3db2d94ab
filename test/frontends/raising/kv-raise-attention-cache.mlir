// RUN: kvfuse-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kv-raise-attention))" | FileCheck %s

// Cache updates spelled as tensor.insert_slice of the step's K/V rows into a
// static-size cache tensor, attention over the whole cache with a mask that
// hides the keys past the write: raised with kv_lens (and offsets /
// causal_offset), the insert_slice ops kept as the cache update. Masks not
// proven to be exactly that bound stay explicit.

// A decode step: K/V rows written at the static offset 3 of an 8-row cache, the
// mask keeps keys j < 3 + 1: kv_lens = 4, no mask tensor.
// CHECK-LABEL: func @constant_past(
// CHECK-DAG: %[[LENS:.*]] = arith.constant dense<4> : tensor<1xi32>
// CHECK-DAG: %[[KC:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 3, 0] [2, 1, 4] [1, 1, 1]
// CHECK-DAG: %[[VC:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 3, 0] [2, 1, 6] [1, 1, 1]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[KC]]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[VC]]
// CHECK: kv.attention %{{.*}}, %[[K4]], %[[V4]] : tensor<1x2x1x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x6xf32> kv_lens(%[[LENS]] : tensor<1xi32>) outs(%{{.*}} : tensor<1x2x1x6xf32>) {scale = 1.000000e+00 : f32}
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.softmax
// CHECK: return %{{.*}}, %[[KC]], %[[VC]] :
func.func @constant_past(%q: tensor<2x1x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x1x4xf32>, %v_new: tensor<2x1x6xf32>, %pos: i32) -> (tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.constant 3 : index
  %kc = tensor.insert_slice %k_new into %k_cache[0, 3, 0] [2, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, 3, 0] [2, 1, 6] [1, 1, 1] : tensor<2x1x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x1x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x1x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %m_e = tensor.empty() : tensor<1x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<1x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 1 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %vis, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %u_e = tensor.empty() : tensor<2x1x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x1x8xf32>, tensor<1x8xf32>) outs(%u_e : tensor<2x1x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x1x8xf32>
  %p_e = tensor.empty() : tensor<2x1x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x1x8xf32>) outs(%p_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %o_e = tensor.empty() : tensor<2x1x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x1x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  return %o, %kc, %vc : tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// Three rows written at offset 2, every query row sees the five written keys
// (no causal mask): kv_lens = 5.
// CHECK-LABEL: func @constant_past_prefill(
// CHECK-DAG: %[[LENS:.*]] = arith.constant dense<5> : tensor<1xi32>
// CHECK: kv.attention {{.*}} kv_lens(%[[LENS]] : tensor<1xi32>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 1.000000e+00 : f32}
// CHECK-NOT: linalg.softmax
// CHECK: return
func.func @constant_past_prefill(%q: tensor<2x3x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x3x4xf32>, %v_new: tensor<2x3x6xf32>, %pos: i32) -> (tensor<2x3x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.constant 2 : index
  %kc = tensor.insert_slice %k_new into %k_cache[0, 2, 0] [2, 3, 4] [1, 1, 1] : tensor<2x3x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, 2, 0] [2, 3, 6] [1, 1, 1] : tensor<2x3x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %m_e = tensor.empty() : tensor<3x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<3x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 3 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %vis, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  %u_e = tensor.empty() : tensor<2x3x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x3x8xf32>, tensor<3x8xf32>) outs(%u_e : tensor<2x3x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x3x8xf32>
  %p_e = tensor.empty() : tensor<2x3x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x8xf32>) outs(%p_e : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x3x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o, %kc, %vc : tensor<2x3x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// Two rows written at offset 3 with the causal mask j <= 3 + i as well:
// kv_lens = 5 and causal_offset = 3.
// CHECK-LABEL: func @constant_past_causal(
// CHECK-DAG: %[[LENS:.*]] = arith.constant dense<5> : tensor<1xi32>
// CHECK: kv.attention {{.*}} kv_lens(%[[LENS]] : tensor<1xi32>) outs(%{{.*}} : tensor<1x2x2x6xf32>) {causal, causal_offset = 3 : i64, scale = 1.000000e+00 : f32}
// CHECK-NOT: linalg.softmax
// CHECK: return
func.func @constant_past_causal(%q: tensor<2x2x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x2x4xf32>, %v_new: tensor<2x2x6xf32>, %pos: i32) -> (tensor<2x2x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.constant 3 : index
  %kc = tensor.insert_slice %k_new into %k_cache[0, 3, 0] [2, 2, 4] [1, 1, 1] : tensor<2x2x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, 3, 0] [2, 2, 6] [1, 1, 1] : tensor<2x2x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x2x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x2x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %m_e = tensor.empty() : tensor<2x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<2x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 2 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %pi = arith.addi %past, %i : index
    %cv = arith.cmpi sle, %j, %pi : index
    %both = arith.andi %vis, %cv : i1
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %both, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  %u_e = tensor.empty() : tensor<2x2x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x2x8xf32>, tensor<2x8xf32>) outs(%u_e : tensor<2x2x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x2x8xf32>
  %p_e = tensor.empty() : tensor<2x2x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x2x8xf32>) outs(%p_e : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %o_e = tensor.empty() : tensor<2x2x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x6xf32>) -> tensor<2x2x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x2x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x2x6xf32>) -> tensor<2x2x6xf32>
  return %o, %kc, %vc : tensor<2x2x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// The offset is a runtime value: the mask j < past + 1 built from
// linalg.index and the insert offset itself becomes kv_lens = past + 1.
// CHECK-LABEL: func @dynamic_past(
// CHECK: %[[ONE:.*]] = arith.constant 1 : i32
// CHECK: %[[P:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK-DAG: %[[KC:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, %[[P]], 0] [2, 1, 4] [1, 1, 1]
// CHECK-DAG: %[[VC:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, %[[P]], 0] [2, 1, 6] [1, 1, 1]
// CHECK: %[[P32:.*]] = arith.index_cast %[[P]] : index to i32
// CHECK: %[[LEN:.*]] = arith.addi %[[P32]], %[[ONE]] : i32
// CHECK: %[[LENS:.*]] = linalg.fill ins(%[[LEN]] : i32) outs(%{{.*}} : tensor<1xi32>) -> tensor<1xi32>
// CHECK: kv.attention {{.*}} : tensor<1x2x1x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x6xf32> kv_lens(%[[LENS]] : tensor<1xi32>) outs(%{{.*}} : tensor<1x2x1x6xf32>) {scale = 1.000000e+00 : f32}
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.softmax
// CHECK: return %{{.*}}, %[[KC]], %[[VC]] :
func.func @dynamic_past(%q: tensor<2x1x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x1x4xf32>, %v_new: tensor<2x1x6xf32>, %pos: i32) -> (tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.index_cast %pos : i32 to index
  %kc = tensor.insert_slice %k_new into %k_cache[0, %past, 0] [2, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, %past, 0] [2, 1, 6] [1, 1, 1] : tensor<2x1x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x1x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x1x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %m_e = tensor.empty() : tensor<1x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<1x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 1 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %vis, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %u_e = tensor.empty() : tensor<2x1x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x1x8xf32>, tensor<1x8xf32>) outs(%u_e : tensor<2x1x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x1x8xf32>
  %p_e = tensor.empty() : tensor<2x1x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x1x8xf32>) outs(%p_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %o_e = tensor.empty() : tensor<2x1x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x1x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  return %o, %kc, %vc : tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// The same bound spelled 1 + past > j in an i1 mask selecting -inf.
// CHECK-LABEL: func @dynamic_past_bool(
// CHECK: %[[P:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: %[[P32:.*]] = arith.index_cast %[[P]] : index to i32
// CHECK: %[[LEN:.*]] = arith.addi %[[P32]], %{{.*}} : i32
// CHECK: %[[LENS:.*]] = linalg.fill ins(%[[LEN]] : i32)
// CHECK: kv.attention {{.*}} kv_lens(%[[LENS]] : tensor<1xi32>) outs(
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @dynamic_past_bool(%q: tensor<2x1x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x1x4xf32>, %v_new: tensor<2x1x6xf32>, %pos: i32) -> (tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.index_cast %pos : i32 to index
  %kc = tensor.insert_slice %k_new into %k_cache[0, %past, 0] [2, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, %past, 0] [2, 1, 6] [1, 1, 1] : tensor<2x1x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x1x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x1x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %m_e = tensor.empty() : tensor<1x8xi1>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<1x8xi1>) {
  ^bb0(%o: i1):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 1 : index
    %bound = arith.addi %c, %past : index
    %vis = arith.cmpi sgt, %bound, %j : index
    linalg.yield %vis : i1
  } -> tensor<1x8xi1>
  %u_e = tensor.empty() : tensor<2x1x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m, %s : tensor<1x8xi1>, tensor<2x1x8xf32>) outs(%u_e : tensor<2x1x8xf32>) {
  ^bb0(%b: i1, %x: f32, %y: f32):
    %ninf = arith.constant 0xFF800000 : f32
    %sel = arith.select %b, %x, %ninf : f32
    linalg.yield %sel : f32
  } -> tensor<2x1x8xf32>
  %p_e = tensor.empty() : tensor<2x1x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x1x8xf32>) outs(%p_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %o_e = tensor.empty() : tensor<2x1x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x1x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  return %o, %kc, %vc : tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// A prefill chunk of two rows at a runtime offset, causal within the cache
// (j <= past + i) and bounded by past + 2: kv_lens and offsets from past.
// CHECK-LABEL: func @dynamic_past_causal(
// CHECK: %[[TWO:.*]] = arith.constant 2 : i32
// CHECK: %[[P:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: %[[P32:.*]] = arith.index_cast %[[P]] : index to i32
// CHECK: %[[LEN:.*]] = arith.addi %[[P32]], %[[TWO]] : i32
// CHECK: %[[LENS:.*]] = linalg.fill ins(%[[LEN]] : i32) outs(%{{.*}} : tensor<1xi32>)
// CHECK: %[[OFFS:.*]] = linalg.fill ins(%[[P32]] : i32) outs(%{{.*}} : tensor<1xi32>)
// CHECK: kv.attention {{.*}} kv_lens(%[[LENS]] : tensor<1xi32>) offsets(%[[OFFS]] : tensor<1xi32>) outs(%{{.*}} : tensor<1x2x2x6xf32>) {causal, scale = 1.000000e+00 : f32}
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @dynamic_past_causal(%q: tensor<2x2x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x2x4xf32>, %v_new: tensor<2x2x6xf32>, %pos: i32) -> (tensor<2x2x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.index_cast %pos : i32 to index
  %kc = tensor.insert_slice %k_new into %k_cache[0, %past, 0] [2, 2, 4] [1, 1, 1] : tensor<2x2x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, %past, 0] [2, 2, 6] [1, 1, 1] : tensor<2x2x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x2x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x2x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %m_e = tensor.empty() : tensor<2x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<2x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 2 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %pi = arith.addi %past, %i : index
    %cv = arith.cmpi sle, %j, %pi : index
    %both = arith.andi %vis, %cv : i1
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %both, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  %u_e = tensor.empty() : tensor<2x2x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x2x8xf32>, tensor<2x8xf32>) outs(%u_e : tensor<2x2x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x2x8xf32>
  %p_e = tensor.empty() : tensor<2x2x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x2x8xf32>) outs(%p_e : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %o_e = tensor.empty() : tensor<2x2x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x6xf32>) -> tensor<2x2x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x2x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x2x6xf32>) -> tensor<2x2x6xf32>
  return %o, %kc, %vc : tensor<2x2x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// Near miss: j <= past + 1 keeps one key more than the rows written; the
// mask stays explicit.
// CHECK-LABEL: func @dynamic_past_off_by_one(
// CHECK: linalg.generic
// CHECK-NOT: kv_lens
// CHECK: kv.attention {{.*}} mask(%{{.*}} : tensor<1x1x1x8xf32>) outs(
// CHECK-NOT: kv_lens
// CHECK: return
func.func @dynamic_past_off_by_one(%q: tensor<2x1x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x1x4xf32>, %v_new: tensor<2x1x6xf32>, %pos: i32) -> (tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.index_cast %pos : i32 to index
  %kc = tensor.insert_slice %k_new into %k_cache[0, %past, 0] [2, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, %past, 0] [2, 1, 6] [1, 1, 1] : tensor<2x1x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x1x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x1x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %m_e = tensor.empty() : tensor<1x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<1x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 1 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi sle, %j, %bound : index
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %vis, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %u_e = tensor.empty() : tensor<2x1x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x1x8xf32>, tensor<1x8xf32>) outs(%u_e : tensor<2x1x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x1x8xf32>
  %p_e = tensor.empty() : tensor<2x1x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x1x8xf32>) outs(%p_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %o_e = tensor.empty() : tensor<2x1x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x1x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  return %o, %kc, %vc : tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// Near miss: the bound comes from another value than the insert offset.
// CHECK-LABEL: func @dynamic_bound_other_value(
// CHECK: linalg.generic
// CHECK-NOT: kv_lens
// CHECK: kv.attention {{.*}} mask(%{{.*}} : tensor<1x1x1x8xf32>) outs(
// CHECK-NOT: kv_lens
// CHECK: return
func.func @dynamic_bound_other_value(%q: tensor<2x1x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x1x4xf32>, %v_new: tensor<2x1x6xf32>, %pos: i32, %pos2: i32) -> (tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.index_cast %pos : i32 to index
  %other = arith.index_cast %pos2 : i32 to index
  %kc = tensor.insert_slice %k_new into %k_cache[0, %past, 0] [2, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, %past, 0] [2, 1, 6] [1, 1, 1] : tensor<2x1x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x1x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x1x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %m_e = tensor.empty() : tensor<1x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<1x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 1 : index
    %bound = arith.addi %other, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %vis, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %u_e = tensor.empty() : tensor<2x1x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x1x8xf32>, tensor<1x8xf32>) outs(%u_e : tensor<2x1x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x1x8xf32>
  %p_e = tensor.empty() : tensor<2x1x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x1x8xf32>) outs(%p_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %o_e = tensor.empty() : tensor<2x1x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x1x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  return %o, %kc, %vc : tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// Near miss: the attention reads the caches before the insert, not the
// tensors written.
// CHECK-LABEL: func @dynamic_attends_old_cache(
// CHECK: linalg.generic
// CHECK-NOT: kv_lens
// CHECK: kv.attention {{.*}} mask(%{{.*}} : tensor<1x1x1x8xf32>) outs(
// CHECK-NOT: kv_lens
// CHECK: return
func.func @dynamic_attends_old_cache(%q: tensor<2x1x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x1x4xf32>, %v_new: tensor<2x1x6xf32>, %pos: i32) -> (tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.index_cast %pos : i32 to index
  %kc = tensor.insert_slice %k_new into %k_cache[0, %past, 0] [2, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, %past, 0] [2, 1, 6] [1, 1, 1] : tensor<2x1x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%k_cache : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x1x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x1x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %m_e = tensor.empty() : tensor<1x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<1x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 1 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %vis, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %u_e = tensor.empty() : tensor<2x1x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x1x8xf32>, tensor<1x8xf32>) outs(%u_e : tensor<2x1x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x1x8xf32>
  %p_e = tensor.empty() : tensor<2x1x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x1x8xf32>) outs(%p_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %o_e = tensor.empty() : tensor<2x1x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  %o = linalg.batch_matmul ins(%p, %v_cache : tensor<2x1x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  return %o, %kc, %vc : tensor<2x1x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// Near miss (static offset): every row keeps j < 2 + 4, one key more than
// written.
// CHECK-LABEL: func @constant_past_off_by_one(
// CHECK: linalg.generic
// CHECK-NOT: kv_lens
// CHECK: kv.attention {{.*}} mask(%{{.*}} : tensor<1x1x3x8xf32>) outs(
// CHECK-NOT: kv_lens
// CHECK: return
func.func @constant_past_off_by_one(%q: tensor<2x3x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x3x4xf32>, %v_new: tensor<2x3x6xf32>, %pos: i32) -> (tensor<2x3x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.constant 2 : index
  %kc = tensor.insert_slice %k_new into %k_cache[0, 2, 0] [2, 3, 4] [1, 1, 1] : tensor<2x3x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, 2, 0] [2, 3, 6] [1, 1, 1] : tensor<2x3x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %m_e = tensor.empty() : tensor<3x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<3x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 4 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %vis, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  %u_e = tensor.empty() : tensor<2x3x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x3x8xf32>, tensor<3x8xf32>) outs(%u_e : tensor<2x3x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x3x8xf32>
  %p_e = tensor.empty() : tensor<2x3x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x8xf32>) outs(%p_e : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x3x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o, %kc, %vc : tensor<2x3x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// Near miss (static offset): attention over the caches before the insert.
// CHECK-LABEL: func @constant_attends_old_cache(
// CHECK: linalg.generic
// CHECK-NOT: kv_lens
// CHECK: kv.attention {{.*}} mask(%{{.*}} : tensor<1x1x3x8xf32>) outs(
// CHECK-NOT: kv_lens
// CHECK: return
func.func @constant_attends_old_cache(%q: tensor<2x3x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x3x4xf32>, %v_new: tensor<2x3x6xf32>, %pos: i32) -> (tensor<2x3x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.constant 2 : index
  %kc = tensor.insert_slice %k_new into %k_cache[0, 2, 0] [2, 3, 4] [1, 1, 1] : tensor<2x3x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, 2, 0] [2, 3, 6] [1, 1, 1] : tensor<2x3x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%k_cache : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %m_e = tensor.empty() : tensor<3x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<3x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 3 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %vis, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  %u_e = tensor.empty() : tensor<2x3x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x3x8xf32>, tensor<3x8xf32>) outs(%u_e : tensor<2x3x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x3x8xf32>
  %p_e = tensor.empty() : tensor<2x3x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x8xf32>) outs(%p_e : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v_cache : tensor<2x3x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o, %kc, %vc : tensor<2x3x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}

// -----

// Near miss: causal j <= past + i + 1, one ahead of the query positions.
// CHECK-LABEL: func @dynamic_causal_wrong_offset(
// CHECK: linalg.generic
// CHECK-NOT: kv_lens
// CHECK: kv.attention {{.*}} mask(%{{.*}} : tensor<1x1x2x8xf32>) outs(
// CHECK-NOT: kv_lens
// CHECK: return
func.func @dynamic_causal_wrong_offset(%q: tensor<2x2x4xf32>, %k_cache: tensor<2x8x4xf32>, %v_cache: tensor<2x8x6xf32>, %k_new: tensor<2x2x4xf32>, %v_new: tensor<2x2x6xf32>, %pos: i32) -> (tensor<2x2x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>) {
  %past = arith.index_cast %pos : i32 to index
  %kc = tensor.insert_slice %k_new into %k_cache[0, %past, 0] [2, 2, 4] [1, 1, 1] : tensor<2x2x4xf32> into tensor<2x8x4xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, %past, 0] [2, 2, 6] [1, 1, 1] : tensor<2x2x6xf32> into tensor<2x8x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x8xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x8x4xf32>) outs(%kt_e : tensor<2x4x8xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x2x8xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x2x4xf32>, tensor<2x4x8xf32>) outs(%s_z : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %m_e = tensor.empty() : tensor<2x8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<2x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 2 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %c1 = arith.constant 1 : index
    %pi0 = arith.addi %past, %i : index
    %pi = arith.addi %pi0, %c1 : index
    %cv = arith.cmpi sle, %j, %pi : index
    %both = arith.andi %vis, %cv : i1
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %both, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  %u_e = tensor.empty() : tensor<2x2x8xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<2x2x8xf32>, tensor<2x8xf32>) outs(%u_e : tensor<2x2x8xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x2x8xf32>
  %p_e = tensor.empty() : tensor<2x2x8xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x2x8xf32>) outs(%p_e : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %o_e = tensor.empty() : tensor<2x2x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x6xf32>) -> tensor<2x2x6xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x2x8xf32>, tensor<2x8x6xf32>) outs(%o_z : tensor<2x2x6xf32>) -> tensor<2x2x6xf32>
  return %o, %kc, %vc : tensor<2x2x6xf32>, tensor<2x8x4xf32>, tensor<2x8x6xf32>
}
