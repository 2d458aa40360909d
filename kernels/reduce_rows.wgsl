// Sum over the leading axes of a row-major tensor seen as [rows, cols], in a fixed order
// (deterministic): out[k, c] = scale * Σ_{r in chunk c} pre(x, y)[r, k], rows in order within a chunk.
// The same sums, in the same order and layout, as reduce.wgsl on these axes, without its odometer over
// strided dimensions: the reductions of a step that are bias gradients (a sum over N, H, W of
// [N,H,W,C]) walk rows of C values, neighbouring invocations reading neighbouring columns.
// Used by: core/ops/reduce.ts (reduceKernel, when the reduced axes lead).
// Constants: PRE (0: x, 1: |x - y|), WG (workgroup size).
// Bindings: 0 uniform Params; 1 x (read); 2 y (read; unused unless PRE = 1); 3 out (write;
// cols * chunks values, chunk index fastest).
// Includes: flat.wgsl (the entry point: element o of cols · chunks, o = c · cols + k).

//!include flat.wgsl
struct Params { rows: u32, cols: u32, chunk: u32, chunks: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn elements() -> u32 { return p.cols * p.chunks; }

fn element(o: u32) {
  let k = o % p.cols;
  let c = o / p.cols;
  let r1 = min((c + 1u) * p.chunk, p.rows);
  var acc = 0.0;
  for (var r = c * p.chunk; r < r1; r++) {
    let idx = r * p.cols + k;
    if (PRE == 1u) {
      acc += abs(x[idx] - y[idx]);
    } else {
      acc += x[idx];
    }
  }
  out[k * p.chunks + c] = acc * p.scale;
}
