// GPT-2-like decoder layer, attention as an exporter may spell it: K^T is a
// linalg.generic copy with input map (d0, d2, d1) instead of
// linalg.transpose.
//
// Same layer, same inputs and the same function as
// examples/decoder/gpt2_mha.mlir (see there); only the spelling of the
// attention differs. kvfuse-decoder-tests raises it, compiles it fused and
// unfused and compares both with each other and a float64 reference.

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
#col2 = affine_map<(d0, d1) -> (d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

func.func @gpt2_decoder_layer(
    %x: tensor<37x72xf32> {kv.name = "x"},
    %ln1_g: tensor<72xf32> {kv.name = "ln1_g"},
    %ln1_b: tensor<72xf32> {kv.name = "ln1_b"},
    %w_qkv: tensor<72x216xf32> {kv.name = "w_qkv"},
    %b_qkv: tensor<216xf32> {kv.name = "b_qkv"},
    %w_o: tensor<72x72xf32> {kv.name = "w_o"},
    %b_o: tensor<72xf32> {kv.name = "b_o"},
    %ln2_g: tensor<72xf32> {kv.name = "ln2_g"},
    %ln2_b: tensor<72xf32> {kv.name = "ln2_b"},
    %w_fc: tensor<72x288xf32> {kv.name = "w_fc"},
    %b_fc: tensor<288xf32> {kv.name = "b_fc"},
    %w_proj: tensor<288x72xf32> {kv.name = "w_proj"},
    %b_proj: tensor<72xf32> {kv.name = "b_proj"},
    %mask: tensor<37x37xf32> {kv.name = "mask"}) -> tensor<37x72xf32> {
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %one = arith.constant 1.0 : f32
  %model_dim = arith.constant 72.0 : f32
  %eps = arith.constant 1.0e-05 : f32

  // LayerNorm before attention: (x - mean) / sqrt(var + eps) * g + b.
  %sum1_e = tensor.empty() : tensor<37xf32>
  %sum1_z = linalg.fill ins(%zero : f32) outs(%sum1_e : tensor<37xf32>) -> tensor<37xf32>
  %sum1 = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<37x72xf32>) outs(%sum1_z : tensor<37xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<37xf32>
  %xc_e = tensor.empty() : tensor<37x72xf32>
  %xc = linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %sum1 : tensor<37x72xf32>, tensor<37xf32>) outs(%xc_e : tensor<37x72xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %mean = arith.divf %b, %model_dim : f32
    %r = arith.subf %a, %mean : f32
    linalg.yield %r : f32
  } -> tensor<37x72xf32>
  %var1_e = tensor.empty() : tensor<37xf32>
  %var1_z = linalg.fill ins(%zero : f32) outs(%var1_e : tensor<37xf32>) -> tensor<37xf32>
  %var1 = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]} ins(%xc : tensor<37x72xf32>) outs(%var1_z : tensor<37xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %r = arith.addf %sq, %acc : f32
    linalg.yield %r : f32
  } -> tensor<37xf32>
  %xn_e = tensor.empty() : tensor<37x72xf32>
  %xn = linalg.generic {indexing_maps = [#id2, #row2, #col2, #col2, #id2], iterator_types = ["parallel", "parallel"]} ins(%xc, %var1, %ln1_g, %ln1_b : tensor<37x72xf32>, tensor<37xf32>, tensor<72xf32>, tensor<72xf32>) outs(%xn_e : tensor<37x72xf32>) {
  ^bb0(%a: f32, %b: f32, %g: f32, %c: f32, %o: f32):
    %var = arith.divf %b, %model_dim : f32
    %ve = arith.addf %var, %eps : f32
    %rs = math.rsqrt %ve : f32
    %n = arith.mulf %a, %rs : f32
    %ng = arith.mulf %n, %g : f32
    %r = arith.addf %ng, %c : f32
    linalg.yield %r : f32
  } -> tensor<37x72xf32>

  // Fused QKV projection with bias, then Q, K, V sliced apart and split into
  // heads: [S, E] -> [H, S, D].
  %qkv_e = tensor.empty() : tensor<37x216xf32>
  %qkv_z = linalg.fill ins(%zero : f32) outs(%qkv_e : tensor<37x216xf32>) -> tensor<37x216xf32>
  %qkv_m = linalg.matmul ins(%xn, %w_qkv : tensor<37x72xf32>, tensor<72x216xf32>) outs(%qkv_z : tensor<37x216xf32>) -> tensor<37x216xf32>
  %qkv_be = tensor.empty() : tensor<37x216xf32>
  %qkv = linalg.generic {indexing_maps = [#id2, #col2, #id2], iterator_types = ["parallel", "parallel"]} ins(%qkv_m, %b_qkv : tensor<37x216xf32>, tensor<216xf32>) outs(%qkv_be : tensor<37x216xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<37x216xf32>
  %q_p = tensor.extract_slice %qkv[0, 0] [37, 72] [1, 1] : tensor<37x216xf32> to tensor<37x72xf32>
  %q_s = tensor.expand_shape %q_p [[0], [1, 2]] output_shape [37, 4, 18] : tensor<37x72xf32> into tensor<37x4x18xf32>
  %q_te = tensor.empty() : tensor<4x37x18xf32>
  %q = linalg.transpose ins(%q_s : tensor<37x4x18xf32>) outs(%q_te : tensor<4x37x18xf32>) permutation = [1, 0, 2]
  %k_p = tensor.extract_slice %qkv[0, 72] [37, 72] [1, 1] : tensor<37x216xf32> to tensor<37x72xf32>
  %k_s = tensor.expand_shape %k_p [[0], [1, 2]] output_shape [37, 4, 18] : tensor<37x72xf32> into tensor<37x4x18xf32>
  %k_te = tensor.empty() : tensor<4x37x18xf32>
  %k = linalg.transpose ins(%k_s : tensor<37x4x18xf32>) outs(%k_te : tensor<4x37x18xf32>) permutation = [1, 0, 2]
  %v_p = tensor.extract_slice %qkv[0, 144] [37, 72] [1, 1] : tensor<37x216xf32> to tensor<37x72xf32>
  %v_s = tensor.expand_shape %v_p [[0], [1, 2]] output_shape [37, 4, 18] : tensor<37x72xf32> into tensor<37x4x18xf32>
  %v_te = tensor.empty() : tensor<4x37x18xf32>
  %v = linalg.transpose ins(%v_s : tensor<37x4x18xf32>) outs(%v_te : tensor<4x37x18xf32>) permutation = [1, 0, 2]

  // Scores: Q K^T / sqrt(D) + causal mask, softmax over keys, times V.
  // K^T as a copy whose input map swaps the last two dims.
  %kt_e = tensor.empty() : tensor<4x18x37xf32>
  %kt = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2, d1)>, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<4x37x18xf32>) outs(%kt_e : tensor<4x18x37xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<4x18x37xf32>
  %sc_e = tensor.empty() : tensor<4x37x37xf32>
  %sc_z = linalg.fill ins(%zero : f32) outs(%sc_e : tensor<4x37x37xf32>) -> tensor<4x37x37xf32>
  %sc = linalg.batch_matmul ins(%q, %kt : tensor<4x37x18xf32>, tensor<4x18x37xf32>) outs(%sc_z : tensor<4x37x37xf32>) -> tensor<4x37x37xf32>
  %sqrt_d = arith.constant 4.242640687119285 : f32
  %t_e = tensor.empty() : tensor<4x37x37xf32>
  %t = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sc : tensor<4x37x37xf32>) outs(%t_e : tensor<4x37x37xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.divf %a, %sqrt_d : f32
    linalg.yield %r : f32
  } -> tensor<4x37x37xf32>
  %mb_e = tensor.empty() : tensor<4x37x37xf32>
  %mb = linalg.broadcast ins(%mask : tensor<37x37xf32>) outs(%mb_e : tensor<4x37x37xf32>) dimensions = [0]
  %u_e = tensor.empty() : tensor<4x37x37xf32>
  %u = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t, %mb : tensor<4x37x37xf32>, tensor<4x37x37xf32>) outs(%u_e : tensor<4x37x37xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x37x37xf32>
  %p_e = tensor.empty() : tensor<4x37x37xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<4x37x37xf32>) outs(%p_e : tensor<4x37x37xf32>) -> tensor<4x37x37xf32>
  %att_e = tensor.empty() : tensor<4x37x18xf32>
  %att_z = linalg.fill ins(%zero : f32) outs(%att_e : tensor<4x37x18xf32>) -> tensor<4x37x18xf32>
  %att = linalg.batch_matmul ins(%p, %v : tensor<4x37x37xf32>, tensor<4x37x18xf32>) outs(%att_z : tensor<4x37x18xf32>) -> tensor<4x37x18xf32>

  // Merge heads and project back with bias: [H, S, D] -> [S, E]; residual.
  %m_e = tensor.empty() : tensor<37x4x18xf32>
  %m = linalg.transpose ins(%att : tensor<4x37x18xf32>) outs(%m_e : tensor<37x4x18xf32>) permutation = [1, 0, 2]
  %mc = tensor.collapse_shape %m [[0], [1, 2]] : tensor<37x4x18xf32> into tensor<37x72xf32>
  %ao_e = tensor.empty() : tensor<37x72xf32>
  %ao_z = linalg.fill ins(%zero : f32) outs(%ao_e : tensor<37x72xf32>) -> tensor<37x72xf32>
  %ao = linalg.matmul ins(%mc, %w_o : tensor<37x72xf32>, tensor<72x72xf32>) outs(%ao_z : tensor<37x72xf32>) -> tensor<37x72xf32>
  %h_e = tensor.empty() : tensor<37x72xf32>
  %h = linalg.generic {indexing_maps = [#id2, #id2, #col2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %ao, %b_o : tensor<37x72xf32>, tensor<37x72xf32>, tensor<72xf32>) outs(%h_e : tensor<37x72xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %o: f32):
    %bc = arith.addf %b, %c : f32
    %r = arith.addf %a, %bc : f32
    linalg.yield %r : f32
  } -> tensor<37x72xf32>

  // LayerNorm before the feed-forward.
  %sum2_e = tensor.empty() : tensor<37xf32>
  %sum2_z = linalg.fill ins(%zero : f32) outs(%sum2_e : tensor<37xf32>) -> tensor<37xf32>
  %sum2 = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]} ins(%h : tensor<37x72xf32>) outs(%sum2_z : tensor<37xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<37xf32>
  %hc_e = tensor.empty() : tensor<37x72xf32>
  %hc = linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%h, %sum2 : tensor<37x72xf32>, tensor<37xf32>) outs(%hc_e : tensor<37x72xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %mean = arith.divf %b, %model_dim : f32
    %r = arith.subf %a, %mean : f32
    linalg.yield %r : f32
  } -> tensor<37x72xf32>
  %var2_e = tensor.empty() : tensor<37xf32>
  %var2_z = linalg.fill ins(%zero : f32) outs(%var2_e : tensor<37xf32>) -> tensor<37xf32>
  %var2 = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]} ins(%hc : tensor<37x72xf32>) outs(%var2_z : tensor<37xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %r = arith.addf %sq, %acc : f32
    linalg.yield %r : f32
  } -> tensor<37xf32>
  %hn_e = tensor.empty() : tensor<37x72xf32>
  %hn = linalg.generic {indexing_maps = [#id2, #row2, #col2, #col2, #id2], iterator_types = ["parallel", "parallel"]} ins(%hc, %var2, %ln2_g, %ln2_b : tensor<37x72xf32>, tensor<37xf32>, tensor<72xf32>, tensor<72xf32>) outs(%hn_e : tensor<37x72xf32>) {
  ^bb0(%a: f32, %b: f32, %g: f32, %c: f32, %o: f32):
    %var = arith.divf %b, %model_dim : f32
    %ve = arith.addf %var, %eps : f32
    %rs = math.rsqrt %ve : f32
    %n = arith.mulf %a, %rs : f32
    %ng = arith.mulf %n, %g : f32
    %r = arith.addf %ng, %c : f32
    linalg.yield %r : f32
  } -> tensor<37x72xf32>

  // Feed-forward: GELU (tanh approximation) of hn Wfc + bfc, projected back
  // with bias; residual.
  %fc_e = tensor.empty() : tensor<37x288xf32>
  %fc_z = linalg.fill ins(%zero : f32) outs(%fc_e : tensor<37x288xf32>) -> tensor<37x288xf32>
  %fc = linalg.matmul ins(%hn, %w_fc : tensor<37x72xf32>, tensor<72x288xf32>) outs(%fc_z : tensor<37x288xf32>) -> tensor<37x288xf32>
  %gelu_e = tensor.empty() : tensor<37x288xf32>
  %gelu = linalg.generic {indexing_maps = [#id2, #col2, #id2], iterator_types = ["parallel", "parallel"]} ins(%fc, %b_fc : tensor<37x288xf32>, tensor<288xf32>) outs(%gelu_e : tensor<37x288xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    // 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))), z = a + b.
    %c0 = arith.constant 0.044715 : f32
    %c1 = arith.constant 0.7978845608028654 : f32
    %z = arith.addf %a, %b : f32
    %z2 = arith.mulf %z, %z : f32
    %z3 = arith.mulf %z2, %z : f32
    %cz3 = arith.mulf %c0, %z3 : f32
    %in = arith.addf %z, %cz3 : f32
    %arg = arith.mulf %c1, %in : f32
    %th = math.tanh %arg : f32
    %opt = arith.addf %one, %th : f32
    %hz = arith.mulf %half, %z : f32
    %r = arith.mulf %hz, %opt : f32
    linalg.yield %r : f32
  } -> tensor<37x288xf32>
  %pr_e = tensor.empty() : tensor<37x72xf32>
  %pr_z = linalg.fill ins(%zero : f32) outs(%pr_e : tensor<37x72xf32>) -> tensor<37x72xf32>
  %pr = linalg.matmul ins(%gelu, %w_proj : tensor<37x288xf32>, tensor<288x72xf32>) outs(%pr_z : tensor<37x72xf32>) -> tensor<37x72xf32>
  %y_e = tensor.empty() : tensor<37x72xf32>
  %y = linalg.generic {indexing_maps = [#id2, #id2, #col2, #id2], iterator_types = ["parallel", "parallel"]} ins(%h, %pr, %b_proj : tensor<37x72xf32>, tensor<37x72xf32>, tensor<72xf32>) outs(%y_e : tensor<37x72xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %o: f32):
    %bc = arith.addf %b, %c : f32
    %r = arith.addf %a, %bc : f32
    linalg.yield %r : f32
  } -> tensor<37x72xf32>
  return %y : tensor<37x72xf32>
}
