// conv2d forward as an implicit GEMM: y[m, co] = Σ_k A[m, k] · w[k, co] (+ bias[co]) with
// M = N·OH·OW output pixels, N = Cout, K = kh·kw·Cin; the im2col matrix A is never stored, each
// invocation computes the input offsets of its output pixels once per tap and reads x directly.
// Used by: core/ops/conv.ts — conv2d forward, and convTranspose2d's input gradient (which is a conv2d).
// Constants: TM (output pixels per invocation), TN (output channels per invocation, multiple of 4),
// WG (invocations per workgroup, along M). Registers only, no workgroup memory, no barriers.
// Bindings: 0 uniform Params; 1 x [N,H,W,Cin] (read); 2 w [kh,kw,Cin,Cout] (read); 3 bias [Cout]
// (read; ignored unless has_bias); 4 out = y [N,OH,OW,Cout] (write). All row-major float32.
// Layout of a workgroup's tile: TM·WG output pixels × TN channels; pixel i of invocation l is
// m0 + i·WG + l (neighbouring invocations read neighbouring pixels). Every invocation of a workgroup
// shares the channel block, so weight reads are uniform across it. Edge pixels and channels are
// clamped to the last valid one (loads stay in bounds, no masks in the inner loop) and not written.
// Sums run over taps in order, then over Cin in order: deterministic.
// Dispatch: (ceil(M / (TM·WG)), ceil(Cout / TN), 1).
// Includes: conv2d_forward_looped.wgsl, the entry point (tiles, windows, taps, the write), shared with
// conv2d_forward_vec4.wgsl; this file reads x and w one channel at a time.

//!include conv2d_forward_looped.wgsl
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;

fn tap_product(acc: ptr<function, Tile>, win: ptr<function, array<Window, TM>>, ky: u32, kx: u32,
               n0: u32) {
  var col: array<u32, TN>; // the tile's channels, clamped to the last one
  for (var j = 0u; j < TN; j++) { col[j] = min(n0 + j, p.out_c - 1u); }
  var tap: array<Tap, TM>;
  for (var i = 0u; i < TM; i++) { tap[i] = window_tap((*win)[i], ky, kx, p.in_c); }
  let w_tap = (ky * p.kernel_w + kx) * p.in_c;
  for (var ci = 0u; ci < p.in_c; ci++) {
    let w_row = (w_tap + ci) * p.out_c;
    var b: array<vec4<f32>, TN4>;
    for (var j = 0u; j < TN4; j++) {
      b[j] = vec4<f32>(w[w_row + col[4u * j]], w[w_row + col[4u * j + 1u]],
                       w[w_row + col[4u * j + 2u]], w[w_row + col[4u * j + 3u]]);
    }
    for (var i = 0u; i < TM; i++) {
      let a = select(0.0, x[tap[i].at + ci], tap[i].inside); // padding reads as zero
      for (var j = 0u; j < TN4; j++) { (*acc)[i * TN4 + j] = fma(vec4<f32>(a), b[j], (*acc)[i * TN4 + j]); }
    }
  }
}
