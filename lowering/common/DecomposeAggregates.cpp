//===- DecomposeAggregates.cpp - aggregate linalg ops to generic ops ------===//
//
// Model graphs that keep unfused attention (raising declined, or raising
// turned off) use aggregate ops such as linalg.softmax, which bufferize but
// have no loop lowering. Their own decomposition (max, sub/exp, sum, div as
// linalg.generic on tensors) does.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kv {
#define GEN_PASS_DEF_DECOMPOSEAGGREGATESPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;

namespace {
struct DecomposeAggregate
    : OpInterfaceRewritePattern<linalg::AggregatedOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  LogicalResult matchAndRewrite(linalg::AggregatedOpInterface op,
                                PatternRewriter &rewriter) const override {
    if (!llvm::all_of(op->getOperandTypes(),
                      [](Type t) { return !isa<MemRefType>(t); }))
      return rewriter.notifyMatchFailure(op, "expects tensors");
    FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
    if (failed(values))
      return failure();
    rewriter.replaceOp(op, *values);
    return success();
  }
};

struct DecomposeAggregatesPass
    : kv::impl::DecomposeAggregatesPassBase<DecomposeAggregatesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DecomposeAggregate>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
