// Batch-norm backward per channel: sums the chunks of grad_partial (batchnorm_rows.wgsl) in chunk
// order into S0 = Σ dy and S1 = Σ dy·(x − mean), and writes dβ = S0, dγ = Σ dy·x̂ = rstd·S1, and the
// coefficients of the training-mode input gradient
//   dx = γ·rstd·(dy − S0/R − x̂·Σ(dy·x̂)/R) = a·dy + b·(x − mean) + c,
//   gcoef [4, C] = (mean, a = γ·rstd, b = −γ·rstd³·S1/R, c = −γ·rstd·S0/R),
// read by batchnorm_rows.wgsl (apply MODE 1). The batch statistics being functions of x gives the
// b and c terms.
// Used by: core/ops/batchnorm.ts (batchNorm2d backward).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params (batchnorm_params.wgsl); 1 partial [chunks, 2, C] (read); 2 coef [4, C]
// = (mean, γ·rstd, rstd, β) from batchnorm_finish.wgsl (read); 3 gcoef [4, C] (write); 4 dgamma [C]
// (write); 5 dbeta [C] (write).
// Dispatch: ceil(C / WG) workgroups, one invocation per channel.
// Includes: flat.wgsl (the entry point), batchnorm_params.wgsl (binding 0).

//!include flat.wgsl
//!include batchnorm_params.wgsl
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read_write> gcoef: array<f32>;
@group(0) @binding(4) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbeta: array<f32>;

fn elements() -> u32 { return p.channels; }

fn element(c: u32) {
  var sum_dy = 0.0;
  var sum_dy_xc = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    sum_dy += partial[(2u * k) * p.channels + c];
    sum_dy_xc += partial[(2u * k + 1u) * p.channels + c];
  }
  let mean = coef[c];
  let scale = coef[p.channels + c];
  let rstd = coef[2u * p.channels + c];
  let inv_rows = 1.0 / f32(p.rows);
  dbeta[c] = sum_dy;
  dgamma[c] = rstd * sum_dy_xc;
  gcoef[c] = mean;
  gcoef[p.channels + c] = scale;
  gcoef[2u * p.channels + c] = -scale * (rstd * rstd) * (sum_dy_xc * inv_rows);
  gcoef[3u * p.channels + c] = -scale * (sum_dy * inv_rows);
}
