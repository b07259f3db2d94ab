//===- GpuEmitter.h - small builders shared by the NVVM kernels -*- C++ -*-===//
//
// Thread/block ids, barriers, warp-shuffle reductions, the PTX exp2/log2
// approximations (so that no kernel needs libdevice) and structured-control
// helpers that build scf.for / scf.if bodies through one builder, for the
// kernels the NVVM lowerings emit into the gpu dialect.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_NVVM_GPUEMITTER_H
#define KVFUSE_LOWERING_NVVM_GPUEMITTER_H

#include "lowering/common/LoopEmitter.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::kv::gpuemit {

inline Value threadId(LoopEmitter &e, gpu::Dimension d = gpu::Dimension::x) {
  return gpu::ThreadIdOp::create(e.b, e.loc, d);
}
inline Value blockId(LoopEmitter &e, gpu::Dimension d) {
  return gpu::BlockIdOp::create(e.b, e.loc, d);
}
inline void barrier(LoopEmitter &e) { gpu::BarrierOp::create(e.b, e.loc); }

/// One PTX instruction `op $0, $1;` on an f32.
inline Value ptxUnary(LoopEmitter &e, StringRef op, Value x) {
  std::string code = (op + " $0, $1;").str();
  auto inst =
      NVVM::InlinePtxOp::create(e.b, e.loc, TypeRange{e.b.getF32Type()},
                                ValueRange{x}, ValueRange{}, code, Value());
  return inst->getResult(0);
}
/// 2^x with one `ex2.approx.ftz.f32` (2^-inf = 0).
inline Value exp2(LoopEmitter &e, Value x) {
  return ptxUnary(e, "ex2.approx.ftz.f32", x);
}
/// log2(x) with one `lg2.approx.ftz.f32`.
inline Value log2(LoopEmitter &e, Value x) {
  return ptxUnary(e, "lg2.approx.ftz.f32", x);
}

/// Butterfly reduction of an f32 over the 32 lanes of a warp; every lane
/// gets the result.
inline Value warpReduce(LoopEmitter &e, Value x, bool max) {
  for (int32_t offset = 16; offset >= 1; offset /= 2) {
    auto shuffle = gpu::ShuffleOp::create(e.b, e.loc, x, offset, /*width=*/32,
                                          gpu::ShuffleMode::XOR);
    Value other = shuffle.getShuffleResult();
    x = max ? Value(arith::MaximumFOp::create(e.b, e.loc, x, other))
            : e.fadd(x, other);
  }
  return x;
}

/// scf.for lb..ub step `step` carrying `inits`; `body(iv, args)` returns the
/// yielded values (nothing when `inits` is empty).
template <typename Body>
scf::ForOp forLoop(LoopEmitter &e, Value lb, Value ub, Value step,
                   ValueRange inits, Body body) {
  auto loop = scf::ForOp::create(e.b, e.loc, lb, ub, step, inits);
  OpBuilder::InsertionGuard guard(e.b);
  Block *block = loop.getBody();
  if (inits.empty())
    e.b.setInsertionPoint(block->getTerminator());
  else
    e.b.setInsertionPointToStart(block);
  SmallVector<Value> yielded =
      body(loop.getInductionVar(), loop.getRegionIterArgs());
  if (!inits.empty())
    scf::YieldOp::create(e.b, e.loc, yielded);
  return loop;
}

/// scf.if without results.
template <typename Then> void ifThen(LoopEmitter &e, Value cond, Then then) {
  auto op = scf::IfOp::create(e.b, e.loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(e.b);
  e.b.setInsertionPoint(op.thenBlock()->getTerminator());
  then();
}

/// scf.if yielding `types`; each branch returns its values.
template <typename Then, typename Else>
ValueRange ifThenElse(LoopEmitter &e, TypeRange types, Value cond, Then then,
                      Else otherwise) {
  auto op = scf::IfOp::create(e.b, e.loc, types, cond, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(e.b);
  e.b.setInsertionPointToStart(op.thenBlock());
  scf::YieldOp::create(e.b, e.loc, ValueRange(then()));
  e.b.setInsertionPointToStart(op.elseBlock());
  scf::YieldOp::create(e.b, e.loc, ValueRange(otherwise()));
  return op.getResults();
}

} // namespace mlir::kv::gpuemit

#endif // KVFUSE_LOWERING_NVVM_GPUEMITTER_H
