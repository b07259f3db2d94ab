//===- LowerToLoops.cpp - kv ops on memrefs to scf loops ------------------===//
//
// Target-neutral lowering of the kv dialect's memref form. Every attention
// op becomes a loop nest over (batch, query head, query row); each row
// visits only the key range that the length, causal and window bounds leave
// open and runs a blocked online softmax over it: the scores of a block of
// keys go to a scratch row, the running max and sum are updated once per
// block and the accumulator is rescaled once per block. Explicit masks are
// applied per score. Caches are read and written through `kv.cache_view`,
// so the same loops serve contiguous and paged layouts.
//
// The loop nest is the shape later tiling and vectorisation work on: the
// (b, h, i) loops are independent, the key-block loop carries (max, sum).
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Passes.h"
#include "lowering/common/AttentionSpec.h"
#include "lowering/common/LoopEmitter.h"
#include "lowering/common/Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <limits>

namespace mlir::kv {
#define GEN_PASS_DEF_LOWERTOLOOPSPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

using Emitter = LoopEmitter;

/// Allocates a stack buffer at the start of the function, so loops reuse it.
Value entryAlloca(OpBuilder &b, Operation *op, int64_t size) {
  OpBuilder::InsertionGuard guard(b);
  auto func = op->getParentOfType<FunctionOpInterface>();
  b.setInsertionPointToStart(&func.getFunctionBody().front());
  return memref::AllocaOp::create(
      b, op->getLoc(), MemRefType::get({size}, b.getF32Type()));
}

/// Emits the loop nest of one attention op (see the file comment).
void emitAttention(OpBuilder &b, const AttentionSpec &s, int64_t keyBlock) {
  Location loc = s.op->getLoc();
  Emitter e{b, loc};
  auto queryType = cast<MemRefType>(s.query.getType());
  auto outType = cast<MemRefType>(s.out.getType());
  int64_t batch = queryType.getDimSize(0), qHeads = s.qHeads;
  int64_t qLen = s.qLen, headDim = queryType.getDimSize(3);
  int64_t valueDim = outType.getShape().back();
  int64_t kvHeads = cast<MemRefType>(s.keys.memref.getType()).getDimSize(1);
  int64_t group = qHeads / kvHeads;
  int64_t block = std::max<int64_t>(1, keyBlock);

  Value acc = entryAlloca(b, s.op, valueDim);
  Value scores = entryAlloca(b, s.op, block);

  Value c0 = e.index(0), c1 = e.index(1);
  Value zeroF = e.f32(0.0), negInf = e.negInf();
  Value scale = e.f32(s.scale);

  auto batchLoop = scf::ForOp::create(b, loc, c0, e.index(batch), c1);
  b.setInsertionPointToStart(batchLoop.getBody());
  Value bIdx = batchLoop.getInductionVar();
  // Global key bound of this sequence and the position of query row 0.
  AttentionSpec::Sequence sequence = s.sequence(e, bIdx);
  Value length = sequence.length, offset = sequence.offset;

  auto headLoop = scf::ForOp::create(b, loc, c0, e.index(qHeads), c1);
  b.setInsertionPointToStart(headLoop.getBody());
  Value hIdx = headLoop.getInductionVar();
  Value khIdx = arith::DivUIOp::create(b, loc, hIdx, e.index(group));

  auto rowLoop = scf::ForOp::create(b, loc, c0, e.index(qLen), c1);
  b.setInsertionPointToStart(rowLoop.getBody());
  Value iIdx = rowLoop.getInductionVar();
  // Where query head h's row i lives in Q, O and LSE (GQA packing).
  auto [qHeadIdx, qRowIdx] = s.packedRow(e, hIdx, iIdx);

  // Visible keys [lo, hi) of this row, local to the op's keys.
  Value pos = e.add(iIdx, offset);
  Value lo, hi;
  std::tie(lo, hi) = visibleKeys(e, pos, length, s.bounds());

  // Split form: partial n attends to the n-th of `splits` equal chunks of
  // the row's visible keys.
  Value split;
  if (s.splits > 1) {
    auto splitLoop = scf::ForOp::create(b, loc, c0, e.index(s.splits), c1);
    b.setInsertionPointToStart(splitLoop.getBody());
    split = splitLoop.getInductionVar();
    Value span = e.maxS(e.sub(hi, lo), c0);
    Value chunk = arith::DivUIOp::create(
        b, loc, e.add(span, e.index(s.splits - 1)), e.index(s.splits));
    lo = e.minS(e.add(lo, e.mul(split, chunk)), hi);
    hi = e.minS(e.add(lo, chunk), hi);
  }
  // Indices of this row's output (and log-sum-exp) element.
  auto outIndex = [&](SmallVector<Value> idx) {
    if (split)
      idx.insert(idx.begin(), split);
    return idx;
  };

  // acc = 0
  {
    auto fill = scf::ForOp::create(b, loc, c0, e.index(valueDim), c1);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(fill.getBody());
    memref::StoreOp::create(b, loc, zeroF, acc, fill.getInductionVar());
  }

  auto blockLoop = scf::ForOp::create(b, loc, lo, hi, e.index(block),
                                      ValueRange{negInf, zeroF});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(blockLoop.getBody());
    Value jb = blockLoop.getInductionVar();
    Value runMax = blockLoop.getRegionIterArg(0);
    Value runSum = blockLoop.getRegionIterArg(1);
    Value jEnd = e.minS(e.add(jb, e.index(block)), hi);

    // Scores of the block and their max.
    auto scoreLoop = scf::ForOp::create(b, loc, jb, jEnd, c1,
                                        ValueRange{negInf});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(scoreLoop.getBody());
      Value j = scoreLoop.getInductionVar();
      SmallVector<Value, 4> keyRow = s.keys.row(e, bIdx, khIdx, j).second;
      auto dot = scf::ForOp::create(b, loc, c0, e.index(headDim), c1,
                                    ValueRange{zeroF});
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(dot.getBody());
        Value d = dot.getInductionVar();
        Value q = e.toF32(memref::LoadOp::create(
            b, loc, s.query, ValueRange{bIdx, qHeadIdx, qRowIdx, d}));
        SmallVector<Value, 4> kIdx(keyRow);
        kIdx.push_back(d);
        Value k = e.toF32(memref::LoadOp::create(b, loc, s.keys.memref, kIdx));
        Value sum = math::FmaOp::create(b, loc, q, k, dot.getRegionIterArg(0));
        scf::YieldOp::create(b, loc, sum);
      }
      Value score = e.fmul(dot.getResult(0), scale);
      if (s.softcap) {
        Value cap = e.f32(*s.softcap);
        Value t = math::TanhOp::create(
            b, loc, arith::DivFOp::create(b, loc, score, cap));
        score = e.fmul(cap, t);
      }
      if (s.mask) {
        SmallVector<Value, 4> idx =
            maskIndices(e, s.mask, {bIdx, hIdx, iIdx, j});
        Value m = memref::LoadOp::create(b, loc, s.mask, idx);
        if (m.getType().isInteger(1))
          score = arith::SelectOp::create(b, loc, m, score, negInf);
        else
          score = e.fadd(score, e.toF32(m));
      }
      memref::StoreOp::create(b, loc, score, scores, ValueRange{e.sub(j, jb)});
      scf::YieldOp::create(b, loc,
                           e.fmax(scoreLoop.getRegionIterArg(0), score));
    }
    Value newMax = e.fmax(runMax, scoreLoop.getResult(0));
    // A block (and everything before it) fully masked changes nothing.
    Value allMasked = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                            newMax, negInf);
    auto ifMasked = scf::IfOp::create(
        b, loc, TypeRange{b.getF32Type(), b.getF32Type()}, allMasked,
        /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifMasked.thenBlock());
      scf::YieldOp::create(b, loc, ValueRange{runMax, runSum});

      b.setInsertionPointToStart(ifMasked.elseBlock());
      Value alpha = math::ExpOp::create(b, loc,
                                        arith::SubFOp::create(b, loc, runMax,
                                                              newMax));
      auto rescale = scf::ForOp::create(b, loc, c0, e.index(valueDim), c1);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(rescale.getBody());
        Value d = rescale.getInductionVar();
        Value a = memref::LoadOp::create(b, loc, acc, d);
        memref::StoreOp::create(b, loc, e.fmul(a, alpha), acc, d);
      }
      auto pvLoop = scf::ForOp::create(b, loc, jb, jEnd, c1,
                                       ValueRange{zeroF});
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(pvLoop.getBody());
        Value j = pvLoop.getInductionVar();
        Value score = memref::LoadOp::create(b, loc, scores,
                                             ValueRange{e.sub(j, jb)});
        Value p = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, score, newMax));
        SmallVector<Value, 4> valueRow =
            s.values.row(e, bIdx, khIdx, j).second;
        auto accLoop = scf::ForOp::create(b, loc, c0, e.index(valueDim), c1);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(accLoop.getBody());
          Value d = accLoop.getInductionVar();
          SmallVector<Value, 4> vIdx(valueRow);
          vIdx.push_back(d);
          Value v =
              e.toF32(memref::LoadOp::create(b, loc, s.values.memref, vIdx));
          Value a = memref::LoadOp::create(b, loc, acc, d);
          memref::StoreOp::create(b, loc, math::FmaOp::create(b, loc, p, v, a),
                                  acc, d);
        }
        scf::YieldOp::create(b, loc, e.fadd(pvLoop.getRegionIterArg(0), p));
      }
      Value newSum = math::FmaOp::create(b, loc, runSum, alpha,
                                         pvLoop.getResult(0));
      scf::YieldOp::create(b, loc, ValueRange{newMax, newSum});
    }
    scf::YieldOp::create(b, loc, ifMasked.getResults());
  }

  // O = acc / sum, or 0 for a row without a visible key.
  Value rowMax = blockLoop.getResult(0), rowSum = blockLoop.getResult(1);
  Value visible = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                        rowSum, zeroF);
  Value inverse = arith::SelectOp::create(
      b, loc, visible, arith::DivFOp::create(b, loc, e.f32(1.0), rowSum),
      zeroF);
  {
    auto store = scf::ForOp::create(b, loc, c0, e.index(valueDim), c1);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(store.getBody());
    Value d = store.getInductionVar();
    Value a = memref::LoadOp::create(b, loc, acc, d);
    Value o = e.fromF32(e.fmul(a, inverse), outType.getElementType());
    memref::StoreOp::create(b, loc, o, s.out,
                            outIndex({bIdx, qHeadIdx, qRowIdx, d}));
  }
  if (s.lse) {
    Value logSum = math::LogOp::create(b, loc, rowSum);
    Value lse = arith::SelectOp::create(b, loc, visible,
                                        e.fadd(rowMax, logSum), negInf);
    auto lseType = cast<MemRefType>(s.lse.getType());
    memref::StoreOp::create(b, loc, e.fromF32(lse, lseType.getElementType()),
                            s.lse, outIndex({bIdx, qHeadIdx, qRowIdx}));
  }
  b.setInsertionPointAfter(batchLoop);
}

/// Whether `op` appends a dynamic number of rows (the loops need S).
bool hasDynamicNewRows(Operation *op) {
  Value key;
  if (auto append = dyn_cast<AppendOp>(op))
    key = append.getKey();
  else if (auto fused = dyn_cast<AppendAttentionOp>(op))
    key = fused.getKey();
  return key && cast<ShapedType>(key.getType()).isDynamicDim(2);
}

bool isBufferized(Operation *op) {
  return op->getNumResults() == 0 &&
         llvm::none_of(op->getOperandTypes(),
                       [](Type t) { return isa<TensorType>(t); });
}

template <typename OpTy>
struct LowerKvOp : OpRewritePattern<OpTy> {
  LowerKvOp(MLIRContext *ctx, int64_t keyBlock)
      : OpRewritePattern<OpTy>(ctx), keyBlock(keyBlock) {}
  int64_t keyBlock;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!isBufferized(op))
      return rewriter.notifyMatchFailure(op, "expects the memref form");
    if (auto cacheOp = getCache(op))
      if (cast<CacheType>(cacheOp.getType()).isQuantized())
        return rewriter.notifyMatchFailure(op, "quantised cache");
    if (hasDynamicNewRows(op))
      return rewriter.notifyMatchFailure(op, "dynamic number of new rows");
    lower(op, rewriter);
    rewriter.eraseOp(op);
    return success();
  }

  static Value getCache(Operation *op) {
    for (Value v : op->getOperands())
      if (isa<CacheType>(v.getType()))
        return v;
    return nullptr;
  }

  void lower(OpTy op, PatternRewriter &rewriter) const;
};

/// The three attention ops share one description (AttentionSpec.h).
template <typename OpTy>
void lowerAttention(OpTy op, PatternRewriter &rewriter, int64_t keyBlock) {
  std::optional<AttentionSpec> s = describeAttention(op, rewriter);
  emitAttention(rewriter, *s, keyBlock);
}

template <>
void LowerKvOp<AttentionOp>::lower(AttentionOp op,
                                   PatternRewriter &rewriter) const {
  lowerAttention(op, rewriter, keyBlock);
}

template <>
void LowerKvOp<PartialAttentionOp>::lower(PartialAttentionOp op,
                                          PatternRewriter &rewriter) const {
  lowerAttention(op, rewriter, keyBlock);
}

template <>
void LowerKvOp<CacheAttentionOp>::lower(CacheAttentionOp op,
                                        PatternRewriter &rewriter) const {
  lowerAttention(op, rewriter, keyBlock);
}

/// Emits `for t in [0, tokens): body(t)` nested in (b, h) loops.
template <typename Fn>
void forEachRow(Emitter &e, int64_t batch, int64_t heads, int64_t tokens,
                Fn body) {
  OpBuilder &b = e.b;
  Value c0 = e.index(0), c1 = e.index(1);
  auto bLoop = scf::ForOp::create(b, e.loc, c0, e.index(batch), c1);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(bLoop.getBody());
  auto hLoop = scf::ForOp::create(b, e.loc, c0, e.index(heads), c1);
  b.setInsertionPointToStart(hLoop.getBody());
  auto tLoop = scf::ForOp::create(b, e.loc, c0, e.index(tokens), c1);
  b.setInsertionPointToStart(tLoop.getBody());
  body(bLoop.getInductionVar(), hLoop.getInductionVar(),
       tLoop.getInductionVar());
}

/// Emits `for d in [0, size): body(d)`.
template <typename Fn>
void forEachFeature(Emitter &e, int64_t size, Fn body) {
  auto loop = scf::ForOp::create(e.b, e.loc, e.index(0), e.index(size),
                                 e.index(1));
  OpBuilder::InsertionGuard guard(e.b);
  e.b.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

/// Whether `page` names a page of `pool` (guards against a bad page table).
Value isPageInPool(Emitter &e, Value page, Value pool) {
  Value pages = memref::DimOp::create(e.b, e.loc, pool, 0);
  Value nonNegative = arith::CmpIOp::create(
      e.b, e.loc, arith::CmpIPredicate::sge, page, e.index(0));
  Value below = arith::CmpIOp::create(e.b, e.loc, arith::CmpIPredicate::slt,
                                      page, pages);
  return arith::AndIOp::create(e.b, e.loc, nonNegative, below);
}

/// Emits the loops writing new rows `key`/`value` [B, H, S, D|Dv] into the
/// cache rows `keys`/`values` at tokens lens[b] + t.
void emitAppend(PatternRewriter &rewriter, Location loc, CacheType cache,
                const RowSource &keys, const RowSource &values, Value key,
                Value value, Value lens) {
  Emitter e{rewriter, loc};
  auto keyType = cast<MemRefType>(key.getType());
  int64_t batch = keyType.getDimSize(0), heads = keyType.getDimSize(1);
  int64_t tokens = keyType.getDimSize(2);
  forEachRow(e, batch, heads, tokens, [&](Value bIdx, Value h, Value t) {
    // Token position; rows past the capacity are never written (the
    // runtime reports the overflow before calling).
    Value pos = e.add(e.loadIndex(lens, {bIdx}), t);
    Value inCache = arith::AndIOp::create(
        rewriter, e.loc,
        arith::CmpIOp::create(rewriter, e.loc, arith::CmpIPredicate::sge, pos,
                              e.index(0)),
        arith::CmpIOp::create(rewriter, e.loc, arith::CmpIPredicate::slt, pos,
                              e.index(cache.getCapacity())));
    auto ifIn = scf::IfOp::create(rewriter, e.loc, inCache);
    rewriter.setInsertionPointToStart(ifIn.thenBlock());
    SmallVector<Value, 4> row = keys.row(e, bIdx, h, pos).second;
    auto ifPage =
        scf::IfOp::create(rewriter, e.loc, isPageInPool(e, row[0], keys.memref));
    rewriter.setInsertionPointToStart(ifPage.thenBlock());
    for (auto [src, dst] : {std::pair{key, keys}, std::pair{value, values}}) {
      int64_t dim = cast<MemRefType>(src.getType()).getDimSize(3);
      forEachFeature(e, dim, [&](Value d) {
        Value x = memref::LoadOp::create(rewriter, e.loc, src,
                                         ValueRange{bIdx, h, t, d});
        SmallVector<Value, 4> idx(row);
        idx.push_back(d);
        memref::StoreOp::create(rewriter, e.loc,
                                e.fromF32(e.toF32(x), dst.elementType()),
                                dst.memref, idx);
      });
    }
  });
}

template <>
void LowerKvOp<AppendOp>::lower(AppendOp op, PatternRewriter &rewriter) const {
  auto [keys, values] = cacheSources(rewriter, op.getLoc(), op.getCache());
  emitAppend(rewriter, op.getLoc(), op.getCacheType(), keys, values,
             op.getKey(), op.getValue(), op.getLens());
}

/// The fused op is its definition: the append's loops, then the cache
/// attention's loops over past_lens[b] + S tokens.
template <>
void LowerKvOp<AppendAttentionOp>::lower(AppendAttentionOp op,
                                         PatternRewriter &rewriter) const {
  // The append's loops, then attention over past_lens + S keys read back
  // from the cache.
  std::optional<AttentionSpec> s = describeAttention(op, rewriter);
  emitAppend(rewriter, op.getLoc(), op.getCacheType(), s->keys, s->values,
             op.getKey(), op.getValue(), op.getPastLens());
  emitAttention(rewriter, *s, keyBlock);
}

template <>
void LowerKvOp<LoadOp>::lower(LoadOp op, PatternRewriter &rewriter) const {
  Emitter e{rewriter, op.getLoc()};
  auto [keys, values] = cacheSources(rewriter, op.getLoc(), op.getCache());
  auto keyType = cast<MemRefType>(op.getKeyInit().getType());
  int64_t batch = keyType.getDimSize(0), heads = keyType.getDimSize(1);
  int64_t tokens = keyType.getDimSize(2);
  forEachRow(e, batch, heads, tokens, [&](Value bIdx, Value h, Value t) {
    SmallVector<Value, 4> row = keys.row(e, bIdx, h, t).second;
    Value valid = isPageInPool(e, row[0], keys.memref);
    for (auto [src, dst] : {std::pair{keys, op.getKeyInit()},
                            std::pair{values, op.getValueInit()}}) {
      auto dstType = cast<MemRefType>(dst.getType());
      forEachFeature(e, dstType.getDimSize(3), [&](Value d) {
        // Tokens of pages a sequence does not hold read as 0.
        auto ifValid = scf::IfOp::create(
            rewriter, e.loc, TypeRange{dstType.getElementType()}, valid,
            /*withElseRegion=*/true);
        {
          OpBuilder::InsertionGuard guard(rewriter);
          rewriter.setInsertionPointToStart(ifValid.thenBlock());
          SmallVector<Value, 4> idx(row);
          idx.push_back(d);
          Value x = memref::LoadOp::create(rewriter, e.loc, src.memref, idx);
          scf::YieldOp::create(
              rewriter, e.loc,
              e.fromF32(e.toF32(x), dstType.getElementType()));
          rewriter.setInsertionPointToStart(ifValid.elseBlock());
          scf::YieldOp::create(
              rewriter, e.loc,
              ValueRange{arith::ConstantOp::create(
                  rewriter, e.loc,
                  rewriter.getZeroAttr(dstType.getElementType()))});
        }
        memref::StoreOp::create(rewriter, e.loc, ifValid.getResult(0), dst,
                                ValueRange{bIdx, h, t, d});
      });
    }
  });
}

template <>
void LowerKvOp<MergeOp>::lower(MergeOp op, PatternRewriter &rewriter) const {
  Emitter e{rewriter, op.getLoc()};
  Location loc = op.getLoc();
  auto partsType = cast<MemRefType>(op.getPartialOut().getType());
  int64_t parts = partsType.getDimSize(0), batch = partsType.getDimSize(1);
  int64_t heads = partsType.getDimSize(2), rows = partsType.getDimSize(3);
  int64_t valueDim = partsType.getDimSize(4);
  Value lses = op.getPartialLse(), outs = op.getPartialOut();
  Value out = op.getOutInit(), lseOut = op.getLseInit();
  Type outElement = cast<MemRefType>(out.getType()).getElementType();
  Type lseElement = cast<MemRefType>(lseOut.getType()).getElementType();
  forEachRow(e, batch, heads, rows, [&](Value bIdx, Value h, Value i) {
    Value c0 = e.index(0), c1 = e.index(1), nParts = e.index(parts);
    auto lseOf = [&](Value n) {
      return e.toF32(memref::LoadOp::create(rewriter, loc, lses,
                                            ValueRange{n, bIdx, h, i}));
    };
    auto maxLoop = scf::ForOp::create(rewriter, loc, c0, nParts, c1,
                                      ValueRange{e.negInf()});
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(maxLoop.getBody());
      scf::YieldOp::create(rewriter, loc,
                           e.fmax(maxLoop.getRegionIterArg(0),
                                  lseOf(maxLoop.getInductionVar())));
    }
    Value m = maxLoop.getResult(0);
    Value visible = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::ONE, m, e.negInf());
    // Substituting 0 for -inf keeps exp() finite; weights are 0 anyway.
    Value safeMax = arith::SelectOp::create(rewriter, loc, visible, m,
                                            e.f32(0.0));
    auto sumLoop = scf::ForOp::create(rewriter, loc, c0, nParts, c1,
                                      ValueRange{e.f32(0.0)});
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(sumLoop.getBody());
      Value w = math::ExpOp::create(
          rewriter, loc,
          arith::SubFOp::create(rewriter, loc,
                                lseOf(sumLoop.getInductionVar()), safeMax));
      scf::YieldOp::create(rewriter, loc,
                           e.fadd(sumLoop.getRegionIterArg(0), w));
    }
    Value sum = sumLoop.getResult(0);
    Value inverse = arith::SelectOp::create(
        rewriter, loc, visible,
        arith::DivFOp::create(rewriter, loc, e.f32(1.0), sum), e.f32(0.0));
    forEachFeature(e, valueDim, [&](Value d) {
      auto accLoop = scf::ForOp::create(rewriter, loc, c0, nParts, c1,
                                        ValueRange{e.f32(0.0)});
      {
        OpBuilder::InsertionGuard guard(rewriter);
        rewriter.setInsertionPointToStart(accLoop.getBody());
        Value n = accLoop.getInductionVar();
        Value w = math::ExpOp::create(
            rewriter, loc, arith::SubFOp::create(rewriter, loc, lseOf(n),
                                                 safeMax));
        Value o = e.toF32(memref::LoadOp::create(
            rewriter, loc, outs, ValueRange{n, bIdx, h, i, d}));
        scf::YieldOp::create(
            rewriter, loc,
            ValueRange{math::FmaOp::create(rewriter, loc, w, o,
                                           accLoop.getRegionIterArg(0))});
      }
      Value o = e.fmul(accLoop.getResult(0), inverse);
      memref::StoreOp::create(rewriter, loc, e.fromF32(o, outElement), out,
                              ValueRange{bIdx, h, i, d});
    });
    Value lse = arith::SelectOp::create(
        rewriter, loc, visible,
        e.fadd(m, math::LogOp::create(rewriter, loc, sum)), e.negInf());
    memref::StoreOp::create(rewriter, loc, e.fromF32(lse, lseElement), lseOut,
                            ValueRange{bIdx, h, i});
  });
}

/// memref.copy as a loop nest: the LLVM lowering of a copy between strided
/// memrefs calls MLIR's C runner library, which artifacts do not link.
struct CopyToLoops : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<MemRefType>(op.getSource().getType());
    if (!type || !isa<MemRefType>(op.getTarget().getType()))
      return rewriter.notifyMatchFailure(op, "unranked copy");
    Emitter e{rewriter, op.getLoc()};
    SmallVector<Value> indices;
    Value c0 = e.index(0), c1 = e.index(1);
    for (int64_t d = 0; d < type.getRank(); ++d) {
      Value size = type.isDynamicDim(d)
                       ? memref::DimOp::create(rewriter, e.loc, op.getSource(),
                                               d)
                             .getResult()
                       : e.index(type.getDimSize(d));
      auto loop = scf::ForOp::create(rewriter, e.loc, c0, size, c1);
      rewriter.setInsertionPointToStart(loop.getBody());
      indices.push_back(loop.getInductionVar());
    }
    Value x = memref::LoadOp::create(rewriter, e.loc, op.getSource(), indices);
    memref::StoreOp::create(rewriter, e.loc, x, op.getTarget(), indices);
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerToLoopsPass
    : kv::impl::LowerToLoopsPassBase<LowerToLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateKvToLoopsPatterns(patterns, keyBlock);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // Whatever is left could not be lowered: say why, at the op.
    WalkResult result = getOperation()->walk([](Operation *op) {
      if (!isa<AttentionOp, PartialAttentionOp, CacheAttentionOp,
               AppendAttentionOp, MergeOp, AppendOp, LoadOp>(op))
        return WalkResult::advance();
      if (!isBufferized(op))
        op->emitOpError() << "expects memref operands to lower to loops "
                             "(bufferize first), got tensors";
      else if (hasDynamicNewRows(op))
        op->emitOpError() << "expects a static number of new rows to lower "
                             "to loops";
      else
        op->emitOpError() << "expects an unquantised cache (f32, f16, bf16) "
                             "to lower to loops";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace

void mlir::kv::populateKvToLoopsPatterns(RewritePatternSet &patterns,
                                         int64_t keyBlock) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LowerKvOp<AttentionOp>, LowerKvOp<PartialAttentionOp>,
               LowerKvOp<CacheAttentionOp>, LowerKvOp<AppendAttentionOp>,
               LowerKvOp<AppendOp>,
               LowerKvOp<LoadOp>, LowerKvOp<MergeOp>>(ctx, keyBlock);
  patterns.add<CopyToLoops>(ctx);
}
