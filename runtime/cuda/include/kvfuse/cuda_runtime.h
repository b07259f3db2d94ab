//===- kvfuse/cuda_runtime.h - CUDA driver loader for kvfuse PTX -*- C++ -*-===//
//
// Loads kvfuse GPU kernels (PTX) and launches them through the CUDA driver
// API, which is opened at run time with dlopen("libcuda.so.1"): nothing here
// links against CUDA, so the runtime builds and runs on machines without it
// (open() then fails with a clear message).
//
// GPU kernel manifest (`<name>.cfg` beside `<name>.ptx`), one record a line,
// tokens separated by single spaces, key=value fields:
//
//   kernel decode name=N dtype=f16 batch=B q_heads=HQ kv_heads=HKV
//          head_dim=D capacity=C page_size=PS pages_per_seq=P num_pages=NP
//          splits=S chunk=CH
//   launch 0 symbol=decode_partial grid=SxHKVxB block=128x1x1 smem=0
//          args=q,k_pool,v_pool,page_table,kv_lens,o_part,lse_part
//   launch 1 symbol=decode_merge grid=(B*HQ)x1x1 block=Dx1x1 smem=0
//          args=o_part,lse_part,out
//   end
//
// (the `kernel` record is one line; its kind, here `decode`, is stored as
// field `kind`). Launches run in order on one stream. A `kernel append`
// record (fields dtype batch kv_heads head_dim capacity page_size
// pages_per_seq num_pages step_tokens) has one launch `kv_append` grid
// HKVxBx1 block 128x1x1 args=k_new,v_new,k_pool,v_pool,page_table,past_lens:
// k_new/v_new [B,HKV,step_tokens,D] f32 are written, converted to the cache
// dtype, at positions past_lens[b] + t below the capacity.
// Every kernel argument is a device pointer (bare-pointer convention) to a
// dense buffer: q [B,HQ,1,D] f32; k_pool/v_pool [NP,HKV,PS,D] of `dtype`;
// page_table [B,P] i32; kv_lens [B] i32 (tokens valid, <= capacity);
// o_part [B,HQ,S,D] f32 and lse_part [B,HQ,S] f32 (scratch); out
// [B,HQ,1,D] f32. `smem` is dynamic shared memory in bytes (the kernels
// declare theirs statically).
//
//===----------------------------------------------------------------------===//
#ifndef KVFUSE_CUDA_RUNTIME_H
#define KVFUSE_CUDA_RUNTIME_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kvfuse::cuda {

using DevicePtr = unsigned long long;

/// One kernel launch of a manifest.
struct Launch {
  std::string symbol;
  unsigned grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  unsigned smem = 0;
  std::vector<std::string> args;
};

/// A parsed GPU kernel manifest: the `kernel` record's fields and launches.
struct KernelManifest {
  std::map<std::string, std::string> fields;
  std::vector<Launch> launches;
  /// Integer field `key`, or `fallback` when absent.
  int64_t getInt(const std::string &key, int64_t fallback = 0) const;
};

/// Parses manifest text; returns an empty string or an error message.
std::string parseManifest(const std::string &text, KernelManifest &out);

/// The CUDA driver, opened lazily. Every method returns an empty string on
/// success and an error message naming the failed call otherwise.
class Device {
public:
  Device();
  ~Device();
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;

  /// dlopen()s libcuda.so.1, initialises device `ordinal`, makes its
  /// primary context current.
  std::string open(int ordinal = 0);
  std::string describe(std::string &name, int &driverVersion, int &smCount);

  std::string alloc(DevicePtr &ptr, size_t bytes);
  std::string free(DevicePtr ptr);
  std::string upload(DevicePtr dst, const void *src, size_t bytes);
  std::string download(void *dst, DevicePtr src, size_t bytes);
  std::string copy(DevicePtr dst, DevicePtr src, size_t bytes);
  /// Fills `words` 32-bit words with `value` (used to poison outputs).
  std::string fill32(DevicePtr dst, uint32_t value, size_t words);
  std::string synchronize();

  /// Loads a module image (PTX text or a cubin); `handle` identifies it in
  /// later calls. PTX must be NUL-terminated (std::string is).
  std::string loadModule(const std::string &image, int &handle);
  std::string unloadModule(int handle);
  /// Fails with a message when module `handle` has no kernel `name`.
  std::string findFunction(int handle, const std::string &name);
  /// True once open() succeeded.
  bool isOpen() const;
  /// Launches `launch` from module `handle` with the named buffers.
  std::string launch(int handle, const Launch &launch,
                     const std::map<std::string, DevicePtr> &buffers);

  /// Elapsed milliseconds of each call of `body` (run `reps` times) measured
  /// with CUDA events around it.
  std::string timeEvents(int reps, std::string (*body)(void *), void *ctx,
                         std::vector<float> &millis);

private:
  struct Impl;
  Impl *impl;
};

} // namespace kvfuse::cuda

#endif // KVFUSE_CUDA_RUNTIME_H
