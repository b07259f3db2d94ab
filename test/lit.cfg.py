# -*- Python -*-
import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "KVFUSE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".c"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kvfuse_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py"]

config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(("%kvfuse_libs", config.kvfuse_libs_dir))
config.substitutions.append(("%kvfuse_src", config.kvfuse_src_root))
config.substitutions.append(("%kvfuse_bin", config.kvfuse_tools_dir))
config.substitutions.append(("%kvfuse_obj_root", config.kvfuse_obj_root))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Tools come from the LLVM 22 install and our build tree, never from PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.kvfuse_tools_dir, config.llvm_tools_dir]
tools = ["kvfuse-opt", "kvfuse-compile", "kvfuse-run", "kvfuse-check-cases",
         "mlir-opt",
         "mlir-translate", "llc"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The ONNX importer is built only when ONNX's development files are present.
if os.path.exists(os.path.join(config.kvfuse_tools_dir, "kvfuse-import-onnx")):
    config.available_features.add("onnx-import")
    llvm_config.add_tool_substitutions(["kvfuse-import-onnx", "kvfuse-onnx-run",
                                        "kvfuse-onnx-refrun"],
                                       tool_dirs)

# Optional features: `ptxas` when CUDA's assembler is installed, `cuda` when a
# GPU driver answers. GPU execution tests say `REQUIRES: cuda`.
ptxas = shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas"
    if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
if os.path.exists("/dev/nvidiactl") or os.path.exists("/dev/nvidia0"):
    config.available_features.add("cuda")

# `nvptx` when the LLVM install can generate PTX (MLIR's NVVM serialization
# needs the NVPTX back end); the GPU lowering tests say `REQUIRES: nvptx`.
import subprocess
try:
    _targets = subprocess.run([os.path.join(config.llvm_tools_dir, "llc"),
                               "--version"], capture_output=True, text=True,
                              timeout=60).stdout
except (OSError, subprocess.SubprocessError):
    _targets = ""
if "nvptx64" in _targets:
    config.available_features.add("nvptx")
