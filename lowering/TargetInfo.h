//===- TargetInfo.h - the one target interface of the back ends -*- C++ -*-===//
//
// A compilation target is a CPU (lowering/cpu/CpuTarget.h: vector width,
// caches, cores) or an NVIDIA GPU (lowering/nvvm/GpuTarget.h: chip, SMs,
// shared memory). Tools parse one spelling for both and hand the chosen
// description to that back end's pipeline, whose passes derive tile sizes
// from it.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_TARGETINFO_H
#define KVFUSE_LOWERING_TARGETINFO_H

#include "lowering/cpu/CpuTarget.h"
#include "lowering/nvvm/GpuTarget.h"

namespace mlir::kv {

struct TargetInfo {
  enum class Kind { Cpu, Nvvm };
  Kind kind = Kind::Cpu;
  CpuTarget cpu;
  GpuTarget gpu;
  /// The back end's own part of the spelling (what its pipeline's `target`
  /// option takes).
  std::string backendSpec = "host";

  bool isGpu() const { return kind == Kind::Nvvm; }

  /// `host`, a CPU description (`vector-bits=..,l1=..,l2=..,cores=..`,
  /// optionally prefixed `cpu:`), or `nvvm:<chip>[,sms=..,smem=..]`.
  static std::optional<TargetInfo> parse(llvm::StringRef spec,
                                         std::string &error);
  std::string str() const;
};

} // namespace mlir::kv

#endif // KVFUSE_LOWERING_TARGETINFO_H
