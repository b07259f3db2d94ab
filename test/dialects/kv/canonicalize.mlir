// RUN: kvfuse-opt %s -split-input-file -canonicalize | FileCheck %s

// A scale equal to the default 1/sqrt(D) = 0.125 for D = 64 is dropped.
// CHECK-LABEL: func @default_scale_dropped
// CHECK: kv.attention
// CHECK-NOT: scale
// CHECK-SAME: -> tensor<1x2x3x64xf32>
func.func @default_scale_dropped(%q: tensor<1x2x3x64xf32>, %k: tensor<1x2x5x64xf32>,
                                 %v: tensor<1x2x5x64xf32>) -> tensor<1x2x3x64xf32> {
  %i = tensor.empty() : tensor<1x2x3x64xf32>
  %o = kv.attention %q, %k, %v : tensor<1x2x3x64xf32>, tensor<1x2x5x64xf32>, tensor<1x2x5x64xf32>
         outs(%i : tensor<1x2x3x64xf32>) {scale = 0.125 : f32} -> tensor<1x2x3x64xf32>
  return %o : tensor<1x2x3x64xf32>
}

// -----

// Any other scale stays.
// CHECK-LABEL: func @other_scale_kept
// CHECK: kv.attention {{.*}}scale = 2.500000e-01 : f32
func.func @other_scale_kept(%q: tensor<1x2x3x64xf32>, %k: tensor<1x2x5x64xf32>,
                            %v: tensor<1x2x5x64xf32>) -> tensor<1x2x3x64xf32> {
  %i = tensor.empty() : tensor<1x2x3x64xf32>
  %o = kv.attention %q, %k, %v : tensor<1x2x3x64xf32>, tensor<1x2x5x64xf32>, tensor<1x2x5x64xf32>
         outs(%i : tensor<1x2x3x64xf32>) {scale = 0.25 : f32} -> tensor<1x2x3x64xf32>
  return %o : tensor<1x2x3x64xf32>
}

// -----

// window_right = 0 is the causal mask; the canonical spelling is `causal`.
// CHECK-LABEL: func @right_window_zero_is_causal
// CHECK: kv.attention {{.*}} {causal, causal_offset = 2 : i64, window_left = 4 : i64}
func.func @right_window_zero_is_causal(%q: tensor<1x2x3x64xf32>, %k: tensor<1x2x5x64xf32>,
                                       %v: tensor<1x2x5x64xf32>) -> tensor<1x2x3x64xf32> {
  %i = tensor.empty() : tensor<1x2x3x64xf32>
  %o = kv.attention %q, %k, %v : tensor<1x2x3x64xf32>, tensor<1x2x5x64xf32>, tensor<1x2x5x64xf32>
         outs(%i : tensor<1x2x3x64xf32>) {causal_offset = 2 : i64, window_left = 4 : i64, window_right = 0 : i64}
         -> tensor<1x2x3x64xf32>
  return %o : tensor<1x2x3x64xf32>
}

// -----

// A right window on top of causal excludes nothing more; it is dropped.
// CHECK-LABEL: func @right_window_under_causal
// CHECK: kv.partial_attention {{.*}} {causal}
func.func @right_window_under_causal(%q: tensor<1x2x3x64xf32>, %k: tensor<1x2x5x64xf32>,
                                     %v: tensor<1x2x5x64xf32>)
    -> (tensor<1x2x3x64xf32>, tensor<1x2x3xf32>) {
  %i = tensor.empty() : tensor<1x2x3x64xf32>
  %l = tensor.empty() : tensor<1x2x3xf32>
  %o:2 = kv.partial_attention %q, %k, %v : tensor<1x2x3x64xf32>, tensor<1x2x5x64xf32>, tensor<1x2x5x64xf32>
         outs(%i, %l : tensor<1x2x3x64xf32>, tensor<1x2x3xf32>) {causal, window_right = 7 : i64}
         -> tensor<1x2x3x64xf32>, tensor<1x2x3xf32>
  return %o#0, %o#1 : tensor<1x2x3x64xf32>, tensor<1x2x3xf32>
}

// -----

// Decode: one query row sits at the last cached position, so causal masks
// nothing the lengths do not.
// CHECK-LABEL: func @decode_causal_dropped
// CHECK: kv.cache_attention
// CHECK-NOT: causal
// CHECK-SAME: -> tensor<2x4x1x64xf32>
func.func @decode_causal_dropped(%q: tensor<2x4x1x64xf32>,
                                 %c: !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>,
                                 %lens: tensor<2xi32>) -> tensor<2x4x1x64xf32> {
  %i = tensor.empty() : tensor<2x4x1x64xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<2x4x1x64xf32>,
         !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>, tensor<2xi32>
         outs(%i : tensor<2x4x1x64xf32>) {causal} -> tensor<2x4x1x64xf32>
  return %o : tensor<2x4x1x64xf32>
}

// -----

// With several query rows the causal mask matters and stays.
// CHECK-LABEL: func @prefill_causal_kept
// CHECK: kv.cache_attention {{.*}} {causal}
func.func @prefill_causal_kept(%q: tensor<2x4x3x64xf32>,
                               %c: !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>,
                               %lens: tensor<2xi32>) -> tensor<2x4x3x64xf32> {
  %i = tensor.empty() : tensor<2x4x3x64xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<2x4x3x64xf32>,
         !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>, tensor<2xi32>
         outs(%i : tensor<2x4x3x64xf32>) {causal} -> tensor<2x4x3x64xf32>
  return %o : tensor<2x4x3x64xf32>
}

// -----

// Merging one partial result is a reshape.
// CHECK-LABEL: func @merge_single_partial
// CHECK-NOT: kv.merge
// CHECK-DAG: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] : tensor<1x2x4x1x16xf32> into tensor<2x4x1x16xf32>
// CHECK-DAG: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2], [3]] : tensor<1x2x4x1xf32> into tensor<2x4x1xf32>
func.func @merge_single_partial(%p: tensor<1x2x4x1x16xf32>, %l: tensor<1x2x4x1xf32>)
    -> (tensor<2x4x1x16xf32>, tensor<2x4x1xf32>) {
  %oi = tensor.empty() : tensor<2x4x1x16xf32>
  %li = tensor.empty() : tensor<2x4x1xf32>
  %o:2 = kv.merge %p, %l : tensor<1x2x4x1x16xf32>, tensor<1x2x4x1xf32>
      outs(%oi, %li : tensor<2x4x1x16xf32>, tensor<2x4x1xf32>) -> tensor<2x4x1x16xf32>, tensor<2x4x1xf32>
  return %o#0, %o#1 : tensor<2x4x1x16xf32>, tensor<2x4x1xf32>
}

// -----

// Two partials must really be merged.
// CHECK-LABEL: func @merge_two_partials_kept
// CHECK: kv.merge
func.func @merge_two_partials_kept(%p: tensor<2x2x4x1x16xf32>, %l: tensor<2x2x4x1xf32>)
    -> (tensor<2x4x1x16xf32>, tensor<2x4x1xf32>) {
  %oi = tensor.empty() : tensor<2x4x1x16xf32>
  %li = tensor.empty() : tensor<2x4x1xf32>
  %o:2 = kv.merge %p, %l : tensor<2x2x4x1x16xf32>, tensor<2x2x4x1xf32>
      outs(%oi, %li : tensor<2x4x1x16xf32>, tensor<2x4x1xf32>) -> tensor<2x4x1x16xf32>, tensor<2x4x1xf32>
  return %o#0, %o#1 : tensor<2x4x1x16xf32>, tensor<2x4x1xf32>
}

// -----

// Attention on tensors has no side effects: an unused one is removed, while
// an append (which writes the cache) stays.
// CHECK-LABEL: func @dead_attention_removed
// CHECK-NOT: kv.attention
// CHECK: kv.append
func.func @dead_attention_removed(%q: tensor<1x2x3x64xf32>, %k: tensor<1x2x3x64xf32>,
                                  %c: !kv.cache<f32, heads = 2, head_dim = 64, capacity = 8>,
                                  %p: tensor<1xi32>) {
  %i = tensor.empty() : tensor<1x2x3x64xf32>
  %o = kv.attention %q, %k, %k : tensor<1x2x3x64xf32>, tensor<1x2x3x64xf32>, tensor<1x2x3x64xf32>
         outs(%i : tensor<1x2x3x64xf32>) -> tensor<1x2x3x64xf32>
  kv.append %k, %k, %c, %p : tensor<1x2x3x64xf32>, tensor<1x2x3x64xf32>,
      !kv.cache<f32, heads = 2, head_dim = 64, capacity = 8>, tensor<1xi32>
  return
}

// -----

// The fused append + attention uses the score canonicalisers: a decode step
// drops `causal` (its query row is the last appended token) and the default
// scale 1/sqrt(64).
// CHECK-LABEL: func @append_attention_decode_normalised
// CHECK: kv.append_attention
// CHECK-NOT: causal
// CHECK-NOT: scale
// CHECK-SAME: -> tensor<2x4x1x64xf32>
func.func @append_attention_decode_normalised(%q: tensor<2x4x1x64xf32>, %k: tensor<2x2x1x64xf32>,
                                              %c: !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>,
                                              %p: tensor<2xi32>) -> tensor<2x4x1x64xf32> {
  %i = tensor.empty() : tensor<2x4x1x64xf32>
  %o = kv.append_attention %q, %k, %k, %c, %p : tensor<2x4x1x64xf32>, tensor<2x2x1x64xf32>,
         tensor<2x2x1x64xf32>, !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>, tensor<2xi32>
         outs(%i : tensor<2x4x1x64xf32>) {causal, scale = 0.125 : f32} -> tensor<2x4x1x64xf32>
  return %o : tensor<2x4x1x64xf32>
}

// -----

// Several new query rows: causal stays, a right window under it is dropped.
// CHECK-LABEL: func @append_attention_prefill_causal_kept
// CHECK: kv.append_attention {{.*}} {causal} -> tensor<1x4x3x64xf32>
func.func @append_attention_prefill_causal_kept(%q: tensor<1x4x3x64xf32>, %k: tensor<1x2x3x64xf32>,
                                                %c: !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>,
                                                %p: tensor<1xi32>) -> tensor<1x4x3x64xf32> {
  %i = tensor.empty() : tensor<1x4x3x64xf32>
  %o = kv.append_attention %q, %k, %k, %c, %p : tensor<1x4x3x64xf32>, tensor<1x2x3x64xf32>,
         tensor<1x2x3x64xf32>, !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>, tensor<1xi32>
         outs(%i : tensor<1x4x3x64xf32>) {causal, window_right = 2 : i64} -> tensor<1x4x3x64xf32>
  return %o : tensor<1x4x3x64xf32>
}

// -----

// The fused op writes the cache: it stays even when its result is unused.
// CHECK-LABEL: func @dead_append_attention_kept
// CHECK: kv.append_attention
func.func @dead_append_attention_kept(%q: tensor<1x4x3x64xf32>, %k: tensor<1x2x3x64xf32>,
                                      %c: !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>,
                                      %p: tensor<1xi32>) {
  %i = tensor.empty() : tensor<1x4x3x64xf32>
  %o = kv.append_attention %q, %k, %k, %c, %p : tensor<1x4x3x64xf32>, tensor<1x2x3x64xf32>,
         tensor<1x2x3x64xf32>, !kv.cache<f16, heads = 2, head_dim = 64, capacity = 32>, tensor<1xi32>
         outs(%i : tensor<1x4x3x64xf32>) {causal} -> tensor<1x4x3x64xf32>
  return
}
