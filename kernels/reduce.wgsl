// Sum over a set of axes, in a fixed order (deterministic): out[k, c] = scale * Σ_{r in chunk c} pre(x, y).
// Used by: core/ops/reduce.ts (sum, mean, sumTo), core/ops/loss.ts (l1Sum: pre = |x - y|).
// Constants: PRE (0: x, 1: |x - y|), WG (workgroup size).
// Bindings: 0 uniform Params; 1 x (read); 2 y (read; unused unless PRE = 1); 3 out (write).
// Layout: the input is addressed through strides. The kept dimensions (row-major, up to 8) enumerate
// the outputs k; the reduced dimensions (up to 8) enumerate r = 0..red_count-1, split into `chunks`
// consecutive chunks of `chunk` elements; out has out_count * chunks values, chunk index fastest
// (invocation o computes output k = o mod out_count of chunk c = o div out_count).
// A second pass over the chunk axis (PRE = 0) finishes a split reduction.
// Includes: flat.wgsl (the entry point: element o of out_count · chunks), dims.wgsl (shapes and
// strides).

//!include flat.wgsl
//!include dims.wgsl
struct Params {
  out_count: u32, red_count: u32, chunk: u32, chunks: u32,
  scale: f32, _p0: u32, _p1: u32, _p2: u32,
  kept_shape: Dims, kept_strides: Dims, red_shape: Dims, red_strides: Dims,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn elements() -> u32 { return p.out_count * p.chunks; }

fn element(o: u32) {
  // Neighbouring invocations take neighbouring outputs k of one chunk c: where the reduced axes lead
  // (a bias gradient: a sum over N, H, W of [N,H,W,C]), they read neighbouring addresses together.
  let k = o % p.out_count;
  let c = o / p.out_count;

  var base = 0u;
  var rest = k;
  for (var d = 7i; d >= 0; d--) {
    let size = dim(p.kept_shape, u32(d));
    base += (rest % size) * dim(p.kept_strides, u32(d));
    rest = rest / size;
  }

  // Start of this chunk in the reduced index space, decoded into coordinates once; then an odometer.
  let r0 = c * p.chunk;
  let r1 = min(r0 + p.chunk, p.red_count);
  var coord: array<u32, 8>;
  var off = 0u;
  rest = r0;
  for (var d = 7i; d >= 0; d--) {
    let size = dim(p.red_shape, u32(d));
    coord[d] = rest % size;
    rest = rest / size;
    off += coord[d] * dim(p.red_strides, u32(d));
  }

  var acc = 0.0;
  for (var r = r0; r < r1; r++) {
    let idx = base + off;
    if (PRE == 1u) {
      acc += abs(x[idx] - y[idx]);
    } else {
      acc += x[idx];
    }
    // Advance the odometer over the reduced dimensions (last fastest).
    var d = 7i;
    loop {
      if (d < 0) { break; }
      let ud = u32(d);
      coord[d] += 1u;
      off += dim(p.red_strides, ud);
      if (coord[d] < dim(p.red_shape, ud)) { break; }
      off -= coord[d] * dim(p.red_strides, ud);
      coord[d] = 0u;
      d--;
    }
  }
  out[k * p.chunks + c] = acc * p.scale;
}
