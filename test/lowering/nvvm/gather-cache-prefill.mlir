// RUN: kvfuse-opt %s -split-input-file -verify-diagnostics --kv-nvvm-gather-cache-prefill --cse | FileCheck %s
// RUN: kvfuse-opt %s -split-input-file -verify-diagnostics --kv-nvvm-gather-cache-prefill --kv-nvvm-lower-prefill | FileCheck %s --check-prefix=PREFILL

// Prefill with a cache: the append kernel writes the prompt's rows first,
// gather_cache copies each sequence's valid rows (page table, bf16 widened to
// the f32 query's type, zero past the length) into dense scratch and writes
// lengths = past + S and offsets = past; dense attention keeps the score
// attributes and reads those per-sequence bounds.
// CHECK-LABEL: func @prefill_paged
// CHECK:         kv.cache_view %arg3
// CHECK:         gpu.launch_func @kvfuse_kernels::@kv_append blocks in (%c2, %c2, %c1)
// CHECK-DAG:     %[[K:.*]] = memref.alloc() : memref<2x2x64x32xf32>
// CHECK-DAG:     %[[V:.*]] = memref.alloc() : memref<2x2x64x32xf32>
// CHECK-DAG:     %[[LENS:.*]] = memref.alloc() : memref<2xi32>
// CHECK-DAG:     %[[OFFS:.*]] = memref.alloc() : memref<2xi32>
// CHECK:         gpu.launch_func @kvfuse_kernels::@gather_cache blocks in (%c2, %c2, %c2) threads in (%c128, %c1, %c1) args({{.*}}, %arg4 : memref<2xi32>, %[[K]] : {{.*}}, %[[V]] : {{.*}}, %[[LENS]] : {{.*}}, %[[OFFS]] : {{.*}})
// CHECK:         kv.attention %arg0, %[[K]], %[[V]] : memref<2x8x40x32xf32>, memref<2x2x64x32xf32>, memref<2x2x64x32xf32> kv_lens(%[[LENS]] : memref<2xi32>) offsets(%[[OFFS]] : memref<2xi32>) outs(%arg5 : memref<2x8x40x32xf32>) {causal, softcap = 3.000000e+01 : f32, window_left = 15 : i64}
// CHECK-NOT:     kv.append_attention
// Lengths are past + 40, offsets past, written once per sequence.
// CHECK:       gpu.func @gather_cache
// CHECK:         arith.addi {{.*}}, %c40
// CHECK:         memref.load {{.*}} : memref<2x4xi32>
// CHECK:         memref.load {{.*}} : memref<8x2x16x32xbf16>
// CHECK:         arith.extf {{.*}} : bf16 to f32
// CHECK:         memref.store {{.*}} : memref<2x2x64x32xf32>
// CHECK:         memref.store {{.*}} : memref<2xi32>
// CHECK:         memref.store {{.*}} : memref<2xi32>
// PREFILL-LABEL: func @prefill_paged
// PREFILL:         gpu.launch_func @kvfuse_kernels::@kv_append
// PREFILL:         gpu.launch_func @kvfuse_kernels::@gather_cache
// PREFILL:         gpu.launch_func @kvfuse_kernels::@prefill_attention
// PREFILL-NOT:     kv.attention
func.func @prefill_paged(%q: memref<2x8x40x32xf32>, %k: memref<2x2x40x32xf32>, %v: memref<2x2x40x32xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 32, capacity = 64, layout = #kv.paged<page_size = 16>>,
    %past: memref<2xi32>, %o: memref<2x8x40x32xf32>) {
  kv.append_attention %q, %k, %v, %cache, %past : memref<2x8x40x32xf32>, memref<2x2x40x32xf32>,
      memref<2x2x40x32xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 32, capacity = 64, layout = #kv.paged<page_size = 16>>,
      memref<2xi32> outs(%o : memref<2x8x40x32xf32>) {causal, softcap = 30.0 : f32, window_left = 15 : i64}
  return
}

// -----

// kv.cache_attention: the cache already holds kv_lens tokens; offsets are
// kv_lens - Sq (bottom-right); an f16 query against an f16 cache keeps f16
// scratch, so the prefill kernel uses tensor cores.
// CHECK-LABEL: func @prefill_f16
// CHECK-NOT:     @kv_append
// CHECK:         memref.alloc() : memref<1x4x100x64xf16>
// CHECK:         gpu.launch_func @kvfuse_kernels::@gather_cache blocks in (%c4, %c4, %c1)
// CHECK:         kv.attention {{.*}} : memref<1x8x20x64xf16>, memref<1x4x100x64xf16>, memref<1x4x100x64xf16> kv_lens({{.*}}) offsets({{.*}}) outs(%arg3 : memref<1x8x20x64xf32>) {causal}
// CHECK:       gpu.func @gather_cache
// CHECK-NOT:     arith.extf
// CHECK:         arith.subi {{.*}}, %c20
// PREFILL-LABEL: func @prefill_f16
// PREFILL:       gpu.func @prefill_attention
// PREFILL:         nvgpu.mma.sync
func.func @prefill_f16(%q: memref<1x8x20x64xf16>,
    %cache: !kv.cache<f16, heads = 4, head_dim = 64, capacity = 100>,
    %lens: memref<1xi32>, %o: memref<1x8x20x64xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<1x8x20x64xf16>,
      !kv.cache<f16, heads = 4, head_dim = 64, capacity = 100>,
      memref<1xi32> outs(%o : memref<1x8x20x64xf32>) {causal}
  return
}

// -----

func.func @mixed(%q: memref<1x8x20x64xf16>,
    %cache: !kv.cache<bf16, heads = 4, head_dim = 64, capacity = 100>,
    %lens: memref<1xi32>, %o: memref<1x8x20x64xf32>) {
  // expected-error @+1 {{expects an f32 query, or a query of the cache's element type, got 'f16' against a 'bf16' cache}}
  kv.cache_attention %q, %cache, %lens : memref<1x8x20x64xf16>,
      !kv.cache<bf16, heads = 4, head_dim = 64, capacity = 100>,
      memref<1xi32> outs(%o : memref<1x8x20x64xf32>) {causal}
  return
}

// -----

func.func @masked(%q: memref<1x8x20x64xf32>,
    %cache: !kv.cache<f32, heads = 4, head_dim = 64, capacity = 100>,
    %lens: memref<1xi32>, %m: memref<20x100xi1>, %o: memref<1x8x20x64xf32>) {
  // expected-error @+1 {{explicit masks on a cache are not lowered to the GPU yet}}
  kv.cache_attention %q, %cache, %lens : memref<1x8x20x64xf32>,
      !kv.cache<f32, heads = 4, head_dim = 64, capacity = 100>,
      memref<1xi32> mask(%m : memref<20x100xi1>) outs(%o : memref<1x8x20x64xf32>)
  return
}
