//===- ToolRunner.cpp - Running kvfuse tools from GoogleTest tests --------===//

#include "ToolRunner.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <vector>

namespace kvfuse::test {

std::string envOr(const char *var, const std::string &fallback) {
  const char *env = std::getenv(var);
  return env && *env ? env : fallback;
}

std::string shellQuote(const std::string &s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string readAll(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int runCommand(const std::string &cmd, const std::string &out,
               const std::string &err) {
  std::string redirect = out == err
                             ? " >" + shellQuote(out) + " 2>&1"
                             : " >" + shellQuote(out) + " 2>" + shellQuote(err);
  int rc = std::system((cmd + redirect).c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TempDir::TempDir(const std::string &prefix) {
  std::string tmpl = envOr("TMPDIR", "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()))
    dir = buf.data();
  else
    error = "mkdtemp(" + tmpl + "): " + std::strerror(errno);
}

TempDir::~TempDir() {
  if (dir.empty())
    return;
  if (std::getenv("KVFUSE_EXEC_KEEP")) {
    std::fprintf(stderr, "kept %s\n", dir.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

::testing::AssertionResult Artifact::compileFile(const std::string &compiler,
                                                 const std::string &input,
                                                 const std::string &flags,
                                                 const TempDir &dir) {
  kvfuse_artifact_free(art);
  art = nullptr;
  if (dir.path().empty())
    return ::testing::AssertionFailure() << dir.failure();
  std::string output = dir.path() + "/module.kvf";
  std::string log = dir.path() + "/compile.log";
  std::string cmd = shellQuote(compiler) + (flags.empty() ? "" : " " + flags) +
                    " " + shellQuote(input) + " -o " + shellQuote(output);
  if (int rc = runCommand(cmd, log, log))
    return ::testing::AssertionFailure()
           << cmd << " failed (exit " << rc << "):\n"
           << readAll(log);
  if (kvfuse_status st = kvfuse_artifact_load(output.c_str(), &art))
    return ::testing::AssertionFailure()
           << "loading " << output << " failed (status " << st
           << "): " << kvfuse_last_error();
  return ::testing::AssertionSuccess();
}

} // namespace kvfuse::test
