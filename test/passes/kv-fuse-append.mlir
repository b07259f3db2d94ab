// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-fuse-append))" | FileCheck %s

// The examples' form (examples/gpt2.mlir): runtime-filled past_lens and
// kv_lens arguments and kv.step_tokens equal to the rows appended.
// CHECK-LABEL: func @examples_decode_b4
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<4x12x1x64xf32> {{.*}}, %[[K:[a-z0-9]+]]: tensor<4x12x1x64xf32> {{.*}}, %[[V:[a-z0-9]+]]: tensor<4x12x1x64xf32> {{.*}}, %[[C:[a-z0-9]+]]: !kv.cache
// CHECK-SAME: %[[PAST:[a-z0-9]+]]: tensor<4xi32>
// CHECK-NOT: kv.append %
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<4x12x1x64xf32>
// CHECK: %[[O:.*]] = kv.append_attention %[[Q]], %[[K]], %[[V]], %[[C]], %[[PAST]] : tensor<4x12x1x64xf32>, tensor<4x12x1x64xf32>, tensor<4x12x1x64xf32>, !kv.cache<f32, heads = 12, head_dim = 64, capacity = 1024>, tensor<4xi32> outs(%[[INIT]] : tensor<4x12x1x64xf32>) -> tensor<4x12x1x64xf32>
// CHECK-NOT: kv.cache_attention
// CHECK: return %[[O]]
func.func @examples_decode_b4(
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

// -----

// A prefill in the examples' form on a paged GQA cache: the score
// attributes and the explicit mask carry over.
// CHECK-LABEL: func @examples_prefill_attributes
// CHECK: kv.append_attention
// CHECK-SAME: mask(%{{.*}} : tensor<1x1x37x128xi1>)
// CHECK-SAME: {causal, scale = 2.500000e-01 : f32, softcap = 3.000000e+01 : f32, window_left = 15 : i64, window_right = 2 : i64}
// CHECK-NOT: kv.append %
// CHECK-NOT: kv.cache_attention
func.func @examples_prefill_attributes(
    %q: tensor<1x8x37x64xf32>, %k: tensor<1x2x37x64xf32>, %v: tensor<1x2x37x32xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 64, value_dim = 32, capacity = 128,
                      layout = #kv.paged<page_size = 16>>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"},
    %m: tensor<1x1x37x128xi1>) -> tensor<1x8x37x32xf32>
    attributes {kv.step_tokens = 37 : i64} {
  kv.append %k, %v, %cache, %past : tensor<1x2x37x64xf32>, tensor<1x2x37x32xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 64, value_dim = 32, capacity = 128,
                layout = #kv.paged<page_size = 16>>, tensor<1xi32>
  %init = tensor.empty() : tensor<1x8x37x32xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<1x8x37x64xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 64, value_dim = 32, capacity = 128,
                layout = #kv.paged<page_size = 16>>, tensor<1xi32>
      mask(%m : tensor<1x1x37x128xi1>) outs(%init : tensor<1x8x37x32xf32>)
      {causal, scale = 0.25 : f32, softcap = 30.0 : f32, window_left = 15 : i64, window_right = 2 : i64}
      -> tensor<1x8x37x32xf32>
  return %o : tensor<1x8x37x32xf32>
}

// -----

// kv_lens computed in the function as past + splat(S); the addition goes
// away with the pair.
// CHECK-LABEL: func @addi_form
// CHECK-SAME: %[[C:[a-z0-9]+]]: !kv.cache<f16, heads = 2, head_dim = 16, capacity = 32>, %[[PAST:[a-z0-9]+]]: tensor<2xi32>
// CHECK-NOT: arith.addi
// CHECK: kv.append_attention %{{.*}}, %{{.*}}, %{{.*}}, %[[C]], %[[PAST]] : {{.*}} {causal}
// CHECK-NOT: kv.append %
// CHECK-NOT: kv.cache_attention
func.func @addi_form(%q: tensor<2x4x3x16xf32>, %k: tensor<2x2x3x16xf32>,
                     %c: !kv.cache<f16, heads = 2, head_dim = 16, capacity = 32>,
                     %past: tensor<2xi32>) -> tensor<2x4x3x16xf32> {
  kv.append %k, %k, %c, %past : tensor<2x2x3x16xf32>, tensor<2x2x3x16xf32>,
      !kv.cache<f16, heads = 2, head_dim = 16, capacity = 32>, tensor<2xi32>
  %s = arith.constant dense<3> : tensor<2xi32>
  %lens = arith.addi %past, %s : tensor<2xi32>
  %i = tensor.empty() : tensor<2x4x3x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<2x4x3x16xf32>,
      !kv.cache<f16, heads = 2, head_dim = 16, capacity = 32>, tensor<2xi32>
      outs(%i : tensor<2x4x3x16xf32>) {causal} -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// The addition in the other operand order, computed before the append.
// CHECK-LABEL: func @addi_form_commuted
// CHECK: kv.append_attention
// CHECK-NOT: kv.append %
// CHECK-NOT: kv.cache_attention
func.func @addi_form_commuted(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
                              %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
                              %past: tensor<1xi32>) -> tensor<1x4x1x16xf32> {
  %s = arith.constant dense<1> : tensor<1xi32>
  %lens = arith.addi %s, %past : tensor<1xi32>
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Two layers interleaved: ops on another cache argument in between do not
// touch this cache (the runtime never binds one cache to two arguments), so
// both pairs fuse.
// CHECK-LABEL: func @two_layers_interleaved
// CHECK-SAME: %[[C0:[a-z0-9]+]]: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, %[[C1:[a-z0-9]+]]: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>
// CHECK: kv.append_attention %{{.*}}, %{{.*}}, %{{.*}}, %[[C0]],
// CHECK: kv.append_attention %{{.*}}, %{{.*}}, %{{.*}}, %[[C1]],
// CHECK-NOT: kv.append %
// CHECK-NOT: kv.cache_attention
func.func @two_layers_interleaved(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c0: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %c1: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> (tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>) attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c0, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  kv.append %k, %k, %c1, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o0 = kv.cache_attention %q, %c0, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %o1 = kv.cache_attention %q, %c1, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o0, %o1 : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>
}

// -----

// One append, two attentions: the first takes the append; the second reads
// the cache after the fused op and stays.
// CHECK-LABEL: func @second_reader_stays
// CHECK: %[[O0:.*]] = kv.append_attention
// CHECK: %[[O1:.*]] = kv.cache_attention
// CHECK-NOT: kv.append %
// CHECK: return %[[O0]], %[[O1]]
func.func @second_reader_stays(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> (tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>) attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o0 = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %o1 = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) {scale = 0.5 : f32} -> tensor<1x4x1x16xf32>
  return %o0, %o1 : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>
}

// -----

// Near miss: the attention reads another cache than the append writes.
// CHECK-LABEL: func @different_cache
// CHECK: kv.append %{{.*}}, %{{.*}}, %arg2,
// CHECK: kv.cache_attention %{{.*}}, %arg3,
// CHECK-NOT: kv.append_attention
func.func @different_cache(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c0: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %c1: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> tensor<1x4x1x16xf32> attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c0, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c1, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Near miss: kv.step_tokens (2) differs from the rows appended (1), so the
// runtime's kv_lens is not past_lens + 1.
// CHECK-LABEL: func @step_tokens_differ
// CHECK: kv.append %
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @step_tokens_differ(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> tensor<1x4x1x16xf32> attributes {kv.step_tokens = 2 : i64} {
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Near miss: roles right but no kv.step_tokens on the function.
// CHECK-LABEL: func @no_step_tokens
// CHECK: kv.append %
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @no_step_tokens(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> tensor<1x4x1x16xf32> {
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Near miss: kv_lens is an argument without the kv_lens role (its value is
// whatever the caller passes).
// CHECK-LABEL: func @kv_lens_plain_argument
// CHECK: kv.append %
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @kv_lens_plain_argument(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32>)
    -> tensor<1x4x1x16xf32> attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Near miss: the append's lengths are not the past_lens argument.
// CHECK-LABEL: func @append_lens_not_past_lens
// CHECK: kv.append %
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @append_lens_not_past_lens(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "input"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> tensor<1x4x1x16xf32> attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Near miss: past + 2 after appending 3 rows.
// CHECK-LABEL: func @addi_wrong_constant
// CHECK: kv.append %
// CHECK: arith.addi
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @addi_wrong_constant(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x3x16xf32>,
                               %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
                               %past: tensor<1xi32>) -> tensor<1x4x3x16xf32> {
  kv.append %k, %k, %c, %past : tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %s = arith.constant dense<2> : tensor<1xi32>
  %lens = arith.addi %past, %s : tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x3x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x3x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x3x16xf32>) -> tensor<1x4x3x16xf32>
  return %o : tensor<1x4x3x16xf32>
}

// -----

// Near miss: the splat is S, but it is added to other lengths than the
// append's; and a non-splat constant that is S for one sequence only.
// CHECK-LABEL: func @addi_other_lengths
// CHECK: kv.append %
// CHECK: kv.cache_attention
// CHECK: kv.append %
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @addi_other_lengths(%q: tensor<2x4x1x16xf32>, %k: tensor<2x2x1x16xf32>,
                              %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
                              %past: tensor<2xi32>, %other: tensor<2xi32>)
    -> (tensor<2x4x1x16xf32>, tensor<2x4x1x16xf32>) {
  kv.append %k, %k, %c, %past : tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<2xi32>
  %s = arith.constant dense<1> : tensor<2xi32>
  %lens = arith.addi %other, %s : tensor<2xi32>
  %i = tensor.empty() : tensor<2x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<2x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<2xi32>
      outs(%i : tensor<2x4x1x16xf32>) -> tensor<2x4x1x16xf32>
  kv.append %k, %k, %c, %past : tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<2xi32>
  %t = arith.constant dense<[1, 2]> : tensor<2xi32>
  %lens2 = arith.addi %past, %t : tensor<2xi32>
  %o2 = kv.cache_attention %q, %c, %lens2 : tensor<2x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<2xi32>
      outs(%i : tensor<2x4x1x16xf32>) -> tensor<2x4x1x16xf32>
  return %o, %o2 : tensor<2x4x1x16xf32>, tensor<2x4x1x16xf32>
}

// -----

// Near miss: a kv.load of the cache between the append and the attention.
// CHECK-LABEL: func @load_in_between
// CHECK: kv.append %
// CHECK: kv.load
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @load_in_between(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> (tensor<1x4x1x16xf32>, tensor<1x2x32x16xf32>) attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %k0 = tensor.empty() : tensor<1x2x32x16xf32>
  %kk, %vv = kv.load %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>
      outs(%k0, %k0 : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>)
      -> tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o, %kk : tensor<1x4x1x16xf32>, tensor<1x2x32x16xf32>
}

// -----

// Near miss: a second append to the cache in between (the attention sees
// both; fusing the first would drop it, fusing the second is not proven).
// CHECK-LABEL: func @second_append_in_between
// CHECK: kv.append %
// CHECK: kv.append %
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @second_append_in_between(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> tensor<1x4x1x16xf32> attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %s = arith.constant dense<1> : tensor<1xi32>
  %next = arith.addi %past, %s : tensor<1xi32>
  kv.append %k, %k, %c, %next : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Near miss: the cache is used inside a region op in between.
// CHECK-LABEL: func @nested_use_in_between
// CHECK: kv.append %
// CHECK: scf.if
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @nested_use_in_between(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"},
    %flag: i1) -> tensor<1x4x1x16xf32> attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  scf.if %flag {
    kv.append %k, %k, %c, %lens : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
        !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  }
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Near miss: an op on a value that may be the same cache (not an argument
// of the function) in between.
// CHECK-LABEL: func @possible_alias_in_between
// CHECK: kv.append %
// CHECK: kv.load
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @possible_alias_in_between(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> (tensor<1x4x1x16xf32>, tensor<1x2x32x16xf32>) attributes {kv.step_tokens = 1 : i64} {
  %alias = builtin.unrealized_conversion_cast %c : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>
      to !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %k0 = tensor.empty() : tensor<1x2x32x16xf32>
  %kk, %vv = kv.load %alias : !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>
      outs(%k0, %k0 : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>)
      -> tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %o, %kk : tensor<1x4x1x16xf32>, tensor<1x2x32x16xf32>
}

// -----

// Near miss: the attention comes before the append (it must not see the
// new rows).
// CHECK-LABEL: func @attention_before_append
// CHECK: kv.cache_attention
// CHECK: kv.append %
// CHECK-NOT: kv.append_attention
func.func @attention_before_append(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"})
    -> tensor<1x4x1x16xf32> attributes {kv.step_tokens = 1 : i64} {
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
      outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Near miss: the append and the attention are in different blocks.
// CHECK-LABEL: func @different_blocks
// CHECK: kv.append %
// CHECK: scf.if
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @different_blocks(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: tensor<1xi32> {kv.role = "past_lens"}, %lens: tensor<1xi32> {kv.role = "kv_lens"},
    %flag: i1) -> tensor<1x4x1x16xf32> attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c, %past : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
  %i = tensor.empty() : tensor<1x4x1x16xf32>
  %r = scf.if %flag -> tensor<1x4x1x16xf32> {
    %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x16xf32>,
        !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, tensor<1xi32>
        outs(%i : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
    scf.yield %o : tensor<1x4x1x16xf32>
  } else {
    scf.yield %i : tensor<1x4x1x16xf32>
  }
  return %r : tensor<1x4x1x16xf32>
}

// -----

// Near miss: the memref form is left alone (the pass works on tensors).
// CHECK-LABEL: func @memref_form_untouched
// CHECK: kv.append %
// CHECK: kv.cache_attention
// CHECK-NOT: kv.append_attention
func.func @memref_form_untouched(%q: memref<1x4x1x16xf32>, %k: memref<1x2x1x16xf32>,
    %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>,
    %past: memref<1xi32> {kv.role = "past_lens"}, %lens: memref<1xi32> {kv.role = "kv_lens"},
    %o: memref<1x4x1x16xf32>) attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %k, %c, %past : memref<1x2x1x16xf32>, memref<1x2x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, memref<1xi32>
  kv.cache_attention %q, %c, %lens : memref<1x4x1x16xf32>,
      !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>, memref<1xi32>
      outs(%o : memref<1x4x1x16xf32>)
  return
}
