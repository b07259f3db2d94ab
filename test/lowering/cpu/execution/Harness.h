//===- Harness.h - Helpers of the CPU execution tests -----------*- C++ -*-===//
//
// Compiles generated MLIR with kvfuse-compile into a temporary artifact,
// loads it with the runtime, and provides host tensors of every manifest
// dtype (with f16/bf16 rounding), random fills, NaN poisoning and the
// comparison against the float64 reference. Uses only the runtime's C API,
// never MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_TEST_LOWERING_CPU_EXECUTION_HARNESS_H
#define KVFUSE_TEST_LOWERING_CPU_EXECUTION_HARNESS_H

#include "ToolRunner.h"
#include "kvfuse/reference.h"
#include "kvfuse/runtime.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace kvfuse::exec {

//===----------------------------------------------------------------------===//
// Element conversions
//===----------------------------------------------------------------------===//

/// Round-to-nearest-even conversions, as arith.truncf does.
uint16_t floatToHalf(float f);
float halfToFloat(uint16_t h);
uint16_t floatToBf16(float f);
float bf16ToFloat(uint16_t h);
/// `v` rounded through a float dtype (f32, f16 or bf16).
float roundTo(kvfuse_dtype dtype, float v);
const char *dtypeName(kvfuse_dtype dtype);

//===----------------------------------------------------------------------===//
// Host tensors
//===----------------------------------------------------------------------===//

/// A dense row-major host buffer in one of the manifest's dtypes.
class Tensor {
public:
  Tensor() = default;
  Tensor(kvfuse_dtype dtype, std::vector<int64_t> shape);

  kvfuse_dtype dtype() const { return type; }
  const std::vector<int64_t> &shape() const { return dims; }
  int64_t size() const { return count; }
  int64_t numBytes() const { return static_cast<int64_t>(bytes.size()); }
  void *data() { return bytes.data(); }
  const void *data() const { return bytes.data(); }

  /// Element `i` as a double (i1: 0 or 1).
  double get(int64_t i) const;
  /// Stores `v` converted (rounded) to the dtype.
  void set(int64_t i, double v);
  std::vector<double> toDouble() const;

  /// Uniform values in [-1, 1], rounded to the dtype.
  void fillUniform(std::mt19937 &rng);
  /// NaN everywhere (floats) so unwritten elements are detected.
  void poison();
  /// Elements that are NaN.
  int64_t countNaN() const;

  kvfuse_binding bind(const char *name) {
    return {name, bytes.data(), numBytes(), nullptr};
  }

private:
  kvfuse_dtype type = KVFUSE_F32;
  std::vector<int64_t> dims;
  int64_t count = 0;
  std::vector<unsigned char> bytes;
};

/// `tensor<2x4x7x64xf32>`.
std::string tensorType(const std::vector<int64_t> &shape, kvfuse_dtype dtype);
/// `1.250000000e-01 : f32`, a literal MLIR parses as a float attribute.
std::string f32Attr(float v);

//===----------------------------------------------------------------------===//
// Compiling and loading
//===----------------------------------------------------------------------===//

/// Path of kvfuse-compile: $KVFUSE_COMPILE, else the build's.
std::string compilerPath();

using test::Artifact;

/// Writes `module` to a fresh temporary directory, compiles it with
/// compilerPath() and loads the artifact into `art`. The directory is
/// removed afterwards (kept, and its path reported, when $KVFUSE_EXEC_KEEP
/// is set). Fails with the compiler's output and the module.
::testing::AssertionResult compileModule(Artifact &art,
                                         const std::string &module);

//===----------------------------------------------------------------------===//
// Checking
//===----------------------------------------------------------------------===//

/// Checks `out` against `ref` (same element count): no NaN left from the
/// poison, rows of `rowLen` elements whose reference LSE is -inf are exactly
/// 0, and the relative error is at most `tol`.
::testing::AssertionResult checkOutput(const Tensor &out,
                                       const std::vector<double> &ref,
                                       const std::vector<double> &refLse,
                                       int64_t rowLen, double tol);

/// Checks an LSE output against the reference's: -inf exactly where the
/// reference is -inf, elsewhere finite with relative error at most `tol`.
::testing::AssertionResult checkLse(const Tensor &lse,
                                    const std::vector<double> &ref, double tol);

/// Tolerance for results computed from data stored in `dtype` (the
/// reference sees the same rounded inputs).
double toleranceFor(kvfuse_dtype dtype);

/// Runs `entry` for the sequences `seqIds` (none for entries without
/// caches); on failure kvfuse_last_error() says why.
kvfuse_status runEntry(const Artifact &art, const char *entry,
                       const std::vector<kvfuse_binding> &bindings,
                       const std::vector<int64_t> &seqIds = {});

} // namespace kvfuse::exec

#endif // KVFUSE_TEST_LOWERING_CPU_EXECUTION_HARNESS_H
