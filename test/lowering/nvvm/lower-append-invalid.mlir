// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-append -verify-diagnostics

// Rows appended per step are baked into the kernel: they must be static.
func.func @dynamic_step(%k: memref<1x1x?x64xf32>, %v: memref<1x1x?x64xf32>,
    %cache: !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>,
    %lens: memref<1xi32>) {
  // expected-error @below {{GPU kernel operands need a static shape}}
  kv.append %k, %v, %cache, %lens : memref<1x1x?x64xf32>, memref<1x1x?x64xf32>,
      !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>, memref<1xi32>
  return
}

// -----

func.func @quantized(%k: memref<1x1x1x64xf32>, %v: memref<1x1x1x64xf32>,
    %cache: !kv.cache<i8, heads = 1, head_dim = 64, capacity = 64, scale = f32>,
    %lens: memref<1xi32>) {
  // expected-error @below {{quantised caches are not lowered to the GPU yet}}
  kv.append %k, %v, %cache, %lens : memref<1x1x1x64xf32>, memref<1x1x1x64xf32>,
      !kv.cache<i8, heads = 1, head_dim = 64, capacity = 64, scale = f32>, memref<1xi32>
  return
}
