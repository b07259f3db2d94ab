//===- AttentionTiling.h - how CPU attention tiles are chosen ---*- C++ -*-===//
//
// The tiling decisions of the CPU attention kernels, apart from the code that
// emits them: rows per tile, keys per block, key splits and score kernel,
// chosen from the shape of an attention op and a target description
// (kv-cpu-plan-tiles records them as #kv.cpu_tiles), or read back from that
// attribute (kv-cpu-tile-attention).
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_CPU_ATTENTIONTILING_H
#define KVFUSE_LOWERING_CPU_ATTENTIONTILING_H

#include "dialects/kv/KvAttrs.h"
#include "lowering/cpu/CpuTarget.h"
#include "mlir/IR/Operation.h"

#include <optional>
#include <string>

namespace mlir::kv {

/// How a tile computes its block of scores S = Q . K^T.
enum class ScoreKernel {
  Auto,              // by tile: TransposedQueries from 16 rows, else Dot
  Dot,               // dot products with shuffle reductions (decode)
  TransposedKeys,    // each K block transposed, broadcast FMAs over it
  TransposedQueries, // the tile's Q transposed once, scores as S^T
};
std::optional<ScoreKernel> parseScoreKernel(StringRef name);
StringRef scoreKernelName(ScoreKernel kernel);

/// Lanes of the kernels' f32 vectors (rows per vector of the
/// query-transposed kernel, keys per transpose of the transposed-K one).
constexpr int64_t kTileLanes = 16;
/// Keys a block must hold a multiple of, per kernel.
int64_t keysPerBlockMultiple(ScoreKernel kernel);

/// What the tiling depends on, read from an attention op's types.
struct TileShape {
  int64_t batch = 0, qHeads = 0, qLen = 0, headDim = 0, valueDim = 0;
  int64_t kvHeads = 0, kvLen = 0;
  int64_t keyBytes = 0; // one key's K and V rows
  int64_t splits = 1;   // partial results of an op in split form
  int64_t packed = 1;   // query heads per head of Q and O (GQA packing)
  bool hasMask = false;
  int64_t group() const { return qHeads / kvHeads; }
  /// Heads of Q and O, over which tiles are laid: each tile holds rows of
  /// all `packed` query heads of one of them.
  int64_t tileHeads() const { return qHeads / packed; }

  /// The shape of kv.attention, kv.partial_attention, kv.cache_attention or
  /// kv.append_attention (tensor or memref form); nullopt for other ops.
  static std::optional<TileShape> of(Operation *op);
};

/// Requests that override the target-derived choices (0 / Auto: derive).
struct TilingOptions {
  int64_t rowTarget = 0; // query rows (all heads of a group) per tile
  int64_t keyBlock = 0;
  int64_t splits = 0;
  ScoreKernel scoreKernel = ScoreKernel::Auto;
  CpuTarget target;
};

/// The tiling of one op.
struct TilePlan {
  int64_t rowsPerHead = 1, keyBlock = 1, splits = 1;
  ScoreKernel kernel = ScoreKernel::Dot; // never Auto
  int64_t tileRows(const TileShape &s) const { return s.packed * rowsPerHead; }
  int64_t tilesPerHead(const TileShape &s) const {
    return (s.qLen + rowsPerHead - 1) / rowsPerHead;
  }
};

/// The options of a pass: row tile, key block and splits (0: derive), the
/// score kernel's name and the target description; nullopt and `error` for
/// an unknown kernel or a malformed target.
std::optional<TilingOptions>
parseTilingOptions(int64_t rowTile, int64_t keyBlock, int64_t splits,
                   StringRef scoreKernel, StringRef target, std::string &error);

TilePlan planTiles(const TileShape &shape, const TilingOptions &options);

/// Why `kernel` cannot score tiles of `tileRows` rows (with an explicit mask
/// or not) in blocks of `keyBlock` keys; nullopt if it can.
std::optional<std::string> kernelMisfit(ScoreKernel kernel, int64_t tileRows,
                                        bool hasMask, int64_t keyBlock);

/// Whether the kernels can run `plan` on `shape` now (a plan from an
/// attribute may not fit the op it is on, or may split keys the op has not
/// been split into by kv-split-kv); the reason in `error` if not.
bool isFeasible(const TileShape &shape, const TilePlan &plan,
                std::string &error);

/// The conversions of a plan to and from its attribute (kCpuTilesAttrName).
CpuTilesAttr toAttr(MLIRContext *context, const TilePlan &plan);
TilePlan fromAttr(CpuTilesAttr attr);

} // namespace mlir::kv

#endif // KVFUSE_LOWERING_CPU_ATTENTIONTILING_H
