//===- Passes.td - Raising of upstream MLIR to kv ops -----*- tablegen -*-===//

#ifndef KVFUSE_FRONTENDS_RAISING_PASSES_TD
#define KVFUSE_FRONTENDS_RAISING_PASSES_TD

include "mlir/Pass/PassBase.td"

def RaiseAttentionPass
    : InterfacePass<"kv-raise-attention", "mlir::FunctionOpInterface"> {
  let summary = "Raise unfused attention on tensors to kv.attention";
  let description = [{
    Recognises `batch_matmul(softmax(scale(batch_matmul(Q, transpose(K)))
    [+ mask]), V)` on f32 tensors of shape `[N, S, D]` (heads folded into
    the batch) and rewrites it to `kv.attention` on `[1, N, S, D]` views.
    Both contractions must accumulate into a zero fill, the softmax must run
    over the key axis and the scale must be a constant multiply or divide
    applied before the softmax; anything else is left untouched.
  }];
  let dependentDialects = ["::mlir::kv::KvDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // KVFUSE_FRONTENDS_RAISING_PASSES_TD
