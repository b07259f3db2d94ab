//===- kvfuse-import-onnx.cpp - ONNX Attention models to kv IR ------------===//
//
// Usage: kvfuse-import-onnx model.onnx [-o out.mlir] [--func-name=main]
// Prints the imported module (a func.func around kv.attention) or the
// importer's error and exits non-zero.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/OnnxImport.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required);
static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("filename"),
                                       cl::init("-"));
static cl::opt<std::string> funcName("func-name",
                                     cl::desc("Name of the entry function"),
                                     cl::init("main"));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "kvfuse ONNX importer\n");

  auto buffer = MemoryBuffer::getFileOrSTDIN(inputFile, /*IsText=*/false);
  if (!buffer) {
    errs() << "kvfuse-import-onnx: cannot read '" << inputFile
           << "': " << buffer.getError().message() << "\n";
    return 1;
  }

  mlir::DialectRegistry registry;
  kvfuse::onnx::registerImportDialects(registry);
  mlir::MLIRContext context(registry);
  // Diagnostics go to stderr as "file: error: message".
  mlir::ScopedDiagnosticHandler handler(&context, [](mlir::Diagnostic &diag) {
    errs() << diag.getLocation() << ": "
           << (diag.getSeverity() == mlir::DiagnosticSeverity::Error
                   ? "error: "
                   : "note: ")
           << diag.str() << "\n";
    return mlir::success();
  });

  auto module = kvfuse::onnx::importModel(
      context, (*buffer)->getBuffer(), inputFile, funcName);
  if (!module)
    return 1;

  std::string message;
  auto output = mlir::openOutputFile(outputFile, &message);
  if (!output) {
    errs() << "kvfuse-import-onnx: " << message << "\n";
    return 1;
  }
  module->print(output->os());
  output->os() << "\n";
  output->keep();
  return 0;
}
