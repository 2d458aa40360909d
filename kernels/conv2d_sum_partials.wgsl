// Finishes a split-K reduction: out[e] = Σ_{s < parts} partial[s·count + e], summed in s order
// (deterministic, no atomics).
// Used by: core/ops/conv.ts — the weight gradient of conv2d and convTranspose2d after
// conv2d_grad_weight.wgsl, conv2d_grad_weight_tile32*.wgsl, conv2d_grad_weight_tile20*.wgsl or
// conv2d_grad_weight_c1.wgsl (same partial layout).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params { count, parts }; 1 partial [parts, count] (read); 2 out [count] (write).
// Dispatch: ceil(count / WG) workgroups over x, spilling into y (index = x + y · num_workgroups.x · WG).
// Includes: flat.wgsl (the entry point).

//!include flat.wgsl
struct Params { count: u32, parts: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn elements() -> u32 { return p.count; }

fn element(e: u32) {
  var s = 0.0;
  for (var k = 0u; k < p.parts; k++) { s += partial[k * p.count + e]; }
  out[e] = s;
}
