// Shared WGSL, no dispatch of its own: the activations that may follow a layer, written once, so that
// an activation applied in a conv kernel's output stage gives the bits of the elementwise op applied
// after it. Included (see core/kernel.ts) by unary.wgsl, conv2d_col2im_c1.wgsl (activate) and the
// generated conv2d_{forward,grad_input}_tile32*.wgsl kernels (rectify4).
// Codes (core/ops/elementwise.ts, UNARY, holds the same numbers): 0 none, 6 ReLU, 7 LeakyReLU (slope
// alpha), 8 tanh. No bindings of its own.

const ACT_NONE: u32 = 0u;
const ACT_RELU: u32 = 6u;
const ACT_LEAKY_RELU: u32 = 7u;
const ACT_TANH: u32 = 8u;

// tanh from exp(-2|x|), with a series near 0 where 1 - e^(-2|x|) cancels.
fn stable_tanh(v: f32) -> f32 {
  let a = abs(v);
  if (a < 0.0625) {
    let a2 = a * a;
    return v * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0))));
  }
  let e = exp(-2.0 * a);
  return sign(v) * (1.0 - e) / (1.0 + e);
}

fn relu(v: f32) -> f32 { return max(v, 0.0); }

fn leaky_relu(v: f32, alpha: f32) -> f32 { return select(alpha * v, v, v > 0.0); }

// Activation `act` of v (ACT_NONE: v itself).
fn activate(act: u32, alpha: f32, v: f32) -> f32 {
  switch act {
    case ACT_RELU: { return relu(v); }
    case ACT_LEAKY_RELU: { return leaky_relu(v, alpha); }
    case ACT_TANH: { return stable_tanh(v); }
    default: { return v; }
  }
}

// ReLU or LeakyReLU (act) on each component, as activate() computes them; v itself for any other act.
// The tile kernels apply this one in each of their 256 stores; tanh there (a branch and an exp per
// component) would make them far slower to compile, so its layers apply it after (core/ops/conv.ts).
fn rectify4(act: u32, alpha: f32, v: vec4<f32>) -> vec4<f32> {
  if (act == ACT_RELU) { return max(v, vec4<f32>(0.0)); }
  if (act == ACT_LEAKY_RELU) { return select(alpha * v, v, v > vec4<f32>(0.0)); }
  return v;
}
