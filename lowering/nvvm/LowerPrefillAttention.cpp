//===- LowerPrefillAttention.cpp - flash-attention-2 prefill kernels ------===//
//
// Lowers memref-form kv.attention and kv.partial_attention to one GPU kernel
// each, in the style of flash attention 2:
//   - a block of `rows-per-block / 16` warps owns that many packed query rows
//     of one (batch entry, KV head); with GQA the rows of every query head of
//     the group are packed into M (row r is query position r / G of head
//     kvHead * G + r % G, so a block covers few positions and its visible
//     key range stays tight under causal/window bounds);
//   - each warp owns 16 rows and walks the block's visible key range in
//     tiles of `keys-per-tile` keys staged in shared memory (zero-filled
//     beyond Skv);
//   - f16/bf16: S = Q K^T and O += P V with mma.sync m16n8k16 (f32
//     accumulators); the S accumulators of two adjacent n-tiles are the A
//     fragment of P (lowering/nvvm/MmaFragments.h); K fragments are 32-bit
//     shared loads, V fragments ldmatrix .x2 .trans of row-major V;
//   - f32: the same tiling and register layout, with CUDA-core FMAs (P goes
//     through shared memory since no thread holds a whole row);
//   - online softmax in registers, base-2 (log2(e) folded into the score
//     scale, ex2.approx.ftz.f32), row max/sum over the 4 lanes of a quad;
//   - a row with no visible key gives O = 0 (and LSE = -inf).
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Passes.h"
#include "lowering/common/AttentionSpec.h"
#include "lowering/nvvm/GpuTarget.h"
#include "lowering/nvvm/KernelModule.h"
#include "lowering/nvvm/MmaFragments.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

namespace mlir::kv {
#define GEN_PASS_DEF_LOWERPREFILLATTENTIONPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

/// Static problem sizes of one op.
struct Shape {
  int64_t batch, qHeads, kvHeads, qLen, kvLen, dim, vDim;
  int64_t group() const { return qHeads / kvHeads; }
  int64_t packedRows() const { return group() * qLen; }
};

/// How the kernel is tiled.
struct Plan {
  bool mma = false;  // f16/bf16 on tensor cores; else f32 FMAs
  bool bf16 = false; // mma through nvvm.mma.sync (nvgpu has no bf16 form)
  Type element;      // Q/K/V storage type
  int64_t rows = 64, warps = 4, threads = 128, keys = 64;
  bool qInRegisters = true; // else Q fragments are reloaded per key tile
  int64_t stages = 1;       // 2: K/V tiles double-buffered through cp.async
  int64_t kStride = 0, vStride = 0, pStride = 0; // shared row pitches

  /// 32-bit registers per thread live across a key tile: O (Dv / 2), S
  /// (keys / 2) and the Q fragments (D / 4, or one k-step's 4). Measured
  /// with ptxas for sm_80 and sm_90: up to 112 leaves room for addressing
  /// within 255 registers (D 128 with 64 keys, 128, spills on sm_80; D 256
  /// with 32 keys spills on both).
  int64_t accumulatorRegisters(const Shape &s, int64_t keyTile) const {
    return s.vDim / 2 + keyTile / 2 + (qInRegisters ? s.dim / 4 : 4);
  }
  int64_t pad() const { return mma ? 8 : 4; }
  int64_t bytes() const { return mma ? 2 : 4; }
  int64_t sharedBytes(const Shape &s, int64_t keyTile) const {
    int64_t b = stages * keyTile * (s.dim + pad() + s.vDim + pad());
    if (!mma)
      b += rows * (keyTile + pad());
    return b * bytes();
  }
};

/// Emits the body of one prefill kernel.
class PrefillKernel {
public:
  PrefillKernel(OpBuilder &b, Location loc, const AttentionSpec &spec,
                const Plan &plan, const Shape &shape)
      : b(b), loc(loc), e(b, loc), spec(spec), plan(plan), shape(shape) {}

  void emit(gpu::GPUFuncOp kernel);

private:
  // Index and float helpers.
  Value c(int64_t v) { return e.index(v); }
  Value add(Value x, Value y) { return e.add(x, y); }
  Value mul(Value x, Value y) { return e.mul(x, y); }
  Value divu(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value remu(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value lt(Value x, Value y) { return e.cmp(arith::CmpIPredicate::slt, x, y); }
  Value andi(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value f32(double v) { return e.f32(v); }
  Value fmul(Value x, Value y) {
    return arith::MulFOp::create(b, loc, x, y, contract());
  }
  Value fadd(Value x, Value y) {
    return arith::AddFOp::create(b, loc, x, y, contract());
  }
  arith::FastMathFlags contract() { return arith::FastMathFlags::contract; }
  Value lane(const mma::LaneAffine &a) {
    Value v = c(a.offset);
    if (a.groupMul)
      v = add(v, mul(group, c(a.groupMul)));
    if (a.threadMul)
      v = add(v, mul(thread, c(a.threadMul)));
    return v;
  }
  Value ptx(StringRef code, Value x) {
    return NVVM::InlinePtxOp::create(b, loc, TypeRange{b.getF32Type()},
                                     ValueRange{x}, ValueRange{}, code, Value())
        .getResult(0);
  }
  /// 2^x; ex2.approx.ftz maps -inf to +0.
  Value ex2(Value x) { return ptx("ex2.approx.ftz.f32 $0, $1;", x); }
  /// Butterfly over the 4 lanes holding one accumulator row.
  Value quadReduce(Value x, bool isMax) {
    for (int offset : mma::kQuadXor) {
      Value y =
          gpu::ShuffleOp::create(b, loc, x, offset, 32, gpu::ShuffleMode::XOR)
              .getShuffleResult();
      x = isMax ? e.fmax(x, y) : fadd(x, y);
    }
    return x;
  }
  Value zeros(VectorType type) {
    return arith::ConstantOp::create(b, loc, type, b.getZeroAttr(type));
  }
  /// Vector loads and stores aligned to their size: every row pitch and
  /// column offset here is a multiple of the vector, and buffers (kernel
  /// arguments, 16-byte aligned shared memory) start 16-byte aligned; LLVM
  /// would otherwise split them into element accesses.
  static llvm::MaybeAlign sizeAlign(Type type) {
    auto v = cast<VectorType>(type);
    return llvm::MaybeAlign(v.getNumElements() * v.getElementTypeBitWidth() /
                            8);
  }
  Value vload(Type type, Value base, ValueRange indices) {
    return vector::LoadOp::create(b, loc, cast<VectorType>(type), base, indices,
                                  false, sizeAlign(type));
  }
  void vstore(Value v, Value base, ValueRange indices) {
    vector::StoreOp::create(b, loc, v, base, indices, false,
                            sizeAlign(v.getType()));
  }
  Value extract(Value v, ArrayRef<int64_t> pos) {
    return vector::ExtractOp::create(b, loc, v, pos);
  }

  /// D += A B for one m16n8k16 tile (A vector<4x2xT>, B vector<2x2xT>,
  /// D vector<2x2xf32>).
  Value mmaTile(Value a, Value bm, Value acc);
  /// Copies the key tile starting at `j0` of K or V into shared memory,
  /// zero-filling rows at or beyond Skv or the sequence's length (a cache's
  /// unwritten rows may hold NaNs, and 0 * NaN would reach O).
  void stage(Value src, Value dst, int64_t width, Value j0);
  /// The same with cp.async (zero-fill through a source size of 0) into
  /// buffer `buffer` of a double-buffered tile; returns the copies' tokens.
  void stageAsync(Value src, Value dst, int64_t width, Value j0, Value buffer,
                  SmallVectorImpl<Value> &tokens);
  /// K, then V rows of the tile at `j0` into `buffer`, as one cp.async
  /// group.
  Value stageTileAsync(Value j0, Value buffer);
  /// The A fragment of Q for k-step `ks`.
  Value queryFragment(int64_t ks);
  /// Scores of the tile in log2 units, masked to -inf: [ntile][half][elem].
  void scoresMma(Value j0, SmallVectorImpl<Value> &s);
  void scoresFma(Value j0, SmallVectorImpl<Value> &s);
  Value finishScore(Value raw, Value key, int half);
  SmallVector<Value> pvMma(ArrayRef<Value> p, SmallVector<Value> acc);
  SmallVector<Value> pvFma(ArrayRef<Value> p, SmallVector<Value> acc);

  OpBuilder &b;
  Location loc;
  LoopEmitter e;
  const AttentionSpec &spec;
  const Plan &plan;
  const Shape &shape;

  Value tid, warp, laneId, group, thread, batch, kvHead, kShared, vShared,
      pShared;
  Value rowLimit; // local key rows that hold data: min(Skv, length - start)
  // Leading index of the shared K/V buffer the tile is in (2 stages), or
  // none.
  SmallVector<Value, 1> buffer;
  // Per half (accumulator rows g and g+8): validity, query row, query head,
  // visible key range.
  Value valid[2], row[2], head[2], lo[2], hi[2];
  SmallVector<Value> qFragments;
};

Value PrefillKernel::mmaTile(Value a, Value bm, Value acc) {
  if (!plan.bf16)
    return nvgpu::MmaSyncOp::create(b, loc, a, bm, acc,
                                    ArrayRef<int64_t>{16, 8, 16});
  // bf16: nvvm.mma.sync on .b32 registers, two elements each (element 0 in
  // the low half, as in the f16x2 registers nvgpu passes).
  auto packed = [&](Value v, int64_t regs) {
    SmallVector<Value> out;
    auto i32x1 = VectorType::get({1}, b.getI32Type());
    for (int64_t r = 0; r < regs; ++r) {
      Value pair = extract(v, {r});
      Value word = vector::BitCastOp::create(b, loc, i32x1, pair);
      out.push_back(extract(word, {0}));
    }
    return out;
  };
  SmallVector<Value> cs;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t el = 0; el < 2; ++el)
      cs.push_back(extract(acc, {r, el}));
  Type f32Type = b.getF32Type();
  auto result = LLVM::LLVMStructType::getLiteral(
      b.getContext(), {f32Type, f32Type, f32Type, f32Type});
  Value d = NVVM::MmaOp::create(
      b, loc, result, packed(a, 4), packed(bm, 2), cs,
      ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> ds;
  for (int64_t i = 0; i < 4; ++i)
    ds.push_back(LLVM::ExtractValueOp::create(b, loc, d, ArrayRef<int64_t>{i}));
  return vector::FromElementsOp::create(b, loc,
                                        VectorType::get({2, 2}, f32Type), ds);
}

void PrefillKernel::stage(Value src, Value dst, int64_t width, Value j0) {
  int64_t vec = 16 / plan.bytes();
  int64_t perRow = width / vec;
  int64_t total = plan.keys * perRow;
  auto type = VectorType::get({vec}, plan.element);
  for (int64_t first = 0; first < total; first += plan.threads) {
    Value chunk = add(tid, c(first));
    auto body = [&] {
      Value key = divu(chunk, c(perRow));
      Value col = mul(remu(chunk, c(perRow)), c(vec));
      Value j = add(j0, key);
      Value inBounds = lt(j, rowLimit);
      Value safe = e.minS(j, c(shape.kvLen - 1));
      Value v = vload(type, src, ValueRange{batch, kvHead, safe, col});
      v = select(inBounds, v, zeros(type));
      vstore(v, dst, ValueRange{key, col});
    };
    if (first + plan.threads <= total) {
      body();
      continue;
    }
    auto guard = scf::IfOp::create(b, loc, lt(chunk, c(total)), false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(guard.thenBlock());
    body();
  }
}

void PrefillKernel::stageAsync(Value src, Value dst, int64_t width, Value j0,
                               Value buffer, SmallVectorImpl<Value> &tokens) {
  int64_t vec = 16 / plan.bytes();
  int64_t perRow = width / vec;
  int64_t total = plan.keys * perRow;
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  for (int64_t first = 0; first < total; first += plan.threads) {
    // Threads past the last chunk repeat it: the same bytes to the same
    // place, which keeps the copies unconditional.
    Value chunk = e.minS(add(tid, c(first)), c(total - 1));
    Value key = divu(chunk, c(perRow));
    Value col = mul(remu(chunk, c(perRow)), c(vec));
    Value j = add(j0, key);
    Value size = select(lt(j, rowLimit), c(vec), c(0));
    Value safe = e.minS(j, c(shape.kvLen - 1));
    tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
        b, loc, tokenType, dst, ValueRange{buffer, key, col}, src,
        ValueRange{batch, kvHead, safe, col}, b.getIndexAttr(vec), size,
        b.getUnitAttr()));
  }
}

Value PrefillKernel::stageTileAsync(Value j0, Value buffer) {
  SmallVector<Value> tokens;
  stageAsync(spec.keys.memref, kShared, shape.dim, j0, buffer, tokens);
  stageAsync(spec.values.memref, vShared, shape.vDim, j0, buffer, tokens);
  return nvgpu::DeviceAsyncCreateGroupOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tokens);
}

Value PrefillKernel::queryFragment(int64_t ks) {
  auto fragType = VectorType::get({4, 2}, plan.element);
  auto pairType = VectorType::get({2}, plan.element);
  Value frag = zeros(fragType);
  for (int r = 0; r < mma::kARegs; ++r) {
    mma::Coord at = mma::aCoord(r, 0);
    int half = at.row.offset / 8;
    Value col = add(lane(at.col), c(16 * ks));
    Value pair = vload(pairType, spec.query,
                       ValueRange{batch, head[half], row[half], col});
    frag = vector::InsertOp::create(b, loc, pair, frag, ArrayRef<int64_t>{r});
  }
  return frag;
}

/// Scales, caps and masks one raw score `raw` of key `key` (local index)
/// for accumulator row `half`; the result is in log2 units.
Value PrefillKernel::finishScore(Value raw, Value key, int half) {
  bool floatMask =
      spec.mask &&
      !cast<MemRefType>(spec.mask.getType()).getElementType().isInteger(1);
  Value visible =
      andi(e.cmp(arith::CmpIPredicate::sge, key, lo[half]), lt(key, hi[half]));
  Value s;
  if (!spec.softcap && !floatMask) {
    s = fmul(raw, f32(spec.scale * kLog2e));
  } else {
    if (spec.softcap) {
      // cap * tanh(x / cap), tanh(y) = 1 - 2 / (2^(2 y log2 e) + 1): exact
      // at both infinities and needs no libdevice.
      double cap = *spec.softcap;
      Value y = fmul(raw, f32(spec.scale / cap));
      Value e2y = ex2(fmul(y, f32(2.0 * kLog2e)));
      Value th = arith::SubFOp::create(
          b, loc, f32(1.0),
          arith::DivFOp::create(b, loc, f32(2.0), fadd(e2y, f32(1.0))));
      s = fmul(th, f32(cap));
    } else {
      s = fmul(raw, f32(spec.scale));
    }
    if (floatMask) {
      Value safe = e.minS(key, c(shape.kvLen - 1));
      SmallVector<Value, 4> idx =
          maskIndices(e, spec.mask, {batch, head[half], row[half], safe});
      s = fadd(s, e.toF32(memref::LoadOp::create(b, loc, spec.mask, idx)));
    }
    s = fmul(s, f32(kLog2e));
  }
  if (spec.mask && !floatMask) {
    Value safe = e.minS(key, c(shape.kvLen - 1));
    SmallVector<Value, 4> idx =
        maskIndices(e, spec.mask, {batch, head[half], row[half], safe});
    visible = andi(visible, memref::LoadOp::create(b, loc, spec.mask, idx));
  }
  return select(visible, s, e.negInf());
}

void PrefillKernel::scoresMma(Value j0, SmallVectorImpl<Value> &s) {
  int64_t nTiles = plan.keys / 8, kSteps = shape.dim / 16;
  auto pairType = VectorType::get({2}, plan.element);
  auto bType = VectorType::get({2, 2}, plan.element);
  auto accType = VectorType::get({2, 2}, b.getF32Type());
  // k-steps outside, n-tiles inside: a Q fragment that is not kept in
  // registers is loaded once per tile and dies after its k-step.
  SmallVector<Value> acc(nTiles, zeros(accType));
  for (int64_t ks = 0; ks < kSteps; ++ks) {
    Value q = plan.qInRegisters ? qFragments[ks] : queryFragment(ks);
    for (int64_t nt = 0; nt < nTiles; ++nt) {
      // B = K^T: k (the feature) = 16 ks + 2t + 8 reg + elem, n (the key)
      // = g.
      Value key = add(lane(mma::bCoord(0, 0).col), c(8 * nt));
      Value frag = zeros(bType);
      for (int r = 0; r < mma::kBRegs; ++r) {
        Value feature = add(lane(mma::bCoord(r, 0).row), c(16 * ks));
        SmallVector<Value, 3> at(buffer.begin(), buffer.end());
        at.append({key, feature});
        Value pair = vload(pairType, kShared, at);
        frag =
            vector::InsertOp::create(b, loc, pair, frag, ArrayRef<int64_t>{r});
      }
      acc[nt] = mmaTile(q, frag, acc[nt]);
    }
  }
  for (int64_t nt = 0; nt < nTiles; ++nt)
    for (int half = 0; half < 2; ++half)
      for (int el = 0; el < 2; ++el) {
        Value k = add(j0, add(lane(mma::cCoord(half, el).col), c(8 * nt)));
        s.push_back(finishScore(extract(acc[nt], {half, el}), k, half));
      }
}

void PrefillKernel::scoresFma(Value j0, SmallVectorImpl<Value> &s) {
  int64_t nTiles = plan.keys / 8;
  Type f32Type = b.getF32Type();
  auto quad = VectorType::get({4}, f32Type);
  // Accumulator (nt, half, elem) holds S[row g + 8 half][8 nt + 2t + elem],
  // the mma C layout, so the softmax below is shared with the mma path.
  SmallVector<Value> init(nTiles * 4, f32(0.0));
  auto loop = scf::ForOp::create(b, loc, c(0), c(shape.dim), c(4), init);
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(loop.getBody());
    Value d = loop.getInductionVar();
    Value qv[2];
    for (int half = 0; half < 2; ++half)
      qv[half] =
          vload(quad, spec.query, ValueRange{batch, head[half], row[half], d});
    SmallVector<Value> next;
    for (int64_t nt = 0; nt < nTiles; ++nt) {
      Value kv[2];
      for (int el = 0; el < 2; ++el) {
        Value key = add(lane(mma::cCoord(0, el).col), c(8 * nt));
        kv[el] = vload(quad, kShared, ValueRange{key, d});
      }
      for (int half = 0; half < 2; ++half)
        for (int el = 0; el < 2; ++el) {
          Value acc = loop.getRegionIterArgs()[nt * 4 + half * 2 + el];
          for (int64_t x = 0; x < 4; ++x)
            acc = fadd(acc, fmul(extract(qv[half], {x}), extract(kv[el], {x})));
          next.push_back(acc);
        }
    }
    scf::YieldOp::create(b, loc, next);
  }
  for (int64_t nt = 0; nt < nTiles; ++nt)
    for (int half = 0; half < 2; ++half)
      for (int el = 0; el < 2; ++el) {
        Value k = add(j0, add(lane(mma::cCoord(half, el).col), c(8 * nt)));
        s.push_back(
            finishScore(loop.getResult(nt * 4 + half * 2 + el), k, half));
      }
}

SmallVector<Value> PrefillKernel::pvMma(ArrayRef<Value> p,
                                        SmallVector<Value> acc) {
  Type f32Type = b.getF32Type();
  auto aType = VectorType::get({4, 2}, f32Type);
  auto bType = VectorType::get({2, 2}, plan.element);
  int64_t kSteps = plan.keys / 16, vTiles = shape.vDim / 8;
  // P as A fragments: A reg r of k-step kk is C tile 2 kk + (r >> 1),
  // register (r & 1) (MmaFragments.h).
  SmallVector<Value> pa;
  for (int64_t kk = 0; kk < kSteps; ++kk) {
    SmallVector<Value> elems;
    for (int r = 0; r < mma::kARegs; ++r) {
      mma::CSlot slot = mma::aFromC(r);
      int64_t tile = 2 * kk + slot.tile;
      for (int el = 0; el < 2; ++el)
        elems.push_back(p[tile * 4 + slot.reg * 2 + el]);
    }
    Value frag = vector::FromElementsOp::create(b, loc, aType, elems);
    pa.push_back(e.fromF32(frag, plan.element));
  }
  // B = V (k the key, n the column) straight from row-major V rows with
  // ldmatrix .x2 .trans (MmaFragments.h): lane l points at key row
  // 16 kk + l % 16, columns 8 dn..8 dn+7.
  Value ldRow = remu(laneId, c(16));
  for (int64_t dn = 0; dn < vTiles; ++dn) {
    for (int64_t kk = 0; kk < kSteps; ++kk) {
      SmallVector<Value, 3> at(buffer.begin(), buffer.end());
      at.append({add(ldRow, c(16 * kk)), c(8 * dn)});
      Value frag = nvgpu::LdMatrixOp::create(b, loc, bType, vShared, at,
                                             b.getBoolAttr(true),
                                             b.getI32IntegerAttr(2));
      acc[dn] = mmaTile(pa[kk], frag, acc[dn]);
    }
  }
  return acc;
}

SmallVector<Value> PrefillKernel::pvFma(ArrayRef<Value> p,
                                        SmallVector<Value> acc) {
  Type f32Type = b.getF32Type();
  auto pair = VectorType::get({2}, f32Type);
  auto tileType = VectorType::get({2, 2}, f32Type);
  int64_t nTiles = plan.keys / 8, vTiles = shape.vDim / 8;
  // Each warp writes its 16 x keys block of P; every lane then needs whole
  // rows of it.
  Value warpRow = mul(warp, c(16));
  for (int64_t nt = 0; nt < nTiles; ++nt)
    for (int half = 0; half < 2; ++half) {
      Value r = add(warpRow, lane(mma::cCoord(half, 0).row));
      Value col = add(lane(mma::cCoord(half, 0).col), c(8 * nt));
      Value v = vector::FromElementsOp::create(
          b, loc, pair,
          ValueRange{p[nt * 4 + half * 2], p[nt * 4 + half * 2 + 1]});
      vstore(v, pShared, ValueRange{r, col});
    }
  gpu::BarrierOp::create(b, loc);
  auto loop = scf::ForOp::create(b, loc, c(0), c(plan.keys), c(1), acc);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(loop.getBody());
  Value k = loop.getInductionVar();
  Value pr[2];
  for (int half = 0; half < 2; ++half)
    pr[half] = memref::LoadOp::create(
        b, loc, pShared,
        ValueRange{add(warpRow, lane(mma::cCoord(half, 0).row)), k});
  Value pm = vector::FromElementsOp::create(
      b, loc, tileType, ValueRange{pr[0], pr[0], pr[1], pr[1]});
  SmallVector<Value> next;
  for (int64_t dn = 0; dn < vTiles; ++dn) {
    Value col = add(lane(mma::cCoord(0, 0).col), c(8 * dn));
    Value v = vload(pair, vShared, ValueRange{k, col});
    // Both rows of the tile read the same V columns (an n-D broadcast would
    // need vector lowering patterns the NVVM pipeline does not run).
    Value vm = zeros(tileType);
    for (int64_t r = 0; r < 2; ++r)
      vm = vector::InsertOp::create(b, loc, v, vm, ArrayRef<int64_t>{r});
    Value a = loop.getRegionIterArgs()[dn];
    next.push_back(fadd(a, fmul(pm, vm)));
  }
  scf::YieldOp::create(b, loc, next);
  b.setInsertionPointAfter(loop);
  return SmallVector<Value>(loop.getResults());
}

void PrefillKernel::emit(gpu::GPUFuncOp kernel) {
  Type f32Type = b.getF32Type();
  auto accType = VectorType::get({2, 2}, f32Type);
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto shared = [&](int64_t rows, int64_t cols, Type element, int64_t copies) {
    SmallVector<int64_t, 3> shape{rows, cols};
    if (copies > 1)
      shape.insert(shape.begin(), copies);
    Value buffer = kernel.addWorkgroupAttribution(
        MemRefType::get(shape, element, MemRefLayoutAttrInterface(), workgroup),
        loc);
    kernel.setWorkgroupAttributionAttr(kernel.getNumWorkgroupAttributions() - 1,
                                       "llvm.align", b.getI64IntegerAttr(16));
    return buffer;
  };
  kShared = shared(plan.keys, plan.kStride, plan.element, plan.stages);
  vShared = shared(plan.keys, plan.vStride, plan.element, plan.stages);
  if (!plan.mma)
    pShared = shared(plan.rows, plan.pStride, f32Type, 1);

  b.setInsertionPointToStart(&kernel.getBody().front());
  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  warp = divu(tid, c(32));
  laneId = remu(tid, c(32));
  group = divu(laneId, c(4));
  thread = remu(laneId, c(4));
  Value rowTile = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  kvHead = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  batch = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);

  int64_t g = shape.group(), m = shape.packedRows();
  AttentionSpec::Sequence seq = spec.sequence(e, batch);
  KeyBounds bounds = spec.bounds();
  rowLimit = e.minS(c(shape.kvLen), e.sub(seq.length, c(spec.kvStart)));
  Value blockRow = mul(rowTile, c(plan.rows));
  Value warpRow = add(blockRow, mul(warp, c(16)));
  for (int half = 0; half < 2; ++half) {
    Value r = add(warpRow, lane(mma::cCoord(half, 0).row));
    valid[half] = lt(r, c(m));
    Value safe = e.minS(r, c(m - 1));
    row[half] = divu(safe, c(g));
    head[half] = add(mul(kvHead, c(g)), remu(safe, c(g)));
    std::tie(lo[half], hi[half]) =
        visibleKeys(e, add(row[half], seq.offset), seq.length, bounds);
  }
  // The block's visible keys: bounds are monotone in the query position, so
  // the union over its rows runs from the first row's start to the last
  // row's end.
  Value firstPos = divu(e.minS(blockRow, c(m - 1)), c(g));
  Value lastPos = divu(e.minS(add(blockRow, c(plan.rows - 1)), c(m - 1)), c(g));
  Value blockLo =
      visibleKeys(e, add(firstPos, seq.offset), seq.length, bounds).first;
  Value blockHi =
      visibleKeys(e, add(lastPos, seq.offset), seq.length, bounds).second;
  Value start = mul(divu(blockLo, c(plan.keys)), c(plan.keys));

  if (plan.mma && plan.qInRegisters)
    for (int64_t ks = 0; ks < shape.dim / 16; ++ks)
      qFragments.push_back(queryFragment(ks));

  SmallVector<Value> init{e.negInf(), e.negInf(), f32(0.0), f32(0.0)};
  for (int64_t dn = 0; dn < shape.vDim / 8; ++dn)
    init.push_back(zeros(accType));
  // Two stages: tile 0 is in flight before the loop; each iteration starts
  // the next tile into the other buffer, waits for all but that group, and
  // ends with a barrier so the buffer it read is free for the next copy.
  Value firstGroup;
  if (plan.stages == 2)
    firstGroup = stageTileAsync(start, c(0));
  auto loop = scf::ForOp::create(b, loc, start, blockHi, c(plan.keys), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value j0 = loop.getInductionVar();
    ValueRange carried = loop.getRegionIterArgs();
    if (plan.stages == 2) {
      Value current =
          remu(divu(e.sub(j0, start), c(plan.keys)), c(plan.stages));
      Value other = e.sub(c(1), current);
      Value group = stageTileAsync(add(j0, c(plan.keys)), other);
      nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(1));
      gpu::BarrierOp::create(b, loc);
      buffer.assign({current});
    } else {
      // The previous tile's readers are done before it is overwritten.
      gpu::BarrierOp::create(b, loc);
      stage(spec.keys.memref, kShared, shape.dim, j0);
      stage(spec.values.memref, vShared, shape.vDim, j0);
      gpu::BarrierOp::create(b, loc);
    }

    SmallVector<Value> s;
    if (plan.mma)
      scoresMma(j0, s);
    else
      scoresFma(j0, s);

    SmallVector<Value> next;
    Value alpha[2], base[2], newMax[2];
    for (int half = 0; half < 2; ++half) {
      Value tileMax = e.negInf();
      for (size_t i = 0; i < s.size(); ++i)
        if ((i / 2) % 2 == static_cast<size_t>(half))
          tileMax = e.fmax(tileMax, s[i]);
      tileMax = quadReduce(tileMax, /*isMax=*/true);
      newMax[half] = e.fmax(carried[half], tileMax);
      // A row with nothing visible yet keeps max -inf; subtracting 0 keeps
      // its exponentials at 0 instead of NaN.
      Value none = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                         newMax[half], e.negInf());
      base[half] = select(none, f32(0.0), newMax[half]);
      alpha[half] =
          ex2(arith::SubFOp::create(b, loc, carried[half], base[half]));
    }
    SmallVector<Value> p(s.size());
    Value sum[2] = {f32(0.0), f32(0.0)};
    for (size_t i = 0; i < s.size(); ++i) {
      int half = (i / 2) % 2;
      p[i] = ex2(arith::SubFOp::create(b, loc, s[i], base[half]));
      sum[half] = fadd(sum[half], p[i]);
    }
    next.push_back(newMax[0]);
    next.push_back(newMax[1]);
    for (int half = 0; half < 2; ++half)
      next.push_back(fadd(fmul(carried[2 + half], alpha[half]), sum[half]));
    Value scaleRows = vector::FromElementsOp::create(
        b, loc, accType, ValueRange{alpha[0], alpha[0], alpha[1], alpha[1]});
    SmallVector<Value> acc;
    for (Value a : carried.drop_front(4))
      acc.push_back(fmul(a, scaleRows));
    acc = plan.mma ? pvMma(p, acc) : pvFma(p, acc);
    next.append(acc.begin(), acc.end());
    if (plan.stages == 2)
      gpu::BarrierOp::create(b, loc);
    scf::YieldOp::create(b, loc, next);
  }
  // The last iteration's prefetch (or the first tile of an empty loop) is
  // still in flight; drain it before the kernel ends.
  if (plan.stages == 2)
    nvgpu::DeviceAsyncWaitOp::create(b, loc, firstGroup,
                                     b.getI32IntegerAttr(0));

  // Normalise by the row sums (each lane summed its own columns) and store
  // the rows this thread holds.
  Type outElement = cast<MemRefType>(spec.out.getType()).getElementType();
  for (int half = 0; half < 2; ++half) {
    Value total = quadReduce(loop.getResult(2 + half), /*isMax=*/false);
    Value any = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, total,
                                      f32(0.0));
    Value inv =
        select(any, arith::DivFOp::create(b, loc, f32(1.0), total), f32(0.0));
    auto ifValid = scf::IfOp::create(b, loc, valid[half], false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifValid.thenBlock());
    for (int64_t dn = 0; dn < shape.vDim / 8; ++dn) {
      Value v = extract(loop.getResult(4 + dn), {half});
      v = fmul(v, vector::BroadcastOp::create(
                      b, loc, VectorType::get({2}, f32Type), inv));
      v = e.fromF32(v, outElement);
      Value col = add(lane(mma::cCoord(half, 0).col), c(8 * dn));
      vstore(v, spec.out, ValueRange{batch, head[half], row[half], col});
    }
    if (spec.lse) {
      // LSE = ln(sum 2^s2) = (max + log2(sum)) ln 2, s2 in log2 units.
      Value first = e.cmp(arith::CmpIPredicate::eq, thread, c(0));
      auto ifFirst = scf::IfOp::create(b, loc, first, false);
      b.setInsertionPointToStart(ifFirst.thenBlock());
      Value lg = ptx("lg2.approx.f32 $0, $1;", total);
      Value lse = fmul(fadd(loop.getResult(half), lg), f32(kLn2));
      lse = select(any, lse, e.negInf());
      memref::StoreOp::create(b, loc, lse, spec.lse,
                              ValueRange{batch, head[half], row[half]});
    }
  }
  gpu::ReturnOp::create(b, loc);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

bool staticIdentity(Value v) {
  if (!v)
    return true;
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.hasStaticShape() && type.getLayout().isIdentity();
}

struct LowerPrefillAttentionPass
    : public kv::impl::LowerPrefillAttentionPassBase<
          LowerPrefillAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string error;
    std::optional<GpuTarget> target = GpuTarget::parse(targetSpec, error);
    if (!target) {
      module.emitError("kv-nvvm-lower-prefill: ") << error;
      return signalPassFailure();
    }
    if (rowsPerBlock <= 0 || rowsPerBlock % 16 ||
        rowsPerBlock * 2 > target->maxThreadsPerBlock) {
      module.emitError("kv-nvvm-lower-prefill: expects rows-per-block a "
                       "multiple of 16 with 2 threads per row within the "
                       "target's block size, got ")
          << rowsPerBlock;
      return signalPassFailure();
    }
    if (stages != 1 && stages != 2) {
      module.emitError("kv-nvvm-lower-prefill: expects stages 1 or 2, got ")
          << stages;
      return signalPassFailure();
    }
    if (keysPerTile < 0 || keysPerTile % 16) {
      module.emitError("kv-nvvm-lower-prefill: expects keys-per-tile a "
                       "multiple of 16 (0: from shared memory), got ")
          << keysPerTile;
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<AttentionOp, PartialAttentionOp>(op) &&
          !op->getParentOfType<gpu::GPUModuleOp>())
        ops.push_back(op);
    });
    bool failed = false;
    for (Operation *op : ops)
      if (lower(op, *target).failed())
        failed = true;
    if (failed)
      signalPassFailure();
  }

  LogicalResult lower(Operation *op, const GpuTarget &target) {
    OpBuilder builder(op);
    std::optional<AttentionSpec> described = describeAttention(op, builder);
    if (!described)
      return op->emitError("expects the memref (bufferized) form");
    AttentionSpec spec = *described;
    if (spec.splits > 1)
      return op->emitError("split-form partial attention is not lowered to "
                           "the GPU");
    if (spec.packed > 1)
      return op->emitOpError(
          "has GQA-packed query heads (packed_heads > 1, from kv-pack-gqa, a "
          "CPU pass); the GPU kernels pack the group themselves");
    for (Value v : {spec.query, spec.keys.memref, spec.values.memref, spec.mask,
                    spec.kvLens, spec.offsets, spec.out, spec.lse})
      if (!staticIdentity(v))
        return op->emitError("expects memrefs of static shape and identity "
                             "layout, got ")
               << v.getType();
    auto qType = cast<MemRefType>(spec.query.getType());
    auto kType = cast<MemRefType>(spec.keys.memref.getType());
    auto vType = cast<MemRefType>(spec.values.memref.getType());
    Shape shape{qType.getDimSize(0), qType.getDimSize(1), kType.getDimSize(1),
                qType.getDimSize(2), kType.getDimSize(2), qType.getDimSize(3),
                vType.getDimSize(3)};
    Type element = qType.getElementType();
    if (kType.getElementType() != element ||
        vType.getElementType() != element ||
        !(element.isF16() || element.isBF16() || element.isF32()))
      return op->emitError("expects Q, K and V of one element type (f16, "
                           "bf16 or f32), got ")
             << qType.getElementType() << ", " << kType.getElementType() << ", "
             << vType.getElementType();
    for (int64_t d : {shape.dim, shape.vDim})
      if (d % 16 || d > 256)
        return op->emitError("expects head dims that are multiples of 16 up "
                             "to 256, got D = ")
               << shape.dim << ", Dv = " << shape.vDim;
    if (shape.qLen == 0 || shape.kvLen == 0 || shape.batch == 0)
      return op->emitError("expects non-empty Q, K and V");

    Plan plan;
    plan.element = element;
    plan.mma = !element.isF32();
    plan.bf16 = element.isBF16();
    if (plan.mma && !target.hasMmaSync())
      return op->emitError("f16/bf16 attention needs mma.sync m16n8k16 "
                           "(sm_80 or newer), target is ")
             << target.chip;
    plan.rows = rowsPerBlock;
    plan.warps = plan.rows / 16;
    plan.threads = plan.warps * 32;
    // Q fragments take D/4 registers per thread; beyond D = 128 they would
    // push the output accumulators into local memory.
    plan.qInRegisters = plan.mma && shape.dim <= 128;
    // cp.async needs sm_80 (as the mma path does); the f32 path exchanges P
    // through shared memory and keeps one stage.
    plan.stages = plan.mma ? stages : 1;
    if (keysPerTile) {
      plan.keys = keysPerTile;
    } else {
      plan.keys = 0;
      for (int64_t k : {64, 32, 16})
        if (plan.sharedBytes(shape, k) <= target.sharedBytesPerBlock &&
            (k == 16 || plan.accumulatorRegisters(shape, k) <= 112)) {
          plan.keys = k;
          break;
        }
      if (!plan.keys)
        plan.keys = 16;
    }
    if (plan.sharedBytes(shape, plan.keys) > target.sharedBytesPerBlock)
      return op->emitError("needs ")
             << plan.sharedBytes(shape, plan.keys)
             << " bytes of shared memory for " << plan.keys
             << " keys per tile, the target has " << target.sharedBytesPerBlock;
    plan.kStride = shape.dim + plan.pad();
    plan.vStride = shape.vDim + plan.pad();
    plan.pStride = plan.keys + plan.pad();

    // Kernel operands: every memref the op reads or writes, in op order.
    SmallVector<Value> operands{spec.query, spec.keys.memref,
                                spec.values.memref};
    for (Value v : {spec.mask, spec.kvLens, spec.offsets, spec.out, spec.lse})
      if (v)
        operands.push_back(v);
    ModuleOp module = getOperation();
    auto kernel = createKernel(
        builder, module,
        isa<PartialAttentionOp>(op) ? "prefill_partial" : "prefill_attention",
        TypeRange(ValueRange(operands)),
        {static_cast<int32_t>(plan.threads), 1, 1});
    kernel->setLoc(op->getLoc());

    // The spec, re-pointed at the kernel's arguments.
    AttentionSpec inner = spec;
    IRMapping map;
    for (auto [v, arg] : llvm::zip(operands, kernel.getArguments()))
      map.map(v, arg);
    auto remap = [&](Value &v) {
      if (v)
        v = map.lookup(v);
    };
    for (Value *v :
         {&inner.query, &inner.keys.memref, &inner.values.memref, &inner.mask,
          &inner.kvLens, &inner.offsets, &inner.out, &inner.lse})
      remap(*v);
    {
      OpBuilder kb(kernel.getContext());
      PrefillKernel(kb, op->getLoc(), inner, plan, shape).emit(kernel);
    }

    int64_t rowTiles = llvm::divideCeil(shape.packedRows(), plan.rows);
    launchKernel(builder, op->getLoc(), kernel,
                 {rowTiles, shape.kvHeads, shape.batch},
                 {static_cast<int32_t>(plan.threads), 1, 1}, operands);
    op->erase();
    return success();
  }
};

} // namespace
