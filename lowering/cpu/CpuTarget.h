//===- CpuTarget.h - what the CPU code generator tiles for ------*- C++ -*-===//
//
// A small description of the target CPU: vector width, data cache sizes
// and core count. Tile sizes and split-KV decisions derive from it; pass
// options override each derived value.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_CPU_CPUTARGET_H
#define KVFUSE_LOWERING_CPU_CPUTARGET_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir::kv {

struct CpuTarget {
  int64_t vectorBits = 512;
  int64_t l1DataBytes = 32 * 1024;
  int64_t l2Bytes = 1024 * 1024;
  int64_t cores = 1;

  /// The machine the compiler runs on (CPU features, sysconf).
  static CpuTarget host();
  /// "host", or comma-separated `key=value` over host defaults:
  /// vector-bits, l1, l2, cores. Returns nullopt (and `error`) otherwise.
  static std::optional<CpuTarget> parse(llvm::StringRef spec,
                                        std::string &error);

  /// Keys per online-softmax block for rows of `rowBytes` bytes of K plus
  /// V: the K and V rows of a block fit in L1 (the P.V pass re-reads the
  /// block's V rows, the score kernel its K rows), a power of two between
  /// 16 and 128.
  int64_t keyBlock(int64_t rowBytes) const;

  std::string str() const;
};

} // namespace mlir::kv

#endif // KVFUSE_LOWERING_CPU_CPUTARGET_H
