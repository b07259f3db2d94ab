/* Parses kv IR through the installed C API and reads a cache type back. */
#include "kvfuse-c/Kvfuse.h"
#include "mlir-c/IR.h"

#include <stdio.h>

int main(void) {
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  kvfuseRegisterAllDialects(registry);
  MlirContext context = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  MlirType cache = mlirTypeParseGet(
      context, mlirStringRefCreateFromCString(
                   "!kv.cache<bf16, heads = 8, head_dim = 128, "
                   "capacity = 4096, layout = #kv.paged<page_size = 16>>"));
  if (mlirTypeIsNull(cache) || !kvfuseTypeIsACache(cache)) {
    printf("parse failed\n");
    return 1;
  }
  printf("heads %lld head_dim %lld capacity %lld page %lld\n",
         (long long)kvfuseCacheTypeGetHeads(cache),
         (long long)kvfuseCacheTypeGetHeadDim(cache),
         (long long)kvfuseCacheTypeGetCapacity(cache),
         (long long)kvfuseCacheTypeGetPageSize(cache));
  mlirContextDestroy(context);
  return 0;
}
