//===- KvInterfaces.h - kv dialect interfaces -------------------*- C++ -*-===//

#ifndef KVFUSE_DIALECTS_KV_KVINTERFACES_H
#define KVFUSE_DIALECTS_KV_KVINTERFACES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/APFloat.h"
#include <cmath>
#include <optional>

#include "dialects/kv/KvInterfaces.h.inc"

#endif // KVFUSE_DIALECTS_KV_KVINTERFACES_H
