//===- PlanTiles.cpp - choose the CPU tiling of attention ops -------------===//
//
// kv-cpu-plan-tiles: records on each attention op the tiling that
// kv-cpu-vectorize-attention follows (#kv.cpu_tiles), chosen from the op's
// shape and a target description, so that the choice is visible in the IR,
// testable on its own and can be pinned per op.
//
//===----------------------------------------------------------------------===//

#include "dialects/kv/KvAttrs.h"
#include "dialects/kv/KvDialect.h"
#include "lowering/Passes.h"
#include "lowering/cpu/AttentionTiling.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::kv {
#define GEN_PASS_DEF_CPUPLANTILESPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::kv

using namespace mlir;
using namespace mlir::kv;

namespace {
struct CpuPlanTilesPass
    : kv::impl::CpuPlanTilesPassBase<CpuPlanTilesPass> {
  using Base::Base;
  void runOnOperation() override {
    std::string error;
    std::optional<TilingOptions> options = parseTilingOptions(
        rowTile, keyBlock, splits, scoreKernel, target, error);
    if (!options) {
      getOperation()->emitError() << "kv-cpu-plan-tiles: " << error;
      return signalPassFailure();
    }
    getOperation()->walk([&](Operation *op) {
      if (op->hasAttr(kCpuTilesAttrName))
        return;
      if (std::optional<TileShape> shape = TileShape::of(op))
        op->setAttr(kCpuTilesAttrName,
                    toAttr(&getContext(), planTiles(*shape, *options)));
    });
  }
};
} // namespace
