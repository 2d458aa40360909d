// Fills a buffer with one value.
// Used by: core/ops/elementwise.ts (full, zeros, ones, the seed gradient of backward()).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params { n, value }; 1 y: array<f32> (write).
// Includes: flat.wgsl (the entry point: element i of n, as launchFlat dispatches).

//!include flat.wgsl
struct Params { n: u32, value: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

fn elements() -> u32 { return p.n; }
fn element(i: u32) { y[i] = p.value; }
