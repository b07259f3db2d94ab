//===- Passes.td - kv optimisation passes -----------------*- tablegen -*-===//

#ifndef KVFUSE_PASSES_PASSES_TD
#define KVFUSE_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def DecomposeCacheAttentionPass
    : InterfacePass<"kv-decompose-cache-attention",
                    "mlir::FunctionOpInterface"> {
  let summary = "Rewrite kv.cache_attention as kv.load + kv.attention";
  let description = [{
    Spells cache attention with explicit tensors: the cache is gathered into
    dense K/V of capacity rows by `kv.load`, the sequence lengths become
    `kv_lens`, and the bottom-right causal alignment becomes per-sequence
    `offsets = kv_lens - Sq`. The result computes exactly the same function;
    it is the reference path that needs no cache-aware kernel.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def FuseAppendPass
    : InterfacePass<"kv-fuse-append", "mlir::FunctionOpInterface"> {
  let summary = "Fuse kv.append + kv.cache_attention into kv.append_attention";
  let description = [{
    Rewrites a `kv.append` of new K/V rows followed by a `kv.cache_attention`
    on the same cache value (tensor form) into one `kv.append_attention` at
    the attention's place, when all of these hold:

    - both are in the same block, the append first, and no op in between
      (nor nested in one) takes a cache value that may be the same cache
      (distinct entry-point arguments never are);
    - the attention's `kv_lens` provably equals the append's lengths plus the
      number `S` of new rows (static): either `kv_lens` is
      `arith.addi %past, splat(S)` (either operand order) of the append's
      lengths, or `kv_lens` and the append's lengths are function arguments
      with `kv.role` `"kv_lens"` and `"past_lens"` and the function's
      `kv.step_tokens` is `S` (the runtime fills them so).

    Everything else is left as it is (the greedy driver runs without folding
    or region simplification; ops left dead by the fusion are removed).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // KVFUSE_PASSES_PASSES_TD
