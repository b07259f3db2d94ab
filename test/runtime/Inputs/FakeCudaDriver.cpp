//===- FakeCudaDriver.cpp - a libcuda.so.1 stand-in for runtime tests -----===//
//
// Implements the CUDA driver entry points the kvfuse runtime resolves, on the
// host: device memory is host memory, a "module" is any image, and kernels
// are a few named host functions. Lets the runtime's GPU path (launch lists,
// device caches, buffer naming, copies, error propagation) run in CI without
// a GPU. Loaded by dlopen("libcuda.so.1") through LD_LIBRARY_PATH.
//
// Kernels (every argument a device pointer; n = grid.x * block.x):
//   twice(in, out)              out[i] = 2 * in[i] for i < n (f32)
//   probe(table, lens, keys)    keys[i] = table[i] for i < n, then
//                               keys[n + b] = lens[b] for b < grid.y (f32)
//   fail(...)                   returns CUDA_ERROR_LAUNCH_FAILED (719)
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdlib>
#include <cstring>

using CUdeviceptr = unsigned long long;

namespace {
constexpr int kLaunchFailed = 719;
constexpr int kNotFound = 500;
constexpr int kInvalidValue = 1;
struct Function {
  const char *name;
};
Function kFunctions[] = {{"twice"}, {"probe"}, {"fail"}};
int context, module;
} // namespace

extern "C" {
int cuInit(unsigned) { return 0; }
int cuDriverGetVersion(int *v) {
  *v = 13000;
  return 0;
}
int cuDeviceGet(int *d, int ordinal) {
  if (ordinal != 0)
    return kInvalidValue;
  *d = 0;
  return 0;
}
int cuDeviceGetName(char *name, int len, int) {
  strncpy(name, "kvfuse fake device", len);
  return 0;
}
int cuDeviceGetAttribute(int *v, int, int) {
  *v = 4;
  return 0;
}
int cuDevicePrimaryCtxRetain(void **ctx, int) {
  *ctx = &context;
  return 0;
}
int cuDevicePrimaryCtxRelease_v2(int) { return 0; }
int cuCtxSetCurrent(void *) { return 0; }
int cuCtxSynchronize() { return 0; }
int cuGetErrorString(int code, const char **text) {
  *text = code == kLaunchFailed ? "unspecified launch failure"
          : code == kNotFound   ? "named symbol not found"
                                : "fake error";
  return 0;
}
int cuModuleLoadData(void **m, const void *image) {
  if (!image)
    return kInvalidValue;
  *m = &module;
  return 0;
}
int cuModuleUnload(void *) { return 0; }
int cuModuleGetFunction(void **f, void *, const char *name) {
  for (Function &fn : kFunctions)
    if (!strcmp(fn.name, name)) {
      *f = &fn;
      return 0;
    }
  return kNotFound;
}
int cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
  *p = (CUdeviceptr)(uintptr_t)calloc(1, bytes);
  return *p ? 0 : 2;
}
int cuMemFree_v2(CUdeviceptr p) {
  free((void *)(uintptr_t)p);
  return 0;
}
int cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) {
  memcpy((void *)(uintptr_t)dst, src, n);
  return 0;
}
int cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n) {
  memcpy(dst, (void *)(uintptr_t)src, n);
  return 0;
}
int cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
  memmove((void *)(uintptr_t)dst, (void *)(uintptr_t)src, n);
  return 0;
}
int cuMemsetD32_v2(CUdeviceptr dst, unsigned v, size_t words) {
  auto *p = (unsigned *)(uintptr_t)dst;
  for (size_t i = 0; i < words; ++i)
    p[i] = v;
  return 0;
}
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned, unsigned bx,
                   unsigned, unsigned, unsigned, void *, void **params,
                   void **) {
  auto arg = [&](int i) {
    return (void *)(uintptr_t)*static_cast<CUdeviceptr *>(params[i]);
  };
  const char *name = static_cast<Function *>(f)->name;
  unsigned n = gx * bx;
  if (!strcmp(name, "twice")) {
    auto *in = static_cast<float *>(arg(0));
    auto *out = static_cast<float *>(arg(1));
    for (unsigned i = 0; i < n; ++i)
      out[i] = 2.0f * in[i];
    return 0;
  }
  if (!strcmp(name, "probe")) {
    auto *table = static_cast<int32_t *>(arg(0));
    auto *lens = static_cast<int32_t *>(arg(1));
    auto *keys = static_cast<float *>(arg(2));
    for (unsigned i = 0; i < n; ++i)
      keys[i] = float(table[i]);
    for (unsigned b = 0; b < gy; ++b)
      keys[n + b] = float(lens[b]);
    return 0;
  }
  return kLaunchFailed;
}
int cuEventCreate(void **e, unsigned) {
  *e = &context;
  return 0;
}
int cuEventDestroy_v2(void *) { return 0; }
int cuEventRecord(void *, void *) { return 0; }
int cuEventSynchronize(void *) { return 0; }
int cuEventElapsedTime(float *ms, void *, void *) {
  *ms = 0.0f;
  return 0;
}
}
