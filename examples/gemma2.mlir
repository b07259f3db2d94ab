// Gemma-2-2B attention (a local, sliding-window layer): 8 query heads over 4
// KV heads (GQA 2), head dim 256, query scale 1/sqrt(256) = 0.0625
// (`query_pre_attn_scalar = 256`), attention logit soft-cap 50.0 (applied
// before masking), sliding window 4096 (HF `sliding_window = 4096`:
// `causal, window_left = 4095`). Gemma-2 alternates such local layers with
// global ones; a global layer is this one without `window_left`. The KV
// cache is f32 here; `kvfuse-run --cache-type bf16` (or f16) rewrites it to
// a bf16 cache as Gemma-2 checkpoints are served (K/V rounded on append, the
// reference then uses the rounded K/V).
//
// One decoder attention layer with its KV cache: `prefill` appends a
// 283-token prompt for one sequence; `decode` and `decode_b4` append one
// token per sequence for batches of 1 and 4. Q/K/V come in projected and
// rotated. The cache holds 1024 tokens per sequence, so the real window
// covers every key in a kvfuse-run run; `kvfuse-run --window W` rewrites
// `window_left` to W-1 (and verifies against that window).

func.func @prefill(
    %q: tensor<1x8x283x256xf32> {kv.name = "q"},
    %k: tensor<1x4x283x256xf32> {kv.name = "k"},
    %v: tensor<1x4x283x256xf32> {kv.name = "v"},
    %cache: !kv.cache<f32, heads = 4, head_dim = 256, capacity = 1024> {kv.name = "cache"},
    %past: tensor<1xi32> {kv.name = "past", kv.role = "past_lens"},
    %lens: tensor<1xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<1x8x283x256xf32>
    attributes {kv.step_tokens = 283 : i64} {
  kv.append %k, %v, %cache, %past : tensor<1x4x283x256xf32>, tensor<1x4x283x256xf32>,
      !kv.cache<f32, heads = 4, head_dim = 256, capacity = 1024>, tensor<1xi32>
  %init = tensor.empty() : tensor<1x8x283x256xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<1x8x283x256xf32>,
      !kv.cache<f32, heads = 4, head_dim = 256, capacity = 1024>, tensor<1xi32>
      outs(%init : tensor<1x8x283x256xf32>) {causal, scale = 6.250000e-02 : f32, softcap = 5.000000e+01 : f32, window_left = 4095 : i64} -> tensor<1x8x283x256xf32>
  return %o : tensor<1x8x283x256xf32>
}

func.func @decode(
    %q: tensor<1x8x1x256xf32> {kv.name = "q"},
    %k: tensor<1x4x1x256xf32> {kv.name = "k"},
    %v: tensor<1x4x1x256xf32> {kv.name = "v"},
    %cache: !kv.cache<f32, heads = 4, head_dim = 256, capacity = 1024> {kv.name = "cache"},
    %past: tensor<1xi32> {kv.name = "past", kv.role = "past_lens"},
    %lens: tensor<1xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<1x8x1x256xf32>
    attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %v, %cache, %past : tensor<1x4x1x256xf32>, tensor<1x4x1x256xf32>,
      !kv.cache<f32, heads = 4, head_dim = 256, capacity = 1024>, tensor<1xi32>
  %init = tensor.empty() : tensor<1x8x1x256xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<1x8x1x256xf32>,
      !kv.cache<f32, heads = 4, head_dim = 256, capacity = 1024>, tensor<1xi32>
      outs(%init : tensor<1x8x1x256xf32>) {causal, scale = 6.250000e-02 : f32, softcap = 5.000000e+01 : f32, window_left = 4095 : i64} -> tensor<1x8x1x256xf32>
  return %o : tensor<1x8x1x256xf32>
}

func.func @decode_b4(
    %q: tensor<4x8x1x256xf32> {kv.name = "q"},
    %k: tensor<4x4x1x256xf32> {kv.name = "k"},
    %v: tensor<4x4x1x256xf32> {kv.name = "v"},
    %cache: !kv.cache<f32, heads = 4, head_dim = 256, capacity = 1024> {kv.name = "cache"},
    %past: tensor<4xi32> {kv.name = "past", kv.role = "past_lens"},
    %lens: tensor<4xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<4x8x1x256xf32>
    attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %v, %cache, %past : tensor<4x4x1x256xf32>, tensor<4x4x1x256xf32>,
      !kv.cache<f32, heads = 4, head_dim = 256, capacity = 1024>, tensor<4xi32>
  %init = tensor.empty() : tensor<4x8x1x256xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<4x8x1x256xf32>,
      !kv.cache<f32, heads = 4, head_dim = 256, capacity = 1024>, tensor<4xi32>
      outs(%init : tensor<4x8x1x256xf32>) {causal, scale = 6.250000e-02 : f32, softcap = 5.000000e+01 : f32, window_left = 4095 : i64} -> tensor<4x8x1x256xf32>
  return %o : tensor<4x8x1x256xf32>
}
