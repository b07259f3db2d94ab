//===- Runtime.cpp - Loading and running kvfuse artifacts -----------------===//
//
// Implements kvfuse/runtime.h: a strict manifest parser, dlopen of the
// artifact's library, KV caches with a slot or page allocator, and the step
// driver that fills cache descriptors and lengths before calling an entry.
// No exceptions: every failure becomes a status and a thread-local message.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/runtime.h"
#include "kvfuse/cuda_runtime.h"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

thread_local std::string lastError;

kvfuse_status fail(kvfuse_status status, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  lastError = buf;
  return status;
}

struct ArgInfo {
  std::string name, kind, role;
  kvfuse_dtype dtype = KVFUSE_F32;
  std::vector<int64_t> shape;
  int64_t numElements = 1;
  kvfuse_cache_spec spec{};
  int64_t pagesPerSeq = 0;
};

/// One step of a GPU entry, in program order: a kernel launch or a
/// device-to-device copy. Buffers are named `aK` (tensor argument K),
/// `aK.keys` / `aK.values` / `aK.table` (the pools and page table of cache
/// argument K) or `sN` (scratch N).
struct GpuStep {
  bool isCopy = false;
  kvfuse::cuda::Launch launch;
  std::string copySrc, copyDst;
  int64_t copyBytes = 0;
};

/// Device buffers of a GPU entry, allocated on its first run and reused.
struct GpuBuffers {
  std::vector<kvfuse::cuda::DevicePtr> args, tables, scratch;
  bool allocated = false;
};

struct EntryInfo {
  std::string name, symbol;
  int64_t numArgs = 0, stepTokens = 0;
  std::vector<ArgInfo> args;
  void (*fn)(void **) = nullptr;
  // GPU entries: scratch buffer sizes and the launch schedule.
  std::vector<int64_t> scratchBytes;
  std::vector<GpuStep> steps;
  GpuBuffers buffers;
};

bool parseInt(const std::string &s, int64_t &out) {
  if (s.empty() || s.size() > 18)
    return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool parseDtype(const std::string &s, kvfuse_dtype &out) {
  static const std::pair<const char *, kvfuse_dtype> names[] = {
      {"f32", KVFUSE_F32}, {"f16", KVFUSE_F16}, {"bf16", KVFUSE_BF16},
      {"i32", KVFUSE_I32}, {"i1", KVFUSE_I1}};
  for (auto &n : names)
    if (s == n.first) {
      out = n.second;
      return true;
    }
  return false;
}

std::vector<std::string> splitSpaces(const std::string &line) {
  std::vector<std::string> toks;
  size_t start = 0;
  while (true) {
    size_t sp = line.find(' ', start);
    toks.push_back(line.substr(start, sp - start));
    if (sp == std::string::npos)
      break;
    start = sp + 1;
  }
  return toks;
}

// key=value fields after the leading positional tokens; duplicates and
// malformed fields are errors.
bool parseFields(const std::vector<std::string> &toks, size_t first,
                 std::map<std::string, std::string> &fields,
                 std::string &why) {
  for (size_t i = first; i < toks.size(); ++i) {
    size_t eq = toks[i].find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == toks[i].size()) {
      why = "malformed field '" + toks[i] + "'";
      return false;
    }
    std::string key = toks[i].substr(0, eq);
    if (!fields.emplace(key, toks[i].substr(eq + 1)).second) {
      why = "duplicate field '" + key + "'";
      return false;
    }
  }
  return true;
}

} // namespace

struct kvfuse_artifact {
  std::string dir, library;
  // GPU artifacts: `library` is the PTX module, `cubin` the optional
  // assembled image for `chip`; `module` is the loaded module's handle.
  bool gpu = false;
  std::string chip, cubin;
  int module = -1;
  std::vector<EntryInfo> entries;
  void *handle = nullptr;
  ~kvfuse_artifact();
  const EntryInfo *find(const char *name) const {
    if (!name)
      return nullptr;
    for (const EntryInfo &e : entries)
      if (e.name == name)
        return &e;
    return nullptr;
  }
};

struct kvfuse_cache {
  kvfuse_cache_spec spec{};
  int64_t maxSeqs = 0, numPages = 0, pagesPerSeq = 0;
  std::vector<unsigned char> keyPool, valuePool;
  // Device caches keep their pools in GPU memory instead.
  bool onDevice = false;
  kvfuse::cuda::DevicePtr keyDevice = 0, valueDevice = 0;
  size_t keyBytes = 0, valueBytes = 0;
  ~kvfuse_cache();
  std::vector<int32_t> freePages; // stack; back() is handed out next
  struct Seq {
    int64_t length = 0;
    std::vector<int32_t> pages;
  };
  std::map<int64_t, Seq> seqs;
  int64_t nextId = 0;
};

namespace {

/// The process's CUDA device (ordinal 0), opened on first use through the
/// dlopen()ed driver. GPU artifacts and device caches share its primary
/// context. Never destroyed, so caches and artifacts freed during static
/// destruction still find it.
struct SharedDevice {
  kvfuse::cuda::Device device;
  std::string error;
};

SharedDevice &sharedDevice() {
  static SharedDevice *shared = [] {
    auto *d = new SharedDevice;
    d->error = d->device.open(0);
    return d;
  }();
  return *shared;
}

kvfuse_status openDevice(kvfuse::cuda::Device *&device) {
  SharedDevice &shared = sharedDevice();
  if (!shared.error.empty())
    return fail(KVFUSE_ERR_DEVICE, "no CUDA device: %s", shared.error.c_str());
  device = &shared.device;
  return KVFUSE_OK;
}

} // namespace

kvfuse_artifact::~kvfuse_artifact() {
  if (handle)
    dlclose(handle);
  if (!gpu || module < 0)
    return;
  kvfuse::cuda::Device &device = sharedDevice().device;
  for (EntryInfo &e : entries)
    for (auto *list : {&e.buffers.args, &e.buffers.tables, &e.buffers.scratch})
      for (kvfuse::cuda::DevicePtr p : *list)
        if (p)
          (void)device.free(p);
  (void)device.unloadModule(module);
}

kvfuse_cache::~kvfuse_cache() {
  if (!onDevice)
    return;
  kvfuse::cuda::Device &device = sharedDevice().device;
  if (keyDevice)
    (void)device.free(keyDevice);
  if (valueDevice)
    (void)device.free(valueDevice);
}

namespace {

/// "x"-separated grid/block sizes: three positive integers below 2^31.
bool parseDims3(const std::string &text, unsigned dims[3]) {
  size_t from = 0;
  for (int i = 0; i < 3; ++i) {
    size_t x = text.find('x', from);
    if ((i < 2) == (x == std::string::npos))
      return false;
    int64_t v;
    if (!parseInt(text.substr(from, x - from), v) || v <= 0 || v > INT32_MAX)
      return false;
    dims[i] = (unsigned)v;
    from = x + 1;
  }
  return true;
}

/// Splits "a3.keys" into argument index 3 and suffix "keys".
bool splitArgRef(const std::string &ref, int64_t &index, std::string &part) {
  if (ref.size() < 2 || ref[0] != 'a')
    return false;
  size_t dot = ref.find('.');
  part = dot == std::string::npos ? "" : ref.substr(dot + 1);
  return parseInt(ref.substr(1, dot == std::string::npos ? std::string::npos
                                                         : dot - 1),
                  index);
}

/// Bytes of a tensor argument or scratch buffer named `ref`, or -1.
int64_t bufferBytes(const EntryInfo &e, const std::string &ref) {
  int64_t index;
  std::string part;
  if (ref.size() > 1 && ref[0] == 's' && parseInt(ref.substr(1), index))
    return index < (int64_t)e.scratchBytes.size() ? e.scratchBytes[index] : -1;
  if (!splitArgRef(ref, index, part) || !part.empty() ||
      index >= (int64_t)e.args.size() || e.args[index].kind != "tensor")
    return -1;
  return e.args[index].numElements * kvfuse_dtype_size(e.args[index].dtype);
}

/// The batch an entry runs: the size of its lengths arguments (1 without).
int64_t maxBatch(const EntryInfo &e) {
  for (const ArgInfo &a : e.args)
    if (a.role == "past_lens" || a.role == "kv_lens")
      return a.numElements;
  return 1;
}

/// Whether `ref` names a buffer a kernel may take: a tensor argument,
/// scratch, or a cache argument's keys/values/table.
bool isBufferName(const EntryInfo &e, const std::string &ref) {
  if (bufferBytes(e, ref) >= 0)
    return true;
  int64_t index;
  std::string part;
  return splitArgRef(ref, index, part) && index < (int64_t)e.args.size() &&
         e.args[index].kind == "cache" &&
         (part == "keys" || part == "values" || part == "table");
}

kvfuse_status parseManifest(const std::string &text, kvfuse_artifact &art) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      if (start < text.size())
        lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  enum { Header, Abi, Library, Top, InEntry } state = Header;
  EntryInfo *cur = nullptr;
  for (size_t ln = 0; ln < lines.size(); ++ln) {
    std::string line = lines[ln];
    int lineNo = static_cast<int>(ln + 1);
    auto bad = [&](const std::string &why) {
      return fail(KVFUSE_ERR_CORRUPT_MANIFEST, "manifest line %d: %s", lineNo,
                  why.c_str());
    };
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty() || line[0] == '#')
      continue;
    std::vector<std::string> toks = splitSpaces(line);
    for (const std::string &t : toks)
      if (t.empty())
        return bad("tokens must be separated by single spaces");
    const std::string &kw = toks[0];
    std::map<std::string, std::string> f;
    std::string why;
    switch (state) {
    case Header:
      if (toks.size() != 2 || kw != "kvfuse-manifest")
        return bad("expected 'kvfuse-manifest 1'");
      if (toks[1] != "1")
        return bad("unsupported manifest version " + toks[1]);
      state = Abi;
      continue;
    case Abi: {
      int64_t v;
      if (toks.size() != 2 || kw != "abi" || !parseInt(toks[1], v))
        return bad("expected 'abi <version>'");
      if (v != KVFUSE_ABI_VERSION)
        return fail(KVFUSE_ERR_ABI_MISMATCH,
                    "manifest line %d: artifact ABI %lld, runtime ABI %d",
                    lineNo, (long long)v, KVFUSE_ABI_VERSION);
      state = Library;
      continue;
    }
    case Library:
      if (kw == "gpu-module" && toks.size() >= 2) {
        // gpu-module <ptx file> chip=<sm_NN> [cubin=<file>]
        if (!parseFields(toks, 2, f, why))
          return bad(why);
        art.gpu = true;
        for (auto &kv : f) {
          if (kv.first == "chip")
            art.chip = kv.second;
          else if (kv.first == "cubin")
            art.cubin = kv.second;
          else
            return bad("unknown gpu-module field '" + kv.first + "'");
        }
        if (art.chip.compare(0, 3, "sm_") != 0)
          return bad("gpu-module needs chip=sm_NN");
        if (art.cubin.find('/') != std::string::npos)
          return bad("cubin must be a file name inside the artifact");
      } else if (toks.size() != 2 || kw != "library") {
        return bad("expected 'library <file>' or 'gpu-module <file> "
                   "chip=<sm_NN>'");
      }
      if (toks[1].find('/') != std::string::npos)
        return bad("library must be a file name inside the artifact");
      art.library = toks[1];
      state = Top;
      continue;
    case Top: {
      if (kw != "entry" || toks.size() < 2)
        return bad("expected 'entry <name> ...', got '" + kw + "'");
      if (!parseFields(toks, 2, f, why))
        return bad(why);
      EntryInfo e;
      e.name = toks[1];
      if (art.find(e.name.c_str()))
        return bad("duplicate entry '" + e.name + "'");
      for (auto &kv : f) {
        if (kv.first == "symbol")
          e.symbol = kv.second;
        else if (kv.first == "args") {
          if (!parseInt(kv.second, e.numArgs) || e.numArgs > 4096)
            return bad("bad args count '" + kv.second + "'");
        } else if (kv.first == "step_tokens") {
          if (!parseInt(kv.second, e.stepTokens))
            return bad("bad step_tokens '" + kv.second + "'");
        } else
          return bad("unknown entry field '" + kv.first + "'");
      }
      if ((e.symbol.empty() && !art.gpu) || !f.count("args"))
        return bad(art.gpu ? "entry needs args="
                           : "entry needs symbol= and args=");
      art.entries.push_back(std::move(e));
      cur = &art.entries.back();
      state = InEntry;
      continue;
    }
    case InEntry: {
      if (kw == "end") {
        if (toks.size() != 1)
          return bad("'end' takes no fields");
        if ((int64_t)cur->args.size() != cur->numArgs)
          return bad("entry '" + cur->name + "' declares " +
                     std::to_string(cur->numArgs) + " args, lists " +
                     std::to_string(cur->args.size()));
        if (art.gpu && cur->steps.empty())
          return bad("GPU entry '" + cur->name + "' has no launch");
        state = Top;
        continue;
      }
      if (kw == "scratch" || kw == "launch" || kw == "copy") {
        if (!art.gpu)
          return bad("'" + kw + "' records belong to GPU artifacts");
        if ((int64_t)cur->args.size() != cur->numArgs)
          return bad("'" + kw + "' before the last argument");
        if (kw == "scratch") {
          int64_t index, bytes;
          if (toks.size() != 3 || !parseInt(toks[1], index) ||
              index != (int64_t)cur->scratchBytes.size() ||
              toks[2].compare(0, 6, "bytes=") != 0 ||
              !parseInt(toks[2].substr(6), bytes) || bytes > (1LL << 40))
            return bad("expected 'scratch <next index> bytes=<n>'");
          cur->scratchBytes.push_back(bytes);
          continue;
        }
        if (!parseFields(toks, 1, f, why))
          return bad(why);
        GpuStep step;
        if (kw == "copy") {
          step.isCopy = true;
          if (f.size() != 3 || !f.count("src") || !f.count("dst") ||
              !f.count("bytes") || !parseInt(f["bytes"], step.copyBytes))
            return bad("expected 'copy src=<buffer> dst=<buffer> bytes=<n>'");
          step.copySrc = f["src"];
          step.copyDst = f["dst"];
          for (const std::string *ref : {&step.copySrc, &step.copyDst}) {
            int64_t size = bufferBytes(*cur, *ref);
            if (size < 0)
              return bad("copy names '" + *ref +
                         "', not a tensor argument or scratch buffer");
            if (step.copyBytes > size)
              return bad("copy of " + std::to_string(step.copyBytes) +
                         " bytes exceeds '" + *ref + "'");
          }
          cur->steps.push_back(std::move(step));
          continue;
        }
        kvfuse::cuda::Launch &l = step.launch;
        for (auto &kv : f) {
          if (kv.first == "kernel") {
            l.symbol = kv.second;
          } else if (kv.first == "grid" || kv.first == "block") {
            if (!parseDims3(kv.second,
                            kv.first == "grid" ? l.grid : l.block))
              return bad("bad " + kv.first + " '" + kv.second + "'");
          } else if (kv.first == "smem") {
            int64_t smem;
            if (!parseInt(kv.second, smem) || smem > (1 << 30))
              return bad("bad smem '" + kv.second + "'");
            l.smem = (unsigned)smem;
          } else if (kv.first == "args") {
            size_t from = 0;
            while (true) {
              size_t comma = kv.second.find(',', from);
              l.args.push_back(kv.second.substr(from, comma - from));
              if (comma == std::string::npos)
                break;
              from = comma + 1;
            }
          } else {
            return bad("unknown launch field '" + kv.first + "'");
          }
        }
        if (l.symbol.empty() || !f.count("grid") || !f.count("block"))
          return bad("launch needs kernel=, grid= and block=");
        for (const std::string &ref : l.args)
          if (!isBufferName(*cur, ref))
            return bad("launch of '" + l.symbol + "' names unknown buffer '" +
                       ref + "'");
        cur->steps.push_back(std::move(step));
        continue;
      }
      if (kw != "arg" || toks.size() < 2)
        return bad("expected 'arg' or 'end', got '" + kw + "'");
      int64_t index;
      if (!parseInt(toks[1], index) || index != (int64_t)cur->args.size())
        return bad("argument index '" + toks[1] + "' out of order");
      if (index >= cur->numArgs)
        return bad("more arguments than args=" +
                   std::to_string(cur->numArgs));
      if (!parseFields(toks, 2, f, why))
        return bad(why);
      ArgInfo a;
      auto take = [&](const char *key, std::string &out) {
        auto it = f.find(key);
        if (it == f.end())
          return false;
        out = it->second;
        f.erase(it);
        return true;
      };
      std::string dtype;
      if (!take("name", a.name) || !take("kind", a.kind) ||
          !take("dtype", dtype))
        return bad("arg needs name=, kind= and dtype=");
      if (!parseDtype(dtype, a.dtype))
        return bad("unknown dtype '" + dtype + "'");
      if (a.kind == "tensor") {
        std::string shape;
        if (!take("shape", shape) || !take("role", a.role))
          return bad("tensor arg needs shape= and role=");
        if (a.role != "input" && a.role != "output" &&
            a.role != "past_lens" && a.role != "kv_lens")
          return bad("unknown role '" + a.role + "'");
        size_t s = 0;
        while (true) {
          size_t x = shape.find('x', s);
          int64_t d;
          if (!parseInt(shape.substr(s, x - s), d) || d > (1LL << 40))
            return bad("bad shape '" + shape + "'");
          a.shape.push_back(d);
          if (a.numElements > (1LL << 40) / (d ? d : 1))
            return bad("shape '" + shape + "' too large");
          a.numElements *= d;
          if (x == std::string::npos)
            break;
          s = x + 1;
        }
        if ((a.role == "past_lens" || a.role == "kv_lens") &&
            (a.dtype != KVFUSE_I32 || a.shape.size() != 1))
          return bad("lengths must be a 1-D i32 tensor");
      } else if (a.kind == "cache") {
        a.role = "cache";
        if (a.dtype != KVFUSE_F32 && a.dtype != KVFUSE_F16 &&
            a.dtype != KVFUSE_BF16)
          return bad("cache dtype must be f32, f16 or bf16");
        a.spec.dtype = a.dtype;
        std::string layout;
        const char *ints[] = {"heads", "head_dim", "value_dim", "capacity",
                              "page_size", "pages_per_seq"};
        int64_t *dst[] = {&a.spec.heads,    &a.spec.head_dim,
                          &a.spec.value_dim, &a.spec.capacity,
                          &a.spec.page_size, &a.pagesPerSeq};
        for (int i = 0; i < 6; ++i) {
          std::string v;
          if (!take(ints[i], v))
            return bad(std::string("cache arg needs ") + ints[i] + "=");
          if (!parseInt(v, *dst[i]) || *dst[i] <= 0 || *dst[i] > (1 << 30))
            return bad(std::string("bad ") + ints[i] + " '" + v + "'");
        }
        if (!take("layout", layout))
          return bad("cache arg needs layout=");
        if (layout == "contiguous")
          a.spec.layout = KVFUSE_LAYOUT_CONTIGUOUS;
        else if (layout == "paged")
          a.spec.layout = KVFUSE_LAYOUT_PAGED;
        else
          return bad("unknown layout '" + layout + "'");
        int64_t want = (a.spec.capacity + a.spec.page_size - 1) /
                       a.spec.page_size;
        if (a.pagesPerSeq != want ||
            (a.spec.layout == KVFUSE_LAYOUT_CONTIGUOUS &&
             a.spec.page_size != a.spec.capacity))
          return bad("inconsistent capacity/page_size/pages_per_seq");
      } else {
        return bad("unknown kind '" + a.kind + "'");
      }
      if (!f.empty())
        return bad("unknown arg field '" + f.begin()->first + "'");
      for (const ArgInfo &o : cur->args)
        if (o.name == a.name)
          return bad("duplicate argument name '" + a.name + "'");
      cur->args.push_back(std::move(a));
      continue;
    }
    }
  }
  const char *missing = state == Header    ? "the header"
                        : state == Abi     ? "the abi line"
                        : state == Library ? "the library line"
                        : state == InEntry ? "'end' of the last entry"
                                           : nullptr;
  if (missing)
    return fail(KVFUSE_ERR_CORRUPT_MANIFEST,
                "manifest line %d: truncated, missing %s",
                (int)lines.size() + 1, missing);
  if (art.entries.empty())
    return fail(KVFUSE_ERR_CORRUPT_MANIFEST,
                "manifest line %d: no entries", (int)lines.size() + 1);
  return KVFUSE_OK;
}

bool sameSpec(const kvfuse_cache_spec &a, const kvfuse_cache_spec &b) {
  return a.dtype == b.dtype && a.heads == b.heads &&
         a.head_dim == b.head_dim && a.value_dim == b.value_dim &&
         a.capacity == b.capacity && a.layout == b.layout &&
         a.page_size == b.page_size;
}


/// Which way kvfuse_cache_read_pools and kvfuse_cache_write_pools copy.
enum class PoolCopy { ToHost, ToCache };

/// Copies both pools of `cache` to or from host memory; a null host pool is
/// left out. Only the destination side is written (so reading may pass a
/// const cache, and writing const host pools, through the casts).
kvfuse_status copyPools(kvfuse_cache *cache, PoolCopy dir, void *keyHost,
                        void *valueHost) {
  if (!cache)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null cache");
  bool toCache = dir == PoolCopy::ToCache;
  if (!cache->onDevice) {
    auto copy = [&](std::vector<unsigned char> &pool, void *host,
                    size_t bytes) {
      if (host && toCache)
        memcpy(pool.data(), host, bytes);
      else if (host)
        memcpy(host, pool.data(), bytes);
    };
    copy(cache->keyPool, keyHost, cache->keyBytes);
    copy(cache->valuePool, valueHost, cache->valueBytes);
    return KVFUSE_OK;
  }
  kvfuse::cuda::Device *device;
  if (kvfuse_status st = openDevice(device))
    return st;
  auto copy = [&](kvfuse::cuda::DevicePtr pool, void *host,
                  size_t bytes) -> std::string {
    if (!host)
      return "";
    return toCache ? device->upload(pool, host, bytes)
                   : device->download(host, pool, bytes);
  };
  std::string err = copy(cache->keyDevice, keyHost, cache->keyBytes);
  if (err.empty())
    err = copy(cache->valueDevice, valueHost, cache->valueBytes);
  if (!err.empty())
    return fail(KVFUSE_ERR_DEVICE, "%s cache pools: %s",
                toCache ? "writing" : "reading", err.c_str());
  return KVFUSE_OK;
}

/// Points `seq` at sequence `seqId` of `cache` (const or not), or fails with
/// KVFUSE_ERR_NOT_FOUND.
template <typename Cache, typename Seq>
kvfuse_status findSeq(Cache &cache, int64_t seqId, Seq *&seq) {
  auto it = cache.seqs.find(seqId);
  if (it == cache.seqs.end())
    return fail(KVFUSE_ERR_NOT_FOUND, "no sequence %lld in the cache",
                (long long)seqId);
  seq = &it->second;
  return KVFUSE_OK;
}

} // namespace

extern "C" {

const char *kvfuse_last_error(void) { return lastError.c_str(); }

int64_t kvfuse_dtype_size(kvfuse_dtype dtype) {
  switch (dtype) {
  case KVFUSE_F32:
  case KVFUSE_I32:
    return 4;
  case KVFUSE_F16:
  case KVFUSE_BF16:
    return 2;
  case KVFUSE_I1:
    return 1;
  }
  return 0;
}

kvfuse_status kvfuse_artifact_parse_manifest(const char *text,
                                             kvfuse_artifact **out) {
  if (!text || !out)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null argument");
  *out = nullptr;
  std::unique_ptr<kvfuse_artifact> art(new (std::nothrow) kvfuse_artifact);
  if (!art)
    return fail(KVFUSE_ERR_OUT_OF_MEMORY, "out of memory");
  if (kvfuse_status st = parseManifest(text, *art))
    return st;
  *out = art.release();
  return KVFUSE_OK;
}

namespace {

bool readFile(const std::string &path, std::string &text) {
  FILE *f = fopen(path.c_str(), "rb");
  if (!f)
    return false;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    text.append(buf, n);
  fclose(f);
  return true;
}

/// Loads the artifact's cubin (when present and loadable on this device)
/// or its PTX, and checks that every launched kernel exists.
kvfuse_status loadGpuModule(kvfuse_artifact &art) {
  kvfuse::cuda::Device *device;
  if (kvfuse_status st = openDevice(device))
    return st;
  std::string image, err;
  if (!art.cubin.empty() && readFile(art.dir + "/" + art.cubin, image))
    err = device->loadModule(image, art.module);
  if (art.module < 0) {
    std::string ptxPath = art.dir + "/" + art.library, ptx;
    if (!readFile(ptxPath, ptx))
      return fail(KVFUSE_ERR_IO, "cannot open %s: %s", ptxPath.c_str(),
                  strerror(errno));
    std::string ptxErr = device->loadModule(ptx, art.module);
    if (!ptxErr.empty())
      return fail(KVFUSE_ERR_DEVICE, "%s: %s%s%s", ptxPath.c_str(),
                  ptxErr.c_str(), err.empty() ? "" : "; cubin: ",
                  err.c_str());
  }
  for (const EntryInfo &e : art.entries)
    for (const GpuStep &step : e.steps)
      if (!step.isCopy) {
        std::string missing =
            device->findFunction(art.module, step.launch.symbol);
        if (!missing.empty())
          return fail(KVFUSE_ERR_SYMBOL, "%s: entry '%s' launches '%s': %s",
                      art.dir.c_str(), e.name.c_str(),
                      step.launch.symbol.c_str(), missing.c_str());
      }
  return KVFUSE_OK;
}

} // namespace

const char *kvfuse_artifact_target(const kvfuse_artifact *artifact) {
  if (!artifact)
    return "";
  static thread_local std::string target;
  target = artifact->gpu ? "nvvm:" + artifact->chip : "cpu";
  return target.c_str();
}

kvfuse_status kvfuse_artifact_load(const char *dir, kvfuse_artifact **out) {
  if (!dir || !out)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null argument");
  *out = nullptr;
  std::string path = std::string(dir) + "/manifest.txt";
  FILE *f = fopen(path.c_str(), "rb");
  if (!f)
    return fail(KVFUSE_ERR_IO, "cannot open %s: %s", path.c_str(),
                strerror(errno));
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    text.append(buf, n);
  fclose(f);
  if (text.find('\0') != std::string::npos)
    return fail(KVFUSE_ERR_CORRUPT_MANIFEST, "%s: contains a NUL byte",
                path.c_str());
  kvfuse_artifact *art;
  if (kvfuse_status st = kvfuse_artifact_parse_manifest(text.c_str(), &art))
    return st;
  std::unique_ptr<kvfuse_artifact> owned(art);
  owned->dir = dir;
  if (owned->gpu) {
    if (kvfuse_status st = loadGpuModule(*owned))
      return st;
    *out = owned.release();
    return KVFUSE_OK;
  }
  std::string lib = owned->dir + "/" + owned->library;
  owned->handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!owned->handle) {
    const char *e = dlerror();
    return fail(KVFUSE_ERR_IO, "cannot load %s: %s", lib.c_str(),
                e ? e : "unknown error");
  }
  for (EntryInfo &e : owned->entries) {
    void *sym = dlsym(owned->handle, e.symbol.c_str());
    if (!sym)
      return fail(KVFUSE_ERR_SYMBOL, "%s: missing symbol '%s' of entry '%s'",
                  lib.c_str(), e.symbol.c_str(), e.name.c_str());
    e.fn = reinterpret_cast<void (*)(void **)>(sym);
  }
  *out = owned.release();
  return KVFUSE_OK;
}

void kvfuse_artifact_free(kvfuse_artifact *artifact) { delete artifact; }

kvfuse_status kvfuse_artifact_entry(const kvfuse_artifact *artifact,
                                    const char *entry, int64_t *num_args,
                                    int64_t *step_tokens) {
  if (!artifact)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null artifact");
  const EntryInfo *e = artifact->find(entry);
  if (!e)
    return fail(KVFUSE_ERR_NOT_FOUND, "no entry '%s' in the artifact",
                entry ? entry : "(null)");
  if (num_args)
    *num_args = e->numArgs;
  if (step_tokens)
    *step_tokens = e->stepTokens;
  return KVFUSE_OK;
}

kvfuse_status kvfuse_artifact_arg(const kvfuse_artifact *artifact,
                                  const char *entry, int64_t index,
                                  const char **name, const char **kind,
                                  const char **role, kvfuse_dtype *dtype,
                                  int64_t *num_elements,
                                  kvfuse_cache_spec *spec) {
  if (kvfuse_status st = kvfuse_artifact_entry(artifact, entry, nullptr,
                                               nullptr))
    return st;
  const EntryInfo *e = artifact->find(entry);
  if (index < 0 || index >= e->numArgs)
    return fail(KVFUSE_ERR_NOT_FOUND, "entry '%s' has no argument %lld",
                entry, (long long)index);
  const ArgInfo &a = e->args[index];
  if (name)
    *name = a.name.c_str();
  if (kind)
    *kind = a.kind.c_str();
  if (role)
    *role = a.role.c_str();
  if (dtype)
    *dtype = a.dtype;
  if (num_elements)
    *num_elements = a.kind == "tensor" ? a.numElements : 0;
  if (spec)
    *spec = a.spec;
  return KVFUSE_OK;
}

namespace {
kvfuse_status createCache(const kvfuse_cache_spec *spec, int64_t max_seqs,
                          int64_t num_pages, bool onDevice,
                          kvfuse_cache **out) {
  if (!spec || !out)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null argument");
  *out = nullptr;
  const kvfuse_cache_spec &s = *spec;
  if (s.dtype != KVFUSE_F32 && s.dtype != KVFUSE_F16 && s.dtype != KVFUSE_BF16)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                "cache dtype must be f32, f16 or bf16");
  const int64_t lim = 1 << 30;
  if (s.heads <= 0 || s.head_dim <= 0 || s.value_dim <= 0 ||
      s.capacity <= 0 || s.page_size <= 0 || s.heads > lim ||
      s.head_dim > lim || s.value_dim > lim || s.capacity > lim ||
      s.page_size > lim || max_seqs <= 0 || max_seqs > lim || num_pages < 0 ||
      num_pages > INT32_MAX)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                "cache sizes must be positive and below 2^30");
  if (s.layout == KVFUSE_LAYOUT_CONTIGUOUS && s.page_size != s.capacity)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                "a contiguous cache has page_size == capacity");
  if (s.layout != KVFUSE_LAYOUT_CONTIGUOUS && s.layout != KVFUSE_LAYOUT_PAGED)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "unknown layout");
  std::unique_ptr<kvfuse_cache> c(new (std::nothrow) kvfuse_cache);
  if (!c)
    return fail(KVFUSE_ERR_OUT_OF_MEMORY, "out of memory");
  c->spec = s;
  c->maxSeqs = max_seqs;
  c->pagesPerSeq = (s.capacity + s.page_size - 1) / s.page_size;
  if (s.layout == KVFUSE_LAYOUT_CONTIGUOUS)
    c->numPages = max_seqs;
  else
    c->numPages = num_pages ? num_pages : max_seqs * c->pagesPerSeq;
  if (c->numPages > INT32_MAX)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "too many pages");
  long double kBytes = (long double)c->numPages * s.heads * s.page_size *
                       s.head_dim * kvfuse_dtype_size(s.dtype);
  long double vBytes = (long double)c->numPages * s.heads * s.page_size *
                       s.value_dim * kvfuse_dtype_size(s.dtype);
  if (kBytes > (1LL << 40) || vBytes > (1LL << 40))
    return fail(KVFUSE_ERR_OUT_OF_MEMORY, "cache pools too large");
  c->keyBytes = (size_t)kBytes;
  c->valueBytes = (size_t)vBytes;
  if (onDevice) {
    kvfuse::cuda::Device *device;
    if (kvfuse_status st = openDevice(device))
      return st;
    c->onDevice = true;
    std::string err = device->alloc(c->keyDevice, c->keyBytes);
    if (err.empty())
      err = device->alloc(c->valueDevice, c->valueBytes);
    if (err.empty())
      err = device->fill32(c->keyDevice, 0, (c->keyBytes + 3) / 4);
    if (err.empty())
      err = device->fill32(c->valueDevice, 0, (c->valueBytes + 3) / 4);
    if (!err.empty())
      return fail(KVFUSE_ERR_DEVICE, "device cache: %s", err.c_str());
  } else {
    c->keyPool.resize(c->keyBytes);
    c->valuePool.resize(c->valueBytes);
  }
  // Pages are handed out lowest id first.
  for (int64_t p = c->numPages - 1; p >= 0; --p)
    c->freePages.push_back((int32_t)p);
  *out = c.release();
  return KVFUSE_OK;
}

} // namespace

kvfuse_status kvfuse_cache_create(const kvfuse_cache_spec *spec,
                                  int64_t max_seqs, int64_t num_pages,
                                  kvfuse_cache **out) {
  return createCache(spec, max_seqs, num_pages, /*onDevice=*/false, out);
}

kvfuse_status kvfuse_cache_create_on_device(const kvfuse_cache_spec *spec,
                                            int64_t max_seqs,
                                            int64_t num_pages,
                                            kvfuse_cache **out) {
  return createCache(spec, max_seqs, num_pages, /*onDevice=*/true, out);
}

int kvfuse_cache_is_on_device(const kvfuse_cache *cache) {
  return cache && cache->onDevice;
}

void kvfuse_cache_pool_bytes(const kvfuse_cache *cache, int64_t *key_bytes,
                             int64_t *value_bytes) {
  if (key_bytes)
    *key_bytes = cache ? (int64_t)cache->keyBytes : 0;
  if (value_bytes)
    *value_bytes = cache ? (int64_t)cache->valueBytes : 0;
}

kvfuse_status kvfuse_cache_read_pools(const kvfuse_cache *cache,
                                      void *key_pool, void *value_pool) {
  return copyPools(const_cast<kvfuse_cache *>(cache), PoolCopy::ToHost,
                   key_pool, value_pool);
}

kvfuse_status kvfuse_cache_write_pools(kvfuse_cache *cache,
                                       const void *key_pool,
                                       const void *value_pool) {
  return copyPools(cache, PoolCopy::ToCache, const_cast<void *>(key_pool),
                   const_cast<void *>(value_pool));
}

void kvfuse_cache_free(kvfuse_cache *cache) { delete cache; }

kvfuse_status kvfuse_cache_add_sequence(kvfuse_cache *cache,
                                        int64_t *seq_id) {
  if (!cache || !seq_id)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null argument");
  if ((int64_t)cache->seqs.size() >= cache->maxSeqs)
    return fail(KVFUSE_ERR_CACHE_FULL, "cache holds its maximum of %lld "
                "sequences", (long long)cache->maxSeqs);
  kvfuse_cache::Seq seq;
  if (cache->spec.layout == KVFUSE_LAYOUT_CONTIGUOUS) {
    // A contiguous sequence owns its slot from the start.
    seq.pages.push_back(cache->freePages.back());
    cache->freePages.pop_back();
  }
  *seq_id = cache->nextId++;
  cache->seqs.emplace(*seq_id, std::move(seq));
  return KVFUSE_OK;
}

kvfuse_status kvfuse_cache_extend_sequence(kvfuse_cache *cache,
                                           int64_t seq_id, int64_t tokens) {
  if (!cache || tokens < 0)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null cache or negative tokens");
  kvfuse_cache::Seq *seq;
  if (kvfuse_status st = findSeq(*cache, seq_id, seq))
    return st;
  kvfuse_cache::Seq &s = *seq;
  if (tokens > cache->spec.capacity - s.length)
    return fail(KVFUSE_ERR_CACHE_FULL,
                "sequence %lld holds %lld of %lld tokens; %lld more do not "
                "fit",
                (long long)seq_id, (long long)s.length,
                (long long)cache->spec.capacity, (long long)tokens);
  if (cache->spec.layout == KVFUSE_LAYOUT_PAGED) {
    int64_t want = (s.length + tokens + cache->spec.page_size - 1) /
                   cache->spec.page_size;
    if (want - (int64_t)s.pages.size() > (int64_t)cache->freePages.size())
      return fail(KVFUSE_ERR_OUT_OF_PAGES, "%lld new pages needed, %lld free",
                  (long long)(want - (int64_t)s.pages.size()),
                  (long long)cache->freePages.size());
    while ((int64_t)s.pages.size() < want) {
      s.pages.push_back(cache->freePages.back());
      cache->freePages.pop_back();
    }
  }
  s.length += tokens;
  return KVFUSE_OK;
}

kvfuse_status kvfuse_cache_remove_sequence(kvfuse_cache *cache,
                                           int64_t seq_id) {
  if (!cache)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null cache");
  kvfuse_cache::Seq *seq;
  if (kvfuse_status st = findSeq(*cache, seq_id, seq))
    return st;
  for (auto p = seq->pages.rbegin(); p != seq->pages.rend(); ++p)
    cache->freePages.push_back(*p);
  cache->seqs.erase(seq_id);
  return KVFUSE_OK;
}

kvfuse_status kvfuse_cache_sequence_length(const kvfuse_cache *cache,
                                           int64_t seq_id, int64_t *length) {
  if (!cache || !length)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null argument");
  const kvfuse_cache::Seq *seq;
  if (kvfuse_status st = findSeq(*cache, seq_id, seq))
    return st;
  *length = seq->length;
  return KVFUSE_OK;
}

int64_t kvfuse_cache_free_pages(const kvfuse_cache *cache) {
  return cache ? (int64_t)cache->freePages.size() : 0;
}

void kvfuse_cache_reset(kvfuse_cache *cache) {
  if (!cache)
    return;
  cache->seqs.clear();
  cache->freePages.clear();
  for (int64_t p = cache->numPages - 1; p >= 0; --p)
    cache->freePages.push_back((int32_t)p);
}

void *kvfuse_cache_key_pool(kvfuse_cache *cache) {
  return cache && !cache->onDevice ? cache->keyPool.data() : nullptr;
}
void *kvfuse_cache_value_pool(kvfuse_cache *cache) {
  return cache && !cache->onDevice ? cache->valuePool.data() : nullptr;
}

kvfuse_status kvfuse_cache_sequence_pages(const kvfuse_cache *cache,
                                          int64_t seq_id,
                                          const int32_t **pages,
                                          int64_t *num_pages) {
  if (!cache || !pages || !num_pages)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null argument");
  const kvfuse_cache::Seq *seq;
  if (kvfuse_status st = findSeq(*cache, seq_id, seq))
    return st;
  *pages = seq->pages.data();
  *num_pages = (int64_t)seq->pages.size();
  return KVFUSE_OK;
}

namespace {

/// One step of a GPU entry: binds device buffers to the manifest's names,
/// copies inputs, outputs, lengths and page tables to the device, runs the
/// launches and copies in order, waits, and copies the outputs back.
kvfuse_status runGpuEntry(kvfuse_artifact &art, const EntryInfo &e,
                          const std::vector<void *> &ptrs,
                          const std::vector<std::vector<int32_t>> &tables,
                          const std::vector<kvfuse_cache *> &cacheOfArg,
                          bool deviceTensors) {
  kvfuse::cuda::Device *device;
  if (kvfuse_status st = openDevice(device))
    return st;
  auto deviceError = [&](const std::string &err) {
    return fail(KVFUSE_ERR_DEVICE, "entry '%s': %s", e.name.c_str(),
                err.c_str());
  };
  GpuBuffers &buf = const_cast<EntryInfo &>(e).buffers;
  size_t n = e.args.size();
  if (!buf.allocated) {
    buf.args.assign(n, 0);
    buf.tables.assign(n, 0);
    buf.scratch.assign(e.scratchBytes.size(), 0);
    for (size_t k = 0; k < n; ++k) {
      const ArgInfo &a = e.args[k];
      std::string err;
      if (a.kind == "tensor")
        err = device->alloc(buf.args[k],
                            a.numElements * kvfuse_dtype_size(a.dtype));
      else
        // The table of the largest batch the lengths allow.
        err = device->alloc(buf.tables[k], sizeof(int32_t) * a.pagesPerSeq *
                                               std::max<int64_t>(1, maxBatch(e)));
      if (!err.empty())
        return deviceError(err);
    }
    for (size_t i = 0; i < e.scratchBytes.size(); ++i)
      if (std::string err = device->alloc(buf.scratch[i], e.scratchBytes[i]);
          !err.empty())
        return deviceError(err);
    buf.allocated = true;
  }
  std::map<std::string, kvfuse::cuda::DevicePtr> names;
  for (size_t k = 0; k < n; ++k) {
    const ArgInfo &a = e.args[k];
    std::string id = "a" + std::to_string(k), err;
    bool lengths = a.role == "past_lens" || a.role == "kv_lens";
    if (a.kind == "tensor" && deviceTensors && !lengths) {
      // The caller's device buffer, used in place.
      names[id] = (kvfuse::cuda::DevicePtr)(uintptr_t)ptrs[k];
    } else if (a.kind == "tensor") {
      names[id] = buf.args[k];
      err = device->upload(buf.args[k], ptrs[k],
                           a.numElements * kvfuse_dtype_size(a.dtype));
    } else {
      const kvfuse_cache *c = cacheOfArg[k];
      names[id + ".keys"] = c->keyDevice;
      names[id + ".values"] = c->valueDevice;
      names[id + ".table"] = buf.tables[k];
      if ((int64_t)tables[k].size() > a.pagesPerSeq * maxBatch(e))
        return fail(KVFUSE_ERR_SHAPE_MISMATCH,
                    "entry '%s': batch larger than its lengths allow",
                    e.name.c_str());
      err = device->upload(buf.tables[k], tables[k].data(),
                           tables[k].size() * sizeof(int32_t));
    }
    if (!err.empty())
      return deviceError(err);
  }
  for (size_t i = 0; i < buf.scratch.size(); ++i)
    names["s" + std::to_string(i)] = buf.scratch[i];
  for (const GpuStep &step : e.steps) {
    std::string err =
        step.isCopy ? device->copy(names[step.copyDst], names[step.copySrc],
                                   (size_t)step.copyBytes)
                    : device->launch(art.module, step.launch, names);
    if (!err.empty())
      return deviceError(err);
  }
  if (std::string err = device->synchronize(); !err.empty())
    return deviceError(err);
  for (size_t k = 0; k < n && !deviceTensors; ++k) {
    const ArgInfo &a = e.args[k];
    if (a.kind != "tensor" || a.role != "output")
      continue;
    if (std::string err =
            device->download(ptrs[k], buf.args[k],
                             a.numElements * kvfuse_dtype_size(a.dtype));
        !err.empty())
      return deviceError(err);
  }
  return KVFUSE_OK;
}

} // namespace

namespace {

kvfuse_status runStep(kvfuse_artifact *artifact, const char *entry,
                      const kvfuse_binding *bindings, int64_t num_bindings,
                      const int64_t *seq_ids, int64_t batch,
                      bool deviceTensors) {
  if (!artifact || !entry)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null artifact or entry");
  if (deviceTensors && !artifact->gpu)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                "kvfuse_run_device needs a GPU artifact; this one is for the "
                "CPU");
  if (num_bindings < 0 || (num_bindings && !bindings) || batch < 0 ||
      (batch && !seq_ids))
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "bad binding or batch arrays");
  const EntryInfo *e = artifact->find(entry);
  if (!e)
    return fail(KVFUSE_ERR_NOT_FOUND, "no entry '%s' in the artifact", entry);
  if (artifact->gpu ? artifact->module < 0 : !e->fn)
    return fail(KVFUSE_ERR_SYMBOL, "entry '%s' has no loaded code", entry);
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t j = 0; j < i; ++j)
      if (seq_ids[i] == seq_ids[j])
        return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                    "sequence %lld appears twice in the batch",
                    (long long)seq_ids[i]);
  // Match bindings to arguments by name.
  std::vector<const kvfuse_binding *> bound(e->args.size(), nullptr);
  for (int64_t i = 0; i < num_bindings; ++i) {
    const kvfuse_binding &b = bindings[i];
    if (!b.name)
      return fail(KVFUSE_ERR_INVALID_ARGUMENT, "binding %lld has no name",
                  (long long)i);
    size_t k = 0;
    while (k < e->args.size() && e->args[k].name != b.name)
      ++k;
    if (k == e->args.size())
      return fail(KVFUSE_ERR_NOT_FOUND, "entry '%s' has no argument '%s'",
                  entry, b.name);
    if (bound[k])
      return fail(KVFUSE_ERR_INVALID_ARGUMENT, "argument '%s' bound twice",
                  b.name);
    bound[k] = &b;
  }
  std::vector<std::vector<int32_t>> lens(e->args.size());
  std::vector<std::vector<int32_t>> tables(e->args.size());
  std::vector<kvfuse_cache_desc> descs(e->args.size());
  std::vector<void *> ptrs(e->args.size(), nullptr);
  std::vector<kvfuse_cache *> caches, cacheOfArg(e->args.size(), nullptr);
  for (size_t k = 0; k < e->args.size(); ++k) {
    const ArgInfo &a = e->args[k];
    const kvfuse_binding *b = bound[k];
    if (a.role == "past_lens" || a.role == "kv_lens") {
      if (b)
        return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                    "argument '%s' is filled by the runtime", a.name.c_str());
      if (a.numElements != batch)
        return fail(KVFUSE_ERR_SHAPE_MISMATCH,
                    "entry '%s' takes a batch of %lld sequences, got %lld",
                    entry, (long long)a.numElements, (long long)batch);
      continue;
    }
    if (!b)
      return fail(KVFUSE_ERR_INVALID_ARGUMENT, "argument '%s' is not bound",
                  a.name.c_str());
    if (a.kind == "tensor") {
      int64_t want = a.numElements * kvfuse_dtype_size(a.dtype);
      if (b->cache || (!b->data && want) || b->num_bytes != want)
        return fail(KVFUSE_ERR_SHAPE_MISMATCH,
                    "argument '%s' needs a tensor of %lld bytes, got %lld",
                    a.name.c_str(), (long long)want, (long long)b->num_bytes);
      ptrs[k] = b->data;
      continue;
    }
    kvfuse_cache *c = b->cache;
    if (!c)
      return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                  "argument '%s' needs a cache", a.name.c_str());
    if (!sameSpec(c->spec, a.spec))
      return fail(KVFUSE_ERR_SHAPE_MISMATCH,
                  "cache bound to '%s' does not match the manifest's spec",
                  a.name.c_str());
    for (kvfuse_cache *o : caches)
      if (o == c)
        return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                    "cache bound to '%s' is bound twice", a.name.c_str());
    if (c->onDevice != artifact->gpu)
      return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                  artifact->gpu ? "cache bound to '%s' is in host memory; "
                                  "GPU artifacts need "
                                  "kvfuse_cache_create_on_device"
                                : "cache bound to '%s' is in device memory; "
                                  "CPU artifacts need kvfuse_cache_create",
                  a.name.c_str());
    caches.push_back(c);
  }
  // Every bound cache must hold every sequence with room for the step, and
  // enough free pages for the whole batch.
  int64_t step = e->stepTokens;
  for (kvfuse_cache *c : caches) {
    int64_t needPages = 0;
    for (int64_t i = 0; i < batch; ++i) {
      kvfuse_cache::Seq *seq;
      if (kvfuse_status st = findSeq(*c, seq_ids[i], seq))
        return st;
      if (c != caches[0] &&
          seq->length != caches[0]->seqs[seq_ids[i]].length)
        return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                    "sequence %lld has different lengths in the bound caches",
                    (long long)seq_ids[i]);
      int64_t newLen = seq->length + step;
      if (newLen > c->spec.capacity)
        return fail(KVFUSE_ERR_CACHE_FULL,
                    "sequence %lld holds %lld of %lld tokens; a step of %lld "
                    "does not fit",
                    (long long)seq_ids[i], (long long)seq->length,
                    (long long)c->spec.capacity, (long long)step);
      if (c->spec.layout == KVFUSE_LAYOUT_PAGED)
        needPages += (newLen + c->spec.page_size - 1) / c->spec.page_size -
                     (int64_t)seq->pages.size();
    }
    if (needPages > (int64_t)c->freePages.size())
      return fail(KVFUSE_ERR_OUT_OF_PAGES,
                  "step needs %lld new pages, %lld free", (long long)needPages,
                  (long long)c->freePages.size());
  }
  // All checks passed: allocate pages and build the descriptors.
  size_t ci = 0;
  for (size_t k = 0; k < e->args.size(); ++k) {
    const ArgInfo &a = e->args[k];
    if (a.kind != "cache")
      continue;
    kvfuse_cache *c = caches[ci++];
    std::vector<int32_t> &t = tables[k];
    t.assign(batch * c->pagesPerSeq, 0); // unused entries: an in-bounds page
    for (int64_t i = 0; i < batch; ++i) {
      kvfuse_cache::Seq &s = c->seqs[seq_ids[i]];
      if (c->spec.layout == KVFUSE_LAYOUT_PAGED) {
        int64_t want =
            (s.length + step + c->spec.page_size - 1) / c->spec.page_size;
        while ((int64_t)s.pages.size() < want) {
          s.pages.push_back(c->freePages.back());
          c->freePages.pop_back();
        }
      }
      for (size_t p = 0; p < s.pages.size(); ++p)
        t[i * c->pagesPerSeq + p] = s.pages[p];
    }
    descs[k] = {c->keyPool.data(), c->valuePool.data(), t.data(),
                c->numPages, c->pagesPerSeq};
    ptrs[k] = &descs[k];
    cacheOfArg[k] = c;
  }
  // Lengths come from the first bound cache (all caches advance together).
  for (size_t k = 0; k < e->args.size(); ++k) {
    const ArgInfo &a = e->args[k];
    if (a.role != "past_lens" && a.role != "kv_lens")
      continue;
    if (caches.empty())
      return fail(KVFUSE_ERR_INVALID_ARGUMENT,
                  "entry '%s' has lengths but no cache", entry);
    lens[k].resize(batch);
    for (int64_t i = 0; i < batch; ++i) {
      int64_t len = caches[0]->seqs[seq_ids[i]].length;
      lens[k][i] = (int32_t)(a.role == "kv_lens" ? len + step : len);
    }
    ptrs[k] = lens[k].data();
  }
  if (artifact->gpu) {
    if (kvfuse_status st = runGpuEntry(*artifact, *e, ptrs, tables,
                                       cacheOfArg, deviceTensors))
      return st;
  } else {
    e->fn(ptrs.data());
  }
  for (kvfuse_cache *c : caches)
    for (int64_t i = 0; i < batch; ++i)
      c->seqs[seq_ids[i]].length += step;
  return KVFUSE_OK;
}

} // namespace

kvfuse_status kvfuse_run(kvfuse_artifact *artifact, const char *entry,
                         const kvfuse_binding *bindings, int64_t num_bindings,
                         const int64_t *seq_ids, int64_t batch) {
  return runStep(artifact, entry, bindings, num_bindings, seq_ids, batch,
                 /*deviceTensors=*/false);
}

kvfuse_status kvfuse_run_device(kvfuse_artifact *artifact, const char *entry,
                                const kvfuse_binding *bindings,
                                int64_t num_bindings, const int64_t *seq_ids,
                                int64_t batch) {
  return runStep(artifact, entry, bindings, num_bindings, seq_ids, batch,
                 /*deviceTensors=*/true);
}

kvfuse_status kvfuse_device_alloc(int64_t bytes, void **ptr) {
  if (!ptr || bytes < 0)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null pointer or negative size");
  *ptr = nullptr;
  kvfuse::cuda::Device *device;
  if (kvfuse_status st = openDevice(device))
    return st;
  kvfuse::cuda::DevicePtr p = 0;
  if (std::string err = device->alloc(p, (size_t)bytes); !err.empty())
    return fail(KVFUSE_ERR_DEVICE, "%s", err.c_str());
  *ptr = (void *)(uintptr_t)p;
  return KVFUSE_OK;
}

kvfuse_status kvfuse_device_free(void *ptr) {
  if (!ptr)
    return KVFUSE_OK;
  kvfuse::cuda::Device *device;
  if (kvfuse_status st = openDevice(device))
    return st;
  if (std::string err = device->free((kvfuse::cuda::DevicePtr)(uintptr_t)ptr);
      !err.empty())
    return fail(KVFUSE_ERR_DEVICE, "%s", err.c_str());
  return KVFUSE_OK;
}

kvfuse_status kvfuse_device_copy(void *dst, const void *src, int64_t bytes,
                                 int to_device) {
  if (!dst || !src || bytes < 0)
    return fail(KVFUSE_ERR_INVALID_ARGUMENT, "null pointer or negative size");
  kvfuse::cuda::Device *device;
  if (kvfuse_status st = openDevice(device))
    return st;
  std::string err =
      to_device ? device->upload((kvfuse::cuda::DevicePtr)(uintptr_t)dst, src,
                                 (size_t)bytes)
                : device->download(dst,
                                   (kvfuse::cuda::DevicePtr)(uintptr_t)src,
                                   (size_t)bytes);
  if (!err.empty())
    return fail(KVFUSE_ERR_DEVICE, "%s", err.c_str());
  return KVFUSE_OK;
}

} // extern "C"
