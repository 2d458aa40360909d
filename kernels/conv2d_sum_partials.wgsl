// Finishes a split-K reduction: out[e] = Σ_{s < parts} partial[s·count + e], summed in s order
// (deterministic, no atomics).
// Used by: core/ops/conv.ts — the weight gradient of conv2d and convTranspose2d after
// conv2d_grad_weight.wgsl, conv2d_grad_weight_tile32.wgsl or conv2d_grad_weight_c1.wgsl (same
// partial layout).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params { count, parts }; 1 partial [parts, count] (read); 2 out [count] (write).
// Dispatch: ceil(count / WG) workgroups over x, spilling into y (index = x + y · num_workgroups.x · WG).

struct Params { count: u32, parts: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = gid.x + gid.y * nw.x * WG;
  if (e >= p.count) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.parts; k++) { s += partial[k * p.count + e]; }
  out[e] = s;
}
