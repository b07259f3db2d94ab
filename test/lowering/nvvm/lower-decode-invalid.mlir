// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-decode -verify-diagnostics
// RUN: not kvfuse-opt %s -split-input-file --kv-nvvm-lower-decode="target=sm_61" 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not kvfuse-opt %s -split-input-file --kv-nvvm-lower-decode="threads=96" 2>&1 | FileCheck %s --check-prefix=THREADS

// TARGET: error: kv-nvvm-lower-decode: unknown GPU chip 'sm_61'
// THREADS: error: kv-nvvm-lower-decode: threads must be 64, 128 or 256, got 96

// f16 rows are read 8 at a time (16 bytes): D 36 is not a multiple.
func.func @odd_head_dim(%q: memref<1x4x1x36xf32>,
    %cache: !kv.cache<f16, heads = 1, head_dim = 36, capacity = 64>,
    %lens: memref<1xi32>, %o: memref<1x4x1x36xf32>) {
  // expected-error @below {{expects head dims that are multiples of 8 (16-byte vectors of 'f16'), got D = 36, Dv = 36}}
  kv.cache_attention %q, %cache, %lens : memref<1x4x1x36xf32>,
      !kv.cache<f16, heads = 1, head_dim = 36, capacity = 64>,
      memref<1xi32> outs(%o : memref<1x4x1x36xf32>)
  return
}

// -----

// f32 rows are read 4 at a time: Dv 66 is not a multiple.
func.func @odd_value_dim(%q: memref<1x4x1x64xf32>,
    %cache: !kv.cache<f32, heads = 1, head_dim = 64, value_dim = 66, capacity = 64>,
    %lens: memref<1xi32>, %o: memref<1x4x1x66xf32>) {
  // expected-error @below {{got D = 64, Dv = 66}}
  kv.cache_attention %q, %cache, %lens : memref<1x4x1x64xf32>,
      !kv.cache<f32, heads = 1, head_dim = 64, value_dim = 66, capacity = 64>,
      memref<1xi32> outs(%o : memref<1x4x1x66xf32>)
  return
}

// -----

// The mask's shape is baked into the kernel's indexing: it must be static.
func.func @dynamic_mask(%q: memref<1x4x1x64xf32>,
    %cache: !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>,
    %lens: memref<1xi32>, %m: memref<1x1x1x?xi1>, %o: memref<1x4x1x64xf32>) {
  // expected-error @below {{GPU kernel operands need a static shape, got 'memref<1x1x1x?xi1>'}}
  kv.cache_attention %q, %cache, %lens : memref<1x4x1x64xf32>,
      !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>,
      memref<1xi32> mask(%m : memref<1x1x1x?xi1>) outs(%o : memref<1x4x1x64xf32>)
  return
}

// -----

// The batch size is baked into the grid: it must be static.
func.func @dynamic_batch(%q: memref<?x4x1x64xf32>,
    %cache: !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>,
    %lens: memref<?xi32>, %o: memref<?x4x1x64xf32>) {
  // expected-error @below {{GPU kernel operands need a static shape, got 'memref<?x4x1x64xf32>'}}
  kv.cache_attention %q, %cache, %lens : memref<?x4x1x64xf32>,
      !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>,
      memref<?xi32> outs(%o : memref<?x4x1x64xf32>)
  return
}

// -----

// Kernels take bare pointers: strided views are not kernel operands.
func.func @strided_output(%q: memref<1x4x1x64xf32>,
    %cache: !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>,
    %lens: memref<1xi32>, %o: memref<1x4x1x64xf32, strided<[512, 128, 64, 1]>>) {
  // expected-error @below {{GPU kernel operands need an identity layout}}
  kv.cache_attention %q, %cache, %lens : memref<1x4x1x64xf32>,
      !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>,
      memref<1xi32> outs(%o : memref<1x4x1x64xf32, strided<[512, 128, 64, 1]>>)
  return
}

// -----

// 16 packed rows of D 768 need 48 KB of query rows and 8 KB of scores: more
// than the 48 KB of static shared memory a block may have.
func.func @shared_memory(%q: memref<1x16x1x768xf32>,
    %cache: !kv.cache<f32, heads = 1, head_dim = 768, capacity = 64>,
    %lens: memref<1xi32>, %o: memref<1x16x1x768xf32>) {
  // expected-error @below {{needs 57540 bytes of shared memory per block, the target has 49152}}
  kv.cache_attention %q, %cache, %lens : memref<1x16x1x768xf32>,
      !kv.cache<f32, heads = 1, head_dim = 768, capacity = 64>,
      memref<1xi32> outs(%o : memref<1x16x1x768xf32>)
  return
}

// -----

// The GPU decode kernels split the keys themselves and write no partials.
func.func @split_form(%q: memref<1x4x1x64xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 64, capacity = 64>,
                      %lens: memref<1xi32>, %o: memref<2x1x4x1x64xf32>, %l: memref<2x1x4x1xf32>) {
  // expected-error @+1 {{returns its log-sum-exp or split partials, which the GPU decode kernels do not write (they split the keys themselves; kv-split-kv is for the CPU pipeline)}}
  kv.cache_attention %q, %c, %lens : memref<1x4x1x64xf32>, !kv.cache<f32, heads = 2, head_dim = 64, capacity = 64>, memref<1xi32>
      outs(%o, %l : memref<2x1x4x1x64xf32>, memref<2x1x4x1xf32>)
  return
}

// -----

// The GPU decode kernels pack a group's heads themselves; the packed form of
// kv-pack-gqa (a CPU pass) is diagnosed.
func.func @packed_heads(%q: memref<1x2x2x64xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 64, capacity = 64>,
                        %lens: memref<1xi32>, %o: memref<1x2x2x64xf32>) {
  // expected-error @+1 {{has GQA-packed query heads (packed_heads > 1, from kv-pack-gqa, a CPU pass); the GPU kernels pack the group themselves}}
  kv.cache_attention %q, %c, %lens : memref<1x2x2x64xf32>, !kv.cache<f32, heads = 2, head_dim = 64, capacity = 64>, memref<1xi32>
      outs(%o : memref<1x2x2x64xf32>) {packed_heads = 2 : i64}
  return
}
