//===- TileAttention.cpp - flash-attention tiling of attention ops --------===//
//
// kv-cpu-tile-attention: an attention op (memref form) becomes its online-
// softmax form, tiled: independent tiles of (batch entry, head of Q, block
// of query rows) in an scf.parallel loop; per tile the running state (the
// rows' accumulators, max and sum), each row's visible key range, and a loop
// over key blocks of the union of those ranges only, so blocks that causal,
// window or length bounds mask for every row of the tile are never visited:
//
//   tile:   qs = scale * Q[rows]      acc = 0, max = -inf, sum = 0
//           for jb in [lo, hi) step block:
//             kv.attend_block          (max, sum, acc updated)
//           O[rows] = acc / sum        LSE = max + log sum
//
// kv-cpu-vectorize-attention turns each kv.attend_block into register
// kernels. Split-form ops (kv-split-kv) run every (tile, split) pair as one
// parallel iteration on its chunk of the tile's keys; a fused append visits
// the cached keys, then this step's rows from the op's inputs, and writes
// its share of those rows into the cache.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Passes.h"
#include "lowering/common/AttentionSpec.h"
#include "lowering/common/LoopEmitter.h"
#include "lowering/cpu/AttentionTiling.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kv {
#define GEN_PASS_DEF_CPUTILEATTENTIONPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

/// The share of a kv.append_attention's append done by one tile: new rows
/// [tile * n, (tile + 1) * n) of (b, kh), n = ceil(S / tiles per head),
/// written into the cache at past_lens[b] + row where `writes` holds (or is
/// null): by one of the tiles that share those rows (split 0 of the first
/// query head of kh's group). Attention never reads these positions back,
/// so tiles need no ordering.
void emitAppendShare(LoopEmitter &e, const AttentionSpec &a, Value bIdx,
                     Value kh, Value tile, Value past, int64_t tilesPerHead,
                     Value writes) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Value c0 = e.index(0);
  int64_t perTile = (a.newTokens + tilesPerHead - 1) / tilesPerHead;
  Value first = e.mul(tile, e.index(perTile));
  Value last = e.minS(e.add(first, e.index(perTile)), e.index(a.newTokens));
  if (writes)
    last = arith::SelectOp::create(b, loc, writes, last, first);
  int64_t capacity =
      cast<CacheType>(a.op->getOperand(3).getType()).getCapacity();
  forRange(e, first, last, [&](Value n) {
    Value pos = e.add(past, n);
    Value inCache = arith::AndIOp::create(
        b, loc, e.cmp(arith::CmpIPredicate::sge, pos, c0),
        e.cmp(arith::CmpIPredicate::slt, pos, e.index(capacity)));
    auto ifIn = scf::IfOp::create(b, loc, inCache);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifIn.thenBlock());
    auto [kMem, kIdx] = a.keys.row(e, bIdx, kh, pos);
    Value pages = memref::DimOp::create(b, loc, kMem, 0);
    Value pageOk = arith::AndIOp::create(
        b, loc, e.cmp(arith::CmpIPredicate::sge, kIdx[0], c0),
        e.cmp(arith::CmpIPredicate::slt, kIdx[0], pages));
    auto ifPage = scf::IfOp::create(b, loc, pageOk);
    b.setInsertionPointToStart(ifPage.thenBlock());
    for (auto [src, dst] : {std::pair{a.newKeys, a.keys.memref},
                            std::pair{a.newValues, a.values.memref}}) {
      auto srcType = cast<MemRefType>(src.getType());
      int64_t dim = srcType.getDimSize(3);
      Value row = vector::LoadOp::create(
          b, loc, VectorType::get({dim}, srcType.getElementType()), src,
          ValueRange{bIdx, kh, n, c0});
      Type element = cast<MemRefType>(dst.getType()).getElementType();
      SmallVector<Value, 4> idx(kIdx.begin(), kIdx.end());
      idx.push_back(c0);
      vector::StoreOp::create(b, loc, e.fromF32(e.toF32(row), element), dst,
                              idx);
    }
  });
}

void emitTiledAttention(OpBuilder &b, const AttentionSpec &a, bool parallel,
                        const TileShape &shape, const TilePlan &plan) {
  Location loc = a.op->getLoc();
  LoopEmitter e(b, loc);
  int64_t batch = shape.batch, qLen = shape.qLen, headDim = shape.headDim;
  int64_t valueDim = shape.valueDim;
  // Tiles are laid over the heads of Q; each holds rows of `packed` query
  // heads, and `headsPerKv` such heads share a KV head.
  int64_t packed = shape.packed, tileHeads = shape.tileHeads();
  int64_t headsPerKv = shape.group() / packed;
  int64_t rowsPerHead = plan.rowsPerHead, block = plan.keyBlock;
  int64_t tileRows = plan.tileRows(shape);
  int64_t tilesPerHead = plan.tilesPerHead(shape);
  auto outType = cast<MemRefType>(a.out.getType());
  Type f32 = b.getF32Type();
  auto rowType = [&](int64_t n) { return VectorType::get({n}, f32); };
  Type indexType = b.getIndexType();

  Value c0 = e.index(0), c1 = e.index(1);
  SmallVector<Value, 4> lbs = {c0, c0, c0}, steps = {c1, c1, c1};
  SmallVector<Value, 4> ubs = {e.index(batch), e.index(tileHeads),
                               e.index(tilesPerHead)};

  // Split form (kv-split-kv): each tile's keys in `splits` chunks processed
  // in parallel, each writing its partial (O, LSE) that kv.merge combines.
  int64_t splits = a.splits;
  if (splits > 1) {
    lbs.push_back(c0);
    steps.push_back(c1);
    ubs.push_back(e.index(splits));
  }

  // Tile row m is row i = row0 + m mod rowsPerHead of packed head
  // g = m / rowsPerHead, stored at row g * Sq + i of the tile's head of Q
  // and O (the packed layout); returns (g, i).
  auto tileRow = [&](Value row0, Value m) -> std::pair<Value, Value> {
    Value g = arith::DivUIOp::create(b, loc, m, e.index(rowsPerHead));
    Value r = arith::RemUIOp::create(b, loc, m, e.index(rowsPerHead));
    return {g, e.add(row0, r)};
  };
  auto packedRow = [&](Value g, Value i) -> Value {
    return packed == 1 ? i : e.add(e.mul(g, e.index(qLen)), i);
  };

  // Writes output row m of a tile (of partial `split` in split form) from
  // its unnormalised accumulator, max and sum: O = acc / sum (0 without a
  // visible key), LSE = max + log sum.
  auto finalizeRow = [&](Value bIdx, Value head, Value row0, Value split,
                         Value m, Value o, Value max, Value sum) {
    auto [g, i] = tileRow(row0, m);
    auto ifRow = scf::IfOp::create(
        b, loc, e.cmp(arith::CmpIPredicate::slt, i, e.index(qLen)));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifRow.thenBlock());
    Value visible = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                          sum, e.f32(0.0));
    Value inverse = arith::SelectOp::create(
        b, loc, visible, arith::DivFOp::create(b, loc, e.f32(1.0), sum),
        e.f32(0.0));
    o = arith::MulFOp::create(
        b, loc, o,
        vector::BroadcastOp::create(b, loc, rowType(valueDim), inverse));
    SmallVector<Value> at = {bIdx, head, packedRow(g, i)};
    if (split)
      at.insert(at.begin(), split);
    SmallVector<Value> atRow(at);
    atRow.push_back(c0);
    vector::StoreOp::create(b, loc, e.fromF32(o, outType.getElementType()),
                            a.out, atRow);
    if (a.lse) {
      Value lse = arith::SelectOp::create(
          b, loc, visible,
          arith::AddFOp::create(b, loc, max, math::LogOp::create(b, loc, sum)),
          e.negInf());
      Type lseElement = cast<MemRefType>(a.lse.getType()).getElementType();
      memref::StoreOp::create(b, loc, e.fromF32(lse, lseElement), a.lse, at);
    }
  };

  auto emitTile = [&](ValueRange ivs) {
    Value bIdx = ivs[0], head = ivs[1], tile = ivs[2];
    Value split = splits > 1 ? ivs[3] : Value(); // the partial, in split form
    Value kh = headsPerKv == 1
                   ? head
                   : arith::DivUIOp::create(b, loc, head, e.index(headsPerKv));
    Value row0 = e.mul(tile, e.index(rowsPerHead));
    auto scratch = [&](ArrayRef<int64_t> shape, Type element) -> Value {
      return memref::AllocaOp::create(b, loc, MemRefType::get(shape, element));
    };
    // The online-softmax state of the tile's rows and their visible keys.
    Value qs = scratch({tileRows, headDim}, f32);
    Value acc = scratch({tileRows, valueDim}, f32);
    Value rowMax = scratch({tileRows}, f32);
    Value rowSum = scratch({tileRows}, f32);
    Value rowLo = scratch({tileRows}, indexType);
    Value rowHi = scratch({tileRows}, indexType);

    // Per sequence: key bound and the position of query row 0.
    AttentionSpec::Sequence sequence = a.sequence(e, bIdx);
    Value length = sequence.length, offset = sequence.offset;
    Value past = sequence.past;

    // Row setup: scaled query, visible key range, running state. Rows past
    // the end of the query get an empty range.
    Value scale = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(cast<ShapedType>(rowType(headDim)),
                               b.getF32FloatAttr(static_cast<float>(a.scale))));
    auto rowSetup = scf::ForOp::create(b, loc, c0, e.index(tileRows), c1,
                                       ValueRange{e.index(a.kvLen), c0});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(rowSetup.getBody());
      Value m = rowSetup.getInductionVar();
      auto [g, i] = tileRow(row0, m);
      Value inQuery = e.cmp(arith::CmpIPredicate::slt, i, e.index(qLen));
      Value iSafe = e.minS(i, e.index(qLen - 1));
      Type queryElement = cast<MemRefType>(a.query.getType()).getElementType();
      Value q = e.toF32(vector::LoadOp::create(
          b, loc, VectorType::get({headDim}, queryElement), a.query,
          ValueRange{bIdx, head, packedRow(g, iSafe), c0}));
      q = arith::MulFOp::create(b, loc, q, scale);
      vector::StoreOp::create(b, loc, q, qs, ValueRange{m, c0});
      Value pos = e.add(i, offset);
      auto [lo, visibleHi] = visibleKeys(e, pos, length, a.bounds());
      Value hi = arith::SelectOp::create(b, loc, inQuery, visibleHi, lo);
      memref::StoreOp::create(b, loc, lo, rowLo, m);
      memref::StoreOp::create(b, loc, hi, rowHi, m);
      memref::StoreOp::create(b, loc, e.negInf(), rowMax, m);
      memref::StoreOp::create(b, loc, e.f32(0.0), rowSum, m);
      Value zeros = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(cast<ShapedType>(rowType(valueDim)),
                                 b.getF32FloatAttr(0.0f)));
      vector::StoreOp::create(b, loc, zeros, acc, ValueRange{m, c0});
      // The tile's key range is the union of its non-empty row ranges.
      Value empty = e.cmp(arith::CmpIPredicate::sge, lo, hi);
      Value tileLo =
          arith::SelectOp::create(b, loc, empty, rowSetup.getRegionIterArg(0),
                                  e.minS(rowSetup.getRegionIterArg(0), lo));
      Value tileHi =
          arith::SelectOp::create(b, loc, empty, rowSetup.getRegionIterArg(1),
                                  e.maxS(rowSetup.getRegionIterArg(1), hi));
      scf::YieldOp::create(b, loc, ValueRange{tileLo, tileHi});
    }
    Value tileLo = rowSetup.getResult(0), tileHi = rowSetup.getResult(1);

    // This split's share of the tile's keys, in whole blocks.
    Value keysLo = tileLo, keysHi = tileHi;
    if (splits > 1) {
      Value span = e.maxS(e.sub(tileHi, tileLo), c0);
      auto ceilDiv = [&](Value x, int64_t d) -> Value {
        return arith::DivUIOp::create(b, loc, e.add(x, e.index(d - 1)),
                                      e.index(d));
      };
      Value chunk =
          e.mul(ceilDiv(ceilDiv(span, splits), block), e.index(block));
      keysLo = e.add(tileLo, e.mul(split, chunk));
      keysHi = e.minS(tileHi, e.add(keysLo, chunk));
    }
    // Flash-attention loop over keys [lo, hi) read from `source`'s rows.
    auto emitKeyLoop = [&](Value lo, Value hi, const AttentionSpec &source) {
      auto blockLoop = scf::ForOp::create(b, loc, lo, hi, e.index(block));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(blockLoop.getBody());
      Value jb = blockLoop.getInductionVar();
      Value jEnd = e.minS(e.add(jb, e.index(block)), hi);
      Value lastKey = e.sub(hi, c1);
      const RowSource &keys = source.keys, &values = source.values;
      auto step = AttendBlockOp::create(
          b, loc, qs, keys.memref, values.memref, keys.pageTable,
          keys.tokenBase, bIdx, kh, jb, jEnd, lastKey, rowLo, rowHi, head, row0,
          a.mask, acc, rowMax, rowSum, block, scoreKernelName(plan.kernel),
          /*softcap=*/nullptr, packed, rowsPerHead, qLen, a.kvLen,
          keys.pageSize, /*storage=*/nullptr);
      if (a.softcap)
        step.setSoftcapAttr(b.getF32FloatAttr(static_cast<float>(*a.softcap)));
      if (keys.storage && !keys.storage.isF32())
        step.setStorageAttr(TypeAttr::get(keys.storage));
    };
    if (!past) {
      emitKeyLoop(keysLo, keysHi, a);
    } else {
      // Cached keys come from the cache, this step's from its inputs.
      emitKeyLoop(keysLo, e.maxS(e.minS(keysHi, past), keysLo), a);
      AttentionSpec fresh = a;
      fresh.keys = {a.newKeys, nullptr, 0, past,
                    cast<MemRefType>(a.keys.memref.getType()).getElementType()};
      fresh.values = {
          a.newValues, nullptr, 0, past,
          cast<MemRefType>(a.values.memref.getType()).getElementType()};
      Value freshLo = e.maxS(keysLo, past);
      emitKeyLoop(freshLo, e.maxS(keysHi, freshLo), fresh);
      // The tiles of kh's other query heads and other splits read the same
      // new rows; one of them writes them.
      Value writes;
      if (split)
        writes = e.cmp(arith::CmpIPredicate::eq, split, c0);
      if (headsPerKv > 1) {
        Value first = e.cmp(
            arith::CmpIPredicate::eq,
            arith::RemUIOp::create(b, loc, head, e.index(headsPerKv)), c0);
        writes = writes ? arith::AndIOp::create(b, loc, writes, first) : first;
      }
      emitAppendShare(e, a, bIdx, kh, tile, past, tilesPerHead, writes);
    }

    forRange(e, c0, e.index(tileRows), [&](Value m) {
      Value o = vector::LoadOp::create(b, loc, rowType(valueDim), acc,
                                       ValueRange{m, c0});
      Value max = memref::LoadOp::create(b, loc, rowMax, m);
      Value sum = memref::LoadOp::create(b, loc, rowSum, m);
      finalizeRow(bIdx, head, row0, split, m, o, max, sum);
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
  if (parallel) {
    scf::ParallelOp::create(
        b, loc, lbs, ubs, steps,
        [&](OpBuilder &, Location, ValueRange ivs) { emitTile(ivs); });
    return;
  }
  scf::buildLoopNest(
      b, loc, lbs, ubs, steps,
      [&](OpBuilder &, Location, ValueRange ivs) { emitScopedTile(ivs); });
}

/// Whether a memref can be read or written as whole unit-stride rows.
bool hasContiguousRows(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getLayout().isIdentity();
}

struct TileAttention : RewritePattern {
  TileAttention(MLIRContext *ctx, TilingOptions tiling, bool parallel)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/2, ctx),
        tiling(std::move(tiling)), parallel(parallel) {}
  TilingOptions tiling;
  bool parallel;

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<AttentionOpInterface>(op))
      return failure();
    if (op->getNumResults() != 0)
      return rewriter.notifyMatchFailure(op, "expects the memref form");
    for (Value v : op->getOperands())
      if (isa<MemRefType>(v.getType()) && !hasContiguousRows(v))
        return rewriter.notifyMatchFailure(op, "non-identity layout");
    if (auto fused = dyn_cast<AppendAttentionOp>(op))
      if (ShapedType::isDynamic(fused.getNumNewTokens()))
        return rewriter.notifyMatchFailure(op, "dynamic number of new rows");
    // Quantised caches are not described (and so not matched).
    std::optional<TileShape> shape = TileShape::of(op);
    if (!shape)
      return failure();
    std::optional<AttentionSpec> spec = describeAttention(op, rewriter);
    if (!spec)
      return failure();
    // A plan recorded on the op (checked by the pass) or one from the
    // pass's options.
    auto recorded = op->getAttrOfType<CpuTilesAttr>(kCpuTilesAttrName);
    TilePlan plan = recorded ? fromAttr(recorded) : planTiles(*shape, tiling);
    // Keys are split only as the op's split form says.
    plan.splits = shape->splits;
    emitTiledAttention(rewriter, *spec, parallel, *shape, plan);
    rewriter.eraseOp(op);
    return success();
  }
};

struct CpuTileAttentionPass
    : kv::impl::CpuTileAttentionPassBase<CpuTileAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    std::string error;
    std::optional<TilingOptions> tiling = parseTilingOptions(
        rowTile, keyBlock, /*splits=*/1, scoreKernel, target, error);
    if (!tiling) {
      getOperation()->emitError() << "kv-cpu-tile-attention: " << error;
      return signalPassFailure();
    }
    // Plans recorded on ops (by kv-cpu-plan-tiles or by hand) must fit them.
    WalkResult checked = getOperation()->walk([&](Operation *op) {
      auto recorded = op->getAttrOfType<CpuTilesAttr>(kCpuTilesAttrName);
      if (!recorded)
        return WalkResult::advance();
      std::optional<TileShape> shape = TileShape::of(op);
      std::string why = "the op is not an attention op";
      if (shape && isFeasible(*shape, fromAttr(recorded), why))
        return WalkResult::advance();
      op->emitError() << "#kv.cpu_tiles does not fit: " << why;
      return WalkResult::interrupt();
    });
    if (checked.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<TileAttention>(&getContext(), *tiling, parallel);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
