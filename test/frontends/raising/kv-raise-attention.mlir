// RUN: kvfuse-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kv-raise-attention))" | FileCheck %s

// CHECK-LABEL: func @mul_scale
// CHECK-DAG: %[[Q:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4] : tensor<2x3x4xf32> into tensor<1x2x3x4xf32>
// CHECK: %[[A:.*]] = kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.softmax
// CHECK-NOT: linalg.batch_matmul
// CHECK: return %[[O]]
func.func @mul_scale(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @div_scale
// CHECK-DAG: %[[Q:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4] : tensor<2x3x4xf32> into tensor<1x2x3x4xf32>
// CHECK: %[[A:.*]] = kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 1.250000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.softmax
// CHECK-NOT: linalg.batch_matmul
// CHECK: return %[[O]]
func.func @div_scale(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 8.0 : f32
    %m = arith.divf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @no_scale
// CHECK-DAG: %[[Q:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4] : tensor<2x3x4xf32> into tensor<1x2x3x4xf32>
// CHECK: %[[A:.*]] = kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 1.000000e+00 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.softmax
// CHECK-NOT: linalg.batch_matmul
// CHECK: return %[[O]]
func.func @no_scale(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @float_mask
// CHECK-DAG: %[[Q:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4] : tensor<2x3x4xf32> into tensor<1x2x3x4xf32>
// CHECK: %[[A:.*]] = kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%{{.*}} : tensor<1x2x3x5xf32>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.softmax
// CHECK-NOT: linalg.batch_matmul
// CHECK: return %[[O]]
func.func @float_mask(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<2x3x5xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @float_mask_lhs
// CHECK-DAG: %[[Q:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 4] : tensor<2x3x4xf32> into tensor<1x2x3x4xf32>
// CHECK: %[[A:.*]] = kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%{{.*}} : tensor<1x2x3x5xf32>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[O:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x3x6xf32> into tensor<2x3x6xf32>
// CHECK-NOT: linalg.softmax
// CHECK-NOT: linalg.batch_matmul
// CHECK: return %[[O]]
func.func @float_mask_lhs(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<2x3x5xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%mask, %t : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @softmax_wrong_axis
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @softmax_wrong_axis(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(1) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @scale_after_softmax
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @scale_after_softmax(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%p : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%t, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @mask_after_softmax
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @mask_after_softmax(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<2x3x5xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%p, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%u, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @mask_before_scale
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @mask_before_scale(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<2x3x5xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%u : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.5 : f32
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @nonzero_accumulator
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @nonzero_accumulator(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 1.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @scale_not_constant
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @scale_not_constant(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @wrong_reduction_dim
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @wrong_reduction_dim(%q: tensor<2x3x4xf32>, %k: tensor<4x2x5xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<4x2x5xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [1, 0, 2]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %z2 = arith.constant 0.0 : f32
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%z2 : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// Grouped-query attention: 2 kv heads repeated to 4 query heads.
// CHECK-LABEL: func @gqa_broadcast
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x4x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.broadcast
// CHECK-NOT: linalg.softmax
// CHECK: return
func.func @gqa_broadcast(%q: tensor<4x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<4x3x6xf32> {
  %kb_e = tensor.empty() : tensor<2x2x5x4xf32>
  %kb = linalg.broadcast ins(%k : tensor<2x5x4xf32>) outs(%kb_e : tensor<2x2x5x4xf32>) dimensions = [1]
  %kr = tensor.collapse_shape %kb [[0, 1], [2], [3]] : tensor<2x2x5x4xf32> into tensor<4x5x4xf32>
  %vb_e = tensor.empty() : tensor<2x2x5x6xf32>
  %vb = linalg.broadcast ins(%v : tensor<2x5x6xf32>) outs(%vb_e : tensor<2x2x5x6xf32>) dimensions = [1]
  %vr = tensor.collapse_shape %vb [[0, 1], [2], [3]] : tensor<2x2x5x6xf32> into tensor<4x5x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<4x4x5xf32>
  %kt = linalg.transpose ins(%kr : tensor<4x5x4xf32>) outs(%kt_e : tensor<4x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<4x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x3x4xf32>, tensor<4x4x5xf32>) outs(%s_z : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %half = arith.constant 0.5 : f32
  %t_e = tensor.empty() : tensor<4x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x3x5xf32>) outs(%t_e : tensor<4x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %half, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x3x5xf32>
  %p_e = tensor.empty() : tensor<4x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%t : tensor<4x3x5xf32>) outs(%p_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %o_e = tensor.empty() : tensor<4x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %vr : tensor<4x3x5xf32>, tensor<4x5x6xf32>) outs(%o_z : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  return %o : tensor<4x3x6xf32>
}

// -----

// K repeated per group (broadcast along dim 1) but V tiled (broadcast along
// dim 0): query head h reads V head h % 2, not h / 2.
// CHECK-LABEL: func @gqa_mismatched_repeat
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @gqa_mismatched_repeat(%q: tensor<4x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<4x3x6xf32> {
  %kb_e = tensor.empty() : tensor<2x2x5x4xf32>
  %kb = linalg.broadcast ins(%k : tensor<2x5x4xf32>) outs(%kb_e : tensor<2x2x5x4xf32>) dimensions = [1]
  %kr = tensor.collapse_shape %kb [[0, 1], [2], [3]] : tensor<2x2x5x4xf32> into tensor<4x5x4xf32>
  %vb_e = tensor.empty() : tensor<2x2x5x6xf32>
  %vb = linalg.broadcast ins(%v : tensor<2x5x6xf32>) outs(%vb_e : tensor<2x2x5x6xf32>) dimensions = [0]
  %vr = tensor.collapse_shape %vb [[0, 1], [2], [3]] : tensor<2x2x5x6xf32> into tensor<4x5x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<4x4x5xf32>
  %kt = linalg.transpose ins(%kr : tensor<4x5x4xf32>) outs(%kt_e : tensor<4x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<4x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x3x4xf32>, tensor<4x4x5xf32>) outs(%s_z : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %p_e = tensor.empty() : tensor<4x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<4x3x5xf32>) outs(%p_e : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %o_e = tensor.empty() : tensor<4x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %vr : tensor<4x3x5xf32>, tensor<4x5x6xf32>) outs(%o_z : tensor<4x3x6xf32>) -> tensor<4x3x6xf32>
  return %o : tensor<4x3x6xf32>
}

// -----

// CHECK-LABEL: func @bool_mask
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%{{.*}} : tensor<1x2x3x5xi1>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 1.000000e+00 : f32}
// CHECK-NOT: linalg.softmax
// CHECK: return
func.func @bool_mask(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<2x3x5xi1>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<2x3x5xf32>, tensor<2x3x5xi1>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: i1, %o: f32):
    %ninf = arith.constant 0xFF800000 : f32
    %r = arith.select %m, %x, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// Masked where the mask is true: not kv.attention's convention.
// CHECK-LABEL: func @bool_mask_inverted
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @bool_mask_inverted(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<2x3x5xi1>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<2x3x5xf32>, tensor<2x3x5xi1>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: i1, %o: f32):
    %ninf = arith.constant 0xFF800000 : f32
    %r = arith.select %m, %ninf, %x : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// Masked scores replaced by a finite value still get softmax weight.
// CHECK-LABEL: func @bool_mask_finite_fill
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @bool_mask_finite_fill(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<2x3x5xi1>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<2x3x5xf32>, tensor<2x3x5xi1>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: i1, %o: f32):
    %big = arith.constant -1.0e+30 : f32
    %r = arith.select %m, %x, %big : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @softcap
// CHECK: kv.attention {{.*}} {scale = 2.500000e-01 : f32, softcap = 5.000000e+01 : f32}
// CHECK-NOT: math.tanh
// CHECK-NOT: linalg.softmax
// CHECK: return
func.func @softcap(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.25 : f32
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t : tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c1 = arith.constant 50.0 : f32
    %c2 = arith.constant 50.0 : f32
    %d = arith.divf %a, %c2 : f32
    %h = math.tanh %d : f32
    %r = arith.mulf %c1, %h : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// c1 * tanh(s / c2) with c1 != c2 is not a soft-cap.
// CHECK-LABEL: func @softcap_mismatched_constants
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @softcap_mismatched_constants(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t_e = tensor.empty() : tensor<2x3x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%t_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 0.25 : f32
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t : tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c1 = arith.constant 50.0 : f32
    %c2 = arith.constant 30.0 : f32
    %d = arith.divf %a, %c2 : f32
    %h = math.tanh %d : f32
    %r = arith.mulf %c1, %h : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// Softmax spelled out: max-reduce, exp(x - max), sum-reduce, divide.
// CHECK-LABEL: func @decomposed_softmax
// CHECK: kv.attention {{.*}} {scale = 1.000000e+00 : f32}
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @decomposed_softmax(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %mx_i = arith.constant 0xFF800000 : f32
  %mx_e = tensor.empty() : tensor<2x3xf32>
  %mx_f = linalg.fill ins(%mx_i : f32) outs(%mx_e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%s : tensor<2x3x5xf32>) outs(%mx_f : tensor<2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32>
  %ex_e = tensor.empty() : tensor<2x3x5xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mx : tensor<2x3x5xf32>, tensor<2x3xf32>) outs(%ex_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<2x3x5xf32>
  %sm_i = arith.constant 0.0 : f32
  %sm_e = tensor.empty() : tensor<2x3xf32>
  %sm_f = linalg.fill ins(%sm_i : f32) outs(%sm_e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%ex : tensor<2x3x5xf32>) outs(%sm_f : tensor<2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ex, %sm : tensor<2x3x5xf32>, tensor<2x3xf32>) outs(%p_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.divf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// CHECK-LABEL: func @decomposed_softmax_split
// CHECK: kv.attention {{.*}} {scale = 1.000000e+00 : f32}
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @decomposed_softmax_split(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %mx_i = arith.constant 0xFF800000 : f32
  %mx_e = tensor.empty() : tensor<2x3xf32>
  %mx_f = linalg.fill ins(%mx_i : f32) outs(%mx_e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%s : tensor<2x3x5xf32>) outs(%mx_f : tensor<2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32>
  %sb_e = tensor.empty() : tensor<2x3x5xf32>
  %sb = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mx : tensor<2x3x5xf32>, tensor<2x3xf32>) outs(%sb_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<2x3x5xf32>
  %ex_e = tensor.empty() : tensor<2x3x5xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sb : tensor<2x3x5xf32>) outs(%ex_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  } -> tensor<2x3x5xf32>
  %sm_i = arith.constant 0.0 : f32
  %sm_e = tensor.empty() : tensor<2x3xf32>
  %sm_f = linalg.fill ins(%sm_i : f32) outs(%sm_e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%ex : tensor<2x3x5xf32>) outs(%sm_f : tensor<2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ex, %sm : tensor<2x3x5xf32>, tensor<2x3xf32>) outs(%p_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.divf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// exp(x) / sum(exp(x)) equals softmax over the reals but overflows where
// kv.attention does not; it is deliberately left alone.
// CHECK-LABEL: func @decomposed_softmax_no_max
// CHECK-NOT: kv.attention
// CHECK: math.exp
// CHECK-NOT: kv.attention
// CHECK: return
func.func @decomposed_softmax_no_max(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %ex_e = tensor.empty() : tensor<2x3x5xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%ex_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  } -> tensor<2x3x5xf32>
  %sm_i = arith.constant 0.0 : f32
  %sm_e = tensor.empty() : tensor<2x3xf32>
  %sm_f = linalg.fill ins(%sm_i : f32) outs(%sm_e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%ex : tensor<2x3x5xf32>) outs(%sm_f : tensor<2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ex, %sm : tensor<2x3x5xf32>, tensor<2x3xf32>) outs(%p_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.divf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// The sum runs over the query axis: not a softmax over keys.
// CHECK-LABEL: func @decomposed_wrong_reduction_dim
// CHECK-NOT: kv.attention
// CHECK: math.exp
// CHECK-NOT: kv.attention
// CHECK: return
func.func @decomposed_wrong_reduction_dim(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x3x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %mx_i = arith.constant 0xFF800000 : f32
  %mx_e = tensor.empty() : tensor<2x3xf32>
  %mx_f = linalg.fill ins(%mx_i : f32) outs(%mx_e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%s : tensor<2x3x5xf32>) outs(%mx_f : tensor<2x3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32>
  %ex_e = tensor.empty() : tensor<2x3x5xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mx : tensor<2x3x5xf32>, tensor<2x3xf32>) outs(%ex_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<2x3x5xf32>
  %sm_i = arith.constant 0.0 : f32
  %sm_e = tensor.empty() : tensor<2x5xf32>
  %sm_f = linalg.fill ins(%sm_i : f32) outs(%sm_e : tensor<2x5xf32>) -> tensor<2x5xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>], iterator_types = ["parallel", "reduction", "parallel"]} ins(%ex : tensor<2x3x5xf32>) outs(%sm_f : tensor<2x5xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ex, %sm : tensor<2x3x5xf32>, tensor<2x5xf32>) outs(%p_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.divf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

// -----

// A decode step over the concatenation of cached and new K/V: attention runs
// over the concatenated tensors, with the mask kept explicit.
// CHECK-LABEL: func @concat_cache
// CHECK-DAG: %[[K:.*]] = tensor.concat dim(1) %{{.*}}, %{{.*}} : (tensor<2x4x4xf32>, tensor<2x1x4xf32>) -> tensor<2x5x4xf32>
// CHECK-DAG: %[[V:.*]] = tensor.concat dim(1) %{{.*}}, %{{.*}} : (tensor<2x4x6xf32>, tensor<2x1x6xf32>) -> tensor<2x5x6xf32>
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]]
// CHECK: kv.attention %{{.*}}, %[[K4]], %[[V4]] : tensor<1x2x1x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%{{.*}} : tensor<1x2x1x5xf32>)
// CHECK-NOT: linalg.softmax
// CHECK: return
func.func @concat_cache(%q: tensor<2x1x4xf32>, %k_past: tensor<2x4x4xf32>, %v_past: tensor<2x4x6xf32>, %k_new: tensor<2x1x4xf32>, %v_new: tensor<2x1x6xf32>, %mask: tensor<2x1x5xf32>) -> (tensor<2x1x6xf32>, tensor<2x5x4xf32>, tensor<2x5x6xf32>) {
  %k = tensor.concat dim(1) %k_past, %k_new : (tensor<2x4x4xf32>, tensor<2x1x4xf32>) -> tensor<2x5x4xf32>
  %v = tensor.concat dim(1) %v_past, %v_new : (tensor<2x4x6xf32>, tensor<2x1x6xf32>) -> tensor<2x5x6xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x1x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x1x5xf32>) -> tensor<2x1x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x1x4xf32>, tensor<2x4x5xf32>) outs(%s_z : tensor<2x1x5xf32>) -> tensor<2x1x5xf32>
  %u_e = tensor.empty() : tensor<2x1x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<2x1x5xf32>, tensor<2x1x5xf32>) outs(%u_e : tensor<2x1x5xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x1x5xf32>
  %p_e = tensor.empty() : tensor<2x1x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x1x5xf32>) outs(%p_e : tensor<2x1x5xf32>) -> tensor<2x1x5xf32>
  %o_e = tensor.empty() : tensor<2x1x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x1x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  return %o, %k, %v : tensor<2x1x6xf32>, tensor<2x5x4xf32>, tensor<2x5x6xf32>
}
