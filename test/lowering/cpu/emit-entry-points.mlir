// RUN: kvfuse-opt %s --kv-cpu-emit-entry-points -split-input-file -verify-diagnostics | FileCheck %s

// Each public function gets kvfuse_entry_<name>(void **args): args[i] is
// loaded and wrapped in a row-major memref descriptor (or cast to the cache
// handle); the function itself becomes internal.
// CHECK-LABEL: func.func @kvfuse_entry_step(
// CHECK-SAME:    %[[ARGS:.*]]: !llvm.ptr)
// CHECK:         %[[SLOT0:.*]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK:         %[[Q:.*]] = llvm.load %[[SLOT0]] : !llvm.ptr -> !llvm.ptr
// CHECK:         llvm.mlir.poison : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
// CHECK:         llvm.insertvalue %[[Q]], {{.*}}[0]
// CHECK:         llvm.insertvalue %[[Q]], {{.*}}[1]
// CHECK:         %[[C3:.*]] = llvm.mlir.constant(3 : i64)
// CHECK:         llvm.insertvalue %[[C3]], {{.*}}[3, 1]
// CHECK:         %[[QM:.*]] = builtin.unrealized_conversion_cast {{.*}} to memref<2x3xf32>
// CHECK:         %[[SLOT1:.*]] = llvm.getelementptr %[[ARGS]][1]
// CHECK:         %[[C:.*]] = llvm.load %[[SLOT1]]
// CHECK:         %[[CACHE:.*]] = builtin.unrealized_conversion_cast %[[C]] : !llvm.ptr to !kv.cache
// CHECK:         llvm.getelementptr %[[ARGS]][2]
// CHECK:         call @step(%[[QM]], %[[CACHE]], %{{.*}})
// CHECK:         return
// CHECK-LABEL: func.func private @step(
// CHECK-SAME:    attributes {llvm.linkage = #llvm.linkage<internal>}
func.func @step(%q: memref<2x3xf32> {kv.name = "q"},
                %cache: !kv.cache<f32, heads = 1, head_dim = 3, capacity = 8>,
                %out: memref<2x3xf32>) {
  return
}
// Private functions are not entry points and are not exported.
// CHECK-NOT:   kvfuse_entry_helper
// CHECK-LABEL: func.func private @helper(
// CHECK-SAME:    attributes {llvm.linkage = #llvm.linkage<internal>}
func.func private @helper(%x: memref<4xf32>) {
  return
}

// -----

// expected-error @+1 {{expects no results at an entry point (run buffer-results-to-out-params first), got 1}}
func.func @returns(%x: memref<4xf32>) -> memref<4xf32> {
  return %x : memref<4xf32>
}

// -----

// expected-error @+1 {{expects entry-point argument 0 to be a !kv.cache or a memref of static shape and identity layout, got 'memref<?xf32>'}}
func.func @dynamic(%x: memref<?xf32>) {
  return
}
