// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-plan-tiles{target=cores=2,l1=32768}))" | FileCheck %s
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-plan-tiles{target=cores=2,l1=32768 row-tile=16 key-block=32 splits=1 score-kernel=dot}))" | FileCheck %s --check-prefix=FIXED
// The vectorizer follows a recorded plan (its key splits realised by
// kv-split-kv).
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-plan-tiles{target=cores=2,l1=32768},kv-split-kv,kv-cpu-tile-attention{target=cores=2,l1=32768},kv-cpu-vectorize-attention))" | FileCheck %s --check-prefix=FOLLOW

// Prefill, 2 heads x 128 rows, D = 64: 64-row tiles (4 tiles for 2 cores),
// 128-key blocks (64 keys of K+V fit 32 KiB of L1, doubled for a
// transposed kernel), no splits, the query-transposed kernel.
// CHECK-LABEL: func @prefill
// CHECK: kv.attention {{.*}} {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 64, key_block = 128, splits = 1, score_kernel = "transposed-queries">}
// FIXED-LABEL: func @prefill
// FIXED: #kv.cpu_tiles<rows_per_head = 16, key_block = 32, splits = 1, score_kernel = "dot">
// FOLLOW-LABEL: func @prefill
// FOLLOW: scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c2, %c2)
// FOLLOW: memref.alloca() : memref<128x64xf32>
func.func @prefill(%q: memref<1x2x128x64xf32>, %k: memref<1x2x128x64xf32>, %v: memref<1x2x128x64xf32>,
                   %o: memref<1x2x128x64xf32>) {
  kv.attention %q, %k, %v : memref<1x2x128x64xf32>, memref<1x2x128x64xf32>, memref<1x2x128x64xf32>
      outs(%o : memref<1x2x128x64xf32>)
  return
}

// -----

// Tensors are planned too. One head of 64 rows: 64- and 32-row tiles would
// be fewer than twice the cores, so 16 rows.
// CHECK-LABEL: func @few
// CHECK: #kv.cpu_tiles<rows_per_head = 16, key_block = 64, splits = 1, score_kernel = "transposed-queries">
func.func @few(%q: tensor<1x1x64x64xf32>, %k: tensor<1x1x64x64xf32>, %v: tensor<1x1x64x64xf32>) -> tensor<1x1x64x64xf32> {
  %i = tensor.empty() : tensor<1x1x64x64xf32>
  %o = kv.attention %q, %k, %v : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
      outs(%i : tensor<1x1x64x64xf32>) -> tensor<1x1x64x64xf32>
  return %o : tensor<1x1x64x64xf32>
}

// -----

// GQA group of 3: 64 / 3 = 21 rows per head rounded to 16 so that a tile
// (48 rows) fills 16-lane vectors.
// CHECK-LABEL: func @group3
// CHECK: #kv.cpu_tiles<rows_per_head = 16, key_block = 128, splits = 1, score_kernel = "transposed-queries">
func.func @group3(%q: memref<1x6x100x64xf32>, %k: memref<1x2x200x64xf32>, %v: memref<1x2x200x64xf32>,
                  %o: memref<1x6x100x64xf32>) {
  kv.attention %q, %k, %v : memref<1x6x100x64xf32>, memref<1x2x200x64xf32>, memref<1x2x200x64xf32>
      outs(%o : memref<1x6x100x64xf32>) {causal}
  return
}

// -----

// GQA group of 5: 12 rows per head (60-row tiles) cannot fill 16-lane
// vectors; an explicit mask wants row-major scores: both take the
// transposed-K kernel (blocks in multiples of 32 keys).
// CHECK-LABEL: func @group5
// CHECK: #kv.cpu_tiles<rows_per_head = 12, key_block = 128, splits = 1, score_kernel = "transposed-keys">
// CHECK-LABEL: func @masked
// CHECK: #kv.cpu_tiles<rows_per_head = 64, key_block = 128, splits = 1, score_kernel = "transposed-keys">
func.func @group5(%q: memref<1x5x64x64xf32>, %k: memref<1x1x256x64xf32>, %v: memref<1x1x256x64xf32>,
                  %o: memref<1x5x64x64xf32>) {
  kv.attention %q, %k, %v : memref<1x5x64x64xf32>, memref<1x1x256x64xf32>, memref<1x1x256x64xf32>
      outs(%o : memref<1x5x64x64xf32>)
  return
}
func.func @masked(%q: memref<2x2x128x64xf32>, %k: memref<2x2x128x64xf32>, %v: memref<2x2x128x64xf32>,
                  %m: memref<128x128xi1>, %o: memref<2x2x128x64xf32>) {
  kv.attention %q, %k, %v : memref<2x2x128x64xf32>, memref<2x2x128x64xf32>, memref<2x2x128x64xf32>
      mask(%m : memref<128x128xi1>) outs(%o : memref<2x2x128x64xf32>)
  return
}

// -----

// Decode from a cache, GQA group of 4, one sequence: one 4-row tile per KV
// head (2 tiles, fewer than twice the cores) over 4096 keys, so each
// tile's keys are split in two; dot products; 32-key blocks (1 KiB of K+V
// per key at D = 128 f32).
// CHECK-LABEL: func @decode
// CHECK: kv.cache_attention {{.*}}kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 1, key_block = 32, splits = 2, score_kernel = "dot">
func.func @decode(%q: tensor<1x8x1x128xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 128, capacity = 4096>,
                  %l: tensor<1xi32>) -> tensor<1x8x1x128xf32> {
  %i = tensor.empty() : tensor<1x8x1x128xf32>
  %o = kv.cache_attention %q, %c, %l : tensor<1x8x1x128xf32>, !kv.cache<f32, heads = 2, head_dim = 128, capacity = 4096>, tensor<1xi32>
      outs(%i : tensor<1x8x1x128xf32>) -> tensor<1x8x1x128xf32>
  return %o : tensor<1x8x1x128xf32>
}

// -----

// A plan already on an op is kept (pinned by hand), and followed.
// CHECK-LABEL: func @pinned
// CHECK: #kv.cpu_tiles<rows_per_head = 8, key_block = 16, splits = 1, score_kernel = "dot">
// FIXED-LABEL: func @pinned
// FIXED: #kv.cpu_tiles<rows_per_head = 8, key_block = 16, splits = 1, score_kernel = "dot">
// FOLLOW-LABEL: func @pinned
// FOLLOW: scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c2, %c16)
// FOLLOW: memref.alloca() : memref<8x16xf32>
func.func @pinned(%q: memref<1x2x128x64xf32>, %k: memref<1x2x128x64xf32>, %v: memref<1x2x128x64xf32>,
                  %o: memref<1x2x128x64xf32>) {
  kv.attention %q, %k, %v : memref<1x2x128x64xf32>, memref<1x2x128x64xf32>, memref<1x2x128x64xf32>
      outs(%o : memref<1x2x128x64xf32>)
      {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 8, key_block = 16, splits = 1, score_kernel = "dot">}
  return
}
