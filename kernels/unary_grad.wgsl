// Gradients of the elementwise unary ops: gx[i] = gy[i] * f'(x[i]) (some use the output y instead).
// Used by: core/ops/elementwise.ts, the backward of every op in unary.wgsl.
// Constants: OP (the same codes as unary.wgsl), WG (workgroup size).
// Bindings: 0 uniform Params; 1 x (read); 2 y = f(x) (read); 3 gy (read); 4 gx (write). Flat.

struct Params { n: u32, alpha: f32, lo: f32, hi: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;

const NEG: u32 = 0u;
const ABS: u32 = 1u;
const EXP: u32 = 2u;
const LOG: u32 = 3u;
const SQRT: u32 = 4u;
const CLAMP: u32 = 5u;
const RELU: u32 = 6u;
const LEAKY_RELU: u32 = 7u;
const TANH: u32 = 8u;
const SIGMOID: u32 = 9u;
const SCALE: u32 = 10u;

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

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * WG;
  if (i >= p.n) { return; }
  gx[i] = df(gy[i], x[i], y[i]);
}
