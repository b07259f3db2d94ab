//===- CpuToLLVM.cpp - kv CPU code to the LLVM dialect --------------------===//
//
// The final conversion of the CPU back end. A `!kv.cache` handle becomes a
// pointer to the runtime's kvfuse_cache_desc:
//
//   struct { void *key_pool; void *value_pool; const int32_t *page_table;
//            int64_t num_pages; int64_t pages_per_seq; }
//
// and `kv.cache_view` loads the descriptor's fields into memref descriptors
// of the pools ([num_pages, heads, page_size, dim]) and the page table
// ([batch, pages_per_seq]; its batch extent is not recorded, so the view
// says "unbounded" there and the runtime guarantees the rows exist).
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvOps.h"
#include "lowering/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/Pattern.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::kv {
#define GEN_PASS_DEF_CPUTOLLVMPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {

/// Field positions in kvfuse_cache_desc.
enum CacheDescField { KeyPool = 0, ValuePool, PageTable, NumPages, PagesPerSeq };

LLVM::LLVMStructType getCacheDescType(MLIRContext *ctx) {
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  return LLVM::LLVMStructType::getLiteral(ctx, {ptr, ptr, ptr, i64, i64});
}

struct CacheViewLowering : ConvertOpToLLVMPattern<CacheViewOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(CacheViewOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto descType = getCacheDescType(ctx);
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    Value handle = adaptor.getCache();
    auto field = [&](CacheDescField index, Type type) -> Value {
      Value address = LLVM::GEPOp::create(
          rewriter, loc, ptrType, descType, handle,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
      return LLVM::LoadOp::create(rewriter, loc, type, address);
    };
    Value numPages = field(NumPages, i64);

    // Dense row-major view of `base` with leading extent `leading`.
    auto view = [&](Value base, Value leading, MemRefType type) -> Value {
      Type descriptorType = getTypeConverter()->convertType(type);
      auto desc = MemRefDescriptor::poison(rewriter, loc, descriptorType);
      desc.setAllocatedPtr(rewriter, loc, base);
      desc.setAlignedPtr(rewriter, loc, base);
      desc.setConstantOffset(rewriter, loc, 0);
      int64_t stride = 1;
      for (int64_t d = type.getRank() - 1; d >= 0; --d) {
        if (d == 0)
          desc.setSize(rewriter, loc, 0, leading);
        else
          desc.setConstantSize(rewriter, loc, d, type.getDimSize(d));
        desc.setConstantStride(rewriter, loc, d, stride);
        stride *= type.getDimSize(d);
      }
      return desc;
    };
    Value unbounded = LLVM::ConstantOp::create(
        rewriter, loc, i64,
        rewriter.getI64IntegerAttr(std::numeric_limits<int32_t>::max()));
    Value keys = view(field(KeyPool, ptrType), numPages,
                      cast<MemRefType>(op.getKeyPool().getType()));
    Value values = view(field(ValuePool, ptrType), numPages,
                        cast<MemRefType>(op.getValuePool().getType()));
    Value table = view(field(PageTable, ptrType), unbounded,
                       cast<MemRefType>(op.getPageTable().getType()));
    rewriter.replaceOp(op, {keys, values, table});
    return success();
  }
};

struct CpuToLLVMPass : kv::impl::CpuToLLVMPassBase<CpuToLLVMPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ModuleOp module = getOperation();

    // LLVM would call libm for tanh: spell it with exp.
    {
      RewritePatternSet expansions(ctx);
      math::populateExpansionPatterns(expansions, {"tanh"});
      // 16x16 transposes of K blocks as two-source shuffles.
      vector::populateVectorTransposeLoweringPatterns(
          expansions, vector::VectorTransposeLowering::Shuffle16x16);
      if (failed(applyPatternsGreedily(module, std::move(expansions))))
        return signalPassFailure();
    }

    LLVMTypeConverter converter(ctx);
    converter.addConversion([](CacheType type) -> Type {
      return LLVM::LLVMPointerType::get(type.getContext());
    });

    RewritePatternSet patterns(ctx);
    populateFuncToLLVMConversionPatterns(converter, patterns);
    arith::populateArithToLLVMConversionPatterns(converter, patterns);
    populateMathToLLVMConversionPatterns(converter, patterns);
    cf::populateControlFlowToLLVMConversionPatterns(converter, patterns);
    populateFinalizeMemRefToLLVMConversionPatterns(converter, patterns);
    index::populateIndexToLLVMConversionPatterns(converter, patterns);
    ub::populateUBToLLVMConversionPatterns(converter, patterns);
    populateVectorToLLVMConversionPatterns(converter, patterns,
                                           /*reassociateFPReductions=*/true);
    populateOpenMPToLLVMConversionPatterns(converter, patterns);
    patterns.add<CacheViewLowering>(converter);

    LLVMConversionTarget target(*ctx);
    target.addLegalOp<ModuleOp>();
    configureOpenMPToLLVMConversionLegality(target, converter);
    target.addIllegalDialect<KvDialect, arith::ArithDialect,
                             cf::ControlFlowDialect, func::FuncDialect,
                             math::MathDialect, memref::MemRefDialect,
                             ub::UBDialect, vector::VectorDialect>();
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
