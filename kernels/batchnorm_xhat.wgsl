// Shared WGSL, no dispatch of its own: the normalised input of the batch-norm kernels that read x,
// included (see core/kernel.ts) by batchnorm_partial.wgsl and batchnorm_apply.wgsl; it includes
// their Params.
// Bindings: 1 x [R, C] (read); 2 dy [R, C] (read); 3 stats [2, C] = (mean, rstd) (read).

//!include batchnorm_params.wgsl
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;

// x̂ = (x − mean) · rstd of element i = (r, c) of x.
fn xhat(i: u32, c: u32) -> f32 {
  return (x[i] - stats[c]) * stats[p.channels + c];
}
