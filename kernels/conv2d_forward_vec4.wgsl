// conv2d forward, vectorised: conv2d_forward.wgsl with x read as vec4 along Cin (the GEMM's K) and
// w as vec4 along Cout, for Cin and Cout multiples of 4. Same implicit GEMM, same tiles.
// Used by: core/ops/conv.ts — conv2d forward and convTranspose2d's input gradient, when both channel
// counts are multiples of 4 ("gpu" variant; CPU adapters use conv2d_forward_tile32.wgsl).
// Constants: TM (output pixels per invocation), TN (output channels per invocation, multiple of 4),
// WG (invocations per workgroup, along M). Registers only, no workgroup memory, no barriers.
// Bindings: 0 uniform Params; 1 x [N,H,W,Cin/4] vec4 (read); 2 w [kh,kw,Cin,Cout/4] vec4 (read);
// 3 bias [Cout] (read; ignored unless has_bias); 4 out = y [N,OH,OW,Cout] (write). Row-major float32.
// Layout: as conv2d_forward.wgsl; the channel block is clamped to the last whole vec4 (outC is a
// multiple of 4). Sums run over taps in order, then over Cin in order: deterministic.
// Dispatch: (ceil(M / (TM·WG)), ceil(Cout / TN), 1).
// Includes: conv2d_forward_looped.wgsl, the entry point (tiles, windows, taps, the write), shared with
// conv2d_forward.wgsl; this file reads x and w four channels at a time.

//!include conv2d_forward_looped.wgsl
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;

fn tap_product(acc: ptr<function, Tile>, win: ptr<function, array<Window, TM>>, ky: u32, kx: u32,
               n0: u32) {
  let cin4 = p.in_c / 4u;
  let cout4 = p.out_c / 4u;
  var col4: array<u32, TN4>; // the tile's vec4 column blocks, clamped to the last one
  for (var j = 0u; j < TN4; j++) { col4[j] = min(n0 / 4u + j, cout4 - 1u); }
  var tap: array<Tap, TM>;
  for (var i = 0u; i < TM; i++) { tap[i] = window_tap((*win)[i], ky, kx, cin4); }
  let w_tap = (ky * p.kernel_w + kx) * p.in_c;
  for (var c4 = 0u; c4 < cin4; c4++) {
    var b: array<vec4<f32>, TN>;
    for (var k = 0u; k < 4u; k++) {
      let w_row = (w_tap + 4u * c4 + k) * cout4;
      for (var j = 0u; j < TN4; j++) { b[k * TN4 + j] = w[w_row + col4[j]]; }
    }
    for (var i = 0u; i < TM; i++) {
      let a = select(vec4<f32>(0.0), x[tap[i].at + c4], tap[i].inside);
      for (var j = 0u; j < TN4; j++) {
        var s = (*acc)[i * TN4 + j];
        s = fma(vec4<f32>(a.x), b[j], s);
        s = fma(vec4<f32>(a.y), b[TN4 + j], s);
        s = fma(vec4<f32>(a.z), b[2u * TN4 + j], s);
        s = fma(vec4<f32>(a.w), b[3u * TN4 + j], s);
        (*acc)[i * TN4 + j] = s;
      }
    }
  }
}
