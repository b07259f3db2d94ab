//===- RaiseAttention.cpp - unfused attention to kv.attention -------------===//
//
// Recognises attention written with upstream linalg ops on tensors and
// rewrites it to kv.attention. A match is only made when the rewritten op
// computes the same function (up to floating-point rounding of the scale):
// both contractions accumulate into a zero fill, the softmax normalises over
// the key axis, the scale is a constant applied before the softmax and a
// float mask is added after the scale.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "frontends/raising/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kv {
#define GEN_PASS_DEF_RAISEATTENTIONPASS
#include "frontends/raising/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;

namespace {
/// True when `v` is a tensor filled with +0.0 (the accumulator of a plain
/// contraction).
bool isZeroFill(Value v) {
  auto fill = v.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  APFloat value(0.0f);
  return matchPattern(fill.getInputs()[0], m_ConstantFloat(&value)) &&
         value.isPosZero();
}

bool isF32Rank3(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getRank() == 3 && type.hasStaticShape() &&
         type.getElementType().isF32();
}

/// A plain batched matmul `A[b,m,k] * B[b,k,n]` accumulating into zeros.
linalg::BatchMatmulOp matchPlainBatchMatmul(Value v) {
  auto mm = v.getDefiningOp<linalg::BatchMatmulOp>();
  if (!mm || mm.hasUserDefinedMaps() || mm->getNumResults() != 1 ||
      !isZeroFill(mm.getDpsInits()[0]))
    return nullptr;
  for (Value operand : mm->getOperands())
    if (!isF32Rank3(operand))
      return nullptr;
  return mm;
}

/// An elementwise generic over identity maps with `numInputs` inputs whose
/// body yields one binary arith op of the block arguments / a constant.
/// Returns that op.
Operation *matchElementwise(linalg::GenericOp g, unsigned numInputs) {
  if (!g || g.getNumDpsInputs() != numInputs || g.getNumDpsInits() != 1 ||
      g.getNumParallelLoops() != g.getNumLoops())
    return nullptr;
  for (AffineMap map : g.getIndexingMapsArray())
    if (!map.isIdentity())
      return nullptr;
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 2)
    return nullptr;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *op = yield.getOperand(0).getDefiningOp();
  if (!op || op->getBlock() != &body)
    return nullptr;
  return op;
}

/// `x * c`, `c * x` or `x / c` with a constant `c`: sets `input` and the
/// equivalent multiplier.
bool matchScale(Value v, Value &input, double &scale) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  Operation *op = matchElementwise(g, 1);
  if (!op || !isa<arith::MulFOp, arith::DivFOp>(op))
    return false;
  Value arg = g.getRegion().front().getArgument(0);
  APFloat c(0.0f);
  auto isConst = [&](Value x) { return matchPattern(x, m_ConstantFloat(&c)); };
  if (isa<arith::MulFOp>(op)) {
    if (op->getOperand(0) == arg && isConst(op->getOperand(1))) {
    } else if (op->getOperand(1) == arg && isConst(op->getOperand(0))) {
    } else {
      return false;
    }
    scale = c.convertToDouble();
  } else {
    if (op->getOperand(0) != arg || !isConst(op->getOperand(1)) || c.isZero())
      return false;
    scale = 1.0 / c.convertToDouble();
  }
  if (!std::isfinite(scale))
    return false;
  input = g.getDpsInputs()[0];
  return true;
}

/// `a + b` elementwise: sets both operands.
bool matchAdd(Value v, Value &lhs, Value &rhs) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  Operation *op = matchElementwise(g, 2);
  if (!op || !isa<arith::AddFOp>(op))
    return false;
  Block &body = g.getRegion().front();
  Value a = body.getArgument(0), b = body.getArgument(1);
  if (!((op->getOperand(0) == a && op->getOperand(1) == b) ||
        (op->getOperand(0) == b && op->getOperand(1) == a)))
    return false;
  lhs = g.getDpsInputs()[0];
  rhs = g.getDpsInputs()[1];
  return true;
}

/// `mask ? x : -inf` elementwise with an i1 mask: sets both operands.
bool matchBoolMask(Value v, Value &scores, Value &mask) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  auto select = dyn_cast_or_null<arith::SelectOp>(matchElementwise(g, 2));
  if (!select)
    return false;
  APFloat c(0.0f);
  if (!matchPattern(select.getFalseValue(), m_ConstantFloat(&c)) ||
      !c.isInfinity() || !c.isNegative())
    return false;
  auto cond = dyn_cast<BlockArgument>(select.getCondition());
  auto taken = dyn_cast<BlockArgument>(select.getTrueValue());
  Block &body = g.getRegion().front();
  if (!cond || !taken || cond.getOwner() != &body ||
      taken.getOwner() != &body || cond.getArgNumber() >= 2 ||
      taken.getArgNumber() >= 2 || cond == taken)
    return false;
  mask = g.getDpsInputs()[cond.getArgNumber()];
  scores = g.getDpsInputs()[taken.getArgNumber()];
  return true;
}

/// `c * tanh(x / c)` in one elementwise generic with a constant `c > 0`:
/// sets `input` and the cap.
bool matchSoftcap(Value v, Value &input, double &cap) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  if (!g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getNumParallelLoops() != g.getNumLoops())
    return false;
  for (AffineMap map : g.getIndexingMapsArray())
    if (!map.isIdentity())
      return false;
  Block &body = g.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto mul = yield.getOperand(0).getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  math::TanhOp tanh = mul.getLhs().getDefiningOp<math::TanhOp>();
  Value outer = mul.getRhs();
  if (!tanh) {
    tanh = mul.getRhs().getDefiningOp<math::TanhOp>();
    outer = mul.getLhs();
  }
  if (!tanh)
    return false;
  auto div = tanh.getOperand().getDefiningOp<arith::DivFOp>();
  APFloat outerCap(0.0f), innerCap(0.0f);
  if (!div || div.getLhs() != body.getArgument(0) ||
      !matchPattern(outer, m_ConstantFloat(&outerCap)) ||
      !matchPattern(div.getRhs(), m_ConstantFloat(&innerCap)) ||
      outerCap.compare(innerCap) != APFloat::cmpEqual ||
      !outerCap.isNormal() || outerCap.isNegative())
    return false;
  // The formula and at most two constants.
  if (body.getOperations().size() > 6)
    return false;
  cap = outerCap.convertToDouble();
  input = g.getDpsInputs()[0];
  return true;
}

/// Scores `scale * Q K^T` before the mask: sets Q, K and the scale.
bool matchScores(Value v, Value &query, Value &key, double &scale,
                 std::optional<double> &softcap) {
  scale = 1.0;
  softcap.reset();
  Value capInput;
  double cap;
  if (matchSoftcap(v, capInput, cap)) {
    softcap = cap;
    v = capInput;
  }
  Value unscaled = v;
  Value scaledInput;
  if (matchScale(v, scaledInput, scale))
    unscaled = scaledInput;
  linalg::BatchMatmulOp qk = matchPlainBatchMatmul(unscaled);
  if (!qk)
    return false;
  auto transpose = qk.getDpsInputs()[1].getDefiningOp<linalg::TransposeOp>();
  if (!transpose ||
      transpose.getPermutation() != ArrayRef<int64_t>{0, 2, 1} ||
      !isF32Rank3(transpose.getInput()))
    return false;
  query = qk.getDpsInputs()[0];
  key = transpose.getInput();
  return true;
}

/// The yielded op of a generic over `[N, S, T]` whose input maps are given
/// (`true`: identity, `false`: the row map dropping the last dim) and whose
/// init is `rowInit` shaped (row map) or identity; nullptr otherwise.
Operation *matchRowGeneric(linalg::GenericOp g, ArrayRef<bool> inputIsFull,
                           bool reduces) {
  if (!g || g.getNumDpsInputs() != inputIsFull.size() ||
      g.getNumDpsInits() != 1 || g.getNumLoops() != 3)
    return nullptr;
  MLIRContext *ctx = g.getContext();
  AffineMap full = AffineMap::getMultiDimIdentityMap(3, ctx);
  AffineMap row = AffineMap::get(
      3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  for (auto [i, isFull] : llvm::enumerate(inputIsFull))
    if (maps[i] != (isFull ? full : row))
      return nullptr;
  if (maps.back() != (reduces ? row : full))
    return nullptr;
  auto iters = g.getIteratorTypesArray();
  if (iters[0] != utils::IteratorType::parallel ||
      iters[1] != utils::IteratorType::parallel ||
      iters[2] != (reduces ? utils::IteratorType::reduction
                           : utils::IteratorType::parallel))
    return nullptr;
  Block &body = g.getRegion().front();
  Operation *op = body.getTerminator()->getOperand(0).getDefiningOp();
  if (!op || op->getBlock() != &body)
    return nullptr;
  return op;
}

bool isArg(Value v, linalg::GenericOp g, unsigned i) {
  return v == g.getRegion().front().getArgument(i);
}

/// A row reduction `acc = op(x, acc)` from a fill of a constant: returns x.
template <typename... Ops>
Value matchRowReduce(Value v, llvm::function_ref<bool(APFloat)> initOk) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  Operation *op = matchRowGeneric(g, {true}, /*reduces=*/true);
  if (!op || !isa<Ops...>(op) || op->getNumOperands() != 2)
    return nullptr;
  if (!((isArg(op->getOperand(0), g, 0) && isArg(op->getOperand(1), g, 1)) ||
        (isArg(op->getOperand(0), g, 1) && isArg(op->getOperand(1), g, 0))))
    return nullptr;
  auto fill = g.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  APFloat init(0.0f);
  if (!fill || !matchPattern(fill.getInputs()[0], m_ConstantFloat(&init)) ||
      !initOk(init))
    return nullptr;
  return g.getDpsInputs()[0];
}

/// Softmax over the last axis spelled out: `e = exp(x - max(x))`,
/// `e / sum(e)`. The max subtraction is required: without it the original
/// overflows to inf/NaN where kv.attention does not, so it is left alone.
/// Returns x.
Value matchDecomposedSoftmax(Value v) {
  auto div = v.getDefiningOp<linalg::GenericOp>();
  Operation *divOp = matchRowGeneric(div, {true, false}, false);
  if (!divOp || !isa<arith::DivFOp>(divOp) ||
      !isArg(divOp->getOperand(0), div, 0) ||
      !isArg(divOp->getOperand(1), div, 1))
    return nullptr;
  Value exps = div.getDpsInputs()[0];
  Value summed = matchRowReduce<arith::AddFOp>(
      div.getDpsInputs()[1], [](APFloat c) { return c.isPosZero(); });
  if (summed != exps)
    return nullptr;
  // exp(x - m) in one generic, or a subtraction followed by exp.
  auto expGen = exps.getDefiningOp<linalg::GenericOp>();
  linalg::GenericOp subGen;
  Operation *expOp = matchRowGeneric(expGen, {true, false}, false);
  if (expOp && isa<math::ExpOp>(expOp)) {
    subGen = expGen;
  } else {
    expOp = matchRowGeneric(expGen, {true}, false);
    if (!expOp || !isa<math::ExpOp>(expOp) ||
        !isArg(expOp->getOperand(0), expGen, 0))
      return nullptr;
    subGen = expGen.getDpsInputs()[0].getDefiningOp<linalg::GenericOp>();
    Operation *sub = matchRowGeneric(subGen, {true, false}, false);
    if (!sub || !isa<arith::SubFOp>(sub) ||
        !isArg(sub->getOperand(0), subGen, 0) ||
        !isArg(sub->getOperand(1), subGen, 1))
      return nullptr;
    expOp = nullptr;
  }
  if (expOp) {
    auto sub = expOp->getOperand(0).getDefiningOp<arith::SubFOp>();
    if (!sub || !isArg(sub.getLhs(), subGen, 0) ||
        !isArg(sub.getRhs(), subGen, 1))
      return nullptr;
  }
  Value x = subGen.getDpsInputs()[0];
  Value maxed = matchRowReduce<arith::MaximumFOp, arith::MaxNumFOp>(
      subGen.getDpsInputs()[1],
      [](APFloat c) { return c.isInfinity() && c.isNegative(); });
  if (maxed != x)
    return nullptr;
  return x;
}

/// Grouped-query K/V spelled as `collapse_shape(broadcast(x, dims = [1]))`
/// from `[Hkv, S, D]` to `[Hkv * G, S, D]`: query head `h` reads kv head
/// `h / G`, exactly kv.attention's grouping. Returns `x` and sets `group`.
Value matchRepeatedHeads(Value v, int64_t &group) {
  group = 1;
  auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse)
    return v;
  auto broadcast = collapse.getSrc().getDefiningOp<linalg::BroadcastOp>();
  SmallVector<ReassociationIndices> expected = {{0, 1}, {2}, {3}};
  if (!broadcast || collapse.getReassociationIndices() != expected ||
      broadcast.getDimensions() != ArrayRef<int64_t>{1} ||
      !isF32Rank3(broadcast.getInput()))
    return v;
  group = cast<RankedTensorType>(collapse.getSrc().getType()).getDimSize(1);
  return broadcast.getInput();
}

/// Matches `batch_matmul(softmax(scores [+ mask | select(mask, scores,
/// -inf)], dim 2), V)` rooted at the second contraction. One difference is
/// accepted: a row whose scores are all -inf gives NaN through
/// linalg.softmax (0/0) and 0 through kv.attention.
struct RaiseBatchMatmulAttention : OpRewritePattern<linalg::BatchMatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::BatchMatmulOp pv,
                                PatternRewriter &rewriter) const override {
    if (matchPlainBatchMatmul(pv->getResult(0)) != pv)
      return rewriter.notifyMatchFailure(pv, "not a plain f32 batch_matmul");
    Value logits;
    auto softmax = pv.getDpsInputs()[0].getDefiningOp<linalg::SoftmaxOp>();
    if (softmax && softmax.getDimension() == 2)
      logits = softmax.getInput();
    else
      logits = matchDecomposedSoftmax(pv.getDpsInputs()[0]);
    if (!logits)
      return rewriter.notifyMatchFailure(pv, "not softmax over the key axis");
    Value query, key, mask;
    double scale = 1.0;
    std::optional<double> softcap;
    if (!matchScores(logits, query, key, scale, softcap)) {
      Value lhs, rhs, scores, boolMask;
      if (matchAdd(logits, lhs, rhs)) {
        if (matchScores(lhs, query, key, scale, softcap))
          mask = rhs;
        else if (matchScores(rhs, query, key, scale, softcap))
          mask = lhs;
      } else if (matchBoolMask(logits, scores, boolMask) &&
                 matchScores(scores, query, key, scale, softcap)) {
        mask = boolMask;
      }
      if (!mask)
        return rewriter.notifyMatchFailure(pv, "scores not recognised");
    }
    Value value = pv.getDpsInputs()[1];
    // Undo a head repeat of K and V; both must repeat by the same factor.
    int64_t keyGroup, valueGroup;
    key = matchRepeatedHeads(key, keyGroup);
    value = matchRepeatedHeads(value, valueGroup);
    if (keyGroup != valueGroup)
      return rewriter.notifyMatchFailure(pv, "K and V repeated differently");
    auto qType = cast<RankedTensorType>(query.getType());
    auto kType = cast<RankedTensorType>(key.getType());
    auto vType = cast<RankedTensorType>(value.getType());
    // Heads are folded into the batch: K and V carry one head per group of
    // `keyGroup` query heads.
    if (kType.getDimSize(0) * keyGroup != qType.getDimSize(0) ||
        vType.getDimSize(0) * keyGroup != qType.getDimSize(0) ||
        kType.getDimSize(1) != vType.getDimSize(1))
      return rewriter.notifyMatchFailure(pv, "shapes do not line up");

    Location loc = pv.getLoc();
    SmallVector<ReassociationIndices> reassoc = {{0, 1}, {2}, {3}};
    auto expand = [&](Value v) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      auto wide = RankedTensorType::get(
          {1, type.getDimSize(0), type.getDimSize(1), type.getDimSize(2)},
          type.getElementType());
      return tensor::ExpandShapeOp::create(rewriter, loc, wide, v, reassoc);
    };
    Value q4 = expand(query), k4 = expand(key), v4 = expand(value);
    Value mask4 = mask ? expand(mask) : Value();
    auto outType = RankedTensorType::get(
        {1, qType.getDimSize(0), qType.getDimSize(1), vType.getDimSize(2)},
        rewriter.getF32Type());
    Value init = tensor::EmptyOp::create(rewriter, loc, outType.getShape(),
                                         rewriter.getF32Type());
    auto attention = kv::AttentionOp::create(
        rewriter, loc, TypeRange{outType}, q4, k4, v4, mask4, Value(), Value(),
        init, rewriter.getF32FloatAttr(static_cast<float>(scale)),
        softcap ? rewriter.getF32FloatAttr(static_cast<float>(*softcap))
                : FloatAttr(),
        /*causal=*/false);
    Value out = tensor::CollapseShapeOp::create(
        rewriter, loc, pv->getResult(0).getType(), attention->getResult(0),
        reassoc);
    rewriter.replaceOp(pv, out);
    return success();
  }
};

struct RaiseAttentionPass
    : kv::impl::RaiseAttentionPassBase<RaiseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    kv::populateRaiseAttentionPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mlir::kv::populateRaiseAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseBatchMatmulAttention>(patterns.getContext());
}
