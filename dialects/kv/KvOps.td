//===- KvOps.td - kv dialect operations -------------------*- tablegen -*-===//
//
// Attention ops follow destination-passing style (like linalg): they take
// their result buffers as `outs` operands and work on tensors (one result per
// init) or on memrefs (no results, after bufferization).
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_DIALECTS_KV_KVOPS_TD
#define KVFUSE_DIALECTS_KV_KVOPS_TD

include "dialects/kv/KvBase.td"
include "dialects/kv/KvTypes.td"
include "dialects/kv/KvInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"

def Kv_Shaped : AnyTypeOf<[AnyRankedTensor, AnyMemRef],
                          "ranked tensor or memref">;
def Kv_LengthsShaped : AnyTypeOf<[RankedTensorOf<[I32]>, MemRefOf<[I32]>],
                                 "i32 ranked tensor or memref">;

// Score and mask attributes shared by all attention ops; see the design's
// semantic contract.
defvar Kv_ScoreAttrs = (ins
  OptionalAttr<F32Attr>:$scale,
  OptionalAttr<F32Attr>:$softcap,
  UnitAttr:$causal,
  DefaultValuedAttr<I64Attr, "-1">:$window_left,
  DefaultValuedAttr<I64Attr, "-1">:$window_right
);

// GQA packing (kv-pack-gqa), last so that builders taking the attributes
// above in order are unaffected.
defvar Kv_PackingAttr = (ins DefaultValuedAttr<I64Attr, "1">:$packed_heads);

class Kv_AttentionBaseOp<string mnemonic, list<Trait> traits = []>
    : Kv_Op<mnemonic, !listconcat(traits, [
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
        DestinationStyleOpInterface,
        DeclareOpInterfaceMethods<Kv_AttentionOpInterface,
                                  ["getNumKvHeads", "getKeyHeadDim",
                                   "getValueHeadDim", "getOutputInit",
                                   "getLseOutputInit"]>])> {
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// kv.attention
//===----------------------------------------------------------------------===//

def Kv_AttentionOp : Kv_AttentionBaseOp<"attention",
                                          [AttrSizedOperandSegments]> {
  let summary = "Scaled, masked softmax attention over explicit K and V";
  let description = [{
    Computes, for every batch entry `b`, query head `h` and query row `i`,

    ```
    s[j] = scale * dot(Q[b, h, i, :], K[b, h / G, j, :])   (G = Hq / Hkv)
    s[j] = softcap * tanh(s[j] / softcap)                   (if softcap)
    s[j] = s[j] + mask[..]  or  -inf where a bool mask is false
    s[j] = -inf  where j is outside the causal / window / length bounds
    O[b, h, i, :] = sum_j softmax(s)[j] * V[b, h / G, j, :]
    ```

    with `Q: [B, Hq, Sq, D]`, `K: [B, Hkv, Skv, D]`, `V: [B, Hkv, Skv, Dv]`
    and `O: [B, Hq, Sq, Dv]`. Scores are accumulated in f32 whatever the
    storage type; `scale` defaults to `1/sqrt(D)`.

    Query row `i` sits at position `p = i + offset`, where `offset` is the
    `causal_offset` attribute, or `offsets[b]` when the `offsets` operand is
    given. `causal` keeps keys `j <= p`; the window keeps
    `p - window_left <= j <= p + window_right` (-1: unbounded on that side).
    `kv_lens[b]` keys are valid in sequence `b` (all `Skv` without it). The
    explicit `mask` broadcasts to `[B, Hq, Sq, Skv]`: `i1` (true = attend) or
    float (added to the scores). A row whose keys are all masked yields 0.

    GQA packing (`kv-pack-gqa`): with `packed_heads = P` (default 1), each
    head of `Q` and `O` holds the rows of `P` consecutive query heads, head
    by head: `Q: [B, Hq / P, P * Sq, D]`, `O: [B, Hq / P, P * Sq, Dv]`, and
    row `r` of head `h'` is row `i = r mod Sq` of query head
    `h = h' * P + r / Sq`, which is a reshape of the unpacked operands.
    Everything above (masks, positions, the explicit mask's broadcast to
    `[B, Hq, Sq, Skv]`) is stated for `(h, i)`. `P` divides the group `G`,
    so all rows of a packed head share one KV head and a back end can read
    each K/V row once for all of them. Every attention op takes this
    attribute with this meaning (log-sum-exp destinations are packed like
    the output).

    ```mlir
    %o = kv.attention %q, %k, %v
           : tensor<1x32x128x128xf32>, tensor<1x8x128x128xf32>,
             tensor<1x8x128x128xf32>
           outs(%init : tensor<1x32x128x128xf32>)
           {causal, causal_offset = 0 : i64} -> tensor<1x32x128x128xf32>
    ```
  }];
  let arguments = !con((ins
    Kv_Shaped:$query, Kv_Shaped:$key, Kv_Shaped:$value,
    Optional<Kv_Shaped>:$mask,
    Optional<Kv_LengthsShaped>:$kv_lens,
    Optional<Kv_LengthsShaped>:$offsets,
    Kv_Shaped:$init),
    Kv_ScoreAttrs,
    (ins DefaultValuedAttr<I64Attr, "0">:$causal_offset),
    Kv_PackingAttr);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `:` type($query) `,` type($key) `,`
    type($value)
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`kv_lens` `(` $kv_lens^ `:` type($kv_lens) `)`)?
    (`offsets` `(` $offsets^ `:` type($offsets) `)`)?
    `outs` `(` $init `:` type($init) `)` attr-dict (`->` type($result)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getInitMutable();
    }
  }];
}

//===----------------------------------------------------------------------===//
// kv.partial_attention
//===----------------------------------------------------------------------===//

def Kv_PartialAttentionOp
    : Kv_AttentionBaseOp<"partial_attention", [AttrSizedOperandSegments]> {
  let summary = "Attention over a slice of the keys, returning (O, LSE)";
  let description = [{
    The online form of `kv.attention`: it attends to the keys of one slice
    `[kv_start, kv_start + Skv)` of a longer sequence and returns the partial
    output normalised over that slice together with the log-sum-exp `LSE` of
    the slice's (scaled, capped, masked) scores, both in f32. Key `j` of the
    slice is key `kv_start + j` for the causal, window and length masks; the
    explicit mask is indexed by slice position. A slice with no visible key
    gives `O = 0`, `LSE = -inf`. Partial results merge with `kv.merge`;
    merging the slices of a split gives `kv.attention` on the whole sequence.

    Split form (flash-decoding): with outputs `[N, B, Hq, Sq, Dv]` and
    `[N, B, Hq, Sq]` the op returns `N` partial results whose `kv.merge` is
    the result above. Each row's visible keys are divided among the `N`
    partials in contiguous, disjoint chunks (every key in exactly one); how
    they are divided is the back end's choice, so only the merge is
    defined, not each partial. A partial with no key is `(0, -inf)`.

    ```mlir
    %o, %lse = kv.partial_attention %q, %k, %v
        : tensor<8x32x1x128xf32>, tensor<8x8x512x128xf32>,
          tensor<8x8x512x128xf32>
        kv_lens(%lens : tensor<8xi32>)
        outs(%o0, %l0 : tensor<8x32x1x128xf32>, tensor<8x32x1xf32>)
        {kv_start = 1024 : i64}
        -> tensor<8x32x1x128xf32>, tensor<8x32x1xf32>
    ```
  }];
  let arguments = !con((ins
    Kv_Shaped:$query, Kv_Shaped:$key, Kv_Shaped:$value,
    Optional<Kv_Shaped>:$mask,
    Optional<Kv_LengthsShaped>:$kv_lens,
    Optional<Kv_LengthsShaped>:$offsets,
    Kv_Shaped:$out_init, Kv_Shaped:$lse_init),
    Kv_ScoreAttrs,
    (ins DefaultValuedAttr<I64Attr, "0">:$causal_offset,
         DefaultValuedAttr<I64Attr, "0">:$kv_start),
    Kv_PackingAttr);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $query `,` $key `,` $value `:` type($query) `,` type($key) `,`
    type($value)
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`kv_lens` `(` $kv_lens^ `:` type($kv_lens) `)`)?
    (`offsets` `(` $offsets^ `:` type($offsets) `)`)?
    `outs` `(` $out_init `,` $lse_init `:` type($out_init) `,`
    type($lse_init) `)` attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(),
          getOutInitMutable().getOperandNumber(), 2);
    }
  }];
}

//===----------------------------------------------------------------------===//
// kv.cache_attention
//===----------------------------------------------------------------------===//

def Kv_CacheAttentionOp : Kv_AttentionBaseOp<"cache_attention",
                                              [AttrSizedOperandSegments]> {
  let summary = "Attention of new query tokens against a KV cache";
  let description = [{
    Attention of `Q: [B, Hq, Sq, D]` against the first `kv_lens[b]` tokens of
    each sequence of `cache` (which already holds this step's new tokens:
    append first). Prefill with a cache and decode (`Sq` = 1 or a few
    speculative tokens) are the same op. Query row `i` sits at position
    `kv_lens[b] - Sq + i` (bottom-right alignment): the causal mask lets it
    see keys `j <= kv_lens[b] - Sq + i`, and windows are relative to that
    position. The explicit mask, if any, broadcasts to
    `[B, Hq, Sq, capacity]`. Cached K/V are converted to f32 on load.

    With a second destination `lse_init: [B, Hq, Sq]` (f32) the op also
    returns each row's log-sum-exp, and with a leading split dim on both
    (`[N, B, Hq, Sq, Dv]`, `[N, B, Hq, Sq]`, f32) it returns `N` partial
    results whose `kv.merge` is the attention: the split form of
    `kv.partial_attention` (each row's visible keys divided among the
    partials in contiguous chunks as the back end chooses), which
    `kv-split-kv` produces for flash-decoding.

    ```mlir
    %o = kv.cache_attention %q, %cache, %lens
           : tensor<8x32x1x128xf32>,
             !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096>,
             tensor<8xi32>
           outs(%init : tensor<8x32x1x128xf32>) -> tensor<8x32x1x128xf32>
    ```
  }];
  let arguments = !con((ins
    Kv_Shaped:$query, Kv_CacheType:$cache, Kv_LengthsShaped:$kv_lens,
    Optional<Kv_Shaped>:$mask,
    Kv_Shaped:$init, Optional<Kv_Shaped>:$lse_init),
    Kv_ScoreAttrs, Kv_PackingAttr);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $query `,` $cache `,` $kv_lens `:` type($query) `,` qualified(type($cache))
    `,` type($kv_lens)
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    `outs` `(` $init (`,` $lse_init^)? `:` type($init)
    (`,` type($lse_init)^)? `)` attr-dict (`->` type($result)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(),
          getInitMutable().getOperandNumber(), getLseInit() ? 2 : 1);
    }
    ::mlir::kv::CacheType getCacheType() {
      return ::llvm::cast<::mlir::kv::CacheType>(getCache().getType());
    }
  }];
}

//===----------------------------------------------------------------------===//
// kv.merge
//===----------------------------------------------------------------------===//

def Kv_MergeOp : Kv_Op<"merge", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DestinationStyleOpInterface]> {
  let summary = "Merge N partial attention results by their log-sum-exp";
  let description = [{
    Combines `N` partial results `O_n: [N, B, Hq, Sq, Dv]`, `LSE_n: [N, B, Hq,
    Sq]` (f32) of disjoint key slices:

    ```
    m = max_n LSE_n;  w_n = exp(LSE_n - m)
    O = sum_n w_n O_n / sum_n w_n;  LSE = m + log(sum_n w_n)
    ```

    Slices with `LSE = -inf` contribute nothing; if all are `-inf` the row is
    fully masked and gives `O = 0`, `LSE = -inf`. The merge is associative, so
    splits can be merged in any grouping.

    ```mlir
    %o, %lse = kv.merge %parts, %lses
        : tensor<4x8x32x1x128xf32>, tensor<4x8x32x1xf32>
        outs(%o0, %l0 : tensor<8x32x1x128xf32>, tensor<8x32x1xf32>)
        -> tensor<8x32x1x128xf32>, tensor<8x32x1xf32>
    ```
  }];
  let arguments = (ins Kv_Shaped:$partial_out, Kv_Shaped:$partial_lse,
                       Kv_Shaped:$out_init, Kv_Shaped:$lse_init);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $partial_out `,` $partial_lse `:` type($partial_out) `,`
    type($partial_lse)
    `outs` `(` $out_init `,` $lse_init `:` type($out_init) `,`
    type($lse_init) `)` attr-dict (`->` type($results)^)?
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(), 2, 2);
    }
  }];
}

//===----------------------------------------------------------------------===//
// kv.append
//===----------------------------------------------------------------------===//

def Kv_AppendOp : Kv_Op<"append", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Write new K/V rows at each sequence's current length";
  let description = [{
    Writes `K_new: [B, Hkv, S, D]` and `V_new: [B, Hkv, S, Dv]` into `cache`
    at tokens `[lens[b], lens[b] + S)` of sequence `b`, converting to the
    cache's element type. `lens` holds the lengths before the append; the
    caller (the runtime) advances them. Writing past the capacity is an error
    that the runtime reports before the step runs.

    ```mlir
    kv.append %k, %v, %cache, %lens
        : tensor<1x8x16x128xf32>, tensor<1x8x16x128xf32>,
          !kv.cache<f32, heads = 8, head_dim = 128, capacity = 4096>,
          tensor<1xi32>
    ```
  }];
  let arguments = (ins Kv_Shaped:$key, Kv_Shaped:$value,
                       Kv_CacheType:$cache, Kv_LengthsShaped:$lens);
  let assemblyFormat = [{
    $key `,` $value `,` $cache `,` $lens attr-dict `:` type($key) `,`
    type($value) `,` qualified(type($cache)) `,` type($lens)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::kv::CacheType getCacheType() {
      return ::llvm::cast<::mlir::kv::CacheType>(getCache().getType());
    }
  }];
}

//===----------------------------------------------------------------------===//
// kv.append_attention
//===----------------------------------------------------------------------===//

def Kv_AppendAttentionOp : Kv_AttentionBaseOp<"append_attention",
                                               [AttrSizedOperandSegments]> {
  let summary = "Append new K/V rows to a cache and attend over it, fused";
  let description = [{
    Exactly `kv.append %key, %value, %cache, %past_lens` followed by
    `kv.cache_attention %query, %cache, kv_lens` with
    `kv_lens[b] = past_lens[b] + S`: the new rows `K_new: [B, Hkv, S, D]` and
    `V_new: [B, Hkv, S, Dv]` are written (converted to the cache's element
    type) at tokens `[past_lens[b], past_lens[b] + S)` of sequence `b`, then
    `Q: [B, Hq, Sq, D]` attends to the first `past_lens[b] + S` tokens.
    Query row `i` sits at position `past_lens[b] + S - Sq + i` (bottom-right
    alignment); `causal`, the windows, `scale` and `softcap` mean what they
    mean for `kv.cache_attention`, and the explicit mask, if any, broadcasts
    to `[B, Hq, Sq, capacity]`.

    One op instead of two lets a back end read the step's rows straight from
    `key`/`value` while it writes them once into the cache, instead of
    reading them back from the cache. `kv-fuse-append` forms it where it can
    prove the lengths relation. Like `kv.cache_attention`, it may also
    return the log-sum-exp (`lse_init`), or `N` partial results in split
    form.

    ```mlir
    %o = kv.append_attention %q, %k, %v, %cache, %past
           : tensor<8x32x1x128xf32>, tensor<8x8x1x128xf32>,
             tensor<8x8x1x128xf32>,
             !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096>,
             tensor<8xi32>
           outs(%init : tensor<8x32x1x128xf32>) -> tensor<8x32x1x128xf32>
    ```
  }];
  let arguments = !con((ins
    Kv_Shaped:$query, Kv_Shaped:$key, Kv_Shaped:$value,
    Kv_CacheType:$cache, Kv_LengthsShaped:$past_lens,
    Optional<Kv_Shaped>:$mask,
    Kv_Shaped:$init, Optional<Kv_Shaped>:$lse_init),
    Kv_ScoreAttrs, Kv_PackingAttr);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $cache `,` $past_lens `:` type($query) `,`
    type($key) `,` type($value) `,` qualified(type($cache)) `,`
    type($past_lens)
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    `outs` `(` $init (`,` $lse_init^)? `:` type($init)
    (`,` type($lse_init)^)? `)` attr-dict (`->` type($result)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(),
          getInitMutable().getOperandNumber(), getLseInit() ? 2 : 1);
    }
    ::mlir::kv::CacheType getCacheType() {
      return ::llvm::cast<::mlir::kv::CacheType>(getCache().getType());
    }
    /// Rows appended per sequence (S), possibly dynamic.
    int64_t getNumNewTokens() {
      return ::llvm::cast<::mlir::ShapedType>(getKey().getType())
          .getDimSize(2);
    }
  }];
}

//===----------------------------------------------------------------------===//
// kv.load
//===----------------------------------------------------------------------===//

def Kv_LoadOp : Kv_Op<"load", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DestinationStyleOpInterface]> {
  let summary = "Read the keys and values of a cache as dense tensors";
  let description = [{
    Gathers tokens `[0, Skv)` of every sequence of `cache` into dense
    `K: [B, Hkv, Skv, D]` and `V: [B, Hkv, Skv, Dv]`, following the page
    table for paged caches and converting to the element type of the inits.
    `Skv` is at most the capacity; tokens at or past a sequence's length hold
    unspecified values, so readers pass the lengths on as `kv_lens`.

    ```mlir
    %k, %v = kv.load %cache
        : !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096,
                    layout = #kv.paged<page_size = 16>>
        outs(%k0, %v0 : tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32>)
        -> tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32>
    ```
  }];
  let arguments = (ins Kv_CacheType:$cache, Kv_Shaped:$key_init,
                       Kv_Shaped:$value_init);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $cache `:` qualified(type($cache))
    `outs` `(` $key_init `,` $value_init `:` type($key_init) `,`
    type($value_init) `)` attr-dict (`->` type($results)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(), 1, 2);
    }
    ::mlir::kv::CacheType getCacheType() {
      return ::llvm::cast<::mlir::kv::CacheType>(getCache().getType());
    }
  }];
}

//===----------------------------------------------------------------------===//
// kv.cache_view
//===----------------------------------------------------------------------===//

def Kv_CacheViewOp : Kv_Op<"cache_view", [Pure]> {
  let summary = "The memrefs behind a cache handle (a lowering-level op)";
  let description = [{
    Exposes the storage of a cache to target-neutral lowering: the K page pool
    `[pages, heads, page_size, head_dim]`, the V page pool
    `[pages, heads, page_size, value_dim]` and the page table
    `[batch, pages_per_sequence]` of i32 page ids. A contiguous cache is the
    special case `page_size = capacity`, one page per sequence, the page id
    being the sequence's slot. Token `t` of batch entry `b` lives at
    `pool[table[b, t / page_size], head, t % page_size, :]`. Back ends lower
    this op to their handle representation (the runtime's
    `kvfuse_cache_desc` on the CPU and the GPU).

    ```mlir
    %k, %v, %table = kv.cache_view %cache
        : !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096,
                    layout = #kv.paged<page_size = 16>>
        -> memref<?x8x16x128xf16>, memref<?x8x16x128xf16>, memref<?x256xi32>
    ```
  }];
  let arguments = (ins Kv_CacheType:$cache);
  let results = (outs MemRefRankOf<[AnyType], [4]>:$key_pool,
                      MemRefRankOf<[AnyType], [4]>:$value_pool,
                      MemRefRankOf<[I32], [2]>:$page_table);
  let assemblyFormat = [{
    $cache attr-dict `:` qualified(type($cache)) `->` type($key_pool) `,`
    type($value_pool) `,` type($page_table)
  }];
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "::mlir::Value":$cache)>];
  let extraClassDeclaration = [{
    ::mlir::kv::CacheType getCacheType() {
      return ::llvm::cast<::mlir::kv::CacheType>(getCache().getType());
    }
  }];
}


//===----------------------------------------------------------------------===//
// kv.attend_block
//===----------------------------------------------------------------------===//

def Kv_AttendBlockOp : Kv_Op<"attend_block", [
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Online-softmax update of a tile's query rows with one block "
                "of keys (a lowering-level op)";
  let description = [{
    The step of a flash-attention loop, between `kv-cpu-tile-attention`,
    which lays out the tiles, their online-softmax state and the key-block
    loops, and `kv-cpu-vectorize-attention`, which turns each step into
    register kernels. For every row `m` of the tile's `R` query rows
    (`queries: [R, D]`, already multiplied by the score scale) and the keys
    `j` in `[block_start, block_end)` that lie in the row's visible range
    `[row_lo[m], row_hi[m])`:

    ```
    s[j] = dot(queries[m], K[j])             (softcap: c * tanh(s / c))
    s[j] = s[j] + mask  or -inf where a bool mask is false
    max' = max(row_max[m], max_j s[j]);  alpha = exp(row_max[m] - max')
    row_sum[m] = alpha * row_sum[m] + sum_j exp(s[j] - max')
    acc[m]     = alpha * acc[m]     + sum_j exp(s[j] - max') * V[j]
    row_max[m] = max'
    ```

    (a row with nothing visible so far keeps `row_max = -inf`, its sum and
    its zero accumulator). Key `j`'s rows are `keys[batch, kv_head, j -
    token_base, :]` of dense `[B, Hkv, S, D]` rows, or, with a `page_table`,
    row `j mod page_size` of page `page_table[batch, j / page_size]` of a
    page pool `[pages, Hkv, page_size, D]`; f16/bf16 rows are widened (and
    rounded through `storage` first, for rows a cache is storing in the same
    step). Keys past `last_key` are never read (a kernel computing whole
    blocks reads `last_key` in their place). Tile row `m` is row
    `row0 + m mod rows_per_head` of packed head `m / rows_per_head` of the
    tile's head of Q, that is query head `tile_head * packed_heads +
    m / rows_per_head`: the explicit `mask`, if any, is indexed by that head
    and position (`[B, Hq, query_length, num_keys]` broadcast). `key_block`
    is the most keys a step covers and `score_kernel` the kernel the plan
    chose for it.
  }];
  let arguments = (ins
    MemRefRankOf<[F32], [2]>:$queries,
    MemRefRankOf<[AnyFloat], [4]>:$keys,
    MemRefRankOf<[AnyFloat], [4]>:$values,
    Optional<MemRefRankOf<[I32], [2]>>:$page_table,
    Optional<Index>:$token_base,
    Index:$batch, Index:$kv_head,
    Index:$block_start, Index:$block_end, Index:$last_key,
    MemRefRankOf<[Index], [1]>:$row_lo, MemRefRankOf<[Index], [1]>:$row_hi,
    Index:$tile_head, Index:$row0,
    Optional<AnyMemRef>:$mask,
    MemRefRankOf<[F32], [2]>:$acc, MemRefRankOf<[F32], [1]>:$row_max,
    MemRefRankOf<[F32], [1]>:$row_sum,
    ConfinedAttr<I64Attr, [IntPositive]>:$key_block,
    StrAttr:$score_kernel,
    OptionalAttr<F32Attr>:$softcap,
    ConfinedAttr<I64Attr, [IntPositive]>:$packed_heads,
    ConfinedAttr<I64Attr, [IntPositive]>:$rows_per_head,
    ConfinedAttr<I64Attr, [IntPositive]>:$query_length,
    ConfinedAttr<I64Attr, [IntPositive]>:$num_keys,
    DefaultValuedAttr<I64Attr, "0">:$page_size,
    OptionalAttr<TypeAttr>:$storage);
  let assemblyFormat = [{
    $queries `,` $keys `,` $values `:` type($queries) `,` type($keys) `,`
    type($values)
    (`page_table` `(` $page_table^ `:` type($page_table) `)`)?
    (`token_base` `(` $token_base^ `)`)?
    `at` `(` $batch `,` $kv_head `)`
    `keys` `(` $block_start `,` $block_end `,` $last_key `)`
    `rows` `(` $row_lo `,` $row_hi `:` type($row_lo) `,` type($row_hi) `)`
    `tile` `(` $tile_head `,` $row0 `)`
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    `outs` `(` $acc `,` $row_max `,` $row_sum `:` type($acc) `,`
    type($row_max) `,` type($row_sum) `)` attr-dict
  }];
  let hasVerifier = 1;
}

#endif // KVFUSE_DIALECTS_KV_KVOPS_TD
