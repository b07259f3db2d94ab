//===- FuseAppend.cpp - kv.append + kv.cache_attention -> one op ----------===//
//
// A step appends its new K/V rows to a cache and then attends over the
// cache. Where the attention's lengths are provably the append's lengths
// plus the S new rows, and nothing else touches the cache in between, the
// pair becomes one kv.append_attention at the attention's place, so back
// ends can take the new rows straight from the K/V operands.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "passes/Passes.h"
#include "passes/Patterns.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kv {
#define GEN_PASS_DEF_FUSEAPPENDPASS
#include "passes/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

/// The entry-block argument of the function around `op` that `value` is,
/// with its index; std::nullopt when it is anything else.
std::optional<unsigned> functionArgIndex(FunctionOpInterface func,
                                         Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  if (!func || !arg || func.getFunctionBody().empty() ||
      arg.getOwner() != &func.getFunctionBody().front())
    return std::nullopt;
  return arg.getArgNumber();
}

/// The `kv.role` of function argument `value`, or "" when it has none.
StringRef roleOf(FunctionOpInterface func, Value value) {
  std::optional<unsigned> index = functionArgIndex(func, value);
  if (!index)
    return "";
  auto role = func.getArgAttrOfType<StringAttr>(*index, "kv.role");
  return role ? role.getValue() : "";
}

/// Whether `value` is a constant tensor with every element equal to `n`.
bool isSplatOf(Value value, int64_t n) {
  DenseIntElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.isSplat())
    return false;
  return attr.getSplatValue<APInt>().getSExtValue() == n;
}

/// Whether `kvLens[b] == pastLens[b] + tokens` holds for every sequence:
/// `kvLens` is `arith.addi` of `pastLens` and a splat of `tokens`, or the
/// two are the runtime-filled `kv_lens` and `past_lens` arguments of a
/// function whose steps append `tokens` rows (the runtime sets
/// kv_lens = past_lens + kv.step_tokens).
bool provesLengths(FunctionOpInterface func, Value kvLens, Value pastLens,
                   int64_t tokens) {
  if (auto add = kvLens.getDefiningOp<arith::AddIOp>())
    return (add.getLhs() == pastLens && isSplatOf(add.getRhs(), tokens)) ||
           (add.getRhs() == pastLens && isSplatOf(add.getLhs(), tokens));
  if (!func || kvLens.getType() != pastLens.getType() ||
      roleOf(func, kvLens) != "kv_lens" ||
      roleOf(func, pastLens) != "past_lens")
    return false;
  auto step = func->getAttrOfType<IntegerAttr>("kv.step_tokens");
  return step && step.getInt() == tokens;
}

/// Whether cache values `a` and `b` may be the same cache at run time. Two
/// different arguments of an entry point never are: the runtime refuses to
/// bind one cache twice. Anything else (casts, call results, arguments of
/// nested blocks) may be.
bool mayAlias(FunctionOpInterface func, Value a, Value b) {
  if (a == b)
    return true;
  return !(functionArgIndex(func, a) && functionArgIndex(func, b));
}

/// Whether `op` or an op nested in it takes a cache value that may be
/// `cache`. Caches are reachable only through such values, so an op that
/// takes none cannot read or write `cache`.
bool mayTouchCache(FunctionOpInterface func, Operation *op, Value cache) {
  WalkResult result = op->walk([&](Operation *nested) {
    for (Value operand : nested->getOperands())
      if (isa<CacheType>(operand.getType()) &&
          mayAlias(func, operand, cache))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

struct FuseAppendIntoCacheAttention : OpRewritePattern<CacheAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CacheAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1)
      return rewriter.notifyMatchFailure(op, "expects the tensor form");
    auto func = op->getParentOfType<FunctionOpInterface>();
    Value cache = op.getCache();

    // The closest earlier op of the block that may touch the cache must be
    // an append to this very cache value.
    AppendOp append;
    for (Operation *prev = op->getPrevNode(); prev;
         prev = prev->getPrevNode()) {
      if (!mayTouchCache(func, prev, cache))
        continue;
      append = dyn_cast<AppendOp>(prev);
      if (!append || append.getCache() != cache)
        return rewriter.notifyMatchFailure(
            op, "another op touches the cache after the last append");
      break;
    }
    if (!append)
      return rewriter.notifyMatchFailure(
          op, "no append to the cache earlier in the block");
    if (!isa<RankedTensorType>(append.getKey().getType()) ||
        !isa<RankedTensorType>(append.getValue().getType()) ||
        !isa<RankedTensorType>(append.getLens().getType()))
      return rewriter.notifyMatchFailure(append, "expects the tensor form");
    int64_t tokens =
        cast<RankedTensorType>(append.getKey().getType()).getDimSize(2);
    if (ShapedType::isDynamic(tokens))
      return rewriter.notifyMatchFailure(append, "dynamic number of rows");
    if (!provesLengths(func, op.getKvLens(), append.getLens(), tokens))
      return rewriter.notifyMatchFailure(
          op, "cannot prove kv_lens == past_lens + new rows");

    // The append moves down to the attention: nothing in between touches the
    // cache and its tensor operands are values defined before it.
    auto fused = AppendAttentionOp::create(
        rewriter, op.getLoc(), op->getResultTypes(), op.getQuery(),
        append.getKey(), append.getValue(), cache, append.getLens(),
        op.getMask(), op.getInit(), op.getLseInit(), op.getScaleAttr(),
        op.getSoftcapAttr(), op.getCausalAttr(), op.getWindowLeftAttr(),
        op.getWindowRightAttr(), op.getPackedHeadsAttr());
    rewriter.replaceOp(op, fused->getResults());
    rewriter.eraseOp(append);
    return success();
  }
};

struct FuseAppendPass : kv::impl::FuseAppendPassBase<FuseAppendPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseAppendPatterns(patterns);
    // Only the fusion: no folding, constant deduplication or region
    // simplification of the rest of the function.
    GreedyRewriteConfig config;
    config.enableFolding(false).enableConstantCSE(false)
        .setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      signalPassFailure();
  }
};
} // namespace

void mlir::kv::populateFuseAppendPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseAppendIntoCacheAttention>(patterns.getContext());
}
