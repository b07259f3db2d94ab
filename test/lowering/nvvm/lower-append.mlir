// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-append | FileCheck %s

// bf16 paged cache, 5 rows per step, D 80: one block per (KV head, sequence)
// of 128 threads; row t of sequence b goes to token past[b] + t through the
// page table, rounded to bf16, only below the capacity.
// CHECK-LABEL: func @append_bf16_paged
// CHECK:         %[[K:.*]], %[[V:.*]], %[[T:.*]] = kv.cache_view %arg2
// CHECK-DAG:     %[[KC:.*]] = memref.cast %[[K]] : memref<?x2x8x80xbf16> to memref<500x2x8x80xbf16>
// CHECK-DAG:     %[[VC:.*]] = memref.cast %[[V]] : memref<?x2x8x80xbf16> to memref<500x2x8x80xbf16>
// CHECK-DAG:     %[[TC:.*]] = memref.cast %[[T]] : memref<?x125xi32> to memref<4x125xi32>
// CHECK:         gpu.launch_func @kvfuse_kernels::@kv_append blocks in (%c2, %c4, %c1) threads in (%c128, %c1{{.*}}, %c1{{.*}}) args(%arg0 : memref<4x2x5x80xf32>, %arg1 : memref<4x2x5x80xf32>, %[[KC]] : memref<500x2x8x80xbf16>, %[[VC]] : memref<500x2x8x80xbf16>, %[[TC]] : memref<4x125xi32>, %arg3 : memref<4xi32>)
// CHECK-NOT:     kv.append
// CHECK:         gpu.func @kv_append(%[[KN:.*]]: memref<4x2x5x80xf32>, %[[VN:.*]]: memref<4x2x5x80xf32>, %[[KP:.*]]: memref<500x2x8x80xbf16>, %[[VP:.*]]: memref<500x2x8x80xbf16>, %[[PT:.*]]: memref<4x125xi32>, %[[PAST:.*]]: memref<4xi32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK:           %[[TID:.*]] = gpu.thread_id x
// CHECK:           %[[H:.*]] = gpu.block_id x
// CHECK:           %[[B:.*]] = gpu.block_id y
// CHECK:           %[[P:.*]] = memref.load %[[PAST]][%[[B]]]
// CHECK:           %[[P0:.*]] = arith.index_cast %[[P]]
// CHECK:           scf.for %[[I:.*]] = %[[TID]] to %c400 step %c128
// CHECK:             %[[TOK:.*]] = arith.divui %[[I]], %c80
// CHECK:             %[[D:.*]] = arith.remui %[[I]], %c80
// CHECK:             %[[POS:.*]] = arith.addi %[[P0]], %[[TOK]]
// CHECK:             %[[IN:.*]] = arith.cmpi ult, %[[POS]], %c1000
// CHECK:             scf.if %[[IN]]
// CHECK:               %[[SLOT:.*]] = arith.divui %[[POS]], %c8
// CHECK:               %[[WITHIN:.*]] = arith.remui %[[POS]], %c8
// CHECK:               %[[PG:.*]] = memref.load %[[PT]][%[[B]], %[[SLOT]]]
// CHECK:               %[[PGI:.*]] = arith.index_cast %[[PG]]
// CHECK:               %[[X:.*]] = memref.load %[[KN]][%[[B]], %[[H]], %[[TOK]], %[[D]]]
// CHECK:               %[[XC:.*]] = arith.truncf %[[X]] : f32 to bf16
// CHECK:               memref.store %[[XC]], %[[KP]][%[[PGI]], %[[H]], %[[WITHIN]], %[[D]]]
// CHECK:           scf.for
// CHECK:               memref.load %[[VN]]
// CHECK:               memref.store %{{.*}}, %[[VP]]
// CHECK:           gpu.return
func.func @append_bf16_paged(%k: memref<4x2x5x80xf32>, %v: memref<4x2x5x80xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 80, capacity = 1000, layout = #kv.paged<page_size = 8>>,
    %lens: memref<4xi32>) {
  kv.append %k, %v, %cache, %lens : memref<4x2x5x80xf32>, memref<4x2x5x80xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 80, capacity = 1000, layout = #kv.paged<page_size = 8>>, memref<4xi32>
  return
}

// -----

// f32 contiguous cache with Dv != D: one page per sequence (the table is
// [B, 1]); f32 rows are copied as they are; keys and values loop over their
// own widths.
// CHECK-LABEL: func @append_f32_dv
// CHECK:         memref.cast %{{.*}} : memref<?x3x64x96xf32> to memref<2x3x64x96xf32>
// CHECK:         memref.cast %{{.*}} : memref<?x3x64x32xf32> to memref<2x3x64x32xf32>
// CHECK:         gpu.launch_func @kvfuse_kernels::@kv_append blocks in (%c3, %c2, %c1)
// CHECK:         gpu.func @kv_append
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c672 step %c128
// CHECK-NOT:         arith.truncf
// CHECK:             arith.cmpi ult, %{{.*}}, %c64
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c224 step %c128
func.func @append_f32_dv(%k: memref<2x3x7x96xf32>, %v: memref<2x3x7x32xf32>,
    %cache: !kv.cache<f32, heads = 3, head_dim = 96, value_dim = 32, capacity = 64>,
    %lens: memref<2xi32>) {
  kv.append %k, %v, %cache, %lens : memref<2x3x7x96xf32>, memref<2x3x7x32xf32>,
      !kv.cache<f32, heads = 3, head_dim = 96, value_dim = 32, capacity = 64>, memref<2xi32>
  return
}

// -----

// Two appends in one function: two kernels, uniquely named.
// CHECK-LABEL: func @two_caches
// CHECK:         gpu.launch_func @kvfuse_kernels::@kv_append blocks
// CHECK:         gpu.launch_func @kvfuse_kernels::@kv_append_0 blocks
// CHECK:         gpu.func @kv_append(
// CHECK:           arith.truncf %{{.*}} : f32 to f16
// CHECK:         gpu.func @kv_append_0(
func.func @two_caches(%k: memref<1x1x1x64xf32>, %v: memref<1x1x1x64xf32>,
    %c1: !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>,
    %c2: !kv.cache<f32, heads = 1, head_dim = 64, capacity = 64>,
    %lens: memref<1xi32>) {
  kv.append %k, %v, %c1, %lens : memref<1x1x1x64xf32>, memref<1x1x1x64xf32>,
      !kv.cache<f16, heads = 1, head_dim = 64, capacity = 64>, memref<1xi32>
  kv.append %k, %v, %c2, %lens : memref<1x1x1x64xf32>, memref<1x1x1x64xf32>,
      !kv.cache<f32, heads = 1, head_dim = 64, capacity = 64>, memref<1xi32>
  return
}
