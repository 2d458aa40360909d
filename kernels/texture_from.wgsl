// Copies a buffer of vec4s into an rgba32float texture, row by row: texel (x, y) = src[y·width + x].
// Kernels that read an operand many times per invocation read it as a read-only storage texture, whose
// loads cost less on a CPU adapter than storage-buffer loads (core/ops/conv.ts, the *_tile32tex rows).
// Used by: core/kernel.ts — Runtime.textureFrom.
// Constants: WG (invocations per workgroup, along x).
// Bindings: 0 uniform Params { width, height }; 1 src: array<vec4<f32>> (read, height·width vec4s);
// 2 dst: texture_storage_2d<rgba32float, write> (at least width × height).
// Dispatch: (ceil(width / WG), height, 1).

struct Params { width: u32, height: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var dst: texture_storage_2d<rgba32float, write>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= p.width || gid.y >= p.height) { return; }
  textureStore(dst, vec2<u32>(gid.x, gid.y), src[gid.y * p.width + gid.x]);
}
