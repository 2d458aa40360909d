// Shared WGSL: the entry point of the looped conv2d input-gradient kernels, conv2d_grad_input.wgsl
// and conv2d_grad_input_vec4.wgsl (see their headers), which include it (see core/kernel.ts) and
// supply bindings 1 dy and 2 w and the product of one tap:
//   fn tap_product(acc: ptr<function, Tile>, q: ptr<function, array<PhasePixel, TM>>, ky: u32, kx: u32,
//                  n0: u32)
// adds, for each pixel i of the tile (phase pixel q[i]) and each input channel n0 + j,
// Σ_co dy[tap (ky, kx) of the pixel, co] · w[ky, kx, n0 + j, co] to acc, over co in order. Here: the
// stride phase of workgroup z and the tile's pixels in it (conv2d_phase.wgsl), the phase's taps in
// (ky, kx) order, and the write (conv2d_tile.wgsl).

//!include conv2d_phase.wgsl
//!include conv2d_tile.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let ph = phase(wid.z);
  let q0 = wid.x * (TM * WG) + lid.x;
  if (q0 >= ph.pixels) { return; }

  // Pixel i of the tile, q0 + i·WG in the phase, clamped to the last one (loads stay in bounds), and
  // its index in dx.
  var q: array<PhasePixel, TM>;
  var at: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    q[i] = phase_pixel(ph, min(q0 + i * WG, ph.pixels - 1u));
    at[i] = q[i].at;
  }
  var acc: Tile;
  for (var ky = ph.ky0; ky < p.kernel_h; ky += p.stride_h) {
    for (var kx = ph.kx0; kx < p.kernel_w; kx += p.stride_w) { tap_product(&acc, &q, ky, kx, wid.y * TN); }
  }
  write_tile(&acc, &at, q0, ph.pixels, wid.y * TN, p.in_c);
}
