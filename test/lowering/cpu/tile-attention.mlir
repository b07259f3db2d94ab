// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-cpu-tile-attention{row-tile=16 key-block=16 score-kernel=dot}))" | FileCheck %s
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-cpu-tile-attention{row-tile=16 key-block=16 score-kernel=dot parallel=false}))" | FileCheck %s --check-prefix=SEQ

// Causal attention of 40 rows, 2 query heads on 1 KV head (not packed):
// tiles of (batch 1, query head 2, 3 blocks of 16 rows) in parallel; each
// tile scales its queries once, sets up its rows' state (acc 0, max -inf,
// sum 0) and visible keys [0, i + 1), and walks key blocks of 16 over the
// union of those ranges only: tile t visits keys [0, 16 t + 16), never the
// blocks above the diagonal. Each block is one kv.attend_block; afterwards
// each row in the query is normalised by its sum.
// CHECK-LABEL: func @causal
// CHECK-DAG:     %[[HALF:.*]] = arith.constant dense<5.000000e-01> : vector<16xf32>
// CHECK-DAG:     %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:         scf.parallel (%[[B:.*]], %[[H:.*]], %[[T:.*]]) = (%c0, %c0, %c0) to (%c1, %c2, %c3)
// CHECK:           %[[KH:.*]] = arith.divui %[[H]], %c2
// CHECK:           %[[ROW0:.*]] = arith.muli %[[T]], %c16
// CHECK:           %[[QS:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK:           %[[ACC:.*]] = memref.alloca() : memref<16x8xf32>
// CHECK:           %[[MAX:.*]] = memref.alloca() : memref<16xf32>
// CHECK:           %[[SUM:.*]] = memref.alloca() : memref<16xf32>
// CHECK:           %[[LO:.*]] = memref.alloca() : memref<16xindex>
// CHECK:           %[[HI:.*]] = memref.alloca() : memref<16xindex>
// CHECK:           %[[RANGE:.*]]:2 = scf.for %[[M:.*]] = %c0 to %c16 step %c1 iter_args
// CHECK:             %[[Q:.*]] = vector.load %arg0[%[[B]], %[[H]], {{.*}}] : memref<1x2x40x16xf32>, vector<16xf32>
// CHECK:             %[[QSCALED:.*]] = arith.mulf %[[Q]], %[[HALF]]
// CHECK:             vector.store %[[QSCALED]], %[[QS]][%[[M]], %c0]
// CHECK:             arith.addi %{{.*}}, %c1 : index
// CHECK:             memref.store %{{.*}}, %[[HI]][%[[M]]]
// CHECK:             memref.store %[[NEGINF]], %[[MAX]][%[[M]]]
// CHECK:             arith.maxsi
// CHECK:           scf.for %[[JB:.*]] = %[[RANGE]]#0 to %[[RANGE]]#1 step %c16 {
// CHECK:             %[[NEXT:.*]] = arith.addi %[[JB]], %c16
// CHECK:             %[[END:.*]] = arith.minsi %[[NEXT]], %[[RANGE]]#1
// CHECK:             %[[LAST:.*]] = arith.subi %[[RANGE]]#1, %c1
// CHECK:             kv.attend_block %[[QS]], %arg1, %arg2 : memref<16x16xf32>, memref<1x1x40x16xf32>, memref<1x1x40x8xf32> at(%[[B]], %[[KH]]) keys(%[[JB]], %[[END]], %[[LAST]]) rows(%[[LO]], %[[HI]] : {{.*}}) tile(%[[H]], %[[ROW0]]) outs(%[[ACC]], %[[MAX]], %[[SUM]] : {{.*}}) {key_block = 16 : i64, num_keys = 40 : i64, packed_heads = 1 : i64, query_length = 40 : i64, rows_per_head = 16 : i64, score_kernel = "dot"}
// CHECK-NEXT:      }
// CHECK:           scf.for
// CHECK:             arith.divf
// CHECK:             vector.store {{.*}}, %arg3[%[[B]], %[[H]], {{.*}}] : memref<1x2x40x8xf32>, vector<8xf32>
// CHECK-NOT:     kv.attention
// Sequentially, each tile is a stack scope of its own.
// SEQ-LABEL: func @causal
// SEQ-NOT:       scf.parallel
// SEQ:           memref.alloca_scope
// SEQ:             kv.attend_block
func.func @causal(%q: memref<1x2x40x16xf32>, %k: memref<1x1x40x16xf32>, %v: memref<1x1x40x8xf32>,
                  %o: memref<1x2x40x8xf32>) {
  kv.attention %q, %k, %v : memref<1x2x40x16xf32>, memref<1x1x40x16xf32>, memref<1x1x40x8xf32>
      outs(%o : memref<1x2x40x8xf32>) {causal, scale = 0.5 : f32}
  return
}

// -----

// A fused append on a paged bf16 cache, 2 packed query heads of 4 rows: the
// cached keys [lo, min(hi, past)) come through the page table, this step's
// keys [max(lo, past), hi) from the op's inputs (row = key - past, rounded
// through bf16 as the cache will store them); then the tile writes its
// share of the new rows into the cache, and packed row g * 4 + i is stored.
// CHECK-LABEL: func @fused
// CHECK:         %[[KP:.*]], %[[VP:.*]], %[[TABLE:.*]] = kv.cache_view %arg3
// CHECK:         scf.parallel (%[[B:.*]], %[[H:.*]], %{{.*}}) = (%c0, %c0, %c0) to (%c1, %c2, %c1)
// CHECK:           %[[PAST0:.*]] = memref.load %arg4[%[[B]]]
// CHECK:           %[[PAST:.*]] = arith.index_cast %[[PAST0]]
// CHECK:           %[[RANGE:.*]]:2 = scf.for
// CHECK:           %[[CACHED:.*]] = arith.minsi %[[RANGE]]#1, %[[PAST]]
// CHECK:           %[[CACHEDHI:.*]] = arith.maxsi %[[CACHED]], %[[RANGE]]#0
// CHECK:           scf.for %{{.*}} = %[[RANGE]]#0 to %[[CACHEDHI]] step %c16
// CHECK:             kv.attend_block %{{.*}}, %[[KP]], %[[VP]] : {{.*}} page_table(%[[TABLE]] : memref<?x4xi32>) at({{.*}}) {{.*}} {key_block = 16 : i64, num_keys = 64 : i64, packed_heads = 2 : i64, page_size = 16 : i64, query_length = 4 : i64, rows_per_head = 4 : i64, score_kernel = "dot", softcap = 3.000000e+01 : f32}
// CHECK:           %[[FRESHLO:.*]] = arith.maxsi %[[RANGE]]#0, %[[PAST]]
// CHECK:           %[[FRESHHI:.*]] = arith.maxsi %[[RANGE]]#1, %[[FRESHLO]]
// CHECK:           scf.for %{{.*}} = %[[FRESHLO]] to %[[FRESHHI]] step %c16
// CHECK:             kv.attend_block %{{.*}}, %arg1, %arg2 : {{.*}} token_base(%[[PAST]]) {{.*}} storage = bf16}
// CHECK:           arith.remui %[[H]], %c2
// CHECK:           scf.for
// CHECK:             vector.store {{.*}}, %[[KP]]
// CHECK:           scf.for
// CHECK:             vector.store {{.*}}, %arg5[%[[B]], %[[H]], {{.*}}] : memref<1x2x8x32xf32>
func.func @fused(%q: memref<1x2x8x32xf32>, %k: memref<1x1x2x32xf32>, %v: memref<1x1x2x32xf32>,
    %cache: !kv.cache<bf16, heads = 1, head_dim = 32, capacity = 64, layout = #kv.paged<page_size = 16>>,
    %past: memref<1xi32>, %o: memref<1x2x8x32xf32>) {
  kv.append_attention %q, %k, %v, %cache, %past : memref<1x2x8x32xf32>, memref<1x1x2x32xf32>, memref<1x1x2x32xf32>,
      !kv.cache<bf16, heads = 1, head_dim = 32, capacity = 64, layout = #kv.paged<page_size = 16>>,
      memref<1xi32> outs(%o : memref<1x2x8x32xf32>) {causal, softcap = 30.0 : f32, packed_heads = 2 : i64}
  return
}

// -----

// Split form: the split index is a fourth parallel dim; split s walks the
// s-th chunk (whole key blocks) of the tile's keys, and the explicit mask
// goes with the block; each split writes its partial output and LSE.
// CHECK-LABEL: func @split
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}, %[[S:.*]]) = (%c0, %c0, %c0, %c0) to (%c1, %c4, %c1, %c2)
// CHECK:           %[[RANGE:.*]]:2 = scf.for
// CHECK:           %[[BLOCKS:.*]] = arith.divui %{{.*}}, %c16
// CHECK:           %[[CHUNK:.*]] = arith.muli %[[BLOCKS]], %c16
// CHECK:           %[[SKIP:.*]] = arith.muli %[[S]], %[[CHUNK]]
// CHECK:           %[[FIRST:.*]] = arith.addi %[[RANGE]]#0, %[[SKIP]]
// CHECK:           %[[LIMIT:.*]] = arith.addi %[[FIRST]], %[[CHUNK]]
// CHECK:           %[[LAST:.*]] = arith.minsi %[[RANGE]]#1, %[[LIMIT]]
// CHECK:           scf.for %{{.*}} = %[[FIRST]] to %[[LAST]] step %c16
// CHECK:             kv.attend_block {{.*}} mask(%arg3 : memref<1x1x1x256xi1>)
// CHECK:           memref.store {{.*}}, %arg5[%[[S]], {{.*}}] : memref<2x1x4x1xf32>
func.func @split(%q: memref<1x4x1x64xf32>, %k: memref<1x1x256x64xf32>, %v: memref<1x1x256x64xf32>,
                 %m: memref<1x1x1x256xi1>, %o: memref<2x1x4x1x64xf32>, %l: memref<2x1x4x1xf32>) {
  kv.partial_attention %q, %k, %v : memref<1x4x1x64xf32>, memref<1x1x256x64xf32>, memref<1x1x256x64xf32>
      mask(%m : memref<1x1x1x256xi1>) outs(%o, %l : memref<2x1x4x1x64xf32>, memref<2x1x4x1xf32>) {kv_start = 100 : i64}
  return
}
