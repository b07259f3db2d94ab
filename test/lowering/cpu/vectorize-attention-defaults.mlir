// Default tiling on a 2-core target: prefill tiles of 64 query rows (32 or
// 16 when larger tiles would be fewer than twice the cores) with the
// transposed-K score kernel and key blocks twice the L1-sized default;
// decode tiles (one row per head of the group) keep the dot-product kernel. The online softmax masks only blocks that are not
// wholly visible to a row and rescales all rows as one vector.
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-cpu-vectorize-attention{target=cores=2,l1=32768}))" | FileCheck %s
// Explicit options still select the tile and kernel.
// RUN: kvfuse-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(kv-cpu-vectorize-attention{target=cores=2,l1=32768 row-tile=16 transpose-keys=0}))" | FileCheck %s --check-prefix=DOTS

// 2 heads x 128 rows: 4 tiles of 64 rows; 128-key blocks (64 fit L1 at
// D = 64), K blocks transposed into a [64 x 128] scratch.
// CHECK-LABEL: func @prefill
// CHECK:         scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c2, %c2)
// CHECK-DAG:       memref.alloca() : memref<64x64xf32>
// CHECK-DAG:       memref.alloca() : memref<64x128xf32>
// CHECK-DAG:       %[[MAX:.*]] = memref.alloca() : memref<64xf32>
// CHECK:           scf.for {{.*}} step %c128
// CHECK-COUNT-64:    vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK:             vector.broadcast {{.*}} : f32 to vector<16xf32>
// CHECK:             vector.fma
// Per row: whole blocks skip the index compares.
// CHECK:             scf.for {{.*}} = %c0 to %c64 step %c1
// CHECK:               %[[HI:.*]] = arith.cmpi sle
// CHECK:               %[[LO:.*]] = arith.cmpi sle
// CHECK:               %[[WHOLE:.*]] = arith.andi %[[LO]], %[[HI]] : i1
// CHECK:               scf.if %[[WHOLE]] -> (vector<128xf32>)
// CHECK:               } else {
// CHECK:                 arith.cmpi sge, {{.*}} : vector<128xindex>
// CHECK:               vector.reduction <maxnumf>
// CHECK:               math.roundeven {{.*}} : vector<128xf32>
// CHECK:               vector.reduction <add>
// CHECK-NOT:           math.roundeven {{.*}} : f32
// Then the rescale factors of all 64 rows at once.
// CHECK:             vector.load %[[MAX]][%c0] : memref<64xf32>, vector<64xf32>
// CHECK:             math.roundeven {{.*}} : vector<64xf32>
// CHECK:             math.fma {{.*}} : vector<64xf32>
// CHECK:             vector.store {{.*}} : memref<64xf32>, vector<64xf32>
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
// cores), so 16; 64 keys are too few to double the block.
// CHECK-LABEL: func @few
// CHECK:         scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c1, %c4)
// CHECK:           memref.alloca() : memref<16x64xf32>
// CHECK:           memref.alloca() : memref<64x64xf32>
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
// 4-wide tail of each K row to 16 lanes by doubling shuffles.
// CHECK-LABEL: func @narrow
// CHECK:         scf.parallel
// CHECK:           vector.load %arg1{{.*}} : memref<1x2x128x20xf32>, vector<16xf32>
// CHECK:           %[[TAIL:.*]] = vector.load %arg1{{.*}} : memref<1x2x128x20xf32>, vector<4xf32>
// CHECK:           %[[W8:.*]] = vector.shuffle %[[TAIL]], %[[TAIL]] [0, 1, 2, 3, 4, 5, 6, 7] : vector<4xf32>, vector<4xf32>
// CHECK:           vector.shuffle %[[W8]], %[[W8]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<8xf32>, vector<8xf32>
// CHECK:           vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK:           vector.store {{.*}}[%c19, {{.*}}] : memref<20x128xf32>, vector<16xf32>
func.func @narrow(%q: memref<1x2x128x20xf32>, %k: memref<1x2x128x20xf32>, %v: memref<1x2x128x20xf32>,
                  %o: memref<1x2x128x20xf32>) {
  kv.attention %q, %k, %v : memref<1x2x128x20xf32>, memref<1x2x128x20xf32>, memref<1x2x128x20xf32>
      outs(%o : memref<1x2x128x20xf32>) {causal}
  return
}
