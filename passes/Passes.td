//===- Passes.td - kv optimisation passes -----------------*- tablegen -*-===//

#ifndef KVFUSE_PASSES_PASSES_TD
#define KVFUSE_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def DecomposeCacheAttentionPass
    : InterfacePass<"kv-decompose-cache-attention",
                    "mlir::FunctionOpInterface"> {
  let summary = "Rewrite kv.cache_attention as kv.load + kv.attention";
  let description = [{
    Spells cache attention with explicit tensors: the cache is gathered into
    dense K/V of capacity rows by `kv.load`, the sequence lengths become
    `kv_lens`, and the bottom-right causal alignment becomes per-sequence
    `offsets = kv_lens - Sq`. The result computes exactly the same function;
    it is the reference path that needs no cache-aware kernel.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def FuseAppendPass
    : InterfacePass<"kv-fuse-append", "mlir::FunctionOpInterface"> {
  let summary = "Fuse kv.append + kv.cache_attention into kv.append_attention";
  let description = [{
    Rewrites a `kv.append` of new K/V rows followed by a `kv.cache_attention`
    on the same cache value (tensor form) into one `kv.append_attention` at
    the attention's place, when all of these hold:

    - both are in the same block, the append first, and no op in between
      (nor nested in one) takes a cache value that may be the same cache
      (distinct entry-point arguments never are);
    - the attention's `kv_lens` provably equals the append's lengths plus the
      number `S` of new rows (static): either `kv_lens` is
      `arith.addi %past, splat(S)` (either operand order) of the append's
      lengths, or `kv_lens` and the append's lengths are function arguments
      with `kv.role` `"kv_lens"` and `"past_lens"` and the function's
      `kv.step_tokens` is `S` (the runtime fills them so).

    Everything else is left as it is (the greedy driver runs without folding
    or region simplification; ops left dead by the fusion are removed).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def PackGqaPass : InterfacePass<"kv-pack-gqa", "mlir::FunctionOpInterface"> {
  let summary = "Pack the query heads of each GQA group into the rows of one "
                "head";
  let description = [{
    Rewrites an attention op (`kv.attention`, `kv.partial_attention`,
    `kv.cache_attention`, `kv.append_attention`; tensor or memref form)
    whose query heads come in groups of `G > 1` per KV head into its packed
    form (`packed_heads = P`): the query `[B, Hq, Sq, D]` is viewed as
    `[B, Hq / P, P * Sq, D]`, the output and log-sum-exp destinations
    (split form included) likewise, so that each head of the packed query
    holds the rows of `P` query heads that read the same KV head. A back end
    then lays its tiles over the packed rows and reads each K/V row once for
    all of them rather than once per query head: for decode, where every
    K/V byte is used by only `G` query rows, that divides the cache traffic
    by `P`. The views are `expand_shape` + `collapse_shape` pairs (no copy;
    memrefs must have identity layouts); on tensors the results are viewed
    back to the unpacked shape. Explicit masks keep their shape.

    `P` is the `heads` option, or the whole group where it is 0. Ops with
    `G = 1`, ops already packed, ops whose group `P` does not divide, and
    ops with dynamic query or destination shapes are left alone.
  }];
  let options = [
    Option<"heads", "heads", "int64_t", /*default=*/"0",
           "Query heads packed per head (dividing the group); 0: the whole "
           "group">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SplitKvPass : InterfacePass<"kv-split-kv", "mlir::FunctionOpInterface"> {
  let summary = "Split attention over long keys into partials merged by "
                "kv.merge (flash-decoding)";
  let description = [{
    Rewrites an attention op (`kv.attention`, `kv.partial_attention`,
    `kv.cache_attention`, `kv.append_attention`; tensor or memref form,
    static shapes) into its split form, which returns `N` partial results
    `[N, B, Hq, Sq, Dv]` and log-sum-exps `[N, B, Hq, Sq]` of disjoint
    chunks of each row's visible keys, followed by the `kv.merge` of the
    partials into the op's output (and log-sum-exp, if it returns one).
    `kv.attention` becomes a `kv.partial_attention` (kv_start 0) in split
    form. A back end runs the chunks in parallel: decode with few sequences
    and KV heads then still keeps every core reading the cache.

    `N` is the `splits` option, or, where it is 0, the `splits` of the
    op's `kv.cpu_tiles` plan (`kv-cpu-plan-tiles`); ops with `N <= 1`, ops
    already in split form and ops with dynamic shapes are left alone. The
    plan moves to the split op with its `splits` set to `N`. Partials are
    `tensor.empty` on tensors and stack buffers (`memref.alloca` at the
    function's entry) on memrefs, where more than 1 MiB of them is an
    error rather than a heap allocation per call.
  }];
  let options = [
    Option<"splits", "splits", "int64_t", /*default=*/"0",
           "Partials per op; 0: the op's kv.cpu_tiles plan decides">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // KVFUSE_PASSES_PASSES_TD
