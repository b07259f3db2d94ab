//===- GpuTarget.cpp - NVIDIA target description --------------------------===//

#include "lowering/nvvm/GpuTarget.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir::kv;

int64_t GpuTarget::smVersion() const {
  llvm::StringRef digits = llvm::StringRef(chip);
  if (!digits.consume_front("sm_"))
    return 0;
  digits = digits.take_while([](char c) { return llvm::isDigit(c); });
  int64_t version = 0;
  if (digits.getAsInteger(10, version))
    return 0;
  return version;
}

std::optional<GpuTarget> GpuTarget::parse(llvm::StringRef spec,
                                          std::string &error) {
  GpuTarget target;
  llvm::SmallVector<llvm::StringRef> fields;
  spec.split(fields, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  if (fields.empty()) {
    error = "empty GPU target";
    return std::nullopt;
  }
  target.chip = fields.front().trim().str();
  if (target.smVersion() < 70) {
    error = "unknown GPU chip '" + target.chip +
            "' (expected sm_NN[a] with NN >= 70, e.g. sm_80, sm_90a)";
    return std::nullopt;
  }
  for (llvm::StringRef field : llvm::drop_begin(fields)) {
    auto [key, value] = field.trim().split('=');
    if (key == "features") {
      target.features = value.str();
      continue;
    }
    int64_t number = 0;
    if (value.getAsInteger(10, number) || number <= 0) {
      error = "GPU target field '" + key.str() +
              "' needs a positive integer, got '" + value.str() + "'";
      return std::nullopt;
    }
    if (key == "sms")
      target.smCount = number;
    else if (key == "smem")
      target.sharedBytesPerBlock = number;
    else {
      error = "unknown GPU target field '" + key.str() +
              "' (expected sms, smem or features)";
      return std::nullopt;
    }
  }
  return target;
}

std::string GpuTarget::str() const {
  return chip + ",sms=" + std::to_string(smCount) +
         ",smem=" + std::to_string(sharedBytesPerBlock) +
         ",features=" + features;
}
