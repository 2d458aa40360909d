// Shared WGSL: the entry point of the flat kernels, one invocation per element, included (see
// core/kernel.ts) by fill, unary, unary_grad, binary, reduce, random, adam, sgd, the batchnorm
// kernels and conv2d_sum_partials. The includer defines
//   fn elements() -> u32   how many elements there are;
//   fn element(i: u32)     the work of element i.
// Constants: WG (workgroup size).
// Dispatch: ceil(elements / WG) workgroups over x, spilling into y (grid1d in core/kernel.ts):
// invocation (x, y) is element i = x + y · num_workgroups.x · WG, and one past the last does nothing.

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * WG;
  if (i < elements()) { element(i); }
}
