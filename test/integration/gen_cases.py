#!/usr/bin/env python3
"""Attention cases for kvfuse-check-cases: one IR file and one case.txt each.

Every case is a whole entry a model would compile: prefill cases are
`kv.attention` on explicit Q/K/V (f32, f16, bf16), decode cases are a step
that appends K/V to a cache and attends over it (`kv.append` +
`kv.cache_attention`, which kv-fuse-append turns into one op). The set
covers the edge cases of the semantic contract: sequence length 1, lengths
that are not a multiple of any tile, fully masked rows (negative causal
offset, kv_lens 0), windows, soft-cap, explicit scale, GQA groups 1/4/7/8,
head dims 64/80/96/128/256, Dv != D, contiguous and paged f32/f16/bf16
caches, a cache filled to capacity, a sequence with an empty past.

Usage: gen_cases.py OUTDIR [--set check|bench]
Writes OUTDIR/<name>.mlir and OUTDIR/<name>.case; compile each with
kvfuse-compile into OUTDIR/<name>.kvf and copy <name>.case to
<name>.kvf/case.txt (see compile_cases.sh).
"""
import argparse
import os

# Tolerances: the reference reads the rounded inputs, so only the kernels'
# own rounding remains (f16/bf16 tensor-core paths round P before P.V).
TOL = {"f32": 1e-4, "f16": 4e-3, "bf16": 2e-2}


def attrs(c):
    a = []
    if c.get("causal"):
        a.append("causal")
    if c.get("causal_offset", 0):
        a.append(f"causal_offset = {c['causal_offset']} : i64")
    if c.get("scale"):
        a.append(f"scale = {c['scale']} : f32")
    if c.get("softcap"):
        a.append(f"softcap = {c['softcap']} : f32")
    if c.get("window_left", -1) >= 0:
        a.append(f"window_left = {c['window_left']} : i64")
    if c.get("window_right", -1) >= 0:
        a.append(f"window_right = {c['window_right']} : i64")
    return "{" + ", ".join(a) + "}" if a else ""


def prefill(c):
    B, Hq, Hkv, Sq, Skv, D = (c[k] for k in
                              ("batch", "q_heads", "kv_heads", "q_len", "kv_len", "head_dim"))
    Dv = c.get("value_dim", D)
    dt, odt = c["dtype"], c.get("out_dtype", "f32")
    tq = f"tensor<{B}x{Hq}x{Sq}x{D}x{dt}>"
    tk = f"tensor<{B}x{Hkv}x{Skv}x{D}x{dt}>"
    tv = f"tensor<{B}x{Hkv}x{Skv}x{Dv}x{dt}>"
    to = f"tensor<{B}x{Hq}x{Sq}x{Dv}x{odt}>"
    lens_arg = lens_use = ""
    if "kv_lens" in c:
        lens_arg = f', %lens: tensor<{B}xi32> {{kv.name = "kv_lens"}}'
        lens_use = f" kv_lens(%lens : tensor<{B}xi32>)"
    return f"""func.func @attend(%q: {tq} {{kv.name = "q"}}, %k: {tk} {{kv.name = "k"}},
                   %v: {tv} {{kv.name = "v"}}{lens_arg}) -> {to} {{
  %init = tensor.empty() : {to}
  %o = kv.attention %q, %k, %v : {tq}, {tk}, {tv}{lens_use}
         outs(%init : {to}) {attrs(c)} -> {to}
  return %o : {to}
}}
"""


def decode(c):
    B, Hq, Hkv, S, D, C = (c[k] for k in
                           ("batch", "q_heads", "kv_heads", "q_len", "head_dim", "capacity"))
    Dv = c.get("value_dim", D)
    vd = f", value_dim = {Dv}" if Dv != D else ""
    layout = (f", layout = #kv.paged<page_size = {c['page_size']}>"
              if c.get("page_size", C) != C else "")
    cache = f"!kv.cache<{c['cache']}, heads = {Hkv}, head_dim = {D}{vd}, capacity = {C}{layout}>"
    tq = f"tensor<{B}x{Hq}x{S}x{D}xf32>"
    tk = f"tensor<{B}x{Hkv}x{S}x{D}xf32>"
    tv = f"tensor<{B}x{Hkv}x{S}x{Dv}xf32>"
    to = f"tensor<{B}x{Hq}x{S}x{Dv}xf32>"
    tl = f"tensor<{B}xi32>"
    a = dict(c)
    a["causal"] = 1
    return f"""func.func @step(%q: {tq} {{kv.name = "q"}}, %k: {tk} {{kv.name = "k"}},
                 %v: {tv} {{kv.name = "v"}}, %cache: {cache} {{kv.name = "cache"}},
                 %past: {tl} {{kv.name = "past", kv.role = "past_lens"}},
                 %lens: {tl} {{kv.name = "lens", kv.role = "kv_lens"}}) -> {to}
    attributes {{kv.step_tokens = {S} : i64}} {{
  kv.append %k, %v, %cache, %past : {tk}, {tv}, {cache}, {tl}
  %init = tensor.empty() : {to}
  %o = kv.cache_attention %q, %cache, %lens : {tq}, {cache}, {tl}
         outs(%init : {to}) {attrs(a)} -> {to}
  return %o : {to}
}}
"""


def P(name, **c):
    c.setdefault("dtype", "f32")
    c.setdefault("tolerance", TOL[c["dtype"]])
    return dict(name=name, kind="prefill", **c)


def Dc(name, **c):
    c.setdefault("tolerance", TOL["f32"] if c["cache"] == "f32" else 1e-4)
    return dict(name=name, kind="decode", **c)


CHECK = [
    # Prefill: tensor-core dtypes and f32, GQA, ragged lengths, masks.
    P("p_f16_g4_d64_causal_s67", batch=1, q_heads=8, kv_heads=2, q_len=67, kv_len=67,
      head_dim=64, dtype="f16", causal=1),
    P("p_bf16_g1_d128_window_s129", batch=2, q_heads=4, kv_heads=4, q_len=129, kv_len=129,
      head_dim=128, dtype="bf16", causal=1, window_left=31),
    P("p_f32_g4_d80_sq1_softcap", batch=1, q_heads=4, kv_heads=1, q_len=1, kv_len=300,
      head_dim=80, softcap=20.0, scale=0.1, q_range=4.0),
    P("p_f16_masked_rows", batch=1, q_heads=2, kv_heads=2, q_len=16, kv_len=16,
      head_dim=64, dtype="f16", causal=1, causal_offset=-5),
    P("p_f16_g2_d256_kvlens", batch=2, q_heads=4, kv_heads=2, q_len=33, kv_len=64,
      head_dim=256, dtype="f16", kv_lens=[40, 0]),
    P("p_f16_g8_d128_dv64_bottom_right", batch=1, q_heads=8, kv_heads=1, q_len=50, kv_len=177,
      head_dim=128, value_dim=64, dtype="f16", causal=1, causal_offset=127),
    P("p_bf16_g7_d96_window_right", batch=1, q_heads=7, kv_heads=1, q_len=40, kv_len=40,
      head_dim=96, dtype="bf16", window_left=8, window_right=3),
    P("p_f32_g1_d64_causal_s300", batch=2, q_heads=3, kv_heads=3, q_len=300, kv_len=300,
      head_dim=64, causal=1),
    # Decode: one step appended to caches at various fill levels.
    Dc("d_f32_g1_d64_contig", batch=3, q_heads=4, kv_heads=4, q_len=1, head_dim=64,
       capacity=300, cache="f32", past=[299, 0, 150]),
    Dc("d_f16_g4_d128_paged_softcap", batch=4, q_heads=8, kv_heads=2, q_len=1, head_dim=128,
       capacity=1000, page_size=16, cache="f16", past=[999, 1, 0, 671], softcap=30.0,
       q_range=16.0),
    Dc("d_bf16_g7_d96_paged", batch=2, q_heads=14, kv_heads=2, q_len=1, head_dim=96,
       capacity=1000, page_size=8, cache="bf16", past=[500, 999]),
    Dc("d_f32_g8_d256_window", batch=2, q_heads=8, kv_heads=1, q_len=1, head_dim=256,
       capacity=777, cache="f32", past=[776, 50], window_left=100),
    Dc("d_f16_g4_d80_dv64_paged", batch=2, q_heads=8, kv_heads=2, q_len=1, head_dim=80,
       value_dim=64, capacity=512, page_size=16, cache="f16", past=[511, 7]),
    Dc("d_f32_g4_d64_s2_paged", batch=2, q_heads=8, kv_heads=2, q_len=2, head_dim=64,
       capacity=128, page_size=16, cache="f32", past=[126, 0]),
    # Prefill with a cache: a prompt appended to (possibly non-empty) caches
    # and attending to them (the GPU gathers the cache for the prefill kernel).
    Dc("c_f32_g4_d64_prefill_s40_paged", batch=2, q_heads=8, kv_heads=2, q_len=40,
       head_dim=64, capacity=128, page_size=16, cache="f32", past=[50, 0]),
    Dc("c_bf16_g2_d128_prefill_s33_window", batch=1, q_heads=4, kv_heads=2, q_len=33,
       head_dim=128, capacity=100, cache="bf16", past=[7], window_left=20),
]

# The performance workloads of the design (section 4) in the GPU's types.
BENCH = []
for dt in ("f16", "bf16"):
    BENCH += [
        P(f"P1_{dt}", batch=1, q_heads=8, kv_heads=8, q_len=2048, kv_len=2048, head_dim=128,
          dtype=dt, causal=1),
        P(f"P2_{dt}", batch=1, q_heads=32, kv_heads=8, q_len=1024, kv_len=1024, head_dim=128,
          dtype=dt, causal=1),
        P(f"P3_{dt}", batch=4, q_heads=12, kv_heads=12, q_len=256, kv_len=256, head_dim=64,
          dtype=dt),
        Dc(f"D1_{dt}", batch=8, q_heads=32, kv_heads=8, q_len=1, head_dim=128, capacity=4096,
           cache=dt, past=[4095] * 8),
        Dc(f"D2_{dt}", batch=1, q_heads=32, kv_heads=8, q_len=1, head_dim=128, capacity=32768,
           cache=dt, past=[32767]),
        Dc(f"D3_{dt}", batch=1, q_heads=12, kv_heads=12, q_len=1, head_dim=64, capacity=1024,
           cache=dt, past=[1023]),
        Dc(f"D4_{dt}_long", batch=1, q_heads=32, kv_heads=8, q_len=1, head_dim=128,
           capacity=131072, page_size=64, cache=dt, past=[131071]),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--set", choices=["check", "bench"], default="check")
    ap.add_argument("--only", default="", help="comma-separated case names")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = set(filter(None, a.only.split(",")))
    for c in CHECK if a.set == "check" else BENCH:
        if only and c["name"] not in only:
            continue
        ir = prefill(c) if c["kind"] == "prefill" else decode(c)
        with open(os.path.join(a.out, c["name"] + ".mlir"), "w") as f:
            f.write(ir)
        fields = []
        for k, v in c.items():
            if isinstance(v, list):
                v = ",".join(str(x) for x in v)
            fields.append(f"{k}={v}")
        with open(os.path.join(a.out, c["name"] + ".case"), "w") as f:
            f.write(" ".join(fields) + "\n")
        print(c["name"])


if __name__ == "__main__":
    main()
