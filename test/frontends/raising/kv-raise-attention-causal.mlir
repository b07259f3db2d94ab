// RUN: kvfuse-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(kv-raise-attention))" | FileCheck %s

// Masks. Built in the graph: exactly causal ones (proven by evaluating every
// element) become kv.attention's `causal` with the matching causal_offset;
// anything else stays an explicit mask tensor. Broadcast by the mask add's
// indexing map: raised when the map broadcasts the way kv.attention does
// (trailing dims, size-1 dims read at 0), left alone otherwise.

// 0 where j <= i + 2, -inf elsewhere (3 queries at the end of 5 keys):
// causal with bottom-right alignment, causal_offset = 2.
// CHECK-LABEL: func @causal_index_generic
// CHECK-NOT: linalg.
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {causal, causal_offset = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return
func.func @causal_index_generic(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %lim = arith.addi %i, %c2 : index
    %ok = arith.cmpi sle, %j, %lim : index
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant 0xFF800000 : f32
    %r = arith.select %ok, %zero_m, %ninf_m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// A constant lower-triangular mask broadcast over heads: causal, offset 0.
// CHECK-LABEL: func @causal_constant_broadcast
// CHECK-NOT: linalg.
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {causal, scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return
func.func @causal_constant_broadcast(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %tri = arith.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000]]> : tensor<3x5xf32>
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.broadcast ins(%tri : tensor<3x5xf32>) outs(%mask_e : tensor<2x3x5xf32>) dimensions = [0]
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// An i1 mask (i + 2 >= j) in select(mask, s, -inf).
// CHECK-LABEL: func @causal_bool_select
// CHECK-NOT: linalg.
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {causal, causal_offset = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return
func.func @causal_bool_select(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xi1>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xi1>) {
  ^bb0(%o: i1):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %lim = arith.addi %i, %c2 : index
    %ok = arith.cmpi uge, %lim, %j : index
    linalg.yield %ok : i1
  } -> tensor<2x3x5xi1>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%mask, %t : tensor<2x3x5xi1>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%m: i1, %x: f32, %o: f32):
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

// j < i: causal_offset = -1 (query 0 sees no key; see the pass's known
// difference for fully masked rows).
// CHECK-LABEL: func @causal_negative_offset
// CHECK-NOT: linalg.
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {causal, causal_offset = -1 : i64, scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return
func.func @causal_negative_offset(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %ok = arith.cmpi ult, %j, %i : index
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant 0xFF800000 : f32
    %r = arith.select %ok, %zero_m, %ninf_m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// -inf where j - i > 2 in i32 arithmetic: causal_offset = 2.
// CHECK-LABEL: func @causal_i32_arith
// CHECK-NOT: linalg.
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {causal, causal_offset = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return
func.func @causal_i32_arith(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %ii = arith.index_cast %i : index to i32
    %jj = arith.index_cast %j : index to i32
    %d = arith.subi %jj, %ii : i32
    %c2 = arith.constant 2 : i32
    %ok = arith.cmpi sgt, %d, %c2 : i32
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant 0xFF800000 : f32
    %r = arith.select %ok, %ninf_m, %zero_m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// A lower-triangular i1 buffer (GPT-2's `bias`) sliced to the last 3 of 5
// positions, bias[2:5, 0:5]: causal_offset = 2.
// CHECK-LABEL: func @causal_sliced_bool_constant
// CHECK-NOT: linalg.
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {causal, causal_offset = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return
func.func @causal_sliced_bool_constant(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %bias = arith.constant dense<[[true, false, false, false, false, false, false, false], [true, true, false, false, false, false, false, false], [true, true, true, false, false, false, false, false], [true, true, true, true, false, false, false, false], [true, true, true, true, true, false, false, false], [true, true, true, true, true, true, false, false], [true, true, true, true, true, true, true, false], [true, true, true, true, true, true, true, true]]> : tensor<8x8xi1>
  %tri = tensor.extract_slice %bias[2, 0] [3, 5] [1, 1] : tensor<8x8xi1> to tensor<3x5xi1>
  %mask_e = tensor.empty() : tensor<2x3x5xi1>
  %mask = linalg.broadcast ins(%tri : tensor<3x5xi1>) outs(%mask_e : tensor<2x3x5xi1>) dimensions = [0]
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%mask, %t : tensor<2x3x5xi1>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%m: i1, %x: f32, %o: f32):
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

// One mask built once and added in two attentions (two layers): both
// become causal.
// CHECK-LABEL: func @causal_mask_shared
// CHECK-NOT: linalg.
// CHECK: kv.attention {{.*}} {causal, causal_offset = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK: kv.attention {{.*}} {causal, causal_offset = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return
func.func @causal_mask_shared(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> (tensor<2x3x6xf32>, tensor<2x3x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %lim = arith.addi %i, %c2 : index
    %ok = arith.cmpi sle, %j, %lim : index
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant 0xFF800000 : f32
    %r = arith.select %ok, %zero_m, %ninf_m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %kt2_e = tensor.empty() : tensor<2x4x5xf32>
  %kt2 = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt2_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %s2_e = tensor.empty() : tensor<2x3x5xf32>
  %s2_z = linalg.fill ins(%zero : f32) outs(%s2_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s2 = linalg.batch_matmul ins(%q, %kt2 : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%s2_z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %t2_e = tensor.empty() : tensor<2x3x5xf32>
  %t2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s2 : tensor<2x3x5xf32>) outs(%t2_e : tensor<2x3x5xf32>) {
  ^bb0(%a: f32, %o2: f32):
    %c = arith.constant 0.5 : f32
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %u2_e = tensor.empty() : tensor<2x3x5xf32>
  %u2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t2, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u2_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o2: f32):
    %r = arith.addf %x, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p2_e = tensor.empty() : tensor<2x3x5xf32>
  %p2 = linalg.softmax dimension(2) ins(%u2 : tensor<2x3x5xf32>) outs(%p2_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o2_e = tensor.empty() : tensor<2x3x6xf32>
  %o2_z = linalg.fill ins(%zero : f32) outs(%o2_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o2 = linalg.batch_matmul ins(%p2, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o2_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o, %o2 : tensor<2x3x6xf32>, tensor<2x3x6xf32>
}

// -----

// A band i + 1 <= j <= i + 2 (a window, not causal): explicit mask.
// CHECK-LABEL: func @mask_banded
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%{{.*}} : tensor<1x2x3x5xf32>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: causal
// CHECK: return
func.func @mask_banded(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %c1 = arith.constant 1 : index
    %lim = arith.addi %i, %c2 : index
    %lo = arith.addi %i, %c1 : index
    %le = arith.cmpi sle, %j, %lim : index
    %ge = arith.cmpi sge, %j, %lo : index
    %ok = arith.andi %le, %ge : i1
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant 0xFF800000 : f32
    %r = arith.select %ok, %zero_m, %ninf_m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// Causal shape but the hidden keys get the lowest finite float, not -inf:
// not exactly kv.attention's causal mask, so it stays explicit.
// CHECK-LABEL: func @mask_finite_min
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%{{.*}} : tensor<1x2x3x5xf32>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: causal
// CHECK: return
func.func @mask_finite_min(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %lim = arith.addi %i, %c2 : index
    %ok = arith.cmpi sle, %j, %lim : index
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant -3.40282347E+38 : f32
    %r = arith.select %ok, %zero_m, %ninf_m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// The offset depends on the head: explicit mask.
// CHECK-LABEL: func @mask_per_head
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%{{.*}} : tensor<1x2x3x5xf32>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: causal
// CHECK: return
func.func @mask_per_head(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xf32>) {
  ^bb0(%o: f32):
    %h = linalg.index 0 : index
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %lim = arith.addi %i, %h : index
    %ok = arith.cmpi sle, %j, %lim : index
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant 0xFF800000 : f32
    %r = arith.select %ok, %zero_m, %ninf_m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// j >= i keeps the future, not the past: explicit mask.
// CHECK-LABEL: func @mask_anticausal
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%{{.*}} : tensor<1x2x3x5xf32>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: causal
// CHECK: return
func.func @mask_anticausal(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %ok = arith.cmpi sge, %j, %i : index
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant 0xFF800000 : f32
    %r = arith.select %ok, %zero_m, %ninf_m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// The offset is a function argument: nothing to prove, explicit mask.
// CHECK-LABEL: func @mask_runtime_offset
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%{{.*}} : tensor<1x2x3x5xf32>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: causal
// CHECK: return
func.func @mask_runtime_offset(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %n: index) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<2x3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%mask_e : tensor<2x3x5xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %lim = arith.addi %i, %n : index
    %ok = arith.cmpi sle, %j, %lim : index
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant 0xFF800000 : f32
    %r = arith.select %ok, %zero_m, %ninf_m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// A [1, Sq, Skv] mask shared by the heads through the map (0, d1, d2)
// (exporters' broadcast of size-1 dims): kv.attention broadcasts it.
// CHECK-LABEL: func @mask_broadcast_map
// CHECK-SAME: %[[M:[a-z0-9]+]]: tensor<1x3x5xf32>
// CHECK: %[[M4:.*]] = tensor.expand_shape %[[M]] {{\[}}[0, 1], [2], [3]] output_shape [1, 1, 3, 5]
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> mask(%[[M4]] : tensor<1x1x3x5xf32>) outs(%{{.*}} : tensor<1x2x3x6xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @mask_broadcast_map(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<1x3x5xf32>) -> tensor<2x3x6xf32> {
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
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<1x3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// A [Sq, Skv] mask indexed (d1, d2): broadcast over the heads.
// CHECK-LABEL: func @mask_lower_rank_map
// CHECK-SAME: %[[M:[a-z0-9]+]]: tensor<3x5xf32>
// CHECK: %[[M4:.*]] = tensor.expand_shape %[[M]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 3, 5]
// CHECK: kv.attention {{.*}} mask(%[[M4]] : tensor<1x1x3x5xf32>)
// CHECK: return
func.func @mask_lower_rank_map(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<3x5xf32>) -> tensor<2x3x6xf32> {
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
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// A causal [Sq, Skv] mask built in the graph and broadcast by the add's
// map: causal, offset 2.
// CHECK-LABEL: func @causal_broadcast_map
// CHECK-NOT: linalg.
// CHECK: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x6xf32> outs(%{{.*}} : tensor<1x2x3x6xf32>) {causal, causal_offset = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK-NOT: linalg.
// CHECK: return
func.func @causal_broadcast_map(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>) -> tensor<2x3x6xf32> {
  %zero = arith.constant 0.0 : f32
  %mask_e = tensor.empty() : tensor<3x5xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%mask_e : tensor<3x5xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c2 = arith.constant 2 : index
    %lim = arith.addi %i, %c2 : index
    %ok = arith.cmpi sle, %j, %lim : index
    %zero_m = arith.constant 0.0 : f32
    %ninf_m = arith.constant 0xFF800000 : f32
    %r = arith.select %ok, %zero_m, %ninf_m : f32
    linalg.yield %r : f32
  } -> tensor<3x5xf32>
  %kt_e = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%kt_e : tensor<2x4x5xf32>) permutation = [0, 2, 1]
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
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<3x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// A per-head key mask indexed (d0, d2) skips the query dim: it does not
// broadcast like kv.attention's mask (that would need [H, 1, Skv]).
// CHECK-LABEL: func @mask_map_not_trailing
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @mask_map_not_trailing(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<2x5xf32>) -> tensor<2x3x6xf32> {
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
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x5xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
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

// The mask is read transposed ([H, Skv, Sq]): not in the scores' layout.
// CHECK-LABEL: func @mask_map_transposed
// CHECK-NOT: kv.attention
// CHECK: linalg.softmax
// CHECK-NOT: kv.attention
// CHECK: return
func.func @mask_map_transposed(%q: tensor<2x3x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x6xf32>, %mask: tensor<2x5x3xf32>) -> tensor<2x3x6xf32> {
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
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %u_e = tensor.empty() : tensor<2x3x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mask : tensor<2x3x5xf32>, tensor<2x5x3xf32>) outs(%u_e : tensor<2x3x5xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %r = arith.addf %x, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x3x5xf32>
  %p_e = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x3x5xf32>) outs(%p_e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %o_e = tensor.empty() : tensor<2x3x6xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x6xf32>) outs(%o_z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %o : tensor<2x3x6xf32>
}

