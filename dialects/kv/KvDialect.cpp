//===- KvDialect.cpp - kv dialect -----------------------------------------===//

#include "dialects/kv/KvDialect.h"
#include "dialects/kv/KvAttrs.h"
#include "dialects/kv/KvOps.h"

using namespace mlir;
using namespace mlir::kv;

#include "dialects/kv/KvDialect.cpp.inc"

void KvDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "dialects/kv/KvOps.cpp.inc"
      >();
}

LogicalResult KvDialect::verifyRegionArgAttribute(Operation *op,
                                                  unsigned regionIndex,
                                                  unsigned argIndex,
                                                  NamedAttribute attribute) {
  StringRef name = attribute.getName().strref();
  if (name == "kv.name") {
    if (!isa<StringAttr>(attribute.getValue()))
      return op->emitError() << "expects kv.name to be a string, got "
                             << attribute.getValue();
    return success();
  }
  if (name != "kv.role")
    return op->emitError() << "unknown kv argument attribute '" << name
                           << "'";
  auto role = dyn_cast<StringAttr>(attribute.getValue());
  if (!role || !llvm::is_contained({"input", "past_lens", "kv_lens"},
                                   role.getValue()))
    return op->emitError() << "expects kv.role to be \"input\", "
                              "\"past_lens\" or \"kv_lens\", got "
                           << attribute.getValue();
  if (role.getValue() == "input")
    return success();
  Region &region = op->getRegion(regionIndex);
  if (region.empty())
    return success();
  Type type = region.getArgument(argIndex).getType();
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || shaped.getRank() != 1 ||
      !shaped.getElementType().isInteger(32))
    return op->emitError() << "expects a " << role.getValue()
                           << " argument of type tensor<Bxi32>, got " << type;
  return success();
}

LogicalResult KvDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attribute) {
  if (attribute.getName().strref() == kCpuTilesAttrName) {
    // A CPU tiling plan (kv-cpu-plan-tiles): on attention ops only.
    if (!isa<CpuTilesAttr>(attribute.getValue()))
      return op->emitError() << "expects kv.cpu_tiles to be a "
                                "#kv.cpu_tiles<...>, got "
                             << attribute.getValue();
    if (!isa<AttentionOpInterface>(op))
      return op->emitError() << "kv.cpu_tiles is only valid on attention ops";
    return success();
  }
  if (attribute.getName().strref() != "kv.step_tokens")
    return op->emitError() << "unknown kv attribute '"
                           << attribute.getName().strref() << "'";
  auto tokens = dyn_cast<IntegerAttr>(attribute.getValue());
  if (!tokens || tokens.getInt() < 0)
    return op->emitError()
           << "expects kv.step_tokens to be a non-negative integer, got "
           << attribute.getValue();
  return success();
}
