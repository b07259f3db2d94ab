//===- Passes.h - Raising of upstream MLIR to kv ops ------------*- C++ -*-===//

#ifndef KVFUSE_FRONTENDS_RAISING_PASSES_H
#define KVFUSE_FRONTENDS_RAISING_PASSES_H

#include "dialects/kv/KvDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kv {
#define GEN_PASS_DECL
#include "frontends/raising/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "frontends/raising/Passes.h.inc"

/// Patterns rewriting unfused attention on tensors to kv.attention.
void populateRaiseAttentionPatterns(RewritePatternSet &patterns);
} // namespace mlir::kv

#endif // KVFUSE_FRONTENDS_RAISING_PASSES_H
