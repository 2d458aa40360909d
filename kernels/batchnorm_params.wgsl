// Shared WGSL, no dispatch of its own: the uniform Params of the batch-norm kernels (binding 0),
// included (see core/kernel.ts) by batchnorm_partial.wgsl, batchnorm_finish.wgsl and
// batchnorm_apply.wgsl. core/ops/batchnorm.ts fills rows (R) and channels (C) for all three, the
// chunking of the rows (chunk_rows, chunks) for partial and finish, and the rest for finish only.

struct Params {
  rows: u32, channels: u32, chunk_rows: u32, chunks: u32,
  mode: u32, update_running: u32, momentum: f32, eps: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
