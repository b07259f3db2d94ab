// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-decode | FileCheck %s
// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-decode="target=sm_80,sms=4 stage-v=1" | FileCheck %s --check-prefix=SMALL
// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-decode="splits=5 threads=64" | FileCheck %s --check-prefix=FORCED

// GQA group 4, f16 paged cache, D 128: one block per (split, KV head,
// sequence), 8 splits of 128 keys (4 blocks per SM of an H100 capped by the
// 1000-token capacity), partials in host scratch, then the LSE merge.
// CHECK-LABEL: func @gqa4_f16_paged
// CHECK:         %[[K:.*]], %[[V:.*]], %[[T:.*]] = kv.cache_view %arg1
// CHECK:         %[[KC:.*]] = memref.cast %[[K]] : memref<?x2x8x128xf16> to memref<250x2x8x128xf16>
// CHECK:         %[[VC:.*]] = memref.cast %[[V]] : memref<?x2x8x128xf16> to memref<250x2x8x128xf16>
// CHECK:         %[[TC:.*]] = memref.cast %[[T]] : memref<?x125xi32> to memref<2x125xi32>
// CHECK:         %[[PO:.*]] = memref.alloc() : memref<2x8x1x8x128xf32>
// CHECK:         %[[PL:.*]] = memref.alloc() : memref<2x8x1x8xf32>
// CHECK-DAG:     %[[S:.*]] = arith.constant 8 : index
// CHECK-DAG:     %[[KH:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[NT:.*]] = arith.constant 128 : index
// CHECK:         gpu.launch_func @kvfuse_kernels::@decode_partial blocks in (%[[S]], %[[KH]], %{{.*}}) threads in (%[[NT]], %{{.*}}, %{{.*}}) args(%arg0 : memref<2x8x1x128xf32>, %[[KC]] : memref<250x2x8x128xf16>, %[[VC]] : memref<250x2x8x128xf16>, %[[TC]] : memref<2x125xi32>, %arg2 : memref<2xi32>, %[[PO]] : memref<2x8x1x8x128xf32>, %[[PL]] : memref<2x8x1x8xf32>)
// CHECK:         gpu.launch_func @kvfuse_kernels::@decode_merge blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) args(%[[PO]] : memref<2x8x1x8x128xf32>, %[[PL]] : memref<2x8x1x8xf32>, %arg3 : memref<2x8x1x128xf32>)
// CHECK-NOT:     kv.cache_attention
// CHECK:       gpu.module @kvfuse_kernels
// CHECK:         gpu.func @decode_partial(%[[Q:.*]]: memref<2x8x1x128xf32>, %[[KP:.*]]: memref<250x2x8x128xf16>, %[[VP:.*]]: memref<250x2x8x128xf16>, %[[PT:.*]]: memref<2x125xi32>, %[[LENS:.*]]: memref<2xi32>, %[[OP:.*]]: memref<2x8x1x8x128xf32>, %[[LP:.*]]: memref<2x8x1x8xf32>)
// CHECK-SAME:      workgroup(%[[QS:.*]] : memref<512xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[SS:.*]] : memref<512xf32, #gpu.address_space<workgroup>>
// A register budget of 128 (4 blocks per SM): left alone, ptxas would aim at
// 96 registers and spill.
// CHECK-SAME:      kernel attributes {known_block_size = array<i32: 128, 1, 1>, nvvm.maxnreg = 128 : i32}
// CHECK:           %[[SPLIT:.*]] = gpu.block_id x
// CHECK:           %[[KVH:.*]] = gpu.block_id y
// CHECK:           %[[SEQ:.*]] = gpu.block_id z
// CHECK:           memref.load %[[LENS]][%[[SEQ]]]
// The query rows of the 4 heads, pre-scaled by log2(e)/sqrt(128).
// CHECK:           scf.for
// CHECK:             memref.load %[[Q]][%[[SEQ]],
// CHECK:             arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:             memref.store %{{.*}}, %[[QS]]
// CHECK:           gpu.barrier
// One tile of 128 keys per iteration: the key's page from the table, 16-byte
// f16 loads widened to f32, 4 dot products (one per packed head).
// CHECK:           scf.for %[[T0:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<8xf32>)
// CHECK:             scf.if %{{.*}} -> (f32, f32, f32, f32)
// CHECK:               arith.divui %{{.*}}, %c8
// CHECK:               memref.load %[[PT]][%[[SEQ]], %{{.*}}] : memref<2x125xi32>
// CHECK:               scf.for %{{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:                 vector.load %[[KP]][%{{.*}}, %[[KVH]], %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<250x2x8x128xf16>, vector<8xf16>
// CHECK:                 arith.extf %{{.*}} : vector<8xf16> to vector<8xf32>
// CHECK:                 vector.load %[[QS]]{{.*}} : memref<512xf32, #gpu.address_space<workgroup>>, vector<8xf32>
// CHECK:                 vector.fma {{.*}} : vector<8xf32>
// CHECK-COUNT-4:       vector.reduction <add>
// CHECK:             gpu.barrier
// Per-head max and sum over the tile with warp shuffles, exp2 in PTX.
// CHECK:             gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : f32
// CHECK:             arith.maximumf
// CHECK:             nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// CHECK:             gpu.shuffle  xor
// CHECK:             gpu.barrier
// P.V: 64 (head, 16-byte column) slots, two key groups, 4 keys in flight.
// CHECK:             scf.for
// CHECK-COUNT-4:       memref.load %[[PT]]
// CHECK:               vector.fma
// CHECK:             gpu.barrier
// The two key groups add up through shared memory; partial O and LSE out.
// CHECK:           vector.store {{.*}} : memref<1024xf32, #gpu.address_space<workgroup>>, vector<8xf32>
// CHECK:           vector.store %{{.*}}, %[[OP]][%[[SEQ]], %{{.*}}, %{{.*}}, %[[SPLIT]], %{{.*}}] {alignment = 16 : i64}
// CHECK:           nvvm.inline_ptx "lg2.approx.ftz.f32 $0, $1;"
// CHECK:           memref.store %{{.*}}, %[[LP]][%[[SEQ]], %{{.*}}, %{{.*}}, %[[SPLIT]]]
// CHECK:         gpu.func @decode_merge(%{{.*}}: memref<2x8x1x8x128xf32>, %{{.*}}: memref<2x8x1x8xf32>, %{{.*}}: memref<2x8x1x128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK:           scf.for {{.*}} -> (f32)
// CHECK:             arith.maximumf
// CHECK:           arith.cmpf oeq
// CHECK:           scf.for {{.*}} -> (f32, f32)
// CHECK:             nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// CHECK:           arith.cmpf ogt
// CHECK:           arith.divf
// CHECK-NOT:       __nv_
// With 4 SMs, 16 blocks for 4 (sequence, KV head) pairs: 4 splits of 256
// keys; staged V rows (128 keys x (128 + 8) f16) fit in shared memory.
// SMALL-LABEL: func @gqa4_f16_paged
// SMALL:         gpu.launch_func @kvfuse_kernels::@decode_partial blocks in (%c4, %c2, %c2
// SMALL:         gpu.func @decode_partial
// SMALL-SAME:      %{{.*}} : memref<17408xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}
func.func @gqa4_f16_paged(%q: memref<2x8x1x128xf32>,
    %cache: !kv.cache<f16, heads = 2, head_dim = 128, capacity = 1000, layout = #kv.paged<page_size = 8>>,
    %lens: memref<2xi32>, %o: memref<2x8x1x128xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<2x8x1x128xf32>,
      !kv.cache<f16, heads = 2, head_dim = 128, capacity = 1000, layout = #kv.paged<page_size = 8>>,
      memref<2xi32> outs(%o : memref<2x8x1x128xf32>)
  return
}

// -----

// Multi-head (group 1), f32 contiguous cache, D 64, a single split (capacity
// below one tile): the sequence's page is looked up once, the kernel writes
// the output directly, no scratch and no merge. f32 rows are 4-wide loads.
// CHECK-LABEL: func @mha_f32_contiguous
// CHECK-NOT:     memref.alloc
// CHECK:         gpu.launch_func @kvfuse_kernels::@decode_partial blocks in (%c1, %c12, %c1{{.*}}) threads in (%c128, {{.*}}) args(%arg0 : memref<1x12x1x64xf32>, %{{.*}} : memref<1x12x100x64xf32>, %{{.*}} : memref<1x12x100x64xf32>, %{{.*}} : memref<1x1xi32>, %arg2 : memref<1xi32>, %arg3 : memref<1x12x1x64xf32>)
// CHECK-NOT:     decode_merge
// CHECK:         gpu.func @decode_partial(%{{.*}}: memref<1x12x1x64xf32>, %{{.*}}: memref<1x12x100x64xf32>, %{{.*}}: memref<1x12x100x64xf32>, %[[PT:.*]]: memref<1x1xi32>, %{{.*}}: memref<1xi32>, %[[OUT:.*]]: memref<1x12x1x64xf32>)
// CHECK:           memref.load %[[PT]][%{{.*}}, %c0{{.*}}] : memref<1x1xi32>
// CHECK:           scf.for
// CHECK-NOT:         memref.load %[[PT]]
// CHECK:             vector.load {{.*}} : memref<1x12x100x64xf32>, vector<4xf32>
// CHECK-NOT:         arith.extf
// CHECK:             vector.fma {{.*}} : vector<4xf32>
// CHECK:           vector.store %{{.*}}, %[[OUT]]{{.*}} {alignment = 16 : i64} : memref<1x12x1x64xf32>, vector<4xf32>
// CHECK-NOT:       lg2.approx
// CHECK:           gpu.return
func.func @mha_f32_contiguous(%q: memref<1x12x1x64xf32>,
    %cache: !kv.cache<f32, heads = 12, head_dim = 64, capacity = 100>,
    %lens: memref<1xi32>, %o: memref<1x12x1x64xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<1x12x1x64xf32>,
      !kv.cache<f32, heads = 12, head_dim = 64, capacity = 100>,
      memref<1xi32> outs(%o : memref<1x12x1x64xf32>)
  return
}

// -----

// Group 7, bf16 paged cache, D 80, two query rows (speculative decode):
// 14 packed rows, each with its own bottom-right causal bound
// (kv_lens - 2 + i) checked per score. 14 x 10 column slots exceed 128
// threads: two slots per thread.
// CHECK-LABEL: func @gqa7_bf16_sq2
// CHECK:         gpu.launch_func @kvfuse_kernels::@decode_partial blocks in (%{{.*}}, %c2{{.*}}, %c3{{.*}})
// CHECK:         gpu.func @decode_partial
// CHECK:           %[[LEN:.*]] = arith.index_cast
// CHECK:           %[[OFF:.*]] = arith.subi %[[LEN]], %c2
// CHECK:           %[[POS1:.*]] = arith.addi %[[OFF]], %c1
// CHECK:           arith.addi %[[POS1]], %c1
// CHECK:           scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>)
// CHECK:             scf.if {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK:               arith.extf {{.*}} : vector<8xbf16> to vector<8xf32>
// 14 rows x 8 lanes would be 112 accumulator registers: 4-lane halves.
// CHECK:               vector.shuffle %{{.*}}, %{{.*}} [4, 5, 6, 7] : vector<8xf32>, vector<8xf32>
// CHECK:               vector.fma {{.*}} : vector<4xf32>
// CHECK:               arith.cmpi sge
// CHECK:               arith.cmpi slt
// CHECK:               arith.select {{.*}} : f32
// CHECK:           decode_merge
func.func @gqa7_bf16_sq2(%q: memref<3x14x2x80xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 80, capacity = 1000, layout = #kv.paged<page_size = 16>>,
    %lens: memref<3xi32>, %o: memref<3x14x2x80xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<3x14x2x80xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 80, capacity = 1000, layout = #kv.paged<page_size = 16>>,
      memref<3xi32> outs(%o : memref<3x14x2x80xf32>) {causal}
  return
}

// -----

// D 256, group 4, f32: soft-cap (tanh from one ex2: 1 - 2 / (2^(2x log2 e) + 1),
// then times cap * log2 e), a sliding window of 128 keys (left bound
// p - 127), scale given. The query is divided by the cap, not scaled to base 2.
// CHECK-LABEL: func @softcap_window_d256
// CHECK:         gpu.func @decode_partial
// CHECK:           arith.subi %{{.*}}, %c127
// CHECK:           arith.constant 2.000000e-03 : f32
// CHECK:           scf.for
// CHECK:             vector.load {{.*}} vector<4xf32>
// CHECK:             vector.reduction <add>
// CHECK:             arith.constant 2.8853{{[0-9]*}}e+00 : f32
// CHECK:             nvvm.inline_ptx "ex2.approx.ftz.f32
// CHECK:             arith.divf
// CHECK:             arith.subf
// CHECK:             arith.constant 72.1347{{[0-9]*}} : f32
// CHECK:             arith.mulf
func.func @softcap_window_d256(%q: memref<1x8x1x256xf32>,
    %cache: !kv.cache<f32, heads = 2, head_dim = 256, capacity = 4096>,
    %lens: memref<1xi32>, %o: memref<1x8x1x256xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<1x8x1x256xf32>,
      !kv.cache<f32, heads = 2, head_dim = 256, capacity = 4096>,
      memref<1xi32> outs(%o : memref<1x8x1x256xf32>)
      {scale = 0.1 : f32, softcap = 50.0 : f32, causal, window_left = 127 : i64}
  return
}

// -----

// Fused append: the append kernel runs first (rows at past_lens[b] + t,
// guarded below the capacity), then the decode kernels read the cache with
// kv_lens = past_lens + 1. Dv 64 != D 128; an f16 output is rounded in the
// merge.
// CHECK-LABEL: func @append_attention_dv
// CHECK:         kv.cache_view
// CHECK:         gpu.launch_func @kvfuse_kernels::@kv_append blocks in (%c4{{.*}}, %c2{{.*}}, %c1{{.*}}) threads in (%c128{{.*}}) args(%arg1 : memref<2x4x1x128xf32>, %arg2 : memref<2x4x1x64xf32>, %{{.*}} : memref<2x4x4096x128xf16>, %{{.*}} : memref<2x4x4096x64xf16>, %{{.*}} : memref<2x1xi32>, %arg4 : memref<2xi32>)
// CHECK:         gpu.launch_func @kvfuse_kernels::@decode_partial {{.*}} args(%arg0 : memref<2x16x1x128xf32>, {{.*}}, %arg4 : memref<2xi32>,
// CHECK:         gpu.launch_func @kvfuse_kernels::@decode_merge {{.*}} threads in (%c64
// CHECK-NOT:     kv.append_attention
// CHECK:         gpu.func @kv_append
// CHECK:           arith.cmpi ult, %{{.*}}, %c4096
// CHECK:           arith.truncf %{{.*}} : f32 to f16
// CHECK:         gpu.func @decode_partial
// CHECK:           %[[PAST:.*]] = arith.index_cast
// CHECK:           arith.addi %[[PAST]], %c1
// CHECK:           vector.load {{.*}} : memref<2x4x4096x64xf16>, vector<8xf16>
// CHECK:         gpu.func @decode_merge
// CHECK:           arith.truncf %{{.*}} : f32 to f16
// CHECK:           memref.store %{{.*}} : memref<2x16x1x64xf16>
func.func @append_attention_dv(%q: memref<2x16x1x128xf32>, %k: memref<2x4x1x128xf32>,
    %v: memref<2x4x1x64xf32>,
    %cache: !kv.cache<f16, heads = 4, head_dim = 128, value_dim = 64, capacity = 4096>,
    %past: memref<2xi32>, %o: memref<2x16x1x64xf16>) {
  kv.append_attention %q, %k, %v, %cache, %past : memref<2x16x1x128xf32>,
      memref<2x4x1x128xf32>, memref<2x4x1x64xf32>,
      !kv.cache<f16, heads = 4, head_dim = 128, value_dim = 64, capacity = 4096>,
      memref<2xi32> outs(%o : memref<2x16x1x64xf16>) {causal}
  return
}

// -----

// 8 heads per KV head x 3 query rows = 24 rows: above max-rows, left for a
// prefill lowering.
// CHECK-LABEL: func @prefill_sized
// CHECK:         kv.cache_attention
// CHECK-NOT:     gpu.launch_func
func.func @prefill_sized(%q: memref<1x8x3x64xf32>,
    %cache: !kv.cache<f16, heads = 1, head_dim = 64, capacity = 256>,
    %lens: memref<1xi32>, %o: memref<1x8x3x64xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<1x8x3x64xf32>,
      !kv.cache<f16, heads = 1, head_dim = 64, capacity = 256>,
      memref<1xi32> outs(%o : memref<1x8x3x64xf32>) {causal}
  return
}

// -----

// 4 SMs: 16 splits of 2048 keys for the one (sequence, KV head) pair. The
// splits option overrides the SM-derived count (5 chunks of 6592 keys, a
// multiple of the 64-key tile of 64 threads, which also handle 32 scores per
// warp in two steps).
// CHECK-LABEL: func @forced_splits
// FORCED-LABEL: func @forced_splits
// FORCED:         memref.alloc() : memref<1x4x1x5x128xf32>
// FORCED:         gpu.launch_func @kvfuse_kernels::@decode_partial blocks in (%c5, %c1{{.*}}, %c1{{.*}}) threads in (%c64
// FORCED:         gpu.func @decode_partial
// FORCED-SAME:      known_block_size = array<i32: 64, 1, 1>
// FORCED:           arith.muli %{{.*}}, %c6592
// SMALL-LABEL: func @forced_splits
// SMALL:         memref.alloc() : memref<1x4x1x16x128xf32>
// SMALL:         gpu.launch_func @kvfuse_kernels::@decode_partial blocks in (%c16, %c1{{.*}}, %c1{{.*}}) threads in (%c128
func.func @forced_splits(%q: memref<1x4x1x128xf32>,
    %cache: !kv.cache<f16, heads = 1, head_dim = 128, capacity = 32768>,
    %lens: memref<1xi32>, %o: memref<1x4x1x128xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<1x4x1x128xf32>,
      !kv.cache<f16, heads = 1, head_dim = 128, capacity = 32768>,
      memref<1xi32> outs(%o : memref<1x4x1x128xf32>)
  return
}

// -----

// Explicit masks are kernel operands after the lengths: a bool mask
// broadcast over heads selects -inf, read at (b, 0, i, key); a float mask
// [Hq, Sq, capacity] is added in base 2 (times log2 e). Rows may then be
// fully masked within a tile: the max is guarded against -inf.
// CHECK-LABEL: func @masks
// CHECK:         gpu.launch_func @kvfuse_kernels::@decode_partial {{.*}} args(%arg0 : memref<2x4x1x64xf32>, {{.*}}, %arg2 : memref<2xi32>, %arg3 : memref<2x1x1x256xi1>,
// CHECK:         gpu.launch_func @kvfuse_kernels::@decode_partial_0 {{.*}} args(%arg0 : memref<2x4x1x64xf32>, {{.*}}, %arg2 : memref<2xi32>, %arg4 : memref<4x1x256xf16>,
// CHECK:         gpu.func @decode_partial(%{{.*}}: memref<2x4x1x64xf32>, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}: memref<2xi32>, %[[BM:.*]]: memref<2x1x1x256xi1>,
// CHECK:           %[[SEQ:.*]] = gpu.block_id z
// CHECK:           scf.for
// CHECK:             scf.if
// CHECK:               %[[M:.*]] = memref.load %[[BM]][%[[SEQ]], %c0{{.*}}, %c0{{.*}}, %{{.*}}] : memref<2x1x1x256xi1>
// CHECK:               arith.select %[[M]], %{{.*}}, %cst : f32
// CHECK:             arith.cmpf oeq
// CHECK:         gpu.func @decode_partial_0(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}: memref<2xi32>, %[[FM:.*]]: memref<4x1x256xf16>,
// CHECK:               %[[F:.*]] = memref.load %[[FM]][%{{.*}}, %c0{{.*}}, %{{.*}}] : memref<4x1x256xf16>
// CHECK:               %[[FX:.*]] = arith.extf %[[F]] : f16 to f32
// CHECK:               %[[FL:.*]] = arith.mulf %[[FX]], %{{.*}} : f32
// CHECK:               arith.addf %{{.*}}, %[[FL]] : f32
func.func @masks(%q: memref<2x4x1x64xf32>,
    %cache: !kv.cache<f16, heads = 1, head_dim = 64, capacity = 256>,
    %lens: memref<2xi32>, %bm: memref<2x1x1x256xi1>, %fm: memref<4x1x256xf16>,
    %o: memref<2x4x1x64xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<2x4x1x64xf32>,
      !kv.cache<f16, heads = 1, head_dim = 64, capacity = 256>,
      memref<2xi32> mask(%bm : memref<2x1x1x256xi1>) outs(%o : memref<2x4x1x64xf32>)
  kv.cache_attention %q, %cache, %lens : memref<2x4x1x64xf32>,
      !kv.cache<f16, heads = 1, head_dim = 64, capacity = 256>,
      memref<2xi32> mask(%fm : memref<4x1x256xf16>) outs(%o : memref<2x4x1x64xf32>)
  return
}

// -----

// Two query rows with a left window, capacity 300 in three 128-key slices:
// past the capacity a row's range is the empty [lo, lo) with lo > 300, so
// the block's last key is clamped to the capacity before it bounds a slice
// (else slice [256, 384) would read tokens >= 300 through the page table).
// CHECK-LABEL: func @sq2_window_past_capacity
// CHECK:         gpu.func @decode_partial
// CHECK:           arith.minsi %{{.*}}, %c300 : index
// CHECK-NEXT:      %[[HI0:.*]] = arith.maxsi
// CHECK:           arith.minsi %{{.*}}, %c300_{{[0-9]+}} : index
// CHECK-NEXT:      %[[HI1:.*]] = arith.maxsi
// CHECK-NEXT:      %[[FIRST:.*]] = arith.minsi
// CHECK-NEXT:      %[[LAST:.*]] = arith.maxsi %[[HI0]], %[[HI1]] : index
// CHECK:           %[[CLAMPED:.*]] = arith.minsi %[[LAST]], %c300
// CHECK:           %[[SLICE:.*]] = arith.muli %block_id_x, %c128
// CHECK:           arith.maxsi %[[SLICE]], %[[FIRST]]
// CHECK:           %[[SLICEEND:.*]] = arith.addi %[[SLICE]], %c128
// CHECK:           arith.minsi %[[SLICEEND]], %[[CLAMPED]]
func.func @sq2_window_past_capacity(%q: memref<1x2x2x64xf32>,
    %cache: !kv.cache<f32, heads = 1, head_dim = 64, capacity = 300, layout = #kv.paged<page_size = 16>>,
    %lens: memref<1xi32>, %o: memref<1x2x2x64xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<1x2x2x64xf32>,
      !kv.cache<f32, heads = 1, head_dim = 64, capacity = 300, layout = #kv.paged<page_size = 16>>,
      memref<1xi32> outs(%o : memref<1x2x2x64xf32>) {causal, window_left = 3 : i64}
  return
}
