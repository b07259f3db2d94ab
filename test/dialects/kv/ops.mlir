// RUN: kvfuse-opt %s -split-input-file | kvfuse-opt -split-input-file | FileCheck %s
// RUN: kvfuse-opt %s -split-input-file --mlir-print-op-generic | kvfuse-opt -split-input-file | FileCheck %s

// Every cache layout and element type; value_dim and the contiguous layout
// are elided when they are the defaults.
// CHECK-LABEL: func @cache_types
// CHECK-SAME: !kv.cache<f32, heads = 8, head_dim = 128, capacity = 4096>
// CHECK-SAME: !kv.cache<f16, heads = 2, head_dim = 64, value_dim = 32, capacity = 100, layout = #kv.paged<page_size = 16>>
// CHECK-SAME: !kv.cache<bf16, heads = 1, head_dim = 80, capacity = 7>
// CHECK-SAME: !kv.cache<i8, heads = 8, head_dim = 128, capacity = 4096, scale = f32>
// CHECK-SAME: !kv.cache<f8E4M3FN, heads = 4, head_dim = 256, capacity = 64, layout = #kv.paged<page_size = 32>, scale = f16>
func.func @cache_types(
    %a: !kv.cache<f32, heads = 8, head_dim = 128, capacity = 4096>,
    %b: !kv.cache<f16, heads = 2, head_dim = 64, value_dim = 32, capacity = 100,
                  layout = #kv.paged<page_size = 16>>,
    %c: !kv.cache<bf16, heads = 1, head_dim = 80, capacity = 7, layout = #kv.contiguous>,
    %d: !kv.cache<i8, heads = 8, head_dim = 128, capacity = 4096, scale = f32>,
    %e: !kv.cache<f8E4M3FN, heads = 4, head_dim = 256, capacity = 64,
                  layout = #kv.paged<page_size = 32>, scale = f16>) {
  return
}

// -----

// CHECK-LABEL: func @prefill_causal_gqa
// CHECK: %[[O:.*]] = kv.attention %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<1x32x16x128xf32>, tensor<1x8x16x128xf32>, tensor<1x8x16x128xf32>
// CHECK-SAME: outs(%{{[a-z0-9_#]+}} : tensor<1x32x16x128xf32>) {causal, causal_offset = 3 : i64} -> tensor<1x32x16x128xf32>
// CHECK: return %[[O]]
func.func @prefill_causal_gqa(%q: tensor<1x32x16x128xf32>, %k: tensor<1x8x16x128xf32>,
                              %v: tensor<1x8x16x128xf32>) -> tensor<1x32x16x128xf32> {
  %init = tensor.empty() : tensor<1x32x16x128xf32>
  %o = kv.attention %q, %k, %v : tensor<1x32x16x128xf32>, tensor<1x8x16x128xf32>, tensor<1x8x16x128xf32>
         outs(%init : tensor<1x32x16x128xf32>) {causal, causal_offset = 3 : i64} -> tensor<1x32x16x128xf32>
  return %o : tensor<1x32x16x128xf32>
}

// -----

// All optional operands and attributes at once; Dv differs from D.
// CHECK-LABEL: func @attention_all_options
// CHECK: kv.attention
// CHECK-SAME: mask(%{{[a-z0-9_#]+}} : tensor<2x1x5x9xi1>)
// CHECK-SAME: kv_lens(%{{[a-z0-9_#]+}} : tensor<2xi32>)
// CHECK-SAME: offsets(%{{[a-z0-9_#]+}} : tensor<2xi32>)
// CHECK-SAME: outs(%{{[a-z0-9_#]+}} : tensor<2x6x5x32xf16>)
// CHECK-SAME: scale = 1.250000e-01 : f32, softcap = 5.000000e+01 : f32, window_left = 3 : i64, window_right = 1 : i64
func.func @attention_all_options(%q: tensor<2x6x5x64xf16>, %k: tensor<2x3x9x64xf16>,
                                 %v: tensor<2x3x9x32xf16>, %m: tensor<2x1x5x9xi1>,
                                 %lens: tensor<2xi32>, %offs: tensor<2xi32>) -> tensor<2x6x5x32xf16> {
  %init = tensor.empty() : tensor<2x6x5x32xf16>
  %o = kv.attention %q, %k, %v : tensor<2x6x5x64xf16>, tensor<2x3x9x64xf16>, tensor<2x3x9x32xf16>
         mask(%m : tensor<2x1x5x9xi1>) kv_lens(%lens : tensor<2xi32>) offsets(%offs : tensor<2xi32>)
         outs(%init : tensor<2x6x5x32xf16>)
         {scale = 0.125 : f32, softcap = 50.0 : f32, window_left = 3 : i64, window_right = 1 : i64}
         -> tensor<2x6x5x32xf16>
  return %o : tensor<2x6x5x32xf16>
}

// -----

// Additive float mask broadcast over batch and heads; dynamic query length.
// CHECK-LABEL: func @attention_float_mask_dynamic
// CHECK: kv.attention {{.*}} mask(%{{[a-z0-9_#]+}} : tensor<?x7xf32>)
func.func @attention_float_mask_dynamic(%q: tensor<1x4x?x64xf32>, %k: tensor<1x4x7x64xf32>,
                                        %v: tensor<1x4x7x64xf32>, %m: tensor<?x7xf32>,
                                        %init: tensor<1x4x?x64xf32>) -> tensor<1x4x?x64xf32> {
  %o = kv.attention %q, %k, %v : tensor<1x4x?x64xf32>, tensor<1x4x7x64xf32>, tensor<1x4x7x64xf32>
         mask(%m : tensor<?x7xf32>) outs(%init : tensor<1x4x?x64xf32>) -> tensor<1x4x?x64xf32>
  return %o : tensor<1x4x?x64xf32>
}

// -----

// The memref (bufferized) form has no results.
// CHECK-LABEL: func @attention_on_memrefs
// CHECK: kv.attention {{.*}} outs(%{{[a-z0-9_#]+}} : memref<1x2x3x16xf32>) {causal}
// CHECK-NOT: ->
func.func @attention_on_memrefs(%q: memref<1x2x3x16xf32>, %k: memref<1x1x3x16xf32>,
                                %v: memref<1x1x3x16xf32>, %o: memref<1x2x3x16xf32>) {
  kv.attention %q, %k, %v : memref<1x2x3x16xf32>, memref<1x1x3x16xf32>, memref<1x1x3x16xf32>
    outs(%o : memref<1x2x3x16xf32>) {causal}
  return
}

// -----

// CHECK-LABEL: func @partial_and_merge
// CHECK: %[[O:.*]]:2 = kv.partial_attention {{.*}} kv_lens(%{{[a-z0-9_#]+}} : tensor<8xi32>) outs(%{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<8x32x1x128xf32>, tensor<8x32x1xf32>) {kv_start = 512 : i64} -> tensor<8x32x1x128xf32>, tensor<8x32x1xf32>
// CHECK: kv.merge %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<2x8x32x1x128xf32>, tensor<2x8x32x1xf32> outs(%{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<8x32x1x128xbf16>, tensor<8x32x1xf32>) -> tensor<8x32x1x128xbf16>, tensor<8x32x1xf32>
func.func @partial_and_merge(%q: tensor<8x32x1x128xf32>, %k: tensor<8x8x512x128xf32>,
                             %v: tensor<8x8x512x128xf32>, %lens: tensor<8xi32>,
                             %parts: tensor<2x8x32x1x128xf32>, %lses: tensor<2x8x32x1xf32>)
    -> (tensor<8x32x1x128xf32>, tensor<8x32x1xf32>, tensor<8x32x1x128xbf16>) {
  %o0 = tensor.empty() : tensor<8x32x1x128xf32>
  %l0 = tensor.empty() : tensor<8x32x1xf32>
  %o, %lse = kv.partial_attention %q, %k, %v
      : tensor<8x32x1x128xf32>, tensor<8x8x512x128xf32>, tensor<8x8x512x128xf32>
      kv_lens(%lens : tensor<8xi32>)
      outs(%o0, %l0 : tensor<8x32x1x128xf32>, tensor<8x32x1xf32>) {kv_start = 512 : i64}
      -> tensor<8x32x1x128xf32>, tensor<8x32x1xf32>
  %m0 = tensor.empty() : tensor<8x32x1x128xbf16>
  %m, %ml = kv.merge %parts, %lses : tensor<2x8x32x1x128xf32>, tensor<2x8x32x1xf32>
      outs(%m0, %l0 : tensor<8x32x1x128xbf16>, tensor<8x32x1xf32>)
      -> tensor<8x32x1x128xbf16>, tensor<8x32x1xf32>
  return %o, %lse, %m : tensor<8x32x1x128xf32>, tensor<8x32x1xf32>, tensor<8x32x1x128xbf16>
}

// -----

// A prefill step with a cache: append the prompt, then attend with the
// bottom-right causal alignment; then read the cache back.
// CHECK-LABEL: func @append_and_cache_attention
// CHECK: kv.append %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<2x8x16x128xf32>, tensor<2x8x16x128xf32>, !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096, layout = #kv.paged<page_size = 16>>, tensor<2xi32>
// CHECK: kv.cache_attention %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<2x32x16x128xf32>, !kv.cache<{{.*}}>, tensor<2xi32> outs(%{{[a-z0-9_#]+}} : tensor<2x32x16x128xf32>) {causal, softcap = 3.000000e+01 : f32, window_left = 255 : i64}
// CHECK: kv.load %{{[a-z0-9_#]+}} : !kv.cache<{{.*}}> outs(%{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<2x8x64x128xf32>, tensor<2x8x64x128xf32>)
func.func @append_and_cache_attention(
    %q: tensor<2x32x16x128xf32>, %k: tensor<2x8x16x128xf32>, %v: tensor<2x8x16x128xf32>,
    %cache: !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096, layout = #kv.paged<page_size = 16>>,
    %past: tensor<2xi32>, %lens: tensor<2xi32>) -> (tensor<2x32x16x128xf32>, tensor<2x8x64x128xf32>) {
  kv.append %k, %v, %cache, %past : tensor<2x8x16x128xf32>, tensor<2x8x16x128xf32>,
      !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096, layout = #kv.paged<page_size = 16>>, tensor<2xi32>
  %init = tensor.empty() : tensor<2x32x16x128xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<2x32x16x128xf32>,
      !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096, layout = #kv.paged<page_size = 16>>, tensor<2xi32>
      outs(%init : tensor<2x32x16x128xf32>) {causal, softcap = 30.0 : f32, window_left = 255 : i64}
      -> tensor<2x32x16x128xf32>
  %k0 = tensor.empty() : tensor<2x8x64x128xf32>
  %kk, %vv = kv.load %cache : !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096, layout = #kv.paged<page_size = 16>>
      outs(%k0, %k0 : tensor<2x8x64x128xf32>, tensor<2x8x64x128xf32>)
      -> tensor<2x8x64x128xf32>, tensor<2x8x64x128xf32>
  return %o, %kk : tensor<2x32x16x128xf32>, tensor<2x8x64x128xf32>
}

// -----

// Decode against a cache with a bool mask over the capacity.
// CHECK-LABEL: func @decode_with_mask
// CHECK: kv.cache_attention {{.*}} mask(%{{[a-z0-9_#]+}} : tensor<4x1x1x100xi1>)
func.func @decode_with_mask(%q: tensor<4x28x1x80xf32>,
                            %cache: !kv.cache<bf16, heads = 4, head_dim = 80, capacity = 100>,
                            %lens: tensor<4xi32>, %m: tensor<4x1x1x100xi1>) -> tensor<4x28x1x80xf32> {
  %init = tensor.empty() : tensor<4x28x1x80xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<4x28x1x80xf32>,
      !kv.cache<bf16, heads = 4, head_dim = 80, capacity = 100>, tensor<4xi32>
      mask(%m : tensor<4x1x1x100xi1>) outs(%init : tensor<4x28x1x80xf32>) -> tensor<4x28x1x80xf32>
  return %o : tensor<4x28x1x80xf32>
}

// -----

// CHECK-LABEL: func @cache_view
// CHECK: kv.cache_view %{{[a-z0-9_#]+}} : !kv.cache<f16, heads = 2, head_dim = 64, value_dim = 32, capacity = 100, layout = #kv.paged<page_size = 16>> -> memref<?x2x16x64xf16>, memref<?x2x16x32xf16>, memref<?x7xi32>
func.func @cache_view(%cache: !kv.cache<f16, heads = 2, head_dim = 64, value_dim = 32, capacity = 100,
                                        layout = #kv.paged<page_size = 16>>) -> memref<?x7xi32> {
  %k, %v, %t = kv.cache_view %cache : !kv.cache<f16, heads = 2, head_dim = 64, value_dim = 32, capacity = 100,
                                                layout = #kv.paged<page_size = 16>>
      -> memref<?x2x16x64xf16>, memref<?x2x16x32xf16>, memref<?x7xi32>
  return %t : memref<?x7xi32>
}

// -----

// Fused append + cache attention: a decode step with GQA, a paged bf16
// cache, all score attributes and a bool mask over the capacity.
// CHECK-LABEL: func @append_attention_all_options
// CHECK: %[[O:.*]] = kv.append_attention %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<2x8x3x64xf32>, tensor<2x2x3x64xf32>, tensor<2x2x3x32xf32>, !kv.cache<bf16, heads = 2, head_dim = 64, value_dim = 32, capacity = 64, layout = #kv.paged<page_size = 16>>, tensor<2xi32>
// CHECK-SAME: mask(%{{[a-z0-9_#]+}} : tensor<2x1x3x64xi1>)
// CHECK-SAME: outs(%{{[a-z0-9_#]+}} : tensor<2x8x3x32xf32>)
// CHECK-SAME: {causal, scale = 5.000000e-01 : f32, softcap = 3.000000e+01 : f32, window_left = 7 : i64}
// CHECK-SAME: -> tensor<2x8x3x32xf32>
// CHECK: return %[[O]]
func.func @append_attention_all_options(
    %q: tensor<2x8x3x64xf32>, %k: tensor<2x2x3x64xf32>, %v: tensor<2x2x3x32xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 64, value_dim = 32, capacity = 64,
                      layout = #kv.paged<page_size = 16>>,
    %past: tensor<2xi32>, %m: tensor<2x1x3x64xi1>) -> tensor<2x8x3x32xf32> {
  %init = tensor.empty() : tensor<2x8x3x32xf32>
  %o = kv.append_attention %q, %k, %v, %cache, %past
      : tensor<2x8x3x64xf32>, tensor<2x2x3x64xf32>, tensor<2x2x3x32xf32>,
        !kv.cache<bf16, heads = 2, head_dim = 64, value_dim = 32, capacity = 64,
                  layout = #kv.paged<page_size = 16>>, tensor<2xi32>
      mask(%m : tensor<2x1x3x64xi1>) outs(%init : tensor<2x8x3x32xf32>)
      {causal, scale = 0.5 : f32, softcap = 30.0 : f32, window_left = 7 : i64}
      -> tensor<2x8x3x32xf32>
  return %o : tensor<2x8x3x32xf32>
}

// -----

// The memref form of the fused op has no results; f16 new rows go into an
// f32 cache.
// CHECK-LABEL: func @append_attention_on_memrefs
// CHECK: kv.append_attention {{.*}} : memref<1x4x1x16xf32>, memref<1x2x1x16xf16>, memref<1x2x1x16xf16>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, memref<1xi32> outs(%{{[a-z0-9_#]+}} : memref<1x4x1x16xf32>)
// CHECK-NOT: ->
func.func @append_attention_on_memrefs(%q: memref<1x4x1x16xf32>, %k: memref<1x2x1x16xf16>,
                                       %v: memref<1x2x1x16xf16>,
                                       %cache: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>,
                                       %past: memref<1xi32>, %o: memref<1x4x1x16xf32>) {
  kv.append_attention %q, %k, %v, %cache, %past
      : memref<1x4x1x16xf32>, memref<1x2x1x16xf16>, memref<1x2x1x16xf16>,
        !kv.cache<f32, heads = 2, head_dim = 16, capacity = 8>, memref<1xi32>
      outs(%o : memref<1x4x1x16xf32>)
  return
}

// -----

// Split forms: partial attention, cache attention and the fused append +
// attention returning N partials (a leading split dim on O and LSE), and a
// cache attention that also returns its log-sum-exp.
!c = !kv.cache<f16, heads = 2, head_dim = 64, capacity = 256>
// CHECK-LABEL: func @split_forms
// CHECK: kv.partial_attention {{.*}} outs(%{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>) -> tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>
// CHECK: kv.cache_attention {{.*}} outs(%{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>) {causal} -> tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>
// CHECK: kv.cache_attention {{.*}} outs(%{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<1x4x2x64xf32>, tensor<1x4x2xf32>) -> tensor<1x4x2x64xf32>, tensor<1x4x2xf32>
// CHECK: kv.append_attention {{.*}} outs(%{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>) -> tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>
func.func @split_forms(%q: tensor<1x4x2x64xf16>, %qf: tensor<1x4x2x64xf32>, %k: tensor<1x2x256x64xf16>,
                       %v: tensor<1x2x256x64xf16>, %kn: tensor<1x2x2x64xf32>, %c: !c, %l: tensor<1xi32>,
                       %po: tensor<3x1x4x2x64xf32>, %pl: tensor<3x1x4x2xf32>,
                       %o: tensor<1x4x2x64xf32>, %ol: tensor<1x4x2xf32>) {
  %a:2 = kv.partial_attention %q, %k, %v : tensor<1x4x2x64xf16>, tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16>
      outs(%po, %pl : tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>) -> tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>
  %b:2 = kv.cache_attention %qf, %c, %l : tensor<1x4x2x64xf32>, !c, tensor<1xi32>
      outs(%po, %pl : tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>) {causal} -> tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>
  %d:2 = kv.cache_attention %qf, %c, %l : tensor<1x4x2x64xf32>, !c, tensor<1xi32>
      outs(%o, %ol : tensor<1x4x2x64xf32>, tensor<1x4x2xf32>) -> tensor<1x4x2x64xf32>, tensor<1x4x2xf32>
  %e:2 = kv.append_attention %qf, %kn, %kn, %c, %l : tensor<1x4x2x64xf32>, tensor<1x2x2x64xf32>, tensor<1x2x2x64xf32>, !c, tensor<1xi32>
      outs(%po, %pl : tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>) -> tensor<3x1x4x2x64xf32>, tensor<3x1x4x2xf32>
  return
}

// -----

// Packed query heads (kv-pack-gqa): 8 query heads over 2 KV heads as 2 heads
// of 4 heads' rows each; the mask keeps its unpacked [B, Hq, Sq, Skv] shape;
// the log-sum-exp and split partials are packed like the output.
!c = !kv.cache<f16, heads = 2, head_dim = 64, capacity = 256>
// CHECK-LABEL: func @packed_heads
// CHECK: kv.attention {{.*}} : tensor<1x2x12x64xf32>, {{.*}} mask(%{{.*}} : tensor<1x8x3x256xi1>) outs(%{{.*}} : tensor<1x2x12x64xf32>) {causal, packed_heads = 4 : i64} -> tensor<1x2x12x64xf32>
// CHECK: kv.partial_attention {{.*}} outs(%{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<3x1x2x12x64xf32>, tensor<3x1x2x12xf32>) {kv_start = 4 : i64, packed_heads = 4 : i64}
// CHECK: kv.cache_attention {{.*}} outs(%{{[a-z0-9_#]+}}, %{{[a-z0-9_#]+}} : tensor<1x4x6x64xf32>, tensor<1x4x6xf32>) {packed_heads = 2 : i64}
// CHECK: kv.append_attention {{.*}} : tensor<1x2x12x64xf32>, {{.*}} {packed_heads = 4 : i64}
func.func @packed_heads(%q: tensor<1x2x12x64xf32>, %q2: tensor<1x4x6x64xf32>, %k: tensor<1x2x256x64xf32>,
                        %m: tensor<1x8x3x256xi1>, %c: !c, %l: tensor<1xi32>, %kn: tensor<1x2x3x64xf32>,
                        %po: tensor<3x1x2x12x64xf32>, %pl: tensor<3x1x2x12xf32>,
                        %o2: tensor<1x4x6x64xf32>, %l2: tensor<1x4x6xf32>) {
  %a = kv.attention %q, %k, %k : tensor<1x2x12x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>
      mask(%m : tensor<1x8x3x256xi1>) outs(%q : tensor<1x2x12x64xf32>) {causal, packed_heads = 4 : i64} -> tensor<1x2x12x64xf32>
  %b:2 = kv.partial_attention %q, %k, %k : tensor<1x2x12x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>
      outs(%po, %pl : tensor<3x1x2x12x64xf32>, tensor<3x1x2x12xf32>) {kv_start = 4 : i64, packed_heads = 4 : i64}
      -> tensor<3x1x2x12x64xf32>, tensor<3x1x2x12xf32>
  %d:2 = kv.cache_attention %q2, %c, %l : tensor<1x4x6x64xf32>, !c, tensor<1xi32>
      outs(%o2, %l2 : tensor<1x4x6x64xf32>, tensor<1x4x6xf32>) {packed_heads = 2 : i64} -> tensor<1x4x6x64xf32>, tensor<1x4x6xf32>
  %e = kv.append_attention %q, %kn, %kn, %c, %l : tensor<1x2x12x64xf32>, tensor<1x2x3x64xf32>, tensor<1x2x3x64xf32>, !c, tensor<1xi32>
      outs(%q : tensor<1x2x12x64xf32>) {packed_heads = 4 : i64} -> tensor<1x2x12x64xf32>
  return
}

// -----

// The step of a tiled flash-attention loop (kv-cpu-tile-attention), on dense
// rows and through a page table.
// CHECK-LABEL: func @attend_block
// CHECK: kv.attend_block %arg0, %arg1, %arg1 : memref<4x32xf32>, memref<1x1x64x32xf16>, memref<1x1x64x32xf16> token_base(%arg7) at(%arg7, %arg7) keys(%arg7, %arg7, %arg7) rows(%arg2, %arg2 : memref<4xindex>, memref<4xindex>) tile(%arg7, %arg7) outs(%arg3, %arg4, %arg4 : memref<4x32xf32>, memref<4xf32>, memref<4xf32>) {key_block = 32 : i64, num_keys = 64 : i64, packed_heads = 4 : i64, query_length = 1 : i64, rows_per_head = 1 : i64, score_kernel = "dot", storage = bf16}
// CHECK: kv.attend_block %arg0, %arg5, %arg5 : {{.*}} page_table(%arg6 : memref<?x4xi32>) {{.*}} mask(%arg8 : memref<1x4x1x64xi1>) {{.*}} {key_block = 32 : i64, num_keys = 64 : i64, packed_heads = 4 : i64, page_size = 16 : i64, query_length = 1 : i64, rows_per_head = 1 : i64, score_kernel = "dot", softcap = 5.000000e+01 : f32}
func.func @attend_block(%qs: memref<4x32xf32>, %k: memref<1x1x64x32xf16>, %r: memref<4xindex>,
                        %acc: memref<4x32xf32>, %m: memref<4xf32>, %pool: memref<?x1x16x32xf16>,
                        %table: memref<?x4xi32>, %i: index, %mask: memref<1x4x1x64xi1>) {
  kv.attend_block %qs, %k, %k : memref<4x32xf32>, memref<1x1x64x32xf16>, memref<1x1x64x32xf16> token_base(%i)
      at(%i, %i) keys(%i, %i, %i) rows(%r, %r : memref<4xindex>, memref<4xindex>) tile(%i, %i)
      outs(%acc, %m, %m : memref<4x32xf32>, memref<4xf32>, memref<4xf32>)
      {key_block = 32 : i64, num_keys = 64 : i64, packed_heads = 4 : i64, query_length = 1 : i64,
       rows_per_head = 1 : i64, score_kernel = "dot", storage = bf16}
  kv.attend_block %qs, %pool, %pool : memref<4x32xf32>, memref<?x1x16x32xf16>, memref<?x1x16x32xf16>
      page_table(%table : memref<?x4xi32>)
      at(%i, %i) keys(%i, %i, %i) rows(%r, %r : memref<4xindex>, memref<4xindex>) tile(%i, %i)
      mask(%mask : memref<1x4x1x64xi1>)
      outs(%acc, %m, %m : memref<4x32xf32>, memref<4xf32>, memref<4xf32>)
      {key_block = 32 : i64, num_keys = 64 : i64, packed_heads = 4 : i64, page_size = 16 : i64,
       query_length = 1 : i64, rows_per_head = 1 : i64, score_kernel = "dot", softcap = 50.0 : f32}
  return
}
