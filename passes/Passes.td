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

#endif // KVFUSE_PASSES_PASSES_TD
