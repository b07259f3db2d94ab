//===- KvTypes.td - kv dialect types ----------------------*- tablegen -*-===//

#ifndef KVFUSE_DIALECTS_KV_KVTYPES_TD
#define KVFUSE_DIALECTS_KV_KVTYPES_TD

include "dialects/kv/KvBase.td"
include "dialects/kv/KvAttrs.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

class Kv_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Kv_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Kv_CacheType : Kv_Type<"Cache", "cache"> {
  let summary = "A KV cache: keys and values of a batch of sequences";
  let description = [{
    The cache of one attention layer. It carries the storage element type
    (f32, f16, bf16; i8 or an fp8 type together with a `scale` type for
    quantised caches), the number of KV heads, the key head dim, the value head
    dim (defaults to the key head dim), the capacity in tokens of every
    sequence, and the storage layout (`#kv.contiguous`, the default, or
    `#kv.paged<page_size = N>`).

    A cache value is a handle to memory owned by the runtime: ops that write
    it (`kv.append`) and ops that read it (`kv.load`, `kv.cache_attention`)
    declare effects on the `KVCache` resource, so their order is kept.

    ```mlir
    !kv.cache<f16, heads = 8, head_dim = 128, capacity = 4096>
    !kv.cache<f32, heads = 2, head_dim = 64, value_dim = 32, capacity = 100,
              layout = #kv.paged<page_size = 16>>
    !kv.cache<i8, heads = 8, head_dim = 128, capacity = 4096, scale = f32>
    ```
  }];
  let parameters = (ins
    "::mlir::Type":$elementType,
    "int64_t":$heads,
    "int64_t":$head_dim,
    DefaultValuedParameter<"int64_t", "0">:$value_dim,
    "int64_t":$capacity,
    DefaultValuedParameter<"::mlir::Attribute",
        "::mlir::kv::ContiguousLayoutAttr::get($_ctxt)">:$layout,
    OptionalParameter<"::mlir::Type">:$scale
  );
  let assemblyFormat = [{
    `<` $elementType `,` struct($heads, $head_dim, $value_dim, $capacity,
                                $layout, $scale) `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Value head dim; `value_dim` is omitted when it equals `head_dim`.
    int64_t getValueHeadDim() const {
      return getValueDim() ? getValueDim() : getHeadDim();
    }
    /// Tokens per page: the whole capacity for a contiguous cache.
    int64_t getPageSize() const;
    /// Pages a sequence needs to hold `capacity` tokens.
    int64_t getPagesPerSequence() const;
    bool isPaged() const;
    bool isQuantized() const { return static_cast<bool>(getScale()); }
  }];
}

#endif // KVFUSE_DIALECTS_KV_KVTYPES_TD
