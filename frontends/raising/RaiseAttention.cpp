//===- RaiseAttention.cpp - unfused attention to kv.attention -------------===//
//
// Recognises attention written with upstream linalg ops on tensors and
// rewrites it to kv.attention. A match is only made when the rewritten op
// computes the same function (up to floating-point rounding of the scale):
// both contractions accumulate into a zero fill, the softmax normalises over
// the key axis, the scale is a constant applied before the softmax and a
// float mask is added after the scale.
//
// The two contractions are read off their indexing maps, so Q K^T may be a
// batch_matmul of a transposed K, a batch_matmul or linalg.contract whose
// maps transpose K, a matmul (one head) or a multiply-add linalg.generic over
// [B, H, S, D] operands. Q, K and V must each be found in [batch..., S, D]
// order at some tensor of their producer chain (Layouts.cpp); the mask may be
// proven causal (CausalMask.cpp). K and V written into static caches with
// tensor.insert_slice at an offset `past` and attended over the whole cache
// with a mask proven to be `j < past + S` (and causal) raise with kv_lens
// (and causal_offset / offsets) instead of the mask.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "frontends/raising/Matchers.h"
#include "frontends/raising/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kv {
#define GEN_PASS_DEF_RAISEATTENTIONPASS
#include "frontends/raising/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv::raising;

namespace {
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

/// True when an operand indexed by `map` in a generic over identity-indexed
/// scores broadcasts the way kv.attention broadcasts its mask: aligned to
/// the trailing dims, each result the matching loop dim, or 0 over a size-1
/// dim (`(d0, d1, d2, d3) -> (0, 0, d2, d3)` on a [1, 1, Sq, Skv] mask).
bool isTrailingBroadcast(AffineMap map, Value operand) {
  auto type = cast<RankedTensorType>(operand.getType());
  unsigned n = map.getNumDims(), r = map.getNumResults();
  if (r == 0 || r > n || type.getRank() != r)
    return false;
  for (unsigned k = 0; k < r; ++k) {
    AffineExpr e = map.getResult(k);
    if (auto d = dyn_cast<AffineDimExpr>(e)) {
      if (d.getPosition() != n - r + k)
        return false;
    } else if (auto c = dyn_cast<AffineConstantExpr>(e)) {
      if (c.getValue() != 0 || type.getDimSize(k) != 1)
        return false;
    } else {
      return false;
    }
  }
  return true;
}

/// A two-input elementwise generic (all parallel, identity init) whose body
/// yields one op of its block arguments / constants; input `i` is
/// identity-indexed when `full[i]`, or else broadcast like a mask. Returns
/// the op.
Operation *matchMaskElementwise(linalg::GenericOp g,
                                std::array<bool, 2> &full) {
  if (!g || g.getNumDpsInputs() != 2 || g.getNumDpsInits() != 1 ||
      g.getNumParallelLoops() != g.getNumLoops())
    return nullptr;
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  if (!maps[2].isIdentity())
    return nullptr;
  for (unsigned i = 0; i < 2; ++i) {
    full[i] = maps[i].isIdentity();
    if (!full[i] && !isTrailingBroadcast(maps[i], g.getDpsInputs()[i]))
      return nullptr;
  }
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 2)
    return nullptr;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *op = yield.getOperand(0).getDefiningOp();
  if (!op || op->getBlock() != &body)
    return nullptr;
  return op;
}

/// `a + b` elementwise: sets both operands and whether each is
/// identity-indexed (the other may be a broadcast mask).
bool matchAdd(Value v, Value &lhs, Value &rhs, std::array<bool, 2> &full,
              std::array<AffineMap, 2> &maps) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  Operation *op = matchMaskElementwise(g, full);
  if (!op || !isa<arith::AddFOp>(op))
    return false;
  Block &body = g.getRegion().front();
  Value a = body.getArgument(0), b = body.getArgument(1);
  if (!((op->getOperand(0) == a && op->getOperand(1) == b) ||
        (op->getOperand(0) == b && op->getOperand(1) == a)))
    return false;
  lhs = g.getDpsInputs()[0];
  rhs = g.getDpsInputs()[1];
  maps = {g.getIndexingMapsArray()[0], g.getIndexingMapsArray()[1]};
  return true;
}

/// `mask ? x : -inf` elementwise with an i1 mask (which may broadcast):
/// sets both operands and the mask's map.
bool matchBoolMask(Value v, Value &scores, Value &mask, AffineMap &maskMap) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  std::array<bool, 2> full;
  auto select =
      dyn_cast_or_null<arith::SelectOp>(matchMaskElementwise(g, full));
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
      taken.getArgNumber() >= 2 || cond == taken || !full[taken.getArgNumber()])
    return false;
  mask = g.getDpsInputs()[cond.getArgNumber()];
  maskMap = g.getIndexingMapsArray()[cond.getArgNumber()];
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
      outerCap.compare(innerCap) != APFloat::cmpEqual || !outerCap.isNormal() ||
      outerCap.isNegative())
    return false;
  // The formula and at most two constants.
  if (body.getOperations().size() > 6)
    return false;
  cap = outerCap.convertToDouble();
  input = g.getDpsInputs()[0];
  return true;
}

/// The scores before the softmax: `[softcap](scale * S) [+ mask |
/// select(mask, ., -inf)]` with `S` a contraction.
struct ScoreChain {
  Contraction qk;
  double scale = 1.0;
  std::optional<double> softcap;
  Value mask;
  /// How the scores' loops index the mask (identity, or a broadcast).
  AffineMap maskMap;
};

/// `[softcap](scale * S)` with `S` a contraction: sets the chain's
/// contraction, scale and soft-cap.
bool matchScores(Value v, ScoreChain &chain) {
  chain.scale = 1.0;
  chain.softcap.reset();
  Value capInput;
  double cap;
  if (matchSoftcap(v, capInput, cap)) {
    chain.softcap = cap;
    v = capInput;
  }
  Value scaledInput;
  if (matchScale(v, scaledInput, chain.scale))
    v = scaledInput;
  std::optional<Contraction> qk = matchContraction(v);
  if (!qk)
    return false;
  chain.qk = *qk;
  return true;
}

std::optional<ScoreChain> matchLogits(Value logits) {
  ScoreChain chain;
  if (matchScores(logits, chain))
    return chain;
  Value lhs, rhs, scores, boolMask;
  std::array<bool, 2> full;
  std::array<AffineMap, 2> maps;
  AffineMap boolMap;
  if (matchAdd(logits, lhs, rhs, full, maps)) {
    if (full[0] && matchScores(lhs, chain)) {
      chain.mask = rhs;
      chain.maskMap = maps[1];
      return chain;
    }
    if (full[1] && matchScores(rhs, chain)) {
      chain.mask = lhs;
      chain.maskMap = maps[0];
      return chain;
    }
  } else if (matchBoolMask(logits, scores, boolMask, boolMap) &&
             matchScores(scores, chain)) {
    chain.mask = boolMask;
    chain.maskMap = boolMap;
    return chain;
  }
  return std::nullopt;
}

/// The yielded op of a generic over `[..., T]` (rank >= 2) whose input maps
/// are given (`true`: identity, `false`: the row map dropping the last dim)
/// and whose init is row shaped (when it reduces the last dim) or identity;
/// nullptr otherwise.
Operation *matchRowGeneric(linalg::GenericOp g, ArrayRef<bool> inputIsFull,
                           bool reduces) {
  if (!g || g.getNumDpsInputs() != static_cast<int64_t>(inputIsFull.size()) ||
      g.getNumDpsInits() != 1 || g.getNumLoops() < 2)
    return nullptr;
  unsigned n = g.getNumLoops();
  MLIRContext *ctx = g.getContext();
  AffineMap full = AffineMap::getMultiDimIdentityMap(n, ctx);
  AffineMap row = full.getMajorSubMap(n - 1);
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  for (auto [i, isFull] : llvm::enumerate(inputIsFull))
    if (maps[i] != (isFull ? full : row))
      return nullptr;
  if (maps.back() != (reduces ? row : full))
    return nullptr;
  auto iters = g.getIteratorTypesArray();
  for (unsigned d = 0; d + 1 < n; ++d)
    if (iters[d] != utils::IteratorType::parallel)
      return nullptr;
  if (iters[n - 1] != (reduces ? utils::IteratorType::reduction
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

/// `1 / x` elementwise: returns x.
Value matchReciprocal(Value v) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  auto div = dyn_cast_or_null<arith::DivFOp>(matchElementwise(g, 1));
  APFloat one(0.0f);
  if (!div || !isArg(div.getRhs(), g, 0) ||
      !matchPattern(div.getLhs(), m_ConstantFloat(&one)) ||
      one.compare(APFloat(one.getSemantics(), 1)) != APFloat::cmpEqual)
    return nullptr;
  return g.getDpsInputs()[0];
}

/// Softmax over the last axis spelled out: `e = exp(x - max(x))`,
/// `e / sum(e)` or `e * (1 / sum(e))` (equal up to rounding: the sum is at
/// least 1). The max subtraction is required: without it the original
/// overflows to inf/NaN where kv.attention does not, so it is left alone.
/// The max may start from -inf or from the lowest finite float (as TOSA
/// lowers it): the two differ only for a row of -inf / NaN, where both give
/// NaN. Returns x.
Value matchDecomposedSoftmax(Value v) {
  auto div = v.getDefiningOp<linalg::GenericOp>();
  Operation *divOp = matchRowGeneric(div, {true, false}, false);
  if (!divOp || divOp->getNumOperands() != 2)
    return nullptr;
  Value exps = div.getDpsInputs()[0], sums;
  if (isa<arith::DivFOp>(divOp) && isArg(divOp->getOperand(0), div, 0) &&
      isArg(divOp->getOperand(1), div, 1)) {
    sums = div.getDpsInputs()[1];
  } else if (isa<arith::MulFOp>(divOp) &&
             ((isArg(divOp->getOperand(0), div, 0) &&
               isArg(divOp->getOperand(1), div, 1)) ||
              (isArg(divOp->getOperand(0), div, 1) &&
               isArg(divOp->getOperand(1), div, 0)))) {
    sums = matchReciprocal(div.getDpsInputs()[1]);
  }
  if (!sums)
    return nullptr;
  Value summed = matchRowReduce<arith::AddFOp>(
      sums, [](APFloat c) { return c.isPosZero(); });
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
      subGen.getDpsInputs()[1], [](APFloat c) {
        return c.isNegative() &&
               (c.isInfinity() || c.bitwiseIsEqual(APFloat::getLargest(
                                      c.getSemantics(), /*Negative=*/true)));
      });
  if (maxed != x)
    return nullptr;
  return x;
}

/// Softmax over the last axis (linalg.softmax or spelled out): returns its
/// input.
Value matchSoftmaxInput(Value p) {
  auto type = dyn_cast<RankedTensorType>(p.getType());
  if (!type)
    return Value();
  auto softmax = p.getDefiningOp<linalg::SoftmaxOp>();
  if (softmax &&
      static_cast<int64_t>(softmax.getDimension()) == type.getRank() - 1)
    return softmax.getInput();
  return matchDecomposedSoftmax(p);
}

/// Reassociation of a rank-`rank` [batch..., S, D] tensor with its [1, .., 4-D]
/// view: the leading unit dims join the first dim.
SmallVector<ReassociationIndices> leadingUnitDims(int64_t rank) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices first;
  for (int64_t d = 0; d <= 4 - rank; ++d)
    first.push_back(d);
  groups.push_back(first);
  for (int64_t d = 5 - rank; d < 4; ++d)
    groups.push_back({d});
  return groups;
}

/// `v` as a 4-D [B, H, S, D] tensor (lower ranks get unit leading dims).
Value to4D(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() == 4)
    return v;
  SmallVector<int64_t> shape(4 - type.getRank(), 1);
  llvm::append_range(shape, type.getShape());
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v,
      leadingUnitDims(type.getRank()));
}

SmallVector<unsigned> concat(ArrayRef<unsigned> batch, unsigned row,
                             unsigned col) {
  SmallVector<unsigned> dims(batch);
  dims.push_back(row);
  dims.push_back(col);
  return dims;
}

/// A cache update `tensor.insert_slice %new into %cache[0.., past, 0]
/// [.., rows, ..] [1, ..]` writing `rows` whole rows of the sequence dim
/// (rank - 2) of a static cache of `capacity` rows.
struct CacheWrite {
  /// The offset as written (a Value, or an attribute for a static offset).
  OpFoldResult past;
  std::optional<int64_t> constPast;
  int64_t rows = 0, capacity = 0;
};

std::optional<CacheWrite> matchCacheWrite(Value v) {
  auto ins = v.getDefiningOp<tensor::InsertSliceOp>();
  if (!ins)
    return std::nullopt;
  RankedTensorType dest = ins.getDestType();
  int64_t r = dest.getRank();
  if (r < 2 || !dest.hasStaticShape() || ins.getSourceType().getRank() != r)
    return std::nullopt;
  SmallVector<OpFoldResult> offsets = ins.getMixedOffsets(),
                            sizes = ins.getMixedSizes(),
                            strides = ins.getMixedStrides();
  CacheWrite w;
  w.capacity = dest.getDimSize(r - 2);
  for (int64_t d = 0; d < r; ++d) {
    std::optional<int64_t> size = getConstantIntValue(sizes[d]);
    std::optional<int64_t> stride = getConstantIntValue(strides[d]);
    if (!size || stride != 1)
      return std::nullopt;
    if (d != r - 2) {
      if (getConstantIntValue(offsets[d]) != 0 || *size != dest.getDimSize(d))
        return std::nullopt;
      continue;
    }
    w.rows = *size;
    w.past = offsets[d];
    w.constPast = getConstantIntValue(offsets[d]);
  }
  // Lengths are i32; a static offset must be in bounds.
  if (w.rows < 1 || w.capacity > std::numeric_limits<int32_t>::max() ||
      (w.constPast && (*w.constPast < 0 || *w.constPast + w.rows > w.capacity)))
    return std::nullopt;
  return w;
}

/// `past * p + i * q + k` over index values, with `i` the query index.
struct Lin {
  int64_t past = 0, i = 0, k = 0;
  bool operator==(const Lin &o) const {
    return past == o.past && i == o.i && k == o.k;
  }
};

/// Reads `v` (index typed, in the body of `g`) as a sum of `past` (the
/// insert offset, defined outside), linalg.index `iDim` and small constants
/// (so that nothing wraps: past and i are at most the cache size).
std::optional<Lin> matchLin(Value v, linalg::GenericOp g, unsigned iDim,
                            Value past, int depth = 0) {
  if (depth > 8 || !v.getType().isIndex())
    return std::nullopt;
  if (v == past)
    return Lin{1, 0, 0};
  if (std::optional<int64_t> c = getConstantIntValue(v)) {
    if (*c < -(int64_t(1) << 32) || *c > (int64_t(1) << 32))
      return std::nullopt;
    return Lin{0, 0, *c};
  }
  if (auto index = v.getDefiningOp<linalg::IndexOp>()) {
    if (index->getParentOp() != g.getOperation() || index.getDim() != iDim)
      return std::nullopt;
    return Lin{0, 1, 0};
  }
  if (auto add = v.getDefiningOp<arith::AddIOp>()) {
    auto a = matchLin(add.getLhs(), g, iDim, past, depth + 1);
    auto b = matchLin(add.getRhs(), g, iDim, past, depth + 1);
    if (!a || !b)
      return std::nullopt;
    return Lin{a->past + b->past, a->i + b->i, a->k + b->k};
  }
  return std::nullopt;
}

/// Reads the i1 `cond` (in the body of `g`) as a conjunction of upper bounds
/// `j <= lin` on the key index (linalg.index `jDim`), compared signed.
bool matchKeyBounds(Value cond, linalg::GenericOp g, unsigned iDim,
                    unsigned jDim, Value past, SmallVector<Lin> &bounds,
                    int depth = 0) {
  if (depth > 8)
    return false;
  if (auto andOp = cond.getDefiningOp<arith::AndIOp>())
    return matchKeyBounds(andOp.getLhs(), g, iDim, jDim, past, bounds,
                          depth + 1) &&
           matchKeyBounds(andOp.getRhs(), g, iDim, jDim, past, bounds,
                          depth + 1);
  auto cmp = cond.getDefiningOp<arith::CmpIOp>();
  if (!cmp || !cmp.getLhs().getType().isIndex())
    return false;
  auto isKey = [&](Value v) {
    auto index = v.getDefiningOp<linalg::IndexOp>();
    return index && index->getParentOp() == g.getOperation() &&
           index.getDim() == jDim;
  };
  using P = arith::CmpIPredicate;
  P pred = cmp.getPredicate();
  Value other;
  int64_t adjust;
  if (isKey(cmp.getLhs()) && (pred == P::slt || pred == P::sle)) {
    other = cmp.getRhs();
    adjust = pred == P::slt ? -1 : 0;
  } else if (isKey(cmp.getRhs()) && (pred == P::sgt || pred == P::sge)) {
    other = cmp.getLhs();
    adjust = pred == P::sgt ? -1 : 0;
  } else {
    return false;
  }
  std::optional<Lin> bound = matchLin(other, g, iDim, past);
  if (!bound)
    return false;
  bound->k += adjust;
  bounds.push_back(*bound);
  return true;
}

/// The visibility a mask proves over a cache written at `past`: keys
/// `j < past + rows` (`kv_lens`), and with `causal` also `j <= past + i`.
struct CacheBound {
  bool causal = false;
};

/// A mask generic (no inputs, identity init it does not read) yielding
/// `cond` (i1) or `select(cond, 0.0, -inf)` (float), with `cond` made of
/// linalg.index of its last two dims compared with `past + rows` (and
/// `past + i` for causal), `past` being the insert offset value itself.
std::optional<CacheBound> matchDynamicCacheMask(Value mask, Value past,
                                                int64_t rows, int64_t sq) {
  auto g = mask.getDefiningOp<linalg::GenericOp>();
  if (!g || g.getNumDpsInputs() != 0 || g.getNumDpsInits() != 1 ||
      g.getNumResults() != 1 || !g.hasPureTensorSemantics() ||
      g.getNumParallelLoops() != g.getNumLoops() || g.getNumLoops() < 2 ||
      !g.getIndexingMapsArray()[0].isIdentity())
    return std::nullopt;
  Block &body = g.getRegion().front();
  if (!body.getArgument(0).use_empty())
    return std::nullopt;
  unsigned n = g.getNumLoops();
  Value yielded = body.getTerminator()->getOperand(0);
  Type element = yielded.getType();
  Value cond;
  if (element.isInteger(1)) {
    cond = yielded;
  } else if (isa<FloatType>(element)) {
    auto select = yielded.getDefiningOp<arith::SelectOp>();
    APFloat keep(0.0f), drop(0.0f);
    if (!select ||
        !matchPattern(select.getTrueValue(), m_ConstantFloat(&keep)) ||
        !matchPattern(select.getFalseValue(), m_ConstantFloat(&drop)) ||
        !keep.isZero() || !drop.isInfinity() || !drop.isNegative())
      return std::nullopt;
    cond = select.getCondition();
  } else {
    return std::nullopt;
  }
  SmallVector<Lin> bounds;
  if (!matchKeyBounds(cond, g, n - 2, n - 1, past, bounds))
    return std::nullopt;
  Lin length{1, 0, rows - 1}, causal{1, 1, 0};
  CacheBound result;
  bool hasLength = false;
  for (const Lin &b : bounds) {
    if (b == length)
      hasLength = true;
    else if (b == causal)
      result.causal = true;
    else
      return std::nullopt;
  }
  // Causal alone implies the length bound when the queries are the rows
  // written (i < rows).
  if (result.causal && sq != rows)
    return std::nullopt;
  if (!hasLength && !result.causal)
    return std::nullopt;
  return result;
}

/// The same two bounds for a static offset, proven by exhaustive evaluation.
std::optional<CacheBound> matchConstantCacheMask(Value mask, int64_t past,
                                                 int64_t rows, int64_t sq) {
  std::optional<SmallVector<int64_t>> visible = provenVisiblePrefixes(mask);
  if (!visible || static_cast<int64_t>(visible->size()) != sq)
    return std::nullopt;
  if (llvm::all_of(*visible, [&](int64_t v) { return v == past + rows; }))
    return CacheBound{false};
  if (sq != rows)
    return std::nullopt;
  for (int64_t i = 0; i < sq; ++i)
    if ((*visible)[i] != past + i + 1)
      return std::nullopt;
  return CacheBound{true};
}

/// Matches `P V` with `P = softmax(scores [+ mask | select(mask, scores,
/// -inf)])` over the key axis and `scores = [softcap](scale * Q K^T)`,
/// rooted at the second contraction, with Q, K, V, the mask and the output in
/// [batch..., S, D] order (up to two batch dims: [H] or [B, H]; none for a
/// single head). One difference is accepted: a row whose scores are all -inf
/// gives NaN through the softmax (0/0) and 0 through kv.attention.
struct RaiseAttentionPattern : OpInterfaceRewritePattern<linalg::LinalgOp> {
  /// `cache` (optional) memoises causal-mask proofs across applications.
  RaiseAttentionPattern(MLIRContext *ctx, CausalMaskCache *cache = nullptr)
      : OpInterfaceRewritePattern(ctx), cache(cache) {}
  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1)
      return failure();
    std::optional<Contraction> pv = matchContraction(op->getResult(0));
    if (!pv)
      return rewriter.notifyMatchFailure(op, "not a plain f32 contraction");
    unsigned p = 0;
    Value logits;
    for (; p < 2 && !logits; ++p)
      logits = matchSoftmaxInput(pv->inputs[p]);
    --p;
    if (!logits)
      return rewriter.notifyMatchFailure(op, "not softmax over the key axis");
    std::optional<ScoreChain> chain = matchLogits(logits);
    if (!chain)
      return rewriter.notifyMatchFailure(op, "scores not recognised");
    const Contraction &qk = chain->qk;

    // Scores [batch..., i, j], the softmax over j: K is the input indexing
    // j, Q the one indexing i, and both contract the remaining dim d.
    int64_t rank = cast<RankedTensorType>(logits.getType()).getRank();
    int64_t numBatch = rank - 2;
    if (numBatch < 0 || numBatch > 2)
      return rewriter.notifyMatchFailure(op, "more than two batch dims");
    AffineMap scoresMap = qk.outMap;
    unsigned iLoop = scoresMap.getDimPosition(rank - 2);
    unsigned jLoop = scoresMap.getDimPosition(rank - 1);
    SmallVector<unsigned> batch;
    for (int64_t a = 0; a < numBatch; ++a)
      batch.push_back(scoresMap.getDimPosition(a));
    unsigned kIdx;
    if (qk.free[0] == jLoop && qk.free[1] == iLoop)
      kIdx = 0;
    else if (qk.free[1] == jLoop && qk.free[0] == iLoop)
      kIdx = 1;
    else
      return rewriter.notifyMatchFailure(op, "scores not [batch, Sq, Skv]");
    unsigned qIdx = 1 - kIdx;
    auto qPerm =
        permutationTo(qk.inputMaps[qIdx], concat(batch, iLoop, qk.reduction));
    auto kPerm =
        permutationTo(qk.inputMaps[kIdx], concat(batch, jLoop, qk.reduction));

    // P V: P's dims [batch..., i, j] are PV's batch dims, its free dim and
    // its reduction, in that order; V is [batch..., j, e] and the output
    // [batch..., i, e].
    AffineMap probsMap = pv->inputMaps[p];
    if (static_cast<int64_t>(pv->batch.size()) != numBatch ||
        probsMap.getNumResults() != rank ||
        probsMap.getDimPosition(rank - 2) != pv->free[p] ||
        probsMap.getDimPosition(rank - 1) != pv->reduction)
      return rewriter.notifyMatchFailure(op, "P V does not contract keys");
    SmallVector<unsigned> pvBatch;
    for (int64_t a = 0; a < numBatch; ++a)
      pvBatch.push_back(probsMap.getDimPosition(a));
    auto vPerm = permutationTo(pv->inputMaps[1 - p],
                               concat(pvBatch, pv->reduction, pv->free[1 - p]));
    auto outPerm = permutationTo(pv->outMap,
                                 concat(pvBatch, pv->free[p], pv->free[1 - p]));
    if (!qPerm || !kPerm || !vPerm || !outPerm)
      return rewriter.notifyMatchFailure(op, "operand dims do not line up");
    if (!View{Value(), {}, *outPerm}.isNatural())
      return rewriter.notifyMatchFailure(op, "output not [batch, Sq, Dv]");

    // Each of Q, K and V must exist somewhere in [batch..., S, D] order.
    auto query = findNaturalLayout(qk.inputs[qIdx], *qPerm);
    auto keyView = findNaturalLayout(qk.inputs[kIdx], *kPerm);
    auto valueView = findNaturalLayout(pv->inputs[1 - p], *vPerm);
    if (!query || !keyView || !valueView)
      return rewriter.notifyMatchFailure(op, "no [batch, S, D] layout");
    // Undo a head repeat of K and V; both must repeat by the same factor.
    int64_t keyGroup, valueGroup;
    View key = unrepeatHeads(*keyView, keyGroup);
    View value = unrepeatHeads(*valueView, valueGroup);
    if (keyGroup != valueGroup)
      return rewriter.notifyMatchFailure(op, "K and V repeated differently");
    SmallVector<int64_t> qs = query->shape(), ks = key.shape(),
                         vs = value.shape();
    bool linedUp = static_cast<int64_t>(qs.size()) == rank &&
                   static_cast<int64_t>(ks.size()) == rank &&
                   static_cast<int64_t>(vs.size()) == rank &&
                   ks[rank - 1] == qs[rank - 1] && vs[rank - 2] == ks[rank - 2];
    for (int64_t a = 0; linedUp && a < numBatch; ++a) {
      // The heads (last batch dim) are grouped; K and V share their heads.
      int64_t group = a == numBatch - 1 ? keyGroup : 1;
      linedUp = ks[a] * group == qs[a] && vs[a] == ks[a];
    }
    if (!linedUp || (numBatch == 0 && keyGroup != 1))
      return rewriter.notifyMatchFailure(op, "shapes do not line up");

    // A mask built in the graph that is exactly causal becomes the
    // attribute (no mask tensor to read). Its last two dims must be the
    // query and key dims themselves, not broadcast.
    std::optional<int64_t> causalOffset;
    unsigned maskRank = chain->mask ? chain->maskMap.getNumResults() : 0;
    bool maskOnScores = maskRank >= 2 &&
                        chain->maskMap.getResult(maskRank - 2) ==
                            rewriter.getAffineDimExpr(rank - 2) &&
                        chain->maskMap.getResult(maskRank - 1) ==
                            rewriter.getAffineDimExpr(rank - 1);
    // K and V written into static caches at the same offset, attended over
    // the whole cache with a mask proven to hide exactly the keys past the
    // write (and the causal future): kv_lens (and offsets / causal_offset).
    std::optional<CacheWrite> write;
    std::optional<CacheBound> cacheBound;
    if (maskOnScores && key.collapse.empty() && value.collapse.empty() &&
        key.isNatural() && value.isNatural()) {
      write = matchCacheWrite(key.base);
      std::optional<CacheWrite> valueWrite = matchCacheWrite(value.base);
      if (write && valueWrite && write->rows == valueWrite->rows &&
          write->capacity == valueWrite->capacity &&
          write->capacity == ks[rank - 2] &&
          (write->constPast ? write->constPast == valueWrite->constPast
                            : write->past == valueWrite->past)) {
        if (write->constPast)
          cacheBound = matchConstantCacheMask(chain->mask, *write->constPast,
                                              write->rows, qs[rank - 2]);
        else
          cacheBound = matchDynamicCacheMask(
              chain->mask, cast<Value>(write->past), write->rows, qs[rank - 2]);
      }
    }
    if (maskOnScores && !cacheBound)
      causalOffset =
          cache ? cache->get(chain->mask) : provenCausalOffset(chain->mask);

    Location loc = op.getLoc();
    Value q4 = to4D(rewriter, loc, materialize(rewriter, loc, *query));
    Value k4 = to4D(rewriter, loc, materialize(rewriter, loc, key));
    Value v4 = to4D(rewriter, loc, materialize(rewriter, loc, value));
    Value mask4 = chain->mask && !causalOffset && !cacheBound
                      ? to4D(rewriter, loc, chain->mask)
                      : Value();
    auto q4Type = cast<RankedTensorType>(q4.getType());
    Value kvLens, offsets;
    if (cacheBound) {
      int64_t batchSize = q4Type.getDimSize(0);
      auto lensType = RankedTensorType::get({batchSize}, rewriter.getI32Type());
      auto fillLens = [&](Value scalar) {
        Value empty = tensor::EmptyOp::create(
            rewriter, loc, lensType.getShape(), rewriter.getI32Type());
        return linalg::FillOp::create(rewriter, loc, scalar, empty)
            .getResult(0);
      };
      if (write->constPast) {
        kvLens = arith::ConstantOp::create(
            rewriter, loc,
            DenseElementsAttr::get(
                lensType, rewriter.getI32IntegerAttr(static_cast<int32_t>(
                              *write->constPast + write->rows))));
        if (cacheBound->causal)
          causalOffset = *write->constPast;
      } else {
        Value past32 = arith::IndexCastOp::create(
            rewriter, loc, rewriter.getI32Type(), cast<Value>(write->past));
        Value rows32 = arith::ConstantOp::create(
            rewriter, loc, rewriter.getI32IntegerAttr(write->rows));
        kvLens = fillLens(arith::AddIOp::create(rewriter, loc, past32, rows32));
        if (cacheBound->causal) {
          offsets = fillLens(past32);
          causalOffset = 0;
        }
      }
    }
    auto outType =
        RankedTensorType::get({q4Type.getDimSize(0), q4Type.getDimSize(1),
                               q4Type.getDimSize(2), vs.back()},
                              rewriter.getF32Type());
    Value init = tensor::EmptyOp::create(rewriter, loc, outType.getShape(),
                                         rewriter.getF32Type());
    auto attention = kv::AttentionOp::create(
        rewriter, loc, TypeRange{outType}, q4, k4, v4, mask4, kvLens, offsets,
        init, rewriter.getF32FloatAttr(static_cast<float>(chain->scale)),
        chain->softcap
            ? rewriter.getF32FloatAttr(static_cast<float>(*chain->softcap))
            : FloatAttr(),
        /*causal=*/causalOffset.has_value(), /*window_left=*/-1,
        /*window_right=*/-1, static_cast<uint64_t>(causalOffset.value_or(0)));
    Value out = attention->getResult(0);
    if (rank < 4)
      out = tensor::CollapseShapeOp::create(rewriter, loc,
                                            op->getResult(0).getType(), out,
                                            leadingUnitDims(rank));
    rewriter.replaceOp(op, out);
    return success();
  }

private:
  CausalMaskCache *cache;
};

struct RaiseAttentionPass
    : kv::impl::RaiseAttentionPassBase<RaiseAttentionPass> {
  void runOnOperation() override {
    CausalMaskCache cache;
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseAttentionPattern>(&getContext(), &cache);
    GreedyRewriteConfig config;
    config.setListener(&cache);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};
} // namespace

void mlir::kv::populateRaiseAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseAttentionPattern>(patterns.getContext());
}
