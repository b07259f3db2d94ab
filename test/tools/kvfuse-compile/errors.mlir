// Inputs the runtime could not bind are rejected with a located error and
// no artifact is written.
// RUN: rm -rf %t.kvf
// RUN: not kvfuse-compile %s -o %t.kvf 2>&1 | FileCheck %s
// RUN: not test -e %t.kvf/manifest.txt
// RUN: not kvfuse-compile %S/does-not-exist.mlir -o %t.kvf 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: echo 'func.func private @f()' | not kvfuse-compile -o %t.kvf 2>&1 | FileCheck %s --check-prefix=EMPTY

// CHECK: errors.mlir:[[@LINE+1]]:1: error: argument 0 of @dynamic expects a tensor of static shape, got 'tensor<?x8xf32>'
func.func @dynamic(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  return %x : tensor<?x8xf32>
}

// MISSING: kvfuse-compile: cannot open input file
// EMPTY: error: expects at least one public function with a body to compile
