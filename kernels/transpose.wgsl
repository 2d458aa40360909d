// 2-D transpose: out[c, r] = x[r, c] for x of shape [R, C], plus bias[r] where has_bias (a linear
// layer computed transposed adds its bias here, as the GEMM's output stage would have: one addition).
// Each invocation moves a 4 × 4 block: four vec4 loads and four vec4 stores where R and C are multiples
// of 4 (on a CPU adapter every load and store runs lane by lane, so fewer and wider ones cost less),
// sixteen single values otherwise.
// Used by: core/ops/shape.ts (transpose and its backward), core/ops/matmul.ts (linear layers with few
// rows, computed transposed).
// Constants: none; workgroup 8×8. Bindings: 0 uniform Params { R, C, has_bias }; 1 x (read); 2 bias [R]
// (read; ignored unless has_bias); 3 out (write). All three are read as vec4 arrays.
// Dispatch: (ceil(C / 32), ceil(R / 32)).

struct Params { R: u32, C: u32, has_bias: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

fn move_element(r: u32, c: u32) {
  if (r >= p.R || c >= p.C) { return; }
  let i = r * p.C + c;
  let o = c * p.R + r;
  let v = x[i / 4u][i % 4u];
  out[o / 4u][o % 4u] = select(v, v + bias[r / 4u][r % 4u], p.has_bias != 0u);
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = 4u * gid.x;
  let r = 4u * gid.y;
  if (p.R % 4u == 0u && p.C % 4u == 0u) {
    if (r >= p.R || c >= p.C) { return; }
    let c4 = p.C / 4u;
    let r4 = p.R / 4u;
    let m = transpose(mat4x4<f32>(x[r * c4 + gid.x], x[(r + 1u) * c4 + gid.x], x[(r + 2u) * c4 + gid.x],
                                  x[(r + 3u) * c4 + gid.x]));
    let b = select(vec4<f32>(), bias[gid.y], p.has_bias != 0u);
    out[c * r4 + gid.y] = select(m[0], m[0] + b, p.has_bias != 0u);
    out[(c + 1u) * r4 + gid.y] = select(m[1], m[1] + b, p.has_bias != 0u);
    out[(c + 2u) * r4 + gid.y] = select(m[2], m[2] + b, p.has_bias != 0u);
    out[(c + 3u) * r4 + gid.y] = select(m[3], m[3] + b, p.has_bias != 0u);
    return;
  }
  for (var i = 0u; i < 4u; i++) {
    move_element(r + i, c);
    move_element(r + i, c + 1u);
    move_element(r + i, c + 2u);
    move_element(r + i, c + 3u);
  }
}
