//===- AttentionSpec.cpp - what an attention loop nest needs --------------===//

#include "lowering/common/AttentionSpec.h"

#include "dialects/kv/KvOps.h"

using namespace mlir;
using namespace mlir::kv;

std::pair<Value, SmallVector<Value, 4>>
RowSource::row(LoopEmitter &e, Value batch, Value head, Value token) const {
  if (!pageTable)
    return {memref,
            {batch, head, tokenBase ? e.sub(token, tokenBase) : token}};
  Value size = e.index(pageSize);
  Value slot = arith::DivUIOp::create(e.b, e.loc, token, size);
  Value within = arith::RemUIOp::create(e.b, e.loc, token, size);
  Value page = e.loadIndex(pageTable, {batch, slot});
  return {memref, {page, head, within}};
}

std::pair<RowSource, RowSource> mlir::kv::cacheSources(OpBuilder &b,
                                                       Location loc,
                                                       Value cache) {
  auto view = CacheViewOp::create(b, loc, cache);
  int64_t pageSize = cast<CacheType>(cache.getType()).getPageSize();
  return {RowSource{view.getKeyPool(), view.getPageTable(), pageSize},
          RowSource{view.getValuePool(), view.getPageTable(), pageSize}};
}

AttentionSpec::Sequence AttentionSpec::sequence(LoopEmitter &e,
                                                Value batch) const {
  Value length, past;
  if (kvLens) {
    length = e.loadIndex(kvLens, {batch});
  } else if (pastLens) {
    past = e.loadIndex(pastLens, {batch});
    length = e.add(past, e.index(newTokens));
  } else
    length = e.index(kvStart + kvLen);
  Value offset;
  switch (offsetKind) {
  case Static:
    offset = e.index(staticOffset);
    break;
  case PerSequence:
    offset = e.loadIndex(offsets, {batch});
    break;
  case BottomRight:
    offset = e.sub(length, e.index(qLen));
    break;
  }
  return {length, offset, past};
}

std::pair<Value, Value> AttentionSpec::packedRow(LoopEmitter &e, Value head,
                                                 Value row) const {
  if (packed == 1)
    return {head, row};
  Value p = e.index(packed);
  Value segment = arith::RemUIOp::create(e.b, e.loc, head, p);
  return {arith::DivUIOp::create(e.b, e.loc, head, p),
          e.add(e.mul(segment, e.index(qLen)), row)};
}

namespace {
template <typename OpTy>
AttentionSpec commonSpec(OpTy op) {
  AttentionSpec s;
  auto iface = cast<AttentionOpInterface>(op.getOperation());
  s.op = op;
  s.query = op.getQuery();
  s.mask = op.getMask();
  s.scale = iface.getEffectiveScale();
  if (auto cap = op.getSoftcap())
    s.softcap = cap->convertToDouble();
  s.causal = op.getCausal();
  s.windowLeft = iface.getWindowLeftBound();
  s.windowRight = iface.getWindowRightBound();
  s.out = iface.getOutputInit();
  s.lse = iface.getLseOutputInit();
  s.splits = iface.getNumSplits();
  s.qHeads = iface.getNumQueryHeads();
  s.qLen = iface.getQueryLength();
  s.packed = iface.getNumPackedHeads();
  return s;
}

/// kv.attention and kv.partial_attention: dense K/V, static or
/// per-sequence offsets.
template <typename OpTy>
AttentionSpec denseSpec(OpTy op) {
  AttentionSpec s = commonSpec(op);
  s.keys = {op.getKey()};
  s.values = {op.getValue()};
  s.kvLens = op.getKvLens();
  s.offsets = op.getOffsets();
  s.offsetKind =
      s.offsets ? AttentionSpec::PerSequence : AttentionSpec::Static;
  s.staticOffset = op.getCausalOffset();
  s.kvLen = cast<MemRefType>(op.getKey().getType()).getDimSize(2);
  return s;
}

/// kv.cache_attention and kv.append_attention: K/V in the cache's pools,
/// queries aligned bottom-right.
template <typename OpTy>
AttentionSpec cacheSpec(OpTy op, OpBuilder &b) {
  AttentionSpec s = commonSpec(op);
  std::tie(s.keys, s.values) = cacheSources(b, op.getLoc(), op.getCache());
  s.offsetKind = AttentionSpec::BottomRight;
  s.kvLen = op.getCacheType().getCapacity();
  return s;
}
} // namespace

std::optional<AttentionSpec> mlir::kv::describeAttention(Operation *op,
                                                         OpBuilder &b) {
  if (op->getNumResults() != 0 ||
      llvm::any_of(op->getOperandTypes(),
                   [](Type t) { return isa<TensorType>(t); }))
    return std::nullopt;
  for (Type t : op->getOperandTypes())
    if (auto cache = dyn_cast<CacheType>(t); cache && cache.isQuantized())
      return std::nullopt;
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    return denseSpec(attention);
  }
  if (auto partial = dyn_cast<PartialAttentionOp>(op)) {
    AttentionSpec s = denseSpec(partial);
    s.kvStart = partial.getKvStart();
    return s;
  }
  if (auto cached = dyn_cast<CacheAttentionOp>(op)) {
    AttentionSpec s = cacheSpec(cached, b);
    s.kvLens = cached.getKvLens();
    return s;
  }
  if (auto fused = dyn_cast<AppendAttentionOp>(op)) {
    AttentionSpec s = cacheSpec(fused, b);
    s.pastLens = fused.getPastLens();
    s.newKeys = fused.getKey();
    s.newValues = fused.getValue();
    s.newTokens = fused.getNumNewTokens();
    return s;
  }
  return std::nullopt;
}
