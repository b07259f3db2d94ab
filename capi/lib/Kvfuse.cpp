//===- Kvfuse.cpp - C API of the kvfuse compiler --------------------------===//

#include "kvfuse-c/Kvfuse.h"

#include "dialects/kv/KvDialect.h"
#include "dialects/kv/KvTypes.h"
#include "tools/InitAll.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace mlir::kv;

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Kv, kv, mlir::kv::KvDialect)

void kvfuseRegisterAllDialects(MlirDialectRegistry registry) {
  kvfuse::registerAllDialects(*unwrap(registry));
}

void kvfuseRegisterAllExtensions(MlirDialectRegistry registry) {
  kvfuse::registerAllExtensions(*unwrap(registry));
}

void kvfuseRegisterAllPasses(void) { kvfuse::registerAllPasses(); }

void kvfuseRegisterAllPipelines(void) { kvfuse::registerAllPipelines(); }

bool kvfuseTypeIsACache(MlirType type) { return isa<CacheType>(unwrap(type)); }

MlirType kvfuseCacheTypeGet(MlirContext context, MlirType elementType,
                            int64_t heads, int64_t headDim, int64_t valueDim,
                            int64_t capacity, int64_t pageSize) {
  MLIRContext *ctx = unwrap(context);
  ctx->getOrLoadDialect<KvDialect>();
  Attribute layout = pageSize == 0
                         ? Attribute(ContiguousLayoutAttr::get(ctx))
                         : Attribute(PagedLayoutAttr::getChecked(
                               [&] { return emitError(UnknownLoc::get(ctx)); },
                               ctx, pageSize));
  if (!layout)
    return wrap(Type());
  return wrap(CacheType::getChecked(
      [&] { return emitError(UnknownLoc::get(ctx)); }, ctx,
      unwrap(elementType), heads, headDim, valueDim, capacity, layout,
      Type()));
}

MlirType kvfuseCacheTypeGetElementType(MlirType type) {
  return wrap(cast<CacheType>(unwrap(type)).getElementType());
}
int64_t kvfuseCacheTypeGetHeads(MlirType type) {
  return cast<CacheType>(unwrap(type)).getHeads();
}
int64_t kvfuseCacheTypeGetHeadDim(MlirType type) {
  return cast<CacheType>(unwrap(type)).getHeadDim();
}
int64_t kvfuseCacheTypeGetValueHeadDim(MlirType type) {
  return cast<CacheType>(unwrap(type)).getValueHeadDim();
}
int64_t kvfuseCacheTypeGetCapacity(MlirType type) {
  return cast<CacheType>(unwrap(type)).getCapacity();
}
int64_t kvfuseCacheTypeGetPageSize(MlirType type) {
  return cast<CacheType>(unwrap(type)).getPageSize();
}
bool kvfuseCacheTypeIsPaged(MlirType type) {
  return cast<CacheType>(unwrap(type)).isPaged();
}
