// conv2d input gradient as an implicit GEMM over the flipped weight, without zero insertion:
// dx[n, iy, ix, ci] = Σ_{ky,kx,co} dy[n, oy, ox, co] · w[ky, kx, ci, co] where oy·s − pad + ky = iy.
// Only taps with ky ≡ iy + pad (mod stride) contribute, so the input pixels are split into stride_h ×
// stride_w phases (one per workgroup z); within a phase every pixel has the same tap set
// ky = ky0, ky0 + s, … and oy = (iy + pad − ky) / s exactly — no tap is visited that the stride zeroes.
// Used by: core/ops/conv.ts — conv2d's input gradient, and convTranspose2d forward (with bias).
// Constants: TM (input pixels per invocation), TN (input channels per invocation, multiple of 4),
// WG (invocations per workgroup, along M). Registers only, no workgroup memory, no barriers.
// Bindings: 0 uniform Params (conv2d geometry: in_* is dx's shape, out_* is dy's); 1 dy [N,OH,OW,Cout]
// (read); 2 w [kh,kw,Cin,Cout] (read); 3 bias [Cin] (read; ignored unless has_bias); 4 out = dx
// [N,H,W,Cin] (write). All row-major float32.
// Layout of a workgroup's tile: TM·WG pixels of one phase × TN channels; pixel i of invocation l is
// q0 + i·WG + l in the phase's (n, qy, qx) order, iy = py + stride_h·qy. Clamped edges as in
// conv2d_forward.wgsl. Sums run over taps in order, then over Cout in order: deterministic.
// Dispatch: (ceil(N·ceil(H/sh)·ceil(W/sw) / (TM·WG)), ceil(Cin / TN), sh·sw).
// Includes: conv2d_grad_input_looped.wgsl, the entry point (phases, tiles, taps, the write), shared
// with conv2d_grad_input_vec4.wgsl; this file reads dy and w one channel at a time.

//!include conv2d_grad_input_looped.wgsl
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;

fn tap_product(acc: ptr<function, Tile>, q: ptr<function, array<PhasePixel, TM>>, ky: u32, kx: u32,
               n0: u32) {
  var col: array<u32, TN>; // the tile's input channels, clamped to the last one
  for (var j = 0u; j < TN; j++) { col[j] = min(n0 + j, p.in_c - 1u); }
  var tap: array<Tap, TM>;
  for (var i = 0u; i < TM; i++) { tap[i] = phase_tap((*q)[i], ky, kx, p.out_c); }
  let w_tap = (ky * p.kernel_w + kx) * p.in_c;
  for (var co = 0u; co < p.out_c; co++) {
    var b: array<vec4<f32>, TN4>;
    for (var j = 0u; j < TN4; j++) {
      b[j] = vec4<f32>(w[(w_tap + col[4u * j]) * p.out_c + co], w[(w_tap + col[4u * j + 1u]) * p.out_c + co],
                       w[(w_tap + col[4u * j + 2u]) * p.out_c + co], w[(w_tap + col[4u * j + 3u]) * p.out_c + co]);
    }
    for (var i = 0u; i < TM; i++) {
      let a = select(0.0, dy[tap[i].at + co], tap[i].inside); // outside dy reads as zero
      for (var j = 0u; j < TN4; j++) { (*acc)[i * TN4 + j] = fma(vec4<f32>(a), b[j], (*acc)[i * TN4 + j]); }
    }
  }
}
