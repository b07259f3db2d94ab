//===- KvBase.td - kv dialect definition ------------------*- tablegen -*-===//
//
// The kv dialect: attention with the KV cache as a first-class object.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_DIALECTS_KV_KVBASE_TD
#define KVFUSE_DIALECTS_KV_KVBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Kv_Dialect : Dialect {
  let name = "kv";
  let cppNamespace = "::mlir::kv";
  let summary = "Fused attention with explicit KV-cache operations";
  let description = [{
    The `kv` dialect describes the attention of transformer inference exactly
    (scale, soft-cap, masks, causal offset, sliding windows, grouped-query
    heads, fully masked rows) together with the KV cache that decode steps read
    and extend. It is target neutral: passes tile and fuse it, and lowering
    emits CPU or GPU code from the same ops.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  // `kv.role` / `kv.name` on function arguments and `kv.step_tokens` on
  // functions describe entry points to kvfuse-compile and the runtime.
  let hasRegionArgAttrVerify = 1;
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Kv_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kv_Dialect, mnemonic, traits>;

#endif // KVFUSE_DIALECTS_KV_KVBASE_TD
