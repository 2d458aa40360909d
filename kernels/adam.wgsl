// Adam update in place, PyTorch semantics (torch.optim.Adam, bias correction, L2 weight decay):
//   g += wd·p; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= step_size · m / (√v / √bc2 + ε)
// with step_size = lr / (1 − β1^t) and bc2 = 1 − β2^t computed on the host in double precision.
// Used by: core/optim.ts (Adam).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params; 1 p (read_write); 2 g (read); 3 m (read_write); 4 v (read_write). Flat.
// Includes: optim_grad.wgsl (bindings 1 and 2, the weight decay; shared with sgd.wgsl), flat.wgsl
// (the entry point).

struct Params {
  n: u32, beta1: f32, beta2: f32, one_minus_beta1: f32,
  one_minus_beta2: f32, step_size: f32, bc2_sqrt: f32, eps: f32,
  weight_decay: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
//!include optim_grad.wgsl
//!include flat.wgsl
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

fn elements() -> u32 { return p.n; }

fn element(i: u32) {
  let g = decayed_grad(i);
  let mi = m[i] * p.beta1 + g * p.one_minus_beta1;
  let vi = v[i] * p.beta2 + (g * g) * p.one_minus_beta2;
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) / p.bc2_sqrt + p.eps;
  param[i] = param[i] - p.step_size * (mi / denom);
}
