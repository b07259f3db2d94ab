// The target description: fields override the host's values; bad specs are
// rejected with a message naming the field.
// RUN: kvfuse-opt %s --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-plan-tiles{target=cores=64,l1=32768},kv-split-kv,kv-cpu-tile-attention{target=cores=64,l1=32768},kv-cpu-vectorize-attention))" | FileCheck %s --check-prefix=MANY
// RUN: kvfuse-opt %s --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{target=cores=1,l1=4096},kv-cpu-vectorize-attention))" | FileCheck %s --check-prefix=SMALL
// RUN: not kvfuse-opt %s --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{target=cores=two},kv-cpu-vectorize-attention))" 2>&1 | FileCheck %s --check-prefix=BADVALUE
// RUN: not kvfuse-opt %s --pass-pipeline="builtin.module(func.func(kv-pack-gqa,kv-cpu-tile-attention{target=threads=2},kv-cpu-vectorize-attention))" 2>&1 | FileCheck %s --check-prefix=BADFIELD

// 64 cores and 8 tiles (B 2 x Hkv 4 x 1 row tile): split each tile's 2048
// keys so that tiles x splits >= 2 x cores: 16 splits (also the cap of
// keys / (4 x block), blocks being 32 keys for a 32 KiB L1).
// MANY: scf.parallel ({{.*}}) = (%c0, %c0, %c0, %c0) to (%c2, %c4, %c1, %c16)
// One core and a 4 KiB L1: no splits; blocks of 16 keys (1 KiB K+V rows).
// SMALL: scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c2, %c4, %c1)
// SMALL: scf.for {{.*}} step %c16
// BADVALUE: kv-cpu-tile-attention: expects a positive integer in 'cores=two'
// BADFIELD: kv-cpu-tile-attention: unknown target field 'threads' (expects vector-bits, l1, l2 or cores)
func.func @decode(%q: memref<2x8x1x128xf32>, %k: memref<2x4x2048x128xf32>,
                  %v: memref<2x4x2048x128xf32>, %o: memref<2x8x1x128xf32>) {
  kv.attention %q, %k, %v : memref<2x8x1x128xf32>, memref<2x4x2048x128xf32>, memref<2x4x2048x128xf32>
      outs(%o : memref<2x8x1x128xf32>)
  return
}
