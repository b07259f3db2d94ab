//===- kvfuse-run.cpp - Compile, run and verify the example models --------===//
//
// Compiles examples/<model>.mlir with kvfuse-compile (found next to this
// executable), loads the artifact through the runtime, runs a random prompt's
// prefill and then N decode steps with fresh random Q/K/V each step, for a
// batch of 1 and of 4 sequences. Every output is checked against the float64
// reference over all K/V appended so far; prints the median prefill time
// per sequence (after an untimed warm-up prefill), median decode latency,
// tokens/s and the largest relative error.
//
// The reference uses each example's own attention attributes (causal window,
// soft-cap, scale, cache element type) from the table `kModels`, which is
// checked against the example's text and the artifact's manifest before
// anything runs. `--window W` rewrites a windowed example's sliding window to
// HF `sliding_window = W` (window_left = W-1) so that it bites within the
// cache's capacity.
//
// `--target nvvm:<chip>` compiles for an NVIDIA GPU and runs with the caches
// in device memory. A machine without MLIR runs artifacts compiled elsewhere:
// `--compile-only` writes them into `--work-dir`, `--prebuilt` runs the ones
// found there (the example sources are still read for the reference).
//
//===----------------------------------------------------------------------===//

#include "kvfuse/reference.h"
#include "kvfuse/runtime.h"
#include "kvfuse/storage.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

struct Options {
  std::vector<std::string> examples;
  int64_t steps = 16;
  std::string layout = "contiguous";
  std::string compiler, workDir, examplesDir;
  double tolerance = 1e-4;
  int64_t window = 0; // HF sliding_window override; 0 = the model's own
  std::string cacheType; // cache element type override; "" = the model's own
  // A stand-in compiler's artifact: other shapes than the example's are
  // accepted (its attributes still apply to the reference).
  bool standIn = false;
  std::string target;          // kvfuse-compile --target; "" = host CPU
  bool compileOnly = false;    // compile into workDir, run nothing
  bool prebuilt = false;       // run the artifacts already in workDir
};

// The attention attributes of one example, which the reference must use.
// `attrs` / `decodeAttrs` are the attribute dictionaries the cache_attention
// of `prefill` / of `decode` and `decode_b4` must carry verbatim ("" for
// none; checked against the file, so this table cannot drift from the
// examples silently); the shapes are checked against the manifest.
struct Model {
  const char *name;
  int64_t qHeads, kvHeads, headDim;
  kvfuse_dtype cacheType;
  const char *attrs, *decodeAttrs;
  int64_t windowLeft; // -1: none
  double softcap;     // 0: none
  double scale;       // NaN: 1/sqrt(headDim)
  float qRange;       // queries drawn from [-qRange, qRange]
};

constexpr double kDefaultScale = std::numeric_limits<double>::quiet_NaN();
constexpr const char *kMistralAttrs = "{causal, window_left = 4095 : i64}";
constexpr const char *kGemma2Attrs =
    "{causal, scale = 6.250000e-02 : f32, softcap = 5.000000e+01 : f32, "
    "window_left = 4095 : i64}";

// The attribute dictionary ("" if none) of the one kv.cache_attention of
// entry `name` in `src`, or "?" when the entry or op is missing.
std::string entryAttrs(const std::string &src, const std::string &name) {
  size_t f = src.find("func.func @" + name + "(");
  if (f == std::string::npos)
    return "?";
  size_t end = src.find("func.func @", f + 1);
  size_t op = src.find("kv.cache_attention", f);
  if (op == std::string::npos || op > end ||
      src.find("kv.cache_attention", op + 1) < end)
    return "?";
  size_t outs = src.find("outs(", op);
  size_t close = outs == std::string::npos ? outs : src.find(')', outs);
  size_t arrow = close == std::string::npos ? close : src.find("->", close);
  if (arrow == std::string::npos || arrow > end)
    return "?";
  std::string a = src.substr(close + 1, arrow - close - 1);
  size_t b = a.find_first_not_of(" \n"), e = a.find_last_not_of(" \n");
  return b == std::string::npos ? "" : a.substr(b, e - b + 1);
}

bool parseDtype(const std::string &s, kvfuse_dtype &t) {
  if (s == "f32")
    t = KVFUSE_F32;
  else if (s == "f16")
    t = KVFUSE_F16;
  else if (s == "bf16")
    t = KVFUSE_BF16;
  else
    return false;
  return true;
}

// Gemma-2's queries are drawn wider so that the soft-cap visibly changes the
// scores (|s| up to ~10 against the cap of 50).
const Model kModels[] = {
    // GPT-2 and Llama-3 decode without `causal`: one query row at the end of
    // the cache sees every cached key either way.
    {"gpt2", 12, 12, 64, KVFUSE_F32, "{causal}", "", -1, 0.0, kDefaultScale,
     1},
    {"llama3", 32, 8, 128, KVFUSE_F32, "{causal}", "", -1, 0.0, kDefaultScale,
     1},
    {"mistral", 32, 8, 128, KVFUSE_F32, kMistralAttrs, kMistralAttrs, 4095,
     0.0, kDefaultScale, 1},
    {"gemma2", 8, 4, 256, KVFUSE_F32, kGemma2Attrs, kGemma2Attrs, 4095, 50.0,
     0.0625, 8},
};

const Model *findModel(const std::string &name) {
  for (const Model &m : kModels)
    if (name == m.name)
      return &m;
  return nullptr;
}

// The value a cache of element type `t` stores for `x` (round to nearest
// even, as the compiled append's truncation does).
double storedValue(float x, kvfuse_dtype t) {
  if (t == KVFUSE_F16)
    return double(_Float16(x));
  if (t == KVFUSE_BF16)
    return kvfuse::storage::fromBf16(kvfuse::storage::toBf16(x));
  return x;
}

double nowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string selfDir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0)
    return ".";
  buf[n] = 0;
  std::string s = buf;
  size_t slash = s.rfind('/');
  return slash == std::string::npos ? "." : s.substr(0, slash);
}

bool readFile(const std::string &path, std::string &out) {
  std::ifstream in(path);
  if (!in)
    return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

std::string shellQuote(const std::string &s) {
  std::string r = "'";
  for (char c : s)
    r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

// Rewrites every contiguous cache type of the example to a paged one.
std::string makePaged(std::string text) {
  const std::string from = "capacity = 1024>";
  const std::string to = "capacity = 1024, layout = #kv.paged<page_size = 16>>";
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

// The shape facts of one entry, read back from the manifest.
struct Entry {
  std::string name;
  int64_t batch = 0, stepTokens = 0, qHeads = 0, numArgs = 0;
  kvfuse_cache_spec spec{};
};

bool describe(kvfuse_artifact *art, const char *name, Entry &e) {
  e.name = name;
  if (kvfuse_artifact_entry(art, name, &e.numArgs, &e.stepTokens))
    return false;
  int64_t qElems = 0;
  for (int64_t i = 0; i < e.numArgs; ++i) {
    const char *argName, *kind, *role;
    int64_t elems;
    kvfuse_cache_spec spec;
    if (kvfuse_artifact_arg(art, name, i, &argName, &kind, &role, nullptr,
                            &elems, &spec))
      return false;
    if (!strcmp(kind, "cache"))
      e.spec = spec;
    else if (!strcmp(role, "past_lens"))
      e.batch = elems;
    else if (!strcmp(argName, "q"))
      qElems = elems;
  }
  if (!e.batch || !e.stepTokens || !e.spec.heads || !qElems)
    return false;
  e.qHeads = qElems / (e.batch * e.stepTokens * e.spec.head_dim);
  return true;
}

struct SeqHistory {
  // [Hkv][tokens][D] as appended so far, in float64.
  std::vector<std::vector<double>> k, v;
};

struct Result {
  double maxErr = 0;
  bool ok = true;
};

// Runs one step of `e` for `seqs` with fresh random inputs and checks it.
bool step(kvfuse_artifact *art, const Entry &e, const Model &model,
          int64_t windowLeft, kvfuse_cache *cache,
          const std::vector<int64_t> &seqs, std::vector<SeqHistory> &hist,
          std::mt19937 &rng, const Options &opt, Result &res,
          double &seconds) {
  int64_t B = e.batch, S = e.stepTokens, Hq = e.qHeads, Hkv = e.spec.heads,
          D = e.spec.head_dim, Dv = e.spec.value_dim;
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> q(B * Hq * S * D), k(B * Hkv * S * D),
      v(B * Hkv * S * Dv), out(B * Hq * S * Dv, NAN);
  for (float &x : q)
    x = model.qRange * dist(rng);
  for (float &x : k)
    x = dist(rng);
  for (float &x : v)
    x = dist(rng);
  kvfuse_binding bind[] = {
      {"q", q.data(), int64_t(q.size() * 4), nullptr},
      {"k", k.data(), int64_t(k.size() * 4), nullptr},
      {"v", v.data(), int64_t(v.size() * 4), nullptr},
      {"cache", nullptr, 0, cache},
      {"out0", out.data(), int64_t(out.size() * 4), nullptr}};
  double t0 = nowSeconds();
  kvfuse_status st = kvfuse_run(art, e.name.c_str(), bind, 5, seqs.data(), B);
  seconds = nowSeconds() - t0;
  if (st) {
    fprintf(stderr, "kvfuse-run: %s: %s\n", e.name.c_str(),
            kvfuse_last_error());
    return false;
  }
  for (int64_t b = 0; b < B; ++b) {
    SeqHistory &h = hist[b];
    for (int64_t hh = 0; hh < Hkv; ++hh)
      for (int64_t t = 0; t < S; ++t) {
        for (int64_t d = 0; d < D; ++d)
          h.k[hh].push_back(
              storedValue(k[((b * Hkv + hh) * S + t) * D + d], e.spec.dtype));
        for (int64_t d = 0; d < Dv; ++d)
          h.v[hh].push_back(
              storedValue(v[((b * Hkv + hh) * S + t) * Dv + d], e.spec.dtype));
      }
    int64_t L = int64_t(h.k[0].size()) / D;
    std::vector<double> qd(Hq * S * D), kd(Hkv * L * D), vd(Hkv * L * Dv),
        od(Hq * S * Dv), got(Hq * S * Dv);
    for (int64_t i = 0; i < Hq * S * D; ++i)
      qd[i] = q[b * Hq * S * D + i];
    for (int64_t hh = 0; hh < Hkv; ++hh) {
      std::copy(h.k[hh].begin(), h.k[hh].end(), kd.begin() + hh * L * D);
      std::copy(h.v[hh].begin(), h.v[hh].end(), vd.begin() + hh * L * Dv);
    }
    kvfuse::ref::AttentionProblem p;
    p.qHeads = Hq;
    p.kvHeads = Hkv;
    p.qLen = S;
    p.kvLen = L;
    p.headDim = D;
    p.valueDim = Dv;
    // Every example is causal (a decode row's causal bound is the whole
    // cache); the window, soft-cap and scale are the example's own.
    p.causal = true;
    p.causalOffset = L - S;
    p.windowLeft = windowLeft;
    p.softcap = model.softcap;
    p.scale = model.scale;
    // One reference problem per KV head (its query group), spread over the
    // cores; identical to the whole problem at once.
    int64_t group = Hq / Hkv;
    p.qHeads = group;
    p.kvHeads = 1;
    int64_t threads = std::min<int64_t>(
        Hkv, std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (int64_t t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (int64_t kh = t; kh < Hkv; kh += threads)
          kvfuse::ref::attention(p, qd.data() + kh * group * S * D,
                                 kd.data() + kh * L * D,
                                 vd.data() + kh * L * Dv,
                                 od.data() + kh * group * S * Dv);
      });
    for (std::thread &th : pool)
      th.join();
    for (int64_t i = 0; i < Hq * S * Dv; ++i) {
      got[i] = out[b * Hq * S * Dv + i];
      if (!std::isfinite(got[i])) {
        fprintf(stderr,
                "kvfuse-run: %s: output element %lld of batch entry %lld "
                "not written or not finite\n",
                e.name.c_str(), (long long)i, (long long)b);
        res.ok = false;
        return true;
      }
    }
    double err = kvfuse::ref::relativeError(got.data(), od.data(),
                                            Hq * S * Dv);
    res.maxErr = std::max(res.maxErr, err);
    if (!(err <= opt.tolerance)) {
      fprintf(stderr, "kvfuse-run: %s: relative error %.3g above %.3g\n",
              e.name.c_str(), err, opt.tolerance);
      res.ok = false;
    }
  }
  return true;
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Prefills every sequence of a batch, then decodes `steps` tokens.
bool runBatch(kvfuse_artifact *art, const Entry &prefill, const Entry &decode,
              const Model &info, int64_t windowLeft, const Options &opt,
              const std::string &model, Result &res) {
  kvfuse_cache *cache = nullptr;
  bool onDevice = std::string(kvfuse_artifact_target(art)) != "cpu";
  if ((onDevice ? kvfuse_cache_create_on_device
                : kvfuse_cache_create)(&decode.spec, decode.batch, 0,
                                       &cache)) {
    fprintf(stderr, "kvfuse-run: %s\n", kvfuse_last_error());
    return false;
  }
  std::mt19937 rng(1234 + decode.batch);
  std::vector<int64_t> seqs(decode.batch);
  std::vector<SeqHistory> hist(decode.batch);
  // Adds a sequence and prefills it (verified), in `seconds`.
  auto prefillNewSequence = [&](int64_t &seq, SeqHistory &history,
                                std::mt19937 &gen, double &seconds) {
    if (kvfuse_cache_add_sequence(cache, &seq)) {
      fprintf(stderr, "kvfuse-run: %s\n", kvfuse_last_error());
      return false;
    }
    history.k.resize(decode.spec.heads);
    history.v.resize(decode.spec.heads);
    std::vector<SeqHistory> h1 = {history};
    bool stepped = step(art, prefill, info, windowLeft, cache, {seq}, h1, gen,
                        opt, res, seconds);
    history = h1[0];
    return stepped;
  };
  // One untimed prefill of a sequence removed afterwards, so the timed ones
  // do not pay for first-touch page faults and thread start.
  int64_t warmSeq = -1;
  SeqHistory warmHistory;
  std::mt19937 warmRng(99);
  double warmSeconds;
  bool ok = prefillNewSequence(warmSeq, warmHistory, warmRng, warmSeconds);
  if (ok && kvfuse_cache_remove_sequence(cache, warmSeq) != KVFUSE_OK) {
    fprintf(stderr, "kvfuse-run: %s\n", kvfuse_last_error());
    ok = false;
  }
  std::vector<double> prefillTimes;
  for (int64_t b = 0; b < decode.batch && ok; ++b) {
    double t;
    ok = prefillNewSequence(seqs[b], hist[b], rng, t);
    prefillTimes.push_back(t);
  }
  std::vector<double> times;
  for (int64_t s = 0; s < opt.steps && ok; ++s) {
    double t;
    ok = step(art, decode, info, windowLeft, cache, seqs, hist, rng, opt, res, t);
    times.push_back(t);
  }
  kvfuse_cache_free(cache);
  if (!ok)
    return false;
  double med = median(times), prefillTime = median(prefillTimes);
  printf("%-7s %-10s B=%lld prompt=%lld prefill %.3f ms (%.0f tok/s) | "
         "decode %lld steps: median %.3f ms/step, %.0f tok/s [%s]\n",
         model.c_str(), opt.layout.c_str(), (long long)decode.batch,
         (long long)prefill.stepTokens, prefillTime * 1e3,
         prefill.stepTokens / prefillTime, (long long)opt.steps, med * 1e3,
         med > 0 ? decode.batch / med : 0.0, kvfuse_artifact_target(art));
  return true;
}

// One example on its way through kvfuse-run: its table entry, the window the
// reference uses, and the compiler process building its artifact.
struct Job {
  std::string model, artifact, cmd;
  const Model *info = nullptr;
  int64_t windowLeft = -1;
  kvfuse_dtype cacheType = KVFUSE_F32;
  pid_t pid = -1;
};

// Reads the example, checks its attributes against the table, applies
// --layout and --window, and starts kvfuse-compile on it in the background
// (all examples compile at once, before any of them runs).
bool startCompile(Job &job, const Options &opt) {
  job.info = findModel(job.model);
  std::string src;
  std::string path = opt.examplesDir + "/" + job.model + ".mlir";
  if (!readFile(path, src)) {
    fprintf(stderr, "kvfuse-run: cannot read %s\n", path.c_str());
    return false;
  }
  // Three entries, each with one cache_attention carrying exactly the
  // attributes the reference will use.
  for (const char *entry : {"prefill", "decode", "decode_b4"}) {
    std::string want = !strcmp(entry, "prefill") ? job.info->attrs
                                                 : job.info->decodeAttrs;
    std::string got = entryAttrs(src, entry);
    if (got != want) {
      fprintf(stderr,
              "kvfuse-run: %s: entry %s: expected one kv.cache_attention "
              "with attributes '%s', found '%s': the table in kvfuse-run.cpp "
              "and the example disagree\n",
              job.model.c_str(), entry, want.c_str(), got.c_str());
      return false;
    }
  }
  job.cacheType = job.info->cacheType;
  if (!opt.cacheType.empty()) {
    static const char *names[] = {"f32", "f16", "bf16"};
    std::string from = std::string("!kv.cache<") +
                       names[job.info->cacheType] + ",";
    std::string to = "!kv.cache<" + opt.cacheType + ",";
    for (size_t pos = src.find(from); pos != std::string::npos;
         pos = src.find(from, pos + to.size()))
      src.replace(pos, from.size(), to);
    parseDtype(opt.cacheType, job.cacheType);
  }
  job.windowLeft = job.info->windowLeft;
  if (opt.window > 0 && job.info->windowLeft >= 0) {
    std::string from =
        "window_left = " + std::to_string(job.info->windowLeft) + " : i64";
    std::string to = "window_left = " + std::to_string(opt.window - 1) +
                     " : i64";
    for (size_t pos = src.find(from); pos != std::string::npos;
         pos = src.find(from, pos + to.size()))
      src.replace(pos, from.size(), to);
    job.windowLeft = opt.window - 1;
  }
  if (opt.layout == "paged")
    src = makePaged(src);
  std::string input = opt.workDir + "/" + job.model + "-" + opt.layout + ".mlir";
  job.artifact = opt.workDir + "/" + job.model + "-" + opt.layout + ".kvf";
  std::ofstream(input) << src;
  if (opt.prebuilt)
    return true;
  job.cmd = shellQuote(opt.compiler) + " " + shellQuote(input) + " -o " +
            shellQuote(job.artifact);
  if (!opt.target.empty())
    job.cmd += " " + shellQuote("--target=" + opt.target);
  const char *argv[] = {"sh", "-c", job.cmd.c_str(), nullptr};
  if (posix_spawn(&job.pid, "/bin/sh", nullptr, nullptr,
                  const_cast<char *const *>(argv), environ) != 0) {
    fprintf(stderr, "kvfuse-run: cannot start %s\n", job.cmd.c_str());
    job.pid = -1;
    return false;
  }
  return true;
}

bool finishCompile(Job &job, const Options &opt) {
  if (opt.prebuilt)
    return true;
  if (job.pid < 0)
    return false;
  int status = 0;
  while (waitpid(job.pid, &status, 0) < 0 && errno == EINTR) {
  }
  job.pid = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "kvfuse-run: compiling %s failed: %s\n",
            job.model.c_str(), job.cmd.c_str());
    return false;
  }
  return true;
}

// The manifest's shapes must be the table's.
bool checkShapes(const Job &job, const Entry &e, const Options &opt) {
  const Model &m = *job.info;
  if (opt.standIn)
    return true;
  if (e.qHeads == m.qHeads && e.spec.heads == m.kvHeads &&
      e.spec.head_dim == m.headDim && e.spec.value_dim == m.headDim &&
      e.spec.dtype == job.cacheType)
    return true;
  fprintf(stderr,
          "kvfuse-run: %s: entry %s has %lld query heads, %lld KV heads, head "
          "dim %lld, cache type %d; the table expects %lld, %lld, %lld, %d\n",
          job.model.c_str(), e.name.c_str(), (long long)e.qHeads,
          (long long)e.spec.heads, (long long)e.spec.head_dim,
          int(e.spec.dtype), (long long)m.qHeads, (long long)m.kvHeads,
          (long long)m.headDim, int(job.cacheType));
  return false;
}

int runExample(Job &job, const Options &opt) {
  const std::string &model = job.model;
  kvfuse_artifact *art = nullptr;
  if (kvfuse_artifact_load(job.artifact.c_str(), &art)) {
    fprintf(stderr, "kvfuse-run: %s\n", kvfuse_last_error());
    return 1;
  }
  Entry prefill, decode, decode4;
  bool described = describe(art, "prefill", prefill) &&
                   describe(art, "decode", decode) &&
                   describe(art, "decode_b4", decode4);
  if (!described) {
    fprintf(stderr, "kvfuse-run: %s: entries prefill/decode/decode_b4 not "
                    "as expected: %s\n",
            model.c_str(), kvfuse_last_error());
    kvfuse_artifact_free(art);
    return 1;
  }
  if (!checkShapes(job, prefill, opt) || !checkShapes(job, decode, opt) ||
      !checkShapes(job, decode4, opt)) {
    kvfuse_artifact_free(art);
    return 1;
  }
  Result res;
  bool ok = runBatch(art, prefill, decode, *job.info, job.windowLeft, opt,
                     model, res) &&
            runBatch(art, prefill, decode4, *job.info, job.windowLeft, opt,
                     model, res);
  kvfuse_artifact_free(art);
  printf("%-7s %-10s max relative error %.3g (tolerance %.3g): %s\n",
         model.c_str(), opt.layout.c_str(), res.maxErr, opt.tolerance,
         ok && res.ok ? "PASS" : "FAIL");
  fflush(stdout);
  return ok && res.ok ? 0 : 1;
}

void usage() {
  fprintf(stderr,
          "usage: kvfuse-run [--example gpt2|llama3|mistral|gemma2|all] "
          "[--steps N] [--layout contiguous|paged]\n"
          "                  [--window W] [--cache-type f32|f16|bf16] "
          "[--compiler PATH] [--work-dir DIR]\n"
          "                  [--examples-dir DIR] [--tolerance X] "
          "[--stand-in]\n"
          "                  [--target host|nvvm:sm_80|nvvm:sm_90|...] "
          "[--compile-only | --prebuilt]\n"
          "--window W: HF sliding_window W (window_left = W-1) for the "
          "examples that have a window (mistral, gemma2)\n"
          "--stand-in: the compiler is a stand-in whose artifact may have "
          "other shapes than the example\n"
          "--target nvvm:<chip>: compile for an NVIDIA GPU, caches in device "
          "memory\n"
          "--compile-only / --prebuilt: compile into --work-dir only / run "
          "the artifacts found in --work-dir (a machine without MLIR)\n");
}

} // namespace

int main(int argc, char **argv) {
  Options opt;
  std::string example = "all";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool hasValue = i + 1 < argc;
    if (a == "--help" || a == "-h") {
      usage();
      return 0;
    }
    if (a == "--stand-in") {
      opt.standIn = true;
      continue;
    }
    if (a == "--compile-only" || a == "--prebuilt") {
      (a == "--prebuilt" ? opt.prebuilt : opt.compileOnly) = true;
      continue;
    }
    if (!hasValue) {
      usage();
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--example")
      example = v;
    else if (a == "--steps")
      opt.steps = atoll(v.c_str());
    else if (a == "--layout")
      opt.layout = v;
    else if (a == "--compiler")
      opt.compiler = v;
    else if (a == "--target")
      opt.target = v;
    else if (a == "--work-dir")
      opt.workDir = v;
    else if (a == "--examples-dir")
      opt.examplesDir = v;
    else if (a == "--tolerance")
      opt.tolerance = atof(v.c_str());
    else if (a == "--cache-type") {
      kvfuse_dtype t;
      if (!parseDtype(v, t)) {
        fprintf(stderr, "kvfuse-run: unknown cache type '%s'\n", v.c_str());
        return 2;
      }
      opt.cacheType = v;
    } else if (a == "--window") {
      opt.window = atoll(v.c_str());
      if (opt.window < 1) {
        fprintf(stderr, "kvfuse-run: --window must be at least 1\n");
        return 2;
      }
    }
    else {
      usage();
      return 2;
    }
  }
  if (example == "all")
    for (const Model &m : kModels)
      opt.examples.push_back(m.name);
  else if (findModel(example))
    opt.examples = {example};
  else {
    fprintf(stderr, "kvfuse-run: unknown example '%s'\n", example.c_str());
    return 2;
  }
  if (opt.layout != "contiguous" && opt.layout != "paged") {
    fprintf(stderr, "kvfuse-run: unknown layout '%s'\n", opt.layout.c_str());
    return 2;
  }
  if (opt.steps < 1 || opt.steps > 700) {
    fprintf(stderr, "kvfuse-run: --steps must be in [1, 700]\n");
    return 2;
  }
  if (opt.prebuilt && (opt.compileOnly || opt.workDir.empty())) {
    fprintf(stderr, "kvfuse-run: --prebuilt needs --work-dir (the folder "
                    "--compile-only wrote) and no --compile-only\n");
    return 2;
  }
  if (opt.compiler.empty())
    opt.compiler = selfDir() + "/kvfuse-compile";
  if (opt.examplesDir.empty()) {
    // An installed kvfuse-run reads the installed examples; one in the build
    // tree reads the source tree's.
    std::string installed = selfDir() + "/../share/kvfuse/examples";
    opt.examplesDir =
        access(installed.c_str(), R_OK) == 0 ? installed : KVFUSE_EXAMPLES_DIR;
  }
  if (!opt.prebuilt && access(opt.compiler.c_str(), X_OK) != 0) {
    fprintf(stderr,
            "kvfuse-run: kvfuse-compile not found at %s (build the "
            "kvfuse-compile target, or pass --compiler PATH)\n",
            opt.compiler.c_str());
    return 1;
  }
  if (opt.workDir.empty()) {
    char tmpl[] = "/tmp/kvfuse-run-XXXXXX";
    const char *d = mkdtemp(tmpl);
    if (!d) {
      fprintf(stderr, "kvfuse-run: cannot create a work directory\n");
      return 1;
    }
    opt.workDir = d;
  }
  std::vector<Job> jobs(opt.examples.size());
  int rc = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].model = opt.examples[i];
    if (!startCompile(jobs[i], opt))
      rc = 1;
  }
  // All compiles finish before anything is timed.
  std::vector<bool> compiled(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    compiled[i] = finishCompile(jobs[i], opt);
    rc |= compiled[i] ? 0 : 1;
  }
  if (opt.compileOnly) {
    for (size_t i = 0; i < jobs.size(); ++i)
      if (compiled[i])
        printf("compiled %s\n", jobs[i].artifact.c_str());
    return rc;
  }
  for (size_t i = 0; i < jobs.size(); ++i)
    if (compiled[i])
      rc |= runExample(jobs[i], opt);
  return rc;
}
