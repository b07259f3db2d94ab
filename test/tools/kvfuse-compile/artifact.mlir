// kvfuse-compile writes a shared object with one kvfuse_entry_<name> per
// public function and a manifest of their arguments, roles and caches.
// RUN: rm -rf %t.kvf
// RUN: kvfuse-compile %s -o %t.kvf
// RUN: FileCheck %s --input-file=%t.kvf/manifest.txt
// RUN: nm -D --defined-only %t.kvf/model.so | FileCheck %s --check-prefix=SYMS
// RUN: kvfuse-compile %s --emit=llvm | FileCheck %s --check-prefix=LLVM
// RUN: kvfuse-compile %s --emit=mlir | FileCheck %s --check-prefix=MLIR

// CHECK:      kvfuse-manifest 1
// CHECK-NEXT: abi 1
// CHECK-NEXT: library model.so
// CHECK-NEXT: entry step symbol=kvfuse_entry_step args=7 step_tokens=3
// CHECK-NEXT: arg 0 name=q kind=tensor dtype=f32 shape=2x8x3x16 role=input
// CHECK-NEXT: arg 1 name=arg1 kind=tensor dtype=f32 shape=2x2x3x16 role=input
// CHECK-NEXT: arg 2 name=arg2 kind=tensor dtype=f32 shape=2x2x3x8 role=input
// CHECK-NEXT: arg 3 name=cache kind=cache dtype=f16 heads=2 head_dim=16 value_dim=8 capacity=100 layout=paged page_size=16 pages_per_seq=7
// CHECK-NEXT: arg 4 name=past kind=tensor dtype=i32 shape=2 role=past_lens
// CHECK-NEXT: arg 5 name=lens kind=tensor dtype=i32 shape=2 role=kv_lens
// CHECK-NEXT: arg 6 name=out0 kind=tensor dtype=f32 shape=2x8x3x8 role=output
// CHECK-NEXT: end
// CHECK-NEXT: entry plain symbol=kvfuse_entry_plain args=5 step_tokens=0
// CHECK-NEXT: arg 0 name=arg0 kind=tensor dtype=bf16 shape=1x4x5x8 role=input
// CHECK:      arg 3 name=arg3 kind=tensor dtype=i1 shape=5x5 role=input
// CHECK-NEXT: arg 4 name=out0 kind=tensor dtype=bf16 shape=1x4x5x8 role=output
// CHECK-NEXT: end
// CHECK-NOT:  entry helper

// SYMS-DAG: T kvfuse_entry_plain
// SYMS-DAG: T kvfuse_entry_step
// SYMS-NOT: helper

// LLVM: define void @kvfuse_entry_step(ptr
// MLIR: llvm.func @kvfuse_entry_plain(

func.func @step(%q: tensor<2x8x3x16xf32> {kv.name = "q"}, %k: tensor<2x2x3x16xf32>,
                %v: tensor<2x2x3x8xf32>,
                %cache: !kv.cache<f16, heads = 2, head_dim = 16, value_dim = 8, capacity = 100, layout = #kv.paged<page_size = 16>> {kv.name = "cache"},
                %past: tensor<2xi32> {kv.name = "past", kv.role = "past_lens"},
                %lens: tensor<2xi32> {kv.name = "lens", kv.role = "kv_lens"}) -> tensor<2x8x3x8xf32> {
  kv.append %k, %v, %cache, %past : tensor<2x2x3x16xf32>, tensor<2x2x3x8xf32>,
      !kv.cache<f16, heads = 2, head_dim = 16, value_dim = 8, capacity = 100, layout = #kv.paged<page_size = 16>>, tensor<2xi32>
  %init = tensor.empty() : tensor<2x8x3x8xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<2x8x3x16xf32>,
      !kv.cache<f16, heads = 2, head_dim = 16, value_dim = 8, capacity = 100, layout = #kv.paged<page_size = 16>>, tensor<2xi32>
      outs(%init : tensor<2x8x3x8xf32>) {causal} -> tensor<2x8x3x8xf32>
  return %o : tensor<2x8x3x8xf32>
}

func.func @plain(%q: tensor<1x4x5x8xbf16>, %k: tensor<1x4x5x8xbf16>, %v: tensor<1x4x5x8xbf16>,
                 %mask: tensor<5x5xi1>) -> tensor<1x4x5x8xbf16> {
  %init = tensor.empty() : tensor<1x4x5x8xbf16>
  %o = kv.attention %q, %k, %v : tensor<1x4x5x8xbf16>, tensor<1x4x5x8xbf16>, tensor<1x4x5x8xbf16>
      mask(%mask : tensor<5x5xi1>) outs(%init : tensor<1x4x5x8xbf16>) -> tensor<1x4x5x8xbf16>
  return %o : tensor<1x4x5x8xbf16>
}

func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
