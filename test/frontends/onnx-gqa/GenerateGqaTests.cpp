//===- GenerateGqaTests.cpp - com.microsoft.GroupQueryAttention test data -===//
//
// Usage: kvfuse-gqa-testgen cases <dir>   writes <dir>/<case>/model.onnx and
//                                         test_data_set_0/{input,output}_*.pb
//        kvfuse-gqa-testgen errors <dir>  writes <dir>/<name>.onnx, models
//                                         the importer must reject
//
// No ONNX Runtime is available to produce expected outputs, so they come from
// a float64 model of the operator written here directly from ONNX Runtime's
// contrib spec and its CPU kernel (gqa_attention_base.h), deliberately
// sharing no code with the importer or kvfuse's reference attention:
//   total[b]  = seqlens_k[b] + 1
//   past[b]   = 0 in a first prompt (S == total_sequence_length), else
//               total[b] - S
//   present   = zeros; rows [0, past[b]) from past_key; the S new rows at
//               [past[b], past[b] + S)
//   row i     sees keys j < total[b] with j <= past[b] + i and, with
//               local_window_size w > 0, j >= past[b] + i - w
//   scores    = scale * q.k (scale 0 -> 1/sqrt(head_size)), then
//               softcap * tanh(x / softcap) when softcap > 0, softmax.
// Rows of a padded first prompt past a sequence's end (i >= total[b]) are not
// defined by the spec; they get kvfuse's documented convention (the same
// rule as above, i.e. all visible keys of the sequence).
//
//===----------------------------------------------------------------------===//

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

enum : int { kF32 = 1, kI32 = 6, kI64 = 7, kF16 = 10, kBF16 = 16 };

uint16_t toHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  int32_t exp = int32_t((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mant = bits & 0x7fffff;
  if (exp >= 31)
    return static_cast<uint16_t>(sign | 0x7c00);
  uint32_t h, rest, half;
  if (exp <= 0) {
    // Subnormal (outputs near 0 land here): shift the full significand.
    if (exp < -10)
      return static_cast<uint16_t>(sign);
    uint32_t full = mant | 0x800000, shift = uint32_t(14 - exp);
    h = full >> shift;
    rest = full & ((1u << shift) - 1);
    half = 1u << (shift - 1);
  } else {
    h = (uint32_t(exp) << 10) | (mant >> 13);
    rest = mant & 0x1fff;
    half = 0x1000;
  }
  if (rest > half || (rest == half && (h & 1)))
    ++h; // Round to nearest even; a carry into the exponent is correct.
  return static_cast<uint16_t>(sign | h);
}

double fromHalf(uint16_t h) {
  int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v = exp == 0 ? std::ldexp(double(mant), -24)
                      : std::ldexp(double(mant | 0x400), exp - 25);
  return (h & 0x8000) ? -v : v;
}

/// Values as the model's storage holds them.
double storage(double x, int type) {
  return type == kF16 ? fromHalf(toHalf(static_cast<float>(x)))
                      : double(static_cast<float>(x));
}

struct Rng {
  uint64_t state;
  double next() { // Uniform in [-1, 1), never exactly 0.
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = double(state >> 11) / double(1ULL << 53);
    return u * 2.0 - 1.0 + 1.0 / 4096;
  }
};

struct Case {
  std::string name;
  int type = kF32;
  int64_t batch = 1, seq = 1, heads = 1, kvHeads = 1, headSize = 8;
  int64_t past = 0;    // P, 0 for no past_key/past_value inputs
  int64_t present = 0; // T, declared present length
  std::vector<int32_t> seqlensK;
  int32_t totalSeqLen = 0;
  bool packed = false;
  bool presentOutputs = true;
  float scale = 0.0f, softcap = 0.0f;
  int64_t window = -1;
  double amplitude = 1.0; // Input magnitude (large for softcap cases).
};

onnx::ValueInfoProto valueInfo(const std::string &name, int type,
                               const std::vector<int64_t> &shape) {
  onnx::ValueInfoProto info;
  info.set_name(name);
  auto *tensor = info.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(type);
  auto *s = tensor->mutable_shape();
  for (int64_t d : shape)
    s->add_dim()->set_dim_value(d);
  return info;
}

onnx::TensorProto tensor(const std::string &name, int type,
                         const std::vector<int64_t> &shape,
                         const std::vector<double> &values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (int64_t d : shape)
    t.add_dims(d);
  std::string raw;
  for (double x : values) {
    if (type == kF32) {
      float f = static_cast<float>(x);
      raw.append(reinterpret_cast<const char *>(&f), 4);
    } else if (type == kF16) {
      uint16_t h = toHalf(static_cast<float>(x));
      raw.append(reinterpret_cast<const char *>(&h), 2);
    } else {
      int32_t i = static_cast<int32_t>(x);
      raw.append(reinterpret_cast<const char *>(&i), 4);
    }
  }
  t.set_raw_data(raw);
  return t;
}

bool writeMessage(const std::string &path,
                  const google::protobuf::MessageLite &message) {
  std::ofstream out(path, std::ios::binary);
  if (!out || !message.SerializeToOstream(&out)) {
    std::fprintf(stderr, "kvfuse-gqa-testgen: cannot write %s\n",
                 path.c_str());
    return false;
  }
  return true;
}

void addAttr(onnx::NodeProto &node, const std::string &name, int64_t value) {
  auto *a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void addAttr(onnx::NodeProto &node, const std::string &name, float value) {
  auto *a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

/// The model of one case (and, for error models, a base to break).
onnx::ModelProto buildModel(const Case &c) {
  onnx::ModelProto model;
  model.set_ir_version(10);
  model.add_opset_import()->set_version(21);
  auto *ms = model.add_opset_import();
  ms->set_domain("com.microsoft");
  ms->set_version(1);
  auto *graph = model.mutable_graph();
  graph->set_name(c.name);
  auto *node = graph->add_node();
  node->set_name("gqa");
  node->set_op_type("GroupQueryAttention");
  node->set_domain("com.microsoft");
  int64_t b = c.batch, s = c.seq, d = c.headSize;
  int64_t qHidden = (c.packed ? c.heads + 2 * c.kvHeads : c.heads) * d;
  *graph->add_input() = valueInfo("query", c.type, {b, s, qHidden});
  node->add_input("query");
  if (c.packed) {
    node->add_input("");
    node->add_input("");
  } else {
    *graph->add_input() = valueInfo("key", c.type, {b, s, c.kvHeads * d});
    *graph->add_input() = valueInfo("value", c.type, {b, s, c.kvHeads * d});
    node->add_input("key");
    node->add_input("value");
  }
  if (c.past > 0) {
    *graph->add_input() =
        valueInfo("past_key", c.type, {b, c.kvHeads, c.past, d});
    *graph->add_input() =
        valueInfo("past_value", c.type, {b, c.kvHeads, c.past, d});
    node->add_input("past_key");
    node->add_input("past_value");
  } else {
    node->add_input("");
    node->add_input("");
  }
  *graph->add_input() = valueInfo("seqlens_k", kI32, {b});
  *graph->add_input() = valueInfo("total_sequence_length", kI32, {});
  node->add_input("seqlens_k");
  node->add_input("total_sequence_length");
  *graph->add_output() = valueInfo("output", c.type, {b, s, c.heads * d});
  node->add_output("output");
  if (c.presentOutputs) {
    for (const char *name : {"present_key", "present_value"}) {
      *graph->add_output() =
          valueInfo(name, c.type, {b, c.kvHeads, c.present, d});
      node->add_output(name);
    }
  }
  addAttr(*node, "num_heads", c.heads);
  addAttr(*node, "kv_num_heads", c.kvHeads);
  if (c.scale != 0.0f)
    addAttr(*node, "scale", c.scale);
  if (c.softcap != 0.0f)
    addAttr(*node, "softcap", c.softcap);
  if (c.window != -1)
    addAttr(*node, "local_window_size", c.window);
  return model;
}

/// Float64 GroupQueryAttention on the stored input values.
void reference(const Case &c, const std::vector<double> &query,
               const std::vector<double> &key, const std::vector<double> &value,
               const std::vector<double> &pastKey,
               const std::vector<double> &pastValue, std::vector<double> &out,
               std::vector<double> &presentKey,
               std::vector<double> &presentValue) {
  int64_t B = c.batch, S = c.seq, N = c.heads, NKV = c.kvHeads,
          H = c.headSize, P = c.past, T = c.present;
  int64_t qStride = (c.packed ? N + 2 * NKV : N) * H; // per token
  int64_t kvStride = c.packed ? qStride : NKV * H;
  int64_t kOffset = c.packed ? N * H : 0, vOffset = c.packed ? (N + NKV) * H : 0;
  const std::vector<double> &kSrc = c.packed ? query : key;
  const std::vector<double> &vSrc = c.packed ? query : value;
  bool firstPrompt = S == c.totalSeqLen;
  presentKey.assign(B * NKV * T * H, 0.0);
  presentValue.assign(B * NKV * T * H, 0.0);
  out.assign(B * S * N * H, 0.0);
  double alpha = c.scale == 0.0f ? 1.0 / std::sqrt(double(H)) : c.scale;
  for (int64_t b = 0; b < B; ++b) {
    int64_t total = c.seqlensK[b] + 1;
    int64_t pastLen = firstPrompt ? 0 : total - S;
    for (int64_t n = 0; n < NKV; ++n) {
      for (int64_t t = 0; t < pastLen; ++t)
        for (int64_t h = 0; h < H; ++h) {
          int64_t src = ((b * NKV + n) * P + t) * H + h;
          presentKey[((b * NKV + n) * T + t) * H + h] = pastKey[src];
          presentValue[((b * NKV + n) * T + t) * H + h] = pastValue[src];
        }
      for (int64_t t = 0; t < S; ++t)
        for (int64_t h = 0; h < H; ++h) {
          int64_t src = (b * S + t) * kvStride + n * H + h;
          int64_t dst = ((b * NKV + n) * T + pastLen + t) * H + h;
          presentKey[dst] = kSrc[src + kOffset];
          presentValue[dst] = vSrc[src + vOffset];
        }
    }
    for (int64_t n = 0; n < N; ++n) {
      int64_t kvHead = n / (N / NKV);
      for (int64_t i = 0; i < S; ++i) {
        int64_t causalLen = pastLen + i + 1;
        int64_t start = 0;
        if (c.window > 0 && causalLen > c.window + 1)
          start = causalLen - c.window - 1;
        int64_t end = std::min(causalLen, total);
        std::vector<double> p;
        double maxScore = -INFINITY;
        for (int64_t j = start; j < end; ++j) {
          double dot = 0.0;
          for (int64_t h = 0; h < H; ++h)
            dot += query[(b * S + i) * qStride + n * H + h] *
                   presentKey[((b * NKV + kvHead) * T + j) * H + h];
          double x = alpha * dot;
          if (c.softcap > 0.0f)
            x = c.softcap * std::tanh(x / c.softcap);
          p.push_back(x);
          maxScore = std::max(maxScore, x);
        }
        double sum = 0.0;
        for (double &x : p)
          sum += (x = std::exp(x - maxScore));
        for (int64_t h = 0; h < H; ++h) {
          double acc = 0.0;
          for (int64_t j = start; j < end; ++j)
            acc += p[j - start] / sum *
                   presentValue[((b * NKV + kvHead) * T + j) * H + h];
          out[(b * S + i) * N * H + n * H + h] = acc;
        }
      }
    }
  }
}

bool writeCase(const std::string &root, const Case &c) {
  std::string dir = root + "/" + c.name;
  mkdir(dir.c_str(), 0755);
  mkdir((dir + "/test_data_set_0").c_str(), 0755);
  if (!writeMessage(dir + "/model.onnx", buildModel(c)))
    return false;
  Rng rng{std::hash<std::string>()(c.name) | 1};
  auto random = [&](int64_t n) {
    std::vector<double> v(n);
    for (double &x : v)
      x = storage(c.amplitude * rng.next(), c.type);
    return v;
  };
  int64_t b = c.batch, s = c.seq, d = c.headSize;
  int64_t qHidden = (c.packed ? c.heads + 2 * c.kvHeads : c.heads) * d;
  std::vector<double> query = random(b * s * qHidden), key, value, pastKey,
                      pastValue;
  std::vector<onnx::TensorProto> inputs;
  inputs.push_back(tensor("query", c.type, {b, s, qHidden}, query));
  if (!c.packed) {
    key = random(b * s * c.kvHeads * d);
    value = random(b * s * c.kvHeads * d);
    inputs.push_back(tensor("key", c.type, {b, s, c.kvHeads * d}, key));
    inputs.push_back(tensor("value", c.type, {b, s, c.kvHeads * d}, value));
  }
  if (c.past > 0) {
    pastKey = random(b * c.kvHeads * c.past * d);
    pastValue = random(b * c.kvHeads * c.past * d);
    inputs.push_back(
        tensor("past_key", c.type, {b, c.kvHeads, c.past, d}, pastKey));
    inputs.push_back(
        tensor("past_value", c.type, {b, c.kvHeads, c.past, d}, pastValue));
  }
  std::vector<double> lens(c.seqlensK.begin(), c.seqlensK.end());
  inputs.push_back(tensor("seqlens_k", kI32, {b}, lens));
  inputs.push_back(
      tensor("total_sequence_length", kI32, {}, {double(c.totalSeqLen)}));
  std::vector<double> out, presentKey, presentValue;
  reference(c, query, key, value, pastKey, pastValue, out, presentKey,
            presentValue);
  std::vector<onnx::TensorProto> outputs;
  outputs.push_back(tensor("output", c.type, {b, s, c.heads * d}, out));
  if (c.presentOutputs) {
    outputs.push_back(tensor("present_key", c.type,
                             {b, c.kvHeads, c.present, d}, presentKey));
    outputs.push_back(tensor("present_value", c.type,
                             {b, c.kvHeads, c.present, d}, presentValue));
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!writeMessage(dir + "/test_data_set_0/input_" + std::to_string(i) +
                          ".pb",
                      inputs[i]))
      return false;
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!writeMessage(dir + "/test_data_set_0/output_" + std::to_string(i) +
                          ".pb",
                      outputs[i]))
      return false;
  return true;
}

/// A valid case: checks the generator's own preconditions (ONNX Runtime's
/// input checks) so that no test depends on an input the spec rejects.
bool valid(const Case &c) {
  int32_t maxTotal = 0;
  for (int32_t k : c.seqlensK)
    maxTotal = std::max(maxTotal, k + 1);
  bool firstPrompt = c.seq == c.totalSeqLen;
  bool ok = int64_t(c.seqlensK.size()) == c.batch &&
            c.totalSeqLen == maxTotal &&
            c.present == std::max<int64_t>(c.totalSeqLen, c.past) &&
            (firstPrompt || c.seq == 1 || c.batch == 1) &&
            c.heads % c.kvHeads == 0;
  for (int32_t k : c.seqlensK)
    ok &= firstPrompt ? k + 1 <= c.seq : k + 1 >= c.seq && k + 1 - c.seq <= c.past;
  if (!ok)
    std::fprintf(stderr, "kvfuse-gqa-testgen: case %s is not a valid input\n",
                 c.name.c_str());
  return ok;
}

std::vector<Case> cases() {
  std::vector<Case> all;
  auto add = [&](Case c) { all.push_back(c); };
  Case c;
  // First prompt, no past, equal lengths, groups of 2.
  c = Case();
  c.name = "gqa_prefill_nopast";
  c.batch = 2; c.seq = 5; c.heads = 4; c.kvHeads = 2; c.headSize = 8;
  c.seqlensK = {4, 4}; c.totalSeqLen = 5; c.present = 5;
  add(c);
  // Right-padded first prompt: the second sequence has 3 tokens.
  c = Case();
  c.name = "gqa_prefill_padded_group4";
  c.batch = 2; c.seq = 6; c.heads = 4; c.kvHeads = 1; c.headSize = 8;
  c.seqlensK = {5, 2}; c.totalSeqLen = 6; c.present = 6;
  add(c);
  // Decode into a shared-size buffer (T = P) with unequal lengths.
  c = Case();
  c.name = "gqa_decode_unequal_group4";
  c.batch = 3; c.seq = 1; c.heads = 8; c.kvHeads = 2; c.headSize = 16;
  c.past = 9; c.present = 9; c.seqlensK = {8, 3, 5}; c.totalSeqLen = 9;
  add(c);
  // Decode growing the cache (T = total > P), MHA (group 1).
  c = Case();
  c.name = "gqa_decode_grow_group1";
  c.batch = 2; c.seq = 1; c.heads = 3; c.kvHeads = 3; c.headSize = 8;
  c.past = 6; c.present = 7; c.seqlensK = {6, 2}; c.totalSeqLen = 7;
  add(c);
  // Continued prefill (S > 1 with past), group 7 (MQA).
  c = Case();
  c.name = "gqa_continue_prefill_group7";
  c.batch = 1; c.seq = 4; c.heads = 7; c.kvHeads = 1; c.headSize = 8;
  c.past = 12; c.present = 12; c.seqlensK = {9}; c.totalSeqLen = 10;
  add(c);
  // Packed QKV, first prompt and decode.
  c = Case();
  c.name = "gqa_packed_prefill";
  c.batch = 2; c.seq = 4; c.heads = 4; c.kvHeads = 2; c.headSize = 8;
  c.packed = true; c.seqlensK = {3, 3}; c.totalSeqLen = 4; c.present = 4;
  add(c);
  c = Case();
  c.name = "gqa_packed_decode_group4";
  c.batch = 2; c.seq = 1; c.heads = 4; c.kvHeads = 1; c.headSize = 8;
  c.packed = true; c.past = 5; c.present = 6; c.seqlensK = {5, 2};
  c.totalSeqLen = 6;
  add(c);
  // Soft-capping (inputs large enough for tanh to bite) and scale.
  c = Case();
  c.name = "gqa_softcap_decode";
  c.batch = 2; c.seq = 1; c.heads = 4; c.kvHeads = 2; c.headSize = 16;
  c.past = 8; c.present = 8; c.seqlensK = {7, 4}; c.totalSeqLen = 8;
  c.softcap = 2.0f; c.amplitude = 2.5;
  add(c);
  c = Case();
  c.name = "gqa_softcap_scale_prefill";
  c.batch = 1; c.seq = 5; c.heads = 2; c.kvHeads = 1; c.headSize = 8;
  c.seqlensK = {4}; c.totalSeqLen = 5; c.present = 5;
  c.softcap = 1.0f; c.scale = 0.7f; c.amplitude = 2.0;
  add(c);
  c = Case();
  c.name = "gqa_scale_decode";
  c.batch = 2; c.seq = 1; c.heads = 2; c.kvHeads = 2; c.headSize = 8;
  c.past = 4; c.present = 5; c.seqlensK = {4, 1}; c.totalSeqLen = 5;
  c.scale = 0.3f;
  add(c);
  // Local windows: prefill, decode with unequal lengths, continued prefill.
  c = Case();
  c.name = "gqa_window_prefill";
  c.batch = 1; c.seq = 8; c.heads = 4; c.kvHeads = 2; c.headSize = 8;
  c.seqlensK = {7}; c.totalSeqLen = 8; c.present = 8; c.window = 3;
  add(c);
  c = Case();
  c.name = "gqa_window_decode";
  c.batch = 2; c.seq = 1; c.heads = 4; c.kvHeads = 1; c.headSize = 8;
  c.past = 10; c.present = 10; c.seqlensK = {9, 6}; c.totalSeqLen = 10;
  c.window = 4;
  add(c);
  c = Case();
  c.name = "gqa_window_continue";
  c.batch = 1; c.seq = 3; c.heads = 2; c.kvHeads = 1; c.headSize = 8;
  c.past = 8; c.present = 8; c.seqlensK = {7}; c.totalSeqLen = 8;
  c.window = 2;
  add(c);
  // Only the attention output (present length not declared).
  c = Case();
  c.name = "gqa_output_only_decode";
  c.batch = 2; c.seq = 1; c.heads = 4; c.kvHeads = 2; c.headSize = 8;
  c.past = 6; c.present = 6; c.seqlensK = {5, 2}; c.totalSeqLen = 6;
  c.presentOutputs = false;
  add(c);
  // float16.
  c = Case();
  c.name = "gqa_f16_prefill";
  c.type = kF16;
  c.batch = 2; c.seq = 5; c.heads = 4; c.kvHeads = 2; c.headSize = 8;
  c.seqlensK = {4, 4}; c.totalSeqLen = 5; c.present = 5;
  add(c);
  c = Case();
  c.name = "gqa_f16_decode_group3";
  c.type = kF16;
  c.batch = 2; c.seq = 1; c.heads = 6; c.kvHeads = 2; c.headSize = 16;
  c.past = 7; c.present = 7; c.seqlensK = {6, 3}; c.totalSeqLen = 7;
  add(c);
  c = Case();
  c.name = "gqa_f16_packed_window_softcap";
  c.type = kF16;
  c.batch = 1; c.seq = 3; c.heads = 4; c.kvHeads = 2; c.headSize = 8;
  c.packed = true; c.past = 9; c.present = 9; c.seqlensK = {8};
  c.totalSeqLen = 9; c.window = 3; c.softcap = 1.5f; c.amplitude = 2.0;
  add(c);
  // Longer caches and real head sizes, past the CPU kernels' tile sizes.
  c = Case();
  c.name = "gqa_long_decode_d64";
  c.batch = 2; c.seq = 1; c.heads = 8; c.kvHeads = 2; c.headSize = 64;
  c.past = 300; c.present = 300; c.seqlensK = {299, 170};
  c.totalSeqLen = 300;
  add(c);
  c = Case();
  c.name = "gqa_long_continue_d128_window";
  c.batch = 1; c.seq = 16; c.heads = 4; c.kvHeads = 1; c.headSize = 128;
  c.past = 256; c.present = 256; c.seqlensK = {200}; c.totalSeqLen = 201;
  c.window = 64;
  add(c);
  c = Case();
  c.name = "gqa_long_f16_prefill_padded_d80";
  c.type = kF16;
  c.batch = 2; c.seq = 96; c.heads = 6; c.kvHeads = 2; c.headSize = 80;
  c.seqlensK = {95, 40}; c.totalSeqLen = 96; c.present = 96;
  c.softcap = 3.0f;
  add(c);
  return all;
}

/// Models that must be rejected, each breaking one thing of a valid decode.
bool writeErrors(const std::string &root) {
  Case base;
  base.name = "err";
  base.batch = 2; base.seq = 1; base.heads = 4; base.kvHeads = 2;
  base.headSize = 8; base.past = 6; base.present = 6;
  base.seqlensK = {5, 2}; base.totalSeqLen = 6;
  auto node = [](onnx::ModelProto &m) { return m.mutable_graph()->mutable_node(0); };
  auto addInput = [&](onnx::ModelProto &m, int slot, const std::string &name,
                      int type, const std::vector<int64_t> &shape) {
    auto *n = node(m);
    while (n->input_size() <= slot)
      n->add_input("");
    n->set_input(slot, name);
    *m.mutable_graph()->add_input() = valueInfo(name, type, shape);
  };
  bool ok = true;
  auto write = [&](const std::string &name, const onnx::ModelProto &m) {
    ok &= writeMessage(root + "/" + name + ".onnx", m);
  };
  onnx::ModelProto m;
  m = buildModel(base);
  addAttr(*node(m), "do_rotary", int64_t(1));
  addInput(m, 7, "cos_cache", kF32, {16, 4});
  addInput(m, 8, "sin_cache", kF32, {16, 4});
  write("do-rotary", m);
  m = buildModel(base);
  addInput(m, 7, "cos_cache", kF32, {16, 4});
  addInput(m, 8, "sin_cache", kF32, {16, 4});
  write("cos-cache", m);
  m = buildModel(base);
  addAttr(*node(m), "smooth_softmax", int64_t(1));
  write("smooth-softmax", m);
  m = buildModel(base);
  addInput(m, 11, "head_sink", kF32, {4});
  write("head-sink", m);
  m = buildModel(base);
  addInput(m, 10, "attention_bias", kF32, {2, 4, 1, 6});
  write("attention-bias", m);
  m = buildModel(base);
  addInput(m, 9, "position_ids", kI64, {2, 1});
  write("position-ids", m);
  m = buildModel(base);
  addAttr(*node(m), "qk_output", int64_t(1));
  write("qk-output", m);
  m = buildModel(base);
  node(m)->add_output("output_qk");
  *m.mutable_graph()->add_output() = valueInfo("output_qk", kF32, {2, 4, 1, 6});
  write("output-qk", m);
  m = buildModel(base);
  addAttr(*node(m), "do_fancy_things", int64_t(1));
  write("unknown-attr", m);
  m = buildModel(base);
  addAttr(*node(m), "local_window_size", int64_t(0));
  write("window-zero", m);
  m = buildModel(base);
  addAttr(*node(m), "softcap", -1.0f);
  write("negative-softcap", m);
  m = buildModel(base);
  for (auto &input : *m.mutable_graph()->mutable_input())
    if (input.name() == "seqlens_k")
      input.mutable_type()->mutable_tensor_type()->set_elem_type(kI64);
  write("seqlens-int64", m);
  {
    Case c = base;
    c.type = kBF16;
    write("bf16", buildModel(c));
  }
  m = buildModel(base);
  m.mutable_opset_import()->RemoveLast();
  write("no-ms-opset", m);
  {
    Case c = base;
    c.heads = 3;
    write("heads-not-multiple", buildModel(c));
  }
  m = buildModel(base);
  node(m)->set_input(2, "");
  write("key-without-value", m);
  {
    Case c = base;
    c.present = 5; // below past length 6
    write("short-present", buildModel(c));
  }
  return ok;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3 || (std::string(argv[1]) != "cases" &&
                    std::string(argv[1]) != "errors")) {
    std::fprintf(stderr, "usage: kvfuse-gqa-testgen cases|errors <dir>\n");
    return 2;
  }
  std::string root = argv[2];
  mkdir(root.c_str(), 0755);
  if (std::string(argv[1]) == "errors")
    return writeErrors(root) ? 0 : 1;
  for (const Case &c : cases())
    if (!valid(c) || !writeCase(root, c))
      return 1;
  return 0;
}
