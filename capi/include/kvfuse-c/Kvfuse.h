/*===- kvfuse-c/Kvfuse.h - C API of the kvfuse compiler -----------*- C -*-===//
 *
 * Registration of the kv dialect, kvfuse's passes and pipelines, and access
 * to the !kv.cache type, for programs that drive MLIR through its C API.
 * libKvfuseCAPI.so carries MLIR's core C API too (mlirContextCreate, ...).
 *
 *===----------------------------------------------------------------------===*/

#ifndef KVFUSE_C_KVFUSE_H
#define KVFUSE_C_KVFUSE_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Kv, kv);

/* The same registration as kvfuse-opt: the kv dialect, the upstream dialects
 * its pipelines produce, their extensions, passes and named pipelines. */
MLIR_CAPI_EXPORTED void kvfuseRegisterAllDialects(MlirDialectRegistry registry);
MLIR_CAPI_EXPORTED void
kvfuseRegisterAllExtensions(MlirDialectRegistry registry);
MLIR_CAPI_EXPORTED void kvfuseRegisterAllPasses(void);
MLIR_CAPI_EXPORTED void kvfuseRegisterAllPipelines(void);

/* !kv.cache. `valueDim` 0 means "same as headDim"; `pageSize` 0 means the
 * contiguous layout. Returns a null type (and emits a diagnostic) when the
 * parameters are invalid. */
MLIR_CAPI_EXPORTED bool kvfuseTypeIsACache(MlirType type);
MLIR_CAPI_EXPORTED MlirType kvfuseCacheTypeGet(MlirContext context,
                                               MlirType elementType,
                                               int64_t heads, int64_t headDim,
                                               int64_t valueDim,
                                               int64_t capacity,
                                               int64_t pageSize);
MLIR_CAPI_EXPORTED MlirType kvfuseCacheTypeGetElementType(MlirType type);
MLIR_CAPI_EXPORTED int64_t kvfuseCacheTypeGetHeads(MlirType type);
MLIR_CAPI_EXPORTED int64_t kvfuseCacheTypeGetHeadDim(MlirType type);
MLIR_CAPI_EXPORTED int64_t kvfuseCacheTypeGetValueHeadDim(MlirType type);
MLIR_CAPI_EXPORTED int64_t kvfuseCacheTypeGetCapacity(MlirType type);
/* Tokens per page; the capacity for a contiguous cache. */
MLIR_CAPI_EXPORTED int64_t kvfuseCacheTypeGetPageSize(MlirType type);
MLIR_CAPI_EXPORTED bool kvfuseCacheTypeIsPaged(MlirType type);

#ifdef __cplusplus
}
#endif

#endif /* KVFUSE_C_KVFUSE_H */
