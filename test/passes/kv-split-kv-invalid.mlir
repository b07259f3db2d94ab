// RUN: kvfuse-opt %s -verify-diagnostics --pass-pipeline="builtin.module(func.func(kv-split-kv{splits=64}))"

// 64 partials of 2 x 1024 rows of 65 floats would not fit the stack: an
// error rather than a heap allocation on every call.
func.func @stack(%q: memref<1x2x1024x64xf32>, %k: memref<1x2x4096x64xf32>, %v: memref<1x2x4096x64xf32>,
                 %o: memref<1x2x1024x64xf32>) {
  // expected-error @+1 {{'kv.attention' op needs 34086912 bytes of stack for 64 partial results (at most 1048576); split it less}}
  kv.attention %q, %k, %v : memref<1x2x1024x64xf32>, memref<1x2x4096x64xf32>, memref<1x2x4096x64xf32>
      outs(%o : memref<1x2x1024x64xf32>)
  return
}
