#!/usr/bin/python3
"""The budget curve's implementation-parity point in PyTorch: the same recipe on the same images.

Reads a point folder written by `deno task budget --size 32 ... --export --out DIR` (train.safetensors,
val.safetensors, recipe.json), trains the 32×32 DCGAN of scripts/make_fixtures.py (the model the
mapping fixtures check ours against) with the same losses (eq. 1, the non-saturating eq. 2), Adam and
initialisation, recomputes D's batch-norm statistics on the training images, maps every validation
patch by Γ Adam steps on z alone with clamping (eq. 5, λ = 0.1), and writes DIR/torch-seedS/scores.csv
(id, label, A, R, D, PD) and timing.json. `deno task eval --scores DIR/torch-seedS/scores.csv`
then gives Table 1 for it, to set beside ours (DIR/val-epochsN-stepsΓ-lrLR/scores.csv).

Run with Debian's PyTorch:  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/budget_reference_torch.py DIR
                            [--steps Γ] [--lr LR] [--seed S] [--out FOLDER]
The random streams are PyTorch's, so the run is an independent draw of the same recipe, not a copy
of ours: the two agree when their AUROCs agree within the bootstrap intervals.
"""
import argparse
import json
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import Dcgan32  # noqa: E402  (the fixtures' model: same names, layouts, blocks)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, h in header.items():
        if h["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {h['dtype']}; expected F32")
        a, b = h["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(h["shape"])
    return tensors, meta


def dcgan_init(net):
    with torch.no_grad():
        for name, p in net.named_parameters():
            if "_bn." in name:
                p.copy_(torch.randn(p.shape) * 0.02 + 1 if name.endswith("weight") else torch.zeros(p.shape))
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape) * 0.02)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="output folder (default DIR/torch-seedS)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    recipe = json.load(open(os.path.join(args.dir, "recipe.json")))
    train, _ = read_safetensors(os.path.join(args.dir, "train.safetensors"))
    val, val_meta = read_safetensors(os.path.join(args.dir, "val.safetensors"))
    size, width, z_dim = recipe["model"]["size"], recipe["model"]["width"], recipe["model"]["zDim"]
    if size != 32:
        raise SystemExit(f"recipe model size {size}: this reference has the 32×32 DCGAN only")
    images = train["images"].unsqueeze(1)  # [N, 1, S, S]
    batch, epochs = recipe["batch"], recipe["epochs"]
    net = Dcgan32(width, z_dim)
    dcgan_init(net)
    g_params = [p for n, p in net.named_parameters() if n.startswith(("project", "up"))]
    d_params = [p for n, p in net.named_parameters() if n.startswith(("down", "classify"))]
    betas = (recipe["beta1"], recipe["beta2"])
    opt_g = torch.optim.Adam(g_params, lr=recipe["lr"], betas=betas)
    opt_d = torch.optim.Adam(d_params, lr=recipe["lr"], betas=betas)
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    t0 = time.time()
    steps = len(images) // batch
    for epoch in range(epochs):
        order = torch.randperm(len(images))
        for s in range(steps):
            x = images[order[s * batch:(s + 1) * batch]]
            z = torch.rand(batch, z_dim) * 2 - 1
            fake = net.generate(z)
            loss_d = F.binary_cross_entropy_with_logits(net.discriminate(x)[0], ones) + \
                F.binary_cross_entropy_with_logits(net.discriminate(fake.detach())[0], zeros)  # eq. 1
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = F.binary_cross_entropy_with_logits(net.discriminate(fake)[0], ones)  # eq. 2
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        print(f"epoch {epoch + 1}: D {loss_d.item():.3f} G {loss_g.item():.3f}", flush=True)
    # D's running statistics from the normal training images (cumulative average of whole batches).
    with torch.no_grad():
        for m in (net.down1_bn, net.down2_bn):  # D's only: G keeps the statistics of its training
            m.reset_running_stats()
            m.momentum = None
        net.train()
        for s in range(steps):
            net.discriminate(images[s * batch:(s + 1) * batch])
    train_seconds = time.time() - t0

    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    x_all = val["images"].unsqueeze(1)
    ids = json.loads(val_meta["ids"])
    labels = val["labels"].tolist()
    lam = 0.1
    rows = []
    t1 = time.time()
    for b in range(0, len(x_all), 64):
        x = x_all[b:b + 64]
        fx = net.discriminate(x)[1]
        z = (torch.rand(len(x), z_dim) * 2 - 1).requires_grad_(True)
        opt = torch.optim.Adam([z], lr=args.lr, betas=(0.9, 0.999))

        def terms():
            g = net.generate(z)
            r = (x - g).abs().sum(dim=(1, 2, 3))  # eq. 3
            d = (fx - net.discriminate(g)[1]).abs().sum(dim=(1, 2, 3))  # eq. 4
            return r, d

        for _ in range(args.steps):
            r, d = terms()
            opt.zero_grad()
            ((1 - lam) * r + lam * d).sum().backward()  # eq. 5
            opt.step()
            with torch.no_grad():
                z.clamp_(-1, 1)
        with torch.no_grad():
            r, d = terms()
            pd = torch.sigmoid(-net.discriminate(x)[0])
        a = (1 - lam) * r + lam * d  # eq. 6
        for k in range(len(x)):
            rows.append((ids[b + k], int(labels[b + k]), a[k].item(), r[k].item(), d[k].item(), pd[k].item()))
    score_seconds = time.time() - t1
    out = args.out or os.path.join(args.dir, f"torch-seed{args.seed}")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "scores.csv"), "w") as f:
        f.write("id,label,A,R,D,PD\n")
        for row in rows:
            f.write(",".join(str(v) for v in row) + "\n")
    timing = {"trainSeconds": train_seconds, "scoreSeconds": score_seconds, "torch": torch.__version__,
              "threads": torch.get_num_threads(), "steps": args.steps, "lr": args.lr, "trainImages": len(images)}
    json.dump(timing, open(os.path.join(out, "timing.json"), "w"), indent=2)
    print(f"wrote {out}/scores.csv ({len(rows)} rows); train {train_seconds:.0f} s, score {score_seconds:.0f} s")


if __name__ == "__main__":
    main()
