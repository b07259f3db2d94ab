//===- KvBufferization.cpp - One-shot bufferization of kv ops -------------===//
//
// The attention, merge and load ops are in destination-passing style: their
// results bufferize into the buffers of their inits, like linalg ops (the
// fused append + attention too: its cache is a handle, not a tensor). The
// append reads its tensors and writes only the cache, which is not a tensor.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::kv;

/// Rebuilds `op` with every tensor operand replaced by its buffer and no
/// results; the results become the buffers of `op`'s inits.
static LogicalResult bufferizeOnBuffers(Operation *op, RewriterBase &rewriter,
                                        const BufferizationOptions &options,
                                        BufferizationState &state) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  SmallVector<Value> operands;
  for (Value operand : op->getOperands()) {
    if (!isa<TensorType>(operand.getType())) {
      operands.push_back(operand);
      continue;
    }
    FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
    if (failed(buffer))
      return failure();
    operands.push_back(*buffer);
  }
  SmallVector<Value> results;
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
    for (OpOperand &init : dps.getDpsInitsMutable())
      results.push_back(operands[init.getOperandNumber()]);
  OperationState bufferized(op->getLoc(), op->getName(), operands,
                            TypeRange{}, op->getAttrs());
  rewriter.create(bufferized);
  replaceOpWithBufferizedValues(rewriter, op, results);
  return success();
}

namespace {
template <typename OpTy>
struct DpsModel
    : DstBufferizableOpInterfaceExternalModel<DpsModel<OpTy>, OpTy> {
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    return bufferizeOnBuffers(op, rewriter, options, state);
  }
};

struct AppendModel
    : BufferizableOpInterface::ExternalModel<AppendModel, AppendOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &,
                                      const AnalysisState &) const {
    return {};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    return bufferizeOnBuffers(op, rewriter, options, state);
  }
};
} // namespace

void mlir::kv::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, KvDialect *) {
    AttentionOp::attachInterface<DpsModel<AttentionOp>>(*context);
    PartialAttentionOp::attachInterface<DpsModel<PartialAttentionOp>>(
        *context);
    CacheAttentionOp::attachInterface<DpsModel<CacheAttentionOp>>(*context);
    AppendAttentionOp::attachInterface<DpsModel<AppendAttentionOp>>(
        *context);
    MergeOp::attachInterface<DpsModel<MergeOp>>(*context);
    LoadOp::attachInterface<DpsModel<LoadOp>>(*context);
    AppendOp::attachInterface<AppendModel>(*context);
  });
}
