// Batch-norm statistics per channel, as the coefficients of the output pass: coef [4, C] = (mean,
// γ·rstd, rstd, β) with rstd = 1/√(var + eps), read by batchnorm_rows.wgsl (apply MODE 0; grad_partial
// reads the mean; apply MODE 2 reads γ·rstd) and by batchnorm_grad_finish.wgsl.
// Training (mode 0): merges the chunks of stats_partial (batchnorm_rows.wgsl) in chunk order with
// Chan's formula into the batch mean and the biased batch variance; when update_running is set,
// updates the running statistics in place as PyTorch does: running_mean ← (1 − momentum)·running_mean
// + momentum·mean, running_var ← (1 − momentum)·running_var + momentum·var·R/(R − 1) (unbiased), and
// counts the batch in batches_tracked (PyTorch's num_batches_tracked).
// Eval (mode 1): mean and variance are the running statistics; nothing is written to them.
// Used by: core/ops/batchnorm.ts (batchNorm2d forward).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params (batchnorm_params.wgsl); 1 partial [chunks, 2, C] (read; training only);
// 2 gamma [C] (read); 3 beta [C] (read); 4 coef [4, C] (write); 5 running_mean [C] (read_write);
// 6 running_var [C] (read_write); 7 batches_tracked [1] (read_write).
// Dispatch: ceil(C / WG) workgroups, one invocation per channel.
// Includes: flat.wgsl (the entry point), batchnorm_params.wgsl (binding 0).

//!include flat.wgsl
//!include batchnorm_params.wgsl
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> coef: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(7) var<storage, read_write> batches_tracked: array<f32>;

fn elements() -> u32 { return p.channels; }

fn element(c: u32) {
  var mean: f32;
  var variance: f32;
  if (p.mode == 0u) {
    var count = 0.0;
    var m2 = 0.0;
    mean = 0.0;
    for (var k = 0u; k < p.chunks; k++) {
      let nb = f32(min(p.chunk_rows, p.rows - k * p.chunk_rows));
      let mean_b = partial[(2u * k) * p.channels + c];
      let m2_b = partial[(2u * k + 1u) * p.channels + c];
      let n = count + nb;
      let delta = mean_b - mean;
      mean += delta * (nb / n);
      m2 += m2_b + delta * delta * (count * nb / n);
      count = n;
    }
    variance = m2 / count;
    if (p.update_running != 0u) {
      let unbiased = m2 / (count - 1.0);
      running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
      running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * unbiased;
      if (c == 0u) { batches_tracked[0] += 1.0; }
    }
  } else {
    mean = running_mean[c];
    variance = running_var[c];
  }
  let rstd = 1.0 / sqrt(variance + p.eps);
  coef[c] = mean;
  coef[p.channels + c] = gamma[c] * rstd;
  coef[2u * p.channels + c] = rstd;
  coef[3u * p.channels + c] = beta[c];
}
