#!/usr/bin/env bash
# Generates the attention cases and compiles each into an artifact with its
# case.txt: compile_cases.sh OUTDIR TARGET [SET] [extra kvfuse-compile args].
# TARGET is kvfuse-compile's --target (host, nvvm:sm_90, ...). Prints the
# artifact directories, one a line.
set -euo pipefail
out=${1:?usage: compile_cases.sh OUTDIR TARGET [check|bench] [args...]}
target=${2:?usage: compile_cases.sh OUTDIR TARGET [check|bench] [args...]}
set=${3:-check}
shift 3 2>/dev/null || shift $#
here=$(cd "$(dirname "$0")" && pwd)
compile=${KVFUSE_COMPILE:-kvfuse-compile}
mkdir -p "$out"
for name in $(python3 "$here/gen_cases.py" "$out/src" --set "$set"); do
  "$compile" "$out/src/$name.mlir" --target="$target" -o "$out/$name.kvf" "$@"
  cp "$out/src/$name.case" "$out/$name.kvf/case.txt"
  echo "$out/$name.kvf"
done
