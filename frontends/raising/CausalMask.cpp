//===- CausalMask.cpp - Proving a mask built in the graph is causal -------===//
//
// A mask computed from constants (a dense constant, or linalg.index compared
// in a linalg.generic, possibly broadcast, reshaped or sliced) is evaluated
// element by element with the exact semantics of the ops involved (APInt
// wrap-around integers, IEEE APFloat), over its whole static shape. When
// every row keeps exactly the keys `j <= i + c` for one constant `c` in every
// batch entry, the mask is the causal mask with offset `c`: exhaustive
// evaluation over a finite domain is a proof, not a heuristic. Anything the
// evaluator does not know (a runtime value, an unknown op) gives up.
//
//===----------------------------------------------------------------------===//

#include "frontends/raising/Matchers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

namespace {
/// An integer (any width, index as 64 bits) or a float value.
struct Scalar {
  bool isFloat = false;
  APInt i;
  APFloat f{0.0f};
};

Scalar makeInt(APInt v) {
  Scalar s;
  s.i = std::move(v);
  return s;
}
Scalar makeFloat(APFloat v) {
  Scalar s;
  s.isFloat = true;
  s.f = std::move(v);
  return s;
}

unsigned intWidth(Type t) {
  if (t.isIndex())
    return 64;
  if (auto i = dyn_cast<IntegerType>(t))
    return i.getWidth();
  return 0;
}

/// Element-wise evaluator of tensors built from constants. Each query
/// evaluates one element; a step budget bounds the total work.
class Evaluator {
public:
  std::optional<Scalar> element(Value tensor, ArrayRef<int64_t> index,
                                int depth = 0);

private:
  struct Loop {
    mutable linalg::GenericOp op;
    ArrayRef<int64_t> iv;
  };
  std::optional<Scalar> scalar(Value v, const Loop *loop, int depth);
  std::optional<Scalar> scalarOp(Operation *op, const Loop *loop, int depth);
  bool spend() { return ++steps <= kBudget; }

  static constexpr int kMaxDepth = 64;
  static constexpr int64_t kBudget = int64_t(1) << 28;
  int64_t steps = 0;
};

/// The index of `map` applied to loop indices `iv` (dims and constants only).
std::optional<SmallVector<int64_t>> applyMap(AffineMap map,
                                             ArrayRef<int64_t> iv) {
  SmallVector<int64_t> index;
  for (AffineExpr e : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      index.push_back(iv[d.getPosition()]);
    else if (auto c = dyn_cast<AffineConstantExpr>(e))
      index.push_back(c.getValue());
    else
      return std::nullopt;
  }
  return index;
}

std::optional<Scalar> Evaluator::element(Value tensor, ArrayRef<int64_t> index,
                                         int depth) {
  if (depth > kMaxDepth || !spend())
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  if (!type || !type.hasStaticShape() ||
      static_cast<int64_t>(index.size()) != type.getRank())
    return std::nullopt;
  for (auto [i, size] : llvm::zip(index, type.getShape()))
    if (i < 0 || i >= size)
      return std::nullopt;
  Operation *def = tensor.getDefiningOp();
  if (!def)
    return std::nullopt;

  if (auto cst = dyn_cast<arith::ConstantOp>(def)) {
    auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
    if (!dense)
      return std::nullopt;
    int64_t flat = 0;
    for (auto [i, size] : llvm::zip(index, type.getShape()))
      flat = flat * size + i;
    if (dense.isSplat())
      flat = 0;
    Type element = type.getElementType();
    if (isa<FloatType>(element))
      return makeFloat(*std::next(dense.value_begin<APFloat>(), flat));
    if (intWidth(element))
      return makeInt(*std::next(dense.value_begin<APInt>(), flat));
    return std::nullopt;
  }
  if (auto fill = dyn_cast<linalg::FillOp>(def)) {
    if (!fill.hasPureTensorSemantics())
      return std::nullopt;
    return scalar(fill.getInputs()[0], nullptr, depth + 1);
  }
  if (auto b = dyn_cast<linalg::BroadcastOp>(def)) {
    SmallVector<int64_t> source;
    ArrayRef<int64_t> dims = b.getDimensions();
    for (auto [d, i] : llvm::enumerate(index))
      if (!llvm::is_contained(dims, static_cast<int64_t>(d)))
        source.push_back(i);
    return element(b.getInput(), source, depth + 1);
  }
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(def)) {
    // Source index of each group: the group's indices linearised.
    SmallVector<int64_t> source;
    for (const ReassociationIndices &group : expand.getReassociationIndices()) {
      int64_t flat = 0;
      for (int64_t d : group)
        flat = flat * type.getDimSize(d) + index[d];
      source.push_back(flat);
    }
    return element(expand.getSrc(), source, depth + 1);
  }
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(def)) {
    ArrayRef<int64_t> srcShape = collapse.getSrcType().getShape();
    SmallVector<int64_t> source(srcShape.size());
    for (auto [g, group] :
         llvm::enumerate(collapse.getReassociationIndices())) {
      int64_t flat = index[g];
      for (int64_t d : llvm::reverse(group)) {
        source[d] = flat % srcShape[d];
        flat /= srcShape[d];
      }
    }
    return element(collapse.getSrc(), source, depth + 1);
  }
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(def)) {
    if (slice.getSourceType().getRank() != type.getRank() ||
        slice.getStaticOffsets().size() != index.size())
      return std::nullopt;
    SmallVector<int64_t> source;
    for (auto [i, offset, stride] :
         llvm::zip(index, slice.getStaticOffsets(), slice.getStaticStrides())) {
      if (ShapedType::isDynamic(offset) || ShapedType::isDynamic(stride))
        return std::nullopt;
      source.push_back(offset + i * stride);
    }
    return element(slice.getSource(), source, depth + 1);
  }
  if (auto g = dyn_cast<linalg::GenericOp>(def)) {
    if (!g.hasPureTensorSemantics() || g.getNumDpsInits() != 1 ||
        g.getNumResults() != 1 || g.getNumParallelLoops() != g.getNumLoops())
      return std::nullopt;
    AffineMap out = g.getIndexingMapsArray().back();
    if (!out.isPermutation())
      return std::nullopt;
    // Output dim a is loop out(a).
    SmallVector<int64_t> iv(g.getNumLoops());
    for (auto [a, e] : llvm::enumerate(out.getResults()))
      iv[cast<AffineDimExpr>(e).getPosition()] = index[a];
    Loop loop{g, iv};
    Value yielded = g.getRegion().front().getTerminator()->getOperand(0);
    return scalar(yielded, &loop, depth + 1);
  }
  return std::nullopt;
}

std::optional<Scalar> Evaluator::scalar(Value v, const Loop *loop, int depth) {
  if (depth > kMaxDepth || !spend())
    return std::nullopt;
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (!loop || arg.getOwner() != &loop->op.getRegion().front())
      return std::nullopt;
    OpOperand *operand = loop->op.getMatchingOpOperand(arg);
    auto index = applyMap(loop->op.getMatchingIndexingMap(operand), loop->iv);
    if (!index)
      return std::nullopt;
    return element(operand->get(), *index, depth + 1);
  }
  return scalarOp(v.getDefiningOp(), loop, depth);
}

std::optional<Scalar> Evaluator::scalarOp(Operation *op, const Loop *loop,
                                          int depth) {
  if (!op || op->getNumResults() != 1)
    return std::nullopt;
  Type type = op->getResult(0).getType();
  auto operand = [&](unsigned k) {
    return scalar(op->getOperand(k), loop, depth + 1);
  };

  if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
    if (auto i = dyn_cast<IntegerAttr>(cst.getValue()))
      return makeInt(i.getValue().zextOrTrunc(intWidth(type)));
    if (auto f = dyn_cast<FloatAttr>(cst.getValue()))
      return makeFloat(f.getValue());
    return std::nullopt;
  }
  if (auto index = dyn_cast<linalg::IndexOp>(op)) {
    if (!loop || index->getParentOp() != loop->op.getOperation())
      return std::nullopt;
    return makeInt(APInt(64, loop->iv[index.getDim()], /*isSigned=*/true));
  }

  // Integer ops of one width (wrapping, as in arith).
  if (isa<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::AndIOp,
          arith::OrIOp, arith::XOrIOp>(op)) {
    auto a = operand(0), b = operand(1);
    if (!a || !b || a->isFloat || b->isFloat)
      return std::nullopt;
    APInt x = a->i, y = b->i;
    if (isa<arith::AddIOp>(op))
      return makeInt(x + y);
    if (isa<arith::SubIOp>(op))
      return makeInt(x - y);
    if (isa<arith::MulIOp>(op))
      return makeInt(x * y);
    if (isa<arith::AndIOp>(op))
      return makeInt(x & y);
    if (isa<arith::OrIOp>(op))
      return makeInt(x | y);
    return makeInt(x ^ y);
  }
  if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
    auto a = operand(0), b = operand(1);
    if (!a || !b || a->isFloat || b->isFloat)
      return std::nullopt;
    bool r = false;
    const APInt &x = a->i, &y = b->i;
    switch (cmp.getPredicate()) {
    case arith::CmpIPredicate::eq:
      r = x.eq(y);
      break;
    case arith::CmpIPredicate::ne:
      r = x.ne(y);
      break;
    case arith::CmpIPredicate::slt:
      r = x.slt(y);
      break;
    case arith::CmpIPredicate::sle:
      r = x.sle(y);
      break;
    case arith::CmpIPredicate::sgt:
      r = x.sgt(y);
      break;
    case arith::CmpIPredicate::sge:
      r = x.sge(y);
      break;
    case arith::CmpIPredicate::ult:
      r = x.ult(y);
      break;
    case arith::CmpIPredicate::ule:
      r = x.ule(y);
      break;
    case arith::CmpIPredicate::ugt:
      r = x.ugt(y);
      break;
    case arith::CmpIPredicate::uge:
      r = x.uge(y);
      break;
    }
    return makeInt(APInt(1, r ? 1 : 0));
  }
  if (isa<arith::SelectOp>(op)) {
    auto c = operand(0);
    if (!c || c->isFloat || c->i.getBitWidth() != 1)
      return std::nullopt;
    return operand(c->i.isOne() ? 1 : 2);
  }
  if (isa<arith::IndexCastOp, arith::ExtSIOp, arith::TruncIOp>(op)) {
    auto a = operand(0);
    if (!a || a->isFloat || !intWidth(type))
      return std::nullopt;
    return makeInt(a->i.sextOrTrunc(intWidth(type)));
  }
  if (isa<arith::IndexCastUIOp, arith::ExtUIOp>(op)) {
    auto a = operand(0);
    if (!a || a->isFloat || !intWidth(type))
      return std::nullopt;
    return makeInt(a->i.zextOrTrunc(intWidth(type)));
  }
  if (isa<arith::SIToFPOp, arith::UIToFPOp>(op)) {
    auto a = operand(0);
    auto ft = dyn_cast<FloatType>(type);
    if (!a || a->isFloat || !ft)
      return std::nullopt;
    APFloat f(ft.getFloatSemantics());
    f.convertFromAPInt(a->i, isa<arith::SIToFPOp>(op),
                       APFloat::rmNearestTiesToEven);
    return makeFloat(f);
  }
  if (isa<arith::NegFOp>(op)) {
    auto a = operand(0);
    if (!a || !a->isFloat)
      return std::nullopt;
    APFloat f = a->f;
    f.changeSign();
    return makeFloat(f);
  }
  if (isa<arith::AddFOp, arith::SubFOp, arith::MulFOp>(op)) {
    auto a = operand(0), b = operand(1);
    if (!a || !b || !a->isFloat || !b->isFloat ||
        &a->f.getSemantics() != &b->f.getSemantics())
      return std::nullopt;
    APFloat f = a->f;
    if (isa<arith::AddFOp>(op))
      f.add(b->f, APFloat::rmNearestTiesToEven);
    else if (isa<arith::SubFOp>(op))
      f.subtract(b->f, APFloat::rmNearestTiesToEven);
    else
      f.multiply(b->f, APFloat::rmNearestTiesToEven);
    return makeFloat(f);
  }
  return std::nullopt;
}

/// True when every [Sq, Skv] slice of `mask` is the same: a generic with no
/// inputs whose body ignores its init and indexes only the last two dims.
bool isBatchInvariant(Value mask) {
  auto g = mask.getDefiningOp<linalg::GenericOp>();
  if (!g || g.getNumDpsInputs() != 0 || g.getNumDpsInits() != 1 ||
      !g.getIndexingMapsArray()[0].isIdentity())
    return false;
  Block &body = g.getRegion().front();
  if (!body.getArgument(0).use_empty())
    return false;
  int64_t rank = g.getNumLoops();
  bool invariant = true;
  body.walk([&](linalg::IndexOp index) {
    if (static_cast<int64_t>(index.getDim()) < rank - 2)
      invariant = false;
  });
  return invariant;
}
} // namespace

std::optional<SmallVector<int64_t>>
mlir::kv::raising::provenVisiblePrefixes(Value mask) {
  // A broadcast over batch dims repeats one mask: prove that one.
  while (auto b = mask.getDefiningOp<linalg::BroadcastOp>()) {
    int64_t rank = b.getInit().getType().getRank();
    if (llvm::any_of(b.getDimensions(),
                     [&](int64_t d) { return d >= rank - 2; }))
      break;
    mask = b.getInput();
  }
  auto type = dyn_cast<RankedTensorType>(mask.getType());
  if (!type || !type.hasStaticShape() || type.getRank() < 2)
    return std::nullopt;
  Type element = type.getElementType();
  bool isBool = element.isInteger(1);
  if (!isBool && !isa<FloatType>(element))
    return std::nullopt;
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rank = type.getRank(), sq = shape[rank - 2], skv = shape[rank - 1];
  if (sq == 0 || skv == 0)
    return std::nullopt;
  int64_t batches =
      isBatchInvariant(mask) ? 1 : type.getNumElements() / (sq * skv);
  // Exhaustive evaluation: bound the compile-time work (about 0.5 s per
  // million elements); larger masks stay explicit.
  if (batches * sq * skv > (int64_t(1) << 22))
    return std::nullopt;

  // visible[i]: the number of leading keys row i sees; every row must see a
  // prefix, the same in every batch entry.
  Evaluator eval;
  SmallVector<int64_t> visible(sq, -1);
  SmallVector<int64_t> index(rank, 0);
  for (int64_t b = 0; b < batches; ++b) {
    int64_t rest = b;
    for (int64_t d = rank - 3; d >= 0; --d) {
      index[d] = rest % shape[d];
      rest /= shape[d];
    }
    for (int64_t i = 0; i < sq; ++i) {
      index[rank - 2] = i;
      int64_t prefix = 0;
      bool ended = false;
      for (int64_t j = 0; j < skv; ++j) {
        index[rank - 1] = j;
        std::optional<Scalar> v = eval.element(mask, index);
        if (!v)
          return std::nullopt;
        bool attend;
        if (isBool) {
          if (v->isFloat || v->i.getBitWidth() != 1)
            return std::nullopt;
          attend = v->i.isOne();
        } else {
          // Float masks are added: 0 keeps the score as it is, -inf drops
          // the key; any other value is not a causal mask.
          if (!v->isFloat)
            return std::nullopt;
          if (v->f.isZero())
            attend = true;
          else if (v->f.isInfinity() && v->f.isNegative())
            attend = false;
          else
            return std::nullopt;
        }
        if (attend && ended)
          return std::nullopt;
        if (attend)
          ++prefix;
        else
          ended = true;
      }
      if (b == 0)
        visible[i] = prefix;
      else if (visible[i] != prefix)
        return std::nullopt;
    }
  }
  return visible;
}

std::optional<int64_t> mlir::kv::raising::provenCausalOffset(Value mask) {
  std::optional<SmallVector<int64_t>> rows = provenVisiblePrefixes(mask);
  if (!rows)
    return std::nullopt;
  const SmallVector<int64_t> &visible = *rows;
  int64_t sq = visible.size(),
          skv = cast<RankedTensorType>(mask.getType()).getShape().back();

  // Row i sees j <= i + c, clipped to [0, Skv): a row strictly inside gives
  // c, and every row must agree with it.
  std::optional<int64_t> offset;
  for (int64_t i = 0; i < sq; ++i)
    if (visible[i] > 0 && visible[i] < skv) {
      int64_t c = visible[i] - 1 - i;
      if (offset && *offset != c)
        return std::nullopt;
      offset = c;
    }
  if (!offset)
    return std::nullopt;
  for (int64_t i = 0; i < sq; ++i) {
    int64_t last = i + *offset; // last visible key, before clipping
    int64_t expected = std::clamp<int64_t>(last + 1, 0, skv);
    if (visible[i] != expected)
      return std::nullopt;
  }
  return offset;
}

std::optional<int64_t> mlir::kv::raising::CausalMaskCache::get(Value mask) {
  auto it = proven.find(mask);
  if (it != proven.end())
    return it->second;
  std::optional<int64_t> offset = provenCausalOffset(mask);
  proven[mask] = offset;
  return offset;
}

void mlir::kv::raising::CausalMaskCache::notifyOperationErased(Operation *op) {
  for (Value result : op->getResults())
    proven.erase(result);
}
