//===- KvTypes.cpp - kv dialect types -------------------------------------===//

#include "dialects/kv/KvTypes.h"
#include "dialects/kv/KvDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kv;

#define GET_TYPEDEF_CLASSES
#include "dialects/kv/KvTypes.cpp.inc"

static bool isQuantizedStorageType(Type type) {
  if (type.isSignlessInteger(8))
    return true;
  auto floatType = dyn_cast<FloatType>(type);
  return floatType && floatType.getWidth() == 8;
}

LogicalResult CacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                Type elementType, int64_t heads,
                                int64_t headDim, int64_t valueDim,
                                int64_t capacity, Attribute layout,
                                Type scale) {
  bool quantized = isQuantizedStorageType(elementType);
  if (!quantized && !elementType.isF32() && !elementType.isF16() &&
      !elementType.isBF16())
    return emitError() << "expects element type f32, f16, bf16, i8 or an "
                          "8-bit float, got "
                       << elementType;
  if (quantized && !scale)
    return emitError() << "expects a scale type for quantised element type "
                       << elementType;
  if (!quantized && scale)
    return emitError() << "expects no scale for element type " << elementType
                       << ", got scale " << scale;
  if (scale && !isa<FloatType>(scale))
    return emitError() << "expects a float scale type, got " << scale;
  if (heads <= 0)
    return emitError() << "expects heads > 0, got " << heads;
  if (headDim <= 0)
    return emitError() << "expects head_dim > 0, got " << headDim;
  if (valueDim < 0)
    return emitError() << "expects value_dim > 0, got " << valueDim;
  if (capacity <= 0)
    return emitError() << "expects capacity > 0, got " << capacity;
  if (!isa<ContiguousLayoutAttr, PagedLayoutAttr>(layout))
    return emitError() << "expects layout #kv.contiguous or #kv.paged, got "
                       << layout;
  return success();
}

bool CacheType::isPaged() const { return isa<PagedLayoutAttr>(getLayout()); }

int64_t CacheType::getPageSize() const {
  if (auto paged = dyn_cast<PagedLayoutAttr>(getLayout()))
    return paged.getPageSize();
  return getCapacity();
}

int64_t CacheType::getPagesPerSequence() const {
  int64_t page = getPageSize();
  return (getCapacity() + page - 1) / page;
}

void KvDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/kv/KvTypes.cpp.inc"
      >();
}
