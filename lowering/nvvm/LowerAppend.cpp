//===- LowerAppend.cpp - kv.append to a GPU kernel
//-------------------------===//
//
// One block per (KV head, sequence) writes the step's rows into the cache
// pools at tokens lens[b] + t, through the page table, converted to the
// cache's element type. Writes are guarded below the capacity: the runtime
// reports overflow before a step, and the kernel never writes out of bounds.
//
//===----------------------------------------------------------------------===//

#include "lowering/nvvm/LowerAppend.h"

#include "dialects/kv/KvOps.h"
#include "lowering/Passes.h"
#include "lowering/nvvm/GpuEmitter.h"
#include "lowering/nvvm/GpuTarget.h"
#include "lowering/nvvm/KernelModule.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mlir::kv {
#define GEN_PASS_DEF_NVVMLOWERAPPENDPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

static constexpr int32_t kAppendThreads = 128;

GpuCacheView mlir::kv::createGpuCacheView(OpBuilder &b, Location loc,
                                          CacheViewOp view, int64_t batch) {
  CacheType type = view.getCacheType();
  int64_t pps = type.getPagesPerSequence();
  auto staticOf = [&](Value v, int64_t lead) -> Value {
    auto t = cast<MemRefType>(v.getType());
    SmallVector<int64_t> shape(t.getShape());
    shape[0] = lead;
    return memref::CastOp::create(
        b, loc, MemRefType::get(shape, t.getElementType()), v);
  };
  return {staticOf(view.getKeyPool(), batch * pps),
          staticOf(view.getValuePool(), batch * pps),
          staticOf(view.getPageTable(), batch)};
}

std::string mlir::kv::kernelOperandProblem(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type)
    return "a memref";
  if (!type.hasStaticShape())
    return "a static shape";
  if (!type.getLayout().isIdentity())
    return "an identity layout";
  return "";
}

/// Copies rows [B, H, S, width] of `src` into `pool` for this block's
/// (head, batch), `n` elements per thread stride.
static void emitRowCopy(LoopEmitter &e, Value src, Value pool, Value table,
                        CacheType cache, Value tid, Value head, Value batch,
                        Value past) {
  using namespace gpuemit;
  auto type = cast<MemRefType>(src.getType());
  int64_t tokens = type.getDimSize(2), width = type.getDimSize(3);
  int64_t pageSize = cache.getPageSize();
  Type element = cache.getElementType();
  forLoop(e, tid, e.index(tokens * width), e.index(kAppendThreads), {},
          [&](Value i, ValueRange) {
            Value t = arith::DivUIOp::create(e.b, e.loc, i, e.index(width));
            Value d = arith::RemUIOp::create(e.b, e.loc, i, e.index(width));
            Value pos = e.add(past, t);
            // Unsigned: a negative length is out of bounds too.
            Value inBounds = e.cmp(arith::CmpIPredicate::ult, pos,
                                   e.index(cache.getCapacity()));
            ifThen(e, inBounds, [&] {
              Value slot =
                  arith::DivUIOp::create(e.b, e.loc, pos, e.index(pageSize));
              Value within =
                  arith::RemUIOp::create(e.b, e.loc, pos, e.index(pageSize));
              Value page = e.loadIndex(table, {batch, slot});
              Value x = memref::LoadOp::create(e.b, e.loc, src,
                                               ValueRange{batch, head, t, d});
              if (x.getType() != element)
                x = e.fromF32(e.toF32(x), element);
              memref::StoreOp::create(e.b, e.loc, x, pool,
                                      ValueRange{page, head, within, d});
            });
            return SmallVector<Value>{};
          });
}

void mlir::kv::launchAppendKernel(OpBuilder &b, ModuleOp module, Location loc,
                                  Value key, Value value, CacheType cache,
                                  const GpuCacheView &view, Value lens) {
  auto keyType = cast<MemRefType>(key.getType());
  int64_t batch = keyType.getDimSize(0), heads = keyType.getDimSize(1);
  Value operands[] = {key, value, view.keys, view.values, view.table, lens};
  gpu::GPUFuncOp kernel =
      createKernel(b, module, "kv_append", TypeRange(ValueRange(operands)),
                   {kAppendThreads, 1, 1});
  {
    OpBuilder::InsertionGuard guard(b);
    Block &body = kernel.getBody().front();
    b.setInsertionPointToStart(&body);
    LoopEmitter e(b, loc);
    Value tid = gpuemit::threadId(e);
    Value head = gpuemit::blockId(e, gpu::Dimension::x);
    Value seq = gpuemit::blockId(e, gpu::Dimension::y);
    Value past = e.loadIndex(body.getArgument(5), {seq});
    emitRowCopy(e, body.getArgument(0), body.getArgument(2),
                body.getArgument(4), cache, tid, head, seq, past);
    emitRowCopy(e, body.getArgument(1), body.getArgument(3),
                body.getArgument(4), cache, tid, head, seq, past);
    gpu::ReturnOp::create(b, loc);
  }
  launchKernel(b, loc, kernel, {heads, batch, 1}, {kAppendThreads, 1, 1},
               operands);
}

namespace {
struct NvvmLowerAppendPass
    : kv::impl::NvvmLowerAppendPassBase<NvvmLowerAppendPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    if (!GpuTarget::parse(target, error)) {
      getOperation().emitError("kv-nvvm-lower-append: ") << error;
      return signalPassFailure();
    }
    SmallVector<AppendOp> appends;
    getOperation().walk([&](AppendOp op) { appends.push_back(op); });
    for (AppendOp op : appends) {
      if (failed(lower(op)))
        return signalPassFailure();
    }
  }

  LogicalResult lower(AppendOp op) {
    CacheType cache = op.getCacheType();
    if (cache.isQuantized())
      return op.emitOpError("quantised caches are not lowered to the GPU yet");
    Type element = cache.getElementType();
    if (!element.isF32() && !element.isF16() && !element.isBF16())
      return op.emitOpError(
                 "expects an f32, f16 or bf16 cache on the GPU, got ")
             << element;
    for (Value v : {op.getKey(), op.getValue(), op.getLens()})
      if (std::string problem = kernelOperandProblem(v); !problem.empty())
        return op.emitOpError("GPU kernel operands need ")
               << problem << ", got " << v.getType();
    OpBuilder b(op);
    int64_t batch = cast<MemRefType>(op.getKey().getType()).getDimSize(0);
    auto cacheView = CacheViewOp::create(b, op.getLoc(), op.getCache());
    GpuCacheView view = createGpuCacheView(b, op.getLoc(), cacheView, batch);
    launchAppendKernel(b, getOperation(), op.getLoc(), op.getKey(),
                       op.getValue(), cache, view, op.getLens());
    op.erase();
    return success();
  }
};
} // namespace
