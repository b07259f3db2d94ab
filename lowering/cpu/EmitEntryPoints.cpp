//===- EmitEntryPoints.cpp - kvfuse_entry_<name>(void **args) wrappers ----===//
//
// The runtime calls every entry point as `void kvfuse_entry_<name>(void
// **args)` (runtime/include/kvfuse/abi.h): args[i] is the address of a dense
// row-major tensor or of a kvfuse_cache_desc. The wrapper loads each address,
// builds the memref descriptor of a static-shaped argument around it (the
// cast back to a memref cancels once everything is in the LLVM dialect) and
// calls the function, which becomes internal.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::kv {
#define GEN_PASS_DEF_CPUEMITENTRYPOINTSPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

/// Checks that `func` can be called through the entry-point convention.
LogicalResult checkSignature(func::FuncOp func) {
  if (func.getNumResults() != 0)
    return func.emitOpError()
           << "expects no results at an entry point (run "
              "buffer-results-to-out-params first), got "
           << func.getNumResults();
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    if (isa<CacheType>(type))
      continue;
    auto memref = dyn_cast<MemRefType>(type);
    if (!memref || !memref.hasStaticShape() ||
        !memref.getLayout().isIdentity())
      return func.emitOpError()
             << "expects entry-point argument " << i
             << " to be a !kv.cache or a memref of static shape and identity "
                "layout, got "
             << type;
  }
  return success();
}

/// Builds the memref descriptor of a dense row-major buffer at `ptr`.
Value describeBuffer(OpBuilder &b, Location loc, Value ptr, MemRefType type) {
  MLIRContext *ctx = b.getContext();
  auto i64 = IntegerType::get(ctx, 64);
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  int64_t rank = type.getRank();
  SmallVector<Type> fields = {ptrType, ptrType, i64};
  if (rank > 0) {
    fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
    fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
  }
  auto descType = LLVM::LLVMStructType::getLiteral(ctx, fields);
  auto constant = [&](int64_t v) {
    return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
  };
  Value desc = LLVM::PoisonOp::create(b, loc, descType);
  desc = LLVM::InsertValueOp::create(b, loc, desc, ptr, ArrayRef<int64_t>{0});
  desc = LLVM::InsertValueOp::create(b, loc, desc, ptr, ArrayRef<int64_t>{1});
  desc = LLVM::InsertValueOp::create(b, loc, desc, constant(0),
                                     ArrayRef<int64_t>{2});
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    desc = LLVM::InsertValueOp::create(b, loc, desc,
                                       constant(type.getDimSize(d)),
                                       ArrayRef<int64_t>{3, d});
    desc = LLVM::InsertValueOp::create(b, loc, desc, constant(stride),
                                       ArrayRef<int64_t>{4, d});
    stride *= type.getDimSize(d);
  }
  return UnrealizedConversionCastOp::create(b, loc, type, desc).getResult(0);
}

void emitEntryPoint(func::FuncOp func, StringRef prefix) {
  MLIRContext *ctx = func.getContext();
  Location loc = func.getLoc();
  OpBuilder b(func);
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  auto entry = func::FuncOp::create(
      b, loc, (prefix + func.getSymName()).str(),
      b.getFunctionType({ptrType}, {}));
  Block *body = entry.addEntryBlock();
  b.setInsertionPointToStart(body);
  Value args = body->getArgument(0);
  SmallVector<Value> operands;
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    Value slot = LLVM::GEPOp::create(b, loc, ptrType, ptrType, args,
                                     ArrayRef<LLVM::GEPArg>{
                                         static_cast<int32_t>(i)});
    Value address = LLVM::LoadOp::create(b, loc, ptrType, slot);
    if (auto memref = dyn_cast<MemRefType>(type))
      operands.push_back(describeBuffer(b, loc, address, memref));
    else
      operands.push_back(
          UnrealizedConversionCastOp::create(b, loc, type, address)
              .getResult(0));
  }
  func::CallOp::create(b, loc, func, operands);
  func::ReturnOp::create(b, loc);

  // The wrapped function is an implementation detail of the entry point.
  func.setPrivate();
  func->setAttr("llvm.linkage",
                LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
  func.removeArgAttrsAttr();
  func.removeResAttrsAttr();
}

struct CpuEmitEntryPointsPass
    : kv::impl::CpuEmitEntryPointsPassBase<CpuEmitEntryPointsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    SmallVector<func::FuncOp> entries;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (func.isPublic())
        entries.push_back(func);
      else // only entry points are exported from the shared object
        func->setAttr("llvm.linkage",
                      LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
    }
    for (func::FuncOp func : entries) {
      if (failed(checkSignature(func)))
        return signalPassFailure();
      emitEntryPoint(func, "kvfuse_entry_");
    }
  }
};
} // namespace
