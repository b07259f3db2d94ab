//===- LoopEmitter.h - helpers shared by the kv loop lowerings --*- C++ -*-===//
//
// Index and float arithmetic bound to one builder and location, element
// conversions for scalars and vectors, and the two pieces of attention
// semantics every loop lowering needs: the explicit mask's broadcast indices
// and the key range the length, causal and window bounds leave visible.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_COMMON_LOOPEMITTER_H
#define KVFUSE_LOWERING_COMMON_LOOPEMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"

#include <limits>

namespace mlir::kv {

class LoopEmitter {
public:
  LoopEmitter(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc,
                                     b.getF32FloatAttr(static_cast<float>(v)));
  }
  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value minS(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value maxS(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value fmax(Value x, Value y) {
    return arith::MaxNumFOp::create(b, loc, x, y);
  }

  /// Loads an i32 (length, offset or page id) as an index.
  Value loadIndex(Value memref, ValueRange indices) {
    Value v = memref::LoadOp::create(b, loc, memref, indices);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }

  /// Converts a float scalar or vector to f32 elements (all arithmetic is
  /// f32, whatever the storage type).
  Value toF32(Value v) {
    auto element = cast<FloatType>(getElementTypeOrSelf(v.getType()));
    if (element.isF32())
      return v;
    Type target = withElement(v.getType(), b.getF32Type());
    if (element.getWidth() < 32)
      return arith::ExtFOp::create(b, loc, target, v);
    return arith::TruncFOp::create(b, loc, target, v);
  }
  /// Converts f32 elements to a stored element type.
  Value fromF32(Value v, Type element) {
    if (element.isF32())
      return v;
    Type target = withElement(v.getType(), element);
    if (cast<FloatType>(element).getWidth() < 32)
      return arith::TruncFOp::create(b, loc, target, v);
    return arith::ExtFOp::create(b, loc, target, v);
  }

  OpBuilder &b;
  Location loc;

private:
  static Type withElement(Type type, Type element) {
    if (auto vector = dyn_cast<VectorType>(type))
      return VectorType::get(vector.getShape(), element);
    return element;
  }
};

/// Emits `for v in [lo, hi) step 1 { body(v) }` without iteration values.
template <typename Fn>
void forRange(LoopEmitter &e, Value lo, Value hi, Fn body) {
  auto loop = scf::ForOp::create(e.b, e.loc, lo, hi, e.index(1));
  OpBuilder::InsertionGuard guard(e.b);
  e.b.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

/// Indices of the explicit mask element for (b, h, i, j): the mask's dims
/// are right-aligned to [B, Hq, Sq, Skv] and dims of size 1 broadcast.
inline SmallVector<Value, 4> maskIndices(LoopEmitter &e, Value mask,
                                         ArrayRef<Value> full) {
  auto type = cast<MemRefType>(mask.getType());
  int64_t shift = 4 - type.getRank();
  SmallVector<Value, 4> indices;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    Value idx = full[d + shift];
    int64_t size = type.getDimSize(d);
    if (size == 1) {
      indices.push_back(e.index(0));
    } else if (ShapedType::isDynamic(size)) {
      Value dim = memref::DimOp::create(e.b, e.loc, mask, d);
      Value isOne = e.cmp(arith::CmpIPredicate::eq, dim, e.index(1));
      indices.push_back(
          arith::SelectOp::create(e.b, e.loc, isOne, e.index(0), idx));
    } else {
      indices.push_back(idx);
    }
  }
  return indices;
}

/// The bounds that limit which keys a query row sees (DESIGN.md section 2).
struct KeyBounds {
  bool causal = false;
  int64_t windowLeft = -1, windowRight = -1; // -1: unbounded
  int64_t kvStart = 0;                       // global index of local key 0
  int64_t kvLen = 0;                         // keys the op addresses
};

/// Local key range [lo, hi) (hi >= lo) visible from query position `pos`
/// in a sequence of `length` keys (global count).
inline std::pair<Value, Value> visibleKeys(LoopEmitter &e, Value pos,
                                           Value length,
                                           const KeyBounds &k) {
  Value c1 = e.index(1);
  Value hi = length;
  if (k.causal)
    hi = e.minS(hi, e.add(pos, c1));
  if (k.windowRight >= 0)
    hi = e.minS(hi, e.add(pos, e.index(k.windowRight + 1)));
  Value lo = e.index(k.kvStart);
  if (k.windowLeft >= 0)
    lo = e.maxS(lo, e.sub(pos, e.index(k.windowLeft)));
  Value start = e.index(k.kvStart);
  lo = e.maxS(e.sub(lo, start), e.index(0));
  hi = e.minS(e.sub(hi, start), e.index(k.kvLen));
  return {lo, e.maxS(hi, lo)};
}

} // namespace mlir::kv

#endif // KVFUSE_LOWERING_COMMON_LOOPEMITTER_H
