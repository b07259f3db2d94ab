//===- KvInterfaces.td - kv dialect interfaces ------------*- tablegen -*-===//

#ifndef KVFUSE_DIALECTS_KV_KVINTERFACES_TD
#define KVFUSE_DIALECTS_KV_KVINTERFACES_TD

include "mlir/IR/OpBase.td"

def Kv_AttentionOpInterface : OpInterface<"AttentionOpInterface"> {
  let cppNamespace = "::mlir::kv";
  let description = [{
    Implemented by every op that computes masked, scaled softmax attention.
    It exposes the score and mask semantics (section 2 of the design) in one
    place, so that passes and lowering treat `kv.attention`,
    `kv.cache_attention`, `kv.append_attention` and `kv.partial_attention`
    alike.
  }];
  let methods = [
    InterfaceMethod<"The query operand `[B, Hq, Sq, D]`, or `[B, Hq / P, "
      "P * Sq, D]` with P packed heads.", "::mlir::Value", "getQuery">,
    InterfaceMethod<"Query heads P whose rows each head of the query and "
      "output holds (GQA packing; 1: unpacked).", "uint64_t",
      "getPackedHeads">,
    InterfaceMethod<"Number of KV heads.", "int64_t", "getNumKvHeads">,
    InterfaceMethod<"Key head dim D.", "int64_t", "getKeyHeadDim">,
    InterfaceMethod<"Value head dim Dv.", "int64_t", "getValueHeadDim">,
    InterfaceMethod<"The optional explicit mask operand.",
      "::mlir::Value", "getMask">,
    InterfaceMethod<"The optional soft-cap `c` in `c * tanh(s / c)`.",
      "std::optional<::llvm::APFloat>", "getSoftcap">,
    InterfaceMethod<"Whether the causal mask applies.", "bool", "getCausal">,
    InterfaceMethod<"Left window bound attribute.", "uint64_t",
      "getWindowLeft">,
    InterfaceMethod<"Right window bound attribute.", "uint64_t",
      "getWindowRight">,
    InterfaceMethod<"The optional score scale attribute.",
      "std::optional<::llvm::APFloat>", "getScale">,
    InterfaceMethod<"The destination of the output: `[B, Hq, Sq, Dv]`, or "
      "`[N, B, Hq, Sq, Dv]` in split form (packed like the query).",
      "::mlir::Value",
      "getOutputInit">,
    InterfaceMethod<"The destination of the log-sum-exp (`[B, Hq, Sq]` or "
      "`[N, B, Hq, Sq]`), null where the op returns none.", "::mlir::Value",
      "getLseOutputInit">,
  ];
  let extraSharedClassDeclaration = [{
    /// Query heads P packed into each head of the query and output.
    int64_t getNumPackedHeads() {
      return static_cast<int64_t>($_op.getPackedHeads());
    }
    /// Number of query heads Hq (packed or not).
    int64_t getNumQueryHeads() {
      int64_t heads = ::llvm::cast<::mlir::ShapedType>(
          $_op.getQuery().getType()).getDimSize(1);
      return ::mlir::ShapedType::isDynamic(heads)
                 ? heads : heads * getNumPackedHeads();
    }
    /// Query length Sq (packed or not).
    int64_t getQueryLength() {
      int64_t rows = ::llvm::cast<::mlir::ShapedType>(
          $_op.getQuery().getType()).getDimSize(2);
      return ::mlir::ShapedType::isDynamic(rows)
                 ? rows : rows / getNumPackedHeads();
    }
    /// Query heads that share one KV head.
    int64_t getGroupSize() {
      return getNumQueryHeads() / $_op.getNumKvHeads();
    }
    /// Window bounds as signed values; -1 means unbounded.
    int64_t getWindowLeftBound() {
      return static_cast<int64_t>($_op.getWindowLeft());
    }
    int64_t getWindowRightBound() {
      return static_cast<int64_t>($_op.getWindowRight());
    }
    /// Partial results the op returns: N in split form (a leading split
    /// dim on the output and the log-sum-exp), else 1.
    int64_t getNumSplits() {
      auto type =
          ::llvm::cast<::mlir::ShapedType>($_op.getOutputInit().getType());
      return type.getRank() == 5 ? type.getDimSize(0) : 1;
    }
    /// The scale actually applied to Q.K^T: the attribute, else 1/sqrt(D).
    double getEffectiveScale() {
      if (auto scale = $_op.getScale())
        return scale->convertToDouble();
      return 1.0 / std::sqrt(static_cast<double>($_op.getKeyHeadDim()));
    }
  }];
}

#endif // KVFUSE_DIALECTS_KV_KVINTERFACES_TD
