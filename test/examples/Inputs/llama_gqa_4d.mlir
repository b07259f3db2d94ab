// Llama-like decoder layer with grouped-query attention spelled on 4-D
// [1, H, S, D] tensors: repeat_kv as linalg.broadcast along a new dim 2 and
// a collapse to the query heads, both contractions as multiply-add
// linalg.generic ops over (b, h, i, j, d) / (b, h, i, e, j), softmax over
// dimension 3.
//
// Same layer, same inputs and the same function as
// examples/decoder/llama_gqa.mlir (see there); only the spelling of the
// attention differs. kvfuse-decoder-tests raises it, compiles it fused and
// unfused and compares both with each other and a float64 reference.

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
#col2 = affine_map<(d0, d1) -> (d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#pos3 = affine_map<(d0, d1, d2) -> (d1, d2)>

func.func @llama_decoder_layer(
    %x: tensor<37x120xf32> {kv.name = "x"},
    %attn_norm: tensor<120xf32> {kv.name = "attn_norm"},
    %wq: tensor<120x120xf32> {kv.name = "wq"},
    %wk: tensor<120x40xf32> {kv.name = "wk"},
    %wv: tensor<120x40xf32> {kv.name = "wv"},
    %wo: tensor<120x120xf32> {kv.name = "wo"},
    %ffn_norm: tensor<120xf32> {kv.name = "ffn_norm"},
    %w_gate: tensor<120x200xf32> {kv.name = "w_gate"},
    %w_up: tensor<120x200xf32> {kv.name = "w_up"},
    %w_down: tensor<200x120xf32> {kv.name = "w_down"},
    %mask: tensor<37x37xf32> {kv.name = "mask"},
    %cos: tensor<37x20xf32> {kv.name = "cos"},
    %sin: tensor<37x20xf32> {kv.name = "sin"}) -> tensor<37x120xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %model_dim = arith.constant 120.0 : f32
  %eps = arith.constant 1.0e-05 : f32

  // RMSNorm before attention: x / sqrt(mean(x^2) + eps) * attn_norm.
  %ss1_e = tensor.empty() : tensor<37xf32>
  %ss1_z = linalg.fill ins(%zero : f32) outs(%ss1_e : tensor<37xf32>) -> tensor<37xf32>
  %ss1 = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<37x120xf32>) outs(%ss1_z : tensor<37xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %r = arith.addf %sq, %acc : f32
    linalg.yield %r : f32
  } -> tensor<37xf32>
  %xn_e = tensor.empty() : tensor<37x120xf32>
  %xn = linalg.generic {indexing_maps = [#id2, #row2, #col2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %ss1, %attn_norm : tensor<37x120xf32>, tensor<37xf32>, tensor<120xf32>) outs(%xn_e : tensor<37x120xf32>) {
  ^bb0(%a: f32, %b: f32, %g: f32, %o: f32):
    %ms = arith.divf %b, %model_dim : f32
    %me = arith.addf %ms, %eps : f32
    %rs = math.rsqrt %me : f32
    %n = arith.mulf %a, %rs : f32
    %r = arith.mulf %n, %g : f32
    linalg.yield %r : f32
  } -> tensor<37x120xf32>

  // Projections, split into heads: [S, E] -> [H, S, D].
  %q0_e = tensor.empty() : tensor<37x120xf32>
  %q0_z = linalg.fill ins(%zero : f32) outs(%q0_e : tensor<37x120xf32>) -> tensor<37x120xf32>
  %q0_p = linalg.matmul ins(%xn, %wq : tensor<37x120xf32>, tensor<120x120xf32>) outs(%q0_z : tensor<37x120xf32>) -> tensor<37x120xf32>
  %q0_s = tensor.expand_shape %q0_p [[0], [1, 2]] output_shape [37, 6, 20] : tensor<37x120xf32> into tensor<37x6x20xf32>
  %q0_te = tensor.empty() : tensor<6x37x20xf32>
  %q0 = linalg.transpose ins(%q0_s : tensor<37x6x20xf32>) outs(%q0_te : tensor<6x37x20xf32>) permutation = [1, 0, 2]
  %k0_e = tensor.empty() : tensor<37x40xf32>
  %k0_z = linalg.fill ins(%zero : f32) outs(%k0_e : tensor<37x40xf32>) -> tensor<37x40xf32>
  %k0_p = linalg.matmul ins(%xn, %wk : tensor<37x120xf32>, tensor<120x40xf32>) outs(%k0_z : tensor<37x40xf32>) -> tensor<37x40xf32>
  %k0_s = tensor.expand_shape %k0_p [[0], [1, 2]] output_shape [37, 2, 20] : tensor<37x40xf32> into tensor<37x2x20xf32>
  %k0_te = tensor.empty() : tensor<2x37x20xf32>
  %k0 = linalg.transpose ins(%k0_s : tensor<37x2x20xf32>) outs(%k0_te : tensor<2x37x20xf32>) permutation = [1, 0, 2]
  %v_e = tensor.empty() : tensor<37x40xf32>
  %v_z = linalg.fill ins(%zero : f32) outs(%v_e : tensor<37x40xf32>) -> tensor<37x40xf32>
  %v_p = linalg.matmul ins(%xn, %wv : tensor<37x120xf32>, tensor<120x40xf32>) outs(%v_z : tensor<37x40xf32>) -> tensor<37x40xf32>
  %v_s = tensor.expand_shape %v_p [[0], [1, 2]] output_shape [37, 2, 20] : tensor<37x40xf32> into tensor<37x2x20xf32>
  %v_te = tensor.empty() : tensor<2x37x20xf32>
  %v = linalg.transpose ins(%v_s : tensor<37x2x20xf32>) outs(%v_te : tensor<2x37x20xf32>) permutation = [1, 0, 2]

  // Rotary position embedding (rotate-half form): x * cos + rot(x) * sin
  // with rot(x) = concat(-x[D/2:], x[:D/2]).
  %q_lo = tensor.extract_slice %q0[0, 0, 0] [6, 37, 10] [1, 1, 1] : tensor<6x37x20xf32> to tensor<6x37x10xf32>
  %q_hi = tensor.extract_slice %q0[0, 0, 10] [6, 37, 10] [1, 1, 1] : tensor<6x37x20xf32> to tensor<6x37x10xf32>
  %q_ne = tensor.empty() : tensor<6x37x10xf32>
  %q_neg = linalg.negf ins(%q_hi : tensor<6x37x10xf32>) outs(%q_ne : tensor<6x37x10xf32>) -> tensor<6x37x10xf32>
  %q_rot = tensor.concat dim(2) %q_neg, %q_lo : (tensor<6x37x10xf32>, tensor<6x37x10xf32>) -> tensor<6x37x20xf32>
  %q_e = tensor.empty() : tensor<6x37x20xf32>
  %q = linalg.generic {indexing_maps = [#id3, #id3, #pos3, #pos3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%q0, %q_rot, %cos, %sin : tensor<6x37x20xf32>, tensor<6x37x20xf32>, tensor<37x20xf32>, tensor<37x20xf32>) outs(%q_e : tensor<6x37x20xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %s: f32, %o: f32):
    %ac = arith.mulf %a, %c : f32
    %bs = arith.mulf %b, %s : f32
    %r = arith.addf %ac, %bs : f32
    linalg.yield %r : f32
  } -> tensor<6x37x20xf32>
  %k_lo = tensor.extract_slice %k0[0, 0, 0] [2, 37, 10] [1, 1, 1] : tensor<2x37x20xf32> to tensor<2x37x10xf32>
  %k_hi = tensor.extract_slice %k0[0, 0, 10] [2, 37, 10] [1, 1, 1] : tensor<2x37x20xf32> to tensor<2x37x10xf32>
  %k_ne = tensor.empty() : tensor<2x37x10xf32>
  %k_neg = linalg.negf ins(%k_hi : tensor<2x37x10xf32>) outs(%k_ne : tensor<2x37x10xf32>) -> tensor<2x37x10xf32>
  %k_rot = tensor.concat dim(2) %k_neg, %k_lo : (tensor<2x37x10xf32>, tensor<2x37x10xf32>) -> tensor<2x37x20xf32>
  %k_e = tensor.empty() : tensor<2x37x20xf32>
  %k = linalg.generic {indexing_maps = [#id3, #id3, #pos3, #pos3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k0, %k_rot, %cos, %sin : tensor<2x37x20xf32>, tensor<2x37x20xf32>, tensor<37x20xf32>, tensor<37x20xf32>) outs(%k_e : tensor<2x37x20xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %s: f32, %o: f32):
    %ac = arith.mulf %a, %c : f32
    %bs = arith.mulf %b, %s : f32
    %r = arith.addf %ac, %bs : f32
    linalg.yield %r : f32
  } -> tensor<2x37x20xf32>

  // [H, S, D] -> [1, H, S, D]: attention runs on 4-D tensors.
  %q4 = tensor.expand_shape %q [[0, 1], [2], [3]] output_shape [1, 6, 37, 20] : tensor<6x37x20xf32> into tensor<1x6x37x20xf32>
  %k4 = tensor.expand_shape %k [[0, 1], [2], [3]] output_shape [1, 2, 37, 20] : tensor<2x37x20xf32> into tensor<1x2x37x20xf32>
  %v4 = tensor.expand_shape %v [[0, 1], [2], [3]] output_shape [1, 2, 37, 20] : tensor<2x37x20xf32> into tensor<1x2x37x20xf32>

  // Grouped-query attention as repeat_kv: [1, 2, S, D] broadcast along a new
  // dim 2 to [1, 2, 3, S, D], reshaped to 6 heads.
  %kr_e = tensor.empty() : tensor<1x2x3x37x20xf32>
  %kr_b = linalg.broadcast ins(%k4 : tensor<1x2x37x20xf32>) outs(%kr_e : tensor<1x2x3x37x20xf32>) dimensions = [2]
  %kr = tensor.collapse_shape %kr_b [[0], [1, 2], [3], [4]] : tensor<1x2x3x37x20xf32> into tensor<1x6x37x20xf32>
  %vr_e = tensor.empty() : tensor<1x2x3x37x20xf32>
  %vr_b = linalg.broadcast ins(%v4 : tensor<1x2x37x20xf32>) outs(%vr_e : tensor<1x2x3x37x20xf32>) dimensions = [2]
  %vr = tensor.collapse_shape %vr_b [[0], [1, 2], [3], [4]] : tensor<1x2x3x37x20xf32> into tensor<1x6x37x20xf32>

  // Scores: Q K^T / sqrt(D) + causal mask as a 4-D multiply-add generic
  // (K indexed (b, h, j, d): no transpose op), softmax over keys, times V.
  %sc_e = tensor.empty() : tensor<1x6x37x37xf32>
  %sc_z = linalg.fill ins(%zero : f32) outs(%sc_e : tensor<1x6x37x37xf32>) -> tensor<1x6x37x37xf32>
  %sc = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>, affine_map<(b, h, i, j, d) -> (b, h, j, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q4, %kr : tensor<1x6x37x20xf32>, tensor<1x6x37x20xf32>) outs(%sc_z : tensor<1x6x37x37xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %ab = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %ab : f32
    linalg.yield %r : f32
  } -> tensor<1x6x37x37xf32>
  %sqrt_d = arith.constant 4.47213595499958 : f32
  %t_e = tensor.empty() : tensor<1x6x37x37xf32>
  %t = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sc : tensor<1x6x37x37xf32>) outs(%t_e : tensor<1x6x37x37xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.divf %a, %sqrt_d : f32
    linalg.yield %r : f32
  } -> tensor<1x6x37x37xf32>
  %mb_e = tensor.empty() : tensor<1x6x37x37xf32>
  %mb = linalg.broadcast ins(%mask : tensor<37x37xf32>) outs(%mb_e : tensor<1x6x37x37xf32>) dimensions = [0, 1]
  %u_e = tensor.empty() : tensor<1x6x37x37xf32>
  %u = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t, %mb : tensor<1x6x37x37xf32>, tensor<1x6x37x37xf32>) outs(%u_e : tensor<1x6x37x37xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x6x37x37xf32>
  %p_e = tensor.empty() : tensor<1x6x37x37xf32>
  %p = linalg.softmax dimension(3) ins(%u : tensor<1x6x37x37xf32>) outs(%p_e : tensor<1x6x37x37xf32>) -> tensor<1x6x37x37xf32>
  %att_e = tensor.empty() : tensor<1x6x37x20xf32>
  %att_z = linalg.fill ins(%zero : f32) outs(%att_e : tensor<1x6x37x20xf32>) -> tensor<1x6x37x20xf32>
  %att4 = linalg.generic {indexing_maps = [affine_map<(b, h, i, e, j) -> (b, h, i, j)>, affine_map<(b, h, i, e, j) -> (b, h, j, e)>, affine_map<(b, h, i, e, j) -> (b, h, i, e)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vr : tensor<1x6x37x37xf32>, tensor<1x6x37x20xf32>) outs(%att_z : tensor<1x6x37x20xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %ab = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %ab : f32
    linalg.yield %r : f32
  } -> tensor<1x6x37x20xf32>
  %att = tensor.collapse_shape %att4 [[0, 1], [2], [3]] : tensor<1x6x37x20xf32> into tensor<6x37x20xf32>

  // Merge heads and project back: [H, S, D] -> [S, E]; residual.
  %m_e = tensor.empty() : tensor<37x6x20xf32>
  %m = linalg.transpose ins(%att : tensor<6x37x20xf32>) outs(%m_e : tensor<37x6x20xf32>) permutation = [1, 0, 2]
  %mc = tensor.collapse_shape %m [[0], [1, 2]] : tensor<37x6x20xf32> into tensor<37x120xf32>
  %ao_e = tensor.empty() : tensor<37x120xf32>
  %ao_z = linalg.fill ins(%zero : f32) outs(%ao_e : tensor<37x120xf32>) -> tensor<37x120xf32>
  %ao = linalg.matmul ins(%mc, %wo : tensor<37x120xf32>, tensor<120x120xf32>) outs(%ao_z : tensor<37x120xf32>) -> tensor<37x120xf32>
  %h_e = tensor.empty() : tensor<37x120xf32>
  %h = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %ao : tensor<37x120xf32>, tensor<37x120xf32>) outs(%h_e : tensor<37x120xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<37x120xf32>

  // RMSNorm before the feed-forward.
  %ss2_e = tensor.empty() : tensor<37xf32>
  %ss2_z = linalg.fill ins(%zero : f32) outs(%ss2_e : tensor<37xf32>) -> tensor<37xf32>
  %ss2 = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]} ins(%h : tensor<37x120xf32>) outs(%ss2_z : tensor<37xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %r = arith.addf %sq, %acc : f32
    linalg.yield %r : f32
  } -> tensor<37xf32>
  %hn_e = tensor.empty() : tensor<37x120xf32>
  %hn = linalg.generic {indexing_maps = [#id2, #row2, #col2, #id2], iterator_types = ["parallel", "parallel"]} ins(%h, %ss2, %ffn_norm : tensor<37x120xf32>, tensor<37xf32>, tensor<120xf32>) outs(%hn_e : tensor<37x120xf32>) {
  ^bb0(%a: f32, %b: f32, %g: f32, %o: f32):
    %ms = arith.divf %b, %model_dim : f32
    %me = arith.addf %ms, %eps : f32
    %rs = math.rsqrt %me : f32
    %n = arith.mulf %a, %rs : f32
    %r = arith.mulf %n, %g : f32
    linalg.yield %r : f32
  } -> tensor<37x120xf32>

  // SwiGLU feed-forward: silu(hn Wgate) * (hn Wup), projected by Wdown;
  // residual.
  %gt_e = tensor.empty() : tensor<37x200xf32>
  %gt_z = linalg.fill ins(%zero : f32) outs(%gt_e : tensor<37x200xf32>) -> tensor<37x200xf32>
  %gt = linalg.matmul ins(%hn, %w_gate : tensor<37x120xf32>, tensor<120x200xf32>) outs(%gt_z : tensor<37x200xf32>) -> tensor<37x200xf32>
  %up_e = tensor.empty() : tensor<37x200xf32>
  %up_z = linalg.fill ins(%zero : f32) outs(%up_e : tensor<37x200xf32>) -> tensor<37x200xf32>
  %up = linalg.matmul ins(%hn, %w_up : tensor<37x120xf32>, tensor<120x200xf32>) outs(%up_z : tensor<37x200xf32>) -> tensor<37x200xf32>
  %act_e = tensor.empty() : tensor<37x200xf32>
  %act = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%gt, %up : tensor<37x200xf32>, tensor<37x200xf32>) outs(%act_e : tensor<37x200xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %na = arith.negf %a : f32
    %en = math.exp %na : f32
    %den = arith.addf %one, %en : f32
    %silu = arith.divf %a, %den : f32
    %r = arith.mulf %silu, %b : f32
    linalg.yield %r : f32
  } -> tensor<37x200xf32>
  %dn_e = tensor.empty() : tensor<37x120xf32>
  %dn_z = linalg.fill ins(%zero : f32) outs(%dn_e : tensor<37x120xf32>) -> tensor<37x120xf32>
  %dn = linalg.matmul ins(%act, %w_down : tensor<37x200xf32>, tensor<200x120xf32>) outs(%dn_z : tensor<37x120xf32>) -> tensor<37x120xf32>
  %y_e = tensor.empty() : tensor<37x120xf32>
  %y = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%h, %dn : tensor<37x120xf32>, tensor<37x120xf32>) outs(%y_e : tensor<37x120xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<37x120xf32>
  return %y : tensor<37x120xf32>
}
