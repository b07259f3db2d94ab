//===- Matchers.h - Building blocks of kv-raise-attention -------*- C++ -*-===//
//
// Internal to frontends/raising: contractions with classified loop dims,
// layouts found through transposes and collapses, head repeats and causal
// masks, shared by the files of the kv-raise-attention pass.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_FRONTENDS_RAISING_MATCHERS_H
#define KVFUSE_FRONTENDS_RAISING_MATCHERS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

#include <array>
#include <numeric>
#include <optional>

namespace mlir::kv::raising {

/// True when `v` is a static f32 ranked tensor.
bool isStaticF32(Value v);

/// `out[...] = sum_r in0[...] * in1[...]` as one linalg op (batch_matmul,
/// matmul or linalg.contract with any indexing maps, or a linalg.generic
/// whose body is exactly a multiply-add) on static f32 tensors, accumulating
/// into a zero fill. Every loop dim is classified: batch (both inputs and the
/// output), free dim of one input (that input and the output) or the
/// reduction (both inputs, not the output); exactly one free dim per input
/// and one reduction. Each operand indexes every dim at most once.
struct Contraction {
  linalg::LinalgOp op;
  std::array<Value, 2> inputs;
  std::array<AffineMap, 2> inputMaps;
  AffineMap outMap;
  SmallVector<unsigned> batch;
  std::array<unsigned, 2> free;
  unsigned reduction;
};
std::optional<Contraction> matchContraction(Value v);

/// The permutation taking the dims of an operand indexed by `map` to the
/// order of the loop dims `dims` (linalg.transpose convention: result dim i
/// is operand dim perm[i]); none unless the operand indexes exactly `dims`.
std::optional<SmallVector<int64_t>> permutationTo(AffineMap map,
                                                  ArrayRef<unsigned> dims);

/// A tensor read through a layout change:
/// `transpose(collapse_shape(base, collapse), perm)` (no collapse when
/// `collapse` is empty).
struct View {
  Value base;
  SmallVector<ReassociationIndices> collapse;
  SmallVector<int64_t> perm;

  bool isNatural() const;
  SmallVector<int64_t> shape() const;
};

/// Looks for a tensor that holds `transpose(v, perm)` in its natural layout,
/// through transposes (linalg.transpose, or a linalg.generic that only
/// permutes its input) and one collapse_shape that moves as a block under
/// them. The view nearest to `v` wins; none when no tensor in the chain has
/// the layout (no transpose is ever invented).
std::optional<View> findNaturalLayout(Value v, ArrayRef<int64_t> perm);

/// Creates the (collapsed) tensor of a natural-layout view.
Value materialize(OpBuilder &b, Location loc, const View &view);

/// Undoes grouped-query head repeats on a natural-layout K or V view whose
/// base is `collapse_shape(broadcast(x))` repeating the last batch dim (the
/// heads, dim rank - 3) `group` times: returns the view of `x` and sets
/// `group`, or returns `view` with `group = 1`. The broadcast is
/// linalg.broadcast or a generic copy whose input map drops the new dim.
View unrepeatHeads(const View &view, int64_t &group);

/// Proves that the mask `mask` (float: 0 / -inf added to the scores; i1:
/// true = attend), in the scores layout `[batch..., Sq, Skv]`, equals the
/// causal mask `j <= i + offset` for every batch entry, and returns that
/// offset. Recognised spellings: a dense constant, or a linalg.generic
/// whose body depends only on linalg.index of the last two dims, optionally
/// broadcast over the batch dims; each is evaluated over all (i, j).
std::optional<int64_t> provenCausalOffset(Value mask);

/// The exhaustive evaluation behind provenCausalOffset: for each query row
/// `i` of `mask` (same spellings, same size limit), the number of leading
/// keys it keeps, proven the same in every batch entry and a prefix (every
/// key after the first hidden one is hidden too); none otherwise.
std::optional<SmallVector<int64_t>> provenVisiblePrefixes(Value mask);

/// provenCausalOffset memoised per mask value (one mask often feeds every
/// layer, and proving it is linear in its size). Listens to the rewrite so
/// that a value whose op is erased is forgotten: its storage may be reused
/// by a new op. Live values keep their meaning (rewrites preserve it).
class CausalMaskCache : public RewriterBase::Listener {
public:
  std::optional<int64_t> get(Value mask);
  void notifyOperationErased(Operation *op) override;

private:
  DenseMap<Value, std::optional<int64_t>> proven;
};

} // namespace mlir::kv::raising

#endif // KVFUSE_FRONTENDS_RAISING_MATCHERS_H
