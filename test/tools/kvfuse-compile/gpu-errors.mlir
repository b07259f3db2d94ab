// GPU compilation errors are located and leave no artifact behind: an op no
// NVVM lowering handles, and a malformed target.
// REQUIRES: nvptx
// RUN: rm -rf %t.kvf
// RUN: not kvfuse-compile %s --target=nvvm:sm_90 -o %t.kvf 2>&1 | FileCheck %s
// RUN: not test -e %t.kvf/manifest.txt
// RUN: not kvfuse-compile %s --target=nvvm:gfx90a -o %t.kvf 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not kvfuse-compile %s --target=nvvm:sm_90,warps=4 -o %t.kvf 2>&1 | FileCheck %s --check-prefix=FIELD
// RUN: not kvfuse-compile %s --emit=ptx -o - 2>&1 | FileCheck %s --check-prefix=CPU

// CHECK: gpu-errors.mlir:[[@LINE+5]]:{{[0-9]+}}: error: 'kv.load' has no NVVM lowering
!cache = !kv.cache<f32, heads = 2, head_dim = 16, capacity = 32>
func.func @gather(%cache: !cache) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>) {
  %k0 = tensor.empty() : tensor<1x2x32x16xf32>
  %v0 = tensor.empty() : tensor<1x2x32x16xf32>
  %k, %v = kv.load %cache : !cache outs(%k0, %v0 : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>) -> tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
  return %k, %v : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
}
// CHIP: kvfuse-compile: --target=nvvm:gfx90a: unknown GPU chip 'gfx90a'
// FIELD: unknown GPU target field 'warps'
// CPU: --emit=ptx needs a GPU target
