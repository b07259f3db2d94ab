// RUN: kvfuse-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(func.func(kv-cpu-tile-attention{target=cores=2,l1=32768},kv-cpu-vectorize-attention))"

// A recorded plan the kernels cannot run is an error, not a silent change.
func.func @rows(%q: memref<1x2x128x64xf32>, %k: memref<1x2x128x64xf32>, %v: memref<1x2x128x64xf32>,
                %o: memref<1x2x128x64xf32>) {
  // expected-error @+1 {{#kv.cpu_tiles does not fit: transposed-queries needs tiles of whole 16-row vectors (this one has 12 rows) and no explicit mask}}
  kv.attention %q, %k, %v : memref<1x2x128x64xf32>, memref<1x2x128x64xf32>, memref<1x2x128x64xf32>
      outs(%o : memref<1x2x128x64xf32>)
      {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 12, key_block = 64, splits = 1, score_kernel = "transposed-queries">}
  return
}

// -----

func.func @block(%q: memref<1x2x128x64xf32>, %k: memref<1x2x128x64xf32>, %v: memref<1x2x128x64xf32>,
                 %o: memref<1x2x128x64xf32>) {
  // expected-error @+1 {{#kv.cpu_tiles does not fit: key_block 48 is no multiple of 32 (the transposed-keys kernel's)}}
  kv.attention %q, %k, %v : memref<1x2x128x64xf32>, memref<1x2x128x64xf32>, memref<1x2x128x64xf32>
      outs(%o : memref<1x2x128x64xf32>)
      {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 64, key_block = 48, splits = 1, score_kernel = "transposed-keys">}
  return
}

// -----

func.func @unsplit(%q: memref<1x2x1024x64xf32>, %k: memref<1x2x4096x64xf32>, %v: memref<1x2x4096x64xf32>,
                 %o: memref<1x2x1024x64xf32>) {
  // expected-error @+1 {{#kv.cpu_tiles does not fit: the plan splits the keys 64 ways but the op is not in split form (run kv-split-kv first)}}
  kv.attention %q, %k, %v : memref<1x2x1024x64xf32>, memref<1x2x4096x64xf32>, memref<1x2x4096x64xf32>
      outs(%o : memref<1x2x1024x64xf32>)
      {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 64, key_block = 64, splits = 64, score_kernel = "transposed-queries">}
  return
}

// -----

func.func @kernel(%q: memref<1x2x128x64xf32>, %k: memref<1x2x128x64xf32>, %v: memref<1x2x128x64xf32>,
                  %o: memref<1x2x128x64xf32>) {
  kv.attention %q, %k, %v : memref<1x2x128x64xf32>, memref<1x2x128x64xf32>, memref<1x2x128x64xf32>
      outs(%o : memref<1x2x128x64xf32>)
      // expected-error @+1 {{expects score_kernel dot, transposed-keys or transposed-queries, got 'wide'}}
      {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 1, key_block = 4, splits = 1, score_kernel = "wide">}
  return
}

// -----

func.func @not_attention(%m: memref<4xf32>) {
  // expected-error @+1 {{kv.cpu_tiles is only valid on attention ops}}
  memref.dealloc %m {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 1, key_block = 4, splits = 1, score_kernel = "dot">} : memref<4xf32>
  return
}

// -----

func.func @partials(%q: memref<1x8x1x64xf32>, %k: memref<1x2x4096x64xf32>, %v: memref<1x2x4096x64xf32>,
                    %o: memref<4x1x8x1x64xf32>, %l: memref<4x1x8x1xf32>) {
  // expected-error @+1 {{#kv.cpu_tiles does not fit: the op holds 4 partial results, the plan splits its keys 2 ways}}
  kv.partial_attention %q, %k, %v : memref<1x8x1x64xf32>, memref<1x2x4096x64xf32>, memref<1x2x4096x64xf32>
      outs(%o, %l : memref<4x1x8x1x64xf32>, memref<4x1x8x1xf32>)
      {kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 1, key_block = 32, splits = 2, score_kernel = "dot">}
  return
}
