// Prefill kernels through MLIR's NVVM pipeline to PTX, assembled by ptxas
// for sm_90 and sm_80: tensor-core mma.sync for f16 and bf16, and no
// register spills or stack frame for D 64, 128 and 256 (f32 too).
// REQUIRES: ptxas, nvptx
// RUN: rm -rf %t && mkdir -p %t
// RUN: kvfuse-opt %s --kv-nvvm-lower-prefill -o %t/gpu.mlir
// RUN: kvfuse-opt %t/gpu.mlir --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90 cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=1" -o %t/sm90.mlir
// RUN: python3 %kvfuse_src/lowering/nvvm/kernels/extract_ptx.py %t/sm90.mlir %t/sm90.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t/sm90.ptx
// RUN: %ptxas -arch=sm_90 -v %t/sm90.ptx -o %t/sm90.cubin 2>&1 | FileCheck %s --check-prefix=SPILLS
// RUN: kvfuse-opt %s --kv-nvvm-lower-prefill="target=sm_80" -o %t/gpu80.mlir
// RUN: kvfuse-opt %t/gpu80.mlir --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_80 cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=1" -o %t/sm80.mlir
// RUN: python3 %kvfuse_src/lowering/nvvm/kernels/extract_ptx.py %t/sm80.mlir %t/sm80.ptx
// RUN: %ptxas -arch=sm_80 -v %t/sm80.ptx -o %t/sm80.cubin 2>&1 | FileCheck %s --check-prefix=SPILLS
// cp.async double buffering: the same, with the copies in the PTX.
// RUN: kvfuse-opt %s --kv-nvvm-lower-prefill="stages=2" -o %t/async.mlir
// RUN: kvfuse-opt %t/async.mlir --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90 cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=1" -o %t/async90.mlir
// RUN: python3 %kvfuse_src/lowering/nvvm/kernels/extract_ptx.py %t/async90.mlir %t/async90.ptx
// RUN: FileCheck %s --check-prefix=ASYNC < %t/async90.ptx
// RUN: %ptxas -arch=sm_90 -v %t/async90.ptx -o %t/async90.cubin 2>&1 | FileCheck %s --check-prefix=SPILLS

// ASYNC-DAG: cp.async.cg.shared.global [{{.*}}], [{{.*}}], 16, {{.*}};
// ASYNC-DAG: cp.async.commit_group;
// ASYNC-DAG: cp.async.wait_group {{.*}}1;

// PTX: .target sm_90
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16
// PTX-DAG: shfl.sync.bfly.b32
// PTX-DAG: ex2.approx.ftz.f32
// PTX-DAG: bar.sync
// PTX-DAG: .shared .align
// No libdevice calls: the kernels need nothing linked in.
// PTX-NOT: __nv_

// Eight kernels, none with a stack frame or spills.
// SPILLS-NOT: {{[1-9][0-9]*}} bytes spill
// SPILLS-COUNT-8: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// SPILLS-NOT: {{[1-9][0-9]*}} bytes spill

func.func @f16_d64(%q: memref<1x32x300x64xf16>, %k: memref<1x8x300x64xf16>, %v: memref<1x8x300x64xf16>, %o: memref<1x32x300x64xf16>) {
  kv.attention %q, %k, %v : memref<1x32x300x64xf16>, memref<1x8x300x64xf16>, memref<1x8x300x64xf16>
      outs(%o : memref<1x32x300x64xf16>) {causal}
  return
}
func.func @f16_d128(%q: memref<2x8x257x128xf16>, %k: memref<2x8x257x128xf16>, %v: memref<2x8x257x128xf16>, %o: memref<2x8x257x128xf16>) {
  kv.attention %q, %k, %v : memref<2x8x257x128xf16>, memref<2x8x257x128xf16>, memref<2x8x257x128xf16>
      outs(%o : memref<2x8x257x128xf16>) {causal, window_left = 100 : i64, softcap = 50.0 : f32}
  return
}
func.func @f16_d256(%q: memref<1x4x100x256xf16>, %k: memref<1x1x100x256xf16>, %v: memref<1x1x100x256xf16>, %lens: memref<1xi32>, %o: memref<1x4x100x256xf16>) {
  kv.attention %q, %k, %v : memref<1x4x100x256xf16>, memref<1x1x100x256xf16>, memref<1x1x100x256xf16>
      kv_lens(%lens : memref<1xi32>) outs(%o : memref<1x4x100x256xf16>) {causal}
  return
}
func.func @bf16_d64(%q: memref<1x8x128x64xbf16>, %k: memref<1x8x128x64xbf16>, %v: memref<1x8x128x64xbf16>, %m: memref<128x128xi1>, %o: memref<1x8x128x64xf32>) {
  kv.attention %q, %k, %v : memref<1x8x128x64xbf16>, memref<1x8x128x64xbf16>, memref<1x8x128x64xbf16>
      mask(%m : memref<128x128xi1>) outs(%o : memref<1x8x128x64xf32>)
  return
}
func.func @bf16_d128(%q: memref<1x32x200x128xbf16>, %k: memref<1x8x200x128xbf16>, %v: memref<1x8x200x128xbf16>, %o: memref<1x32x200x128xbf16>) {
  kv.attention %q, %k, %v : memref<1x32x200x128xbf16>, memref<1x8x200x128xbf16>, memref<1x8x200x128xbf16>
      outs(%o : memref<1x32x200x128xbf16>) {causal}
  return
}
func.func @bf16_d256_partial(%q: memref<1x4x64x256xbf16>, %k: memref<1x4x128x256xbf16>, %v: memref<1x4x128x256xbf16>, %o: memref<1x4x64x256xf32>, %l: memref<1x4x64xf32>) {
  kv.partial_attention %q, %k, %v : memref<1x4x64x256xbf16>, memref<1x4x128x256xbf16>, memref<1x4x128x256xbf16>
      outs(%o, %l : memref<1x4x64x256xf32>, memref<1x4x64xf32>) {kv_start = 128 : i64, causal, causal_offset = 192 : i64}
  return
}
func.func @f32_d128(%q: memref<1x8x100x128xf32>, %k: memref<1x8x100x128xf32>, %v: memref<1x8x100x128xf32>, %o: memref<1x8x100x128xf32>) {
  kv.attention %q, %k, %v : memref<1x8x100x128xf32>, memref<1x8x100x128xf32>, memref<1x8x100x128xf32>
      outs(%o : memref<1x8x100x128xf32>) {causal}
  return
}
func.func @f32_d256(%q: memref<1x2x50x256xf32>, %k: memref<1x2x50x256xf32>, %v: memref<1x2x50x256xf32>, %o: memref<1x2x50x256xf32>) {
  kv.attention %q, %k, %v : memref<1x2x50x256xf32>, memref<1x2x50x256xf32>, memref<1x2x50x256xf32>
      outs(%o : memref<1x2x50x256xf32>)
  return
}
