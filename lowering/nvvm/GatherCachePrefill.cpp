//===- GatherCachePrefill.cpp - prefill against a cache on the GPU --------===//
//
// Prefill with a KV cache (a prompt attending to the cache it has just been
// appended to) is compute-bound: its attention does O(Sq) work per key. So
// instead of teaching the tensor-core kernel page tables, the cache is
// gathered once into dense scratch and the dense kernel runs on it. The
// decode lowering keeps the bandwidth-bound short queries.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Passes.h"
#include "lowering/common/LoopEmitter.h"
#include "lowering/nvvm/GpuEmitter.h"
#include "lowering/nvvm/GpuTarget.h"
#include "lowering/nvvm/KernelModule.h"
#include "lowering/nvvm/LowerAppend.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::kv {
#define GEN_PASS_DEF_NVVMGATHERCACHEPREFILLPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

constexpr int32_t kThreads = 128;
constexpr int64_t kRowsPerBlock = 32;

/// Copies the rows [tile * 32, tile * 32 + 32) of one (head, sequence) from a
/// pool into dense `[B, H, capacity, width]`, zero past `length`.
void emitGather(LoopEmitter &e, Value pool, Value table, Value dense,
                CacheType cache, Value tile, Value head, Value seq,
                Value length, Value tid) {
  using namespace gpuemit;
  auto type = cast<MemRefType>(dense.getType());
  int64_t width = type.getDimSize(3), capacity = cache.getCapacity();
  Type element = type.getElementType();
  forLoop(
      e, tid, e.index(kRowsPerBlock * width), e.index(kThreads), {},
      [&](Value i, ValueRange) {
        Value row = arith::DivUIOp::create(e.b, e.loc, i, e.index(width));
        Value d = arith::RemUIOp::create(e.b, e.loc, i, e.index(width));
        Value t = e.add(e.mul(tile, e.index(kRowsPerBlock)), row);
        Value inCache =
            e.cmp(arith::CmpIPredicate::ult, t, e.index(capacity));
        ifThen(e, inCache, [&] {
          Value valid = e.cmp(arith::CmpIPredicate::slt, t, length);
          Value x = ifThenElse(
              e, element, valid,
              [&]() -> SmallVector<Value> {
                Value slot = arith::DivUIOp::create(
                    e.b, e.loc, t, e.index(cache.getPageSize()));
                Value within = arith::RemUIOp::create(
                    e.b, e.loc, t, e.index(cache.getPageSize()));
                Value page = e.loadIndex(table, {seq, slot});
                Value v = memref::LoadOp::create(
                    e.b, e.loc, pool, ValueRange{page, head, within, d});
                if (v.getType() != element)
                  v = e.fromF32(e.toF32(v), element);
                return {v};
              },
              [&]() -> SmallVector<Value> {
                return {arith::ConstantOp::create(
                    e.b, e.loc, e.b.getZeroAttr(element))};
              })[0];
          memref::StoreOp::create(e.b, e.loc, x, dense,
                                  ValueRange{seq, head, t, d});
        });
        return SmallVector<Value>{};
      });
}

struct NvvmGatherCachePrefillPass
    : kv::impl::NvvmGatherCachePrefillPassBase<NvvmGatherCachePrefillPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    if (!GpuTarget::parse(target, error)) {
      getOperation().emitError("kv-nvvm-gather-cache-prefill: ") << error;
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<CacheAttentionOp, AppendAttentionOp>(op) &&
          !op->getParentOfType<gpu::GPUModuleOp>())
        ops.push_back(op);
    });
    for (Operation *op : ops)
      if (failed(lower(op)))
        return signalPassFailure();
  }

  LogicalResult lower(Operation *op) {
    auto append = dyn_cast<AppendAttentionOp>(op);
    auto cacheAttention = dyn_cast<CacheAttentionOp>(op);
    Value query = append ? append.getQuery() : cacheAttention.getQuery();
    Value cacheValue = append ? append.getCache() : cacheAttention.getCache();
    Value mask = append ? append.getMask() : cacheAttention.getMask();
    Value out = append ? append.getInit() : cacheAttention.getInit();
    Value lengths = append ? append.getPastLens() : cacheAttention.getKvLens();
    auto cache = cast<CacheType>(cacheValue.getType());
    if (op->getNumResults())
      return op->emitOpError("expects the memref (bufferized) form");
    if (cast<AttentionOpInterface>(op).getLseOutputInit())
      return op->emitOpError("returns its log-sum-exp or split partials, "
                             "which the GPU prefill kernels do not write");
    if (cast<AttentionOpInterface>(op).getNumPackedHeads() > 1)
      return op->emitOpError(
          "has GQA-packed query heads (packed_heads > 1, from kv-pack-gqa, a "
          "CPU pass); the GPU kernels pack the group themselves");
    if (cache.isQuantized())
      return op->emitOpError("quantised caches are not lowered to the GPU yet");
    for (Value v : {query, out, lengths, mask})
      if (v)
        if (std::string problem = kernelOperandProblem(v); !problem.empty())
          return op->emitOpError("GPU kernel operands need ")
                 << problem << ", got " << v.getType();
    if (mask)
      return op->emitOpError("explicit masks on a cache are not lowered to "
                             "the GPU yet");
    auto qType = cast<MemRefType>(query.getType());
    int64_t batch = qType.getDimSize(0), qLen = qType.getDimSize(2);
    int64_t heads = cache.getHeads(), capacity = cache.getCapacity();
    // Dense K/V in the query's type when the cache has it (tensor cores for
    // f16/bf16), else f32.
    Type qElement = qType.getElementType();
    Type element = cache.getElementType() == qElement
                       ? qElement
                       : Float32Type::get(op->getContext());
    if (element != qElement)
      return op->emitOpError("expects an f32 query, or a query of the "
                             "cache's element type, got ")
             << qElement << " against a " << cache.getElementType()
             << " cache";

    OpBuilder b(op);
    Location loc = op->getLoc();
    ModuleOp module = getOperation();
    auto view = CacheViewOp::create(b, loc, cacheValue);
    GpuCacheView pools = createGpuCacheView(b, loc, view, batch);
    if (append)
      launchAppendKernel(b, module, loc, append.getKey(), append.getValue(),
                         cache, pools, lengths);

    auto dense = [&](int64_t width) {
      return memref::AllocOp::create(
          b, loc,
          MemRefType::get({batch, heads, capacity, width}, element));
    };
    Value keys = dense(cache.getHeadDim());
    Value values = dense(cache.getValueHeadDim());
    auto lensType = MemRefType::get({batch}, b.getI32Type());
    Value kvLens = memref::AllocOp::create(b, loc, lensType);
    Value offsets = memref::AllocOp::create(b, loc, lensType);

    Value operands[] = {pools.keys, pools.values, pools.table, lengths,
                        keys,       values,       kvLens,      offsets};
    gpu::GPUFuncOp kernel =
        createKernel(b, module, "gather_cache", TypeRange(ValueRange(operands)),
                     {kThreads, 1, 1});
    {
      OpBuilder::InsertionGuard guard(b);
      Block &body = kernel.getBody().front();
      b.setInsertionPointToStart(&body);
      LoopEmitter e(b, loc);
      Value tid = gpuemit::threadId(e);
      Value tile = gpuemit::blockId(e, gpu::Dimension::x);
      Value head = gpuemit::blockId(e, gpu::Dimension::y);
      Value seq = gpuemit::blockId(e, gpu::Dimension::z);
      Value given = e.loadIndex(body.getArgument(3), {seq});
      // append_attention: the cache holds past + S after the append kernel;
      // its rows sit at positions past + i (bottom-right).
      Value length = append ? e.add(given, e.index(qLen)) : given;
      Value offset = append ? given : e.sub(given, e.index(qLen));
      emitGather(e, body.getArgument(0), body.getArgument(2),
                 body.getArgument(4), cache, tile, head, seq, length, tid);
      emitGather(e, body.getArgument(1), body.getArgument(2),
                 body.getArgument(5), cache, tile, head, seq, length, tid);
      Value zero = e.index(0);
      Value first = arith::AndIOp::create(
          b, loc,
          arith::AndIOp::create(b, loc,
                                e.cmp(arith::CmpIPredicate::eq, tile, zero),
                                e.cmp(arith::CmpIPredicate::eq, head, zero)),
          e.cmp(arith::CmpIPredicate::eq, tid, zero));
      gpuemit::ifThen(e, first, [&] {
        auto i32 = [&](Value v) {
          return arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
        };
        memref::StoreOp::create(b, loc, i32(length), body.getArgument(6),
                                ValueRange{seq});
        memref::StoreOp::create(b, loc, i32(offset), body.getArgument(7),
                                ValueRange{seq});
      });
      gpu::ReturnOp::create(b, loc);
    }
    launchKernel(b, loc, kernel,
                 {static_cast<int64_t>(llvm::divideCeil(capacity, kRowsPerBlock)),
                  heads, batch},
                 {kThreads, 1, 1}, operands);

    // The score attributes carry over; the position of query row i is
    // offsets[b] + i.
    auto attention = AttentionOp::create(
        b, loc, TypeRange{}, query, keys, values, /*mask=*/Value(), kvLens,
        offsets, out, op->getAttrOfType<FloatAttr>("scale"),
        op->getAttrOfType<FloatAttr>("softcap"),
        op->getAttrOfType<UnitAttr>("causal"),
        op->getAttrOfType<IntegerAttr>("window_left"),
        op->getAttrOfType<IntegerAttr>("window_right"));
    (void)attention;
    op->erase();
    return success();
  }
};

} // namespace
