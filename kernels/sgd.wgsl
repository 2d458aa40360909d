// SGD with momentum in place, PyTorch semantics (torch.optim.SGD):
//   g += wd·p; buf = first ? g : μ·buf + (1 − dampening)·g; d = nesterov ? g + μ·buf : buf; p −= lr·d
// Used by: core/optim.ts (SGD).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params; 1 p (read_write); 2 g (read); 3 buf (read_write, momentum buffer). Flat.
// Includes: optim_grad.wgsl (bindings 1 and 2, the weight decay; shared with adam.wgsl), flat.wgsl
// (the entry point).

struct Params {
  n: u32, lr: f32, momentum: f32, dampening: f32,
  weight_decay: f32, first: u32, nesterov: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
alias V = f32;
//!include optim_grad.wgsl
//!include flat.wgsl
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

fn elements() -> u32 { return p.n; }

fn element(i: u32) {
  let g = decayed_grad(i);
  var d = g;
  if (p.momentum != 0.0) {
    var b = g;
    if (p.first == 0u) { b = p.momentum * buf[i] + (1.0 - p.dampening) * g; }
    buf[i] = b;
    d = select(b, g + p.momentum * b, p.nesterov != 0u);
  }
  param[i] = param[i] - p.lr * d;
}
