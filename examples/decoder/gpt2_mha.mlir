// GPT-2-like multi-head attention block: 4 heads of dim 4, model dim 16,
// 6 tokens; Q/K/V/O projections as matmuls.
//
// Plain upstream MLIR on tensors (linalg, tensor, arith): the attention is
// unfused. `kvfuse-opt --pass-pipeline="builtin.module(func.func(kv-raise-attention))"`
// rewrites it to kv.attention. `%mask` is the additive causal mask
// (0 on and below the diagonal, -inf above), broadcast over heads.

func.func @gpt2_attention_block(%x: tensor<6x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>, %mask: tensor<6x6xf32>) -> tensor<6x16xf32> {
  %zero = arith.constant 0.0 : f32
  // Projections, split into heads: [S, E] -> [H, S, D].
  %q_e = tensor.empty() : tensor<6x16xf32>
  %q_z = linalg.fill ins(%zero : f32) outs(%q_e : tensor<6x16xf32>) -> tensor<6x16xf32>
  %q_p = linalg.matmul ins(%x, %wq : tensor<6x16xf32>, tensor<16x16xf32>) outs(%q_z : tensor<6x16xf32>) -> tensor<6x16xf32>
  %q_s = tensor.expand_shape %q_p [[0], [1, 2]] output_shape [6, 4, 4] : tensor<6x16xf32> into tensor<6x4x4xf32>
  %q_te = tensor.empty() : tensor<4x6x4xf32>
  %q = linalg.transpose ins(%q_s : tensor<6x4x4xf32>) outs(%q_te : tensor<4x6x4xf32>) permutation = [1, 0, 2]
  %k1_e = tensor.empty() : tensor<6x16xf32>
  %k1_z = linalg.fill ins(%zero : f32) outs(%k1_e : tensor<6x16xf32>) -> tensor<6x16xf32>
  %k1_p = linalg.matmul ins(%x, %wk : tensor<6x16xf32>, tensor<16x16xf32>) outs(%k1_z : tensor<6x16xf32>) -> tensor<6x16xf32>
  %k1_s = tensor.expand_shape %k1_p [[0], [1, 2]] output_shape [6, 4, 4] : tensor<6x16xf32> into tensor<6x4x4xf32>
  %k1_te = tensor.empty() : tensor<4x6x4xf32>
  %k1 = linalg.transpose ins(%k1_s : tensor<6x4x4xf32>) outs(%k1_te : tensor<4x6x4xf32>) permutation = [1, 0, 2]
  %v_e = tensor.empty() : tensor<6x16xf32>
  %v_z = linalg.fill ins(%zero : f32) outs(%v_e : tensor<6x16xf32>) -> tensor<6x16xf32>
  %v_p = linalg.matmul ins(%x, %wv : tensor<6x16xf32>, tensor<16x16xf32>) outs(%v_z : tensor<6x16xf32>) -> tensor<6x16xf32>
  %v_s = tensor.expand_shape %v_p [[0], [1, 2]] output_shape [6, 4, 4] : tensor<6x16xf32> into tensor<6x4x4xf32>
  %v_te = tensor.empty() : tensor<4x6x4xf32>
  %v = linalg.transpose ins(%v_s : tensor<6x4x4xf32>) outs(%v_te : tensor<4x6x4xf32>) permutation = [1, 0, 2]
  // Scores: Q K^T / sqrt(D) + causal mask, softmax over keys, times V.
  %kt_e = tensor.empty() : tensor<4x4x6xf32>
  %kt = linalg.transpose ins(%k1 : tensor<4x6x4xf32>) outs(%kt_e : tensor<4x4x6xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<4x6x6xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<4x6x6xf32>) -> tensor<4x6x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x6x4xf32>, tensor<4x4x6xf32>) outs(%s_z : tensor<4x6x6xf32>) -> tensor<4x6x6xf32>
  %sqrt_d = arith.constant 2.0 : f32
  %t_e = tensor.empty() : tensor<4x6x6xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x6x6xf32>) outs(%t_e : tensor<4x6x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %d = arith.divf %a, %sqrt_d : f32
    linalg.yield %d : f32
  } -> tensor<4x6x6xf32>
  %mb_e = tensor.empty() : tensor<4x6x6xf32>
  %mb = linalg.broadcast ins(%mask : tensor<6x6xf32>) outs(%mb_e : tensor<4x6x6xf32>) dimensions = [0]
  %u_e = tensor.empty() : tensor<4x6x6xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mb : tensor<4x6x6xf32>, tensor<4x6x6xf32>) outs(%u_e : tensor<4x6x6xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %sum = arith.addf %a, %b : f32
    linalg.yield %sum : f32
  } -> tensor<4x6x6xf32>
  %p_e = tensor.empty() : tensor<4x6x6xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<4x6x6xf32>) outs(%p_e : tensor<4x6x6xf32>) -> tensor<4x6x6xf32>
  %att_e = tensor.empty() : tensor<4x6x4xf32>
  %att_z = linalg.fill ins(%zero : f32) outs(%att_e : tensor<4x6x4xf32>) -> tensor<4x6x4xf32>
  %att = linalg.batch_matmul ins(%p, %v : tensor<4x6x6xf32>, tensor<4x6x4xf32>) outs(%att_z : tensor<4x6x4xf32>) -> tensor<4x6x4xf32>
  // Merge heads and project back: [H, S, D] -> [S, E].
  %m_e = tensor.empty() : tensor<6x4x4xf32>
  %m = linalg.transpose ins(%att : tensor<4x6x4xf32>) outs(%m_e : tensor<6x4x4xf32>) permutation = [1, 0, 2]
  %mc = tensor.collapse_shape %m [[0], [1, 2]] : tensor<6x4x4xf32> into tensor<6x16xf32>
  %y_e = tensor.empty() : tensor<6x16xf32>
  %y_z = linalg.fill ins(%zero : f32) outs(%y_e : tensor<6x16xf32>) -> tensor<6x16xf32>
  %y = linalg.matmul ins(%mc, %wo : tensor<6x16xf32>, tensor<16x16xf32>) outs(%y_z : tensor<6x16xf32>) -> tensor<6x16xf32>
  return %y : tensor<6x16xf32>
}
