//===- Passes.td - Raising of upstream MLIR to kv ops -----*- tablegen -*-===//

#ifndef KVFUSE_FRONTENDS_RAISING_PASSES_TD
#define KVFUSE_FRONTENDS_RAISING_PASSES_TD

include "mlir/Pass/PassBase.td"

def RaiseAttentionPass
    : InterfacePass<"kv-raise-attention", "mlir::FunctionOpInterface"> {
  let summary = "Raise unfused attention on tensors to kv.attention";
  let description = [{
    Recognises unfused attention on static f32 tensors with the heads folded
    into the batch (`[N, S, D]`) and rewrites it to `kv.attention` on
    `[1, N, S, D]` views (tensor.expand_shape / collapse_shape):

    - `Q K^T` as `linalg.batch_matmul(Q, linalg.transpose(K, [0, 2, 1]))`
      accumulating into a zero fill;
    - an optional constant scale `s * c`, `c * s` or `s / c` (one
      elementwise linalg.generic), then an optional soft-cap
      `c * tanh(s / c)` (one generic);
    - an optional mask: a float tensor added elementwise, or an i1 tensor
      in `select(mask, s, -inf)`;
    - softmax as `linalg.softmax` over the key axis, or spelled out as
      max-reduce, `exp(x - max)` (fused or as sub then exp), sum-reduce,
      divide;
    - `P V` as a plain batch_matmul accumulating into a zero fill;
    - grouped-query K/V as `collapse_shape(linalg.broadcast(x, [1]))` from
      `[Hkv, S, D]` to `[Hkv * G, S, D]` (both K and V with the same G).

    Anything else is left untouched: scale or mask after the softmax, mask
    before the scale, softmax or reduction over another axis, non-zero
    accumulators, mismatched repeats, and `exp(x) / sum(exp(x))` without
    the max subtraction (equal over the reals, but it overflows where
    kv.attention does not). Known difference: a row whose scores are all
    `-inf` gives NaN in the original and 0 in kv.attention. The scale is
    rounded to f32 (`s / c` becomes `scale = 1/c`). Causal structure is not
    recognised: masks stay explicit tensors.
  }];
  let dependentDialects = ["::mlir::kv::KvDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // KVFUSE_FRONTENDS_RAISING_PASSES_TD
