//===- PartialMergeTest.cpp - kv.partial_attention and kv.merge on the CPU ===//
//
// Splits the keys of one attention problem into unequal slices, computes
// each with kv.partial_attention (kv_start = the slice's offset) and merges
// them with kv.merge: each partial (O, LSE) must match the reference on its
// slice, and the merge (run as its own entry and fused in one func) must
// match full attention and its LSE; so must the merge of the split form (one
// op returning all the partials). Fully masked slices and rows give
// O = 0, LSE = -inf, also through the merge.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include <cmath>
#include <limits>

using namespace kvfuse::exec;

namespace {

// B=2, Hq=8, Hkv=2 (GQA 4), Sq=5, D=64, Dv=48; 100 keys in three slices.
constexpr int64_t B = 2, Hq = 8, Hkv = 2, Sq = 5, D = 64, Dv = 48, Skv = 100;
constexpr int64_t kStarts[] = {0, 33, 70};
constexpr int64_t kSizes[] = {33, 37, 30};
constexpr int64_t N = 3;
// Sequence 0 has all keys, sequence 1 only 50: its last slice is empty.
const std::vector<int32_t> kLens = {100, 50};
// Bottom-right causal for sequence 0 (positions 95..99); sequence 1 at
// positions 45..49. With offsets, a row of sequence 1 set negative is
// fully masked.
const std::vector<int32_t> kOffsets = {95, 45};

const std::string tq = tensorType({B, Hq, Sq, D}, KVFUSE_F32);
const std::string to = tensorType({B, Hq, Sq, Dv}, KVFUSE_F32);
const std::string tl = tensorType({B, Hq, Sq}, KVFUSE_F32);
const std::string tb = tensorType({B}, KVFUSE_I32);
const std::string tpo = tensorType({N, B, Hq, Sq, Dv}, KVFUSE_F32);
const std::string tpl = tensorType({N, B, Hq, Sq}, KVFUSE_F32);

std::string kType(int64_t n) { return tensorType({B, Hkv, n, D}, KVFUSE_F32); }
std::string vType(int64_t n) { return tensorType({B, Hkv, n, Dv}, KVFUSE_F32); }

const char *kAttrs = "causal, window_left = 80 : i64, softcap = "
                     "3.000000000e+01 : f32";

/// `kv.partial_attention` of slice `n` as SSA names %o<n>, %l<n>.
std::string partialOp(int64_t n, const std::string &k, const std::string &v) {
  std::string i = std::to_string(n);
  return "  %oi" + i + " = tensor.empty() : " + to + "\n  %li" + i +
         " = tensor.empty() : " + tl + "\n  %o" + i + ", %l" + i +
         " = kv.partial_attention %q, " + k + ", " + v + " : " + tq + ", " +
         kType(kSizes[n]) + ", " + vType(kSizes[n]) + " kv_lens(%lens : " + tb +
         ") offsets(%offs : " + tb + ") outs(%oi" + i + ", %li" + i + " : " +
         to + ", " + tl + ") {" + kAttrs +
         ", kv_start = " + std::to_string(kStarts[n]) + " : i64} -> " + to +
         ", " + tl + "\n";
}

std::string commonArgs() {
  return "%q: " + tq + " {kv.name = \"q\"}, %lens: " + tb +
         " {kv.name = \"kv_lens\"}, %offs: " + tb + " {kv.name = \"offsets\"}";
}

std::string module() {
  std::string m;
  // One entry per slice: q, k, v of the slice -> (O, LSE).
  for (int64_t n = 0; n < N; ++n)
    m += "func.func @part" + std::to_string(n) + "(" + commonArgs() +
         ", %k: " + kType(kSizes[n]) +
         " {kv.name = \"k\"}, %v: " + vType(kSizes[n]) +
         " {kv.name = \"v\"}) -> (" + to + ", " + tl + ") {\n" +
         partialOp(n, "%k", "%v") + "  return %o" + std::to_string(n) + ", %l" +
         std::to_string(n) + " : " + to + ", " + tl + "\n}\n\n";
  // The merge alone.
  m += "func.func @merge(%po: " + tpo + " {kv.name = \"parts\"}, %pl: " + tpl +
       " {kv.name = \"lses\"}) -> (" + to + ", " + tl +
       ") {\n  %oi = "
       "tensor.empty() : " +
       to + "\n  %li = tensor.empty() : " + tl +
       "\n  %o, %l = kv.merge %po, %pl : " + tpo + ", " + tpl +
       " outs(%oi, %li : " + to + ", " + tl + ") -> " + to + ", " + tl +
       "\n  return %o, %l : " + to + ", " + tl + "\n}\n\n";
  // The split form: one op returns N partials of all the keys (divided as
  // the back end chooses), merged into the full attention.
  m += "func.func @split_form(" + commonArgs() + ", %k: " + kType(Skv) +
       " {kv.name = \"k\"}, %v: " + vType(Skv) + " {kv.name = \"v\"}) -> (" +
       to + ", " + tl + ") {\n  %poi = tensor.empty() : " + tpo +
       "\n  %pli = tensor.empty() : " + tpl +
       "\n  %po, %pl = kv.partial_attention %q, %k, %v : " + tq + ", " +
       kType(Skv) + ", " + vType(Skv) + " kv_lens(%lens : " + tb +
       ") offsets(%offs : " + tb + ") outs(%poi, %pli : " + tpo + ", " + tpl +
       ") {" + kAttrs + "} -> " + tpo + ", " + tpl +
       "\n  %oi = tensor.empty() : " + to + "\n  %li = tensor.empty() : " + tl +
       "\n  %o, %l = kv.merge %po, %pl : " + tpo + ", " + tpl + " outs(%oi, %li : " +
       to + ", " + tl + ") -> " + to + ", " + tl + "\n  return %o, %l : " + to +
       ", " + tl + "\n}\n\n";
  // Split and merge in one func: partials stacked with tensor.insert_slice.
  m += "func.func @split_merge(" + commonArgs();
  for (int64_t n = 0; n < N; ++n) {
    std::string i = std::to_string(n);
    m += ", %k" + i + ": " + kType(kSizes[n]) + " {kv.name = \"k" + i +
         "\"}, %v" + i + ": " + vType(kSizes[n]) + " {kv.name = \"v" + i +
         "\"}";
  }
  m += ") -> (" + to + ", " + tl + ") {\n";
  for (int64_t n = 0; n < N; ++n)
    m += partialOp(n, "%k" + std::to_string(n), "%v" + std::to_string(n));
  m += "  %po_0 = tensor.empty() : " + tpo +
       "\n  %pl_0 = tensor.empty() : " + tpl + "\n";
  for (int64_t n = 0; n < N; ++n) {
    std::string i = std::to_string(n), j = std::to_string(n + 1);
    m += "  %po_" + j + " = tensor.insert_slice %o" + i + " into %po_" + i +
         "[" + i + ", 0, 0, 0, 0] [1, " + std::to_string(B) + ", " +
         std::to_string(Hq) + ", " + std::to_string(Sq) + ", " +
         std::to_string(Dv) + "] [1, 1, 1, 1, 1] : " + to + " into " + tpo +
         "\n";
    m += "  %pl_" + j + " = tensor.insert_slice %l" + i + " into %pl_" + i +
         "[" + i + ", 0, 0, 0] [1, " + std::to_string(B) + ", " +
         std::to_string(Hq) + ", " + std::to_string(Sq) +
         "] [1, 1, 1, 1] : " + tl + " into " + tpl + "\n";
  }
  std::string last = std::to_string(N);
  m += "  %oi = tensor.empty() : " + to + "\n  %li = tensor.empty() : " + tl +
       "\n  %o, %l = kv.merge %po_" + last + ", %pl_" + last + " : " + tpo +
       ", " + tpl + " outs(%oi, %li : " + to + ", " + tl + ") -> " + to + ", " +
       tl + "\n  return %o, %l : " + to + ", " + tl + "\n}\n";
  return m;
}

/// The module, compiled once for both tests.
const Artifact *compiledModule() {
  static Artifact art;
  static ::testing::AssertionResult result = compileModule(art, module());
  if (!result) {
    ADD_FAILURE() << result.message();
    return nullptr;
  }
  return &art;
}

kvfuse::ref::AttentionProblem problem(int64_t kvStart, int64_t kvLen) {
  kvfuse::ref::AttentionProblem p;
  p.batch = B;
  p.qHeads = Hq;
  p.kvHeads = Hkv;
  p.qLen = Sq;
  p.kvLen = kvLen;
  p.headDim = D;
  p.valueDim = Dv;
  p.causal = true;
  p.windowLeft = 80;
  p.softcap = 30.0;
  p.offsets = kOffsets.data();
  p.kvLens = kLens.data();
  p.kvStart = kvStart;
  return p;
}

/// Keys [start, start+n) of a [B, H, Skv, dim] tensor as a new tensor.
Tensor slice(const Tensor &t, int64_t start, int64_t n) {
  const std::vector<int64_t> &s = t.shape();
  Tensor out(t.dtype(), {s[0], s[1], n, s[3]});
  for (int64_t bh = 0; bh < s[0] * s[1]; ++bh)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t d = 0; d < s[3]; ++d)
        out.set((bh * n + j) * s[3] + d,
                t.get((bh * s[2] + start + j) * s[3] + d));
  return out;
}

/// Fresh outputs of a partial or merge entry, O and its LSE, poisoned with
/// NaN so that unwritten elements are caught.
struct Outputs {
  Tensor o{KVFUSE_F32, {B, Hq, Sq, Dv}}, l{KVFUSE_F32, {B, Hq, Sq}};
  Outputs() {
    o.poison();
    l.poison();
  }
};

/// Runs `entry` on `inputs` into `out` (bound as out0 and out1) and checks
/// both outputs against the float64 reference. A failed run is fatal: wrap
/// the call in ASSERT_NO_FATAL_FAILURE.
void runAndCheck(const Artifact &art, const char *entry,
                 std::vector<kvfuse_binding> inputs,
                 const std::vector<double> &ref,
                 const std::vector<double> &refLse, Outputs &out) {
  inputs.push_back(out.o.bind("out0"));
  inputs.push_back(out.l.bind("out1"));
  ASSERT_EQ(runEntry(art, entry, inputs), KVFUSE_OK) << kvfuse_last_error();
  EXPECT_TRUE(checkOutput(out.o, ref, refLse, Dv, 1e-5));
  EXPECT_TRUE(checkLse(out.l, refLse, 1e-5));
}

/// Random Q/K/V of the whole problem, its lengths and offsets, and the full
/// attention in float64: what every split must merge to.
struct FullProblem {
  Tensor q{KVFUSE_F32, {B, Hq, Sq, D}}, k{KVFUSE_F32, {B, Hkv, Skv, D}},
      v{KVFUSE_F32, {B, Hkv, Skv, Dv}};
  Tensor lens{KVFUSE_I32, {B}}, offs{KVFUSE_I32, {B}};
  std::vector<double> qd, full, fullLse;
  explicit FullProblem(unsigned seed) {
    std::mt19937 rng(seed);
    q.fillUniform(rng);
    k.fillUniform(rng);
    v.fillUniform(rng);
    for (int64_t b = 0; b < B; ++b) {
      lens.set(b, kLens[b]);
      offs.set(b, kOffsets[b]);
    }
    qd = q.toDouble();
    std::vector<double> kd = k.toDouble(), vd = v.toDouble();
    full.resize(B * Hq * Sq * Dv);
    fullLse.resize(B * Hq * Sq);
    kvfuse::ref::attention(problem(0, Skv), qd.data(), kd.data(), vd.data(),
                           full.data(), fullLse.data());
  }
};

TEST(PartialAttention, SplitsMergeToFullAttention) {
  const Artifact *compiled = compiledModule();
  ASSERT_TRUE(compiled);
  const Artifact &art = *compiled;
  FullProblem p(77);
  Tensor &q = p.q, &k = p.k, &v = p.v, &lens = p.lens, &offs = p.offs;
  const std::vector<double> &qd = p.qd, &full = p.full, &fullLse = p.fullLse;
  const int64_t rows = B * Hq * Sq;

  // Each slice on its own: (O, LSE) of the slice.
  Tensor parts(KVFUSE_F32, {N, B, Hq, Sq, Dv}),
      lses(KVFUSE_F32, {N, B, Hq, Sq});
  std::vector<Tensor> ks, vs;
  for (int64_t n = 0; n < N; ++n) {
    SCOPED_TRACE("slice " + std::to_string(n));
    ks.push_back(slice(k, kStarts[n], kSizes[n]));
    vs.push_back(slice(v, kStarts[n], kSizes[n]));
    std::vector<double> kn = ks.back().toDouble(), vn = vs.back().toDouble();
    std::vector<double> ref(rows * Dv), refLse(rows);
    kvfuse::ref::attention(problem(kStarts[n], kSizes[n]), qd.data(), kn.data(),
                           vn.data(), ref.data(), refLse.data());
    Outputs out;
    std::string entry = "part" + std::to_string(n);
    ASSERT_NO_FATAL_FAILURE(runAndCheck(
        art, entry.c_str(),
        {q.bind("q"), lens.bind("kv_lens"), offs.bind("offsets"),
         ks.back().bind("k"), vs.back().bind("v")},
        ref, refLse, out));
    const Tensor &o = out.o, &l = out.l;
    for (int64_t i = 0; i < o.size(); ++i)
      parts.set(n * o.size() + i, o.get(i));
    for (int64_t i = 0; i < l.size(); ++i)
      lses.set(n * l.size() + i, l.get(i));
  }
  // The split has fully masked slices (sequence 1 past its length).
  int64_t maskedSlices = 0;
  for (int64_t i = 0; i < lses.size(); ++i)
    maskedSlices += std::isinf(lses.get(i)) ? 1 : 0;
  EXPECT_GT(maskedSlices, 0);

  // Merged by the merge entry.
  {
    SCOPED_TRACE("merge entry");
    Outputs out;
    ASSERT_NO_FATAL_FAILURE(runAndCheck(
        art, "merge", {parts.bind("parts"), lses.bind("lses")}, full, fullLse,
        out));
  }
  // Split and merge fused in one func.
  {
    SCOPED_TRACE("split_merge entry");
    Outputs out;
    ASSERT_NO_FATAL_FAILURE(runAndCheck(
        art, "split_merge",
        {q.bind("q"), lens.bind("kv_lens"), offs.bind("offsets"),
         ks[0].bind("k0"), vs[0].bind("v0"), ks[1].bind("k1"),
         vs[1].bind("v1"), ks[2].bind("k2"), vs[2].bind("v2")},
        full, fullLse, out));
  }
}

TEST(PartialAttention, SplitFormMergesToFullAttention) {
  const Artifact *compiled = compiledModule();
  ASSERT_TRUE(compiled);
  FullProblem p(79);
  Outputs out;
  ASSERT_NO_FATAL_FAILURE(runAndCheck(
      *compiled, "split_form",
      {p.q.bind("q"), p.lens.bind("kv_lens"), p.offs.bind("offsets"),
       p.k.bind("k"), p.v.bind("v")},
      p.full, p.fullLse, out));
}

TEST(PartialAttention, FullyMaskedRowsThroughMerge) {
  const Artifact *compiled = compiledModule();
  ASSERT_TRUE(compiled);
  const Artifact &art = *compiled;
  std::mt19937 rng(78);
  const double negInf = -std::numeric_limits<double>::infinity();
  const int64_t rows = B * Hq * Sq;
  // Random partials; every third row is -inf in every slice (fully masked),
  // other rows have -inf in some slices, which must contribute nothing.
  Tensor parts(KVFUSE_F32, {N, B, Hq, Sq, Dv}),
      lses(KVFUSE_F32, {N, B, Hq, Sq});
  parts.fillUniform(rng);
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t r = 0; r < rows; ++r)
      lses.set(n * rows + r,
               r % 3 == 0 || (r % 3 == 1 && n == 1) ? negInf : u(rng));
  // Reference merge in float64, as kv.merge's description states.
  std::vector<double> ref(rows * Dv, 0.0), refLse(rows);
  for (int64_t r = 0; r < rows; ++r) {
    double m = negInf;
    for (int64_t n = 0; n < N; ++n)
      m = std::max(m, lses.get(n * rows + r));
    if (m == negInf) {
      refLse[r] = negInf;
      continue;
    }
    double sum = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      double l = lses.get(n * rows + r);
      if (l == negInf)
        continue;
      double w = std::exp(l - m);
      sum += w;
      for (int64_t d = 0; d < Dv; ++d)
        ref[r * Dv + d] += w * parts.get((n * rows + r) * Dv + d);
    }
    for (int64_t d = 0; d < Dv; ++d)
      ref[r * Dv + d] /= sum;
    refLse[r] = m + std::log(sum);
  }
  Outputs out;
  ASSERT_NO_FATAL_FAILURE(runAndCheck(
      art, "merge", {parts.bind("parts"), lses.bind("lses")}, ref, refLse, out));
}

} // namespace
