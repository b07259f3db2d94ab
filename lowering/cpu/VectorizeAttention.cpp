//===- VectorizeAttention.cpp - register kernels of attention steps -------===//
//
// kv-cpu-vectorize-attention: each kv.attend_block, the step of a tiled
// flash-attention loop that kv-cpu-tile-attention lays out, becomes vector
// code over the tile's rows and the step's block of keys:
//
//   scores  S[m, j]  = Q[m] . K[j]            (Q already scaled)
//   softmax          running max / sum per row, P = exp(S - max) as vectors
//   output  acc[m]  = alpha[m] acc[m] + P[m, j] * V[j]   in register blocks
//
// Scores come from one of three kernels: dot products of whole rows reduced
// by shuffle trees (decode: a few rows per tile); broadcast FMAs over the
// tile's Q transposed once per tile, giving S^T with 16 rows per vector
// (prefill); or broadcast FMAs over each K block transposed (prefill tiles
// the former does not take). Rows are f32 vectors of the head dim, so any
// head dim works; f16/bf16 K/V rows are converted on load. The kernels'
// scratch and the transposed queries are made once per tile, ahead of its
// key-block loop.
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

#include <limits>

namespace mlir::kv {
#define GEN_PASS_DEF_CPUVECTORIZEATTENTIONPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

/// The pass's choices.
struct TileConfig {
  bool prefetch = true;
};

/// The attention description shared with the scalar lowering.
using AttentionParts = AttentionSpec;

/// The loop emitter plus the CPU kernels' own pieces: libm-free exp and
/// tanh, row addressing through page tables, prefetch.
class TileEmitter : public LoopEmitter {
public:
  using LoopEmitter::LoopEmitter;

  /// A loaded row as f32, rounded through the cache's element type first
  /// when the row stands for one the cache is storing in the same step (a
  /// fused append), so attention sees exactly what the cache will hold.
  Value widen(const RowSource &src, Value loaded) {
    Value v = toF32(loaded);
    if (!src.storage || src.storage.isF32())
      return v;
    return toF32(fromF32(v, src.storage));
  }

  /// exp(x) for f32 scalars or vectors without a libm call (LLVM would
  /// scalarise a vector exp into expf calls): x = n ln2 + r with
  /// |r| <= ln2/2, a degree-6 polynomial for exp(r) (relative error about
  /// 2e-7) and 2^n built in the exponent bits. exp(-inf) and arguments
  /// below -87.3 give exactly 0, so masked scores drop out.
  Value exp(Value x) {
    Type type = x.getType();
    auto splat = [&](double v) -> Value {
      Value c = f32(v);
      if (auto vt = dyn_cast<VectorType>(type))
        return vector::BroadcastOp::create(b, loc, vt, c);
      return c;
    };
    auto fma = [&](Value a, Value m, Value c) -> Value {
      return math::FmaOp::create(b, loc, a, m, c);
    };
    Value underflow = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ULT,
                                            x, splat(-87.3));
    Value clamped = arith::MinNumFOp::create(
        b, loc, arith::MaxNumFOp::create(b, loc, x, splat(-87.3)),
        splat(88.3));
    Value n = math::RoundEvenOp::create(
        b, loc, arith::MulFOp::create(b, loc, clamped, splat(1.4426950408889634)));
    Value r = fma(n, splat(-0.693145751953125), clamped);
    r = fma(n, splat(-1.428606765330187e-06), r);
    Value p = splat(1.0 / 720);
    for (double c : {1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1.0, 1.0})
      p = fma(p, r, splat(c));
    Type intType = b.getI32Type();
    if (auto vt = dyn_cast<VectorType>(type))
      intType = VectorType::get(vt.getShape(), intType);
    auto splatInt = [&](int32_t v) -> Value {
      Value c = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
      if (auto vt = dyn_cast<VectorType>(intType))
        return vector::BroadcastOp::create(b, loc, vt, c);
      return c;
    };
    Value bits = arith::ShLIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc,
                              arith::FPToSIOp::create(b, loc, intType, n),
                              splatInt(127)),
        splatInt(23));
    Value scale = arith::BitcastOp::create(b, loc, type, bits);
    Value result = arith::MulFOp::create(b, loc, p, scale);
    return arith::SelectOp::create(b, loc, underflow, splat(0.0), result);
  }

  /// tanh(x) = 1 - 2 / (exp(2x) + 1), through the exp above (saturates to
  /// +-1 for large |x|; absolute error about 1e-7 near 0).
  Value tanh(Value x) {
    Type type = x.getType();
    auto splat = [&](double v) -> Value {
      Value c = f32(v);
      if (auto vt = dyn_cast<VectorType>(type))
        return vector::BroadcastOp::create(b, loc, vt, c);
      return c;
    };
    Value e2x = exp(arith::MulFOp::create(b, loc, x, splat(2.0)));
    Value q = arith::DivFOp::create(
        b, loc, splat(2.0), arith::AddFOp::create(b, loc, e2x, splat(1.0)));
    return arith::SubFOp::create(b, loc, splat(1.0), q);
  }

  /// Prefetches (read, into L1/L2) the cache lines [firstLine, endLine) of a
  /// feature row; the row's lines by default.
  void prefetchRow(Value memref, ArrayRef<Value> leading, int64_t firstLine = 0,
                   int64_t endLine = -1) {
    auto type = cast<MemRefType>(memref.getType());
    int64_t perLine = elementsPerLine(memref);
    int64_t dim = type.getDimSize(type.getRank() - 1);
    if (endLine < 0)
      endLine = llvm::divideCeil(dim, perLine);
    for (int64_t d = firstLine * perLine; d < std::min(dim, endLine * perLine);
         d += perLine) {
      SmallVector<Value, 5> idx(leading);
      idx.push_back(index(d));
      memref::PrefetchOp::create(b, loc, memref, idx, /*isWrite=*/false,
                                 /*localityHint=*/2, /*isDataCache=*/true);
    }
  }

  /// Cache lines of a feature row of `memref`.
  static int64_t linesPerRow(Value memref) {
    auto type = cast<MemRefType>(memref.getType());
    return llvm::divideCeil(type.getDimSize(type.getRank() - 1),
                            elementsPerLine(memref));
  }

private:
  static int64_t elementsPerLine(Value memref) {
    auto type = cast<MemRefType>(memref.getType());
    return std::max<int64_t>(1, 64 * 8 / type.getElementTypeBitWidth());
  }

};

/// Register-blocking sizes of the micro-kernels: rows x keys of the score
/// kernel and rows x output columns of the P.V kernel (16 accumulators of
/// 16 lanes each: half of the AVX-512 register file).
constexpr int64_t kRowsPerKernel = 4;
constexpr int64_t kKeysPerKernel = 4;
/// Score blocks for tiles of a multiple of 8 rows (GQA groups of 8 and
/// more): 8 rows x 2 keys, so a key's K row is read once for 8 rows rather
/// than once per 4 (D4-mqa: 14-22 % faster from DRAM in interleaved runs).
constexpr int64_t kWideRowsPerKernel = 8;
constexpr int64_t kWideKeysPerKernel = 2;
constexpr int64_t kLanes = 16;
constexpr int64_t kValueColumns = 64;

/// Splits [0, size) into chunks of `width` and a static remainder.
SmallVector<std::pair<int64_t, int64_t>> chunks(int64_t size, int64_t width) {
  SmallVector<std::pair<int64_t, int64_t>> out;
  for (int64_t at = 0; at < size; at += width)
    out.push_back({at, std::min(width, size - at)});
  return out;
}

/// Software prefetch keeps a steady stream of K/V lines in flight through
/// both phases of a block: while the scores of key j are computed, the V
/// row of key j + kPrefetchKeys is fetched (P.V reads it after the block's
/// scores); while P.V reads the V row of key j, a share of the K row of key
/// j + block + kPrefetchKeys is fetched (the next block's scores read it).
/// Issuing every prefetch in the score phase, as the K rows a block ahead
/// used to be, leaves the line-fill buffers idle during P.V: D1 from DRAM
/// read 0.57-0.70 of the probe that way and reads 0.70-0.84 spread out.
constexpr int64_t kPrefetchKeys = 8;

/// Addresses of the K rows of keys jb + n0 + [0, count) (clamped to
/// `lastKey`) and, with prefetch on, prefetches of the V rows kPrefetchKeys
/// further on.
SmallVector<std::pair<Value, SmallVector<Value, 4>>>
keyRowsWithPrefetch(TileEmitter &e, const AttentionParts &a,
                    const TileConfig &config, Value bIdx, Value kh, Value jb,
                    Value n0, int64_t count, Value lastKey) {
  SmallVector<std::pair<Value, SmallVector<Value, 4>>> rows;
  for (int64_t r = 0; r < count; ++r) {
    Value j = e.minS(e.add(jb, e.add(n0, e.index(r))), lastKey);
    rows.push_back(a.keys.row(e, bIdx, kh, j));
    if (!config.prefetch)
      continue;
    Value ahead = e.minS(e.add(j, e.index(kPrefetchKeys)), lastKey);
    auto [vMem, vIdx] = a.values.row(e, bIdx, kh, ahead);
    e.prefetchRow(vMem, vIdx);
  }
  return rows;
}

/// Keys per transposed block column group and rows per kernel of the
/// transposed score kernel.
constexpr int64_t kTransposeKeys = kTileLanes;
constexpr int64_t kTransposedRows = 6;
constexpr int64_t kTransposedKeyVectors = 2;

/// Widens a vector of `width` <= 16 f32 lanes to 16 by doubling shuffles (a
/// shuffle indexes at most twice its operand width); the extra lanes are
/// copies that become transposed rows past the tail, never stored.
Value widenTo16Lanes(TileEmitter &e, Value v, int64_t width) {
  for (int64_t w = width; w < kTransposeKeys;) {
    int64_t next = std::min(2 * w, kTransposeKeys);
    v = vector::ShuffleOp::create(e.b, e.loc, v, v,
                                  llvm::to_vector(llvm::seq<int64_t>(0, next)));
    w = next;
  }
  return v;
}

/// Transposes 16 vectors of 16 lanes in four butterfly stages of
/// two-source shuffles: stage b swaps the off-diagonal b x b blocks of every
/// 2b x 2b block.
SmallVector<Value> transpose16x16(TileEmitter &e, SmallVector<Value> tile) {
  for (int64_t blockSize : {8, 4, 2, 1}) {
    SmallVector<int64_t> lo, hi;
    for (int64_t k = 0; k < kTransposeKeys; k += 2 * blockSize) {
      for (int64_t c = 0; c < blockSize; ++c)
        lo.push_back(k + c);
      for (int64_t c = 0; c < blockSize; ++c)
        lo.push_back(kTransposeKeys + k + c);
      for (int64_t c = 0; c < blockSize; ++c)
        hi.push_back(k + blockSize + c);
      for (int64_t c = 0; c < blockSize; ++c)
        hi.push_back(kTransposeKeys + k + blockSize + c);
    }
    SmallVector<Value> next(tile);
    for (int64_t i = 0; i < kTransposeKeys; ++i) {
      if ((i / blockSize) % 2)
        continue;
      next[i] = vector::ShuffleOp::create(e.b, e.loc, tile[i],
                                          tile[i + blockSize], lo);
      next[i + blockSize] = vector::ShuffleOp::create(
          e.b, e.loc, tile[i], tile[i + blockSize], hi);
    }
    tile = next;
  }
  return tile;
}

/// A register block of broadcast FMAs over d in [0, depth), from zero:
/// acc[i * numVectors + j] += broadcast(scalarAt(i, d)) * vectorAt(j, d)
/// for 16-lane vectors. Both transposed score kernels are this block, with
/// the roles of Q and K swapped. Returns the accumulators.
SmallVector<Value>
emitBroadcastFmaBlock(TileEmitter &e, int64_t depth, int64_t numScalars,
                      int64_t numVectors,
                      function_ref<Value(int64_t, Value)> scalarAt,
                      function_ref<Value(int64_t, Value)> vectorAt) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto lanes = VectorType::get({kTransposeKeys}, b.getF32Type());
  Value zero = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(cast<ShapedType>(lanes), b.getF32FloatAttr(0.0f)));
  SmallVector<Value> init(numScalars * numVectors, zero);
  auto dLoop = scf::ForOp::create(b, loc, e.index(0), e.index(depth),
                                  e.index(1), init);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(dLoop.getBody());
  Value d = dLoop.getInductionVar();
  SmallVector<Value> vectors, next;
  for (int64_t j = 0; j < numVectors; ++j)
    vectors.push_back(vectorAt(j, d));
  for (int64_t i = 0; i < numScalars; ++i) {
    Value scalar = vector::BroadcastOp::create(b, loc, lanes, scalarAt(i, d));
    for (int64_t j = 0; j < numVectors; ++j)
      next.push_back(vector::FMAOp::create(
          b, loc, scalar, vectors[j],
          dLoop.getRegionIterArg(i * numVectors + j)));
  }
  scf::YieldOp::create(b, loc, next);
  return SmallVector<Value>(dLoop.getResults());
}

/// S = qs . K^T for wide tiles: the block's K rows are transposed once, 16x16
/// at a time, into kt[D][block] (amortised over the tile's rows), then
/// S[m, n:n+16] = sum_d qs[m, d] * kt[d, n:n+16] runs as plain broadcast FMAs
/// in kTransposedRows x (kTransposedKeyVectors x 16 keys) register blocks:
/// no horizontal reductions, which dominate the dot-product kernel at small
/// head dims.
void emitScoresTransposed(TileEmitter &e, const AttentionParts &a,
                          const TileConfig &config, Value bIdx, Value kh,
                          Value jb, Value lastKey, int64_t tileRows,
                          int64_t headDim, int64_t block, Value qs, Value kt,
                          Value probs) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  Value c0 = e.index(0);
  Type keyElement = cast<MemRefType>(a.keys.memref.getType()).getElementType();
  auto lanes = VectorType::get({kTransposeKeys}, f32);

  // Transpose the block's K rows into kt.
  forRange(e, c0, e.index(block / kTransposeKeys), [&](Value group) {
    Value n0 = e.mul(group, e.index(kTransposeKeys));
    auto rows = keyRowsWithPrefetch(e, a, config, bIdx, kh, jb, n0,
                                    kTransposeKeys, lastKey);
    for (auto [d0, width] : chunks(headDim, kTransposeKeys)) {
      SmallVector<Value> tile;
      for (int64_t r = 0; r < kTransposeKeys; ++r) {
        SmallVector<Value, 5> idx(rows[r].second.begin(),
                                  rows[r].second.end());
        idx.push_back(e.index(d0));
        Value v = e.widen(a.keys, vector::LoadOp::create(
            b, loc, VectorType::get({width}, keyElement), rows[r].first, idx));
        tile.push_back(widenTo16Lanes(e, v, width));
      }
      tile = transpose16x16(e, tile);
      for (int64_t c = 0; c < width; ++c)
        vector::StoreOp::create(b, loc, tile[c], kt,
                                ValueRange{e.index(d0 + c), n0});
    }
  });

  // Broadcast-FMA kernel over the transposed block.
  int64_t keysPerKernel = kTransposeKeys * kTransposedKeyVectors;
  forRange(e, c0, e.index(block / keysPerKernel), [&](Value nb) {
    Value n0 = e.mul(nb, e.index(keysPerKernel));
    for (auto [m0, mr] : chunks(tileRows, kTransposedRows)) {
      int64_t nr = kTransposedKeyVectors;
      SmallVector<Value> sums = emitBroadcastFmaBlock(
          e, headDim, mr, nr,
          [&](int64_t k, Value d) -> Value {
            return memref::LoadOp::create(b, loc, qs,
                                          ValueRange{e.index(m0 + k), d});
          },
          [&](int64_t n, Value d) -> Value {
            return vector::LoadOp::create(
                b, loc, lanes, kt,
                ValueRange{d, e.add(n0, e.index(n * kTransposeKeys))});
          });
      for (int64_t k = 0; k < mr; ++k)
        for (int64_t n = 0; n < nr; ++n)
          vector::StoreOp::create(
              b, loc, sums[k * nr + n], probs,
              ValueRange{e.index(m0 + k),
                         e.add(n0, e.index(n * kTransposeKeys))});
    }
  });
}

/// Keys and 16-row vectors per register block of the query-transposed score
/// kernel: 6 x 4 accumulators (the kernel's K values are broadcast straight
/// from memory, so 28 of the 32 zmm registers hold live values).
constexpr int64_t kQueryTransposedKeys = 6;
constexpr int64_t kQueryTransposedRowVectors = 4;

/// qsT[d][m] = qs[m][d] for a tile whose rows come in sixteens: 16x16
/// transposes, once per tile (a K-transposed tile transposes every K block
/// it visits instead).
void emitQueryTranspose(TileEmitter &e, int64_t tileRows, int64_t headDim,
                        Value qs, Value qsT) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  Value c0 = e.index(0);
  forRange(e, c0, e.index(tileRows / kTransposeKeys), [&](Value group) {
    Value m0 = e.mul(group, e.index(kTransposeKeys));
    auto transposeColumns = [&](Value d0, int64_t width) {
      SmallVector<Value> tile;
      for (int64_t r = 0; r < kTransposeKeys; ++r) {
        Value v = vector::LoadOp::create(b, loc, VectorType::get({width}, f32),
                                         qs,
                                         ValueRange{e.add(m0, e.index(r)), d0});
        tile.push_back(widenTo16Lanes(e, v, width));
      }
      tile = transpose16x16(e, tile);
      for (int64_t c = 0; c < width; ++c)
        vector::StoreOp::create(b, loc, tile[c], qsT,
                                ValueRange{e.add(d0, e.index(c)), m0});
    };
    int64_t full = headDim / kTransposeKeys, tail = headDim % kTransposeKeys;
    forRange(e, c0, e.index(full), [&](Value chunk) {
      transposeColumns(e.mul(chunk, e.index(kTransposeKeys)), kTransposeKeys);
    });
    if (tail)
      transposeColumns(e.index(full * kTransposeKeys), tail);
  });
}

/// S^T = K . qsT for tiles whose rows come in sixteens: sT[n][m:m+16] =
/// sum_d K[jb + n][d] * qsT[d][m:m+16], in kQueryTransposedKeys x
/// kQueryTransposedRowVectors register blocks of broadcast FMAs. K rows are
/// read straight from the cache (no per-block transpose, no horizontal
/// reduction); keys past the tile's range read the last key.
void emitScoresQueriesTransposed(TileEmitter &e, const AttentionParts &a,
                                 const TileConfig &config, Value bIdx,
                                 Value kh, Value jb, Value lastKey,
                                 int64_t tileRows, int64_t headDim,
                                 int64_t block, Value qsT, Value scoresT) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  Value c0 = e.index(0);
  auto lanes = VectorType::get({kTransposeKeys}, f32);
  auto emitKeys = [&](Value n0, int64_t keys) {
    auto rows = keyRowsWithPrefetch(e, a, config, bIdx, kh, jb, n0, keys,
                                    lastKey);
    for (auto [v0, vr] :
         chunks(tileRows / kTransposeKeys, kQueryTransposedRowVectors)) {
      SmallVector<Value> sums = emitBroadcastFmaBlock(
          e, headDim, keys, vr,
          [&](int64_t n, Value d) -> Value {
            SmallVector<Value, 5> idx(rows[n].second.begin(),
                                      rows[n].second.end());
            idx.push_back(d);
            return e.widen(a.keys,
                           memref::LoadOp::create(b, loc, rows[n].first, idx));
          },
          [&](int64_t v, Value d) -> Value {
            return vector::LoadOp::create(
                b, loc, lanes, qsT,
                ValueRange{d, e.index((v0 + v) * kTransposeKeys)});
          });
      for (int64_t n = 0; n < keys; ++n)
        for (int64_t v = 0; v < vr; ++v)
          vector::StoreOp::create(
              b, loc, sums[n * vr + v], scoresT,
              ValueRange{e.add(n0, e.index(n)),
                         e.index((v0 + v) * kTransposeKeys)});
    }
  };
  forRange(e, c0, e.index(block / kQueryTransposedKeys), [&](Value nb) {
    emitKeys(e.mul(nb, e.index(kQueryTransposedKeys)), kQueryTransposedKeys);
  });
  if (int64_t rest = block % kQueryTransposedKeys)
    emitKeys(e.index(block - rest), rest);
}

/// The lane sums of n vector<16xf32> (n a power of two, at most 16) as one
/// vector<n>: lane i holds the sum of v[i]. While several vectors remain,
/// vector p folds with vector p + n/2 (two shuffles and an add), halving the
/// segment each partial sum occupies, so that segment t of vector p holds a
/// partial sum of input p + t * (vectors left); then the last vector folds
/// with itself, halving its width, until every segment is one lane. Sixteen
/// inputs take 15 folds, four take 5, instead of a reduction tree each.
Value sumLanes(TileEmitter &e, ArrayRef<Value> v) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  SmallVector<Value> level(v.begin(), v.end());
  int64_t width = kLanes;
  for (int64_t half = kLanes / 2; half >= 1; half /= 2) {
    bool across = level.size() > 1;
    int64_t pairs = across ? level.size() / 2 : 1;
    SmallVector<Value> next;
    for (int64_t p = 0; p < pairs; ++p) {
      Value x = level[p], y = across ? level[p + pairs] : x;
      SmallVector<int64_t> lo, hi;
      for (int64_t base = 0; base < width; base += 2 * half)
        for (int64_t source : across ? SmallVector<int64_t>{0, width}
                                     : SmallVector<int64_t>{0})
          for (int64_t l = 0; l < half; ++l) {
            lo.push_back(source + base + l);
            hi.push_back(source + base + half + l);
          }
      next.push_back(arith::AddFOp::create(
          b, loc, vector::ShuffleOp::create(b, loc, x, y, lo),
          vector::ShuffleOp::create(b, loc, x, y, hi)));
    }
    if (!across)
      width /= 2;
    level = std::move(next);
  }
  return level[0];
}

/// S[m, n] = qs[m] . K[jb + n] for the tile rows and the block's keys, in
/// kRowsPerKernel x kKeysPerKernel register blocks (kWideRowsPerKernel x
/// kWideKeysPerKernel when the tile's rows come in eights); keys past the
/// tile's range read the last key (their scores are masked afterwards).
void emitScores(TileEmitter &e, const AttentionParts &a,
                const TileConfig &config, Value bIdx, Value kh, Value jb,
                Value lastKey, int64_t tileRows, int64_t headDim, int64_t block,
                Value qs, Value probs) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  Value c0 = e.index(0);
  Type keyElement = cast<MemRefType>(a.keys.memref.getType()).getElementType();
  int64_t fullChunks = headDim / kLanes, tail = headDim % kLanes;
  auto laneType = VectorType::get({kLanes}, f32);

  int64_t rowsPerKernel = kRowsPerKernel, keysPerKernel = kKeysPerKernel;
  if (tileRows % kWideRowsPerKernel == 0 && !tail) {
    rowsPerKernel = kWideRowsPerKernel;
    keysPerKernel = kWideKeysPerKernel;
  }
  forRange(e, c0, e.index(block / keysPerKernel), [&](Value nb) {
    Value n0 = e.mul(nb, e.index(keysPerKernel));
    auto keyRows = keyRowsWithPrefetch(e, a, config, bIdx, kh, jb, n0,
                                       keysPerKernel, lastKey);
    for (auto [m0, mr] : chunks(tileRows, rowsPerKernel)) {
      int64_t nr = keysPerKernel;
      auto loadKey = [&](int64_t n, Value d, int64_t width) {
        SmallVector<Value, 5> idx(keyRows[n].second.begin(), keyRows[n].second.end());
        idx.push_back(d);
        Value v = vector::LoadOp::create(
            b, loc, VectorType::get({width}, keyElement), keyRows[n].first,
            idx);
        return e.widen(a.keys, v);
      };
      auto loadQuery = [&](int64_t k, Value d, int64_t width) {
        return vector::LoadOp::create(b, loc,
                                      VectorType::get({width}, f32), qs,
                                      ValueRange{e.index(m0 + k), d})
            .getResult();
      };
      // Accumulate over full 16-lane chunks of the head dim.
      Value zero = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(cast<ShapedType>(laneType),
                                         b.getF32FloatAttr(0.0f)));
      SmallVector<Value> init(mr * nr, zero);
      SmallVector<Value> sums(init);
      if (fullChunks > 0) {
        auto dLoop = scf::ForOp::create(b, loc, c0,
                                        e.index(fullChunks * kLanes),
                                        e.index(kLanes), init);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(dLoop.getBody());
        Value d = dLoop.getInductionVar();
        SmallVector<Value> keys, next;
        for (int64_t n = 0; n < nr; ++n)
          keys.push_back(loadKey(n, d, kLanes));
        for (int64_t k = 0; k < mr; ++k) {
          Value q = loadQuery(k, d, kLanes);
          for (int64_t n = 0; n < nr; ++n)
            next.push_back(vector::FMAOp::create(
                b, loc, q, keys[n], dLoop.getRegionIterArg(k * nr + n)));
        }
        scf::YieldOp::create(b, loc, next);
        sums.assign(dLoop.getResults().begin(), dLoop.getResults().end());
      }
      if (!tail && mr * nr == 16 && kLanes == 16) {
        // 16 dot products: one transposing reduction, a store per row.
        Value all = sumLanes(e, sums);
        for (int64_t k = 0; k < mr; ++k)
          vector::StoreOp::create(
              b, loc,
              vector::ShuffleOp::create(
                  b, loc, all, all,
                  llvm::to_vector(llvm::seq<int64_t>(k * nr, (k + 1) * nr))),
              probs, ValueRange{e.index(m0 + k), n0});
        continue;
      }
      for (int64_t k = 0; k < mr; ++k) {
        Value row = e.index(m0 + k);
        if (!tail && nr == 4 && kLanes == 16) {
          vector::StoreOp::create(
              b, loc, sumLanes(e, ArrayRef<Value>(sums).slice(k * nr, nr)),
              probs, ValueRange{row, n0});
          continue;
        }
        for (int64_t n = 0; n < nr; ++n) {
          Value s = vector::ReductionOp::create(
              b, loc, vector::CombiningKind::ADD, sums[k * nr + n], Value(),
              arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
          if (tail) {
            Value d = e.index(fullChunks * kLanes);
            Value prod = arith::MulFOp::create(b, loc, loadQuery(k, d, tail),
                                               loadKey(n, d, tail));
            s = arith::AddFOp::create(
                b, loc, s,
                vector::ReductionOp::create(
                    b, loc, vector::CombiningKind::ADD, prod, Value(),
                    arith::FastMathFlags::reassoc));
          }
          memref::StoreOp::create(b, loc, s, probs,
                                  ValueRange{row, e.add(n0, e.index(n))});
        }
      }
    }
  });
}

/// Soft-cap, masks and the online-softmax update of every tile row over the
/// block, as vectors of the block's scores: probs becomes P = exp(S - max),
/// rowScale the factor exp(old max - new max) for the row's accumulator.
/// The per-row pass keeps only vector work (masking, max, exp, sum); the
/// rescale factors and running sums of all rows are updated afterwards as
/// one vector of the tile's rows, so no row waits on a scalar exp.
void emitSoftmaxUpdate(TileEmitter &e, const AttentionParts &a, Value bIdx,
                       Value tileHead, Value row0, Value jb, Value jEnd,
                       int64_t tileRows, int64_t rowsPerHead, int64_t packed,
                       int64_t qLen, int64_t block, Value probs, Value rowLo,
                       Value rowHi, Value rowMax, Value rowSum, Value rowScale,
                       Value blockSums) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  auto rowType = VectorType::get({block}, f32);
  auto indexRow = VectorType::get({block}, b.getIndexType());
  Value c0 = e.index(0);
  Value blockEnd = e.add(jb, e.index(block));
  Value negInfRow = vector::BroadcastOp::create(b, loc, rowType, e.negInf());

  forRange(e, c0, e.index(tileRows), [&](Value m) {
    Value s = vector::LoadOp::create(b, loc, rowType, probs, ValueRange{m, c0});
    if (a.softcap) {
      Value cap = vector::BroadcastOp::create(b, loc, rowType,
                                              e.f32(*a.softcap));
      s = arith::MulFOp::create(
          b, loc, cap, e.tanh(arith::DivFOp::create(b, loc, s, cap)));
    }
    if (a.mask) {
      // The explicit mask is gathered element by element (any broadcast).
      vector::StoreOp::create(b, loc, s, probs, ValueRange{m, c0});
      // Row m is row i of query head h (the mask is not packed).
      Value g = arith::DivUIOp::create(b, loc, m, e.index(rowsPerHead));
      Value r = arith::RemUIOp::create(b, loc, m, e.index(rowsPerHead));
      Value i = e.minS(e.add(row0, r), e.index(qLen - 1));
      Value h = e.add(e.mul(tileHead, e.index(packed)), g);
      Value keyLimit = e.index(a.kvLen - 1);
      forRange(e, c0, e.index(block), [&](Value n) {
        Value j = e.minS(e.add(jb, n), keyLimit);
        SmallVector<Value, 4> idx = maskIndices(e, a.mask, {bIdx, h, i, j});
        Value mv = memref::LoadOp::create(b, loc, a.mask, idx);
        Value x = memref::LoadOp::create(b, loc, probs, ValueRange{m, n});
        if (mv.getType().isInteger(1))
          x = arith::SelectOp::create(b, loc, mv, x, e.negInf());
        else
          x = arith::AddFOp::create(b, loc, x, e.toF32(mv));
        memref::StoreOp::create(b, loc, x, probs, ValueRange{m, n});
      });
      s = vector::LoadOp::create(b, loc, rowType, probs, ValueRange{m, c0});
    }
    // Keys outside the row's [lo, hi) or past the block's end (the end of
    // a key split) are masked; most blocks lie wholly inside the range and
    // skip the index compares.
    Value lo = memref::LoadOp::create(b, loc, rowLo, m);
    Value hi = e.minS(memref::LoadOp::create(b, loc, rowHi, m), jEnd);
    Value whole = arith::AndIOp::create(
        b, loc, e.cmp(arith::CmpIPredicate::sle, lo, jb),
        e.cmp(arith::CmpIPredicate::sle, blockEnd, hi));
    auto ifPartial = scf::IfOp::create(b, loc, TypeRange{rowType}, whole,
                                       /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifPartial.thenBlock());
      scf::YieldOp::create(b, loc, s);
      b.setInsertionPointToStart(ifPartial.elseBlock());
      Value keys = arith::AddIOp::create(
          b, loc, vector::BroadcastOp::create(b, loc, indexRow, jb),
          arith::ConstantOp::create(
              b, loc,
              DenseElementsAttr::get(
                  cast<ShapedType>(indexRow),
                  llvm::to_vector(llvm::map_range(
                      llvm::seq<int64_t>(0, block),
                      [&](int64_t i) -> Attribute {
                        return b.getIndexAttr(i);
                      })))));
      Value visible = arith::AndIOp::create(
          b, loc,
          arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::sge, keys,
              vector::BroadcastOp::create(b, loc, indexRow, lo)),
          arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::slt, keys,
              vector::BroadcastOp::create(b, loc, indexRow, hi)));
      scf::YieldOp::create(
          b, loc, ValueRange{arith::SelectOp::create(b, loc, visible, s,
                                                     negInfRow)});
    }
    s = ifPartial.getResult(0);

    // nnan lets LLVM reduce as a tree of vector max instructions instead
    // of a NaN-checking scalar chain; scores are NaN only for NaN inputs.
    Value blockMax = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::MAXNUMF, s, Value(),
        arith::FastMathFlags::nnan);
    Value oldMax = memref::LoadOp::create(b, loc, rowMax, m);
    Value newMax = arith::MaxNumFOp::create(b, loc, oldMax, blockMax);
    // A row with nothing visible yet keeps P = 0 and its (zero) output.
    Value live = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                       newMax, e.negInf());
    Value base = arith::SelectOp::create(b, loc, live, newMax, e.f32(0.0));
    Value p = e.exp(arith::SubFOp::create(
        b, loc, s, vector::BroadcastOp::create(b, loc, rowType, base)));
    vector::StoreOp::create(b, loc, p, probs, ValueRange{m, c0});
    Value blockSum = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD, p, Value(),
        arith::FastMathFlags::reassoc);
    // rowScale holds the old max until the vector pass below.
    memref::StoreOp::create(b, loc, oldMax, rowScale, m);
    memref::StoreOp::create(b, loc, newMax, rowMax, m);
    memref::StoreOp::create(b, loc, blockSum, blockSums, m);
  });

  // alpha = exp(old max - new max) (1 for rows with nothing visible yet),
  // sum = alpha * sum + block sum, for all rows at once.
  auto rows = VectorType::get({tileRows}, f32);
  auto splat = [&](double v) -> Value {
    return vector::BroadcastOp::create(b, loc, rows, e.f32(v));
  };
  Value oldMax = vector::LoadOp::create(b, loc, rows, rowScale, c0);
  Value newMax = vector::LoadOp::create(b, loc, rows, rowMax, c0);
  Value live = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                     newMax, splat(-std::numeric_limits<double>::infinity()));
  Value base = arith::SelectOp::create(b, loc, live, newMax, splat(0.0));
  Value alpha = arith::SelectOp::create(
      b, loc, live, e.exp(arith::SubFOp::create(b, loc, oldMax, base)),
      splat(1.0));
  vector::StoreOp::create(b, loc, alpha, rowScale, c0);
  Value sum = math::FmaOp::create(
      b, loc, vector::LoadOp::create(b, loc, rows, rowSum, c0), alpha,
      vector::LoadOp::create(b, loc, rows, blockSums, c0));
  vector::StoreOp::create(b, loc, sum, rowSum, c0);
}

/// The online-softmax update of emitSoftmaxUpdate for transposed scores
/// (sT[n][m], rows as lanes): per 16 rows, one pass over the block's keys
/// for soft-cap, masks and the running max, one for P = exp(S - max) and
/// the sums; every row statistic is a vector of 16 rows, so nothing is
/// reduced across lanes. No explicit-mask operand (those tiles use the
/// row-major scores).
void emitSoftmaxUpdateColumns(TileEmitter &e, const AttentionParts &a,
                              Value jb, Value jEnd, int64_t tileRows,
                              int64_t block, Value scoresT, Value rowLo,
                              Value rowHi, Value rowMax, Value rowSum,
                              Value rowScale) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  auto lanes = VectorType::get({kTransposeKeys}, f32);
  auto indexLanes = VectorType::get({kTransposeKeys}, b.getIndexType());
  Value c0 = e.index(0);
  auto splat = [&](double v) -> Value {
    return vector::BroadcastOp::create(b, loc, lanes, e.f32(v));
  };
  auto nnan = arith::FastMathFlags::nnan;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Value blockEnd = e.add(jb, e.index(block));
  forRange(e, c0, e.index(tileRows / kTransposeKeys), [&](Value group) {
    Value m0 = e.mul(group, e.index(kTransposeKeys));
    Value lo = vector::LoadOp::create(b, loc, indexLanes, rowLo, m0);
    Value hi = arith::MinSIOp::create(
        b, loc, vector::LoadOp::create(b, loc, indexLanes, rowHi, m0),
        vector::BroadcastOp::create(b, loc, indexLanes, jEnd));
    // Whole blocks visible to all 16 rows skip the index compares.
    Value whole = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::AND,
        arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::sle, lo,
                vector::BroadcastOp::create(b, loc, indexLanes, jb)),
            arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::sle,
                vector::BroadcastOp::create(b, loc, indexLanes, blockEnd),
                hi)));
    auto maxPass = [&](bool masked) {
      auto loop = scf::ForOp::create(b, loc, c0, e.index(block), e.index(1),
                                     ValueRange{splat(-kInf)});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value n = loop.getInductionVar();
      Value s = vector::LoadOp::create(b, loc, lanes, scoresT,
                                       ValueRange{n, m0});
      bool rewrite = masked || a.softcap;
      if (a.softcap) {
        Value cap = splat(*a.softcap);
        s = arith::MulFOp::create(
            b, loc, cap, e.tanh(arith::DivFOp::create(b, loc, s, cap)));
      }
      if (masked) {
        Value key = vector::BroadcastOp::create(b, loc, indexLanes,
                                                e.add(jb, n));
        Value visible = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, key, lo),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, key, hi));
        s = arith::SelectOp::create(b, loc, visible, s, splat(-kInf));
      }
      if (rewrite)
        vector::StoreOp::create(b, loc, s, scoresT, ValueRange{n, m0});
      scf::YieldOp::create(
          b, loc,
          ValueRange{arith::MaxNumFOp::create(b, loc, loop.getRegionIterArg(0),
                                              s, nnan)});
      return loop.getResult(0);
    };
    auto ifPartial = scf::IfOp::create(b, loc, TypeRange{lanes}, whole,
                                       /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifPartial.thenBlock());
      scf::YieldOp::create(b, loc, maxPass(/*masked=*/false));
      b.setInsertionPointToStart(ifPartial.elseBlock());
      scf::YieldOp::create(b, loc, maxPass(/*masked=*/true));
    }
    Value oldMax = vector::LoadOp::create(b, loc, lanes, rowMax, m0);
    Value newMax =
        arith::MaxNumFOp::create(b, loc, oldMax, ifPartial.getResult(0), nnan);
    // Rows with nothing visible yet keep P = 0 and alpha = 1.
    Value live = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                       newMax, splat(-kInf));
    Value base = arith::SelectOp::create(b, loc, live, newMax, splat(0.0));
    auto expLoop = scf::ForOp::create(b, loc, c0, e.index(block), e.index(1),
                                      ValueRange{splat(0.0)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(expLoop.getBody());
      Value n = expLoop.getInductionVar();
      Value s = vector::LoadOp::create(b, loc, lanes, scoresT,
                                       ValueRange{n, m0});
      Value p = e.exp(arith::SubFOp::create(b, loc, s, base));
      vector::StoreOp::create(b, loc, p, scoresT, ValueRange{n, m0});
      scf::YieldOp::create(
          b, loc,
          ValueRange{arith::AddFOp::create(b, loc, expLoop.getRegionIterArg(0),
                                           p)});
    }
    Value alpha = arith::SelectOp::create(
        b, loc, live, e.exp(arith::SubFOp::create(b, loc, oldMax, base)),
        splat(1.0));
    vector::StoreOp::create(b, loc, alpha, rowScale, m0);
    vector::StoreOp::create(b, loc, newMax, rowMax, m0);
    Value sum = math::FmaOp::create(
        b, loc, vector::LoadOp::create(b, loc, lanes, rowSum, m0), alpha,
        expLoop.getResult(0));
    vector::StoreOp::create(b, loc, sum, rowSum, m0);
  });
}

/// acc[m] = rowScale[m] * acc[m] + sum_j P[m, j] V[j] in register blocks of
/// kRowsPerKernel rows x kValueColumns output columns; each V chunk loaded
/// once per block of rows. With prefetch on, the passes over the block
/// (column chunks x row chunks) share out the lines of the K rows
/// block + kPrefetchKeys keys ahead (clamped to `lastKey`).
void emitValueProducts(TileEmitter &e, const AttentionParts &a,
                       const TileConfig &config, Value bIdx, Value kh,
                       Value jb, Value jEnd, Value lastKey, int64_t block,
                       int64_t tileRows, int64_t valueDim, Value probs,
                       bool probsTransposed, Value rowScale, Value acc) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  Type valueElement =
      cast<MemRefType>(a.values.memref.getType()).getElementType();
  auto columnChunks = chunks(valueDim, kValueColumns);
  auto rowChunks = chunks(tileRows, kRowsPerKernel);
  int64_t passes = columnChunks.size() * rowChunks.size(), pass = 0;
  int64_t keyLines = TileEmitter::linesPerRow(a.keys.memref);
  for (auto [col, width] : columnChunks) {
    auto colType = VectorType::get({width}, f32);
    Value colIdx = e.index(col);
    for (auto [m0, mr] : rowChunks) {
      int64_t firstLine = pass * keyLines / passes;
      int64_t endLine = (pass + 1) * keyLines / passes;
      ++pass;
      SmallVector<Value> init;
      for (int64_t k = 0; k < mr; ++k) {
        Value row = e.index(m0 + k);
        Value o = vector::LoadOp::create(b, loc, colType, acc,
                                         ValueRange{row, colIdx});
        Value scale = vector::BroadcastOp::create(
            b, loc, colType, memref::LoadOp::create(b, loc, rowScale, row));
        init.push_back(arith::MulFOp::create(b, loc, o, scale));
      }
      auto jLoop = scf::ForOp::create(b, loc, jb, jEnd, e.index(1), init);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(jLoop.getBody());
        Value j = jLoop.getInductionVar();
        if (config.prefetch && firstLine < endLine) {
          Value ahead =
              e.minS(e.add(j, e.index(block + kPrefetchKeys)), lastKey);
          auto [kMem, kIdx] = a.keys.row(e, bIdx, kh, ahead);
          e.prefetchRow(kMem, kIdx, firstLine, endLine);
        }
        auto [vMem, vIdx] = a.values.row(e, bIdx, kh, j);
        SmallVector<Value, 5> idx(vIdx.begin(), vIdx.end());
        idx.push_back(colIdx);
        Value v = e.widen(a.values, vector::LoadOp::create(
            b, loc, VectorType::get({width}, valueElement), vMem, idx));
        Value n = e.sub(j, jb);
        SmallVector<Value> next;
        for (int64_t k = 0; k < mr; ++k) {
          Value row = e.index(m0 + k);
          Value p = memref::LoadOp::create(
              b, loc, probs,
              probsTransposed ? ValueRange{n, row} : ValueRange{row, n});
          next.push_back(vector::FMAOp::create(
              b, loc, vector::BroadcastOp::create(b, loc, colType, p), v,
              jLoop.getRegionIterArg(k)));
        }
        scf::YieldOp::create(b, loc, next);
      }
      for (int64_t k = 0; k < mr; ++k)
        vector::StoreOp::create(b, loc, jLoop.getResult(k), acc,
                                ValueRange{e.index(m0 + k), colIdx});
    }
  }
}

/// Kernel scratch of one tile, shared by its kv.attend_block steps (of one
/// key block and kernel): the
/// block's scores (row-major, or S^T for the query-transposed kernel),
/// the transposed queries or K block of the transposed kernels, and the
/// rows' rescale factors and block sums.
struct TileScratch {
  Value probs, qsT, kt, rowScale, blockSums;
};

/// Emits the register kernels of one kv.attend_block: scores of the block,
/// the online-softmax update, P.V into the accumulators.
void lowerAttendBlock(
    IRRewriter &rewriter, AttendBlockOp op, const TileConfig &config,
    DenseMap<std::pair<Value, int64_t>, TileScratch> &scratchOf) {
  OpBuilder &b = rewriter;
  Location loc = op.getLoc();
  TileEmitter e(b, loc);
  Type f32 = b.getF32Type();
  ScoreKernel kernel = *parseScoreKernel(op.getScoreKernel());
  bool transposeKeys = kernel == ScoreKernel::TransposedKeys;
  bool transposeQueries = kernel == ScoreKernel::TransposedQueries;
  auto queriesType = cast<MemRefType>(op.getQueries().getType());
  int64_t tileRows = queriesType.getDimSize(0);
  int64_t headDim = queriesType.getDimSize(1);
  int64_t valueDim = cast<MemRefType>(op.getAcc().getType()).getDimSize(1);
  int64_t block = op.getKeyBlock();
  Value qs = op.getQueries();

  // The tile's scratch (and its transposed queries) once, ahead of the
  // key-block loop that holds the step; a fused append's second loop over
  // the step's own rows finds it there.
  auto [found, inserted] =
      scratchOf.try_emplace({qs, block * 4 + static_cast<int64_t>(kernel)});
  TileScratch &scratch = found->second;
  if (inserted) {
    // Buffers beside the tile's own (after the last of them, its rows'
    // key bounds), the transpose once its queries are written: ahead of the
    // key-block loop.
    Operation *loop = op->getParentOp();
    Operation *before = isa<scf::ForOp>(loop) ? loop : op.getOperation();
    Operation *def = op.getRowHi().getDefiningOp();
    if (def && def->getBlock() == before->getBlock())
      rewriter.setInsertionPointAfter(def);
    else
      rewriter.setInsertionPoint(before);
    auto stackBuffer = [&](ArrayRef<int64_t> shape) -> Value {
      return memref::AllocaOp::create(b, loc, MemRefType::get(shape, f32));
    };
    scratch.probs = transposeQueries ? stackBuffer({block, tileRows})
                                     : stackBuffer({tileRows, block});
    if (transposeQueries)
      scratch.qsT = stackBuffer({headDim, tileRows});
    if (transposeKeys)
      scratch.kt = stackBuffer({headDim, block});
    scratch.rowScale = stackBuffer({tileRows});
    if (!transposeQueries)
      scratch.blockSums = stackBuffer({tileRows});
    if (transposeQueries) {
      rewriter.setInsertionPoint(before);
      emitQueryTranspose(e, tileRows, headDim, qs, scratch.qsT);
    }
  }

  rewriter.setInsertionPoint(op);
  AttentionParts parts;
  parts.op = op;
  Type storage = op.getStorage() ? *op.getStorage() : Type();
  int64_t pageSize = op.getPageSize();
  parts.keys = {op.getKeys(), op.getPageTable(), pageSize, op.getTokenBase(),
                storage};
  parts.values = {op.getValues(), op.getPageTable(), pageSize,
                  op.getTokenBase(), storage};
  parts.mask = op.getMask();
  if (auto cap = op.getSoftcap())
    parts.softcap = cap->convertToDouble();
  parts.kvLen = op.getNumKeys();

  Value bIdx = op.getBatch(), kh = op.getKvHead();
  Value jb = op.getBlockStart(), jEnd = op.getBlockEnd();
  Value lastKey = op.getLastKey();
  Value probs = scratch.probs;
  if (transposeQueries) {
    emitScoresQueriesTransposed(e, parts, config, bIdx, kh, jb, lastKey,
                                tileRows, headDim, block, scratch.qsT, probs);
    emitSoftmaxUpdateColumns(e, parts, jb, jEnd, tileRows, block, probs,
                             op.getRowLo(), op.getRowHi(), op.getRowMax(),
                             op.getRowSum(), scratch.rowScale);
  } else {
    if (transposeKeys)
      emitScoresTransposed(e, parts, config, bIdx, kh, jb, lastKey, tileRows,
                           headDim, block, qs, scratch.kt, probs);
    else
      emitScores(e, parts, config, bIdx, kh, jb, lastKey, tileRows, headDim,
                 block, qs, probs);
    emitSoftmaxUpdate(e, parts, bIdx, op.getTileHead(), op.getRow0(), jb, jEnd,
                      tileRows, op.getRowsPerHead(), op.getPackedHeads(),
                      op.getQueryLength(), block, probs, op.getRowLo(),
                      op.getRowHi(), op.getRowMax(), op.getRowSum(),
                      scratch.rowScale, scratch.blockSums);
  }
  emitValueProducts(e, parts, config, bIdx, kh, jb, jEnd, lastKey, block,
                    tileRows, valueDim, probs, transposeQueries,
                    scratch.rowScale, op.getAcc());
  rewriter.eraseOp(op);
}

/// Why the kernels cannot run `op` as written (a step not made by
/// kv-cpu-tile-attention may ask for a kernel its tile does not fit).
std::optional<std::string> unsupported(AttendBlockOp op) {
  int64_t rows = cast<MemRefType>(op.getQueries().getType()).getDimSize(0);
  if (std::optional<std::string> misfit =
          kernelMisfit(*parseScoreKernel(op.getScoreKernel()), rows,
                       static_cast<bool>(op.getMask()), op.getKeyBlock()))
    return misfit;
  for (Value v : {op.getQueries(), op.getAcc(), op.getKeys(), op.getValues()})
    if (!cast<MemRefType>(v.getType()).getLayout().isIdentity())
      return std::string("expects unit-stride rows (identity layouts)");
  return std::nullopt;
}

struct CpuVectorizeAttentionPass
    : kv::impl::CpuVectorizeAttentionPassBase<CpuVectorizeAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    TileConfig config;
    config.prefetch = prefetch;
    SmallVector<AttendBlockOp> steps;
    WalkResult checked = getOperation()->walk([&](AttendBlockOp op) {
      if (std::optional<std::string> why = unsupported(op)) {
        op.emitOpError() << *why;
        return WalkResult::interrupt();
      }
      steps.push_back(op);
      return WalkResult::advance();
    });
    if (checked.wasInterrupted())
      return signalPassFailure();
    if (steps.empty())
      return;
    IRRewriter rewriter(&getContext());
    // Per tile (its queries' buffer), key block and kernel.
    DenseMap<std::pair<Value, int64_t>, TileScratch> scratchOf;
    for (AttendBlockOp op : steps)
      lowerAttendBlock(rewriter, op, config, scratchOf);
    // Fold the kernels' index arithmetic and share their constants.
    if (failed(
            applyPatternsGreedily(getOperation(), FrozenRewritePatternSet())))
      signalPassFailure();
  }
};
} // namespace
