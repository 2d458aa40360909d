// Fills a buffer with one value.
// Used by: core/ops/elementwise.ts (full, zeros, ones, the seed gradient of backward()).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params { n, value }; 1 y: array<f32> (write).

struct Params { n: u32, value: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * WG;
  if (i >= p.n) { return; }
  y[i] = p.value;
}
