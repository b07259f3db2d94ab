//===- KvAttrs.cpp - kv dialect attributes --------------------------------===//

#include "dialects/kv/KvAttrs.h"
#include "dialects/kv/KvDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kv;

#define GET_ATTRDEF_CLASSES
#include "dialects/kv/KvAttrs.cpp.inc"

LogicalResult
PagedLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t pageSize) {
  if (pageSize <= 0)
    return emitError() << "expects page_size > 0, got " << pageSize;
  return success();
}

LogicalResult
CpuTilesAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     int64_t rowsPerHead, int64_t keyBlock, int64_t splits,
                     StringRef scoreKernel) {
  if (rowsPerHead <= 0 || keyBlock <= 0 || splits <= 0)
    return emitError() << "expects rows_per_head, key_block and splits > 0";
  if (scoreKernel != "dot" && scoreKernel != "transposed-keys" &&
      scoreKernel != "transposed-queries")
    return emitError() << "expects score_kernel dot, transposed-keys or "
                          "transposed-queries, got '"
                       << scoreKernel << "'";
  return success();
}

void KvDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/kv/KvAttrs.cpp.inc"
      >();
}
