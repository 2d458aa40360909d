// The batch-norm passes over the activations (batchnorm_rows.wgsl) with one vec4 load or store per
// 4 channels: for C a multiple of 4. Entry points, constants, bindings and dispatch: see
// batchnorm_rows.wgsl. Used by: core/ops/batchnorm.ts.
// Includes: batchnorm_rows.wgsl.

alias V = vec4<f32>;
const LANES: u32 = 4u;
//!include batchnorm_rows.wgsl
