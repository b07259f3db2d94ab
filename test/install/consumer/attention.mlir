func.func @attend(%q: tensor<1x4x19x24xf32>, %k: tensor<1x2x37x24xf32>,
                  %v: tensor<1x2x37x24xf32>) -> tensor<1x4x19x24xf32> {
  %i = tensor.empty() : tensor<1x4x19x24xf32>
  %o = kv.attention %q, %k, %v : tensor<1x4x19x24xf32>, tensor<1x2x37x24xf32>,
      tensor<1x2x37x24xf32> outs(%i : tensor<1x4x19x24xf32>) {causal, causal_offset = 18 : i64}
      -> tensor<1x4x19x24xf32>
  return %o : tensor<1x4x19x24xf32>
}
