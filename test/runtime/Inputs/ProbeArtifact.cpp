//===- ProbeArtifact.cpp - Hand-written artifact of the runtime tests -----===//
//
// Entries per kvfuse/abi.h that append their K input to the cache (K and V
// pools both) at the positions the runtime says, and report the page table
// and lengths they received in their output.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/abi.h"

#include <cstdint>

namespace {

void append(const kvfuse_cache_desc *c, int64_t pageSize, int64_t b,
            int64_t pos, const float *kv) {
  int32_t page = c->page_table[b * c->pages_per_seq + pos / pageSize];
  if (page < 0 || page >= c->num_pages)
    return;
  int64_t off = (int64_t(page) * pageSize + pos % pageSize) * 2;
  for (int d = 0; d < 2; ++d) {
    static_cast<float *>(c->key_pool)[off + d] = kv[d];
    static_cast<float *>(c->value_pool)[off + d] = -kv[d];
  }
}

} // namespace

extern "C" __attribute__((visibility("default"))) void
kvfuse_entry_paged_step(void **args) {
  auto *k = static_cast<const float *>(args[0]);
  auto *c = static_cast<const kvfuse_cache_desc *>(args[1]);
  auto *past = static_cast<const int32_t *>(args[2]);
  auto *lens = static_cast<const int32_t *>(args[3]);
  auto *out = static_cast<int32_t *>(args[4]);
  for (int b = 0; b < 2; ++b) {
    for (int t = 0; t < 3; ++t)
      append(c, 4, b, past[b] + t, k + (b * 3 + t) * 2);
    for (int p = 0; p < 3; ++p)
      out[b * 5 + p] = c->page_table[b * c->pages_per_seq + p];
    out[b * 5 + 3] = past[b];
    out[b * 5 + 4] = lens[b];
  }
}

extern "C" __attribute__((visibility("default"))) void
kvfuse_entry_slot_step(void **args) {
  auto *k = static_cast<const float *>(args[0]);
  auto *c = static_cast<const kvfuse_cache_desc *>(args[1]);
  auto *past = static_cast<const int32_t *>(args[2]);
  auto *out = static_cast<int32_t *>(args[3]);
  append(c, 2, 0, past[0], k);
  out[0] = c->page_table[0];
  out[1] = past[0];
}
