//===- Patterns.h - target-neutral kv lowering patterns ---------*- C++ -*-===//

#ifndef KVFUSE_LOWERING_COMMON_PATTERNS_H
#define KVFUSE_LOWERING_COMMON_PATTERNS_H

#include <cstdint>

namespace mlir {
class RewritePatternSet;
namespace kv {
/// kv ops in memref form -> scf/memref/arith/math loops; attention rows use
/// an online softmax over blocks of `keyBlock` keys.
void populateKvToLoopsPatterns(RewritePatternSet &patterns,
                               int64_t keyBlock = 64);
} // namespace kv
} // namespace mlir

#endif // KVFUSE_LOWERING_COMMON_PATTERNS_H
