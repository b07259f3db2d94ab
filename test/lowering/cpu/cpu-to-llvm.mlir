// RUN: kvfuse-opt %s --kv-cpu-to-llvm | FileCheck %s

// A cache handle is a pointer to kvfuse_cache_desc {key_pool, value_pool,
// page_table, num_pages, pages_per_seq}; kv.cache_view loads its fields
// into row-major memref descriptors whose page extent is num_pages.
// CHECK-LABEL: llvm.func @view(
// CHECK-SAME:    %[[DESC:.*]]: !llvm.ptr) -> f16
// CHECK:         %[[NP_ADDR:.*]] = llvm.getelementptr %[[DESC]][0, 3] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, ptr, i64, i64)>
// CHECK:         %[[NP:.*]] = llvm.load %[[NP_ADDR]] : !llvm.ptr -> i64
// CHECK:         %[[K_ADDR:.*]] = llvm.getelementptr %[[DESC]][0, 0]
// CHECK:         %[[K:.*]] = llvm.load %[[K_ADDR]] : !llvm.ptr -> !llvm.ptr
// CHECK:         llvm.insertvalue %[[K]], {{.*}}[1] : !llvm.struct<(ptr, ptr, i64, array<4 x i64>, array<4 x i64>)>
// CHECK:         llvm.insertvalue %[[NP]], {{.*}}[3, 0]
// CHECK:         llvm.mlir.constant(256 : index)
// CHECK:         %[[V_ADDR:.*]] = llvm.getelementptr %[[DESC]][0, 1]
// CHECK:         %[[T_ADDR:.*]] = llvm.getelementptr %[[DESC]][0, 2]
// CHECK:         %[[T:.*]] = llvm.load %[[T_ADDR]] : !llvm.ptr -> !llvm.ptr
// CHECK:         llvm.load {{.*}} : !llvm.ptr -> i32
// CHECK:         llvm.sext
// CHECK:         llvm.load {{.*}} : !llvm.ptr -> f16
// CHECK-NOT:     kv.
// CHECK-NOT:     unrealized_conversion_cast
func.func @view(%cache: !kv.cache<f16, heads = 2, head_dim = 8, capacity = 64, layout = #kv.paged<page_size = 16>>) -> f16 {
  %k, %v, %t = kv.cache_view %cache : !kv.cache<f16, heads = 2, head_dim = 8, capacity = 64, layout = #kv.paged<page_size = 16>>
      -> memref<?x2x16x8xf16>, memref<?x2x16x8xf16>, memref<?x4xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %p = memref.load %t[%c1, %c0] : memref<?x4xi32>
  %pi = arith.index_cast %p : i32 to index
  %x = memref.load %v[%pi, %c1, %c0, %c1] : memref<?x2x16x8xf16>
  return %x : f16
}

// math.tanh (soft-cap) is expanded through exp before reaching LLVM.
// CHECK-LABEL: llvm.func @softcap
// CHECK-NOT:     math.tanh
// CHECK:         llvm.intr.exp
func.func @softcap(%x: f32) -> f32 {
  %t = math.tanh %x : f32
  return %t : f32
}
