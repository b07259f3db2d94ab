// Attention kernels in the spellings kv-raise-attention recognises (the
// positive cases of test/frontends/raising/kv-raise-attention-layouts.mlir
// and kv-raise-attention-causal.mlir, one module): each computes
// softmax(0.5 * Q K^T [causal]) V. kvfuse-decoder-tests checks that each
// raises to one kv.attention, compiles the module fused and unfused and
// compares both with each other and with a float64 reference.

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
