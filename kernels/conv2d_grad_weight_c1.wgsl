// conv2d weight gradient when the image has one channel (Cin = 1) and Cout is a multiple of 4:
// dw[ky, kx, 0, co] = Σ_m x[n, oy·sh − ph + ky, ox·sw − pw + kx] · dy[m, co] over the output pixels
// m = (n, oy, ox). The general kernels block rows by 4 input channels, which one channel leaves idle;
// here the lanes of a workgroup are the kh·kw taps, all walking the same pixels: per pixel a lane
// reads its one input value and GROUPS dy vectors (the same for every lane), then does GROUPS vec4
// multiply-adds, four channel groups at a time (Acc4: named accumulators, no array indexing, so they
// stay in registers). Each chunk of pixels (workgroup z) writes its own partial sum, which
// conv2d_sum_partials.wgsl adds in chunk order. No atomics: bit-reproducible.
// Used by: core/ops/conv.ts — on CPU adapters, the weight gradient of conv2d from a one-channel image
// (the discriminator's first layer) and of convTranspose2d to one channel (x and dy swapped: the
// generator's last layer).
// Constants: WG (invocations per workgroup, ≥ kh·kw), GROUPS (vec4 channel groups per invocation:
// 4, 8 or 16; the Acc4 blocks past it are compiled out).
// Bindings: 0 uniform Params (conv2d geometry + chunk); 1 x [N,H,W,1] (read); 2 dy [N,OH,OW,Cout/4]
// vec4 (read); 3 partial [chunks, kh·kw, Cout/4] vec4 (write; the result itself when chunks = 1).
// Includes: conv2d_geometry.wgsl (Params, each output pixel's window and taps).
// Layout: lane l is tap l (ky = l / kw, kx = l % kw); lanes past the last tap idle. Workgroup y holds
// channel groups GROUPS·y … GROUPS·y + GROUPS − 1 (clamped for loads, not written past the end);
// workgroup z walks pixels z·chunk … min((z + 1)·chunk, N·OH·OW) − 1 in order.
// Dispatch: (1, ceil(Cout / (4·GROUPS)), chunks).

//!include conv2d_geometry.wgsl
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> partial: array<vec4<f32>>;

// Four channel groups' accumulators.
struct Acc4 { a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32> }

// Channel groups g … g + 3, clamped to the last one (c4 − 1) for loads.
fn groups4(g: u32, c4: u32) -> vec4<u32> {
  return min(vec4<u32>(g) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(c4 - 1u));
}

// acc + xv · dy[row + gr], each of the four groups on its own.
fn add4(acc: Acc4, xv: f32, row: u32, gr: vec4<u32>) -> Acc4 {
  return Acc4(acc.a0 + xv * dy[row + gr.x], acc.a1 + xv * dy[row + gr.y], acc.a2 + xv * dy[row + gr.z],
              acc.a3 + xv * dy[row + gr.w]);
}

// Writes groups g … g + 3 (those below c4) from partial[at] on.
fn write4(at: u32, g: u32, c4: u32, acc: Acc4) {
  if (g < c4) { partial[at] = acc.a0; }
  if (g + 1u < c4) { partial[at + 1u] = acc.a1; }
  if (g + 2u < c4) { partial[at + 2u] = acc.a2; }
  if (g + 3u < c4) { partial[at + 3u] = acc.a3; }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let taps = p.kernel_h * p.kernel_w;
  let tap = min(lid.x, taps - 1u);
  let ky = tap / p.kernel_w;
  let kx = tap % p.kernel_w;
  let c4 = p.out_c / 4u;
  let g0 = wid.y * GROUPS;
  // Groups g0 … g0 + 15 in blocks of four (those past GROUPS unused), and their accumulators.
  let gr0 = groups4(g0, c4);
  let gr1 = groups4(g0 + 4u, c4);
  let gr2 = groups4(g0 + 8u, c4);
  let gr3 = groups4(g0 + 12u, c4);
  var acc0 = Acc4();
  var acc1 = Acc4();
  var acc2 = Acc4();
  var acc3 = Acc4();

  let first = wid.z * chunk();
  let last = min(first + chunk(), out_pixels());
  if (first >= last) { return; }
  // The window of pixel `first`, then stepped along pixel by pixel without divisions.
  var win = window(first);
  var ox = first % p.out_w;
  var oy = (first / p.out_w) % p.out_h;
  for (var m = first; m < last; m++) {
    let at = window_tap(win, ky, kx, 1u);
    let xv = select(0.0, x[at.at], at.inside);
    let row = m * c4;
    acc0 = add4(acc0, xv, row, gr0);
    if (GROUPS > 4u) { acc1 = add4(acc1, xv, row, gr1); }
    if (GROUPS > 8u) {
      acc2 = add4(acc2, xv, row, gr2);
      acc3 = add4(acc3, xv, row, gr3);
    }
    // The next pixel: one stride along the row, else the next row's first, else the next image's.
    ox++;
    win.ix += i32(p.stride_w);
    if (ox == p.out_w) { ox = 0u; oy++; win.ix = -i32(p.pad_w); win.iy += i32(p.stride_h); }
    if (oy == p.out_h) { oy = 0u; win.iy = -i32(p.pad_h); win.row += p.in_h; }
  }
  if (lid.x >= taps) { return; }
  let base = (wid.z * taps + tap) * c4 + g0;
  write4(base, g0, c4, acc0);
  if (GROUPS > 4u) { write4(base + 4u, g0 + 4u, c4, acc1); }
  if (GROUPS > 8u) {
    write4(base + 8u, g0 + 8u, c4, acc2);
    write4(base + 12u, g0 + 12u, c4, acc3);
  }
}
