//===- ToolRunner.h - Running kvfuse tools from GoogleTest tests -*- C++ -*-===//
//
// What the execution tests share to run the compiler as a separate process:
// shell quoting, running a command with its output in files, temporary
// directories, and an artifact compiled by kvfuse-compile and loaded through
// the runtime's C API. Never links MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_TEST_SUPPORT_TOOLRUNNER_H
#define KVFUSE_TEST_SUPPORT_TOOLRUNNER_H

#include "kvfuse/runtime.h"

#include <gtest/gtest.h>

#include <string>

namespace kvfuse::test {

/// $`var` when set and not empty, else `fallback`.
std::string envOr(const char *var, const std::string &fallback);

/// `s` in single quotes for /bin/sh.
std::string shellQuote(const std::string &s);

/// The whole file at `path` (empty when it cannot be read).
std::string readAll(const std::string &path);

/// Runs `cmd` through the shell with stdout to `out` and stderr to `err`
/// (which may be the same file); returns the exit status (-1 when it did not
/// exit normally).
int runCommand(const std::string &cmd, const std::string &out,
               const std::string &err);

/// A fresh directory under $TMPDIR (else /tmp) named `<prefix>-XXXXXX`,
/// removed on destruction; kept, and its path printed, when
/// $KVFUSE_EXEC_KEEP is set. path() is empty when it could not be made, and
/// failure() says why.
class TempDir {
public:
  explicit TempDir(const std::string &prefix);
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  ~TempDir();
  const std::string &path() const { return dir; }
  const std::string &failure() const { return error; }

private:
  std::string dir, error;
};

/// A loaded artifact; freed on destruction.
class Artifact {
public:
  Artifact() = default;
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;
  ~Artifact() { kvfuse_artifact_free(art); }
  kvfuse_artifact *get() const { return art; }
  explicit operator bool() const { return art != nullptr; }

  /// Compiles `input` with the kvfuse-compile at `compiler` and `flags` into
  /// `dir` and loads the artifact (replacing any loaded one); the shared
  /// object stays mapped after the directory is removed. Fails with the
  /// command and the compiler's output.
  ::testing::AssertionResult compileFile(const std::string &compiler,
                                         const std::string &input,
                                         const std::string &flags,
                                         const TempDir &dir);

private:
  kvfuse_artifact *art = nullptr;
};

} // namespace kvfuse::test

#endif // KVFUSE_TEST_SUPPORT_TOOLRUNNER_H
