//===- kvfuse-check-cases.cpp - run attention cases against float64 -------===//
//
//   kvfuse-check-cases [--time REPS] CASE.kvf...
//
// Each argument is an artifact compiled from an IR case written by
// test/integration/gen_cases.py, with the case's description in `case.txt`
// beside the manifest. The same artifacts compile for the CPU and for a GPU
// (`--target=nvvm:<chip>`); this driver runs either through the runtime
// (device caches for GPU artifacts) and needs no MLIR, so GPU artifacts
// compiled elsewhere run on a machine that only has the CUDA driver.
//
//  - prefill cases (`kv.attention` on explicit Q/K/V of f32, f16 or bf16):
//    random inputs, NaN-poisoned output, float64 reference on the rounded
//    inputs with the case's causal offset, window, soft-cap, scale, kv_lens;
//  - decode cases (append + `kv.cache_attention` on a cache): sequences set
//    up at the case's past lengths with random cached K/V and a large finite
//    poison in every unused cache slot (so reading past a length shows), one
//    step of fresh K/V, output checked against the float64 reference over
//    the rounded cache, and the cache checked after the step: the new rows
//    stored exactly, nothing else changed.
// `--time REPS` then times each case (medians of REPS steps after warm-up;
// GPU artifacts with device-resident tensors) and prints its GB/s and
// TFLOP/s.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/reference.h"
#include "kvfuse/runtime.h"
#include "kvfuse/storage.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

// ---- element encodings -------------------------------------------------

using kvfuse::storage::fromBf16;
using kvfuse::storage::toBf16;

/// Element size and the value a `dtype` element stores for `x`.
int64_t sizeOf(const std::string &dtype) { return dtype == "f32" ? 4 : 2; }
void store(const std::string &dtype, float x, unsigned char *dst) {
  if (dtype == "f32") {
    std::memcpy(dst, &x, 4);
  } else if (dtype == "f16") {
    _Float16 h = (_Float16)x;
    std::memcpy(dst, &h, 2);
  } else {
    uint16_t h = toBf16(x);
    std::memcpy(dst, &h, 2);
  }
}
double load(const std::string &dtype, const unsigned char *src) {
  if (dtype == "f32") {
    float f;
    std::memcpy(&f, src, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, src, 2);
  if (dtype == "f16") {
    _Float16 v;
    std::memcpy(&v, &h, 2);
    return double(v);
  }
  return fromBf16(h);
}

/// A buffer of `n` elements of `dtype` with the float64 values it holds.
struct Tensor {
  std::string dtype;
  std::vector<unsigned char> bytes;
  std::vector<double> values;
  void random(int64_t n, std::mt19937 &rng, float range) {
    std::uniform_real_distribution<float> dist(-range, range);
    bytes.assign(n * sizeOf(dtype), 0);
    values.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      store(dtype, dist(rng), &bytes[i * sizeOf(dtype)]);
      values[i] = load(dtype, &bytes[i * sizeOf(dtype)]);
    }
  }
  void poison(int64_t n) {
    bytes.assign(n * sizeOf(dtype), 0);
    for (int64_t i = 0; i < n; ++i)
      store(dtype, NAN, &bytes[i * sizeOf(dtype)]);
  }
  std::vector<double> decode() const {
    int64_t n = bytes.size() / sizeOf(dtype);
    std::vector<double> out(n);
    for (int64_t i = 0; i < n; ++i)
      out[i] = load(dtype, &bytes[i * sizeOf(dtype)]);
    return out;
  }
};

// ---- case description --------------------------------------------------

struct Case {
  std::map<std::string, std::string> f;
  std::string dir, name;
  int64_t get(const std::string &k, int64_t fallback = 0) const {
    auto it = f.find(k);
    return it == f.end() ? fallback : atoll(it->second.c_str());
  }
  double real(const std::string &k, double fallback) const {
    auto it = f.find(k);
    return it == f.end() ? fallback : atof(it->second.c_str());
  }
  std::string str(const std::string &k, const std::string &fallback) const {
    auto it = f.find(k);
    return it == f.end() ? fallback : it->second;
  }
  std::vector<int64_t> list(const std::string &k) const {
    std::vector<int64_t> out;
    std::stringstream ss(str(k, ""));
    std::string item;
    while (std::getline(ss, item, ','))
      out.push_back(atoll(item.c_str()));
    return out;
  }
};

bool readCase(const std::string &dir, Case &c) {
  std::ifstream in(dir + "/case.txt");
  if (!in)
    return false;
  std::string tok;
  while (in >> tok) {
    size_t eq = tok.find('=');
    if (eq != std::string::npos)
      c.f[tok.substr(0, eq)] = tok.substr(eq + 1);
  }
  c.dir = dir;
  c.name = c.str("name", dir);
  return !c.f.empty();
}


double nowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool ok(kvfuse_status st, const Case &c, const char *what) {
  if (st == KVFUSE_OK)
    return true;
  fprintf(stderr, "kvfuse-check-cases: %s: %s: %s\n", c.name.c_str(), what,
          kvfuse_last_error());
  return false;
}

struct Outcome {
  bool pass = false;
  double err = 0;
  std::string why;
};

/// Median seconds of `reps` steps of `entry` after 3 warm-up steps, with
/// `reset` run before each outside the timed region. GPU artifacts get their
/// tensors copied to device memory once and run with kvfuse_run_device, so
/// the figure is the launches', not the host copies'.
template <typename Reset>
double timeSteps(kvfuse_artifact *art, const Case &c, const char *entry,
                 std::vector<kvfuse_binding> bind,
                 const std::vector<int64_t> &seqs, int reps, Reset reset) {
  bool gpu = std::string(kvfuse_artifact_target(art)) != "cpu";
  std::vector<void *> device;
  bool ready = true;
  if (gpu)
    for (kvfuse_binding &b : bind) {
      if (b.cache)
        continue;
      void *ptr = nullptr;
      if (!ok(kvfuse_device_alloc(b.num_bytes, &ptr), c, "device alloc") ||
          !ok(kvfuse_device_copy(ptr, b.data, b.num_bytes, 1), c, "copy")) {
        ready = false;
        break;
      }
      device.push_back(ptr);
      b.data = ptr;
    }
  std::vector<double> times;
  for (int i = 0; ready && i < reps + 3; ++i) {
    reset();
    double t0 = nowSeconds();
    kvfuse_status st =
        (gpu ? kvfuse_run_device : kvfuse_run)(art, entry, bind.data(),
                                               bind.size(), seqs.data(),
                                               seqs.size());
    if (!ok(st, c, "timed run"))
      break;
    if (i >= 3)
      times.push_back(nowSeconds() - t0);
  }
  for (void *ptr : device)
    kvfuse_device_free(ptr);
  std::sort(times.begin(), times.end());
  return times.empty() ? 0 : times[times.size() / 2];
}

// ---- prefill -------------------------------------------------------------

/// Runs one prefill step; `timed` repeats it and returns the median seconds.
Outcome checkPrefill(kvfuse_artifact *art, const Case &c, int reps,
                     double &seconds) {
  Outcome r;
  int64_t B = c.get("batch"), Hq = c.get("q_heads"), Hkv = c.get("kv_heads"),
          Sq = c.get("q_len"), Skv = c.get("kv_len"), D = c.get("head_dim"),
          Dv = c.get("value_dim", D);
  std::string dt = c.str("dtype", "f32"), odt = c.str("out_dtype", "f32");
  std::mt19937 rng(c.get("seed", 7));
  Tensor q{dt}, k{dt}, v{dt}, out{odt};
  q.random(B * Hq * Sq * D, rng, float(c.real("q_range", 1.0)));
  k.random(B * Hkv * Skv * D, rng, 1.0f);
  v.random(B * Hkv * Skv * Dv, rng, 1.0f);
  out.poison(B * Hq * Sq * Dv);
  std::vector<int64_t> lens64 = c.list("kv_lens");
  std::vector<int32_t> lens(lens64.begin(), lens64.end());
  std::vector<kvfuse_binding> bind = {
      {"q", q.bytes.data(), (int64_t)q.bytes.size(), nullptr},
      {"k", k.bytes.data(), (int64_t)k.bytes.size(), nullptr},
      {"v", v.bytes.data(), (int64_t)v.bytes.size(), nullptr},
      {"out0", out.bytes.data(), (int64_t)out.bytes.size(), nullptr}};
  if (!lens.empty())
    bind.push_back({"kv_lens", lens.data(), (int64_t)lens.size() * 4,
                    nullptr});
  if (!ok(kvfuse_run(art, "attend", bind.data(), bind.size(), nullptr, 0), c,
          "run")) {
    r.why = "run failed";
    return r;
  }
  kvfuse::ref::AttentionProblem p;
  p.batch = B;
  p.qHeads = Hq;
  p.kvHeads = Hkv;
  p.qLen = Sq;
  p.kvLen = Skv;
  p.headDim = D;
  p.valueDim = Dv;
  p.causal = c.get("causal");
  p.causalOffset = c.get("causal_offset");
  p.windowLeft = c.get("window_left", -1);
  p.windowRight = c.get("window_right", -1);
  p.softcap = c.real("softcap", 0.0);
  double scale = c.real("scale", 0.0);
  if (scale > 0)
    p.scale = scale;
  if (!lens.empty())
    p.kvLens = lens.data();
  std::vector<double> want(B * Hq * Sq * Dv);
  kvfuse::ref::attention(p, q.values.data(), k.values.data(), v.values.data(),
                         want.data());
  std::vector<double> got = out.decode();
  for (size_t i = 0; i < got.size(); ++i)
    if (!std::isfinite(got[i])) {
      r.why = "output element " + std::to_string(i) +
              " not written or not finite";
      return r;
    }
  r.err = kvfuse::ref::relativeError(got.data(), want.data(), want.size());
  // Fully masked rows must be exactly zero.
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < Sq; ++i) {
        bool any = false;
        for (int64_t j = 0; j < Skv && !any; ++j)
          any = kvfuse::ref::isKeyVisible(p, b, i, j);
        if (any)
          continue;
        for (int64_t d = 0; d < Dv; ++d)
          if (got[((b * Hq + h) * Sq + i) * Dv + d] != 0.0) {
            r.why = "fully masked row not zero";
            return r;
          }
      }
  r.pass = r.err <= c.real("tolerance", 1e-4);
  if (!r.pass)
    r.why = "relative error above tolerance";

  if (reps > 0)
    seconds = timeSteps(art, c, "attend", bind, {}, reps, [] {});
  return r;
}

// ---- decode ----------------------------------------------------------------

struct CacheState {
  kvfuse_cache *cache = nullptr;
  std::vector<int64_t> seqs;
  ~CacheState() {
    if (cache)
      kvfuse_cache_free(cache);
  }
};

/// Creates the case's cache with sequences at their past lengths.
bool setUpCache(kvfuse_artifact *art, const Case &c, CacheState &s) {
  kvfuse_cache_spec spec{};
  const char *name, *kind;
  int64_t n = 0;
  if (!ok(kvfuse_artifact_entry(art, "step", &n, nullptr), c, "entry"))
    return false;
  for (int64_t i = 0; i < n; ++i) {
    if (!ok(kvfuse_artifact_arg(art, "step", i, &name, &kind, nullptr,
                                nullptr, nullptr, &spec),
            c, "arg"))
      return false;
    if (!strcmp(kind, "cache"))
      break;
  }
  std::vector<int64_t> past = c.list("past");
  bool gpu = std::string(kvfuse_artifact_target(art)) != "cpu";
  if (!ok((gpu ? kvfuse_cache_create_on_device
               : kvfuse_cache_create)(&spec, past.size(), 0, &s.cache),
          c, "cache"))
    return false;
  s.seqs.resize(past.size());
  for (size_t b = 0; b < past.size(); ++b)
    if (!ok(kvfuse_cache_add_sequence(s.cache, &s.seqs[b]), c, "sequence") ||
        !ok(kvfuse_cache_extend_sequence(s.cache, s.seqs[b], past[b]), c,
            "extend"))
      return false;
  return true;
}

Outcome checkDecode(kvfuse_artifact *art, const Case &c, int reps,
                    double &seconds) {
  Outcome r;
  int64_t B = c.get("batch"), Hq = c.get("q_heads"), Hkv = c.get("kv_heads"),
          S = c.get("q_len"), D = c.get("head_dim"),
          Dv = c.get("value_dim", D), C = c.get("capacity"),
          PS = c.get("page_size", C);
  std::string cdt = c.str("cache", "f32");
  int64_t es = sizeOf(cdt);
  std::vector<int64_t> past = c.list("past");
  CacheState s;
  if (!setUpCache(art, c, s))
    return r;
  std::mt19937 rng(c.get("seed", 11));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  // Pools: valid slots random, unused slots a large finite poison.
  int64_t kBytes = 0, vBytes = 0;
  kvfuse_cache_pool_bytes(s.cache, &kBytes, &vBytes);
  std::vector<unsigned char> kPool(kBytes), vPool(vBytes);
  const float poison = 3000.0f;
  for (int64_t i = 0; i < kBytes / es; ++i)
    store(cdt, poison, &kPool[i * es]);
  for (int64_t i = 0; i < vBytes / es; ++i)
    store(cdt, poison, &vPool[i * es]);
  auto slot = [&](int64_t b, int64_t h, int64_t t, int64_t dim) {
    const int32_t *pages;
    int64_t np;
    kvfuse_cache_sequence_pages(s.cache, s.seqs[b], &pages, &np);
    return ((int64_t(pages[t / PS]) * Hkv + h) * PS + t % PS) * dim;
  };
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hkv; ++h)
      for (int64_t t = 0; t < past[b]; ++t) {
        for (int64_t d = 0; d < D; ++d)
          store(cdt, dist(rng), &kPool[(slot(b, h, t, D) + d) * es]);
        for (int64_t d = 0; d < Dv; ++d)
          store(cdt, dist(rng), &vPool[(slot(b, h, t, Dv) + d) * es]);
      }
  if (!ok(kvfuse_cache_write_pools(s.cache, kPool.data(), vPool.data()), c,
          "write pools"))
    return r;
  Tensor q{"f32"}, k{"f32"}, v{"f32"}, out{"f32"};
  q.random(B * Hq * S * D, rng, float(c.real("q_range", 1.0)));
  k.random(B * Hkv * S * D, rng, 1.0f);
  v.random(B * Hkv * S * Dv, rng, 1.0f);
  out.poison(B * Hq * S * Dv);
  std::vector<kvfuse_binding> bind = {
      {"q", q.bytes.data(), (int64_t)q.bytes.size(), nullptr},
      {"k", k.bytes.data(), (int64_t)k.bytes.size(), nullptr},
      {"v", v.bytes.data(), (int64_t)v.bytes.size(), nullptr},
      {"cache", nullptr, 0, s.cache},
      {"out0", out.bytes.data(), (int64_t)out.bytes.size(), nullptr}};
  if (!ok(kvfuse_run(art, "step", bind.data(), bind.size(), s.seqs.data(), B),
          c, "run")) {
    r.why = "run failed";
    return r;
  }
  // The cache after the step: new rows stored exactly (rounded to the cache
  // type), every other byte unchanged.
  std::vector<unsigned char> kAfter(kBytes), vAfter(vBytes);
  if (!ok(kvfuse_cache_read_pools(s.cache, kAfter.data(), vAfter.data()), c,
          "read pools"))
    return r;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hkv; ++h)
      for (int64_t t = 0; t < S; ++t) {
        for (int64_t d = 0; d < D; ++d)
          store(cdt, float(k.values[((b * Hkv + h) * S + t) * D + d]),
                &kPool[(slot(b, h, past[b] + t, D) + d) * es]);
        for (int64_t d = 0; d < Dv; ++d)
          store(cdt, float(v.values[((b * Hkv + h) * S + t) * Dv + d]),
                &vPool[(slot(b, h, past[b] + t, Dv) + d) * es]);
      }
  if (kAfter != kPool || vAfter != vPool) {
    r.why = "cache after the step differs from the expected append";
    return r;
  }
  std::vector<double> got = out.decode();
  double num = 0, den = 0;
  for (int64_t b = 0; b < B; ++b) {
    int64_t L = past[b] + S;
    std::vector<double> kd(Hkv * L * D), vd(Hkv * L * Dv),
        qd(q.values.begin() + b * Hq * S * D,
           q.values.begin() + (b + 1) * Hq * S * D),
        want(Hq * S * Dv);
    for (int64_t h = 0; h < Hkv; ++h)
      for (int64_t t = 0; t < L; ++t) {
        for (int64_t d = 0; d < D; ++d)
          kd[(h * L + t) * D + d] = load(cdt, &kPool[(slot(b, h, t, D) + d) * es]);
        for (int64_t d = 0; d < Dv; ++d)
          vd[(h * L + t) * Dv + d] =
              load(cdt, &vPool[(slot(b, h, t, Dv) + d) * es]);
      }
    kvfuse::ref::AttentionProblem p;
    p.qHeads = Hq;
    p.kvHeads = Hkv;
    p.qLen = S;
    p.kvLen = L;
    p.headDim = D;
    p.valueDim = Dv;
    p.causal = true;
    p.causalOffset = past[b];
    p.windowLeft = c.get("window_left", -1);
    p.softcap = c.real("softcap", 0.0);
    double scale = c.real("scale", 0.0);
    if (scale > 0)
      p.scale = scale;
    kvfuse::ref::attention(p, qd.data(), kd.data(), vd.data(), want.data());
    for (int64_t i = 0; i < Hq * S * Dv; ++i) {
      double g = got[b * Hq * S * Dv + i];
      if (!std::isfinite(g)) {
        r.why = "output element not written or not finite";
        return r;
      }
      num += (g - want[i]) * (g - want[i]);
      den += want[i] * want[i];
    }
  }
  r.err = std::sqrt(num / (den > 0 ? den : 1));
  r.pass = r.err <= c.real("tolerance", 1e-4);
  if (!r.pass)
    r.why = "relative error above tolerance";

  if (reps > 0)
    seconds = timeSteps(art, c, "step", bind, s.seqs, reps, [&] {
      // Back to the past lengths (outside the timed region).
      kvfuse_cache_reset(s.cache);
      for (int64_t b = 0; b < B; ++b) {
        kvfuse_cache_add_sequence(s.cache, &s.seqs[b]);
        kvfuse_cache_extend_sequence(s.cache, s.seqs[b], past[b]);
      }
    });
  return r;
}

/// Bytes of K/V a case reads and its matmul flops (causal halves the
/// visible keys of a square prefill).
void workOf(const Case &c, double &bytes, double &flops) {
  int64_t B = c.get("batch"), Hq = c.get("q_heads"), Hkv = c.get("kv_heads"),
          D = c.get("head_dim"), Dv = c.get("value_dim", D),
          Sq = c.get("q_len");
  bytes = flops = 0;
  if (c.str("kind", "") == "decode") {
    for (int64_t p : c.list("past")) {
      bytes += double(p + Sq) * Hkv * (D + Dv) * sizeOf(c.str("cache", "f32"));
      flops += 2.0 * Hq * Sq * (p + Sq) * (D + Dv);
    }
    return;
  }
  int64_t Skv = c.get("kv_len");
  double visible = c.get("causal") ? 0.5 * Skv : Skv;
  bytes = double(B) * Hkv * Skv * (D + Dv) * sizeOf(c.str("dtype", "f32"));
  flops = 2.0 * B * Hq * Sq * visible * (D + Dv);
}

} // namespace

int main(int argc, char **argv) {
  int reps = 0;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--time" && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (a == "--help" || a == "-h" || a[0] == '-') {
      fprintf(stderr, "usage: kvfuse-check-cases [--time REPS] CASE.kvf...\n");
      return a[0] == '-' && a != "--help" && a != "-h" ? 2 : 0;
    } else
      dirs.push_back(a);
  }
  int failures = 0;
  for (const std::string &dir : dirs) {
    Case c;
    if (!readCase(dir, c)) {
      fprintf(stderr, "kvfuse-check-cases: %s: no case.txt\n", dir.c_str());
      ++failures;
      continue;
    }
    kvfuse_artifact *art = nullptr;
    if (!ok(kvfuse_artifact_load(dir.c_str(), &art), c, "load")) {
      printf("CASE %s FAIL (artifact not loaded)\n", c.name.c_str());
      ++failures;
      continue;
    }
    double seconds = 0;
    Outcome r = c.str("kind", "") == "decode"
                    ? checkDecode(art, c, reps, seconds)
                    : checkPrefill(art, c, reps, seconds);
    printf("CASE %s target=%s error=%.3g tolerance=%.3g %s%s%s\n",
           c.name.c_str(), kvfuse_artifact_target(art), r.err,
           c.real("tolerance", 1e-4), r.pass ? "PASS" : "FAIL",
           r.pass ? "" : ": ", r.pass ? "" : r.why.c_str());
    if (reps > 0 && seconds > 0) {
      double bytes, flops;
      workOf(c, bytes, flops);
      printf("TIME %s target=%s median_ms=%.4f GB/s=%.1f TFLOP/s=%.2f\n",
             c.name.c_str(), kvfuse_artifact_target(art), seconds * 1e3,
             bytes / seconds * 1e-9, flops / seconds * 1e-12);
    }
    fflush(stdout);
    failures += r.pass ? 0 : 1;
    kvfuse_artifact_free(art);
  }
  return failures ? 1 : 0;
}
