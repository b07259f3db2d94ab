//===- kvfuse-bench.cpp - Attention benchmarks against peers and limits ---===//
//
// Measures, in one run: the machine's fp32 FMA peak and DRAM read bandwidth,
// an unfused OpenBLAS peer (sgemm -> softmax -> sgemm, the query heads of a
// GQA group stacked into one sgemm), and kvfuse's compiled kernels, on the
// workloads P1-P3 (prefill) and D1-D3 (decode, f32 and bf16 caches) of the
// design. Prints one table of medians. Needs no MLIR: kernels are compiled by
// invoking kvfuse-compile and called through the ABI of kvfuse/abi.h.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/abi.h"
#include "kvfuse/reference.h"
#include "kvfuse/storage.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cblas.h>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <functional>
#include <immintrin.h>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Runs `fn` until a quarter second has passed (at least once): the vCPUs of
/// a shared host, and OpenMP workers that have gone to sleep, take a while to
/// come up to speed, which would otherwise show in the first timed runs of a
/// short kernel.
void warmUp(const std::function<void()> &fn, double atLeastSeconds = 0.25) {
  auto t0 = Clock::now();
  do
    fn();
  while (seconds(t0, Clock::now()) < atLeastSeconds);
}

/// The median of `reps` results of `sample` (a probe pass of a limit).
double medianOf(int reps, const std::function<double()> &sample) {
  std::vector<double> values;
  for (int i = 0; i < reps; ++i)
    values.push_back(sample());
  return median(values);
}

/// Runs `fn` `reps` times after warming up and returns the median seconds.
double timeMedian(int reps, const std::function<void()> &fn) {
  warmUp(fn);
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    fn();
    times.push_back(seconds(t0, Clock::now()));
  }
  return median(times);
}

int numThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

//===----------------------------------------------------------------------===//
// Machine limits
//===----------------------------------------------------------------------===//

/// One thread of dependent-chain-free AVX-512 FMAs: 12 accumulators cover the
/// FMA latency times the number of FMA pipes.
__attribute__((target("avx512f"), noinline)) float fmaKernel(int64_t iters) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i)
    a[i] = _mm512_set1_ps(1.0f + i * 1e-3f);
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i)
      a[i] = _mm512_fmadd_ps(a[i], x, y);
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i)
    s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}

/// One pass of the FMA kernel on every thread, in GFLOP/s (about 20 ms).
double fmaPass(int threads) {
  const int64_t iters = 6'000'000;
  std::vector<std::thread> pool;
  std::atomic<float> sink{0};
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] { sink = sink + fmaKernel(iters); });
  for (auto &th : pool)
    th.join();
  double s = seconds(t0, Clock::now());
  return 2.0 * 16 * 12 * iters * threads / s / 1e9;
}

__attribute__((target("avx512f"), noinline)) float readKernel(const float *p,
                                                              int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = 0; i + 64 <= n; i += 64) {
    s0 = _mm512_add_ps(s0, _mm512_load_ps(p + i));
    s1 = _mm512_add_ps(s1, _mm512_load_ps(p + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_load_ps(p + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/// Every thread reads its `share` floats from base + t * share, `repeats`
/// times; the rate over all threads in GB/s.
double parallelRead(const float *base, int64_t share, int threads,
                    int64_t repeats) {
  std::vector<std::thread> pool;
  std::atomic<float> sink{0};
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      float s = 0;
      for (int64_t r = 0; r < repeats; ++r) {
        s += readKernel(base + t * share, share);
        // readKernel only reads memory: without a barrier the compiler
        // may read once and reuse the sum.
        asm volatile("" ::: "memory");
      }
      sink = sink + s;
    });
  for (auto &th : pool)
    th.join();
  return double(repeats) * share * threads * sizeof(float) /
         seconds(t0, Clock::now()) / 1e9;
}

/// DRAM read bandwidth: every thread streams its share of a span far larger
/// than the last-level cache. The host's bandwidth drifts with other load,
/// so decode reps are each paired with a probe pass run right before and
/// after them; successive passes alternate between two halves of the buffer.
class ReadProbe {
public:
  explicit ReadProbe(int threads) : threads(threads) {
    buf = static_cast<float *>(std::aligned_alloc(64, kBytes));
    int64_t n = kBytes / sizeof(float);
    std::vector<std::thread> init;
    for (int t = 0; t < threads; ++t)
      init.emplace_back([&, t] {
        for (int64_t i = t * (n / threads); i < (t + 1) * (n / threads); ++i)
          buf[i] = 1e-6f * static_cast<float>(i & 1023);
      });
    for (auto &th : init)
      th.join();
  }
  ~ReadProbe() { std::free(buf); }
  ReadProbe(const ReadProbe &) = delete;
  ReadProbe &operator=(const ReadProbe &) = delete;

  /// One pass over half the buffer (512 MiB), in GB/s.
  double pass() {
    int64_t n = kBytes / 2 / sizeof(float);
    return parallelRead(buf + (next++ % 2) * n, n / threads, threads, 1);
  }

private:
  static constexpr int64_t kBytes = int64_t(1) << 30;
  int threads;
  float *buf = nullptr;
  int64_t next = 0;
};

/// Read bandwidth of a buffer the size of a cache-resident workload's K/V,
/// each thread reading its share over and over (as the workload's tiles
/// do): the limit of a decode whose cache never leaves the CPU caches.
class ResidentReadProbe {
public:
  ResidentReadProbe(int threads, int64_t bytes)
      : threads(threads),
        share(std::max<int64_t>(64, bytes / 4 / threads / 64 * 64)),
        // readKernel's aligned loads want 64-byte alignment.
        buf(static_cast<float *>(
                std::aligned_alloc(64, share * threads * sizeof(float))),
            &std::free) {
    for (int64_t i = 0; i < share * threads; ++i)
      buf.get()[i] = 1e-6f * static_cast<float>(i & 1023);
  }

  /// Reads the buffer enough times for about 256 MiB in all, in GB/s.
  double pass() {
    int64_t bytes = share * threads * sizeof(float);
    int64_t repeats = std::max<int64_t>(1, (int64_t(256) << 20) / bytes);
    return parallelRead(buf.get(), share, threads, repeats);
  }

private:
  int threads;
  int64_t share;
  std::unique_ptr<float, decltype(&std::free)> buf;
};

/// Times a kernel against a probe of the limit it is held to (FMA peak or
/// DRAM read), interleaved because the shared host's limits drift: probe,
/// run, probe, run, ..., probe. Returns the median seconds, the median of
/// each run's rate relative to the mean of its two neighbouring probes, and
/// the median probe. Each probe waits until the kernel's OpenMP workers have
/// gone to sleep (they spin for KMP_BLOCKTIME, 200 ms by default, after a
/// call) so that it has every core to itself, and is itself measured after
/// a tenth of a second of probing (the vCPUs slow down while idle); each
/// timed run follows an untimed one, which wakes the workers up again.
struct PairedTiming {
  double seconds, fractionOfLimit, limit;
};
PairedTiming timePaired(int reps, double work,
                        const std::function<double()> &probePass,
                        const std::function<void()> &fn) {
  auto quietProbe = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    warmUp([&] { probePass(); }, 0.1);
    return probePass();
  };
  std::vector<double> times, fractions, probes = {quietProbe()};
  for (int i = 0; i < reps; ++i) {
    fn();
    auto t0 = Clock::now();
    fn();
    times.push_back(seconds(t0, Clock::now()));
    probes.push_back(quietProbe());
    double around = 0.5 * (probes[i] + probes[i + 1]);
    fractions.push_back(work / times.back() / 1e9 / around);
  }
  return {median(times), median(fractions), median(probes)};
}

/// Cache bytes above which a decode workload streams from DRAM: twice the
/// 32 MiB L3 of a Zen 4/5 core complex (the OS's figure can be the whole
/// socket's).
constexpr double kDramResidentBytes = 64.0 * (1 << 20);

//===----------------------------------------------------------------------===//
// Workloads
//===----------------------------------------------------------------------===//

struct Workload {
  std::string name;
  bool decode;
  int64_t batch, qHeads, kvHeads, qLen, kvLen, headDim;
  bool causal;
  std::string cacheType; // decode only: f32 or bf16
};

/// Floating-point operations of the visible score/value products.
double attentionFlops(const Workload &w) {
  double pairs = double(w.qLen) * w.kvLen;
  if (w.causal && !w.decode)
    pairs = double(w.qLen) * (w.qLen + 1) / 2 + double(w.qLen) * (w.kvLen - w.qLen);
  return 4.0 * w.batch * w.qHeads * pairs * w.headDim;
}

double cacheBytes(const Workload &w) {
  int64_t elt = w.cacheType == "bf16" ? 2 : 4;
  return 2.0 * w.batch * w.kvHeads * w.kvLen * w.headDim * elt;
}

std::string tensorType(std::initializer_list<int64_t> dims, const char *elt) {
  std::string s = "tensor<";
  for (int64_t d : dims)
    s += std::to_string(d) + "x";
  return s + elt + ">";
}

/// The kv IR of a workload: kv.attention for prefill, kv.cache_attention
/// against a contiguous cache for decode.
std::string workloadIR(const Workload &w) {
  std::string q = tensorType({w.batch, w.qHeads, w.qLen, w.headDim}, "f32");
  std::string ir;
  if (!w.decode) {
    std::string kv = tensorType({w.batch, w.kvHeads, w.kvLen, w.headDim}, "f32");
    ir = "func.func @run(%q: " + q + ", %k: " + kv + ", %v: " + kv + ") -> " +
         q + " {\n  %i = tensor.empty() : " + q +
         "\n  %o = kv.attention %q, %k, %v : " + q + ", " + kv + ", " + kv +
         " outs(%i : " + q + ")" + (w.causal ? " {causal}" : "") + " -> " + q +
         "\n  return %o : " + q + "\n}\n";
    return ir;
  }
  std::string cache = "!kv.cache<" + w.cacheType + ", heads = " +
                      std::to_string(w.kvHeads) + ", head_dim = " +
                      std::to_string(w.headDim) + ", capacity = " +
                      std::to_string(w.kvLen) + ">";
  std::string lens = tensorType({w.batch}, "i32");
  ir = "func.func @run(%q: " + q + ", %c: " + cache + ", %l: " + lens +
       " {kv.role = \"kv_lens\"}) -> " + q + " {\n  %i = tensor.empty() : " +
       q + "\n  %o = kv.cache_attention %q, %c, %l : " + q + ", " + cache +
       ", " + lens + " outs(%i : " + q + ") -> " + q + "\n  return %o : " +
       q + "\n}\n";
  return ir;
}

using EntryFn = void (*)(void **);

/// Compiles `ir` with kvfuse-compile and returns the entry, or null with a
/// message on stderr.
EntryFn compileKvfuse(const std::string &compiler, const std::string &dir,
                      const std::string &name, const std::string &ir) {
  std::string src = dir + "/" + name + ".mlir";
  std::string out = dir + "/" + name + ".kvf";
  std::ofstream(src) << ir;
  std::string cmd = compiler + " " + src + " -o " + out + " 2>" + dir + "/" +
                    name + ".log";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "kvfuse-bench: %s did not compile (see %s/%s.log)\n",
                 name.c_str(), dir.c_str(), name.c_str());
    return nullptr;
  }
  std::ifstream manifest(out + "/manifest.txt");
  std::string line, library;
  while (std::getline(manifest, line))
    if (line.rfind("library ", 0) == 0)
      library = line.substr(8);
  void *handle = dlopen((out + "/" + library).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    std::fprintf(stderr, "kvfuse-bench: %s\n", dlerror());
    return nullptr;
  }
  return reinterpret_cast<EntryFn>(dlsym(handle, "kvfuse_entry_run"));
}

using kvfuse::storage::toBf16;

/// The unfused peer: per (batch, KV head) one sgemm for the scores of all
/// query heads of the group, a softmax, one sgemm for the output.
void peerAttention(const Workload &w, const float *q, const float *k,
                   const float *v, float *out, std::vector<float> &scores) {
  int64_t g = w.qHeads / w.kvHeads, rows = g * w.qLen, d = w.headDim;
  float scale = 1.0f / std::sqrt(float(d));
  scores.resize(rows * w.kvLen);
  int64_t offset = w.decode ? w.kvLen - w.qLen : 0;
  for (int64_t b = 0; b < w.batch; ++b)
    for (int64_t kh = 0; kh < w.kvHeads; ++kh) {
      const float *qg = q + (b * w.qHeads + kh * g) * w.qLen * d;
      const float *kk = k + (b * w.kvHeads + kh) * w.kvLen * d;
      const float *vv = v + (b * w.kvHeads + kh) * w.kvLen * d;
      float *og = out + (b * w.qHeads + kh * g) * w.qLen * d;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, w.kvLen, d,
                  scale, qg, d, kk, d, 0.0f, scores.data(), w.kvLen);
      for (int64_t r = 0; r < rows; ++r) {
        float *s = scores.data() + r * w.kvLen;
        int64_t i = r % w.qLen;
        int64_t visible = w.causal ? std::min(w.kvLen, i + offset + 1) : w.kvLen;
        float m = -INFINITY;
        for (int64_t j = 0; j < visible; ++j)
          m = std::max(m, s[j]);
        float sum = 0;
        for (int64_t j = 0; j < visible; ++j)
          sum += (s[j] = std::exp(s[j] - m));
        float inv = 1.0f / sum;
        for (int64_t j = 0; j < visible; ++j)
          s[j] *= inv;
        for (int64_t j = visible; j < w.kvLen; ++j)
          s[j] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, w.kvLen,
                  1.0f, scores.data(), w.kvLen, vv, d, 0.0f, og, d);
    }
}

} // namespace

int main(int argc, char **argv) {
  std::string compiler, only;
  int reps = 7;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--compiler" && i + 1 < argc)
      compiler = argv[++i];
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--reps" && i + 1 < argc)
      reps = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr,
                   "usage: kvfuse-bench [--compiler 'PATH [OPTIONS]'] "
                   "[--only NAME[,NAME...]] [--reps N]\n");
      return 2;
    }
  }
  if (compiler.empty()) {
    std::string self = argv[0];
    compiler = self.substr(0, self.rfind('/') + 1) + "kvfuse-compile";
  }
  int threads = numThreads();
  std::printf("kvfuse-bench: %d threads, medians of %d runs\n", threads, reps);
  double peak = medianOf(7, [&] { return fmaPass(threads); });
  ReadProbe probe(threads);
  double bandwidth = medianOf(7, [&] { return probe.pass(); });
  std::printf("machine: fp32 FMA peak %.1f GFLOP/s, DRAM read %.1f GB/s\n\n",
              peak, bandwidth);

  std::vector<Workload> workloads = {
      {"P1", false, 1, 8, 8, 2048, 2048, 128, true, ""},
      {"P2", false, 1, 32, 8, 1024, 1024, 128, true, ""},
      {"P3", false, 4, 12, 12, 256, 256, 64, false, ""},
      {"D1", true, 8, 32, 8, 1, 4096, 128, false, "f32"},
      {"D2", true, 1, 32, 8, 1, 32768, 128, false, "f32"},
      {"D3", true, 1, 12, 12, 1, 1024, 64, false, "f32"},
      {"D1-bf16", true, 8, 32, 8, 1, 4096, 128, false, "bf16"},
      {"D2-bf16", true, 1, 32, 8, 1, 32768, 128, false, "bf16"},
      // One sequence, one KV head (MQA), long context: a single tile, so
      // both cores only work with split-KV.
      {"D4-mqa", true, 1, 8, 1, 1, 131072, 128, false, "f32"},
  };
  char dirTemplate[] = "/tmp/kvfuse-bench-XXXXXX";
  std::string dir = mkdtemp(dirTemplate);

  // Prefill is held against FMA passes run between its reps, a decode
  // workload whose cache streams from DRAM against DRAM read passes run
  // between its reps, a cache-resident one (D3) against read passes over a
  // buffer of its cache's size ("limit" shows the median pass).
  std::printf("%-8s %10s %10s %10s %8s %10s %10s %8s %8s %9s\n", "workload",
              "kvfuse ms", "rate", "limit", "% limit", "peer ms", "peer rate",
              "speedup", "rel.err", "compile s");
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const Workload &w : workloads) {
    if (!only.empty() &&
        ("," + only + ",").find("," + w.name + ",") == std::string::npos)
      continue;
    int64_t qn = w.batch * w.qHeads * w.qLen * w.headDim;
    int64_t kvn = w.batch * w.kvHeads * w.kvLen * w.headDim;
    std::vector<float> q(qn), k(kvn), v(kvn), peerOut(qn), out(qn);
    for (auto *vec : {&q, &k, &v})
      for (float &x : *vec)
        x = dist(rng);
    if (w.cacheType == "bf16") // the peer sees the same rounded values
      for (auto *vec : {&k, &v})
        for (float &x : *vec) {
          uint32_t u = uint32_t(toBf16(x)) << 16;
          std::memcpy(&x, &u, 4);
        }
    std::vector<float> scores;
    double peerSec = timeMedian(reps, [&] {
      peerAttention(w, q.data(), k.data(), v.data(), peerOut.data(), scores);
    });

    bool decode = w.decode;
    double work = decode ? cacheBytes(w) : attentionFlops(w);
    double sec = NAN, err = NAN, limit = decode ? bandwidth : peak;
    double fraction = NAN;
    // Compile time: kvfuse-compile end to end (kv IR to a loaded shared
    // object), the design's "one attention layer < 1 s".
    auto compileStart = Clock::now();
    EntryFn entry = compileKvfuse(compiler, dir, w.name, workloadIR(w));
    double compileSec = seconds(compileStart, Clock::now());
    if (entry) {
      std::vector<uint16_t> kb, vb;
      std::vector<int32_t> table(w.batch), lens(w.batch, int32_t(w.kvLen));
      kvfuse_cache_desc desc{};
      if (w.decode) {
        for (int64_t b = 0; b < w.batch; ++b)
          table[b] = int32_t(b);
        if (w.cacheType == "bf16") {
          kb.resize(kvn);
          vb.resize(kvn);
          for (int64_t i = 0; i < kvn; ++i) {
            kb[i] = toBf16(k[i]);
            vb[i] = toBf16(v[i]);
          }
          desc.key_pool = kb.data();
          desc.value_pool = vb.data();
        } else {
          desc.key_pool = k.data();
          desc.value_pool = v.data();
        }
        desc.page_table = table.data();
        desc.num_pages = w.batch;
        desc.pages_per_seq = 1;
      }
      std::fill(out.begin(), out.end(), NAN);
      std::vector<void *> args;
      if (w.decode)
        args = {q.data(), &desc, lens.data(), out.data()};
      else
        args = {q.data(), k.data(), v.data(), out.data()};
      auto run = [&] { entry(args.data()); };
      {
        std::function<double()> probePass = [&] { return fmaPass(threads); };
        std::function<void()> timed = run;
        int64_t calls = 1;
        std::optional<ResidentReadProbe> resident;
        if (decode && work < kDramResidentBytes) {
          resident.emplace(threads, int64_t(work));
          probePass = [&] { return resident->pass(); };
          // A cache-resident call takes tens of microseconds: each timed
          // run is a batch of calls lasting about 10 ms.
          calls = std::max<int64_t>(1, std::llround(0.01 / timeMedian(5, run)));
          timed = [&] {
            for (int64_t c = 0; c < calls; ++c)
              run();
          };
        } else if (decode) {
          probePass = [&] { return probe.pass(); };
        }
        PairedTiming t = timePaired(reps, work * calls, probePass, timed);
        sec = t.seconds / calls;
        fraction = t.fractionOfLimit;
        limit = t.limit;
      }
      std::vector<double> a(out.begin(), out.end()),
          b(peerOut.begin(), peerOut.end());
      err = kvfuse::ref::relativeError(a.data(), b.data(), qn);
    }
    const char *unit = decode ? "GB/s" : "GF/s";
    double rate = work / sec / 1e9, peerRate = work / peerSec / 1e9;
    std::printf(
        "%-8s %10.3f %5.1f%-5s %5.1f%-5s %7.1f%% %10.3f %5.1f%-5s %7.2fx "
        "%8.1e %9.2f\n",
        w.name.c_str(), sec * 1e3, rate, unit, limit, unit, 100.0 * fraction,
        peerSec * 1e3, peerRate, unit, peerSec / sec, err, compileSec);
    std::fflush(stdout);
  }
  return 0;
}
