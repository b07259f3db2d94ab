// One decode step over static-size K/V cache tensors of 64 slots: the step's
// K/V row is written with tensor.insert_slice at the runtime position held
// in %pos (past), and attention runs over all 64 slots with a mask built from
// linalg.index that keeps keys j < past + 1. kv-raise-attention turns the
// mask into kv_lens = past + 1 and keeps the insert_slice ops (the updated
// caches are results 1 and 2). Checked by DecoderTest.cpp
// (CacheInsert.*): fused vs --raise=false vs a float64 reference.
func.func @decode_step_cache_insert(%q: tensor<2x1x8xf32>, %k_cache: tensor<2x64x8xf32>, %v_cache: tensor<2x64x8xf32>, %k_new: tensor<2x1x8xf32>, %v_new: tensor<2x1x8xf32>, %pos: tensor<1xi32>) -> (tensor<2x1x8xf32>, tensor<2x64x8xf32>, tensor<2x64x8xf32>) {
  %c0 = arith.constant 0 : index
  %pos0 = tensor.extract %pos[%c0] : tensor<1xi32>
  %past = arith.index_cast %pos0 : i32 to index
  %kc = tensor.insert_slice %k_new into %k_cache[0, %past, 0] [2, 1, 8] [1, 1, 1] : tensor<2x1x8xf32> into tensor<2x64x8xf32>
  %vc = tensor.insert_slice %v_new into %v_cache[0, %past, 0] [2, 1, 8] [1, 1, 1] : tensor<2x1x8xf32> into tensor<2x64x8xf32>
  %zero = arith.constant 0.0 : f32
  %kt_e = tensor.empty() : tensor<2x8x64xf32>
  %kt = linalg.transpose ins(%kc : tensor<2x64x8xf32>) outs(%kt_e : tensor<2x8x64xf32>) permutation = [0, 2, 1]
  %s_e = tensor.empty() : tensor<2x1x64xf32>
  %s_z = linalg.fill ins(%zero : f32) outs(%s_e : tensor<2x1x64xf32>) -> tensor<2x1x64xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x1x8xf32>, tensor<2x8x64xf32>) outs(%s_z : tensor<2x1x64xf32>) -> tensor<2x1x64xf32>
  %ss_e = tensor.empty() : tensor<2x1x64xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x1x64xf32>) outs(%ss_e : tensor<2x1x64xf32>) {
  ^bb0(%x: f32, %y: f32):
    %half = arith.constant 0.5 : f32
    %h = arith.mulf %x, %half : f32
    linalg.yield %h : f32
  } -> tensor<2x1x64xf32>
  %m_e = tensor.empty() : tensor<1x64xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%m_e : tensor<1x64xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.constant 1 : index
    %bound = arith.addi %past, %c : index
    %vis = arith.cmpi slt, %j, %bound : index
    %ninf = arith.constant 0xFF800000 : f32
    %z = arith.constant 0.0 : f32
    %r = arith.select %vis, %z, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<1x64xf32>
  %u_e = tensor.empty() : tensor<2x1x64xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ss, %m : tensor<2x1x64xf32>, tensor<1x64xf32>) outs(%u_e : tensor<2x1x64xf32>) {
  ^bb0(%x: f32, %y: f32, %w: f32):
    %sum = arith.addf %x, %y : f32
    linalg.yield %sum : f32
  } -> tensor<2x1x64xf32>
  %p_e = tensor.empty() : tensor<2x1x64xf32>
  %p = linalg.softmax dimension(2) ins(%u : tensor<2x1x64xf32>) outs(%p_e : tensor<2x1x64xf32>) -> tensor<2x1x64xf32>
  %o_e = tensor.empty() : tensor<2x1x8xf32>
  %o_z = linalg.fill ins(%zero : f32) outs(%o_e : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  %o = linalg.batch_matmul ins(%p, %vc : tensor<2x1x64xf32>, tensor<2x64x8xf32>) outs(%o_z : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  return %o, %kc, %vc : tensor<2x1x8xf32>, tensor<2x64x8xf32>, tensor<2x64x8xf32>
}
