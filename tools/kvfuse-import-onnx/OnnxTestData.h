//===- OnnxTestData.h - ONNX backend test data helpers ----------*- C++ -*-===//
//
// Reading ONNX test models and TensorProto files into doubles; shared by the
// conformance tools. Header-only.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_TOOLS_KVFUSE_IMPORT_ONNX_ONNXTESTDATA_H
#define KVFUSE_TOOLS_KVFUSE_IMPORT_ONNX_ONNXTESTDATA_H

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace kvfuse::onnxtest {

inline bool readFile(const std::string &path, std::string &bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream os;
  os << in.rdbuf();
  bytes = os.str();
  return true;
}

inline float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float value;
  if (exp == 0)
    value = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    value = mant ? NAN : INFINITY;
  else
    value = std::ldexp(static_cast<float>(mant | 0x400), int(exp) - 25);
  return sign ? -value : value;
}

inline float bf16ToFloat(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

/// The tensor's elements as doubles (for comparison) and as raw storage in
/// the argument's dtype (for feeding).
inline bool decodeTensor(const onnx::TensorProto &t, std::vector<double> &values,
                  std::string &error) {
  int64_t n = 1;
  for (int64_t d : t.dims())
    n *= d;
  values.assign(n, 0.0);
  const std::string &raw = t.raw_data();
  bool hasRaw = t.has_raw_data();
  for (int64_t i = 0; i < n; ++i) {
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: {
      float f;
      if (hasRaw)
        std::memcpy(&f, raw.data() + 4 * i, 4);
      else
        f = t.float_data(i);
      values[i] = f;
      break;
    }
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: {
      uint16_t h;
      if (hasRaw)
        std::memcpy(&h, raw.data() + 2 * i, 2);
      else
        h = static_cast<uint16_t>(t.int32_data(i));
      values[i] = t.data_type() == onnx::TensorProto::FLOAT16
                      ? halfToFloat(h)
                      : bf16ToFloat(h);
      break;
    }
    case onnx::TensorProto::BOOL:
      values[i] = hasRaw ? raw[i] != 0 : t.int32_data(i) != 0;
      break;
    case onnx::TensorProto::INT64: {
      int64_t x;
      if (hasRaw)
        std::memcpy(&x, raw.data() + 8 * i, 8);
      else
        x = t.int64_data(i);
      values[i] = static_cast<double>(x);
      break;
    }
    case onnx::TensorProto::INT32:
      if (hasRaw) {
        int32_t x;
        std::memcpy(&x, raw.data() + 4 * i, 4);
        values[i] = x;
      } else {
        values[i] = t.int32_data(i);
      }
      break;
    default:
      error = "tensor '" + t.name() + "' has unsupported data type " +
              std::to_string(t.data_type());
      return false;
    }
  }
  if (hasRaw) {
    size_t width = t.data_type() == onnx::TensorProto::INT64    ? 8
                   : t.data_type() == onnx::TensorProto::BOOL   ? 1
                   : t.data_type() == onnx::TensorProto::FLOAT16 ||
                           t.data_type() == onnx::TensorProto::BFLOAT16
                       ? 2
                       : 4;
    if (raw.size() != width * n) {
      error = "tensor '" + t.name() + "' raw data has the wrong size";
      return false;
    }
  }
  return true;
}

inline uint16_t floatToHalf(float f) {
  // Round to nearest even; inputs here are exact f16 values already.
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  int32_t exp = int32_t((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mant = bits & 0x7fffff;
  if (((bits >> 23) & 0xff) == 0xff)
    return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 31)
    return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10)
      return sign;
    mant |= 0x800000;
    uint32_t shift = 14 - exp;
    uint32_t h = mant >> shift;
    uint32_t rest = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (h & 1)))
      ++h;
    return sign | h;
  }
  uint32_t h = (uint32_t(exp) << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
    ++h;
  return sign | h;
}

/// Reads <dir>/model.onnx and <dir>/test_data_set_0/{input,output}_<i>.pb,
/// keyed by tensor name.
inline bool readTestCase(const std::string &dir, onnx::ModelProto &model,
                         std::map<std::string, onnx::TensorProto> &inputs,
                         std::map<std::string, onnx::TensorProto> &outputs,
                         std::string &error) {
  std::string bytes;
  if (!readFile(dir + "/model.onnx", bytes) || !model.ParseFromString(bytes)) {
    error = "cannot read " + dir + "/model.onnx";
    return false;
  }
  for (int which = 0; which < 2; ++which) {
    for (int i = 0;; ++i) {
      std::string path = dir + "/test_data_set_0/" +
                         (which ? "output_" : "input_") + std::to_string(i) +
                         ".pb";
      if (!readFile(path, bytes))
        break;
      onnx::TensorProto tensor;
      if (!tensor.ParseFromString(bytes)) {
        error = "cannot parse " + path;
        return false;
      }
      (which ? outputs : inputs)[tensor.name()] = tensor;
    }
  }
  return true;
}

/// Elementwise |got - want| <= atol + rtol * |want| (NaN only matches NaN).
/// Prints one line for the output and returns whether all elements match.
inline bool compareOutput(const std::string &name,
                          const std::vector<double> &got,
                          const std::vector<double> &want, double rtol,
                          double atol) {
  double maxErr = 0.0;
  int64_t bad = 0, firstBad = -1;
  for (size_t i = 0; i < want.size(); ++i) {
    double err = std::fabs(got[i] - want[i]);
    // Equal values (also equal infinities) match; NaN only matches NaN.
    bool match = got[i] == want[i] ||
                 (std::isnan(want[i])
                      ? std::isnan(got[i])
                      : !std::isnan(got[i]) &&
                            err <= atol + rtol * std::fabs(want[i]));
    if (!match) {
      if (firstBad < 0)
        firstBad = static_cast<int64_t>(i);
      ++bad;
    }
    if (!std::isnan(err) && err > maxErr)
      maxErr = err;
  }
  std::printf("output %s: %s, %zu elements, max abs error %.3g",
              name.c_str(), bad ? "MISMATCH" : "ok", want.size(), maxErr);
  if (bad)
    std::printf(", %lld bad, first at %lld (got %g, want %g)",
                static_cast<long long>(bad), static_cast<long long>(firstBad),
                got[firstBad], want[firstBad]);
  std::printf("\n");
  return bad == 0;
}

} // namespace kvfuse::onnxtest

#endif // KVFUSE_TOOLS_KVFUSE_IMPORT_ONNX_ONNXTESTDATA_H
