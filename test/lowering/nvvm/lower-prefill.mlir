// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-prefill -canonicalize -cse | FileCheck %s
// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-prefill="rows-per-block=32 keys-per-tile=16" -canonicalize -cse | FileCheck %s --check-prefix=SMALL
// RUN: kvfuse-opt %s -split-input-file --kv-nvvm-lower-prefill="stages=2" -canonicalize -cse | FileCheck %s --check-prefix=ASYNC

// f16, no GQA, D 64, causal from 0: grid (ceil(100 / 64), Hkv, B), 4 warps;
// K and V tiles of 64 keys in shared memory, rows padded by 8 halves; Q
// fragments loaded once before the key loop, which starts at key 0 and ends
// where the block's last row stops seeing keys; 8 x 4 mma.sync for S and
// 8 x 4 for P V; row statistics over the quad (xor 1, 2).
// CHECK-LABEL: func.func @causal_f16
// CHECK:         gpu.launch_func @kvfuse_kernels::@prefill_attention blocks in (%c2, %c8, %c2) threads in (%c128, %c1, %c1) args(%arg0 : memref<2x8x100x64xf16>, %arg1 : memref<2x8x100x64xf16>, %arg2 : memref<2x8x100x64xf16>, %arg3 : memref<2x8x100x64xf16>)
// CHECK:       gpu.module @kvfuse_kernels
// CHECK:         gpu.func @prefill_attention(%[[Q:.*]]: memref<2x8x100x64xf16>, %[[K:.*]]: memref<2x8x100x64xf16>, %[[V:.*]]: memref<2x8x100x64xf16>, %[[O:.*]]: memref<2x8x100x64xf16>)
// CHECK-SAME:      workgroup(%[[KS:.*]] : memref<64x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[VS:.*]] : memref<64x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME:      kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK-COUNT-8: vector.load %[[Q]]{{.*}} : memref<2x8x100x64xf16>, vector<2xf16>
// CHECK:           scf.for %[[J0:.*]] = %c0 to %{{.*}} step %c64 iter_args({{.*}}) -> (f32, f32, f32, f32, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>)
// CHECK-NEXT:        gpu.barrier
// Staging: key rows past Skv read row 99 and are replaced by zeros.
// CHECK:             %[[ROW:.*]] = arith.addi %[[J0]], %{{.*}} : index
// CHECK:             %[[IN:.*]] = arith.cmpi slt, %[[ROW]], %c100 : index
// CHECK:             %[[SAFE:.*]] = arith.minsi %[[ROW]], %c99 : index
// CHECK:             %[[KV:.*]] = vector.load %[[K]][%{{.*}}, %{{.*}}, %[[SAFE]], %{{.*}}] {alignment = 16 : i64} : memref<2x8x100x64xf16>, vector<8xf16>
// CHECK:             %[[KZ:.*]] = arith.select %[[IN]], %[[KV]], %{{.*}} : vector<8xf16>
// CHECK:             vector.store %[[KZ]], %[[KS]]{{.*}} {alignment = 16 : i64}
// CHECK:             vector.load %[[V]]
// CHECK:             vector.store %{{.*}}, %[[VS]]
// CHECK:             gpu.barrier
// CHECK:             vector.load %[[KS]]{{.*}} : memref<64x72xf16, #gpu.address_space<workgroup>>, vector<2xf16>
// CHECK-COUNT-32:    nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// Scores scaled by log2(e) / sqrt(64) and masked to -inf.
// CHECK:             arith.mulf %{{.*}}, %{{.*}} fastmath<contract> : f32
// CHECK:             arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK:             gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK:             gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK:             arith.cmpf oeq, %{{.*}}, %{{.*}} : f32
// CHECK:             nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// P is rounded to f16 and fed to the P V products.
// CHECK:             arith.truncf %{{.*}} : vector<4x2xf32> to vector<4x2xf16>
// V fragments: ldmatrix .x2 .trans, lane l at key row 16 kk + l % 16.
// CHECK:             nvgpu.ldmatrix %[[VS]][%{{.*}}, %c0] {numTiles = 2 : i32, transpose = true} : memref<64x72xf16, #gpu.address_space<workgroup>> -> vector<2x2xf16>
// CHECK-COUNT-32:    nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK:             scf.yield
// Epilogue: row sums over the quad, 1/l (0 for an empty row), guarded
// stores in the output type.
// CHECK:           gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK:           gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK:           arith.cmpf ogt
// CHECK:           arith.divf
// CHECK:           scf.if
// CHECK:             arith.truncf %{{.*}} : vector<2xf32> to vector<2xf16>
// CHECK:             vector.store %{{.*}}, %[[O]]{{.*}} : memref<2x8x100x64xf16>, vector<2xf16>
// CHECK:           gpu.return

// SMALL-LABEL: func.func @causal_f16
// SMALL:         gpu.launch_func @kvfuse_kernels::@prefill_attention blocks in (%c4, %c8, %c2) threads in (%c64, %c1, %c1)
// SMALL:         gpu.func @prefill_attention
// SMALL-SAME:      workgroup(%{{.*}} : memref<16x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<16x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// SMALL-SAME:      known_block_size = array<i32: 64, 1, 1>
// SMALL:           scf.for %{{.*}} = %c0 to %{{.*}} step %c16
// SMALL-COUNT-8:     nvgpu.mma.sync
// SMALL-NOT:         nvgpu.mma.sync
// SMALL:             nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// SMALL-COUNT-8:     nvgpu.mma.sync
// SMALL-NOT:         nvgpu.mma.sync
// SMALL:             scf.yield
// Two stages: tile 0 copied by cp.async (16 bytes, zero-filled past the
// data) before the loop; each iteration copies the next tile into the other
// buffer, waits for all groups but that one, computes on its buffer and
// ends with a barrier; outstanding copies are drained after the loop.
// ASYNC-LABEL: func.func @causal_f16
// ASYNC:         gpu.func @prefill_attention
// ASYNC-SAME:      workgroup(%[[KS:.*]] : memref<2x64x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[VS:.*]] : memref<2x64x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// ASYNC:           %[[SIZE:.*]] = arith.select %{{.*}}, %c8, %c0 : index
// ASYNC:           nvgpu.device_async_copy %arg1[{{.*}}], %[[KS]][%c0, {{.*}}], 8, %[[SIZE]] {bypassL1}
// ASYNC:           %[[FIRST:.*]] = nvgpu.device_async_create_group
// ASYNC:           scf.for %[[J0:.*]] = %c0 to %{{.*}} step %c64
// ASYNC:             %[[TILE:.*]] = arith.divui %[[J0]], %c64 : index
// ASYNC:             %[[CUR:.*]] = arith.remui %[[TILE]], %c2 : index
// ASYNC:             %[[OTHER:.*]] = arith.subi %c1, %[[CUR]] : index
// ASYNC:             nvgpu.device_async_copy %arg1[{{.*}}], %[[KS]][%[[OTHER]], {{.*}}], 8, %{{.*}} {bypassL1}
// ASYNC:             nvgpu.device_async_copy %arg2[{{.*}}], %[[VS]][%[[OTHER]], {{.*}}], 8, %{{.*}} {bypassL1}
// ASYNC:             %[[NEXT:.*]] = nvgpu.device_async_create_group
// ASYNC-NEXT:        nvgpu.device_async_wait %[[NEXT]] {numGroups = 1 : i32}
// ASYNC-NEXT:        gpu.barrier
// ASYNC:             vector.load %[[KS]][%[[CUR]], {{.*}}] {alignment = 4 : i64}
// ASYNC:             nvgpu.ldmatrix %[[VS]][%[[CUR]], {{.*}}] {numTiles = 2 : i32, transpose = true}
// ASYNC:             gpu.barrier
// ASYNC-NEXT:        scf.yield
// ASYNC:           nvgpu.device_async_wait %[[FIRST]] {numGroups = 0 : i32}
func.func @causal_f16(%q: memref<2x8x100x64xf16>, %k: memref<2x8x100x64xf16>, %v: memref<2x8x100x64xf16>, %o: memref<2x8x100x64xf16>) {
  kv.attention %q, %k, %v : memref<2x8x100x64xf16>, memref<2x8x100x64xf16>, memref<2x8x100x64xf16>
      outs(%o : memref<2x8x100x64xf16>) {causal}
  return
}

// -----

// bf16, GQA group 4, D 128, f32 output; causal with offset 44, a left window
// of 16 and a soft-cap: 4 * 33 packed rows in 3 blocks per (KV head, batch);
// packed row r is position r / 4 of head 4 * kvHead + r % 4. The key loop
// starts at the tile holding the first row's window start (visible range
// only); tiles of 32 keys keep the D 128 kernel's registers in bounds.
// bf16 products go through nvvm.mma.sync on packed i32 registers.
// CHECK-LABEL: func.func @gqa4_bf16_window_softcap
// CHECK:         gpu.launch_func @kvfuse_kernels::@prefill_attention blocks in (%c3, %c2, %c2) threads in (%c128, %c1, %c1)
// CHECK:         gpu.func @prefill_attention(%[[Q:.*]]: memref<2x8x33x128xbf16>, %{{.*}}: memref<2x2x77x128xbf16>, %{{.*}}: memref<2x2x77x128xbf16>, %[[O:.*]]: memref<2x8x33x128xf32>)
// CHECK-SAME:      workgroup(%{{.*}} : memref<32x136xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<32x136xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK:           %[[R:.*]] = arith.minsi %{{.*}}, %c131 : index
// CHECK:           %[[POS:.*]] = arith.divui %[[R]], %c4 : index
// CHECK:           %[[G:.*]] = arith.remui %[[R]], %c4 : index
// CHECK:           %[[KVH:.*]] = arith.muli %{{.*}}, %c4 : index
// CHECK:           %[[HEAD:.*]] = arith.addi %[[KVH]], %[[G]] : index
// Causal end p + 1 = i + 45, window start p - 16 = i + 28.
// CHECK:           arith.addi %[[POS]], %c45 : index
// CHECK:           arith.addi %[[POS]], %c28 : index
// CHECK:           %[[TILE:.*]] = arith.divui %[[LO:.*]], %c32 : index
// CHECK:           %[[START:.*]] = arith.muli %[[TILE]], %c32 : index
// CHECK:           vector.load %[[Q]][%{{.*}}, %[[HEAD]], %[[POS]], %{{.*}}] {alignment = 4 : i64} : memref<2x8x33x128xbf16>, vector<2xbf16>
// CHECK:           scf.for %{{.*}} = %[[START]] to %{{.*}} step %c32
// CHECK:             vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// CHECK:             nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// Soft-cap: 30 tanh(s / (30 sqrt(128))) with tanh through ex2, before masking.
// CHECK:             arith.mulf %{{.*}}, %{{.*}} fastmath<contract> : f32
// CHECK:             nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// CHECK:             arith.divf
// CHECK:             arith.subf
// CHECK:             arith.select
// CHECK:             arith.truncf %{{.*}} : vector<4x2xf32> to vector<4x2xbf16>
// CHECK:             nvvm.mma.sync
// CHECK:           vector.store %{{.*}}, %[[O]]{{.*}} : memref<2x8x33x128xf32>, vector<2xf32>
func.func @gqa4_bf16_window_softcap(%q: memref<2x8x33x128xbf16>, %k: memref<2x2x77x128xbf16>, %v: memref<2x2x77x128xbf16>, %o: memref<2x8x33x128xf32>) {
  kv.attention %q, %k, %v : memref<2x8x33x128xbf16>, memref<2x2x77x128xbf16>, memref<2x2x77x128xbf16>
      outs(%o : memref<2x8x33x128xf32>) {causal, causal_offset = 44 : i64, window_left = 16 : i64, softcap = 30.0 : f32}
  return
}

// -----

// f32 on CUDA cores, D 80, a broadcast bool mask and kv_lens: no mma; keys
// per tile 32 so that K, V and the P exchange buffer fit 48 KiB; the
// sequence length bounds both the loop and the staged rows.
// CHECK-LABEL: func.func @f32_mask_kv_lens
// CHECK:         gpu.launch_func @kvfuse_kernels::@prefill_attention blocks in (%c1, %c4, %c2) threads in (%c128, %c1, %c1)
// CHECK:         gpu.func @prefill_attention(%[[Q:.*]]: memref<2x4x50x80xf32>, %[[K:.*]]: memref<2x4x60x80xf32>, %{{.*}}: memref<2x4x60x80xf32>, %[[M:.*]]: memref<50x60xi1>, %[[LENS:.*]]: memref<2xi32>, %{{.*}}: memref<2x4x50x80xf32>)
// CHECK-SAME:      workgroup(%[[KS:.*]] : memref<32x84xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[VS:.*]] : memref<32x84xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[PS:.*]] : memref<64x36xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-NOT:       mma.sync
// CHECK:           %[[LEN32:.*]] = memref.load %[[LENS]][%{{.*}}] : memref<2xi32>
// CHECK:           %[[LEN:.*]] = arith.index_cast %[[LEN32]] : i32 to index
// CHECK:           %[[LIMIT:.*]] = arith.minsi %[[LEN]], %c60 : index
// CHECK:           scf.for %{{.*}} = %c0 to %{{.*}} step %c32
// CHECK:             arith.cmpi slt, %{{.*}}, %[[LIMIT]] : index
// CHECK:             vector.load %[[K]]{{.*}} : memref<2x4x60x80xf32>, vector<4xf32>
// CHECK:             scf.for %[[D:.*]] = %c0 to %c80 step %c4 iter_args
// CHECK:               vector.load %[[Q]][%{{.*}}, %{{.*}}, %{{.*}}, %[[D]]] {alignment = 16 : i64} : memref<2x4x50x80xf32>, vector<4xf32>
// CHECK:               vector.load %[[KS]][%{{.*}}, %[[D]]] {alignment = 16 : i64} : memref<32x84xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK:               arith.mulf {{.*}} fastmath<contract> : f32
// CHECK:               arith.addf {{.*}} fastmath<contract> : f32
// CHECK:             memref.load %[[M]][%{{.*}}, %{{.*}}] : memref<50x60xi1>
// CHECK:             arith.andi
// CHECK:             gpu.shuffle  xor
// CHECK:             vector.store %{{.*}}, %[[PS]]{{.*}} : memref<64x36xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK:             gpu.barrier
// CHECK:             scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args
// CHECK:               memref.load %[[PS]]
// CHECK:               vector.load %[[VS]]{{.*}} : memref<32x84xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK:               arith.mulf {{.*}} : vector<2x2xf32>
func.func @f32_mask_kv_lens(%q: memref<2x4x50x80xf32>, %k: memref<2x4x60x80xf32>, %v: memref<2x4x60x80xf32>, %m: memref<50x60xi1>, %lens: memref<2xi32>, %o: memref<2x4x50x80xf32>) {
  kv.attention %q, %k, %v : memref<2x4x50x80xf32>, memref<2x4x60x80xf32>, memref<2x4x60x80xf32>
      mask(%m : memref<50x60xi1>) kv_lens(%lens : memref<2xi32>)
      outs(%o : memref<2x4x50x80xf32>)
  return
}

// -----

// Partial attention over keys [64, 160) of a longer sequence, f16 D 256,
// GQA group 4, float mask: tiles of 16 keys (with the 128 output
// accumulator registers, 32-key score tiles spill), Q fragments reloaded
// per tile inside the loop (kept in registers they would spill too), the
// float mask
// added before the log2(e) scale, and LSE = (max + log2 l) ln 2 stored by
// one lane of each quad, -inf for an empty row.
// CHECK-LABEL: func.func @partial_d256_float_mask
// CHECK:         gpu.launch_func @kvfuse_kernels::@prefill_partial blocks in (%c2, %c1, %c1) threads in (%c128, %c1, %c1)
// CHECK:         gpu.func @prefill_partial(%[[Q:.*]]: memref<1x4x20x256xf16>, %{{.*}}: memref<1x1x96x256xf16>, %{{.*}}: memref<1x1x96x256xf16>, %[[M:.*]]: memref<1x4x20x96xf32>, %[[O:.*]]: memref<1x4x20x256xf32>, %[[LSE:.*]]: memref<1x4x20xf32>)
// CHECK-SAME:      workgroup(%{{.*}} : memref<16x264xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<16x264xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK:           scf.for %{{.*}} = %c0 to %{{.*}} step %c16
// CHECK:             gpu.barrier
// CHECK:             vector.load %[[Q]]{{.*}} : memref<1x4x20x256xf16>, vector<2xf16>
// CHECK-COUNT-32:    nvgpu.mma.sync
// CHECK:             memref.load %[[M]]{{.*}} : memref<1x4x20x96xf32>
// CHECK:             arith.addf
// CHECK:             arith.mulf %{{.*}}, %cst{{.*}} fastmath<contract> : f32
// CHECK-COUNT-32:    nvgpu.mma.sync
// CHECK:           vector.store %{{.*}}, %[[O]]{{.*}} : memref<1x4x20x256xf32>, vector<2xf32>
// CHECK:           arith.cmpi eq, %{{.*}}, %c0 : index
// CHECK:           scf.if
// CHECK:             nvvm.inline_ptx "lg2.approx.f32 $0, $1;"
// CHECK:             arith.select %{{.*}}, %{{.*}}, %cst{{.*}} : f32
// CHECK:             memref.store %{{.*}}, %[[LSE]]{{.*}} : memref<1x4x20xf32>
func.func @partial_d256_float_mask(%q: memref<1x4x20x256xf16>, %k: memref<1x1x96x256xf16>, %v: memref<1x1x96x256xf16>, %m: memref<1x4x20x96xf32>, %o: memref<1x4x20x256xf32>, %l: memref<1x4x20xf32>) {
  kv.partial_attention %q, %k, %v : memref<1x4x20x256xf16>, memref<1x1x96x256xf16>, memref<1x1x96x256xf16>
      mask(%m : memref<1x4x20x96xf32>)
      outs(%o, %l : memref<1x4x20x256xf32>, memref<1x4x20xf32>) {kv_start = 64 : i64, causal, causal_offset = 100 : i64}
  return
}

// -----

// Per-sequence causal offsets (offsets[b]) and D 80 = 5 k-steps, Dv 80 = 10
// output n-tiles.
// CHECK-LABEL: func.func @offsets_d80
// CHECK:         gpu.func @prefill_attention(%{{.*}}: memref<3x2x40x80xf16>, %{{.*}}: memref<3x2x90x80xf16>, %{{.*}}: memref<3x2x90x80xf16>, %[[OFF:.*]]: memref<3xi32>, %{{.*}}: memref<3x2x40x80xf16>)
// CHECK:           %[[B:.*]] = gpu.block_id  z
// CHECK:           memref.load %[[OFF]][%[[B]]] : memref<3xi32>
// CHECK:           scf.for
// CHECK-COUNT-40:    nvgpu.mma.sync
// CHECK-COUNT-40:    nvgpu.mma.sync
// CHECK-NOT:         nvgpu.mma.sync
// CHECK:             scf.yield
func.func @offsets_d80(%q: memref<3x2x40x80xf16>, %k: memref<3x2x90x80xf16>, %v: memref<3x2x90x80xf16>, %off: memref<3xi32>, %o: memref<3x2x40x80xf16>) {
  kv.attention %q, %k, %v : memref<3x2x40x80xf16>, memref<3x2x90x80xf16>, memref<3x2x90x80xf16>
      offsets(%off : memref<3xi32>)
      outs(%o : memref<3x2x40x80xf16>) {causal}
  return
}
