//===- SplitKv.h - what kv-split-kv puts on the stack -----------*- C++ -*-===//
//
// The stack bytes of the partial results kv-split-kv allocates, and the most
// it allocates: shared with planners that choose split counts, so that a
// plan they make is one the pass can realise.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_PASSES_SPLITKV_H
#define KVFUSE_PASSES_SPLITKV_H

#include <cstdint>

namespace mlir::kv {

/// More than this many bytes of partials is an error of kv-split-kv (on
/// memrefs), not a heap allocation per call.
constexpr int64_t kMaxSplitKvStackBytes = int64_t(1) << 20;

/// Bytes of `splits` partial outputs ([splits, rows, valueDim] f32) and
/// log-sum-exps ([splits, rows]) for an op of `rows` = B * Hq * Sq output
/// rows, plus the merged log-sum-exp when the op returns none itself
/// (`lseScratch`).
inline int64_t splitKvStackBytes(int64_t splits, int64_t rows,
                                 int64_t valueDim, bool lseScratch) {
  return (splits * rows * (valueDim + 1) + (lseScratch ? rows : 0)) * 4;
}

} // namespace mlir::kv

#endif // KVFUSE_PASSES_SPLITKV_H
