//===- CudaRuntime.cpp - CUDA driver loader for kvfuse PTX ----------------===//
//
// Opens the CUDA driver with dlopen and resolves the few entry points the
// runtime needs; every driver result is checked and turned into a message.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/cuda_runtime.h"

#include <dlfcn.h>
#include <sstream>

namespace kvfuse::cuda {

namespace {
// Driver API types, declared here so that no CUDA header is needed.
using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUevent = void *;

constexpr int kAttrMultiprocessorCount = 16;
} // namespace

struct Device::Impl {
  void *lib = nullptr;
  CUdevice device = 0;
  CUcontext context = nullptr;
  std::vector<CUmodule> modules;

  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuMemAlloc)(DevicePtr *, size_t);
  CUresult (*cuMemFree)(DevicePtr);
  CUresult (*cuMemcpyHtoD)(DevicePtr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, DevicePtr, size_t);
  CUresult (*cuMemcpyDtoD)(DevicePtr, DevicePtr, size_t);
  CUresult (*cuMemsetD32)(DevicePtr, unsigned, size_t);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);

  std::string check(CUresult r, const char *what) {
    if (r == 0)
      return {};
    const char *text = nullptr;
    if (cuGetErrorString)
      cuGetErrorString(r, &text);
    std::ostringstream os;
    os << what << " failed: CUDA error " << r << " (" << (text ? text : "?")
       << ")";
    return os.str();
  }

  template <typename F>
  bool resolve(F &fn, const char *name, std::string &err) {
    fn = reinterpret_cast<F>(dlsym(lib, name));
    if (!fn && err.empty())
      err = std::string("libcuda.so.1 has no symbol ") + name;
    return fn != nullptr;
  }
};

Device::Device() : impl(new Impl()) {}

Device::~Device() {
  if (impl->lib) {
    for (CUmodule m : impl->modules)
      if (m)
        impl->cuModuleUnload(m);
    if (impl->context)
      impl->cuDevicePrimaryCtxRelease(impl->device);
  }
  delete impl;
}

std::string Device::open(int ordinal) {
  Impl &d = *impl;
  if (d.lib)
    return {};
  d.lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!d.lib)
    return std::string("cannot load the CUDA driver (libcuda.so.1): ") +
           dlerror();
  std::string err;
  d.resolve(d.cuInit, "cuInit", err);
  d.resolve(d.cuDriverGetVersion, "cuDriverGetVersion", err);
  d.resolve(d.cuDeviceGet, "cuDeviceGet", err);
  d.resolve(d.cuDeviceGetName, "cuDeviceGetName", err);
  d.resolve(d.cuDeviceGetAttribute, "cuDeviceGetAttribute", err);
  d.resolve(d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", err);
  d.resolve(d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", err);
  d.resolve(d.cuCtxSetCurrent, "cuCtxSetCurrent", err);
  d.resolve(d.cuCtxSynchronize, "cuCtxSynchronize", err);
  d.resolve(d.cuGetErrorString, "cuGetErrorString", err);
  d.resolve(d.cuModuleLoadData, "cuModuleLoadData", err);
  d.resolve(d.cuModuleUnload, "cuModuleUnload", err);
  d.resolve(d.cuModuleGetFunction, "cuModuleGetFunction", err);
  d.resolve(d.cuMemAlloc, "cuMemAlloc_v2", err);
  d.resolve(d.cuMemFree, "cuMemFree_v2", err);
  d.resolve(d.cuMemcpyHtoD, "cuMemcpyHtoD_v2", err);
  d.resolve(d.cuMemcpyDtoH, "cuMemcpyDtoH_v2", err);
  d.resolve(d.cuMemcpyDtoD, "cuMemcpyDtoD_v2", err);
  d.resolve(d.cuMemsetD32, "cuMemsetD32_v2", err);
  d.resolve(d.cuLaunchKernel, "cuLaunchKernel", err);
  d.resolve(d.cuEventCreate, "cuEventCreate", err);
  d.resolve(d.cuEventDestroy, "cuEventDestroy_v2", err);
  d.resolve(d.cuEventRecord, "cuEventRecord", err);
  d.resolve(d.cuEventSynchronize, "cuEventSynchronize", err);
  d.resolve(d.cuEventElapsedTime, "cuEventElapsedTime", err);
  if (!err.empty()) {
    dlclose(d.lib);
    d.lib = nullptr;
    return err;
  }
  if (auto e = d.check(d.cuInit(0), "cuInit"); !e.empty())
    return e;
  if (auto e = d.check(d.cuDeviceGet(&d.device, ordinal), "cuDeviceGet");
      !e.empty())
    return e;
  if (auto e = d.check(d.cuDevicePrimaryCtxRetain(&d.context, d.device),
                       "cuDevicePrimaryCtxRetain");
      !e.empty())
    return e;
  return d.check(d.cuCtxSetCurrent(d.context), "cuCtxSetCurrent");
}

std::string Device::describe(std::string &name, int &driverVersion,
                             int &smCount) {
  Impl &d = *impl;
  char buf[256] = {0};
  if (auto e = d.check(d.cuDeviceGetName(buf, sizeof(buf) - 1, d.device),
                       "cuDeviceGetName");
      !e.empty())
    return e;
  name = buf;
  if (auto e = d.check(d.cuDriverGetVersion(&driverVersion),
                       "cuDriverGetVersion");
      !e.empty())
    return e;
  return d.check(d.cuDeviceGetAttribute(&smCount, kAttrMultiprocessorCount,
                                        d.device),
                 "cuDeviceGetAttribute");
}

std::string Device::alloc(DevicePtr &ptr, size_t bytes) {
  return impl->check(impl->cuMemAlloc(&ptr, bytes ? bytes : 4), "cuMemAlloc");
}
std::string Device::free(DevicePtr ptr) {
  return impl->check(impl->cuMemFree(ptr), "cuMemFree");
}
std::string Device::upload(DevicePtr dst, const void *src, size_t bytes) {
  return impl->check(impl->cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
}
std::string Device::download(void *dst, DevicePtr src, size_t bytes) {
  return impl->check(impl->cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
}
std::string Device::copy(DevicePtr dst, DevicePtr src, size_t bytes) {
  return impl->check(impl->cuMemcpyDtoD(dst, src, bytes), "cuMemcpyDtoD");
}
bool Device::isOpen() const { return impl->context != nullptr; }
std::string Device::fill32(DevicePtr dst, uint32_t value, size_t words) {
  return impl->check(impl->cuMemsetD32(dst, value, words), "cuMemsetD32");
}
std::string Device::synchronize() {
  return impl->check(impl->cuCtxSynchronize(), "cuCtxSynchronize");
}

std::string Device::loadModule(const std::string &image, int &handle) {
  CUmodule m = nullptr;
  if (auto e = impl->check(impl->cuModuleLoadData(&m, image.c_str()),
                           "cuModuleLoadData");
      !e.empty())
    return e;
  impl->modules.push_back(m);
  handle = int(impl->modules.size()) - 1;
  return {};
}

std::string Device::unloadModule(int handle) {
  if (handle < 0 || size_t(handle) >= impl->modules.size() ||
      !impl->modules[handle])
    return "unloadModule: unknown module handle";
  CUmodule m = impl->modules[handle];
  impl->modules[handle] = nullptr;
  return impl->check(impl->cuModuleUnload(m), "cuModuleUnload");
}

std::string Device::findFunction(int handle, const std::string &name) {
  if (handle < 0 || size_t(handle) >= impl->modules.size() ||
      !impl->modules[handle])
    return "findFunction: unknown module handle";
  CUfunction fn = nullptr;
  return impl->check(
      impl->cuModuleGetFunction(&fn, impl->modules[handle], name.c_str()),
      ("cuModuleGetFunction(" + name + ")").c_str());
}

std::string Device::launch(int handle, const Launch &l,
                           const std::map<std::string, DevicePtr> &buffers) {
  if (handle < 0 || size_t(handle) >= impl->modules.size() ||
      !impl->modules[handle])
    return "launch: unknown module handle";
  CUfunction fn = nullptr;
  if (auto e = impl->check(impl->cuModuleGetFunction(
                               &fn, impl->modules[handle], l.symbol.c_str()),
                           ("cuModuleGetFunction(" + l.symbol + ")").c_str());
      !e.empty())
    return e;
  std::vector<DevicePtr> values;
  values.reserve(l.args.size());
  for (const std::string &a : l.args) {
    auto it = buffers.find(a);
    if (it == buffers.end())
      return "launch " + l.symbol + ": no buffer bound to argument " + a;
    values.push_back(it->second);
  }
  std::vector<void *> params;
  for (DevicePtr &v : values)
    params.push_back(&v);
  return impl->check(impl->cuLaunchKernel(fn, l.grid[0], l.grid[1], l.grid[2],
                                          l.block[0], l.block[1], l.block[2],
                                          l.smem, nullptr, params.data(),
                                          nullptr),
                     ("cuLaunchKernel(" + l.symbol + ")").c_str());
}

std::string Device::timeEvents(int reps, std::string (*body)(void *),
                               void *ctx, std::vector<float> &millis) {
  Impl &d = *impl;
  CUevent start = nullptr, stop = nullptr;
  if (auto e = d.check(d.cuEventCreate(&start, 0), "cuEventCreate");
      !e.empty())
    return e;
  if (auto e = d.check(d.cuEventCreate(&stop, 0), "cuEventCreate");
      !e.empty())
    return e;
  std::string err;
  for (int i = 0; i < reps && err.empty(); ++i) {
    err = d.check(d.cuEventRecord(start, nullptr), "cuEventRecord");
    if (err.empty())
      err = body(ctx);
    if (err.empty())
      err = d.check(d.cuEventRecord(stop, nullptr), "cuEventRecord");
    if (err.empty())
      err = d.check(d.cuEventSynchronize(stop), "cuEventSynchronize");
    float ms = 0;
    if (err.empty())
      err = d.check(d.cuEventElapsedTime(&ms, start, stop),
                    "cuEventElapsedTime");
    millis.push_back(ms);
  }
  d.cuEventDestroy(start);
  d.cuEventDestroy(stop);
  return err;
}

int64_t KernelManifest::getInt(const std::string &key,
                               int64_t fallback) const {
  auto it = fields.find(key);
  return it == fields.end() ? fallback : std::stoll(it->second);
}

namespace {
bool parseDims(const std::string &text, unsigned dims[3]) {
  unsigned n = 0;
  std::string cur;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == 'x') {
      if (cur.empty() || n == 3)
        return false;
      for (char ch : cur)
        if (ch < '0' || ch > '9')
          return false;
      dims[n++] = unsigned(std::stoul(cur));
      cur.clear();
    } else {
      cur += text[i];
    }
  }
  return n == 3;
}
} // namespace

std::string parseManifest(const std::string &text, KernelManifest &out) {
  std::istringstream in(text);
  std::string line;
  bool ended = false;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream ls(line);
    std::string tok, kind;
    ls >> kind;
    std::string where = "manifest line " + std::to_string(lineNo) + ": ";
    if (kind == "end") {
      ended = true;
      break;
    }
    if (kind != "kernel" && kind != "launch")
      return where + "unknown record '" + kind + "'";
    ls >> tok; // kernel kind or launch index
    if (kind == "kernel")
      out.fields["kind"] = tok;
    Launch l;
    bool haveSymbol = false, haveGrid = false, haveBlock = false;
    while (ls >> tok) {
      size_t eq = tok.find('=');
      if (eq == std::string::npos)
        return where + "expected key=value, got '" + tok + "'";
      std::string key = tok.substr(0, eq), value = tok.substr(eq + 1);
      if (kind == "kernel") {
        out.fields[key] = value;
        continue;
      }
      if (key == "symbol") {
        l.symbol = value;
        haveSymbol = true;
      } else if (key == "grid") {
        if (!parseDims(value, l.grid))
          return where + "bad grid '" + value + "'";
        haveGrid = true;
      } else if (key == "block") {
        if (!parseDims(value, l.block))
          return where + "bad block '" + value + "'";
        haveBlock = true;
      } else if (key == "smem") {
        l.smem = unsigned(std::stoul(value));
      } else if (key == "args") {
        std::string a;
        std::istringstream as(value);
        while (std::getline(as, a, ','))
          l.args.push_back(a);
      }
    }
    if (kind == "launch") {
      if (!haveSymbol || !haveGrid || !haveBlock)
        return where + "launch needs symbol=, grid= and block=";
      out.launches.push_back(l);
    }
  }
  if (!ended)
    return "manifest: missing 'end'";
  if (out.launches.empty())
    return "manifest: no launch records";
  return {};
}

} // namespace kvfuse::cuda
