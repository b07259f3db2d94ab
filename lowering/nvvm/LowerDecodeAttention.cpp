//===- LowerDecodeAttention.cpp - decode attention to flash decoding ------===//
//
// kv.cache_attention / kv.append_attention with a few query rows per KV
// group become two kernels (split-KV flash decoding):
//
//  decode_partial  grid (splits, Hkv, B), T threads (T keys per tile). The
//                  block owns one KV head of one sequence and one slice of
//                  the keys; the Sq rows of all G query heads of the group
//                  are its R = G * Sq rows (row r = g * Sq + i), so each K/V
//                  row is read once. Per tile: (A) thread t scores key
//                  t0 + t against all rows (16-byte loads through the page
//                  table, f32 FMAs against the pre-scaled query rows held
//                  in shared memory); (B) one warp per row updates the
//                  online-softmax statistics with shuffles and turns the
//                  scores into probabilities; (C) threads spread over
//                  (row, 16-byte column slice, key subset) accumulate P.V in
//                  registers. Scores are kept in base 2 (log2 e folded into
//                  the query scale) so each exponential is one ex2.approx.
//  decode_merge    grid (Sq, Hq, B), Dv threads: LSE-weighted merge of the
//                  splits (only when there are several).
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Passes.h"
#include "lowering/common/AttentionSpec.h"
#include "lowering/nvvm/GpuEmitter.h"
#include "lowering/nvvm/GpuTarget.h"
#include "lowering/nvvm/KernelModule.h"
#include "lowering/nvvm/LowerAppend.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#include <cmath>

namespace mlir::kv {
#define GEN_PASS_DEF_NVVMLOWERDECODEPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;
using namespace mlir::kv::gpuemit;

namespace {

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Shapes and the static work decomposition of one decode op.
struct DecodePlan {
  int64_t batch, qHeads, kvHeads, group, qLen, headDim, valueDim;
  int64_t capacity, pageSize, pagesPerSeq, newTokens = 0;
  Type cacheElement, outElement;
  int64_t vec;     // cache elements per 16-byte load
  int64_t rows;    // group * qLen
  int64_t threads; // == keys per tile
  int64_t splits, chunk;
  bool stageV;
  int64_t loadUnroll;   // K loads in flight per thread
  int64_t maxRegisters; // ptxas register budget (0: ptxas decides)
  int64_t accWidth;     // lanes of each row's dot-product accumulator
  // P.V: (row, column slice) slots spread over the threads.
  int64_t slices, slots, keyGroups, slotsPerThread;

  int64_t elementBytes() const {
    return cacheElement.getIntOrFloatBitWidth() / 8;
  }
  int64_t reduceFloats() const {
    return keyGroups > 1 ? keyGroups * slots * vec : 1;
  }
  int64_t stageRow() const { return valueDim + vec; }
  int64_t sharedBytes(bool withV) const {
    int64_t floats =
        rows * headDim + rows * threads + 3 * rows + reduceFloats();
    return floats * 4 + (withV ? threads * stageRow() * elementBytes() : 0);
  }
};

/// Builds the two kernels of one op and their launches.
class DecodeLowering {
public:
  DecodeLowering(ModuleOp module, const AttentionSpec &spec,
                 const DecodePlan &plan)
      : module(module), spec(spec), p(plan) {}

  void emit(OpBuilder &b, const GpuCacheView &view, Value lens);

private:
  gpu::GPUFuncOp buildPartial(OpBuilder &b, TypeRange types);
  gpu::GPUFuncOp buildMerge(OpBuilder &b, TypeRange types);

  MemRefType shared(ArrayRef<int64_t> shape, Type element) const {
    auto space = gpu::AddressSpaceAttr::get(spec.op->getContext(),
                                            gpu::AddressSpace::Workgroup);
    return MemRefType::get(shape, element, MemRefLayoutAttrInterface{}, space);
  }
  Value vload(LoopEmitter &e, VectorType type, Value mem, ValueRange idx,
              int64_t align) const {
    return vector::LoadOp::create(e.b, e.loc, type, mem, idx,
                                  /*nontemporal=*/false,
                                  llvm::MaybeAlign(align));
  }
  void vstore(LoopEmitter &e, Value v, Value mem, ValueRange idx,
              int64_t align) const {
    vector::StoreOp::create(e.b, e.loc, v, mem, idx, /*nontemporal=*/false,
                            llvm::MaybeAlign(align));
  }
  Value fcmp(LoopEmitter &e, arith::CmpFPredicate pred, Value x,
             Value y) const {
    return arith::CmpFOp::create(e.b, e.loc, pred, x, y);
  }
  Value select(LoopEmitter &e, Value c, Value x, Value y) const {
    return arith::SelectOp::create(e.b, e.loc, c, x, y);
  }
  Value bcast(LoopEmitter &e, VectorType t, Value x) const {
    return vector::BroadcastOp::create(e.b, e.loc, t, x);
  }
  Value divU(LoopEmitter &e, Value x, int64_t y) const {
    return arith::DivUIOp::create(e.b, e.loc, x, e.index(y));
  }
  Value remU(LoopEmitter &e, Value x, int64_t y) const {
    return arith::RemUIOp::create(e.b, e.loc, x, e.index(y));
  }
  /// soft-cap in base 2: cap * log2(e) * tanh(x), x already divided by the
  /// cap; tanh(x) = 1 - 2 / (2^(2 x log2 e) + 1) saturates to +-1.
  Value softcap(LoopEmitter &e, Value x) const {
    Value two = e.f32(2.0), one = e.f32(1.0);
    Value t = exp2(e, e.fmul(x, e.f32(2.0 * M_LOG2E)));
    Value frac = arith::DivFOp::create(e.b, e.loc, two, e.fadd(t, one));
    Value tanh = arith::SubFOp::create(e.b, e.loc, one, frac);
    return e.fmul(tanh, e.f32(*spec.softcap * M_LOG2E));
  }

  ModuleOp module;
  const AttentionSpec &spec;
  const DecodePlan &p;
};

gpu::GPUFuncOp DecodeLowering::buildPartial(OpBuilder &b, TypeRange types) {
  Location loc = spec.op->getLoc();
  int32_t T = static_cast<int32_t>(p.threads);
  gpu::GPUFuncOp kernel =
      createKernel(b, module, "decode_partial", types, {T, 1, 1});
  // An explicit register budget: without one, ptxas aims at the occupancy
  // step just below the kernel's demand (96 registers for 128 threads) and
  // spills a few bytes to get there.
  if (p.maxRegisters > 0)
    kernel->setAttr("nvvm.maxnreg",
                    b.getI32IntegerAttr(static_cast<int32_t>(p.maxRegisters)));
  Type f32 = b.getF32Type();
  auto alignAttr = b.getI64IntegerAttr(16);
  auto addShared = [&](MemRefType type) {
    BlockArgument arg = kernel.addWorkgroupAttribution(type, loc);
    kernel.setWorkgroupAttributionAttr(kernel.getNumWorkgroupAttributions() - 1,
                                       "llvm.align", alignAttr);
    return arg;
  };
  Value qs = addShared(shared({p.rows * p.headDim}, f32));
  Value ss = addShared(shared({p.rows * p.threads}, f32));
  Value ms = addShared(shared({p.rows}, f32));
  Value ls = addShared(shared({p.rows}, f32));
  Value as = addShared(shared({p.rows}, f32));
  Value rs = addShared(shared({p.reduceFloats()}, f32));
  Value vs = p.stageV
                 ? addShared(shared({p.threads * p.stageRow()}, p.cacheElement))
                 : Value();

  OpBuilder::InsertionGuard guard(b);
  Block &body = kernel.getBody().front();
  b.setInsertionPointToStart(&body);
  LoopEmitter e(b, loc);
  Value q = body.getArgument(0), kpool = body.getArgument(1),
        vpool = body.getArgument(2), table = body.getArgument(3),
        lens = body.getArgument(4);
  unsigned next = 5;
  Value mask = spec.mask ? body.getArgument(next++) : Value();
  bool split = p.splits > 1;
  Value opart = body.getArgument(next++);
  Value lpart = split ? body.getArgument(next) : Value();

  int64_t V = p.vec;
  auto vecF32 = VectorType::get({V}, f32);
  auto vecRaw = VectorType::get({V}, p.cacheElement);
  Value negInf = e.negInf(), zero = e.f32(0.0), one = e.f32(1.0);
  Value vzero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vecF32, b.getF32FloatAttr(0.0f)));

  Value tid = threadId(e);
  Value splitId = blockId(e, gpu::Dimension::x);
  Value kvHead = blockId(e, gpu::Dimension::y);
  Value seq = blockId(e, gpu::Dimension::z);

  // The sequence's key count and each query row's visible key range.
  Value length = e.loadIndex(lens, {seq});
  if (p.newTokens)
    length = e.add(length, e.index(p.newTokens));
  Value offset = e.sub(length, e.index(p.qLen));
  KeyBounds bounds = spec.bounds();
  SmallVector<Value> lo, hi;
  Value first, last;
  if (p.qLen == 1) {
    // The last position sees every key below the length (causal and right
    // windows bound nothing further); only a left window cuts the front.
    last = e.minS(length, e.index(p.capacity));
    if (bounds.windowLeft >= 0)
      first = e.maxS(e.sub(offset, e.index(bounds.windowLeft)), e.index(0));
  } else {
    for (int64_t i = 0; i < p.qLen; ++i) {
      auto [l, h] = visibleKeys(e, e.add(offset, e.index(i)), length, bounds);
      lo.push_back(l);
      hi.push_back(h);
    }
    first = lo[0];
    last = hi[0];
    for (int64_t i = 1; i < p.qLen; ++i) {
      first = e.minS(first, lo[i]);
      last = e.maxS(last, hi[i]);
    }
    // A row's empty range is [lo, lo), and lo passes the capacity when
    // the length does: the keys read stay below the capacity.
    last = e.minS(last, e.index(p.capacity));
  }
  Value sliceStart = e.mul(splitId, e.index(p.chunk));
  Value start = first ? e.maxS(sliceStart, first) : sliceStart;
  Value end = e.minS(e.add(sliceStart, e.index(p.chunk)), last);

  // Running max and sum of every row.
  Value isRowThread = e.cmp(arith::CmpIPredicate::ult, tid, e.index(p.rows));
  ifThen(e, isRowThread, [&] {
    memref::StoreOp::create(b, loc, negInf, ms, ValueRange{tid});
    memref::StoreOp::create(b, loc, zero, ls, ValueRange{tid});
  });
  // Query rows scaled into base 2 (or divided by the soft-cap) in shared
  // memory.
  double qScale =
      spec.softcap ? spec.scale / *spec.softcap : spec.scale * M_LOG2E;
  Value headBase = e.mul(kvHead, e.index(p.group));
  forLoop(
      e, tid, e.index(p.rows * p.headDim), e.index(p.threads), {},
      [&](Value idx, ValueRange) {
        Value r = divU(e, idx, p.headDim), d = remU(e, idx, p.headDim);
        Value h = e.add(headBase, divU(e, r, p.qLen));
        Value i = remU(e, r, p.qLen);
        Value x = memref::LoadOp::create(b, loc, q, ValueRange{seq, h, i, d});
        x = e.fmul(e.toF32(x), e.f32(qScale));
        memref::StoreOp::create(b, loc, x, qs, ValueRange{idx});
        return SmallVector<Value>{};
      });
  barrier(e);

  // Row `token` of this sequence and KV head: (page, token within page).
  // A contiguous cache is one page per sequence, looked up once.
  Value page0 =
      p.pagesPerSeq == 1 ? e.loadIndex(table, {seq, e.index(0)}) : Value();
  auto rowOf = [&](Value token) -> std::pair<Value, Value> {
    if (p.pagesPerSeq == 1)
      return {page0, token};
    Value page = e.loadIndex(table, {seq, divU(e, token, p.pageSize)});
    return {page, remU(e, token, p.pageSize)};
  };
  auto loadRow = [&](Value pool, std::pair<Value, Value> row, Value col) {
    return e.toF32(
        vload(e, vecRaw, pool, {row.first, kvHead, row.second, col}, 16));
  };

  // P.V thread mapping.
  Value warp = divU(e, tid, 32), lane = remU(e, tid, 32);
  Value group = e.index(0);
  SmallVector<Value> slotValid, slotRow, slotCol;
  if (p.keyGroups > 1) {
    group = divU(e, tid, p.slots);
    Value slot = remU(e, tid, p.slots);
    slotValid.push_back(
        e.cmp(arith::CmpIPredicate::ult, tid, e.index(p.keyGroups * p.slots)));
    slotRow.push_back(divU(e, slot, p.slices));
    slotCol.push_back(e.mul(remU(e, slot, p.slices), e.index(V)));
  } else {
    for (int64_t k = 0; k < p.slotsPerThread; ++k) {
      Value slot = e.add(tid, e.index(k * p.threads));
      slotValid.push_back(
          e.cmp(arith::CmpIPredicate::ult, slot, e.index(p.slots)));
      Value clamped =
          arith::MinUIOp::create(b, loc, slot, e.index(p.slots - 1));
      slotRow.push_back(divU(e, clamped, p.slices));
      slotCol.push_back(e.mul(remU(e, clamped, p.slices), e.index(V)));
    }
  }

  SmallVector<Value> accInit(p.slotsPerThread, vzero);
  auto tiles = forLoop(
      e, start, end, e.index(p.threads), accInit,
      [&](Value t0, ValueRange accs) {
        // (A) scores of key t0 + tid against every row.
        Value key = e.add(t0, tid);
        Value valid = e.cmp(arith::CmpIPredicate::slt, key, end);
        SmallVector<Type> scoreTypes(p.rows, f32);
        ValueRange scores = ifThenElse(
            e, scoreTypes, valid,
            [&] {
              auto row = rowOf(key);
              if (vs) {
                Value base = e.mul(tid, e.index(p.stageRow()));
                forLoop(e, e.index(0), e.index(p.valueDim), e.index(V), {},
                        [&](Value c, ValueRange) {
                          Value x =
                              vload(e, vecRaw, vpool,
                                    {row.first, kvHead, row.second, c}, 16);
                          vstore(e, x, vs, {e.add(base, c)}, 16);
                          return SmallVector<Value>{};
                        });
              }
              auto accType = VectorType::get({p.accWidth}, f32);
              Value accZero = arith::ConstantOp::create(
                  b, loc,
                  DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0f)));
              SmallVector<Value> dotInit(p.rows, accZero);
              auto dots = forLoop(
                  e, e.index(0), e.index(p.headDim), e.index(V * p.loadUnroll),
                  dotInit, [&](Value d0, ValueRange acc) {
                    // All loads of the step are issued before their FMAs.
                    SmallVector<Value> ks;
                    for (int64_t u = 0; u < p.loadUnroll; ++u)
                      ks.push_back(
                          loadRow(kpool, row, e.add(d0, e.index(u * V))));
                    SmallVector<Value> next(acc.begin(), acc.end());
                    for (int64_t u = 0; u < p.loadUnroll; ++u) {
                      for (int64_t r = 0; r < p.rows; ++r) {
                        Value qv = vload(
                            e, vecF32, qs,
                            {e.add(d0, e.index(r * p.headDim + u * V))}, 16);
                        for (int64_t c = 0; c < V; c += p.accWidth) {
                          Value qc = qv, kc = ks[u];
                          if (p.accWidth != V) {
                            // Shuffles, not extract_strided_slice: the
                            // NVVM pipeline lowers them.
                            SmallVector<int64_t> lanes;
                            for (int64_t l = 0; l < p.accWidth; ++l)
                              lanes.push_back(c + l);
                            qc = vector::ShuffleOp::create(b, loc, qv, qv,
                                                           lanes);
                            kc = vector::ShuffleOp::create(b, loc, ks[u], ks[u],
                                                           lanes);
                          }
                          next[r] =
                              vector::FMAOp::create(b, loc, qc, kc, next[r]);
                        }
                      }
                    }
                    return next;
                  });
              SmallVector<Value> out;
              for (int64_t r = 0; r < p.rows; ++r) {
                Value s = vector::ReductionOp::create(
                    b, loc, vector::CombiningKind::ADD, dots.getResult(r));
                if (spec.softcap)
                  s = softcap(e, s);
                if (mask) {
                  // After the soft-cap: bool false -> -inf, float added
                  // (in base 2, like the scores).
                  Value h = e.add(headBase, e.index(r / p.qLen));
                  Value i = e.index(r % p.qLen);
                  Value m = memref::LoadOp::create(
                      b, loc, mask, maskIndices(e, mask, {seq, h, i, key}));
                  if (m.getType().isInteger(1))
                    s = select(e, m, s, negInf);
                  else
                    s = e.fadd(s, e.fmul(e.toF32(m), e.f32(M_LOG2E)));
                }
                if (p.qLen > 1) {
                  // Each query row has its own causal/window bounds.
                  int64_t i = r % p.qLen;
                  Value in = arith::AndIOp::create(
                      b, loc, e.cmp(arith::CmpIPredicate::sge, key, lo[i]),
                      e.cmp(arith::CmpIPredicate::slt, key, hi[i]));
                  s = select(e, in, s, negInf);
                }
                out.push_back(s);
              }
              return out;
            },
            [&] { return SmallVector<Value>(p.rows, negInf); });
        for (int64_t r = 0; r < p.rows; ++r)
          memref::StoreOp::create(
              b, loc, scores[r], ss,
              ValueRange{e.add(tid, e.index(r * p.threads))});
        barrier(e);

        // (B) per row, one warp: tile max, probabilities, running sum.
        int64_t warps = p.threads / 32, perLane = p.threads / 32;
        for (int64_t r = 0; r < p.rows; ++r) {
          Value mine =
              e.cmp(arith::CmpIPredicate::eq, warp, e.index(r % warps));
          ifThen(e, mine, [&] {
            SmallVector<Value> addr, vals;
            for (int64_t k = 0; k < perLane; ++k) {
              addr.push_back(e.add(lane, e.index(r * p.threads + 32 * k)));
              vals.push_back(
                  memref::LoadOp::create(b, loc, ss, ValueRange{addr.back()}));
            }
            Value mx = vals[0];
            for (int64_t k = 1; k < perLane; ++k)
              mx = arith::MaximumFOp::create(b, loc, mx, vals[k]);
            mx = warpReduce(e, mx, /*max=*/true);
            Value row = e.index(r);
            Value mOld = memref::LoadOp::create(b, loc, ms, ValueRange{row});
            Value mNew = arith::MaximumFOp::create(b, loc, mOld, mx);
            // With several query rows or a mask, a row may have no
            // visible key so far (max -inf): subtract 0 so that
            // 2^(-inf - m) is 0, not NaN. A single unmasked row sees key
            // t0 of every tile.
            Value mSafe = mNew;
            if (p.qLen > 1 || mask)
              mSafe =
                  select(e, fcmp(e, arith::CmpFPredicate::OEQ, mNew, negInf),
                         zero, mNew);
            Value alpha = exp2(e, arith::SubFOp::create(b, loc, mOld, mSafe));
            Value sum = zero;
            for (int64_t k = 0; k < perLane; ++k) {
              Value pr = exp2(e, arith::SubFOp::create(b, loc, vals[k], mSafe));
              memref::StoreOp::create(b, loc, pr, ss, ValueRange{addr[k]});
              sum = e.fadd(sum, pr);
            }
            sum = warpReduce(e, sum, /*max=*/false);
            Value lOld = memref::LoadOp::create(b, loc, ls, ValueRange{row});
            ifThen(e, e.cmp(arith::CmpIPredicate::eq, lane, e.index(0)), [&] {
              Value lNew = e.fadd(e.fmul(lOld, alpha), sum);
              memref::StoreOp::create(b, loc, lNew, ls, ValueRange{row});
              memref::StoreOp::create(b, loc, mNew, ms, ValueRange{row});
              memref::StoreOp::create(b, loc, alpha, as, ValueRange{row});
            });
          });
        }
        barrier(e);

        // (C) acc = acc * alpha + P.V over this tile's keys.
        Value keys = e.minS(e.sub(end, t0), e.index(p.threads));
        SmallVector<Value> next;
        constexpr int64_t kKeysInFlight = 4;
        for (int64_t k = 0; k < p.slotsPerThread; ++k) {
          ValueRange updated = ifThenElse(
              e, {vecF32}, slotValid[k],
              [&] {
                Value alpha =
                    memref::LoadOp::create(b, loc, as, ValueRange{slotRow[k]});
                Value a0 = arith::MulFOp::create(b, loc, accs[k],
                                                 bcast(e, vecF32, alpha));
                Value pBase = e.mul(slotRow[k], e.index(p.threads));
                auto pv = forLoop(
                    e, group, keys, e.index(p.keyGroups * kKeysInFlight), {a0},
                    [&](Value jj, ValueRange pa) {
                      SmallVector<Value> probs, rowsV;
                      for (int64_t u = 0; u < kKeysInFlight; ++u) {
                        // Keys past the tile end: a valid key, weight 0.
                        Value ju = e.add(jj, e.index(u * p.keyGroups));
                        Value ok = e.cmp(arith::CmpIPredicate::slt, ju, keys);
                        Value jc = select(e, ok, ju, jj);
                        Value pr = memref::LoadOp::create(
                            b, loc, ss, ValueRange{e.add(pBase, jc)});
                        probs.push_back(select(e, ok, pr, zero));
                        if (vs) {
                          Value at = e.add(e.mul(jc, e.index(p.stageRow())),
                                           slotCol[k]);
                          rowsV.push_back(
                              e.toF32(vload(e, vecRaw, vs, {at}, 16)));
                        } else {
                          rowsV.push_back(
                              loadRow(vpool, rowOf(e.add(t0, jc)), slotCol[k]));
                        }
                      }
                      Value acc = pa[0];
                      for (int64_t u = 0; u < kKeysInFlight; ++u)
                        acc = vector::FMAOp::create(
                            b, loc, bcast(e, vecF32, probs[u]), rowsV[u], acc);
                      return SmallVector<Value>{acc};
                    });
                return SmallVector<Value>{pv.getResult(0)};
              },
              [&] { return SmallVector<Value>{accs[k]}; });
          next.push_back(updated[0]);
        }
        // The next tile overwrites the scores (and staged V rows).
        barrier(e);
        return next;
      });

  // Thread groups that took different keys of the same slot add up.
  SmallVector<Value> writes(slotValid);
  if (p.keyGroups > 1) {
    ifThen(e, slotValid[0], [&] {
      vstore(e, tiles.getResult(0), rs, {e.mul(tid, e.index(V))}, 16);
    });
    barrier(e);
    writes[0] = arith::AndIOp::create(
        b, loc, slotValid[0],
        e.cmp(arith::CmpIPredicate::eq, group, e.index(0)));
  }
  for (int64_t k = 0; k < p.slotsPerThread; ++k) {
    ifThen(e, writes[k], [&] {
      Value acc = tiles.getResult(k);
      for (int64_t g = 1; g < p.keyGroups; ++g)
        acc = e.fadd(
            acc,
            vload(e, vecF32, rs,
                  {e.mul(e.add(tid, e.index(g * p.slots)), e.index(V))}, 16));
      Value l = memref::LoadOp::create(b, loc, ls, ValueRange{slotRow[k]});
      Value inv = select(e, fcmp(e, arith::CmpFPredicate::OGT, l, zero),
                         arith::DivFOp::create(b, loc, one, l), zero);
      Value o = arith::MulFOp::create(b, loc, acc, bcast(e, vecF32, inv));
      Value h = e.add(headBase, divU(e, slotRow[k], p.qLen));
      Value i = remU(e, slotRow[k], p.qLen);
      if (split) {
        vstore(e, o, opart, {seq, h, i, splitId, slotCol[k]}, 16);
      } else {
        o = e.fromF32(o, p.outElement);
        int64_t bytes = V * p.outElement.getIntOrFloatBitWidth() / 8;
        vstore(e, o, opart, {seq, h, i, slotCol[k]},
               std::min<int64_t>(bytes, 16));
      }
    });
  }
  if (split) {
    // Base-2 log-sum-exp of the split; -inf when it saw no key.
    ifThen(e, isRowThread, [&] {
      Value l = memref::LoadOp::create(b, loc, ls, ValueRange{tid});
      Value m = memref::LoadOp::create(b, loc, ms, ValueRange{tid});
      Value lse = select(e, fcmp(e, arith::CmpFPredicate::OGT, l, zero),
                         e.fadd(m, log2(e, l)), negInf);
      Value h = e.add(headBase, divU(e, tid, p.qLen));
      Value i = remU(e, tid, p.qLen);
      memref::StoreOp::create(b, loc, lse, lpart,
                              ValueRange{seq, h, i, splitId});
    });
  }
  gpu::ReturnOp::create(b, loc);
  return kernel;
}

gpu::GPUFuncOp DecodeLowering::buildMerge(OpBuilder &b, TypeRange types) {
  Location loc = spec.op->getLoc();
  int32_t threads = static_cast<int32_t>(p.valueDim);
  gpu::GPUFuncOp kernel =
      createKernel(b, module, "decode_merge", types, {threads, 1, 1});
  OpBuilder::InsertionGuard guard(b);
  Block &body = kernel.getBody().front();
  b.setInsertionPointToStart(&body);
  LoopEmitter e(b, loc);
  Value opart = body.getArgument(0), lpart = body.getArgument(1),
        out = body.getArgument(2);
  Value d = threadId(e);
  Value i = blockId(e, gpu::Dimension::x);
  Value h = blockId(e, gpu::Dimension::y);
  Value seq = blockId(e, gpu::Dimension::z);
  Value negInf = e.negInf(), zero = e.f32(0.0);
  Value c0 = e.index(0), c1 = e.index(1), n = e.index(p.splits);
  auto mx = forLoop(e, c0, n, c1, {negInf}, [&](Value s, ValueRange m) {
    Value x = memref::LoadOp::create(b, loc, lpart, ValueRange{seq, h, i, s});
    return SmallVector<Value>{arith::MaximumFOp::create(b, loc, m[0], x)};
  });
  Value m = mx.getResult(0);
  // All splits empty: weights 2^(-inf - 0) = 0 and the row is 0.
  Value isEmpty =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, negInf);
  Value mSafe = arith::SelectOp::create(b, loc, isEmpty, zero, m);
  auto sums = forLoop(e, c0, n, c1, {zero, zero}, [&](Value s, ValueRange acc) {
    Value x = memref::LoadOp::create(b, loc, lpart, ValueRange{seq, h, i, s});
    Value w = exp2(e, arith::SubFOp::create(b, loc, x, mSafe));
    Value o =
        memref::LoadOp::create(b, loc, opart, ValueRange{seq, h, i, s, d});
    return SmallVector<Value>{e.fadd(acc[0], w), e.fadd(acc[1], e.fmul(w, o))};
  });
  Value w = sums.getResult(0), a = sums.getResult(1);
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, w, zero);
  Value r = arith::SelectOp::create(b, loc, positive,
                                    arith::DivFOp::create(b, loc, a, w), zero);
  memref::StoreOp::create(b, loc, e.fromF32(r, p.outElement), out,
                          ValueRange{seq, h, i, d});
  gpu::ReturnOp::create(b, loc);
  return kernel;
}

void DecodeLowering::emit(OpBuilder &b, const GpuCacheView &view, Value lens) {
  Location loc = spec.op->getLoc();
  SmallVector<Value> operands = {spec.query, view.keys, view.values, view.table,
                                 lens};
  if (spec.mask)
    operands.push_back(spec.mask);
  Value opart, lpart;
  if (p.splits > 1) {
    Type f32 = b.getF32Type();
    opart = memref::AllocOp::create(
        b, loc,
        MemRefType::get({p.batch, p.qHeads, p.qLen, p.splits, p.valueDim},
                        f32));
    lpart = memref::AllocOp::create(
        b, loc, MemRefType::get({p.batch, p.qHeads, p.qLen, p.splits}, f32));
    operands.append({opart, lpart});
  } else {
    operands.push_back(spec.out);
  }
  gpu::GPUFuncOp partial = buildPartial(b, TypeRange(ValueRange(operands)));
  int32_t T = static_cast<int32_t>(p.threads);
  launchKernel(b, loc, partial, {p.splits, p.kvHeads, p.batch}, {T, 1, 1},
               operands);
  if (p.splits == 1)
    return;
  Value mergeOperands[] = {opart, lpart, spec.out};
  gpu::GPUFuncOp merge = buildMerge(b, TypeRange(ValueRange(mergeOperands)));
  launchKernel(b, loc, merge, {p.qLen, p.qHeads, p.batch},
               {static_cast<int32_t>(p.valueDim), 1, 1}, mergeOperands);
}

struct NvvmLowerDecodePass
    : kv::impl::NvvmLowerDecodePassBase<NvvmLowerDecodePass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    std::optional<GpuTarget> parsed = GpuTarget::parse(target, error);
    if (!parsed) {
      getOperation().emitError("kv-nvvm-lower-decode: ") << error;
      return signalPassFailure();
    }
    gpuTarget = *parsed;
    if (threads != 64 && threads != 128 && threads != 256) {
      getOperation().emitError("kv-nvvm-lower-decode: threads must be 64, "
                               "128 or 256, got ")
          << static_cast<int64_t>(threads);
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<CacheAttentionOp, AppendAttentionOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops)
      if (failed(lower(op)))
        return signalPassFailure();
  }

  /// The plan for `op`, nullopt to leave it (not decode-sized), failure
  /// when it is decode-sized but unsupported (diagnosed).
  FailureOr<std::optional<DecodePlan>> plan(Operation *op);
  LogicalResult lower(Operation *op);

  GpuTarget gpuTarget;
};

FailureOr<std::optional<DecodePlan>> NvvmLowerDecodePass::plan(Operation *op) {
  auto iface = cast<AttentionOpInterface>(op);
  Value query = op->getOperand(0);
  auto qType = dyn_cast<MemRefType>(query.getType());
  // Tensor forms are bufferized first; dynamic query lengths are not decode.
  if (!qType || qType.getRank() != 4 ||
      ShapedType::isDynamic(qType.getDimSize(2)) ||
      ShapedType::isDynamic(qType.getDimSize(1)))
    return std::optional<DecodePlan>();
  if (iface.getNumPackedHeads() > 1)
    return op->emitOpError(
        "has GQA-packed query heads (packed_heads > 1, from kv-pack-gqa, a "
        "CPU pass); the GPU kernels pack the group themselves");
  auto fused = dyn_cast<AppendAttentionOp>(op);
  auto cached = dyn_cast<CacheAttentionOp>(op);
  CacheType cache = fused ? fused.getCacheType() : cached.getCacheType();
  DecodePlan p;
  p.qHeads = qType.getDimSize(1);
  p.qLen = qType.getDimSize(2);
  p.kvHeads = iface.getNumKvHeads();
  if (p.kvHeads <= 0 || p.qHeads % p.kvHeads)
    return std::optional<DecodePlan>();
  p.group = p.qHeads / p.kvHeads;
  p.rows = p.group * p.qLen;
  if (p.rows > maxRows)
    return std::optional<DecodePlan>();

  auto fail = [&](auto &&...parts) -> FailureOr<std::optional<DecodePlan>> {
    InFlightDiagnostic diag = op->emitOpError();
    (diag << ... << parts);
    return failure();
  };
  if (cache.isQuantized())
    return fail("quantised caches are not lowered to the GPU yet");
  if (iface.getLseOutputInit())
    return fail("returns its log-sum-exp or split partials, which the GPU "
                "decode kernels do not write (they split the keys "
                "themselves; kv-split-kv is for the CPU pipeline)");
  Type element = cache.getElementType();
  if (!element.isF32() && !element.isF16() && !element.isBF16())
    return fail("expects an f32, f16 or bf16 cache on the GPU, got ", element);
  Value mask = fused ? fused.getMask() : cached.getMask();
  if (mask) {
    Type m = cast<ShapedType>(mask.getType()).getElementType();
    if (!m.isInteger(1) && !isa<FloatType>(m))
      return fail("expects an i1 or float mask on the GPU, got ", m);
  }
  SmallVector<Value> operands = {
      query, fused ? fused.getInit() : cached.getInit(),
      fused ? fused.getPastLens() : cached.getKvLens()};
  if (mask)
    operands.push_back(mask);
  if (fused)
    operands.append({fused.getKey(), fused.getValue()});
  for (Value v : operands)
    if (std::string problem = kernelOperandProblem(v); !problem.empty())
      return fail("GPU kernel operands need ", problem, ", got ", v.getType());
  p.batch = qType.getDimSize(0);
  p.headDim = iface.getKeyHeadDim();
  p.valueDim = iface.getValueHeadDim();
  p.capacity = cache.getCapacity();
  p.pageSize = cache.getPageSize();
  p.pagesPerSeq = cache.getPagesPerSequence();
  if (fused)
    p.newTokens = fused.getNumNewTokens();
  p.cacheElement = element;
  p.outElement = cast<MemRefType>(operands[1].getType()).getElementType();
  p.vec = 16 / p.elementBytes();
  if (p.headDim % p.vec || p.valueDim % p.vec)
    return fail("expects head dims that are multiples of ", p.vec,
                " (16-byte vectors of ", element, "), got D = ", p.headDim,
                ", Dv = ", p.valueDim);
  if (p.valueDim > gpuTarget.maxThreadsPerBlock)
    return fail("expects a value head dim of at most ",
                gpuTarget.maxThreadsPerBlock, ", got ", p.valueDim);
  p.threads = threads;
  if (p.rows > p.threads)
    return fail("expects at most ", p.threads,
                " packed query rows per block, got ", p.rows);

  // Splits: enough blocks for about four per SM, none shorter than a tile.
  int64_t tilesPerSeq = ceilDiv(p.capacity, p.threads);
  int64_t wanted =
      splits > 0 ? splits : ceilDiv(4 * gpuTarget.smCount, p.batch * p.kvHeads);
  wanted = std::max<int64_t>(1, std::min(wanted, tilesPerSeq));
  p.chunk = ceilDiv(ceilDiv(p.capacity, wanted), p.threads) * p.threads;
  p.splits = ceilDiv(p.capacity, p.chunk);

  p.slices = p.valueDim / p.vec;
  p.slots = p.rows * p.slices;
  if (p.slots <= p.threads) {
    p.keyGroups = p.threads / p.slots;
    p.slotsPerThread = 1;
  } else {
    p.keyGroups = 1;
    p.slotsPerThread = ceilDiv(p.slots, p.threads);
  }
  // About 64 registers of K loads in flight and at most 64 of dot
  // accumulators.
  int64_t maxUnroll = stageV ? 4 : 8;
  p.loadUnroll = 1;
  for (int64_t u = 1; u <= maxUnroll; ++u)
    if ((p.headDim / p.vec) % u == 0 && u * p.vec <= 64)
      p.loadUnroll = u;
  if (loadUnroll > 0) {
    if ((p.headDim / p.vec) % loadUnroll)
      return fail("load-unroll ", static_cast<int64_t>(loadUnroll),
                  " does not divide the ", p.headDim / p.vec,
                  " vectors of a key row");
    p.loadUnroll = loadUnroll;
  }
  p.accWidth = p.vec;
  while (p.accWidth > 2 && p.rows * p.accWidth > 64)
    p.accWidth /= 2;

  // ptxas aims at the occupancy step just below a kernel's register demand;
  // a demand a little above 96 registers (D1: 4 rows x 8 accumulator lanes
  // + 8 loads of 8 lanes) made it spill a few bytes to fit 96. An explicit
  // budget of 128 (4 blocks of 128 threads per SM) avoids that; elsewhere
  // ptxas decides.
  int64_t demand =
      p.rows * p.accWidth + p.loadUnroll * p.vec * (stageV ? 2 : 1);
  p.maxRegisters = maxRegisters >= 0               ? maxRegisters
                   : demand >= 80 && demand <= 100 ? 128
                                                   : 0;

  int64_t limit = gpuTarget.sharedBytesPerBlock;
  if (p.sharedBytes(false) > limit)
    return fail("needs ", p.sharedBytes(false),
                " bytes of shared memory per block, the target has ", limit);
  // Staged V rows only when they fit beside the rest (1 KB to spare).
  p.stageV = stageV && p.sharedBytes(true) <= limit - 1024;
  return std::optional<DecodePlan>(p);
}

LogicalResult NvvmLowerDecodePass::lower(Operation *op) {
  FailureOr<std::optional<DecodePlan>> planned = plan(op);
  if (failed(planned))
    return failure();
  if (!*planned)
    return success();
  const DecodePlan &p = **planned;
  OpBuilder b(op);
  std::optional<AttentionSpec> spec = describeAttention(op, b);
  if (!spec)
    return op->emitOpError("is not in memref form");
  auto view = cast<CacheViewOp>(spec->keys.memref.getDefiningOp());
  GpuCacheView gpuView = createGpuCacheView(b, op->getLoc(), view, p.batch);
  Value lens = spec->kvLens;
  if (auto fused = dyn_cast<AppendAttentionOp>(op)) {
    // The step's rows go into the cache first; the attention reads them
    // back (rounded to the cache type, as the unfused path does).
    launchAppendKernel(b, getOperation(), op->getLoc(), fused.getKey(),
                       fused.getValue(), fused.getCacheType(), gpuView,
                       fused.getPastLens());
    lens = fused.getPastLens();
  }
  DecodeLowering(getOperation(), *spec, p).emit(b, gpuView, lens);
  op->erase();
  return success();
}

} // namespace
