// The batch-norm passes over the activations (batchnorm_rows.wgsl) with one scalar load or store per
// channel: for C not a multiple of 4. Entry points, constants, bindings and dispatch: see
// batchnorm_rows.wgsl. Used by: core/ops/batchnorm.ts.
// Includes: batchnorm_rows.wgsl.

alias V = f32;
const LANES: u32 = 1u;
//!include batchnorm_rows.wgsl
