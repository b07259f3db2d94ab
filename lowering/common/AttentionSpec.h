//===- AttentionSpec.h - what an attention loop nest needs ------*- C++ -*-===//
//
// One description of a memref-form attention op (kv.attention,
// kv.partial_attention, kv.cache_attention, kv.append_attention) shared by
// the scalar loop lowering and the CPU tile kernels: where K/V rows live
// (dense buffers or cache page pools), the score attributes, and how each
// sequence's key count and query position are found.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_COMMON_ATTENTIONSPEC_H
#define KVFUSE_LOWERING_COMMON_ATTENTIONSPEC_H

#include "lowering/common/LoopEmitter.h"

#include <optional>

namespace mlir::kv {

/// Where the rows of K or V come from: a dense [B, H, S, D] memref, or the
/// page pool of a cache through its page table.
struct RowSource {
  Value memref;
  Value pageTable; // null for a dense memref
  int64_t pageSize = 0;
  Value tokenBase; // dense rows: row index = token - tokenBase (null: 0)
  Type storage;    // rows read before a cache stores them: round through it

  /// The memref and leading indices of row (batch, head, token); the
  /// feature index is appended by the caller.
  std::pair<Value, SmallVector<Value, 4>> row(LoopEmitter &e, Value batch,
                                              Value head, Value token) const;

  Type elementType() const {
    return cast<MemRefType>(memref.getType()).getElementType();
  }
};

/// Row sources of a cache's keys and values, through a kv.cache_view.
std::pair<RowSource, RowSource> cacheSources(OpBuilder &b, Location loc,
                                             Value cache);

/// Everything an attention loop nest needs, gathered from one op.
struct AttentionSpec {
  /// How query row i finds its position p = i + offset.
  enum OffsetKind { Static, PerSequence, BottomRight };

  Operation *op = nullptr;
  Value query, mask, kvLens, offsets, out, lse;
  RowSource keys, values;
  OffsetKind offsetKind = Static;
  int64_t staticOffset = 0;
  int64_t kvStart = 0; // global index of key 0 (partial attention)
  int64_t kvLen = 0;   // keys addressable by the op (Skv or the capacity)
  int64_t qHeads = 0, qLen = 0; // query heads Hq and length Sq (unpacked)
  // GQA packing: each head of `query`, `out` and `lse` holds the rows of
  // `packed` query heads (packedRow).
  int64_t packed = 1;
  // Split form: `out` and `lse` hold `splits` partial results (a leading
  // split dim); each row's visible keys are divided among them.
  int64_t splits = 1;
  // kv.append_attention: keys = past_lens[b] + newTokens; the new rows are
  // also in newKeys/newValues.
  Value pastLens, newKeys, newValues;
  int64_t newTokens = 0;
  double scale = 1.0;
  std::optional<double> softcap;
  bool causal = false;
  int64_t windowLeft = -1, windowRight = -1;

  /// The (head, row) indices of row i of query head h in `query`, `out`
  /// and `lse`: (h / P, (h mod P) * Sq + i) when P heads are packed.
  std::pair<Value, Value> packedRow(LoopEmitter &e, Value head,
                                    Value row) const;

  KeyBounds bounds() const {
    return KeyBounds{causal, windowLeft, windowRight, kvStart, kvLen};
  }

  /// Per sequence: the key count (global), the position of query row 0 and,
  /// for kv.append_attention, past_lens[batch] (else null).
  struct Sequence {
    Value length, offset, past;
  };
  Sequence sequence(LoopEmitter &e, Value batch) const;
};

/// Describes `op` if it is an attention op in memref form with an
/// unquantised cache; cache ops get a kv.cache_view created at the builder.
std::optional<AttentionSpec> describeAttention(Operation *op, OpBuilder &b);

} // namespace mlir::kv

#endif // KVFUSE_LOWERING_COMMON_ATTENTIONSPEC_H
