#!/usr/bin/python3
"""PyTorch figures for `deno task bench mapping`: the AnoGAN z-step (G and D frozen, batch norm in eval
mode, gradient with respect to z alone, Adam on z, z clamped to [-1, 1]) in images*steps/s per batch
size, as JSON on stdout; on the CPU and, where torch.cuda.is_available(), on CUDA (float32, TF32 off).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/mapping_torch.py --size 64 --batches 1,16,64
"""
import argparse
import json
import time

import torch

from train_torch import Z_DIM, create_dcgan, device_name, devices, sync

LAMBDA = 0.1


def bench_mapping(g, d, size, batch, steps, device):
    x = torch.rand(batch, 1, size, size, device=device) * 2 - 1
    with torch.no_grad():
        fx = d(x)[1]
    z = (torch.rand(batch, Z_DIM, device=device) * 2 - 1).requires_grad_()
    opt = torch.optim.Adam([z], lr=0.05, betas=(0.9, 0.999))

    def step():
        opt.zero_grad()
        gz = g(z)
        residual = (x - gz).abs().sum(dim=(1, 2, 3))
        discrimination = (fx - d(gz)[1]).abs().sum(dim=(1, 2, 3))
        ((1 - LAMBDA) * residual + LAMBDA * discrimination).sum().backward()
        opt.step()
        with torch.no_grad():
            z.clamp_(-1, 1)

    t0 = time.perf_counter()
    step()
    sync(device)
    first = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    ms = (time.perf_counter() - t0) * 1e3 / steps
    return {"msPerStep": ms, "firstMs": first, "steps": steps, "imageStepsPerSecond": batch / ms * 1e3}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--batches", default="1,16,64,256")
    ap.add_argument("--steps", default="5", help="timed steps, one number or one per batch size")
    a = ap.parse_args()
    batches = [int(b) for b in a.batches.split(",")]
    steps = [int(s) for s in a.steps.split(",")]
    steps = steps * len(batches) if len(steps) == 1 else steps
    result = {"torch": torch.__version__}
    for dev in devices():
        torch.manual_seed(0)
        g, d = create_dcgan(a.size, a.width, dev)
        for m in (g, d):
            m.eval().requires_grad_(False)
        result[dev] = {
            "device": device_name(dev),
            "batches": {str(b): bench_mapping(g, d, a.size, b, s, dev) for b, s in zip(batches, steps)},
        }
    print(json.dumps(result))
