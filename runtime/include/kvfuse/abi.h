/*===- kvfuse/abi.h - Calling convention of compiled kvfuse code --*- C -*-===//
 *
 * Shared by the code generators (which emit code against these layouts) and
 * the runtime (which calls that code). Plain C, no dependencies.
 *
 * Every entry point of an artifact is exported as
 *
 *     void <symbol>(void **args);
 *
 * where args[i] is the address of argument i, in the order the manifest
 * lists them: a tensor argument is the address of its first element (dense,
 * row-major, static shape as in the manifest); a cache argument is the
 * address of a kvfuse_cache_desc.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KVFUSE_ABI_H
#define KVFUSE_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The storage of one layer's KV cache as seen by one step.
 *
 * K pool: [pages][heads][page_size][head_dim], V pool:
 * [pages][heads][page_size][value_dim], element type as in the manifest.
 * page_table: [batch][pages_per_seq] of page ids. Token t of batch entry b
 * is at pool[page_table[b * pages_per_seq + t / page_size]][head]
 * [t % page_size]. A contiguous cache is page_size == capacity with one page
 * per sequence (the page id is the sequence's slot). */
typedef struct kvfuse_cache_desc {
  void *key_pool;
  void *value_pool;
  const int32_t *page_table;
  int64_t num_pages; /* pages in each pool, for bounds in debug builds */
  int64_t pages_per_seq;
} kvfuse_cache_desc;

/* Version of this header's layouts, recorded in every manifest. */
#define KVFUSE_ABI_VERSION 1

#ifdef __cplusplus
}
#endif

#endif /* KVFUSE_ABI_H */
