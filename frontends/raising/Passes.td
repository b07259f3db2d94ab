//===- Passes.td - Raising of upstream MLIR to kv ops -----*- tablegen -*-===//

#ifndef KVFUSE_FRONTENDS_RAISING_PASSES_TD
#define KVFUSE_FRONTENDS_RAISING_PASSES_TD

include "mlir/Pass/PassBase.td"

def RaiseAttentionPass
    : InterfacePass<"kv-raise-attention", "mlir::FunctionOpInterface"> {
  let summary = "Raise unfused attention on tensors to kv.attention";
  let description = [{
    Recognises unfused attention on static f32 tensors and rewrites it to
    `kv.attention` on `[B, H, S, D]` tensors (3-D and 2-D forms through
    tensor.expand_shape / collapse_shape views with unit leading dims):

    - `Q K^T` and `P V` as contractions accumulating into a zero fill, read
      off their indexing maps: `linalg.batch_matmul` / `linalg.matmul` /
      `linalg.contract` with default or explicit `indexing_maps`, or a
      `linalg.generic` whose body is exactly `acc + a * b`; scores are
      `[batch..., Sq, Skv]` with zero (one head), one (`[H]`, heads folded
      into the batch) or two (`[B, H]`) batch dims, either operand order;
    - Q, K and V must each be found in `[batch..., S, D]` order at some
      tensor of their producer chain, looking through the contraction's
      maps, `linalg.transpose`, `linalg.generic` copies that only permute
      dims, and a `tensor.collapse_shape` of batch dims under a transpose
      that moves the collapsed dims as a block (a 4-D `[1, H, S, D]` K
      transposed with `[0, 1, 3, 2]` then collapsed to `[H, D, S]` is K);
      no transpose is ever invented, so a K whose only layout is, say,
      `[D, H, S]` is left alone;
    - an optional constant scale `s * c`, `c * s` or `s / c` (one
      elementwise linalg.generic), then an optional soft-cap
      `c * tanh(s / c)` (one generic);
    - an optional mask: a float tensor added elementwise, or an i1 tensor
      in `select(mask, s, -inf)`, indexed like the scores or broadcast by
      the generic's map the way kv.attention broadcasts masks (aligned to
      the trailing dims, size-1 dims read at 0: `(d0, d1, d2, d3) ->
      (0, 0, d2, d3)` on `[1, 1, Sq, Skv]`). A mask computed from
      constants (a dense constant, or linalg.index compared in a generic,
      possibly broadcast, reshaped or sliced) is evaluated exactly over its
      whole shape (up to 4M elements per batch-invariant slice); when
      every row keeps exactly the keys `j <= i + c` for one constant `c` in
      every batch entry (float: 0 kept, -inf dropped), it becomes
      `causal` with `causal_offset = c` instead of a mask tensor;
    - softmax as `linalg.softmax` over the last (key) axis, or spelled out
      over the last axis as max-reduce (from -inf or, as TOSA lowers it,
      the lowest finite float), `exp(x - max)` (fused or as sub then exp),
      sum-reduce, then divide by the sum or multiply by its reciprocal;
    - `P V` contracting P's key axis with V `[batch..., Skv, Dv]` into an
      output in `[batch..., Sq, Dv]` order;
    - grouped-query K/V as `collapse_shape(broadcast(x))` repeating the
      heads (the last batch dim) `G` times, from `[.., Hkv, S, D]` to
      `[.., Hkv * G, S, D]` (both K and V with the same G), the broadcast
      being `linalg.broadcast`, a generic copy whose input map drops the
      new dim, or one reading 0 there from a unit dim inserted by
      tensor.expand_shape (`x[:, :, None].expand(...)`).

    - cache updates written as `tensor.insert_slice` of the step's rows
      into a static-size cache tensor: when K and V are (in natural layout)
      `insert_slice %new into %cache[0.., past, 0] [.., S, D] [1, ..]`, both
      at the same offset `past` (a constant or a runtime index) with the
      same `S`, and attention runs over all `C` cache rows, a mask proven to
      keep exactly the keys `j < past + S` becomes `kv_lens = past + S`
      (a `tensor<Bxi32>` built from `past`), and one keeping `j <= past + i`
      as well (queries = the `S` rows written) adds `causal` with
      `causal_offset = past` (constant) or `offsets = past` (runtime). A
      constant `past` is proven by the exhaustive evaluation above; a
      runtime `past` only for a mask generic with no inputs whose body is
      `linalg.index` of the key dim compared (signed) with `past + S` (and
      `past + i`, `i` the query dim's linalg.index), the very SSA value of
      the insert offset, combined with `arith.andi` and yielded as i1 or as
      `select(c, 0.0, -inf)`. The insert_slice ops stay (they are the cache
      update, the returned caches are unchanged). Any other bound (off by
      one, from another value than the insert offset, a causal offset other
      than `past`, attention over another tensor than the one written)
      keeps the explicit mask. `tensor.concat` of cached and new K/V is
      attended over the concatenated tensors with the mask explicit.

    Anything else is left untouched: scale or mask after the softmax, mask
    before the scale, softmax or reduction over another axis, contractions
    over other dims (e.g. P^T V), non-zero accumulators, bodies other than
    a plain multiply-add, copies that also compute, layouts that would need
    a new transpose, 4-D transposes that mix B and H before a collapse,
    mismatched repeats, masks indexed otherwise (transposed, or skipping
    the query dim), and `exp(x) / sum(exp(x))` without the max subtraction
    (equal over the reals, but it overflows where kv.attention does not).
    Known difference: a row whose scores are all `-inf` gives
    NaN in the original and 0 in kv.attention (this includes rows a
    negative causal offset hides entirely). The scale is rounded to f32
    (`s / c` becomes `scale = 1/c`). A mask proven causal hides keys even
    where the score is +inf or NaN (the added -inf would give NaN). Masks
    that are function arguments stay explicit tensors.
  }];
  let dependentDialects = ["::mlir::kv::KvDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // KVFUSE_FRONTENDS_RAISING_PASSES_TD
