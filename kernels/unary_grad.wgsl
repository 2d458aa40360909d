// Gradients of the elementwise unary ops: gx[i] = gy[i] * f'(x[i]) (some use the output y instead).
// Used by: core/ops/elementwise.ts, the backward of every op in unary.wgsl.
// Constants: OP (a code of unary_ops.wgsl, as for unary.wgsl), WG (workgroup size).
// Bindings: 0 uniform Params (unary_ops.wgsl); 1 x (read); 2 y = f(x) (read); 3 gy (read); 4 gx
// (write). Flat.
// Includes: unary_ops.wgsl (the op codes and Params, shared with unary.wgsl), flat.wgsl (the entry
// point).

//!include unary_ops.wgsl
//!include flat.wgsl
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;

fn df(g: f32, v: f32, out: f32) -> f32 {
  switch OP {
    case NEG: { return -g; }
    case ABS: { return g * sign(v); }
    case EXP: { return g * out; }
    case LOG: { return g / v; }
    case SQRT: { return g * 0.5 / out; }
    case CLAMP: { return select(0.0, g, v >= p.lo && v <= p.hi); }
    case RELU: { return select(0.0, g, v > 0.0); }
    case LEAKY_RELU: { return select(p.alpha * g, g, v > 0.0); }
    case TANH: { return g * (1.0 - out * out); }
    case SIGMOID: { return g * out * (1.0 - out); }
    case SCALE: { return p.alpha * g; }
    default: { return g; }
  }
}

fn elements() -> u32 { return p.n; }
fn element(i: u32) { gx[i] = df(gy[i], x[i], y[i]); }
