//===- Harness.cpp - Helpers of the CPU execution tests -------------------===//
//
// Element conversions, host tensors, compiling with kvfuse-compile into a
// temporary directory, and output checks against the float64 reference.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace kvfuse::exec {

//===----------------------------------------------------------------------===//
// Element conversions
//===----------------------------------------------------------------------===//

static uint32_t floatBits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof(x));
  return x;
}

static float bitsFloat(uint32_t x) {
  float f;
  std::memcpy(&f, &x, sizeof(f));
  return f;
}

uint16_t floatToHalf(float f) {
  uint32_t x = floatBits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // inf or NaN (NaN stays quiet)
    return sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u);
  if (absx >= 0x477ff000u) // >= 65520 rounds to inf
    return sign | 0x7c00u;
  if (absx < 0x38800000u) {
    // Below the smallest normal half (2^-14): multiples of 2^-24. Scaling by
    // 2^24 is exact in float; nearbyint rounds to nearest even. A result of
    // 0x400 is the smallest normal, which is also the right encoding.
    float scaled = bitsFloat(absx) * 16777216.0f;
    return sign | static_cast<uint32_t>(std::nearbyint(scaled));
  }
  uint32_t exp = (absx >> 23) - 127 + 15;
  uint32_t mant = absx & 0x7fffffu;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
    ++h; // a carry into the exponent is still correct
  return sign | h;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31)
    return bitsFloat(sign | 0x7f800000u | (mant << 13));
  return bitsFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

uint16_t floatToBf16(float f) {
  uint32_t x = floatBits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((x >> 16) | 0x40u);
  uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb;
  return static_cast<uint16_t>(x >> 16);
}

float bf16ToFloat(uint16_t h) {
  return bitsFloat(static_cast<uint32_t>(h) << 16);
}

float roundTo(kvfuse_dtype dtype, float v) {
  switch (dtype) {
  case KVFUSE_F16:
    return halfToFloat(floatToHalf(v));
  case KVFUSE_BF16:
    return bf16ToFloat(floatToBf16(v));
  default:
    return v;
  }
}

const char *dtypeName(kvfuse_dtype dtype) {
  switch (dtype) {
  case KVFUSE_F32:
    return "f32";
  case KVFUSE_F16:
    return "f16";
  case KVFUSE_BF16:
    return "bf16";
  case KVFUSE_I32:
    return "i32";
  case KVFUSE_I1:
    return "i1";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Host tensors
//===----------------------------------------------------------------------===//

Tensor::Tensor(kvfuse_dtype dtype, std::vector<int64_t> shape)
    : type(dtype), dims(std::move(shape)) {
  count = 1;
  for (int64_t d : dims)
    count *= d;
  bytes.assign(static_cast<size_t>(count * kvfuse_dtype_size(dtype)), 0);
}

double Tensor::get(int64_t i) const {
  const unsigned char *p = bytes.data() + i * kvfuse_dtype_size(type);
  switch (type) {
  case KVFUSE_F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case KVFUSE_F16:
  case KVFUSE_BF16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return type == KVFUSE_F16 ? halfToFloat(h) : bf16ToFloat(h);
  }
  case KVFUSE_I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case KVFUSE_I1:
    return *p ? 1.0 : 0.0;
  }
  return 0.0;
}

void Tensor::set(int64_t i, double v) {
  unsigned char *p = bytes.data() + i * kvfuse_dtype_size(type);
  switch (type) {
  case KVFUSE_F32: {
    float f = static_cast<float>(v);
    std::memcpy(p, &f, 4);
    return;
  }
  case KVFUSE_F16:
  case KVFUSE_BF16: {
    float f = static_cast<float>(v);
    uint16_t h = type == KVFUSE_F16 ? floatToHalf(f) : floatToBf16(f);
    std::memcpy(p, &h, 2);
    return;
  }
  case KVFUSE_I32: {
    int32_t x = static_cast<int32_t>(v);
    std::memcpy(p, &x, 4);
    return;
  }
  case KVFUSE_I1:
    *p = v != 0.0 ? 1 : 0;
    return;
  }
}

std::vector<double> Tensor::toDouble() const {
  std::vector<double> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    out[i] = get(i);
  return out;
}

void Tensor::fillUniform(std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < count; ++i)
    set(i, dist(rng));
}

void Tensor::poison() {
  for (int64_t i = 0; i < count; ++i)
    set(i, std::numeric_limits<double>::quiet_NaN());
}

int64_t Tensor::countNaN() const {
  int64_t n = 0;
  for (int64_t i = 0; i < count; ++i)
    n += std::isnan(get(i)) ? 1 : 0;
  return n;
}

std::string tensorType(const std::vector<int64_t> &shape, kvfuse_dtype dtype) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + dtypeName(dtype) + ">";
}

std::string f32Attr(float v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9e : f32", static_cast<double>(v));
  return buf;
}

//===----------------------------------------------------------------------===//
// Compiling and loading
//===----------------------------------------------------------------------===//

std::string compilerPath() {
  return test::envOr("KVFUSE_COMPILE", KVFUSE_COMPILE_DEFAULT);
}

::testing::AssertionResult compileModule(Artifact &art,
                                         const std::string &module) {
  test::TempDir dir("kvfuse-cpu-exec");
  std::string input = dir.path() + "/module.mlir";
  if (!dir.path().empty())
    std::ofstream(input) << module;
  ::testing::AssertionResult result =
      art.compileFile(compilerPath(), input, "", dir);
  if (!result && !dir.path().empty())
    result << "\n--- input module ---\n" << module;
  return result;
}

//===----------------------------------------------------------------------===//
// Checking
//===----------------------------------------------------------------------===//

::testing::AssertionResult checkOutput(const Tensor &out,
                                       const std::vector<double> &ref,
                                       const std::vector<double> &refLse,
                                       int64_t rowLen, double tol) {
  if (out.size() != static_cast<int64_t>(ref.size()))
    return ::testing::AssertionFailure()
           << "output has " << out.size() << " elements, reference "
           << ref.size();
  std::vector<double> got = out.toDouble();
  int64_t nans = 0, firstNaN = -1;
  for (int64_t i = 0; i < out.size(); ++i)
    if (std::isnan(got[i])) {
      if (firstNaN < 0)
        firstNaN = i;
      ++nans;
    }
  if (nans)
    return ::testing::AssertionFailure()
           << nans << " of " << out.size()
           << " output elements are NaN (unwritten or computed NaN), first "
              "at flat index "
           << firstNaN;
  int64_t maskedRows = 0;
  for (size_t r = 0; r < refLse.size(); ++r) {
    if (refLse[r] != -std::numeric_limits<double>::infinity())
      continue;
    ++maskedRows;
    for (int64_t d = 0; d < rowLen; ++d)
      if (got[r * rowLen + d] != 0.0)
        return ::testing::AssertionFailure()
               << "fully masked row " << r << " has element " << d << " = "
               << got[r * rowLen + d] << ", expected exactly 0";
  }
  double err = kvfuse::ref::relativeError(got.data(), ref.data(), out.size());
  if (!(err <= tol)) {
    // Name the worst element to make a failure easy to place.
    int64_t worst = 0;
    for (int64_t i = 1; i < out.size(); ++i)
      if (std::fabs(got[i] - ref[i]) > std::fabs(got[worst] - ref[worst]))
        worst = i;
    return ::testing::AssertionFailure()
           << "relative error " << err << " > " << tol << "; worst element "
           << worst << " (row " << worst / rowLen << "): got " << got[worst]
           << ", reference " << ref[worst];
  }
  return ::testing::AssertionSuccess() << "relative error " << err << ", "
                                       << maskedRows << " fully masked rows";
}

::testing::AssertionResult
checkLse(const Tensor &lse, const std::vector<double> &ref, double tol) {
  const double negInf = -std::numeric_limits<double>::infinity();
  std::vector<double> got = lse.toDouble();
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << "LSE size mismatch";
  std::vector<double> a, b;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (ref[i] == negInf) {
      if (got[i] != negInf)
        return ::testing::AssertionFailure()
               << "LSE row " << i << " is " << got[i]
               << ", expected -inf (fully masked)";
      continue;
    }
    if (!std::isfinite(got[i]))
      return ::testing::AssertionFailure()
             << "LSE row " << i << " is " << got[i] << ", reference " << ref[i];
    a.push_back(got[i]);
    b.push_back(ref[i]);
  }
  double err = kvfuse::ref::relativeError(a.data(), b.data(),
                                          static_cast<int64_t>(a.size()));
  if (!(err <= tol))
    return ::testing::AssertionFailure()
           << "LSE relative error " << err << " > " << tol;
  return ::testing::AssertionSuccess();
}

double toleranceFor(kvfuse_dtype dtype) {
  switch (dtype) {
  case KVFUSE_F16:
    return 1e-3;
  case KVFUSE_BF16:
    return 1e-2;
  default:
    return 1e-5;
  }
}

kvfuse_status runEntry(const Artifact &art, const char *entry,
                       const std::vector<kvfuse_binding> &bindings,
                       const std::vector<int64_t> &seqIds) {
  return kvfuse_run(art.get(), entry, bindings.data(),
                    static_cast<int64_t>(bindings.size()),
                    seqIds.empty() ? nullptr : seqIds.data(),
                    static_cast<int64_t>(seqIds.size()));
}

} // namespace kvfuse::exec
