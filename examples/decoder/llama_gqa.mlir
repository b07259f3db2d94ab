// Llama-like grouped-query attention block: 4 query heads, 2 kv heads of dim
// 8, model dim 32, 5 tokens; rotary embedding on Q and K.
//
// Plain upstream MLIR on tensors (linalg, tensor, arith): the attention is
// unfused. `kvfuse-opt --pass-pipeline="builtin.module(func.func(kv-raise-attention))"`
// rewrites it to kv.attention. `%mask` is the additive causal mask
// (0 on and below the diagonal, -inf above), broadcast over heads.

func.func @llama_attention_block(%x: tensor<5x32xf32>, %wq: tensor<32x32xf32>, %wk: tensor<32x16xf32>, %wv: tensor<32x16xf32>, %wo: tensor<32x32xf32>, %mask: tensor<5x5xf32>, %cos: tensor<5x8xf32>, %sin: tensor<5x8xf32>) -> tensor<5x32xf32> {
  %zero = arith.constant 0.0 : f32
  // Projections, split into heads: [S, E] -> [H, S, D].
  %q0_e = tensor.empty() : tensor<5x32xf32>
  %q0_z = linalg.fill ins(%zero : f32) outs(%q0_e : tensor<5x32xf32>) -> tensor<5x32xf32>
  %q0_p = linalg.matmul ins(%x, %wq : tensor<5x32xf32>, tensor<32x32xf32>) outs(%q0_z : tensor<5x32xf32>) -> tensor<5x32xf32>
  %q0_s = tensor.expand_shape %q0_p [[0], [1, 2]] output_shape [5, 4, 8] : tensor<5x32xf32> into tensor<5x4x8xf32>
  %q0_te = tensor.empty() : tensor<4x5x8xf32>
  %q0 = linalg.transpose ins(%q0_s : tensor<5x4x8xf32>) outs(%q0_te : tensor<4x5x8xf32>) permutation = [1, 0, 2]
  %k0_e = tensor.empty() : tensor<5x16xf32>
  %k0_z = linalg.fill ins(%zero : f32) outs(%k0_e : tensor<5x16xf32>) -> tensor<5x16xf32>
  %k0_p = linalg.matmul ins(%x, %wk : tensor<5x32xf32>, tensor<32x16xf32>) outs(%k0_z : tensor<5x16xf32>) -> tensor<5x16xf32>
  %k0_s = tensor.expand_shape %k0_p [[0], [1, 2]] output_shape [5, 2, 8] : tensor<5x16xf32> into tensor<5x2x8xf32>
  %k0_te = tensor.empty() : tensor<2x5x8xf32>
  %k0 = linalg.transpose ins(%k0_s : tensor<5x2x8xf32>) outs(%k0_te : tensor<2x5x8xf32>) permutation = [1, 0, 2]
  %v_e = tensor.empty() : tensor<5x16xf32>
  %v_z = linalg.fill ins(%zero : f32) outs(%v_e : tensor<5x16xf32>) -> tensor<5x16xf32>
  %v_p = linalg.matmul ins(%x, %wv : tensor<5x32xf32>, tensor<32x16xf32>) outs(%v_z : tensor<5x16xf32>) -> tensor<5x16xf32>
  %v_s = tensor.expand_shape %v_p [[0], [1, 2]] output_shape [5, 2, 8] : tensor<5x16xf32> into tensor<5x2x8xf32>
  %v_te = tensor.empty() : tensor<2x5x8xf32>
  %v = linalg.transpose ins(%v_s : tensor<5x2x8xf32>) outs(%v_te : tensor<2x5x8xf32>) permutation = [1, 0, 2]
  // Rotary position embedding (rotate-half form): x * cos + rot(x) * sin.
  %q_lo = tensor.extract_slice %q0[0, 0, 0] [4, 5, 4] [1, 1, 1] : tensor<4x5x8xf32> to tensor<4x5x4xf32>
  %q_hi = tensor.extract_slice %q0[0, 0, 4] [4, 5, 4] [1, 1, 1] : tensor<4x5x8xf32> to tensor<4x5x4xf32>
  %q_ne = tensor.empty() : tensor<4x5x4xf32>
  %q_neg = linalg.negf ins(%q_hi : tensor<4x5x4xf32>) outs(%q_ne : tensor<4x5x4xf32>) -> tensor<4x5x4xf32>
  %q_rot = tensor.concat dim(2) %q_neg, %q_lo : (tensor<4x5x4xf32>, tensor<4x5x4xf32>) -> tensor<4x5x8xf32>
  %q_e = tensor.empty() : tensor<4x5x8xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%q0, %q_rot, %cos, %sin : tensor<4x5x8xf32>, tensor<4x5x8xf32>, tensor<5x8xf32>, tensor<5x8xf32>) outs(%q_e : tensor<4x5x8xf32>) {
  ^bb0(%a: f32, %r: f32, %c: f32, %s: f32, %o: f32):
    %ac = arith.mulf %a, %c : f32
    %rs = arith.mulf %r, %s : f32
    %sum = arith.addf %ac, %rs : f32
    linalg.yield %sum : f32
  } -> tensor<4x5x8xf32>
  %k1_lo = tensor.extract_slice %k0[0, 0, 0] [2, 5, 4] [1, 1, 1] : tensor<2x5x8xf32> to tensor<2x5x4xf32>
  %k1_hi = tensor.extract_slice %k0[0, 0, 4] [2, 5, 4] [1, 1, 1] : tensor<2x5x8xf32> to tensor<2x5x4xf32>
  %k1_ne = tensor.empty() : tensor<2x5x4xf32>
  %k1_neg = linalg.negf ins(%k1_hi : tensor<2x5x4xf32>) outs(%k1_ne : tensor<2x5x4xf32>) -> tensor<2x5x4xf32>
  %k1_rot = tensor.concat dim(2) %k1_neg, %k1_lo : (tensor<2x5x4xf32>, tensor<2x5x4xf32>) -> tensor<2x5x8xf32>
  %k1_e = tensor.empty() : tensor<2x5x8xf32>
  %k1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k0, %k1_rot, %cos, %sin : tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<5x8xf32>, tensor<5x8xf32>) outs(%k1_e : tensor<2x5x8xf32>) {
  ^bb0(%a: f32, %r: f32, %c: f32, %s: f32, %o: f32):
    %ac = arith.mulf %a, %c : f32
    %rs = arith.mulf %r, %s : f32
    %sum = arith.addf %ac, %rs : f32
    linalg.yield %sum : f32
  } -> tensor<2x5x8xf32>
  // Grouped-query attention: repeat each kv head for its 2 query heads.
  %kr_e = tensor.empty() : tensor<2x2x5x8xf32>
  %kr_b = linalg.broadcast ins(%k1 : tensor<2x5x8xf32>) outs(%kr_e : tensor<2x2x5x8xf32>) dimensions = [1]
  %kr = tensor.collapse_shape %kr_b [[0, 1], [2], [3]] : tensor<2x2x5x8xf32> into tensor<4x5x8xf32>
  %vr_e = tensor.empty() : tensor<2x2x5x8xf32>
  %vr_b = linalg.broadcast ins(%v : tensor<2x5x8xf32>) outs(%vr_e : tensor<2x2x5x8xf32>) dimensions = [1]
  %vr = tensor.collapse_shape %vr_b [[0, 1], [2], [3]] : tensor<2x2x5x8xf32> into tensor<4x5x8xf32>
  // Scores: Q K^T / sqrt(D) + causal mask, softmax over keys, times V.
  %kt_e = tensor.empty() : tensor<4x8x5xf32>
  %kt = linalg.transpose ins(%kr : tensor<4x5x8xf32>) outs(%kt_e : tensor<4x8x5xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<4x5x5xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<4x5x5xf32>) -> tensor<4x5x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x5x8xf32>, tensor<4x8x5xf32>) outs(%s_z : tensor<4x5x5xf32>) -> tensor<4x5x5xf32>
  %sqrt_d = arith.constant 2.8284271247461903 : f32
  %t_e = tensor.empty() : tensor<4x5x5xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x5x5xf32>) outs(%t_e : tensor<4x5x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %d = arith.divf %a, %sqrt_d : f32
    linalg.yield %d : f32
  } -> tensor<4x5x5xf32>
  %mb_e = tensor.empty() : tensor<4x5x5xf32>
  %mb = linalg.broadcast ins(%mask : tensor<5x5xf32>) outs(%mb_e : tensor<4x5x5xf32>) dimensions = [0]
  %u_e = tensor.empty() : tensor<4x5x5xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mb : tensor<4x5x5xf32>, tensor<4x5x5xf32>) outs(%u_e : tensor<4x5x5xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %sum = arith.addf %a, %b : f32
    linalg.yield %sum : f32
  } -> tensor<4x5x5xf32>
  %p_e = tensor.empty() : tensor<4x5x5xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<4x5x5xf32>) outs(%p_e : tensor<4x5x5xf32>) -> tensor<4x5x5xf32>
  %att_e = tensor.empty() : tensor<4x5x8xf32>
  %att_z = linalg.fill ins(%zero : f32) outs(%att_e : tensor<4x5x8xf32>) -> tensor<4x5x8xf32>
  %att = linalg.batch_matmul ins(%p, %vr : tensor<4x5x5xf32>, tensor<4x5x8xf32>) outs(%att_z : tensor<4x5x8xf32>) -> tensor<4x5x8xf32>
  // Merge heads and project back: [H, S, D] -> [S, E].
  %m_e = tensor.empty() : tensor<5x4x8xf32>
  %m = linalg.transpose ins(%att : tensor<4x5x8xf32>) outs(%m_e : tensor<5x4x8xf32>) permutation = [1, 0, 2]
  %mc = tensor.collapse_shape %m [[0], [1, 2]] : tensor<5x4x8xf32> into tensor<5x32xf32>
  %y_e = tensor.empty() : tensor<5x32xf32>
  %y_z = linalg.fill ins(%zero : f32) outs(%y_e : tensor<5x32xf32>) -> tensor<5x32xf32>
  %y = linalg.matmul ins(%mc, %wo : tensor<5x32xf32>, tensor<32x32xf32>) outs(%y_z : tensor<5x32xf32>) -> tensor<5x32xf32>
  return %y : tensor<5x32xf32>
}
