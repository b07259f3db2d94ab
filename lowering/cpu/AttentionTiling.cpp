//===- AttentionTiling.cpp - how CPU attention tiles are chosen -----------===//

#include "lowering/cpu/AttentionTiling.h"
#include "passes/SplitKv.h"

#include "dialects/kv/KvOps.h"
#include "dialects/kv/KvTypes.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace mlir::kv;

std::optional<ScoreKernel> mlir::kv::parseScoreKernel(StringRef name) {
  return llvm::StringSwitch<std::optional<ScoreKernel>>(name)
      .Case("auto", ScoreKernel::Auto)
      .Case("dot", ScoreKernel::Dot)
      .Case("transposed-keys", ScoreKernel::TransposedKeys)
      .Case("transposed-queries", ScoreKernel::TransposedQueries)
      .Default(std::nullopt);
}

StringRef mlir::kv::scoreKernelName(ScoreKernel kernel) {
  switch (kernel) {
  case ScoreKernel::Auto:
    return "auto";
  case ScoreKernel::Dot:
    return "dot";
  case ScoreKernel::TransposedKeys:
    return "transposed-keys";
  case ScoreKernel::TransposedQueries:
    return "transposed-queries";
  }
  llvm_unreachable("unknown score kernel");
}

int64_t mlir::kv::keysPerBlockMultiple(ScoreKernel kernel) {
  // The dot kernel scores 4 keys per register block (2 for 8-row tiles);
  // the transposed-K kernel transposes 16 keys at a time and scores 32.
  switch (kernel) {
  case ScoreKernel::Dot:
    return 4;
  case ScoreKernel::TransposedKeys:
    return 2 * kTileLanes;
  default:
    return 1;
  }
}

/// The query-transposed kernel holds 16 rows per vector and writes no
/// row-major scores for an explicit mask to be applied to.
static bool takesQueryTransposed(int64_t tileRows, bool hasMask) {
  return !hasMask && tileRows % kTileLanes == 0;
}

std::optional<TileShape> TileShape::of(Operation *op) {
  auto attention = dyn_cast<AttentionOpInterface>(op);
  if (!attention)
    return std::nullopt;
  TileShape s;
  s.batch = cast<ShapedType>(attention.getQuery().getType()).getDimSize(0);
  s.qHeads = attention.getNumQueryHeads();
  s.qLen = attention.getQueryLength();
  s.packed = attention.getNumPackedHeads();
  s.headDim = attention.getKeyHeadDim();
  s.valueDim = attention.getValueHeadDim();
  s.kvHeads = attention.getNumKvHeads();
  s.hasMask = static_cast<bool>(attention.getMask());
  s.splits = attention.getNumSplits();
  // Keys addressable and their storage: the dense K/V operands, or the
  // cache's capacity and element type.
  auto bytes = [](Type t) {
    return int64_t(getElementTypeOrSelf(t).getIntOrFloatBitWidth()) / 8;
  };
  auto dense = [&](auto op) {
    s.kvLen = cast<ShapedType>(op.getKey().getType()).getDimSize(2);
    s.keyBytes = s.headDim * bytes(op.getKey().getType()) +
                 s.valueDim * bytes(op.getValue().getType());
  };
  auto cached = [&](auto op) {
    CacheType cache = op.getCacheType();
    s.kvLen = cache.getCapacity();
    s.keyBytes = (s.headDim + s.valueDim) * bytes(cache.getElementType());
  };
  llvm::TypeSwitch<Operation *>(op)
      .Case<AttentionOp, PartialAttentionOp>(dense)
      .Case<CacheAttentionOp, AppendAttentionOp>(cached);
  return s;
}

std::optional<TilingOptions>
mlir::kv::parseTilingOptions(int64_t rowTile, int64_t keyBlock, int64_t splits,
                             StringRef scoreKernel, StringRef target,
                             std::string &error) {
  TilingOptions options;
  options.rowTarget = rowTile;
  options.keyBlock = keyBlock;
  options.splits = splits;
  std::optional<ScoreKernel> kernel = parseScoreKernel(scoreKernel);
  if (!kernel) {
    error = "unknown score-kernel '" + scoreKernel.str() +
            "' (expects auto, dot, transposed-keys or transposed-queries)";
    return std::nullopt;
  }
  options.scoreKernel = *kernel;
  std::optional<CpuTarget> parsed = CpuTarget::parse(target.str(), error);
  if (!parsed)
    return std::nullopt;
  options.target = *parsed;
  return options;
}

TilePlan mlir::kv::planTiles(const TileShape &s, const TilingOptions &options) {
  TilePlan plan;
  // A tile holds rows of every packed head (kv-pack-gqa) of one head of Q.
  int64_t packed = s.packed;
  int64_t cores = options.target.cores;
  auto rowsFor = [&](int64_t target) {
    return std::min(s.qLen, std::max<int64_t>(1, target / packed));
  };
  plan.rowsPerHead = rowsFor(options.rowTarget);
  if (options.rowTarget <= 0) {
    // 64 rows amortise the per-block softmax and the transposes; fewer
    // (down to 16) when the tiles would not give every core two.
    for (int64_t target : {64, 32, 16}) {
      plan.rowsPerHead = rowsFor(target);
      if (s.batch * s.tileHeads() * plan.tilesPerHead(s) >= 2 * cores)
        break;
    }
    // Whole 16-row vectors for the query-transposed kernel where the
    // packing allows (3 heads: 21 -> 16 rows per head; 6 heads: 10 -> 8).
    int64_t unit = kTileLanes / std::gcd(packed, kTileLanes);
    if (plan.rowsPerHead > unit)
      plan.rowsPerHead -= plan.rowsPerHead % unit;
  }
  int64_t tileRows = plan.tileRows(s);

  // Tiles with many rows use a reduction-free score kernel over a
  // transposed operand: the tile's Q, transposed once (P3 8 % faster than
  // with K blocks transposed per block, P1 5-10 %), unless the tile's rows
  // do not fill 16-lane vectors or an explicit mask wants the row-major
  // scores; small (decode) tiles use dot products.
  plan.kernel = options.scoreKernel;
  if (plan.kernel == ScoreKernel::Auto)
    plan.kernel = tileRows >= kTileLanes ? ScoreKernel::TransposedQueries
                                         : ScoreKernel::Dot;
  if (plan.kernel == ScoreKernel::TransposedQueries &&
      !takesQueryTransposed(tileRows, s.hasMask))
    plan.kernel = ScoreKernel::TransposedKeys;

  plan.keyBlock = options.keyBlock;
  if (plan.keyBlock <= 0) {
    plan.keyBlock = options.target.keyBlock(s.keyBytes);
    // The transposed kernels reuse each K block over many rows: blocks
    // twice the L1-sized default halve the per-block softmax and P.V loop
    // overheads (measured faster on Zen 4 although K and V no longer fit
    // L1).
    if (plan.kernel != ScoreKernel::Dot && s.kvLen >= 2 * plan.keyBlock)
      plan.keyBlock = std::min<int64_t>(2 * plan.keyBlock, 128);
  }
  plan.keyBlock =
      llvm::alignTo(plan.keyBlock, keysPerBlockMultiple(plan.kernel));

  // Split-KV (flash-decoding): when there are fewer tiles than twice the
  // cores and the keys are long, each tile's key range is split into chunks
  // processed in parallel and merged afterwards (kv-split-kv). An op already
  // in split form keeps its number of partials.
  if (s.splits > 1) {
    plan.splits = s.splits;
    return plan;
  }
  int64_t tiles = s.batch * s.tileHeads() * plan.tilesPerHead(s);
  plan.splits = options.splits;
  if (plan.splits <= 0) {
    plan.splits = 1;
    if (tiles < 2 * cores && s.kvLen >= 8 * plan.keyBlock)
      plan.splits = std::min((2 * cores + tiles - 1) / tiles,
                             s.kvLen / (4 * plan.keyBlock));
  }
  // Keep kv-split-kv's stack partials bounded (counting the merged
  // log-sum-exp, which ops without one of their own need); the tiles are
  // many then anyway.
  if (plan.splits > 1 &&
      splitKvStackBytes(plan.splits, s.batch * s.qHeads * s.qLen, s.valueDim,
                        /*lseScratch=*/true) > kMaxSplitKvStackBytes)
    plan.splits = 1;
  plan.splits = std::max<int64_t>(1, plan.splits);
  return plan;
}

std::optional<std::string> mlir::kv::kernelMisfit(ScoreKernel kernel,
                                                  int64_t tileRows,
                                                  bool hasMask,
                                                  int64_t keyBlock) {
  if (kernel == ScoreKernel::TransposedQueries &&
      !takesQueryTransposed(tileRows, hasMask))
    return "transposed-queries needs tiles of whole 16-row vectors (this "
           "one has " +
           std::to_string(tileRows) + " rows) and no explicit mask";
  if (keyBlock % keysPerBlockMultiple(kernel) != 0)
    return "key_block " + std::to_string(keyBlock) + " is no multiple " +
           "of " + std::to_string(keysPerBlockMultiple(kernel)) + " (the " +
           scoreKernelName(kernel).str() + " kernel's)";
  return std::nullopt;
}

bool mlir::kv::isFeasible(const TileShape &s, const TilePlan &plan,
                          std::string &error) {
  if (std::optional<std::string> misfit = kernelMisfit(
          plan.kernel, plan.tileRows(s), s.hasMask, plan.keyBlock)) {
    error = *misfit;
    return false;
  }
  // The kernels split keys exactly as the op's split form says.
  if (s.splits == 1 && plan.splits > 1) {
    error = "the plan splits the keys " + std::to_string(plan.splits) +
            " ways but the op is not in split form (run kv-split-kv first)";
    return false;
  }
  if (s.splits > 1 && plan.splits != s.splits) {
    error = "the op holds " + std::to_string(s.splits) +
            " partial results, the plan splits its keys " +
            std::to_string(plan.splits) + " ways";
    return false;
  }
  return true;
}

CpuTilesAttr mlir::kv::toAttr(MLIRContext *context, const TilePlan &plan) {
  return CpuTilesAttr::get(context, plan.rowsPerHead, plan.keyBlock,
                           plan.splits, scoreKernelName(plan.kernel));
}

TilePlan mlir::kv::fromAttr(CpuTilesAttr attr) {
  TilePlan plan;
  plan.rowsPerHead = attr.getRowsPerHead();
  plan.keyBlock = attr.getKeyBlock();
  plan.splits = attr.getSplits();
  // The attribute verifier admits only the three concrete kernels.
  plan.kernel = *parseScoreKernel(attr.getScoreKernel());
  return plan;
}
