//===- DecomposeCacheAttention.cpp - cache attention on dense tensors -----===//

#include "dialects/kv/KvOps.h"
#include "passes/Passes.h"
#include "passes/Patterns.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kv {
#define GEN_PASS_DEF_DECOMPOSECACHEATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {
struct DecomposeCacheAttention : OpRewritePattern<CacheAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CacheAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto query = dyn_cast<RankedTensorType>(op.getQuery().getType());
    auto lens = dyn_cast<RankedTensorType>(op.getKvLens().getType());
    if (!query || !lens || query.isDynamicDim(0) || query.isDynamicDim(2))
      return rewriter.notifyMatchFailure(op, "expects static tensor shapes");
    Location loc = op.getLoc();
    CacheType cache = op.getCacheType();
    int64_t batch = query.getDimSize(0), sq = op.getQueryLength();
    Type element = query.getElementType();
    auto keyType = RankedTensorType::get(
        {batch, cache.getHeads(), cache.getCapacity(), cache.getHeadDim()},
        element);
    auto valueType = RankedTensorType::get({batch, cache.getHeads(),
                                            cache.getCapacity(),
                                            cache.getValueHeadDim()},
                                           element);
    Value keyInit = tensor::EmptyOp::create(rewriter, loc, keyType.getShape(),
                                            element);
    Value valueInit = tensor::EmptyOp::create(
        rewriter, loc, valueType.getShape(), element);
    auto load = LoadOp::create(rewriter, loc, TypeRange{keyType, valueType},
                               op.getCache(), keyInit, valueInit);

    // offsets[b] = kv_lens[b] - Sq: bottom-right alignment of the queries.
    Value sqConst = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(lens, rewriter.getI32IntegerAttr(
                                                        static_cast<int32_t>(sq))));
    Value offsets =
        arith::SubIOp::create(rewriter, loc, op.getKvLens(), sqConst);

    // With a log-sum-exp destination (also in split form) the op is the
    // partial attention over all the keys.
    if (Value lseInit = op.getLseInit()) {
      auto partial = PartialAttentionOp::create(
          rewriter, loc, op->getResultTypes(), op.getQuery(), load.getResult(0),
          load.getResult(1), op.getMask(), op.getKvLens(), offsets,
          op.getInit(), lseInit, op.getScaleAttr(), op.getSoftcapAttr(),
          op.getCausalAttr(), op.getWindowLeftAttr(), op.getWindowRightAttr(),
          /*causal_offset=*/nullptr,
          /*kv_start=*/nullptr, op.getPackedHeadsAttr());
      rewriter.replaceOp(op, partial.getResults());
      return success();
    }
    auto attention = AttentionOp::create(
        rewriter, loc, TypeRange{op.getInit().getType()}, op.getQuery(),
        load.getResult(0), load.getResult(1), op.getMask(), op.getKvLens(),
        offsets, op.getInit(), op.getScaleAttr(), op.getSoftcapAttr(),
        op.getCausalAttr(), op.getWindowLeftAttr(), op.getWindowRightAttr(),
        /*causal_offset=*/nullptr, op.getPackedHeadsAttr());
    rewriter.replaceOp(op, attention.getResults());
    return success();
  }
};

struct DecomposeCacheAttentionPass
    : kv::impl::DecomposeCacheAttentionPassBase<DecomposeCacheAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateDecomposeCacheAttentionPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mlir::kv::populateDecomposeCacheAttentionPatterns(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeCacheAttention>(patterns.getContext());
}
