#!/usr/bin/python3
"""A PyTorch reference for the training dynamics of `deno task train`: the same DCGAN (the models of
bench/train_torch.py), the same losses (eq. 1 for D, the non-saturating eq. 2 for G), Adam
lr 2e-4 beta1 0.5, z ~ U(-1, 1), batch 64, one Fashion-MNIST class padded to 32x32 in [-1, 1].
It prints one JSON line per logged step (step, epoch, lossD, lossG, dReal, dFake), like metrics.jsonl,
so the two loss curves can be laid side by side:

    /usr/bin/python3 scripts/train_reference_torch.py --cls 7 --width 64 --epochs 2 > torch.jsonl

Its random streams are PyTorch's, so the curves agree in shape and level, not step for step
(tests/dcgan_torch_test.ts checks one step exactly from shared weights and inputs).
"""
import argparse
import gzip
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from train_torch import Z_DIM, create_dcgan  # noqa: E402


def load_class(directory, cls):
    with gzip.open(os.path.join(directory, "train-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    with gzip.open(os.path.join(directory, "train-labels-idx1-ubyte.gz")) as f:
        labels = torch.frombuffer(bytearray(f.read()[8:]), dtype=torch.uint8)
    images = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).view(-1, 28, 28)
    x = images[labels == cls].float() / 127.5 - 1
    return F.pad(x, (2, 2, 2, 2), value=-1.0).unsqueeze(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cls", type=int, default=7)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--g-steps", type=int, default=1)
    p.add_argument("--log-every", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fmnist-dir", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(os.cpu_count() or 1)
    data = load_class(a.fmnist_dir, a.cls)
    g, d = create_dcgan(32, a.width, "cpu")
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = F.binary_cross_entropy_with_logits
    step = 0
    for epoch in range(1, a.epochs + 1):
        order = torch.randperm(len(data))
        for b in range(len(data) // a.batch):
            x = data[order[b * a.batch:(b + 1) * a.batch]]
            z = torch.rand(a.batch, Z_DIM) * 2 - 1
            fake = g(z)
            real_logit, _ = d(x)
            fake_logit, _ = d(fake.detach())
            loss_d = bce(real_logit, torch.ones_like(real_logit)) + bce(fake_logit, torch.zeros_like(fake_logit))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            d.requires_grad_(False)
            for k in range(a.g_steps):  # the first update reuses this step's G(z), as anogan/train.ts
                logit, _ = d(fake if k == 0 else g(torch.rand(a.batch, Z_DIM) * 2 - 1))
                loss_g = bce(logit, torch.ones_like(logit))
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
            d.requires_grad_(True)
            step += 1
            if step % a.log_every == 0:
                print(json.dumps({
                    "step": step, "epoch": epoch, "lossD": loss_d.item(), "lossG": loss_g.item(),
                    "dReal": torch.sigmoid(real_logit).mean().item(),
                    "dFake": torch.sigmoid(fake_logit).mean().item(),
                }), flush=True)


if __name__ == "__main__":
    main()
