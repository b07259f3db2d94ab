// RUN: kvfuse-opt %s --pass-pipeline="builtin.module(func.func(kv-lower-to-loops{key-block=16}))" -split-input-file | FileCheck %s
// RUN: kvfuse-opt %s --pass-pipeline="builtin.module(func.func(kv-lower-to-loops))" -split-input-file | FileCheck %s --check-prefix=DEFAULT

// Attention: (b, h, i) loops, key range bounded by causal offset and length,
// blocks of key-block scores with one rescale per block, soft-cap then mask.
// CHECK-LABEL: func @attention
// CHECK-DAG:     %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG:     %[[SCORES:.*]] = memref.alloca() : memref<16xf32>
// CHECK-DAG:     %[[ACC:.*]] = memref.alloca() : memref<8xf32>
// CHECK:         scf.for %[[B:.*]] = %c0 to %c1
// CHECK:           scf.for %[[H:.*]] = %c0 to %c4
// CHECK:             %[[KH:.*]] = arith.divui %[[H]], %c2
// CHECK:             scf.for %[[I:.*]] = %c0 to %c3
// CHECK:               %[[POS:.*]] = arith.addi %[[I]], %c2
// CHECK:               %[[END:.*]] = arith.addi %[[POS]], %c1
// CHECK:               arith.minsi %[[END]], %c5
// CHECK:               scf.for {{.*}} step %[[C16]] iter_args
// CHECK:                 scf.for
// CHECK:                   math.fma
// CHECK:                 arith.mulf
// CHECK:                 math.tanh
// CHECK:                 memref.load %arg3[%[[I]], {{.*}}] : memref<3x5xi1>
// CHECK:                 arith.select
// CHECK:                 memref.store {{.*}}, %[[SCORES]]
// CHECK:                 arith.maxnumf
// CHECK:               arith.cmpf oeq
// CHECK:               scf.if
// CHECK:                 math.exp
// CHECK:                 memref.load %arg2[%[[B]], %[[KH]]
// CHECK:               arith.cmpf ogt
// CHECK:               memref.store {{.*}}, %arg4[%[[B]], %[[H]], %[[I]], {{.*}}]
// CHECK-NOT:     kv.attention
// DEFAULT-LABEL: func @attention
// DEFAULT:         memref.alloca() : memref<64xf32>
func.func @attention(%q: memref<1x4x3x8xf32>, %k: memref<1x2x5x8xf32>,
                     %v: memref<1x2x5x8xf32>, %mask: memref<3x5xi1>,
                     %o: memref<1x4x3x8xf32>) {
  kv.attention %q, %k, %v : memref<1x4x3x8xf32>, memref<1x2x5x8xf32>, memref<1x2x5x8xf32>
      mask(%mask : memref<3x5xi1>) outs(%o : memref<1x4x3x8xf32>)
      {softcap = 30.0 : f32, causal, causal_offset = 2 : i64}
  return
}

// -----

// Cache attention reads K/V rows through the page table of kv.cache_view;
// the query position is kv_lens[b] - Sq (bottom-right); f16 is extended.
// CHECK-LABEL: func @cache_attention
// CHECK:         %[[K:.*]], %[[V:.*]], %[[T:.*]] = kv.cache_view %arg1
// CHECK:         scf.for %[[B:.*]] =
// CHECK:           %[[LEN:.*]] = memref.load %arg2[%[[B]]]
// CHECK:           %[[LENI:.*]] = arith.index_cast %[[LEN]]
// CHECK:           arith.subi %[[LENI]], %c2
// CHECK:                 %[[SLOT:.*]] = arith.divui %{{.*}}, %c16
// CHECK:                 %[[WITHIN:.*]] = arith.remui %{{.*}}, %c16
// CHECK:                 %[[PAGE:.*]] = memref.load %[[T]][%[[B]], %[[SLOT]]]
// CHECK:                 %[[PAGEI:.*]] = arith.index_cast %[[PAGE]]
// CHECK:                   memref.load %[[K]][%[[PAGEI]], %{{.*}}, %[[WITHIN]], %{{.*}}] : memref<?x2x16x8xf16>
// CHECK:                   arith.extf
func.func @cache_attention(%q: memref<2x4x2x8xf32>,
    %cache: !kv.cache<f16, heads = 2, head_dim = 8, capacity = 64, layout = #kv.paged<page_size = 16>>,
    %lens: memref<2xi32>, %o: memref<2x4x2x8xf32>) {
  kv.cache_attention %q, %cache, %lens : memref<2x4x2x8xf32>,
      !kv.cache<f16, heads = 2, head_dim = 8, capacity = 64, layout = #kv.paged<page_size = 16>>,
      memref<2xi32> outs(%o : memref<2x4x2x8xf32>) {causal}
  return
}

// -----

// Append writes at past_lens[b] + t, only inside the capacity and the pool,
// converting to the cache's element type.
// CHECK-LABEL: func @append
// CHECK:         kv.cache_view %arg2
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             scf.for %[[T:.*]] =
// CHECK:               %[[POS:.*]] = arith.addi %{{.*}}, %[[T]]
// CHECK-DAG:           arith.cmpi sge, %[[POS]], %c0
// CHECK-DAG:           arith.cmpi slt, %[[POS]], %c32
// CHECK:               scf.if
// CHECK:                 memref.dim
// CHECK:                 scf.if
// CHECK:                   arith.truncf {{.*}} : f32 to bf16
// CHECK:                   memref.store
// CHECK:                   arith.truncf {{.*}} : f32 to bf16
// CHECK:                   memref.store
func.func @append(%k: memref<1x2x3x8xf32>, %v: memref<1x2x3x8xf32>,
    %cache: !kv.cache<bf16, heads = 2, head_dim = 8, capacity = 32>,
    %past: memref<1xi32>) {
  kv.append %k, %v, %cache, %past : memref<1x2x3x8xf32>, memref<1x2x3x8xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 8, capacity = 32>, memref<1xi32>
  return
}

// -----

// Fused append + attention: the append's loops write the new rows through
// the page table, then the attention's loops run over past_lens[b] + S
// keys with query row i at past_lens[b] + S - Sq + i, reading the rows
// through the same cache view.
// CHECK-LABEL: func @append_attention
// CHECK:         %[[K:.*]], %[[V:.*]], %[[T:.*]] = kv.cache_view %arg3
// CHECK-NOT:     kv.cache_view
// CHECK:         scf.for %[[AB:.*]] =
// CHECK:           scf.for
// CHECK:             scf.for %[[AT:.*]] =
// CHECK:               %[[PAST:.*]] = memref.load %arg4[%[[AB]]]
// CHECK:               %[[PASTI:.*]] = arith.index_cast %[[PAST]]
// CHECK:               arith.addi %[[PASTI]], %[[AT]]
// CHECK:                   memref.load %arg1
// CHECK:                   arith.truncf {{.*}} : f32 to f16
// CHECK:                   memref.store {{.*}}, %[[K]]
// CHECK:                   memref.load %arg2
// CHECK:                   arith.truncf {{.*}} : f32 to f16
// CHECK:                   memref.store {{.*}}, %[[V]]
// CHECK-NOT:     kv.cache_view
// CHECK:         scf.for %[[B:.*]] =
// CHECK:           %[[LEN:.*]] = memref.load %arg4[%[[B]]]
// CHECK:           %[[LENI:.*]] = arith.index_cast %[[LEN]]
// CHECK:           %[[TOTAL:.*]] = arith.addi %[[LENI]], %c3
// CHECK:           %[[OFF:.*]] = arith.subi %[[TOTAL]], %c2
// CHECK:               %[[POS:.*]] = arith.addi %{{.*}}, %[[OFF]]
// CHECK:               %[[END:.*]] = arith.addi %[[POS]], %c1
// CHECK:               arith.minsi %[[TOTAL]], %[[END]]
// CHECK:                   memref.load %[[K]]
// CHECK:                   arith.extf
// CHECK:                   memref.load %[[V]]
// CHECK:               memref.store {{.*}}, %arg5
// CHECK-NOT:     kv.append_attention
func.func @append_attention(%q: memref<2x4x2x8xf32>, %k: memref<2x2x3x8xf32>,
    %v: memref<2x2x3x8xf32>,
    %cache: !kv.cache<f16, heads = 2, head_dim = 8, capacity = 64, layout = #kv.paged<page_size = 16>>,
    %past: memref<2xi32>, %o: memref<2x4x2x8xf32>) {
  kv.append_attention %q, %k, %v, %cache, %past
      : memref<2x4x2x8xf32>, memref<2x2x3x8xf32>, memref<2x2x3x8xf32>,
        !kv.cache<f16, heads = 2, head_dim = 8, capacity = 64, layout = #kv.paged<page_size = 16>>,
        memref<2xi32> outs(%o : memref<2x4x2x8xf32>) {causal}
  return
}

// -----

// Partial attention stores its LSE; keys are global from kv_start.
// CHECK-LABEL: func @partial
// CHECK:         scf.for %{{.*}} = %c0 to %c16 step %c16 iter_args
// CHECK:         math.log
// CHECK:         arith.select
// CHECK:         memref.store {{.*}}, %arg4[{{.*}}] : memref<1x2x1xf32>
func.func @partial(%q: memref<1x2x1x8xf32>, %k: memref<1x2x16x8xf32>,
                   %v: memref<1x2x16x8xf32>, %o: memref<1x2x1x8xf32>,
                   %lse: memref<1x2x1xf32>) {
  kv.partial_attention %q, %k, %v : memref<1x2x1x8xf32>, memref<1x2x16x8xf32>, memref<1x2x16x8xf32>
      outs(%o, %lse : memref<1x2x1x8xf32>, memref<1x2x1xf32>) {kv_start = 16 : i64}
  return
}

// -----

// Merge: max of the LSEs, weights exp(lse - max), fully masked rows give 0.
// CHECK-LABEL: func @merge
// CHECK:         scf.for {{.*}} iter_args
// CHECK:           arith.maxnumf
// CHECK:         arith.cmpf one
// CHECK:         math.exp
// CHECK:         math.fma
// CHECK:         math.log
func.func @merge(%parts: memref<3x1x2x1x8xf32>, %lses: memref<3x1x2x1xf32>,
                 %o: memref<1x2x1x8xf32>, %lse: memref<1x2x1xf32>) {
  kv.merge %parts, %lses : memref<3x1x2x1x8xf32>, memref<3x1x2x1xf32>
      outs(%o, %lse : memref<1x2x1x8xf32>, memref<1x2x1xf32>)
  return
}

// -----

// Load gathers a cache into dense buffers; tokens on missing pages read 0.
// CHECK-LABEL: func @load
// CHECK:         kv.cache_view
// CHECK:         scf.if {{.*}} -> (f32)
// CHECK:           memref.load
// CHECK:         } else {
// CHECK:           scf.yield %cst : f32
// CHECK:         memref.store
func.func @load(%cache: !kv.cache<f32, heads = 2, head_dim = 8, capacity = 32>,
                %k: memref<1x2x32x8xf32>, %v: memref<1x2x32x8xf32>) {
  kv.load %cache : !kv.cache<f32, heads = 2, head_dim = 8, capacity = 32>
      outs(%k, %v : memref<1x2x32x8xf32>, memref<1x2x32x8xf32>)
  return
}

// -----

// A strided copy becomes loops (no call into a runtime library).
// CHECK-LABEL: func @copy
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             memref.load
// CHECK:             memref.store
// CHECK-NOT:     memref.copy
func.func @copy(%a: memref<4x8xf32>, %b: memref<4x8xf32, strided<[16, 1]>>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32, strided<[16, 1]>>
  return
}

// -----

// Split form: per row, a loop over the partials, each taking its chunk
// ceil(visible / N) of the row's visible keys and writing its output row
// and log-sum-exp under the split index.
// CHECK-LABEL: func @split_form
// CHECK:         scf.for %[[B:.*]] = %c0 to %c1
// CHECK:           scf.for %[[H:.*]] = %c0 to %c4
// CHECK:             scf.for %[[I:.*]] = %c0 to %c1
// CHECK:               scf.for %[[S:.*]] = %c0 to %c3
// CHECK:                 arith.divui %{{.*}}, %c3
// CHECK:                 arith.muli %[[S]],
// CHECK:                 memref.store {{.*}}, %arg3[%[[S]], %[[B]], %[[H]], %[[I]], %{{.*}}] : memref<3x1x4x1x16xf32>
// CHECK:                 memref.store {{.*}}, %arg4[%[[S]], %[[B]], %[[H]], %[[I]]] : memref<3x1x4x1xf32>
func.func @split_form(%q: memref<1x4x1x16xf32>, %c: !kv.cache<f32, heads = 2, head_dim = 16, capacity = 64>,
                      %lens: memref<1xi32>, %o: memref<3x1x4x1x16xf32>, %l: memref<3x1x4x1xf32>) {
  kv.cache_attention %q, %c, %lens : memref<1x4x1x16xf32>, !kv.cache<f32, heads = 2, head_dim = 16, capacity = 64>, memref<1xi32>
      outs(%o, %l : memref<3x1x4x1x16xf32>, memref<3x1x4x1xf32>)
  return
}

// -----

// Packed query heads (kv-pack-gqa): the loops still run over the 4 query
// heads and 3 rows; head h's row i is read and written at head h / 2, row
// (h mod 2) * 3 + i of the packed Q, O and LSE; the mask and the KV head
// (h / 4) use the unpacked indices.
// CHECK-LABEL: func @packed
// CHECK:         scf.for %[[B:.*]] = %c0 to %c1
// CHECK:           scf.for %[[H:.*]] = %c0 to %c4
// CHECK:             %[[KH:.*]] = arith.divui %[[H]], %c4
// CHECK:             scf.for %[[I:.*]] = %c0 to %c3
// CHECK:               %[[SEG:.*]] = arith.remui %[[H]], %c2
// CHECK:               %[[PH:.*]] = arith.divui %[[H]], %c2
// CHECK:               %[[BASE:.*]] = arith.muli %[[SEG]], %c3
// CHECK:               %[[ROW:.*]] = arith.addi %[[BASE]], %[[I]]
// CHECK:               memref.load %arg0[%[[B]], %[[PH]], %[[ROW]], %{{.*}}] : memref<1x2x6x8xf32>
// CHECK:               memref.load %arg1[%[[B]], %[[KH]], %{{.*}}, %{{.*}}] : memref<1x1x10x8xf32>
// CHECK:               memref.load %arg3[%c0, %[[H]], %[[I]], %{{.*}}] : memref<1x4x3x10xi1>
// CHECK:               memref.store %{{.*}}, %arg4[%[[B]], %[[PH]], %[[ROW]], %{{.*}}] : memref<1x2x6x4xf32>
// CHECK:               memref.store %{{.*}}, %arg5[%[[B]], %[[PH]], %[[ROW]]] : memref<1x2x6xf32>
func.func @packed(%q: memref<1x2x6x8xf32>, %k: memref<1x1x10x8xf32>, %v: memref<1x1x10x4xf32>,
                  %m: memref<1x4x3x10xi1>, %o: memref<1x2x6x4xf32>, %l: memref<1x2x6xf32>) {
  kv.partial_attention %q, %k, %v : memref<1x2x6x8xf32>, memref<1x1x10x8xf32>, memref<1x1x10x4xf32>
      mask(%m : memref<1x4x3x10xi1>) outs(%o, %l : memref<1x2x6x4xf32>, memref<1x2x6xf32>)
      {causal, causal_offset = 7 : i64, packed_heads = 2 : i64}
  return
}
