//===- VectorizeAttention.cpp - tiled, vectorised, parallel attention -----===//
//
// The CPU form of the attention ops (memref form). Work is split into
// independent tiles (batch entry b, KV head kh, block of query rows); a tile
// holds the rows of *all* query heads of kh's group (GQA packing), so every
// K/V row is read once per tile, whatever the group size. Tiles run in an
// scf.parallel loop (OpenMP later in the pipeline). Each tile runs a flash-
// attention loop over blocks of keys limited to the union of its rows'
// visible ranges (causal, window and length bounds skip whole blocks):
//
//   scores  S[m, j]  = (scale * Q[m]) . K[j]       one K row load per key,
//                                                   whole-row vector dot
//   softmax          running max / sum per row, P = exp(S - max) as vectors
//   output  O[m]    += P[m, j] * V[j]              row kept in registers
//
// Rows are f32 vectors of the head dim (vector<D x f32>), so any head dim
// works; LLVM splits them into the target's registers. f16/bf16 K/V rows are
// converted on load. Ops whose buffers are not unit-stride rows are left to
// kv-lower-to-loops.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::kv {
#define GEN_PASS_DEF_CPUVECTORIZEATTENTIONPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

/// Tiling choices for one attention op.
struct TileConfig {
  int64_t rowTarget = 16; // query rows (all heads of a group) per tile
  int64_t keyBlock = 64;  // keys per softmax block
  bool parallel = true;
};

/// Where rows of K or V live: a dense [B, H, S, D] memref or a page pool.
struct RowSource {
  Value memref;
  Value pageTable; // null when dense
  int64_t pageSize = 0;
};

struct AttentionParts {
  Operation *op;
  Value query, mask, kvLens, offsets, out, lse;
  RowSource keys, values;
  enum { Static, PerSequence, BottomRight } offsetKind = Static;
  int64_t staticOffset = 0, kvStart = 0, kvLen = 0;
  double scale = 1.0;
  std::optional<double> softcap;
  bool causal = false;
  int64_t windowLeft = -1, windowRight = -1;
};

class TileEmitter {
public:
  TileEmitter(OpBuilder &b, Location loc) : b(b), loc(loc) {}

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
  Value loadIndex(Value memref, ValueRange indices) {
    Value v = memref::LoadOp::create(b, loc, memref, indices);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }
  /// Converts a scalar or vector of floats to f32 elements.
  Value toF32(Value v) {
    Type t = v.getType();
    auto element = cast<FloatType>(getElementTypeOrSelf(t));
    if (element.isF32())
      return v;
    Type target = b.getF32Type();
    if (auto vt = dyn_cast<VectorType>(t))
      target = VectorType::get(vt.getShape(), target);
    if (element.getWidth() < 32)
      return arith::ExtFOp::create(b, loc, target, v);
    return arith::TruncFOp::create(b, loc, target, v);
  }
  Value fromF32(Value v, Type element) {
    if (element.isF32())
      return v;
    Type target = element;
    if (auto vt = dyn_cast<VectorType>(v.getType()))
      target = VectorType::get(vt.getShape(), element);
    if (cast<FloatType>(element).getWidth() < 32)
      return arith::TruncFOp::create(b, loc, target, v);
    return arith::ExtFOp::create(b, loc, target, v);
  }

  /// Memref and leading indices of row (batch, head, token) of a source.
  std::pair<Value, SmallVector<Value, 4>> row(const RowSource &src,
                                              Value batch, Value head,
                                              Value token) {
    if (!src.pageTable)
      return {src.memref, {batch, head, token}};
    Value size = index(src.pageSize);
    Value slot = arith::DivUIOp::create(b, loc, token, size);
    Value within = arith::RemUIOp::create(b, loc, token, size);
    Value page = loadIndex(src.pageTable, {batch, slot});
    return {src.memref, {page, head, within}};
  }

  /// Loads a whole feature row as vector<dim x f32>.
  Value loadRow(Value memref, ArrayRef<Value> leading, int64_t dim) {
    SmallVector<Value, 5> idx(leading);
    idx.push_back(index(0));
    Type element = cast<MemRefType>(memref.getType()).getElementType();
    Value v = vector::LoadOp::create(b, loc, VectorType::get({dim}, element),
                                     memref, idx);
    return toF32(v);
  }

  OpBuilder &b;
  Location loc;
};

/// Right-aligned broadcast indices of the explicit mask.
SmallVector<Value, 4> maskIndices(TileEmitter &e, Value mask,
                                  ArrayRef<Value> full) {
  auto type = cast<MemRefType>(mask.getType());
  int64_t shift = 4 - type.getRank();
  SmallVector<Value, 4> indices;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    int64_t size = type.getDimSize(d);
    if (size == 1) {
      indices.push_back(e.index(0));
    } else if (ShapedType::isDynamic(size)) {
      Value dim = memref::DimOp::create(e.b, e.loc, mask, d);
      Value isOne = e.cmp(arith::CmpIPredicate::eq, dim, e.index(1));
      indices.push_back(
          arith::SelectOp::create(e.b, e.loc, isOne, e.index(0), full[d + shift]));
    } else {
      indices.push_back(full[d + shift]);
    }
  }
  return indices;
}

/// Emits `for v in [lo, hi) step 1 { body(v) }` without iteration values.
template <typename Fn>
void forRange(TileEmitter &e, Value lo, Value hi, Fn body) {
  auto loop = scf::ForOp::create(e.b, e.loc, lo, hi, e.index(1));
  OpBuilder::InsertionGuard guard(e.b);
  e.b.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

void emitTiledAttention(OpBuilder &b, const AttentionParts &a,
                        const TileConfig &config) {
  Location loc = a.op->getLoc();
  TileEmitter e(b, loc);
  auto queryType = cast<MemRefType>(a.query.getType());
  auto outType = cast<MemRefType>(a.out.getType());
  int64_t batch = queryType.getDimSize(0), qHeads = queryType.getDimSize(1);
  int64_t qLen = queryType.getDimSize(2), headDim = queryType.getDimSize(3);
  int64_t valueDim = outType.getDimSize(3);
  int64_t kvHeads = cast<MemRefType>(a.keys.memref.getType()).getDimSize(1);
  int64_t group = qHeads / kvHeads;
  int64_t rowsPerHead =
      std::min(qLen, std::max<int64_t>(1, config.rowTarget / group));
  int64_t tileRows = group * rowsPerHead;
  int64_t tilesPerHead = (qLen + rowsPerHead - 1) / rowsPerHead;
  int64_t block = std::max<int64_t>(1, config.keyBlock);
  Type f32 = b.getF32Type();
  auto rowType = [&](int64_t n) { return VectorType::get({n}, f32); };
  Type indexType = b.getIndexType();

  Value c0 = e.index(0), c1 = e.index(1);
  SmallVector<Value, 3> lbs = {c0, c0, c0}, steps = {c1, c1, c1};
  SmallVector<Value, 3> ubs = {e.index(batch), e.index(kvHeads),
                               e.index(tilesPerHead)};

  auto emitTile = [&](ValueRange ivs) {
    Value bIdx = ivs[0], kh = ivs[1], tile = ivs[2];
    Value row0 = e.mul(tile, e.index(rowsPerHead));
    auto scratch = [&](ArrayRef<int64_t> shape, Type element) -> Value {
      return memref::AllocaOp::create(b, loc, MemRefType::get(shape, element));
    };
    Value qs = scratch({tileRows, headDim}, f32);
    Value acc = scratch({tileRows, valueDim}, f32);
    Value probs = scratch({tileRows, block}, f32);
    Value rowMax = scratch({tileRows}, f32);
    Value rowSum = scratch({tileRows}, f32);
    Value rowLo = scratch({tileRows}, indexType);
    Value rowHi = scratch({tileRows}, indexType);

    // Per sequence: key bound and the position of query row 0.
    Value length = a.kvLens ? e.loadIndex(a.kvLens, {bIdx})
                            : e.index(a.kvStart + a.kvLen);
    Value offset;
    switch (a.offsetKind) {
    case AttentionParts::Static:
      offset = e.index(a.staticOffset);
      break;
    case AttentionParts::PerSequence:
      offset = e.loadIndex(a.offsets, {bIdx});
      break;
    case AttentionParts::BottomRight:
      offset = e.sub(length, e.index(qLen));
      break;
    }

    // Row setup: scaled query, visible key range, running state. Rows past
    // the end of the query get an empty range.
    Value scale = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(
                    cast<ShapedType>(rowType(headDim)),
                    b.getF32FloatAttr(static_cast<float>(a.scale))));
    auto rowSetup = scf::ForOp::create(b, loc, c0, e.index(tileRows), c1,
                                       ValueRange{e.index(a.kvLen), c0});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(rowSetup.getBody());
      Value m = rowSetup.getInductionVar();
      Value g = arith::DivUIOp::create(b, loc, m, e.index(rowsPerHead));
      Value r = arith::RemUIOp::create(b, loc, m, e.index(rowsPerHead));
      Value i = e.add(row0, r);
      Value h = e.add(e.mul(kh, e.index(group)), g);
      Value inQuery = e.cmp(arith::CmpIPredicate::slt, i, e.index(qLen));
      Value iSafe = e.minS(i, e.index(qLen - 1));
      Value q = e.loadRow(a.query, {bIdx, h, iSafe}, headDim);
      q = arith::MulFOp::create(b, loc, q, scale);
      vector::StoreOp::create(b, loc, q, qs, ValueRange{m, c0});
      Value pos = e.add(i, offset);
      Value hi = length;
      if (a.causal)
        hi = e.minS(hi, e.add(pos, c1));
      if (a.windowRight >= 0)
        hi = e.minS(hi, e.add(pos, e.index(a.windowRight + 1)));
      Value lo = e.index(a.kvStart);
      if (a.windowLeft >= 0)
        lo = e.maxS(lo, e.sub(pos, e.index(a.windowLeft)));
      Value start = e.index(a.kvStart);
      lo = e.maxS(e.sub(lo, start), c0);
      hi = e.minS(e.sub(hi, start), e.index(a.kvLen));
      hi = arith::SelectOp::create(b, loc, inQuery, e.maxS(hi, lo), lo);
      memref::StoreOp::create(b, loc, lo, rowLo, m);
      memref::StoreOp::create(b, loc, hi, rowHi, m);
      memref::StoreOp::create(b, loc, e.negInf(), rowMax, m);
      memref::StoreOp::create(b, loc, e.f32(0.0), rowSum, m);
      Value zeros = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(cast<ShapedType>(rowType(valueDim)),
                                         b.getF32FloatAttr(0.0f)));
      vector::StoreOp::create(b, loc, zeros, acc, ValueRange{m, c0});
      // The tile's key range is the union of its non-empty row ranges.
      Value empty = e.cmp(arith::CmpIPredicate::sge, lo, hi);
      Value tileLo = arith::SelectOp::create(
          b, loc, empty, rowSetup.getRegionIterArg(0),
          e.minS(rowSetup.getRegionIterArg(0), lo));
      Value tileHi = arith::SelectOp::create(
          b, loc, empty, rowSetup.getRegionIterArg(1),
          e.maxS(rowSetup.getRegionIterArg(1), hi));
      scf::YieldOp::create(b, loc, ValueRange{tileLo, tileHi});
    }
    Value tileLo = rowSetup.getResult(0), tileHi = rowSetup.getResult(1);

    auto blockLoop = scf::ForOp::create(b, loc, tileLo, tileHi,
                                        e.index(block));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(blockLoop.getBody());
      Value jb = blockLoop.getInductionVar();
      Value jEnd = e.minS(e.add(jb, e.index(block)), tileHi);

      // Scores: each K row is loaded once and dotted with every tile row.
      forRange(e, c0, e.index(block), [&](Value jj) {
        Value j = e.add(jb, jj);
        Value inBlock = e.cmp(arith::CmpIPredicate::slt, j, jEnd);
        auto ifIn = scf::IfOp::create(b, loc, inBlock, /*withElse=*/true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifIn.elseBlock());
          forRange(e, c0, e.index(tileRows), [&](Value m) {
            memref::StoreOp::create(b, loc, e.negInf(), probs,
                                    ValueRange{m, jj});
          });
          b.setInsertionPointToStart(ifIn.thenBlock());
          auto [kMem, kIdx] = e.row(a.keys, bIdx, kh, j);
          Value k = e.loadRow(kMem, kIdx, headDim);
          forRange(e, c0, e.index(tileRows), [&](Value m) {
            Value q = vector::LoadOp::create(b, loc, rowType(headDim), qs,
                                             ValueRange{m, c0});
            Value prod = arith::MulFOp::create(b, loc, q, k);
            Value s = vector::ReductionOp::create(
                b, loc, vector::CombiningKind::ADD, prod, Value(),
                arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
            if (a.softcap) {
              Value cap = e.f32(*a.softcap);
              s = arith::MulFOp::create(
                  b, loc, cap,
                  math::TanhOp::create(b, loc,
                                       arith::DivFOp::create(b, loc, s, cap)));
            }
            Value lo = memref::LoadOp::create(b, loc, rowLo, m);
            Value hi = memref::LoadOp::create(b, loc, rowHi, m);
            Value visible = arith::AndIOp::create(
                b, loc, e.cmp(arith::CmpIPredicate::sge, j, lo),
                e.cmp(arith::CmpIPredicate::slt, j, hi));
            if (a.mask) {
              Value g = arith::DivUIOp::create(b, loc, m, e.index(rowsPerHead));
              Value r = arith::RemUIOp::create(b, loc, m, e.index(rowsPerHead));
              Value i = e.minS(e.add(row0, r), e.index(qLen - 1));
              Value h = e.add(e.mul(kh, e.index(group)), g);
              SmallVector<Value, 4> idx =
                  maskIndices(e, a.mask, {bIdx, h, i, j});
              Value mv = memref::LoadOp::create(b, loc, a.mask, idx);
              if (mv.getType().isInteger(1))
                visible = arith::AndIOp::create(b, loc, visible, mv);
              else
                s = arith::AddFOp::create(b, loc, s, e.toF32(mv));
            }
            s = arith::SelectOp::create(b, loc, visible, s, e.negInf());
            memref::StoreOp::create(b, loc, s, probs, ValueRange{m, jj});
          });
        }
      });

      // Softmax update and P.V per row; the output row stays in registers
      // across the block's keys.
      forRange(e, c0, e.index(tileRows), [&](Value m) {
        Value scores = vector::LoadOp::create(b, loc, rowType(block), probs,
                                              ValueRange{m, c0});
        Value blockMax = vector::ReductionOp::create(
            b, loc, vector::CombiningKind::MAXNUMF, scores);
        Value oldMax = memref::LoadOp::create(b, loc, rowMax, m);
        Value newMax = arith::MaxNumFOp::create(b, loc, oldMax, blockMax);
        Value live = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                           newMax, e.negInf());
        auto ifLive = scf::IfOp::create(b, loc, live);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifLive.thenBlock());
        Value alpha = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, oldMax, newMax));
        Value shifted = arith::SubFOp::create(
            b, loc, scores,
            vector::BroadcastOp::create(b, loc, rowType(block), newMax));
        Value p = math::ExpOp::create(b, loc, shifted);
        vector::StoreOp::create(b, loc, p, probs, ValueRange{m, c0});
        Value blockSum = vector::ReductionOp::create(
            b, loc, vector::CombiningKind::ADD, p, Value(),
            arith::FastMathFlags::reassoc);
        Value oldSum = memref::LoadOp::create(b, loc, rowSum, m);
        memref::StoreOp::create(
            b, loc, math::FmaOp::create(b, loc, oldSum, alpha, blockSum),
            rowSum, m);
        memref::StoreOp::create(b, loc, newMax, rowMax, m);
        Value o = vector::LoadOp::create(b, loc, rowType(valueDim), acc,
                                         ValueRange{m, c0});
        o = arith::MulFOp::create(
            b, loc, o,
            vector::BroadcastOp::create(b, loc, rowType(valueDim), alpha));
        auto pv = scf::ForOp::create(b, loc, jb, jEnd, c1, ValueRange{o});
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(pv.getBody());
          Value j = pv.getInductionVar();
          Value pj = memref::LoadOp::create(b, loc, probs,
                                            ValueRange{m, e.sub(j, jb)});
          auto [vMem, vIdx] = e.row(a.values, bIdx, kh, j);
          Value v = e.loadRow(vMem, vIdx, valueDim);
          Value next = vector::FMAOp::create(
              b, loc,
              vector::BroadcastOp::create(b, loc, rowType(valueDim), pj), v,
              pv.getRegionIterArg(0));
          scf::YieldOp::create(b, loc, next);
        }
        vector::StoreOp::create(b, loc, pv.getResult(0), acc,
                                ValueRange{m, c0});
      });
    }

    // O = acc / sum (0 for rows without a visible key), LSE = max + log sum.
    forRange(e, c0, e.index(tileRows), [&](Value m) {
      Value g = arith::DivUIOp::create(b, loc, m, e.index(rowsPerHead));
      Value r = arith::RemUIOp::create(b, loc, m, e.index(rowsPerHead));
      Value i = e.add(row0, r);
      Value h = e.add(e.mul(kh, e.index(group)), g);
      auto ifRow = scf::IfOp::create(
          b, loc, e.cmp(arith::CmpIPredicate::slt, i, e.index(qLen)));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifRow.thenBlock());
      Value sum = memref::LoadOp::create(b, loc, rowSum, m);
      Value visible = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                            sum, e.f32(0.0));
      Value inverse = arith::SelectOp::create(
          b, loc, visible, arith::DivFOp::create(b, loc, e.f32(1.0), sum),
          e.f32(0.0));
      Value o = vector::LoadOp::create(b, loc, rowType(valueDim), acc,
                                       ValueRange{m, c0});
      o = arith::MulFOp::create(
          b, loc, o,
          vector::BroadcastOp::create(b, loc, rowType(valueDim), inverse));
      vector::StoreOp::create(b, loc, e.fromF32(o, outType.getElementType()),
                              a.out, ValueRange{bIdx, h, i, c0});
      if (a.lse) {
        Value max = memref::LoadOp::create(b, loc, rowMax, m);
        Value lse = arith::SelectOp::create(
            b, loc, visible,
            arith::AddFOp::create(b, loc, max,
                                  math::LogOp::create(b, loc, sum)),
            e.negInf());
        Type lseElement = cast<MemRefType>(a.lse.getType()).getElementType();
        memref::StoreOp::create(b, loc, e.fromF32(lse, lseElement), a.lse,
                                ValueRange{bIdx, h, i});
      }
    });
  };

  // Scratch buffers are allocated per tile inside a stack scope, so parallel
  // tiles never share them and the stack does not grow with the tile count
  // (convert-scf-to-openmp adds the scope to parallel iterations itself).
  auto emitScopedTile = [&](ValueRange ivs) {
    auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
    Block *body = b.createBlock(&scope.getBodyRegion());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(body);
    emitTile(ivs);
    memref::AllocaScopeReturnOp::create(b, loc);
  };
  if (config.parallel) {
    scf::ParallelOp::create(b, loc, lbs, ubs, steps,
                            [&](OpBuilder &, Location, ValueRange ivs) {
                              emitTile(ivs);
                            });
  } else {
    scf::buildLoopNest(b, loc, lbs, ubs, steps,
                       [&](OpBuilder &, Location, ValueRange ivs) {
                         emitScopedTile(ivs);
                       });
  }
}

/// Whether a memref can be read or written as whole unit-stride rows.
bool hasContiguousRows(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getLayout().isIdentity();
}

template <typename OpTy>
AttentionParts commonParts(OpTy op) {
  AttentionParts a;
  auto iface = cast<AttentionOpInterface>(op.getOperation());
  a.op = op;
  a.query = op.getQuery();
  a.mask = op.getMask();
  a.scale = iface.getEffectiveScale();
  if (auto cap = op.getSoftcap())
    a.softcap = cap->convertToDouble();
  a.causal = op.getCausal();
  a.windowLeft = iface.getWindowLeftBound();
  a.windowRight = iface.getWindowRightBound();
  return a;
}

std::optional<AttentionParts> getParts(Operation *op, OpBuilder &b) {
  if (op->getNumResults() != 0)
    return std::nullopt;
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    AttentionParts a = commonParts(attention);
    a.keys = {attention.getKey()};
    a.values = {attention.getValue()};
    a.kvLens = attention.getKvLens();
    a.offsets = attention.getOffsets();
    a.offsetKind =
        a.offsets ? AttentionParts::PerSequence : AttentionParts::Static;
    a.staticOffset = attention.getCausalOffset();
    a.kvLen = cast<MemRefType>(attention.getKey().getType()).getDimSize(2);
    a.out = attention.getInit();
    return a;
  }
  if (auto partial = dyn_cast<PartialAttentionOp>(op)) {
    AttentionParts a = commonParts(partial);
    a.keys = {partial.getKey()};
    a.values = {partial.getValue()};
    a.kvLens = partial.getKvLens();
    a.offsets = partial.getOffsets();
    a.offsetKind =
        a.offsets ? AttentionParts::PerSequence : AttentionParts::Static;
    a.staticOffset = partial.getCausalOffset();
    a.kvStart = partial.getKvStart();
    a.kvLen = cast<MemRefType>(partial.getKey().getType()).getDimSize(2);
    a.out = partial.getOutInit();
    a.lse = partial.getLseInit();
    return a;
  }
  if (auto cached = dyn_cast<CacheAttentionOp>(op)) {
    CacheType cache = cached.getCacheType();
    if (cache.isQuantized())
      return std::nullopt;
    AttentionParts a = commonParts(cached);
    auto view = CacheViewOp::create(b, op->getLoc(), cached.getCache());
    a.keys = {view.getKeyPool(), view.getPageTable(), cache.getPageSize()};
    a.values = {view.getValuePool(), view.getPageTable(),
                cache.getPageSize()};
    a.kvLens = cached.getKvLens();
    a.offsetKind = AttentionParts::BottomRight;
    a.kvLen = cache.getCapacity();
    a.out = cached.getInit();
    return a;
  }
  return std::nullopt;
}

struct VectorizeAttention : RewritePattern {
  VectorizeAttention(MLIRContext *ctx, TileConfig config)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/2, ctx),
        config(config) {}
  TileConfig config;

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<AttentionOp, PartialAttentionOp, CacheAttentionOp>(op))
      return failure();
    if (op->getNumResults() != 0)
      return rewriter.notifyMatchFailure(op, "expects the memref form");
    for (Value v : op->getOperands())
      if (isa<MemRefType>(v.getType()) && !hasContiguousRows(v))
        return rewriter.notifyMatchFailure(op, "non-identity layout");
    if (auto cached = dyn_cast<CacheAttentionOp>(op))
      if (cached.getCacheType().isQuantized())
        return rewriter.notifyMatchFailure(op, "quantised cache");
    std::optional<AttentionParts> parts = getParts(op, rewriter);
    if (!parts)
      return failure();
    emitTiledAttention(rewriter, *parts, config);
    rewriter.eraseOp(op);
    return success();
  }
};

struct CpuVectorizeAttentionPass
    : kv::impl::CpuVectorizeAttentionPassBase<CpuVectorizeAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    TileConfig config;
    config.rowTarget = rowTile;
    config.keyBlock = keyBlock;
    config.parallel = parallel;
    RewritePatternSet patterns(&getContext());
    patterns.add<VectorizeAttention>(&getContext(), config);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
