//===- LaunchSchedule.h - a host function as a GPU launch list ---*- C++ -*-===//
//
// After the NVVM lowerings, a public function's body is a straight-line list
// of kernel launches on buffers (see KernelModule.h). The runtime executes
// that list from the artifact's manifest instead of compiled host code, so
// the runtime needs no MLIR and no CUDA runtime library.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_NVVM_LAUNCHSCHEDULE_H
#define KVFUSE_LOWERING_NVVM_LAUNCHSCHEDULE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::kv {

/// Writes the manifest records of `host` (kvfuse/runtime.h's GPU entry
/// format): `scratch N bytes=B` for each static `memref.alloc`, then in
/// program order `launch kernel=K grid=XxYxZ block=XxYxZ smem=S args=...`
/// for each `gpu.launch_func` and `copy src=.. dst=.. bytes=..` for each
/// `memref.copy`. Buffers are named `aK` (argument K), `aK.keys`,
/// `aK.values`, `aK.table` (a cache argument's `kv.cache_view`) and `sN`.
/// Fails with a diagnostic at the first op that is not such a step, e.g. a
/// kv op no NVVM lowering handled.
LogicalResult describeLaunchSchedule(func::FuncOp host,
                                     llvm::raw_ostream &os);

} // namespace mlir::kv

#endif // KVFUSE_LOWERING_NVVM_LAUNCHSCHEDULE_H
