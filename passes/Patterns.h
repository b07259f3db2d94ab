//===- Patterns.h - kv rewrite pattern sets ---------------------*- C++ -*-===//

#ifndef KVFUSE_PASSES_PATTERNS_H
#define KVFUSE_PASSES_PATTERNS_H

namespace mlir {
class RewritePatternSet;
namespace kv {
/// kv.cache_attention -> kv.load + kv.attention with per-sequence offsets.
void populateDecomposeCacheAttentionPatterns(RewritePatternSet &patterns);
/// kv.append + kv.cache_attention on one cache, with kv_lens provably
/// past_lens + S and nothing touching the cache in between ->
/// kv.append_attention.
void populateFuseAppendPatterns(RewritePatternSet &patterns);
} // namespace kv
} // namespace mlir

#endif // KVFUSE_PASSES_PATTERNS_H
