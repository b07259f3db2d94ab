//===- DecoderTest.cpp - Decoder-layer examples compiled end to end -------===//
//
// examples/decoder holds decoder layers written in plain upstream MLIR
// (norm, projections, RoPE, unfused attention, output projection, residual,
// feed-forward); test/examples/Inputs holds the same layers with the
// attention spelled as exporters emit it (permuting copies, indexing maps,
// generic contractions, 4-D tensors, a causal mask built in the graph). For
// each layer this test
//  (a) runs kvfuse-opt with kv-raise-attention and checks that the attention
//      became exactly one kv.attention of the expected shapes and mask (or
//      causal attribute), with no softmax or attention contraction left;
//  (b) compiles it with kvfuse-compile twice, fused (default) and unfused
//      (--raise=false), runs both through the runtime on the same seeded
//      random inputs with NaN-poisoned outputs and compares them;
//  (c) compares both with a float64 reference of the whole layer computed
//      here from the inputs, so that a bug common to both paths is caught,
//      and checks that the inputs make the result depend on the mask, the
//      scale, RoPE and the head grouping (a reference getting one of them
//      wrong is far off).
//
// Uses only the runtime's C API; the tools run as separate processes.
//
//===----------------------------------------------------------------------===//

#include "ToolRunner.h"
#include "kvfuse/reference.h"
#include "kvfuse/runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

namespace {

using kvfuse::test::Artifact;
using kvfuse::test::envOr;
using kvfuse::test::readAll;
using kvfuse::test::runCommand;
using kvfuse::test::shellQuote;
using kvfuse::test::TempDir;

//===----------------------------------------------------------------------===//
// Tools and temporary files
//===----------------------------------------------------------------------===//

std::string compilerPath() {
  return envOr("KVFUSE_COMPILE", KVFUSE_COMPILE_DEFAULT);
}
std::string optPath() { return envOr("KVFUSE_OPT", KVFUSE_OPT_DEFAULT); }
std::string examplePath(const std::string &file) {
  return envOr("KVFUSE_DECODER_EXAMPLES", KVFUSE_DECODER_EXAMPLES_DEFAULT) +
         "/" + file;
}
/// The spelling variants in test/examples/Inputs.
std::string variantPath(const std::string &file) {
  return envOr("KVFUSE_DECODER_INPUTS", KVFUSE_DECODER_INPUTS_DEFAULT) + "/" +
         file;
}

/// Occurrences of `needle` in `text`.
int64_t countOf(const std::string &text, const std::string &needle) {
  int64_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size()))
    ++n;
  return n;
}

/// Compiles `file` with kvfuse-compile and `flags` into a temporary
/// directory and loads the artifact into `art`.
::testing::AssertionResult compileLayer(Artifact &art, const std::string &file,
                                        const std::string &flags) {
  TempDir dir("kvfuse-decoder");
  return art.compileFile(compilerPath(), file, flags, dir);
}

//===----------------------------------------------------------------------===//
// Float64 reference of the layers
//===----------------------------------------------------------------------===//

/// Row-major matrix in double.
using Mat = std::vector<double>;

Mat toDouble(const std::vector<float> &v) { return Mat(v.begin(), v.end()); }

/// [m, k] x [k, n].
Mat matmul(const Mat &a, const Mat &b, int64_t m, int64_t k, int64_t n) {
  Mat c(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j)
        c[i * n + j] += a[i * k + p] * b[p * n + j];
  return c;
}

/// `x + y`, or `x + y + bias` with a bias broadcast over rows.
Mat add(const Mat &x, const Mat &y, int64_t cols, const Mat *bias = nullptr) {
  Mat out(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    out[i] = x[i] + y[i] + (bias ? (*bias)[i % cols] : 0.0);
  return out;
}

Mat addBias(const Mat &x, const Mat &bias, int64_t cols) {
  Mat out(x);
  for (size_t i = 0; i < x.size(); ++i)
    out[i] += bias[i % cols];
  return out;
}

constexpr double kNormEps = 1e-5;

/// x / sqrt(mean(x^2) + eps) * g per row.
Mat rmsNorm(const Mat &x, const Mat &g, int64_t rows, int64_t cols) {
  Mat out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      ss += x[r * cols + c] * x[r * cols + c];
    double inv = 1.0 / std::sqrt(ss / cols + kNormEps);
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = x[r * cols + c] * inv * g[c];
  }
  return out;
}

/// (x - mean) / sqrt(var + eps) * g + b per row (biased variance).
Mat layerNorm(const Mat &x, const Mat &g, const Mat &b, int64_t rows,
              int64_t cols) {
  Mat out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0.0, var = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      mean += x[r * cols + c];
    mean /= cols;
    for (int64_t c = 0; c < cols; ++c)
      var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
    double inv = 1.0 / std::sqrt(var / cols + kNormEps);
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = (x[r * cols + c] - mean) * inv * g[c] + b[c];
  }
  return out;
}

/// Rotate-half RoPE of `x` = [S, H*D] (heads in the columns) with tables
/// [S, D]: x * cos + concat(-x[D/2:], x[:D/2]) * sin per head.
Mat rope(const Mat &x, const Mat &cos, const Mat &sin, int64_t s, int64_t h,
         int64_t d) {
  Mat out(x.size());
  int64_t half = d / 2;
  for (int64_t t = 0; t < s; ++t)
    for (int64_t hd = 0; hd < h; ++hd)
      for (int64_t i = 0; i < d; ++i) {
        const double *row = &x[t * h * d + hd * d];
        double rot = i < half ? -row[i + half] : row[i - half];
        out[t * h * d + hd * d + i] =
            row[i] * cos[t * d + i] + rot * sin[t * d + i];
      }
  return out;
}

/// Which part of the attention a reference gets deliberately wrong, to
/// show that the inputs make the result depend on it.
enum class Flaw { None, NoMask, NoScale, NoRope, InterleavedHeads };

const char *flawName(Flaw f) {
  switch (f) {
  case Flaw::None:
    return "none";
  case Flaw::NoMask:
    return "mask ignored";
  case Flaw::NoScale:
    return "no 1/sqrt(D) scale";
  case Flaw::NoRope:
    return "no RoPE";
  case Flaw::InterleavedHeads:
    return "query head h reads kv head h % Hkv";
  }
  return "?";
}

/// The additive causal mask [S, S]: 0 on and below the diagonal, -inf above
/// (what the examples take as `mask`, or build in the graph).
Mat causalMask(int64_t s) {
  Mat mask(s * s);
  for (int64_t i = 0; i < s; ++i)
    for (int64_t j = 0; j < s; ++j)
      mask[i * s + j] = j <= i ? 0.0 : -std::numeric_limits<double>::infinity();
  return mask;
}

/// Softmax attention of q = [S, Hq*D], k, v = [S, Hkv*D] (heads in the
/// columns) with an additive [S, S] mask; query head h reads kv head
/// h / (Hq / Hkv). Returns [S, Hq*D] with the heads merged.
Mat attention(const Mat &q, const Mat &k, const Mat &v, const Mat &mask,
              int64_t s, int64_t hq, int64_t hkv, int64_t d, Flaw flaw) {
  Mat out(s * hq * d, 0.0);
  int64_t group = hq / hkv;
  double scale = flaw == Flaw::NoScale ? 1.0 : 1.0 / std::sqrt(double(d));
  std::vector<double> p(s);
  for (int64_t h = 0; h < hq; ++h) {
    int64_t kh = flaw == Flaw::InterleavedHeads ? h % hkv : h / group;
    for (int64_t i = 0; i < s; ++i) {
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < s; ++j) {
        double dot = 0.0;
        for (int64_t e = 0; e < d; ++e)
          dot += q[i * hq * d + h * d + e] * k[j * hkv * d + kh * d + e];
        p[j] = dot * scale + (flaw == Flaw::NoMask ? 0.0 : mask[i * s + j]);
        mx = std::max(mx, p[j]);
      }
      double sum = 0.0;
      for (int64_t j = 0; j < s; ++j) {
        p[j] = std::exp(p[j] - mx); // exp(-inf) = 0 for masked keys
        sum += p[j];
      }
      for (int64_t j = 0; j < s; ++j)
        for (int64_t e = 0; e < d; ++e)
          out[i * hq * d + h * d + e] +=
              p[j] / sum * v[j * hkv * d + kh * d + e];
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

/// How a test fills one input.
enum class Fill {
  Activation, // uniform [-1, 1]
  Weight,     // uniform, variance 1 / fan-in (rows), so outputs stay O(1)
  Gain,       // norm scale, uniform [0.5, 1.5]
  Bias,       // uniform [-0.2, 0.2]
  CausalMask, // 0 on and below the diagonal, -inf above
  RopeCos,    // cos(pos * theta^(-2i/D)), frequencies repeated per half
  RopeSin,
};

struct InputSpec {
  std::string name;
  std::vector<int64_t> shape;
  Fill fill;
};

using Buffers = std::map<std::string, std::vector<float>>;

/// One decoder-layer example: its file, entry, inputs in manifest order,
/// what the raised kv.attention looks like and its float64 reference.
struct Layer {
  /// `path` is the file's full path (examplePath or variantPath).
  std::string path, entry;
  int64_t tokens, model;
  std::vector<InputSpec> inputs;
  /// Occurrences of ops in the unraised file (the attention's spelling).
  std::vector<std::pair<std::string, int64_t>> unfusedCounts = {
      {"linalg.softmax", 1}, {"linalg.batch_matmul", 2}};
  /// linalg.generic ops the raising removes (scale, mask add, and any
  /// generic spelling a transpose, contraction or mask).
  int64_t fusedGenerics = 2;
  /// Q, K, V and mask types of the kv.attention that raising must produce.
  std::array<std::string, 4> attentionTypes;
  /// Set when the mask is built in the graph: raising must drop it for the
  /// causal attribute with this offset (attentionTypes[3] is unused).
  std::optional<int64_t> causalOffset;
  /// Flaws whose reference must be far from the compiled result.
  std::vector<Flaw> flaws;
  std::function<Mat(const Buffers &, Flaw)> reference;
};

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<float> makeInput(const InputSpec &spec, std::mt19937 &rng) {
  std::vector<float> v(numElements(spec.shape));
  auto uniform = [&](float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    for (float &x : v)
      x = dist(rng);
  };
  switch (spec.fill) {
  case Fill::Activation:
    uniform(-1.0f, 1.0f);
    break;
  case Fill::Weight: {
    // Uniform [-a, a] has variance a^2 / 3.
    float a = std::sqrt(3.0f / static_cast<float>(spec.shape[0]));
    uniform(-a, a);
    break;
  }
  case Fill::Gain:
    uniform(0.5f, 1.5f);
    break;
  case Fill::Bias:
    uniform(-0.2f, 0.2f);
    break;
  case Fill::CausalMask: {
    int64_t s = spec.shape[0];
    for (int64_t i = 0; i < s; ++i)
      for (int64_t j = 0; j < s; ++j)
        v[i * s + j] = j <= i ? 0.0f : -std::numeric_limits<float>::infinity();
    break;
  }
  case Fill::RopeCos:
  case Fill::RopeSin: {
    int64_t s = spec.shape[0], d = spec.shape[1], half = d / 2;
    for (int64_t t = 0; t < s; ++t)
      for (int64_t i = 0; i < d; ++i) {
        double freq = std::pow(10000.0, -2.0 * double(i % half) / double(d));
        double angle = double(t) * freq;
        v[t * d + i] = static_cast<float>(
            spec.fill == Fill::RopeCos ? std::cos(angle) : std::sin(angle));
      }
    break;
  }
  }
  return v;
}

/// examples/decoder/llama_gqa.mlir: RMSNorm, GQA attention with RoPE,
/// SwiGLU feed-forward, two residuals.
Layer llamaLayer() {
  const int64_t s = 37, e = 120, hq = 6, hkv = 2, d = 20, f = 200;
  Layer l;
  l.path = examplePath("llama_gqa.mlir");
  l.entry = "llama_decoder_layer";
  l.tokens = s;
  l.model = e;
  l.inputs = {
      {"x", {s, e}, Fill::Activation},    {"attn_norm", {e}, Fill::Gain},
      {"wq", {e, hq * d}, Fill::Weight},  {"wk", {e, hkv * d}, Fill::Weight},
      {"wv", {e, hkv * d}, Fill::Weight}, {"wo", {hq * d, e}, Fill::Weight},
      {"ffn_norm", {e}, Fill::Gain},      {"w_gate", {e, f}, Fill::Weight},
      {"w_up", {e, f}, Fill::Weight},     {"w_down", {f, e}, Fill::Weight},
      {"mask", {s, s}, Fill::CausalMask}, {"cos", {s, d}, Fill::RopeCos},
      {"sin", {s, d}, Fill::RopeSin},
  };
  l.attentionTypes = {"tensor<1x6x37x20xf32>", "tensor<1x2x37x20xf32>",
                      "tensor<1x2x37x20xf32>", "tensor<1x6x37x37xf32>"};
  l.flaws = {Flaw::NoMask, Flaw::NoScale, Flaw::NoRope, Flaw::InterleavedHeads};
  l.reference = [=](const Buffers &in, Flaw flaw) {
    auto m = [&](const char *name) { return toDouble(in.at(name)); };
    Mat x = m("x");
    Mat xn = rmsNorm(x, m("attn_norm"), s, e);
    Mat q = matmul(xn, m("wq"), s, e, hq * d);
    Mat k = matmul(xn, m("wk"), s, e, hkv * d);
    Mat v = matmul(xn, m("wv"), s, e, hkv * d);
    if (flaw != Flaw::NoRope) {
      q = rope(q, m("cos"), m("sin"), s, hq, d);
      k = rope(k, m("cos"), m("sin"), s, hkv, d);
    }
    Mat att = attention(q, k, v, m("mask"), s, hq, hkv, d, flaw);
    Mat h = add(x, matmul(att, m("wo"), s, hq * d, e), e);
    Mat hn = rmsNorm(h, m("ffn_norm"), s, e);
    Mat gate = matmul(hn, m("w_gate"), s, e, f);
    Mat up = matmul(hn, m("w_up"), s, e, f);
    for (size_t i = 0; i < gate.size(); ++i)
      gate[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
    return add(h, matmul(gate, m("w_down"), s, f, e), e);
  };
  return l;
}

/// examples/decoder/gpt2_mha.mlir: LayerNorm, fused QKV projection with
/// bias, MHA attention, GELU (tanh) feed-forward, two residuals.
Layer gpt2Layer() {
  const int64_t s = 37, e = 72, h = 4, d = 18, f = 288;
  Layer l;
  l.path = examplePath("gpt2_mha.mlir");
  l.entry = "gpt2_decoder_layer";
  l.tokens = s;
  l.model = e;
  l.inputs = {
      {"x", {s, e}, Fill::Activation}, {"ln1_g", {e}, Fill::Gain},
      {"ln1_b", {e}, Fill::Bias},      {"w_qkv", {e, 3 * e}, Fill::Weight},
      {"b_qkv", {3 * e}, Fill::Bias},  {"w_o", {e, e}, Fill::Weight},
      {"b_o", {e}, Fill::Bias},        {"ln2_g", {e}, Fill::Gain},
      {"ln2_b", {e}, Fill::Bias},      {"w_fc", {e, f}, Fill::Weight},
      {"b_fc", {f}, Fill::Bias},       {"w_proj", {f, e}, Fill::Weight},
      {"b_proj", {e}, Fill::Bias},     {"mask", {s, s}, Fill::CausalMask},
  };
  l.attentionTypes = {"tensor<1x4x37x18xf32>", "tensor<1x4x37x18xf32>",
                      "tensor<1x4x37x18xf32>", "tensor<1x4x37x37xf32>"};
  l.flaws = {Flaw::NoMask, Flaw::NoScale};
  l.reference = [=](const Buffers &in, Flaw flaw) {
    auto m = [&](const char *name) { return toDouble(in.at(name)); };
    Mat x = m("x");
    Mat xn = layerNorm(x, m("ln1_g"), m("ln1_b"), s, e);
    Mat qkv = addBias(matmul(xn, m("w_qkv"), s, e, 3 * e), m("b_qkv"), 3 * e);
    Mat q(s * e), k(s * e), v(s * e);
    for (int64_t t = 0; t < s; ++t)
      for (int64_t c = 0; c < e; ++c) {
        q[t * e + c] = qkv[t * 3 * e + c];
        k[t * e + c] = qkv[t * 3 * e + e + c];
        v[t * e + c] = qkv[t * 3 * e + 2 * e + c];
      }
    // Variants that build the causal mask in the graph take no `mask`.
    Mat mask = in.count("mask") ? m("mask") : causalMask(s);
    Mat att = attention(q, k, v, mask, s, h, h, d, flaw);
    Mat bo = m("b_o");
    Mat hid = add(x, matmul(att, m("w_o"), s, e, e), e, &bo);
    Mat hn = layerNorm(hid, m("ln2_g"), m("ln2_b"), s, e);
    Mat fc = addBias(matmul(hn, m("w_fc"), s, e, f), m("b_fc"), f);
    const double c = std::sqrt(2.0 / std::acos(-1.0));
    for (double &z : fc)
      z = 0.5 * z * (1.0 + std::tanh(c * (z + 0.044715 * z * z * z)));
    Mat bp = m("b_proj");
    return add(hid, matmul(fc, m("w_proj"), s, f, e), e, &bp);
  };
  return l;
}

/// test/examples/Inputs/gpt2_generic_transpose.mlir: K^T as a permuting
/// linalg.generic copy.
Layer gpt2GenericTransposeLayer() {
  Layer l = gpt2Layer();
  l.path = variantPath("gpt2_generic_transpose.mlir");
  l.unfusedCounts = {{"linalg.softmax", 1},
                     {"linalg.batch_matmul", 2},
                     {"linalg.transpose", 4}}; // heads split / merged only
  l.fusedGenerics = 3; // the copy, the scale, the mask add
  return l;
}

/// test/examples/Inputs/gpt2_batch_matmul_maps.mlir: Q K^T as a batch_matmul
/// whose maps transpose K, P V as a multiply-add generic taking V first.
Layer gpt2BatchMatmulMapsLayer() {
  Layer l = gpt2Layer();
  l.path = variantPath("gpt2_batch_matmul_maps.mlir");
  l.unfusedCounts = {{"linalg.softmax", 1},
                     {"linalg.batch_matmul", 1},
                     {"linalg.transpose", 4}}; // heads split / merged only
  l.fusedGenerics = 3;                         // the scale, the mask add, P V
  return l;
}

/// test/examples/Inputs/gpt2_exporter_4d.mlir: [1, H, S, D] heads collapsed
/// for batch_matmul, K transposed in 4-D, the causal mask built in the graph
/// (no `mask` input).
Layer gpt2Exporter4dLayer() {
  Layer l = gpt2Layer();
  l.path = variantPath("gpt2_exporter_4d.mlir");
  l.inputs.erase(
      std::remove_if(l.inputs.begin(), l.inputs.end(),
                     [](const InputSpec &in) { return in.name == "mask"; }),
      l.inputs.end());
  l.unfusedCounts = {{"linalg.softmax", 1},
                     {"linalg.batch_matmul", 2},
                     {"linalg.index", 2},
                     {"tensor.collapse_shape", 4}}; // Q, V, K^T, merge
  l.fusedGenerics = 3; // the scale, the mask add, the mask itself
  l.causalOffset = 0;
  return l;
}

/// test/examples/Inputs/llama_gqa_4d.mlir: GQA on [1, H, S, D] tensors with
/// repeat_kv and both contractions as 4-D multiply-add generics.
Layer llamaGqa4dLayer() {
  Layer l = llamaLayer();
  l.path = variantPath("llama_gqa_4d.mlir");
  l.unfusedCounts = {{"linalg.softmax", 1},
                     {"linalg.batch_matmul", 0},
                     {"linalg.broadcast", 3}}; // K, V repeats and the mask
  l.fusedGenerics = 4; // Q K^T, the scale, the mask add, P V
  return l;
}

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

/// Fused vs unfused, and each vs the float64 reference (f32 arithmetic
/// through ~7 contractions of length <= 288 stays far below this).
constexpr double kTolerance = 1e-5;
/// A reference with one flaw must be at least this far off.
constexpr double kFlawDistance = 1e-2;

double relErr(const std::vector<float> &got, const Mat &ref) {
  Mat g = toDouble(got);
  return kvfuse::ref::relativeError(g.data(), ref.data(),
                                    static_cast<int64_t>(g.size()));
}

/// The manifest lists the layer's inputs in order with their shapes, then
/// one [S, E] f32 output.
void expectManifest(const Artifact &art, const Layer &l) {
  int64_t numArgs = -1, stepTokens = -1;
  ASSERT_EQ(
      kvfuse_artifact_entry(art.get(), l.entry.c_str(), &numArgs, &stepTokens),
      KVFUSE_OK)
      << kvfuse_last_error();
  ASSERT_EQ(numArgs, static_cast<int64_t>(l.inputs.size()) + 1);
  EXPECT_EQ(stepTokens, 0);
  for (int64_t i = 0; i < numArgs; ++i) {
    const char *name = nullptr, *kind = nullptr, *role = nullptr;
    kvfuse_dtype dtype;
    int64_t count = 0;
    ASSERT_EQ(kvfuse_artifact_arg(art.get(), l.entry.c_str(), i, &name, &kind,
                                  &role, &dtype, &count, nullptr),
              KVFUSE_OK)
        << kvfuse_last_error();
    bool isOut = i == numArgs - 1;
    EXPECT_STREQ(name, isOut ? "out0" : l.inputs[i].name.c_str());
    EXPECT_STREQ(kind, "tensor");
    EXPECT_STREQ(role, isOut ? "output" : "input");
    EXPECT_EQ(dtype, KVFUSE_F32);
    EXPECT_EQ(count,
              isOut ? l.tokens * l.model : numElements(l.inputs[i].shape));
  }
}

/// Runs the layer on copies of `inputs` (checking that the entry leaves its
/// inputs alone, since both artifacts must see the same data) into a
/// NaN-poisoned output.
std::vector<float> runLayer(const Artifact &art, const Layer &l,
                            const Buffers &inputs) {
  Buffers copies = inputs;
  std::vector<float> out(l.tokens * l.model,
                         std::numeric_limits<float>::quiet_NaN());
  std::vector<kvfuse_binding> bindings;
  for (auto &[name, data] : copies)
    bindings.push_back({name.c_str(), data.data(),
                        static_cast<int64_t>(data.size() * sizeof(float)),
                        nullptr});
  bindings.push_back({"out0", out.data(),
                      static_cast<int64_t>(out.size() * sizeof(float)),
                      nullptr});
  kvfuse_status st =
      kvfuse_run(art.get(), l.entry.c_str(), bindings.data(),
                 static_cast<int64_t>(bindings.size()), nullptr, 0);
  EXPECT_EQ(st, KVFUSE_OK) << kvfuse_last_error();
  for (auto &[name, data] : copies)
    EXPECT_TRUE(std::memcmp(data.data(), inputs.at(name).data(),
                            data.size() * sizeof(float)) == 0)
        << "the entry wrote into its input " << name;
  return out;
}

int64_t countNaN(const std::vector<float> &v) {
  int64_t n = 0;
  for (float x : v)
    n += std::isnan(x) ? 1 : 0;
  return n;
}

/// (a): the raising turns the unfused attention into one kv.attention.
void checkRaising(const Layer &l) {
  TempDir dir("kvfuse-decoder");
  ASSERT_FALSE(dir.path().empty()) << dir.failure();
  const std::string &file = l.path;
  std::string plain = dir.path() + "/plain.mlir";
  std::string raised = dir.path() + "/raised.mlir";
  std::string err = dir.path() + "/err.log";
  std::string opt = shellQuote(optPath());
  ASSERT_EQ(runCommand(opt + " " + shellQuote(file), plain, err), 0)
      << readAll(err);
  ASSERT_EQ(runCommand(opt + " " + shellQuote(file) +
                           " --pass-pipeline='builtin.module(func.func("
                           "kv-raise-attention))'",
                       raised, err),
            0)
      << readAll(err);
  std::string before = readAll(plain), after = readAll(raised);
  // The example is unfused attention (one softmax between two contractions
  // spelled as the layer says), and no kv op.
  for (const auto &[needle, count] : l.unfusedCounts)
    EXPECT_EQ(countOf(before, needle), count) << needle << " in\n" << before;
  EXPECT_EQ(countOf(before, "kv."), countOf(before, "kv.name")) << before;
  // Raised: exactly one kv.attention over [1, H, S, D] views with the mask
  // or the causal attribute; the softmax, both contractions and the
  // elementwise steps between them are gone (fused into it).
  EXPECT_EQ(countOf(after, "kv.attention "), 1) << after;
  EXPECT_EQ(countOf(after, "linalg.softmax"), 0) << after;
  EXPECT_EQ(countOf(after, "linalg.batch_matmul"), 0) << after;
  EXPECT_EQ(countOf(before, "linalg.generic") -
                countOf(after, "linalg.generic"),
            l.fusedGenerics)
      << after;
  const auto &t = l.attentionTypes;
  std::string operands = "kv\\.attention %[^ ]+, %[^ ]+, %[^ ]+ : " + t[0] +
                         ", " + t[1] + ", " + t[2];
  std::string expected;
  if (l.causalOffset) {
    // No mask operand; `causal` with the offset (0 is the default and is
    // not printed).
    std::string offset =
        *l.causalOffset
            ? ", causal_offset = " + std::to_string(*l.causalOffset) + " : i64"
            : "";
    expected = operands + " outs\\(%[^ ]+ : [^)]+\\) \\{causal" + offset +
               ", scale = ";
    EXPECT_EQ(countOf(after, " mask("), 0) << after;
  } else {
    expected = operands + " mask\\(%[^ ]+ : " + t[3] + "\\)";
  }
  EXPECT_TRUE(std::regex_search(after, std::regex(expected)))
      << "expected " << expected << " in\n"
      << after;
}

/// (b) and (c): fused and unfused artifacts on the same inputs, against each
/// other and the float64 reference.
void checkExecution(const Layer &l) {
  const std::string &file = l.path;
  Artifact fused, unfused;
  ASSERT_TRUE(compileLayer(fused, file, ""));
  ASSERT_TRUE(compileLayer(unfused, file, "--raise=false"));
  expectManifest(fused, l);
  expectManifest(unfused, l);
  if (::testing::Test::HasFatalFailure())
    return;

  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    Buffers inputs;
    for (const InputSpec &spec : l.inputs)
      inputs[spec.name] = makeInput(spec, rng);

    std::vector<float> outFused = runLayer(fused, l, inputs);
    std::vector<float> outUnfused = runLayer(unfused, l, inputs);
    // Every element written (the poison is gone) and finite.
    ASSERT_EQ(countNaN(outFused), 0) << "fused output has unwritten elements";
    ASSERT_EQ(countNaN(outUnfused), 0)
        << "unfused output has unwritten elements";

    Mat ref = l.reference(inputs, Flaw::None);
    double fusedVsUnfused = relErr(outFused, toDouble(outUnfused));
    double fusedVsRef = relErr(outFused, ref);
    double unfusedVsRef = relErr(outUnfused, ref);
    // The layer's update y - x alone, so the residual cannot hide an error.
    Mat x = toDouble(inputs.at("x")), refUpdate(ref.size());
    std::vector<float> fusedUpdate(ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      refUpdate[i] = ref[i] - x[i];
      fusedUpdate[i] = static_cast<float>(double(outFused[i]) - x[i]);
    }
    double updateVsRef = relErr(fusedUpdate, refUpdate);
    // Different code ran: the default artifact is not the unfused one.
    int64_t bitsDiffer = 0;
    for (size_t i = 0; i < outFused.size(); ++i)
      bitsDiffer += std::memcmp(&outFused[i], &outUnfused[i], 4) != 0;
    std::printf("[ %s seed %u ] rel. error fused vs unfused %.3g, fused vs "
                "f64 %.3g, unfused vs f64 %.3g, fused update (y - x) vs f64 "
                "%.3g; %lld of %zu elements differ in bits\n",
                std::filesystem::path(l.path).filename().c_str(), seed,
                fusedVsUnfused, fusedVsRef, unfusedVsRef, updateVsRef,
                static_cast<long long>(bitsDiffer), outFused.size());
    EXPECT_LE(fusedVsUnfused, kTolerance);
    EXPECT_LE(fusedVsRef, kTolerance);
    EXPECT_LE(unfusedVsRef, kTolerance);
    EXPECT_LE(updateVsRef, kTolerance);
    EXPECT_GT(bitsDiffer, 0)
        << "fused and unfused outputs are bit-identical: the default "
           "compile did not run different (raised) attention code";

    // The data exercises every part of the attention: getting one wrong
    // moves the result by far more than the tolerance.
    for (Flaw flaw : l.flaws) {
      double off = relErr(outFused, l.reference(inputs, flaw));
      std::printf("    reference with %s: %.3g away\n", flawName(flaw), off);
      EXPECT_GT(off, kFlawDistance) << "reference with " << flawName(flaw)
                                    << " is only " << off << " away";
    }
  }
}

//===----------------------------------------------------------------------===//
// Attention kernels in every recognised spelling
//===----------------------------------------------------------------------===//

/// One function of test/examples/Inputs/attention_spellings.mlir:
/// softmax(0.5 * Q K^T [causal]) V with its inputs (arg0..arg2 = Q, K, V) in
/// [batch..., S, D] order, so that the flat data is [heads, S, D] with the
/// batch dims folded into `heads`; flat query head n reads kv head n / group.
struct Kernel {
  const char *entry;
  int64_t heads, group, sq, skv, d, dv;
  std::optional<int64_t> causalOffset;
};

const std::vector<Kernel> &spellingKernels() {
  static const std::vector<Kernel> kernels = {
      {"copy_generic_transpose", 2, 1, 3, 5, 4, 6, std::nullopt},
      {"batch_matmul_maps", 2, 1, 3, 5, 4, 6, std::nullopt},
      {"contract_maps", 2, 1, 3, 5, 4, 6, std::nullopt},
      {"generic_contractions", 2, 1, 3, 5, 4, 6, std::nullopt},
      {"generic_4d", 4, 1, 3, 5, 4, 6, std::nullopt},
      {"generic_4d_key_map_transpose", 4, 1, 3, 5, 4, 6, std::nullopt},
      {"generic_4d_decomposed_softmax", 4, 1, 3, 5, 4, 6, std::nullopt},
      {"generic_4d_tosa_softmax", 4, 1, 3, 5, 4, 6, std::nullopt},
      {"transpose_4d_collapse", 2, 1, 3, 5, 4, 6, std::nullopt},
      {"collapse_batch_and_heads", 4, 1, 3, 5, 4, 6, std::nullopt},
      {"matmul_single_head", 1, 1, 3, 5, 4, 6, std::nullopt},
      {"generic_4d_gqa", 4, 2, 3, 5, 4, 6, std::nullopt},
      {"gqa_generic_broadcast", 4, 2, 3, 5, 4, 6, std::nullopt},
      {"generic_4d_gqa_repeat_kv", 4, 2, 3, 5, 4, 6, std::nullopt},
      {"causal_index_generic", 2, 1, 3, 5, 4, 6, 2},
      {"causal_constant_broadcast", 2, 1, 3, 5, 4, 6, 0},
      {"causal_bool_select", 2, 1, 3, 5, 4, 6, 2},
      {"causal_i32_arith", 2, 1, 3, 5, 4, 6, 2},
      {"causal_sliced_bool_constant", 2, 1, 3, 5, 4, 6, 2},
      {"causal_broadcast_map", 2, 1, 3, 5, 4, 6, 2},
  };
  return kernels;
}

/// What a kernel reference gets deliberately wrong.
enum class KernelFlaw { None, NoScale, NoCausal, InterleavedHeads };

Mat kernelReference(const Kernel &kn, const Mat &q, const Mat &k, const Mat &v,
                    KernelFlaw flaw) {
  int64_t kvHeads = kn.heads / kn.group;
  double scale = flaw == KernelFlaw::NoScale ? 1.0 : 0.5;
  Mat out(kn.heads * kn.sq * kn.dv, 0.0);
  std::vector<double> p(kn.skv);
  for (int64_t n = 0; n < kn.heads; ++n) {
    int64_t kh =
        flaw == KernelFlaw::InterleavedHeads ? n % kvHeads : n / kn.group;
    for (int64_t i = 0; i < kn.sq; ++i) {
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < kn.skv; ++j) {
        double dot = 0.0;
        for (int64_t e = 0; e < kn.d; ++e)
          dot +=
              q[(n * kn.sq + i) * kn.d + e] * k[(kh * kn.skv + j) * kn.d + e];
        bool hidden = kn.causalOffset && flaw != KernelFlaw::NoCausal &&
                      j > i + *kn.causalOffset;
        p[j] = hidden ? -std::numeric_limits<double>::infinity() : dot * scale;
        mx = std::max(mx, p[j]);
      }
      double sum = 0.0;
      for (int64_t j = 0; j < kn.skv; ++j) {
        p[j] = std::exp(p[j] - mx);
        sum += p[j];
      }
      for (int64_t j = 0; j < kn.skv; ++j)
        for (int64_t e = 0; e < kn.dv; ++e)
          out[(n * kn.sq + i) * kn.dv + e] +=
              p[j] / sum * v[(kh * kn.skv + j) * kn.dv + e];
    }
  }
  return out;
}

/// The text of function `entry` in printed IR.
std::string functionText(const std::string &ir, const std::string &entry) {
  size_t begin = ir.find("func.func @" + entry + "(");
  if (begin == std::string::npos)
    return "";
  size_t end = ir.find("func.func @", begin + 1);
  return ir.substr(begin, end == std::string::npos ? end : end - begin);
}

std::string spellingsPath() { return variantPath("attention_spellings.mlir"); }

// Every kernel raises to exactly one kv.attention, with `causal` and the
// right offset (and no mask tensor) for the masks built in the graph, and
// nothing of the unfused attention left.
TEST(AttentionSpelling, EveryKernelRaises) {
  TempDir dir("kvfuse-decoder");
  ASSERT_FALSE(dir.path().empty()) << dir.failure();
  std::string raised = dir.path() + "/raised.mlir";
  std::string err = dir.path() + "/err.log";
  ASSERT_EQ(runCommand(shellQuote(optPath()) + " " +
                           shellQuote(spellingsPath()) +
                           " --pass-pipeline='builtin.module(func.func("
                           "kv-raise-attention))'",
                       raised, err),
            0)
      << readAll(err);
  std::string after = readAll(raised);
  for (const Kernel &kn : spellingKernels()) {
    SCOPED_TRACE(kn.entry);
    std::string f = functionText(after, kn.entry);
    ASSERT_FALSE(f.empty()) << "no function @" << kn.entry << " in\n" << after;
    EXPECT_EQ(countOf(f, "kv.attention "), 1) << f;
    for (const char *gone :
         {"linalg.softmax", "linalg.batch_matmul", "linalg.matmul",
          "linalg.contract", "linalg.generic", "linalg.transpose",
          "linalg.broadcast", "math.exp"})
      EXPECT_EQ(countOf(f, gone), 0) << gone << " left in\n" << f;
    EXPECT_EQ(countOf(f, " mask("), 0) << f;
    if (kn.causalOffset) {
      std::string attrs =
          *kn.causalOffset
              ? "{causal, causal_offset = " + std::to_string(*kn.causalOffset) +
                    " : i64, scale = "
              : "{causal, scale = ";
      EXPECT_EQ(countOf(f, attrs), 1) << attrs << " expected in\n" << f;
    } else {
      EXPECT_EQ(countOf(f, "causal"), 0) << f;
    }
  }
}

// Fused (raised) and unfused compiles of every kernel agree with each other
// and with the float64 reference, and the inputs make the result depend on
// the scale, the causal mask and the head grouping.
TEST(AttentionSpelling, FusedMatchesUnfusedAndReference) {
  Artifact fused, unfused;
  ASSERT_TRUE(compileLayer(fused, spellingsPath(), ""));
  ASSERT_TRUE(compileLayer(unfused, spellingsPath(), "--raise=false"));
  for (const Kernel &kn : spellingKernels()) {
    SCOPED_TRACE(kn.entry);
    int64_t kvHeads = kn.heads / kn.group;
    // Same shapes in both artifacts: Q, K, V then the output.
    std::array<int64_t, 4> counts = {
        kn.heads * kn.sq * kn.d, kvHeads * kn.skv * kn.d,
        kvHeads * kn.skv * kn.dv, kn.heads * kn.sq * kn.dv};
    for (const Artifact *art : {&fused, &unfused}) {
      int64_t numArgs = -1, stepTokens = -1;
      ASSERT_EQ(
          kvfuse_artifact_entry(art->get(), kn.entry, &numArgs, &stepTokens),
          KVFUSE_OK)
          << kvfuse_last_error();
      ASSERT_EQ(numArgs, 4);
      for (int64_t i = 0; i < 4; ++i) {
        const char *name = nullptr;
        int64_t count = 0;
        ASSERT_EQ(kvfuse_artifact_arg(art->get(), kn.entry, i, &name, nullptr,
                                      nullptr, nullptr, &count, nullptr),
                  KVFUSE_OK)
            << kvfuse_last_error();
        EXPECT_STREQ(name,
                     i == 3 ? "out0" : ("arg" + std::to_string(i)).c_str());
        EXPECT_EQ(count, counts[i]);
      }
    }
    if (::testing::Test::HasFatalFailure())
      return;

    int64_t bitsDiffer = 0;
    for (unsigned seed : {1u, 2u, 3u}) {
      SCOPED_TRACE("seed " + std::to_string(seed));
      std::mt19937 rng(seed);
      std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
      std::array<std::vector<float>, 3> in;
      for (int64_t i = 0; i < 3; ++i) {
        in[i].resize(counts[i]);
        for (float &x : in[i])
          x = dist(rng);
      }
      auto run = [&](const Artifact &art) {
        std::array<std::vector<float>, 3> copies = in;
        std::vector<float> out(counts[3],
                               std::numeric_limits<float>::quiet_NaN());
        std::vector<kvfuse_binding> bindings;
        for (int64_t i = 0; i < 3; ++i)
          bindings.push_back(
              {i == 0   ? "arg0"
               : i == 1 ? "arg1"
                        : "arg2",
               copies[i].data(),
               static_cast<int64_t>(copies[i].size() * sizeof(float)),
               nullptr});
        bindings.push_back({"out0", out.data(),
                            static_cast<int64_t>(out.size() * sizeof(float)),
                            nullptr});
        EXPECT_EQ(kvfuse_run(art.get(), kn.entry, bindings.data(),
                             static_cast<int64_t>(bindings.size()), nullptr, 0),
                  KVFUSE_OK)
            << kvfuse_last_error();
        for (int64_t i = 0; i < 3; ++i)
          EXPECT_TRUE(copies[i] == in[i]) << "the entry wrote into arg" << i;
        return out;
      };
      std::vector<float> outFused = run(fused), outUnfused = run(unfused);
      ASSERT_EQ(countNaN(outFused), 0) << "fused output has unwritten elements";
      ASSERT_EQ(countNaN(outUnfused), 0)
          << "unfused output has unwritten elements";
      Mat q = toDouble(in[0]), k = toDouble(in[1]), v = toDouble(in[2]);
      Mat ref = kernelReference(kn, q, k, v, KernelFlaw::None);
      double fusedVsUnfused = relErr(outFused, toDouble(outUnfused));
      double fusedVsRef = relErr(outFused, ref);
      double unfusedVsRef = relErr(outUnfused, ref);
      EXPECT_LE(fusedVsUnfused, kTolerance);
      EXPECT_LE(fusedVsRef, kTolerance);
      EXPECT_LE(unfusedVsRef, kTolerance);
      for (size_t i = 0; i < outFused.size(); ++i)
        bitsDiffer += std::memcmp(&outFused[i], &outUnfused[i], 4) != 0;
      std::vector<KernelFlaw> flaws = {KernelFlaw::NoScale};
      if (kn.causalOffset)
        flaws.push_back(KernelFlaw::NoCausal);
      if (kn.group > 1)
        flaws.push_back(KernelFlaw::InterleavedHeads);
      for (KernelFlaw flaw : flaws) {
        double off = relErr(outFused, kernelReference(kn, q, k, v, flaw));
        EXPECT_GT(off, kFlawDistance)
            << "reference with flaw " << static_cast<int>(flaw) << " is only "
            << off << " away";
      }
      if (seed == 1)
        std::printf("[ %s ] rel. error fused vs unfused %.3g, fused vs f64 "
                    "%.3g, unfused vs f64 %.3g\n",
                    kn.entry, fusedVsUnfused, fusedVsRef, unfusedVsRef);
    }
    // Different code ran: the default artifact is not the unfused one.
    EXPECT_GT(bitsDiffer, 0) << "fused and unfused outputs are bit-identical";
  }
}

TEST(DecoderLayer, LlamaRaisesToKvAttention) { checkRaising(llamaLayer()); }
TEST(DecoderLayer, LlamaFusedMatchesUnfusedAndReference) {
  checkExecution(llamaLayer());
}
TEST(DecoderLayer, Gpt2RaisesToKvAttention) { checkRaising(gpt2Layer()); }
TEST(DecoderLayer, Gpt2FusedMatchesUnfusedAndReference) {
  checkExecution(gpt2Layer());
}

// The same layers with the attention spelled differently: raising must
// produce the same kv.attention, and fused must match unfused.
TEST(DecoderLayerSpelling, Gpt2GenericTransposeRaises) {
  checkRaising(gpt2GenericTransposeLayer());
}
TEST(DecoderLayerSpelling, Gpt2GenericTransposeFusedMatchesUnfused) {
  checkExecution(gpt2GenericTransposeLayer());
}
TEST(DecoderLayerSpelling, Gpt2BatchMatmulMapsRaises) {
  checkRaising(gpt2BatchMatmulMapsLayer());
}
TEST(DecoderLayerSpelling, Gpt2BatchMatmulMapsFusedMatchesUnfused) {
  checkExecution(gpt2BatchMatmulMapsLayer());
}
TEST(DecoderLayerSpelling, Gpt2Exporter4dRaisesWithCausalMask) {
  checkRaising(gpt2Exporter4dLayer());
}
TEST(DecoderLayerSpelling, Gpt2Exporter4dFusedMatchesUnfused) {
  checkExecution(gpt2Exporter4dLayer());
}
TEST(DecoderLayerSpelling, LlamaGqa4dRaises) {
  checkRaising(llamaGqa4dLayer());
}
TEST(DecoderLayerSpelling, LlamaGqa4dFusedMatchesUnfused) {
  checkExecution(llamaGqa4dLayer());
}

//===----------------------------------------------------------------------===//
// A decode step writing a static-size cache tensor with tensor.insert_slice
//===----------------------------------------------------------------------===//

/// Inputs/cache_insert_decode.mlir: Q [H, 1, D], caches [H, C, D] (K and V),
/// the step's K/V rows [H, 1, D] and the position `past` as tensor<1xi32>;
/// results: the output [H, 1, D] and both updated caches.
struct CacheStep {
  static constexpr int64_t heads = 2, capacity = 64, d = 8;
  static constexpr int32_t past = 37;
};

std::string cacheInsertPath() {
  return variantPath("cache_insert_decode.mlir");
}

/// softmax(0.5 * q k^T) v over the cache after the write, keys j < past + 1
/// (all 64 slots with `ignoreLength`).
Mat cacheStepReference(const Mat &q, const Mat &kc, const Mat &vc,
                       bool ignoreLength) {
  using S = CacheStep;
  int64_t visible = ignoreLength ? S::capacity : S::past + 1;
  Mat out(S::heads * S::d, 0.0);
  for (int64_t h = 0; h < S::heads; ++h) {
    std::vector<double> p(visible);
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < visible; ++j) {
      double dot = 0.0;
      for (int64_t e = 0; e < S::d; ++e)
        dot += q[h * S::d + e] * kc[(h * S::capacity + j) * S::d + e];
      p[j] = 0.5 * dot;
      mx = std::max(mx, p[j]);
    }
    double sum = 0.0;
    for (double &x : p) {
      x = std::exp(x - mx);
      sum += x;
    }
    for (int64_t j = 0; j < visible; ++j)
      for (int64_t e = 0; e < S::d; ++e)
        out[h * S::d + e] += p[j] / sum * vc[(h * S::capacity + j) * S::d + e];
  }
  return out;
}

// The masked attention over the cache raises to one kv.attention with
// kv_lens and no mask tensor; the insert_slice cache updates stay.
TEST(CacheInsert, DecodeStepRaisesToKvLens) {
  TempDir dir("kvfuse-decoder");
  ASSERT_FALSE(dir.path().empty()) << dir.failure();
  std::string raised = dir.path() + "/raised.mlir";
  std::string err = dir.path() + "/err.log";
  ASSERT_EQ(runCommand(shellQuote(optPath()) + " " +
                           shellQuote(cacheInsertPath()) +
                           " --pass-pipeline='builtin.module(func.func("
                           "kv-raise-attention))'",
                       raised, err),
            0)
      << readAll(err);
  std::string after = readAll(raised);
  EXPECT_EQ(countOf(after, "kv.attention "), 1) << after;
  EXPECT_EQ(countOf(after, " kv_lens("), 1) << after;
  EXPECT_EQ(countOf(after, " mask("), 0) << after;
  EXPECT_EQ(countOf(after, "tensor.insert_slice "), 2) << after;
  for (const char *gone : {"linalg.softmax", "linalg.batch_matmul",
                           "linalg.generic", "linalg.transpose"})
    EXPECT_EQ(countOf(after, gone), 0) << gone << " left in\n" << after;
}

// Fused (kv_lens) and unfused (explicit mask) compiles agree with each other
// and with the float64 reference on one decode step at past = 37 of 64
// slots; the updated caches hold the new rows at slot 37. The slots past 38
// hold large values, so attending to them is far off.
TEST(CacheInsert, DecodeStepFusedMatchesUnfusedAndReference) {
  using S = CacheStep;
  Artifact fused, unfused;
  ASSERT_TRUE(compileLayer(fused, cacheInsertPath(), ""));
  ASSERT_TRUE(compileLayer(unfused, cacheInsertPath(), "--raise=false"));
  const int64_t rowCount = S::heads * S::d,
                cacheCount = S::heads * S::capacity * S::d;
  int64_t bitsDiffer = 0;
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
    auto random = [&](int64_t n, float amplitude) {
      std::vector<float> v(n);
      for (float &x : v)
        x = amplitude * dist(rng);
      return v;
    };
    std::vector<float> q = random(rowCount, 1.0f);
    std::vector<float> kCache = random(cacheCount, 1.0f);
    std::vector<float> vCache = random(cacheCount, 1.0f);
    // Stale slots beyond the step: large keys and values.
    for (int64_t h = 0; h < S::heads; ++h)
      for (int64_t j = S::past + 1; j < S::capacity; ++j)
        for (int64_t e = 0; e < S::d; ++e) {
          kCache[(h * S::capacity + j) * S::d + e] *= 4.0f;
          vCache[(h * S::capacity + j) * S::d + e] += 20.0f;
        }
    std::vector<float> kNew = random(rowCount, 1.0f);
    std::vector<float> vNew = random(rowCount, 1.0f);
    std::vector<int32_t> pos = {S::past};

    struct Result {
      std::vector<float> out, k, v;
    };
    auto run = [&](const Artifact &art) {
      const float nan = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> q2 = q, kc = kCache, vc = vCache, kn = kNew, vn = vNew;
      std::vector<int32_t> p = pos;
      Result r{std::vector<float>(rowCount, nan),
               std::vector<float>(cacheCount, nan),
               std::vector<float>(cacheCount, nan)};
      auto bytes = [](const auto &v) {
        return static_cast<int64_t>(v.size() * sizeof(v[0]));
      };
      std::vector<kvfuse_binding> bindings = {
          {"arg0", q2.data(), bytes(q2), nullptr},
          {"arg1", kc.data(), bytes(kc), nullptr},
          {"arg2", vc.data(), bytes(vc), nullptr},
          {"arg3", kn.data(), bytes(kn), nullptr},
          {"arg4", vn.data(), bytes(vn), nullptr},
          {"arg5", p.data(), bytes(p), nullptr},
          {"out0", r.out.data(), bytes(r.out), nullptr},
          {"out1", r.k.data(), bytes(r.k), nullptr},
          {"out2", r.v.data(), bytes(r.v), nullptr}};
      EXPECT_EQ(kvfuse_run(art.get(), "decode_step_cache_insert",
                           bindings.data(),
                           static_cast<int64_t>(bindings.size()), nullptr, 0),
                KVFUSE_OK)
          << kvfuse_last_error();
      return r;
    };
    Result f = run(fused), u = run(unfused);
    ASSERT_EQ(countNaN(f.out), 0) << "fused output has unwritten elements";
    ASSERT_EQ(countNaN(u.out), 0) << "unfused output has unwritten elements";

    // The updated caches: the inputs with the new rows at slot `past`.
    std::vector<float> kExpected = kCache, vExpected = vCache;
    for (int64_t h = 0; h < S::heads; ++h)
      for (int64_t e = 0; e < S::d; ++e) {
        kExpected[(h * S::capacity + S::past) * S::d + e] = kNew[h * S::d + e];
        vExpected[(h * S::capacity + S::past) * S::d + e] = vNew[h * S::d + e];
      }
    EXPECT_TRUE(f.k == kExpected) << "fused K cache";
    EXPECT_TRUE(f.v == vExpected) << "fused V cache";
    EXPECT_TRUE(u.k == kExpected) << "unfused K cache";
    EXPECT_TRUE(u.v == vExpected) << "unfused V cache";

    Mat ref = cacheStepReference(toDouble(q), toDouble(kExpected),
                                 toDouble(vExpected), false);
    double fusedVsUnfused = relErr(f.out, toDouble(u.out));
    double fusedVsRef = relErr(f.out, ref);
    double unfusedVsRef = relErr(u.out, ref);
    std::printf("[ cache_insert_decode seed %u ] rel. error fused vs unfused "
                "%.3g, fused vs f64 %.3g, unfused vs f64 %.3g\n",
                seed, fusedVsUnfused, fusedVsRef, unfusedVsRef);
    EXPECT_LE(fusedVsUnfused, kTolerance);
    EXPECT_LE(fusedVsRef, kTolerance);
    EXPECT_LE(unfusedVsRef, kTolerance);
    // Attending to the whole cache (no length bound), or to the cache
    // before the write, is far off.
    double noLength =
        relErr(f.out, cacheStepReference(toDouble(q), toDouble(kExpected),
                                         toDouble(vExpected), true));
    double staleRow =
        relErr(f.out, cacheStepReference(toDouble(q), toDouble(kCache),
                                         toDouble(vCache), false));
    EXPECT_GT(noLength, kFlawDistance) << "no length bound only " << noLength;
    EXPECT_GT(staleRow, kFlawDistance) << "stale row only " << staleRow;
    for (int64_t i = 0; i < rowCount; ++i)
      bitsDiffer += std::memcmp(&f.out[i], &u.out[i], 4) != 0;
  }
  EXPECT_GT(bitsDiffer, 0) << "fused and unfused outputs are bit-identical";
}

} // namespace
