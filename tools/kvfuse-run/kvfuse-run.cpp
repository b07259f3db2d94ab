//===- kvfuse-run.cpp - Compile, run and verify the example models --------===//
//
// Compiles examples/<model>.mlir with kvfuse-compile (found next to this
// executable), loads the artifact through the runtime, runs a random prompt's
// prefill and then N decode steps with fresh random Q/K/V each step, for a
// batch of 1 and of 4 sequences. Every output is checked against the float64
// reference over all K/V appended so far; prints prefill time, median decode
// latency, tokens/s and the largest relative error.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/reference.h"
#include "kvfuse/runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

struct Options {
  std::vector<std::string> examples;
  int64_t steps = 16;
  std::string layout = "contiguous";
  std::string compiler, workDir, examplesDir = KVFUSE_EXAMPLES_DIR;
  double tolerance = 1e-4;
};

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
bool step(kvfuse_artifact *art, const Entry &e, kvfuse_cache *cache,
          const std::vector<int64_t> &seqs, std::vector<SeqHistory> &hist,
          std::mt19937 &rng, const Options &opt, Result &res,
          double &seconds) {
  int64_t B = e.batch, S = e.stepTokens, Hq = e.qHeads, Hkv = e.spec.heads,
          D = e.spec.head_dim, Dv = e.spec.value_dim;
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> q(B * Hq * S * D), k(B * Hkv * S * D),
      v(B * Hkv * S * Dv), out(B * Hq * S * Dv, NAN);
  for (float &x : q)
    x = dist(rng);
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
          h.k[hh].push_back(k[((b * Hkv + hh) * S + t) * D + d]);
        for (int64_t d = 0; d < Dv; ++d)
          h.v[hh].push_back(v[((b * Hkv + hh) * S + t) * Dv + d]);
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
    p.causal = S > 1;
    p.causalOffset = L - S;
    kvfuse::ref::attention(p, qd.data(), kd.data(), vd.data(), od.data());
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
              const Options &opt, const std::string &model, Result &res) {
  kvfuse_cache *cache = nullptr;
  if (kvfuse_cache_create(&decode.spec, decode.batch, 0, &cache)) {
    fprintf(stderr, "kvfuse-run: %s\n", kvfuse_last_error());
    return false;
  }
  std::mt19937 rng(1234 + decode.batch);
  std::vector<int64_t> seqs(decode.batch);
  std::vector<SeqHistory> hist(decode.batch);
  bool ok = true;
  double prefillTime = 0;
  for (int64_t b = 0; b < decode.batch && ok; ++b) {
    if (kvfuse_cache_add_sequence(cache, &seqs[b])) {
      fprintf(stderr, "kvfuse-run: %s\n", kvfuse_last_error());
      ok = false;
      break;
    }
    hist[b].k.resize(decode.spec.heads);
    hist[b].v.resize(decode.spec.heads);
    std::vector<int64_t> one = {seqs[b]};
    std::vector<SeqHistory> h1 = {hist[b]};
    double t;
    ok = step(art, prefill, cache, one, h1, rng, opt, res, t);
    hist[b] = h1[0];
    if (b == 0)
      prefillTime = t;
  }
  std::vector<double> times;
  for (int64_t s = 0; s < opt.steps && ok; ++s) {
    double t;
    ok = step(art, decode, cache, seqs, hist, rng, opt, res, t);
    times.push_back(t);
  }
  kvfuse_cache_free(cache);
  if (!ok)
    return false;
  double med = median(times);
  printf("%-7s %-10s B=%lld prompt=%lld prefill %.3f ms (%.0f tok/s) | "
         "decode %lld steps: median %.3f ms/step, %.0f tok/s\n",
         model.c_str(), opt.layout.c_str(), (long long)decode.batch,
         (long long)prefill.stepTokens, prefillTime * 1e3,
         prefill.stepTokens / prefillTime, (long long)opt.steps, med * 1e3,
         med > 0 ? decode.batch / med : 0.0);
  return true;
}

int runExample(const std::string &model, const Options &opt) {
  std::string src;
  std::string path = opt.examplesDir + "/" + model + ".mlir";
  if (!readFile(path, src)) {
    fprintf(stderr, "kvfuse-run: cannot read %s\n", path.c_str());
    return 1;
  }
  if (opt.layout == "paged")
    src = makePaged(src);
  std::string input = opt.workDir + "/" + model + "-" + opt.layout + ".mlir";
  std::string artifact = opt.workDir + "/" + model + "-" + opt.layout + ".kvf";
  std::ofstream(input) << src;
  std::string cmd = shellQuote(opt.compiler) + " " + shellQuote(input) +
                    " -o " + shellQuote(artifact);
  int rc = system(cmd.c_str());
  if (rc != 0) {
    fprintf(stderr, "kvfuse-run: compiling %s failed: %s\n", model.c_str(),
            cmd.c_str());
    return 1;
  }
  kvfuse_artifact *art = nullptr;
  if (kvfuse_artifact_load(artifact.c_str(), &art)) {
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
  Result res;
  bool ok = runBatch(art, prefill, decode, opt, model, res) &&
            runBatch(art, prefill, decode4, opt, model, res);
  kvfuse_artifact_free(art);
  printf("%-7s %-10s max relative error %.3g (tolerance %.3g): %s\n",
         model.c_str(), opt.layout.c_str(), res.maxErr, opt.tolerance,
         ok && res.ok ? "PASS" : "FAIL");
  return ok && res.ok ? 0 : 1;
}

void usage() {
  fprintf(stderr,
          "usage: kvfuse-run [--example gpt2|llama3|all] [--steps N] "
          "[--layout contiguous|paged]\n"
          "                  [--compiler PATH] [--work-dir DIR] "
          "[--examples-dir DIR] [--tolerance X]\n");
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
    else if (a == "--work-dir")
      opt.workDir = v;
    else if (a == "--examples-dir")
      opt.examplesDir = v;
    else if (a == "--tolerance")
      opt.tolerance = atof(v.c_str());
    else {
      usage();
      return 2;
    }
  }
  if (example == "all")
    opt.examples = {"gpt2", "llama3"};
  else if (example == "gpt2" || example == "llama3")
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
  if (opt.compiler.empty())
    opt.compiler = selfDir() + "/kvfuse-compile";
  if (access(opt.compiler.c_str(), X_OK) != 0) {
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
  int rc = 0;
  for (const std::string &m : opt.examples)
    rc |= runExample(m, opt);
  return rc;
}
