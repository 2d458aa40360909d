// Elementwise binary ops with numpy-style broadcasting: out[i] = f(a[ia], b[ib]).
// Used by: core/ops/elementwise.ts (add, sub, mul, div, broadcastTo), core/ops/loss.ts (l1 sign,
// bceWithLogits and its gradient).
// Constants: OP (table below); BCAST (true: index a and b through per-dimension strides, 0 where an
// operand is broadcast; false: all three share one shape); B_SCALAR (b is the uniform `scalar`); WG.
// Bindings: 0 uniform Params; 1 a (read); 2 b (read; unused when B_SCALAR); 3 out (write).
// Shapes: up to 8 dimensions, row-major, right-aligned and padded with 1s in `shape`.
// Includes: flat.wgsl (the entry point: element i of n), dims.wgsl (shapes and strides).

//!include flat.wgsl
//!include dims.wgsl
struct Params {
  n: u32, scalar: f32, _pad0: u32, _pad1: u32,
  shape: Dims, a_strides: Dims, b_strides: Dims,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const ADD: u32 = 0u;
const SUB: u32 = 1u;
const MUL: u32 = 2u;
const DIV: u32 = 3u;
const SIGN_DIFF: u32 = 4u; // sign(a - b)
const BCE_LOGITS: u32 = 5u; // max(a, 0) - a b + log(1 + exp(-|a|))
const SIGMOID_MINUS: u32 = 6u; // sigmoid(a) - b

// log(1 + u) accurate for small u (Goldberg's trick).
fn log1p(u: f32) -> f32 {
  let w = 1.0 + u;
  if (w == 1.0) { return u; }
  return log(w) * u / (w - 1.0);
}

fn f(x: f32, y: f32) -> f32 {
  switch OP {
    case ADD: { return x + y; }
    case SUB: { return x - y; }
    case MUL: { return x * y; }
    case DIV: { return x / y; }
    case SIGN_DIFF: { return sign(x - y); }
    case BCE_LOGITS: { return max(x, 0.0) - x * y + log1p(exp(-abs(x))); }
    case SIGMOID_MINUS: {
      let e = exp(-abs(x));
      let s = 1.0 / (1.0 + e);
      return select(e * s, s, x >= 0.0) - y;
    }
    default: { return x; }
  }
}

fn elements() -> u32 { return p.n; }

fn element(i: u32) {
  var ia = i;
  var ib = i;
  if (BCAST) {
    ia = 0u;
    ib = 0u;
    var rest = i;
    for (var d = 7i; d >= 0; d--) {
      let size = dim(p.shape, u32(d));
      let c = rest % size;
      rest = rest / size;
      ia += c * dim(p.a_strides, u32(d));
      ib += c * dim(p.b_strides, u32(d));
    }
  }
  var y = p.scalar;
  if (!B_SCALAR) { y = b[ib]; }
  out[i] = f(a[ia], y);
}
