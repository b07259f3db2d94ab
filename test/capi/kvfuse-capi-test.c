/*===- kvfuse-capi-test.c - Drive kvfuse through its C API ----------------===*/
// RUN: %kvfuse_bin/kvfuse-capi-test 2>&1 | FileCheck %s

#include "kvfuse-c/Kvfuse.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#include <stdio.h>
#include <stdlib.h>

static void printToStdout(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stdout);
}

static const char *kDecode =
    "func.func @decode(%q: tensor<1x4x1x32xf32>,\n"
    "    %c: !kv.cache<f16, heads = 2, head_dim = 32, capacity = 16,\n"
    "                  layout = #kv.paged<page_size = 4>>,\n"
    "    %lens: tensor<1xi32>) -> tensor<1x4x1x32xf32> {\n"
    "  %i = tensor.empty() : tensor<1x4x1x32xf32>\n"
    "  %o = kv.cache_attention %q, %c, %lens : tensor<1x4x1x32xf32>,\n"
    "      !kv.cache<f16, heads = 2, head_dim = 32, capacity = 16,\n"
    "                layout = #kv.paged<page_size = 4>>, tensor<1xi32>\n"
    "      outs(%i : tensor<1x4x1x32xf32>) -> tensor<1x4x1x32xf32>\n"
    "  return %o : tensor<1x4x1x32xf32>\n"
    "}\n";

int main(void) {
  /* Diagnostics go to stderr: keep both streams in order. */
  setvbuf(stdout, NULL, _IONBF, 0);
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  kvfuseRegisterAllDialects(registry);
  kvfuseRegisterAllExtensions(registry);
  kvfuseRegisterAllPasses();
  kvfuseRegisterAllPipelines();
  MlirContext context = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);

  /* Build a cache type from C. */
  MlirType cache = kvfuseCacheTypeGet(context, mlirBF16TypeGet(context), 8,
                                      128, 0, 100, 16);
  // CHECK: cache: !kv.cache<bf16, heads = 8, head_dim = 128, capacity = 100, layout = #kv.paged<page_size = 16>>
  printf("cache: ");
  mlirTypePrint(cache, printToStdout, NULL);
  // CHECK-NEXT: paged 1 page 16 value_dim 128
  printf("\npaged %d page %lld value_dim %lld\n", kvfuseCacheTypeIsPaged(cache),
         (long long)kvfuseCacheTypeGetPageSize(cache),
         (long long)kvfuseCacheTypeGetValueHeadDim(cache));
  /* Invalid parameters give a null type, not a crash. */
  // CHECK: expects heads > 0, got 0
  // CHECK: invalid: null
  MlirType bad = kvfuseCacheTypeGet(context, mlirF32TypeGet(context), 0, 64,
                                    0, 8, 0);
  printf("invalid: %s\n", mlirTypeIsNull(bad) ? "null" : "not null");

  /* Parse, run a kvfuse pass, print. */
  MlirModule module =
      mlirModuleCreateParse(context, mlirStringRefCreateFromCString(kDecode));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "parse failed\n");
    return 1;
  }
  MlirPassManager pm = mlirPassManagerCreate(context);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      opm,
      mlirStringRefCreateFromCString(
          "builtin.module(func.func(kv-decompose-cache-attention))"),
      printToStdout, NULL);
  if (mlirLogicalResultIsFailure(parsed))
    return 1;
  if (mlirLogicalResultIsFailure(
          mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module))))
    return 1;
  // CHECK: func.func @decode
  // CHECK: kv.load
  // CHECK: kv.attention
  mlirOperationPrint(mlirModuleGetOperation(module), printToStdout, NULL);
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(context);
  return 0;
}
