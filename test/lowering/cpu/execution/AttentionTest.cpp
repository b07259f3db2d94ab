//===- AttentionTest.cpp - kv.attention compiled and run on the CPU -------===//
//
// Each case is one func.func around kv.attention on explicit tensors; a test
// puts its cases into one module (one kvfuse-compile call), then runs every
// entry with fresh random inputs and NaN-poisoned outputs and compares with
// kvfuse::ref::attention in float64. Covers every mask kind and rank,
// causal offsets (static and per sequence), windows, softcap, scale,
// kv_lens, fully masked rows, GQA group sizes, head dims, value dims,
// untiled lengths and f16/bf16 tensors.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include <cmath>
#include <limits>

using namespace kvfuse::exec;

namespace {

enum class MaskKind { None, Bool, Float };

/// One kv.attention problem: shapes, attributes, optional operands.
struct AttnCase {
  std::string name;
  int64_t batch = 1, qHeads = 4, kvHeads = 2, qLen = 7, kvLen = 67;
  int64_t headDim = 64, valueDim = 0; // 0: same as headDim
  kvfuse_dtype dtype = KVFUSE_F32;
  MaskKind mask = MaskKind::None;
  /// Rank 2-4, right-aligned against [B, Hq, Sq, Skv]; each dim 1 or full.
  std::vector<int64_t> maskShape;
  /// Forces one mask row (the first) to be all false / all -inf.
  bool maskFullRow = false;
  bool causal = false;
  int64_t causalOffset = 0;
  std::vector<int32_t> offsets; // non-empty: the `offsets` operand
  std::vector<int32_t> kvLens;  // non-empty: the `kv_lens` operand
  int64_t windowLeft = -1, windowRight = -1;
  float scale = std::numeric_limits<float>::quiet_NaN();
  float softcap = 0.0f;
  /// The case has fully masked rows (checked to be exactly 0).
  bool expectMasked = false;

  int64_t dv() const { return valueDim ? valueDim : headDim; }
  std::vector<int64_t> qShape() const { return {batch, qHeads, qLen, headDim}; }
  std::vector<int64_t> kShape() const {
    return {batch, kvHeads, kvLen, headDim};
  }
  std::vector<int64_t> vShape() const { return {batch, kvHeads, kvLen, dv()}; }
  std::vector<int64_t> oShape() const { return {batch, qHeads, qLen, dv()}; }
  kvfuse_dtype maskDtype() const {
    return mask == MaskKind::Bool ? KVFUSE_I1 : KVFUSE_F32;
  }

  // Setters that chain, so that a case is written as one expression.
  AttnCase &withBatch(int64_t b) {
    batch = b;
    return *this;
  }
  AttnCase &withHeads(int64_t hq, int64_t hkv) {
    qHeads = hq;
    kvHeads = hkv;
    return *this;
  }
  AttnCase &withLens(int64_t sq, int64_t skv) {
    qLen = sq;
    kvLen = skv;
    return *this;
  }
  AttnCase &withDims(int64_t d, int64_t dvOrZero = 0) {
    headDim = d;
    valueDim = dvOrZero;
    return *this;
  }
  AttnCase &withDtype(kvfuse_dtype t) {
    dtype = t;
    return *this;
  }
  AttnCase &withMask(MaskKind kind, std::vector<int64_t> shape,
                     bool fullRow = false) {
    mask = kind;
    maskShape = std::move(shape);
    maskFullRow = fullRow;
    return *this;
  }
  /// causal with the diagonal at `offset`.
  AttnCase &withCausal(int64_t offset) {
    causal = true;
    causalOffset = offset;
    return *this;
  }
  /// The diagonal the windows are measured from, without causal.
  AttnCase &withCausalOffset(int64_t offset) {
    causalOffset = offset;
    return *this;
  }
  AttnCase &withWindow(int64_t left, int64_t right) {
    windowLeft = left;
    windowRight = right;
    return *this;
  }
  AttnCase &withOffsets(std::vector<int32_t> perSeq) {
    offsets = std::move(perSeq);
    return *this;
  }
  AttnCase &withKvLens(std::vector<int32_t> perSeq) {
    kvLens = std::move(perSeq);
    return *this;
  }
  AttnCase &withScale(float s) {
    scale = s;
    return *this;
  }
  AttnCase &withSoftcap(float s) {
    softcap = s;
    return *this;
  }
  AttnCase &withMaskedRows() {
    expectMasked = true;
    return *this;
  }
};

/// The func.func of a case: args q, k, v [, mask] [, kv_lens] [, offsets].
std::string attentionFunc(const AttnCase &c) {
  std::string tq = tensorType(c.qShape(), c.dtype);
  std::string tk = tensorType(c.kShape(), c.dtype);
  std::string tv = tensorType(c.vShape(), c.dtype);
  std::string to = tensorType(c.oShape(), c.dtype);
  std::string tb = tensorType({c.batch}, KVFUSE_I32);
  std::string tm =
      c.mask == MaskKind::None ? "" : tensorType(c.maskShape, c.maskDtype());
  std::string s = "func.func @" + c.name + "(%q: " + tq +
                  " {kv.name = \"q\"}, %k: " + tk +
                  " {kv.name = \"k\"}, %v: " + tv + " {kv.name = \"v\"}";
  if (c.mask != MaskKind::None)
    s += ", %mask: " + tm + " {kv.name = \"mask\"}";
  if (!c.kvLens.empty())
    s += ", %lens: " + tb + " {kv.name = \"kv_lens\"}";
  if (!c.offsets.empty())
    s += ", %offs: " + tb + " {kv.name = \"offsets\"}";
  s += ") -> " + to + " {\n";
  s += "  %init = tensor.empty() : " + to + "\n";
  s += "  %o = kv.attention %q, %k, %v : " + tq + ", " + tk + ", " + tv;
  if (c.mask != MaskKind::None)
    s += " mask(%mask : " + tm + ")";
  if (!c.kvLens.empty())
    s += " kv_lens(%lens : " + tb + ")";
  if (!c.offsets.empty())
    s += " offsets(%offs : " + tb + ")";
  s += " outs(%init : " + to + ")";
  std::vector<std::string> attrs;
  if (c.causal)
    attrs.push_back("causal");
  if (c.causalOffset != 0)
    attrs.push_back("causal_offset = " + std::to_string(c.causalOffset) +
                    " : i64");
  if (c.windowLeft != -1)
    attrs.push_back("window_left = " + std::to_string(c.windowLeft) + " : i64");
  if (c.windowRight != -1)
    attrs.push_back("window_right = " + std::to_string(c.windowRight) +
                    " : i64");
  if (!std::isnan(c.scale))
    attrs.push_back("scale = " + f32Attr(c.scale));
  if (c.softcap != 0.0f)
    attrs.push_back("softcap = " + f32Attr(c.softcap));
  if (!attrs.empty()) {
    s += " {";
    for (size_t i = 0; i < attrs.size(); ++i)
      s += (i ? ", " : "") + attrs[i];
    s += "}";
  }
  s += " -> " + to + "\n  return %o : " + to + "\n}\n\n";
  return s;
}

std::string moduleOf(const std::vector<AttnCase> &cases) {
  std::string m;
  for (const AttnCase &c : cases)
    m += attentionFunc(c);
  return m;
}

/// A random mask in the case's (right-aligned) shape: bool true with
/// probability 0.7; float uniform in [-2, 2] with 10 % -inf.
Tensor randomMask(const AttnCase &c, std::mt19937 &rng) {
  Tensor m(c.maskDtype(), c.maskShape);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int64_t i = 0; i < m.size(); ++i) {
    float r = u(rng);
    if (c.mask == MaskKind::Bool)
      m.set(i, r < 0.7f ? 1.0 : 0.0);
    else
      m.set(i, r < 0.1f ? -std::numeric_limits<double>::infinity()
                        : 4.0 * u(rng) - 2.0);
  }
  if (c.maskFullRow) {
    int64_t row = c.maskShape.back();
    for (int64_t j = 0; j < row; ++j)
      m.set(j, c.mask == MaskKind::Bool
                   ? 0.0
                   : -std::numeric_limits<double>::infinity());
  }
  return m;
}

/// Runs entry `c.name` of `art` once with fresh inputs and checks it.
void runCase(const Artifact &art, const AttnCase &c, uint32_t seed) {
  SCOPED_TRACE("case " + c.name + " (seed " + std::to_string(seed) + ")");
  std::mt19937 rng(seed);
  Tensor q(c.dtype, c.qShape()), k(c.dtype, c.kShape()), v(c.dtype, c.vShape());
  q.fillUniform(rng);
  k.fillUniform(rng);
  v.fillUniform(rng);
  Tensor out(c.dtype, c.oShape());
  out.poison();
  std::vector<kvfuse_binding> b = {q.bind("q"), k.bind("k"), v.bind("v"),
                                   out.bind("out0")};
  Tensor mask, lens, offs;
  if (c.mask != MaskKind::None) {
    mask = randomMask(c, rng);
    b.push_back(mask.bind("mask"));
  }
  if (!c.kvLens.empty()) {
    lens = Tensor(KVFUSE_I32, {c.batch});
    for (int64_t i = 0; i < c.batch; ++i)
      lens.set(i, c.kvLens[i]);
    b.push_back(lens.bind("kv_lens"));
  }
  if (!c.offsets.empty()) {
    offs = Tensor(KVFUSE_I32, {c.batch});
    for (int64_t i = 0; i < c.batch; ++i)
      offs.set(i, c.offsets[i]);
    b.push_back(offs.bind("offsets"));
  }
  ASSERT_EQ(runEntry(art, c.name.c_str(), b), KVFUSE_OK) << kvfuse_last_error();

  kvfuse::ref::AttentionProblem p;
  p.batch = c.batch;
  p.qHeads = c.qHeads;
  p.kvHeads = c.kvHeads;
  p.qLen = c.qLen;
  p.kvLen = c.kvLen;
  p.headDim = c.headDim;
  p.valueDim = c.dv();
  if (!std::isnan(c.scale))
    p.scale = c.scale;
  p.softcap = c.softcap;
  p.causal = c.causal;
  p.causalOffset = c.causalOffset;
  p.offsets = c.offsets.empty() ? nullptr : c.offsets.data();
  p.kvLens = c.kvLens.empty() ? nullptr : c.kvLens.data();
  p.windowLeft = c.windowLeft;
  p.windowRight = c.windowRight;
  std::vector<uint8_t> boolMask;
  std::vector<double> floatMask;
  if (c.mask != MaskKind::None) {
    int64_t pad = 4 - static_cast<int64_t>(c.maskShape.size());
    for (int64_t i = 0; i < 4; ++i)
      p.maskShape[i] = i < pad ? 1 : c.maskShape[i - pad];
    std::vector<double> m = mask.toDouble();
    if (c.mask == MaskKind::Bool) {
      boolMask.assign(m.begin(), m.end());
      p.boolMask = boolMask.data();
    } else {
      floatMask = m;
      p.floatMask = floatMask.data();
    }
  }
  std::vector<double> qd = q.toDouble(), kd = k.toDouble(), vd = v.toDouble();
  std::vector<double> ref(out.size()),
      lse(static_cast<size_t>(c.batch * c.qHeads * c.qLen));
  kvfuse::ref::attention(p, qd.data(), kd.data(), vd.data(), ref.data(),
                         lse.data());
  int64_t masked = 0;
  for (double l : lse)
    masked += l == -std::numeric_limits<double>::infinity() ? 1 : 0;
  if (c.expectMasked) {
    EXPECT_GT(masked, 0) << "the case should have fully masked rows";
  }
  // The tolerance covers the output's own rounding for f16/bf16.
  EXPECT_TRUE(checkOutput(out, ref, lse, c.dv(), toleranceFor(c.dtype)));
}

/// Compiles all cases into one module and runs each.
void runCases(const std::vector<AttnCase> &cases) {
  Artifact art;
  ASSERT_TRUE(compileModule(art, moduleOf(cases)));
  uint32_t seed = 1000;
  for (const AttnCase &c : cases)
    runCase(art, c, seed++);
}

AttnCase base(const std::string &name) {
  AttnCase c;
  c.name = name;
  return c;
}

//===----------------------------------------------------------------------===//
// Masks
//===----------------------------------------------------------------------===//

const char *maskTag(MaskKind kind) {
  return kind == MaskKind::Bool ? "bool_" : "float_";
}

TEST(Attention, Masks) {
  std::vector<AttnCase> cases;
  // B=2, Hq=4, Hkv=2, Sq=7, Skv=67; every rank, full and broadcast dims.
  struct Shape {
    const char *tag;
    std::vector<int64_t> dims;
  } shapes[] = {
      {"r4", {2, 4, 7, 67}},     {"r4_b1h", {2, 1, 7, 67}},
      {"r4_1h1", {1, 4, 1, 67}}, {"r4_1111", {1, 1, 1, 67}},
      {"r3", {4, 7, 67}},        {"r3_h1", {4, 1, 67}},
      {"r3_1q", {1, 7, 67}},     {"r2", {7, 67}},
      {"r2_1", {1, 67}},
  };
  for (MaskKind kind : {MaskKind::Bool, MaskKind::Float})
    for (const Shape &s : shapes)
      cases.push_back(base(maskTag(kind) + std::string(s.tag))
                          .withBatch(2)
                          .withMask(kind, s.dims));
  // A fully masked row (bool all false / float all -inf) gives exactly 0.
  for (MaskKind kind : {MaskKind::Bool, MaskKind::Float})
    cases.push_back(base(maskTag(kind) + std::string("full_row"))
                        .withBatch(2)
                        .withMask(kind, {2, 4, 7, 67}, /*fullRow=*/true)
                        .withMaskedRows());
  // Masks combined with causal and a window.
  for (MaskKind kind : {MaskKind::Bool, MaskKind::Float})
    cases.push_back(base(maskTag(kind) + std::string("causal"))
                        .withBatch(2)
                        .withMask(kind, {2, 1, 7, 67})
                        .withCausal(60)
                        .withWindow(30, -1));
  runCases(cases);
}

//===----------------------------------------------------------------------===//
// Causal offsets, windows, softcap, scale, lengths
//===----------------------------------------------------------------------===//

TEST(Attention, CausalWindowScoreAndLengths) {
  auto mk = [](const std::string &name) {
    return base(name).withBatch(3).withHeads(4, 1).withLens(13, 40);
  };
  std::vector<AttnCase> cases = {
      mk("causal_off0").withCausal(0), // top-left aligned
      mk("causal_bottom_right").withCausal(27),
      mk("causal_off5").withCausal(5),
      // Rows 0..3 see nothing: exactly 0.
      mk("causal_negative").withCausal(-4).withMaskedRows(),
      // Per sequence, one negative.
      mk("causal_offsets").withCausal(0).withOffsets({-4, 10, 27})
          .withMaskedRows(),
      // Offsets move the window too.
      mk("offsets_window").withOffsets({0, 20, 35}).withWindow(3, 2),
      // HF sliding_window = 6.
      mk("sliding_window").withCausal(27).withWindow(5, 0),
      mk("window_left_right").withCausalOffset(10).withWindow(3, 2),
      mk("window_right_only").withCausalOffset(4).withWindow(-1, 0),
      mk("window_left_only").withCausalOffset(20).withWindow(6, -1),
      // Causal cuts the right window.
      mk("window_causal_right").withCausal(10).withWindow(4, 3),
      mk("window_self_only").withCausal(27).withWindow(0, -1),
      // Windows beyond Skv: rows fully masked.
      mk("window_outside").withCausalOffset(35).withWindow(2, 2)
          .withMaskedRows(),
      mk("softcap").withCausal(27).withSoftcap(5.0f),
      // tanh saturates.
      mk("softcap_strong").withSoftcap(0.5f).withScale(4.0f),
      mk("scale").withScale(0.3f),
      // Scores in the hundreds: exp overflows without subtracting the
      // running maximum.
      mk("scale_large").withScale(40.0f).withCausal(27),
      mk("scale_negative").withScale(-0.7f),
      // Sequence 2 has no keys: exactly 0.
      mk("kv_lens").withKvLens({40, 17, 0}).withMaskedRows(),
      mk("kv_lens_causal_offsets").withCausal(0).withKvLens({40, 23, 1})
          .withOffsets({27, 10, -12}).withMaskedRows(),
      mk("everything").withMask(MaskKind::Bool, {3, 1, 13, 40})
          .withCausal(27).withWindow(20, -1).withSoftcap(8.0f)
          .withScale(0.2f).withKvLens({40, 31, 12}),
  };
  runCases(cases);
}

//===----------------------------------------------------------------------===//
// GQA group sizes, head dims, value dims, lengths
//===----------------------------------------------------------------------===//

TEST(Attention, GroupSizes) {
  std::vector<AttnCase> cases;
  struct G {
    int64_t hq, hkv;
  } groups[] = {{4, 4}, {8, 2}, {28, 4}, {16, 2}};
  for (const G &g : groups) {
    for (bool causal : {false, true}) {
      AttnCase c = base("gqa_" + std::to_string(g.hq / g.hkv) + "_hq" +
                        std::to_string(g.hq) + (causal ? "_causal" : ""))
                       .withHeads(g.hq, g.hkv)
                       .withLens(causal ? 67 : 1, 129);
      if (causal)
        c.withCausal(62);
      cases.push_back(c);
    }
  }
  runCases(cases);
}

TEST(Attention, HeadDims) {
  std::vector<AttnCase> cases;
  for (int64_t d : {64, 80, 96, 128, 256})
    cases.push_back(base("d" + std::to_string(d))
                        .withHeads(4, 2)
                        .withLens(9, 67)
                        .withDims(d)
                        .withCausal(58));
  struct VD {
    int64_t d, dv;
  } vds[] = {{64, 32}, {128, 64}, {64, 96}, {80, 16}};
  for (const VD &x : vds)
    cases.push_back(
        base("d" + std::to_string(x.d) + "_dv" + std::to_string(x.dv))
            .withLens(5, 67)
            .withDims(x.d, x.dv));
  runCases(cases);
}

TEST(Attention, Lengths) {
  std::vector<AttnCase> cases;
  // Decode-shaped (Sq = 1) over lengths that are no multiple of a tile.
  for (int64_t skv : {1, 7, 67, 129, 300})
    cases.push_back(
        base("sq1_skv" + std::to_string(skv)).withBatch(2).withLens(1, skv));
  for (int64_t sq : {1, 7, 67, 129, 300})
    cases.push_back(base("causal_sq" + std::to_string(sq) + "_skv300")
                        .withLens(sq, 300)
                        .withCausal(300 - sq));
  // One 16-row tile over 1100 keys: the query-transposed kernel with its
  // keys split in two chunks (split-KV) and merged.
  cases.push_back(
      base("sq16_skv1100_split").withHeads(1, 1).withLens(16, 1100));
  cases.push_back(base("sq16_skv1100_split_causal_window")
                      .withHeads(1, 1)
                      .withLens(16, 1100)
                      .withCausal(1084)
                      .withWindow(700, -1));
  // More queries than keys.
  cases.push_back(base("sq129_skv7").withLens(129, 7));
  cases.push_back(base("sq1_skv1_b3").withBatch(3).withLens(1, 1));
  runCases(cases);
}

TEST(Attention, HalfPrecisionTensors) {
  std::vector<AttnCase> cases;
  for (kvfuse_dtype t : {KVFUSE_F16, KVFUSE_BF16}) {
    cases.push_back(base(std::string("causal_") + dtypeName(t))
                        .withDtype(t)
                        .withLens(7, 67)
                        .withCausal(60));
    cases.push_back(base(std::string("decode_gqa7_") + dtypeName(t))
                        .withDtype(t)
                        .withHeads(28, 4)
                        .withLens(1, 129)
                        .withDims(128));
  }
  runCases(cases);
}

} // namespace
