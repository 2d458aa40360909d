// Elementwise unary ops, y[i] = f(x[i]); also in-place accumulation y[i] += x[i].
// Used by: core/ops/elementwise.ts (neg, abs, exp, log, sqrt, clamp, relu, leakyRelu, tanh, sigmoid,
// scale, copy, sign) and autograd's gradient accumulation.
// Constants: OP (a code of unary_ops.wgsl), WG (workgroup size).
// Bindings: 0 uniform Params (unary_ops.wgsl); 1 x: array<f32> (read); 2 y: array<f32> (write).
// Flat, any layout.
// Dispatch: ceil(n / WG) workgroups over x, spilling into y (index = x + y * num_workgroups.x * WG).
// Includes: unary_ops.wgsl (the op codes and Params, shared with unary_grad.wgsl), activation.wgsl
// (ReLU, LeakyReLU and tanh, shared with the conv kernels' output stage), flat.wgsl (the entry point).

//!include unary_ops.wgsl
//!include activation.wgsl
//!include flat.wgsl
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn stable_sigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, v >= 0.0);
}

fn f(v: f32, i: u32) -> f32 {
  switch OP {
    case NEG: { return -v; }
    case ABS: { return abs(v); }
    case EXP: { return exp(v); }
    case LOG: { return log(v); }
    case SQRT: { return sqrt(v); }
    case CLAMP: { return min(max(v, p.lo), p.hi); }
    case RELU: { return relu(v); }
    case LEAKY_RELU: { return leaky_relu(v, p.alpha); }
    case TANH: { return stable_tanh(v); }
    case SIGMOID: { return stable_sigmoid(v); }
    case SCALE: { return p.alpha * v; }
    case SIGN: { return sign(v); }
    case ACCUMULATE: { return y[i] + v; }
    default: { return v; }
  }
}

fn elements() -> u32 { return p.n; }
fn element(i: u32) { y[i] = f(x[i], i); }
