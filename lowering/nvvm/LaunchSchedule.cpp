//===- LaunchSchedule.cpp - a host function as a GPU launch list ----------===//

#include "lowering/nvvm/LaunchSchedule.h"

#include "dialects/kv/KvOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::kv;

namespace {

/// Bytes of a memref of static shape and identity layout, or nullopt.
std::optional<int64_t> denseBytes(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref || !memref.hasStaticShape() || !memref.getLayout().isIdentity())
    return std::nullopt;
  Type element = memref.getElementType();
  if (!element.isIntOrFloat())
    return std::nullopt;
  return memref.getNumElements() *
         std::max<int64_t>(1, element.getIntOrFloatBitWidth() / 8);
}

class ScheduleWriter {
public:
  ScheduleWriter(func::FuncOp host, llvm::raw_ostream &os)
      : host(host), os(os) {}

  LogicalResult run() {
    if (!host.getBody().hasOneBlock())
      return host.emitError()
             << "has control flow on the host; the NVVM back end runs a "
                "straight-line list of launches";
    Block &body = host.getBody().front();
    for (BlockArgument arg : body.getArguments())
      names[arg] = "a" + std::to_string(arg.getArgNumber());
    // Scratch first: the runtime allocates it before the first step.
    int64_t scratch = 0;
    for (auto alloc : body.getOps<memref::AllocOp>()) {
      std::optional<int64_t> bytes = denseBytes(alloc.getType());
      if (!bytes || !alloc.getDynamicSizes().empty())
        return alloc.emitError()
               << "GPU scratch must have a static shape and identity layout, "
                  "got "
               << alloc.getType();
      names[alloc.getResult()] = "s" + std::to_string(scratch);
      os << "scratch " << scratch++ << " bytes=" << *bytes << "\n";
    }
    for (Operation &op : body)
      if (failed(visit(op)))
        return failure();
    return success();
  }

private:
  LogicalResult visit(Operation &op) {
    if (isa<arith::ConstantOp, memref::AllocOp, memref::DeallocOp,
            bufferization::DeallocOp, func::ReturnOp>(op)) {
      if (auto ret = dyn_cast<func::ReturnOp>(op); ret && ret->getNumOperands())
        return ret.emitError() << "returns values; GPU entries write their "
                                  "results into out-parameters";
      return success();
    }
    if (auto view = dyn_cast<CacheViewOp>(op)) {
      auto arg = dyn_cast<BlockArgument>(view.getCache());
      if (!arg)
        return view.emitError() << "views a cache that is not an argument";
      std::string base = names[arg];
      names[view.getKeyPool()] = base + ".keys";
      names[view.getValuePool()] = base + ".values";
      names[view.getPageTable()] = base + ".table";
      return success();
    }
    // Views that keep the address: same buffer, same name.
    if (isa<memref::CastOp, memref::CollapseShapeOp, memref::ExpandShapeOp>(
            op)) {
      auto it = names.find(op.getOperand(0));
      if (it == names.end())
        return op.emitError() << "views a buffer the runtime does not own";
      names[op.getResult(0)] = it->second;
      return success();
    }
    if (auto copy = dyn_cast<memref::CopyOp>(op)) {
      std::optional<int64_t> bytes = denseBytes(copy.getSource().getType());
      auto src = names.find(copy.getSource());
      auto dst = names.find(copy.getTarget());
      if (!bytes || src == names.end() || dst == names.end() ||
          denseBytes(copy.getTarget().getType()) != bytes)
        return copy.emitError()
               << "copies between buffers the runtime cannot name or of "
                  "non-dense layout";
      os << "copy src=" << src->second << " dst=" << dst->second
         << " bytes=" << *bytes << "\n";
      return success();
    }
    if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op))
      return visitLaunch(launch);
    return op.emitError()
           << "'" << op.getName()
           << "' has no NVVM lowering (the GPU back end lowers kv.attention, "
              "kv.partial_attention, kv.cache_attention, kv.append and "
              "kv.append_attention)";
  }

  LogicalResult visitLaunch(gpu::LaunchFuncOp launch) {
    if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
        launch.hasClusterSize())
      return launch.emitError()
             << "is asynchronous or clustered; the runtime runs launches in "
                "order on one stream";
    auto constant = [&](Value v, int64_t &out) {
      APInt value;
      if (!matchPattern(v, m_ConstantInt(&value)))
        return false;
      out = value.getSExtValue();
      return out >= 0;
    };
    int64_t dims[6], smem = 0;
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    Value sizes[6] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
    for (int i = 0; i < 6; ++i)
      if (!constant(sizes[i], dims[i]) || dims[i] == 0)
        return launch.emitError() << "needs constant, positive grid and "
                                     "block sizes";
    if (Value shared = launch.getDynamicSharedMemorySize())
      if (!constant(shared, smem))
        return launch.emitError() << "needs a constant shared memory size";
    os << "launch kernel=" << launch.getKernelName().getValue() << " grid="
       << dims[0] << "x" << dims[1] << "x" << dims[2] << " block=" << dims[3]
       << "x" << dims[4] << "x" << dims[5] << " smem=" << smem;
    if (!launch.getKernelOperands().empty())
      os << " args=";
    for (auto [i, operand] : llvm::enumerate(launch.getKernelOperands())) {
      auto it = names.find(operand);
      if (!isa<MemRefType>(operand.getType()) || it == names.end())
        return launch.emitError()
               << "kernel operand " << i
               << " is not a buffer the runtime owns (an argument, a cache "
                  "pool or table, or static scratch)";
      os << (i ? "," : "") << it->second;
    }
    os << "\n";
    return success();
  }

  func::FuncOp host;
  llvm::raw_ostream &os;
  llvm::DenseMap<Value, std::string> names;
};

} // namespace

LogicalResult mlir::kv::describeLaunchSchedule(func::FuncOp host,
                                               llvm::raw_ostream &os) {
  return ScheduleWriter(host, os).run();
}
