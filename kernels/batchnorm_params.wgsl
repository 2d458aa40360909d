// Shared WGSL, no dispatch of its own: the uniform Params of the batch-norm kernels (binding 0),
// included (see core/kernel.ts) by batchnorm_rows.wgsl (and so batchnorm_rows_vec4.wgsl and
// batchnorm_rows_f32.wgsl), batchnorm_finish.wgsl and batchnorm_grad_finish.wgsl. core/ops/batchnorm.ts
// fills the first six for every dispatch: rows R (the reduced axes flattened), channels C, groups =
// C / LANES (the channel groups of one load), the chunking of the reductions over rows (chunk_rows,
// chunks: chunk k is rows k·chunk_rows … min((k+1)·chunk_rows, R) − 1) and block_rows (rows per
// invocation of the elementwise passes); mode (0 training, 1 eval), update_running, momentum and eps
// for batchnorm_finish.wgsl only; act_alpha (LeakyReLU's slope) for the passes of batchnorm_rows.wgsl,
// where batch norm and the ReLU or LeakyReLU after it are one op (their constant ACT is its code).

struct Params {
  rows: u32, channels: u32, groups: u32, chunk_rows: u32,
  chunks: u32, block_rows: u32, mode: u32, update_running: u32,
  momentum: f32, eps: f32, _pad0: u32, act_alpha: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
