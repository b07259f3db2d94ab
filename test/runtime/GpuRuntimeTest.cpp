//===- GpuRuntimeTest.cpp - the runtime's GPU path against a fake driver --===//
//
// Runs with LD_LIBRARY_PATH pointing at the stand-in libcuda.so.1 of
// Inputs/FakeCudaDriver.cpp, whose "kernels" are host functions: checks that
// a GPU artifact's launch list runs in order on the right buffers (tensor
// arguments, cache pools and page tables, scratch, copies), that inputs,
// outputs, lengths and page tables travel between host and device, that
// device tensors are used in place, and that driver errors and missing
// kernels come back as statuses naming the call.
//
//===----------------------------------------------------------------------===//

#include "kvfuse/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

const char *kManifest =
    "kvfuse-manifest 1\n"
    "abi 1\n"
    "gpu-module model.ptx chip=sm_90\n"
    "entry step args=4 step_tokens=1\n"
    "arg 0 name=q kind=tensor dtype=f32 shape=8 role=input\n"
    "arg 1 name=cache kind=cache dtype=f32 heads=1 head_dim=4 value_dim=4 "
    "capacity=8 layout=paged page_size=4 pages_per_seq=2\n"
    "arg 2 name=past kind=tensor dtype=i32 shape=2 role=past_lens\n"
    "arg 3 name=out0 kind=tensor dtype=f32 shape=8 role=output\n"
    "scratch 0 bytes=32\n"
    "launch kernel=twice grid=8x1x1 block=1x1x1 smem=0 args=a0,s0\n"
    "copy src=s0 dst=a3 bytes=32\n"
    "launch kernel=probe grid=4x2x1 block=1x1x1 smem=0 "
    "args=a1.table,a2,a1.keys\n"
    "end\n"
    "entry broken args=1 step_tokens=0\n"
    "arg 0 name=x kind=tensor dtype=f32 shape=4 role=output\n"
    "launch kernel=fail grid=1x1x1 block=1x1x1 smem=0 args=a0\n"
    "end\n";

struct ArtifactDir {
  std::string path;
  explicit ArtifactDir(const std::string &manifest) {
    char tmpl[] = "/tmp/kvfuse-fake-gpuXXXXXX";
    path = mkdtemp(tmpl);
    std::ofstream(path + "/manifest.txt") << manifest;
    std::ofstream(path + "/model.ptx") << "// PTX of the fake device\n";
  }
  ~ArtifactDir() {
    unlink((path + "/manifest.txt").c_str());
    unlink((path + "/model.ptx").c_str());
    rmdir(path.c_str());
  }
};

kvfuse_cache_spec spec() {
  return {KVFUSE_F32, 1, 4, 4, 8, KVFUSE_LAYOUT_PAGED, 4};
}

TEST(FakeDriver, LaunchListRunsOnTheRightBuffers) {
  ArtifactDir dir(kManifest);
  kvfuse_artifact *art = nullptr;
  ASSERT_EQ(kvfuse_artifact_load(dir.path.c_str(), &art), KVFUSE_OK)
      << kvfuse_last_error();
  EXPECT_STREQ(kvfuse_artifact_target(art), "nvvm:sm_90");
  kvfuse_cache_spec s = spec();
  kvfuse_cache *cache = nullptr;
  ASSERT_EQ(kvfuse_cache_create_on_device(&s, 2, 0, &cache), KVFUSE_OK)
      << kvfuse_last_error();
  EXPECT_TRUE(kvfuse_cache_is_on_device(cache));
  int64_t seqs[2];
  ASSERT_EQ(kvfuse_cache_add_sequence(cache, &seqs[0]), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_add_sequence(cache, &seqs[1]), KVFUSE_OK);
  ASSERT_EQ(kvfuse_cache_extend_sequence(cache, seqs[0], 5), KVFUSE_OK);

  std::vector<float> q(8), out(8, NAN);
  for (int i = 0; i < 8; ++i)
    q[i] = 0.25f * float(i) - 1.0f;
  kvfuse_binding bind[] = {{"q", q.data(), 32, nullptr},
                           {"cache", nullptr, 0, cache},
                           {"out0", out.data(), 32, nullptr}};
  ASSERT_EQ(kvfuse_run(art, "step", bind, 3, seqs, 2), KVFUSE_OK)
      << kvfuse_last_error();
  // twice(q) -> scratch, then the copy to the output, brought back.
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(out[i], 2.0f * q[i]) << i;
  // probe wrote the step's page table and past lengths into the key pool:
  // sequence 0 holds pages 0 and 1; sequence 1 got page 2 for its first
  // token; its unused table entry is page 0.
  int64_t keyBytes = 0;
  kvfuse_cache_pool_bytes(cache, &keyBytes, nullptr);
  std::vector<float> keys(keyBytes / 4);
  ASSERT_EQ(kvfuse_cache_read_pools(cache, keys.data(), nullptr), KVFUSE_OK);
  std::vector<float> want = {0, 1, 2, 0, 5, 0};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(keys[i], want[i]) << i;
  int64_t len = -1;
  ASSERT_EQ(kvfuse_cache_sequence_length(cache, seqs[0], &len), KVFUSE_OK);
  EXPECT_EQ(len, 6);
  ASSERT_EQ(kvfuse_cache_sequence_length(cache, seqs[1], &len), KVFUSE_OK);
  EXPECT_EQ(len, 1);

  // Device tensors are used in place.
  void *dq = nullptr, *dout = nullptr;
  ASSERT_EQ(kvfuse_device_alloc(32, &dq), KVFUSE_OK);
  ASSERT_EQ(kvfuse_device_alloc(32, &dout), KVFUSE_OK);
  ASSERT_EQ(kvfuse_device_copy(dq, q.data(), 32, 1), KVFUSE_OK);
  kvfuse_binding onDevice[] = {{"q", dq, 32, nullptr},
                               {"cache", nullptr, 0, cache},
                               {"out0", dout, 32, nullptr}};
  ASSERT_EQ(kvfuse_run_device(art, "step", onDevice, 3, seqs, 2), KVFUSE_OK)
      << kvfuse_last_error();
  std::vector<float> back(8, NAN);
  ASSERT_EQ(kvfuse_device_copy(back.data(), dout, 32, 0), KVFUSE_OK);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(back[i], 2.0f * q[i]) << i;
  kvfuse_device_free(dq);
  kvfuse_device_free(dout);

  // A full cache stops the step before any launch: the output keeps the
  // caller's values and no length moves.
  ASSERT_EQ(kvfuse_cache_extend_sequence(cache, seqs[0], 1), KVFUSE_OK);
  std::fill(out.begin(), out.end(), NAN);
  EXPECT_EQ(kvfuse_run(art, "step", bind, 3, seqs, 2), KVFUSE_ERR_CACHE_FULL);
  for (float x : out)
    EXPECT_TRUE(std::isnan(x));
  ASSERT_EQ(kvfuse_cache_sequence_length(cache, seqs[1], &len), KVFUSE_OK);
  EXPECT_EQ(len, 2);

  // Host caches are refused by GPU artifacts.
  kvfuse_cache *host = nullptr;
  ASSERT_EQ(kvfuse_cache_create(&s, 2, 0, &host), KVFUSE_OK);
  int64_t hostSeq;
  ASSERT_EQ(kvfuse_cache_add_sequence(host, &hostSeq), KVFUSE_OK);
  kvfuse_binding hostBind[] = {{"q", q.data(), 32, nullptr},
                               {"cache", nullptr, 0, host},
                               {"out0", out.data(), 32, nullptr}};
  EXPECT_EQ(kvfuse_run(art, "step", hostBind, 3, &hostSeq, 1),
            KVFUSE_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(kvfuse_last_error()).find("in host memory"),
            std::string::npos)
      << kvfuse_last_error();
  kvfuse_cache_free(host);
  kvfuse_cache_free(cache);
  kvfuse_artifact_free(art);
}

TEST(FakeDriver, DriverErrorsAreReported) {
  ArtifactDir dir(kManifest);
  kvfuse_artifact *art = nullptr;
  ASSERT_EQ(kvfuse_artifact_load(dir.path.c_str(), &art), KVFUSE_OK)
      << kvfuse_last_error();
  std::vector<float> x(4, 1.0f);
  kvfuse_binding bind[] = {{"x", x.data(), 16, nullptr}};
  EXPECT_EQ(kvfuse_run(art, "broken", bind, 1, nullptr, 0), KVFUSE_ERR_DEVICE);
  std::string message = kvfuse_last_error();
  EXPECT_NE(message.find("cuLaunchKernel(fail)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("unspecified launch failure"), std::string::npos)
      << message;
  kvfuse_artifact_free(art);
}

TEST(FakeDriver, MissingKernelsFailTheLoad) {
  std::string manifest = kManifest;
  manifest.replace(manifest.find("kernel=probe"), 12, "kernel=absent");
  ArtifactDir dir(manifest);
  kvfuse_artifact *art = nullptr;
  EXPECT_EQ(kvfuse_artifact_load(dir.path.c_str(), &art), KVFUSE_ERR_SYMBOL);
  EXPECT_EQ(art, nullptr);
  std::string message = kvfuse_last_error();
  EXPECT_NE(message.find("entry 'step' launches 'absent'"), std::string::npos)
      << message;
}

} // namespace
