// RUN: kvfuse-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kv-raise-attention))" | FileCheck %s

// Spellings of the contractions and of K's transpose that exporters emit
// (indexing maps, permuting copies, 4-D tensors reshaped to 3-D, generic
// contractions), and near misses that must stay untouched.

// K^T as a linalg.generic copy with input map (d0, d2, d1).
// CHECK-LABEL: func @copy_generic_transpose(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 4]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 6]
// CHECK: %[[A:.*]] = kv.attention %[[Q4]], %[[K4]], %[[V4]] : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @copy_generic_transpose(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x4x5xf32>
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// Q K^T as a batch_matmul whose indexing map reads K as (b, n, k).
// CHECK-LABEL: func @batch_matmul_maps(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 4]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 6]
// CHECK: %[[A:.*]] = kv.attention %[[Q4]], %[[K4]], %[[V4]] : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @batch_matmul_maps(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%q, %k : tensor<2x3x4xf32>, tensor<2x5x4xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// Q K^T as linalg.contract.
// CHECK-LABEL: func @contract_maps(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 4]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 6]
// CHECK: %[[A:.*]] = kv.attention %[[Q4]], %[[K4]], %[[V4]] : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @contract_maps(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.contract indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%q, %k : tensor<2x3x4xf32>, tensor<2x5x4xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// Both contractions as multiply-add linalg.generic ops; P V takes V first.
// CHECK-LABEL: func @generic_contractions(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 4]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 6]
// CHECK: %[[A:.*]] = kv.attention %[[Q4]], %[[K4]], %[[V4]] : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @generic_contractions(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x3x4xf32>, tensor<2x5x4xf32>) outs(%s_z : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%v, %p : tensor<2x5x6xf32>, tensor<2x3x5xf32>) outs(%o_z : tensor<2x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// Attention on [B, H, S, D] tensors as 4-D generic contractions: kv.attention
// takes the tensors as they are.
// CHECK-LABEL: func @generic_4d(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK: %[[A:.*]] = kv.attention %[[Q]], %[[K]], %[[V]] : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x6xf32> outs(%{{.*}} : tensor<2x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return %[[A]]
func.func @generic_4d(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>) -> tensor<2x2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>) outs(%s_z : tensor<2x2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<2x2x3x5xf32>) outs(%t_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x2x3x5xf32>
  %p = linalg.softmax dimension(3) ins(%t : tensor<2x2x3x5xf32>) outs(%p_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x3x6xf32>) -> tensor<2x2x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x2x3x5xf32>, tensor<2x2x5x6xf32>) outs(%o_z : tensor<2x2x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x6xf32>
  return %o : tensor<2x2x3x6xf32>
}

// -----

// K transposed to [B, H, D, S] and indexed back as (b, h, d, j) by the
// contraction: the two transposes cancel.
// CHECK-LABEL: func @generic_4d_key_map_transpose(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK: %[[A:.*]] = kv.attention %[[Q]], %[[K]], %[[V]] : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x6xf32> outs(%{{.*}} : tensor<2x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return %[[A]]
func.func @generic_4d_key_map_transpose(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>) -> tensor<2x2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x2x5x4xf32>) outs(%kt_e : tensor<2x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %s_e = tensor.empty() : tensor<2x2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<2x2x3x4xf32>, tensor<2x2x4x5xf32>) outs(%s_z : tensor<2x2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<2x2x3x5xf32>) outs(%t_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x2x3x5xf32>
  %p = linalg.softmax dimension(3) ins(%t : tensor<2x2x3x5xf32>) outs(%p_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x3x6xf32>) -> tensor<2x2x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x2x3x5xf32>, tensor<2x2x5x6xf32>) outs(%o_z : tensor<2x2x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x6xf32>
  return %o : tensor<2x2x3x6xf32>
}

// -----

// 4-D, softmax spelled out (max-reduce, exp(x - max), sum-reduce, divide)
// over the last axis.
// CHECK-LABEL: func @generic_4d_decomposed_softmax(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK: %[[A:.*]] = kv.attention %[[Q]], %[[K]], %[[V]] : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x6xf32> outs(%{{.*}} : tensor<2x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK-NOT: math.exp
// CHECK: return %[[A]]
func.func @generic_4d_decomposed_softmax(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>) -> tensor<2x2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>) outs(%s_z : tensor<2x2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<2x2x3x5xf32>) outs(%t_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %mx_i = arith.constant 0xFF800000 : f32
  %mx_e = tensor.empty() : tensor<2x2x3xf32>
  %mx_f = linalg.fill ins(%mx_i : f32) outs(%mx_e : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%t : tensor<2x2x3x5xf32>) outs(%mx_f : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %ex_e = tensor.empty() : tensor<2x2x3x5xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t, %mx : tensor<2x2x3x5xf32>, tensor<2x2x3xf32>) outs(%ex_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<2x2x3x5xf32>
  %sm_e = tensor.empty() : tensor<2x2x3xf32>
  %sm_f = linalg.fill ins(%zero : f32) outs(%sm_e : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ex : tensor<2x2x3x5xf32>) outs(%sm_f : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %p_e = tensor.empty() : tensor<2x2x3x5xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ex, %sm : tensor<2x2x3x5xf32>, tensor<2x2x3xf32>) outs(%p_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.divf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<2x2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x3x6xf32>) -> tensor<2x2x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x2x3x5xf32>, tensor<2x2x5x6xf32>) outs(%o_z : tensor<2x2x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x6xf32>
  return %o : tensor<2x2x3x6xf32>
}

// -----

// Exporter style: [1, H, S, D] tensors collapsed to [H, S, D] for
// batch_matmul, K transposed in 4-D with [0, 1, 3, 2] before its collapse.
// The reshapes cancel: kv.attention reads the 4-D tensors.
// CHECK-LABEL: func @transpose_4d_collapse(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK: %[[A:.*]] = kv.attention %[[Q]], %[[K]], %[[V]] : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @transpose_4d_collapse(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x3x4xf32> into tensor<2x3x4xf32>
  %kt4_e = tensor.empty() : tensor<1x2x4x5xf32>
  %kt4 = linalg.transpose ins(%k : tensor<1x2x5x4xf32>) outs(%kt4_e : tensor<1x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<1x2x4x5xf32> into tensor<2x4x5xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x5x6xf32> into tensor<2x5x6xf32>
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// B = 2 and H = 2 collapsed into one batch of 4: K is collapsed the same way
// (the 4-D transpose commutes with the collapse of B and H).
// CHECK-LABEL: func @collapse_batch_and_heads(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[KC:.*]] = tensor.collapse_shape %[[K]] {{\[}}[0, 1], [2], [3]] : tensor<2x2x5x4xf32> into tensor<4x5x4xf32>
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[KC]] {{\[}}[0, 1], [2], [3]] output_shape [1, 4, 5, 4]
// CHECK: %[[A:.*]] = kv.attention %{{.*}}, %[[K4]], %{{.*}} : tensor<1x4x3x4xf32>, tensor<1x4x5x4xf32>, tensor<1x4x5x6xf32> outs(%{{.*}} : tensor<1x4x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x4x3x6xf32> into tensor<4x3x6xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @collapse_batch_and_heads(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>) -> tensor<4x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x2x3x4xf32> into tensor<4x3x4xf32>
  %kt4_e = tensor.empty() : tensor<2x2x4x5xf32>
  %kt4 = linalg.transpose ins(%k : tensor<2x2x5x4xf32>) outs(%kt4_e : tensor<2x2x4x5xf32>) permutation = [0, 1, 3, 2]
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<2x2x4x5xf32> into tensor<4x4x5xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x2x5x6xf32> into tensor<4x5x6xf32>
  %s_e = tensor.empty() : tensor<4x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<4x3x4xf32>, tensor<4x4x5xf32>) outs(%s_z : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %t_e = tensor.empty() : tensor<4x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x3x5xf32>) outs(%t_e : tensor<4x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<4x3x5xf32>
  %p_e = tensor.empty() : tensor<4x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<4x3x5xf32>) outs(%p_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %o_e = tensor.empty() : tensor<4x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<4x3x5xf32>, tensor<4x5x6xf32>) outs(%o_z : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  return %o : tensor<4x3x6xf32>
}

// -----

// One head with linalg.matmul (no batch dim).
// CHECK-LABEL: func @matmul_single_head(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<3x4xf32>, %[[K:[a-z0-9]+]]: tensor<5x4xf32>, %[[V:[a-z0-9]+]]: tensor<5x6xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 3, 4]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 5, 4]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 5, 6]
// CHECK: %[[A:.*]] = kv.attention %[[Q4]], %[[K4]], %[[V4]] : tensor<1x1x3x4xf32>, tensor<1x1x5x4xf32>, tensor<1x1x5x6xf32> outs(%{{.*}} : tensor<1x1x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1, 2], [3]] : tensor<1x1x3x6xf32> into tensor<3x6xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @matmul_single_head(%q: tensor<3x4xf32>, %k: tensor<5x4xf32>, %v: tensor<5x6xf32>) -> tensor<3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<5x4xf32>) outs(%kt_e : tensor<4x5xf32>) permutation = [1, 0]
  %s_e = tensor.empty() : tensor<3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<3x5xf32>) -> tensor<3x5xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<3x4xf32>, tensor<4x5xf32>) outs(%s_z : tensor<3x5xf32>) -> tensor<3x5xf32>
  %t_e = tensor.empty() : tensor<3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<3x5xf32>) outs(%t_e : tensor<3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<3x5xf32>
  %p_e = tensor.empty() : tensor<3x5xf32>
  %p = linalg.softmax dimension(1) ins(%t : tensor<3x5xf32>) outs(%p_e : tensor<3x5xf32>) -> tensor<3x5xf32>
  %o_e = tensor.empty() : tensor<3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<3x6xf32>) -> tensor<3x6xf32>
  %o = linalg.matmul ins(%p, %v : tensor<3x5xf32>, tensor<5x6xf32>) outs(%o_z : tensor<3x6xf32>) -> tensor<3x6xf32>
  return %o : tensor<3x6xf32>
}

// -----

// Grouped-query attention on 4-D tensors: 2 kv heads broadcast along a new
// dim 2 and collapsed into 4 query heads; kv.attention keeps 2 kv heads.
// CHECK-LABEL: func @generic_4d_gqa(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x5x6xf32>
// CHECK-NOT: linalg.broadcast
// CHECK-NOT: linalg.
// CHECK: %[[A:.*]] = kv.attention %[[Q]], %[[K]], %[[V]] : tensor<1x4x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x4x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return %[[A]]
func.func @generic_4d_gqa(%q: tensor<1x4x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x6xf32>) -> tensor<1x4x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kr_be = tensor.empty() : tensor<1x2x2x5x4xf32>
  %kr_b = linalg.broadcast ins(%k : tensor<1x2x5x4xf32>) outs(%kr_be : tensor<1x2x2x5x4xf32>) dimensions = [2]
  %kr = tensor.collapse_shape %kr_b [[0], [1, 2], [3], [4]] : tensor<1x2x2x5x4xf32> into tensor<1x4x5x4xf32>
  %vr_be = tensor.empty() : tensor<1x2x2x5x6xf32>
  %vr_b = linalg.broadcast ins(%v : tensor<1x2x5x6xf32>) outs(%vr_be : tensor<1x2x2x5x6xf32>) dimensions = [2]
  %vr = tensor.collapse_shape %vr_b [[0], [1, 2], [3], [4]] : tensor<1x2x2x5x6xf32> into tensor<1x4x5x6xf32>
  %s_e = tensor.empty() : tensor<1x4x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<1x4x3x5xf32>) -> tensor<1x4x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kr : tensor<1x4x3x4xf32>, tensor<1x4x5x4xf32>) outs(%s_z : tensor<1x4x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x5xf32>
  %t_e = tensor.empty() : tensor<1x4x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x3x5xf32>) outs(%t_e : tensor<1x4x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x5xf32>
  %p_e = tensor.empty() : tensor<1x4x3x5xf32>
  %p = linalg.softmax dimension(3) ins(%t : tensor<1x4x3x5xf32>) outs(%p_e : tensor<1x4x3x5xf32>) -> tensor<1x4x3x5xf32>
  %o_e = tensor.empty() : tensor<1x4x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<1x4x3x6xf32>) -> tensor<1x4x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vr : tensor<1x4x3x5xf32>, tensor<1x4x5x6xf32>) outs(%o_z : tensor<1x4x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x6xf32>
  return %o : tensor<1x4x3x6xf32>
}

// -----

// Grouped-query attention with the repeat spelled as a broadcasting
// linalg.generic (input map drops the group dim).
// CHECK-LABEL: func @gqa_generic_broadcast(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<4x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1], [2], [3]] output_shape [1, 4, 3, 4]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 4]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 5, 6]
// CHECK: %[[A:.*]] = kv.attention %[[Q4]], %[[K4]], %[[V4]] : tensor<1x4x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x4x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x4x3x6xf32> into tensor<4x3x6xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[O]]
func.func @gqa_generic_broadcast(%q: tensor<4x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<4x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kb_e = tensor.empty() : tensor<2x2x5x4xf32>
  %kb = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x5x4xf32>) outs(%kb_e : tensor<2x2x5x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x2x5x4xf32>
  %kr = tensor.collapse_shape %kb [[0, 1], [2], [3]] : tensor<2x2x5x4xf32> into tensor<4x5x4xf32>
  %vb_e = tensor.empty() : tensor<2x2x5x6xf32>
  %vb = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<2x5x6xf32>) outs(%vb_e : tensor<2x2x5x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x2x5x6xf32>
  %vr = tensor.collapse_shape %vb [[0, 1], [2], [3]] : tensor<2x2x5x6xf32> into tensor<4x5x6xf32>
  %kt_e = tensor.empty() : tensor<4x4x5xf32>
  %kt = linalg.transpose ins(%kr : tensor<4x5x4xf32>) outs(%kt_e : tensor<4x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<4x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x3x4xf32>, tensor<4x4x5xf32>) outs(%s_z : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %t_e = tensor.empty() : tensor<4x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x3x5xf32>) outs(%t_e : tensor<4x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<4x3x5xf32>
  %p_e = tensor.empty() : tensor<4x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<4x3x5xf32>) outs(%p_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %o_e = tensor.empty() : tensor<4x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %vr : tensor<4x3x5xf32>, tensor<4x5x6xf32>) outs(%o_z : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  return %o : tensor<4x3x6xf32>
}

// -----

// The copy swaps dims 0 and 1 instead of 1 and 2: K would be read as
// [D, H, S], a layout no tensor here holds (no transpose is invented).
// CHECK-LABEL: func @copy_generic_wrong_dims
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @copy_generic_wrong_dims(%q: tensor<4x3x4xf32>, %k: tensor<4x4x4xf32>, %v: tensor<4x4x6xf32>) -> tensor<4x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<4x4x4xf32>
  %kt = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<4x4x4xf32>) outs(%kt_e : tensor<4x4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<4x4x4xf32>
  %s_e = tensor.empty() : tensor<4x3x4xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<4x3x4xf32>) -> tensor<4x3x4xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x3x4xf32>, tensor<4x4x4xf32>) outs(%s_z : tensor<4x3x4xf32>) -> tensor<4x3x4xf32>
  %t_e = tensor.empty() : tensor<4x3x4xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x3x4xf32>) outs(%t_e : tensor<4x3x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<4x3x4xf32>
  %p_e = tensor.empty() : tensor<4x3x4xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<4x3x4xf32>) outs(%p_e : tensor<4x3x4xf32>) -> tensor<4x3x4xf32>
  %o_e = tensor.empty() : tensor<4x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x3x4xf32>, tensor<4x4x6xf32>) outs(%o_z : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  return %o : tensor<4x3x6xf32>
}

// -----

// The transposing generic also negates: not a layout change.
// CHECK-LABEL: func @copy_generic_not_a_copy
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @copy_generic_not_a_copy(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<2x4x5xf32>
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// The map reads K as (b, k, n): Q K, not Q K^T, of a [H, S, D] tensor
// (square, so the types agree).
// CHECK-LABEL: func @batch_matmul_map_not_transpose
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @batch_matmul_map_not_transpose(%q: tensor<2x3x4xf32>, %k: tensor<2x4x4xf32>, %v: tensor<2x4x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x3x4xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %s = linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%q, %k : tensor<2x3x4xf32>, tensor<2x4x4xf32>) outs(%s_z : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %t_e = tensor.empty() : tensor<2x3x4xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x4xf32>) outs(%t_e : tensor<2x3x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x4xf32>
  %p_e = tensor.empty() : tensor<2x3x4xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x4xf32>) outs(%p_e : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x4xf32>, tensor<2x4x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// P V contracts P's query axis (P^T V), not the key axis the softmax
// normalised.
// CHECK-LABEL: func @pv_contracts_query_axis
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @pv_contracts_query_axis(%q: tensor<2x5x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x5x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x5x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x5x5xf32>) -> tensor<2x5x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x5x4xf32>, tensor<2x5x4xf32>) outs(%s_z : tensor<2x5x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x5x5xf32>
  %t_e = tensor.empty() : tensor<2x5x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x5x5xf32>) outs(%t_e : tensor<2x5x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x5x5xf32>
  %p_e = tensor.empty() : tensor<2x5x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x5x5xf32>) outs(%p_e : tensor<2x5x5xf32>) -> tensor<2x5x5xf32>
  %o_e = tensor.empty() : tensor<2x5x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x5x6xf32>) -> tensor<2x5x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x5x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x5x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x5x6xf32>
  return %o : tensor<2x5x6xf32>
}

// -----

// The generic accumulates (q * k)^2: not a contraction.
// CHECK-LABEL: func @generic_contraction_extra_op
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @generic_contraction_extra_op(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x3x4xf32>, tensor<2x5x4xf32>) outs(%s_z : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %m2 = arith.mulf %m, %m : f32
    %r = arith.addf %acc, %m2 : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// 4-D, softmax over the query axis.
// CHECK-LABEL: func @generic_4d_softmax_wrong_axis
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @generic_4d_softmax_wrong_axis(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>) -> tensor<2x2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>) outs(%s_z : tensor<2x2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<2x2x3x5xf32>) outs(%t_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x2x3x5xf32>) outs(%p_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x3x6xf32>) -> tensor<2x2x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x2x3x5xf32>, tensor<2x2x5x6xf32>) outs(%o_z : tensor<2x2x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x6xf32>
  return %o : tensor<2x2x3x6xf32>
}

// -----

// K's 4-D transpose also swaps B and H: after the collapse, query
// row b * H + h meets key row h * B + b.
// CHECK-LABEL: func @transpose_4d_swaps_batch_and_heads
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @transpose_4d_swaps_batch_and_heads(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>) -> tensor<4x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x2x3x4xf32> into tensor<4x3x4xf32>
  %kt4_e = tensor.empty() : tensor<2x2x4x5xf32>
  %kt4 = linalg.transpose ins(%k : tensor<2x2x5x4xf32>) outs(%kt4_e : tensor<2x2x4x5xf32>) permutation = [1, 0, 3, 2]
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<2x2x4x5xf32> into tensor<4x4x5xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x2x5x6xf32> into tensor<4x5x6xf32>
  %s_e = tensor.empty() : tensor<4x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<4x3x4xf32>, tensor<4x4x5xf32>) outs(%s_z : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %t_e = tensor.empty() : tensor<4x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x3x5xf32>) outs(%t_e : tensor<4x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<4x3x5xf32>
  %p_e = tensor.empty() : tensor<4x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<4x3x5xf32>) outs(%p_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %o_e = tensor.empty() : tensor<4x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<4x3x5xf32>, tensor<4x5x6xf32>) outs(%o_z : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  return %o : tensor<4x3x6xf32>
}

// -----

// K tiled (query head h reads kv head h % 2) but V repeated per group
// (h / 2).
// CHECK-LABEL: func @generic_4d_gqa_tiled_key
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @generic_4d_gqa_tiled_key(%q: tensor<1x4x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x6xf32>) -> tensor<1x4x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kr_be = tensor.empty() : tensor<1x2x2x5x4xf32>
  %kr_b = linalg.broadcast ins(%k : tensor<1x2x5x4xf32>) outs(%kr_be : tensor<1x2x2x5x4xf32>) dimensions = [1]
  %kr = tensor.collapse_shape %kr_b [[0], [1, 2], [3], [4]] : tensor<1x2x2x5x4xf32> into tensor<1x4x5x4xf32>
  %vr_be = tensor.empty() : tensor<1x2x2x5x6xf32>
  %vr_b = linalg.broadcast ins(%v : tensor<1x2x5x6xf32>) outs(%vr_be : tensor<1x2x2x5x6xf32>) dimensions = [2]
  %vr = tensor.collapse_shape %vr_b [[0], [1, 2], [3], [4]] : tensor<1x2x2x5x6xf32> into tensor<1x4x5x6xf32>
  %s_e = tensor.empty() : tensor<1x4x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<1x4x3x5xf32>) -> tensor<1x4x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kr : tensor<1x4x3x4xf32>, tensor<1x4x5x4xf32>) outs(%s_z : tensor<1x4x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x5xf32>
  %t_e = tensor.empty() : tensor<1x4x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x3x5xf32>) outs(%t_e : tensor<1x4x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x5xf32>
  %p_e = tensor.empty() : tensor<1x4x3x5xf32>
  %p = linalg.softmax dimension(3) ins(%t : tensor<1x4x3x5xf32>) outs(%p_e : tensor<1x4x3x5xf32>) -> tensor<1x4x3x5xf32>
  %o_e = tensor.empty() : tensor<1x4x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<1x4x3x6xf32>) -> tensor<1x4x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vr : tensor<1x4x3x5xf32>, tensor<1x4x5x6xf32>) outs(%o_z : tensor<1x4x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x6xf32>
  return %o : tensor<1x4x3x6xf32>
}

// -----

// Softmax as TOSA lowers it: the max starts from the lowest finite float
// and the division is a multiply by the reciprocal of the sum.
// CHECK-LABEL: func @generic_4d_tosa_softmax(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x2x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<2x2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<2x2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK: %[[A:.*]] = kv.attention %[[Q]], %[[K]], %[[V]] : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x6xf32> outs(%{{.*}} : tensor<2x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK-NOT: math.exp
// CHECK: return %[[A]]
func.func @generic_4d_tosa_softmax(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>) -> tensor<2x2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>) outs(%s_z : tensor<2x2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<2x2x3x5xf32>) outs(%t_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %mx_i = arith.constant -3.40282347E+38 : f32
  %mx_e = tensor.empty() : tensor<2x2x3xf32>
  %mx_f = linalg.fill ins(%mx_i : f32) outs(%mx_e : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%t : tensor<2x2x3x5xf32>) outs(%mx_f : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %ex_e = tensor.empty() : tensor<2x2x3x5xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t, %mx : tensor<2x2x3x5xf32>, tensor<2x2x3xf32>) outs(%ex_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<2x2x3x5xf32>
  %sm_e = tensor.empty() : tensor<2x2x3xf32>
  %sm_f = linalg.fill ins(%zero : f32) outs(%sm_e : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ex : tensor<2x2x3x5xf32>) outs(%sm_f : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %rc_e = tensor.empty() : tensor<2x2x3xf32>
  %rc = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sm : tensor<2x2x3xf32>) outs(%rc_e : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %r = arith.divf %one, %a : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %p_e = tensor.empty() : tensor<2x2x3x5xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ex, %rc : tensor<2x2x3x5xf32>, tensor<2x2x3xf32>) outs(%p_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.mulf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<2x2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x3x6xf32>) -> tensor<2x2x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x2x3x5xf32>, tensor<2x2x5x6xf32>) outs(%o_z : tensor<2x2x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x6xf32>
  return %o : tensor<2x2x3x6xf32>
}

// -----

// The max starts from -1e30: rows whose scores are all below it normalise
// differently, so it is not softmax.
// CHECK-LABEL: func @tosa_softmax_max_init_too_high
// CHECK-NOT: kv.attention
// CHECK: math.exp
// CHECK-NOT: kv.attention
// CHECK: return
func.func @tosa_softmax_max_init_too_high(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>) -> tensor<2x2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>) outs(%s_z : tensor<2x2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<2x2x3x5xf32>) outs(%t_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %mx_i = arith.constant -1.0E+30 : f32
  %mx_e = tensor.empty() : tensor<2x2x3xf32>
  %mx_f = linalg.fill ins(%mx_i : f32) outs(%mx_e : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%t : tensor<2x2x3x5xf32>) outs(%mx_f : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %ex_e = tensor.empty() : tensor<2x2x3x5xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t, %mx : tensor<2x2x3x5xf32>, tensor<2x2x3xf32>) outs(%ex_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<2x2x3x5xf32>
  %sm_e = tensor.empty() : tensor<2x2x3xf32>
  %sm_f = linalg.fill ins(%zero : f32) outs(%sm_e : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ex : tensor<2x2x3x5xf32>) outs(%sm_f : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %rc_e = tensor.empty() : tensor<2x2x3xf32>
  %rc = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sm : tensor<2x2x3xf32>) outs(%rc_e : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %r = arith.divf %one, %a : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %p_e = tensor.empty() : tensor<2x2x3x5xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ex, %rc : tensor<2x2x3x5xf32>, tensor<2x2x3xf32>) outs(%p_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.mulf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<2x2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x3x6xf32>) -> tensor<2x2x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x2x3x5xf32>, tensor<2x2x5x6xf32>) outs(%o_z : tensor<2x2x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x6xf32>
  return %o : tensor<2x2x3x6xf32>
}

// -----

// Multiplied by 2 / sum: twice the softmax.
// CHECK-LABEL: func @tosa_softmax_not_reciprocal
// CHECK-NOT: kv.attention
// CHECK: math.exp
// CHECK-NOT: kv.attention
// CHECK: return
func.func @tosa_softmax_not_reciprocal(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x5x4xf32>, %v: tensor<2x2x5x6xf32>) -> tensor<2x2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %s_e = tensor.empty() : tensor<2x2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x2x3x4xf32>, tensor<2x2x5x4xf32>) outs(%s_z : tensor<2x2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<2x2x3x5xf32>) outs(%t_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x5xf32>
  %mx_i = arith.constant -3.40282347E+38 : f32
  %mx_e = tensor.empty() : tensor<2x2x3xf32>
  %mx_f = linalg.fill ins(%mx_i : f32) outs(%mx_e : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%t : tensor<2x2x3x5xf32>) outs(%mx_f : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %ex_e = tensor.empty() : tensor<2x2x3x5xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t, %mx : tensor<2x2x3x5xf32>, tensor<2x2x3xf32>) outs(%ex_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<2x2x3x5xf32>
  %sm_e = tensor.empty() : tensor<2x2x3xf32>
  %sm_f = linalg.fill ins(%zero : f32) outs(%sm_e : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ex : tensor<2x2x3x5xf32>) outs(%sm_f : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %rc_e = tensor.empty() : tensor<2x2x3xf32>
  %rc = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sm : tensor<2x2x3xf32>) outs(%rc_e : tensor<2x2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 2.0 : f32
    %r = arith.divf %one, %a : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3xf32>
  %p_e = tensor.empty() : tensor<2x2x3x5xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ex, %rc : tensor<2x2x3x5xf32>, tensor<2x2x3xf32>) outs(%p_e : tensor<2x2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.mulf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<2x2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x2x3x6xf32>) -> tensor<2x2x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x2x3x5xf32>, tensor<2x2x5x6xf32>) outs(%o_z : tensor<2x2x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x3x6xf32>
  return %o : tensor<2x2x3x6xf32>
}

// -----

// repeat_kv as exporters spell x[:, :, None].expand(B, Hkv, G, S, D)
// .reshape(B, Hkv * G, S, D): a unit dim inserted by expand_shape, a
// generic copy reading it at 0, a collapse.
// CHECK-LABEL: func @generic_4d_gqa_repeat_kv(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x3x4xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x5x4xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x5x6xf32>
// CHECK-NOT: linalg.
// CHECK: %[[A:.*]] = kv.attention %[[Q]], %[[K]], %[[V]] : tensor<1x4x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x4x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return %[[A]]
func.func @generic_4d_gqa_repeat_kv(%q: tensor<1x4x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x6xf32>) -> tensor<1x4x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kr_u = tensor.expand_shape %k [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 5, 4] : tensor<1x2x5x4xf32> into tensor<1x2x1x5x4xf32>
  %kr_be = tensor.empty() : tensor<1x2x2x5x4xf32>
  %kr_b = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%kr_u : tensor<1x2x1x5x4xf32>) outs(%kr_be : tensor<1x2x2x5x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x2x2x5x4xf32>
  %kr = tensor.collapse_shape %kr_b [[0], [1, 2], [3], [4]] : tensor<1x2x2x5x4xf32> into tensor<1x4x5x4xf32>
  %vr_u = tensor.expand_shape %v [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 5, 6] : tensor<1x2x5x6xf32> into tensor<1x2x1x5x6xf32>
  %vr_be = tensor.empty() : tensor<1x2x2x5x6xf32>
  %vr_b = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%vr_u : tensor<1x2x1x5x6xf32>) outs(%vr_be : tensor<1x2x2x5x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x2x2x5x6xf32>
  %vr = tensor.collapse_shape %vr_b [[0], [1, 2], [3], [4]] : tensor<1x2x2x5x6xf32> into tensor<1x4x5x6xf32>
  %s_e = tensor.empty() : tensor<1x4x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<1x4x3x5xf32>) -> tensor<1x4x3x5xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kr : tensor<1x4x3x4xf32>, tensor<1x4x5x4xf32>) outs(%s_z : tensor<1x4x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x5xf32>
  %t_e = tensor.empty() : tensor<1x4x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x3x5xf32>) outs(%t_e : tensor<1x4x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x5xf32>
  %p_e = tensor.empty() : tensor<1x4x3x5xf32>
  %p = linalg.softmax dimension(3) ins(%t : tensor<1x4x3x5xf32>) outs(%p_e : tensor<1x4x3x5xf32>) -> tensor<1x4x3x5xf32>
  %o_e = tensor.empty() : tensor<1x4x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<1x4x3x6xf32>) -> tensor<1x4x3x6xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vr : tensor<1x4x3x5xf32>, tensor<1x4x5x6xf32>) outs(%o_z : tensor<1x4x3x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x3x6xf32>
  return %o : tensor<1x4x3x6xf32>
}

