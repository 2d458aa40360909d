// 2-D transpose: out[c, r] = x[r, c] for x of shape [R, C].
// Used by: core/ops/shape.ts (transpose and its backward).
// Constants: none; workgroup 8×8. Bindings: 0 uniform Params { R, C }; 1 x (read); 2 out (write).
// Dispatch: (ceil(C / 8), ceil(R / 8)).

struct Params { R: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let r = gid.y;
  if (r >= p.R || c >= p.C) { return; }
  out[c * p.R + r] = x[r * p.C + c];
}
