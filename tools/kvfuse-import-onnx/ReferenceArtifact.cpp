//===- ReferenceArtifact.cpp - A hand-made artifact for runner tests ------===//
//
// The shared object of a tiny artifact that kvfuse-onnx-run's tests load: it
// implements ONNX's test_attention_4d_gqa (Q 2x9x4x8, K/V 2x3x6x8) with the
// float64 reference, through the artifact calling convention. `main` writes
// every output element; `partial` leaves the last one unwritten, which the
// runner's NaN poisoning must catch.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/reference.h"

#include <vector>

namespace {
void run(void **args, bool skipLast) {
  kvfuse::ref::AttentionProblem p;
  p.batch = 2;
  p.qHeads = 9;
  p.kvHeads = 3;
  p.qLen = 4;
  p.kvLen = 6;
  p.headDim = 8;
  p.valueDim = 8;
  auto load = [](void *ptr, int64_t n) {
    const float *f = static_cast<const float *>(ptr);
    return std::vector<double>(f, f + n);
  };
  std::vector<double> q = load(args[0], 2 * 9 * 4 * 8),
                      k = load(args[1], 2 * 3 * 6 * 8),
                      v = load(args[2], 2 * 3 * 6 * 8);
  std::vector<double> out(2 * 9 * 4 * 8);
  kvfuse::ref::attention(p, q.data(), k.data(), v.data(), out.data());
  float *o = static_cast<float *>(args[3]);
  for (size_t i = 0; i + (skipLast ? 1 : 0) < out.size(); ++i)
    o[i] = static_cast<float>(out[i]);
}
} // namespace

extern "C" void kvfuse_entry_main(void **args) { run(args, false); }
extern "C" void kvfuse_entry_partial(void **args) { run(args, true); }
