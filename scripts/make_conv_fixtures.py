#!/usr/bin/python3
"""Reference outputs from PyTorch for conv2d, conv_transpose2d and batch norm, written to
fixtures/conv.safetensors.

Run with Debian's PyTorch:  apt-get install python3-torch libopenblas0-pthread
                            /usr/bin/python3 scripts/make_conv_fixtures.py
Tensors are stored in PyTorch's layouts (NCHW activations, conv weight [Cout,Cin,kh,kw], transposed
conv weight [Cin,Cout,kh,kw]); the tests convert them to the runtime's NHWC layouts. Every conv case
stores its inputs, a random upstream gradient `gy`, the output and the gradients of x, weight, bias.
The batch-norm case runs torch.nn.BatchNorm2d for 3 training steps, then one eval step.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import OUT, write_safetensors  # noqa: E402

torch.manual_seed(4321)
torch.set_num_threads(1)

# name, kind, batch, in channels, H, W, out channels, kernel, stride, padding, output padding, bias
CONV_CASES = [
    ("conv_3x3_s1_p1", "conv2d", 2, 3, 7, 6, 5, 3, 1, 1, 0, True),
    ("conv_5x5_s2_p2_dcgan", "conv2d", 2, 4, 16, 16, 8, 5, 2, 2, 0, True),
    ("conv_4x4_s2_p0", "conv2d", 1, 5, 9, 11, 3, 4, 2, 0, 0, True),
    ("conv_1x1_s1_p0", "conv2d", 3, 6, 5, 5, 7, 1, 1, 0, 0, True),
    ("conv_5x5_s1_p0_nobias", "conv2d", 1, 2, 8, 9, 3, 5, 1, 0, 0, False),
    ("convT_5x5_s2_p2_op1_dcgan", "convTranspose2d", 2, 8, 4, 4, 4, 5, 2, 2, 1, True),
    ("convT_3x3_s2_p1_op1", "convTranspose2d", 2, 3, 5, 6, 5, 3, 2, 1, 1, True),
    ("convT_4x4_s2_p1", "convTranspose2d", 1, 6, 3, 3, 2, 4, 2, 1, 0, True),
    ("convT_1x1_s1_p0", "convTranspose2d", 3, 4, 4, 5, 3, 1, 1, 0, 0, True),
    ("convT_3x3_s1_p2_nobias", "convTranspose2d", 1, 2, 6, 7, 3, 3, 1, 2, 0, False),
]


def make_conv(tensors, cases):
    for name, kind, n, cin, h, w, cout, k, s, p, op, has_bias in CONV_CASES:
        x = torch.randn(n, cin, h, w, requires_grad=True)
        wshape = (cout, cin, k, k) if kind == "conv2d" else (cin, cout, k, k)
        weight = torch.randn(wshape, requires_grad=True)
        bias = torch.randn(cout, requires_grad=True) if has_bias else None
        if kind == "conv2d":
            out = F.conv2d(x, weight, bias, stride=s, padding=p)
        else:
            out = F.conv_transpose2d(x, weight, bias, stride=s, padding=p, output_padding=op)
        gy = torch.randn(out.shape)
        out.backward(gy)
        tensors.update({f"{name}.x": x, f"{name}.weight": weight, f"{name}.gy": gy, f"{name}.out": out,
                        f"{name}.grad_x": x.grad, f"{name}.grad_weight": weight.grad})
        if has_bias:
            tensors[f"{name}.bias"] = bias
            tensors[f"{name}.grad_bias"] = bias.grad
        cases.append({"name": name, "kind": kind, "stride": s, "padding": p, "outputPadding": op,
                      "bias": has_bias})


def make_batchnorm(tensors):
    c = 6
    bn = torch.nn.BatchNorm2d(c)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.3 * torch.randn(c))
        bn.bias.copy_(0.5 * torch.randn(c))
    tensors["bn.weight"] = bn.weight.detach().clone()
    tensors["bn.bias"] = bn.bias.detach().clone()
    bn.train()
    for step in range(3):
        x = (torch.randn(4, c, 5, 3) * 2 + 1).requires_grad_(True)
        y = bn(x)
        gy = torch.randn(y.shape)
        bn.zero_grad()
        y.backward(gy)
        tensors.update({f"bn.train{step}.x": x, f"bn.train{step}.out": y, f"bn.train{step}.gy": gy,
                        f"bn.train{step}.grad_x": x.grad, f"bn.train{step}.grad_weight": bn.weight.grad.clone(),
                        f"bn.train{step}.grad_bias": bn.bias.grad.clone(),
                        f"bn.train{step}.running_mean": bn.running_mean.clone(),
                        f"bn.train{step}.running_var": bn.running_var.clone()})
    bn.eval()
    x = torch.randn(3, c, 4, 4).requires_grad_(True)
    y = bn(x)
    gy = torch.randn(y.shape)
    bn.zero_grad()
    y.backward(gy)
    tensors.update({"bn.eval.x": x, "bn.eval.out": y, "bn.eval.gy": gy, "bn.eval.grad_x": x.grad,
                    "bn.eval.grad_weight": bn.weight.grad, "bn.eval.grad_bias": bn.bias.grad})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    tensors, cases = {}, []
    make_conv(tensors, cases)
    make_batchnorm(tensors)
    write_safetensors(os.path.join(OUT, "conv.safetensors"), tensors,
                      {"cases": json.dumps(cases), "torch": torch.__version__})
