// Batch-norm per-channel sums over one chunk of rows, for a fixed-order reduction across chunks.
// MODE 0 (forward statistics): partial[k, 0, c] = mean of x[r, c] over the chunk's rows r, and
// partial[k, 1, c] = Σ (x[r, c] − that mean)² (two passes over the chunk, merged across chunks by
// batchnorm_finish.wgsl with Chan's formula). MODE 1 (backward): partial[k, 0, c] = Σ dy[r, c] and
// partial[k, 1, c] = Σ dy[r, c] · x̂[r, c] with x̂ = (x − mean) · rstd.
// Used by: core/ops/batchnorm.ts (batchNorm2d forward in training mode; backward sums for dγ, dβ and
// the training-mode input gradient).
// Constants: MODE (0 or 1), WG (workgroup size).
// Bindings: 0 uniform Params; 1 x [R, C] (read); 2 dy [R, C] (read; MODE 1 only); 3 stats [2, C]
// = (mean, rstd) (read; MODE 1 only); 4 partial [chunks, 2, C] (write).
// Layout: rows r = flattened (n, h, w) of NHWC activations; channels fastest. Chunk k holds rows
// k·chunk_rows … min((k+1)·chunk_rows, R) − 1. Invocation index = k·C + c.
// Dispatch: ceil(chunks·C / WG) workgroups over x, spilling into y.
// Includes: flat.wgsl (the entry point), batchnorm_xhat.wgsl (bindings 0 … 3, x̂).

//!include flat.wgsl
//!include batchnorm_xhat.wgsl
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;

fn elements() -> u32 { return p.chunks * p.channels; }

fn element(e: u32) {
  let c = e % p.channels;
  let k = e / p.channels;
  let r0 = k * p.chunk_rows;
  let r1 = min(r0 + p.chunk_rows, p.rows);
  var s0 = 0.0;
  var s1 = 0.0;
  if (MODE == 0u) {
    for (var r = r0; r < r1; r++) { s0 += x[r * p.channels + c]; }
    s0 = s0 / f32(r1 - r0);
    for (var r = r0; r < r1; r++) {
      let d = x[r * p.channels + c] - s0;
      s1 += d * d;
    }
  } else {
    for (var r = r0; r < r1; r++) {
      let g = dy[r * p.channels + c];
      s0 += g;
      s1 += g * xhat(r * p.channels + c, c);
    }
  }
  partial[(2u * k) * p.channels + c] = s0;
  partial[(2u * k + 1u) * p.channels + c] = s1;
}
