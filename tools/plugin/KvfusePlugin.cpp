//===- KvfusePlugin.cpp - kv dialect and passes for mlir-opt --------------===//

#include "tools/InitAll.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "KvfusePlugin", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            kvfuse::registerKvDialect(*registry);
            kvfuse::registerKvExtensions(*registry);
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "KvfusePasses", LLVM_VERSION_STRING, []() {
            kvfuse::registerKvPasses();
            kvfuse::registerAllPipelines();
          }};
}
