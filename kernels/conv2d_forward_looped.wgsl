// Shared WGSL: the entry point of the looped conv2d forward kernels, conv2d_forward.wgsl and
// conv2d_forward_vec4.wgsl (see their headers), which include it (see core/kernel.ts) and supply
// bindings 1 x and 2 w and the product of one tap:
//   fn tap_product(acc: ptr<function, Tile>, win: ptr<function, array<Window, TM>>, ky: u32, kx: u32,
//                  n0: u32)
// adds, for each pixel i of the tile (window win[i]) and each channel n0 + j, Σ_ci x[tap (ky, kx) of
// the window, ci] · w[ky, kx, ci, n0 + j] to acc, over ci in order. Here: the tile's pixels and
// windows, the taps in (ky, kx) order, and the write (conv2d_tile.wgsl).

//!include conv2d_tile.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let pixels = out_pixels();
  let m0 = wid.x * (TM * WG) + lid.x;
  if (m0 >= pixels) { return; }

  // Pixel i of the tile, m0 + i·WG, clamped to the last one (loads stay in bounds), and its window.
  var m: array<u32, TM>;
  var win: array<Window, TM>;
  for (var i = 0u; i < TM; i++) {
    m[i] = min(m0 + i * WG, pixels - 1u);
    win[i] = window(m[i]);
  }
  var acc: Tile;
  for (var ky = 0u; ky < p.kernel_h; ky++) {
    for (var kx = 0u; kx < p.kernel_w; kx++) { tap_product(&acc, &win, ky, kx, wid.y * TN); }
  }
  write_tile(&acc, &m, m0, pixels, wid.y * TN, p.out_c);
}
