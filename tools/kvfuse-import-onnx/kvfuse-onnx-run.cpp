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

#include "OnnxTestData.h"

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

using namespace kvfuse::onnxtest;

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

  onnx::ModelProto model;
  std::map<std::string, onnx::TensorProto> inputs, outputs;
  if (!readTestCase(testDir, model, inputs, outputs, error))
    return fail(error);

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
    std::vector<double> got(want.size());
    for (size_t i = 0; i < want.size(); ++i)
      got[i] = decodeElement(arg, storage[a], i);
    ok &= compareOutput(expectedNames[a], got, want, rtol, atol);
  }
  return ok ? 0 : 1;
}
