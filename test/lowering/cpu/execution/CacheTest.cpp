//===- CacheTest.cpp - KV caches through compiled kv.append/attention -----===//
//
// Drives compiled prefill/decode entries (kv.append + kv.cache_attention, and
// the fused kv.append_attention) through the runtime on contiguous and paged
// caches of f32, f16 and bf16,
// keeping a host copy of every appended K/V row (rounded through the cache
// type) to check each step against the float64 reference with bottom-right
// causal alignment. Covers filling a cache to capacity (and the rejected step
// after it, which must leave the cache untouched), batches of sequences with
// unequal lengths, paged caches whose pages are out of order, kv.load of a
// cache (bit exact), running out of pages, and the runtime's error paths
// with a compiled artifact.
//
//===----------------------------------------------------------------------===//

#include "Harness.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <ostream>

using namespace kvfuse::exec;

namespace {

// Every cache here: Hkv=2 heads of dim 64 for Hq=8 (GQA 4), 100 tokens per
// sequence (paged: 16-token pages, the last one partly used). Paged caches
// use value_dim 32 so that the value pool has its own geometry.
constexpr int64_t Hq = 8, Hkv = 2, D = 64, Capacity = 100, PageSize = 16;
constexpr int64_t Prefill = 37, MaxSeqs = 4;

struct CacheConfig {
  kvfuse_dtype dtype;
  bool paged;
  int64_t valueDim() const { return paged ? 32 : 64; }
  std::string name() const {
    return std::string(dtypeName(dtype)) + (paged ? "_paged" : "_contiguous");
  }
  kvfuse_cache_spec spec() const {
    return {dtype,
            Hkv,
            D,
            valueDim(),
            Capacity,
            paged ? KVFUSE_LAYOUT_PAGED : KVFUSE_LAYOUT_CONTIGUOUS,
            paged ? PageSize : Capacity};
  }
  std::string cacheType() const {
    std::string s = std::string("!kv.cache<") + dtypeName(dtype) +
                    ", heads = " + std::to_string(Hkv) +
                    ", head_dim = " + std::to_string(D);
    if (valueDim() != D)
      s += ", value_dim = " + std::to_string(valueDim());
    s += ", capacity = " + std::to_string(Capacity);
    if (paged)
      s += ", layout = #kv.paged<page_size = " + std::to_string(PageSize) + ">";
    return s + ">";
  }
};

/// One append + cache_attention entry: batch, tokens per step, attributes;
/// `fused` entries use one kv.append_attention (and take no kv_lens).
struct StepEntry {
  const char *name;
  int64_t batch, tokens;
  bool causal;
  int64_t windowLeft;
  float softcap;
  float scale; // NaN: the default 1/sqrt(D)
  bool fused = false;
};

constexpr float kDefault = std::numeric_limits<float>::quiet_NaN();
const StepEntry kPrefill = {"prefill", 1, Prefill, true, -1, 0.0f, kDefault};
const StepEntry kDecode = {"decode", 1, 1, false, -1, 0.0f, kDefault};
// Speculative-style step: 3 tokens, causal within them, a sliding window and
// a scale that makes the softmax peaked.
const StepEntry kSpec = {"spec", 1, 3, true, 20, 0.0f, 0.5f};
// The soft-cap is small enough to change the result noticeably.
const StepEntry kDecodeB3 = {"decode_b3", 3, 1, true, -1, 0.25f, kDefault};
// The same steps through kv.append_attention, with causal + sliding windows
// short enough to cut off early tokens (the fused prefill's window of 9
// cuts most of the 37-token prompt).
const StepEntry kFusedPrefill = {"fused_prefill", 1, Prefill, true, 9,
                                 0.0f, kDefault, true};
const StepEntry kFusedDecode = {"fused_decode", 1, 1, true, 20,
                                0.0f, kDefault, true};
const StepEntry kFusedSpec = {"fused_spec", 1, 3, true, 20, 0.0f, 0.5f, true};
const StepEntry kFusedDecodeB3 = {"fused_decode_b3", 3, 1, true, 30,
                                  0.25f, kDefault, true};

std::string stepFunc(const CacheConfig &cfg, const StepEntry &e) {
  std::string ct = cfg.cacheType();
  std::string tq = tensorType({e.batch, Hq, e.tokens, D}, KVFUSE_F32);
  std::string tk = tensorType({e.batch, Hkv, e.tokens, D}, KVFUSE_F32);
  std::string tv =
      tensorType({e.batch, Hkv, e.tokens, cfg.valueDim()}, KVFUSE_F32);
  std::string to =
      tensorType({e.batch, Hq, e.tokens, cfg.valueDim()}, KVFUSE_F32);
  std::string tb = tensorType({e.batch}, KVFUSE_I32);
  std::vector<std::string> attrs;
  if (e.causal)
    attrs.push_back("causal");
  if (e.windowLeft >= 0)
    attrs.push_back("window_left = " + std::to_string(e.windowLeft) + " : i64");
  if (e.softcap != 0.0f)
    attrs.push_back("softcap = " + f32Attr(e.softcap));
  if (!std::isnan(e.scale))
    attrs.push_back("scale = " + f32Attr(e.scale));
  std::string attrDict;
  for (size_t i = 0; i < attrs.size(); ++i)
    attrDict += (i ? ", " : "") + attrs[i];
  if (!attrDict.empty())
    attrDict = " {" + attrDict + "}";
  std::string head = "func.func @" + std::string(e.name) + "(%q: " + tq +
                     " {kv.name = \"q\"}, %k: " + tk +
                     " {kv.name = \"k\"}, %v: " + tv +
                     " {kv.name = \"v\"}, %cache: " + ct +
                     " {kv.name = \"cache\"}, %past: " + tb +
                     " {kv.name = \"past\", kv.role = \"past_lens\"}";
  std::string attributes = ") -> " + to + " attributes {kv.step_tokens = " +
                           std::to_string(e.tokens) + " : i64} {\n";
  std::string tail = "\n  return %o : " + to + "\n}\n\n";
  if (e.fused)
    return head + attributes + "  %init = tensor.empty() : " + to +
           "\n  %o = kv.append_attention %q, %k, %v, %cache, %past : " + tq +
           ", " + tk + ", " + tv + ", " + ct + ", " + tb + " outs(%init : " +
           to + ")" + attrDict + " -> " + to + tail;
  return head + ", %lens: " + tb +
         " {kv.name = \"lens\", kv.role = \"kv_lens\"}" + attributes +
         "  kv.append %k, %v, %cache, %past : " + tk + ", " + tv + ", " + ct +
         ", " + tb + "\n  %init = tensor.empty() : " + to +
         "\n  %o = kv.cache_attention %q, %cache, %lens : " + tq + ", " + ct +
         ", " + tb + " outs(%init : " + to + ")" + attrDict + " -> " + to +
         tail;
}

std::string loadFunc(const CacheConfig &cfg) {
  std::string ct = cfg.cacheType();
  std::string tk = tensorType({1, Hkv, Capacity, D}, KVFUSE_F32);
  std::string tv = tensorType({1, Hkv, Capacity, cfg.valueDim()}, KVFUSE_F32);
  return "func.func @load(%cache: " + ct + " {kv.name = \"cache\"}) -> (" + tk +
         ", " + tv +
         ") attributes {kv.step_tokens = 0 : i64} {\n  %k0 = tensor.empty() "
         ": " +
         tk + "\n  %v0 = tensor.empty() : " + tv +
         "\n  %k, %v = kv.load %cache : " + ct + " outs(%k0, %v0 : " + tk +
         ", " + tv + ") -> " + tk + ", " + tv + "\n  return %k, %v : " + tk +
         ", " + tv + "\n}\n";
}

std::string cacheModule(const CacheConfig &cfg) {
  return stepFunc(cfg, kPrefill) + stepFunc(cfg, kDecode) +
         stepFunc(cfg, kSpec) + stepFunc(cfg, kDecodeB3) +
         stepFunc(cfg, kFusedPrefill) + stepFunc(cfg, kFusedDecode) +
         stepFunc(cfg, kFusedSpec) + stepFunc(cfg, kFusedDecodeB3) +
         loadFunc(cfg);
}

/// The artifact of a config, compiled once for all tests of the binary.
const Artifact *artifactFor(const CacheConfig &cfg) {
  static std::map<std::string, std::unique_ptr<Artifact>> compiled;
  static std::map<std::string, std::string> failures;
  std::string key = cfg.name();
  if (!compiled.count(key) && !failures.count(key)) {
    auto art = std::make_unique<Artifact>();
    ::testing::AssertionResult r = compileModule(*art, cacheModule(cfg));
    if (r)
      compiled[key] = std::move(art);
    else
      failures[key] = r.message();
  }
  if (failures.count(key)) {
    ADD_FAILURE() << "compiling the " << key << " module: " << failures[key];
    return nullptr;
  }
  return compiled[key].get();
}

/// A cache plus a host copy of what every sequence holds, rounded through
/// the cache's element type.
class CacheRun {
public:
  CacheRun(const Artifact &art, const CacheConfig &cfg, int64_t numPages = 0,
           uint32_t seed = 1)
      : art(art), cfg(cfg), rng(seed) {
    kvfuse_cache_spec spec = cfg.spec();
    status = kvfuse_cache_create(&spec, MaxSeqs, numPages, &cache);
    pages = cfg.paged
                ? (numPages ? numPages
                            : MaxSeqs * ((Capacity + PageSize - 1) / PageSize))
                : MaxSeqs;
  }
  ~CacheRun() { kvfuse_cache_free(cache); }

  kvfuse_status status;
  kvfuse_cache *cache = nullptr;

  int64_t add() {
    int64_t id = -1;
    EXPECT_EQ(kvfuse_cache_add_sequence(cache, &id), KVFUSE_OK)
        << kvfuse_last_error();
    seqs[id] = Seq();
    return id;
  }
  void remove(int64_t id) {
    EXPECT_EQ(kvfuse_cache_remove_sequence(cache, id), KVFUSE_OK);
    seqs.erase(id);
  }
  int64_t length(int64_t id) { return seqs[id].len; }

  /// Runs one step of `e` for `ids` with fresh random Q/K/V and checks
  /// every sequence's output against the reference.
  void step(const StepEntry &e, const std::vector<int64_t> &ids);
  /// Runs `e` expecting `want`; the pools, lengths, free pages and the
  /// (poisoned) output must be unchanged.
  void expectRejected(const StepEntry &e, const std::vector<int64_t> &ids,
                      kvfuse_status want);
  /// kv.load of sequence `id` returns exactly the appended (rounded) rows.
  void checkLoad(int64_t id);
  /// Bindings for a step of `e`; tensors are owned by `t`.
  std::vector<kvfuse_binding> bindStep(const StepEntry &e,
                                       std::vector<Tensor> &t);

  const Artifact &art;
  CacheConfig cfg;

private:
  struct Seq {
    int64_t len = 0;
    std::vector<std::vector<double>> k = std::vector<std::vector<double>>(Hkv),
                                     v = std::vector<std::vector<double>>(Hkv);
  };
  std::map<int64_t, Seq> seqs;
  std::mt19937 rng;
  int64_t pages = 0;

  size_t poolBytes(int64_t dim) const {
    return static_cast<size_t>(pages * Hkv * cfg.spec().page_size * dim *
                               kvfuse_dtype_size(cfg.dtype));
  }
};

std::vector<kvfuse_binding> CacheRun::bindStep(const StepEntry &e,
                                               std::vector<Tensor> &t) {
  int64_t dv = cfg.valueDim();
  t.clear();
  t.emplace_back(KVFUSE_F32, std::vector<int64_t>{e.batch, Hq, e.tokens, D});
  t.emplace_back(KVFUSE_F32, std::vector<int64_t>{e.batch, Hkv, e.tokens, D});
  t.emplace_back(KVFUSE_F32, std::vector<int64_t>{e.batch, Hkv, e.tokens, dv});
  t.emplace_back(KVFUSE_F32, std::vector<int64_t>{e.batch, Hq, e.tokens, dv});
  for (int i = 0; i < 3; ++i)
    t[i].fillUniform(rng);
  t[3].poison();
  std::vector<kvfuse_binding> b = {t[0].bind("q"), t[1].bind("k"),
                                   t[2].bind("v"), t[3].bind("out0")};
  kvfuse_binding c = {"cache", nullptr, 0, cache};
  b.push_back(c);
  return b;
}

void CacheRun::step(const StepEntry &e, const std::vector<int64_t> &ids) {
  SCOPED_TRACE(std::string("step ") + e.name);
  ASSERT_EQ(static_cast<int64_t>(ids.size()), e.batch);
  std::vector<Tensor> t;
  std::vector<kvfuse_binding> b = bindStep(e, t);
  ASSERT_EQ(runEntry(art, e.name, b, ids), KVFUSE_OK) << kvfuse_last_error();
  const Tensor &q = t[0], &k = t[1], &v = t[2], &out = t[3];
  int64_t S = e.tokens, dv = cfg.valueDim();
  for (int64_t bi = 0; bi < e.batch; ++bi) {
    Seq &s = seqs[ids[bi]];
    SCOPED_TRACE("sequence " + std::to_string(ids[bi]) + " at length " +
                 std::to_string(s.len) + " + " + std::to_string(S));
    // The host copy gets the new rows as the cache stores them.
    for (int64_t h = 0; h < Hkv; ++h)
      for (int64_t j = 0; j < S; ++j) {
        for (int64_t d = 0; d < D; ++d)
          s.k[h].push_back(roundTo(
              cfg.dtype,
              static_cast<float>(k.get(((bi * Hkv + h) * S + j) * D + d))));
        for (int64_t d = 0; d < dv; ++d)
          s.v[h].push_back(roundTo(
              cfg.dtype,
              static_cast<float>(v.get(((bi * Hkv + h) * S + j) * dv + d))));
      }
    s.len += S;
    int64_t rtLen = -1;
    ASSERT_EQ(kvfuse_cache_sequence_length(cache, ids[bi], &rtLen), KVFUSE_OK);
    ASSERT_EQ(rtLen, s.len);

    std::vector<double> kd, vd;
    for (int64_t h = 0; h < Hkv; ++h) {
      kd.insert(kd.end(), s.k[h].begin(), s.k[h].end());
      vd.insert(vd.end(), s.v[h].begin(), s.v[h].end());
    }
    std::vector<double> qd(q.toDouble());
    qd = std::vector<double>(qd.begin() + bi * Hq * S * D,
                             qd.begin() + (bi + 1) * Hq * S * D);
    kvfuse::ref::AttentionProblem p;
    p.qHeads = Hq;
    p.kvHeads = Hkv;
    p.qLen = S;
    p.kvLen = s.len;
    p.headDim = D;
    p.valueDim = dv;
    p.causal = e.causal;
    p.causalOffset = s.len - S; // bottom-right: row i at kv_lens - Sq + i
    p.windowLeft = e.windowLeft;
    p.softcap = e.softcap;
    if (!std::isnan(e.scale))
      p.scale = e.scale;
    std::vector<double> ref(Hq * S * dv), lse(Hq * S);
    kvfuse::ref::attention(p, qd.data(), kd.data(), vd.data(), ref.data(),
                           lse.data());
    Tensor mine(KVFUSE_F32, {1, Hq, S, dv});
    for (int64_t i = 0; i < mine.size(); ++i)
      mine.set(i, out.get(bi * mine.size() + i));
    // The reference reads the K/V the cache holds (rounded to its type) and
    // the output is f32, so the f32 tolerance applies whatever the cache
    // type: a kernel that skipped the rounding would fail here.
    ASSERT_TRUE(checkOutput(mine, ref, lse, dv, toleranceFor(KVFUSE_F32)));
  }
}

void CacheRun::expectRejected(const StepEntry &e,
                              const std::vector<int64_t> &ids,
                              kvfuse_status want) {
  SCOPED_TRACE(std::string("rejected step ") + e.name);
  std::vector<unsigned char> keys(
      static_cast<unsigned char *>(kvfuse_cache_key_pool(cache)),
      static_cast<unsigned char *>(kvfuse_cache_key_pool(cache)) +
          poolBytes(D));
  std::vector<unsigned char> values(
      static_cast<unsigned char *>(kvfuse_cache_value_pool(cache)),
      static_cast<unsigned char *>(kvfuse_cache_value_pool(cache)) +
          poolBytes(cfg.valueDim()));
  int64_t freePages = kvfuse_cache_free_pages(cache);
  std::vector<Tensor> t;
  std::vector<kvfuse_binding> b = bindStep(e, t);
  EXPECT_EQ(runEntry(art, e.name, b, ids), want) << kvfuse_last_error();
  EXPECT_EQ(std::memcmp(keys.data(), kvfuse_cache_key_pool(cache), keys.size()),
            0)
      << "the key pool changed";
  EXPECT_EQ(
      std::memcmp(values.data(), kvfuse_cache_value_pool(cache), values.size()),
      0)
      << "the value pool changed";
  EXPECT_EQ(kvfuse_cache_free_pages(cache), freePages);
  for (int64_t id : ids) {
    int64_t len = -1;
    EXPECT_EQ(kvfuse_cache_sequence_length(cache, id, &len), KVFUSE_OK);
    EXPECT_EQ(len, seqs[id].len);
  }
  EXPECT_EQ(t[3].countNaN(), t[3].size()) << "the output was written";
}

void CacheRun::checkLoad(int64_t id) {
  SCOPED_TRACE("kv.load of sequence " + std::to_string(id));
  int64_t dv = cfg.valueDim();
  Tensor k(KVFUSE_F32, {1, Hkv, Capacity, D}),
      v(KVFUSE_F32, {1, Hkv, Capacity, dv});
  k.poison();
  v.poison();
  kvfuse_binding c = {"cache", nullptr, 0, cache};
  ASSERT_EQ(runEntry(art, "load", {c, k.bind("out0"), v.bind("out1")}, {id}),
            KVFUSE_OK)
      << kvfuse_last_error();
  const Seq &s = seqs[id];
  int64_t len = -1;
  ASSERT_EQ(kvfuse_cache_sequence_length(cache, id, &len), KVFUSE_OK);
  ASSERT_EQ(len, s.len) << "a load must not advance the sequence";
  // Bit exact: the cache holds the rounded values, converting them back to
  // f32 is exact.
  auto same = [](double want, double got) {
    float a = static_cast<float>(want), b = static_cast<float>(got);
    return std::memcmp(&a, &b, sizeof(float)) == 0;
  };
  int64_t bad = 0;
  for (int64_t h = 0; h < Hkv; ++h)
    for (int64_t t = 0; t < s.len; ++t) {
      for (int64_t d = 0; d < D; ++d)
        if (!same(s.k[h][t * D + d], k.get((h * Capacity + t) * D + d)) &&
            bad++ < 5)
          ADD_FAILURE() << "K head " << h << " token " << t << " dim " << d
                        << ": got " << k.get((h * Capacity + t) * D + d)
                        << ", appended " << s.k[h][t * D + d];
      for (int64_t d = 0; d < dv; ++d)
        if (!same(s.v[h][t * dv + d], v.get((h * Capacity + t) * dv + d)) &&
            bad++ < 5)
          ADD_FAILURE() << "V head " << h << " token " << t << " dim " << d
                        << ": got " << v.get((h * Capacity + t) * dv + d)
                        << ", appended " << s.v[h][t * dv + d];
    }
  EXPECT_EQ(bad, 0) << "elements differing from what was appended";
}

void PrintTo(const CacheConfig &cfg, std::ostream *os) { *os << cfg.name(); }

class Cache : public ::testing::TestWithParam<CacheConfig> {};
class PagedCache : public ::testing::TestWithParam<CacheConfig> {};

std::string configName(const ::testing::TestParamInfo<CacheConfig> &info) {
  return info.param.name();
}

INSTANTIATE_TEST_SUITE_P(AllTypes, Cache,
                         ::testing::Values(CacheConfig{KVFUSE_F32, false},
                                           CacheConfig{KVFUSE_F32, true},
                                           CacheConfig{KVFUSE_F16, false},
                                           CacheConfig{KVFUSE_F16, true},
                                           CacheConfig{KVFUSE_BF16, false},
                                           CacheConfig{KVFUSE_BF16, true}),
                         configName);
INSTANTIATE_TEST_SUITE_P(AllTypes, PagedCache,
                         ::testing::Values(CacheConfig{KVFUSE_F32, true},
                                           CacheConfig{KVFUSE_F16, true},
                                           CacheConfig{KVFUSE_BF16, true}),
                         configName);

// Prefill, decode and 3-token steps until the cache is exactly full; then
// every further step is rejected with the cache untouched.
TEST_P(Cache, FillToCapacity) {
  const Artifact *art = artifactFor(GetParam());
  ASSERT_TRUE(art);
  CacheRun run(*art, GetParam(), 0, 11);
  ASSERT_EQ(run.status, KVFUSE_OK) << kvfuse_last_error();
  int64_t a = run.add();
  ASSERT_NO_FATAL_FAILURE(run.step(kPrefill, {a}));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
  for (int i = 0; i < 3; ++i)
    ASSERT_NO_FATAL_FAILURE(run.step(kDecode, {a}));
  for (int i = 0; i < 2; ++i)
    ASSERT_NO_FATAL_FAILURE(run.step(kSpec, {a}));
  while (run.length(a) < Capacity - 2)
    ASSERT_NO_FATAL_FAILURE(run.step(kDecode, {a}));
  // 98 + 3 > 100: rejected; two single tokens still fit.
  ASSERT_NO_FATAL_FAILURE(
      run.expectRejected(kSpec, {a}, KVFUSE_ERR_CACHE_FULL));
  ASSERT_NO_FATAL_FAILURE(run.step(kDecode, {a}));
  ASSERT_NO_FATAL_FAILURE(run.step(kDecode, {a}));
  ASSERT_EQ(run.length(a), Capacity);
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
  ASSERT_NO_FATAL_FAILURE(
      run.expectRejected(kDecode, {a}, KVFUSE_ERR_CACHE_FULL));
  ASSERT_NO_FATAL_FAILURE(
      run.expectRejected(kPrefill, {a}, KVFUSE_ERR_CACHE_FULL));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
}

// Sequences prefilled one at a time to unequal lengths, then decoded as a
// batch; on a paged cache, one sequence's pages are out of order because a
// removed sequence's pages were handed out again.
TEST_P(Cache, BatchOfUnequalLengths) {
  const Artifact *art = artifactFor(GetParam());
  ASSERT_TRUE(art);
  CacheRun run(*art, GetParam(), 0, 12);
  ASSERT_EQ(run.status, KVFUSE_OK) << kvfuse_last_error();
  int64_t a = run.add(), b = run.add();
  ASSERT_NO_FATAL_FAILURE(run.step(kPrefill, {a}));
  ASSERT_NO_FATAL_FAILURE(run.step(kPrefill, {b}));
  run.remove(a); // its pages (stale K/V) return to the pool
  // b crosses a page boundary at token 48 and gets one of a's old pages.
  while (run.length(b) < 49)
    ASSERT_NO_FATAL_FAILURE(run.step(kDecode, {b}));
  int64_t c = run.add(), d = run.add();
  ASSERT_NO_FATAL_FAILURE(run.step(kPrefill, {c}));
  ASSERT_NO_FATAL_FAILURE(run.step(kPrefill, {d}));
  for (int i = 0; i < 3; ++i)
    ASSERT_NO_FATAL_FAILURE(run.step(kDecode, {c}));
  ASSERT_NO_FATAL_FAILURE(run.step(kSpec, {d}));
  if (GetParam().paged) {
    const int32_t *pages = nullptr;
    int64_t n = 0;
    ASSERT_EQ(kvfuse_cache_sequence_pages(run.cache, b, &pages, &n), KVFUSE_OK);
    ASSERT_EQ(n, 4);
    bool ascending = true;
    for (int64_t i = 1; i < n; ++i)
      ascending &= pages[i] > pages[i - 1];
    ASSERT_FALSE(ascending) << "the test needs pages out of order";
  }
  // Lengths 49, 40, 40 -> batch decode, also in another batch order.
  for (int i = 0; i < 5; ++i)
    ASSERT_NO_FATAL_FAILURE(run.step(kDecodeB3, {b, c, d}));
  for (int i = 0; i < 2; ++i)
    ASSERT_NO_FATAL_FAILURE(run.step(kDecodeB3, {d, b, c}));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(b));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(c));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(d));
  // Another prefill/decode of a single sequence in between batch steps.
  ASSERT_NO_FATAL_FAILURE(run.step(kSpec, {c}));
  ASSERT_NO_FATAL_FAILURE(run.step(kDecodeB3, {c, d, b}));
}

// kv.append_attention: a fused prefill, then fused decode and 3-token steps
// (causal with sliding windows) until the cache is exactly full, the cache
// holding exactly the appended rows after every step; unfused steps on the
// same cache in between read what the fused ones wrote and vice versa.
TEST_P(Cache, FusedPrefillAndDecode) {
  const Artifact *art = artifactFor(GetParam());
  ASSERT_TRUE(art);
  CacheRun run(*art, GetParam(), 0, 15);
  ASSERT_EQ(run.status, KVFUSE_OK) << kvfuse_last_error();
  int64_t a = run.add();
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedPrefill, {a}));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
  for (int i = 0; i < 4; ++i) {
    ASSERT_NO_FATAL_FAILURE(run.step(kFusedDecode, {a}));
    ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_NO_FATAL_FAILURE(run.step(kFusedSpec, {a}));
    ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
  }
  ASSERT_NO_FATAL_FAILURE(run.step(kDecode, {a}));
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedDecode, {a}));
  ASSERT_NO_FATAL_FAILURE(run.step(kSpec, {a}));
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedSpec, {a}));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
  while (run.length(a) < Capacity - 2)
    ASSERT_NO_FATAL_FAILURE(run.step(kFusedDecode, {a}));
  // 98 + 3 > 100: rejected with the cache untouched; two tokens still fit.
  ASSERT_NO_FATAL_FAILURE(
      run.expectRejected(kFusedSpec, {a}, KVFUSE_ERR_CACHE_FULL));
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedDecode, {a}));
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedDecode, {a}));
  ASSERT_EQ(run.length(a), Capacity);
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
  ASSERT_NO_FATAL_FAILURE(
      run.expectRejected(kFusedDecode, {a}, KVFUSE_ERR_CACHE_FULL));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
}

// kv.append_attention on a batch of sequences of unequal lengths (on a
// paged cache with pages out of order), in several batch orders.
TEST_P(Cache, FusedBatchOfUnequalLengths) {
  const Artifact *art = artifactFor(GetParam());
  ASSERT_TRUE(art);
  CacheRun run(*art, GetParam(), 0, 16);
  ASSERT_EQ(run.status, KVFUSE_OK) << kvfuse_last_error();
  int64_t a = run.add(), b = run.add();
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedPrefill, {a}));
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedPrefill, {b}));
  run.remove(a); // its pages (stale K/V) return to the pool
  while (run.length(b) < 49)
    ASSERT_NO_FATAL_FAILURE(run.step(kFusedDecode, {b}));
  int64_t c = run.add(), d = run.add();
  ASSERT_NO_FATAL_FAILURE(run.step(kPrefill, {c}));
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedPrefill, {d}));
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedSpec, {d}));
  if (GetParam().paged) {
    const int32_t *pages = nullptr;
    int64_t n = 0;
    ASSERT_EQ(kvfuse_cache_sequence_pages(run.cache, b, &pages, &n), KVFUSE_OK);
    bool ascending = true;
    for (int64_t i = 1; i < n; ++i)
      ascending &= pages[i] > pages[i - 1];
    ASSERT_FALSE(ascending) << "the test needs pages out of order";
  }
  // Lengths 49, 37, 40.
  for (int i = 0; i < 4; ++i) {
    ASSERT_NO_FATAL_FAILURE(run.step(kFusedDecodeB3, {b, c, d}));
    ASSERT_NO_FATAL_FAILURE(run.checkLoad(c));
  }
  for (int i = 0; i < 2; ++i)
    ASSERT_NO_FATAL_FAILURE(run.step(kFusedDecodeB3, {d, b, c}));
  ASSERT_NO_FATAL_FAILURE(run.step(kDecodeB3, {c, d, b}));
  ASSERT_NO_FATAL_FAILURE(run.step(kFusedDecodeB3, {c, d, b}));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(b));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(c));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(d));
}

// A paged pool too small for the step: rejected, cache untouched.
TEST_P(PagedCache, OutOfPages) {
  const Artifact *art = artifactFor(GetParam());
  ASSERT_TRUE(art);
  CacheRun run(*art, GetParam(), 3, 13);
  ASSERT_EQ(run.status, KVFUSE_OK) << kvfuse_last_error();
  int64_t a = run.add();
  ASSERT_NO_FATAL_FAILURE(run.step(kPrefill, {a}));
  while (run.length(a) < 3 * PageSize)
    ASSERT_NO_FATAL_FAILURE(run.step(kDecode, {a}));
  ASSERT_NO_FATAL_FAILURE(
      run.expectRejected(kDecode, {a}, KVFUSE_ERR_OUT_OF_PAGES));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
}

// The runtime's error paths with a compiled artifact: nothing runs, nothing
// is written, and a correct step afterwards still matches the reference.
TEST(CacheErrors, RejectedBindings) {
  CacheConfig cfg{KVFUSE_F32, false};
  const Artifact *art = artifactFor(cfg);
  ASSERT_TRUE(art);
  CacheRun run(*art, cfg, 0, 14);
  ASSERT_EQ(run.status, KVFUSE_OK) << kvfuse_last_error();
  int64_t a = run.add();
  ASSERT_NO_FATAL_FAILURE(run.step(kPrefill, {a}));

  std::vector<Tensor> t;
  std::vector<kvfuse_binding> good = run.bindStep(kDecode, t);
  auto rejected = [&](const char *what, const char *entry,
                      std::vector<kvfuse_binding> b, std::vector<int64_t> ids,
                      kvfuse_status want) {
    SCOPED_TRACE(what);
    EXPECT_EQ(runEntry(*art, entry, b, ids), want) << kvfuse_last_error();
    EXPECT_STRNE(kvfuse_last_error(), "");
    EXPECT_EQ(t[3].countNaN(), t[3].size()) << "the output was written";
    EXPECT_EQ(run.length(a), Prefill);
    int64_t len = -1;
    EXPECT_EQ(kvfuse_cache_sequence_length(run.cache, a, &len), KVFUSE_OK);
    EXPECT_EQ(len, Prefill);
  };
  rejected("unknown entry", "no_such_entry", good, {a}, KVFUSE_ERR_NOT_FOUND);
  auto small = good;
  small[0].num_bytes -= 4;
  rejected("q one element short", "decode", small, {a},
           KVFUSE_ERR_SHAPE_MISMATCH);
  auto big = good;
  big[3].num_bytes += 4;
  rejected("output one element long", "decode", big, {a},
           KVFUSE_ERR_SHAPE_MISMATCH);
  auto missing = good;
  missing.erase(missing.begin() + 2); // no "v"
  rejected("missing binding", "decode", missing, {a},
           KVFUSE_ERR_INVALID_ARGUMENT);
  auto unknown = good;
  unknown.push_back({"w", t[2].data(), t[2].numBytes(), nullptr});
  rejected("unknown argument name", "decode", unknown, {a},
           KVFUSE_ERR_NOT_FOUND);
  int32_t lens = 5;
  auto lengths = good;
  lengths.push_back({"lens", &lens, sizeof(lens), nullptr});
  rejected("binding a runtime-filled length", "decode", lengths, {a},
           KVFUSE_ERR_INVALID_ARGUMENT);
  rejected("wrong batch size", "decode", good, {a, 999},
           KVFUSE_ERR_SHAPE_MISMATCH);
  rejected("unknown sequence", "decode", good, {999}, KVFUSE_ERR_NOT_FOUND);
  // A cache whose spec differs from the manifest's (capacity 50).
  kvfuse_cache_spec other = cfg.spec();
  other.capacity = other.page_size = 50;
  kvfuse_cache *wrong = nullptr;
  ASSERT_EQ(kvfuse_cache_create(&other, 1, 0, &wrong), KVFUSE_OK);
  int64_t w = -1;
  ASSERT_EQ(kvfuse_cache_add_sequence(wrong, &w), KVFUSE_OK);
  auto wrongCache = good;
  wrongCache[4].cache = wrong;
  rejected("cache spec mismatch", "decode", wrongCache, {w},
           KVFUSE_ERR_SHAPE_MISMATCH);
  kvfuse_cache_free(wrong);
  auto noCache = good;
  noCache[4].cache = nullptr;
  noCache[4].data = t[0].data();
  noCache[4].num_bytes = t[0].numBytes();
  rejected("tensor bound to a cache argument", "decode", noCache, {a},
           KVFUSE_ERR_INVALID_ARGUMENT);
  // After all that, the cache still works.
  ASSERT_NO_FATAL_FAILURE(run.step(kDecode, {a}));
  ASSERT_NO_FATAL_FAILURE(run.checkLoad(a));
}

} // namespace
