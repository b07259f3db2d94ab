//===- GpuTarget.h - what the NVVM code generator tiles for -----*- C++ -*-===//
//
// A small description of the target NVIDIA GPU: chip, SM count and the
// per-block limits that tile sizes and split-KV decisions derive from. Pass
// options override each derived value. The GPU counterpart of CpuTarget.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_NVVM_GPUTARGET_H
#define KVFUSE_LOWERING_NVVM_GPUTARGET_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir::kv {

struct GpuTarget {
  /// Compute capability, e.g. "sm_80", "sm_90", "sm_90a".
  std::string chip = "sm_90";
  /// PTX ISA features handed to the NVVM target ("+ptx80").
  std::string features = "+ptx80";
  int64_t smCount = 132;
  int64_t sharedBytesPerBlock = 48 * 1024;
  int64_t maxThreadsPerBlock = 1024;

  /// The numeric part of `chip` (80, 90); 0 when malformed.
  int64_t smVersion() const;
  /// True from sm_80 on: mma.sync m16n8k16 for f16/bf16, cp.async.
  bool hasMmaSync() const { return smVersion() >= 80; }

  /// "sm_80" / "sm_90" / "sm_90a", optionally followed by comma-separated
  /// `key=value` overrides: sms, smem, features. Returns nullopt (and
  /// `error`) otherwise.
  static std::optional<GpuTarget> parse(llvm::StringRef spec,
                                        std::string &error);

  std::string str() const;
};

} // namespace mlir::kv

#endif // KVFUSE_LOWERING_NVVM_GPUTARGET_H
