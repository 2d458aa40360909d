#!/usr/bin/python3
"""PyTorch figures for `deno task bench kernels`: the 64x64 DCGAN's layers (forward, input gradient,
weight gradient; median ms after a warm-up) and the whole G forward of the DCGAN of
bench/train_torch.py, as JSON on stdout: on the CPU, and under "cuda" on CUDA where
torch.cuda.is_available() (float32, TF32 off).

Run with Debian's PyTorch (apt-get install python3-torch libopenblas0-pthread):
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/kernels_torch.py --batch 64
Layer names match bench/kernels.ts. Gradient times subtract the forward's median, as there.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from train_torch import Z_DIM, create_dcgan, device_name, devices, sync


def layers(b):
    out = [("G linear 100→8192", "linear", (b, 100), 8192), ("G BN 512@4×4", "bn", (b, 512, 4, 4), 512)]
    for i, (h, cin, cout) in enumerate([(4, 512, 256), (8, 256, 128), (16, 128, 64), (32, 64, 1)], 1):
        out.append((f"G convT{i} {cin}→{cout} {h}→{2 * h}", "convT", (b, cin, h, h), cout))
        if cout > 1:
            out.append((f"G BN {cout}@{2 * h}×{2 * h}", "bn", (b, cout, 2 * h, 2 * h), cout))
    for i, (h, cin, cout) in enumerate([(64, 1, 64), (32, 64, 128), (16, 128, 256), (8, 256, 512)], 1):
        out.append((f"D conv{i} {cin}→{cout} {h}→{h // 2}", "conv", (b, cin, h, h), cout))
        if i > 1:
            out.append((f"D BN {cout}@{h // 2}×{h // 2}", "bn", (b, cout, h // 2, h // 2), cout))
    return out


def flops(kind, shape, out_c):
    if kind == "linear":
        return 2 * shape[0] * shape[1] * out_c
    b, c, h, w = shape
    if kind == "conv":
        return 2 * b * (h // 2) * (w // 2) * out_c * c * 25
    if kind == "convT":
        return 2 * b * h * w * out_c * c * 25
    return 8 * b * h * w * c


def median_ms(fn, iters, device):
    t0 = time.perf_counter()
    fn()
    sync(device)
    first = (time.perf_counter() - t0) * 1e3
    fn()
    sync(device)
    ts = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        sync(device)
        ts.append((time.perf_counter() - t) * 1e3)
    ts.sort()
    return ts[len(ts) // 2], first


def bench_layer(kind, shape, out_c, iters, device):
    torch.manual_seed(0)
    x = torch.randn(shape, device=device)
    c = shape[1]
    if kind == "linear":
        w = torch.randn(out_c, c, device=device) * 0.02
        f = lambda x, w: F.linear(x, w)  # noqa: E731
    elif kind == "conv":
        w = torch.randn(out_c, c, 5, 5, device=device) * 0.02
        f = lambda x, w: F.conv2d(x, w, stride=2, padding=2)  # noqa: E731
    elif kind == "convT":
        w = torch.randn(c, out_c, 5, 5, device=device) * 0.02
        f = lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=2, output_padding=1)  # noqa: E731
    else:
        w = torch.ones(c, device=device)
        beta = torch.zeros(c, device=device)
        f = lambda x, g: F.batch_norm(x, None, None, g, beta, training=True)  # noqa: E731
    gy = torch.randn(f(x, w).shape, device=device)
    n = flops(kind, shape, out_c)

    def fwd():
        with torch.no_grad():
            f(x, w)

    def grad(which):
        def run():
            xi = x.requires_grad_(which == 0)
            wi = w.requires_grad_(which == 1)
            y = f(xi, wi)
            torch.autograd.grad(y, [xi, wi][which], gy)
        return run

    row = {}
    fms, ffirst = median_ms(fwd, iters, device)
    row["forward"] = {"ms": fms, "firstMs": ffirst, "gflops": n / fms / 1e6}
    for name, which in (("gradInput", 0), ("gradWeight", 1)):
        ms, first = median_ms(grad(which), iters, device)
        ms = max(ms - fms, 1e-3)
        row[name] = {"ms": ms, "firstMs": first, "gflops": n / ms / 1e6}
    x.requires_grad_(False)
    w.requires_grad_(False)
    return row


def generator_forward(b, iters, device):
    """The 64x64, width-64 G in training mode (batch statistics), as bench/kernels.ts times ours."""
    g, _ = create_dcgan(64, 64, device)
    z = torch.rand(b, Z_DIM, device=device) * 2 - 1

    def forward():
        with torch.no_grad():
            return g(z)

    ms, first = median_ms(forward, iters, device)
    return {"ms": ms, "firstMs": first, "gflops": 0}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=3)
    a = ap.parse_args()

    def figures(device):
        return {
            "device": device_name(device),
            "layers": {
                name: bench_layer(kind, shape, out_c, a.iters, device) for name, kind, shape, out_c in layers(a.batch)
            },
            "generatorForward": generator_forward(a.batch, a.iters, device),
        }

    on = devices()
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), **figures("cpu")}
    if "cuda" in on:
        result["cuda"] = figures("cuda")
    print(json.dumps(result))
