//===- InlineAllocaScopes.cpp - alloca scopes as stack save/restore -------===//
//
// `memref.alloca_scope` (which convert-scf-to-openmp puts around every
// parallel iteration, and the sequential tiles use too) must hold a single
// block, so it cannot survive convert-scf-to-cf once loops inside it become
// branches. This pass inlines each scope between llvm.intr.stacksave and
// llvm.intr.stackrestore first, which is what the LLVM lowering would emit.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kv {
#define GEN_PASS_DEF_CPUINLINEALLOCASCOPESPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;

namespace {
struct InlineAllocaScope : OpRewritePattern<memref::AllocaScopeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::AllocaScopeOp op,
                                PatternRewriter &rewriter) const override {
    Region &body = op.getBodyRegion();
    if (!body.hasOneBlock())
      return rewriter.notifyMatchFailure(op, "expects one block");
    Location loc = op.getLoc();
    auto ptrType = LLVM::LLVMPointerType::get(op.getContext());
    Value saved = LLVM::StackSaveOp::create(rewriter, loc, ptrType);
    Block &block = body.front();
    auto terminator = cast<memref::AllocaScopeReturnOp>(block.getTerminator());
    SmallVector<Value> results(terminator.getResults());
    rewriter.inlineBlockBefore(&block, op);
    rewriter.eraseOp(terminator);
    LLVM::StackRestoreOp::create(rewriter, loc, saved);
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct CpuInlineAllocaScopesPass
    : kv::impl::CpuInlineAllocaScopesPassBase<CpuInlineAllocaScopesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<InlineAllocaScope>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
