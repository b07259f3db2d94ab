//===- Passes.td - kv lowering passes ---------------------*- tablegen -*-===//
//
// Passes that take the kv dialect out of itself: target-neutral loops
// (lowering/common) and the CPU back end (lowering/cpu).
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_PASSES_TD
#define KVFUSE_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToLoopsPass
    : InterfacePass<"kv-lower-to-loops", "mlir::FunctionOpInterface"> {
  let summary = "Lower kv ops on memrefs to scf loops";
  let description = [{
    Rewrites every kv op in its memref (bufferized) form as target-neutral
    loops over scf, memref, arith and math. Attention ops become one loop
    nest over (batch, query head, query row) that visits only the key range
    the causal, window and length bounds leave open, in blocks of
    `key-block` keys, with an online softmax (running max and sum, one
    rescale of the accumulator per block). Caches are read and written
    through `kv.cache_view`: the page pool and page table behind the handle.
    Scratch rows live in stack buffers allocated once per function.
    `memref.copy` becomes loops too, so artifacts need no runtime library.
  }];
  let options = [
    Option<"keyBlock", "key-block", "int64_t", /*default=*/"64",
           "Keys whose scores are computed before one softmax rescale">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def DecomposeAggregatesPass
    : InterfacePass<"kv-decompose-aggregates", "mlir::FunctionOpInterface"> {
  let summary = "Decompose aggregate linalg ops (linalg.softmax) on tensors";
  let description = [{
    Replaces ops with `linalg::AggregatedOpInterface` (linalg.softmax) by
    their decomposition into linalg.generic reductions and element-wise ops,
    which the loop lowering handles. Runs after raising, so attention that
    was raised never reaches it.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

// Options that steer the CPU tiling plan, shared by kv-cpu-plan-tiles and
// kv-cpu-tile-attention (which plans ops that carry no plan itself; the key
// splits it takes from the op's split form only).
defvar CpuTilingOptions = [
    Option<"rowTile", "row-tile", "int64_t", /*default=*/"0",
           "Query rows (over the packed heads of kv-pack-gqa) per tile; 0: "
           "64, or 32 "
           "or 16 when larger tiles are fewer than twice the target's "
           "cores">,
    Option<"keyBlock", "key-block", "int64_t", /*default=*/"0",
           "Keys per online-softmax block (0: from the target's L1 size, "
           "doubled up to 128 for the transposed kernels)">,
    Option<"scoreKernel", "score-kernel", "std::string",
           /*default=*/"\"auto\"",
           "Score kernel: dot (dot products with shuffle reductions), "
           "transposed-keys (each K block transposed, broadcast FMAs), "
           "transposed-queries (the tile's Q transposed once, scores as "
           "S^T; tiles of whole 16-row vectors without an explicit mask, "
           "others fall back to transposed-keys), or auto (default): "
           "transposed-queries for tiles of 16 rows or more (prefill), dot "
           "below (decode)">,
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "Target description: host, or over host defaults a list like "
           "vector-bits=512,l1=32768,l2=1048576,cores=2">,
];

def CpuPlanTilesPass
    : InterfacePass<"kv-cpu-plan-tiles", "mlir::FunctionOpInterface"> {
  let summary = "Choose each attention op's CPU tiling from a target "
                "description";
  let description = [{
    Records on every `kv.attention`, `kv.partial_attention`,
    `kv.cache_attention` and `kv.append_attention` (tensor or memref form)
    the tiling `kv-cpu-tile-attention` will follow, as a
    `kv.cpu_tiles = #kv.cpu_tiles<...>` attribute: query rows per head in a
    tile (the packed heads of an op in `kv-pack-gqa`'s form share a tile),
    keys per block, key splits (split-KV) and score kernel. They derive from the op's shape and
    the target's vector width, L1 size and core count unless the options
    fix them. Ops that already carry a plan keep it, so a plan can be pinned
    by hand.
  }];
  let options = !listconcat(CpuTilingOptions, [
    Option<"splits", "splits", "int64_t", /*default=*/"0",
           "Key splits per tile (split-KV, realised by kv-split-kv); 0: "
           "enough splits for twice the target's cores when tiles are few "
           "and keys many; 1: none. An op in split form keeps its count">,
  ]);
}

def CpuTileAttentionPass
    : InterfacePass<"kv-cpu-tile-attention", "mlir::FunctionOpInterface"> {
  let summary = "Online-softmax attention in flash-attention tiles: query "
                "blocks x key blocks, fully masked key blocks skipped";
  let description = [{
    Rewrites `kv.attention`, `kv.partial_attention`, `kv.cache_attention`
    and `kv.append_attention` (memref form, unit-stride rows) into their
    online-softmax form, tiled: independent tiles of (batch entry, head of
    Q, block of query rows) run by an `scf.parallel` loop. A tile of an op
    packed by `kv-pack-gqa` holds the block's rows of every packed query
    head, all reading one KV head, so each K/V row is loaded once per tile
    for all of them (without packing, once per query head). Each tile
    allocates its running state on its stack (the rows' query scaled once,
    accumulators, running max and sum, visible key range), computes each
    row's visible keys from the causal, window and length bounds, and loops
    over blocks of `key-block` keys of the union of those ranges only:
    blocks masked for every row of the tile are never visited. Each block is
    one `kv.attend_block` (the online-softmax update: new max, rescale of
    sum and accumulators, `exp(s - max)`, `P.V`), which
    `kv-cpu-vectorize-attention` turns into register kernels; after the
    loop each row is normalised (0 for a row without a visible key) and
    written with its log-sum-exp where the op returns one.

    Tiles have about `row-tile` query rows (at least one row of each packed
    head). Ops in split form (`kv-split-kv`) run every (tile, split) pair as
    one parallel iteration, split n taking the n-th chunk (whole key
    blocks) of the tile's visible keys and writing its partial output and
    log-sum-exp. A fused append (`kv.append_attention`) loops over the
    cached keys, then over this step's rows read from its inputs, and each
    tile writes its share of those rows into the cache. An op's tiling is
    the `kv.cpu_tiles` plan recorded on it (`kv-cpu-plan-tiles`; a plan the
    kernels cannot run is an error), else one derived here from the same
    options. Ops it cannot handle are left to `kv-lower-to-loops`.
  }];
  let options = !listconcat(CpuTilingOptions, [
    Option<"parallel", "parallel", "bool", /*default=*/"true",
           "Run tiles in an scf.parallel loop (else sequential scf.for)">,
  ]);
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def CpuVectorizeAttentionPass
    : InterfacePass<"kv-cpu-vectorize-attention", "mlir::FunctionOpInterface"> {
  let summary = "Register kernels for the steps of tiled attention "
                "(kv.attend_block)";
  let description = [{
    Rewrites each `kv.attend_block` (from `kv-cpu-tile-attention`) into
    AVX-512-shaped vector code over `vector<16xf32>` and whole rows: the
    block's scores S = Q K^T by the step's `score_kernel`, a register-
    blocked dot-product kernel (small tiles: decode; shuffle-tree
    reductions), broadcast FMAs over each K block transposed, or broadcast
    FMAs over the tile's query rows transposed once per tile (tiles of 16
    rows or more: scores, running max and sums then hold 16 rows per
    vector, so nothing is reduced across lanes); then the online-softmax
    update with a libm-free vector exp (the rows' rescale factors as one
    vector; masking only for blocks not wholly visible to a row) and `P.V`
    accumulated into the rows' accumulators in register blocks. f16/bf16
    rows are converted on load. Kernel scratch (scores, transposes, rescale
    factors) is allocated once per tile ahead of its key-block loop, on the
    tile's stack.
  }];
  let options = [
    Option<"prefetch", "prefetch", "bool", /*default=*/"true",
           "Software-prefetch V rows a few keys ahead while scoring and the "
           "next block's K rows during P.V">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def CpuInlineAllocaScopesPass
    : Pass<"kv-cpu-inline-alloca-scopes", "mlir::ModuleOp"> {
  let summary = "Inline memref.alloca_scope between stack save and restore";
  let description = [{
    Replaces each `memref.alloca_scope` by its body between
    `llvm.intr.stacksave` and `llvm.intr.stackrestore`, so that stack
    buffers of a parallel or sequential tile are released per iteration and
    the loops inside the scope can be lowered to branches.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def CpuEmitEntryPointsPass : Pass<"kv-cpu-emit-entry-points", "mlir::ModuleOp"> {
  let summary = "Wrap public functions in kvfuse_entry_<name>(void **args)";
  let description = [{
    For every public function with a body (memref arguments of static shape
    and identity layout, `!kv.cache` arguments, no results: run
    `buffer-results-to-out-params` first), emits the entry point of the
    runtime's calling convention (runtime/include/kvfuse/abi.h):
    `void kvfuse_entry_<name>(void **args)`, where `args[i]` is the address
    of the first element of a tensor argument or of a `kvfuse_cache_desc`.
    The wrapped function becomes internal so that LLVM may inline it.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::func::FuncDialect"];
}

def CpuToLLVMPass : Pass<"kv-cpu-to-llvm", "mlir::ModuleOp"> {
  let summary = "Convert loops, memrefs and cache handles to the LLVM dialect";
  let description = [{
    The CPU back end's final conversion: func, arith, math, cf, memref,
    index, ub, vector and OpenMP ops to the LLVM dialect, `!kv.cache`
    handles to pointers to `kvfuse_cache_desc`, and `kv.cache_view` to loads
    of the descriptor's pools and page table. `math.tanh` is expanded into
    `math.exp` first (LLVM would call libm's tanhf).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

//===----------------------------------------------------------------------===//
// NVVM back end
//===----------------------------------------------------------------------===//

def NvvmLowerDecodePass : Pass<"kv-nvvm-lower-decode", "mlir::ModuleOp"> {
  let summary = "Lower decode attention on caches to flash-decoding GPU kernels";
  let description = [{
    Rewrites memref-form `kv.cache_attention` and `kv.append_attention` whose
    query length Sq is small (Hq / Hkv * Sq <= `max-rows`) into kernels of
    the `gpu.module @kvfuse_kernels` and their launches:
      - for `kv.append_attention`, the append kernel of
        `kv-nvvm-lower-append` first (the attention then reads the cache);
      - `decode_partial`, grid (splits, Hkv, B), `threads` threads: one block
        owns one KV head of one sequence and one slice of the keys; the Sq
        rows of all query heads of the GQA group are the block's rows (each
        with its own bottom-right causal and window bounds), so every K/V
        row is read once. K/V rows are read through the page table with
        16-byte loads, converted to f32; scores are scaled (and soft-capped)
        in base 2 for `ex2.approx`; the online softmax keeps per-row
        statistics reduced by warp shuffles;
      - with more than one split, `decode_merge`, grid (Sq, Hq, B), Dv
        threads: the LSE-weighted merge of the partials, which live in
        `memref.alloc` scratch of the host function.
    Explicit masks (i1 or float, static shape, broadcast as the op says) are
    kernel operands after the lengths. Rows whose keys are all masked
    (kv_lens 0) give 0. Larger query lengths are left for a prefill
    lowering; dynamic shapes and head dims that are not a multiple of the
    16-byte vector are diagnosed.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm_90\"",
           "GPU target: sm_NN[a] with optional sms=,smem=,features= fields">,
    Option<"splits", "splits", "int64_t", /*default=*/"0",
           "Key splits per (KV head, sequence); 0: enough blocks for four "
           "per SM">,
    Option<"maxRows", "max-rows", "int64_t", /*default=*/"16",
           "Largest (query heads per KV head) x Sq lowered as decode">,
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "Threads per block and keys per tile (64, 128 or 256)">,
    Option<"stageV", "stage-v", "bool", /*default=*/"false",
           "Load each tile's V rows with its K rows into shared memory "
           "(when they fit)">,
    Option<"loadUnroll", "load-unroll", "int64_t", /*default=*/"0",
           "16-byte K loads issued together per thread in the score loop "
           "(0: up to 64 registers' worth dividing D)">,
    Option<"maxRegisters", "max-registers", "int64_t", /*default=*/"-1",
           "Registers per thread of the partial kernel (nvvm.maxnreg); 0 "
           "leaves the choice to ptxas; -1: 128 where ptxas would otherwise "
           "spill to reach 96">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def NvvmGatherCachePrefillPass
    : Pass<"kv-nvvm-gather-cache-prefill", "mlir::ModuleOp"> {
  let summary = "Prefill against a cache as a gather plus dense attention";
  let description = [{
    Rewrites the memref-form `kv.cache_attention` and `kv.append_attention`
    that the decode lowering left (long query lengths: prefill with a cache)
    into
      - for `kv.append_attention`, the append kernel of
        `kv-nvvm-lower-append` (the step's rows go into the cache first);
      - `gather_cache`, grid (capacity / 32, Hkv, B), 128 threads: copies each
        sequence's valid K/V rows through the page table into dense
        `[B, Hkv, capacity, D]` scratch (rows past the length are zeroed, so
        masked keys never carry NaN from uninitialised memory) and writes
        per-sequence lengths and bottom-right causal offsets
        (`kv_lens - Sq`, or `past_lens` for append_attention);
      - `kv.attention` on that scratch with `kv_lens` and `offsets`, which
        `kv-nvvm-lower-prefill` turns into the tensor-core (f16/bf16 query
        and cache) or CUDA-core kernel. Caches whose type differs from an
        f32 query are widened to f32.
    Prefill is compute-bound, so the extra pass over the cache costs little
    next to the attention itself.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm_90\"",
           "GPU target: sm_NN[a] with optional sms=,smem=,features= fields">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def NvvmLowerAppendPass : Pass<"kv-nvvm-lower-append", "mlir::ModuleOp"> {
  let summary = "Lower kv.append to a GPU kernel";
  let description = [{
    Rewrites memref-form `kv.append` into the `kv_append` kernel of
    `gpu.module @kvfuse_kernels`, grid (Hkv, B), 128 threads, operands (key,
    value, key pool, value pool, page table, lens): row t of sequence b is
    written at token lens[b] + t through the page table, converted to the
    cache's element type; tokens at or past the capacity are never written.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm_90\"",
           "GPU target: sm_NN[a] with optional sms=,smem=,features= fields">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def LowerPrefillAttentionPass
    : Pass<"kv-nvvm-lower-prefill", "mlir::ModuleOp"> {
  let summary = "Lower prefill attention to flash-attention-2 GPU kernels";
  let description = [{
    Rewrites memref-form `kv.attention` and `kv.partial_attention` (static
    shapes, identity layouts) into one kernel each in
    `gpu.module @kvfuse_kernels` (`prefill_attention`, `prefill_partial`)
    and its `gpu.launch_func`, grid (ceil(G * Sq / rows-per-block), Hkv, B),
    rows-per-block * 2 threads. A block owns rows-per-block packed query
    rows of one (batch entry, KV head): row r is query position r / G of
    query head kvHead * G + r % G (G = Hq / Hkv), 16 rows per warp. The block
    walks only the key tiles its rows' causal, window and length bounds
    leave visible, staging each tile of K and V in shared memory (rows past
    Skv zero-filled, their scores masked).
      - f16/bf16 (sm_80+): S = Q K^T and O += P V on tensor cores with
        mma.sync m16n8k16 and f32 accumulators (nvgpu.mma.sync for f16,
        nvvm.mma.sync for bf16); Q fragments stay in registers for D <= 128
        and are reloaded per tile beyond; P is converted from the S
        accumulators straight into A fragments.
      - f32: the same tiling and register layout with FMAs; P is exchanged
        through shared memory.
    Scores are scaled (scale * log2 e), soft-capped before masking and
    masked (explicit bool/float mask, causal with its static or
    per-sequence offset, window, kv_lens); the online softmax runs in base 2
    with `ex2.approx.ftz.f32`, its row statistics reduced over the 4 lanes
    of a quad by `gpu.shuffle xor`. Rows with no visible key give 0 (LSE
    -inf). Head dims must be multiples of 16 up to 256.
  }];
  let options = [
    Option<"targetSpec", "target", "std::string", /*default=*/"\"sm_90\"",
           "GPU target: sm_NN[a] with optional sms=,smem=,features= fields">,
    Option<"rowsPerBlock", "rows-per-block", "int64_t", /*default=*/"64",
           "Packed query rows per block (a multiple of 16; 16 per warp)">,
    Option<"keysPerTile", "keys-per-tile", "int64_t", /*default=*/"0",
           "Keys per shared-memory tile (a multiple of 16); 0: the largest "
           "of 64, 32, 16 that fits the target's shared memory">,
    Option<"stages", "stages", "int64_t", /*default=*/"1",
           "K/V tile buffers of the f16/bf16 kernels: 1 (synchronous "
           "loads) or 2 (cp.async double buffering, the next tile copied "
           "while the current one is computed)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // KVFUSE_LOWERING_PASSES_TD
