#!/usr/bin/python3
"""PyTorch figures for `deno task bench train`: one DCGAN training step (D on a real batch and G(z),
then G through the updated D, Adam lr 2e-4, beta1 0.5 for both), in images/s, as JSON on stdout.
It runs on the CPU and, where torch.cuda.is_available(), on CUDA as well (float32, TF32 off).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/train_torch.py --size 64 --batch 64

The models mirror anogan/dcgan.ts (PyTorch's NCHW layouts); bench/mapping_torch.py, bench/kernels_torch.py
and scripts/train_reference_torch.py reuse them.
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

Z_DIM = 100
LEAKY_SLOPE = 0.2


def layer_count(size):
    if size not in (32, 64):
        raise SystemExit(f"image size must be 32 or 64, got {size}")
    return 4 if size == 64 else 3


class Generator(nn.Module):
    def __init__(self, size, width):
        super().__init__()
        layers = layer_count(size)
        channels = [width * 2 ** (layers - 1 - i) for i in range(layers)] + [1]
        self.c0 = channels[0]
        self.project = nn.Linear(Z_DIM, 16 * self.c0)
        self.project_bn = nn.BatchNorm2d(self.c0)
        last = layers - 1
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(channels[i], channels[i + 1], 5, 2, 2, output_padding=1, bias=i == last)
            for i in range(layers)
        )
        self.norms = nn.ModuleList(nn.BatchNorm2d(c) for c in channels[1:-1])

    def forward(self, z):
        h = F.relu(self.project_bn(self.project(z).view(-1, self.c0, 4, 4)))
        for i, up in enumerate(self.ups):
            h = up(h)
            h = F.relu(self.norms[i](h)) if i < len(self.norms) else torch.tanh(h)
        return h


class Discriminator(nn.Module):
    def __init__(self, size, width):
        super().__init__()
        layers = layer_count(size)
        channels = [1] + [width * 2 ** i for i in range(layers)]
        self.downs = nn.ModuleList(
            nn.Conv2d(channels[i], channels[i + 1], 5, 2, 2, bias=i == 0) for i in range(layers)
        )
        self.norms = nn.ModuleList(nn.BatchNorm2d(c) for c in channels[2:])
        self.classify = nn.Linear(16 * channels[-1], 1)

    def forward(self, x):
        """x [N, 1, H, W] -> logits [N] and the last conv block's features f(x)."""
        h = x
        for i, down in enumerate(self.downs):
            h = down(h)
            if i > 0:
                h = self.norms[i - 1](h)
            h = F.leaky_relu(h, LEAKY_SLOPE)
        return self.classify(h.flatten(1)).view(-1), h


def create_dcgan(size, width, device):
    """G and D with the DCGAN initialisation: weights N(0, 0.02), batch-norm gamma N(1, 0.02)."""
    g, d = Generator(size, width), Discriminator(size, width)
    for m in list(g.modules()) + list(d.modules()):
        if isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return g.to(device), d.to(device)


def devices():
    """The CPU, and CUDA in float32 without TF32 where there is a GPU."""
    torch.set_num_threads(os.cpu_count() or 1)
    out = ["cpu"]
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        out.append("cuda")
    return out


def device_name(device):
    return torch.cuda.get_device_name() if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def time_calls(fn, iters, device):
    """First call (warm-up) and the median of `iters` more, in ms."""
    t0 = time.perf_counter()
    fn()
    sync(device)
    first = (time.perf_counter() - t0) * 1e3
    ms = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        sync(device)
        ms.append((time.perf_counter() - t) * 1e3)
    return {"ms": statistics.median(ms), "firstMs": first, "samplesMs": ms}


def bench_train(size, width, batch, iters, device):
    torch.manual_seed(0)
    g, d = create_dcgan(size, width, device)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 1, size, size, device=device) * 2 - 1
    ones = torch.ones(batch, device=device)
    zeros = torch.zeros(batch, device=device)
    losses = []

    def step():
        z = torch.rand(batch, Z_DIM, device=device) * 2 - 1
        fake = g(z)
        opt_d.zero_grad()
        loss_d = F.binary_cross_entropy_with_logits(d(real)[0], ones) + F.binary_cross_entropy_with_logits(
            d(fake.detach())[0], zeros
        )
        loss_d.backward()
        opt_d.step()
        d.requires_grad_(False)  # G's update backpropagates through D without D's weight gradients
        opt_g.zero_grad()
        loss_g = F.binary_cross_entropy_with_logits(d(fake)[0], ones)
        loss_g.backward()
        opt_g.step()
        d.requires_grad_(True)
        losses.append([loss_d.item(), loss_g.item()])

    timing = time_calls(step, iters, device)
    ms = timing["ms"]
    return {
        **timing,
        "imagesPerSecond": batch / ms * 1e3,
        "device": device_name(device),
        "parameters": sum(p.numel() for p in list(g.parameters()) + list(d.parameters())),
        "lastLosses": losses[-1],
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=3)
    a = ap.parse_args()
    result = {"torch": torch.__version__}
    for dev in devices():
        result[dev] = bench_train(a.size, a.width, a.batch, a.iters, dev)
    print(json.dumps(result))
