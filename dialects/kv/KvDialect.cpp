//===- KvDialect.cpp - kv dialect -----------------------------------------===//

#include "dialects/kv/KvDialect.h"
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
