#!/usr/bin/env python3
"""kv.append for one static shape in the MLIR gpu dialect.

Kernel `kv_append`, grid (Hkv, B), 128 threads: writes the step's new keys
and values k_new/v_new [B, Hkv, St, D] (f32) into the K/V pools at token
positions past_lens[b] + t through the page table, converting to the cache
dtype (round to nearest even). Positions at or past the capacity are not
written (the runtime checks capacity before a step).

Usage: gen_kv_append.py --out DIR --name N --batch B --kv-heads HKV
         --head-dim D --capacity C --step-tokens ST [--page-size PS]
         [--num-pages NP] [--dtype f16]
Writes DIR/N.mlir and DIR/N.cfg (see runtime/cuda/include/kvfuse/cuda_runtime.h).
"""
import argparse
import os


def gen(a):
    B, HKV, D, C, PS, NP, ST, ty = (a.batch, a.kv_heads, a.head_dim, a.capacity,
                                    a.page_size, a.num_pages, a.step_tokens, a.dtype)
    PPS = C // PS
    T = 128
    n = ST * D
    mn = f"memref<{B * HKV * ST * D}xf32>"
    mk = f"memref<{NP * HKV * PS * D}x{ty}>"
    mpt, ml = f"memref<{B * PPS}xi32>", f"memref<{B}xi32>"
    L = []
    L.append("module attributes {gpu.container_module} {")
    L.append(f"  gpu.module @{a.name} {{")
    L.append(f"  gpu.func @kv_append(%kn: {mn}, %vn: {mn}, %kp: {mk}, %vp: {mk}, %pt: {mpt}, %past: {ml})"
             f" kernel attributes {{known_block_size = array<i32: {T}, 1, 1>}} {{")
    body = f"""
    %tid = gpu.thread_id x
    %h = gpu.block_id x
    %b = gpu.block_id y
    %cT = arith.constant {T} : index
    %cN = arith.constant {n} : index
    %cD = arith.constant {D} : index
    %cC = arith.constant {C} : index
    %cPS = arith.constant {PS} : index
    %cPPS = arith.constant {PPS} : index
    %cHKV = arith.constant {HKV} : index
    %pi = memref.load %past[%b] : {ml}
    %p0 = arith.index_cast %pi : i32 to index
    %bh0 = arith.muli %b, %cHKV : index
    %bh = arith.addi %bh0, %h : index
    %src0 = arith.muli %bh, %cN : index
    scf.for %i = %tid to %cN step %cT {{
      %t = arith.divui %i, %cD : index
      %d = arith.remui %i, %cD : index
      %pos = arith.addi %p0, %t : index
      %inb = arith.cmpi ult, %pos, %cC : index
      scf.if %inb {{
        %pgi = arith.divui %pos, %cPS : index
        %slot = arith.remui %pos, %cPS : index
        %bp = arith.muli %b, %cPPS : index
        %pa = arith.addi %bp, %pgi : index
        %pv = memref.load %pt[%pa] : {mpt}
        %pg = arith.index_cast %pv : i32 to index
        %r0 = arith.muli %pg, %cHKV : index
        %r1 = arith.addi %r0, %h : index
        %r2 = arith.muli %r1, %cPS : index
        %r3 = arith.addi %r2, %slot : index
        %r4 = arith.muli %r3, %cD : index
        %dst = arith.addi %r4, %d : index
        %src = arith.addi %src0, %i : index
        %kx = memref.load %kn[%src] : {mn}
        %vx = memref.load %vn[%src] : {mn}
"""
    L.append(body.rstrip("\n"))
    if ty == "f32":
        L.append(f"        memref.store %kx, %kp[%dst] : {mk}")
        L.append(f"        memref.store %vx, %vp[%dst] : {mk}")
    else:
        L.append(f"        %kc = arith.truncf %kx : f32 to {ty}")
        L.append(f"        %vc = arith.truncf %vx : f32 to {ty}")
        L.append(f"        memref.store %kc, %kp[%dst] : {mk}")
        L.append(f"        memref.store %vc, %vp[%dst] : {mk}")
    L.append("      }")
    L.append("    }")
    L.append("    gpu.return")
    L.append("  }")
    L.append("  }")
    L.append("}")
    cfg = (f"kernel append name={a.name} dtype={ty} batch={B} kv_heads={HKV} head_dim={D} "
           f"capacity={C} page_size={PS} pages_per_seq={PPS} num_pages={NP} step_tokens={ST}\n"
           f"launch 0 symbol=kv_append grid={HKV}x{B}x1 block={T}x1x1 smem=0 "
           f"args=k_new,v_new,k_pool,v_pool,page_table,past_lens\nend\n")
    return "\n".join(L) + "\n", cfg


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--kv-heads", type=int, required=True)
    p.add_argument("--head-dim", type=int, required=True)
    p.add_argument("--capacity", type=int, required=True)
    p.add_argument("--step-tokens", type=int, default=1)
    p.add_argument("--page-size", type=int, default=0)
    p.add_argument("--num-pages", type=int, default=0)
    p.add_argument("--dtype", default="f16", choices=["f32", "f16", "bf16"])
    a = p.parse_args()
    if a.page_size == 0:
        a.page_size = a.capacity
    if a.capacity % a.page_size:
        p.error("capacity must be a multiple of the page size")
    if a.num_pages == 0:
        a.num_pages = a.batch * (a.capacity // a.page_size)
    mlir, cfg = gen(a)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, a.name + ".mlir"), "w") as f:
        f.write(mlir)
    with open(os.path.join(a.out, a.name + ".cfg"), "w") as f:
        f.write(cfg)


if __name__ == "__main__":
    main()
