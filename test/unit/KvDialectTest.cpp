//===- KvDialectTest.cpp - Unit tests of the kv dialect's C++ API ---------===//

#include "dialects/kv/KvOps.h"
#include "tools/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Parser/Parser.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::kv;

namespace {
class KvDialectTest : public ::testing::Test {
protected:
  KvDialectTest() {
    DialectRegistry registry;
    kvfuse::registerAllDialects(registry);
    kvfuse::registerAllExtensions(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> parse(StringRef source) {
    return parseSourceString<ModuleOp>(source, &context);
  }

  template <typename OpTy>
  OpTy first(ModuleOp module) {
    OpTy found;
    module.walk([&](OpTy op) {
      if (!found)
        found = op;
    });
    return found;
  }

  MLIRContext context;
};

constexpr const char *kDecodeStep = R"mlir(
func.func @step(%q: tensor<2x28x1x80xf32>, %k: tensor<2x4x1x80xf32>,
                %c: !kv.cache<bf16, heads = 4, head_dim = 80, value_dim = 64,
                              capacity = 100, layout = #kv.paged<page_size = 16>>,
                %past: tensor<2xi32>, %lens: tensor<2xi32>,
                %v: tensor<2x4x1x64xf32>) -> tensor<2x28x1x64xf32> {
  kv.append %k, %v, %c, %past : tensor<2x4x1x80xf32>, tensor<2x4x1x64xf32>,
      !kv.cache<bf16, heads = 4, head_dim = 80, value_dim = 64, capacity = 100,
                layout = #kv.paged<page_size = 16>>, tensor<2xi32>
  %i = tensor.empty() : tensor<2x28x1x64xf32>
  %o = kv.cache_attention %q, %c, %lens : tensor<2x28x1x80xf32>,
      !kv.cache<bf16, heads = 4, head_dim = 80, value_dim = 64, capacity = 100,
                layout = #kv.paged<page_size = 16>>, tensor<2xi32>
      outs(%i : tensor<2x28x1x64xf32>) {softcap = 30.0 : f32}
      -> tensor<2x28x1x64xf32>
  return %o : tensor<2x28x1x64xf32>
}
)mlir";

TEST_F(KvDialectTest, CacheTypeGeometry) {
  auto module = parse(kDecodeStep);
  ASSERT_TRUE(module);
  auto attention = first<CacheAttentionOp>(*module);
  CacheType cache = attention.getCacheType();
  EXPECT_TRUE(cache.isPaged());
  EXPECT_EQ(cache.getPageSize(), 16);
  // ceil(100 / 16) pages hold the capacity.
  EXPECT_EQ(cache.getPagesPerSequence(), 7);
  EXPECT_EQ(cache.getValueHeadDim(), 64);
  EXPECT_FALSE(cache.isQuantized());

  auto contiguous = CacheType::get(&context, Float16Type::get(&context), 8,
                                   128, 0, 4096,
                                   ContiguousLayoutAttr::get(&context), Type());
  EXPECT_FALSE(contiguous.isPaged());
  EXPECT_EQ(contiguous.getPageSize(), 4096);
  EXPECT_EQ(contiguous.getPagesPerSequence(), 1);
  // An omitted value_dim means the key head dim.
  EXPECT_EQ(contiguous.getValueHeadDim(), 128);
}

TEST_F(KvDialectTest, AttentionInterfaceSemantics) {
  auto module = parse(kDecodeStep);
  ASSERT_TRUE(module);
  auto attention =
      cast<AttentionOpInterface>(first<CacheAttentionOp>(*module).getOperation());
  EXPECT_EQ(attention.getNumQueryHeads(), 28);
  EXPECT_EQ(attention.getNumKvHeads(), 4);
  EXPECT_EQ(attention.getGroupSize(), 7);
  EXPECT_EQ(attention.getKeyHeadDim(), 80);
  EXPECT_EQ(attention.getValueHeadDim(), 64);
  EXPECT_DOUBLE_EQ(attention.getEffectiveScale(), 1.0 / std::sqrt(80.0));
  ASSERT_TRUE(attention.getSoftcap().has_value());
  EXPECT_FLOAT_EQ(attention.getSoftcap()->convertToFloat(), 30.0f);
  EXPECT_EQ(attention.getWindowLeftBound(), -1);
  EXPECT_EQ(attention.getWindowRightBound(), -1);
  EXPECT_FALSE(attention.getCausal());
}

/// The effects that keep appends ordered before cache reads.
TEST_F(KvDialectTest, CacheEffects) {
  auto module = parse(kDecodeStep);
  ASSERT_TRUE(module);
  auto append = first<AppendOp>(*module);
  auto read = first<CacheAttentionOp>(*module);

  auto effects = [](Operation *op) {
    SmallVector<MemoryEffects::EffectInstance> list;
    cast<MemoryEffectOpInterface>(op).getEffects(list);
    return list;
  };
  auto appendEffects = effects(append);
  ASSERT_EQ(appendEffects.size(), 1u);
  EXPECT_TRUE(isa<MemoryEffects::Write>(appendEffects[0].getEffect()));
  EXPECT_EQ(appendEffects[0].getResource(), KVCacheResource::get());

  auto readEffects = effects(read);
  ASSERT_EQ(readEffects.size(), 1u);
  EXPECT_TRUE(isa<MemoryEffects::Read>(readEffects[0].getEffect()));
  EXPECT_EQ(readEffects[0].getResource(), KVCacheResource::get());
  EXPECT_FALSE(isMemoryEffectFree(append));
  EXPECT_FALSE(isMemoryEffectFree(read));
}

TEST_F(KvDialectTest, TensorAttentionIsEffectFree) {
  auto module = parse(R"mlir(
func.func @f(%q: tensor<1x2x3x16xf32>, %k: tensor<1x2x3x16xf32>,
             %o: memref<1x2x3x16xf32>, %qm: memref<1x2x3x16xf32>)
    -> tensor<1x2x3x16xf32> {
  %i = tensor.empty() : tensor<1x2x3x16xf32>
  %r = kv.attention %q, %k, %k : tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>,
      tensor<1x2x3x16xf32> outs(%i : tensor<1x2x3x16xf32>)
      -> tensor<1x2x3x16xf32>
  kv.attention %qm, %qm, %qm : memref<1x2x3x16xf32>, memref<1x2x3x16xf32>,
      memref<1x2x3x16xf32> outs(%o : memref<1x2x3x16xf32>)
  return %r : tensor<1x2x3x16xf32>
}
)mlir");
  ASSERT_TRUE(module);
  SmallVector<AttentionOp> ops;
  module->walk([&](AttentionOp op) { ops.push_back(op); });
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_TRUE(isMemoryEffectFree(ops[0]));
  // On memrefs: three reads of the inputs and one write of the init.
  SmallVector<MemoryEffects::EffectInstance> list;
  cast<MemoryEffectOpInterface>(ops[1].getOperation()).getEffects(list);
  int reads = 0, writes = 0;
  for (auto &effect : list) {
    reads += isa<MemoryEffects::Read>(effect.getEffect());
    writes += isa<MemoryEffects::Write>(effect.getEffect());
  }
  EXPECT_EQ(reads, 3);
  EXPECT_EQ(writes, 1);
}

/// Ops built from C++ go through the same verifier as parsed ones.
TEST_F(KvDialectTest, BuilderRejectsBadGroupSize) {
  OpBuilder builder(&context);
  Location loc = builder.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module.getBody());
  Type f32 = builder.getF32Type();
  auto q = RankedTensorType::get({1, 6, 2, 8}, f32);
  auto kv = RankedTensorType::get({1, 4, 5, 8}, f32);
  auto func = func::FuncOp::create(builder, loc, "f",
                                   builder.getFunctionType({q, kv, kv}, {}));
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToEnd(body);
  Value init = tensor::EmptyOp::create(builder, loc, q.getShape(), f32);
  AttentionOp::create(builder, loc, TypeRange{q}, body->getArgument(0),
                      body->getArgument(1), body->getArgument(2), Value(),
                      Value(), Value(), init, nullptr, nullptr, nullptr,
                      nullptr, nullptr, nullptr);
  func::ReturnOp::create(builder, loc);
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  EXPECT_TRUE(failed(verify(module)));
  EXPECT_EQ(message,
            "'kv.attention' op expects query heads (6) to be a multiple of KV "
            "heads, got 4");
  module->erase();
}
} // namespace
