// Loads an artifact of consumer/attention.mlir through the installed
// runtime, runs it on random inputs and checks every output element against
// the installed float64 reference (kvfuse/reference.h): GQA 2, causal with
// offset 18.
#include <kvfuse/reference.h>
#include <kvfuse/runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: run-attention ARTIFACT_DIR\n");
    return 2;
  }
  kvfuse::ref::AttentionProblem p;
  p.qHeads = 4;
  p.kvHeads = 2;
  p.qLen = 19;
  p.kvLen = 37;
  p.headDim = p.valueDim = 24;
  p.causal = true;
  p.causalOffset = 18;
  std::vector<float> q(p.qHeads * p.qLen * p.headDim),
      k(p.kvHeads * p.kvLen * p.headDim), v(k.size()),
      out(q.size(), NAN); // poisoned: every element must be written
  std::mt19937 rng(2024);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto *x : {&q, &k, &v})
    for (float &e : *x)
      e = dist(rng);

  kvfuse_artifact *artifact = nullptr;
  if (kvfuse_artifact_load(argv[1], &artifact) != KVFUSE_OK) {
    std::fprintf(stderr, "load: %s\n", kvfuse_last_error());
    return 1;
  }
  kvfuse_binding bindings[] = {
      {"arg0", q.data(), int64_t(q.size() * sizeof(float)), nullptr},
      {"arg1", k.data(), int64_t(k.size() * sizeof(float)), nullptr},
      {"arg2", v.data(), int64_t(v.size() * sizeof(float)), nullptr},
      {"out0", out.data(), int64_t(out.size() * sizeof(float)), nullptr},
  };
  kvfuse_status status =
      kvfuse_run(artifact, "attend", bindings, 4, nullptr, 0);
  kvfuse_artifact_free(artifact);
  if (status != KVFUSE_OK) {
    std::fprintf(stderr, "run: %s\n", kvfuse_last_error());
    return 1;
  }

  std::vector<double> qd(q.begin(), q.end()), kd(k.begin(), k.end()),
      vd(v.begin(), v.end()), expect(out.size());
  kvfuse::ref::attention(p, qd.data(), kd.data(), vd.data(), expect.data());
  double worst = 0.0;
  int unwritten = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::isnan(out[i]))
      ++unwritten;
    else
      worst = std::max(worst, std::fabs(out[i] - expect[i]));
  }
  bool pass = unwritten == 0 && worst < 1e-5;
  std::printf("unwritten %d, max abs error %.2e: %s\n", unwritten, worst,
              pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}
