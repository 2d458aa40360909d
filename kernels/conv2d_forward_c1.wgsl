// conv2d forward when the image has one channel (Cin = 1) and Cout is a multiple of 4:
// y[n, oy, ox, co] = Σ_{ky,kx} x[n, oy·sh − pad + ky, ox·sw − pad + kx] · w[ky, kx, 0, co] (+ bias[co]).
// The general kernels tile over Cin·kh·kw with scalar channel reads; with one channel every tap is a
// single image value, so here each invocation computes 4 output pixels × 16 channels: per tap it
// loads the 4 pixels' input values (one vec4, a lane per pixel) and 4 weight vectors, and does 16
// vec4 multiply-adds (written out, so the accumulators stay in registers).
// Used by: core/ops/conv.ts — on CPU adapters, conv2d forward of a one-channel image (the
// discriminator's first layer) and convTranspose2d's input gradient from one channel (the generator's
// last layer backward).
// Constants: WG (invocations per workgroup). Each invocation holds TC = 4 channel groups.
// Bindings: 0 uniform Params (conv2d geometry); 1 x [N,H,W,1] (read); 2 w [kh,kw,1,Cout/4] vec4
// (read); 3 bias [Cout/4] vec4 (read; ignored unless has_bias); 4 y [N,OH,OW,Cout/4] vec4 (write).
// Includes: conv2d_geometry.wgsl (Params, each output pixel's window).
// Layout: invocation l of workgroup (x, y) handles output pixels m0 … m0 + 3, m0 = 4·(x·WG + l), in
// (n, oy, ox) order, and channel groups y·TC … y·TC + TC − 1; pixels and groups past the end are
// clamped for loads and not written. Each output sums its taps in (ky, kx) order, then adds the bias:
// the order depends on neither the batch nor the neighbouring pixels, so results are batch-independent.
// Dispatch: (ceil(N·OH·OW / (4·WG)), ceil(Cout / 16), 1).

//!include conv2d_geometry.wgsl
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

// Writes output pixel m's channel groups g0 … g0 + 3 (those below c4): its sums s0 … s3 plus the
// bias groups b.
fn write_pixel(m: u32, g0: u32, c4: u32, s0: vec4<f32>, s1: vec4<f32>, s2: vec4<f32>, s3: vec4<f32>,
               b: array<vec4<f32>, 4>) {
  let o = m * c4 + g0;
  y[o] = s0 + b[0];
  if (g0 + 1u < c4) { y[o + 1u] = s1 + b[1]; }
  if (g0 + 2u < c4) { y[o + 2u] = s2 + b[2]; }
  if (g0 + 3u < c4) { y[o + 3u] = s3 + b[3]; }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let pixels = out_pixels();
  let m0 = (wid.x * WG + lid.x) * 4u;
  if (m0 >= pixels) { return; }
  let c4 = p.out_c / 4u;
  let g0 = wid.y * 4u;

  // Per pixel (a lane each): its image's first input row and the top-left corner of its window.
  var img: vec4<u32>;
  var iy0: vec4<i32>;
  var ix0: vec4<i32>;
  for (var i = 0u; i < 4u; i++) {
    let win = window(min(m0 + i, pixels - 1u));
    img[i] = win.row;
    iy0[i] = win.iy;
    ix0[i] = win.ix;
  }
  // Channel groups (clamped for loads) and the 16 accumulators, written out so they stay in registers:
  // aP_C is pixel P, channel group C.
  let gr0 = min(g0 + 0u, c4 - 1u);
  let gr1 = min(g0 + 1u, c4 - 1u);
  let gr2 = min(g0 + 2u, c4 - 1u);
  let gr3 = min(g0 + 3u, c4 - 1u);
  var a0_0 = vec4<f32>(); var a0_1 = vec4<f32>(); var a0_2 = vec4<f32>(); var a0_3 = vec4<f32>();
  var a1_0 = vec4<f32>(); var a1_1 = vec4<f32>(); var a1_2 = vec4<f32>(); var a1_3 = vec4<f32>();
  var a2_0 = vec4<f32>(); var a2_1 = vec4<f32>(); var a2_2 = vec4<f32>(); var a2_3 = vec4<f32>();
  var a3_0 = vec4<f32>(); var a3_1 = vec4<f32>(); var a3_2 = vec4<f32>(); var a3_3 = vec4<f32>();
  let h = vec4<i32>(i32(p.in_h));
  let wd = vec4<i32>(i32(p.in_w));
  for (var ky = 0u; ky < p.kernel_h; ky++) {
    let iy = iy0 + vec4<i32>(i32(ky));
    let row_ok = (iy >= vec4<i32>(0)) & (iy < h);
    for (var kx = 0u; kx < p.kernel_w; kx++) {
      let ix = ix0 + vec4<i32>(i32(kx));
      let inside = row_ok & (ix >= vec4<i32>(0)) & (ix < wd);
      let at = select(vec4<u32>(0u), (img + vec4<u32>(iy)) * p.in_w + vec4<u32>(ix), inside);
      let xv = select(vec4<f32>(0.0), vec4<f32>(x[at.x], x[at.y], x[at.z], x[at.w]), inside);
      let tap = (ky * p.kernel_w + kx) * c4;
      let w0 = w[tap + gr0];
      let w1 = w[tap + gr1];
      let w2 = w[tap + gr2];
      let w3 = w[tap + gr3];
      a0_0 += xv.x * w0; a0_1 += xv.x * w1; a0_2 += xv.x * w2; a0_3 += xv.x * w3;
      a1_0 += xv.y * w0; a1_1 += xv.y * w1; a1_2 += xv.y * w2; a1_3 += xv.y * w3;
      a2_0 += xv.z * w0; a2_1 += xv.z * w1; a2_2 += xv.z * w2; a2_3 += xv.z * w3;
      a3_0 += xv.w * w0; a3_1 += xv.w * w1; a3_2 += xv.w * w2; a3_3 += xv.w * w3;
    }
  }
  var b: array<vec4<f32>, 4>;
  if (has_bias()) { b = array<vec4<f32>, 4>(bias[gr0], bias[gr1], bias[gr2], bias[gr3]); }
  if (m0 + 0u < pixels) { write_pixel(m0 + 0u, g0, c4, a0_0, a0_1, a0_2, a0_3, b); }
  if (m0 + 1u < pixels) { write_pixel(m0 + 1u, g0, c4, a1_0, a1_1, a1_2, a1_3, b); }
  if (m0 + 2u < pixels) { write_pixel(m0 + 2u, g0, c4, a2_0, a2_1, a2_2, a2_3, b); }
  if (m0 + 3u < pixels) { write_pixel(m0 + 3u, g0, c4, a3_0, a3_1, a3_2, a3_3, b); }
}
