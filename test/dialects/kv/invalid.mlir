// RUN: kvfuse-opt %s -split-input-file -verify-diagnostics

// Every verifier error of the kv dialect, one case each.

// Cache type: element type of a cache.
// expected-error @+1 {{expects element type f32, f16, bf16, i8 or an 8-bit float, got 'i32'}}
func.func private @bad_cache_type_0(%c: !kv.cache<i32, heads = 1, head_dim = 4, capacity = 4>)

// -----

// Cache type: quantised cache without scales.
// expected-error @+1 {{expects a scale type for quantised element type 'i8'}}
func.func private @bad_cache_type_1(%c: !kv.cache<i8, heads = 1, head_dim = 4, capacity = 4>)

// -----

// Cache type: scales on a float cache.
// expected-error @+1 {{expects no scale for element type 'f16', got scale 'f32'}}
func.func private @bad_cache_type_2(%c: !kv.cache<f16, heads = 1, head_dim = 4, capacity = 4, scale = f32>)

// -----

// Cache type: integer scales.
// expected-error @+1 {{expects a float scale type, got 'i32'}}
func.func private @bad_cache_type_3(%c: !kv.cache<i8, heads = 1, head_dim = 4, capacity = 4, scale = i32>)

// -----

// Cache type: zero heads.
// expected-error @+1 {{expects heads > 0, got 0}}
func.func private @bad_cache_type_4(%c: !kv.cache<f32, heads = 0, head_dim = 4, capacity = 4>)

// -----

// Cache type: zero head dim.
// expected-error @+1 {{expects head_dim > 0, got 0}}
func.func private @bad_cache_type_5(%c: !kv.cache<f32, heads = 1, head_dim = 0, capacity = 4>)

// -----

// Cache type: negative value dim.
// expected-error @+1 {{expects value_dim > 0, got -2}}
func.func private @bad_cache_type_6(%c: !kv.cache<f32, heads = 1, head_dim = 4, value_dim = -2, capacity = 4>)

// -----

// Cache type: zero capacity.
// expected-error @+1 {{expects capacity > 0, got 0}}
func.func private @bad_cache_type_7(%c: !kv.cache<f32, heads = 1, head_dim = 4, capacity = 0>)

// -----

// Cache type: unknown layout.
// expected-error @+1 {{expects layout #kv.contiguous or #kv.paged, got "paged"}}
func.func private @bad_cache_type_8(%c: !kv.cache<f32, heads = 1, head_dim = 4, capacity = 4, layout = "paged">)

// -----

// Cache type: zero page size.
// expected-error @+2 {{expects page_size > 0, got 0}}
// expected-error @+1 {{failed to parse Kv_CacheType parameter 'layout'}}
func.func private @bad_cache_type_9(%c: !kv.cache<f32, heads = 1, head_dim = 4, capacity = 4, layout = #kv.paged<page_size = 0>>)

// -----

// Softcap must be positive.
func.func @softcap_zero(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects softcap > 0 and finite, got 0}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) {softcap = 0.0 : f32} -> tensor<1x4x3x16xf32>
  return
}

// -----

// Scale must be non-zero.
func.func @scale_zero(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects a finite, non-zero scale, got 0}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) {scale = 0.0 : f32} -> tensor<1x4x3x16xf32>
  return
}

// -----

// Windows below -1.
func.func @window_left_below(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects window_left >= -1, got -2}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) {window_left = -2 : i64} -> tensor<1x4x3x16xf32>
  return
}

// -----

func.func @window_right_below(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects window_right >= -1, got -5}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) {window_right = -5 : i64} -> tensor<1x4x3x16xf32>
  return
}

// -----

// Rank of Q.
func.func @query_rank(%q: tensor<4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects query of rank 4 [B, Hq, Sq, D], got rank 3}}
  %o = kv.attention %q, %k, %v : tensor<4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Rank of K.
func.func @key_rank(%q: tensor<1x4x3x16xf32>, %k: tensor<5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects key of rank 4 [B, Hkv, Skv, D], got rank 2}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Rank of V.
func.func @value_rank(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects value of rank 4 [B, Hkv, Skv, Dv], got rank 5}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Integer Q.
func.func @query_not_float(%q: tensor<1x4x3x16xi32>, %k: tensor<1x2x5x16xi32>, %v: tensor<1x2x5x16xi32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects query to have a float element type, got 'i32'}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xi32>, tensor<1x2x5x16xi32>, tensor<1x2x5x16xi32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Mixed Q/K/V element types.
func.func @mixed_element_types(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf16>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects query, key and value to share an element type, got 'f32', 'f16', 'f32'}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf16>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Dynamic head dim.
func.func @dynamic_head_dim(%q: tensor<1x4x3x?xf32>, %k: tensor<1x2x5x?xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects static head dims}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x?xf32>, tensor<1x2x5x?xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Batch of K.
func.func @key_batch(%q: tensor<1x4x3x16xf32>, %k: tensor<2x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects key batch to be 1, got 2}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<2x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Batch of V.
func.func @value_batch(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<3x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects value batch to be 1, got 3}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<3x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Heads of V.
func.func @value_heads(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x1x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects value heads (key heads) to be 2, got 1}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x1x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Length of V.
func.func @value_length(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x6x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects value length (key length) to be 5, got 6}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x6x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Head dim of K.
func.func @key_head_dim(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects key head dim (query head dim) to be 16, got 8}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Hq not a multiple of Hkv.
func.func @gqa_not_multiple(%q: tensor<1x4x3x16xf32>, %k: tensor<1x3x5x16xf32>, %v: tensor<1x3x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects query heads (4) to be a multiple of KV heads, got 3}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x3x5x16xf32>, tensor<1x3x5x16xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Mask of integer type.
func.func @mask_element(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>, %m: tensor<1x4x3x5xi8>) {
  // expected-error @+1 {{expects mask element type i1 or float, got 'i8'}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> mask(%m : tensor<1x4x3x5xi8>) outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Mask rank.
func.func @mask_rank(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>, %m: tensor<5xi1>) {
  // expected-error @+1 {{expects mask of rank 2 to 4 broadcasting to [B, Hq, Sq, Skv], got rank 1}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> mask(%m : tensor<5xi1>) outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Mask that does not broadcast.
func.func @mask_broadcast(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>, %m: tensor<1x2x5xi1>) {
  // expected-error @+1 {{expects mask dim 1 to be 1 or 3 to broadcast to [B, Hq, Sq, Skv], got 2}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> mask(%m : tensor<1x2x5xi1>) outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Kv_lens rank.
func.func @kv_lens_rank(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>, %l: tensor<1x1xi32>) {
  // expected-error @+1 {{expects kv_lens of rank 1 [B], got rank 2}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> kv_lens(%l : tensor<1x1xi32>) outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Kv_lens size.
func.func @kv_lens_size(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expects kv_lens size (batch) to be 1, got 2}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> kv_lens(%l : tensor<2xi32>) outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Kv_lens type.
func.func @kv_lens_type(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>, %l: tensor<1xi64>) {
  // expected-error @+1 {{must be i32 ranked tensor or memref}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> kv_lens(%l : tensor<1xi64>) outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Offsets size.
func.func @offsets_size(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>, %f: tensor<4xi32>) {
  // expected-error @+1 {{expects offsets size (batch) to be 1, got 4}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> offsets(%f : tensor<4xi32>) outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Offsets and a static offset together.
func.func @offsets_and_causal_offset(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>, %f: tensor<1xi32>) {
  // expected-error @+1 {{expects causal_offset 0 when offsets are given, got 2}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> offsets(%f : tensor<1xi32>) outs(%i : tensor<1x4x3x16xf32>) {causal, causal_offset = 2 : i64} -> tensor<1x4x3x16xf32>
  return
}

// -----

// Init rank.
func.func @init_rank(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<4x3x16xf32>) {
  // expected-error @+1 {{expects init of rank 4 [B, Hq, Sq, Dv], got rank 3}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<4x3x16xf32>) -> tensor<4x3x16xf32>
  return
}

// -----

// Init heads.
func.func @init_heads(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x2x3x16xf32>) {
  // expected-error @+1 {{expects init heads to be 4, got 2}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x2x3x16xf32>) -> tensor<1x2x3x16xf32>
  return
}

// -----

// Init value head dim.
func.func @init_value_dim(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x32xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects init value head dim to be 32, got 16}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x32xf32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Integer init.
func.func @init_not_float(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xi32>) {
  // expected-error @+1 {{expects init to have a float element type, got 'i32'}}
  %o = kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xi32>) -> tensor<1x4x3x16xi32>
  return
}

// -----

// Memref form with a result.
func.func @memref_with_result(%q: memref<1x4x3x16xf32>, %k: memref<1x2x5x16xf32>, %v: memref<1x2x5x16xf32>, %i: memref<1x4x3x16xf32>) {
  // expected-error @+1 {{expects no results on memrefs, got 1}}
  %o = kv.attention %q, %k, %v : memref<1x4x3x16xf32>, memref<1x2x5x16xf32>, memref<1x2x5x16xf32> outs(%i : memref<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Tensor form without a result.
func.func @tensor_without_result(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects 1 result(s) on tensors, got 0}}
  kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x3x16xf32>)
  return
}

// -----

// Tensors mixed with memrefs.
func.func @mixed_tensor_memref(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %i: memref<1x4x3x16xf32>) {
  // expected-error @+1 {{expects all shaped operands to be tensors or all to be memrefs}}
  kv.attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : memref<1x4x3x16xf32>)
  return
}

// -----

// Negative slice start.
func.func @partial_kv_start(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x4x3xf32>) {
  // expected-error @+1 {{expects kv_start >= 0, got -1}}
  %r:2 = kv.partial_attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x4x3xf32>) {kv_start = -1 : i64} -> tensor<1x4x3x16xf32>, tensor<1x4x3xf32>
  return
}

// -----

// Partial output must be f32.
func.func @partial_out_f16(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %o: tensor<1x4x3x16xf16>, %s: tensor<1x4x3xf32>) {
  // expected-error @+1 {{expects out_init to have element type f32, got 'f16'}}
  %r:2 = kv.partial_attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%o, %s : tensor<1x4x3x16xf16>, tensor<1x4x3xf32>) -> tensor<1x4x3x16xf16>, tensor<1x4x3xf32>
  return
}

// -----

// LSE must be f32.
func.func @partial_lse_f16(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x4x3xf16>) {
  // expected-error @+1 {{expects lse_init to have element type f32, got 'f16'}}
  %r:2 = kv.partial_attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x4x3xf16>) -> tensor<1x4x3x16xf32>, tensor<1x4x3xf16>
  return
}

// -----

// LSE shape.
func.func @partial_lse_shape(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x4x4xf32>) {
  // expected-error @+1 {{expects lse_init query length to be 3, got 4}}
  %r:2 = kv.partial_attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x4x4xf32>) -> tensor<1x4x3x16xf32>, tensor<1x4x4xf32>
  return
}

// -----

// LSE rank.
func.func @partial_lse_rank(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x4x3x1xf32>) {
  // expected-error @+1 {{expects lse_init of rank 3 [B, Hq, Sq], got rank 4}}
  %r:2 = kv.partial_attention %q, %k, %v : tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x4x3x1xf32>) -> tensor<1x4x3x16xf32>, tensor<1x4x3x1xf32>
  return
}

// -----

// Head dim differs from the cache's.
func.func @cache_head_dim(%q: tensor<1x4x3x32xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects query head dim (cache head_dim) to be 16, got 32}}
  %o = kv.cache_attention %q, %c, %l : tensor<1x4x3x32xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Query heads not a multiple of the cache's heads.
func.func @cache_gqa(%q: tensor<1x3x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>, %i: tensor<1x3x3x16xf32>) {
  // expected-error @+1 {{expects query heads (3) to be a multiple of KV heads, got 2}}
  %o = kv.cache_attention %q, %c, %l : tensor<1x3x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x3x3x16xf32>) -> tensor<1x3x3x16xf32>
  return
}

// -----

// More query rows than the capacity.
func.func @cache_query_too_long(%q: tensor<1x4x9x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>, %i: tensor<1x4x9x16xf32>) {
  // expected-error @+1 {{expects query length <= cache capacity (8), got 9}}
  %o = kv.cache_attention %q, %c, %l : tensor<1x4x9x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x9x16xf32>) -> tensor<1x4x9x16xf32>
  return
}

// -----

// Lengths of the wrong batch.
func.func @cache_lens_size(%q: tensor<1x4x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<3xi32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects kv_lens size (batch) to be 1, got 3}}
  %o = kv.cache_attention %q, %c, %l : tensor<1x4x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<3xi32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Mask over the capacity.
func.func @cache_mask(%q: tensor<1x4x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>, %i: tensor<1x4x3x16xf32>, %m: tensor<1x4x3x5xi1>) {
  // expected-error @+1 {{expects mask dim 3 to be 1 or 8 to broadcast to [B, Hq, Sq, Skv], got 5}}
  %o = kv.cache_attention %q, %c, %l : tensor<1x4x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> mask(%m : tensor<1x4x3x5xi1>) outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Init value dim from the cache.
func.func @cache_init_dim(%q: tensor<1x4x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, value_dim = 8, capacity = 8>, %l: tensor<1xi32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects init value head dim to be 8, got 16}}
  %o = kv.cache_attention %q, %c, %l : tensor<1x4x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, value_dim = 8, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

// Bad score attribute on cache attention.
func.func @cache_softcap(%q: tensor<1x4x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>, %i: tensor<1x4x3x16xf32>) {
  // expected-error @+1 {{expects softcap > 0 and finite, got -1}}
  %o = kv.cache_attention %q, %c, %l : tensor<1x4x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x3x16xf32>) {softcap = -1.0 : f32} -> tensor<1x4x3x16xf32>
  return
}

// -----

// Partial outputs rank.
func.func @merge_out_rank(%a: tensor<1x4x3x16xf32>, %b: tensor<2x1x4x3xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x4x3xf32>) {
  // expected-error @+1 {{expects partial_out of rank 5 [N, B, Hq, Sq, Dv], got rank 4}}
  %r:2 = kv.merge %a, %b : tensor<1x4x3x16xf32>, tensor<2x1x4x3xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x4x3xf32>) -> tensor<1x4x3x16xf32>, tensor<1x4x3xf32>
  return
}

// -----

// Partial LSE rank.
func.func @merge_lse_rank(%a: tensor<2x1x4x3x16xf32>, %b: tensor<2x1x4xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x4x3xf32>) {
  // expected-error @+1 {{expects partial_lse of rank 4 [N, B, Hq, Sq], got rank 3}}
  %r:2 = kv.merge %a, %b : tensor<2x1x4x3x16xf32>, tensor<2x1x4xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x4x3xf32>) -> tensor<1x4x3x16xf32>, tensor<1x4x3xf32>
  return
}

// -----

// Partials must be f32.
func.func @merge_out_f16(%a: tensor<2x1x4x3x16xf16>, %b: tensor<2x1x4x3xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x4x3xf32>) {
  // expected-error @+1 {{expects partial_out to have element type f32, got 'f16'}}
  %r:2 = kv.merge %a, %b : tensor<2x1x4x3x16xf16>, tensor<2x1x4x3xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x4x3xf32>) -> tensor<1x4x3x16xf32>, tensor<1x4x3xf32>
  return
}

// -----

// Split counts differ.
func.func @merge_splits(%a: tensor<2x1x4x3x16xf32>, %b: tensor<3x1x4x3xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x4x3xf32>) {
  // expected-error @+1 {{expects partial_lse splits (partial_out splits) to be 2, got 3}}
  %r:2 = kv.merge %a, %b : tensor<2x1x4x3x16xf32>, tensor<3x1x4x3xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x4x3xf32>) -> tensor<1x4x3x16xf32>, tensor<1x4x3xf32>
  return
}

// -----

// Partial shapes differ.
func.func @merge_partial_dims(%a: tensor<2x1x4x3x16xf32>, %b: tensor<2x1x5x3xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x4x3xf32>) {
  // expected-error @+1 {{expects partial_lse dim 2 to be 4, got 5}}
  %r:2 = kv.merge %a, %b : tensor<2x1x4x3x16xf32>, tensor<2x1x5x3xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x4x3xf32>) -> tensor<1x4x3x16xf32>, tensor<1x4x3xf32>
  return
}

// -----

// Output shape.
func.func @merge_out_shape(%a: tensor<2x1x4x3x16xf32>, %b: tensor<2x1x4x3xf32>, %o: tensor<1x4x3x8xf32>, %s: tensor<1x4x3xf32>) {
  // expected-error @+1 {{expects out_init value head dim to be 16, got 8}}
  %r:2 = kv.merge %a, %b : tensor<2x1x4x3x16xf32>, tensor<2x1x4x3xf32> outs(%o, %s : tensor<1x4x3x8xf32>, tensor<1x4x3xf32>) -> tensor<1x4x3x8xf32>, tensor<1x4x3xf32>
  return
}

// -----

// LSE output shape.
func.func @merge_lse_shape(%a: tensor<2x1x4x3x16xf32>, %b: tensor<2x1x4x3xf32>, %o: tensor<1x4x3x16xf32>, %s: tensor<1x1x3xf32>) {
  // expected-error @+1 {{expects lse_init heads to be 4, got 1}}
  %r:2 = kv.merge %a, %b : tensor<2x1x4x3x16xf32>, tensor<2x1x4x3xf32> outs(%o, %s : tensor<1x4x3x16xf32>, tensor<1x1x3xf32>) -> tensor<1x4x3x16xf32>, tensor<1x1x3xf32>
  return
}

// -----

// Rank of new keys.
func.func @append_key_rank(%k: tensor<2x3x16xf32>, %v: tensor<1x2x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects key of rank 4 [B, Hkv, S, D], got rank 3}}
  kv.append %k, %v, %c, %l : tensor<2x3x16xf32>, tensor<1x2x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// Rank of new values.
func.func @append_value_rank(%k: tensor<1x2x3x16xf32>, %v: tensor<3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects value of rank 4 [B, Hkv, S, Dv], got rank 2}}
  kv.append %k, %v, %c, %l : tensor<1x2x3x16xf32>, tensor<3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// Integer rows.
func.func @append_not_float(%k: tensor<1x2x3x16xi32>, %v: tensor<1x2x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects key to have a float element type, got 'i32'}}
  kv.append %k, %v, %c, %l : tensor<1x2x3x16xi32>, tensor<1x2x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// K and V element types differ.
func.func @append_mixed(%k: tensor<1x2x3x16xf32>, %v: tensor<1x2x3x16xf16>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects key and value to share an element type, got 'f32' and 'f16'}}
  kv.append %k, %v, %c, %l : tensor<1x2x3x16xf32>, tensor<1x2x3x16xf16>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// Heads differ from the cache's.
func.func @append_heads(%k: tensor<1x4x3x16xf32>, %v: tensor<1x4x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects key heads (cache heads) to be 2, got 4}}
  kv.append %k, %v, %c, %l : tensor<1x4x3x16xf32>, tensor<1x4x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// Key head dim differs.
func.func @append_head_dim(%k: tensor<1x2x3x8xf32>, %v: tensor<1x2x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects key head dim (cache head_dim) to be 16, got 8}}
  kv.append %k, %v, %c, %l : tensor<1x2x3x8xf32>, tensor<1x2x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// Value head dim differs.
func.func @append_value_dim(%k: tensor<1x2x3x16xf32>, %v: tensor<1x2x3x4xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects value head dim (cache value_dim) to be 16, got 4}}
  kv.append %k, %v, %c, %l : tensor<1x2x3x16xf32>, tensor<1x2x3x4xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// Batch of V.
func.func @append_batch(%k: tensor<1x2x3x16xf32>, %v: tensor<2x2x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects value batch to be 1, got 2}}
  kv.append %k, %v, %c, %l : tensor<1x2x3x16xf32>, tensor<2x2x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// K and V lengths differ.
func.func @append_lengths(%k: tensor<1x2x3x16xf32>, %v: tensor<1x2x2x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects value length (key length) to be 3, got 2}}
  kv.append %k, %v, %c, %l : tensor<1x2x3x16xf32>, tensor<1x2x2x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// Lens of the wrong batch.
func.func @append_lens(%k: tensor<1x2x3x16xf32>, %v: tensor<1x2x3x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<2xi32>) {
  // expected-error @+1 {{expects lens size (batch) to be 1, got 2}}
  kv.append %k, %v, %c, %l : tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<2xi32>
  return
}

// -----

// More rows than the capacity.
func.func @append_too_many_rows(%k: tensor<1x2x9x16xf32>, %v: tensor<1x2x9x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>) {
  // expected-error @+1 {{expects at most capacity (8) new rows, got 9}}
  kv.append %k, %v, %c, %l : tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32>
  return
}

// -----

// Fused append + attention: new rows of other sequences than the queries
// (dynamic lengths do not tell).
func.func @append_attention_batch(%q: tensor<1x4x1x16xf32>, %k: tensor<2x2x1x16xf32>, %v: tensor<2x2x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<?xi32>, %i: tensor<1x4x1x16xf32>) {
  // expected-error @+1 {{expects key batch (query batch) to be 1, got 2}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<1x4x1x16xf32>, tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<?xi32> outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

// Fused: the append checks apply (value head dim).
func.func @append_attention_value_dim(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x8xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>, %i: tensor<1x4x1x16xf32>) {
  // expected-error @+1 {{expects value head dim (cache value_dim) to be 16, got 8}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x8xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

// Fused: more new rows than the capacity.
func.func @append_attention_too_many_rows(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x9x16xf32>, %v: tensor<1x2x9x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>, %i: tensor<1x4x1x16xf32>) {
  // expected-error @+1 {{expects at most capacity (8) new rows, got 9}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<1x4x1x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

// Fused: past_lens of the wrong batch.
func.func @append_attention_past_lens(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<2xi32>, %i: tensor<1x4x1x16xf32>) {
  // expected-error @+1 {{expects past_lens size (batch) to be 1, got 2}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<2xi32> outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

// Fused: the cache attention checks apply (GQA).
func.func @append_attention_gqa(%q: tensor<1x3x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>, %i: tensor<1x3x1x16xf32>) {
  // expected-error @+1 {{expects query heads (3) to be a multiple of KV heads, got 2}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<1x3x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x3x1x16xf32>) -> tensor<1x3x1x16xf32>
  return
}

// -----

// Fused: query rank.
func.func @append_attention_query_rank(%q: tensor<4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>, %i: tensor<1x4x1x16xf32>) {
  // expected-error @+1 {{expects query of rank 4 [B, Hq, Sq, D], got rank 3}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

// Fused: the mask broadcasts over the capacity.
func.func @append_attention_mask(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>, %i: tensor<1x4x1x16xf32>, %m: tensor<1x4x1x5xi1>) {
  // expected-error @+1 {{expects mask dim 3 to be 1 or 8 to broadcast to [B, Hq, Sq, Skv], got 5}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> mask(%m : tensor<1x4x1x5xi1>) outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

// Fused: init value head dim.
func.func @append_attention_init(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>, %i: tensor<1x4x1x8xf32>) {
  // expected-error @+1 {{expects init value head dim to be 16, got 8}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x1x8xf32>) -> tensor<1x4x1x8xf32>
  return
}

// -----

// Fused: score attributes.
func.func @append_attention_window(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>, %i: tensor<1x4x1x16xf32>) {
  // expected-error @+1 {{expects window_left >= -1, got -2}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x1x16xf32>) {window_left = -2 : i64} -> tensor<1x4x1x16xf32>
  return
}

// -----

// Fused: the tensor form has one result.
func.func @append_attention_no_result(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>, %i: tensor<1x4x1x16xf32>) {
  // expected-error @+1 {{expects 1 result(s) on tensors, got 0}}
  kv.append_attention %q, %k, %v, %c, %p : tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x1x16xf32>)
  return
}

// -----

// Fused: tensors and memrefs mixed.
func.func @append_attention_mixed(%q: tensor<1x4x1x16xf32>, %k: memref<1x2x1x16xf32>, %v: memref<1x2x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %p: tensor<1xi32>, %i: tensor<1x4x1x16xf32>) {
  // expected-error @+1 {{expects all shaped operands to be tensors or all to be memrefs}}
  %o = kv.append_attention %q, %k, %v, %c, %p : tensor<1x4x1x16xf32>, memref<1x2x1x16xf32>, memref<1x2x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

// Heads differ from the cache's.
func.func @load_heads(%c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %a: tensor<1x3x8x16xf32>, %b: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{expects key_init heads (cache heads) to be 2, got 3}}
  %r:2 = kv.load %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8> outs(%a, %b : tensor<1x3x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x3x8x16xf32>, tensor<1x2x8x16xf32>
  return
}

// -----

// Head dim differs.
func.func @load_head_dim(%c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %a: tensor<1x2x8x4xf32>, %b: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{expects key_init head dim (cache head_dim) to be 16, got 4}}
  %r:2 = kv.load %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8> outs(%a, %b : tensor<1x2x8x4xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x4xf32>, tensor<1x2x8x16xf32>
  return
}

// -----

// Value dim differs.
func.func @load_value_dim(%c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %a: tensor<1x2x8x16xf32>, %b: tensor<1x2x8x2xf32>) {
  // expected-error @+1 {{expects value_init head dim (cache value_dim) to be 16, got 2}}
  %r:2 = kv.load %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8> outs(%a, %b : tensor<1x2x8x16xf32>, tensor<1x2x8x2xf32>) -> tensor<1x2x8x16xf32>, tensor<1x2x8x2xf32>
  return
}

// -----

// Batches differ.
func.func @load_batch(%c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %a: tensor<1x2x8x16xf32>, %b: tensor<2x2x8x16xf32>) {
  // expected-error @+1 {{expects value_init batch (key_init batch) to be 1, got 2}}
  %r:2 = kv.load %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8> outs(%a, %b : tensor<1x2x8x16xf32>, tensor<2x2x8x16xf32>) -> tensor<1x2x8x16xf32>, tensor<2x2x8x16xf32>
  return
}

// -----

// Lengths differ.
func.func @load_length(%c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %a: tensor<1x2x8x16xf32>, %b: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{expects value_init length (key_init length) to be 8, got 7}}
  %r:2 = kv.load %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8> outs(%a, %b : tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>) -> tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>
  return
}

// -----

// More rows than the capacity.
func.func @load_too_many(%c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %a: tensor<1x2x9x16xf32>, %b: tensor<1x2x9x16xf32>) {
  // expected-error @+1 {{expects at most capacity (8) rows, got 9}}
  %r:2 = kv.load %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8> outs(%a, %b : tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>) -> tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>
  return
}

// -----

// Integer destination.
func.func @load_not_float(%c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %a: tensor<1x2x8x16xi32>, %b: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{expects key_init to have a float element type, got 'i32'}}
  %r:2 = kv.load %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8> outs(%a, %b : tensor<1x2x8x16xi32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xi32>, tensor<1x2x8x16xf32>
  return
}

// -----

// View types must follow the cache type.
func.func @cache_view_types(%c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>) {
  // expected-error @+1 {{expects page table type 'memref<?x1xi32>', got 'memref<?x2xi32>'}}
  %k, %v, %t = kv.cache_view %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8> -> memref<?x2x8x16xf32>, memref<?x2x8x16xf32>, memref<?x2xi32>
  return
}

// -----

// Entry-point attributes: unknown role.
// expected-error @+1 {{expects kv.role to be "input", "past_lens" or "kv_lens", got "lengths"}}
func.func @bad_role(%l: tensor<1xi32> {kv.role = "lengths"}) {
  return
}

// -----

// Entry-point attributes: lengths must be i32 vectors.
// expected-error @+1 {{expects a past_lens argument of type tensor<Bxi32>, got 'tensor<1xi64>'}}
func.func @bad_lens_type(%l: tensor<1xi64> {kv.role = "past_lens"}) {
  return
}

// -----

// Entry-point attributes: names are strings.
// expected-error @+1 {{expects kv.name to be a string, got 3 : i64}}
func.func @bad_name(%l: tensor<1xi32> {kv.name = 3}) {
  return
}

// -----

// Entry-point attributes: unknown argument attribute.
// expected-error @+1 {{unknown kv argument attribute 'kv.rol'}}
func.func @unknown_arg_attr(%l: tensor<1xi32> {kv.rol = "input"}) {
  return
}

// -----

// Entry-point attributes: step tokens must be non-negative.
// expected-error @+1 {{expects kv.step_tokens to be a non-negative integer, got -1 : i64}}
func.func @bad_step_tokens() attributes {kv.step_tokens = -1 : i64} {
  return
}

// -----

// Split form: the partials' counts differ.
func.func @split_counts(%q: tensor<1x4x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>, %o: tensor<3x1x4x1x16xf32>, %s: tensor<2x1x4x1xf32>) {
  // expected-error @+1 {{expects lse_init splits to be 3, got 2}}
  %r:2 = kv.cache_attention %q, %c, %l : tensor<1x4x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%o, %s : tensor<3x1x4x1x16xf32>, tensor<2x1x4x1xf32>) -> tensor<3x1x4x1x16xf32>, tensor<2x1x4x1xf32>
  return
}

// -----

// Split form: partials are f32.
func.func @split_type(%q: tensor<1x4x1x16xf16>, %k: tensor<1x2x5x16xf16>, %v: tensor<1x2x5x16xf16>, %o: tensor<2x1x4x1x16xf16>, %s: tensor<2x1x4x1xf32>) {
  // expected-error @+1 {{expects out_init to have element type f32, got 'f16'}}
  %r:2 = kv.partial_attention %q, %k, %v : tensor<1x4x1x16xf16>, tensor<1x2x5x16xf16>, tensor<1x2x5x16xf16> outs(%o, %s : tensor<2x1x4x1x16xf16>, tensor<2x1x4x1xf32>) -> tensor<2x1x4x1x16xf16>, tensor<2x1x4x1xf32>
  return
}

// -----

// Split form: a static split count.
func.func @split_dynamic(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %o: tensor<?x1x4x1x16xf32>, %s: tensor<?x1x4x1xf32>) {
  // expected-error @+1 {{expects a static number of splits >= 1 in out_init, got ?}}
  %r:2 = kv.partial_attention %q, %k, %v : tensor<1x4x1x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%o, %s : tensor<?x1x4x1x16xf32>, tensor<?x1x4x1xf32>) -> tensor<?x1x4x1x16xf32>, tensor<?x1x4x1xf32>
  return
}

// -----

// With a log-sum-exp, the output of a cache attention is split or not, as
// the log-sum-exp is.
func.func @split_lse_rank(%q: tensor<1x4x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>, %o: tensor<1x4x1x16xf32>, %s: tensor<2x1x4x1xf32>) {
  // expected-error @+1 {{expects lse_init of rank 3 [B, Hq, Sq], got rank 4}}
  %r:2 = kv.cache_attention %q, %c, %l : tensor<1x4x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%o, %s : tensor<1x4x1x16xf32>, tensor<2x1x4x1xf32>) -> tensor<1x4x1x16xf32>, tensor<2x1x4x1xf32>
  return
}

// -----

// Packed heads: at least one.
func.func @packed_zero(%q: tensor<1x2x4x16xf32>, %k: tensor<1x1x5x16xf32>, %i: tensor<1x2x4x16xf32>) {
  // expected-error @+1 {{expects packed_heads >= 1, got 0}}
  %o = kv.attention %q, %k, %k : tensor<1x2x4x16xf32>, tensor<1x1x5x16xf32>, tensor<1x1x5x16xf32> outs(%i : tensor<1x2x4x16xf32>) {packed_heads = 0 : i64} -> tensor<1x2x4x16xf32>
  return
}

// -----

// Packed heads: the rows hold whole heads' rows.
func.func @packed_rows(%q: tensor<1x1x6x16xf32>, %k: tensor<1x1x5x16xf32>, %i: tensor<1x1x6x16xf32>) {
  // expected-error @+1 {{expects query rows (6) to be a multiple of packed_heads (4)}}
  %o = kv.attention %q, %k, %k : tensor<1x1x6x16xf32>, tensor<1x1x5x16xf32>, tensor<1x1x5x16xf32> outs(%i : tensor<1x1x6x16xf32>) {packed_heads = 4 : i64} -> tensor<1x1x6x16xf32>
  return
}

// -----

// Packed heads: a packed head's rows must share a KV head (2 query heads per
// KV head, 4 packed).
func.func @packed_across_kv_heads(%q: tensor<1x1x8x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, %l: tensor<1xi32>, %i: tensor<1x1x8x16xf32>) {
  // expected-error @+1 {{expects packed_heads (4) to divide the query heads per KV head (2), so that a packed head's rows share one KV head}}
  %o = kv.cache_attention %q, %c, %l : tensor<1x1x8x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, tensor<1xi32> outs(%i : tensor<1x1x8x16xf32>) {packed_heads = 4 : i64} -> tensor<1x1x8x16xf32>
  return
}

// -----

// Packed heads: the explicit mask broadcasts to the unpacked [B, Hq, Sq, Skv]
// (here [1, 4, 2, 5]), not to the packed query's shape.
func.func @packed_mask(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x5x16xf32>, %m: tensor<1x2x4x5xi1>, %i: tensor<1x2x4x16xf32>) {
  // expected-error @+1 {{expects mask dim 1 to be 1 or 4 to broadcast to [B, Hq, Sq, Skv], got 2}}
  %o = kv.attention %q, %k, %k : tensor<1x2x4x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> mask(%m : tensor<1x2x4x5xi1>) outs(%i : tensor<1x2x4x16xf32>) {packed_heads = 2 : i64} -> tensor<1x2x4x16xf32>
  return
}

// -----

// Packed heads: the destinations are packed like the query.
func.func @packed_output(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x5x16xf32>, %i: tensor<1x4x2x16xf32>) {
  // expected-error @+1 {{expects init heads to be 2, got 4}}
  %o = kv.attention %q, %k, %k : tensor<1x2x4x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> outs(%i : tensor<1x4x2x16xf32>) {packed_heads = 2 : i64} -> tensor<1x4x2x16xf32>
  return
}

// -----

// Attend block: the running state has one entry per query row.
func.func @attend_block_rows(%qs: memref<4x32xf32>, %k: memref<1x1x64x32xf32>, %r: memref<4xindex>,
                             %acc: memref<4x32xf32>, %m: memref<8xf32>, %i: index) {
  // expected-error @+1 {{expects row_max size (query rows) to be 4, got 8}}
  kv.attend_block %qs, %k, %k : memref<4x32xf32>, memref<1x1x64x32xf32>, memref<1x1x64x32xf32>
      at(%i, %i) keys(%i, %i, %i) rows(%r, %r : memref<4xindex>, memref<4xindex>) tile(%i, %i)
      outs(%acc, %m, %m : memref<4x32xf32>, memref<8xf32>, memref<8xf32>)
      {key_block = 32 : i64, num_keys = 64 : i64, packed_heads = 1 : i64, query_length = 4 : i64,
       rows_per_head = 4 : i64, score_kernel = "dot"}
  return
}

// -----

// Attend block: a known score kernel.
func.func @attend_block_kernel(%qs: memref<4x32xf32>, %k: memref<1x1x64x32xf32>, %r: memref<4xindex>,
                               %acc: memref<4x32xf32>, %m: memref<4xf32>, %i: index) {
  // expected-error @+1 {{expects score_kernel dot, transposed-keys or transposed-queries, got 'wide'}}
  kv.attend_block %qs, %k, %k : memref<4x32xf32>, memref<1x1x64x32xf32>, memref<1x1x64x32xf32>
      at(%i, %i) keys(%i, %i, %i) rows(%r, %r : memref<4xindex>, memref<4xindex>) tile(%i, %i)
      outs(%acc, %m, %m : memref<4x32xf32>, memref<4xf32>, memref<4xf32>)
      {key_block = 32 : i64, num_keys = 64 : i64, packed_heads = 1 : i64, query_length = 4 : i64,
       rows_per_head = 4 : i64, score_kernel = "wide"}
  return
}

// -----

// Attend block: paged rows need their page size.
func.func @attend_block_pages(%qs: memref<4x32xf32>, %k: memref<?x1x16x32xf32>, %t: memref<?x4xi32>,
                              %r: memref<4xindex>, %acc: memref<4x32xf32>, %m: memref<4xf32>, %i: index) {
  // expected-error @+1 {{expects a page_table exactly when page_size > 0}}
  kv.attend_block %qs, %k, %k : memref<4x32xf32>, memref<?x1x16x32xf32>, memref<?x1x16x32xf32>
      page_table(%t : memref<?x4xi32>)
      at(%i, %i) keys(%i, %i, %i) rows(%r, %r : memref<4xindex>, memref<4xindex>) tile(%i, %i)
      outs(%acc, %m, %m : memref<4x32xf32>, memref<4xf32>, memref<4xf32>)
      {key_block = 32 : i64, num_keys = 64 : i64, packed_heads = 1 : i64, query_length = 4 : i64,
       rows_per_head = 4 : i64, score_kernel = "dot"}
  return
}
