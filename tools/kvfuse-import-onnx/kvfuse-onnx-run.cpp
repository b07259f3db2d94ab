//===- kvfuse-onnx-run.cpp - Run an artifact on ONNX backend test data ----===//
//
// Usage: kvfuse-onnx-run <X.kvf> <entry> <test_dir> [rtol] [atol]
//
// Loads the artifact's shared object, feeds the entry the tensors of
// <test_dir>/test_data_set_0/input_*.pb (matched to arguments by name),
// poisons the outputs with NaN, runs the entry once and compares every output
// element with output_*.pb (matched through the graph outputs of
// <test_dir>/model.onnx, whose order is the entry's result order):
// |got - want| <= atol + rtol * |want|. Prints one line per output and exits
// 0 when all match, 1 on a mismatch, 2 on any other error.
//
// This tool needs no MLIR: it reads the manifest and calls the C ABI.
//
//===----------------------------------------------------------------------===//

#include <onnx/onnx_pb.h>

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Arg {
  std::string name, kind, dtype, role;
  std::vector<int64_t> shape;
  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  size_t elementSize() const {
    if (dtype == "f32" || dtype == "i32")
      return 4;
    if (dtype == "f16" || dtype == "bf16")
      return 2;
    return 1; // i1 is one byte per element.
  }
};

struct Entry {
  std::string symbol;
  std::vector<Arg> args;
};

int fail(const std::string &message) {
  std::fprintf(stderr, "kvfuse-onnx-run: error: %s\n", message.c_str());
  return 2;
}

bool readFile(const std::string &path, std::string &bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream os;
  os << in.rdbuf();
  bytes = os.str();
  return true;
}

/// Reads the manifest's library and the entry named `entryName`.
bool readManifest(const std::string &dir, const std::string &entryName,
                  std::string &library, Entry &entry, std::string &error) {
  std::ifstream in(dir + "/manifest.txt");
  if (!in) {
    error = "cannot read " + dir + "/manifest.txt";
    return false;
  }
  std::string line;
  bool inEntry = false, found = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream words(line);
    std::string head;
    words >> head;
    std::map<std::string, std::string> fields;
    std::vector<std::string> plain;
    std::string word;
    while (words >> word) {
      size_t eq = word.find('=');
      if (eq == std::string::npos)
        plain.push_back(word);
      else
        fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
    if (head == "library" && !plain.empty()) {
      library = plain[0];
    } else if (head == "entry") {
      inEntry = !plain.empty() && plain[0] == entryName;
      if (inEntry) {
        found = true;
        entry.symbol = fields["symbol"];
      }
    } else if (head == "end") {
      inEntry = false;
    } else if (head == "arg" && inEntry) {
      Arg arg;
      arg.name = fields["name"];
      arg.kind = fields["kind"];
      arg.dtype = fields["dtype"];
      arg.role = fields["role"];
      std::string shape = fields["shape"];
      for (size_t pos = 0; !shape.empty() && pos <= shape.size();) {
        size_t x = shape.find('x', pos);
        if (x == std::string::npos)
          x = shape.size();
        arg.shape.push_back(std::atoll(shape.substr(pos, x - pos).c_str()));
        pos = x + 1;
      }
      entry.args.push_back(arg);
    }
  }
  if (!found)
    error = "manifest has no entry '" + entryName + "'";
  return found;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float value;
  if (exp == 0)
    value = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    value = mant ? NAN : INFINITY;
  else
    value = std::ldexp(static_cast<float>(mant | 0x400), int(exp) - 25);
  return sign ? -value : value;
}

float bf16ToFloat(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

/// The tensor's elements as doubles (for comparison) and as raw storage in
/// the argument's dtype (for feeding).
bool decodeTensor(const onnx::TensorProto &t, std::vector<double> &values,
                  std::string &error) {
  int64_t n = 1;
  for (int64_t d : t.dims())
    n *= d;
  values.assign(n, 0.0);
  const std::string &raw = t.raw_data();
  bool hasRaw = t.has_raw_data();
  for (int64_t i = 0; i < n; ++i) {
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: {
      float f;
      if (hasRaw)
        std::memcpy(&f, raw.data() + 4 * i, 4);
      else
        f = t.float_data(i);
      values[i] = f;
      break;
    }
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: {
      uint16_t h;
      if (hasRaw)
        std::memcpy(&h, raw.data() + 2 * i, 2);
      else
        h = static_cast<uint16_t>(t.int32_data(i));
      values[i] = t.data_type() == onnx::TensorProto::FLOAT16
                      ? halfToFloat(h)
                      : bf16ToFloat(h);
      break;
    }
    case onnx::TensorProto::BOOL:
      values[i] = hasRaw ? raw[i] != 0 : t.int32_data(i) != 0;
      break;
    case onnx::TensorProto::INT64: {
      int64_t x;
      if (hasRaw)
        std::memcpy(&x, raw.data() + 8 * i, 8);
      else
        x = t.int64_data(i);
      values[i] = static_cast<double>(x);
      break;
    }
    case onnx::TensorProto::INT32:
      if (hasRaw) {
        int32_t x;
        std::memcpy(&x, raw.data() + 4 * i, 4);
        values[i] = x;
      } else {
        values[i] = t.int32_data(i);
      }
      break;
    default:
      error = "tensor '" + t.name() + "' has unsupported data type " +
              std::to_string(t.data_type());
      return false;
    }
  }
  if (hasRaw) {
    size_t width = t.data_type() == onnx::TensorProto::INT64    ? 8
                   : t.data_type() == onnx::TensorProto::BOOL   ? 1
                   : t.data_type() == onnx::TensorProto::FLOAT16 ||
                           t.data_type() == onnx::TensorProto::BFLOAT16
                       ? 2
                       : 4;
    if (raw.size() != width * n) {
      error = "tensor '" + t.name() + "' raw data has the wrong size";
      return false;
    }
  }
  return true;
}

uint16_t floatToHalf(float f) {
  // Round to nearest even; inputs here are exact f16 values already.
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  int32_t exp = int32_t((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mant = bits & 0x7fffff;
  if (((bits >> 23) & 0xff) == 0xff)
    return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 31)
    return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10)
      return sign;
    mant |= 0x800000;
    uint32_t shift = 14 - exp;
    uint32_t h = mant >> shift;
    uint32_t rest = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (h & 1)))
      ++h;
    return sign | h;
  }
  uint32_t h = (uint32_t(exp) << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
    ++h;
  return sign | h;
}

void encode(const std::vector<double> &values, const Arg &arg,
            std::vector<uint8_t> &storage) {
  storage.assign(arg.count() * arg.elementSize(), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    if (arg.dtype == "f32") {
      float f = static_cast<float>(values[i]);
      std::memcpy(&storage[4 * i], &f, 4);
    } else if (arg.dtype == "f16") {
      uint16_t h = floatToHalf(static_cast<float>(values[i]));
      std::memcpy(&storage[2 * i], &h, 2);
    } else if (arg.dtype == "bf16") {
      float f = static_cast<float>(values[i]);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      uint16_t h = static_cast<uint16_t>(bits >> 16);
      std::memcpy(&storage[2 * i], &h, 2);
    } else if (arg.dtype == "i32") {
      int32_t x = static_cast<int32_t>(values[i]);
      std::memcpy(&storage[4 * i], &x, 4);
    } else {
      storage[i] = values[i] != 0.0;
    }
  }
}

double decodeElement(const Arg &arg, const std::vector<uint8_t> &storage,
                     size_t i) {
  if (arg.dtype == "f32") {
    float f;
    std::memcpy(&f, &storage[4 * i], 4);
    return f;
  }
  if (arg.dtype == "f16" || arg.dtype == "bf16") {
    uint16_t h;
    std::memcpy(&h, &storage[2 * i], 2);
    return arg.dtype == "f16" ? halfToFloat(h) : bf16ToFloat(h);
  }
  if (arg.dtype == "i32") {
    int32_t x;
    std::memcpy(&x, &storage[4 * i], 4);
    return x;
  }
  return storage[i];
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 4)
    return fail("usage: kvfuse-onnx-run <X.kvf> <entry> <test_dir> "
                "[rtol] [atol]");
  std::string artifact = argv[1], entryName = argv[2], testDir = argv[3];
  double rtol = argc > 4 ? std::atof(argv[4]) : 1e-3;
  double atol = argc > 5 ? std::atof(argv[5]) : 1e-5;

  std::string library, error;
  Entry entry;
  if (!readManifest(artifact, entryName, library, entry, error))
    return fail(error);

  std::string modelBytes;
  onnx::ModelProto model;
  if (!readFile(testDir + "/model.onnx", modelBytes) ||
      !model.ParseFromString(modelBytes))
    return fail("cannot read " + testDir + "/model.onnx");

  // Test data by tensor name.
  std::map<std::string, onnx::TensorProto> inputs, outputs;
  for (int which = 0; which < 2; ++which) {
    for (int i = 0;; ++i) {
      std::string path = testDir + "/test_data_set_0/" +
                         (which ? "output_" : "input_") + std::to_string(i) +
                         ".pb";
      std::string bytes;
      if (!readFile(path, bytes))
        break;
      onnx::TensorProto tensor;
      if (!tensor.ParseFromString(bytes))
        return fail("cannot parse " + path);
      (which ? outputs : inputs)[tensor.name()] = tensor;
    }
  }

  std::vector<std::vector<uint8_t>> storage(entry.args.size());
  std::vector<void *> pointers(entry.args.size());
  std::vector<std::string> expectedNames(entry.args.size());
  int outputIndex = 0;
  for (size_t a = 0; a < entry.args.size(); ++a) {
    const Arg &arg = entry.args[a];
    if (arg.kind != "tensor")
      return fail("argument '" + arg.name + "' is a " + arg.kind +
                  "; only tensor arguments are supported");
    if (arg.role == "output") {
      if (outputIndex >= model.graph().output_size())
        return fail("the entry has more outputs than the model");
      expectedNames[a] = model.graph().output(outputIndex++).name();
      if (!outputs.count(expectedNames[a]))
        return fail("no expected data for output '" + expectedNames[a] + "'");
      // Poison: NaN for floats, so unwritten elements are caught.
      std::vector<double> poison(arg.count(), NAN);
      encode(poison, arg, storage[a]);
    } else if (arg.role == "input" || arg.role.empty()) {
      auto it = inputs.find(arg.name);
      if (it == inputs.end())
        return fail("no test data for input '" + arg.name + "'");
      std::vector<double> values;
      if (!decodeTensor(it->second, values, error))
        return fail(error);
      if (static_cast<int64_t>(values.size()) != arg.count())
        return fail("input '" + arg.name + "' has " +
                    std::to_string(values.size()) + " elements, manifest " +
                    "expects " + std::to_string(arg.count()));
      encode(values, arg, storage[a]);
    } else {
      return fail("argument '" + arg.name + "' has unsupported role '" +
                  arg.role + "'");
    }
    pointers[a] = storage[a].data();
  }

  std::string soPath = artifact + "/" + library;
  void *handle = dlopen(soPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return fail(std::string("dlopen: ") + dlerror());
  using EntryFn = void (*)(void **);
  auto fn = reinterpret_cast<EntryFn>(dlsym(handle, entry.symbol.c_str()));
  if (!fn)
    return fail("symbol '" + entry.symbol + "' not found in " + soPath);
  fn(pointers.data());

  bool ok = true;
  for (size_t a = 0; a < entry.args.size(); ++a) {
    const Arg &arg = entry.args[a];
    if (arg.role != "output")
      continue;
    std::vector<double> want;
    if (!decodeTensor(outputs[expectedNames[a]], want, error))
      return fail(error);
    if (static_cast<int64_t>(want.size()) != arg.count())
      return fail("output '" + expectedNames[a] + "' has the wrong size");
    double maxErr = 0.0;
    int64_t bad = 0, firstBad = -1;
    for (size_t i = 0; i < want.size(); ++i) {
      double got = decodeElement(arg, storage[a], i);
      double err = std::fabs(got - want[i]);
      bool match = std::isnan(want[i]) ? std::isnan(got)
                                       : !std::isnan(got) &&
                                             err <= atol + rtol *
                                                       std::fabs(want[i]);
      if (!match) {
        if (firstBad < 0)
          firstBad = static_cast<int64_t>(i);
        ++bad;
      }
      if (!std::isnan(err) && err > maxErr)
        maxErr = err;
    }
    std::printf("output %s: %s, %zu elements, max abs error %.3g", 
                expectedNames[a].c_str(), bad ? "MISMATCH" : "ok",
                want.size(), maxErr);
    if (bad)
      std::printf(", %lld bad, first at %lld (got %g, want %g)",
                  static_cast<long long>(bad),
                  static_cast<long long>(firstBad),
                  decodeElement(arg, storage[a], firstBad), want[firstBad]);
    std::printf("\n");
    ok &= bad == 0;
  }
  return ok ? 0 : 1;
}
