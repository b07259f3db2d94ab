//===- KvOps.cpp - kv dialect operations ----------------------------------===//

#include "dialects/kv/KvOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include <array>
#include <cmath>

using namespace mlir;
using namespace mlir::kv;

//===----------------------------------------------------------------------===//
// Shared verification helpers
//===----------------------------------------------------------------------===//

namespace {
/// Checks the shapes of one op's operands against each other. Dynamic sizes
/// agree with everything; mismatches are reported as `expects ..., got ...`.
class ShapeChecker {
public:
  explicit ShapeChecker(Operation *op) : op(op) {}

  /// Checks that `value` is shaped with the given rank.
  FailureOr<ShapedType> ranked(Value value, StringRef name, int64_t rank,
                               StringRef dims) {
    auto type = cast<ShapedType>(value.getType());
    if (type.getRank() != rank)
      return op->emitOpError() << "expects " << name << " of rank " << rank
                               << " " << dims << ", got rank "
                               << type.getRank();
    return type;
  }

  /// Checks that two sizes agree where both are static.
  LogicalResult same(int64_t expected, int64_t actual, StringRef what) {
    if (ShapedType::isDynamic(expected) || ShapedType::isDynamic(actual) ||
        expected == actual)
      return success();
    return op->emitOpError() << "expects " << what << " to be " << expected
                             << ", got " << actual;
  }

  /// Checks the per-sequence i32 vector operand `value` holds `batch` entries.
  LogicalResult lengths(Value value, StringRef name, int64_t batch) {
    if (!value)
      return success();
    auto type = cast<ShapedType>(value.getType());
    if (type.getRank() != 1)
      return op->emitOpError() << "expects " << name
                               << " of rank 1 [B], got rank "
                               << type.getRank();
    return same(batch, type.getDimSize(0),
                (name + " size (batch)").str());
  }

  /// Checks an explicit mask broadcasts to `target` and has a usable type.
  LogicalResult mask(Value value, ArrayRef<int64_t> target) {
    if (!value)
      return success();
    auto type = cast<ShapedType>(value.getType());
    Type element = type.getElementType();
    if (!element.isInteger(1) && !isa<FloatType>(element))
      return op->emitOpError()
             << "expects mask element type i1 or float, got " << element;
    if (type.getRank() < 2 || type.getRank() > 4)
      return op->emitOpError()
             << "expects mask of rank 2 to 4 broadcasting to [B, Hq, Sq, Skv]"
             << ", got rank " << type.getRank();
    int64_t shift = static_cast<int64_t>(target.size()) - type.getRank();
    for (int64_t i = 0; i < type.getRank(); ++i) {
      int64_t size = type.getDimSize(i);
      int64_t want = target[i + shift];
      if (size == 1 || ShapedType::isDynamic(size) ||
          ShapedType::isDynamic(want) || size == want)
        continue;
      return op->emitOpError()
             << "expects mask dim " << i << " to be 1 or " << want
             << " to broadcast to [B, Hq, Sq, Skv], got " << size;
    }
    return success();
  }

private:
  Operation *op;
};
} // namespace

/// Checks that the op is entirely on tensors (one result per init) or
/// entirely on memrefs (no results).
static LogicalResult verifyBufferMode(Operation *op, ValueRange inits) {
  bool anyTensor = llvm::any_of(op->getOperands(), [](Value v) {
    return isa<RankedTensorType>(v.getType());
  });
  bool anyMemRef = llvm::any_of(op->getOperands(), [](Value v) {
    return isa<MemRefType>(v.getType());
  });
  if (anyTensor && anyMemRef)
    return op->emitOpError(
        "expects all shaped operands to be tensors or all to be memrefs");
  if (anyMemRef) {
    if (op->getNumResults() != 0)
      return op->emitOpError() << "expects no results on memrefs, got "
                               << op->getNumResults();
    return success();
  }
  if (op->getNumResults() != inits.size())
    return op->emitOpError() << "expects " << inits.size()
                             << " result(s) on tensors, got "
                             << op->getNumResults();
  for (auto [init, result] : llvm::zip(inits, op->getResults()))
    if (init.getType() != result.getType())
      return op->emitOpError() << "expects result type " << init.getType()
                               << " to match its init, got "
                               << result.getType();
  return success();
}

static LogicalResult verifyFloatElement(Operation *op, Value value,
                                        StringRef name) {
  Type element = getElementTypeOrSelf(value.getType());
  if (!isa<FloatType>(element))
    return op->emitOpError() << "expects " << name
                             << " to have a float element type, got "
                             << element;
  return success();
}

static LogicalResult verifyF32Element(Operation *op, Value value,
                                      StringRef name) {
  Type element = getElementTypeOrSelf(value.getType());
  if (!element.isF32())
    return op->emitOpError() << "expects " << name
                             << " to have element type f32, got " << element;
  return success();
}

/// Checks the attributes shared by every attention op.
static LogicalResult verifyScoreAttributes(AttentionOpInterface op) {
  Operation *operation = op.getOperation();
  if (auto softcap = op.getSoftcap()) {
    double c = softcap->convertToDouble();
    if (!(c > 0.0) || !std::isfinite(c))
      return operation->emitOpError()
             << "expects softcap > 0 and finite, got " << c;
  }
  if (auto scale = op.getScale()) {
    double s = scale->convertToDouble();
    if (!std::isfinite(s) || s == 0.0)
      return operation->emitOpError()
             << "expects a finite, non-zero scale, got " << s;
  }
  if (op.getWindowLeftBound() < -1)
    return operation->emitOpError()
           << "expects window_left >= -1, got " << op.getWindowLeftBound();
  if (op.getWindowRightBound() < -1)
    return operation->emitOpError()
           << "expects window_right >= -1, got " << op.getWindowRightBound();
  return success();
}

/// Checks the query's heads against the KV heads and returns the logical
/// (Hq, Sq) of a query `[B, Hq / P, P * Sq, D]` whose heads each hold the
/// rows of `packed` = P query heads (GQA packing; P = 1: unpacked).
static FailureOr<std::pair<int64_t, int64_t>>
verifyQueryHeads(Operation *op, ShapedType query, int64_t packed,
                 int64_t kvHeads) {
  if (packed < 1)
    return op->emitOpError() << "expects packed_heads >= 1, got " << packed;
  int64_t heads = query.getDimSize(1), rows = query.getDimSize(2);
  if (packed > 1 && ShapedType::isDynamic(rows))
    return op->emitOpError(
        "expects a static query length when heads are packed");
  if (rows % packed != 0)
    return op->emitOpError()
           << "expects query rows (" << rows
           << ") to be a multiple of packed_heads (" << packed << ")";
  int64_t hq = ShapedType::isDynamic(heads) ? heads : heads * packed;
  int64_t sq = ShapedType::isDynamic(rows) ? rows : rows / packed;
  if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(kvHeads))
    return std::make_pair(hq, sq);
  if (kvHeads == 0 || hq % kvHeads != 0)
    return op->emitOpError()
           << "expects query heads (" << hq
           << ") to be a multiple of KV heads, got " << kvHeads;
  if ((hq / kvHeads) % packed != 0)
    return op->emitOpError()
           << "expects packed_heads (" << packed
           << ") to divide the query heads per KV head (" << hq / kvHeads
           << "), so that a packed head's rows share one KV head";
  return std::make_pair(hq, sq);
}

/// Verifies Q/K/V/mask/lengths of `kv.attention` and `kv.partial_attention`
/// and returns the expected output shape [B, Hq, Sq, Dv] (packed like Q).
static FailureOr<SmallVector<int64_t>>
verifyExplicitAttention(Operation *op, Value query, Value key, Value value,
                        Value mask, Value kvLens, Value offsets,
                        int64_t causalOffset, int64_t packed) {
  ShapeChecker check(op);
  auto q = check.ranked(query, "query", 4, "[B, Hq, Sq, D]");
  if (failed(q))
    return failure();
  auto k = check.ranked(key, "key", 4, "[B, Hkv, Skv, D]");
  if (failed(k))
    return failure();
  auto v = check.ranked(value, "value", 4, "[B, Hkv, Skv, Dv]");
  if (failed(v))
    return failure();
  if (failed(verifyFloatElement(op, query, "query")))
    return failure();
  if (q->getElementType() != k->getElementType() ||
      q->getElementType() != v->getElementType())
    return op->emitOpError()
           << "expects query, key and value to share an element type, got "
           << q->getElementType() << ", " << k->getElementType() << ", "
           << v->getElementType();
  if (q->isDynamicDim(3) || v->isDynamicDim(3))
    return op->emitOpError("expects static head dims");
  int64_t batch = q->getDimSize(0), hq = q->getDimSize(1),
          sq = q->getDimSize(2), d = q->getDimSize(3);
  int64_t hkv = k->getDimSize(1), skv = k->getDimSize(2);
  int64_t dv = v->getDimSize(3);
  if (failed(check.same(batch, k->getDimSize(0), "key batch")) ||
      failed(check.same(batch, v->getDimSize(0), "value batch")) ||
      failed(check.same(hkv, v->getDimSize(1), "value heads (key heads)")) ||
      failed(check.same(skv, v->getDimSize(2), "value length (key length)")) ||
      failed(check.same(d, k->getDimSize(3), "key head dim (query head dim)")))
    return failure();
  auto logical = verifyQueryHeads(op, *q, packed, hkv);
  if (failed(logical))
    return failure();
  if (failed(check.mask(mask, {batch, logical->first, logical->second, skv})) ||
      failed(check.lengths(kvLens, "kv_lens", batch)) ||
      failed(check.lengths(offsets, "offsets", batch)))
    return failure();
  if (offsets && causalOffset != 0)
    return op->emitOpError() << "expects causal_offset 0 when offsets are "
                                "given, got "
                             << causalOffset;
  return SmallVector<int64_t>{batch, hq, sq, dv};
}

/// Checks a destination against its expected shape: `[B, Hq, Sq, Dv]` or
/// `[B, Hq, Sq]`, behind a leading split dim `N` when `split`.
static LogicalResult verifyOutput(Operation *op, Value init, StringRef name,
                                  ArrayRef<int64_t> expected,
                                  bool split = false) {
  static const char *dims[] = {"N", "B", "Hq", "Sq", "Dv"};
  static const char *dimNames[] = {"splits", "batch", "heads",
                                   "query length", "value head dim"};
  size_t first = split ? 0 : 1;
  std::string described = "[";
  for (size_t i = 0; i < expected.size(); ++i)
    described += std::string(i ? ", " : "") + dims[first + i];
  described += "]";
  ShapeChecker check(op);
  auto type = check.ranked(init, name, expected.size(), described);
  if (failed(type))
    return failure();
  for (auto [i, want] : llvm::enumerate(expected))
    if (failed(check.same(want, type->getDimSize(i),
                          (name + " " + dimNames[first + i]).str())))
      return failure();
  return success();
}

/// Checks the destinations of an attention op whose result has `shape`
/// [B, Hq, Sq, Dv]: the output alone (any float type), or with the
/// log-sum-exp (both f32), possibly in split form (a leading dim N on both).
static LogicalResult verifyAttentionOutputs(Operation *op, Value out,
                                            StringRef outName, Value lse,
                                            StringRef lseName,
                                            ArrayRef<int64_t> shape) {
  if (!lse)
    return failure(failed(verifyOutput(op, out, outName, shape)) ||
                   failed(verifyFloatElement(op, out, outName)));
  SmallVector<int64_t> outShape(shape), lseShape(shape.take_front(3));
  auto outType = cast<ShapedType>(out.getType());
  bool split = outType.getRank() == 5;
  if (split) {
    int64_t splits = outType.getDimSize(0);
    if (ShapedType::isDynamic(splits) || splits < 1)
      return op->emitOpError()
             << "expects a static number of splits >= 1 in " << outName
             << ", got "
             << (ShapedType::isDynamic(splits) ? std::string("?")
                                               : std::to_string(splits));
    outShape.insert(outShape.begin(), splits);
    lseShape.insert(lseShape.begin(), splits);
  }
  return failure(failed(verifyOutput(op, out, outName, outShape, split)) ||
                 failed(verifyOutput(op, lse, lseName, lseShape, split)) ||
                 failed(verifyF32Element(op, out, outName)) ||
                 failed(verifyF32Element(op, lse, lseName)));
}

//===----------------------------------------------------------------------===//
// Memory effects
//===----------------------------------------------------------------------===//

/// On memrefs, inputs are read and inits written; on tensors nothing is.
static void
addBufferEffects(Operation *op, ValueRange inits,
                 SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
                     &effects) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (llvm::is_contained(inits, operand.get()))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

void AttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addBufferEffects(*this, getInit(), effects);
}

void PartialAttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addBufferEffects(*this, {getOutInit(), getLseInit()}, effects);
}

void CacheAttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addBufferEffects(*this, getDpsInits(), effects);
  effects.emplace_back(MemoryEffects::Read::get(), &getCacheMutable(),
                       KVCacheResource::get());
}

void AppendAttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addBufferEffects(*this, getDpsInits(), effects);
  // The new rows are written before the attention reads the cache.
  effects.emplace_back(MemoryEffects::Write::get(), &getCacheMutable(),
                       KVCacheResource::get());
  effects.emplace_back(MemoryEffects::Read::get(), &getCacheMutable(),
                       KVCacheResource::get());
}

void MergeOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addBufferEffects(*this, {getOutInit(), getLseInit()}, effects);
}

void AppendOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addBufferEffects(*this, {}, effects);
  effects.emplace_back(MemoryEffects::Write::get(), &getCacheMutable(),
                       KVCacheResource::get());
}

void LoadOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addBufferEffects(*this, {getKeyInit(), getValueInit()}, effects);
  effects.emplace_back(MemoryEffects::Read::get(), &getCacheMutable(),
                       KVCacheResource::get());
}

//===----------------------------------------------------------------------===//
// AttentionOpInterface
//===----------------------------------------------------------------------===//

static int64_t dimOf(Value value, unsigned dim) {
  return cast<ShapedType>(value.getType()).getDimSize(dim);
}

int64_t AttentionOp::getNumKvHeads() { return dimOf(getKey(), 1); }
int64_t AttentionOp::getKeyHeadDim() { return dimOf(getQuery(), 3); }
int64_t AttentionOp::getValueHeadDim() { return dimOf(getValue(), 3); }
int64_t PartialAttentionOp::getNumKvHeads() { return dimOf(getKey(), 1); }
int64_t PartialAttentionOp::getKeyHeadDim() { return dimOf(getQuery(), 3); }
int64_t PartialAttentionOp::getValueHeadDim() { return dimOf(getValue(), 3); }
Value AttentionOp::getOutputInit() { return getInit(); }
Value AttentionOp::getLseOutputInit() { return {}; }
Value PartialAttentionOp::getOutputInit() { return getOutInit(); }
Value PartialAttentionOp::getLseOutputInit() { return getLseInit(); }
Value CacheAttentionOp::getOutputInit() { return getInit(); }
Value CacheAttentionOp::getLseOutputInit() { return getLseInit(); }
Value AppendAttentionOp::getOutputInit() { return getInit(); }
Value AppendAttentionOp::getLseOutputInit() { return getLseInit(); }
int64_t CacheAttentionOp::getNumKvHeads() { return getCacheType().getHeads(); }
int64_t CacheAttentionOp::getKeyHeadDim() {
  return getCacheType().getHeadDim();
}
int64_t CacheAttentionOp::getValueHeadDim() {
  return getCacheType().getValueHeadDim();
}
int64_t AppendAttentionOp::getNumKvHeads() {
  return getCacheType().getHeads();
}
int64_t AppendAttentionOp::getKeyHeadDim() {
  return getCacheType().getHeadDim();
}
int64_t AppendAttentionOp::getValueHeadDim() {
  return getCacheType().getValueHeadDim();
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  if (failed(verifyScoreAttributes(*this)))
    return failure();
  auto shape = verifyExplicitAttention(*this, getQuery(), getKey(), getValue(),
                                       getMask(), getKvLens(), getOffsets(),
                                       static_cast<int64_t>(getCausalOffset()),
                                       getNumPackedHeads());
  if (failed(shape) || failed(verifyOutput(*this, getInit(), "init", *shape)) ||
      failed(verifyFloatElement(*this, getInit(), "init")))
    return failure();
  return verifyBufferMode(*this, getInit());
}

LogicalResult PartialAttentionOp::verify() {
  if (failed(verifyScoreAttributes(*this)))
    return failure();
  auto shape = verifyExplicitAttention(*this, getQuery(), getKey(), getValue(),
                                       getMask(), getKvLens(), getOffsets(),
                                       static_cast<int64_t>(getCausalOffset()),
                                       getNumPackedHeads());
  if (failed(shape))
    return failure();
  if (static_cast<int64_t>(getKvStart()) < 0)
    return emitOpError() << "expects kv_start >= 0, got "
                         << static_cast<int64_t>(getKvStart());
  if (failed(verifyAttentionOutputs(*this, getOutInit(), "out_init",
                                    getLseInit(), "lse_init", *shape)))
    return failure();
  return verifyBufferMode(*this, {getOutInit(), getLseInit()});
}

/// Checks the query, lengths, mask and init of attention against a cache
/// (`kv.cache_attention`, `kv.append_attention`); `lensName` names the
/// lengths operand.
static LogicalResult verifyCacheQuery(Operation *op, Value query,
                                      CacheType cache, Value lens,
                                      StringRef lensName, Value mask,
                                      Value init, Value lseInit,
                                      int64_t packed) {
  ShapeChecker check(op);
  auto q = check.ranked(query, "query", 4, "[B, Hq, Sq, D]");
  if (failed(q) || failed(verifyFloatElement(op, query, "query")))
    return failure();
  int64_t batch = q->getDimSize(0);
  if (failed(check.same(cache.getHeadDim(), q->getDimSize(3),
                        "query head dim (cache head_dim)")))
    return failure();
  auto logical = verifyQueryHeads(op, *q, packed, cache.getHeads());
  if (failed(logical))
    return failure();
  auto [hq, sq] = *logical;
  if (!ShapedType::isDynamic(sq) && sq > cache.getCapacity())
    return op->emitOpError() << "expects query length <= cache capacity ("
                             << cache.getCapacity() << "), got " << sq;
  if (failed(check.lengths(lens, lensName, batch)) ||
      failed(check.mask(mask, {batch, hq, sq, cache.getCapacity()})) ||
      failed(verifyAttentionOutputs(op, init, "init", lseInit, "lse_init",
                                    {batch, q->getDimSize(1), q->getDimSize(2),
                                     cache.getValueHeadDim()})))
    return failure();
  return success();
}

LogicalResult CacheAttentionOp::verify() {
  if (failed(verifyScoreAttributes(*this)) ||
      failed(verifyCacheQuery(*this, getQuery(), getCacheType(), getKvLens(),
                              "kv_lens", getMask(), getInit(), getLseInit(),
                              getNumPackedHeads())))
    return failure();
  return verifyBufferMode(*this, getDpsInits());
}

LogicalResult MergeOp::verify() {
  ShapeChecker check(*this);
  auto parts = check.ranked(getPartialOut(), "partial_out", 5,
                            "[N, B, Hq, Sq, Dv]");
  if (failed(parts))
    return failure();
  auto lses = check.ranked(getPartialLse(), "partial_lse", 4,
                           "[N, B, Hq, Sq]");
  if (failed(lses))
    return failure();
  if (failed(verifyF32Element(*this, getPartialOut(), "partial_out")) ||
      failed(verifyF32Element(*this, getPartialLse(), "partial_lse")) ||
      failed(verifyF32Element(*this, getLseInit(), "lse_init")) ||
      failed(verifyFloatElement(*this, getOutInit(), "out_init")))
    return failure();
  if (failed(check.same(parts->getDimSize(0), lses->getDimSize(0),
                        "partial_lse splits (partial_out splits)")))
    return failure();
  for (unsigned i = 1; i < 4; ++i)
    if (failed(check.same(parts->getDimSize(i), lses->getDimSize(i),
                          "partial_lse dim " + std::to_string(i))))
      return failure();
  SmallVector<int64_t> outShape(parts->getShape().drop_front());
  SmallVector<int64_t> lseShape(lses->getShape().drop_front());
  if (failed(verifyOutput(*this, getOutInit(), "out_init", outShape)) ||
      failed(verifyOutput(*this, getLseInit(), "lse_init", lseShape)))
    return failure();
  return verifyBufferMode(*this, {getOutInit(), getLseInit()});
}

/// Checks the new rows of an append (`kv.append`, `kv.append_attention`)
/// against the cache; `lensName` names the lengths operand.
static LogicalResult verifyAppendRows(Operation *op, Value key, Value value,
                                      CacheType cache, Value lens,
                                      StringRef lensName) {
  ShapeChecker check(op);
  auto k = check.ranked(key, "key", 4, "[B, Hkv, S, D]");
  if (failed(k))
    return failure();
  auto v = check.ranked(value, "value", 4, "[B, Hkv, S, Dv]");
  if (failed(v))
    return failure();
  if (failed(verifyFloatElement(op, key, "key")) ||
      failed(verifyFloatElement(op, value, "value")))
    return failure();
  if (k->getElementType() != v->getElementType())
    return op->emitOpError()
           << "expects key and value to share an element type, got "
           << k->getElementType() << " and " << v->getElementType();
  int64_t batch = k->getDimSize(0);
  if (failed(check.same(cache.getHeads(), k->getDimSize(1),
                        "key heads (cache heads)")) ||
      failed(check.same(cache.getHeads(), v->getDimSize(1),
                        "value heads (cache heads)")) ||
      failed(check.same(cache.getHeadDim(), k->getDimSize(3),
                        "key head dim (cache head_dim)")) ||
      failed(check.same(cache.getValueHeadDim(), v->getDimSize(3),
                        "value head dim (cache value_dim)")) ||
      failed(check.same(batch, v->getDimSize(0), "value batch")) ||
      failed(check.same(k->getDimSize(2), v->getDimSize(2),
                        "value length (key length)")) ||
      failed(check.lengths(lens, lensName, batch)))
    return failure();
  int64_t rows = k->getDimSize(2);
  if (!ShapedType::isDynamic(rows) && rows > cache.getCapacity())
    return op->emitOpError() << "expects at most capacity ("
                             << cache.getCapacity() << ") new rows, got "
                             << rows;
  return success();
}

LogicalResult AppendOp::verify() {
  if (failed(verifyAppendRows(*this, getKey(), getValue(), getCacheType(),
                              getLens(), "lens")))
    return failure();
  return verifyBufferMode(*this, {});
}

LogicalResult AppendAttentionOp::verify() {
  CacheType cache = getCacheType();
  if (failed(verifyScoreAttributes(*this)) ||
      failed(verifyAppendRows(*this, getKey(), getValue(), cache,
                              getPastLens(), "past_lens")))
    return failure();
  // The new rows and the queries are of the same sequences (the lengths
  // alone cannot tell when they are dynamic).
  ShapeChecker check(*this);
  auto q = check.ranked(getQuery(), "query", 4, "[B, Hq, Sq, D]");
  if (failed(q) ||
      failed(check.same(q->getDimSize(0), dimOf(getKey(), 0),
                        "key batch (query batch)")) ||
      failed(verifyCacheQuery(*this, getQuery(), cache, getPastLens(),
                              "past_lens", getMask(), getInit(), getLseInit(),
                              getNumPackedHeads())))
    return failure();
  return verifyBufferMode(*this, getDpsInits());
}

LogicalResult LoadOp::verify() {
  ShapeChecker check(*this);
  CacheType cache = getCacheType();
  auto k = check.ranked(getKeyInit(), "key_init", 4, "[B, Hkv, Skv, D]");
  if (failed(k))
    return failure();
  auto v = check.ranked(getValueInit(), "value_init", 4, "[B, Hkv, Skv, Dv]");
  if (failed(v))
    return failure();
  if (failed(verifyFloatElement(*this, getKeyInit(), "key_init")) ||
      failed(verifyFloatElement(*this, getValueInit(), "value_init")))
    return failure();
  if (failed(check.same(cache.getHeads(), k->getDimSize(1),
                        "key_init heads (cache heads)")) ||
      failed(check.same(cache.getHeads(), v->getDimSize(1),
                        "value_init heads (cache heads)")) ||
      failed(check.same(cache.getHeadDim(), k->getDimSize(3),
                        "key_init head dim (cache head_dim)")) ||
      failed(check.same(cache.getValueHeadDim(), v->getDimSize(3),
                        "value_init head dim (cache value_dim)")) ||
      failed(check.same(k->getDimSize(0), v->getDimSize(0),
                        "value_init batch (key_init batch)")) ||
      failed(check.same(k->getDimSize(2), v->getDimSize(2),
                        "value_init length (key_init length)")))
    return failure();
  int64_t rows = k->getDimSize(2);
  if (!ShapedType::isDynamic(rows) && rows > cache.getCapacity())
    return emitOpError() << "expects at most capacity ("
                         << cache.getCapacity() << ") rows, got " << rows;
  return verifyBufferMode(*this, {getKeyInit(), getValueInit()});
}

/// The memref types of a cache's K pool, V pool and page table.
static std::array<MemRefType, 3> getCacheViewTypes(CacheType cache) {
  int64_t dyn = ShapedType::kDynamic;
  Type element = cache.getElementType();
  return {MemRefType::get({dyn, cache.getHeads(), cache.getPageSize(),
                           cache.getHeadDim()},
                          element),
          MemRefType::get({dyn, cache.getHeads(), cache.getPageSize(),
                           cache.getValueHeadDim()},
                          element),
          MemRefType::get({dyn, cache.getPagesPerSequence()},
                          IntegerType::get(cache.getContext(), 32))};
}

void CacheViewOp::build(OpBuilder &builder, OperationState &state,
                        Value cache) {
  auto types = getCacheViewTypes(cast<CacheType>(cache.getType()));
  build(builder, state, types[0], types[1], types[2], cache);
}

LogicalResult CacheViewOp::verify() {
  auto expected = getCacheViewTypes(getCacheType());
  Type actual[] = {getKeyPool().getType(), getValuePool().getType(),
                   getPageTable().getType()};
  static const char *names[] = {"key pool", "value pool", "page table"};
  for (int i = 0; i < 3; ++i)
    if (expected[i] != actual[i])
      return emitOpError() << "expects " << names[i] << " type "
                           << expected[i] << ", got " << actual[i];
  return success();
}

LogicalResult AttendBlockOp::verify() {
  auto queries = cast<MemRefType>(getQueries().getType());
  auto acc = cast<MemRefType>(getAcc().getType());
  if (!queries.hasStaticShape() || !acc.hasStaticShape())
    return emitOpError("expects static query and accumulator shapes");
  int64_t rows = queries.getDimSize(0);
  ShapeChecker check(*this);
  if (failed(check.same(rows, acc.getDimSize(0), "acc rows (query rows)")))
    return failure();
  for (auto [value, name] :
       {std::pair{getRowMax(), "row_max"}, std::pair{getRowSum(), "row_sum"},
        std::pair{getRowLo(), "row_lo"}, std::pair{getRowHi(), "row_hi"}})
    if (failed(check.same(rows, dimOf(value, 0),
                          std::string(name) + " size (query rows)")))
      return failure();
  if (failed(check.same(queries.getDimSize(1), dimOf(getKeys(), 3),
                        "key head dim (query head dim)")) ||
      failed(check.same(acc.getDimSize(1), dimOf(getValues(), 3),
                        "value head dim (acc columns)")))
    return failure();
  if (!llvm::is_contained({"dot", "transposed-keys", "transposed-queries"},
                          getScoreKernel()))
    return emitOpError() << "expects score_kernel dot, transposed-keys or "
                            "transposed-queries, got '"
                         << getScoreKernel() << "'";
  if (static_cast<bool>(getPageTable()) != (getPageSize() > 0))
    return emitOpError("expects a page_table exactly when page_size > 0");
  if (getPageTable() && getTokenBase())
    return emitOpError("expects token_base only for dense key rows");
  return success();
}

void AttendBlockOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (llvm::is_contained({getAcc(), getRowMax(), getRowSum()}, operand.get()))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    effects.emplace_back(MemoryEffects::Read::get(), &operand,
                         SideEffects::DefaultResource::get());
  }
}

//===----------------------------------------------------------------------===//
// Canonicalization
//===----------------------------------------------------------------------===//

namespace {
/// Brings the score attributes of an attention op to one spelling:
///  - a scale equal to the default 1/sqrt(D) is dropped;
///  - `window_right = 0` without `causal` is `causal`;
///  - `window_right >= 0` with `causal` is implied by `causal` and dropped.
template <typename OpTy>
struct NormalizeScoreAttributes : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    bool changed = false;
    auto iface = cast<AttentionOpInterface>(op.getOperation());
    if (auto scale = op.getScale()) {
      float defaultScale = static_cast<float>(
          1.0 / std::sqrt(static_cast<double>(iface.getKeyHeadDim())));
      if (scale->convertToFloat() == defaultScale) {
        rewriter.modifyOpInPlace(op, [&] { op.removeScaleAttr(); });
        changed = true;
      }
    }
    int64_t right = iface.getWindowRightBound();
    if (!op.getCausal() && right == 0) {
      rewriter.modifyOpInPlace(op, [&] {
        op.setCausal(true);
        op.setWindowRight(static_cast<uint64_t>(-1));
      });
      changed = true;
    } else if (op.getCausal() && right >= 0) {
      rewriter.modifyOpInPlace(
          op, [&] { op.setWindowRight(static_cast<uint64_t>(-1)); });
      changed = true;
    }
    return success(changed);
  }
};

/// A single query row per sequence sits at the last cached position (also
/// after a fused append), so the causal mask and any right window exclude
/// nothing the lengths do not.
template <typename OpTy>
struct DropDecodeCausalMask : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (cast<AttentionOpInterface>(op.getOperation()).getQueryLength() != 1)
      return failure();
    if (!op.getCausal() && static_cast<int64_t>(op.getWindowRight()) < 0)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op.setCausal(false);
      op.setWindowRight(static_cast<uint64_t>(-1));
    });
    return success();
  }
};

/// Merging a single partial result is a reshape of it.
struct MergeSinglePartial : OpRewritePattern<MergeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MergeOp op,
                                PatternRewriter &rewriter) const override {
    auto parts = dyn_cast<RankedTensorType>(op.getPartialOut().getType());
    auto outType = dyn_cast<RankedTensorType>(op.getOutInit().getType());
    if (!parts || !outType || parts.getDimSize(0) != 1 ||
        !outType.getElementType().isF32())
      return failure();
    Value out = tensor::CollapseShapeOp::create(
        rewriter, op.getLoc(), outType, op.getPartialOut(),
        ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
    Value lse = tensor::CollapseShapeOp::create(
        rewriter, op.getLoc(), op.getLseInit().getType(), op.getPartialLse(),
        ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
    rewriter.replaceOp(op, {out, lse});
    return success();
  }
};
} // namespace

void AttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<NormalizeScoreAttributes<AttentionOp>>(context);
}

void PartialAttentionOp::getCanonicalizationPatterns(
    RewritePatternSet &results, MLIRContext *context) {
  results.add<NormalizeScoreAttributes<PartialAttentionOp>>(context);
}

void CacheAttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                   MLIRContext *context) {
  results.add<NormalizeScoreAttributes<CacheAttentionOp>,
              DropDecodeCausalMask<CacheAttentionOp>>(context);
}

void AppendAttentionOp::getCanonicalizationPatterns(
    RewritePatternSet &results, MLIRContext *context) {
  results.add<NormalizeScoreAttributes<AppendAttentionOp>,
              DropDecodeCausalMask<AppendAttentionOp>>(context);
}

void MergeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<MergeSinglePartial>(context);
}

#define GET_OP_CLASSES
#include "dialects/kv/KvOps.cpp.inc"
