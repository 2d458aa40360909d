// conv2d forward as an implicit GEMM: y[m, co] = Σ_k A[m, k] · w[k, co] (+ bias[co]) with
// M = N·OH·OW output pixels, N = Cout, K = kh·kw·Cin; the im2col matrix A is never stored, each
// invocation computes the input offsets of its output pixels once per tap and reads x directly.
// Used by: core/ops/conv.ts — conv2d forward, and convTranspose2d's input gradient (which is a conv2d).
// Constants: TM (output pixels per invocation), TN (output channels per invocation, multiple of 4),
// WG (invocations per workgroup, along M). Registers only, no workgroup memory, no barriers.
// Bindings: 0 uniform Params; 1 x [N,H,W,Cin] (read); 2 w [kh,kw,Cin,Cout] (read); 3 bias [Cout]
// (read; ignored unless has_bias); 4 y [N,OH,OW,Cout] (write). All row-major float32.
// Layout of a workgroup's tile: TM·WG output pixels × TN channels; pixel i of invocation l is
// m0 + i·WG + l (neighbouring invocations read neighbouring pixels). Every invocation of a workgroup
// shares the channel block, so weight reads are uniform across it. Edge pixels and channels are
// clamped to the last valid one (loads stay in bounds, no masks in the inner loop) and not written.
// Sums run over taps in order, then over Cin in order: deterministic.
// Dispatch: (ceil(M / (TM·WG)), ceil(Cout / TN), 1).

struct Params {
  batch: u32, in_h: u32, in_w: u32, in_c: u32,
  out_h: u32, out_w: u32, out_c: u32, has_bias: u32,
  kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const TN4: u32 = TN / 4u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let pixels = p.batch * p.out_h * p.out_w;
  let m0 = wid.x * (TM * WG) + lid.x;
  if (m0 >= pixels) { return; }
  let n0 = wid.y * TN;

  // Per output pixel: the image's first input row and the top-left input position of its window.
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
  var col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { col[j] = min(n0 + j, p.out_c - 1u); }

  var acc: array<vec4<f32>, TM * TN4>;
  var off: array<u32, TM>;
  var inside: array<bool, TM>;
  for (var ky = 0u; ky < p.kernel_h; ky++) {
    for (var kx = 0u; kx < p.kernel_w; kx++) {
      for (var i = 0u; i < TM; i++) {
        let iy = iy0[i] + i32(ky);
        let ix = ix0[i] + i32(kx);
        let ok = iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
        off[i] = select(0u, ((img_row[i] + u32(iy)) * p.in_w + u32(ix)) * p.in_c, ok);
        inside[i] = ok;
      }
      let w_tap = (ky * p.kernel_w + kx) * p.in_c;
      for (var ci = 0u; ci < p.in_c; ci++) {
        let w_row = (w_tap + ci) * p.out_c;
        var b: array<vec4<f32>, TN4>;
        for (var j = 0u; j < TN4; j++) {
          b[j] = vec4<f32>(w[w_row + col[4u * j]], w[w_row + col[4u * j + 1u]],
                           w[w_row + col[4u * j + 2u]], w[w_row + col[4u * j + 3u]]);
        }
        for (var i = 0u; i < TM; i++) {
          let a = select(0.0, x[off[i] + ci], inside[i]); // padding reads as zero
          for (var j = 0u; j < TN4; j++) { acc[i * TN4 + j] = fma(vec4<f32>(a), b[j], acc[i * TN4 + j]); }
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
