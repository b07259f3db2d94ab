//===- Pipelines.cpp - named kv lowering pipelines ------------------------===//

#include "lowering/Pipelines.h"
#include "frontends/raising/Passes.h"
#include "lowering/Passes.h"
#include "passes/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::kv;

namespace {

/// The target-neutral half of every back end: raising, fusion of appends
/// and bufferization with results as trailing out-parameters (the order the
/// manifest lists them in).
void buildBufferizedKvPipeline(OpPassManager &pm, bool raise, bool fuseAppend,
                               bool deallocate) {
  // Model graphs written with upstream ops get their attention fused.
  if (raise)
    pm.addNestedPass<func::FuncOp>(createRaiseAttentionPass());
  pm.addNestedPass<func::FuncOp>(createDecomposeAggregatesPass());
  // A step's append and the attention reading it become one op, so the back
  // end reads the new rows from the step's inputs.
  if (fuseAppend)
    pm.addNestedPass<func::FuncOp>(createFuseAppendPass());
  pm.addPass(createCanonicalizerPass());

  // Tensors to buffers; function results become trailing out-parameters,
  // which is the order the manifest lists them in.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  if (deallocate)
    bufferization::buildBufferDeallocationPipeline(pm);
}

} // namespace

void mlir::kv::buildCpuPipeline(OpPassManager &pm,
                                const CpuPipelineOptions &options) {
  buildBufferizedKvPipeline(pm, options.raise, options.fuseAppend,
                            /*deallocate=*/true);

  // The heads of a GQA group become one head's rows, so that a tile holds
  // rows of all of them and reads each K/V row once (the reference loops
  // take the packed form too: it is a view).
  if (options.packGqa)
    pm.addNestedPass<func::FuncOp>(createPackGqaPass());
  // Attention as parallel vectorised tiles; every other kv op (and any
  // attention the tiler declines) as plain loops.
  if (!options.reference) {
    // The tiling is chosen (and recorded on each op) next, then followed.
    CpuPlanTilesPassOptions plan;
    plan.rowTile = options.rowTile;
    plan.keyBlock = options.keyBlock;
    plan.splits = options.splits;
    plan.scoreKernel = options.scoreKernel;
    plan.target = options.target;
    pm.addNestedPass<func::FuncOp>(createCpuPlanTilesPass(plan));
    // Plans with key splits become split-form ops and their kv.merge.
    pm.addNestedPass<func::FuncOp>(createSplitKvPass());
    // Online softmax in query-block x key-block tiles, then the register
    // kernels of each block.
    CpuTileAttentionPassOptions tiles;
    tiles.parallel = options.threads;
    tiles.target = options.target;
    pm.addNestedPass<func::FuncOp>(createCpuTileAttentionPass(tiles));
    CpuVectorizeAttentionPassOptions kernels;
    kernels.prefetch = options.prefetch;
    pm.addNestedPass<func::FuncOp>(createCpuVectorizeAttentionPass(kernels));
  }
  LowerToLoopsPassOptions loops;
  if (options.keyBlock > 0)
    loops.keyBlock = options.keyBlock;
  pm.addNestedPass<func::FuncOp>(createLowerToLoopsPass(loops));
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createCpuEmitEntryPointsPass());

  // Loops to LLVM; parallel loops become OpenMP worksharing loops.
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createCpuInlineAllocaScopesPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCpuToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::kv::buildNvvmPipeline(OpPassManager &pm,
                                 const NvvmPipelineOptions &options) {
  // GPU scratch is owned by the runtime (allocated once per entry), so the
  // host side needs no deallocation.
  buildBufferizedKvPipeline(pm, options.raise, options.fuseAppend,
                            /*deallocate=*/false);
  NvvmLowerAppendPassOptions append;
  append.target = options.target;
  pm.addPass(createNvvmLowerAppendPass(append));
  NvvmLowerDecodePassOptions decode;
  decode.target = options.target;
  decode.splits = options.splits;
  pm.addPass(createNvvmLowerDecodePass(decode));
  // Long queries against a cache (prefill with a cache) become dense
  // attention on a gathered copy, for the prefill lowering.
  NvvmGatherCachePrefillPassOptions gather;
  gather.target = options.target;
  pm.addPass(createNvvmGatherCachePrefillPass(gather));
  LowerPrefillAttentionPassOptions prefill;
  prefill.targetSpec = options.target;
  pm.addPass(createLowerPrefillAttentionPass(prefill));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::kv::registerPipelines() {
  PassPipelineRegistration<NvvmPipelineOptions>(
      "kv-nvvm-pipeline",
      "Lower kv IR on tensors to gpu.launch_func lists and NVVM kernels in "
      "gpu.module @kvfuse_kernels",
      buildNvvmPipeline);
  PassPipelineRegistration<CpuPipelineOptions>(
      "kv-cpu-pipeline",
      "Lower kv IR on tensors to LLVM dialect for x86-64 with kvfuse_entry_* "
      "entry points",
      buildCpuPipeline);
}
