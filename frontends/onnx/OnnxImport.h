//===- OnnxImport.h - Import ONNX Attention models into kv IR ---*- C++ -*-===//
//
// Reads an ONNX model whose graph is made of `Attention` nodes (opsets 23-25)
// or ONNX Runtime `com.microsoft.GroupQueryAttention` nodes and builds a
// `func.func` on tensors around `kv.attention`, following the operators'
// semantics (3D/4D forms, masks, causal offsets, caches, windows; GQA's
// seqlens_k and past/present caches). Anything the importer cannot express
// exactly is an error naming the node and the attribute or input.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_FRONTENDS_ONNX_ONNXIMPORT_H
#define KVFUSE_FRONTENDS_ONNX_ONNXIMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace kvfuse::onnx {

/// Registers the dialects the importer produces.
void registerImportDialects(mlir::DialectRegistry &registry);

/// Imports the serialized ONNX model in `bytes`; `fileName` only names the
/// source in locations and diagnostics. The entry function is `funcName`.
/// Errors are reported through the context's diagnostic engine and yield a
/// null module.
mlir::OwningOpRef<mlir::ModuleOp> importModel(mlir::MLIRContext &context,
                                              llvm::StringRef bytes,
                                              llvm::StringRef fileName,
                                              llvm::StringRef funcName);

} // namespace kvfuse::onnx

#endif // KVFUSE_FRONTENDS_ONNX_ONNXIMPORT_H
