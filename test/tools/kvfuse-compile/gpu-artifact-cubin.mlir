// With ptxas, the GPU artifact also carries a cubin assembled for the chip,
// and the manifest names it.
// REQUIRES: nvptx, ptxas
// RUN: rm -rf %t.kvf
// RUN: kvfuse-compile %S/gpu-artifact.mlir --target=nvvm:sm_90 --ptxas=%ptxas -o %t.kvf
// RUN: FileCheck %s --input-file=%t.kvf/manifest.txt
// RUN: test -s %t.kvf/model.cubin
// RUN: test -s %t.kvf/model.ptx
// CHECK: gpu-module model.ptx chip=sm_90 cubin=model.cubin
// CHECK: launch kernel=decode_partial
