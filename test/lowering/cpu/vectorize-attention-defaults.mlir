// Default tiling on a 2-core target: prefill tiles of 64 query rows (32 or
// 16 when larger tiles would be fewer than twice the cores) with the
// query-transposed score kernel and key blocks twice the L1-sized default;
// decode tiles (one row per head of the group) keep the dot-product kernel.
// The online softmax masks only blocks that are not wholly visible to the
// rows and rescales all rows as vectors.
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{target=cores=2,l1=32768},kv-cpu-vectorize-attention))" | FileCheck %s
// Explicit options still select the tile and kernel.
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{target=cores=2,l1=32768 row-tile=16 score-kernel=dot},kv-cpu-vectorize-attention))" | FileCheck %s --check-prefix=DOTS
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{target=cores=2,l1=32768 score-kernel=transposed-keys},kv-cpu-vectorize-attention))" | FileCheck %s --check-prefix=TKEYS
// RUN: not kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{score-kernel=wide},kv-cpu-vectorize-attention))" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: unknown score-kernel 'wide' (expects auto, dot, transposed-keys or transposed-queries)

// 2 heads x 128 rows: 4 tiles of 64 rows; 128-key blocks (64 fit L1 at
// D = 64). The tile's scaled Q [64 x 64] is transposed once (16 16x16
// transposes) into qT [D x rows]; scores are stored transposed, S^T [128
// keys x 64 rows], from 6 keys x 4 row-vectors register blocks of broadcast
// K elements times qT rows (21 blocks of 6 keys and one of 2).
// CHECK-LABEL: func @prefill
// CHECK:         scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c2, %c2)
// CHECK-DAG:       %[[QS:.*]] = memref.alloca() : memref<64x64xf32>
// CHECK-DAG:       %[[ST:.*]] = memref.alloca() : memref<128x64xf32>
// CHECK-DAG:       %[[MAX:.*]] = memref.alloca() : memref<64xf32>
// CHECK-DAG:       %[[LO:.*]] = memref.alloca() : memref<64xindex>
// CHECK:           scf.for {{.*}} = %c0 to %c4 step %c1 {
// CHECK:             scf.for {{.*}} = %c0 to %c4 step %c1 {
// CHECK-COUNT-16:      vector.load %[[QS]]{{.*}} : memref<64x64xf32>, vector<16xf32>
// CHECK-COUNT-64:      vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK-COUNT-16:      vector.store {{.*}} : memref<64x64xf32>, vector<16xf32>
// CHECK:           scf.for {{.*}} step %c128 {
// CHECK:             scf.for {{.*}} = %c0 to %c21 step %c1 {
// CHECK:               scf.for %[[D:.*]] = %c0 to %c64 step %c1 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-4:         vector.load {{.*}}[%[[D]], %c{{[0-9]+}}] : memref<64x64xf32>, vector<16xf32>
// CHECK:                 %[[K:.*]] = memref.load %arg1[{{.*}}, %[[D]]] : memref<1x2x128x64xf32>
// CHECK:                 %[[KB:.*]] = vector.broadcast %[[K]] : f32 to vector<16xf32>
// CHECK-COUNT-4:         vector.fma %[[KB]], {{.*}} : vector<16xf32>
// CHECK:               vector.store {{.*}}, %[[ST]][{{.*}}, %c0] : memref<128x64xf32>, vector<16xf32>
// CHECK:             scf.for {{.*}} = %c0 to %c64 step %c1 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// Softmax per 16 rows (lanes): whole blocks skip the index compares; max,
// exp and sums are vertical over the block's keys, no lane reductions.
// CHECK:             scf.for {{.*}} = %c0 to %c4 step %c1 {
// CHECK:               vector.load %[[LO]][{{.*}}] : memref<64xindex>, vector<16xindex>
// CHECK:               %[[WHOLE:.*]] = vector.reduction <and>, {{.*}} : vector<16xi1> into i1
// CHECK:               scf.if %[[WHOLE]] -> (vector<16xf32>) {
// CHECK:                 scf.for {{.*}} = %c0 to %c128 step %c1 iter_args
// CHECK:                   arith.maxnumf {{.*}} fastmath<nnan> : vector<16xf32>
// CHECK:               } else {
// CHECK:                   arith.cmpi sge, {{.*}} : vector<16xindex>
// CHECK:                   arith.select {{.*}} : vector<16xi1>, vector<16xf32>
// CHECK:               vector.load %[[MAX]][{{.*}}] : memref<64xf32>, vector<16xf32>
// CHECK:               scf.for {{.*}} = %c0 to %c128 step %c1 iter_args
// CHECK:                 math.roundeven {{.*}} : vector<16xf32>
// CHECK:                 vector.store {{.*}}, %[[ST]][{{.*}}] : memref<128x64xf32>, vector<16xf32>
// CHECK:               vector.store {{.*}}, %[[MAX]][{{.*}}] : memref<64xf32>, vector<16xf32>
// CHECK-NOT:           vector.reduction <maxnumf>
// P.V reads the transposed probabilities: P[m, n] at S^T[n, m].
// CHECK:             scf.for %[[J:.*]] = {{.*}} iter_args({{.*}}) -> (vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>)
// CHECK:               %[[N:.*]] = arith.subi %[[J]], {{.*}} : index
// CHECK:               memref.load %[[ST]][%[[N]], %c0] : memref<128x64xf32>
// The transposed-K kernel on request: each 128-key block transposed into a
// [64 x 128] scratch, row-major scores, one row's softmax at a time.
// TKEYS-LABEL: func @prefill
// TKEYS:           memref.alloca() : memref<64x128xf32>
// TKEYS:           scf.for {{.*}} step %c128
// TKEYS-COUNT-64:    vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// TKEYS:             vector.broadcast {{.*}} : f32 to vector<16xf32>
// TKEYS:             vector.fma
// TKEYS:             scf.for {{.*}} = %c0 to %c64 step %c1
// TKEYS:               scf.if {{.*}} -> (vector<128xf32>)
// TKEYS:               vector.reduction <maxnumf>
// TKEYS:             math.roundeven {{.*}} : vector<64xf32>
// DOTS-LABEL: func @prefill
// DOTS:         scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c2, %c8)
// DOTS:           memref.alloca() : memref<16x64xf32>
// DOTS-NOT:       memref.alloca() : memref<64x64xf32>
// DOTS:           vector.store {{.*}} : memref<16x64xf32>, vector<2xf32>
func.func @prefill(%q: memref<1x2x128x64xf32>, %k: memref<1x2x128x64xf32>, %v: memref<1x2x128x64xf32>,
                   %o: memref<1x2x128x64xf32>) {
  kv.attention %q, %k, %v : memref<1x2x128x64xf32>, memref<1x2x128x64xf32>, memref<1x2x128x64xf32>
      outs(%o : memref<1x2x128x64xf32>)
  return
}

// -----

// One head of 64 rows: 64- and 32-row tiles would be 1 and 2 (< 2 x 2
// cores), so 16 (one row-vector); 64 keys are too few to double the block.
// CHECK-LABEL: func @few
// CHECK:         scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c1, %c4)
// CHECK:           memref.alloca() : memref<16x64xf32>
// CHECK:           memref.alloca() : memref<64x16xf32>
// CHECK:           scf.for {{.*}} step %c64
func.func @few(%q: memref<1x1x64x64xf32>, %k: memref<1x1x64x64xf32>, %v: memref<1x1x64x64xf32>,
               %o: memref<1x1x64x64xf32>) {
  kv.attention %q, %k, %v : memref<1x1x64x64xf32>, memref<1x1x64x64xf32>, memref<1x1x64x64xf32>
      outs(%o : memref<1x1x64x64xf32>)
  return
}

// -----

// Decode, GQA group of 4: tiles of 4 rows use the dot-product kernel (no
// transposed scratch); the rescale runs on vector<4xf32>.
// CHECK-LABEL: func @decode
// CHECK:         scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c2, %c2, %c1)
// CHECK-NOT:       memref.alloca() : memref<64x64xf32>
// CHECK:           vector.store {{.*}} : memref<4x64xf32>, vector<4xf32>
// CHECK:           scf.if
// CHECK:           math.fma {{.*}} : vector<4xf32>
func.func @decode(%q: memref<2x8x1x64xf32>, %k: memref<2x2x256x64xf32>, %v: memref<2x2x256x64xf32>,
                  %o: memref<2x8x1x64xf32>) {
  kv.attention %q, %k, %v : memref<2x8x1x64xf32>, memref<2x2x256x64xf32>, memref<2x2x256x64xf32>
      outs(%o : memref<2x8x1x64xf32>)
  return
}

// -----

// A head dim that is not a multiple of 16 (D = 20): the transposes widen the
// 4-wide tail of each row (of Q by default, of K with transposed-keys) to 16
// lanes by doubling shuffles; the broadcast kernel loops over all 20 columns.
// CHECK-LABEL: func @narrow
// CHECK:         scf.parallel
// CHECK:           vector.load {{.*}} : memref<64x20xf32>, vector<16xf32>
// CHECK:           %[[TAIL:.*]] = vector.load {{.*}}[{{.*}}, %c16] : memref<64x20xf32>, vector<4xf32>
// CHECK:           %[[W8:.*]] = vector.shuffle %[[TAIL]], %[[TAIL]] [0, 1, 2, 3, 4, 5, 6, 7] : vector<4xf32>, vector<4xf32>
// CHECK:           vector.shuffle %[[W8]], %[[W8]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<8xf32>, vector<8xf32>
// CHECK:           vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK:           vector.store {{.*}}[{{.*}}, {{.*}}] : memref<20x64xf32>, vector<16xf32>
// CHECK:           scf.for {{.*}} = %c0 to %c20 step %c1 iter_args
// TKEYS-LABEL: func @narrow
// TKEYS:         scf.parallel
// TKEYS:           vector.load %arg1{{.*}} : memref<1x2x128x20xf32>, vector<16xf32>
// TKEYS:           %[[TAIL:.*]] = vector.load %arg1{{.*}} : memref<1x2x128x20xf32>, vector<4xf32>
// TKEYS:           %[[W8:.*]] = vector.shuffle %[[TAIL]], %[[TAIL]] [0, 1, 2, 3, 4, 5, 6, 7] : vector<4xf32>, vector<4xf32>
// TKEYS:           vector.shuffle %[[W8]], %[[W8]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<8xf32>, vector<8xf32>
// TKEYS:           vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// TKEYS:           vector.store {{.*}}[%c19, {{.*}}] : memref<20x128xf32>, vector<16xf32>
func.func @narrow(%q: memref<1x2x128x20xf32>, %k: memref<1x2x128x20xf32>, %v: memref<1x2x128x20xf32>,
                  %o: memref<1x2x128x20xf32>) {
  kv.attention %q, %k, %v : memref<1x2x128x20xf32>, memref<1x2x128x20xf32>, memref<1x2x128x20xf32>
      outs(%o : memref<1x2x128x20xf32>) {causal}
  return
}
