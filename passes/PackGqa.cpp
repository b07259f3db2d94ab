//===- PackGqa.cpp - the query heads of a GQA group as one head's rows ----===//
//
// GQA packing as an IR transformation: the query heads that share a KV head
// become the rows of one head of a reshaped query (`packed_heads`), so a
// back end that tiles rows reads each K/V row once for the whole group.
// Only views change: [B, Hq, Sq, D] is [B, Hq / P, P, Sq, D] expanded, then
// [B, Hq / P, P * Sq, D] collapsed; the output and log-sum-exp destinations
// get the same views and the op's `packed_heads` says how to read them.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kv {
#define GEN_PASS_DEF_PACKGQAPASS
#include "passes/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

/// Reassociation of a rank-`rank` shape that merges dims `dim` and
/// `dim + 1` of the shape one higher (identity elsewhere).
SmallVector<ReassociationIndices> merging(int64_t rank, int64_t dim) {
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t at = i <= dim ? i : i + 1;
    if (i == dim)
      groups.push_back({at, at + 1});
    else
      groups.push_back({at});
  }
  return groups;
}

/// `type` with `shape`: a tensor, or an identity-layout memref.
ShapedType withShape(ShapedType type, ArrayRef<int64_t> shape) {
  if (isa<RankedTensorType>(type))
    return RankedTensorType::get(shape, type.getElementType());
  auto memref = cast<MemRefType>(type);
  return MemRefType::get(shape, memref.getElementType(),
                         MemRefLayoutAttrInterface(), memref.getMemorySpace());
}

/// `v` reshaped to `shape` by `TensorOp` or `MemRefOp` (expand_shape or
/// collapse_shape), merging or splitting dims as `groups` says.
template <typename TensorOp, typename MemRefOp>
Value reshape(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape,
              ArrayRef<ReassociationIndices> groups) {
  ShapedType type = withShape(cast<ShapedType>(v.getType()), shape);
  if (isa<RankedTensorType>(type))
    return TensorOp::create(b, loc, type, v, groups);
  return MemRefOp::create(b, loc, type, v, groups);
}
constexpr auto expand = reshape<tensor::ExpandShapeOp, memref::ExpandShapeOp>;
constexpr auto collapse =
    reshape<tensor::CollapseShapeOp, memref::CollapseShapeOp>;

/// Views `v`, whose dim `heads` holds query heads and the next dim their
/// rows, with P = `packed` heads' rows per head: [.., H, S, ..] ->
/// [.., H / P, P * S, ..], head h = h' * P + g, row i -> row g * S + i.
Value packHeads(OpBuilder &b, Location loc, Value v, int64_t heads,
                int64_t packed) {
  ArrayRef<int64_t> shape = cast<ShapedType>(v.getType()).getShape();
  int64_t rank = shape.size();
  SmallVector<int64_t> split(shape);
  split[heads] /= packed;
  split.insert(split.begin() + heads + 1, packed);
  SmallVector<int64_t> result(shape);
  result[heads] /= packed;
  result[heads + 1] *= packed;
  Value expanded = expand(b, loc, v, split, merging(rank, heads));
  return collapse(b, loc, expanded, result, merging(rank, heads + 1));
}

/// The inverse view of packHeads: [.., H / P, P * S, ..] -> [.., H, S, ..].
Value unpackHeads(OpBuilder &b, Location loc, Value v, int64_t heads,
                  int64_t packed) {
  ArrayRef<int64_t> shape = cast<ShapedType>(v.getType()).getShape();
  int64_t rank = shape.size();
  SmallVector<int64_t> split(shape);
  split[heads + 1] /= packed;
  split.insert(split.begin() + heads + 1, packed);
  SmallVector<int64_t> result(shape);
  result[heads] *= packed;
  result[heads + 1] /= packed;
  Value expanded = expand(b, loc, v, split, merging(rank, heads + 1));
  return collapse(b, loc, expanded, result, merging(rank, heads));
}

/// Whether `v` can be viewed without a copy: static shape, and on memrefs
/// an identity layout.
bool isViewable(Value v) {
  auto type = cast<ShapedType>(v.getType());
  if (!type.hasStaticShape())
    return false;
  auto memref = dyn_cast<MemRefType>(type);
  return !memref || memref.getLayout().isIdentity();
}

/// The heads packed per head of `op`'s query under the option (0: the
/// whole group), or 0 where the op is to be left alone.
int64_t headsToPack(AttentionOpInterface op, int64_t option) {
  if (op.getNumPackedHeads() != 1)
    return 0;
  int64_t hq = op.getNumQueryHeads(), hkv = op.getNumKvHeads();
  if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hkv) || hkv <= 0)
    return 0;
  int64_t group = hq / hkv;
  int64_t packed = option > 0 ? option : group;
  if (packed <= 1 || group % packed != 0)
    return 0;
  if (!isViewable(op.getQuery()))
    return 0;
  for (Value init :
       cast<DestinationStyleOpInterface>(op.getOperation()).getDpsInits())
    if (!isViewable(init))
      return 0;
  return packed;
}

/// Rewrites `op` into its packed form with `packed` heads per head.
void pack(RewriterBase &rewriter, AttentionOpInterface op, int64_t packed) {
  Operation *operation = op.getOperation();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(operation);
  // Heads sit at dim 1 of the query and the destinations, or at dim 2 of
  // split-form destinations (behind the split dim); rows follow.
  auto headsDim = [](Value v, int64_t unsplitRank) {
    return cast<ShapedType>(v.getType()).getRank() == unsplitRank ? 1 : 2;
  };
  Value query = packHeads(rewriter, loc, op.getQuery(), 1, packed);
  auto dps = cast<DestinationStyleOpInterface>(operation);
  SmallVector<Value> inits;
  SmallVector<int64_t> initHeads;
  for (OpOperand &init : dps.getDpsInitsMutable()) {
    // The output is [B, Hq, Sq, Dv], the log-sum-exp [B, Hq, Sq].
    bool isOut = init.get() == op.getOutputInit();
    initHeads.push_back(headsDim(init.get(), isOut ? 4 : 3));
    inits.push_back(
        packHeads(rewriter, loc, init.get(), initHeads.back(), packed));
  }

  Operation *packedOp = rewriter.clone(*operation);
  rewriter.modifyOpInPlace(packedOp, [&] {
    // The query is operand 0 of every attention op.
    packedOp->setOperand(0, query);
    auto packedDps = cast<DestinationStyleOpInterface>(packedOp);
    for (auto [operand, init] :
         llvm::zip(packedDps.getDpsInitsMutable(), inits))
      operand.set(init);
    for (auto [result, init] : llvm::zip(packedOp->getResults(), inits))
      result.setType(init.getType());
    packedOp->setAttr("packed_heads", rewriter.getI64IntegerAttr(packed));
  });

  // On tensors the results are viewed back; memrefs were written in place.
  SmallVector<Value> results;
  for (auto [result, heads] : llvm::zip(packedOp->getResults(), initHeads))
    results.push_back(unpackHeads(rewriter, loc, result, heads, packed));
  rewriter.replaceOp(operation, results);
}

struct PackGqaPass : kv::impl::PackGqaPassBase<PackGqaPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<std::pair<AttentionOpInterface, int64_t>> work;
    getOperation()->walk([&](AttentionOpInterface op) {
      if (int64_t packed = headsToPack(op, heads))
        work.push_back({op, packed});
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, packed] : work)
      pack(rewriter, op, packed);
  }
};

} // namespace
