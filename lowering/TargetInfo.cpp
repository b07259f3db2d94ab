//===- TargetInfo.cpp - the one target interface of the back ends ---------===//

#include "lowering/TargetInfo.h"

using namespace mlir::kv;

std::optional<TargetInfo> TargetInfo::parse(llvm::StringRef spec,
                                            std::string &error) {
  TargetInfo target;
  if (spec.consume_front("nvvm:")) {
    std::optional<GpuTarget> gpu = GpuTarget::parse(spec, error);
    if (!gpu)
      return std::nullopt;
    target.kind = Kind::Nvvm;
    target.gpu = *gpu;
    target.backendSpec = spec.str();
    return target;
  }
  spec.consume_front("cpu:");
  std::optional<CpuTarget> cpu = CpuTarget::parse(spec, error);
  if (!cpu)
    return std::nullopt;
  target.cpu = *cpu;
  target.backendSpec = spec.str();
  return target;
}

std::string TargetInfo::str() const {
  return isGpu() ? "nvvm:" + gpu.str() : "cpu:" + cpu.str();
}
