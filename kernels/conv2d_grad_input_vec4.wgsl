// conv2d input gradient, vectorised: conv2d_grad_input.wgsl with dy and w read as vec4 along Cout
// (the GEMM's K), for Cin and Cout multiples of 4. Same phases, same tap skipping, same tiles.
// Used by: core/ops/conv.ts — conv2d's input gradient and convTranspose2d forward, when both
// channel counts are multiples of 4 ("gpu" variant; CPU adapters use conv2d_grad_input_tile32.wgsl).
// Constants: TM (input pixels per invocation), TN (input channels per invocation, multiple of 4), WG
// (invocations per workgroup, along M). Registers only, no workgroup memory, no barriers.
// Bindings: 0 uniform Params (conv2d geometry: in_* is dx's shape, out_* is dy's); 1 dy
// [N,OH,OW,Cout/4] vec4 (read); 2 w [kh,kw,Cin,Cout/4] vec4 (read); 3 bias [Cin] (read; ignored
// unless has_bias); 4 out = dx [N,H,W,Cin] (write). All row-major float32.
// Layout: as conv2d_grad_input.wgsl. Sums run over taps in order, then over Cout in order, four at a
// time: deterministic.
// Dispatch: (ceil(N·ceil(H/sh)·ceil(W/sw) / (TM·WG)), ceil(Cin / TN), sh·sw).
// Includes: conv2d_grad_input_looped.wgsl, the entry point (phases, tiles, taps, the write), shared
// with conv2d_grad_input.wgsl; this file reads dy and w four channels at a time.

//!include conv2d_grad_input_looped.wgsl
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;

fn tap_product(acc: ptr<function, Tile>, q: ptr<function, array<PhasePixel, TM>>, ky: u32, kx: u32,
               n0: u32) {
  let out_c4 = p.out_c / 4u;
  let w_tap = (ky * p.kernel_w + kx) * p.in_c;
  var row: array<u32, TN>; // where the tile's input channels (clamped to the last one) start in w
  for (var j = 0u; j < TN; j++) { row[j] = (w_tap + min(n0 + j, p.in_c - 1u)) * out_c4; }
  var tap: array<Tap, TM>;
  for (var i = 0u; i < TM; i++) { tap[i] = phase_tap((*q)[i], ky, kx, out_c4); }
  for (var co4 = 0u; co4 < out_c4; co4++) {
    var b: array<vec4<f32>, TN>;
    for (var j = 0u; j < TN; j++) { b[j] = w[row[j] + co4]; }
    for (var i = 0u; i < TM; i++) {
      let a = select(vec4<f32>(0.0), dy[tap[i].at + co4], tap[i].inside); // outside dy reads as zero
      for (var j = 0u; j < TN4; j++) {
        (*acc)[i * TN4 + j] += vec4<f32>(dot(a, b[4u * j]), dot(a, b[4u * j + 1u]), dot(a, b[4u * j + 2u]),
                                         dot(a, b[4u * j + 3u]));
      }
    }
  }
}
