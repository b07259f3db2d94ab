#!/usr/bin/env python3
"""Peer timings on the GPU: PyTorch scaled_dot_product_attention (flash
backend) on the kvfuse decode shapes, plus the machine's two ceilings: HBM
bandwidth (device-to-device copy, bytes read + written) and the bf16
tensor-core rate (8192^3 matmul). Inputs are random; each figure is the
median of repeated CUDA-event-timed runs after warm-up.

Decode with GQA first tries enable_gqa=True under the flash backend and
falls back to expanding the KV heads (repeat_interleave, outside the timed
region) when that is rejected; the line says which was used.
"""
import statistics
import sys

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
import torch.nn.functional as F


def bench(fn, warm=10, reps=50):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) * 1e-3)
    return statistics.median(times)


def main():
    dev = torch.device("cuda")
    p = torch.cuda.get_device_properties(dev)
    print(f"device: {p.name}, {p.multi_processor_count} SMs, torch {torch.__version__}, "
          f"cuda {torch.version.cuda}")
    n = 1 << 30  # 1 GiB per buffer
    x = torch.rand(n // 4, device=dev)
    y = torch.empty_like(x)
    t = bench(lambda: y.copy_(x), warm=5, reps=20)
    bw = 2 * n / t / 1e9
    print(f"PEER hbm_copy bytes={2 * n} median_s={t:.6f} GB/s={bw:.1f}")
    a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    t = bench(lambda: a @ b, warm=3, reps=10)
    print(f"PEER bf16_matmul_8192 median_s={t:.6f} TFLOP/s={2 * 8192**3 / t / 1e12:.1f}")
    del x, y, a, b
    shapes = [("D1", 8, 32, 8, 4096, 128), ("D2", 1, 32, 8, 32768, 128),
              ("D3", 1, 12, 12, 1024, 64)]
    for name, B, HQ, HKV, ctx, D in shapes:
        for dt in (torch.float16, torch.bfloat16):
            q = torch.randn(B, HQ, 1, D, device=dev, dtype=dt)
            k = torch.randn(B, HKV, ctx, D, device=dev, dtype=dt)
            v = torch.randn(B, HKV, ctx, D, device=dev, dtype=dt)
            mode = "native" if HQ == HKV else "enable_gqa"
            try:
                with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                    fn = (lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)) \
                        if HQ != HKV else (lambda: F.scaled_dot_product_attention(q, k, v))
                    t = bench(fn)
            except RuntimeError:
                mode = "expanded_heads"
                ke = k.repeat_interleave(HQ // HKV, dim=1)
                ve = v.repeat_interleave(HQ // HKV, dim=1)
                with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                    t = bench(lambda: F.scaled_dot_product_attention(q, ke, ve))
            kv_bytes = 2 * B * HKV * ctx * D * 2
            io = 2 * B * HQ * D * 2
            print(f"PEER sdpa_flash {name} {str(dt).split('.')[-1]} gqa={mode} median_us={t * 1e6:.2f} "
                  f"GB/s(kv bytes of the GQA cache)={(kv_bytes + io) / t / 1e9:.1f}")
    # Prefill P1-P3: the flash backend's throughput, causal where the
    # workload is (flops counted over the visible half, as kvfuse-check-cases
    # counts them).
    prefill = [("P1", 1, 8, 8, 2048, 128, True), ("P2", 1, 32, 8, 1024, 128, True),
               ("P3", 4, 12, 12, 256, 64, False)]
    for name, B, HQ, HKV, S, D, causal in prefill:
        for dt in (torch.float16, torch.bfloat16):
            q = torch.randn(B, HQ, S, D, device=dev, dtype=dt)
            k = torch.randn(B, HKV, S, D, device=dev, dtype=dt)
            v = torch.randn(B, HKV, S, D, device=dev, dtype=dt)
            mode = "native" if HQ == HKV else "enable_gqa"
            try:
                with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                    t = bench(lambda: F.scaled_dot_product_attention(
                        q, k, v, is_causal=causal, enable_gqa=HQ != HKV))
            except RuntimeError:
                mode = "expanded_heads"
                ke = k.repeat_interleave(HQ // HKV, dim=1)
                ve = v.repeat_interleave(HQ // HKV, dim=1)
                with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                    t = bench(lambda: F.scaled_dot_product_attention(q, ke, ve, is_causal=causal))
            visible = S / 2 if causal else S
            flops = 2 * B * HQ * S * visible * (D + D)
            print(f"PEER sdpa_flash {name} {str(dt).split('.')[-1]} gqa={mode} "
                  f"median_us={t * 1e6:.2f} TFLOP/s={flops / t / 1e12:.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
