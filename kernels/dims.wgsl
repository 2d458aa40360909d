// Shared WGSL, no dispatch of its own: up to 8 dimensions (sizes or strides) in a uniform block, as
// two vec4<u32> (Params.vec4u in core/kernel.ts), row-major, right-aligned; included (see
// core/kernel.ts) by binary.wgsl and reduce.wgsl.

alias Dims = array<vec4<u32>, 2>;

// Dimension d (0 … 7) of v.
fn dim(v: Dims, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}
