// conv2d weight gradient when the image has one channel (Cin = 1) and Cout is a multiple of 4:
// dw[ky, kx, 0, co] = Σ_m x[n, oy·sh − ph + ky, ox·sw − pw + kx] · dy[m, co] over the output pixels
// m = (n, oy, ox). The general kernels block rows by 4 input channels, which one channel leaves idle;
// here the lanes of a workgroup are the kh·kw taps, all walking the same pixels: per pixel a lane
// reads its one input value and GROUPS dy vectors (the same for every lane), then does GROUPS vec4
// multiply-adds (written out, so the accumulators stay in registers). Each chunk of pixels (workgroup z) writes its own partial sum, which
// conv2d_sum_partials.wgsl adds in chunk order. No atomics: bit-reproducible.
// Used by: core/ops/conv.ts — on CPU adapters, the weight gradient of conv2d from a one-channel image
// (the discriminator's first layer) and of convTranspose2d to one channel (x and dy swapped: the
// generator's last layer).
// Constants: WG (invocations per workgroup, ≥ kh·kw), GROUPS (vec4 channel groups per invocation:
// 4, 8 or 16; the statements for groups past it are compiled out).
// Bindings: 0 uniform Params (conv2d geometry + chunk); 1 x [N,H,W,1] (read); 2 dy [N,OH,OW,Cout/4]
// vec4 (read); 3 partial [chunks, kh·kw, Cout/4] vec4 (write; the result itself when chunks = 1).
// Layout: lane l is tap l (ky = l / kw, kx = l % kw); lanes past the last tap idle. Workgroup y holds
// channel groups GROUPS·y … GROUPS·y + GROUPS − 1 (clamped for loads, not written past the end); workgroup z
// walks pixels z·chunk … min((z + 1)·chunk, N·OH·OW) − 1 in order.
// Dispatch: (1, ceil(Cout / (4·GROUPS)), chunks).

struct Params {
  batch: u32, in_h: u32, in_w: u32, in_c: u32,
  out_h: u32, out_w: u32, out_c: u32, chunk: u32,
  kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> partial: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let taps = p.kernel_h * p.kernel_w;
  let tap = min(lid.x, taps - 1u);
  let ky = i32(tap / p.kernel_w);
  let kx = i32(tap % p.kernel_w);
  let c4 = p.out_c / 4u;
  let g0 = wid.y * GROUPS;
  // Channel groups (clamped for loads) and up to 16 accumulators, written out so they stay in registers.
  let gr0 = min(g0 + 0u, c4 - 1u);
  let gr1 = min(g0 + 1u, c4 - 1u);
  let gr2 = min(g0 + 2u, c4 - 1u);
  let gr3 = min(g0 + 3u, c4 - 1u);
  let gr4 = min(g0 + 4u, c4 - 1u);
  let gr5 = min(g0 + 5u, c4 - 1u);
  let gr6 = min(g0 + 6u, c4 - 1u);
  let gr7 = min(g0 + 7u, c4 - 1u);
  let gr8 = min(g0 + 8u, c4 - 1u);
  let gr9 = min(g0 + 9u, c4 - 1u);
  let gr10 = min(g0 + 10u, c4 - 1u);
  let gr11 = min(g0 + 11u, c4 - 1u);
  let gr12 = min(g0 + 12u, c4 - 1u);
  let gr13 = min(g0 + 13u, c4 - 1u);
  let gr14 = min(g0 + 14u, c4 - 1u);
  let gr15 = min(g0 + 15u, c4 - 1u);
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  var a8 = vec4<f32>(); var a9 = vec4<f32>(); var a10 = vec4<f32>(); var a11 = vec4<f32>();
  var a12 = vec4<f32>(); var a13 = vec4<f32>(); var a14 = vec4<f32>(); var a15 = vec4<f32>();

  let pixels = p.batch * p.out_h * p.out_w;
  let first = wid.z * p.chunk;
  let last = min(first + p.chunk, pixels);
  if (first >= last) { return; }
  // (n, oy, ox) of pixel `first`, then stepped along without divisions.
  var ox = first % p.out_w;
  var oy = (first / p.out_w) % p.out_h;
  var img = (first / (p.out_w * p.out_h)) * p.in_h;
  for (var m = first; m < last; m++) {
    let iy = i32(oy * p.stride_h) - i32(p.pad_h) + ky;
    let ix = i32(ox * p.stride_w) - i32(p.pad_w) + kx;
    let inside = iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
    let xv = select(0.0, x[select(0u, (img + u32(iy)) * p.in_w + u32(ix), inside)], inside);
    let row = m * c4;
    a0 += xv * dy[row + gr0];
    a1 += xv * dy[row + gr1];
    a2 += xv * dy[row + gr2];
    a3 += xv * dy[row + gr3];
    if (GROUPS > 4u) { a4 += xv * dy[row + gr4]; }
    if (GROUPS > 5u) { a5 += xv * dy[row + gr5]; }
    if (GROUPS > 6u) { a6 += xv * dy[row + gr6]; }
    if (GROUPS > 7u) { a7 += xv * dy[row + gr7]; }
    if (GROUPS > 8u) { a8 += xv * dy[row + gr8]; }
    if (GROUPS > 9u) { a9 += xv * dy[row + gr9]; }
    if (GROUPS > 10u) { a10 += xv * dy[row + gr10]; }
    if (GROUPS > 11u) { a11 += xv * dy[row + gr11]; }
    if (GROUPS > 12u) { a12 += xv * dy[row + gr12]; }
    if (GROUPS > 13u) { a13 += xv * dy[row + gr13]; }
    if (GROUPS > 14u) { a14 += xv * dy[row + gr14]; }
    if (GROUPS > 15u) { a15 += xv * dy[row + gr15]; }
    ox++;
    if (ox == p.out_w) {
      ox = 0u;
      oy++;
      if (oy == p.out_h) {
        oy = 0u;
        img += p.in_h;
      }
    }
  }
  if (lid.x >= taps) { return; }
  let base = (wid.z * taps + tap) * c4 + g0;
  partial[base] = a0;
  if (g0 + 1u < c4) { partial[base + 1u] = a1; }
  if (g0 + 2u < c4) { partial[base + 2u] = a2; }
  if (g0 + 3u < c4) { partial[base + 3u] = a3; }
  if (GROUPS > 4u && g0 + 4u < c4) { partial[base + 4u] = a4; }
  if (GROUPS > 5u && g0 + 5u < c4) { partial[base + 5u] = a5; }
  if (GROUPS > 6u && g0 + 6u < c4) { partial[base + 6u] = a6; }
  if (GROUPS > 7u && g0 + 7u < c4) { partial[base + 7u] = a7; }
  if (GROUPS > 8u && g0 + 8u < c4) { partial[base + 8u] = a8; }
  if (GROUPS > 9u && g0 + 9u < c4) { partial[base + 9u] = a9; }
  if (GROUPS > 10u && g0 + 10u < c4) { partial[base + 10u] = a10; }
  if (GROUPS > 11u && g0 + 11u < c4) { partial[base + 11u] = a11; }
  if (GROUPS > 12u && g0 + 12u < c4) { partial[base + 12u] = a12; }
  if (GROUPS > 13u && g0 + 13u < c4) { partial[base + 13u] = a13; }
  if (GROUPS > 14u && g0 + 14u < c4) { partial[base + 14u] = a14; }
  if (GROUPS > 15u && g0 + 15u < c4) { partial[base + 15u] = a15; }
}
