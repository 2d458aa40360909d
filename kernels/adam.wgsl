// Adam update in place, PyTorch semantics (torch.optim.Adam, bias correction, L2 weight decay):
//   g += wd·p; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= step_size · m / (√v / √bc2 + ε)
// with step_size = lr / (1 − β1^t) and bc2 = 1 − β2^t computed on the host in double precision.
// Four values per invocation (vec4 loads and stores: on a CPU adapter each one runs lane by lane, so
// fewer and wider cost less); the n values' last vec4 keeps its components past n as they were.
// Used by: core/optim.ts (Adam).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params; 1 p (read_write); 2 g (read); 3 m (read_write); 4 v (read_write), each
// read as vec4 (buffers hold whole vec4s). Flat over ceil(n / 4) elements.
// Includes: optim_grad.wgsl (bindings 1 and 2, the weight decay; shared with sgd.wgsl), flat.wgsl
// (the entry point).

struct Params {
  n: u32, beta1: f32, beta2: f32, one_minus_beta1: f32,
  one_minus_beta2: f32, step_size: f32, bc2_sqrt: f32, eps: f32,
  weight_decay: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
alias V = vec4<f32>;
//!include optim_grad.wgsl
//!include flat.wgsl
@group(0) @binding(3) var<storage, read_write> m: array<V>;
@group(0) @binding(4) var<storage, read_write> v: array<V>;

fn elements() -> u32 { return (p.n + 3u) / 4u; }

fn element(i: u32) {
  // Components past n (in the last vec4) keep their values.
  let past = 4u * i + vec4<u32>(0u, 1u, 2u, 3u) >= vec4<u32>(p.n);
  let g = decayed_grad(i);
  let m0 = m[i];
  let v0 = v[i];
  let p0 = param[i];
  let mi = m0 * p.beta1 + g * p.one_minus_beta1;
  let vi = v0 * p.beta2 + (g * g) * p.one_minus_beta2;
  m[i] = select(mi, m0, past);
  v[i] = select(vi, v0, past);
  let denom = sqrt(vi) / p.bc2_sqrt + p.eps;
  param[i] = select(p0 - p.step_size * (mi / denom), p0, past);
}
