//===- SplitKv.cpp - attention in key splits merged by LSE ----------------===//
//
// Flash-decoding as an IR transformation: an attention op becomes its split
// form, N partial (O, LSE) results of disjoint chunks of each row's visible
// keys, followed by the kv.merge that combines them. The chunks are
// independent, so a back end runs them in parallel; the merge is exact
// because partial results are normalised and carry their log-sum-exp.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvAttrs.h"
#include "dialects/kv/KvOps.h"
#include "passes/Passes.h"
#include "passes/SplitKv.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kv {
#define GEN_PASS_DEF_SPLITKVPASS
#include "passes/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

/// The number of partials `op` is to be split into: the option, else its
/// recorded CPU plan's; 1 leaves the op as it is.
int64_t requestedSplits(Operation *op, int64_t option) {
  if (option > 0)
    return option;
  if (auto plan = op->getAttrOfType<CpuTilesAttr>(kCpuTilesAttrName))
    return plan.getSplits();
  return 1;
}

/// Creates the split-form op of `op` with destinations `partOut` and
/// `partLse` (results of those types on tensors, none on memrefs).
Operation *createSplitOp(RewriterBase &rewriter, Operation *op,
                         Value partOut, Value partLse) {
  Location loc = op->getLoc();
  SmallVector<Type> types;
  if (isa<RankedTensorType>(partOut.getType()))
    types = {partOut.getType(), partLse.getType()};
  auto dense = [&](auto attention, IntegerAttr kvStart) -> Operation * {
    return PartialAttentionOp::create(
        rewriter, loc, types, attention.getQuery(), attention.getKey(),
        attention.getValue(), attention.getMask(), attention.getKvLens(),
        attention.getOffsets(), partOut, partLse, attention.getScaleAttr(),
        attention.getSoftcapAttr(), attention.getCausalAttr(),
        attention.getWindowLeftAttr(), attention.getWindowRightAttr(),
        attention.getCausalOffsetAttr(), kvStart,
        attention.getPackedHeadsAttr());
  };
  if (auto attention = dyn_cast<AttentionOp>(op))
    return dense(attention, rewriter.getI64IntegerAttr(0));
  if (auto partial = dyn_cast<PartialAttentionOp>(op))
    return dense(partial, partial.getKvStartAttr());
  if (auto cached = dyn_cast<CacheAttentionOp>(op))
    return CacheAttentionOp::create(
        rewriter, loc, types, cached.getQuery(), cached.getCache(),
        cached.getKvLens(), cached.getMask(), partOut, partLse,
        cached.getScaleAttr(), cached.getSoftcapAttr(), cached.getCausalAttr(),
        cached.getWindowLeftAttr(), cached.getWindowRightAttr(),
        cached.getPackedHeadsAttr());
  auto fused = cast<AppendAttentionOp>(op);
  return AppendAttentionOp::create(
      rewriter, loc, types, fused.getQuery(), fused.getKey(), fused.getValue(),
      fused.getCache(), fused.getPastLens(), fused.getMask(), partOut, partLse,
      fused.getScaleAttr(), fused.getSoftcapAttr(), fused.getCausalAttr(),
      fused.getWindowLeftAttr(), fused.getWindowRightAttr(),
      fused.getPackedHeadsAttr());
}

/// Rewrites `op` into `splits` partials and their merge.
LogicalResult splitKeys(RewriterBase &rewriter, AttentionOpInterface op,
                        int64_t splits) {
  Operation *operation = op.getOperation();
  Location loc = op.getLoc();
  auto outType = cast<ShapedType>(op.getOutputInit().getType());
  if (!outType.hasStaticShape() ||
      !cast<ShapedType>(op.getQuery().getType()).hasStaticShape())
    return success(); // dynamic shapes: left as they are
  bool onTensors = isa<RankedTensorType>(outType);
  Type f32 = rewriter.getF32Type();
  SmallVector<int64_t> rowShape(outType.getShape().take_front(3));
  SmallVector<int64_t> partOutShape(outType.getShape());
  partOutShape.insert(partOutShape.begin(), splits);
  SmallVector<int64_t> partLseShape(rowShape);
  partLseShape.insert(partLseShape.begin(), splits);

  Value lseInit = op.getLseOutputInit();
  int64_t rows = rowShape[0] * rowShape[1] * rowShape[2];
  int64_t bytes = splitKvStackBytes(splits, rows, outType.getShape().back(),
                                    /*lseScratch=*/!lseInit);
  if (!onTensors && bytes > kMaxSplitKvStackBytes)
    return operation->emitOpError()
           << "needs " << bytes << " bytes of stack for " << splits
           << " partial results (at most " << kMaxSplitKvStackBytes
           << "); split it less";

  // Destinations: empty tensors, or stack buffers at the function's entry.
  auto destination = [&](ArrayRef<int64_t> shape) -> Value {
    if (onTensors)
      return tensor::EmptyOp::create(rewriter, loc, shape, f32);
    OpBuilder::InsertionGuard guard(rewriter);
    auto func = operation->getParentOfType<FunctionOpInterface>();
    rewriter.setInsertionPointToStart(&func.getFunctionBody().front());
    return memref::AllocaOp::create(rewriter, loc,
                                    MemRefType::get(shape, f32));
  };
  rewriter.setInsertionPoint(operation);
  Value partOut = destination(partOutShape);
  Value partLse = destination(partLseShape);
  Operation *split = createSplitOp(rewriter, operation, partOut, partLse);
  split->setDiscardableAttrs(operation->getDiscardableAttrDictionary());
  if (auto plan = split->getAttrOfType<CpuTilesAttr>(kCpuTilesAttrName))
    split->setAttr(kCpuTilesAttrName,
                   CpuTilesAttr::get(rewriter.getContext(),
                                     plan.getRowsPerHead(), plan.getKeyBlock(),
                                     splits, plan.getScoreKernel()));

  // The merge writes the op's output, and its log-sum-exp where the op
  // returns one (else a scratch destination).
  Value mergedLse = lseInit ? lseInit : destination(rowShape);
  Value outInit = op.getOutputInit();
  SmallVector<Type> mergeTypes;
  if (onTensors)
    mergeTypes = {outInit.getType(), mergedLse.getType()};
  Value partsOut = onTensors ? split->getResult(0) : partOut;
  Value partsLse = onTensors ? split->getResult(1) : partLse;
  auto merge = MergeOp::create(rewriter, loc, mergeTypes, partsOut, partsLse,
                               outInit, mergedLse);
  if (onTensors)
    rewriter.replaceOp(operation,
                       merge.getResults().take_front(
                           operation->getNumResults()));
  else
    rewriter.eraseOp(operation);
  return success();
}

struct SplitKvPass : kv::impl::SplitKvPassBase<SplitKvPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<std::pair<AttentionOpInterface, int64_t>> work;
    getOperation()->walk([&](AttentionOpInterface op) {
      int64_t n = requestedSplits(op, splits);
      if (n > 1 && op.getNumSplits() == 1)
        work.push_back({op, n});
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, n] : work)
      if (failed(splitKeys(rewriter, op, n)))
        return signalPassFailure();
  }
};
} // namespace
