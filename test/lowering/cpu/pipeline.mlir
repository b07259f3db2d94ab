// RUN: kvfuse-opt %s --kv-cpu-pipeline | FileCheck %s
// RUN: kvfuse-opt %s --kv-cpu-pipeline="key-block=32" | FileCheck %s --check-prefix=BLOCK
// RUN: kvfuse-opt %s --kv-cpu-pipeline="prefetch=false" | FileCheck %s --check-prefix=NOPF
// RUN: kvfuse-compile %s --prefetch=false --emit=mlir | FileCheck %s --check-prefix=NOPF

// The whole CPU pipeline: tensors bufferize in place into the trailing
// out-parameter (no heap allocation per call), kv ops become loops and the
// module is entirely LLVM dialect with one exported entry per function.
// CHECK-NOT:   builtin.unrealized_conversion_cast
// CHECK-NOT:   kv.
// CHECK-NOT:   llvm.call @malloc
// CHECK-NOT:   llvm.call @expf
// CHECK-LABEL: llvm.func @kvfuse_entry_decode(
// CHECK-SAME:    %{{.*}}: !llvm.ptr)
// CHECK:         llvm.call @decode(
// Tiles of (batch, KV head, query rows) run as an OpenMP worksharing loop,
// each with its scratch on the stack, vector FMAs, a libm-free exp and
// prefetches of the cache rows ahead.
// CHECK-LABEL: llvm.func internal @decode(
// CHECK:         omp.parallel
// CHECK:           omp.wsloop
// CHECK:             omp.loop_nest
// CHECK:               llvm.intr.stacksave
// CHECK:               llvm.alloca {{.*}} x f32
// CHECK:               llvm.intr.prefetch
// CHECK:               llvm.intr.fmuladd
// CHECK:               llvm.intr.roundeven({{.*}}) : (vector<{{[0-9]+}}xf32>)
// CHECK:               llvm.intr.stackrestore
// CHECK:         llvm.return
// CHECK-NOT:     @expf
// BLOCK:         llvm.intr.roundeven({{.*}}) : (vector<32xf32>)
// prefetch=false keeps the kernels and drops only the prefetches.
// NOPF-LABEL:    llvm.func internal @decode(
// NOPF-NOT:        llvm.intr.prefetch
// NOPF:            llvm.intr.fmuladd
// NOPF-NOT:        llvm.intr.prefetch
// NOPF:          llvm.return
func.func @decode(%q: tensor<2x8x1x16xf32>, %k: tensor<2x2x1x16xf32>, %v: tensor<2x2x1x16xf32>,
                  %cache: !kv.cache<bf16, heads = 2, head_dim = 16, capacity = 128, layout = #kv.paged<page_size = 16>>,
                  %past: tensor<2xi32> {kv.role = "past_lens"},
                  %lens: tensor<2xi32> {kv.role = "kv_lens"}) -> tensor<2x8x1x16xf32>
    attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %v, %cache, %past : tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 16, capacity = 128, layout = #kv.paged<page_size = 16>>, tensor<2xi32>
  %init = tensor.empty() : tensor<2x8x1x16xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<2x8x1x16xf32>,
      !kv.cache<bf16, heads = 2, head_dim = 16, capacity = 128, layout = #kv.paged<page_size = 16>>, tensor<2xi32>
      outs(%init : tensor<2x8x1x16xf32>) {softcap = 50.0 : f32} -> tensor<2x8x1x16xf32>
  return %o : tensor<2x8x1x16xf32>
}
