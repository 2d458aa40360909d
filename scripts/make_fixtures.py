#!/usr/bin/python3
"""Reference outputs from PyTorch for the runtime's tests, written as safetensors to fixtures/.

Run with Debian's PyTorch:  apt-get install python3-torch libopenblas0-pthread
                            /usr/bin/python3 scripts/make_fixtures.py
Safetensors files are written with json + struct only (no extra packages). Every case stores its
inputs, a random upstream gradient `gy`, the output and the input gradients, all float32.
"""
import json
import os
import struct

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (len(h) + 8) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
    print(f"wrote {path} ({8 + len(h) + offset} bytes, {len(tensors)} tensors)")


def randn(*shape):
    return torch.randn(shape)


def positive(*shape):
    return torch.rand(shape) * 2 + 0.1


# name -> (op, args, inputs, function)
CASES = [
    ("add_same", "add", {}, [randn(3, 5), randn(3, 5)], lambda a, b: a + b),
    ("add_channel", "add", {}, [randn(2, 3, 4, 5), randn(3, 1, 1)], lambda a, b: a + b),
    ("add_scalar_tensor", "add", {}, [randn(4, 3), randn()], lambda a, b: a + b),
    ("sub_bcast", "sub", {}, [randn(4, 1, 6), randn(5, 1)], lambda a, b: a - b),
    ("mul_channel", "mul", {}, [randn(2, 3, 4, 5), randn(1, 3, 1, 1)], lambda a, b: a * b),
    ("div_bcast", "div", {}, [randn(3, 7), positive(7)], lambda a, b: a / b),
    ("neg", "neg", {}, [randn(17)], lambda a: -a),
    ("abs", "abs", {}, [randn(4, 9)], lambda a: a.abs()),
    ("exp", "exp", {}, [randn(5, 6)], lambda a: a.exp()),
    ("log", "log", {}, [positive(5, 6)], lambda a: a.log()),
    ("sqrt", "sqrt", {}, [positive(33)], lambda a: a.sqrt()),
    ("clamp", "clamp", {"lo": -0.5, "hi": 0.7}, [randn(6, 7)], lambda a: a.clamp(-0.5, 0.7)),
    ("relu", "relu", {}, [randn(3, 11)], F.relu),
    ("leaky_relu", "leakyRelu", {"alpha": 0.2}, [randn(3, 11)], lambda a: F.leaky_relu(a, 0.2)),
    ("tanh", "tanh", {}, [randn(50) * 2], torch.tanh),
    ("sigmoid", "sigmoid", {}, [randn(50) * 3], torch.sigmoid),
    ("sum_all", "sum", {}, [randn(4, 5, 6)], lambda a: a.sum()),
    ("sum_axes", "sum", {"axes": [0, 2]}, [randn(4, 5, 6)], lambda a: a.sum(dim=(0, 2))),
    ("mean_axis", "mean", {"axes": [1]}, [randn(3, 7, 2)], lambda a: a.mean(dim=1)),
    ("mean_large", "mean", {"axes": [1]}, [randn(3, 5000)], lambda a: a.mean(dim=1)),
    ("matmul", "matmul", {}, [randn(7, 13), randn(13, 5)], lambda a, b: a @ b),
    ("linear", "linear", {}, [randn(6, 10), randn(9, 10), randn(9)], F.linear),
    ("reshape", "reshape", {"shape": [6, 4]}, [randn(2, 3, 4)], lambda a: a.reshape(6, 4)),
    ("transpose", "transpose", {}, [randn(5, 9)], lambda a: a.t()),
    ("l1_sum_images", "l1Sum", {"axes": [1, 2, 3]}, [randn(3, 1, 8, 8), randn(3, 1, 8, 8)],
     lambda a, b: (a - b).abs().sum(dim=(1, 2, 3))),
    ("bce_logits_mean", "bceWithLogits", {"reduction": "mean"}, [randn(16) * 3, torch.rand(16)],
     lambda x, t: F.binary_cross_entropy_with_logits(x, t)),
    ("bce_logits_ones_sum", "bceWithLogits", {"reduction": "sum", "target": 1.0}, [randn(12) * 4],
     lambda x: F.binary_cross_entropy_with_logits(x, torch.ones_like(x), reduction="sum")),
]


def make_ops():
    tensors, cases = {}, []
    for name, op, args, inputs, fn in CASES:
        xs = [x.clone().requires_grad_(True) for x in inputs]
        out = fn(*xs)
        gy = torch.randn(out.shape)
        out.backward(gy)
        for i, x in enumerate(xs):
            tensors[f"{name}.in{i}"] = x
            tensors[f"{name}.grad{i}"] = x.grad
        tensors[f"{name}.gy"] = gy
        tensors[f"{name}.out"] = out
        cases.append({"name": name, "op": op, "args": args, "inputs": len(xs)})
    write_safetensors(os.path.join(OUT, "ops.safetensors"), tensors, {"cases": json.dumps(cases)})


def make_mlp():
    """A 8→32→1 tanh MLP fitting a fixed regression with MSE, trained by Adam and by SGD+momentum."""
    x = torch.randn(64, 8)
    y = torch.sin(x[:, :1] * 2) + 0.5 * x[:, 1:2] * x[:, 2:3]
    init = {
        "fc1.weight": torch.randn(32, 8) * 0.3,
        "fc1.bias": torch.randn(32) * 0.1,
        "fc2.weight": torch.randn(1, 32) * 0.3,
        "fc2.bias": torch.randn(1) * 0.1,
    }
    tensors = {"x": x, "y": y}
    tensors.update({f"init.{k}": v for k, v in init.items()})
    runs = {
        "adam": (lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8), 200),
        "sgd": (lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3), 100),
    }
    for run, (make_opt, steps) in runs.items():
        params = {k: v.clone().requires_grad_(True) for k, v in init.items()}
        opt = make_opt(list(params.values()))
        losses = []
        for step in range(steps):
            opt.zero_grad()
            h = torch.tanh(F.linear(x, params["fc1.weight"], params["fc1.bias"]))
            pred = F.linear(h, params["fc2.weight"], params["fc2.bias"])
            loss = ((pred - y) ** 2).mean()
            if step % 20 == 0:
                losses.append(loss.item())
            loss.backward()
            opt.step()
        tensors[f"{run}.losses"] = torch.tensor(losses)
        tensors.update({f"{run}.final.{k}": v for k, v in params.items()})
    write_safetensors(os.path.join(OUT, "mlp.safetensors"), tensors, {"torch": torch.__version__})


class Dcgan32(torch.nn.Module):
    """The 32×32 DCGAN of anogan/dcgan.ts in PyTorch (NCHW), with the same state-dict names."""

    def __init__(self, width, z_dim):
        super().__init__()
        c = [4 * width, 2 * width, width]
        self.c0 = c[0]
        self.project = torch.nn.Linear(z_dim, 16 * c[0])
        self.project_bn = torch.nn.BatchNorm2d(c[0])
        for i in range(3):
            out = 1 if i == 2 else c[i + 1]
            setattr(self, f"up{i}", torch.nn.ConvTranspose2d(c[i], out, 5, 2, 2, output_padding=1, bias=i == 2))
            if i < 2:
                setattr(self, f"up{i}_bn", torch.nn.BatchNorm2d(out))
        cin = 1
        for i in range(3):
            out = width * 2 ** i
            setattr(self, f"down{i}", torch.nn.Conv2d(cin, out, 5, 2, 2, bias=i == 0))
            if i > 0:
                setattr(self, f"down{i}_bn", torch.nn.BatchNorm2d(out))
            cin = out
        self.classify = torch.nn.Linear(16 * cin, 1)

    def generate(self, z):
        h = F.relu(self.project_bn(self.project(z).view(-1, self.c0, 4, 4)))
        for i in range(3):
            h = getattr(self, f"up{i}")(h)
            h = torch.tanh(h) if i == 2 else F.relu(getattr(self, f"up{i}_bn")(h))
        return h

    def discriminate(self, x):
        h = x
        for i in range(3):
            h = getattr(self, f"down{i}")(h)
            if i > 0:
                h = getattr(self, f"down{i}_bn")(h)
            h = F.leaky_relu(h, 0.2)
        return self.classify(h.flatten(1)).view(-1), h


def make_dcgan_step():
    """One adversarial step of a small 32×32 DCGAN: losses, every gradient, running statistics."""
    width, z_dim, batch = 4, 8, 5
    net = Dcgan32(width, z_dim)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if "_bn." in name:
                p.copy_(torch.randn(p.shape) * 0.02 + (1 if name.endswith("weight") else 0))
            else:
                p.copy_(torch.randn(p.shape) * 0.05)
    init = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.rand(batch, 1, 32, 32) * 2 - 1
    z = torch.rand(batch, z_dim) * 2 - 1
    g_params = [p for n, p in net.named_parameters() if n.startswith(("project", "up"))]
    d_params = [p for n, p in net.named_parameters() if n.startswith(("down", "classify"))]
    fake = net.generate(z)
    logits_real, features_real = net.discriminate(x)
    logits_fake, _ = net.discriminate(fake.detach())
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    loss_d = F.binary_cross_entropy_with_logits(logits_real, ones) + F.binary_cross_entropy_with_logits(logits_fake, zeros)
    grads_d = torch.autograd.grad(loss_d, d_params)
    loss_g = F.binary_cross_entropy_with_logits(net.discriminate(fake)[0], ones)
    grads_g = torch.autograd.grad(loss_g, g_params)
    tensors = {"x": x, "z": z, "fake": fake, "features_real": features_real, "loss_d": loss_d.view(1), "loss_g": loss_g.view(1)}
    tensors.update({f"init.{k}": v for k, v in init.items()})
    names_d = [n for n, _ in net.named_parameters() if n.startswith(("down", "classify"))]
    names_g = [n for n, _ in net.named_parameters() if n.startswith(("project", "up"))]
    tensors.update({f"grad.{n}": g for n, g in zip(names_d + names_g, list(grads_d) + list(grads_g))})
    tensors.update({f"after.{k}": v for k, v in net.state_dict().items() if "running" in k})
    meta = {"width": str(width), "z_dim": str(z_dim), "batch": str(batch), "torch": torch.__version__}
    write_safetensors(os.path.join(OUT, "dcgan_step.safetensors"), tensors, meta)


def make_mapping():
    """Latent mapping (eq. 3-6) of a small 32×32 DCGAN in eval mode: the loss terms, A(x) and ∂L/∂z at z₁,
    and z after 1 and 5 Adam steps with clamping to [−1, 1], for AnoGAN's D and GANR's D̂."""
    width, z_dim, batch, lam, lr, betas = 4, 8, 3, 0.1, 0.05, (0.9, 0.999)
    net = Dcgan32(width, z_dim)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if "_bn." in name:
                p.copy_(torch.randn(p.shape) * 0.1 + (1 if name.endswith("weight") else 0))
            else:
                p.copy_(torch.randn(p.shape) * 0.1)
        for name, b in net.named_buffers():  # running statistics away from (0, 1), as after training
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape) + 0.5)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    x = torch.rand(batch, 1, 32, 32) * 2 - 1
    z1 = torch.rand(batch, z_dim) * 2 - 1
    z1[:, :2] = torch.tensor([0.99, -0.99])  # coordinates at the edge of the support, so that clamping acts
    fx = net.discriminate(x)[1]
    nhwc = lambda t: t.permute(0, 2, 3, 1)  # noqa: E731  (our activations are NHWC)

    def terms(z, method):
        g = net.generate(z)
        residual = (x - g).abs().sum(dim=(1, 2, 3))  # eq. 3
        logits, fg = net.discriminate(g)
        if method == "anogan":
            discrimination = (fx - fg).abs().sum(dim=(1, 2, 3))  # eq. 4
        else:
            discrimination = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="none")
        return residual, discrimination, (1 - lam) * residual + lam * discrimination  # eq. 5 / eq. 6

    pd = torch.sigmoid(-net.discriminate(x)[0])  # PD: 1 − D(x)
    tensors = {"x": x, "z1": z1, "fx": nhwc(fx), "pd": pd}
    for method in ("anogan", "ganr"):
        z = z1.clone().requires_grad_(True)
        residual, discrimination, loss = terms(z, method)
        (grad,) = torch.autograd.grad(loss.sum(), z)
        tensors.update({f"{method}.R": residual, f"{method}.D": discrimination, f"{method}.A": loss, f"{method}.grad_z": grad})
        opt = torch.optim.Adam([z], lr=lr, betas=betas)
        for step in range(1, 6):
            opt.zero_grad()
            terms(z, method)[2].sum().backward()
            opt.step()
            with torch.no_grad():
                z.clamp_(-1, 1)
            if step in (1, 5):
                tensors[f"{method}.z{step}"] = z.detach().clone()
    tensors.update({f"model.{k}": v for k, v in net.state_dict().items()})
    meta = {"width": str(width), "z_dim": str(z_dim), "batch": str(batch), "lambda": str(lam), "lr": str(lr),
            "betas": json.dumps(betas), "torch": torch.__version__}
    write_safetensors(os.path.join(OUT, "mapping.safetensors"), tensors, meta)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_ops()
    make_mlp()
    make_dcgan_step()
    make_mapping()
