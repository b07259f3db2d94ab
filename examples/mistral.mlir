// Mistral-7B (v0.1) attention: 32 query heads over 8 KV heads (GQA 4), head
// dim 128, sliding window 4096 (HF `sliding_window = 4096`, i.e. each token
// sees itself and the 4095 tokens before it: `causal, window_left = 4095`).
//
// One decoder attention layer with its KV cache: `prefill` appends a
// 317-token prompt for one sequence and attends causally within the window;
// `decode` and `decode_b4` append one token per sequence for batches of 1
// and 4 and attend over the cached tokens inside the window. Q/K/V come in
// projected and rotated.
//
// The cache holds 1024 tokens per sequence, so with the real window every
// key is inside it in a kvfuse-run run; `kvfuse-run --window W` rewrites
// `window_left` to W-1 (and verifies against that window) so that query
// rows see fewer keys than the whole prefix, e.g. `--window 128`.

func.func @prefill(
    %q: tensor<1x32x317x128xf32> {kv.name = "q"},
    %k: tensor<1x8x317x128xf32> {kv.name = "k"},
    %v: tensor<1x8x317x128xf32> {kv.name = "v"},
    %cache: !kv.cache<f32, heads = 8, head_dim = 128, capacity = 1024> {kv.name = "cache"},
    %past: tensor<1xi32> {kv.name = "past", kv.role = "past_lens"},
    %lens: tensor<1xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<1x32x317x128xf32>
    attributes {kv.step_tokens = 317 : i64} {
  kv.append %k, %v, %cache, %past : tensor<1x8x317x128xf32>, tensor<1x8x317x128xf32>,
      !kv.cache<f32, heads = 8, head_dim = 128, capacity = 1024>, tensor<1xi32>
  %init = tensor.empty() : tensor<1x32x317x128xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<1x32x317x128xf32>,
      !kv.cache<f32, heads = 8, head_dim = 128, capacity = 1024>, tensor<1xi32>
      outs(%init : tensor<1x32x317x128xf32>) {causal, window_left = 4095 : i64} -> tensor<1x32x317x128xf32>
  return %o : tensor<1x32x317x128xf32>
}

func.func @decode(
    %q: tensor<1x32x1x128xf32> {kv.name = "q"},
    %k: tensor<1x8x1x128xf32> {kv.name = "k"},
    %v: tensor<1x8x1x128xf32> {kv.name = "v"},
    %cache: !kv.cache<f32, heads = 8, head_dim = 128, capacity = 1024> {kv.name = "cache"},
    %past: tensor<1xi32> {kv.name = "past", kv.role = "past_lens"},
    %lens: tensor<1xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<1x32x1x128xf32>
    attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %v, %cache, %past : tensor<1x8x1x128xf32>, tensor<1x8x1x128xf32>,
      !kv.cache<f32, heads = 8, head_dim = 128, capacity = 1024>, tensor<1xi32>
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<1x32x1x128xf32>,
      !kv.cache<f32, heads = 8, head_dim = 128, capacity = 1024>, tensor<1xi32>
      outs(%init : tensor<1x32x1x128xf32>) {causal, window_left = 4095 : i64} -> tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}

func.func @decode_b4(
    %q: tensor<4x32x1x128xf32> {kv.name = "q"},
    %k: tensor<4x8x1x128xf32> {kv.name = "k"},
    %v: tensor<4x8x1x128xf32> {kv.name = "v"},
    %cache: !kv.cache<f32, heads = 8, head_dim = 128, capacity = 1024> {kv.name = "cache"},
    %past: tensor<4xi32> {kv.name = "past", kv.role = "past_lens"},
    %lens: tensor<4xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<4x32x1x128xf32>
    attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %v, %cache, %past : tensor<4x8x1x128xf32>, tensor<4x8x1x128xf32>,
      !kv.cache<f32, heads = 8, head_dim = 128, capacity = 1024>, tensor<4xi32>
  %init = tensor.empty() : tensor<4x32x1x128xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<4x32x1x128xf32>,
      !kv.cache<f32, heads = 8, head_dim = 128, capacity = 1024>, tensor<4xi32>
      outs(%init : tensor<4x32x1x128xf32>) {causal, window_left = 4095 : i64} -> tensor<4x32x1x128xf32>
  return %o : tensor<4x32x1x128xf32>
}
