// A GPU artifact: the manifest lists each entry's arguments and its launch
// list (append, then split-KV decode and merge, on the cache's pools and page
// table), the kernels are PTX for the chosen chip, and a cubin is assembled
// when ptxas is given. Without ptxas the manifest names no cubin.
// REQUIRES: nvptx
// RUN: rm -rf %t.kvf %t.nocubin.kvf
// RUN: kvfuse-compile %s --target=nvvm:sm_90,sms=4 --splits=3 --ptxas=none -o %t.nocubin.kvf
// RUN: FileCheck %s --input-file=%t.nocubin.kvf/manifest.txt --check-prefixes=MANIFEST,NOCUBIN
// RUN: FileCheck %s --input-file=%t.nocubin.kvf/model.ptx --check-prefix=PTX
// RUN: not test -e %t.nocubin.kvf/model.cubin
// RUN: kvfuse-compile %s --target=nvvm:sm_80 --splits=3 --emit=ptx | FileCheck %s --check-prefix=SM80
// RUN: kvfuse-compile %s --target=nvvm:sm_90 --splits=3 --emit=mlir | FileCheck %s --check-prefix=MLIR

// MANIFEST:      kvfuse-manifest 1
// MANIFEST-NEXT: abi 1
// NOCUBIN-NEXT:  gpu-module model.ptx chip=sm_90{{$}}
// MANIFEST-NEXT: entry decode args=7 step_tokens=1
// MANIFEST-NEXT: arg 0 name=q kind=tensor dtype=f32 shape=2x8x1x64 role=input
// MANIFEST-NEXT: arg 1 name=k kind=tensor dtype=f32 shape=2x2x1x64 role=input
// MANIFEST-NEXT: arg 2 name=v kind=tensor dtype=f32 shape=2x2x1x64 role=input
// MANIFEST-NEXT: arg 3 name=cache kind=cache dtype=f16 heads=2 head_dim=64 value_dim=64 capacity=256 layout=paged page_size=16 pages_per_seq=16
// MANIFEST-NEXT: arg 4 name=past kind=tensor dtype=i32 shape=2 role=past_lens
// MANIFEST-NEXT: arg 5 name=lens kind=tensor dtype=i32 shape=2 role=kv_lens
// MANIFEST-NEXT: arg 6 name=out0 kind=tensor dtype=f32 shape=2x8x1x64 role=output
// Split-KV scratch: partial outputs and their log-sum-exps.
// MANIFEST-NEXT: scratch 0 bytes={{[1-9][0-9]*}}
// MANIFEST-NEXT: scratch 1 bytes={{[1-9][0-9]*}}
// MANIFEST-NEXT: launch kernel=kv_append grid={{[0-9]+x[0-9]+x[0-9]+}} block={{[0-9]+}}x1x1 smem=0 args=a1,a2,a3.keys,a3.values,a3.table,a4
// MANIFEST-NEXT: launch kernel=decode_partial grid={{[2-9]}}x2x2 block={{[0-9]+}}x1x1 smem=0 args=a0,a3.keys,a3.values,a3.table,{{a4|a5}},s0,s1
// MANIFEST-NEXT: launch kernel=decode_merge grid={{[0-9]+x[0-9]+x[0-9]+}} block={{[0-9]+x[0-9]+x[0-9]+}} smem=0 args=s0,s1,a6
// MANIFEST-NEXT: end

// PTX: .target sm_90
// PTX-DAG: .visible .entry kv_append(
// PTX-DAG: .visible .entry decode_partial(
// PTX-DAG: .visible .entry decode_merge(
// SM80: .target sm_80

// MLIR: module attributes {gpu.container_module}
// MLIR: func.func @decode(
// MLIR: gpu.launch_func @kvfuse_kernels::@kv_append
// MLIR: gpu.launch_func @kvfuse_kernels::@decode_partial
// MLIR: gpu.launch_func @kvfuse_kernels::@decode_merge
// MLIR: gpu.module @kvfuse_kernels

!cache = !kv.cache<f16, heads = 2, head_dim = 64, capacity = 256, layout = #kv.paged<page_size = 16>>
func.func @decode(%q: tensor<2x8x1x64xf32> {kv.name = "q"},
                  %k: tensor<2x2x1x64xf32> {kv.name = "k"},
                  %v: tensor<2x2x1x64xf32> {kv.name = "v"},
                  %cache: !cache {kv.name = "cache"},
                  %past: tensor<2xi32> {kv.name = "past", kv.role = "past_lens"},
                  %lens: tensor<2xi32> {kv.name = "lens", kv.role = "kv_lens"})
    -> tensor<2x8x1x64xf32> attributes {kv.step_tokens = 1 : i64} {
  kv.append %k, %v, %cache, %past : tensor<2x2x1x64xf32>, tensor<2x2x1x64xf32>, !cache, tensor<2xi32>
  %init = tensor.empty() : tensor<2x8x1x64xf32>
  %o = kv.cache_attention %q, %cache, %lens : tensor<2x8x1x64xf32>, !cache, tensor<2xi32>
      outs(%init : tensor<2x8x1x64xf32>) {softcap = 30.0 : f32} -> tensor<2x8x1x64xf32>
  return %o : tensor<2x8x1x64xf32>
}
