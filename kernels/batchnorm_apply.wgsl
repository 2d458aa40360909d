// Batch-norm elementwise passes over [R, C] (channels fastest), with x̂ = (x − mean) · rstd:
// MODE 0 (forward): y = γ · x̂ + β.
// MODE 1 (input gradient, training): dx = γ · rstd · (dy − Σdy / R − x̂ · Σ(dy·x̂) / R), the batch
// statistics being functions of x.
// MODE 2 (input gradient, eval): dx = γ · rstd · dy, the running statistics being constants.
// Used by: core/ops/batchnorm.ts (batchNorm2d forward and input gradient).
// Constants: MODE (0, 1 or 2), WG (workgroup size).
// Bindings: 0 uniform Params; 1 x [R, C] (read); 2 dy [R, C] (read; MODE 1, 2); 3 stats [2, C] =
// (mean, rstd) (read); 4 gamma [C] (read); 5 beta [C] (read; MODE 0); 6 sums [2, C] = (Σdy, Σdy·x̂)
// (read; MODE 1); 7 out [R, C] (write).
// Dispatch: ceil(R·C / WG) workgroups over x, spilling into y.
// Includes: flat.wgsl (the entry point), batchnorm_xhat.wgsl (bindings 0 … 3, x̂).

//!include flat.wgsl
//!include batchnorm_xhat.wgsl
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read> sums: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

fn elements() -> u32 { return p.rows * p.channels; }

fn element(i: u32) {
  let c = i % p.channels;
  let rstd = stats[p.channels + c];
  if (MODE == 0u) {
    out[i] = gamma[c] * xhat(i, c) + beta[c];
  } else if (MODE == 1u) {
    let inv_rows = 1.0 / f32(p.rows);
    out[i] = gamma[c] * rstd * (dy[i] - sums[c] * inv_rows - xhat(i, c) * (sums[p.channels + c] * inv_rows));
  } else {
    out[i] = gamma[c] * rstd * dy[i];
  }
}
