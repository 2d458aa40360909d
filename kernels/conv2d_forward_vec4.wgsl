// conv2d forward, vectorised: conv2d_forward.wgsl with x read as vec4 along Cin (the GEMM's K) and
// w as vec4 along Cout, for Cin and Cout multiples of 4. Same implicit GEMM, same tiles.
// Used by: core/ops/conv.ts — conv2d forward and convTranspose2d's input gradient, when both channel
// counts are multiples of 4 ("gpu" variant; CPU adapters use conv2d_forward_tile32.wgsl).
// Constants: TM (output pixels per invocation), TN (output channels per invocation, multiple of 4),
// WG (invocations per workgroup, along M). Registers only, no workgroup memory, no barriers.
// Bindings: 0 uniform Params; 1 x [N,H,W,Cin/4] vec4 (read); 2 w [kh,kw,Cin,Cout/4] vec4 (read);
// 3 bias [Cout] (read; ignored unless has_bias); 4 y [N,OH,OW,Cout] (write). Row-major float32.
// Layout: as conv2d_forward.wgsl; the channel block is clamped to the last whole vec4 (outC is a
// multiple of 4). Sums run over taps in order, then over Cin in order: deterministic.
// Dispatch: (ceil(M / (TM·WG)), ceil(Cout / TN), 1).

struct Params {
  batch: u32, in_h: u32, in_w: u32, in_c: u32,
  out_h: u32, out_w: u32, out_c: u32, has_bias: u32,
  kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const TN4: u32 = TN / 4u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let pixels = p.batch * p.out_h * p.out_w;
  let m0 = wid.x * (TM * WG) + lid.x;
  if (m0 >= pixels) { return; }
  let n0 = wid.y * TN;
  let cin4 = p.in_c / 4u;
  let cout4 = p.out_c / 4u;

  var img_row: array<u32, TM>;
  var iy0: array<i32, TM>;
  var ix0: array<i32, TM>;
  for (var i = 0u; i < TM; i++) {
    let m = min(m0 + i * WG, pixels - 1u);
    let ox = m % p.out_w;
    let t = m / p.out_w;
    let oy = t % p.out_h;
    img_row[i] = (t / p.out_h) * p.in_h;
    iy0[i] = i32(oy * p.stride_h) - i32(p.pad_h);
    ix0[i] = i32(ox * p.stride_w) - i32(p.pad_w);
  }

  var col4: array<u32, TN4>; // vec4 column blocks, clamped to the last one
  for (var j = 0u; j < TN4; j++) { col4[j] = min(n0 / 4u + j, cout4 - 1u); }

  var acc: array<vec4<f32>, TM * TN4>;
  var off: array<u32, TM>;
  var inside: array<bool, TM>;
  for (var ky = 0u; ky < p.kernel_h; ky++) {
    for (var kx = 0u; kx < p.kernel_w; kx++) {
      for (var i = 0u; i < TM; i++) {
        let iy = iy0[i] + i32(ky);
        let ix = ix0[i] + i32(kx);
        let ok = iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
        off[i] = select(0u, ((img_row[i] + u32(iy)) * p.in_w + u32(ix)) * cin4, ok);
        inside[i] = ok;
      }
      let w_tap = (ky * p.kernel_w + kx) * p.in_c;
      for (var c4 = 0u; c4 < cin4; c4++) {
        var b: array<vec4<f32>, TN>;
        for (var k = 0u; k < 4u; k++) {
          let w_row = (w_tap + 4u * c4 + k) * cout4;
          for (var j = 0u; j < TN4; j++) { b[k * TN4 + j] = w[w_row + col4[j]]; }
        }
        for (var i = 0u; i < TM; i++) {
          let a = select(vec4<f32>(0.0), x[off[i] + c4], inside[i]);
          for (var j = 0u; j < TN4; j++) {
            var s = acc[i * TN4 + j];
            s = fma(vec4<f32>(a.x), b[j], s);
            s = fma(vec4<f32>(a.y), b[TN4 + j], s);
            s = fma(vec4<f32>(a.z), b[2u * TN4 + j], s);
            s = fma(vec4<f32>(a.w), b[3u * TN4 + j], s);
            acc[i * TN4 + j] = s;
          }
        }
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let m = m0 + i * WG;
    if (m >= pixels) { break; }
    for (var j = 0u; j < TN; j++) {
      let co = n0 + j;
      if (co >= p.out_c) { break; }
      var v = acc[i * TN4 + j / 4u][j % 4u];
      if (p.has_bias != 0u) { v += bias[co]; }
      y[m * p.out_c + co] = v;
    }
  }
}
