//===- StandInModel.cpp - Stand-in compiled model for kvfuse-run tests ----===//
//
// A small attention layer (4 query heads over 2 KV heads, head dim 8,
// capacity 64) written by hand against kvfuse/abi.h, with the entries an
// example model has (prefill of 13 tokens, decode for batches 1 and 4). The
// stand-in compiler script hands it out so that kvfuse-run's driving and
// verification are tested without the compiler.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/abi.h"

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

constexpr int64_t Hq = 4, Hkv = 2, D = 8;

#ifndef STANDIN_PAGE_SIZE
#define STANDIN_PAGE_SIZE 64
#endif
constexpr int64_t PageSize = STANDIN_PAGE_SIZE;

int64_t slot(const kvfuse_cache_desc *c, int64_t b, int64_t h, int64_t pos) {
  int32_t page = c->page_table[b * c->pages_per_seq + pos / PageSize];
  return ((int64_t(page) * Hkv + h) * PageSize + pos % PageSize) * D;
}

void layer(void **args, int64_t B, int64_t S) {
  auto *q = static_cast<const float *>(args[0]);
  auto *k = static_cast<const float *>(args[1]);
  auto *v = static_cast<const float *>(args[2]);
  auto *c = static_cast<const kvfuse_cache_desc *>(args[3]);
  auto *past = static_cast<const int32_t *>(args[4]);
  auto *lens = static_cast<const int32_t *>(args[5]);
  auto *out = static_cast<float *>(args[6]);
  auto *kp = static_cast<float *>(c->key_pool);
  auto *vp = static_cast<float *>(c->value_pool);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hkv; ++h)
      for (int64_t t = 0; t < S; ++t) {
        int64_t dst = slot(c, b, h, past[b] + t);
        for (int64_t d = 0; d < D; ++d) {
          kp[dst + d] = k[((b * Hkv + h) * S + t) * D + d];
          vp[dst + d] = v[((b * Hkv + h) * S + t) * D + d];
        }
      }
  std::vector<double> s;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t hq = 0; hq < Hq; ++hq)
      for (int64_t i = 0; i < S; ++i) {
        int64_t h = hq / (Hq / Hkv), L = lens[b], last = L - S + i;
        const float *qr = q + ((b * Hq + hq) * S + i) * D;
        s.assign(last + 1, 0.0);
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j <= last; ++j) {
          const float *kr = kp + slot(c, b, h, j);
          for (int64_t d = 0; d < D; ++d)
            s[j] += double(qr[d]) * kr[d];
          s[j] /= std::sqrt(double(D));
          mx = s[j] > mx ? s[j] : mx;
        }
        for (int64_t j = 0; j <= last; ++j)
          sum += (s[j] = std::exp(s[j] - mx));
        float *o = out + ((b * Hq + hq) * S + i) * D;
        for (int64_t d = 0; d < D; ++d) {
          double acc = 0;
          for (int64_t j = 0; j <= last; ++j)
            acc += s[j] * vp[slot(c, b, h, j) + d];
          o[d] = float(acc / sum);
        }
      }
}

} // namespace

extern "C" __attribute__((visibility("default"))) void
kvfuse_entry_prefill(void **args) {
  layer(args, 1, 13);
}
extern "C" __attribute__((visibility("default"))) void
kvfuse_entry_decode(void **args) {
  layer(args, 1, 1);
}
extern "C" __attribute__((visibility("default"))) void
kvfuse_entry_decode_b4(void **args) {
  layer(args, 4, 1);
}
