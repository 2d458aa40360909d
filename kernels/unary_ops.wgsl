// Shared WGSL, no dispatch of its own: the op codes and the uniform Params of the elementwise unary
// ops, included (see core/kernel.ts) by unary.wgsl (y = f(x)) and unary_grad.wgsl (their gradients),
// and selected by their OP constant (core/ops/elementwise.ts, UNARY, holds the same codes).
// Binding 0: the uniform Params { n (elements), alpha (leakyRelu's slope, scale's factor), lo and hi
// (clamp's bounds) }.

struct Params { n: u32, alpha: f32, lo: f32, hi: f32 }
@group(0) @binding(0) var<uniform> p: Params;

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
const SCALE: u32 = 10u; // alpha * x
const COPY: u32 = 11u;
const SIGN: u32 = 12u;
const ACCUMULATE: u32 = 13u; // y += x (unary.wgsl only: gradient accumulation)
