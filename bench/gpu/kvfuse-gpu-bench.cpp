//===- kvfuse-gpu-bench.cpp - numerics and timing of kvfuse GPU kernels ---===//
//
// Loads generated PTX kernels (with their `.cfg` manifests) through the
// kvfuse CUDA runtime and
//   check DIR NAME...  compares each with the float64 reference on fresh
//                      random inputs (outputs NaN-poisoned, cache slots past
//                      each sequence's length NaN-poisoned too, pages
//                      shuffled), over sequence lengths {capacity, 1, 0,
//                      2/3 capacity + 5} cycled over the batch;
//   time DIR NAME...   times full-cache decode with CUDA events (warm-up,
//                      then the median of repeated runs) and reports the
//                      K/V bytes streamed per second.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/cuda_runtime.h"
#include "kvfuse/reference.h"
#include "kvfuse/storage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

using namespace kvfuse;
using cuda::DevicePtr;

namespace {

uint16_t toHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = int32_t((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff)
    return uint16_t(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp <= 0) {
    if (exp < -10)
      return uint16_t(sign);
    mant |= 0x800000u;
    uint32_t shift = uint32_t(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1)))
      ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = (uint32_t(exp) << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1)))
    ++half;
  if (half >= 0x7c00u)
    half = 0x7c00u;
  return uint16_t(sign | half);
}

float fromHalf(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu;
  float f;
  if (exp == 0) {
    f = std::ldexp(float(mant), -24);
    return sign ? -f : f;
  }
  if (exp == 31)
    return mant ? NAN : (sign ? -INFINITY : INFINITY);
  uint32_t x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  std::memcpy(&f, &x, 4);
  return f;
}

using kvfuse::storage::fromBf16;
using kvfuse::storage::toBf16;

struct Problem {
  std::string name, dtype;
  int64_t B, HQ, HKV, D, C, PS, PPS, NP, S;
  size_t elt() const { return dtype == "f32" ? 4 : 2; }
};

#define TRY(expr)                                                              \
  do {                                                                         \
    std::string err_ = (expr);                                                 \
    if (!err_.empty()) {                                                       \
      std::fprintf(stderr, "error: %s\n", err_.c_str());                       \
      return err_;                                                             \
    }                                                                          \
  } while (0)

std::string readFile(const std::string &path, std::string &out) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return "cannot read " + path;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return {};
}

struct Loaded {
  Problem p;
  cuda::KernelManifest manifest;
  int module = -1;
};

std::string load(cuda::Device &dev, const std::string &dir,
                 const std::string &name, Loaded &l) {
  std::string cfg, ptx;
  TRY(readFile(dir + "/" + name + ".cfg", cfg));
  TRY(readFile(dir + "/" + name + ".ptx", ptx));
  TRY(cuda::parseManifest(cfg, l.manifest));
  const auto &m = l.manifest;
  l.p = {name,
         m.fields.count("dtype") ? m.fields.at("dtype") : "f32",
         m.getInt("batch"),
         m.getInt("q_heads"),
         m.getInt("kv_heads"),
         m.getInt("head_dim"),
         m.getInt("capacity"),
         m.getInt("page_size"),
         m.getInt("pages_per_seq"),
         m.getInt("num_pages"),
         m.getInt("splits")};
  TRY(dev.loadModule(ptx, l.module));
  return {};
}

struct Buffers {
  cuda::Device *dev = nullptr;
  std::map<std::string, DevicePtr> map;
  ~Buffers() {
    for (auto &kv : map)
      dev->free(kv.second);
  }
  std::string add(const std::string &n, size_t bytes) {
    DevicePtr p = 0;
    TRY(dev->alloc(p, bytes));
    map[n] = p;
    return {};
  }
};

struct Host {
  std::vector<float> q;
  std::vector<uint8_t> kPool, vPool; // raw bytes of the cache dtype
  std::vector<int32_t> pages, lens;
  std::vector<double> qd, kd, vd; // logical [B,H,C,D] float64 copies
};

void fillHost(const Problem &p, std::mt19937 &rng, bool fullLens, Host &h) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  h.q.resize(p.B * p.HQ * p.D);
  for (float &x : h.q)
    x = u(rng);
  h.qd.assign(h.q.begin(), h.q.end());
  h.lens.resize(p.B);
  for (int64_t b = 0; b < p.B; ++b) {
    int64_t pat[4] = {p.C, 1, 0, std::min(p.C, p.C * 2 / 3 + 5)};
    h.lens[b] = int32_t(fullLens || p.B == 1 ? p.C : pat[b % 4]);
  }
  std::vector<int32_t> perm(p.NP);
  for (int64_t i = 0; i < p.NP; ++i)
    perm[i] = int32_t(i);
  std::shuffle(perm.begin(), perm.end(), rng);
  h.pages.resize(p.B * p.PPS);
  for (int64_t i = 0; i < p.B * p.PPS; ++i)
    h.pages[i] = perm[i % p.NP];
  size_t n = size_t(p.NP * p.HKV * p.PS * p.D);
  h.kPool.assign(n * p.elt(), 0);
  h.vPool.assign(n * p.elt(), 0);
  h.kd.assign(p.B * p.HKV * p.C * p.D, 0.0);
  h.vd.assign(p.B * p.HKV * p.C * p.D, 0.0);
  auto store = [&](std::vector<uint8_t> &pool, size_t idx, float v) -> double {
    if (p.dtype == "f32") {
      std::memcpy(&pool[idx * 4], &v, 4);
      return v;
    }
    uint16_t bits = p.dtype == "f16" ? toHalf(v) : toBf16(v);
    std::memcpy(&pool[idx * 2], &bits, 2);
    return p.dtype == "f16" ? fromHalf(bits) : fromBf16(bits);
  };
  // Poison every pool element first, then write the valid tokens.
  for (size_t i = 0; i < n; ++i) {
    store(h.kPool, i, NAN);
    store(h.vPool, i, NAN);
  }
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t hh = 0; hh < p.HKV; ++hh)
      for (int64_t t = 0; t < h.lens[b]; ++t) {
        int64_t page = h.pages[b * p.PPS + t / p.PS];
        size_t base = size_t(((page * p.HKV + hh) * p.PS + t % p.PS) * p.D);
        size_t lbase = size_t(((b * p.HKV + hh) * p.C + t) * p.D);
        for (int64_t d = 0; d < p.D; ++d) {
          h.kd[lbase + d] = store(h.kPool, base + d, u(rng));
          h.vd[lbase + d] = store(h.vPool, base + d, u(rng));
        }
      }
}

std::string setup(cuda::Device &dev, const Problem &p, const Host &h,
                  Buffers &buf) {
  buf.dev = &dev;
  TRY(buf.add("q", h.q.size() * 4));
  TRY(buf.add("k_pool", h.kPool.size()));
  TRY(buf.add("v_pool", h.vPool.size()));
  TRY(buf.add("page_table", h.pages.size() * 4));
  TRY(buf.add("kv_lens", h.lens.size() * 4));
  TRY(buf.add("o_part", size_t(p.B * p.HQ * p.S * p.D) * 4));
  TRY(buf.add("lse_part", size_t(p.B * p.HQ * p.S) * 4));
  TRY(buf.add("out", size_t(p.B * p.HQ * p.D) * 4));
  TRY(dev.upload(buf.map["q"], h.q.data(), h.q.size() * 4));
  TRY(dev.upload(buf.map["k_pool"], h.kPool.data(), h.kPool.size()));
  TRY(dev.upload(buf.map["v_pool"], h.vPool.data(), h.vPool.size()));
  TRY(dev.upload(buf.map["page_table"], h.pages.data(), h.pages.size() * 4));
  TRY(dev.upload(buf.map["kv_lens"], h.lens.data(), h.lens.size() * 4));
  const uint32_t nan = 0x7fc00000u;
  TRY(dev.fill32(buf.map["o_part"], nan, size_t(p.B * p.HQ * p.S * p.D)));
  TRY(dev.fill32(buf.map["lse_part"], nan, size_t(p.B * p.HQ * p.S)));
  TRY(dev.fill32(buf.map["out"], nan, size_t(p.B * p.HQ * p.D)));
  return {};
}

std::string runAll(cuda::Device &dev, const Loaded &l, const Buffers &buf) {
  for (const cuda::Launch &launch : l.manifest.launches)
    TRY(dev.launch(l.module, launch, buf.map));
  return {};
}

/// kv.append: random pools, random new K/V, past lengths {0, capacity -
/// step (ends exactly full), 7, capacity - 2 (partly past capacity: the
/// overflow must be dropped)}; the downloaded pools must equal the host's
/// expectation bit for bit everywhere.
std::string checkAppend(cuda::Device &dev, const Loaded &l, std::mt19937 &rng,
                        bool &ok) {
  const Problem &p = l.p;
  int64_t st = l.manifest.getInt("step_tokens", 1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  size_t n = size_t(p.NP * p.HKV * p.PS * p.D), e = p.elt();
  std::vector<uint8_t> kPool(n * e), vPool(n * e);
  auto put = [&](std::vector<uint8_t> &pool, size_t i, float v) {
    if (e == 4) {
      std::memcpy(&pool[i * 4], &v, 4);
      return;
    }
    uint16_t bits = p.dtype == "f16" ? toHalf(v) : toBf16(v);
    std::memcpy(&pool[i * 2], &bits, 2);
  };
  for (size_t i = 0; i < n; ++i) {
    put(kPool, i, u(rng));
    put(vPool, i, u(rng));
  }
  std::vector<int32_t> perm(p.NP), pages(p.B * p.PPS), past(p.B);
  for (int64_t i = 0; i < p.NP; ++i)
    perm[i] = int32_t(i);
  std::shuffle(perm.begin(), perm.end(), rng);
  for (int64_t i = 0; i < p.B * p.PPS; ++i)
    pages[i] = perm[i % p.NP];
  for (int64_t b = 0; b < p.B; ++b) {
    int64_t pat[4] = {0, std::max<int64_t>(0, p.C - st), std::min<int64_t>(7, p.C),
                      std::max<int64_t>(0, p.C - 2)};
    past[b] = int32_t(pat[b % 4]);
  }
  std::vector<float> kNew(p.B * p.HKV * st * p.D), vNew(kNew.size());
  for (float &x : kNew)
    x = u(rng);
  for (float &x : vNew)
    x = u(rng);
  std::vector<uint8_t> kWant = kPool, vWant = vPool;
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t h = 0; h < p.HKV; ++h)
      for (int64_t t = 0; t < st; ++t) {
        int64_t pos = past[b] + t;
        if (pos >= p.C)
          continue;
        int64_t page = pages[b * p.PPS + pos / p.PS];
        size_t dst = size_t(((page * p.HKV + h) * p.PS + pos % p.PS) * p.D);
        size_t src = size_t(((b * p.HKV + h) * st + t) * p.D);
        for (int64_t d = 0; d < p.D; ++d) {
          put(kWant, dst + d, kNew[src + d]);
          put(vWant, dst + d, vNew[src + d]);
        }
      }
  Buffers buf;
  buf.dev = &dev;
  TRY(buf.add("k_new", kNew.size() * 4));
  TRY(buf.add("v_new", vNew.size() * 4));
  TRY(buf.add("k_pool", kPool.size()));
  TRY(buf.add("v_pool", vPool.size()));
  TRY(buf.add("page_table", pages.size() * 4));
  TRY(buf.add("past_lens", past.size() * 4));
  TRY(dev.upload(buf.map["k_new"], kNew.data(), kNew.size() * 4));
  TRY(dev.upload(buf.map["v_new"], vNew.data(), vNew.size() * 4));
  TRY(dev.upload(buf.map["k_pool"], kPool.data(), kPool.size()));
  TRY(dev.upload(buf.map["v_pool"], vPool.data(), vPool.size()));
  TRY(dev.upload(buf.map["page_table"], pages.data(), pages.size() * 4));
  TRY(dev.upload(buf.map["past_lens"], past.data(), past.size() * 4));
  TRY(runAll(dev, l, buf));
  TRY(dev.synchronize());
  TRY(dev.download(kPool.data(), buf.map["k_pool"], kPool.size()));
  TRY(dev.download(vPool.data(), buf.map["v_pool"], vPool.size()));
  size_t bad = 0;
  for (size_t i = 0; i < kPool.size(); ++i)
    bad += (kPool[i] != kWant[i]) + (vPool[i] != vWant[i]);
  ok = bad == 0;
  std::printf("CHECK %-22s %-4s append B=%lld Hkv=%lld D=%lld cap=%lld "
              "page=%lld step=%lld past=%d,%d,%d,%d mismatched_bytes=%zu %s\n",
              p.name.c_str(), p.dtype.c_str(), (long long)p.B,
              (long long)p.HKV, (long long)p.D, (long long)p.C,
              (long long)p.PS, (long long)st, past[0],
              p.B > 1 ? past[1] : -1, p.B > 2 ? past[2] : -1,
              p.B > 3 ? past[3] : -1, bad, ok ? "PASS" : "FAIL");
  return {};
}

std::string check(cuda::Device &dev, const std::string &dir,
                  const std::string &name, std::mt19937 &rng, bool &ok) {
  Loaded l;
  TRY(load(dev, dir, name, l));
  if (l.manifest.fields.count("kind") && l.manifest.fields.at("kind") == "append")
    return checkAppend(dev, l, rng, ok);
  const Problem &p = l.p;
  Host h;
  fillHost(p, rng, false, h);
  Buffers buf;
  TRY(setup(dev, p, h, buf));
  TRY(runAll(dev, l, buf));
  TRY(dev.synchronize());
  std::vector<float> out(p.B * p.HQ * p.D);
  TRY(dev.download(out.data(), buf.map["out"], out.size() * 4));
  ref::AttentionProblem rp;
  rp.batch = p.B;
  rp.qHeads = p.HQ;
  rp.kvHeads = p.HKV;
  rp.qLen = 1;
  rp.kvLen = p.C;
  rp.headDim = rp.valueDim = p.D;
  rp.kvLens = h.lens.data();
  std::vector<double> want(out.size()), got(out.begin(), out.end());
  ref::attention(rp, h.qd.data(), h.kd.data(), h.vd.data(), want.data());
  size_t unwritten = 0, maskedBad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i]))
      ++unwritten;
    int64_t b = int64_t(i) / (p.HQ * p.D);
    if (h.lens[b] == 0 && out[i] != 0.0f)
      ++maskedBad;
  }
  double err = ref::relativeError(got.data(), want.data(), int64_t(got.size()));
  ok = unwritten == 0 && maskedBad == 0 && err < 1e-4;
  std::string lens;
  for (int64_t b = 0; b < std::min<int64_t>(p.B, 4); ++b)
    lens += (b ? "," : "") + std::to_string(h.lens[b]);
  std::printf("CHECK %-22s %-4s B=%lld Hq=%lld Hkv=%lld D=%lld cap=%lld "
              "page=%lld splits=%lld lens=%s rel_err=%.2e nonfinite=%zu "
              "masked_nonzero=%zu %s\n",
              name.c_str(), p.dtype.c_str(), (long long)p.B, (long long)p.HQ,
              (long long)p.HKV, (long long)p.D, (long long)p.C,
              (long long)p.PS, (long long)p.S, lens.c_str(), err, unwritten,
              maskedBad, ok ? "PASS" : "FAIL");
  return {};
}

struct TimeCtx {
  cuda::Device *dev;
  const Loaded *l;
  const Buffers *buf;
};

std::string timeBody(void *c) {
  auto *t = static_cast<TimeCtx *>(c);
  return runAll(*t->dev, *t->l, *t->buf);
}

std::string timeOne(cuda::Device &dev, const std::string &dir,
                    const std::string &name, std::mt19937 &rng) {
  Loaded l;
  TRY(load(dev, dir, name, l));
  const Problem &p = l.p;
  Host h;
  fillHost(p, rng, true, h);
  Buffers buf;
  TRY(setup(dev, p, h, buf));
  TimeCtx ctx{&dev, &l, &buf};
  std::vector<float> warm, ms;
  TRY(dev.timeEvents(20, timeBody, &ctx, warm));
  TRY(dev.timeEvents(200, timeBody, &ctx, ms));
  std::sort(ms.begin(), ms.end());
  double med = ms[ms.size() / 2] * 1e-3;
  double kvBytes = double(p.B * p.HKV * p.C * p.D) * 2 * double(p.elt());
  double ioBytes = double(p.B * p.HQ * p.D) * 4 * 2;
  double gbs = (kvBytes + ioBytes) / med / 1e9;
  std::printf("TIME %-10s %-4s B=%lld Hq=%lld Hkv=%lld D=%lld ctx=%lld "
              "splits=%lld median_us=%.2f min_us=%.2f bytes=%.0f GB/s=%.1f\n",
              name.c_str(), p.dtype.c_str(), (long long)p.B, (long long)p.HQ,
              (long long)p.HKV, (long long)p.D, (long long)p.C,
              (long long)p.S, med * 1e6, ms[0] * 1e3, kvBytes + ioBytes, gbs);
  return {};
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 4 || (std::strcmp(argv[1], "check") && std::strcmp(argv[1], "time"))) {
    std::fprintf(stderr, "usage: %s check|time DIR NAME...\n", argv[0]);
    return 2;
  }
  cuda::Device dev;
  if (std::string e = dev.open(0); !e.empty()) {
    std::fprintf(stderr, "error: %s\n", e.c_str());
    return 1;
  }
  std::string devName;
  int driver = 0, sms = 0;
  if (std::string e = dev.describe(devName, driver, sms); !e.empty()) {
    std::fprintf(stderr, "error: %s\n", e.c_str());
    return 1;
  }
  std::printf("device: %s, driver API %d, %d SMs\n", devName.c_str(), driver,
              sms);
  std::mt19937 rng(std::random_device{}());
  bool check = !std::strcmp(argv[1], "check");
  int failures = 0;
  for (int i = 3; i < argc; ++i) {
    bool ok = true;
    std::string e = check ? ::check(dev, argv[2], argv[i], rng, ok)
                          : timeOne(dev, argv[2], argv[i], rng);
    if (!e.empty()) {
      std::printf("ERROR %s: %s\n", argv[i], e.c_str());
      ++failures;
    } else if (!ok) {
      ++failures;
    }
  }
  return failures ? 1 : 0;
}
