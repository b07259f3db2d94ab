//===- Pipelines.h - named kv lowering pipelines ----------------*- C++ -*-===//

#ifndef KVFUSE_LOWERING_PIPELINES_H
#define KVFUSE_LOWERING_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <cstdint>

namespace mlir {
class OpPassManager;
namespace kv {

/// Options of the kv-level half that both pipelines share (raising
/// unfused attention, fusing appends), declared once for either pipeline's
/// option struct `Derived`.
template <typename Derived>
struct KvPipelineOptions : PassPipelineOptions<Derived> {
  ::mlir::detail::PassOptions::Option<bool> raise{
      *this, "raise",
      llvm::cl::desc("First raise unfused attention in upstream ops "
                     "(kv-raise-attention)"),
      llvm::cl::init(true)};
  ::mlir::detail::PassOptions::Option<bool> fuseAppend{
      *this, "fuse-append",
      llvm::cl::desc("Fuse kv.append into the cache attention that follows "
                     "(kv-fuse-append)"),
      llvm::cl::init(true)};
};

/// Options of `kv-cpu-pipeline`.
struct CpuPipelineOptions : KvPipelineOptions<CpuPipelineOptions> {
  PassOptions::Option<int64_t> keyBlock{
      *this, "key-block",
      llvm::cl::desc("Keys per online-softmax block in attention loops (0: "
                     "from the target)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> splits{
      *this, "splits",
      llvm::cl::desc("Split-KV chunks per attention tile (0: from the "
                     "target; 1: none)"),
      llvm::cl::init(0)};
  PassOptions::Option<std::string> scoreKernel{
      *this, "score-kernel",
      llvm::cl::desc("Score kernel: auto (by tile size, default), dot, "
                     "transposed-keys or transposed-queries"),
      llvm::cl::init("auto")};
  PassOptions::Option<std::string> target{
      *this, "target",
      llvm::cl::desc("CPU description: host, or vector-bits=..,l1=..,l2=..,"
                     "cores=.. over the host's values"),
      llvm::cl::init("host")};
  PassOptions::Option<int64_t> rowTile{
      *this, "row-tile",
      llvm::cl::desc("Query rows (over a packed GQA group) per attention tile "
                     "(0: from the shape and target)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> packGqa{
      *this, "pack-gqa",
      llvm::cl::desc("Pack the query heads of each GQA group into one "
                     "head's rows, so that tiles read K/V once per group "
                     "(kv-pack-gqa)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> prefetch{
      *this, "prefetch",
      llvm::cl::desc("Software-prefetch K/V rows ahead of the attention "
                     "kernels"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> threads{
      *this, "threads",
      llvm::cl::desc("Run attention tiles on all cores (OpenMP)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> reference{
      *this, "reference",
      llvm::cl::desc("Scalar reference loops only (no tiling, vectors or "
                     "threads)"),
      llvm::cl::init(false)};
};

/// kv IR on tensors (plus the upstream tensor/linalg ops the front ends
/// emit) to LLVM dialect for x86-64, with one `kvfuse_entry_<name>` per
/// public function: bufferize (results become trailing out-parameters),
/// lower kv ops and linalg to loops, emit entry points, convert to LLVM.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Options of `kv-nvvm-pipeline`.
struct NvvmPipelineOptions : KvPipelineOptions<NvvmPipelineOptions> {
  PassOptions::Option<std::string> target{
      *this, "target",
      llvm::cl::desc("GPU description: sm_80 | sm_90 | sm_90a, optionally "
                     "followed by ,sms=..,smem=..,features=.."),
      llvm::cl::init("sm_90")};
  PassOptions::Option<int64_t> splits{
      *this, "splits",
      llvm::cl::desc("Split-KV chunks of decode attention (0: fill the "
                     "GPU's SMs)"),
      llvm::cl::init(0)};
};

/// kv IR on tensors to host functions that are straight-line lists of
/// `gpu.launch_func` on buffers (arguments, cache views, static scratch)
/// plus the kernels in `gpu.module @kvfuse_kernels`: bufferize (results
/// become trailing out-parameters), then the NVVM lowerings of append,
/// decode and prefill attention. kvfuse-compile turns the host functions
/// into the manifest's launch lists and the kernel module into PTX.
void buildNvvmPipeline(OpPassManager &pm, const NvvmPipelineOptions &options);

/// Registers `kv-cpu-pipeline` and `kv-nvvm-pipeline`.
void registerPipelines();

} // namespace kv
} // namespace mlir

#endif // KVFUSE_LOWERING_PIPELINES_H
