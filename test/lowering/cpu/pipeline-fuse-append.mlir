// RUN: kvfuse-opt %s --kv-cpu-pipeline | FileCheck %s
// RUN: kvfuse-opt %s --kv-cpu-pipeline="fuse-append=false" | FileCheck %s --check-prefix=UNFUSED

// With append fusion (the default) the step's new K/V rows are read from the
// step's own buffers (the `k` argument), and each tile stores its share of
// them into the cache; unfused, attention reads every key from the pool.
// The difference shows in the IR as row loads from the new-K buffer inside
// the OpenMP tiles.
// CHECK-LABEL: llvm.func internal @prefill(
// CHECK:         omp.parallel
// CHECK:           llvm.intr.stacksave
// CHECK-COUNT-2:   llvm.load {{.*}} : !llvm.ptr -> vector<16xf32>
// CHECK:           llvm.store {{.*}} : vector<16xf16>, !llvm.ptr
// UNFUSED-LABEL: llvm.func internal @prefill(
// UNFUSED:         llvm.store {{.*}} : f16, !llvm.ptr
// UNFUSED:         omp.parallel
func.func @prefill(%q: tensor<1x4x37x16xf32>, %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x16xf32>,
                   %cache: !kv.cache<f16, heads = 2, head_dim = 16, capacity = 64>,
                   %past: tensor<1xi32> {kv.role = "past_lens"},
                   %lens: tensor<1xi32> {kv.role = "kv_lens"}) -> tensor<1x4x37x16xf32>
    attributes {kv.step_tokens = 37 : i64} {
  kv.append %k, %v, %cache, %past : tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>,
      !kv.cache<f16, heads = 2, head_dim = 16, capacity = 64>, tensor<1xi32>
  %init = tensor.empty() : tensor<1x4x37x16xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<1x4x37x16xf32>,
      !kv.cache<f16, heads = 2, head_dim = 16, capacity = 64>, tensor<1xi32>
      outs(%init : tensor<1x4x37x16xf32>) {causal} -> tensor<1x4x37x16xf32>
  return %o : tensor<1x4x37x16xf32>
}
