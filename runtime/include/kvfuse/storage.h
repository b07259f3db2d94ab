//===- kvfuse/storage.h - bf16 storage rounding for hosts --------*- C++ -*-===//
//
// The value a bf16 cache or tensor stores for an f32: round to nearest even,
// as the compiled kernels' truncation does, NaN kept NaN. Tools, tests and
// benchmarks use it to fill bf16 buffers and to hand the float64 reference
// the values the kernels see. Header-only and dependency-free.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_STORAGE_H
#define KVFUSE_STORAGE_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace kvfuse::storage {

inline uint16_t toBf16(float f) {
  if (std::isnan(f))
    return 0x7fc0;
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

inline float fromBf16(uint16_t h) {
  uint32_t x = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

} // namespace kvfuse::storage

#endif // KVFUSE_STORAGE_H
