// SGD with momentum in place, PyTorch semantics (torch.optim.SGD):
//   g += wd·p; buf = first ? g : μ·buf + (1 − dampening)·g; d = nesterov ? g + μ·buf : buf; p −= lr·d
// Used by: core/optim.ts (SGD).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params; 1 p (read_write); 2 g (read); 3 buf (read_write, momentum buffer). Flat.

struct Params {
  n: u32, lr: f32, momentum: f32, dampening: f32,
  weight_decay: f32, first: u32, nesterov: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * WG;
  if (i >= p.n) { return; }
  var g = grad[i];
  if (p.weight_decay != 0.0) { g = g + p.weight_decay * param[i]; }
  var d = g;
  if (p.momentum != 0.0) {
    var b = g;
    if (p.first == 0u) { b = p.momentum * buf[i] + (1.0 - p.dampening) * g; }
    buf[i] = b;
    d = select(b, g + p.momentum * b, p.nesterov != 0u);
  }
  param[i] = param[i] - p.lr * d;
}
