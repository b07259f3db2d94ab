// RUN: kvfuse-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(func.func(kv-cpu-vectorize-attention))" | FileCheck %s

// One step written by hand (4 packed decode rows, f16 rows, a 32-key block):
// the kernel's scratch (scores, rescale factors, block sums) goes on the
// stack ahead of it; the dot-product kernel scores 4 rows x 4 keys of f16
// rows widened on load, the online softmax rescales the running state, and
// P.V accumulates into %acc. Nothing of the op is left.
// CHECK-LABEL: func @step
// CHECK-DAG:     %[[PROBS:.*]] = memref.alloca() : memref<4x32xf32>
// CHECK-DAG:     %[[SCALE:.*]] = memref.alloca() : memref<4xf32>
// CHECK:         scf.for {{.*}} = %c0 to %c8 step %c1
// CHECK:           vector.load %arg1{{.*}} : memref<1x1x64x32xf16>, vector<16xf16>
// CHECK:           arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK:           vector.fma
// CHECK:         scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK:           memref.store {{.*}}, %arg6[%{{.*}}] : memref<4xf32>
// CHECK:         vector.store {{.*}}, %arg7[%c0] : memref<4xf32>, vector<4xf32>
// CHECK:         scf.for %{{.*}} = %arg8 to %arg9 step %c1 iter_args
// CHECK:           vector.load %arg2{{.*}} : memref<1x1x64x16xf16>, vector<16xf16>
// CHECK:         vector.store {{.*}}, %arg5[%c0, %c0] : memref<4x16xf32>, vector<16xf32>
// CHECK-NOT:     kv.attend_block
func.func @step(%qs: memref<4x32xf32>, %k: memref<1x1x64x32xf16>, %v: memref<1x1x64x16xf16>,
                %lo: memref<4xindex>, %hi: memref<4xindex>, %acc: memref<4x16xf32>,
                %max: memref<4xf32>, %sum: memref<4xf32>, %jb: index, %je: index) {
  %c0 = arith.constant 0 : index
  %c63 = arith.constant 63 : index
  kv.attend_block %qs, %k, %v : memref<4x32xf32>, memref<1x1x64x32xf16>, memref<1x1x64x16xf16>
      at(%c0, %c0) keys(%jb, %je, %c63) rows(%lo, %hi : memref<4xindex>, memref<4xindex>) tile(%c0, %c0)
      outs(%acc, %max, %sum : memref<4x16xf32>, memref<4xf32>, memref<4xf32>)
      {key_block = 32 : i64, num_keys = 64 : i64, packed_heads = 4 : i64, query_length = 1 : i64,
       rows_per_head = 1 : i64, score_kernel = "dot"}
  return
}

// -----

// The query-transposed kernel holds 16 rows per vector.
func.func @rows_for_transposed(%qs: memref<8x32xf32>, %k: memref<1x1x64x32xf32>, %lo: memref<8xindex>,
                               %acc: memref<8x32xf32>, %m: memref<8xf32>, %i: index) {
  // expected-error @+1 {{transposed-queries needs tiles of whole 16-row vectors (this one has 8 rows) and no explicit mask}}
  kv.attend_block %qs, %k, %k : memref<8x32xf32>, memref<1x1x64x32xf32>, memref<1x1x64x32xf32>
      at(%i, %i) keys(%i, %i, %i) rows(%lo, %lo : memref<8xindex>, memref<8xindex>) tile(%i, %i)
      outs(%acc, %m, %m : memref<8x32xf32>, memref<8xf32>, memref<8xf32>)
      {key_block = 32 : i64, num_keys = 64 : i64, packed_heads = 1 : i64, query_length = 8 : i64,
       rows_per_head = 8 : i64, score_kernel = "transposed-queries"}
  return
}

// -----

// The transposed-K kernel transposes 16 keys at a time and scores 32.
func.func @block_for_transposed_keys(%qs: memref<8x32xf32>, %k: memref<1x1x64x32xf32>, %lo: memref<8xindex>,
                                     %acc: memref<8x32xf32>, %m: memref<8xf32>, %i: index) {
  // expected-error @+1 {{key_block 48 is no multiple of 32 (the transposed-keys kernel's)}}
  kv.attend_block %qs, %k, %k : memref<8x32xf32>, memref<1x1x64x32xf32>, memref<1x1x64x32xf32>
      at(%i, %i) keys(%i, %i, %i) rows(%lo, %lo : memref<8xindex>, memref<8xindex>) tile(%i, %i)
      outs(%acc, %m, %m : memref<8x32xf32>, memref<8xf32>, memref<8xf32>)
      {key_block = 48 : i64, num_keys = 64 : i64, packed_heads = 1 : i64, query_length = 8 : i64,
       rows_per_head = 8 : i64, score_kernel = "transposed-keys"}
  return
}
