//===- KvTypes.h - kv dialect types -----------------------------*- C++ -*-===//

#ifndef KVFUSE_DIALECTS_KV_KVTYPES_H
#define KVFUSE_DIALECTS_KV_KVTYPES_H

#include "dialects/kv/KvAttrs.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "dialects/kv/KvTypes.h.inc"

#endif // KVFUSE_DIALECTS_KV_KVTYPES_H
