/* Loads an artifact of consumer/attention.mlir through the installed
 * runtime, runs it on random inputs and checks every output element against
 * a double-precision reference (GQA 2, causal with offset 18). */
#include <kvfuse/runtime.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { kHeads = 4, kKvHeads = 2, kRows = 19, kKeys = 37, kDim = 24 };

static float randomUnit(unsigned *state) {
  *state = *state * 1103515245u + 12345u;
  return (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: run-attention ARTIFACT_DIR\n");
    return 2;
  }
  static float q[kHeads * kRows * kDim], k[kKvHeads * kKeys * kDim],
      v[kKvHeads * kKeys * kDim], out[kHeads * kRows * kDim];
  unsigned state = 2024;
  for (int i = 0; i < kHeads * kRows * kDim; ++i)
    q[i] = randomUnit(&state);
  for (int i = 0; i < kKvHeads * kKeys * kDim; ++i) {
    k[i] = randomUnit(&state);
    v[i] = randomUnit(&state);
  }
  for (int i = 0; i < kHeads * kRows * kDim; ++i)
    out[i] = NAN;

  kvfuse_artifact *artifact = NULL;
  if (kvfuse_artifact_load(argv[1], &artifact) != KVFUSE_OK) {
    fprintf(stderr, "load: %s\n", kvfuse_last_error());
    return 1;
  }
  kvfuse_binding bindings[] = {
      {"arg0", q, sizeof(q), NULL},
      {"arg1", k, sizeof(k), NULL},
      {"arg2", v, sizeof(v), NULL},
      {"out0", out, sizeof(out), NULL},
  };
  if (kvfuse_run(artifact, "attend", bindings, 4, NULL, 0) != KVFUSE_OK) {
    fprintf(stderr, "run: %s\n", kvfuse_last_error());
    kvfuse_artifact_free(artifact);
    return 1;
  }
  kvfuse_artifact_free(artifact);

  double worst = 0.0;
  int unwritten = 0;
  for (int h = 0; h < kHeads; ++h) {
    int kh = h / (kHeads / kKvHeads);
    for (int i = 0; i < kRows; ++i) {
      double scores[kKeys], max = -INFINITY, sum = 0.0;
      int visible = i + 18 + 1; /* causal, offset 18 */
      for (int j = 0; j < visible; ++j) {
        double s = 0.0;
        for (int d = 0; d < kDim; ++d)
          s += (double)q[(h * kRows + i) * kDim + d] *
               k[(kh * kKeys + j) * kDim + d];
        scores[j] = s / sqrt((double)kDim);
        max = scores[j] > max ? scores[j] : max;
      }
      for (int j = 0; j < visible; ++j)
        sum += scores[j] = exp(scores[j] - max);
      for (int d = 0; d < kDim; ++d) {
        double expect = 0.0;
        for (int j = 0; j < visible; ++j)
          expect += scores[j] / sum * v[(kh * kKeys + j) * kDim + d];
        float got = out[(h * kRows + i) * kDim + d];
        if (isnan(got))
          ++unwritten;
        else if (fabs(got - expect) > worst)
          worst = fabs(got - expect);
      }
    }
  }
  printf("unwritten %d, max abs error %.2e: %s\n", unwritten, worst,
         unwritten == 0 && worst < 1e-5 ? "PASS" : "FAIL");
  return unwritten == 0 && worst < 1e-5 ? 0 : 1;
}
