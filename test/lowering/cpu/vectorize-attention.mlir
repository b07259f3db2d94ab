// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{row-tile=8 key-block=16},kv-cpu-vectorize-attention))" | FileCheck %s
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{parallel=false},kv-cpu-vectorize-attention{prefetch=false}))" | FileCheck %s --check-prefix=SEQ
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-plan-tiles{target=cores=4 key-block=64},kv-split-kv,kv-cpu-tile-attention{target=cores=4 key-block=64},kv-cpu-vectorize-attention))" | FileCheck %s --check-prefix=SPLIT
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{target=cores=4 key-block=64},kv-cpu-vectorize-attention))" | FileCheck %s --check-prefix=NOSPLIT
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{row-tile=8 key-block=16 score-kernel=transposed-keys},kv-cpu-vectorize-attention))" | FileCheck %s --check-prefix=TRANSPOSED
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-cpu-tile-attention{row-tile=8 key-block=16},kv-cpu-vectorize-attention))" | FileCheck %s --check-prefix=UNPACKED

// GQA group of 4 (8 query heads, 2 KV heads), Sq = 3, packed by
// kv-pack-gqa into 2 heads of 12 rows: a tile holds 2 rows of each of the 4
// packed heads (row-tile 8), so the parallel loop runs over (batch 2, KV
// head 2, 2 row tiles). Keys are visited in blocks of 16 from
// the union of the rows' visible ranges; scores in 8 rows x 2 keys register
// blocks of 16 lanes (the tile's 8 rows at once); P.V with whole 24-column
// output rows.
// CHECK-LABEL: func @gqa
// CHECK:         %[[Q:.*]] = memref.collapse_shape {{.*}} into memref<2x2x12x32xf32>
// CHECK:         %[[O:.*]] = memref.collapse_shape {{.*}} into memref<2x2x12x24xf32>
// CHECK:         scf.parallel (%[[B:.*]], %[[KH:.*]], %[[T:.*]]) = (%c0, %c0, %c0) to (%c2, %c2, %c2)
// CHECK-DAG:       memref.alloca() : memref<8x32xf32>
// CHECK-DAG:       memref.alloca() : memref<8x24xf32>
// CHECK-DAG:       memref.alloca() : memref<8x16xf32>
// CHECK-DAG:       memref.alloca() : memref<8xindex>
// CHECK:           %[[RANGE:.*]]:2 = scf.for {{.*}} iter_args
// Tile row m is row i = 2 t + m mod 2 of packed head g = m / 2, at row
// 3 g + i of the packed query. It is pre-scaled by 1/sqrt(32); causal
// offset 37, window 20.
// CHECK:             %[[G:.*]] = arith.divui %{{.*}}, %c2
// CHECK:             %[[I:.*]] = arith.minsi
// CHECK:             %[[SEG:.*]] = arith.muli %[[G]], %c3
// CHECK:             %[[ROW:.*]] = arith.addi %[[SEG]], %[[I]]
// CHECK:             vector.load %[[Q]][%[[B]], %[[KH]], %[[ROW]], %c0] : memref<2x2x12x32xf32>, vector<32xf32>
// CHECK:             arith.mulf
// CHECK:             arith.addi {{.*}}, %c37
// CHECK:             arith.subi {{.*}}, %c20
// CHECK:           scf.for %[[JB:.*]] = %[[RANGE]]#0 to %[[RANGE]]#1 step %c16
// While a key is scored, the V row 8 keys on is prefetched (both lines of
// its 24 columns); no K prefetch in this phase.
// CHECK:             arith.addi {{.*}}, %c8 : index
// CHECK:             memref.prefetch %arg2[%[[B]], %[[KH]], %{{.*}}, %c0], read, locality<2>, data
// CHECK-NEXT:        memref.prefetch %arg2[%[[B]], %[[KH]], %{{.*}}, %c16], read, locality<2>, data
// CHECK-NOT:         memref.prefetch %arg1
// CHECK:             scf.for {{.*}} = %c0 to %c32 step %c16 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:               vector.load %arg1[%[[B]], %[[KH]], {{.*}}] : memref<2x2x40x32xf32>, vector<16xf32>
// CHECK:               vector.fma {{.*}} : vector<16xf32>
// The 16 dot products of a block reduce together: 15 folds of two shuffles
// (vectors p and p + n/2, segments halving from 8 lanes to 1) leave lane
// 2 m + n holding row m's score for key n, stored as eight row slices.
// CHECK:             vector.shuffle %[[ACC:.*]]#0, %[[ACC]]#8 [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
// CHECK-COUNT-27:    vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK:             vector.shuffle {{.*}} [0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30]
// CHECK:             %[[SUMS:.*]] = arith.addf {{.*}} : vector<16xf32>
// CHECK:             vector.shuffle %[[SUMS]], %[[SUMS]] [0, 1]
// CHECK:             vector.store {{.*}}[%c0, {{.*}}] : memref<8x16xf32>, vector<2xf32>
// CHECK:             vector.shuffle %[[SUMS]], %[[SUMS]] [14, 15]
// CHECK:             vector.store {{.*}}[%c7, {{.*}}] : memref<8x16xf32>, vector<2xf32>
// Masking and the online softmax work on the block's 16 scores at once.
// CHECK:             arith.cmpi sge, {{.*}} : vector<16xindex>
// CHECK:             arith.select {{.*}} : vector<16xi1>, vector<16xf32>
// CHECK:             vector.reduction <maxnumf>
// CHECK:             math.roundeven {{.*}} : vector<16xf32>
// CHECK:             vector.reduction <add>
// P.V runs two passes over the block (rows 0-3, rows 4-7); each prefetches
// one of the two lines of the K row a block and 8 keys (24) ahead.
// CHECK:             scf.for %[[J0:.*]] = {{.*}} iter_args({{.*}}) -> (vector<24xf32>, vector<24xf32>, vector<24xf32>, vector<24xf32>)
// CHECK:               arith.addi %[[J0]], %c24 : index
// CHECK:               memref.prefetch %arg1[%[[B]], %[[KH]], %{{.*}}, %c0], read, locality<2>, data
// CHECK-NOT:           memref.prefetch
// CHECK:               vector.load %arg2[%[[B]], %[[KH]], {{.*}}] : memref<2x2x40x24xf32>, vector<24xf32>
// CHECK:               vector.fma {{.*}} : vector<24xf32>
// CHECK:             scf.for %[[J1:.*]] = {{.*}} iter_args({{.*}}) -> (vector<24xf32>, vector<24xf32>, vector<24xf32>, vector<24xf32>)
// CHECK:               arith.addi %[[J1]], %c24 : index
// CHECK:               memref.prefetch %arg1[%[[B]], %[[KH]], %{{.*}}, %c16], read, locality<2>, data
// CHECK:           vector.store {{.*}}, %[[O]][%[[B]], %[[KH]], {{.*}}] : memref<2x2x12x24xf32>, vector<24xf32>
// CHECK-NOT:     kv.attention
// With transposed K blocks the scores are broadcast FMAs over a [D, block]
// scratch filled by 16x16 transposes (four stages of 16 shuffles).
// TRANSPOSED-LABEL: func @gqa
// TRANSPOSED:         memref.alloca() : memref<32x32xf32>
// TRANSPOSED-COUNT-64: vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// TRANSPOSED:         vector.store {{.*}} : memref<32x32xf32>, vector<16xf32>
// TRANSPOSED:         scf.for {{.*}} = %c0 to %c32 step %c1 iter_args
// TRANSPOSED:           vector.broadcast {{.*}} : f32 to vector<16xf32>
// TRANSPOSED:           vector.fma
// TRANSPOSED-NOT:     vector.shuffle
// TRANSPOSED:         vector.reduction <maxnumf>
// SEQ-LABEL:   func @gqa
// SEQ:           scf.for
// SEQ:             scf.for
// SEQ:               scf.for
// SEQ:                 memref.alloca_scope
// SEQ-NOT:       memref.prefetch
// SEQ-NOT:       scf.parallel
// Without kv-pack-gqa each query head is its own tile (reading its KV
// head's rows once per query head): (batch 2, query head 8, 1 row tile of
// all 3 rows), KV head = head / 4, Q and O read and written unpacked.
// UNPACKED-LABEL: func @gqa
// UNPACKED-NOT:     collapse_shape
// UNPACKED:         scf.parallel (%[[B:.*]], %[[H:.*]], %{{.*}}) = (%c0, %c0, %c0) to (%c2, %c8, %c1)
// UNPACKED:           %[[KH:.*]] = arith.divui %[[H]], %c4
// UNPACKED:           vector.load %arg0[%[[B]], %[[H]], %{{.*}}, %c0] : memref<2x8x3x32xf32>, vector<32xf32>
// UNPACKED:           vector.load %arg1[%[[B]], %[[KH]], {{.*}}] : memref<2x2x40x32xf32>
// UNPACKED:           vector.store {{.*}}, %arg3[%[[B]], %[[H]], {{.*}}] : memref<2x8x3x24xf32>, vector<24xf32>
func.func @gqa(%q: memref<2x8x3x32xf32>, %k: memref<2x2x40x32xf32>, %v: memref<2x2x40x24xf32>,
               %o: memref<2x8x3x24xf32>) {
  kv.attention %q, %k, %v : memref<2x8x3x32xf32>, memref<2x2x40x32xf32>, memref<2x2x40x24xf32>
      outs(%o : memref<2x8x3x24xf32>) {causal, causal_offset = 37 : i64, window_left = 20 : i64}
  return
}

// -----

// Cache attention reads rows through the page table; bf16 rows are widened
// to f32 on load; the query position is kv_lens[b] - Sq.
// CHECK-LABEL: func @cache
// CHECK:         %[[K:.*]], %[[V:.*]], %[[TABLE:.*]] = kv.cache_view %arg1
// CHECK:         scf.parallel
// CHECK:           memref.load %arg2[
// CHECK:           arith.subi %{{.*}}, %c1
// CHECK:               arith.divui {{.*}}, %c16
// CHECK:               memref.load %[[TABLE]]
// CHECK:               vector.load %[[K]]{{.*}} : memref<?x2x16x64xbf16>, vector<16xbf16>
// CHECK:               arith.extf {{.*}} : vector<16xbf16> to vector<16xf32>
func.func @cache(%q: memref<3x8x1x64xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 64, capacity = 100, layout = #kv.paged<page_size = 16>>,
    %lens: memref<3xi32>, %o: memref<3x8x1x64xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<3x8x1x64xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 64, capacity = 100, layout = #kv.paged<page_size = 16>>,
      memref<3xi32> outs(%o : memref<3x8x1x64xf32>)
  return
}

// -----

// Buffers without unit-stride rows are left to kv-lower-to-loops.
// CHECK-LABEL: func @strided
// CHECK:         kv.attention
func.func @strided(%q: memref<1x2x4x8xf32, strided<[128, 64, 16, 1]>>, %k: memref<1x2x4x8xf32>,
                   %v: memref<1x2x4x8xf32>, %o: memref<1x2x4x8xf32>) {
  kv.attention %q, %k, %v : memref<1x2x4x8xf32, strided<[128, 64, 16, 1]>>, memref<1x2x4x8xf32>, memref<1x2x4x8xf32>
      outs(%o : memref<1x2x4x8xf32>)
  return
}

// -----

// Split-KV: one tile (B = 1, one KV head of 8 packed query heads, Sq = 1)
// on a 4-core target is
// planned with 8 key splits; kv-split-kv makes the op a split-form partial
// attention and the vectorizer runs the splits in parallel with the tiles,
// each writing its normalised partial output and log-sum-exp; kv.merge
// (lowered later) combines them into the output.
// SPLIT-LABEL: func @mqa
// SPLIT-DAG:     %[[LSE:.*]] = memref.alloca() : memref<1x1x8xf32>
// SPLIT-DAG:     %[[PL:.*]] = memref.alloca() : memref<8x1x1x8xf32>
// SPLIT-DAG:     %[[PO:.*]] = memref.alloca() : memref<8x1x1x8x64xf32>
// SPLIT-DAG:     %[[OE:.*]] = memref.expand_shape %arg3
// SPLIT-DAG:     %[[O:.*]] = memref.collapse_shape %[[OE]] {{.*}} into memref<1x1x8x64xf32>
// SPLIT:         scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}, %[[S:.*]]) = (%c0, %c0, %c0, %c0) to (%c1, %c1, %c1, %c8)
// SPLIT:           arith.muli %[[S]],
// SPLIT:           vector.store {{.*}}, %[[PO]][%[[S]],
// SPLIT:           memref.store {{.*}}, %[[PL]][%[[S]],
// SPLIT:         kv.merge %[[PO]], %[[PL]] : {{.*}} outs(%[[O]], %[[LSE]] :
// The vectorizer alone never splits an op that is not in split form.
// NOSPLIT-LABEL: func @mqa
// NOSPLIT-NOT:   memref<8x1x1x8x64xf32>
// NOSPLIT:       scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c1, %c1)
func.func @mqa(%q: memref<1x8x1x64xf32>, %k: memref<1x1x4096x64xf32>, %v: memref<1x1x4096x64xf32>,
               %o: memref<1x8x1x64xf32>) {
  kv.attention %q, %k, %v : memref<1x8x1x64xf32>, memref<1x1x4096x64xf32>, memref<1x1x4096x64xf32>
      outs(%o : memref<1x8x1x64xf32>)
  return
}

// -----

// Fused append + attention: keys below past_lens[b] come from the cache
// pool, the step's keys from the new-row buffers (row = token - past), and
// each tile stores its share of the new rows into the pool.
// CHECK-LABEL: func @fused
// CHECK:         %[[K:.*]], %[[V:.*]], %[[T:.*]] = kv.cache_view %arg3
// CHECK:         scf.parallel
// CHECK:           %[[PAST0:.*]] = memref.load %arg4[
// CHECK:           %[[PAST:.*]] = arith.index_cast %[[PAST0]]
// CHECK:           arith.minsi %{{.*}}, %[[PAST]]
// CHECK:           scf.for
// CHECK:             vector.load %[[K]]
// CHECK:           arith.maxsi %{{.*}}, %[[PAST]]
// CHECK:           scf.for
// CHECK:             arith.subi %{{.*}}, %[[PAST]]
// CHECK:             vector.load %arg1
// CHECK:           scf.for
// CHECK:             vector.load %arg1{{.*}} : memref<2x2x3x32xf32>, vector<32xf32>
// CHECK:             arith.truncf {{.*}} : vector<32xf32> to vector<32xbf16>
// CHECK:             vector.store {{.*}}, %[[K]]
// CHECK:             vector.load %arg2
// CHECK:             vector.store {{.*}}, %[[V]]
// Unpacked, the four query heads of a KV head each attend to the step's
// rows, and only the first of them writes them into the cache.
// UNPACKED-LABEL: func @fused
// UNPACKED:         scf.parallel (%{{.*}}, %[[H:.*]], %[[T:.*]]) = (%c0, %c0, %c0) to (%c2, %c8, %c1)
// UNPACKED:           %[[R:.*]] = arith.remui %[[H]], %c4
// UNPACKED:           %[[FIRST:.*]] = arith.cmpi eq, %[[R]], %c0
// UNPACKED:           %[[LO:.*]] = arith.muli %[[T]], %c3
// UNPACKED:           %[[END:.*]] = arith.minsi
// UNPACKED:           %[[HI:.*]] = arith.select %[[FIRST]], %[[END]], %[[LO]]
// UNPACKED:           scf.for %{{.*}} = %[[LO]] to %[[HI]]
// UNPACKED:             vector.store {{.*}}, %key_pool
func.func @fused(%q: memref<2x8x3x32xf32>, %k: memref<2x2x3x32xf32>, %v: memref<2x2x3x32xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 32, capacity = 64, layout = #kv.paged<page_size = 16>>,
    %past: memref<2xi32>, %o: memref<2x8x3x32xf32>) {
  kv.append_attention %q, %k, %v, %cache, %past : memref<2x8x3x32xf32>, memref<2x2x3x32xf32>,
      memref<2x2x3x32xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 32, capacity = 64, layout = #kv.paged<page_size = 16>>,
      memref<2xi32> outs(%o : memref<2x8x3x32xf32>) {causal}
  return
}

// -----

// A GQA group of 4 with one query row: 4-row tiles use 4 rows x 4 keys
// register blocks, each K row loaded once for the 4 rows, and one 16-way
// reduction stores four scores per row.
// CHECK-LABEL: func @group4
// CHECK:             scf.for {{.*}} = %c0 to %c32 step %c16 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-4:       vector.load %arg1{{.*}} : memref<1x1x64x32xf32>, vector<16xf32>
// CHECK-NOT:           vector.load %arg1
// CHECK:               scf.yield
// CHECK-COUNT-30:    vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK:             vector.shuffle %[[SUMS:.*]], %[[SUMS]] [0, 1, 2, 3]
// CHECK:             vector.store {{.*}}[%c0, {{.*}}] : memref<4x16xf32>, vector<4xf32>
// CHECK:             vector.shuffle %[[SUMS]], %[[SUMS]] [12, 13, 14, 15]
// CHECK:             vector.store {{.*}}[%c3, {{.*}}] : memref<4x16xf32>, vector<4xf32>
func.func @group4(%q: memref<1x4x1x32xf32>, %k: memref<1x1x64x32xf32>, %v: memref<1x1x64x32xf32>,
                  %o: memref<1x4x1x32xf32>) {
  kv.attention %q, %k, %v : memref<1x4x1x32xf32>, memref<1x1x64x32xf32>, memref<1x1x64x32xf32>
      outs(%o : memref<1x4x1x32xf32>)
  return
}
