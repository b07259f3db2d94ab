//===- RuntimeTest.cpp - Unit tests of the kvfuse runtime -----------------===//
//
// Manifest parsing (good and corrupt), the slot and page allocators, every
// error path of kvfuse_run, and steps through a hand-written artifact that
// reports the page tables and lengths it received.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/runtime.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

std::string readProbeManifest() {
  std::ifstream in(std::string(KVFUSE_TEST_ARTIFACT) + "/manifest.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char *kGood = "kvfuse-manifest 1\n"
                    "abi 1\n"
                    "library model.so\n"
                    "entry decode symbol=kvfuse_entry_decode args=3 "
                    "step_tokens=1\n"
                    "arg 0 name=q kind=tensor dtype=f32 shape=1x12x1x64 "
                    "role=input\n"
                    "arg 1 name=cache kind=cache dtype=f16 heads=12 "
                    "head_dim=64 value_dim=64 capacity=1000 layout=paged "
                    "page_size=16 pages_per_seq=63\n"
                    "arg 2 name=out0 kind=tensor dtype=f32 shape=1x12x1x64 "
                    "role=output\n"
                    "end\n";

TEST(Manifest, ParsesGood) {
  kvfuse_artifact *a = nullptr;
  ASSERT_EQ(kvfuse_artifact_parse_manifest(kGood, &a), KVFUSE_OK)
      << kvfuse_last_error();
  int64_t n = 0, step = 0;
  ASSERT_EQ(kvfuse_artifact_entry(a, "decode", &n, &step), KVFUSE_OK);
  EXPECT_EQ(n, 3);
  EXPECT_EQ(step, 1);
  const char *name, *kind, *role;
  kvfuse_dtype dt;
  int64_t elems;
  kvfuse_cache_spec spec;
  ASSERT_EQ(kvfuse_artifact_arg(a, "decode", 1, &name, &kind, &role, &dt,
                                &elems, &spec),
            KVFUSE_OK);
  EXPECT_STREQ(name, "cache");
  EXPECT_STREQ(kind, "cache");
  EXPECT_EQ(spec.dtype, KVFUSE_F16);
  EXPECT_EQ(spec.heads, 12);
  EXPECT_EQ(spec.capacity, 1000);
  EXPECT_EQ(spec.page_size, 16);
  EXPECT_EQ(spec.layout, KVFUSE_LAYOUT_PAGED);
  ASSERT_EQ(kvfuse_artifact_arg(a, "decode", 0, &name, &kind, &role, &dt,
                                &elems, nullptr),
            KVFUSE_OK);
  EXPECT_EQ(elems, 12 * 64);
  EXPECT_STREQ(role, "input");
  EXPECT_EQ(kvfuse_artifact_arg(a, "decode", 3, nullptr, nullptr, nullptr,
                                nullptr, nullptr, nullptr),
            KVFUSE_ERR_NOT_FOUND);
  EXPECT_EQ(kvfuse_artifact_entry(a, "prefill", nullptr, nullptr),
            KVFUSE_ERR_NOT_FOUND);
  kvfuse_artifact_free(a);

  ASSERT_EQ(kvfuse_artifact_parse_manifest(readProbeManifest().c_str(), &a),
            KVFUSE_OK)
      << kvfuse_last_error();
  kvfuse_artifact_free(a);
}

struct Corrupt {
  const char *what;
  std::string text;
  kvfuse_status status;
  const char *message; // substring of the error
};

std::string replace(std::string s, const std::string &from,
                    const std::string &to) {
  size_t pos = s.find(from);
  if (pos != std::string::npos)
    s.replace(pos, from.size(), to);
  return s;
}

TEST(Manifest, RejectsCorrupt) {
  const kvfuse_status C = KVFUSE_ERR_CORRUPT_MANIFEST;
  std::string g = kGood;
  std::vector<Corrupt> cases = {
      {"empty", "", C, "line 1: truncated"},
      {"header", replace(g, "kvfuse-manifest 1", "kvfuse 1"), C, "line 1:"},
      {"version", replace(g, "kvfuse-manifest 1", "kvfuse-manifest 2"), C,
       "unsupported manifest version"},
      {"abi", replace(g, "abi 1", "abi 7"), KVFUSE_ERR_ABI_MISMATCH,
       "line 2: artifact ABI 7"},
      {"library path", replace(g, "model.so", "../x.so"), C, "line 3:"},
      {"keyword", replace(g, "entry decode", "entri decode"), C, "line 4:"},
      {"double space", replace(g, "args=3 step", "args=3  step"), C,
       "line 4: tokens must be separated"},
      {"unknown entry field", replace(g, "step_tokens=1", "speed=1"), C,
       "unknown entry field 'speed'"},
      {"missing symbol", replace(g, "symbol=kvfuse_entry_decode ", ""), C,
       "needs symbol="},
      {"too few args", replace(g, "args=3", "args=4"), C,
       "line 8: entry 'decode' declares 4 args, lists 3"},
      {"too many args", replace(g, "args=3", "args=2"), C,
       "line 7: more arguments"},
      {"arg order", replace(g, "arg 1 ", "arg 2 "), C,
       "line 6: argument index"},
      {"dtype", replace(g, "dtype=f32 shape=1x12", "dtype=f64 shape=1x12"), C,
       "line 5: unknown dtype 'f64'"},
      {"shape", replace(g, "shape=1x12x1x64 role=input", "shape=1xx64 "
                                                         "role=input"),
       C, "line 5: bad shape"},
      {"role", replace(g, "role=input", "role=weird"), C, "unknown role"},
      {"kind", replace(g, "kind=cache", "kind=blob"), C, "unknown kind"},
      {"layout", replace(g, "layout=paged", "layout=ring"), C,
       "unknown layout"},
      {"pages_per_seq", replace(g, "pages_per_seq=63", "pages_per_seq=62"), C,
       "line 6: inconsistent"},
      {"cache field", replace(g, "heads=12 ", ""), C, "needs heads="},
      {"zero heads", replace(g, "heads=12 ", "heads=0 "), C, "bad heads"},
      {"extra field", replace(g, "role=output", "role=output x=1"), C,
       "line 7: unknown arg field 'x'"},
      {"malformed field", replace(g, "role=output", "role="), C,
       "malformed field"},
      {"duplicate field", replace(g, "role=output", "role=output role=input"),
       C, "duplicate field"},
      {"truncated", g.substr(0, g.size() - 4), C,
       "missing 'end' of the last entry"},
      {"cut mid-line", g.substr(0, g.size() - 40), C, "line 7:"},
      {"no entries", "kvfuse-manifest 1\nabi 1\nlibrary m.so\n", C,
       "no entries"},
      {"duplicate entry",
       g + "entry decode symbol=x args=0\nend\n", C, "duplicate entry"},
      {"end fields", replace(g, "end\n", "end now\n"), C, "'end' takes no"},
      {"huge number", replace(g, "args=3", "args=99999999999999999999"), C,
       "bad args count"},
  };
  for (const Corrupt &c : cases) {
    kvfuse_artifact *a = reinterpret_cast<kvfuse_artifact *>(1);
    EXPECT_EQ(kvfuse_artifact_parse_manifest(c.text.c_str(), &a), c.status)
        << c.what;
    EXPECT_EQ(a, nullptr) << c.what;
    EXPECT_NE(std::string(kvfuse_last_error()).find(c.message),
              std::string::npos)
        << c.what << ": " << kvfuse_last_error();
  }
  EXPECT_EQ(kvfuse_artifact_parse_manifest(nullptr, nullptr),
            KVFUSE_ERR_INVALID_ARGUMENT);
}

// A fresh artifact directory using the probe library under a new manifest.
std::string makeArtifactDir(const std::string &manifest) {
  char tmpl[] = "/tmp/kvfuse-rt-test-XXXXXX";
  const char *dir = mkdtemp(tmpl);
  if (!dir)
    return "";
  std::string d = dir;
  std::ofstream(d + "/manifest.txt") << manifest;
  std::string lib = std::string(KVFUSE_TEST_ARTIFACT) + "/model.so";
  if (symlink(lib.c_str(), (d + "/model.so").c_str()) != 0)
    return "";
  return d;
}

TEST(Load, ProbeArtifactAndErrors) {
  kvfuse_artifact *a = nullptr;
  ASSERT_EQ(kvfuse_artifact_load(KVFUSE_TEST_ARTIFACT, &a), KVFUSE_OK)
      << kvfuse_last_error();
  kvfuse_artifact_free(a);

  EXPECT_EQ(kvfuse_artifact_load("/nonexistent/x.kvf", &a), KVFUSE_ERR_IO);
  EXPECT_NE(std::string(kvfuse_last_error()).find("manifest.txt"),
            std::string::npos);
  EXPECT_EQ(kvfuse_artifact_load(nullptr, &a), KVFUSE_ERR_INVALID_ARGUMENT);

  std::string m = replace(readProbeManifest(), "symbol=kvfuse_entry_slot_step",
                          "symbol=kvfuse_entry_gone");
  std::string dir = makeArtifactDir(m);
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(kvfuse_artifact_load(dir.c_str(), &a), KVFUSE_ERR_SYMBOL);
  EXPECT_NE(std::string(kvfuse_last_error()).find("kvfuse_entry_gone"),
            std::string::npos)
      << kvfuse_last_error();

  std::string dir2 =
      makeArtifactDir(replace(readProbeManifest(), "library model.so",
                              "library missing.so"));
  EXPECT_EQ(kvfuse_artifact_load(dir2.c_str(), &a), KVFUSE_ERR_IO);
  EXPECT_NE(std::string(kvfuse_last_error()).find("missing.so"),
            std::string::npos);

  std::string dir3 = makeArtifactDir("kvfuse-manifest 1\nabi 1\n");
  EXPECT_EQ(kvfuse_artifact_load(dir3.c_str(), &a),
            KVFUSE_ERR_CORRUPT_MANIFEST);
  for (const std::string &d : {dir, dir2, dir3}) {
    unlink((d + "/manifest.txt").c_str());
    unlink((d + "/model.so").c_str());
    rmdir(d.c_str());
  }
}

kvfuse_cache_spec pagedSpec() {
  return {KVFUSE_F32, 1, 2, 2, 10, KVFUSE_LAYOUT_PAGED, 4};
}

TEST(Cache, CreateRejectsBadSpecs) {
  kvfuse_cache *c = nullptr;
  kvfuse_cache_spec s = pagedSpec();
  s.heads = 0;
  EXPECT_EQ(kvfuse_cache_create(&s, 1, 0, &c), KVFUSE_ERR_INVALID_ARGUMENT);
  s = pagedSpec();
  s.layout = KVFUSE_LAYOUT_CONTIGUOUS; // page_size != capacity
  EXPECT_EQ(kvfuse_cache_create(&s, 1, 0, &c), KVFUSE_ERR_INVALID_ARGUMENT);
  s = pagedSpec();
  s.dtype = KVFUSE_I32;
  EXPECT_EQ(kvfuse_cache_create(&s, 1, 0, &c), KVFUSE_ERR_INVALID_ARGUMENT);
  s = pagedSpec();
  EXPECT_EQ(kvfuse_cache_create(&s, 0, 0, &c), KVFUSE_ERR_INVALID_ARGUMENT);
  s.heads = 1 << 29;
  s.head_dim = 1 << 29;
  EXPECT_EQ(kvfuse_cache_create(&s, 1 << 20, 0, &c),
            KVFUSE_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(kvfuse_cache_create(nullptr, 1, 0, &c),
            KVFUSE_ERR_INVALID_ARGUMENT);
}

TEST(Cache, SequencesAndSlots) {
  kvfuse_cache_spec s = {KVFUSE_F16, 2, 8, 8, 32, KVFUSE_LAYOUT_CONTIGUOUS, 32};
  kvfuse_cache *c;
  ASSERT_EQ(kvfuse_cache_create(&s, 2, 0, &c), KVFUSE_OK);
  int64_t a, b, x, len;
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &a), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &b), KVFUSE_OK);
  EXPECT_NE(a, b);
  EXPECT_EQ(kvfuse_cache_add_sequence(c, &x), KVFUSE_ERR_CACHE_FULL);
  EXPECT_EQ(kvfuse_cache_free_pages(c), 0);
  ASSERT_EQ(kvfuse_cache_sequence_length(c, a, &len), KVFUSE_OK);
  EXPECT_EQ(len, 0);
  const int32_t *pages;
  int64_t np;
  ASSERT_EQ(kvfuse_cache_sequence_pages(c, b, &pages, &np), KVFUSE_OK);
  ASSERT_EQ(np, 1);
  EXPECT_EQ(pages[0], 1);
  EXPECT_EQ(kvfuse_cache_remove_sequence(c, a), KVFUSE_OK);
  EXPECT_EQ(kvfuse_cache_remove_sequence(c, a), KVFUSE_ERR_NOT_FOUND);
  EXPECT_EQ(kvfuse_cache_sequence_length(c, a, &len), KVFUSE_ERR_NOT_FOUND);
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &x), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_sequence_pages(c, x, &pages, &np), KVFUSE_OK);
  EXPECT_EQ(pages[0], 0); // the freed slot is reused
  kvfuse_cache_reset(c);
  EXPECT_EQ(kvfuse_cache_free_pages(c), 2);
  EXPECT_EQ(kvfuse_cache_sequence_length(c, x, &len), KVFUSE_ERR_NOT_FOUND);
  kvfuse_cache_free(c);
}

struct Probe : ::testing::Test {
  void SetUp() override {
    ASSERT_EQ(kvfuse_artifact_load(KVFUSE_TEST_ARTIFACT, &art), KVFUSE_OK)
        << kvfuse_last_error();
  }
  void TearDown() override { kvfuse_artifact_free(art); }

  // One paged_step for sequences (s0, s1); K values encode (seq, step).
  kvfuse_status pagedStep(kvfuse_cache *c, int64_t s0, int64_t s1,
                          float tag) {
    for (int i = 0; i < 12; ++i)
      k[i] = tag + i;
    for (int &o : out)
      o = -7;
    kvfuse_binding b[] = {{"k", k, sizeof(k), nullptr},
                          {"cache", nullptr, 0, c},
                          {"out0", out, sizeof(out), nullptr}};
    int64_t seqs[] = {s0, s1};
    return kvfuse_run(art, "paged_step", b, 3, seqs, 2);
  }

  kvfuse_artifact *art = nullptr;
  float k[12];
  int out[10];
};

TEST_F(Probe, PagedStepsFillPageTablesAndLengths) {
  kvfuse_cache_spec s = pagedSpec();
  kvfuse_cache *c;
  ASSERT_EQ(kvfuse_cache_create(&s, 2, 5, &c), KVFUSE_OK);
  int64_t a, b;
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &a), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &b), KVFUSE_OK);
  EXPECT_EQ(kvfuse_cache_free_pages(c), 5);

  // Step 1: both sequences 0 -> 3 tokens, one page each (a: 0, b: 1).
  ASSERT_EQ(pagedStep(c, a, b, 100), KVFUSE_OK) << kvfuse_last_error();
  EXPECT_EQ(std::vector<int>(out, out + 10),
            (std::vector<int>{0, 0, 0, 0, 3, 1, 0, 0, 0, 3}));
  // Step 2 in the order (b, a): 3 -> 6 tokens, a second page each, handed out
  // in batch order (b: 2, a: 3), so pages interleave between sequences.
  ASSERT_EQ(pagedStep(c, b, a, 200), KVFUSE_OK) << kvfuse_last_error();
  EXPECT_EQ(std::vector<int>(out, out + 10),
            (std::vector<int>{1, 2, 0, 3, 6, 0, 3, 0, 3, 6}));
  int64_t len;
  ASSERT_EQ(kvfuse_cache_sequence_length(c, a, &len), KVFUSE_OK);
  EXPECT_EQ(len, 6);
  EXPECT_EQ(kvfuse_cache_free_pages(c), 1);

  // Token 4 of a (page 3, offset 0) holds a's first K row of step 2.
  const float *kp = static_cast<const float *>(kvfuse_cache_key_pool(c));
  const float *vp = static_cast<const float *>(kvfuse_cache_value_pool(c));
  EXPECT_EQ(kp[(3 * 4 + 0) * 2 + 0], 200 + 6 + 2); // batch entry 1, t=1
  EXPECT_EQ(kp[(0 * 4 + 2) * 2 + 1], 100 + 4 + 1); // a's token 2, step 1
  EXPECT_EQ(vp[(0 * 4 + 2) * 2 + 1], -(100 + 4 + 1));

  // Step 3 needs a third page for both: 2 pages, 1 free -> nothing happens.
  EXPECT_EQ(pagedStep(c, a, b, 300), KVFUSE_ERR_OUT_OF_PAGES);
  EXPECT_EQ(out[0], -7);
  EXPECT_EQ(kvfuse_cache_free_pages(c), 1);
  ASSERT_EQ(kvfuse_cache_sequence_length(c, b, &len), KVFUSE_OK);
  EXPECT_EQ(len, 6);

  // Removing b returns pages 1 and 2; a new sequence reuses them.
  ASSERT_EQ(kvfuse_cache_remove_sequence(c, b), KVFUSE_OK);
  EXPECT_EQ(kvfuse_cache_free_pages(c), 3);
  int64_t d;
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &d), KVFUSE_OK);
  ASSERT_EQ(pagedStep(c, a, d, 400), KVFUSE_OK) << kvfuse_last_error();
  // a: 6 -> 9 tokens takes freed page 1 as its third; d takes page 2.
  EXPECT_EQ(std::vector<int>(out, out + 10),
            (std::vector<int>{0, 3, 1, 6, 9, 2, 0, 0, 0, 3}));
  EXPECT_EQ(kvfuse_cache_free_pages(c), 1);

  // a is at 9 of 10 tokens: a step of 3 does not fit; nothing is written.
  EXPECT_EQ(pagedStep(c, a, d, 500), KVFUSE_ERR_CACHE_FULL);
  EXPECT_NE(std::string(kvfuse_last_error()).find("holds 9 of 10"),
            std::string::npos)
      << kvfuse_last_error();
  EXPECT_EQ(out[0], -7);
  ASSERT_EQ(kvfuse_cache_sequence_length(c, d, &len), KVFUSE_OK);
  EXPECT_EQ(len, 3);
  kvfuse_cache_free(c);
}

TEST_F(Probe, ContiguousCacheExactlyFull) {
  kvfuse_cache_spec s = {KVFUSE_F32, 1, 2, 2, 2, KVFUSE_LAYOUT_CONTIGUOUS, 2};
  kvfuse_cache *c;
  ASSERT_EQ(kvfuse_cache_create(&s, 3, 0, &c), KVFUSE_OK);
  int64_t a, b;
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &a), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &b), KVFUSE_OK);
  float kk[2] = {1.5f, 2.5f};
  int o[2];
  kvfuse_binding bind[] = {{"k", kk, sizeof(kk), nullptr},
                           {"kc", nullptr, 0, c},
                           {"out0", o, sizeof(o), nullptr}};
  for (int step = 0; step < 2; ++step) {
    kk[0] = 10.0f * step;
    ASSERT_EQ(kvfuse_run(art, "slot_step", bind, 3, &b, 1), KVFUSE_OK)
        << kvfuse_last_error();
    EXPECT_EQ(o[0], 1); // b's slot
    EXPECT_EQ(o[1], step);
  }
  const float *kp = static_cast<const float *>(kvfuse_cache_key_pool(c));
  EXPECT_EQ(kp[(1 * 2 + 1) * 2], 10.0f);
  o[0] = o[1] = -7;
  EXPECT_EQ(kvfuse_run(art, "slot_step", bind, 3, &b, 1),
            KVFUSE_ERR_CACHE_FULL);
  EXPECT_EQ(o[0], -7);
  ASSERT_EQ(kvfuse_run(art, "slot_step", bind, 3, &a, 1), KVFUSE_OK);
  EXPECT_EQ(o[0], 0);
  kvfuse_cache_free(c);
}

TEST_F(Probe, RunErrors) {
  kvfuse_cache_spec s = pagedSpec();
  kvfuse_cache *c, *other;
  ASSERT_EQ(kvfuse_cache_create(&s, 4, 0, &c), KVFUSE_OK);
  s.head_dim = 4;
  ASSERT_EQ(kvfuse_cache_create(&s, 4, 0, &other), KVFUSE_OK);
  int64_t a, b;
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &a), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &b), KVFUSE_OK);
  float kk[12] = {};
  int o[10];
  int32_t lens[2];
  kvfuse_binding good[] = {{"k", kk, sizeof(kk), nullptr},
                           {"cache", nullptr, 0, c},
                           {"out0", o, sizeof(o), nullptr}};
  int64_t seqs[] = {a, b};
  auto expectErr = [&](kvfuse_status want, const kvfuse_binding *bind, int nb,
                       const int64_t *sq, int64_t batch, const char *entry,
                       const char *msg) {
    EXPECT_EQ(kvfuse_run(art, entry, bind, nb, sq, batch), want) << msg;
    EXPECT_NE(std::string(kvfuse_last_error()).find(msg), std::string::npos)
        << kvfuse_last_error();
  };
  expectErr(KVFUSE_ERR_NOT_FOUND, good, 3, seqs, 2, "prefill",
            "no entry 'prefill'");
  int64_t dup[] = {a, a};
  expectErr(KVFUSE_ERR_INVALID_ARGUMENT, good, 3, dup, 2, "paged_step",
            "appears twice");
  int64_t unknown[] = {a, 99};
  expectErr(KVFUSE_ERR_NOT_FOUND, good, 3, unknown, 2, "paged_step",
            "no sequence 99");
  expectErr(KVFUSE_ERR_SHAPE_MISMATCH, good, 3, seqs, 1, "paged_step",
            "batch of 2 sequences, got 1");
  expectErr(KVFUSE_ERR_INVALID_ARGUMENT, good, 2, seqs, 2, "paged_step",
            "'out0' is not bound");
  kvfuse_binding shortK[] = {{"k", kk, sizeof(kk) - 4, nullptr},
                             good[1], good[2]};
  expectErr(KVFUSE_ERR_SHAPE_MISMATCH, shortK, 3, seqs, 2, "paged_step",
            "'k' needs a tensor of 48 bytes, got 44");
  kvfuse_binding wrongCache[] = {good[0], {"cache", nullptr, 0, other},
                                 good[2]};
  expectErr(KVFUSE_ERR_SHAPE_MISMATCH, wrongCache, 3, seqs, 2, "paged_step",
            "does not match");
  kvfuse_binding noCache[] = {good[0], {"cache", kk, sizeof(kk), nullptr},
                              good[2]};
  expectErr(KVFUSE_ERR_INVALID_ARGUMENT, noCache, 3, seqs, 2, "paged_step",
            "needs a cache");
  kvfuse_binding extra[] = {good[0], good[1], good[2],
                            {"nope", kk, 4, nullptr}};
  expectErr(KVFUSE_ERR_NOT_FOUND, extra, 4, seqs, 2, "paged_step",
            "no argument 'nope'");
  kvfuse_binding twice[] = {good[0], good[1], good[2], good[0]};
  expectErr(KVFUSE_ERR_INVALID_ARGUMENT, twice, 4, seqs, 2, "paged_step",
            "bound twice");
  kvfuse_binding lensBound[] = {good[0], good[1], good[2],
                                {"past", lens, sizeof(lens), nullptr}};
  expectErr(KVFUSE_ERR_INVALID_ARGUMENT, lensBound, 4, seqs, 2, "paged_step",
            "filled by the runtime");
  kvfuse_binding noName[] = {{nullptr, kk, sizeof(kk), nullptr}};
  expectErr(KVFUSE_ERR_INVALID_ARGUMENT, noName, 1, seqs, 2, "paged_step",
            "has no name");
  expectErr(KVFUSE_ERR_INVALID_ARGUMENT, good, 3, nullptr, 2, "paged_step",
            "bad binding");
  EXPECT_EQ(kvfuse_run(nullptr, "paged_step", good, 3, seqs, 2),
            KVFUSE_ERR_INVALID_ARGUMENT);
  // None of the failures advanced or allocated anything.
  int64_t len;
  ASSERT_EQ(kvfuse_cache_sequence_length(c, a, &len), KVFUSE_OK);
  EXPECT_EQ(len, 0);
  EXPECT_EQ(kvfuse_cache_free_pages(c), 12);
  ASSERT_EQ(kvfuse_run(art, "paged_step", good, 3, seqs, 2), KVFUSE_OK);
  EXPECT_EQ(kvfuse_cache_free_pages(c), 10);
  kvfuse_cache_free(other);
  kvfuse_cache_free(c);
}

} // namespace

//===----------------------------------------------------------------------===//
// GPU artifacts: manifests with a gpu-module line and launch lists.
//===----------------------------------------------------------------------===//

namespace {

const char *kGpuGood =
    "kvfuse-manifest 1\n"
    "abi 1\n"
    "gpu-module model.ptx chip=sm_90 cubin=model.cubin\n"
    "entry decode args=4 step_tokens=0\n"
    "arg 0 name=q kind=tensor dtype=f32 shape=2x8x1x64 role=input\n"
    "arg 1 name=cache kind=cache dtype=f16 heads=2 head_dim=64 value_dim=64 "
    "capacity=256 layout=paged page_size=16 pages_per_seq=16\n"
    "arg 2 name=lens kind=tensor dtype=i32 shape=2 role=kv_lens\n"
    "arg 3 name=out0 kind=tensor dtype=f32 shape=2x8x1x64 role=output\n"
    "scratch 0 bytes=4096\n"
    "scratch 1 bytes=64\n"
    "launch kernel=decode_partial grid=4x2x2 block=128x1x1 smem=0 "
    "args=a0,a1.keys,a1.values,a1.table,a2,s0,s1\n"
    "launch kernel=decode_merge grid=16x1x1 block=64x1x1 smem=0 "
    "args=s0,s1,a3\n"
    "copy src=a3 dst=s0 bytes=4096\n"
    "end\n";

TEST(GpuManifest, ParsesLaunchLists) {
  kvfuse_artifact *a = nullptr;
  ASSERT_EQ(kvfuse_artifact_parse_manifest(kGpuGood, &a), KVFUSE_OK)
      << kvfuse_last_error();
  EXPECT_STREQ(kvfuse_artifact_target(a), "nvvm:sm_90");
  int64_t n = 0, step = -1;
  ASSERT_EQ(kvfuse_artifact_entry(a, "decode", &n, &step), KVFUSE_OK);
  EXPECT_EQ(n, 4);
  EXPECT_EQ(step, 0);
  // Parsed but not loaded: no module, so running is refused, not attempted.
  int64_t seq = 0;
  EXPECT_EQ(kvfuse_run(a, "decode", nullptr, 0, &seq, 1), KVFUSE_ERR_SYMBOL);
  EXPECT_NE(std::string(kvfuse_last_error()).find("no loaded code"),
            std::string::npos);
  kvfuse_artifact_free(a);

  ASSERT_EQ(kvfuse_artifact_parse_manifest(kGood, &a), KVFUSE_OK);
  EXPECT_STREQ(kvfuse_artifact_target(a), "cpu");
  // Device tensors are for GPU artifacts only.
  EXPECT_EQ(kvfuse_run_device(a, "decode", nullptr, 0, &seq, 1),
            KVFUSE_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(kvfuse_last_error()).find("needs a GPU artifact"),
            std::string::npos);
  kvfuse_artifact_free(a);
}

TEST(GpuManifest, RejectsCorrupt) {
  const kvfuse_status C = KVFUSE_ERR_CORRUPT_MANIFEST;
  std::string g = kGpuGood;
  std::vector<Corrupt> cases = {
      {"no chip", replace(g, " chip=sm_90", ""), C, "needs chip=sm_NN"},
      {"bad chip", replace(g, "chip=sm_90", "chip=gfx90a"), C,
       "needs chip=sm_NN"},
      {"cubin path", replace(g, "cubin=model.cubin", "cubin=/tmp/x"), C,
       "cubin must be a file name"},
      {"gpu-module field", replace(g, "cubin=model.cubin", "arch=x"), C,
       "unknown gpu-module field 'arch'"},
      {"launch on cpu",
       std::string(kGood).insert(std::string(kGood).rfind("end"),
                                 "launch kernel=k grid=1x1x1 block=1x1x1\n"),
       C, "'launch' records belong to GPU artifacts"},
      {"scratch order", replace(g, "scratch 1 bytes", "scratch 2 bytes"), C,
       "expected 'scratch <next index> bytes=<n>'"},
      {"unknown buffer", replace(g, "args=s0,s1,a3", "args=s0,s2,a3"), C,
       "names unknown buffer 's2'"},
      {"tensor part", replace(g, "a0,a1.keys", "a0.keys,a1.keys"), C,
       "names unknown buffer 'a0.keys'"},
      {"cache without part", replace(g, "a1.keys,", "a1,"), C,
       "names unknown buffer 'a1'"},
      {"cache part", replace(g, "a1.table", "a1.pages"), C,
       "names unknown buffer 'a1.pages'"},
      {"arg out of range", replace(g, "args=s0,s1,a3", "args=s0,s1,a4"), C,
       "names unknown buffer 'a4'"},
      {"zero grid", replace(g, "grid=16x1x1", "grid=0x1x1"), C,
       "bad grid '0x1x1'"},
      {"2-d block", replace(g, "block=64x1x1", "block=64x1"), C,
       "bad block '64x1'"},
      {"no kernel", replace(g, "kernel=decode_merge ", ""), C,
       "launch needs kernel=, grid= and block="},
      {"launch field", replace(g, "smem=0 args=s0", "smem=0 stream=1 args=s0"),
       C, "unknown launch field 'stream'"},
      {"copy overflow", replace(g, "bytes=4096\nend", "bytes=4097\nend"), C,
       "copy of 4097 bytes exceeds 'a3'"},
      {"copy cache", replace(g, "copy src=a3", "copy src=a1.keys"), C,
       "copy names 'a1.keys'"},
      {"launch before args",
       replace(g, "arg 3 name=out0", "launch kernel=k grid=1x1x1 "
                                     "block=1x1x1\narg 3 name=out0"),
       C, "'launch' before the last argument"},
      {"no launch",
       replace(replace(replace(g,
                               "launch kernel=decode_partial grid=4x2x2 "
                               "block=128x1x1 smem=0 "
                               "args=a0,a1.keys,a1.values,a1.table,a2,s0,s1\n",
                               ""),
                       "launch kernel=decode_merge grid=16x1x1 block=64x1x1 "
                       "smem=0 args=s0,s1,a3\n",
                       ""),
               "copy src=a3 dst=s0 bytes=4096\n", ""),
       C, "GPU entry 'decode' has no launch"},
  };
  for (const Corrupt &c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_NE(c.text, g) << "the case did not change the manifest";
    kvfuse_artifact *a = nullptr;
    EXPECT_EQ(kvfuse_artifact_parse_manifest(c.text.c_str(), &a), c.status);
    EXPECT_EQ(a, nullptr);
    EXPECT_NE(std::string(kvfuse_last_error()).find(c.message),
              std::string::npos)
        << kvfuse_last_error();
  }
}

// Whether this machine has a CUDA driver the runtime could open.
bool haveCudaDriver() {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib)
    dlclose(lib);
  return lib != nullptr;
}

TEST(GpuRuntime, DeviceErrorsAreStatuses) {
  kvfuse_cache_spec spec{KVFUSE_F16, 2, 64, 64, 256, KVFUSE_LAYOUT_PAGED, 16};
  kvfuse_cache *c = nullptr;
  kvfuse_status st = kvfuse_cache_create_on_device(&spec, 2, 0, &c);
  if (!haveCudaDriver()) {
    // Without a driver: a clear error naming it, no cache, no crash.
    EXPECT_EQ(st, KVFUSE_ERR_DEVICE);
    EXPECT_EQ(c, nullptr);
    EXPECT_NE(std::string(kvfuse_last_error()).find("libcuda.so.1"),
              std::string::npos)
        << kvfuse_last_error();
  } else if (st == KVFUSE_OK) {
    EXPECT_TRUE(kvfuse_cache_is_on_device(c));
    EXPECT_EQ(kvfuse_cache_key_pool(c), nullptr);
    int64_t kb = 0, vb = 0;
    kvfuse_cache_pool_bytes(c, &kb, &vb);
    EXPECT_EQ(kb, 2 * 16 * 2 * 16 * 64 * 2);
    std::vector<unsigned char> k(kb, 0xAB), back(kb, 0);
    ASSERT_EQ(kvfuse_cache_write_pools(c, k.data(), nullptr), KVFUSE_OK);
    ASSERT_EQ(kvfuse_cache_read_pools(c, back.data(), nullptr), KVFUSE_OK);
    EXPECT_EQ(k, back);
    kvfuse_cache_free(c);
  }

  void *buffer = nullptr;
  st = kvfuse_device_alloc(64, &buffer);
  if (!haveCudaDriver()) {
    EXPECT_EQ(st, KVFUSE_ERR_DEVICE);
    EXPECT_EQ(buffer, nullptr);
  } else if (st == KVFUSE_OK) {
    float in[16], out[16] = {0};
    for (int i = 0; i < 16; ++i)
      in[i] = 1.5f * float(i);
    ASSERT_EQ(kvfuse_device_copy(buffer, in, sizeof(in), 1), KVFUSE_OK);
    ASSERT_EQ(kvfuse_device_copy(out, buffer, sizeof(out), 0), KVFUSE_OK);
    EXPECT_EQ(std::memcmp(in, out, sizeof(in)), 0);
    EXPECT_EQ(kvfuse_device_free(buffer), KVFUSE_OK);
  }

  // A GPU artifact on disk: loading needs the device (or fails clearly).
  char dir[] = "/tmp/kvfuse-gpu-artifactXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::ofstream(std::string(dir) + "/manifest.txt") << kGpuGood;
  std::ofstream(std::string(dir) + "/model.ptx") << "// not a module\n";
  kvfuse_artifact *a = nullptr;
  st = kvfuse_artifact_load(dir, &a);
  EXPECT_NE(st, KVFUSE_OK);
  EXPECT_EQ(a, nullptr);
  if (!haveCudaDriver())
    EXPECT_EQ(st, KVFUSE_ERR_DEVICE) << kvfuse_last_error();
  std::remove((std::string(dir) + "/manifest.txt").c_str());
  std::remove((std::string(dir) + "/model.ptx").c_str());
  rmdir(dir);
}

TEST(GpuRuntime, HostCachesStayOnTheHost) {
  kvfuse_cache_spec spec{KVFUSE_F32, 1, 4, 4, 8, KVFUSE_LAYOUT_CONTIGUOUS, 8};
  kvfuse_cache *c = nullptr;
  ASSERT_EQ(kvfuse_cache_create(&spec, 2, 0, &c), KVFUSE_OK);
  EXPECT_FALSE(kvfuse_cache_is_on_device(c));
  int64_t kb = 0, vb = 0;
  kvfuse_cache_pool_bytes(c, &kb, &vb);
  ASSERT_EQ(kb, 2 * 8 * 4 * 4);
  std::vector<float> k(kb / 4), back(kb / 4, 0.f);
  for (size_t i = 0; i < k.size(); ++i)
    k[i] = 0.5f + float(i);
  ASSERT_EQ(kvfuse_cache_write_pools(c, k.data(), nullptr), KVFUSE_OK);
  EXPECT_EQ(std::memcmp(kvfuse_cache_key_pool(c), k.data(), kb), 0);
  ASSERT_EQ(kvfuse_cache_read_pools(c, back.data(), nullptr), KVFUSE_OK);
  EXPECT_EQ(k, back);
  kvfuse_cache_free(c);
}

TEST(Cache, ExtendSequenceAllocatesPages) {
  kvfuse_cache_spec spec{KVFUSE_F32, 1, 4, 4, 40, KVFUSE_LAYOUT_PAGED, 8};
  kvfuse_cache *c = nullptr;
  // 7 pages: one sequence can hold 40 tokens (5 pages), not two.
  ASSERT_EQ(kvfuse_cache_create(&spec, 2, 7, &c), KVFUSE_OK);
  int64_t a = -1, b = -1, len = -1;
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &a), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_add_sequence(c, &b), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_extend_sequence(c, a, 17), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_sequence_length(c, a, &len), KVFUSE_OK);
  EXPECT_EQ(len, 17);
  const int32_t *pages = nullptr;
  int64_t n = 0;
  ASSERT_EQ(kvfuse_cache_sequence_pages(c, a, &pages, &n), KVFUSE_OK);
  EXPECT_EQ(n, 3);
  EXPECT_EQ(kvfuse_cache_free_pages(c), 4);
  EXPECT_EQ(kvfuse_cache_extend_sequence(c, a, 24), KVFUSE_ERR_CACHE_FULL);
  EXPECT_NE(std::string(kvfuse_last_error()).find("17 of 40"),
            std::string::npos);
  ASSERT_EQ(kvfuse_cache_extend_sequence(c, a, 23), KVFUSE_OK);
  EXPECT_EQ(kvfuse_cache_extend_sequence(c, b, 25), KVFUSE_ERR_OUT_OF_PAGES);
  ASSERT_EQ(kvfuse_cache_sequence_length(c, b, &len), KVFUSE_OK);
  EXPECT_EQ(len, 0) << "a failed extension changes nothing";
  EXPECT_EQ(kvfuse_cache_extend_sequence(c, 99, 1), KVFUSE_ERR_NOT_FOUND);
  EXPECT_EQ(kvfuse_cache_extend_sequence(c, b, -1),
            KVFUSE_ERR_INVALID_ARGUMENT);
  kvfuse_cache_free(c);
}

} // namespace
