//===- kvfuse-opt.cpp - kvfuse's opt driver -------------------------------===//

#include "tools/InitAll.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  kvfuse::registerAllDialects(registry);
  kvfuse::registerAllExtensions(registry);
  kvfuse::registerAllPasses();
  kvfuse::registerAllPipelines();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "kvfuse optimizer driver\n", registry));
}
