//===- InitAll.h - The one registration point of kvfuse ---------*- C++ -*-===//
//
// Tools, the mlir-opt plugin and the C API register dialects, extensions,
// passes and pipelines through these functions only, so every entry point
// sees the same curated set.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_TOOLS_INITALL_H
#define KVFUSE_TOOLS_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace kvfuse {
/// The kv dialect only (what the plugin adds to mlir-opt).
void registerKvDialect(mlir::DialectRegistry &registry);
/// The kv dialect plus the upstream dialects kvfuse's pipelines produce.
void registerAllDialects(mlir::DialectRegistry &registry);
/// The kv dialect's own extensions (its bufferization models).
void registerKvExtensions(mlir::DialectRegistry &registry);
/// Bufferization models and LLVM conversion interfaces.
void registerAllExtensions(mlir::DialectRegistry &registry);
/// kvfuse's passes only.
void registerKvPasses();
/// kvfuse's passes plus the curated upstream passes its pipelines use.
void registerAllPasses();
/// kvfuse's named pipelines.
void registerAllPipelines();
} // namespace kvfuse

#endif // KVFUSE_TOOLS_INITALL_H
