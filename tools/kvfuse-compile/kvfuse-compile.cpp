//===- kvfuse-compile.cpp - kv IR to a CPU or GPU artifact ----------------===//
//
//   kvfuse-compile model.mlir -o model.kvf
//   kvfuse-compile model.mlir --target=nvvm:sm_90 -o model.kvf
//
// Compiles every public function of `model.mlir` for the host CPU and
// writes an artifact directory: `model.so` with one
// `kvfuse_entry_<name>(void **args)` per function (runtime/include/kvfuse/
// abi.h) and `manifest.txt` describing each entry's arguments, roles and
// cache layouts for the runtime. The kv-cpu-pipeline produces LLVM IR in
// process; clang (LLVM 22) optimises it for the target CPU and links the
// shared object, so nothing is compiled at run time.
//
// `--target=nvvm:<chip>` compiles for an NVIDIA GPU instead: the
// kv-nvvm-pipeline turns each public function into a list of kernel
// launches, which the manifest records (the runtime replays it through the
// CUDA driver), and the kernels into `model.ptx` through MLIR's NVVM
// pipeline; when ptxas is found, `model.cubin` is assembled for the chip too.
//
// `--emit=mlir` prints the module after the pipeline (for the GPU: launches
// and gpu-dialect kernels), `--emit=llvm` the LLVM IR and `--emit=ptx` the
// PTX, instead of writing an artifact.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Pipelines.h"
#include "lowering/TargetInfo.h"
#include "lowering/nvvm/LaunchSchedule.h"
#include "tools/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
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

// --help lists these, not the thousands of options every linked LLVM back
// end registers (those stay hidden but still parse).
static cl::OptionCategory kvfuseCategory("kvfuse-compile options");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<input .mlir>"),
                                      cl::init("-"), cl::cat(kvfuseCategory));
static cl::opt<std::string>
    outputPath("o", cl::desc("Artifact directory (or file for --emit)"),
               cl::value_desc("path"), cl::init(""), cl::cat(kvfuseCategory));

enum class Emit { Artifact, Mlir, Llvm, Ptx };
static cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"), cl::init(Emit::Artifact),
    cl::values(clEnumValN(Emit::Artifact, "artifact",
                          "manifest + shared object or PTX (default)"),
               clEnumValN(Emit::Mlir, "mlir",
                          "MLIR after the pipeline (CPU: LLVM dialect; GPU: "
                          "launches and gpu-dialect kernels)"),
               clEnumValN(Emit::Llvm, "llvm", "LLVM IR (CPU)"),
               clEnumValN(Emit::Ptx, "ptx", "PTX (GPU)")),
    cl::cat(kvfuseCategory));
static cl::opt<int64_t>
    keyBlock("key-block",
             cl::desc("Keys per online-softmax block (0: from the target)"),
             cl::init(0), cl::cat(kvfuseCategory));
static cl::opt<int64_t>
    rowTile("row-tile",
            cl::desc("Query rows (over a GQA group) per attention tile "
                     "(0: from the shape and target)"),
            cl::init(0), cl::cat(kvfuseCategory));
static cl::opt<int64_t>
    splits("splits",
           cl::desc("Split-KV chunks per attention tile (0: from the "
                    "target; 1: none)"),
           cl::init(0), cl::cat(kvfuseCategory));
static cl::opt<std::string> scoreKernel(
    "score-kernel",
    cl::desc("CPU score kernel: auto (by tile size, default), dot, "
             "transposed-keys or transposed-queries"),
    cl::init("auto"), cl::cat(kvfuseCategory));
static cl::opt<bool>
    prefetch("prefetch",
             cl::desc("CPU: software-prefetch K/V rows ahead of the "
                      "attention kernels (default on)"),
             cl::init(true), cl::cat(kvfuseCategory));
static cl::opt<bool>
    packGqa("pack-gqa",
            cl::desc("CPU: pack the query heads of each GQA group into one "
                     "head's rows, read K/V once per group (default on)"),
            cl::init(true), cl::cat(kvfuseCategory));
static cl::opt<std::string>
    target("target",
           cl::desc("CPU to tile for: host, or vector-bits=..,l1=..,l2=..,"
                    "cores=.. over the host's values; or an NVIDIA GPU: "
                    "nvvm:sm_80|sm_90|sm_90a[,sms=..,smem=..]"),
           cl::init("host"), cl::cat(kvfuseCategory));
static cl::opt<std::string>
    ptxas("ptxas",
          cl::desc("ptxas used to assemble model.cubin for GPU targets "
                   "(default: $KVFUSE_PTXAS, /usr/local/cuda/bin/ptxas, "
                   "PATH; 'none' skips the cubin)"),
          cl::init(""), cl::cat(kvfuseCategory));
static cl::opt<bool>
    raise("raise",
          cl::desc("Raise unfused attention written with upstream ops to kv "
                   "ops first (default on; --raise=false keeps it unfused)"),
          cl::init(true), cl::cat(kvfuseCategory));
static cl::opt<bool> fuseAppend(
    "fuse-append",
    cl::desc("Fuse kv.append into the following cache attention (default on)"),
    cl::init(true), cl::cat(kvfuseCategory));
static cl::opt<bool> reference(
    "reference",
    cl::desc("Scalar reference loops only (no tiling, vectors or threads)"),
    cl::init(false), cl::cat(kvfuseCategory));
static cl::opt<std::string>
    march("march", cl::desc("Target CPU for clang's -march (default: native)"),
          cl::init("native"), cl::cat(kvfuseCategory));
static cl::opt<std::string>
    compiler("cc", cl::desc("clang used to optimise and link the LLVM IR"),
             cl::init(""), cl::cat(kvfuseCategory));
static cl::opt<bool> keepIR("keep-ir",
                            cl::desc("Keep model.ll in the artifact"),
                            cl::init(false), cl::cat(kvfuseCategory));

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
LogicalResult describeEntry(func::FuncOp func, bool gpu,
                            llvm::raw_ostream &os) {
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
  os << "entry " << func.getSymName();
  // GPU entries are launch lists, not symbols of a library.
  if (!gpu)
    os << " symbol=kvfuse_entry_" << func.getSymName();
  os << " args=" << numArgs
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
  return success();
}

/// One entry's manifest records up to (not including) its `end`.
struct EntryRecords {
  std::string name, text;
};

FailureOr<std::vector<EntryRecords>> describeEntries(ModuleOp module,
                                                     bool gpu) {
  std::vector<EntryRecords> entries;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal())
      continue;
    EntryRecords entry{func.getSymName().str(), ""};
    llvm::raw_string_ostream os(entry.text);
    if (failed(describeEntry(func, gpu, os)))
      return failure();
    entries.push_back(std::move(entry));
  }
  if (entries.empty())
    return emitError(module.getLoc())
           << "expects at least one public function with a body to compile";
  return entries;
}

std::string composeManifest(llvm::StringRef moduleLine,
                            const std::vector<EntryRecords> &entries) {
  std::string text = "kvfuse-manifest 1\nabi 1\n" + moduleLine.str() + "\n";
  for (const EntryRecords &entry : entries)
    text += entry.text + "end\n";
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

/// Writes what `print` prints to -o (stdout by default) for --emit; the
/// tool's exit code.
int emitText(llvm::function_ref<void(llvm::raw_ostream &)> print) {
  std::string error;
  auto out = openOutputFile(
      outputPath.empty() ? std::string("-") : outputPath.getValue(), &error);
  if (!out)
    return fail(error);
  print(out->os());
  out->keep();
  return 0;
}

std::string findPtxas() {
  if (!ptxas.empty())
    return ptxas == "none" ? "" : ptxas.getValue();
  if (const char *env = getenv("KVFUSE_PTXAS"))
    return env;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  if (auto found = llvm::sys::findProgramByName("ptxas"))
    return *found;
  return "";
}

LogicalResult writeFile(llvm::StringRef path, llvm::StringRef text) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return failure();
  os << text;
  return success();
}

/// The GPU back end: launch lists into the manifest, kernels to PTX (and a
/// cubin when ptxas is available).
int compileForGpu(ModuleOp module, std::vector<EntryRecords> &entries,
                  const kv::TargetInfo &info) {
  std::string error;
  const kv::GpuTarget *gpuTarget = &info.gpu;
  llvm::StringRef targetSpec = info.backendSpec;

  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return 1;
  kv::NvvmPipelineOptions options;
  options.target = targetSpec.str();
  options.splits = splits;
  options.raise = raise;
  options.fuseAppend = fuseAppend;
  kv::buildNvvmPipeline(pm, options);
  if (failed(pm.run(module)))
    return fail("lowering " + inputFile + " failed");

  if (emit == Emit::Mlir)
    return emitText([&](llvm::raw_ostream &os) { module.print(os); });
  if (emit == Emit::Llvm)
    return fail("--emit=llvm is for CPU targets; use --emit=ptx");

  // Host functions become the manifest's launch lists, then go: only the
  // kernel module is compiled.
  for (EntryRecords &entry : entries) {
    auto host = module.lookupSymbol<func::FuncOp>(entry.name);
    llvm::raw_string_ostream os(entry.text);
    if (!host || failed(kv::describeLaunchSchedule(host, os)))
      return fail("no GPU launch list for @" + entry.name);
  }
  for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
    func.erase();

  PassManager kernels(module.getContext());
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = gpuTarget->chip;
  nvvm.cubinFeatures = gpuTarget->features;
  nvvm.cubinFormat = "isa";
  nvvm.kernelUseBarePtrCallConv = true;
  gpu::buildLowerToNVVMPassPipeline(kernels, nvvm);
  if (failed(kernels.run(module)))
    return fail("compiling the kernels of " + inputFile + " to PTX failed");
  std::string ptx;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute object : binary.getObjects())
      if (auto obj = dyn_cast<gpu::ObjectAttr>(object))
        ptx = obj.getObject().str();
  });
  if (ptx.empty())
    return fail("the NVVM pipeline produced no PTX");

  if (emit == Emit::Ptx)
    return emitText([&](llvm::raw_ostream &os) { os << ptx; });

  if (outputPath.empty())
    return fail("expects -o <artifact directory>");
  if (std::error_code ec = llvm::sys::fs::create_directories(outputPath))
    return fail("cannot create " + outputPath + ": " + ec.message());
  llvm::SmallString<256> ptxPath(outputPath), cubinPath(outputPath),
      manifestPath(outputPath);
  llvm::sys::path::append(ptxPath, "model.ptx");
  llvm::sys::path::append(cubinPath, "model.cubin");
  llvm::sys::path::append(manifestPath, "manifest.txt");
  llvm::sys::fs::remove(manifestPath);
  llvm::sys::fs::remove(cubinPath);
  if (failed(writeFile(ptxPath, ptx)))
    return fail("cannot write " + ptxPath);

  std::string moduleLine = "gpu-module model.ptx chip=" + gpuTarget->chip;
  std::string assembler = findPtxas();
  if (!assembler.empty()) {
    std::string arch = "-arch=" + gpuTarget->chip;
    llvm::SmallVector<llvm::StringRef> args = {assembler, arch, ptxPath, "-o",
                                               cubinPath};
    std::string ptxasError;
    int rc = llvm::sys::ExecuteAndWait(assembler, args, std::nullopt, {}, 0,
                                       0, &ptxasError);
    if (rc != 0)
      return fail("ptxas rejected " + ptxPath + " (" + llvm::Twine(rc) +
                  ") " + ptxasError);
    moduleLine += " cubin=model.cubin";
  }
  if (failed(writeFile(manifestPath, composeManifest(moduleLine, entries))))
    return fail("cannot write " + manifestPath);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerPassManagerCLOptions();
  registerMLIRContextCLOptions();
  registerAsmPrinterCLOptions();
  cl::HideUnrelatedOptions(kvfuseCategory);
  cl::ParseCommandLineOptions(argc, argv,
                              "kvfuse-compile: kv IR to a CPU or GPU artifact\n");

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

  std::optional<kv::TargetInfo> info = kv::TargetInfo::parse(target, error);
  if (!info)
    return fail("--target=" + target + ": " + error);
  FailureOr<std::vector<EntryRecords>> entries =
      describeEntries(*module, info->isGpu());
  if (failed(entries))
    return 1;
  if (info->isGpu())
    return compileForGpu(*module, *entries, *info);
  std::string manifest = composeManifest("library model.so", *entries);

  PassManager pm(&context);
  if (failed(applyPassManagerCLOptions(pm)))
    return 1;
  kv::CpuPipelineOptions options;
  options.keyBlock = keyBlock;
  options.splits = splits;
  options.rowTile = rowTile;
  options.scoreKernel = scoreKernel;
  options.prefetch = prefetch;
  options.packGqa = packGqa;
  options.target = info->backendSpec;
  options.raise = raise;
  options.fuseAppend = fuseAppend;
  options.reference = reference;
  kv::buildCpuPipeline(pm, options);
  if (failed(pm.run(*module)))
    return fail("lowering " + inputFile + " failed");

  if (emit == Emit::Mlir)
    return emitText([&](llvm::raw_ostream &os) { module->print(os); });

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, "kvfuse-model");
  if (!llvmModule)
    return fail("translating to LLVM IR failed");

  if (emit == Emit::Ptx)
    return fail("--emit=ptx needs a GPU target (--target=nvvm:<chip>)");
  if (emit == Emit::Llvm)
    return emitText(
        [&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); });

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
  os << manifest;
  return 0;
}
