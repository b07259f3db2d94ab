//===- KernelModule.cpp - the artifact's one kernel module ----------------===//

#include "lowering/nvvm/KernelModule.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::kv;

gpu::GPUModuleOp mlir::kv::getOrCreateKernelModule(ModuleOp module) {
  if (auto existing = module.lookupSymbol<gpu::GPUModuleOp>(kKernelModuleName))
    return existing;
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(module.getContext()));
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  return gpu::GPUModuleOp::create(builder, module.getLoc(), kKernelModuleName);
}

gpu::GPUFuncOp mlir::kv::createKernel(OpBuilder &builder, ModuleOp module,
                                      llvm::StringRef name, TypeRange argTypes,
                                      ArrayRef<int32_t> blockSize) {
  gpu::GPUModuleOp kernels = getOrCreateKernelModule(module);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(kernels.getBody());
  auto type = builder.getFunctionType(argTypes, {});
  auto kernel = gpu::GPUFuncOp::create(builder, module.getLoc(), name, type);
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                  builder.getUnitAttr());
  kernel.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(blockSize));
  SymbolTable(kernels).insert(kernel);
  return kernel;
}

gpu::LaunchFuncOp mlir::kv::launchKernel(OpBuilder &builder, Location loc,
                                         gpu::GPUFuncOp kernel,
                                         ArrayRef<int64_t> grid,
                                         ArrayRef<int32_t> block,
                                         ValueRange operands,
                                         int64_t dynamicSharedBytes) {
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(builder, loc, v);
  };
  gpu::KernelDim3 gridSize{index(grid[0]), index(grid[1]), index(grid[2])};
  gpu::KernelDim3 blockSize{index(block[0]), index(block[1]), index(block[2])};
  Value shared;
  if (dynamicSharedBytes)
    shared = arith::ConstantIntOp::create(builder, loc, dynamicSharedBytes, 32);
  return gpu::LaunchFuncOp::create(builder, loc, kernel, gridSize, blockSize,
                                   shared, operands);
}
