//===- CpuTarget.cpp - what the CPU code generator tiles for --------------===//

#include "lowering/cpu/CpuTarget.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/TargetParser/Host.h"

#include <unistd.h>

using namespace mlir::kv;

CpuTarget CpuTarget::host() {
  CpuTarget t;
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    t.vectorBits = 512;
  else if (features.lookup("avx2") || features.lookup("avx"))
    t.vectorBits = 256;
  else
    t.vectorBits = 128;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores > 0)
    t.cores = cores;
#ifdef _SC_LEVEL1_DCACHE_SIZE
  long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
  if (l1 > 0)
    t.l1DataBytes = l1;
  long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (l2 > 0)
    t.l2Bytes = l2;
#endif
  return t;
}

std::optional<CpuTarget> CpuTarget::parse(llvm::StringRef spec,
                                          std::string &error) {
  CpuTarget t = host();
  if (spec.empty() || spec == "host")
    return t;
  llvm::SmallVector<llvm::StringRef> fields;
  spec.split(fields, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef field : fields) {
    auto [key, value] = field.split('=');
    int64_t v = 0;
    if (value.trim().getAsInteger(10, v) || v <= 0) {
      error = "expects a positive integer in '" + field.str() + "'";
      return std::nullopt;
    }
    key = key.trim();
    if (key == "vector-bits")
      t.vectorBits = v;
    else if (key == "l1")
      t.l1DataBytes = v;
    else if (key == "l2")
      t.l2Bytes = v;
    else if (key == "cores")
      t.cores = v;
    else {
      error = "unknown target field '" + key.str() +
              "' (expects vector-bits, l1, l2 or cores)";
      return std::nullopt;
    }
  }
  return t;
}

int64_t CpuTarget::keyBlock(int64_t rowBytes) const {
  int64_t fit = l1DataBytes / std::max<int64_t>(1, rowBytes);
  int64_t block = int64_t(1) << llvm::Log2_64(std::max<int64_t>(1, fit));
  return std::clamp<int64_t>(block, 16, 128);
}

std::string CpuTarget::str() const {
  return "vector-bits=" + std::to_string(vectorBits) +
         ",l1=" + std::to_string(l1DataBytes) +
         ",l2=" + std::to_string(l2Bytes) + ",cores=" + std::to_string(cores);
}
