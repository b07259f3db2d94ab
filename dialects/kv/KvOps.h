//===- KvOps.h - kv dialect operations --------------------------*- C++ -*-===//

#ifndef KVFUSE_DIALECTS_KV_KVOPS_H
#define KVFUSE_DIALECTS_KV_KVOPS_H

#include "dialects/kv/KvDialect.h"
#include "dialects/kv/KvInterfaces.h"
#include "dialects/kv/KvTypes.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::kv {
/// The memory behind KV-cache handles. Appends write it and attention reads
/// it; keeping it apart from the default resource lets passes reorder tensor
/// code around cache accesses while keeping appends before their readers.
struct KVCacheResource : public SideEffects::Resource::Base<KVCacheResource> {
  StringRef getName() final { return "KVCache"; }
};
} // namespace mlir::kv

#define GET_OP_CLASSES
#include "dialects/kv/KvOps.h.inc"

namespace mlir::kv {
/// Registers the bufferization models of the kv ops.
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace mlir::kv

#endif // KVFUSE_DIALECTS_KV_KVOPS_H
