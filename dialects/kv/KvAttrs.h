//===- KvAttrs.h - kv dialect attributes ------------------------*- C++ -*-===//

#ifndef KVFUSE_DIALECTS_KV_KVATTRS_H
#define KVFUSE_DIALECTS_KV_KVATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#define GET_ATTRDEF_CLASSES
#include "dialects/kv/KvAttrs.h.inc"

namespace mlir::kv {
/// The name under which an attention op carries its `#kv.cpu_tiles` plan.
constexpr const char *kCpuTilesAttrName = "kv.cpu_tiles";
} // namespace mlir::kv

#endif // KVFUSE_DIALECTS_KV_KVATTRS_H
