// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-prefill -verify-diagnostics
// RUN: not kvfuse-opt %s --kv-nvvm-lower-prefill="target=sm_75" -split-input-file 2>&1 | FileCheck %s --check-prefix=SM75
// RUN: not kvfuse-opt %s --kv-nvvm-lower-prefill="target=sm_80,smem=4096" -split-input-file 2>&1 | FileCheck %s --check-prefix=SMEM
// RUN: not kvfuse-opt %s --kv-nvvm-lower-prefill="rows-per-block=24" -split-input-file 2>&1 | FileCheck %s --check-prefix=ROWS

// A head dim that is not a multiple of 16.
func.func @head_dim_72(%q: memref<1x2x8x72xf16>, %k: memref<1x2x8x72xf16>, %v: memref<1x2x8x72xf16>, %o: memref<1x2x8x72xf16>) {
  // expected-error @+1 {{expects head dims that are multiples of 16 up to 256, got D = 72, Dv = 72}}
  kv.attention %q, %k, %v : memref<1x2x8x72xf16>, memref<1x2x8x72xf16>, memref<1x2x8x72xf16>
      outs(%o : memref<1x2x8x72xf16>)
  return
}

// -----

// A value head dim above 256.
func.func @value_dim_320(%q: memref<1x2x8x64xf32>, %k: memref<1x2x8x64xf32>, %v: memref<1x2x8x320xf32>, %o: memref<1x2x8x320xf32>) {
  // expected-error @+1 {{expects head dims that are multiples of 16 up to 256, got D = 64, Dv = 320}}
  kv.attention %q, %k, %v : memref<1x2x8x64xf32>, memref<1x2x8x64xf32>, memref<1x2x8x320xf32>
      outs(%o : memref<1x2x8x320xf32>)
  return
}

// -----

// Dynamic sequence length: kernels bake their shapes in.
func.func @dynamic(%q: memref<1x2x?x64xf16>, %k: memref<1x2x8x64xf16>, %v: memref<1x2x8x64xf16>, %o: memref<1x2x?x64xf16>) {
  // expected-error @+1 {{expects memrefs of static shape and identity layout, got 'memref<1x2x?x64xf16>'}}
  kv.attention %q, %k, %v : memref<1x2x?x64xf16>, memref<1x2x8x64xf16>, memref<1x2x8x64xf16>
      outs(%o : memref<1x2x?x64xf16>)
  return
}

// -----

// f64 has no GPU lowering.
func.func @f64(%q: memref<1x2x8x64xf64>, %k: memref<1x2x8x64xf64>, %v: memref<1x2x8x64xf64>, %o: memref<1x2x8x64xf64>) {
  // expected-error @+1 {{expects Q, K and V of one element type (f16, bf16 or f32), got 'f64', 'f64', 'f64'}}
  kv.attention %q, %k, %v : memref<1x2x8x64xf64>, memref<1x2x8x64xf64>, memref<1x2x8x64xf64>
      outs(%o : memref<1x2x8x64xf64>)
  return
}

// -----

// Tensors: bufferize first.
func.func @tensor(%q: tensor<1x2x8x64xf16>, %k: tensor<1x2x8x64xf16>, %v: tensor<1x2x8x64xf16>, %o: tensor<1x2x8x64xf16>) -> tensor<1x2x8x64xf16> {
  // expected-error @+1 {{expects the memref (bufferized) form}}
  %r = kv.attention %q, %k, %v : tensor<1x2x8x64xf16>, tensor<1x2x8x64xf16>, tensor<1x2x8x64xf16>
      outs(%o : tensor<1x2x8x64xf16>) -> tensor<1x2x8x64xf16>
  return %r : tensor<1x2x8x64xf16>
}

// -----

// The prefill kernels pack a group's heads themselves (rows r of a block are
// query position r / G of head r % G); kv-pack-gqa's form is diagnosed.
func.func @packed_heads(%q: memref<1x1x32x64xf32>, %k: memref<1x1x16x64xf32>, %o: memref<1x1x32x64xf32>) {
  // expected-error @+1 {{has GQA-packed query heads (packed_heads > 1, from kv-pack-gqa, a CPU pass); the GPU kernels pack the group themselves}}
  kv.attention %q, %k, %k : memref<1x1x32x64xf32>, memref<1x1x16x64xf32>, memref<1x1x16x64xf32>
      outs(%o : memref<1x1x32x64xf32>) {packed_heads = 2 : i64}
  return
}

// -----

// On sm_75 the f16 path has no m16n8k16 mma.sync; f32 still lowers.
func.func @f16_needs_sm80(%q: memref<1x2x8x64xf16>, %k: memref<1x2x8x64xf16>, %v: memref<1x2x8x64xf16>, %o: memref<1x2x8x64xf16>) {
  kv.attention %q, %k, %v : memref<1x2x8x64xf16>, memref<1x2x8x64xf16>, memref<1x2x8x64xf16>
      outs(%o : memref<1x2x8x64xf16>)
  return
}
// SM75: error: f16/bf16 attention needs mma.sync m16n8k16 (sm_80 or newer), target is sm_75
// SMEM: error: needs 4608 bytes of shared memory for 16 keys per tile, the target has 4096
// ROWS: error: kv-nvvm-lower-prefill: expects rows-per-block a multiple of 16
