//===- Layouts.cpp - Contractions, layouts and head repeats ---------------===//
//
// The layout-agnostic part of kv-raise-attention: a contraction is read off
// its indexing maps whatever op spells it, and each operand's layout is
// followed back through transposes to a tensor in [batch..., rows, cols]
// order, which is what kv.attention consumes.
//
//===----------------------------------------------------------------------===//

#include "frontends/raising/Matchers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::kv::raising;

bool mlir::kv::raising::isStaticF32(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

namespace {
/// True when `v` is a tensor filled with +0.0.
bool isZeroFill(Value v) {
  auto fill = v.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  APFloat value(0.0f);
  return matchPattern(fill.getInputs()[0], m_ConstantFloat(&value)) &&
         value.isPosZero();
}

/// The body `yield(acc + in0 * in1)` (either operand order), nothing else.
bool isMulAddBody(Block &body) {
  if (body.getNumArguments() != 3 || body.getOperations().size() != 3)
    return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || add->getBlock() != &body)
    return false;
  Value acc = body.getArgument(2), product;
  if (add.getLhs() == acc)
    product = add.getRhs();
  else if (add.getRhs() == acc)
    product = add.getLhs();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul || mul->getBlock() != &body)
    return false;
  Value a = body.getArgument(0), b = body.getArgument(1);
  return (mul.getLhs() == a && mul.getRhs() == b) ||
         (mul.getLhs() == b && mul.getRhs() == a);
}

/// Dims indexed by `map`, or none unless every result is a distinct dim.
std::optional<llvm::SmallBitVector> indexedDims(AffineMap map) {
  if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
    return std::nullopt;
  llvm::SmallBitVector dims(map.getNumDims());
  for (AffineExpr e : map.getResults())
    dims.set(cast<AffineDimExpr>(e).getPosition());
  return dims;
}
} // namespace

std::optional<Contraction> mlir::kv::raising::matchContraction(Value v) {
  auto op = v.getDefiningOp<linalg::LinalgOp>();
  if (!op || !isa<linalg::GenericOp, linalg::BatchMatmulOp, linalg::MatmulOp,
                  linalg::ContractOp>(op.getOperation()))
    return std::nullopt;
  if (op->getNumResults() != 1 || !op.hasPureTensorSemantics() ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !isZeroFill(op.getDpsInits()[0]) || !isMulAddBody(*op.getBlock()))
    return std::nullopt;
  for (Value operand : op->getOperands())
    if (!isStaticF32(operand))
      return std::nullopt;

  Contraction c;
  c.op = op;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto in0 = indexedDims(maps[0]), in1 = indexedDims(maps[1]),
       out = indexedDims(maps[2]);
  if (!in0 || !in1 || !out)
    return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  std::array<SmallVector<unsigned>, 2> free;
  SmallVector<unsigned> reductions;
  for (unsigned d = 0, e = op.getNumLoops(); d < e; ++d) {
    bool a = in0->test(d), b = in1->test(d), o = out->test(d);
    bool parallel = iterators[d] == utils::IteratorType::parallel;
    if (a && b && o && parallel)
      c.batch.push_back(d);
    else if (a && !b && o && parallel)
      free[0].push_back(d);
    else if (!a && b && o && parallel)
      free[1].push_back(d);
    else if (a && b && !o && !parallel)
      reductions.push_back(d);
    else
      return std::nullopt;
  }
  if (free[0].size() != 1 || free[1].size() != 1 || reductions.size() != 1)
    return std::nullopt;
  c.inputs = {op.getDpsInputs()[0], op.getDpsInputs()[1]};
  c.inputMaps = {maps[0], maps[1]};
  c.outMap = maps[2];
  c.free = {free[0][0], free[1][0]};
  c.reduction = reductions[0];
  return c;
}

std::optional<SmallVector<int64_t>>
mlir::kv::raising::permutationTo(AffineMap map, ArrayRef<unsigned> dims) {
  if (map.getNumResults() != dims.size())
    return std::nullopt;
  SmallVector<int64_t> perm;
  for (unsigned d : dims) {
    std::optional<unsigned> pos =
        map.getResultPosition(getAffineDimExpr(d, map.getContext()));
    if (!pos)
      return std::nullopt;
    perm.push_back(*pos);
  }
  return perm;
}

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

bool View::isNatural() const {
  for (auto [i, p] : llvm::enumerate(perm))
    if (p != static_cast<int64_t>(i))
      return false;
  return true;
}

SmallVector<int64_t> View::shape() const {
  ArrayRef<int64_t> baseShape =
      cast<RankedTensorType>(base.getType()).getShape();
  SmallVector<int64_t> collapsed;
  if (collapse.empty()) {
    collapsed.assign(baseShape.begin(), baseShape.end());
  } else {
    for (const ReassociationIndices &group : collapse) {
      int64_t size = 1;
      for (int64_t d : group)
        size *= baseShape[d];
      collapsed.push_back(size);
    }
  }
  SmallVector<int64_t> result;
  for (int64_t p : perm)
    result.push_back(collapsed[p]);
  return result;
}

namespace {
/// The permutation of an op that only moves the dims of its one input
/// (linalg.transpose, or a linalg.generic copy between permutation maps),
/// with its input.
std::optional<std::pair<Value, SmallVector<int64_t>>>
matchPermutation(Operation *op) {
  if (auto t = dyn_cast_or_null<linalg::TransposeOp>(op))
    return std::make_pair(t.getInput(),
                          SmallVector<int64_t>(t.getPermutation()));
  auto g = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getNumResults() != 1 || g.getNumParallelLoops() != g.getNumLoops())
    return std::nullopt;
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 1 ||
      body.getTerminator()->getOperand(0) != body.getArgument(0))
    return std::nullopt;
  AffineMap in = g.getIndexingMapsArray()[0], out = g.getIndexingMapsArray()[1];
  if (!in.isPermutation() || !out.isPermutation())
    return std::nullopt;
  // out[outMap(d)] = in[inMap(d)]: output dim a is input dim k where both
  // are indexed by the same loop.
  SmallVector<int64_t> perm;
  for (AffineExpr e : out.getResults())
    perm.push_back(*in.getResultPosition(e));
  return std::make_pair(g.getDpsInputs()[0], perm);
}

/// Rewrites `collapse_shape(transpose(z, t), groups)` as
/// `transpose(collapse_shape(z, newGroups), newPerm)`, possible when `t`
/// moves every group as one contiguous block in order.
bool commuteCollapse(ArrayRef<ReassociationIndices> groups, ArrayRef<int64_t> t,
                     SmallVector<ReassociationIndices> &newGroups,
                     SmallVector<int64_t> &newPerm) {
  SmallVector<int64_t> starts;
  for (const ReassociationIndices &group : groups) {
    for (auto [k, d] : llvm::enumerate(group))
      if (t[d] != t[group.front()] + static_cast<int64_t>(k))
        return false;
    starts.push_back(t[group.front()]);
  }
  SmallVector<int64_t> order(groups.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order,
             [&](int64_t a, int64_t b) { return starts[a] < starts[b]; });
  newGroups.clear();
  newPerm.assign(groups.size(), 0);
  for (auto [rank, g] : llvm::enumerate(order)) {
    ReassociationIndices group;
    for (size_t k = 0; k < groups[g].size(); ++k)
      group.push_back(starts[g] + k);
    newGroups.push_back(group);
    newPerm[g] = rank;
  }
  return true;
}
} // namespace

std::optional<View>
mlir::kv::raising::findNaturalLayout(Value v, ArrayRef<int64_t> perm) {
  View view{v, {}, SmallVector<int64_t>(perm)};
  // Each step moves to a producer; SSA chains are finite but keep it short.
  for (int step = 0; step < 16; ++step) {
    if (view.isNatural())
      return view;
    Operation *def = view.base.getDefiningOp();
    if (auto moved = matchPermutation(def)) {
      auto [input, t] = *moved;
      SmallVector<int64_t> outer = view.perm;
      if (!view.collapse.empty()) {
        SmallVector<ReassociationIndices> groups;
        SmallVector<int64_t> blockPerm;
        if (!commuteCollapse(view.collapse, t, groups, blockPerm))
          return std::nullopt;
        view.collapse = groups;
        t = blockPerm;
      }
      // transpose(transpose(y, t), p) = transpose(y, t o p).
      for (auto [i, p] : llvm::enumerate(outer))
        view.perm[i] = t[p];
      view.base = input;
      continue;
    }
    auto collapse = dyn_cast_or_null<tensor::CollapseShapeOp>(def);
    if (collapse && view.collapse.empty()) {
      view.collapse = collapse.getReassociationIndices();
      view.base = collapse.getSrc();
      continue;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

Value mlir::kv::raising::materialize(OpBuilder &b, Location loc,
                                     const View &view) {
  assert(view.isNatural() && "materialising a transposed view");
  if (view.collapse.empty())
    return view.base;
  return tensor::CollapseShapeOp::create(b, loc, view.base, view.collapse);
}

//===----------------------------------------------------------------------===//
// Head repeats
//===----------------------------------------------------------------------===//

namespace {
/// `x` when `v` is `x` with a unit dim inserted at `dim` by
/// tensor.expand_shape (the group holding `dim` is `dim` and one neighbour).
Value matchUnitDimInserted(Value v, int64_t dim) {
  auto expand = v.getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || expand.getResultType().getDimSize(dim) != 1)
    return Value();
  for (const ReassociationIndices &group : expand.getReassociationIndices()) {
    bool holds = llvm::is_contained(group, dim);
    if (group.size() != (holds ? 2u : 1u))
      return Value();
  }
  return expand.getSrc();
}

/// `x` when `v` is `x` broadcast along the new dim `dim`: linalg.broadcast,
/// a generic copy whose input map is the identity without `dim`, or one
/// whose input map reads 0 at `dim` of `x` with a unit dim inserted there
/// (as exporters spell `x[:, :, None].expand(...)`).
Value matchBroadcastAlong(Value v, int64_t dim) {
  if (auto b = v.getDefiningOp<linalg::BroadcastOp>())
    return b.getDimensions() == ArrayRef<int64_t>{dim} ? b.getInput() : Value();
  auto g = v.getDefiningOp<linalg::GenericOp>();
  if (!g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getNumResults() != 1 || g.getNumParallelLoops() != g.getNumLoops())
    return Value();
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 1 ||
      body.getTerminator()->getOperand(0) != body.getArgument(0))
    return Value();
  unsigned n = g.getNumLoops();
  MLIRContext *ctx = g.getContext();
  SmallVector<AffineExpr> kept, zeroed;
  for (unsigned d = 0; d < n; ++d) {
    if (d != dim)
      kept.push_back(getAffineDimExpr(d, ctx));
    zeroed.push_back(d == dim ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(d, ctx));
  }
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  if (!maps[1].isIdentity())
    return Value();
  if (maps[0] == AffineMap::get(n, 0, kept, ctx))
    return g.getDpsInputs()[0];
  if (maps[0] == AffineMap::get(n, 0, zeroed, ctx))
    return matchUnitDimInserted(g.getDpsInputs()[0], dim);
  return Value();
}

/// `x` when `v` = `collapse_shape(broadcast(x, along head + 1))` merging the
/// dims [head, head + 1] only: kv head `h` is repeated as query heads
/// `h * G ... h * G + G - 1`, i.e. query head `q` reads kv head `q / G`.
Value matchRepeat(Value v, int64_t head, int64_t &group) {
  auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse)
    return Value();
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<ReassociationIndices> expected;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (d < head)
      expected.push_back({d});
    else if (d == head)
      expected.push_back({d, d + 1});
    else
      expected.push_back({d + 1});
  }
  if (collapse.getReassociationIndices() != expected)
    return Value();
  Value x = matchBroadcastAlong(collapse.getSrc(), head + 1);
  if (!x || !isStaticF32(x))
    return Value();
  group = collapse.getSrcType().getDimSize(head + 1);
  return x;
}
} // namespace

View mlir::kv::raising::unrepeatHeads(const View &view, int64_t &group) {
  group = 1;
  auto type = cast<RankedTensorType>(view.base.getType());
  int64_t rank = type.getRank();
  if (!view.isNatural() || rank < 3)
    return view;
  // A collapse on top may merge batch dims only (the heads stay the
  // fastest-varying batch index), so rows and cols are its last two groups.
  if (!view.collapse.empty()) {
    size_t n = view.collapse.size();
    if (n < 3 || view.collapse[n - 2] != ReassociationIndices{rank - 2} ||
        view.collapse[n - 1] != ReassociationIndices{rank - 1})
      return view;
  }
  int64_t g;
  Value x = matchRepeat(view.base, rank - 3, g);
  if (!x)
    return view;
  group = g;
  View result = view;
  result.base = x;
  return result;
}
