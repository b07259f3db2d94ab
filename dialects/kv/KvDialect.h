//===- KvDialect.h - kv dialect ---------------------------------*- C++ -*-===//

#ifndef KVFUSE_DIALECTS_KV_KVDIALECT_H
#define KVFUSE_DIALECTS_KV_KVDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialects/kv/KvDialect.h.inc"

#endif // KVFUSE_DIALECTS_KV_KVDIALECT_H
