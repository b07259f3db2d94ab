//===- KernelModule.h - where the NVVM lowerings put their kernels -*- C++ -*-===//
//
// Every kv op the NVVM back end lowers becomes one or more kernels in a single
// `gpu.module @kvfuse_kernels` (one PTX module per artifact) and
// `gpu.launch_func` ops in the host function. The contract the launch-manifest
// emitter relies on:
//   - grid and block sizes are `arith.constant` index values;
//   - every kernel operand is a memref: a host function argument, a result of
//     `kv.cache_view` (pools, page table) or a `memref.alloc` of static shape
//     (scratch such as split-KV partials); no scalars are passed, shapes and
//     attributes are baked into the kernel;
//   - launches run in program order on one stream.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_NVVM_KERNELMODULE_H
#define KVFUSE_LOWERING_NVVM_KERNELMODULE_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::kv {

/// Name of the gpu.module holding every kernel of an artifact.
inline constexpr llvm::StringLiteral kKernelModuleName = "kvfuse_kernels";

/// Returns the kernel module of `module`, creating it (and marking `module`
/// as a `gpu.container_module`) when absent.
gpu::GPUModuleOp getOrCreateKernelModule(ModuleOp module);

/// Creates an empty kernel `name` (uniqued within the kernel module) taking
/// `argTypes`, with `known_block_size` set to `blockSize`, and returns it with
/// the builder's insertion point unchanged. The body holds only the entry
/// block; the caller fills it and ends it with gpu.return. Shared memory is
/// added by the caller (workgroup attributions or a global in the module).
gpu::GPUFuncOp createKernel(OpBuilder &builder, ModuleOp module,
                            llvm::StringRef name, TypeRange argTypes,
                            ArrayRef<int32_t> blockSize);

/// Emits `gpu.launch_func` of `kernel` at the builder's insertion point with
/// constant grid/block sizes and `operands`.
gpu::LaunchFuncOp launchKernel(OpBuilder &builder, Location loc,
                               gpu::GPUFuncOp kernel,
                               ArrayRef<int64_t> grid,
                               ArrayRef<int32_t> block, ValueRange operands,
                               int64_t dynamicSharedBytes = 0);

} // namespace mlir::kv

#endif // KVFUSE_LOWERING_NVVM_KERNELMODULE_H
