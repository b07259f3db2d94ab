// GPT-2 (124M) attention: 12 heads, head dim 64, multi-head.
//
// One decoder attention layer with its KV cache: `prefill` appends a
// 237-token prompt for one sequence and attends causally over it;
// `decode` and `decode_b4` append one token per sequence for batches of 1
// and 4 and attend over the whole cache. Q/K/V come in projected and
// rotated; kvfuse-run drives these entries (`--layout paged` rewrites the
// cache type to a paged one).

func.func @prefill(
    %q: tensor<1x12x237x64xf32> {kv.name = "q"},
    %k: tensor<1x12x237x64xf32> {kv.name = "k"},
    %v: tensor<1x12x237x64xf32> {kv.name = "v"},
    %cache: !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024> {kv.name = "cache"},
    %past: tensor<1xi32> {kv.name = "past", kv.role = "past_lens"},
    %lens: tensor<1xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<1x12x237x64xf32>
    attributes {kv.step_tokens = 237 : i64} {
  kv.append %k, %v, %cache, %past : tensor<1x12x237x64xf32>, tensor<1x12x237x64xf32>,
      !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024>, tensor<1xi32>
  %init = tensor.empty() : tensor<1x12x237x64xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<1x12x237x64xf32>,
      !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024>, tensor<1xi32>
      outs(%init : tensor<1x12x237x64xf32>) {causal} -> tensor<1x12x237x64xf32>
  return %o : tensor<1x12x237x64xf32>
}

func.func @decode(
    %q: tensor<1x12x1x64xf32> {kv.name = "q"},
    %k: tensor<1x12x1x64xf32> {kv.name = "k"},
    %v: tensor<1x12x1x64xf32> {kv.name = "v"},
    %cache: !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024> {kv.name = "cache"},
    %past: tensor<1xi32> {kv.name = "past", kv.role = "past_lens"},
    %lens: tensor<1xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<1x12x1x64xf32>
    attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %v, %cache, %past : tensor<1x12x1x64xf32>, tensor<1x12x1x64xf32>,
      !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024>, tensor<1xi32>
  %init = tensor.empty() : tensor<1x12x1x64xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<1x12x1x64xf32>,
      !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024>, tensor<1xi32>
      outs(%init : tensor<1x12x1x64xf32>) -> tensor<1x12x1x64xf32>
  return %o : tensor<1x12x1x64xf32>
}

func.func @decode_b4(
    %q: tensor<4x12x1x64xf32> {kv.name = "q"},
    %k: tensor<4x12x1x64xf32> {kv.name = "k"},
    %v: tensor<4x12x1x64xf32> {kv.name = "v"},
    %cache: !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024> {kv.name = "cache"},
    %past: tensor<4xi32> {kv.name = "past", kv.role = "past_lens"},
    %lens: tensor<4xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<4x12x1x64xf32>
    attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %v, %cache, %past : tensor<4x12x1x64xf32>, tensor<4x12x1x64xf32>,
      !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024>, tensor<4xi32>
  %init = tensor.empty() : tensor<4x12x1x64xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<4x12x1x64xf32>,
      !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024>, tensor<4xi32>
      outs(%init : tensor<4x12x1x64xf32>) -> tensor<4x12x1x64xf32>
  return %o : tensor<4x12x1x64xf32>
}
