//===- kvfuse-compile.cpp - kv IR to a CPU artifact -----------------------===//
//
//   kvfuse-compile model.mlir -o model.kvf
//
// Compiles every public function of `model.mlir` for the host CPU and
// writes an artifact directory: `model.so` with one
// `kvfuse_entry_<name>(void **args)` per function (runtime/include/kvfuse/
// abi.h) and `manifest.txt` describing each entry's arguments, roles and
// cache layouts for the runtime. The kv-cpu-pipeline produces LLVM IR in
// process; clang (LLVM 22) optimises it for the target CPU and links the
// shared object, so nothing is compiled at run time.
//
// `--emit=mlir` prints the module after the pipeline and `--emit=llvm` the
// LLVM IR, instead of writing an artifact.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Pipelines.h"
#include "tools/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<input .mlir>"),
                                      cl::init("-"));
static cl::opt<std::string>
    outputPath("o", cl::desc("Artifact directory (or file for --emit)"),
               cl::value_desc("path"), cl::init(""));

enum class Emit { Artifact, Mlir, Llvm };
static cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"), cl::init(Emit::Artifact),
    cl::values(clEnumValN(Emit::Artifact, "artifact",
                          "manifest + shared object (default)"),
               clEnumValN(Emit::Mlir, "mlir", "LLVM-dialect MLIR"),
               clEnumValN(Emit::Llvm, "llvm", "LLVM IR")));
static cl::opt<int64_t>
    keyBlock("key-block",
             cl::desc("Keys per online-softmax block (0: from the target)"),
             cl::init(0));
static cl::opt<int64_t>
    rowTile("row-tile",
            cl::desc("Query rows (over a GQA group) per attention tile"),
            cl::init(16));
static cl::opt<int64_t>
    splits("splits",
           cl::desc("Split-KV chunks per attention tile (0: from the "
                    "target; 1: none)"),
           cl::init(0));
static cl::opt<int64_t> transposeKeys(
    "transpose-keys",
    cl::desc("Score kernel: 1 transposed K blocks, 0 dot products "
             "(default), -1 by tile size"),
    cl::init(0));
static cl::opt<std::string>
    target("target",
           cl::desc("CPU to tile for: host, or vector-bits=..,l1=..,l2=..,"
                    "cores=.. over the host's values"),
           cl::init("host"));
static cl::opt<bool>
    raise("raise",
          cl::desc("Raise unfused attention written with upstream ops to kv "
                   "ops first (default on; --raise=false keeps it unfused)"),
          cl::init(true));
static cl::opt<bool> fuseAppend(
    "fuse-append",
    cl::desc("Fuse kv.append into the following cache attention (default on)"),
    cl::init(true));
static cl::opt<bool> reference(
    "reference",
    cl::desc("Scalar reference loops only (no tiling, vectors or threads)"),
    cl::init(false));
static cl::opt<std::string>
    march("march", cl::desc("Target CPU for clang's -march (default: native)"),
          cl::init("native"));
static cl::opt<std::string>
    compiler("cc", cl::desc("clang used to optimise and link the LLVM IR"),
             cl::init(""));
static cl::opt<bool> keepIR("keep-ir",
                            cl::desc("Keep model.ll in the artifact"),
                            cl::init(false));

namespace {

/// Manifest spelling of an element type, or "" when the runtime has none.
std::string dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isInteger(32))
    return "i32";
  if (type.isInteger(1))
    return "i1";
  return "";
}

std::string shapeString(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "1";
  std::string s;
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "x" : "") + std::to_string(d);
  return s;
}

/// Describes one tensor argument or result; fails with a diagnostic at
/// `loc` when the runtime cannot bind it.
LogicalResult describeTensor(Location loc, StringRef what, Type type,
                             StringRef name, StringRef role,
                             llvm::raw_ostream &os) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return emitError(loc) << what
                          << " expects a tensor of static shape, got " << type;
  std::string dtype = dtypeName(tensor.getElementType());
  if (dtype.empty())
    return emitError(loc) << what
                          << " expects element type f32, f16, bf16, i32 or "
                             "i1, got "
                          << tensor.getElementType();
  os << " name=" << name << " kind=tensor dtype=" << dtype
     << " shape=" << shapeString(tensor.getShape()) << " role=" << role
     << "\n";
  return success();
}

/// Writes the manifest entry of one public function.
LogicalResult describeEntry(func::FuncOp func, llvm::raw_ostream &os) {
  int64_t numArgs = func.getNumArguments() + func.getNumResults();
  // Tokens each step appends: the attribute, else what kv.append writes.
  int64_t stepTokens = 0;
  if (auto attr = func->getAttrOfType<IntegerAttr>("kv.step_tokens")) {
    stepTokens = attr.getInt();
  } else {
    func.walk([&](kv::AppendOp append) {
      stepTokens = cast<ShapedType>(append.getKey().getType()).getDimSize(2);
    });
  }
  os << "entry " << func.getSymName() << " symbol=kvfuse_entry_"
     << func.getSymName() << " args=" << numArgs
     << " step_tokens=" << stepTokens << "\n";
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    std::string name = "arg" + std::to_string(i);
    if (auto attr = func.getArgAttrOfType<StringAttr>(i, "kv.name"))
      name = attr.str();
    std::string what =
        ("argument " + std::to_string(i) + " of @" + func.getSymName()).str();
    os << "arg " << i;
    if (auto cache = dyn_cast<kv::CacheType>(type)) {
      std::string dtype = dtypeName(cache.getElementType());
      if (cache.isQuantized() || dtype.empty() || dtype == "i32" ||
          dtype == "i1")
        return emitError(func.getLoc())
               << what << " expects a cache of f32, f16 or bf16, got " << type;
      bool paged = isa<kv::PagedLayoutAttr>(cache.getLayout());
      os << " name=" << name << " kind=cache dtype=" << dtype
         << " heads=" << cache.getHeads() << " head_dim=" << cache.getHeadDim()
         << " value_dim=" << cache.getValueHeadDim()
         << " capacity=" << cache.getCapacity()
         << " layout=" << (paged ? "paged" : "contiguous")
         << " page_size=" << cache.getPageSize()
         << " pages_per_seq=" << cache.getPagesPerSequence() << "\n";
      continue;
    }
    std::string role = "input";
    if (auto attr = func.getArgAttrOfType<StringAttr>(i, "kv.role"))
      role = attr.str();
    if (failed(describeTensor(func.getLoc(), what, type, name, role, os)))
      return failure();
  }
  for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
    int64_t index = func.getNumArguments() + i;
    os << "arg " << index;
    std::string what =
        ("result " + std::to_string(i) + " of @" + func.getSymName()).str();
    if (failed(describeTensor(func.getLoc(), what, type,
                              "out" + std::to_string(i), "output", os)))
      return failure();
  }
  os << "end\n";
  return success();
}

FailureOr<std::string> buildManifest(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "kvfuse-manifest 1\nabi 1\nlibrary model.so\n";
  int entries = 0;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal())
      continue;
    if (failed(describeEntry(func, os)))
      return failure();
    ++entries;
  }
  if (entries == 0)
    return emitError(module.getLoc())
           << "expects at least one public function with a body to compile";
  return text;
}

std::string findCompiler() {
  if (!compiler.empty())
    return compiler;
  if (const char *env = getenv("KVFUSE_CC"))
    return env;
  for (const char *candidate :
       {"/usr/lib/llvm-22/bin/clang", "/usr/bin/clang-22"})
    if (llvm::sys::fs::can_execute(candidate))
      return candidate;
  if (auto found = llvm::sys::findProgramByName("clang-22"))
    return *found;
  return "";
}

int fail(const llvm::Twine &message) {
  llvm::errs() << "kvfuse-compile: " << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerPassManagerCLOptions();
  registerMLIRContextCLOptions();
  registerAsmPrinterCLOptions();
  cl::ParseCommandLineOptions(argc, argv,
                              "kvfuse-compile: kv IR to a CPU artifact\n");

  DialectRegistry registry;
  kvfuse::registerAllDialects(registry);
  kvfuse::registerAllExtensions(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    return fail(error);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  FailureOr<std::string> manifest = buildManifest(*module);
  if (failed(manifest))
    return 1;

  PassManager pm(&context);
  if (failed(applyPassManagerCLOptions(pm)))
    return 1;
  kv::CpuPipelineOptions options;
  options.keyBlock = keyBlock;
  options.splits = splits;
  options.rowTile = rowTile;
  options.transposeKeys = transposeKeys;
  options.target = target;
  options.raise = raise;
  options.fuseAppend = fuseAppend;
  options.reference = reference;
  kv::buildCpuPipeline(pm, options);
  if (failed(pm.run(*module)))
    return fail("lowering " + inputFile + " failed");

  if (emit == Emit::Mlir) {
    auto out = openOutputFile(outputPath.empty() ? std::string("-") : outputPath.getValue(), &error);
    if (!out)
      return fail(error);
    module->print(out->os());
    out->keep();
    return 0;
  }

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, "kvfuse-model");
  if (!llvmModule)
    return fail("translating to LLVM IR failed");

  if (emit == Emit::Llvm) {
    auto out = openOutputFile(outputPath.empty() ? std::string("-") : outputPath.getValue(), &error);
    if (!out)
      return fail(error);
    llvmModule->print(out->os(), nullptr);
    out->keep();
    return 0;
  }

  if (outputPath.empty())
    return fail("expects -o <artifact directory>");
  if (std::error_code ec = llvm::sys::fs::create_directories(outputPath))
    return fail("cannot create " + outputPath + ": " + ec.message());
  llvm::SmallString<256> irPath(outputPath), soPath(outputPath),
      manifestPath(outputPath);
  llvm::sys::path::append(irPath, "model.ll");
  llvm::sys::path::append(soPath, "model.so");
  llvm::sys::path::append(manifestPath, "manifest.txt");
  // A stale manifest must not describe a library that failed to build.
  llvm::sys::fs::remove(manifestPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(irPath, ec);
    if (ec)
      return fail("cannot write " + irPath + ": " + ec.message());
    llvmModule->print(os, nullptr);
  }

  std::string cc = findCompiler();
  if (cc.empty())
    return fail("clang not found (install clang-22, or pass --cc PATH)");
  std::string marchFlag = "-march=" + march;
  llvm::SmallVector<llvm::StringRef> ccArgs = {
      cc, "-O3", marchFlag, "-fPIC", "-shared", "-Wno-override-module",
      // Parallel tiles call the OpenMP runtime (libomp).
      "-fopenmp", "-o", soPath, irPath, "-lm"};
  std::string ccError;
  int rc = llvm::sys::ExecuteAndWait(cc, ccArgs, std::nullopt, {}, 0, 0,
                                     &ccError);
  if (!keepIR)
    llvm::sys::fs::remove(irPath);
  if (rc != 0)
    return fail("clang failed (" + llvm::Twine(rc) + ") " + ccError);

  std::error_code ec;
  llvm::raw_fd_ostream os(manifestPath, ec);
  if (ec)
    return fail("cannot write " + manifestPath + ": " + ec.message());
  os << *manifest;
  return 0;
}
