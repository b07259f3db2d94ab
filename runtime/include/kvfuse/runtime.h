/*===- kvfuse/runtime.h - Loading and running kvfuse artifacts ----*- C -*-===//
 *
 * C interface of the kvfuse runtime: load an artifact (manifest + shared
 * object), own KV caches and their sequences, and run one step of an entry
 * with the cache descriptors, page tables and lengths filled in.
 *
 * Every function returns a kvfuse_status; on failure kvfuse_last_error()
 * returns a message for the calling thread. No function aborts on bad input.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KVFUSE_RUNTIME_H
#define KVFUSE_RUNTIME_H

#include <stdint.h>

#include "kvfuse/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kvfuse_status {
  KVFUSE_OK = 0,
  KVFUSE_ERR_INVALID_ARGUMENT = 1,
  KVFUSE_ERR_IO = 2,
  KVFUSE_ERR_CORRUPT_MANIFEST = 3,
  KVFUSE_ERR_ABI_MISMATCH = 4,
  KVFUSE_ERR_SYMBOL = 5,
  KVFUSE_ERR_NOT_FOUND = 6,
  KVFUSE_ERR_CACHE_FULL = 7,
  KVFUSE_ERR_OUT_OF_PAGES = 8,
  KVFUSE_ERR_SHAPE_MISMATCH = 9,
  KVFUSE_ERR_OUT_OF_MEMORY = 10,
  KVFUSE_ERR_DEVICE = 11, /* no CUDA driver/device, or a CUDA call failed */
} kvfuse_status;

typedef enum kvfuse_dtype {
  KVFUSE_F32 = 0,
  KVFUSE_F16 = 1,
  KVFUSE_BF16 = 2,
  KVFUSE_I32 = 3,
  KVFUSE_I1 = 4,
} kvfuse_dtype;

typedef enum kvfuse_layout {
  KVFUSE_LAYOUT_CONTIGUOUS = 0,
  KVFUSE_LAYOUT_PAGED = 1,
} kvfuse_layout;

typedef struct kvfuse_cache_spec {
  kvfuse_dtype dtype; /* f32, f16 or bf16 */
  int64_t heads;
  int64_t head_dim;
  int64_t value_dim;
  int64_t capacity; /* tokens per sequence */
  kvfuse_layout layout;
  int64_t page_size; /* == capacity for contiguous caches */
} kvfuse_cache_spec;

/* One user argument of kvfuse_run, matched to the manifest by name. Tensors
 * set data/num_bytes (which must equal the manifest's size); caches set
 * cache. past_lens/kv_lens arguments are filled by the runtime. */
typedef struct kvfuse_cache kvfuse_cache;
typedef struct kvfuse_binding {
  const char *name;
  void *data;
  int64_t num_bytes;
  kvfuse_cache *cache;
} kvfuse_binding;

typedef struct kvfuse_artifact kvfuse_artifact;

/* Message of the last failure on this thread ("" if none). */
const char *kvfuse_last_error(void);
/* Bytes of one element of a dtype (i1 is one byte). */
int64_t kvfuse_dtype_size(kvfuse_dtype dtype);

/* Loads `dir`/manifest.txt and its library; resolves every entry symbol.
 * GPU artifacts (`gpu-module` manifests) load their cubin, or their PTX when
 * the cubin is absent or does not match the device, into CUDA device 0 and
 * check every kernel they launch; without a CUDA driver or device this
 * fails with KVFUSE_ERR_DEVICE. */
kvfuse_status kvfuse_artifact_load(const char *dir, kvfuse_artifact **out);
/* Parses manifest text only (no library); for tools and tests. */
kvfuse_status kvfuse_artifact_parse_manifest(const char *text,
                                             kvfuse_artifact **out);
void kvfuse_artifact_free(kvfuse_artifact *artifact);
/* "cpu" or "nvvm:<chip>" (pointer valid as long as the artifact). */
const char *kvfuse_artifact_target(const kvfuse_artifact *artifact);
/* Entry lookup: number of arguments and step tokens. */
kvfuse_status kvfuse_artifact_entry(const kvfuse_artifact *artifact,
                                    const char *entry, int64_t *num_args,
                                    int64_t *step_tokens);
/* Argument `index` of an entry: name, kind ("tensor"/"cache"), role, dtype,
 * element count (tensors) and cache spec (caches). Pointers live as long as
 * the artifact. Any output pointer may be NULL. */
kvfuse_status kvfuse_artifact_arg(const kvfuse_artifact *artifact,
                                  const char *entry, int64_t index,
                                  const char **name, const char **kind,
                                  const char **role, kvfuse_dtype *dtype,
                                  int64_t *num_elements,
                                  kvfuse_cache_spec *spec);

/* A cache for up to max_seqs sequences. Paged caches get a pool of num_pages
 * pages (0: enough for max_seqs full sequences). Pools are zero-filled. */
kvfuse_status kvfuse_cache_create(const kvfuse_cache_spec *spec,
                                  int64_t max_seqs, int64_t num_pages,
                                  kvfuse_cache **out);
/* The same, with the pools in the memory of CUDA device 0 (for GPU
 * artifacts); pools are zero-filled. KVFUSE_ERR_DEVICE without a device. */
kvfuse_status kvfuse_cache_create_on_device(const kvfuse_cache_spec *spec,
                                            int64_t max_seqs,
                                            int64_t num_pages,
                                            kvfuse_cache **out);
int kvfuse_cache_is_on_device(const kvfuse_cache *cache);
void kvfuse_cache_free(kvfuse_cache *cache);
/* Adds an empty sequence; its id is returned in *seq_id. */
kvfuse_status kvfuse_cache_add_sequence(kvfuse_cache *cache, int64_t *seq_id);
/* Counts `tokens` more tokens as held by a sequence without writing them
 * (their K/V are whatever the pools hold there, e.g. written with
 * kvfuse_cache_write_pools): restores a cache, or sets one up for tests and
 * benchmarks. Allocates pages; fails like kvfuse_run when they do not fit. */
kvfuse_status kvfuse_cache_extend_sequence(kvfuse_cache *cache,
                                           int64_t seq_id, int64_t tokens);
/* Removes a sequence, returning its slot/pages. */
kvfuse_status kvfuse_cache_remove_sequence(kvfuse_cache *cache,
                                           int64_t seq_id);
kvfuse_status kvfuse_cache_sequence_length(const kvfuse_cache *cache,
                                           int64_t seq_id, int64_t *length);
/* Pages not held by any sequence (paged: pool pages; contiguous: slots). */
int64_t kvfuse_cache_free_pages(const kvfuse_cache *cache);
/* Removes every sequence. */
void kvfuse_cache_reset(kvfuse_cache *cache);
/* Key/value pools ([pages][heads][page_size][dim]) and the pages of a
 * sequence, for inspection. The pool pointers are NULL for device caches:
 * copy their pools with kvfuse_cache_read_pools. */
void *kvfuse_cache_key_pool(kvfuse_cache *cache);
void *kvfuse_cache_value_pool(kvfuse_cache *cache);
/* Bytes of the key and value pools (either may be NULL). */
void kvfuse_cache_pool_bytes(const kvfuse_cache *cache, int64_t *key_bytes,
                             int64_t *value_bytes);
/* Copies the whole pools to / from host memory of kvfuse_cache_pool_bytes
 * bytes each, for host and device caches alike (NULL skips a pool). */
kvfuse_status kvfuse_cache_read_pools(const kvfuse_cache *cache,
                                      void *key_pool, void *value_pool);
kvfuse_status kvfuse_cache_write_pools(kvfuse_cache *cache,
                                       const void *key_pool,
                                       const void *value_pool);
kvfuse_status kvfuse_cache_sequence_pages(const kvfuse_cache *cache,
                                          int64_t seq_id, const int32_t **pages,
                                          int64_t *num_pages);

/* Runs one step of `entry` for the batch `seq_ids[0..batch)`. Checks every
 * binding, every sequence's capacity and the page pool before calling the
 * entry (on failure nothing is written), then advances every bound cache's
 * sequences by the entry's step_tokens. GPU artifacts take host tensors and
 * device caches: inputs and outputs are copied to the device (so output
 * elements no kernel writes keep the caller's values), the entry's launches
 * run in order, the call waits for them and copies the outputs back. */
kvfuse_status kvfuse_run(kvfuse_artifact *artifact, const char *entry,
                         const kvfuse_binding *bindings, int64_t num_bindings,
                         const int64_t *seq_ids, int64_t batch);

/* kvfuse_run for GPU artifacts with the tensors already in device memory:
 * every tensor binding's `data` is a device pointer (kvfuse_device_alloc)
 * used in place, so nothing but lengths and page tables is copied. Waits for
 * the step's launches. */
kvfuse_status kvfuse_run_device(kvfuse_artifact *artifact, const char *entry,
                                const kvfuse_binding *bindings,
                                int64_t num_bindings, const int64_t *seq_ids,
                                int64_t batch);

/* Memory of CUDA device 0 for kvfuse_run_device (KVFUSE_ERR_DEVICE without a
 * device). kvfuse_device_copy copies host -> device when to_device is
 * non-zero, device -> host otherwise. */
kvfuse_status kvfuse_device_alloc(int64_t bytes, void **ptr);
kvfuse_status kvfuse_device_free(void *ptr);
kvfuse_status kvfuse_device_copy(void *dst, const void *src, int64_t bytes,
                                 int to_device);

#ifdef __cplusplus
}
#endif

#endif /* KVFUSE_RUNTIME_H */
