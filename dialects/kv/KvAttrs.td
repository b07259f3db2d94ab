//===- KvAttrs.td - kv dialect attributes -----------------*- tablegen -*-===//

#ifndef KVFUSE_DIALECTS_KV_KVATTRS_TD
#define KVFUSE_DIALECTS_KV_KVATTRS_TD

include "dialects/kv/KvBase.td"

class Kv_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Kv_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Kv_ContiguousLayoutAttr : Kv_Attr<"ContiguousLayout", "contiguous"> {
  let summary = "Each sequence owns one contiguous slot of `capacity` tokens";
  let description = [{
    Storage is `[slots, heads, capacity, head_dim]` for K and
    `[slots, heads, capacity, value_dim]` for V. Batch entry `b` of a step
    reads the slot named by row `b` of the cache's slot table, so sequences
    can be added and removed without moving data.

    ```mlir
    !kv.cache<f32, heads = 8, head_dim = 128, capacity = 4096,
              layout = #kv.contiguous>
    ```
  }];
}

def Kv_PagedLayoutAttr : Kv_Attr<"PagedLayout", "paged"> {
  let summary = "Tokens live in fixed-size pages found through a page table";
  let description = [{
    Storage is a pool of pages `[pages, heads, page_size, head_dim]`; a page
    table `[batch, ceil(capacity / page_size)]` of i32 maps the `p`-th page of
    each sequence to a page of the pool, in any order.

    ```mlir
    !kv.cache<bf16, heads = 8, head_dim = 128, capacity = 32768,
              layout = #kv.paged<page_size = 16>>
    ```
  }];
  let parameters = (ins "int64_t":$page_size);
  let assemblyFormat = "`<` struct($page_size) `>`";
  let genVerifyDecl = 1;
}

def Kv_CpuTilesAttr : Kv_Attr<"CpuTiles", "cpu_tiles"> {
  let summary = "The CPU tiling of one attention op";
  let description = [{
    Set on an attention op (as `kv.cpu_tiles`) by `kv-cpu-plan-tiles`, or by
    hand, and followed by `kv-cpu-tile-attention`: tiles of
    `rows_per_head` query rows of every head of a KV head's group, keys in
    blocks of `key_block`, each tile's keys split into `splits` chunks run in
    parallel (split-KV), and the score kernel (`dot`, `transposed-keys` or
    `transposed-queries`).

    ```mlir
    kv.attention %q, %k, %v : ... outs(%o : ...) {causal,
        kv.cpu_tiles = #kv.cpu_tiles<rows_per_head = 64, key_block = 128,
                                     splits = 1,
                                     score_kernel = "transposed-queries">}
    ```
  }];
  let parameters = (ins "int64_t":$rows_per_head, "int64_t":$key_block,
                        "int64_t":$splits,
                        StringRefParameter<"score kernel">:$score_kernel);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // KVFUSE_DIALECTS_KV_KVATTRS_TD
