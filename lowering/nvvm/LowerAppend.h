//===- LowerAppend.h - the kv.append kernel for NVVM lowerings -*- C++ -*-===//
//
// The cache view the NVVM kernels take and the append kernel, shared by
// kv-nvvm-lower-append (kv.append) and kv-nvvm-lower-decode (the append half
// of kv.append_attention).
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_NVVM_LOWERAPPEND_H
#define KVFUSE_LOWERING_NVVM_LOWERAPPEND_H

#include "dialects/kv/KvOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::kv {

/// A cache's pools and page table as kernel operands. The bare-pointer
/// kernel ABI needs static shapes, so the `kv.cache_view` results are
/// `memref.cast` to [B * pages_per_sequence, H, page_size, D] pools and a
/// [B, pages_per_sequence] table: the pages `batch` sequences address at
/// full capacity (kernels only index through the table, never by the pool
/// size; the runtime may hold a larger pool).
struct GpuCacheView {
  Value keys, values, table;
};
GpuCacheView createGpuCacheView(OpBuilder &b, Location loc, CacheViewOp view,
                                int64_t batch);

/// Emits an append kernel and its launch at the builder:
/// rows key [B, Hkv, S, D] and value [B, Hkv, S, Dv] are written, converted
/// to the cache type, at tokens lens[b] + t; tokens at or past the capacity
/// are skipped (the runtime reports overflow before the step).
/// Launch: grid (Hkv, B, 1), 128 threads; operands (key, value, key pool,
/// value pool, page table, lens).
void launchAppendKernel(OpBuilder &b, ModuleOp module, Location loc, Value key,
                        Value value, CacheType cache, const GpuCacheView &view,
                        Value lens);

/// Empty when `v` is a memref the kernels take (static shape, identity
/// layout), else the reason.
std::string kernelOperandProblem(Value v);

} // namespace mlir::kv

#endif // KVFUSE_LOWERING_NVVM_LOWERAPPEND_H
