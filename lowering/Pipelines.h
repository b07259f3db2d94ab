//===- Pipelines.h - Named kvfuse pipelines ---------------------*- C++ -*-===//

#ifndef KVFUSE_LOWERING_PIPELINES_H
#define KVFUSE_LOWERING_PIPELINES_H

namespace mlir {
class OpPassManager;
namespace kv {
/// Registers every named pipeline with the pass registry.
void registerPipelines();
} // namespace kv
} // namespace mlir

#endif // KVFUSE_LOWERING_PIPELINES_H
